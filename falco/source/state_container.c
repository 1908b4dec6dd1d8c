/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Containers: the id from a process's cgroup paths (only the patterns container runtimes really use), a small
 * table of known containers, and their metadata as the runtime worker (state_runtime.c) reports it.
 *
 * The trap these hosts set: every process sits in a memory cgroup like /process_api/5b0cd3ed...(32 hex); a
 * parser that takes any long hex component for a container id turns the whole host into "containers". Only
 * runtime-specific shapes count here: docker-<64>.scope, /docker/<64>, cri-containerd-<64>.scope,
 * nerdctl-<64>.scope (nerdctl on containerd, systemd cgroup driver), crio-<64>[.scope], libpod-<64>[.scope],
 * /kubepods/.../<64>, machine-<name>.scope (systemd-nspawn), /lxc/<name> and lxc.payload.<name>.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/hmap.h"
#include "common/macro.h"
#include "state_internal.h"

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return n > 0;
}

/* "<prefix><64 hex>[.scope]" */
static bool prefixed_id(const char *c, size_t n, const char *prefix, char *id)
{
	size_t pl = strlen(prefix);
	if (n < pl || memcmp(c, prefix, pl) != 0)
		return false;
	c += pl;
	n -= pl;
	if (n == 64 + 6 && memcmp(c + 64, ".scope", 6) == 0)
		n = 64;
	if (n != 64 || !is_hex(c, 64))
		return false;
	memcpy(id, c, 64);
	id[64] = '\0';
	return true;
}

/* systemd's unit-name unescaping of \xNN (machine-foo\x2dbar.scope is the machine "foo-bar"). */
static size_t unescape_unit(const char *s, size_t n, char *out, size_t size)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k + 1 < size; i++) {
		unsigned v;
		if (s[i] == '\\' && i + 3 < n && s[i + 1] == 'x' &&
		    sscanf(s + i + 2, "%2x", &v) == 1) {
			out[k++] = (char)v;
			i += 3;
		} else {
			out[k++] = s[i];
		}
	}
	out[k] = '\0';
	return k;
}

int st_cgroup_container(const char *path, size_t len, enum st_ct_type *ret_type,
			char ret_id[ST_CT_ID_MAX + 1])
{
	/* components, last first */
	const char *comp[64];
	size_t clen[64];
	size_t nc = 0;
	bool kubepods = false;

	for (size_t i = 0; i < len && nc < ARRAY_SIZE(comp);) {
		while (i < len && path[i] == '/')
			i++;
		size_t s = i;
		while (i < len && path[i] != '/' && path[i] != '\0' && path[i] != '\n')
			i++;
		if (i > s) {
			comp[nc] = path + s;
			clen[nc] = i - s;
			if (clen[nc] >= 8 && memcmp(comp[nc], "kubepods", 8) == 0)
				kubepods = true;
			nc++;
		}
		if (i < len && (path[i] == '\0' || path[i] == '\n'))
			break;
	}
	for (size_t k = nc; k-- > 0;) {
		const char *c = comp[k];
		size_t n = clen[k];
		const char *prev = k ? comp[k - 1] : "";
		size_t plen = k ? clen[k - 1] : 0;
		char id[ST_CT_ID_MAX + 1];

		if (prefixed_id(c, n, "docker-", id)) {
			*ret_type = ST_CT_DOCKER;
		} else if (prefixed_id(c, n, "cri-containerd-", id) ||
			   prefixed_id(c, n, "nerdctl-", id)) {
			*ret_type = ST_CT_CONTAINERD;
		} else if (prefixed_id(c, n, "crio-", id)) {
			*ret_type = ST_CT_CRIO;
		} else if (prefixed_id(c, n, "libpod-", id)) {
			*ret_type = ST_CT_PODMAN;
		} else if (n == 64 && is_hex(c, 64)) {
			/* a bare id: only below a parent that says which runtime put it there */
			if (plen == 6 && memcmp(prev, "docker", 6) == 0)
				*ret_type = ST_CT_DOCKER;
			else if ((plen == 7 && memcmp(prev, "default", 7) == 0) ||
				 (plen == 6 && memcmp(prev, "k8s.io", 6) == 0) || kubepods)
				*ret_type = ST_CT_CONTAINERD;
			else
				continue;
			memcpy(id, c, 64);
			id[64] = '\0';
		} else if (n > 14 && memcmp(c, "machine-", 8) == 0 &&
			   memcmp(c + n - 6, ".scope", 6) == 0 && plen == 13 &&
			   memcmp(prev, "machine.slice", 13) == 0) {
			/* systemd-nspawn; libvirt's qemu machines are host processes */
			size_t m = unescape_unit(c + 8, n - 14, id, sizeof(id));
			if (m == 0 || startswith(id, "qemu-") || startswith(id, "libpod-"))
				continue;
			*ret_type = ST_CT_NSPAWN;
		} else if (n > 12 && memcmp(c, "lxc.payload.", 12) == 0) {
			size_t m = MIN(n - 12, (size_t)ST_CT_ID_MAX);
			memcpy(id, c + 12, m);
			id[m] = '\0';
			*ret_type = ST_CT_LXC;
		} else if (plen == 3 && memcmp(prev, "lxc", 3) == 0 && k == 1) {
			size_t m = MIN(n, (size_t)ST_CT_ID_MAX);
			memcpy(id, c, m);
			id[m] = '\0';
			*ret_type = ST_CT_LXC;
		} else {
			continue;
		}
		memcpy(ret_id, id, ST_CT_ID_MAX + 1);
		return 1;
	}
	return 0;
}

/* ---- the table ---- */

static uint64_t ct_key(const char *id, size_t n)
{
	uint64_t h = hash_bytes(id, n);
	return h ? h : 1;
}

struct st_container *st_container_at(const struct st_state *st, uint32_t idx)
{
	if (idx >= st->ct_hi || (idx && !st->cts[idx].idlen))
		return NULL;
	return &st->cts[idx];
}

uint32_t st_container_capacity(const struct st_state *st)
{
	return st->ct_hi;
}

static void ct_release(struct st_state *st, struct st_container *c)
{
	st_str_set(st, &c->name, NULL);
	st_str_set(st, &c->image, NULL);
	st_str_set(st, &c->image_id, NULL);
	st_str_set(st, &c->mounts, NULL);
	st_str_set(st, &c->k8s_ns, NULL);
	st_str_set(st, &c->k8s_pod, NULL);
	st_str_set(st, &c->k8s_pod_uid, NULL);
}

static uint32_t ct_find(const struct st_state *st, const char *id, size_t n)
{
	uint32_t i = st_map_get(&st->ct_map, ct_key(id, n));
	if (i == ST_NIL || st->cts[i].idlen != n || memcmp(st->cts[i].id, id, n) != 0)
		return ST_NIL;
	return i;
}

static uint32_t ct_add(struct st_state *st, enum st_ct_type type, const char *id, size_t n)
{
	uint32_t idx;

	if (st->ct_free != ST_NIL) {
		idx = st->ct_free;
		st->ct_free = st->cts[idx].next_free;
	} else if (st->ct_hi < st->lim.max_containers + 1) {
		idx = st->ct_hi++;
	} else {
		st->stats.container_full++;
		return 0;
	}
	if (st_map_put(&st->ct_map, ct_key(id, n), idx) < 0) {
		st->cts[idx].next_free = st->ct_free;
		st->ct_free = idx;
		st->stats.container_full++;
		return 0;
	}
	struct st_container *c = &st->cts[idx];
	memset(c, 0, sizeof(*c));
	memcpy(c->id, id, n);
	c->id[n] = '\0';
	c->idlen = (uint8_t)n;
	c->type = (uint8_t)type;
	c->next_free = ST_NIL;
	return idx;
}

/* Queries the runtime on the worker (never waits); a refused request or a failed answer is retried later. */
static void ct_ask(struct st_state *st, struct st_container *c, uint64_t ts)
{
	if (!st->rt || st->opt.replay || c->type == ST_CT_HOST)
		return;
	st->stats.runtime_queries++;
	c->asks++;
	c->retry_ts = ts + (ST_RT_RETRY_NS << c->asks);
	c->meta = st_runtime_ask(st->rt, (enum st_ct_type)c->type, c->id) ? ST_META_PENDING
									  : ST_META_FAILED;
}

uint32_t st_container_get(struct st_state *st, enum st_ct_type type, const char *id, uint64_t ts)
{
	size_t n = strnlen(id, ST_CT_ID_MAX);
	uint32_t idx = ct_find(st, id, n);

	if (idx == ST_NIL) {
		idx = ct_add(st, type, id, n);
		if (!idx)
			return 0;
		ct_ask(st, &st->cts[idx], ts);
	} else if (st->cts[idx].meta == ST_META_FAILED && st->cts[idx].asks < ST_RT_MAX_ASKS &&
		   ts >= st->cts[idx].retry_ts) {
		ct_ask(st, &st->cts[idx], ts);
	}
	st->cts[idx].last_used = ts;
	return idx;
}

uint32_t st_container_put(struct st_state *st, const struct st_container *in)
{
	size_t n = strnlen(in->id, ST_CT_ID_MAX);
	uint32_t idx;

	if (n == 4 && memcmp(in->id, "host", 4) == 0)
		return 0;
	idx = ct_find(st, in->id, n);
	if (idx == ST_NIL && !(idx = ct_add(st, (enum st_ct_type)in->type, in->id, n)))
		return 0;
	struct st_container *c = &st->cts[idx];
	ct_release(st, c);
	c->type = in->type;
	c->meta = in->meta;
	c->privileged = in->privileged;
	c->privileged_known = in->privileged_known;
	c->start_ts = in->start_ts;
	c->name = st_str_ref(in->name);
	c->image = st_str_ref(in->image);
	c->image_id = st_str_ref(in->image_id);
	c->mounts = st_str_ref(in->mounts);
	c->k8s_ns = st_str_ref(in->k8s_ns);
	c->k8s_pod = st_str_ref(in->k8s_pod);
	c->k8s_pod_uid = st_str_ref(in->k8s_pod_uid);
	return idx;
}

uint32_t st_container_from_cgroups(struct st_state *st, const char *buf, size_t len, uint64_t ts)
{
	enum st_ct_type type;
	char id[ST_CT_ID_MAX + 1];

	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && buf[e] != '\0')
			e++;
		const char *s = buf + i;
		size_t n = e - i;
		const char *eq = memchr(s, '=', n);
		if (eq) {
			n -= (size_t)(eq + 1 - s);
			s = eq + 1;
		}
		if (n && st_cgroup_container(s, n, &type, id))
			return st_container_get(st, type, id, ts);
		i = e + 1;
	}
	return 0;
}

uint32_t st_container_from_proc_cgroup(struct st_state *st, const char *text, size_t len,
				       uint64_t ts)
{
	enum st_ct_type type;
	char id[ST_CT_ID_MAX + 1];

	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && text[e] != '\n' && text[e] != '\0')
			e++;
		/* "N:controllers:path" */
		const char *c1 = memchr(text + i, ':', e - i);
		const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(text + e - c1 - 1)) : NULL;
		if (c2 && st_cgroup_container(c2 + 1, (size_t)(text + e - c2 - 1), &type, id))
			return st_container_get(st, type, id, ts);
		i = e + 1;
	}
	return 0;
}

/* ---- runtime answers ---- */

static struct st_str *intern_opt(struct st_state *st, const char *s)
{
	return s && *s ? st_str_intern_cstr(st, s) : NULL;
}

int st_runtime_poll(struct st_state *st)
{
	struct st_rt_answer a;
	int n = 0;

	if (!st->rt)
		return 0;
	while (st_runtime_take(st->rt, &a) > 0) {
		uint32_t idx = ct_find(st, a.id, strnlen(a.id, ST_CT_ID_MAX));
		if (idx != ST_NIL && idx != 0) {
			struct st_container *c = &st->cts[idx];
			if (a.ok) {
				st->stats.runtime_answers++;
				ct_release(st, c);
				c->meta = ST_META_DONE;
				c->privileged = a.privileged;
				c->privileged_known = a.privileged_known;
				if (a.start_ts)
					c->start_ts = a.start_ts;
				c->name = intern_opt(st, a.name);
				c->image = intern_opt(st, a.image);
				c->image_id = intern_opt(st, a.image_id);
				c->mounts = intern_opt(st, a.mounts);
				c->k8s_ns = intern_opt(st, a.k8s_ns);
				c->k8s_pod = intern_opt(st, a.k8s_pod);
				c->k8s_pod_uid = intern_opt(st, a.k8s_pod_uid);
			} else {
				st->stats.runtime_failures++;
				c->meta = ST_META_FAILED;
				/* the next event of the container after the backoff asks again */
				c->retry_ts = c->last_used + (ST_RT_RETRY_NS << c->asks);
			}
			if (st->hooks.container_updated)
				st->hooks.container_updated(st->hooks.ud, c);
			n++;
		}
		st_runtime_answer_done(&a);
	}
	return n;
}

int st_runtime_fd(const struct st_state *st)
{
	return st->rt ? st_runtime_fd_of(st->rt) : -1;
}

/* Frees containers no process refers to any more (called by the sweep when the table fills up). */
int st_container_gc(struct st_state *st)
{
	uint8_t *used = calloc(st->ct_hi + 1, 1);
	int n = 0;

	if (!used)
		return 0;
	for (uint32_t i = 0; i < st->proc_hi; i++)
		if (st->procs[i].pid && st->procs[i].container < st->ct_hi)
			used[st->procs[i].container] = 1;
	for (uint32_t i = 1; i < st->ct_hi; i++) {
		struct st_container *c = &st->cts[i];
		if (!c->idlen || used[i])
			continue;
		st_map_del(&st->ct_map, ct_key(c->id, c->idlen));
		ct_release(st, c);
		memset(c, 0, sizeof(*c));
		c->next_free = st->ct_free;
		st->ct_free = i;
		n++;
	}
	free(used);
	return n;
}
