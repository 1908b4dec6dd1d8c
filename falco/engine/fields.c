/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Field-name resolution against a source's field tables. Runs at load time only, but once per field occurrence
 * in every condition and output format (thousands for upstream's rule files) against hundreds of fields, so each
 * source gets a hash index of its names on first use: a linear scan was the biggest single cost of `falco -V`.
 * The index is built once per source (src_def is static) and never freed.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fields.h"

#define FLD_MAX_SOURCES 8

struct fld_index {
	const struct src_def *src;
	const struct fld_table *const *tables; /* src->tables when built: a changed table misses */
	const struct fld_def **slots;	       /* open addressing, NULL = empty */
	uint32_t mask;
	const struct fld_def **dotted; /* FLD_ARG_DOTTED fields, in table order */
	size_t ndotted;
	uint16_t *dotted_len;
};

static struct fld_index indexes[FLD_MAX_SOURCES];
static size_t nindexes;
static pthread_mutex_t index_lock = PTHREAD_MUTEX_INITIALIZER;

static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static bool build(struct fld_index *x, const struct src_def *src)
{
	size_t n = 0;
	size_t nd = 0;

	for (const struct fld_table *const *t = src->tables; *t; t++) {
		n += (*t)->n;
		for (size_t i = 0; i < (*t)->n; i++)
			nd += ((*t)->defs[i].flags & FLD_ARG_DOTTED) != 0;
	}
	uint32_t cap = 16;
	while (cap < 2 * n)
		cap *= 2;
	x->slots = calloc(cap, sizeof(*x->slots));
	x->dotted = calloc(nd ? nd : 1, sizeof(*x->dotted));
	x->dotted_len = calloc(nd ? nd : 1, sizeof(*x->dotted_len));
	if (!x->slots || !x->dotted || !x->dotted_len) {
		free(x->slots);
		free(x->dotted);
		free(x->dotted_len);
		return false;
	}
	x->mask = cap - 1;
	for (const struct fld_table *const *t = src->tables; *t; t++) {
		for (size_t i = 0; i < (*t)->n; i++) {
			const struct fld_def *d = &(*t)->defs[i];
			uint32_t h = name_hash(d->name) & x->mask;
			/* the first table that defines a name wins, as the scan in table order did */
			while (x->slots[h] && strcmp(x->slots[h]->name, d->name) != 0)
				h = (h + 1) & x->mask;
			if (!x->slots[h])
				x->slots[h] = d;
			if (d->flags & FLD_ARG_DOTTED) {
				x->dotted_len[x->ndotted] = (uint16_t)strlen(d->name);
				x->dotted[x->ndotted++] = d;
			}
		}
	}
	x->src = src;
	x->tables = src->tables;
	return true;
}

/* The index of src, built on first use; NULL when out of memory or too many sources (callers then scan). */
static const struct fld_index *index_of(const struct src_def *src)
{
	const struct fld_index *ret = NULL;

	pthread_mutex_lock(&index_lock);
	for (size_t i = 0; i < nindexes; i++) {
		if (indexes[i].src == src && indexes[i].tables == src->tables) {
			ret = &indexes[i];
			break;
		}
	}
	if (!ret && nindexes < FLD_MAX_SOURCES && build(&indexes[nindexes], src))
		ret = &indexes[nindexes++];
	pthread_mutex_unlock(&index_lock);
	return ret;
}

/* Without an index (out of memory, or more than FLD_MAX_SOURCES sources): the same answers by scanning. */
static const struct fld_def *scan(const struct src_def *src, const char *name, size_t *ret_len)
{
	const struct fld_def *best = NULL;
	size_t best_len = 0;

	for (const struct fld_table *const *t = src->tables; *t; t++)
		for (size_t i = 0; i < (*t)->n; i++)
			if (strcmp((*t)->defs[i].name, name) == 0)
				return &(*t)->defs[i];
	for (const struct fld_table *const *t = src->tables; *t; t++) {
		for (size_t i = 0; i < (*t)->n; i++) {
			const struct fld_def *d = &(*t)->defs[i];
			size_t n = strlen(d->name);
			if (!(d->flags & FLD_ARG_DOTTED) || n <= best_len ||
			    strncmp(name, d->name, n) != 0 || name[n] != '.' || name[n + 1] == '\0')
				continue;
			best = d;
			best_len = n;
		}
	}
	*ret_len = best_len;
	return best;
}

static const struct fld_def *lookup(const struct src_def *src, const char *name, size_t *ret_len)
{
	const struct fld_index *x = index_of(src);
	const struct fld_def *best = NULL;
	size_t best_len = 0;

	*ret_len = 0;
	if (!x)
		return scan(src, name, ret_len);
	for (uint32_t h = name_hash(name) & x->mask; x->slots[h]; h = (h + 1) & x->mask)
		if (strcmp(x->slots[h]->name, name) == 0)
			return x->slots[h];
	/* "evt.arg.flags" → evt.arg with argument "flags": the longest dotted prefix wins */
	for (size_t i = 0; i < x->ndotted; i++) {
		const struct fld_def *d = x->dotted[i];
		size_t n = x->dotted_len[i];
		if (n <= best_len || strncmp(name, d->name, n) != 0 || name[n] != '.' ||
		    name[n + 1] == '\0')
			continue;
		best = d;
		best_len = n;
	}
	*ret_len = best_len;
	return best;
}

const struct fld_def *fld_lookup(const struct src_def *src, const char *name,
				 const char **ret_dotted_arg)
{
	if (ret_dotted_arg)
		*ret_dotted_arg = NULL;
	if (!src || !src->tables || !name)
		return NULL;
	size_t len;
	const struct fld_def *d = lookup(src, name, &len);
	if (d && len && ret_dotted_arg)
		*ret_dotted_arg = name + len + 1;
	return d;
}
