/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process-wide logging for the few places allowed to log (main.c, daemon.c, cmd_*.c, the phase runner).
 * Libraries return errors in buffers instead. Targets: stderr (with a timestamp like upstream falco), syslog,
 * and the systemd journal; several may be active at once.
 */
#pragma once

#include <stdbool.h>

#include "macro.h"

enum log_level {
	LOG_LEVEL_ERR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_NOTICE,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	_LOG_LEVEL_MAX,
	_LOG_LEVEL_INVALID = -22,
};

enum log_target {
	LOG_TARGET_STDERR = 1 << 0,
	LOG_TARGET_SYSLOG = 1 << 1,
	LOG_TARGET_JOURNAL = 1 << 2,
};

/* Returns the level for "error", "warning", "notice", "info", "debug" (upstream's names; case-insensitive). */
int log_level_from_string(const char *s);
const char *log_level_to_string(enum log_level l);

void log_set_level(enum log_level l);
enum log_level log_get_level(void);
/* Bitmask of enum log_target. The ident is used for syslog/journal (e.g. "falco"). */
void log_set_targets(unsigned targets, const char *ident);
/* Whether stderr lines carry a timestamp prefix (falco: yes; falcoctl: no). */
void log_set_stderr_timestamps(bool on);

void log_msg(enum log_level l, const char *fmt, ...) _printf_(2, 3);

#define log_err(...)	log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
