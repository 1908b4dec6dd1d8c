/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for falco/config.c: defaults, typed keys, -o overrides, includes, plugins, warnings and errors. */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
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

#include "common/log.h"
#include "common/yaml.h"
#include "falco/config.h"
#include "falco/engine/engine.h"

static char tmpdir[64];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_config.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Writes content to tmpdir/name and returns the path (static buffer per call site is enough here). */
static const char *write_tmp(const char *name, const char *content)
{
	static char paths[8][PATH_MAX];
	static int next;
	char *p = paths[next++ % 8];
	snprintf(p, PATH_MAX, "%s/%s", tmpdir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
	return p;
}

static struct falco_config *load_ok(const char *path, const char *const *ovr, size_t n)
{
	struct falco_config *c = NULL;
	char err[1024] = "";
	int r = config_load(path, ovr, n, &c, err, sizeof(err));
	if (r < 0)
		fail_msg("config_load failed: %d %s", r, err);
	return c;
}

static int load_err(const char *path, const char *const *ovr, size_t n, char *err, size_t errlen)
{
	struct falco_config *c = NULL;
	int r = config_load(path, ovr, n, &c, err, errlen);
	assert_null(c);
	return r;
}

static bool has_warning(const struct falco_config *c, const char *needle)
{
	for (size_t i = 0; i < c->nwarnings; i++)
		if (strstr(c->warnings[i], needle))
			return true;
	return false;
}

static void test_defaults(void **state)
{
	struct falco_config *c = load_ok(NULL, NULL, 0);
	assert_int_equal(c->nrules_files, 3);
	assert_string_equal(c->rules_files[0], SYSCONFDIR "/falco/falco_rules.yaml");
	assert_int_equal(c->min_priority, PRIO_DEBUG);
	assert_false(c->match_all);
	assert_false(c->json_output);
	assert_true(c->json_include_output_property);
	assert_true(c->json_include_tags_property);
	assert_false(c->json_include_message_property);
	assert_true(c->json_include_output_fields_property);
	assert_true(c->stdout_output);
	assert_false(c->file_output.enabled);
	assert_string_equal(c->file_output.filename, "./events.txt");
	assert_int_equal(c->webserver.listen_port, 8765);
	assert_string_equal(c->webserver.k8s_healthz_endpoint, "/healthz");
	assert_false(c->k8s_audit.enabled);
	assert_int_equal(c->k8s_audit.listen_port, 9765);
	assert_int_equal(c->k8s_audit.max_event_size, 262144);
	assert_int_equal(c->log_level, LOG_LEVEL_INFO);
	assert_int_equal(c->output_timeout_ms, 2000);
	assert_int_equal(c->nwarnings, 0);
	assert_int_equal(c->nfiles, 0);
	config_free(c);
}

static void test_typed_keys(void **state)
{
	const char *p = write_tmp("typed.yaml", "rules_files: [/a.yaml, /b]\n"
						"priority: Warning\n"
						"rule_matching: all\n"
						"json_output: yes\n"
						"time_format_iso_8601: true\n"
						"buffered_outputs: true\n"
						"outputs_queue: {capacity: 10}\n"
						"file_output:\n"
						"  enabled: true\n"
						"  keep_alive: true\n"
						"  filename: /tmp/x.txt\n"
						"log_level: debug\n"
						"webserver:\n"
						"  listen_port: 9999\n"
						"  listen_address: 127.0.0.1\n"
						"engine: {kind: nodriver}\n"
						"metrics: {interval: 1h30m}\n"
						"rules:\n"
						"  - disable: {rule: '*'}\n"
						"  - enable: {tag: network}\n"
						"  - enable: {rule: 'A rule', tag: t}\n");
	struct falco_config *c = load_ok(p, NULL, 0);
	assert_int_equal(c->nrules_files, 2);
	assert_string_equal(c->rules_files[1], "/b");
	assert_int_equal(c->min_priority, PRIO_WARNING);
	assert_true(c->match_all);
	assert_true(c->json_output);
	assert_true(c->time_format_iso_8601);
	assert_true(c->buffered_outputs);
	assert_int_equal(c->outputs_queue_capacity, 10);
	assert_true(c->file_output.enabled && c->file_output.keep_alive);
	assert_string_equal(c->file_output.filename, "/tmp/x.txt");
	assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(c->webserver.listen_port, 9999);
	assert_string_equal(c->webserver.listen_address, "127.0.0.1");
	assert_string_equal(c->engine_kind, "nodriver");
	assert_int_equal(c->metrics.interval_ms, 5400000);
	assert_int_equal(c->nrule_sel, 3);
	assert_false(c->rule_sel[0].enable);
	assert_string_equal(c->rule_sel[0].rule, "*");
	assert_null(c->rule_sel[0].tag);
	assert_true(c->rule_sel[1].enable);
	assert_string_equal(c->rule_sel[1].tag, "network");
	assert_string_equal(c->rule_sel[2].rule, "A rule");
	assert_int_equal(c->nfiles, 1);
	assert_int_equal(c->nwarnings, 0);
	config_free(c);
}

static void test_legacy_rules_file(void **state)
{
	const char *p = write_tmp("legacy.yaml", "rules_file:\n  - /old.yaml\n");
	struct falco_config *c = load_ok(p, NULL, 0);
	assert_int_equal(c->nrules_files, 1);
	assert_string_equal(c->rules_files[0], "/old.yaml");
	config_free(c);

	p = write_tmp("both.yaml",
		      "rules_file: [/old.yaml]\nrules_files: [/new.yaml, /new2.yaml]\n");
	c = load_ok(p, NULL, 0);
	assert_int_equal(c->nrules_files, 2);
	assert_string_equal(c->rules_files[0], "/new.yaml");
	config_free(c);
}

static void test_upstream_shaped_file(void **state)
{
	struct falco_config *c = load_ok("tests/fixtures/config/upstream-shaped.yaml", NULL, 0);
	/* only the missing config_files directory is worth a warning */
	for (size_t i = 0; i < c->nwarnings; i++)
		if (!strstr(c->warnings[i], "config_files"))
			fail_msg("unexpected warning: %s", c->warnings[i]);
	assert_true(c->container_plugin);
	/* k8saudit is configured but not in load_plugins */
	assert_false(c->k8s_audit.enabled);
	assert_int_equal(c->nrule_sel, 2);
	assert_true(c->webserver.enabled);
	assert_int_equal(c->syscall_event_drops.actions, CFG_DROP_LOG | CFG_DROP_ALERT);
	config_free(c);
}

static void test_shipped_falco_yaml(void **state)
{
	struct falco_config *c = load_ok("falco/falco.yaml", NULL, 0);
	for (size_t i = 0; i < c->nwarnings; i++)
		if (!strstr(c->warnings[i], "config_files"))
			fail_msg("unexpected warning: %s", c->warnings[i]);
	assert_false(c->k8s_audit.enabled);
	assert_true(c->stdout_output);
	assert_int_equal(c->nappend_output, 1);
	assert_true(c->append_output[0].suggested_output);
	config_free(c);
}

static void test_unknown_keys_warn(void **state)
{
	const char *p = write_tmp("unknown.yaml", "json_output: false\n"
						  "bogus_key: 1\n"
						  "webserver:\n"
						  "  enabled: false\n"
						  "  frobnicate: true\n");
	const char *ovr[] = {"another.unknown=3"};
	struct falco_config *c = load_ok(p, ovr, 1);
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s:2:1: unknown configuration key 'bogus_key', ignoring", p);
	assert_true(has_warning(c, want));
	snprintf(want, sizeof(want), "%s:5:3: unknown configuration key 'webserver.frobnicate'", p);
	assert_true(has_warning(c, want));
	assert_true(has_warning(c, "-o 'another.unknown=3': unknown configuration key 'another'"));
	assert_false(c->webserver.enabled);
	config_free(c);
}

static void test_errors_have_positions(void **state)
{
	char err[1024], want[PATH_MAX + 128];
	const char *p = write_tmp("bad_bool.yaml", "priority: info\njson_output: maybe\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:2:14: json_output: expected a boolean (true or false), got 'maybe'", p);
	assert_string_equal(err, want);

	p = write_tmp("bad_port.yaml", "webserver:\n  listen_port: 70000\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:2:16: webserver.listen_port: port 70000 is out of range (1-65535)", p);
	assert_string_equal(err, want);

	p = write_tmp("bad_prio.yaml", "priority: loud\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1:11: priority: unknown priority 'loud'"));

	p = write_tmp("bad_section.yaml", "file_output: [1, 2]\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":1:14: file_output: expected a map, got a sequence"));

	p = write_tmp("bad_rules_sel.yaml", "rules:\n  - frobnicate: {rule: x}\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":2:5: rules: unknown selection 'frobnicate'"));

	p = write_tmp("bad_syntax.yaml", "a: [1, 2\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, p));

	p = write_tmp("not_map.yaml", "- a\n- b\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "must be a map"));

	const char *ovr[] = {"json_output=maybe"};
	assert_int_equal(load_err(NULL, ovr, 1, err, sizeof(err)), -EINVAL);
	assert_string_equal(
		err,
		"-o 'json_output=maybe': json_output: expected a boolean (true or false), got 'maybe'");

	assert_true(load_err("/nonexistent/falco.yaml", NULL, 0, err, sizeof(err)) == -ENOENT);
	assert_non_null(strstr(err, "/nonexistent/falco.yaml"));

	p = write_tmp("enabled_no_file.yaml", "file_output: {enabled: true, filename: ''}\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "file_output"));
}

static void test_overrides_scalars_and_maps(void **state)
{
	const char *p =
		write_tmp("ovr.yaml", "json_output: false\nfile_output:\n  enabled: false\n");
	const char *ovr[] = {
		"json_output=true",
		"file_output.enabled=true",
		"file_output.filename=/tmp/alerts.txt",
		"webserver.listen_port=1234",
		"k8s_audit.tls.enabled=true",
		"outputs_queue={capacity: 7}",
	};
	struct falco_config *c = load_ok(p, ovr, ARRAY_SIZE(ovr));
	assert_true(c->json_output);
	assert_true(c->file_output.enabled);
	assert_string_equal(c->file_output.filename, "/tmp/alerts.txt");
	assert_int_equal(c->webserver.listen_port, 1234);
	assert_true(c->k8s_audit.tls);
	assert_int_equal(c->outputs_queue_capacity, 7);
	config_free(c);
}

static void test_overrides_lists(void **state)
{
	const char *p = write_tmp("ovr_list.yaml", "rules_files:\n  - /a.yaml\n  - /b.yaml\n");
	const char *ovr[] = {
		"rules_files[0]=/x.yaml",	  /* replace */
		"rules_files[2]=/c.yaml",	  /* index == length appends */
		"rules_files[]=/d.yaml",	  /* explicit append */
		"rules[].disable.rule=Some rule", /* creates the list, then a map in it */
		"rules[].enable.tag=net",	  "rules[0].disable.tag=t1",
	};
	struct falco_config *c = load_ok(p, ovr, ARRAY_SIZE(ovr));
	assert_int_equal(c->nrules_files, 4);
	assert_string_equal(c->rules_files[0], "/x.yaml");
	assert_string_equal(c->rules_files[1], "/b.yaml");
	assert_string_equal(c->rules_files[2], "/c.yaml");
	assert_string_equal(c->rules_files[3], "/d.yaml");
	assert_int_equal(c->nrule_sel, 2);
	assert_false(c->rule_sel[0].enable);
	assert_string_equal(c->rule_sel[0].rule, "Some rule");
	assert_string_equal(c->rule_sel[0].tag, "t1");
	assert_true(c->rule_sel[1].enable);
	assert_string_equal(c->rule_sel[1].tag, "net");
	config_free(c);

	const char *ovr2[] = {"rules_files=[/only.yaml, /two.yaml]"};
	c = load_ok(p, ovr2, 1);
	assert_int_equal(c->nrules_files, 2);
	assert_string_equal(c->rules_files[0], "/only.yaml");
	config_free(c);
}

static void test_overrides_errors_and_escapes(void **state)
{
	struct yaml_stream *s = yaml_stream_new();
	struct ynode *root = yaml_new_map(s);
	char err[256];

	assert_int_equal(config_apply_override(s, root, "a\\.b=1", err, sizeof(err)), 0);
	assert_string_equal(ynode_str(ynode_map_get(root, "a.b")), "1");
	assert_int_equal(config_apply_override(s, root, "k=v=w", err, sizeof(err)), 0);
	assert_string_equal(ynode_str(ynode_map_get(root, "k")), "v=w");
	assert_int_equal(config_apply_override(s, root, "x\\=y=z", err, sizeof(err)), 0);
	assert_string_equal(ynode_str(ynode_map_get(root, "x=y")), "z");
	assert_int_equal(config_apply_override(s, root, "l[0].name=n", err, sizeof(err)), 0);
	assert_string_equal(
		ynode_str(ynode_map_get(ynode_map_get(root, "l")->seq.items[0], "name")), "n");

	assert_int_equal(config_apply_override(s, root, "l[5]=x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "index 5 is out of range (the list has 1 elements)"));
	assert_int_equal(config_apply_override(s, root, "k.sub=1", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "not a map"));
	assert_int_equal(config_apply_override(s, root, "noequals", err, sizeof(err)), -EINVAL);
	assert_int_equal(config_apply_override(s, root, "a..b=1", err, sizeof(err)), -EINVAL);
	assert_int_equal(config_apply_override(s, root, "l[x]=1", err, sizeof(err)), -EINVAL);
	assert_int_equal(config_apply_override(s, root, "v=[unclosed", err, sizeof(err)), -EINVAL);
	yaml_stream_free(s);

	char e2[512];
	const char *ovr[] = {"rules_files[9]=/x"};
	assert_int_equal(load_err(NULL, ovr, 1, e2, sizeof(e2)), -EINVAL);
	assert_non_null(strstr(e2, "-o: 'rules_files[9]'"));
}

static void test_plugins_k8saudit_webhook(void **state)
{
	const char *p = write_tmp("plug.yaml", "load_plugins: [k8saudit, json]\n"
					       "plugins:\n"
					       "  - name: k8saudit\n"
					       "    library_path: libk8saudit.so\n"
					       "    init_config:\n"
					       "      maxEventSize: 1000\n"
					       "      webhookMaxBatchSize: 2000\n"
					       "    open_params: 'http://:9766/audit'\n"
					       "  - name: json\n"
					       "    library_path: libjson.so\n");
	struct falco_config *c = load_ok(p, NULL, 0);
	assert_true(c->k8s_audit.enabled);
	assert_false(c->k8s_audit.tls);
	assert_string_equal(c->k8s_audit.listen_address, "");
	assert_int_equal(c->k8s_audit.listen_port, 9766);
	assert_string_equal(c->k8s_audit.path, "/audit");
	assert_int_equal(c->k8s_audit.max_event_size, 1000);
	assert_int_equal(c->k8s_audit.max_batch_size, 2000);
	assert_string_equal(c->k8s_audit.from_plugin, "k8saudit");
	assert_true(c->json_plugin);
	config_free(c);

	/* init_config as a JSON string, https, an -o override of open_params */
	p = write_tmp(
		"plug_json.yaml",
		"plugins:\n"
		"  - name: k8saudit-eks\n"
		"    init_config: '{\"sslCertificate\": \"/etc/x.pem\", \"maxEventSize\": 5}'\n"
		"    open_params: 'https://127.0.0.1:8443/k'\n");
	c = load_ok(p, NULL, 0);
	assert_true(c->k8s_audit.enabled && c->k8s_audit.tls);
	assert_string_equal(c->k8s_audit.listen_address, "127.0.0.1");
	assert_int_equal(c->k8s_audit.listen_port, 8443);
	assert_string_equal(c->k8s_audit.tls_cert, "/etc/x.pem");
	assert_int_equal(c->k8s_audit.max_event_size, 5);
	config_free(c);

	/* a cloud variant's open_params naming an existing file replays it */
	char ovr_text[PATH_MAX + 64];
	snprintf(ovr_text, sizeof(ovr_text), "plugins[0].open_params=%s",
		 write_tmp("audit.jsonl", "\n"));
	const char *ovr[] = {ovr_text};
	c = load_ok(p, ovr, 1);
	assert_false(c->k8s_audit.enabled);
	assert_string_equal(c->k8s_audit.replay_file, ovr_text + strlen("plugins[0].open_params="));
	config_free(c);

	/* plain k8saudit: any other text is a file path, checked when the replay opens it */
	p = write_tmp("plug_path.yaml",
		      "plugins:\n  - name: k8saudit\n    open_params: /var/log/audit.jsonl\n");
	c = load_ok(p, NULL, 0);
	assert_string_equal(c->k8s_audit.replay_file, "/var/log/audit.jsonl");
	config_free(c);

	/* an empty init_config string gives way to a map built by -o */
	p = write_tmp("plug_empty.yaml", "plugins:\n"
					 "  - name: k8saudit\n"
					 "    init_config: ''\n"
					 "    open_params: 'http://:9765/k8s-audit'\n");
	const char *ovr2[] = {"plugins[0].init_config.maxEventSize=7"};
	c = load_ok(p, ovr2, 1);
	assert_int_equal(c->k8s_audit.max_event_size, 7);
	config_free(c);
}

static void test_plugins_errors(void **state)
{
	char err[1024];
	const char *p = write_tmp("plug_bad.yaml", "load_plugins: [cloudtrail]\n"
						   "plugins:\n"
						   "  - name: cloudtrail\n"
						   "    library_path: libcloudtrail.so\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ":3:5: plugins: plugin 'cloudtrail' is not supported"));

	p = write_tmp("plug_missing.yaml", "load_plugins: [k8saudit]\nplugins: []\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "cannot load plugin 'k8saudit'"));

	p = write_tmp("plug_scheme.yaml",
		      "plugins:\n  - name: k8saudit\n    open_params: 'ftp://x/y'\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "scheme \"ftp\" is not supported"));

	p = write_tmp("plug_port.yaml",
		      "plugins:\n  - name: k8saudit\n    open_params: 'http://:99999/y'\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid port"));

	p = write_tmp(
		"plug_json_bad.yaml",
		"plugins:\n  - name: k8saudit\n    init_config: '{\"a\": '\n    open_params: 'http://:1/y'\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "invalid JSON"));

	/* the cloud variants' native open_params (a cluster to poll) are refused with the reason */
	p = write_tmp("plug_eks.yaml", "load_plugins: [k8saudit-eks]\n"
				       "plugins:\n"
				       "  - name: k8saudit-eks\n"
				       "    init_config:\n"
				       "      region: us-east-1\n"
				       "    open_params: my-cluster\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(
		err,
		":6:18: plugins[k8saudit-eks].open_params: 'my-cluster' is neither a webhook "
		"URL (http(s)://host:port/path) nor an existing file (No such file or directory); "
		"pulling audit logs from the cloud provider, as the k8saudit-eks plugin does, "
		"is not supported"));

	/* load_plugins: [] disables every entry, even unsupported ones */
	p = write_tmp("plug_none.yaml", "load_plugins: []\nplugins:\n  - name: cloudtrail\n");
	struct falco_config *c = load_ok(p, NULL, 0);
	assert_false(c->k8s_audit.enabled);
	config_free(c);
}

static void test_config_files_includes(void **state)
{
	char dir[PATH_MAX], main_text[PATH_MAX * 2];
	snprintf(dir, sizeof(dir), "%s/conf.d", tmpdir);
	assert_int_equal(mkdir(dir, 0755), 0);
	write_tmp("conf.d/10-a.yaml", "json_output: true\nrules_files: [/from-a.yaml]\n");
	write_tmp("conf.d/20-b.yaml", "priority: error\n");
	write_tmp("conf.d/.hidden.yaml", "priority: alert\n");
	const char *over = write_tmp("override.yaml", "rules_files: [/override.yaml]\n");
	const char *addonly = write_tmp("addonly.yaml", "priority: critical\nlog_level: debug\n");
	snprintf(main_text, sizeof(main_text),
		 "rules_files: [/main.yaml]\n"
		 "config_files:\n"
		 "  - conf.d\n"
		 "  - /nonexistent/file.yaml\n"
		 "  - path: %s\n"
		 "    strategy: add-only\n",
		 addonly);
	const char *p = write_tmp("main.yaml", main_text);
	struct falco_config *c = load_ok(p, NULL, 0);
	assert_true(c->json_output);
	/* append strategy: lists concatenated */
	assert_int_equal(c->nrules_files, 2);
	assert_string_equal(c->rules_files[0], "/main.yaml");
	assert_string_equal(c->rules_files[1], "/from-a.yaml");
	/* 20-b set priority; add-only did not replace it but added log_level */
	assert_int_equal(c->min_priority, PRIO_ERROR);
	assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(c->nfiles, 4);
	assert_true(has_warning(c, "cannot access '/nonexistent/file.yaml'"));
	config_free(c);

	snprintf(main_text, sizeof(main_text),
		 "rules_files: [/main.yaml]\nconfig_files:\n  - path: %s\n    strategy: override\n",
		 over);
	p = write_tmp("main2.yaml", main_text);
	c = load_ok(p, NULL, 0);
	assert_int_equal(c->nrules_files, 1);
	assert_string_equal(c->rules_files[0], "/override.yaml");
	config_free(c);

	/* an error inside an included file names that file */
	write_tmp("badinc.yaml", "buffered_outputs: sometimes\n");
	p = write_tmp("main3.yaml", "config_files: [badinc.yaml]\n");
	char err[1024];
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "badinc.yaml:1:19: buffered_outputs"));
}

static void test_append_output_and_static_fields(void **state)
{
	const char *p = write_tmp("ao.yaml", "append_output:\n"
					     "  - match:\n"
					     "      source: syscall\n"
					     "      tags: [a, b]\n"
					     "      rule: R\n"
					     "    extra_output: 'on %evt.cpu'\n"
					     "    extra_fields:\n"
					     "      - evt.hostname\n"
					     "      - team: platform\n"
					     "static_fields:\n"
					     "  cluster: prod\n"
					     "syscall_event_drops:\n"
					     "  actions: [exit]\n");
	struct falco_config *c = load_ok(p, NULL, 0);
	assert_int_equal(c->nappend_output, 1);
	const struct cfg_append_output *ao = &c->append_output[0];
	assert_string_equal(ao->source, "syscall");
	assert_string_equal(ao->rule, "R");
	assert_string_equal(ao->tags[1], "b");
	assert_null(ao->tags[2]);
	assert_string_equal(ao->extra_output, "on %evt.cpu");
	assert_string_equal(ao->extra_fields[0], "evt.hostname");
	assert_string_equal(ao->extra_fields[1], "team=platform");
	assert_null(ao->extra_fields[2]);
	assert_int_equal(c->nstatic_fields, 1);
	assert_string_equal(c->static_fields[0].key, "cluster");
	assert_string_equal(c->static_fields[0].value, "prod");
	assert_int_equal(c->syscall_event_drops.actions, CFG_DROP_EXIT);
	config_free(c);
}

static void test_durations(void **state)
{
	uint64_t ms;
	assert_int_equal(config_parse_duration_ms("1h30m20s10ms", &ms), 0);
	assert_int_equal(ms, 5420010);
	assert_int_equal(config_parse_duration_ms("500ms", &ms), 0);
	assert_int_equal(ms, 500);
	assert_int_equal(config_parse_duration_ms("2d", &ms), 0);
	assert_int_equal(ms, 172800000);
	assert_int_equal(config_parse_duration_ms("15", &ms), -EINVAL);
	assert_int_equal(config_parse_duration_ms("1x", &ms), -EINVAL);
	assert_int_equal(config_parse_duration_ms("", &ms), -EINVAL);

	char err[512];
	const char *p = write_tmp("short.yaml", "metrics: {interval: 10ms}\n");
	assert_int_equal(load_err(p, NULL, 0, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "below the minimum of 100ms"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_typed_keys),
		cmocka_unit_test(test_legacy_rules_file),
		cmocka_unit_test(test_upstream_shaped_file),
		cmocka_unit_test(test_shipped_falco_yaml),
		cmocka_unit_test(test_unknown_keys_warn),
		cmocka_unit_test(test_errors_have_positions),
		cmocka_unit_test(test_overrides_scalars_and_maps),
		cmocka_unit_test(test_overrides_lists),
		cmocka_unit_test(test_overrides_errors_and_escapes),
		cmocka_unit_test(test_plugins_k8saudit_webhook),
		cmocka_unit_test(test_plugins_errors),
		cmocka_unit_test(test_config_files_includes),
		cmocka_unit_test(test_append_output_and_static_fields),
		cmocka_unit_test(test_durations),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
