/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to falco/server: the part both servers share. An http_core is one listener served by evhttp on a
 * thread of its own (its own event_base), with optional TLS through bufferevent_openssl, connection limits,
 * and a stop that lets requests in progress finish for a bounded time. Also the SPSC queue that carries k8s
 * audit batches from the webhook thread to the engine thread.
 */
#pragma once

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "common/macro.h"
#include "http.h"

/* ---- TLS (http_tls.c) ---- */

/*
 * Builds a server SSL_CTX: TLS >= 1.2, certificate chain + key (from one combined PEM or two files), and with
 * verify_client a CA to check client certificates against (a client without a valid one fails the handshake).
 * Returns 0 with *ret (caller frees with SSL_CTX_free), or -ENOENT/-EACCES/-EINVAL/-ENOMEM with errbuf like
 * "cannot load certificate '/etc/falco/falco.pem': No such file or directory". Drains the OpenSSL error queue.
 */
int http_tls_ctx_new(const struct http_tls_config *tls, SSL_CTX **ret, char *errbuf, size_t errlen);

/* Formats "<fmt>: <OpenSSL reasons>" into errbuf, draining the OpenSSL error queue; returns err. */
int http_ssl_errf(char *errbuf, size_t errlen, int err, const char *fmt, ...) _printf_(4, 5);

/* ---- one server thread (http_core.c) ---- */

struct http_core {
	/* set by http_core_init, read-only afterwards */
	struct event_base *base;
	struct evhttp *http;
	SSL_CTX *ssl_ctx; /* NULL for plain HTTP */
	bool verify_client;
	struct http_limits limits;
	uint16_t port; /* bound port (useful with port 0) */
	char addr_text[80];

	/* webhook/webserver thread only */
	struct evhttp_bound_socket *bound;
	evutil_socket_t listen_fd;
	struct event *stop_ev;
	struct event *poll_ev;	/* resumes a paused listener; ends the shutdown grace period */
	struct event *alive_ev; /* heartbeat: proves the thread still turns its loop */
	bool paused;
	uint64_t grace_deadline_ms;
	size_t baseline;      /* descriptors of libevent's own on the base, not connections */
	evutil_socket_t *fds; /* scratch for counting connections */
	size_t nfds, fds_cap;
	struct evhttp_connection **admitted; /* connections being served, at most max_connections */
	size_t n_admitted;

	/* any thread */
	int stop_fd; /* eventfd: stop request */
	atomic_bool stopping;
	atomic_size_t live_conns;      /* at the last count */
	atomic_uint_fast64_t alive_ms; /* CLOCK_MONOTONIC ms of the thread's last heartbeat */
	atomic_bool exited;	       /* the thread's loop returned without a stop request */
	pthread_t thread;
	bool thread_started;
};

/*
 * Creates the base, evhttp, TLS context and the bound listener (errors such as "cannot bind 0.0.0.0:9765:
 * Address already in use" come back here, synchronously). handler runs on the server thread for every request
 * that passed libevent's own checks (header and body size, HTTP syntax). Returns 0 or -errno; on failure the
 * core is left for http_core_done() to clean up.
 */
int http_core_init(struct http_core *c, const char *address, uint16_t port,
		   const struct http_tls_config *tls, const struct http_limits *limits,
		   void (*handler)(struct evhttp_request *, void *), void *ud, char *errbuf,
		   size_t errlen);
/* Starts the thread (all signals blocked in it) running the base. Returns 0 or -errno. */
int http_core_run(struct http_core *c, const char *thread_name, char *errbuf, size_t errlen);
/*
 * Stops accepting, lets requests in progress finish for at most limits.shutdown_grace_ms, then joins the thread.
 * Safe to call once from any thread other than the server thread; a core that never ran just returns.
 */
void http_core_stop(struct http_core *c);
/*
 * Whether the server thread is alive and turning its loop, from any thread: -ESRCH when its loop has ended
 * without a stop request, -ETIMEDOUT when its heartbeat (every HTTP_CORE_ALIVE_MS) is older than stall_ms + HTTP_CORE_ALIVE_MS (the
 * thread is stuck in a handler or a blocking call), 0 otherwise and for a core that never ran. *ret_age_ms gets
 * the heartbeat's age.
 */
#define HTTP_CORE_ALIVE_MS 250
int http_core_alive(struct http_core *c, unsigned stall_ms, uint64_t *ret_age_ms);
/* Frees everything (after http_core_stop); accepts a half-built core. */
void http_core_done(struct http_core *c);

/*
 * Checks a request before routing, on the server thread. Returns 0 when it may proceed; otherwise the status of
 * the reply it sent: 503 while stopping or when limits.max_connections connections are already admitted (a
 * connection is admitted by its first request and stays so until it closes), 403 when TLS
 * is configured but the connection is not TLS-protected or lacks a verified client certificate (the handshake
 * already refuses those; this is defense in depth).
 */
int http_core_admit(struct http_core *c, struct evhttp_request *req);

/* Counts open connections other than the one whose request is being handled (server thread only). */
size_t http_core_count_connections(struct http_core *c);

/* Sends a reply with a body (may be NULL/0). With close, "Connection: close" is added. */
void http_reply(struct evhttp_request *req, int code, const char *content_type, const char *body,
		size_t len, bool close);
/* Sends a text/plain reply "<msg>\n" the way Go's http.Error does (upstream's webhook runs on net/http). */
void http_reply_text(struct evhttp_request *req, int code, const char *msg, bool close);
/* "GET", "POST", ...; "UNKNOWN" for anything else. */
const char *http_method_name(struct evhttp_request *req);
/* Standard reason phrase for the codes we send. */
const char *http_reason(int code);

/* ---- bounded single-producer/single-consumer queue (http_queue.c) ---- */

/*
 * The webhook thread pushes, the engine thread pops. Bounded by item count and by bytes (a single item larger
 * than max_bytes still fits into an empty queue, so the limit can never starve a legal payload). Each push
 * writes the eventfd so the engine's event loop wakes up.
 */
struct http_queue_slot {
	void *item;
	size_t bytes;
};

struct http_queue {
	struct http_queue_slot *slots;
	size_t mask; /* capacity - 1; capacity is a power of two >= max_items */
	size_t max_items;
	size_t max_bytes;
	int efd;
	_Alignas(64) atomic_size_t head; /* consumer */
	_Alignas(64) atomic_size_t tail; /* producer */
	atomic_size_t bytes;
};

int http_queue_init(struct http_queue *q, size_t max_items, size_t max_bytes);
/* Frees the slots and closes the eventfd; items still queued must have been popped by the caller. */
void http_queue_done(struct http_queue *q);
/* Producer: whether an item of this size would be accepted right now. */
bool http_queue_has_room(struct http_queue *q, size_t bytes);
/* Producer: returns 0, or -EAGAIN when full (the item stays the caller's). */
int http_queue_push(struct http_queue *q, void *item, size_t bytes);
/* Consumer: returns the oldest item or NULL when empty. */
void *http_queue_pop(struct http_queue *q);
size_t http_queue_depth(struct http_queue *q);
/* Consumer: clears the eventfd counter. */
void http_queue_ack(struct http_queue *q);
