/* SPDX-License-Identifier: Apache-2.0 */
/*
 * syslog_output: syslog(3), as upstream. Falco's priorities are syslog's levels in the same order (Emergency = 0 ...
 * Debug = 7), so the rule's priority is the message's level; facility and ident come from falco's openlog()
 * (LOG_USER, "falco"). glibc's syslog() is thread-safe and reconnects to /dev/log by itself; it reports no
 * errors, so this sink never fails. A syslog daemon that stops reading blocks this worker only.
 */
#include <stdlib.h>
#include <syslog.h>

#include "out.h"

static int syslog_write(struct out_sink *s, const struct out_alert *a, char *errbuf, size_t errlen)
{
	int level =
		a->priority >= LOG_EMERG && a->priority <= LOG_DEBUG ? a->priority : LOG_WARNING;

	syslog(level, "%s", a->line);
	return 0;
}

static void syslog_close(struct out_sink *s)
{
	free(s);
}

static const struct out_sink_ops syslog_ops = {
	.name = "syslog",
	.write = syslog_write,
	.close = syslog_close,
};

struct out_sink *out_syslog_new(void)
{
	struct out_sink *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->ops = &syslog_ops;
	return s;
}
