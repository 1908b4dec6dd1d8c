/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Falco's webserver: /healthz, /versions and added routes, on an http_core of its own. The route table and the
 * rendered /versions JSON are shared with other threads (add_route, set_versions) under a mutex; handlers run
 * outside it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/err.h"
#include "common/strbuf.h"
#include "falco/engine/engine.h"
#include "http_internal.h"
#include "webserver.h"

#define MAX_ROUTES   16
#define PATH_MAX_LEN 256
#define BODY_MAX     (16u << 20)
#define REASON_MAX   256
#define STR_(x)	     #x
#define STR(x)	     STR_(x)

struct route {
	char *path;
	http_route_fn fn;
	void *ud;
};

struct http_server {
	struct http_core core;
	struct http_server_callbacks cbs;
	char *healthz_path;

	pthread_mutex_t lock; /* routes, versions_json */
	struct route routes[MAX_ROUTES];
	size_t n_routes;
	char *versions_json;
};

void http_server_config_init(struct http_server_config *cfg)
{
	*cfg = (struct http_server_config){
		.listen_address = "0.0.0.0",
		.listen_port = 8765,
		.healthz_path = "/healthz",
		.tls = {.enabled = false, .certificate = "/etc/falco/falco.pem"},
		.limits =
			{
				.max_connections = 32,
				.max_header_size = 8 << 10,
				.max_body_size = 64 << 10,
				.timeout_ms = 10000,
				.shutdown_grace_ms = 1000,
			},
	};
}

void http_versions_init(struct http_versions *v)
{
	*v = (struct http_versions){
		.falco_version = PROJECT_VERSION,
		.engine_version = STR(ENGINE_VERSION_MINOR),
		.engine_version_semver = ENGINE_VERSION,
	};
}

static void json_member(struct strbuf *sb, bool *first, const char *key, const char *value)
{
	if (!value)
		return;
	strbuf_appends(sb, *first ? "" : ",");
	strbuf_append_json_str(sb, key, strlen(key));
	strbuf_appendc(sb, ':');
	strbuf_append_json_str(sb, value, strlen(value));
	*first = false;
}

/* Compact, keys in the order upstream's nlohmann::json prints them (sorted). */
static char *render_versions(const struct http_versions *v)
{
	_cleanup_strbuf_ struct strbuf sb;
	bool first = true;

	strbuf_init(&sb, 64 << 10);
	strbuf_appendc(&sb, '{');
	json_member(&sb, &first, "default_driver_version", v->default_driver_version);
	json_member(&sb, &first, "driver_api_version", v->driver_api_version);
	json_member(&sb, &first, "driver_schema_version", v->driver_schema_version);
	json_member(&sb, &first, "engine_version", v->engine_version);
	json_member(&sb, &first, "engine_version_semver", v->engine_version_semver);
	json_member(&sb, &first, "falco_version", v->falco_version);
	json_member(&sb, &first, "libs_version", v->libs_version);
	json_member(&sb, &first, "plugin_api_version", v->plugin_api_version);
	if (v->n_plugin_versions) {
		bool pfirst = true;

		strbuf_appends(&sb, first ? "\"plugin_versions\":{" : ",\"plugin_versions\":{");
		for (size_t i = 0; i < v->n_plugin_versions; i++)
			json_member(&sb, &pfirst, v->plugin_versions[i].key,
				    v->plugin_versions[i].value);
		strbuf_appendc(&sb, '}');
		first = false;
	}
	json_member(&sb, &first, "required_engine_version", v->required_engine_version);
	strbuf_appendc(&sb, '}');
	if (sb.failed)
		return NULL;
	return strbuf_steal(&sb);
}

/* ---- request handling (server thread) ---- */

static void send_response(struct evhttp_request *req, struct http_response *resp)
{
	if (resp->body.failed) {
		http_reply_text(req, 500, "response too large", false);
		return;
	}
	http_reply(req, resp->status, resp->content_type, strbuf_str(&resp->body), resp->body.len,
		   false);
}

static void healthz(struct http_server *srv, struct http_response *resp)
{
	char reason[REASON_MAX] = "";

	if (!srv->cbs.health || srv->cbs.health(srv->cbs.ud, reason, sizeof(reason))) {
		strbuf_appends(&resp->body, "{\"status\": \"ok\"}");
		return;
	}
	reason[sizeof(reason) - 1] = '\0';
	resp->status = 503;
	strbuf_appends(&resp->body, "{\"status\": \"error\", \"reason\": ");
	strbuf_append_json_str(&resp->body, reason[0] ? reason : "unhealthy",
			       strlen(reason[0] ? reason : "unhealthy"));
	strbuf_appendc(&resp->body, '}');
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct http_server *srv = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct http_response resp = {.status = 200, .content_type = "application/json"};
	struct http_route_request rr;
	http_route_fn fn = NULL;
	void *ud = NULL;
	bool is_versions = false;

	if (http_core_admit(&srv->core, req))
		return;
	if (!path || !*path)
		path = "/";

	/* 1. route lookup */
	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < srv->n_routes; i++)
		if (streq(srv->routes[i].path, path)) {
			fn = srv->routes[i].fn;
			ud = srv->routes[i].ud;
			break;
		}
	pthread_mutex_unlock(&srv->lock);
	is_versions = streq(path, "/versions");
	if (!fn && !is_versions && !streq(path, srv->healthz_path)) {
		http_reply_text(req, 404, "404 page not found", false);
		return;
	}
	if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
		char msg[64];

		(void)snprintf(msg, sizeof(msg), "%s method not allowed", http_method_name(req));
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		http_reply_text(req, 405, msg, false);
		return;
	}

	/* 2. built-ins, then added routes (outside the lock: a slow /metrics must not block add_route) */
	strbuf_init(&resp.body, BODY_MAX);
	if (streq(path, srv->healthz_path)) {
		healthz(srv, &resp);
	} else if (is_versions) {
		pthread_mutex_lock(&srv->lock);
		strbuf_appends(&resp.body, srv->versions_json);
		pthread_mutex_unlock(&srv->lock);
	} else {
		rr = (struct http_route_request){
			.method = http_method_name(req),
			.path = path,
			.query = uri ? evhttp_uri_get_query(uri) : NULL,
		};
		fn(ud, &rr, &resp);
	}
	send_response(req, &resp);
	strbuf_done(&resp.body);
}

/* ---- API ---- */

int http_server_add_route(struct http_server *srv, const char *path, http_route_fn fn, void *ud,
			  char *errbuf, size_t errlen)
{
	char *copy;
	int r = 0;

	if (!path || path[0] != '/' || strlen(path) >= PATH_MAX_LEN || !fn)
		return errf(errbuf, errlen, -EINVAL, "invalid route '%s'", path ? path : "");
	if (streq(path, srv->healthz_path) || streq(path, "/versions"))
		return errf(errbuf, errlen, -EEXIST, "route '%s' is built in", path);
	copy = strdup(path);
	if (!copy)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");

	pthread_mutex_lock(&srv->lock);
	for (size_t i = 0; i < srv->n_routes; i++)
		if (streq(srv->routes[i].path, path))
			r = errf(errbuf, errlen, -EEXIST, "route '%s' already exists", path);
	if (r == 0 && srv->n_routes == MAX_ROUTES)
		r = errf(errbuf, errlen, -E2BIG, "too many routes (%d)", MAX_ROUTES);
	if (r == 0)
		srv->routes[srv->n_routes++] =
			(struct route){.path = TAKE_PTR(copy), .fn = fn, .ud = ud};
	pthread_mutex_unlock(&srv->lock);
	free(copy);
	return r;
}

int http_server_set_versions(struct http_server *srv, const struct http_versions *versions)
{
	struct http_versions def;
	char *json, *old;

	if (!versions) {
		http_versions_init(&def);
		versions = &def;
	}
	json = render_versions(versions);
	if (!json)
		return -ENOMEM;
	pthread_mutex_lock(&srv->lock);
	old = srv->versions_json;
	srv->versions_json = json;
	pthread_mutex_unlock(&srv->lock);
	free(old);
	return 0;
}

int http_server_start(const struct http_server_config *cfg, const struct http_server_callbacks *cbs,
		      const struct http_versions *versions, struct http_server **ret, char *errbuf,
		      size_t errlen)
{
	struct http_server *srv;
	int r;

	if (!cfg->healthz_path || cfg->healthz_path[0] != '/')
		return errf(errbuf, errlen, -EINVAL,
			    "webserver: k8s_healthz_endpoint '%s' must start with '/'",
			    cfg->healthz_path ? cfg->healthz_path : "");
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	srv->core.listen_fd = -1;
	srv->core.stop_fd = -1;
	pthread_mutex_init(&srv->lock, NULL);
	if (cbs)
		srv->cbs = *cbs;
	srv->healthz_path = strdup(cfg->healthz_path);
	if (!srv->healthz_path || http_server_set_versions(srv, versions) < 0) {
		r = errf(errbuf, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	r = http_core_init(&srv->core, cfg->listen_address, cfg->listen_port, &cfg->tls,
			   &cfg->limits, on_request, srv, errbuf, errlen);
	if (r < 0)
		goto fail;
	r = http_core_run(&srv->core, "falco-websrv", errbuf, errlen);
	if (r < 0)
		goto fail;
	*ret = srv;
	return 0;
fail:
	http_server_stop(srv);
	return r;
}

uint16_t http_server_port(const struct http_server *srv)
{
	return srv->core.port;
}

struct http_server *http_server_stop(struct http_server *srv)
{
	if (!srv)
		return NULL;
	http_core_stop(&srv->core);
	http_core_done(&srv->core);
	for (size_t i = 0; i < srv->n_routes; i++)
		free(srv->routes[i].path);
	free(srv->versions_json);
	free(srv->healthz_path);
	pthread_mutex_destroy(&srv->lock);
	free(srv);
	return NULL;
}
