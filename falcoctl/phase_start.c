/* SPDX-License-Identifier: Apache-2.0 */
/*
 * start: falco's unit through sd-bus (StartUnit, or RestartUnit when something falco reads changed), waiting
 * for READY=1. Where systemd is not PID 1, falcoctl's supervisor runs the unit's ExecStart= with the unit's
 * capability bounding set instead, and says so.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "config.h"
#include "fs.h"
#include "install.h"
#include "state.h"

static unsigned start_timeout(struct fc_ctx *ctx)
{
	return (unsigned)MIN(fc_cfg_num(ctx->cfg, FC_K_START_TIMEOUT), 3600000u);
}

static int record(struct fc_ctx *ctx, const char *mode, const char *unit, char *errbuf,
		  size_t errlen)
{
	if (ctx->dry_run || !ctx->state)
		return 0;
	const char *m = fc_state_get(ctx->state, "start", "mode"),
		   *u = fc_state_get(ctx->state, "start", "unit");
	/* falco now runs what is installed: a pending restart is done */
	if (m && u && streq(m, mode) && streq(u, unit) &&
	    !fc_state_get(ctx->state, "start", "pending"))
		return 0;
	if (fc_state_set(ctx->state, "start", "mode", mode) < 0 ||
	    fc_state_set(ctx->state, "start", "unit", unit) < 0 ||
	    fc_state_set(ctx->state, "start", "pending", NULL) < 0)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	return fc_commit(ctx, errbuf, errlen);
}

static int start_systemd(struct fc_ctx *ctx, const char *unit, char *errbuf, size_t errlen)
{
	const struct fc_systemd_ops *sd = &ctx->ops->systemd;
	struct fc_unit_status st;
	int r;

	r = sd->status(sd->data, unit, &st, errbuf, errlen);
	if (r < 0)
		return r;
	bool active = st.active == FC_UNIT_ACTIVE;
	if (active && !ctx->restart_needed) {
		fc_info(ctx, "%s is running (pid %u)", unit, st.main_pid);
		return record(ctx, "systemd", unit, errbuf, errlen);
	}
	if (ctx->dry_run) {
		fc_info(ctx, "Would %s %s and wait for it to report READY",
			active ? "restart" : "start", unit);
		ctx->changes++;
		return 0;
	}
	/* another driver's unit may still run after a driver switch: stop it first */
	for (int d = 0; d < _FC_DRIVER_MAX; d++) {
		const char *other = fc_driver_unit(d);
		struct fc_unit_status os;
		if (streq(other, unit) || sd->status(sd->data, other, &os, NULL, 0) < 0 ||
		    os.active != FC_UNIT_ACTIVE)
			continue;
		fc_info(ctx, "Stopping %s (switching drivers)", other);
		r = sd->stop(sd->data, other, start_timeout(ctx), errbuf, errlen);
		if (r < 0)
			return r;
	}
	fc_info(ctx, "%s %s and waiting for it to report READY", active ? "Restarting" : "Starting",
		unit);
	r = active ? sd->restart(sd->data, unit, start_timeout(ctx), errbuf, errlen)
		   : sd->start(sd->data, unit, start_timeout(ctx), errbuf, errlen);
	if (r < 0) {
		struct strbuf sb;
		strbuf_init(&sb, 16 << 10);
		(void)sd->status(sd->data, unit, &st, NULL, 0);
		fc_journal_tail(unit, 8, &sb);
		errf_prefix(errbuf, errlen, r, "%s", unit);
		size_t l = strlen(errbuf);
		snprintf(errbuf + l, errlen - l, " (state %s/%s, result %s); last log lines:%s",
			 st.active_state, st.sub_state, st.result[0] ? st.result : "?",
			 sb.len ? strbuf_str(&sb) : " (none)");
		strbuf_done(&sb);
		return r;
	}
	ctx->changes++;
	(void)sd->status(sd->data, unit, &st, NULL, 0);
	fc_info(ctx, "%s is active (pid %u)", unit, st.main_pid);
	return record(ctx, "systemd", unit, errbuf, errlen);
}

static int start_supervised(struct fc_ctx *ctx, const char *unit, char *errbuf, size_t errlen)
{
	char sup[PATH_MAX], pidfile[PATH_MAX], log[PATH_MAX], unit_path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	struct fc_unit_exec ex;
	pid_t pid;
	int r;

	if (fc_path(ctx, FC_SUPERVISOR_PIDFILE, sup) < 0 ||
	    fc_path(ctx, FC_FALCO_PIDFILE, pidfile) < 0 || fc_path(ctx, FC_FALCO_LOG, log) < 0 ||
	    fc_path(ctx, FC_UNIT_DIR, unit_path) < 0)
		return errf(errbuf, errlen, -ENAMETOOLONG, "path too long");
	pid_t running = fc_pidfile_alive(sup);
	if (running && !ctx->restart_needed) {
		fc_info(ctx, "falco is running under falcoctl's supervisor (supervisor pid %d)",
			(int)running);
		return record(ctx, "supervised", unit, errbuf, errlen);
	}
	if (ctx->dry_run) {
		fc_info(ctx,
			"Would %s falco as a daemon supervised by falcoctl (systemd is not PID 1)",
			running ? "restart" : "start");
		ctx->changes++;
		return 0;
	}
	if (running) {
		fc_info(ctx, "Stopping the supervised falco to restart it");
		r = fc_supervise_stop(sup, 15000, errbuf, errlen);
		if (r < 0)
			return r;
	}
	size_t l = strlen(unit_path);
	snprintf(unit_path + l, sizeof(unit_path) - l, "/%s", unit);
	r = read_file(unit_path, 1 << 20, &text, NULL, errbuf, errlen);
	if (r < 0)
		return errf_prefix(errbuf, errlen, r, "the unit gives falco's command line");
	r = fc_unit_exec_parse(text, &ex, errbuf, errlen);
	if (r < 0)
		return r;
	struct fc_supervise_spec spec = {
		.argv = ex.argv,
		.pidfile = pidfile,
		.sup_pidfile = sup,
		.logfile = log,
		.caps = ex.caps,
		.no_new_privs = ex.no_new_privs,
		.ready_timeout_ms = start_timeout(ctx),
		.watchdog_ms = ex.watchdog_ms,
	};
	fc_info(ctx,
		"systemd is not PID 1 here: starting falco as a daemon supervised by falcoctl");
	r = fc_supervise_start(&spec, &pid, errbuf, errlen);
	fc_unit_exec_done(&ex);
	if (r < 0)
		return errf_prefix(errbuf, errlen, r, "supervised falco");
	ctx->changes++;
	fc_info(ctx,
		"falco is ready (pid %d, pidfile %s, log %s); it restarts on failure and stops with "
		"'falcoctl reset'",
		(int)pid, FC_FALCO_PIDFILE, FC_FALCO_LOG);
	return record(ctx, "supervised", unit, errbuf, errlen);
}

int phase_start_run(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	const char *unit = fc_driver_unit(fc_install_driver(ctx));
	if (ctx->state && fc_state_get(ctx->state, "start", "pending")) {
		if (!ctx->restart_needed)
			fc_info(ctx,
				"An earlier run changed what falco reads and did not get to restart it");
		ctx->restart_needed = true;
	}
	if (ctx->ops->systemd.booted(ctx->ops->systemd.data))
		return start_systemd(ctx, unit, errbuf, errlen);
	return start_supervised(ctx, unit, errbuf, errlen);
}

int phase_start_check(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	return phase_start_run(ctx, errbuf, errlen);
}

int phase_start_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	const char *mode = ctx->state ? fc_state_get(ctx->state, "start", "mode") : NULL;
	const char *unit = ctx->state ? fc_state_get(ctx->state, "start", "unit") : NULL;
	int r;

	if (!mode || !unit)
		return 0;
	if (streq(mode, "supervised")) {
		char sup[PATH_MAX];
		if (fc_path(ctx, FC_SUPERVISOR_PIDFILE, sup) < 0)
			return -ENAMETOOLONG;
		if (ctx->dry_run) {
			if (fc_pidfile_alive(sup))
				fc_info(ctx, "Would stop the supervised falco");
			return 0;
		}
		r = fc_supervise_stop(sup, 15000, errbuf, errlen);
		if (r > 0)
			fc_info(ctx, "Stopped the supervised falco");
		/* the unit's RuntimeDirectory=falco: gone with falco (when nothing else is in it) */
		char run[PATH_MAX];
		if (r >= 0 && fc_path(ctx, FC_FALCO_PIDFILE, run) == 0)
			(void)rmdir(dirname(run));
		return r < 0 ? r : 0;
	}
	if (!ctx->ops->systemd.booted(ctx->ops->systemd.data))
		return 0;
	struct fc_unit_status st;
	if (ctx->ops->systemd.status(ctx->ops->systemd.data, unit, &st, NULL, 0) < 0 ||
	    st.active == FC_UNIT_INACTIVE)
		return 0;
	if (ctx->dry_run) {
		fc_info(ctx, "Would stop %s", unit);
		return 0;
	}
	r = ctx->ops->systemd.stop(ctx->ops->systemd.data, unit, start_timeout(ctx), errbuf,
				   errlen);
	if (r < 0)
		return r;
	fc_info(ctx, "Stopped %s", unit);
	/* what systemd created for the unit (StateDirectory=, RuntimeDirectory=) goes too; alert logs stay */
	static const char *const what[] = {"runtime", "state", NULL};
	char e[256];
	if (ctx->ops->systemd.clean &&
	    ctx->ops->systemd.clean(ctx->ops->systemd.data, unit, what, e, sizeof(e)) == 0)
		fc_info(ctx,
			"Removed %s's state and runtime directories (/var/lib/falco, /run/falco); /var/log/falco "
			"is kept",
			unit);
	else
		fc_debug(ctx, "%s", e);
	return 0;
}
