/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON rendering for the k8s_audit source: compact text for non-string values and event sizes, 2-space
 * indented text for jevt.obj. One walker serves both the counting and the writing pass, so the two can
 * never disagree on a length.
 */
#include <errno.h>
#include <limits.h>
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
 * Our own parser, building the same tree cJSON 1.7's cJSON_ParseWithLengthOpts() builds (cJSON nodes linked the
 * same way, head->prev = tail; the same accepted inputs: any byte <= 0x20 is whitespace, a leading UTF-8 BOM is
 * skipped, numbers are the longest run of [0-9+-eE.] read by strtod, leading zeros and "1."
 * pass, raw control characters in strings pass, lone surrogate escapes fail, nesting stops at 1000), with every
 * node and string bump-allocated from the caller's arena. It replaced cJSON itself for speed: cJSON tried
 * "null", "false" and "true" with strncmp before every value, copied strings in two passes and went through
 * global allocation hooks per node; parsing was two thirds of the k8s replay's time. tests/unit/test_k8saudit.c
 * checks both parsers agree on a corpus and on mutations of it.
 *
 * Two deliberate differences from plain cJSON (they were applied before cJSON before): "\u0000" decodes as
 * U+FFFD, so no string is cut short and hides what follows from rules ("\u0000aws_secret..."), and a "\u"
 * escape without four hex digits is an error (cJSON decoded it as NUL).
 */

#define JSON_NESTING_LIMIT 1000 /* CJSON_NESTING_LIMIT */

struct jparse {
	const unsigned char *end;
	struct arena *a;
	char *cur, *lim; /* bump region carved from a: nodes and strings without a call each */
	unsigned depth;
	const unsigned char *err; /* where parsing stopped */
	bool nomem;
};

static inline const unsigned char *skip_ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && *p <= 32)
		p++;
	return p;
}

#define JSON_BLOCK 8192

static void *jalloc(struct jparse *jp, size_t n, size_t align)
{
	uintptr_t c = ((uintptr_t)jp->cur + align - 1) & ~(uintptr_t)(align - 1);

	if (!jp->cur || c + n > (uintptr_t)jp->lim) {
		size_t blk = n > JSON_BLOCK / 4 ? n : JSON_BLOCK;
		char *b = arena_alloc(jp->a, blk);
		if (!b) {
			jp->nomem = true;
			return NULL;
		}
		if (blk > n) { /* a big string gets its own allocation; the current region stays */
			jp->cur = b;
			jp->lim = b + blk;
		} else {
			return b;
		}
		c = (uintptr_t)b;
	}
	jp->cur = (char *)(c + n);
	return (void *)c;
}

static cJSON *new_item(struct jparse *jp)
{
	cJSON *n = jalloc(jp, sizeof(*n), _Alignof(cJSON));
	if (n)
		memset(n, 0, sizeof(*n));
	return n;
}

/* The first '"' or '\\' in [p, end), or end: eight bytes at a time. */
static inline const unsigned char *find_quote_or_bs(const unsigned char *p,
						    const unsigned char *end)
{
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;

	for (; end - p >= 8; p += 8) {
		uint64_t w, q, b;
		memcpy(&w, p, 8);
		q = w ^ (ones * '"');
		b = w ^ (ones * '\\');
		uint64_t hit = ((q - ones) & ~q & highs) | ((b - ones) & ~b & highs);
		if (hit)
			return p + (__builtin_ctzll(hit) >> 3);
	}
	while (p < end && *p != '"' && *p != '\\')
		p++;
	return p;
}

static int hex4(const unsigned char *p)
{
	unsigned v = 0;
	for (int i = 0; i < 4; i++) {
		unsigned c = p[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v << 4 | d;
	}
	return (int)v;
}

static bool is_hex4(const unsigned char *p, const unsigned char *end)
{
	return end - p >= 4 && hex4(p) >= 0;
}

/*
 * A string starting at p (the opening quote). Returns the byte after the closing quote, or NULL (jp->err set).
 * *ret is the decoded, NUL-terminated text in the arena.
 */
static const unsigned char *parse_string(struct jparse *jp, const unsigned char *p, char **ret)
{
	const unsigned char *start = p + 1, *q = start, *end = jp->end;
	size_t escapes = 0;

	/* find the closing quote: a backslash escapes the next byte, whatever it is */
	for (;;) {
		const unsigned char *bs = find_quote_or_bs(q, end);
		if (bs == end) {
			jp->err = start;
			return NULL;
		}
		if (*bs == '"') {
			q = bs;
			break;
		}
		/* the \u checks applied to the whole payload before, as their own pass */
		if (bs + 1 < end && bs[1] == 'u' && !is_hex4(bs + 2, end)) {
			jp->err = bs;
			return NULL;
		}
		if (bs + 1 >= end) {
			jp->err = start;
			return NULL;
		}
		escapes++;
		q = bs + 2;
	}
	size_t n = (size_t)(q - start);
	char *out = jalloc(jp, n + 1, 1);
	if (!out)
		return NULL;
	if (!escapes) {
		memcpy(out, start, n);
		out[n] = '\0';
		*ret = out;
		return q + 1;
	}
	/* decode: the output is never longer than the input (\uXXXX gives at most 3 bytes, a pair 4 for 12) */
	unsigned char *o = (unsigned char *)out;
	for (const unsigned char *i = start; i < q;) {
		if (*i != '\\') {
			*o++ = *i++;
			continue;
		}
		switch (i[1]) {
		case 'b':
			*o++ = '\b';
			break;
		case 'f':
			*o++ = '\f';
			break;
		case 'n':
			*o++ = '\n';
			break;
		case 'r':
			*o++ = '\r';
			break;
		case 't':
			*o++ = '\t';
			break;
		case '"':
		case '\\':
		case '/':
			*o++ = i[1];
			break;
		case 'u': {
			if (q - i < 6)
				goto fail;
			unsigned long cp = (unsigned long)hex4(i + 2);
			if (cp == 0)
				cp = 0xFFFD;
			if (cp >= 0xDC00 && cp <= 0xDFFF)
				goto fail;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				const unsigned char *s2 = i + 6;
				if (q - s2 < 6 || s2[0] != '\\' || s2[1] != 'u')
					goto fail;
				int lo = hex4(s2 + 2);
				if (lo == 0)
					lo = 0xFFFD;
				if (lo < 0xDC00 || lo > 0xDFFF)
					goto fail;
				cp = 0x10000 + (((cp & 0x3FF) << 10) | ((unsigned long)lo & 0x3FF));
				i += 6;
			}
			if (cp < 0x80) {
				*o++ = (unsigned char)cp;
			} else if (cp < 0x800) {
				*o++ = (unsigned char)(0xC0 | (cp >> 6));
				*o++ = (unsigned char)(0x80 | (cp & 0x3F));
			} else if (cp < 0x10000) {
				*o++ = (unsigned char)(0xE0 | (cp >> 12));
				*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
				*o++ = (unsigned char)(0x80 | (cp & 0x3F));
			} else {
				*o++ = (unsigned char)(0xF0 | (cp >> 18));
				*o++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
				*o++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
				*o++ = (unsigned char)(0x80 | (cp & 0x3F));
			}
			i += 6;
			continue;
		}
		default:
			goto fail;
		}
		i += 2;
		continue;
	fail:
		jp->err = i;
		return NULL;
	}
	*o = '\0';
	*ret = out;
	return q + 1;
}

static const unsigned char *parse_number(struct jparse *jp, const unsigned char *p, cJSON *item)
{
	char stackbuf[64], *buf = stackbuf;
	size_t n = 0;
	bool simple = true; /* an optional '-' and digits only: converted exactly without strtod */
	uint64_t v = 0;

	for (; p + n < jp->end; n++) {
		unsigned char c = p[n];
		if (c >= '0' && c <= '9')
			v = v * 10 + (c - '0');
		else if (c == '+' || c == '-' || c == 'e' || c == 'E' || c == '.')
			simple = simple && c == '-' && n == 0;
		else
			break;
	}
	bool neg = *p == '-';
	double d;
	size_t used;
	if (simple && n > (size_t)neg && n - neg <= 15) {
		d = neg ? -(double)v : (double)v;
		used = n;
	} else {
		/* the whole run goes to strtod, however long (as Debian's cJSON 1.7.15 does) */
		if (n >= sizeof(stackbuf) && !(buf = malloc(n + 1))) {
			jp->nomem = true;
			return NULL;
		}
		memcpy(buf, p, n);
		buf[n] = '\0';
		char *after;
		d = strtod(buf, &after);
		used = (size_t)(after - buf);
		if (buf != stackbuf)
			free(buf);
		if (!used) {
			jp->err = p;
			return NULL;
		}
	}
	item->type = cJSON_Number;
	item->valuedouble = d;
	item->valueint = d >= INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
	return p + used;
}

static const unsigned char *parse_value(struct jparse *jp, const unsigned char *p, cJSON *item);

/* An array or object at p ('[' or '{'). */
static const unsigned char *parse_container(struct jparse *jp, const unsigned char *p, cJSON *item)
{
	bool obj = *p == '{';
	unsigned char close = obj ? '}' : ']';
	cJSON *head = NULL, *tail = NULL;

	if (jp->depth >= JSON_NESTING_LIMIT) {
		jp->err = p;
		return NULL;
	}
	jp->depth++;
	item->type = obj ? cJSON_Object : cJSON_Array;
	p = skip_ws(p + 1, jp->end);
	if (p < jp->end && *p == close)
		goto done;
	for (;;) {
		cJSON *c = new_item(jp);
		if (!c)
			return NULL;
		if (!head) {
			head = c;
		} else {
			tail->next = c;
			c->prev = tail;
		}
		tail = c;
		item->child = head;
		if (obj) {
			if (p >= jp->end || *p != '"') {
				jp->err = p;
				return NULL;
			}
			if (!(p = parse_string(jp, p, &c->string)))
				return NULL;
			p = skip_ws(p, jp->end);
			if (p >= jp->end || *p != ':') {
				jp->err = p;
				return NULL;
			}
			p = skip_ws(p + 1, jp->end);
		}
		if (!(p = parse_value(jp, p, c)))
			return NULL;
		p = skip_ws(p, jp->end);
		if (p < jp->end && *p == ',') {
			p = skip_ws(p + 1, jp->end);
			continue;
		}
		break;
	}
	if (p >= jp->end || *p != close) {
		jp->err = p;
		return NULL;
	}
done:
	if (head)
		head->prev = tail;
	jp->depth--;
	return p + 1;
}

static const unsigned char *parse_value(struct jparse *jp, const unsigned char *p, cJSON *item)
{
	size_t left = (size_t)(jp->end - p);

	if (!left) {
		jp->err = p;
		return NULL;
	}
	switch (*p) {
	case '"':
		p = parse_string(jp, p, &item->valuestring);
		if (p)
			item->type = cJSON_String;
		return p;
	case '{':
	case '[':
		return parse_container(jp, p, item);
	case 'n':
		if (left >= 4 && memcmp(p, "null", 4) == 0) {
			item->type = cJSON_NULL;
			return p + 4;
		}
		break;
	case 'f':
		if (left >= 5 && memcmp(p, "false", 5) == 0) {
			item->type = cJSON_False;
			return p + 5;
		}
		break;
	case 't':
		if (left >= 4 && memcmp(p, "true", 4) == 0) {
			item->type = cJSON_True;
			item->valueint = 1;
			return p + 4;
		}
		break;
	default:
		if (*p == '-' || (*p >= '0' && *p <= '9'))
			return parse_number(jp, p, item);
		break;
	}
	jp->err = p;
	return NULL;
}

int json_parse_arena(const char *buf, size_t len, struct arena *a, cJSON **ret, size_t *ret_err_off)
{
	const unsigned char *in = (const unsigned char *)buf, *end = in + len;
	struct jparse jp = {.end = end, .a = a};
	const unsigned char *p = in;
	cJSON *root;

	if (len >= 5 &&
	    memcmp(p, "\xEF\xBB\xBF", 3) == 0) /* cJSON skips a BOM when 5+ bytes follow it */
		p += 3;
	p = skip_ws(p, end);
	if (!(root = new_item(&jp)))
		return -ENOMEM;
	p = parse_value(&jp, p, root);
	if (!p) {
		if (jp.nomem)
			return -ENOMEM;
		if (ret_err_off)
			*ret_err_off =
				jp.err && jp.err >= in && jp.err <= end ? (size_t)(jp.err - in) : 0;
		return -EINVAL;
	}
	/* only whitespace may follow the value */
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p != end) {
		if (ret_err_off)
			*ret_err_off = (size_t)(p - in);
		return -EINVAL;
	}
	*ret = root;
	return 0;
}
