/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The k8s_audit webhook: Kubernetes API servers POST audit events (an Event, an EventList, or a JSON array of
 * those) to https://<host>:9765/k8s-audit. The server runs on its own thread (own libevent base, evhttp,
 * OpenSSL), checks and parses each body there with k8s_batch_parse(), and hands the resulting batches to the
 * engine thread through a bounded queue (by count and by bytes) whose eventfd wakes the engine's event_base.
 * When the queue is full the client gets 429, so memory stays bounded whatever the sender does. The engine side
 * delivers at most 16 batches per pass of its loop, so the engine's other sources and timers keep their turn.
 *
 * Replies (upstream's k8saudit plugin contract, plus two deliberate differences marked *):
 *   200 ""                                payload parsed and queued (also for an empty EventList)
 *   404 "404 page not found"              any path other than cfg.path
 *   405 "<METHOD> method not allowed"     method other than POST
 *   400 "wrong Content Type"              Content-Type does not contain application/json
 *   413 (libevent's page)             *   body larger than limits.max_body_size (upstream answers 400)
 *   400 "bad request: <reason>"       *   malformed JSON, not an audit payload, or every event dropped (for
 *                                         example one event larger than max_event_size); upstream answers 200
 *                                         before parsing and only logs these
 *   429 "queue full, retry later"         the engine is behind; Retry-After: 1
 *   503 "too many connections"            limits.max_connections other connections are being served (a
 *                                         connection is admitted by its first request until it closes);
 *                                         Retry-After: 1, the connection is closed
 *   503 "server shutting down"            during stop's grace period
 *   403                                   TLS configured but the connection is not verified (defense in depth)
 * Text bodies end with "\n" and are text/plain, as Go's http.Error writes them. Events dropped inside an
 * accepted payload (too large, no stageTimestamp) are counted and reported through on_error.
 *
 * Memory: buffered requests are bounded as described in http.h; parsed batches waiting for the engine by
 * queue_max_bytes of input (their parse trees take about 5 times that); one parse runs at a time.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct event_base;
struct k8s_batch;
struct http_webhook;

struct http_webhook_config {
	/* "0.0.0.0"; "" or "*" = all interfaces, IPv6 too (Go's ":9765") */
	const char *listen_address;
	/* 9765; 0 = any free port (http_webhook_port() tells which) */
	uint16_t listen_port;
	/* "/k8s-audit"; must start with '/' */
	const char *path;
	/* enabled with /etc/falco/falco.pem; plain HTTP only when the caller says so */
	struct http_tls_config tls;
	/* max_body_size is webhookMaxBatchSize (12 MiB) */
	struct http_limits limits;
	/* maxEventSize (256 KiB): a larger event is dropped and counted */
	size_t max_event_size;
	/* batches waiting for the engine (64), and their payload bytes (32 MiB); beyond either: 429 */
	size_t queue_max_batches;
	size_t queue_max_bytes;
};

/* Fills cfg with the defaults above. Strings are static. */
void http_webhook_config_init(struct http_webhook_config *cfg);

struct http_webhook_callbacks {
	/*
	 * Runs on the engine thread (from engine_base's loop) for each parsed batch, in arrival order, and takes
	 * ownership of b (free it with k8s_batch_free()). b->n >= 1. Required.
	 */
	void (*deliver)(void *ud, struct k8s_batch *b);
	/*
	 * Runs on the webhook thread with upstream-like text ("event larger than maxEventSize: size=300000",
	 * "data not recognized as a k8s audit event"), at most 20 per second plus a "N messages suppressed" line.
	 * Must be thread-safe with respect to the daemon's logging. May be NULL.
	 */
	void (*on_error)(void *ud, const char *msg);
	void *ud;
};

/*
 * Builds the TLS context, binds the listener and starts the webhook thread; adds an event for the queue's eventfd
 * to engine_base. Call it on the thread that runs engine_base (or before that loop starts).
 * Returns 0 with *ret, or -errno with errbuf: "cannot bind 0.0.0.0:9765: Address already in use", "cannot load
 * certificate '/etc/falco/falco.pem': No such file or directory", -EINVAL for an invalid configuration.
 * Copies what it needs from cfg; nothing is borrowed after return. Does not log.
 */
int http_webhook_start(const struct http_webhook_config *cfg, struct event_base *engine_base,
		       const struct http_webhook_callbacks *cbs, struct http_webhook **ret,
		       char *errbuf, size_t errlen);

/* The bound port (the configured one, or the one the kernel chose for port 0). */
uint16_t http_webhook_port(const struct http_webhook *wh);

/*
 * Stops accepting, gives requests in progress limits.shutdown_grace_ms to finish, joins the thread, then delivers
 * the batches still queued (their senders were told 200) and frees everything. Call it on the engine thread
 * while deliver is still valid. Accepts NULL; returns NULL.
 */
struct http_webhook *http_webhook_stop(struct http_webhook *wh);

/* Replies counted by http_webhook_stats.requests[]. */
enum http_webhook_result {
	HTTP_WEBHOOK_OK,		 /* 200 */
	HTTP_WEBHOOK_BAD_REQUEST,	 /* 400: content type, malformed JSON, no usable event */
	HTTP_WEBHOOK_FORBIDDEN,		 /* 403 */
	HTTP_WEBHOOK_NOT_FOUND,		 /* 404 */
	HTTP_WEBHOOK_METHOD_NOT_ALLOWED, /* 405 */
	HTTP_WEBHOOK_TOO_MANY_REQUESTS,	 /* 429: queue full */
	HTTP_WEBHOOK_UNAVAILABLE,	 /* 503: too many connections, stopping, out of memory */
	_HTTP_WEBHOOK_RESULT_MAX,
};

/* HTTP status code of a result, e.g. 429 for HTTP_WEBHOOK_TOO_MANY_REQUESTS. */
int http_webhook_result_status(enum http_webhook_result r);

/*
 * Counters, read with atomics from any thread. 413s and malformed HTTP (header too large, bad request line) are
 * answered inside libevent before our handler runs, so they are not in requests[].
 */
struct http_webhook_stats {
	uint64_t requests[_HTTP_WEBHOOK_RESULT_MAX];
	uint64_t events_received;  /* events in accepted payloads, queued for the engine */
	uint64_t events_dropped;   /* events skipped inside payloads (too large, malformed item) */
	uint64_t events_delivered; /* handed to deliver() */
	uint64_t bytes_received;   /* body bytes of accepted payloads */
	uint64_t queue_depth;	   /* batches waiting for the engine now */
	uint64_t queue_bytes;	   /* their payload bytes */
	uint64_t connections;	   /* open connections at the last count */
};

void http_webhook_get_stats(struct http_webhook *wh, struct http_webhook_stats *ret);

/*
 * For the daemon's health callback (webserver.h), from any thread: false, with reason, when
 *   - the webhook thread's loop has ended ("k8s_audit webhook: its thread has stopped, ..."),
 *   - the webhook thread has not turned its loop for longer than stall_ms (+ 250 ms, its heartbeat's period):
 *     stuck in a handler or in a blocking call ("k8s_audit webhook: its thread has been stuck for 2013 ms, ..."),
 *   - batches have been waiting while the engine took none for longer than stall_ms: the engine is wedged
 *     ("k8s_audit webhook: 64 batches waiting, the engine took none for 30012 ms").
 * True otherwise, including when nothing is waiting.
 */
bool http_webhook_healthy(struct http_webhook *wh, unsigned stall_ms, char *reason,
			  size_t reasonlen);

/* Whether the webhook thread still runs (false once its loop ended without http_webhook_stop()). Any thread. */
bool http_webhook_running(struct http_webhook *wh);
