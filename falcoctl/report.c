/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one reporter: every line falcoctl shows goes through here, as kubeadm-style text or as JSON lines.
 * Phases never printf.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/time.h>

#include "common/strbuf.h"
#include "fc.h"

static const char *const level_names[] = {
	[FC_ERROR] = "error",
	[FC_WARNING] = "warning",
	[FC_INFO] = "info",
	[FC_DEBUG] = "debug",
};

void fc_reporter_init(struct fc_reporter *r, FILE *out, FILE *err, enum fc_output mode,
		      int verbosity)
{
	memset(r, 0, sizeof(*r));
	r->out = out;
	r->err = err;
	r->mode = mode;
	r->verbosity = verbosity;
}

static void json_time(struct strbuf *sb)
{
	struct timeval tv;
	struct tm tm;
	char ts[64];
	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	strbuf_appendf(sb, "{\"time\":\"%s.%06ldZ\"", ts, (long)tv.tv_usec);
}

static void json_kv(struct strbuf *sb, const char *k, const char *v)
{
	if (!v)
		return;
	strbuf_appendf(sb, ",\"%s\":", k);
	strbuf_append_json_str(sb, v, strlen(v));
}

static void emit_json(struct fc_reporter *r, enum fc_level lvl, const char *phase,
		      const char *check, const char *path, const char *msg, const char *diff)
{
	struct strbuf sb;
	strbuf_init(&sb, 0);
	json_time(&sb);
	json_kv(&sb, "level", level_names[lvl]);
	json_kv(&sb, "phase", phase);
	json_kv(&sb, "check", check);
	json_kv(&sb, "path", path);
	json_kv(&sb, "msg", msg);
	json_kv(&sb, "diff", diff);
	strbuf_appends(&sb, "}\n");
	fputs(strbuf_str(&sb), r->out);
	fflush(r->out);
	strbuf_done(&sb);
}

static bool wanted(struct fc_reporter *r, enum fc_level lvl)
{
	if (lvl == FC_WARNING)
		r->nwarnings++;
	if (lvl == FC_ERROR)
		r->nerrors++;
	return lvl != FC_DEBUG || r->verbosity > 0;
}

static void vreport(struct fc_reporter *r, enum fc_level lvl, const char *phase, const char *check,
		    const char *fmt, va_list ap)
{
	char msg[8192];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!wanted(r, lvl))
		return;
	if (r->mode == FC_OUTPUT_JSON) {
		emit_json(r, lvl, phase, check, NULL, msg, NULL);
		return;
	}
	FILE *f = lvl == FC_ERROR ? r->err : r->out;
	/* text lines carry the top-level phase only, as kubeadm's do: "[driver]" for driver/load */
	char top[64];
	if (phase) {
		size_t n = strcspn(phase, "/");
		snprintf(top, sizeof(top), "%.*s", (int)MIN(n, sizeof(top) - 1), phase);
		phase = top;
	}
	if (check)
		fprintf(f, "\t[%s %s]: %s\n",
			lvl == FC_ERROR	    ? "ERROR"
			: lvl == FC_WARNING ? "WARNING"
					    : "INFO",
			check, msg);
	else if (lvl == FC_ERROR && !phase)
		fprintf(f, "%s\n", msg);
	else if (lvl == FC_WARNING)
		fprintf(f, "[%s] WARNING: %s\n", phase ? phase : "falcoctl", msg);
	else if (lvl == FC_DEBUG)
		fprintf(r->err, "[%s] debug: %s\n", phase ? phase : "falcoctl", msg);
	else
		fprintf(f, "[%s] %s\n", phase ? phase : "falcoctl", msg);
	fflush(f);
}

void fc_report(struct fc_reporter *r, enum fc_level lvl, const char *phase, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(r, lvl, phase, NULL, fmt, ap);
	va_end(ap);
}

void fc_report_check(struct fc_reporter *r, enum fc_level lvl, const char *phase, const char *check,
		     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(r, lvl, phase, check, fmt, ap);
	va_end(ap);
}

void fc_report_diff(struct fc_reporter *r, const char *phase, const char *path, const char *diff)
{
	if (r->mode == FC_OUTPUT_JSON) {
		emit_json(r, FC_INFO, phase, NULL, path, "diff", diff);
		return;
	}
	/* indent every line so the diff reads as part of the phase's output */
	for (const char *p = diff; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		fprintf(r->out, "\t%.*s\n", (int)len, p);
		p += len + (nl ? 1 : 0);
	}
	fflush(r->out);
}

void fc_report_kv(struct fc_reporter *r, const char *key, const char *value)
{
	if (r->mode == FC_OUTPUT_JSON) {
		struct strbuf sb;
		strbuf_init(&sb, 0);
		strbuf_appends(&sb, "{\"key\":");
		strbuf_append_json_str(&sb, key, strlen(key));
		strbuf_appends(&sb, ",\"value\":");
		strbuf_append_json_str(&sb, value ? value : "", value ? strlen(value) : 0);
		strbuf_appends(&sb, "}\n");
		fputs(strbuf_str(&sb), r->out);
		strbuf_done(&sb);
	} else {
		fprintf(r->out, "%s=\"%s\"\n", key, value ? value : "");
	}
	fflush(r->out);
}

void fc_report_raw(struct fc_reporter *r, const char *text)
{
	fputs(text, r->out);
	fflush(r->out);
}
