/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the k8s_audit source (k8saudit_*.c): the per-event index of hot subtrees, and the JSON printers
 * shared by the batch parser (event size) and the field extractors (compact and indented renderings).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "common/arena.h"
#include "k8saudit.h"

/* Top-level keys of an audit Event that extractors use, indexed once per event by k8s_index_root(). */
enum k8s_root_key {
	KR_AUDIT_ID,
	KR_STAGE,
	KR_VERB,
	KR_REQUEST_URI,
	KR_USER_AGENT,
	KR_ANNOTATIONS,
	KR_USER,
	KR_IMPERSONATED_USER,
	KR_OBJECT_REF,
	KR_REQUEST_OBJECT,
	KR_RESPONSE_OBJECT,
	KR_RESPONSE_STATUS,
	KR_SOURCE_IPS,
	KR_STAGE_TIMESTAMP,
	KR_KIND,
	KR_ITEMS,
	_KR_MAX,
};

/* Lazily filled second-level lookups (bit set in k8s_cache.have when the slot is valid, even if NULL). */
enum k8s_sub_key {
	KS_SPEC,       /* requestObject.spec */
	KS_POD_SECCTX, /* requestObject.spec.securityContext */
	KS_CONTAINERS, /* requestObject.spec.containers */
	KS_INIT_CONTAINERS,
	KS_EPHEMERAL_CONTAINERS,
	KS_VOLUMES, /* requestObject.spec.volumes */
	_KS_MAX,
};

/*
 * Per-event index. Only tree pointers live here (no arena memory), so it stays valid for the batch's
 * lifetime whatever happens to the per-event arena. Root slots are filled at parse time on the parsing
 * thread; sub slots are filled lazily by extractors on the engine thread.
 */
struct k8s_cache {
	const cJSON *root[_KR_MAX];
	const cJSON *sub[_KS_MAX];
	uint32_t have; /* bit i: sub[i] computed */
};

/* Fills c->root from obj's children (first occurrence of a key wins, as upstream's lookup). */
void k8s_index_root(struct k8s_cache *c, const cJSON *obj);

/*
 * JSON printers. A sink with buf == NULL only counts; otherwise it writes up to the size a counting pass
 * returned. Numbers print as integers when integral (|x| < 2^53), else with the shortest of %.15g/%.17g
 * that round-trips; strings escape ", \, and control characters.
 */
struct json_sink {
	char *buf;
	size_t len;
};
void json_print(struct json_sink *s, const cJSON *item, bool indent, unsigned depth);
/* Compact (indent false) or 2-space indented rendering into arena a; NULL on ENOMEM. *ret_len excludes NUL. */
char *json_render(struct arena *a, const cJSON *item, bool indent, size_t *ret_len);
/* Size of the compact rendering, without allocating. */
size_t json_compact_size(const cJSON *item);
/*
 * Whether the compact rendering is longer than limit, measuring exactly (*ret_size) only when a cheap upper
 * bound says it may be.
 */
bool json_compact_size_over(const cJSON *item, size_t limit, size_t *ret_size);

/*
 * Parses one JSON document (the whole of buf but surrounding whitespace) into cJSON-compatible nodes allocated
 * from a (cJSON's parser, allocating from a); free the arena, never cJSON_Delete the tree. "\u0000" escapes
 * become U+FFFD so no string is cut short. cJSON rejects lone surrogate escapes and tolerates leading zeros,
 * "1." and raw control characters in strings. Returns 0, -EINVAL (*ret_err_off: where parsing stopped) or
 * -ENOMEM.
 */
int json_parse_arena(const char *buf, size_t len, struct arena *a, cJSON **ret,
		     size_t *ret_err_off);
