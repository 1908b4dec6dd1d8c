/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User and group names: a bounded cache in front of NSS (getpwuid_r/getgrgid_r) for the host (with HOST_ROOT:
 * the host's $HOST_ROOT/etc/passwd and /etc/group when they exist), and of the container's own /etc/passwd and
 * /etc/group (read through /proc/PID/root) for containers, best effort.
 * Negative answers are cached too, so an unknown uid costs one lookup. When the cache is full the clock hand
 * evicts the next entry. In replay mode only what the capture recorded is known.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "state_internal.h"

static uint64_t user_key(int kind, uint32_t container, uint32_t id)
{
	return (uint64_t)kind << 63 | (uint64_t)container << 32 | id;
}

static void user_release(struct st_state *st, struct st_user *u)
{
	st_str_set(st, &u->name, NULL);
	st_str_set(st, &u->home, NULL);
	st_str_set(st, &u->shell, NULL);
}

static struct st_user *user_slot(struct st_state *st)
{
	uint32_t idx;

	if (st->user_free != ST_NIL) {
		idx = st->user_free;
		st->user_free = st->users[idx].next_free;
	} else if (st->user_hi < st->lim.max_users) {
		idx = st->user_hi++;
	} else {
		/* full: evict the entry under the clock hand */
		idx = st->user_clock++ % st->lim.max_users;
		struct st_user *v = &st->users[idx];
		st_map_del(&st->user_map, v->key);
		user_release(st, v);
		st->stats.user_full++;
	}
	struct st_user *u = &st->users[idx];
	memset(u, 0, sizeof(*u));
	u->next_free = ST_NIL;
	return u;
}

void st_user_put(struct st_state *st, const struct st_user *in)
{
	uint32_t i = st_map_get(&st->user_map, in->key);
	struct st_user *u;

	if (i != ST_NIL) {
		u = &st->users[i];
		user_release(st, u);
	} else {
		u = user_slot(st);
		if (st_map_put(&st->user_map, in->key, (uint32_t)(u - st->users)) < 0) {
			u->next_free = st->user_free;
			st->user_free = (uint32_t)(u - st->users);
			return;
		}
	}
	u->key = in->key;
	u->id = in->id;
	u->gid = in->gid;
	u->kind = in->kind;
	u->found = in->found;
	u->name = st_str_ref(in->name);
	u->home = st_str_ref(in->home);
	u->shell = st_str_ref(in->shell);
}

uint32_t st_user_capacity(const struct st_state *st)
{
	return st->user_hi;
}

const struct st_user *st_user_at(const struct st_state *st, uint32_t idx)
{
	if (idx >= st->user_hi)
		return NULL;
	const struct st_user *u = &st->users[idx];
	return st_map_get(&st->user_map, u->key) == idx ? u : NULL;
}

/*
 * One "name:x:uid:gid:gecos:home:shell" (or "name:x:gid:members") line matching id. Returns 1 (fields point into
 * line), 0 (no such id) or -errno when the file cannot be opened.
 */
static int file_lookup(const char *path, int kind, uint32_t id, char *line, size_t size,
		       char **fields, int nf)
{
	FILE *f = fopen(path, "re");
	bool found = false;

	if (!f)
		return -errno;
	while (!found && fgets(line, (int)size, f)) {
		line[strcspn(line, "\n")] = '\0';
		int k = 0;
		char *p = line;
		fields[k++] = p;
		while (k < nf && (p = strchr(p, ':'))) {
			*p++ = '\0';
			fields[k++] = p;
		}
		if (k < (kind ? 3 : 7))
			continue;
		char *end;
		unsigned long v = strtoul(fields[2], &end, 10);
		found = *end == '\0' && v == id;
	}
	fclose(f);
	return found;
}

/* The host's NSS (getpwuid_r/getgrgid_r) into u. */
static void nss_lookup(struct st_state *st, struct st_user *u, int kind, uint32_t id, char *buf,
		       size_t size)
{
	if (kind == 0) {
		struct passwd pw, *res = NULL;
		if (getpwuid_r(id, &pw, buf, size, &res) == 0 && res) {
			u->found = true;
			u->gid = pw.pw_gid;
			u->name = st_str_intern_cstr(st, pw.pw_name);
			u->home = st_str_intern_cstr(st, pw.pw_dir);
			u->shell = st_str_intern_cstr(st, pw.pw_shell);
		}
	} else {
		struct group gr, *res = NULL;
		if (getgrgid_r(id, &gr, buf, size, &res) == 0 && res) {
			u->found = true;
			u->name = st_str_intern_cstr(st, gr.gr_name);
		}
	}
}

static const struct st_user *lookup(struct st_state *st, const struct st_proc *p, int kind,
				    uint32_t id)
{
	uint32_t ct = p ? p->container : 0;
	uint64_t key = user_key(kind, ct, id);
	uint32_t i = st_map_get(&st->user_map, key);

	if (i != ST_NIL)
		return &st->users[i];

	struct st_user u = {.key = key, .id = id, .kind = (uint8_t)kind};
	if (!st->opt.replay) {
		char buf[4096], path[ST_ROOT_MAX + 64], *f[7];
		int r = -ENOENT;
		st->stats.nss_lookups++;
		if (ct == 0 && st->host_root[0]) {
			/*
			 * HOST_ROOT: our NSS is the container's, the host's names are in its files (as upstream
			 * reads them, without NSS modules). Without $HOST_ROOT/etc (only /proc mounted), NSS as
			 * before.
			 */
			snprintf(path, sizeof(path), "%s/etc/%s", st->host_root,
				 kind ? "group" : "passwd");
			r = file_lookup(path, kind, id, buf, sizeof(buf), f, kind ? 4 : 7);
		} else if (ct != 0 && p) {
			snprintf(path, sizeof(path), "%s/%u/root/etc/%s", st->proc_root, p->pid,
				 kind ? "group" : "passwd");
			r = file_lookup(path, kind, id, buf, sizeof(buf), f, kind ? 4 : 7);
		}
		if (r > 0) {
			u.found = true;
			u.name = st_str_intern_cstr(st, f[0]);
			if (!kind) {
				u.gid = (uint32_t)strtoul(f[3], NULL, 10);
				u.home = st_str_intern_cstr(st, f[5]);
				u.shell = st_str_intern_cstr(st, f[6]);
			}
		} else if (ct == 0 && r == -ENOENT) {
			nss_lookup(st, &u, kind, id, buf, sizeof(buf));
		}
	}
	st_user_put(st, &u);
	user_release(st, &u);
	i = st_map_get(&st->user_map, key);
	if (i == ST_NIL)
		return NULL;
	if (!st->opt.replay && st->hooks.user_loaded)
		st->hooks.user_loaded(st->hooks.ud, &st->users[i]);
	return &st->users[i];
}

const struct st_user *st_user(struct st_state *st, const struct st_proc *p, uint32_t uid)
{
	return lookup(st, p, 0, uid);
}

const struct st_user *st_group(struct st_state *st, const struct st_proc *p, uint32_t gid)
{
	return lookup(st, p, 1, gid);
}
