/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for falco/reload.c: which configuration changes a reload applies live and which it reports as needing
 * a restart (reload_restart_keys_changed), for every key falco.yaml documents in either list.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "falco/config.h"
#include "falco/reload.h"

static struct falco_config *load(const char *override)
{
	struct falco_config *c = NULL;
	char err[512];
	const char *ov[] = {override};

	if (config_load(NULL, ov, override ? 1 : 0, &c, err, sizeof(err)) < 0)
		fail_msg("config_load(-o %s): %s", override ? override : "(none)", err);
	return c;
}

/* The defaults against the defaults with one override: how many restart-only keys changed, and which. */
static int changed(const char *override, char *keys, size_t len)
{
	struct falco_config *a = load(NULL), *b = load(override);
	int n = reload_restart_keys_changed(a, b, keys, len);
	config_free(a);
	config_free(b);
	return n;
}

static void test_restart_only_keys_are_reported(void **state)
{
	static const struct {
		const char *override, *key;
	} cases[] = {
		{"json_output=true", "json_output"},
		{"buffered_outputs=true", "buffered_outputs"},
		{"outputs_queue.capacity=10", "outputs_queue.capacity"},
		{"output_timeout=100", "output_timeout"},
		{"stdout_output.enabled=false", "stdout_output"},
		{"syslog_output.enabled=false", "syslog_output"},
		{"journald_output.enabled=true", "journald_output"},
		{"file_output.enabled=true", "file_output"},
		{"file_output.filename=/tmp/other.txt", "file_output"},
		{"program_output.program=cat", "program_output"},
		{"http_output.url=http://127.0.0.1:1/", "http_output"},
		{"http_output.timeout_ms=1", "http_output"},
		{"log_stderr=false", "log_stderr"},
		{"log_syslog=false", "log_syslog"},
		{"webserver.listen_port=1234", "webserver"},
		{"webserver.prometheus_metrics_enabled=true", "webserver"},
		{"k8s_audit.enabled=true", "k8s_audit"},
		{"engine.kind=nodriver", "engine.kind"},
		{"watch_config_files=false", "watch_config_files"},
		{"metrics.enabled=true", "metrics (other than"},
		{"metrics.state_counters_enabled=false", "metrics (other than"},
		{"metrics.libbpf_stats_enabled=false", "metrics (other than"},
		{"metrics.output_file=/tmp/metrics.jsonl", "metrics.output_file"},
		{"syscall_event_drops.threshold=0.5", "syscall_event_drops"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char keys[512];
		int n = changed(cases[i].override, keys, sizeof(keys));
		if (n != 1 || strncmp(keys, cases[i].key, strlen(cases[i].key)) != 0)
			fail_msg("-o %s: %d restart-only changes '%s', want 1 starting with '%s'",
				 cases[i].override, n, keys, cases[i].key);
	}
}

static void test_live_keys_are_not_reported(void **state)
{
	static const char *const live[] = {
		"priority=error",
		"rule_matching=all",
		"json_include_output_property=false",
		"json_include_tags_property=false",
		"json_include_message_property=true",
		"json_include_output_fields_property=false",
		"time_format_iso_8601=true",
		"outputs_queue.stall_timeout=5000",
		"outputs_queue.overflow_alert=true",
		"log_level=debug",
		"metrics.interval=5m",
		"metrics.output_rule=false",
	};

	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++) {
		char keys[512];
		int n = changed(live[i], keys, sizeof(keys));
		if (n != 0)
			fail_msg("-o %s: reported as needing a restart: %s", live[i], keys);
	}
}

static void test_several_changes_are_listed_together(void **state)
{
	struct falco_config *a = load(NULL), *b = NULL;
	const char *ov[] = {"json_output=true", "webserver.listen_port=1", "priority=error"};
	char err[512], keys[512];

	assert_int_equal(config_load(NULL, ov, 3, &b, err, sizeof(err)), 0);
	assert_int_equal(reload_restart_keys_changed(a, b, keys, sizeof(keys)), 2);
	assert_string_equal(keys, "json_output, webserver");
	/* a small buffer truncates the list but not the count */
	assert_int_equal(reload_restart_keys_changed(a, b, keys, 8), 2);
	assert_string_equal(keys, "json_ou");
	assert_int_equal(reload_restart_keys_changed(a, a, keys, sizeof(keys)), 0);
	assert_string_equal(keys, "");
	config_free(a);
	config_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_restart_only_keys_are_reported),
		cmocka_unit_test(test_live_keys_are_not_reported),
		cmocka_unit_test(test_several_changes_are_listed_together),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
