/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Decoding of driver records (driver/falco_events.h) without allocation: evt_decode() validates a record and fills
 * a small struct of parameter offsets; typed accessors read parameters from it; evt_render_param() prints one the
 * way upstream's evt.arg.<name> does (flag names, "ip:port", ...). A record is never trusted: every length is
 * checked against the record, the record against the buffer, and fixed-size parameters against their type.
 *
 * The struct evt_rec borrows the record (a ring buffer slot or a capture-file buffer): it is valid only as long
 * as that memory is. Nothing here logs or allocates.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "driver/falco_events.h"

/* ---- the event table: names and parameter lists (falco/source/evt_table.c) ---- */

/* Named value sets used to render FLAGS / ENUMFLAGS / MODE / SIGTYPE parameters. */
enum evt_valset {
	EVT_VS_NONE = 0,
	EVT_VS_OPEN_FLAGS,     /* O_* (access mode rendered as O_RDONLY/O_WRONLY/O_RDWR) */
	EVT_VS_RESOLVE,	       /* openat2 RESOLVE_* */
	EVT_VS_AT_FLAGS,       /* AT_* (linkat, execveat, ...) */
	EVT_VS_UNLINKAT_FLAGS, /* AT_REMOVEDIR */
	EVT_VS_RENAME_FLAGS,   /* RENAME_* */
	EVT_VS_MODE,	       /* S_I* permission bits */
	EVT_VS_CLONE_FLAGS,    /* CLONE_* */
	EVT_VS_EXECVE_FLAGS,   /* EXE_* */
	EVT_VS_MOUNT_FLAGS,    /* MS_* */
	EVT_VS_UMOUNT_FLAGS,   /* MNT_* */
	EVT_VS_PTRACE,	       /* PTRACE_* (enum) */
	EVT_VS_SOCKET_FAMILY,  /* AF_* (enum) */
	EVT_VS_SOCKET_TYPE,    /* SOCK_* type (enum) + SOCK_NONBLOCK/SOCK_CLOEXEC */
	EVT_VS_SOCKET_FLAGS,   /* SOCK_NONBLOCK | SOCK_CLOEXEC (accept4) */
	EVT_VS_BPF_CMD,	       /* BPF_* (enum) */
	EVT_VS_PRCTL,	       /* PR_* (enum) */
	EVT_VS_MEMFD_FLAGS,    /* MFD_* */
	EVT_VS_FINIT_MODULE,   /* MODULE_INIT_* */
	EVT_VS_UFFD_FLAGS,     /* O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY */
	EVT_VS_FCNTL_CMD,      /* F_* (enum) */
	EVT_VS_SIGNAL,	       /* SIGKILL, ... (enum) */
	EVT_VS_FD_FLAGS,       /* O_CLOEXEC (dup3) */
	EVT_VS_CLOSE_RANGE,    /* CLOSE_RANGE_* */
	EVT_VS_OCTAL,	       /* not a set: an integer rendered in octal (open/mkdir modes) */
	_EVT_VS_MAX,
};

struct evt_param_info {
	const char *name; /* upstream's argument name: evt.arg.<name> */
	uint8_t type;	  /* enum evt_param_type */
	uint8_t valset;	  /* enum evt_valset for flags/enums/modes/signals */
	int8_t dirfd;	  /* FSRELPATH: index of the dirfd parameter; else -1 */
};

/* evt_info.flags */
#define EVT_INFO_ENTER	     0x01u /* an entry event (EVT_*_E) */
#define EVT_INFO_CREATES_FD  0x02u /* on success the result (or a param) is a new fd */
#define EVT_INFO_DESTROYS_FD 0x04u
#define EVT_INFO_USES_FD     0x08u
#define EVT_INFO_MODIFIES_PROC \
	0x10u /* changes the process table (clone, exec, exit, setuid, chdir, ...) */
#define EVT_INFO_GENERIC 0x20u /* EVT_GENERIC_BASE + syscall id */

struct evt_info {
	const char *
		name; /* evt.type: "openat" (entry and exit share the name); generic: the syscall name */
	uint8_t category; /* enum evt_category */
	uint8_t nparams;
	uint16_t flags; /* EVT_INFO_* */
	const struct evt_param_info *params;
};

/*
 * The table entry for an event type, or NULL for a type this build does not know (a newer driver's event: skip
 * it). Generic types (EVT_GENERIC_BASE + id) share one parameter list; their name is the syscall's.
 */
const struct evt_info *evt_info(uint16_t type);
/* Index of the parameter called name, or -ENOENT. */
int evt_param_index(const struct evt_info *info, const char *name);

/* ---- decoding ---- */

struct evt_rec {
	const uint8_t *base; /* the record (struct evt_hdr first), borrowed */
	const struct evt_info *info;
	uint64_t ts;
	uint32_t tid, pid;
	uint32_t len;
	uint16_t type;
	uint8_t nparams; /* as sent; may exceed info->nparams (a newer driver appended parameters) */
	uint16_t lens[EVT_MAX_PARAMS];
	uint32_t offs[EVT_MAX_PARAMS]; /* from base */
};

/*
 * Validates the record in buf[0..size) and fills *ret. The record must be exactly hdr.len bytes and size must be
 * at least that (size may be larger: capture files pad). Checks: header sanity, nparams <= EVT_MAX_PARAMS and >=
 * what the table lists for the type, lengths summing exactly to the record, fixed-size parameters having their
 * exact size (or 0), strings NUL-terminated. Returns 0, -ENOMSG for an event type this build does not know (the
 * record is otherwise well formed, skip it), or -EBADMSG for a malformed record.
 */
int evt_decode(const void *buf, size_t size, struct evt_rec *ret);

/* Accessors: return 1 with a value, 0 when the parameter is absent (length 0 or index past nparams), -EINVAL when
 * the parameter's type does not fit the accessor. They never read outside the record. */

/* Signed integers of any width (INT*, ERRNO, FD, PID), sign-extended. */
int evt_get_s64(const struct evt_rec *r, unsigned idx, int64_t *ret);
/* Unsigned integers of any width (UINT*, FLAGS*, ENUMFLAGS*, UID, GID, MODE, SIGTYPE, SYSCALLID, times); signed
 * types are returned as their two's-complement bits. */
int evt_get_u64(const struct evt_rec *r, unsigned idx, uint64_t *ret);
/* CHARBUF / FSPATH / FSRELPATH: *ret points into the record, NUL-terminated; *ret_len excludes the NUL. */
int evt_get_str(const struct evt_rec *r, unsigned idx, const char **ret, size_t *ret_len);
/* Any parameter as raw bytes (BYTEBUF: args, env, cgroups, payload). */
int evt_get_buf(const struct evt_rec *r, unsigned idx, const uint8_t **ret, size_t *ret_len);

struct evt_sockaddr {
	uint8_t family;	  /* EVT_AF_* */
	uint8_t ip[16];	  /* INET: 4 bytes, INET6: 16 bytes, network order */
	uint16_t port;	  /* host order */
	const char *path; /* UNIX: borrowed, NUL-terminated; else NULL */
	size_t path_len;
};

struct evt_socktuple {
	uint8_t family;
	uint8_t sip[16], dip[16];
	uint16_t sport, dport;
	uint64_t src_id, dst_id; /* UNIX: kernel socket ids */
	const char *path;	 /* UNIX: borrowed; else NULL */
	size_t path_len;
};

/* SOCKADDR / SOCKTUPLE. -EBADMSG when the family's layout does not fit the length. */
int evt_get_sockaddr(const struct evt_rec *r, unsigned idx, struct evt_sockaddr *ret);
int evt_get_socktuple(const struct evt_rec *r, unsigned idx, struct evt_socktuple *ret);

/* The same by parameter name (evt.arg.<name>): -ENOENT when the event has no such parameter. */
int evt_find(const struct evt_rec *r, const char *name);

/* ---- rendering (upstream's evt.arg.<name> text) ---- */

/*
 * Appends parameter idx as upstream renders evt.arg.<name>: integers in decimal, flags as names joined by '|'
 * ("O_TRUNC|O_CREAT|O_WRONLY"), enums as their name (PTRACE_ATTACH, AF_PACKET, BPF_PROG_LOAD) or the number when
 * unnamed, modes as S_I* names, signals as names (SIGKILL), sockaddr as "1.2.3.4:80" / "::1:80" / the unix path,
 * tuples as "sip:sport->dip:dport", byte buffers with non-printable bytes as '.'. Returns 1 after appending, 0 when
 * absent (nothing appended), -errno (strbuf failure).
 */
int evt_render_param(const struct evt_rec *r, unsigned idx, struct strbuf *sb);
/* Appends the names of value's bits/enum value in value set vs (as above). Returns 0 or the strbuf error. */
int evt_render_flags(enum evt_valset vs, uint64_t value, struct strbuf *sb);
/* Name of an enum value (PTRACE_ATTACH, AF_INET, SIGKILL, ...) or NULL. */
const char *evt_enum_name(enum evt_valset vs, uint64_t value);

/* Helpers on open flags (EVT_O_*), for evt.is_open_read/write/exec and fd state. */
static inline bool evt_open_flags_read(uint32_t f)
{
	return (f & EVT_O_ACCMODE) == EVT_O_RDONLY || (f & EVT_O_ACCMODE) == EVT_O_RDWR;
}

static inline bool evt_open_flags_write(uint32_t f)
{
	return (f & EVT_O_ACCMODE) == EVT_O_WRONLY || (f & EVT_O_ACCMODE) == EVT_O_RDWR;
}
