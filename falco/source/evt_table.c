/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The event table: for each event type of driver/falco_events.h, its evt.type name, category and parameter list
 * (upstream's argument names, so evt.arg.<name> in upstream rules resolves). The BPF programs emit exactly these
 * parameters in this order; adding a trailing parameter is compatible, anything else bumps the ABI version.
 */
#include <errno.h>
#include <string.h>

#include "common/macro.h"
#include "evt_decode.h"

#define P(n, t)                                                                     \
	{                                                                           \
		.name = (n), .type = EVT_PT_##t, .valset = EVT_VS_NONE, .dirfd = -1 \
	}
#define PV(n, t, vs)                                                                \
	{                                                                           \
		.name = (n), .type = EVT_PT_##t, .valset = EVT_VS_##vs, .dirfd = -1 \
	}
#define PREL(n, dfd)                                                                         \
	{                                                                                    \
		.name = (n), .type = EVT_PT_FSRELPATH, .valset = EVT_VS_NONE, .dirfd = (dfd) \
	}
#define PARAMS(...) ((const struct evt_param_info[]){__VA_ARGS__})
#define NP(...) \
	(sizeof((const struct evt_param_info[]){__VA_ARGS__}) / sizeof(struct evt_param_info))
#define EV(t, n, cat, fl, ...)             \
	[t] = {.name = (n),                \
	       .category = EVT_CAT_##cat,  \
	       .flags = (fl),              \
	       .nparams = NP(__VA_ARGS__), \
	       .params = PARAMS(__VA_ARGS__)}

#define E_ENTER EVT_INFO_ENTER
#define E_NEWFD EVT_INFO_CREATES_FD
#define E_DELFD EVT_INFO_DESTROYS_FD
#define E_USEFD EVT_INFO_USES_FD
#define E_PROC	EVT_INFO_MODIFIES_PROC

/* Shared parameter lists */
#define EXEC_PARAMS                                                                           \
	P("res", ERRNO), P("exe", CHARBUF), P("args", BYTEBUF), P("tid", PID), P("pid", PID), \
		P("ptid", PID), P("cwd", FSPATH), P("comm", CHARBUF), P("cgroups", BYTEBUF),  \
		P("env", BYTEBUF), P("tty", UINT32), P("loginuid", UID),                      \
		PV("flags", FLAGS32, EXECVE_FLAGS), P("cap_inheritable", UINT64),             \
		P("cap_permitted", UINT64), P("cap_effective", UINT64), P("exe_ino", UINT64), \
		P("exe_ino_ctime", ABSTIME), P("exe_ino_mtime", ABSTIME), P("uid", UID),      \
		P("trusted_exepath", FSPATH), P("pgid", PID), P("gid", GID),                  \
		P("filename", FSPATH), P("vtid", PID), P("vpid", PID), P("vpgid", PID),       \
		P("sid", PID), P("start_ts", ABSTIME), P("pidns_init_start_ts", ABSTIME)

#define CLONE_PARAMS                                                                             \
	P("res", PID), P("tid", PID), P("pid", PID), P("ptid", PID),                             \
		PV("flags", FLAGS32, CLONE_FLAGS), P("uid", UID), P("gid", GID), P("vtid", PID), \
		P("vpid", PID), P("comm", CHARBUF)

static const struct evt_info table[_EVT_TYPE_DEDICATED_MAX] = {
	/* entry events */
	EV(EVT_OPEN_E, "open", OPEN, E_ENTER, P("name", FSPATH), PV("flags", FLAGS32, OPEN_FLAGS),
	   PV("mode", UINT32, OCTAL)),
	EV(EVT_OPENAT_E, "openat", OPEN, E_ENTER, P("dirfd", FD), PREL("name", 0),
	   PV("flags", FLAGS32, OPEN_FLAGS), PV("mode", UINT32, OCTAL)),
	EV(EVT_OPENAT2_E, "openat2", OPEN, E_ENTER, P("dirfd", FD), PREL("name", 0),
	   PV("flags", FLAGS32, OPEN_FLAGS), PV("mode", UINT32, OCTAL),
	   PV("resolve", FLAGS32, RESOLVE)),
	EV(EVT_CREAT_E, "creat", OPEN, E_ENTER, P("name", FSPATH), PV("mode", UINT32, OCTAL)),
	EV(EVT_CONNECT_E, "connect", CONNECT, E_ENTER, P("fd", FD), P("addr", SOCKADDR)),

	/* processes */
	EV(EVT_EXECVE_X, "execve", EXEC, E_PROC, EXEC_PARAMS),
	EV(EVT_EXECVEAT_X, "execveat", EXEC, E_PROC, P("res", ERRNO), P("dirfd", FD),
	   PREL("pathname", 1), PV("flags", FLAGS32, AT_FLAGS)),
	EV(EVT_CLONE_X, "clone", CLONE, E_PROC, CLONE_PARAMS),
	EV(EVT_CLONE3_X, "clone3", CLONE, E_PROC, CLONE_PARAMS),
	EV(EVT_FORK_X, "fork", CLONE, E_PROC, CLONE_PARAMS),
	EV(EVT_VFORK_X, "vfork", CLONE, E_PROC, CLONE_PARAMS),
	EV(EVT_PROCEXIT, "procexit", PROCEXIT, E_PROC, P("status", ERRNO), P("ret", ERRNO),
	   PV("sig", SIGTYPE, SIGNAL), P("core", UINT8), P("reaper_tid", PID)),

	/* files */
	EV(EVT_OPEN_X, "open", OPEN, E_NEWFD, P("fd", FD), P("name", FSPATH),
	   PV("flags", FLAGS32, OPEN_FLAGS), PV("mode", UINT32, OCTAL), P("dev", UINT32),
	   P("ino", UINT64)),
	EV(EVT_OPENAT_X, "openat", OPEN, E_NEWFD, P("fd", FD), P("dirfd", FD), PREL("name", 1),
	   PV("flags", FLAGS32, OPEN_FLAGS), PV("mode", UINT32, OCTAL), P("dev", UINT32),
	   P("ino", UINT64)),
	EV(EVT_OPENAT2_X, "openat2", OPEN, E_NEWFD, P("fd", FD), P("dirfd", FD), PREL("name", 1),
	   PV("flags", FLAGS32, OPEN_FLAGS), PV("mode", UINT32, OCTAL),
	   PV("resolve", FLAGS32, RESOLVE), P("dev", UINT32), P("ino", UINT64)),
	EV(EVT_CREAT_X, "creat", OPEN, E_NEWFD, P("fd", FD), P("name", FSPATH),
	   PV("mode", UINT32, OCTAL), P("dev", UINT32), P("ino", UINT64),
	   PV("creat_flags", FLAGS32, OPEN_FLAGS)),
	EV(EVT_CLOSE_X, "close", CLOSE, E_DELFD, P("res", ERRNO), P("fd", FD)),
	EV(EVT_CLOSE_RANGE_X, "close_range", CLOSE, 0, P("res", ERRNO), P("fd", FD),
	   P("max_fd", UINT32), PV("flags", FLAGS32, CLOSE_RANGE)),
	EV(EVT_DUP_X, "dup", OTHER, E_NEWFD, P("res", FD), P("oldfd", FD)),
	EV(EVT_DUP2_X, "dup2", OTHER, E_NEWFD, P("res", FD), P("oldfd", FD), P("newfd", FD)),
	EV(EVT_DUP3_X, "dup3", OTHER, E_NEWFD, P("res", FD), P("oldfd", FD), P("newfd", FD),
	   PV("flags", FLAGS32, FD_FLAGS)),
	EV(EVT_LINK_X, "link", OTHER, 0, P("res", ERRNO), P("oldpath", FSPATH),
	   P("newpath", FSPATH)),
	EV(EVT_LINKAT_X, "linkat", OTHER, 0, P("res", ERRNO), P("olddir", FD), PREL("oldpath", 1),
	   P("newdir", FD), PREL("newpath", 3), PV("flags", FLAGS32, AT_FLAGS)),
	EV(EVT_SYMLINK_X, "symlink", OTHER, 0, P("res", ERRNO), P("target", CHARBUF),
	   P("linkpath", FSPATH)),
	EV(EVT_SYMLINKAT_X, "symlinkat", OTHER, 0, P("res", ERRNO), P("target", CHARBUF),
	   P("linkdirfd", FD), PREL("linkpath", 2)),
	EV(EVT_UNLINK_X, "unlink", OTHER, 0, P("res", ERRNO), P("path", FSPATH)),
	EV(EVT_UNLINKAT_X, "unlinkat", OTHER, 0, P("res", ERRNO), P("dirfd", FD), PREL("name", 1),
	   PV("flags", FLAGS32, UNLINKAT_FLAGS)),
	EV(EVT_RENAME_X, "rename", OTHER, 0, P("res", ERRNO), P("oldpath", FSPATH),
	   P("newpath", FSPATH)),
	EV(EVT_RENAMEAT_X, "renameat", OTHER, 0, P("res", ERRNO), P("olddirfd", FD),
	   PREL("oldpath", 1), P("newdirfd", FD), PREL("newpath", 3)),
	EV(EVT_RENAMEAT2_X, "renameat2", OTHER, 0, P("res", ERRNO), P("olddirfd", FD),
	   PREL("oldpath", 1), P("newdirfd", FD), PREL("newpath", 3),
	   PV("flags", FLAGS32, RENAME_FLAGS)),
	EV(EVT_MKDIR_X, "mkdir", OTHER, 0, P("res", ERRNO), P("path", FSPATH),
	   PV("mode", UINT32, OCTAL)),
	EV(EVT_MKDIRAT_X, "mkdirat", OTHER, 0, P("res", ERRNO), P("dirfd", FD), PREL("path", 1),
	   PV("mode", UINT32, OCTAL)),
	EV(EVT_RMDIR_X, "rmdir", OTHER, 0, P("res", ERRNO), P("path", FSPATH)),
	EV(EVT_CHMOD_X, "chmod", OTHER, 0, P("res", ERRNO), P("filename", FSPATH),
	   PV("mode", MODE, MODE)),
	EV(EVT_FCHMOD_X, "fchmod", OTHER, E_USEFD, P("res", ERRNO), P("fd", FD),
	   PV("mode", MODE, MODE)),
	EV(EVT_FCHMODAT_X, "fchmodat", OTHER, 0, P("res", ERRNO), P("dirfd", FD),
	   PREL("filename", 1), PV("mode", MODE, MODE)),
	EV(EVT_CHDIR_X, "chdir", OTHER, E_PROC, P("res", ERRNO), P("path", FSPATH)),
	EV(EVT_FCHDIR_X, "fchdir", OTHER, E_PROC | E_USEFD, P("res", ERRNO), P("fd", FD)),
	EV(EVT_MEMFD_CREATE_X, "memfd_create", OTHER, E_NEWFD, P("fd", FD), P("name", CHARBUF),
	   PV("flags", FLAGS32, MEMFD_FLAGS)),
	EV(EVT_MOUNT_X, "mount", OTHER, 0, P("res", ERRNO), P("dev", CHARBUF), P("dir", FSPATH),
	   P("type", CHARBUF), PV("flags", FLAGS32, MOUNT_FLAGS)),
	EV(EVT_UMOUNT2_X, "umount2", OTHER, 0, P("res", ERRNO), P("name", FSPATH),
	   PV("flags", FLAGS32, UMOUNT_FLAGS)),
	EV(EVT_FCNTL_X, "fcntl", OTHER, E_NEWFD | E_USEFD, P("res", FD), P("fd", FD),
	   PV("cmd", ENUMFLAGS32, FCNTL_CMD)),
	EV(EVT_PIPE_X, "pipe", OTHER, E_NEWFD, P("res", ERRNO), P("fd1", FD), P("fd2", FD),
	   P("ino", UINT64)),
	EV(EVT_PIPE2_X, "pipe2", OTHER, E_NEWFD, P("res", ERRNO), P("fd1", FD), P("fd2", FD),
	   P("ino", UINT64), PV("flags", FLAGS32, OPEN_FLAGS)),
	EV(EVT_USERFAULTFD_X, "userfaultfd", OTHER, E_NEWFD, P("res", FD),
	   PV("flags", FLAGS32, UFFD_FLAGS)),

	/* network */
	EV(EVT_SOCKET_X, "socket", OTHER, E_NEWFD, P("fd", FD),
	   PV("domain", ENUMFLAGS32, SOCKET_FAMILY), PV("type", UINT32, SOCKET_TYPE),
	   P("proto", UINT32)),
	EV(EVT_CONNECT_X, "connect", CONNECT, E_USEFD, P("res", ERRNO), P("tuple", SOCKTUPLE),
	   P("fd", FD), P("addr", SOCKADDR)),
	EV(EVT_ACCEPT_X, "accept", OTHER, E_NEWFD, P("fd", FD), P("tuple", SOCKTUPLE),
	   P("queuepct", UINT8), P("queuelen", UINT32), P("queuemax", UINT32)),
	EV(EVT_ACCEPT4_X, "accept4", OTHER, E_NEWFD, P("fd", FD), P("tuple", SOCKTUPLE),
	   P("queuepct", UINT8), P("queuelen", UINT32), P("queuemax", UINT32),
	   PV("flags", FLAGS32, SOCKET_FLAGS)),
	EV(EVT_BIND_X, "bind", OTHER, E_USEFD, P("res", ERRNO), P("addr", SOCKADDR), P("fd", FD)),
	EV(EVT_LISTEN_X, "listen", OTHER, E_USEFD, P("res", ERRNO), P("fd", FD),
	   P("backlog", INT32)),
	EV(EVT_SENDTO_X, "sendto", OTHER, E_USEFD, P("res", ERRNO), P("data", BYTEBUF), P("fd", FD),
	   P("size", UINT32), P("tuple", SOCKTUPLE)),
	EV(EVT_SENDMSG_X, "sendmsg", OTHER, E_USEFD, P("res", ERRNO), P("data", BYTEBUF),
	   P("fd", FD), P("size", UINT32), P("tuple", SOCKTUPLE)),
	EV(EVT_RECVFROM_X, "recvfrom", OTHER, E_USEFD, P("res", ERRNO), P("data", BYTEBUF),
	   P("tuple", SOCKTUPLE), P("fd", FD), P("size", UINT32)),
	EV(EVT_RECVMSG_X, "recvmsg", OTHER, E_USEFD, P("res", ERRNO), P("size", UINT32),
	   P("data", BYTEBUF), P("tuple", SOCKTUPLE), P("fd", FD)),
	EV(EVT_SOCKETPAIR_X, "socketpair", OTHER, E_NEWFD, P("res", ERRNO), P("fd1", FD),
	   P("fd2", FD), P("source", UINT64), P("peer", UINT64),
	   PV("domain", ENUMFLAGS32, SOCKET_FAMILY), PV("type", UINT32, SOCKET_TYPE),
	   P("proto", UINT32)),

	/* credentials, namespaces, privileged operations */
	EV(EVT_SETUID_X, "setuid", OTHER, E_PROC, P("res", ERRNO), P("uid", UID)),
	EV(EVT_SETGID_X, "setgid", OTHER, E_PROC, P("res", ERRNO), P("gid", GID)),
	EV(EVT_SETREUID_X, "setreuid", OTHER, E_PROC, P("res", ERRNO), P("ruid", UID),
	   P("euid", UID)),
	EV(EVT_SETREGID_X, "setregid", OTHER, E_PROC, P("res", ERRNO), P("rgid", GID),
	   P("egid", GID)),
	EV(EVT_SETRESUID_X, "setresuid", OTHER, E_PROC, P("res", ERRNO), P("ruid", UID),
	   P("euid", UID), P("suid", UID)),
	EV(EVT_SETRESGID_X, "setresgid", OTHER, E_PROC, P("res", ERRNO), P("rgid", GID),
	   P("egid", GID), P("sgid", GID)),
	EV(EVT_SETNS_X, "setns", OTHER, E_USEFD, P("res", ERRNO), P("fd", FD),
	   PV("nstype", FLAGS32, CLONE_FLAGS)),
	EV(EVT_UNSHARE_X, "unshare", OTHER, E_PROC, P("res", ERRNO),
	   PV("flags", FLAGS32, CLONE_FLAGS)),
	EV(EVT_PTRACE_X, "ptrace", OTHER, 0, P("res", ERRNO), P("addr", UINT64), P("data", UINT64),
	   PV("request", ENUMFLAGS32, PTRACE), P("pid", PID)),
	EV(EVT_INIT_MODULE_X, "init_module", OTHER, 0, P("res", ERRNO), P("img", BYTEBUF),
	   P("length", UINT64), P("uargs", CHARBUF)),
	EV(EVT_FINIT_MODULE_X, "finit_module", OTHER, E_USEFD, P("res", ERRNO), P("fd", FD),
	   P("uargs", CHARBUF), PV("flags", FLAGS32, FINIT_MODULE)),
	EV(EVT_BPF_X, "bpf", OTHER, E_NEWFD, P("fd", FD), PV("cmd", ENUMFLAGS32, BPF_CMD)),
	EV(EVT_PRCTL_X, "prctl", OTHER, E_PROC, P("res", ERRNO), PV("option", ENUMFLAGS32, PRCTL),
	   P("arg2_str", CHARBUF), P("arg2_int", INT64)),
	EV(EVT_CAPSET_X, "capset", OTHER, E_PROC, P("res", ERRNO), P("cap_inheritable", UINT64),
	   P("cap_permitted", UINT64), P("cap_effective", UINT64)),
	EV(EVT_KILL_X, "kill", OTHER, 0, P("res", ERRNO), P("pid", PID),
	   PV("sig", SIGTYPE, SIGNAL)),
	EV(EVT_SETSID_X, "setsid", OTHER, E_PROC, P("res", PID)),
	EV(EVT_SETPGID_X, "setpgid", OTHER, E_PROC, P("res", ERRNO), P("pid", PID), P("pgid", PID)),
	EV(EVT_CHROOT_X, "chroot", OTHER, E_PROC, P("res", ERRNO), P("path", FSPATH)),
};

static const struct evt_info generic_info = {
	.name = NULL, /* evt_type_name() gives the syscall's name */
	.category = EVT_CAT_OTHER,
	.flags = EVT_INFO_GENERIC,
	.nparams = 2,
	.params = PARAMS(P("id", SYSCALLID), P("res", ERRNO)),
};

const struct evt_info *evt_info(uint16_t type)
{
	if (type >= EVT_GENERIC_BASE)
		return type < EVT_TYPE_MAX ? &generic_info : NULL;
	if (type >= ARRAY_SIZE(table) || !table[type].name)
		return NULL;
	return &table[type];
}

int evt_param_index(const struct evt_info *info, const char *name)
{
	if (!info || !name)
		return -ENOENT;
	/* first bytes first: rule loading asks this ~30 times per evt.arg field */
	for (unsigned i = 0; i < info->nparams; i++)
		if (info->params[i].name[0] == name[0] && streq(info->params[i].name, name))
			return (int)i;
	return -ENOENT;
}
