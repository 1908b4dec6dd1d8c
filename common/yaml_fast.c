/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The fast path of yaml_parse(): a direct parser for the block YAML that rules files and falco.yaml are written
 * in, building exactly the tree (kinds, scalar texts and styles, line/column/offset of every node) that the
 * libyaml path builds. libyaml decodes and re-buffers every character and goes through tokens and events;
 * that was almost half the instructions of `falco -V` on upstream's rule files.
 *
 * It only accepts what it fully understands, and hands everything else to libyaml (-EAGAIN): any byte outside
 * printable ASCII and '\n' (so tabs, CR, UTF-8, BOM), document markers and directives, anchors, aliases, tags,
 * flow mappings, nested flow sequences, '?' and ':' outside plain text, quoted or multi-line keys, explicit
 * block scalar indentation, escapes other than the one-character ones, line continuations in double quotes,
 * and every syntax error (libyaml then reports it). Limits (depth, nodes, scalar size) also defer to libyaml,
 * which reports them. Scalar scanning follows libyaml 0.2.5's scanner (yaml_parser_scan_plain_scalar,
 * scan_flow_scalar, scan_block_scalar) step by step, so folding and chomping come out the same;
 * tests/unit/test_yaml_fast.c compares both paths on every YAML file of the repository and on mutations of them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "yaml.h"
#include "yaml_fast.h"

#ifdef YF_DEBUG
#include <stdio.h>
#define BAIL (fprintf(stderr, "bail at yaml_fast.c:%d\n", __LINE__), -EAGAIN)
#else
#define BAIL (-EAGAIN)
#endif

struct yf {
	const char *s;
	size_t len;
	size_t p;      /* current byte */
	size_t ls;     /* start of the current line */
	uint32_t line; /* 0-based */
	const struct yaml_limits *lim;
	struct yaml_stream *ys;
	uint32_t nodes, depth;
	/* children of the open collections, as one stack */
	struct ynode **stack;
	size_t nstack, capstack;
	/* the scalar being scanned */
	char *buf;
	size_t nbuf, capbuf;
};

/* Bytes that end a run of plain scalar text: in the block context, and in the flow context. */
static const bool stop_block[256] = {[' '] = true, ['\n'] = true, [':'] = true};
static const bool stop_flow[256] = {[' '] = true, ['\n'] = true, [':'] = true, [','] = true,
				    ['['] = true, [']'] = true,	 ['{'] = true, ['}'] = true};
/* Bytes that cannot start a plain scalar (indicators, the end), or that the fast path leaves to libyaml. */
static const bool not_plain_start[256] = {
	['\0'] = true, ['['] = true, [']'] = true,  ['{'] = true, ['}'] = true,
	[','] = true,  ['?'] = true, [':'] = true,  ['!'] = true, ['&'] = true,
	['*'] = true,  ['%'] = true, ['@'] = true,  ['`'] = true, ['#'] = true,
	['|'] = true,  ['>'] = true, ['\''] = true, ['"'] = true,
};

static inline char at(const struct yf *y, size_t i)
{
	return y->p + i < y->len ? y->s[y->p + i] : '\0';
}

static inline bool blankz(char c)
{
	return c == ' ' || c == '\n' || c == '\0';
}

static inline uint32_t col(const struct yf *y)
{
	return (uint32_t)(y->p - y->ls);
}

static inline void newline(struct yf *y)
{
	y->p++;
	y->line++;
	y->ls = y->p;
}

struct mark {
	uint32_t line, col;
	size_t off;
};

static inline struct mark mark_here(const struct yf *y)
{
	return (struct mark){y->line, col(y), y->p};
}

static int buf_grow(struct yf *y, size_t n)
{
	size_t ncap = y->capbuf ? y->capbuf * 2 : 256;
	while (ncap < y->nbuf + n + 1)
		ncap *= 2;
	char *nb = realloc(y->buf, ncap);
	if (!nb)
		return -ENOMEM;
	y->buf = nb;
	y->capbuf = ncap;
	return 0;
}

static inline int buf_put(struct yf *y, const char *s, size_t n)
{
	if (y->nbuf + n + 1 > y->capbuf && buf_grow(y, n) < 0)
		return -ENOMEM;
	memcpy(y->buf + y->nbuf, s, n);
	y->nbuf += n;
	return 0;
}

static inline int buf_putc(struct yf *y, char c, size_t times)
{
	if (y->nbuf + times + 1 > y->capbuf && buf_grow(y, times) < 0)
		return -ENOMEM;
	memset(y->buf + y->nbuf, c, times);
	y->nbuf += times;
	return 0;
}

static struct ynode *new_node(struct yf *y, enum ynode_kind kind, struct mark m, int *err)
{
	if (++y->nodes > y->lim->max_nodes) {
		*err = BAIL;
		return NULL;
	}
	struct ynode *n = arena_zalloc(&y->ys->arena, sizeof(*n));
	if (!n) {
		*err = -ENOMEM;
		return NULL;
	}
	n->kind = kind;
	n->line = m.line + 1;
	n->col = m.col + 1;
	n->offset = (uint32_t)m.off;
	return n;
}

/* A scalar node from the scanned text in y->buf. */
static int make_scalar(struct yf *y, struct mark m, bool plain, struct ynode **ret)
{
	int err = 0;

	if (y->nbuf > y->lim->max_scalar)
		return BAIL;
	struct ynode *n = new_node(y, YN_SCALAR, m, &err);
	if (!n)
		return err;
	char *s = arena_alloc(&y->ys->arena, y->nbuf + 1);
	if (!s)
		return -ENOMEM;
	if (y->nbuf)
		memcpy(s, y->buf, y->nbuf);
	s[y->nbuf] = '\0';
	n->scalar.str = s;
	n->scalar.len = y->nbuf;
	n->scalar.plain = plain;
	*ret = n;
	return 0;
}

static int push(struct yf *y, struct ynode *n)
{
	if (y->nstack == y->capstack) {
		size_t ncap = y->capstack ? y->capstack * 2 : 64;
		struct ynode **ns = realloc(y->stack, ncap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		y->stack = ns;
		y->capstack = ncap;
	}
	y->stack[y->nstack++] = n;
	return 0;
}

/* Moves the stack entries from base up into n's items (a sequence) or pairs (a map). */
static int close_collection(struct yf *y, struct ynode *n, size_t base)
{
	size_t k = y->nstack - base;

	if (n->kind == YN_SEQ) {
		n->seq.n = k;
		n->seq.items = arena_alloc(&y->ys->arena, (k ? k : 1) * sizeof(*n->seq.items));
		if (!n->seq.items)
			return -ENOMEM;
		if (k)
			memcpy(n->seq.items, y->stack + base, k * sizeof(*n->seq.items));
	} else {
		n->map.n = k / 2;
		n->map.pairs =
			arena_alloc(&y->ys->arena, (k / 2 ? k / 2 : 1) * sizeof(*n->map.pairs));
		if (!n->map.pairs)
			return -ENOMEM;
		for (size_t i = 0; i < k / 2; i++)
			n->map.pairs[i] =
				(struct ypair){y->stack[base + 2 * i], y->stack[base + 2 * i + 1]};
	}
	y->nstack = base;
	return 0;
}

/* libyaml's scan_to_next_token: spaces, comments and line breaks. */
static void skip_to_token(struct yf *y)
{
	for (;;) {
		while (at(y, 0) == ' ')
			y->p++;
		if (at(y, 0) == '#') {
			const char *nl = memchr(y->s + y->p, '\n', y->len - y->p);
			y->p = nl ? (size_t)(nl - y->s) : y->len;
		}
		if (at(y, 0) == '\n') {
			newline(y);
			continue;
		}
		break;
	}
}

/* After a complete value: only spaces, then a comment or the end of the line. */
static bool line_ends(struct yf *y)
{
	while (at(y, 0) == ' ')
		y->p++;
	char c = at(y, 0);
	return c == '#' || c == '\n' || c == '\0';
}

/* yaml_parser_scan_plain_scalar, for indent (parser->indent + 1) in the block or flow context. */
static int scan_plain(struct yf *y, int indent, bool flow, struct ynode **ret)
{
	struct mark m = mark_here(y);
	bool leading_blanks = false;
	size_t spaces = 0, trailing_breaks = 0;
	int r;

	y->nbuf = 0;
	for (;;) {
		if (at(y, 0) == '#')
			break;
		/* the next run of scalar characters: up to a blank, ": ", or a flow indicator */
		const bool *stop = flow ? stop_flow : stop_block;
		size_t q = y->p;
		for (;;) {
			while (q < y->len && !stop[(unsigned char)y->s[q]])
				q++;
			if (q >= y->len || y->s[q] != ':')
				break;
			char next = q + 1 < y->len ? y->s[q + 1] : '\0';
			if (blankz(next))
				break;
			/* "x:" before a flow indicator: an error or the end, depending on the libyaml version */
			if (flow && strchr(",?[]{}", next))
				return BAIL;
			q++; /* a ':' inside the scalar */
		}
		if (q > y->p) {
			if (leading_blanks) {
				/* the first break folds to a space, or the empty lines after it stay */
				r = trailing_breaks ? buf_putc(y, '\n', trailing_breaks)
						    : buf_putc(y, ' ', 1);
				trailing_breaks = 0;
				leading_blanks = false;
			} else {
				r = buf_putc(y, ' ', spaces);
			}
			spaces = 0;
			if (r < 0 || (r = buf_put(y, y->s + y->p, q - y->p)) < 0)
				return r;
			y->p = q;
		}
		if (at(y, 0) != ' ' && at(y, 0) != '\n')
			break;
		while (at(y, 0) == ' ' || at(y, 0) == '\n') {
			if (at(y, 0) == ' ') {
				if (!leading_blanks)
					spaces++;
				y->p++;
			} else if (!leading_blanks) {
				spaces = 0;
				newline(y);
				leading_blanks = true;
			} else {
				trailing_breaks++;
				newline(y);
			}
		}
		if (!flow && (int)col(y) < indent)
			break;
	}
	return make_scalar(y, m, true, ret);
}

/* yaml_parser_scan_flow_scalar, without line continuations and multi-character escapes. */
static int scan_quoted(struct yf *y, struct ynode **ret)
{
	struct mark m = mark_here(y);
	char q = at(y, 0);
	bool single = q == '\'';
	size_t spaces = 0, trailing_breaks = 0;
	int r = 0;

	y->nbuf = 0;
	y->p++;
	for (;;) {
		bool leading_blanks = false;
		if (y->p >= y->len)
			return BAIL;
		while (!blankz(at(y, 0))) {
			char c = at(y, 0);
			if (single && c == '\'' && at(y, 1) == '\'') {
				r = buf_put(y, "'", 1);
				y->p += 2;
			} else if (c == q) {
				break;
			} else if (!single && c == '\\') {
				static const char from[] = "0abtnvfre \"/\\";
				static const char to[] = "\0\a\b\t\n\v\f\r\x1b \"/\\";
				const char *e = at(y, 1) ? strchr(from, at(y, 1)) : NULL;
				if (!e)
					return BAIL; /* \x \u \U \N \_ \L \P, continuations, errors */
				r = buf_put(y, &to[e - from], 1);
				y->p += 2;
			} else {
				r = buf_put(y, &c, 1);
				y->p++;
			}
			if (r < 0)
				return r;
		}
		if (y->p >= y->len)
			return BAIL;
		if (at(y, 0) == q)
			break;
		while (at(y, 0) == ' ' || at(y, 0) == '\n') {
			if (at(y, 0) == ' ') {
				if (!leading_blanks)
					spaces++;
				y->p++;
			} else if (!leading_blanks) {
				spaces = 0;
				newline(y);
				leading_blanks = true;
				/* a document marker inside a quoted scalar is an error in libyaml */
				if ((at(y, 0) == '-' && at(y, 1) == '-' && at(y, 2) == '-') ||
				    (at(y, 0) == '.' && at(y, 1) == '.' && at(y, 2) == '.'))
					return BAIL;
			} else {
				trailing_breaks++;
				newline(y);
				if ((at(y, 0) == '-' && at(y, 1) == '-' && at(y, 2) == '-') ||
				    (at(y, 0) == '.' && at(y, 1) == '.' && at(y, 2) == '.'))
					return BAIL;
			}
		}
		if (leading_blanks) {
			r = trailing_breaks ? buf_putc(y, '\n', trailing_breaks)
					    : buf_putc(y, ' ', 1);
			trailing_breaks = 0;
		} else {
			r = buf_putc(y, ' ', spaces);
		}
		spaces = 0;
		if (r < 0)
			return r;
	}
	y->p++; /* the closing quote */
	return make_scalar(y, m, false, ret);
}

/* yaml_parser_scan_block_scalar_breaks */
static void block_breaks(struct yf *y, int *indent, int parent_indent, size_t *breaks)
{
	int max_indent = 0;

	for (;;) {
		while ((!*indent || (int)col(y) < *indent) && at(y, 0) == ' ')
			y->p++;
		if ((int)col(y) > max_indent)
			max_indent = (int)col(y);
		if (at(y, 0) != '\n')
			break;
		(*breaks)++;
		newline(y);
	}
	if (!*indent) {
		*indent = max_indent;
		if (*indent < parent_indent + 1)
			*indent = parent_indent + 1;
		if (*indent < 1)
			*indent = 1;
	}
}

/* yaml_parser_scan_block_scalar, without an explicit indentation indicator. */
static int scan_block(struct yf *y, int parent_indent, struct ynode **ret)
{
	struct mark m = mark_here(y);
	bool literal = at(y, 0) == '|';
	int chomping = 0, indent = 0;
	bool leading_break = false, leading_blank = false;
	size_t trailing_breaks = 0;
	int r = 0;

	y->nbuf = 0;
	y->p++;
	if (at(y, 0) == '+' || at(y, 0) == '-') {
		chomping = at(y, 0) == '+' ? 1 : -1;
		y->p++;
	}
	if (at(y, 0) >= '0' && at(y, 0) <= '9')
		return BAIL;
	if (!line_ends(y))
		return BAIL;
	if (at(y, 0) == '#')
		while (y->p < y->len && y->s[y->p] != '\n')
			y->p++;
	if (at(y, 0) == '\n')
		newline(y);
	block_breaks(y, &indent, parent_indent, &trailing_breaks);
	while ((int)col(y) == indent && y->p < y->len) {
		bool trailing_blank = at(y, 0) == ' ';
		if (!literal && leading_break && !leading_blank && !trailing_blank) {
			if (!trailing_breaks)
				r = buf_putc(y, ' ', 1);
		} else if (leading_break) {
			r = buf_putc(y, '\n', 1);
		}
		leading_break = false;
		if (r < 0 || (r = buf_putc(y, '\n', trailing_breaks)) < 0)
			return r;
		trailing_breaks = 0;
		leading_blank = at(y, 0) == ' ';
		size_t s = y->p;
		while (y->p < y->len && y->s[y->p] != '\n')
			y->p++;
		if ((r = buf_put(y, y->s + s, y->p - s)) < 0)
			return r;
		if (at(y, 0) == '\n') {
			leading_break = true;
			newline(y);
		}
		block_breaks(y, &indent, parent_indent, &trailing_breaks);
	}
	if (chomping != -1 && leading_break && (r = buf_putc(y, '\n', 1)) < 0)
		return r;
	if (chomping == 1 && (r = buf_putc(y, '\n', trailing_breaks)) < 0)
		return r;
	return make_scalar(y, m, false, ret);
}

static bool flow_plain_start(char c, char next)
{
	return !not_plain_start[(unsigned char)c] && !(c == '-' && blankz(next));
}

/* [a, "b", c] of scalars. */
static int parse_flow_seq(struct yf *y, struct ynode **ret)
{
	int err = 0, r;
	struct ynode *n = new_node(y, YN_SEQ, mark_here(y), &err);
	size_t base = y->nstack;

	if (!n)
		return err;
	if (y->depth >= y->lim->max_depth)
		return BAIL;
	y->p++;
	for (;;) {
		struct ynode *item;
		skip_to_token(y);
		char c = at(y, 0);
		if (c == ']')
			break;
		if (c == '"' || c == '\'')
			r = scan_quoted(y, &item);
		else if (c && flow_plain_start(c, at(y, 1)))
			r = scan_plain(y, 0, true, &item);
		else
			return BAIL;
		if (r < 0 || (r = push(y, item)) < 0)
			return r;
		skip_to_token(y);
		if (at(y, 0) == ',') {
			y->p++;
			continue;
		}
		if (at(y, 0) != ']')
			return BAIL;
		break;
	}
	y->p++;
	if ((r = close_collection(y, n, base)) < 0)
		return r;
	*ret = n;
	return 0;
}

static int parse_node(struct yf *y, int parent_indent, bool allow_map, struct ynode **ret);
static int parse_seq(struct yf *y, bool indentless, struct ynode **ret);

/* A block mapping at column c whose first key (a plain scalar, the colon next) is already scanned. */
static int parse_map(struct yf *y, struct ynode *key, struct ynode **ret)
{
	int c = (int)key->col - 1, err = 0, r;
	struct ynode *n =
		new_node(y, YN_MAP, (struct mark){key->line - 1, key->col - 1, key->offset}, &err);
	size_t base = y->nstack;

	if (!n)
		return err;
	if (y->depth >= y->lim->max_depth)
		return BAIL;
	y->depth++;
	for (;;) {
		struct ynode *val;
		if ((r = push(y, key)) < 0)
			return r;
		y->p++; /* ':' */
		struct mark after_colon = mark_here(y);
		if (line_ends(y)) {
			skip_to_token(y);
			if (y->p < y->len && (int)col(y) > c) {
				r = parse_node(y, c, true, &val);
			} else if (y->p < y->len && (int)col(y) == c && at(y, 0) == '-' &&
				   blankz(at(y, 1))) {
				r = parse_seq(y, true, &val); /* an indentless sequence */
			} else {
				y->nbuf = 0;
				r = make_scalar(y, after_colon, true, &val);
			}
		} else {
			r = parse_node(y, c, false, &val);
		}
		if (r < 0 || (r = push(y, val)) < 0)
			return r;
		skip_to_token(y);
		if (y->p >= y->len || (int)col(y) < c)
			break;
		if ((int)col(y) > c || !flow_plain_start(at(y, 0), at(y, 1)) || at(y, 0) == '-')
			return BAIL;
		/* the next key: a plain scalar on one line, its colon within 1024 characters */
		uint32_t line = y->line;
		size_t kp = y->p;
		if ((r = scan_plain(y, c + 1, false, &key)) < 0)
			return r;
		if (at(y, 0) != ':' || y->line != line || y->p - kp > 1000)
			return BAIL;
	}
	y->depth--;
	if ((r = close_collection(y, n, base)) < 0)
		return r;
	*ret = n;
	return 0;
}

/*
 * A block sequence whose first '-' is at the current position (column c). An indentless one is the value of a
 * map key at the same column: it ends at the map's next key.
 */
static int parse_seq(struct yf *y, bool indentless, struct ynode **ret)
{
	int c = (int)col(y), err = 0, r;
	struct ynode *n = new_node(y, YN_SEQ, mark_here(y), &err);
	size_t base = y->nstack;

	if (!n)
		return err;
	if (y->depth >= y->lim->max_depth)
		return BAIL;
	y->depth++;
	for (;;) {
		struct ynode *item;
		y->p++; /* '-' */
		struct mark after_dash = mark_here(y);
		if (line_ends(y)) {
			skip_to_token(y);
			if (y->p < y->len && (int)col(y) > c) {
				r = parse_node(y, c, true, &item);
			} else {
				y->nbuf = 0;
				r = make_scalar(y, after_dash, true, &item);
			}
		} else {
			if (at(y, 0) == '-' && blankz(at(y, 1)))
				return BAIL; /* "- - a" */
			r = parse_node(y, c, true, &item);
		}
		if (r < 0 || (r = push(y, item)) < 0)
			return r;
		skip_to_token(y);
		if (y->p >= y->len || (int)col(y) < c)
			break;
		if ((int)col(y) == c && at(y, 0) == '-' && blankz(at(y, 1)))
			continue;
		if ((int)col(y) == c && indentless)
			break;
		return BAIL;
	}
	y->depth--;
	if ((r = close_collection(y, n, base)) < 0)
		return r;
	*ret = n;
	return 0;
}

/*
 * The node at the current position, inside a block collection whose indentation is parent_indent (libyaml's
 * parser->indent). allow_map: a "key:" here opens a map (not for a value on its key's line).
 */
static int parse_node(struct yf *y, int parent_indent, bool allow_map, struct ynode **ret)
{
	char c = at(y, 0);
	uint32_t line = y->line;
	size_t start = y->p;
	int r;

	if (c == '-' && blankz(at(y, 1)))
		return allow_map ? parse_seq(y, false, ret) : BAIL;
	if (c == '"' || c == '\'') {
		r = scan_quoted(y, ret);
		return r < 0 ? r : line_ends(y) ? 0 : BAIL;
	}
	if (c == '[') {
		r = parse_flow_seq(y, ret);
		return r < 0 ? r : line_ends(y) ? 0 : BAIL;
	}
	if (c == '{') { /* only the empty flow map, {} */
		int err = 0;
		struct ynode *n = new_node(y, YN_MAP, mark_here(y), &err);
		if (!n)
			return err;
		if (y->depth >= y->lim->max_depth)
			return BAIL;
		y->p++;
		skip_to_token(y);
		if (at(y, 0) != '}')
			return BAIL;
		y->p++;
		if ((r = close_collection(y, n, y->nstack)) < 0)
			return r;
		*ret = n;
		return line_ends(y) ? 0 : BAIL;
	}
	if (c == '|' || c == '>')
		return scan_block(y, parent_indent, ret);
	if (!c || !flow_plain_start(c, at(y, 1)))
		return BAIL;
	if ((r = scan_plain(y, parent_indent + 1, false, ret)) < 0)
		return r;
	if (at(y, 0) != ':')
		return 0;
	/* "key:": a map at this column, if the key was on one line and the colon close enough */
	if (!allow_map || y->line != line || y->p - start > 1000)
		return BAIL;
	return parse_map(y, *ret, ret);
}

int yaml_fast_parse(const char *buf, size_t len, const struct yaml_limits *lim,
		    struct yaml_stream **ret)
{
	struct yf y = {.s = buf, .len = len, .lim = lim};
	struct ynode *root = NULL;
	int r = 0;

	if (len > UINT32_MAX)
		return BAIL;
	/* printable ASCII and '\n' only; no directive or document marker at a line start */
	for (size_t i = 0; i < len; i++) {
		/* eight bytes at a time while they are all in 0x20..0x7e */
		while (i + 8 <= len) {
			const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
			uint64_t w, x;
			memcpy(&w, buf + i, 8);
			x = w ^ (ones * 0x7f);
			uint64_t m = (w & highs) | ((w - ones * 0x20) & ~w & highs) |
				     ((x - ones) & ~x & highs);
			if (m) {
				/* no false hit below the first real one: go straight to it */
				i += (size_t)__builtin_ctzll(m) / 8;
				break;
			}
			i += 8;
		}
		if (i >= len)
			break;
		unsigned char c = (unsigned char)buf[i];
		if (c >= 0x20 && c < 0x7f)
			continue;
		if (c != '\n')
			return BAIL;
		if (i + 1 < len && (buf[i + 1] == '%' || buf[i + 1] == '-' || buf[i + 1] == '.') &&
		    (buf[i + 1] == '%' ||
		     (i + 3 < len && buf[i + 2] == buf[i + 1] && buf[i + 3] == buf[i + 1])))
			return BAIL;
	}
	if (len && (buf[0] == '%' || ((buf[0] == '-' || buf[0] == '.') && len > 2 &&
				      buf[1] == buf[0] && buf[2] == buf[0])))
		return BAIL;
	y.ys = yaml_stream_new();
	if (!y.ys)
		return -ENOMEM;
	skip_to_token(&y);
	if (y.p < len) {
		r = parse_node(&y, -1, true, &root);
		if (r == 0) {
			skip_to_token(&y);
			if (y.p < len)
				r = BAIL;
		}
		if (r == 0) {
			y.ys->docs = malloc(sizeof(*y.ys->docs));
			if (!y.ys->docs)
				r = -ENOMEM;
			else
				y.ys->docs[y.ys->ndocs++] = root;
		}
	}
	free(y.stack);
	free(y.buf);
	if (r < 0) {
		yaml_stream_free(y.ys);
		return r;
	}
	*ret = y.ys;
	return 0;
}
