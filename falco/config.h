/* SPDX-License-Identifier: Apache-2.0 */
/*
 * falco.yaml: the main file, its config_files includes and the -o overrides are merged into one YAML tree, then
 * parsed into typed settings. Unknown keys are warnings (collected, never fatal); a wrong type or value is an
 * error naming "file:line:col: key". An upstream falco.yaml (0.3x/0.4x) loads unchanged; keys we accept but do
 * not act on yet are kept typed where another module will need them. Nothing here logs: main.c prints the
 * warnings. Strings in struct falco_config live in the config's arena and are valid until config_free().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/yaml.h"

/* One `rules:` selection entry: enable or disable rules by name wildcard and/or tag, applied in order. */
struct cfg_rule_sel {
	bool enable;
	const char *rule; /* wildcard; NULL = any */
	const char *tag;  /* NULL = any */
};

/* One `append_output:` entry. */
struct cfg_append_output {
	const char *source;	   /* match.source, NULL = any */
	const char *rule;	   /* match.rule, NULL = any */
	const char **tags;	   /* match.tags, NULL-terminated (empty = any) */
	const char *extra_output;  /* NULL when absent */
	const char **extra_fields; /* NULL-terminated: "name" (a field) or "name=format" */
	bool suggested_output;
};

struct cfg_kv {
	const char *key;
	const char *value;
};

/* Our native Kubernetes audit source (falco.yaml `k8s_audit:`, or a k8saudit plugin entry mapped onto it). */
struct cfg_k8s_audit {
	bool enabled; /* live webhook on */
	const char *
		listen_address; /* "0.0.0.0"; "" from a plugin URL like http://:9765 means all interfaces */
	uint16_t listen_port; /* 9765 */
	const char *path;     /* "/k8s-audit" */
	bool tls;	      /* https */
	const char
		*tls_cert;   /* PEM certificate (may hold the key too, like upstream's falco.pem) */
	const char *tls_key; /* NULL/"" = the key is in tls_cert */
	const char *tls_ca;  /* CA bundle to verify client certificates (mtls) */
	bool mtls;	     /* require client certificates signed by tls_ca */
	uint64_t max_event_size; /* bytes; an event larger than this is dropped (maxEventSize) */
	uint64_t max_batch_size; /* bytes of one POST body (webhookMaxBatchSize) */
	uint64_t queue_capacity; /* payloads waiting for the engine; full => HTTP 503 */
	const char *replay_file; /* from a plugin open_params that is a path: replay it like -e */
	const char *from_plugin; /* name of the plugin entry this came from, NULL for k8s_audit: */
};

struct cfg_webserver {
	bool enabled;
	uint64_t threadiness;
	const char *listen_address;
	uint16_t listen_port;
	const char *k8s_healthz_endpoint;
	bool ssl_enabled;
	const char *ssl_certificate;
	bool prometheus_metrics_enabled;
};

struct cfg_http_output {
	bool enabled;
	const char *url;
	const char *user_agent;
	bool insecure;
	const char *ca_cert, *ca_bundle, *ca_path;
	bool mtls;
	const char *client_cert, *client_key;
	bool echo;
	bool compress_uploads;
	bool keep_alive;
	uint64_t max_consecutive_timeouts;
	/* ours */
	const char *
		*headers; /* "Name: value", NULL-terminated (from a map or a list); NULL = none */
	uint64_t timeout_ms;
	uint64_t connect_timeout_ms;
	uint64_t retries;
	uint64_t retry_backoff_ms;
};

/* Alert rate limiting (ours: outputs_rate_limit; upstream's legacy outputs.rate/max_burst maps onto it). */
struct cfg_rate_limit {
	double rate; /* tokens per second; 0 = off */
	double max_burst;
	bool per_rule; /* one bucket per rule (default), or one for all alerts (the legacy key's meaning) */
};

struct cfg_metrics {
	bool enabled;
	uint64_t interval_ms;
	bool output_rule;
	const char *output_file;
	bool rules_counters_enabled;
	bool resource_utilization_enabled;
	bool state_counters_enabled;
	bool kernel_event_counters_enabled;
	bool kernel_event_counters_per_cpu_enabled;
	bool libbpf_stats_enabled;
	bool plugins_metrics_enabled;
	bool jemalloc_stats_enabled;
	bool convert_memory_to_mb;
	bool include_empty_values;
};

enum cfg_drop_action {
	CFG_DROP_IGNORE = 1u << 0,
	CFG_DROP_LOG = 1u << 1,
	CFG_DROP_ALERT = 1u << 2,
	CFG_DROP_EXIT = 1u << 3,
};

struct cfg_syscall_event_drops {
	double threshold;
	unsigned actions; /* enum cfg_drop_action bits */
	double rate;
	double max_burst;
	bool simulate_drops;
};

/* engine.modern_ebpf (for the syscall source). */
struct cfg_modern_ebpf {
	uint64_t cpus_for_each_buffer;
	uint64_t buf_size_preset;
	bool drop_failed_exit;
};

struct falco_config {
	struct arena arena; /* owns every string and array below */

	/* files that made this configuration, in load order (main file first); "-o" overrides are not files */
	const char **files;
	size_t nfiles;

	/* rules */
	const char **rules_files;
	size_t nrules_files;
	struct cfg_rule_sel *rule_sel;
	size_t nrule_sel;
	int min_priority; /* enum prio: rules less severe are not loaded */
	bool match_all;	  /* rule_matching: all */

	/* alert formatting */
	bool json_output;
	bool json_include_output_property;
	bool json_include_tags_property;
	bool json_include_message_property;
	bool json_include_output_fields_property;
	bool time_format_iso_8601;
	bool buffer_format_base64;
	struct cfg_append_output *append_output;
	size_t nappend_output;
	struct cfg_kv *static_fields;
	size_t nstatic_fields;

	/* output channels */
	bool buffered_outputs;
	uint64_t outputs_queue_capacity; /* 0 = our default bound (see falco.yaml) */
	uint64_t
		outputs_stall_timeout_ms; /* outputs_queue.stall_timeout: /healthz reports a wedged output */
	bool outputs_overflow_alert; /* outputs_queue.overflow_alert: internal alert on drops */
	struct cfg_rate_limit rate_limit;
	double legacy_rate,
		legacy_max_burst; /* outputs.rate/max_burst as read (already folded into rate_limit) */
	uint64_t output_timeout_ms;
	bool stdout_output;
	struct {
		bool enabled;
		bool keep_alive;
		const char *filename;
	} file_output;
	bool syslog_output;
	bool journald_output; /* ours */
	struct {
		bool enabled;
		bool keep_alive;
		const char *program;
	} program_output;
	struct cfg_http_output http_output;

	/* logging */
	bool log_stderr;
	bool log_syslog;
	int log_level; /* enum log_level */

	/* services and sources */
	struct cfg_webserver webserver;
	struct cfg_k8s_audit k8s_audit;
	const char *engine_kind; /* modern_ebpf (default), kmod, ebpf, gvisor, replay, nodriver */
	const char *replay_capture_file; /* engine.replay.capture_file */
	struct cfg_modern_ebpf modern_ebpf;
	bool json_plugin; /* a `json` plugin entry was loaded (its fields are native here) */
	bool container_plugin; /* a `container` plugin entry was loaded (container.* fields are native) */

	bool watch_config_files;
	struct cfg_metrics metrics;
	struct cfg_syscall_event_drops syscall_event_drops;

	/* non-fatal problems found while loading ("file:line:col: unknown key 'x', ignoring"), for main to log */
	const char **warnings;
	size_t nwarnings;
};

/*
 * Loads the configuration. path is the main file, or NULL for built-in defaults only. overrides are "-o" strings
 * ("key.path=value"), applied in order after the includes. Returns 0 with *ret (caller frees with config_free),
 * or -ENOENT/-EACCES/... when a file cannot be read, -EINVAL for a syntax or type error (errbuf names the file,
 * line, column and key), -ENOMEM. Does not log.
 */
int config_load(const char *path, const char *const *overrides, size_t noverrides,
		struct falco_config **ret, char *errbuf, size_t errlen);

/* Built-in defaults (what an empty falco.yaml gives). NULL on ENOMEM. */
struct falco_config *config_new_defaults(void);

struct falco_config *config_free(struct falco_config *c);

/*
 * Applies one "-o" override to a YAML tree in memory (exposed for tests). root must be a map. Nodes are allocated
 * in s. Returns 0, -EINVAL (bad key syntax, index out of range, a scalar where a map is needed; errbuf says
 * which), -ENOMEM.
 */
int config_apply_override(struct yaml_stream *s, struct ynode *root, const char *opt, char *errbuf,
			  size_t errlen);

/* Parses a duration like "1h30m", "500ms", "15s" (units ms s m h d w y) into milliseconds. 0 or -EINVAL. */
int config_parse_duration_ms(const char *s, uint64_t *ret_ms);
