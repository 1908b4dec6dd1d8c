/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OpenSSL and libevent_openssl, loaded with dlopen() by the first TLS setup instead of linked. Linking them made
 * every falco start (falco -V, --version, a run without TLS) map and relocate libssl, libcrypto (4.7 MB, the
 * biggest library falco uses) and libevent_openssl: about 1.2 ms of a 5 ms `falco -V` budget. The packages stay
 * dependencies. Include this after the OpenSSL and event2 headers: it redirects the calls http_tls.c and
 * http_core.c make (macros such as SSL_CTX_set_mode expand to SSL_CTX_ctrl, redirected too) to a table filled
 * by tls_dl_load(), which http_tls_ctx_new() calls first; every other call needs the SSL_CTX it makes.
 */
#pragma once

#include <stddef.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#define TLS_DL_FUNCS(X)                                 \
	X(SSL_CTX_check_private_key)                    \
	X(SSL_CTX_ctrl)                                 \
	X(SSL_CTX_free)                                 \
	X(SSL_CTX_load_verify_locations)                \
	X(SSL_CTX_new)                                  \
	X(SSL_CTX_set_cipher_list)                      \
	X(SSL_CTX_set_client_CA_list)                   \
	X(SSL_CTX_set_options)                          \
	X(SSL_CTX_set_session_id_context)               \
	X(SSL_CTX_set_verify)                           \
	X(SSL_CTX_set_verify_depth)                     \
	X(SSL_CTX_use_PrivateKey)                       \
	X(SSL_CTX_use_certificate)                      \
	X(SSL_free)                                     \
	X(SSL_get0_peer_certificate)                    \
	X(SSL_get_verify_result)                        \
	X(SSL_load_client_CA_file)                      \
	X(SSL_new)                                      \
	X(TLS_server_method)                            \
	X(BIO_free)                                     \
	X(BIO_new_mem_buf)                              \
	X(ERR_clear_error)                              \
	X(ERR_get_error)                                \
	X(ERR_peek_last_error)                          \
	X(ERR_reason_error_string)                      \
	X(EVP_PKEY_free)                                \
	X(PEM_read_bio_PrivateKey)                      \
	X(PEM_read_bio_X509)                            \
	X(PEM_read_bio_X509_AUX)                        \
	X(X509_free)                                    \
	X(bufferevent_openssl_get_ssl)                  \
	X(bufferevent_openssl_set_allow_dirty_shutdown) \
	X(bufferevent_openssl_socket_new)

struct tls_dl {
#define TLS_DL_FIELD(f) __typeof__(f) *f;
	TLS_DL_FUNCS(TLS_DL_FIELD)
#undef TLS_DL_FIELD
};
extern struct tls_dl tls_dl;

/* Loads the libraries once (thread-safe). Returns 0, or -ENOENT with the reason in errbuf. */
int tls_dl_load(char *errbuf, size_t errlen);

#ifndef TLS_DL_NO_REDIRECT
#define SSL_CTX_check_private_key      tls_dl.SSL_CTX_check_private_key
#define SSL_CTX_ctrl		       tls_dl.SSL_CTX_ctrl
#define SSL_CTX_free		       tls_dl.SSL_CTX_free
#define SSL_CTX_load_verify_locations  tls_dl.SSL_CTX_load_verify_locations
#define SSL_CTX_new		       tls_dl.SSL_CTX_new
#define SSL_CTX_set_cipher_list	       tls_dl.SSL_CTX_set_cipher_list
#define SSL_CTX_set_client_CA_list     tls_dl.SSL_CTX_set_client_CA_list
#define SSL_CTX_set_options	       tls_dl.SSL_CTX_set_options
#define SSL_CTX_set_session_id_context tls_dl.SSL_CTX_set_session_id_context
#define SSL_CTX_set_verify	       tls_dl.SSL_CTX_set_verify
#define SSL_CTX_set_verify_depth       tls_dl.SSL_CTX_set_verify_depth
#define SSL_CTX_use_PrivateKey	       tls_dl.SSL_CTX_use_PrivateKey
#define SSL_CTX_use_certificate	       tls_dl.SSL_CTX_use_certificate
#define SSL_free		       tls_dl.SSL_free
#define SSL_get0_peer_certificate      tls_dl.SSL_get0_peer_certificate
#define SSL_get_verify_result	       tls_dl.SSL_get_verify_result
#define SSL_load_client_CA_file	       tls_dl.SSL_load_client_CA_file
#define SSL_new			       tls_dl.SSL_new
#define TLS_server_method	       tls_dl.TLS_server_method
#define BIO_free		       tls_dl.BIO_free
#define BIO_new_mem_buf		       tls_dl.BIO_new_mem_buf
#define ERR_clear_error		       tls_dl.ERR_clear_error
#define ERR_get_error		       tls_dl.ERR_get_error
#define ERR_peek_last_error	       tls_dl.ERR_peek_last_error
#define ERR_reason_error_string	       tls_dl.ERR_reason_error_string
#define EVP_PKEY_free		       tls_dl.EVP_PKEY_free
#define PEM_read_bio_PrivateKey	       tls_dl.PEM_read_bio_PrivateKey
#define PEM_read_bio_X509	       tls_dl.PEM_read_bio_X509
#define PEM_read_bio_X509_AUX	       tls_dl.PEM_read_bio_X509_AUX
#define X509_free		       tls_dl.X509_free
#define bufferevent_openssl_get_ssl    tls_dl.bufferevent_openssl_get_ssl
#define bufferevent_openssl_set_allow_dirty_shutdown \
	tls_dl.bufferevent_openssl_set_allow_dirty_shutdown
#define bufferevent_openssl_socket_new tls_dl.bufferevent_openssl_socket_new
#endif
