/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for falco's webserver (falco/server/webserver.h): /healthz with the daemon's health callback,
 * /versions, added routes, 404/405, optional TLS with the combined PEM, and start errors. Real requests on
 * 127.0.0.1 with an ephemeral port.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "falco/engine/engine.h"
#include "falco/server/webserver.h"
#include "http_test.h"

static struct test_pki pki;

struct health {
	atomic_bool ok;
	const char *reason;
};

static bool health_cb(void *ud, char *reason, size_t len)
{
	struct health *h = ud;

	if (atomic_load(&h->ok))
		return true;
	snprintf(reason, len, "%s", h->reason);
	return false;
}

static struct http_server *start(struct http_server_config *cfg, struct health *h,
				 const struct http_versions *v, char *url, size_t urllen)
{
	struct http_server_callbacks cbs = {.health = health_cb, .ud = h};
	struct http_server *srv = NULL;
	char err[256] = "";
	int r;

	r = http_server_start(cfg, h ? &cbs : NULL, v, &srv, err, sizeof(err));
	if (r < 0)
		fail_msg("http_server_start: %d %s", r, err);
	snprintf(url, urllen, "%s://%s:%u", cfg->tls.enabled ? "https" : "http",
		 cfg->tls.enabled ? "localhost" : "127.0.0.1", http_server_port(srv));
	return srv;
}

static void test_config(struct http_server_config *cfg)
{
	http_server_config_init(cfg);
	cfg->listen_address = "127.0.0.1";
	cfg->listen_port = 0;
	cfg->limits.shutdown_grace_ms = 200;
}

static struct http_result get(const char *base, const char *path)
{
	char url[256];

	snprintf(url, sizeof(url), "%s%s", base, path);
	return http_do(url, &(struct http_opts){.ca = pki.ca}, NULL, 0);
}

static int group_setup(void **state)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return pki_create(&pki) ? 0 : -1;
}

static int group_teardown(void **state)
{
	pki_destroy(&pki);
	curl_global_cleanup();
	return 0;
}

static void test_defaults(void **state)
{
	struct http_server_config cfg;

	http_server_config_init(&cfg);
	assert_int_equal(cfg.listen_port, 8765);
	assert_string_equal(cfg.listen_address, "0.0.0.0");
	assert_string_equal(cfg.healthz_path, "/healthz");
	assert_false(cfg.tls.enabled);
	assert_string_equal(cfg.tls.certificate, "/etc/falco/falco.pem");
}

static void test_healthz(void **state)
{
	struct health h = {.reason = "syscall event source stopped: ring buffer poll failed"};
	struct http_server_config cfg;
	struct http_server *srv;
	struct http_result r;
	char url[128], u[160];

	atomic_init(&h.ok, true);
	test_config(&cfg);
	srv = start(&cfg, &h, NULL, url, sizeof(url));
	r = get(url, "/healthz");
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "{\"status\": \"ok\"}");
	assert_string_equal(r.content_type, "application/json");

	atomic_store(&h.ok, false);
	r = get(url, "/healthz");
	assert_int_equal(r.status, 503);
	assert_string_equal(
		r.body,
		"{\"status\": \"error\", \"reason\": \"syscall event source stopped: ring buffer "
		"poll failed\"}");

	/* HEAD works like GET, other methods don't */
	atomic_store(&h.ok, true);
	snprintf(u, sizeof(u), "%s/healthz", url);
	r = http_do(u, &(struct http_opts){.method = "HEAD"}, NULL, 0);
	assert_int_equal(r.rc, CURLE_OK);
	r = http_do(u, &(struct http_opts){.method = "POST"}, "{}", 2);
	assert_int_equal(r.status, 405);
	assert_string_equal(r.body, "POST method not allowed\n");
	srv = http_server_stop(srv);
	assert_null(srv);
}

static void test_custom_healthz_path_and_404(void **state)
{
	struct http_server_config cfg;
	struct http_server *srv;
	char url[128];

	test_config(&cfg);
	cfg.healthz_path = "/health";
	srv = start(&cfg, NULL, NULL, url, sizeof(url));
	assert_int_equal(get(url, "/health").status, 200);
	assert_int_equal(get(url, "/healthz").status, 404);
	assert_int_equal(get(url, "/").status, 404);
	assert_int_equal(get(url, "/k8s-audit").status,
			 404); /* no audit route on the webserver, as upstream */
	http_server_stop(srv);
}

static const char *json_str(cJSON *o, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_versions(void **state)
{
	struct http_server_config cfg;
	struct http_server *srv;
	struct http_versions v;
	struct http_kv plugins[] = {{"k8saudit", "0.18.0"}, {"json", "0.7.3"}};
	struct http_result r;
	cJSON *j;
	char url[128];

	test_config(&cfg);
	srv = start(&cfg, NULL, NULL, url, sizeof(url));
	r = get(url, "/versions");
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "application/json");
	j = cJSON_Parse(r.body);
	assert_non_null(j);
	assert_string_equal(json_str(j, "falco_version"), PROJECT_VERSION);
	assert_string_equal(json_str(j, "engine_version_semver"), ENGINE_VERSION);
	{
		char minor[16];
		snprintf(minor, sizeof(minor), "%d", ENGINE_VERSION_MINOR);
		assert_string_equal(json_str(j, "engine_version"), minor);
	}
	assert_null(cJSON_GetObjectItem(j, "plugin_versions"));
	cJSON_Delete(j);

	/* after a reload the daemon reports more */
	http_versions_init(&v);
	v.libs_version = "0.20.0";
	v.plugin_api_version = "3.10.0";
	v.plugin_versions = plugins;
	v.n_plugin_versions = ARRAY_SIZE(plugins);
	v.required_engine_version = "0.31.0";
	assert_int_equal(http_server_set_versions(srv, &v), 0);
	r = get(url, "/versions");
	j = cJSON_Parse(r.body);
	assert_non_null(j);
	assert_string_equal(json_str(j, "libs_version"), "0.20.0");
	assert_string_equal(json_str(j, "required_engine_version"), "0.31.0");
	assert_string_equal(json_str(cJSON_GetObjectItem(j, "plugin_versions"), "k8saudit"),
			    "0.18.0");
	assert_string_equal(json_str(cJSON_GetObjectItem(j, "plugin_versions"), "json"), "0.7.3");
	cJSON_Delete(j);
	/* keys sorted, compact, as upstream's nlohmann::json prints them */
	{
		char want[128];
		snprintf(
			want, sizeof(want),
			"\"engine_version\":\"%d\",\"engine_version_semver\":\"%s\",\"falco_version\"",
			ENGINE_VERSION_MINOR, ENGINE_VERSION);
		assert_non_null(strstr(r.body, want));
	}
	http_server_stop(srv);
}

static void metrics_route(void *ud, const struct http_route_request *req,
			  struct http_response *resp)
{
	int *calls = ud;

	(*calls)++;
	resp->content_type = "text/plain; version=0.0.4";
	strbuf_appendf(
		&resp->body,
		"# method %s path %s query %s\nfalcosecurity_falco_outputs_queue_num_drops_total 0\n",
		req->method, req->path, req->query ? req->query : "-");
}

static void teapot_route(void *ud, const struct http_route_request *req, struct http_response *resp)
{
	resp->status = 503;
	strbuf_appends(&resp->body, "{}");
}

static void test_routes(void **state)
{
	struct http_server_config cfg;
	struct http_server *srv;
	struct http_result r;
	char url[128], err[128];
	int calls = 0;

	test_config(&cfg);
	srv = start(&cfg, NULL, NULL, url, sizeof(url));
	assert_int_equal(get(url, "/metrics").status, 404);
	/* routes can be added while the server runs */
	assert_int_equal(
		http_server_add_route(srv, "/metrics", metrics_route, &calls, err, sizeof(err)), 0);
	r = get(url, "/metrics?x=1");
	assert_int_equal(r.status, 200);
	assert_string_equal(r.content_type, "text/plain; version=0.0.4");
	assert_string_equal(r.body, "# method GET path /metrics query x=1\n"
				    "falcosecurity_falco_outputs_queue_num_drops_total 0\n");
	assert_int_equal(calls, 1);
	assert_int_equal(
		http_server_add_route(srv, "/metrics", metrics_route, &calls, err, sizeof(err)),
		-EEXIST);
	assert_int_equal(
		http_server_add_route(srv, "/healthz", metrics_route, NULL, err, sizeof(err)),
		-EEXIST);
	assert_string_equal(err, "route '/healthz' is built in");
	assert_int_equal(
		http_server_add_route(srv, "/versions", metrics_route, NULL, err, sizeof(err)),
		-EEXIST);
	assert_int_equal(
		http_server_add_route(srv, "metrics", metrics_route, NULL, err, sizeof(err)),
		-EINVAL);
	assert_int_equal(http_server_add_route(srv, "/x", teapot_route, NULL, err, sizeof(err)), 0);
	assert_int_equal(get(url, "/x").status, 503);
	for (int i = 0; i < 14; i++) {
		char p[16];
		snprintf(p, sizeof(p), "/r%d", i);
		assert_int_equal(
			http_server_add_route(srv, p, teapot_route, NULL, err, sizeof(err)), 0);
	}
	assert_int_equal(
		http_server_add_route(srv, "/one-too-many", teapot_route, NULL, err, sizeof(err)),
		-E2BIG);
	http_server_stop(srv);
}

static void test_tls(void **state)
{
	struct http_server_config cfg;
	struct http_server *srv;
	struct http_result r;
	char url[128];
	int reason;

	test_config(&cfg);
	cfg.tls.enabled = true;
	cfg.tls.certificate = pki.server_pem; /* ssl_certificate: cert and key in one file */
	srv = start(&cfg, NULL, NULL, url, sizeof(url));
	r = get(url, "/healthz");
	assert_int_equal(r.rc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(
		tls_handshake_version(http_server_port(srv), TLS1_1_VERSION, pki.ca, &reason), 0);
	assert_int_equal(reason, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION);
	http_server_stop(srv);
}

static void test_start_errors(void **state)
{
	struct http_server_config cfg;
	struct http_server *srv, *other = NULL;
	char url[128], err[256], want[256];

	test_config(&cfg);
	srv = start(&cfg, NULL, NULL, url, sizeof(url));
	cfg.listen_port = http_server_port(srv);
	assert_int_equal(http_server_start(&cfg, NULL, NULL, &other, err, sizeof(err)),
			 -EADDRINUSE);
	assert_null(other);
	snprintf(want, sizeof(want), "cannot bind 127.0.0.1:%u: Address already in use",
		 cfg.listen_port);
	assert_string_equal(err, want);
	http_server_stop(srv);

	test_config(&cfg);
	cfg.tls.enabled = true;
	assert_int_equal(http_server_start(&cfg, NULL, NULL, &other, err, sizeof(err)) < 0, true);
	if (access("/etc/falco/falco.pem", F_OK) != 0)
		assert_string_equal(
			err,
			"cannot load certificate '/etc/falco/falco.pem': No such file or directory");

	test_config(&cfg);
	cfg.healthz_path = "healthz";
	assert_int_equal(http_server_start(&cfg, NULL, NULL, &other, err, sizeof(err)), -EINVAL);
	assert_null(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_healthz),
		cmocka_unit_test(test_custom_healthz_path_and_404),
		cmocka_unit_test(test_versions),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_tls),
		cmocka_unit_test(test_start_errors),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
