/* SPDX-License-Identifier: Apache-2.0 */
/* Generic evt.* fields: timestamps in several renderings, event number, host name. Source-agnostic. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "fields_generic.h"

enum gen_field {
	GEN_TIME,
	GEN_TIME_S,
	GEN_TIME_ISO8601,
	GEN_DATETIME,
	GEN_DATETIME_S,
	GEN_RAWTIME,
	GEN_RAWTIME_S,
	GEN_RAWTIME_NS,
	GEN_NUM,
	GEN_HOSTNAME,
};

size_t fld_time_local(uint64_t ts, bool with_date, bool with_ns, char *buf, size_t size)
{
	time_t sec = (time_t)(ts / 1000000000u);
	unsigned ns = (unsigned)(ts % 1000000000u);
	struct tm tm;
	size_t n = 0;
	int r;

	if (!localtime_r(&sec, &tm))
		memset(&tm, 0, sizeof(tm));
	if (with_date) {
		r = snprintf(buf, size, "%04d-%02d-%02d ", tm.tm_year + 1900, tm.tm_mon + 1,
			     tm.tm_mday);
		n = r > 0 ? MIN((size_t)r, size - 1) : 0;
	}
	if (with_ns)
		r = snprintf(buf + n, size - n, "%02d:%02d:%02d.%09u", tm.tm_hour, tm.tm_min,
			     tm.tm_sec, ns);
	else
		r = snprintf(buf + n, size - n, "%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	return r > 0 ? MIN(n + (size_t)r, size - 1) : n;
}

size_t fld_time_iso8601(uint64_t ts, char *buf, size_t size)
{
	time_t sec = (time_t)(ts / 1000000000u);
	unsigned ns = (unsigned)(ts % 1000000000u);
	struct tm tm;

	if (!gmtime_r(&sec, &tm))
		memset(&tm, 0, sizeof(tm));
	int r = snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%09u+0000", tm.tm_year + 1900,
			 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
	return r > 0 ? MIN((size_t)r, size - 1) : 0;
}

static char hostname[256];
static pthread_once_t hostname_once = PTHREAD_ONCE_INIT;

static void hostname_init(void)
{
	if (gethostname(hostname, sizeof(hostname) - 1) < 0)
		hostname[0] = '\0';
	hostname[sizeof(hostname) - 1] = '\0';
}

static int set_string(struct fld_ctx *ctx, struct value *out, const char *s, size_t n, bool copy)
{
	if (copy) {
		s = arena_strndup(ctx->arena, s, n);
		if (!s)
			return -ENOMEM;
	}
	*out = (struct value){.type = FT_STRING, .len = (uint32_t)n, .str = s};
	return 1;
}

static int extract_generic(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct evt *e = ctx->evt;
	char buf[96];
	size_t n;

	switch ((enum gen_field)fi->def->data) {
	case GEN_TIME:
	case GEN_TIME_S:
	case GEN_DATETIME:
	case GEN_DATETIME_S: {
		enum gen_field f = (enum gen_field)fi->def->data;
		n = fld_time_local(e->ts, f == GEN_DATETIME || f == GEN_DATETIME_S,
				   f == GEN_TIME || f == GEN_DATETIME, buf, sizeof(buf));
		return set_string(ctx, out, buf, n, true);
	}
	case GEN_TIME_ISO8601:
		n = fld_time_iso8601(e->ts, buf, sizeof(buf));
		return set_string(ctx, out, buf, n, true);
	case GEN_RAWTIME:
		*out = (struct value){.type = FT_ABSTIME, .u64 = e->ts};
		return 1;
	case GEN_RAWTIME_S:
		*out = (struct value){.type = FT_ABSTIME, .u64 = e->ts / 1000000000u};
		return 1;
	case GEN_RAWTIME_NS:
		*out = (struct value){.type = FT_ABSTIME, .u64 = e->ts % 1000000000u};
		return 1;
	case GEN_NUM:
		*out = (struct value){.type = FT_U64, .u64 = e->num};
		return 1;
	case GEN_HOSTNAME:
		pthread_once(&hostname_once, hostname_init);
		return set_string(ctx, out, hostname, strlen(hostname), false);
	}
	return 0;
}

int fld_extract_const_string(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const char *s = (const char *)fi->def->data;

	if (!s)
		return 0;
	*out = (struct value){.type = FT_STRING, .len = (uint32_t)strlen(s), .str = s};
	return 1;
}

#define GEN(n, t, f, d)                                                                \
	{                                                                              \
		.name = n, .type = t, .desc = d, .extract = extract_generic, .data = f \
	}

static const struct fld_def generic_defs[] = {
	GEN("evt.time", FT_STRING, GEN_TIME,
	    "Event timestamp as a time string that includes the nanosecond part (local time, HH:MM:SS.nnnnnnnnn)."),
	GEN("evt.time.s", FT_STRING, GEN_TIME_S,
	    "Event timestamp as a time string with no nanoseconds (HH:MM:SS)."),
	GEN("evt.time.iso8601", FT_STRING, GEN_TIME_ISO8601,
	    "Event timestamp in ISO 8601 format, including nanoseconds and time zone offset (in UTC)."),
	GEN("evt.datetime", FT_STRING, GEN_DATETIME,
	    "Event timestamp as a time string that includes the date (local time, YYYY-MM-DD HH:MM:SS.nnnnnnnnn)."),
	GEN("evt.datetime.s", FT_STRING, GEN_DATETIME_S,
	    "Event timestamp as a datetime string with no nanoseconds (YYYY-MM-DD HH:MM:SS)."),
	GEN("evt.rawtime", FT_ABSTIME, GEN_RAWTIME,
	    "Absolute event timestamp, i.e. nanoseconds from epoch."),
	GEN("evt.rawtime.s", FT_ABSTIME, GEN_RAWTIME_S,
	    "Integer part of the event timestamp (e.g. seconds since epoch)."),
	GEN("evt.rawtime.ns", FT_ABSTIME, GEN_RAWTIME_NS,
	    "Fractional part of the absolute event timestamp."),
	GEN("evt.num", FT_U64, GEN_NUM, "Event number."),
	GEN("evt.hostname", FT_STRING, GEN_HOSTNAME, "The hostname of the underlying host."),
};

const struct fld_table fld_table_generic = {
	.class_name = "evt",
	.desc = "Generic event fields. Note that for syscall events they are replaced by the syscall class.",
	.defs = generic_defs,
	.n = ARRAY_SIZE(generic_defs),
};
