/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rules_loader_finish: compiles everything collected into a rule set. Per rule, in definition order (upstream's
 * compile_rule_infos): exceptions → list substitution → parse → macro resolution → warnings → compile →
 * output format → event types. Errors are reported for every rule (not only the first), but a rule that uses
 * a broken macro is skipped quietly so one mistake gives one message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "rules_internal.h"

#define WARNING_CONTAINER_INFO                                                                                 \
	"%container.info is deprecated and no more useful, and will be dropped by Falco 1.0.0. The container " \
	"plugin will automatically add required fields to the output message."

/* Errors that skip-if-unknown-filter turns into a LOAD_UNKNOWN_FILTER warning (upstream's substrings). */
static bool is_unknown_filter_error(const char *msg)
{
	return strstr(msg, "nonexistent field") || strstr(msg, "invalid formatting token") ||
	       strstr(msg, "unknown event type") || strstr(msg, "unknown filter:");
}

struct rc {
	struct rl_cc *cc;
	struct ruleset *rs;
	const struct rl_rule *r;
	const struct src_def *src;
	uint16_t src_idx;
	struct rl_where w;  /* content + rule */
	struct rl_where cw; /* + rule condition */
	struct flt_node *ast;
	const struct rl_text *text; /* the final condition text the AST was parsed from */
	int err;
};

static int rc_cond_msg(struct rc *c, enum load_code code, const struct flt_pos *pos,
		       const char *msg)
{
	struct rl_where w = c->cw;
	const struct rl_text *t = c->text;

	if (pos) {
		uint32_t idx = pos->idx;
		t = rl_owner_text(c->cc, c->text, &idx);
		rl_where_pos(c->cc, &w, t, idx);
	}
	return rl_msg(c->cc->l, 0, code, &w, "%s", msg);
}

static void on_compile_warning(void *ud, const struct flt_pos *pos, const char *msg)
{
	struct rc *c = ud;
	int r = rc_cond_msg(c, LOAD_COMPILE_CONDITION, pos, msg);
	if (r < 0 && !c->err)
		c->err = r;
}

/* ---- the warnings visitor (upstream filter_warning_resolver) ---- */

struct wstate {
	struct rc *c;
	bool na_done;
	const char *deprecated[16];
	unsigned ndeprecated;
	uint32_t budget;
	int err;
};

/* fld_lookup, remembered per source: the same fields come back in most rules */
static const struct fld_def *lookup_cached(struct rc *c, const char *name)
{
	struct hmap *m = &c->cc->fields[c->src_idx];
	const struct hmap_slot *slot = hmap_find(m, name, strlen(name));
	const char *dotted;

	if (slot)
		return slot->val;
	const struct fld_def *d = fld_lookup(c->src, name, &dotted);
	(void)hmap_put(m, name, strlen(name),
		       (void *)d); /* a failed insert only costs a later lookup */
	return d;
}

static void warn_field(struct wstate *ws, const char *name, const struct flt_pos *pos)
{
	const struct fld_def *d = lookup_cached(ws->c, name);
	bool dir = streq(name, "evt.dir");
	char msg[512];

	if (!d || !((d->flags & FLD_DEPRECATED) || dir))
		return;
	for (unsigned i = 0; i < ws->ndeprecated; i++)
		if (streq(ws->deprecated[i], d->name))
			return;
	if (ws->ndeprecated == ARRAY_SIZE(ws->deprecated))
		return;
	ws->deprecated[ws->ndeprecated++] = d->name;
	if (dir)
		snprintf(
			msg, sizeof(msg),
			"The 'evt.dir' field is deprecated: rules are only evaluated on exit events, so checks on "
			"the event direction are redundant");
	else
		snprintf(msg, sizeof(msg), "Field '%s' is deprecated", name);
	int r = rc_cond_msg(ws->c, LOAD_DEPRECATED_ITEM, pos, msg);
	if (r < 0 && !ws->err)
		ws->err = r;
}

static void warn_expr(struct wstate *ws, const struct flt_expr *e, unsigned depth)
{
	if (!e || depth > 64)
		return;
	if (e->kind == FE_FIELD)
		warn_field(ws, e->field.name, &e->pos);
	else if (e->kind == FE_TRANSFORMER)
		for (uint32_t i = 0; i < e->tr.nargs; i++)
			warn_expr(ws, e->tr.args[i], depth + 1);
	else if (e->kind == FE_LIST)
		for (uint32_t i = 0; i < e->list.n; i++)
			warn_expr(ws, e->list.items[i], depth + 1);
}

static bool is_na(const struct flt_literal *v)
{
	return v->len == 4 && memcmp(v->s, "<NA>", 4) == 0;
}

static void warn_check(struct wstate *ws, const struct flt_node *n)
{
	const struct flt_expr *lhs = n->check.lhs;

	warn_expr(ws, lhs, 0);
	if (n->check.rhs_kind == RHS_EXPR)
		warn_expr(ws, n->check.rhs.expr, 0);
	if (ws->na_done || !lhs || lhs->kind != FE_FIELD)
		return;
	if (!startswith(lhs->field.name, "ka.") && !startswith(lhs->field.name, "jevt."))
		return;
	enum flt_op op = n->check.op;
	if (op != OP_EQ && op != OP_NE && op != OP_IN && op != OP_INTERSECTS && op != OP_PMATCH)
		return;
	bool na = false;
	if (n->check.rhs_kind == RHS_VALUE)
		na = is_na(&n->check.rhs.value);
	else if (n->check.rhs_kind == RHS_LIST)
		for (uint32_t i = 0; i < n->check.rhs.list.n; i++)
			na |= is_na(&n->check.rhs.list.items[i]);
	if (!na)
		return;
	ws->na_done = true;
	char msg[512];
	snprintf(
		msg, sizeof(msg),
		"Comparing '%s' with '<NA>' is unsafe: a missing value never matches; use 'exists' instead",
		lhs->field.name);
	int r = rc_cond_msg(ws->c, LOAD_UNSAFE_NA_CHECK, &n->pos, msg);
	if (r < 0 && !ws->err)
		ws->err = r;
}

static void warn_walk(struct wstate *ws, const struct flt_node *n)
{
	if (ws->budget == 0)
		return;
	ws->budget--;
	switch (n->kind) {
	case FN_AND:
	case FN_OR:
		for (uint32_t i = 0; i < n->list.n; i++)
			warn_walk(ws, n->list.children[i]);
		break;
	case FN_NOT:
		warn_walk(ws, n->child);
		break;
	case FN_CHECK:
		warn_check(ws, n);
		break;
	case FN_IDENT:
		break;
	}
}

/* ---- outputs ---- */

struct out_build {
	struct rules_loader *l;
	struct rl_tb b;
	struct rule_extra_field *extra;
	uint32_t nextra, cap;
};

static bool tags_match(const struct rl_rule *r, const char *const *tags)
{
	if (!tags)
		return true;
	for (; *tags; tags++) {
		bool found = false;
		for (uint32_t i = 0; i < r->ntags && !found; i++)
			found = streq(r->tags[i], *tags);
		if (!found)
			return false;
	}
	return true;
}

static int compile_extra_field(struct rc *c, const char *spec, struct rule_extra_field *ef,
			       char *err, size_t errlen)
{
	const char *eq = strchr(spec, '=');
	const char *br = strchr(spec, '[');
	struct fmt_error ferr;

	*ef = (struct rule_extra_field){0};
	if (eq && (!br || eq < br)) {
		/* "name=format": the rendered format becomes the value */
		ef->name = arena_strndup(&c->rs->arena, spec, (size_t)(eq - spec));
		if (!ef->name)
			return -ENOMEM;
		int r = fmt_build(c->rs->comp, c->src, eq + 1, strlen(eq + 1), &ef->f, &ferr);
		if (r < 0)
			return errf(err, errlen, r, "%s", ferr.msg);
		return 0;
	}
	struct arena a;
	struct flt_expr *e;
	struct flt_error fe;
	size_t used;
	arena_init(&a, 1024, 1u << 20);
	int r = flt_parse_value_expr(spec, strlen(spec), &a, &e, &used, &fe);
	if (r == 0 && used != strlen(spec))
		r = errf(fe.msg, sizeof(fe.msg), -EINVAL, "invalid formatting token %s", spec);
	if (r == 0)
		r = flt_compile_vexpr(c->rs->comp, c->src, e, &ef->v, &fe);
	arena_done(&a);
	if (r < 0)
		return errf(err, errlen, r, "%s", fe.msg);
	ef->name = arena_strdup(&c->rs->arena, spec);
	return ef->name ? 0 : -ENOMEM;
}

/* Builds the final output text: %container.info removed, append_output applied. Fills extras in *ob. */
static int build_output(struct rc *c, struct out_build *ob, struct rl_text *ret)
{
	const struct rl_rule *r = c->r;
	const struct rl_text *o = &r->output;
	const struct rules_options *opts = &c->cc->l->opts;
	static const char ci[] = "%container.info";
	int ret_code;

	rl_tb_init(&ob->b, RULES_MAX_OUTPUT);
	bool warned = false;
	uint32_t i = 0;
	while (i < o->len) {
		const char *hit = memmem(o->s + i, o->len - i, ci, STRLEN(ci));
		if (!hit) {
			rl_tb_copy(&ob->b, o, i, o->len - i);
			break;
		}
		uint32_t p = (uint32_t)(hit - o->s);
		rl_tb_copy(&ob->b, o, i, p - i);
		i = p + (uint32_t)STRLEN(ci);
		if (!warned) {
			struct rl_where w = c->w;
			int rr = rl_msg(c->cc->l, 0, LOAD_DEPRECATED_ITEM, &w, "%s",
					WARNING_CONTAINER_INFO);
			if (rr < 0)
				return rr;
			warned = true;
		}
	}
	for (size_t k = 0; k < opts->nappend_output; k++) {
		const struct rules_append_output *ao = &opts->append_output[k];
		if ((ao->source && !streq(ao->source, r->source)) ||
		    (ao->rule && !streq(ao->rule, r->name)) || !tags_match(r, ao->tags))
			continue;
		if (ao->extra_output && *ao->extra_output) {
			rl_tb_point(&ob->b, " ", 1, NULL);
			rl_tb_point(&ob->b, ao->extra_output, strlen(ao->extra_output), NULL);
		}
		for (const char *const *f = ao->extra_fields; f && *f; f++) {
			if (ob->nextra == ob->cap) {
				uint32_t ncap = ob->cap ? ob->cap * 2 : 4;
				struct rule_extra_field *ne =
					realloc(ob->extra, ncap * sizeof(*ne));
				if (!ne)
					return -ENOMEM;
				ob->extra = ne;
				ob->cap = ncap;
			}
			char err[512];
			int rr = compile_extra_field(c, *f, &ob->extra[ob->nextra], err,
						     sizeof(err));
			if (rr == -ENOMEM)
				return rr;
			if (rr < 0) {
				struct rl_where w = c->w;
				return rl_msg(c->cc->l, 0, LOAD_ERR_COMPILE_OUTPUT, &w,
					      "append_output extra field '%s': %s", *f, err);
			}
			ob->nextra++;
		}
	}
	ret_code = rl_tb_freeze(&ob->b, &c->cc->ast, ret);
	if (ret_code == -E2BIG) {
		struct rl_where w = c->w;
		return rl_msg(c->cc->l, 0, LOAD_ERR_COMPILE_OUTPUT, &w,
			      "Output is too long (limit %u bytes)", RULES_MAX_OUTPUT);
	}
	return ret_code;
}

static void free_extras(struct rule_extra_field *e, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		flt_vexpr_free(e[i].v);
		fmt_free(e[i].f);
	}
	free(e);
}

/* ---- one rule ---- */

struct rule_vec {
	struct rule *v;
	size_t n, cap;
};

static int skip_or_error(struct rc *c, enum load_code code, const struct rl_where *w,
			 const char *msg, bool *skip)
{
	if (c->r->skip_unknown && is_unknown_filter_error(msg)) {
		*skip = true;
		return rl_msg(c->cc->l, 0, LOAD_UNKNOWN_FILTER, w, "%s", msg);
	}
	return rl_msg(c->cc->l, 0, code, w, "%s", msg);
}

static const struct ynode *first_node(const struct rl_text *t)
{
	return t->nsegs ? t->segs[0].node : NULL;
}

static int compile_rule(struct rl_cc *cc, struct ruleset *rs, struct rl_rule *r,
			struct rule_vec *out)
{
	struct rules_loader *l = cc->l;
	struct rc c = {.cc = cc, .rs = rs, .r = r};
	struct rl_text t0, t1, otext;
	struct flt_error err;
	struct flt_prog *prog = NULL;
	struct fmt *fmt = NULL;
	struct out_build ob = {.l = l};
	uint64_t *bits = NULL;
	bool skip = false;
	int ret;

	c.src = rl_source(l, r->source, &c.src_idx);
	rl_where_push(&c.w, IT_RULES_CONTENT, "", (int32_t)r->ref.file, 0);
	rl_where_node(l, &c.w, IT_RULE, r->name, r->ref.file, r->ref.node);
	c.cw = c.w;
	if (first_node(&r->cond))
		rl_where_node(l, &c.cw, IT_RULE_CONDITION, "", r->cond.segs[0].file,
			      first_node(&r->cond));

	/* 1. exceptions, lists, parse, macros */
	if ((ret = rl_apply_exceptions(cc, r, &c.w, &t0)) < 0)
		return ret == -E2BIG ? rl_msg(l, 0, LOAD_ERR_VALIDATE, &c.w,
					      "Condition is too long with exceptions")
				     : ret;
	ret = rl_subst_lists(cc, &t0, &t1);
	if (ret == -E2BIG)
		return rl_msg(l, 0, LOAD_ERR_COMPILE_CONDITION, &c.cw,
			      "Condition is too long after list substitution (limit %u bytes)",
			      RULES_MAX_CONDITION);
	if (ret < 0)
		return ret;
	c.text = &t1;
	ret = flt_parse(t1.s, t1.len, &cc->ast, &c.ast, &err);
	if (ret == -ENOMEM)
		return ret;
	if (ret < 0) {
		c.ast = NULL;
		return rc_cond_msg(&c, LOAD_ERR_COMPILE_CONDITION, &err.pos, err.msg);
	}
	ret = rl_resolve_rule(cc, &c.ast, &t1, &c.cw);
	if (ret == -ENOENT)
		return 0; /* a macro it uses failed and was reported */
	if (ret < 0)
		return ret;

	/* 2. warnings on the resolved tree */
	struct wstate ws = {.c = &c, .budget = RULES_MAX_EXPANDED_NODES};
	warn_walk(&ws, c.ast);
	if (ws.err)
		return ws.err;

	/* 3. compile the condition */
	ret = flt_compile(rs->comp, c.src, c.ast, on_compile_warning, &c, &prog, &err);
	if (c.err)
		ret = c.err;
	if (ret == -ENOMEM)
		goto out;
	if (ret < 0) {
		struct rl_where w = c.cw;
		uint32_t idx = err.pos.idx;
		const struct rl_text *owner = rl_owner_text(cc, c.text, &idx);
		rl_where_pos(cc, &w, owner, idx);
		ret = skip_or_error(&c, LOAD_ERR_COMPILE_CONDITION, &w, err.msg, &skip);
		goto out;
	}

	/* 4. the output format */
	ret = build_output(&c, &ob, &otext);
	if (ret < 0)
		goto out;
	struct fmt_error ferr;
	ret = fmt_build(rs->comp, c.src, otext.s, otext.len, &fmt, &ferr);
	if (ret == -ENOMEM)
		goto out;
	if (ret < 0) {
		struct rl_where w = c.w;
		struct rl_seg o;
		if (first_node(&r->output))
			rl_where_node(l, &w, IT_RULE_OUTPUT, "", r->output.segs[0].file,
				      first_node(&r->output));
		if (rl_text_origin(&otext, ferr.off, &o))
			rl_where_seg(l, &w, IT_RULE_OUTPUT_EXPR, &o);
		ret = skip_or_error(&c, LOAD_ERR_COMPILE_OUTPUT, &w, ferr.msg, &skip);
		goto out;
	}

	/* 5. event types */
	uint32_t nev = c.src->nevttypes, nw = (nev + 63) / 64;
	bits = arena_zalloc(&rs->arena, (nw ? nw : 1) * sizeof(*bits));
	if (!bits) {
		ret = -ENOMEM;
		goto out;
	}
	ret = flt_evttypes(c.ast, c.src, bits, &err);
	if (ret == -ENOMEM)
		goto out;
	if (ret < 0) {
		struct rl_where w = c.cw;
		uint32_t idx = err.pos.idx;
		const struct rl_text *owner = rl_owner_text(cc, c.text, &idx);
		rl_where_pos(cc, &w, owner, idx);
		ret = skip_or_error(&c, LOAD_ERR_COMPILE_CONDITION, &w, err.msg, &skip);
		goto out;
	}
	uint32_t count = 0;
	for (uint32_t i = 0; i < nw; i++)
		count += (uint32_t)__builtin_popcountll(bits[i]);
	if (streq(c.src->name, "syscall") && r->warn_evttypes && (count == 0 || count > 100)) {
		ret = rl_msg(
			l, 0, LOAD_NO_EVTTYPE, &c.w,
			"Rule matches too many evt.type values. This has a significant performance penalty.");
		if (ret < 0)
			goto out;
	}

	/* 6. rules less severe than the configured minimum are compiled (to report errors) but not added */
	if (r->priority > l->opts.min_priority) {
		ret = 0;
		goto out;
	}
	if (out->n == out->cap) {
		size_t ncap = out->cap ? out->cap * 2 : 64;
		struct rule *nv = realloc(out->v, ncap * sizeof(*nv));
		if (!nv) {
			ret = -ENOMEM;
			goto out;
		}
		out->v = nv;
		out->cap = ncap;
	}
	struct rule *x = &out->v[out->n];
	*x = (struct rule){
		.name = arena_strdup(&rs->arena, r->name),
		.desc = arena_strdup(&rs->arena, r->desc ? r->desc : ""),
		.condition = arena_strndup(&rs->arena, r->cond.s ? r->cond.s : "", r->cond.len),
		.compiled = arena_strndup(&rs->arena, t1.s, t1.len),
		.output = arena_strndup(&rs->arena, otext.s ? otext.s : "", otext.len),
		.source = c.src->name,
		.priority = r->priority,
		.enabled = r->enabled,
		.capture = r->capture,
		.capture_duration = r->capture_duration,
		.ntags = r->ntags,
		.id = (uint32_t)out->n,
		.source_idx = c.src_idx,
		.evttypes = bits,
		.evt_any = count == 0,
	};
	x->tags = arena_alloc(&rs->arena, (r->ntags + 1) * sizeof(*x->tags));
	if (!x->name || !x->desc || !x->condition || !x->compiled || !x->output || !x->tags) {
		ret = -ENOMEM;
		goto out;
	}
	for (uint32_t i = 0; i < r->ntags; i++)
		if (!(x->tags[i] = arena_strdup(&rs->arena, r->tags[i]))) {
			ret = -ENOMEM;
			goto out;
		}
	x->tags[r->ntags] = NULL;
	if (l->opts.keep_expanded) {
		struct strbuf sb;
		strbuf_init(&sb, 16u << 20);
		flt_dump(&sb, c.ast);
		x->expanded = sb.failed ? NULL : arena_strndup(&rs->arena, strbuf_str(&sb), sb.len);
		strbuf_done(&sb);
		if (!x->expanded) {
			ret = -ENOMEM;
			goto out;
		}
	}
	x->prog = TAKE_PTR(prog);
	x->fmt = TAKE_PTR(fmt);
	x->extra = TAKE_PTR(ob.extra);
	x->nextra = ob.nextra;
	ob.nextra = 0;
	out->n++;
	ret = 0;
out:
	rl_tb_done(&ob.b);
	free_extras(ob.extra, ob.nextra);
	flt_prog_free(prog);
	fmt_free(fmt);
	return ret;
}

/* ---- the whole set ---- */

static int unused_warnings(struct rl_cc *cc)
{
	struct rules_loader *l = cc->l;
	int r;

	for (uint32_t i = 0; i < l->nmacros; i++) {
		const struct rl_macro *m = l->macros[i];
		if (m->used)
			continue;
		struct rl_where w = {0};
		rl_where_push(&w, IT_RULES_CONTENT, "", (int32_t)m->ref.file, 0);
		rl_where_node(l, &w, IT_MACRO, m->name, m->ref.file, m->ref.node);
		if ((r = rl_msg(l, 0, LOAD_UNUSED_MACRO, &w,
				"Macro not referred to by any other rule/macro")) < 0)
			return r;
	}
	for (uint32_t i = 0; i < l->nlists; i++) {
		const struct rl_list *L = l->lists[i];
		if (L->used)
			continue;
		struct rl_where w = {0};
		rl_where_push(&w, IT_RULES_CONTENT, "", (int32_t)L->ref.file, 0);
		rl_where_node(l, &w, IT_LIST, L->name, L->ref.file, L->ref.node);
		if ((r = rl_msg(l, 0, LOAD_UNUSED_LIST, &w,
				"List not referred to by any other rule/macro")) < 0)
			return r;
	}
	return 0;
}

static struct ruleset *ruleset_new(const struct rules_options *opts)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	if (!rs)
		return NULL;
	arena_init(&rs->arena, 64 * 1024, 0);
	rs->comp = flt_compiler_new();
	rs->src = calloc(opts->nsources ? opts->nsources : 1, sizeof(*rs->src));
	if (!rs->comp || !rs->src)
		return ruleset_free(rs);
	rs->nsources = opts->nsources;
	for (size_t i = 0; i < opts->nsources; i++)
		rs->src[i].src = opts->sources[i];
	rs->match_all = opts->match_all;
	return rs;
}

int rules_loader_finish(struct rules_loader *l, struct ruleset **ret)
{
	struct rl_cc cc = {.l = l};
	struct rule_vec rv = {0};
	struct ruleset *rs = NULL;
	int r = 0;

	if (l->finished)
		return -EBUSY;
	l->finished = true;
	/* a file that failed to read may have left half of its items: compiling them only adds noise */
	if (l->failed)
		return -EINVAL;

	arena_init(&cc.ast, 256 * 1024, 0);
	rs = ruleset_new(&l->opts);
	if (!rs) {
		r = -ENOMEM;
		goto out;
	}
	snprintf(rs->req_version, sizeof(rs->req_version), "%u.%u.%u", l->req_version[0],
		 l->req_version[1], l->req_version[2]);

	cc.fields = calloc(l->opts.nsources ? l->opts.nsources : 1, sizeof(*cc.fields));
	if (!cc.fields) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < l->opts.nsources; i++)
		if (hmap_init(&cc.fields[i], 128) < 0) {
			r = -ENOMEM;
			goto out;
		}
	if ((r = rl_compile_lists(&cc)) < 0)
		goto out;
	if ((r = rl_compile_macros(&cc)) == -ENOMEM)
		goto out;
	for (uint32_t i = 0; i < l->nrules; i++) {
		struct rl_rule *rule = l->rules[i];
		if (rule->unknown_source)
			continue;
		if ((r = compile_rule(&cc, rs, rule, &rv)) == -ENOMEM)
			goto out;
	}
	r = 0;
	if (!l->failed && (r = unused_warnings(&cc)) < 0)
		goto out;
	if (l->failed) {
		r = -EINVAL;
		goto out;
	}
	rs->rules = TAKE_PTR(rv.v);
	rs->nrules = rv.n;
	rv.n = 0;
	if ((r = ruleset_reindex(rs)) < 0)
		goto out;
	*ret = TAKE_PTR(rs);
out:
	for (size_t i = 0; i < rv.n; i++)
		rs_rule_release(&rv.v[i]);
	free(rv.v);
	ruleset_free(rs);
	free(cc.odd);
	for (size_t i = 0; cc.fields && i < l->opts.nsources; i++)
		hmap_done(&cc.fields[i]);
	free(cc.fields);
	arena_done(&cc.ast);
	return r;
}
