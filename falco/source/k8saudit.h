/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The k8s_audit event source: Kubernetes audit events (audit.k8s.io Event objects) parsed from webhook bodies or
 * replay files, and the ka.* / jevt.* / json.* fields extracted from them (src_k8s_audit in fields.h).
 *
 * A payload (one Event, an EventList, or a JSON array of those) is parsed once into a batch; events borrow from
 * the batch's JSON tree. Fields are extracted lazily from the tree on the engine thread. Nothing here logs:
 * problems are reported through the on_error callback and return codes.
 *
 * Threads: k8s_batch_parse may run on any thread (the webhook parses on its own); a batch is then handed over
 * whole. Extraction writes to k8s_evt.cache, so one batch's events are evaluated by one thread at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cJSON;

struct k8s_evt {
	const struct cJSON *obj; /* the audit Event object, borrowed from the batch */
	uint64_t ts;		 /* stageTimestamp in ns since the epoch */
	/*
	 * Extractor-private index of hot subtrees, owned by the batch (valid as long as it). May be NULL for an
	 * event built by hand around any cJSON object: extractors then index it per call, slower but correct.
	 */
	void *cache;
};

struct k8s_batch {
	struct cJSON *
		root; /* parse tree: cJSON-compatible nodes in the batch's own arena; never cJSON_Delete() it */
	struct k8s_evt *evts;
	size_t n;
	size_t bytes; /* size of the input payload, for queue memory accounting */
};

struct k8s_parse_opts {
	size_t max_event_size; /* an event whose compact JSON is larger is dropped (k8saudit maxEventSize); 0 = 256 KiB */
	size_t max_events; /* events per payload; 0 = 100000 */
	/* Called for every problem (bad item skipped, payload rejected); msg is upstream-like text. May be NULL. */
	void (*on_error)(void *ud, const char *msg);
	void *ud;
};

/*
 * Parses a payload. Accepted shapes (as upstream's k8saudit plugin): an object with "kind":"Event", an object with
 * "kind":"EventList" (bad items are reported and skipped), or a top-level array of those (an element that is
 * neither aborts the whole payload). Each event needs an RFC 3339 stageTimestamp.
 * Returns 0 with *ret (possibly with n == 0 when every item was skipped), -EINVAL for invalid JSON or an
 * unrecognized payload (errbuf says why: "invalid JSON: ...", "data not recognized as a k8s audit event", or
 * "too many events in payload: ..." beyond max_events), -ENOMEM. Per-item messages are upstream's: "can't
 * read stageTimestamp", "event larger than maxEventSize: size=N". An event's size is its compact JSON size;
 * it is only measured when the payload itself is larger than max_event_size.
 * *ret_skipped (may be NULL) counts items reported and skipped.
 */
int k8s_batch_parse(const char *buf, size_t len, const struct k8s_parse_opts *opts,
		    struct k8s_batch **ret, size_t *ret_skipped, char *errbuf, size_t errlen);
struct k8s_batch *k8s_batch_free(struct k8s_batch *b);

/*
 * Parses "2026-01-02T15:04:05.123456789Z" / "+01:00" offsets into ns since the epoch, as Go's RFC3339Nano
 * parser: fraction optional (any length, truncated to ns; '.' or ','), 'T' and 'Z' upper case, dates checked.
 * Returns 0, or -EINVAL (also before 1970 or past 2554, which uint64 ns cannot hold).
 */
int k8s_parse_rfc3339(const char *s, uint64_t *ret_ns);

/*
 * Replay of a file of audit events: one Event/EventList/array per line (JSON lines), or one JSON document
 * spanning the whole file (tried when the first non-blank line is not valid JSON by itself). Lines are bounded
 * (max_line, default 64 KiB as upstream's scanner, raised to max_event_size when larger); longer lines are
 * reported and skipped. A directory replays its regular files, oldest mtime first (as upstream). Malformed
 * lines are reported as "FILE:LINE: reason" (whole-document problems as "FILE: reason") and skipped.
 * k8s_replay_open fails with -errno when the path (or the first file) cannot be opened. Nothing logs.
 */
struct k8s_replay;
int k8s_replay_open(const char *path, const struct k8s_parse_opts *opts, struct k8s_replay **ret,
		    char *errbuf, size_t errlen);
/*
 * Next batch of events, in file order. Returns 1 with *ret, 0 at end of file, -errno on a read error.
 * Malformed lines do not stop the replay: they are reported (on_error with "FILE:LINE: ...") and counted.
 */
int k8s_replay_next(struct k8s_replay *r, struct k8s_batch **ret, char *errbuf, size_t errlen);
/* Number of malformed lines/items seen so far. */
size_t k8s_replay_errors(const struct k8s_replay *r);
struct k8s_replay *k8s_replay_close(struct k8s_replay *r);
