/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for falco/output/out_fmt.c: time prefixes, text lines, and the JSON alert schema (golden lines). */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "falco/engine/engine.h"
#include "falco/output/out.h"

/* 2023-11-14T22:13:20Z plus some nanoseconds */
#define TS 1700000000123456789ull

static int setup(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

static struct out_field str_field(const char *name, const char *s)
{
	return (struct out_field){
		name, {.type = FT_STRING, .len = (uint32_t)strlen(s), .str = s}, false};
}

static void test_time(void **state)
{
	char buf[48];
	assert_int_equal(out_fmt_time(TS, false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "22:13:20.123456789");
	assert_int_equal(out_fmt_time(TS, true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2023-11-14T22:13:20.123456789+0000");
	assert_int_equal(out_fmt_time_utc(TS, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "2023-11-14T22:13:20.123456789Z");
	assert_int_equal(out_fmt_time_utc(5, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "1970-01-01T00:00:00.000000005Z");
	assert_int_equal(out_fmt_time(TS, true, buf, 10), -ENOSPC);
}

static void test_text_line(void **state)
{
	struct strbuf sb;
	strbuf_init(&sb, 0);
	assert_int_equal(out_fmt_text("22:13:20.123456789", PRIO_WARNING,
				      "K8s op (user=admin verb=create)", &sb),
			 0);
	assert_string_equal(strbuf_str(&sb),
			    "22:13:20.123456789: Warning K8s op (user=admin verb=create)");

	/* control characters escaped, bad UTF-8 replaced, quotes and backslashes kept, good UTF-8 kept */
	strbuf_reset(&sb);
	out_fmt_text("t", PRIO_INFORMATIONAL, "a\nb\tc\x1b[0m \"q\" \\ \xff caf\xc3\xa9", &sb);
	assert_string_equal(
		strbuf_str(&sb),
		"t: Informational a\\nb\\tc\\u001b[0m \"q\" \\ \xEF\xBF\xBD caf\xc3\xa9");

	/* the unsanitised form (JSON "output") */
	strbuf_reset(&sb);
	out_fmt_output("t", PRIO_EMERGENCY, "x\ny", &sb);
	assert_string_equal(strbuf_str(&sb), "t: Emergency x\ny");
	strbuf_done(&sb);

	assert_string_equal(out_priority_name(PRIO_DEBUG), "Debug");
	assert_string_equal(out_priority_name(PRIO_CRITICAL), "Critical");
	assert_string_equal(out_priority_name(42), "Unknown");
}

static void test_values(void **state)
{
	struct strbuf sb;
	strbuf_init(&sb, 0);
	struct value items[2] = {
		{.type = FT_STRING, .len = 1, .str = "a"},
		{.type = FT_STRING, .len = 2, .str = "b\""},
	};
	struct {
		struct value v;
		const char *want;
	} cases[] = {
		{{.type = FT_U64, .u64 = 18446744073709551615ull}, "18446744073709551615"},
		{{.type = FT_S64, .s64 = -42}, "-42"},
		{{.type = FT_ABSTIME, .u64 = TS}, "1700000000123456789"},
		{{.type = FT_RELTIME, .u64 = 5}, "5"},
		{{.type = FT_BOOL, .b = true}, "true"},
		{{.type = FT_BOOL, .b = false}, "false"},
		{{.type = FT_DOUBLE, .d = 0.1}, "0.1"},
		{{.type = FT_DOUBLE, .d = 3.0}, "3.0"},
		{{.type = FT_DOUBLE, .d = 1e300}, "1e+300"},
		{{.type = FT_PATH, .len = 4, .str = "/a\\b"}, "\"/a\\\\b\""},
		{{.type = FT_BUFFER, .len = 3, .str = "a\0b"}, "\"a\\u0000b\""},
		{{.type = FT_IPADDR, .ip = {4, {10, 0, 0, 1}}}, "\"10.0.0.1\""},
		{{.type = FT_IPNET, .ip = {6, {0x20, 0x01, 0x0d, 0xb8, [15] = 1}}},
		 "\"2001:db8::1\""},
		{{.type = FT_STRING, .is_list = true, .len = 2, .items = items},
		 "[\"a\",\"b\\\"\"]"},
		{{.type = FT_STRING, .is_list = true, .len = 0, .items = NULL}, "[]"},
		{{.type = FT_NONE}, "null"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		strbuf_reset(&sb);
		assert_int_equal(out_fmt_value_json(&cases[i].v, &sb), 0);
		assert_string_equal(strbuf_str(&sb), cases[i].want);
	}
	strbuf_done(&sb);
}

static void test_json_alert(void **state)
{
	struct out_fmt_opts o = {
		.json = true,
		.include_output = true,
		.include_tags = true,
		.include_output_fields = true,
		.hostname = "node-1",
	};
	const char *tags[] = {"k8s", "T1098", "audit", "k8s"};
	struct out_field fields[] = {
		str_field("ka.verb", "create"),
		str_field("ka.user.name", "system:admin \"x\""),
		{"ka.target.name", {0}, true},
		{"evt.time", {.type = FT_ABSTIME, .u64 = TS}, false},
		{"ka.resp.code", {.type = FT_S64, .s64 = 403}, false},
		str_field("ka.verb", "create"),
	};
	const char *line = "22:13:20.123456789: Warning Op by system:admin \"x\"\n(verb=create)";
	struct strbuf sb;
	strbuf_init(&sb, 0);
	assert_int_equal(out_fmt_json(&o, TS, PRIO_WARNING, "K8s \"op\"", "k8s_audit", tags,
				      ARRAY_SIZE(tags), line, "Op by ...", fields,
				      ARRAY_SIZE(fields), &sb),
			 0);
	assert_string_equal(
		strbuf_str(&sb),
		"{\"hostname\":\"node-1\","
		"\"output\":\"22:13:20.123456789: Warning Op by system:admin \\\"x\\\"\\n(verb=create)\","
		"\"output_fields\":{\"evt.time\":1700000000123456789,\"ka.resp.code\":403,\"ka.target.name\":null,"
		"\"ka.user.name\":\"system:admin \\\"x\\\"\",\"ka.verb\":\"create\"},"
		"\"priority\":\"Warning\",\"rule\":\"K8s \\\"op\\\"\",\"source\":\"k8s_audit\","
		"\"tags\":[\"T1098\",\"audit\",\"k8s\"],"
		"\"time\":\"2023-11-14T22:13:20.123456789Z\"}");

	/* optional properties switched the other way */
	o.include_output = false;
	o.include_tags = false;
	o.include_output_fields = false;
	o.include_message = true;
	strbuf_reset(&sb);
	assert_int_equal(out_fmt_json(&o, TS, PRIO_INFORMATIONAL, "r", "syscall", NULL, 0, line,
				      "just\tthe rule", NULL, 0, &sb),
			 0);
	assert_string_equal(strbuf_str(&sb),
			    "{\"hostname\":\"node-1\",\"message\":\"just\\tthe rule\","
			    "\"priority\":\"Informational\",\"rule\":\"r\",\"source\":\"syscall\","
			    "\"time\":\"2023-11-14T22:13:20.123456789Z\"}");

	/* empty fields and tags still give an object and an array */
	o.include_message = false;
	o.include_tags = true;
	o.include_output_fields = true;
	strbuf_reset(&sb);
	out_fmt_json(&o, 0, PRIO_DEBUG, "r", "syscall", NULL, 0, "", "", NULL, 0, &sb);
	assert_string_equal(strbuf_str(&sb),
			    "{\"hostname\":\"node-1\",\"output_fields\":{},\"priority\":\"Debug\","
			    "\"rule\":\"r\",\"source\":\"syscall\",\"tags\":[],"
			    "\"time\":\"1970-01-01T00:00:00.000000000Z\"}");
	strbuf_done(&sb);
}

static void test_alert_record(void **state)
{
	struct out_alert *a =
		out_alert_new(PRIO_ERROR, TS, true, "rule", "k8s_audit", "{\"x\":1}", 7);
	assert_non_null(a);
	assert_string_equal(a->rule, "rule");
	assert_string_equal(a->source, "k8s_audit");
	assert_string_equal(a->line, "{\"x\":1}");
	assert_int_equal(a->len, 7);
	assert_true(a->json);
	out_alert_ref(a);
	assert_null(out_alert_unref(a));
	assert_int_equal(atomic_load(&a->refs), 1);
	out_alert_unref(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),	     cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_values),	     cmocka_unit_test(test_json_alert),
		cmocka_unit_test(test_alert_record),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
