/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Falco's own webserver (falco.yaml `webserver:`, default :8765): GET <k8s_healthz_endpoint> (/healthz) answers
 * {"status": "ok"} or 503 with a reason from the daemon's health callback, GET /versions answers the component
 * versions as upstream does, and further routes (/metrics) are added with http_server_add_route().
 *
 * It runs on its own thread with its own event_base, not on the webhook's: a liveness probe must be answered
 * while the webhook is busy parsing a 12 MiB batch or being flooded, either server can be enabled without the
 * other, and a /metrics scrape never competes with audit traffic. The cost is one mostly idle thread.
 * Handlers and callbacks run on that thread. Nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "http.h"

struct http_server;

struct http_server_config {
	/* listen_address: "0.0.0.0" ("" or "*" = all interfaces, IPv6 too) */
	const char *listen_address;
	/* listen_port: 8765; 0 = any free port (see http_server_port()) */
	uint16_t listen_port;
	/* k8s_healthz_endpoint: "/healthz" */
	const char *healthz_path;
	/* ssl_enabled (false) and ssl_certificate (/etc/falco/falco.pem) */
	struct http_tls_config tls;
	/* small: 32 connections, 8 KiB headers, 64 KiB bodies, 10 s */
	struct http_limits limits;
};

/* Fills cfg with the defaults above (upstream's). Strings are static. */
void http_server_config_init(struct http_server_config *cfg);

/* One "key": "value" pair of /versions' plugin_versions object. */
struct http_kv {
	const char *key;
	const char *value;
};

/*
 * /versions, as upstream's versions_info: every non-NULL field becomes a string member, keys sorted as upstream
 * prints them. required_engine_version is ours: the highest required_engine_version among the loaded rules files.
 */
struct http_versions {
	const char *default_driver_version;
	const char *driver_api_version;
	const char *driver_schema_version;
	const char *engine_version;	   /* the engine's minor version, "57" */
	const char *engine_version_semver; /* ENGINE_VERSION, "0.57.0" */
	const char *falco_version;	   /* PROJECT_VERSION */
	const char *libs_version;
	const char *plugin_api_version;
	const struct http_kv *plugin_versions; /* plugin name -> version, in order; may be NULL */
	size_t n_plugin_versions;
	const char *required_engine_version;
};

/* Sets falco_version, engine_version and engine_version_semver from the build; the rest NULL. */
void http_versions_init(struct http_versions *v);

struct http_server_callbacks {
	/*
	 * Whether falco is healthy (event sources running, outputs not wedged). On false, reason (NUL-terminated,
	 * fits reasonlen) goes into the 503 reply. Runs on the server thread for every probe: read atomics, don't
	 * block. NULL = always healthy.
	 */
	bool (*health)(void *ud, char *reason, size_t reasonlen);
	void *ud;
};

/* What a route handler sees of a request. Borrowed for the handler's duration. */
struct http_route_request {
	const char *method; /* "GET" or "HEAD": other methods get 405 before handlers run */
	const char *path;
	const char *query; /* NULL when absent */
};

/* What a route handler fills in. status and content_type start as 200 and "application/json". */
struct http_response {
	int status;
	const char *content_type; /* static, or owned by the route's ud */
	struct strbuf body;	  /* limited to 16 MiB */
};

typedef void (*http_route_fn)(void *ud, const struct http_route_request *req,
			      struct http_response *resp);

/*
 * Binds and starts the server thread. versions is copied (may be NULL: http_versions_init() values).
 * Returns 0 with *ret, or -errno with errbuf ("cannot bind 0.0.0.0:8765: Address already in use", "cannot load
 * certificate '/etc/falco/falco.pem': ..."). Does not log.
 */
int http_server_start(const struct http_server_config *cfg, const struct http_server_callbacks *cbs,
		      const struct http_versions *versions, struct http_server **ret, char *errbuf,
		      size_t errlen);

/*
 * Adds GET route path → fn (runs on the server thread; ud is borrowed until http_server_stop()). Any thread, any
 * time. Returns 0, -EEXIST (path taken, including the built-in ones), -E2BIG (16 routes), -EINVAL, -ENOMEM.
 */
int http_server_add_route(struct http_server *srv, const char *path, http_route_fn fn, void *ud,
			  char *errbuf, size_t errlen);

/* Replaces what /versions reports (after a rules reload, for instance). Any thread. 0 or -ENOMEM. */
int http_server_set_versions(struct http_server *srv, const struct http_versions *versions);

uint16_t http_server_port(const struct http_server *srv);

/* Stops (bounded by limits.shutdown_grace_ms), joins and frees. Accepts NULL; returns NULL. */
struct http_server *http_server_stop(struct http_server *srv);
