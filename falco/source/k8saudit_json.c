/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON rendering for the k8s_audit source: compact text for non-string values and event sizes, 2-space
 * indented text for jevt.obj. One walker serves both the counting and the writing pass, so the two can
 * never disagree on a length.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "k8saudit_internal.h"

static inline void sink_put(struct json_sink *s, const char *p, size_t n)
{
	if (s->buf)
		memcpy(s->buf + s->len, p, n);
	s->len += n;
}

static inline void sink_putc(struct json_sink *s, char c)
{
	if (s->buf)
		s->buf[s->len] = c;
	s->len++;
}

static size_t format_number(double d, char *buf, size_t size)
{
	int n;

	if (isnan(d) || isinf(d))
		return (size_t)snprintf(buf, size, "null");
	/* integers (the common case: codes, ids, ports) print exactly and fast */
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		n = snprintf(buf, size, "%lld", (long long)d);
	else {
		n = snprintf(buf, size, "%1.15g", d);
		if (strtod(buf, NULL) != d)
			n = snprintf(buf, size, "%1.17g", d);
	}
	return n > 0 ? (size_t)n : 0;
}

static void print_string(struct json_sink *s, const char *str)
{
	const unsigned char *p = (const unsigned char *)(str ? str : "");
	const unsigned char *run = p;

	sink_putc(s, '"');
	for (; *p; p++) {
		const char *esc = NULL;
		char ubuf[8];

		if (*p >= 0x20 && *p != '"' && *p != '\\')
			continue;
		switch (*p) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\b':
			esc = "\\b";
			break;
		case '\f':
			esc = "\\f";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		default:
			snprintf(ubuf, sizeof(ubuf), "\\u%04x", *p);
			esc = ubuf;
			break;
		}
		sink_put(s, (const char *)run, (size_t)(p - run));
		sink_put(s, esc, strlen(esc));
		run = p + 1;
	}
	sink_put(s, (const char *)run, (size_t)(p - run));
	sink_putc(s, '"');
}

static void newline_indent(struct json_sink *s, unsigned depth)
{
	sink_putc(s, '\n');
	for (unsigned i = 0; i < depth; i++)
		sink_put(s, "  ", 2);
}

void json_print(struct json_sink *s, const cJSON *item, bool indent, unsigned depth)
{
	char nbuf[64];

	switch (item->type & 0xff) {
	case cJSON_False:
		sink_put(s, "false", 5);
		break;
	case cJSON_True:
		sink_put(s, "true", 4);
		break;
	case cJSON_NULL:
		sink_put(s, "null", 4);
		break;
	case cJSON_Number:
		sink_put(s, nbuf, format_number(item->valuedouble, nbuf, sizeof(nbuf)));
		break;
	case cJSON_String:
		print_string(s, item->valuestring);
		break;
	case cJSON_Raw:
		if (item->valuestring)
			sink_put(s, item->valuestring, strlen(item->valuestring));
		break;
	case cJSON_Array:
	case cJSON_Object: {
		bool obj = (item->type & 0xff) == cJSON_Object;
		const cJSON *c = item->child;

		sink_putc(s, obj ? '{' : '[');
		for (; c; c = c->next) {
			if (indent)
				newline_indent(s, depth + 1);
			if (obj) {
				print_string(s, c->string);
				sink_putc(s, ':');
				if (indent)
					sink_putc(s, ' ');
			}
			json_print(s, c, indent, depth + 1);
			if (c->next)
				sink_putc(s, ',');
		}
		if (indent && item->child)
			newline_indent(s, depth);
		sink_putc(s, obj ? '}' : ']');
		break;
	}
	default:
		sink_put(s, "null", 4);
		break;
	}
}

size_t json_compact_size(const cJSON *item)
{
	struct json_sink s = {0};

	json_print(&s, item, false, 0);
	return s.len;
}

/*
 * An upper bound of json_compact_size(): a string byte prints as at most 6 ("\u00XX"), a number as at most
 * 24 ("-2.2250738585072014e-308"), so this needs strlen() per string instead of a byte-by-byte escape scan
 * and no number formatting. Stops early once past limit (the caller only compares the two).
 */
static size_t compact_bound(const cJSON *item, size_t limit)
{
	switch (item->type & 0xff) {
	case cJSON_False:
		return 5;
	case cJSON_True:
	case cJSON_NULL:
		return 4;
	case cJSON_Number:
		return 24;
	case cJSON_String:
		return 6 * (item->valuestring ? strlen(item->valuestring) : 0) + 2;
	case cJSON_Raw:
		return item->valuestring ? strlen(item->valuestring) : 0;
	case cJSON_Array:
	case cJSON_Object: {
		size_t n = 2;

		for (const cJSON *c = item->child; c && n <= limit; c = c->next) {
			if ((item->type & 0xff) == cJSON_Object)
				n += 6 * (c->string ? strlen(c->string) : 0) +
				     3;			  /* quotes and ':' */
			n += compact_bound(c, limit) + 1; /* ',' */
		}
		return n;
	}
	default:
		return 4;
	}
}

bool json_compact_size_over(const cJSON *item, size_t limit, size_t *ret_size)
{
	if (compact_bound(item, limit) <= limit)
		return false;
	*ret_size = json_compact_size(item);
	return *ret_size > limit;
}

char *json_render(struct arena *a, const cJSON *item, bool indent, size_t *ret_len)
{
	struct json_sink s = {0};

	json_print(&s, item, indent, 0);
	char *buf = arena_alloc(a, s.len + 1);
	if (!buf)
		return NULL;
	size_t want = s.len;
	s = (struct json_sink){.buf = buf};
	json_print(&s, item, indent, 0);
	buf[want] = '\0';
	*ret_len = want;
	return buf;
}

/* ---- parser ---- */

/*
 * Payloads are parsed by cJSON. cJSON allocates every node and string through its global hooks, and malloc/free
 * per node is most of its cost; while a thread parses a payload the hooks bump-allocate from that batch's
 * arena instead (about twice the parse rate), and the tree is released with the arena, never cJSON_Delete.
 * Outside a parse the hooks are plain malloc/free, so other cJSON users in the process are unaffected.
 */
static _Thread_local struct arena *parse_arena;

static void *hook_malloc(size_t n)
{
	return parse_arena ? arena_alloc(parse_arena, n) : malloc(n);
}

static void hook_free(void *p)
{
	if (!parse_arena)
		free(p);
}

/* Installed before main() so no thread can be inside cJSON while the global hooks change. */
__attribute__((constructor)) static void install_cjson_hooks(void)
{
	cJSON_Hooks h = {.malloc_fn = hook_malloc, .free_fn = hook_free};
	cJSON_InitHooks(&h);
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/*
 * cJSON strings are C strings: a "\u0000" escape would end one early and hide what follows from rules
 * ("\u0000aws_secret..."), and cJSON decodes a malformed "\uXXXX" as NUL too. So before parsing, every \u escape
 * is checked: malformed hex rejects the payload (-EINVAL, *ret_off at the escape), "\u0000" is rewritten to
 * U+FFFD in a copy. Backslashes only occur inside strings in valid JSON, so walking them pairwise is exact.
 * *ret_in is buf itself when nothing needed rewriting.
 */
static int check_unicode_escapes(const char *buf, size_t len, struct arena *a, const char **ret_in,
				 size_t *ret_off)
{
	const char *p = buf, *end = buf + len;
	char *copy = NULL;

	while ((p = memchr(p, '\\', (size_t)(end - p)))) {
		if (p + 1 < end && p[1] == 'u') {
			if (end - p < 6 || !is_hex(p[2]) || !is_hex(p[3]) || !is_hex(p[4]) ||
			    !is_hex(p[5])) {
				*ret_off = (size_t)(p - buf);
				return -EINVAL;
			}
			if (memcmp(p + 2, "0000", 4) == 0) {
				if (!copy) {
					copy = arena_alloc(a, len);
					if (!copy)
						return -ENOMEM;
					memcpy(copy, buf, len);
				}
				memcpy(copy + (p - buf) + 2, "fffd", 4);
			}
		}
		p += 2; /* skip the escaped character: "\\\\" is one escape, not two starts */
		if (p >= end)
			break;
	}
	*ret_in = copy ? copy : buf;
	return 0;
}

int json_parse_arena(const char *buf, size_t len, struct arena *a, cJSON **ret, size_t *ret_err_off)
{
	const char *in = NULL, *end = NULL;
	size_t off = 0;
	int r = check_unicode_escapes(buf, len, a, &in, &off);

	if (r < 0) {
		if (ret_err_off)
			*ret_err_off = off;
		return r;
	}
	parse_arena = a;
	cJSON *root = cJSON_ParseWithLengthOpts(in, len, &end, false);
	parse_arena = NULL;
	if (!root) {
		if (ret_err_off)
			*ret_err_off = end && end >= in && end <= in + len ? (size_t)(end - in) : 0;
		return -EINVAL;
	}
	/* cJSON stops after the first value: anything but whitespace after it is an error */
	const char *p = end;
	while (p < in + len && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p != in + len) {
		if (ret_err_off)
			*ret_err_off = (size_t)(p - in);
		return -EINVAL;
	}
	*ret = root;
	return 0;
}
