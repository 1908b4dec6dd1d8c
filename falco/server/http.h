/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Settings shared by falco's two HTTP servers: webhook.h (the k8s_audit webhook, default :9765/k8s-audit) and
 * webserver.h (/healthz, /versions and routes added later such as /metrics, default :8765). Each server runs
 * its own thread with its own libevent base; these types only describe TLS and the limits every connection
 * is held to. Nothing in the server module logs: errors come back as -errno plus text in errbuf.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * TLS for a listener. With enabled == false the server speaks plain HTTP: callers set that only when the user
 * asked for it explicitly (an http:// URL, ssl_enabled: false); a certificate that fails to load is an error,
 * never a fallback to plain HTTP. TLS 1.2 is the minimum protocol version.
 */
struct http_tls_config {
	bool enabled;
	/* PEM certificate chain; also holds the key when key is NULL (upstream's falco.pem) */
	const char *certificate;
	/* PEM private key; NULL or "" = read it from certificate */
	const char *key;
	/* PEM CA bundle (file) or hashed directory used to verify client certificates */
	const char *ca;
	/* mTLS: a client without a certificate signed by ca is refused during the handshake */
	bool verify_client;
};

/*
 * Limits applied to every connection. max_connections are served at once: a connection is admitted by its first
 * request and stays admitted until it closes; a connection arriving when all slots are taken gets 503 and is
 * closed. Past max_connections + max_connections/4 + 1 open connections (admitted, rejected, or not yet sent a
 * request) the server stops accepting until some close; new clients then wait in the kernel's listen backlog.
 * Worst-case buffered request memory is therefore about that many times (max_header_size + max_body_size).
 */
struct http_limits {
	/* connections served at once */
	unsigned max_connections;
	/* request line + headers; larger: 400 (sent by libevent) */
	size_t max_header_size;
	/* larger: 413 (sent by libevent; the rest of the body is read and discarded) */
	size_t max_body_size;
	/* inactivity while reading a request or writing a reply, and keep-alive idle time */
	unsigned timeout_ms;
	/* on stop, requests in progress get at most this long to finish */
	unsigned shutdown_grace_ms;
};
