/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "sdl.h"

/* sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio, NULL) without a code location (msg < 4096 bytes) */
static void journal_send(const char *msg, int prio)
{
	char m[4200], p[32];
	int mn = snprintf(m, sizeof(m), "MESSAGE=%s", msg);
	int pn = snprintf(p, sizeof(p), "PRIORITY=%d", prio);
	struct iovec iov[2] = {
		{.iov_base = m, .iov_len = MIN((size_t)mn, sizeof(m) - 1)},
		{.iov_base = p, .iov_len = (size_t)pn},
	};
	(void)sdl_journal_sendv(iov, 2);
}

static enum log_level cur_level = LOG_LEVEL_INFO;
static unsigned cur_targets = LOG_TARGET_STDERR;
static bool stderr_timestamps = true;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[_LOG_LEVEL_MAX] = {
	[LOG_LEVEL_ERR] = "error", [LOG_LEVEL_WARN] = "warning", [LOG_LEVEL_NOTICE] = "notice",
	[LOG_LEVEL_INFO] = "info", [LOG_LEVEL_DEBUG] = "debug",
};

static const int syslog_prio[_LOG_LEVEL_MAX] = {
	[LOG_LEVEL_ERR] = LOG_ERR,	 [LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_NOTICE] = LOG_NOTICE, [LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
};

int log_level_from_string(const char *s)
{
	for (int i = 0; i < _LOG_LEVEL_MAX; i++)
		if (strcasecmp(s, level_names[i]) == 0)
			return i;
	/* upstream falco.yaml also accepts these spellings */
	if (strcasecmp(s, "err") == 0 || strcasecmp(s, "critical") == 0 ||
	    strcasecmp(s, "alert") == 0 || strcasecmp(s, "emergency") == 0)
		return LOG_LEVEL_ERR;
	if (strcasecmp(s, "warn") == 0)
		return LOG_LEVEL_WARN;
	return _LOG_LEVEL_INVALID;
}

const char *log_level_to_string(enum log_level l)
{
	if ((int)l < 0 || l >= _LOG_LEVEL_MAX)
		return NULL;
	return level_names[l];
}

void log_set_level(enum log_level l)
{
	cur_level = l;
}

enum log_level log_get_level(void)
{
	return cur_level;
}

void log_set_targets(unsigned targets, const char *ident)
{
	if ((targets & LOG_TARGET_SYSLOG) && !(cur_targets & LOG_TARGET_SYSLOG))
		openlog(ident ? ident : "falco", LOG_PID | LOG_NDELAY, LOG_USER);
	cur_targets = targets;
}

void log_set_stderr_timestamps(bool on)
{
	stderr_timestamps = on;
}

void log_msg(enum log_level l, const char *fmt, ...)
{
	char msg[4096];
	va_list ap;

	if (l > cur_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	pthread_mutex_lock(&log_lock);
	if (cur_targets & LOG_TARGET_STDERR) {
		if (stderr_timestamps) {
			/* Same shape as upstream falco's stderr log lines: "Mon Nov 23 07:46:00 2026: msg". */
			char ts[64];
			time_t now = time(NULL);
			struct tm tm;
			localtime_r(&now, &tm);
			strftime(ts, sizeof(ts), "%a %b %e %H:%M:%S %Y", &tm);
			fprintf(stderr, "%s: %s\n", ts, msg);
		} else {
			fprintf(stderr, "%s\n", msg);
		}
		fflush(stderr);
	}
	if (cur_targets & LOG_TARGET_SYSLOG)
		syslog(syslog_prio[l], "%s", msg);
	if (cur_targets & LOG_TARGET_JOURNAL)
		journal_send(msg, syslog_prio[l]);
	pthread_mutex_unlock(&log_lock);
}
