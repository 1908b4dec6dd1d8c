/* SPDX-License-Identifier: Apache-2.0 */
/*
 * AST → compiled program. Fields resolve to extractors (with de-duplicated cache slots across every program of
 * one flt_compiler), right-hand literals are parsed once for the left-hand type, `in` lists become hash sets,
 * regexes are compiled, and the and/or/not structure is flattened and constant-folded.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "flt_internal.h"

/* ASTs with macros spliced in nest deeper than one parsed condition; still bound the recursion. */
#define COMPILE_MAX_DEPTH (4 * FLT_MAX_DEPTH)
/* in/intersects lists up to this size are searched linearly instead of hashed */
#define SMALL_SET 8

struct flt_compiler {
	struct hmap slots; /* (def, arg) → slot + 1 */
	struct hmap
		vexprs; /* (src, token text) → shared struct flt_vexpr * (flt_compile_vexpr_text) */
	struct arena keys;
	uint32_t nslots;
};

struct flt_compiler *flt_compiler_new(void)
{
	struct flt_compiler *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	arena_init(&c->keys, 4096, 0);
	if (hmap_init(&c->slots, 64) < 0 || hmap_init(&c->vexprs, 64) < 0) {
		hmap_done(&c->slots);
		free(c);
		return NULL;
	}
	return c;
}

struct flt_compiler *flt_compiler_free(struct flt_compiler *c)
{
	if (c) {
		hmap_for_each(&c->vexprs, s) flt_vexpr_free(s->val);
		hmap_done(&c->vexprs);
		hmap_done(&c->slots);
		arena_done(&c->keys);
		free(c);
	}
	return NULL;
}

uint32_t flt_compiler_nslots(const struct flt_compiler *c)
{
	return c->nslots;
}

/* One compilation: where memory goes, where errors and warnings go. */
struct cc {
	struct flt_compiler *comp;
	const struct src_def *src;
	struct cmem *m;
	flt_warn_fn warn;
	void *warn_ud;
	struct flt_error *err;
	uint32_t depth;
};

_printf_(3, 4) static int cc_err(struct cc *cc, const struct flt_pos *pos, const char *fmt, ...)
{
	if (cc->err) {
		va_list ap;
		va_start(ap, fmt);
		(void)vsnprintf(cc->err->msg, sizeof(cc->err->msg), fmt, ap);
		va_end(ap);
		cc->err->pos = pos ? *pos : (struct flt_pos){0, 1, 1};
	}
	return -EINVAL;
}

/* Every failure other than cc_err's -EINVAL (allocation, set limits) still gets a message. */
static int cc_fail(struct cc *cc, int r)
{
	if (r != -EINVAL && cc->err) {
		snprintf(cc->err->msg, sizeof(cc->err->msg), "cannot compile the condition: %s",
			 strerror(-r));
		cc->err->pos = (struct flt_pos){0, 1, 1};
	}
	return r;
}

_printf_(3, 4) static void cc_warn(struct cc *cc, const struct flt_pos *pos, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!cc->warn)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cc->warn(cc->warn_ud, pos, msg);
}

static const char *type_desc(enum fld_type t, bool is_list)
{
	return is_list ? "list" : fld_type_name(t);
}

/* "'uint64'" or "'string (list)'", as upstream quotes types in field-to-field errors */
static const char *qtype(enum fld_type t, bool is_list, char *buf, size_t n)
{
	snprintf(buf, n, "'%s%s'", fld_type_name(t), is_list ? " (list)" : "");
	return buf;
}

/* The field an expression is about: itself, or the first field under its transformers. */
static const char *expr_field(const struct flt_expr *e)
{
	switch (e->kind) {
	case FE_FIELD:
		return e->field.name;
	case FE_TRANSFORMER:
		for (uint32_t i = 0; i < e->tr.nargs; i++) {
			const char *f = expr_field(e->tr.args[i]);
			if (f)
				return f;
		}
		return NULL;
	case FE_LIST:
		for (uint32_t i = 0; i < e->list.n; i++) {
			const char *f = expr_field(e->list.items[i]);
			if (f)
				return f;
		}
		return NULL;
	default:
		return NULL;
	}
}

/* ---- fields ---- */

static bool is_index(const char *s, uint32_t n)
{
	if (n == 0 || n > 18)
		return false;
	if (s[0] == '0' && n > 1)
		return false;
	for (uint32_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int slot_for(struct cc *cc, const struct fld_def *def, const char *arg, uint32_t arg_len,
		    bool dotted, uint32_t *ret)
{
	struct flt_compiler *c = cc->comp;
	size_t klen = sizeof(def) + 1 + (arg ? arg_len : 0);
	char stackkey[256];
	char *key = klen <= sizeof(stackkey) ? stackkey : arena_alloc(&c->keys, klen);

	if (!key)
		return -ENOMEM;
	memcpy(key, &def, sizeof(def));
	/* "no argument" differs from an empty one, and evt.arg.x from evt.arg[x] */
	key[sizeof(def)] = arg ? (dotted ? 2 : 1) : 0;
	if (arg && arg_len)
		memcpy(key + sizeof(def) + 1, arg, arg_len);
	void *v = hmap_get(&c->slots, key, klen);
	if (v) {
		*ret = (uint32_t)(uintptr_t)v - 1;
		return 0;
	}
	if (key == stackkey) {
		key = arena_alloc(&c->keys, klen);
		if (!key)
			return -ENOMEM;
		memcpy(key, stackkey, klen);
	}
	uint32_t slot = c->nslots;
	int r = hmap_put(&c->slots, key, klen, (void *)(uintptr_t)(slot + 1));
	if (r < 0)
		return r;
	c->nslots++;
	*ret = slot;
	return 0;
}

static struct cval *new_cval(struct cc *cc, enum cv_kind kind, const struct flt_pos *pos)
{
	struct cval *v = arena_zalloc(&cc->m->a, sizeof(*v));
	if (v) {
		v->kind = kind;
		v->pos = *pos;
	}
	return v;
}

static int compile_field(struct cc *cc, const struct flt_expr *e, struct cval **ret)
{
	const char *dotted = NULL;
	const struct fld_def *def = fld_lookup(cc->src, e->field.name, &dotted);
	const char *arg = e->field.arg;
	uint32_t arg_len = e->field.arg_len;
	int r;

	if (!def) /* upstream names the field with its argument: "x.y[arg]" */
		return cc_err(cc, &e->pos, "filter_check called with nonexistent field %s%s%.*s%s",
			      e->field.name, e->field.arg ? "[" : "",
			      e->field.arg ? (int)MIN(e->field.arg_len, 200) : 0,
			      e->field.arg ? e->field.arg : "", e->field.arg ? "]" : "");
	uint32_t f = def->flags;
	if (dotted) {
		if (arg)
			return cc_err(
				cc, &e->pos,
				"field '%s' takes an argument after a dot or in brackets, not both",
				def->name);
		arg = dotted;
		arg_len = (uint32_t)strlen(dotted);
	}
	bool takes = f & (FLD_ARG_ALLOWED | FLD_ARG_REQUIRED | FLD_ARG_INDEX | FLD_ARG_DOTTED |
			  FLD_ARG_LIST_INDEX);
	if (arg && !takes)
		return cc_err(cc, &e->pos, "field '%s' does not take an argument", def->name);
	if (!arg && (f & FLD_ARG_REQUIRED))
		return cc_err(cc, &e->pos, "field '%s' requires an argument", def->name);

	struct cval *v = new_cval(cc, CV_FIELD, &e->pos);
	if (!v)
		return -ENOMEM;
	v->fi.def = def;
	v->fi.arg_num = -1;
	if (arg) {
		if ((f & (FLD_ARG_INDEX | FLD_ARG_LIST_INDEX)) && !dotted) {
			if (!is_index(arg, arg_len))
				return cc_err(
					cc, &e->pos,
					"invalid index '%.*s' for field '%s': expected a number",
					(int)MIN(arg_len, 100), arg, def->name);
			v->fi.arg_num = strtoll(arg, NULL, 10);
		}
		if (!(v->fi.arg = arena_strndup(&cc->m->a, arg, arg_len)))
			return -ENOMEM;
		v->fi.arg_len = arg_len;
	}
	v->fi.arg_dotted = dotted != NULL;
	if ((r = slot_for(cc, def, arg, arg_len, dotted != NULL, &v->fi.slot)) < 0)
		return r;
	if (def->prepare) {
		char eb[256] = "";
		r = def->prepare(&v->fi, eb, sizeof(eb));
		if (r < 0)
			return r == -ENOMEM ? r
					    : cc_err(cc, &e->pos, "%s",
						     eb[0] ? eb : "invalid field argument");
	}
	if (def->release && (r = flt_cmem_add_cleanup(cc->m, CL_FIELD, &v->fi)) < 0) {
		def->release(&v->fi);
		return r;
	}
	v->type = def->type;
	v->is_list = (f & FLD_LIST) && !((f & FLD_ARG_LIST_INDEX) && arg);
	*ret = v;
	return 0;
}

/* ---- value expressions ---- */

static int compile_expr(struct cc *cc, const struct flt_expr *e, struct cval **ret);

/* The transformer e cannot take its argument number i: name the argument's field, as upstream. */
static int tr_type_err(struct cc *cc, const struct flt_expr *e, const struct cval *const *args,
		       uint32_t i)
{
	const char *f = expr_field(e->tr.args[i]);
	return cc_err(cc, &e->pos,
		      "can't add field transformer: type '%s' is not supported by '%s' transformer "
		      "applied on %sfield '%s'",
		      fld_type_name(args[i]->type), flt_transformer_to_string(e->tr.tr),
		      args[i]->is_list ? "list " : "", f ? f : "(constant)");
}

static int compile_tr(struct cc *cc, const struct flt_expr *e, struct cval **ret)
{
	enum flt_transformer tr = e->tr.tr;
	const char *name = flt_transformer_to_string(tr);
	uint32_t n = e->tr.nargs;
	int r;

	if (tr == TR_VAL) { /* a marker for "this is a field", not a transformation */
		if (e->tr.arg)
			return cc_err(cc, &e->pos,
				      "val() takes no argument: write val(field[arg])");
		return compile_expr(cc, e->tr.args[0], ret);
	}
	if (++cc->depth > COMPILE_MAX_DEPTH)
		return cc_err(cc, &e->pos, "exceeded max depth limit of %d", COMPILE_MAX_DEPTH);

	struct cval *v = new_cval(cc, CV_TR, &e->pos);
	if (!v || !(v->args = arena_zalloc(&cc->m->a, sizeof(*v->args) * n)))
		return -ENOMEM;
	v->tr = tr;
	v->nargs = n;
	for (uint32_t i = 0; i < n; i++) {
		const struct flt_expr *a = e->tr.args[i];
		if ((r = compile_expr(cc, a, &v->args[i])) < 0)
			return r;
		if (a->kind == FE_FIELD && (v->args[i]->fi.def->flags & FLD_NO_TRANSFORM))
			return cc_err(cc, &a->pos, "field '%s' does not support transformers",
				      a->field.name);
	}
	if (e->tr.arg && tr != TR_GETOPT)
		return cc_err(cc, &e->pos, "transformer '%s' does not take an argument", name);

	switch (tr) {
	case TR_TOLOWER:
	case TR_TOUPPER:
	case TR_BASENAME:
	case TR_B64:
	case TR_LEN: {
		if (n != 1)
			return cc_err(cc, &e->pos, "transformer '%s' takes exactly one argument",
				      name);
		const struct cval *a = v->args[0];
		/* upstream's transform_type: b64 takes strings and buffers (not paths), len anything textual
		 * or any list, the others strings and paths */
		bool ok = tr == TR_B64 ? a->type == FT_STRING || a->type == FT_BUFFER
			  : tr == TR_LEN
				  ? a->is_list || flt_is_text_type(a->type) || a->type == FT_BUFFER
				  : flt_is_text_type(a->type);
		if (!ok)
			return tr_type_err(cc, e, (const struct cval *const *)v->args, 0);
		v->type = tr == TR_LEN ? FT_U64 : a->type;
		v->is_list = tr == TR_LEN ? false : a->is_list;
		break;
	}
	case TR_JOIN:
		if (n != 2 || e->tr.args[0]->kind != FE_STRING)
			return cc_err(cc, &e->pos,
				      "transformer 'join' takes a quoted separator and a list");
		if (!flt_is_text_type(v->args[1]->type))
			return tr_type_err(cc, e, (const struct cval *const *)v->args, 1);
		v->sep = v->args[0]->cv.str;
		v->sep_len = v->args[0]->cv.len;
		v->type = FT_STRING;
		break;
	case TR_CONCAT:
		if (n < 2)
			return cc_err(cc, &e->pos,
				      "transformer 'concat' takes at least two arguments");
		for (uint32_t i = 0; i < n; i++)
			if (!flt_is_text_type(v->args[i]->type) || v->args[i]->is_list)
				return tr_type_err(cc, e, (const struct cval *const *)v->args, i);
		v->type = FT_STRING;
		break;
	case TR_GETOPT:
		if (n != 2 || e->tr.args[1]->kind != FE_STRING)
			return cc_err(
				cc, &e->pos,
				"transformer 'getopt' takes a list of arguments and a quoted optstring");
		if (!flt_is_text_type(v->args[0]->type))
			return tr_type_err(cc, e, (const struct cval *const *)v->args, 0);
		v->optstring = v->args[1]->cv.str;
		if (e->tr.arg) {
			if (e->tr.arg_len != 1 || e->tr.arg[0] == ':')
				return cc_err(cc, &e->pos,
					      "getopt option must be a single character");
			if (!(v->targ = arena_strndup(&cc->m->a, e->tr.arg, e->tr.arg_len)))
				return -ENOMEM;
			v->targ_len = 1;
		}
		v->type = FT_STRING;
		v->is_list = !e->tr.arg;
		break;
	default:
		return cc_err(cc, &e->pos, "unknown transformer");
	}
	cc->depth--;
	*ret = v;
	return 0;
}

static int compile_expr(struct cc *cc, const struct flt_expr *e, struct cval **ret)
{
	struct cval *v;
	int r;

	switch (e->kind) {
	case FE_FIELD:
		return compile_field(cc, e, ret);
	case FE_TRANSFORMER:
		return compile_tr(cc, e, ret);
	case FE_STRING:
	case FE_NUMBER:
		/* transformer literals are text (concat, join separators, getopt optstrings) */
		if (!(v = new_cval(cc, CV_CONST, &e->pos)))
			return -ENOMEM;
		v->type = FT_STRING;
		v->cv.type = FT_STRING;
		v->cv.len = e->lit.len;
		if (!(v->cv.str = arena_strndup(&cc->m->a, e->lit.s, e->lit.len)))
			return -ENOMEM;
		*ret = v;
		return 0;
	case FE_LIST:
		if (!(v = new_cval(cc, CV_LIST, &e->pos)))
			return -ENOMEM;
		v->nargs = e->list.n;
		if (!(v->args = arena_zalloc(&cc->m->a,
					     sizeof(*v->args) * (e->list.n ? e->list.n : 1))))
			return -ENOMEM;
		for (uint32_t i = 0; i < e->list.n; i++) {
			if ((r = compile_expr(cc, e->list.items[i], &v->args[i])) < 0)
				return r;
			if (!flt_is_text_type(v->args[i]->type))
				return cc_err(cc, &e->list.items[i]->pos,
					      "list items must be strings, not %s",
					      type_desc(v->args[i]->type, v->args[i]->is_list));
		}
		v->type = FT_STRING;
		v->is_list = true;
		*ret = v;
		return 0;
	}
	return cc_err(cc, &e->pos, "invalid expression");
}

/* ---- right-hand literals ---- */

static int parse_ip(const char *s, struct ipaddr *ip)
{
	memset(ip, 0, sizeof(*ip));
	if (inet_pton(AF_INET, s, ip->bytes) == 1) {
		ip->family = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ip->bytes) == 1) {
		ip->family = 6;
		return 0;
	}
	return -EINVAL;
}

static int parse_net(const char *s, struct ipaddr *ip, uint8_t *prefix)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (parse_ip(buf, ip) < 0)
		return -EINVAL;
	unsigned max = ip->family == 6 ? 128 : 32;
	if (!slash) {
		*prefix = (uint8_t)max;
		return 0;
	}
	char *end;
	if (!isdigit((unsigned char)slash[1]))
		return -EINVAL;
	unsigned long p = strtoul(slash + 1, &end, 10);
	if (*end || p > max)
		return -EINVAL;
	*prefix = (uint8_t)p;
	return 0;
}

static int unhex(const char *s, uint32_t n, char *out)
{
	if (n % 2)
		return -EINVAL;
	for (uint32_t i = 0; i < n; i += 2) {
		int hi = isxdigit((unsigned char)s[i]), lo = isxdigit((unsigned char)s[i + 1]);
		if (!hi || !lo)
			return -EINVAL;
		char t[3] = {s[i], s[i + 1], 0};
		out[i / 2] = (char)strtoul(t, NULL, 16);
	}
	return (int)(n / 2);
}

/* Decimal unless "0x": a leading zero is not octal ("010" is ten, as upstream reads it). */
static int num_base(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	return s[0] == '0' && (s[1] == 'x' || s[1] == 'X') ? 16 : 10;
}

/* Parses lit for a left-hand side of element type t under op into out. */
static int parse_lit(struct cc *cc, enum fld_type t, enum flt_op op, const struct flt_literal *lit,
		     struct crhs *out)
{
	const char *s = lit->s;
	char *end;

	memset(out, 0, sizeof(*out));
	out->op = (uint8_t)op;
	out->ltype = (uint8_t)t;
	out->v.type = (uint8_t)t;
	switch (t) {
	case FT_STRING:
	case FT_PATH:
		if (!(out->v.str = arena_strndup(&cc->m->a, s, lit->len)))
			return -ENOMEM;
		out->v.len = lit->len;
		return 0;
	case FT_BUFFER: {
		char *b = arena_alloc(&cc->m->a, lit->len + 1);
		if (!b)
			return -ENOMEM;
		if (op == OP_BCONTAINS || op == OP_BSTARTSWITH) {
			int n = unhex(s, lit->len, b);
			if (n < 0)
				return cc_err(
					cc, &lit->pos,
					"bcontains and bstartswith operator support hex strings only");
			b[n] = '\0';
			out->v.len = (uint32_t)n;
		} else {
			memcpy(b, s, lit->len);
			b[lit->len] = '\0';
			out->v.len = lit->len;
		}
		out->v.str = b;
		return 0;
	}
	case FT_U64:
	case FT_RELTIME:
	case FT_ABSTIME:
		errno = 0;
		if (lit->len == 0 || !(isdigit((unsigned char)s[0]) ||
				       (s[0] == '+' && isdigit((unsigned char)s[1]))))
			goto bad_number;
		out->v.u64 = strtoull(s, &end, num_base(s));
		if (errno || *end || end != s + lit->len)
			goto bad_number;
		return 0;
	case FT_S64:
		errno = 0;
		if (lit->len == 0 || isspace((unsigned char)s[0]))
			goto bad_number;
		out->v.s64 = strtoll(s, &end, num_base(s));
		if (errno || *end || end != s + lit->len || end == s)
			goto bad_number;
		return 0;
	case FT_DOUBLE:
		errno = 0;
		if (lit->len == 0)
			goto bad_number;
		out->v.d = strtod(s, &end);
		if (errno || *end || end != s + lit->len || end == s)
			goto bad_number;
		return 0;
	case FT_BOOL:
		if (strcmp(s, "true") == 0)
			out->v.b = true;
		else if (strcmp(s, "false") == 0)
			out->v.b = false;
		else
			return cc_err(cc, &lit->pos, "filter error: unrecognized boolean value %s",
				      s);
		return 0;
	case FT_IPADDR:
		if (parse_ip(s, &out->v.ip) < 0)
			return cc_err(cc, &lit->pos, "filter error: invalid IP address '%s'", s);
		return 0;
	case FT_IPNET:
		if (parse_net(s, &out->v.ip, &out->prefix) < 0)
			return cc_err(cc, &lit->pos, "filter error: invalid IP network '%s'", s);
		out->v.type = FT_IPNET;
		return 0;
	default:
		return cc_err(cc, &lit->pos, "values of type %s cannot be compared",
			      fld_type_name(t));
	}
bad_number:
	return cc_err(cc, &lit->pos, "filter error: invalid %s value '%s'", fld_type_name(t), s);
}

/*
 * Upstream's compile warnings for a right-hand value, in its order: the regex simplification hint, then a
 * value that (without its spaces) names a field, then one that looks like a transformer call.
 */
static void value_warnings(struct cc *cc, enum flt_op op, const struct flt_literal *lit,
			   const struct flt_pos *pos)
{
	static const char rgx_special[] = ".+*?^$()[]{}|\\";
	char nospace[256];
	size_t n = 0;

	if (!cc->warn)
		return;
	if (op == OP_REGEX) {
		const char *v = lit->s;
		size_t len = lit->len, i;
		for (i = 0; i < len; i++) {
			/* anchors are implied by the full match; ".*" etc. at either end maps to an operator */
			if ((i == 0 && v[i] == '^') || (i == len - 1 && v[i] == '$'))
				continue;
			if (((i == 0 && len > 1) || i + 2 == len) && v[i] == '.' && v[i + 1] &&
			    strchr("+*?", v[i + 1])) {
				i++;
				continue;
			}
			if (v[i] && strchr(rgx_special, v[i]))
				break;
		}
		if (i >= len)
			cc_warn(cc, pos,
				"regex check with '%s' may be optimized with simpler operators such as "
				"'=', 'contains', 'startswith', 'endswith'",
				lit->s);
	}
	/*
	 * What follows concerns values that may name a field ("class.name") or a transformer call ("name(...)"):
	 * without spaces, both start with a letter, and have a dot or end with ')'. Most values are neither.
	 */
	size_t vb = 0, ve = lit->len;
	while (vb < ve && isspace((unsigned char)lit->s[vb]))
		vb++;
	while (ve > vb && isspace((unsigned char)lit->s[ve - 1]))
		ve--;
	if (vb == ve || !isalpha((unsigned char)lit->s[vb]) ||
	    (!memchr(lit->s + vb, '.', ve - vb) && lit->s[ve - 1] != ')'))
		return;
	for (uint32_t i = 0; i < lit->len; i++) {
		if (isspace((unsigned char)lit->s[i]))
			continue;
		if (n + 1 >= sizeof(nospace))
			return; /* no field name is that long */
		nospace[n++] = lit->s[i];
	}
	nospace[n] = '\0';
	if (n == 0)
		return;

	/* every field name is "class.name": a value without a dot cannot name one (most values) */
	if (isalpha((unsigned char)nospace[0]) && memchr(nospace, '.', n)) {
		struct arena a;
		struct flt_expr *e;
		size_t used;
		arena_init(&a, 1024, 1u << 20);
		if (flt_parse_value_expr(nospace, n, &a, &e, &used, NULL) == 0 && used == n &&
		    e->kind == FE_FIELD && fld_lookup(cc->src, e->field.name, NULL))
			cc_warn(cc, pos,
				"'%s' may be a valid field misused as a const string value",
				lit->s);
		arena_done(&a);
	}

	if (nospace[n - 1] != ')')
		return;
	for (int t = 0; t < _TR_MAX; t++) {
		const char *name = flt_transformer_to_string(t);
		size_t tl = strlen(name);
		if (n >= tl + 2 && memcmp(nospace, name, tl) == 0 && nospace[tl] == '(' &&
		    nospace[n - 1] == ')')
			cc_warn(cc, pos,
				"'%s' may be a valid field transformer misused as a const string value",
				lit->s);
	}
}

/* ---- checks ---- */

static const char *expr_name(const struct flt_expr *e, char *buf, size_t n)
{
	struct strbuf sb;
	const char *f = expr_field(e);
	if (f) {
		snprintf(buf, n, "%s", f);
		return buf;
	}
	strbuf_init(&sb, n);
	flt_dump_expr(&sb, e);
	snprintf(buf, n, "%s", strbuf_str(&sb));
	strbuf_done(&sb);
	return buf;
}

static struct cnode *new_const(struct cc *cc, bool v)
{
	struct cnode_const *k = arena_zalloc(&cc->m->a, sizeof(*k));
	if (!k)
		return NULL;
	k->h.eval = flt_node_const;
	k->h.kind = CN_CONST;
	k->v = v;
	return &k->h;
}

static bool hashable(enum fld_type t)
{
	return t != FT_DOUBLE && t != FT_IPNET && t != FT_NONE;
}

static int compile_rhs_expr(struct cc *cc, const struct flt_node *n, struct cnode_check *c)
{
	const struct flt_expr *lhs = n->check.lhs, *rhs = n->check.rhs.expr;
	const char *opname = flt_op_to_string(n->check.op);
	char ln[128], rn[128];
	struct cval *rv;
	int r;

	char lt[64], rt[64];

	/* restrictions and texts as upstream's sinsp_filter_check::add_filter_value */
	if (n->check.op == OP_PMATCH || n->check.op == OP_REGEX)
		return cc_err(cc, &rhs->pos, "operator '%s' doesn't support right-hand side fields",
			      opname);
	if (c->lhs->type == FT_IPNET)
		return cc_err(cc, &rhs->pos,
			      "field type 'IPNET' doesn't support right-hand side fields");
	if (c->lhs->kind == CV_FIELD && (c->lhs->fi.def->flags & (FLD_EVTTYPE | FLD_NO_RHS)))
		return cc_err(cc, &rhs->pos, "field '%s' doesn't support right-hand side fields",
			      c->lhs->fi.def->name);
	if ((r = compile_expr(cc, rhs, &rv)) < 0)
		return r;
	if (rv->kind == CV_FIELD && (rv->fi.def->flags & FLD_NO_RHS))
		return cc_err(cc, &rhs->pos, "field '%s' can't be used as a right-hand side field",
			      rv->fi.def->name);
	/* text types compare alike; integers compare mathematically across signedness */
	bool compatible = c->lhs->is_list == rv->is_list && rv->type != FT_IPNET &&
			  (c->lhs->type == rv->type ||
			   (flt_is_text_type(c->lhs->type) && flt_is_text_type(rv->type)) ||
			   (flt_is_integer_type(c->lhs->type) && flt_is_integer_type(rv->type)));
	if (!compatible)
		return cc_err(cc, &rhs->pos,
			      "field '%s' has type %s while the right-hand side field '%s' has "
			      "incompatible type %s",
			      expr_name(lhs, ln, sizeof(ln)),
			      qtype(c->lhs->type, c->lhs->is_list, lt, sizeof(lt)),
			      expr_name(rhs, rn, sizeof(rn)),
			      qtype(rv->type, rv->is_list, rt, sizeof(rt)));
	c->rexpr = rv;
	c->rtype = rv->type;
	c->rlist = rv->is_list;
	c->one.op = (uint8_t)n->check.op;
	c->one.ltype = c->lhs->type;
	c->one.v.type = rv->type;
	c->cmp = flt_cmp_for(n->check.op, c->lhs->type, rv->type);
	if (!c->cmp)
		return cc_err(cc, &n->pos, "'%s' operator not supported for %s filters", opname,
			      type_desc(c->lhs->type, c->lhs->is_list));
	c->h.eval = flt_chk_expr;
	return 0;
}

static int compile_check(struct cc *cc, const struct flt_node *n, struct cnode **ret)
{
	enum flt_op op = n->check.op;
	const char *opname = flt_op_to_string(op);
	struct cnode_check *c = arena_zalloc(&cc->m->a, sizeof(*c));
	struct cval *lhs;
	int r;

	if (!c)
		return -ENOMEM;
	if ((r = compile_expr(cc, n->check.lhs, &lhs)) < 0)
		return r;
	enum fld_type t = lhs->type;
	if (!flt_op_allowed(op, t, lhs->is_list))
		return cc_err(cc, &n->pos, "'%s' operator not supported for %s filters", opname,
			      type_desc(t, lhs->is_list));
	c->h.kind = CN_CHECK;
	c->lhs = lhs;
	c->op = (uint8_t)op;
	c->mod = (uint8_t)n->check.mod;
	c->lhs_list = lhs->is_list;
	c->one.op = (uint8_t)op;
	c->one.ltype = (uint8_t)t;
	c->cmp = flt_cmp_for(op, t, t);
	*ret = &c->h;

	switch (n->check.rhs_kind) {
	case RHS_NONE:
		c->h.eval = flt_chk_exists;
		return 0;
	case RHS_EXPR:
		return compile_rhs_expr(cc, n, c);
	case RHS_VALUE: {
		const struct flt_literal *lit = &n->check.rhs.value;
		if (op == OP_IN || op == OP_INTERSECTS || op == OP_PMATCH)
			return cc_err(cc, &lit->pos, "'%s' operator requires a list", opname);
		value_warnings(cc, op, lit, &lit->pos);
		if ((r = parse_lit(cc, t, op, lit, &c->one)) < 0)
			return r;
		if (op == OP_REGEX) {
			char eb[sizeof(cc->err->msg)];
			if ((r = flt_regex_compile(cc->m, c->one.v.str, c->one.v.len, &c->one, eb,
						   sizeof(eb))) < 0)
				return r == -ENOMEM ? r : cc_err(cc, &lit->pos, "%s", eb);
		}
		bool text = flt_is_text_type(t) || t == FT_BUFFER;
		c->h.eval = text && (op == OP_EQ || op == OP_NE) ? flt_chk_text_eq : flt_chk_cmp;
		return 0;
	}
	case RHS_LIST:
		break;
	}

	/* list right-hand sides */
	uint32_t k = n->check.rhs.list.n;
	const struct flt_literal *items = n->check.rhs.list.items;
	if (n->check.mod == MOD_NONE && op != OP_IN && op != OP_INTERSECTS && op != OP_PMATCH)
		return cc_err(cc, &n->pos, "'%s' operator does not take a list", opname);
	if (k == 0 && n->check.mod != MOD_ALLOF) {
		/* nothing can be in an empty list (allof over nothing is vacuously true but still needs a value) */
		*ret = new_const(cc, false);
		return *ret ? 0 : -ENOMEM;
	}
	if (!(c->items = arena_zalloc(&cc->m->a, sizeof(*c->items) * (k ? k : 1))))
		return -ENOMEM;
	c->nitems = k;
	for (uint32_t i = 0; i < k; i++) {
		value_warnings(cc, op, &items[i], &n->check.rhs.list.pos);
		if ((r = parse_lit(cc, op == OP_PMATCH ? FT_PATH : t, op, &items[i],
				   &c->items[i])) < 0)
			return r;
		if (op == OP_REGEX) {
			char eb[sizeof(cc->err->msg)];
			r = flt_regex_compile(cc->m, c->items[i].v.str, c->items[i].v.len,
					      &c->items[i], eb, sizeof(eb));
			if (r < 0)
				return r == -ENOMEM ? r : cc_err(cc, &items[i].pos, "%s", eb);
		}
	}
	if (n->check.mod != MOD_NONE) {
		c->h.eval = flt_chk_mod;
		return 0;
	}
	if (op == OP_PMATCH) {
		c->h.eval = flt_chk_pmatch;
		return flt_pmatch_build(cc->m, c->items, k, &c->pm);
	}
	/* a handful of values: comparing lengths first beats hashing the left-hand value */
	if (!hashable(t) || k <= SMALL_SET) {
		bool text = flt_is_text_type(t) || t == FT_BUFFER;
		c->h.eval = text ? flt_chk_text_small_set : flt_chk_linear;
		return 0;
	}
	if (!(c->set = arena_zalloc(&cc->m->a, sizeof(*c->set))) || hmap_init(c->set, k) < 0)
		return -ENOMEM;
	if ((r = flt_cmem_add_cleanup(cc->m, CL_HMAP, c->set)) < 0) {
		hmap_done(c->set);
		return r;
	}
	for (uint32_t i = 0; i < k; i++)
		if ((r = flt_set_add(cc->m, c->set, &c->items[i].v, t)) < 0)
			return r;
	c->h.eval = flt_chk_set;
	return 0;
}

/* ---- boolean structure ---- */

static int compile_node(struct cc *cc, const struct flt_node *n, struct cnode **ret);

struct kids {
	const struct cnode **v;
	uint32_t n, cap;
};

static int kids_push(struct cc *cc, struct kids *k, const struct cnode *c)
{
	if (k->n == k->cap) {
		uint32_t ncap = k->cap ? k->cap * 2 : 4;
		const struct cnode **nv = arena_alloc(&cc->m->a, sizeof(*nv) * ncap);
		if (!nv)
			return -ENOMEM;
		if (k->n)
			memcpy(nv, k->v, sizeof(*nv) * k->n);
		k->v = nv;
		k->cap = ncap;
	}
	k->v[k->n++] = c;
	return 0;
}

static int compile_list(struct cc *cc, const struct flt_node *n, struct cnode **ret)
{
	bool is_and = n->kind == FN_AND;
	enum cnode_kind kind = is_and ? CN_AND : CN_OR;
	bool decided =
		false; /* a constant child decides the whole node (false for and, true for or) */
	struct kids k = {0};
	int r;

	for (uint32_t i = 0; i < n->list.n; i++) {
		struct cnode *c;
		/* compile every child even when the result is already known, so errors are all reported */
		if ((r = compile_node(cc, n->list.children[i], &c)) < 0)
			return r;
		if (c->kind == CN_CONST) {
			if (((const struct cnode_const *)c)->v != is_and)
				decided = true;
			continue; /* the neutral constant drops out */
		}
		if (c->kind == kind) { /* a and (b and c) → one flat node */
			const struct cnode_list *sub = (const struct cnode_list *)c;
			for (uint32_t j = 0; j < sub->n; j++)
				if ((r = kids_push(cc, &k, sub->kids[j])) < 0)
					return r;
			continue;
		}
		if ((r = kids_push(cc, &k, c)) < 0)
			return r;
	}
	if (decided || k.n == 0) {
		*ret = new_const(cc, decided ? !is_and : is_and);
		return *ret ? 0 : -ENOMEM;
	}
	if (k.n == 1) {
		*ret = (struct cnode *)k.v[0];
		return 0;
	}
	struct cnode_list *l = arena_zalloc(&cc->m->a, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->h.eval = is_and ? flt_node_and : flt_node_or;
	l->h.kind = kind;
	l->n = k.n;
	l->kids = k.v;
	*ret = &l->h;
	return 0;
}

static int compile_node(struct cc *cc, const struct flt_node *n, struct cnode **ret)
{
	int r;

	if (++cc->depth > COMPILE_MAX_DEPTH)
		return cc_err(cc, &n->pos, "exceeded max depth limit of %d", COMPILE_MAX_DEPTH);
	switch (n->kind) {
	case FN_IDENT:
		return cc_err(cc, &n->pos, "Undefined macro '%s' used in filter.", n->ident.name);
	case FN_AND:
	case FN_OR:
		r = compile_list(cc, n, ret);
		break;
	case FN_NOT: {
		struct cnode *c;
		if ((r = compile_node(cc, n->child, &c)) < 0)
			return r;
		if (c->kind == CN_CONST) {
			*ret = new_const(cc, !((const struct cnode_const *)c)->v);
			r = *ret ? 0 : -ENOMEM;
		} else if (c->kind == CN_NOT) {
			*ret = (struct cnode *)((const struct cnode_not *)c)->child;
		} else {
			struct cnode_not *x = arena_zalloc(&cc->m->a, sizeof(*x));
			if (!x)
				return -ENOMEM;
			x->h.eval = flt_node_not;
			x->h.kind = CN_NOT;
			x->child = c;
			*ret = &x->h;
		}
		break;
	}
	case FN_CHECK:
		r = compile_check(cc, n, ret);
		break;
	default:
		return cc_err(cc, &n->pos, "invalid filter node");
	}
	cc->depth--;
	return r;
}

int flt_compile(struct flt_compiler *c, const struct src_def *src, const struct flt_node *ast,
		flt_warn_fn warn, void *warn_ud, struct flt_prog **ret, struct flt_error *err)
{
	struct flt_prog *p = calloc(1, sizeof(*p));
	struct cnode *root;

	if (!p)
		return -ENOMEM;
	flt_cmem_init(&p->mem, 1024);
	struct cc cc = {
		.comp = c, .src = src, .m = &p->mem, .warn = warn, .warn_ud = warn_ud, .err = err};
	int r = compile_node(&cc, ast, &root);
	if (r < 0) {
		flt_prog_free(p);
		return cc_fail(&cc, r);
	}
	p->root = root;
	*ret = p;
	return 0;
}

int flt_compile_vexpr(struct flt_compiler *c, const struct src_def *src, const struct flt_expr *e,
		      struct flt_vexpr **ret, struct flt_error *err)
{
	struct flt_vexpr *v = calloc(1, sizeof(*v));
	struct cval *cv;

	if (!v)
		return -ENOMEM;
	/* one per output token (thousands in a rule set): a plain field needs about 200 bytes, and each
	 * first chunk is a heap allocation that faults its page in */
	flt_cmem_init(&v->mem, 256);
	struct cc cc = {.comp = c, .src = src, .m = &v->mem, .err = err};
	int r = compile_expr(&cc, e, &cv);
	if (r < 0) {
		flt_vexpr_free(v);
		return cc_fail(&cc, r);
	}
	v->v = cv;
	v->refs = 1;
	*ret = v;
	return 0;
}

int flt_compile_vexpr_text(struct flt_compiler *c, const struct src_def *src, const char *text,
			   size_t len, const struct flt_expr *e, struct flt_vexpr **ret,
			   struct flt_error *err)
{
	size_t klen = sizeof(src) + len;
	char stackkey[256];
	char *key = klen <= sizeof(stackkey) ? stackkey : arena_alloc(&c->keys, klen);
	struct flt_vexpr *v;

	if (!key)
		return -ENOMEM;
	memcpy(key, &src, sizeof(src));
	memcpy(key + sizeof(src), text, len);
	if ((v = hmap_get(&c->vexprs, key, klen))) {
		v->refs++;
		*ret = v;
		return 0;
	}
	int r = flt_compile_vexpr(c, src, e, &v, err);
	if (r < 0)
		return r;
	if (key == stackkey && (key = arena_alloc(&c->keys, klen)))
		memcpy(key, stackkey, klen);
	/* the table's own reference; without it (out of memory) the expression is just not shared */
	if (key && hmap_put(&c->vexprs, key, klen, v) >= 0)
		v->refs++;
	*ret = v;
	return 0;
}
