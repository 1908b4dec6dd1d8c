/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state's side of capture files: processes, descriptors, users, containers, lazily read environments and
 * purges as TLV blocks (writing), and the same blocks applied back to a state (replay). Containers are named by
 * id in every block, never by table index, so a replay may number them differently.
 */
#include <errno.h>
#include <string.h>

#include "common/err.h"
#include "common/macro.h"
#include "capture.h"
#include "state_internal.h"
#include "state_snap.h"

enum proc_tag {
	PT_PID = 1,
	PT_PPID,
	PT_VPID,
	PT_VPGID,
	PT_PGID,
	PT_SID,
	PT_UID,
	PT_GID,
	PT_LOGINUID,
	PT_TTY,
	PT_FLAGS,
	PT_CONTAINER,
	PT_CAP_INH,
	PT_CAP_PERM,
	PT_CAP_EFF,
	PT_START_TS,
	PT_EXE_INO,
	PT_EXE_CTIME,
	PT_EXE_MTIME,
	PT_PIDNS_INIT,
	PT_COMM,
	PT_EXE,
	PT_EXEPATH,
	PT_ARGS,
	PT_CWD,
	PT_ENV,
	PT_ROOT,
	PT_THREAD, /* u32 tid, u32 vtid */
};

enum fd_tag {
	FT_PID = 1,
	FT_FD,
	FT_TYPE,
	FT_L4,
	FT_FAMILY,
	FT_FLAGS,
	FT_OPEN_FLAGS,
	FT_DEV,
	FT_INO,
	FT_LPORT,
	FT_RPORT,
	FT_LIP,
	FT_RIP,
	FT_NAME,
	FT_NAMERAW,
};

enum user_tag { UT_ID = 1, UT_GID, UT_KIND, UT_FOUND, UT_CONTAINER, UT_NAME, UT_HOME, UT_SHELL };

enum ct_tag {
	CT_ID = 1,
	CT_TYPE,
	CT_META,
	CT_PRIV,
	CT_PRIV_KNOWN,
	CT_START_TS,
	CT_NAME,
	CT_IMAGE,
	CT_IMAGE_ID,
	CT_MOUNTS,
	CT_K8S_NS,
	CT_K8S_POD,
	CT_K8S_POD_UID,
};

static uint8_t scratch[CAP_MAX_BLOCK];

static void tlv_sstr(struct cap_tlv *t, uint16_t tag, const struct st_str *s)
{
	if (s)
		cap_tlv_str(t, tag, s->s, s->len);
}

static void ct_id_tlv(const struct st_state *st, struct cap_tlv *t, uint16_t tag, uint32_t idx)
{
	const struct st_container *c = st_container_at(st, idx);
	if (c && idx)
		cap_tlv_str(t, tag, c->id, c->idlen);
}

/* ---- writing ---- */

int st_snap_write_fd(const struct st_state *st, const struct st_fd *f, struct cap_writer *w)
{
	struct cap_tlv t;

	(void)st;
	cap_tlv_init(&t, scratch, sizeof(scratch));
	cap_tlv_u32(&t, FT_PID, (uint32_t)(f->key >> 32));
	cap_tlv_u32(&t, FT_FD, (uint32_t)f->key);
	cap_tlv_u8(&t, FT_TYPE, f->type);
	cap_tlv_u8(&t, FT_L4, f->l4proto);
	cap_tlv_u8(&t, FT_FAMILY, f->family);
	cap_tlv_u8(&t, FT_FLAGS, f->flags);
	cap_tlv_u32(&t, FT_OPEN_FLAGS, f->open_flags);
	cap_tlv_u32(&t, FT_DEV, f->dev);
	cap_tlv_u64(&t, FT_INO, f->ino);
	if (f->flags & ST_FD_HAS_TUPLE) {
		cap_tlv_u16(&t, FT_LPORT, f->lport);
		cap_tlv_u16(&t, FT_RPORT, f->rport);
		cap_tlv_bytes(&t, FT_LIP, f->lip, 16);
		cap_tlv_bytes(&t, FT_RIP, f->rip, 16);
	}
	tlv_sstr(&t, FT_NAME, f->name);
	tlv_sstr(&t, FT_NAMERAW, f->nameraw);
	return t.failed ? -E2BIG : cap_write_block(w, CAP_B_FD, t.buf, t.len);
}

int st_snap_write_proc(const struct st_state *st, const struct st_proc *p, struct cap_writer *w)
{
	struct cap_tlv t;
	int r;

	cap_tlv_init(&t, scratch, sizeof(scratch));
	cap_tlv_u32(&t, PT_PID, p->pid);
	cap_tlv_u32(&t, PT_PPID, p->ppid);
	cap_tlv_u32(&t, PT_VPID, p->vpid);
	cap_tlv_u32(&t, PT_VPGID, p->vpgid);
	cap_tlv_u32(&t, PT_PGID, p->pgid);
	cap_tlv_u32(&t, PT_SID, p->sid);
	cap_tlv_u32(&t, PT_UID, p->uid);
	cap_tlv_u32(&t, PT_GID, p->gid);
	cap_tlv_u32(&t, PT_LOGINUID, p->loginuid);
	cap_tlv_u32(&t, PT_TTY, p->tty);
	cap_tlv_u32(&t, PT_FLAGS, p->flags & ~(uint32_t)(ST_P_EXITED | ST_P_ENV_TRIED));
	ct_id_tlv(st, &t, PT_CONTAINER, p->container);
	cap_tlv_u64(&t, PT_CAP_INH, p->cap_inh);
	cap_tlv_u64(&t, PT_CAP_PERM, p->cap_perm);
	cap_tlv_u64(&t, PT_CAP_EFF, p->cap_eff);
	cap_tlv_u64(&t, PT_START_TS, p->start_ts);
	cap_tlv_u64(&t, PT_EXE_INO, p->exe_ino);
	cap_tlv_u64(&t, PT_EXE_CTIME, p->exe_ctime);
	cap_tlv_u64(&t, PT_EXE_MTIME, p->exe_mtime);
	cap_tlv_u64(&t, PT_PIDNS_INIT, p->pidns_init_start_ts);
	cap_tlv_str(&t, PT_COMM, p->comm, strnlen(p->comm, sizeof(p->comm)));
	tlv_sstr(&t, PT_EXE, p->exe);
	tlv_sstr(&t, PT_EXEPATH, p->exepath);
	tlv_sstr(&t, PT_ARGS, p->args);
	tlv_sstr(&t, PT_CWD, p->cwd);
	tlv_sstr(&t, PT_ENV, p->env);
	tlv_sstr(&t, PT_ROOT, p->root);
	/* its threads: a scan of the thread pool, fine for snapshots and the rare /proc lookup */
	for (uint32_t i = 0; i < st->thread_hi && !t.failed; i++) {
		const struct st_thread *th = &st->threads[i];
		if (th->tid && th->pid == p->pid && st_map_get(&st->thread_map, th->tid) == i) {
			uint32_t v[2] = {th->tid, th->vtid};
			cap_tlv_bytes(&t, PT_THREAD, v, sizeof(v));
		}
	}
	if (t.failed)
		return -E2BIG;
	if ((r = cap_write_block(w, CAP_B_PROC, t.buf, t.len)) < 0)
		return r;
	for (const struct st_fd *f = st_proc_fds(st, p); f; f = st_fd_next(st, f))
		if ((r = st_snap_write_fd(st, f, w)) < 0 && r != -E2BIG)
			return r;
	return 0;
}

int st_snap_write_env(const struct st_state *st, const struct st_proc *p, struct cap_writer *w)
{
	struct cap_tlv t;

	(void)st;
	cap_tlv_init(&t, scratch, sizeof(scratch));
	cap_tlv_u32(&t, PT_PID, p->pid);
	tlv_sstr(&t, PT_ENV, p->env);
	return t.failed ? -E2BIG : cap_write_block(w, CAP_B_PROC_ENV, t.buf, t.len);
}

int st_snap_write_user(const struct st_state *st, const struct st_user *u, struct cap_writer *w)
{
	struct cap_tlv t;

	cap_tlv_init(&t, scratch, sizeof(scratch));
	cap_tlv_u32(&t, UT_ID, u->id);
	cap_tlv_u32(&t, UT_GID, u->gid);
	cap_tlv_u8(&t, UT_KIND, u->kind);
	cap_tlv_u8(&t, UT_FOUND, u->found);
	ct_id_tlv(st, &t, UT_CONTAINER, (uint32_t)((u->key >> 32) & 0x7fffffffu));
	tlv_sstr(&t, UT_NAME, u->name);
	tlv_sstr(&t, UT_HOME, u->home);
	tlv_sstr(&t, UT_SHELL, u->shell);
	return t.failed ? -E2BIG : cap_write_block(w, CAP_B_USER, t.buf, t.len);
}

int st_snap_write_container(const struct st_state *st, const struct st_container *c,
			    struct cap_writer *w)
{
	struct cap_tlv t;

	(void)st;
	cap_tlv_init(&t, scratch, sizeof(scratch));
	cap_tlv_str(&t, CT_ID, c->id, c->idlen);
	cap_tlv_u8(&t, CT_TYPE, c->type);
	cap_tlv_u8(&t, CT_META, c->meta == ST_META_PENDING ? ST_META_NONE : c->meta);
	cap_tlv_u8(&t, CT_PRIV, c->privileged);
	cap_tlv_u8(&t, CT_PRIV_KNOWN, c->privileged_known);
	cap_tlv_u64(&t, CT_START_TS, c->start_ts);
	tlv_sstr(&t, CT_NAME, c->name);
	tlv_sstr(&t, CT_IMAGE, c->image);
	tlv_sstr(&t, CT_IMAGE_ID, c->image_id);
	tlv_sstr(&t, CT_MOUNTS, c->mounts);
	tlv_sstr(&t, CT_K8S_NS, c->k8s_ns);
	tlv_sstr(&t, CT_K8S_POD, c->k8s_pod);
	tlv_sstr(&t, CT_K8S_POD_UID, c->k8s_pod_uid);
	return t.failed ? -E2BIG : cap_write_block(w, CAP_B_CONTAINER, t.buf, t.len);
}

int st_snap_write_purge(uint32_t id, bool whole_proc, struct cap_writer *w)
{
	uint32_t v[2] = {id, whole_proc};
	return cap_write_block(w, CAP_B_PURGE, v, sizeof(v));
}

int st_snap_write_all(const struct st_state *st, struct cap_writer *w)
{
	int r;

	for (uint32_t i = 1; i < st_container_capacity(st); i++) {
		const struct st_container *c = st_container_at(st, i);
		if (c && (r = st_snap_write_container(st, c, w)) < 0)
			return r;
	}
	for (uint32_t i = 0; i < st_proc_capacity(st); i++) {
		const struct st_proc *p = st_proc_at(st, i);
		if (p && (r = st_snap_write_proc(st, p, w)) < 0 && r != -E2BIG)
			return r;
	}
	for (uint32_t i = 0; i < st_user_capacity(st); i++) {
		const struct st_user *u = st_user_at(st, i);
		if (u && (r = st_snap_write_user(st, u, w)) < 0)
			return r;
	}
	return cap_write_block(w, CAP_B_SNAPSHOT_END, NULL, 0);
}

/* ---- applying ---- */

#define BAD(fmt, ...) errf(errbuf, errlen, -EBADMSG, fmt, ##__VA_ARGS__)

static struct st_str *intern_val(struct st_state *st, const uint8_t *v, uint16_t len)
{
	return st_str_intern(st, (const char *)v, len);
}

static uint32_t container_by_id(struct st_state *st, const uint8_t *v, uint16_t len)
{
	char id[ST_CT_ID_MAX + 1];
	size_t n = MIN((size_t)len, (size_t)ST_CT_ID_MAX);
	memcpy(id, v, n);
	id[n] = '\0';
	struct st_container c = {0};
	memcpy(c.id, id, n + 1);
	c.idlen = (uint8_t)n;
	/* an id seen before the container's own block: keep its metadata, add it otherwise */
	for (uint32_t i = 1; i < st_container_capacity(st); i++) {
		const struct st_container *e = st_container_at(st, i);
		if (e && e->idlen == n && memcmp(e->id, id, n) == 0)
			return i;
	}
	return st_container_put(st, &c);
}

#define U32(dst)                                                                               \
	do {                                                                                   \
		if (!cap_val_u32(v, len, &(dst)))                                              \
			return BAD("attribute %u at +%zu: expected 4 bytes, got %u", tag, off, \
				   len);                                                       \
	} while (0)
#define U64(dst)                                                                               \
	do {                                                                                   \
		if (!cap_val_u64(v, len, &(dst)))                                              \
			return BAD("attribute %u at +%zu: expected 8 bytes, got %u", tag, off, \
				   len);                                                       \
	} while (0)
#define U8(dst)                                                                               \
	do {                                                                                  \
		if (!cap_val_u8(v, len, &(dst)))                                              \
			return BAD("attribute %u at +%zu: expected 1 byte, got %u", tag, off, \
				   len);                                                      \
	} while (0)

static int apply_proc(struct st_state *st, const struct cap_block *b, char *errbuf, size_t errlen)
{
	struct cap_tlv_it it;
	uint16_t tag, len;
	const uint8_t *v;
	size_t off;
	int r;
	uint32_t pid = 0;

	/* the pid first: every other attribute goes into its entry */
	cap_tlv_it_init(&it, b->body, b->len);
	while ((r = cap_tlv_next(&it, &tag, &v, &len, &off)) > 0)
		if (tag == PT_PID)
			U32(pid);
	if (r < 0)
		return BAD("attribute at +%zu overruns the block", off);
	if (pid == 0)
		return BAD("process block without a pid");
	struct st_proc *p = st_proc_find(st, pid);
	if (p)
		st_proc_remove(st, p); /* a reload replaces what we had */
	p = st_proc_create(st, pid);
	if (!p)
		return 0; /* table full: as live, counted */
	cap_tlv_it_init(&it, b->body, b->len);
	while ((r = cap_tlv_next(&it, &tag, &v, &len, &off)) > 0) {
		switch (tag) {
		case PT_PPID:
			U32(p->ppid);
			break;
		case PT_VPID:
			U32(p->vpid);
			break;
		case PT_VPGID:
			U32(p->vpgid);
			break;
		case PT_PGID:
			U32(p->pgid);
			break;
		case PT_SID:
			U32(p->sid);
			break;
		case PT_UID:
			U32(p->uid);
			break;
		case PT_GID:
			U32(p->gid);
			break;
		case PT_LOGINUID:
			U32(p->loginuid);
			break;
		case PT_TTY:
			U32(p->tty);
			break;
		case PT_FLAGS:
			U32(p->flags);
			break;
		case PT_CONTAINER:
			p->container = container_by_id(st, v, len);
			break;
		case PT_CAP_INH:
			U64(p->cap_inh);
			break;
		case PT_CAP_PERM:
			U64(p->cap_perm);
			break;
		case PT_CAP_EFF:
			U64(p->cap_eff);
			break;
		case PT_START_TS:
			U64(p->start_ts);
			break;
		case PT_EXE_INO:
			U64(p->exe_ino);
			break;
		case PT_EXE_CTIME:
			U64(p->exe_ctime);
			break;
		case PT_EXE_MTIME:
			U64(p->exe_mtime);
			break;
		case PT_PIDNS_INIT:
			U64(p->pidns_init_start_ts);
			break;
		case PT_COMM:
			memset(p->comm, 0, sizeof(p->comm));
			memcpy(p->comm, v, MIN((size_t)len, sizeof(p->comm) - 1));
			break;
		case PT_EXE:
			st_str_set(st, &p->exe, intern_val(st, v, len));
			break;
		case PT_EXEPATH:
			st_str_set(st, &p->exepath, intern_val(st, v, len));
			break;
		case PT_ARGS:
			st_str_set(st, &p->args, intern_val(st, v, len));
			break;
		case PT_CWD:
			st_str_set(st, &p->cwd, intern_val(st, v, len));
			break;
		case PT_ENV:
			st_str_set(st, &p->env, intern_val(st, v, len));
			break;
		case PT_ROOT:
			st_str_set(st, &p->root, intern_val(st, v, len));
			break;
		case PT_THREAD: {
			uint32_t tv[2];
			if (len != sizeof(tv))
				return BAD("attribute %u at +%zu: expected 8 bytes, got %u", tag,
					   off, len);
			memcpy(tv, v, sizeof(tv));
			(void)st_thread_add(st, p, tv[0], tv[1]);
			break;
		}
		default:
			break; /* a newer writer's attribute */
		}
	}
	if (r < 0)
		return BAD("attribute at +%zu overruns the block", off);
	if (p->nthreads == 0)
		(void)st_thread_add(st, p, p->pid, p->vpid);
	return 0;
}

static int apply_fd(struct st_state *st, const struct cap_block *b, char *errbuf, size_t errlen)
{
	struct cap_tlv_it it;
	uint16_t tag, len;
	const uint8_t *v;
	size_t off;
	int r;
	uint32_t pid = 0, fdn = UINT32_MAX;
	struct st_fd tmp = {0};

	cap_tlv_it_init(&it, b->body, b->len);
	while ((r = cap_tlv_next(&it, &tag, &v, &len, &off)) > 0) {
		switch (tag) {
		case FT_PID:
			U32(pid);
			break;
		case FT_FD:
			U32(fdn);
			break;
		case FT_TYPE:
			U8(tmp.type);
			break;
		case FT_L4:
			U8(tmp.l4proto);
			break;
		case FT_FAMILY:
			U8(tmp.family);
			break;
		case FT_FLAGS:
			U8(tmp.flags);
			break;
		case FT_OPEN_FLAGS:
			U32(tmp.open_flags);
			break;
		case FT_DEV:
			U32(tmp.dev);
			break;
		case FT_INO:
			U64(tmp.ino);
			break;
		case FT_LPORT:
			if (!cap_val_u16(v, len, &tmp.lport))
				return BAD("attribute %u at +%zu: expected 2 bytes, got %u", tag,
					   off, len);
			break;
		case FT_RPORT:
			if (!cap_val_u16(v, len, &tmp.rport))
				return BAD("attribute %u at +%zu: expected 2 bytes, got %u", tag,
					   off, len);
			break;
		case FT_LIP:
		case FT_RIP:
			if (len != 16)
				return BAD("attribute %u at +%zu: expected 16 bytes, got %u", tag,
					   off, len);
			memcpy(tag == FT_LIP ? tmp.lip : tmp.rip, v, 16);
			break;
		case FT_NAME:
			st_str_set(st, &tmp.name, intern_val(st, v, len));
			break;
		case FT_NAMERAW:
			st_str_set(st, &tmp.nameraw, intern_val(st, v, len));
			break;
		default:
			break;
		}
	}
	if (r < 0 || pid == 0 || fdn > INT32_MAX) {
		st_str_set(st, &tmp.name, NULL);
		st_str_set(st, &tmp.nameraw, NULL);
		return r < 0 ? BAD("attribute at +%zu overruns the block", off)
			     : BAD("fd block without pid or fd");
	}
	struct st_proc *p = st_proc_find(st, pid);
	struct st_fd *f = p ? st_fd_add(st, p, fdn) : NULL;
	if (f)
		st_fd_copy(st, f, &tmp);
	st_str_set(st, &tmp.name, NULL);
	st_str_set(st, &tmp.nameraw, NULL);
	return 0;
}

static int apply_user(struct st_state *st, const struct cap_block *b, char *errbuf, size_t errlen)
{
	struct cap_tlv_it it;
	uint16_t tag, len;
	const uint8_t *v;
	size_t off;
	int r;
	struct st_user u = {0};
	uint32_t ct = 0;
	uint8_t found = 0;

	cap_tlv_it_init(&it, b->body, b->len);
	while ((r = cap_tlv_next(&it, &tag, &v, &len, &off)) > 0) {
		switch (tag) {
		case UT_ID:
			U32(u.id);
			break;
		case UT_GID:
			U32(u.gid);
			break;
		case UT_KIND:
			U8(u.kind);
			break;
		case UT_FOUND:
			U8(found);
			break;
		case UT_CONTAINER:
			ct = container_by_id(st, v, len);
			break;
		case UT_NAME:
			st_str_set(st, &u.name, intern_val(st, v, len));
			break;
		case UT_HOME:
			st_str_set(st, &u.home, intern_val(st, v, len));
			break;
		case UT_SHELL:
			st_str_set(st, &u.shell, intern_val(st, v, len));
			break;
		default:
			break;
		}
	}
	if (r >= 0) {
		u.found = found != 0;
		u.key = (uint64_t)(u.kind ? 1 : 0) << 63 | (uint64_t)ct << 32 | u.id;
		st_user_put(st, &u);
	}
	st_str_set(st, &u.name, NULL);
	st_str_set(st, &u.home, NULL);
	st_str_set(st, &u.shell, NULL);
	return r < 0 ? BAD("attribute at +%zu overruns the block", off) : 0;
}

static int apply_container(struct st_state *st, const struct cap_block *b, char *errbuf,
			   size_t errlen)
{
	struct cap_tlv_it it;
	uint16_t tag, len;
	const uint8_t *v;
	size_t off;
	int r;
	struct st_container c = {0};
	struct st_str **slot = NULL;

	cap_tlv_it_init(&it, b->body, b->len);
	while ((r = cap_tlv_next(&it, &tag, &v, &len, &off)) > 0) {
		uint8_t b8;
		switch (tag) {
		case CT_ID:
			c.idlen = (uint8_t)MIN((size_t)len, (size_t)ST_CT_ID_MAX);
			memcpy(c.id, v, c.idlen);
			c.id[c.idlen] = '\0';
			continue;
		case CT_TYPE:
			U8(c.type);
			continue;
		case CT_META:
			U8(c.meta);
			continue;
		case CT_PRIV:
			U8(b8);
			c.privileged = b8;
			continue;
		case CT_PRIV_KNOWN:
			U8(b8);
			c.privileged_known = b8;
			continue;
		case CT_START_TS:
			U64(c.start_ts);
			continue;
		case CT_NAME:
			slot = &c.name;
			break;
		case CT_IMAGE:
			slot = &c.image;
			break;
		case CT_IMAGE_ID:
			slot = &c.image_id;
			break;
		case CT_MOUNTS:
			slot = &c.mounts;
			break;
		case CT_K8S_NS:
			slot = &c.k8s_ns;
			break;
		case CT_K8S_POD:
			slot = &c.k8s_pod;
			break;
		case CT_K8S_POD_UID:
			slot = &c.k8s_pod_uid;
			break;
		default:
			continue;
		}
		st_str_set(st, slot, intern_val(st, v, len));
	}
	if (r >= 0 && c.idlen == 0)
		r = -EINVAL;
	if (r >= 0)
		(void)st_container_put(st, &c);
	struct st_str **all[] = {&c.name,   &c.image,	&c.image_id,   &c.mounts,
				 &c.k8s_ns, &c.k8s_pod, &c.k8s_pod_uid};
	for (size_t i = 0; i < ARRAY_SIZE(all); i++)
		st_str_set(st, all[i], NULL);
	if (r == -EINVAL)
		return BAD("container block without an id");
	return r < 0 ? BAD("attribute at +%zu overruns the block", off) : 0;
}

static int apply_env(struct st_state *st, const struct cap_block *b, char *errbuf, size_t errlen)
{
	struct cap_tlv_it it;
	uint16_t tag, len;
	const uint8_t *v;
	size_t off;
	int r;
	uint32_t pid = 0;
	struct st_str *env = NULL;

	cap_tlv_it_init(&it, b->body, b->len);
	while ((r = cap_tlv_next(&it, &tag, &v, &len, &off)) > 0) {
		if (tag == PT_PID)
			U32(pid);
		else if (tag == PT_ENV)
			st_str_set(st, &env, intern_val(st, v, len));
	}
	if (r < 0) {
		st_str_unref(st, env);
		return BAD("attribute at +%zu overruns the block", off);
	}
	st_proc_env_recorded(st, pid, env);
	return 0;
}

int st_snap_apply(struct st_state *st, const struct cap_block *b, char *errbuf, size_t errlen)
{
	switch (b->type) {
	case CAP_B_PROC:
		return apply_proc(st, b, errbuf, errlen);
	case CAP_B_FD:
		return apply_fd(st, b, errbuf, errlen);
	case CAP_B_USER:
		return apply_user(st, b, errbuf, errlen);
	case CAP_B_CONTAINER:
		return apply_container(st, b, errbuf, errlen);
	case CAP_B_PROC_ENV:
		return apply_env(st, b, errbuf, errlen);
	case CAP_B_PURGE: {
		uint32_t v[2];
		if (b->len != sizeof(v))
			return BAD("purge block of %u bytes (expected 8)", b->len);
		memcpy(v, b->body, sizeof(v));
		if (v[1]) {
			struct st_proc *p = st_proc_find(st, v[0]);
			if (p)
				st_proc_remove(st, p);
		} else {
			struct st_thread *t = st_thread_find(st, v[0]);
			if (t)
				st_thread_remove(st, t);
		}
		return 0;
	}
	default:
		return 0; /* not a state block */
	}
}
