/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML documents as an immutable tree with source positions for every node, built with libyaml's event API.
 * Rules files and falco.yaml errors cite line and column from here. Aliases are resolved by sharing the
 * anchored node. All memory lives in the stream's arena; limits bound depth, node count and scalar size.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

enum ynode_kind {
	YN_SCALAR,
	YN_SEQ,
	YN_MAP,
};

struct ynode;

struct ypair {
	struct ynode *key;
	struct ynode *val;
};

struct ynode {
	enum ynode_kind kind;
	uint32_t line;	 /* 1-based */
	uint32_t col;	 /* 1-based */
	uint32_t offset; /* byte offset in the input */
	union {
		struct {
			char *str; /* NUL-terminated (may contain NULs from escapes: use len) */
			size_t len;
			bool plain; /* unquoted: only plain scalars can be null/bool/number per YAML */
		} scalar;
		struct {
			struct ynode **items;
			size_t n;
		} seq;
		struct {
			struct ypair *pairs;
			size_t n;
		} map;
	};
};

struct yaml_limits {
	uint32_t max_depth; /* nesting of sequences/maps; 0 = 64 */
	uint32_t max_nodes; /* 0 = 4,000,000 */
	size_t max_scalar;  /* bytes in one scalar; 0 = 16 MiB */
};

struct yaml_stream {
	struct ynode **docs; /* root of each document; NULL for an empty document */
	size_t ndocs;
	struct arena arena;
};

/*
 * Parses every document of buf. On error returns -EINVAL (syntax, limits) or -ENOMEM, and errbuf holds
 * "LINE:COL: message" (no file name: the caller knows it). *ret is owned by the caller: yaml_stream_free().
 */
int yaml_parse(const char *buf, size_t len, const struct yaml_limits *lim, struct yaml_stream **ret,
	       char *errbuf, size_t errlen);
struct yaml_stream *yaml_stream_free(struct yaml_stream *s);

/* Value of key in a map, or NULL (also when map is NULL or not a map). The last duplicate key wins. */
struct ynode *ynode_map_get(const struct ynode *map, const char *key);
/* Pair (with the key node, for positions) of key in map, or NULL. */
const struct ypair *ynode_map_pair(const struct ynode *map, const char *key);

/* A plain scalar "", "~", "null", "Null", "NULL"; also a NULL node pointer. */
bool ynode_is_null(const struct ynode *n);
/* The scalar's string, or NULL when n is not a scalar. */
const char *ynode_str(const struct ynode *n);
/* Parses a scalar as YAML 1.1/yaml-cpp bool (true/false/yes/no/on/off/y/n, any case). 0 or -EINVAL. */
int ynode_bool(const struct ynode *n, bool *ret);
/* Parses a scalar as an integer (decimal, 0x hex, 0o/0 octal). 0, -EINVAL or -ERANGE. */
int ynode_s64(const struct ynode *n, int64_t *ret);
int ynode_u64(const struct ynode *n, uint64_t *ret);
int ynode_double(const struct ynode *n, double *ret);
const char *ynode_kind_name(enum ynode_kind k);

/* Builders, for trees edited in memory (e.g. falco's -o overrides). Nodes live in s->arena. NULL on ENOMEM. */
struct ynode *yaml_new_scalar(struct yaml_stream *s, const char *str, size_t len, bool plain);
struct ynode *yaml_new_seq(struct yaml_stream *s);
struct ynode *yaml_new_map(struct yaml_stream *s);
/* Appends (copying the item array into the arena). Returns 0 or -ENOMEM. */
int yaml_seq_append(struct yaml_stream *s, struct ynode *seq, struct ynode *item);
/* Sets key (replacing an existing value) in a map. Returns 0 or -ENOMEM. */
int yaml_map_set(struct yaml_stream *s, struct ynode *map, const char *key, struct ynode *val);
/* An empty stream (no documents), to build a tree from scratch. */
struct yaml_stream *yaml_stream_new(void);
