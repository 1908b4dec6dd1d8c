/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Seeding from /proc: every process (stat, status, cmdline, exe, cwd, loginuid, cgroup, environ on demand),
 * its threads (task/), and its descriptors (fd/ + fdinfo/, sockets matched by inode against the tables of the
 * process's own network namespace: /proc/PID/net/{tcp,tcp6,udp,udp6,raw,raw6,unix}).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/macro.h"
#include "sc_internal.h"
#include "state_internal.h"

/* ---- small file helpers ---- */

/* Reads up to size-1 bytes of a file; returns the length (NUL-terminated) or -errno. */
static ssize_t read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, total = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)total < size - 1) {
		n = read(fd, buf + total, size - 1 - (size_t)total);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		total += n;
	}
	close(fd);
	buf[total] = '\0';
	return total;
}

static ssize_t readlink_z(const char *path, char *buf, size_t size)
{
	ssize_t n = readlink(path, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

static uint64_t boot_epoch_ns(void)
{
	static uint64_t cached;
	struct timespec rt, bt;

	if (cached)
		return cached;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	cached = ((uint64_t)rt.tv_sec * 1000000000u + (uint64_t)rt.tv_nsec) -
		 ((uint64_t)bt.tv_sec * 1000000000u + (uint64_t)bt.tv_nsec);
	return cached;
}

static const char *field_after(const char *text, const char *key)
{
	const char *p = strstr(text, key);
	if (!p)
		return NULL;
	p += strlen(key);
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* ---- sockets of one network namespace ---- */

struct sock_ent {
	uint64_t ino;
	uint8_t family, l4, listen;
	uint8_t lip[16], rip[16];
	uint16_t lport, rport;
	char path[108];
};

#define ST_SOCK_CACHE_NS  1000000000ull /* a cached table serves lazy loads this long */
#define ST_SOCK_REREAD_NS 50000000ull	/* an inode missing from a table this old rereads it... */
#define ST_SOCK_INO_SLACK \
	(1ull << 16) /* ...unless it is clearly older than the newest socket in it */
/*
 * Lazy loads read the tables at most once per st_limits.sock_read_budget (50) times the duration of the last
 * read, so at most ~2% of a CPU goes there: the kernel walks its whole TCP hash, every namespace's sockets and
 * TIME_WAIT ones included, for each read (50k TIME_WAIT sockets on the host: ~50 ms even for an empty
 * namespace). In between, sockets the cached tables do not know keep their type without a tuple (upstream's
 * runtime /proc lookups never scan sockets at all). The start-up scan is not limited.
 */

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct sock_tab {
	uint64_t netns;	  /* inode of the namespace the table describes; 0 = not loaded */
	uint64_t read_ns; /* monotonic time of the read */
	uint64_t max_ino; /* the newest socket in it (inode numbers grow, in per-CPU batches) */
	bool limited;	  /* lazy loads: reads are rationed (st->sock_next_read_ns) */
	struct sock_ent *v;
	size_t n, cap;
	struct st_map map; /* ino -> index */
};

static void sock_tab_reset(struct sock_tab *t)
{
	t->n = 0;
	t->netns = 0;
	t->max_ino = 0;
	st_map_done(&t->map);
}

static void sock_tab_done(struct sock_tab *t)
{
	sock_tab_reset(t);
	free(t->v);
	t->v = NULL;
	t->cap = 0;
}

static struct sock_ent *sock_new(struct sock_tab *t)
{
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 256;
		if (nc > 1u << 20)
			return NULL;
		struct sock_ent *nv = realloc(t->v, nc * sizeof(*nv));
		if (!nv)
			return NULL;
		t->v = nv;
		t->cap = nc;
	}
	struct sock_ent *e = &t->v[t->n];
	memset(e, 0, sizeof(*e));
	return e;
}

static void hex_ip(const char *s, size_t hexlen, uint8_t *out)
{
	/* groups of 8 hex digits, each a u32 printed in host (little-endian) order */
	for (size_t g = 0; g < hexlen / 8; g++) {
		uint32_t v = 0;
		for (int i = 0; i < 8; i++) {
			char c = s[g * 8 + (size_t)i];
			v = v << 4 | (uint32_t)(isdigit((unsigned char)c)
							? c - '0'
							: (tolower((unsigned char)c) - 'a' + 10));
		}
		memcpy(out + g * 4, &v, 4);
	}
}

/*
 * The kernel restarts its walk of the socket hash at every read() of /proc/PID/net/tcp, so reading it through
 * stdio's 4 KiB buffer is quadratic in the number of sockets (10k TIME_WAIT sockets: most of a CPU-second).
 * A large buffer makes it a few reads; it is freed with the stream.
 */
#define SOCK_READ_BUF (1u << 20)

static FILE *open_sock_file(const char *path, char **ret_buf)
{
	FILE *f = fopen(path, "re");

	*ret_buf = NULL;
	if (!f)
		return NULL;
	*ret_buf = malloc(SOCK_READ_BUF);
	if (*ret_buf)
		(void)setvbuf(f, *ret_buf, _IOFBF, SOCK_READ_BUF);
	return f;
}

static void close_sock_file(FILE *f, char *buf)
{
	fclose(f);
	free(buf);
}

static void load_inet(struct sock_tab *t, const char *path, uint8_t family, uint8_t l4)
{
	char *vbuf;
	FILE *f = open_sock_file(path, &vbuf);
	char line[512];
	size_t iplen = family == EVT_AF_INET ? 8 : 32;

	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char la[40], ra[40];
		unsigned lport, rport, stt;
		unsigned long long ino;
		if (sscanf(line,
			   " %*d: %39[0-9A-Fa-f]:%x %39[0-9A-Fa-f]:%x %x %*s %*s %*s %*s %*s %llu",
			   la, &lport, ra, &rport, &stt, &ino) != 6 ||
		    strlen(la) != iplen || strlen(ra) != iplen || ino == 0)
			continue;
		struct sock_ent *e = sock_new(t);
		if (!e)
			break;
		e->ino = ino;
		e->family = family;
		e->l4 = l4;
		hex_ip(la, iplen, e->lip);
		hex_ip(ra, iplen, e->rip);
		e->lport = (uint16_t)lport;
		e->rport = (uint16_t)rport;
		e->listen = l4 == ST_L4_TCP && stt == 0x0A;
		if (st_map_put(&t->map, ino, (uint32_t)t->n) == 0)
			t->n++;
		t->max_ino = MAX(t->max_ino, (uint64_t)ino);
	}
	close_sock_file(f, vbuf);
}

static void load_unix(struct sock_tab *t, const char *path)
{
	char *vbuf;
	FILE *f = open_sock_file(path, &vbuf);
	char line[512];

	if (!f)
		return;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		unsigned long long ino;
		int off = 0;
		if (sscanf(line, "%*s %*s %*s %*s %*s %*s %llu%n", &ino, &off) != 1 || ino == 0)
			continue;
		struct sock_ent *e = sock_new(t);
		if (!e)
			break;
		e->ino = ino;
		e->family = EVT_AF_UNIX;
		const char *p = line + off;
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, "\n");
		n = MIN(n, sizeof(e->path) - 1);
		memcpy(e->path, p, n);
		e->path[n] = '\0';
		if (st_map_put(&t->map, ino, (uint32_t)t->n) == 0)
			t->n++;
		t->max_ino = MAX(t->max_ino, (uint64_t)ino);
	}
	close_sock_file(f, vbuf);
}

static void sock_tab_load(struct st_state *st, struct sock_tab *t, uint32_t pid, uint64_t netns)
{
	static const struct {
		const char *name;
		uint8_t family, l4;
	} files[] = {
		{"tcp", EVT_AF_INET, ST_L4_TCP}, {"tcp6", EVT_AF_INET6, ST_L4_TCP},
		{"udp", EVT_AF_INET, ST_L4_UDP}, {"udp6", EVT_AF_INET6, ST_L4_UDP},
		{"raw", EVT_AF_INET, ST_L4_RAW}, {"raw6", EVT_AF_INET6, ST_L4_RAW},
	};
	char path[320];

	sock_tab_reset(t);
	if (st_map_init(&t->map, 256, 1u << 20) < 0)
		return;
	t->netns = netns;
	t->read_ns = mono_ns();
	st->stats.sock_table_reads++;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%u/net/%s", st->proc_root, pid, files[i].name);
		load_inet(t, path, files[i].family, files[i].l4);
	}
	snprintf(path, sizeof(path), "%s/%u/net/unix", st->proc_root, pid);
	load_unix(t, path);
	uint64_t end = mono_ns();
	/* the start-up scan's reads count too: the first lazy read waits for them */
	st->sock_next_read_ns =
		end + MAX(ST_SOCK_REREAD_NS, st->lim.sock_read_budget * (end - t->read_ns));
	/* an established socket whose local port is listening was accepted: the server side */
	for (size_t i = 0; i < t->n; i++) {
		struct sock_ent *e = &t->v[i];
		if (e->l4 != ST_L4_TCP || e->listen)
			continue;
		for (size_t j = 0; j < t->n; j++)
			if (t->v[j].listen && t->v[j].lport == e->lport &&
			    t->v[j].family == e->family) {
				e->listen = 2;
				break;
			}
	}
}

static bool sock_read_allowed(const struct st_state *st, const struct sock_tab *t)
{
	return !t->limited || mono_ns() >= st->sock_next_read_ns;
}

static const struct sock_ent *sock_find(const struct sock_tab *t, uint64_t ino)
{
	if (!t->netns)
		return NULL;
	uint32_t i = st_map_get(&t->map, ino);
	return i == ST_NIL ? NULL : &t->v[i];
}

/* ---- descriptors ---- */

static void load_fd_socket(struct st_state *st, struct st_fd *f, const struct sock_ent *s)
{
	f->family = s->family;
	f->l4proto = s->l4;
	if (s->family == EVT_AF_UNIX) {
		f->type = FDT_UNIX;
		f->l4proto = ST_L4_NONE;
		if (s->path[0])
			st_str_set(st, &f->name, st_str_intern_cstr(st, s->path));
		return;
	}
	f->type = s->family == EVT_AF_INET ? FDT_IPV4 : FDT_IPV6;
	memcpy(f->lip, s->lip, 16);
	memcpy(f->rip, s->rip, 16);
	f->lport = s->lport;
	f->rport = s->rport;
	f->flags |= ST_FD_HAS_TUPLE | ST_FD_ROLE_KNOWN;
	if (s->listen)
		f->flags |= ST_FD_SERVER;
	if (s->rport)
		f->flags |= ST_FD_CONNECTED;
}

static const struct {
	const char *prefix;
	enum st_fd_type type;
} anon_types[] = {
	{"anon_inode:[eventfd]", FDT_EVENT},
	{"anon_inode:[signalfd]", FDT_SIGNALFD},
	{"anon_inode:[eventpoll]", FDT_EVENTPOLL},
	{"anon_inode:inotify", FDT_INOTIFY},
	{"anon_inode:[timerfd]", FDT_TIMERFD},
	{"anon_inode:bpf", FDT_BPF},
	{"anon_inode:[userfaultfd]", FDT_USERFAULTFD},
	{"anon_inode:[io_uring]", FDT_IOURING},
	{"anon_inode:[pidfd]", FDT_PIDFD},
};

static void load_fds(struct st_state *st, struct st_proc *p, struct sock_tab *socks)
{
	char path[320], target[EVT_MAX_PATH], info[512];
	DIR *d;
	struct dirent *de;
	uint64_t netns = 0;
	bool reread = false;

	snprintf(path, sizeof(path), "%s/%u/fd", st->proc_root, p->pid);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long fd = strtol(de->d_name, &end, 10);
		if (*end || de->d_name[0] == '\0' || fd < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%u/fd/%ld", st->proc_root, p->pid, fd);
		ssize_t n = readlink_z(path, target, sizeof(target));
		if (n < 0)
			continue;
		struct st_fd *f = st_fd_add(st, p, fd);
		if (!f)
			break;
		snprintf(path, sizeof(path), "%s/%u/fdinfo/%ld", st->proc_root, p->pid, fd);
		if (read_small(path, info, sizeof(info)) > 0) {
			const char *fl = field_after(info, "flags:");
			if (fl)
				f->open_flags = (uint32_t)strtoul(fl, NULL, 8);
			if (f->open_flags & EVT_O_CLOEXEC)
				f->flags |= ST_FD_CLOEXEC;
		}
		unsigned long long ino;
		if (sscanf(target, "socket:[%llu]", &ino) == 1) {
			f->type = FDT_SOCKET;
			f->ino = ino;
			if (!netns) {
				char ns[64];
				snprintf(path, sizeof(path), "%s/%u/ns/net", st->proc_root, p->pid);
				if (readlink_z(path, ns, sizeof(ns)) <= 0 ||
				    sscanf(ns, "net:[%" SCNu64 "]", &netns) != 1)
					netns = 1;
			}
			if (socks && socks->netns != netns && sock_read_allowed(st, socks))
				sock_tab_load(st, socks, p->pid, netns);
			const struct sock_ent *s =
				socks && socks->netns == netns ? sock_find(socks, ino) : NULL;
			if (!s && socks && socks->netns == netns && !reread &&
			    ino + ST_SOCK_INO_SLACK > socks->max_ino &&
			    mono_ns() - socks->read_ns >= ST_SOCK_REREAD_NS &&
			    sock_read_allowed(st, socks)) {
				/* a socket that may be newer than the cached tables; once per process (netlink &
				 * co are never in them) */
				reread = true;
				sock_tab_load(st, socks, p->pid, netns);
				s = sock_find(socks, ino);
			}
			if (s)
				load_fd_socket(st, f, s);
			continue;
		}
		if (startswith(target, "pipe:")) {
			f->type = FDT_PIPE;
			st_str_set(st, &f->name, st_str_intern(st, target, (size_t)n));
			continue;
		}
		if (startswith(target, "/memfd:")) {
			size_t k = (size_t)n;
			if (k > 10 && streq(target + k - 10, " (deleted)"))
				k -= 10;
			f->type = FDT_MEMFD;
			st_str_set(st, &f->name, st_str_intern(st, target + 1, k - 1));
			continue;
		}
		if (startswith(target, "anon_inode:")) {
			f->type = FDT_UNKNOWN;
			for (size_t i = 0; i < ARRAY_SIZE(anon_types); i++)
				if (startswith(target, anon_types[i].prefix))
					f->type = (uint8_t)anon_types[i].type;
			st_str_set(st, &f->name, st_str_intern(st, target, (size_t)n));
			continue;
		}
		f->type = (f->open_flags & EVT_O_DIRECTORY) ? FDT_DIRECTORY : FDT_FILE;
		if (target[0] == '/') {
			struct stat sb;
			if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
				f->type = FDT_DIRECTORY;
		}
		st_str_set(st, &f->name, st_str_intern(st, target, (size_t)n));
	}
	closedir(d);
}

/* ---- processes ---- */

/* A process's pid namespace: the inode in its ns/pid link ("pid:[4026531836]"); 0 when unreadable. */
static uint64_t pidns_of(const struct st_state *st, uint32_t pid)
{
	char path[320], buf[64];

	snprintf(path, sizeof(path), "%s/%u/ns/pid", st->proc_root, pid);
	if (readlink_z(path, buf, sizeof(buf)) <= 0 || !startswith(buf, "pid:["))
		return 0;
	return strtoull(buf + 5, NULL, 10);
}

struct pidns_init {
	uint64_t ns, start_ts;
};

/* The known namespace inits (vpid 1) and their namespaces; *ret NULL when there are none. */
static size_t pidns_inits(struct st_state *st, struct pidns_init **ret)
{
	size_t n = 0, cap = 0;
	struct pidns_init *v = NULL;

	for (uint32_t i = 0; i < st->proc_hi; i++) {
		struct st_proc *q = st_proc_at(st, i);
		uint64_t ns;
		if (!q || q->vpid != 1 || !q->pidns_init_start_ts || !(ns = pidns_of(st, q->pid)))
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 16;
			struct pidns_init *nv = reallocarray(v, c, sizeof(*v));
			if (!nv)
				break;
			v = nv;
			cap = c;
		}
		v[n++] = (struct pidns_init){ns, q->pidns_init_start_ts};
	}
	*ret = v;
	return n;
}

/*
 * proc.pidns_init_start_ts of a process read from /proc (events carry it from the kernel): the start of the init of
 * its pid namespace, found among the known processes by namespace. /proc gives start times in clock ticks, so
 * this is the kernel's value truncated to 1/CLK_TCK s. Unknown (0) when the init is not known.
 */
static void fill_pidns_init(struct st_state *st, struct st_proc *p, const struct pidns_init *inits,
			    size_t n)
{
	uint64_t ns;

	if (p->pidns_init_start_ts || !n || !(ns = pidns_of(st, p->pid)))
		return;
	for (size_t i = 0; i < n; i++)
		if (inits[i].ns == ns) {
			p->pidns_init_start_ts = inits[i].start_ts;
			return;
		}
}

static void load_threads(struct st_state *st, struct st_proc *p)
{
	char path[320];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof(path), "%s/%u/task", st->proc_root, p->pid);
	d = opendir(path);
	if (!d) {
		(void)st_thread_add(st, p, p->pid, p->vpid);
		return;
	}
	while ((de = readdir(d))) {
		char *end;
		unsigned long tid = strtoul(de->d_name, &end, 10);
		if (*end || de->d_name[0] == '\0' || tid == 0)
			continue;
		(void)st_thread_add(st, p, (uint32_t)tid, tid == p->pid ? p->vpid : 0);
	}
	closedir(d);
}

static uint64_t caps_of(const char *status, const char *key)
{
	const char *v = field_after(status, key);
	return v ? strtoull(v, NULL, 16) : 0;
}

/*
 * The last number of a tab-separated "NSpid:\t1234\t1" line: the id in the innermost namespace; *levels (if
 * not NULL) gets how many namespaces there are, 1 for a process in the procfs's own.
 */
static uint32_t last_ns_id(const char *status, const char *key, unsigned *levels)
{
	const char *v = field_after(status, key);
	uint32_t last = 0;
	unsigned n = 0;

	while (v && *v && *v != '\n') {
		char *end;
		unsigned long x = strtoul(v, &end, 10);
		if (end == v)
			break;
		last = (uint32_t)x;
		n++;
		v = end;
		while (*v == '\t' || *v == ' ')
			v++;
	}
	if (levels)
		*levels = n;
	return last;
}

/* /proc/<pid>/stat's start time (clock ticks since boot) as ns since the epoch; 0 if unknown. */
static uint64_t ticks_since_boot_ns(unsigned long long start)
{
	long hz = sysconf(_SC_CLK_TCK);
	return hz > 0 ? boot_epoch_ns() + start * (1000000000ull / (uint64_t)hz) : 0;
}

/* The start of pid 1 of proc_root: the init of every process there with a one-level NSpid. Read once. */
static uint64_t procfs_init_start(struct st_state *st)
{
	char path[320], buf[1024];
	unsigned long long start;

	if (st->procfs_init_ts)
		return st->procfs_init_ts;
	snprintf(path, sizeof(path), "%s/1/stat", st->proc_root);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return 0;
	const char *rp = strrchr(buf, ')');
	if (rp && sscanf(rp + 2,
			 "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d "
			 "%*d %llu",
			 &start) == 1)
		st->procfs_init_ts = ticks_since_boot_ns(start);
	return st->procfs_init_ts;
}

static int load_one(struct st_state *st, uint32_t pid, struct sock_tab *socks, struct st_proc **ret)
{
	char path[320], buf[8192], status[4096];
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%u/status", st->proc_root, pid);
	if (read_small(path, status, sizeof(status)) <= 0)
		return -ENOENT;
	const char *tg = field_after(status, "Tgid:");
	if (tg && (uint32_t)strtoul(tg, NULL, 10) != pid)
		pid = (uint32_t)strtoul(tg, NULL, 10); /* a thread: load its process */

	snprintf(path, sizeof(path), "%s/%u/stat", st->proc_root, pid);
	if ((n = read_small(path, buf, sizeof(buf))) <= 0)
		return -ENOENT;
	char *rp = strrchr(buf, ')');
	if (!rp)
		return -EBADMSG;
	char state;
	int ppid, pgrp, sid, tty;
	unsigned long long start = 0;
	if (sscanf(rp + 2,
		   "%c %d %d %d %d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
		   &state, &ppid, &pgrp, &sid, &tty, &start) < 5)
		return -EBADMSG;

	struct st_proc *p = st_proc_create(st, pid);
	if (!p)
		return -E2BIG;
	p->ppid = (uint32_t)ppid;
	p->pgid = (uint32_t)pgrp;
	p->sid = (uint32_t)sid;
	p->tty = (uint32_t)tty;
	p->start_ts = ticks_since_boot_ns(start);
	const char *v;
	if ((v = field_after(status, "Uid:"))) {
		unsigned ruid, euid;
		if (sscanf(v, "%u %u", &ruid, &euid) == 2)
			p->uid = euid;
	}
	if ((v = field_after(status, "Gid:"))) {
		unsigned rgid, egid;
		if (sscanf(v, "%u %u", &rgid, &egid) == 2)
			p->gid = egid;
	}
	p->cap_inh = caps_of(status, "CapInh:");
	p->cap_perm = caps_of(status, "CapPrm:");
	p->cap_eff = caps_of(status, "CapEff:");
	unsigned levels;
	p->vpid = last_ns_id(status, "NSpid:", &levels);
	p->vpgid = last_ns_id(status, "NSpgid:", NULL);
	if (!p->vpid)
		p->vpid = pid;
	if (!p->vpgid)
		p->vpgid = p->pgid;
	if (p->vpgid == p->vpid)
		p->flags |= ST_P_VPGID_LEADER;
	/* proc.pidns_init_start_ts: its own start for a namespace's init; pid 1's for the procfs's namespace
	 * (usually the host's); for a nested namespace, its init's once known (fill_pidns_init) */
	if (p->vpid == 1)
		p->pidns_init_start_ts = p->start_ts;
	else if (levels <= 1)
		p->pidns_init_start_ts = procfs_init_start(st);

	snprintf(path, sizeof(path), "%s/%u/comm", st->proc_root, pid);
	if ((n = read_small(path, buf, sizeof(buf))) > 0) {
		size_t k = strcspn(buf, "\n");
		memcpy(p->comm, buf, MIN(k, sizeof(p->comm) - 1));
	}
	snprintf(path, sizeof(path), "%s/%u/cmdline", st->proc_root, pid);
	if ((n = read_small(path, buf, EVT_MAX_ARGS + 1)) > 0) {
		size_t a0 = strnlen(buf, (size_t)n);
		st_str_set(st, &p->exe, st_str_intern(st, buf, a0));
		if ((size_t)n > a0 + 1)
			st_str_set(st, &p->args,
				   st_str_intern(st, buf + a0 + 1, (size_t)n - a0 - 1));
	}
	snprintf(path, sizeof(path), "%s/%u/exe", st->proc_root, pid);
	if ((n = readlink_z(path, buf, EVT_MAX_PATH)) > 0) {
		size_t k = (size_t)n;
		if (startswith(buf, "/memfd:"))
			p->flags |= ST_P_EXE_MEMFD;
		if (k > 10 && streq(buf + k - 10, " (deleted)"))
			k -= 10;
		st_str_set(st, &p->exepath, st_str_intern(st, buf, k));
		struct stat sb;
		if (stat(path, &sb) == 0) {
			p->exe_ino = sb.st_ino;
			p->exe_ctime = (uint64_t)sb.st_ctim.tv_sec * 1000000000u +
				       (uint64_t)sb.st_ctim.tv_nsec;
			p->exe_mtime = (uint64_t)sb.st_mtim.tv_sec * 1000000000u +
				       (uint64_t)sb.st_mtim.tv_nsec;
		}
	}
	if (!p->exe && p->comm[0])
		st_str_set(st, &p->exe, st_str_intern_cstr(st, p->comm)); /* kernel threads */
	snprintf(path, sizeof(path), "%s/%u/cwd", st->proc_root, pid);
	if ((n = readlink_z(path, buf, EVT_MAX_PATH)) > 0) {
		if (buf[n - 1] != '/')
			buf[n++] = '/';
		st_str_set(st, &p->cwd, st_str_intern(st, buf, (size_t)n));
	}
	snprintf(path, sizeof(path), "%s/%u/loginuid", st->proc_root, pid);
	if (read_small(path, buf, 32) > 0)
		p->loginuid = (uint32_t)strtoul(buf, NULL, 10);
	snprintf(path, sizeof(path), "%s/%u/cgroup", st->proc_root, pid);
	if ((n = read_small(path, buf, sizeof(buf))) > 0)
		p->container = st_container_from_proc_cgroup(st, buf, (size_t)n, p->start_ts);
	load_threads(st, p);
	load_fds(st, p, socks);
	st_proc_classify(st, p);
	*ret = p;
	return 0;
}

void st_sock_cache_expire(struct st_state *st, bool force)
{
	if (!st->socks ||
	    (!force && st->socks->netns && mono_ns() - st->socks->read_ns < ST_SOCK_CACHE_NS))
		return;
	sock_tab_done(st->socks);
	if (force) {
		free(st->socks);
		st->socks = NULL;
	}
}

struct st_proc *st_proc_load(struct st_state *st, uint32_t pid)
{
	struct st_proc *p = NULL;

	if (st->opt.replay)
		return NULL;
	st->stats.proc_lookups++;
	st_sock_cache_expire(st, false);
	if (!st->socks &&
	    (st->socks = calloc(1, sizeof(*st->socks)))) /* NULL: sockets stay without tuples */
		st->socks->limited = true;
	if (load_one(st, pid, st->socks, &p) < 0) {
		st->stats.proc_lookup_fail++;
		return NULL;
	}
	if (!p->pidns_init_start_ts) {
		/* a nested namespace: its init among the known processes (a readlink per known init; on-demand
		 * loads are rare and rate-limited, each already reads several /proc files) */
		_cleanup_free_ struct pidns_init *inits = NULL;
		size_t n = pidns_inits(st, &inits);
		fill_pidns_init(st, p, inits, n);
	}
	/* a child of a process marked as ours is ours too */
	struct st_proc *par = st_proc_parent(st, p);
	if (par) {
		p->flags |= par->flags & (ST_P_SELF | ST_P_FALCOCTL);
		st_proc_classify(st, p);
	}
	if (st->hooks.proc_loaded)
		st->hooks.proc_loaded(st->hooks.ud, p);
	return p;
}

int st_seed_proc(struct st_state *st)
{
	struct sock_tab socks = {0};
	struct dirent *de;
	int n = 0;
	DIR *d = opendir(st->proc_root);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		unsigned long pid = strtoul(de->d_name, &end, 10);
		struct st_proc *p;
		if (*end || de->d_name[0] == '\0' || pid == 0 || st_proc_find(st, (uint32_t)pid))
			continue;
		if (load_one(st, (uint32_t)pid, &socks, &p) == 0)
			n++;
	}
	closedir(d);
	sock_tab_done(&socks);
	_cleanup_free_ struct pidns_init *inits = NULL;
	size_t ninits = pidns_inits(st, &inits);
	for (uint32_t i = 0; i < st->proc_hi && ninits; i++) {
		struct st_proc *p = st_proc_at(st, i);
		if (p)
			fill_pidns_init(st, p, inits, ninits);
	}
	/* descendants of falco and of an installing falcoctl */
	for (uint32_t i = 0; i < st->proc_hi; i++) {
		struct st_proc *p = st_proc_at(st, i);
		if (!p || (p->flags & (ST_P_SELF | ST_P_FALCOCTL)))
			continue;
		const struct st_proc *a = p;
		for (uint32_t k = 0; k < st->lim.max_ancestors && (a = st_proc_parent(st, a));
		     k++) {
			if (a->flags & (ST_P_SELF | ST_P_FALCOCTL)) {
				p->flags |= a->flags & (ST_P_SELF | ST_P_FALCOCTL);
				st_proc_classify(st, p);
				break;
			}
		}
	}
	return n;
}

/* ---- the environment, on demand ---- */

void st_proc_env_recorded(struct st_state *st, uint32_t pid, struct st_str *env)
{
	st_str_set(st, &st->env_rec, env);
	st->env_pid = pid;
}

const struct st_str *st_proc_env(struct st_state *st, struct st_proc *p)
{
	char path[320];
	char *buf;
	ssize_t n;

	if (p->env || (p->flags & ST_P_ENV_TRIED))
		return p->env;
	p->flags |= ST_P_ENV_TRIED;
	if (st->opt.replay) {
		if (st->env_pid == p->pid && st->env_rec) {
			st_str_set(st, &p->env, st->env_rec);
			st->env_rec = NULL;
			st->env_pid = 0;
		}
		return p->env;
	}
	buf = malloc(EVT_MAX_ARGS + 1);
	if (!buf)
		return NULL;
	snprintf(path, sizeof(path), "%s/%u/environ", st->proc_root, p->pid);
	n = read_small(path, buf, EVT_MAX_ARGS + 1);
	if (n > 0)
		st_str_set(st, &p->env, st_str_intern(st, buf, (size_t)n));
	free(buf);
	if (p->env && st->hooks.proc_env)
		st->hooks.proc_env(st->hooks.ud, p);
	return p->env;
}
