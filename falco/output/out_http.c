/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http_output: one POST per alert with libcurl, on the sink's worker thread. The easy handle lives as long as the
 * sink, so connections (and TLS sessions) are reused. The body is the alert line: Falco's JSON object in JSON mode
 * (Content-Type: application/json, what falcosidekick's "/" endpoint takes), else the text line (text/plain).
 * Retries and the "receiver down" state are described in out.h. CURLcode is translated to -errno here, once.
 *
 * libcurl is loaded with dlopen() the first time an http_output is set up, not linked: linking it makes the
 * dynamic loader map and relocate libcurl and the ~25 libraries it needs (gnutls, krb5, ldap, ssh2, ...) at every
 * start, about 4 ms of the 5 ms budget of `falco -V`, although most runs never POST anything. libcurl4 stays a
 * package dependency; if it cannot be loaded, the sink reports that on its first write, like any setup failure.
 */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/err.h"
#include "out.h"
#include "out_sink_util.h"

#define HTTP_RESPONSE_MAX    (1u << 20)
#define HTTP_RETRY_MAX_MS    10000u
#define HTTP_DEFAULT_TIMEOUT 5000u
#define HTTP_DEFAULT_CONNECT 2000u
#define HTTP_DEFAULT_BACKOFF 200u

struct http_sink {
	struct out_sink base;
	struct out_http_config cfg; /* strings below are owned copies */
	char *url;		    /* unquoted */
	char *shown_url;	    /* redacted, for messages */
	char **strs;		    /* every copied string, freed at close */
	size_t nstrs;
	CURL *curl;
	struct curl_slist *headers;
	char curl_err[CURL_ERROR_SIZE];
	size_t resp_bytes;
	unsigned consecutive_timeouts;
	bool down; /* max_consecutive_timeouts reached: no retries until a success */
	bool setup_failed;
	char setup_err[512];
};

/* The libcurl functions used here, resolved from libcurl.so.4 on first use (see the top of the file). */
static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *curl);
	CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
	void (*easy_cleanup)(CURL *curl);
	const char *(*easy_strerror)(CURLcode code);
	struct curl_slist *(*slist_append)(struct curl_slist *list, const char *s);
	void (*slist_free_all)(struct curl_slist *list);
} curl;
static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static bool curl_loaded;
static char curl_load_err[256];
static CURLcode curl_init_result;

static void curl_load_once(void)
{
	void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(curl_load_err, sizeof(curl_load_err), "cannot load libcurl: %s",
			 dlerror());
		return;
	}
	struct {
		void **fn;
		const char *name;
	} syms[] = {
		{(void **)&curl.global_init, "curl_global_init"},
		{(void **)&curl.easy_init, "curl_easy_init"},
		{(void **)&curl.easy_setopt, "curl_easy_setopt"},
		{(void **)&curl.easy_perform, "curl_easy_perform"},
		{(void **)&curl.easy_getinfo, "curl_easy_getinfo"},
		{(void **)&curl.easy_cleanup, "curl_easy_cleanup"},
		{(void **)&curl.easy_strerror, "curl_easy_strerror"},
		{(void **)&curl.slist_append, "curl_slist_append"},
		{(void **)&curl.slist_free_all, "curl_slist_free_all"},
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if (!(*syms[i].fn = dlsym(h, syms[i].name))) {
			snprintf(curl_load_err, sizeof(curl_load_err), "cannot load libcurl: no %s",
				 syms[i].name);
			dlclose(h);
			return;
		}
	}
	curl_init_result = curl.global_init(CURL_GLOBAL_DEFAULT);
	curl_loaded = true; /* never unloaded: libcurl keeps global state */
}

/* Loads libcurl once. Returns 0, or -ENOENT with the reason in errbuf. */
static int curl_load(char *errbuf, size_t errlen)
{
	pthread_once(&curl_once, curl_load_once);
	return curl_loaded ? 0 : errf(errbuf, errlen, -ENOENT, "%s", curl_load_err);
}

bool out_http_status_retryable(long status)
{
	return status == 408 || status == 429 || status >= 500;
}

void out_http_redact_url(const char *url, char *buf, size_t len)
{
	const char *p = url, *scheme_end = strstr(url, "://");
	size_t n = 0;

	if (!len)
		return;
	buf[0] = '\0';
	if (scheme_end) {
		n = (size_t)(scheme_end - url) + 3;
		p = scheme_end + 3;
	}
	/* drop userinfo: everything up to an '@' before the first '/' */
	const char *slash = strchr(p, '/');
	const char *at = memchr(p, '@', slash ? (size_t)(slash - p) : strlen(p));
	const char *host = at ? at + 1 : p;
	size_t end = strcspn(host, "?#");
	snprintf(buf, len, "%.*s%.*s", (int)n, url, (int)end, host);
}

static bool header_name_ok(const char *h, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		/* RFC 9110 token characters */
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      strchr("!#$%&'*+-.^_`|~", c)))
			return false;
	}
	return true;
}

int out_http_build_headers(const struct out_http_config *cfg, void **list, char *errbuf,
			   size_t errlen)
{
	struct curl_slist *l = *list, *nl;
	int r = curl_load(errbuf, errlen);

	if (r < 0)
		return r;
	nl = curl.slist_append(l, cfg->json ? "Content-Type: application/json"
					    : "Content-Type: text/plain");
	if (!nl)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	l = nl;
	/* no "Expect: 100-continue" round trip before the body */
	if (!(nl = curl.slist_append(l, "Expect:"))) {
		*list = l;
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	l = nl;
	*list = l;
	for (const char *const *h = cfg->headers; h && *h; h++) {
		const char *colon = strchr(*h, ':');
		if (strpbrk(*h, "\r\n") || !colon || !header_name_ok(*h, (size_t)(colon - *h)))
			return errf(errbuf, errlen, -EINVAL,
				    "invalid header '%s' (expected 'Name: value' on one line)", *h);
		if (!(nl = curl.slist_append(l, *h)))
			return errf(errbuf, errlen, -ENOMEM, "out of memory");
		l = nl;
		*list = l;
	}
	return 0;
}

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_sink *hs = ud;
	size_t n = size * nmemb;

	hs->resp_bytes += n;
	if (hs->resp_bytes > HTTP_RESPONSE_MAX)
		return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
	if (hs->cfg.echo)
		(void)out_write_all(STDOUT_FILENO, ptr, n);
	return n;
}

static char *keep(struct http_sink *hs, const char *s)
{
	if (!s)
		return NULL;
	char **ns = realloc(hs->strs, (hs->nstrs + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	hs->strs = ns;
	char *c = strdup(s);
	if (c)
		hs->strs[hs->nstrs++] = c;
	return c;
}

/* Sets up the handle once, on the worker (the first write). Failures are remembered and repeated. */
static int setup(struct http_sink *hs, char *errbuf, size_t errlen)
{
	const struct out_http_config *c = &hs->cfg;
	CURLcode res = CURLE_OK;
	int r;

	if (hs->curl)
		return 0;
	if (hs->setup_failed)
		return errf(errbuf, errlen, -EINVAL, "%s", hs->setup_err);
	if (curl_load(hs->setup_err, sizeof(hs->setup_err)) < 0) {
		r = -ENOENT;
		goto fail;
	}
	if (curl_init_result != CURLE_OK) {
		r = -EIO;
		snprintf(hs->setup_err, sizeof(hs->setup_err), "libcurl initialization failed: %s",
			 curl.easy_strerror(curl_init_result));
		goto fail;
	}
	if (strncmp(hs->url, "http://", 7) != 0 && strncmp(hs->url, "https://", 8) != 0) {
		r = -EINVAL;
		snprintf(hs->setup_err, sizeof(hs->setup_err),
			 "url '%s' must start with http:// or https://", hs->shown_url);
		goto fail;
	}
	r = out_http_build_headers(c, (void **)&hs->headers, hs->setup_err, sizeof(hs->setup_err));
	if (r < 0)
		goto fail;
	hs->curl = curl.easy_init();
	if (!hs->curl) {
		r = -ENOMEM;
		snprintf(hs->setup_err, sizeof(hs->setup_err), "cannot create a libcurl handle");
		goto fail;
	}
#define SET(opt, val)                                               \
	do {                                                        \
		if (res == CURLE_OK)                                \
			res = curl.easy_setopt(hs->curl, opt, val); \
	} while (0)
	SET(CURLOPT_URL, hs->url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 0L);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_HTTPHEADER, hs->headers);
	SET(CURLOPT_USERAGENT,
	    c->user_agent && *c->user_agent ? c->user_agent : "falcosecurity/falco");
	SET(CURLOPT_ERRORBUFFER, hs->curl_err);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, hs);
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)HTTP_RESPONSE_MAX);
	SET(CURLOPT_TIMEOUT_MS, (long)(c->timeout_ms ? c->timeout_ms : HTTP_DEFAULT_TIMEOUT));
	SET(CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(c->connect_timeout_ms ? c->connect_timeout_ms : HTTP_DEFAULT_CONNECT));
	SET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (c->insecure) {
		SET(CURLOPT_SSL_VERIFYPEER, 0L);
		SET(CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		SET(CURLOPT_SSL_VERIFYPEER, 1L);
		SET(CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (c->ca_cert && *c->ca_cert)
		SET(CURLOPT_CAINFO, c->ca_cert);
	else if (c->ca_bundle && *c->ca_bundle)
		SET(CURLOPT_CAINFO, c->ca_bundle);
	else if (c->ca_path && *c->ca_path)
		SET(CURLOPT_CAPATH, c->ca_path);
	if (c->mtls) {
		SET(CURLOPT_SSLCERT, c->client_cert);
		SET(CURLOPT_SSLKEY, c->client_key);
	}
	if (c->compress_uploads)
		SET(CURLOPT_TRANSFER_ENCODING, 1L);
	if (c->keep_alive)
		SET(CURLOPT_TCP_KEEPALIVE, 1L);
#undef SET
	if (res != CURLE_OK) {
		r = -EINVAL;
		snprintf(hs->setup_err, sizeof(hs->setup_err), "libcurl setup failed: %s",
			 curl.easy_strerror(res));
		goto fail;
	}
	return 0;
fail:
	hs->setup_failed = true;
	if (hs->curl)
		curl.easy_cleanup(hs->curl);
	hs->curl = NULL;
	return errf(errbuf, errlen, r, "%s", hs->setup_err);
}

enum attempt_result {
	ATTEMPT_OK,
	ATTEMPT_TRANSIENT,
	ATTEMPT_TIMEOUT,
	ATTEMPT_PERMANENT,
};

static int translate(CURLcode res)
{
	switch (res) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CIPHER:
		return -EPROTO;
	default:
		return -EIO;
	}
}

static enum attempt_result classify(CURLcode res, long status)
{
	if (res == CURLE_OK)
		return status >= 200 && status < 300	   ? ATTEMPT_OK
		       : out_http_status_retryable(status) ? ATTEMPT_TRANSIENT
							   : ATTEMPT_PERMANENT;
	switch (res) {
	case CURLE_OPERATION_TIMEDOUT:
		return ATTEMPT_TIMEOUT;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR: /* a reset during the handshake; bad certificates are below */
		return ATTEMPT_TRANSIENT;
	default:
		return ATTEMPT_PERMANENT;
	}
}

static int http_write(struct out_sink *s, const struct out_alert *a, char *errbuf, size_t errlen)
{
	struct http_sink *hs = (struct http_sink *)s;
	struct out_backoff bo;
	enum attempt_result ar = ATTEMPT_PERMANENT;
	unsigned attempts;
	CURLcode res = CURLE_OK;
	long status = 0;
	int r = setup(hs, errbuf, errlen);

	if (r < 0)
		return r;
	out_backoff_init(&bo,
			 hs->cfg.retry_backoff_ms ? hs->cfg.retry_backoff_ms : HTTP_DEFAULT_BACKOFF,
			 HTTP_RETRY_MAX_MS);
	attempts = hs->down ? 1 : 1 + hs->cfg.retries;
	curl.easy_setopt(hs->curl, CURLOPT_POSTFIELDS, a->line);
	curl.easy_setopt(hs->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)a->len);
	for (unsigned i = 0; i < attempts; i++) {
		hs->curl_err[0] = '\0';
		hs->resp_bytes = 0;
		status = 0;
		res = curl.easy_perform(hs->curl);
		if (res == CURLE_OK)
			curl.easy_getinfo(hs->curl, CURLINFO_RESPONSE_CODE, &status);
		ar = classify(res, status);
		if (ar == ATTEMPT_OK) {
			hs->consecutive_timeouts = 0;
			hs->down = false;
			return 0;
		}
		if (ar == ATTEMPT_PERMANENT || i + 1 == attempts)
			break;
		if (!out_sink_sleep(s, out_backoff_next(&bo)))
			break;
	}
	if (ar == ATTEMPT_TIMEOUT) {
		if (++hs->consecutive_timeouts >= hs->cfg.max_consecutive_timeouts)
			hs->down = true;
	} else {
		hs->consecutive_timeouts = 0;
	}
	if (res == CURLE_OK)
		return errf(errbuf, errlen, status >= 500 ? -EIO : -EPROTO,
			    "POST %s answered HTTP %ld", hs->shown_url, status);
	return errf(errbuf, errlen, translate(res), "POST %s failed: %s%s", hs->shown_url,
		    hs->curl_err[0] ? hs->curl_err : curl.easy_strerror(res),
		    hs->down ? " (receiver considered down: no retries until it answers)" : "");
}

static void http_close(struct out_sink *s)
{
	struct http_sink *hs = (struct http_sink *)s;

	if (hs->curl)
		curl.easy_cleanup(hs->curl);
	if (hs->headers)
		curl.slist_free_all(hs->headers);
	for (size_t i = 0; i < hs->nstrs; i++) {
		/* may hold credentials (headers, URL userinfo) */
		explicit_bzero(hs->strs[i], strlen(hs->strs[i]));
		free(hs->strs[i]);
	}
	free(hs->strs);
	free((void *)hs->cfg.headers);
	free(hs->shown_url);
	free(hs);
}

static const struct out_sink_ops http_ops = {
	.name = "http",
	.write = http_write,
	.close = http_close,
};

struct out_sink *out_http_new(const struct out_http_config *cfg)
{
	struct http_sink *hs = calloc(1, sizeof(*hs));
	size_t nh = 0;

	if (!hs)
		return NULL;
	hs->base.ops = &http_ops;
	hs->cfg = *cfg;
	hs->cfg.headers = NULL;
	for (const char *const *h = cfg->headers; h && *h; h++)
		nh++;
	const char **headers = calloc(nh + 1, sizeof(*headers));
	if (!headers)
		goto fail;
	hs->cfg.headers = headers;
	for (size_t i = 0; i < nh; i++)
		if (!(headers[i] = keep(hs, cfg->headers[i])))
			goto fail;
	/* as upstream: a quoted URL ('...' or "...") is unquoted */
	const char *u = cfg->url ? cfg->url : "";
	size_t ul = strlen(u);
	if (ul >= 2 && (u[0] == '"' || u[0] == '\'') && u[ul - 1] == u[0]) {
		char *t = strndup(u + 1, ul - 2);
		if (!t)
			goto fail;
		hs->url = keep(hs, t);
		free(t);
	} else {
		hs->url = keep(hs, u);
	}
	if (!hs->url)
		goto fail;
	hs->cfg.url = hs->url;
#define KEEP(f)                                                \
	do {                                                   \
		if (cfg->f && !(hs->cfg.f = keep(hs, cfg->f))) \
			goto fail;                             \
	} while (0)
	KEEP(user_agent);
	KEEP(ca_cert);
	KEEP(ca_bundle);
	KEEP(ca_path);
	KEEP(client_cert);
	KEEP(client_key);
#undef KEEP
	hs->shown_url = malloc(strlen(hs->url) + 1);
	if (!hs->shown_url)
		goto fail;
	out_http_redact_url(hs->url, hs->shown_url, strlen(hs->url) + 1);
	return &hs->base;
fail:
	http_close(&hs->base);
	return NULL;
}
