/* SPDX-License-Identifier: Apache-2.0 */
/*
 * verify: falco's /healthz answers, then a harmless action produces the expected alert within a few seconds.
 * The self-test is named in one place, fc_default_selftest below (or verify.rule, verify.match and
 * verify.command in falcoctl.yaml): the rule, the text its alert contains, and the action that triggers it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "config.h"
#include "install.h"
#include "state.h"

/*
 * The self-test. `dd … count=0` opens /etc/shadow for reading and reads nothing: our shipped rule "Sensitive
 * File Read by Untrusted Program" (rules/falco_rules.yaml; upstream's equivalent is "Read sensitive file
 * untrusted") fires on the open. The match lists the rule name (JSON output, journald FALCO_RULE) and the output text
 * (plain text output).
 */
static const char *const fc_default_selftest_argv[] = {"dd",	  "if=/etc/shadow", "of=/dev/null",
						       "count=0", "status=none",    NULL};
static const struct fc_selftest fc_default_selftest = {
	.rule = "Sensitive File Read by Untrusted Program",
	.match = "Sensitive File Read by Untrusted Program|Read sensitive file untrusted|"
		 "Sensitive file opened for reading by an untrusted program",
	.argv = fc_default_selftest_argv,
};

void fc_selftest_get(struct fc_ctx *ctx, struct fc_selftest *ret, const char **argv_storage,
		     size_t nstorage)
{
	*ret = fc_default_selftest;
	const char *rule = fc_cfg_str(ctx->cfg, FC_K_VERIFY_RULE),
		   *match = fc_cfg_str(ctx->cfg, FC_K_VERIFY_MATCH);
	char *const *cmd = fc_cfg_list(ctx->cfg, FC_K_VERIFY_COMMAND);
	if (rule && *rule) {
		ret->rule = rule;
		ret->match = rule;
	}
	if (match && *match)
		ret->match = match;
	if (cmd[0] && nstorage > 1) {
		size_t n = 0;
		for (; cmd[n] && n + 1 < nstorage; n++)
			argv_storage[n] = cmd[n];
		argv_storage[n] = NULL;
		ret->argv = argv_storage;
	}
}

/* Whether a rules file under /etc/falco defines the rule (a "- rule: NAME" item). */
static bool rule_installed(struct fc_ctx *ctx, const char *name)
{
	static const char *const dirs[] = {FC_FALCO_CONF_DIR, FC_FALCO_CONF_DIR "/rules.d"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		char dir[PATH_MAX];
		if (fc_path(ctx, dirs[i], dir) < 0)
			continue;
		DIR *d = opendir(dir);
		struct dirent *de;
		while (d && (de = readdir(d))) {
			size_t l = strlen(de->d_name);
			if (l < 5 || (!streq(de->d_name + l - 5, ".yaml") &&
				      !streq(de->d_name + l - 4, ".yml")))
				continue;
			char path[PATH_MAX * 2];
			_cleanup_free_ char *text = NULL;
			snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
			if (read_file(path, 64u << 20, &text, NULL, NULL, 0) < 0)
				continue;
			for (const char *p = text; (p = strstr(p, name)); p++) {
				const char *q = p;
				while (q > text && (q[-1] == ' ' || q[-1] == '"' || q[-1] == '\''))
					q--;
				if (q - text >= 5 && strncmp(q - 5, "rule:", 5) == 0) {
					closedir(d);
					return true;
				}
			}
		}
		if (d)
			closedir(d);
	}
	return false;
}

/* http(s)://127.0.0.1:<port><endpoint> from falco.yaml's webserver section. 1 built, 0 web server off. */
static int healthz_url(struct fc_ctx *ctx, char *url, size_t urllen, char *ca, size_t calen)
{
	const char *given = fc_cfg_str(ctx->cfg, FC_K_VERIFY_URL);
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	struct yaml_stream *ys = NULL;
	uint64_t port = 8765;
	bool enabled = true, ssl = false;
	const char *endpoint = "/healthz";
	size_t len;

	ca[0] = '\0';
	if (given && *given) {
		snprintf(url, urllen, "%s", given);
		return 1;
	}
	if (fc_path(ctx, FC_FALCO_YAML, path) == 0 &&
	    read_file(path, 16u << 20, &text, &len, NULL, 0) == 0 &&
	    yaml_parse(text, len, NULL, &ys, NULL, 0) == 0 && ys->ndocs > 0) {
		struct ynode *ws = ynode_map_get(ys->docs[0], "webserver");
		(void)ynode_bool(ynode_map_get(ws, "enabled"), &enabled);
		(void)ynode_u64(ynode_map_get(ws, "listen_port"), &port);
		(void)ynode_bool(ynode_map_get(ws, "ssl_enabled"), &ssl);
		const char *ep = ynode_str(ynode_map_get(ws, "k8s_healthz_endpoint"));
		const char *cert = ynode_str(ynode_map_get(ws, "ssl_certificate"));
		if (ep && *ep == '/')
			endpoint = ep;
		if (ssl && cert)
			snprintf(ca, calen, "%s", cert);
		snprintf(url, urllen, "%s://%s:%u%s", ssl ? "https" : "http",
			 ssl ? "localhost" : "127.0.0.1", (unsigned)port, endpoint);
	} else {
		snprintf(url, urllen, "http://127.0.0.1:8765/healthz");
	}
	yaml_stream_free(ys);
	return enabled ? 1 : 0;
}

static uint64_t now_ms(struct fc_ctx *ctx)
{
	return ctx->ops->clock.now_ms(ctx->ops->clock.data);
}

static int check_health(struct fc_ctx *ctx, uint64_t deadline, char *errbuf, size_t errlen)
{
	char url[512], ca[PATH_MAX], e[512] = "";
	if (!healthz_url(ctx, url, sizeof(url), ca, sizeof(ca))) {
		fc_info(ctx, "falco's web server is disabled in %s: not checking /healthz",
			FC_FALCO_YAML);
		return 0;
	}
	uint64_t t0 = now_ms(ctx);
	for (;;) {
		struct fc_http_req req = {.url = url,
					  .ca_file = ca[0] ? ca : NULL,
					  .allow_http = true,
					  .timeout_s = 2,
					  .max_size = 64 << 10};
		_cleanup_free_ char *body = NULL;
		size_t len;
		int r = ctx->ops->http.get(ctx->ops->http.data, &req, &body, &len, e, sizeof(e));
		if (r == 0) {
			fc_info(ctx, "%s answered after %llu ms", url,
				(unsigned long long)(now_ms(ctx) - t0));
			return 0;
		}
		if (now_ms(ctx) >= deadline)
			return errf(errbuf, errlen, -ETIMEDOUT,
				    "falco's health endpoint did not answer in time: %s", e);
		ctx->ops->clock.sleep_ms(ctx->ops->clock.data, 200);
	}
}

static uint64_t realtime_usec(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

/* The last lines of a log file (at most its last 4 KiB), each on its own indented line. */
static void file_tail(const char *path, unsigned n, struct strbuf *out)
{
	char buf[4096];
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return;
	off_t from = st.st_size > (off_t)sizeof(buf) - 1 ? st.st_size - (off_t)sizeof(buf) + 1 : 0;
	ssize_t k = pread(fd, buf, sizeof(buf) - 1, from);
	if (k <= 0)
		return;
	buf[k] = '\0';
	while (k > 0 && buf[k - 1] == '\n')
		buf[--k] = '\0';
	char *start = buf + k;
	for (unsigned lines = 0; start > buf && lines < n;)
		if (*--start == '\n' && ++lines == n)
			start++;
	for (char *line = start, *nl; line && *line; line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		strbuf_appendf(out, "\n    %s", line);
	}
}

/* A self-test that timed out says what falco logged last: whether it saw the action, or why it could not. */
static void append_last_lines(bool supervised, const char *unit, const char *log, char *errbuf,
			      size_t errlen)
{
	_cleanup_strbuf_ struct strbuf sb;
	strbuf_init(&sb, 16 << 10);
	if (supervised)
		file_tail(log, 8, &sb);
	else
		(void)fc_journal_tail(unit, 8, &sb);
	size_t l = strlen(errbuf);
	snprintf(errbuf + l, errlen - l, "; falco's last log lines (%s):%s",
		 supervised ? FC_FALCO_LOG : "journalctl -u falco",
		 sb.len ? strbuf_str(&sb) : " (none)");
}

/* Supervised mode: alerts land in falco's log file; look at what was appended after offset. */
static int wait_log(struct fc_ctx *ctx, const char *log, off_t offset, const char *match,
		    uint64_t deadline, char *out, size_t outlen)
{
	for (;;) {
		_cleanup_close_ int fd = open(log, O_RDONLY | O_CLOEXEC);
		struct stat st;
		if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size > offset) {
			size_t n = (size_t)MIN(st.st_size - offset, (off_t)(16 << 20));
			_cleanup_free_ char *buf = malloc(n + 1);
			ssize_t k = buf ? pread(fd, buf, n, offset) : -1;
			if (k > 0) {
				buf[k] = '\0';
				for (char *line = buf, *nl; line && *line;
				     line = nl ? nl + 1 : NULL) {
					nl = strchr(line, '\n');
					if (nl)
						*nl = '\0';
					if (fc_match_any(line, match)) {
						snprintf(out, outlen, "%s", line);
						return 1;
					}
				}
			}
		}
		if (now_ms(ctx) >= deadline)
			return 0;
		ctx->ops->clock.sleep_ms(ctx->ops->clock.data, 100);
	}
}

int phase_verify_run(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	uint64_t timeout = fc_cfg_num(ctx->cfg, FC_K_VERIFY_TIMEOUT);
	uint64_t deadline = now_ms(ctx) + timeout;
	const char *argv_storage[32];
	struct fc_selftest st;
	char alert[8192] = "", log[PATH_MAX];
	int r;

	/* 1. health */
	r = check_health(ctx, deadline, errbuf, errlen);
	if (r < 0)
		return r;

	/* 2. self-test: one harmless action, one expected alert */
	fc_selftest_get(ctx, &st, argv_storage, ARRAY_SIZE(argv_storage));
	if (!rule_installed(ctx, st.rule)) {
		fc_warn(ctx, "SelfTest",
			"the rule '%s' is not in the installed rules, so the self-test alert cannot be "
			"checked; falco is running, its alerts are unverified",
			st.rule);
		return 0;
	}
	const char *mode = ctx->state ? fc_state_get(ctx->state, "start", "mode") : NULL;
	bool supervised = mode && streq(mode, "supervised");
	const char *unit = fc_driver_unit(fc_install_driver(ctx));
	struct stat lst;
	off_t offset = 0;
	if (fc_path(ctx, FC_FALCO_LOG, log) < 0)
		return -ENAMETOOLONG;
	if (supervised && stat(log, &lst) == 0)
		offset = lst.st_size;
	uint64_t since = realtime_usec(), t_trigger = now_ms(ctx);
	_cleanup_free_ char *out = NULL;
	r = ctx->ops->proc.run(ctx->ops->proc.data, st.argv, 5000, &out, errbuf, errlen);
	if (r < 0)
		return errf_prefix(errbuf, errlen, r, "self-test action %s", st.argv[0]);
	uint64_t wait_until = MAX(deadline, now_ms(ctx) + 2000);
	if (supervised) {
		r = wait_log(ctx, log, offset, st.match, wait_until, alert, sizeof(alert));
	} else {
		uint64_t now = now_ms(ctx);
		r = fc_journal_wait(unit, since, st.match,
				    (unsigned)(wait_until > now ? wait_until - now : 0), alert,
				    sizeof(alert));
	}
	if (r < 0)
		return errf(errbuf, errlen, r, "cannot read falco's alerts: %s", strerror(-r));
	if (r == 0) {
		errf(errbuf, errlen, -ETIMEDOUT,
		     "self-test: running '%s' did not produce the '%s' alert within %llu ms",
		     st.argv[0], st.rule, (unsigned long long)(now_ms(ctx) - t_trigger));
		append_last_lines(supervised, unit, log, errbuf, errlen);
		return -ETIMEDOUT;
	}
	uint64_t t_alert = now_ms(ctx);
	fc_info(ctx, "Self-test passed: '%s' fired %llu ms after the action", st.rule,
		(unsigned long long)(t_alert - t_trigger));
	if (ctx->t0_ms)
		fc_info(ctx, "First alert %.1f s after this command started",
			(double)(t_alert - ctx->t0_ms) / 1000.0);
	fc_debug(ctx, "alert: %.400s", alert);
	return 0;
}

int phase_verify_check(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	struct fc_selftest st;
	const char *argv_storage[32];
	char url[512], ca[PATH_MAX];
	fc_selftest_get(ctx, &st, argv_storage, ARRAY_SIZE(argv_storage));
	if (healthz_url(ctx, url, sizeof(url), ca, sizeof(ca)))
		fc_info(ctx, "Would check %s", url);
	fc_info(ctx, "Would run '%s' and expect the '%s' alert", st.argv[0], st.rule);
	return 0;
}
