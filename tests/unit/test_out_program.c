/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for falco/output/out_program.c: word splitting and shell detection (tables), then the sink itself with
 * real processes: lines reach the program's stdin, a program that exits is restarted, per-alert processes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "falco/output/out.h"

static void test_split(void **state)
{
	static const struct {
		const char *in;
		const char *want; /* words joined by '|', NULL = -EINVAL */
	} cases[] = {
		{"prog", "prog"},
		{"  /usr/bin/logger  -t falco ", "/usr/bin/logger|-t|falco"},
		{"prog 'a b' \"c d\"", "prog|a b|c d"},
		{"prog a\\ b", "prog|a b"},
		{"prog \"q\\\"uote\" 'it''s'", "prog|q\"uote|its"},
		{"prog \"back\\\\slash\" \"keep\\n\"", "prog|back\\slash|keep\\n"},
		{"prog ''", "prog|"},
		{"prog 'unterminated", NULL},
		{"prog \"unterminated", NULL},
		{"prog trailing\\", NULL},
		{"   ", NULL},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char **argv = NULL, joined[256] = "";
		int r = out_program_split(cases[i].in, &argv);
		if (!cases[i].want) {
			assert_int_equal(r, -EINVAL);
			continue;
		}
		assert_true(r > 0);
		for (int k = 0, at = 0; k < r; k++)
			at += snprintf(joined + at, sizeof(joined) - (size_t)at, "%s%s",
				       k ? "|" : "", argv[k]);
		assert_null(argv[r]);
		assert_string_equal(joined, cases[i].want);
		free(argv);
	}
}

static void test_needs_shell(void **state)
{
	static const struct {
		const char *in;
		bool shell;
	} cases[] = {
		{"prog -a b", false},
		{"jq '{text: .output}' | curl -d @- https://x", true},
		{"prog > file", true},
		{"prog 'a > b' \"c | d\"", false}, /* quoted: plain arguments */
		{"prog \"$HOME\"", true},	   /* expansion inside double quotes */
		{"prog '$HOME'", false},
		{"prog `id`", true},
		{"prog a;b", true},
		{"prog *.txt", true},
		{"prog ~/x", true},
		{"prog a~b", false},
		{"prog #comment", true},
		{"prog a#b", false},
		{"FOO=1 prog", true},
		{"prog --opt=1", false},
		{"prog a\\|b", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (out_program_needs_shell(cases[i].in) != cases[i].shell)
			fail_msg("'%s': expected %s", cases[i].in,
				 cases[i].shell ? "shell" : "no shell");
	}
}

static struct out_alert *alert(const char *line)
{
	return out_alert_new(4, 0, false, "r", "k8s_audit", line, strlen(line));
}

static int write_line(struct out_sink *s, const char *line)
{
	char err[256];
	struct out_alert *a = alert(line);
	int r = s->ops->write(s, a, err, sizeof(err));
	if (r < 0)
		print_message("write: %s\n", err);
	out_alert_unref(a);
	return r;
}

static char *slurp(const char *path)
{
	char *buf = NULL, err[256];
	size_t len;
	if (read_file(path, 1 << 20, &buf, &len, err, sizeof(err)) < 0)
		return strdup("");
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void wait_lines(const char *path, int n)
{
	for (int i = 0; i < 500; i++) {
		char *s = slurp(path);
		int got = count_lines(s);
		free(s);
		if (got >= n)
			return;
		usleep(10000);
	}
	fail_msg("%s never got %d lines", path, n);
}

static void test_keep_alive_restart(void **state)
{
	char dir[] = "/tmp/test_out_program.XXXXXX", path[128], prog[256];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/got", dir);
	/* one line per process: the sink has to restart it for every alert */
	snprintf(prog, sizeof(prog), "read -r l; echo \"$$ $l\" >> %s", path);
	struct out_program_config pc = {
		.program = prog, .keep_alive = true, .backoff_min_ms = 5, .backoff_max_ms = 20};
	struct out_sink *s = out_program_new(&pc);
	assert_non_null(s);
	for (int i = 0; i < 4; i++) {
		char line[32];
		snprintf(line, sizeof(line), "alert %d", i);
		assert_int_equal(write_line(s, line), 0);
		wait_lines(path, i + 1);
		usleep(20000); /* let it exit, so the next write finds it gone */
	}
	s->ops->close(s);
	char *got = slurp(path);
	int pids[4], n = 0;
	for (char *p = got; n < 4 && *p; n++) {
		pids[n] = (int)strtol(p, NULL, 10);
		assert_non_null(strstr(p, "alert"));
		p = strchr(p, '\n') + 1;
	}
	assert_int_equal(n, 4);
	for (int i = 1; i < 4; i++)
		assert_int_not_equal(pids[i], pids[i - 1]);
	free(got);
	(void)unlink(path);
	(void)rmdir(dir);
}

static void test_long_lived_and_per_alert(void **state)
{
	char dir[] = "/tmp/test_out_program.XXXXXX", path[128], prog[256];

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/got", dir);
	snprintf(prog, sizeof(prog), "while read -r l; do echo \"$$ $l\"; done >> %s", path);
	for (int keep = 1; keep >= 0; keep--) {
		(void)unlink(path);
		struct out_program_config pc = {.program = prog, .keep_alive = keep};
		struct out_sink *s = out_program_new(&pc);
		for (int i = 0; i < 3; i++)
			assert_int_equal(write_line(s, "x"), 0);
		s->ops->close(s); /* closes the input and waits for the program */
		char *got = slurp(path);
		assert_int_equal(count_lines(got), 3);
		/* keep_alive: one pid on every line; otherwise one per alert */
		long a = strtol(got, NULL, 10), b = strtol(strchr(got, '\n') + 1, NULL, 10);
		if (keep)
			assert_int_equal(a, b);
		else
			assert_int_not_equal(a, b);
		free(got);
	}
	(void)unlink(path);
	(void)rmdir(dir);
}

static void test_missing_program(void **state)
{
	char err[256];
	struct out_program_config pc = {
		.program = "/nonexistent/prog arg", .keep_alive = true, .backoff_min_ms = 1};
	struct out_sink *s = out_program_new(&pc);
	struct out_alert *a = alert("x");

	assert_int_equal(s->ops->write(s, a, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "cannot start '/nonexistent/prog arg'"));
	out_alert_unref(a);
	s->ops->close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_needs_shell),
		cmocka_unit_test(test_keep_alive_restart),
		cmocka_unit_test(test_long_lived_and_per_alert),
		cmocka_unit_test(test_missing_program),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
