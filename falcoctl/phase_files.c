/* SPDX-License-Identifier: Apache-2.0 */
/*
 * config (/etc/falco/falco.yaml), rules (default rules into /etc/falco, the local rules file kept) and units
 * (unit files into /etc/systemd/system, enabled through the [Install] section's symlinks, as
 * `systemctl --root=… enable` does, then daemon-reload when systemd runs).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "config.h"
#include "fs.h"
#include "install.h"
#include "state.h"

#define ASSET_MAX (16u << 20)

static const char local_rules[] =
	"# Local rules: your own rules, lists, macros and overrides of the default rules.\n"
	"# falcoctl creates this file once and never changes or removes it while you have edited it.\n"
	"# Files in /etc/falco/rules.d are loaded too.\n";

static int strcmp_ptr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the regular files in dir with one of the suffixes. Caller frees with fc_strv_free(). */
static char **list_dir(const char *dir, const char *const *suffixes)
{
	struct strbuf sb;
	DIR *d = opendir(dir);
	struct dirent *de;
	strbuf_init(&sb, 1 << 20);
	while (d && (de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (de->d_name[0] == '.')
			continue;
		for (const char *const *s = suffixes; *s; s++) {
			size_t sl = strlen(*s);
			if (l > sl && streq(de->d_name + l - sl, *s)) {
				strbuf_appendf(&sb, "%s;", de->d_name);
				break;
			}
		}
	}
	if (d)
		closedir(d);
	char **v = fc_split_list(strbuf_str(&sb));
	strbuf_done(&sb);
	if (v)
		qsort(v, fc_strv_len(v), sizeof(char *), strcmp_ptr);
	return v;
}

/* The default falco.yaml when the assets have none: enough to run with the shipped rules. */
static char *builtin_falco_yaml(struct fc_ctx *ctx)
{
	static const char *const sfx[] = {".yaml", ".yml", NULL};
	char dir[PATH_MAX];
	struct strbuf sb;
	strbuf_init(&sb, 0);
	strbuf_appends(
		&sb,
		"# Written by falcoctl: a minimal configuration (the assets had no falco/falco.yaml).\n"
		"rules_files:\n");
	snprintf(dir, sizeof(dir), "%s/rules", ctx->assets);
	char **rules = list_dir(dir, sfx);
	for (char **r = rules; r && *r; r++)
		strbuf_appendf(&sb, "  - " FC_FALCO_CONF_DIR "/%s\n", *r);
	fc_strv_free(rules);
	strbuf_appends(&sb, "  - " FC_LOCAL_RULES "\n"
			    "  - " FC_FALCO_CONF_DIR "/rules.d\n"
			    "json_output: true\n"
			    "json_include_output_property: true\n"
			    "json_include_tags_property: true\n"
			    "stdout_output:\n"
			    "  enabled: true\n"
			    "webserver:\n"
			    "  enabled: true\n"
			    "  listen_port: 8765\n"
			    "  k8s_healthz_endpoint: /healthz\n");
	return strbuf_steal(&sb);
}

/*
 * falcoctl's own configuration, created once when missing (then it is the admin's): the driver types and
 * repositories this install used, so `falcoctl driver load` at boot (falco-kmod-inject.service) uses them too.
 */
static int falcoctl_yaml(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	if (ctx->cfg->src[FC_K_CONFIG] != FC_SRC_DEFAULT)
		return 0; /* an explicit --config is the admin's choice of file */
	char *const *types = fc_cfg_list(ctx->cfg, FC_K_DRIVER_TYPE);
	_cleanup_free_ char *text = fc_config_default_text(types);
	if (!text)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	char *const *repos = fc_cfg_list(ctx->cfg, FC_K_DRIVER_REPOS);
	if (repos[0]) {
		struct strbuf sb;
		strbuf_init(&sb, 0);
		strbuf_appends(&sb, "repos: [");
		for (char *const *r = repos; *r; r++)
			strbuf_appendf(&sb, "%s%s", r == repos ? "" : ", ", *r);
		strbuf_appendc(&sb, ']');
		char *at = strstr(text, "repos: []");
		struct strbuf all;
		strbuf_init(&all, 0);
		if (at) {
			strbuf_append(&all, text, (size_t)(at - text));
			strbuf_appends(&all, strbuf_str(&sb));
			strbuf_appends(&all, at + strlen("repos: []"));
			free(text);
			text = strbuf_steal(&all);
		}
		strbuf_done(&all);
		strbuf_done(&sb);
		if (!text)
			return errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	struct fc_file_spec f = {.path = fc_cfg_str(ctx->cfg, FC_K_CONFIG),
				 .data = text,
				 .len = strlen(text),
				 .mode = 0644,
				 .policy = FC_FILE_KEEP};
	int r = fc_file_ensure(ctx, &f, errbuf, errlen);
	return r < 0 ? r : 0;
}

/*
 * falco.yaml's config_files loads /etc/falco/config.d: falcoctl's drop-in there holds what running as a service
 * changes. The unit (or the supervisor) already sends stdout and stderr to the journal (or falco.log), so the
 * syslog copies of every log line and alert are turned off (upstream's defaults print each twice under
 * systemd). The Prometheus /metrics endpoint (on the web server falco already runs for /healthz) lets
 * `falcoctl driver status` show the driver's drop counters; no periodic metrics alerts (output_rule: false).
 */
static const char metrics_dropin_text[] =
	"# Written by falcoctl (falcoctl install falco; removed by falcoctl reset): falco as a service.\n"
	"# stdout (alerts) and stderr (logs) already go to the journal, or to /var/log/falco/falco.log when\n"
	"# falcoctl supervises falco: no second copy through syslog.\n"
	"log_syslog: false\n"
	"syslog_output:\n"
	"  enabled: false\n"
	"# Prometheus metrics on the web server (/metrics, next to /healthz), so that `falcoctl driver status`\n"
	"# shows the driver's drop counters; no metrics alerts. Override in a file loaded after this one.\n"
	"metrics:\n"
	"  enabled: true\n"
	"  output_rule: false\n"
	"webserver:\n"
	"  prometheus_metrics_enabled: true\n";

static int metrics_dropin(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	int r = fc_dir_ensure(ctx, FC_FALCO_CONF_DIR "/config.d", 0755, errbuf, errlen);
	if (r < 0)
		return r;
	struct fc_file_spec f = {.path = FC_FALCO_CONF_DIR "/config.d/falcoctl.yaml",
				 .data = metrics_dropin_text,
				 .len = strlen(metrics_dropin_text),
				 .mode = 0644,
				 .policy = FC_FILE_OWNED,
				 .restart = true};
	r = fc_file_ensure(ctx, &f, errbuf, errlen);
	if (r == 1)
		fc_mark_restart(ctx);
	return r < 0 ? r : 0;
}

int phase_config_run(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	char src[PATH_MAX];
	_cleanup_free_ char *data = NULL;
	size_t len = 0;
	int r;

	r = fc_assets_find(ctx, errbuf, errlen);
	if (r < 0)
		return r;
	snprintf(src, sizeof(src), "%s/falco/falco.yaml", ctx->assets);
	r = read_file(src, ASSET_MAX, &data, &len, errbuf, errlen);
	if (r == -ENOENT) {
		fc_info(ctx,
			"%s does not exist yet: writing falcoctl's built-in minimal configuration",
			src);
		data = builtin_falco_yaml(ctx);
		if (!data)
			return errf(errbuf, errlen, -ENOMEM, "out of memory");
		len = strlen(data);
	} else if (r < 0) {
		return r;
	}
	r = fc_dir_ensure(ctx, FC_FALCO_CONF_DIR, 0755, errbuf, errlen);
	if (r < 0)
		return r;
	struct fc_file_spec f = {.path = FC_FALCO_YAML,
				 .data = data,
				 .len = len,
				 .mode = 0644,
				 .policy = FC_FILE_OWNED,
				 .restart = true};
	r = fc_file_ensure(ctx, &f, errbuf, errlen);
	if (r < 0)
		return r;
	if (r == 1)
		fc_mark_restart(ctx);
	bool yaml_same = r == 0;
	r = metrics_dropin(ctx, errbuf, errlen);
	if (r < 0)
		return r;
	if (yaml_same && ctx->phase_changes == 0)
		fc_info(ctx, "%s is up to date", FC_FALCO_YAML);
	return falcoctl_yaml(ctx, errbuf, errlen);
}

int phase_config_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	int r = fc_undo_recorded(ctx, "config", errbuf, errlen);
	return r < 0 ? r : 0;
}

/* falco --dry-run loads the configuration and every rules file, then exits: catch mistakes before starting. */
static int validate(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	char falco[PATH_MAX];
	if (!ctx->host || ctx->dry_run || fc_path(ctx, FC_FALCO_BIN, falco) < 0 ||
	    access(falco, X_OK) < 0)
		return 0;
	if (!fc_falco_has_flag(ctx, falco, "--dry-run")) {
		fc_info(ctx, "Not validating the rules: this falco has no --dry-run");
		return 0;
	}
	const char *argv[] = {falco, "-c", FC_FALCO_YAML, "--dry-run", NULL};
	_cleanup_free_ char *out = NULL;
	int r = ctx->ops->proc.run(ctx->ops->proc.data, argv, 120000, &out, errbuf, errlen);
	if (r < 0)
		return r;
	if (r != 0) {
		/* the lines that carry errors first (a sanitizer report may follow them), else the tail */
		struct strbuf why;
		strbuf_init(&why, 1500);
		for (char *line = out, *nl; line && *line; line = nl ? nl + 1 : NULL) {
			nl = strchr(line, '\n');
			if (nl)
				*nl = '\0';
			if (strstr(line, "LOAD_ERR") || strcasestr(line, "error"))
				strbuf_appendf(&why, "%s%s", why.len ? "\n" : "", line);
			if (nl)
				*nl = '\n';
		}
		const char *tail = out ? out : "";
		size_t n = strlen(tail);
		if (n > 1500)
			tail += n - 1500;
		errf(errbuf, errlen, -EINVAL,
		     "falco rejected the configuration or rules (exit %d): %s", r,
		     why.len ? strbuf_str(&why) : tail);
		strbuf_done(&why);
		return -EINVAL;
	}
	fc_info(ctx, "falco --dry-run accepted %s and its rules", FC_FALCO_YAML);
	return 0;
}

int phase_rules_run(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	static const char *const sfx[] = {".yaml", ".yml", NULL};
	char dir[PATH_MAX];
	unsigned kept = 0;
	int r;

	r = fc_assets_find(ctx, errbuf, errlen);
	if (r < 0)
		return r;
	r = fc_dir_ensure(ctx, FC_FALCO_CONF_DIR "/rules.d", 0755, errbuf, errlen);
	if (r < 0)
		return r;
	snprintf(dir, sizeof(dir), "%s/rules", ctx->assets);
	char **rules = list_dir(dir, sfx);
	if (!rules)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	if (!rules[0])
		fc_warn(ctx, "NoDefaultRules",
			"%s has no rules files: only the local rules file is installed", dir);
	for (char **name = rules; *name; name++) {
		char src[PATH_MAX * 2], dst[PATH_MAX];
		_cleanup_free_ char *data = NULL;
		size_t len;
		snprintf(src, sizeof(src), "%s/%s", dir, *name);
		snprintf(dst, sizeof(dst), FC_FALCO_CONF_DIR "/%s", *name);
		r = read_file(src, ASSET_MAX, &data, &len, errbuf, errlen);
		if (r < 0)
			break;
		struct fc_file_spec f = {.path = dst,
					 .data = data,
					 .len = len,
					 .mode = 0644,
					 .policy = FC_FILE_OWNED,
					 .restart = true};
		r = fc_file_ensure(ctx, &f, errbuf, errlen);
		if (r < 0)
			break;
		if (r == 1)
			fc_mark_restart(ctx);
		if (r == FC_FILE_KEPT)
			kept++;
	}
	fc_strv_free(rules);
	if (r < 0)
		return r;
	struct fc_file_spec local = {.path = FC_LOCAL_RULES,
				     .data = local_rules,
				     .len = strlen(local_rules),
				     .mode = 0644,
				     .policy = FC_FILE_KEEP};
	r = fc_file_ensure(ctx, &local, errbuf, errlen);
	if (r < 0)
		return r;
	if (ctx->phase_changes == 0 && kept == 0)
		fc_info(ctx, "The rules in %s are up to date", FC_FALCO_CONF_DIR);
	return validate(ctx, errbuf, errlen);
}

int phase_rules_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	int r = fc_undo_recorded(ctx, "rules", errbuf, errlen);
	return r < 0 ? r : 0;
}

/* ---- units ------------------------------------------------------------------------------------------------ */

static int want_link(struct fc_ctx *ctx, char ***wanted, const char *path, const char *target,
		     char *errbuf, size_t errlen)
{
	size_t n = fc_strv_len(*wanted);
	char **nw = realloc(*wanted, (n + 2) * sizeof(char *));
	if (!nw)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	*wanted = nw;
	nw[n] = strdup(path);
	nw[n + 1] = NULL;
	if (!nw[n])
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	return fc_link_ensure(ctx, path, target, errbuf, errlen);
}

/* Creates the [Install] symlinks of unit (whose text is given); follows Also= once. */
static int enable_unit(struct fc_ctx *ctx, const char *unit, const char *text, char ***wanted,
		       bool follow_also, char *errbuf, size_t errlen)
{
	struct fc_unit_install inst;
	char target[PATH_MAX], link[PATH_MAX * 2];
	int r = 0;

	fc_unit_install_parse(text, &inst);
	snprintf(target, sizeof(target), FC_UNIT_DIR "/%s", unit);
	for (char **t = inst.wanted_by; r >= 0 && t && *t; t++) {
		snprintf(link, sizeof(link), FC_UNIT_DIR "/%s.wants/%s", *t, unit);
		r = want_link(ctx, wanted, link, target, errbuf, errlen);
	}
	for (char **t = inst.required_by; r >= 0 && t && *t; t++) {
		snprintf(link, sizeof(link), FC_UNIT_DIR "/%s.requires/%s", *t, unit);
		r = want_link(ctx, wanted, link, target, errbuf, errlen);
	}
	for (char **t = inst.alias; r >= 0 && t && *t; t++) {
		snprintf(link, sizeof(link), FC_UNIT_DIR "/%s", *t);
		r = want_link(ctx, wanted, link, target, errbuf, errlen);
	}
	for (char **t = inst.also; r >= 0 && follow_also && t && *t; t++) {
		char src[PATH_MAX * 2];
		_cleanup_free_ char *also = NULL;
		snprintf(src, sizeof(src), "%s/systemd/%s", ctx->assets, *t);
		if (read_file(src, ASSET_MAX, &also, NULL, errbuf, errlen) == 0)
			r = enable_unit(ctx, *t, also, wanted, false, errbuf, errlen);
	}
	fc_unit_install_done(&inst);
	return r;
}

int phase_units_run(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	static const char *const sfx[] = {".service", ".timer", ".socket", ".path", NULL};
	int d = fc_install_driver(ctx), r;
	const char *unit = fc_driver_unit(d);
	_cleanup_free_ char *unit_text = NULL;
	char dir[PATH_MAX];
	char **wanted = NULL;

	r = fc_assets_find(ctx, errbuf, errlen);
	if (r < 0)
		return r;
	bool live = ctx->host && ctx->ops->systemd.booted(ctx->ops->systemd.data);
	snprintf(dir, sizeof(dir), "%s/systemd", ctx->assets);
	char **units = list_dir(dir, sfx);
	if (!units)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	for (char **name = units; *name; name++) {
		char src[PATH_MAX * 2], dst[PATH_MAX];
		_cleanup_free_ char *data = NULL;
		size_t len;
		snprintf(src, sizeof(src), "%s/%s", dir, *name);
		snprintf(dst, sizeof(dst), FC_UNIT_DIR "/%s", *name);
		r = read_file(src, ASSET_MAX, &data, &len, errbuf, errlen);
		if (r < 0)
			break;
		struct fc_file_spec f = {.path = dst,
					 .data = data,
					 .len = len,
					 .mode = 0644,
					 .policy = FC_FILE_OWNED,
					 .restart = true};
		r = fc_file_ensure(ctx, &f, errbuf, errlen);
		if (r < 0)
			break;
		if (r == 1)
			fc_mark_restart(ctx);
		if (streq(*name, unit))
			unit_text = TAKE_PTR(data);
	}
	fc_strv_free(units);
	if (r < 0)
		return r;
	if (!unit_text)
		return errf(errbuf, errlen, -ENOENT, "%s/%s is missing", dir, unit);

	/* enable the driver's unit; drop links falcoctl made for another driver's unit */
	unsigned before = ctx->phase_changes;
	r = enable_unit(ctx, unit, unit_text, &wanted, true, errbuf, errlen);
	cJSON *links = ctx->state ? fc_state_array(ctx->state, "units", "links") : NULL, *e;
	char **stale = NULL;
	size_t nstale = 0;
	cJSON_ArrayForEach(e, links)
	{
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(e, "path"));
		if (p && !fc_strv_contains(wanted, p)) {
			char **ns = realloc(stale, (nstale + 2) * sizeof(char *));
			if (!ns)
				break;
			stale = ns;
			stale[nstale++] = strdup(p);
			stale[nstale] = NULL;
		}
	}
	for (size_t i = 0; r >= 0 && i < nstale; i++)
		if (stale[i])
			r = fc_link_remove(ctx, stale[i], errbuf, errlen);
	fc_strv_free(stale);
	fc_strv_free(wanted);
	if (r < 0)
		return r;
	if (ctx->phase_changes > before)
		fc_info(ctx, "Enabled %s", unit);
	else
		fc_info(ctx, "%s is installed and enabled", unit);

	if (!live) {
		if (ctx->host && !ctx->dry_run)
			fc_info(ctx,
				"systemd is not running: the units take effect at the next boot with systemd");
		return 0;
	}
	/* reload when we changed something, or when systemd's view is stale (a run killed before its reload) */
	struct fc_unit_status us;
	bool stale_view =
		ctx->ops->systemd.status(ctx->ops->systemd.data, unit, &us, NULL, 0) == 0 &&
		us.need_reload;
	if (ctx->phase_changes == 0 && !stale_view)
		return 0;
	if (ctx->dry_run) {
		fc_info(ctx, "Would reload systemd (daemon-reload)");
		return 0;
	}
	r = ctx->ops->systemd.daemon_reload(ctx->ops->systemd.data, errbuf, errlen);
	if (r < 0)
		return r;
	fc_info(ctx, "Reloaded systemd");
	ctx->changes++;
	return 0;
}

int phase_units_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	int r = fc_undo_recorded(ctx, "units", errbuf, errlen);
	if (r < 0)
		return r;
	if (r > 0 && ctx->host && !ctx->dry_run &&
	    ctx->ops->systemd.booted(ctx->ops->systemd.data)) {
		r = ctx->ops->systemd.daemon_reload(ctx->ops->systemd.data, errbuf, errlen);
		if (r < 0)
			return r;
		fc_info(ctx, "Reloaded systemd");
	}
	return 0;
}
