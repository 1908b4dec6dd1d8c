// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
/*
 * The sys_exit dispatcher: one array lookup rejects uninteresting syscalls; interesting ones tail-call their
 * handler (exit_progs[id]) or, without one, produce a generic event. close, the most frequent event of all, is
 * built here without a tail call (measured ~18 ns less per event). Also holds the tunables and the ABI version.
 */
#include "helpers.bpf.h"

const volatile __u32 cfg_self_tgid = 0;
const volatile __u32 cfg_self_ns_ino = 0;
const volatile __u32 cfg_self_ns_tgid = 0;
__u32 self_host_tgid = 0;
const volatile __u64 cfg_boot_ns = 0;
const volatile __u32 cfg_flags = 0;
const volatile __u32 cfg_snaplen = EVT_DEFAULT_SNAPLEN;
const volatile __u32 cfg_wakeup_bytes = 0;
/* read by user space to refuse a driver built against another contract */
const volatile __u32 falco_driver_abi = FALCO_DRIVER_ABI_VERSION;

#define NR_CLOSE 3

static __always_inline void exit_close(struct pt_regs *regs, long ret)
{
	struct evb b;

	if (evb_fixed(&b, EVT_CLOSE_X, 2, EVB_SIZE(2, 16), EVT_CAT_CLOSE))
		return;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_submit_fixed(&b);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(handle_sys_exit, struct pt_regs *regs, long ret)
{
	__u32 id = (__u32)regs->orig_ax;
	struct evb b;

	if (id >= EVT_SYSCALL_MAX || !sc_interesting(id, EVT_SC_EXIT))
		return 0;
	/* one helper call for both checks: our own threads, and ia32 compat syscalls (their ids are not ours) */
	struct task_struct *t = bpf_get_current_task_btf();
	if (is_self_task(t))
		return 0;
	if (bpf_core_field_exists(t->thread_info.status) && (t->thread_info.status & K_TS_COMPAT)) {
		struct evt_counters *c = get_counters();
		if (c)
			c->n_compat_skip++;
		return 0;
	}
	if ((cfg_flags & EVT_CFG_DROP_FAILED) && ret < 0)
		return 0;
	/* the header's pid/tid and the fd readers' task, without a helper call in the handler */
	cpu_ctx_set(((__u64)t->tgid << 32) | (__u32)t->pid, t);
	if (id == NR_CLOSE) {
		exit_close(regs, ret);
		return 0;
	}
	bpf_tail_call(ctx, &exit_progs, id);

	/* no dedicated handler: a generic event */
	if (evb_fixed(&b, EVT_GENERIC_BASE + id, 2, EVB_SIZE(2, 10), EVT_CAT_OTHER))
		return 0;
	evb_u16(&b, (__u16)id);
	evb_s64(&b, ret);
	evb_submit_fixed(&b);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
