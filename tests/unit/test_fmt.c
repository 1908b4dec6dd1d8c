/* SPDX-License-Identifier: Apache-2.0 */
/* Output formats: tokens, widths, arguments, <NA>, transformers, errors, and a rule's output_fields. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "falco/engine/engine.h"
#include "falco/engine/flt.h"
#include "rt_src.h"

struct fx {
	struct rules_loader *l;
	struct ruleset *rs;
	struct rs_eval *ev;
};

static const char *const extra_fields[] = {"fd.name", "who=%proc.name!", NULL};
static const struct rules_append_output append_output[] = {
	{.rule = "fields", .extra_fields = extra_fields},
};

static int setup(void **state)
{
	static const char rules[] =
		"- rule: fields\n"
		"  desc: d\n"
		"  condition: evt.type = open\n"
		"  output: a=%proc.name b=%tolower(proc.name) c=%proc.pid d=%proc.name e=%proc.aname[2] f=%8fd.name|\n"
		"  priority: ERROR\n";
	struct rules_options o = {.sources = rt_sources,
				  .nsources = 2,
				  .min_priority = PRIO_DEBUG,
				  .append_output = append_output,
				  .nappend_output = 1};
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	f->l = rules_loader_new(&o);
	assert_int_equal(rules_loader_add_content(f->l, "r.yaml", rules, strlen(rules)), 0);
	assert_int_equal(rules_loader_finish(f->l, &f->rs), 0);
	f->ev = rs_eval_new(f->rs);
	assert_non_null(f->ev);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	rs_eval_free(f->ev);
	ruleset_free(f->rs);
	rules_loader_free(f->l);
	free(f);
	return 0;
}

/* Renders format on e (syscall source, open); returns a static copy, or the error text prefixed "ERR ". */
static const char *render(struct fx *f, const char *format, const struct rt_evt *e)
{
	static char out[1024];
	char err[512] = "";
	struct fmt *fm = NULL;
	struct evt evt = {.source = 0, .type = 0, .data = e};
	struct strbuf sb;

	int r = fmt_compile(f->rs, 0, format, &fm, err, sizeof(err));
	if (r < 0) {
		assert_int_equal(r, -EINVAL);
		snprintf(out, sizeof(out), "ERR %s", err);
		return out;
	}
	strbuf_init(&sb, 0);
	rs_eval_begin(f->ev, &evt, NULL);
	assert_int_equal(fmt_render(fm, f->ev, &sb), 0);
	snprintf(out, sizeof(out), "%s", strbuf_str(&sb));
	strbuf_done(&sb);
	fmt_free(fm);
	return out;
}

static void test_fields_and_widths(void **state)
{
	struct fx *f = *state;
	struct rt_evt cat = {
		.proc_name = "cat", .fd_name = "/etc/passwd", .has_pid = true, .pid = 42};
	struct rt_evt none = {0};

	assert_string_equal(render(f, "plain text", &cat), "plain text");
	assert_string_equal(render(f, "", &cat), "");
	assert_string_equal(render(f, "%proc.name", &cat), "cat");
	assert_string_equal(render(f, "p=%proc.name pid=%proc.pid", &cat), "p=cat pid=42");
	assert_string_equal(render(f, "p=%proc.name pid=%proc.pid", &none), "p=<NA> pid=<NA>");
	/* a width pads on the right or truncates */
	assert_string_equal(render(f, "[%5proc.name]", &cat), "[cat  ]");
	assert_string_equal(render(f, "[%2proc.name]", &cat), "[ca]");
	assert_string_equal(render(f, "[%6proc.name]", &none), "[<NA>  ]");
	assert_string_equal(render(f, "[%0proc.name]", &cat), "[cat]");
	/* the longest prefix that names a field: the rest is literal text */
	assert_string_equal(render(f, "%proc.name/%fd.name:", &cat), "cat//etc/passwd:");
	assert_string_equal(render(f, "%proc.name.suffix", &cat), "cat.suffix");
	assert_string_equal(render(f, "(%proc.name)", &cat), "(cat)");
	assert_string_equal(render(f, "%proc.name%proc.pid", &cat), "cat42");
}

static void test_args_and_transformers(void **state)
{
	struct fx *f = *state;
	struct rt_evt e = {.proc_name = "BaSh", .fd_name = "/usr/bin/x"};
	const char *args[] = {"-c", "ls"};
	struct rt_evt l = {.proc_name = "sh", .args = args, .nargs = 2};

	assert_string_equal(render(f, "%proc.aname[2]", &e), "BaSh");
	assert_string_equal(render(f, "%evt.arg.flags %evt.arg[3]", &e), "flags 3");
	assert_string_equal(render(f, "%tolower(proc.name)|%toupper(proc.name)", &e), "bash|BASH");
	assert_string_equal(render(f, "%basename(fd.name)", &e), "x");
	assert_string_equal(render(f, "[%6tolower(proc.name)]", &e), "[bash  ]");
	assert_string_equal(render(f, "%tolower(proc.name)", &(struct rt_evt){0}), "<NA>");
	assert_string_equal(render(f, "%proc.args", &l), "(-c,ls)");
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	struct rt_evt e = {0};
	char err[256];
	struct fmt *fm = NULL;

	assert_string_equal(
		render(f, "100%", &e),
		"ERR invalid formatting syntax: formatting cannot end with a % (at offset 3)");
	assert_string_equal(
		render(f, "x %12", &e),
		"ERR invalid formatting syntax: formatting cannot end with a number (at offset 2)");
	assert_non_null(
		strstr(render(f, "a %proc.nme b", &e), "ERR invalid formatting token proc.nme"));
	assert_non_null(strstr(render(f, "a %proc.nme b", &e), "nonexistent field proc.nme"));
	assert_non_null(strstr(render(f, "a % b", &e), "ERR invalid formatting token"));
	assert_non_null(
		strstr(render(f, "%99999999proc.name", &e), "ERR invalid formatting width"));
	assert_int_equal(fmt_compile(f->rs, 5, "%proc.name", &fm, err, sizeof(err)), -EINVAL);
	assert_null(fm);
	assert_null(fmt_free(NULL));
}

struct field_list {
	struct strbuf sb;
};

static int collect_field(void *ud, const char *name, const struct value *v)
{
	struct field_list *fl = ud;
	strbuf_appendf(&fl->sb, "%s=", name);
	if (v)
		value_to_text(v, &fl->sb);
	else
		strbuf_appends(&fl->sb, "null");
	strbuf_appendc(&fl->sb, ';');
	return 0;
}

static void on_match(void *ud, const struct rule *r, struct rs_eval *ev)
{
	struct field_list *fl = ud;
	struct strbuf out;

	strbuf_init(&out, 0);
	assert_int_equal(rule_format_output(r, ev, &out), 0);
	strbuf_appendf(&fl->sb, "%s\n", strbuf_str(&out));
	strbuf_done(&out);
	assert_int_equal(rule_output_fields(r, ev, collect_field, fl), 0);
}

static void test_rule_output_and_fields(void **state)
{
	struct fx *f = *state;
	struct rt_evt e = {.proc_name = "Cat", .fd_name = "/etc/shadow", .has_pid = true, .pid = 7};
	struct evt evt = {.source = 0, .type = 1, .data = &e};
	struct field_list fl;

	strbuf_init(&fl.sb, 0);
	assert_int_equal(ruleset_process(f->rs, f->ev, &evt, NULL, on_match, &fl), 1);
	/* output order, transformers skipped, duplicates once, then append_output's extra fields */
	assert_string_equal(
		strbuf_str(&fl.sb),
		"a=Cat b=cat c=7 d=Cat e=Cat f=/etc/sha|\n"
		"proc.name=Cat;proc.pid=7;proc.aname[2]=Cat;fd.name=/etc/shadow;fd.name=/etc/shadow;"
		"who=Cat!;");
	strbuf_reset(&fl.sb);

	struct rt_evt missing = {0};
	evt.data = &missing;
	assert_int_equal(ruleset_process(f->rs, f->ev, &evt, NULL, on_match, &fl), 1);
	assert_string_equal(
		strbuf_str(&fl.sb),
		"a=<NA> b=<NA> c=<NA> d=<NA> e=<NA> f=<NA>    |\n"
		"proc.name=null;proc.pid=null;proc.aname[2]=null;fd.name=null;fd.name=null;who=<NA>!;");
	strbuf_done(&fl.sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fields_and_widths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args_and_transformers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rule_output_and_fields, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
