/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the syscall source's state (falco/source/state*.c): maps and interned strings, path
 * normalisation, container ids from many cgroup shapes (and the 32-hex memory-cgroup trap), process and
 * descriptor transitions driven by synthetic records (clone/exec/exit/open/dup/close/socket/connect/accept...),
 * bounds, users, the drop policy, /proc seeding of this very test process, and HOST_ROOT (validation, falco's pid
 * in a procfs, the host's users).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/macro.h"
#include "falco/source/sc_source.h"
#include "falco/source/state.h"
#include "falco/source/state_internal.h"
#include "sc_testrec.h"

#define TS0 1700000000000000000ull

/* ---- maps and strings ---- */

static void test_map(void **state)
{
	struct st_map m;
	enum { N = 20000 };
	static uint32_t ref[N];

	assert_int_equal(st_map_init(&m, 16, N), 0);
	for (uint32_t i = 0; i < N; i++) {
		ref[i] = ST_NIL;
		assert_int_equal(st_map_put(&m, (uint64_t)i * 7919 + 1, i), 0);
		ref[i] = i;
	}
	assert_int_equal(m.n, N);
	/* delete every third key: the clusters must survive backward shifting */
	for (uint32_t i = 0; i < N; i += 3) {
		st_map_del(&m, (uint64_t)i * 7919 + 1);
		ref[i] = ST_NIL;
	}
	for (uint32_t i = 0; i < N; i++)
		assert_int_equal(st_map_get(&m, (uint64_t)i * 7919 + 1), ref[i]);
	assert_int_equal(st_map_get(&m, 0), ST_NIL);
	/* the map refuses to grow past its maximum */
	struct st_map small;
	assert_int_equal(st_map_init(&small, 16, 10), 0);
	int full = 0;
	for (uint32_t i = 1; i < 100; i++)
		if (st_map_put(&small, i, i) < 0)
			full++;
	assert_true(full > 0);
	st_map_done(&small);
	st_map_done(&m);
}

static void test_strings(void **state)
{
	struct st_options o = {.replay = true};
	struct st_state *st = st_new(&o);
	char big[5000];

	assert_non_null(st);
	struct st_str *a = st_str_intern(st, "/usr/bin/bash", 13);
	struct st_str *b = st_str_intern(st, "/usr/bin/bash", 13);
	assert_ptr_equal(a, b);
	assert_int_equal(a->refs, 2);
	assert_string_equal(a->s, "/usr/bin/bash");
	st_str_unref(st, a);
	st_str_unref(st, b);
	/* freed slot reused, content fresh */
	struct st_str *c = st_str_intern(st, "/usr/bin/zsh", 12);
	assert_string_equal(c->s, "/usr/bin/zsh");
	memset(big, 'x', sizeof(big));
	struct st_str *d = st_str_intern(st, big, sizeof(big));
	assert_non_null(d);
	assert_int_equal(d->len, sizeof(big));
	/* many distinct strings, then all released: the pool is reused rather than grown */
	struct st_str *v[3000];
	for (int i = 0; i < 3000; i++) {
		char s[32];
		int n = snprintf(s, sizeof(s), "s%d", i);
		v[i] = st_str_intern(st, s, (size_t)n);
		assert_non_null(v[i]);
	}
	struct st_stats s1;
	st_get_stats(st, &s1);
	for (int i = 0; i < 3000; i++)
		st_str_unref(st, v[i]);
	for (int i = 0; i < 3000; i++) {
		char s[32];
		int n = snprintf(s, sizeof(s), "t%d", i);
		v[i] = st_str_intern(st, s, (size_t)n);
	}
	struct st_stats s2;
	st_get_stats(st, &s2);
	assert_int_equal(s1.str_bytes, s2.str_bytes);
	st_free(st);

	/* a tiny pool runs out: NULL, counted */
	struct st_options t = {.replay = true, .limits.max_str_bytes = 64 * 1024};
	st = st_new(&t);
	int fails = 0;
	for (int i = 0; i < 100; i++)
		if (!st_str_intern(st, big, 4000 + (size_t)i))
			fails++;
	struct st_stats s3;
	st_get_stats(st, &s3);
	assert_true(fails > 0);
	assert_int_equal(s3.str_full, (uint64_t)fails);
	st_free(st);
}

static void test_paths(void **state)
{
	static const struct {
		const char *dir, *path, *want;
	} cases[] = {
		{"/work/", "a.txt", "/work/a.txt"},
		{"/work/", "/etc//shadow", "/etc/shadow"},
		{"/work/x/", "../etc/./passwd", "/work/etc/passwd"},
		{"/", "../../etc", "/etc"},
		{"/a/b/", ".", "/a/b"},
		{"/a/b/", "..", "/a"},
		{"/a/", "", "/a"},
		{NULL, "/", "/"},
		{"/", "a/b/../../c/", "/c"},
	};
	char out[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = st_path_resolve(cases[i].dir, cases[i].dir ? strlen(cases[i].dir) : 0,
					   cases[i].path, strlen(cases[i].path), out, sizeof(out));
		assert_string_equal(out, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
	}
	/* truncation never overflows */
	char small[8];
	st_path_resolve("/", 1, "/abcdefghijklmnop", 17, small, sizeof(small));
	assert_true(strlen(small) < sizeof(small));
}

/* ---- containers from cgroups ---- */

#define H64 "3f9e2a7c1b5d4e6f8a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f"

static void test_cgroup_shapes(void **state)
{
	static const struct {
		const char *path;
		int type; /* -1: host */
		const char *id;
	} cases[] = {
		{"/system.slice/docker-" H64 ".scope", ST_CT_DOCKER, H64},
		{"/docker/" H64, ST_CT_DOCKER, H64},
		{"/docker/" H64 "/init", ST_CT_DOCKER, H64},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234.slice/cri-containerd-" H64
		 ".scope",
		 ST_CT_CONTAINERD, H64},
		{"/kubepods/burstable/pod5e0a1b2c-0000-1111-2222-333344445555/" H64,
		 ST_CT_CONTAINERD, H64},
		{"/kubepods.slice/kubepods-pod1.slice/crio-" H64 ".scope", ST_CT_CRIO, H64},
		{"/kubepods/besteffort/pod1/crio-" H64, ST_CT_CRIO, H64},
		{"/machine.slice/libpod-" H64 ".scope", ST_CT_PODMAN, H64},
		{"/machine.slice/libpod-" H64 ".scope/container", ST_CT_PODMAN, H64},
		{"/libpod_parent/libpod-" H64, ST_CT_PODMAN, H64},
		{"/k8s.io/" H64, ST_CT_CONTAINERD, H64},
		{"/default/" H64, ST_CT_CONTAINERD, H64},
		{"/machine.slice/machine-web\\x2d1.scope", ST_CT_NSPAWN, "web-1"},
		{"/machine.slice/machine-qemu\\x2d1\\x2dvm.scope", -1,
		 NULL}, /* a VM's qemu: host process */
		{"/lxc/mybox", ST_CT_LXC, "mybox"},
		{"/lxc.payload.mybox", ST_CT_LXC, "mybox"},
		/* the traps: conmon, 32-hex memory cgroups, hex ids under unknown parents, short ids */
		{"/machine.slice/libpod-conmon-" H64 ".scope", -1, NULL},
		{"/kubepods.slice/crio-conmon-" H64 ".scope", -1, NULL},
		{"/process_api/5b0cd3ed001d52449ff6852249b1fbae", -1, NULL},
		{"/user.slice/user-0.slice/session-3.scope", -1, NULL},
		{"/system.slice/" H64, -1, NULL},
		{"/sandbox/" H64, -1, NULL},
		{"/docker/"
		 "3f9e2a7c1b5d",
		 -1, NULL},
		{"/system.slice/docker.service", -1, NULL},
		{"/docker-" H64 ".scopes", -1, NULL},
		{"/", -1, NULL},
		{"", -1, NULL},
	};
	enum st_ct_type t;
	char id[ST_CT_ID_MAX + 1];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = st_cgroup_container(cases[i].path, strlen(cases[i].path), &t, id);
		if (cases[i].type < 0) {
			if (r != 0)
				fail_msg("'%s' taken for a container (%s)", cases[i].path, id);
			continue;
		}
		if (r != 1)
			fail_msg("'%s' not recognised", cases[i].path);
		assert_int_equal(t, cases[i].type);
		assert_string_equal(id, cases[i].id);
	}

	/* a cgroups parameter: several subsystems, the memory one a trap; /proc text the same way */
	struct st_options o = {.replay = true};
	struct st_state *st = st_new(&o);
	static const char params[] =
		"cpuset=/\0memory=/process_api/5b0cd3ed001d52449ff6852249b1fbae\0"
		"pids=/system.slice/docker-" H64 ".scope\0";
	uint32_t c = st_container_from_cgroups(st, params, sizeof(params), TS0);
	assert_int_not_equal(c, 0);
	assert_string_equal(st_container_at(st, c)->id, H64);
	static const char host[] =
		"cpuset=/\0memory=/process_api/5b0cd3ed001d52449ff6852249b1fbae\0";
	assert_int_equal(st_container_from_cgroups(st, host, sizeof(host), TS0), 0);
	static const char text[] =
		"9:name=systemd:/\n4:memory:/process_api/5b0cd3ed001d52449ff6852249b1fbae\n"
		"1:cpu:/docker/" H64 "\n0::/\n";
	assert_int_equal(st_container_from_proc_cgroup(st, text, sizeof(text) - 1, TS0), c);
	assert_string_equal(st_container_at(st, 0)->id, "host");
	st_free(st);
}

/* ---- transitions through sc_source ---- */

struct seen {
	uint16_t type;
	uint64_t num;
	uint32_t pid;
	char fdname[128];
	int64_t fdnum;
	char comm[16];
	char exe[64];
	bool has_fd;
};

struct harness {
	struct sc_source *s;
	struct st_state *st;
	struct seen seen[64];
	size_t n;
	uint8_t buf[EVT_MAX_SIZE];
	uint64_t ts;
};

static void on_emit(void *ud, const struct evt *e, void *src_state)
{
	struct harness *h = ud;
	const struct sc_evt *se = e->data;
	struct seen *v = &h->seen[h->n++ % 64];

	memset(v, 0, sizeof(*v));
	v->type = e->type;
	v->num = e->num;
	v->pid = se->proc ? se->proc->pid : 0;
	if (se->proc) {
		memcpy(v->comm, se->proc->comm, sizeof(v->comm));
		if (se->proc->exepath)
			snprintf(v->exe, sizeof(v->exe), "%s", se->proc->exepath->s);
	}
	v->has_fd = se->fd != NULL;
	v->fdnum = se->fdnum;
	if (se->fd && se->fd->name)
		snprintf(v->fdname, sizeof(v->fdname), "%s", se->fd->name->s);
}

static struct harness *harness_new(bool replay)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sc_source_opts o = {.state.replay = replay, .emit = on_emit};
	char err[256];

	o.ud = h;
	assert_int_equal(sc_source_new(&o, &h->s, err, sizeof(err)), 0);
	h->st = sc_source_state(h->s);
	h->ts = TS0;
	return h;
}

static void harness_free(struct harness *h)
{
	sc_source_free(h->s);
	free(h);
}

static struct seen *feed(struct harness *h, uint16_t type, uint32_t tid, uint32_t pid,
			 const struct tp *ps, size_t n)
{
	char err[256];
	size_t before = h->n;
	size_t len = tr_make(h->buf, type, tid, pid, h->ts += 1000, ps, n);
	assert_true(len > 0);
	int r = sc_source_feed(h->s, h->buf, len, err, sizeof(err));
	assert_true(r >= 0);
	return h->n > before ? &h->seen[(h->n - 1) % 64] : NULL;
}

#define FEED(h, type, tid, pid, ...)                              \
	feed(h, type, tid, pid, (const struct tp[]){__VA_ARGS__}, \
	     sizeof((const struct tp[]){__VA_ARGS__}) / sizeof(struct tp))

/* pid 100 "bash" in /home/u/ with fds 0..2 on /dev/pts/0 */
static struct st_proc *make_shell(struct harness *h)
{
	struct st_proc *p = st_proc_create(h->st, 100);
	assert_non_null(p);
	memcpy(p->comm, "bash", 5);
	p->ppid = 1;
	p->vpid = 100;
	p->uid = 1000;
	p->start_ts = TS0 - 1000000000ull;
	st_str_set(h->st, &p->exe, st_str_intern_cstr(h->st, "-bash"));
	st_str_set(h->st, &p->exepath, st_str_intern_cstr(h->st, "/usr/bin/bash"));
	st_str_set(h->st, &p->cwd, st_str_intern_cstr(h->st, "/home/u/"));
	st_thread_add(h->st, p, 100, 100);
	for (int fd = 0; fd < 3; fd++) {
		struct st_fd *f = st_fd_add(h->st, p, fd);
		f->type = FDT_FILE;
		st_str_set(h->st, &f->name, st_str_intern_cstr(h->st, "/dev/pts/0"));
	}
	struct st_fd *f = st_fd_add(h->st, p, 9);
	f->type = FDT_FILE;
	f->flags |= ST_FD_CLOEXEC;
	st_str_set(h->st, &f->name, st_str_intern_cstr(h->st, "/home/u/.bash_history"));
	return p;
}

static void test_fork_exec_exit(void **state)
{
	struct harness *h = harness_new(true);
	struct st_proc *sh = make_shell(h);
	struct seen *v;

	/* parent side of the fork: the child appears with the parent's image and descriptors */
	v = FEED(h, EVT_CLONE_X, 100, 100, TP_I("res", 200), TP_I("tid", 100), TP_I("pid", 100),
		 TP_I("ptid", 1), TP_I("flags", 17), TP_I("vpid", 100), TP_S("comm", "bash"));
	assert_non_null(v);
	assert_int_equal(v->pid, 100);
	struct st_proc *c = st_proc_find(h->st, 200);
	assert_non_null(c);
	assert_int_equal(c->ppid, 100);
	assert_string_equal(c->comm, "bash");
	assert_ptr_equal(c->exepath, sh->exepath); /* interned: shared, not copied */
	assert_int_equal(c->nfds, 4);
	assert_non_null(st_fd_find(h->st, c, 9));
	assert_ptr_equal(st_proc_parent(h->st, c), sh);

	/* the child's own event */
	v = FEED(h, EVT_CLONE_X, 200, 200, TP_I("res", 0), TP_I("tid", 200), TP_I("pid", 200),
		 TP_I("ptid", 100), TP_I("flags", 17), TP_I("vtid", 200), TP_I("vpid", 200),
		 TP_S("comm", "bash"));
	assert_int_equal(v->pid, 200);
	assert_int_equal(st_proc_find(h->st, 200)->nthreads, 1);

	/* exec: the new image is in place for the rules; close-on-exec descriptors are gone */
	static const char args[] = "-l\0/tmp\0";
	v = FEED(h, EVT_EXECVE_X, 200, 200, TP_I("res", 0), TP_S("exe", "ls"),
		 TP_B("args", args, sizeof(args) - 1), TP_I("tid", 200), TP_I("pid", 200),
		 TP_I("ptid", 100), TP_S("cwd", "/home/u"), TP_S("comm", "ls"), TP_I("uid", 1000),
		 TP_S("trusted_exepath", "/usr/bin/ls"), TP_S("filename", "/bin/ls"),
		 TP_I("vpid", 200), TP_I("cap_effective", 0x200000), TP_I("loginuid", 1000));
	assert_string_equal(v->comm, "ls");
	assert_string_equal(v->exe, "/usr/bin/ls");
	c = st_proc_find(h->st, 200);
	assert_string_equal(c->exe->s, "ls");
	assert_int_equal(c->args->len, sizeof(args) - 1);
	assert_string_equal(c->cwd->s, "/home/u/");
	assert_int_equal(c->cap_eff, 0x200000);
	assert_int_equal(c->loginuid, 1000);
	assert_null(st_fd_find(h->st, c, 9));
	assert_non_null(st_fd_find(h->st, c, 1));
	assert_true(c->flags & ST_P_SEEN_EXEC);

	/* a failed exec changes nothing */
	FEED(h, EVT_EXECVE_X, 200, 200, TP_I("res", -2), TP_S("filename", "/nope"));
	assert_string_equal(st_proc_find(h->st, 200)->comm, "ls");

	/* exec without trusted_exepath: the filename resolved against the cwd */
	FEED(h, EVT_EXECVE_X, 200, 200, TP_I("res", 0), TP_S("exe", "./run"),
	     TP_S("cwd", "/opt/app"), TP_S("comm", "run"), TP_S("filename", "./bin/../run"));
	assert_string_equal(st_proc_find(h->st, 200)->exepath->s, "/opt/app/run");

	/* a thread: its exit leaves the process; the last exit removes it after the rules saw it */
	FEED(h, EVT_CLONE_X, 200, 200, TP_I("res", 201),
	     TP_I("flags", EVT_CLONE_THREAD | EVT_CLONE_VM), TP_I("vpid", 200));
	assert_int_equal(st_proc_find(h->st, 200)->nthreads, 2);
	v = FEED(h, EVT_PROCEXIT, 201, 200, TP_I("status", 0));
	assert_int_equal(v->pid, 200);
	assert_non_null(st_proc_find(h->st, 200));
	assert_int_equal(st_proc_find(h->st, 200)->nthreads, 1);
	v = FEED(h, EVT_PROCEXIT, 200, 200, TP_I("status", 0));
	assert_int_equal(v->pid, 200);
	assert_string_equal(v->comm, "run");
	assert_null(st_proc_find(h->st, 200));
	assert_null(st_thread_find(h->st, 200));

	/* the child's event before the parent's: built from the parent, then the parent's event only confirms */
	FEED(h, EVT_CLONE_X, 300, 300, TP_I("res", 0), TP_I("ptid", 100), TP_I("flags", 17),
	     TP_I("vpid", 300));
	c = st_proc_find(h->st, 300);
	assert_non_null(c);
	assert_string_equal(c->comm, "bash");
	assert_int_equal(c->ppid, 100);
	FEED(h, EVT_CLONE_X, 100, 100, TP_I("res", 300), TP_I("flags", 17), TP_I("vpid", 100));
	assert_int_equal(st_proc_find(h->st, 300)->nthreads, 1);

	/* a fork inside a pid namespace: res is virtual, the parent's event must not create anything */
	struct st_proc *ns = st_proc_create(h->st, 500);
	ns->vpid = 7;
	memcpy(ns->comm, "init", 5);
	FEED(h, EVT_CLONE_X, 500, 500, TP_I("res", 8), TP_I("flags", 17), TP_I("vpid", 7));
	assert_null(st_proc_find(h->st, 8));

	/* an event from a process nobody told us about (replay: no /proc): a partial entry */
	v = FEED(h, EVT_CLOSE_X, 777, 777, TP_I("res", 0), TP_I("fd", 3));
	assert_int_equal(v->pid, 777);
	assert_true(st_proc_find(h->st, 777)->flags & ST_P_PARTIAL);
	/* whose it is is unknown, which must not read as root (uid 0) */
	assert_int_equal(st_proc_find(h->st, 777)->uid, ST_ID_UNKNOWN);
	assert_int_equal(st_proc_find(h->st, 777)->gid, ST_ID_UNKNOWN);
	harness_free(h);
}

static void test_fds(void **state)
{
	struct harness *h = harness_new(true);
	struct st_proc *p = make_shell(h);
	struct seen *v;
	uint8_t t[64], a[32];

	/* openat relative to the cwd, then relative to a directory descriptor */
	v = FEED(h, EVT_OPENAT_X, 100, 100, TP_I("fd", 3), TP_I("dirfd", EVT_AT_FDCWD),
		 TP_S("name", "docs/../a.txt"), TP_I("flags", EVT_O_RDONLY | EVT_O_CLOEXEC),
		 TP_I("ino", 42));
	assert_string_equal(v->fdname, "/home/u/a.txt");
	struct st_fd *f = st_fd_find(h->st, p, 3);
	assert_non_null(f);
	assert_string_equal(f->nameraw->s, "docs/../a.txt");
	assert_true(f->flags & ST_FD_CLOEXEC);
	assert_int_equal(f->ino, 42);
	FEED(h, EVT_OPENAT_X, 100, 100, TP_I("fd", 4), TP_I("dirfd", EVT_AT_FDCWD),
	     TP_S("name", "/etc"), TP_I("flags", EVT_O_DIRECTORY));
	assert_int_equal(st_fd_find(h->st, p, 4)->type, FDT_DIRECTORY);
	v = FEED(h, EVT_OPENAT_X, 100, 100, TP_I("fd", 5), TP_I("dirfd", 4), TP_S("name", "shadow"),
		 TP_I("flags", EVT_O_RDONLY));
	assert_string_equal(v->fdname, "/etc/shadow");

	/* a failed open: a temporary descriptor with the name and number -1, nothing in the table */
	v = FEED(h, EVT_OPEN_X, 100, 100, TP_I("fd", -13), TP_S("name", "/root/secret"),
		 TP_I("flags", 0));
	assert_true(v->has_fd);
	assert_int_equal(v->fdnum, -1);
	assert_string_equal(v->fdname, "/root/secret");
	assert_int_equal(p->nfds, 7);

	/* dup2 onto stdout: a copy under the new number, close-on-exec cleared */
	v = FEED(h, EVT_DUP2_X, 100, 100, TP_I("res", 1), TP_I("oldfd", 3), TP_I("newfd", 1));
	assert_int_equal(v->fdnum, 3);
	assert_string_equal(st_fd_find(h->st, p, 1)->name->s, "/home/u/a.txt");
	assert_false(st_fd_find(h->st, p, 1)->flags & ST_FD_CLOEXEC);
	FEED(h, EVT_DUP3_X, 100, 100, TP_I("res", 8), TP_I("oldfd", 3), TP_I("newfd", 8),
	     TP_I("flags", EVT_O_CLOEXEC));
	assert_true(st_fd_find(h->st, p, 8)->flags & ST_FD_CLOEXEC);
	/* dup2 of a descriptor we do not know over one we do: the old entry is gone, not kept */
	FEED(h, EVT_DUP2_X, 100, 100, TP_I("res", 9), TP_I("oldfd", 3), TP_I("newfd", 9));
	assert_non_null(st_fd_find(h->st, p, 9));
	v = FEED(h, EVT_DUP2_X, 100, 100, TP_I("res", 9), TP_I("oldfd", 99), TP_I("newfd", 9));
	assert_false(v->has_fd);
	assert_null(st_fd_find(h->st, p, 9));
	FEED(h, EVT_FCNTL_X, 100, 100, TP_I("res", 10), TP_I("fd", 3),
	     TP_I("cmd", EVT_F_DUPFD_CLOEXEC));
	assert_true(st_fd_find(h->st, p, 10)->flags & ST_FD_CLOEXEC);

	/* close: the rules still see the descriptor, then it is gone */
	v = FEED(h, EVT_CLOSE_X, 100, 100, TP_I("res", 0), TP_I("fd", 3));
	assert_string_equal(v->fdname, "/home/u/a.txt");
	assert_null(st_fd_find(h->st, p, 3));

	/* socket + failed connect + successful connect */
	FEED(h, EVT_SOCKET_X, 100, 100, TP_I("fd", 6), TP_I("domain", EVT_AF_INET),
	     TP_I("type", EVT_SOCK_STREAM));
	f = st_fd_find(h->st, p, 6);
	assert_int_equal(f->type, FDT_IPV4);
	assert_int_equal(f->l4proto, ST_L4_TCP);
	size_t al = tr_sockaddr4(a, "10.1.2.3", 443);
	FEED(h, EVT_CONNECT_X, 100, 100, TP_I("res", -111), TP_I("fd", 6), TP_B("addr", a, al));
	assert_int_equal(f->rport, 443);
	assert_false(f->flags & ST_FD_CONNECTED);
	size_t tl = tr_tuple4(t, "192.168.1.5", 40000, "10.1.2.3", 443);
	FEED(h, EVT_CONNECT_X, 100, 100, TP_I("res", -115), TP_B("tuple", t, tl), TP_I("fd", 6),
	     TP_B("addr", a, al));
	assert_true(f->flags & ST_FD_CONNECTED);
	assert_int_equal(f->lport, 40000);
	assert_false(f->flags & ST_FD_SERVER);

	/* accept: the server side, the tuple client first */
	tl = tr_tuple4(t, "10.9.9.9", 51000, "192.168.1.5", 22);
	FEED(h, EVT_ACCEPT4_X, 100, 100, TP_I("fd", 11), TP_B("tuple", t, tl),
	     TP_I("flags", EVT_SOCK_CLOEXEC));
	f = st_fd_find(h->st, p, 11);
	assert_true(f->flags & ST_FD_SERVER);
	assert_int_equal(f->lport, 22);
	assert_int_equal(f->rport, 51000);
	assert_true(f->flags & ST_FD_CLOEXEC);

	/* UDP: a send to a new peer changes the name */
	FEED(h, EVT_SOCKET_X, 100, 100, TP_I("fd", 12), TP_I("domain", EVT_AF_INET),
	     TP_I("type", EVT_SOCK_DGRAM));
	tl = tr_tuple4(t, "192.168.1.5", 5353, "8.8.8.8", 53);
	FEED(h, EVT_SENDTO_X, 100, 100, TP_I("res", 10), TP_I("fd", 12), TP_B("tuple", t, tl));
	assert_int_equal(st_fd_find(h->st, p, 12)->l4proto, ST_L4_UDP);
	assert_int_equal(st_fd_find(h->st, p, 12)->rport, 53);

	/* pipe and memfd */
	FEED(h, EVT_PIPE2_X, 100, 100, TP_I("res", 0), TP_I("fd1", 13), TP_I("fd2", 14),
	     TP_I("ino", 777), TP_I("flags", EVT_O_CLOEXEC));
	assert_string_equal(st_fd_find(h->st, p, 14)->name->s, "pipe:[777]");
	assert_int_equal(st_fd_find(h->st, p, 13)->type, FDT_PIPE);
	v = FEED(h, EVT_MEMFD_CREATE_X, 100, 100, TP_I("fd", 15), TP_S("name", "payload"),
		 TP_I("flags", 0));
	assert_string_equal(v->fdname, "memfd:payload");
	/* bpf: only commands that return descriptors create one */
	FEED(h, EVT_BPF_X, 100, 100, TP_I("fd", 0), TP_I("cmd", EVT_BPF_MAP_UPDATE_ELEM));
	assert_string_equal(st_fd_find(h->st, p, 0)->name->s, "/dev/pts/0");
	FEED(h, EVT_BPF_X, 100, 100, TP_I("fd", 16), TP_I("cmd", EVT_BPF_PROG_LOAD));
	assert_int_equal(st_fd_find(h->st, p, 16)->type, FDT_BPF);

	/* chdir / fchdir */
	FEED(h, EVT_CHDIR_X, 100, 100, TP_I("res", 0), TP_S("path", "../x"));
	assert_string_equal(p->cwd->s, "/home/x/");
	FEED(h, EVT_FCHDIR_X, 100, 100, TP_I("res", 0), TP_I("fd", 4));
	assert_string_equal(p->cwd->s, "/etc/");

	/* credentials */
	FEED(h, EVT_SETRESUID_X, 100, 100, TP_I("res", 0), TP_I("ruid", -1), TP_I("euid", 0),
	     TP_I("suid", -1));
	assert_int_equal(p->uid, 0);
	FEED(h, EVT_SETUID_X, 100, 100, TP_I("res", -1), TP_I("uid", 33));
	assert_int_equal(p->uid, 0);
	FEED(h, EVT_SETGID_X, 100, 100, TP_I("res", 0), TP_I("gid", 33));
	assert_int_equal(p->gid, 33);
	/* setreuid/setregid: the effective id, -1 keeps it */
	FEED(h, EVT_SETREGID_X, 100, 100, TP_I("res", 0), TP_I("rgid", 0), TP_I("egid", 65534));
	assert_int_equal(p->gid, 65534);
	FEED(h, EVT_SETREUID_X, 100, 100, TP_I("res", 0), TP_I("ruid", 7), TP_I("euid", -1));
	assert_int_equal(p->uid, 0);
	FEED(h, EVT_SETREUID_X, 100, 100, TP_I("res", 0), TP_I("ruid", 0), TP_I("euid", 65534));
	assert_int_equal(p->uid, 65534);
	FEED(h, EVT_SETREUID_X, 100, 100, TP_I("res", -1), TP_I("ruid", 0), TP_I("euid", 0));
	assert_int_equal(p->uid, 65534);
	FEED(h, EVT_SETREUID_X, 100, 100, TP_I("res", 0), TP_I("ruid", 0), TP_I("euid", 0));
	FEED(h, EVT_SETGID_X, 100, 100, TP_I("res", 0), TP_I("gid", 33));
	FEED(h, EVT_CAPSET_X, 100, 100, TP_I("res", 0), TP_I("cap_effective", 7),
	     TP_I("cap_permitted", 15));
	assert_int_equal(p->cap_eff, 7);
	FEED(h, EVT_PRCTL_X, 100, 100, TP_I("res", 0), TP_I("option", EVT_PR_SET_NAME),
	     TP_S("arg2_str", "kworker"));
	assert_string_equal(p->comm, "kworker");

	/* close_range: CLOSE_RANGE_CLOEXEC only marks, a plain one closes the range; a failed one changes nothing */
	FEED(h, EVT_CLOSE_RANGE_X, 100, 100, TP_I("res", 0), TP_I("fd", 12), TP_I("max_fd", 13),
	     TP_I("flags", EVT_CLOSE_RANGE_CLOEXEC));
	assert_true(st_fd_find(h->st, p, 12)->flags & ST_FD_CLOEXEC);
	assert_true(st_fd_find(h->st, p, 13)->flags & ST_FD_CLOEXEC);
	assert_false(st_fd_find(h->st, p, 15)->flags & ST_FD_CLOEXEC); /* memfd, flags 0 */
	FEED(h, EVT_CLOSE_RANGE_X, 100, 100, TP_I("res", -22), TP_I("fd", 0), TP_I("max_fd", ~0u),
	     TP_I("flags", 0));
	assert_non_null(st_fd_find(h->st, p, 12));
	uint32_t nfds = p->nfds;
	v = FEED(h, EVT_CLOSE_RANGE_X, 100, 100, TP_I("res", 0), TP_I("fd", 13),
		 TP_I("max_fd", ~0u), TP_I("flags", 0));
	assert_false(v->has_fd);
	assert_non_null(st_fd_find(h->st, p, 12));
	assert_null(st_fd_find(h->st, p, 13));
	assert_null(st_fd_find(h->st, p, 14));
	assert_null(st_fd_find(h->st, p, 16));
	assert_int_equal(p->nfds, nfds - 4); /* 13, 14, 15, 16 */

	/* an entry event reaches nobody */
	size_t before = h->n;
	FEED(h, EVT_OPENAT_E, 100, 100, TP_I("dirfd", EVT_AT_FDCWD), TP_S("name", "/x"));
	assert_int_equal(h->n, before);

	/* process exit drops every descriptor */
	uint64_t fds_before = 0;
	struct st_stats s;
	st_get_stats(h->st, &s);
	fds_before = s.fds;
	assert_true(fds_before >= p->nfds);
	FEED(h, EVT_PROCEXIT, 100, 100, TP_I("status", 0));
	st_get_stats(h->st, &s);
	assert_int_equal(s.procs, 0);
	assert_int_equal(s.fds, 0);
	harness_free(h);
}

static void test_bounds(void **state)
{
	struct st_options o = {
		.replay = true,
		.limits = {.max_procs = 4, .max_threads = 6, .max_fds = 10, .max_fds_per_proc = 3}};
	struct st_state *st = st_new(&o);

	for (uint32_t pid = 1; pid <= 4; pid++)
		assert_non_null(st_proc_create(st, pid));
	assert_null(st_proc_create(st, 5));
	struct st_proc *p = st_proc_find(st, 1);
	assert_non_null(st_fd_add(st, p, 0));
	assert_non_null(st_fd_add(st, p, 1));
	assert_non_null(st_fd_add(st, p, 2));
	assert_null(st_fd_add(st, p, 3));
	assert_non_null(st_fd_add(st, p, 2)); /* replacing is fine */
	assert_null(st_fd_add(st, p, -1));
	struct st_stats s;
	st_get_stats(st, &s);
	assert_int_equal(s.proc_full, 1);
	assert_int_equal(s.fd_proc_full, 1);
	/* removal frees slots for reuse */
	st_proc_remove(st, p);
	assert_non_null(st_proc_create(st, 5));
	st_get_stats(st, &s);
	assert_int_equal(s.fds, 0);
	st_free(st);
}

static void test_users(void **state)
{
	struct st_options o = {.replay = true, .limits.max_users = 2};
	struct st_state *st = st_new(&o);

	struct st_user u = {.key = 1000,
			    .id = 1000,
			    .found = true,
			    .name = st_str_intern_cstr(st, "alice"),
			    .home = st_str_intern_cstr(st, "/home/alice"),
			    .shell = st_str_intern_cstr(st, "/bin/zsh")};
	st_user_put(st, &u);
	const struct st_user *r = st_user(st, NULL, 1000);
	assert_true(r->found);
	assert_string_equal(r->name->s, "alice");
	/* replay knows nothing else: a negative entry */
	r = st_user(st, NULL, 1001);
	assert_false(r->found);
	/* the cache is bounded: a third entry evicts one */
	r = st_user(st, NULL, 1002);
	assert_non_null(r);
	struct st_stats s;
	st_get_stats(st, &s);
	assert_int_equal(s.users, 2);
	st_str_unref(st, u.name);
	st_str_unref(st, u.home);
	st_str_unref(st, u.shell);
	st_free(st);

	/* live: NSS */
	struct st_options live = {.replay = false};
	st = st_new(&live);
	r = st_user(st, NULL, 0);
	assert_true(r->found);
	assert_string_equal(r->name->s, "root");
	r = st_group(st, NULL, 0);
	assert_string_equal(r->name->s, "root");
	r = st_user(st, NULL, 4000000000u);
	assert_false(r->found);
	st_free(st);
}

/* ---- /proc seeding of this test process ---- */

/*
 * A process in a new pid namespace (a container's shell, say) gets the start of that namespace's init, not the
 * host's, both when seeded and when loaded on its own: container.start_ts is that value.
 */
static void test_seed_pidns_init(void **state)
{
	int go[2], ready[2];
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid_t init = fork();
	assert_true(init >= 0);
	if (init == 0) {
		/* the namespace's init: unshare, then a child that is pid 1 in it, which forks pid 2 */
		if (unshare(CLONE_NEWPID) < 0)
			_exit(77);
		pid_t nsinit = fork();
		if (nsinit == 0) {
			pid_t two = fork();
			if (two == 0) {
				char c;
				(void)!read(go[0], &c, 1);
				_exit(0);
			}
			(void)!write(ready[1], &two,
				     sizeof(two)); /* its pid as seen from here: 2 */
			waitpid(two, NULL, 0);
			_exit(0);
		}
		(void)!write(ready[1], &nsinit, sizeof(nsinit));
		waitpid(nsinit, NULL, 0);
		_exit(0);
	}
	pid_t nsinit = 0, two = 0;
	if (read(ready[0], &nsinit, sizeof(nsinit)) != sizeof(nsinit)) {
		int status;
		waitpid(init, &status, 0);
		if (WIFEXITED(status) && WEXITSTATUS(status) == 77)
			skip(); /* no CLONE_NEWPID here (not root) */
		fail_msg("the namespace's init did not start");
	}
	assert_int_equal(read(ready[0], &two, sizeof(two)), sizeof(two));
	assert_int_equal(two, 2);

	struct st_options o = {.self_pid = (uint32_t)getpid()};
	struct st_state *st = st_new(&o);
	assert_true(st_seed_proc(st) > 2);
	const struct st_proc *ip = st_proc_find(st, (uint32_t)nsinit), *host = st_proc_find(st, 1);
	assert_non_null(ip);
	assert_non_null(host);
	assert_int_equal(ip->vpid, 1);
	assert_true(ip->pidns_init_start_ts == ip->start_ts);
	/* the grandchild: host pid unknown to us, so find it as the init's child */
	const struct st_proc *g = NULL;
	for (uint32_t i = 0; i < st->proc_hi && !g; i++) {
		const struct st_proc *q = st_proc_at(st, i);
		if (q && q->ppid == (uint32_t)nsinit)
			g = q;
	}
	assert_non_null(g);
	assert_int_equal(g->vpid, 2);
	assert_true(g->pidns_init_start_ts == ip->start_ts);
	assert_true(g->pidns_init_start_ts >= host->pidns_init_start_ts);
	uint32_t gpid = g->pid;
	st_free(st);

	/* loaded on its own, after its init is known */
	st = st_new(&o);
	assert_non_null(st_proc_load(st, (uint32_t)nsinit));
	const struct st_proc *g2 = st_proc_load(st, gpid);
	assert_non_null(g2);
	assert_true(g2->pidns_init_start_ts == st_proc_find(st, (uint32_t)nsinit)->start_ts);
	st_free(st);

	assert_int_equal(write(go[1], "x", 1), 1);
	waitpid(init, NULL, 0);
	close(go[0]);
	close(go[1]);
	close(ready[0]);
	close(ready[1]);
}

static void test_seed_self(void **state)
{
	struct st_options o = {.self_pid = (uint32_t)getpid()};
	struct st_state *st = st_new(&o);
	char exe[512], cwd[512];
	int fd = open("/etc/hostname", O_RDONLY | O_CLOEXEC);
	int lsn = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);

	assert_true(fd >= 0 && lsn >= 0);
	assert_int_equal(bind(lsn, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lsn, 1), 0);
	assert_int_equal(getsockname(lsn, (struct sockaddr *)&sa, &sl), 0);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_non_null(getcwd(cwd, sizeof(cwd)));

	int loaded = st_seed_proc(st);
	assert_true(loaded > 1);
	struct st_proc *p = st_proc_find(st, (uint32_t)getpid());
	assert_non_null(p);
	assert_string_equal(p->exepath->s, exe);
	assert_int_equal(strncmp(p->cwd->s, cwd, strlen(cwd)), 0);
	assert_int_equal(p->cwd->s[p->cwd->len - 1], '/');
	assert_int_equal(p->ppid, (uint32_t)getppid());
	assert_int_equal(p->uid, geteuid());
	assert_true(p->flags & ST_P_SELF);
	assert_true(p->start_ts > 0);
	assert_true(p->nthreads >= 1);
	assert_int_equal(p->container, 0);
	struct st_fd *f = st_fd_find(st, p, fd);
	assert_non_null(f);
	assert_string_equal(f->name->s, "/etc/hostname");
	assert_int_equal(f->type, FDT_FILE);
	assert_true(f->flags & ST_FD_CLOEXEC);
	f = st_fd_find(st, p, lsn);
	assert_non_null(f);
	assert_int_equal(f->type, FDT_IPV4);
	assert_true(f->flags & ST_FD_SERVER);
	assert_int_equal(f->lport, ntohs(sa.sin_port));
	assert_non_null(st_proc_find(st, 1));
	/* this process is in the pid namespace of pid 1: that init's start */
	assert_true(st_proc_find(st, 1)->pidns_init_start_ts > 0);
	assert_true(p->pidns_init_start_ts == st_proc_find(st, 1)->start_ts);
	/* the environment, on demand */
	const struct st_str *env = st_proc_env(st, p);
	assert_non_null(env);
	assert_true(env->len > 0);
	/* a lookup of one process */
	struct st_proc *q = st_proc_load(st, 1);
	assert_non_null(q);
	assert_int_equal(q->pid, 1);
	close(fd);
	close(lsn);
	st_free(st);
}

/* ---- HOST_ROOT: validation, falco's pid in a procfs, the host's users (state_root.c, state_user.c) ---- */

static void mkdtemp_or_fail(char *tmpl)
{
	assert_non_null(mkdtemp(tmpl));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* test scratch from mkdtemp; symlinks are removed, never followed */
static void rm_rf(const char *dir)
{
	assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void test_host_root_resolve(void **state)
{
	char root[ST_ROOT_MAX], proc[ST_ROOT_MAX], err[512], path[600],
		tmp[] = "/tmp/st_hostroot.XXXXXX";

	/* relative, empty, NULL: refused, nothing written */
	static const char *const relative[] = {"", "host", "./host", "host/"};
	for (size_t i = 0; i < ARRAY_SIZE(relative); i++) {
		snprintf(root, sizeof(root), "untouched");
		err[0] = '\0';
		assert_int_equal(st_host_root_resolve(relative[i], root, proc, err, sizeof(err)),
				 -EINVAL);
		assert_non_null(strstr(err, "HOST_ROOT"));
		assert_non_null(strstr(err, "absolute"));
		assert_string_equal(root, "untouched");
	}
	assert_int_equal(st_host_root_resolve(NULL, root, proc, NULL, 0), -EINVAL);

	/* "/" is the host itself; trailing slashes go */
	assert_int_equal(st_host_root_resolve("/", root, proc, err, sizeof(err)), 0);
	assert_string_equal(root, "");
	assert_string_equal(proc, "/proc");
	assert_int_equal(st_host_root_resolve("///", root, proc, err, sizeof(err)), 0);
	assert_string_equal(proc, "/proc");

	/* too long: refused, never cut (250 + "/proc" fits 256 with its NUL, 251 does not) */
	char lng[400];
	memset(lng, 'a', sizeof(lng));
	lng[0] = '/';
	lng[251] = '\0';
	assert_int_equal(st_host_root_resolve(lng, root, proc, err, sizeof(err)), -ENAMETOOLONG);
	assert_non_null(strstr(err, "HOST_ROOT"));
	lng[250] = '\0';
	assert_int_equal(st_host_root_resolve(lng, root, proc, err, sizeof(err)), -ENOENT);
	lng[250] = 'a';
	lng[399] = '\0';
	assert_int_equal(st_host_root_resolve(lng, root, proc, err, sizeof(err)), -ENAMETOOLONG);

	mkdtemp_or_fail(tmp);
	/* no proc below it */
	err[0] = '\0';
	assert_int_equal(st_host_root_resolve(tmp, root, proc, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "HOST_ROOT"));
	/* a plain directory named proc */
	snprintf(path, sizeof(path), "%s/proc", tmp);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(root, sizeof(root), "untouched");
	assert_int_equal(st_host_root_resolve(tmp, root, proc, err, sizeof(err)), -EMEDIUMTYPE);
	assert_non_null(strstr(err, "HOST_ROOT"));
	assert_non_null(strstr(err, "not a proc filesystem"));
	assert_string_equal(root, "untouched");
	/* a procfs there (through a symlink to ours, so the test needs no mount) */
	assert_int_equal(rmdir(path), 0);
	assert_int_equal(symlink("/proc", path), 0);
	snprintf(path, sizeof(path), "%s//", tmp);
	assert_int_equal(st_host_root_resolve(path, root, proc, err, sizeof(err)), 0);
	assert_string_equal(root, tmp);
	snprintf(path, sizeof(path), "%s/proc", tmp);
	assert_string_equal(proc, path);
	assert_int_equal(st_proc_root_self(proc), getpid());
	rm_rf(tmp);
}

static void test_proc_root_self(void **state)
{
	char tmp[] = "/tmp/st_procself.XXXXXX", path[600];

	assert_int_equal(st_proc_root_self("/proc"), getpid());
	mkdtemp_or_fail(tmp);
	assert_int_equal(st_proc_root_self(tmp), -ENOENT);
	snprintf(path, sizeof(path), "%s/self", tmp);
	assert_int_equal(symlink("12ab", path), 0);
	assert_int_equal(st_proc_root_self(tmp), -EBADMSG);
	rm_rf(tmp);

	/*
	 * The point of it: as pid 1 of a new pid namespace whose /proc is still the parent's, getpid() is 1 but
	 * "/proc/self" is our number there (what the probe reports).
	 */
	int pfd[2];
	assert_int_equal(pipe(pfd), 0);
	pid_t helper = fork();
	assert_true(helper >= 0);
	if (helper == 0) {
		int out[2] = {0, 0};
		if (unshare(CLONE_NEWPID) < 0) {
			out[0] = -errno;
			_exit(write(pfd[1], out, sizeof(out)) == sizeof(out) ? 0 : 1);
		}
		pid_t c = fork();
		if (c == 0) {
			out[0] = getpid();
			out[1] = st_proc_root_self("/proc");
			_exit(write(pfd[1], out, sizeof(out)) == sizeof(out) ? 0 : 1);
		}
		int ws;
		_exit(c > 0 && waitpid(c, &ws, 0) == c && WIFEXITED(ws) ? WEXITSTATUS(ws) : 1);
	}
	int got[2], ws;
	close(pfd[1]);
	assert_int_equal(read(pfd[0], got, sizeof(got)), sizeof(got));
	close(pfd[0]);
	assert_int_equal(waitpid(helper, &ws, 0), helper);
	assert_true(WIFEXITED(ws) && WEXITSTATUS(ws) == 0);
	if (got[0] == -EPERM) {
		skip(); /* no CAP_SYS_ADMIN: no pid namespace */
		return;
	}
	assert_int_equal(got[0], 1);
	assert_true(got[1] > 1);
	assert_true(got[1] != getpid() && got[1] != helper);
}

/* With HOST_ROOT the host's names come from its files, never from our NSS. */
static void test_host_root_users(void **state)
{
	char tmp[] = "/tmp/st_hostusers.XXXXXX", path[600];
	FILE *f;

	mkdtemp_or_fail(tmp);
	snprintf(path, sizeof(path), "%s/etc", tmp);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/etc/passwd", tmp);
	assert_non_null(f = fopen(path, "w"));
	fputs("hostonly:x:4242:4243:gecos:/home/hostonly:/bin/hsh\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/etc/group", tmp);
	assert_non_null(f = fopen(path, "w"));
	fputs("hostgrp:x:4243:hostonly\n", f);
	fclose(f);

	struct st_options o = {.host_root = tmp};
	struct st_state *st = st_new(&o);
	assert_non_null(st);
	const struct st_user *u = st_user(st, NULL, 4242);
	assert_true(u->found);
	assert_string_equal(u->name->s, "hostonly");
	assert_string_equal(u->home->s, "/home/hostonly");
	assert_string_equal(u->shell->s, "/bin/hsh");
	assert_int_equal(u->gid, 4243);
	const struct st_user *g = st_group(st, NULL, 4243);
	assert_true(g->found);
	assert_string_equal(g->name->s, "hostgrp");
	/* root is in our NSS, not in this host's passwd: unknown */
	assert_false(st_user(st, NULL, 0)->found);
	st_free(st);

	/* a HOST_ROOT without etc (only /proc mounted there): NSS, as without HOST_ROOT */
	snprintf(path, sizeof(path), "%s/proc", tmp);
	struct st_options bare = {.host_root = path};
	st = st_new(&bare);
	assert_true(st_user(st, NULL, 0)->found);
	assert_string_equal(st_user(st, NULL, 0)->name->s, "root");
	assert_false(st_user(st, NULL, 4242)->found);
	st_free(st);

	/* the same without host_root: NSS (uid 4242 is nobody here) */
	struct st_options none = {0};
	st = st_new(&none);
	assert_false(st_user(st, NULL, 4242)->found);
	assert_true(st_user(st, NULL, 0)->found);
	st_free(st);
	rm_rf(tmp);
}

/*
 * Seeding through another proc_root with falco's pid as that procfs numbers it: only this process is ours. (With
 * a namespace-local getpid() of 1 and the host's /proc, init and everything below it would be.)
 */
static void test_seed_proc_root(void **state)
{
	char tmp[] = "/tmp/st_seedroot.XXXXXX", proc[600];

	mkdtemp_or_fail(tmp);
	snprintf(proc, sizeof(proc), "%s/proc", tmp);
	assert_int_equal(symlink("/proc", proc), 0);
	int self = st_proc_root_self(proc);
	assert_int_equal(self, getpid());
	struct st_options o = {.proc_root = proc, .self_pid = (uint32_t)self};
	struct st_state *st = st_new(&o);
	assert_true(st_seed_proc(st) > 1);
	struct st_proc *p = st_proc_find(st, (uint32_t)getpid());
	assert_non_null(p);
	assert_true(p->flags & ST_P_SELF);
	assert_non_null(p->exepath);
	struct st_proc *init = st_proc_find(st, 1);
	assert_non_null(init);
	assert_false(init->flags & ST_P_SELF);
	st_free(st);

	/* what getpid() == 1 would have done: init and its descendants (us included) taken for falco */
	struct st_options bad = {.proc_root = proc, .self_pid = 1};
	st = st_new(&bad);
	assert_true(st_seed_proc(st) > 1);
	assert_true(st_proc_find(st, 1)->flags & ST_P_SELF);
	assert_true(st_proc_find(st, (uint32_t)getpid())->flags & ST_P_SELF);
	st_free(st);
	rm_rf(tmp);
}

/* ---- lazy loads share one read of the socket tables; a newer socket rereads them ---- */

static struct st_fd *listening_fd_of_self(struct st_state *st, int fd, uint16_t *ret_port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);

	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	*ret_port = ntohs(sa.sin_port);
	struct st_proc *p = st_proc_load(st, (uint32_t)getpid());
	assert_non_null(p);
	return st_fd_find(st, p, fd);
}

static void test_sock_cache(void **state)
{
	/* reads rationed to once per (1 x the last read's duration, 50 ms at least): the kernel walks the whole
	 * host's TCP hash for a read, which takes long on a host full of TIME_WAIT sockets */
	struct st_options o = {.self_pid = (uint32_t)getpid(), .limits.sock_read_budget = 1};
	struct st_state *st = st_new(&o);
	struct st_stats s;
	uint16_t port;
	/* b is made later: an unbound socket is in no table, its lookup would reread them */
	int a = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), b;

	assert_true(a >= 0);
	struct st_fd *f = listening_fd_of_self(st, a, &port);
	assert_non_null(f);
	assert_int_equal(f->type, FDT_IPV4);
	assert_int_equal(f->lport, port);
	st_get_stats(st, &s);
	assert_int_equal(s.sock_table_reads, 1);
	/* a second load right away: the cached tables serve it */
	st_proc_remove(st, st_proc_find(st, (uint32_t)getpid()));
	struct st_proc *p = st_proc_load(st, (uint32_t)getpid());
	assert_non_null(p);
	f = st_fd_find(st, p, a);
	assert_int_equal(f->lport, port);
	st_get_stats(st, &s);
	assert_int_equal(s.sock_table_reads, 1);
	/* a socket newer than the cached read: the tables are read again, once, as soon as the rationing allows
	 * (the machine's TCP hash decides how long a read takes: poll for it) */
	st_proc_remove(st, p);
	b = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(b >= 0);
	f = listening_fd_of_self(st, b, &port);
	for (int i = 0; i < 300 && f && f->type != FDT_IPV4; i++) {
		usleep(100 * 1000);
		st_proc_remove(st, st_proc_find(st, (uint32_t)getpid()));
		p = st_proc_load(st, (uint32_t)getpid());
		assert_non_null(p);
		f = st_fd_find(st, p, b);
	}
	assert_non_null(f);
	assert_int_equal(f->type, FDT_IPV4);
	assert_int_equal(f->lport, port);
	st_get_stats(st, &s);
	assert_int_equal(s.sock_table_reads, 2);
	/* stale caches are freed by the tick, and a later load reads again */
	usleep(1100 * 1000);
	st_sock_cache_expire(st, false);
	uint64_t before = s.sock_table_reads;
	for (int i = 0; i < 300 && s.sock_table_reads == before; i++) {
		st_proc_remove(st, st_proc_find(st, (uint32_t)getpid()));
		assert_non_null(st_proc_load(st, (uint32_t)getpid()));
		st_get_stats(st, &s);
		if (s.sock_table_reads == before)
			usleep(100 * 1000);
	}
	assert_int_equal(s.sock_table_reads, 3);
	close(a);
	close(b);
	st_free(st);
}

/* ---- drops ---- */

static void test_drops(void **state)
{
	struct sc_drop_policy pol = {.threshold = 0.1,
				     .actions = SC_DROP_LOG | SC_DROP_ALERT,
				     .rate = 1.0 / 30,
				     .max_burst = 1};
	struct sc_drops d;
	struct sc_drop_counters c = {0};
	struct sc_drop_verdict v;
	uint64_t t = TS0;

	sc_drops_init(&d, &pol);
	c.n_evts = 1000;
	assert_int_equal(sc_drops_check(&d, &c, t, &v), 0);
	/* drops under the threshold: counted, no action */
	c.n_evts += 1000;
	c.n_drops_buffer += 50;
	assert_int_equal(sc_drops_check(&d, &c, t += 1000000000ull, &v), 1);
	assert_int_equal(v.n_drops, 50);
	assert_int_equal(v.actions, 0);
	/* over it: acted on once, then rate limited (1 token, refills every 30 s) */
	c.n_evts += 1000;
	c.n_drops_buffer += 500;
	c.n_drops_buffer_cat[EVT_CAT_OPEN] += 500;
	assert_int_equal(sc_drops_check(&d, &c, t += 1000000000ull, &v), 1);
	assert_int_equal(v.actions, SC_DROP_LOG | SC_DROP_ALERT);
	assert_int_equal(v.delta.n_drops_buffer_cat[EVT_CAT_OPEN], 500);
	c.n_drops_max_size += 300;
	c.n_evts += 1000;
	assert_int_equal(sc_drops_check(&d, &c, t += 1000000000ull, &v), 1);
	assert_int_equal(v.actions, 0);
	assert_int_equal(d.actions_suppressed, 1);
	/* after the refill time the next one acts again */
	c.n_drops_buffer += 900;
	c.n_evts += 1000;
	assert_int_equal(sc_drops_check(&d, &c, t += 31000000000ull, &v), 1);
	assert_int_equal(v.actions, SC_DROP_LOG | SC_DROP_ALERT);
	assert_int_equal(d.total_drops, 50 + 500 + 300 + 900);
	/* ignore means no action, but the drop is still reported to the caller */
	struct sc_drop_policy ign = {
		.threshold = 0, .actions = SC_DROP_IGNORE, .rate = 1, .max_burst = 1};
	sc_drops_init(&d, &ign);
	c.n_drops_buffer += 1;
	assert_int_equal(sc_drops_check(&d, &c, t, &v), 1);
	assert_int_equal(v.actions, 0);
	/* simulate_drops acts with no drop at all */
	struct sc_drop_policy sim = {.threshold = 0.1,
				     .actions = SC_DROP_EXIT,
				     .rate = 1,
				     .max_burst = 1,
				     .simulate = true};
	sc_drops_init(&d, &sim);
	assert_int_equal(sc_drops_check(&d, &c, t, &v), 1);
	assert_int_equal(v.actions, SC_DROP_EXIT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_cgroup_shapes),
		cmocka_unit_test(test_fork_exec_exit),
		cmocka_unit_test(test_fds),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_users),
		cmocka_unit_test(test_seed_self),
		cmocka_unit_test(test_host_root_resolve),
		cmocka_unit_test(test_proc_root_self),
		cmocka_unit_test(test_host_root_users),
		cmocka_unit_test(test_seed_proc_root),
		cmocka_unit_test(test_seed_pidns_init),
		cmocka_unit_test(test_drops),
		cmocka_unit_test(test_sock_cache),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
