// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
/*
 * Process lifecycle tracepoints: sched_process_exec builds the execve event of every successful execve/execveat
 * (with what the process table needs), sched_process_exit reports every user thread's exit.
 */
#include "helpers.bpf.h"

#define K_SB_RDONLY	   1
#define K_S_IMMUTABLE	   8
#define K_CAP_DAC_OVERRIDE 1
#define K_S_IWUSR	   0200
#define K_S_IWGRP	   0020
#define K_S_IWOTH	   0002
#define CGROUP_PATH_MAX	   512

/* Kernel structure flavors (CO-RE picks the one that exists) */
struct kernfs_node___old {
	struct kernfs_node *parent;
} __attribute__((preserve_access_index));

struct kernfs_node___new {
	struct kernfs_node *__parent;
} __attribute__((preserve_access_index));

struct inode___v611 {
	time64_t i_ctime_sec;
	u32 i_ctime_nsec;
	time64_t i_mtime_sec;
	u32 i_mtime_nsec;
} __attribute__((preserve_access_index));

struct inode___v66 {
	struct timespec64 __i_ctime;
	struct timespec64 __i_mtime;
} __attribute__((preserve_access_index));

struct inode___old {
	struct timespec64 i_ctime;
	struct timespec64 i_mtime;
} __attribute__((preserve_access_index));

struct ovl_inode___k {
	struct inode vfs_inode;
	struct dentry *__upperdentry;
} __attribute__((preserve_access_index));

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(((struct kernfs_node___new *)0)->__parent))
		return BPF_CORE_READ((struct kernfs_node___new *)kn, __parent);
	return BPF_CORE_READ((struct kernfs_node___old *)kn, parent);
}

static __always_inline __u8 *tmp_area(void)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct scratch *s = bpf_map_lookup_elem(&scratch, &cpu);
	return s ? s->data + SCRATCH_TMP_BASE : NULL;
}

/*
 * Rebuilds the path of (dentry, vfsmnt) as seen from (root_dentry, root_mnt) like d_path(): walks up to
 * EVT_MAX_PATH_DEPTH dentries, crossing mount points, writing the names backwards into this CPU's temporary
 * scratch area. Returns where the string starts (it ends with a NUL at SCRATCH_TMP_MASK), or -1. A path deeper or
 * longer than the limits keeps its last components. Global (not inlined) so the verifier checks it once.
 */
__noinline int walk_path(__u64 dentry_p, __u64 vfsmnt_p, __u64 root_dentry_p, __u64 root_mnt_p)
{
	struct dentry *dentry = (struct dentry *)dentry_p, *parent, *mnt_root;
	struct vfsmount *vfsmnt = (struct vfsmount *)vfsmnt_p;
	__u32 mnt_off = bpf_core_field_offset(struct mount, mnt);
	__u32 pos = SCRATCH_TMP_MASK;
	struct mount *mnt;
	__u8 *tmp = tmp_area();

	if (!tmp || !dentry || !vfsmnt)
		return -1;
	mnt = (struct mount *)((__u8 *)vfsmnt - mnt_off);
	mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
	tmp[SCRATCH_TMP_MASK] = 0;
	for (int i = 0; i < EVT_MAX_PATH_DEPTH; i++) {
		/* forget pos's exact range so the verifier can merge the states of different paths */
		barrier_var(pos);
		pos &= SCRATCH_TMP_MASK;
		if ((__u64)dentry == root_dentry_p && (__u64)vfsmnt == root_mnt_p)
			break;
		parent = BPF_CORE_READ(dentry, d_parent);
		if (dentry == mnt_root || dentry == parent) {
			struct mount *mp = BPF_CORE_READ(mnt, mnt_parent);
			if (dentry == parent && dentry != mnt_root && pos == SCRATCH_TMP_MASK) {
				/* a pseudo file (memfd, pipe...): its own name, as d_path's d_dname gives */
				struct qstr q = BPF_CORE_READ(dentry, d_name);
				__u32 len = q.len & 255;
				pos -= len;
				bpf_probe_read_kernel(&tmp[pos & SCRATCH_TMP_MASK], len, q.name);
				pos--;
				tmp[pos & SCRATCH_TMP_MASK] = '/';
				break;
			}
			if (dentry != mnt_root || !mp || mp == mnt)
				break; /* the global root, or a detached mount */
			dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
			mnt = mp;
			vfsmnt = (struct vfsmount *)((__u8 *)mnt + mnt_off);
			mnt_root = BPF_CORE_READ(vfsmnt, mnt_root);
			continue;
		}
		struct qstr q = BPF_CORE_READ(dentry, d_name);
		__u32 len = q.len & 255;
		if (SCRATCH_TMP_MASK - pos + len + 2 > EVT_MAX_PATH)
			break; /* would not fit EVT_MAX_PATH: keep what we have */
		pos -= len;
		bpf_probe_read_kernel(&tmp[pos & SCRATCH_TMP_MASK], len, q.name);
		pos--;
		tmp[pos & SCRATCH_TMP_MASK] = '/';
		dentry = parent;
	}
	if (pos == SCRATCH_TMP_MASK) {
		pos--;
		tmp[pos & SCRATCH_TMP_MASK] = '/';
	}
	return (int)pos;
}

/* The same for a kernfs node (cgroup directories), up to (excluding) the hierarchy's root. */
__noinline int walk_kernfs(__u64 kn_p)
{
	struct kernfs_node *kn = (struct kernfs_node *)kn_p;
	__u32 pos = SCRATCH_TMP_MASK;
	__u8 *tmp = tmp_area();

	if (!tmp || !kn)
		return -1;
	__u8 *stage = tmp + SCRATCH_TMP_MASK + 1;
	tmp[SCRATCH_TMP_MASK] = 0;
	for (int i = 0; i < EVT_MAX_PATH_DEPTH; i++) {
		barrier_var(pos);
		pos &= SCRATCH_TMP_MASK;
		struct kernfs_node *parent = kn_parent(kn);
		if (!parent)
			break;
		long n = bpf_probe_read_kernel_str(stage, 256, BPF_CORE_READ(kn, name));
		if (n <= 1)
			break;
		__u32 len = (__u32)(n - 1) & 255;
		if (SCRATCH_TMP_MASK - pos + len + 2 > CGROUP_PATH_MAX)
			break;
		pos -= len;
		bpf_probe_read_kernel(&tmp[pos & SCRATCH_TMP_MASK], len, stage);
		pos--;
		tmp[pos & SCRATCH_TMP_MASK] = '/';
		kn = parent;
	}
	if (pos == SCRATCH_TMP_MASK) {
		pos--;
		tmp[pos & SCRATCH_TMP_MASK] = '/';
	}
	return (int)pos;
}

static __always_inline void evb_path(struct evb *b, struct dentry *dentry, struct vfsmount *mnt,
				     const struct path *root)
{
	if (!dentry || !mnt) {
		evb_empty(b);
		return;
	}
	evb_tmp_str(b, walk_path((__u64)dentry, (__u64)mnt,
				 root ? (__u64)BPF_CORE_READ(root, dentry) : 0,
				 root ? (__u64)BPF_CORE_READ(root, mnt) : 0));
}

static __always_inline void evb_file_path(struct evb *b, struct file *f, const struct path *root)
{
	if (!f) {
		evb_empty(b);
		return;
	}
	evb_path(b, BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_path.mnt), root);
}

static __always_inline __u64 ts_ns(__s64 sec, __u32 nsec)
{
	return (__u64)sec * 1000000000ull + nsec;
}

static __always_inline __u64 inode_ctime(struct inode *i)
{
	/* since 6.13 the top bit of i_ctime_nsec flags a queried ctime (multigrain timestamps) */
	if (bpf_core_field_exists(((struct inode___v611 *)0)->i_ctime_sec))
		return ts_ns(BPF_CORE_READ((struct inode___v611 *)i, i_ctime_sec),
			     BPF_CORE_READ((struct inode___v611 *)i, i_ctime_nsec) & ~(1u << 31));
	if (bpf_core_field_exists(((struct inode___v66 *)0)->__i_ctime))
		return ts_ns(BPF_CORE_READ((struct inode___v66 *)i, __i_ctime.tv_sec),
			     BPF_CORE_READ((struct inode___v66 *)i, __i_ctime.tv_nsec));
	return ts_ns(BPF_CORE_READ((struct inode___old *)i, i_ctime.tv_sec),
		     BPF_CORE_READ((struct inode___old *)i, i_ctime.tv_nsec));
}

static __always_inline __u64 inode_mtime(struct inode *i)
{
	if (bpf_core_field_exists(((struct inode___v611 *)0)->i_mtime_sec))
		return ts_ns(BPF_CORE_READ((struct inode___v611 *)i, i_mtime_sec),
			     BPF_CORE_READ((struct inode___v611 *)i, i_mtime_nsec));
	if (bpf_core_field_exists(((struct inode___v66 *)0)->__i_mtime))
		return ts_ns(BPF_CORE_READ((struct inode___v66 *)i, __i_mtime.tv_sec),
			     BPF_CORE_READ((struct inode___v66 *)i, __i_mtime.tv_nsec));
	return ts_ns(BPF_CORE_READ((struct inode___old *)i, i_mtime.tv_sec),
		     BPF_CORE_READ((struct inode___old *)i, i_mtime.tv_nsec));
}

/* EVT_EXE_* flags of the executable (upstream's get_exe_writable/upper-layer/memfd logic). */
static __always_inline __u32 exe_flags(struct file *exe, struct inode *inode,
				       const struct cred *cred)
{
	__u32 flags = 0;
	char name[8] = {};

	if (!inode)
		return 0;
	umode_t mode = BPF_CORE_READ(inode, i_mode);
	unsigned long s_flags = BPF_CORE_READ(inode, i_sb, s_flags);
	unsigned int i_flags = BPF_CORE_READ(inode, i_flags);
	if (!(s_flags & K_SB_RDONLY) && !(i_flags & K_S_IMMUTABLE)) {
		__u32 fsuid = BPF_CORE_READ(cred, fsuid.val),
		      fsgid = BPF_CORE_READ(cred, fsgid.val);
		__u32 iuid = BPF_CORE_READ(inode, i_uid.val),
		      igid = BPF_CORE_READ(inode, i_gid.val);
		if ((fsuid == iuid && (mode & K_S_IWUSR)) ||
		    (fsgid == igid && (mode & K_S_IWGRP)) || (mode & K_S_IWOTH) ||
		    (read_cap(&cred->cap_effective) & (1ull << K_CAP_DAC_OVERRIDE)))
			flags |= EVT_EXE_WRITABLE;
	}
	if (BPF_CORE_READ(inode, i_sb, s_magic) == K_OVL_MAGIC) {
		/* in overlayfs' inode the upper dentry follows the embedded vfs inode */
		struct dentry *upper = NULL;
		__u32 off = bpf_core_type_exists(struct ovl_inode___k)
				    ? bpf_core_field_offset(struct ovl_inode___k, __upperdentry) -
					      bpf_core_field_offset(struct ovl_inode___k, vfs_inode)
				    : bpf_core_type_size(struct inode);
		bpf_probe_read_kernel(&upper, sizeof(upper), (__u8 *)inode + off);
		flags |= upper ? EVT_EXE_UPPER_LAYER : EVT_EXE_LOWER_LAYER;
	}
	const unsigned char *dname = BPF_CORE_READ(exe, f_path.dentry, d_name.name);
	if (dname && !bpf_probe_read_kernel(name, 6, dname) && name[0] == 'm' && name[1] == 'e' &&
	    name[2] == 'm' && name[3] == 'f' && name[4] == 'd' && name[5] == ':')
		flags |= EVT_EXE_FROM_MEMFD;
	return flags;
}

/*
 * One "controller=path" entry of the cgroups parameter at *o (an offset inside the event), the path rebuilt
 * from kernfs nodes. Entries are NUL-terminated and laid back to back.
 */
static __always_inline void cgroup_entry(struct evb *b, __u32 *o, const char *prefix, __u32 plen,
					 struct kernfs_node *kn)
{
	__u8 *tmp = b->data + SCRATCH_TMP_BASE;
	long pos;

	if (!kn)
		return;
	pos = walk_kernfs((__u64)kn);
	if (pos < 0 || pos >= SCRATCH_TMP_MASK)
		return;
	if (bpf_probe_read_kernel(b->data + (*o & SCRATCH_EVT_MASK), plen & 15, prefix))
		return;
	*o += plen & 15;
	__u32 len = (SCRATCH_TMP_MASK + 1 - (__u32)pos) & 1023;
	if (bpf_probe_read_kernel(b->data + (*o & SCRATCH_EVT_MASK), len,
				  &tmp[pos & SCRATCH_TMP_MASK])) {
		*o -= plen & 15;
		return;
	}
	*o += len;
}

static __always_inline struct kernfs_node *css_kn(struct css_set *cs, int id)
{
	struct cgroup_subsys_state *css = NULL;

	if (id < 0 || bpf_probe_read_kernel(&css, sizeof(css), &cs->subsys[id & 15]) || !css)
		return NULL;
	return BPF_CORE_READ(css, cgroup, kn);
}

static __always_inline void evb_cgroups(struct evb *b, struct task_struct *t)
{
	static const char p_cpuset[] = "cpuset=", p_cpu[] = "cpu=", p_memory[] = "memory=",
			  p_pids[] = "pids=", p_unified[] = "unified=";
	struct css_set *cs = BPF_CORE_READ(t, cgroups);
	__u32 o = b->off;

	if (!cs) {
		evb_empty(b);
		return;
	}
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpuset_cgrp_id))
		cgroup_entry(
			b, &o, p_cpuset, sizeof(p_cpuset) - 1,
			css_kn(cs, bpf_core_enum_value(enum cgroup_subsys_id, cpuset_cgrp_id)));
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, cpu_cgrp_id))
		cgroup_entry(b, &o, p_cpu, sizeof(p_cpu) - 1,
			     css_kn(cs, bpf_core_enum_value(enum cgroup_subsys_id, cpu_cgrp_id)));
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		cgroup_entry(
			b, &o, p_memory, sizeof(p_memory) - 1,
			css_kn(cs, bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id)));
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id))
		cgroup_entry(b, &o, p_pids, sizeof(p_pids) - 1,
			     css_kn(cs, bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id)));
	cgroup_entry(b, &o, p_unified, sizeof(p_unified) - 1, BPF_CORE_READ(cs, dfl_cgrp, kn));
	evb_len(b, (o - b->off) & (EVT_MAX_CGROUPS - 1));
}

static __always_inline __u32 task_tty(struct task_struct *t)
{
	struct tty_struct *tty = BPF_CORE_READ(t, signal, tty);

	if (!tty)
		return 0;
	int index = BPF_CORE_READ(tty, index);
	int major = BPF_CORE_READ(tty, driver, major);
	int minor = BPF_CORE_READ(tty, driver, minor_start) + index;
	return (__u32)encode_dev(((__u32)major << K_MINORBITS) | (__u32)minor);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(handle_sched_process_exec, struct task_struct *p, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	struct task_struct *t = bpf_get_current_task_btf();
	__u32 nr_execve = 59, nr_execveat = 322;
	struct evb b;

	if (!sc_interesting(nr_execve, EVT_SC_EXIT) && !sc_interesting(nr_execveat, EVT_SC_EXIT))
		return 0;
	if (is_self())
		return 0;
	cpu_ctx_set(bpf_get_current_pid_tgid(), t);
	if (evb_var(&b, EVT_EXECVE_X, 30, EVT_CAT_EXEC))
		return 0;

	struct mm_struct *mm = BPF_CORE_READ(t, mm);
	const struct cred *cred = BPF_CORE_READ(t, cred);
	struct fs_struct *fs = BPF_CORE_READ(t, fs);
	struct file *exe = mm ? BPF_CORE_READ(mm, exe_file) : NULL;
	struct inode *inode = exe ? BPF_CORE_READ(exe, f_inode) : NULL;
	unsigned long arg_start = mm ? BPF_CORE_READ(mm, arg_start) : 0;
	unsigned long arg_end = mm ? BPF_CORE_READ(mm, arg_end) : 0;
	struct pid *pgrp = task_pidtype(t, bpf_core_enum_value(enum pid_type, PIDTYPE_PGID));

	/* 0 res, 1 exe (argv[0]), 2 args (the rest of the argument area) */
	evb_s64(&b, 0);
	__u32 exe_off = b.off;
	evb_user_str(&b, (const void *)arg_start);
	__u32 exe_len = b.off - exe_off;
	if (arg_end > arg_start + exe_len)
		evb_user_bytes(&b, (const void *)(arg_start + exe_len),
			       arg_end - arg_start - exe_len, EVT_MAX_ARGS);
	else
		evb_empty(&b);
	/* 3 tid, 4 pid, 5 ptid */
	evb_s64(&b, t->pid);
	evb_s64(&b, t->tgid);
	evb_s64(&b, t->real_parent->tgid);
	/* 6 cwd */
	if (fs)
		evb_path(&b, BPF_CORE_READ(fs, pwd.dentry), BPF_CORE_READ(fs, pwd.mnt), &fs->root);
	else
		evb_empty(&b);
	/* 7 comm, 8 cgroups, 9 env */
	evb_comm(&b, t->comm);
	evb_cgroups(&b, t);
	if ((cfg_flags & EVT_CFG_CAPTURE_ENV) && mm) {
		unsigned long env_start = BPF_CORE_READ(mm, env_start),
			      env_end = BPF_CORE_READ(mm, env_end);
		evb_user_bytes(&b, (const void *)env_start,
			       env_end > env_start ? env_end - env_start : 0, EVT_MAX_ARGS);
	} else {
		evb_empty(&b);
	}
	/* 10 tty, 11 loginuid, 12 flags */
	evb_u32(&b, task_tty(t));
	if (bpf_core_field_exists(t->loginuid))
		evb_u32(&b, BPF_CORE_READ(t, loginuid.val));
	else
		evb_empty(&b);
	evb_u32(&b, exe_flags(exe, inode, cred));
	/* 13-15 capabilities */
	evb_u64(&b, read_cap(&cred->cap_inheritable));
	evb_u64(&b, read_cap(&cred->cap_permitted));
	evb_u64(&b, read_cap(&cred->cap_effective));
	/* 16-18 executable inode */
	if (inode) {
		evb_u64(&b, BPF_CORE_READ(inode, i_ino));
		evb_u64(&b, inode_ctime(inode));
		evb_u64(&b, inode_mtime(inode));
	} else {
		evb_empty(&b);
		evb_empty(&b);
		evb_empty(&b);
	}
	/* 19 uid, 20 trusted_exepath, 21 pgid, 22 gid, 23 filename */
	evb_u32(&b, BPF_CORE_READ(cred, euid.val));
	evb_file_path(&b, exe, fs ? &fs->root : NULL);
	evb_s64(&b, pid_nr0(pgrp));
	evb_u32(&b, BPF_CORE_READ(cred, egid.val));
	evb_kernel_str(&b, BPF_CORE_READ(bprm, filename));
	/* 24 vtid, 25 vpid, 26 vpgid, 27 sid */
	evb_s64(&b, pid_vnr(t->thread_pid));
	evb_s64(&b, pid_vnr(task_pidtype(t, bpf_core_enum_value(enum pid_type, PIDTYPE_TGID))));
	evb_s64(&b, pid_vnr(pgrp));
	evb_s64(&b, pid_nr0(task_pidtype(t, bpf_core_enum_value(enum pid_type, PIDTYPE_SID))));
	/* 28 start_ts (the thread group's), 29 pidns_init_start_ts */
	evb_u64(&b, cfg_boot_ns + BPF_CORE_READ(t, group_leader, start_boottime));
	{
		struct pid *tp = t->thread_pid;
		unsigned int level = BPF_CORE_READ(tp, level);
		struct pid_namespace *ns = NULL;
		bpf_probe_read_kernel(&ns, sizeof(ns), &tp->numbers[level & 31].ns);
		struct task_struct *reaper = ns ? BPF_CORE_READ(ns, child_reaper) : NULL;
		if (reaper)
			evb_u64(&b, cfg_boot_ns + BPF_CORE_READ(reaper, start_boottime));
		else
			evb_empty(&b);
	}
	evb_submit_var(&b);
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(handle_sched_process_exit, struct task_struct *p)
{
	struct task_struct *t = bpf_get_current_task_btf();
	struct evb b;

	if (t->flags & K_PF_KTHREAD)
		return 0;
	if (is_self())
		return 0;
	cpu_ctx_set(bpf_get_current_pid_tgid(), t);
	if (evb_fixed(&b, EVT_PROCEXIT, 5, EVB_SIZE(5, 26), EVT_CAT_PROCEXIT))
		return 0;
	int code = t->exit_code;
	evb_s64(&b, code);
	evb_s64(&b, code >> 8);
	evb_u8(&b, code & 0x7f);
	evb_u8(&b, (code & 0x80) ? 1 : 0);
	evb_s64(&b,
		0); /* reaper: left to user space (the parent relation is in the process table) */
	evb_submit_fixed(&b);
	return 0;
}
