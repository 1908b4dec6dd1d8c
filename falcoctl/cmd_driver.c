/* SPDX-License-Identifier: Apache-2.0 */
/* driver config|printenv|status|load|unload|fetch|cleanup */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "cmd.h"
#include "driver.h"
#include "fs.h"
#include "install.h"
#include "state.h"

#define PHASE "driver"

static int fail(struct fc_ctx *ctx, int lockfd, const char *phase, const char *msg)
{
	fc_report(ctx->rep, FC_ERROR, NULL, "error execution phase %s: %s", phase, msg);
	fc_cmd_close(ctx, lockfd);
	return EXIT_FAILURE;
}

/* The type a driver command acts on: --type when given, else what install selected, else auto selection. */
static int pick_type(struct fc_ctx *ctx, bool probe, char *errbuf, size_t errlen)
{
	char **allowed = fc_driver_allowed(ctx);
	struct fc_candidate cands[_FC_DRIVER_MAX];
	size_t n = 0;
	int d;

	if (!allowed)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	if (ctx->cfg->src[FC_K_DRIVER_TYPE] != FC_SRC_FLAG && ctx->state) {
		d = fc_driver_type_from_string(fc_state_get(ctx->state, "driver/select", "type"));
		if (d >= 0) {
			fc_strv_free(allowed);
			return d;
		}
	}
	if (fc_strv_len(allowed) == 1 || !probe || !ctx->host) {
		d = fc_driver_type_from_string(allowed[0]);
		fc_strv_free(allowed);
		return d;
	}
	d = fc_driver_select(ctx, allowed, cands, &n, errbuf, errlen);
	fc_strv_free(allowed);
	for (size_t i = 0; i < n; i++)
		fc_report(ctx->rep, cands[i].ok ? FC_DEBUG : FC_INFO, PHASE, "%s %s: %s",
			  cands[i].ok ? "Selected" : "Rejected",
			  fc_driver_type_to_string(cands[i].type), cands[i].reason);
	return d;
}

int cmd_driver_config(struct fc_cmd_env *env)
{
	struct fc_ctx ctx;
	char e[2048], path[PATH_MAX];
	int lockfd;

	if (fc_cmd_open(env, &ctx, false, &lockfd) < 0)
		return EXIT_FAILURE;
	ctx.phase = "driver/config";
	const char *cfgpath = env->cfg->config_path;
	if (env->cfg->src[FC_K_CONFIG] == FC_SRC_DEFAULT) {
		if (fc_path(&ctx, fc_cfg_str(env->cfg, FC_K_CONFIG), path) < 0)
			return fail(&ctx, lockfd, ctx.phase, "config path too long");
		cfgpath = path;
	} else {
		cfgpath = fc_cfg_str(env->cfg, FC_K_CONFIG);
	}
	if (env->cfg->src[FC_K_DRIVER_TYPE] == FC_SRC_FLAG) {
		/* 1. store the allowed types in falcoctl.yaml, keeping everything else in the file as written */
		char *const *types = fc_cfg_list(env->cfg, FC_K_DRIVER_TYPE);
		_cleanup_free_ char *text = NULL, *updated = NULL;
		size_t len = 0;
		int r = read_file(cfgpath, 1 << 20, &text, &len, e, sizeof(e));
		if (r == -ENOENT)
			updated = fc_config_default_text(types);
		else if (r < 0)
			return fail(&ctx, lockfd, ctx.phase, e);
		else if (fc_config_set_driver_type(text, len, types, &updated, e, sizeof(e)) < 0)
			return fail(&ctx, lockfd, ctx.phase, e);
		if (!updated)
			return fail(&ctx, lockfd, ctx.phase, "out of memory");
		if (text && streq(text, updated)) {
			fc_info(&ctx, "%s already allows %s", cfgpath,
				fc_cfg_str(env->cfg, FC_K_DRIVER_TYPE));
		} else if (ctx.dry_run) {
			struct strbuf sb;
			strbuf_init(&sb, 0);
			fc_info(&ctx, "Would update %s:", cfgpath);
			fc_diff(text ? text : "", len, updated, strlen(updated), cfgpath, cfgpath,
				&sb);
			fc_report_diff(ctx.rep, ctx.phase, cfgpath, strbuf_str(&sb));
			strbuf_done(&sb);
		} else {
			char dir[PATH_MAX];
			snprintf(dir, sizeof(dir), "%s", cfgpath);
			char *slash = strrchr(dir, '/');
			if (slash && slash != dir) {
				*slash = '\0';
				if (mkdir_p(dir, 0755, e, sizeof(e)) < 0)
					return fail(&ctx, lockfd, ctx.phase, e);
			}
			if (env->ops->fs.write_file(env->ops->fs.data, cfgpath, updated,
						    strlen(updated), 0644, (uid_t)-1, (gid_t)-1, e,
						    sizeof(e)) < 0)
				return fail(&ctx, lockfd, ctx.phase, e);
			fc_info(&ctx, "Wrote driver.type [%s] to %s",
				fc_cfg_str(env->cfg, FC_K_DRIVER_TYPE), cfgpath);
		}
	}
	/* 2. the effective settings, and where each came from */
	static const enum fc_key keys[] = {FC_K_DRIVER_TYPE,	FC_K_DRIVER_NAME,
					   FC_K_DRIVER_VERSION, FC_K_DRIVER_REPOS,
					   FC_K_DRIVER_KEYSDIR, FC_K_DRIVER_CACHEDIR,
					   FC_K_DRIVER_CAFILE,	FC_K_DRIVER_PLAINHTTP};
	for (size_t i = 0; i < ARRAY_SIZE(keys); i++) {
		const char *v = fc_cfg_str(env->cfg, keys[i]);
		fc_info(&ctx, "%s: %s (from %s)", fc_setting_defs[keys[i]].key, v ? v : "",
			env->cfg->origin[keys[i]] ? env->cfg->origin[keys[i]]
						  : fc_src_to_string(env->cfg->src[keys[i]]));
	}
	const char *installed = ctx.state ? fc_state_get(ctx.state, "driver/select", "type") : NULL;
	if (installed && !fc_strv_contains(fc_cfg_list(env->cfg, FC_K_DRIVER_TYPE), installed) &&
	    !fc_strv_contains(fc_cfg_list(env->cfg, FC_K_DRIVER_TYPE), "auto"))
		fc_info(&ctx,
			"falco is installed with the %s driver; run 'falcoctl install falco' to switch",
			installed);
	fc_cmd_close(&ctx, lockfd);
	return EXIT_SUCCESS;
}

int cmd_driver_printenv(struct fc_cmd_env *env)
{
	struct fc_ctx ctx;
	struct fc_target t;
	struct fc_artifact a;
	struct fc_os_release os;
	char e[2048], url[2048] = "";
	int lockfd;

	if (fc_cmd_open(env, &ctx, false, &lockfd) < 0)
		return EXIT_FAILURE;
	ctx.phase = "driver/printenv";
	int d = pick_type(&ctx, true, e, sizeof(e));
	if (fc_driver_target(&ctx, &t, e, sizeof(e)) < 0)
		return fail(&ctx, lockfd, ctx.phase, e);
	fc_os_release_discover(ctx.host ? "/" : ctx.root, &os);
	fc_driver_artifact(&ctx, &t, &a, NULL, 0);
	char *const *repos = fc_cfg_list(env->cfg, FC_K_DRIVER_REPOS);
	if (repos[0])
		fc_driver_url(repos[0], fc_cfg_str(env->cfg, FC_K_DRIVER_VERSION), t.arch, a.file,
			      url, sizeof(url));
	struct strbuf rs;
	strbuf_init(&rs, 0);
	for (char *const *r = repos; *r; r++)
		strbuf_appendf(&rs, "%s%s", r == repos ? "" : ";", *r);
	struct {
		const char *k, *v;
	} kv[] = {
		{"DRIVER", d >= 0 ? fc_driver_type_to_string(d) : ""},
		{"DRIVER_TYPES", fc_cfg_str(env->cfg, FC_K_DRIVER_TYPE)},
		{"DRIVERS_REPO", strbuf_str(&rs)},
		{"DRIVER_VERSION", fc_cfg_str(env->cfg, FC_K_DRIVER_VERSION)},
		{"DRIVER_NAME", fc_cfg_str(env->cfg, FC_K_DRIVER_NAME)},
		{"HOST_ROOT", ctx.root},
		{"OS_ID", os.id},
		{"TARGET_ID", t.target_id},
		{"ARCH", t.arch},
		{"KERNEL_RELEASE", t.kernel_release},
		{"KERNEL_VERSION", t.kernel_version},
		{"FIXED_KERNEL_RELEASE", t.fixed_release},
		{"FIXED_KERNEL_VERSION", t.fixed_version},
		{"DRIVER_FILE", a.file},
		{"DRIVER_URL", url},
		{"DRIVER_CACHE", a.rel},
		{"KEYS_DIR", fc_cfg_str(env->cfg, FC_K_DRIVER_KEYSDIR)},
	};
	for (size_t i = 0; i < ARRAY_SIZE(kv); i++)
		fc_report_kv(env->rep, kv[i].k, kv[i].v ? kv[i].v : "");
	strbuf_done(&rs);
	if (d < 0)
		fc_report(env->rep, FC_WARNING, ctx.phase, "%s", e);
	fc_cmd_close(&ctx, lockfd);
	return EXIT_SUCCESS;
}

/* falco's pid: the unit's MainPID, the supervised pidfile, or a process named falco. */
static pid_t falco_pid(struct fc_ctx *ctx)
{
	char path[PATH_MAX];
	if (ctx->ops->systemd.booted(ctx->ops->systemd.data)) {
		for (int d = 0; d < _FC_DRIVER_MAX; d++) {
			struct fc_unit_status st;
			if (ctx->ops->systemd.status(ctx->ops->systemd.data, fc_driver_unit(d), &st,
						     NULL, 0) == 0 &&
			    st.main_pid)
				return (pid_t)st.main_pid;
		}
	}
	if (fc_path(ctx, FC_FALCO_PIDFILE, path) == 0) {
		pid_t p = fc_pidfile_alive(path);
		if (p)
			return p;
	}
	DIR *d = opendir("/proc");
	struct dirent *de;
	pid_t found = 0;
	while (d && !found && (de = readdir(d))) {
		char comm[PATH_MAX], *c = NULL;
		long pid = strtol(de->d_name, NULL, 10);
		if (pid <= 0)
			continue;
		snprintf(comm, sizeof(comm), "/proc/%ld/comm", pid);
		if (read_file(comm, 64, &c, NULL, NULL, 0) == 0 && streq(c, "falco\n"))
			found = (pid_t)pid;
		free(c);
	}
	if (d)
		closedir(d);
	return found;
}

/* Counts the BPF programs and links pid holds, from /proc/<pid>/fdinfo. */
static void bpf_usage(pid_t pid, unsigned *progs, unsigned *links, struct strbuf *types)
{
	char dir[64];
	*progs = *links = 0;
	snprintf(dir, sizeof(dir), "/proc/%d/fdinfo", (int)pid);
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		char p[PATH_MAX], *text = NULL;
		if (de->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (read_file(p, 8192, &text, NULL, NULL, 0) < 0)
			continue;
		const char *lt = strstr(text, "link_type:");
		if (lt) {
			(*links)++;
			lt += strlen("link_type:");
			while (*lt == ' ' || *lt == '\t')
				lt++;
			size_t n = strcspn(lt, "\n");
			if (types->len < 200)
				strbuf_appendf(types, "%s%.*s", types->len ? "," : "", (int)n, lt);
		} else if (strstr(text, "prog_type:")) {
			(*progs)++;
		}
		free(text);
	}
	if (d)
		closedir(d);
}

int cmd_driver_status(struct fc_cmd_env *env)
{
	struct fc_ctx ctx;
	char e[2048];
	int lockfd;

	if (fc_cmd_open(env, &ctx, false, &lockfd) < 0)
		return EXIT_FAILURE;
	ctx.phase = "driver/status";
	const char *installed = fc_state_get(ctx.state, "driver/select", "type");
	fc_info(&ctx, "allowed types: %s; installed with: %s",
		fc_cfg_str(env->cfg, FC_K_DRIVER_TYPE),
		installed ? installed : "(not installed by falcoctl)");
	fc_info(&ctx, "driver version %s; falco %s", fc_cfg_str(env->cfg, FC_K_DRIVER_VERSION),
		fc_state_get(ctx.state, "userspace", "version") ?: "(unknown)");

	/* modern_ebpf: the probe lives in falco; what falco holds is what is attached */
	pid_t pid = ctx.host ? falco_pid(&ctx) : 0;
	if (pid) {
		unsigned progs, links;
		struct strbuf types;
		strbuf_init(&types, 0);
		bpf_usage(pid, &progs, &links, &types);
		fc_info(&ctx, "falco (pid %d) holds %u BPF programs and %u attached links%s%s%s",
			(int)pid, progs, links, types.len ? " (" : "", strbuf_str(&types),
			types.len ? ")" : "");
		strbuf_done(&types);
	} else {
		fc_info(&ctx, "falco is not running: no eBPF programs attached");
	}
	/* kmod */
	char why[512];
	const char *name = fc_cfg_str(env->cfg, FC_K_DRIVER_NAME);
	if (!env->ops->kmod.supported(env->ops->kmod.data, why, sizeof(why))) {
		fc_info(&ctx, "kmod: %s", why);
	} else {
		enum fc_kmod_state st = FC_KMOD_ABSENT;
		static const char *const names[] = {"not loaded", "loaded (live)", "loading",
						    "unloading", "built in"};
		if (env->ops->kmod.state(env->ops->kmod.data, name, &st, e, sizeof(e)) < 0)
			fc_info(&ctx, "kmod: %s", e);
		else {
			char p[128], *ver = NULL, *ref = NULL;
			snprintf(p, sizeof(p), "/sys/module/%s/version", name);
			(void)read_file(p, 256, &ver, NULL, NULL, 0);
			snprintf(p, sizeof(p), "/sys/module/%s/refcnt", name);
			(void)read_file(p, 64, &ref, NULL, NULL, 0);
			fc_info(&ctx, "kmod: module %s %s%s%.*s%s%.*s", name, names[st],
				ver ? ", version " : "", ver ? (int)strcspn(ver, "\n") : 0,
				ver ? ver : "", ref ? ", users " : "",
				ref ? (int)strcspn(ref, "\n") : 0, ref ? ref : "");
			free(ver);
			free(ref);
		}
	}
	/* drop counters from falco's /metrics, when falco runs and exposes them */
	if (pid) {
		struct fc_http_req req = {.url = "http://127.0.0.1:8765/metrics",
					  .allow_http = true,
					  .timeout_s = 2,
					  .max_size = 8u << 20};
		_cleanup_free_ char *body = NULL;
		size_t len;
		if (env->ops->http.get(env->ops->http.data, &req, &body, &len, e, sizeof(e)) < 0) {
			fc_info(&ctx, "drop counters: not available (%s)", e);
		} else {
			unsigned shown = 0;
			for (char *line = body, *nl; line && *line; line = nl ? nl + 1 : NULL) {
				nl = strchr(line, '\n');
				if (nl)
					*nl = '\0';
				if (line[0] != '#' && strstr(line, "drop") && shown++ < 20)
					fc_info(&ctx, "metric %s", line);
			}
			if (!shown)
				fc_info(&ctx,
					"drop counters: falco's /metrics has no drop counters yet");
		}
	}
	fc_cmd_close(&ctx, lockfd);
	return EXIT_SUCCESS;
}

int cmd_driver_load(struct fc_cmd_env *env)
{
	struct fc_ctx ctx;
	char e[4096];
	int lockfd;

	if (fc_cmd_open(env, &ctx, true, &lockfd) < 0)
		return EXIT_FAILURE;
	ctx.phase = "driver/load";
	int d = pick_type(&ctx, true, e, sizeof(e));
	if (d < 0)
		return fail(&ctx, lockfd, ctx.phase, e);
	/* the same proof (modern_ebpf) or load (kmod) as install's driver/load phase */
	ctx.driver = d;
	if (phase_driver_load_run(&ctx, e, sizeof(e)) < 0)
		return fail(&ctx, lockfd, ctx.phase, e);
	fc_cmd_close(&ctx, lockfd);
	return EXIT_SUCCESS;
}

int cmd_driver_unload(struct fc_cmd_env *env)
{
	struct fc_ctx ctx;
	char e[4096];
	int lockfd;

	if (fc_cmd_open(env, &ctx, true, &lockfd) < 0)
		return EXIT_FAILURE;
	ctx.phase = "driver/unload";
	int d = pick_type(&ctx, false, e, sizeof(e));
	if (d == FC_DRIVER_MODERN_EBPF) {
		fc_info(&ctx,
			"Nothing to unload: the modern_ebpf probe is part of falco and detaches when falco stops");
	} else {
		int r = fc_driver_kmod_unload(&ctx, e, sizeof(e));
		if (r < 0)
			return fail(&ctx, lockfd, ctx.phase, e);
	}
	fc_cmd_close(&ctx, lockfd);
	return EXIT_SUCCESS;
}

int cmd_driver_fetch(struct fc_cmd_env *env)
{
	struct fc_ctx ctx;
	char e[8192];
	int lockfd;

	if (fc_cmd_open(env, &ctx, true, &lockfd) < 0)
		return EXIT_FAILURE;
	ctx.phase = "driver/fetch";
	int d = pick_type(&ctx, false, e, sizeof(e));
	if (d == FC_DRIVER_MODERN_EBPF && env->cfg->src[FC_K_DRIVER_TYPE] != FC_SRC_FLAG) {
		char **allowed = fc_driver_allowed(&ctx);
		if (fc_strv_contains(allowed, "kmod"))
			d = FC_DRIVER_KMOD; /* fetch is about the one driver that has an artifact */
		fc_strv_free(allowed);
	}
	if (d == FC_DRIVER_MODERN_EBPF) {
		fc_info(&ctx, "No artifact needed: the modern_ebpf probe is built into falco");
		fc_cmd_close(&ctx, lockfd);
		return EXIT_SUCCESS;
	}
	ctx.driver = FC_DRIVER_KMOD;
	if (phase_driver_fetch_run(&ctx, e, sizeof(e)) < 0)
		return fail(&ctx, lockfd, ctx.phase, e);
	fc_cmd_close(&ctx, lockfd);
	return EXIT_SUCCESS;
}

int cmd_driver_cleanup(struct fc_cmd_env *env)
{
	struct fc_ctx ctx;
	char e[4096];
	int lockfd, r;

	if (fc_cmd_open(env, &ctx, true, &lockfd) < 0)
		return EXIT_FAILURE;
	ctx.phase = "driver/cleanup";
	if (ctx.host) {
		r = fc_driver_kmod_unload(&ctx, e, sizeof(e));
		if (r < 0)
			return fail(&ctx, lockfd, ctx.phase, e);
	}
	/* the cache: everything the fetch phase recorded */
	ctx.phase = "driver/fetch";
	r = fc_undo_recorded(&ctx, "driver/fetch", e, sizeof(e));
	if (r < 0)
		return fail(&ctx, lockfd, "driver/cleanup", e);
	ctx.phase = "driver/cleanup";
	if (r == 0)
		fc_info(&ctx, "No cached driver to remove");
	if (!ctx.dry_run) {
		fc_state_del_phase(ctx.state, "driver/fetch");
		if (fc_commit(&ctx, e, sizeof(e)) < 0)
			return fail(&ctx, lockfd, ctx.phase, e);
	}
	fc_cmd_close(&ctx, lockfd);
	return EXIT_SUCCESS;
}
