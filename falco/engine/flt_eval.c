/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Evaluation: the per-event field cache, and/or/not with short-circuit, and program/value-expression memory.
 * The cache is invalidated in O(1) per event by bumping a generation counter; an entry is (re)filled on the
 * first read of its slot in an event, so each distinct field is extracted at most once per event.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "flt_internal.h"

/* ---- program memory ---- */

void flt_cmem_init(struct cmem *m, size_t first_chunk)
{
	/* small first chunk: most programs are a few hundred bytes, and a rule set has hundreds of them */
	arena_init(&m->a, first_chunk, 0);
	m->cleanups = NULL;
}

int flt_cmem_add_cleanup(struct cmem *m, enum cleanup_kind kind, void *p)
{
	struct cleanup *c = arena_alloc(&m->a, sizeof(*c));
	if (!c)
		return -ENOMEM;
	*c = (struct cleanup){.kind = kind, .p = p, .next = m->cleanups};
	m->cleanups = c;
	return 0;
}

void flt_cmem_done(struct cmem *m)
{
	for (struct cleanup *c = m->cleanups; c; c = c->next) {
		switch (c->kind) {
		case CL_REGEX:
			flt_regex_free(c->p);
			break;
		case CL_HMAP:
			hmap_done(c->p);
			break;
		case CL_FIELD: {
			struct fld_inst *fi = c->p;
			if (fi->def->release)
				fi->def->release(fi);
			break;
		}
		}
	}
	m->cleanups = NULL;
	arena_done(&m->a);
}

struct flt_prog *flt_prog_free(struct flt_prog *p)
{
	if (p) {
		flt_cmem_done(&p->mem);
		free(p);
	}
	return NULL;
}

struct flt_vexpr *flt_vexpr_free(struct flt_vexpr *v)
{
	if (v && v->refs > 1) {
		v->refs--;
		return NULL;
	}
	if (v) {
		flt_cmem_done(&v->mem);
		free(v);
	}
	return NULL;
}

/* ---- cache ---- */

struct flt_cache *flt_cache_new(uint32_t nslots)
{
	struct flt_cache *c = calloc(1, sizeof(*c) + (size_t)nslots * sizeof(c->ents[0]));
	if (!c)
		return NULL;
	c->n = nslots;
	c->gen = 1; /* entries start at generation 0: stale */
	c->md = flt_regex_md_new();
	if (!c->md) {
		free(c);
		return NULL;
	}
	return c;
}

struct flt_cache *flt_cache_free(struct flt_cache *c)
{
	if (c) {
		flt_regex_md_free(c->md);
		free(c);
	}
	return NULL;
}

void flt_cache_next_event(struct flt_cache *c)
{
	c->gen++;
}

static int extract(const struct fld_inst *fi, struct flt_eval_ctx *ec, struct value *out)
{
	int rc = fi->def->extract(&ec->f, fi, out);
	if (rc < 0) {
		ec->extract_errors++;
		return 0;
	}
	/* a list with no items is "not extracted", like a missing value */
	if (rc > 0 && out->is_list && out->len == 0)
		return 0;
	return rc > 0;
}

void flt_cache_fill(struct flt_cache_ent *e, uint64_t gen, const struct fld_inst *fi,
		    struct flt_eval_ctx *ec)
{
	e->gen = gen;
	e->rc = extract(fi, ec, &e->v);
}

const struct value *flt_field_uncached(const struct fld_inst *fi, struct flt_eval_ctx *ec,
				       struct value *tmp)
{
	return extract(fi, ec, tmp) ? tmp : NULL;
}

/* ---- boolean structure ---- */

bool flt_eval(const struct flt_prog *p, struct flt_eval_ctx *ec)
{
	return p->root->eval(p->root, ec);
}

int flt_eval_vexpr(const struct flt_vexpr *v, struct flt_eval_ctx *ec, struct value *out)
{
	struct value tmp;
	const struct value *r = flt_cval_get(v->v, ec, &tmp);
	if (!r)
		return 0;
	*out = *r;
	return 1;
}

const struct fld_inst *flt_vexpr_field(const struct flt_vexpr *v)
{
	return v->v->kind == CV_FIELD ? &v->v->fi : NULL;
}

enum fld_type flt_vexpr_type(const struct flt_vexpr *v, bool *ret_is_list)
{
	if (ret_is_list)
		*ret_is_list = v->v->is_list;
	return v->v->type;
}

bool flt_node_and(const struct cnode *n, struct flt_eval_ctx *ec)
{
	const struct cnode_list *l = (const struct cnode_list *)n;
	for (uint32_t i = 0; i < l->n; i++)
		if (!l->kids[i]->eval(l->kids[i], ec))
			return false;
	return true;
}

bool flt_node_or(const struct cnode *n, struct flt_eval_ctx *ec)
{
	const struct cnode_list *l = (const struct cnode_list *)n;
	for (uint32_t i = 0; i < l->n; i++)
		if (l->kids[i]->eval(l->kids[i], ec))
			return true;
	return false;
}

bool flt_node_not(const struct cnode *n, struct flt_eval_ctx *ec)
{
	const struct cnode *c = ((const struct cnode_not *)n)->child;
	return !c->eval(c, ec);
}

bool flt_node_const(const struct cnode *n, struct flt_eval_ctx *ec)
{
	return ((const struct cnode_const *)n)->v;
}
