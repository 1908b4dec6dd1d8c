/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The k8s_audit webhook (see webhook.h for the reply contract). The request handler runs on the webhook thread:
 * it checks the request, parses the body into a k8s_batch and pushes it onto the SPSC queue; the engine side is a
 * persistent event on the engine's base, fired by the queue's eventfd, that pops a bounded number of batches per
 * wakeup so other event sources keep their turn.
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/err.h"
#include "falco/source/k8saudit.h"
#include "http_internal.h"
#include "webhook.h"

#define DELIVER_BURST	  16 /* batches per engine wakeup */
#define ERRORS_PER_SECOND 20
#define FIRST_ERROR_MAX	  256

struct http_webhook {
	struct http_core core;
	struct http_queue q;
	struct event *wake_ev; /* on the engine base */
	struct http_webhook_callbacks cbs;
	char *path;
	size_t max_event_size;

	/* on_error rate limit (webhook thread only) */
	time_t err_second;
	unsigned err_count;
	uint64_t err_suppressed;

	atomic_uint_fast64_t requests[_HTTP_WEBHOOK_RESULT_MAX];
	atomic_uint_fast64_t events_received, events_dropped, events_delivered, bytes_received;
	/* CLOCK_MONOTONIC ms of the engine's last pop, or of a push into an empty queue */
	atomic_uint_fast64_t progress_ms;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void http_webhook_config_init(struct http_webhook_config *cfg)
{
	*cfg = (struct http_webhook_config){
		.listen_address = "0.0.0.0",
		.listen_port = 9765,
		.path = "/k8s-audit",
		.tls = {.enabled = true, .certificate = "/etc/falco/falco.pem"},
		.limits =
			{
				.max_connections = 64,
				.max_header_size = 16 << 10,
				.max_body_size = 12 << 20,
				.timeout_ms = 15000,
				.shutdown_grace_ms = 2000,
			},
		.max_event_size = 256 << 10,
		.queue_max_batches = 64,
		.queue_max_bytes = 32 << 20,
	};
}

int http_webhook_result_status(enum http_webhook_result r)
{
	static const int codes[_HTTP_WEBHOOK_RESULT_MAX] = {
		[HTTP_WEBHOOK_OK] = 200,
		[HTTP_WEBHOOK_BAD_REQUEST] = 400,
		[HTTP_WEBHOOK_FORBIDDEN] = 403,
		[HTTP_WEBHOOK_NOT_FOUND] = 404,
		[HTTP_WEBHOOK_METHOD_NOT_ALLOWED] = 405,
		[HTTP_WEBHOOK_TOO_MANY_REQUESTS] = 429,
		[HTTP_WEBHOOK_UNAVAILABLE] = 503,
	};
	return (unsigned)r < _HTTP_WEBHOOK_RESULT_MAX ? codes[r] : 0;
}

static void count_reply(struct http_webhook *wh, int code)
{
	for (unsigned i = 0; i < _HTTP_WEBHOOK_RESULT_MAX; i++)
		if (http_webhook_result_status(i) == code) {
			atomic_fetch_add_explicit(&wh->requests[i], 1, memory_order_relaxed);
			return;
		}
}

static void reply(struct http_webhook *wh, struct evhttp_request *req, int code, const char *msg,
		  bool close)
{
	if (code == 200)
		http_reply(req, 200, NULL, NULL, 0, close);
	else
		http_reply_text(req, code, msg, close);
	count_reply(wh, code);
}

/* ---- parse errors (webhook thread) ---- */

static void report(struct http_webhook *wh, const char *msg)
{
	time_t now = time(NULL);

	if (!wh->cbs.on_error)
		return;
	if (now != wh->err_second) {
		if (wh->err_suppressed) {
			char buf[96];

			(void)snprintf(buf, sizeof(buf), "%llu messages suppressed",
				       (unsigned long long)wh->err_suppressed);
			wh->cbs.on_error(wh->cbs.ud, buf);
		}
		wh->err_second = now;
		wh->err_count = 0;
		wh->err_suppressed = 0;
	}
	if (wh->err_count++ < ERRORS_PER_SECOND)
		wh->cbs.on_error(wh->cbs.ud, msg);
	else
		wh->err_suppressed++;
}

struct parse_ctx {
	struct http_webhook *wh;
	char first[FIRST_ERROR_MAX]; /* kept for the 400 reply when nothing usable is left */
};

static void on_parse_error(void *ud, const char *msg)
{
	struct parse_ctx *p = ud;

	if (!p->first[0])
		(void)snprintf(p->first, sizeof(p->first), "%s", msg);
	report(p->wh, msg);
}

/* ---- request handler (webhook thread) ---- */

static void on_request(struct evhttp_request *req, void *arg)
{
	struct http_webhook *wh = arg;
	const struct evhttp_uri *uri;
	const char *path, *ctype, *data;
	struct evbuffer *in;
	struct k8s_batch *b = NULL;
	struct parse_ctx pc = {.wh = wh};
	struct k8s_parse_opts opts = {
		.max_event_size = wh->max_event_size,
		.on_error = on_parse_error,
		.ud = &pc,
	};
	char msg[FIRST_ERROR_MAX + 32], err[FIRST_ERROR_MAX];
	size_t len, skipped = 0, n;
	int code, r;

	/* 1. overload, shutdown and TLS checks */
	code = http_core_admit(&wh->core, req);
	if (code) {
		count_reply(wh, code);
		return;
	}

	/* 2. upstream's order: route, method, content type */
	uri = evhttp_request_get_evhttp_uri(req);
	path = uri ? evhttp_uri_get_path(uri) : NULL;
	if (!path || !streq(path, wh->path)) {
		reply(wh, req, 404, "404 page not found", false);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
		(void)snprintf(msg, sizeof(msg), "%s method not allowed", http_method_name(req));
		reply(wh, req, 405, msg, false);
		return;
	}
	ctype = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	if (!ctype || !strcasestr(ctype, "application/json")) {
		reply(wh, req, 400, "wrong Content Type", false);
		return;
	}

	/* 3. backpressure before spending time on parsing */
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (!http_queue_has_room(&wh->q, len)) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		reply(wh, req, 429, "queue full, retry later", false);
		return;
	}

	/* 4. parse; the body is contiguous after pullup (libevent keeps it in chunks) */
	data = len ? (const char *)evbuffer_pullup(in, -1) : "";
	if (!data) {
		reply(wh, req, 503, "out of memory", true);
		return;
	}
	err[0] = '\0';
	r = k8s_batch_parse(data, len, &opts, &b, &skipped, err, sizeof(err));
	evbuffer_drain(in, len);
	if (r == -ENOMEM) {
		reply(wh, req, 503, "out of memory", true);
		return;
	}
	if (r < 0) {
		if (!pc.first[0])
			report(wh, err[0] ? err : "malformed payload");
		(void)snprintf(msg, sizeof(msg), "bad request: %s",
			       err[0] ? err : "malformed payload");
		reply(wh, req, 400, msg, false);
		return;
	}
	atomic_fetch_add_explicit(&wh->events_dropped, skipped, memory_order_relaxed);
	n = b->n;
	if (n == 0) {
		k8s_batch_free(b);
		if (skipped) {
			(void)snprintf(msg, sizeof(msg), "bad request: %s",
				       pc.first[0] ? pc.first : "no valid event in payload");
			reply(wh, req, 400, msg, false);
		} else {
			reply(wh, req, 200, NULL, false);
		}
		return;
	}

	/* 5. hand over; only this thread pushes, so the room checked above is still there */
	if (!b->bytes)
		b->bytes = len;
	/* before the push: a health check must never see a waiting batch with an old timestamp */
	if (http_queue_depth(&wh->q) == 0)
		atomic_store_explicit(&wh->progress_ms, now_ms(), memory_order_relaxed);
	if (http_queue_push(&wh->q, b, b->bytes) < 0) {
		k8s_batch_free(b);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		reply(wh, req, 429, "queue full, retry later", false);
		return;
	}
	atomic_fetch_add_explicit(&wh->events_received, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&wh->bytes_received, len, memory_order_relaxed);
	reply(wh, req, 200, NULL, false);
}

/* ---- engine side (engine thread) ---- */

static void deliver_one(struct http_webhook *wh, struct k8s_batch *b)
{
	atomic_store_explicit(&wh->progress_ms, now_ms(), memory_order_relaxed);
	atomic_fetch_add_explicit(&wh->events_delivered, b->n, memory_order_relaxed);
	wh->cbs.deliver(wh->cbs.ud, b);
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct http_webhook *wh = arg;
	struct k8s_batch *b;

	http_queue_ack(&wh->q);
	for (unsigned i = 0; i < DELIVER_BURST; i++) {
		b = http_queue_pop(&wh->q);
		if (!b)
			return;
		deliver_one(wh, b);
	}
	/*
	 * More waiting: make the eventfd readable again rather than event_active(), which libevent would run again
	 * in the same pass; this way the loop polls and serves other sources and timers first.
	 */
	if (http_queue_depth(&wh->q))
		(void)eventfd_write(wh->q.efd, 1);
}

/* ---- lifecycle ---- */

int http_webhook_start(const struct http_webhook_config *cfg, struct event_base *engine_base,
		       const struct http_webhook_callbacks *cbs, struct http_webhook **ret,
		       char *errbuf, size_t errlen)
{
	struct http_webhook *wh;
	int r;

	if (!engine_base || !cbs || !cbs->deliver)
		return errf(
			errbuf, errlen, -EINVAL,
			"k8s audit webhook: an engine event base and a deliver callback are required");
	if (!cfg->path || cfg->path[0] != '/')
		return errf(errbuf, errlen, -EINVAL,
			    "k8s audit webhook: path '%s' must start with '/'",
			    cfg->path ? cfg->path : "");
	if (!cfg->queue_max_batches || !cfg->queue_max_bytes)
		return errf(errbuf, errlen, -EINVAL,
			    "k8s audit webhook: queue limits must not be 0");

	wh = calloc(1, sizeof(*wh));
	if (!wh)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	wh->q.efd = -1;
	wh->core.listen_fd = -1;
	wh->core.stop_fd = -1;
	wh->cbs = *cbs;
	wh->max_event_size = cfg->max_event_size;
	wh->path = strdup(cfg->path);
	if (!wh->path) {
		r = errf(errbuf, errlen, -ENOMEM, "out of memory");
		goto fail;
	}

	/* 1. the queue and its wakeup on the engine's loop */
	r = http_queue_init(&wh->q, cfg->queue_max_batches, cfg->queue_max_bytes);
	if (r < 0) {
		r = errf(errbuf, errlen, r, "cannot create the webhook queue: %s", strerror(-r));
		goto fail;
	}
	wh->wake_ev = event_new(engine_base, wh->q.efd, EV_READ | EV_PERSIST, on_wake, wh);
	if (!wh->wake_ev || event_add(wh->wake_ev, NULL) < 0) {
		r = errf(errbuf, errlen, -ENOMEM, "out of memory");
		goto fail;
	}

	/* 2. TLS, listener, then the thread */
	r = http_core_init(&wh->core, cfg->listen_address, cfg->listen_port, &cfg->tls,
			   &cfg->limits, on_request, wh, errbuf, errlen);
	if (r < 0)
		goto fail;
	r = http_core_run(&wh->core, "falco-webhook", errbuf, errlen);
	if (r < 0)
		goto fail;
	*ret = wh;
	return 0;
fail:
	http_webhook_stop(wh);
	return r;
}

uint16_t http_webhook_port(const struct http_webhook *wh)
{
	return wh->core.port;
}

struct http_webhook *http_webhook_stop(struct http_webhook *wh)
{
	struct k8s_batch *b;

	if (!wh)
		return NULL;
	/* 1. no producer after this */
	http_core_stop(&wh->core);
	if (wh->wake_ev)
		event_free(wh->wake_ev);
	/* 2. what was acknowledged with 200 still reaches the engine */
	if (wh->q.slots)
		while ((b = http_queue_pop(&wh->q)) != NULL)
			deliver_one(wh, b);
	http_queue_done(&wh->q);
	http_core_done(&wh->core);
	free(wh->path);
	free(wh);
	return NULL;
}

void http_webhook_get_stats(struct http_webhook *wh, struct http_webhook_stats *ret)
{
	struct http_webhook_stats s = {0};

	for (unsigned i = 0; i < _HTTP_WEBHOOK_RESULT_MAX; i++)
		s.requests[i] = atomic_load_explicit(&wh->requests[i], memory_order_relaxed);
	s.events_received = atomic_load_explicit(&wh->events_received, memory_order_relaxed);
	s.events_dropped = atomic_load_explicit(&wh->events_dropped, memory_order_relaxed);
	s.events_delivered = atomic_load_explicit(&wh->events_delivered, memory_order_relaxed);
	s.bytes_received = atomic_load_explicit(&wh->bytes_received, memory_order_relaxed);
	s.queue_depth = http_queue_depth(&wh->q);
	s.queue_bytes = atomic_load_explicit(&wh->q.bytes, memory_order_relaxed);
	s.connections = atomic_load_explicit(&wh->core.live_conns, memory_order_relaxed);
	*ret = s;
}

bool http_webhook_healthy(struct http_webhook *wh, unsigned stall_ms, char *reason,
			  size_t reasonlen)
{
	uint64_t age, depth, waited;
	int r = http_core_alive(&wh->core, stall_ms, &age);

	if (r == -ESRCH) {
		if (reason && reasonlen)
			(void)snprintf(
				reason, reasonlen,
				"k8s_audit webhook: its thread has stopped, audit events are not received");
		return false;
	}
	if (r == -ETIMEDOUT) {
		if (reason && reasonlen)
			(void)snprintf(
				reason, reasonlen,
				"k8s_audit webhook: its thread has been stuck for %llu ms, audit events are "
				"not received",
				(unsigned long long)age);
		return false;
	}
	depth = http_queue_depth(&wh->q);
	waited = now_ms() - atomic_load_explicit(&wh->progress_ms, memory_order_relaxed);
	if (depth == 0 || waited <= stall_ms)
		return true;
	if (reason && reasonlen)
		(void)snprintf(
			reason, reasonlen,
			"k8s_audit webhook: %llu batches waiting, the engine took none for %llu ms",
			(unsigned long long)depth, (unsigned long long)waited);
	return false;
}

bool http_webhook_running(struct http_webhook *wh)
{
	return http_core_alive(&wh->core, UINT_MAX, NULL) != -ESRCH;
}
