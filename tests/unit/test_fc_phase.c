/* SPDX-License-Identifier: Apache-2.0 */
/* falcoctl's phase runner: order, --skip-phases, install phase <name>, dry-run, failures, undo, idempotence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_fc_util.h"

#include "common/strbuf.h"
#include "falcoctl/fs.h"
#include "falcoctl/phase.h"

static struct strbuf trace;

#define REC(fn, what)                                               \
	static int fn(struct fc_ctx *ctx, char *e, size_t l)        \
	{                                                           \
		(void)e, (void)l;                                   \
		strbuf_appendf(&trace, "%s:%s ", what, ctx->phase); \
		return 0;                                           \
	}
REC(rec_run, "run")
REC(rec_check, "check")
REC(rec_undo, "undo")

static int boom(struct fc_ctx *ctx, char *e, size_t l)
{
	strbuf_appendf(&trace, "run:%s ", ctx->phase);
	snprintf(e, l, "boom");
	return -EIO;
}

static const struct fc_phase table[] = {
	{"a", NULL, "first", rec_run, rec_check, rec_undo, 0},
	{"b", NULL, "parent", NULL, NULL, NULL, 0},
	{"c", "b", "child c", rec_run, rec_check, rec_undo, 0},
	{"d", "b", "child d", rec_run, NULL, rec_undo, FC_PHASE_HOST},
	{"e", "d", "grandchild", rec_run, rec_check, NULL, 0},
	{"r", NULL, "reserved later", NULL, NULL, NULL, FC_PHASE_RESERVED},
	{"f", NULL, "last", rec_run, rec_check, rec_undo, 0},
};

struct env {
	char *root;
	struct fc_settings cfg;
	struct fct_rep rep;
	struct fct_fake fake;
	struct fc_ops ops;
	struct fc_ctx ctx;
};

static int setup(void **state)
{
	struct env *v = calloc(1, sizeof(*v));
	v->root = fct_mkdtemp();
	fct_settings(&v->cfg, v->root);
	fct_rep_init(&v->rep, FC_OUTPUT_TEXT);
	fct_fake_init(&v->fake, &v->ops);
	fct_ctx(&v->ctx, &v->cfg, &v->rep.rep, &v->ops);
	strbuf_init(&trace, 0);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	struct env *v = *state;
	fc_ctx_done(&v->ctx);
	fct_rep_done(&v->rep);
	fc_settings_done(&v->cfg);
	fct_rm_rf(v->root);
	free(v->root);
	strbuf_done(&trace);
	free(v);
	return 0;
}

static void test_flatten_paths(void **state)
{
	struct fc_phase_ref refs[ARRAY_SIZE(table)];
	assert_int_equal(fc_phases_flatten(table, ARRAY_SIZE(table), refs, NULL, 0),
			 (int)ARRAY_SIZE(table));
	assert_string_equal(refs[0].path, "a");
	assert_string_equal(refs[2].path, "b/c");
	assert_string_equal(refs[4].path, "b/d/e");
	assert_int_equal(refs[4].depth, 2);
	assert_int_equal(refs[4].parent, 3);

	static const struct fc_phase bad[] = {
		{"x", "y", "parent after child", rec_run, NULL, NULL, 0},
		{"y", NULL, "", rec_run, NULL, NULL, 0},
	};
	char e[128];
	assert_int_equal(fc_phases_flatten(bad, 2, refs, e, sizeof(e)), -EINVAL);
	assert_non_null(strstr(e, "parent 'y'"));
}

static void test_select_filter_and_skip(void **state)
{
	struct fc_phase_ref refs[ARRAY_SIZE(table)];
	bool sel[ARRAY_SIZE(table)];
	char e[128];
	char s1[] = "b/d", s2[] = "nope";
	char *skip_d[] = {s1, NULL}, *skip_bad[] = {s2, NULL};
	size_t n = ARRAY_SIZE(table);
	fc_phases_flatten(table, n, refs, NULL, 0);

	assert_int_equal(fc_phases_select(refs, n, "b", NULL, sel, e, sizeof(e)), 0);
	bool want1[] = {false, true, true, true, true, false, false};
	assert_memory_equal(sel, want1, sizeof(want1));

	assert_int_equal(fc_phases_select(refs, n, NULL, skip_d, sel, e, sizeof(e)), 0);
	bool want2[] = {true, true, true, false, false, true, true};
	assert_memory_equal(sel, want2, sizeof(want2));

	assert_int_equal(fc_phases_select(refs, n, "zz", NULL, sel, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "invalid phase name: zz");
	assert_int_equal(fc_phases_select(refs, n, NULL, skip_bad, sel, e, sizeof(e)), -EINVAL);
	assert_string_equal(e, "invalid phase name: nope");
}

static void test_run_order_host(void **state)
{
	struct env *v = *state;
	char e[256];
	v->ctx.host = true;
	assert_int_equal(fc_phases_run(&v->ctx, table, ARRAY_SIZE(table), NULL, NULL, e, sizeof(e)),
			 0);
	assert_string_equal(strbuf_str(&trace), "run:a run:b/c run:b/d run:b/d/e run:f ");
	assert_non_null(strstr(fct_rep_text(&v->rep), "[r] Skipping phase r: reserved later"));
	assert_true(fc_state_completed(v->ctx.state, "b/d/e"));
	assert_false(fc_state_completed(v->ctx.state, "r"));
}

static void test_run_root_skips_host_phases(void **state)
{
	struct env *v = *state;
	char e[256];
	assert_false(v->ctx.host);
	assert_int_equal(fc_phases_run(&v->ctx, table, ARRAY_SIZE(table), NULL, NULL, e, sizeof(e)),
			 0);
	/* d acts on the host: skipped, its child still runs (it is not host-acting itself) */
	assert_string_equal(strbuf_str(&trace), "run:a run:b/c run:b/d/e run:f ");
	assert_non_null(strstr(fct_rep_text(&v->rep), "Skipping phase b/d: --root"));
}

static void test_skip_and_filter(void **state)
{
	struct env *v = *state;
	char e[256];
	char s1[] = "b/c", s2[] = "f";
	char *skip[] = {s1, s2, NULL};
	v->ctx.host = true;
	assert_int_equal(fc_phases_run(&v->ctx, table, ARRAY_SIZE(table), NULL, skip, e, sizeof(e)),
			 0);
	assert_string_equal(strbuf_str(&trace), "run:a run:b/d run:b/d/e ");
	assert_non_null(strstr(fct_rep_text(&v->rep), "Skipping phase b/c (--skip-phases)"));

	strbuf_reset(&trace);
	assert_int_equal(
		fc_phases_run(&v->ctx, table, ARRAY_SIZE(table), "b/d", NULL, e, sizeof(e)), 0);
	assert_string_equal(strbuf_str(&trace), "run:b/d run:b/d/e ");
}

static void test_dry_run_uses_check(void **state)
{
	struct env *v = *state;
	char e[256];
	v->ctx.host = true;
	v->ctx.dry_run = true;
	assert_int_equal(fc_phases_run(&v->ctx, table, ARRAY_SIZE(table), NULL, NULL, e, sizeof(e)),
			 0);
	/* d has no check: reported, not run */
	assert_string_equal(strbuf_str(&trace), "check:a check:b/c check:b/d/e check:f ");
	assert_non_null(strstr(fct_rep_text(&v->rep), "Would run: child d"));
	/* nothing recorded, nothing written */
	assert_false(fc_state_completed(v->ctx.state, "a"));
	assert_false(fct_exists(v->root, FC_STATE_FILE));
}

static void test_failure_wraps_and_stops(void **state)
{
	struct env *v = *state;
	static const struct fc_phase t[] = {
		{"x", NULL, "", rec_run, NULL, NULL, 0},
		{"driver", NULL, "", NULL, NULL, NULL, 0},
		{"load", "driver", "", boom, NULL, NULL, 0},
		{"z", NULL, "", rec_run, NULL, NULL, 0},
	};
	char e[256];
	assert_int_equal(fc_phases_run(&v->ctx, t, ARRAY_SIZE(t), NULL, NULL, e, sizeof(e)), -EIO);
	assert_string_equal(e, "error execution phase driver/load: boom");
	assert_string_equal(strbuf_str(&trace), "run:x run:driver/load ");
	assert_true(fc_state_completed(v->ctx.state, "x"));
	assert_false(fc_state_completed(v->ctx.state, "driver/load"));
}

static void test_undo_reverse(void **state)
{
	struct env *v = *state;
	char e[256];
	v->ctx.host = true;
	assert_int_equal(fc_phases_undo(&v->ctx, table, ARRAY_SIZE(table), e, sizeof(e)), 0);
	assert_string_equal(strbuf_str(&trace), "undo:f undo:b/d undo:b/c undo:a ");
}

static void test_help_lists_tree(void **state)
{
	struct strbuf sb;
	strbuf_init(&sb, 0);
	assert_int_equal(fc_phases_help(table, ARRAY_SIZE(table), &sb), 0);
	assert_non_null(strstr(strbuf_str(&sb), "  a                  first\n"));
	assert_non_null(strstr(strbuf_str(&sb), "    /c               child c\n"));
	assert_non_null(strstr(strbuf_str(&sb), "      /e             grandchild\n"));
	strbuf_done(&sb);

	/* the real table is well formed, keeps places for tls and audit, and marks host-acting phases */
	struct fc_phase_ref refs[32];
	int n = fc_phases_flatten(fc_install_phases, fc_install_phases_n, refs, NULL, 0);
	assert_true(n > 10);
	const char *host[] = {"driver/load", "start", "verify"};
	for (size_t i = 0; i < ARRAY_SIZE(host); i++) {
		bool found = false;
		for (int k = 0; k < n; k++)
			if (streq(refs[k].path, host[i]))
				found = refs[k].phase->flags & FC_PHASE_HOST;
		assert_true(found);
	}
	for (int k = 0; k < n; k++)
		if (streq(refs[k].path, "tls") || streq(refs[k].path, "audit"))
			assert_true(refs[k].phase->flags & FC_PHASE_RESERVED);
}

/* ---- convergence with real files ---------------------------------------------------------------------- */

static int write_two(struct fc_ctx *ctx, char *e, size_t l)
{
	struct fc_file_spec a = {
		.path = "/etc/x/a.conf", .data = "alpha\n", .len = 6, .mode = 0644};
	struct fc_file_spec b = {.path = "/etc/x/b.conf", .data = "beta\n", .len = 5, .mode = 0600};
	int r = fc_file_ensure(ctx, &a, e, l);
	if (r >= 0)
		r = fc_file_ensure(ctx, &b, e, l);
	if (r >= 0)
		r = fc_link_ensure(ctx, "/etc/x/link", "/etc/x/a.conf", e, l);
	return r < 0 ? r : 0;
}

static int undo_two(struct fc_ctx *ctx, char *e, size_t l)
{
	int r = fc_undo_recorded(ctx, "files", e, l);
	return r < 0 ? r : 0;
}

static const struct fc_phase files_table[] = {
	{"files", NULL, "write files", write_two, write_two, undo_two, 0},
};

static void test_idempotent_and_interrupted(void **state)
{
	struct env *v = *state;
	char e[256];

	/* 1. an interrupted run: the fs "dies" before the 3rd write */
	v->fake.fail_after_writes = 2;
	assert_int_equal(fc_phases_run(&v->ctx, files_table, 1, NULL, NULL, e, sizeof(e)), -EINTR);
	assert_non_null(strstr(e, "error execution phase files:"));

	/* 2. re-run converges */
	v->fake.fail_after_writes = 0;
	v->ctx.changes = 0;
	assert_int_equal(fc_phases_run(&v->ctx, files_table, 1, NULL, NULL, e, sizeof(e)), 0);
	_cleanup_free_ char *a = fct_read(v->root, "/etc/x/a.conf"),
			    *b = fct_read(v->root, "/etc/x/b.conf");
	assert_string_equal(a, "alpha\n");
	assert_string_equal(b, "beta\n");
	assert_true(v->ctx.changes > 0);

	/* 3. a converged re-run changes nothing */
	v->ctx.changes = 0;
	assert_int_equal(fc_phases_run(&v->ctx, files_table, 1, NULL, NULL, e, sizeof(e)), 0);
	assert_int_equal(v->ctx.changes, 0);

	/* 4. reset removes exactly what was recorded, including the directory it created */
	assert_int_equal(fc_phases_undo(&v->ctx, files_table, 1, e, sizeof(e)), 0);
	assert_false(fct_exists(v->root, "/etc/x/a.conf"));
	assert_false(fct_exists(v->root, "/etc/x"));
	assert_false(fct_exists(v->root, "/etc"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flatten_paths),
		cmocka_unit_test(test_select_filter_and_skip),
		cmocka_unit_test_setup_teardown(test_run_order_host, setup, teardown),
		cmocka_unit_test_setup_teardown(test_run_root_skips_host_phases, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skip_and_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_uses_check, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_wraps_and_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undo_reverse, setup, teardown),
		cmocka_unit_test(test_help_lists_tree),
		cmocka_unit_test_setup_teardown(test_idempotent_and_interrupted, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
