/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One HTTP listener served by evhttp on a thread of its own. Everything about the event_base happens on that
 * thread once it runs (the caller only builds it beforehand and joins it afterwards); the other threads talk to
 * it through an eventfd (stop) and atomics.
 *
 * Connection limits, in two layers because libevent 2.1's evhttp has neither a connection cap nor a hook when a
 * connection that never sent a request goes away:
 *  - admission: a connection's first request admits it while fewer than max_connections are admitted; it stays
 *    admitted (keep-alive) until it closes (evhttp's close callback). Later connections get 503 and are closed,
 *    so a crowd of newcomers can never take the service away from connections already being served.
 *  - accept pause: every open connection has a read or write event on our private base, which
 *    event_base_foreach_event() lists (minus the listener, the stop eventfd and libevent's own). When the total
 *    reaches max_connections + max_connections/4 + 1, the listener is disabled until some close; new clients
 *    wait in the kernel's listen backlog. This bounds connections that never send a request as well.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/err.h"
#include "http_internal.h"
#include "tls_dl.h"

#define LISTEN_BACKLOG 128
#define POLL_MS	       20

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct timeval ms_to_tv(unsigned ms)
{
	return (struct timeval){.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
}

/* Open connections (admitted or not) at which accepting pauses. */
static size_t hard_limit(const struct http_core *c)
{
	return (size_t)c->limits.max_connections + c->limits.max_connections / 4 + 1;
}

const char *http_reason(int code)
{
	switch (code) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 413:
		return "Request Entity Too Large";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	default:
		return "Unknown";
	}
}

const char *http_method_name(struct evhttp_request *req)
{
	switch (evhttp_request_get_command(req)) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_TRACE:
		return "TRACE";
	case EVHTTP_REQ_CONNECT:
		return "CONNECT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	}
	return "UNKNOWN";
}

void http_reply(struct evhttp_request *req, int code, const char *content_type, const char *body,
		size_t len, bool close)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	if (content_type)
		evhttp_add_header(h, "Content-Type", content_type);
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	if (close)
		evhttp_add_header(h, "Connection", "close");
	if (body && len)
		evbuffer_add(evhttp_request_get_output_buffer(req), body, len);
	evhttp_send_reply(req, code, http_reason(code), NULL);
}

void http_reply_text(struct evhttp_request *req, int code, const char *msg, bool close)
{
	char buf[512];
	int n = snprintf(buf, sizeof(buf), "%s\n", msg);

	if (n < 0)
		n = 0;
	http_reply(req, code, "text/plain; charset=utf-8", buf, MIN((size_t)n, sizeof(buf) - 1),
		   close);
}

/* ---- connection counting ---- */

static int collect_fd(const struct event_base *base, const struct event *ev, void *arg)
{
	struct http_core *c = arg;
	evutil_socket_t fd = event_get_fd(ev);
	short what = event_get_events(ev);

	if (fd < 0 || (what & EV_SIGNAL) || !(what & (EV_READ | EV_WRITE)))
		return 0;
	if (fd == c->listen_fd || fd == c->stop_fd)
		return 0;
	if (c->nfds == c->fds_cap)
		return 1; /* more than we ever allow: saturate */
	c->fds[c->nfds++] = fd;
	return 0;
}

static int cmp_fd(const void *a, const void *b)
{
	evutil_socket_t x = *(const evutil_socket_t *)a, y = *(const evutil_socket_t *)b;

	return (x > y) - (x < y);
}

/* Distinct descriptors with an event on the base (a connection may have both a read and a write event). */
static size_t count_fds(struct http_core *c)
{
	size_t n = 0;

	c->nfds = 0;
	if (event_base_foreach_event(c->base, collect_fd, c) != 0)
		return c->fds_cap;
	qsort(c->fds, c->nfds, sizeof(*c->fds), cmp_fd);
	for (size_t i = 0; i < c->nfds; i++)
		if (i == 0 || c->fds[i] != c->fds[i - 1])
			n++;
	return n;
}

size_t http_core_count_connections(struct http_core *c)
{
	size_t n = count_fds(c);

	n = n > c->baseline ? n - c->baseline : 0;
	atomic_store_explicit(&c->live_conns, n, memory_order_relaxed);
	return n;
}

static void schedule_poll(struct http_core *c)
{
	struct timeval tv = ms_to_tv(POLL_MS);

	if (!evtimer_pending(c->poll_ev, NULL))
		evtimer_add(c->poll_ev, &tv);
}

static void set_accepting(struct http_core *c, bool on)
{
	struct evconnlistener *l = c->bound ? evhttp_bound_socket_get_listener(c->bound) : NULL;

	if (!l || c->paused == !on)
		return;
	if (on)
		evconnlistener_enable(l);
	else
		evconnlistener_disable(l);
	c->paused = !on;
}

static void on_alive(evutil_socket_t fd, short what, void *arg)
{
	struct http_core *c = arg;

	atomic_store_explicit(&c->alive_ms, now_ms(), memory_order_relaxed);
}

/* Timer: resumes a paused listener, and ends the shutdown grace period once connections are gone. */
static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct http_core *c = arg;
	size_t n = http_core_count_connections(c);

	/* self-healing: with no connection open, nothing can be admitted */
	if (n == 0)
		c->n_admitted = 0;
	if (atomic_load(&c->stopping)) {
		if (n == 0 || now_ms() >= c->grace_deadline_ms) {
			event_base_loopbreak(c->base);
			return;
		}
	} else if (c->paused && n < hard_limit(c)) {
		set_accepting(c, true);
		return;
	}
	schedule_poll(c);
}

static void on_stop(evutil_socket_t fd, short what, void *arg)
{
	struct http_core *c = arg;
	eventfd_t v;

	(void)eventfd_read(c->stop_fd, &v);
	event_del(c->stop_ev);
	if (c->bound) {
		/* 1. no new connections; the listening socket is closed here */
		evhttp_del_accept_socket(c->http, c->bound);
		c->bound = NULL;
		c->listen_fd = -1;
	}
	/* 2. requests in progress may finish (new ones get 503) until the grace period ends */
	c->grace_deadline_ms = now_ms() + c->limits.shutdown_grace_ms;
	on_poll(-1, 0, c);
}

/* evhttp asks for each new connection's bufferevent: TLS here, and the accept pause at the hard limit. */
static struct bufferevent *on_new_connection(struct event_base *base, void *arg)
{
	struct http_core *c = arg;
	struct bufferevent *bev;
	SSL *ssl;

	size_t n = http_core_count_connections(c);

	if (n == 0)
		c->n_admitted = 0; /* self-healing, as in on_poll() */
	if (n + 1 >= hard_limit(c)) {
		set_accepting(c, false);
		schedule_poll(c);
	}
	if (!c->ssl_ctx)
		return NULL; /* evhttp makes a plain socket bufferevent */
	/* On failure evhttp falls back to a plain bufferevent; http_core_admit() refuses such connections. */
	ssl = SSL_new(c->ssl_ctx);
	if (!ssl)
		return NULL;
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	/* clients that close without close_notify are normal for HTTP; don't turn them into errors */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

static void on_admitted_close(struct evhttp_connection *evcon, void *arg)
{
	struct http_core *c = arg;

	for (size_t i = 0; i < c->n_admitted; i++)
		if (c->admitted[i] == evcon) {
			c->admitted[i] = c->admitted[--c->n_admitted];
			return;
		}
}

static int admit_connection(struct http_core *c, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);

	for (size_t i = 0; i < c->n_admitted; i++)
		if (c->admitted[i] == evcon)
			return 0;
	(void)http_core_count_connections(c); /* keeps the live count fresh for stats */
	if (!evcon || c->n_admitted >= c->limits.max_connections) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
		http_reply_text(req, 503, "too many connections", true);
		return 503;
	}
	c->admitted[c->n_admitted++] = evcon;
	evhttp_connection_set_closecb(evcon, on_admitted_close, c);
	/* small replies to large requests: never let Nagle hold a reply back behind a delayed ACK */
	{
		struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
		evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
		int one = 1;

		if (fd >= 0)
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	return 0;
}

int http_core_admit(struct http_core *c, struct evhttp_request *req)
{
	if (atomic_load(&c->stopping)) {
		http_reply_text(req, 503, "server shutting down", true);
		return 503;
	}
	if (c->ssl_ctx) {
		struct evhttp_connection *evcon = evhttp_request_get_connection(req);
		struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
		SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;

		if (!ssl) {
			http_reply_text(req, 403, "TLS required", true);
			return 403;
		}
		/* the handshake already enforced this; a second look costs nothing */
		if (c->verify_client &&
		    (SSL_get_verify_result(ssl) != X509_V_OK || !SSL_get0_peer_certificate(ssl))) {
			http_reply_text(req, 403, "client certificate required", true);
			return 403;
		}
	}
	return admit_connection(c, req);
}

/* ---- listening socket ---- */

static void format_addr(char *out, size_t outlen, const char *address, uint16_t port)
{
	if (!address)
		address = "";
	if (strchr(address, ':'))
		(void)snprintf(out, outlen, "[%s]:%u", address, port);
	else
		(void)snprintf(out, outlen, "%s:%u", address, port);
}

static int bind_one(const struct addrinfo *ai, bool any, evutil_socket_t *ret)
{
	int fd, one = 1, zero = 0;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* all interfaces means both families, as Go's ":9765" does */
	if (ai->ai_family == AF_INET6 && any)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	*ret = fd;
	return 0;
}

/* address: a host name or numeric address; NULL, "" or "*" = all interfaces (IPv6 dual-stack if possible). */
static int bind_listener(struct http_core *c, const char *address, uint16_t port,
			 evutil_socket_t *ret, char *errbuf, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *res = NULL;
	bool any = !address || !*address || streq(address, "*");
	char service[8];
	int r, first = 0;

	format_addr(c->addr_text, sizeof(c->addr_text), any ? "" : address, port);
	(void)snprintf(service, sizeof(service), "%u", port);
	hints.ai_family = any ? AF_INET6 : AF_UNSPEC;
	r = getaddrinfo(any ? NULL : address, service, &hints, &res);
	if (r != 0 && any) {
		hints.ai_family = AF_INET; /* no IPv6 on this host */
		r = getaddrinfo(NULL, service, &hints, &res);
	}
	if (r != 0)
		return errf(errbuf, errlen, -EADDRNOTAVAIL, "cannot bind %s: %s", c->addr_text,
			    r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		r = bind_one(ai, any, ret);
		if (r == 0) {
			freeaddrinfo(res);
			return 0;
		}
		if (!first)
			first = r;
	}
	freeaddrinfo(res);
	if (any && hints.ai_family == AF_INET6 && first == -EAFNOSUPPORT) {
		struct addrinfo h4 = {.ai_family = AF_INET,
				      .ai_socktype = SOCK_STREAM,
				      .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
		if (getaddrinfo(NULL, service, &h4, &res) == 0) {
			r = bind_one(res, false, ret);
			freeaddrinfo(res);
			if (r == 0)
				return 0;
			first = r;
		}
	}
	return errf(errbuf, errlen, first ? first : -EADDRNOTAVAIL, "cannot bind %s: %s",
		    c->addr_text, strerror(first ? -first : EADDRNOTAVAIL));
}

static uint16_t bound_port(evutil_socket_t fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return 0;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return 0;
}

/* ---- lifecycle ---- */

int http_core_init(struct http_core *c, const char *address, uint16_t port,
		   const struct http_tls_config *tls, const struct http_limits *limits,
		   void (*handler)(struct evhttp_request *, void *), void *ud, char *errbuf,
		   size_t errlen)
{
	struct event_config *ecfg;
	struct timeval tv;
	evutil_socket_t fd = -1;
	int r;

	c->listen_fd = -1;
	c->stop_fd = -1;
	c->limits = *limits;
	if (!limits->max_connections || !limits->max_header_size || !limits->max_body_size ||
	    !limits->timeout_ms)
		return errf(errbuf, errlen, -EINVAL, "HTTP limits must not be 0");

	/* 1. TLS first: a certificate problem is the likeliest configuration error */
	if (tls && tls->enabled) {
		r = http_tls_ctx_new(tls, &c->ssl_ctx, errbuf, errlen);
		if (r < 0)
			return r;
		c->verify_client = tls->verify_client;
	}

	/* 2. a private base: only the server thread touches it, so no libevent locking */
	ecfg = event_config_new();
	if (!ecfg)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	event_config_set_flag(ecfg, EVENT_BASE_FLAG_NOLOCK);
	c->base = event_base_new_with_config(ecfg);
	event_config_free(ecfg);
	if (!c->base)
		return errf(errbuf, errlen, -ENOMEM, "cannot create event base");
	c->http = evhttp_new(c->base);
	if (!c->http)
		return errf(errbuf, errlen, -ENOMEM, "cannot create HTTP server");
	evhttp_set_max_headers_size(c->http, (ev_ssize_t)limits->max_header_size);
	evhttp_set_max_body_size(c->http, (ev_ssize_t)limits->max_body_size);
	tv = ms_to_tv(limits->timeout_ms);
	evhttp_set_timeout_tv(c->http, &tv);
	/* read and discard an oversize body so the client sees the 413 instead of a reset */
	evhttp_set_flags(c->http, EVHTTP_SERVER_LINGERING_CLOSE);
	/* we answer 405 ourselves, with upstream's wording */
	evhttp_set_allowed_methods(c->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
						    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
						    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
						    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_default_content_type(c->http, "text/plain; charset=utf-8");
	evhttp_set_bevcb(c->http, on_new_connection, c);
	evhttp_set_gencb(c->http, handler, ud);

	/* 3. the listening socket, bound here so the caller gets "cannot bind ..." synchronously */
	r = bind_listener(c, address, port, &fd, errbuf, errlen);
	if (r < 0)
		return r;
	c->bound = evhttp_accept_socket_with_handle(c->http, fd);
	if (!c->bound) {
		close(fd);
		return errf(errbuf, errlen, -ENOMEM, "cannot listen on %s", c->addr_text);
	}
	c->listen_fd = fd;
	c->port = bound_port(fd);

	/* 4. stop requests and the poll timer */
	c->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (c->stop_fd < 0)
		return errf(errbuf, errlen, -errno, "eventfd: %s", strerror(errno));
	c->stop_ev = event_new(c->base, c->stop_fd, EV_READ | EV_PERSIST, on_stop, c);
	c->poll_ev = evtimer_new(c->base, on_poll, c);
	c->alive_ev = event_new(c->base, -1, EV_PERSIST, on_alive, c);
	struct timeval alive_tv = {.tv_usec = HTTP_CORE_ALIVE_MS * 1000};
	atomic_store(&c->alive_ms, now_ms());
	if (!c->stop_ev || !c->poll_ev || !c->alive_ev || event_add(c->stop_ev, NULL) < 0 ||
	    event_add(c->alive_ev, &alive_tv) < 0)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");

	/* 5. room to count connections, and the descriptors libevent keeps for itself */
	c->fds_cap = 2 * hard_limit(c) + 64;
	c->fds = calloc(c->fds_cap, sizeof(*c->fds));
	c->admitted = calloc(limits->max_connections, sizeof(*c->admitted));
	if (!c->fds || !c->admitted)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	c->baseline = count_fds(c);
	return 0;
}

static void *core_thread(void *arg)
{
	struct http_core *c = arg;

	event_base_dispatch(c->base);
	if (!atomic_load(&c->stopping))
		atomic_store(&c->exited, true);
	return NULL;
}

int http_core_alive(struct http_core *c, unsigned stall_ms, uint64_t *ret_age_ms)
{
	uint64_t age, now = now_ms(),
		      last = atomic_load_explicit(&c->alive_ms, memory_order_relaxed);

	age = now > last ? now - last : 0;
	if (ret_age_ms)
		*ret_age_ms = age;
	if (atomic_load(&c->exited))
		return -ESRCH;
	if (!c->thread_started || atomic_load(&c->stopping))
		return 0;
	/* a healthy heartbeat is up to one period old */
	return age > (uint64_t)stall_ms + HTTP_CORE_ALIVE_MS ? -ETIMEDOUT : 0;
}

int http_core_run(struct http_core *c, const char *thread_name, char *errbuf, size_t errlen)
{
	sigset_t all, old;
	int r;

	/* signals belong to the daemon's main thread; blocked here they can never interrupt the server */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&c->thread, NULL, core_thread, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0)
		return errf(errbuf, errlen, -r, "cannot start %s thread: %s", thread_name,
			    strerror(r));
	(void)pthread_setname_np(c->thread, thread_name);
	c->thread_started = true;
	return 0;
}

void http_core_stop(struct http_core *c)
{
	if (!c->thread_started)
		return;
	atomic_store(&c->stopping, true);
	(void)eventfd_write(c->stop_fd, 1);
	pthread_join(c->thread, NULL);
	c->thread_started = false;
}

void http_core_done(struct http_core *c)
{
	/* evhttp first: it closes the listener and the connections that are still open */
	if (c->http)
		evhttp_free(c->http);
	if (c->stop_ev)
		event_free(c->stop_ev);
	if (c->poll_ev)
		event_free(c->poll_ev);
	if (c->alive_ev)
		event_free(c->alive_ev);
	if (c->base)
		event_base_free(c->base);
	if (c->stop_fd >= 0)
		close(c->stop_fd);
	if (c->ssl_ctx) /* else OpenSSL may never have been loaded (tls_dl.h) */
		SSL_CTX_free(c->ssl_ctx);
	free(c->fds);
	free(c->admitted);
	*c = (struct http_core){.listen_fd = -1, .stop_fd = -1};
}
