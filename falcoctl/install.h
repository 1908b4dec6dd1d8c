/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The `install falco` phases and what they share: where the files to install come from (assets), the falco
 * command line (read from the installed unit, so systemd and the supervised fallback run the same thing), the
 * supervised-daemon fallback for hosts where systemd is not PID 1, and the self-test. Every phase has the
 * signature of fc_phase_fn and reports through ctx->rep.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fc.h"

/* Phase functions (phase_<name>_run/_check/_undo). */
int phase_preflight_run(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_userspace_run(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_userspace_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_driver_select_run(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_driver_fetch_run(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_driver_fetch_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_driver_load_run(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_driver_load_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_config_run(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_config_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_rules_run(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_rules_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_units_run(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_units_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_start_run(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_start_check(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_start_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_verify_run(struct fc_ctx *ctx, char *errbuf, size_t errlen);
int phase_verify_check(struct fc_ctx *ctx, char *errbuf, size_t errlen);

/* ---- assets ------------------------------------------------------------------------------------------- */

/*
 * Finds the folder holding falco/falco.yaml, rules/ and systemd/: --assets; else <prefix>/share/falcoctl next
 * to an installed falcoctl (<prefix>/bin/falcoctl); else the checkout around a build tree's falcoctl
 * (build/bin/falcoctl or build/debug/bin/falcoctl). Fills ctx->assets. 0 or -ENOENT with text.
 */
int fc_assets_find(struct fc_ctx *ctx, char *errbuf, size_t errlen);

/* The falco binary to install: --from, else the falco beside this falcoctl. 0 or -ENOENT with text. */
int fc_falco_source(struct fc_ctx *ctx, char *out, size_t outlen, char *errbuf, size_t errlen);

/* "Falco version: 0.1.0 (abc)" -> "0.1.0" from `falco --version`; "" when it cannot be run. */
void fc_falco_version(struct fc_ctx *ctx, const char *falco, char *out, size_t outlen);

/* Whether `falco --help` mentions flag (e.g. "--dry-run", "--check-driver"). */
bool fc_falco_has_flag(struct fc_ctx *ctx, const char *falco, const char *flag);

/* The driver type install works with: ctx->driver, else the state, else the first allowed type. */
int fc_install_driver(struct fc_ctx *ctx);

/* ---- the falco command line, from the installed unit --------------------------------------------------- */

struct fc_unit_exec {
	char *argv[32];	      /* ExecStart= split on blanks (our units use no quoting); owned */
	uint64_t caps;	      /* CapabilityBoundingSet= as a mask; all ones when absent */
	bool no_new_privs;    /* NoNewPrivileges=yes */
	unsigned watchdog_ms; /* WatchdogSec=; 0 = none */
};

/*
 * Parses a unit file's ExecStart=, CapabilityBoundingSet=, NoNewPrivileges= and WatchdogSec= (N, Ns, Nms, Nmin).
 * 0 or -EINVAL with text.
 */
int fc_unit_exec_parse(const char *text, struct fc_unit_exec *ret, char *errbuf, size_t errlen);
void fc_unit_exec_done(struct fc_unit_exec *e);

/* [Install] section of a unit: WantedBy=, RequiredBy=, Alias=, Also= (space-separated lists, owned). */
struct fc_unit_install {
	char **wanted_by;
	char **required_by;
	char **alias;
	char **also;
};
int fc_unit_install_parse(const char *text, struct fc_unit_install *ret);
void fc_unit_install_done(struct fc_unit_install *i);

/* ---- supervised daemon (no systemd as PID 1) ------------------------------------------------------------ */

struct fc_supervise_spec {
	char *const *argv;	 /* falco's command line */
	const char *pidfile;	 /* falco's pid */
	const char *sup_pidfile; /* the supervisor's pid */
	const char *logfile;	 /* falco's stdout and stderr, appended */
	uint64_t caps;		 /* capability bounding set for falco */
	bool no_new_privs;
	unsigned ready_timeout_ms; /* how long to wait for READY=1 */
	unsigned
		watchdog_ms; /* WatchdogSec=: falco gets WATCHDOG_USEC and is aborted when it stops pinging */
};

/*
 * Starts a supervisor (a forked falcoctl, detached with setsid) that runs falco with NOTIFY_SOCKET pointing at
 * itself, waits for READY=1 like systemd's Type=notify, aborts it when it stops sending WATCHDOG=1 (WatchdogSec=),
 * restarts falco when it fails (Restart=on-failure, at most 5 times a minute) and stops it on SIGTERM. Returns once falco is ready: 0 with falco's pid, or -errno
 * with what went wrong (falco's last log lines included).
 */
int fc_supervise_start(const struct fc_supervise_spec *spec, pid_t *ret_pid, char *errbuf,
		       size_t errlen);
/* Stops the supervisor named by sup_pidfile (and so falco). 1 stopped, 0 none running, -errno. */
int fc_supervise_stop(const char *sup_pidfile, unsigned timeout_ms, char *errbuf, size_t errlen);
/* The live pid in pidfile, or 0. */
pid_t fc_pidfile_alive(const char *pidfile);

/* ---- self-test ---------------------------------------------------------------------------------------------- */

struct fc_selftest {
	const char *rule;	 /* the rule the action must trigger */
	const char *match;	 /* text the alert contains (journal MESSAGE or log line) */
	const char *const *argv; /* the harmless action */
};

/* The self-test in use: the built-in one with falcoctl.yaml's verify.* overrides applied. */
void fc_selftest_get(struct fc_ctx *ctx, struct fc_selftest *ret, const char **argv_storage,
		     size_t nstorage);

/* ---- journal (systemd hosts) ---------------------------------------------------------------------------- */

struct strbuf;
/* Appends the last n journal lines of unit to out ("\n    line" each). 0 or -errno. */
int fc_journal_tail(const char *unit, unsigned n, struct strbuf *out);
/*
 * Waits at most timeout_ms for a journal entry of unit (or with SYSLOG_IDENTIFIER=falco) written after
 * since_usec (CLOCK_REALTIME) whose MESSAGE or FALCO_RULE contains one of match's '|'-separated
 * alternatives. 1 found (the message in out),
 * 0 timed out, -errno.
 */
int fc_journal_wait(const char *unit, uint64_t since_usec, const char *match, unsigned timeout_ms,
		    char *out, size_t outlen);

/* Whether text contains any of the '|'-separated alternatives in alts. */
bool fc_match_any(const char *text, const char *alts);
