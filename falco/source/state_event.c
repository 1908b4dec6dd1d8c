/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-event state transitions, with upstream's timing: what an event creates or changes is in place before the
 * rules look (clone's child, exec's new image, open's descriptor, connect's tuple); what it destroys goes after
 * them (close still shows the descriptor being closed, procexit the exiting process).
 */
#include <errno.h>
#include <string.h>

#include "common/macro.h"
#include "sc_internal.h"
#include "state_internal.h"

#define EVT_EINPROGRESS 115
#define EVT_EBADF	9

/* ---- helpers ---- */

static bool is_clone(uint16_t t)
{
	return t == EVT_CLONE_X || t == EVT_CLONE3_X || t == EVT_FORK_X || t == EVT_VFORK_X;
}

static void set_comm(struct st_proc *p, const char *s, size_t n)
{
	if (n >= sizeof(p->comm))
		n = sizeof(p->comm) - 1;
	memcpy(p->comm, s, n);
	memset(p->comm + n, 0, sizeof(p->comm) - n);
}

/* The first argument of a NUL-separated list, for processes we know only by comm. */
static void set_str_param(struct st_state *st, struct st_str **slot, const struct evt_rec *r,
			  enum sc_pn pn)
{
	const char *s;
	size_t n;
	if (sc_get_str(r, pn, &s, &n))
		st_str_set(st, slot, st_str_intern(st, s, n));
}

/* cwd ends with '/' as upstream's. */
static void set_cwd(struct st_state *st, struct st_proc *p, const char *s, size_t n)
{
	char buf[EVT_MAX_PATH + 2];

	if (n == 0)
		return;
	if (n > EVT_MAX_PATH)
		n = EVT_MAX_PATH;
	memcpy(buf, s, n);
	if (buf[n - 1] != '/')
		buf[n++] = '/';
	st_str_set(st, &p->cwd, st_str_intern(st, buf, n));
}

/* Resolves name (relative to dirfd, or the cwd for AT_FDCWD) into buf. Returns the length. */
static size_t resolve_at(struct st_state *st, const struct st_proc *p, int64_t dirfd,
			 bool has_dirfd, const char *name, size_t nlen, char *buf, size_t size)
{
	const char *dir = "/";
	size_t dlen = 1;

	if (nlen && name[0] == '/')
		return st_path_resolve(NULL, 0, name, nlen, buf, size);
	if (has_dirfd && dirfd != EVT_AT_FDCWD) {
		const struct st_fd *d = st_fd_find(st, p, dirfd);
		if (d && d->name && d->name->len && d->name->s[0] == '/') {
			dir = d->name->s;
			dlen = d->name->len;
		} else {
			/* unknown directory descriptor: keep the name as given */
			size_t n = MIN(nlen, size - 1);
			memcpy(buf, name, n);
			buf[n] = '\0';
			return n;
		}
	} else if (p->cwd && p->cwd->len) {
		dir = p->cwd->s;
		dlen = p->cwd->len;
	}
	return st_path_resolve(dir, dlen, name, nlen, buf, size);
}

static enum st_fd_type family_type(uint8_t family)
{
	switch (family) {
	case EVT_AF_INET:
		return FDT_IPV4;
	case EVT_AF_INET6:
		return FDT_IPV6;
	case EVT_AF_UNIX:
		return FDT_UNIX;
	case EVT_AF_NETLINK:
		return FDT_NETLINK;
	default:
		return FDT_SOCKET;
	}
}

static void close_cloexec(struct st_state *st, struct st_proc *p)
{
	struct st_fd *f = st_proc_fds(st, p);
	while (f) {
		struct st_fd *n = st_fd_next(st, f);
		if (f->flags & ST_FD_CLOEXEC)
			st_fd_remove(st, p, f);
		f = n;
	}
}

/*
 * A successful close_range(fd, max_fd, flags): the descriptors in the range are closed, or with
 * CLOSE_RANGE_CLOEXEC only marked close-on-exec. With CLOSE_RANGE_UNSHARE the caller first gets a private copy of
 * the table; fd tables here are per process, so for a multithreaded caller the other threads' descriptors are
 * closed too (the usual caller is a freshly forked child, single-threaded, where both are the same).
 */
static void on_close_range(struct st_state *st, struct st_proc *p, const struct evt_rec *r)
{
	int64_t first;
	uint64_t last, flags = 0;

	if (!sc_get_s64(r, PN_FD, &first) || !sc_get_u64(r, PN_MAX_FD, &last))
		return;
	(void)sc_get_u64(r, PN_FLAGS, &flags);
	struct st_fd *f = st_proc_fds(st, p);
	while (f) {
		struct st_fd *n = st_fd_next(st, f);
		int64_t num = st_fd_num(f);
		if (num >= first && (uint64_t)num <= last) {
			if (flags & EVT_CLOSE_RANGE_CLOEXEC)
				f->flags |= ST_FD_CLOEXEC;
			else
				st_fd_remove(st, p, f);
		}
		f = n;
	}
}

/* ---- the event's process ---- */

bool st_lookup_allowed(struct st_state *st, uint64_t ts)
{
	uint64_t w = ts / 1000000000u;
	if (w != st->lookup_window_ts) {
		st->lookup_window_ts = w;
		st->lookups_in_window = 0;
	}
	if (st->lookups_in_window >= st->lim.proc_lookups_per_s) {
		st->stats.proc_lookup_limited++;
		return false;
	}
	st->lookups_in_window++;
	return true;
}

/* A clone's child: the parent's image, its own ids. */
static struct st_proc *clone_child(struct st_state *st, const struct evt_rec *r, uint32_t pid,
				   uint32_t ptid, uint32_t flags)
{
	struct st_proc *par = ptid ? st_proc_find(st, ptid) : NULL;
	struct st_proc *c = st_proc_create(st, pid);

	if (!c)
		return NULL;
	if (c->start_ts == 0)
		c->start_ts = r->ts;
	if (par && par != c) {
		bool fresh = c->exe == NULL && !(c->flags & ST_P_SEEN_EXEC);
		if (fresh)
			st_proc_inherit(st, c, par, true);
		c->ppid = (flags & EVT_CLONE_PARENT) && par->ppid ? par->ppid : par->pid;
	} else if (ptid) {
		c->ppid = ptid;
		c->flags |= ST_P_PARTIAL;
	}
	return c;
}

struct st_proc *st_event_proc(struct st_state *st, const struct evt_rec *r,
			      struct st_thread **ret_thr)
{
	/* slots are never freed, only recycled: a cached pointer is right exactly when its id still matches */
	struct st_proc *p = st->last_proc && st->last_proc->pid == r->pid
				    ? st->last_proc
				    : st_proc_find(st, r->pid);
	struct st_thread *t;
	int64_t res = -1;

	if (!p) {
		/* a clone's child describes itself: build it from its parent rather than from /proc */
		if (is_clone(r->type) && sc_event_res(r, &res) && res == 0) {
			int64_t ptid = 0;
			uint64_t fl = 0;
			(void)sc_get_s64(r, PN_PTID, &ptid);
			(void)sc_get_u64(r, PN_FLAGS, &fl);
			p = clone_child(st, r, r->pid, (uint32_t)ptid, (uint32_t)fl);
		} else if (r->type != EVT_PROCEXIT && !st->opt.replay &&
			   st_lookup_allowed(st, r->ts)) {
			p = st_proc_load(st, r->pid);
		}
		if (!p) {
			p = st_proc_create(st, r->pid);
			if (!p)
				return NULL;
			p->flags |= ST_P_PARTIAL;
			/* nobody said who runs it: not root (upstream's unknown ids), until an exec or clone says */
			p->uid = p->gid = ST_ID_UNKNOWN;
			int64_t ptid;
			if (sc_get_s64(r, PN_PTID, &ptid))
				p->ppid = (uint32_t)ptid;
		}
	}
	t = st->last_thread && st->last_thread->tid == r->tid ? st->last_thread
							      : st_thread_find(st, r->tid);
	if (!t || t->pid != p->pid)
		t = st_thread_add(st, p, r->tid, 0); /* new, or a reused tid */
	st->last_proc = p;
	st->last_thread = t;
	*ret_thr = t;
	return p;
}

/* ---- process events ---- */

static void on_exec(struct st_state *st, struct sc_evt *e)
{
	const struct evt_rec *r = &e->rec;
	struct st_proc *p = e->proc;
	const char *s;
	size_t n;
	uint64_t u;
	int64_t v;

	if (!(e->flags & SC_EVT_HAS_RES) || e->res != 0)
		return; /* a failed exec changes nothing */
	st_proc_clear_image(st, p);
	set_str_param(st, &p->exe, r, PN_EXE);
	if (sc_get_str(r, PN_CWD, &s, &n))
		set_cwd(st, p, s, n);
	const uint8_t *b;
	if (sc_get_buf(r, PN_ARGS, &b, &n))
		st_str_set(st, &p->args, st_str_intern(st, (const char *)b, n));
	if (sc_get_buf(r, PN_ENV, &b, &n) && n)
		st_str_set(st, &p->env, st_str_intern(st, (const char *)b, n));
	if (sc_get_str(r, PN_COMM, &s, &n))
		set_comm(p, s, n);
	/* the executable: the kernel's own path when the driver could read it, else the name given to exec */
	if (sc_get_str(r, PN_TRUSTED_EXEPATH, &s, &n) && n) {
		st_str_set(st, &p->exepath, st_str_intern(st, s, n));
	} else if (sc_get_str(r, PN_FILENAME, &s, &n) && n) {
		char buf[EVT_MAX_PATH];
		size_t k = resolve_at(st, p, EVT_AT_FDCWD, false, s, n, buf, sizeof(buf));
		st_str_set(st, &p->exepath, st_str_intern(st, buf, k));
	} else if (p->exe) {
		st_str_set(st, &p->exepath, st_str_ref(p->exe));
	}
	if (!p->exe && p->exepath) {
		const char *base = strrchr(p->exepath->s, '/');
		st_str_set(st, &p->exe, st_str_intern_cstr(st, base ? base + 1 : p->exepath->s));
	}
	if (sc_get_u64(r, PN_TTY, &u))
		p->tty = (uint32_t)u;
	if (sc_get_u64(r, PN_LOGINUID, &u))
		p->loginuid = (uint32_t)u;
	if (sc_get_u64(r, PN_FLAGS, &u))
		p->flags |= (uint32_t)u &
			    (ST_P_EXE_WRITABLE | ST_P_EXE_UPPER | ST_P_EXE_MEMFD | ST_P_EXE_LOWER);
	(void)sc_get_u64(r, PN_CAP_INH, &p->cap_inh);
	(void)sc_get_u64(r, PN_CAP_PERM, &p->cap_perm);
	(void)sc_get_u64(r, PN_CAP_EFF, &p->cap_eff);
	(void)sc_get_u64(r, PN_EXE_INO, &p->exe_ino);
	(void)sc_get_u64(r, PN_EXE_CTIME, &p->exe_ctime);
	(void)sc_get_u64(r, PN_EXE_MTIME, &p->exe_mtime);
	if (sc_get_u64(r, PN_UID, &u))
		p->uid = (uint32_t)u;
	if (sc_get_u64(r, PN_GID, &u))
		p->gid = (uint32_t)u;
	if (sc_get_s64(r, PN_PGID, &v))
		p->pgid = (uint32_t)v;
	if (sc_get_s64(r, PN_VPID, &v))
		p->vpid = (uint32_t)v;
	if (e->thr && sc_get_s64(r, PN_VTID, &v))
		e->thr->vtid = (uint32_t)v;
	if (sc_get_s64(r, PN_VPGID, &v))
		p->vpgid = (uint32_t)v;
	if (sc_get_s64(r, PN_SID, &v))
		p->sid = (uint32_t)v;
	if (sc_get_s64(r, PN_PTID, &v) && (p->ppid == 0 || (p->flags & ST_P_PARTIAL)))
		p->ppid = (uint32_t)v;
	if (sc_get_u64(r, PN_START_TS, &u) && u && (p->start_ts == 0 || (p->flags & ST_P_PARTIAL)))
		p->start_ts = u;
	if (p->start_ts == 0)
		p->start_ts = r->ts;
	(void)sc_get_u64(r, PN_PIDNS_INIT, &p->pidns_init_start_ts);
	if (sc_get_buf(r, PN_CGROUPS, &b, &n) && n)
		p->container = st_container_from_cgroups(st, (const char *)b, n, r->ts);
	if (p->vpid && p->vpgid)
		p->flags = p->vpid == p->vpgid ? p->flags | ST_P_VPGID_LEADER
					       : p->flags & ~(uint32_t)ST_P_VPGID_LEADER;
	close_cloexec(st, p);
	p->flags |= ST_P_SEEN_EXEC;
	p->flags &= ~(uint32_t)ST_P_PARTIAL;
	st_proc_classify(st, p);
	if (p->container)
		st->cts[p->container].last_used = r->ts;
}

static void on_clone(struct st_state *st, struct sc_evt *e)
{
	const struct evt_rec *r = &e->rec;
	struct st_proc *p = e->proc;
	uint64_t fl = 0;
	int64_t v;

	if (!(e->flags & SC_EVT_HAS_RES) || e->res < 0)
		return;
	(void)sc_get_u64(r, PN_FLAGS, &fl);
	if (e->res == 0) {
		/* the child's own event: its ids (the process was made by st_event_proc or the parent's event) */
		if (sc_get_s64(r, PN_VPID, &v))
			p->vpid = (uint32_t)v;
		if (e->thr && sc_get_s64(r, PN_VTID, &v))
			e->thr->vtid = (uint32_t)v;
		if (!(fl & EVT_CLONE_THREAD)) {
			uint64_t u;
			if (sc_get_u64(r, PN_UID, &u))
				p->uid = (uint32_t)u;
			if (sc_get_u64(r, PN_GID, &u))
				p->gid = (uint32_t)u;
			const char *s;
			size_t n;
			if (!p->comm[0] && sc_get_str(r, PN_COMM, &s, &n))
				set_comm(p, s, n);
			if (p->start_ts == 0)
				p->start_ts = r->ts;
		}
		return;
	}
	/*
	 * The parent's event: res is the child's tid as the caller sees it. Inside a pid namespace that is a
	 * virtual id: then wait for the child's own event, which carries the real one.
	 */
	if (sc_get_s64(r, PN_VPID, &v) && (uint32_t)v != r->pid)
		return;
	uint32_t child = (uint32_t)e->res;
	if (fl & EVT_CLONE_THREAD) {
		(void)st_thread_add(st, p, child, 0);
		return;
	}
	struct st_proc *c = st_proc_find(st, child);
	if (!c) {
		c = clone_child(st, r, child, p->pid, (uint32_t)fl);
		if (!c)
			return;
		/* clone_child may have moved nothing: p stays valid (pools never move) */
	}
	(void)st_thread_add(st, c, child, 0);
}

static void on_setuid(struct st_state *st, struct sc_evt *e, bool group)
{
	const struct evt_rec *r = &e->rec;
	uint64_t u;

	if (!(e->flags & SC_EVT_HAS_RES) || e->res != 0)
		return;
	if (r->type == EVT_SETRESUID_X || r->type == EVT_SETRESGID_X || r->type == EVT_SETREUID_X ||
	    r->type == EVT_SETREGID_X) {
		/* the effective id; -1 leaves it unchanged */
		if (!sc_get_u64(r, group ? PN_EGID : PN_EUID, &u) || (uint32_t)u == UINT32_MAX)
			return;
	} else if (!sc_get_u64(r, group ? PN_GID : PN_UID, &u)) {
		return;
	}
	if (group)
		e->proc->gid = (uint32_t)u;
	else
		e->proc->uid = (uint32_t)u;
}

/* ---- descriptor events ---- */

static void on_open(struct st_state *st, struct sc_evt *e)
{
	const struct evt_rec *r = &e->rec;
	struct st_proc *p = e->proc;
	const char *name = "";
	size_t nlen = 0;
	int64_t fd = -1, dirfd = EVT_AT_FDCWD;
	uint64_t flags = 0, u;
	char buf[EVT_MAX_PATH + 1];

	(void)sc_get_s64(r, PN_FD, &fd);
	(void)sc_get_str(r, PN_NAME, &name, &nlen);
	bool has_dirfd = sc_get_s64(r, PN_DIRFD, &dirfd);
	if (r->type == EVT_CREAT_X) {
		if (!sc_get_u64(r, PN_CREAT_FLAGS, &flags))
			flags = EVT_O_CREAT | EVT_O_WRONLY | EVT_O_TRUNC;
	} else {
		(void)sc_get_u64(r, PN_FLAGS, &flags);
	}
	size_t k = resolve_at(st, p, dirfd, has_dirfd, name, nlen, buf, sizeof(buf));

	struct st_fd *f = fd >= 0 ? st_fd_add(st, p, fd) : NULL;
	if (!f) {
		/* a failed open (or a full table): a descriptor that exists only for this event */
		f = &e->tmpfd;
		memset(f, 0, sizeof(*f));
		f->key = (uint32_t)-1;
		e->flags |= SC_EVT_TMPFD;
	}
	f->type = (flags & EVT_O_DIRECTORY) ? FDT_DIRECTORY : FDT_FILE;
	f->open_flags = (uint32_t)flags;
	if (flags & EVT_O_CLOEXEC)
		f->flags |= ST_FD_CLOEXEC;
	if (sc_get_u64(r, PN_DEV, &u))
		f->dev = (uint32_t)u;
	(void)sc_get_u64(r, PN_INO, &f->ino);
	st_str_set(st, &f->name, st_str_intern(st, buf, k));
	if (k == nlen && memcmp(buf, name, nlen) == 0)
		st_str_set(st, &f->nameraw, st_str_ref(f->name));
	else
		st_str_set(st, &f->nameraw, st_str_intern(st, name, nlen));
	e->fd = f;
	e->fdnum = fd >= 0 ? fd : -1;
}

static void set_tuple(struct sc_evt *e, struct st_fd *f, const struct evt_socktuple *t,
		      bool inbound)
{
	size_t alen = t->family == EVT_AF_INET6 ? 16 : 4;
	const uint8_t *lip = inbound ? t->dip : t->sip, *rip = inbound ? t->sip : t->dip;
	uint16_t lport = inbound ? t->dport : t->sport, rport = inbound ? t->sport : t->dport;

	if ((f->flags & ST_FD_HAS_TUPLE) &&
	    (f->lport != lport || f->rport != rport || memcmp(f->lip, lip, alen) ||
	     memcmp(f->rip, rip, alen)))
		e->flags |= SC_EVT_NAME_CHANGED;
	else if (!(f->flags & ST_FD_HAS_TUPLE))
		e->flags |= SC_EVT_NAME_CHANGED;
	memset(f->lip, 0, sizeof(f->lip));
	memset(f->rip, 0, sizeof(f->rip));
	memcpy(f->lip, lip, alen);
	memcpy(f->rip, rip, alen);
	f->lport = lport;
	f->rport = rport;
	f->family = t->family;
	f->flags |= ST_FD_HAS_TUPLE;
}

static bool ip_zero(const uint8_t *ip, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ip[i])
			return false;
	return true;
}

/* connect, send*, recv*: the tuple of an existing (or newly learnt) socket */
static void on_sock_io(struct st_state *st, struct sc_evt *e, bool is_connect)
{
	const struct evt_rec *r = &e->rec;
	struct st_proc *p = e->proc;
	struct evt_socktuple t;
	int64_t fd = -1;
	int ti = sc_pidx(r->type, PN_TUPLE);
	bool has_t = ti >= 0 && evt_get_socktuple(r, (unsigned)ti, &t) > 0;

	if (!sc_get_s64(r, PN_FD, &fd))
		return;
	struct st_fd *f = st_fd_find(st, p, fd);
	if (!f && has_t && fd >= 0) {
		f = st_fd_add(st, p, fd);
		if (f) {
			f->type = family_type(t.family);
			f->l4proto = ST_L4_TCP;
		}
	}
	e->fd = f;
	e->fdnum = fd;
	if (!f)
		return;
	if (is_connect) {
		bool ok =
			(e->flags & SC_EVT_HAS_RES) && (e->res == 0 || e->res == -EVT_EINPROGRESS);
		if (ok)
			f->flags |= ST_FD_CONNECTED;
	}
	if (!(f->flags & ST_FD_ROLE_KNOWN))
		f->flags |= ST_FD_ROLE_KNOWN; /* the one who sends first or connects: client */
	if (!has_t && is_connect) {
		/* a failed connect has no tuple: the peer is the address that was asked for */
		struct evt_sockaddr a;
		int ai = sc_pidx(r->type, PN_ADDR);
		if (ai < 0 || evt_get_sockaddr(r, (unsigned)ai, &a) <= 0)
			return;
		if (a.family == EVT_AF_INET || a.family == EVT_AF_INET6) {
			size_t alen = a.family == EVT_AF_INET6 ? 16 : 4;
			if (f->type == FDT_UNKNOWN || f->type == FDT_SOCKET)
				f->type = family_type(a.family);
			f->family = a.family;
			if (!(f->flags & ST_FD_HAS_TUPLE) || f->rport != a.port ||
			    memcmp(f->rip, a.ip, alen))
				e->flags |= SC_EVT_NAME_CHANGED;
			memset(f->rip, 0, sizeof(f->rip));
			memcpy(f->rip, a.ip, alen);
			f->rport = a.port;
			f->flags |= ST_FD_HAS_TUPLE;
		} else if (a.family == EVT_AF_UNIX && a.path && a.path_len) {
			st_str_set(st, &f->name, st_str_intern(st, a.path, a.path_len));
		}
		return;
	}
	if (!has_t)
		return;
	if (t.family == EVT_AF_INET || t.family == EVT_AF_INET6) {
		if (f->type == FDT_UNKNOWN || f->type == FDT_SOCKET)
			f->type = family_type(t.family);
		set_tuple(e, f, &t,
			  false); /* the driver sends send/recv/connect tuples local first */
		/* a failed connect may leave the socket without its peer: take it from the address */
		size_t alen = t.family == EVT_AF_INET6 ? 16 : 4;
		struct evt_sockaddr a;
		int ai = sc_pidx(r->type, PN_ADDR);
		if (is_connect && ip_zero(f->rip, alen) && ai >= 0 &&
		    evt_get_sockaddr(r, (unsigned)ai, &a) > 0 && a.family == t.family) {
			memcpy(f->rip, a.ip, alen);
			f->rport = a.port;
		}
	} else if (t.family == EVT_AF_UNIX) {
		f->type = FDT_UNIX;
		f->family = EVT_AF_UNIX;
		if (t.path && t.path_len &&
		    (!f->name || f->name->len != t.path_len ||
		     memcmp(f->name->s, t.path, t.path_len))) {
			st_str_set(st, &f->name, st_str_intern(st, t.path, t.path_len));
			e->flags |= SC_EVT_NAME_CHANGED;
		}
	}
}

static void on_accept(struct st_state *st, struct sc_evt *e)
{
	const struct evt_rec *r = &e->rec;
	struct evt_socktuple t;
	int64_t fd;
	uint64_t fl = 0;

	if (!sc_get_s64(r, PN_FD, &fd) || fd < 0)
		return;
	struct st_fd *f = st_fd_add(st, e->proc, fd);
	e->fd = f;
	e->fdnum = fd;
	if (!f)
		return;
	f->type = FDT_IPV4;
	f->l4proto = ST_L4_TCP;
	f->flags |= ST_FD_SERVER | ST_FD_ROLE_KNOWN | ST_FD_CONNECTED;
	if (sc_get_u64(r, PN_FLAGS, &fl) && (fl & EVT_SOCK_CLOEXEC))
		f->flags |= ST_FD_CLOEXEC;
	int ti = sc_pidx(r->type, PN_TUPLE);
	if (ti < 0 || evt_get_socktuple(r, (unsigned)ti, &t) <= 0)
		return;
	f->type = family_type(t.family);
	f->family = t.family;
	if (t.family == EVT_AF_INET || t.family == EVT_AF_INET6) {
		set_tuple(e, f, &t, true);
	} else if (t.family == EVT_AF_UNIX) {
		f->l4proto = ST_L4_NONE;
		if (t.path && t.path_len)
			st_str_set(st, &f->name, st_str_intern(st, t.path, t.path_len));
	}
}

static void on_socket(struct st_state *st, struct sc_evt *e)
{
	const struct evt_rec *r = &e->rec;
	uint64_t dom = 0, type = 0, proto = 0;
	int64_t fd;

	if (!sc_get_s64(r, PN_FD, &fd) || fd < 0)
		return;
	(void)sc_get_u64(r, PN_DOMAIN, &dom);
	(void)sc_get_u64(r, PN_TYPE, &type);
	(void)sc_get_u64(r, PN_PROTO, &proto);
	struct st_fd *f = st_fd_add(st, e->proc, fd);
	e->fd = f;
	e->fdnum = fd;
	if (!f)
		return;
	f->type = family_type((uint8_t)dom);
	f->family = (uint8_t)dom;
	switch (type & EVT_SOCK_TYPE_MASK) {
	case EVT_SOCK_STREAM:
		f->l4proto = ST_L4_TCP;
		break;
	case EVT_SOCK_DGRAM:
		f->l4proto = proto == 1 || proto == 58 ? ST_L4_ICMP : ST_L4_UDP;
		break;
	case EVT_SOCK_RAW:
		f->l4proto = proto == 1 || proto == 58 ? ST_L4_ICMP : ST_L4_RAW;
		break;
	default:
		f->l4proto = ST_L4_NONE;
		break;
	}
	if (dom == EVT_AF_UNIX || dom == EVT_AF_NETLINK)
		f->l4proto = ST_L4_NONE;
	if (type & EVT_SOCK_CLOEXEC)
		f->flags |= ST_FD_CLOEXEC;
}

static void on_bind(struct st_state *st, struct sc_evt *e, bool listen)
{
	const struct evt_rec *r = &e->rec;
	int64_t fd;

	if (!sc_get_s64(r, PN_FD, &fd))
		return;
	struct st_fd *f = st_fd_find(st, e->proc, fd);
	e->fd = f;
	e->fdnum = fd;
	if (!f || !(e->flags & SC_EVT_HAS_RES) || e->res != 0)
		return;
	f->flags |= ST_FD_SERVER | ST_FD_ROLE_KNOWN;
	if (listen)
		return;
	struct evt_sockaddr a;
	int ai = sc_pidx(r->type, PN_ADDR);
	if (ai < 0 || evt_get_sockaddr(r, (unsigned)ai, &a) <= 0)
		return;
	if (a.family == EVT_AF_INET || a.family == EVT_AF_INET6) {
		size_t alen = a.family == EVT_AF_INET6 ? 16 : 4;
		memset(f->lip, 0, sizeof(f->lip));
		memcpy(f->lip, a.ip, alen);
		f->lport = a.port;
		f->family = a.family;
		f->type = family_type(a.family);
		f->flags |= ST_FD_HAS_TUPLE;
	} else if (a.family == EVT_AF_UNIX && a.path && a.path_len) {
		st_str_set(st, &f->name, st_str_intern(st, a.path, a.path_len));
	}
}

static void on_dup(struct st_state *st, struct sc_evt *e)
{
	const struct evt_rec *r = &e->rec;
	int64_t oldfd = -1, newfd = e->res;
	uint64_t fl = 0;
	bool cloexec = false;

	if (r->type == EVT_FCNTL_X) {
		uint64_t cmd = 0;
		(void)sc_get_s64(r, PN_FD, &oldfd);
		(void)sc_get_u64(r, PN_CMD, &cmd);
		e->fd = st_fd_find(st, e->proc, oldfd);
		e->fdnum = oldfd;
		if (cmd != EVT_F_DUPFD && cmd != EVT_F_DUPFD_CLOEXEC)
			return;
		cloexec = cmd == EVT_F_DUPFD_CLOEXEC;
	} else {
		(void)sc_get_s64(r, PN_OLDFD, &oldfd);
		if (sc_get_u64(r, PN_FLAGS, &fl))
			cloexec = (fl & EVT_O_CLOEXEC) != 0;
	}
	struct st_fd *old = st_fd_find(st, e->proc, oldfd);
	e->fd = old;
	e->fdnum = oldfd;
	if (!(e->flags & SC_EVT_HAS_RES) || newfd < 0 || newfd == oldfd)
		return;
	if (!old) {
		/* newfd now refers to a descriptor we do not know (an eventfd, one from before a lost event):
		 * whatever we had under that number is gone */
		struct st_fd *stale = st_fd_find(st, e->proc, newfd);
		if (stale)
			st_fd_remove(st, e->proc, stale);
		return;
	}
	uint32_t oidx = (uint32_t)(old - st->fds);
	struct st_fd *n = st_fd_add(st, e->proc, newfd);
	if (!n)
		return;
	old = &st->fds[oidx];
	st_fd_copy(st, n, old);
	n->flags = (uint8_t)((n->flags & ~ST_FD_CLOEXEC) | (cloexec ? ST_FD_CLOEXEC : 0));
	e->fd = n;
}

static struct st_fd *add_named(struct st_state *st, struct sc_evt *e, int64_t fd,
			       enum st_fd_type type, const char *name, size_t nlen, bool cloexec)
{
	struct st_fd *f = st_fd_add(st, e->proc, fd);
	if (!f)
		return NULL;
	f->type = (uint8_t)type;
	if (cloexec)
		f->flags |= ST_FD_CLOEXEC;
	if (name)
		st_str_set(st, &f->name, st_str_intern(st, name, nlen));
	return f;
}

static void on_pipe(struct st_state *st, struct sc_evt *e, bool pair)
{
	const struct evt_rec *r = &e->rec;
	int64_t fd1 = -1, fd2 = -1;
	uint64_t ino = 0, fl = 0, type = 0;
	char name[64];
	int n = 0;

	if (!(e->flags & SC_EVT_HAS_RES) || e->res < 0)
		return;
	(void)sc_get_s64(r, PN_FD1, &fd1);
	(void)sc_get_s64(r, PN_FD2, &fd2);
	(void)sc_get_u64(r, PN_INO, &ino);
	(void)sc_get_u64(r, PN_FLAGS, &fl);
	(void)sc_get_u64(r, PN_TYPE, &type);
	bool cloexec = pair ? (type & EVT_SOCK_CLOEXEC) != 0 : (fl & EVT_O_CLOEXEC) != 0;
	if (!pair)
		n = snprintf(name, sizeof(name), "pipe:[%llu]", (unsigned long long)ino);
	for (int i = 0; i < 2; i++) {
		int64_t fd = i ? fd2 : fd1;
		if (fd < 0)
			continue;
		struct st_fd *f = add_named(st, e, fd, pair ? FDT_UNIX : FDT_PIPE,
					    pair ? NULL : name, (size_t)n, cloexec);
		if (f && pair)
			f->family = EVT_AF_UNIX;
		if (f && !i) {
			e->fd = f;
			e->fdnum = fd;
		}
	}
}

static bool bpf_cmd_creates_fd(uint64_t cmd)
{
	switch (cmd) {
	case EVT_BPF_MAP_CREATE:
	case EVT_BPF_PROG_LOAD:
	case EVT_BPF_OBJ_GET:
	case EVT_BPF_PROG_GET_FD_BY_ID:
	case EVT_BPF_MAP_GET_FD_BY_ID:
	case EVT_BPF_RAW_TRACEPOINT_OPEN:
	case EVT_BPF_BTF_LOAD:
	case EVT_BPF_BTF_GET_FD_BY_ID:
	case EVT_BPF_LINK_CREATE:
	case EVT_BPF_LINK_GET_FD_BY_ID:
	case EVT_BPF_ITER_CREATE:
	case EVT_BPF_TOKEN_CREATE:
		return true;
	default:
		return false;
	}
}

static void on_chdir(struct st_state *st, struct sc_evt *e)
{
	const struct evt_rec *r = &e->rec;
	struct st_proc *p = e->proc;
	char buf[EVT_MAX_PATH + 1];

	if (r->type == EVT_FCHDIR_X) {
		int64_t fd;
		if (!sc_get_s64(r, PN_FD, &fd))
			return;
		e->fd = st_fd_find(st, p, fd);
		e->fdnum = fd;
		if (e->res == 0 && e->fd && e->fd->name)
			set_cwd(st, p, e->fd->name->s, e->fd->name->len);
		return;
	}
	const char *s;
	size_t n;
	if (e->res != 0 || !sc_get_str(r, PN_PATH, &s, &n))
		return;
	size_t k = resolve_at(st, p, EVT_AT_FDCWD, false, s, n, buf, sizeof(buf));
	if (r->type == EVT_CHROOT_X)
		st_str_set(st, &p->root, st_str_intern(st, buf, k));
	else
		set_cwd(st, p, buf, k);
}

/* ---- dispatch ---- */

void st_event_pre(struct st_state *st, struct sc_evt *e)
{
	const struct evt_rec *r = &e->rec;
	struct st_proc *p = e->proc;
	int64_t v;
	uint64_t u;

	e->fd = NULL;
	e->fdnum = -1;
	e->remove_fd = ST_NIL;
	if (sc_event_res(r, &e->res))
		e->flags |= SC_EVT_HAS_RES;
	if (!p)
		return;

	switch (r->type) {
	case EVT_EXECVE_X:
		on_exec(st, e);
		return;
	case EVT_CLONE_X:
	case EVT_CLONE3_X:
	case EVT_FORK_X:
	case EVT_VFORK_X:
		on_clone(st, e);
		return;
	case EVT_OPEN_X:
	case EVT_OPENAT_X:
	case EVT_OPENAT2_X:
	case EVT_CREAT_X:
		on_open(st, e);
		return;
	case EVT_CLOSE_X:
		if (!sc_get_s64(r, PN_FD, &v))
			return;
		e->fd = st_fd_find(st, p, v);
		e->fdnum = v;
		if (e->fd && (e->res >= 0 || e->res != -EVT_EBADF))
			e->remove_fd = (uint32_t)(e->fd - st->fds);
		return;
	case EVT_DUP_X:
	case EVT_DUP2_X:
	case EVT_DUP3_X:
	case EVT_FCNTL_X:
		on_dup(st, e);
		return;
	case EVT_SOCKET_X:
		on_socket(st, e);
		return;
	case EVT_CONNECT_X:
		on_sock_io(st, e, true);
		return;
	case EVT_SENDTO_X:
	case EVT_SENDMSG_X:
	case EVT_RECVFROM_X:
	case EVT_RECVMSG_X:
		on_sock_io(st, e, false);
		return;
	case EVT_ACCEPT_X:
	case EVT_ACCEPT4_X:
		on_accept(st, e);
		return;
	case EVT_BIND_X:
		on_bind(st, e, false);
		return;
	case EVT_LISTEN_X:
		on_bind(st, e, true);
		return;
	case EVT_PIPE_X:
	case EVT_PIPE2_X:
		on_pipe(st, e, false);
		return;
	case EVT_SOCKETPAIR_X:
		on_pipe(st, e, true);
		return;
	case EVT_MEMFD_CREATE_X: {
		const char *s = "";
		size_t n = 0;
		char name[EVT_MAX_PATH + 8];
		if (!sc_get_s64(r, PN_FD, &v) || v < 0)
			return;
		(void)sc_get_str(r, PN_NAME, &s, &n);
		(void)sc_get_u64(r, PN_FLAGS, &u);
		int k = snprintf(name, sizeof(name), "memfd:%.*s",
				 (int)MIN(n, (size_t)EVT_MAX_PATH), s);
		e->fd = add_named(st, e, v, FDT_MEMFD, name, (size_t)k, (u & EVT_MFD_CLOEXEC) != 0);
		e->fdnum = v;
		return;
	}
	case EVT_USERFAULTFD_X:
		if (e->res >= 0) {
			(void)sc_get_u64(r, PN_FLAGS, &u);
			e->fd = add_named(st, e, e->res, FDT_USERFAULTFD, NULL, 0,
					  (u & EVT_O_CLOEXEC) != 0);
			e->fdnum = e->res;
		}
		return;
	case EVT_BPF_X:
		if (e->res >= 0 && sc_get_u64(r, PN_CMD, &u) && bpf_cmd_creates_fd(u)) {
			e->fd = add_named(st, e, e->res, FDT_BPF, NULL, 0, true);
			e->fdnum = e->res;
		}
		return;
	case EVT_CHDIR_X:
	case EVT_FCHDIR_X:
	case EVT_CHROOT_X:
		on_chdir(st, e);
		return;
	case EVT_SETUID_X:
	case EVT_SETREUID_X:
	case EVT_SETRESUID_X:
		on_setuid(st, e, false);
		return;
	case EVT_SETGID_X:
	case EVT_SETREGID_X:
	case EVT_SETRESGID_X:
		on_setuid(st, e, true);
		return;
	case EVT_SETSID_X:
		if (e->res > 0) {
			p->sid = (uint32_t)e->res;
			p->pgid = (uint32_t)e->res;
			if (p->vpid) {
				p->vpgid = p->vpid;
				p->flags |= ST_P_VPGID_LEADER;
			}
		}
		return;
	case EVT_SETPGID_X: {
		int64_t pid = 0, pgid = 0;
		if (e->res != 0)
			return;
		(void)sc_get_s64(r, PN_PID, &pid);
		(void)sc_get_s64(r, PN_PGID, &pgid);
		struct st_proc *t = pid == 0 ? p : st_proc_find(st, (uint32_t)pid);
		if (t && t->vpid == t->pid) /* outside a pid namespace the ids are real */
			t->pgid = t->vpgid = pgid ? (uint32_t)pgid : t->pid;
		return;
	}
	case EVT_CAPSET_X:
		if (e->res == 0) {
			(void)sc_get_u64(r, PN_CAP_INH, &p->cap_inh);
			(void)sc_get_u64(r, PN_CAP_PERM, &p->cap_perm);
			(void)sc_get_u64(r, PN_CAP_EFF, &p->cap_eff);
		}
		return;
	case EVT_PRCTL_X: {
		const char *s;
		size_t n;
		if (e->res == 0 && sc_get_u64(r, PN_OPTION, &u) && u == EVT_PR_SET_NAME &&
		    sc_get_str(r, PN_ARG2_STR, &s, &n) && r->tid == r->pid)
			set_comm(p, s, n);
		return;
	}
	default:
		break;
	}
	/* everything else: the descriptor named "fd", if any */
	if (r->info && (r->info->flags & EVT_INFO_USES_FD) && sc_get_s64(r, PN_FD, &v)) {
		e->fd = st_fd_find(st, p, v);
		e->fdnum = v;
	}
}

void st_event_post(struct st_state *st, struct sc_evt *e)
{
	const struct evt_rec *r = &e->rec;
	struct st_proc *p = e->proc;

	if (e->flags & SC_EVT_TMPFD) {
		st_str_set(st, &e->tmpfd.name, NULL);
		st_str_set(st, &e->tmpfd.nameraw, NULL);
	}
	if (!p)
		return;
	if (e->remove_fd != ST_NIL) {
		struct st_fd *f = &st->fds[e->remove_fd];
		if (f->key >> 32 == p->pid)
			st_fd_remove(st, p, f);
		e->remove_fd = ST_NIL;
	}
	if (r->type == EVT_CLOSE_RANGE_X && (e->flags & SC_EVT_HAS_RES) && e->res == 0)
		on_close_range(st, p, r);
	if (r->type == EVT_PROCEXIT) {
		struct st_thread *t = st_thread_find(st, r->tid);
		if (t && t->pid == p->pid)
			st_thread_remove(st, t);
		if (p->nthreads == 0)
			st_proc_remove(st, p);
		e->proc = NULL;
		e->thr = NULL;
	}
	e->fd = NULL;
}
