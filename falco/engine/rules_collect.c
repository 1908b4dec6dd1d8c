/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The collector: define, append, replace and enable, with upstream's semantics. A redefinition replaces an item
 * but keeps its first-definition index (its place in the rule order); every define and append takes the next
 * value of one shared counter, which becomes the item's visibility (what lists and macros it may refer to).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "rules_internal.h"

#define ERROR_NO_PREVIOUS_MACRO \
	"Macro uses 'append' or 'override.condition: append' but no macro by that name already exists"
#define ERROR_NO_PREVIOUS_LIST \
	"List uses 'append' or 'override.items: append' but no list by that name already exists"
#define ERROR_NO_PREVIOUS_RULE_APPEND \
	"Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists"
#define ERROR_NO_PREVIOUS_RULE_REPLACE \
	"An 'override.<key>: replace' to a rule was requested but no rule by that name already exists"

#define coll_err(l, w, fmt, ...) rl_msg((l), 0, LOAD_ERR_VALIDATE, (w), fmt, ##__VA_ARGS__)

struct rl_list *rl_find_list(const struct rules_loader *l, const char *name)
{
	return hmap_get(&l->list_map, name, strlen(name));
}

struct rl_macro *rl_find_macro(const struct rules_loader *l, const char *name)
{
	return hmap_get(&l->macro_map, name, strlen(name));
}

struct rl_rule *rl_find_rule(const struct rules_loader *l, const char *name)
{
	return hmap_get(&l->rule_map, name, strlen(name));
}

const struct src_def *rl_source(const struct rules_loader *l, const char *name, uint16_t *ret_idx)
{
	for (size_t i = 0; i < l->opts.nsources; i++) {
		if (l->opts.sources[i] && streq(l->opts.sources[i]->name, name)) {
			if (ret_idx)
				*ret_idx = (uint16_t)i;
			return l->opts.sources[i];
		}
	}
	return NULL;
}

/* Appends p to a growable pointer array. */
static int push_ptr(void ***arr, uint32_t *n, uint32_t *cap, void *p)
{
	if (*n == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 64;
		void **na = realloc(*arr, ncap * sizeof(*na));
		if (!na)
			return -ENOMEM;
		*arr = na;
		*cap = ncap;
	}
	(*arr)[(*n)++] = p;
	return 0;
}

/* ---- tags ---- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int rl_tags_sort_unique(const char **tags, uint32_t n)
{
	uint32_t k = 0;

	if (n == 0)
		return 0;
	qsort(tags, n, sizeof(*tags), cmp_str);
	for (uint32_t i = 0; i < n; i++)
		if (k == 0 || strcmp(tags[k - 1], tags[i]) != 0)
			tags[k++] = tags[i];
	return (int)k;
}

int rl_tags_union(struct arena *a, const char **x, uint32_t nx, const char **y, uint32_t ny,
		  const char ***ret, uint32_t *ret_n)
{
	const char **t = arena_alloc(a, (nx + ny ? nx + ny : 1) * sizeof(*t));
	if (!t)
		return -ENOMEM;
	if (nx)
		memcpy(t, x, nx * sizeof(*t));
	if (ny)
		memcpy(t + nx, y, ny * sizeof(*t));
	*ret_n = (uint32_t)rl_tags_sort_unique(t, nx + ny);
	*ret = t;
	return 0;
}

/* ---- lists and macros ---- */

int rl_list_define(struct rules_loader *l, struct rl_list *v)
{
	struct rl_list *prev = rl_find_list(l, v->name);
	uint32_t id = l->cur_index++;

	/* names holding a delimiter cannot be found by word lookup during substitution */
	v->odd_name = false;
	for (const char *p = v->name; *p; p++)
		if (strchr(" \t\n\r(),=", *p))
			v->odd_name = true;
	if (prev) {
		v->index = prev->index;
		v->visibility = id;
		*prev = *v;
		return 0;
	}
	struct rl_list *n = arena_alloc(&l->arena, sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *v;
	n->index = n->visibility = id;
	if (push_ptr((void ***)&l->lists, &l->nlists, &l->cap_lists, n) < 0)
		return -ENOMEM;
	return hmap_put(&l->list_map, n->name, strlen(n->name), n) < 0 ? -ENOMEM : 0;
}

int rl_list_append(struct rules_loader *l, const struct rl_list *v, const struct rl_where *w)
{
	struct rl_list *prev = rl_find_list(l, v->name);

	if (!prev)
		return coll_err(l, w, ERROR_NO_PREVIOUS_LIST);
	if (v->nitems) {
		uint32_t n = prev->nitems + v->nitems;
		struct rl_item *items = arena_alloc(&l->arena, n * sizeof(*items));
		if (!items)
			return -ENOMEM;
		if (prev->nitems)
			memcpy(items, prev->items, prev->nitems * sizeof(*items));
		memcpy(items + prev->nitems, v->items, v->nitems * sizeof(*items));
		prev->items = items;
		prev->nitems = prev->cap = n;
	}
	prev->visibility = l->cur_index++;
	return 0;
}

int rl_macro_define(struct rules_loader *l, struct rl_macro *v)
{
	struct rl_macro *prev = rl_find_macro(l, v->name);
	uint32_t id = l->cur_index++;

	if (prev) {
		v->index = prev->index;
		v->visibility = id;
		*prev = *v;
		return 0;
	}
	struct rl_macro *n = arena_alloc(&l->arena, sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *v;
	n->index = n->visibility = id;
	if (push_ptr((void ***)&l->macros, &l->nmacros, &l->cap_macros, n) < 0)
		return -ENOMEM;
	return hmap_put(&l->macro_map, n->name, strlen(n->name), n) < 0 ? -ENOMEM : 0;
}

/* prev + " " + add (plain concatenation, as upstream: no parentheses are added). */
static int text_concat(struct arena *a, struct rl_text *prev, const struct rl_text *add)
{
	struct rl_tb b;

	rl_tb_init(&b, RULES_MAX_CONDITION);
	rl_tb_copy(&b, prev, 0, prev->len);
	rl_tb_point(&b, " ", 1, NULL);
	rl_tb_copy(&b, add, 0, add->len);
	int r = rl_tb_freeze(&b, a, prev);
	rl_tb_done(&b);
	return r;
}

int rl_macro_append(struct rules_loader *l, const struct rl_macro *v, const struct rl_where *w)
{
	struct rl_macro *prev = rl_find_macro(l, v->name);

	if (!prev)
		return coll_err(l, w, ERROR_NO_PREVIOUS_MACRO);
	int r = text_concat(&l->arena, &prev->cond, &v->cond);
	if (r == -E2BIG)
		return coll_err(l, w, "Condition is too long after append (limit %u bytes)",
				RULES_MAX_CONDITION);
	if (r < 0)
		return r;
	prev->visibility = l->cur_index++;
	return 0;
}

/* ---- exceptions ---- */

static const char *const operators[] = {
	"=",	    "==",	 "!=",	       "<=",	 ">=",	   "<",		  ">",
	"contains", "icontains", "bcontains",  "glob",	 "iglob",  "bstartswith", "startswith",
	"endswith", "in",	 "intersects", "pmatch", "exists", "regex",	  NULL};
/* Operators that take a modifier: "startswith oneof (a, b)". */
static const char *const mod_operators[] = {
	"=",	       "==",	   "!=",   "contains", "icontains", "bcontains", "startswith",
	"bstartswith", "endswith", "glob", "iglob",    "regex",	    NULL};
static const char *const modifiers[] = {"oneof", "anyof", "allof", NULL};

static bool in_list(const char *s, size_t n, const char *const *set)
{
	for (; *set; set++)
		if (strlen(*set) == n && memcmp(*set, s, n) == 0)
			return true;
	return false;
}

/* "op modifier" with blanks between. */
static bool is_modifier_op(const char *s)
{
	const char *sp = s;
	while (*sp && *sp != ' ' && *sp != '\t')
		sp++;
	if (!*sp || !in_list(s, (size_t)(sp - s), mod_operators))
		return false;
	while (*sp == ' ' || *sp == '\t')
		sp++;
	return in_list(sp, strlen(sp), modifiers);
}

bool rl_is_operator(const char *s)
{
	return in_list(s, strlen(s), operators) || is_modifier_op(s);
}

bool rl_is_list_operator(const char *s)
{
	return streq(s, "in") || streq(s, "intersects") || streq(s, "pmatch") || is_modifier_op(s);
}

/* Comps are whitespace-trimmed (in the arena). */
static const char *trim_dup(struct arena *a, const char *s)
{
	size_t from = 0, len = strlen(s);
	while (from < len && strchr(" \t\n\r\f\v", s[from]))
		from++;
	while (len > from && strchr(" \t\n\r\f\v", s[len - 1]))
		len--;
	if (from == 0 && len == strlen(s))
		return s;
	return arena_strndup(a, s + from, len - from);
}

/* A field as the left-hand side of a check: a field (with argument) or a transformer over fields. */
static bool valid_lhs_field(const struct src_def *src, const char *s)
{
	struct arena a;
	struct flt_expr *e;
	struct flt_error err;
	size_t used = 0;
	bool ok = false;

	arena_init(&a, 1024, 1u << 20);
	if (flt_parse_value_expr(s, strlen(s), &a, &e, &used, &err) == 0 && used == strlen(s)) {
		/* walk the expression: every field must exist in the source */
		struct flt_expr *stack[64];
		unsigned n = 0;
		ok = true;
		stack[n++] = e;
		while (n && ok) {
			struct flt_expr *x = stack[--n];
			if (x->kind == FE_FIELD) {
				const char *dotted;
				ok = fld_lookup(src, x->field.name, &dotted) != NULL;
			} else if (x->kind == FE_TRANSFORMER) {
				for (uint32_t i = 0; i < x->tr.nargs && n < ARRAY_SIZE(stack); i++)
					stack[n++] = x->tr.args[i];
			} else if (x->kind == FE_LIST) {
				for (uint32_t i = 0; i < x->list.n && n < ARRAY_SIZE(stack); i++)
					stack[n++] = x->list.items[i];
			}
		}
	}
	arena_done(&a);
	return ok;
}

/* Upstream's validate_exception_info: default comps, lengths, operators, fields. src NULL: unknown source. */
static int validate_exception(struct rules_loader *l, const struct src_def *src,
			      struct rl_exception *ex, const struct rl_where *rw)
{
	struct rl_where w = *rw;
	rl_where_node(l, &w, IT_EXCEPTION, ex->name, ex->ref.file, ex->ref.node);

	if (ex->fields.is_list) {
		if (!ex->has_comps) {
			ex->comps.is_list = true;
			ex->comps.n = ex->fields.n;
			ex->comps.items =
				arena_zalloc(&l->arena, (ex->fields.n ? ex->fields.n : 1) *
								sizeof(*ex->comps.items));
			if (!ex->comps.items)
				return -ENOMEM;
			for (uint32_t i = 0; i < ex->fields.n; i++)
				ex->comps.items[i].item = "=";
			ex->has_comps = true;
		}
		if (!ex->comps.is_list || ex->fields.n != ex->comps.n)
			return coll_err(l, &w, "Fields and comps lists must have equal length");
		for (uint32_t i = 0; i < ex->comps.n; i++) {
			struct rl_exc_entry *c = &ex->comps.items[i];
			const char *op = c->is_list || !c->item ? "" : trim_dup(&l->arena, c->item);
			if (!op)
				return -ENOMEM;
			c->item = op;
			if (!rl_is_operator(op))
				return coll_err(l, &w,
						"'%s' is not a supported comparison operator", op);
		}
		for (uint32_t i = 0; src && i < ex->fields.n; i++) {
			const struct rl_exc_entry *f = &ex->fields.items[i];
			const char *name = f->is_list || !f->item ? "" : f->item;
			if (!valid_lhs_field(src, name))
				return coll_err(l, &w, "'%s' is not a supported filter field",
						name);
		}
		return 0;
	}

	if (!ex->has_comps) {
		ex->comps = (struct rl_exc_entry){.item = "in"};
		ex->has_comps = true;
	}
	if (ex->comps.is_list)
		return coll_err(l, &w, "Fields and comps must both be strings");
	const char *op = trim_dup(&l->arena, ex->comps.item);
	if (!op)
		return -ENOMEM;
	ex->comps.item = op;
	if (!streq(op, "in") && !streq(op, "pmatch") && !streq(op, "intersects") &&
	    !is_modifier_op(op))
		return coll_err(
			l, &w,
			"When fields is a single value, comps must be one of (in, pmatch, intersects)");
	if (src && !valid_lhs_field(src, ex->fields.item))
		return coll_err(l, &w, "'%s' is not a supported filter field", ex->fields.item);
	return 0;
}

static int validate_new_exceptions(struct rules_loader *l, const struct src_def *src,
				   struct rl_exception *exc, uint32_t n, const struct rl_where *w,
				   const char *no_fields_msg)
{
	for (uint32_t i = 0; i < n; i++) {
		if (!exc[i].has_fields) {
			struct rl_where ew = *w;
			rl_where_node(l, &ew, IT_EXCEPTION, exc[i].name, exc[i].ref.file,
				      exc[i].ref.node);
			return coll_err(l, &ew, "%s", no_fields_msg);
		}
		int r = validate_exception(l, src, &exc[i], w);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- rules ---- */

int rl_rule_define(struct rules_loader *l, struct rl_rule *v, const struct rl_where *w)
{
	struct rl_rule *prev = rl_find_rule(l, v->name);
	int r;

	if (prev && !streq(prev->source, v->source))
		return coll_err(l, w, "Rule has been re-defined with a different source");
	const struct src_def *src = rl_source(l, v->source, NULL);
	if (!src) {
		v->unknown_source = true;
		r = rl_msg(l, 0, LOAD_UNKNOWN_SOURCE, w, "Unknown source %s, skipping", v->source);
		if (r < 0)
			return r;
	}
	if ((r = validate_new_exceptions(
		     l, src, v->exc, v->nexc, w,
		     "Rule exception item must have fields property with a list of fields")) < 0)
		return r;

	uint32_t id = l->cur_index++;
	if (prev) {
		v->index = prev->index;
		v->visibility = id;
		*prev = *v;
		return 0;
	}
	struct rl_rule *n = arena_alloc(&l->arena, sizeof(*n));
	if (!n)
		return -ENOMEM;
	*n = *v;
	n->index = n->visibility = id;
	if (push_ptr((void ***)&l->rules, &l->nrules, &l->cap_rules, n) < 0)
		return -ENOMEM;
	return hmap_put(&l->rule_map, n->name, strlen(n->name), n) < 0 ? -ENOMEM : 0;
}

static bool update_has_any(const struct rl_rule_update *u)
{
	return u->has_cond || u->has_output || u->has_desc || u->has_tags || u->has_exc ||
	       u->has_priority || u->has_enabled || u->has_capture || u->has_capture_duration ||
	       u->has_warn || u->has_skip;
}

/* The source of an existing rule for validating exceptions; NULL (no validation) for an unknown source. */
static const struct src_def *prev_source(struct rules_loader *l, const struct rl_rule *prev)
{
	return prev->unknown_source ? NULL : rl_source(l, prev->source, NULL);
}

static int concat_desc(struct rules_loader *l, const char **prev, const char *add)
{
	size_t a = strlen(*prev), b = strlen(add);
	char *s = arena_alloc(&l->arena, a + b + 2);
	if (!s)
		return -ENOMEM;
	memcpy(s, *prev, a);
	s[a] = ' ';
	memcpy(s + a + 1, add, b + 1);
	*prev = s;
	return 0;
}

int rl_rule_append(struct rules_loader *l, const struct rl_rule_update *u, const struct rl_where *w)
{
	struct rl_rule *prev = rl_find_rule(l, u->name);
	int r;

	if (!prev)
		return coll_err(l, w, ERROR_NO_PREVIOUS_RULE_APPEND);
	if (!update_has_any(u))
		return coll_err(l, w, "Appended rule must have exceptions or condition property");
	const struct src_def *src = prev_source(l, prev);

	if (u->has_cond && u->cond.len) {
		r = text_concat(&l->arena, &prev->cond, &u->cond);
		if (r == -E2BIG)
			return coll_err(l, w, "Condition is too long after append (limit %u bytes)",
					RULES_MAX_CONDITION);
		if (r < 0)
			return r;
	}
	if (u->has_output && u->output.len &&
	    (r = text_concat(&l->arena, &prev->output, &u->output)) < 0)
		return r == -E2BIG ? coll_err(l, w, "Output is too long after append") : r;
	if (u->has_desc && *u->desc && (r = concat_desc(l, &prev->desc, u->desc)) < 0)
		return r;
	if (u->has_tags && (r = rl_tags_union(&l->arena, prev->tags, prev->ntags, u->tags, u->ntags,
					      &prev->tags, &prev->ntags)) < 0)
		return r;
	if (u->has_exc) {
		/* worst case every exception is new */
		struct rl_exception *exc =
			arena_alloc(&l->arena, (prev->nexc + u->nexc + 1) * sizeof(*exc));
		uint32_t n = prev->nexc;
		if (!exc)
			return -ENOMEM;
		if (prev->nexc)
			memcpy(exc, prev->exc, prev->nexc * sizeof(*exc));
		for (uint32_t i = 0; i < u->nexc; i++) {
			struct rl_exception ex = u->exc[i];
			struct rl_exception *old = NULL;
			struct rl_where ew = *w;
			rl_where_node(l, &ew, IT_EXCEPTION, ex.name, ex.ref.file, ex.ref.node);
			for (uint32_t j = 0; j < n && !old; j++)
				if (streq(exc[j].name, ex.name))
					old = &exc[j];
			if (!old) {
				if (!ex.has_fields)
					return coll_err(
						l, &ew,
						"Rule exception must have fields property with a list of fields");
				if (ex.nvalues == 0)
					return coll_err(
						l, &ew,
						"Rule exception must have values property with a list of values");
				if ((r = validate_exception(l, src, &ex, w)) < 0)
					return r;
				exc[n++] = ex;
				continue;
			}
			if (ex.has_fields)
				return coll_err(
					l, &ew,
					"Can not append exception fields to existing exception, only values");
			if (ex.has_comps)
				return coll_err(
					l, &ew,
					"Can not append exception comps to existing exception, only values");
			if (ex.nvalues) {
				struct rl_exc_entry *vals = arena_alloc(
					&l->arena, (old->nvalues + ex.nvalues) * sizeof(*vals));
				if (!vals)
					return -ENOMEM;
				if (old->nvalues)
					memcpy(vals, old->values, old->nvalues * sizeof(*vals));
				memcpy(vals + old->nvalues, ex.values, ex.nvalues * sizeof(*vals));
				old->values = vals;
				old->nvalues += ex.nvalues;
			}
		}
		prev->exc = exc;
		prev->nexc = n;
	}
	prev->visibility = l->cur_index++;
	return 0;
}

int rl_rule_replace(struct rules_loader *l, const struct rl_rule_update *u,
		    const struct rl_where *w)
{
	struct rl_rule *prev = rl_find_rule(l, u->name);
	int r;

	if (!prev)
		return coll_err(l, w, ERROR_NO_PREVIOUS_RULE_REPLACE);
	if (!update_has_any(u))
		return coll_err(l, w, "The rule must have at least one field that can be replaced");
	const struct src_def *src = prev_source(l, prev);

	if (u->has_exc) {
		if ((r = validate_new_exceptions(
			     l, src, u->exc, u->nexc, w,
			     "Rule exception must have fields property with a list of fields")) < 0)
			return r;
		prev->exc = u->exc;
		prev->nexc = u->nexc;
	}
	if (u->has_cond)
		prev->cond = u->cond;
	if (u->has_output)
		prev->output = u->output;
	if (u->has_desc)
		prev->desc = u->desc;
	if (u->has_tags) {
		prev->tags = u->tags;
		prev->ntags = u->ntags;
	}
	if (u->has_priority)
		prev->priority = u->priority;
	if (u->has_enabled)
		prev->enabled = u->enabled;
	if (u->has_capture)
		prev->capture = u->capture;
	if (u->has_capture_duration)
		prev->capture_duration = u->capture_duration;
	if (u->has_warn)
		prev->warn_evttypes = u->warn_evttypes;
	if (u->has_skip)
		prev->skip_unknown = u->skip_unknown;
	prev->visibility = l->cur_index++;
	return 0;
}

int rl_rule_enable(struct rules_loader *l, const char *name, bool enabled, const struct rl_where *w)
{
	struct rl_rule *prev = rl_find_rule(l, name);

	if (!prev)
		return coll_err(l, w,
				"Rule has 'enabled' key but no rule by that name already exists");
	prev->enabled = enabled;
	return 0;
}
