/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Falco's metrics: counters the engine thread bumps (events by source, rule matches, alerts, rate-limited alerts,
 * reloads) and snapshots it hands over (driver counters), rendered by any thread as Prometheus text for the
 * webserver's /metrics, or collected into a flat field list for upstream's periodic "Falco internal: metrics
 * snapshot". Readers never touch engine-thread structures: counters are atomics, per-rule counters live in a
 * refcounted table swapped under a mutex at reload, driver counters are copied under a mutex.
 *
 * Names follow upstream falco (falcosecurity_falco_*, falcosecurity_scap_*, falcosecurity_evt_*); ours are listed
 * in docs/ARCHITECTURE.md and marked "(ours)" in the HELP text. Nothing here logs.
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "driver/falco_events.h"

struct outputs;
struct ruleset;

#define METRICS_MAX_SOURCES 8

struct metrics_options {
	const char *hostname;
	const char *const *sources; /* names by evt.source index; copied */
	size_t nsources;
	/* per source: upstream's engine name ("modern_bpf", "source_plugin"...), NULL = the source is not running */
	const char *const *engines;
	bool rules_counters; /* metrics.rules_counters_enabled */
	bool resource_utilization;
	bool kernel_event_counters;
	bool kernel_event_counters_per_cpu;
	bool convert_memory_to_mb; /* snapshot field units only (Prometheus is always in bytes) */
	bool include_empty_values; /* snapshot: also rules with no match */
};

struct metrics;

/* NULL on ENOMEM. Options are copied. */
struct metrics *metrics_new(const struct metrics_options *opts);
/* Accepts NULL; returns NULL. No other thread may render any more. */
struct metrics *metrics_free(struct metrics *m);

/* ---- per-rule counters (one table per rule set) ---- */

struct metrics_rules;

/*
 * Builds the table for rs (names, priorities, sources, tags copied): any thread, so a reload builds it aside.
 * prev (may be NULL) is the table in use: the mapping from rs's rules to prev's by name is prepared here, and
 * metrics_set_rules() then carries their counts over, so a counter survives a reload. NULL on ENOMEM.
 */
struct metrics_rules *metrics_rules_new(const struct ruleset *rs, const struct metrics_rules *prev);
struct metrics_rules *metrics_rules_ref(struct metrics_rules *mr);
struct metrics_rules *metrics_rules_unref(struct metrics_rules *mr);
size_t metrics_rules_count(const struct metrics_rules *mr);
const char *metrics_rules_name(const struct metrics_rules *mr, size_t i);
uint64_t metrics_rules_hits(const struct metrics_rules *mr, size_t i);

/*
 * Engine thread: carries counts over from the table in use, publishes mr for readers and takes ownership of it;
 * the previous table is released (freed when the last reader is done).
 */
void metrics_set_rules(struct metrics *m, struct metrics_rules *mr);
/* The published table (borrowed; engine thread). */
struct metrics_rules *metrics_rules_current(struct metrics *m);

/* ---- engine-thread counters (single writer: plain loads and stores, no locked instructions) ---- */

#define METRICS_INC(a)                                                                    \
	atomic_store_explicit(&(a), atomic_load_explicit(&(a), memory_order_relaxed) + 1, \
			      memory_order_relaxed)

struct metrics_rules {
	atomic_uint refs;
	size_t n;
	struct metrics_rule *rules;
	int32_t *carry; /* old index by new index, -1 = new rule; freed once carried */
	_Atomic uint64_t *hits;
};

static inline void metrics_rule_hit(struct metrics_rules *mr, uint32_t rule_id)
{
	if (rule_id < mr->n)
		METRICS_INC(mr->hits[rule_id]);
}

/* An event of source was processed. */
void metrics_count_event(struct metrics *m, unsigned source);
uint64_t metrics_events(struct metrics *m, unsigned source);
/* An alert left for the outputs (priority: enum prio; source: index, or METRICS_SOURCE_INTERNAL). */
#define METRICS_SOURCE_INTERNAL METRICS_MAX_SOURCES
void metrics_count_alert(struct metrics *m, int priority, unsigned source);
/* A rule match was throttled by outputs_rate_limit. */
void metrics_count_rate_limited(struct metrics *m);
/* A reload finished (ok or failed); on success the reload timestamp moves. */
void metrics_count_reload(struct metrics *m, bool ok);
/* Rules loaded and enabled in the rule set in use. */
void metrics_set_rules_loaded(struct metrics *m, size_t total, size_t enabled);
/* The outputs whose per-sink counters are exported (borrowed until metrics_free or the next call). */
void metrics_set_outputs(struct metrics *m, struct outputs *o);
/*
 * Driver counters, copied (the syscall source calls this from the engine thread, e.g. once a second): total is
 * the sum over CPUs, percpu (may be NULL) ncpu entries. Until the first call nothing scap-related is exported.
 */
void metrics_set_driver(struct metrics *m, const struct evt_counters *total,
			const struct evt_counters *percpu, size_t ncpu);
/* The engine loop is alive (a timer calls this); read by the health check. */
void metrics_heartbeat(struct metrics *m, uint64_t now_ns);
uint64_t metrics_last_heartbeat(struct metrics *m);

/* ---- rendering (any thread) ---- */

#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4"

/* Appends the Prometheus text exposition (HELP/TYPE once per family). Returns 0 or the strbuf error. */
int metrics_render_prometheus(struct metrics *m, struct strbuf *sb);

/* One field of a metrics snapshot (upstream's output_fields of "Falco internal: metrics snapshot"). */
enum metrics_value_type {
	METRICS_U64,
	METRICS_DOUBLE,
	METRICS_STR,
};
struct metrics_item {
	char *name; /* owned */
	enum metrics_value_type type;
	uint64_t u64;
	double d;
	char *str; /* owned */
};
struct metrics_snapshot {
	struct metrics_item *items; /* sorted by name */
	size_t n, cap;
};

/*
 * Collects a snapshot (engine thread: it also remembers the event count for falco.evts_rate_sec). Returns 0 or
 * -ENOMEM. Release with metrics_snapshot_done.
 */
int metrics_snapshot(struct metrics *m, uint64_t now_ns, struct metrics_snapshot *ret);
void metrics_snapshot_done(struct metrics_snapshot *s);

/* ---- helpers (exposed for tests) ---- */

/* Appends s as a Prometheus label value (\\, \" and \n escaped). */
int metrics_append_label_value(struct strbuf *sb, const char *s);
/* "Read sensitive file" -> "Read_sensitive_file": [a-zA-Z0-9_] kept, everything else '_'. */
void metrics_sanitize_name(const char *s, char *buf, size_t len);
