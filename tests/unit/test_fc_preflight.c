/* SPDX-License-Identifier: Apache-2.0 */
/* Preflight: every check runs, warnings print as they happen, errors are reported once, ignores demote. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_fc_util.h"

#include "falcoctl/preflight.h"

struct env {
	char *root;
	struct fc_settings cfg;
	struct fct_rep rep;
	struct fct_fake fake;
	struct fc_ops ops;
	struct fc_ctx ctx;
	char err[8192];
};

static int setup(void **state)
{
	struct env *v = calloc(1, sizeof(*v));
	v->root = fct_mkdtemp();
	fct_settings(&v->cfg, NULL); /* the host: "/" */
	fct_rep_init(&v->rep, FC_OUTPUT_TEXT);
	fct_fake_init(&v->fake, &v->ops);
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

/* Runs preflight with ignore (a comma list, may be NULL); the privilege check is ignored when not root. */
static int run(struct env *v, const char *ignore)
{
	char list[256], e[256];
	snprintf(list, sizeof(list), "%s%s%s", ignore ? ignore : "", ignore ? "," : "",
		 geteuid() == 0 ? "" : "IsPrivilegedUser");
	if (list[0])
		fct_set(&v->cfg, FC_K_INSTALL_IGNOREPREFLIGHT, list);
	assert_int_equal(fc_ctx_init(&v->ctx, &v->cfg, &v->rep.rep, &v->ops, e, sizeof(e)), 0);
	v->ctx.phase = "preflight";
	struct fc_preflight pf;
	fc_preflight_init(&pf, fc_cfg_list(&v->cfg, FC_K_INSTALL_IGNOREPREFLIGHT));
	v->err[0] = '\0';
	int r = fc_preflight_run_checks(&v->ctx, &pf, v->err, sizeof(v->err));
	fc_preflight_done(&pf);
	return r;
}

static void test_all_good(void **state)
{
	struct env *v = *state;
	v->fake.booted = true;
	assert_int_equal(run(v, NULL), 0);
	const char *out = fct_rep_text(&v->rep);
	assert_non_null(strstr(out, "[preflight] Running pre-flight checks"));
	assert_null(strstr(out, "ERROR"));
	/* the default order prefers modern_ebpf: a kernel without modules is not even worth a warning */
	assert_null(strstr(out, "[WARNING KernelModules]"));
}

static void test_errors_collected_once(void **state)
{
	struct env *v = *state;
	v->fake.ringbuf = 0;	 /* modern_ebpf impossible */
	v->fake.modules = false; /* kmod impossible */
	v->fake.port_8765_free = 0;
	v->fake.port_9765_free = 0;
	assert_int_equal(run(v, NULL), -EINVAL);
	const char *out = fct_rep_text(&v->rep);
	/* warnings were printed as they happened, errors only in the summary */
	assert_non_null(strstr(out, "\t[WARNING SystemdRunning]: systemd is not running as PID 1"));
	assert_non_null(strstr(out, "\t[WARNING Port-9765]: port 9765 is in use"));
	assert_null(strstr(out, "ERROR"));
	assert_non_null(strstr(v->err, "[preflight] Some fatal errors occurred:\n"));
	assert_non_null(strstr(v->err, "\t[ERROR BPFRingBuffer]: fake: no ringbuf"));
	assert_non_null(strstr(
		v->err,
		"\t[ERROR KernelModules]: fake: this kernel was built without loadable module"));
	assert_non_null(strstr(v->err, "\t[ERROR Port-8765]: port 8765 is in use"));
	assert_non_null(strstr(v->err, "--ignore-preflight-errors=..."));
	/* each error once */
	const char *first = strstr(v->err, "[ERROR Port-8765]");
	assert_null(strstr(first + 1, "[ERROR Port-8765]"));
}

static void test_fallback_driver_is_a_warning(void **state)
{
	struct env *v = *state;
	v->fake.attach = 0; /* a kernel that refuses the tp_btf attach */
	v->fake.modules = true;
	assert_int_equal(run(v, NULL), 0);
	assert_non_null(
		strstr(fct_rep_text(&v->rep),
		       "[WARNING BPFTracing]: fake: no attach (another driver type will be used)"));
}

static void test_ignore(void **state)
{
	struct env *v = *state;
	v->fake.port_8765_free = 0;
	v->fake.caps = 0;
	assert_int_equal(run(v, "port-8765"), geteuid() == 0 ? -EINVAL : -EINVAL);
	/* only the capability error remains (names are case-insensitive) */
	assert_non_null(strstr(
		fct_rep_text(&v->rep),
		"[WARNING Port-8765]: port 8765 is in use; it is needed by falco's web server (/healthz, /metrics) (ignored)"));
	assert_null(strstr(v->err, "Port-8765"));
	if (geteuid() == 0)
		assert_non_null(
			strstr(v->err, "[ERROR Capabilities]: missing CAP_BPF and CAP_PERFMON"));
}

static void test_ignore_all(void **state)
{
	struct env *v = *state;
	v->fake.btf = 0;
	v->fake.port_8765_free = 0;
	assert_int_equal(run(v, "all"), 0);
	assert_non_null(strstr(fct_rep_text(&v->rep), "[WARNING BTF]: fake: no btf (ignored)"));
}

static void test_root_skips_host_checks(void **state)
{
	struct env *v = *state;
	fct_set(&v->cfg, FC_K_ROOT, v->root);
	v->fake.btf = 0;
	v->fake.port_8765_free = 0;
	assert_int_equal(run(v, NULL), 0);
	const char *out = fct_rep_text(&v->rep);
	assert_null(strstr(out, "BTF"));
	assert_null(strstr(out, "Port-8765"));
	assert_null(strstr(out, "SystemdRunning"));
	/* an existing falco that falcoctl did not install is reported */
	fct_write(v->root, FC_FALCO_BIN, "#!/bin/sh\n");
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s" FC_FALCO_BIN, v->root);
	chmod(p, 0755);
	fc_reporter_init(&v->rep.rep, v->rep.f, v->rep.f, FC_OUTPUT_TEXT, 1);
	assert_int_equal(run(v, NULL), 0);
	assert_non_null(
		strstr(fct_rep_text(&v->rep), "[WARNING ExistingInstallation]: /usr/bin/falco"));
}

static void test_json_output(void **state)
{
	struct env *v = *state;
	fc_reporter_init(&v->rep.rep, v->rep.f, v->rep.f, FC_OUTPUT_JSON, 0);
	assert_int_equal(run(v, NULL), 0);
	const char *out = fct_rep_text(&v->rep);
	assert_non_null(strstr(
		out,
		"\"level\":\"info\",\"phase\":\"preflight\",\"msg\":\"Running pre-flight checks\"}"));
	assert_non_null(strstr(
		out, "\"level\":\"warning\",\"phase\":\"preflight\",\"check\":\"SystemdRunning\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_all_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors_collected_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fallback_driver_is_a_warning, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignore, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ignore_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_skips_host_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json_output, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
