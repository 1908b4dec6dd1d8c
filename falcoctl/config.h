/* SPDX-License-Identifier: Apache-2.0 */
/*
 * falcoctl settings: one table of every setting with its config-file key (falcoctl.yaml, upstream's layout where
 * one exists), its FALCOCTL_* environment variable and its flag. Precedence is flag > environment > file >
 * built-in default, decided per setting; each value remembers where it came from so `driver config` and
 * `driver printenv` can say so. Non-logging: errors come back in errbuf.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fc_key {
	FC_K_ROOT,
	FC_K_CONFIG,
	FC_K_OUTPUT,
	FC_K_VERBOSE,
	FC_K_DRY_RUN,
	FC_K_DRIVER_TYPE,
	FC_K_DRIVER_NAME,
	FC_K_DRIVER_VERSION,
	FC_K_DRIVER_REPOS,
	FC_K_DRIVER_KERNELRELEASE,
	FC_K_DRIVER_KERNELVERSION,
	FC_K_DRIVER_CAFILE,
	FC_K_DRIVER_KEYSDIR,
	FC_K_DRIVER_CACHEDIR,
	FC_K_DRIVER_PLAINHTTP,
	FC_K_DRIVER_HTTPTIMEOUT,
	FC_K_DRIVER_HTTPRETRIES,
	FC_K_DRIVER_MAXSIZE,
	FC_K_INSTALL_FROM,
	FC_K_INSTALL_ASSETS,
	FC_K_INSTALL_SKIPPHASES,
	FC_K_INSTALL_IGNOREPREFLIGHT,
	FC_K_START_TIMEOUT,
	FC_K_VERIFY_URL,
	FC_K_VERIFY_TIMEOUT,
	FC_K_VERIFY_RULE,
	FC_K_VERIFY_MATCH,
	FC_K_VERIFY_COMMAND,
	_FC_K_MAX,
	_FC_K_INVALID = -22,
};

enum fc_kind {
	FC_KIND_STRING,
	FC_KIND_LIST, /* file: a sequence (or one scalar); env/flag: items separated by ';' or ',' */
	FC_KIND_BOOL,
	FC_KIND_UINT,
	FC_KIND_DURATION, /* "500ms", "10s", "2m", "1h"; a bare number is seconds. Stored in ms. */
	FC_KIND_SIZE,	  /* "512", "64KiB", "64MiB", "1GiB" (also K, M, G). Stored in bytes. */
	FC_KIND_ENUM,	  /* a string restricted to choices */
};

enum fc_src {
	FC_SRC_DEFAULT,
	FC_SRC_FILE,
	FC_SRC_ENV,
	FC_SRC_FLAG,
};

struct fc_setting_def {
	const char *
		key; /* dotted falcoctl.yaml path (matched case-insensitively); NULL = not in the file */
	const char *env;  /* FALCOCTL_*; NULL = none */
	const char *flag; /* long flag without "--"; NULL = none */
	enum fc_kind kind;
	const char *defval;  /* as a string; NULL = unset */
	const char *choices; /* FC_KIND_ENUM: "a|b|c"; FC_KIND_LIST: allowed items or NULL */
	const char *help;
};

extern const struct fc_setting_def fc_setting_defs[_FC_K_MAX];

struct fc_settings {
	char *str[_FC_K_MAX];	 /* normalised string form; NULL = unset */
	char **list[_FC_K_MAX];	 /* FC_KIND_LIST: parsed items */
	uint64_t num[_FC_K_MAX]; /* BOOL (0/1), UINT, DURATION (ms), SIZE (bytes) */
	enum fc_src src[_FC_K_MAX];
	char *origin
		[_FC_K_MAX]; /* "flag --type", "env FALCOCTL_DRIVER_TYPE", "/etc/falcoctl/falcoctl.yaml:12" */
	char *config_path; /* the file actually read, or NULL */
};

/* Applies the defaults. Returns 0 or -ENOMEM. Free with fc_settings_done(). */
int fc_settings_init(struct fc_settings *s);
void fc_settings_done(struct fc_settings *s);

/*
 * Sets key from src if src ranks at least as high as the current source. The value is validated for the
 * setting's kind ("origin" names where it came from in messages). Returns 0, 1 when ignored because a
 * higher source already set it, -EINVAL with text.
 */
int fc_settings_set(struct fc_settings *s, enum fc_key key, const char *value, enum fc_src src,
		    const char *origin, char *errbuf, size_t errlen);

/* Reads FALCOCTL_* variables from env (a NULL-terminated "K=V" array, like environ). */
int fc_settings_load_env(struct fc_settings *s, char *const *env, char *errbuf, size_t errlen);

/*
 * Reads falcoctl.yaml at path. missing_ok: a missing file is not an error (returns 0). Unknown keys are
 * ignored (the file is shared with upstream's layout). Returns 0, -ENOENT, -EINVAL with "path:line:col: …".
 */
int fc_settings_load_file(struct fc_settings *s, const char *path, bool missing_ok, char *errbuf,
			  size_t errlen);

/* Finds a setting by flag name ("type"), by key ("driver.type") or by env name. _FC_K_INVALID if none. */
int fc_key_from_flag(const char *flag);
int fc_key_from_path(const char *key);

static inline const char *fc_cfg_str(const struct fc_settings *s, enum fc_key k)
{
	return s->str[k];
}
static inline char *const *fc_cfg_list(const struct fc_settings *s, enum fc_key k)
{
	static char *const empty[] = {NULL};
	return s->list[k] ? s->list[k] : empty;
}
static inline uint64_t fc_cfg_num(const struct fc_settings *s, enum fc_key k)
{
	return s->num[k];
}
static inline bool fc_cfg_bool(const struct fc_settings *s, enum fc_key k)
{
	return s->num[k] != 0;
}
const char *fc_src_to_string(enum fc_src src);

/*
 * Sets driver.type in the YAML text of a falcoctl.yaml, keeping every other line (comments, unknown keys) as
 * written: replaces the existing `type:` entry of the top-level `driver:` map, inserts one, or appends a
 * `driver:` map. types is a NULL-terminated list. *ret is owned by the caller. Returns 0, -EINVAL (the file
 * does not parse or uses a flow-style driver map, with text), -ENOMEM.
 */
int fc_config_set_driver_type(const char *text, size_t len, char *const *types, char **ret,
			      char *errbuf, size_t errlen);

/* The commented default falcoctl.yaml written when none exists. Owned by the caller. */
char *fc_config_default_text(char *const *types);
