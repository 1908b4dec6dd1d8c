/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading falco.yaml in four steps: (1) parse the main file, (2) merge its config_files includes, (3) apply the
 * -o overrides to the merged tree, (4) walk the tree with the key tables below into struct falco_config. Every
 * node keeps its line and column; the file a node came from is found by searching the origins (only on the
 * error/warning path, so the common path stays a plain walk).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/log.h"
#include "common/yaml.h"
#include "engine/engine.h"
#include "config.h"

#define CONFIG_MAX_BYTES (16u << 20)
#define MAX_INCLUDES	 256
#define MAX_WARNINGS	 256

struct origin {
	const char *name; /* file path, or "-o 'key=value'" */
	const struct ynode *root;
	bool cmdline;
};

struct cfg_ctx {
	struct falco_config *c;
	struct yaml_stream *edits; /* nodes made by merging and -o overrides */
	struct yaml_stream **streams;
	size_t nstreams;
	struct origin *origins;
	size_t norigins;
	char *errbuf;
	size_t errlen;
	/* plugin entries seen during the walk, resolved once the whole tree has been read */
	const struct ynode *load_plugins;
	const struct ynode *plugins;
	const struct ynode *rules_file_legacy;
	bool have_rules_files;
};

/* ---- where a node came from ---- */

static bool subtree_has(const struct ynode *n, const struct ynode *want, unsigned depth)
{
	if (!n || depth > 64)
		return false;
	if (n == want)
		return true;
	if (n->kind == YN_SEQ) {
		for (size_t i = 0; i < n->seq.n; i++)
			if (subtree_has(n->seq.items[i], want, depth + 1))
				return true;
	} else if (n->kind == YN_MAP) {
		for (size_t i = 0; i < n->map.n; i++)
			if (subtree_has(n->map.pairs[i].key, want, depth + 1) ||
			    subtree_has(n->map.pairs[i].val, want, depth + 1))
				return true;
	}
	return false;
}

/* "file:line:col" or "-o 'k=v'" for a node; buf must be large enough for a path. */
static const char *where(const struct cfg_ctx *x, const struct ynode *n, char *buf, size_t len)
{
	/* -o origins first: an override's value may also be reachable from a file's root after the edit */
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = x->norigins; i-- > 0;) {
			const struct origin *o = &x->origins[i];
			if (o->cmdline != (pass == 0) || !subtree_has(o->root, n, 0))
				continue;
			if (o->cmdline || !n->line)
				snprintf(buf, len, "%s", o->name);
			else
				snprintf(buf, len, "%s:%u:%u", o->name, n->line, n->col);
			return buf;
		}
	}
	if (n && n->line)
		snprintf(buf, len, "line %u, column %u", n->line, n->col);
	else
		snprintf(buf, len, "command line");
	return buf;
}

static int node_err(struct cfg_ctx *x, const struct ynode *n, const char *key, const char *fmt, ...)
	_printf_(4, 5);
static int node_err(struct cfg_ctx *x, const struct ynode *n, const char *key, const char *fmt, ...)
{
	char pos[PATH_MAX + 64], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return errf(x->errbuf, x->errlen, -EINVAL, "%s: %s: %s", where(x, n, pos, sizeof(pos)), key,
		    msg);
}

static int add_warning(struct cfg_ctx *x, const char *fmt, ...) _printf_(2, 3);
static int add_warning(struct cfg_ctx *x, const char *fmt, ...)
{
	struct falco_config *c = x->c;
	char msg[PATH_MAX + 1024];
	va_list ap;

	if (c->nwarnings >= MAX_WARNINGS)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	const char **nw = arena_alloc(&c->arena, (c->nwarnings + 1) * sizeof(*nw));
	char *s = arena_strdup(&c->arena, msg);
	if (!nw || !s)
		return -ENOMEM;
	if (c->nwarnings)
		memcpy(nw, c->warnings, c->nwarnings * sizeof(*nw));
	nw[c->nwarnings++] = s;
	c->warnings = nw;
	return 0;
}

static int node_warn(struct cfg_ctx *x, const struct ynode *n, const char *fmt, ...) _printf_(3, 4);
static int node_warn(struct cfg_ctx *x, const struct ynode *n, const char *fmt, ...)
{
	char pos[PATH_MAX + 64], msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return add_warning(x, "%s: %s", where(x, n, pos, sizeof(pos)), msg);
}

static int add_origin(struct cfg_ctx *x, const char *name, const struct ynode *root, bool cmdline)
{
	struct origin *no = realloc(x->origins, (x->norigins + 1) * sizeof(*no));
	if (!no)
		return -ENOMEM;
	x->origins = no;
	const char *nm = arena_strdup(&x->c->arena, name);
	if (!nm)
		return -ENOMEM;
	x->origins[x->norigins++] = (struct origin){nm, root, cmdline};
	return 0;
}

static int keep_stream(struct cfg_ctx *x, struct yaml_stream *s)
{
	struct yaml_stream **ns = realloc(x->streams, (x->nstreams + 1) * sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	x->streams = ns;
	x->streams[x->nstreams++] = s;
	return 0;
}

/* ---- small typed readers ---- */

static const char *cstr(struct cfg_ctx *x, const char *s)
{
	return arena_strdup(&x->c->arena, s);
}

static int get_str(struct cfg_ctx *x, const struct ynode *n, const char *key, const char **ret)
{
	if (n->kind != YN_SCALAR)
		return node_err(x, n, key, "expected a string, got a %s", ynode_kind_name(n->kind));
	const char *s = cstr(x, n->scalar.str);
	if (!s)
		return -ENOMEM;
	*ret = s;
	return 0;
}

static int get_bool(struct cfg_ctx *x, const struct ynode *n, const char *key, bool *ret)
{
	if (n->kind != YN_SCALAR || ynode_bool(n, ret) < 0)
		return node_err(x, n, key, "expected a boolean (true or false), got %s%s%s",
				n->kind == YN_SCALAR ? "'" : "a ",
				n->kind == YN_SCALAR ? n->scalar.str : ynode_kind_name(n->kind),
				n->kind == YN_SCALAR ? "'" : "");
	return 0;
}

static int get_u64(struct cfg_ctx *x, const struct ynode *n, const char *key, uint64_t *ret)
{
	if (n->kind != YN_SCALAR || ynode_u64(n, ret) < 0)
		return node_err(x, n, key, "expected a non-negative integer, got %s%s%s",
				n->kind == YN_SCALAR ? "'" : "a ",
				n->kind == YN_SCALAR ? n->scalar.str : ynode_kind_name(n->kind),
				n->kind == YN_SCALAR ? "'" : "");
	return 0;
}

static int get_port(struct cfg_ctx *x, const struct ynode *n, const char *key, uint16_t *ret)
{
	uint64_t v;
	int r = get_u64(x, n, key, &v);
	if (r < 0)
		return r;
	if (v == 0 || v > 65535)
		return node_err(x, n, key, "port %" PRIu64 " is out of range (1-65535)", v);
	*ret = (uint16_t)v;
	return 0;
}

static int get_double(struct cfg_ctx *x, const struct ynode *n, const char *key, double *ret)
{
	if (n->kind != YN_SCALAR || ynode_double(n, ret) < 0)
		return node_err(x, n, key, "expected a number, got %s%s%s",
				n->kind == YN_SCALAR ? "'" : "a ",
				n->kind == YN_SCALAR ? n->scalar.str : ynode_kind_name(n->kind),
				n->kind == YN_SCALAR ? "'" : "");
	return 0;
}

/* A NULL-terminated array of the strings of a scalar or a sequence of scalars. */
static int get_str_list(struct cfg_ctx *x, const struct ynode *n, const char *key,
			const char ***ret, size_t *ret_n)
{
	size_t cnt = n->kind == YN_SEQ ? n->seq.n : 1;
	const char **v = arena_zalloc(&x->c->arena, (cnt + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (n->kind == YN_MAP)
		return node_err(x, n, key, "expected a list of strings, got a map");
	for (size_t i = 0; i < cnt; i++) {
		const struct ynode *it = n->kind == YN_SEQ ? n->seq.items[i] : n;
		int r = get_str(x, it, key, &v[i]);
		if (r < 0)
			return r;
	}
	*ret = v;
	if (ret_n)
		*ret_n = cnt;
	return 0;
}

/* ---- the key tables ---- */

enum ctype {
	CT_BOOL,
	CT_U64,
	CT_PORT,
	CT_DOUBLE,
	CT_STR,
	CT_SECTION,
	CT_FN,
	CT_IGNORE, /* an upstream key we accept and do not act on */
};

struct ckey;
typedef int (*ckey_fn)(struct cfg_ctx *x, const struct ynode *n, const char *key);

struct ckey {
	const char *name;
	enum ctype type;
	size_t off; /* into struct falco_config */
	const struct ckey *sub;
	ckey_fn fn;
};

/* clang-format off */
#define F(field)        offsetof(struct falco_config, field)
#define KBOOL(n, field) { n, CT_BOOL, F(field), NULL, NULL }
#define KU64(n, field)  { n, CT_U64, F(field), NULL, NULL }
#define KPORT(n, field) { n, CT_PORT, F(field), NULL, NULL }
#define KDBL(n, field)  { n, CT_DOUBLE, F(field), NULL, NULL }
#define KSTR(n, field)  { n, CT_STR, F(field), NULL, NULL }
#define KSEC(n, table)  { n, CT_SECTION, 0, table, NULL }
#define KFN(n, fn)      { n, CT_FN, 0, NULL, fn }
#define KIGN(n)         { n, CT_IGNORE, 0, NULL, NULL }
#define KEND            { NULL, 0, 0, NULL, NULL }
/* clang-format on */

static int walk_map(struct cfg_ctx *x, const struct ynode *map, const struct ckey *table,
		    const char *prefix);

static int fn_rules_files(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	struct falco_config *c = x->c;

	if (streq(key, "rules_file")) {
		/* the old name; rules_files wins when both are present (decided after the walk) */
		x->rules_file_legacy = n;
		return 0;
	}
	x->have_rules_files = true;
	if (ynode_is_null(n)) {
		c->rules_files = NULL;
		c->nrules_files = 0;
		return 0;
	}
	return get_str_list(x, n, key, &c->rules_files, &c->nrules_files);
}

static int fn_rules(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	struct falco_config *c = x->c;

	if (n->kind != YN_SEQ)
		return node_err(x, n, key,
				"expected a list of {enable: ...} or {disable: ...} entries");
	struct cfg_rule_sel *sel = arena_zalloc(&c->arena, (n->seq.n + 1) * sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	for (size_t i = 0; i < n->seq.n; i++) {
		const struct ynode *it = n->seq.items[i];
		if (it->kind != YN_MAP || it->map.n != 1 || it->map.pairs[0].key->kind != YN_SCALAR)
			return node_err(x, it, key,
					"each entry must be a map with one key, enable or disable");
		const char *verb = it->map.pairs[0].key->scalar.str;
		const struct ynode *what = it->map.pairs[0].val;
		if (streq(verb, "enable"))
			sel[i].enable = true;
		else if (!streq(verb, "disable"))
			return node_err(x, it->map.pairs[0].key, key,
					"unknown selection '%s' (expected enable or disable)",
					verb);
		if (!what || what->kind != YN_MAP)
			return node_err(x, what ? what : it, key,
					"%s needs a map with rule and/or tag", verb);
		for (size_t k = 0; k < what->map.n; k++) {
			const struct ypair *p = &what->map.pairs[k];
			const char *kn = ynode_str(p->key);
			int r;
			if (kn && streq(kn, "rule"))
				r = get_str(x, p->val, "rules.rule", &sel[i].rule);
			else if (kn && streq(kn, "tag"))
				r = get_str(x, p->val, "rules.tag", &sel[i].tag);
			else
				r = node_err(x, p->key, key,
					     "unknown key '%s' in %s (expected rule or tag)",
					     kn ? kn : "?", verb);
			if (r < 0)
				return r;
		}
		if (!sel[i].rule && !sel[i].tag)
			return node_err(x, what, key, "%s needs a rule or a tag", verb);
	}
	c->rule_sel = sel;
	c->nrule_sel = n->seq.n;
	return 0;
}

static const char *const prio_names[] = {
	[PRIO_EMERGENCY] = "emergency",
	[PRIO_ALERT] = "alert",
	[PRIO_CRITICAL] = "critical",
	[PRIO_ERROR] = "error",
	[PRIO_WARNING] = "warning",
	[PRIO_NOTICE] = "notice",
	[PRIO_INFORMATIONAL] = "informational",
	[PRIO_DEBUG] = "debug",
};

/* A local copy of the priority names so falco.yaml parsing does not depend on the engine library. */
static int parse_priority(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(prio_names); i++)
		if (strcasecmp(s, prio_names[i]) == 0)
			return (int)i;
	if (strcasecmp(s, "info") == 0)
		return PRIO_INFORMATIONAL;
	return -EINVAL;
}

static int fn_priority(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	const char *s = ynode_str(n);
	int p = s ? parse_priority(s) : -EINVAL;
	if (p < 0)
		return node_err(
			x, n, key,
			"unknown priority '%s' (expected emergency, alert, critical, error, warning, notice, informational, info or debug)",
			s ? s : ynode_kind_name(n->kind));
	x->c->min_priority = p;
	return 0;
}

static int fn_rule_matching(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	const char *s = ynode_str(n);
	if (s && streq(s, "first"))
		x->c->match_all = false;
	else if (s && streq(s, "all"))
		x->c->match_all = true;
	else
		return node_err(x, n, key, "expected first or all, got '%s'",
				s ? s : ynode_kind_name(n->kind));
	return 0;
}

static int fn_log_level(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	const char *s = ynode_str(n);
	int l = s ? log_level_from_string(s) : -EINVAL;
	if (l < 0)
		return node_err(
			x, n, key,
			"unknown log level '%s' (expected error, warning, notice, info or debug)",
			s ? s : ynode_kind_name(n->kind));
	x->c->log_level = l;
	return 0;
}

static int fn_engine_kind(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	static const char *const kinds[] = {"modern_ebpf", "kmod",   "ebpf",
					    "gvisor",	   "replay", "nodriver"};
	const char *s = ynode_str(n);
	for (size_t i = 0; s && i < ARRAY_SIZE(kinds); i++)
		if (streq(s, kinds[i])) {
			x->c->engine_kind = kinds[i];
			return 0;
		}
	return node_err(
		x, n, key,
		"unknown engine kind '%s' (expected modern_ebpf, kmod, ebpf, gvisor, replay or nodriver)",
		s ? s : ynode_kind_name(n->kind));
}

static int fn_interval(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	const char *s = ynode_str(n);
	uint64_t ms;
	if (!s || config_parse_duration_ms(s, &ms) < 0)
		return node_err(x, n, key, "invalid duration '%s' (e.g. 15m, 1h30m, 500ms)",
				s ? s : ynode_kind_name(n->kind));
	if (ms < 100)
		return node_err(x, n, key, "interval %s is below the minimum of 100ms", s);
	x->c->metrics.interval_ms = ms;
	return 0;
}

static int fn_drop_actions(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	static const struct {
		const char *name;
		unsigned bit;
	} acts[] = {{"ignore", CFG_DROP_IGNORE},
		    {"log", CFG_DROP_LOG},
		    {"alert", CFG_DROP_ALERT},
		    {"exit", CFG_DROP_EXIT}};
	unsigned bits = 0;

	if (n->kind != YN_SEQ)
		return node_err(x, n, key, "expected a list of actions (ignore, log, alert, exit)");
	for (size_t i = 0; i < n->seq.n; i++) {
		const char *s = ynode_str(n->seq.items[i]);
		size_t k;
		for (k = 0; s && k < ARRAY_SIZE(acts); k++)
			if (strcasecmp(s, acts[k].name) == 0)
				break;
		if (!s || k == ARRAY_SIZE(acts))
			return node_err(x, n->seq.items[i], key,
					"unknown action '%s' (expected ignore, log, alert or exit)",
					s ? s : "?");
		bits |= acts[k].bit;
	}
	if ((bits & CFG_DROP_IGNORE) && (bits & ~CFG_DROP_IGNORE))
		return node_err(x, n, key, "ignore cannot be combined with other actions");
	x->c->syscall_event_drops.actions = bits ? bits : CFG_DROP_IGNORE;
	return 0;
}

static int fn_static_fields(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	struct falco_config *c = x->c;

	if (n->kind != YN_MAP)
		return node_err(x, n, key, "expected a map of name: value");
	struct cfg_kv *kv = arena_zalloc(&c->arena, (n->map.n + 1) * sizeof(*kv));
	if (!kv)
		return -ENOMEM;
	for (size_t i = 0; i < n->map.n; i++) {
		int r = get_str(x, n->map.pairs[i].key, key, &kv[i].key);
		if (r >= 0)
			r = get_str(x, n->map.pairs[i].val, key, &kv[i].value);
		if (r < 0)
			return r;
	}
	c->static_fields = kv;
	c->nstatic_fields = n->map.n;
	return 0;
}

static int append_output_entry(struct cfg_ctx *x, const struct ynode *it,
			       struct cfg_append_output *ao)
{
	const char *key = "append_output";
	int r = 0;

	if (it->kind != YN_MAP)
		return node_err(x, it, key,
				"each entry must be a map (match, extra_output, extra_fields)");
	for (size_t k = 0; k < it->map.n && r >= 0; k++) {
		const struct ynode *v = it->map.pairs[k].val;
		const char *kn = ynode_str(it->map.pairs[k].key);
		if (!kn || !v || ynode_is_null(v))
			continue;
		if (streq(kn, "match")) {
			if (v->kind != YN_MAP)
				return node_err(x, v, "append_output.match",
						"expected a map (source, tags, rule)");
			for (size_t m = 0; m < v->map.n && r >= 0; m++) {
				const char *mn = ynode_str(v->map.pairs[m].key);
				const struct ynode *mv = v->map.pairs[m].val;
				if (!mn || ynode_is_null(mv))
					continue;
				if (streq(mn, "source"))
					r = get_str(x, mv, "append_output.match.source",
						    &ao->source);
				else if (streq(mn, "rule"))
					r = get_str(x, mv, "append_output.match.rule", &ao->rule);
				else if (streq(mn, "tags"))
					r = get_str_list(x, mv, "append_output.match.tags",
							 &ao->tags, NULL);
				else
					r = node_warn(
						x, v->map.pairs[m].key,
						"unknown key 'append_output.match.%s', ignoring",
						mn);
			}
		} else if (streq(kn, "extra_output")) {
			r = get_str(x, v, "append_output.extra_output", &ao->extra_output);
		} else if (streq(kn, "suggested_output")) {
			r = get_bool(x, v, "append_output.suggested_output", &ao->suggested_output);
		} else if (streq(kn, "extra_fields")) {
			if (v->kind != YN_SEQ)
				return node_err(
					x, v, "append_output.extra_fields",
					"expected a list of field names or name: format maps");
			const char **f = arena_zalloc(&x->c->arena, (v->seq.n + 1) * sizeof(*f));
			if (!f)
				return -ENOMEM;
			for (size_t m = 0; m < v->seq.n && r >= 0; m++) {
				const struct ynode *e = v->seq.items[m];
				if (e->kind == YN_SCALAR) {
					r = get_str(x, e, "append_output.extra_fields", &f[m]);
				} else if (e->kind == YN_MAP && e->map.n == 1 &&
					   e->map.pairs[0].key->kind == YN_SCALAR &&
					   e->map.pairs[0].val &&
					   e->map.pairs[0].val->kind == YN_SCALAR) {
					size_t l = e->map.pairs[0].key->scalar.len +
						   e->map.pairs[0].val->scalar.len + 2;
					char *s = arena_alloc(&x->c->arena, l);
					if (!s)
						return -ENOMEM;
					snprintf(s, l, "%s=%s", e->map.pairs[0].key->scalar.str,
						 e->map.pairs[0].val->scalar.str);
					f[m] = s;
				} else {
					r = node_err(
						x, e, "append_output.extra_fields",
						"each entry must be a field name or a single name: format pair");
				}
			}
			ao->extra_fields = f;
		} else {
			r = node_warn(x, it->map.pairs[k].key,
				      "unknown key 'append_output.%s', ignoring", kn);
		}
	}
	return r;
}

static int fn_append_output(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	struct falco_config *c = x->c;

	if (n->kind != YN_SEQ)
		return node_err(x, n, key, "expected a list of entries");
	struct cfg_append_output *ao = arena_zalloc(&c->arena, (n->seq.n + 1) * sizeof(*ao));
	if (!ao)
		return -ENOMEM;
	for (size_t i = 0; i < n->seq.n; i++) {
		int r = append_output_entry(x, n->seq.items[i], &ao[i]);
		if (r < 0)
			return r;
	}
	c->append_output = ao;
	c->nappend_output = n->seq.n;
	return 0;
}

static int fn_load_plugins(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	if (n->kind == YN_MAP)
		return node_err(x, n, key, "expected a list of plugin names");
	x->load_plugins = n;
	return 0;
}

static int fn_plugins(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	if (!ynode_is_null(n) && n->kind != YN_SEQ)
		return node_err(x, n, key, "expected a list of plugin entries");
	x->plugins = n;
	return 0;
}

static const struct ckey k_outputs_queue[] = {
	KU64("capacity", outputs_queue_capacity),
	KU64("stall_timeout", outputs_stall_timeout_ms),
	KBOOL("overflow_alert", outputs_overflow_alert),
	KIGN("recovery"),
	KEND,
};

static const struct ckey k_rate_limit[] = {
	KDBL("rate", rate_limit.rate),
	KDBL("max_burst", rate_limit.max_burst),
	KBOOL("per_rule", rate_limit.per_rule),
	KEND,
};

/* upstream <= 0.36: outputs: {rate, max_burst}, one bucket for every alert; see finish() */
static const struct ckey k_outputs_legacy[] = {
	KDBL("rate", legacy_rate),
	KDBL("max_burst", legacy_max_burst),
	KEND,
};

static const struct ckey k_enabled_journald[] = {
	KBOOL("enabled", journald_output),
	KEND,
};

/* http_output.headers: a map {Name: value} or a list of "Name: value" strings */
static int fn_http_headers(struct cfg_ctx *x, const struct ynode *n, const char *key)
{
	struct falco_config *c = x->c;

	if (ynode_is_null(n)) {
		c->http_output.headers = NULL;
		return 0;
	}
	if (n->kind == YN_SEQ) {
		size_t cnt;
		const char **v;
		int r = get_str_list(x, n, key, &v, &cnt);
		if (r < 0)
			return r;
		const char **h = arena_zalloc(&c->arena, (cnt + 1) * sizeof(*h));
		if (!h)
			return -ENOMEM;
		for (size_t i = 0; i < cnt; i++) {
			if (!strchr(v[i], ':') || strpbrk(v[i], "\r\n"))
				return node_err(x, n->seq.items[i], key,
						"expected 'Name: value' on one line");
			h[i] = v[i];
		}
		c->http_output.headers = h;
		return 0;
	}
	if (n->kind != YN_MAP)
		return node_err(x, n, key,
				"expected a map of Name: value, or a list of 'Name: value'");
	const char **h = arena_zalloc(&c->arena, (n->map.n + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	for (size_t i = 0; i < n->map.n; i++) {
		const char *name = "", *val = "";
		int r = get_str(x, n->map.pairs[i].key, key, &name);
		if (r >= 0)
			r = get_str(x, n->map.pairs[i].val, key, &val);
		if (r < 0)
			return r;
		if (!*name || strpbrk(name, ": \t\r\n") || strpbrk(val, "\r\n"))
			return node_err(
				x, n->map.pairs[i].key, key,
				"invalid header '%s' (a name without ':' or blanks, a value on one line)",
				name);
		size_t l = strlen(name) + strlen(val) + 3;
		char *s = arena_alloc(&c->arena, l);
		if (!s)
			return -ENOMEM;
		snprintf(s, l, "%s: %s", name, val);
		h[i] = s;
	}
	c->http_output.headers = h;
	return 0;
}

static const struct ckey k_enabled_stdout[] = {
	KBOOL("enabled", stdout_output),
	KEND,
};

static const struct ckey k_enabled_syslog[] = {
	KBOOL("enabled", syslog_output),
	KEND,
};

static const struct ckey k_file_output[] = {
	KBOOL("enabled", file_output.enabled),
	KBOOL("keep_alive", file_output.keep_alive),
	KSTR("filename", file_output.filename),
	KEND,
};

static const struct ckey k_program_output[] = {
	KBOOL("enabled", program_output.enabled),
	KBOOL("keep_alive", program_output.keep_alive),
	KSTR("program", program_output.program),
	KEND,
};

static const struct ckey k_http_output[] = {
	KBOOL("enabled", http_output.enabled),
	KSTR("url", http_output.url),
	KSTR("user_agent", http_output.user_agent),
	KBOOL("insecure", http_output.insecure),
	KSTR("ca_cert", http_output.ca_cert),
	KSTR("ca_bundle", http_output.ca_bundle),
	KSTR("ca_path", http_output.ca_path),
	KBOOL("mtls", http_output.mtls),
	KSTR("client_cert", http_output.client_cert),
	KSTR("client_key", http_output.client_key),
	KBOOL("echo", http_output.echo),
	KBOOL("compress_uploads", http_output.compress_uploads),
	KBOOL("keep_alive", http_output.keep_alive),
	KU64("max_consecutive_timeouts", http_output.max_consecutive_timeouts),
	KFN("headers", fn_http_headers),
	KU64("timeout_ms", http_output.timeout_ms),
	KU64("connect_timeout_ms", http_output.connect_timeout_ms),
	KU64("retries", http_output.retries),
	KU64("retry_backoff_ms", http_output.retry_backoff_ms),
	KEND,
};

static const struct ckey k_webserver[] = {
	KBOOL("enabled", webserver.enabled),
	KU64("threadiness", webserver.threadiness),
	KPORT("listen_port", webserver.listen_port),
	KSTR("listen_address", webserver.listen_address),
	KSTR("k8s_healthz_endpoint", webserver.k8s_healthz_endpoint),
	KBOOL("ssl_enabled", webserver.ssl_enabled),
	KSTR("ssl_certificate", webserver.ssl_certificate),
	KBOOL("prometheus_metrics_enabled", webserver.prometheus_metrics_enabled),
	KEND,
};

static const struct ckey k_k8s_audit_tls[] = {
	KBOOL("enabled", k8s_audit.tls),	KSTR("certificate", k8s_audit.tls_cert),
	KSTR("private_key", k8s_audit.tls_key), KSTR("ca", k8s_audit.tls_ca),
	KBOOL("mtls", k8s_audit.mtls),		KEND,
};

static const struct ckey k_k8s_audit[] = {
	KBOOL("enabled", k8s_audit.enabled),
	KSTR("listen_address", k8s_audit.listen_address),
	KPORT("listen_port", k8s_audit.listen_port),
	KSTR("path", k8s_audit.path),
	KSEC("tls", k_k8s_audit_tls),
	KU64("max_event_size", k8s_audit.max_event_size),
	KU64("max_batch_size", k8s_audit.max_batch_size),
	KU64("queue_capacity", k8s_audit.queue_capacity),
	KEND,
};

static const struct ckey k_engine_replay[] = {
	KSTR("capture_file", replay_capture_file),
	KEND,
};

static const struct ckey k_engine_modern_ebpf[] = {
	KU64("cpus_for_each_buffer", modern_ebpf.cpus_for_each_buffer),
	KU64("buf_size_preset", modern_ebpf.buf_size_preset),
	KBOOL("drop_failed_exit", modern_ebpf.drop_failed_exit),
	KEND,
};

static const struct ckey k_engine[] = {
	KFN("kind", fn_engine_kind),
	KSEC("replay", k_engine_replay),
	KSEC("modern_ebpf", k_engine_modern_ebpf),
	KIGN("kmod"),
	KIGN("ebpf"),
	KIGN("gvisor"),
	KEND,
};

/* pre-0.38 spelling of engine.modern_ebpf.cpus_for_each_buffer */
static const struct ckey k_modern_bpf_legacy[] = {
	KU64("cpus_for_each_syscall_buffer", modern_ebpf.cpus_for_each_buffer),
	KEND,
};

static const struct ckey k_metrics[] = {
	KBOOL("enabled", metrics.enabled),
	KFN("interval", fn_interval),
	KBOOL("output_rule", metrics.output_rule),
	KSTR("output_file", metrics.output_file),
	KBOOL("rules_counters_enabled", metrics.rules_counters_enabled),
	KBOOL("resource_utilization_enabled", metrics.resource_utilization_enabled),
	KBOOL("state_counters_enabled", metrics.state_counters_enabled),
	KBOOL("kernel_event_counters_enabled", metrics.kernel_event_counters_enabled),
	KBOOL("kernel_event_counters_per_cpu_enabled",
	      metrics.kernel_event_counters_per_cpu_enabled),
	KBOOL("libbpf_stats_enabled", metrics.libbpf_stats_enabled),
	KBOOL("plugins_metrics_enabled", metrics.plugins_metrics_enabled),
	KBOOL("jemalloc_stats_enabled", metrics.jemalloc_stats_enabled),
	KBOOL("convert_memory_to_mb", metrics.convert_memory_to_mb),
	KBOOL("include_empty_values", metrics.include_empty_values),
	KIGN("kernel_iter_event_counters_enabled"),
	KEND,
};

static const struct ckey k_drops[] = {
	KDBL("threshold", syscall_event_drops.threshold),
	KFN("actions", fn_drop_actions),
	KDBL("rate", syscall_event_drops.rate),
	KDBL("max_burst", syscall_event_drops.max_burst),
	KBOOL("simulate_drops", syscall_event_drops.simulate_drops),
	KEND,
};

static const struct ckey k_root[] = {
	KFN("rules_files", fn_rules_files),
	KFN("rules_file", fn_rules_files),
	KFN("rules", fn_rules),
	KFN("priority", fn_priority),
	KFN("rule_matching", fn_rule_matching),
	KBOOL("json_output", json_output),
	KBOOL("json_include_output_property", json_include_output_property),
	KBOOL("json_include_tags_property", json_include_tags_property),
	KBOOL("json_include_message_property", json_include_message_property),
	KBOOL("json_include_output_fields_property", json_include_output_fields_property),
	KBOOL("time_format_iso_8601", time_format_iso_8601),
	KBOOL("buffer_format_base64", buffer_format_base64),
	KFN("append_output", fn_append_output),
	KFN("static_fields", fn_static_fields),
	KBOOL("buffered_outputs", buffered_outputs),
	KSEC("outputs_queue", k_outputs_queue),
	KU64("output_timeout", output_timeout_ms),
	KSEC("stdout_output", k_enabled_stdout),
	KSEC("syslog_output", k_enabled_syslog),
	KSEC("journald_output", k_enabled_journald),
	KSEC("outputs_rate_limit", k_rate_limit),
	KSEC("file_output", k_file_output),
	KSEC("program_output", k_program_output),
	KSEC("http_output", k_http_output),
	KBOOL("log_stderr", log_stderr),
	KBOOL("log_syslog", log_syslog),
	KFN("log_level", fn_log_level),
	KSEC("webserver", k_webserver),
	KSEC("k8s_audit", k_k8s_audit),
	KSEC("engine", k_engine),
	KFN("load_plugins", fn_load_plugins),
	KFN("plugins", fn_plugins),
	KBOOL("watch_config_files", watch_config_files),
	KSEC("metrics", k_metrics),
	KSEC("syscall_event_drops", k_drops),
	KU64("syscall_buf_size_preset", modern_ebpf.buf_size_preset),
	KBOOL("syscall_drop_failed_exit", modern_ebpf.drop_failed_exit),
	KSEC("modern_bpf", k_modern_bpf_legacy),
	/* handled before the walk */
	KIGN("config_files"),
	KSEC("outputs", k_outputs_legacy),
	/* upstream keys with no effect here (yet) */
	KIGN("grpc"),
	KIGN("grpc_output"),
	KIGN("libs_logger"),
	KIGN("syscall_event_timeouts"),
	KIGN("base_syscalls"),
	KIGN("falco_libs"),
	KIGN("capture"),
	KIGN("plugins_hostinfo"),
	KIGN("container_engines"),
	KIGN("metadata_download"),
	KEND,
};

static int walk_one(struct cfg_ctx *x, const struct ckey *k, const struct ynode *v,
		    const char *path)
{
	char *base = (char *)x->c;

	/* a null value (key: with nothing after it) keeps the default, as upstream */
	if (ynode_is_null(v) && k->type != CT_FN)
		return 0;
	switch (k->type) {
	case CT_BOOL:
		return get_bool(x, v, path, (bool *)(base + k->off));
	case CT_U64:
		return get_u64(x, v, path, (uint64_t *)(base + k->off));
	case CT_PORT:
		return get_port(x, v, path, (uint16_t *)(base + k->off));
	case CT_DOUBLE:
		return get_double(x, v, path, (double *)(base + k->off));
	case CT_STR:
		return get_str(x, v, path, (const char **)(base + k->off));
	case CT_SECTION:
		if (v->kind != YN_MAP)
			return node_err(x, v, path, "expected a map, got a %s",
					ynode_kind_name(v->kind));
		return walk_map(x, v, k->sub, path);
	case CT_FN:
		if (ynode_is_null(v) && !streq(k->name, "rules_files") &&
		    !streq(k->name, "plugins"))
			return 0;
		return k->fn(x, v, path);
	case CT_IGNORE:
		return 0;
	}
	return 0;
}

static int walk_map(struct cfg_ctx *x, const struct ynode *map, const struct ckey *table,
		    const char *prefix)
{
	char path[256];

	for (size_t i = 0; i < map->map.n; i++) {
		const struct ypair *p = &map->map.pairs[i];
		const char *name = ynode_str(p->key);
		const struct ckey *k;
		int r;

		if (!name) {
			r = node_warn(x, p->key, "a %s as a key in %s, ignoring",
				      ynode_kind_name(p->key->kind),
				      prefix ? prefix : "the configuration");
			if (r < 0)
				return r;
			continue;
		}
		/* the last duplicate wins (as in yaml-cpp): skip earlier ones */
		if (ynode_map_pair(map, name) != p)
			continue;
		for (k = table; k->name; k++)
			if (streq(k->name, name))
				break;
		snprintf(path, sizeof(path), "%s%s%s", prefix ? prefix : "", prefix ? "." : "",
			 name);
		if (!k->name)
			/* keys made by -o have no position: their value leads to the option */
			r = node_warn(x, p->key->line || !p->val ? p->key : p->val,
				      "unknown configuration key '%s', ignoring", path);
		else
			r = walk_one(x, k, p->val, path);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- plugins: map k8saudit/json/container entries onto native sources ---- */

static bool is_k8saudit(const char *name)
{
	static const char *const names[] = {"k8saudit", "k8saudit-aks", "k8saudit-eks",
					    "k8saudit-gke", "k8saudit-ovh"};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (streq(name, names[i]))
			return true;
	return false;
}

/* init_config: a map, or a string holding JSON (which YAML flow syntax reads). */
static int k8s_init_config(struct cfg_ctx *x, const struct ynode *n, const char *pname)
{
	struct cfg_k8s_audit *k = &x->c->k8s_audit;
	const struct ynode *map = n;
	char key[128];
	int r;

	snprintf(key, sizeof(key), "plugins[%s].init_config", pname);
	if (ynode_is_null(n))
		return 0;
	if (n->kind == YN_SCALAR) {
		struct yaml_stream *s = NULL;
		char err[256];
		if (yaml_parse(n->scalar.str, n->scalar.len, NULL, &s, err, sizeof(err)) < 0)
			return node_err(x, n, key, "invalid JSON: %s", err);
		r = keep_stream(x, s);
		if (r < 0) {
			yaml_stream_free(s);
			return r;
		}
		map = s->ndocs ? s->docs[0] : NULL;
		if (ynode_is_null(map))
			return 0;
		/* positions inside the string are not file positions: report at the string itself */
		if (map->kind != YN_MAP)
			return node_err(x, n, key, "expected a JSON object");
	}
	if (map->kind != YN_MAP)
		return node_err(x, n, key, "expected a map or a JSON object string");
	for (size_t i = 0; i < map->map.n; i++) {
		const char *kn = ynode_str(map->map.pairs[i].key);
		const struct ynode *v = map->map.pairs[i].val;
		if (!kn || ynode_is_null(v))
			continue;
		const struct ynode *at = n->kind == YN_SCALAR ? n : v;
		if (streq(kn, "sslCertificate")) {
			if (v->kind != YN_SCALAR)
				return node_err(x, at, key, "sslCertificate must be a string");
			k->tls_cert = cstr(x, v->scalar.str);
		} else if (streq(kn, "maxEventSize") || streq(kn, "webhookMaxBatchSize")) {
			uint64_t u;
			if (ynode_u64(v, &u) < 0 || u == 0)
				return node_err(x, at, key, "%s must be a positive integer", kn);
			if (streq(kn, "maxEventSize"))
				k->max_event_size = u;
			else
				k->max_batch_size = u;
		}
		/* useAsync and unknown keys: accepted, as the plugin does */
	}
	return 0;
}

/* open_params: http(s)://[host]:port/path → webhook; file:// → unsupported; a plain path → replay. */
static int k8s_open_params(struct cfg_ctx *x, const struct ynode *n, const char *pname)
{
	struct cfg_k8s_audit *k = &x->c->k8s_audit;
	const char *s = ynode_str(n);
	char key[128];

	snprintf(key, sizeof(key), "plugins[%s].open_params", pname);
	if (!s || !*s)
		return node_err(x, n, key,
				"needs a webhook URL (http://:9765/k8s-audit) or a file path");
	const char *sep = strstr(s, "://");
	if (!sep && !streq(pname, "k8saudit") && access(s, F_OK) < 0)
		/* the cloud variants' own open_params name a cluster or a log stream to poll */
		return node_err(
			x, n, key,
			"'%s' is neither a webhook URL (http(s)://host:port/path) nor an existing file "
			"(%s); pulling audit logs from the cloud provider, as the %s plugin does, is not "
			"supported: point the cluster's audit webhook at falco instead",
			s, strerror(errno), pname);
	if (!sep) {
		k->replay_file = cstr(x, s);
		return k->replay_file ? 0 : -ENOMEM;
	}
	size_t slen = (size_t)(sep - s);
	bool https = slen == 5 && strncasecmp(s, "https", 5) == 0;
	if (slen == 4 && strncasecmp(s, "file", 4) == 0)
		return node_err(
			x, n, key,
			"file:// (follow a growing file) is not supported; give a plain path to replay a file");
	if (!https && !(slen == 4 && strncasecmp(s, "http", 4) == 0))
		return node_err(x, n, key, "scheme \"%.*s\" is not supported", (int)slen, s);

	const char *host = sep + 3, *path = strchr(host, '/');
	size_t hlen = path ? (size_t)(path - host) : strlen(host);
	char hostport[256];
	if (hlen >= sizeof(hostport))
		return node_err(x, n, key, "host too long");
	memcpy(hostport, host, hlen);
	hostport[hlen] = '\0';

	/* split host and port; [v6]:port */
	char *port = NULL, *h = hostport;
	if (*h == '[') {
		char *rb = strchr(h, ']');
		if (!rb)
			return node_err(x, n, key, "unterminated '[' in '%s'", s);
		*rb = '\0';
		h++;
		if (rb[1] == ':')
			port = rb + 2;
		else if (rb[1])
			return node_err(x, n, key, "unexpected text after ']' in '%s'", s);
	} else if ((port = strrchr(h, ':'))) {
		*port++ = '\0';
	}
	uint64_t pv = https ? 443 : 80;
	if (port) {
		char *end;
		errno = 0;
		pv = strtoull(port, &end, 10);
		if (!*port || *end || errno || pv == 0 || pv > 65535)
			return node_err(x, n, key, "invalid port '%s' in '%s'", port, s);
	}
	k->enabled = true;
	k->tls = https;
	/* "http://:9765" listens on every interface, IPv6 included, as Go's ":9765" does */
	k->listen_address = cstr(x, h);
	k->listen_port = (uint16_t)pv;
	k->path = cstr(x, path && *path ? path : "/");
	if (!k->listen_address || !k->path)
		return -ENOMEM;
	if (https)
		k->tls_key = NULL; /* upstream: one PEM holds both (sslCertificate) */
	return 0;
}

static int map_plugin(struct cfg_ctx *x, const struct ynode *entry, const char *name,
		      bool *seen_k8s)
{
	struct falco_config *c = x->c;
	int r;

	if (streq(name, "json")) {
		c->json_plugin = true;
		return 0;
	}
	if (streq(name, "container")) {
		c->container_plugin = true;
		return 0;
	}
	if (!is_k8saudit(name))
		return node_err(
			x, entry, "plugins",
			"plugin '%s' is not supported: this build has native support for k8saudit (and k8saudit-aks/-eks/-gke/-ovh), json and container only",
			name);
	if (*seen_k8s)
		return node_err(x, entry, "plugins",
				"plugin '%s': only one k8s audit source can be configured", name);
	*seen_k8s = true;
	if (c->k8s_audit.enabled) {
		char pos[PATH_MAX + 64];
		r = add_warning(x, "%s: plugin '%s' replaces the k8s_audit: section",
				where(x, entry, pos, sizeof(pos)), name);
		if (r < 0)
			return r;
		c->k8s_audit.enabled = false;
	}
	r = k8s_init_config(x, ynode_map_get(entry, "init_config"), name);
	if (r >= 0)
		r = k8s_open_params(x, ynode_map_get(entry, "open_params"), name);
	if (r >= 0)
		c->k8s_audit.from_plugin = cstr(x, name);
	return r;
}

static int resolve_plugins(struct cfg_ctx *x)
{
	const struct ynode *pl = x->plugins;
	bool seen_k8s = false;
	int r;

	/* every entry must have a name, whether it is loaded or not */
	for (size_t i = 0; pl && pl->kind == YN_SEQ && i < pl->seq.n; i++) {
		const struct ynode *e = pl->seq.items[i];
		if (e->kind != YN_MAP || !ynode_str(ynode_map_get(e, "name")))
			return node_err(x, e, "plugins", "each entry needs a name");
	}
	if (!x->load_plugins) {
		/* load_plugins absent: every configured plugin is loaded (upstream) */
		for (size_t i = 0; pl && pl->kind == YN_SEQ && i < pl->seq.n; i++) {
			const struct ynode *e = pl->seq.items[i];
			if ((r = map_plugin(x, e, ynode_str(ynode_map_get(e, "name")), &seen_k8s)) <
			    0)
				return r;
		}
		return 0;
	}
	const struct ynode *lp = x->load_plugins;
	size_t n = lp->kind == YN_SEQ ? lp->seq.n : 1;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = lp->kind == YN_SEQ ? lp->seq.items[i] : lp;
		const char *want = ynode_str(it);
		const struct ynode *found = NULL;
		if (ynode_is_null(it))
			continue;
		if (!want)
			return node_err(x, it, "load_plugins", "expected a plugin name");
		for (size_t k = 0; pl && pl->kind == YN_SEQ && k < pl->seq.n; k++)
			if (streq(ynode_str(ynode_map_get(pl->seq.items[k], "name")), want))
				found = pl->seq.items[k];
		if (!found) {
			/* json and container need no settings: accept them without a plugins entry */
			if (streq(want, "json") || streq(want, "container")) {
				if ((r = map_plugin(x, it, want, &seen_k8s)) < 0)
					return r;
				continue;
			}
			return node_err(x, it, "load_plugins",
					"cannot load plugin '%s': no plugins entry with that name",
					want);
		}
		if ((r = map_plugin(x, found, want, &seen_k8s)) < 0)
			return r;
	}
	return 0;
}

/* ---- -o overrides ---- */

enum step_kind {
	STEP_KEY,
	STEP_INDEX,
	STEP_APPEND,
};

struct step {
	enum step_kind kind;
	char *key;
	size_t index;
};

#define MAX_STEPS 32

/* Splits "a.b[0].c\.d[]" into steps; keys are unescaped into buf. */
static int parse_key_path(const char *key, size_t keylen, char *buf, struct step *steps,
			  size_t *ret_n, char *errbuf, size_t errlen)
{
	size_t n = 0, bi = 0, i = 0;

	while (i < keylen) {
		if (n == MAX_STEPS)
			return errf(errbuf, errlen, -EINVAL, "key has too many parts");
		if (key[i] == '[') {
			if (n == 0)
				return errf(errbuf, errlen, -EINVAL, "key cannot start with '['");
			size_t j = i + 1;
			while (j < keylen && key[j] != ']')
				j++;
			if (j == keylen)
				return errf(errbuf, errlen, -EINVAL, "unterminated '['");
			if (j == i + 1) {
				steps[n++] = (struct step){STEP_APPEND, NULL, 0};
			} else {
				size_t v = 0;
				for (size_t d = i + 1; d < j; d++) {
					if (!isdigit((unsigned char)key[d]) || v > 1000000)
						return errf(errbuf, errlen, -EINVAL,
							    "bad list index '%.*s'",
							    (int)(j - i - 1), key + i + 1);
					v = v * 10 + (size_t)(key[d] - '0');
				}
				steps[n++] = (struct step){STEP_INDEX, NULL, v};
			}
			i = j + 1;
			if (i < keylen && key[i] == '.')
				i++;
			else if (i < keylen && key[i] != '[')
				return errf(errbuf, errlen, -EINVAL,
					    "expected '.' or '[' after ']'");
			continue;
		}
		/* a key name up to an unescaped '.' or '[' */
		char *start = buf + bi;
		while (i < keylen && key[i] != '.' && key[i] != '[') {
			if (key[i] == '\\' && i + 1 < keylen)
				i++;
			buf[bi++] = key[i++];
		}
		buf[bi++] = '\0';
		if (!*start)
			return errf(errbuf, errlen, -EINVAL, "empty key name");
		steps[n++] = (struct step){STEP_KEY, start, 0};
		if (i < keylen && key[i] == '.') {
			i++;
			if (i == keylen)
				return errf(errbuf, errlen, -EINVAL, "key ends with '.'");
		}
	}
	if (n == 0)
		return errf(errbuf, errlen, -EINVAL, "empty key");
	*ret_n = n;
	return 0;
}

/* Copies a tree into s (so a parsed -o value outlives its own stream); positions are kept. */
static struct ynode *clone_node(struct yaml_stream *s, const struct ynode *n, unsigned depth)
{
	struct ynode *c;

	if (depth > 64)
		return NULL;
	switch (n->kind) {
	case YN_SCALAR:
		c = yaml_new_scalar(s, n->scalar.str, n->scalar.len, n->scalar.plain);
		break;
	case YN_SEQ:
		c = yaml_new_seq(s);
		for (size_t i = 0; c && i < n->seq.n; i++) {
			struct ynode *it = clone_node(s, n->seq.items[i], depth + 1);
			if (!it || yaml_seq_append(s, c, it) < 0)
				return NULL;
		}
		break;
	case YN_MAP:
		c = yaml_new_map(s);
		for (size_t i = 0; c && i < n->map.n; i++) {
			const char *k = ynode_str(n->map.pairs[i].key);
			struct ynode *v = n->map.pairs[i].val
						  ? clone_node(s, n->map.pairs[i].val, depth + 1)
						  : NULL;
			if (!k || (n->map.pairs[i].val && !v) || yaml_map_set(s, c, k, v) < 0)
				return NULL;
		}
		break;
	default:
		return NULL;
	}
	return c;
}

/* A missing value, null, or an empty string ("init_config: ''") gives way to a new map or list. */
static bool replaceable(const struct ynode *n)
{
	return !n || (n->kind == YN_SCALAR && (ynode_is_null(n) || n->scalar.len == 0));
}

static struct ynode *new_container(struct yaml_stream *s, enum step_kind next)
{
	return next == STEP_KEY ? yaml_new_map(s) : yaml_new_seq(s);
}

/* *ret_top is the outermost node the override created (for messages that name the -o option). */
static int apply_override(struct yaml_stream *s, struct ynode *root, const char *opt,
			  struct ynode **ret_top, char *errbuf, size_t errlen)
{
	struct step steps[MAX_STEPS];
	size_t nsteps = 0, klen;
	const char *eq = NULL;
	int r;

	if (!root || root->kind != YN_MAP)
		return errf(errbuf, errlen, -EINVAL, "configuration root is not a map");
	/* the first unescaped '=' ends the key */
	for (const char *p = opt; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
			continue;
		}
		if (*p == '=') {
			eq = p;
			break;
		}
	}
	if (!eq)
		return errf(errbuf, errlen, -EINVAL, "'%s' is not KEY=VALUE", opt);
	klen = (size_t)(eq - opt);
	_cleanup_free_ char *kbuf = malloc(klen * 2 + MAX_STEPS + 1);
	if (!kbuf)
		return -ENOMEM;
	r = parse_key_path(opt, klen, kbuf, steps, &nsteps, errbuf, errlen);
	if (r < 0)
		return errf_prefix(errbuf, errlen, r, "'%.*s'", (int)klen, opt);

	/* the value: YAML for lists and maps, else a plain scalar as typed */
	const char *val = eq + 1;
	struct ynode *vnode;
	if (*val == '[' || *val == '{') {
		struct yaml_stream *vs = NULL;
		char err[256];
		r = yaml_parse(val, strlen(val), NULL, &vs, err, sizeof(err));
		if (r < 0)
			return errf(errbuf, errlen, r, "value of '%.*s' is not valid YAML: %s",
				    (int)klen, opt, err);
		vnode = vs->ndocs && vs->docs[0] ? clone_node(s, vs->docs[0], 0)
						 : yaml_new_scalar(s, "", 0, true);
		yaml_stream_free(vs);
	} else {
		vnode = yaml_new_scalar(s, val, strlen(val), true);
	}
	if (!vnode)
		return -ENOMEM;

	struct ynode *cur = root, *top = NULL;
	for (size_t i = 0; i < nsteps; i++) {
		const struct step *st = &steps[i];
		bool last = i + 1 == nsteps;
		struct ynode *next = NULL;

		if (st->kind == STEP_KEY) {
			if (cur->kind != YN_MAP)
				return errf(errbuf, errlen, -EINVAL,
					    "'%.*s': '%s' is inside a %s, not a map", (int)klen,
					    opt, st->key, ynode_kind_name(cur->kind));
			if (last) {
				*ret_top = top ? top : vnode;
				return yaml_map_set(s, cur, st->key, vnode);
			}
			next = ynode_map_get(cur, st->key);
			if (replaceable(next)) {
				next = new_container(s, steps[i + 1].kind);
				if (!next || yaml_map_set(s, cur, st->key, next) < 0)
					return -ENOMEM;
				if (!top)
					top = next;
			}
		} else {
			if (cur->kind != YN_SEQ)
				return errf(errbuf, errlen, -EINVAL, "'%.*s': a list index on a %s",
					    (int)klen, opt, ynode_kind_name(cur->kind));
			size_t idx = st->kind == STEP_APPEND ? cur->seq.n : st->index;
			if (idx > cur->seq.n)
				return errf(
					errbuf, errlen, -EINVAL,
					"'%.*s': index %zu is out of range (the list has %zu elements)",
					(int)klen, opt, idx, cur->seq.n);
			if (idx == cur->seq.n) {
				next = last ? vnode : new_container(s, steps[i + 1].kind);
				if (!next || yaml_seq_append(s, cur, next) < 0)
					return -ENOMEM;
				if (!top)
					top = next;
				if (last) {
					*ret_top = top;
					return 0;
				}
			} else if (last) {
				cur->seq.items[idx] = vnode;
				*ret_top = top ? top : vnode;
				return 0;
			} else {
				next = cur->seq.items[idx];
				if (replaceable(next)) {
					next = new_container(s, steps[i + 1].kind);
					if (!next)
						return -ENOMEM;
					cur->seq.items[idx] = next;
					if (!top)
						top = next;
				}
			}
		}
		cur = next;
	}
	*ret_top = top ? top : vnode;
	return 0;
}

int config_apply_override(struct yaml_stream *s, struct ynode *root, const char *opt, char *errbuf,
			  size_t errlen)
{
	struct ynode *top;
	return apply_override(s, root, opt, &top, errbuf, errlen);
}

/* ---- durations ---- */

int config_parse_duration_ms(const char *s, uint64_t *ret_ms)
{
	static const struct {
		const char *unit;
		uint64_t ms;
	} units[] = {
		/* "ms" before "m" */
		{"ms", 1},	    {"s", 1000},	 {"m", 60000},		{"h", 3600000},
		{"d", 86400000ull}, {"w", 604800000ull}, {"y", 31536000000ull},
	};
	uint64_t total = 0;

	if (!s || !*s)
		return -EINVAL;
	while (*s) {
		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		char *end;
		errno = 0;
		uint64_t v = strtoull(s, &end, 10);
		if (errno)
			return -EINVAL;
		size_t k;
		for (k = 0; k < ARRAY_SIZE(units); k++)
			if (startswith(end, units[k].unit))
				break;
		if (k == ARRAY_SIZE(units))
			return -EINVAL;
		if (v > UINT64_MAX / units[k].ms || total + v * units[k].ms < total)
			return -EINVAL;
		total += v * units[k].ms;
		s = end + strlen(units[k].unit);
	}
	*ret_ms = total;
	return 0;
}

/* ---- defaults ---- */

static const char *const default_rules_files[] = {
	SYSCONFDIR "/falco/falco_rules.yaml",
	SYSCONFDIR "/falco/falco_rules.local.yaml",
	SYSCONFDIR "/falco/rules.d",
};

struct falco_config *config_new_defaults(void)
{
	struct falco_config *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	arena_init(&c->arena, 16 * 1024, 0);

	c->rules_files = (const char **)default_rules_files;
	c->nrules_files = ARRAY_SIZE(default_rules_files);
	c->min_priority = PRIO_DEBUG;
	c->json_include_output_property = true;
	c->json_include_tags_property = true;
	c->json_include_output_fields_property = true;
	c->output_timeout_ms = 2000;
	c->stdout_output = true;
	c->syslog_output = true;
	c->file_output.filename = "./events.txt";
	c->program_output.program = "";
	c->http_output.url = "";
	c->http_output.user_agent = "falcosecurity/falco";
	c->http_output.ca_cert = "";
	c->http_output.ca_bundle = "";
	c->http_output.ca_path = "/etc/ssl/certs";
	c->http_output.client_cert = "/etc/ssl/certs/client.crt";
	c->http_output.client_key = "/etc/ssl/certs/client.key";
	c->http_output.keep_alive = true;
	c->http_output.max_consecutive_timeouts = 5;
	c->http_output.timeout_ms = 5000;
	c->http_output.connect_timeout_ms = 2000;
	c->http_output.retries = 3;
	c->http_output.retry_backoff_ms = 200;
	c->outputs_stall_timeout_ms = 30000;
	c->rate_limit = (struct cfg_rate_limit){.rate = 0, .max_burst = 1000, .per_rule = true};
	c->legacy_max_burst = 1000;
	c->log_stderr = true;
	c->log_syslog = true;
	c->log_level = LOG_LEVEL_INFO;
	c->webserver = (struct cfg_webserver){
		.enabled = true,
		.listen_address = "0.0.0.0",
		.listen_port = 8765,
		.k8s_healthz_endpoint = "/healthz",
		.ssl_certificate = SYSCONFDIR "/falco/falco.pem",
	};
	c->k8s_audit = (struct cfg_k8s_audit){
		.listen_address = "0.0.0.0",
		.listen_port = 9765,
		.path = "/k8s-audit",
		.tls_cert = SYSCONFDIR "/falco/falco.pem",
		.tls_key = "",
		.tls_ca = "",
		.max_event_size = 262144,
		.max_batch_size = 12582912,
		.queue_capacity = 50,
	};
	c->engine_kind = "modern_ebpf";
	c->replay_capture_file = "";
	c->modern_ebpf = (struct cfg_modern_ebpf){.cpus_for_each_buffer = 2, .buf_size_preset = 4};
	c->watch_config_files = true;
	c->metrics = (struct cfg_metrics){
		.interval_ms = 3600000,
		.output_rule = true,
		.output_file = "",
		.rules_counters_enabled = true,
		.resource_utilization_enabled = true,
		.state_counters_enabled = true,
		.kernel_event_counters_enabled = true,
		.libbpf_stats_enabled = true,
		.plugins_metrics_enabled = true,
		.convert_memory_to_mb = true,
	};
	c->syscall_event_drops = (struct cfg_syscall_event_drops){
		.threshold = 0.1,
		.actions = CFG_DROP_LOG | CFG_DROP_ALERT,
		.rate = 0.03333,
		.max_burst = 1,
	};
	return c;
}

struct falco_config *config_free(struct falco_config *c)
{
	if (!c)
		return NULL;
	arena_done(&c->arena);
	free(c);
	return NULL;
}

/* ---- files and includes ---- */

static int add_file(struct cfg_ctx *x, const char *path)
{
	struct falco_config *c = x->c;
	const char **nf = arena_alloc(&c->arena, (c->nfiles + 1) * sizeof(*nf));
	const char *p = cstr(x, path);
	if (!nf || !p)
		return -ENOMEM;
	if (c->nfiles)
		memcpy(nf, c->files, c->nfiles * sizeof(*nf));
	nf[c->nfiles++] = p;
	c->files = nf;
	return 0;
}

/* Reads and parses one file; *ret_root is its first document (NULL when empty). */
static int parse_file(struct cfg_ctx *x, const char *path, struct ynode **ret_root)
{
	_cleanup_free_ char *buf = NULL;
	struct yaml_stream *s = NULL;
	char err[512];
	size_t len;
	int r;

	r = read_file(path, CONFIG_MAX_BYTES, &buf, &len, err, sizeof(err));
	if (r < 0)
		return errf(x->errbuf, x->errlen, r, "cannot read configuration file: %s", err);
	r = yaml_parse(buf, len, NULL, &s, err, sizeof(err));
	if (r < 0)
		return errf(x->errbuf, x->errlen, r, "%s:%s", path, err);
	if ((r = keep_stream(x, s)) < 0) {
		yaml_stream_free(s);
		return r;
	}
	struct ynode *root = s->ndocs ? s->docs[0] : NULL;
	if (root && ynode_is_null(root))
		root = NULL;
	if (root && root->kind != YN_MAP)
		return errf(x->errbuf, x->errlen, -EINVAL,
			    "%s:%u:%u: the configuration must be a map, not a %s", path, root->line,
			    root->col, ynode_kind_name(root->kind));
	if ((r = add_origin(x, path, root, false)) < 0 || (r = add_file(x, path)) < 0)
		return r;
	*ret_root = root;
	return 0;
}

enum merge_strategy {
	MERGE_APPEND,	/* lists are concatenated, everything else replaced (upstream's default) */
	MERGE_OVERRIDE, /* every key replaced */
	MERGE_ADD_ONLY, /* only keys not set yet */
};

static int merge_into(struct cfg_ctx *x, struct ynode *dst, const struct ynode *src,
		      enum merge_strategy st)
{
	for (size_t i = 0; src && i < src->map.n; i++) {
		const char *k = ynode_str(src->map.pairs[i].key);
		struct ynode *v = src->map.pairs[i].val;
		struct ynode *cur = ynode_map_get(dst, k ? k : "");
		int r;

		if (!k)
			continue;
		if (streq(k, "config_files")) {
			r = node_warn(
				x, src->map.pairs[i].key,
				"config_files inside an included file is not followed, ignoring");
			if (r < 0)
				return r;
			continue;
		}
		if (st == MERGE_ADD_ONLY && cur)
			continue;
		if (st == MERGE_APPEND && cur && v && cur->kind == YN_SEQ && v->kind == YN_SEQ) {
			struct ynode *seq = yaml_new_seq(x->edits);
			if (!seq)
				return -ENOMEM;
			for (size_t j = 0; j < cur->seq.n; j++)
				if (yaml_seq_append(x->edits, seq, cur->seq.items[j]) < 0)
					return -ENOMEM;
			for (size_t j = 0; j < v->seq.n; j++)
				if (yaml_seq_append(x->edits, seq, v->seq.items[j]) < 0)
					return -ENOMEM;
			/* keep the original position for messages about the list itself */
			seq->line = cur->line;
			seq->col = cur->col;
			v = seq;
		}
		if (yaml_map_set(x->edits, dst, k, v) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int include_one(struct cfg_ctx *x, struct ynode *root, const char *path,
		       enum merge_strategy st)
{
	struct ynode *inc = NULL;
	int r = parse_file(x, path, &inc);
	if (r < 0)
		return r;
	return merge_into(x, root, inc, st);
}

static int include_path(struct cfg_ctx *x, struct ynode *root, const struct ynode *item,
			const char *path, enum merge_strategy st, size_t *count)
{
	struct stat sb;

	if (stat(path, &sb) < 0)
		return node_warn(x, item, "config_files: cannot access '%s': %s, ignoring", path,
				 strerror(errno));
	if (!S_ISDIR(sb.st_mode)) {
		if (++*count > MAX_INCLUDES)
			return node_err(x, item, "config_files", "more than %d included files",
					MAX_INCLUDES);
		return include_one(x, root, path, st);
	}

	/* a directory: its regular files, in name order, not recursive (dot files skipped) */
	DIR *d = opendir(path);
	if (!d)
		return node_warn(x, item, "config_files: cannot open directory '%s': %s, ignoring",
				 path, strerror(errno));
	char **names = NULL;
	size_t n = 0;
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char full[PATH_MAX];
		if (snprintf(full, sizeof(full), "%s/%s", path, de->d_name) >= (int)sizeof(full))
			continue;
		if (stat(full, &sb) < 0 || !S_ISREG(sb.st_mode))
			continue;
		char **nn = realloc(names, (n + 1) * sizeof(*nn));
		if (!nn || !(nn[n] = strdup(full))) {
			names = nn ? nn : names;
			r = -ENOMEM;
			break;
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (r >= 0 && n)
		qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; r >= 0 && i < n; i++) {
		if (++*count > MAX_INCLUDES)
			r = node_err(x, item, "config_files", "more than %d included files",
				     MAX_INCLUDES);
		else
			r = include_one(x, root, names[i], st);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

static int process_includes(struct cfg_ctx *x, struct ynode *root, const char *main_path)
{
	const struct ynode *cf = ynode_map_get(root, "config_files");
	size_t count = 0;

	if (ynode_is_null(cf))
		return 0;
	if (cf->kind == YN_MAP)
		return node_err(x, cf, "config_files",
				"expected a list of paths or {path, strategy} entries");
	size_t n = cf->kind == YN_SEQ ? cf->seq.n : 1;
	for (size_t i = 0; i < n; i++) {
		const struct ynode *it = cf->kind == YN_SEQ ? cf->seq.items[i] : cf;
		const char *p = NULL;
		enum merge_strategy st = MERGE_APPEND;
		int r;

		if (it->kind == YN_SCALAR) {
			p = it->scalar.str;
		} else if (it->kind == YN_MAP) {
			p = ynode_str(ynode_map_get(it, "path"));
			const char *s = ynode_str(ynode_map_get(it, "strategy"));
			if (!s || streq(s, "append"))
				st = MERGE_APPEND;
			else if (streq(s, "override"))
				st = MERGE_OVERRIDE;
			else if (streq(s, "add-only"))
				st = MERGE_ADD_ONLY;
			else
				return node_err(
					x, ynode_map_get(it, "strategy"), "config_files.strategy",
					"unknown strategy '%s' (expected append, override or add-only)",
					s);
		}
		if (!p || !*p)
			return node_err(x, it, "config_files", "each entry needs a path");

		/* relative paths are relative to the directory of the main file */
		char full[PATH_MAX];
		const char *slash = strrchr(main_path, '/');
		if (p[0] != '/' && slash)
			r = snprintf(full, sizeof(full), "%.*s/%s", (int)(slash - main_path),
				     main_path, p);
		else
			r = snprintf(full, sizeof(full), "%s", p);
		if (r < 0 || (size_t)r >= sizeof(full))
			return node_err(x, it, "config_files", "path too long");
		if ((r = include_path(x, root, it, full, st, &count)) < 0)
			return r;
	}
	return 0;
}

/* ---- entry point ---- */

static int finish(struct cfg_ctx *x)
{
	struct falco_config *c = x->c;

	if (!x->have_rules_files && x->rules_file_legacy) {
		if (ynode_is_null(x->rules_file_legacy)) {
			c->rules_files = NULL;
			c->nrules_files = 0;
		} else {
			int r = get_str_list(x, x->rules_file_legacy, "rules_file", &c->rules_files,
					     &c->nrules_files);
			if (r < 0)
				return r;
		}
	}
	if (c->file_output.enabled && (!c->file_output.filename || !*c->file_output.filename))
		return errf(x->errbuf, x->errlen, -EINVAL,
			    "file_output: enabled without a filename");
	if (c->program_output.enabled &&
	    (!c->program_output.program || !*c->program_output.program))
		return errf(x->errbuf, x->errlen, -EINVAL,
			    "program_output: enabled without a program");
	if (c->http_output.enabled && (!c->http_output.url || !*c->http_output.url))
		return errf(x->errbuf, x->errlen, -EINVAL, "http_output: enabled without a url");
	if (c->k8s_audit.tls && (!c->k8s_audit.tls_cert || !*c->k8s_audit.tls_cert))
		return errf(x->errbuf, x->errlen, -EINVAL,
			    "k8s_audit.tls: enabled without a certificate");
	if (c->k8s_audit.mtls && (!c->k8s_audit.tls_ca || !*c->k8s_audit.tls_ca))
		return errf(x->errbuf, x->errlen, -EINVAL,
			    "k8s_audit.tls.mtls: needs a ca to verify clients");
	if (c->k8s_audit.path && c->k8s_audit.path[0] != '/')
		return errf(x->errbuf, x->errlen, -EINVAL,
			    "k8s_audit.path: '%s' must start with '/'", c->k8s_audit.path);
	if (c->k8s_audit.max_event_size == 0 || c->k8s_audit.max_batch_size == 0 ||
	    c->k8s_audit.queue_capacity == 0)
		return errf(
			x->errbuf, x->errlen, -EINVAL,
			"k8s_audit: max_event_size, max_batch_size and queue_capacity must be positive");
	/* the legacy global bucket applies unless outputs_rate_limit turned limiting on itself */
	if (c->rate_limit.rate <= 0 && c->legacy_rate > 0)
		c->rate_limit = (struct cfg_rate_limit){.rate = c->legacy_rate,
							.max_burst = c->legacy_max_burst,
							.per_rule = false};
	if (c->rate_limit.rate < 0 || c->rate_limit.max_burst < 1)
		return errf(x->errbuf, x->errlen, -EINVAL,
			    "outputs_rate_limit: rate must be >= 0 and max_burst >= 1");
	if (c->outputs_stall_timeout_ms == 0)
		return errf(x->errbuf, x->errlen, -EINVAL,
			    "outputs_queue.stall_timeout: must be positive (milliseconds)");
	if (c->syscall_event_drops.threshold < 0 || c->syscall_event_drops.threshold > 1)
		return errf(x->errbuf, x->errlen, -EINVAL,
			    "syscall_event_drops.threshold: must be between 0 and 1");
	return 0;
}

int config_load(const char *path, const char *const *overrides, size_t noverrides,
		struct falco_config **ret, char *errbuf, size_t errlen)
{
	struct cfg_ctx x = {.errbuf = errbuf, .errlen = errlen};
	struct ynode *root = NULL;
	int r;

	x.c = config_new_defaults();
	x.edits = yaml_stream_new();
	if (!x.c || !x.edits) {
		r = errf(errbuf, errlen, -ENOMEM, "out of memory");
		goto out;
	}

	/* 1. the main file */
	if (path && (r = parse_file(&x, path, &root)) < 0)
		goto out;
	if (!root && !(root = yaml_new_map(x.edits))) {
		r = -ENOMEM;
		goto out;
	}

	/* 2. includes */
	if (path && (r = process_includes(&x, root, path)) < 0)
		goto out;

	/* 3. -o overrides, each remembered as an origin so messages can name it */
	for (size_t i = 0; i < noverrides; i++) {
		char err[512], name[1100];
		struct ynode *top = NULL;
		r = apply_override(x.edits, root, overrides[i], &top, err, sizeof(err));
		if (r < 0) {
			errf(errbuf, errlen, r, "-o: %s", r == -ENOMEM ? "out of memory" : err);
			goto out;
		}
		snprintf(name, sizeof(name), "-o '%s'", overrides[i]);
		if ((r = add_origin(&x, name, top, true)) < 0)
			goto out;
	}

	/* 4. typed settings */
	if ((r = walk_map(&x, root, k_root, NULL)) < 0)
		goto out;
	if ((r = resolve_plugins(&x)) < 0)
		goto out;
	if ((r = finish(&x)) < 0) {
		/* whole-configuration checks have no node to point at: name the file at least */
		if (path && r != -ENOMEM && errbuf && errlen &&
		    strncmp(errbuf, path, strlen(path)) != 0) {
			char msg[512];
			snprintf(msg, sizeof(msg), "%s", errbuf);
			errf(errbuf, errlen, r, "%s: %s", path, msg);
		}
		goto out;
	}
	*ret = TAKE_PTR(x.c);
	r = 0;
out:
	if (r == -ENOMEM)
		errf(errbuf, errlen, r, "out of memory loading the configuration");
	for (size_t i = 0; i < x.nstreams; i++)
		yaml_stream_free(x.streams[i]);
	free(x.streams);
	free(x.origins);
	yaml_stream_free(x.edits);
	config_free(x.c);
	return r;
}
