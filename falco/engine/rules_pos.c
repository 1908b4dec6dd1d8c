/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Positions: byte offsets of YAML nodes, line/column of offsets, and texts that carry the origin of each byte
 * (rl_text). Conditions are composed from several scalars (appends), rewritten (exceptions, list
 * substitution) and only then parsed, so a parser position must travel back through those steps to a file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

static int build_lines(struct rl_file *f)
{
	uint32_t n = 1;

	for (size_t i = 0; i < f->len; i++)
		n += f->content[i] == '\n';
	f->lines = malloc(n * sizeof(*f->lines));
	if (!f->lines)
		return -ENOMEM;
	f->lines[0] = 0;
	n = 1;
	for (size_t i = 0; i < f->len; i++)
		if (f->content[i] == '\n')
			f->lines[n++] = (uint32_t)i + 1;
	f->nlines = n;
	return 0;
}

static bool utf8_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

uint32_t rl_node_offset(struct rl_file *f, const struct ynode *n)
{
	if (!n)
		return 0;
	if (!f->lines && build_lines(f) < 0)
		return n->offset;
	if (n->line == 0 || n->line > f->nlines)
		return MIN(n->offset, (uint32_t)f->len);
	uint32_t p = f->lines[n->line - 1];
	/* libyaml counts columns in characters */
	for (uint32_t c = 1; c < n->col && p < f->len && f->content[p] != '\n'; c++) {
		p++;
		while (p < f->len && utf8_cont((unsigned char)f->content[p]))
			p++;
	}
	return p;
}

void rl_offset_linecol(struct rl_file *f, uint32_t off, uint32_t *ret_line, uint32_t *ret_col)
{
	if (!f->lines && build_lines(f) < 0) {
		*ret_line = 1;
		*ret_col = off + 1;
		return;
	}
	if (off > f->len)
		off = (uint32_t)f->len;
	uint32_t lo = 0, hi = f->nlines;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (f->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	uint32_t col = 1;
	for (uint32_t p = f->lines[lo]; p < off; p++)
		col += !utf8_cont((unsigned char)f->content[p]);
	*ret_line = lo + 1;
	*ret_col = col;
}

static bool is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/*
 * Walks the raw scalar and its decoded text side by side. Folding, indentation and quoting only change
 * whitespace and add characters, so each non-blank decoded character is the next equal raw character.
 * Escapes can break that; the search is bounded and then gives up on the best position so far.
 */
uint32_t rl_scalar_offset(struct rl_file *f, const struct ynode *n, uint32_t idx)
{
	enum { LOOKAHEAD = 512 };
	const char *raw = f->content;
	size_t end = f->len;
	uint32_t p = rl_node_offset(f, n);

	if (!n || n->kind != YN_SCALAR || p >= end)
		return p;
	if (raw[p] == '"' || raw[p] == '\'') {
		p++;
	} else if (raw[p] == '|' || raw[p] == '>') {
		while (p < end && raw[p] != '\n')
			p++;
		if (p < end)
			p++;
		while (p < end && (raw[p] == ' ' || raw[p] == '\t'))
			p++;
	}
	const char *dec = n->scalar.str;
	size_t declen = n->scalar.len;
	if (idx > declen)
		idx = (uint32_t)declen;
	for (uint32_t i = 0; i <= idx; i++) {
		if (i == declen)
			break;
		char c = dec[i];
		if (is_space((unsigned char)c)) {
			if (i == idx)
				break;
			if (p < end && is_space((unsigned char)raw[p]))
				p++;
			continue;
		}
		size_t q = p;
		while (q < end && q < (size_t)p + LOOKAHEAD && raw[q] != c)
			q++;
		if (q >= end || raw[q] != c)
			return p;
		if (i == idx)
			return (uint32_t)q;
		p = (uint32_t)q + 1;
	}
	return p;
}

/* ---- texts with origins ---- */

void rl_tb_init(struct rl_tb *b, size_t max)
{
	*b = (struct rl_tb){0};
	strbuf_init(&b->sb, max);
}

void rl_tb_done(struct rl_tb *b)
{
	strbuf_done(&b->sb);
	free(b->segs);
	b->segs = NULL;
	b->nsegs = b->cap = 0;
}

static void add_seg(struct rl_tb *b, const struct rl_seg *s)
{
	if (b->err || s->len == 0)
		return;
	if (b->nsegs) {
		/* merge with the previous segment when it simply continues */
		struct rl_seg *p = &b->segs[b->nsegs - 1];
		if (p->start + p->len == s->start && p->file == s->file && p->node == s->node &&
		    p->point == s->point &&
		    (s->point ? p->node_off == s->node_off : p->node_off + p->len == s->node_off)) {
			p->len += s->len;
			return;
		}
	}
	if (b->nsegs == b->cap) {
		uint32_t ncap = b->cap ? b->cap * 2 : 8;
		struct rl_seg *ns = realloc(b->segs, ncap * sizeof(*ns));
		if (!ns) {
			b->err = -ENOMEM;
			return;
		}
		b->segs = ns;
		b->cap = ncap;
	}
	b->segs[b->nsegs++] = *s;
}

void rl_tb_copy(struct rl_tb *b, const struct rl_text *t, uint32_t from, uint32_t len)
{
	uint32_t at = (uint32_t)b->sb.len;

	if (len == 0)
		return;
	int r = strbuf_append(&b->sb, t->s + from, len);
	if (r < 0) {
		if (!b->err)
			b->err = r;
		return;
	}
	for (uint32_t i = 0; i < t->nsegs; i++) {
		const struct rl_seg *s = &t->segs[i];
		uint32_t lo = MAX(s->start, from), hi = MIN(s->start + s->len, from + len);
		if (lo >= hi)
			continue;
		struct rl_seg ns = *s;
		ns.start = at + (lo - from);
		ns.len = hi - lo;
		if (!s->point)
			ns.node_off = s->node_off + (lo - s->start);
		add_seg(b, &ns);
	}
}

void rl_tb_point(struct rl_tb *b, const char *s, size_t len, const struct rl_seg *origin)
{
	uint32_t at = (uint32_t)b->sb.len;

	if (len == 0)
		return;
	int r = strbuf_append(&b->sb, s, len);
	if (r < 0) {
		if (!b->err)
			b->err = r;
		return;
	}
	if (origin && origin->node) {
		struct rl_seg ns = *origin;
		ns.start = at;
		ns.len = (uint32_t)len;
		ns.point = true;
		add_seg(b, &ns);
	}
}

void rl_tb_scalar(struct rl_tb *b, uint32_t file, const struct ynode *node, const char *s,
		  size_t len)
{
	uint32_t at = (uint32_t)b->sb.len;

	if (len == 0)
		return;
	int r = strbuf_append(&b->sb, s, len);
	if (r < 0) {
		if (!b->err)
			b->err = r;
		return;
	}
	struct rl_seg ns = {.start = at, .len = (uint32_t)len, .file = file, .node = node};
	add_seg(b, &ns);
}

void rl_tb_truncate(struct rl_tb *b, uint32_t len)
{
	if (len >= b->sb.len)
		return;
	b->sb.len = len;
	b->sb.buf[len] = '\0';
	while (b->nsegs && b->segs[b->nsegs - 1].start >= len)
		b->nsegs--;
	if (b->nsegs) {
		struct rl_seg *s = &b->segs[b->nsegs - 1];
		if (s->start + s->len > len)
			s->len = len - s->start;
	}
}

int rl_tb_freeze(struct rl_tb *b, struct arena *a, struct rl_text *ret)
{
	if (b->err || b->sb.failed) {
		int r = b->err ? b->err : -ENOMEM;
		rl_tb_done(b);
		return r;
	}
	char *s = arena_strndup(a, strbuf_str(&b->sb), b->sb.len);
	struct rl_seg *segs = b->nsegs ? arena_alloc(a, b->nsegs * sizeof(*segs)) : NULL;
	if (!s || (b->nsegs && !segs)) {
		rl_tb_done(b);
		return -ENOMEM;
	}
	if (b->nsegs)
		memcpy(segs, b->segs, b->nsegs * sizeof(*segs));
	*ret = (struct rl_text){
		.s = s, .len = (uint32_t)b->sb.len, .segs = segs, .nsegs = b->nsegs};
	strbuf_reset(&b->sb);
	b->nsegs = 0;
	return 0;
}

bool rl_text_origin(const struct rl_text *t, uint32_t idx, struct rl_seg *ret)
{
	const struct rl_seg *best = NULL;

	if (!t || t->nsegs == 0)
		return false;
	/* the last segment starting at or before idx; a gap maps to the end of the segment before it */
	uint32_t lo = 0, hi = t->nsegs;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (t->segs[mid].start <= idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	best = lo ? &t->segs[lo - 1] : &t->segs[0];
	*ret = *best;
	if (!best->point) {
		uint32_t d = idx < best->start ? 0 : MIN(idx - best->start, best->len);
		ret->node_off = best->node_off + d;
	}
	ret->start = idx;
	ret->len = 1;
	ret->point = true;
	return true;
}
