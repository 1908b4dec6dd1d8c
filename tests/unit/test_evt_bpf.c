/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The real probe on the running kernel: loads it, performs syscalls in child processes (the test process itself
 * is excluded in-kernel, which is tested too) and asserts the decoded events and their arguments, the
 * interesting-syscalls filter, generic events, drop counters and falcoctl's load check. Skipped only when the
 * kernel cannot run the probe (no BTF, ring buffers or tracing programs, or no privilege), detected at run time.
 */
#include <arpa/inet.h>
#include <sched.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/libbpf.h>
#include <cmocka.h>
#include <event2/event.h>

#include "common/strbuf.h"
#include "falco/source/evt_bpf.h"
#include "falco/source/evt_decode.h"
#include "falco/source/evt_pump.h"
#include "falco/source/syscall_table.h"

static struct evt_bpf *bpf;
static bool probe_reads; /* second pass: the probe-read variants of the fd handlers */
static char skip_reason[2048];
static char tmp_path[64];

/* ---- collected events of the processes under test (copied out of the ring) ---- */

#define MAX_RECS 8192
struct rec {
	uint8_t *buf;
	struct evt_rec r;
};
static struct rec recs[MAX_RECS];
static size_t nrecs;
static pid_t watch[8];
static size_t nwatch;
static size_t self_events;

static int keep(void *ud, const void *rec, size_t len)
{
	struct evt_hdr h;
	(void)ud;
	if (len < sizeof(h))
		return 0;
	memcpy(&h, rec, sizeof(h));
	if (h.pid == (uint32_t)getpid())
		self_events++;
	for (size_t i = 0; i < nwatch; i++) {
		if (h.pid != (uint32_t)watch[i] || nrecs >= MAX_RECS)
			continue;
		struct rec *r = &recs[nrecs];
		r->buf = malloc(len);
		assert_non_null(r->buf);
		memcpy(r->buf, rec, len);
		assert_int_equal(evt_decode(r->buf, len, &r->r), 0);
		nrecs++;
		break;
	}
	return 0;
}

static void drain_all(void)
{
	while (evt_bpf_drain(bpf, 100000, keep, NULL) > 0)
		;
}

static void reset(void)
{
	drain_all();
	for (size_t i = 0; i < nrecs; i++)
		free(recs[i].buf);
	nrecs = 0;
	nwatch = 0;
	self_events = 0;
}

/* Runs fn in a child and waits for it (fn exits 0 on success); the child's events are kept. */
static pid_t run_child_status(void (*fn)(void *), void *arg, int want_status)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		fn(arg);
		_exit(0);
	}
	close(p[1]);
	close(p[0]);
	watch[nwatch++] = pid;
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), want_status);
	drain_all();
	return pid;
}

static pid_t run_child(void (*fn)(void *), void *arg)
{
	return run_child_status(fn, arg, 0);
}

static const struct evt_rec *find(uint16_t type, const char *pname, const char *pvalue)
{
	for (size_t i = 0; i < nrecs; i++) {
		const struct evt_rec *r = &recs[i].r;
		if (r->type != type)
			continue;
		if (!pname)
			return r;
		int idx = evt_find(r, pname);
		if (idx < 0)
			continue;
		struct strbuf sb;
		strbuf_init(&sb, 0);
		evt_render_param(r, (unsigned)idx, &sb);
		bool ok = streq(strbuf_str(&sb) ? strbuf_str(&sb) : "", pvalue);
		strbuf_done(&sb);
		if (ok)
			return r;
	}
	return NULL;
}

static size_t count_type(uint16_t type)
{
	size_t n = 0;
	for (size_t i = 0; i < nrecs; i++)
		n += recs[i].r.type == type;
	return n;
}

static char *arg(const struct evt_rec *r, const char *name)
{
	static char out[4][1024];
	static int k;
	struct strbuf sb;
	int idx = evt_find(r, name);
	assert_true(idx >= 0);
	strbuf_init(&sb, 0);
	int n = evt_render_param(r, (unsigned)idx, &sb);
	char *o = out[k++ % 4];
	snprintf(o, sizeof(out[0]), "%s", n > 0 ? strbuf_str(&sb) : "<NA>");
	strbuf_done(&sb);
	return o;
}

static int64_t sarg(const struct evt_rec *r, const char *name)
{
	int64_t v = 0;
	int idx = evt_find(r, name);
	assert_true(idx >= 0);
	assert_int_equal(evt_get_s64(r, (unsigned)idx, &v), 1);
	return v;
}

static uint64_t uarg(const struct evt_rec *r, const char *name)
{
	uint64_t v = 0;
	int idx = evt_find(r, name);
	assert_true(idx >= 0);
	assert_int_equal(evt_get_u64(r, (unsigned)idx, &v), 1);
	return v;
}

static void set_types(const char *const *names, bool with_base)
{
	uint64_t bits[EVT_TYPE_WORDS] = {0};
	if (with_base)
		evt_type_base_set(bits, EVT_TYPE_WORDS);
	for (size_t i = 0; names && names[i]; i++) {
		uint16_t codes[8];
		int n = evt_type_codes(names[i], codes, 8);
		assert_true(n >= 0);
		for (int k = 0; k < n; k++)
			evt_bit_set(bits, EVT_TYPE_WORDS, codes[k]);
	}
	assert_true(evt_bpf_set_interesting(bpf, bits, EVT_TYPE_WORDS) > 0);
}

static const char *const rule_types[] = {
	"open",	  "openat",  "openat2", "creat",    "connect", "execve", "execveat",	 "dup",
	"dup2",	  "dup3",    "unlink",	"unlinkat", "setuid",  "ptrace", "memfd_create", "socket",
	"accept", "accept4", "symlink", "listen",   "kill",    NULL};

/* ---- fixtures ---- */

static int group_setup(void **state)
{
	char err[2048];
	int r = evt_bpf_supported(err, sizeof(err));
	if (r == -ENOTSUP || r == -EPERM) {
		snprintf(skip_reason, sizeof(skip_reason), "%s", err);
		return 0;
	}
	struct evt_bpf_opts o;
	evt_bpf_opts_init(&o);
	o.ring_bytes = 16u << 20;
	o.wakeup_bytes = 0;
	o.enter_events = true; /* opt-in: tested here */
	o.probe_reads = probe_reads;
	r = evt_bpf_open(&o, &bpf, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "evt_bpf_open: %s\n", err);
		return -1;
	}
	snprintf(tmp_path, sizeof(tmp_path), "/tmp/falco-evt-test-%d", getpid());
	set_types(rule_types, true);
	return 0;
}

static int group_teardown(void **state)
{
	reset();
	bpf = evt_bpf_close(bpf);
	(void)unlink(tmp_path);
	return 0;
}

static int test_setup(void **state)
{
	if (!bpf)
		skip();
	reset();
	return 0;
}

/* ---- children ---- */

static void do_open(void *a)
{
	int fd = open(tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		_exit(1);
	close(fd);
	fd = openat(AT_FDCWD, tmp_path, O_RDONLY);
	if (fd < 0)
		_exit(2);
	if (dup2(fd, 100) != 100)
		_exit(3);
	close(100);
	close(fd);
}

static void do_connect(void *a)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	if (bind(ls, (struct sockaddr *)&sa, sizeof(sa)) || listen(ls, 8) ||
	    getsockname(ls, (struct sockaddr *)&sa, &len))
		_exit(1);
	*(int *)a = ntohs(sa.sin_port); /* the parent only reads it after the fork via the event */
	int c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&sa, sizeof(sa)))
		_exit(2);
	int s = accept(ls, NULL, NULL);
	if (s < 0)
		_exit(3);
	close(s);
	close(c);
	close(ls);
	/* a refused connection: no tuple, the address comes from the caller's memory */
	struct sockaddr_in closed = {.sin_family = AF_INET,
				     .sin_port = htons(1),
				     .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	c = socket(AF_INET, SOCK_STREAM, 0);
	if (connect(c, (struct sockaddr *)&closed, sizeof(closed)) == 0)
		_exit(4);
	close(c);
}

static void do_exec(void *a)
{
	execl("/bin/true", "true", "--falco-test-arg", "two words", (char *)NULL);
	_exit(127);
}

static void do_memfd_exec(void *a)
{
	int fd = (int)syscall(SYS_memfd_create, "falco-fileless", 0);
	int in = open("/bin/true", O_RDONLY);
	char buf[65536];
	ssize_t n;
	if (fd < 0 || in < 0)
		_exit(1);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			_exit(2);
	close(in);
	char name[] = "fileless";
	char *const argv[] = {name, NULL};
	char *const envp[] = {NULL};
	fexecve(fd, argv, envp);
	_exit(3);
}

static void do_misc(void *a)
{
	if (unlink(tmp_path))
		_exit(1);
	if (setuid(getuid()))
		_exit(2);
	int fd = (int)syscall(SYS_memfd_create, "falco-test-memfd", MFD_CLOEXEC);
	if (fd < 0)
		_exit(3);
	close(fd);
	struct stat st;
	(void)stat("/", &st);
	_exit(7);
}

static void do_ptrace(void *a)
{
	pid_t gc = fork();
	if (gc == 0) {
		for (;;)
			pause();
	}
	if (ptrace(PTRACE_ATTACH, gc, NULL, NULL))
		_exit(1);
	int st;
	waitpid(gc, &st, 0);
	ptrace(PTRACE_DETACH, gc, NULL, NULL);
	kill(gc, SIGKILL);
	waitpid(gc, &st, 0);
}

static void do_stat(void *a)
{
	struct stat st;
	(void)stat("/", &st);
	(void)getppid();
}

static void do_storm(void *a)
{
	for (int i = 0; i < 20000; i++) {
		int fd = dup(1);
		close(fd);
	}
}

/* ---- tests ---- */

static void test_open_dup_close(void **state)
{
	pid_t pid = run_child(do_open, NULL);
	struct stat st;
	assert_int_equal(stat(tmp_path, &st), 0);

	/* the creating open (glibc's open() is openat) */
	const struct evt_rec *r = find(EVT_OPENAT_X, "name", tmp_path);
	assert_non_null(r);
	assert_int_equal(r->pid, pid);
	assert_int_equal(r->tid, pid);
	assert_true(sarg(r, "fd") >= 0);
	assert_int_equal(sarg(r, "dirfd"), EVT_AT_FDCWD);
	uint64_t flags = uarg(r, "flags");
	assert_true(flags & EVT_O_CREAT);
	assert_true(flags & EVT_O_TRUNC);
	assert_true(flags & EVT_O_F_CREATED);
	assert_string_equal(arg(r, "flags"), "O_TRUNC|O_CREAT|O_WRONLY|O_CLOEXEC|O_F_CREATED");
	assert_int_equal(uarg(r, "mode"), 0640);
	assert_int_equal(uarg(r, "ino"), st.st_ino);
	assert_true(uarg(r, "dev") != 0);
	int64_t fd1 = sarg(r, "fd");

	/* the entry event carries the same path (read before the kernel acted) */
	const struct evt_rec *e = find(EVT_OPENAT_E, "name", tmp_path);
	assert_non_null(e);
	assert_true(e->ts <= r->ts);

	/* the read-only reopen */
	bool found = false;
	for (size_t i = 0; i < nrecs; i++) {
		const struct evt_rec *x = &recs[i].r;
		if (x->type == EVT_OPENAT_X && streq(arg(x, "name"), tmp_path) &&
		    streq(arg(x, "flags"), "O_RDONLY")) {
			found = true;
			assert_false(uarg(x, "flags") & EVT_O_F_CREATED);
		}
	}
	assert_true(found);

	r = find(EVT_DUP2_X, "newfd", "100");
	assert_non_null(r);
	assert_int_equal(sarg(r, "res"), 100);
	r = find(EVT_CLOSE_X, "fd", "100");
	assert_non_null(r);
	assert_int_equal(sarg(r, "res"), 0);
	char fds[16];
	snprintf(fds, sizeof(fds), "%lld", (long long)fd1);
	assert_non_null(find(EVT_CLOSE_X, "fd", fds));

	/* process exit of the child, and per-thread order (timestamps never go back) */
	assert_non_null(find(EVT_PROCEXIT, NULL, NULL));
	for (size_t i = 1; i < nrecs; i++)
		assert_true(recs[i].r.ts >= recs[i - 1].r.ts);
}

static void test_connect_accept(void **state)
{
	int port = 0;
	run_child(do_connect, &port);
	const struct evt_rec *c = find(EVT_CONNECT_X, NULL, NULL);
	assert_non_null(c);
	assert_int_equal(sarg(c, "res"), 0);
	struct evt_socktuple t;
	assert_int_equal(evt_get_socktuple(c, (unsigned)evt_find(c, "tuple"), &t), 1);
	assert_int_equal(t.family, EVT_AF_INET);
	char want[64];
	snprintf(want, sizeof(want), "127.0.0.1:%u", t.dport);
	assert_string_equal(arg(c, "addr"), want);
	snprintf(want, sizeof(want), "127.0.0.1:%u->127.0.0.1:%u", t.sport, t.dport);
	assert_string_equal(arg(c, "tuple"), want);
	assert_true(t.sport != 0 && t.dport != 0);

	const struct evt_rec *refused = find(EVT_CONNECT_X, "addr", "127.0.0.1:1");
	assert_non_null(refused);
	assert_int_equal(sarg(refused, "res"), -ECONNREFUSED);
	assert_string_equal(arg(refused, "tuple"), "<NA>");

	const struct evt_rec *ce = find(EVT_CONNECT_E, NULL, NULL);
	assert_non_null(ce);
	snprintf(want, sizeof(want), "127.0.0.1:%u", t.dport);
	assert_string_equal(arg(ce, "addr"), want);

	/* accept: the tuple is client -> server */
	const struct evt_rec *a = find(EVT_ACCEPT_X, NULL, NULL);
	if (!a)
		a = find(EVT_ACCEPT4_X, NULL, NULL); /* glibc may use accept4 */
	assert_non_null(a);
	assert_true(sarg(a, "fd") >= 0);
	snprintf(want, sizeof(want), "127.0.0.1:%u->127.0.0.1:%u", t.sport, t.dport);
	assert_string_equal(arg(a, "tuple"), want);
	assert_int_equal(uarg(a, "queuemax"), 8);

	const struct evt_rec *s = find(EVT_SOCKET_X, NULL, NULL);
	assert_non_null(s);
	assert_string_equal(arg(s, "domain"), "AF_INET");
	assert_non_null(find(EVT_BIND_X, "addr", "127.0.0.1:0"));
	assert_non_null(find(EVT_LISTEN_X, "backlog", "8"));
}

static void test_execve(void **state)
{
	char cwd[4096];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	pid_t pid = run_child(do_exec, NULL);
	const struct evt_rec *r = find(EVT_EXECVE_X, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(sarg(r, "res"), 0);
	assert_string_equal(arg(r, "exe"), "true");
	assert_string_equal(arg(r, "args"), "--falco-test-arg.two words.");
	assert_string_equal(arg(r, "filename"), "/bin/true");
	char real[4096];
	assert_non_null(realpath("/bin/true", real));
	assert_string_equal(arg(r, "trusted_exepath"), real);
	assert_string_equal(arg(r, "cwd"), cwd);
	assert_string_equal(arg(r, "comm"), "true");
	assert_int_equal(sarg(r, "pid"), pid);
	assert_int_equal(sarg(r, "tid"), pid);
	assert_int_equal(sarg(r, "ptid"), getpid());
	assert_int_equal(uarg(r, "uid"), geteuid());
	assert_int_equal(uarg(r, "gid"), getegid());
	struct stat st;
	assert_int_equal(stat("/bin/true", &st), 0);
	assert_int_equal(uarg(r, "exe_ino"), st.st_ino);
	assert_int_equal(uarg(r, "exe_ino_mtime"),
			 (uint64_t)st.st_mtim.tv_sec * 1000000000ull + st.st_mtim.tv_nsec);
	assert_int_equal(uarg(r, "exe_ino_ctime"),
			 (uint64_t)st.st_ctim.tv_sec * 1000000000ull + st.st_ctim.tv_nsec);
	assert_true(strstr(arg(r, "cgroups"), "unified=/") != NULL);
	assert_string_equal(arg(r, "env"), "<NA>"); /* not captured by default */
	assert_true(uarg(r, "cap_effective") != 0); /* root */
	assert_int_equal(sarg(r, "vpid"), pid);	    /* same pid namespace */
	assert_true(uarg(r, "start_ts") <= r->ts);
	assert_true(uarg(r, "start_ts") > r->ts - 10ull * 1000000000ull);
	/* the header time is the wall clock */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t now_ns = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	assert_true(r->ts <= now_ns && r->ts > now_ns - 10ull * 1000000000ull);
	/* the clone of the child is seen from the child side too: no, the child was forked by us (excluded) */
	assert_non_null(find(EVT_PROCEXIT, NULL, NULL));
}

static void test_memfd_execve(void **state)
{
	run_child(do_memfd_exec, NULL);
	const struct evt_rec *r = find(EVT_EXECVE_X, "exe", "fileless");
	assert_non_null(r);
	assert_true(uarg(r, "flags") & EVT_EXE_FROM_MEMFD);
	assert_non_null(strstr(arg(r, "flags"), "EXE_FROM_MEMFD"));
	assert_non_null(strstr(arg(r, "trusted_exepath"), "memfd:falco-fileless"));
}

static void test_failed_execve(void **state)
{
	static const char *const missing = "/nonexistent/falco-test-binary";
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		execl(missing, "x", (char *)NULL);
		_exit(0);
	}
	watch[nwatch++] = pid;
	waitpid(pid, NULL, 0);
	drain_all();
	const struct evt_rec *r = find(EVT_EXECVE_X, "filename", missing);
	assert_non_null(r);
	assert_int_equal(sarg(r, "res"), -ENOENT);
	assert_string_equal(arg(r, "exe"), "<NA>");
}

static void test_misc_syscalls(void **state)
{
	int fd = open(tmp_path, O_WRONLY | O_CREAT, 0600); /* ours: excluded */
	assert_true(fd >= 0);
	close(fd);
	pid_t pid = run_child_status(do_misc, NULL, 7);
	assert_int_equal(self_events, 0); /* self-exclusion */

	const struct evt_rec *r = find(EVT_UNLINK_X, "path", tmp_path);
	if (!r) {
		r = find(EVT_UNLINKAT_X, "name", tmp_path);
		assert_non_null(r);
	}
	assert_int_equal(sarg(r, "res"), 0);
	r = find(EVT_SETUID_X, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(sarg(r, "res"), 0);
	assert_int_equal(uarg(r, "uid"), getuid());
	r = find(EVT_MEMFD_CREATE_X, "name", "falco-test-memfd");
	assert_non_null(r);
	assert_string_equal(arg(r, "flags"), "MFD_CLOEXEC");
	assert_true(sarg(r, "fd") >= 0);
	/* stat is not interesting: nothing (not even a generic event) */
	assert_int_equal(count_type(EVT_GENERIC_BASE + 4), 0);
	assert_int_equal(count_type(EVT_GENERIC_BASE + 262), 0);
	r = find(EVT_PROCEXIT, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(sarg(r, "ret"), 7);
	assert_int_equal(r->pid, pid);
}

static void test_ptrace(void **state)
{
	run_child(do_ptrace, NULL);
	const struct evt_rec *r = find(EVT_PTRACE_X, "request", "PTRACE_ATTACH");
	assert_non_null(r);
	assert_int_equal(sarg(r, "res"), 0);
	assert_true(sarg(r, "pid") > 0);
	assert_non_null(find(EVT_PTRACE_X, "request", "PTRACE_DETACH"));
	/* the fork of the grandchild, from the parent's side (res = its pid); our fork of the child shows from the
	 * child's side only (res = 0), the parent side being us */
	size_t parent_side = 0, child_side = 0;
	for (size_t i = 0; i < nrecs; i++) {
		const struct evt_rec *x = &recs[i].r;
		if (x->type != EVT_CLONE_X && x->type != EVT_CLONE3_X)
			continue;
		if (sarg(x, "res") > 0) {
			parent_side++;
			assert_int_equal(sarg(x, "pid"), x->pid);
		} else {
			child_side++;
			assert_int_equal(sarg(x, "ptid"), getpid());
		}
		assert_true(uarg(x, "flags") & EVT_CLONE_CHILD_SETTID);
	}
	assert_int_equal(parent_side, 1);
	assert_int_equal(child_side, 1);
	assert_non_null(find(EVT_KILL_X, "sig", "SIGKILL"));
}

static void test_interesting_filter_and_generic(void **state)
{
	/* not interesting: nothing */
	run_child(do_stat, NULL);
	assert_int_equal(count_type(EVT_GENERIC_BASE + 110), 0); /* getppid */
	reset();

	/* make stat (x86_64 newfstatat/stat) and getppid interesting: generic events */
	static const char *const more[] = {"stat", "newfstatat", "getppid", NULL};
	set_types(more, true);
	run_child(do_stat, NULL);
	set_types(rule_types, true);
	const struct evt_rec *r = find(EVT_GENERIC_BASE + 110, NULL, NULL);
	assert_non_null(r);
	assert_string_equal(arg(r, "id"), "getppid");
	assert_string_equal(evt_type_name(r->type), "getppid");
	assert_true(count_type(EVT_GENERIC_BASE + 4) + count_type(EVT_GENERIC_BASE + 262) >= 1);

	/* nothing interesting at all: only process exits remain */
	reset();
	uint64_t none[EVT_TYPE_WORDS] = {0};
	assert_int_equal(evt_bpf_set_interesting(bpf, none, EVT_TYPE_WORDS), 0);
	run_child(do_open, NULL);
	set_types(rule_types, true);
	for (size_t i = 0; i < nrecs; i++)
		assert_int_equal(recs[i].r.type, EVT_PROCEXIT);
}

static void test_counters(void **state)
{
	struct evt_counters tot, pc[256];
	size_t ncpu = 0;
	assert_int_equal(evt_bpf_counters(bpf, &tot, pc, 256, &ncpu), 0);
	assert_true(ncpu >= 1);
	assert_true(tot.n_evts > 0);
	assert_true(tot.n_evts_cat[EVT_CAT_OPEN] > 0);
	assert_true(tot.n_evts_cat[EVT_CAT_EXEC] > 0);
	assert_true(tot.n_evts_cat[EVT_CAT_PROCEXIT] > 0);
	uint64_t sum = 0;
	for (size_t c = 0; c < ncpu && c < 256; c++)
		sum += pc[c].n_evts;
	assert_true(sum >= tot.n_evts); /* the sum was taken first; counters only grow */
}

static void test_drops_counted(void **state)
{
	/* a second probe with the smallest ring and no reader: a dup/close storm must overflow it */
	struct evt_bpf_opts o;
	struct evt_bpf *small = NULL;
	char err[2048];
	evt_bpf_opts_init(&o);
	o.ring_bytes = 2 * (uint64_t)sysconf(_SC_PAGESIZE);
	o.wakeup_bytes = 0;
	o.enter_events = false;
	assert_int_equal(evt_bpf_open(&o, &small, err, sizeof(err)), 0);
	uint64_t bits[EVT_TYPE_WORDS] = {0};
	evt_bit_set(bits, EVT_TYPE_WORDS, EVT_DUP_X);
	evt_bit_set(bits, EVT_TYPE_WORDS, EVT_CLOSE_X);
	assert_int_equal(evt_bpf_set_interesting(small, bits, EVT_TYPE_WORDS), 2);
	run_child(do_storm, NULL);
	struct evt_counters c;
	assert_int_equal(evt_bpf_counters(small, &c, NULL, 0, NULL), 0);
	assert_true(c.n_evts >= 40000);
	assert_true(c.n_drops_buffer > 0);
	assert_true(c.n_drops_buffer_cat[EVT_CAT_CLOSE] > 0);
	assert_true(c.n_drops_buffer_cat[EVT_CAT_OTHER] > 0); /* dup */
	assert_true(evt_bpf_pending(small) > 0);
	small = evt_bpf_close(small);
}

/* An ia32 syscall from a 64-bit process (int 0x80): its number means another syscall in the x86_64 table. */
static void do_int80(void *a)
{
#if defined(__x86_64__)
	long ret;
	/* ia32 20 = getpid; x86_64 20 = writev */
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	if (ret != getpid())
		_exit(1);
#endif
}

static void test_ia32_skipped(void **state)
{
#if !defined(__x86_64__)
	skip();
#endif
	static const char *const more[] = {"writev", NULL};
	struct evt_counters before, after;
	set_types(more, true);
	assert_int_equal(evt_bpf_counters(bpf, &before, NULL, 0, NULL), 0);
	run_child(do_int80, NULL);
	assert_int_equal(evt_bpf_counters(bpf, &after, NULL, 0, NULL), 0);
	set_types(rule_types, true);
	assert_true(after.n_compat_skip > before.n_compat_skip);
	assert_int_equal(count_type(EVT_GENERIC_BASE + 20), 0); /* not misread as writev */
}

/* Payload capture (off by default): sendto/recvfrom data, cut at the snaplen. */
static void do_udp(void *a)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	char buf[64];
	if (bind(s, (struct sockaddr *)&sa, sizeof(sa)) ||
	    getsockname(s, (struct sockaddr *)&sa, &len))
		_exit(1);
	if (sendto(s, "hello falco payload", 19, 0, (struct sockaddr *)&sa, sizeof(sa)) != 19)
		_exit(2);
	if (recvfrom(s, buf, sizeof(buf), 0, NULL, NULL) != 19)
		_exit(3);
	close(s);
}

static void test_payload(void **state)
{
	static const char *const net[] = {"sendto", "recvfrom", NULL};
	/* default probe: metadata only */
	set_types(net, true);
	run_child(do_udp, NULL);
	const struct evt_rec *r = find(EVT_SENDTO_X, NULL, NULL);
	assert_non_null(r);
	assert_int_equal(sarg(r, "res"), 19);
	assert_string_equal(arg(r, "data"), "<NA>");
	assert_int_equal(uarg(r, "size"), 19);
	reset();

	/* a second probe with payload capture and a 5-byte snaplen */
	struct evt_bpf_opts o;
	struct evt_bpf *pl = NULL, *saved = bpf;
	char err[2048];
	evt_bpf_opts_init(&o);
	o.flags = EVT_CFG_CAPTURE_PAYLOAD;
	o.snaplen = 5;
	o.ring_bytes = 4u << 20;
	assert_int_equal(evt_bpf_open(&o, &pl, err, sizeof(err)), 0);
	bpf = pl;
	set_types(net, true);
	run_child(do_udp, NULL);
	r = find(EVT_SENDTO_X, NULL, NULL);
	assert_non_null(r);
	assert_string_equal(arg(r, "data"), "hello");
	r = find(EVT_RECVFROM_X, NULL, NULL);
	assert_non_null(r);
	assert_string_equal(arg(r, "data"), "hello");
	assert_int_equal(sarg(r, "res"), 19);
	reset();
	bpf = saved;
	set_types(rule_types, true);
	pl = evt_bpf_close(pl);
}

/* One ring per CPU: the drain merges the rings by timestamp (each thread's events stay in order). */
static int collect_ts(void *ud, const void *rec, size_t len)
{
	uint64_t **pp = ud;
	struct evt_hdr h;
	assert_true(len >= sizeof(h));
	memcpy(&h, rec, sizeof(h));
	*(*pp)++ = h.ts;
	return 0;
}

static void do_spread(void *a)
{
	/* hop between CPUs while producing events */
	cpu_set_t set;
	for (int i = 0; i < 400; i++) {
		CPU_ZERO(&set);
		CPU_SET(i % 2, &set);
		(void)sched_setaffinity(0, sizeof(set), &set);
		int fd = dup(1);
		close(fd);
	}
}

static void test_rings_merged_in_order(void **state)
{
	struct evt_bpf_opts o;
	struct evt_bpf *multi = NULL;
	char err[2048];
	evt_bpf_opts_init(&o);
	o.cpus_per_ring = 1;
	o.ring_bytes = 4u << 20;
	assert_int_equal(evt_bpf_open(&o, &multi, err, sizeof(err)), 0);
	assert_int_equal(evt_bpf_nrings(multi), (size_t)libbpf_num_possible_cpus());
	uint64_t bits[EVT_TYPE_WORDS] = {0};
	evt_bit_set(bits, EVT_TYPE_WORDS, EVT_DUP_X);
	evt_bit_set(bits, EVT_TYPE_WORDS, EVT_CLOSE_X);
	assert_int_equal(evt_bpf_set_interesting(multi, bits, EVT_TYPE_WORDS), 2);
	run_child(do_spread, NULL);
	static uint64_t ts[1u << 20];
	uint64_t *p = ts;
	int n;
	/* small batches: heads peeked by one call stay ordered with the next call's */
	while ((n = evt_bpf_drain(multi, 7, collect_ts, &p)) > 0)
		assert_true(p - ts < (long)(sizeof(ts) / sizeof(ts[0])) - 8);
	assert_true(p - ts >= 800);
	for (uint64_t *q = ts + 1; q < p; q++)
		assert_true(q[0] >= q[-1]);
	multi = evt_bpf_close(multi);
}

/* The libevent pump: records arrive in bounded batches on the loop, with the timer doing the polling. */
static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

static void test_pump(void **state)
{
	struct event_base *base = event_base_new();
	struct evt_pump *pump = NULL;
	struct evt_pump_opts po = {.batch = 16};
	assert_non_null(base);
	run_child(do_open, NULL); /* its events are drained by run_child: make new ones below */
	reset();
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		do_open(NULL);
		_exit(0);
	}
	watch[nwatch++] = pid;
	waitpid(pid, NULL, 0);
	assert_int_equal(evt_pump_start(base, bpf, &po, keep, NULL, &pump), 0);
	struct event *stop = evtimer_new(base, stop_loop, base);
	struct timeval tv = {0, 300000};
	evtimer_add(stop, &tv);
	event_base_dispatch(base);
	struct evt_pump_stats st;
	evt_pump_get_stats(pump, &st);
	assert_true(st.records >= 5);
	assert_true(st.turns >= 2);
	assert_int_equal(st.last_error, 0);
	assert_non_null(find(EVT_OPENAT_X, "name", tmp_path));
	assert_non_null(find(EVT_PROCEXIT, NULL, NULL));
	pump = evt_pump_stop(pump);
	event_free(stop);
	event_base_free(base);
}

/* ---- self-exclusion from another pid namespace ---- */

/* What the loader in the new namespace saw: its own events, and the opens of the two paths. */
static struct {
	uint32_t self;
	size_t self_events, own_opens, other_opens;
	const char *own_path, *other_path;
} ns;

static int keep_ns(void *ud, const void *rec, size_t len)
{
	struct evt_rec r;
	(void)ud;
	if (evt_decode(rec, len, &r) < 0)
		return 0;
	if (r.pid == ns.self)
		ns.self_events++;
	if (r.type != EVT_OPENAT_X)
		return 0;
	int idx = evt_find(&r, "name");
	struct strbuf sb;
	strbuf_init(&sb, 0);
	if (idx >= 0 && evt_render_param(&r, (unsigned)idx, &sb) > 0 && strbuf_str(&sb)) {
		ns.own_opens += streq(strbuf_str(&sb), ns.own_path);
		ns.other_opens += streq(strbuf_str(&sb), ns.other_path) && r.pid != ns.self;
	}
	strbuf_done(&sb);
	return 0;
}

static void open_close(const char *path, int times)
{
	for (int i = 0; i < times; i++) {
		int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
		if (fd >= 0)
			close(fd);
	}
}

/*
 * Pid 1 of a new pid namespace: loads the probe excluding itself (self_tgid 0, as falco does), opens a file, has
 * a child open another. Exit status: 0 = ours excluded and the child's seen, else which check failed. No cmocka
 * here (a failed assertion would run the rest of the suite in this process).
 */
static int ns_loader(pid_t host_pid, const char *own_path, const char *other_path)
{
	struct evt_bpf_opts o;
	struct evt_bpf *b = NULL;
	char err[2048];
	uint64_t bits[EVT_TYPE_WORDS] = {0};
	uint16_t codes[8];

	if (getpid() != 1)
		return 10;
	evt_bpf_opts_init(&o);
	o.ring_bytes = 1u << 20;
	o.probe_reads = probe_reads;
	if (evt_bpf_open(&o, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "ns_loader: %s\n", err);
		return 11;
	}
	/* learned at open (a thread of ours exited), before any syscall of interest */
	if (evt_bpf_self_tgid(b) != host_pid) {
		fprintf(stderr, "ns_loader: self tgid %d, host pid %d\n", evt_bpf_self_tgid(b),
			host_pid);
		return 12;
	}
	evt_type_base_set(bits, EVT_TYPE_WORDS);
	int n = evt_type_codes("openat", codes, 8);
	for (int k = 0; k < n; k++)
		evt_bit_set(bits, EVT_TYPE_WORDS, codes[k]);
	if (n <= 0 || evt_bpf_set_interesting(b, bits, EVT_TYPE_WORDS) <= 0)
		return 13;
	ns.self = (uint32_t)host_pid;
	ns.own_path = own_path;
	ns.other_path = other_path;
	open_close(own_path, 20);
	pid_t c = fork();
	if (c == 0) {
		open_close(other_path, 20);
		_exit(0);
	}
	int st;
	if (c < 0 || waitpid(c, &st, 0) != c)
		return 14;
	while (evt_bpf_drain(b, 100000, keep_ns, NULL) > 0)
		;
	evt_bpf_close(b);
	if (ns.self_events || ns.own_opens) {
		fprintf(stderr, "ns_loader: %zu events of ours, %zu opens of %s\n", ns.self_events,
			ns.own_opens, own_path);
		return 15;
	}
	if (ns.other_opens != 20) {
		fprintf(stderr, "ns_loader: %zu opens of the child's path\n", ns.other_opens);
		return 16;
	}
	return 0;
}

static void test_self_in_pid_namespace(void **state)
{
	char own[96], other[96];
	int p[2], st;

	snprintf(own, sizeof(own), "%s-ns-own", tmp_path);
	snprintf(other, sizeof(other), "%s-ns-other", tmp_path);
	assert_int_equal(pipe(p), 0);
	/* an intermediate child unshares (our own later forks keep our namespace); its child is pid 1 there */
	pid_t a = fork();
	assert_true(a >= 0);
	if (a == 0) {
		if (unshare(CLONE_NEWPID) < 0)
			_exit(errno == EPERM || errno == EINVAL ? 77 : 20);
		pid_t b = fork();
		if (b == 0) {
			pid_t host =
				0; /* our pid as the probe sees it: the parent's fork() result */
			close(p[1]);
			if (read(p[0], &host, sizeof(host)) != sizeof(host))
				_exit(21);
			_exit(ns_loader(host, own, other));
		}
		if (b < 0 || write(p[1], &b, sizeof(b)) != sizeof(b) || waitpid(b, &st, 0) != b)
			_exit(22);
		_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 23);
	}
	close(p[0]);
	close(p[1]);
	assert_int_equal(waitpid(a, &st, 0), a);
	(void)unlink(own);
	(void)unlink(other);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 77)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_check_and_bad_options(void **state)
{
	char err[2048];
	assert_int_equal(evt_bpf_check(err, sizeof(err)), 0);

	struct evt_bpf_opts o;
	struct evt_bpf *b = NULL;
	evt_bpf_opts_init(&o);
	o.ring_bytes = 3 << 20;
	assert_int_equal(evt_bpf_open(&o, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "power of 2"));
	assert_null(b);
	assert_null(evt_bpf_close(NULL));
	assert_int_equal(evt_bpf_preset_bytes(4), 8u << 20);
	assert_int_equal(evt_bpf_preset_bytes(1), 1u << 20);
	assert_int_equal(evt_bpf_preset_bytes(0), 0);
	assert_int_equal(evt_bpf_preset_bytes(11), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_open_dup_close, test_setup),
		cmocka_unit_test_setup(test_connect_accept, test_setup),
		cmocka_unit_test_setup(test_execve, test_setup),
		cmocka_unit_test_setup(test_memfd_execve, test_setup),
		cmocka_unit_test_setup(test_failed_execve, test_setup),
		cmocka_unit_test_setup(test_misc_syscalls, test_setup),
		cmocka_unit_test_setup(test_ptrace, test_setup),
		cmocka_unit_test_setup(test_interesting_filter_and_generic, test_setup),
		cmocka_unit_test_setup(test_counters, test_setup),
		cmocka_unit_test_setup(test_drops_counted, test_setup),
		cmocka_unit_test_setup(test_ia32_skipped, test_setup),
		cmocka_unit_test_setup(test_payload, test_setup),
		cmocka_unit_test_setup(test_pump, test_setup),
		cmocka_unit_test_setup(test_rings_merged_in_order, test_setup),
		cmocka_unit_test_setup(test_self_in_pid_namespace, test_setup),
		cmocka_unit_test_setup(test_check_and_bad_options, test_setup),
	};
	int r = cmocka_run_group_tests_name("fast handlers", tests, group_setup, group_teardown);
	probe_reads = true;
	r |= cmocka_run_group_tests_name("probe-read handlers", tests, group_setup, group_teardown);
	if (skip_reason[0])
		fprintf(stderr, "test_evt_bpf: skipped: %s\n", skip_reason);
	return r;
}
