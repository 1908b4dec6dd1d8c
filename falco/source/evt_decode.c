/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Record validation, typed parameter accessors and upstream-style rendering. See evt_decode.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "common/macro.h"
#include "evt_decode.h"
#include "syscall_table.h"

/* ---- parameter widths ---- */

#define W_STR (-1) /* NUL-terminated string */
#define W_VAR 0	   /* variable: validated by the accessor */

static int param_width(uint8_t type)
{
	switch (type) {
	case EVT_PT_INT8:
	case EVT_PT_UINT8:
	case EVT_PT_SIGTYPE:
	case EVT_PT_FLAGS8:
	case EVT_PT_ENUMFLAGS8:
		return 1;
	case EVT_PT_INT16:
	case EVT_PT_UINT16:
	case EVT_PT_FLAGS16:
	case EVT_PT_ENUMFLAGS16:
	case EVT_PT_SYSCALLID:
		return 2;
	case EVT_PT_INT32:
	case EVT_PT_UINT32:
	case EVT_PT_FLAGS32:
	case EVT_PT_ENUMFLAGS32:
	case EVT_PT_UID:
	case EVT_PT_GID:
	case EVT_PT_MODE:
		return 4;
	case EVT_PT_INT64:
	case EVT_PT_UINT64:
	case EVT_PT_ERRNO:
	case EVT_PT_FD:
	case EVT_PT_PID:
	case EVT_PT_RELTIME:
	case EVT_PT_ABSTIME:
	case EVT_PT_FLAGS64:
	case EVT_PT_SIGSET:
		return 8;
	case EVT_PT_CHARBUF:
	case EVT_PT_FSPATH:
	case EVT_PT_FSRELPATH:
		return W_STR;
	default:
		return W_VAR;
	}
}

static bool is_signed(uint8_t type)
{
	switch (type) {
	case EVT_PT_INT8:
	case EVT_PT_INT16:
	case EVT_PT_INT32:
	case EVT_PT_INT64:
	case EVT_PT_ERRNO:
	case EVT_PT_FD:
	case EVT_PT_PID:
		return true;
	default:
		return false;
	}
}

/* ---- decoding ---- */

int evt_decode(const void *buf, size_t size, struct evt_rec *ret)
{
	const uint8_t *b = buf;
	struct evt_hdr h;

	if (!b || size < sizeof(h))
		return -EBADMSG;
	memcpy(&h, b, sizeof(h));
	if (h.len < sizeof(h) || h.len > size || h.len > EVT_MAX_SIZE || h.nparams > EVT_MAX_PARAMS)
		return -EBADMSG;
	uint32_t off = EVT_PARAMS_OFF(h.nparams);
	if (off > h.len)
		return -EBADMSG;
	for (unsigned i = 0; i < h.nparams; i++) {
		uint16_t l;
		memcpy(&l, b + EVT_LENS_OFF + 2 * i, 2);
		ret->lens[i] = l;
		ret->offs[i] = off;
		off += l;
		if (off > h.len)
			return -EBADMSG;
	}
	if (off != h.len)
		return -EBADMSG;

	const struct evt_info *info = evt_info(h.type);
	if (!info)
		return -ENOMSG;
	if (h.nparams < info->nparams)
		return -EBADMSG;
	for (unsigned i = 0; i < info->nparams; i++) {
		uint16_t l = ret->lens[i];
		if (l == 0)
			continue;
		int w = param_width(info->params[i].type);
		if (w > 0 && l != w)
			return -EBADMSG;
		if (w == W_STR && b[ret->offs[i] + l - 1] != '\0')
			return -EBADMSG;
	}
	ret->base = b;
	ret->info = info;
	ret->ts = h.ts;
	ret->tid = h.tid;
	ret->pid = h.pid;
	ret->len = h.len;
	ret->type = h.type;
	ret->nparams = h.nparams;
	return 0;
}

/* ---- accessors ---- */

/* Returns the parameter's type, or -1 when idx is not described by the table (a newer driver's extra param). */
static int ptype(const struct evt_rec *r, unsigned idx)
{
	return idx < r->info->nparams ? r->info->params[idx].type : -1;
}

static uint64_t read_uint(const uint8_t *p, unsigned w)
{
	switch (w) {
	case 1:
		return p[0];
	case 2: {
		uint16_t v;
		memcpy(&v, p, 2);
		return v;
	}
	case 4: {
		uint32_t v;
		memcpy(&v, p, 4);
		return v;
	}
	default: {
		uint64_t v;
		memcpy(&v, p, 8);
		return v;
	}
	}
}

int evt_get_u64(const struct evt_rec *r, unsigned idx, uint64_t *ret)
{
	if (idx >= r->nparams || r->lens[idx] == 0)
		return 0;
	int t = ptype(r, idx);
	if (t < 0)
		return 0;
	int w = param_width((uint8_t)t);
	if (w <= 0)
		return -EINVAL;
	*ret = read_uint(r->base + r->offs[idx], (unsigned)w);
	return 1;
}

int evt_get_s64(const struct evt_rec *r, unsigned idx, int64_t *ret)
{
	uint64_t u;
	int t = ptype(r, idx);
	int k = evt_get_u64(r, idx, &u);
	if (k <= 0)
		return k;
	if (!is_signed((uint8_t)t))
		return -EINVAL;
	switch (param_width((uint8_t)t)) {
	case 1:
		*ret = (int8_t)u;
		break;
	case 2:
		*ret = (int16_t)u;
		break;
	case 4:
		*ret = (int32_t)u;
		break;
	default:
		*ret = (int64_t)u;
		break;
	}
	return 1;
}

int evt_get_str(const struct evt_rec *r, unsigned idx, const char **ret, size_t *ret_len)
{
	if (idx >= r->nparams || r->lens[idx] == 0)
		return 0;
	int t = ptype(r, idx);
	if (t < 0)
		return 0;
	if (param_width((uint8_t)t) != W_STR)
		return -EINVAL;
	const char *s = (const char *)r->base + r->offs[idx];
	*ret = s;
	if (ret_len)
		*ret_len = strnlen(s, r->lens[idx]); /* validated: a NUL ends the param */
	return 1;
}

int evt_get_buf(const struct evt_rec *r, unsigned idx, const uint8_t **ret, size_t *ret_len)
{
	if (idx >= r->nparams || r->lens[idx] == 0)
		return 0;
	*ret = r->base + r->offs[idx];
	*ret_len = r->lens[idx];
	return 1;
}

/* UNIX paths: up to the first NUL inside the param; an abstract name (leading NUL) starts with '@' already. */
static int unix_path(const uint8_t *p, size_t n, const char **ret, size_t *ret_len)
{
	const uint8_t *nul = memchr(p, 0, n);
	if (!nul)
		return -EBADMSG;
	*ret = (const char *)p;
	*ret_len = (size_t)(nul - p);
	return 0;
}

int evt_get_sockaddr(const struct evt_rec *r, unsigned idx, struct evt_sockaddr *ret)
{
	const uint8_t *p;
	size_t n;
	int k;

	if (ptype(r, idx) != EVT_PT_SOCKADDR && ptype(r, idx) >= 0)
		return -EINVAL;
	k = evt_get_buf(r, idx, &p, &n);
	if (k <= 0 || ptype(r, idx) < 0)
		return k <= 0 ? k : 0;
	memset(ret, 0, sizeof(*ret));
	ret->family = p[0];
	switch (p[0]) {
	case EVT_AF_INET:
		if (n != 1 + 4 + 2)
			return -EBADMSG;
		memcpy(ret->ip, p + 1, 4);
		memcpy(&ret->port, p + 5, 2);
		break;
	case EVT_AF_INET6:
		if (n != 1 + 16 + 2)
			return -EBADMSG;
		memcpy(ret->ip, p + 1, 16);
		memcpy(&ret->port, p + 17, 2);
		break;
	case EVT_AF_UNIX:
		if (n < 2 || unix_path(p + 1, n - 1, &ret->path, &ret->path_len) < 0)
			return -EBADMSG;
		break;
	default:
		break;
	}
	return 1;
}

int evt_get_socktuple(const struct evt_rec *r, unsigned idx, struct evt_socktuple *ret)
{
	const uint8_t *p;
	size_t n;
	int k;

	if (ptype(r, idx) != EVT_PT_SOCKTUPLE && ptype(r, idx) >= 0)
		return -EINVAL;
	k = evt_get_buf(r, idx, &p, &n);
	if (k <= 0 || ptype(r, idx) < 0)
		return k <= 0 ? k : 0;
	memset(ret, 0, sizeof(*ret));
	ret->family = p[0];
	switch (p[0]) {
	case EVT_AF_INET:
		if (n != 13)
			return -EBADMSG;
		memcpy(ret->sip, p + 1, 4);
		memcpy(&ret->sport, p + 5, 2);
		memcpy(ret->dip, p + 7, 4);
		memcpy(&ret->dport, p + 11, 2);
		break;
	case EVT_AF_INET6:
		if (n != 37)
			return -EBADMSG;
		memcpy(ret->sip, p + 1, 16);
		memcpy(&ret->sport, p + 17, 2);
		memcpy(ret->dip, p + 19, 16);
		memcpy(&ret->dport, p + 35, 2);
		break;
	case EVT_AF_UNIX:
		if (n < 18 || unix_path(p + 17, n - 17, &ret->path, &ret->path_len) < 0)
			return -EBADMSG;
		memcpy(&ret->src_id, p + 1, 8);
		memcpy(&ret->dst_id, p + 9, 8);
		break;
	default:
		break;
	}
	return 1;
}

int evt_find(const struct evt_rec *r, const char *name)
{
	return evt_param_index(r->info, name);
}

/* ---- value sets ---- */

struct nv {
	const char *name;
	uint64_t value;
};

/* Upstream's order (flags_table.c): the rendering of combined bits follows it. Access modes are handled apart. */
static const struct nv open_flags[] = {
	{"O_LARGEFILE", EVT_O_LARGEFILE}, {"O_TMPFILE", EVT_O_TMPFILE},
	{"O_DIRECTORY", EVT_O_DIRECTORY}, {"O_DIRECT", EVT_O_DIRECT},
	{"O_TRUNC", EVT_O_TRUNC},	  {"O_SYNC", EVT_O_SYNC},
	{"O_NONBLOCK", EVT_O_NONBLOCK},	  {"O_EXCL", EVT_O_EXCL},
	{"O_DSYNC", EVT_O_DSYNC},	  {"O_APPEND", EVT_O_APPEND},
	{"O_CREAT", EVT_O_CREAT},	  {NULL, 0} /* access mode here */,
	{"O_CLOEXEC", EVT_O_CLOEXEC},	  {"O_F_CREATED", EVT_O_F_CREATED},
};

static const struct nv resolve_flags[] = {
	{"RESOLVE_BENEATH", EVT_RESOLVE_BENEATH},
	{"RESOLVE_IN_ROOT", EVT_RESOLVE_IN_ROOT},
	{"RESOLVE_NO_MAGICLINKS", EVT_RESOLVE_NO_MAGICLINKS},
	{"RESOLVE_NO_SYMLINKS", EVT_RESOLVE_NO_SYMLINKS},
	{"RESOLVE_NO_XDEV", EVT_RESOLVE_NO_XDEV},
	{"RESOLVE_CACHED", EVT_RESOLVE_CACHED},
};

static const struct nv at_flags[] = {
	{"AT_SYMLINK_NOFOLLOW", EVT_AT_SYMLINK_NOFOLLOW},
	{"AT_SYMLINK_FOLLOW", EVT_AT_SYMLINK_FOLLOW},
	{"AT_EMPTY_PATH", EVT_AT_EMPTY_PATH},
	{"AT_NO_AUTOMOUNT", EVT_AT_NO_AUTOMOUNT},
};

static const struct nv unlinkat_flags[] = {
	{"AT_REMOVEDIR", EVT_AT_REMOVEDIR},
};

static const struct nv rename_flags[] = {
	{"RENAME_NOREPLACE", EVT_RENAME_NOREPLACE},
	{"RENAME_EXCHANGE", EVT_RENAME_EXCHANGE},
	{"RENAME_WHITEOUT", EVT_RENAME_WHITEOUT},
};

static const struct nv mode_flags[] = {
	{"S_IXOTH", EVT_S_IXOTH}, {"S_IWOTH", EVT_S_IWOTH}, {"S_IROTH", EVT_S_IROTH},
	{"S_IXGRP", EVT_S_IXGRP}, {"S_IWGRP", EVT_S_IWGRP}, {"S_IRGRP", EVT_S_IRGRP},
	{"S_IXUSR", EVT_S_IXUSR}, {"S_IWUSR", EVT_S_IWUSR}, {"S_IRUSR", EVT_S_IRUSR},
	{"S_ISVTX", EVT_S_ISVTX}, {"S_ISGID", EVT_S_ISGID}, {"S_ISUID", EVT_S_ISUID},
};

static const struct nv clone_flags[] = {
	{"CLONE_FILES", EVT_CLONE_FILES},
	{"CLONE_FS", EVT_CLONE_FS},
	{"CLONE_IO", EVT_CLONE_IO},
	{"CLONE_NEWIPC", EVT_CLONE_NEWIPC},
	{"CLONE_NEWNET", EVT_CLONE_NEWNET},
	{"CLONE_NEWNS", EVT_CLONE_NEWNS},
	{"CLONE_NEWPID", EVT_CLONE_NEWPID},
	{"CLONE_NEWUTS", EVT_CLONE_NEWUTS},
	{"CLONE_PARENT", EVT_CLONE_PARENT},
	{"CLONE_PARENT_SETTID", EVT_CLONE_PARENT_SETTID},
	{"CLONE_PTRACE", EVT_CLONE_PTRACE},
	{"CLONE_SIGHAND", EVT_CLONE_SIGHAND},
	{"CLONE_SYSVSEM", EVT_CLONE_SYSVSEM},
	{"CLONE_THREAD", EVT_CLONE_THREAD},
	{"CLONE_UNTRACED", EVT_CLONE_UNTRACED},
	{"CLONE_VM", EVT_CLONE_VM},
	{"CLONE_NEWUSER", EVT_CLONE_NEWUSER},
	{"CLONE_CHILD_CLEARTID", EVT_CLONE_CHILD_CLEARTID},
	{"CLONE_CHILD_SETTID", EVT_CLONE_CHILD_SETTID},
	{"CLONE_SETTLS", EVT_CLONE_SETTLS},
	{"CLONE_VFORK", EVT_CLONE_VFORK},
	{"CLONE_NEWCGROUP", EVT_CLONE_NEWCGROUP},
	{"CLONE_PIDFD", EVT_CLONE_PIDFD},
	{"CLONE_NEWTIME", EVT_CLONE_NEWTIME},
};

static const struct nv execve_flags[] = {
	{"EXE_WRITABLE", EVT_EXE_WRITABLE},
	{"EXE_UPPER_LAYER", EVT_EXE_UPPER_LAYER},
	{"EXE_FROM_MEMFD", EVT_EXE_FROM_MEMFD},
	{"EXE_LOWER_LAYER", EVT_EXE_LOWER_LAYER},
};

/* upstream renders mount flags without the MS_ prefix */
static const struct nv mount_flags[] = {
	{"RDONLY", EVT_MS_RDONLY},
	{"NOSUID", EVT_MS_NOSUID},
	{"NODEV", EVT_MS_NODEV},
	{"NOEXEC", EVT_MS_NOEXEC},
	{"SYNCHRONOUS", EVT_MS_SYNCHRONOUS},
	{"REMOUNT", EVT_MS_REMOUNT},
	{"MANDLOCK", EVT_MS_MANDLOCK},
	{"DIRSYNC", EVT_MS_DIRSYNC},
	{"NOSYMFOLLOW", EVT_MS_NOSYMFOLLOW},
	{"NOATIME", EVT_MS_NOATIME},
	{"NODIRATIME", EVT_MS_NODIRATIME},
	{"BIND", EVT_MS_BIND},
	{"MOVE", EVT_MS_MOVE},
	{"REC", EVT_MS_REC},
	{"SILENT", EVT_MS_SILENT},
	{"POSIXACL", EVT_MS_POSIXACL},
	{"UNBINDABLE", EVT_MS_UNBINDABLE},
	{"PRIVATE", EVT_MS_PRIVATE},
	{"SLAVE", EVT_MS_SLAVE},
	{"SHARED", EVT_MS_SHARED},
	{"RELATIME", EVT_MS_RELATIME},
	{"KERNMOUNT", EVT_MS_KERNMOUNT},
	{"I_VERSION", EVT_MS_I_VERSION},
	{"STRICTATIME", EVT_MS_STRICTATIME},
	{"LAZYTIME", EVT_MS_LAZYTIME},
};

static const struct nv umount_flags[] = {
	{"FORCE", EVT_MNT_FORCE},
	{"DETACH", EVT_MNT_DETACH},
	{"EXPIRE", EVT_MNT_EXPIRE},
	{"NOFOLLOW", EVT_UMOUNT_NOFOLLOW},
};

static const struct nv ptrace_requests[] = {
	{"PTRACE_TRACEME", EVT_PTRACE_TRACEME},
	{"PTRACE_PEEKTEXT", EVT_PTRACE_PEEKTEXT},
	{"PTRACE_PEEKDATA", EVT_PTRACE_PEEKDATA},
	{"PTRACE_PEEKUSR", EVT_PTRACE_PEEKUSR},
	{"PTRACE_POKETEXT", EVT_PTRACE_POKETEXT},
	{"PTRACE_POKEDATA", EVT_PTRACE_POKEDATA},
	{"PTRACE_POKEUSR", EVT_PTRACE_POKEUSR},
	{"PTRACE_CONT", EVT_PTRACE_CONT},
	{"PTRACE_KILL", EVT_PTRACE_KILL},
	{"PTRACE_SINGLESTEP", EVT_PTRACE_SINGLESTEP},
	{"PTRACE_GETREGS", EVT_PTRACE_GETREGS},
	{"PTRACE_SETREGS", EVT_PTRACE_SETREGS},
	{"PTRACE_GETFPREGS", EVT_PTRACE_GETFPREGS},
	{"PTRACE_SETFPREGS", EVT_PTRACE_SETFPREGS},
	{"PTRACE_ATTACH", EVT_PTRACE_ATTACH},
	{"PTRACE_DETACH", EVT_PTRACE_DETACH},
	{"PTRACE_GETFPXREGS", EVT_PTRACE_GETFPXREGS},
	{"PTRACE_SETFPXREGS", EVT_PTRACE_SETFPXREGS},
	{"PTRACE_SYSCALL", EVT_PTRACE_SYSCALL},
	{"PTRACE_ARCH_PRCTL", EVT_PTRACE_ARCH_PRCTL},
	{"PTRACE_SYSEMU", EVT_PTRACE_SYSEMU},
	{"PTRACE_SYSEMU_SINGLESTEP", EVT_PTRACE_SYSEMU_SINGLESTEP},
	{"PTRACE_SINGLEBLOCK", EVT_PTRACE_SINGLEBLOCK},
	{"PTRACE_SETOPTIONS", EVT_PTRACE_SETOPTIONS},
	{"PTRACE_GETEVENTMSG", EVT_PTRACE_GETEVENTMSG},
	{"PTRACE_GETSIGINFO", EVT_PTRACE_GETSIGINFO},
	{"PTRACE_SETSIGINFO", EVT_PTRACE_SETSIGINFO},
	{"PTRACE_GETREGSET", EVT_PTRACE_GETREGSET},
	{"PTRACE_SETREGSET", EVT_PTRACE_SETREGSET},
	{"PTRACE_SEIZE", EVT_PTRACE_SEIZE},
	{"PTRACE_INTERRUPT", EVT_PTRACE_INTERRUPT},
	{"PTRACE_LISTEN", EVT_PTRACE_LISTEN},
	{"PTRACE_PEEKSIGINFO", EVT_PTRACE_PEEKSIGINFO},
	{"PTRACE_GETSIGMASK", EVT_PTRACE_GETSIGMASK},
	{"PTRACE_SETSIGMASK", EVT_PTRACE_SETSIGMASK},
	{"PTRACE_SECCOMP_GET_FILTER", EVT_PTRACE_SECCOMP_GET_FILTER},
	{"PTRACE_SECCOMP_GET_METADATA", EVT_PTRACE_SECCOMP_GET_METADATA},
	{"PTRACE_GET_SYSCALL_INFO", EVT_PTRACE_GET_SYSCALL_INFO},
};

static const struct nv socket_families[] = {
	{"AF_UNSPEC", EVT_AF_UNSPEC},
	{"AF_UNIX", EVT_AF_UNIX},
	{"AF_INET", EVT_AF_INET},
	{"AF_AX25", EVT_AF_AX25},
	{"AF_IPX", EVT_AF_IPX},
	{"AF_APPLETALK", EVT_AF_APPLETALK},
	{"AF_NETROM", EVT_AF_NETROM},
	{"AF_BRIDGE", EVT_AF_BRIDGE},
	{"AF_ATMPVC", EVT_AF_ATMPVC},
	{"AF_X25", EVT_AF_X25},
	{"AF_INET6", EVT_AF_INET6},
	{"AF_ROSE", EVT_AF_ROSE},
	{"AF_DECnet", EVT_AF_DECnet},
	{"AF_NETBEUI", EVT_AF_NETBEUI},
	{"AF_SECURITY", EVT_AF_SECURITY},
	{"AF_KEY", EVT_AF_KEY},
	{"AF_NETLINK", EVT_AF_NETLINK},
	{"AF_PACKET", EVT_AF_PACKET},
	{"AF_ASH", EVT_AF_ASH},
	{"AF_ECONET", EVT_AF_ECONET},
	{"AF_ATMSVC", EVT_AF_ATMSVC},
	{"AF_RDS", EVT_AF_RDS},
	{"AF_SNA", EVT_AF_SNA},
	{"AF_IRDA", EVT_AF_IRDA},
	{"AF_PPPOX", EVT_AF_PPPOX},
	{"AF_WANPIPE", EVT_AF_WANPIPE},
	{"AF_LLC", EVT_AF_LLC},
	{"AF_IB", EVT_AF_IB},
	{"AF_MPLS", EVT_AF_MPLS},
	{"AF_CAN", EVT_AF_CAN},
	{"AF_TIPC", EVT_AF_TIPC},
	{"AF_BLUETOOTH", EVT_AF_BLUETOOTH},
	{"AF_IUCV", EVT_AF_IUCV},
	{"AF_RXRPC", EVT_AF_RXRPC},
	{"AF_ISDN", EVT_AF_ISDN},
	{"AF_PHONET", EVT_AF_PHONET},
	{"AF_IEEE802154", EVT_AF_IEEE802154},
	{"AF_CAIF", EVT_AF_CAIF},
	{"AF_ALG", EVT_AF_ALG},
	{"AF_NFC", EVT_AF_NFC},
	{"AF_VSOCK", EVT_AF_VSOCK},
	{"AF_KCM", EVT_AF_KCM},
	{"AF_QIPCRTR", EVT_AF_QIPCRTR},
	{"AF_SMC", EVT_AF_SMC},
	{"AF_XDP", EVT_AF_XDP},
	{"AF_MCTP", EVT_AF_MCTP},
};

static const struct nv socket_flags[] = {
	{"SOCK_NONBLOCK", EVT_SOCK_NONBLOCK},
	{"SOCK_CLOEXEC", EVT_SOCK_CLOEXEC},
};

static const struct nv bpf_cmds[] = {
	{"BPF_MAP_CREATE", 0},
	{"BPF_MAP_LOOKUP_ELEM", 1},
	{"BPF_MAP_UPDATE_ELEM", 2},
	{"BPF_MAP_DELETE_ELEM", 3},
	{"BPF_MAP_GET_NEXT_KEY", 4},
	{"BPF_PROG_LOAD", 5},
	{"BPF_OBJ_PIN", 6},
	{"BPF_OBJ_GET", 7},
	{"BPF_PROG_ATTACH", 8},
	{"BPF_PROG_DETACH", 9},
	{"BPF_PROG_TEST_RUN", 10},
	{"BPF_PROG_GET_NEXT_ID", 11},
	{"BPF_MAP_GET_NEXT_ID", 12},
	{"BPF_PROG_GET_FD_BY_ID", 13},
	{"BPF_MAP_GET_FD_BY_ID", 14},
	{"BPF_OBJ_GET_INFO_BY_FD", 15},
	{"BPF_PROG_QUERY", 16},
	{"BPF_RAW_TRACEPOINT_OPEN", 17},
	{"BPF_BTF_LOAD", 18},
	{"BPF_BTF_GET_FD_BY_ID", 19},
	{"BPF_TASK_FD_QUERY", 20},
	{"BPF_MAP_LOOKUP_AND_DELETE_ELEM", 21},
	{"BPF_MAP_FREEZE", 22},
	{"BPF_BTF_GET_NEXT_ID", 23},
	{"BPF_MAP_LOOKUP_BATCH", 24},
	{"BPF_MAP_LOOKUP_AND_DELETE_BATCH", 25},
	{"BPF_MAP_UPDATE_BATCH", 26},
	{"BPF_MAP_DELETE_BATCH", 27},
	{"BPF_LINK_CREATE", 28},
	{"BPF_LINK_UPDATE", 29},
	{"BPF_LINK_GET_FD_BY_ID", 30},
	{"BPF_LINK_GET_NEXT_ID", 31},
	{"BPF_ENABLE_STATS", 32},
	{"BPF_ITER_CREATE", 33},
	{"BPF_LINK_DETACH", 34},
	{"BPF_PROG_BIND_MAP", 35},
	{"BPF_TOKEN_CREATE", 36},
};

static const struct nv prctl_options[] = {
	{"PR_SET_PDEATHSIG", EVT_PR_SET_PDEATHSIG},
	{"PR_GET_PDEATHSIG", EVT_PR_GET_PDEATHSIG},
	{"PR_GET_DUMPABLE", EVT_PR_GET_DUMPABLE},
	{"PR_SET_DUMPABLE", EVT_PR_SET_DUMPABLE},
	{"PR_GET_KEEPCAPS", EVT_PR_GET_KEEPCAPS},
	{"PR_SET_KEEPCAPS", EVT_PR_SET_KEEPCAPS},
	{"PR_SET_NAME", EVT_PR_SET_NAME},
	{"PR_GET_NAME", EVT_PR_GET_NAME},
	{"PR_GET_SECCOMP", EVT_PR_GET_SECCOMP},
	{"PR_SET_SECCOMP", EVT_PR_SET_SECCOMP},
	{"PR_CAPBSET_READ", EVT_PR_CAPBSET_READ},
	{"PR_CAPBSET_DROP", EVT_PR_CAPBSET_DROP},
	{"PR_GET_SECUREBITS", EVT_PR_GET_SECUREBITS},
	{"PR_SET_SECUREBITS", EVT_PR_SET_SECUREBITS},
	{"PR_SET_MM", EVT_PR_SET_MM},
	{"PR_SET_CHILD_SUBREAPER", EVT_PR_SET_CHILD_SUBREAPER},
	{"PR_GET_CHILD_SUBREAPER", EVT_PR_GET_CHILD_SUBREAPER},
	{"PR_SET_NO_NEW_PRIVS", EVT_PR_SET_NO_NEW_PRIVS},
	{"PR_GET_NO_NEW_PRIVS", EVT_PR_GET_NO_NEW_PRIVS},
	{"PR_GET_TID_ADDRESS", EVT_PR_GET_TID_ADDRESS},
	{"PR_SET_THP_DISABLE", EVT_PR_SET_THP_DISABLE},
	{"PR_GET_THP_DISABLE", EVT_PR_GET_THP_DISABLE},
	{"PR_CAP_AMBIENT", EVT_PR_CAP_AMBIENT},
	{"PR_SET_PTRACER", EVT_PR_SET_PTRACER},
};

static const struct nv memfd_flags[] = {
	{"MFD_CLOEXEC", EVT_MFD_CLOEXEC}, {"MFD_ALLOW_SEALING", EVT_MFD_ALLOW_SEALING},
	{"MFD_HUGETLB", EVT_MFD_HUGETLB}, {"MFD_NOEXEC_SEAL", EVT_MFD_NOEXEC_SEAL},
	{"MFD_EXEC", EVT_MFD_EXEC},
};

static const struct nv finit_module_flags[] = {
	{"MODULE_INIT_IGNORE_MODVERSIONS", EVT_MODULE_INIT_IGNORE_MODVERSIONS},
	{"MODULE_INIT_IGNORE_VERMAGIC", EVT_MODULE_INIT_IGNORE_VERMAGIC},
	{"MODULE_INIT_COMPRESSED_FILE", EVT_MODULE_INIT_COMPRESSED_FILE},
};

static const struct nv uffd_flags[] = {
	{"O_NONBLOCK", EVT_O_NONBLOCK},
	{"O_CLOEXEC", EVT_O_CLOEXEC},
	{"UFFD_USER_MODE_ONLY", EVT_UFFD_USER_MODE_ONLY},
};

static const struct nv fd_flags[] = {
	{"O_CLOEXEC", EVT_O_CLOEXEC},
};

static const struct nv close_range_flags[] = {
	{"CLOSE_RANGE_UNSHARE", EVT_CLOSE_RANGE_UNSHARE},
	{"CLOSE_RANGE_CLOEXEC", EVT_CLOSE_RANGE_CLOEXEC},
};

static const struct nv fcntl_cmds[] = {
	{"F_DUPFD", 0},		{"F_GETFD", 1},
	{"F_SETFD", 2},		{"F_GETFL", 3},
	{"F_SETFL", 4},		{"F_GETLK", 5},
	{"F_SETLK", 6},		{"F_SETLKW", 7},
	{"F_SETOWN", 8},	{"F_GETOWN", 9},
	{"F_SETSIG", 10},	{"F_GETSIG", 11},
	{"F_SETOWN_EX", 15},	{"F_GETOWN_EX", 16},
	{"F_OFD_GETLK", 36},	{"F_OFD_SETLK", 37},
	{"F_OFD_SETLKW", 38},	{"F_SETLEASE", 1024},
	{"F_GETLEASE", 1025},	{"F_NOTIFY", 1026},
	{"F_CANCELLK", 1029},	{"F_DUPFD_CLOEXEC", 1030},
	{"F_SETPIPE_SZ", 1031}, {"F_GETPIPE_SZ", 1032},
};

static const struct nv signals[] = {
	{"SIGHUP", 1},	   {"SIGINT", 2},   {"SIGQUIT", 3},   {"SIGILL", 4},   {"SIGTRAP", 5},
	{"SIGABRT", 6},	   {"SIGBUS", 7},   {"SIGFPE", 8},    {"SIGKILL", 9},  {"SIGUSR1", 10},
	{"SIGSEGV", 11},   {"SIGUSR2", 12}, {"SIGPIPE", 13},  {"SIGALRM", 14}, {"SIGTERM", 15},
	{"SIGSTKFLT", 16}, {"SIGCHLD", 17}, {"SIGCONT", 18},  {"SIGSTOP", 19}, {"SIGTSTP", 20},
	{"SIGTTIN", 21},   {"SIGTTOU", 22}, {"SIGURG", 23},   {"SIGXCPU", 24}, {"SIGXFSZ", 25},
	{"SIGVTALRM", 26}, {"SIGPROF", 27}, {"SIGWINCH", 28}, {"SIGIO", 29},   {"SIGPWR", 30},
	{"SIGSYS", 31},
};

static const struct {
	const struct nv *v;
	size_t n;
	bool is_enum;
} valsets[_EVT_VS_MAX] = {
#define VS(id, arr, en) [EVT_VS_##id] = {arr, ARRAY_SIZE(arr), en}
	VS(OPEN_FLAGS, open_flags, false),
	VS(RESOLVE, resolve_flags, false),
	VS(AT_FLAGS, at_flags, false),
	VS(UNLINKAT_FLAGS, unlinkat_flags, false),
	VS(RENAME_FLAGS, rename_flags, false),
	VS(MODE, mode_flags, false),
	VS(CLONE_FLAGS, clone_flags, false),
	VS(EXECVE_FLAGS, execve_flags, false),
	VS(MOUNT_FLAGS, mount_flags, false),
	VS(UMOUNT_FLAGS, umount_flags, false),
	VS(PTRACE, ptrace_requests, true),
	VS(SOCKET_FAMILY, socket_families, true),
	VS(SOCKET_FLAGS, socket_flags, false),
	VS(BPF_CMD, bpf_cmds, true),
	VS(PRCTL, prctl_options, true),
	VS(MEMFD_FLAGS, memfd_flags, false),
	VS(FINIT_MODULE, finit_module_flags, false),
	VS(UFFD_FLAGS, uffd_flags, false),
	VS(FCNTL_CMD, fcntl_cmds, true),
	VS(SIGNAL, signals, true),
	VS(FD_FLAGS, fd_flags, false),
	VS(CLOSE_RANGE, close_range_flags, false),
#undef VS
};

const char *evt_enum_name(enum evt_valset vs, uint64_t value)
{
	if ((unsigned)vs >= _EVT_VS_MAX || !valsets[vs].v)
		return NULL;
	for (size_t i = 0; i < valsets[vs].n; i++)
		if (valsets[vs].v[i].name && valsets[vs].v[i].value == value)
			return valsets[vs].v[i].name;
	return NULL;
}

static int append_name(struct strbuf *sb, bool *first, const char *name)
{
	int r = 0;
	if (!*first)
		r = strbuf_appendc(sb, '|');
	*first = false;
	return r < 0 ? r : strbuf_appends(sb, name);
}

int evt_render_flags(enum evt_valset vs, uint64_t value, struct strbuf *sb)
{
	bool first = true;
	uint64_t left = value;
	int r = 0;

	if ((unsigned)vs >= _EVT_VS_MAX || !valsets[vs].v)
		return strbuf_appendf(sb, "%" PRIu64, value);
	if (valsets[vs].is_enum) {
		const char *n = evt_enum_name(vs, value);
		return n ? strbuf_appends(sb, n) : strbuf_appendf(sb, "%" PRIu64, value);
	}
	for (size_t i = 0; i < valsets[vs].n && r >= 0; i++) {
		const struct nv *e = &valsets[vs].v[i];
		if (!e->name) {
			/* open flags: the access mode is a 2-bit field, O_RDONLY is 0 */
			static const char *const acc[] = {"O_RDONLY", "O_WRONLY", "O_RDWR", NULL};
			const char *a = acc[left & EVT_O_ACCMODE];
			if (a)
				r = append_name(sb, &first, a);
			left &= ~(uint64_t)EVT_O_ACCMODE;
			continue;
		}
		if (e->value && (left & e->value) == e->value) {
			r = append_name(sb, &first, e->name);
			left &= ~e->value;
		}
	}
	if (r >= 0 && first)
		r = strbuf_appendf(sb, "%" PRIu64, value);
	return r;
}

/* ---- rendering ---- */

static int render_ip(struct strbuf *sb, uint8_t family, const uint8_t *ip, uint16_t port)
{
	char a[INET6_ADDRSTRLEN];
	if (!inet_ntop(family == EVT_AF_INET ? AF_INET : AF_INET6, ip, a, sizeof(a)))
		return -EINVAL;
	return strbuf_appendf(sb, "%s:%u", a, port);
}

static int render_bytes(struct strbuf *sb, const uint8_t *p, size_t n)
{
	int r = strbuf_reserve(sb, n);
	for (size_t i = 0; i < n && r >= 0; i++)
		r = strbuf_appendc(sb, (p[i] >= 0x20 && p[i] < 0x7f) ? (char)p[i] : '.');
	return r;
}

int evt_render_param(const struct evt_rec *r, unsigned idx, struct strbuf *sb)
{
	if (idx >= r->nparams || r->lens[idx] == 0)
		return 0;
	int t = ptype(r, idx);
	if (t < 0)
		return 0;
	const struct evt_param_info *pi = &r->info->params[idx];
	uint64_t u = 0;
	int64_t s = 0;
	int k = 0;

	switch (t) {
	case EVT_PT_INT8:
	case EVT_PT_INT16:
	case EVT_PT_INT32:
	case EVT_PT_INT64:
	case EVT_PT_ERRNO:
	case EVT_PT_FD:
	case EVT_PT_PID:
		(void)evt_get_s64(r, idx, &s);
		k = strbuf_appendf(sb, "%" PRId64, s);
		break;
	case EVT_PT_FLAGS8:
	case EVT_PT_FLAGS16:
	case EVT_PT_FLAGS32:
	case EVT_PT_FLAGS64:
	case EVT_PT_ENUMFLAGS8:
	case EVT_PT_ENUMFLAGS16:
	case EVT_PT_ENUMFLAGS32:
	case EVT_PT_MODE:
	case EVT_PT_SIGTYPE:
		(void)evt_get_u64(r, idx, &u);
		k = evt_render_flags((enum evt_valset)pi->valset, u, sb);
		break;
	case EVT_PT_SYSCALLID: {
		(void)evt_get_u64(r, idx, &u);
		const char *n = evt_syscall_name((uint32_t)u);
		k = n ? strbuf_appends(sb, n) : strbuf_appendf(sb, "%" PRIu64, u);
		break;
	}
	case EVT_PT_CHARBUF:
	case EVT_PT_FSPATH:
	case EVT_PT_FSRELPATH: {
		const char *str;
		size_t n;
		(void)evt_get_str(r, idx, &str, &n);
		k = strbuf_append(sb, str, n);
		break;
	}
	case EVT_PT_SOCKADDR: {
		struct evt_sockaddr sa;
		k = evt_get_sockaddr(r, idx, &sa);
		if (k <= 0)
			return k == 0 ? 0 : k;
		if (sa.family == EVT_AF_INET || sa.family == EVT_AF_INET6)
			k = render_ip(sb, sa.family, sa.ip, sa.port);
		else if (sa.family == EVT_AF_UNIX)
			k = strbuf_append(sb, sa.path, sa.path_len);
		else
			k = strbuf_appendf(sb, "%u", sa.family);
		break;
	}
	case EVT_PT_SOCKTUPLE: {
		struct evt_socktuple st;
		k = evt_get_socktuple(r, idx, &st);
		if (k <= 0)
			return k == 0 ? 0 : k;
		if (st.family == EVT_AF_INET || st.family == EVT_AF_INET6) {
			k = render_ip(sb, st.family, st.sip, st.sport);
			if (k >= 0)
				k = strbuf_appends(sb, "->");
			if (k >= 0)
				k = render_ip(sb, st.family, st.dip, st.dport);
		} else if (st.family == EVT_AF_UNIX) {
			k = strbuf_appendf(sb, "%" PRIx64 "->%" PRIx64 " ", st.src_id, st.dst_id);
			if (k >= 0)
				k = strbuf_append(sb, st.path, st.path_len);
		} else {
			k = strbuf_appendf(sb, "%u", st.family);
		}
		break;
	}
	case EVT_PT_BYTEBUF:
		k = render_bytes(sb, r->base + r->offs[idx], r->lens[idx]);
		break;
	default:
		(void)evt_get_u64(r, idx, &u);
		if (pi->valset == EVT_VS_OCTAL)
			k = strbuf_appendf(sb, "0%" PRIo64, u);
		else
			k = strbuf_appendf(sb, "%" PRIu64, u);
		break;
	}
	return k < 0 ? k : 1;
}
