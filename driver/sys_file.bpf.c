// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
/*
 * sys_exit handlers for file and descriptor syscalls (tail-called by handle_sys_exit). Parameter lists follow
 * falco/source/evt_table.c.
 */
#include "helpers.bpf.h"

/* For a new fd: the created bit, device and inode of the opened file. */
static __always_inline void open_result(long fd, __u32 *flags, __u32 *dev, __u64 *ino,
					const bool fast)
{
	struct file *f = fd_file(fd, fast);
	struct inode *inode;
	fmode_t mode;

	*dev = 0;
	*ino = 0;
	if (!f)
		return;
	if (fast) {
		struct file *ff = AS_FILE(f);
		mode = ff->f_mode;
		inode = ff->f_inode;
		*ino = inode->i_ino;
		*dev = (__u32)encode_dev(inode->i_sb->s_dev);
	} else {
		mode = BPF_CORE_READ(f, f_mode);
		inode = BPF_CORE_READ(f, f_inode);
		if (inode) {
			*ino = BPF_CORE_READ(inode, i_ino);
			*dev = (__u32)encode_dev(BPF_CORE_READ(inode, i_sb, s_dev));
		}
	}
	if (mode & K_FMODE_CREATED)
		*flags |= EVT_O_F_CREATED;
}

SYS_EXIT_FD(open)
{
	__u32 flags = (__u32)SC_ARG1(regs), dev;
	__u64 ino;
	struct evb b;

	if (evb_var(&b, EVT_OPEN_X, 6, EVT_CAT_OPEN))
		return 0;
	open_result(ret, &flags, &dev, &ino, fast);
	evb_s64(&b, ret);
	evb_user_str(&b, (const void *)SC_ARG0(regs));
	evb_u32(&b, flags);
	evb_u32(&b, (__u32)SC_ARG2(regs));
	evb_u32(&b, dev);
	evb_u64(&b, ino);
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT_FD(openat)
{
	__u32 flags = (__u32)SC_ARG2(regs), dev;
	__u64 ino;
	struct evb b;

	if (evb_var(&b, EVT_OPENAT_X, 7, EVT_CAT_OPEN))
		return 0;
	open_result(ret, &flags, &dev, &ino, fast);
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_user_str(&b, (const void *)SC_ARG1(regs));
	evb_u32(&b, flags);
	evb_u32(&b, (__u32)SC_ARG3(regs));
	evb_u32(&b, dev);
	evb_u64(&b, ino);
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT_FD(openat2)
{
	struct open_how how = {};
	__u32 flags, dev;
	__u64 ino;
	struct evb b;

	if (evb_var(&b, EVT_OPENAT2_X, 8, EVT_CAT_OPEN))
		return 0;
	if (bpf_probe_read_user(&how, sizeof(how), (const void *)SC_ARG2(regs)))
		b.cnt->n_read_fail++;
	flags = (__u32)how.flags;
	open_result(ret, &flags, &dev, &ino, fast);
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_user_str(&b, (const void *)SC_ARG1(regs));
	evb_u32(&b, flags);
	evb_u32(&b, (__u32)how.mode);
	evb_u32(&b, (__u32)how.resolve);
	evb_u32(&b, dev);
	evb_u64(&b, ino);
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT_FD(creat)
{
	__u32 flags = EVT_O_CREAT | EVT_O_WRONLY | EVT_O_TRUNC, dev;
	__u64 ino;
	struct evb b;

	if (evb_var(&b, EVT_CREAT_X, 6, EVT_CAT_OPEN))
		return 0;
	open_result(ret, &flags, &dev, &ino, fast);
	evb_s64(&b, ret);
	evb_user_str(&b, (const void *)SC_ARG0(regs));
	evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_u32(&b, dev);
	evb_u64(&b, ino);
	evb_u32(&b, flags);
	evb_submit_var(&b);
	return 0;
}

/* close: built by the dispatcher itself (dispatch.bpf.c), no tail call */

/* close_range: without it a descriptor closed this way (subprocess close_fds, daemons) would live on in the fd
 * table until its number is reused by a creator we see */
SYS_EXIT(close_range)
{
	struct evb b;

	if (evb_fixed(&b, EVT_CLOSE_RANGE_X, 4, EVB_SIZE(4, 24), EVT_CAT_CLOSE))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, (__s64)(__u32)SC_ARG0(regs));
	evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_u32(&b, (__u32)SC_ARG2(regs));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(dup)
{
	struct evb b;

	if (evb_fixed(&b, EVT_DUP_X, 2, EVB_SIZE(2, 16), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(dup2)
{
	struct evb b;

	if (evb_fixed(&b, EVT_DUP2_X, 3, EVB_SIZE(3, 24), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_s64(&b, SC_FD(SC_ARG1(regs)));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(dup3)
{
	struct evb b;

	if (evb_fixed(&b, EVT_DUP3_X, 4, EVB_SIZE(4, 28), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_s64(&b, SC_FD(SC_ARG1(regs)));
	evb_u32(&b, (__u32)SC_ARG2(regs));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(fcntl)
{
	__u32 cmd = (__u32)SC_ARG1(regs);
	struct evb b;

	/* only the commands that create descriptors matter to the fd table */
	if (cmd != EVT_F_DUPFD && cmd != EVT_F_DUPFD_CLOEXEC)
		return 0;
	if (evb_fixed(&b, EVT_FCNTL_X, 3, EVB_SIZE(3, 20), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_u32(&b, cmd);
	evb_submit_fixed(&b);
	return 0;
}

/* res, oldpath, newpath (link, rename, symlink: target is a plain string but read the same way) */
static __always_inline int two_paths(struct pt_regs *regs, long ret, __u16 type)
{
	struct evb b;

	if (evb_var(&b, type, 3, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_user_str(&b, (const void *)SC_ARG0(regs));
	evb_user_str(&b, (const void *)SC_ARG1(regs));
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(link)
{
	return two_paths(regs, ret, EVT_LINK_X);
}

SYS_EXIT(rename)
{
	return two_paths(regs, ret, EVT_RENAME_X);
}

SYS_EXIT(symlink)
{
	return two_paths(regs, ret, EVT_SYMLINK_X);
}

/* res, olddirfd, oldpath, newdirfd, newpath [, flags] */
static __always_inline int two_paths_at(struct pt_regs *regs, long ret, __u16 type, __u8 nparams,
					__u32 flags)
{
	struct evb b;

	if (evb_var(&b, type, nparams, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_user_str(&b, (const void *)SC_ARG1(regs));
	evb_s64(&b, SC_FD(SC_ARG2(regs)));
	evb_user_str(&b, (const void *)SC_ARG3(regs));
	if (nparams > 5)
		evb_u32(&b, flags);
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(linkat)
{
	return two_paths_at(regs, ret, EVT_LINKAT_X, 6, (__u32)SC_ARG4(regs));
}

SYS_EXIT(renameat)
{
	return two_paths_at(regs, ret, EVT_RENAMEAT_X, 5, 0);
}

SYS_EXIT(renameat2)
{
	return two_paths_at(regs, ret, EVT_RENAMEAT2_X, 6, (__u32)SC_ARG4(regs));
}

SYS_EXIT(symlinkat)
{
	struct evb b;

	if (evb_var(&b, EVT_SYMLINKAT_X, 4, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_user_str(&b, (const void *)SC_ARG0(regs));
	evb_s64(&b, SC_FD(SC_ARG1(regs)));
	evb_user_str(&b, (const void *)SC_ARG2(regs));
	evb_submit_var(&b);
	return 0;
}

/* res, path [, mode]: unlink, rmdir, chdir, chroot, mkdir, chmod */
static __always_inline int one_path(struct pt_regs *regs, long ret, __u16 type, __u8 nparams)
{
	struct evb b;

	if (evb_var(&b, type, nparams, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_user_str(&b, (const void *)SC_ARG0(regs));
	if (nparams > 2)
		evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(unlink)
{
	return one_path(regs, ret, EVT_UNLINK_X, 2);
}

SYS_EXIT(rmdir)
{
	return one_path(regs, ret, EVT_RMDIR_X, 2);
}

SYS_EXIT(chdir)
{
	return one_path(regs, ret, EVT_CHDIR_X, 2);
}

SYS_EXIT(chroot)
{
	return one_path(regs, ret, EVT_CHROOT_X, 2);
}

SYS_EXIT(mkdir)
{
	return one_path(regs, ret, EVT_MKDIR_X, 3);
}

SYS_EXIT(chmod)
{
	return one_path(regs, ret, EVT_CHMOD_X, 3);
}

/* res, dirfd, path, u32 (unlinkat flags, mkdirat/fchmodat mode) */
static __always_inline int path_at(struct pt_regs *regs, long ret, __u16 type)
{
	struct evb b;

	if (evb_var(&b, type, 4, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_user_str(&b, (const void *)SC_ARG1(regs));
	evb_u32(&b, (__u32)SC_ARG2(regs));
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(unlinkat)
{
	return path_at(regs, ret, EVT_UNLINKAT_X);
}

SYS_EXIT(mkdirat)
{
	return path_at(regs, ret, EVT_MKDIRAT_X);
}

SYS_EXIT(fchmodat)
{
	return path_at(regs, ret, EVT_FCHMODAT_X);
}

SYS_EXIT(fchmod)
{
	struct evb b;

	if (evb_fixed(&b, EVT_FCHMOD_X, 3, EVB_SIZE(3, 20), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(fchdir)
{
	struct evb b;

	if (evb_fixed(&b, EVT_FCHDIR_X, 2, EVB_SIZE(2, 16), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT(memfd_create)
{
	struct evb b;

	if (evb_var(&b, EVT_MEMFD_CREATE_X, 3, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_user_str(&b, (const void *)SC_ARG0(regs));
	evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(mount)
{
	__u32 flags = (__u32)SC_ARG3(regs);
	struct evb b;

	if ((flags & EVT_MS_MGC_MSK) == EVT_MS_MGC_VAL)
		flags &= ~EVT_MS_MGC_MSK;
	if (evb_var(&b, EVT_MOUNT_X, 5, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_user_str(&b, (const void *)SC_ARG0(regs));
	evb_user_str(&b, (const void *)SC_ARG1(regs));
	evb_user_str(&b, (const void *)SC_ARG2(regs));
	evb_u32(&b, flags);
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(umount2)
{
	struct evb b;

	if (evb_var(&b, EVT_UMOUNT2_X, 3, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_user_str(&b, (const void *)SC_ARG0(regs));
	evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_submit_var(&b);
	return 0;
}

static __always_inline int pipe_common(struct pt_regs *regs, long ret, __u16 type, __u8 nparams,
				       const bool fast)
{
	int fds[2] = {-1, -1};
	__u32 dev;
	__u64 ino = 0;
	struct evb b;

	if (evb_fixed(&b, type, nparams, nparams > 4 ? EVB_SIZE(5, 36) : EVB_SIZE(4, 32),
		      EVT_CAT_OTHER))
		return 0;
	if (ret == 0 && bpf_probe_read_user(fds, sizeof(fds), (const void *)SC_ARG0(regs)))
		b.cnt->n_read_fail++;
	if (ret == 0) {
		__u32 unused = 0;
		open_result(fds[0], &unused, &dev, &ino, fast);
	}
	evb_s64(&b, ret);
	evb_s64(&b, fds[0]);
	evb_s64(&b, fds[1]);
	evb_u64(&b, ino);
	if (nparams > 4)
		evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT_FD(pipe)
{
	return pipe_common(regs, ret, EVT_PIPE_X, 4, fast);
}

SYS_EXIT_FD(pipe2)
{
	return pipe_common(regs, ret, EVT_PIPE2_X, 5, fast);
}

SYS_EXIT(userfaultfd)
{
	struct evb b;

	if (evb_fixed(&b, EVT_USERFAULTFD_X, 2, EVB_SIZE(2, 12), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_u32(&b, (__u32)SC_ARG0(regs));
	evb_submit_fixed(&b);
	return 0;
}
