/* SPDX-License-Identifier: Apache-2.0 */
/*
 * falcoctl's shared context: resolved settings, the reporter (the one place that prints), the state file and an
 * ops table for every side effect (filesystem, systemd, kmod, HTTP, kernel probes, processes, clock). Commands
 * build one struct fc_ctx and hand it to the phase runner; tests build it with recording or failing ops.
 * Nothing here depends on falco/: falcoctl shares only common/ with the daemon.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <limits.h>
#include <sys/types.h>

#include "common/macro.h"

struct fc_settings;
struct fc_state;
struct strbuf;

/* Fixed locations, all relative to --root. */
#define FC_STATE_DIR	      "/var/lib/falcoctl"
#define FC_STATE_FILE	      FC_STATE_DIR "/state.json"
#define FC_LOCK_FILE	      FC_STATE_DIR "/lock"
#define FC_DEFAULT_CONFIG     SYSCONFDIR "/falcoctl/falcoctl.yaml"
#define FC_FALCO_BIN	      "/usr/bin/falco"
#define FC_FALCOCTL_BIN	      "/usr/bin/falcoctl"
#define FC_FALCO_CONF_DIR     "/etc/falco"
#define FC_FALCO_YAML	      FC_FALCO_CONF_DIR "/falco.yaml"
#define FC_LOCAL_RULES	      FC_FALCO_CONF_DIR "/falco_rules.local.yaml"
#define FC_UNIT_DIR	      "/etc/systemd/system"
#define FC_RUN_DIR	      "/run/falcoctl"
#define FC_FALCO_PIDFILE      "/run/falco/falco.pid"
#define FC_SUPERVISOR_PIDFILE FC_RUN_DIR "/supervisor.pid"
#define FC_FALCO_LOG	      "/var/log/falco/falco.log"
/* Suffix of the file holding a new default next to a file the user changed. */
#define FC_NEW_SUFFIX ".falcoctl-new"

enum fc_driver_type {
	FC_DRIVER_MODERN_EBPF,
	FC_DRIVER_KMOD,
	_FC_DRIVER_MAX,
	_FC_DRIVER_INVALID = -22,
};

const char *fc_driver_type_to_string(enum fc_driver_type t);
/* "modern_ebpf" (also "modern-bpf", "modern_bpf"), "kmod". Returns _FC_DRIVER_INVALID otherwise. */
int fc_driver_type_from_string(const char *s);
/* The unit that runs falco on that driver ("falco-modern-bpf.service", "falco-kmod.service"). */
const char *fc_driver_unit(enum fc_driver_type t);

/* ---- reporter ---------------------------------------------------------------------------------------- */

enum fc_output {
	FC_OUTPUT_TEXT,
	FC_OUTPUT_JSON,
	_FC_OUTPUT_MAX,
	_FC_OUTPUT_INVALID = -22,
};

enum fc_level {
	FC_ERROR,
	FC_WARNING,
	FC_INFO,
	FC_DEBUG,
};

/*
 * The one reporter. Text mode prints kubeadm-style lines: "[phase] message" for progress, "\t[WARNING Name]:
 * message" for warnings, errors on err. JSON mode prints one object per line on out:
 * {"time":"…","level":"info","phase":"config","msg":"…"} plus optional "check", "path" and "diff" keys.
 */
struct fc_reporter {
	FILE *out;
	FILE *err;
	enum fc_output mode;
	int verbosity; /* 0 = info, 1+ = debug */
	unsigned nwarnings;
	unsigned nerrors;
};

void fc_reporter_init(struct fc_reporter *r, FILE *out, FILE *err, enum fc_output mode,
		      int verbosity);
void fc_report(struct fc_reporter *r, enum fc_level lvl, const char *phase, const char *fmt, ...)
	_printf_(4, 5);
/* A named warning ("\t[WARNING Name]: msg"), as kubeadm's preflight prints them. */
void fc_report_check(struct fc_reporter *r, enum fc_level lvl, const char *phase, const char *check,
		     const char *fmt, ...) _printf_(5, 6);
/* A dry-run diff for path, indented under the phase line. */
void fc_report_diff(struct fc_reporter *r, const char *phase, const char *path, const char *diff);
/* A raw line on out in text mode (help, printenv); in JSON mode an object {"key": key, "value": value}. */
void fc_report_kv(struct fc_reporter *r, const char *key, const char *value);
/* Plain text on out, unchanged in both modes (help and tables). */
void fc_report_raw(struct fc_reporter *r, const char *text);

/* ---- ops tables: every side effect goes through one of these --------------------------------------- */

struct fc_fs_ops {
	/* Atomic replace: temp file in the same directory, write, fchmod, fchown (uid/gid -1 = keep), fsync,
	 * rename, fsync of the directory. */
	int (*write_file)(void *data, const char *path, const void *buf, size_t len, mode_t mode,
			  uid_t uid, gid_t gid, char *errbuf, size_t errlen);
	int (*mkdir)(void *data, const char *path, mode_t mode, char *errbuf, size_t errlen);
	int (*symlink)(void *data, const char *target, const char *path, char *errbuf,
		       size_t errlen);
	int (*unlink)(void *data, const char *path, char *errbuf, size_t errlen);
	int (*rmdir)(void *data, const char *path, char *errbuf, size_t errlen);
	int (*chmod)(void *data, const char *path, mode_t mode, char *errbuf, size_t errlen);
	void *data;
};

enum fc_unit_active {
	FC_UNIT_UNKNOWN,
	FC_UNIT_INACTIVE,
	FC_UNIT_ACTIVE,
	FC_UNIT_ACTIVATING,
	FC_UNIT_DEACTIVATING,
	FC_UNIT_FAILED,
};

struct fc_unit_status {
	enum fc_unit_active active;
	char active_state[32];
	char sub_state[32];
	char result[32];
	char unit_file_state[32];
	uint32_t main_pid;
	bool need_reload; /* NeedDaemonReload: the unit file changed since systemd loaded it */
};

/* sd-bus, one function per verb; each returns 0 or -errno with text. */
struct fc_systemd_ops {
	bool (*booted)(void *data);
	int (*daemon_reload)(void *data, char *errbuf, size_t errlen);
	/* Start/restart/stop and wait for the job (Type=notify: until READY=1) at most timeout_ms. */
	int (*start)(void *data, const char *unit, unsigned timeout_ms, char *errbuf,
		     size_t errlen);
	int (*restart)(void *data, const char *unit, unsigned timeout_ms, char *errbuf,
		       size_t errlen);
	int (*stop)(void *data, const char *unit, unsigned timeout_ms, char *errbuf, size_t errlen);
	int (*status)(void *data, const char *unit, struct fc_unit_status *ret, char *errbuf,
		      size_t errlen);
	/* CleanUnit: remove the unit's RuntimeDirectory=/StateDirectory=/… ("runtime", "state", "logs"). */
	int (*clean)(void *data, const char *unit, const char *const *what, char *errbuf,
		     size_t errlen);
	void *data;
};

enum fc_kmod_state {
	FC_KMOD_ABSENT,
	FC_KMOD_LIVE,
	FC_KMOD_COMING,
	FC_KMOD_GOING,
	FC_KMOD_BUILTIN,
};

/* libkmod. */
struct fc_kmod_ops {
	/* Whether the running kernel can load modules at all (CONFIG_MODULES): false with a reason in errbuf. */
	bool (*supported)(void *data, char *errbuf, size_t errlen);
	int (*insert)(void *data, const char *path, const char *options, char *errbuf,
		      size_t errlen);
	int (*remove)(void *data, const char *name, char *errbuf, size_t errlen);
	int (*state)(void *data, const char *name, enum fc_kmod_state *ret, char *errbuf,
		     size_t errlen);
	void *data;
};

struct fc_http_req {
	const char *url;
	const char *ca_file; /* NULL = system store */
	bool allow_http;     /* default: https only */
	unsigned timeout_s;  /* whole transfer */
	unsigned retries;    /* extra attempts on transient failures, with exponential backoff */
	unsigned backoff_ms; /* first backoff (doubles, capped at 8 s); 0 = 1 s */
	uint64_t max_size;   /* body limit */
	/* long transfers: called at most once a second with the bytes so far and the total (0 = unknown) */
	void (*progress)(void *ud, uint64_t done, uint64_t total);
	void *progress_ud;
};

/* libcurl. get() returns 0 on 2xx, -ENOENT on 404/410, -EFBIG over max_size, -EIO/-EPROTO/-ETIMEDOUT else. */
struct fc_http_ops {
	int (*get)(void *data, const struct fc_http_req *req, char **ret_body, size_t *ret_len,
		   char *errbuf, size_t errlen);
	void *data;
};

struct fc_uname {
	char release[128];
	char version[256];
	char machine[80];
};

/* Kernel facts and live probes. Each probe returns 1 supported, 0 not supported (reason in errbuf), -errno. */
struct fc_probe_ops {
	int (*uname)(void *data, struct fc_uname *ret);
	int (*btf)(void *data, char *errbuf, size_t errlen);
	int (*ringbuf)(void *data, char *errbuf, size_t errlen);
	int (*tracing)(void *data, char *errbuf, size_t errlen);
	int (*tp_btf_attach)(void *data, char *errbuf, size_t errlen);
	/* Effective capability mask (bit n = capability n). */
	int (*capabilities)(void *data, uint64_t *ret);
	/* 1 free, 0 in use. */
	int (*port_free)(void *data, uint16_t port, char *errbuf, size_t errlen);
	void *data;
};

/* Running programs (falco --version, --dry-run, the self-test trigger). */
struct fc_proc_ops {
	/* Runs argv, waits at most timeout_ms, captures up to 64 KiB of stdout+stderr in *ret_out (may be NULL).
	 * Returns the exit status (0..255), 128+signal, or -errno when it could not run. */
	int (*run)(void *data, const char *const *argv, unsigned timeout_ms, char **ret_out,
		   char *errbuf, size_t errlen);
	void *data;
};

struct fc_clock_ops {
	uint64_t (*now_ms)(void *data); /* monotonic */
	void (*sleep_ms)(void *data, unsigned ms);
	void *data;
};

struct fc_ops {
	struct fc_fs_ops fs;
	struct fc_systemd_ops systemd;
	struct fc_kmod_ops kmod;
	struct fc_http_ops http;
	struct fc_probe_ops probe;
	struct fc_proc_ops proc;
	struct fc_clock_ops clock;
};

/* The production ops (real files, sd-bus, libkmod, libcurl, libbpf probes). Borrowed, static. */
const struct fc_ops *fc_real_ops(void);

/* The parts, for tests that replace only some of them. */
extern const struct fc_fs_ops fc_fs_real;
extern const struct fc_systemd_ops fc_systemd_real;
extern const struct fc_kmod_ops fc_kmod_real;
extern const struct fc_http_ops fc_http_real;
extern const struct fc_probe_ops fc_probe_real;
extern const struct fc_proc_ops fc_proc_real;
extern const struct fc_clock_ops fc_clock_real;

/* ---- context ------------------------------------------------------------------------------------------ */

struct fc_ctx {
	struct fc_settings *cfg;  /* borrowed */
	struct fc_reporter *rep;  /* borrowed */
	const struct fc_ops *ops; /* borrowed */
	struct fc_state *state;	  /* owned by the command; NULL until loaded */
	const char *root;	  /* "/" or an absolute directory; borrowed from cfg */
	bool host;		  /* root is "/": phases may act on the running host */
	bool dry_run;
	const char *phase;	/* name of the phase running (for messages) */
	unsigned changes;	/* actions performed (or, in dry-run, that would be) in this run */
	unsigned phase_changes; /* the same, for the current phase */
	bool restart_needed; /* something falco reads changed: start restarts instead of starting */

	/* Discovered during the run. */
	char self_exe[PATH_MAX]; /* this falcoctl, resolved */
	char assets[PATH_MAX -
		    512]; /* where falco/falco.yaml, rules/, systemd/ come from ("" = none) */
	int driver;	  /* enum fc_driver_type picked by driver/select, -1 before */
	char falco_version[64];
	uint64_t t0_ms; /* monotonic start of the command (for the install-to-first-alert time) */
};

/*
 * Fills ctx with borrowed pointers and derived values (root, host, dry_run). Does not load the state.
 * Returns 0 or -EINVAL (root not absolute) with text.
 */
int fc_ctx_init(struct fc_ctx *ctx, struct fc_settings *cfg, struct fc_reporter *rep,
		const struct fc_ops *ops, char *errbuf, size_t errlen);
void fc_ctx_done(struct fc_ctx *ctx);

/*
 * Something falco reads changed: start restarts it. On the running host the need is also recorded in the state
 * (start.pending), so a run killed before its start phase still restarts falco when re-run.
 */
void fc_mark_restart(struct fc_ctx *ctx);

/* Joins ctx->root and an absolute path into out (PATH_MAX). Returns 0 or -EINVAL/-ENAMETOOLONG. */
int fc_path(const struct fc_ctx *ctx, const char *path, char *out);

/* Reporter shortcuts using ctx->phase. */
#define fc_info(ctx, ...)  fc_report((ctx)->rep, FC_INFO, (ctx)->phase, __VA_ARGS__)
#define fc_debug(ctx, ...) fc_report((ctx)->rep, FC_DEBUG, (ctx)->phase, __VA_ARGS__)
#define fc_warn(ctx, check, ...) \
	fc_report_check((ctx)->rep, FC_WARNING, (ctx)->phase, (check), __VA_ARGS__)

/* ---- small helpers (util.c) ----------------------------------------------------------------------------- */

/* Lower-case hex SHA-256 of a buffer / of a file (max bytes). */
void fc_sha256_hex(const void *data, size_t len, char out[65]);
int fc_sha256_file(const char *path, uint64_t max, char out[65], char *errbuf, size_t errlen);
/* Splits a list on ',' and ';' into a NULL-terminated array of trimmed, non-empty strings; caller frees with
 * fc_strv_free(). NULL on ENOMEM. */
char **fc_split_list(const char *s);
char **fc_strv_free(char **v);
size_t fc_strv_len(char *const *v);
bool fc_strv_contains(char *const *v, const char *s);
char **fc_strv_copy(char *const *v);
/* Parses "1.2.3-x" style versions into up to three numbers; 0 or -EINVAL. */
int fc_parse_version(const char *s, unsigned ret[3]);
/* Resolves /proc/self/exe. */
int fc_self_exe(char *out, size_t outlen);
