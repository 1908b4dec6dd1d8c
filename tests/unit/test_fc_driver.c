/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driver management: target ids from sample os-release files (upstream's special cases), artifact names and URL
 * templating, auto selection with its reasons, signed fetch through a fake HTTP table, and the kmod load/unload
 * paths through an injected kmod ops table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_fc_util.h"

#include "falcoctl/driver.h"
#include "falcoctl/fs.h"

struct target_case {
	const char *os_release; /* /etc/os-release, NULL = none */
	const char *extra_path; /* another file to create (fallbacks, minikube) */
	const char *extra_text;
	const char *release, *version;
	const char *target, *fixed_release, *fixed_version;
};

static const struct target_case cases[] = {
	{"NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"22.04\"\n", NULL, NULL, "5.15.0-1009-aws",
	 "#9-Ubuntu SMP Thu Apr 21 10:41:12 UTC 2022", "ubuntu-aws", "5.15.0-1009-aws", "9"},
	{"ID=ubuntu\n", NULL, NULL, "6.8.0-45-generic",
	 "#45~22.04.1-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 2024", "ubuntu-generic",
	 "6.8.0-45-generic", "45~22.04.1"},
	{"ID=ubuntu\n", NULL, NULL, "5.0.0-1028-aws-5.0", "#30-Ubuntu SMP", "ubuntu-aws",
	 "5.0.0-1028-aws-5.0", "30"},
	{"ID=ubuntu\n", NULL, NULL, "6.2.0-rc1", "#1 SMP", "ubuntu-generic", "6.2.0-rc1", "1"},
	{"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n", NULL, NULL,
	 "6.1.0-18-amd64", "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)", "debian",
	 "6.1.76-1-amd64", "1"},
	{"ID=debian\n", NULL, NULL, "5.10.0-0.deb10.22-rt-amd64", "5.10.178-3", "debian",
	 "5.10.178-3-rt-amd64", "1"},
	{"ID=debian\n", NULL, NULL, "5.10.0-0.deb10.22-cloud-arm64",
	 "#1 SMP Debian 5.10.178-3 (2023-04-22)", "debian", "5.10.178-3-cloud-arm64", "1"},
	{"ID=debian\n", NULL, NULL, "6.5.3-1~bpo12+1-rt-amd64", "1", "debian",
	 "6.5.3-1~bpo12+1-rt-amd64", "1"},
	{"ID=\"amzn\"\nVERSION_ID=\"2\"\n", NULL, NULL, "5.10.205-195.807.amzn2.x86_64",
	 "#1 SMP Tue Jan 2 2024", "amazonlinux2", "5.10.205-195.807.amzn2.x86_64", "1"},
	{"ID=\"amzn\"\nVERSION_ID=\"2023\"\n", NULL, NULL, "6.1.72-96.166.amzn2023.x86_64",
	 "#1 SMP", "amazonlinux2023", "6.1.72-96.166.amzn2023.x86_64", "1"},
	{"ID=\"amzn\"\nVERSION_ID=\"2018.03\"\n", NULL, NULL, "4.14.355", "#1 SMP", "amazonlinux",
	 "4.14.355", "1"},
	{"ID=bottlerocket\nVERSION_ID=1.19.2\nVARIANT_ID=aws-k8s-1.28\n", NULL, NULL, "6.1.72",
	 "#1 SMP", "bottlerocket", "6.1.72", "1_1.19.2-aws"},
	{"ID=buildroot\n", "/etc/VERSION", "v1.26.0-1655407986-14197\n", "5.10.57", "#1 SMP",
	 "minikube", "5.10.57", "1_1.26.0"},
	{"ID=talos\nVERSION_ID=v1.6.0\n", NULL, NULL, "6.1.67-talos", "#1 SMP", "talos",
	 "6.1.67-talos", "1_v1.6.0"},
	{"ID=flatcar\nVERSION_ID=3510.2.0\n", NULL, NULL, "5.15.119-flatcar", "#1 SMP", "flatcar",
	 "3510.2.0", "1"},
	{"ID=\"rhel\"\nVERSION_ID=\"9.3\"\n", NULL, NULL, "5.14.0-362.8.1.el9_3.x86_64",
	 "#1 SMP PREEMPT_DYNAMIC", "rhel", "5.14.0-362.8.1.el9_3.x86_64", "1"},
	{"ID=cos\nBUILD_ID=17800.66.78\n", NULL, NULL, "6.1.58+", "#1 SMP", "cos", "6.1.58+", "1"},
	{"ID=fedora\n", NULL, NULL, "6.6.8-200.fc39.x86_64", "#1 SMP PREEMPT_DYNAMIC", "fedora",
	 "6.6.8-200.fc39.x86_64", "1"},
	{NULL, "/etc/centos-release", "CentOS Linux release 7.9.2009 (Core)\n",
	 "3.10.0-1160.el7.x86_64", "#1 SMP", "centos", "3.10.0-1160.el7.x86_64", "1"},
	{NULL, "/usr/lib/os-release", "ID=arch\n", "6.7.0-arch3-1", "#1 SMP PREEMPT_DYNAMIC",
	 "arch", "6.7.0-arch3-1", "1"},
	{NULL, NULL, NULL, "6.1.0", "#7 SMP", "undetermined", "6.1.0", "7"},
};

static void test_target_ids(void **state)
{
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct target_case *c = &cases[i];
		char *root = fct_mkdtemp(), e[256];
		struct fc_os_release os;
		struct fc_target t;
		if (c->os_release)
			fct_write(root, "/etc/os-release", c->os_release);
		if (c->extra_path)
			fct_write(root, c->extra_path, c->extra_text);
		assert_int_equal(fc_os_release_discover(root, &os), 0);
		assert_int_equal(
			fc_target_compute(&os, c->release, c->version, "x86_64", &t, e, sizeof(e)),
			0);
		print_message("  %-45s -> %s %s %s\n", c->release, t.target_id, t.fixed_release,
			      t.fixed_version);
		assert_string_equal(t.target_id, c->target);
		assert_string_equal(t.fixed_release, c->fixed_release);
		assert_string_equal(t.fixed_version, c->fixed_version);
		fct_rm_rf(root);
		free(root);
	}
}

static void test_names_and_urls(void **state)
{
	struct fc_target t = {.target_id = "debian",
			      .fixed_release = "6.1.76-1-amd64",
			      .fixed_version = "1",
			      .arch = "x86_64"};
	char file[256], url[1024], esc[64];
	assert_int_equal(fc_driver_filename("falco", &t, file, sizeof(file)), 0);
	assert_string_equal(file, "falco_debian_6.1.76-1-amd64_1.ko");
	assert_int_equal(fc_driver_url("https://download.falco.org/driver/", "8.0.0+driver",
				       "x86_64", file, url, sizeof(url)),
			 0);
	assert_string_equal(
		url,
		"https://download.falco.org/driver/8.0.0%2Bdriver/x86_64/falco_debian_6.1.76-1-amd64_1.ko");
	assert_int_equal(fc_url_escape("a b/c~d_e.f-g", esc, sizeof(esc)), 0);
	assert_string_equal(esc, "a+b%2Fc~d_e.f-g");
	assert_int_equal(fc_driver_filename("falco", &t, file, 10), -ENAMETOOLONG);
	assert_int_equal(fc_url_escape("%%%%%%%%%%", esc, 8), -ENAMETOOLONG);
}

/* ---- with a context and fake ops ----------------------------------------------------------------------- */

#define REPO1	  "https://one.example/driver"
#define REPO2	  "https://two.example/driver"
#define FILE_NAME "falco_debian_6.1.76-1-amd64_1.ko"
#define DIR1	  REPO1 "/0.1.0/x86_64/"
#define DIR2	  REPO2 "/0.1.0/x86_64/"

struct env {
	char *root;
	struct fc_settings cfg;
	struct fct_rep rep;
	struct fct_fake fake;
	struct fc_ops ops;
	struct fc_ctx ctx;
	EVP_PKEY *key, *other;
	char sums[256], module[64];
	unsigned char sig[64], bad_sig[64];
};

static int setup(void **state)
{
	struct env *v = calloc(1, sizeof(*v));
	char hex[65];
	v->root = fct_mkdtemp();
	chmod(v->root, 0755);
	fct_settings(&v->cfg, v->root);
	fct_set(&v->cfg, FC_K_DRIVER_VERSION, "0.1.0");
	fct_rep_init(&v->rep, FC_OUTPUT_TEXT);
	fct_fake_init(&v->fake, &v->ops);
	fct_write(v->root, "/etc/os-release", "ID=debian\n");
	v->key = fct_keygen();
	v->other = fct_keygen();
	char *pem = fct_pubpem(v->key);
	fct_write(v->root, "/etc/falcoctl/keys/repo.pem", pem);
	free(pem);
	/* the repository: a module, its signed list, and a list signed by someone else */
	snprintf(v->module, sizeof(v->module), "\177ELF fake falco module");
	fc_sha256_hex(v->module, strlen(v->module), hex);
	snprintf(v->sums, sizeof(v->sums), "%s  %s\n", hex, FILE_NAME);
	fct_sign(v->key, v->sums, strlen(v->sums), v->sig);
	fct_sign(v->other, v->sums, strlen(v->sums), v->bad_sig);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	struct env *v = *state;
	fc_ctx_done(&v->ctx);
	fct_rep_done(&v->rep);
	fc_settings_done(&v->cfg);
	EVP_PKEY_free(v->key);
	EVP_PKEY_free(v->other);
	fct_rm_rf(v->root);
	free(v->root);
	free(v);
	return 0;
}

static void serve(struct env *v, const char *dir, const unsigned char *sig, const char *module)
{
	static char urls[16][512];
	static int n;
	const char *names[] = {"SHA256SUMS", "SHA256SUMS.sig", FILE_NAME};
	const void *bodies[] = {v->sums, sig, module};
	size_t lens[] = {strlen(v->sums), 64, strlen(module)};
	for (int i = 0; i < 3; i++) {
		snprintf(urls[n % 16], sizeof(urls[0]), "%s%s", dir, names[i]);
		fct_http_add(&v->fake, urls[n % 16], bodies[i], lens[i]);
		n++;
	}
}

static void open_ctx(struct env *v)
{
	fct_ctx(&v->ctx, &v->cfg, &v->rep.rep, &v->ops);
	/* the fake ops stand for the running kernel; files stay under the temporary root */
}

static void test_select_reasons(void **state)
{
	struct env *v = *state;
	struct fc_candidate c[_FC_DRIVER_MAX];
	size_t n;
	char e[2048];
	open_ctx(v);
	char **allowed = fc_driver_allowed(&v->ctx);
	assert_string_equal(allowed[0], "modern_ebpf");

	/* everything there: modern_ebpf, kmod never probed */
	assert_int_equal(fc_driver_select(&v->ctx, allowed, c, &n, e, sizeof(e)),
			 FC_DRIVER_MODERN_EBPF);
	assert_int_equal(n, 1);
	assert_true(c[0].ok);

	/* no ring buffer, no modules: both rejected, each with its reason */
	v->fake.ringbuf = 0;
	assert_int_equal(fc_driver_select(&v->ctx, allowed, c, &n, e, sizeof(e)), -ENODEV);
	assert_int_equal(n, 2);
	assert_string_equal(c[0].reason, "fake: no ringbuf");
	assert_non_null(strstr(c[1].reason, "CONFIG_MODULES"));
	assert_non_null(strstr(
		e, "no supported driver for this kernel: modern_ebpf: fake: no ringbuf; kmod: "));

	/* modules but no repository and nothing cached */
	v->fake.modules = true;
	assert_int_equal(fc_driver_select(&v->ctx, allowed, c, &n, e, sizeof(e)), -ENODEV);
	assert_non_null(strstr(c[1].reason, "no driver repository configured"));
	assert_non_null(strstr(c[1].reason, FILE_NAME));

	/* a repository that lists the module in a signed SHA256SUMS: kmod */
	fct_set(&v->cfg, FC_K_DRIVER_REPOS, REPO1);
	serve(v, DIR1, v->sig, v->module);
	int k = fc_driver_select(&v->ctx, allowed, c, &n, e, sizeof(e));
	if (k != FC_DRIVER_KMOD)
		print_message("%s\n", e);
	assert_int_equal(k, FC_DRIVER_KMOD);
	assert_true(c[1].ok);
	assert_non_null(strstr(c[1].reason, "listed in " REPO1 " (signed by repo.pem)"));
	fc_strv_free(allowed);

	/* "auto" expands, duplicates dropped */
	fct_set(&v->cfg, FC_K_DRIVER_TYPE, "kmod,auto");
	allowed = fc_driver_allowed(&v->ctx);
	assert_int_equal(fc_strv_len(allowed), 2);
	assert_string_equal(allowed[0], "kmod");
	assert_string_equal(allowed[1], "modern_ebpf");
	fc_strv_free(allowed);
}

static void test_fetch_repo_order_and_trust(void **state)
{
	struct env *v = *state;
	struct fc_target t;
	struct fc_artifact a;
	char e[4096];
	fct_set(&v->cfg, FC_K_DRIVER_REPOS, REPO1 ";" REPO2);
	open_ctx(v);
	v->ctx.phase = "driver/fetch";
	assert_int_equal(fc_driver_target(&v->ctx, &t, e, sizeof(e)), 0);
	assert_int_equal(fc_driver_artifact(&v->ctx, &t, &a, e, sizeof(e)), 0);
	assert_string_equal(a.file, FILE_NAME);
	assert_string_equal(a.rel, FC_STATE_DIR "/drivers/0.1.0/x86_64/" FILE_NAME);

	/* repo1 signs with an unknown key, repo2 serves a module that does not match: nothing usable */
	serve(v, DIR1, v->bad_sig, v->module);
	serve(v, DIR2, v->sig, "tampered module");
	assert_int_equal(fc_driver_fetch(&v->ctx, &a, false, e, sizeof(e)), -ENOENT);
	assert_non_null(strstr(e, REPO1 ": SHA256SUMS signature: no pinned key"));
	assert_non_null(strstr(e, REPO2 ": " FILE_NAME ": checksum mismatch"));
	assert_false(fct_exists(v->root, a.rel)); /* nothing unverified is ever written */
	assert_int_equal(fc_driver_cache_verify(&v->ctx, &a, e, sizeof(e)), 0);

	/* repo1 404s, repo2 is good: fetched from repo2, cached with its proof */
	v->fake.nhttp = 0;
	serve(v, DIR2, v->sig, v->module);
	assert_int_equal(fc_driver_fetch(&v->ctx, &a, false, e, sizeof(e)), 0);
	_cleanup_free_ char *cached = fct_read(v->root, a.rel);
	assert_string_equal(cached, v->module);
	assert_true(fct_exists(v->root,
			       FC_STATE_DIR "/drivers/0.1.0/x86_64/" FILE_NAME ".SHA256SUMS.sig"));
	assert_int_equal(fc_driver_cache_verify(&v->ctx, &a, e, sizeof(e)), 1);
	assert_non_null(strstr(fct_rep_text(&v->rep), "[WARNING DriverRepo]: " REPO1));

	/* the cache is re-verified: a modified module is refused */
	char full[PATH_MAX];
	snprintf(full, sizeof(full), "%s%s", v->root, a.rel);
	assert_int_equal(write_file_atomic(full, "evil", 4, 0644, NULL, 0), 0);
	assert_int_equal(fc_driver_cache_verify(&v->ctx, &a, e, sizeof(e)), -EBADMSG);
	assert_non_null(strstr(e, "does not match its signed checksum"));

	/* a size limit below the module */
	fct_set(&v->cfg, FC_K_DRIVER_MAXSIZE, "8");
	assert_int_equal(fc_driver_fetch(&v->ctx, &a, false, e, sizeof(e)), -ENOENT);
	assert_non_null(strstr(e, "larger than the limit"));
}

static void test_fetch_dry_run_touches_nothing(void **state)
{
	struct env *v = *state;
	struct fc_target t;
	struct fc_artifact a;
	char e[1024];
	fct_set(&v->cfg, FC_K_DRIVER_REPOS, REPO1);
	fct_set(&v->cfg, FC_K_DRY_RUN, "true");
	open_ctx(v);
	fc_driver_target(&v->ctx, &t, e, sizeof(e));
	fc_driver_artifact(&v->ctx, &t, &a, e, sizeof(e));
	assert_int_equal(fc_driver_fetch(&v->ctx, &a, false, e, sizeof(e)), 0);
	assert_int_equal(v->fake.gets, 0);
	assert_false(fct_exists(v->root, FC_STATE_DIR));
}

static void test_kmod_load_unload(void **state)
{
	struct env *v = *state;
	char e[2048];
	fct_set(&v->cfg, FC_K_DRIVER_REPOS, REPO1);
	open_ctx(v);
	v->ctx.phase = "driver/load";

	/* 1. a kernel without module support: the error says exactly that */
	assert_int_equal(fc_driver_kmod_load(&v->ctx, e, sizeof(e)), -ENOSYS);
	assert_non_null(strstr(e, "without loadable module support (CONFIG_MODULES)"));
	assert_int_equal(v->fake.inserts, 0);

	/* 2. fetched, verified, inserted from the cache path, recorded for reset */
	v->fake.modules = true;
	serve(v, DIR1, v->sig, v->module);
	assert_int_equal(fc_driver_kmod_load(&v->ctx, e, sizeof(e)), 1);
	assert_int_equal(v->fake.inserts, 1);
	assert_non_null(strstr(v->fake.inserted, FC_STATE_DIR "/drivers/0.1.0/x86_64/" FILE_NAME));
	assert_string_equal(fc_state_get(v->ctx.state, "driver/load", "kmod"), "falco");

	/* 3. loaded already: nothing to do */
	assert_int_equal(fc_driver_kmod_load(&v->ctx, e, sizeof(e)), 0);
	assert_int_equal(v->fake.inserts, 1);

	/* 4. unload retries while the module is busy */
	v->fake.remove_busy_times = 2;
	assert_int_equal(fc_driver_kmod_unload(&v->ctx, e, sizeof(e)), 1);
	assert_int_equal(v->fake.removes, 3);
	assert_null(fc_state_get(v->ctx.state, "driver/load", "kmod"));
	assert_int_equal(fc_driver_kmod_unload(&v->ctx, e, sizeof(e)), 0);

	/* 5. an insert error comes back as is */
	v->fake.insert_err = -ENOEXEC;
	assert_int_equal(fc_driver_kmod_load(&v->ctx, e, sizeof(e)), -ENOEXEC);

	/* 6. a tampered cache is never loaded */
	v->fake.insert_err = 0;
	fct_write(v->root, FC_STATE_DIR "/drivers/0.1.0/x86_64/" FILE_NAME, "evil");
	assert_int_equal(fc_driver_kmod_load(&v->ctx, e, sizeof(e)), -EBADMSG);
	assert_non_null(strstr(e, "refusing to load"));
	assert_int_equal(v->fake.inserts, 2);
}

static void test_kmod_strerror(void **state)
{
	assert_non_null(strstr(fc_kmod_strerror(-ENOEXEC), "invalid module format"));
	assert_non_null(strstr(fc_kmod_strerror(-EPERM), "CAP_SYS_MODULE"));
	assert_non_null(strstr(fc_kmod_strerror(-ENOSYS), "CONFIG_MODULES"));
	assert_non_null(strstr(fc_kmod_strerror(-EKEYREJECTED), "signature"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_ids),
		cmocka_unit_test(test_names_and_urls),
		cmocka_unit_test_setup_teardown(test_select_reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_repo_order_and_trust, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fetch_dry_run_touches_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_kmod_load_unload, setup, teardown),
		cmocka_unit_test(test_kmod_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
