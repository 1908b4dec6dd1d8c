/* SPDX-License-Identifier: Apache-2.0 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

void arena_init(struct arena *a, size_t chunk_size, size_t max)
{
	*a = (struct arena){.chunk_size = chunk_size ? chunk_size : 16384, .max = max};
}

void arena_done(struct arena *a)
{
	struct arena_chunk *c = a->head;
	while (c) {
		struct arena_chunk *n = c->next;
		free(c);
		c = n;
	}
	a->head = NULL;
	a->total = 0;
}

void arena_reset(struct arena *a)
{
	struct arena_chunk *c = a->head;
	if (!c)
		return;
	/* keep the largest-so-far (newest) chunk, free the rest */
	struct arena_chunk *rest = c->next;
	c->next = NULL;
	c->used = 0;
	while (rest) {
		struct arena_chunk *n = rest->next;
		free(rest);
		rest = n;
	}
	a->total = 0;
}

void *arena_alloc_slow(struct arena *a, size_t n)
{
	size_t need = (n + 15) & ~(size_t)15;

	if (need < n)
		return NULL;
	if (a->max && (need > a->max || a->total + need > a->max))
		return NULL;
	struct arena_chunk *c = a->head;
	if (!c || c->size - c->used < need) {
		size_t sz = a->chunk_size;
		while (sz < need)
			sz *= 2;
		/* grow chunk sizes geometrically so a big document needs few chunks */
		if (c && sz < c->size * 2 && c->size * 2 <= (64u << 20))
			sz = c->size * 2;
		c = malloc(sizeof(*c) + sz);
		if (!c)
			return NULL;
		c->size = sz;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += need;
	a->total += need;
	return p;
}

void *arena_zalloc(struct arena *a, size_t n)
{
	void *p = arena_alloc(a, n);
	if (p)
		memset(p, 0, n);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}
