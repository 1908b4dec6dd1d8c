/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Alert formatting: the text line and Falco's JSON alert schema. Pure functions over already-extracted values, so
 * they are tested without an engine; the daemon gathers the values in its on_match callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "out.h"

static const char *const prio_long[] = {
	"Emergency", "Alert", "Critical", "Error", "Warning", "Notice", "Informational", "Debug",
};

const char *out_priority_name(int priority)
{
	if (priority < 0 || (size_t)priority >= ARRAY_SIZE(prio_long))
		return "Unknown";
	return prio_long[priority];
}

int out_fmt_time(uint64_t ts, bool iso8601, char *buf, size_t len)
{
	time_t sec = (time_t)(ts / 1000000000ull);
	unsigned ns = (unsigned)(ts % 1000000000ull);
	struct tm tm;
	char head[32];
	int n;

	if (iso8601) {
		gmtime_r(&sec, &tm);
		strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
		n = snprintf(buf, len, "%s.%09u+0000", head, ns);
	} else {
		localtime_r(&sec, &tm);
		strftime(head, sizeof(head), "%H:%M:%S", &tm);
		n = snprintf(buf, len, "%s.%09u", head, ns);
	}
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int out_fmt_time_utc(uint64_t ts, char *buf, size_t len)
{
	time_t sec = (time_t)(ts / 1000000000ull);
	struct tm tm;
	char head[32];

	gmtime_r(&sec, &tm);
	strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
	int n = snprintf(buf, len, "%s.%09uZ", head, (unsigned)(ts % 1000000000ull));
	return n < 0 || (size_t)n >= len ? -ENOSPC : 0;
}

int out_fmt_output(const char *time_str, int priority, const char *message, struct strbuf *sb)
{
	strbuf_appends(sb, time_str);
	strbuf_appends(sb, ": ");
	strbuf_appends(sb, out_priority_name(priority));
	strbuf_appendc(sb, ' ');
	return strbuf_appends(sb, message);
}

/* JSON string escaping without the quote and backslash escapes: one line, valid UTF-8, readable. */
static int append_sanitized(struct strbuf *sb, const char *s, size_t len)
{
	size_t i = 0;
	int r = 0;

	while (i < len && r >= 0) {
		size_t j = i;
		while (j < len && s[j] != '"' && s[j] != '\\')
			j++;
		if (j > i)
			r = strbuf_append_json_escaped(sb, s + i, j - i);
		if (r >= 0 && j < len)
			r = strbuf_appendc(sb, s[j++]);
		i = j;
	}
	return r;
}

int out_fmt_text(const char *time_str, int priority, const char *message, struct strbuf *sb)
{
	append_sanitized(sb, time_str, strlen(time_str));
	strbuf_appends(sb, ": ");
	strbuf_appends(sb, out_priority_name(priority));
	strbuf_appendc(sb, ' ');
	return append_sanitized(sb, message, strlen(message));
}

/* The shortest "%.Ng" that reads back as the same double (what nlohmann's dump prints). */
static int append_double(struct strbuf *sb, double d)
{
	char buf[40];

	if (!isfinite(d))
		return strbuf_appends(sb, "null");
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	strbuf_appends(sb, buf);
	/* keep it a JSON number that still reads as floating point, as nlohmann prints 3.0 */
	if (!strpbrk(buf, ".eEn"))
		return strbuf_appends(sb, ".0");
	return 0;
}

int out_fmt_value_json(const struct value *v, struct strbuf *sb)
{
	char ip[INET6_ADDRSTRLEN];

	if (v->is_list) {
		strbuf_appendc(sb, '[');
		for (uint32_t i = 0; i < v->len; i++) {
			struct value item = v->items[i];
			item.is_list = false;
			if (i)
				strbuf_appendc(sb, ',');
			out_fmt_value_json(&item, sb);
		}
		return strbuf_appendc(sb, ']');
	}
	switch (v->type) {
	case FT_STRING:
	case FT_PATH:
	case FT_BUFFER:
		return strbuf_append_json_str(sb, v->str ? v->str : "", v->str ? v->len : 0);
	case FT_U64:
	case FT_RELTIME:
	case FT_ABSTIME:
		return strbuf_appendf(sb, "%" PRIu64, v->u64);
	case FT_S64:
		return strbuf_appendf(sb, "%" PRId64, v->s64);
	case FT_BOOL:
		return strbuf_appends(sb, v->b ? "true" : "false");
	case FT_DOUBLE:
		return append_double(sb, v->d);
	case FT_IPADDR:
	case FT_IPNET:
		if (!inet_ntop(v->ip.family == 6 ? AF_INET6 : AF_INET, v->ip.bytes, ip, sizeof(ip)))
			return strbuf_appends(sb, "null");
		return strbuf_append_json_str(sb, ip, strlen(ip));
	default:
		return strbuf_appends(sb, "null");
	}
}

struct field_ref {
	const struct out_field *f;
	size_t idx;
};

static int cmp_field(const void *a, const void *b)
{
	const struct field_ref *x = a, *y = b;
	int c = strcmp(x->f->name, y->f->name);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void append_key(struct strbuf *sb, const char *key, bool *first)
{
	if (!*first)
		strbuf_appendc(sb, ',');
	*first = false;
	strbuf_append_json_str(sb, key, strlen(key));
	strbuf_appendc(sb, ':');
}

int out_fmt_json(const struct out_fmt_opts *o, uint64_t ts, int priority, const char *rule,
		 const char *source, const char *const *tags, size_t ntags, const char *output_line,
		 const char *message, const struct out_field *fields, size_t nfields,
		 struct strbuf *sb)
{
	_cleanup_free_ struct field_ref *refs = NULL;
	_cleanup_free_ const char **stags = NULL;
	char tbuf[48];
	bool first = true;

	if (nfields && !(refs = malloc(nfields * sizeof(*refs))))
		return -ENOMEM;
	if (ntags && !(stags = malloc(ntags * sizeof(*stags))))
		return -ENOMEM;
	for (size_t i = 0; i < nfields; i++)
		refs[i] = (struct field_ref){&fields[i], i};
	if (nfields)
		qsort(refs, nfields, sizeof(*refs), cmp_field);
	if (ntags) {
		memcpy(stags, tags, ntags * sizeof(*stags));
		qsort(stags, ntags, sizeof(*stags), cmp_str);
	}

	/* keys in byte order, as upstream's std::map-backed object prints them */
	strbuf_appendc(sb, '{');
	append_key(sb, "hostname", &first);
	strbuf_append_json_str(sb, o->hostname ? o->hostname : "",
			       o->hostname ? strlen(o->hostname) : 0);
	if (o->include_message) {
		append_key(sb, "message", &first);
		strbuf_append_json_str(sb, message, strlen(message));
	}
	if (o->include_output) {
		append_key(sb, "output", &first);
		strbuf_append_json_str(sb, output_line, strlen(output_line));
	}
	if (o->include_output_fields) {
		bool ffirst = true;
		append_key(sb, "output_fields", &first);
		strbuf_appendc(sb, '{');
		for (size_t i = 0; i < nfields; i++) {
			/* duplicates: only the last of a run of equal names */
			if (i + 1 < nfields && streq(refs[i].f->name, refs[i + 1].f->name))
				continue;
			append_key(sb, refs[i].f->name, &ffirst);
			if (refs[i].f->missing)
				strbuf_appends(sb, "null");
			else
				out_fmt_value_json(&refs[i].f->val, sb);
		}
		strbuf_appendc(sb, '}');
	}
	append_key(sb, "priority", &first);
	strbuf_append_json_str(sb, out_priority_name(priority),
			       strlen(out_priority_name(priority)));
	append_key(sb, "rule", &first);
	strbuf_append_json_str(sb, rule, strlen(rule));
	append_key(sb, "source", &first);
	strbuf_append_json_str(sb, source, strlen(source));
	if (o->include_tags) {
		append_key(sb, "tags", &first);
		strbuf_appendc(sb, '[');
		for (size_t i = 0; i < ntags; i++) {
			if (i && streq(stags[i], stags[i - 1]))
				continue;
			if (i)
				strbuf_appendc(sb, ',');
			strbuf_append_json_str(sb, stags[i], strlen(stags[i]));
		}
		strbuf_appendc(sb, ']');
	}
	append_key(sb, "time", &first);
	out_fmt_time_utc(ts, tbuf, sizeof(tbuf));
	strbuf_append_json_str(sb, tbuf, strlen(tbuf));
	return strbuf_appendc(sb, '}');
}
