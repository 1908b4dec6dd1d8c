/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ka.* fields (k8saudit plugin), jevt.* / json.* fields (json plugin) and the k8s_audit source definition.
 *
 * Every extractor works on the event's cJSON tree: strings are borrowed from it, anything computed (compact
 * JSON of non-string values, joins, image repository cuts, list arrays) goes to the per-event arena. Top-level
 * keys are indexed once per event (k8s_cache, filled at parse time); requestObject.spec and its container lists
 * are looked up once and remembered in the same cache.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/macro.h"
#include "falco/engine/fields_generic.h"
#include "k8saudit_internal.h"

/* ---- what each ka.* field does (fld_def.data points to one of these) ---- */

enum ka_op {
	KA_PATH,	    /* scalar at root[key].path... */
	KA_PATH_LIST,	    /* elements of the array at root[key].path...; [N] picks element N */
	KA_URI_PARAM,	    /* first value of query parameter [k] of requestURI */
	KA_TARGET_POD_NAME, /* responseObject.metadata.name for pods without subresource */
	KA_SUBJECT_NAMES,   /* requestObject.subjects names, filtered by kind */
	KA_RULES_FLAT,	    /* requestObject.rules[*].<key> flattened; [N] picks rule N */
	KA_CTR,		    /* per-container attribute of one of the three container lists */
	KA_CTR_FIRST,	    /* deprecated: first container's image / repository */
	KA_CTR_ANY_PRIV,    /* deprecated: "true" when any container is privileged */
	KA_VOLUMES,	    /* per-volume attribute of requestObject.spec.volumes */
	KA_VOLUME_HOSTPATH, /* deprecated: "true" when a hostPath matches [path] (trailing * = prefix) */
	KA_CONST_TRUE,	    /* deprecated ka.req.binding.subject.has_name: always "true" */
};

enum ka_ctr_attr {
	CA_NAME,
	CA_IMAGE,
	CA_IMAGE_REPO,
	CA_COMMAND,
	CA_ARGS,
	CA_PRIVILEGED,
	CA_ALLOW_PRIV_ESC,
	CA_READ_ONLY_FS,
	CA_RUN_AS_USER,
	CA_RUN_AS_GROUP,
	CA_PROC_MOUNT,
	CA_ADD_CAPS,
	CA_EFF_RUN_AS_USER,
	CA_EFF_RUN_AS_GROUP,
	CA_HOST_PORT,
};

enum ka_subject_kind { SK_USER, SK_SA, SK_SA_NS, SK_GROUP };
enum ka_volume_attr { VA_HOSTPATH, VA_FLEX_DRIVER, VA_TYPE };

struct ka_spec {
	uint8_t op;
	uint8_t root;	     /* enum k8s_root_key */
	uint8_t sub;	     /* enum k8s_sub_key (container list) */
	uint8_t attr;	     /* enum ka_ctr_attr / ka_subject_kind / ka_volume_attr */
	const char *path[4]; /* keys below the root key, NULL-terminated */
};

/* ---- small helpers ---- */

static inline const struct k8s_evt *kevt(const struct fld_ctx *ctx)
{
	return ctx->evt->data;
}

/* The event's index; events built by hand (no cache) get a temporary one in the arena. */
static struct k8s_cache *cache_of(struct fld_ctx *ctx)
{
	const struct k8s_evt *ke = kevt(ctx);

	if (ke->cache)
		return ke->cache;
	struct k8s_cache *c = arena_alloc(ctx->arena, sizeof(*c));
	if (c)
		k8s_index_root(c, ke->obj);
	return c;
}

static const cJSON *get(const cJSON *obj, const char *key)
{
	if (!obj || !cJSON_IsObject(obj))
		return NULL;
	for (const cJSON *c = obj->child; c; c = c->next)
		if (c->string && streq(c->string, key))
			return c;
	return NULL;
}

static const cJSON *get_path(const cJSON *v, const char *const *path)
{
	for (; v && *path; path++)
		v = get(v, *path);
	return v;
}

static const cJSON *sub(struct k8s_cache *c, enum k8s_sub_key k)
{
	static const char *const ctr_keys[] = {
		[KS_CONTAINERS] = "containers",
		[KS_INIT_CONTAINERS] = "initContainers",
		[KS_EPHEMERAL_CONTAINERS] = "ephemeralContainers",
		[KS_VOLUMES] = "volumes",
	};

	if (c->have & (1u << k))
		return c->sub[k];
	const cJSON *v;
	switch (k) {
	case KS_SPEC:
		v = get(c->root[KR_REQUEST_OBJECT], "spec");
		break;
	case KS_POD_SECCTX:
		v = get(sub(c, KS_SPEC), "securityContext");
		break;
	default:
		v = get(sub(c, KS_SPEC), ctr_keys[k]);
		break;
	}
	c->sub[k] = v;
	c->have |= 1u << k;
	return v;
}

/* A JSON value as a field string: strings are borrowed, anything else is rendered compact into the arena. */
static int json_to_str(struct fld_ctx *ctx, const cJSON *v, struct value *out)
{
	if (cJSON_IsString(v) && v->valuestring) {
		*out = (struct value){.type = FT_STRING,
				      .len = (uint32_t)strlen(v->valuestring),
				      .str = v->valuestring};
		return 1;
	}
	size_t n;
	char *s = json_render(ctx->arena, v, false, &n);
	if (!s)
		return -ENOMEM;
	*out = (struct value){.type = FT_STRING, .len = (uint32_t)n, .str = s};
	return 1;
}

static int set_cstr(struct value *out, const char *s, size_t n)
{
	*out = (struct value){.type = FT_STRING, .len = (uint32_t)n, .str = s};
	return 1;
}

/* List values grow in the arena (doubling, old arrays are simply left behind until the reset). */
struct vlist {
	struct fld_ctx *ctx;
	struct value *items;
	uint32_t n, cap;
	int err;
};

static struct value *vlist_push(struct vlist *l)
{
	if (l->err)
		return NULL;
	if (l->n == l->cap) {
		uint32_t cap = l->cap ? l->cap * 2 : 8;
		struct value *items = arena_alloc(l->ctx->arena, cap * sizeof(*items));
		if (!items) {
			l->err = -ENOMEM;
			return NULL;
		}
		if (l->n)
			memcpy(items, l->items, l->n * sizeof(*items));
		l->items = items;
		l->cap = cap;
	}
	return &l->items[l->n++];
}

static void vlist_push_json(struct vlist *l, const cJSON *v)
{
	struct value *slot = vlist_push(l);
	if (slot) {
		int r = json_to_str(l->ctx, v, slot);
		if (r < 0)
			l->err = r;
	}
}

static void vlist_push_str(struct vlist *l, const char *s, size_t n)
{
	struct value *slot = vlist_push(l);
	if (slot)
		set_cstr(slot, s, n);
}

/*
 * An empty list counts as "no value", as upstream. With FLD_ARG_LIST_INDEX, name[N] is a scalar for the
 * engine (one element: the value of container N, volume N...), so the single item is returned as is.
 */
static int vlist_finish(struct vlist *l, const struct fld_inst *fi, struct value *out)
{
	if (l->err)
		return l->err;
	if (l->n == 0)
		return 0;
	if (fi && fi->arg && (fi->def->flags & FLD_ARG_LIST_INDEX))
		*out = l->items[0];
	else
		*out = (struct value){
			.type = FT_STRING, .is_list = true, .len = l->n, .items = l->items};
	return 1;
}

/* The [N] of a list field, or -1. */
static int64_t index_of(const struct fld_inst *fi)
{
	return fi->arg ? fi->arg_num : -1;
}

/* Element idx of an array (idx < 0: the array itself is iterated by the caller). */
static const cJSON *array_at(const cJSON *arr, int64_t idx)
{
	if (!cJSON_IsArray(arr))
		return NULL;
	const cJSON *c = arr->child;
	for (int64_t i = 0; c && i < idx; i++)
		c = c->next;
	return c;
}

/* ---- individual extractors ---- */

static int extract_path_list(struct fld_ctx *ctx, const struct fld_inst *fi, const cJSON *arr,
			     struct value *out)
{
	struct vlist l = {.ctx = ctx};
	int64_t idx = index_of(fi);

	if (!cJSON_IsArray(arr))
		return 0;
	if (idx >= 0) {
		const cJSON *e = array_at(arr, idx);
		if (e)
			vlist_push_json(&l, e);
	} else
		for (const cJSON *e = arr->child; e; e = e->next)
			vlist_push_json(&l, e);
	return vlist_finish(&l, fi, out);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes a query component like Go's url.QueryUnescape ('+' is a space). Returns length or -EINVAL. */
static ssize_t query_unescape(const char *s, size_t n, char *dst)
{
	size_t o = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int hi, lo;
			if (i + 2 >= n || (hi = hexval(s[i + 1])) < 0 ||
			    (lo = hexval(s[i + 2])) < 0)
				return -EINVAL;
			dst[o++] = (char)(hi << 4 | lo);
			i += 2;
		} else
			dst[o++] = s[i] == '+' ? ' ' : s[i];
	}
	dst[o] = '\0';
	return (ssize_t)o;
}

static int extract_uri_param(struct fld_ctx *ctx, const struct fld_inst *fi, const cJSON *uri,
			     struct value *out)
{
	if (!cJSON_IsString(uri) || !fi->arg)
		return 0;
	const char *q = strchr(uri->valuestring, '?');
	if (!q)
		return 0;
	q++;
	size_t qlen = strcspn(q, "#");
	/* Go rejects ';' separators since 1.17: the whole query is then an error */
	if (memchr(q, ';', qlen))
		return 0;
	char *buf = arena_alloc(ctx->arena, qlen + 1);
	if (!buf)
		return -ENOMEM;
	const char *found = NULL;
	ssize_t found_len = 0;
	for (const char *p = q, *end = q + qlen; p < end;) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *pe = amp ? amp : end;
		const char *eq = memchr(p, '=', (size_t)(pe - p));
		const char *ke = eq ? eq : pe;

		if (pe > p) {
			ssize_t kl = query_unescape(p, (size_t)(ke - p), buf);
			if (kl < 0)
				return 0;
			if (!found && (size_t)kl == fi->arg_len &&
			    memcmp(buf, fi->arg, (size_t)kl) == 0) {
				found = eq ? eq + 1 : pe;
				found_len = pe - found;
			}
			if (eq) {
				/* validate the value too: a bad escape anywhere fails the whole query */
				if (query_unescape(eq + 1, (size_t)(pe - eq - 1), buf) < 0)
					return 0;
			}
		}
		p = amp ? amp + 1 : end;
	}
	if (!found)
		return 0;
	ssize_t vl = query_unescape(found, (size_t)found_len, buf);
	if (vl < 0)
		return 0;
	return set_cstr(out, buf, (size_t)vl);
}

static int extract_subject_names(struct fld_ctx *ctx, struct k8s_cache *c,
				 enum ka_subject_kind kind, struct value *out)
{
	static const char *const kinds[] = {[SK_USER] = "User",
					    [SK_SA] = "ServiceAccount",
					    [SK_SA_NS] = "ServiceAccount",
					    [SK_GROUP] = "Group"};
	const cJSON *subjects = get(c->root[KR_REQUEST_OBJECT], "subjects");
	struct vlist l = {.ctx = ctx};

	if (!cJSON_IsArray(subjects))
		return 0;
	for (const cJSON *s = subjects->child; s; s = s->next) {
		const cJSON *k = get(s, "kind"), *name = get(s, "name");
		if (!cJSON_IsString(k) || !streq(k->valuestring, kinds[kind]) ||
		    !cJSON_IsString(name))
			continue;
		if (kind == SK_SA_NS) {
			const cJSON *ns = get(s, "namespace");
			const char *nss = cJSON_IsString(ns) ? ns->valuestring : "";
			size_t a = strlen(nss), b = strlen(name->valuestring);
			char *buf = arena_alloc(ctx->arena, a + b + 2);
			if (!buf)
				return -ENOMEM;
			memcpy(buf, nss, a);
			buf[a] = ':';
			memcpy(buf + a + 1, name->valuestring, b + 1);
			vlist_push_str(&l, buf, a + b + 1);
		} else
			vlist_push_str(&l, name->valuestring, strlen(name->valuestring));
	}
	return vlist_finish(&l, NULL, out);
}

static int extract_rules_flat(struct fld_ctx *ctx, const struct fld_inst *fi, struct k8s_cache *c,
			      const char *key, struct value *out)
{
	const cJSON *rules = get(c->root[KR_REQUEST_OBJECT], "rules");
	struct vlist l = {.ctx = ctx};
	int64_t idx = index_of(fi);

	if (!cJSON_IsArray(rules))
		return 0;
	for (const cJSON *r = idx >= 0 ? array_at(rules, idx) : rules->child; r; r = r->next) {
		const cJSON *arr = get(r, key);
		if (cJSON_IsArray(arr))
			for (const cJSON *e = arr->child; e; e = e->next)
				vlist_push_json(&l, e);
		if (idx >= 0)
			break;
	}
	return vlist_finish(&l, fi, out);
}

/* "registry/x:tag@sha" → cut at the first ':' then at '@' (so "reg:5000/x" gives "reg", as upstream). */
static size_t image_repo_len(const char *image)
{
	size_t n = strcspn(image, ":");
	const char *at = memchr(image, '@', n);
	return at ? (size_t)(at - image) : n;
}

static void push_repo(struct vlist *l, const cJSON *image)
{
	if (!cJSON_IsString(image)) {
		if (image)
			vlist_push_json(l, image);
		return;
	}
	const char *s = image->valuestring;
	size_t n = image_repo_len(s);
	if (s[n] == '\0') {
		vlist_push_str(l, s, n);
		return;
	}
	char *cut = arena_strndup(l->ctx->arena, s, n);
	if (!cut) {
		l->err = -ENOMEM;
		return;
	}
	vlist_push_str(l, cut, n);
}

/* Joins the elements of an array with spaces (command, args). */
static void push_joined(struct vlist *l, const cJSON *arr)
{
	struct vlist parts = {.ctx = l->ctx};
	size_t total = 0, o = 0;

	if (!cJSON_IsArray(arr)) {
		vlist_push_json(l, arr);
		return;
	}
	/* element strings first (borrowed or rendered), then one arena buffer for the join */
	for (const cJSON *e = arr->child; e; e = e->next)
		vlist_push_json(&parts, e);
	if (parts.err) {
		l->err = parts.err;
		return;
	}
	for (uint32_t i = 0; i < parts.n; i++)
		total += parts.items[i].len + 1;
	char *buf = arena_alloc(l->ctx->arena, total + 1);
	if (!buf) {
		l->err = -ENOMEM;
		return;
	}
	for (uint32_t i = 0; i < parts.n; i++) {
		if (i)
			buf[o++] = ' ';
		memcpy(buf + o, parts.items[i].str, parts.items[i].len);
		o += parts.items[i].len;
	}
	buf[o] = '\0';
	vlist_push_str(l, buf, o);
}

static void push_ctr_attr(struct vlist *l, struct k8s_cache *c, const cJSON *ctr,
			  enum ka_ctr_attr attr)
{
	static const char *const secctx_keys[] = {
		[CA_PRIVILEGED] = "privileged",
		[CA_ALLOW_PRIV_ESC] = "allowPrivilegeEscalation",
		[CA_READ_ONLY_FS] = "readOnlyRootFilesystem",
		[CA_RUN_AS_USER] = "runAsUser",
		[CA_RUN_AS_GROUP] = "runAsGroup",
		[CA_PROC_MOUNT] = "procMount",
		[CA_EFF_RUN_AS_USER] = "runAsUser",
		[CA_EFF_RUN_AS_GROUP] = "runAsGroup",
	};
	const cJSON *v;

	switch (attr) {
	case CA_NAME:
	case CA_IMAGE:
		v = get(ctr, attr == CA_NAME ? "name" : "image");
		if (v)
			vlist_push_json(l, v);
		break;
	case CA_IMAGE_REPO:
		push_repo(l, get(ctr, "image"));
		break;
	case CA_COMMAND:
	case CA_ARGS:
		v = get(ctr, attr == CA_COMMAND ? "command" : "args");
		if (v)
			push_joined(l, v);
		break;
	case CA_PRIVILEGED:
	case CA_ALLOW_PRIV_ESC:
	case CA_READ_ONLY_FS:
	case CA_RUN_AS_USER:
	case CA_RUN_AS_GROUP:
	case CA_PROC_MOUNT:
		/* containers without the key are skipped */
		v = get(get(ctr, "securityContext"), secctx_keys[attr]);
		if (v)
			vlist_push_json(l, v);
		break;
	case CA_ADD_CAPS:
		v = get(get(get(ctr, "securityContext"), "capabilities"), "add");
		if (cJSON_IsArray(v)) {
			for (const cJSON *e = v->child; e; e = e->next)
				vlist_push_json(l, e);
		} else if (v)
			vlist_push_json(l, v);
		break;
	case CA_EFF_RUN_AS_USER:
	case CA_EFF_RUN_AS_GROUP:
		/* the container's value, else the pod's, else root */
		v = get(get(ctr, "securityContext"), secctx_keys[attr]);
		if (!v)
			v = get(sub(c, KS_POD_SECCTX), secctx_keys[attr]);
		if (v)
			vlist_push_json(l, v);
		else
			vlist_push_str(l, "0", 1);
		break;
	case CA_HOST_PORT:
		v = get(ctr, "ports");
		if (!cJSON_IsArray(v))
			break;
		for (const cJSON *p = v->child; p; p = p->next) {
			const cJSON *port = get(p, "hostPort");
			if (!port)
				port = get(p, "containerPort");
			if (port)
				vlist_push_json(l, port);
		}
		break;
	}
}

static int extract_ctr(struct fld_ctx *ctx, const struct fld_inst *fi, struct k8s_cache *c,
		       const struct ka_spec *sp, struct value *out)
{
	const cJSON *list = sub(c, (enum k8s_sub_key)sp->sub);
	struct vlist l = {.ctx = ctx};
	int64_t idx = index_of(fi);

	if (!cJSON_IsArray(list))
		return 0;
	for (const cJSON *ctr = idx >= 0 ? array_at(list, idx) : list->child; ctr;
	     ctr = ctr->next) {
		push_ctr_attr(&l, c, ctr, (enum ka_ctr_attr)sp->attr);
		if (idx >= 0)
			break;
	}
	return vlist_finish(&l, fi, out);
}

static int extract_volumes(struct fld_ctx *ctx, const struct fld_inst *fi, struct k8s_cache *c,
			   enum ka_volume_attr attr, struct value *out)
{
	const cJSON *vols = sub(c, KS_VOLUMES);
	struct vlist l = {.ctx = ctx};
	int64_t idx = index_of(fi);

	if (!cJSON_IsArray(vols))
		return 0;
	for (const cJSON *v = idx >= 0 ? array_at(vols, idx) : vols->child; v; v = v->next) {
		const cJSON *x;
		switch (attr) {
		case VA_HOSTPATH:
			if ((x = get(get(v, "hostPath"), "path")))
				vlist_push_json(&l, x);
			break;
		case VA_FLEX_DRIVER:
			if ((x = get(get(v, "flexVolume"), "driver")))
				vlist_push_json(&l, x);
			break;
		case VA_TYPE:
			/* every key but "name" names the volume's type */
			if (cJSON_IsObject(v))
				for (x = v->child; x; x = x->next)
					if (x->string && !streq(x->string, "name"))
						vlist_push_str(&l, x->string, strlen(x->string));
			break;
		}
		if (idx >= 0)
			break;
	}
	return vlist_finish(&l, fi, out);
}

static int extract_volume_hostpath(const struct fld_inst *fi, struct k8s_cache *c,
				   struct value *out)
{
	const cJSON *vols = sub(c, KS_VOLUMES);

	if (!cJSON_IsArray(vols) || !fi->arg)
		return 0;
	bool prefix = fi->arg_len > 0 && fi->arg[fi->arg_len - 1] == '*';
	size_t plen = prefix ? fi->arg_len - 1 : fi->arg_len;
	for (const cJSON *v = vols->child; v; v = v->next) {
		const cJSON *p = get(get(v, "hostPath"), "path");
		if (!cJSON_IsString(p))
			continue;
		size_t n = strlen(p->valuestring);
		if ((prefix && n >= plen && memcmp(p->valuestring, fi->arg, plen) == 0) ||
		    (n == fi->arg_len && memcmp(p->valuestring, fi->arg, n) == 0))
			return set_cstr(out, "true", 4);
	}
	return set_cstr(out, "false", 5);
}

static int ka_extract(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct ka_spec *sp = (const struct ka_spec *)fi->def->data;
	struct k8s_cache *c = cache_of(ctx);
	const cJSON *v;

	if (!c)
		return -ENOMEM;
	/* events without an auditID are not audit events: no ka.* field applies */
	if (!c->root[KR_AUDIT_ID])
		return 0;

	switch ((enum ka_op)sp->op) {
	case KA_PATH:
		v = get_path(c->root[sp->root], sp->path);
		return v ? json_to_str(ctx, v, out) : 0;
	case KA_PATH_LIST:
		return extract_path_list(ctx, fi, get_path(c->root[sp->root], sp->path), out);
	case KA_URI_PARAM:
		return extract_uri_param(ctx, fi, c->root[KR_REQUEST_URI], out);
	case KA_TARGET_POD_NAME: {
		const cJSON *res = get(c->root[KR_OBJECT_REF], "resource");
		if (!cJSON_IsString(res) || !streq(res->valuestring, "pods") ||
		    get(c->root[KR_OBJECT_REF], "subresource"))
			return 0;
		v = get(get(c->root[KR_RESPONSE_OBJECT], "metadata"), "name");
		return v ? json_to_str(ctx, v, out) : 0;
	}
	case KA_SUBJECT_NAMES:
		return extract_subject_names(ctx, c, (enum ka_subject_kind)sp->attr, out);
	case KA_RULES_FLAT:
		return extract_rules_flat(ctx, fi, c, sp->path[0], out);
	case KA_CTR:
		return extract_ctr(ctx, fi, c, sp, out);
	case KA_CTR_FIRST: {
		const cJSON *image = get(array_at(sub(c, KS_CONTAINERS), 0), "image");
		if (!image)
			return 0;
		if (sp->attr == CA_IMAGE || !cJSON_IsString(image))
			return json_to_str(ctx, image, out);
		size_t n = image_repo_len(image->valuestring);
		char *cut = arena_strndup(ctx->arena, image->valuestring, n);
		return cut ? set_cstr(out, cut, n) : -ENOMEM;
	}
	case KA_CTR_ANY_PRIV: {
		const cJSON *list = sub(c, KS_CONTAINERS);
		if (!cJSON_IsArray(list))
			return 0;
		for (const cJSON *ctr = list->child; ctr; ctr = ctr->next)
			if (cJSON_IsTrue(get(get(ctr, "securityContext"), "privileged")))
				return set_cstr(out, "true", 4);
		return set_cstr(out, "false", 5);
	}
	case KA_VOLUMES:
		return extract_volumes(ctx, fi, c, (enum ka_volume_attr)sp->attr, out);
	case KA_VOLUME_HOSTPATH:
		return extract_volume_hostpath(fi, c, out);
	case KA_CONST_TRUE:
		return set_cstr(out, "true", 4);
	}
	return 0;
}

/* Validates the optional [N] of list fields: decimal, no leading zero but "0". */
static int prepare_index(struct fld_inst *fi, char *errbuf, size_t errlen)
{
	if (!fi->arg)
		return 0;
	const char *a = fi->arg;
	size_t n = fi->arg_len;
	int64_t v = 0;

	if (n == 0 || n > 9 || (n > 1 && a[0] == '0'))
		goto bad;
	for (size_t i = 0; i < n; i++) {
		if (a[i] < '0' || a[i] > '9')
			goto bad;
		v = v * 10 + (a[i] - '0');
	}
	fi->arg_num = v;
	return 0;
bad:
	return errf(errbuf, errlen, -EINVAL,
		    "filter_check called with wrong argument index '%.*s' for %s", (int)MIN(n, 64u),
		    a, fi->def->name);
}

static int prepare_key(struct fld_inst *fi, char *errbuf, size_t errlen)
{
	if (!fi->arg)
		return errf(errbuf, errlen, -EINVAL, "%s requires a key argument", fi->def->name);
	return 0;
}

/* ---- json plugin fields: jevt.* / json.* ---- */

struct json_ptr {
	uint32_t n;
	struct json_tok {
		char *s; /* unescaped, NUL-terminated */
		uint32_t len;
		int64_t idx; /* array index, or -1 when the token is not one */
	} toks[];
};

static void release_ptr(struct fld_inst *fi)
{
	struct json_ptr *p = fi->arg_priv;

	if (p) {
		for (uint32_t i = 0; i < p->n; i++)
			free(p->toks[i].s);
		free(p);
	}
	fi->arg_priv = NULL;
}

/* Parses an RFC 6901 pointer once, at compile time ("" = whole document, "/a~1b/0" = ["a/b", 0]). */
static int prepare_ptr(struct fld_inst *fi, char *errbuf, size_t errlen)
{
	const char *a = fi->arg ? fi->arg : "";
	size_t len = fi->arg ? fi->arg_len : 0;
	uint32_t n = 0;

	if (len > 0 && a[0] != '/')
		return errf(errbuf, errlen, -EINVAL,
			    "invalid JSON pointer '%.*s' for %s: must start with '/'",
			    (int)MIN(len, 128u), a, fi->def->name);
	for (size_t i = 0; i < len; i++)
		n += a[i] == '/';
	struct json_ptr *p = calloc(1, sizeof(*p) + n * sizeof(p->toks[0]));
	if (!p)
		return -ENOMEM;
	fi->arg_priv = p;
	for (size_t i = 1; i <= len && p->n < n;) {
		const char *end = memchr(a + i, '/', len - i);
		size_t tl = end ? (size_t)(end - (a + i)) : len - i;
		struct json_tok *t = &p->toks[p->n++];
		size_t o = 0;

		t->s = malloc(tl + 1);
		if (!t->s)
			return -ENOMEM;
		for (size_t j = 0; j < tl; j++) {
			char ch = a[i + j];
			if (ch == '~') {
				char nx = j + 1 < tl ? a[i + j + 1] : '\0';
				if (nx != '0' && nx != '1') {
					int r = errf(
						errbuf, errlen, -EINVAL,
						"invalid JSON pointer '%.*s' for %s: '~' must be followed by '0' or '1'",
						(int)MIN(len, 128u), a, fi->def->name);
					release_ptr(fi);
					return r;
				}
				ch = nx == '0' ? '~' : '/';
				j++;
			}
			t->s[o++] = ch;
		}
		t->s[o] = '\0';
		t->len = (uint32_t)o;
		t->idx = -1;
		if (o > 0 && o < 10 && (o == 1 || t->s[0] != '0')) {
			int64_t v = 0;
			size_t j;
			for (j = 0; j < o && t->s[j] >= '0' && t->s[j] <= '9'; j++)
				v = v * 10 + (t->s[j] - '0');
			if (j == o)
				t->idx = v;
		}
		i += tl + 1;
	}
	return 0;
}

static const cJSON *resolve_ptr(const cJSON *v, const struct json_ptr *p)
{
	for (uint32_t i = 0; v && p && i < p->n; i++) {
		const struct json_tok *t = &p->toks[i];
		if (cJSON_IsArray(v))
			v = t->idx >= 0 ? array_at(v, t->idx) : NULL;
		else if (cJSON_IsObject(v)) {
			const cJSON *c = v->child;
			while (c && !(c->string && strlen(c->string) == t->len &&
				      memcmp(c->string, t->s, t->len) == 0))
				c = c->next;
			v = c;
		} else
			v = NULL;
	}
	return v;
}

enum json_field { JF_VALUE, JF_OBJ, JF_RAWTIME };

static int json_extract(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct k8s_evt *ke = kevt(ctx);
	char buf[32];
	size_t n;

	/* the json plugin only works on objects and arrays */
	if (!ke->obj || !(cJSON_IsObject(ke->obj) || cJSON_IsArray(ke->obj)))
		return 0;
	switch ((enum json_field)fi->def->data) {
	case JF_VALUE: {
		const cJSON *v = resolve_ptr(ke->obj, fi->arg_priv);
		return v ? json_to_str(ctx, v, out) : 0;
	}
	case JF_OBJ: {
		char *s = json_render(ctx->arena, ke->obj, true, &n);
		return s ? set_cstr(out, s, n) : -ENOMEM;
	}
	case JF_RAWTIME: {
		int r = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)ctx->evt->ts);
		char *s = arena_strndup(ctx->arena, buf, (size_t)r);
		return s ? set_cstr(out, s, (size_t)r) : -ENOMEM;
	}
	}
	return 0;
}

#define JSON_DEFS(p)                                                                                    \
	{.name = p ".value",                                                                            \
	 .type = FT_STRING,                                                                             \
	 .flags = FLD_ARG_ALLOWED | FLD_ARG_REQUIRED,                                                   \
	 .desc = "Extracts a value from the event's JSON. The argument is an RFC 6901 JSON pointer: " p \
		 ".value[/user/username]. Strings are returned as is, anything else as compact JSON.",  \
	 .extract = json_extract,                                                                       \
	 .prepare = prepare_ptr,                                                                        \
	 .release = release_ptr,                                                                        \
	 .data = JF_VALUE},                                                                             \
		{.name = p ".obj",                                                                      \
		 .type = FT_STRING,                                                                     \
		 .desc = "The full event JSON, indented with 2 spaces.",                                \
		 .extract = json_extract,                                                               \
		 .data = JF_OBJ},                                                                       \
	{                                                                                               \
		.name = p ".rawtime", .type = FT_STRING,                                                \
		.desc = "The event time in nanoseconds since the epoch, as a decimal string.",          \
		.extract = json_extract, .data = JF_RAWTIME                                             \
	}

static const struct fld_def jevt_defs[] = {JSON_DEFS("jevt")};
static const struct fld_def json_defs[] = {JSON_DEFS("json")};

/* ---- the ka.* table ---- */

/* name[N] picks one element and is a scalar */
#define LIST_IDX (FLD_LIST | FLD_ARG_ALLOWED | FLD_ARG_INDEX | FLD_ARG_LIST_INDEX)
/* name[N] picks one group (a container's ports, a rule's verbs) and stays a list */
#define LIST_GRP  (FLD_LIST | FLD_ARG_ALLOWED | FLD_ARG_INDEX)

#define SPEC(...) ((uintptr_t) & (const struct ka_spec){__VA_ARGS__})

/* scalar at root[key] / path */
#define KP(n, d, key, ...)                                                      \
	{                                                                       \
		.name = n, .type = FT_STRING, .desc = d, .extract = ka_extract, \
		.data = SPEC(.op = KA_PATH, .root = key, .path = {__VA_ARGS__}) \
	}
/* list (no index) at root[key] / path */
#define KL(n, d, key, ...)                                                                         \
	{                                                                                          \
		.name = n, .type = FT_STRING, .flags = FLD_LIST, .desc = d, .extract = ka_extract, \
		.data = SPEC(.op = KA_PATH_LIST, .root = key, .path = {__VA_ARGS__})               \
	}
/* list with optional [N] at root[key] / path */
#define KLI(n, d, key, ...)                                                                        \
	{                                                                                          \
		.name = n, .type = FT_STRING, .flags = LIST_IDX, .desc = d, .extract = ka_extract, \
		.prepare = prepare_index,                                                          \
		.data = SPEC(.op = KA_PATH_LIST, .root = key, .path = {__VA_ARGS__})               \
	}
/* any other list with optional [N] */
#define KOP(n, d, fl, ...)                                                                        \
	{                                                                                         \
		.name = n, .type = FT_STRING, .flags = fl, .desc = d, .extract = ka_extract,      \
		.prepare = ((fl)&FLD_ARG_INDEX) ? prepare_index : NULL, .data = SPEC(__VA_ARGS__) \
	}

#define CTR(list, lname, a, suffix, what)                                                    \
	KOP("ka.req.pod." lname "." suffix,                                                  \
	    "When the request object is a pod, " what " of its " lname ".",                  \
	    ((a) == CA_ADD_CAPS || (a) == CA_HOST_PORT) ? LIST_GRP : LIST_IDX, .op = KA_CTR, \
	    .sub = list, .attr = a)

#define CTR_COMMON(list, lname)                                                                    \
	CTR(list, lname, CA_NAME, "name", "the names"),                                            \
		CTR(list, lname, CA_IMAGE, "image", "the images"),                                 \
		CTR(list, lname, CA_IMAGE_REPO, "image.repository",                                \
		    "the image repositories (the image up to the first ':' or '@')"),              \
		CTR(list, lname, CA_COMMAND, "command", "the commands (each joined with spaces)"), \
		CTR(list, lname, CA_ARGS, "args", "the arguments (each joined with spaces)"),      \
		CTR(list, lname, CA_PRIVILEGED, "privileged",                                      \
		    "the securityContext.privileged flags"),                                       \
		CTR(list, lname, CA_ALLOW_PRIV_ESC, "allow_privilege_escalation",                  \
		    "the securityContext.allowPrivilegeEscalation flags"),                         \
		CTR(list, lname, CA_READ_ONLY_FS, "read_only_fs",                                  \
		    "the securityContext.readOnlyRootFilesystem flags"),                           \
		CTR(list, lname, CA_RUN_AS_USER, "run_as_user",                                    \
		    "the securityContext.runAsUser uids"),                                         \
		CTR(list, lname, CA_EFF_RUN_AS_USER, "eff_run_as_user",                            \
		    "the effective uids (the container's, else the pod's, else 0)"),               \
		CTR(list, lname, CA_RUN_AS_GROUP, "run_as_group",                                  \
		    "the securityContext.runAsGroup gids"),                                        \
		CTR(list, lname, CA_EFF_RUN_AS_GROUP, "eff_run_as_group",                          \
		    "the effective gids (the container's, else the pod's, else 0)"),               \
		CTR(list, lname, CA_PROC_MOUNT, "proc_mount",                                      \
		    "the securityContext.procMount types"),                                        \
		CTR(list, lname, CA_ADD_CAPS, "add_capabilities",                                  \
		    "the capabilities added by securityContext.capabilities.add")

static const struct fld_def ka_defs[] = {
	KP("ka.auditid", "The unique id of the audit event.", KR_AUDIT_ID),
	KP("ka.stage", "Stage of the request (RequestReceived, ResponseComplete, ...).", KR_STAGE),
	KP("ka.auth.decision", "The authorization decision.", KR_ANNOTATIONS,
	   "authorization.k8s.io/decision"),
	KP("ka.auth.reason", "The authorization reason.", KR_ANNOTATIONS,
	   "authorization.k8s.io/reason"),
	KP("ka.auth.openshift.decision",
	   "The OpenShift authentication decision (OpenShift clusters only).", KR_ANNOTATIONS,
	   "authentication.openshift.io/decision"),
	KP("ka.auth.openshift.username",
	   "The user name of the OpenShift authentication (OpenShift clusters only).",
	   KR_ANNOTATIONS, "authentication.openshift.io/username"),
	KP("ka.validations.admission.policy.failure",
	   "The validation failure of a ValidatingAdmissionPolicy.", KR_ANNOTATIONS,
	   "validation.policy.admission.k8s.io/validation_failure"),
	KP("ka.security.pod.violations", "The pod security admission violations.", KR_ANNOTATIONS,
	   "pod-security.kubernetes.io/audit-violations"),
	KP("ka.user.name", "The user name performing the request.", KR_USER, "username"),
	KL("ka.user.groups", "The groups the user belongs to.", KR_USER, "groups"),
	KP("ka.impuser.name", "The impersonated user name.", KR_IMPERSONATED_USER, "username"),
	KP("ka.verb", "The action being performed.", KR_VERB),
	KP("ka.uri", "The request URI as sent from the client to the server.", KR_REQUEST_URI),
	KOP("ka.uri.param",
	    "The first value of a query parameter of the URI (for /foo?key=val, ka.uri.param[key] is val).",
	    FLD_ARG_ALLOWED | FLD_ARG_REQUIRED, .op = KA_URI_PARAM),
	KP("ka.target.name", "The target object name.", KR_OBJECT_REF, "name"),
	KP("ka.target.namespace", "The target object namespace.", KR_OBJECT_REF, "namespace"),
	KP("ka.target.resource", "The target object resource.", KR_OBJECT_REF, "resource"),
	KP("ka.target.subresource", "The target object subresource.", KR_OBJECT_REF, "subresource"),
	KOP("ka.target.pod.name",
	    "The target pod name (responseObject name of a pods request with no subresource).", 0,
	    .op = KA_TARGET_POD_NAME),
	KL("ka.req.binding.subjects",
	   "When the request object is a (cluster) role binding, its subjects.", KR_REQUEST_OBJECT,
	   "subjects"),
	KOP("ka.req.binding.subjects.user_names",
	    "When the request object is a binding, its User subject names.", FLD_LIST,
	    .op = KA_SUBJECT_NAMES, .attr = SK_USER),
	KOP("ka.req.binding.subjects.serviceaccount_names",
	    "When the request object is a binding, its ServiceAccount subject names.", FLD_LIST,
	    .op = KA_SUBJECT_NAMES, .attr = SK_SA),
	KOP("ka.req.binding.subjects.serviceaccount_ns_names",
	    "When the request object is a binding, its ServiceAccount subjects as namespace:name.",
	    FLD_LIST, .op = KA_SUBJECT_NAMES, .attr = SK_SA_NS),
	KOP("ka.req.binding.subjects.group_names",
	    "When the request object is a binding, its Group subject names.", FLD_LIST,
	    .op = KA_SUBJECT_NAMES, .attr = SK_GROUP),
	KP("ka.req.binding.role",
	   "When the request object is a (cluster) role binding, the role it refers to.",
	   KR_REQUEST_OBJECT, "roleRef", "name"),
	{.name = "ka.req.binding.subject.has_name",
	 .type = FT_STRING,
	 .flags = FLD_ARG_ALLOWED | FLD_ARG_REQUIRED | FLD_DEPRECATED,
	 .desc = "Deprecated, always \"true\". Only provided for backwards compatibility.",
	 .extract = ka_extract,
	 .prepare = prepare_key,
	 .data = SPEC(.op = KA_CONST_TRUE)},
	KP("ka.req.configmap.name", "If the request object is a configmap, its name.",
	   KR_OBJECT_REF, "name"),
	KP("ka.req.configmap.obj", "If the request object is a configmap, its data.",
	   KR_REQUEST_OBJECT, "data"),
	CTR_COMMON(KS_CONTAINERS, "containers"),
	CTR(KS_CONTAINERS, "containers", CA_HOST_PORT, "host_port",
	    "the hostPort values (else containerPort)"),
	{.name = "ka.req.container.image",
	 .type = FT_STRING,
	 .flags = FLD_DEPRECATED,
	 .desc = "Deprecated by ka.req.pod.containers.image: the image of the first container.",
	 .extract = ka_extract,
	 .data = SPEC(.op = KA_CTR_FIRST, .attr = CA_IMAGE)},
	{.name = "ka.req.container.image.repository",
	 .type = FT_STRING,
	 .flags = FLD_DEPRECATED,
	 .desc = "Deprecated by ka.req.pod.containers.image.repository: the repository of the first container.",
	 .extract = ka_extract,
	 .data = SPEC(.op = KA_CTR_FIRST, .attr = CA_IMAGE_REPO)},
	KP("ka.req.pod.host_ipc", "When the request object is a pod, its hostIPC flag.",
	   KR_REQUEST_OBJECT, "spec", "hostIPC"),
	KP("ka.req.pod.host_network", "When the request object is a pod, its hostNetwork flag.",
	   KR_REQUEST_OBJECT, "spec", "hostNetwork"),
	{.name = "ka.req.container.host_network",
	 .type = FT_STRING,
	 .flags = FLD_DEPRECATED,
	 .desc = "Deprecated alias of ka.req.pod.host_network.",
	 .extract = ka_extract,
	 .data = SPEC(.op = KA_PATH, .root = KR_REQUEST_OBJECT, .path = {"spec", "hostNetwork"})},
	KP("ka.req.pod.host_pid", "When the request object is a pod, its hostPID flag.",
	   KR_REQUEST_OBJECT, "spec", "hostPID"),
	{.name = "ka.req.container.privileged",
	 .type = FT_STRING,
	 .flags = FLD_DEPRECATED,
	 .desc = "Deprecated by ka.req.pod.containers.privileged: \"true\" if any container is privileged.",
	 .extract = ka_extract,
	 .data = SPEC(.op = KA_CTR_ANY_PRIV)},
	KP("ka.req.pod.run_as_user",
	   "When the request object is a pod, the pod securityContext runAsUser.",
	   KR_REQUEST_OBJECT, "spec", "securityContext", "runAsUser"),
	KP("ka.req.pod.run_as_group",
	   "When the request object is a pod, the pod securityContext runAsGroup.",
	   KR_REQUEST_OBJECT, "spec", "securityContext", "runAsGroup"),
	KL("ka.req.role.rules", "When the request object is a (cluster) role, its rules.",
	   KR_REQUEST_OBJECT, "rules"),
	KOP("ka.req.role.rules.apiGroups",
	    "When the request object is a role, the apiGroups of its rules.", LIST_GRP,
	    .op = KA_RULES_FLAT, .path = {"apiGroups"}),
	KOP("ka.req.role.rules.nonResourceURLs",
	    "When the request object is a role, the nonResourceURLs of its rules.", LIST_GRP,
	    .op = KA_RULES_FLAT, .path = {"nonResourceURLs"}),
	KOP("ka.req.role.rules.verbs", "When the request object is a role, the verbs of its rules.",
	    LIST_GRP, .op = KA_RULES_FLAT, .path = {"verbs"}),
	KOP("ka.req.role.rules.resources",
	    "When the request object is a role, the resources of its rules.", LIST_GRP,
	    .op = KA_RULES_FLAT, .path = {"resources"}),
	KP("ka.req.pod.fs_group",
	   "When the request object is a pod, the pod securityContext fsGroup.", KR_REQUEST_OBJECT,
	   "spec", "securityContext", "fsGroup"),
	KL("ka.req.pod.supplemental_groups",
	   "When the request object is a pod, the pod securityContext supplementalGroups.",
	   KR_REQUEST_OBJECT, "spec", "securityContext", "supplementalGroups"),
	KP("ka.req.service.type", "When the request object is a service, its type.",
	   KR_REQUEST_OBJECT, "spec", "type"),
	KLI("ka.req.service.ports", "When the request object is a service, its ports.",
	    KR_REQUEST_OBJECT, "spec", "ports"),
	KOP("ka.req.pod.volumes.hostpath",
	    "When the request object is a pod, the hostPath paths of its volumes.", LIST_IDX,
	    .op = KA_VOLUMES, .attr = VA_HOSTPATH),
	{.name = "ka.req.volume.hostpath",
	 .type = FT_STRING,
	 .flags = FLD_ARG_ALLOWED | FLD_ARG_REQUIRED | FLD_DEPRECATED,
	 .desc = "Deprecated by ka.req.pod.volumes.hostpath: \"true\" if a volume uses the host path given as "
		 "argument (a trailing * matches a prefix).",
	 .extract = ka_extract,
	 .prepare = prepare_key,
	 .data = SPEC(.op = KA_VOLUME_HOSTPATH)},
	KOP("ka.req.pod.volumes.flexvolume_driver",
	    "When the request object is a pod, the flexVolume drivers of its volumes.", LIST_IDX,
	    .op = KA_VOLUMES, .attr = VA_FLEX_DRIVER),
	KOP("ka.req.pod.volumes.volume_type",
	    "When the request object is a pod, the types of its volumes.", LIST_GRP,
	    .op = KA_VOLUMES, .attr = VA_TYPE),
	KP("ka.resp.name", "The response object name.", KR_RESPONSE_OBJECT, "metadata", "name"),
	KP("ka.response.code", "The response code.", KR_RESPONSE_STATUS, "code"),
	KP("ka.response.reason", "The response reason (usually present only for failures).",
	   KR_RESPONSE_STATUS, "reason"),
	KP("ka.useragent", "The user agent of the client that made the request.", KR_USER_AGENT),
	KLI("ka.sourceips", "The IP addresses of the client that made the request.", KR_SOURCE_IPS),
	KP("ka.cluster.name", "The name of the Kubernetes cluster (the cluster_name annotation).",
	   KR_ANNOTATIONS, "cluster_name"),
	CTR_COMMON(KS_INIT_CONTAINERS, "initContainers"),
	CTR(KS_INIT_CONTAINERS, "initContainers", CA_HOST_PORT, "host_port",
	    "the hostPort values (else containerPort)"),
	CTR_COMMON(KS_EPHEMERAL_CONTAINERS, "ephemeralContainers"),
};

static const struct fld_def k8s_misc_defs[] = {
	FLD_GENERIC_SOURCE_DEF("k8s_audit"),
	{.name = "evt.pluginname",
	 .type = FT_STRING,
	 .desc = "The name of the plugin that generated the event.",
	 .extract = fld_extract_const_string,
	 .data = (uintptr_t) "k8saudit"},
};

static const struct fld_table ka_table = {
	.class_name = "k8saudit",
	.desc = "Kubernetes audit events (the k8saudit plugin's fields).",
	.defs = ka_defs,
	.n = ARRAY_SIZE(ka_defs),
};
static const struct fld_table misc_table = {
	.class_name = "evt",
	.desc = "k8s_audit event fields.",
	.defs = k8s_misc_defs,
	.n = ARRAY_SIZE(k8s_misc_defs),
};
static const struct fld_table jevt_table = {
	.class_name = "json",
	.desc = "Fields of the json plugin under their legacy jevt.* names.",
	.defs = jevt_defs,
	.n = ARRAY_SIZE(jevt_defs),
};
static const struct fld_table json_table = {
	.class_name = "json",
	.desc = "Fields of the json plugin: values from the event's JSON.",
	.defs = json_defs,
	.n = ARRAY_SIZE(json_defs),
};

static const struct fld_table *const k8s_tables[] = {
	&fld_table_generic, &misc_table, &ka_table, &jevt_table, &json_table, NULL,
};

static const char *k8s_evttype_name(uint16_t code)
{
	return code == 0 ? "pluginevent" : NULL;
}

const struct src_def src_k8s_audit = {
	.name = "k8s_audit",
	.tables = k8s_tables,
	.nevttypes = 1,
	.evttype_codes = NULL,
	.evttype_name = k8s_evttype_name,
};
