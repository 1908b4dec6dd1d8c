/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lexing primitives of the condition language. Each lex_* function either consumes a token and returns true,
 * or leaves the cursor where it was: the parser backtracks by saving and restoring lx->i, as upstream's
 * regex-driven lexer does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "flt_internal.h"

void flt_lex_init(struct flt_lexer *lx, const char *s, size_t len, struct arena *a,
		  struct flt_error *err)
{
	*lx = (struct flt_lexer){.s = s, .len = len, .a = a, .err = err, .pc_line = 1, .pc_col = 1};
}

/* The last CR or LF in [from, to), or NULL. */
static const char *last_break(const char *from, const char *to)
{
	for (const char *p = to; p > from; p--)
		if (p[-1] == '\n' || p[-1] == '\r')
			return p - 1;
	return NULL;
}

struct flt_pos flt_lex_pos(struct flt_lexer *lx, size_t idx)
{
	if (idx > lx->len)
		idx = lx->len;
	/*
	 * Positions are mostly asked for in increasing order, but a node made after its children asks for an
	 * earlier one: step back from the cached position rather than recount from 0 (that was quadratic).
	 * As upstream, CR and LF each start a line. Most steps cross no line break: memchr finds that fast.
	 */
	if (idx >= lx->pc_idx) {
		const char *p = lx->s + lx->pc_idx, *end = lx->s + idx, *line_start = NULL;
		for (;;) {
			const char *n = memchr(p, '\n', (size_t)(end - p));
			const char *r = memchr(p, '\r', (size_t)((n ? n : end) - p));
			const char *b = r ? r : n;
			if (!b)
				break;
			lx->pc_line++;
			line_start = b + 1;
			p = b + 1;
		}
		if (line_start)
			lx->pc_col = (uint32_t)(end - line_start) + 1;
		else
			lx->pc_col += (uint32_t)(idx - lx->pc_idx);
	} else {
		const char *from = lx->s + idx, *to = lx->s + lx->pc_idx;
		bool crossed = false;
		for (const char *p = from; p < to; p++) {
			if (*p == '\n' || *p == '\r') {
				lx->pc_line--;
				crossed = true;
			}
		}
		if (crossed) {
			const char *b = last_break(lx->s, from);
			lx->pc_col = (uint32_t)(from - (b ? b + 1 : lx->s)) + 1;
		} else {
			lx->pc_col -= (uint32_t)(lx->pc_idx - idx);
		}
	}
	lx->pc_idx = idx;
	return (struct flt_pos){.idx = (uint32_t)idx, .line = lx->pc_line, .col = lx->pc_col};
}

int flt_lex_error(struct flt_lexer *lx, size_t idx, const char *fmt, ...)
{
	if (!lx->err)
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	(void)vsnprintf(lx->err->msg, sizeof(lx->err->msg), fmt, ap);
	va_end(ap);
	lx->err->pos = flt_lex_pos(lx, idx);
	return -EINVAL;
}

bool flt_is_blank(int c)
{
	/* upstream's blank class: space, tab, backspace, CR, LF (no \v or \f) */
	return c == ' ' || c == '\t' || c == '\b' || c == '\r' || c == '\n';
}

static bool is_space(int c)
{
	return c == ' ' || (c >= '\t' && c <= '\r');
}

static bool is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_xdigit(int c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* NUL, isspace() and the delimiters: bytes that end a bare string (a field argument) */
static const bool not_bare[256] = {
	[0] = true,    [' '] = true,  ['\t'] = true, ['\n'] = true, ['\v'] = true,
	['\f'] = true, ['\r'] = true, ['('] = true,  [')'] = true,  ['"'] = true,
	['\''] = true, ['='] = true,  [','] = true,
};
static const bool not_field_arg_bare[256] = {
	[0] = true,    [' '] = true, ['\t'] = true, ['\n'] = true, ['\v'] = true, ['\f'] = true,
	['\r'] = true, ['['] = true, [']'] = true,  ['"'] = true,  ['\''] = true,
};

bool flt_is_bare_char(int c)
{
	return c > 0 && c < 256 && !not_bare[c];
}

bool flt_is_field_arg_bare_char(int c)
{
	return c > 0 && c < 256 && !not_field_arg_bare[c];
}

static void set_last(struct flt_lexer *lx, size_t start)
{
	lx->last_tok = start;
	lx->last_tok_len = lx->i - start;
}

bool flt_lex_blank(struct flt_lexer *lx)
{
	size_t start = lx->i;
	while (lx->i < lx->len && flt_is_blank((unsigned char)lx->s[lx->i]))
		lx->i++;
	return lx->i > start;
}

bool flt_lex_space(struct flt_lexer *lx)
{
	size_t start = lx->i;
	while (lx->i < lx->len && is_space((unsigned char)lx->s[lx->i]))
		lx->i++;
	return lx->i > start;
}

bool flt_lex_word_op(struct flt_lexer *lx, const char *w)
{
	if (w[0] && (lx->i >= lx->len || lx->s[lx->i] != w[0]))
		return false;
	size_t n = strlen(w);
	if (lx->len - lx->i <= n || memcmp(lx->s + lx->i, w, n) != 0 ||
	    !flt_is_blank((unsigned char)lx->s[lx->i + n]))
		return false;
	size_t start = lx->i;
	lx->i += n;
	set_last(lx, start);
	flt_lex_blank(lx);
	return true;
}

static size_t scan_ident(const struct flt_lexer *lx, size_t i)
{
	size_t j = i;
	while (j < lx->len && is_alpha((unsigned char)lx->s[j]))
		j++;
	if (j == i)
		return 0;
	while (j < lx->len && (is_alpha((unsigned char)lx->s[j]) ||
			       is_digit((unsigned char)lx->s[j]) || lx->s[j] == '_'))
		j++;
	return j - i;
}

bool flt_lex_identifier(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len)
{
	size_t n = scan_ident(lx, lx->i);
	if (!n)
		return false;
	*ret_start = lx->i;
	*ret_len = n;
	lx->i += n;
	set_last(lx, *ret_start);
	return true;
}

bool flt_lex_field_name(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len)
{
	size_t start = lx->i, j = lx->i, n, parts = 0;

	while ((n = scan_ident(lx, j)) > 0) {
		j += n;
		parts++;
		/* a dot only belongs to the name when another part follows it */
		if (j < lx->len && lx->s[j] == '.' && scan_ident(lx, j + 1) > 0)
			j++;
		else
			break;
	}
	if (parts < 2)
		return false;
	*ret_start = start;
	*ret_len = j - start;
	lx->i = j;
	set_last(lx, start);
	return true;
}

bool flt_lex_hex_number(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len)
{
	size_t j = lx->i;
	if (flt_lex_peek(lx, 0) != '0' ||
	    (flt_lex_peek(lx, 1) != 'x' && flt_lex_peek(lx, 1) != 'X'))
		return false;
	j += 2;
	size_t d = j;
	while (j < lx->len && is_xdigit((unsigned char)lx->s[j]))
		j++;
	if (j == d)
		return false;
	*ret_start = lx->i;
	*ret_len = j - lx->i;
	lx->i = j;
	set_last(lx, *ret_start);
	return true;
}

bool flt_lex_number(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len)
{
	/* [+\-]?[0-9]+[\.]?[0-9]*([eE][+\-][0-9]+)? : the exponent needs its sign, as upstream */
	size_t j = lx->i;
	if (j < lx->len && (lx->s[j] == '+' || lx->s[j] == '-'))
		j++;
	size_t d = j;
	while (j < lx->len && is_digit((unsigned char)lx->s[j]))
		j++;
	if (j == d)
		return false;
	if (j < lx->len && lx->s[j] == '.')
		j++;
	while (j < lx->len && is_digit((unsigned char)lx->s[j]))
		j++;
	if (j + 2 < lx->len && (lx->s[j] == 'e' || lx->s[j] == 'E') &&
	    (lx->s[j + 1] == '+' || lx->s[j + 1] == '-') && is_digit((unsigned char)lx->s[j + 2])) {
		j += 2;
		while (j < lx->len && is_digit((unsigned char)lx->s[j]))
			j++;
	}
	*ret_start = lx->i;
	*ret_len = j - lx->i;
	lx->i = j;
	set_last(lx, *ret_start);
	return true;
}

bool flt_lex_bare_str(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len)
{
	size_t j = lx->i;
	while (j < lx->len && flt_is_bare_char((unsigned char)lx->s[j]))
		j++;
	if (j == lx->i)
		return false;
	*ret_start = lx->i;
	*ret_len = j - lx->i;
	lx->i = j;
	set_last(lx, *ret_start);
	return true;
}

bool flt_lex_field_arg_bare(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len)
{
	size_t j = lx->i;
	while (j < lx->len && flt_is_field_arg_bare_char((unsigned char)lx->s[j]))
		j++;
	if (j == lx->i)
		return false;
	*ret_start = lx->i;
	*ret_len = j - lx->i;
	lx->i = j;
	set_last(lx, *ret_start);
	return true;
}

static int hexval(int c)
{
	if (is_digit(c))
		return c - '0';
	return (c | 0x20) - 'a' + 10;
}

/*
 * Unescapes raw[0..n) (the text between the quotes) into out; returns the output length or -EINVAL.
 * Errors are reported at err_idx, just after the closing quote, where upstream's cursor is when it
 * unescapes.
 */
static int unescape(struct flt_lexer *lx, size_t raw_idx, size_t n, char delim, char *out,
		    size_t err_idx)
{
	const char *raw = lx->s + raw_idx;
	size_t o = 0;

	for (size_t j = 0; j < n; j++) {
		char c = raw[j];
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		char e = j + 1 < n ? raw[j + 1] : '\0';
		switch (e) {
		case 'b':
			out[o++] = '\b';
			break;
		case 'f':
			out[o++] = '\f';
			break;
		case 'n':
			out[o++] = '\n';
			break;
		case 'r':
			out[o++] = '\r';
			break;
		case 't':
			out[o++] = '\t';
			break;
		case '\\':
		case '/':
			out[o++] = e;
			break;
		case ' ':
			/* legacy quirk kept for compatibility: "\ " is a lone backslash, the space is dropped */
			out[o++] = '\\';
			break;
		case 'x':
			/* exactly two hex digits */
			if (j + 3 >= n || !is_xdigit((unsigned char)raw[j + 2]) ||
			    !is_xdigit((unsigned char)raw[j + 3]))
				return flt_lex_error(lx, err_idx,
						     "unsupported string escape sequence: \\x");
			out[o++] = (char)(hexval((unsigned char)raw[j + 2]) * 16 +
					  hexval((unsigned char)raw[j + 3]));
			j += 2;
			break;
		case '"':
		case '\'':
			if (e == delim) {
				out[o++] = e;
				break;
			}
			/* a quote escape must match the string's own delimiter */
			return flt_lex_error(lx, err_idx, "invalid \\%c escape in %c-quoted string",
					     e, delim);
		default:
			if (e == '\0')
				return flt_lex_error(lx, err_idx,
						     "unsupported string escape sequence: \\");
			return flt_lex_error(lx, err_idx,
					     "unsupported string escape sequence: \\%c", e);
		}
		j++;
	}
	out[o] = '\0';
	return (int)o;
}

int flt_lex_quoted(struct flt_lexer *lx, const char **ret, uint32_t *ret_len)
{
	int q = flt_lex_peek(lx, 0);
	if (q != '"' && q != '\'')
		return 0;
	/*
	 * Upstream closes the string at the first delimiter whose previous raw character is not a backslash,
	 * without tracking escape pairs: "a\\" does not end at its last quote. Kept for compatibility.
	 */
	size_t start = lx->i, j = lx->i + 1;
	while (j < lx->len && !(lx->s[j] == q && lx->s[j - 1] != '\\'))
		j++;
	if (j >= lx->len)
		return 0;
	size_t n = j - start - 1;
	if (n > UINT32_MAX - 1)
		return flt_lex_error(lx, start, "string too long");
	char *out = arena_alloc(lx->a, n + 1);
	if (!out)
		return -ENOMEM;
	int r = unescape(lx, start + 1, n, (char)q, out, j + 1);
	if (r < 0) {
		lx->i = j + 1; /* past the string, as upstream's lexer */
		return r;
	}
	lx->i = j + 1;
	set_last(lx, start);
	*ret = out;
	*ret_len = (uint32_t)r;
	return 1;
}
