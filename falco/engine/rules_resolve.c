/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Lists, exceptions and macros, as upstream's rule_loader_compiler: list-in-list expansion one level deep with
 * visibility; exceptions built as condition text; lists substituted as text; macros parsed once and spliced
 * into referencing trees. A resolved macro tree has no identifiers left, so referencing trees share it instead
 * of copying it (the compiler only reads ASTs); only a macro not resolved yet is cloned, as upstream does.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "rules_internal.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* upstream's list-name delimiters: blanks and "(),=" */
static const bool delim_tab[256] = {
	[' '] = true, ['\t'] = true, ['\n'] = true, ['\r'] = true,
	['('] = true, [')'] = true,  [','] = true,  ['='] = true,
};

static bool is_delim(char c)
{
	return delim_tab[(unsigned char)c];
}

/* upstream quote_item: a value with a space not starting with a quote is wrapped in "...", unescaped */
static void quote_item(struct strbuf *sb, const char *s, size_t len)
{
	if (memchr(s, ' ', len) && s[0] != '"' && s[0] != '\'') {
		strbuf_appendc(sb, '"');
		strbuf_append(sb, s, len);
		strbuf_appendc(sb, '"');
	} else {
		strbuf_append(sb, s, len);
	}
}

/* ---- lists ---- */

int rl_compile_lists(struct rl_cc *cc)
{
	struct rules_loader *l = cc->l;
	struct strbuf sb;

	strbuf_init(&sb, RULES_MAX_CONDITION);
	cc->odd = calloc(l->nlists ? l->nlists : 1, sizeof(*cc->odd));
	if (!cc->odd)
		return -ENOMEM;
	for (uint32_t i = 0; i < l->nlists; i++) {
		struct rl_list *L = l->lists[i];
		strbuf_reset(&sb);
		bool first = true;
		for (uint32_t j = 0; j < L->nitems; j++) {
			const struct rl_item *it = &L->items[j];
			struct rl_list *ref = rl_find_list(l, it->s);
			/* a list defined before this one's last define/append expands to its raw items */
			if (ref && ref->index < L->visibility) {
				ref->used = true;
				for (uint32_t k = 0; k < ref->nitems; k++) {
					if (!first)
						strbuf_appends(&sb, ", ");
					quote_item(&sb, ref->items[k].s, ref->items[k].len);
					first = false;
				}
				continue;
			}
			if (!first)
				strbuf_appends(&sb, ", ");
			quote_item(&sb, it->s, it->len);
			first = false;
		}
		if (sb.failed) {
			strbuf_done(&sb);
			return -E2BIG;
		}
		L->sub = arena_strndup(&cc->ast, strbuf_str(&sb), sb.len);
		if (!L->sub) {
			strbuf_done(&sb);
			return -ENOMEM;
		}
		L->sublen = (uint32_t)sb.len;
		size_t nl = strlen(L->name);
		if (nl) {
			cc->list_lens |= 1ull << MIN(nl, 63);
			cc->list_first[(unsigned char)L->name[0] / 64] |=
				1ull << ((unsigned char)L->name[0] % 64);
		}
		if (L->odd_name)
			cc->odd[cc->nodd++] = L;
	}
	strbuf_done(&sb);
	return 0;
}

/*
 * One list over the whole text, as upstream's resolve_list but in a single pass: every occurrence delimited
 * by start/end or one of " \t\n\r(),=" is replaced by [" "] items " ", consuming blanks around it; an empty
 * list also takes one adjacent comma. Upstream restarts its search one character past the replacement when
 * the replacement began the string; that quirk is kept so results are identical.
 */
static int subst_one(const struct rl_text *in, struct rl_list *L, struct rl_tb *out)
{
	const char *t = in->s, *name = L->name;
	size_t tlen = in->len, nlen = strlen(name), i = 0;
	bool used = false;

	while (i <= tlen) {
		const char *hit = nlen <= tlen - i ? memmem(t + i, tlen - i, name, nlen) : NULL;
		if (!hit) {
			rl_tb_copy(out, in, (uint32_t)i, (uint32_t)(tlen - i));
			break;
		}
		size_t p = (size_t)(hit - t), end = p + nlen;
		rl_tb_copy(out, in, (uint32_t)i, (uint32_t)(p - i));
		size_t olen = out->sb.len;
		bool left = olen == 0 || is_delim(out->sb.buf[olen - 1]);
		bool right = end >= tlen || is_delim(t[end]);
		if (!left || !right) {
			rl_tb_copy(out, in, (uint32_t)p, 1);
			i = p + 1;
			continue;
		}
		struct rl_seg origin;
		bool has_origin = rl_text_origin(in, (uint32_t)p, &origin);

		while (olen > 0 && is_blank(out->sb.buf[olen - 1]))
			olen--;
		while (end < tlen && is_blank(t[end]))
			end++;
		if (L->sublen == 0) {
			if (olen > 0 && out->sb.buf[olen - 1] == ',')
				olen--;
			else if (end < tlen && t[end] == ',')
				end++;
		}
		rl_tb_truncate(out, (uint32_t)olen);
		bool at_start = olen == 0;
		if (!at_start)
			rl_tb_point(out, " ", 1, has_origin ? &origin : NULL);
		rl_tb_point(out, L->sub, L->sublen, has_origin ? &origin : NULL);
		rl_tb_point(out, " ", 1, has_origin ? &origin : NULL);
		used = true;
		i = end;
		if (at_start && i < tlen) {
			rl_tb_copy(out, in, (uint32_t)i, 1);
			i++;
		}
		if (out->err)
			return out->err;
	}
	if (used)
		L->used = true;
	return out->err;
}

/* The list with the lowest definition index above floor that text names, or NULL. */
static struct rl_list *next_list(struct rl_cc *cc, const struct rl_text *in, int64_t floor)
{
	struct rl_list *best = NULL;
	const char *t = in->s;
	size_t n = in->len;

	for (size_t i = 0; i < n;) {
		while (i < n && is_delim(t[i]))
			i++;
		size_t s = i;
		while (i < n && !is_delim(t[i]))
			i++;
		size_t wl = i - s;
		/* most words are fields, operators and values: a length and first-character filter skips hashing */
		if (wl == 0 || !(cc->list_lens & (1ull << MIN(wl, 63))) ||
		    !(cc->list_first[(unsigned char)t[s] / 64] &
		      (1ull << ((unsigned char)t[s] % 64))))
			continue;
		struct rl_list *L = hmap_get(&cc->l->list_map, t + s, wl);
		if (L && (int64_t)L->index > floor && (!best || L->index < best->index))
			best = L;
	}
	for (uint32_t k = 0; k < cc->nodd; k++) {
		struct rl_list *L = cc->odd[k];
		if ((int64_t)L->index > floor && (!best || L->index < best->index) &&
		    memmem(t, n, L->name, strlen(L->name)))
			best = L;
	}
	return best;
}

/*
 * Upstream substitutes every list in definition order over the whole text, so items of one list that name a
 * list defined later are substituted too, and earlier ones are not. Visiting only the named lists, lowest
 * index first, and never going back below the last one gives the same text.
 */
/* With lists whose names hold delimiters: find the next list by rescanning the whole text each time. */
static int subst_rescan(struct rl_cc *cc, const struct rl_text *in, struct rl_text *out)
{
	struct rl_text cur = *in;
	int64_t floor = -1;
	struct rl_list *L;

	while ((L = next_list(cc, &cur, floor))) {
		struct rl_tb b;
		rl_tb_init(&b, RULES_MAX_CONDITION);
		int r = subst_one(&cur, L, &b);
		if (r == 0)
			r = rl_tb_freeze(&b, &cc->ast, &cur);
		rl_tb_done(&b);
		if (r < 0)
			return r;
		floor = L->index;
	}
	*out = cur;
	return 0;
}

/* A growable set of lists. */
struct lset {
	struct rl_list **v;
	uint32_t n, cap;
	struct rl_list *stack[32];
};

static int lset_add(struct lset *s, struct rl_list *L)
{
	for (uint32_t i = 0; i < s->n; i++)
		if (s->v[i] == L)
			return 0;
	if (s->n == s->cap) {
		uint32_t ncap = s->cap * 2;
		struct rl_list **nv = malloc(ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		memcpy(nv, s->v, s->n * sizeof(*nv));
		if (s->v != s->stack)
			free(s->v);
		s->v = nv;
		s->cap = ncap;
	}
	s->v[s->n++] = L;
	return 0;
}

/* Every list text t names as a word (as next_list reads words), into s. */
static int collect_words(struct rl_cc *cc, const char *t, size_t n, struct lset *s)
{
	for (size_t i = 0; i < n;) {
		while (i < n && is_delim(t[i]))
			i++;
		size_t st = i;
		while (i < n && !is_delim(t[i]))
			i++;
		size_t wl = i - st;
		if (wl == 0 || !(cc->list_lens & (1ull << MIN(wl, 63))) ||
		    !(cc->list_first[(unsigned char)t[st] / 64] &
		      (1ull << ((unsigned char)t[st] % 64))))
			continue;
		struct rl_list *L = hmap_get(&cc->l->list_map, t + st, wl);
		if (L && lset_add(s, L) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* L->subrefs: the lists L's substitution text names, once per list. */
static int list_subrefs(struct rl_cc *cc, struct rl_list *L)
{
	struct lset s = {.v = NULL, .cap = ARRAY_SIZE(s.stack)};

	if (L->subrefs_done)
		return 0;
	s.v = s.stack;
	int r = collect_words(cc, L->sub, L->sublen, &s);
	if (r == 0 && s.n) {
		L->subrefs = arena_alloc(&cc->ast, s.n * sizeof(*L->subrefs));
		if (!L->subrefs)
			r = -ENOMEM;
		else
			memcpy(L->subrefs, s.v, s.n * sizeof(*L->subrefs));
	}
	if (r == 0) {
		L->nsubrefs = s.n;
		L->subrefs_done = true;
	}
	if (s.v != s.stack)
		free(s.v);
	return r;
}

/*
 * Same result as subst_rescan with one scan of the text: substituting list L leaves every other word of the
 * text in place (the replacement is padded with spaces, and only blanks and one comma next to L go), so the
 * words of the next text are the words of this one plus those of L's substitution text, known per list.
 */
int rl_subst_lists(struct rl_cc *cc, const struct rl_text *in, struct rl_text *out)
{
	struct rl_text cur = *in;
	struct lset cand = {.v = NULL, .cap = ARRAY_SIZE(cand.stack)};
	int64_t floor = -1;
	int r;

	if (cc->nodd)
		return subst_rescan(cc, in, out);
	cand.v = cand.stack;
	if ((r = collect_words(cc, in->s, in->len, &cand)) < 0)
		goto out;
	for (;;) {
		struct rl_list *L = NULL;
		for (uint32_t i = 0; i < cand.n; i++)
			if ((int64_t)cand.v[i]->index > floor &&
			    (!L || cand.v[i]->index < L->index))
				L = cand.v[i];
		if (!L)
			break;
		struct rl_tb b;
		rl_tb_init(&b, RULES_MAX_CONDITION);
		r = subst_one(&cur, L, &b);
		if (r == 0)
			r = rl_tb_freeze(&b, &cc->ast, &cur);
		rl_tb_done(&b);
		if (r < 0)
			goto out;
		floor = L->index;
		if ((r = list_subrefs(cc, L)) < 0)
			goto out;
		for (uint32_t i = 0; i < L->nsubrefs; i++)
			if ((int64_t)L->subrefs[i]->index > floor &&
			    (r = lset_add(&cand, L->subrefs[i])) < 0)
				goto out;
	}
	*out = cur;
	r = 0;
out:
	if (cand.v != cand.stack)
		free(cand.v);
	return r;
}

/* ---- exceptions ---- */

static const char *ent(const struct rl_exc_entry *e)
{
	return e->item ? e->item : "";
}

/* upstream paren_item: wrap in (...) unless it starts with '(' */
static void paren_item(struct strbuf *sb, const char *s)
{
	if (s[0] != '(') {
		strbuf_appendc(sb, '(');
		strbuf_appends(sb, s);
		strbuf_appendc(sb, ')');
	} else {
		strbuf_appends(sb, s);
	}
}

/* One exception as condition text X (the caller adds " and not X"); empty when it has no values. */
static int exception_text(struct rl_cc *cc, const struct rl_exception *ex, const struct rl_where *w,
			  struct strbuf *sb)
{
	struct rules_loader *l = cc->l;
	struct rl_where ew = *w;

	rl_where_node(l, &ew, IT_EXCEPTION, ex->name, ex->ref.file, ex->ref.node);
	if (!ex->fields.is_list) {
		for (uint32_t i = 0; i < ex->nvalues; i++) {
			const struct rl_exc_entry *v = &ex->values[i];
			if (v->is_list)
				return rl_msg(l, 0, LOAD_ERR_VALIDATE, &ew,
					      "Expected values array to contain a list of strings");
			if (i == 0)
				strbuf_appendf(sb, "(%s %s (", ent(&ex->fields), ent(&ex->comps));
			else
				strbuf_appends(sb, ", ");
			quote_item(sb, ent(v), strlen(ent(v)));
		}
		if (ex->nvalues)
			strbuf_appends(sb, "))");
		return 0;
	}

	size_t start = sb->len;
	strbuf_appendc(sb, '(');
	for (uint32_t i = 0; i < ex->nvalues; i++) {
		const struct rl_exc_entry *vals = &ex->values[i];
		uint32_t nv = vals->is_list ? vals->n : 0;
		if (ex->fields.n != nv)
			return rl_msg(l, 0, LOAD_ERR_VALIDATE, &ew,
				      "Fields and values lists must have equal length");
		if (i)
			strbuf_appends(sb, " or ");
		strbuf_appendc(sb, '(');
		for (uint32_t k = 0; k < ex->fields.n; k++) {
			const struct rl_exc_entry *v = &vals->items[k];
			const char *comp = ent(&ex->comps.items[k]);
			if (k)
				strbuf_appends(sb, " and ");
			/* note the leading blank of each term: "( f = v and  g = w)" as upstream */
			strbuf_appendf(sb, " %s %s ", ent(&ex->fields.items[k]), comp);
			if (v->is_list) {
				strbuf_appendc(sb, '(');
				for (uint32_t j = 0; j < v->n; j++) {
					if (j)
						strbuf_appends(sb, ", ");
					quote_item(sb, ent(&v->items[j]),
						   strlen(ent(&v->items[j])));
				}
				strbuf_appendc(sb, ')');
			} else if (rl_is_list_operator(comp)) {
				paren_item(sb, ent(v));
			} else {
				quote_item(sb, ent(v), strlen(ent(v)));
			}
		}
		strbuf_appendc(sb, ')');
	}
	strbuf_appendc(sb, ')');
	if (sb->len - start == 2) /* "()": no values */
		strbuf_reset(sb);
	return 0;
}

int rl_apply_exceptions(struct rl_cc *cc, const struct rl_rule *r, const struct rl_where *w,
			struct rl_text *out)
{
	struct rl_tb b;
	struct strbuf x;
	int ret = 0;

	if (r->nexc == 0) {
		*out = r->cond;
		return 0;
	}
	rl_tb_init(&b, RULES_MAX_CONDITION);
	strbuf_init(&x, RULES_MAX_CONDITION);
	rl_tb_point(&b, "(", 1, NULL);
	rl_tb_copy(&b, &r->cond, 0, r->cond.len);
	rl_tb_point(&b, ")", 1, NULL);
	for (uint32_t i = 0; i < r->nexc && ret == 0; i++) {
		const struct rl_exception *ex = &r->exc[i];
		strbuf_reset(&x);
		ret = exception_text(cc, ex, w, &x);
		if (ret < 0)
			break;
		if (x.failed) {
			ret = -E2BIG;
			break;
		}
		if (x.len == 0)
			continue;
		/* the generated text points at the exception item */
		struct rl_seg origin = {.file = ex->ref.file, .node = ex->ref.node};
		rl_tb_point(&b, " and not ", 9, &origin);
		rl_tb_point(&b, x.buf, x.len, &origin);
	}
	if (ret == 0)
		ret = rl_tb_freeze(&b, &cc->ast, out);
	rl_tb_done(&b);
	strbuf_done(&x);
	return ret;
}

/* ---- positions ---- */

void rl_where_pos(struct rl_cc *cc, struct rl_where *w, const struct rl_text *text, uint32_t idx)
{
	struct rl_seg o;

	if (text && rl_text_origin(text, idx, &o))
		rl_where_seg(cc->l, w, IT_CONDITION_EXPR, &o);
}

/*
 * Positions of macro trees are moved to a private range per macro right after parsing, so a position reported
 * by the compiler for a rule (whose tree shares macro subtrees) tells which text it belongs to. The rule's own
 * text keeps positions below RL_RULE_SPAN.
 */
#define RL_RULE_SPAN (RULES_MAX_CONDITION * 2u)

static void rebase_expr(struct flt_expr *e, uint32_t base, unsigned depth)
{
	if (!e || depth > 256)
		return;
	e->pos.idx += base;
	if (e->kind == FE_TRANSFORMER)
		for (uint32_t i = 0; i < e->tr.nargs; i++)
			rebase_expr(e->tr.args[i], base, depth + 1);
	else if (e->kind == FE_LIST)
		for (uint32_t i = 0; i < e->list.n; i++)
			rebase_expr(e->list.items[i], base, depth + 1);
}

static void rebase(struct flt_node *n, uint32_t base)
{
	n->pos.idx += base;
	switch (n->kind) {
	case FN_AND:
	case FN_OR:
		for (uint32_t i = 0; i < n->list.n; i++)
			rebase(n->list.children[i], base);
		break;
	case FN_NOT:
		rebase(n->child, base);
		break;
	case FN_CHECK:
		rebase_expr(n->check.lhs, base, 0);
		if (n->check.rhs_kind == RHS_VALUE)
			n->check.rhs.value.pos.idx += base;
		else if (n->check.rhs_kind == RHS_LIST)
			for (uint32_t i = 0; i < n->check.rhs.list.n; i++)
				n->check.rhs.list.items[i].pos.idx += base;
		else if (n->check.rhs_kind == RHS_EXPR)
			rebase_expr(n->check.rhs.expr, base, 0);
		break;
	case FN_IDENT:
		break;
	}
}

const struct rl_text *rl_owner_text(struct rl_cc *cc, const struct rl_text *own, uint32_t *idx)
{
	if (*idx < RL_RULE_SPAN)
		return own;
	/* only errors and warnings get here: a scan is fine */
	const struct rl_macro *found = NULL;
	for (uint32_t i = 0; i < cc->l->nmacros && !found; i++) {
		const struct rl_macro *m = cc->l->macros[i];
		if (m->base && m->base <= *idx && *idx - m->base <= m->text.len)
			found = m;
	}
	if (!found || *idx - found->base > found->text.len)
		return own;
	*idx -= found->base;
	return &found->text;
}

/* ---- macros ---- */

struct res_state {
	struct rl_cc *cc;
	uint32_t vis;		    /* macros with index < vis are visible */
	const struct rl_text *rule; /* resolving a rule: its own text */
	struct rl_macro *path[RULES_MAX_EXPANDED_DEPTH];
	unsigned npath;
	uint64_t budget; /* expanded nodes still allowed */
	/* first error */
	bool failed;
	char err_msg[512];
	const struct rl_text *err_text;
	uint32_t err_idx;
	bool skip; /* a referenced macro failed on its own */
};

/* Resets s for one tree. The path (8 KB) is not cleared: only path[0, npath) is ever read. */
static void res_state_init(struct res_state *s, struct rl_cc *cc, uint32_t vis,
			   const struct rl_text *rule)
{
	s->cc = cc;
	s->vis = vis;
	s->rule = rule;
	s->npath = 0;
	s->budget = RULES_MAX_EXPANDED_NODES;
	s->failed = false;
	s->err_msg[0] = '\0';
	s->err_text = NULL;
	s->err_idx = 0;
	s->skip = false;
}

static int res_fail(struct res_state *s, const struct rl_text *text, uint32_t idx, const char *fmt,
		    ...) _printf_(4, 5);

static int res_fail(struct res_state *s, const struct rl_text *text, uint32_t idx, const char *fmt,
		    ...)
{
	va_list ap;

	if (!s->failed) {
		s->failed = true;
		va_start(ap, fmt);
		vsnprintf(s->err_msg, sizeof(s->err_msg), fmt, ap);
		va_end(ap);
		s->err_text = text;
		s->err_idx = idx;
	}
	return -EINVAL;
}

static int too_complex(struct res_state *s, const struct rl_text *text, uint32_t idx)
{
	return res_fail(s, text, idx,
			"Condition is too complex once macros are expanded (more than %u nodes)",
			RULES_MAX_EXPANDED_NODES);
}

/*
 * Replaces identifiers under *np with macro trees. text is what *np was parsed from (a clone of a macro not
 * yet resolved carries that macro's text). Returns 0, -EINVAL (s->err_*), -ENOENT (s->skip), -ENOMEM.
 */
static int resolve(struct res_state *s, struct flt_node **np, const struct rl_text *text,
		   uint32_t *ret_nodes, uint32_t *ret_depth)
{
	struct flt_node *n = *np;
	uint32_t nodes = 1, depth = 1;
	int r;

	if (s->budget == 0)
		return too_complex(s, text, n->pos.idx);
	s->budget--;

	switch (n->kind) {
	case FN_AND:
	case FN_OR:
		for (uint32_t i = 0; i < n->list.n; i++) {
			uint32_t cn, cd;
			if ((r = resolve(s, &n->list.children[i], text, &cn, &cd)) < 0)
				return r;
			nodes += cn;
			depth = MAX(depth, cd + 1);
		}
		break;
	case FN_NOT: {
		uint32_t cn, cd;
		if ((r = resolve(s, &n->child, text, &cn, &cd)) < 0)
			return r;
		nodes += cn;
		depth = cd + 1;
		break;
	}
	case FN_CHECK:
		break;
	case FN_IDENT: {
		const char *name = n->ident.name;
		struct rl_macro *m = rl_find_macro(s->cc->l, name);
		uint32_t vis = s->vis;
		struct rl_seg o;
		/*
		 * Upstream compiles after each file, so a rule's text written in file F may only name macros that
		 * exist once F is read, even if a later file defines them.
		 */
		if (text == s->rule && rl_text_origin(text, n->pos.idx, &o) && o.node)
			vis = s->cc->l->files[o.file].end_index;
		if (!m || m->index >= vis)
			return res_fail(s, text, n->pos.idx, "Undefined macro '%s' used in filter.",
					name);
		if (!m || m->index >= s->vis)
			return res_fail(s, text, n->pos.idx, "Undefined macro '%s' used in filter.",
					name);
		for (unsigned i = 0; i < s->npath; i++)
			if (s->path[i] == m)
				return res_fail(s, text, n->pos.idx, "reference loop in macro '%s'",
						name);
		if (m->failed) {
			s->skip = true;
			return -ENOENT;
		}
		m->used = true;
		if (m->resolved) {
			/* shared, not copied: a resolved tree is never modified again */
			if (s->budget < m->nodes)
				return too_complex(s, text, n->pos.idx);
			s->budget -= m->nodes;
			*np = m->ast;
			nodes = m->nodes;
			depth = m->depth;
			break;
		}
		/* not resolved yet (defined later, made visible by an append): expand a copy here, as upstream */
		if (s->npath >= ARRAY_SIZE(s->path))
			return res_fail(
				s, text, n->pos.idx,
				"Condition is nested too deeply once macros are expanded (more than %u levels)",
				RULES_MAX_EXPANDED_DEPTH);
		struct flt_node *copy = flt_clone(&s->cc->ast, m->ast);
		if (!copy)
			return -ENOMEM;
		s->path[s->npath++] = m;
		r = resolve(s, &copy, &m->text, &nodes, &depth);
		s->npath--;
		if (r < 0)
			return r;
		*np = copy;
		break;
	}
	}
	if (depth > RULES_MAX_EXPANDED_DEPTH)
		return res_fail(
			s, text, n->pos.idx,
			"Condition is nested too deeply once macros are expanded (more than %u levels)",
			RULES_MAX_EXPANDED_DEPTH);
	*ret_nodes = nodes;
	*ret_depth = depth;
	return 0;
}

/* Records the resolver's error in the context w (the macro or rule being compiled). */
static int res_report(struct rl_cc *cc, const struct res_state *s, const struct rl_where *w)
{
	struct rl_where ew = *w;

	uint32_t idx = s->err_idx;
	const struct rl_text *t = rl_owner_text(cc, s->err_text, &idx);
	rl_where_pos(cc, &ew, t, idx);
	return rl_msg(cc->l, 0, LOAD_ERR_VALIDATE, &ew, "%s", s->err_msg);
}

static void macro_where(struct rl_cc *cc, const struct rl_macro *m, struct rl_where *w)
{
	*w = (struct rl_where){0};
	rl_where_push(w, IT_RULES_CONTENT, "", (int32_t)m->ref.file, 0);
	rl_where_node(cc->l, w, IT_MACRO, m->name, m->ref.file, m->ref.node);
	rl_where_node(cc->l, w, IT_MACRO_CONDITION, "", m->cond_ref.file, m->cond_ref.node);
}

static int parse_macro(struct rl_cc *cc, struct rl_macro *m)
{
	struct rl_where w;
	struct flt_error err;
	int r;

	macro_where(cc, m, &w);
	r = rl_subst_lists(cc, &m->cond, &m->text);
	if (r == -E2BIG) {
		m->failed = true;
		return rl_msg(cc->l, 0, LOAD_ERR_COMPILE_CONDITION, &w,
			      "Condition is too long after list substitution (limit %u bytes)",
			      RULES_MAX_CONDITION);
	}
	if (r < 0)
		return r;
	r = flt_parse(m->text.s, m->text.len, &cc->ast, &m->ast, &err);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		m->failed = true;
		rl_where_pos(cc, &w, &m->text, err.pos.idx);
		return rl_msg(cc->l, 0, LOAD_ERR_COMPILE_CONDITION, &w, "%s", err.msg);
	}
	m->parsed = true;
	/* give the macro its own position range (none left: positions stay ambiguous, only messages suffer) */
	if (cc->next_base <= UINT32_MAX - m->text.len - 1) {
		m->base = cc->next_base;
		cc->next_base += m->text.len + 1;
		rebase(m->ast, m->base);
	}
	return 0;
}

int rl_compile_macros(struct rl_cc *cc)
{
	struct rules_loader *l = cc->l;
	struct res_state *s = malloc(sizeof(*s));
	int ret = 0, r;

	cc->next_base = RL_RULE_SPAN;
	if (!s)
		return -ENOMEM;
	for (uint32_t i = 0; i < l->nmacros; i++) {
		r = parse_macro(cc, l->macros[i]);
		if (r == -ENOMEM) {
			ret = r;
			goto out;
		}
		if (r < 0)
			ret = r;
	}
	/* in definition order, in place: each macro with its own visibility */
	for (uint32_t i = 0; i < l->nmacros; i++) {
		struct rl_macro *m = l->macros[i];
		struct rl_where w;
		if (m->failed)
			continue;
		res_state_init(s, cc, m->visibility, NULL);
		s->path[s->npath++] = m;
		m->resolving = true;
		r = resolve(s, &m->ast, &m->text, &m->nodes, &m->depth);
		m->resolving = false;
		if (r == -ENOMEM) {
			ret = r;
			goto out;
		}
		if (r < 0) {
			m->failed = true;
			if (r == -EINVAL) {
				macro_where(cc, m, &w);
				if ((r = res_report(cc, s, &w)) == -ENOMEM) {
					ret = r;
					goto out;
				}
				ret = -EINVAL;
			}
			continue;
		}
		m->resolved = true;
	}
out:
	free(s);
	return ret;
}

int rl_resolve_rule(struct rl_cc *cc, struct flt_node **ast, const struct rl_text *text,
		    const struct rl_where *w)
{
	struct res_state *s = malloc(sizeof(*s));
	uint32_t nodes, depth;

	if (!s)
		return -ENOMEM;
	res_state_init(s, cc, UINT32_MAX, text);
	int r = resolve(s, ast, text, &nodes, &depth);
	if (r == -EINVAL)
		r = res_report(cc, s, w);
	free(s);
	return r;
}
