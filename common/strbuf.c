/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

void strbuf_init(struct strbuf *sb, size_t max)
{
	*sb = (struct strbuf){.max = max ? max : STRBUF_DEFAULT_MAX};
}

void strbuf_done(struct strbuf *sb)
{
	free(sb->buf);
	size_t max = sb->max;
	*sb = (struct strbuf){.max = max};
}

void strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	sb->failed = false;
	if (sb->buf)
		sb->buf[0] = '\0';
}

int strbuf_reserve(struct strbuf *sb, size_t extra)
{
	size_t max = sb->max ? sb->max : STRBUF_DEFAULT_MAX;

	if (sb->failed)
		return -ENOMEM;
	if (extra > max || sb->len + extra > max) {
		sb->failed = true;
		return -E2BIG;
	}
	size_t need = sb->len + extra + 1;
	if (need <= sb->cap)
		return 0;
	size_t ncap = sb->cap ? sb->cap : 64;
	while (ncap < need)
		ncap *= 2;
	if (ncap > max + 1)
		ncap = max + 1;
	char *nb = realloc(sb->buf, ncap);
	if (!nb) {
		sb->failed = true;
		return -ENOMEM;
	}
	sb->buf = nb;
	sb->cap = ncap;
	return 0;
}

int strbuf_append(struct strbuf *sb, const void *data, size_t len)
{
	int r = strbuf_reserve(sb, len);
	if (r < 0)
		return r;
	if (len)
		memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
	return 0;
}

int strbuf_appends(struct strbuf *sb, const char *s)
{
	return strbuf_append(sb, s, strlen(s));
}

int strbuf_appendc(struct strbuf *sb, char c)
{
	return strbuf_append(sb, &c, 1);
}

int strbuf_appendf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		sb->failed = true;
		return -EINVAL;
	}
	if ((size_t)n < sizeof(small))
		return strbuf_append(sb, small, (size_t)n);

	int r = strbuf_reserve(sb, (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t)n;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is invalid. */
static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if ((c & 0xE0) == 0xC0) {
		n = 2;
		cp = c & 0x1F;
	} else if ((c & 0xF0) == 0xE0) {
		n = 3;
		cp = c & 0x0F;
	} else if ((c & 0xF8) == 0xF0) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	/* reject overlong forms, surrogates and values above U+10FFFF */
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return n;
}

int strbuf_append_json_escaped(struct strbuf *sb, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0;
	int r;

	/* Worst case each byte becomes 6; reserving the common case up front keeps this to one realloc. */
	if ((r = strbuf_reserve(sb, len + 16)) < 0)
		return r;
	while (i < len) {
		unsigned char c = p[i];
		if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
			run++;
			i++;
			continue;
		}
		if (run && (r = strbuf_append(sb, p + i - run, run)) < 0)
			return r;
		run = 0;
		if (c >= 0x80) {
			size_t n = utf8_seq_len(p + i, len - i);
			if (n == 0) {
				r = strbuf_append(sb, "\xEF\xBF\xBD", 3);
				i++;
			} else {
				r = strbuf_append(sb, p + i, n);
				i += n;
			}
		} else {
			char esc[7] = {'\\', 0};
			size_t elen = 2;
			switch (c) {
			case '"':
				esc[1] = '"';
				break;
			case '\\':
				esc[1] = '\\';
				break;
			case '\n':
				esc[1] = 'n';
				break;
			case '\r':
				esc[1] = 'r';
				break;
			case '\t':
				esc[1] = 't';
				break;
			case '\b':
				esc[1] = 'b';
				break;
			case '\f':
				esc[1] = 'f';
				break;
			default:
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				elen = 6;
			}
			r = strbuf_append(sb, esc, elen);
			i++;
		}
		if (r < 0)
			return r;
	}
	if (run)
		return strbuf_append(sb, p + i - run, run);
	return 0;
}

int strbuf_append_json_str(struct strbuf *sb, const char *s, size_t len)
{
	int r = strbuf_appendc(sb, '"');
	if (r == 0)
		r = strbuf_append_json_escaped(sb, s, len);
	if (r == 0)
		r = strbuf_appendc(sb, '"');
	return r;
}

char *strbuf_steal(struct strbuf *sb)
{
	if (sb->failed) {
		strbuf_done(sb);
		return NULL;
	}
	if (!sb->buf && strbuf_reserve(sb, 0) < 0)
		return NULL;
	char *b = sb->buf;
	b[sb->len] = '\0';
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return b;
}

const char *strbuf_str(const struct strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}
