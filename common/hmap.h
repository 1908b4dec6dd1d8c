/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Open-addressing hash map from byte strings to pointers. Keys are borrowed: the caller keeps them alive for
 * the map's lifetime (they usually live in the same arena as the map's owner). Used for `in` sets, list and
 * macro names, and other lookups built once and read on the hot path.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	const char *key; /* NULL = empty slot */
	uint32_t klen;
	uint32_t hash;
	void *val;
};

struct hmap {
	struct hmap_slot *slots;
	size_t cap; /* power of two */
	size_t n;
};

uint64_t hash_bytes(const void *data, size_t len);

/* Returns 0 or -ENOMEM. expected may be 0. */
int hmap_init(struct hmap *m, size_t expected);
void hmap_done(struct hmap *m);
/* Inserts or replaces. Returns 1 if inserted, 0 if replaced, -ENOMEM/-E2BIG. */
int hmap_put(struct hmap *m, const char *key, size_t klen, void *val);
/* Returns the slot for key or NULL. */
const struct hmap_slot *hmap_find(const struct hmap *m, const char *key, size_t klen);
static inline void *hmap_get(const struct hmap *m, const char *key, size_t klen)
{
	const struct hmap_slot *s = hmap_find(m, key, klen);
	return s ? s->val : NULL;
}
static inline bool hmap_contains(const struct hmap *m, const char *key, size_t klen)
{
	return hmap_find(m, key, klen) != NULL;
}

#define hmap_for_each(m, s)                                                                  \
	for (struct hmap_slot *s = (m)->slots; (m)->slots && s < (m)->slots + (m)->cap; s++) \
		if (s->key)
