// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
/*
 * sys_exit handlers for process, credential and privileged syscalls (tail-called by handle_sys_exit). Successful
 * execve/execveat are reported by sched_process_exec (sched.bpf.c); here only their failures.
 */
#include "helpers.bpf.h"

#define EXECVE_NPARAMS	   30
#define EXECVE_FILENAME_IX 23

SYS_EXIT(execve)
{
	struct evb b;

	if (ret == 0)
		return 0; /* reported by sched_process_exec */
	if (evb_var(&b, EVT_EXECVE_X, EXECVE_NPARAMS, EVT_CAT_EXEC))
		return 0;
	evb_s64(&b, ret);
	for (int i = 1; i < EXECVE_FILENAME_IX; i++)
		evb_empty(&b);
	evb_user_str(&b, (const void *)SC_ARG0(regs));
	for (int i = EXECVE_FILENAME_IX + 1; i < EXECVE_NPARAMS; i++)
		evb_empty(&b);
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(execveat)
{
	struct evb b;

	if (ret == 0)
		return 0;
	if (evb_var(&b, EVT_EXECVEAT_X, 4, EVT_CAT_EXEC))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_user_str(&b, (const void *)SC_ARG1(regs));
	evb_u32(&b, (__u32)SC_ARG4(regs));
	evb_submit_var(&b);
	return 0;
}

/* Both sides of a fork: the parent (res = child tid) and the child (res = 0), each describing itself. */
static __always_inline int clone_common(long ret, __u16 type, __u32 flags)
{
	struct task_struct *t = bpf_get_current_task_btf();
	const struct cred *cred = t->cred;
	struct evb b;

	if (evb_fixed(&b, type, 10, EVB_SIZE(10, 76), EVT_CAT_CLONE))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, t->pid);
	evb_s64(&b, t->tgid);
	evb_s64(&b, t->real_parent->tgid);
	evb_u32(&b, flags);
	evb_u32(&b, cred->euid.val);
	evb_u32(&b, cred->egid.val);
	evb_s64(&b, pid_vnr(t->thread_pid));
	evb_s64(&b, pid_vnr(task_pidtype(t, bpf_core_enum_value(enum pid_type, PIDTYPE_TGID))));
	if (bpf_get_current_comm(EVB_AT(&b), EVT_COMM_LEN))
		b.cnt->n_read_fail++;
	evb_len(&b, EVT_COMM_LEN);
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(clone)
{
	return clone_common(ret, EVT_CLONE_X, (__u32)SC_ARG0(regs));
}

SYS_EXIT(clone3)
{
	__u64 flags = 0;

	bpf_probe_read_user(&flags, sizeof(flags), (const void *)SC_ARG0(regs));
	return clone_common(ret, EVT_CLONE3_X, (__u32)flags);
}

SYS_EXIT(fork)
{
	return clone_common(ret, EVT_FORK_X, 17 /* SIGCHLD */);
}

SYS_EXIT(vfork)
{
	return clone_common(ret, EVT_VFORK_X, EVT_CLONE_VM | EVT_CLONE_VFORK | 17);
}

static __always_inline int res_u32(long ret, __u16 type, __u32 v)
{
	struct evb b;

	if (evb_fixed(&b, type, 2, EVB_SIZE(2, 12), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_u32(&b, v);
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(setuid)
{
	return res_u32(ret, EVT_SETUID_X, (__u32)SC_ARG0(regs));
}

SYS_EXIT(setgid)
{
	return res_u32(ret, EVT_SETGID_X, (__u32)SC_ARG0(regs));
}

SYS_EXIT(unshare)
{
	return res_u32(ret, EVT_UNSHARE_X, (__u32)SC_ARG0(regs));
}

/* (res, then the first n arguments as u32): setreuid/setregid (real, effective), setres[ug]id (+ saved) */
static __always_inline int res_u32_args(struct pt_regs *regs, long ret, __u16 type, const int n)
{
	struct evb b;

	if (evb_fixed(&b, type, n + 1, EVB_SIZE(n + 1, 8 + 4 * n), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_u32(&b, (__u32)SC_ARG0(regs));
	evb_u32(&b, (__u32)SC_ARG1(regs));
	if (n > 2)
		evb_u32(&b, (__u32)SC_ARG2(regs));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(setreuid)
{
	return res_u32_args(regs, ret, EVT_SETREUID_X, 2);
}

SYS_EXIT(setregid)
{
	return res_u32_args(regs, ret, EVT_SETREGID_X, 2);
}

SYS_EXIT(setresuid)
{
	return res_u32_args(regs, ret, EVT_SETRESUID_X, 3);
}

SYS_EXIT(setresgid)
{
	return res_u32_args(regs, ret, EVT_SETRESGID_X, 3);
}

SYS_EXIT(setns)
{
	struct evb b;

	if (evb_fixed(&b, EVT_SETNS_X, 3, EVB_SIZE(3, 20), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(ptrace)
{
	struct evb b;

	if (evb_fixed(&b, EVT_PTRACE_X, 5, EVB_SIZE(5, 36), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_u64(&b, SC_ARG2(regs));
	evb_u64(&b, SC_ARG3(regs));
	evb_u32(&b, (__u32)SC_ARG0(regs));
	evb_s64(&b, SC_FD(SC_ARG1(regs)));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(init_module)
{
	struct evb b;

	if (evb_var(&b, EVT_INIT_MODULE_X, 4, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_empty(&b); /* the image itself is not captured */
	evb_u64(&b, SC_ARG1(regs));
	evb_user_str(&b, (const void *)SC_ARG2(regs));
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(finit_module)
{
	struct evb b;

	if (evb_var(&b, EVT_FINIT_MODULE_X, 4, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_user_str(&b, (const void *)SC_ARG1(regs));
	evb_u32(&b, (__u32)SC_ARG2(regs));
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(bpf)
{
	struct evb b;

	if (evb_fixed(&b, EVT_BPF_X, 2, EVB_SIZE(2, 12), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_u32(&b, (__u32)SC_ARG0(regs));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(prctl)
{
	__u32 option = (__u32)SC_ARG0(regs);
	struct evb b;

	if (evb_var(&b, EVT_PRCTL_X, 4, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_u32(&b, option);
	if (option == EVT_PR_SET_NAME || option == EVT_PR_GET_NAME)
		evb_user_str(&b, (const void *)SC_ARG1(regs));
	else
		evb_empty(&b);
	evb_s64(&b, (__s64)SC_ARG1(regs));
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(capset)
{
	const struct cred *cred = bpf_get_current_task_btf()->cred;
	struct evb b;

	if (evb_fixed(&b, EVT_CAPSET_X, 4, EVB_SIZE(4, 32), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_u64(&b, read_cap(&cred->cap_inheritable));
	evb_u64(&b, read_cap(&cred->cap_permitted));
	evb_u64(&b, read_cap(&cred->cap_effective));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(kill)
{
	struct evb b;

	if (evb_fixed(&b, EVT_KILL_X, 3, EVB_SIZE(3, 17), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_u8(&b, (__u8)SC_ARG1(regs));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(setsid)
{
	struct evb b;

	if (evb_fixed(&b, EVT_SETSID_X, 1, EVB_SIZE(1, 8), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(setpgid)
{
	struct evb b;

	if (evb_fixed(&b, EVT_SETPGID_X, 3, EVB_SIZE(3, 24), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_s64(&b, SC_FD(SC_ARG1(regs)));
	evb_submit_fixed(&b);
	return 0;
}
