/* SPDX-License-Identifier: Apache-2.0 */
/* Atomic writes, convergent files (user edits kept), dry-run diffs, precise undo, the state file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <dirent.h>

#include <cmocka.h>

#include "test_fc_util.h"

#include "common/strbuf.h"
#include "falcoctl/fs.h"

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
	v->ctx.phase = "config";
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
	free(v);
	return 0;
}

static int count_entries(const char *dir)
{
	int n = 0;
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_atomic_write(void **state)
{
	struct env *v = *state;
	char p[PATH_MAX], e[256];
	struct stat st;
	mode_t old = umask(077);
	snprintf(p, sizeof(p), "%s/f", v->root);
	assert_int_equal(
		fc_fs_real.write_file(NULL, p, "one", 3, 0644, (uid_t)-1, (gid_t)-1, e, sizeof(e)),
		0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644); /* the mode asked for, whatever the umask */
	assert_int_equal(
		fc_fs_real.write_file(NULL, p, "two!", 4, 0600, (uid_t)-1, (gid_t)-1, e, sizeof(e)),
		0);
	_cleanup_free_ char *t = fct_read(v->root, "/f");
	assert_string_equal(t, "two!");
	assert_int_equal(count_entries(v->root), 1); /* no temporary left behind */
	/* a failure leaves nothing behind either */
	snprintf(p, sizeof(p), "%s/missing/f", v->root);
	assert_int_equal(
		fc_fs_real.write_file(NULL, p, "x", 1, 0644, (uid_t)-1, (gid_t)-1, e, sizeof(e)),
		-ENOENT);
	assert_int_equal(count_entries(v->root), 1);
	umask(old);
}

static void test_converge_and_keep_user_edits(void **state)
{
	struct env *v = *state;
	char e[256];
	struct fc_file_spec f = {
		.path = "/etc/falco/falco.yaml", .data = "a: 1\n", .len = 5, .mode = 0644};

	assert_int_equal(fc_file_ensure(&v->ctx, &f, e, sizeof(e)), 1); /* created */
	assert_int_equal(fc_file_ensure(&v->ctx, &f, e, sizeof(e)), 0); /* converged */
	assert_true(fc_state_has_dir(v->ctx.state, "/etc/falco"));

	/* a new default replaces a file nobody touched */
	f.data = "a: 2\n";
	assert_int_equal(fc_file_ensure(&v->ctx, &f, e, sizeof(e)), 1);
	_cleanup_free_ char *t = fct_read(v->root, "/etc/falco/falco.yaml");
	assert_string_equal(t, "a: 2\n");

	/* the user edits it: kept, the new default goes beside it, once */
	fct_write(v->root, "/etc/falco/falco.yaml", "a: 2\nmine: true\n");
	f.data = "a: 3\n";
	assert_int_equal(fc_file_ensure(&v->ctx, &f, e, sizeof(e)), FC_FILE_KEPT);
	_cleanup_free_ char *kept = fct_read(v->root, "/etc/falco/falco.yaml");
	_cleanup_free_ char *nw = fct_read(v->root, "/etc/falco/falco.yaml" FC_NEW_SUFFIX);
	assert_string_equal(kept, "a: 2\nmine: true\n");
	assert_string_equal(nw, "a: 3\n");
	assert_non_null(strstr(
		fct_rep_text(&v->rep),
		"[WARNING LocalChanges]: /etc/falco/falco.yaml was changed since falcoctl wrote it"));
	unsigned before = v->ctx.changes;
	assert_int_equal(fc_file_ensure(&v->ctx, &f, e, sizeof(e)), FC_FILE_KEPT);
	assert_int_equal(v->ctx.changes, before);

	/* a file falcoctl never wrote is not replaced either */
	fct_write(v->root, "/etc/falco/other.yaml", "theirs\n");
	struct fc_file_spec o = {
		.path = "/etc/falco/other.yaml", .data = "ours\n", .len = 5, .mode = 0644};
	assert_int_equal(fc_file_ensure(&v->ctx, &o, e, sizeof(e)), FC_FILE_KEPT);
	_cleanup_free_ char *th = fct_read(v->root, "/etc/falco/other.yaml");
	assert_string_equal(th, "theirs\n");
}

static void test_keep_and_strict(void **state)
{
	struct env *v = *state;
	char e[256];
	struct fc_file_spec local = {.path = "/etc/falco/falco_rules.local.yaml",
				     .data = "# empty\n",
				     .len = 8,
				     .mode = 0644,
				     .policy = FC_FILE_KEEP};
	assert_int_equal(fc_file_ensure(&v->ctx, &local, e, sizeof(e)), 1);
	fct_write(v->root, "/etc/falco/falco_rules.local.yaml", "- rule: mine\n");
	assert_int_equal(fc_file_ensure(&v->ctx, &local, e, sizeof(e)), 0);
	_cleanup_free_ char *t = fct_read(v->root, "/etc/falco/falco_rules.local.yaml");
	assert_string_equal(t, "- rule: mine\n");
	assert_false(fct_exists(v->root, "/etc/falco/falco_rules.local.yaml" FC_NEW_SUFFIX));

	fct_write(v->root, "/usr/bin/falco", "packaged");
	struct fc_file_spec bin = {.path = "/usr/bin/falco",
				   .data = "ours",
				   .len = 4,
				   .mode = 0755,
				   .policy = FC_FILE_STRICT,
				   .binary = true};
	assert_int_equal(fc_file_ensure(&v->ctx, &bin, e, sizeof(e)), -EEXIST);
	assert_non_null(strstr(e, "was not installed by falcoctl; not replacing it"));
}

static void test_mode_fix_and_adopt(void **state)
{
	struct env *v = *state;
	char e[256], p[PATH_MAX];
	struct stat st;
	/* the right content written by a killed run (not recorded), with a wrong mode */
	fct_write(v->root, "/etc/falco/x", "x\n");
	snprintf(p, sizeof(p), "%s/etc/falco/x", v->root);
	chmod(p, 0666);
	struct fc_file_spec f = {.path = "/etc/falco/x", .data = "x\n", .len = 2, .mode = 0640};
	assert_int_equal(fc_file_ensure(&v->ctx, &f, e, sizeof(e)), 1);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_non_null(fc_state_file_sha(v->ctx.state, "/etc/falco/x", NULL)); /* adopted */
	assert_int_equal(fc_file_ensure(&v->ctx, &f, e, sizeof(e)), 0);
}

static void test_dry_run_diff(void **state)
{
	struct env *v = *state;
	char e[256];
	struct fc_file_spec f = {.path = "/etc/falco/falco.yaml",
				 .data = "a: 1\nb: 2\nc: 3\n",
				 .len = 15,
				 .mode = 0644};
	assert_int_equal(fc_file_ensure(&v->ctx, &f, e, sizeof(e)), 1);
	v->ctx.dry_run = true;
	f.data = "a: 1\nb: 20\nc: 3\n";
	f.len = strlen(f.data);
	assert_int_equal(fc_file_ensure(&v->ctx, &f, e, sizeof(e)), 1);
	const char *out = fct_rep_text(&v->rep);
	assert_non_null(strstr(out, "[config] Would update /etc/falco/falco.yaml:\n"
				    "\t--- a/etc/falco/falco.yaml\n"
				    "\t+++ b/etc/falco/falco.yaml\n"
				    "\t@@ -1,3 +1,3 @@\n"
				    "\t a: 1\n"
				    "\t-b: 2\n"
				    "\t+b: 20\n"
				    "\t c: 3\n"));
	_cleanup_free_ char *t = fct_read(v->root, "/etc/falco/falco.yaml");
	assert_string_equal(t, "a: 1\nb: 2\nc: 3\n");
	/* a new file in a new directory: reported, nothing created */
	struct fc_file_spec n = {.path = "/etc/new/dir/f", .data = "x\n", .len = 2, .mode = 0644};
	assert_int_equal(fc_dir_ensure(&v->ctx, "/etc/new/dir", 0755, e, sizeof(e)), 1);
	assert_int_equal(fc_file_ensure(&v->ctx, &n, e, sizeof(e)), 1);
	assert_false(fct_exists(v->root, "/etc/new"));
	assert_non_null(strstr(fct_rep_text(&v->rep), "Would create directory /etc/new"));
}

static void test_diff_hunks(void **state)
{
	struct strbuf sb;
	strbuf_init(&sb, 0);
	const char *a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
	const char *b = "1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n";
	assert_int_equal(fc_diff(a, strlen(a), b, strlen(b), "a", "b", &sb), 0);
	assert_string_equal(strbuf_str(&sb), "--- a\n+++ b\n"
					     "@@ -1,6 +1,6 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n"
					     "@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n");
	strbuf_done(&sb);
}

static void test_links_and_undo(void **state)
{
	struct env *v = *state;
	char e[256], p[PATH_MAX];
	v->ctx.phase = "units";
	assert_int_equal(fc_link_ensure(&v->ctx, "/etc/systemd/system/falco.service",
					"/etc/systemd/system/falco-modern-bpf.service", e,
					sizeof(e)),
			 1);
	assert_int_equal(fc_link_ensure(&v->ctx, "/etc/systemd/system/falco.service",
					"/etc/systemd/system/falco-modern-bpf.service", e,
					sizeof(e)),
			 0);
	/* retargeting our own link is fine, someone else's is not */
	assert_int_equal(fc_link_ensure(&v->ctx, "/etc/systemd/system/falco.service",
					"/etc/systemd/system/falco-kmod.service", e, sizeof(e)),
			 1);
	snprintf(p, sizeof(p), "%s/etc/systemd/system/other.service", v->root);
	assert_int_equal(symlink("/dev/null", p), 0);
	assert_int_equal(
		fc_link_ensure(&v->ctx, "/etc/systemd/system/other.service", "/x", e, sizeof(e)),
		-EEXIST);
	assert_non_null(strstr(e, "which falcoctl did not set up"));

	struct fc_file_spec f1 = {
		.path = "/etc/systemd/system/a.service", .data = "a\n", .len = 2, .mode = 0644};
	struct fc_file_spec f2 = {
		.path = "/etc/systemd/system/b.service", .data = "b\n", .len = 2, .mode = 0644};
	assert_int_equal(fc_file_ensure(&v->ctx, &f1, e, sizeof(e)), 1);
	assert_int_equal(fc_file_ensure(&v->ctx, &f2, e, sizeof(e)), 1);
	fct_write(v->root, "/etc/systemd/system/b.service", "changed\n");

	/* undo: our link and a.service go, the edited b.service stays and so do its directories */
	assert_true(fc_undo_recorded(&v->ctx, "units", e, sizeof(e)) >= 2);
	assert_false(fct_exists(v->root, "/etc/systemd/system/falco.service"));
	assert_false(fct_exists(v->root, "/etc/systemd/system/a.service"));
	assert_true(fct_exists(v->root, "/etc/systemd/system/b.service"));
	assert_true(fct_exists(v->root, "/etc/systemd/system/other.service"));
	assert_non_null(strstr(fct_rep_text(&v->rep), "keeping /etc/systemd/system/b.service"));
	assert_null(fc_state_array(v->ctx.state, "units", "files")
			    ? cJSON_GetArrayItem(fc_state_array(v->ctx.state, "units", "files"), 0)
			    : NULL);
}

/* dpkg-query as a package database answers: falco.yaml belongs to "falco", broken.yaml makes it fail */
static char dpkg_admindir[PATH_MAX];
static int dpkg_run(void *d, const char *const *argv, unsigned t, char **out, char *e, size_t l)
{
	(void)d, (void)t, (void)e, (void)l;
	if (strcmp(argv[0], "dpkg-query") != 0) {
		*out = strdup("");
		return 127;
	}
	snprintf(dpkg_admindir, sizeof(dpkg_admindir), "%s", argv[1]);
	if (strcmp(argv[3], "/etc/falco/falco.yaml") == 0) {
		*out = strdup("diversion by x from: /etc/falco/falco.yaml\n"
			      "diversion by x to: /etc/falco/falco.yaml.x\n"
			      "falco, falco-extra: /etc/falco/falco.yaml\n");
		return 0;
	}
	if (strcmp(argv[3], "/etc/falco/broken.yaml") == 0) {
		*out = strdup("dpkg-query: error: database is locked\n");
		return 2;
	}
	*out = strdup("dpkg-query: no path found matching pattern\n");
	return 1;
}

/* reset leaves a file a package owns (adopted from the deb, or a package installed over it) to the package */
static void test_undo_keeps_package_files(void **state)
{
	struct env *v = *state;
	char e[256], want[PATH_MAX];
	struct fc_file_spec f1 = {
		.path = "/etc/falco/falco.yaml", .data = "a\n", .len = 2, .mode = 0644};
	struct fc_file_spec f2 = {
		.path = "/etc/falco/other.yaml", .data = "b\n", .len = 2, .mode = 0644};
	struct fc_file_spec f3 = {
		.path = "/etc/falco/broken.yaml", .data = "c\n", .len = 2, .mode = 0644};

	assert_int_equal(fc_file_ensure(&v->ctx, &f1, e, sizeof(e)), 1);
	assert_int_equal(fc_file_ensure(&v->ctx, &f2, e, sizeof(e)), 1);
	v->ops.proc.run = dpkg_run;
	/* no dpkg database in this root: nothing is asked, both go (and the directories falcoctl made) */
	assert_true(fc_undo_recorded(&v->ctx, "config", e, sizeof(e)) >= 2);
	assert_false(fct_exists(v->root, "/etc/falco/falco.yaml"));
	assert_false(fct_exists(v->root, "/etc/falco/other.yaml"));

	fct_write(v->root, "/var/lib/dpkg/status", "");
	assert_int_equal(fc_file_ensure(&v->ctx, &f1, e, sizeof(e)), 1);
	assert_int_equal(fc_file_ensure(&v->ctx, &f2, e, sizeof(e)), 1);
	assert_int_equal(fc_undo_recorded(&v->ctx, "config", e, sizeof(e)),
			 1); /* /etc/falco stays */
	assert_true(fct_exists(v->root, "/etc/falco/falco.yaml"));
	assert_false(fct_exists(v->root, "/etc/falco/other.yaml"));
	assert_non_null(strstr(fct_rep_text(&v->rep),
			       "Keeping /etc/falco/falco.yaml: it belongs to the package falco"));
	snprintf(want, sizeof(want), "--admindir=%s/var/lib/dpkg", v->root);
	assert_string_equal(dpkg_admindir, want); /* the managed root's database, not the host's */

	/* a query that fails stops the reset with the reason, and removes nothing */
	assert_int_equal(fc_file_ensure(&v->ctx, &f3, e, sizeof(e)), 1);
	assert_true(fc_undo_recorded(&v->ctx, "config", e, sizeof(e)) < 0);
	assert_non_null(strstr(e, "database is locked"));
	assert_true(fct_exists(v->root, "/etc/falco/broken.yaml"));
}

static void test_state_roundtrip(void **state)
{
	struct env *v = *state;
	char e[256], p[PATH_MAX];
	struct fc_state *st = v->ctx.state;
	assert_true(fc_state_empty(st));
	assert_int_equal(fc_state_add_file(st, "config", "/etc/falco/falco.yaml", "abc", 0644), 0);
	assert_int_equal(fc_state_add_file(st, "rules", "/etc/falco/falco.yaml", "def", 0600),
			 0); /* moved */
	assert_int_equal(fc_state_add_dir(st, "config", "/etc/falco"), 0);
	assert_int_equal(fc_state_add_link(st, "units", "/l", "/t"), 0);
	assert_int_equal(fc_state_set(st, "driver/select", "type", "kmod"), 0);
	assert_int_equal(fc_state_mark_completed(st, "config", true), 1);
	assert_int_equal(fc_state_mark_completed(st, "config", true), 0); /* first time kept */
	assert_int_equal(fc_commit(&v->ctx, e, sizeof(e)), 0);

	struct fc_state *back = NULL;
	assert_int_equal(fc_path(&v->ctx, FC_STATE_FILE, p), 0);
	assert_int_equal(fc_state_load(p, &back, e, sizeof(e)), 0);
	const char *ph = NULL;
	assert_string_equal(fc_state_file_sha(back, "/etc/falco/falco.yaml", &ph), "def");
	assert_string_equal(ph, "rules");
	assert_true(fc_state_has_dir(back, "/etc/falco"));
	assert_string_equal(fc_state_link_target(back, "/l"), "/t");
	assert_string_equal(fc_state_get(back, "driver/select", "type"), "kmod");
	assert_true(fc_state_completed(back, "config"));
	assert_false(fc_state_empty(back));
	fc_state_free(back);

	struct stat sst;
	assert_int_equal(stat(p, &sst), 0);
	assert_int_equal(sst.st_mode & 0777, 0600);

	fct_write(v->root, FC_STATE_FILE, "{not json");
	assert_int_equal(fc_state_load(p, &back, e, sizeof(e)), -EINVAL);
	assert_non_null(strstr(e, "is corrupt"));
	fct_write(v->root, FC_STATE_FILE, "{\"version\": 99, \"phases\": {}}");
	assert_int_equal(fc_state_load(p, &back, e, sizeof(e)), -EINVAL);
	assert_non_null(strstr(e, "unsupported version"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_atomic_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_converge_and_keep_user_edits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_keep_and_strict, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mode_fix_and_adopt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_diff, setup, teardown),
		cmocka_unit_test(test_diff_hunks),
		cmocka_unit_test_setup_teardown(test_links_and_undo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_undo_keeps_package_files, setup, teardown),
		cmocka_unit_test_setup_teardown(test_state_roundtrip, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
