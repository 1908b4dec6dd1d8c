/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the HTTP server tests (test_http_webhook.c, test_http_server.c): a temp directory with a test PKI
 * generated through the OpenSSL API (CA, server certificate with SANs, client certificates from our CA and from a
 * foreign one), libcurl requests, and a raw OpenSSL client for protocol-version checks. Header-only and static
 * so each test binary stays self-contained.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/macro.h"

struct test_pki {
	char dir[64];
	char ca[128];	      /* CA certificate */
	char server_pem[128]; /* server certificate + key, one file (falco.pem) */
	char server_crt[128]; /* server certificate alone */
	char server_key[128]; /* server key alone (0600) */
	char client_crt[128]; /* client certificate signed by ca */
	char client_key[128];
	char rogue_crt[128]; /* client certificate signed by another CA */
	char rogue_key[128];
};

static bool pki_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509_EXTENSION *ext;
	bool ok;

	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	if (!ext)
		return false;
	ok = X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

/* A certificate for key, signed by issuer/issuer_key (self-signed when issuer is NULL). */
static X509 *pki_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca,
		      long serial)
{
	X509 *x = X509_new();
	X509_NAME *name;
	bool ok;

	if (!x)
		return NULL;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	ok = pki_ext(x, issuer ? issuer : x, NID_basic_constraints,
		     ca ? "critical,CA:TRUE" : "critical,CA:FALSE") &&
	     pki_ext(x, issuer ? issuer : x, NID_subject_key_identifier, "hash") &&
	     pki_ext(x, issuer ? issuer : x, NID_key_usage,
		     ca ? "critical,keyCertSign,cRLSign"
			: "critical,digitalSignature,keyEncipherment");
	if (ok && !ca)
		ok = pki_ext(x, issuer, NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1") &&
		     pki_ext(x, issuer, NID_ext_key_usage, "serverAuth,clientAuth") &&
		     pki_ext(x, issuer, NID_authority_key_identifier, "keyid:always");
	if (!ok || !X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256())) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static bool pki_write(const char *path, X509 *cert, EVP_PKEY *key)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	FILE *f;
	bool ok = true;

	if (fd < 0)
		return false;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return false;
	}
	if (cert)
		ok = PEM_write_X509(f, cert) == 1;
	if (ok && key)
		ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	return fclose(f) == 0 && ok;
}

/* Creates the PKI in a fresh temp directory. Returns false on any failure. */
static _unused_ bool pki_create(struct test_pki *p)
{
	EVP_PKEY *cakey = EVP_EC_gen("P-256"), *skey = EVP_EC_gen("P-256"),
		 *ckey = EVP_EC_gen("P-256");
	EVP_PKEY *rcakey = EVP_EC_gen("P-256"), *rkey = EVP_EC_gen("P-256");
	X509 *ca = NULL, *srv = NULL, *cli = NULL, *rca = NULL, *rogue = NULL;
	bool ok = false;

	snprintf(p->dir, sizeof(p->dir), "/tmp/falco-http-test.XXXXXX");
	if (!mkdtemp(p->dir))
		goto out;
#define PKI_PATH(f, name) snprintf(p->f, sizeof(p->f), "%s/%s", p->dir, name)
	PKI_PATH(ca, "ca.pem");
	PKI_PATH(server_pem, "falco.pem");
	PKI_PATH(server_crt, "server.crt");
	PKI_PATH(server_key, "server.key");
	PKI_PATH(client_crt, "client.crt");
	PKI_PATH(client_key, "client.key");
	PKI_PATH(rogue_crt, "rogue.crt");
	PKI_PATH(rogue_key, "rogue.key");
#undef PKI_PATH
	if (!cakey || !skey || !ckey || !rcakey || !rkey)
		goto out;
	ca = pki_cert(cakey, "falco test CA", NULL, NULL, true, 1);
	rca = pki_cert(rcakey, "rogue CA", NULL, NULL, true, 1);
	if (!ca || !rca)
		goto out;
	srv = pki_cert(skey, "localhost", ca, cakey, false, 2);
	cli = pki_cert(ckey, "apiserver", ca, cakey, false, 3);
	rogue = pki_cert(rkey, "apiserver", rca, rcakey, false, 2);
	if (!srv || !cli || !rogue)
		goto out;
	ok = pki_write(p->ca, ca, NULL) && pki_write(p->server_pem, srv, skey) &&
	     pki_write(p->server_crt, srv, NULL) && pki_write(p->server_key, NULL, skey) &&
	     pki_write(p->client_crt, cli, NULL) && pki_write(p->client_key, NULL, ckey) &&
	     pki_write(p->rogue_crt, rogue, NULL) && pki_write(p->rogue_key, NULL, rkey);
out:
	X509_free(ca);
	X509_free(srv);
	X509_free(cli);
	X509_free(rca);
	X509_free(rogue);
	EVP_PKEY_free(cakey);
	EVP_PKEY_free(skey);
	EVP_PKEY_free(ckey);
	EVP_PKEY_free(rcakey);
	EVP_PKEY_free(rkey);
	return ok;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static _unused_ void pki_destroy(struct test_pki *p)
{
	if (p->dir[0])
		(void)nftw(p->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* ---- libcurl ---- */

struct http_result {
	CURLcode rc;
	long status;
	char body[4096];
	size_t len;
	char retry_after[16];
	char content_type[128];
	char error[CURL_ERROR_SIZE];
};

struct http_opts {
	const char *method;	  /* default: POST when body, else GET */
	const char *content_type; /* default "application/json" when body */
	const char *ca;		  /* https: CA to verify the server */
	const char *cert, *key;	  /* client certificate */
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_result *r = ud;
	size_t n = size * nmemb, room = sizeof(r->body) - 1 - r->len;

	memcpy(r->body + r->len, ptr, MIN(n, room));
	r->len += MIN(n, room);
	r->body[r->len] = '\0';
	return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct http_result *r = ud;
	size_t n = size * nmemb;

	if (n > 13 && strncasecmp(ptr, "Retry-After: ", 13) == 0)
		snprintf(r->retry_after, sizeof(r->retry_after), "%.*s",
			 (int)strcspn(ptr + 13, "\r\n"), ptr + 13);
	return n;
}

static _unused_ struct http_result http_do(const char *url, const struct http_opts *o,
					   const char *body, size_t len)
{
	struct http_result r = {0};
	struct curl_slist *hdrs = NULL;
	char ct[128];
	CURL *c = curl_easy_init();

	if (!c) {
		r.rc = CURLE_FAILED_INIT;
		return r;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r.error);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (body) {
		snprintf(ct, sizeof(ct), "Content-Type: %s",
			 o && o->content_type ? o->content_type : "application/json");
		hdrs = curl_slist_append(hdrs, ct);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (o && o->method && streq(o->method, "HEAD"))
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (o && o->method)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
	if (o && o->ca)
		curl_easy_setopt(c, CURLOPT_CAINFO, o->ca);
	if (o && o->cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, o->cert);
		curl_easy_setopt(c, CURLOPT_SSLKEY, o->key);
	}
	r.rc = curl_easy_perform(c);
	if (r.rc == CURLE_OK) {
		char *rct = NULL;

		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
		curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &rct);
		if (rct)
			snprintf(r.content_type, sizeof(r.content_type), "%s", rct);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return r;
}

/* ---- raw sockets and TLS ---- */

static _unused_ int tcp_connect(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * A TLS handshake pinned to one protocol version, with the client's own security level lowered so that the
 * server is what refuses old versions. Returns 1 when the handshake completes, 0 when it fails, and in *reason
 * the OpenSSL reason code of the failure.
 */
static _unused_ int tls_handshake_version(uint16_t port, int version, const char *ca, int *reason)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	SSL *ssl = NULL;
	int fd = -1, ok = 0;

	*reason = 0;
	if (!ctx)
		return -1;
	SSL_CTX_set_security_level(ctx, 0);
	SSL_CTX_set_cipher_list(ctx, "DEFAULT:@SECLEVEL=0");
	SSL_CTX_set_min_proto_version(ctx, version);
	SSL_CTX_set_max_proto_version(ctx, version);
	if (ca)
		SSL_CTX_load_verify_locations(ctx, ca, NULL);
	fd = tcp_connect(port);
	ssl = fd >= 0 ? SSL_new(ctx) : NULL;
	if (ssl) {
		ERR_clear_error();
		SSL_set_fd(ssl, fd);
		SSL_set_tlsext_host_name(ssl, "localhost");
		ok = SSL_connect(ssl) == 1;
		if (!ok)
			*reason = ERR_GET_REASON(ERR_peek_last_error());
		ERR_clear_error();
	}
	SSL_free(ssl);
	if (fd >= 0)
		close(fd);
	SSL_CTX_free(ctx);
	return ok;
}
