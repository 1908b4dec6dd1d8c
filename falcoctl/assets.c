/* SPDX-License-Identifier: Apache-2.0 */
/* Where install's files come from, the falco binary, and reading our own unit files. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/caps.h"
#include "common/err.h"
#include "common/fileio.h"
#include "config.h"
#include "driver.h"
#include "install.h"
#include "state.h"

#define MARKER "systemd/falco-modern-bpf.service"

static bool has_marker(const char *dir)
{
	char p[PATH_MAX];
	return snprintf(p, sizeof(p), "%s/" MARKER, dir) < (int)sizeof(p) && access(p, R_OK) == 0;
}

int fc_assets_find(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	const char *given = fc_cfg_str(ctx->cfg, FC_K_INSTALL_ASSETS);
	char exe_dir[PATH_MAX], cand[PATH_MAX];

	if (ctx->assets[0])
		return 0;
	if (given && *given) {
		if (!has_marker(given))
			return errf(errbuf, errlen, -ENOENT, "--assets %s has no %s", given,
				    MARKER);
		if (strlen(given) >= sizeof(ctx->assets))
			return errf(errbuf, errlen, -ENAMETOOLONG, "--assets path too long");
		memcpy(ctx->assets, given, strlen(given) + 1);
		return 0;
	}
	if (!ctx->self_exe[0])
		return errf(errbuf, errlen, -ENOENT,
			    "cannot resolve falcoctl's own path; pass --assets DIR");
	snprintf(exe_dir, sizeof(exe_dir), "%s", ctx->self_exe);
	dirname(exe_dir);
	/* installed: <prefix>/bin/falcoctl + <prefix>/share/falcoctl; checkout: <repo>/build[/debug]/bin/falcoctl */
	static const char *const rel[] = {"/../share/falcoctl", "/../..", "/../../.."};
	for (size_t i = 0; i < ARRAY_SIZE(rel); i++) {
		if (snprintf(cand, sizeof(cand), "%s%s", exe_dir, rel[i]) >= (int)sizeof(cand))
			continue;
		if (has_marker(cand)) {
			char *real = realpath(cand, NULL);
			const char *p = real ? real : cand;
			bool fits = strlen(p) < sizeof(ctx->assets);
			if (fits)
				memcpy(ctx->assets, p, strlen(p) + 1);
			free(real);
			if (fits)
				return 0;
		}
	}
	return errf(
		errbuf, errlen, -ENOENT,
		"cannot find falcoctl's assets (falco/falco.yaml, rules/, systemd/) next to %s; pass --assets DIR",
		ctx->self_exe);
}

int fc_falco_source(struct fc_ctx *ctx, char *out, size_t outlen, char *errbuf, size_t errlen)
{
	const char *from = fc_cfg_str(ctx->cfg, FC_K_INSTALL_FROM);
	if (from && *from) {
		if (access(from, X_OK) < 0)
			return errf(errbuf, errlen, -ENOENT, "--from %s: %s", from,
				    strerror(errno));
		snprintf(out, outlen, "%s", from);
		return 0;
	}
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", ctx->self_exe);
	if (snprintf(out, outlen, "%s/falco", dirname(dir)) >= (int)outlen)
		return errf(errbuf, errlen, -ENAMETOOLONG, "path too long");
	if (access(out, X_OK) < 0)
		return errf(errbuf, errlen, -ENOENT,
			    "no falco binary beside falcoctl (%s: %s); pass --from PATH", out,
			    strerror(errno));
	return 0;
}

void fc_falco_version(struct fc_ctx *ctx, const char *falco, char *out, size_t outlen)
{
	const char *argv[] = {falco, "--version", NULL};
	_cleanup_free_ char *text = NULL;
	out[0] = '\0';
	if (ctx->ops->proc.run(ctx->ops->proc.data, argv, 5000, &text, NULL, 0) != 0 || !text)
		return;
	const char *p = strstr(text, "version:");
	if (!p)
		p = strstr(text, "version");
	if (!p)
		return;
	p = strchr(p, ' ');
	if (!p)
		return;
	while (*p == ' ')
		p++;
	size_t n = strcspn(p, " \n(");
	snprintf(out, outlen, "%.*s", (int)n, p);
}

bool fc_falco_has_flag(struct fc_ctx *ctx, const char *falco, const char *flag)
{
	const char *argv[] = {falco, "--help", NULL};
	_cleanup_free_ char *text = NULL;
	if (ctx->ops->proc.run(ctx->ops->proc.data, argv, 5000, &text, NULL, 0) != 0 || !text)
		return false;
	for (const char *p = text; (p = strstr(p, flag)); p++) {
		char next = p[strlen(flag)];
		if (!isalnum((unsigned char)next) && next != '-')
			return true;
	}
	return false;
}

int fc_install_driver(struct fc_ctx *ctx)
{
	if (ctx->driver >= 0)
		return ctx->driver;
	const char *t = ctx->state ? fc_state_get(ctx->state, "driver/select", "type") : NULL;
	int d = fc_driver_type_from_string(t);
	if (d < 0) {
		char **allowed = fc_driver_allowed(ctx);
		d = allowed && allowed[0] ? fc_driver_type_from_string(allowed[0])
					  : FC_DRIVER_MODERN_EBPF;
		fc_strv_free(allowed);
	}
	return d < 0 ? FC_DRIVER_MODERN_EBPF : d;
}

/* ---- unit files --------------------------------------------------------------------------------------- */

/* Calls fn(key, value) for every "Key=Value" line of section (e.g. "[Service]"). */
static void for_each_setting(const char *text, const char *section,
			     void (*fn)(const char *, const char *, void *), void *data)
{
	bool in = false;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[4096];
		snprintf(line, sizeof(line), "%.*s", (int)MIN(len, sizeof(line) - 1), p);
		p = nl ? nl + 1 : NULL;
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		if (*s == '#' || *s == ';' || !*s)
			continue;
		if (*s == '[') {
			in = strncmp(s, section, strlen(section)) == 0;
			continue;
		}
		char *eq = strchr(s, '=');
		if (!in || !eq)
			continue;
		*eq = '\0';
		char *k = s, *v = eq + 1;
		for (char *e = k + strlen(k); e > k && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		while (isspace((unsigned char)*v))
			v++;
		for (char *e = v + strlen(v); e > v && isspace((unsigned char)e[-1]);)
			*--e = '\0';
		fn(k, v, data);
	}
}

struct exec_parse {
	struct fc_unit_exec *e;
	int err;
	bool caps_seen;
};

static void on_service(const char *k, const char *v, void *data)
{
	struct exec_parse *ep = data;
	if (streq(k, "ExecStart")) {
		size_t n = 0;
		for (int i = 0; ep->e->argv[i]; i++)
			free(ep->e->argv[i]), ep->e->argv[i] = NULL;
		/* a leading '-', '@', '+', '!' or ':' prefix is systemd syntax, not part of the path */
		while (*v && strchr("-@+!:", *v))
			v++;
		for (const char *p = v; *p && n < ARRAY_SIZE(ep->e->argv) - 1;) {
			while (isspace((unsigned char)*p))
				p++;
			if (!*p)
				break;
			size_t l = strcspn(p, " \t");
			if (!(ep->e->argv[n++] = strndup(p, l)))
				ep->err = -ENOMEM;
			p += l;
		}
	} else if (streq(k, "CapabilityBoundingSet")) {
		if (!ep->caps_seen)
			ep->e->caps = 0;
		ep->caps_seen = true;
		char buf[1024];
		snprintf(buf, sizeof(buf), "%s", v);
		for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t;
		     t = strtok_r(NULL, " \t", &save)) {
			int c = cap_from_name(t);
			if (c < 0)
				ep->err = -EINVAL;
			else
				ep->e->caps |= 1ull << c;
		}
	} else if (streq(k, "NoNewPrivileges")) {
		ep->e->no_new_privs = streq(v, "yes") || streq(v, "true") || streq(v, "1");
	} else if (streq(k, "WatchdogSec")) {
		/* a single span: N or Ns seconds, Nms, Nmin; empty, 0 or infinity turn it off */
		char *end;
		errno = 0;
		unsigned long long n = strtoull(v, &end, 10);
		unsigned long long mult = streq(end, "") || streq(end, "s") ? 1000
					  : streq(end, "ms")		    ? 1
					  : streq(end, "min")		    ? 60000
									    : 0;
		if (!*v || streq(v, "infinity"))
			ep->e->watchdog_ms = 0;
		else if (end == v || errno || !mult || n > 86400000ull / mult)
			ep->err = -EINVAL;
		else
			ep->e->watchdog_ms = (unsigned)(n * mult);
	}
}

int fc_unit_exec_parse(const char *text, struct fc_unit_exec *ret, char *errbuf, size_t errlen)
{
	struct exec_parse ep = {.e = ret};
	memset(ret, 0, sizeof(*ret));
	ret->caps = ~0ull;
	for_each_setting(text, "[Service]", on_service, &ep);
	if (ep.err < 0) {
		fc_unit_exec_done(ret);
		return errf(
			errbuf, errlen, ep.err,
			"cannot parse the unit's [Service] section (CapabilityBoundingSet=, WatchdogSec=)");
	}
	if (!ret->argv[0])
		return errf(errbuf, errlen, -EINVAL, "the unit has no ExecStart=");
	return 0;
}

void fc_unit_exec_done(struct fc_unit_exec *e)
{
	for (size_t i = 0; i < ARRAY_SIZE(e->argv); i++) {
		free(e->argv[i]);
		e->argv[i] = NULL;
	}
}

static void add_words(char ***list, const char *v)
{
	char buf[1024], **old = *list;
	size_t n = fc_strv_len(old), m = 0;

	/* systemd lists are blank-separated */
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save))
		m++;
	char **nl = realloc(old, (n + m + 1) * sizeof(char *));
	if (!nl)
		return;
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *save = NULL, *t = strtok_r(buf, " \t", &save); t;
	     t = strtok_r(NULL, " \t", &save))
		if ((nl[n] = strdup(t)))
			n++;
	nl[n] = NULL;
	*list = nl;
}

static void on_install(const char *k, const char *v, void *data)
{
	struct fc_unit_install *i = data;
	if (streq(k, "WantedBy"))
		add_words(&i->wanted_by, v);
	else if (streq(k, "RequiredBy"))
		add_words(&i->required_by, v);
	else if (streq(k, "Alias"))
		add_words(&i->alias, v);
	else if (streq(k, "Also"))
		add_words(&i->also, v);
}

int fc_unit_install_parse(const char *text, struct fc_unit_install *ret)
{
	memset(ret, 0, sizeof(*ret));
	for_each_setting(text, "[Install]", on_install, ret);
	return 0;
}

void fc_unit_install_done(struct fc_unit_install *i)
{
	i->wanted_by = fc_strv_free(i->wanted_by);
	i->required_by = fc_strv_free(i->required_by);
	i->alias = fc_strv_free(i->alias);
	i->also = fc_strv_free(i->also);
}

bool fc_match_any(const char *text, const char *alts)
{
	for (const char *p = alts; p && *p;) {
		size_t n = strcspn(p, "|");
		if (n > 0 && memmem(text, strlen(text), p, n))
			return true;
		p += n;
		if (*p == '|')
			p++;
	}
	return false;
}
