/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event-type sets (rules reference §4) over the fake source's table: open 0,1; openat 2,3; read 4,5;
 * execve 6,7; close 8; far 69 (70 types, so sets span two 64-bit words). "never" is a valid name that is
 * never produced. Expected sets are written as code lists, "all", or "all-<codes>" for complements.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/strbuf.h"
#include "falco/engine/flt.h"
#include "testsrc.h"

static const struct {
	const char *in;
	const char *want;
} cases[] = {
	{"evt.type = open", "0,1"},
	{"evt.type == open", "0,1"},
	{"evt.type = 'open'", "0,1"},
	{"evt.type != open", "all-0,1"},
	{"evt.type in (open, read)", "0,1,4,5"},
	{"evt.type in (open, far)", "0,1,69"},
	{"evt.type in(close)", "8"},
	{"evt.type = never", ""},
	{"evt.type != never", "all"},
	{"evt.type in ()", ""},
	{"not evt.type in ()", "all"},
	{"evt.type = nosuch", "E 1:12: unknown event type nosuch"},
	{"evt.type in (open, nosuch)", "E 1:20: unknown event type nosuch"},
	{"test.str = x", "all"},
	{"not test.str = x", "all"},
	{"evt.type = open and test.str = x", "0,1"},
	{"evt.type = open or test.str = x", "all"},
	{"evt.type = open or evt.type = read", "0,1,4,5"},
	{"evt.type = open and evt.type = read", ""},
	{"not evt.type = open", "all-0,1"},
	{"not not evt.type = open", "0,1"},
	{"not (not evt.type = open)", "0,1"},
	/* De Morgan: not (open and x) = (not open) or (not x), and "not x" is still every type */
	{"not (evt.type = open and test.str = x)", "all"},
	{"not (evt.type = open or evt.type = read)", "all-0,1,4,5"},
	{"not (evt.type = open or test.str = x)", "all-0,1"},
	{"not (evt.type != open and evt.type != read)", "0,1,4,5"},
	{"evt.type exists", "all"},
	{"not evt.type exists", ""},
	{"evt.type in (open, read) and not evt.type = read", "0,1"},
	{"evt.type startswith op", "all"},
	{"not evt.type startswith op", "all"},
	{"evt.type intersects (open)", "all"},
	{"evt.type = anyof (open, read)", "0,1,4,5"},
	{"evt.type = oneof (open)", "0,1"},
	{"evt.type != allof (open, read)", "all-0,1,4,5"},
	{"not evt.type = anyof (open, read)", "all-0,1,4,5"},
	{"evt.type = allof (open, read)", "all"},
	{"evt.type != anyof (open, read)", "all"},
	{"evt.type contains anyof (open)", "all"},
	{"tolower(evt.type) contains open", "all"},
	{"evt.type in val(test.list)",
	 "E 1:13: right-hand field comparisons on `evt.type` checks are not supported by event code search"},
	{"len(evt.type) exists",
	 "E 1:1: event code search does not support `evt.type` checks with transformers"},
	{"evt.type = open and (test.u64 = 1 or evt.type = read)", "0,1"},
	{"(evt.type = open or evt.type = openat) and not (test.str = a and evt.type = open)",
	 "0,1,2,3"},
	{"evt.type in (open) or evt.type != open", "all"},
	{"macro_ref and evt.type = execve", "6,7"},
	{"evt.type[1] = open", "all"}, /* evt.type with an argument is not the event-type field */
	{"evt.type = val(test.str)",
	 "E 1:12: right-hand field comparisons on `evt.type` checks are not supported by event code search"},
	{"tolower(evt.type) = open",
	 "E 1:1: event code search does not support `evt.type` checks with transformers"},
	{"concat(test.str, evt.type) = open",
	 "E 1:1: event code search does not support `evt.type` checks with transformers"},
};

static void render(const uint64_t *bits, unsigned n, struct strbuf *sb)
{
	unsigned count = 0;
	for (unsigned i = 0; i < n; i++)
		count += (bits[i / 64] >> (i % 64)) & 1;
	bool compl = count > n / 2;
	if (compl )
		strbuf_appends(sb, count == n ? "all" : "all-");
	bool first = true;
	for (unsigned i = 0; i < n; i++) {
		bool set = (bits[i / 64] >> (i % 64)) & 1;
		if (set == compl )
			continue;
		strbuf_appendf(sb, "%s%u", first ? "" : ",", i);
		first = false;
	}
}

static void test_evttypes_table(void **state)
{
	struct strbuf sb;
	int failures = 0;

	strbuf_init(&sb, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct arena a;
		struct flt_node *ast;
		struct flt_error err = {0};
		/* poison the bits beyond nevttypes: they must come back cleared */
		uint64_t bits[3] = {0x5555, 0x5555, 0xdead};

		arena_init(&a, 0, 0);
		strbuf_reset(&sb);
		assert_int_equal(flt_parse(cases[i].in, strlen(cases[i].in), &a, &ast, &err), 0);
		int r = flt_evttypes(ast, &testsrc_src, bits, &err);
		if (r < 0) {
			strbuf_appendf(&sb, "E %u:%u: %s", err.pos.line, err.pos.col, err.msg);
		} else {
			render(bits, TESTSRC_NEVTTYPES, &sb);
			if (bits[1] >> (TESTSRC_NEVTTYPES - 64)) {
				fprintf(stderr, "case %zu: bits beyond nevttypes are set\n", i);
				failures++;
			}
			if (bits[2] != 0xdead) {
				fprintf(stderr, "case %zu: wrote past the bit array\n", i);
				failures++;
			}
		}
		if (strcmp(strbuf_str(&sb), cases[i].want) != 0) {
			fprintf(stderr, "case %zu: %s\n  want: %s\n  got:  %s\n", i, cases[i].in,
				cases[i].want, strbuf_str(&sb));
			failures++;
		}
		arena_done(&a);
	}
	strbuf_done(&sb);
	assert_int_equal(failures, 0);
}

/* A source without an event-type table has one event type, which every condition covers. */
static void test_evttypes_single_type_source(void **state)
{
	struct arena a;
	struct flt_node *ast;
	struct flt_error err;
	uint64_t bits = 0;
	const char *s = "evt.type = open and test.str = x";

	arena_init(&a, 0, 0);
	assert_int_equal(flt_parse(s, strlen(s), &a, &ast, &err), 0);
	assert_int_equal(flt_evttypes(ast, &testsrc_single_src, &bits, &err), 0);
	assert_int_equal(bits, 1);
	arena_done(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evttypes_table),
		cmocka_unit_test(test_evttypes_single_type_source),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
