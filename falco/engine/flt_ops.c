/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Operators: which apply to which field types (rules reference §2.4), the comparators, and the check
 * evaluators the compiler picks from. Everything here runs per event: no allocation (except a regex match
 * without a cache, which the engine never does), no logging.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "common/err.h"
#include "flt_internal.h"

bool flt_is_integer_type(enum fld_type t)
{
	return t == FT_U64 || t == FT_S64 || t == FT_RELTIME || t == FT_ABSTIME;
}

bool flt_is_text_type(enum fld_type t)
{
	return t == FT_STRING || t == FT_PATH;
}

static bool is_unsigned(enum fld_type t)
{
	return t == FT_U64 || t == FT_RELTIME || t == FT_ABSTIME;
}

bool flt_op_allowed(enum flt_op op, enum fld_type t, bool is_list)
{
	if (op == OP_EXISTS)
		return true;
	if (is_list)
		return op == OP_IN || op == OP_INTERSECTS;
	switch (t) {
	case FT_STRING:
	case FT_PATH:
		return op != OP_BCONTAINS && op != OP_BSTARTSWITH;
	case FT_BUFFER:
		return op == OP_EQ || op == OP_NE || op == OP_CONTAINS || op == OP_BCONTAINS ||
		       op == OP_STARTSWITH || op == OP_BSTARTSWITH || op == OP_ENDSWITH ||
		       op == OP_IN || op == OP_INTERSECTS;
	case FT_U64:
	case FT_S64:
	case FT_DOUBLE:
	case FT_RELTIME:
	case FT_ABSTIME:
		return op == OP_EQ || op == OP_NE || op == OP_LT || op == OP_LE || op == OP_GT ||
		       op == OP_GE || op == OP_IN || op == OP_INTERSECTS;
	case FT_BOOL:
	case FT_IPADDR:
	case FT_IPNET:
		return op == OP_EQ || op == OP_NE || op == OP_IN || op == OP_INTERSECTS;
	default:
		return false;
	}
}

/* ---- byte strings (STRING, PATH, BUFFER) ---- */

/*
 * Equality of short byte strings without a libc call: word loads, the last (overlapping) word covering
 * the tail. Names, paths and list values are mostly shorter than 32 bytes.
 */
static inline bool bytes_eq(const char *a, const char *b, uint32_t n)
{
	uint64_t x, y;
	uint32_t u, v;

	if (n >= 8) {
		uint32_t i = 0;
		for (; i + 8 <= n; i += 8) {
			memcpy(&x, a + i, 8);
			memcpy(&y, b + i, 8);
			if (x != y)
				return false;
		}
		if (i == n)
			return true;
		memcpy(&x, a + n - 8, 8);
		memcpy(&y, b + n - 8, 8);
		return x == y;
	}
	if (n >= 4) {
		memcpy(&u, a, 4);
		memcpy(&v, b, 4);
		if (u != v)
			return false;
		memcpy(&u, a + n - 4, 4);
		memcpy(&v, b + n - 4, 4);
		return u == v;
	}
	for (uint32_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

static int bytes_cmp(const struct value *l, const struct value *r)
{
	uint32_t n = MIN(l->len, r->len);
	int c = n ? memcmp(l->str, r->str, n) : 0;
	if (c)
		return c;
	return (l->len > r->len) - (l->len < r->len);
}

static bool b_eq(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return l->len == r->v.len && bytes_eq(l->str, r->v.str, l->len);
}

static bool b_ne(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return !b_eq(l, r, ec);
}

static bool b_lt(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return bytes_cmp(l, &r->v) < 0;
}

static bool b_le(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return bytes_cmp(l, &r->v) <= 0;
}

static bool b_gt(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return bytes_cmp(l, &r->v) > 0;
}

static bool b_ge(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return bytes_cmp(l, &r->v) >= 0;
}

static bool b_contains(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	if (r->v.len == 0)
		return true;
	return memmem(l->str, l->len, r->v.str, r->v.len) != NULL;
}

static inline unsigned char lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c | 0x20 : c;
}

static bool b_icontains(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	const unsigned char *h = (const unsigned char *)l->str,
			    *n = (const unsigned char *)r->v.str;
	uint32_t hl = l->len, nl = r->v.len;

	if (nl == 0)
		return true;
	if (nl > hl)
		return false;
	unsigned char first = lower(n[0]);
	for (uint32_t i = 0; i + nl <= hl; i++) {
		if (lower(h[i]) != first)
			continue;
		uint32_t j = 1;
		while (j < nl && lower(h[i + j]) == lower(n[j]))
			j++;
		if (j == nl)
			return true;
	}
	return false;
}

static bool b_startswith(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return l->len >= r->v.len && (r->v.len == 0 || memcmp(l->str, r->v.str, r->v.len) == 0);
}

static bool b_endswith(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return l->len >= r->v.len &&
	       (r->v.len == 0 || memcmp(l->str + l->len - r->v.len, r->v.str, r->v.len) == 0);
}

/* glob operands are NUL-terminated by contract (value.h), so fnmatch can read them directly */
static bool s_glob(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return fnmatch(r->v.str, l->str, 0) == 0;
}

static bool s_iglob(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return fnmatch(r->v.str, l->str, FNM_CASEFOLD) == 0;
}

static bool s_regex(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return flt_regex_full_match(r, l->str, l->len, ec);
}

/* ---- numbers ---- */

#define NUM_CMPS(pfx, field)                                                                       \
	static bool pfx##_eq(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec) \
	{                                                                                          \
		return l->field == r->v.field;                                                     \
	}                                                                                          \
	static bool pfx##_ne(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec) \
	{                                                                                          \
		return l->field != r->v.field;                                                     \
	}                                                                                          \
	static bool pfx##_lt(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec) \
	{                                                                                          \
		return l->field < r->v.field;                                                      \
	}                                                                                          \
	static bool pfx##_le(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec) \
	{                                                                                          \
		return l->field <= r->v.field;                                                     \
	}                                                                                          \
	static bool pfx##_gt(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec) \
	{                                                                                          \
		return l->field > r->v.field;                                                      \
	}                                                                                          \
	static bool pfx##_ge(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec) \
	{                                                                                          \
		return l->field >= r->v.field;                                                     \
	}

NUM_CMPS(u, u64)
NUM_CMPS(i, s64)
NUM_CMPS(d, d)

/* Signed against unsigned (a field-to-field comparison of pid and a length, say): compare mathematically. */
static bool mixed(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	int c;
	if (is_unsigned(r->ltype)) /* l unsigned, r signed */
		c = r->v.s64 < 0 ? 1
				 : (l->u64 > (uint64_t)r->v.s64) - (l->u64 < (uint64_t)r->v.s64);
	else /* l signed, r unsigned */
		c = l->s64 < 0 ? -1 : ((uint64_t)l->s64 > r->v.u64) - ((uint64_t)l->s64 < r->v.u64);
	switch (r->op) {
	case OP_EQ:
	case OP_IN:
	case OP_INTERSECTS:
		return c == 0;
	case OP_NE:
		return c != 0;
	case OP_LT:
		return c < 0;
	case OP_LE:
		return c <= 0;
	case OP_GT:
		return c > 0;
	case OP_GE:
		return c >= 0;
	default:
		return false;
	}
}

static bool bo_eq(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return l->b == r->v.b;
}

static bool bo_ne(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return l->b != r->v.b;
}

/* ---- addresses ---- */

static bool ip_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, a->family == 6 ? 16 : 4) == 0;
}

static bool ip_eq(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return ip_equal(&l->ip, &r->v.ip);
}

static bool ip_ne(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return !ip_equal(&l->ip, &r->v.ip);
}

static bool in_net(const struct ipaddr *a, const struct ipaddr *net, unsigned prefix)
{
	if (a->family != net->family)
		return false;
	unsigned full = prefix / 8, rest = prefix % 8;
	if (memcmp(a->bytes, net->bytes, full) != 0)
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a->bytes[full] & mask) == (net->bytes[full] & mask);
}

static bool net_eq(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return in_net(&l->ip, &r->v.ip, r->prefix);
}

static bool net_ne(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec)
{
	return !in_net(&l->ip, &r->v.ip, r->prefix);
}

cmp_fn flt_cmp_for(enum flt_op op, enum fld_type ltype, enum fld_type rtype)
{
	if (op == OP_IN || op == OP_INTERSECTS)
		op = OP_EQ; /* membership is equality against each element */
	if (flt_is_integer_type(ltype) && flt_is_integer_type(rtype) &&
	    is_unsigned(ltype) != is_unsigned(rtype))
		return mixed;
	switch (ltype) {
	case FT_STRING:
	case FT_PATH:
	case FT_BUFFER: {
		static const cmp_fn t[_OP_MAX] = {
			[OP_EQ] = b_eq,
			[OP_NE] = b_ne,
			[OP_LT] = b_lt,
			[OP_LE] = b_le,
			[OP_GT] = b_gt,
			[OP_GE] = b_ge,
			[OP_CONTAINS] = b_contains,
			[OP_ICONTAINS] = b_icontains,
			[OP_BCONTAINS] = b_contains,
			[OP_STARTSWITH] = b_startswith,
			[OP_BSTARTSWITH] = b_startswith,
			[OP_ENDSWITH] = b_endswith,
			[OP_GLOB] = s_glob,
			[OP_IGLOB] = s_iglob,
			[OP_REGEX] = s_regex,
		};
		return (unsigned)op < _OP_MAX ? t[op] : NULL;
	}
	case FT_U64:
	case FT_RELTIME:
	case FT_ABSTIME: {
		static const cmp_fn t[_OP_MAX] = {[OP_EQ] = u_eq, [OP_NE] = u_ne, [OP_LT] = u_lt,
						  [OP_LE] = u_le, [OP_GT] = u_gt, [OP_GE] = u_ge};
		return (unsigned)op < _OP_MAX ? t[op] : NULL;
	}
	case FT_S64: {
		static const cmp_fn t[_OP_MAX] = {[OP_EQ] = i_eq, [OP_NE] = i_ne, [OP_LT] = i_lt,
						  [OP_LE] = i_le, [OP_GT] = i_gt, [OP_GE] = i_ge};
		return (unsigned)op < _OP_MAX ? t[op] : NULL;
	}
	case FT_DOUBLE: {
		static const cmp_fn t[_OP_MAX] = {[OP_EQ] = d_eq, [OP_NE] = d_ne, [OP_LT] = d_lt,
						  [OP_LE] = d_le, [OP_GT] = d_gt, [OP_GE] = d_ge};
		return (unsigned)op < _OP_MAX ? t[op] : NULL;
	}
	case FT_BOOL:
		return op == OP_EQ ? bo_eq : op == OP_NE ? bo_ne : NULL;
	case FT_IPADDR:
		return op == OP_EQ ? ip_eq : op == OP_NE ? ip_ne : NULL;
	case FT_IPNET:
		/* a network literal: "=" means "inside"; a field RHS compares addresses */
		if (rtype == FT_IPNET)
			return op == OP_EQ ? net_eq : op == OP_NE ? net_ne : NULL;
		return op == OP_EQ ? ip_eq : op == OP_NE ? ip_ne : NULL;
	default:
		return NULL;
	}
}

/* ---- check evaluators ---- */

#define CHK(n) ((const struct cnode_check *)(n))

static inline struct value item(const struct value *l, uint32_t i)
{
	struct value v = l->items[i];
	v.type = l->type;
	v.is_list = false;
	return v;
}

/*
 * Every check starts by reading its left-hand value. The common case, a field this event already
 * extracted, is read inline and the check's body runs without a call, so the function needs no stack frame;
 * the first read of a slot in an event, transformers and uncached fields take the out-of-line path.
 */
typedef bool (*body_fn)(const struct cnode_check *c, const struct value *l,
			struct flt_eval_ctx *ec);

static __attribute__((noinline)) bool lhs_slow(const struct cnode_check *c, struct flt_eval_ctx *ec,
					       body_fn body)
{
	struct value tmp;
	const struct value *l = flt_cval_get(c->lhs, ec, &tmp);
	return l && body(c, l, ec);
}

#define CHECK_FN(name, body)                                                           \
	bool name(const struct cnode *n, struct flt_eval_ctx *ec)                      \
	{                                                                              \
		const struct cnode_check *c = CHK(n);                                  \
		const struct cval *v = c->lhs;                                         \
		const struct flt_cache *k = ec->cache;                                 \
		if (_likely_(v->kind == CV_FIELD && k != NULL && v->fi.slot < k->n)) { \
			const struct flt_cache_ent *e = &k->ents[v->fi.slot];          \
			if (_likely_(e->gen == k->gen))                                \
				return e->rc && body(c, &e->v, ec);                    \
		}                                                                      \
		return lhs_slow(c, ec, body);                                          \
	}

/* The scalar comparator applied to the items of a list value: any item. */
static __attribute__((noinline)) bool cmp_any_item(const struct cnode_check *c,
						   const struct value *l, struct flt_eval_ctx *ec)
{
	for (uint32_t i = 0; i < l->len; i++) {
		struct value it = item(l, i);
		if (c->cmp(&it, &c->one, ec))
			return true;
	}
	return false;
}

static inline bool exists_body(const struct cnode_check *c, const struct value *l,
			       struct flt_eval_ctx *ec)
{
	return true;
}

CHECK_FN(flt_chk_exists, exists_body)

/* a list where a scalar was expected (an indexed list field that still returns a list): any item */
static inline bool cmp_body(const struct cnode_check *c, const struct value *l,
			    struct flt_eval_ctx *ec)
{
	if (_unlikely_(l->is_list))
		return cmp_any_item(c, l, ec);
	return c->cmp(l, &c->one, ec);
}

CHECK_FN(flt_chk_cmp, cmp_body)

static bool mod_apply(const struct cnode_check *c, const struct value *l, struct flt_eval_ctx *ec)
{
	uint32_t hits = 0;
	switch (c->mod) {
	case MOD_ANYOF:
		for (uint32_t i = 0; i < c->nitems; i++)
			if (c->cmp(l, &c->items[i], ec))
				return true;
		return false;
	case MOD_ALLOF:
		for (uint32_t i = 0; i < c->nitems; i++)
			if (!c->cmp(l, &c->items[i], ec))
				return false;
		return true;
	case MOD_ONEOF:
		for (uint32_t i = 0; i < c->nitems; i++)
			if (c->cmp(l, &c->items[i], ec) && ++hits > 1)
				return false;
		return hits == 1;
	default:
		return false;
	}
}

/*
 * Specializations of the most common checks on text (=, != and small in-lists): no indirect call per
 * comparison, and the length rejects most candidates before any byte is read.
 */
static inline bool text_eq(const struct value *l, const struct value *r)
{
	return l->len == r->len && bytes_eq(l->str, r->str, l->len);
}

static inline bool text_eq_body(const struct cnode_check *c, const struct value *l,
				struct flt_eval_ctx *ec)
{
	if (_unlikely_(l->is_list))
		return cmp_any_item(c, l, ec);
	return text_eq(l, &c->one.v) == (c->op == OP_EQ);
}

CHECK_FN(flt_chk_text_eq, text_eq_body)

static inline bool text_in_small(const struct cnode_check *c, const struct value *v)
{
	for (uint32_t i = 0; i < c->nitems; i++)
		if (text_eq(v, &c->items[i].v))
			return true;
	return false;
}

static inline bool text_small_body(const struct cnode_check *c, const struct value *l,
				   struct flt_eval_ctx *ec)
{
	if (!l->is_list)
		return text_in_small(c, l);
	bool all = c->op == OP_IN; /* in: every value is in the list; intersects: any is */
	for (uint32_t i = 0; i < l->len; i++)
		if (text_in_small(c, &l->items[i]) != all)
			return !all;
	return all;
}

CHECK_FN(flt_chk_text_small_set, text_small_body)

static __attribute__((noinline)) bool mod_any_item(const struct cnode_check *c,
						   const struct value *l, struct flt_eval_ctx *ec)
{
	for (uint32_t i = 0; i < l->len; i++) {
		struct value it = item(l, i);
		if (mod_apply(c, &it, ec))
			return true;
	}
	return false;
}

static inline bool mod_body(const struct cnode_check *c, const struct value *l,
			    struct flt_eval_ctx *ec)
{
	if (_unlikely_(l->is_list))
		return mod_any_item(c, l, ec);
	return mod_apply(c, l, ec);
}

CHECK_FN(flt_chk_mod, mod_body)

static __attribute__((noinline)) bool set_has_other(const struct hmap *set, const struct value *v,
						    enum fld_type t)
{
	switch (t) {
	case FT_BOOL: {
		char b = v->b ? 1 : 0;
		return hmap_contains(set, &b, 1);
	}
	case FT_IPADDR: {
		char key[17];
		size_t n = v->ip.family == 6 ? 16 : 4;
		key[0] = (char)v->ip.family;
		memcpy(key + 1, v->ip.bytes, n);
		return hmap_contains(set, key, n + 1);
	}
	default: /* integers: the 8 bytes of the value, parsed for the LHS type */
		return hmap_contains(set, (const char *)&v->u64, sizeof(v->u64));
	}
}

static inline bool set_has(const struct hmap *set, const struct value *v, enum fld_type t)
{
	if (t == FT_STRING || t == FT_PATH || t == FT_BUFFER)
		return hmap_contains(set, v->str, v->len);
	return set_has_other(set, v, t);
}

int flt_set_add(struct cmem *m, struct hmap *set, const struct value *v, enum fld_type t)
{
	char buf[17];
	const char *key = buf;
	size_t n;

	switch (t) {
	case FT_STRING:
	case FT_PATH:
	case FT_BUFFER:
		key = v->str;
		n = v->len;
		break;
	case FT_BOOL:
		buf[0] = v->b ? 1 : 0;
		n = 1;
		break;
	case FT_IPADDR:
		n = v->ip.family == 6 ? 16 : 4;
		buf[0] = (char)v->ip.family;
		memcpy(buf + 1, v->ip.bytes, n);
		n++;
		break;
	default:
		memcpy(buf, &v->u64, sizeof(v->u64));
		n = sizeof(v->u64);
		break;
	}
	char *k = arena_alloc(&m->a, n ? n : 1);
	if (!k)
		return -ENOMEM;
	if (n)
		memcpy(k, key, n);
	int r = hmap_put(set, k, n, (void *)1);
	return r < 0 ? r : 0;
}

static __attribute__((noinline)) bool set_list(const struct cnode_check *c, const struct value *l)
{
	enum fld_type t = c->one.ltype;
	bool all = c->op == OP_IN; /* in: every value is in the set; intersects: any is */
	for (uint32_t i = 0; i < l->len; i++) {
		struct value it = item(l, i);
		if (set_has(c->set, &it, t) != all)
			return !all;
	}
	return all;
}

static inline bool set_body(const struct cnode_check *c, const struct value *l,
			    struct flt_eval_ctx *ec)
{
	if (l->is_list)
		return set_list(c, l);
	return set_has(c->set, l, c->one.ltype);
}

CHECK_FN(flt_chk_set, set_body)

static bool linear_has(const struct cnode_check *c, const struct value *v, struct flt_eval_ctx *ec)
{
	for (uint32_t i = 0; i < c->nitems; i++)
		if (c->cmp(v, &c->items[i], ec))
			return true;
	return false;
}

static __attribute__((noinline)) bool linear_list(const struct cnode_check *c,
						  const struct value *l, struct flt_eval_ctx *ec)
{
	bool all = c->op == OP_IN;
	for (uint32_t i = 0; i < l->len; i++) {
		struct value it = item(l, i);
		if (linear_has(c, &it, ec) != all)
			return !all;
	}
	return all;
}

static inline bool linear_body(const struct cnode_check *c, const struct value *l,
			       struct flt_eval_ctx *ec)
{
	if (l->is_list)
		return linear_list(c, l, ec);
	return linear_has(c, l, ec);
}

CHECK_FN(flt_chk_linear, linear_body)

/* ---- pmatch: component-wise path prefixes ---- */

struct pm_glob {
	uint32_t n;
	const char **comps; /* NUL-terminated; may contain glob characters */
	bool *magic;
};

struct pmatch_set {
	bool all;	   /* an entry with no components ("/") matches every path */
	struct hmap exact; /* "/c1/c2" for each entry without glob characters */
	struct pm_glob *globs;
	uint32_t nglobs;
};

#define PM_MAX 4096 /* longer prefixes are not looked up (no literal in a rule is that long) */

static bool has_magic(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '*' || s[i] == '?' || s[i] == '[')
			return true;
	return false;
}

/* Next non-empty component of s[*i..len): returns its length (0 at the end) and its start. */
static size_t next_comp(const char *s, size_t len, size_t *i, const char **ret)
{
	while (*i < len && s[*i] == '/')
		(*i)++;
	size_t st = *i;
	while (*i < len && s[*i] != '/')
		(*i)++;
	*ret = s + st;
	return *i - st;
}

int flt_pmatch_build(struct cmem *m, const struct crhs *items, uint32_t n, struct pmatch_set **ret)
{
	struct pmatch_set *pm = arena_zalloc(&m->a, sizeof(*pm));
	int r;

	if (!pm || hmap_init(&pm->exact, n) < 0)
		return -ENOMEM;
	if ((r = flt_cmem_add_cleanup(m, CL_HMAP, &pm->exact)) < 0) {
		hmap_done(&pm->exact);
		return r;
	}
	pm->globs = arena_zalloc(&m->a, sizeof(*pm->globs) * (n ? n : 1));
	if (!pm->globs)
		return -ENOMEM;
	for (uint32_t k = 0; k < n; k++) {
		const char *s = items[k].v.str, *c;
		size_t len = items[k].v.len, i = 0, cl, ncomp = 0;
		bool glob = false;

		while ((cl = next_comp(s, len, &i, &c)) > 0) {
			ncomp++;
			glob = glob || has_magic(c, cl);
		}
		if (ncomp == 0) {
			pm->all = true;
			continue;
		}
		if (!glob) {
			char *key = arena_alloc(&m->a, len + 1);
			size_t kl = 0;
			if (!key)
				return -ENOMEM;
			for (i = 0; (cl = next_comp(s, len, &i, &c)) > 0;) {
				key[kl++] = '/';
				memcpy(key + kl, c, cl);
				kl += cl;
			}
			if ((r = hmap_put(&pm->exact, key, kl, (void *)1)) < 0)
				return r;
			continue;
		}
		struct pm_glob *g = &pm->globs[pm->nglobs++];
		g->comps = arena_alloc(&m->a, sizeof(*g->comps) * ncomp);
		g->magic = arena_alloc(&m->a, sizeof(*g->magic) * ncomp);
		if (!g->comps || !g->magic)
			return -ENOMEM;
		for (i = 0; (cl = next_comp(s, len, &i, &c)) > 0; g->n++) {
			if (!(g->comps[g->n] = arena_strndup(&m->a, c, cl)))
				return -ENOMEM;
			g->magic[g->n] = has_magic(c, cl);
		}
	}
	*ret = pm;
	return 0;
}

static __attribute__((noinline)) bool pm_glob_match(const struct pm_glob *g, const char *s,
						    size_t len)
{
	char buf[PM_MAX];
	size_t i = 0;
	for (uint32_t k = 0; k < g->n; k++) {
		const char *c;
		size_t cl = next_comp(s, len, &i, &c);
		if (cl == 0)
			return false;
		if (!g->magic[k]) {
			if (strlen(g->comps[k]) != cl || memcmp(g->comps[k], c, cl) != 0)
				return false;
			continue;
		}
		if (cl >= sizeof(buf))
			return false;
		memcpy(buf, c, cl);
		buf[cl] = '\0';
		if (fnmatch(g->comps[k], buf, 0) != 0)
			return false;
	}
	return true;
}

static __attribute__((noinline)) bool pm_match(const struct pmatch_set *pm, const char *s,
					       size_t len)
{
	if (pm->all)
		return true;
	if (pm->exact.n) {
		char buf[PM_MAX];
		size_t bl = 0, i = 0, cl;
		const char *c;
		while ((cl = next_comp(s, len, &i, &c)) > 0 && bl + 1 + cl <= sizeof(buf)) {
			buf[bl++] = '/';
			memcpy(buf + bl, c, cl);
			bl += cl;
			if (hmap_contains(&pm->exact, buf, bl))
				return true;
		}
	}
	for (uint32_t k = 0; k < pm->nglobs; k++)
		if (pm_glob_match(&pm->globs[k], s, len))
			return true;
	return false;
}

static inline bool pmatch_body(const struct cnode_check *c, const struct value *l,
			       struct flt_eval_ctx *ec)
{
	if (!l->is_list)
		return pm_match(c->pm, l->str, l->len);
	for (uint32_t i = 0; i < l->len; i++)
		if (pm_match(c->pm, l->items[i].str, l->items[i].len))
			return true;
	return false;
}

CHECK_FN(flt_chk_pmatch, pmatch_body)

/* ---- field (or transformer) on the right-hand side ---- */

bool flt_chk_expr(const struct cnode *n, struct flt_eval_ctx *ec)
{
	const struct cnode_check *c = CHK(n);
	struct value lt, rt;
	const struct value *l = flt_cval_get(c->lhs, ec, &lt);
	if (!l)
		return false;
	const struct value *r = flt_cval_get(c->rexpr, ec, &rt);
	if (!r)
		return false;

	struct crhs rh = c->one;
	if (!r->is_list) {
		rh.v = *r;
		rh.v.type = c->rtype;
		if (!l->is_list)
			return c->cmp(l, &rh, ec);
		/* list LHS against one value: in = every item equals it, intersects = some item does */
		bool all = c->op == OP_IN;
		for (uint32_t i = 0; i < l->len; i++) {
			struct value it = item(l, i);
			if (c->cmp(&it, &rh, ec) != all)
				return !all;
		}
		return all;
	}
	/* RHS list: membership by linear search (the list is per event, no set to build) */
	uint32_t nl = l->is_list ? l->len : 1;
	bool all = c->op == OP_IN;
	for (uint32_t i = 0; i < nl; i++) {
		struct value it = l->is_list ? item(l, i) : *l;
		bool found = false;
		for (uint32_t j = 0; j < r->len && !found; j++) {
			rh.v = item(r, j);
			rh.v.type = c->rtype;
			found = c->cmp(&it, &rh, ec);
		}
		if (found != all)
			return !all;
	}
	return all;
}

/* ---- regex ---- */

int flt_regex_compile(struct cmem *m, const char *pat, size_t len, struct crhs *out, char *errbuf,
		      size_t errlen)
{
	int ecode;
	PCRE2_SIZE eoff;
	/* full match, as upstream's RE2::FullMatch; invalid UTF-8 in subjects simply does not match there */
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, len,
				       PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF |
					       PCRE2_MATCH_INVALID_UTF,
				       &ecode, &eoff, NULL);
	if (!re) {
		PCRE2_UCHAR msg[256];
		if (pcre2_get_error_message(ecode, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "unknown error");
		return errf(errbuf, errlen, -EINVAL, "invalid regex pattern: %s (at offset %zu)",
			    (const char *)msg, (size_t)eoff);
	}
	/* JIT is an optimization: without it (no JIT support, or no executable memory) pcre2_match interprets */
	bool jit = pcre2_jit_compile(re, PCRE2_JIT_COMPLETE) == 0;
	int r = flt_cmem_add_cleanup(m, CL_REGEX, re);
	if (r < 0) {
		pcre2_code_free(re);
		return r;
	}
	out->re = re;
	out->jit = jit;
	return 0;
}

bool flt_regex_full_match(const struct crhs *r, const char *s, size_t len, struct flt_eval_ctx *ec)
{
	pcre2_match_data *md = ec && ec->cache ? ec->cache->md : NULL;
	bool own = false;
	if (_unlikely_(!md)) {
		md = pcre2_match_data_create(1, NULL);
		if (!md)
			return false;
		own = true;
	}
	/*
	 * rc 0 means "matched, ovector too small for the groups": still a match. The JIT entry point skips
	 * pcre2_match's option checks; PCRE2_MATCH_INVALID_UTF keeps it safe on invalid UTF-8 subjects.
	 */
	int rc = r->jit ? pcre2_jit_match(r->re, (PCRE2_SPTR)s, len, 0, 0, md, NULL)
			: pcre2_match(r->re, (PCRE2_SPTR)s, len, 0, 0, md, NULL);
	if (own)
		pcre2_match_data_free(md);
	return rc >= 0;
}

void *flt_regex_md_new(void)
{
	return pcre2_match_data_create(1, NULL);
}

void flt_regex_md_free(void *md)
{
	pcre2_match_data_free(md);
}

void flt_regex_free(void *re)
{
	pcre2_code_free(re);
}
