/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bump allocator: many small allocations freed together. Used for parsed documents and for per-event scratch
 * (reset after each event, so the hot path never calls malloc once the first chunk is warm).
 */
#pragma once

#include <stddef.h>

struct arena_chunk {
	struct arena_chunk *next;
	size_t size; /* usable bytes in data[] */
	size_t used;
	_Alignas(16) unsigned char data[];
};

struct arena {
	struct arena_chunk *head; /* current chunk; older ones follow ->next */
	size_t chunk_size;	  /* default size of a new chunk */
	size_t total;		  /* bytes handed out since the last reset */
	size_t max;		  /* limit on total; 0 = unlimited */
};

void arena_init(struct arena *a, size_t chunk_size, size_t max);
/* Frees every chunk. The arena can be reused after arena_init(). */
void arena_done(struct arena *a);
/* Forgets all allocations but keeps the newest chunk for reuse. */
void arena_reset(struct arena *a);
/* The general case of arena_alloc: a new chunk, or a limit to check. */
void *arena_alloc_slow(struct arena *a, size_t n);

/*
 * 16-byte aligned; NULL on ENOMEM or when the limit would be passed. Memory is not zeroed. Inline: rule loading
 * and per-event scratch call it tens of thousands of times, nearly always with room in the current chunk.
 */
static inline void *arena_alloc(struct arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t need = (n + 15) & ~(size_t)15;

	if (!c || a->max || need < n || c->size - c->used < need)
		return arena_alloc_slow(a, n);
	void *p = c->data + c->used;
	c->used += need;
	a->total += need;
	return p;
}
void *arena_zalloc(struct arena *a, size_t n);
/* Copies n bytes and adds a NUL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
