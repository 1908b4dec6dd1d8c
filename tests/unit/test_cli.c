/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for falco/cli.c: every option, repeatable lists, and the errors for bad command lines. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/macro.h"
#include "falco/cli.h"

#define PARSE(o, err, ...)                                                                      \
	({                                                                                      \
		/* getopt permutes the pointer array, never the strings: the cast is safe */    \
		const char *_argv[] = {"falco", __VA_ARGS__, NULL};                             \
		cli_parse((int)ARRAY_SIZE(_argv) - 1, (char **)_argv, (o), (err), sizeof(err)); \
	})

static void test_defaults(void **state)
{
	struct cli_opts o;
	char err[256];
	const char *argv[] = {"falco", NULL};
	assert_int_equal(cli_parse(1, (char **)argv, &o, err, sizeof(err)), 0);
	assert_null(o.config_path);
	assert_int_equal(o.duration_s, -1);
	assert_int_equal(o.overrides.n, 0);
	assert_false(o.help || o.version || o.dry_run || o.unbuffered);
	cli_opts_done(&o);
}

static void test_all_options(void **state)
{
	struct cli_opts o;
	char err[256];
	int r = PARSE(&o, err, "-c", "/etc/f.yaml", "-o", "json_output=true", "--option", "a.b=c",
		      "-r", "/r1.yaml", "-r", "/r2", "-V", "/v.yaml", "--validate=/v2.yaml", "-L",
		      "-l", "My rule", "--list=k8s_audit", "-N", "--list-events", "-e",
		      "/audit.jsonl", "-M", "5", "-t", "net", "-t", "fs", "--enable-source",
		      "k8s_audit", "--enable-source=syscall", "-U", "-P", "/run/falco.pid", "-v",
		      "--version", "--dry-run", "-w", "/cap.scap", "--page-size", "4096", "-h");
	assert_int_equal(r, 0);
	assert_string_equal(o.config_path, "/etc/f.yaml");
	assert_int_equal(o.overrides.n, 2);
	assert_string_equal(o.overrides.v[1], "a.b=c");
	assert_int_equal(o.rules.n, 2);
	assert_string_equal(o.rules.v[1], "/r2");
	assert_int_equal(o.validate.n, 2);
	assert_string_equal(o.validate.v[1], "/v2.yaml");
	assert_true(o.describe_all);
	assert_string_equal(o.describe_rule, "My rule");
	assert_true(o.list_fields);
	assert_string_equal(o.list_source, "k8s_audit");
	assert_true(o.names_only && o.list_events);
	assert_string_equal(o.replay_file, "/audit.jsonl");
	assert_int_equal(o.duration_s, 5);
	assert_int_equal(o.enable_tags.n, 2);
	assert_string_equal(o.enable_tags.v[1], "fs");
	assert_int_equal(o.disable_rules.n, 0);
	assert_int_equal(o.enable_sources.n, 2);
	assert_string_equal(o.enable_sources.v[1], "syscall");
	assert_true(o.unbuffered && o.verbose && o.version && o.dry_run && o.help);
	assert_string_equal(o.pidfile, "/run/falco.pid");
	assert_string_equal(o.capture_out, "/cap.scap");
	assert_int_equal(o.page_size, 4096);
	cli_opts_done(&o);

	r = PARSE(&o, err, "--list", "-T", "a", "-T", "b", "--disable-source", "syscall", "-D",
		  "Write*");
	assert_int_equal(r, 0);
	assert_true(o.list_fields);
	assert_null(o.list_source);
	assert_int_equal(o.disable_tags.n, 2);
	assert_int_equal(o.disable_rules.n, 1);
	assert_string_equal(o.disable_rules.v[0], "Write*");
	assert_int_equal(o.disable_sources.n, 1);
	cli_opts_done(&o);
}

static void test_errors(void **state)
{
	struct cli_opts o;
	char err[256];

	assert_int_equal(PARSE(&o, err, "--bogus"), -EINVAL);
	assert_string_equal(err, "unknown option '--bogus'");
	assert_int_equal(PARSE(&o, err, "-x"), -EINVAL);
	assert_string_equal(err, "unknown option '-x'");
	assert_int_equal(PARSE(&o, err, "-c"), -EINVAL);
	assert_string_equal(err, "option '-c' needs an argument");
	assert_int_equal(PARSE(&o, err, "--pidfile"), -EINVAL);
	assert_string_equal(err, "option '--pidfile' needs an argument");
	assert_int_equal(PARSE(&o, err, "-M", "soon"), -EINVAL);
	assert_string_equal(err, "-M needs a non-negative number of seconds, got 'soon'");
	assert_int_equal(PARSE(&o, err, "-M", "-3"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "-o", "novalue"), -EINVAL);
	assert_string_equal(err, "-o needs KEY=VALUE, got 'novalue'");
	assert_int_equal(PARSE(&o, err, "stray"), -EINVAL);
	assert_string_equal(err, "unexpected argument 'stray'");
	assert_int_equal(PARSE(&o, err, "--enable-source", "a", "--disable-source", "b"), -EINVAL);
	assert_string_equal(err, "--enable-source and --disable-source cannot be used together");
	assert_int_equal(PARSE(&o, err, "-t", "a", "-T", "b"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--page-size", "0"), -EINVAL);
	assert_int_equal(PARSE(&o, err, "--version=3"), -EINVAL);
}

static void test_help_text(void **state)
{
	const char *h = cli_help_text();
	assert_non_null(strstr(h, "Usage: falco"));
	assert_non_null(strstr(h, "--disable-source"));
	assert_non_null(strstr(h, "-e FILE"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_help_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
