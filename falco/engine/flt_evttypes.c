/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event-type sets of a condition (rules reference §4): and = ∩, or = ∪, `not` pushed to the leaves with
 * De Morgan. evt.type =/==/!=/in leaves (and `evt.type exists`) give named sets that a negation complements;
 * every other check is neutral (all types) whether negated or not, because it can be true or false on any
 * event type. Runs at load time only.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flt_internal.h"

#define EVT_MAX_DEPTH (4 * FLT_MAX_DEPTH)

struct ectx {
	const struct src_def *src;
	size_t nwords;
	uint64_t last_mask; /* valid bits of the last word */
	struct flt_error *err;
	uint32_t depth;
	/* scratch sets, one per nesting depth, kept for the whole walk (a malloc/free per and/or was costly) */
	uint64_t **tmp;
	uint32_t ntmp;
};

/* The scratch set of the current depth. */
static uint64_t *scratch(struct ectx *x)
{
	if (x->depth >= x->ntmp) {
		uint32_t n = x->ntmp ? x->ntmp * 2 : 16;
		while (n <= x->depth)
			n *= 2;
		uint64_t **nt = realloc(x->tmp, n * sizeof(*nt));
		if (!nt)
			return NULL;
		memset(nt + x->ntmp, 0, (n - x->ntmp) * sizeof(*nt));
		x->tmp = nt;
		x->ntmp = n;
	}
	if (!x->tmp[x->depth])
		x->tmp[x->depth] = malloc(x->nwords * sizeof(**x->tmp) + 1);
	return x->tmp[x->depth];
}

_printf_(3, 4) static int eerr(struct ectx *x, const struct flt_pos *pos, const char *fmt, ...)
{
	if (x->err) {
		va_list ap;
		va_start(ap, fmt);
		(void)vsnprintf(x->err->msg, sizeof(x->err->msg), fmt, ap);
		va_end(ap);
		x->err->pos = *pos;
	}
	return -EINVAL;
}

static void set_all(const struct ectx *x, uint64_t *s)
{
	for (size_t i = 0; i < x->nwords; i++)
		s[i] = ~0ULL;
	if (x->nwords)
		s[x->nwords - 1] = x->last_mask;
}

static void complement(const struct ectx *x, uint64_t *s)
{
	for (size_t i = 0; i < x->nwords; i++)
		s[i] = ~s[i];
	if (x->nwords)
		s[x->nwords - 1] &= x->last_mask;
}

static bool is_evttype_field(const struct ectx *x, const struct flt_expr *e)
{
	if (e->kind != FE_FIELD || e->field.arg)
		return false;
	const char *dotted;
	const struct fld_def *d = fld_lookup(x->src, e->field.name, &dotted);
	return d && !dotted && (d->flags & FLD_EVTTYPE);
}

static bool mentions_evttype(const struct ectx *x, const struct flt_expr *e)
{
	if (is_evttype_field(x, e))
		return true;
	if (e->kind == FE_TRANSFORMER) {
		for (uint32_t i = 0; i < e->tr.nargs; i++)
			if (mentions_evttype(x, e->tr.args[i]))
				return true;
	} else if (e->kind == FE_LIST) {
		for (uint32_t i = 0; i < e->list.n; i++)
			if (mentions_evttype(x, e->list.items[i]))
				return true;
	}
	return false;
}

/*
 * evttype_codes answers, remembered per source and name for the life of the process: rule sets name the same
 * few hundred event types over and over, and a source answers by scanning its tables.
 */
struct codes_memo {
	const struct src_def *src;
	int n;
	uint16_t codes[64]; /* the first min(n, 64) are valid */
	char name[];
};

#define MEMO_SLOTS 1024 /* power of two; beyond half full, lookups just go to the source */

static struct codes_memo **memo;
static uint32_t memo_n;
static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;

static int evttype_codes(const struct src_def *src, const char *name, uint16_t *codes)
{
	size_t len = strlen(name);
	uint32_t h = (uint32_t)hash_bytes(name, len) ^ (uint32_t)(uintptr_t)src;
	int n = -EAGAIN;

	pthread_mutex_lock(&memo_lock);
	if (!memo)
		memo = calloc(MEMO_SLOTS, sizeof(*memo));
	uint32_t i = h & (MEMO_SLOTS - 1);
	for (; memo && memo[i]; i = (i + 1) & (MEMO_SLOTS - 1)) {
		if (memo[i]->src == src && strcmp(memo[i]->name, name) == 0) {
			n = memo[i]->n;
			memcpy(codes, memo[i]->codes, sizeof(memo[i]->codes));
			break;
		}
	}
	pthread_mutex_unlock(&memo_lock);
	if (n != -EAGAIN)
		return n;
	n = src->evttype_codes(name, codes, 64);
	if (n == -ENOMEM)
		return n;
	pthread_mutex_lock(&memo_lock);
	if (memo && memo_n < MEMO_SLOTS / 2) {
		struct codes_memo *m = malloc(sizeof(*m) + len + 1);
		if (m) {
			*m = (struct codes_memo){.src = src, .n = n};
			memcpy(m->codes, codes, sizeof(m->codes));
			memcpy(m->name, name, len + 1);
			for (i = h & (MEMO_SLOTS - 1); memo[i]; i = (i + 1) & (MEMO_SLOTS - 1))
				;
			memo[i] = m;
			memo_n++;
		}
	}
	pthread_mutex_unlock(&memo_lock);
	return n;
}

static int add_name(struct ectx *x, const struct flt_literal *lit, uint64_t *s)
{
	uint16_t codes[64];
	int n = evttype_codes(x->src, lit->s, codes);
	if (n == -ENOENT)
		return eerr(x, &lit->pos, "unknown event type %s", lit->s);
	if (n < 0)
		return n;
	for (int i = 0; i < n && i < (int)ARRAY_SIZE(codes); i++)
		if (codes[i] < x->src->nevttypes)
			s[codes[i] / 64] |= 1ULL << (codes[i] % 64);
	return 0;
}

/* The operators whose evt.type checks name event types (upstream: "==", "=", "!=", "in"). */
static bool is_evttype_op(enum flt_op op)
{
	return op == OP_EQ || op == OP_NE || op == OP_IN;
}

static int leaf(struct ectx *x, const struct flt_node *n, bool neg, uint64_t *out)
{
	const struct flt_expr *lhs = n->check.lhs;
	enum flt_op op = n->check.op;
	enum flt_mod mod = n->check.mod;
	bool typed = is_evttype_op(op) || op == OP_EXISTS;
	int r;

	if (typed && lhs->kind == FE_TRANSFORMER && mentions_evttype(x, lhs))
		return eerr(
			x, &lhs->pos,
			"event code search does not support `evt.type` checks with transformers");
	if (!typed || !is_evttype_field(x, lhs)) {
		set_all(x, out); /* neutral, and not complemented under not */
		return 0;
	}
	if (op == OP_EXISTS) {
		set_all(x, out);
		goto done;
	}
	if (n->check.rhs_kind == RHS_EXPR)
		return eerr(
			x, &n->check.rhs.expr->pos,
			"right-hand field comparisons on `evt.type` checks are not supported by "
			"event code search");
	/*
	 * With a modifier the names give a set only when the check means "one of them" (= anyof/oneof)
	 * or "none of them" (!= allof); other combinations can hold on any type.
	 */
	bool complemented = op == OP_NE;
	if (mod != MOD_NONE && !(op == OP_EQ && mod != MOD_ALLOF) &&
	    !(op == OP_NE && mod == MOD_ALLOF)) {
		set_all(x, out);
		return 0;
	}
	memset(out, 0, x->nwords * sizeof(*out));
	if (n->check.rhs_kind == RHS_VALUE) {
		if ((r = add_name(x, &n->check.rhs.value, out)) < 0)
			return r;
	} else if (n->check.rhs_kind == RHS_LIST) {
		for (uint32_t i = 0; i < n->check.rhs.list.n; i++)
			if ((r = add_name(x, &n->check.rhs.list.items[i], out)) < 0)
				return r;
	}
	if (complemented)
		complement(x, out);
done:
	if (neg)
		complement(x, out);
	return 0;
}

static int walk(struct ectx *x, const struct flt_node *n, bool neg, uint64_t *out)
{
	int r = 0;

	if (++x->depth > EVT_MAX_DEPTH)
		return eerr(x, &n->pos, "exceeded max depth limit of %d", EVT_MAX_DEPTH);
	switch (n->kind) {
	case FN_AND:
	case FN_OR: {
		/* De Morgan: a negated and is an or of negations, and vice versa */
		bool intersect = (n->kind == FN_AND) != neg;
		uint64_t *tmp = scratch(x);
		if (!tmp)
			return -ENOMEM;
		if (intersect)
			set_all(x, out);
		else
			memset(out, 0, x->nwords * sizeof(*out));
		for (uint32_t i = 0; i < n->list.n && r == 0; i++) {
			r = walk(x, n->list.children[i], neg, tmp);
			for (size_t w = 0; r == 0 && w < x->nwords; w++)
				out[w] = intersect ? out[w] & tmp[w] : out[w] | tmp[w];
		}
		break;
	}
	case FN_NOT:
		r = walk(x, n->child, !neg, out);
		break;
	case FN_CHECK:
		r = leaf(x, n, neg, out);
		break;
	default: /* unresolved macro: neutral */
		set_all(x, out);
		break;
	}
	x->depth--;
	return r;
}

int flt_evttypes(const struct flt_node *ast, const struct src_def *src, uint64_t *bits,
		 struct flt_error *err)
{
	struct ectx x = {.src = src, .err = err};
	uint32_t nt = src->nevttypes;

	x.nwords = (nt + 63) / 64;
	x.last_mask = nt % 64 ? (1ULL << (nt % 64)) - 1 : ~0ULL;
	if (!src->evttype_codes) {
		/* a single event type: every rule of the source applies to it */
		set_all(&x, bits);
		return 0;
	}
	int r = walk(&x, ast, false, bits);
	for (uint32_t i = 0; i < x.ntmp; i++)
		free(x.tmp[i]);
	free(x.tmp);
	return r;
}
