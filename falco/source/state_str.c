/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interned, refcounted strings in a size-class slab, and the u64 → u32 index maps of the state tables.
 *
 * Strings: classes of 32..8192 bytes (header included) are carved from 64 KiB chunks and recycled through
 * per-class free lists, so steady state allocates nothing; the pool stops growing at max_bytes (the caller then
 * gets NULL: a missing value, counted). Equal strings share one copy: a fork or a dup takes a reference.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/macro.h"
#include "state_internal.h"

/* ---- maps ---- */

static inline uint32_t map_slot(const struct st_map *m, uint64_t key)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> m->shift);
}

static uint32_t log2_u32(uint32_t v)
{
	uint32_t r = 0;
	while ((1u << r) < v)
		r++;
	return r;
}

int st_map_init(struct st_map *m, uint32_t cap, uint32_t max_entries)
{
	uint64_t maxc = (uint64_t)max_entries * 10 / 7 + 1;
	uint32_t b = log2_u32(cap < 16 ? 16 : cap);

	memset(m, 0, sizeof(*m));
	if (maxc > (1u << 31))
		maxc = 1u << 31;
	m->max_cap = 1u << log2_u32((uint32_t)maxc);
	if ((1u << b) > m->max_cap)
		b = log2_u32(m->max_cap);
	m->cap = 1u << b;
	m->shift = 64 - b;
	m->slots = malloc((size_t)m->cap * sizeof(*m->slots));
	if (!m->slots) {
		st_map_done(m);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < m->cap; i++)
		m->slots[i].val = ST_NIL;
	return 0;
}

void st_map_done(struct st_map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static int map_grow(struct st_map *m)
{
	struct st_map nm;
	uint32_t ncap = m->cap * 2;

	if (ncap > m->max_cap)
		return -E2BIG;
	nm.cap = ncap;
	nm.shift = m->shift - 1;
	nm.max_cap = m->max_cap;
	nm.n = 0;
	nm.slots = malloc((size_t)ncap * sizeof(*nm.slots));
	if (!nm.slots)
		return -ENOMEM;
	for (uint32_t i = 0; i < ncap; i++)
		nm.slots[i].val = ST_NIL;
	for (uint32_t i = 0; i < m->cap; i++) {
		if (m->slots[i].val == ST_NIL)
			continue;
		uint32_t j = map_slot(&nm, m->slots[i].key);
		while (nm.slots[j].val != ST_NIL)
			j = (j + 1) & (ncap - 1);
		nm.slots[j] = m->slots[i];
		nm.n++;
	}
	free(m->slots);
	*m = nm;
	return 0;
}

int st_map_put(struct st_map *m, uint64_t key, uint32_t val)
{
	uint32_t mask = m->cap - 1, i;

	for (i = map_slot(m, key); m->slots[i].val != ST_NIL; i = (i + 1) & mask) {
		if (m->slots[i].key == key) {
			m->slots[i].val = val;
			return 0;
		}
	}
	/* keep the load under 0.7 so probes stay short */
	if ((uint64_t)(m->n + 1) * 10 > (uint64_t)m->cap * 7) {
		int r = map_grow(m);
		if (r < 0) {
			if (m->n + 1 >= m->cap)
				return r;
			/* at the maximum size: accept a higher load rather than fail */
		} else {
			return st_map_put(m, key, val);
		}
	}
	m->slots[i].key = key;
	m->slots[i].val = val;
	m->n++;
	return 0;
}

void st_map_del(struct st_map *m, uint64_t key)
{
	uint32_t mask = m->cap - 1, i;

	for (i = map_slot(m, key);; i = (i + 1) & mask) {
		if (m->slots[i].val == ST_NIL)
			return;
		if (m->slots[i].key == key)
			break;
	}
	/* backward shift: move later members of the cluster into the hole when their home allows it */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & mask; m->slots[j].val != ST_NIL; j = (j + 1) & mask) {
		uint32_t home = map_slot(m, m->slots[j].key);
		/* j may move to hole iff home is not cyclically in (hole, j] */
		bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (in_range)
			continue;
		m->slots[hole] = m->slots[j];
		hole = j;
	}
	m->slots[hole].val = ST_NIL;
	m->n--;
}

/* ---- string pool ---- */

#define CHUNK_SIZE (64u * 1024u)
#define HDR	   offsetof(struct st_str, s)

struct st_pool_chunk {
	struct st_pool_chunk *next;
	uint32_t cls, used;
	max_align_t data[];
};

static const uint32_t class_size[ST_STR_CLASSES] = {32, 64, 128, 256, 512, 1024, 2048, 4096, 8192};

void st_pool_init(struct st_strpool *p, size_t max_bytes)
{
	memset(p, 0, sizeof(*p));
	p->max_bytes = max_bytes;
}

void st_pool_done(struct st_strpool *p)
{
	struct st_pool_chunk *c = p->chunks;
	while (c) {
		struct st_pool_chunk *n = c->next;
		free(c);
		c = n;
	}
	free(p->tab);
	memset(p, 0, sizeof(*p));
}

static int class_of(size_t need)
{
	for (int i = 0; i < ST_STR_CLASSES; i++)
		if (need <= class_size[i])
			return i;
	return -1;
}

static void *pool_alloc(struct st_strpool *p, int cls)
{
	void *m = p->free[cls];
	if (m) {
		p->free[cls] = *(void **)m;
		return m;
	}
	/* carve a new chunk for this class */
	if (p->bytes + CHUNK_SIZE > p->max_bytes)
		return NULL;
	struct st_pool_chunk *c = malloc(CHUNK_SIZE);
	if (!c)
		return NULL;
	c->next = p->chunks;
	c->cls = (uint32_t)cls;
	p->chunks = c;
	p->bytes += CHUNK_SIZE;
	size_t sz = class_size[cls];
	char *base = (char *)c->data;
	size_t avail = CHUNK_SIZE - offsetof(struct st_pool_chunk, data);
	size_t n = avail / sz;
	/* thread all but the first slot onto the free list */
	for (size_t i = n; i-- > 1;) {
		void *slot = base + i * sz;
		*(void **)slot = p->free[cls];
		p->free[cls] = slot;
	}
	return base;
}

static int tab_grow(struct st_strpool *p)
{
	uint32_t ncap = p->cap ? p->cap * 2 : 1024;
	struct st_str **nt = calloc(ncap, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (uint32_t i = 0; i < p->cap; i++) {
		struct st_str *s = p->tab[i];
		if (!s)
			continue;
		uint32_t j = s->hash & (ncap - 1);
		while (nt[j])
			j = (j + 1) & (ncap - 1);
		nt[j] = s;
	}
	free(p->tab);
	p->tab = nt;
	p->cap = ncap;
	return 0;
}

struct st_str *st_str_intern(struct st_state *st, const char *s, size_t len)
{
	struct st_strpool *p = &st->pool;

	if (!s)
		return NULL;
	if (len > 8192 - HDR - 1)
		len = 8192 - HDR - 1; /* the largest class; inputs are bounded below this anyway */
	uint32_t h = (uint32_t)hash_bytes(s, len);
	if (p->cap) {
		uint32_t mask = p->cap - 1;
		for (uint32_t i = h & mask; p->tab[i]; i = (i + 1) & mask) {
			struct st_str *e = p->tab[i];
			if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0) {
				e->refs++;
				return e;
			}
		}
	}
	if ((p->n + 1) * 10 > p->cap * 7 && tab_grow(p) < 0) {
		st->stats.str_full++;
		return NULL;
	}
	int cls = class_of(HDR + len + 1);
	struct st_str *n = cls >= 0 ? pool_alloc(p, cls) : NULL;
	if (!n) {
		st->stats.str_full++;
		return NULL;
	}
	n->refs = 1;
	n->len = (uint32_t)len;
	n->hash = h;
	n->cls = (uint16_t)cls;
	n->pad = 0;
	memcpy(n->s, s, len);
	n->s[len] = '\0';
	uint32_t mask = p->cap - 1, i = h & mask;
	while (p->tab[i])
		i = (i + 1) & mask;
	p->tab[i] = n;
	p->n++;
	return n;
}

struct st_str *st_str_intern_cstr(struct st_state *st, const char *s)
{
	return s ? st_str_intern(st, s, strlen(s)) : NULL;
}

struct st_str *st_str_ref(struct st_str *s)
{
	if (s)
		s->refs++;
	return s;
}

static void tab_remove(struct st_strpool *p, struct st_str *s)
{
	uint32_t mask = p->cap - 1, i;

	for (i = s->hash & mask; p->tab[i] != s; i = (i + 1) & mask)
		if (!p->tab[i])
			return; /* not interned: cannot happen */
	uint32_t hole = i;
	for (uint32_t j = (i + 1) & mask; p->tab[j]; j = (j + 1) & mask) {
		uint32_t home = p->tab[j]->hash & mask;
		bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (in_range)
			continue;
		p->tab[hole] = p->tab[j];
		hole = j;
	}
	p->tab[hole] = NULL;
	p->n--;
}

void st_str_unref(struct st_state *st, struct st_str *s)
{
	if (!s || --s->refs > 0)
		return;
	struct st_strpool *p = &st->pool;
	tab_remove(p, s);
	*(void **)s = p->free[s->cls];
	p->free[s->cls] = s;
}

void st_str_set(struct st_state *st, struct st_str **slot, struct st_str *s)
{
	struct st_str *old = *slot;
	*slot = s;
	st_str_unref(st, old);
}
