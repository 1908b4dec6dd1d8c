/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rules loading, table-driven: every tests/fixtures/rules/NAME.yaml is loaded alone and the load results plus a
 * dump of the rule set are compared with NAME.out. RULES_UPDATE_GOLDEN=1 rewrites the .out files (review the
 * diff before committing). Cases that need several files, events or options are plain tests below.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "common/strbuf.h"
#include "falco/engine/engine.h"
#include "falco/engine/fields.h"
#include "rt_src.h"

#define FIXTURES "tests/fixtures/rules"

static struct rules_options default_opts(void)
{
	return (struct rules_options){.sources = rt_sources,
				      .nsources = 2,
				      .min_priority = PRIO_DEBUG,
				      .keep_expanded = true};
}

/* Load results (text form) of every file, and the rule set or NULL. */
struct loaded {
	struct rules_loader *l;
	struct ruleset *rs;
	int finish;
	struct strbuf text;
};

static void loaded_done(struct loaded *ld)
{
	ruleset_free(ld->rs);
	rules_loader_free(ld->l);
	strbuf_done(&ld->text);
}

static void collect_text(struct loaded *ld)
{
	size_t n;
	const struct load_result *res = rules_loader_results(ld->l, &n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(load_result_to_text(&res[i], false, &ld->text), 0);
}

/* Loads named contents (name, yaml, name, yaml, ..., NULL) with opts. */
static void load_many(struct loaded *ld, const struct rules_options *opts, ...)
{
	va_list ap;

	*ld = (struct loaded){0};
	strbuf_init(&ld->text, 0);
	ld->l = rules_loader_new(opts);
	assert_non_null(ld->l);
	va_start(ap, opts);
	for (const char *name; (name = va_arg(ap, const char *));) {
		const char *yaml = va_arg(ap, const char *);
		int r = rules_loader_add_content(ld->l, name, yaml, strlen(yaml));
		assert_true(r == 0 || r == -EINVAL);
	}
	va_end(ap);
	ld->finish = rules_loader_finish(ld->l, &ld->rs);
	collect_text(ld);
}

static void load1(struct loaded *ld, const char *yaml)
{
	struct rules_options o = default_opts();
	load_many(ld, &o, "r.yaml", yaml, NULL);
}

/* ---- rule set dump for the golden files ---- */

/* Event types by name, each name once ("open,openat"), "ALL" for every code, "none" for an empty set. */
static void dump_evttypes(const struct rule *r, struct ruleset *rs, struct strbuf *sb)
{
	uint64_t bits[4];
	const struct src_def *src = rule_source_index(r) == 0 ? &rt_sys : &rt_k8s;
	int any = rule_evttypes(r, rs, bits, ARRAY_SIZE(bits));
	unsigned count = 0;

	assert_true(any >= 0);
	strbuf_appends(sb, "  evttypes: ");
	for (uint32_t t = 0; t < src->nevttypes; t++)
		count += (bits[t / 64] >> (t % 64)) & 1;
	if (any) {
		strbuf_appends(sb, "none\n");
		return;
	}
	if (count == src->nevttypes) {
		strbuf_appends(sb, "ALL\n");
		return;
	}
	const char *last = NULL;
	for (uint32_t t = 0; t < src->nevttypes; t++) {
		if (!((bits[t / 64] >> (t % 64)) & 1))
			continue;
		const char *n = src->evttype_name ? src->evttype_name((uint16_t)t) : "?";
		if (last && strcmp(last, n) == 0)
			continue;
		strbuf_appendf(sb, "%s%s", last ? "," : "", n);
		last = n;
	}
	strbuf_appends(sb, "\n");
}

static void dump_ruleset(struct ruleset *rs, struct strbuf *sb)
{
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule *r = ruleset_rule(rs, i);
		size_t ntags;
		const char *const *tags = rule_tags(r, &ntags);
		strbuf_appendf(sb, "rule %u '%s' source=%s priority=%s %s tags=[", rule_id(r),
			       rule_name(r), rule_source(r), prio_to_string(rule_priority(r)),
			       rule_enabled(r) ? "enabled" : "disabled");
		for (size_t k = 0; k < ntags; k++)
			strbuf_appendf(sb, "%s%s", k ? "," : "", tags[k]);
		strbuf_appendf(
			sb,
			"]\n  desc: %s\n  condition: %s\n  compiled: %s\n  expanded: %s\n  output: %s\n",
			rule_desc(r), rule_condition(r), rule_compiled_condition(r),
			rule_expanded_condition(r) ? rule_expanded_condition(r) : "(null)",
			rule_output(r));
		dump_evttypes(r, rs, sb);
	}
}

/* ---- golden files ---- */

static char *read_all(const char *path, size_t *len)
{
	char *buf = NULL;
	if (read_file(path, 1u << 24, &buf, len, NULL, 0) < 0)
		return NULL;
	return buf;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_fixture(const char *dir, const char *name, bool update, unsigned *failures)
{
	char path[1024], out[1024];
	size_t len;
	struct loaded ld;
	struct rules_options o = default_opts();

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(out, sizeof(out), "%s/%.*s.out", dir, (int)(strlen(name) - 5), name);
	char *yaml = read_all(path, &len);
	assert_non_null(yaml);
	load_many(&ld, &o, name, yaml, NULL);
	strbuf_appendf(&ld.text, "finish: %d\n", ld.finish);
	if (ld.rs)
		dump_ruleset(ld.rs, &ld.text);

	if (update) {
		FILE *f = fopen(out, "w");
		assert_non_null(f);
		fputs(strbuf_str(&ld.text), f);
		fclose(f);
	} else {
		char *want = read_all(out, &len);
		if (!want || strcmp(want, strbuf_str(&ld.text)) != 0) {
			fprintf(stderr,
				"fixture %s: output differs from %s\n--- got:\n%s--- want:\n%s\n",
				name, out, strbuf_str(&ld.text), want ? want : "(missing)");
			(*failures)++;
		}
		free(want);
	}
	free(yaml);
	loaded_done(&ld);
}

static void test_golden_fixtures(void **state)
{
	const char *dir = getenv("RULES_FIXTURES") ? getenv("RULES_FIXTURES") : FIXTURES;
	bool update = getenv("RULES_UPDATE_GOLDEN") != NULL;
	DIR *d = opendir(dir);
	char *names[512];
	size_t n = 0;
	unsigned failures = 0;

	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d)) && n < ARRAY_SIZE(names);) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0)
			names[n++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_names);
	assert_true(n >= 40);
	for (size_t i = 0; i < n; i++) {
		run_fixture(dir, names[i], update, &failures);
		free(names[i]);
	}
	assert_int_equal(failures, 0);
}

/* ---- events ---- */

struct matches {
	const char *names[16];
	unsigned n;
};

static void on_match(void *ud, const struct rule *r, struct rs_eval *ev)
{
	struct matches *m = ud;
	(void)ev;
	if (m->n < ARRAY_SIZE(m->names))
		m->names[m->n++] = rule_name(r);
}

/* Runs one event and returns the matching rule names joined with ",". */
static const char *run_evt(struct ruleset *rs, uint16_t source, uint16_t type,
			   const struct rt_evt *e)
{
	static char buf[512];
	struct rs_eval *ev = rs_eval_new(rs);
	struct evt evt = {.source = source, .type = type, .data = e};
	struct matches m = {0};

	assert_non_null(ev);
	int n = ruleset_process(rs, ev, &evt, NULL, on_match, &m);
	assert_int_equal(n, (int)m.n);
	buf[0] = '\0';
	for (unsigned i = 0; i < m.n; i++) {
		strncat(buf, i ? "," : "", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, m.names[i], sizeof(buf) - strlen(buf) - 1);
	}
	rs_eval_free(ev);
	return buf;
}

enum { T_OPEN = 0, T_OPENAT = 2, T_EXECVE = 4, T_CONNECT = 6, T_CLOSE = 8 };

static const char matching_rules[] =
	"- rule: A\n"
	"  desc: d\n"
	"  condition: evt.type = open and proc.name = cat\n"
	"  output: o\n"
	"  priority: ERROR\n"
	"- rule: B\n"
	"  desc: d\n"
	"  condition: evt.type in (open, execve) and proc.name startswith c\n"
	"  output: o\n"
	"  priority: ERROR\n"
	"- rule: D\n"
	"  desc: d\n"
	"  condition: proc.name = cat\n"
	"  output: o\n"
	"  priority: ERROR\n"
	"- rule: K\n"
	"  desc: d\n"
	"  condition: ka.verb = get\n"
	"  output: o\n"
	"  priority: ERROR\n"
	"  source: k8s_audit\n";

static void test_rule_matching_first(void **state)
{
	struct loaded ld;
	struct rt_evt cat = {.proc_name = "cat"}, dog = {.proc_name = "dog"},
		      cow = {.proc_name = "cow"};
	struct rt_evt get = {.verb = "get"};

	load1(&ld, matching_rules);
	assert_int_equal(ld.finish, 0);
	assert_string_equal(run_evt(ld.rs, 0, T_OPEN, &cat), "A");
	assert_string_equal(run_evt(ld.rs, 0, T_OPEN + 1, &cat), "A"); /* both codes of a syscall */
	assert_string_equal(run_evt(ld.rs, 0, T_EXECVE, &cat), "B");
	assert_string_equal(run_evt(ld.rs, 0, T_OPEN, &cow), "B");
	assert_string_equal(run_evt(ld.rs, 0, T_CLOSE, &cat), "D");
	assert_string_equal(run_evt(ld.rs, 0, T_CLOSE, &dog), "");
	assert_string_equal(run_evt(ld.rs, 0, 100, &cat), "D");
	assert_string_equal(run_evt(ld.rs, 1, 0, &get), "K");
	/* an out-of-range source or type runs nothing */
	assert_string_equal(run_evt(ld.rs, 7, 0, &get), "");
	assert_string_equal(run_evt(ld.rs, 0, 500, &cat), "");
	loaded_done(&ld);
}

static void test_rule_matching_all(void **state)
{
	struct rules_options o = default_opts();
	struct loaded ld;
	struct rt_evt cat = {.proc_name = "cat"};

	o.match_all = true;
	load_many(&ld, &o, "r.yaml", matching_rules, NULL);
	assert_int_equal(ld.finish, 0);
	/* every matching rule, in definition order */
	assert_string_equal(run_evt(ld.rs, 0, T_OPEN, &cat), "A,B,D");
	assert_string_equal(run_evt(ld.rs, 0, T_EXECVE, &cat), "B,D");
	assert_string_equal(run_evt(ld.rs, 0, T_CLOSE, &cat), "D");
	loaded_done(&ld);
}

/* An unrestricted rule defined first sits in every type's list before the typed ones, as upstream. */
static void test_rule_matching_order_is_definition_order(void **state)
{
	struct loaded ld;
	struct rt_evt cat = {.proc_name = "cat"};

	load1(&ld,
	      "- rule: Any\n  desc: d\n  condition: proc.name = cat\n  output: o\n  priority: ERROR\n"
	      "- rule: Typed\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: ERROR\n"
	      "- rule: Any\n  desc: redefined, keeps its place\n  condition: proc.name = cat\n  output: o\n"
	      "  priority: ERROR\n");
	assert_int_equal(ld.finish, 0);
	assert_string_equal(run_evt(ld.rs, 0, T_OPEN, &cat), "Any");
	assert_string_equal(rule_name(ruleset_rule(ld.rs, 0)), "Any");
	assert_string_equal(rule_desc(ruleset_rule(ld.rs, 0)), "redefined, keeps its place");
	loaded_done(&ld);
}

static const char selection_rules[] =
	"- rule: Shell in container\n"
	"  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: ERROR\n"
	"  tags: [shell, container]\n"
	"- rule: Shell on host\n"
	"  desc: d\n  condition: evt.type = execve\n  output: o\n  priority: ERROR\n"
	"  tags: [shell]\n"
	"- rule: Open file\n"
	"  desc: d\n  condition: evt.type in (open, openat)\n  output: o\n  priority: ERROR\n"
	"  tags: [file]\n  enabled: false\n"
	"- rule: Connect\n"
	"  desc: d\n  condition: evt.type = connect\n  output: o\n  priority: ERROR\n";

static uint64_t evt_bits(struct ruleset *rs)
{
	uint64_t bits[2];
	assert_int_equal(ruleset_evttypes(rs, 0, bits, 2), 0);
	assert_int_equal(bits[1], 0);
	return bits[0];
}

static void test_selection(void **state)
{
	struct rules_options o = default_opts();
	struct loaded ld;
	struct rt_evt e = {.proc_name = "x"};
	const char *tags[] = {"file", "container"};

	o.match_all = true;
	load_many(&ld, &o, "r.yaml", selection_rules, NULL);
	assert_int_equal(ld.finish, 0);
	assert_int_equal(ruleset_count(ld.rs), 4);
	assert_int_equal(ruleset_count_enabled(ld.rs), 3);
	/* execve 4,5  connect 6,7; open (disabled) not included */
	assert_int_equal(evt_bits(ld.rs), 0xf0);
	assert_string_equal(run_evt(ld.rs, 0, T_OPEN, &e), "");

	assert_int_equal(ruleset_set_enabled(ld.rs, "Shell*", NULL, false), 2);
	assert_string_equal(run_evt(ld.rs, 0, T_EXECVE, &e), "");
	assert_int_equal(evt_bits(ld.rs), 0xc0);
	assert_int_equal(ruleset_set_enabled(ld.rs, "?hell on h*t", NULL, true), 1);
	assert_string_equal(run_evt(ld.rs, 0, T_EXECVE, &e), "Shell on host");
	assert_int_equal(ruleset_set_enabled(ld.rs, NULL, "container", true), 1);
	assert_string_equal(run_evt(ld.rs, 0, T_EXECVE, &e), "Shell in container,Shell on host");
	assert_int_equal(ruleset_set_enabled(ld.rs, "Open*", "shell", true), 0);
	assert_int_equal(ruleset_set_enabled(ld.rs, "*", "file", true), 1);
	assert_string_equal(run_evt(ld.rs, 0, T_OPENAT, &e), "Open file");
	assert_int_equal(ruleset_set_enabled(ld.rs, "Nothing", NULL, true), 0);

	assert_int_equal(ruleset_enable_only_tags(ld.rs, tags, 2), 2);
	assert_int_equal(ruleset_count_enabled(ld.rs), 2);
	assert_string_equal(run_evt(ld.rs, 0, T_EXECVE, &e), "Shell in container");
	assert_string_equal(run_evt(ld.rs, 0, T_CONNECT, &e), "");
	assert_int_equal(evt_bits(ld.rs), 0x3f);
	assert_int_equal(ruleset_set_enabled(ld.rs, NULL, NULL, false), 4);
	assert_int_equal(evt_bits(ld.rs), 0);
	loaded_done(&ld);
}

static void test_evttypes_unrestricted_needs_all(void **state)
{
	struct loaded ld;
	uint64_t bits[2], small[1];

	load1(&ld,
	      "- rule: r\n  desc: d\n  condition: proc.name = x\n  output: o\n  priority: ERROR\n");
	assert_int_equal(ld.finish, 0);
	assert_int_equal(ruleset_evttypes(ld.rs, 0, bits, 2), 0);
	assert_true(bits[0] == UINT64_MAX && bits[1] == UINT64_MAX);
	assert_int_equal(ruleset_evttypes(ld.rs, 0, small, 1), -EINVAL);
	assert_int_equal(ruleset_evttypes(ld.rs, 9, bits, 2), -EINVAL);
	loaded_done(&ld);
}

static void test_priority_threshold(void **state)
{
	struct rules_options o = default_opts();
	struct loaded ld;

	o.min_priority = PRIO_WARNING;
	load_many(
		&ld, &o, "r.yaml",
		"- rule: crit\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: CRITICAL\n"
		"- rule: warn\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: warning\n"
		"- rule: notice\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: NOTICE\n"
		"- rule: debug\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: Debug\n",
		NULL);
	assert_int_equal(ld.finish, 0);
	assert_int_equal(ruleset_count(ld.rs), 2);
	assert_string_equal(rule_name(ruleset_rule(ld.rs, 0)), "crit");
	assert_string_equal(rule_name(ruleset_rule(ld.rs, 1)), "warn");
	assert_int_equal(rule_id(ruleset_rule(ld.rs, 1)), 1);
	assert_null(ruleset_rule(ld.rs, 2));
	loaded_done(&ld);

	/* rules below the threshold are still compiled: their errors count */
	load_many(
		&ld, &o, "r.yaml",
		"- rule: debug\n  desc: d\n  condition: evt.type = open and nope.x = 1\n  output: o\n"
		"  priority: DEBUG\n",
		NULL);
	assert_int_equal(ld.finish, -EINVAL);
	assert_non_null(strstr(strbuf_str(&ld.text), "r.yaml:3:34: LOAD_ERR_COMPILE_CONDITION"));
	loaded_done(&ld);
}

static void test_multiple_files(void **state)
{
	struct rules_options o = default_opts();
	struct loaded ld;
	struct rt_evt sh = {.proc_name = "sh"}, zsh = {.proc_name = "zsh"};

	load_many(
		&ld, &o, "main.yaml",
		"- list: shells\n  items: [sh]\n"
		"- macro: spawned\n  condition: evt.type = execve\n"
		"- rule: Shell\n  desc: d\n  condition: spawned and proc.name in (shells)\n  output: o\n"
		"  priority: ERROR\n",
		"local.yaml",
		"- list: shells\n  items: [zsh]\n  override:\n    items: append\n"
		"- rule: Shell\n  output: \"%proc.name\"\n  override:\n    output: replace\n"
		"- macro: unused_here\n  condition: proc.pid = 1\n",
		NULL);
	assert_int_equal(ld.finish, 0);
	assert_string_equal(
		strbuf_str(&ld.text),
		"local.yaml:9:3: LOAD_UNUSED_MACRO: Macro not referred to by any other rule/macro\n");
	assert_string_equal(run_evt(ld.rs, 0, T_EXECVE, &sh), "Shell");
	assert_string_equal(run_evt(ld.rs, 0, T_EXECVE, &zsh), "Shell");
	assert_string_equal(rule_output(ruleset_rule(ld.rs, 0)), "%proc.name");

	size_t n;
	const struct load_result *res = rules_loader_results(ld.l, &n);
	assert_int_equal(n, 2);
	assert_string_equal(res[0].name, "main.yaml");
	assert_true(res[0].successful && res[0].nwarnings == 0);
	assert_true(res[1].successful && res[1].nwarnings == 1);
	loaded_done(&ld);

	/* an error in the second file is reported there, with its name, and no rule set is built */
	load_many(
		&ld, &o, "main.yaml", "- macro: spawned\n  condition: evt.type = execve\n",
		"local.yaml",
		"- rule: r\n  desc: d\n  condition: spawned and\n  output: o\n  priority: ERROR\n",
		NULL);
	assert_int_equal(ld.finish, -EINVAL);
	assert_null(ld.rs);
	assert_true(rules_loader_failed(ld.l));
	res = rules_loader_results(ld.l, &n);
	assert_true(res[0].successful);
	assert_false(res[1].successful);
	assert_int_equal(res[1].nerrors, 1);
	assert_string_equal(res[1].errors[0].locations[res[1].errors[0].nlocations - 1].file,
			    "local.yaml");
	loaded_done(&ld);
}

/* Upstream compiles after every file: a rule may only name macros known once its own file is read. */
static void test_cross_file_macro_visibility(void **state)
{
	struct rules_options o = default_opts();
	struct loaded ld;

	load_many(
		&ld, &o, "a.yaml",
		"- rule: r\n  desc: d\n  condition: evt.type = open and later\n  output: o\n  priority: ERROR\n",
		"b.yaml", "- macro: later\n  condition: proc.name = x\n", NULL);
	assert_int_equal(ld.finish, -EINVAL);
	assert_string_equal(
		strbuf_str(&ld.text),
		"a.yaml:3:34: LOAD_ERR_VALIDATE: Undefined macro 'later' used in filter.\n");
	loaded_done(&ld);

	/* text appended by a later file may use that file's macros; lists may come from any file */
	load_many(
		&ld, &o, "a.yaml",
		"- rule: r\n  desc: d\n  condition: evt.type = open and proc.name in (names)\n  output: o\n"
		"  priority: ERROR\n",
		"b.yaml",
		"- macro: later\n  condition: proc.pid = 1\n- list: names\n  items: [a]\n"
		"- rule: r\n  condition: and later\n  override:\n    condition: append\n",
		NULL);
	assert_int_equal(ld.finish, 0);
	assert_string_equal(rule_expanded_condition(ruleset_rule(ld.rs, 0)),
			    "(evt.type = open and proc.name in (a) and proc.pid = 1)");
	loaded_done(&ld);
}

static void write_file(const char *dir, const char *name, const char *content)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static void test_directory_and_read_errors(void **state)
{
	char dir[] = "/tmp/rules-test-XXXXXX", p[600];
	struct rules_options o = default_opts();

	assert_non_null(mkdtemp(dir));
	write_file(dir, "b.yaml", "- list: b\n  items: [x]\n");
	write_file(dir, "a.yml", "- list: a\n  items: [x]\n");
	write_file(dir, "c.txt", "not rules");
	write_file(dir, ".hidden.yaml", "- broken");
	snprintf(p, sizeof(p), "%s/sub.yaml", dir);
	assert_int_equal(mkdir(p, 0700), 0);

	struct rules_loader *l = rules_loader_new(&o);
	assert_int_equal(rules_loader_add_path(l, dir), 0);
	snprintf(p, sizeof(p), "%s/missing.yaml", dir);
	assert_int_equal(rules_loader_add_path(l, p), -EINVAL);
	size_t n;
	const struct load_result *res = rules_loader_results(l, &n);
	assert_int_equal(n, 3);
	assert_non_null(strstr(res[0].name, "/a.yml"));
	assert_non_null(strstr(res[1].name, "/b.yaml"));
	assert_false(res[2].successful);
	assert_int_equal(res[2].errors[0].code, LOAD_ERR_FILE_READ);
	assert_non_null(strstr(res[2].errors[0].message, "Could not read file"));
	assert_true(rules_loader_failed(l));
	struct ruleset *rs = NULL;
	assert_int_equal(rules_loader_finish(l, &rs), -EINVAL);
	assert_int_equal(rules_loader_finish(l, &rs), -EBUSY);
	assert_int_equal(rules_loader_add_content(l, "x", "", 0), -EBUSY);
	rules_loader_free(l);

	const char *names[] = {"a.yml", "b.yaml", "c.txt", ".hidden.yaml"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/sub.yaml", dir);
	rmdir(p);

	/* an empty directory (rules.d as installed) loads nothing and is no error */
	l = rules_loader_new(&o);
	assert_int_equal(rules_loader_add_path(l, dir), 0);
	rules_loader_results(l, &n);
	assert_int_equal(n, 0);
	assert_false(rules_loader_failed(l));
	rules_loader_free(l);
	rmdir(dir);
}

static void test_limits(void **state)
{
	struct rules_options o = default_opts();
	struct loaded ld;

	/* content over the per-file limit is refused before parsing */
	size_t big = (16u << 20) + 1;
	char *buf = malloc(big + 1);
	assert_non_null(buf);
	memset(buf, '#', big);
	buf[big] = '\0';
	struct rules_loader *l = rules_loader_new(&o);
	assert_int_equal(rules_loader_add_content(l, "big.yaml", buf, big), -EINVAL);
	size_t n;
	const struct load_result *res = rules_loader_results(l, &n);
	assert_int_equal(res[0].errors[0].code, LOAD_ERR_FILE_READ);
	rules_loader_free(l);
	free(buf);

	/* YAML nesting */
	struct strbuf sb;
	strbuf_init(&sb, 0);
	strbuf_appends(&sb, "- list: l\n  items: ");
	for (int i = 0; i < 100; i++)
		strbuf_appendc(&sb, '[');
	for (int i = 0; i < 100; i++)
		strbuf_appendc(&sb, ']');
	strbuf_appendc(&sb, '\n');
	load1(&ld, strbuf_str(&sb));
	assert_non_null(
		strstr(strbuf_str(&ld.text), "LOAD_ERR_YAML_PARSE: nesting deeper than 32 levels"));
	loaded_done(&ld);

	/* a long list substituted many times overflows the condition limit, with an error */
	strbuf_reset(&sb);
	strbuf_appends(&sb, "- list: big\n  items: [");
	for (int i = 0; i < 20000; i++)
		strbuf_appendf(&sb, "%sitem_number_%d", i ? "," : "", i);
	strbuf_appends(
		&sb,
		"]\n- rule: r\n  desc: d\n  output: o\n  priority: ERROR\n  condition: evt.type = open");
	for (int i = 0; i < 6; i++)
		strbuf_appends(&sb, " and proc.name in (big)");
	strbuf_appendc(&sb, '\n');
	load1(&ld, strbuf_str(&sb));
	assert_int_equal(ld.finish, -EINVAL);
	assert_non_null(
		strstr(strbuf_str(&ld.text), "Condition is too long after list substitution"));
	loaded_done(&ld);
	strbuf_done(&sb);
}

/* ---- load result renderings ---- */

static void test_json_shape(void **state)
{
	struct loaded ld;
	struct strbuf sb;

	load1(&ld, "- rule: r\n  desc: d\n  condition: proc.name = x\n  priority: ERROR\n");
	size_t n;
	const struct load_result *res = rules_loader_results(ld.l, &n);
	strbuf_init(&sb, 0);
	assert_int_equal(load_result_to_json(&res[0], &sb), 0);
	assert_string_equal(
		strbuf_str(&sb),
		"{\"errors\":[{\"code\":\"LOAD_ERR_YAML_VALIDATE\",\"codedesc\":\"Error validating internal structure of "
		"YAML file\",\"context\":{\"locations\":[{\"item_name\":\"\",\"item_type\":\"rules content\","
		"\"position\":{\"column\":1,\"line\":1,\"name\":\"r.yaml\",\"offset\":0}},{\"item_name\":\"r\","
		"\"item_type\":\"rule\",\"position\":{\"column\":3,\"line\":1,\"name\":\"r.yaml\",\"offset\":2}}],"
		"\"snippet\":\"- rule: r\\n  ^\\n\"},\"message\":\"Item has no mapping for key 'output'\"}],"
		"\"name\":\"r.yaml\",\"successful\":false,\"warnings\":[]}");
	strbuf_done(&sb);
	loaded_done(&ld);

	load1(&ld, "- list: l\n  items: [a]\n");
	res = rules_loader_results(ld.l, &n);
	strbuf_init(&sb, 0);
	assert_int_equal(load_result_to_json(&res[0], &sb), 0);
	assert_string_equal(
		strbuf_str(&sb),
		"{\"errors\":[],\"name\":\"r.yaml\",\"successful\":true,\"warnings\":[{\"code\":\"LOAD_UNUSED_LIST\","
		"\"codedesc\":\"Unused list\",\"context\":{\"locations\":[{\"item_name\":\"\",\"item_type\":\"rules "
		"content\",\"position\":{\"column\":1,\"line\":1,\"name\":\"r.yaml\",\"offset\":0}},{\"item_name\":"
		"\"l\",\"item_type\":\"list\",\"position\":{\"column\":3,\"line\":1,\"name\":\"r.yaml\",\"offset\":2}}"
		"],\"snippet\":\"- list: l\\n  ^\\n\"},\"message\":\"List not referred to by any other rule/macro\"}]}");
	strbuf_done(&sb);
	loaded_done(&ld);
}

static void test_text_verbose(void **state)
{
	struct loaded ld;
	struct strbuf sb;

	load1(&ld,
	      "- macro: m\n  condition: proc.name = x\n"
	      "- rule: r\n  desc: d\n  condition: evt.type = open and m and fd.nam = y\n  output: o\n"
	      "  priority: ERROR\n");
	assert_string_equal(
		strbuf_str(&ld.text),
		"r.yaml:5:40: LOAD_ERR_COMPILE_CONDITION: filter_check called with nonexistent field fd.nam\n");
	size_t n;
	const struct load_result *res = rules_loader_results(ld.l, &n);
	strbuf_init(&sb, 0);
	assert_int_equal(load_result_to_text(&res[0], true, &sb), 0);
	assert_string_equal(
		strbuf_str(&sb),
		"r.yaml: Invalid\n"
		"1 Errors:\n"
		"In rules content: (r.yaml:1:1)\n"
		"    rule 'r': (r.yaml:3:3)\n"
		"    rule condition: (r.yaml:5:14)\n"
		"    condition expression: (r.yaml:5:40)\n"
		"------\n"
		"  condition: evt.type = open and m and fd.nam = y\n"
		"                                       ^\n"
		"------\n"
		"LOAD_ERR_COMPILE_CONDITION (Error compiling condition): filter_check called "
		"with nonexistent field fd.nam\n");
	strbuf_done(&sb);
	loaded_done(&ld);

	load1(&ld, "- list: l\n  items: [a]\n");
	res = rules_loader_results(ld.l, &n);
	strbuf_init(&sb, 0);
	assert_int_equal(load_result_to_text(&res[0], true, &sb), 0);
	assert_non_null(strstr(strbuf_str(&sb), "r.yaml: Ok, with warnings\n1 Warnings:\n"));
	assert_non_null(
		strstr(strbuf_str(&sb), "LOAD_UNUSED_LIST (Unused list): List not referred"));
	strbuf_done(&sb);
	loaded_done(&ld);

	assert_string_equal(load_code_to_string(LOAD_NO_EVTTYPE), "LOAD_NO_EVTTYPE");
	assert_string_equal(load_code_description(LOAD_NO_EVTTYPE),
			    "Condition has no event-type restriction");
	assert_true(load_code_is_error(LOAD_ERR_EXTENSION));
	assert_false(load_code_is_error(LOAD_UNKNOWN_SOURCE));
}

static void test_priorities(void **state)
{
	assert_int_equal(prio_from_string("emergency"), PRIO_EMERGENCY);
	assert_int_equal(prio_from_string("INFO"), PRIO_INFORMATIONAL);
	assert_int_equal(prio_from_string("Informational"), PRIO_INFORMATIONAL);
	assert_int_equal(prio_from_string("debug"), PRIO_DEBUG);
	assert_int_equal(prio_from_string("warn"), _PRIO_INVALID);
	assert_int_equal(prio_from_string(NULL), _PRIO_INVALID);
	assert_string_equal(prio_to_string(PRIO_INFORMATIONAL), "Informational");
	assert_null(prio_to_string(_PRIO_MAX));
}

/* ---- semantics checked by evaluation ---- */

static void test_exceptions_filter_events(void **state)
{
	struct loaded ld;
	struct rt_evt cat_tmp = {.proc_name = "cat", .fd_name = "/tmp/x"};
	struct rt_evt cat_etc = {.proc_name = "cat", .fd_name = "/etc/passwd"};
	struct rt_evt daemon = {.proc_name = "my daemon", .fd_name = "/etc/passwd"};
	struct rt_evt dog = {.proc_name = "dog", .fd_name = "/etc/passwd"};

	load1(&ld,
	      "- list: trusted\n  items: [\"my daemon\"]\n"
	      "- rule: r\n  desc: d\n  condition: evt.type = open\n  output: o\n  priority: ERROR\n"
	      "  exceptions:\n"
	      "    - name: pairs\n      fields: [proc.name, fd.name]\n      comps: [=, startswith]\n"
	      "      values: [[cat, /tmp]]\n"
	      "    - name: trusted_procs\n      fields: proc.name\n      values: [trusted]\n");
	assert_int_equal(ld.finish, 0);
	assert_string_equal(run_evt(ld.rs, 0, T_OPEN, &cat_tmp), "");
	assert_string_equal(run_evt(ld.rs, 0, T_OPEN, &cat_etc), "r");
	assert_string_equal(run_evt(ld.rs, 0, T_OPEN, &daemon), "");
	assert_string_equal(run_evt(ld.rs, 0, T_OPEN, &dog), "r");
	loaded_done(&ld);
}

static void test_append_output(void **state)
{
	struct rules_options o = default_opts();
	const char *const tags[] = {"t1", NULL};
	const char *const fields[] = {"proc.pid", "who=%proc.name!", NULL};
	struct rules_append_output ao[] = {
		{.source = "syscall",
		 .tags = tags,
		 .extra_output = "pid=%proc.pid",
		 .extra_fields = fields},
		{.rule = "other", .extra_output = "never"},
	};
	struct loaded ld;

	o.append_output = ao;
	o.nappend_output = ARRAY_SIZE(ao);
	load_many(
		&ld, &o, "r.yaml",
		"- rule: r\n  desc: d\n  condition: evt.type = open\n  output: name=%proc.name\n  priority: ERROR\n"
		"  tags: [t1, t2]\n"
		"- rule: s\n  desc: d\n  condition: evt.type = open\n  output: plain\n  priority: ERROR\n",
		NULL);
	assert_int_equal(ld.finish, 0);
	assert_string_equal(rule_output(ruleset_rule(ld.rs, 0)), "name=%proc.name pid=%proc.pid");
	assert_string_equal(rule_output(ruleset_rule(ld.rs, 1)), "plain");
	loaded_done(&ld);
}

/*
 * The compiler's "may be a valid field misused as a const string value" check skips values without a dot (for
 * speed), which is only right while every field of every source is named "class.name".
 */
static void test_field_names_have_a_dot(void **state)
{
	const struct src_def *const srcs[] = {&src_syscall, &src_k8s_audit};
	for (size_t k = 0; k < sizeof(srcs) / sizeof(srcs[0]); k++)
		for (const struct fld_table *const *t = srcs[k]->tables; *t; t++)
			for (size_t i = 0; i < (*t)->n; i++)
				if (!strchr((*t)->defs[i].name, '.'))
					fail_msg("field '%s' of %s has no dot", (*t)->defs[i].name,
						 srcs[k]->name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_golden_fixtures),
		cmocka_unit_test(test_field_names_have_a_dot),
		cmocka_unit_test(test_rule_matching_first),
		cmocka_unit_test(test_rule_matching_all),
		cmocka_unit_test(test_rule_matching_order_is_definition_order),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_evttypes_unrestricted_needs_all),
		cmocka_unit_test(test_priority_threshold),
		cmocka_unit_test(test_multiple_files),
		cmocka_unit_test(test_cross_file_macro_visibility),
		cmocka_unit_test(test_directory_and_read_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_json_shape),
		cmocka_unit_test(test_text_verbose),
		cmocka_unit_test(test_priorities),
		cmocka_unit_test(test_exceptions_filter_events),
		cmocka_unit_test(test_append_output),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
