/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the driver record decoder (falco/source/evt_decode.c), the event table and syscall_table:
 * synthetic records with every parameter type, rendering as upstream, and truncated/corrupt records rejected.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/strbuf.h"
#include "falco/engine/fields.h"
#include "falco/source/evt_decode.h"
#include "falco/source/syscall_table.h"

/* ---- a tiny record builder (what the BPF side does) ---- */

struct rb {
	uint8_t buf[EVT_MAX_SIZE + 64];
	uint32_t np, off;
};

static void rb_begin(struct rb *b, uint16_t type, uint8_t nparams)
{
	memset(b, 0, sizeof(*b));
	struct evt_hdr h = {.ts = 1700000000123456789ull,
			    .tid = 42,
			    .pid = 41,
			    .type = type,
			    .nparams = nparams};
	memcpy(b->buf, &h, sizeof(h));
	b->off = EVT_PARAMS_OFF(nparams);
}

static void rb_put(struct rb *b, const void *p, uint16_t len)
{
	memcpy(b->buf + EVT_LENS_OFF + 2 * b->np, &len, 2);
	if (len)
		memcpy(b->buf + b->off, p, len);
	b->off += len;
	b->np++;
}

static void rb_s64(struct rb *b, int64_t v)
{
	rb_put(b, &v, 8);
}

static void rb_u32(struct rb *b, uint32_t v)
{
	rb_put(b, &v, 4);
}

static void rb_u64(struct rb *b, uint64_t v)
{
	rb_put(b, &v, 8);
}

static void rb_u8(struct rb *b, uint8_t v)
{
	rb_put(b, &v, 1);
}

static void rb_str(struct rb *b, const char *s)
{
	rb_put(b, s, (uint16_t)(strlen(s) + 1));
}

static uint32_t rb_end(struct rb *b)
{
	memcpy(b->buf + offsetof(struct evt_hdr, len), &b->off, 4);
	return b->off;
}

static char *render(const struct evt_rec *r, const char *name)
{
	static char out[512];
	struct strbuf sb;
	int idx = evt_find(r, name);
	assert_true(idx >= 0);
	strbuf_init(&sb, 0);
	int k = evt_render_param(r, (unsigned)idx, &sb);
	assert_true(k >= 0);
	snprintf(out, sizeof(out), "%s", k ? strbuf_str(&sb) : "<absent>");
	strbuf_done(&sb);
	return out;
}

/* ---- tests ---- */

static void test_header_layout(void **state)
{
	assert_int_equal(sizeof(struct evt_hdr), 24);
	assert_int_equal(EVT_PARAMS_OFF(0), 24);
	assert_int_equal(EVT_PARAMS_OFF(1), 32);
	assert_int_equal(EVT_PARAMS_OFF(4), 32);
	assert_int_equal(EVT_PARAMS_OFF(5), 40);
	assert_int_equal(sizeof(struct evt_counters), 192);
}

static void test_openat_exit(void **state)
{
	static struct rb b;
	struct evt_rec r;
	rb_begin(&b, EVT_OPENAT_X, 7);
	rb_s64(&b, 3);
	rb_s64(&b, EVT_AT_FDCWD);
	rb_str(&b, "/etc/shadow");
	rb_u32(&b, EVT_O_WRONLY | EVT_O_CREAT | EVT_O_TRUNC | EVT_O_CLOEXEC | EVT_O_F_CREATED);
	rb_u32(&b, 0644);
	rb_u32(&b, 0x801);
	rb_u64(&b, 1234567);
	uint32_t len = rb_end(&b);

	assert_int_equal(evt_decode(b.buf, len, &r), 0);
	assert_int_equal(r.type, EVT_OPENAT_X);
	assert_int_equal(r.tid, 42);
	assert_int_equal(r.pid, 41);
	assert_string_equal(r.info->name, "openat");
	int64_t fd;
	assert_int_equal(evt_get_s64(&r, 0, &fd), 1);
	assert_int_equal(fd, 3);
	const char *s;
	size_t n;
	assert_int_equal(evt_get_str(&r, 2, &s, &n), 1);
	assert_string_equal(s, "/etc/shadow");
	assert_int_equal(n, 11);
	assert_int_equal(r.info->params[2].dirfd, 1);
	uint64_t ino;
	assert_int_equal(evt_get_u64(&r, 6, &ino), 1);
	assert_int_equal(ino, 1234567);
	/* type mismatch: a string is no integer */
	assert_int_equal(evt_get_u64(&r, 2, &ino), -EINVAL);
	assert_int_equal(evt_get_str(&r, 0, &s, &n), -EINVAL);

	assert_string_equal(render(&r, "flags"), "O_TRUNC|O_CREAT|O_WRONLY|O_CLOEXEC|O_F_CREATED");
	assert_string_equal(render(&r, "mode"), "0644");
	assert_string_equal(render(&r, "dirfd"), "-100");
	assert_string_equal(render(&r, "name"), "/etc/shadow");
	/* the record may sit in a larger buffer */
	assert_int_equal(evt_decode(b.buf, len + 16, &r), 0);
}

static void test_open_flags_rendering(void **state)
{
	struct strbuf sb;
	strbuf_init(&sb, 0);
	assert_int_equal(evt_render_flags(EVT_VS_OPEN_FLAGS, EVT_O_RDONLY, &sb), 0);
	assert_string_equal(strbuf_str(&sb), "O_RDONLY");
	strbuf_reset(&sb);
	evt_render_flags(EVT_VS_OPEN_FLAGS, EVT_O_RDWR | EVT_O_APPEND, &sb);
	assert_string_equal(strbuf_str(&sb), "O_APPEND|O_RDWR");
	strbuf_reset(&sb);
	evt_render_flags(EVT_VS_OPEN_FLAGS, EVT_O_TMPFILE | EVT_O_RDWR, &sb);
	assert_string_equal(strbuf_str(&sb), "O_TMPFILE|O_RDWR");
	strbuf_reset(&sb);
	evt_render_flags(EVT_VS_OPEN_FLAGS, EVT_O_SYNC | EVT_O_WRONLY, &sb);
	assert_string_equal(strbuf_str(&sb), "O_SYNC|O_WRONLY");
	strbuf_reset(&sb);
	evt_render_flags(EVT_VS_CLONE_FLAGS, EVT_CLONE_NEWUSER | EVT_CLONE_NEWNS, &sb);
	assert_string_equal(strbuf_str(&sb), "CLONE_NEWNS|CLONE_NEWUSER");
	strbuf_reset(&sb);
	evt_render_flags(EVT_VS_MODE, 04755, &sb);
	assert_string_equal(strbuf_str(&sb),
			    "S_IXOTH|S_IROTH|S_IXGRP|S_IRGRP|S_IXUSR|S_IWUSR|S_IRUSR|S_ISUID");
	strbuf_reset(&sb);
	evt_render_flags(EVT_VS_MOUNT_FLAGS, EVT_MS_BIND | EVT_MS_REC, &sb);
	assert_string_equal(strbuf_str(&sb), "BIND|REC");
	strbuf_reset(&sb);
	evt_render_flags(EVT_VS_PTRACE, EVT_PTRACE_ATTACH, &sb);
	assert_string_equal(strbuf_str(&sb), "PTRACE_ATTACH");
	strbuf_reset(&sb);
	evt_render_flags(EVT_VS_PTRACE, 0x7777, &sb);
	assert_string_equal(strbuf_str(&sb), "30583");
	strbuf_reset(&sb);
	evt_render_flags(EVT_VS_CLONE_FLAGS, 0, &sb);
	assert_string_equal(strbuf_str(&sb), "0");
	strbuf_done(&sb);
	assert_string_equal(evt_enum_name(EVT_VS_SOCKET_FAMILY, EVT_AF_PACKET), "AF_PACKET");
	assert_string_equal(evt_enum_name(EVT_VS_BPF_CMD, EVT_BPF_PROG_LOAD), "BPF_PROG_LOAD");
	assert_string_equal(evt_enum_name(EVT_VS_SIGNAL, 9), "SIGKILL");
	assert_null(evt_enum_name(EVT_VS_SIGNAL, 99));
}

static void test_connect_sockaddr_tuple(void **state)
{
	static struct rb b;
	struct evt_rec r;
	uint8_t tuple[13] = {EVT_AF_INET, 127, 0, 0, 1, 0, 0, 10, 0, 0, 2, 0, 0};
	uint16_t sport = 40000, dport = 443;
	memcpy(tuple + 5, &sport, 2);
	memcpy(tuple + 11, &dport, 2);
	uint8_t addr[7] = {EVT_AF_INET, 10, 0, 0, 2, 0, 0};
	memcpy(addr + 5, &dport, 2);

	rb_begin(&b, EVT_CONNECT_X, 4);
	rb_s64(&b, 0);
	rb_put(&b, tuple, sizeof(tuple));
	rb_s64(&b, 5);
	rb_put(&b, addr, sizeof(addr));
	uint32_t len = rb_end(&b);
	assert_int_equal(evt_decode(b.buf, len, &r), 0);

	struct evt_socktuple st;
	assert_int_equal(evt_get_socktuple(&r, 1, &st), 1);
	assert_int_equal(st.family, EVT_AF_INET);
	assert_int_equal(st.sport, 40000);
	assert_int_equal(st.dport, 443);
	assert_int_equal(st.dip[0], 10);
	struct evt_sockaddr sa;
	assert_int_equal(evt_get_sockaddr(&r, 3, &sa), 1);
	assert_int_equal(sa.port, 443);
	assert_string_equal(render(&r, "tuple"), "127.0.0.1:40000->10.0.0.2:443");
	assert_string_equal(render(&r, "addr"), "10.0.0.2:443");
	/* the wrong accessor is refused */
	assert_int_equal(evt_get_sockaddr(&r, 1, &sa), -EINVAL);

	/* a tuple whose length does not fit its family */
	rb_begin(&b, EVT_CONNECT_X, 4);
	rb_s64(&b, 0);
	rb_put(&b, tuple, 12);
	rb_s64(&b, 5);
	rb_put(&b, addr, sizeof(addr));
	len = rb_end(&b);
	assert_int_equal(evt_decode(b.buf, len, &r), 0);
	assert_int_equal(evt_get_socktuple(&r, 1, &st), -EBADMSG);

	/* unix sockaddr and tuple */
	uint8_t ua[] = {EVT_AF_UNIX, '/', 'r', 'u', 'n', '/', 's', 0};
	uint8_t ut[1 + 16 + 3] = {EVT_AF_UNIX};
	uint64_t id1 = 0xffff1111, id2 = 0xffff2222;
	memcpy(ut + 1, &id1, 8);
	memcpy(ut + 9, &id2, 8);
	memcpy(ut + 17, "@x", 3);
	rb_begin(&b, EVT_CONNECT_X, 4);
	rb_s64(&b, -2);
	rb_put(&b, ut, sizeof(ut));
	rb_s64(&b, 7);
	rb_put(&b, ua, sizeof(ua));
	len = rb_end(&b);
	assert_int_equal(evt_decode(b.buf, len, &r), 0);
	assert_string_equal(render(&r, "addr"), "/run/s");
	assert_string_equal(render(&r, "tuple"), "ffff1111->ffff2222 @x");
	assert_string_equal(render(&r, "res"), "-2");

	/* ipv6 */
	uint8_t a6[19] = {EVT_AF_INET6};
	a6[16] = 1;
	memcpy(a6 + 17, &dport, 2);
	rb_begin(&b, EVT_CONNECT_E, 2);
	rb_s64(&b, 3);
	rb_put(&b, a6, sizeof(a6));
	len = rb_end(&b);
	assert_int_equal(evt_decode(b.buf, len, &r), 0);
	assert_true(r.info->flags & EVT_INFO_ENTER);
	assert_string_equal(render(&r, "addr"), "::1:443");
}

static void test_exec_and_absent_params(void **state)
{
	static struct rb b;
	struct evt_rec r;
	const struct evt_info *info = evt_info(EVT_EXECVE_X);
	assert_non_null(info);
	rb_begin(&b, EVT_EXECVE_X, info->nparams);
	for (unsigned i = 0; i < info->nparams; i++) {
		const char *n = info->params[i].name;
		if (streq(n, "res"))
			rb_s64(&b, 0);
		else if (streq(n, "exe"))
			rb_str(&b, "/bin/true");
		else if (streq(n, "args"))
			rb_put(&b, "-a\0b c\0", 7);
		else if (streq(n, "flags"))
			rb_u32(&b, EVT_EXE_FROM_MEMFD | EVT_EXE_UPPER_LAYER);
		else if (streq(n, "env"))
			rb_put(&b, NULL, 0); /* absent: not captured */
		else if (streq(n, "loginuid"))
			rb_u32(&b, 1000);
		else
			rb_put(&b, NULL, 0);
	}
	uint32_t len = rb_end(&b);
	assert_int_equal(evt_decode(b.buf, len, &r), 0);
	assert_string_equal(render(&r, "exe"), "/bin/true");
	assert_string_equal(render(&r, "args"), "-a.b c.");
	assert_string_equal(render(&r, "flags"), "EXE_UPPER_LAYER|EXE_FROM_MEMFD");
	assert_string_equal(render(&r, "env"), "<absent>");
	assert_string_equal(render(&r, "loginuid"), "1000");
	const char *s;
	size_t n;
	assert_int_equal(evt_get_str(&r, (unsigned)evt_find(&r, "cwd"), &s, &n), 0);
	const uint8_t *buf;
	assert_int_equal(evt_get_buf(&r, 2, &buf, &n), 1);
	assert_int_equal(n, 7);
	assert_int_equal(evt_find(&r, "nosuch"), -ENOENT);
}

static void test_generic_and_extra_params(void **state)
{
	static struct rb b;
	struct evt_rec r;
	uint16_t id = 4; /* stat */
	rb_begin(&b, EVT_GENERIC_BASE + 4, 2);
	rb_put(&b, &id, 2);
	rb_s64(&b, 0);
	uint32_t len = rb_end(&b);
	assert_int_equal(evt_decode(b.buf, len, &r), 0);
	assert_true(r.info->flags & EVT_INFO_GENERIC);
	assert_string_equal(render(&r, "id"), "stat");
	assert_string_equal(evt_type_name(r.type), "stat");

	/* a newer driver appended a parameter: accepted, the extra one is not described */
	rb_begin(&b, EVT_CLOSE_X, 3);
	rb_s64(&b, 0);
	rb_s64(&b, 9);
	rb_u8(&b, 1);
	len = rb_end(&b);
	assert_int_equal(evt_decode(b.buf, len, &r), 0);
	uint64_t u;
	assert_int_equal(evt_get_u64(&r, 2, &u), 0);
	assert_int_equal(evt_get_u64(&r, 7, &u), 0);

	/* an unknown event type is well formed but not decodable */
	rb_begin(&b, 120, 1);
	rb_u8(&b, 1);
	len = rb_end(&b);
	assert_int_equal(evt_decode(b.buf, len, &r), -ENOMSG);
}

static void test_corrupt_records(void **state)
{
	static struct rb b;
	struct evt_rec r;
	rb_begin(&b, EVT_UNLINK_X, 2);
	rb_s64(&b, 0);
	rb_str(&b, "/tmp/x");
	uint32_t len = rb_end(&b);
	assert_int_equal(evt_decode(b.buf, len, &r), 0);

	/* every truncation is rejected */
	for (uint32_t l = 0; l < len; l++)
		assert_int_equal(evt_decode(b.buf, l, &r), -EBADMSG);
	assert_int_equal(evt_decode(NULL, 100, &r), -EBADMSG);

	static struct rb c;
	/* header len larger than the record's params */
	memcpy(&c, &b, sizeof(b));
	uint32_t big = len + 8;
	memcpy(c.buf + offsetof(struct evt_hdr, len), &big, 4);
	assert_int_equal(evt_decode(c.buf, sizeof(c.buf), &r), -EBADMSG);
	/* header len below the header */
	uint32_t small = 8;
	memcpy(c.buf + offsetof(struct evt_hdr, len), &small, 4);
	assert_int_equal(evt_decode(c.buf, sizeof(c.buf), &r), -EBADMSG);
	/* header len above the maximum event size */
	uint32_t huge = EVT_MAX_SIZE + 8;
	memcpy(c.buf + offsetof(struct evt_hdr, len), &huge, 4);
	assert_int_equal(evt_decode(c.buf, sizeof(c.buf), &r), -EBADMSG);

	/* a param length pointing past the record */
	memcpy(&c, &b, sizeof(b));
	uint16_t l1 = 200;
	memcpy(c.buf + EVT_LENS_OFF + 2, &l1, 2);
	assert_int_equal(evt_decode(c.buf, len, &r), -EBADMSG);
	/* lengths that do not add up to the record */
	l1 = 3;
	memcpy(c.buf + EVT_LENS_OFF + 2, &l1, 2);
	assert_int_equal(evt_decode(c.buf, len, &r), -EBADMSG);

	/* a string without its NUL */
	memcpy(&c, &b, sizeof(b));
	c.buf[len - 1] = 'x';
	assert_int_equal(evt_decode(c.buf, len, &r), -EBADMSG);

	/* a fixed-size param with the wrong size */
	rb_begin(&c, EVT_CLOSE_X, 2);
	rb_s64(&c, 0);
	rb_u32(&c, 9);
	len = rb_end(&c);
	assert_int_equal(evt_decode(c.buf, len, &r), -EBADMSG);

	/* fewer params than the table lists */
	rb_begin(&c, EVT_CLOSE_X, 1);
	rb_s64(&c, 0);
	len = rb_end(&c);
	assert_int_equal(evt_decode(c.buf, len, &r), -EBADMSG);

	/* too many params */
	rb_begin(&c, EVT_CLOSE_X, 2);
	rb_s64(&c, 0);
	rb_s64(&c, 1);
	len = rb_end(&c);
	c.buf[offsetof(struct evt_hdr, nparams)] = EVT_MAX_PARAMS + 1;
	assert_int_equal(evt_decode(c.buf, sizeof(c.buf), &r), -EBADMSG);

	/* random garbage never crashes and never yields out-of-bounds offsets */
	srand(1);
	for (int it = 0; it < 20000; it++) {
		uint8_t g[256];
		for (size_t i = 0; i < sizeof(g); i++)
			g[i] = (uint8_t)rand();
		uint32_t gl = (uint32_t)(rand() % (int)sizeof(g));
		memcpy(g + offsetof(struct evt_hdr, len), &gl, 4);
		g[offsetof(struct evt_hdr, nparams)] %= 8;
		uint16_t ty = (uint16_t)(rand() % EVT_TYPE_MAX);
		memcpy(g + offsetof(struct evt_hdr, type), &ty, 2);
		if (evt_decode(g, sizeof(g), &r) == 0) {
			for (unsigned i = 0; i < r.nparams; i++)
				assert_true(r.offs[i] + r.lens[i] <= r.len);
			struct strbuf sb;
			strbuf_init(&sb, 0);
			for (unsigned i = 0; i < r.nparams; i++)
				assert_true(evt_render_param(&r, i, &sb) >= 0 || true);
			strbuf_done(&sb);
		}
	}
}

static void test_syscall_table(void **state)
{
	uint16_t codes[8];
	assert_int_equal(evt_syscall_nr("openat"), 257);
	assert_string_equal(evt_syscall_name(59), "execve");
	assert_string_equal(evt_syscall_name(469), "file_setattr");
	assert_null(evt_syscall_name(600));
	assert_int_equal(evt_syscall_nr("nosuch"), -ENOENT);

	assert_int_equal(evt_type_codes("openat", codes, 8), 2);
	assert_int_equal(codes[0], EVT_OPENAT_E);
	assert_int_equal(codes[1], EVT_OPENAT_X);
	assert_int_equal(evt_type_codes("procexit", codes, 8), 1);
	assert_int_equal(codes[0], EVT_PROCEXIT);
	assert_int_equal(evt_type_codes("stat", codes, 8), 1);
	assert_int_equal(codes[0], EVT_GENERIC_BASE + 4);
	assert_int_equal(evt_type_codes("pread", codes, 8), 1);
	assert_int_equal(codes[0], EVT_GENERIC_BASE + 17);
	assert_int_equal(evt_type_codes("switch", codes, 8), 0);
	assert_int_equal(evt_type_codes("stat64", codes, 8), 0);
	assert_int_equal(evt_type_codes("nosuchsyscall", codes, 8), -ENOENT);

	/* every x86_64 syscall name is a valid evt.type and names back to itself */
	for (uint32_t nr = 0; nr < EVT_SYSCALL_MAX; nr++) {
		const char *n = evt_syscall_name(nr);
		if (!n)
			continue;
		int k = evt_type_codes(n, codes, 8);
		assert_true(k >= 1);
		for (int i = 0; i < k; i++)
			assert_string_equal(evt_type_name(codes[i]), n);
	}
	/* every name upstream rules use (rules-language.md §3) */
	static const char *const used[] = {
		"accept",    "accept4",	     "bpf",	    "chmod",	"connect",     "creat",
		"dup",	     "dup2",	     "dup3",	    "execve",	"execveat",    "fchmod",
		"fchmodat",  "finit_module", "init_module", "link",	"linkat",      "listen",
		"mkdir",     "mkdirat",	     "open",	    "openat",	"openat2",     "ptrace",
		"recvfrom",  "recvmsg",	     "rename",	    "renameat", "renameat2",   "rmdir",
		"sendmsg",   "sendto",	     "setns",	    "setuid",	"socket",      "symlink",
		"symlinkat", "unlink",	     "unlinkat",    "unshare",	"userfaultfd",
	};
	for (size_t i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		int k = evt_type_codes(used[i], codes, 8);
		assert_true(k >= 1);
		assert_true(codes[k - 1] <
			    _EVT_TYPE_DEDICATED_MAX); /* all have a dedicated event */
	}

	/* event type -> syscall */
	uint32_t nr;
	uint8_t how;
	assert_int_equal(evt_type_syscall(EVT_OPEN_E, &nr, &how), 1);
	assert_int_equal(nr, 2);
	assert_int_equal(how, EVT_SC_ENTER);
	assert_int_equal(evt_type_syscall(EVT_CLOSE_X, &nr, &how), 1);
	assert_int_equal(nr, 3);
	assert_int_equal(how, EVT_SC_EXIT);
	assert_int_equal(evt_type_syscall(EVT_PROCEXIT, &nr, &how), 0);
	assert_int_equal(evt_type_syscall(EVT_GENERIC_BASE + 4, &nr, &how), 1);
	assert_int_equal(nr, 4);
	assert_int_equal(evt_type_syscall(7, &nr, &how), -EINVAL);

	/* interesting-syscalls array from a bitmap */
	uint64_t bits[EVT_TYPE_WORDS] = {0};
	uint8_t sc[EVT_SYSCALL_MAX];
	evt_bit_set(bits, EVT_TYPE_WORDS, EVT_OPEN_E);
	evt_bit_set(bits, EVT_TYPE_WORDS, EVT_OPEN_X);
	evt_bit_set(bits, EVT_TYPE_WORDS, EVT_GENERIC_BASE + 4);
	assert_int_equal(evt_type_interesting(bits, EVT_TYPE_WORDS, true, sc), 2);
	assert_int_equal(sc[2], EVT_SC_ENTER | EVT_SC_EXIT);
	assert_int_equal(sc[4], EVT_SC_EXIT);
	assert_int_equal(evt_type_interesting(bits, EVT_TYPE_WORDS, false, sc), 2);
	assert_int_equal(sc[2], EVT_SC_EXIT);
	memset(bits, 0, sizeof(bits));
	evt_type_base_set(bits, EVT_TYPE_WORDS);
	assert_true(evt_type_interesting(bits, EVT_TYPE_WORDS, false, sc) > 30);
	assert_int_equal(sc[3], EVT_SC_EXIT); /* close */

	/* every dedicated event has a name, a category and a syscall (but procexit) */
	for (uint16_t t = 1; t < _EVT_TYPE_DEDICATED_MAX; t++) {
		const struct evt_info *info = evt_info(t);
		if (!info)
			continue;
		assert_true(info->nparams <= EVT_MAX_PARAMS);
		assert_true(info->category < _EVT_CAT_MAX);
		if (t != EVT_PROCEXIT)
			assert_int_equal(evt_type_syscall(t, &nr, &how), 1);
		for (unsigned i = 0; i < info->nparams; i++) {
			const struct evt_param_info *p = &info->params[i];
			assert_true(p->type > EVT_PT_NONE && p->type < _EVT_PT_MAX);
			if (p->type == EVT_PT_FSRELPATH)
				assert_int_equal(info->params[p->dirfd].type, EVT_PT_FD);
		}
	}
}

static void test_src_syscall(void **state)
{
	uint16_t codes[8];
	assert_string_equal(src_syscall.name, "syscall");
	assert_int_equal(src_syscall.nevttypes, EVT_TYPE_MAX);
	assert_int_equal(src_syscall.evttype_codes("execve", codes, 8), 1);
	assert_string_equal(src_syscall.evttype_name(codes[0]), "execve");
	const char *arg = NULL;
	assert_non_null(src_syscall.tables[0]);
	int found = 0;
	for (const struct fld_table *const *t = src_syscall.tables; *t; t++)
		for (size_t i = 0; i < (*t)->n; i++)
			if (streq((*t)->defs[i].name, "evt.type"))
				found = (*t)->defs[i].flags & FLD_EVTTYPE ? 1 : 0;
	assert_int_equal(found, 1);
	(void)arg;

	struct evt e = {.type = EVT_CONNECT_X};
	struct fld_ctx ctx = {.evt = &e};
	struct value v;
	const struct fld_def *def = NULL;
	for (const struct fld_table *const *t = src_syscall.tables; *t && !def; t++)
		for (size_t i = 0; i < (*t)->n; i++)
			if (streq((*t)->defs[i].name, "evt.type"))
				def = &(*t)->defs[i];
	assert_non_null(def);
	struct fld_inst fi = {.def = def, .arg_num = -1};
	assert_int_equal(def->extract(&ctx, &fi, &v), 1);
	assert_string_equal(v.str, "connect");
	assert_int_equal(v.len, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_layout),
		cmocka_unit_test(test_openat_exit),
		cmocka_unit_test(test_open_flags_rendering),
		cmocka_unit_test(test_connect_sockaddr_tuple),
		cmocka_unit_test(test_exec_and_absent_params),
		cmocka_unit_test(test_generic_and_extra_params),
		cmocka_unit_test(test_corrupt_records),
		cmocka_unit_test(test_syscall_table),
		cmocka_unit_test(test_src_syscall),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
