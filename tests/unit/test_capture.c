/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for capture files (falco/source/capture.c, state_snap.c, sc_source.c): block and TLV round trips,
 * every kind of corruption rejected with an offset and a reason (truncation at every byte, bad magic, version,
 * byte order, lengths, padding, counts, attributes), and a recorded stream replayed into a fresh state giving
 * exactly the events and field values the recording saw, including state read from a (fake) /proc and NSS.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/strbuf.h"
#include "falco/engine/fields.h"
#include "falco/engine/flt.h"
#include "falco/source/capture.h"
#include "falco/source/sc_source.h"
#include "falco/source/state.h"
#include "falco/source/state_snap.h"
#include "sc_testrec.h"

#define TS0 1700000000000000000ull

static char tmpdir[256];

static int setup(void **state)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_capture.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int rm_rf(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int teardown(void **state)
{
	return nftw(tmpdir, rm_rf, 16, FTW_DEPTH | FTW_PHYS);
}

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", tmpdir, name);
}

static size_t slurp(const char *path, uint8_t **ret)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	*ret = malloc((size_t)n + 1);
	assert_int_equal(fread(*ret, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return (size_t)n;
}

static void spit(const char *path, const uint8_t *b, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(b, 1, n, f), n);
	fclose(f);
}

/* Reads a whole file; returns 0 at a clean end, else the error (message in err). */
static int read_all(const char *path, char *err, size_t errlen, size_t *ret_blocks)
{
	struct cap_reader *r;
	struct cap_block b;
	int rc;
	size_t n = 0;

	if ((rc = cap_reader_open(path, &r, err, errlen)) < 0)
		return rc;
	while ((rc = cap_reader_next(r, &b, err, errlen)) > 0)
		n++;
	cap_reader_close(r);
	if (ret_blocks)
		*ret_blocks = n;
	return rc;
}

/* ---- blocks ---- */

static void test_round_trip(void **state)
{
	char path[300], err[256];
	struct cap_writer *w;
	static uint8_t big[CAP_MAX_BLOCK];
	static const size_t sizes[] = {0, 1, 7, 8, 9, 100, 4096, CAP_MAX_BLOCK};

	path_of(path, sizeof(path), "rt.fcap");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31 + 7);
	assert_int_equal(cap_writer_open(path, 1, &w, err, sizeof(err)), 0);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		assert_int_equal(
			cap_write_block(w, i % 2 ? CAP_B_EVENT : CAP_B_PROC, big, sizes[i]), 0);
	assert_int_equal(cap_write_block(w, CAP_B_EVENT, big, CAP_MAX_BLOCK + 1), -E2BIG);
	assert_int_equal(cap_write_block(w, 4242, "new", 3), 0); /* a future block type */
	assert_int_equal(cap_writer_close(w, err, sizeof(err)), 0);

	struct cap_reader *r;
	struct cap_block b;
	assert_int_equal(cap_reader_open(path, &r, err, sizeof(err)), 0);
	assert_int_equal(cap_reader_header(r)->major, CAP_VERSION_MAJOR);
	assert_int_equal(cap_reader_header(r)->driver_abi, 1);
	assert_true(cap_reader_header(r)->created_ns > TS0 / 2);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		assert_int_equal(cap_reader_next(r, &b, err, sizeof(err)), 1);
		assert_int_equal(b.type, i % 2 ? CAP_B_EVENT : CAP_B_PROC);
		assert_int_equal(b.len, sizes[i]);
		assert_memory_equal(b.body, big, sizes[i]);
	}
	assert_int_equal(cap_reader_next(r, &b, err, sizeof(err)), 1);
	assert_int_equal(b.type, 4242);
	assert_int_equal(cap_reader_next(r, &b, err, sizeof(err)), 0);
	assert_int_equal(cap_reader_next(r, &b, err, sizeof(err)), 0);
	cap_reader_close(r);

	/* probing */
	uint8_t *data;
	size_t n = slurp(path, &data);
	assert_true(cap_probe(data, n));
	assert_false(cap_probe("{\"kind\":", 8));
	assert_false(cap_probe(data, 4));
	free(data);
}

static void test_tlv(void **state)
{
	uint8_t buf[64];
	struct cap_tlv t;
	struct cap_tlv_it it;
	uint16_t tag, len;
	const uint8_t *v;
	size_t off;
	uint32_t u32;
	uint64_t u64;

	cap_tlv_init(&t, buf, sizeof(buf));
	cap_tlv_u32(&t, 1, 0xdeadbeef);
	cap_tlv_u64(&t, 2, 42);
	cap_tlv_str(&t, 3, "abc", 3);
	cap_tlv_str(&t, 4, NULL, 0);
	assert_false(t.failed);
	cap_tlv_it_init(&it, buf, t.len);
	assert_int_equal(cap_tlv_next(&it, &tag, &v, &len, &off), 1);
	assert_true(cap_val_u32(v, len, &u32));
	assert_int_equal(u32, 0xdeadbeef);
	assert_false(cap_val_u64(v, len, &u64));
	assert_int_equal(cap_tlv_next(&it, &tag, &v, &len, &off), 1);
	assert_true(cap_val_u64(v, len, &u64));
	assert_int_equal(cap_tlv_next(&it, &tag, &v, &len, &off), 1);
	assert_int_equal(len, 3);
	assert_memory_equal(v, "abc", 3);
	assert_int_equal(cap_tlv_next(&it, &tag, &v, &len, &off), 0);
	/* an attribute longer than what is left */
	cap_tlv_it_init(&it, buf, t.len - 1);
	cap_tlv_next(&it, &tag, &v, &len, &off);
	cap_tlv_next(&it, &tag, &v, &len, &off);
	assert_int_equal(cap_tlv_next(&it, &tag, &v, &len, &off), -EBADMSG);
	assert_int_equal(off, 20);
	/* a value that does not fit the body */
	cap_tlv_bytes(&t, 5, buf, 60);
	assert_true(t.failed);
}

/* A small valid file: header, a PROC block, three events, END. */
static size_t small_file(const char *path)
{
	char err[256];
	struct cap_writer *w;
	uint8_t rec[EVT_MAX_SIZE];
	struct st_options o = {.replay = true};
	struct st_state *st = st_new(&o);
	struct st_proc *p = st_proc_create(st, 10);

	memcpy(p->comm, "bash", 5);
	st_str_set(st, &p->exepath, st_str_intern_cstr(st, "/usr/bin/bash"));
	assert_int_equal(cap_writer_open(path, FALCO_DRIVER_ABI_VERSION, &w, err, sizeof(err)), 0);
	assert_int_equal(st_snap_write_all(st, w), 0);
	for (int i = 0; i < 3; i++) {
		struct tp ps[] = {TP_I("res", 0), TP_I("fd", 3 + i)};
		size_t n = tr_make(rec, EVT_CLOSE_X, 10, 10, TS0 + (uint64_t)i, ps, 2);
		assert_int_equal(cap_write_block(w, CAP_B_EVENT, rec, n), 0);
	}
	assert_int_equal(cap_writer_close(w, err, sizeof(err)), 0);
	st_free(st);
	struct stat sb;
	stat(path, &sb);
	return (size_t)sb.st_size;
}

static void test_corrupt_files(void **state)
{
	char path[300], bad[300], err[256];
	uint8_t *data, *copy;
	size_t blocks;

	path_of(path, sizeof(path), "small.fcap");
	path_of(bad, sizeof(bad), "bad.fcap");
	size_t n = small_file(path);
	assert_int_equal(read_all(path, err, sizeof(err), &blocks), 0);
	assert_int_equal(blocks, 5); /* proc, snapshot_end, 3 events */
	slurp(path, &data);
	copy = malloc(n + 64);

	/* truncated at every byte: always an error naming an offset, never a crash */
	for (size_t cut = 0; cut < n; cut++) {
		spit(bad, data, cut);
		int rc = read_all(bad, err, sizeof(err), NULL);
		if (rc >= 0)
			fail_msg("a file cut at %zu of %zu bytes was accepted", cut, n);
		assert_non_null(strstr(err, "offset"));
	}

	struct {
		size_t off;
		const void *bytes;
		size_t len;
		const char *msg;
	} edits[] = {
		{0,
		 "\x89"
		 "FCAQ",
		 5, "bad magic"},
		{8, "\x02\x00", 2, "version 2.0 is not supported"},
		{16, "\x1a\x2b\x3c\x4d", 4, "other byte order"},
		{12, "\x10\x00\x00\x00", 4, "bad header length"},
		{64 + 4, "\x00\x00\x00\x7f", 4, "exceeds"}, /* the first block's length */
		{64, "\x00\x00\x00\x00", 4, "bad block type"},
	};
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		memcpy(copy, data, n);
		memcpy(copy + edits[i].off, edits[i].bytes, edits[i].len);
		spit(bad, copy, n);
		int rc = read_all(bad, err, sizeof(err), NULL);
		if (rc >= 0)
			fail_msg("edit %zu (%s) accepted", i, edits[i].msg);
		if (!strstr(err, edits[i].msg))
			fail_msg("edit %zu: '%s' does not say '%s'", i, err, edits[i].msg);
	}
	/* padding must be zero: the proc block is not a multiple of 8 bytes? find a block with padding */
	struct cap_reader *r;
	struct cap_block b;
	size_t pad_at = 0;
	assert_int_equal(cap_reader_open(path, &r, err, sizeof(err)), 0);
	while (cap_reader_next(r, &b, err, sizeof(err)) > 0)
		if (b.len % 8) {
			pad_at = (size_t)b.offset + 8 + b.len;
			break;
		}
	cap_reader_close(r);
	assert_true(pad_at > 0);
	memcpy(copy, data, n);
	copy[pad_at] = 1;
	spit(bad, copy, n);
	assert_true(read_all(bad, err, sizeof(err), NULL) < 0);
	assert_non_null(strstr(err, "non-zero padding"));
	/* the END block's counts must match */
	memcpy(copy, data, n);
	copy[n - 16] ^= 1; /* nblocks */
	spit(bad, copy, n);
	assert_true(read_all(bad, err, sizeof(err), NULL) < 0);
	assert_non_null(strstr(err, "end block counts"));
	/* data after END */
	memcpy(copy, data, n);
	memset(copy + n, 0, 8);
	spit(bad, copy, n + 8);
	assert_true(read_all(bad, err, sizeof(err), NULL) < 0);
	assert_non_null(strstr(err, "after the end block"));
	/* not a file at all */
	assert_int_equal(read_all("/nonexistent/x.fcap", err, sizeof(err), NULL), -ENOENT);
	free(data);
	free(copy);
}

static void test_snap_apply_errors(void **state)
{
	struct st_options o = {.replay = true};
	struct st_state *st = st_new(&o);
	char err[256];
	uint8_t buf[256];
	struct cap_tlv t;

	/* a u32 attribute with 3 bytes */
	cap_tlv_init(&t, buf, sizeof(buf));
	cap_tlv_u32(&t, 1, 77);
	uint8_t three[3] = {1, 2, 3};
	cap_tlv_bytes(&t, 2, three, 3);
	struct cap_block b = {.type = CAP_B_PROC, .len = (uint32_t)t.len, .body = buf};
	assert_int_equal(st_snap_apply(st, &b, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "expected 4 bytes, got 3"));
	/* an attribute running past the block */
	b.len = (uint32_t)t.len - 1;
	assert_int_equal(st_snap_apply(st, &b, err, sizeof(err)), -EBADMSG);
	assert_non_null(strstr(err, "overruns"));
	/* no pid */
	cap_tlv_init(&t, buf, sizeof(buf));
	cap_tlv_str(&t, 21, "bash", 4);
	b.len = (uint32_t)t.len;
	assert_int_equal(st_snap_apply(st, &b, err, sizeof(err)), -EBADMSG);
	/* fd without pid, container without id, purge of the wrong size */
	b.type = CAP_B_FD;
	assert_int_equal(st_snap_apply(st, &b, err, sizeof(err)), -EBADMSG);
	b.type = CAP_B_CONTAINER;
	assert_int_equal(st_snap_apply(st, &b, err, sizeof(err)), -EBADMSG);
	b.type = CAP_B_PURGE;
	b.len = 5;
	assert_int_equal(st_snap_apply(st, &b, err, sizeof(err)), -EBADMSG);
	/* unknown attributes are skipped: forward compatibility */
	cap_tlv_init(&t, buf, sizeof(buf));
	cap_tlv_u32(&t, 1, 77);
	cap_tlv_str(&t, 999, "future", 6);
	b.type = CAP_B_PROC;
	b.len = (uint32_t)t.len;
	if (st_snap_apply(st, &b, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	assert_non_null(st_proc_find(st, 77));
	st_free(st);
}

/* ---- record then replay ---- */

struct rec_log {
	struct strbuf sb;
	struct st_state *st;
	struct arena a;
};

static void log_field(struct rec_log *l, const struct evt *e, const char *name)
{
	const char *dotted = NULL;
	char base[64], arg[64] = "";
	snprintf(base, sizeof(base), "%s", name);
	char *br = strchr(base, '[');
	if (br) {
		*br = '\0';
		snprintf(arg, sizeof(arg), "%s", br + 1);
		arg[strlen(arg) - 1] = '\0';
		dotted = arg;
	}
	const struct fld_def *d = fld_lookup(&src_syscall, base, br ? NULL : &dotted);
	struct fld_inst fi = {.def = d,
			      .arg = dotted,
			      .arg_len = dotted ? (uint32_t)strlen(dotted) : 0,
			      .arg_num = -1};
	char eb[128];
	struct fld_ctx ctx = {.evt = e, .arena = &l->a, .src_state = l->st};
	struct value v;

	assert_non_null(d);
	if (d->prepare)
		assert_int_equal(d->prepare(&fi, eb, sizeof(eb)), 0);
	strbuf_appendf(&l->sb, " %s=", name);
	if (d->extract(&ctx, &fi, &v) > 0)
		value_to_text(&v, &l->sb);
	else
		strbuf_appends(&l->sb, "<NA>");
	if (d->release)
		d->release(&fi);
}

static void rec_emit(void *ud, const struct evt *e, void *src_state)
{
	struct rec_log *l = ud;
	static const char *const f[] = {"evt.type",	"proc.name",	       "proc.exepath",
					"proc.cmdline", "proc.pname",	       "fd.name",
					"fd.num",	"user.name",	       "group.name",
					"container.id", "proc.env[HOME]",      "evt.arg.flags",
					"proc.cwd",	"thread.cap_effective"};
	l->st = src_state;
	arena_reset(&l->a);
	strbuf_appendf(&l->sb, "%" PRIu64, e->num);
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		log_field(l, e, f[i]);
	strbuf_appendc(&l->sb, '\n');
}

static void mkfile(const char *dir, const char *name, const char *content, size_t len)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	spit(p, (const uint8_t *)content, len);
}

/* A fake /proc with one process, 4242, that the stream mentions before saying anything about it. */
static void make_fake_proc(const char *root)
{
	char d[400], p[500];

	snprintf(d, sizeof(d), "%s/4242", root);
	mkdir(root, 0755);
	mkdir(d, 0755);
	static const char status[] =
		"Name:\tworker\nTgid:\t4242\nPid:\t4242\nPPid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
		"CapInh:\t0000000000000000\nCapPrm:\t000001ffffffffff\nCapEff:\t000001ffffffffff\n"
		"NSpid:\t4242\nNSpgid:\t4242\n";
	mkfile(d, "status", status, sizeof(status) - 1);
	static const char stat[] =
		"4242 (worker) S 1 4242 4242 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0";
	mkfile(d, "stat", stat, sizeof(stat) - 1);
	mkfile(d, "comm", "worker\n", 7);
	static const char cmdline[] = "/opt/worker\0--queue\0jobs\0";
	mkfile(d, "cmdline", cmdline, sizeof(cmdline) - 1);
	static const char env[] = "HOME=/var/lib/worker\0LANG=C\0";
	mkfile(d, "environ", env, sizeof(env) - 1);
	mkfile(d, "loginuid", "4294967295", 10);
	static const char cg[] =
		"4:memory:/process_api/5b0cd3ed001d52449ff6852249b1fbae\n1:cpu:/docker/"
		"a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2\n";
	mkfile(d, "cgroup", cg, sizeof(cg) - 1);
	snprintf(p, sizeof(p), "%s/exe", d);
	assert_int_equal(symlink("/bin/true", p), 0);
	snprintf(p, sizeof(p), "%s/root", d);
	assert_int_equal(symlink("/", p), 0);
	snprintf(p, sizeof(p), "%s/cwd", d);
	assert_int_equal(symlink("/srv", p), 0);
	snprintf(p, sizeof(p), "%s/fd", d);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/fd/3", d);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	snprintf(p, sizeof(p), "%s/fdinfo", d);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/fdinfo", d);
	mkfile(p, "3", "pos:\t0\nflags:\t02000000\n", 23);
	snprintf(p, sizeof(p), "%s/task", d);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/task/4242", d);
	mkdir(p, 0755);
}

static void test_record_replay(void **state)
{
	char path[300], proc[300], err[256];
	struct rec_log live = {0}, replay = {0};
	uint8_t rec[EVT_MAX_SIZE], t[32];
	struct sc_source *s;

	path_of(path, sizeof(path), "stream.fcap");
	path_of(proc, sizeof(proc), "proc");
	make_fake_proc(proc);
	strbuf_init(&live.sb, 0);
	strbuf_init(&replay.sb, 0);
	arena_init(&live.a, 4096, 0);
	arena_init(&replay.a, 4096, 0);

	/* 1. "live": a fake /proc, NSS for real, everything recorded */
	struct sc_source_opts o = {
		.state.proc_root = proc, .capture_out = path, .emit = rec_emit, .ud = &live};
	assert_int_equal(sc_source_new(&o, &s, err, sizeof(err)), 0);
	assert_int_equal(sc_source_seed(s, err, sizeof(err)), 1);
	static const char args[] = "-c\0ls\0";
	static const char env[] = "HOME=/root\0";
	size_t tl = tr_tuple4(t, "10.0.0.5", 40000, "10.0.0.9", 443);
	struct {
		uint16_t type;
		uint32_t tid, pid;
		struct tp p[8];
		size_t n;
	} evs[] = {
		{EVT_OPENAT_X,
		 4242,
		 4242,
		 {TP_I("fd", 4), TP_I("dirfd", EVT_AT_FDCWD), TP_S("name", "data/x"),
		  TP_I("flags", EVT_O_RDWR | EVT_O_CREAT)},
		 4},
		{EVT_CLONE_X,
		 4242,
		 4242,
		 {TP_I("res", 5000), TP_I("flags", 17), TP_I("vpid", 4242)},
		 3},
		{EVT_EXECVE_X,
		 5000,
		 5000,
		 {TP_I("res", 0), TP_S("exe", "sh"), TP_B("args", args, sizeof(args) - 1),
		  TP_S("comm", "sh"), TP_S("trusted_exepath", "/bin/dash"), TP_I("ptid", 4242),
		  TP_I("uid", 0), TP_S("cwd", "/srv")},
		 8},
		{EVT_SOCKET_X,
		 5000,
		 5000,
		 {TP_I("fd", 6), TP_I("domain", EVT_AF_INET), TP_I("type", 1)},
		 3},
		{EVT_CONNECT_X,
		 5000,
		 5000,
		 {TP_I("res", 0), TP_B("tuple", t, tl), TP_I("fd", 6)},
		 3},
		{EVT_CLOSE_X, 4242, 4242, {TP_I("res", 0), TP_I("fd", 3)}, 2},
		{EVT_CLOSE_X,
		 6000,
		 6000,
		 {TP_I("res", 0), TP_I("fd", 1)},
		 2}, /* unknown, not in /proc */
		{EVT_OPENAT_E, 5000, 5000, {TP_I("dirfd", EVT_AT_FDCWD), TP_S("name", "/x")}, 2},
		{EVT_PROCEXIT, 5000, 5000, {TP_I("status", 0)}, 1},
	};
	(void)env;
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++) {
		size_t n = tr_make(rec, evs[i].type, evs[i].tid, evs[i].pid, TS0 + i * 1000,
				   evs[i].p, evs[i].n);
		assert_true(sc_source_feed(s, rec, n, err, sizeof(err)) >= 0);
	}
	assert_int_equal(sc_source_close_capture(s, err, sizeof(err)), 0);
	sc_source_free(s);

	/* 2. replay into a fresh state: no /proc, no NSS */
	struct sc_source_opts ro = {.state.replay = true, .emit = rec_emit, .ud = &replay};
	assert_int_equal(sc_source_new(&ro, &s, err, sizeof(err)), 0);
	assert_int_equal(sc_replay_open(s, path, err, sizeof(err)), 0);
	int r;
	while ((r = sc_replay_step(s, 2, err, sizeof(err))) > 0)
		;
	assert_int_equal(r, 0);
	sc_source_free(s);

	if (strcmp(strbuf_str(&live.sb), strbuf_str(&replay.sb)) != 0)
		fail_msg("replay differs:\nlive:\n%s\nreplay:\n%s", strbuf_str(&live.sb),
			 strbuf_str(&replay.sb));
	/* and what was seen is what /proc and the events said */
	const char *txt = strbuf_str(&live.sb);
	assert_non_null(strstr(
		txt,
		"1 evt.type=openat proc.name=worker proc.exepath=/bin/true "
		"proc.cmdline=worker --queue jobs proc.pname=<NA> fd.name=/srv/data/x fd.num=4 "
		"user.name=root group.name=root container.id=a1b2c3d4e5f6 "
		"proc.env[HOME]=/var/lib/worker"));
	assert_non_null(strstr(
		txt, "3 evt.type=execve proc.name=sh proc.exepath=/bin/dash proc.cmdline=sh -c ls "
		     "proc.pname=worker"));
	assert_non_null(strstr(txt, "fd.name=10.0.0.5:40000->10.0.0.9:443"));
	assert_non_null(strstr(txt, "6 evt.type=close proc.name=worker proc.exepath=/bin/true"));
	assert_non_null(strstr(txt, "fd.name=/etc/hostname fd.num=3"));
	assert_null(strstr(txt, "\n8 ")); /* the entry event reached nobody, but kept its number */
	assert_non_null(strstr(txt, "\n9 evt.type=procexit"));

	/* a replay of a file whose event block is corrupt stops with the offset */
	uint8_t *data;
	size_t n = slurp(path, &data);
	struct cap_reader *cr;
	struct cap_block b;
	size_t ev_off = 0;
	assert_int_equal(cap_reader_open(path, &cr, err, sizeof(err)), 0);
	while (cap_reader_next(cr, &b, err, sizeof(err)) > 0)
		if (b.type == CAP_B_EVENT && !ev_off)
			ev_off = (size_t)b.offset;
	cap_reader_close(cr);
	data[ev_off + 8 + 16] ^= 0x40; /* the record's own length */
	char bad[300];
	path_of(bad, sizeof(bad), "badev.fcap");
	spit(bad, data, n);
	assert_int_equal(sc_source_new(&ro, &s, err, sizeof(err)), 0);
	assert_int_equal(sc_replay_open(s, bad, err, sizeof(err)), 0);
	while ((r = sc_replay_step(s, 100, err, sizeof(err))) > 0)
		;
	assert_int_equal(r, -EBADMSG);
	char want[64];
	snprintf(want, sizeof(want), "offset %zu: malformed", ev_off);
	if (!strstr(err, want))
		fail_msg("'%s' does not say '%s'", err, want);
	sc_source_free(s);
	free(data);
	strbuf_done(&live.sb);
	strbuf_done(&replay.sb);
	arena_done(&live.a);
	arena_done(&replay.a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),    cmocka_unit_test(test_tlv),
		cmocka_unit_test(test_corrupt_files), cmocka_unit_test(test_snap_apply_errors),
		cmocka_unit_test(test_record_replay),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
