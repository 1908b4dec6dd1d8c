/* SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only */
/*
 * The driver contract: the one header included by the BPF programs in driver/ and by user space
 * (falco/source/evt_*.c). It holds only types and constants: the event header, the parameter encoding, event-type
 * numbers, the kernel-side counters and the flag values needed to render upstream-compatible strings.
 *
 * Bump FALCO_DRIVER_ABI_VERSION on any incompatible change (layout, numbering, parameter order). New events and new
 * trailing parameters of existing events are compatible changes: readers accept nparams >= what they know.
 *
 * Parameter lists per event type live in falco/source/evt_table.c (names and types, in order); the BPF side emits
 * exactly those, and tests/e2e decode every event the probe produces against that table.
 */
#ifndef FALCO_EVENTS_H
#define FALCO_EVENTS_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define FALCO_DRIVER_ABI_VERSION 1u

/* ---- sizes ---- */

#define EVT_MAX_SIZE \
	65536u /* a whole record, header included; larger events are dropped and counted */
#define EVT_MAX_PARAMS	    40u
#define EVT_MAX_PATH	    4096u /* one path or string argument, NUL included */
#define EVT_MAX_ARGS	    4096u /* execve args (and env) area */
#define EVT_MAX_CGROUPS	    4096u /* the cgroups parameter of exec events */
#define EVT_MAX_PATH_DEPTH  32u	  /* components walked when rebuilding a path from dentries */
#define EVT_COMM_LEN	    16u
#define EVT_SYSCALL_MAX	    512u /* syscall ids are 0 .. EVT_SYSCALL_MAX-1 (x86_64 native numbering) */
#define EVT_DEFAULT_SNAPLEN 80u /* bytes of send/recv payload when payload capture is on */

/*
 * ---- record layout ----
 * struct evt_hdr                           24 bytes
 * __u16 lens[nparams]                      one length per parameter; 0 means "absent/unavailable"
 * padding to a multiple of 8 bytes         so the first parameter is 8-aligned
 * params                                   concatenated, lens[i] bytes each
 * All integers are host byte order except IP addresses (network order).
 */
struct evt_hdr {
	__u64 ts;      /* nanoseconds since the epoch (boot time offset + bpf_ktime_get_boot_ns) */
	__u32 tid;     /* thread id, initial pid namespace */
	__u32 pid;     /* thread group id, initial pid namespace */
	__u32 len;     /* whole record in bytes, header included */
	__u16 type;    /* enum evt_type, or EVT_GENERIC_BASE + syscall id */
	__u8 nparams;  /* <= EVT_MAX_PARAMS */
	__u8 reserved; /* 0 */
};
_Static_assert(sizeof(struct evt_hdr) == 24, "abi: evt_hdr");

#define EVT_LENS_OFF		24u
#define EVT_PARAMS_OFF(nparams) (EVT_LENS_OFF + ((2u * (nparams) + 7u) & ~7u))

/*
 * ---- parameter types and their encodings ----
 * Integers have exactly the width of the type. Strings (CHARBUF, FSPATH, FSRELPATH) include their terminating NUL
 * and are cut at EVT_MAX_PATH. FSRELPATH is relative to the directory-fd parameter named in the event table
 * (EVT_AT_FDCWD = the thread's cwd). BYTEBUF is raw; execve args/env and cgroups are NUL-terminated strings back to
 * back ("a\0b\0"). SOCKADDR: __u8 family (EVT_AF_*) then, for INET: __u8 ip[4] (network order) + __u16 port (host
 * order); INET6: __u8 ip[16] + __u16 port; UNIX: the sun_path bytes + NUL (an abstract name starts with '@').
 * SOCKTUPLE: __u8 family then, for INET: sip[4] sport dip[4] dport (13 bytes); INET6: 16-byte addresses (37 bytes);
 * UNIX: __u64 source socket, __u64 peer socket (kernel addresses as ids), path + NUL. In a tuple "source" is the
 * client side: local for connect/send, remote for accept.
 */
enum evt_param_type {
	EVT_PT_NONE = 0,
	EVT_PT_INT8 = 1,
	EVT_PT_INT16 = 2,
	EVT_PT_INT32 = 3,
	EVT_PT_INT64 = 4,
	EVT_PT_UINT8 = 5,
	EVT_PT_UINT16 = 6,
	EVT_PT_UINT32 = 7,
	EVT_PT_UINT64 = 8,
	EVT_PT_CHARBUF = 9,
	EVT_PT_BYTEBUF = 10,
	EVT_PT_ERRNO = 11, /* __s64: >= 0 result, < 0 -errno */
	EVT_PT_SOCKADDR = 12,
	EVT_PT_SOCKTUPLE = 13,
	EVT_PT_FD = 14,	 /* __s64 */
	EVT_PT_PID = 15, /* __s64 */
	EVT_PT_FSPATH = 16,
	EVT_PT_SYSCALLID = 17, /* __u16 */
	EVT_PT_SIGTYPE = 18,   /* __u8 */
	EVT_PT_RELTIME = 19,   /* __u64 ns */
	EVT_PT_ABSTIME = 20,   /* __u64 ns since the epoch */
	EVT_PT_FLAGS8 = 21,
	EVT_PT_FLAGS16 = 22,
	EVT_PT_FLAGS32 = 23,
	EVT_PT_UID = 24,  /* __u32 */
	EVT_PT_GID = 25,  /* __u32 */
	EVT_PT_MODE = 26, /* __u32 */
	EVT_PT_FSRELPATH = 27,
	EVT_PT_ENUMFLAGS8 = 28,
	EVT_PT_ENUMFLAGS16 = 29,
	EVT_PT_ENUMFLAGS32 = 30,
	EVT_PT_FLAGS64 = 31,
	EVT_PT_SIGSET = 32, /* __u64 */
	_EVT_PT_MAX,
};

/*
 * ---- event types ----
 * Numbers are part of the ABI: never reuse or renumber. _E events are read at syscall entry (only where an argument
 * must be captured before the kernel acts on it); everything else is an exit event. A syscall without a dedicated
 * event is reported, when interesting, as EVT_GENERIC_BASE + its syscall id (one parameter: id).
 */
enum evt_type {
	EVT_UNKNOWN = 0,
	/* entry events (time-of-check/time-of-use: the argument as the kernel will see it) */
	EVT_OPEN_E = 1,
	EVT_OPENAT_E = 2,
	EVT_OPENAT2_E = 3,
	EVT_CREAT_E = 4,
	EVT_CONNECT_E = 5,
	/* processes */
	EVT_EXECVE_X = 10,   /* successful execve and execveat come from sched_process_exec */
	EVT_EXECVEAT_X = 11, /* failed execveat only */
	EVT_CLONE_X = 12,
	EVT_CLONE3_X = 13,
	EVT_FORK_X = 14,
	EVT_VFORK_X = 15,
	EVT_PROCEXIT = 16, /* sched_process_exit, every thread */
	/* files */
	EVT_OPEN_X = 20,
	EVT_OPENAT_X = 21,
	EVT_OPENAT2_X = 22,
	EVT_CREAT_X = 23,
	EVT_CLOSE_X = 24,
	EVT_DUP_X = 25,
	EVT_DUP2_X = 26,
	EVT_DUP3_X = 27,
	EVT_LINK_X = 28,
	EVT_LINKAT_X = 29,
	EVT_SYMLINK_X = 30,
	EVT_SYMLINKAT_X = 31,
	EVT_UNLINK_X = 32,
	EVT_UNLINKAT_X = 33,
	EVT_RENAME_X = 34,
	EVT_RENAMEAT_X = 35,
	EVT_RENAMEAT2_X = 36,
	EVT_MKDIR_X = 37,
	EVT_MKDIRAT_X = 38,
	EVT_RMDIR_X = 39,
	EVT_CHMOD_X = 40,
	EVT_FCHMOD_X = 41,
	EVT_FCHMODAT_X = 42,
	EVT_CHDIR_X = 43,
	EVT_FCHDIR_X = 44,
	EVT_MEMFD_CREATE_X = 45,
	EVT_MOUNT_X = 46,
	EVT_UMOUNT2_X = 47,
	EVT_FCNTL_X = 48,
	EVT_PIPE_X = 49,
	EVT_PIPE2_X = 50,
	EVT_USERFAULTFD_X = 51,
	EVT_CLOSE_RANGE_X = 52,
	/* network */
	EVT_SOCKET_X = 60,
	EVT_CONNECT_X = 61,
	EVT_ACCEPT_X = 62,
	EVT_ACCEPT4_X = 63,
	EVT_BIND_X = 64,
	EVT_LISTEN_X = 65,
	EVT_SENDTO_X = 66,
	EVT_SENDMSG_X = 67,
	EVT_RECVFROM_X = 68,
	EVT_RECVMSG_X = 69,
	EVT_SOCKETPAIR_X = 70,
	/* credentials, namespaces, privileged operations */
	EVT_SETUID_X = 80,
	EVT_SETGID_X = 81,
	EVT_SETRESUID_X = 82,
	EVT_SETRESGID_X = 83,
	EVT_SETNS_X = 84,
	EVT_UNSHARE_X = 85,
	EVT_PTRACE_X = 86,
	EVT_INIT_MODULE_X = 87,
	EVT_FINIT_MODULE_X = 88,
	EVT_BPF_X = 89,
	EVT_PRCTL_X = 90,
	EVT_CAPSET_X = 91,
	EVT_KILL_X = 92,
	EVT_SETSID_X = 93,
	EVT_SETPGID_X = 94,
	EVT_CHROOT_X = 95,
	EVT_SETREUID_X = 96,
	EVT_SETREGID_X = 97,
	_EVT_TYPE_DEDICATED_MAX = 128, /* dedicated events are < this */
	EVT_GENERIC_BASE = 256,	       /* EVT_GENERIC_BASE + syscall id */
	EVT_TYPE_MAX = EVT_GENERIC_BASE + EVT_SYSCALL_MAX,
};

/* ---- drop and event counters (one struct per CPU, BPF_MAP_TYPE_PERCPU_ARRAY "counters" with one entry) ---- */

enum evt_category {
	EVT_CAT_EXEC = 0,
	EVT_CAT_CLONE = 1,
	EVT_CAT_OPEN = 2,
	EVT_CAT_CONNECT = 3,
	EVT_CAT_CLOSE = 4,
	EVT_CAT_PROCEXIT = 5,
	EVT_CAT_OTHER = 6,
	_EVT_CAT_MAX = 8, /* slots in the arrays below; 7 is unused */
};

struct evt_counters {
	__u64 n_evts;		/* events attempted, drops included */
	__u64 n_drops_buffer;	/* the ring was full */
	__u64 n_drops_max_size; /* the event would exceed EVT_MAX_SIZE */
	__u64 n_drops_no_ring;	/* no ring for this CPU (hot-plugged after start) */
	__u64 n_read_fail;	/* a kernel or user read failed: that parameter was sent empty */
	__u64 n_compat_skip;	/* ia32 compat syscalls are not decoded: counted and skipped */
	__u64 n_wakeups;	/* records submitted with a forced consumer wakeup */
	__u64 reserved;
	__u64 n_evts_cat[_EVT_CAT_MAX];
	__u64 n_drops_buffer_cat[_EVT_CAT_MAX];
};
_Static_assert(sizeof(struct evt_counters) == 192, "abi: evt_counters");

/* Values of the "interesting syscalls" array (index: syscall id). */
#define EVT_SC_EXIT  0x1u /* emit the exit event */
#define EVT_SC_ENTER 0x2u /* emit the entry event too (EVT_*_E) */

/* Bits of the cfg_flags tunable (set by user space before load). */
#define EVT_CFG_CAPTURE_ENV	0x1u /* exec events carry the environment */
#define EVT_CFG_CAPTURE_PAYLOAD 0x2u /* send/recv events carry up to cfg_snaplen bytes of data */
#define EVT_CFG_DROP_FAILED \
	0x4u /* failed syscalls (res < 0) are not emitted (exec and clone excepted) */

/* ---- flag values (Linux x86_64 ABI, as the kernel passes them: user space renders the names) ---- */

#define EVT_AT_FDCWD (-100)

/* open(2) flags; EVT_O_F_CREATED is ours: set on open exits when the call created the file */
#define EVT_O_ACCMODE	00000003u
#define EVT_O_RDONLY	00000000u
#define EVT_O_WRONLY	00000001u
#define EVT_O_RDWR	00000002u
#define EVT_O_CREAT	00000100u
#define EVT_O_EXCL	00000200u
#define EVT_O_NOCTTY	00000400u
#define EVT_O_TRUNC	00001000u
#define EVT_O_APPEND	00002000u
#define EVT_O_NONBLOCK	00004000u
#define EVT_O_DSYNC	00010000u
#define EVT_O_ASYNC	00020000u
#define EVT_O_DIRECT	00040000u
#define EVT_O_LARGEFILE 00100000u
#define EVT_O_DIRECTORY 00200000u
#define EVT_O_NOFOLLOW	00400000u
#define EVT_O_NOATIME	01000000u
#define EVT_O_CLOEXEC	02000000u
#define EVT_O_SYNC	04010000u /* __O_SYNC | O_DSYNC */
#define EVT_O_PATH	010000000u
#define EVT_O_TMPFILE	020200000u /* __O_TMPFILE | O_DIRECTORY */
#define EVT_O_F_CREATED (1u << 30)

/* openat2 resolve flags */
#define EVT_RESOLVE_NO_XDEV	  0x01u
#define EVT_RESOLVE_NO_MAGICLINKS 0x02u
#define EVT_RESOLVE_NO_SYMLINKS	  0x04u
#define EVT_RESOLVE_BENEATH	  0x08u
#define EVT_RESOLVE_IN_ROOT	  0x10u
#define EVT_RESOLVE_CACHED	  0x20u

/* *at() flags */
#define EVT_AT_SYMLINK_NOFOLLOW 0x100u
#define EVT_AT_REMOVEDIR	0x200u
#define EVT_AT_SYMLINK_FOLLOW	0x400u
#define EVT_AT_NO_AUTOMOUNT	0x800u
#define EVT_AT_EMPTY_PATH	0x1000u

/* renameat2 */
#define EVT_RENAME_NOREPLACE 0x1u
#define EVT_RENAME_EXCHANGE  0x2u
#define EVT_RENAME_WHITEOUT  0x4u

/* file type and permission bits (mode parameters) */
#define EVT_S_IFMT   0170000u
#define EVT_S_IFSOCK 0140000u
#define EVT_S_IFLNK  0120000u
#define EVT_S_IFREG  0100000u
#define EVT_S_IFBLK  0060000u
#define EVT_S_IFDIR  0040000u
#define EVT_S_IFCHR  0020000u
#define EVT_S_IFIFO  0010000u
#define EVT_S_ISUID  0004000u
#define EVT_S_ISGID  0002000u
#define EVT_S_ISVTX  0001000u
#define EVT_S_IRUSR  0000400u
#define EVT_S_IWUSR  0000200u
#define EVT_S_IXUSR  0000100u
#define EVT_S_IRGRP  0000040u
#define EVT_S_IWGRP  0000020u
#define EVT_S_IXGRP  0000010u
#define EVT_S_IROTH  0000004u
#define EVT_S_IWOTH  0000002u
#define EVT_S_IXOTH  0000001u

/* clone/unshare/setns flags */
#define EVT_CSIGNAL		 0x000000ffu
#define EVT_CLONE_NEWTIME	 0x00000080u
#define EVT_CLONE_VM		 0x00000100u
#define EVT_CLONE_FS		 0x00000200u
#define EVT_CLONE_FILES		 0x00000400u
#define EVT_CLONE_SIGHAND	 0x00000800u
#define EVT_CLONE_PIDFD		 0x00001000u
#define EVT_CLONE_PTRACE	 0x00002000u
#define EVT_CLONE_VFORK		 0x00004000u
#define EVT_CLONE_PARENT	 0x00008000u
#define EVT_CLONE_THREAD	 0x00010000u
#define EVT_CLONE_NEWNS		 0x00020000u
#define EVT_CLONE_SYSVSEM	 0x00040000u
#define EVT_CLONE_SETTLS	 0x00080000u
#define EVT_CLONE_PARENT_SETTID	 0x00100000u
#define EVT_CLONE_CHILD_CLEARTID 0x00200000u
#define EVT_CLONE_DETACHED	 0x00400000u
#define EVT_CLONE_UNTRACED	 0x00800000u
#define EVT_CLONE_CHILD_SETTID	 0x01000000u
#define EVT_CLONE_NEWCGROUP	 0x02000000u
#define EVT_CLONE_NEWUTS	 0x04000000u
#define EVT_CLONE_NEWIPC	 0x08000000u
#define EVT_CLONE_NEWUSER	 0x10000000u
#define EVT_CLONE_NEWPID	 0x20000000u
#define EVT_CLONE_NEWNET	 0x40000000u
#define EVT_CLONE_IO		 0x80000000u

/* execve flags parameter (ours, same meaning as upstream's PPM_EXE_*) */
#define EVT_EXE_WRITABLE    0x1u /* the executable is writable by the executing user */
#define EVT_EXE_UPPER_LAYER 0x2u /* the executable lives in an overlayfs upper layer */
#define EVT_EXE_FROM_MEMFD  0x4u /* the executable is a memfd */
#define EVT_EXE_LOWER_LAYER 0x8u /* the executable lives in an overlayfs lower layer */

/* mount(2) flags (the 0xC0ED magic in the top 16 bits is stripped by the probe) */
#define EVT_MS_RDONLY	   0x1u
#define EVT_MS_NOSUID	   0x2u
#define EVT_MS_NODEV	   0x4u
#define EVT_MS_NOEXEC	   0x8u
#define EVT_MS_SYNCHRONOUS 0x10u
#define EVT_MS_REMOUNT	   0x20u
#define EVT_MS_MANDLOCK	   0x40u
#define EVT_MS_DIRSYNC	   0x80u
#define EVT_MS_NOSYMFOLLOW 0x100u
#define EVT_MS_NOATIME	   0x400u
#define EVT_MS_NODIRATIME  0x800u
#define EVT_MS_BIND	   0x1000u
#define EVT_MS_MOVE	   0x2000u
#define EVT_MS_REC	   0x4000u
#define EVT_MS_SILENT	   0x8000u
#define EVT_MS_POSIXACL	   0x10000u
#define EVT_MS_UNBINDABLE  0x20000u
#define EVT_MS_PRIVATE	   0x40000u
#define EVT_MS_SLAVE	   0x80000u
#define EVT_MS_SHARED	   0x100000u
#define EVT_MS_RELATIME	   0x200000u
#define EVT_MS_KERNMOUNT   0x400000u
#define EVT_MS_I_VERSION   0x800000u
#define EVT_MS_STRICTATIME 0x1000000u
#define EVT_MS_LAZYTIME	   0x2000000u
#define EVT_MS_MGC_MSK	   0xffff0000u
#define EVT_MS_MGC_VAL	   0xc0ed0000u

/* umount2 flags */
#define EVT_MNT_FORCE	    0x1u
#define EVT_MNT_DETACH	    0x2u
#define EVT_MNT_EXPIRE	    0x4u
#define EVT_UMOUNT_NOFOLLOW 0x8u

/* ptrace requests */
#define EVT_PTRACE_TRACEME		0
#define EVT_PTRACE_PEEKTEXT		1
#define EVT_PTRACE_PEEKDATA		2
#define EVT_PTRACE_PEEKUSR		3
#define EVT_PTRACE_POKETEXT		4
#define EVT_PTRACE_POKEDATA		5
#define EVT_PTRACE_POKEUSR		6
#define EVT_PTRACE_CONT			7
#define EVT_PTRACE_KILL			8
#define EVT_PTRACE_SINGLESTEP		9
#define EVT_PTRACE_GETREGS		12
#define EVT_PTRACE_SETREGS		13
#define EVT_PTRACE_GETFPREGS		14
#define EVT_PTRACE_SETFPREGS		15
#define EVT_PTRACE_ATTACH		16
#define EVT_PTRACE_DETACH		17
#define EVT_PTRACE_GETFPXREGS		18
#define EVT_PTRACE_SETFPXREGS		19
#define EVT_PTRACE_SYSCALL		24
#define EVT_PTRACE_ARCH_PRCTL		30
#define EVT_PTRACE_SYSEMU		31
#define EVT_PTRACE_SYSEMU_SINGLESTEP	32
#define EVT_PTRACE_SINGLEBLOCK		33
#define EVT_PTRACE_SETOPTIONS		0x4200
#define EVT_PTRACE_GETEVENTMSG		0x4201
#define EVT_PTRACE_GETSIGINFO		0x4202
#define EVT_PTRACE_SETSIGINFO		0x4203
#define EVT_PTRACE_GETREGSET		0x4204
#define EVT_PTRACE_SETREGSET		0x4205
#define EVT_PTRACE_SEIZE		0x4206
#define EVT_PTRACE_INTERRUPT		0x4207
#define EVT_PTRACE_LISTEN		0x4208
#define EVT_PTRACE_PEEKSIGINFO		0x4209
#define EVT_PTRACE_GETSIGMASK		0x420a
#define EVT_PTRACE_SETSIGMASK		0x420b
#define EVT_PTRACE_SECCOMP_GET_FILTER	0x420c
#define EVT_PTRACE_SECCOMP_GET_METADATA 0x420d
#define EVT_PTRACE_GET_SYSCALL_INFO	0x420e

/* socket families (socket domain, sockaddr and tuple family bytes) */
#define EVT_AF_UNSPEC	  0
#define EVT_AF_UNIX	  1
#define EVT_AF_INET	  2
#define EVT_AF_AX25	  3
#define EVT_AF_IPX	  4
#define EVT_AF_APPLETALK  5
#define EVT_AF_NETROM	  6
#define EVT_AF_BRIDGE	  7
#define EVT_AF_ATMPVC	  8
#define EVT_AF_X25	  9
#define EVT_AF_INET6	  10
#define EVT_AF_ROSE	  11
#define EVT_AF_DECnet	  12
#define EVT_AF_NETBEUI	  13
#define EVT_AF_SECURITY	  14
#define EVT_AF_KEY	  15
#define EVT_AF_NETLINK	  16
#define EVT_AF_PACKET	  17
#define EVT_AF_ASH	  18
#define EVT_AF_ECONET	  19
#define EVT_AF_ATMSVC	  20
#define EVT_AF_RDS	  21
#define EVT_AF_SNA	  22
#define EVT_AF_IRDA	  23
#define EVT_AF_PPPOX	  24
#define EVT_AF_WANPIPE	  25
#define EVT_AF_LLC	  26
#define EVT_AF_IB	  27
#define EVT_AF_MPLS	  28
#define EVT_AF_CAN	  29
#define EVT_AF_TIPC	  30
#define EVT_AF_BLUETOOTH  31
#define EVT_AF_IUCV	  32
#define EVT_AF_RXRPC	  33
#define EVT_AF_ISDN	  34
#define EVT_AF_PHONET	  35
#define EVT_AF_IEEE802154 36
#define EVT_AF_CAIF	  37
#define EVT_AF_ALG	  38
#define EVT_AF_NFC	  39
#define EVT_AF_VSOCK	  40
#define EVT_AF_KCM	  41
#define EVT_AF_QIPCRTR	  42
#define EVT_AF_SMC	  43
#define EVT_AF_XDP	  44
#define EVT_AF_MCTP	  45

/* socket types and the flags or'ed into them (socket, socketpair, accept4) */
#define EVT_SOCK_STREAM	   1
#define EVT_SOCK_DGRAM	   2
#define EVT_SOCK_RAW	   3
#define EVT_SOCK_RDM	   4
#define EVT_SOCK_SEQPACKET 5
#define EVT_SOCK_DCCP	   6
#define EVT_SOCK_PACKET	   10
#define EVT_SOCK_TYPE_MASK 0xf
#define EVT_SOCK_NONBLOCK  00004000u
#define EVT_SOCK_CLOEXEC   02000000u

/* bpf(2) commands */
#define EVT_BPF_MAP_CREATE		    0
#define EVT_BPF_MAP_LOOKUP_ELEM		    1
#define EVT_BPF_MAP_UPDATE_ELEM		    2
#define EVT_BPF_MAP_DELETE_ELEM		    3
#define EVT_BPF_MAP_GET_NEXT_KEY	    4
#define EVT_BPF_PROG_LOAD		    5
#define EVT_BPF_OBJ_PIN			    6
#define EVT_BPF_OBJ_GET			    7
#define EVT_BPF_PROG_ATTACH		    8
#define EVT_BPF_PROG_DETACH		    9
#define EVT_BPF_PROG_TEST_RUN		    10
#define EVT_BPF_PROG_GET_NEXT_ID	    11
#define EVT_BPF_MAP_GET_NEXT_ID		    12
#define EVT_BPF_PROG_GET_FD_BY_ID	    13
#define EVT_BPF_MAP_GET_FD_BY_ID	    14
#define EVT_BPF_OBJ_GET_INFO_BY_FD	    15
#define EVT_BPF_PROG_QUERY		    16
#define EVT_BPF_RAW_TRACEPOINT_OPEN	    17
#define EVT_BPF_BTF_LOAD		    18
#define EVT_BPF_BTF_GET_FD_BY_ID	    19
#define EVT_BPF_TASK_FD_QUERY		    20
#define EVT_BPF_MAP_LOOKUP_AND_DELETE_ELEM  21
#define EVT_BPF_MAP_FREEZE		    22
#define EVT_BPF_BTF_GET_NEXT_ID		    23
#define EVT_BPF_MAP_LOOKUP_BATCH	    24
#define EVT_BPF_MAP_LOOKUP_AND_DELETE_BATCH 25
#define EVT_BPF_MAP_UPDATE_BATCH	    26
#define EVT_BPF_MAP_DELETE_BATCH	    27
#define EVT_BPF_LINK_CREATE		    28
#define EVT_BPF_LINK_UPDATE		    29
#define EVT_BPF_LINK_GET_FD_BY_ID	    30
#define EVT_BPF_LINK_GET_NEXT_ID	    31
#define EVT_BPF_ENABLE_STATS		    32
#define EVT_BPF_ITER_CREATE		    33
#define EVT_BPF_LINK_DETACH		    34
#define EVT_BPF_PROG_BIND_MAP		    35
#define EVT_BPF_TOKEN_CREATE		    36

/* prctl options (the ones rendered by name) */
#define EVT_PR_SET_PDEATHSIG	   1
#define EVT_PR_GET_PDEATHSIG	   2
#define EVT_PR_GET_DUMPABLE	   3
#define EVT_PR_SET_DUMPABLE	   4
#define EVT_PR_GET_KEEPCAPS	   7
#define EVT_PR_SET_KEEPCAPS	   8
#define EVT_PR_SET_NAME		   15
#define EVT_PR_GET_NAME		   16
#define EVT_PR_GET_SECCOMP	   21
#define EVT_PR_SET_SECCOMP	   22
#define EVT_PR_CAPBSET_READ	   23
#define EVT_PR_CAPBSET_DROP	   24
#define EVT_PR_GET_SECUREBITS	   27
#define EVT_PR_SET_SECUREBITS	   28
#define EVT_PR_SET_MM		   35
#define EVT_PR_SET_CHILD_SUBREAPER 36
#define EVT_PR_GET_CHILD_SUBREAPER 37
#define EVT_PR_SET_NO_NEW_PRIVS	   38
#define EVT_PR_GET_NO_NEW_PRIVS	   39
#define EVT_PR_GET_TID_ADDRESS	   40
#define EVT_PR_SET_THP_DISABLE	   41
#define EVT_PR_GET_THP_DISABLE	   42
#define EVT_PR_CAP_AMBIENT	   47
#define EVT_PR_SET_PTRACER	   0x59616d61

/* memfd_create flags */
#define EVT_MFD_CLOEXEC	      0x1u
#define EVT_MFD_ALLOW_SEALING 0x2u
#define EVT_MFD_HUGETLB	      0x4u
#define EVT_MFD_NOEXEC_SEAL   0x8u
#define EVT_MFD_EXEC	      0x10u

/* finit_module flags */
#define EVT_MODULE_INIT_IGNORE_MODVERSIONS 0x1u
#define EVT_MODULE_INIT_IGNORE_VERMAGIC	   0x2u
#define EVT_MODULE_INIT_COMPRESSED_FILE	   0x4u

/* close_range flags */
#define EVT_CLOSE_RANGE_UNSHARE 0x2u
#define EVT_CLOSE_RANGE_CLOEXEC 0x4u

/* userfaultfd flags (besides O_CLOEXEC/O_NONBLOCK) */
#define EVT_UFFD_USER_MODE_ONLY 0x1u

/* fcntl commands (the ones that create descriptors or change their flags) */
#define EVT_F_DUPFD	    0
#define EVT_F_GETFD	    1
#define EVT_F_SETFD	    2
#define EVT_F_GETFL	    3
#define EVT_F_SETFL	    4
#define EVT_F_DUPFD_CLOEXEC 1030

#endif /* FALCO_EVENTS_H */
