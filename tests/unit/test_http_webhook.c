/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the k8s audit webhook (falco/server/webhook.h): a real server on 127.0.0.1 with an ephemeral
 * port, an engine-side event_base owned by the test, real requests through libcurl or raw sockets, and
 * certificates generated into a temp directory. The SPSC queue is tested directly as well.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "falco/server/http_internal.h"
#include "falco/server/webhook.h"
#include "falco/source/k8saudit.h"
#include "http_test.h"

#define EVENT_JSON                                                                                               \
	"{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"Request\",\"auditID\":\"a1\","       \
	"\"stage\":\"ResponseComplete\",\"requestURI\":\"/api/v1/namespaces/default/pods\",\"verb\":\"create\"," \
	"\"user\":{\"username\":\"admin\",\"groups\":[\"system:masters\"]},\"sourceIPs\":[\"10.0.0.1\"],"        \
	"\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"default\",\"name\":\"p1\"},"                       \
	"\"responseStatus\":{\"code\":201},\"stageTimestamp\":\"2024-01-02T15:04:05.123456Z\"}"
#define SMALL_EVENT_JSON "{\"kind\":\"Event\",\"stageTimestamp\":\"2024-01-02T15:04:05Z\"}"

static struct test_pki pki;

struct engine {
	struct event_base *base;
	struct http_webhook *wh;
	struct http_webhook_config cfg;
	char url[160];
	size_t batches, events, last_n;
	pthread_mutex_t lock; /* errors come from the webhook thread */
	char errors[16][256];
	size_t n_errors;
};

static void deliver(void *ud, struct k8s_batch *b)
{
	struct engine *e = ud;

	assert_non_null(b);
	assert_true(b->n >= 1);
	e->batches++;
	e->events += b->n;
	e->last_n = b->n;
	k8s_batch_free(b);
}

static void on_error(void *ud, const char *msg)
{
	struct engine *e = ud;

	pthread_mutex_lock(&e->lock);
	if (e->n_errors < ARRAY_SIZE(e->errors))
		snprintf(e->errors[e->n_errors++], sizeof(e->errors[0]), "%s", msg);
	pthread_mutex_unlock(&e->lock);
}

static bool has_error(struct engine *e, const char *needle)
{
	bool found = false;

	pthread_mutex_lock(&e->lock);
	for (size_t i = 0; i < e->n_errors; i++)
		if (strstr(e->errors[i], needle))
			found = true;
	pthread_mutex_unlock(&e->lock);
	return found;
}

/* A plain-HTTP configuration on 127.0.0.1, any port; tests adjust it before engine_start(). */
static void test_config(struct http_webhook_config *cfg)
{
	http_webhook_config_init(cfg);
	cfg->listen_address = "127.0.0.1";
	cfg->listen_port = 0;
	cfg->tls.enabled = false;
	cfg->limits.shutdown_grace_ms = 500;
}

static void engine_start(struct engine *e)
{
	struct http_webhook_callbacks cbs = {.deliver = deliver, .on_error = on_error, .ud = e};
	char err[256] = "";
	int r;

	e->base = event_base_new();
	assert_non_null(e->base);
	pthread_mutex_init(&e->lock, NULL);
	r = http_webhook_start(&e->cfg, e->base, &cbs, &e->wh, err, sizeof(err));
	if (r < 0)
		fail_msg("http_webhook_start: %d %s", r, err);
	snprintf(e->url, sizeof(e->url), "%s://%s:%u/k8s-audit",
		 e->cfg.tls.enabled ? "https" : "http",
		 e->cfg.tls.enabled ? "localhost" : "127.0.0.1", http_webhook_port(e->wh));
}

static void engine_stop(struct engine *e)
{
	e->wh = http_webhook_stop(e->wh);
	event_base_free(e->base);
	pthread_mutex_destroy(&e->lock);
}

/* Runs the engine's loop until `want` batches arrived (bounded wait, no timing asserted). */
static bool engine_pump(struct engine *e, size_t want)
{
	for (int i = 0; i < 1000 && e->batches < want; i++) {
		event_base_loop(e->base, EVLOOP_NONBLOCK);
		if (e->batches < want)
			usleep(5000);
	}
	return e->batches >= want;
}

static struct http_result post(struct engine *e, const char *body)
{
	struct http_opts o = {.ca = pki.ca};

	return http_do(e->url, &o, body, strlen(body));
}

static int group_setup(void **state)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return pki_create(&pki) ? 0 : -1;
}

static int group_teardown(void **state)
{
	pki_destroy(&pki);
	curl_global_cleanup();
	return 0;
}

/* ---- the contract ---- */

static void test_event_eventlist_array(void **state)
{
	struct engine e = {0};
	struct http_webhook_stats st;
	struct http_result r;

	test_config(&e.cfg);
	engine_start(&e);

	r = post(&e, EVENT_JSON);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.len, 0);
	assert_true(engine_pump(&e, 1));
	assert_int_equal(e.last_n, 1);

	r = post(&e,
		 "{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\",\"items\":[" EVENT_JSON
		 "," EVENT_JSON "," EVENT_JSON "]}");
	assert_int_equal(r.status, 200);
	assert_true(engine_pump(&e, 2));
	assert_int_equal(e.last_n, 3);

	r = post(&e, "[" EVENT_JSON ",{\"kind\":\"EventList\",\"items\":[" EVENT_JSON "," EVENT_JSON
		     "]}]");
	assert_int_equal(r.status, 200);
	assert_true(engine_pump(&e, 3));
	assert_int_equal(e.last_n, 3);

	/* an empty EventList is fine and delivers nothing */
	r = post(&e, "{\"kind\":\"EventList\",\"items\":[]}");
	assert_int_equal(r.status, 200);

	http_webhook_get_stats(e.wh, &st);
	assert_int_equal(st.requests[HTTP_WEBHOOK_OK], 4);
	assert_int_equal(st.events_received, 7);
	assert_int_equal(st.events_delivered, 7);
	assert_int_equal(st.events_dropped, 0);
	assert_int_equal(st.queue_depth, 0);
	engine_stop(&e);
	assert_int_equal(e.events, 7);
}

static void test_method_not_allowed(void **state)
{
	struct engine e = {0};
	struct http_opts get = {.method = "GET"}, put = {.method = "PUT"};
	struct http_webhook_stats st;
	struct http_result r;

	test_config(&e.cfg);
	engine_start(&e);
	r = http_do(e.url, &get, NULL, 0);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.body, "GET method not allowed\n");
	r = http_do(e.url, &put, EVENT_JSON, strlen(EVENT_JSON));
	assert_int_equal(r.status, 405);
	assert_string_equal(r.body, "PUT method not allowed\n");
	http_webhook_get_stats(e.wh, &st);
	assert_int_equal(st.requests[HTTP_WEBHOOK_METHOD_NOT_ALLOWED], 2);
	assert_int_equal(http_webhook_result_status(HTTP_WEBHOOK_METHOD_NOT_ALLOWED), 405);
	engine_stop(&e);
	assert_int_equal(e.batches, 0);
}

static void test_wrong_content_type(void **state)
{
	struct engine e = {0};
	struct http_opts text = {.content_type = "text/plain"};
	struct http_opts json_charset = {.content_type = "application/json; charset=utf-8"};
	struct http_result r;

	test_config(&e.cfg);
	engine_start(&e);
	r = http_do(e.url, &text, EVENT_JSON, strlen(EVENT_JSON));
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "wrong Content Type\n");
	/* "contains application/json", as upstream */
	r = http_do(e.url, &json_charset, EVENT_JSON, strlen(EVENT_JSON));
	assert_int_equal(r.status, 200);
	assert_true(engine_pump(&e, 1));
	engine_stop(&e);
}

static void test_body_too_large(void **state)
{
	struct engine e = {0};
	struct http_result r;
	char *big;

	test_config(&e.cfg);
	e.cfg.limits.max_body_size = 4096;
	engine_start(&e);
	big = malloc(64 << 10);
	assert_non_null(big);
	memset(big, ' ', 64 << 10);
	memcpy(big, EVENT_JSON, strlen(EVENT_JSON));
	r = post(&e, "");
	assert_int_equal(r.status, 400); /* empty body: malformed */
	r = http_do(e.url, NULL, big, 64 << 10);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 413);
	/* the server is still fine afterwards */
	r = post(&e, EVENT_JSON);
	assert_int_equal(r.status, 200);
	assert_true(engine_pump(&e, 1));
	free(big);
	engine_stop(&e);
	assert_int_equal(e.batches, 1);
}

static void test_malformed_json(void **state)
{
	struct engine e = {0};
	struct http_webhook_stats st;
	struct http_result r;

	test_config(&e.cfg);
	engine_start(&e);
	r = post(&e, "{\"kind\":\"Event\",");
	assert_int_equal(r.status, 400);
	assert_true(strncmp(r.body, "bad request: invalid JSON", 25) == 0);
	r = post(&e, "{\"kind\":\"Pod\"}");
	assert_int_equal(r.status, 400);
	assert_string_equal(r.body, "bad request: data not recognized as a k8s audit event\n");
	/* one bad element aborts a top-level array, as upstream */
	r = post(&e, "[" EVENT_JSON ",{\"kind\":\"Pod\"}]");
	assert_int_equal(r.status, 400);
	assert_true(has_error(&e, "data not recognized as a k8s audit event"));
	assert_true(has_error(&e, "invalid JSON"));
	http_webhook_get_stats(e.wh, &st);
	assert_int_equal(st.requests[HTTP_WEBHOOK_BAD_REQUEST], 3);
	assert_int_equal(st.events_received, 0);
	engine_stop(&e);
	assert_int_equal(e.batches, 0);
}

static void test_event_too_large(void **state)
{
	struct engine e = {0};
	struct http_webhook_stats st;
	struct http_result r;

	test_config(&e.cfg);
	e.cfg.max_event_size = 200; /* EVENT_JSON is larger, SMALL_EVENT_JSON smaller */
	engine_start(&e);
	r = post(&e, EVENT_JSON);
	assert_int_equal(r.status, 400);
	assert_true(strncmp(r.body, "bad request: event larger than maxEventSize: size=", 50) == 0);
	r = post(&e, "{\"kind\":\"EventList\",\"items\":[" EVENT_JSON "," SMALL_EVENT_JSON "]}");
	assert_int_equal(r.status, 200);
	assert_true(engine_pump(&e, 1));
	assert_int_equal(e.last_n, 1);
	http_webhook_get_stats(e.wh, &st);
	assert_int_equal(st.events_dropped, 2);
	assert_int_equal(st.events_received, 1);
	assert_true(has_error(&e, "event larger than maxEventSize"));
	engine_stop(&e);
}

static void test_not_found(void **state)
{
	struct engine e = {0};
	struct http_result r;
	char url[192];

	test_config(&e.cfg);
	engine_start(&e);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/other", http_webhook_port(e.wh));
	r = http_do(url, NULL, EVENT_JSON, strlen(EVENT_JSON));
	assert_int_equal(r.status, 404);
	assert_string_equal(r.body, "404 page not found\n");
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/k8s-audit/", http_webhook_port(e.wh));
	r = http_do(url, NULL, EVENT_JSON, strlen(EVENT_JSON));
	assert_int_equal(r.status, 404);
	/* a query string does not change the path */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/k8s-audit?timeout=30s",
		 http_webhook_port(e.wh));
	r = http_do(url, NULL, EVENT_JSON, strlen(EVENT_JSON));
	assert_int_equal(r.status, 200);
	engine_stop(&e);
	assert_int_equal(e.batches, 1);
}

/* ---- backpressure ---- */

static void test_queue_full_429(void **state)
{
	struct engine e = {0};
	struct http_webhook_stats st;
	struct http_result r;

	test_config(&e.cfg);
	e.cfg.queue_max_batches = 2;
	engine_start(&e);
	/* the engine loop does not run: nothing drains */
	assert_int_equal(post(&e, EVENT_JSON).status, 200);
	assert_int_equal(post(&e, EVENT_JSON).status, 200);
	r = post(&e, EVENT_JSON);
	assert_int_equal(r.status, 429);
	assert_string_equal(r.retry_after, "1");
	http_webhook_get_stats(e.wh, &st);
	assert_int_equal(st.queue_depth, 2);
	assert_int_equal(st.requests[HTTP_WEBHOOK_TOO_MANY_REQUESTS], 1);
	/* the engine catches up; the sender's retry succeeds */
	assert_true(engine_pump(&e, 2));
	assert_int_equal(post(&e, EVENT_JSON).status, 200);
	assert_true(engine_pump(&e, 3));
	engine_stop(&e);
	assert_int_equal(e.events, 3);
}

static void test_health_reports_a_stalled_engine(void **state)
{
	struct engine e = {0};
	char reason[160] = "";

	test_config(&e.cfg);
	engine_start(&e);
	assert_true(http_webhook_healthy(e.wh, 0, reason, sizeof(reason))); /* nothing waiting */
	assert_int_equal(post(&e, EVENT_JSON).status, 200);
	/* the engine loop does not run: the batch waits */
	usleep(20000);
	assert_true(http_webhook_healthy(e.wh, 60000, reason, sizeof(reason)));
	assert_false(http_webhook_healthy(e.wh, 5, reason, sizeof(reason)));
	assert_true(strncmp(reason,
			    "k8s_audit webhook: 1 batches waiting, the engine took none for ",
			    63) == 0);
	assert_true(engine_pump(&e, 1));
	assert_true(http_webhook_healthy(e.wh, 0, reason, sizeof(reason)));
	engine_stop(&e);
}

struct bad_post {
	struct engine *e;
	int status;
};

static void *post_malformed(void *arg)
{
	struct bad_post *p = arg;

	p->status = post(p->e, "{\"kind\":\"Pod\"}").status;
	return NULL;
}

/* The webhook thread blocked in on_error (as in a log write that cannot complete): stuck, then healthy again. */
static void test_health_reports_a_stuck_webhook_thread(void **state)
{
	struct engine e = {0};
	struct bad_post p = {.e = &e};
	char reason[160] = "";
	pthread_t t;

	test_config(&e.cfg);
	engine_start(&e);
	assert_true(http_webhook_healthy(e.wh, 60000, reason, sizeof(reason)));
	pthread_mutex_lock(&e.lock); /* on_error will wait for it */
	assert_int_equal(pthread_create(&t, NULL, post_malformed, &p), 0);
	for (int i = 0; i < 1000 && http_webhook_healthy(e.wh, 0, reason, sizeof(reason)); i++)
		usleep(10000);
	assert_false(http_webhook_healthy(e.wh, 0, reason, sizeof(reason)));
	assert_true(strncmp(reason, "k8s_audit webhook: its thread has been stuck for ", 49) == 0);
	assert_true(http_webhook_running(e.wh)); /* stuck, not gone */
	pthread_mutex_unlock(&e.lock);
	pthread_join(t, NULL);
	assert_int_equal(p.status, 400);
	bool ok = false;
	for (int i = 0; i < 1000 && !(ok = http_webhook_healthy(e.wh, 0, reason, sizeof(reason)));
	     i++)
		usleep(10000);
	assert_true(ok);
	engine_stop(&e);
}

static void test_queue_bytes_429(void **state)
{
	struct engine e = {0};
	const char *list = "{\"kind\":\"EventList\",\"items\":[" EVENT_JSON "," EVENT_JSON "]}";

	test_config(&e.cfg);
	e.cfg.queue_max_bytes = strlen(list) + 10;
	engine_start(&e);
	/* an empty queue takes a payload of any legal size; a second one would exceed the byte budget */
	assert_int_equal(post(&e, list).status, 200);
	assert_int_equal(post(&e, list).status, 429);
	assert_true(engine_pump(&e, 1));
	assert_int_equal(post(&e, list).status, 200);
	engine_stop(&e);
	assert_int_equal(e.batches, 2);
}

static void test_bounded_drain_per_wakeup(void **state)
{
	struct engine e = {0};

	test_config(&e.cfg);
	engine_start(&e);
	for (int i = 0; i < 20; i++)
		assert_int_equal(post(&e, EVENT_JSON).status, 200);
	/* one pass of the engine's loop delivers a bounded burst, so its other sources keep their turn */
	event_base_loop(e.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(e.batches, 16);
	event_base_loop(e.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(e.batches, 20);
	engine_stop(&e);
}

static void test_stop_delivers_queued(void **state)
{
	struct engine e = {0};

	test_config(&e.cfg);
	engine_start(&e);
	assert_int_equal(post(&e, EVENT_JSON).status, 200);
	assert_int_equal(post(&e, EVENT_JSON).status, 200);
	assert_int_equal(e.batches, 0);
	/* an idle keep-alive connection must not hold stop up past the grace period */
	int fd = tcp_connect(http_webhook_port(e.wh));
	assert_true(fd >= 0);
	engine_stop(&e);
	assert_int_equal(e.batches, 2);
	close(fd);
}

static void test_too_many_connections_503(void **state)
{
	struct engine e = {0};
	struct http_webhook_stats st;
	struct http_result r;
	char req[2048], buf[1024];
	int fd, n, i;

	test_config(&e.cfg);
	e.cfg.limits.max_connections = 1;
	engine_start(&e);
	/* a keep-alive connection whose request admitted it holds the only slot */
	fd = tcp_connect(http_webhook_port(e.wh));
	assert_true(fd >= 0);
	n = snprintf(req, sizeof(req),
		     "POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n%s",
		     strlen(EVENT_JSON), EVENT_JSON);
	assert_int_equal(write(fd, req, (size_t)n), n);
	assert_true(read(fd, buf, sizeof(buf)) > 13);
	assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
	r = post(&e, EVENT_JSON);
	assert_int_equal(r.status, 503);
	assert_string_equal(r.body, "too many connections\n");
	assert_string_equal(r.retry_after, "1");
	/* the admitted connection keeps being served */
	assert_int_equal(write(fd, req, (size_t)n), n);
	assert_true(read(fd, buf, sizeof(buf)) > 13);
	assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
	close(fd);
	/* once the server has seen the close, the slot is free again */
	for (i = 0; i < 200; i++) {
		r = post(&e, EVENT_JSON);
		if (r.status == 200)
			break;
		usleep(10000);
	}
	assert_int_equal(r.status, 200);
	http_webhook_get_stats(e.wh, &st);
	assert_true(st.requests[HTTP_WEBHOOK_UNAVAILABLE] >= 1);
	assert_true(engine_pump(&e, 3));
	engine_stop(&e);
}

/* Reads until EOF or error; returns the bytes read, or -1 when the server kept the connection open (10 s). */
static ssize_t read_until_close(int fd, char *buf, size_t len)
{
	struct timeval tv = {.tv_sec = 10};
	size_t off = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	for (;;) {
		ssize_t n = read(fd, buf + off, len - 1 - off);
		if (n == 0)
			break;
		if (n < 0)
			return errno == ECONNRESET ? (ssize_t)off : -1;
		off += (size_t)n;
		if (off == len - 1)
			break;
	}
	buf[off] = '\0';
	return (ssize_t)off;
}

static void test_idle_and_slow_clients_time_out(void **state)
{
	struct engine e = {0};
	char buf[512];
	int idle, slow;

	test_config(&e.cfg);
	e.cfg.limits.timeout_ms = 200;
	engine_start(&e);
	idle = tcp_connect(http_webhook_port(e.wh));
	slow = tcp_connect(http_webhook_port(e.wh));
	assert_true(idle >= 0 && slow >= 0);
	/* a request that stops in the middle of its headers */
	assert_int_equal(write(slow, "POST /k8s-audit HTTP/1.1\r\nHost: x\r\n", 35), 35);
	assert_int_equal(read_until_close(idle, buf, sizeof(buf)), 0);
	assert_true(read_until_close(slow, buf, sizeof(buf)) >= 0);
	close(idle);
	close(slow);
	engine_stop(&e);
}

static void test_header_too_large(void **state)
{
	struct engine e = {0};
	char req[4096], buf[1024];
	int fd, n;

	test_config(&e.cfg);
	e.cfg.limits.max_header_size = 1024;
	engine_start(&e);
	fd = tcp_connect(http_webhook_port(e.wh));
	assert_true(fd >= 0);
	n = snprintf(req, sizeof(req), "POST /k8s-audit HTTP/1.1\r\nHost: x\r\nX-Big: %0*d\r\n\r\n",
		     2048, 0);
	assert_int_equal(write(fd, req, (size_t)n), n);
	/* libevent answers oversize headers itself */
	assert_true(read_until_close(fd, buf, sizeof(buf)) > 0);
	assert_true(strncmp(buf, "HTTP/1.1 400 ", 13) == 0);
	close(fd);
	engine_stop(&e);
	assert_int_equal(e.batches, 0);
}

static void test_chunked_and_keepalive(void **state)
{
	struct engine e = {0};
	char req[2048], buf[2048];
	size_t len = strlen(EVENT_JSON);
	int fd, n;

	test_config(&e.cfg);
	engine_start(&e);
	fd = tcp_connect(http_webhook_port(e.wh));
	assert_true(fd >= 0);
	/* two requests on one connection, the second with a chunked body, then Connection: close */
	n = snprintf(
		req, sizeof(req),
		"POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		"Content-Length: %zu\r\n\r\n%s"
		"POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
		len, EVENT_JSON, len, EVENT_JSON);
	assert_int_equal(write(fd, req, (size_t)n), n);
	assert_true(read_until_close(fd, buf, sizeof(buf)) > 0);
	assert_true(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
	assert_non_null(strstr(buf + 13, "HTTP/1.1 200 "));
	close(fd);
	assert_true(engine_pump(&e, 2));
	engine_stop(&e);
	assert_int_equal(e.events, 2);
}

static void test_accept_pauses_at_hard_limit(void **state)
{
	struct engine e = {0};
	struct http_webhook_stats st;
	const char *req = "GET /k8s-audit HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	char buf[1024];
	int fds[3], i;

	test_config(&e.cfg);
	e.cfg.limits.max_connections = 1; /* one served, one more told 503, then accepting pauses */
	engine_start(&e);
	for (i = 0; i < 3; i++) {
		fds[i] = tcp_connect(http_webhook_port(
			e.wh)); /* the kernel completes the third in the backlog */
		assert_true(fds[i] >= 0);
	}
	for (i = 0; i < 50; i++) {
		usleep(10000);
		http_webhook_get_stats(e.wh, &st);
		assert_true(st.connections <= 2);
	}
	assert_int_equal(st.connections, 2);
	/* a slot frees up: the waiting connection is accepted and answered */
	close(fds[0]);
	assert_int_equal(write(fds[2], req, strlen(req)), (ssize_t)strlen(req));
	assert_true(read_until_close(fds[2], buf, sizeof(buf)) > 0);
	assert_true(strncmp(buf, "HTTP/1.1 405 ", 13) == 0);
	close(fds[1]);
	close(fds[2]);
	engine_stop(&e);
}

/* ---- TLS ---- */

static void test_tls_combined_pem(void **state)
{
	struct engine e = {0};
	struct http_result r;
	char url[192];

	test_config(&e.cfg);
	e.cfg.tls.enabled = true;
	e.cfg.tls.certificate = pki.server_pem;
	engine_start(&e);
	r = post(&e, EVENT_JSON);
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_true(engine_pump(&e, 1));
	/* plain HTTP to the TLS port gets no HTTP answer */
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/k8s-audit", http_webhook_port(e.wh));
	r = http_do(url, NULL, EVENT_JSON, strlen(EVENT_JSON));
	assert_int_not_equal(r.status, 200);
	engine_stop(&e);
	assert_int_equal(e.batches, 1);
}

static void test_tls_separate_key(void **state)
{
	struct engine e = {0};

	test_config(&e.cfg);
	e.cfg.tls.enabled = true;
	e.cfg.tls.certificate = pki.server_crt;
	e.cfg.tls.key = pki.server_key;
	engine_start(&e);
	assert_int_equal(post(&e, EVENT_JSON).status, 200);
	assert_true(engine_pump(&e, 1));
	engine_stop(&e);
}

static void test_mtls(void **state)
{
	struct engine e = {0};
	struct http_opts good = {.ca = pki.ca, .cert = pki.client_crt, .key = pki.client_key};
	struct http_opts none = {.ca = pki.ca};
	struct http_opts rogue = {.ca = pki.ca, .cert = pki.rogue_crt, .key = pki.rogue_key};
	struct http_webhook_stats st;
	struct http_result r;

	test_config(&e.cfg);
	e.cfg.tls = (struct http_tls_config){
		.enabled = true,
		.certificate = pki.server_pem,
		.ca = pki.ca,
		.verify_client = true,
	};
	engine_start(&e);
	r = http_do(e.url, &good, EVENT_JSON, strlen(EVENT_JSON));
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_true(engine_pump(&e, 1));

	r = http_do(e.url, &none, EVENT_JSON, strlen(EVENT_JSON));
	assert_int_not_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 0);
	r = http_do(e.url, &rogue, EVENT_JSON, strlen(EVENT_JSON));
	assert_int_not_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 0);

	http_webhook_get_stats(e.wh, &st);
	assert_int_equal(st.requests[HTTP_WEBHOOK_OK], 1);
	engine_stop(&e);
	assert_int_equal(e.batches, 1);
}

static void test_tls11_refused(void **state)
{
	struct engine e = {0};
	int reason;

	test_config(&e.cfg);
	e.cfg.tls.enabled = true;
	e.cfg.tls.certificate = pki.server_pem;
	engine_start(&e);
	/* the same client completes TLS 1.2, so the refusal below is the server's */
	assert_int_equal(
		tls_handshake_version(http_webhook_port(e.wh), TLS1_2_VERSION, pki.ca, &reason), 1);
	assert_int_equal(
		tls_handshake_version(http_webhook_port(e.wh), TLS1_1_VERSION, pki.ca, &reason), 0);
	assert_int_equal(reason, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	assert_int_equal(
		tls_handshake_version(http_webhook_port(e.wh), TLS1_VERSION, pki.ca, &reason), 0);
	assert_int_equal(reason, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	engine_stop(&e);
}

/* ---- start errors ---- */

static int try_start(struct http_webhook_config *cfg, char *err, size_t errlen)
{
	struct event_base *base = event_base_new();
	struct http_webhook_callbacks cbs = {.deliver = deliver};
	struct http_webhook *wh = NULL;
	int r;

	err[0] = '\0';
	r = http_webhook_start(cfg, base, &cbs, &wh, err, errlen);
	wh = http_webhook_stop(wh);
	event_base_free(base);
	return r;
}

static void test_start_errors(void **state)
{
	struct engine e = {0};
	struct http_webhook_config cfg;
	char err[512], want[512];

	/* address in use */
	test_config(&e.cfg);
	engine_start(&e);
	test_config(&cfg);
	cfg.listen_port = http_webhook_port(e.wh);
	assert_int_equal(try_start(&cfg, err, sizeof(err)), -EADDRINUSE);
	snprintf(want, sizeof(want), "cannot bind 127.0.0.1:%u: Address already in use",
		 cfg.listen_port);
	assert_string_equal(err, want);
	engine_stop(&e);

	/* TLS is the default: a missing certificate is an error, never a silent fallback to plain HTTP */
	http_webhook_config_init(&cfg);
	cfg.listen_address = "127.0.0.1";
	cfg.listen_port = 0;
	cfg.tls.certificate = "/nonexistent/falco.pem";
	assert_int_equal(try_start(&cfg, err, sizeof(err)), -ENOENT);
	assert_string_equal(
		err, "cannot load certificate '/nonexistent/falco.pem': No such file or directory");

	cfg.tls.certificate = NULL;
	assert_int_equal(try_start(&cfg, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "TLS is enabled but no certificate is configured");

	/* not PEM at all */
	cfg.tls.certificate = pki.dir; /* a directory */
	assert_int_equal(try_start(&cfg, err, sizeof(err)), -EISDIR);
	cfg.tls.certificate = "/etc/hostname";
	if (access(cfg.tls.certificate, R_OK) == 0) {
		assert_int_equal(try_start(&cfg, err, sizeof(err)), -EINVAL);
		assert_true(strncmp(err, "cannot load certificate '/etc/hostname': ", 41) == 0);
	}

	/* a key that does not belong to the certificate */
	cfg.tls.certificate = pki.server_crt;
	cfg.tls.key = pki.client_key;
	assert_int_equal(try_start(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "does not match private key"));

	/* mTLS without a CA */
	cfg.tls.key = pki.server_key;
	cfg.tls.verify_client = true;
	assert_int_equal(try_start(&cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "needs a CA"));
	cfg.tls.ca = "/nonexistent/ca.pem";
	assert_int_equal(try_start(&cfg, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "cannot load CA '/nonexistent/ca.pem': No such file or directory");

	/* bad path, unresolvable address */
	test_config(&cfg);
	cfg.path = "k8s-audit";
	assert_int_equal(try_start(&cfg, err, sizeof(err)), -EINVAL);
	test_config(&cfg);
	cfg.listen_address = "256.1.1.1";
	assert_true(try_start(&cfg, err, sizeof(err)) < 0);
	assert_true(strncmp(err, "cannot bind 256.1.1.1:0: ", 25) == 0);
}

/* ---- the queue alone ---- */

static void test_queue(void **state)
{
	struct http_queue q;
	int items[5];

	assert_int_equal(http_queue_init(&q, 3, 100), 0);
	assert_null(http_queue_pop(&q));
	assert_true(http_queue_has_room(&q, 1000)); /* empty: any size */
	assert_int_equal(http_queue_push(&q, &items[0], 1000), 0);
	assert_false(http_queue_has_room(&q, 1)); /* over the byte budget */
	assert_ptr_equal(http_queue_pop(&q), &items[0]);
	for (int i = 0; i < 3; i++)
		assert_int_equal(http_queue_push(&q, &items[i], 10), 0);
	assert_int_equal(http_queue_push(&q, &items[3], 10), -EAGAIN); /* by count */
	assert_int_equal(http_queue_depth(&q), 3);
	assert_int_equal(atomic_load(&q.bytes), 30);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(http_queue_pop(&q), &items[i]);
	assert_null(http_queue_pop(&q));
	assert_int_equal(atomic_load(&q.bytes), 0);
	http_queue_ack(&q);
	http_queue_done(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_queue),
		cmocka_unit_test(test_event_eventlist_array),
		cmocka_unit_test(test_method_not_allowed),
		cmocka_unit_test(test_wrong_content_type),
		cmocka_unit_test(test_body_too_large),
		cmocka_unit_test(test_malformed_json),
		cmocka_unit_test(test_event_too_large),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_queue_full_429),
		cmocka_unit_test(test_queue_bytes_429),
		cmocka_unit_test(test_health_reports_a_stalled_engine),
		cmocka_unit_test(test_health_reports_a_stuck_webhook_thread),
		cmocka_unit_test(test_bounded_drain_per_wakeup),
		cmocka_unit_test(test_stop_delivers_queued),
		cmocka_unit_test(test_too_many_connections_503),
		cmocka_unit_test(test_idle_and_slow_clients_time_out),
		cmocka_unit_test(test_header_too_large),
		cmocka_unit_test(test_chunked_and_keepalive),
		cmocka_unit_test(test_accept_pauses_at_hard_limit),
		cmocka_unit_test(test_tls_combined_pem),
		cmocka_unit_test(test_tls_separate_key),
		cmocka_unit_test(test_mtls),
		cmocka_unit_test(test_tls11_refused),
		cmocka_unit_test(test_start_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
