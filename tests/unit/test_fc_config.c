/* SPDX-License-Identifier: Apache-2.0 */
/* falcoctl settings: precedence flag > env > file > default, parsing, falcoctl.yaml, editing driver.type. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_fc_util.h"
#include "falcoctl/install.h"

static void test_defaults(void **state)
{
	struct fc_settings s;
	assert_int_equal(fc_settings_init(&s), 0);
	assert_string_equal(fc_cfg_str(&s, FC_K_ROOT), "/");
	assert_string_equal(fc_cfg_list(&s, FC_K_DRIVER_TYPE)[0], "modern_ebpf");
	assert_string_equal(fc_cfg_list(&s, FC_K_DRIVER_TYPE)[1], "kmod");
	assert_null(fc_cfg_list(&s, FC_K_DRIVER_TYPE)[2]);
	assert_null(fc_cfg_list(&s, FC_K_DRIVER_REPOS)[0]);
	assert_int_equal(fc_cfg_num(&s, FC_K_DRIVER_HTTPTIMEOUT), 60000);
	assert_int_equal(fc_cfg_num(&s, FC_K_DRIVER_MAXSIZE), 64u << 20);
	assert_false(fc_cfg_bool(&s, FC_K_DRY_RUN));
	assert_int_equal(s.src[FC_K_DRIVER_TYPE], FC_SRC_DEFAULT);
	fc_settings_done(&s);
}

static void test_precedence(void **state)
{
	char *root = fct_mkdtemp(), path[PATH_MAX], e[512];
	struct fc_settings s;
	snprintf(path, sizeof(path), "%s/falcoctl.yaml", root);
	fct_write(root, "/falcoctl.yaml",
		  "indexes: [{name: x, url: y}]   # upstream keys are ignored\n"
		  "Driver:\n"
		  "  TYPE: [kmod]\n"
		  "  name: fromfile\n"
		  "  repos:\n"
		  "    - https://file/a\n"
		  "    - https://file/b\n"
		  "  httpTimeout: 2m\n"
		  "  version: 1.2.3\n");
	char *env[] = {(char *)"FALCOCTL_DRIVER_NAME=fromenv",
		       (char *)"FALCOCTL_DRIVER_REPOS=https://env/1;https://env/2",
		       (char *)"PATH=/usr/bin", (char *)"FALCOCTL_DRIVER_VERSION=9.9.9", NULL};
	assert_int_equal(fc_settings_init(&s), 0);

	/* main applies flags first, then env, then the file: each keeps the highest source */
	assert_int_equal(fc_settings_set(&s, FC_K_DRIVER_VERSION, "7.7.7", FC_SRC_FLAG,
					 "flag --driver-version", e, sizeof(e)),
			 0);
	assert_int_equal(fc_settings_load_env(&s, env, e, sizeof(e)), 0);
	assert_int_equal(fc_settings_load_file(&s, path, false, e, sizeof(e)), 0);

	assert_string_equal(fc_cfg_str(&s, FC_K_DRIVER_VERSION),
			    "7.7.7"); /* flag beats env and file */
	assert_int_equal(s.src[FC_K_DRIVER_VERSION], FC_SRC_FLAG);
	assert_string_equal(fc_cfg_str(&s, FC_K_DRIVER_NAME), "fromenv"); /* env beats file */
	assert_string_equal(s.origin[FC_K_DRIVER_NAME], "env FALCOCTL_DRIVER_NAME");
	assert_string_equal(fc_cfg_list(&s, FC_K_DRIVER_REPOS)[1], "https://env/2");
	assert_string_equal(fc_cfg_list(&s, FC_K_DRIVER_TYPE)[0],
			    "kmod"); /* file beats default (keys any case) */
	assert_null(fc_cfg_list(&s, FC_K_DRIVER_TYPE)[1]);
	assert_int_equal(s.src[FC_K_DRIVER_TYPE], FC_SRC_FILE);
	assert_non_null(strstr(s.origin[FC_K_DRIVER_TYPE], "falcoctl.yaml:3"));
	assert_int_equal(fc_cfg_num(&s, FC_K_DRIVER_HTTPTIMEOUT), 120000);
	assert_string_equal(fc_cfg_str(&s, FC_K_CONFIG),
			    FC_DEFAULT_CONFIG); /* untouched: default */

	/* a lower source never overrides a higher one, whatever the order */
	assert_int_equal(
		fc_settings_set(&s, FC_K_DRIVER_VERSION, "0.0.1", FC_SRC_FILE, "x", e, sizeof(e)),
		1);
	assert_string_equal(fc_cfg_str(&s, FC_K_DRIVER_VERSION), "7.7.7");
	fc_settings_done(&s);
	fct_rm_rf(root);
	free(root);
}

static void test_values_validated(void **state)
{
	struct fc_settings s;
	char e[256];
	assert_int_equal(fc_settings_init(&s), 0);
	assert_int_equal(fc_settings_set(&s, FC_K_DRIVER_TYPE, "modern_ebpf,bogus", FC_SRC_FLAG,
					 "flag --type", e, sizeof(e)),
			 -EINVAL);
	assert_string_equal(
		e,
		"flag --type: invalid driver.type item 'bogus' (expected auto|modern_ebpf|kmod)");
	assert_int_equal(fc_settings_set(&s, FC_K_OUTPUT, "yaml", FC_SRC_ENV, "env FALCOCTL_OUTPUT",
					 e, sizeof(e)),
			 -EINVAL);
	assert_int_equal(fc_settings_set(&s, FC_K_DRIVER_HTTPTIMEOUT, "10 fortnights", FC_SRC_FLAG,
					 "f", e, sizeof(e)),
			 -EINVAL);
	assert_int_equal(fc_settings_set(&s, FC_K_DRIVER_HTTPTIMEOUT, "500ms", FC_SRC_FLAG, "f", e,
					 sizeof(e)),
			 0);
	assert_int_equal(fc_cfg_num(&s, FC_K_DRIVER_HTTPTIMEOUT), 500);
	assert_int_equal(
		fc_settings_set(&s, FC_K_DRIVER_MAXSIZE, "2GiB", FC_SRC_FLAG, "f", e, sizeof(e)),
		0);
	assert_int_equal(fc_cfg_num(&s, FC_K_DRIVER_MAXSIZE), 2ull << 30);
	assert_int_equal(
		fc_settings_set(&s, FC_K_DRIVER_PLAINHTTP, "maybe", FC_SRC_FLAG, "f", e, sizeof(e)),
		-EINVAL);
	assert_int_equal(
		fc_settings_set(&s, FC_K_DRIVER_PLAINHTTP, "yes", FC_SRC_FLAG, "f", e, sizeof(e)),
		0);
	assert_true(fc_cfg_bool(&s, FC_K_DRIVER_PLAINHTTP));
	assert_int_equal(
		fc_settings_set(&s, FC_K_DRIVER_HTTPRETRIES, "-1", FC_SRC_FLAG, "f", e, sizeof(e)),
		-EINVAL);
	/* list separators: ';' and ',', blanks trimmed, empty items dropped */
	assert_int_equal(fc_settings_set(&s, FC_K_DRIVER_REPOS, " https://a ;, https://b,",
					 FC_SRC_FLAG, "f", e, sizeof(e)),
			 0);
	assert_int_equal(fc_strv_len(fc_cfg_list(&s, FC_K_DRIVER_REPOS)), 2);
	assert_string_equal(fc_cfg_list(&s, FC_K_DRIVER_REPOS)[0], "https://a");
	fc_settings_done(&s);
}

static void test_file_errors(void **state)
{
	char *root = fct_mkdtemp(), path[PATH_MAX], e[512];
	struct fc_settings s;
	assert_int_equal(fc_settings_init(&s), 0);
	snprintf(path, sizeof(path), "%s/missing.yaml", root);
	assert_int_equal(fc_settings_load_file(&s, path, true, e, sizeof(e)), 0);
	assert_int_equal(fc_settings_load_file(&s, path, false, e, sizeof(e)), -ENOENT);

	fct_write(root, "/bad.yaml", "driver:\n  type: [kmod\n");
	snprintf(path, sizeof(path), "%s/bad.yaml", root);
	assert_int_equal(fc_settings_load_file(&s, path, false, e, sizeof(e)), -EINVAL);
	assert_non_null(strstr(e, "bad.yaml: "));

	fct_write(root, "/wrong.yaml", "driver:\n  type: {a: b}\n");
	snprintf(path, sizeof(path), "%s/wrong.yaml", root);
	assert_int_equal(fc_settings_load_file(&s, path, false, e, sizeof(e)), -EINVAL);
	assert_non_null(strstr(e, "wrong.yaml:2:9: driver.type: expected a list"));
	fc_settings_done(&s);
	fct_rm_rf(root);
	free(root);
}

static void check_edit(const char *in, const char *want)
{
	char a[] = "modern_ebpf", b[] = "kmod";
	char *types[] = {a, b, NULL};
	char *out = NULL, e[256];
	assert_int_equal(fc_config_set_driver_type(in, strlen(in), types, &out, e, sizeof(e)), 0);
	assert_string_equal(out, want);
	free(out);
}

static void test_edit_driver_type(void **state)
{
	/* replace a block list, keeping comments, other keys and unknown sections */
	check_edit("# mine\n"
		   "indexes: []\n"
		   "driver:\n"
		   "  # allowed types\n"
		   "  type:\n"
		   "    - kmod\n"
		   "\n"
		   "  # repos\n"
		   "  repos: [https://x]\n"
		   "artifact: {}\n",
		   "# mine\n"
		   "indexes: []\n"
		   "driver:\n"
		   "  # allowed types\n"
		   "  type: [modern_ebpf, kmod]\n"
		   "\n"
		   "  # repos\n"
		   "  repos: [https://x]\n"
		   "artifact: {}\n");
	/* replace a scalar at the end of the file */
	check_edit("driver:\n    name: falco\n    type: kmod\n",
		   "driver:\n    name: falco\n    type: [modern_ebpf, kmod]\n");
	/* insert into an existing map */
	check_edit("driver:\n  name: falco\n",
		   "driver:\n  type: [modern_ebpf, kmod]\n  name: falco\n");
	/* append a map */
	check_edit("indexes: []", "indexes: []\ndriver:\n  type: [modern_ebpf, kmod]\n");
	/* an empty driver key */
	check_edit("driver:\nother: 1\n", "driver:\n  type: [modern_ebpf, kmod]\nother: 1\n");

	/* a flow-style driver map is refused rather than rewritten */
	char a[] = "kmod";
	char *types[] = {a, NULL}, *out = NULL, e[256];
	const char *flow = "driver: {type: [kmod]}\n";
	assert_int_equal(fc_config_set_driver_type(flow, strlen(flow), types, &out, e, sizeof(e)),
			 -EINVAL);
	assert_non_null(strstr(e, "not a block map"));
	assert_null(out);

	/* the default file parses back to what it says */
	char *def = fc_config_default_text(types);
	char *root = fct_mkdtemp(), path[PATH_MAX];
	struct fc_settings s;
	fct_write(root, "/f.yaml", def);
	snprintf(path, sizeof(path), "%s/f.yaml", root);
	assert_int_equal(fc_settings_init(&s), 0);
	assert_int_equal(fc_settings_load_file(&s, path, false, e, sizeof(e)), 0);
	assert_string_equal(fc_cfg_list(&s, FC_K_DRIVER_TYPE)[0], "kmod");
	assert_null(fc_cfg_list(&s, FC_K_DRIVER_TYPE)[1]);
	fc_settings_done(&s);
	free(def);
	fct_rm_rf(root);
	free(root);
}

static void test_lookup_helpers(void **state)
{
	assert_int_equal(fc_key_from_flag("skip-phases"), FC_K_INSTALL_SKIPPHASES);
	assert_int_equal(fc_key_from_flag("nope"), _FC_K_INVALID);
	assert_int_equal(fc_key_from_path("DRIVER.REPOS"), FC_K_DRIVER_REPOS);
	assert_int_equal(fc_driver_type_from_string("modern-bpf"), FC_DRIVER_MODERN_EBPF);
	assert_string_equal(fc_driver_unit(FC_DRIVER_KMOD), "falco-kmod.service");
	unsigned v[3];
	assert_int_equal(fc_parse_version("6.1.0-18-amd64", v), 0);
	assert_int_equal(v[0], 6);
	assert_int_equal(v[1], 1);
	assert_int_equal(fc_parse_version("5.8", v), 0);
	assert_int_equal(v[1], 8);
	assert_int_equal(fc_parse_version("x", v), -EINVAL);
}

/* The unit is what the supervised fallback runs falco from: its [Service] settings, WatchdogSec= spans. */
static void test_unit_exec_parse(void **state)
{
	struct fc_unit_exec ex;
	char e[256];
	static const char unit[] =
		"[Unit]\nWatchdogSec=9s\n[Service]\nType=notify\n"
		"ExecStart=/usr/bin/falco -c /etc/falco/falco.yaml\n"
		"CapabilityBoundingSet=CAP_BPF CAP_PERFMON\nNoNewPrivileges=yes\n"
		"WatchdogSec=30s\n[Install]\nWatchdogSec=1s\n";
	assert_int_equal(fc_unit_exec_parse(unit, &ex, e, sizeof(e)), 0);
	assert_string_equal(ex.argv[0], "/usr/bin/falco");
	assert_string_equal(ex.argv[2], "/etc/falco/falco.yaml");
	assert_null(ex.argv[3]);
	assert_true(ex.no_new_privs);
	assert_int_equal(ex.caps, (1ull << 39) | (1ull << 38));
	assert_int_equal(ex.watchdog_ms, 30000); /* [Service] only */
	fc_unit_exec_done(&ex);

	static const struct {
		const char *v;
		int r;
		unsigned ms;
	} spans[] = {
		{"2", 0, 2000},	     {"500ms", 0, 500},
		{"1min", 0, 60000},  {"infinity", 0, 0},
		{"", 0, 0},	     {"0", 0, 0},
		{"3h", -EINVAL, 0},  {"s", -EINVAL, 0},
		{"-1s", -EINVAL, 0}, {"99999999min", -EINVAL, 0},
	};
	for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++) {
		char text[256];
		snprintf(text, sizeof(text),
			 "[Service]\nExecStart=/usr/bin/falco\nWatchdogSec=%s\n", spans[i].v);
		int r = fc_unit_exec_parse(text, &ex, e, sizeof(e));
		assert_int_equal(r, spans[i].r);
		if (r == 0) {
			assert_int_equal(ex.watchdog_ms, spans[i].ms);
			fc_unit_exec_done(&ex);
		} else {
			assert_non_null(strstr(e, "WatchdogSec="));
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),	 cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_values_validated), cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_edit_driver_type), cmocka_unit_test(test_lookup_helpers),
		cmocka_unit_test(test_unit_exec_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
