/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Preflight, kubeadm style: every check runs, warnings are printed as they happen, errors are collected and
 * reported once at the end; --ignore-preflight-errors=Name,…|all turns named errors into warnings. Checks that
 * look at the running host are skipped when --root is not "/".
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/caps.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "config.h"
#include "driver.h"
#include "install.h"
#include "preflight.h"
#include "state.h"

#define MIB (1024ull * 1024ull)

void fc_preflight_init(struct fc_preflight *pf, char *const *ignore)
{
	memset(pf, 0, sizeof(*pf));
	strbuf_init(&pf->errors, 64 << 10);
	pf->ignore = ignore;
}

void fc_preflight_done(struct fc_preflight *pf)
{
	strbuf_done(&pf->errors);
}

static bool ignored(const struct fc_preflight *pf, const char *name)
{
	for (char *const *i = pf->ignore; i && *i; i++)
		if (strcasecmp(*i, "all") == 0 || strcasecmp(*i, name) == 0)
			return true;
	return false;
}

void fc_preflight_report(struct fc_ctx *ctx, struct fc_preflight *pf, enum fc_pf_result res,
			 const char *name, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	switch (res) {
	case FC_PF_OK:
		fc_debug(ctx, "%s: %s", name, msg);
		break;
	case FC_PF_WARN:
		pf->nwarn++;
		fc_report_check(ctx->rep, FC_WARNING, ctx->phase, name, "%s", msg);
		break;
	case FC_PF_ERROR:
		if (ignored(pf, name)) {
			pf->nwarn++;
			fc_report_check(ctx->rep, FC_WARNING, ctx->phase, name, "%s (ignored)",
					msg);
			break;
		}
		pf->nerr++;
		strbuf_appendf(&pf->errors, "\n\t[ERROR %s]: %s", name, msg);
		break;
	}
}

/* ---- the checks ------------------------------------------------------------------------------------------ */

static bool has_cap(uint64_t caps, int cap)
{
	return cap >= 0 && (caps >> cap) & 1;
}

static void check_privileges(struct fc_ctx *ctx, struct fc_preflight *pf)
{
	if (!ctx->host) {
		if (access(ctx->root, W_OK) < 0)
			fc_preflight_report(ctx, pf, FC_PF_ERROR, "IsPrivilegedUser",
					    "cannot write to --root %s: %s", ctx->root,
					    strerror(errno));
		else
			fc_preflight_report(ctx, pf, FC_PF_OK, "IsPrivilegedUser",
					    "--root %s is writable", ctx->root);
		return;
	}
	if (geteuid() != 0) {
		fc_preflight_report(ctx, pf, FC_PF_ERROR, "IsPrivilegedUser",
				    "user is not running as root");
		return;
	}
	uint64_t caps = 0;
	if (ctx->ops->probe.capabilities(ctx->ops->probe.data, &caps) < 0) {
		fc_preflight_report(ctx, pf, FC_PF_WARN, "Capabilities",
				    "cannot read the effective capabilities");
		return;
	}
	char **allowed = fc_driver_allowed(ctx);
	bool modern = fc_strv_contains(allowed, "modern_ebpf"),
	     kmod = fc_strv_contains(allowed, "kmod");
	fc_strv_free(allowed);
	bool bpf = has_cap(caps, cap_from_name("CAP_SYS_ADMIN")) ||
		   (has_cap(caps, cap_from_name("CAP_BPF")) &&
		    has_cap(caps, cap_from_name("CAP_PERFMON")));
	bool mod = has_cap(caps, cap_from_name("CAP_SYS_MODULE"));
	if (modern && !bpf && !(kmod && mod))
		fc_preflight_report(
			ctx, pf, FC_PF_ERROR, "Capabilities",
			"missing CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN): the eBPF driver cannot be loaded");
	else if (kmod && !modern && !mod)
		fc_preflight_report(ctx, pf, FC_PF_ERROR, "Capabilities",
				    "missing CAP_SYS_MODULE: the kernel module cannot be loaded");
	else
		fc_preflight_report(ctx, pf, FC_PF_OK, "Capabilities",
				    "effective capabilities %#llx", (unsigned long long)caps);
}

struct drv_result {
	bool ok;
	char why[512];
};

/*
 * Driver checks, severity by priority: a failing type is an error only when no allowed type passes; when a
 * later type passes it is a warning; below the first passing type it is only a debug note.
 */
static void check_drivers(struct fc_ctx *ctx, struct fc_preflight *pf)
{
	char **allowed = fc_driver_allowed(ctx);
	struct fc_uname u = {0};
	unsigned v[3] = {0, 0, 0};
	bool any = false;
	struct {
		const char *name;
		int type;
		struct drv_result res;
	} checks[8];
	size_t n = 0;

	if (ctx->ops->probe.uname(ctx->ops->probe.data, &u) == 0 &&
	    fc_parse_version(u.release, v) == 0) {
		if (v[0] < 3 || (v[0] == 3 && v[1] < 10))
			fc_preflight_report(ctx, pf, FC_PF_ERROR, "KernelVersion",
					    "kernel %s is older than 3.10", u.release);
		else if (v[0] < 5 || (v[0] == 5 && v[1] < 8))
			fc_preflight_report(
				ctx, pf,
				fc_strv_contains(allowed, "kmod") ? FC_PF_WARN : FC_PF_ERROR,
				"KernelVersion",
				"kernel %s is older than 5.8: the modern eBPF driver needs 5.8+",
				u.release);
		else
			fc_preflight_report(ctx, pf, FC_PF_OK, "KernelVersion", "kernel %s",
					    u.release);
	}
	for (char **t = allowed; t && *t && n + 4 <= ARRAY_SIZE(checks); t++) {
		int d = fc_driver_type_from_string(*t);
		if (d == FC_DRIVER_MODERN_EBPF) {
			const struct fc_probe_ops *p = &ctx->ops->probe;
			int (*fns[])(void *, char *, size_t) = {p->btf, p->ringbuf, p->tracing};
			static const char *const names[] = {"BTF", "BPFRingBuffer", "BPFTracing"};
			bool ok = true;
			for (size_t i = 0; i < ARRAY_SIZE(fns); i++) {
				checks[n].name = names[i];
				checks[n].type = d;
				checks[n].res.why[0] = '\0';
				int r = fns[i](p->data, checks[n].res.why,
					       sizeof(checks[n].res.why));
				/* the tracing check includes the live tp_btf attach probe */
				if (r == 1 && i == 2)
					r = p->tp_btf_attach(p->data, checks[n].res.why,
							     sizeof(checks[n].res.why));
				checks[n].res.ok = r == 1;
				ok = ok && r == 1;
				n++;
			}
			any = any || ok;
		} else if (d == FC_DRIVER_KMOD) {
			checks[n].name = "KernelModules";
			checks[n].type = d;
			checks[n].res.why[0] = '\0';
			checks[n].res.ok = ctx->ops->kmod.supported(
				ctx->ops->kmod.data, checks[n].res.why, sizeof(checks[n].res.why));
			if (checks[n].res.ok)
				snprintf(checks[n].res.why, sizeof(checks[n].res.why),
					 "loadable modules supported");
			any = any || checks[n].res.ok;
			n++;
		}
	}
	/* which type would be picked: the first whose checks all pass */
	int first_ok = -1;
	for (char **t = allowed; t && *t && first_ok < 0; t++) {
		int d = fc_driver_type_from_string(*t);
		bool ok = true;
		for (size_t i = 0; i < n; i++)
			if (checks[i].type == d)
				ok = ok && checks[i].res.ok;
		if (d >= 0 && ok)
			first_ok = d;
	}
	for (size_t i = 0; i < n; i++) {
		enum fc_pf_result res;
		if (checks[i].res.ok)
			res = FC_PF_OK;
		else if (!any)
			res = FC_PF_ERROR;
		else {
			/* fails, but another type passes: warn if it outranks the chosen one */
			int pos_this = -1, pos_ok = -1, k = 0;
			for (char **t = allowed; t && *t; t++, k++) {
				int d = fc_driver_type_from_string(*t);
				if (d == checks[i].type && pos_this < 0)
					pos_this = k;
				if (d == first_ok && pos_ok < 0)
					pos_ok = k;
			}
			res = pos_this < pos_ok ? FC_PF_WARN : FC_PF_OK;
		}
		fc_preflight_report(ctx, pf, res, checks[i].name, "%s%s", checks[i].res.why,
				    res == FC_PF_WARN ? " (another driver type will be used)" : "");
	}
	fc_strv_free(allowed);
}

static void check_systemd(struct fc_ctx *ctx, struct fc_preflight *pf)
{
	if (ctx->ops->systemd.booted(ctx->ops->systemd.data)) {
		fc_preflight_report(ctx, pf, FC_PF_OK, "SystemdRunning", "systemd is PID 1");
		return;
	}
	char comm[64] = "?";
	_cleanup_free_ char *c = NULL;
	if (read_file("/proc/1/comm", sizeof(comm), &c, NULL, NULL, 0) == 0)
		snprintf(comm, sizeof(comm), "%.*s", (int)strcspn(c, "\n"), c);
	fc_preflight_report(
		ctx, pf, FC_PF_WARN, "SystemdRunning",
		"systemd is not running as PID 1 (PID 1 is %s): the units are installed for the next boot, "
		"and falco will be started as a daemon supervised by falcoctl",
		comm);
}

static void check_disk(struct fc_ctx *ctx, struct fc_preflight *pf)
{
	static const char *const paths[] = {"/usr/bin", "/etc", FC_STATE_DIR};
	for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
		char full[PATH_MAX];
		struct statvfs sv;
		if (fc_path(ctx, paths[i], full) < 0)
			continue;
		/* the nearest existing ancestor tells which filesystem it will land on */
		while (access(full, F_OK) < 0 && strlen(full) > 1)
			dirname(full);
		if (statvfs(full, &sv) < 0)
			continue;
		unsigned long long avail = (unsigned long long)sv.f_bavail * sv.f_frsize;
		if (avail < 100 * MIB) {
			fc_preflight_report(ctx, pf, FC_PF_ERROR, "DiskSpace",
					    "only %llu MiB free for %s (need 100 MiB)", avail / MIB,
					    paths[i]);
			return;
		}
		if (avail < 500 * MIB)
			fc_preflight_report(ctx, pf, FC_PF_WARN, "DiskSpace",
					    "only %llu MiB free for %s", avail / MIB, paths[i]);
	}
	fc_preflight_report(ctx, pf, FC_PF_OK, "DiskSpace", "enough free space");
}

/* Whether the falco falcoctl installed is what holds the port: started by us, or its unit is active. */
static bool falco_running_from_us(struct fc_ctx *ctx)
{
	if (!ctx->state || fc_state_empty(ctx->state))
		return false;
	if (fc_state_completed(ctx->state, "start"))
		return true;
	struct fc_unit_status st;
	return ctx->ops->systemd.booted(ctx->ops->systemd.data) &&
	       ctx->ops->systemd.status(ctx->ops->systemd.data,
					fc_driver_unit(fc_install_driver(ctx)), &st, NULL,
					0) == 0 &&
	       st.active == FC_UNIT_ACTIVE;
}

static void check_ports(struct fc_ctx *ctx, struct fc_preflight *pf)
{
	static const struct {
		uint16_t port;
		enum fc_pf_result busy;
		const char *what;
	} ports[] = {
		{8765, FC_PF_ERROR, "falco's web server (/healthz, /metrics)"},
		{9765, FC_PF_WARN, "the Kubernetes audit webhook (when enabled)"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(ports); i++) {
		char name[32], why[256] = "";
		snprintf(name, sizeof(name), "Port-%u", ports[i].port);
		int r = ctx->ops->probe.port_free(ctx->ops->probe.data, ports[i].port, why,
						  sizeof(why));
		if (r == 1)
			fc_preflight_report(ctx, pf, FC_PF_OK, name, "port %u is free",
					    ports[i].port);
		else if (r == 0 && falco_running_from_us(ctx))
			fc_preflight_report(ctx, pf, FC_PF_OK, name,
					    "port %u is in use by the falco falcoctl started",
					    ports[i].port);
		else if (r == 0)
			fc_preflight_report(ctx, pf, ports[i].busy, name,
					    "port %u is in use; it is needed by %s", ports[i].port,
					    ports[i].what);
		else
			fc_preflight_report(ctx, pf, FC_PF_WARN, name, "%s", why);
	}
}

static void check_existing(struct fc_ctx *ctx, struct fc_preflight *pf)
{
	char full[PATH_MAX], ver[64] = "";
	if (ctx->state && !fc_state_empty(ctx->state)) {
		const char *fv = fc_state_get(ctx->state, "userspace", "version");
		cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx->state->root, "falcoctl");
		fc_info(ctx,
			"Found an existing installation (falcoctl %s, falco %s, driver %s): converging it",
			cJSON_GetStringValue(v) ? cJSON_GetStringValue(v) : "?", fv ? fv : "?",
			fc_state_get(ctx->state, "driver/select", "type") ?: "?");
		return;
	}
	/* a falco that falcoctl did not install: say so, install will refuse to overwrite it */
	if (fc_path(ctx, FC_FALCO_BIN, full) == 0 && access(full, X_OK) == 0) {
		char src[PATH_MAX];
		bool same = false;
		if (fc_falco_source(ctx, src, sizeof(src), NULL, 0) == 0) {
			char *a = realpath(src, NULL), *b = realpath(full, NULL);
			same = a && b && streq(a, b);
			free(a);
			free(b);
		}
		if (!same) {
			if (ctx->host)
				fc_falco_version(ctx, full, ver, sizeof(ver));
			fc_preflight_report(
				ctx, pf, FC_PF_WARN, "ExistingInstallation",
				"%s (version %s) exists and was not installed by falcoctl",
				FC_FALCO_BIN, ver[0] ? ver : "unknown");
		}
	}
	static const char *const units[] = {"/etc/systemd/system/falco.service",
					    "/lib/systemd/system/falco.service",
					    "/usr/lib/systemd/system/falco.service"};
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (fc_path(ctx, units[i], full) == 0 && access(full, F_OK) == 0)
			fc_preflight_report(ctx, pf, FC_PF_WARN, "ExistingUnit",
					    "%s exists and was not installed by falcoctl",
					    units[i]);
}

int fc_preflight_run_checks(struct fc_ctx *ctx, struct fc_preflight *pf, char *errbuf,
			    size_t errlen)
{
	fc_info(ctx, "Running pre-flight checks");
	check_privileges(ctx, pf);
	if (ctx->host) {
		check_drivers(ctx, pf);
		check_systemd(ctx, pf);
		check_ports(ctx, pf);
	} else {
		fc_debug(
			ctx,
			"--root %s: kernel, systemd and port checks skipped (not the running host)",
			ctx->root);
	}
	check_disk(ctx, pf);
	check_existing(ctx, pf);
	if (pf->nerr == 0)
		return 0;
	errf(errbuf, errlen, -EINVAL,
	     "[preflight] Some fatal errors occurred:%s\n[preflight] If you know what you are doing, you can make a "
	     "check non-fatal with `--ignore-preflight-errors=...`",
	     strbuf_str(&pf->errors));
	return -EINVAL;
}

int phase_preflight_run(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	struct fc_preflight pf;
	fc_preflight_init(&pf, fc_cfg_list(ctx->cfg, FC_K_INSTALL_IGNOREPREFLIGHT));
	int r = fc_preflight_run_checks(ctx, &pf, errbuf, errlen);
	fc_preflight_done(&pf);
	return r;
}
