/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the syscall source's fields (falco/source/sc_fields_*.c): every field class on synthetic events
 * (checked at rule time, i.e. inside the emit callback, before close/exit remove what they describe), upstream's
 * renderings (flags, capabilities, tuples, "SUCCESS"/errno names, uid → user name), a sweep over every field of
 * every table, and a rule set using every field compiled and evaluated by the engine.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/strbuf.h"
#include "falco/engine/engine.h"
#include "falco/engine/fields.h"
#include "falco/engine/flt.h"
#include "falco/source/sc_source.h"
#include "falco/source/state.h"
#include "sc_testrec.h"

#define TS0 1700000000000000000ull
#define CID "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2"

/* ---- extraction of one field by name, as the engine would ---- */

/* Extracts "name" or "name[arg]" on e; returns 1 with text in out, 0 when missing. */
static int xfield(const struct evt *e, struct st_state *st, struct arena *a, const char *spec,
		  char *out, size_t size)
{
	char name[256];
	const char *arg = NULL, *dotted = NULL;
	char argbuf[256];
	snprintf(name, sizeof(name), "%s", spec);
	char *br = strchr(name, '[');
	if (br) {
		*br = '\0';
		snprintf(argbuf, sizeof(argbuf), "%s", br + 1);
		argbuf[strlen(argbuf) - 1] = '\0';
		arg = argbuf;
	}
	const struct fld_def *def = fld_lookup(&src_syscall, name, &dotted);
	if (!def)
		fail_msg("unknown field %s", spec);
	struct fld_inst fi = {.def = def, .arg = dotted ? dotted : arg, .arg_num = -1};
	if (fi.arg) {
		fi.arg_len = (uint32_t)strlen(fi.arg);
		char *end;
		long v = strtol(fi.arg, &end, 10);
		if (*end == '\0' && (def->flags & (FLD_ARG_INDEX | FLD_ARG_LIST_INDEX)))
			fi.arg_num = v;
	}
	char eb[256] = "";
	if (def->prepare && def->prepare(&fi, eb, sizeof(eb)) < 0)
		fail_msg("prepare %s: %s", spec, eb);
	struct fld_ctx ctx = {.evt = e, .arena = a, .src_state = st};
	struct value v;
	int r = def->extract(&ctx, &fi, &v);
	if (def->release)
		def->release(&fi);
	if (r <= 0)
		return 0;
	if (!v.is_list && v.type != def->type)
		fail_msg("%s: extracted type %d, declared %d", spec, v.type, def->type);
	struct strbuf sb;
	strbuf_init(&sb, 0);
	value_to_text(&v, &sb);
	snprintf(out, size, "%s", strbuf_str(&sb));
	strbuf_done(&sb);
	return 1;
}

/* ---- a harness checking fields at rule time ---- */

struct check {
	const char *field;
	const char *want; /* NULL: must be missing */
};

struct harness {
	struct sc_source *s;
	struct st_state *st;
	struct arena arena;
	uint8_t buf[EVT_MAX_SIZE];
	const struct check *checks;
	size_t nchecks;
	int fails;
	int emitted;
	void (*sweep)(struct harness *h, const struct evt *e);
};

static void on_emit(void *ud, const struct evt *e, void *src_state)
{
	struct harness *h = ud;
	char got[4096];

	h->emitted++;
	for (size_t i = 0; i < h->nchecks; i++) {
		arena_reset(&h->arena);
		int r = xfield(e, h->st, &h->arena, h->checks[i].field, got, sizeof(got));
		const char *want = h->checks[i].want;
		if (!want && r) {
			print_error("%s: expected missing, got '%s'\n", h->checks[i].field, got);
			h->fails++;
		} else if (want && !r) {
			print_error("%s: expected '%s', got nothing\n", h->checks[i].field, want);
			h->fails++;
		} else if (want && strcmp(want, got) != 0) {
			print_error("%s: expected '%s', got '%s'\n", h->checks[i].field, want, got);
			h->fails++;
		}
	}
	if (h->sweep)
		h->sweep(h, e);
}

static struct harness *harness_new(void)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sc_source_opts o = {.state.replay = true, .emit = on_emit};
	char err[256];

	o.ud = h;
	assert_int_equal(sc_source_new(&o, &h->s, err, sizeof(err)), 0);
	h->st = sc_source_state(h->s);
	arena_init(&h->arena, 64 * 1024, 0);
	return h;
}

static void harness_free(struct harness *h)
{
	sc_source_free(h->s);
	arena_done(&h->arena);
	free(h);
}

static void feed_check(struct harness *h, uint16_t type, uint32_t tid, uint32_t pid, uint64_t ts,
		       const struct tp *ps, size_t n, const struct check *checks, size_t nchecks)
{
	char err[256];
	size_t len = tr_make(h->buf, type, tid, pid, ts, ps, n);
	h->checks = checks;
	h->nchecks = nchecks;
	int before = h->emitted;
	assert_true(sc_source_feed(h->s, h->buf, len, err, sizeof(err)) >= 0);
	assert_int_equal(h->emitted, before + 1);
	assert_int_equal(h->fails, 0);
	h->checks = NULL;
	h->nchecks = 0;
}

#define PARAMS(...)                       \
	(const struct tp[]){__VA_ARGS__}, \
		sizeof((const struct tp[]){__VA_ARGS__}) / sizeof(struct tp)
#define CHECKS(...)                          \
	(const struct check[]){__VA_ARGS__}, \
		sizeof((const struct check[]){__VA_ARGS__}) / sizeof(struct check)

/* A small process tree: systemd(1) <- sshd(10) <- bash(20, session leader, tty) */
static void make_tree(struct harness *h)
{
	struct st_state *st = h->st;
	static const struct {
		uint32_t pid, ppid;
		const char *comm, *exe, *exepath, *args;
		size_t alen;
	} tree[] = {
		{1, 0, "systemd", "/sbin/init", "/usr/lib/systemd/systemd", "splash", 7},
		{10, 1, "sshd", "sshd:", "/usr/sbin/sshd", "root@pts/0", 11},
		{20, 10, "bash", "-bash", "/usr/bin/bash", NULL, 0},
	};
	for (size_t i = 0; i < 3; i++) {
		struct st_proc *p = st_proc_create(st, tree[i].pid);
		p->ppid = tree[i].ppid;
		p->vpid = tree[i].pid;
		p->sid = i == 2 ? 20 : 1;
		p->pgid = p->vpgid = tree[i].pid;
		p->tty = i == 2 ? 34816 : 0;
		p->loginuid = i == 0 ? UINT32_MAX : 0;
		p->start_ts = TS0 - 10000000000ull;
		memcpy(p->comm, tree[i].comm, strlen(tree[i].comm) + 1);
		st_str_set(st, &p->exe, st_str_intern_cstr(st, tree[i].exe));
		st_str_set(st, &p->exepath, st_str_intern_cstr(st, tree[i].exepath));
		st_str_set(st, &p->cwd, st_str_intern_cstr(st, "/root/"));
		if (tree[i].args)
			st_str_set(st, &p->args, st_str_intern(st, tree[i].args, tree[i].alen));
		st_thread_add(st, p, tree[i].pid, tree[i].pid);
	}
	/* root and a user for the uid renderings */
	struct st_user u = {.key = 0,
			    .id = 0,
			    .found = true,
			    .name = st_str_intern_cstr(st, "root"),
			    .home = st_str_intern_cstr(st, "/root"),
			    .shell = st_str_intern_cstr(st, "/bin/bash")};
	st_user_put(st, &u);
	st_str_unref(st, u.name);
	st_str_unref(st, u.home);
	st_str_unref(st, u.shell);
	struct st_user nob = {
		.key = 65534, .id = 65534, .found = true, .name = st_str_intern_cstr(st, "nobody")};
	st_user_put(st, &nob);
	st_str_unref(st, nob.name);
	struct st_user g = {.key = 1ull << 63,
			    .id = 0,
			    .kind = 1,
			    .found = true,
			    .name = st_str_intern_cstr(st, "root")};
	st_user_put(st, &g);
	st_str_unref(st, g.name);
}

/* ---- process, thread, user, group fields on an exec ---- */

static void test_exec_fields(void **state)
{
	struct harness *h = harness_new();
	make_tree(h);
	static const char args[] = "-c\0echo hi\0";
	static const char env[] = "HOME=/root\0PATH=/usr/bin\0HTTP_PROXY=http://x:3128\0";

	feed_check(h, EVT_CLONE_X, 20, 20, TS0,
		   PARAMS(TP_I("res", 30), TP_I("flags", 17), TP_I("vpid", 20)),
		   CHECKS({"proc.name", "bash"}, {"evt.type", "clone"}, {"evt.res", "SUCCESS"},
			  {"evt.rawres", "30"}));
	feed_check(
		h, EVT_EXECVE_X, 30, 30, TS0 + 5000,
		PARAMS(TP_I("res", 0), TP_S("exe", "sh"), TP_B("args", args, sizeof(args) - 1),
		       TP_I("tid", 30), TP_I("pid", 30), TP_I("ptid", 20), TP_S("cwd", "/tmp"),
		       TP_S("comm", "sh"), TP_B("env", env, sizeof(env) - 1), TP_I("tty", 34816),
		       TP_I("loginuid", 0), TP_I("flags", EVT_EXE_UPPER_LAYER | EVT_EXE_WRITABLE),
		       TP_I("cap_permitted", 0x3), TP_I("cap_effective", (1ull << 21) | 1),
		       TP_I("cap_inheritable", 0), TP_I("exe_ino", 1234),
		       TP_I("exe_ino_ctime", TS0 - 3000), TP_I("exe_ino_mtime", TS0 - 4000),
		       TP_I("uid", 0), TP_I("gid", 0), TP_S("trusted_exepath", "/usr/bin/dash"),
		       TP_I("pgid", 30), TP_S("filename", "/bin/sh"), TP_I("vtid", 30),
		       TP_I("vpid", 30), TP_I("vpgid", 30), TP_I("sid", 20),
		       TP_I("start_ts", TS0 + 1000), TP_I("pidns_init_start_ts", TS0 - 100000)),
		CHECKS({"evt.type", "execve"}, {"syscall.type", "execve"}, {"evt.dir", "<"},
		       {"evt.res", "SUCCESS"}, {"evt.rawres", "0"}, {"evt.failed", "false"},
		       {"evt.category", "process"}, {"evt.num", "2"}, {"evt.source", "syscall"},
		       {"evt.rawtime", "1700000000000005000"}, {"evt.arg.cwd", "/tmp"},
		       {"evt.arg[1]", "sh"}, {"evt.arg.uid", "root"},
		       {"evt.arg.flags", "EXE_WRITABLE|EXE_UPPER_LAYER"}, {"evt.rawarg.pid", "30"},
		       {"evt.rawarg.comm", "sh"}, {"evt.is_open_read", NULL}, {"proc.name", "sh"},
		       {"proc.exe", "sh"}, {"proc.exepath", "/usr/bin/dash"},
		       {"proc.args", "-c echo hi"}, {"proc.cmdline", "sh -c echo hi"},
		       {"proc.exeline", "sh -c echo hi"}, {"proc.cmdnargs", "2"},
		       {"proc.cmdlenargs", "9"}, {"proc.cwd", "/tmp/"}, {"proc.pid", "30"},
		       {"proc.vpid", "30"}, {"proc.ppid", "20"}, {"proc.pvpid", "20"},
		       {"proc.sid", "20"}, {"proc.vpgid", "30"}, {"proc.pgid", "30"},
		       {"proc.tty", "34816"}, {"proc.pname", "bash"}, {"proc.pexe", "-bash"},
		       {"proc.pexepath", "/usr/bin/bash"}, {"proc.pcmdline", "bash"},
		       {"proc.aname[0]", "sh"}, {"proc.aname[1]", "bash"},
		       {"proc.aname[2]", "sshd"}, {"proc.aname[3]", "systemd"},
		       {"proc.aname[4]", NULL}, {"proc.aname", "(bash,sshd,systemd)"},
		       {"proc.aexe[2]", "sshd:"}, {"proc.aexepath[2]", "/usr/sbin/sshd"},
		       {"proc.apid[3]", "1"}, {"proc.acmdline[2]", "sshd root@pts/0"},
		       {"proc.sname", "bash"}, {"proc.is_sid_leader", "false"},
		       {"proc.is_vpgid_leader", "true"}, {"proc.duration", "5000"},
		       {"proc.env", "HOME=/root PATH=/usr/bin HTTP_PROXY=http://x:3128"},
		       {"proc.env[HTTP_PROXY]", "http://x:3128"}, {"proc.env[NOPE]", NULL},
		       {"proc.exe_ino", "1234"}, {"proc.exe_ino.ctime", "1699999999999997000"},
		       {"proc.exe_ino.mtime", "1699999999999996000"},
		       {"proc.exe_ino.ctime_duration_proc_start", "3000"},
		       {"proc.exe_ino.ctime_duration_pidns_start", "97000"},
		       {"proc.is_exe_writable", "true"}, {"proc.is_exe_upper_layer", "true"},
		       {"proc.is_exe_lower_layer", "false"}, {"proc.is_exe_from_memfd", "false"},
		       {"proc.pidns_init_start_ts", "1699999999999900000"}, {"proc.nthreads", "1"},
		       {"thread.tid", "30"}, {"thread.vtid", "30"}, {"thread.ismain", "true"},
		       {"thread.cap_permitted", "CAP_CHOWN CAP_DAC_OVERRIDE"},
		       {"thread.cap_effective", "CAP_CHOWN CAP_SYS_ADMIN"},
		       {"thread.cap_inheritable", ""}, {"user.uid", "0"}, {"user.name", "root"},
		       {"user.homedir", "/root"}, {"user.shell", "/bin/bash"},
		       {"user.loginuid", "0"}, {"user.loginname", "root"}, {"group.gid", "0"},
		       {"group.name", "root"}, {"container.id", "host"}, {"container.name", "host"},
		       {"container.image", NULL}, {"container.privileged", NULL}, {"fd.name", NULL},
		       {"fd.num", NULL}));
	/* setuid: the uid argument renders as the user's name (evt.arg.uid=nobody in upstream rules) */
	feed_check(h, EVT_SETUID_X, 30, 30, TS0 + 6000, PARAMS(TP_I("res", 0), TP_I("uid", 65534)),
		   CHECKS({"evt.arg.uid", "nobody"}, {"evt.rawarg.uid", "65534"},
			  {"user.uid", "65534"}, {"user.name", "nobody"},
			  {"evt.category", "user"}));
	/* a failed exec: the result is the errno's name, proc.* still the old image */
	feed_check(h, EVT_EXECVE_X, 30, 30, TS0 + 7000,
		   PARAMS(TP_I("res", -2), TP_S("filename", "/nope")),
		   CHECKS({"evt.res", "ENOENT"}, {"evt.rawres", "-2"}, {"evt.failed", "true"},
			  {"proc.name", "sh"}, {"evt.arg.filename", "/nope"}));
	/* a process nobody described (no /proc in a replay, no exec or clone seen): unknown ids, not root */
	feed_check(h, EVT_CLOSE_X, 888, 888, TS0 + 7500, PARAMS(TP_I("res", 0), TP_I("fd", 3)),
		   CHECKS({"user.uid", "4294967295"}, {"user.name", NULL},
			  {"group.gid", "4294967295"}, {"group.name", NULL}, {"proc.pid", "888"}));
	/* procexit: the exiting process is still described */
	feed_check(
		h, EVT_PROCEXIT, 30, 30, TS0 + 8000, PARAMS(TP_I("status", 0), TP_I("sig", 9)),
		CHECKS({"evt.type", "procexit"}, {"proc.name", "sh"}, {"evt.arg.sig", "SIGKILL"}));
	assert_null(st_proc_find(h->st, 30));
	harness_free(h);
}

/* ---- file descriptors ---- */

static void test_fd_fields(void **state)
{
	struct harness *h = harness_new();
	make_tree(h);
	uint8_t t[64], a[16];

	feed_check(h, EVT_OPENAT_X, 20, 20, TS0,
		   PARAMS(TP_I("fd", 3), TP_I("dirfd", EVT_AT_FDCWD),
			  TP_S("name", "../etc//shadow"),
			  TP_I("flags", EVT_O_RDONLY | EVT_O_CLOEXEC), TP_I("mode", 0),
			  TP_I("dev", 0x801), TP_I("ino", 99)),
		   CHECKS({"fd.num", "3"}, {"fd.name", "/etc/shadow"},
			  {"fd.nameraw", "../etc//shadow"}, {"fd.directory", "/etc"},
			  {"fd.filename", "shadow"}, {"fd.type", "file"}, {"fd.typechar", "f"},
			  {"fd.ino", "99"}, {"fd.dev", "2049"}, {"fd.dev.major", "8"},
			  {"fd.dev.minor", "1"}, {"evt.is_open_read", "true"},
			  {"evt.is_open_write", "false"}, {"evt.is_open_exec", "false"},
			  {"evt.arg.flags", "O_RDONLY|O_CLOEXEC"}, {"evt.arg.dirfd", "-100"},
			  {"evt.arg.name", "../etc//shadow"}, {"evt.abspath", "/etc/shadow"},
			  {"evt.res", "SUCCESS"}, {"evt.rawres", "3"}, {"evt.category", "file"},
			  {"fd.l4proto", NULL}, {"fd.sip", NULL}, {"fd.name_changed", "false"}));
	feed_check(h, EVT_OPENAT_X, 20, 20, TS0 + 1,
		   PARAMS(TP_I("fd", -13), TP_I("dirfd", EVT_AT_FDCWD), TP_S("name", "/root/x"),
			  TP_I("flags", EVT_O_WRONLY | EVT_O_CREAT | EVT_O_TRUNC),
			  TP_I("mode", 0755)),
		   CHECKS({"fd.num", "-1"}, {"fd.typechar", "f"}, {"fd.name", "/root/x"},
			  {"evt.res", "EACCES"}, {"evt.is_open_write", "true"},
			  {"evt.is_open_exec", "true"}, {"evt.is_open_create", "true"},
			  {"evt.arg.flags", "O_TRUNC|O_CREAT|O_WRONLY"}, {"evt.arg.mode", "0755"}));
	/* close: fd.* still describe what is being closed */
	feed_check(h, EVT_CLOSE_X, 20, 20, TS0 + 2, PARAMS(TP_I("res", 0), TP_I("fd", 3)),
		   CHECKS({"fd.name", "/etc/shadow"}, {"fd.num", "3"}, {"evt.type", "close"}));
	/* sockets: client side */
	feed_check(h, EVT_SOCKET_X, 20, 20, TS0 + 3,
		   PARAMS(TP_I("fd", 4), TP_I("domain", EVT_AF_INET),
			  TP_I("type", EVT_SOCK_STREAM | EVT_SOCK_CLOEXEC), TP_I("proto", 0)),
		   CHECKS({"fd.type", "ipv4"}, {"fd.typechar", "4"}, {"fd.l4proto", "tcp"},
			  {"fd.sockfamily", "ip"}, {"evt.arg.domain", "AF_INET"}, {"fd.name", NULL},
			  {"fd.connected", "false"}));
	size_t tl = tr_tuple4(t, "10.0.0.5", 40000, "93.184.216.34", 443);
	size_t al = tr_sockaddr4(a, "93.184.216.34", 443);
	feed_check(h, EVT_CONNECT_X, 20, 20, TS0 + 4,
		   PARAMS(TP_I("res", 0), TP_B("tuple", t, tl), TP_I("fd", 4), TP_B("addr", a, al)),
		   CHECKS({"fd.name", "10.0.0.5:40000->93.184.216.34:443"}, {"fd.cip", "10.0.0.5"},
			  {"fd.sip", "93.184.216.34"}, {"fd.lip", "10.0.0.5"},
			  {"fd.rip", "93.184.216.34"}, {"fd.cport", "40000"}, {"fd.sport", "443"},
			  {"fd.lport", "40000"}, {"fd.rport", "443"}, {"fd.port", "(40000,443)"},
			  {"fd.ip", "(10.0.0.5,93.184.216.34)"}, {"fd.snet", "<IPNET>"},
			  {"fd.cnet", "<IPNET>"}, {"fd.rnet", "<IPNET>"}, {"fd.lnet", "<IPNET>"},
			  {"fd.net", "(<IPNET>,<IPNET>)"}, {"fd.connected", "true"},
			  {"fd.is_server", "false"}, {"fd.name_changed", "true"},
			  {"fd.sip.name", NULL}, {"fd.cip.name", NULL}, {"fd.lip.name", NULL},
			  {"fd.rip.name", NULL},
			  {"evt.arg.tuple", "10.0.0.5:40000->93.184.216.34:443"},
			  {"evt.arg.addr", "93.184.216.34:443"}, {"evt.category", "net"}));
	/* server side */
	tl = tr_tuple4(t, "10.0.0.9", 51000, "10.0.0.5", 22);
	feed_check(h, EVT_ACCEPT_X, 20, 20, TS0 + 5, PARAMS(TP_I("fd", 5), TP_B("tuple", t, tl)),
		   CHECKS({"fd.name", "10.0.0.9:51000->10.0.0.5:22"}, {"fd.sip", "10.0.0.5"},
			  {"fd.cip", "10.0.0.9"}, {"fd.lip", "10.0.0.5"}, {"fd.rip", "10.0.0.9"},
			  {"fd.sport", "22"}, {"fd.lport", "22"}, {"fd.rport", "51000"},
			  {"fd.is_server", "true"}, {"fd.num", "5"}));
	/* dup2 of the socket onto stdout: the reverse-shell shape */
	feed_check(h, EVT_DUP2_X, 20, 20, TS0 + 6,
		   PARAMS(TP_I("res", 1), TP_I("oldfd", 4), TP_I("newfd", 1)),
		   CHECKS({"fd.type", "ipv4"}, {"fd.num", "4"}, {"evt.rawres", "1"},
			  {"fd.name", "10.0.0.5:40000->93.184.216.34:443"}));
	/* UDP: the first send names the socket, a send to the same peer does not change it */
	feed_check(h, EVT_SOCKET_X, 20, 20, TS0 + 7,
		   PARAMS(TP_I("fd", 6), TP_I("domain", EVT_AF_INET), TP_I("type", EVT_SOCK_DGRAM)),
		   CHECKS({"fd.l4proto", "udp"}));
	tl = tr_tuple4(t, "10.0.0.5", 5353, "8.8.8.8", 53);
	feed_check(h, EVT_SENDTO_X, 20, 20, TS0 + 8,
		   PARAMS(TP_I("res", 20), TP_I("fd", 6), TP_B("tuple", t, tl)),
		   CHECKS({"fd.name_changed", "true"}, {"fd.connected", "false"},
			  {"fd.rport", "53"}, {"evt.buffer", NULL}, {"evt.category", "I/O write"}));
	static const char payload[] = {(char)0xca, (char)0xfe, (char)0xba, (char)0xbe, 'h', 'i'};
	feed_check(h, EVT_SENDTO_X, 20, 20, TS0 + 9,
		   PARAMS(TP_I("res", 6), TP_B("data", payload, sizeof(payload)), TP_I("fd", 6),
			  TP_B("tuple", t, tl)),
		   CHECKS({"fd.name_changed", "false"}, {"evt.buflen", "6"},
			  {"evt.buffer", "....hi"}));
	/* pipes, memfd, unix */
	feed_check(h, EVT_PIPE_X, 20, 20, TS0 + 10,
		   PARAMS(TP_I("res", 0), TP_I("fd1", 7), TP_I("fd2", 8), TP_I("ino", 5)),
		   CHECKS({"fd.type", "pipe"}, {"fd.typechar", "p"}, {"fd.name", "pipe:[5]"},
			  {"fd.num", "7"}));
	feed_check(h, EVT_MEMFD_CREATE_X, 20, 20, TS0 + 11,
		   PARAMS(TP_I("fd", 9), TP_S("name", "x"), TP_I("flags", EVT_MFD_CLOEXEC)),
		   CHECKS({"fd.type", "memfd"}, {"fd.typechar", "m"}, {"fd.name", "memfd:x"},
			  {"evt.arg.flags", "MFD_CLOEXEC"}));
	feed_check(
		h, EVT_SOCKET_X, 20, 20, TS0 + 12,
		PARAMS(TP_I("fd", 10), TP_I("domain", EVT_AF_UNIX), TP_I("type", EVT_SOCK_STREAM)),
		CHECKS({"fd.type", "unix"}, {"fd.typechar", "u"}, {"fd.sockfamily", "unix"},
		       {"fd.l4proto", NULL}));
	static const char up[] = {EVT_AF_UNIX, '/', 'r', 'u', 'n', '/', 'd',
				  '.',	       's', 'o', 'c', 'k', 0};
	feed_check(h, EVT_CONNECT_X, 20, 20, TS0 + 13,
		   PARAMS(TP_I("res", 0), TP_I("fd", 10), TP_B("addr", up, sizeof(up))),
		   CHECKS({"fd.name", "/run/d.sock"}, {"fd.connected", "true"}));
	harness_free(h);
}

/* ---- other events: links, ptrace, modules, chmod, namespaces, generic ---- */

static void test_misc_event_fields(void **state)
{
	struct harness *h = harness_new();
	make_tree(h);

	feed_check(h, EVT_SYMLINKAT_X, 20, 20, TS0,
		   PARAMS(TP_I("res", 0), TP_S("target", "/etc/shadow"),
			  TP_I("linkdirfd", EVT_AT_FDCWD), TP_S("linkpath", "x")),
		   CHECKS({"evt.arg.target", "/etc/shadow"}, {"evt.arg.linkpath", "x"},
			  {"evt.abspath", "/root/x"}, {"evt.rawarg.target", "/etc/shadow"}));
	feed_check(h, EVT_LINKAT_X, 20, 20, TS0 + 1,
		   PARAMS(TP_I("res", 0), TP_I("olddir", EVT_AT_FDCWD),
			  TP_S("oldpath", "/etc/shadow"), TP_I("newdir", EVT_AT_FDCWD),
			  TP_S("newpath", "/tmp/s"), TP_I("flags", 0)),
		   CHECKS({"evt.arg.oldpath", "/etc/shadow"}, {"evt.arg.newpath", "/tmp/s"}));
	feed_check(h, EVT_PTRACE_X, 20, 20, TS0 + 2,
		   PARAMS(TP_I("res", 0), TP_I("addr", 0), TP_I("data", 0),
			  TP_I("request", EVT_PTRACE_ATTACH), TP_I("pid", 30)),
		   CHECKS({"evt.arg.request", "PTRACE_ATTACH"}, {"evt.arg[3]", "PTRACE_ATTACH"},
			  {"evt.rawarg.request", "16"}, {"evt.arg.pid", "30"},
			  {"evt.category", "process"}));
	feed_check(h, EVT_CHMOD_X, 20, 20, TS0 + 3,
		   PARAMS(TP_I("res", 0), TP_S("filename", "/tmp/x"), TP_I("mode", 04755)),
		   CHECKS({"evt.arg.mode",
			   "S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISUID"},
			  {"evt.arg.filename", "/tmp/x"}));
	feed_check(h, EVT_UNSHARE_X, 20, 20, TS0 + 4,
		   PARAMS(TP_I("res", 0), TP_I("flags", EVT_CLONE_NEWNS | EVT_CLONE_NEWPID)),
		   CHECKS({"evt.arg.flags", "CLONE_NEWNS|CLONE_NEWPID"}));
	feed_check(h, EVT_BPF_X, 20, 20, TS0 + 5,
		   PARAMS(TP_I("fd", 11), TP_I("cmd", EVT_BPF_PROG_LOAD)),
		   CHECKS({"evt.arg.cmd", "BPF_PROG_LOAD"}, {"fd.type", "bpf"},
			  {"evt.category", "system"}));
	feed_check(
		h, EVT_SOCKET_X, 20, 20, TS0 + 6,
		PARAMS(TP_I("fd", 12), TP_I("domain", EVT_AF_PACKET), TP_I("type", EVT_SOCK_RAW)),
		CHECKS({"evt.arg.domain", "AF_PACKET"}, {"fd.type", "socket"}));
	/* finit_module: fd.* is the module file */
	feed_check(h, EVT_OPEN_X, 20, 20, TS0 + 7,
		   PARAMS(TP_I("fd", 13), TP_S("name", "/tmp/rk.ko"), TP_I("flags", 0)),
		   CHECKS({"fd.name", "/tmp/rk.ko"}));
	feed_check(
		h, EVT_FINIT_MODULE_X, 20, 20, TS0 + 8,
		PARAMS(TP_I("res", 0), TP_I("fd", 13), TP_S("uargs", "x=1"), TP_I("flags", 0)),
		CHECKS({"fd.name", "/tmp/rk.ko"}, {"evt.arg.uargs", "x=1"}, {"evt.rawres", "0"}));
	/* a generic event (no dedicated handler): its name and result */
	feed_check(h, EVT_GENERIC_BASE + 0, 20, 20, TS0 + 9, PARAMS(TP_I("id", 0), TP_I("res", 12)),
		   CHECKS({"evt.type", "read"}, {"evt.rawres", "12"}, {"evt.arg.id", "read"},
			  {"evt.category", "other"}));
	harness_free(h);
}

/* ---- containers and k8s ---- */

static void test_container_fields(void **state)
{
	struct harness *h = harness_new();
	struct st_state *st = h->st;
	make_tree(h);

	struct st_container c = {.type = ST_CT_DOCKER,
				 .meta = ST_META_DONE,
				 .privileged = true,
				 .privileged_known = true,
				 .start_ts = TS0 - 5000};
	memcpy(c.id, CID, 65);
	c.idlen = 64;
	c.name = st_str_intern_cstr(st, "web");
	c.image = st_str_intern_cstr(st, "registry:5000/team/app:1.2@sha256:abc");
	c.mounts = st_str_intern_cstr(
		st, "/proc:/host/proc::false:rprivate,/var/run/docker.sock:/var/run/docker.sock:"
		    ":true:rprivate");
	c.k8s_ns = st_str_intern_cstr(st, "shop");
	c.k8s_pod = st_str_intern_cstr(st, "web-5d8");
	uint32_t idx = st_container_put(st, &c);
	assert_int_not_equal(idx, 0);
	st_str_unref(st, c.name);
	st_str_unref(st, c.image);
	st_str_unref(st, c.mounts);
	st_str_unref(st, c.k8s_ns);
	st_str_unref(st, c.k8s_pod);

	static const char cg[] = "cpu=/docker/" CID "\0";
	feed_check(
		h, EVT_EXECVE_X, 40, 40, TS0,
		PARAMS(TP_I("res", 0), TP_S("exe", "nginx"), TP_I("ptid", 20),
		       TP_S("comm", "nginx"), TP_B("cgroups", cg, sizeof(cg) - 1), TP_I("vpid", 1),
		       TP_I("vpgid", 1)),
		CHECKS({"container.id", "a1b2c3d4e5f6"}, {"container.full_id", CID},
		       {"container.name", "web"}, {"container.type", "docker"},
		       {"container.image", "registry:5000/team/app:1.2@sha256:abc"},
		       {"container.image.repository", "registry:5000/team/app"},
		       {"container.image.tag", "1.2"}, {"container.image.digest", "sha256:abc"},
		       {"container.privileged", "true"},
		       {"container.mounts",
			"/proc:/host/proc::false:rprivate,/var/run/docker.sock:/var/run/docker.sock::true:rprivate"},
		       {"container.mount.dest[/proc*]", "/host/proc"},
		       {"container.mount.dest[/var/run/docker.sock]", "/var/run/docker.sock"},
		       {"container.mount.dest[/etc]", "N/A"},
		       {"container.mount.source[/host/proc]", "/proc"},
		       {"container.mount[0]", "/proc:/host/proc::false:rprivate"},
		       {"container.mount.rdwr[1]", "true"},
		       {"container.mount.propagation[0]", "rprivate"},
		       {"container.start_ts", "1699999999999995000"},
		       {"container.duration", "5000"}, {"k8s.ns.name", "shop"},
		       {"k8s.pod.name", "web-5d8"}, {"k8s.pod.uid", NULL}, {"proc.vpid", "1"},
		       {"proc.pid", "40"}));
	/* the kernel gives the start of the pid namespace's init with the exec: that is the container's start,
	 * whatever the runtime said */
	feed_check(h, EVT_EXECVE_X, 42, 42, TS0 + 2,
		   PARAMS(TP_I("res", 0), TP_S("exe", "sh"), TP_I("ptid", 40), TP_S("comm", "sh"),
			  TP_B("cgroups", cg, sizeof(cg) - 1), TP_I("vpid", 7),
			  TP_I("pidns_init_start_ts", TS0 - 7000)),
		   CHECKS({"container.start_ts", "1699999999999993000"},
			  {"container.duration", "7002"},
			  {"proc.pidns_init_start_ts", "1699999999999993000"}));
	/* the host is no container: no start time, whatever its namespace's init */
	feed_check(h, EVT_EXECVE_X, 43, 43, TS0 + 3,
		   PARAMS(TP_I("res", 0), TP_S("exe", "ls"), TP_I("ptid", 20), TP_S("comm", "ls"),
			  TP_I("pidns_init_start_ts", TS0 - 9000)),
		   CHECKS({"container.id", "host"}, {"container.start_ts", NULL},
			  {"container.duration", NULL}));
	/* a container without metadata (no runtime answered): the id, nothing else */
	static const char cg2[] =
		"pids=/system.slice/cri-containerd-" CID "0.scope\0"; /* 65 hex: not an id */
	feed_check(h, EVT_EXECVE_X, 41, 41, TS0 + 1,
		   PARAMS(TP_I("res", 0), TP_S("exe", "sh"), TP_I("ptid", 20), TP_S("comm", "sh"),
			  TP_B("cgroups", cg2, sizeof(cg2) - 1)),
		   CHECKS({"container.id", "host"}));
	harness_free(h);
}

/* ---- a sweep over every field of every table, on several events ---- */

static const char *sample_arg(const char *name)
{
	if (!strcmp(name, "evt.arg") || !strcmp(name, "evt.rawarg"))
		return "fd";
	if (!strncmp(name, "container.mount", 15))
		return "0";
	if (!strcmp(name, "proc.env"))
		return "HOME";
	return "2";
}

static void sweep(struct harness *h, const struct evt *e)
{
	char out[4096];
	for (const struct fld_table *const *t = src_syscall.tables; *t; t++) {
		for (size_t i = 0; i < (*t)->n; i++) {
			const struct fld_def *d = &(*t)->defs[i];
			char spec[300];
			arena_reset(&h->arena);
			/* once without argument (when allowed), once with one */
			if (!(d->flags & FLD_ARG_REQUIRED) && !(d->flags & FLD_HIDDEN))
				(void)xfield(e, h->st, &h->arena, d->name, out, sizeof(out));
			if (d->flags &
			    (FLD_ARG_ALLOWED | FLD_ARG_REQUIRED | FLD_ARG_INDEX | FLD_ARG_DOTTED)) {
				snprintf(spec, sizeof(spec), "%s[%s]", d->name,
					 sample_arg(d->name));
				(void)xfield(e, h->st, &h->arena, spec, out, sizeof(out));
			}
		}
	}
}

static void test_every_field_sweep(void **state)
{
	struct harness *h = harness_new();
	uint8_t t[64];
	char err[256];
	make_tree(h);
	h->sweep = sweep;

	size_t tl = tr_tuple4(t, "10.0.0.5", 40000, "1.2.3.4", 80);
	struct {
		uint16_t type;
		struct tp p[4];
		size_t n;
	} evs[] = {
		{EVT_OPENAT_X, {TP_I("fd", 3), TP_S("name", "/etc/passwd"), TP_I("flags", 0)}, 3},
		{EVT_CONNECT_X, {TP_I("res", 0), TP_I("fd", 3), TP_B("tuple", t, tl)}, 3},
		{EVT_EXECVE_X, {TP_I("res", 0), TP_S("exe", "x"), TP_S("comm", "x")}, 3},
		{EVT_CLOSE_X, {TP_I("res", 0), TP_I("fd", 3)}, 2},
		{EVT_PTRACE_X, {TP_I("res", -1)}, 1},
		{EVT_GENERIC_BASE + 39, {TP_I("id", 39)}, 1},
		{EVT_PROCEXIT, {TP_I("status", 0)}, 1},
		{EVT_CLOSE_X, {TP_I("res", 0)}, 1}, /* an unknown process, partial */
	};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		uint32_t pid = i == 7 ? 999 : 20;
		size_t len = tr_make(h->buf, evs[i].type, pid, pid, TS0 + i, evs[i].p, evs[i].n);
		assert_true(sc_source_feed(h->s, h->buf, len, err, sizeof(err)) >= 0);
	}
	assert_int_equal(h->emitted, 8);
	harness_free(h);
}

/* ---- the engine: conditions and outputs over every field ---- */

static void build_rules(struct strbuf *sb)
{
	strbuf_appends(
		sb,
		"- rule: every field\n  desc: d\n  condition: evt.type in (openat, execve) and (");
	int first = 1;
	for (const struct fld_table *const *t = src_syscall.tables; *t; t++) {
		for (size_t i = 0; i < (*t)->n; i++) {
			const struct fld_def *d = &(*t)->defs[i];
			if ((d->flags & FLD_HIDDEN) || (d->flags & FLD_EVTTYPE))
				continue;
			if (!first)
				strbuf_appends(sb, " or ");
			first = 0;
			if (d->flags & FLD_ARG_REQUIRED)
				strbuf_appendf(sb, "%s[%s] exists", d->name, sample_arg(d->name));
			else
				strbuf_appendf(sb, "%s exists", d->name);
		}
	}
	strbuf_appends(sb, ")\n  output: \"");
	for (const struct fld_table *const *t = src_syscall.tables; *t; t++) {
		for (size_t i = 0; i < (*t)->n; i++) {
			const struct fld_def *d = &(*t)->defs[i];
			if (d->flags & FLD_HIDDEN)
				continue;
			if (d->flags & FLD_ARG_REQUIRED)
				strbuf_appendf(sb, "%s=%%%s[%s] ", d->name, d->name,
					       sample_arg(d->name));
			else
				strbuf_appendf(sb, "%s=%%%s ", d->name, d->name);
		}
	}
	strbuf_appends(sb, "\"\n  priority: WARNING\n");
}

struct engine_run {
	struct ruleset *rs;
	struct rs_eval *ev;
	int matches;
	struct strbuf out;
};

static void on_match(void *ud, const struct rule *r, struct rs_eval *ev)
{
	struct engine_run *er = ud;
	er->matches++;
	strbuf_reset(&er->out);
	assert_int_equal(rule_format_output(r, ev, &er->out), 0);
}

static void emit_to_engine(void *ud, const struct evt *e, void *src_state)
{
	struct engine_run *er = ud;
	ruleset_process(er->rs, er->ev, e, src_state, on_match, er);
}

static void test_rules_every_field(void **state)
{
	const struct src_def *srcs[] = {&src_syscall};
	struct rules_options ro = {.sources = srcs, .nsources = 1, .min_priority = PRIO_DEBUG};
	struct strbuf sb, txt;
	struct engine_run er = {0};

	strbuf_init(&sb, 0);
	strbuf_init(&txt, 0);
	strbuf_init(&er.out, 0);
	build_rules(&sb);
	struct rules_loader *l = rules_loader_new(&ro);
	rules_loader_add_content(l, "every.yaml", sb.buf, sb.len);
	int r = rules_loader_finish(l, &er.rs);
	size_t n;
	const struct load_result *res = rules_loader_results(l, &n);
	for (size_t i = 0; i < n; i++)
		load_result_to_text(&res[i], true, &txt);
	if (r < 0 || rules_loader_failed(l))
		fail_msg("%s", strbuf_str(&txt));
	rules_loader_free(l);
	er.ev = rs_eval_new(er.rs);

	struct sc_source *s;
	struct sc_source_opts o = {.state.replay = true, .emit = emit_to_engine, .ud = &er};
	char err[256];
	uint8_t buf[EVT_MAX_SIZE];
	assert_int_equal(sc_source_new(&o, &s, err, sizeof(err)), 0);
	struct tp p[] = {TP_I("fd", 3), TP_I("dirfd", EVT_AT_FDCWD), TP_S("name", "/etc/shadow"),
			 TP_I("flags", 0)};
	size_t len = tr_make(buf, EVT_OPENAT_X, 7, 7, TS0, p, 4);
	assert_int_equal(sc_source_feed(s, buf, len, err, sizeof(err)), 1);
	assert_int_equal(er.matches, 1);
	assert_non_null(strstr(strbuf_str(&er.out), "fd.name=/etc/shadow "));
	assert_non_null(strstr(strbuf_str(&er.out), "evt.arg=3 "));
	assert_non_null(strstr(strbuf_str(&er.out), "container.id=host "));
	sc_source_free(s);
	rs_eval_free(er.ev);
	ruleset_free(er.rs);
	strbuf_done(&sb);
	strbuf_done(&txt);
	strbuf_done(&er.out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exec_fields),	  cmocka_unit_test(test_fd_fields),
		cmocka_unit_test(test_misc_event_fields), cmocka_unit_test(test_container_fields),
		cmocka_unit_test(test_every_field_sweep), cmocka_unit_test(test_rules_every_field),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
