/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "hmap.h"

uint64_t hash_bytes(const void *data, size_t len)
{
	/* FNV-1a, 64 bit, with a final avalanche: fast on the short keys we hash (names, paths). */
	const unsigned char *p = data;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i = 0;

	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		h = (h ^ w) * 0x100000001b3ULL;
		h ^= h >> 29;
	}
	for (; i < len; i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

int hmap_init(struct hmap *m, size_t expected)
{
	size_t cap = 16;
	while (cap < expected * 2)
		cap *= 2;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (!m->slots)
		return -ENOMEM;
	m->cap = cap;
	m->n = 0;
	return 0;
}

void hmap_done(struct hmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = m->n = 0;
}

static struct hmap_slot *probe(struct hmap_slot *slots, size_t cap, const char *key, size_t klen,
			       uint32_t h)
{
	size_t mask = cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct hmap_slot *s = &slots[i];
		if (!s->key)
			return s;
		if (s->hash == h && s->klen == klen && memcmp(s->key, key, klen) == 0)
			return s;
	}
}

static int grow(struct hmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	struct hmap_slot *ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++) {
		struct hmap_slot *s = &m->slots[i];
		if (s->key)
			*probe(ns, ncap, s->key, s->klen, s->hash) = *s;
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	return 0;
}

int hmap_put(struct hmap *m, const char *key, size_t klen, void *val)
{
	if (klen > UINT32_MAX)
		return -E2BIG;
	if ((m->n + 1) * 4 > m->cap * 3) {
		int r = grow(m);
		if (r < 0)
			return r;
	}
	uint32_t h = (uint32_t)hash_bytes(key, klen);
	struct hmap_slot *s = probe(m->slots, m->cap, key, klen, h);
	if (s->key) {
		s->val = val;
		return 0;
	}
	*s = (struct hmap_slot){.key = key, .klen = (uint32_t)klen, .hash = h, .val = val};
	m->n++;
	return 1;
}

const struct hmap_slot *hmap_find(const struct hmap *m, const char *key, size_t klen)
{
	if (!m->cap)
		return NULL;
	struct hmap_slot *s = probe(m->slots, m->cap, key, klen, (uint32_t)hash_bytes(key, klen));
	return s->key ? s : NULL;
}
