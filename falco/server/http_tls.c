/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Server TLS contexts: TLS 1.2 minimum, a certificate chain and key read from one combined PEM (upstream's
 * falco.pem) or two files, and optional client-certificate verification (mTLS). PEM files are read into memory
 * with a size limit so errors name the file plainly; key material is wiped before it is freed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "common/err.h"
#include "common/fileio.h"
#include "http_internal.h"
#include "tls_dl.h"

#define PEM_MAX_SIZE (1u << 20)

/* Mozilla "intermediate" TLS 1.2 suites; TLS 1.3 keeps OpenSSL's defaults. */
#define TLS12_CIPHERS                                                                              \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:" \
	"ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:"   \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384"

int http_ssl_errf(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
	char msg[512], reasons[512];
	size_t off = 0;
	unsigned long e;
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	reasons[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		const char *r = ERR_reason_error_string(e);
		char code[32];
		int n;

		if (!r) {
			(void)snprintf(code, sizeof(code), "error:%08lX", e);
			r = code;
		}
		if (off + 1 >= sizeof(reasons))
			continue; /* keep draining */
		n = snprintf(reasons + off, sizeof(reasons) - off, "%s%s", off ? ", " : "", r);
		if (n > 0)
			off = MIN(off + (size_t)n, sizeof(reasons) - 1);
	}
	return errf(errbuf, errlen, err, "%s: %s", msg, off ? reasons : "unknown TLS error");
}

static void pem_free(char *data, size_t len)
{
	if (!data)
		return;
	explicit_bzero(data, len);
	free(data);
}

static int pem_read(const char *what, const char *path, char **ret, size_t *ret_len, char *errbuf,
		    size_t errlen)
{
	int r = read_file(path, PEM_MAX_SIZE, ret, ret_len, NULL, 0);

	if (r == -EFBIG)
		return errf(errbuf, errlen, r, "cannot load %s '%s': larger than %u bytes", what,
			    path, PEM_MAX_SIZE);
	if (r < 0)
		return errf(errbuf, errlen, r, "cannot load %s '%s': %s", what, path, strerror(-r));
	return 0;
}

/* Leaf certificate first, then any chain certificates; PEM blocks of other kinds (the key) are skipped. */
static int use_certificate(SSL_CTX *ctx, const char *path, char *errbuf, size_t errlen)
{
	char *pem = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	X509 *leaf = NULL, *extra;
	int r;

	r = pem_read("certificate", path, &pem, &len, errbuf, errlen);
	if (r < 0)
		return r;
	ERR_clear_error();
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		r = errf(errbuf, errlen, -ENOMEM, "cannot load certificate '%s': out of memory",
			 path);
		goto cleanup;
	}
	leaf = PEM_read_bio_X509_AUX(bio, NULL, NULL, NULL);
	if (!leaf && ERR_GET_REASON(ERR_peek_last_error()) == PEM_R_NO_START_LINE) {
		ERR_clear_error();
		r = errf(errbuf, errlen, -EINVAL,
			 "cannot load certificate '%s': no PEM certificate found", path);
		goto cleanup;
	}
	if (!leaf) {
		r = http_ssl_errf(errbuf, errlen, -EINVAL, "cannot load certificate '%s'", path);
		goto cleanup;
	}
	if (SSL_CTX_use_certificate(ctx, leaf) != 1) {
		r = http_ssl_errf(errbuf, errlen, -EINVAL, "cannot use certificate '%s'", path);
		goto cleanup;
	}
	while ((extra = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, extra) != 1) {
			X509_free(extra);
			r = http_ssl_errf(errbuf, errlen, -EINVAL, "cannot use the chain in '%s'",
					  path);
			goto cleanup;
		}
	}
	/* the loop ends on "no start line"; anything else is a damaged file */
	if (ERR_GET_REASON(ERR_peek_last_error()) != PEM_R_NO_START_LINE &&
	    ERR_peek_last_error() != 0) {
		r = http_ssl_errf(errbuf, errlen, -EINVAL, "cannot load the chain in '%s'", path);
		goto cleanup;
	}
	ERR_clear_error();
	r = 0;
cleanup:
	X509_free(leaf);
	BIO_free(bio);
	pem_free(pem, len);
	return r;
}

/* Never prompts: an encrypted key is an error, not a passphrase request on the terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

static int use_private_key(SSL_CTX *ctx, const char *path, const char *cert, char *errbuf,
			   size_t errlen)
{
	char *pem = NULL;
	size_t len = 0;
	BIO *bio = NULL;
	EVP_PKEY *key = NULL;
	int r;

	r = pem_read("private key", path, &pem, &len, errbuf, errlen);
	if (r < 0)
		return r;
	ERR_clear_error();
	bio = BIO_new_mem_buf(pem, (int)len);
	if (!bio) {
		r = errf(errbuf, errlen, -ENOMEM, "cannot load private key '%s': out of memory",
			 path);
		goto cleanup;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	if (!key) {
		if (strstr(pem, "ENCRYPTED"))
			r = errf(errbuf, errlen, -EINVAL,
				 "cannot load private key '%s': encrypted keys are not supported",
				 path);
		else if (!strstr(pem, "PRIVATE KEY-----"))
			r = errf(errbuf, errlen, -EINVAL,
				 "cannot load private key '%s': no PEM private key found", path);
		else
			r = http_ssl_errf(errbuf, errlen, -EINVAL, "cannot load private key '%s'",
					  path);
		ERR_clear_error();
		goto cleanup;
	}
	/* this also checks the key against the certificate loaded before */
	if (SSL_CTX_use_PrivateKey(ctx, key) != 1) {
		r = http_ssl_errf(errbuf, errlen, -EINVAL,
				  "certificate '%s' does not match private key '%s'", cert, path);
		goto cleanup;
	}
	r = 0;
cleanup:
	EVP_PKEY_free(key);
	BIO_free(bio);
	pem_free(pem, len);
	return r;
}

static int use_client_ca(SSL_CTX *ctx, const char *ca, char *errbuf, size_t errlen)
{
	struct stat st;
	int r;

	if (stat(ca, &st) < 0)
		return errf(errbuf, errlen, -errno, "cannot load CA '%s': %s", ca, strerror(errno));
	ERR_clear_error();
	if (S_ISDIR(st.st_mode)) {
		r = SSL_CTX_load_verify_locations(ctx, NULL, ca);
	} else {
		STACK_OF(X509_NAME) * names;

		r = SSL_CTX_load_verify_locations(ctx, ca, NULL);
		/* tell clients which CAs we accept, so they pick the right certificate */
		names = r == 1 ? SSL_load_client_CA_file(ca) : NULL;
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	if (r != 1)
		return http_ssl_errf(errbuf, errlen, -EINVAL, "cannot load CA '%s'", ca);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 8);
	return 0;
}

int http_tls_ctx_new(const struct http_tls_config *tls, SSL_CTX **ret, char *errbuf, size_t errlen)
{
	static const unsigned char sid_ctx[] = "falco-http";
	const char *key;
	SSL_CTX *ctx;
	int r;

	if (!tls->certificate || !*tls->certificate)
		return errf(errbuf, errlen, -EINVAL,
			    "TLS is enabled but no certificate is configured");
	if (tls->verify_client && (!tls->ca || !*tls->ca))
		return errf(errbuf, errlen, -EINVAL,
			    "client certificate verification (mTLS) needs a CA to verify against");
	if ((r = tls_dl_load(errbuf, errlen)) < 0)
		return r;

	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx)
		return http_ssl_errf(errbuf, errlen, -ENOMEM, "cannot create TLS context");

	/* 1. protocol floor and hardening */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		r = http_ssl_errf(errbuf, errlen, -EINVAL, "cannot configure TLS");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
					 SSL_OP_CIPHER_SERVER_PREFERENCE);
	/* idle connections give their buffers back: memory stays proportional to active ones */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_sess_set_cache_size(ctx, 1024);
	SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);

	/* 2. certificate chain and key (upstream's combined falco.pem when no key file is given) */
	r = use_certificate(ctx, tls->certificate, errbuf, errlen);
	if (r < 0)
		goto fail;
	key = tls->key && *tls->key ? tls->key : tls->certificate;
	r = use_private_key(ctx, key, tls->certificate, errbuf, errlen);
	if (r < 0)
		goto fail;
	if (SSL_CTX_check_private_key(ctx) != 1) {
		r = http_ssl_errf(errbuf, errlen, -EINVAL,
				  "certificate '%s' does not match private key '%s'",
				  tls->certificate, key);
		goto fail;
	}

	/* 3. client certificates */
	if (tls->verify_client) {
		r = use_client_ca(ctx, tls->ca, errbuf, errlen);
		if (r < 0)
			goto fail;
	}
	*ret = ctx;
	return 0;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return r;
}
