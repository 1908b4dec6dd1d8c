/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libcurl behind struct fc_http_ops: https only unless told otherwise (also for redirects), peer and host
 * verification always on, optional CA bundle, proxies from the environment (libcurl reads http_proxy,
 * https_proxy, no_proxy), timeouts, a body size limit, and retries with exponential backoff on transient
 * failures (connection errors, timeouts, 429, 5xx). CURLcode is translated here, once. Non-logging.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "common/err.h"
#include "fc.h"

struct body {
	char *buf;
	size_t len, cap;
	uint64_t max;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct body *b = userdata;
	size_t n = size * nmemb;
	if (b->len + n > b->max) {
		b->too_big = true;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	if (b->len + n + 1 > b->cap) {
		size_t ncap = MAX(b->cap * 2, b->len + n + 1);
		ncap = MAX(ncap, (size_t)4096);
		char *nb = realloc(b->buf, ncap);
		if (!nb)
			return 0;
		b->buf = nb;
		b->cap = ncap;
	}
	memcpy(b->buf + b->len, ptr, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return n;
}

struct xfer {
	const struct fc_http_req *req;
	struct timespec last;
};

static int on_xfer(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
		   curl_off_t ulnow)
{
	struct xfer *x = ud;
	struct timespec now;

	(void)ultotal;
	(void)ulnow;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t ms = (int64_t)(now.tv_sec - x->last.tv_sec) * 1000 +
		     (now.tv_nsec - x->last.tv_nsec) / 1000000;
	if (ms >= 1000 && dlnow > 0 && dlnow != dltotal) {
		x->last = now;
		x->req->progress(x->req->progress_ud, (uint64_t)dlnow,
				 dltotal > 0 ? (uint64_t)dltotal : 0);
	}
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* One attempt. Returns 0, or -errno with *transient telling whether a retry may help. */
static int attempt(const struct fc_http_req *req, struct body *b, bool *transient, char *errbuf,
		   size_t errlen)
{
	char cerr[CURL_ERROR_SIZE] = "";
	const char *protos = req->allow_http ? "http,https" : "https";
	long code = 0;
	int r;

	*transient = false;
	CURL *c = curl_easy_init();
	if (!c)
		return errf(errbuf, errlen, -ENOMEM, "cannot initialise libcurl");
	curl_easy_setopt(c, CURLOPT_URL, req->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, protos);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, protos);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (req->ca_file && *req->ca_file)
		curl_easy_setopt(c, CURLOPT_CAINFO, req->ca_file);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)req->max_size);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
			 (long)MIN(req->timeout_s ? req->timeout_s : 60, 10u));
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(req->timeout_s ? req->timeout_s : 60));
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "falcoctl/" PROJECT_VERSION);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, b);
	struct xfer x = {.req = req};
	if (req->progress) {
		clock_gettime(CLOCK_MONOTONIC, &x.last);
		curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_xfer);
		curl_easy_setopt(c, CURLOPT_XFERINFODATA, &x);
		curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	}

	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(c);
	const char *why = cerr[0] ? cerr : curl_easy_strerror(rc);

	if (b->too_big || rc == CURLE_FILESIZE_EXCEEDED)
		return errf(errbuf, errlen, -EFBIG, "%s: larger than the limit of %llu bytes",
			    req->url, (unsigned long long)req->max_size);
	switch (rc) {
	case CURLE_OK:
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		return errf(errbuf, errlen, -EPROTONOSUPPORT, "%s: refused: only %s allowed%s",
			    req->url, protos,
			    req->allow_http ? "" : " (plain http needs --plain-http)");
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		return errf(errbuf, errlen, -EPROTO, "%s: TLS failure: %s", req->url, why);
	case CURLE_OPERATION_TIMEDOUT:
		*transient = true;
		return errf(errbuf, errlen, -ETIMEDOUT, "%s: timed out: %s", req->url, why);
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		*transient = true;
		return errf(errbuf, errlen, -EIO, "%s: %s", req->url, why);
	default:
		return errf(errbuf, errlen, -EIO, "%s: %s", req->url, why);
	}
	if (code >= 200 && code < 300)
		return 0;
	if (code == 404 || code == 410)
		return errf(errbuf, errlen, -ENOENT, "%s: HTTP %ld (not found)", req->url, code);
	r = code == 429 || code >= 500 ? -EIO : -EPROTO;
	*transient = r == -EIO;
	return errf(errbuf, errlen, r, "%s: HTTP %ld", req->url, code);
}

static int real_get(void *data, const struct fc_http_req *req, char **ret_body, size_t *ret_len,
		    char *errbuf, size_t errlen)
{
	unsigned backoff = req->backoff_ms ? req->backoff_ms : 1000, tries = 0;
	int r = -EIO;

	for (unsigned i = 0; i <= req->retries; i++) {
		tries++;
		struct body b = {.max = req->max_size ? req->max_size : (64u << 20)};
		bool transient;
		r = attempt(req, &b, &transient, errbuf, errlen);
		if (r == 0) {
			*ret_body = b.buf ? b.buf : strdup("");
			*ret_len = b.len;
			return *ret_body ? 0 : -ENOMEM;
		}
		free(b.buf);
		if (!transient || i == req->retries)
			break;
		sleep_ms(backoff);
		backoff = MIN(backoff * 2, 8000u);
	}
	if (tries > 1)
		errf_prefix(errbuf, errlen, r, "after %u attempts", tries);
	return r;
}

const struct fc_http_ops fc_http_real = {
	.get = real_get,
};
