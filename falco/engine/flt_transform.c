/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transformers (rules reference §2.5). Results live in the per-event arena (ctx->f.arena), so they stay valid
 * until the engine moves to the next event; nothing here calls malloc. Without an arena a transformer has no
 * value. Scalar transformers applied to a list field map over its items.
 */
#include <string.h>

#include "flt_internal.h"

static struct arena *arena_of(struct flt_eval_ctx *ec)
{
	return ec->f.arena;
}

/* Applies fn to every item of a list (or to a scalar) and builds the result in tmp. */
typedef bool (*map_fn)(struct arena *a, const struct value *in, struct value *out);

static const struct value *map(struct flt_eval_ctx *ec, const struct value *in, map_fn fn,
			       struct value *tmp)
{
	struct arena *a = arena_of(ec);
	if (!in->is_list) {
		struct value out = *in;
		if (!fn(a, in, &out))
			return NULL;
		*tmp = out;
		return tmp;
	}
	struct value *items = arena_alloc(a, sizeof(*items) * in->len);
	uint32_t n = 0;
	if (!items)
		return NULL;
	for (uint32_t i = 0; i < in->len; i++) {
		struct value it = in->items[i];
		it.type = in->type;
		it.is_list = false;
		/* one item that does not transform leaves the whole list without a value, as upstream */
		if (!fn(a, &it, &items[n++]))
			return NULL;
	}
	if (n == 0)
		return NULL;
	*tmp = (struct value){.type = in->type, .is_list = true, .len = n, .items = items};
	return tmp;
}

static bool case_map(struct arena *a, const struct value *in, struct value *out, bool upper)
{
	char *s = arena_alloc(a, (size_t)in->len + 1);
	if (!s)
		return false;
	for (uint32_t i = 0; i < in->len; i++) {
		unsigned char c = (unsigned char)in->str[i];
		if (upper && c >= 'a' && c <= 'z')
			c &= ~0x20;
		else if (!upper && c >= 'A' && c <= 'Z')
			c |= 0x20;
		s[i] = (char)c;
	}
	s[in->len] = '\0';
	*out = *in;
	out->str = s;
	return true;
}

static bool fn_lower(struct arena *a, const struct value *in, struct value *out)
{
	return case_map(a, in, out, false);
}

static bool fn_upper(struct arena *a, const struct value *in, struct value *out)
{
	return case_map(a, in, out, true);
}

static bool fn_basename(struct arena *a, const struct value *in, struct value *out)
{
	/* the part after the last '/'; a suffix of a NUL-terminated string needs no copy */
	const char *slash = in->len ? memrchr(in->str, '/', in->len) : NULL;
	*out = *in;
	if (slash) {
		out->str = slash + 1;
		out->len = in->len - (uint32_t)(slash + 1 - in->str);
	}
	return true;
}

static int b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static bool fn_b64(struct arena *a, const struct value *in, struct value *out)
{
	uint32_t n = in->len;
	while (n && in->str[n - 1] == '=')
		n--;
	if (n % 4 == 1 || in->len - n > 2)
		return false; /* not base64: no value, as upstream's failed decode */
	char *s = arena_alloc(a, (size_t)n * 3 / 4 + 1);
	uint32_t o = 0, acc = 0, bits = 0;
	if (!s)
		return false;
	for (uint32_t i = 0; i < n; i++) {
		int v = b64val((unsigned char)in->str[i]);
		if (v < 0)
			return false;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			s[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	s[o] = '\0';
	*out = *in;
	out->str = s;
	out->len = o;
	return true;
}

static const struct value *tr_len(const struct value *in, struct value *tmp)
{
	uint64_t n = in->len;
	/* strings are measured up to an embedded NUL (strnlen), buffers in full, lists by items */
	if (!in->is_list && in->type != FT_BUFFER && n) {
		const char *z = memchr(in->str, '\0', n);
		if (z)
			n = (uint64_t)(z - in->str);
	}
	*tmp = (struct value){.type = FT_U64, .u64 = n};
	return tmp;
}

static const struct value *tr_join(const struct cval *v, const struct value *in,
				   struct flt_eval_ctx *ec, struct value *tmp)
{
	uint32_t n = in->is_list ? in->len : 1;
	size_t total = 0;
	for (uint32_t i = 0; i < n; i++)
		total += (in->is_list ? in->items[i].len : in->len) + (i ? v->sep_len : 0);
	char *s = arena_alloc(arena_of(ec), total + 1);
	size_t o = 0;
	if (!s)
		return NULL;
	for (uint32_t i = 0; i < n; i++) {
		const struct value *it = in->is_list ? &in->items[i] : in;
		if (i) {
			memcpy(s + o, v->sep, v->sep_len);
			o += v->sep_len;
		}
		memcpy(s + o, it->str, it->len);
		o += it->len;
	}
	s[o] = '\0';
	*tmp = (struct value){.type = FT_STRING, .len = (uint32_t)o, .str = s};
	return tmp;
}

static const struct value *tr_concat(const struct cval *v, struct flt_eval_ctx *ec,
				     struct value *tmp)
{
	struct arena *a = arena_of(ec);
	const struct value **vals = arena_alloc(a, sizeof(*vals) * v->nargs);
	struct value *tmps = arena_alloc(a, sizeof(*tmps) * v->nargs);
	size_t total = 0, o = 0;

	if (!vals || !tmps)
		return NULL;
	for (uint32_t i = 0; i < v->nargs; i++) {
		/* any missing part leaves the whole concatenation without a value */
		if (!(vals[i] = flt_cval_get(v->args[i], ec, &tmps[i])))
			return NULL;
		total += vals[i]->len;
	}
	char *s = arena_alloc(a, total + 1);
	if (!s)
		return NULL;
	for (uint32_t i = 0; i < v->nargs; i++) {
		memcpy(s + o, vals[i]->str, vals[i]->len);
		o += vals[i]->len;
	}
	s[o] = '\0';
	*tmp = (struct value){.type = FT_STRING, .len = (uint32_t)o, .str = s};
	return tmp;
}

/* Splits a scalar command line on blanks into an argv-like list of NUL-terminated strings. */
static bool split_args(struct arena *a, const struct value *in, struct value *out)
{
	uint32_t n = 0, i = 0;
	struct value *items = arena_alloc(a, sizeof(*items) * (in->len / 2 + 1));
	if (!items)
		return false;
	while (i < in->len) {
		while (i < in->len && (in->str[i] == ' ' || in->str[i] == '\t'))
			i++;
		uint32_t st = i;
		while (i < in->len && in->str[i] != ' ' && in->str[i] != '\t')
			i++;
		if (i > st) {
			char *s = arena_strndup(a, in->str + st, i - st);
			if (!s)
				return false;
			items[n++] = (struct value){.type = in->type, .len = i - st, .str = s};
		}
	}
	*out = (struct value){.type = in->type, .is_list = true, .len = n, .items = items};
	return true;
}

/*
 * getopt(args, "optstring"): the options found, as getopt(3) with GNU argument permutation would see them
 * (non-options are skipped, "--" ends option parsing, unknown options are ignored). With [c]: the argument
 * of the last -c, or "" for a -c that takes none; no value when -c is absent.
 */
static const struct value *tr_getopt(const struct cval *v, const struct value *in,
				     struct flt_eval_ctx *ec, struct value *tmp)
{
	struct arena *a = arena_of(ec);
	const char *opts = v->optstring;
	struct value argv;
	struct value *found = NULL;
	uint32_t nfound = 0, cap = 0;
	const char *want_val = NULL;
	uint32_t want_len = 0;
	bool want_seen = false;

	while (*opts == '+' || *opts == '-' || *opts == ':')
		opts++;
	if (in->is_list)
		argv = *in;
	else if (!split_args(a, in, &argv))
		return NULL;

	for (uint32_t i = 0; i < argv.len; i++) {
		const char *s = argv.items[i].str;
		uint32_t len = argv.items[i].len;
		if (len == 2 && s[0] == '-' && s[1] == '-')
			break;
		if (len < 2 || s[0] != '-' || s[1] == '-')
			continue;
		for (uint32_t k = 1; k < len; k++) {
			char c = s[k];
			const char *p = c != ':' ? strchr(opts, c) : NULL;
			if (!p || !c)
				continue;
			const char *val = "";
			uint32_t vlen = 0;
			bool takes = p[1] == ':', optional = takes && p[2] == ':';
			if (takes) {
				if (k + 1 < len) {
					val = s + k + 1;
					vlen = len - k - 1;
				} else if (!optional && i + 1 < argv.len) {
					i++;
					val = argv.items[i].str;
					vlen = argv.items[i].len;
				} else if (!optional) {
					break; /* missing required argument: getopt reports an error, no option */
				}
			}
			if (v->targ) {
				if (c == v->targ[0]) {
					want_seen = true;
					want_val = val;
					want_len = vlen;
				}
			} else {
				if (nfound == cap) {
					uint32_t ncap = cap ? cap * 2 : 8;
					struct value *nf = arena_alloc(a, sizeof(*nf) * ncap);
					if (!nf)
						return NULL;
					if (nfound)
						memcpy(nf, found, sizeof(*nf) * nfound);
					found = nf;
					cap = ncap;
				}
				char *cs = arena_strndup(a, &c, 1);
				if (!cs)
					return NULL;
				found[nfound++] =
					(struct value){.type = FT_STRING, .len = 1, .str = cs};
			}
			if (takes)
				break;
		}
	}
	if (v->targ) {
		if (!want_seen)
			return NULL;
		*tmp = (struct value){.type = FT_STRING, .len = want_len, .str = want_val};
		return tmp;
	}
	if (nfound == 0)
		return NULL;
	*tmp = (struct value){.type = FT_STRING, .is_list = true, .len = nfound, .items = found};
	return tmp;
}

static const struct value *build_list(const struct cval *v, struct flt_eval_ctx *ec,
				      struct value *tmp)
{
	struct arena *a = arena_of(ec);
	struct value *items = NULL, t;
	uint32_t n = 0, cap = 0;

	for (uint32_t i = 0; i < v->nargs; i++) {
		const struct value *x = flt_cval_get(v->args[i], ec, &t);
		if (!x)
			continue; /* missing items are left out */
		uint32_t add = x->is_list ? x->len : 1;
		if (n + add > cap) {
			uint32_t ncap = MAX(cap * 2, n + add);
			struct value *ni = arena_alloc(a, sizeof(*ni) * ncap);
			if (!ni)
				return NULL;
			if (n)
				memcpy(ni, items, sizeof(*ni) * n);
			items = ni;
			cap = ncap;
		}
		for (uint32_t j = 0; j < add; j++) {
			items[n] = x->is_list ? x->items[j] : *x;
			items[n].type = FT_STRING;
			items[n].is_list = false;
			n++;
		}
	}
	if (n == 0)
		return NULL;
	*tmp = (struct value){.type = FT_STRING, .is_list = true, .len = n, .items = items};
	return tmp;
}

const struct value *flt_tr_eval(const struct cval *v, struct flt_eval_ctx *ec, struct value *tmp)
{
	struct value at;
	const struct value *in;

	switch (v->kind) {
	case CV_CONST:
		return &v->cv;
	case CV_FIELD:
		return flt_cval_get(v, ec, tmp);
	case CV_LIST:
		return arena_of(ec) ? build_list(v, ec, tmp) : NULL;
	case CV_TR:
		break;
	default:
		return NULL;
	}
	if (_unlikely_(!arena_of(ec)))
		return NULL;
	switch (v->tr) {
	case TR_CONCAT:
		return tr_concat(v, ec, tmp);
	case TR_JOIN:
		in = flt_cval_get(v->args[1], ec, &at);
		return in ? tr_join(v, in, ec, tmp) : NULL;
	case TR_GETOPT:
		in = flt_cval_get(v->args[0], ec, &at);
		return in ? tr_getopt(v, in, ec, tmp) : NULL;
	default:
		break;
	}
	in = flt_cval_get(v->args[0], ec, &at);
	if (!in)
		return NULL;
	switch (v->tr) {
	case TR_TOLOWER:
		return map(ec, in, fn_lower, tmp);
	case TR_TOUPPER:
		return map(ec, in, fn_upper, tmp);
	case TR_BASENAME:
		return map(ec, in, fn_basename, tmp);
	case TR_B64:
		return map(ec, in, fn_b64, tmp);
	case TR_LEN:
		return tr_len(in, tmp);
	default:
		return NULL;
	}
}
