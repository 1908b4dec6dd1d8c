/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reader: YAML documents → items → collector calls, following upstream's rule_loader_reader. The item kind
 * is decided by the first known key; structural problems are LOAD_ERR_YAML_VALIDATE errors, and the first
 * error stops the file. Unknown items and keys are warnings.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "rules_internal.h"

#define WARNING_APPEND                                                                                       \
	"The 'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' " \
	"instead."
#define WARNING_ENABLED                                                                                     \
	"The standalone 'enabled' key usage is deprecated. The correct approach requires also a 'replace' " \
	"entry under the 'override' key (i.e. 'enabled: replace')."
#define ERROR_OVERRIDE_APPEND                                                                      \
	"Keys 'override' and 'append: true' cannot be used together. Add an 'append' entry (e.g. " \
	"'condition: append') under 'override' instead."

struct rd {
	struct rules_loader *l;
	uint32_t file;
};

/* The chain every message of an item starts with: the file, then the item. */
static void base_where(struct rd *rd, struct rl_where *w, const char *type, const char *name,
		       const struct ynode *item)
{
	*w = (struct rl_where){0};
	rl_where_push(w, IT_RULES_CONTENT, "", (int32_t)rd->file, 0);
	rl_where_node(rd->l, w, type, name, rd->file, item);
}

/* Same chain plus one inner location. */
static struct rl_where sub_where(struct rd *rd, const struct rl_where *base, const char *type,
				 const char *name, const struct ynode *node)
{
	struct rl_where w = *base;
	rl_where_node(rd->l, &w, type, name, rd->file, node);
	return w;
}

#define rd_err(rd, w, fmt, ...) \
	rl_msg((rd)->l, (rd)->file, LOAD_ERR_YAML_VALIDATE, (w), fmt, ##__VA_ARGS__)
#define rd_warn(rd, code, w, fmt, ...) rl_msg((rd)->l, (rd)->file, (code), (w), fmt, ##__VA_ARGS__)

/* ---- scalar decoding ---- */

/*
 * The scalar under key: NULL node when absent and optional ("Item has no mapping for key" otherwise); a null
 * value reads as "" (upstream treats null as an empty value).
 */
static int get_scalar(struct rd *rd, const struct rl_where *base, const struct ynode *item,
		      const char *key, bool optional, const struct ynode **ret_node,
		      const char **ret)
{
	const struct ynode *v = ynode_map_get(item, key);

	*ret_node = NULL;
	*ret = NULL;
	if (!v) {
		if (optional)
			return 0;
		return rd_err(rd, base, "Item has no mapping for key '%s'", key);
	}
	if (ynode_is_null(v)) {
		*ret_node = v;
		*ret = "";
		return 0;
	}
	if (v->kind != YN_SCALAR) {
		struct rl_where w = sub_where(rd, base, IT_VALUE_FOR, key, v);
		return rd_err(rd, &w, "Value is not a scalar value");
	}
	*ret_node = v;
	*ret = v->scalar.str;
	return 0;
}

static int get_name(struct rd *rd, const struct rl_where *base, const struct ynode *item,
		    const char *key, const char **ret)
{
	const struct ynode *n;
	int r = get_scalar(rd, base, item, key, false, &n, ret);
	if (r < 0)
		return r;
	if (!**ret) {
		struct rl_where w = sub_where(rd, base, IT_VALUE_FOR, key, n);
		return rd_err(rd, &w, "Value must be non-empty");
	}
	return 0;
}

/* Optional bool: *present stays false when absent or null (upstream keeps the default then). */
static int get_bool(struct rd *rd, const struct rl_where *base, const struct ynode *item,
		    const char *key, bool *present, bool *ret)
{
	const struct ynode *v = ynode_map_get(item, key);

	*present = false;
	if (!v || ynode_is_null(v))
		return 0;
	struct rl_where w = sub_where(rd, base, IT_VALUE_FOR, key, v);
	if (v->kind != YN_SCALAR)
		return rd_err(rd, &w, "Value is not a scalar value");
	if (ynode_bool(v, ret) < 0)
		return rd_err(rd, &w, "Can't decode YAML scalar value");
	*present = true;
	return 0;
}

static int get_u64(struct rd *rd, const struct rl_where *base, const struct ynode *item,
		   const char *key, bool *present, uint64_t *ret)
{
	const struct ynode *v = ynode_map_get(item, key);

	*present = false;
	if (!v || ynode_is_null(v))
		return 0;
	struct rl_where w = sub_where(rd, base, IT_VALUE_FOR, key, v);
	if (v->kind != YN_SCALAR)
		return rd_err(rd, &w, "Value is not a scalar value");
	if (ynode_u64(v, ret) < 0)
		return rd_err(rd, &w, "Can't decode YAML scalar value");
	*present = true;
	return 0;
}

/* A sequence of scalars (list items, tags), copied into the loader's arena. */
static int get_seq(struct rd *rd, const struct rl_where *base, const struct ynode *item,
		   const char *key, bool optional, struct rl_item **ret, uint32_t *ret_n)
{
	const struct ynode *v = ynode_map_get(item, key);

	*ret = NULL;
	*ret_n = 0;
	if (!v) {
		if (optional)
			return 0;
		return rd_err(rd, base, "Item has no mapping for key '%s'", key);
	}
	struct rl_where w = sub_where(rd, base, IT_VALUE_FOR, key, v);
	if (optional && ynode_is_null(v))
		return 0;
	if (v->kind != YN_SEQ)
		return rd_err(rd, &w, "Value is not a sequence");
	struct rl_item *items =
		arena_alloc(&rd->l->arena, (v->seq.n ? v->seq.n : 1) * sizeof(*items));
	if (!items)
		return -ENOMEM;
	for (size_t i = 0; i < v->seq.n; i++) {
		const struct ynode *e = v->seq.items[i];
		if (e->kind != YN_SCALAR) {
			struct rl_where wi = sub_where(rd, &w, IT_LIST_ITEM, "", e);
			return rd_err(rd, &wi, "sequence value is not scalar");
		}
		/* strings in the YAML arena live as long as the loader */
		items[i] = (struct rl_item){.s = e->scalar.str, .len = (uint32_t)e->scalar.len};
	}
	*ret = items;
	*ret_n = (uint32_t)v->seq.n;
	return 0;
}

static int get_tags(struct rd *rd, const struct rl_where *base, const struct ynode *item,
		    const char ***ret, uint32_t *ret_n)
{
	struct rl_item *items;
	uint32_t n;
	int r = get_seq(rd, base, item, "tags", true, &items, &n);
	if (r < 0)
		return r;
	const char **tags = arena_alloc(&rd->l->arena, (n ? n : 1) * sizeof(*tags));
	if (!tags)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		tags[i] = items[i].s;
	*ret = tags;
	*ret_n = (uint32_t)rl_tags_sort_unique(tags, n);
	return 0;
}

/* A condition or output: the scalar's text with itself as origin; outputs are whitespace-trimmed. */
static int get_text(struct rd *rd, const struct ynode *node, const char *s, bool trim,
		    struct rl_text *ret)
{
	struct rl_tb b;
	size_t from = 0, len = s ? strlen(s) : 0;

	if (trim) {
		while (from < len && strchr(" \t\n\r\f\v", s[from]))
			from++;
		while (len > from && strchr(" \t\n\r\f\v", s[len - 1]))
			len--;
	}
	rl_tb_init(&b, RULES_MAX_CONDITION);
	if (len > from) {
		rl_tb_scalar(&b, rd->file, node, s + from, len - from);
		if (b.nsegs)
			b.segs[0].node_off = (uint32_t)from;
	}
	int r = rl_tb_freeze(&b, &rd->l->arena, ret);
	rl_tb_done(&b);
	return r;
}

static bool key_in(const char *k, const char *const *keys)
{
	for (; *keys; keys++)
		if (streq(k, *keys))
			return true;
	return false;
}

/* Warns about keys the item kind does not know (upstream: schema warnings). */
static int check_keys(struct rd *rd, const struct rl_where *base, const struct ynode *item,
		      const char *const *known)
{
	for (size_t i = 0; i < item->map.n; i++) {
		const struct ynode *k = item->map.pairs[i].key;
		const char *ks = ynode_str(k);
		if (ks && key_in(ks, known))
			continue;
		struct rl_where w = sub_where(rd, base, IT_VALUE_FOR, ks ? ks : "", k);
		int r = rd_warn(rd, LOAD_UNKNOWN_KEY, &w,
				"Unknown key '%s'. The key will be ignored.", ks ? ks : "?");
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- override: {key: append|replace} ---- */

enum { OV_MAX = 16 };

struct overrides {
	const char *append[OV_MAX];
	const char *replace[OV_MAX];
	unsigned nappend, nreplace;
	const struct ynode *node;
};

static bool in_set(const char *k, const char *const *set, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (streq(k, set[i]))
			return true;
	return false;
}

static int read_overrides(struct rd *rd, const struct rl_where *base, const struct ynode *item,
			  const char *const *can_append, const char *const *can_replace,
			  struct overrides *ov)
{
	const struct ynode *v = ynode_map_get(item, "override");

	*ov = (struct overrides){.node = v};
	if (!v)
		return 0;
	struct rl_where ow = sub_where(rd, base, IT_OVERRIDE, "", v);
	if (ynode_is_null(v))
		return 0;
	if (v->kind != YN_MAP)
		return rd_err(
			rd, &ow,
			"Value of 'override' must be a mapping of keys to 'append' or 'replace'");
	for (size_t i = 0; i < v->map.n; i++) {
		const struct ynode *kn = v->map.pairs[i].key, *vn = v->map.pairs[i].val;
		const char *k = ynode_str(kn) ? ynode_str(kn) : "";
		const char *op = ynode_str(vn);
		bool is_app = key_in(k, can_append), is_rep = key_in(k, can_replace);

		if (op && streq(op, "append")) {
			struct rl_where w = sub_where(rd, &ow, IT_OVERRIDE, k, kn);
			if (!is_app)
				return rd_err(
					rd, &w,
					"Key '%s' cannot be appended to, use 'replace' instead", k);
			if (ov->nappend < OV_MAX && !in_set(k, ov->append, ov->nappend))
				ov->append[ov->nappend++] = k;
		} else if (op && streq(op, "replace")) {
			struct rl_where w = sub_where(rd, &ow, IT_OVERRIDE, k, kn);
			if (!is_rep)
				return rd_err(rd, &w, "Key '%s' cannot be replaced", k);
			if (ov->nreplace < OV_MAX && !in_set(k, ov->replace, ov->nreplace))
				ov->replace[ov->nreplace++] = k;
		} else {
			struct rl_where w = sub_where(rd, &ow, IT_VALUE_FOR, k, vn);
			return rd_err(
				rd, &w,
				"Invalid override operation for key '%s': '%s'. Allowed values are: %s%s%s",
				k, op ? op : "(not a scalar)", is_app ? "append" : "",
				is_app && is_rep ? " " : "", is_rep ? "replace" : "");
		}
	}
	return 0;
}

/* ---- engine and plugin versions ---- */

/* "x.y.z" (a pre-release or build suffix is ignored) or, legacy, an integer N meaning 0.N.0. */
static bool parse_version(const char *s, uint32_t v[3])
{
	char *end;
	bool digits = *s != '\0';

	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			digits = false;
	if (digits) {
		unsigned long long n = strtoull(s, &end, 10);
		if (n > UINT32_MAX)
			return false;
		v[0] = 0;
		v[1] = (uint32_t)n;
		v[2] = 0;
		return true;
	}
	const char *p = s;
	for (int i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9')
			return false;
		unsigned long long n = strtoull(p, &end, 10);
		if (n > UINT32_MAX)
			return false;
		v[i] = (uint32_t)n;
		p = end;
		if (i < 2) {
			if (*p != '.')
				return false;
			p++;
		}
	}
	return *p == '\0' || *p == '-' || *p == '+';
}

static int cmp_version(const uint32_t a[3], const uint32_t b[3])
{
	for (int i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

static int read_engine_version(struct rd *rd, const struct ynode *item)
{
	static const char *const known[] = {"required_engine_version", NULL};
	static const uint32_t ours[3] = {ENGINE_VERSION_MAJOR, ENGINE_VERSION_MINOR,
					 ENGINE_VERSION_PATCH};
	struct rules_loader *l = rd->l;
	struct rl_where w;
	const struct ynode *n;
	const char *s;
	uint32_t v[3];
	int r;

	base_where(rd, &w, IT_REQ_ENGINE, "", item);
	if ((r = get_scalar(rd, &w, item, "required_engine_version", false, &n, &s)) < 0)
		return r;
	if (!parse_version(s, v))
		return rd_err(
			rd, &w,
			"Unable to parse engine version '%s' as a semver string. Expected \"x.y.z\" semver format.",
			s);
	if (v[0] != ours[0] || cmp_version(ours, v) < 0)
		return rl_msg(l, rd->file, LOAD_ERR_VALIDATE, &w,
			      "Rules require engine version %" PRIu32 ".%" PRIu32 ".%" PRIu32
			      ", but engine version is %s",
			      v[0], v[1], v[2], ENGINE_VERSION);
	if (!l->has_req_version || cmp_version(l->req_version, v) < 0) {
		memcpy(l->req_version, v, sizeof(v));
		l->has_req_version = true;
	}
	return check_keys(rd, &w, item, known);
}

/* Plugins whose fields and sources this build implements natively: any version is satisfied. */
static bool native_plugin(const char *name)
{
	static const char *const native[] = {
		"k8saudit",	"k8saudit-aks", "k8saudit-eks", "k8saudit-gke",
		"k8saudit-ovh", "json",		"container",	NULL};
	return key_in(name, native);
}

static int read_plugin_versions(struct rd *rd, const struct ynode *item)
{
	static const char *const known[] = {"required_plugin_versions", NULL};
	static const char *const entry_keys[] = {"name", "version", "alternatives", NULL};
	static const char *const alt_keys[] = {"name", "version", NULL};
	struct rules_loader *l = rd->l;
	const struct ynode *seq = ynode_map_get(item, "required_plugin_versions");
	struct rl_where w;
	int r;

	base_where(rd, &w, IT_REQ_PLUGINS, "", seq ? seq : item);
	if ((r = check_keys(rd, &w, item, known)) < 0)
		return r;
	if (!seq || seq->kind != YN_SEQ)
		return rd_err(rd, &w, "Value of required_plugin_versions must be a sequence");

	for (size_t i = 0; i < seq->seq.n; i++) {
		const struct ynode *e = seq->seq.items[i];
		struct rl_where ew = sub_where(rd, &w, IT_REQ_PLUGINS_ENTRY, "", e);
		const struct ynode *nn;
		const char *name, *ver;
		/* the alternatives, the entry itself first */
		const char *names[64], *vers[64];
		unsigned n = 0;

		if (e->kind != YN_MAP)
			return rd_err(rd, &ew, "Plugin version must be a mapping");
		if ((r = get_name(rd, &ew, e, "name", &name)) < 0)
			return r;
		ew.l[ew.n - 1].name = name;
		if ((r = get_scalar(rd, &ew, e, "version", false, &nn, &ver)) < 0)
			return r;
		if ((r = check_keys(rd, &ew, e, entry_keys)) < 0)
			return r;
		names[n] = name;
		vers[n++] = ver;

		const struct ynode *alts = ynode_map_get(e, "alternatives");
		if (alts && !ynode_is_null(alts)) {
			if (alts->kind != YN_SEQ)
				return rd_err(
					rd, &ew,
					"Value of plugin version alternatives must be a sequence");
			for (size_t j = 0; j < alts->seq.n; j++) {
				const struct ynode *a = alts->seq.items[j];
				struct rl_where aw = sub_where(rd, &ew, IT_REQ_PLUGINS_ALT, "", a);
				if (a->kind != YN_MAP)
					return rd_err(
						rd, &aw,
						"Plugin version alternative must be a mapping");
				if ((r = get_name(rd, &aw, a, "name", &name)) < 0)
					return r;
				aw.l[aw.n - 1].name = name;
				if ((r = get_scalar(rd, &aw, a, "version", false, &nn, &ver)) < 0)
					return r;
				if ((r = check_keys(rd, &aw, a, alt_keys)) < 0)
					return r;
				if (n == ARRAY_SIZE(names))
					return rd_err(rd, &aw,
						      "Too many plugin version alternatives");
				names[n] = name;
				vers[n++] = ver;
			}
		}

		bool met = false;
		for (unsigned j = 0; j < n; j++) {
			uint32_t v[3];
			if (!parse_version(vers[j], v) || !strchr(vers[j], '.'))
				return rl_msg(l, rd->file, LOAD_ERR_VALIDATE, &ew,
					      "Invalid required version '%s' for plugin '%s'",
					      vers[j], names[j]);
			for (unsigned k = 0; k < j; k++)
				if (streq(names[k], names[j]))
					return rl_msg(l, rd->file, LOAD_ERR_VALIDATE, &ew,
						      "Found duplicate plugin requirement '%s'",
						      names[j]);
			met |= native_plugin(names[j]);
		}
		if (!met) {
			char buf[1024];
			size_t len = 0;
			for (unsigned j = 0; j < n && len < sizeof(buf); j++) {
				int k = snprintf(buf + len, sizeof(buf) - len, "%s%s (>= %s)",
						 j ? ", " : "", names[j], vers[j]);
				if (k < 0)
					break;
				len += (size_t)k;
			}
			return rl_msg(l, rd->file, LOAD_ERR_VALIDATE, &ew,
				      "Plugin requirement not satisfied, must load one of: %s",
				      buf);
		}
	}
	return 0;
}

/* ---- lists and macros ---- */

/* [^()"'[:space:]=,]+ */
static bool valid_list_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (strchr("()\"'=, \t\n\r\f\v", *s))
			return false;
	return true;
}

/* [a-zA-Z]+[a-zA-Z0-9_]* */
static bool valid_macro_name(const char *s)
{
	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
		return false;
	for (; *s; s++) {
		bool alpha = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z');
		bool digit = *s >= '0' && *s <= '9';
		if (!alpha && !digit && *s != '_')
			return false;
	}
	return true;
}

static int read_append_flag(struct rd *rd, const struct rl_where *w, const struct ynode *item,
			    bool *ret)
{
	bool present;
	int r = get_bool(rd, w, item, "append", &present, ret);
	if (r < 0)
		return r;
	if (!present)
		*ret = false;
	if (*ret)
		return rd_warn(rd, LOAD_DEPRECATED_ITEM, w, WARNING_APPEND);
	return 0;
}

static int read_list(struct rd *rd, const struct ynode *item)
{
	static const char *const known[] = {"list", "items", "append", "override", NULL};
	static const char *const overridable[] = {"items", NULL};
	struct rl_where w;
	struct overrides ov;
	const char *name;
	bool append;
	int r;

	base_where(rd, &w, IT_LIST, "", item);
	if ((r = get_name(rd, &w, item, "list", &name)) < 0)
		return r;
	w.l[w.n - 1].name = name;
	if (!valid_list_name(name) &&
	    (r = rd_warn(rd, LOAD_INVALID_LIST_NAME, &w,
			 "List has an invalid name. List names should match a regular expression: "
			 "[^()\"'[:space:]=,]+")) < 0)
		return r;
	if ((r = check_keys(rd, &w, item, known)) < 0)
		return r;
	if ((r = read_append_flag(rd, &w, item, &append)) < 0)
		return r;
	if ((r = read_overrides(rd, &w, item, overridable, overridable, &ov)) < 0)
		return r;
	if (append && (ov.nappend || ov.nreplace))
		return rd_err(rd, &w, ERROR_OVERRIDE_APPEND);
	/* a list only has items: appending them appends the whole list, replacing them redefines it */
	append |= ov.nappend > 0;

	struct rl_list v = {.name = name, .ref = {rd->file, item}};
	if ((r = get_seq(rd, &w, item, "items", false, &v.items, &v.nitems)) < 0)
		return r;
	v.cap = v.nitems;
	if (append)
		return rl_list_append(rd->l, &v, &w);
	return rl_list_define(rd->l, &v);
}

static int read_macro(struct rd *rd, const struct ynode *item)
{
	static const char *const known[] = {"macro", "condition", "append", "override", NULL};
	static const char *const overridable[] = {"condition", NULL};
	struct rl_where w;
	struct overrides ov;
	const struct ynode *cn;
	const char *name, *cond;
	bool append;
	int r;

	base_where(rd, &w, IT_MACRO, "", item);
	if ((r = get_name(rd, &w, item, "macro", &name)) < 0)
		return r;
	w.l[w.n - 1].name = name;
	if (!valid_macro_name(name) &&
	    (r = rd_warn(
		     rd, LOAD_INVALID_MACRO_NAME, &w,
		     "Macro has an invalid name. Macro names should match a regular expression: "
		     "[a-zA-Z]+[a-zA-Z0-9_]*")) < 0)
		return r;
	if ((r = check_keys(rd, &w, item, known)) < 0)
		return r;
	if ((r = read_append_flag(rd, &w, item, &append)) < 0)
		return r;
	if ((r = read_overrides(rd, &w, item, overridable, overridable, &ov)) < 0)
		return r;
	if (append && (ov.nappend || ov.nreplace))
		return rd_err(rd, &w, ERROR_OVERRIDE_APPEND);
	append |= ov.nappend > 0;

	if ((r = get_scalar(rd, &w, item, "condition", false, &cn, &cond)) < 0)
		return r;
	struct rl_macro v = {.name = name, .ref = {rd->file, item}, .cond_ref = {rd->file, cn}};
	if ((r = get_text(rd, cn, cond, false, &v.cond)) < 0)
		return r;
	if (append)
		return rl_macro_append(rd->l, &v, &w);
	return rl_macro_define(rd->l, &v);
}

/* ---- exceptions ---- */

static int read_entry(struct rd *rd, const struct rl_where *w, const struct ynode *v,
		      struct rl_exc_entry *out)
{
	*out = (struct rl_exc_entry){0};
	if (v->kind == YN_SCALAR && !ynode_is_null(v)) {
		if (!*v->scalar.str) {
			struct rl_where vw = sub_where(rd, w, IT_VALUE_FOR, "", v);
			return rd_err(rd, &vw, "Value must be non-empty");
		}
		out->item = v->scalar.str;
		return 0;
	}
	if (v->kind != YN_SEQ)
		return 0; /* null (or a map): no value, as upstream */
	out->is_list = true;
	out->n = (uint32_t)v->seq.n;
	out->items = arena_zalloc(&rd->l->arena, (out->n ? out->n : 1) * sizeof(*out->items));
	if (!out->items)
		return -ENOMEM;
	for (uint32_t i = 0; i < out->n; i++) {
		struct rl_where ew = sub_where(rd, w, IT_EXCEPTION, "", v->seq.items[i]);
		int r = read_entry(rd, &ew, v->seq.items[i], &out->items[i]);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_exceptions(struct rd *rd, const struct rl_where *base, const struct ynode *item,
			   bool append, struct rl_exception **ret, uint32_t *ret_n)
{
	static const char *const known[] = {"name", "fields", "comps", "values", NULL};
	const struct ynode *exs = ynode_map_get(item, "exceptions");
	int r;

	*ret = NULL;
	*ret_n = 0;
	if (!exs || ynode_is_null(exs))
		return 0;
	struct rl_where xw = sub_where(rd, base, IT_EXCEPTIONS, "", exs);
	if (exs->kind != YN_SEQ)
		return rd_err(rd, &xw, "Rule exceptions must be a sequence");

	struct rl_exception *out =
		arena_zalloc(&rd->l->arena, (exs->seq.n ? exs->seq.n : 1) * sizeof(*out));
	if (!out)
		return -ENOMEM;
	for (size_t i = 0; i < exs->seq.n; i++) {
		const struct ynode *ex = exs->seq.items[i];
		struct rl_where ew = sub_where(rd, &xw, IT_EXCEPTION, "", ex);
		struct rl_exception *e = &out[i];
		const char *name;

		if (ex->kind != YN_MAP)
			return rd_err(rd, &ew, "Rule exception must be a map");
		if ((r = get_name(rd, &ew, ex, "name", &name)) < 0)
			return r;
		ew.l[ew.n - 1].name = name;
		for (size_t j = 0; j < i; j++)
			if (streq(out[j].name, name) &&
			    (r = rd_warn(rd, LOAD_EXCEPTION_NAME_NOT_UNIQUE, &ew,
					 "Multiple definitions of exception '%s' in the same rule",
					 name)) < 0)
				return r;
		if ((r = check_keys(rd, &ew, ex, known)) < 0)
			return r;
		e->name = name;
		e->ref = (struct rl_ref){rd->file, ex};

		const struct ynode *f = ynode_map_get(ex, "fields");
		if (!f && !append)
			return rd_err(rd, &ew, "Item has no mapping for key 'fields'");
		if (f) {
			struct rl_where fw = sub_where(rd, &ew, IT_VALUE_FOR, "fields", f);
			if ((r = read_entry(rd, &fw, f, &e->fields)) < 0)
				return r;
			e->has_fields = e->fields.is_list || e->fields.item;
		}
		const struct ynode *c = ynode_map_get(ex, "comps");
		if (c) {
			struct rl_where cw = sub_where(rd, &ew, IT_VALUE_FOR, "comps", c);
			if ((r = read_entry(rd, &cw, c, &e->comps)) < 0)
				return r;
			e->has_comps = e->comps.is_list || e->comps.item;
		}
		const struct ynode *vals = ynode_map_get(ex, "values");
		if (vals) {
			struct rl_where vw = sub_where(rd, &ew, IT_EXCEPTION_VALUES, "", vals);
			if (vals->kind != YN_SEQ)
				return rd_err(rd, &vw, "Rule exception values must be a sequence");
			e->nvalues = (uint32_t)vals->seq.n;
			e->values = arena_zalloc(&rd->l->arena, (e->nvalues ? e->nvalues : 1) *
									sizeof(*e->values));
			if (!e->values)
				return -ENOMEM;
			for (uint32_t j = 0; j < e->nvalues; j++) {
				struct rl_where vv = sub_where(rd, &vw, IT_EXCEPTION_VALUE, "",
							       vals->seq.items[j]);
				if ((r = read_entry(rd, &vv, vals->seq.items[j], &e->values[j])) <
				    0)
					return r;
			}
		} else if (append &&
			   (r = rd_warn(rd, LOAD_APPEND_NO_VALUES, &ew,
					"Overriding/appending exception with no values")) < 0) {
			return r;
		}
	}
	*ret = out;
	*ret_n = (uint32_t)exs->seq.n;
	return 0;
}

/* ---- rules ---- */

static const char *const rule_keys[] = {"rule",
					"condition",
					"output",
					"desc",
					"priority",
					"source",
					"enabled",
					"tags",
					"exceptions",
					"capture",
					"capture_duration",
					"warn_evttypes",
					"skip-if-unknown-filter",
					"append",
					"override",
					NULL};
static const char *const rule_can_append[] = {"condition", "output",	 "desc",
					      "tags",	   "exceptions", NULL};
static const char *const rule_can_replace[] = {"condition",
					       "output",
					       "desc",
					       "priority",
					       "tags",
					       "exceptions",
					       "enabled",
					       "warn_evttypes",
					       "skip-if-unknown-filter",
					       "capture",
					       "capture_duration",
					       NULL};

static int read_priority(struct rd *rd, const struct rl_where *w, const struct ynode *item,
			 enum prio *ret)
{
	const struct ynode *pn;
	const char *ps;
	int r = get_scalar(rd, w, item, "priority", false, &pn, &ps);
	if (r < 0)
		return r;
	int p = prio_from_string(ps);
	if (p < 0) {
		struct rl_where pw = sub_where(rd, w, IT_RULE_PRIORITY, "", pn);
		return rd_err(rd, &pw, "Invalid priority");
	}
	*ret = (enum prio)p;
	return 0;
}

/* Reads key (present in the item) into the update. */
static int read_update_key(struct rd *rd, const struct rl_where *w, const struct ynode *item,
			   const char *key, bool append, struct rl_rule_update *u)
{
	const struct ynode *n;
	const char *s;
	bool present;
	int r = 0;

	if (streq(key, "condition") || streq(key, "output")) {
		bool is_cond = streq(key, "condition");
		if ((r = get_scalar(rd, w, item, key, false, &n, &s)) < 0)
			return r;
		r = get_text(rd, n, s, !is_cond, is_cond ? &u->cond : &u->output);
		if (is_cond)
			u->has_cond = true;
		else
			u->has_output = true;
	} else if (streq(key, "desc")) {
		if ((r = get_scalar(rd, w, item, key, false, &n, &u->desc)) < 0)
			return r;
		u->has_desc = true;
	} else if (streq(key, "tags")) {
		if ((r = get_tags(rd, w, item, &u->tags, &u->ntags)) < 0)
			return r;
		u->has_tags = true;
	} else if (streq(key, "exceptions")) {
		/* appended exceptions may name an existing one and bring only values; replaced ones are whole */
		if ((r = read_exceptions(rd, w, item, append, &u->exc, &u->nexc)) < 0)
			return r;
		u->has_exc = true;
	} else if (streq(key, "priority")) {
		if ((r = read_priority(rd, w, item, &u->priority)) < 0)
			return r;
		u->has_priority = true;
	} else if (streq(key, "enabled")) {
		r = get_bool(rd, w, item, key, &present, &u->enabled);
		u->has_enabled = present;
	} else if (streq(key, "capture")) {
		r = get_bool(rd, w, item, key, &present, &u->capture);
		u->has_capture = present;
	} else if (streq(key, "capture_duration")) {
		r = get_u64(rd, w, item, key, &present, &u->capture_duration);
		u->has_capture_duration = present;
	} else if (streq(key, "warn_evttypes")) {
		r = get_bool(rd, w, item, key, &present, &u->warn_evttypes);
		u->has_warn = present;
	} else if (streq(key, "skip-if-unknown-filter")) {
		r = get_bool(rd, w, item, key, &present, &u->skip_unknown);
		u->has_skip = present;
	}
	return r;
}

static int read_rule_overrides(struct rd *rd, const struct rl_where *w, const struct ynode *item,
			       const char *name, const struct overrides *ov)
{
	const char *expected[32];
	unsigned nexp = 0;
	int r;

	/* every overridable key the item holds must be listed under override, and the reverse */
	for (size_t i = 0; i < item->map.n; i++) {
		const char *k = ynode_str(item->map.pairs[i].key);
		if (!k || !(key_in(k, rule_can_append) || key_in(k, rule_can_replace)))
			continue;
		if (!in_set(k, expected, nexp) && nexp < ARRAY_SIZE(expected))
			expected[nexp++] = k;
	}
	for (unsigned i = 0; i < nexp; i++)
		if (!in_set(expected[i], ov->append, ov->nappend) &&
		    !in_set(expected[i], ov->replace, ov->nreplace))
			return rd_err(
				rd, w,
				"Unexpected key '%s': no corresponding entry under 'override' is defined.",
				expected[i]);
	for (unsigned i = 0; i < ov->nappend; i++)
		if (!in_set(ov->append[i], expected, nexp))
			return rd_err(
				rd, w,
				"An append override for '%s' was specified but '%s' is not defined",
				ov->append[i], ov->append[i]);
	for (unsigned i = 0; i < ov->nreplace; i++)
		if (!in_set(ov->replace[i], expected, nexp))
			return rd_err(
				rd, w,
				"A replace override for '%s' was specified but '%s' is not defined",
				ov->replace[i], ov->replace[i]);

	if (ov->nappend) {
		struct rl_rule_update u = {.name = name, .ref = {rd->file, item}};
		for (const char *const *k = rule_can_append; *k; k++)
			if (in_set(*k, ov->append, ov->nappend) &&
			    (r = read_update_key(rd, w, item, *k, true, &u)) < 0)
				return r;
		if ((r = rl_rule_append(rd->l, &u, w)) < 0)
			return r;
	}
	if (ov->nreplace) {
		struct rl_rule_update u = {.name = name, .ref = {rd->file, item}};
		for (const char *const *k = rule_can_replace; *k; k++)
			if (in_set(*k, ov->replace, ov->nreplace) &&
			    (r = read_update_key(rd, w, item, *k, false, &u)) < 0)
				return r;
		if ((r = rl_rule_replace(rd->l, &u, w)) < 0)
			return r;
	}
	return 0;
}

static int read_rule(struct rd *rd, const struct ynode *item)
{
	struct rl_where w;
	struct overrides ov;
	const char *name;
	bool append, present;
	int r;

	base_where(rd, &w, IT_RULE, "", item);
	if ((r = get_name(rd, &w, item, "rule", &name)) < 0)
		return r;
	w.l[w.n - 1].name = name;
	if ((r = check_keys(rd, &w, item, rule_keys)) < 0)
		return r;
	if ((r = read_append_flag(rd, &w, item, &append)) < 0)
		return r;
	if ((r = read_overrides(rd, &w, item, rule_can_append, rule_can_replace, &ov)) < 0)
		return r;
	if (append && (ov.nappend || ov.nreplace))
		return rd_err(rd, &w, ERROR_OVERRIDE_APPEND);

	if (ov.nappend || ov.nreplace)
		return read_rule_overrides(rd, &w, item, name, &ov);

	if (append) {
		/* legacy append: only condition and exceptions are read, the rest is ignored as upstream */
		struct rl_rule_update u = {.name = name, .ref = {rd->file, item}};
		if (ynode_map_get(item, "condition") &&
		    (r = read_update_key(rd, &w, item, "condition", true, &u)) < 0)
			return r;
		if (ynode_map_get(item, "exceptions") &&
		    (r = read_update_key(rd, &w, item, "exceptions", true, &u)) < 0)
			return r;
		return rl_rule_append(rd->l, &u, &w);
	}

	if (!ynode_map_get(item, "condition") && !ynode_map_get(item, "output") &&
	    !ynode_map_get(item, "desc") && !ynode_map_get(item, "priority")) {
		/* the deprecated standalone form: only toggles an existing rule */
		bool enabled = true;
		if ((r = get_bool(rd, &w, item, "enabled", &present, &enabled)) < 0)
			return r;
		if (!present && !ynode_map_get(item, "enabled"))
			return rd_err(rd, &w, "Item has no mapping for key 'enabled'");
		if ((r = rd_warn(rd, LOAD_DEPRECATED_ITEM, &w, WARNING_ENABLED)) < 0)
			return r;
		if (!present)
			return 0;
		return rl_rule_enable(rd->l, name, enabled, &w);
	}

	struct rl_rule v = {
		.name = name,
		.enabled = true,
		.warn_evttypes = true,
		.source = "syscall",
		.ref = {rd->file, item},
	};
	const struct ynode *cn, *on, *dn, *sn;
	const char *cond, *output, *src;
	if ((r = get_scalar(rd, &w, item, "condition", false, &cn, &cond)) < 0 ||
	    (r = get_scalar(rd, &w, item, "output", false, &on, &output)) < 0 ||
	    (r = get_scalar(rd, &w, item, "desc", false, &dn, &v.desc)) < 0 ||
	    (r = read_priority(rd, &w, item, &v.priority)) < 0)
		return r;
	if ((r = get_text(rd, cn, cond, false, &v.cond)) < 0 ||
	    (r = get_text(rd, on, output, true, &v.output)) < 0)
		return r;
	if ((r = get_scalar(rd, &w, item, "source", true, &sn, &src)) < 0)
		return r;
	if (src && *src)
		v.source = src;
	if ((r = get_bool(rd, &w, item, "enabled", &present, &v.enabled)) < 0 ||
	    (r = get_bool(rd, &w, item, "warn_evttypes", &present, &v.warn_evttypes)) < 0 ||
	    (r = get_bool(rd, &w, item, "skip-if-unknown-filter", &present, &v.skip_unknown)) < 0 ||
	    (r = get_bool(rd, &w, item, "capture", &present, &v.capture)) < 0 ||
	    (r = get_u64(rd, &w, item, "capture_duration", &present, &v.capture_duration)) < 0)
		return r;
	if ((r = get_tags(rd, &w, item, &v.tags, &v.ntags)) < 0)
		return r;
	if ((r = read_exceptions(rd, &w, item, false, &v.exc, &v.nexc)) < 0)
		return r;
	return rl_rule_define(rd->l, &v, &w);
}

/* ---- items and documents ---- */

static int read_item(struct rd *rd, const struct ynode *item)
{
	struct rl_where w;

	if (++rd->l->nitems > RULES_MAX_ITEMS) {
		base_where(rd, &w, IT_RULES_CONTENT_ITEM, "", item);
		return rd_err(rd, &w, "Too many items (limit %u)", RULES_MAX_ITEMS);
	}
	if (item->kind != YN_MAP) {
		base_where(rd, &w, IT_RULES_CONTENT_ITEM, "", item);
		return rd_err(
			rd, &w,
			"Unexpected element type. Each element should be a yaml associative array.");
	}
	if (ynode_map_get(item, "required_engine_version"))
		return read_engine_version(rd, item);
	if (ynode_map_get(item, "required_plugin_versions"))
		return read_plugin_versions(rd, item);
	if (ynode_map_get(item, "list"))
		return read_list(rd, item);
	if (ynode_map_get(item, "macro"))
		return read_macro(rd, item);
	if (ynode_map_get(item, "rule"))
		return read_rule(rd, item);
	base_where(rd, &w, IT_RULES_CONTENT_ITEM, "", item);
	return rd_warn(rd, LOAD_UNKNOWN_ITEM, &w, "Unknown top level item");
}

int rl_read_file(struct rules_loader *l, uint32_t file)
{
	struct rl_file *f = &l->files[file];
	struct rd rd = {.l = l, .file = file};
	struct yaml_limits lim = {.max_depth = RULES_MAX_YAML_DEPTH,
				  .max_nodes = RULES_MAX_YAML_NODES};
	struct rl_where w = {0};
	char err[512] = "";
	int r;

	r = yaml_parse(f->content, f->len, &lim, &f->ys, err, sizeof(err));
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		/* "LINE:COL: problem": turn the prefix into a position */
		unsigned line = 0, col = 0;
		int used = 0;
		const char *msg = err;
		if (sscanf(err, "%u:%u: %n", &line, &col, &used) == 2 && used > 0)
			msg = err + used;
		struct ynode at = {.line = line, .col = col};
		rl_where_push(&w, IT_RULES_CONTENT, "", (int32_t)file, 0);
		if (line)
			rl_where_push(&w, IT_RULES_CONTENT, "", (int32_t)file,
				      rl_node_offset(f, &at));
		return rl_msg(l, file, LOAD_ERR_YAML_PARSE, &w, "%s", msg);
	}

	for (size_t d = 0; d < f->ys->ndocs; d++) {
		const struct ynode *doc = f->ys->docs[d];
		if (!doc || ynode_is_null(doc))
			continue;
		if (doc->kind != YN_SEQ) {
			w = (struct rl_where){0};
			rl_where_push(&w, IT_RULES_CONTENT, "", (int32_t)file, 0);
			rl_where_node(l, &w, IT_RULES_CONTENT, "", file, doc);
			return rl_msg(l, file, LOAD_ERR_YAML_VALIDATE, &w,
				      "Rules content is not yaml array of objects");
		}
		for (size_t i = 0; i < doc->seq.n; i++) {
			const struct ynode *item = doc->seq.items[i];
			if (ynode_is_null(item))
				continue;
			if ((r = read_item(&rd, item)) < 0)
				return r;
		}
	}
	return 0;
}
