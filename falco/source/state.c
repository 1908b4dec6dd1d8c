/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state tables: pools of processes, threads and descriptors (allocated once at their maximum size with
 * calloc, so only the pages actually used become resident), the maps that index them, and the operations the
 * event handlers and /proc loaders share. See state.h.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/macro.h"
#include "state_internal.h"

static const char *const fd_type_names[_FDT_MAX] = {
	[FDT_UNKNOWN] = "<NA>",	       [FDT_FILE] = "file",	  [FDT_DIRECTORY] = "directory",
	[FDT_IPV4] = "ipv4",	       [FDT_IPV6] = "ipv6",	  [FDT_UNIX] = "unix",
	[FDT_PIPE] = "pipe",	       [FDT_EVENT] = "event",	  [FDT_SIGNALFD] = "signalfd",
	[FDT_EVENTPOLL] = "eventpoll", [FDT_INOTIFY] = "inotify", [FDT_TIMERFD] = "timerfd",
	[FDT_NETLINK] = "netlink",     [FDT_BPF] = "bpf",	  [FDT_USERFAULTFD] = "userfaultfd",
	[FDT_IOURING] = "io_uring",    [FDT_MEMFD] = "memfd",	  [FDT_PIDFD] = "pidfd",
	[FDT_SOCKET] = "socket",
};

/* upstream's scap_fd_type characters */
static const char fd_type_chars[_FDT_MAX] = {
	[FDT_UNKNOWN] = '?',  [FDT_FILE] = 'f',	     [FDT_DIRECTORY] = 'd',   [FDT_IPV4] = '4',
	[FDT_IPV6] = '6',     [FDT_UNIX] = 'u',	     [FDT_PIPE] = 'p',	      [FDT_EVENT] = 'e',
	[FDT_SIGNALFD] = 's', [FDT_EVENTPOLL] = 'l', [FDT_INOTIFY] = 'i',     [FDT_TIMERFD] = 't',
	[FDT_NETLINK] = 'n',  [FDT_BPF] = 'b',	     [FDT_USERFAULTFD] = 'u', [FDT_IOURING] = 'r',
	[FDT_MEMFD] = 'm',    [FDT_PIDFD] = 'P',     [FDT_SOCKET] = 'S',
};

const char *st_fd_type_name(enum st_fd_type t)
{
	return (unsigned)t < _FDT_MAX ? fd_type_names[t] : "<NA>";
}

char st_fd_type_char(enum st_fd_type t)
{
	return (unsigned)t < _FDT_MAX ? fd_type_chars[t] : '?';
}

const char *st_l4_name(enum st_l4 p)
{
	switch (p) {
	case ST_L4_TCP:
		return "tcp";
	case ST_L4_UDP:
		return "udp";
	case ST_L4_ICMP:
		return "icmp";
	case ST_L4_RAW:
		return "raw";
	default:
		return "<NA>";
	}
}

static const char *const ct_type_names[_ST_CT_MAX] = {
	[ST_CT_HOST] = "host",	[ST_CT_DOCKER] = "docker", [ST_CT_CONTAINERD] = "containerd",
	[ST_CT_CRIO] = "cri-o", [ST_CT_PODMAN] = "podman", [ST_CT_NSPAWN] = "systemd-nspawn",
	[ST_CT_LXC] = "lxc",
};

const char *st_ct_type_name(enum st_ct_type t)
{
	return (unsigned)t < _ST_CT_MAX ? ct_type_names[t] : "unknown";
}

/* ---- lifecycle ---- */

static uint32_t dflt(uint32_t v, uint32_t d)
{
	return v ? v : d;
}

struct st_state *st_new(const struct st_options *o)
{
	struct st_state *st = calloc(1, sizeof(*st));
	static const struct st_options none;

	if (!st)
		return NULL;
	if (!o)
		o = &none;
	st->opt = *o;
	st->lim = o->limits;
	st->lim.max_procs = dflt(st->lim.max_procs, ST_DEFAULT_MAX_PROCS);
	st->lim.max_threads = dflt(st->lim.max_threads, ST_DEFAULT_MAX_THREADS);
	st->lim.max_fds = dflt(st->lim.max_fds, ST_DEFAULT_MAX_FDS);
	st->lim.max_fds_per_proc = dflt(st->lim.max_fds_per_proc, ST_DEFAULT_MAX_FDS_PER_PROC);
	st->lim.max_users = dflt(st->lim.max_users, ST_DEFAULT_MAX_USERS);
	st->lim.max_containers = dflt(st->lim.max_containers, ST_DEFAULT_MAX_CONTAINERS);
	st->lim.max_ancestors = dflt(st->lim.max_ancestors, ST_DEFAULT_MAX_ANCESTORS);
	st->lim.proc_lookups_per_s = dflt(st->lim.proc_lookups_per_s, ST_DEFAULT_LOOKUPS_PER_S);
	st->lim.sock_read_budget = dflt(st->lim.sock_read_budget, ST_DEFAULT_SOCK_READ_BUDGET);
	if (!st->lim.max_str_bytes)
		st->lim.max_str_bytes = ST_DEFAULT_MAX_STR_BYTES;
	/* callers pass roots st_host_root_resolve() bounded to ST_ROOT_MAX: nothing is cut here */
	snprintf(st->proc_root, sizeof(st->proc_root), "%s", o->proc_root ? o->proc_root : "/proc");
	snprintf(st->host_root, sizeof(st->host_root), "%s", o->host_root ? o->host_root : "");
	snprintf(st->falcoctl_path, sizeof(st->falcoctl_path), "%s",
		 o->falcoctl_path ? o->falcoctl_path : "");
	st->opt.proc_root = st->proc_root;
	st->opt.host_root = st->host_root;
	st->opt.falcoctl_path = st->falcoctl_path;
	st_pool_init(&st->pool, st->lim.max_str_bytes);

	/* pools: calloc'ed at their maximum, untouched pages cost nothing */
	st->procs = calloc(st->lim.max_procs, sizeof(*st->procs));
	st->threads = calloc(st->lim.max_threads, sizeof(*st->threads));
	st->fds = calloc(st->lim.max_fds, sizeof(*st->fds));
	st->users = calloc(st->lim.max_users, sizeof(*st->users));
	/* container 0 is the host */
	st->cts = calloc(st->lim.max_containers + 1, sizeof(*st->cts));
	if (!st->procs || !st->threads || !st->fds || !st->users || !st->cts)
		return st_free(st);
	st->proc_free = st->thread_free = st->fd_free = st->user_free = st->ct_free = ST_NIL;
	if (st_map_init(&st->proc_map, 1024, st->lim.max_procs) < 0 ||
	    st_map_init(&st->thread_map, 1024, st->lim.max_threads) < 0 ||
	    st_map_init(&st->fd_map, 4096, st->lim.max_fds) < 0 ||
	    st_map_init(&st->user_map, 256, st->lim.max_users) < 0 ||
	    st_map_init(&st->ct_map, 64, st->lim.max_containers) < 0)
		return st_free(st);
	struct st_container *host = &st->cts[0];
	memcpy(host->id, "host", 5);
	host->idlen = 4;
	host->type = ST_CT_HOST;
	host->meta = ST_META_DONE;
	st->ct_hi = 1;
	if (o->runtimes && !o->replay)
		st->rt = st_runtime_new(st->host_root);
	return st;
}

static void release_proc_strings(struct st_state *st, struct st_proc *p)
{
	st_str_set(st, &p->exe, NULL);
	st_str_set(st, &p->exepath, NULL);
	st_str_set(st, &p->args, NULL);
	st_str_set(st, &p->cwd, NULL);
	st_str_set(st, &p->env, NULL);
	st_str_set(st, &p->root, NULL);
}

struct st_state *st_free(struct st_state *st)
{
	if (!st)
		return NULL;
	st->rt = st_runtime_free(st->rt);
	st_sock_cache_expire(st, true);
	/* strings die with the pool: no need to unref entry by entry */
	free(st->procs);
	free(st->threads);
	free(st->fds);
	free(st->users);
	free(st->cts);
	st_map_done(&st->proc_map);
	st_map_done(&st->thread_map);
	st_map_done(&st->fd_map);
	st_map_done(&st->user_map);
	st_map_done(&st->ct_map);
	st_pool_done(&st->pool);
	free(st);
	return NULL;
}

void st_set_hooks(struct st_state *st, const struct st_hooks *h)
{
	if (h)
		st->hooks = *h;
	else
		memset(&st->hooks, 0, sizeof(st->hooks));
}

void st_get_stats(const struct st_state *st, struct st_stats *ret)
{
	*ret = st->stats;
	ret->procs = st->proc_map.n;
	ret->threads = st->thread_map.n;
	ret->fds = st->fd_map.n;
	ret->users = st->user_map.n;
	ret->containers = st->ct_map.n;
	ret->str_bytes = st->pool.bytes;
}

const struct st_limits *st_limits(const struct st_state *st)
{
	return &st->lim;
}

bool st_is_replay(const struct st_state *st)
{
	return st->opt.replay;
}

/* ---- processes ---- */

struct st_proc *st_proc_find(const struct st_state *st, uint32_t pid)
{
	uint32_t i = st_map_get(&st->proc_map, pid);
	return i == ST_NIL ? NULL : &st->procs[i];
}

struct st_proc *st_proc_create(struct st_state *st, uint32_t pid)
{
	struct st_proc *p = st_proc_find(st, pid);
	uint32_t idx;

	if (p)
		return p;
	if (pid == 0)
		return NULL;
	if (st->proc_free != ST_NIL) {
		idx = st->proc_free;
		st->proc_free = st->procs[idx].next_free;
	} else if (st->proc_hi < st->lim.max_procs) {
		idx = st->proc_hi++;
	} else {
		st->stats.proc_full++;
		return NULL;
	}
	if (st_map_put(&st->proc_map, pid, idx) < 0) {
		st->procs[idx].next_free = st->proc_free;
		st->proc_free = idx;
		st->stats.proc_full++;
		return NULL;
	}
	p = &st->procs[idx];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->loginuid = UINT32_MAX;
	p->fd_head = ST_NIL;
	p->next_free = ST_NIL;
	return p;
}

void st_proc_remove(struct st_state *st, struct st_proc *p)
{
	uint32_t idx = (uint32_t)(p - st->procs);

	while (p->fd_head != ST_NIL)
		st_fd_remove(st, p, &st->fds[p->fd_head]);
	/* threads still pointing at the process (their exits were lost) */
	if (p->nthreads) {
		for (uint32_t i = 0; i < st->thread_hi && p->nthreads; i++) {
			struct st_thread *t = &st->threads[i];
			if (t->pid == p->pid && t->tid && st_map_get(&st->thread_map, t->tid) == i)
				st_thread_remove(st, t);
		}
	}
	release_proc_strings(st, p);
	st_map_del(&st->proc_map, p->pid);
	memset(p, 0, sizeof(*p));
	p->next_free = st->proc_free;
	st->proc_free = idx;
}

struct st_proc *st_proc_parent(const struct st_state *st, const struct st_proc *p)
{
	if (!p || !p->ppid || p->ppid == p->pid)
		return NULL;
	return st_proc_find(st, p->ppid);
}

uint32_t st_proc_capacity(const struct st_state *st)
{
	return st->proc_hi;
}

struct st_proc *st_proc_at(const struct st_state *st, uint32_t idx)
{
	if (idx >= st->proc_hi || st->procs[idx].pid == 0)
		return NULL;
	return &st->procs[idx];
}

void st_proc_clear_image(struct st_state *st, struct st_proc *p)
{
	st_str_set(st, &p->exe, NULL);
	st_str_set(st, &p->exepath, NULL);
	st_str_set(st, &p->args, NULL);
	st_str_set(st, &p->env, NULL);
	p->flags &= ~(uint32_t)(ST_P_EXE_WRITABLE | ST_P_EXE_UPPER | ST_P_EXE_MEMFD |
				ST_P_EXE_LOWER | ST_P_ENV_TRIED);
	p->exe_ino = p->exe_ctime = p->exe_mtime = 0;
}

void st_proc_inherit(struct st_state *st, struct st_proc *c, const struct st_proc *par,
		     bool copy_fds)
{
	c->ppid = par->pid;
	c->pgid = par->pgid;
	c->vpgid = par->vpgid;
	c->sid = par->sid;
	c->uid = par->uid;
	c->gid = par->gid;
	c->loginuid = par->loginuid;
	c->tty = par->tty;
	c->cap_inh = par->cap_inh;
	c->cap_perm = par->cap_perm;
	c->cap_eff = par->cap_eff;
	c->exe_ino = par->exe_ino;
	c->exe_ctime = par->exe_ctime;
	c->exe_mtime = par->exe_mtime;
	c->pidns_init_start_ts = par->pidns_init_start_ts;
	c->container = par->container;
	c->flags = par->flags & (ST_P_EXE_WRITABLE | ST_P_EXE_UPPER | ST_P_EXE_MEMFD |
				 ST_P_EXE_LOWER | ST_P_SELF | ST_P_FALCOCTL);
	memcpy(c->comm, par->comm, sizeof(c->comm));
	st_str_set(st, &c->exe, st_str_ref(par->exe));
	st_str_set(st, &c->exepath, st_str_ref(par->exepath));
	st_str_set(st, &c->args, st_str_ref(par->args));
	st_str_set(st, &c->cwd, st_str_ref(par->cwd));
	st_str_set(st, &c->env, st_str_ref(par->env));
	st_str_set(st, &c->root, st_str_ref(par->root));
	if (!copy_fds || c->fd_head != ST_NIL)
		return;
	for (struct st_fd *f = st_proc_fds(st, par); f; f = st_fd_next(st, f)) {
		struct st_fd *n = st_fd_add(st, c, st_fd_num(f));
		if (!n)
			break;
		st_fd_copy(st, n, f);
	}
}

/* The falco beside the trusted falcoctl: "<dir>/falcoctl" names "<dir>/falco". */
static bool is_falco_beside_falcoctl(const struct st_state *st, const char *exe)
{
	size_t n = strlen(st->falcoctl_path) - STRLEN("ctl");
	return strlen(exe) == n && strncmp(exe, st->falcoctl_path, n) == 0;
}

void st_set_self_pid(struct st_state *st, uint32_t pid)
{
	struct st_proc *p;

	if (pid == st->opt.self_pid)
		return;
	if (st->opt.self_pid && (p = st_proc_find(st, st->opt.self_pid)))
		p->flags &= ~(uint32_t)ST_P_SELF;
	st->opt.self_pid = pid;
	if (!pid)
		return;
	p = st_proc_find(st, pid);
	if (!p && !st->opt.replay) {
		/*
		 * The procfs we seeded from numbers processes otherwise than events do (another pid namespace
		 * without HOST_ROOT). Our own events never come, but the programs we spawn (program_output) must
		 * find a parent marked as ours, or their events reach the rules, which spawn more of them.
		 */
		p = st_proc_create(st, pid);
		if (p)
			p->flags |= ST_P_PARTIAL;
	}
	if (p)
		st_proc_classify(st, p);
}

/*
 * Falco's own processes, and falcoctl while it installs, never reach the rules. The falcoctl exclusion covers the
 * trusted falcoctl running install/upgrade/reset/uninstall, its forks, and the falco beside it that it runs
 * (--check-driver, --dry-run, the supervised daemon). Any other program it executes (its self-test action,
 * `dd if=/etc/shadow`) is judged by the rules like anything else: the self-test must alert, and an installing
 * falcoctl cannot cloak a command. Idempotent: called again after flags are inherited from a parent.
 */
void st_proc_classify(struct st_state *st, struct st_proc *p)
{
	if (st->opt.self_pid && p->pid == st->opt.self_pid)
		p->flags |= ST_P_SELF;
	if (!st->falcoctl_path[0] || !p->exepath)
		return;
	if (!streq(p->exepath->s, st->falcoctl_path)) {
		if ((p->flags & ST_P_FALCOCTL) && !is_falco_beside_falcoctl(st, p->exepath->s))
			p->flags &= ~(uint32_t)ST_P_FALCOCTL;
		return;
	}
	/* only the commands that change the installation (argv[1]) */
	static const char *const cmds[] = {"install", "upgrade", "reset", "uninstall"};
	const char *a1 = p->args && p->args->len ? p->args->s : "";
	for (size_t i = 0; i < ARRAY_SIZE(cmds); i++)
		if (streq(a1, cmds[i]))
			p->flags |= ST_P_FALCOCTL;
}

/* ---- threads ---- */

struct st_thread *st_thread_find(const struct st_state *st, uint32_t tid)
{
	uint32_t i = st_map_get(&st->thread_map, tid);
	return i == ST_NIL ? NULL : &st->threads[i];
}

struct st_thread *st_thread_add(struct st_state *st, struct st_proc *p, uint32_t tid, uint32_t vtid)
{
	struct st_thread *t = st_thread_find(st, tid);
	uint32_t idx;

	if (t) {
		if (t->pid != p->pid) {
			/* the tid was reused by another process (we missed an exit) */
			struct st_proc *old = st_proc_find(st, t->pid);
			if (old && old->nthreads)
				old->nthreads--;
			t->pid = p->pid;
			p->nthreads++;
		}
		if (vtid)
			t->vtid = vtid;
		return t;
	}
	if (st->thread_free != ST_NIL) {
		idx = st->thread_free;
		st->thread_free = st->threads[idx].next_free;
	} else if (st->thread_hi < st->lim.max_threads) {
		idx = st->thread_hi++;
	} else {
		st->stats.thread_full++;
		return NULL;
	}
	if (st_map_put(&st->thread_map, tid, idx) < 0) {
		st->threads[idx].next_free = st->thread_free;
		st->thread_free = idx;
		st->stats.thread_full++;
		return NULL;
	}
	t = &st->threads[idx];
	t->tid = tid;
	t->pid = p->pid;
	t->vtid = vtid;
	t->next_free = ST_NIL;
	p->nthreads++;
	return t;
}

void st_thread_remove(struct st_state *st, struct st_thread *t)
{
	uint32_t idx = (uint32_t)(t - st->threads);
	struct st_proc *p = st_proc_find(st, t->pid);

	if (p && p->nthreads)
		p->nthreads--;
	st_map_del(&st->thread_map, t->tid);
	memset(t, 0, sizeof(*t));
	t->next_free = st->thread_free;
	st->thread_free = idx;
}

/* ---- descriptors ---- */

static inline uint64_t fd_key(uint32_t pid, int64_t fd)
{
	return (uint64_t)pid << 32 | (uint32_t)fd;
}

struct st_fd *st_fd_find(const struct st_state *st, const struct st_proc *p, int64_t fd)
{
	if (!p || fd < 0 || fd > INT32_MAX)
		return NULL;
	uint32_t i = st_map_get(&st->fd_map, fd_key(p->pid, fd));
	return i == ST_NIL ? NULL : &st->fds[i];
}

static void fd_clear(struct st_state *st, struct st_fd *f)
{
	st_str_set(st, &f->name, NULL);
	st_str_set(st, &f->nameraw, NULL);
}

struct st_fd *st_fd_add(struct st_state *st, struct st_proc *p, int64_t fd)
{
	struct st_fd *f;
	uint32_t idx;

	if (!p || fd < 0 || fd > INT32_MAX)
		return NULL;
	f = st_fd_find(st, p, fd);
	if (f) {
		/* reused without a close we saw */
		uint32_t next = f->next, prev = f->prev;
		uint64_t key = f->key;
		fd_clear(st, f);
		memset(f, 0, sizeof(*f));
		f->key = key;
		f->next = next;
		f->prev = prev;
		return f;
	}
	if (p->nfds >= st->lim.max_fds_per_proc) {
		st->stats.fd_proc_full++;
		return NULL;
	}
	if (st->fd_free != ST_NIL) {
		idx = st->fd_free;
		st->fd_free = st->fds[idx].next;
	} else if (st->fd_hi < st->lim.max_fds) {
		idx = st->fd_hi++;
	} else {
		st->stats.fd_full++;
		return NULL;
	}
	if (st_map_put(&st->fd_map, fd_key(p->pid, fd), idx) < 0) {
		st->fds[idx].next = st->fd_free;
		st->fd_free = idx;
		st->stats.fd_full++;
		return NULL;
	}
	f = &st->fds[idx];
	memset(f, 0, sizeof(*f));
	f->key = fd_key(p->pid, fd);
	f->prev = ST_NIL;
	f->next = p->fd_head;
	if (p->fd_head != ST_NIL)
		st->fds[p->fd_head].prev = idx;
	p->fd_head = idx;
	p->nfds++;
	return f;
}

void st_fd_remove(struct st_state *st, struct st_proc *p, struct st_fd *f)
{
	uint32_t idx = (uint32_t)(f - st->fds);

	if (f->prev != ST_NIL)
		st->fds[f->prev].next = f->next;
	else if (p->fd_head == idx)
		p->fd_head = f->next;
	if (f->next != ST_NIL)
		st->fds[f->next].prev = f->prev;
	if (p->nfds)
		p->nfds--;
	st_map_del(&st->fd_map, f->key);
	fd_clear(st, f);
	memset(f, 0, sizeof(*f));
	f->next = st->fd_free;
	st->fd_free = idx;
}

void st_fd_copy(struct st_state *st, struct st_fd *dst, const struct st_fd *src)
{
	uint64_t key = dst->key;
	uint32_t next = dst->next, prev = dst->prev;

	if (dst == src)
		return;
	fd_clear(st, dst);
	*dst = *src;
	dst->key = key;
	dst->next = next;
	dst->prev = prev;
	st_str_ref(dst->name);
	st_str_ref(dst->nameraw);
}

struct st_fd *st_proc_fds(const struct st_state *st, const struct st_proc *p)
{
	return p && p->fd_head != ST_NIL ? &st->fds[p->fd_head] : NULL;
}

struct st_fd *st_fd_next(const struct st_state *st, const struct st_fd *f)
{
	return f->next != ST_NIL ? &st->fds[f->next] : NULL;
}

/* ---- paths ---- */

size_t st_path_resolve(const char *dir, size_t dirlen, const char *path, size_t pathlen, char *out,
		       size_t size)
{
	size_t n = 0;

	if (size == 0)
		return 0;
	/* component by component over "dir/path" (or just path when absolute) */
	for (int part = 0; part < 2; part++) {
		const char *s = part == 0 ? dir : path;
		size_t len = part == 0 ? dirlen : pathlen;
		if (part == 0 && (pathlen && path[0] == '/'))
			continue; /* absolute path: ignore dir */
		if (!s)
			continue;
		size_t i = 0;
		while (i < len) {
			while (i < len && s[i] == '/')
				i++;
			size_t st0 = i;
			while (i < len && s[i] != '/' && s[i] != '\0')
				i++;
			size_t cl = i - st0;
			if (i < len && s[i] == '\0')
				len = i;
			if (cl == 0 || (cl == 1 && s[st0] == '.'))
				continue;
			if (cl == 2 && s[st0] == '.' && s[st0 + 1] == '.') {
				while (n > 0 && out[n - 1] != '/')
					n--;
				if (n > 0)
					n--; /* the slash */
				continue;
			}
			if (n + 1 + cl >= size) {
				/* truncate rather than fail: paths are bounded by EVT_MAX_PATH anyway */
				cl = n + 1 < size ? size - n - 2 : 0;
				if (n + 1 < size)
					out[n++] = '/';
				memcpy(out + n, s + st0, cl);
				n += cl;
				out[n] = '\0';
				return n;
			}
			out[n++] = '/';
			memcpy(out + n, s + st0, cl);
			n += cl;
		}
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return n;
}

/* ---- housekeeping ---- */

static bool proc_exists(const struct st_state *st, uint32_t tid)
{
	char path[300];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/%u", st->proc_root, tid);
	return stat(path, &sb) == 0;
}

int st_sweep(struct st_state *st, uint64_t now_ts, bool force)
{
	int removed = 0;

	if (st->opt.replay)
		return 0;
	/* only when the tables fill up (or asked): /proc checks cost a syscall per thread */
	bool threads_full = (uint64_t)st->thread_map.n * 4 > (uint64_t)st->lim.max_threads * 3;
	bool procs_full = (uint64_t)st->proc_map.n * 4 > (uint64_t)st->lim.max_procs * 3;
	st->last_sweep_ts = now_ts;
	if (force || threads_full || procs_full) {
		for (uint32_t i = 0; i < st->thread_hi; i++) {
			struct st_thread *t = &st->threads[i];
			if (!t->tid || st_map_get(&st->thread_map, t->tid) != i ||
			    proc_exists(st, t->tid))
				continue;
			uint32_t tid = t->tid, pid = t->pid;
			st_thread_remove(st, t);
			st->stats.purged_threads++;
			removed++;
			if (st->hooks.purged)
				st->hooks.purged(st->hooks.ud, tid, false);
			struct st_proc *p = st_proc_find(st, pid);
			if (p && p->nthreads == 0 && !proc_exists(st, pid)) {
				st_proc_remove(st, p);
				st->stats.purged_procs++;
				if (st->hooks.purged)
					st->hooks.purged(st->hooks.ud, pid, true);
			}
		}
		/* processes without any thread entry (seeding filled the thread table) */
		for (uint32_t i = 0; i < st->proc_hi; i++) {
			struct st_proc *p = &st->procs[i];
			if (!p->pid || p->nthreads || proc_exists(st, p->pid))
				continue;
			uint32_t pid = p->pid;
			st_proc_remove(st, p);
			st->stats.purged_procs++;
			removed++;
			if (st->hooks.purged)
				st->hooks.purged(st->hooks.ud, pid, true);
		}
	}
	if (force || (uint64_t)st->ct_map.n * 4 > (uint64_t)st->lim.max_containers * 3)
		removed += st_container_gc(st);
	return removed;
}
