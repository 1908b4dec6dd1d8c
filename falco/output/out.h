/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert outputs. The engine thread formats each alert once (text line or Falco's JSON schema, out_fmt_*) into an
 * immutable, refcounted struct out_alert, and out_push() hands it to every enabled sink through the sink's own
 * bounded queue, served by the sink's own worker thread. A slow sink overflows only its own queue (counted per
 * sink, never silent) and never blocks the engine. Nothing here logs: problems reach the daemon through the
 * on_error callback (called from worker threads) and the counters of out_stats().
 *
 * Adding a sink (syslog, journald, program, http): implement struct out_sink_ops in out_<name>.c, give it a
 * constructor returning struct out_sink *, and register it with out_add_sink().
 */
#pragma once

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "falco/engine/value.h"

/* ---- the alert record ---- */

/* One output field of an alert as text, for structured sinks (journald). value NULL = the field was missing. */
struct out_kv {
	const char *key;
	const char *value;
};

struct out_alert {
	atomic_uint refs;
	int priority;	  /* enum prio */
	uint64_t ts;	  /* event time, ns since the epoch */
	bool json;	  /* line is a JSON object (http: Content-Type) */
	const char *rule; /* points into the same allocation */
	const char *source;
	const char *line; /* what sinks write, without the trailing newline */
	size_t len;
	/* Only when the producer attached them (see out_wants_structured()); else NULL and 0. Same allocation. */
	const char *const *tags; /* sorted */
	size_t ntags;
	const struct out_kv *fields; /* in output order */
	size_t nfields;
};

/*
 * One allocation holding the record and copies of rule, source and line. refs starts at 1 (the caller's).
 * NULL on ENOMEM.
 */
struct out_alert *out_alert_new(int priority, uint64_t ts, bool json, const char *rule,
				const char *source, const char *line, size_t len);

/* Everything an alert can carry; out_alert_new_info() copies it all into one allocation. */
struct out_alert_info {
	int priority;
	uint64_t ts;
	bool json;
	const char *rule;
	const char *source;
	const char *line;
	size_t len;
	const char *const *tags; /* may be NULL */
	size_t ntags;
	const struct out_kv *fields; /* may be NULL */
	size_t nfields;
};

/* Like out_alert_new, with tags and fields (copied). NULL on ENOMEM. */
struct out_alert *out_alert_new_info(const struct out_alert_info *info);
struct out_alert *out_alert_ref(struct out_alert *a);
/* Drops a reference; frees on the last one. Accepts NULL; returns NULL. Thread-safe. */
struct out_alert *out_alert_unref(struct out_alert *a);

/* ---- formatting (pure functions, engine thread) ---- */

struct out_fmt_opts {
	bool json;
	bool include_output;	    /* json_include_output_property */
	bool include_tags;	    /* json_include_tags_property */
	bool include_message;	    /* json_include_message_property */
	bool include_output_fields; /* json_include_output_fields_property */
	bool iso8601;		    /* time_format_iso_8601 */
	const char *hostname;
};

/* A field of the rule output with its value for this event (a shallow copy); missing = JSON null. */
struct out_field {
	const char *name;
	struct value val;
	bool missing;
};

/*
 * The time prefix as %evt.time renders it: local "HH:MM:SS.nnnnnnnnn", or with iso8601 the UTC
 * "YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000". Returns 0 or -ENOSPC (buf too small; 40 bytes always suffice).
 */
int out_fmt_time(uint64_t ts, bool iso8601, char *buf, size_t len);

/* "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (the JSON "time" property). Same returns. */
int out_fmt_time_utc(uint64_t ts, char *buf, size_t len);

/*
 * The full text line "<time_str>: <Priority> <message>", unsanitised (the JSON "output" property). Appends to sb.
 * Returns 0 or the strbuf error.
 */
int out_fmt_output(const char *time_str, int priority, const char *message, struct strbuf *sb);

/*
 * The text alert line: like out_fmt_output, with control characters escaped as in JSON (\n, \t, \u001b ...)
 * and invalid UTF-8 replaced by U+FFFD, so one alert is always one line. Quotes and backslashes stay as they are.
 */
int out_fmt_text(const char *time_str, int priority, const char *message, struct strbuf *sb);

/*
 * One value as JSON: numbers as numbers, booleans, strings (escaped), addresses as strings, lists as arrays.
 * Returns 0 or the strbuf error.
 */
int out_fmt_value_json(const struct value *v, struct strbuf *sb);

/*
 * The JSON alert in Falco's schema with sorted keys: hostname, message?, output?, output_fields?, priority, rule,
 * source, tags?, time. output is the text line (unsanitised; JSON escaping applies), message the rule output
 * alone. fields are sorted and de-duplicated by name here (the last one wins); tags are sorted here too.
 * Returns 0, -ENOMEM or the strbuf error.
 */
int out_fmt_json(const struct out_fmt_opts *o, uint64_t ts, int priority, const char *rule,
		 const char *source, const char *const *tags, size_t ntags, const char *output_line,
		 const char *message, const struct out_field *fields, size_t nfields,
		 struct strbuf *sb);

/* Long priority name as in alerts ("Warning", "Informational"); "Unknown" out of range. */
const char *out_priority_name(int priority);

/* ---- sinks ---- */

struct out_sink;

struct out_sink_ops {
	const char *name; /* "stdout", "file", "syslog", ... */
	/* Opens resources; called on the sink's worker thread before the first write. May be NULL. */
	int (*open)(struct out_sink *s, char *errbuf, size_t errlen);
	/* Writes one alert. May block (the worker absorbs it). Returns 0 or -errno with errbuf. */
	int (*write)(struct out_sink *s, const struct out_alert *a, char *errbuf, size_t errlen);
	/* Flushes buffered data; called when the sink's queue runs empty and before close. May be NULL. */
	int (*flush)(struct out_sink *s, char *errbuf, size_t errlen);
	/* Reopens (logrotate: SIGHUP/SIGUSR1). May be NULL. */
	int (*reopen)(struct out_sink *s, char *errbuf, size_t errlen);
	/* Releases everything, including s itself. */
	void (*close)(struct out_sink *s);
};

/* Sinks embed this as their first member. */
struct out_sink {
	const struct out_sink_ops *ops;
	bool buffered;	 /* buffered_outputs: batch writes, flush when the queue runs empty */
	bool structured; /* the sink reads out_alert.tags/fields: producers must attach them */
	/*
	 * Set by the worker before each write: how many alerts are still queued behind this one. A sink may hold
	 * the write back while it is non-zero (the worker calls flush as soon as the queue runs empty), so a
	 * backlog goes out in one write(2) instead of one per alert.
	 */
	size_t backlog;
	/*
	 * Alerts held back in a buffer (their write returned 0), and alerts lost when writing such a buffer failed,
	 * the alert whose own write call reports the failure excepted. The worker moves lost alerts from written to
	 * errors, so both counters stay exact per alert. Sink helper: out_sink_settle() in out_sink_util.h.
	 */
	size_t held;
	uint64_t lost;
	/* set when out_free() gives up on the sink: retrying or backing off should stop (see out_sink_sleep) */
	atomic_bool stopping;
};

/*
 * Sleeps ms milliseconds on a sink's worker in short slices. Returns false as soon as out_free() gave up on the
 * sink (its drain time is over: the caller then stops retrying), true after the full sleep.
 */
bool out_sink_sleep(struct out_sink *s, unsigned ms);

/* CLOCK_MONOTONIC in nanoseconds (the clock of out_stats' *_since_ns and of the rate limiter). */
uint64_t out_monotonic_ns(void);

/* stdout: one line per alert. Buffered: lines are collected and written when the queue runs empty or 64 KiB fill. */
struct out_sink *out_stdout_new(bool buffered);

/*
 * file_output: appends lines to path (created 0640 if missing). keep_alive keeps the file open between alerts
 * and reopens it on out_reopen(); without it the file is opened and closed for each alert (upstream's
 * semantics), so rotation needs no signal. Unbuffered, every alert is written before the worker waits for the
 * next one; to a regular file, alerts already queued behind it go in the same write (up to 64 KiB): no reader
 * of a regular file can tell the difference, and a backlog costs one system call instead of one per alert. A
 * FIFO or device gets one write per alert. NULL on ENOMEM.
 */
struct out_sink *out_file_new(const char *path, bool keep_alive, bool buffered);

/*
 * syslog_output: syslog(3) with the alert's priority as the syslog level (Falco's priorities are syslog's:
 * Emergency = LOG_EMERG ... Debug = LOG_DEBUG), facility and ident as set by openlog() (falco's logging: LOG_USER,
 * "falco"). NULL on ENOMEM.
 */
struct out_sink *out_syslog_new(void);

/*
 * journald_output (ours): one journal entry per alert through sd_journal_sendv(), with MESSAGE (the alert line),
 * PRIORITY (as syslog), SYSLOG_IDENTIFIER=falco, FALCO_RULE, FALCO_PRIORITY (long name), FALCO_SOURCE, FALCO_TAGS
 * (comma-separated), FALCO_TIME (UTC ISO 8601) and one FALCO_FIELD_<NAME> per output field, NAME being the field
 * name upper-cased with every character outside [A-Z0-9] turned into '_' (ka.user.name -> FALCO_FIELD_KA_USER_NAME,
 * missing values are "<NA>"). NULL on ENOMEM.
 */
struct out_sink *out_journald_new(void);

/*
 * Journal field name for an output field: "FALCO_FIELD_" + name mapped as above, at most 64 characters (journald's
 * limit). Writes into buf (at least 65 bytes). Returns the length, or -ENOSPC.
 */
int out_journald_field_name(const char *field, char *buf, size_t len);

struct out_program_config {
	const char *program; /* the command line */
	bool keep_alive; /* one long-lived process (restarted with backoff) instead of one per alert */
	bool buffered;
	unsigned backoff_min_ms; /* first restart delay (0: 100 ms) */
	unsigned backoff_max_ms; /* cap (0: 30 s) */
};

/*
 * program_output: alerts are written, one line each, to the standard input of a program. program is split into
 * words like a shell would (blanks, '...', "...", backslash) and executed directly with posix_spawnp(); only if it
 * uses shell syntax outside quotes (| & ; < > ( ) $ ` * ? [ ~ { } #, a newline) does it run as /bin/sh -c program,
 * like upstream's popen(). Either way the alert text only ever reaches the program's standard input, never a
 * command line. keep_alive: started once (at the first alert), restarted if it dies, with a delay doubling from
 * backoff_min_ms to backoff_max_ms while it keeps dying within 10 s of its start; without keep_alive (upstream's
 * default) a process is started per alert (or per buffered batch), its input closed and the process waited for.
 * The program inherits falco's stdout and stderr. NULL on ENOMEM.
 */
struct out_sink *out_program_new(const struct out_program_config *cfg);

/* Whether program needs /bin/sh (shell syntax outside quotes). */
bool out_program_needs_shell(const char *program);

/*
 * Splits program into argv as described above. Returns the word count with *ret_argv (NULL-terminated, one
 * allocation: free() it), -EINVAL (unbalanced quotes, empty), -ENOMEM.
 */
int out_program_split(const char *program, char ***ret_argv);

/* The backoff used by the program and http sinks: min doubling to max. */
struct out_backoff {
	unsigned min_ms, max_ms, cur_ms;
};
void out_backoff_init(struct out_backoff *b, unsigned min_ms, unsigned max_ms);
/* The next delay: min_ms first, then twice the previous one, capped at max_ms. */
unsigned out_backoff_next(struct out_backoff *b);
void out_backoff_reset(struct out_backoff *b);

struct out_http_config {
	const char *url;
	const char *user_agent; /* "falcosecurity/falco" */
	bool json;		/* Content-Type: application/json, else text/plain */
	bool insecure;		/* no peer/host verification (explicit only) */
	const char *ca_cert;	/* CURLOPT_CAINFO; "" = none */
	const char *ca_bundle;	/* CURLOPT_CAINFO when ca_cert is empty */
	const char *ca_path;	/* CURLOPT_CAPATH when both are empty */
	bool mtls;		/* present client_cert/client_key */
	const char *client_cert;
	const char *client_key;
	bool echo;	       /* copy response bodies to stdout */
	bool compress_uploads; /* CURLOPT_TRANSFER_ENCODING, as upstream */
	bool keep_alive; /* TCP keepalive probes, as upstream (connections are reused either way) */
	unsigned max_consecutive_timeouts; /* see out_http_new */
	const char *const *headers;	   /* "Name: value" strings, NULL-terminated; may be NULL */
	unsigned timeout_ms;		   /* whole request; 0 = 5000 */
	unsigned connect_timeout_ms;	   /* 0 = 2000 */
	unsigned retries;		   /* extra attempts for a transient failure */
	unsigned retry_backoff_ms; /* first retry delay, doubling, capped at 10 s; 0 = 200 */
};

/*
 * http_output: POSTs each alert (the JSON object in JSON mode, else the text line) with libcurl, reusing the
 * connection. Only http and https URLs, no redirects; https verifies the peer and host name unless insecure.
 * A transient failure (connection error, timeout, 408, 429, 5xx) is retried up to retries times with backoff;
 * other 4xx are errors at once. After max_consecutive_timeouts alerts in a row failed on timeouts, the receiver is
 * considered down: alerts get a single attempt (no retries) until one succeeds, so a hanging receiver costs one
 * timeout per alert. Errors name the URL without its query or credentials. NULL on ENOMEM; a bad configuration
 * is reported by the first write (errbuf).
 */
struct out_sink *out_http_new(const struct out_http_config *cfg);

/*
 * The request headers the http sink sends: Content-Type by mode, then cfg->headers in order. A custom header with
 * a CR or LF, or without "Name:", is refused (-EINVAL with errbuf). Appends to *list (a struct curl_slist *).
 * Exposed for tests.
 */
int out_http_build_headers(const struct out_http_config *cfg, void **list, char *errbuf,
			   size_t errlen);

/* What http errors show of a URL: scheme://host[:port]/path (no userinfo, query or fragment). */
void out_http_redact_url(const char *url, char *buf, size_t len);

/* Whether an HTTP status is worth retrying (408, 429, 5xx). */
bool out_http_status_retryable(long status);

/* ---- fan-out ---- */

struct out_stats {
	const char *name;
	uint64_t written;   /* alerts the sink accepted */
	uint64_t dropped;   /* alerts refused because the sink's queue was full */
	uint64_t errors;    /* failed writes/opens */
	uint64_t discarded; /* still queued when shutdown gave up on a blocked sink */
	size_t queued;
	size_t capacity;
	uint64_t
		busy_since_ns; /* out_monotonic_ns() when the call in progress (write, open...) began; 0 = idle */
	uint64_t
		full_since_ns; /* since when the queue has been overflowing without draining below half; 0 = not */
};

struct out_options {
	size_t queue_capacity; /* per sink; 0 = OUT_DEFAULT_QUEUE */
	/* Called from worker threads with the sink name and a message (write errors, reopen failures). */
	void (*on_error)(void *ud, const char *sink, const char *msg);
	/*
	 * Optional, called from out_push() when alerts wait for a sleeping worker: return true to promise an
	 * out_kick() soon (at the end of the caller's current turn of events, so one wake-up carries the whole
	 * batch), false to have the workers woken now (e.g. when called on a thread that cannot schedule the kick).
	 * NULL: every push wakes a sleeping worker at once.
	 */
	bool (*defer_wake)(void *ud);
	void *ud;
};

#define OUT_DEFAULT_QUEUE 16384

struct outputs;

struct outputs *out_new(const struct out_options *opts);

/*
 * Registers a sink and starts its worker thread; ownership of s passes to the outputs (closed by out_free,
 * also on failure). Returns 0, -ENOMEM, or -errno from pthread_create.
 */
int out_add_sink(struct outputs *o, struct out_sink *s);

/*
 * Hands a to every sink (each takes its own reference; the caller keeps its own). Never blocks on a sink.
 * Returns the number of sinks whose queue was full (their drop counters were incremented); the daemon logs the
 * first drop of each sink (see out_stats).
 */
int out_push(struct outputs *o, struct out_alert *a);

/* Wakes every worker that sleeps with alerts queued (the promise of opts.defer_wake). Any thread. */
void out_kick(struct outputs *o);

/* Asks every sink to reopen (logrotate), in order with the alerts already queued. */
void out_reopen(struct outputs *o);

size_t out_count(const struct outputs *o);
/* Whether some sink is structured (alerts should carry tags and fields: out_alert_new_info). */
bool out_wants_structured(const struct outputs *o);
/*
 * How many sinks look wedged at now_ns (out_monotonic_ns()): a call into the sink (write, open, flush, reopen)
 * in progress for more than stall_ns, or a queue overflowing without draining below half for more than stall_ns.
 * The first one is described in reason ("output 'http' stalled: ..."). Lock-free: reads atomics only, so the
 * webserver thread may call it for /healthz. o must stay alive meanwhile.
 */
int out_check_stalled(struct outputs *o, uint64_t now_ns, uint64_t stall_ns, char *reason,
		      size_t len);
/* Counters of sink i (0 .. out_count-1); thread-safe snapshot. */
void out_stats(struct outputs *o, size_t i, struct out_stats *ret);

/*
 * Stops accepting alerts, lets every worker drain its queue, flushes and closes the sinks. A sink still blocked
 * after timeout_ms is abandoned: its remaining alerts are counted as discarded (read them with out_stats before
 * the free completes via ret_stats, may be NULL, out_count entries) and its thread is left to the process exit.
 * Returns NULL.
 */
struct outputs *out_free(struct outputs *o, unsigned timeout_ms, struct out_stats *ret_stats);

/* ---- rate limiting (engine thread) ---- */

/*
 * A token bucket as upstream's: it starts full with max_burst tokens, gains rate tokens per second (never more
 * than max_burst), and each alert needs one token.
 */
struct out_token_bucket {
	double rate, max_burst, tokens;
	uint64_t last_ns;
};
void out_token_bucket_init(struct out_token_bucket *tb, double rate, double max_burst,
			   uint64_t now_ns);
/* Takes a token if there is one (true), after adding what accrued since the last call. */
bool out_token_bucket_claim(struct out_token_bucket *tb, uint64_t now_ns);

/*
 * Alert rate limiting (outputs_rate_limit, or upstream's legacy outputs.rate/max_burst): one bucket per rule, or a
 * single one for every alert when per_rule is false. rate <= 0 means off (out_ratelimit_new returns NULL with
 * *ret_off set). Engine thread only; not thread-safe.
 */
struct out_ratelimit;
struct out_ratelimit *out_ratelimit_new(double rate, double max_burst, bool per_rule,
					size_t nrules);
struct out_ratelimit *out_ratelimit_free(struct out_ratelimit *rl);
/* Whether rule_id may send an alert now; false means throttled. rule_id >= nrules shares one extra bucket. */
bool out_ratelimit_claim(struct out_ratelimit *rl, uint32_t rule_id, uint64_t now_ns);
