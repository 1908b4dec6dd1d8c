/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load test for the k8s audit webhook.
 *
 *   webhook_load serve [--tls DIR] [--port N] [--engine-delay-us U]
 *       Runs the webhook (falco/server/webhook.h) with an engine thread that frees every batch it receives, prints
 *       "port N" and then, every second, "events E rss_kb R hwm_kb H cpu_ms C" (C: the server's user + system
 *       CPU time so far). The certificates in DIR (falco.pem, ca.pem) come from `webhook_load certs DIR`.
 *       --engine-delay-us makes the engine sleep after each batch (a slow engine: the queue fills and clients
 *       get 429).
 *   webhook_load load --port N [--ca CA] [--conns C] [--batch B] [--seconds S] [--rate EVENTS_PER_SEC [--burst]]
 *       C keep-alive connections POST EventLists of B events (default 4, 100, 10 s, unpaced) and print events/s and
 *       request latency percentiles. With --rate, each connection sends on a fixed schedule (latency is measured
 *       from the scheduled send time, so a server that falls behind shows up in the percentiles); the
 *       connections' schedules are staggered so requests arrive evenly spaced, or all at the same instants with
 *       --burst (C requests queue behind one another at the server every period).
 *       --event FILE: every item of the batch is the audit event in FILE (one JSON object on one line, e.g.
 *       tests/fixtures/k8s/bench_pod_create.json) instead of the generated ~1 KiB events.
 *   webhook_load certs DIR
 *       Writes a throwaway CA (ca.pem) and server certificate + key for localhost (falco.pem) into DIR.
 *
 * Output is plain "key value" lines for bench/bench_webhook.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "common/macro.h"
#include "falco/server/webhook.h"
#include "falco/source/k8saudit.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- serve ---- */

static atomic_uint_fast64_t served_events;
static volatile sig_atomic_t stop_flag;
static long engine_delay_us; /* simulates a slow engine: per delivered batch */

static void deliver(void *ud, struct k8s_batch *b)
{
	atomic_fetch_add(&served_events, b->n);
	k8s_batch_free(b);
	if (engine_delay_us)
		usleep((useconds_t)engine_delay_us);
}

static void on_term(int sig)
{
	stop_flag = 1;
}

static long status_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0)
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct event_base *base = arg;
	struct rusage ru;

	if (stop_flag) {
		event_base_loopbreak(base);
		return;
	}
	getrusage(RUSAGE_SELF, &ru);
	printf("events %llu rss_kb %ld hwm_kb %ld cpu_ms %ld\n",
	       (unsigned long long)atomic_load(&served_events), status_kb("VmRSS:"),
	       status_kb("VmHWM:"),
	       (long)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
		       (long)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000);
	fflush(stdout);
}

static int serve(const char *tlsdir, int port)
{
	struct http_webhook_config cfg;
	struct http_webhook_callbacks cbs = {.deliver = deliver};
	struct http_webhook *wh = NULL;
	struct event_base *base = event_base_new();
	struct timeval sec = {1, 0};
	struct event *tick;
	char pem[512], err[512];

	http_webhook_config_init(&cfg);
	cfg.listen_address = "127.0.0.1";
	cfg.listen_port = (uint16_t)port;
	if (tlsdir) {
		snprintf(pem, sizeof(pem), "%s/falco.pem", tlsdir);
		cfg.tls.certificate = pem;
	} else {
		cfg.tls.enabled = false;
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	signal(SIGPIPE, SIG_IGN);
	if (http_webhook_start(&cfg, base, &cbs, &wh, err, sizeof(err)) < 0) {
		fprintf(stderr, "webhook_load: %s\n", err);
		return EXIT_FAILURE;
	}
	printf("port %u\n", http_webhook_port(wh));
	fflush(stdout);
	tick = event_new(base, -1, EV_PERSIST, on_tick, base);
	event_add(tick, &sec);
	event_base_dispatch(base);
	event_free(tick);
	http_webhook_stop(wh);
	event_base_free(base);
	return EXIT_SUCCESS;
}

/* ---- certs ---- */

static int certs(const char *dir)
{
	EVP_PKEY *cakey = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
	X509 *ca = X509_new(), *crt = X509_new();
	X509V3_CTX ctx;
	char path[512];
	FILE *f;

	for (int i = 0; i < 2; i++) {
		X509 *x = i ? crt : ca;
		X509_NAME *n = X509_get_subject_name(x);

		X509_set_version(x, 2);
		ASN1_INTEGER_set(X509_get_serialNumber(x), i + 1);
		X509_gmtime_adj(X509_getm_notBefore(x), -3600);
		X509_gmtime_adj(X509_getm_notAfter(x), 86400 * 7);
		X509_set_pubkey(x, i ? key : cakey);
		X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
					   (const unsigned char *)(i ? "localhost" : "bench CA"),
					   -1, -1, 0);
		X509_set_issuer_name(x, X509_get_subject_name(ca));
		X509V3_set_ctx_nodb(&ctx);
		X509V3_set_ctx(&ctx, ca, x, NULL, NULL, 0);
		X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints,
							i ? "CA:FALSE" : "CA:TRUE");
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
		if (i) {
			e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name,
						"DNS:localhost,IP:127.0.0.1");
			X509_add_ext(x, e, -1);
			X509_EXTENSION_free(e);
		}
		X509_sign(x, cakey, EVP_sha256());
	}
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	f = fopen(path, "w");
	if (!f || !PEM_write_X509(f, ca) || fclose(f) != 0)
		return EXIT_FAILURE;
	snprintf(path, sizeof(path), "%s/falco.pem", dir);
	umask(077);
	f = fopen(path, "w");
	if (!f || !PEM_write_X509(f, crt) ||
	    !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) || fclose(f) != 0)
		return EXIT_FAILURE;
	X509_free(ca);
	X509_free(crt);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(key);
	return EXIT_SUCCESS;
}

/* ---- load ---- */

struct load_opts {
	int port;
	const char *ca;
	int conns, batch, seconds;
	double rate; /* events/s over all connections; 0 = as fast as possible */
	bool burst;  /* --burst: every connection sends at the same instants (default: staggered) */
	const char *
		event; /* --event FILE: this JSON object is every item of the batch (NULL: generated) */
};

struct conn {
	pthread_t thread;
	const struct load_opts *o;
	int index;
	SSL_CTX *ctx;
	const char *req;
	size_t req_len;
	uint64_t *lat; /* ns per request */
	size_t n, cap;
	uint64_t errors, non200, st429, st503;
};

static char *make_request(int batch, const char *event, size_t *ret_len)
{
	size_t cap = (size_t)batch * (2048 + (event ? strlen(event) : 0)) + 1024, off = 0;
	char *body = malloc(cap), *req;
	int n;

	off += (size_t)snprintf(body + off, cap - off,
				"{\"kind\":\"EventList\",\"apiVersion\":\"audit.k8s.io/v1\","
				"\"metadata\":{},\"items\":[");
	for (int i = 0; i < batch; i++)
		if (event)
			off += (size_t)snprintf(body + off, cap - off, "%s%s", i ? "," : "", event);
		else
			off += (size_t)snprintf(
				body + off, cap - off,
				"%s{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\",\"level\":\"RequestResponse\","
				"\"auditID\":\"6f4b9d7e-%04x-4c1e-9f3a-0c0ffee%05d\",\"stage\":\"ResponseComplete\","
				"\"requestURI\":\"/api/v1/namespaces/team-%d/pods/web-%d\",\"verb\":\"%s\","
				"\"user\":{\"username\":\"system:serviceaccount:team-%d:deployer\",\"uid\":\"%08x\","
				"\"groups\":[\"system:serviceaccounts\",\"system:authenticated\"]},"
				"\"sourceIPs\":[\"10.1.%d.%d\"],\"userAgent\":\"kubectl/v1.29.2 (linux/amd64) kubernetes/4b8e819\","
				"\"objectRef\":{\"resource\":\"pods\",\"namespace\":\"team-%d\",\"name\":\"web-%d\","
				"\"apiVersion\":\"v1\"},\"responseStatus\":{\"metadata\":{},\"code\":200},"
				"\"requestObject\":{\"kind\":\"Pod\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"web-%d\","
				"\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
				"\"registry.example.com/web:1.%d\",\"securityContext\":{\"privileged\":%s}}],"
				"\"hostNetwork\":false}},\"requestReceivedTimestamp\":\"2026-01-02T15:04:05.%06dZ\","
				"\"stageTimestamp\":\"2026-01-02T15:04:05.%06dZ\",\"annotations\":{"
				"\"authorization.k8s.io/decision\":\"allow\",\"authorization.k8s.io/reason\":\"RBAC\"}}",
				i ? "," : "", i, i, i % 7, i, i % 3 ? "get" : "create", i % 7,
				(unsigned)i * 2654435761u, i % 250, i % 200, i % 7, i, i, i % 10,
				i % 17 ? "false" : "true", i, i + 17);
	off += (size_t)snprintf(body + off, cap - off, "]}");
	req = malloc(off + 512);
	n = snprintf(
		req, off + 512,
		"POST /k8s-audit HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
		"Content-Length: %zu\r\n\r\n%s",
		off, body);
	free(body);
	*ret_len = (size_t)n;
	return req;
}

struct io {
	int fd;
	SSL *ssl;
	char buf[8192];
	size_t len;
};

static ssize_t io_read(struct io *io, void *p, size_t n)
{
	return io->ssl ? SSL_read(io->ssl, p, (int)n) : read(io->fd, p, n);
}

static bool io_write_all(struct io *io, const char *p, size_t n)
{
	while (n) {
		ssize_t w = io->ssl ? SSL_write(io->ssl, p, (int)MIN(n, (size_t)1 << 20))
				    : write(io->fd, p, n);
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Reads one response (headers + Content-Length body); returns the status, or -1. */
static int io_response(struct io *io)
{
	for (;;) {
		char *end = memmem(io->buf, io->len, "\r\n\r\n", 4);
		if (end) {
			size_t hlen = (size_t)(end - io->buf) + 4, clen = 0;
			char *cl = memmem(io->buf, hlen, "Content-Length: ", 16);
			int status = (int)strtol(io->buf + 9, NULL, 10);

			if (cl)
				clen = strtoul(cl + 16, NULL, 10);
			while (io->len < hlen + clen) {
				ssize_t r =
					io_read(io, io->buf + io->len, sizeof(io->buf) - io->len);
				if (r <= 0)
					return -1;
				io->len += (size_t)r;
			}
			memmove(io->buf, io->buf + hlen + clen, io->len - hlen - clen);
			io->len -= hlen + clen;
			return status;
		}
		if (io->len == sizeof(io->buf))
			return -1;
		ssize_t r = io_read(io, io->buf + io->len, sizeof(io->buf) - io->len);
		if (r <= 0)
			return -1;
		io->len += (size_t)r;
	}
}

static bool io_open(struct io *io, const struct conn *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)c->o->port)};
	int one = 1;

	memset(io, 0, sizeof(*io));
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	io->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (io->fd < 0 || connect(io->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return false;
	setsockopt(io->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (!c->ctx)
		return true;
	io->ssl = SSL_new(c->ctx);
	SSL_set_fd(io->ssl, io->fd);
	SSL_set_tlsext_host_name(io->ssl, "localhost");
	return SSL_connect(io->ssl) == 1;
}

static void io_close(struct io *io)
{
	if (io->ssl) {
		SSL_shutdown(io->ssl);
		SSL_free(io->ssl);
	}
	if (io->fd >= 0)
		close(io->fd);
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	const struct load_opts *o = c->o;
	uint64_t t0 = now_ns(), end = t0 + (uint64_t)o->seconds * 1000000000u, next = t0;
	uint64_t period = o->rate > 0 ? (uint64_t)(1e9 * o->batch * o->conns / o->rate) : 0;
	struct io io;

	/* requests arrive evenly spaced (one every period/conns) unless --burst asks for all at once */
	if (!o->burst)
		next += period / (uint64_t)o->conns * (uint64_t)c->index;

	if (!io_open(&io, c)) {
		c->errors++;
		io_close(&io);
		return NULL;
	}
	for (;;) {
		uint64_t start = now_ns();
		int status;

		if (start >= end)
			break;
		if (period) {
			if (start < next) {
				struct timespec ts = {0, (long)(next - start)};
				nanosleep(&ts, NULL);
			}
			start = next; /* scheduled time: lateness counts as latency */
			next += period;
		}
		if (!io_write_all(&io, c->req, c->req_len) || (status = io_response(&io)) < 0) {
			c->errors++;
			io_close(&io);
			if (!io_open(&io, c))
				break;
			continue;
		}
		if (status != 200)
			c->non200++;
		if (status == 429)
			c->st429++;
		if (status == 503)
			c->st503++;
		if (c->n == c->cap) {
			c->cap = c->cap ? c->cap * 2 : 4096;
			c->lat = realloc(c->lat, c->cap * sizeof(*c->lat));
		}
		c->lat[c->n++] = now_ns() - start;
	}
	io_close(&io);
	return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int load(const struct load_opts *o)
{
	struct conn *cs = calloc((size_t)o->conns, sizeof(*cs));
	SSL_CTX *ctx = NULL;
	size_t req_len, total = 0, k = 0;
	uint64_t errors = 0, non200 = 0, st429 = 0, st503 = 0, *all, t0, dt;
	char *req = make_request(o->batch, o->event, &req_len);

	signal(SIGPIPE, SIG_IGN);
	if (o->ca) {
		ctx = SSL_CTX_new(TLS_client_method());
		SSL_CTX_load_verify_locations(ctx, o->ca, NULL);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	t0 = now_ns();
	for (int i = 0; i < o->conns; i++) {
		cs[i] = (struct conn){
			.o = o, .index = i, .ctx = ctx, .req = req, .req_len = req_len};
		pthread_create(&cs[i].thread, NULL, conn_main, &cs[i]);
	}
	for (int i = 0; i < o->conns; i++) {
		pthread_join(cs[i].thread, NULL);
		total += cs[i].n;
		errors += cs[i].errors;
		non200 += cs[i].non200;
		st429 += cs[i].st429;
		st503 += cs[i].st503;
	}
	dt = now_ns() - t0;
	all = malloc((total ? total : 1) * sizeof(*all));
	for (int i = 0; i < o->conns; i++) {
		memcpy(all + k, cs[i].lat, cs[i].n * sizeof(*all));
		k += cs[i].n;
		free(cs[i].lat);
	}
	qsort(all, total, sizeof(*all), cmp_u64);
	printf("body_bytes %zu\n", req_len);
	printf("requests %zu\nerrors %llu\nnon200 %llu\n", total, (unsigned long long)errors,
	       (unsigned long long)non200);
	printf("status_429 %llu\nstatus_503 %llu\n", (unsigned long long)st429,
	       (unsigned long long)st503);
	/* accepted events only: 429/503 answers carry nothing */
	printf("events_per_sec %.0f\n", (double)(total - non200) * o->batch / ((double)dt / 1e9));
	if (total) {
		printf("latency_ms_p50 %.2f\n", all[total / 2] / 1e6);
		printf("latency_ms_p99 %.2f\n", all[(total * 99) / 100] / 1e6);
		printf("latency_ms_max %.2f\n", all[total - 1] / 1e6);
	}
	free(all);
	free(cs);
	free(req);
	SSL_CTX_free(ctx);
	return errors || non200 ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* The JSON object in FILE (one audit event), trailing whitespace removed; NULL (with a message) on error. */
static char *read_event(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, len = 0, r;

	if (!f) {
		perror(path);
		return NULL;
	}
	do {
		if (len + 4096 > cap)
			buf = realloc(buf, cap = 2 * cap + 8192);
		r = fread(buf + len, 1, cap - len - 1, f);
		len += r;
	} while (r > 0);
	fclose(f);
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' || buf[len - 1] == ' '))
		len--;
	buf[len] = '\0';
	if (!len || buf[0] != '{' || strchr(buf, '\n')) {
		fprintf(stderr, "%s: expected one JSON object on one line\n", path);
		free(buf);
		return NULL;
	}
	return buf;
}

int main(int argc, char **argv)
{
	struct load_opts o = {.conns = 4, .batch = 100, .seconds = 10};
	const char *tlsdir = NULL;

	if (argc >= 3 && strcmp(argv[1], "certs") == 0)
		return certs(argv[2]);
	for (int i = 2; i < argc; i += 2) {
		if (strcmp(argv[i], "--burst") == 0) {
			o.burst = true;
			i--; /* takes no value */
			continue;
		}
		if (i + 1 >= argc)
			break;
		if (strcmp(argv[i], "--port") == 0)
			o.port = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--tls") == 0)
			tlsdir = argv[i + 1];
		else if (strcmp(argv[i], "--ca") == 0)
			o.ca = argv[i + 1];
		else if (strcmp(argv[i], "--conns") == 0)
			o.conns = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--batch") == 0)
			o.batch = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--seconds") == 0)
			o.seconds = (int)strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--engine-delay-us") == 0)
			engine_delay_us = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--rate") == 0)
			o.rate = strtod(argv[i + 1], NULL);
		else if (strcmp(argv[i], "--event") == 0 && !(o.event = read_event(argv[i + 1])))
			return EXIT_FAILURE;
	}
	if (argc >= 2 && strcmp(argv[1], "serve") == 0)
		return serve(tlsdir, o.port);
	if (argc >= 2 && strcmp(argv[1], "load") == 0 && o.port > 0 && o.conns > 0 && o.batch > 0)
		return load(&o);
	fprintf(stderr,
		"usage: webhook_load serve [--tls DIR] [--port N] [--engine-delay-us U] | load --port N [--ca CA] [--conns C] "
		"[--batch B] [--seconds S] [--rate EVENTS_PER_SEC [--burst]] [--event FILE] | certs DIR\n");
	return EXIT_FAILURE;
}
