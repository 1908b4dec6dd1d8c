// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
/*
 * Entry events for time-of-check/time-of-use safety: the path (or address) an open/openat/openat2/creat/connect
 * is called with, read before the kernel acts on it. These are the per-syscall tracepoints (syscalls/sys_enter_*):
 * they run only for their syscall, so other syscalls pay no BPF program (a tp_btf sys_enter program would run on
 * every syscall). fentry would be cheaper still but is refused on some kernels (this one included). User space
 * attaches them through tracefs ids, only when entry events are enabled; a syscall also needs EVT_SC_ENTER in the
 * interesting map. ia32 compat syscalls do not fire these tracepoints.
 */
#include "helpers.bpf.h"

/* The record of a syscalls/sys_enter_* tracepoint (stable layout, see its tracefs "format" file) */
struct sys_enter_ctx {
	__u64 common;
	__s32 nr;
	__u32 pad;
	__u64 args[6];
};

#define NR_OPEN	   2
#define NR_CREAT   85
#define NR_CONNECT 42
#define NR_OPENAT  257
#define NR_OPENAT2 437

static __always_inline bool want_enter(__u32 nr)
{
	if (!sc_interesting(nr, EVT_SC_ENTER) || is_self())
		return false;
	cpu_ctx_set(bpf_get_current_pid_tgid(), NULL); /* no fd readers here */
	return true;
}

SEC("tracepoint/syscalls/sys_enter_open")
int handle_enter_open(struct sys_enter_ctx *ctx)
{
	struct evb b;

	if (!want_enter(NR_OPEN) || evb_var(&b, EVT_OPEN_E, 3, EVT_CAT_OPEN))
		return 0;
	evb_user_str(&b, (const void *)ctx->args[0]);
	evb_u32(&b, (__u32)ctx->args[1]);
	evb_u32(&b, (__u32)ctx->args[2]);
	evb_submit_var(&b);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int handle_enter_openat(struct sys_enter_ctx *ctx)
{
	struct evb b;

	if (!want_enter(NR_OPENAT) || evb_var(&b, EVT_OPENAT_E, 4, EVT_CAT_OPEN))
		return 0;
	evb_s64(&b, SC_FD(ctx->args[0]));
	evb_user_str(&b, (const void *)ctx->args[1]);
	evb_u32(&b, (__u32)ctx->args[2]);
	evb_u32(&b, (__u32)ctx->args[3]);
	evb_submit_var(&b);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int handle_enter_openat2(struct sys_enter_ctx *ctx)
{
	struct open_how how = {};
	struct evb b;

	if (!want_enter(NR_OPENAT2) || evb_var(&b, EVT_OPENAT2_E, 5, EVT_CAT_OPEN))
		return 0;
	if (bpf_probe_read_user(&how, sizeof(how), (const void *)ctx->args[2]))
		b.cnt->n_read_fail++;
	evb_s64(&b, SC_FD(ctx->args[0]));
	evb_user_str(&b, (const void *)ctx->args[1]);
	evb_u32(&b, (__u32)how.flags);
	evb_u32(&b, (__u32)how.mode);
	evb_u32(&b, (__u32)how.resolve);
	evb_submit_var(&b);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_creat")
int handle_enter_creat(struct sys_enter_ctx *ctx)
{
	struct evb b;

	if (!want_enter(NR_CREAT) || evb_var(&b, EVT_CREAT_E, 2, EVT_CAT_OPEN))
		return 0;
	evb_user_str(&b, (const void *)ctx->args[0]);
	evb_u32(&b, (__u32)ctx->args[1]);
	evb_submit_var(&b);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int handle_enter_connect(struct sys_enter_ctx *ctx)
{
	struct evb b;

	if (!want_enter(NR_CONNECT) || evb_var(&b, EVT_CONNECT_E, 2, EVT_CAT_CONNECT))
		return 0;
	evb_s64(&b, SC_FD(ctx->args[0]));
	evb_user_sockaddr(&b, (const void *)ctx->args[1], ctx->args[2]);
	evb_submit_var(&b);
	return 0;
}
