/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Output format strings (upstream libsinsp eventformatter): literal text, and "%[width]expr" tokens where expr
 * is the longest field or transformer expression that parses and names a known field. Missing values print
 * "<NA>" (Falco always formats rule outputs as tolerant of missing values); a width pads with blanks on the
 * right or truncates.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "rules_internal.h"

#define FMT_MAX_WIDTH  65536
#define FMT_MAX_TOKENS 4096

struct fmt *fmt_free(struct fmt *f)
{
	if (!f)
		return NULL;
	for (uint32_t i = 0; i < f->ntoks; i++) {
		flt_vexpr_free(f->toks[i].v);
		free((char *)f->toks[i].name);
	}
	free(f->toks);
	free(f->text);
	flt_cache_free(f->own_cache);
	flt_compiler_free(f->own);
	free(f);
	return NULL;
}

static int fmt_fail(struct fmt_error *err, uint32_t off, int code, const char *fmt, ...)
	_printf_(4, 5);

static int fmt_fail(struct fmt_error *err, uint32_t off, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrf(err->msg, sizeof(err->msg), code, fmt, ap);
	va_end(ap);
	err->off = off;
	return code;
}

static int push_tok(struct fmt *f, uint32_t *cap, const struct fmt_tok *t)
{
	if (f->ntoks == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 8;
		struct fmt_tok *nt = realloc(f->toks, ncap * sizeof(*nt));
		if (!nt)
			return -ENOMEM;
		f->toks = nt;
		*cap = ncap;
	}
	f->toks[f->ntoks++] = *t;
	return 0;
}

/* Length of the token's text for messages: up to the next blank. */
static int tok_len(const char *s, size_t len)
{
	size_t n = 0;
	while (n < len && n < 80 && !isspace((unsigned char)s[n]))
		n++;
	return (int)n;
}

/*
 * Parses and compiles the expression at s. A plain field unknown as a whole may still start with a known field
 * ("%proc.name.x" is proc.name followed by ".x"), so shorter dotted prefixes are tried, as upstream does.
 */
static int compile_token(struct flt_compiler *c, struct arena *a, const struct src_def *src,
			 const char *s, size_t len, struct flt_expr **ret, struct flt_vexpr **ret_v,
			 size_t *ret_used, struct flt_error *ferr)
{
	int r = flt_parse_value_expr(s, len, a, ret, ret_used, ferr);
	if (r < 0)
		return r;
	r = flt_compile_vexpr_text(c, src, s, *ret_used, *ret, ret_v, ferr);
	if (r != -EINVAL || (*ret)->kind != FE_FIELD || (*ret)->field.arg)
		return r;
	const char *name = (*ret)->field.name, *dotted;
	for (size_t n = strlen(name); n > 0;) {
		while (n > 0 && name[n - 1] != '.')
			n--;
		if (n == 0)
			break;
		n--; /* drop the dot */
		char buf[256];
		if (n >= sizeof(buf) || !memchr(name, '.', n))
			break;
		memcpy(buf, name, n);
		buf[n] = '\0';
		if (!fld_lookup(src, buf, &dotted))
			continue;
		struct flt_expr *shorter;
		struct flt_error e2;
		size_t used;
		if (flt_parse_value_expr(s, n, a, &shorter, &used, &e2) == 0 && used == n &&
		    flt_compile_vexpr_text(c, src, s, n, shorter, ret_v, &e2) == 0) {
			*ret = shorter;
			*ret_used = n;
			return 0;
		}
		break;
	}
	return r;
}

int fmt_build(struct flt_compiler *c, const struct src_def *src, const char *s, size_t len,
	      struct fmt **ret, struct fmt_error *err)
{
	struct fmt *f = calloc(1, sizeof(*f));
	struct arena a;
	uint32_t cap = 0;
	size_t lit = 0, i = 0;
	int r = 0;

	*err = (struct fmt_error){0};
	if (!f)
		return -ENOMEM;
	f->text = malloc(len + 1);
	if (!f->text) {
		fmt_free(f);
		return -ENOMEM;
	}
	memcpy(f->text, s, len);
	f->text[len] = '\0';
	const char *t = f->text;
	arena_init(&a, 4096, 1u << 20);

	while (i < len) {
		if (t[i] != '%') {
			i++;
			continue;
		}
		if (i > lit &&
		    (r = push_tok(f, &cap,
				  &(struct fmt_tok){.lit = t + lit,
						    .lit_len = (uint32_t)(i - lit)})) < 0)
			goto out;
		if (i + 1 == len) {
			r = fmt_fail(err, (uint32_t)i, -EINVAL,
				     "invalid formatting syntax: formatting cannot end with a %%");
			goto out;
		}
		size_t j = i + 1;
		uint32_t width = 0;
		while (j < len && isdigit((unsigned char)t[j])) {
			width = width * 10 + (uint32_t)(t[j] - '0');
			if (width > FMT_MAX_WIDTH) {
				r = fmt_fail(err, (uint32_t)i, -EINVAL,
					     "invalid formatting width (limit %u)", FMT_MAX_WIDTH);
				goto out;
			}
			j++;
		}
		if (j == len) {
			r = fmt_fail(
				err, (uint32_t)i, -EINVAL,
				"invalid formatting syntax: formatting cannot end with a number");
			goto out;
		}
		if (f->ntoks >= FMT_MAX_TOKENS) {
			r = fmt_fail(err, (uint32_t)i, -EINVAL,
				     "too many formatting tokens (limit %u)", FMT_MAX_TOKENS);
			goto out;
		}

		struct flt_expr *e = NULL;
		struct flt_error ferr;
		size_t used = 0;
		struct fmt_tok tok = {.width = width};
		r = compile_token(c, &a, src, t + j, len - j, &e, &tok.v, &used, &ferr);
		if (r == -ENOMEM)
			goto out;
		if (r < 0 && !e) {
			r = fmt_fail(err, (uint32_t)j, -EINVAL, "invalid formatting token %.*s",
				     tok_len(t + j, len - j), t + j);
			goto out;
		}
		if (r < 0) {
			r = fmt_fail(err, (uint32_t)j, -EINVAL, "invalid formatting token %.*s: %s",
				     (int)used, t + j, ferr.msg);
			goto out;
		}
		/* transformer results are not reported in output_fields, as upstream */
		if (e->kind == FE_FIELD) {
			char *name = strndup(t + j, used);
			if (!name) {
				flt_vexpr_free(tok.v);
				r = -ENOMEM;
				goto out;
			}
			tok.name = name;
		}
		if ((r = push_tok(f, &cap, &tok)) < 0) {
			flt_vexpr_free(tok.v);
			free((char *)tok.name);
			goto out;
		}
		i = j + used;
		lit = i;
	}
	if (i > lit &&
	    (r = push_tok(f, &cap,
			  &(struct fmt_tok){.lit = t + lit, .lit_len = (uint32_t)(i - lit)})) < 0)
		goto out;
	r = 0;
out:
	arena_done(&a);
	if (r < 0) {
		fmt_free(f);
		return r;
	}
	*ret = f;
	return 0;
}

int fmt_render_ec(const struct fmt *f, struct flt_eval_ctx *ec, struct strbuf *sb)
{
	for (uint32_t i = 0; i < f->ntoks; i++) {
		const struct fmt_tok *t = &f->toks[i];
		if (!t->v) {
			strbuf_append(sb, t->lit, t->lit_len);
			continue;
		}
		size_t start = sb->len;
		struct value v;
		if (flt_eval_vexpr(t->v, ec, &v) == 1)
			value_to_text(&v, sb);
		else
			strbuf_appends(sb, "<NA>");
		if (t->width && !sb->failed) {
			size_t got = sb->len - start;
			if (got > t->width) {
				sb->len = start + t->width;
				sb->buf[sb->len] = '\0';
			} else {
				for (size_t k = got; k < t->width; k++)
					strbuf_appendc(sb, ' ');
			}
		}
	}
	return sb->failed ? -ENOMEM : 0;
}

int fmt_compile(const struct ruleset *rs, uint16_t source, const char *format, struct fmt **ret,
		char *errbuf, size_t errlen)
{
	struct fmt_error err;
	struct fmt *f;

	if (source >= rs->nsources || !rs->src[source].src)
		return errf(errbuf, errlen, -EINVAL, "unknown source index %u", source);
	/* standalone formats get their own compiler so they never change the rule set's cache layout */
	struct flt_compiler *c = flt_compiler_new();
	if (!c)
		return -ENOMEM;
	int r = fmt_build(c, rs->src[source].src, format, strlen(format), &f, &err);
	if (r < 0) {
		flt_compiler_free(c);
		if (r == -ENOMEM)
			return errf(errbuf, errlen, r, "out of memory");
		return errf(errbuf, errlen, r, "%s (at offset %u)", err.msg, err.off);
	}
	f->own = c;
	f->own_cache = flt_cache_new(flt_compiler_nslots(c));
	if (!f->own_cache) {
		fmt_free(f);
		return -ENOMEM;
	}
	*ret = f;
	return 0;
}

int fmt_render(const struct fmt *f, struct rs_eval *ev, struct strbuf *sb)
{
	if (!f->own_cache)
		return fmt_render_ec(f, &ev->ec, sb);
	struct flt_eval_ctx ec = ev->ec;
	flt_cache_next_event(f->own_cache);
	ec.cache = f->own_cache;
	int r = fmt_render_ec(f, &ec, sb);
	ev->ec.extract_errors = ec.extract_errors;
	return r;
}
