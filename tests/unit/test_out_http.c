/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for falco/output/out_http.c: header building, URL redaction, which answers are retried, and the sink
 * against a small HTTP server on a thread of this test (scripted statuses, or hanging): retries with backoff, no
 * retry for other 4xx, and the "receiver down" state after max_consecutive_timeouts.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "falco/output/out.h"

/* ---- pure helpers ---- */

static void test_headers(void **state)
{
	const char *custom[] = {"Authorization: Bearer x", "X-Team: sec ops", NULL};
	struct out_http_config c = {.json = true, .headers = custom};
	struct curl_slist *l = NULL;
	char err[256];

	assert_int_equal(out_http_build_headers(&c, (void **)&l, err, sizeof(err)), 0);
	const char *want[] = {"Content-Type: application/json",
			      "Expect:", "Authorization: Bearer x", "X-Team: sec ops"};
	size_t i = 0;
	for (struct curl_slist *p = l; p; p = p->next, i++)
		assert_string_equal(p->data, want[i]);
	assert_int_equal(i, 4);
	curl_slist_free_all(l);

	c = (struct out_http_config){.json = false};
	l = NULL;
	assert_int_equal(out_http_build_headers(&c, (void **)&l, err, sizeof(err)), 0);
	assert_string_equal(l->data, "Content-Type: text/plain");
	curl_slist_free_all(l);

	static const char *const bad[] = {"X-Evil: a\r\nInjected: b", "NoColon", "Bad Name: x",
					  ": empty", "X-Evil: a\nb"};
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *one[] = {bad[i], NULL};
		c = (struct out_http_config){.headers = one};
		l = NULL;
		assert_int_equal(out_http_build_headers(&c, (void **)&l, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "invalid header"));
		curl_slist_free_all(l);
	}
}

static void test_redact(void **state)
{
	static const char *const cases[][2] = {
		{"https://user:pw@host:8443/p/a?tok=1#frag", "https://host:8443/p/a"},
		{"http://h", "http://h"},
		{"http://h:2801/", "http://h:2801/"},
		{"http://h/x@y?z", "http://h/x@y"},
		{"host/x?y", "host/x"},
	};
	char buf[128];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		out_http_redact_url(cases[i][0], buf, sizeof(buf));
		assert_string_equal(buf, cases[i][1]);
	}
	out_http_redact_url("https://averylonghostname/", buf, 10);
	assert_int_equal(strlen(buf), 9);
}

static void test_retryable(void **state)
{
	static const long yes[] = {408, 429, 500, 502, 503, 504};
	static const long no[] = {200, 204, 301, 400, 401, 403, 404, 413};

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_true(out_http_status_retryable(yes[i]));
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_false(out_http_status_retryable(no[i]));
}

/* ---- a scripted HTTP/1.1 server ---- */

struct server {
	int fd;
	uint16_t port;
	pthread_t thread;
	pthread_mutex_t lock;
	int plan[16]; /* statuses to answer, then 200; 0 = hang (never answer) */
	size_t nplan, at;
	bool hang_all;
	int requests;
	char last_body[256];
	bool stop;
};

static int next_status(struct server *sv)
{
	int st;
	pthread_mutex_lock(&sv->lock);
	sv->requests++;
	st = sv->hang_all ? 0 : sv->at < sv->nplan ? sv->plan[sv->at++] : 200;
	pthread_mutex_unlock(&sv->lock);
	return st;
}

/* Serves requests on one connection until the client closes it. */
static void serve_conn(struct server *sv, int c)
{
	char buf[8192];
	size_t len = 0;

	for (;;) {
		char *end = NULL;
		while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
			ssize_t n = read(c, buf + len, sizeof(buf) - len);
			if (n <= 0)
				return;
			len += (size_t)n;
		}
		size_t hdr = (size_t)(end - buf) + 4, body = 0;
		char *cl = strcasestr(buf, "Content-Length:");
		if (cl && cl < end)
			body = (size_t)strtoul(cl + 15, NULL, 10);
		while (len < hdr + body) {
			ssize_t n = read(c, buf + len, sizeof(buf) - len);
			if (n <= 0)
				return;
			len += (size_t)n;
		}
		pthread_mutex_lock(&sv->lock);
		snprintf(sv->last_body, sizeof(sv->last_body), "%.*s", (int)body, buf + hdr);
		pthread_mutex_unlock(&sv->lock);
		int st = next_status(sv);
		if (st == 0) {
			/* hang: wait for the client to give up and close */
			while (read(c, buf, sizeof(buf)) > 0)
				;
			return;
		}
		char resp[128];
		int n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 2\r\n\r\nok",
				 st);
		if (write(c, resp, (size_t)n) != n)
			return;
		memmove(buf, buf + hdr + body, len - hdr - body);
		len -= hdr + body;
	}
}

static void *server_main(void *arg)
{
	struct server *sv = arg;
	for (;;) {
		struct pollfd p = {.fd = sv->fd, .events = POLLIN};
		if (poll(&p, 1, 50) <= 0) {
			if (sv->stop)
				return NULL;
			continue;
		}
		int c = accept(sv->fd, NULL, NULL);
		if (c < 0)
			continue;
		serve_conn(sv, c);
		close(c);
	}
}

static struct server *server_start(void)
{
	struct server *sv = calloc(1, sizeof(*sv));
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t al = sizeof(a);

	pthread_mutex_init(&sv->lock, NULL);
	sv->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(sv->fd >= 0);
	assert_int_equal(bind(sv->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(sv->fd, 8), 0);
	getsockname(sv->fd, (struct sockaddr *)&a, &al);
	sv->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&sv->thread, NULL, server_main, sv), 0);
	return sv;
}

static void server_stop(struct server *sv)
{
	sv->stop = true;
	pthread_join(sv->thread, NULL);
	close(sv->fd);
	pthread_mutex_destroy(&sv->lock);
	free(sv);
}

static void server_plan(struct server *sv, bool hang, const int *plan, size_t n)
{
	pthread_mutex_lock(&sv->lock);
	sv->hang_all = hang;
	if (n)
		memcpy(sv->plan, plan, n * sizeof(*plan));
	sv->nplan = n;
	sv->at = 0;
	sv->requests = 0;
	pthread_mutex_unlock(&sv->lock);
}

static int server_requests(struct server *sv)
{
	pthread_mutex_lock(&sv->lock);
	int n = sv->requests;
	pthread_mutex_unlock(&sv->lock);
	return n;
}

static int post(struct out_sink *s, const char *line, char *err, size_t errlen)
{
	struct out_alert *a = out_alert_new(4, 0, true, "r", "k8s_audit", line, strlen(line));
	int r = s->ops->write(s, a, err, errlen);
	out_alert_unref(a);
	return r;
}

static struct out_sink *sink_for(struct server *sv, char *url, size_t ulen)
{
	snprintf(url, ulen, "http://127.0.0.1:%u/", sv->port);
	struct out_http_config c = {
		.url = url,
		.json = true,
		.timeout_ms = 300,
		.connect_timeout_ms = 300,
		.retries = 2,
		.retry_backoff_ms = 5,
		.max_consecutive_timeouts = 2,
	};
	return out_http_new(&c);
}

static void test_retries_then_success(void **state)
{
	struct server *sv = server_start();
	char url[64], err[512];
	struct out_sink *s = sink_for(sv, url, sizeof(url));
	static const int plan[] = {503, 429, 200};

	server_plan(sv, false, plan, 3);
	assert_int_equal(post(s, "{\"a\":1}", err, sizeof(err)), 0);
	assert_int_equal(server_requests(sv), 3);
	assert_string_equal(sv->last_body, "{\"a\":1}");

	/* more transient failures than retries: an error after 1 + 2 attempts */
	static const int bad[] = {500, 500, 500, 500};
	server_plan(sv, false, bad, 4);
	assert_int_equal(post(s, "x", err, sizeof(err)), -EIO);
	assert_int_equal(server_requests(sv), 3);
	assert_non_null(strstr(err, "answered HTTP 500"));

	/* a client error is not retried */
	static const int nf[] = {404};
	server_plan(sv, false, nf, 1);
	assert_int_equal(post(s, "x", err, sizeof(err)), -EPROTO);
	assert_int_equal(server_requests(sv), 1);
	assert_non_null(strstr(err, "answered HTTP 404"));
	s->ops->close(s);
	server_stop(sv);
}

static void test_timeouts_mark_the_receiver_down(void **state)
{
	struct server *sv = server_start();
	char url[64], err[512];
	struct out_sink *s = sink_for(sv, url, sizeof(url));

	server_plan(sv, true, NULL, 0);
	/* two alerts time out on every attempt: 3 requests each */
	assert_int_equal(post(s, "a", err, sizeof(err)), -ETIMEDOUT);
	assert_int_equal(server_requests(sv), 3);
	assert_null(strstr(err, "considered down"));
	assert_int_equal(post(s, "b", err, sizeof(err)), -ETIMEDOUT);
	assert_int_equal(server_requests(sv), 6);
	assert_non_null(strstr(err, "considered down"));
	/* down: a single attempt per alert */
	assert_int_equal(post(s, "c", err, sizeof(err)), -ETIMEDOUT);
	assert_int_equal(server_requests(sv), 7);
	/* it answers again: the first success clears the state, retries are back */
	server_plan(sv, false, NULL, 0);
	assert_int_equal(post(s, "d", err, sizeof(err)), 0);
	static const int plan[] = {503, 200};
	server_plan(sv, false, plan, 2);
	assert_int_equal(post(s, "e", err, sizeof(err)), 0);
	assert_int_equal(server_requests(sv), 2);
	s->ops->close(s);
	server_stop(sv);
}

static void test_connection_refused_and_bad_url(void **state)
{
	char err[512];
	struct out_http_config c = {.url = "http://127.0.0.1:1/",
				    .retries = 1,
				    .retry_backoff_ms = 1,
				    .connect_timeout_ms = 500};
	struct out_sink *s = out_http_new(&c);

	assert_int_equal(post(s, "x", err, sizeof(err)), -ECONNREFUSED);
	assert_non_null(strstr(err, "POST http://127.0.0.1:1/ failed"));
	s->ops->close(s);

	c.url = "'ftp://example.com/'"; /* quotes are removed as upstream does, then the scheme is refused */
	s = out_http_new(&c);
	assert_int_equal(post(s, "x", err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "must start with http:// or https://"));
	/* the setup error is sticky */
	assert_int_equal(post(s, "x", err, sizeof(err)), -EINVAL);
	s->ops->close(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_headers),
		cmocka_unit_test(test_redact),
		cmocka_unit_test(test_retryable),
		cmocka_unit_test(test_retries_then_success),
		cmocka_unit_test(test_timeouts_mark_the_receiver_down),
		cmocka_unit_test(test_connection_refused_and_bad_url),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
