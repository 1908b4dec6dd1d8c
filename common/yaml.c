/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <yaml.h>

#include "err.h"
#include "hmap.h"
#include "yaml.h"
#include "yaml_fast.h"

/* One open sequence or map while parsing; children collect in a growable array until its end event. */
struct frame {
	struct ynode *node;
	struct ynode **items; /* for maps: key, value, key, value ... */
	size_t n, cap;
};

struct builder {
	struct yaml_stream *s;
	const struct yaml_limits *lim;
	struct frame *stack;
	size_t depth, stack_cap;
	uint32_t nodes;
	struct hmap anchors;
	size_t docs_at_start;
	char *errbuf;
	size_t errlen;
};

static struct ynode *new_node(struct builder *b, enum ynode_kind kind, const yaml_mark_t *m)
{
	if (++b->nodes > b->lim->max_nodes)
		return NULL;
	struct ynode *n = arena_zalloc(&b->s->arena, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = kind;
	n->line = (uint32_t)m->line + 1;
	n->col = (uint32_t)m->column + 1;
	n->offset = (uint32_t)m->index;
	return n;
}

static int push_child(struct builder *b, struct ynode *child)
{
	if (b->depth == 0) {
		/* a document root */
		struct ynode **nd = realloc(b->s->docs, (b->s->ndocs + 1) * sizeof(*nd));
		if (!nd)
			return -ENOMEM;
		b->s->docs = nd;
		nd[b->s->ndocs++] = child;
		return 0;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (f->n == f->cap) {
		size_t ncap = f->cap ? f->cap * 2 : 8;
		struct ynode **ni = realloc(f->items, ncap * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		f->items = ni;
		f->cap = ncap;
	}
	f->items[f->n++] = child;
	return 0;
}

static int open_frame(struct builder *b, struct ynode *n)
{
	if (b->depth >= b->lim->max_depth)
		return -E2BIG;
	if (b->depth == b->stack_cap) {
		size_t ncap = b->stack_cap ? b->stack_cap * 2 : 16;
		struct frame *ns = realloc(b->stack, ncap * sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		b->stack = ns;
		b->stack_cap = ncap;
	}
	b->stack[b->depth++] = (struct frame){.node = n};
	return 0;
}

static int close_frame(struct builder *b)
{
	struct frame *f = &b->stack[--b->depth];
	struct ynode *n = f->node;
	int r = 0;

	if (n->kind == YN_SEQ) {
		n->seq.n = f->n;
		n->seq.items = arena_alloc(&b->s->arena, (f->n ? f->n : 1) * sizeof(*n->seq.items));
		if (!n->seq.items)
			r = -ENOMEM;
		else if (f->n)
			memcpy(n->seq.items, f->items, f->n * sizeof(*f->items));
	} else {
		n->map.n = f->n / 2;
		n->map.pairs = arena_alloc(&b->s->arena,
					   (n->map.n ? n->map.n : 1) * sizeof(*n->map.pairs));
		if (!n->map.pairs)
			r = -ENOMEM;
		for (size_t i = 0; r == 0 && i < n->map.n; i++)
			n->map.pairs[i] = (struct ypair){f->items[2 * i], f->items[2 * i + 1]};
	}
	free(f->items);
	if (r < 0)
		return r;
	return push_child(b, n);
}

static int remember_anchor(struct builder *b, const yaml_char_t *anchor, struct ynode *n)
{
	if (!anchor)
		return 0;
	char *name = arena_strdup(&b->s->arena, (const char *)anchor);
	if (!name)
		return -ENOMEM;
	return hmap_put(&b->anchors, name, strlen(name), n) < 0 ? -ENOMEM : 0;
}

static int handle_event(struct builder *b, const yaml_event_t *ev)
{
	struct ynode *n;
	int r;

	switch (ev->type) {
	case YAML_SCALAR_EVENT: {
		size_t len = ev->data.scalar.length;
		if (len > b->lim->max_scalar)
			return errf(b->errbuf, b->errlen, -E2BIG,
				    "%zu:%zu: scalar longer than %zu bytes",
				    ev->start_mark.line + 1, ev->start_mark.column + 1,
				    b->lim->max_scalar);
		n = new_node(b, YN_SCALAR, &ev->start_mark);
		if (!n)
			goto nomem_or_limit;
		n->scalar.str =
			arena_strndup(&b->s->arena, (const char *)ev->data.scalar.value, len);
		if (!n->scalar.str)
			goto nomem_or_limit;
		n->scalar.len = len;
		n->scalar.plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ||
				  ev->data.scalar.style == YAML_ANY_SCALAR_STYLE;
		if ((r = remember_anchor(b, ev->data.scalar.anchor, n)) < 0)
			return r;
		return push_child(b, n);
	}
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT: {
		bool seq = ev->type == YAML_SEQUENCE_START_EVENT;
		n = new_node(b, seq ? YN_SEQ : YN_MAP, &ev->start_mark);
		if (!n)
			goto nomem_or_limit;
		const yaml_char_t *anchor =
			seq ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
		if ((r = remember_anchor(b, anchor, n)) < 0)
			return r;
		r = open_frame(b, n);
		if (r == -E2BIG)
			return errf(b->errbuf, b->errlen, -E2BIG,
				    "%zu:%zu: nesting deeper than %u levels",
				    ev->start_mark.line + 1, ev->start_mark.column + 1,
				    b->lim->max_depth);
		return r;
	}
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		return close_frame(b);
	case YAML_ALIAS_EVENT: {
		const char *a = (const char *)ev->data.alias.anchor;
		struct ynode *target = hmap_get(&b->anchors, a, strlen(a));
		if (!target)
			return errf(b->errbuf, b->errlen, -EINVAL, "%zu:%zu: unknown anchor '%s'",
				    ev->start_mark.line + 1, ev->start_mark.column + 1, a);
		/* aliases share the anchored node; count them so alias bombs hit the node limit */
		if (++b->nodes > b->lim->max_nodes)
			goto nomem_or_limit;
		return push_child(b, target);
	}
	case YAML_DOCUMENT_START_EVENT:
		b->docs_at_start = b->s->ndocs;
		return 0;
	case YAML_DOCUMENT_END_EVENT:
		/* an empty document produces no node: record it as NULL so indexes match the input */
		if (b->s->ndocs == b->docs_at_start)
			return push_child(b, NULL);
		return 0;
	default:
		return 0;
	}
nomem_or_limit:
	if (b->nodes > b->lim->max_nodes)
		return errf(b->errbuf, b->errlen, -E2BIG, "%zu:%zu: more than %u YAML nodes",
			    ev->start_mark.line + 1, ev->start_mark.column + 1, b->lim->max_nodes);
	return errf(b->errbuf, b->errlen, -ENOMEM, "out of memory parsing YAML");
}

static const char *yaml_problem(const yaml_parser_t *p)
{
	return p->problem ? p->problem : "invalid YAML";
}

int yaml_parse(const char *buf, size_t len, const struct yaml_limits *lim, struct yaml_stream **ret,
	       char *errbuf, size_t errlen)
{
	struct yaml_limits L = lim ? *lim : (struct yaml_limits){0};

	if (!L.max_depth)
		L.max_depth = 64;
	if (!L.max_nodes)
		L.max_nodes = 4000000;
	if (!L.max_scalar)
		L.max_scalar = 16u << 20;
	/* most files are plain block YAML: yaml_fast.c builds the same tree much faster, or defers to libyaml */
	int r = yaml_fast_parse(buf, len, &L, ret);
	if (r == -ENOMEM)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	if (r != -EAGAIN)
		return r;
	return yaml_parse_libyaml(buf, len, &L, ret, errbuf, errlen);
}

int yaml_parse_libyaml(const char *buf, size_t len, const struct yaml_limits *lim,
		       struct yaml_stream **ret, char *errbuf, size_t errlen)
{
	struct yaml_limits L = *lim;
	yaml_parser_t parser;
	struct builder b = {.lim = &L, .errbuf = errbuf, .errlen = errlen};
	int r = 0;

	b.s = yaml_stream_new();
	if (!b.s)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	if (hmap_init(&b.anchors, 0) < 0) {
		yaml_stream_free(b.s);
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	if (!yaml_parser_initialize(&parser)) {
		hmap_done(&b.anchors);
		yaml_stream_free(b.s);
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);

	for (bool done = false; !done && r == 0;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			/* libyaml marks are 0-based; the problem mark points at the offending character */
			const yaml_mark_t *m = &parser.problem_mark;
			if (parser.context)
				r = errf(errbuf, errlen, -EINVAL, "%zu:%zu: %s %s", m->line + 1,
					 m->column + 1, yaml_problem(&parser), parser.context);
			else
				r = errf(errbuf, errlen, -EINVAL, "%zu:%zu: %s", m->line + 1,
					 m->column + 1, yaml_problem(&parser));
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		r = handle_event(&b, &ev);
		if (r == -ENOMEM && errbuf && !*errbuf)
			errf(errbuf, errlen, r, "out of memory parsing YAML");
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	while (b.depth > 0)
		free(b.stack[--b.depth].items);
	free(b.stack);
	hmap_done(&b.anchors);
	if (r < 0) {
		yaml_stream_free(b.s);
		return r;
	}
	*ret = b.s;
	return 0;
}

struct yaml_stream *yaml_stream_new(void)
{
	struct yaml_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	arena_init(&s->arena, 64 * 1024, 0);
	return s;
}

struct yaml_stream *yaml_stream_free(struct yaml_stream *s)
{
	if (!s)
		return NULL;
	free(s->docs);
	arena_done(&s->arena);
	free(s);
	return NULL;
}

const struct ypair *ynode_map_pair(const struct ynode *map, const char *key)
{
	if (!map || map->kind != YN_MAP)
		return NULL;
	size_t klen = strlen(key);
	/* the last occurrence wins, as in yaml-cpp */
	for (size_t i = map->map.n; i-- > 0;) {
		const struct ynode *k = map->map.pairs[i].key;
		if (k && k->kind == YN_SCALAR && k->scalar.len == klen &&
		    memcmp(k->scalar.str, key, klen) == 0)
			return &map->map.pairs[i];
	}
	return NULL;
}

struct ynode *ynode_map_get(const struct ynode *map, const char *key)
{
	const struct ypair *p = ynode_map_pair(map, key);
	return p ? p->val : NULL;
}

bool ynode_is_null(const struct ynode *n)
{
	if (!n)
		return true;
	if (n->kind != YN_SCALAR || !n->scalar.plain)
		return false;
	const char *s = n->scalar.str;
	return !*s || streq(s, "~") || streq(s, "null") || streq(s, "Null") || streq(s, "NULL");
}

const char *ynode_str(const struct ynode *n)
{
	return n && n->kind == YN_SCALAR ? n->scalar.str : NULL;
}

int ynode_bool(const struct ynode *n, bool *ret)
{
	static const char *const yes[] = {"true", "yes", "on", "y"};
	static const char *const no[] = {"false", "no", "off", "n"};
	const char *s = ynode_str(n);

	if (!s)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*ret = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*ret = false;
			return 0;
		}
	}
	return -EINVAL;
}

int ynode_s64(const struct ynode *n, int64_t *ret)
{
	const char *s = ynode_str(n);
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	long long v;
	if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		v = strtoll(s + 2, &end, 8);
	else
		v = strtoll(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int ynode_u64(const struct ynode *n, uint64_t *ret)
{
	const char *s = ynode_str(n);
	char *end;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long long v;
	if (s[0] == '0' && (s[1] == 'o' || s[1] == 'O'))
		v = strtoull(s + 2, &end, 8);
	else
		v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int ynode_double(const struct ynode *n, double *ret)
{
	const char *s = ynode_str(n);
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	double v = strtod(s, &end);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

const char *ynode_kind_name(enum ynode_kind k)
{
	switch (k) {
	case YN_SCALAR:
		return "scalar";
	case YN_SEQ:
		return "sequence";
	case YN_MAP:
		return "map";
	}
	return "unknown";
}

struct ynode *yaml_new_scalar(struct yaml_stream *s, const char *str, size_t len, bool plain)
{
	struct ynode *n = arena_zalloc(&s->arena, sizeof(*n));
	if (!n)
		return NULL;
	n->kind = YN_SCALAR;
	n->scalar.str = arena_strndup(&s->arena, str, len);
	if (!n->scalar.str)
		return NULL;
	n->scalar.len = len;
	n->scalar.plain = plain;
	return n;
}

struct ynode *yaml_new_seq(struct yaml_stream *s)
{
	struct ynode *n = arena_zalloc(&s->arena, sizeof(*n));
	if (n)
		n->kind = YN_SEQ;
	return n;
}

struct ynode *yaml_new_map(struct yaml_stream *s)
{
	struct ynode *n = arena_zalloc(&s->arena, sizeof(*n));
	if (n)
		n->kind = YN_MAP;
	return n;
}

int yaml_seq_append(struct yaml_stream *s, struct ynode *seq, struct ynode *item)
{
	struct ynode **ni = arena_alloc(&s->arena, (seq->seq.n + 1) * sizeof(*ni));
	if (!ni)
		return -ENOMEM;
	if (seq->seq.n)
		memcpy(ni, seq->seq.items, seq->seq.n * sizeof(*ni));
	ni[seq->seq.n++] = item;
	seq->seq.items = ni;
	return 0;
}

int yaml_map_set(struct yaml_stream *s, struct ynode *map, const char *key, struct ynode *val)
{
	const struct ypair *p = ynode_map_pair(map, key);
	if (p) {
		((struct ypair *)p)->val = val;
		return 0;
	}
	struct ynode *k = yaml_new_scalar(s, key, strlen(key), true);
	if (!k)
		return -ENOMEM;
	struct ypair *np = arena_alloc(&s->arena, (map->map.n + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	if (map->map.n)
		memcpy(np, map->map.pairs, map->map.n * sizeof(*np));
	np[map->map.n++] = (struct ypair){k, val};
	map->map.pairs = np;
	return 0;
}
