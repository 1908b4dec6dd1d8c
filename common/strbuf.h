/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Growable byte buffers, always NUL-terminated, with a hard size limit so no input can grow one without bound.
 * An allocation failure or hitting the limit sets a sticky error flag; callers check it once at the end.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

struct strbuf {
	char *buf;   /* owned; NUL-terminated when len > 0 or after any append */
	size_t len;  /* bytes used, excluding the NUL */
	size_t cap;  /* bytes allocated */
	size_t max;  /* 0 = default limit (STRBUF_DEFAULT_MAX) */
	bool failed; /* sticky: an append did not fit (ENOMEM or over max) */
};

#define STRBUF_DEFAULT_MAX (64u << 20)

void strbuf_init(struct strbuf *sb, size_t max);
void strbuf_done(struct strbuf *sb);
/* Keeps the allocation, sets len to 0 and clears the error flag. */
void strbuf_reset(struct strbuf *sb);
/* Returns 0 or -ENOMEM/-E2BIG (and sets failed). */
int strbuf_reserve(struct strbuf *sb, size_t extra);
int strbuf_append(struct strbuf *sb, const void *data, size_t len);
int strbuf_appends(struct strbuf *sb, const char *s);
int strbuf_appendc(struct strbuf *sb, char c);
int strbuf_appendf(struct strbuf *sb, const char *fmt, ...) _printf_(2, 3);
/* Appends s as the body of a JSON string (no quotes): escapes ", \\ and control chars; invalid UTF-8 → U+FFFD. */
int strbuf_append_json_escaped(struct strbuf *sb, const char *s, size_t len);
/* Appends a quoted JSON string. */
int strbuf_append_json_str(struct strbuf *sb, const char *s, size_t len);
/* Detaches the buffer (caller frees); the strbuf is left empty. Returns NULL if failed or empty-and-unallocated. */
char *strbuf_steal(struct strbuf *sb);
/* Returns the content, "" for an empty buffer. Borrowed. */
const char *strbuf_str(const struct strbuf *sb);

static inline void strbuf_donep(struct strbuf *sb)
{
	strbuf_done(sb);
}
#define _cleanup_strbuf_ _cleanup_(strbuf_donep)
