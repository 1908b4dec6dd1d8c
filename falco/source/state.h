/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscall source's state: processes and threads, per-process file descriptors, users and groups (NSS with
 * a bounded cache), and containers. Everything lives in pools sized up front (pages are touched only as entries
 * are used) and indexed by open-addressing maps keyed by pid/tid/(pid,fd); strings are interned and refcounted
 * in a size-class slab, so a fork copies pointers, not bytes, and no event allocates.
 *
 * Owned by the engine thread: nothing here locks, except the container-runtime worker's hand-over queue
 * (state_runtime.c). Entries returned by lookups are borrowed: valid until the next state change (the next
 * event). Nothing here logs; problems are counted in struct st_stats.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver/falco_events.h"

struct evt_rec;

#define ST_NIL UINT32_MAX

/* ---- interned strings ---- */

struct st_str {
	uint32_t refs;
	uint32_t len; /* bytes, without the NUL */
	uint32_t hash;
	uint16_t cls; /* size class (state_str.c) */
	uint16_t pad;
	char s[]; /* NUL-terminated */
};

/* ---- limits ---- */

struct st_limits {
	uint32_t max_procs;	   /* thread groups */
	uint32_t max_threads;	   /* tids */
	uint32_t max_fds;	   /* descriptors of every process together */
	uint32_t max_fds_per_proc; /* descriptors of one process */
	uint32_t max_users;	   /* user + group cache entries */
	uint32_t max_containers;
	uint32_t max_ancestors;	     /* proc.aname walks (without an index) */
	size_t max_str_bytes;	     /* string pool */
	uint32_t proc_lookups_per_s; /* /proc reads for processes first seen in an event */
	/* those lookups read the socket tables at most once per this many times the last read's duration */
	uint32_t sock_read_budget;
};

/* Defaults used when a field of st_limits is 0. */
#define ST_DEFAULT_SOCK_READ_BUDGET 50u /* ~2% of a CPU at most */
#define ST_DEFAULT_MAX_PROCS	    16384u
#define ST_DEFAULT_MAX_THREADS	    65536u
#define ST_DEFAULT_MAX_FDS	    131072u
#define ST_DEFAULT_MAX_FDS_PER_PROC 4096u
#define ST_DEFAULT_MAX_USERS	    4096u
#define ST_DEFAULT_MAX_CONTAINERS   1024u
/* runtime metadata: a query that failed (timeout, unknown container yet) is asked again 1 s, then 2 s later */
#define ST_RT_MAX_ASKS		 3u
#define ST_RT_RETRY_NS		 500000000ull
#define ST_DEFAULT_MAX_ANCESTORS 64u
#define ST_DEFAULT_MAX_STR_BYTES (64u << 20)
#define ST_DEFAULT_LOOKUPS_PER_S 2000u

/* ---- processes and threads ---- */

enum st_proc_flags {
	ST_P_EXE_WRITABLE = EVT_EXE_WRITABLE, /* same bits as the execve flags parameter */
	ST_P_EXE_UPPER = EVT_EXE_UPPER_LAYER,
	ST_P_EXE_MEMFD = EVT_EXE_FROM_MEMFD,
	ST_P_EXE_LOWER = EVT_EXE_LOWER_LAYER,
	ST_P_SELF = 1u << 8, /* falco itself or one of its children: never reaches the rules */
	ST_P_FALCOCTL =
		1u << 9, /* falcoctl installing, and its children: never reaches the rules */
	ST_P_PARTIAL = 1u << 10,   /* built from an event header only (/proc had nothing) */
	ST_P_EXITED = 1u << 11,	   /* its last thread exited; removed after the current event */
	ST_P_ENV_TRIED = 1u << 12, /* the lazy environment read was attempted */
	ST_P_SEEN_EXEC = 1u << 13, /* exec'd since we know it (else: seeded or inherited image) */
	ST_P_VPGID_LEADER = 1u << 14,
};

struct st_proc {
	uint32_t pid; /* thread group id: the key */
	uint32_t ppid;
	uint32_t vpid, vpgid, pgid, sid;
	uint32_t uid, gid, loginuid; /* effective uid/gid; loginuid UINT32_MAX when unset */
	uint32_t tty;
	uint32_t nthreads;
	uint32_t flags;	  /* enum st_proc_flags */
	uint32_t fd_head; /* first descriptor (st_fd index) or ST_NIL */
	uint32_t nfds;
	uint32_t container; /* st_container index; 0 is the host */
	uint32_t next_free; /* pool free list */
	uint64_t cap_inh, cap_perm, cap_eff;
	uint64_t
		start_ts; /* process creation, ns since the epoch (clone time, or /proc start time) */
	uint64_t exe_ino, exe_ctime, exe_mtime;
	uint64_t pidns_init_start_ts;
	char comm[EVT_COMM_LEN];
	struct st_str *exe;	/* argv[0] */
	struct st_str *exepath; /* full path of the executable */
	struct st_str *args;	/* argv[1..], NUL-separated ("a\0b\0") */
	struct st_str *cwd;	/* always ends with '/' */
	struct st_str *env;	/* NUL-separated; NULL until known */
	struct st_str *root;	/* chroot, NULL = "/" */
};

struct st_thread {
	uint32_t tid, pid, vtid;
	uint32_t next_free;
};

/* ---- file descriptors ---- */

enum st_fd_type {
	FDT_UNKNOWN = 0,
	FDT_FILE,
	FDT_DIRECTORY,
	FDT_IPV4,
	FDT_IPV6,
	FDT_UNIX,
	FDT_PIPE,
	FDT_EVENT,
	FDT_SIGNALFD,
	FDT_EVENTPOLL,
	FDT_INOTIFY,
	FDT_TIMERFD,
	FDT_NETLINK,
	FDT_BPF,
	FDT_USERFAULTFD,
	FDT_IOURING,
	FDT_MEMFD,
	FDT_PIDFD,
	FDT_SOCKET, /* another family (packet, vsock, ...) */
	_FDT_MAX,
};

/* upstream's fd.type and fd.typechar renderings */
const char *st_fd_type_name(enum st_fd_type t);
char st_fd_type_char(enum st_fd_type t);

enum st_l4 {
	ST_L4_NONE = 0,
	ST_L4_TCP,
	ST_L4_UDP,
	ST_L4_ICMP,
	ST_L4_RAW,
};
const char *st_l4_name(enum st_l4 p);

enum st_fd_flags {
	ST_FD_CLOEXEC = 1u << 0,
	ST_FD_CONNECTED = 1u << 1,
	ST_FD_SERVER = 1u << 2,	    /* accepted or listening: local is the server side */
	ST_FD_HAS_TUPLE = 1u << 3,  /* lip/lport/rip/rport are known */
	ST_FD_ROLE_KNOWN = 1u << 4, /* client or server decided */
};

struct st_fd {
	uint64_t key;	     /* pid << 32 | fd */
	uint32_t next, prev; /* the owning process's list */
	uint8_t type;	     /* enum st_fd_type */
	uint8_t l4proto;     /* enum st_l4 */
	uint8_t family;	     /* EVT_AF_* of sockets */
	uint8_t flags;	     /* enum st_fd_flags */
	uint32_t open_flags; /* EVT_O_* */
	uint32_t dev;
	uint16_t lport, rport;
	uint64_t ino;
	struct st_str *
		name; /* path (files, directories, unix sockets), "memfd:x", "pipe:[ino]"...; NULL for IP */
	struct st_str *nameraw;	  /* the path as the syscall passed it (open* only), else NULL */
	uint8_t lip[16], rip[16]; /* IPv4 in the first 4 bytes */
};

static inline int32_t st_fd_num(const struct st_fd *f)
{
	return (int32_t)(uint32_t)f->key;
}

/* ---- users, groups, containers ---- */

struct st_user {
	uint64_t key; /* container << 32 | id */
	uint32_t id;  /* uid or gid */
	uint32_t gid; /* users: primary group */
	uint8_t kind; /* 0 user, 1 group */
	bool found;   /* false: a cached "no such user" */
	uint32_t next_free;
	struct st_str *name, *home, *shell;
};

enum st_ct_type {
	ST_CT_HOST = 0,
	ST_CT_DOCKER,
	ST_CT_CONTAINERD, /* CRI containerd (cri-containerd-<id>.scope, /kubepods/.../<id>) */
	ST_CT_CRIO,
	ST_CT_PODMAN,
	ST_CT_NSPAWN,
	ST_CT_LXC,
	_ST_CT_MAX,
};
const char *st_ct_type_name(enum st_ct_type t); /* "docker", "containerd", "cri-o", "podman", ... */

enum st_ct_meta {
	ST_META_NONE = 0, /* not asked */
	ST_META_PENDING,  /* asked the runtime, no answer yet */
	ST_META_DONE,	  /* the runtime answered */
	ST_META_FAILED,	  /* no runtime answered, or it does not know the container */
};

#define ST_CT_ID_MAX 64

struct st_container {
	char id[ST_CT_ID_MAX +
		1]; /* full id: 64 hex for docker/cri/podman, the machine name for nspawn */
	uint8_t idlen;
	uint8_t type; /* enum st_ct_type */
	uint8_t meta; /* enum st_ct_meta */
	bool privileged;
	bool privileged_known;
	uint8_t asks; /* runtime queries made; a failed one is retried later, ST_RT_MAX_ASKS in all */
	uint32_t next_free;
	uint64_t retry_ts;  /* event ts from which a failed query may be retried */
	uint64_t start_ts;  /* epoch ns, 0 = unknown */
	uint64_t last_used; /* event ts of the last process seen in it (eviction) */
	struct st_str *name, *image, *image_id, *mounts, *k8s_ns, *k8s_pod, *k8s_pod_uid;
	/* mounts: "src:dst:mode:rw:propagation" entries separated by ',' (upstream's container.mounts) */
};

/* ---- recording hooks (capture files) ---- */

/*
 * Called when the state learns something that is not in the event stream (a /proc read, an NSS answer, a
 * runtime's container metadata, a purge decided from /proc), so a capture can replay it. NULL = not recording.
 */
struct st_hooks {
	void (*proc_loaded)(void *ud,
			    const struct st_proc *p); /* and its fds, through st_proc_fds */
	void (*proc_env)(void *ud, const struct st_proc *p);
	void (*user_loaded)(void *ud, const struct st_user *u);
	void (*container_updated)(void *ud, const struct st_container *c);
	void (*purged)(void *ud, uint32_t id,
		       bool whole_proc); /* thread id, or process id, went away */
	void *ud;
};

/* ---- the state ---- */

struct st_stats {
	uint64_t procs, threads, fds, users, containers; /* in use */
	uint64_t proc_full, thread_full, fd_full, fd_proc_full, user_full, container_full, str_full;
	uint64_t proc_lookups, proc_lookup_fail, proc_lookup_limited;
	uint64_t
		sock_table_reads; /* reads of a namespace's /proc/PID/net tables by lazy loads and seeding */
	uint64_t purged_threads, purged_procs;
	uint64_t nss_lookups;
	uint64_t runtime_queries, runtime_answers, runtime_failures;
	uint64_t str_bytes; /* pool bytes held */
};

struct st_state;

/* Size of proc_root and host_root with their NUL: st_host_root_resolve() refuses longer ones. */
#define ST_ROOT_MAX 256

struct st_options {
	struct st_limits limits;
	/* every process read: seeding, lookups, fds, sockets, cgroups, PID/root/etc; "/proc" when NULL */
	const char *proc_root;
	/* the host's /etc/passwd and /etc/group (host processes) and runtime sockets; "" when NULL */
	const char *host_root;
	bool replay;   /* never read /proc, NSS or runtimes: the capture file provides everything */
	bool runtimes; /* query container runtimes (docker/podman/cri-o sockets) on a worker thread */
	/*
	 * falco's own pid as proc_root numbers it (st_proc_root_self), so seeding marks the right process; its
	 * events and its children's are marked ST_P_SELF
	 */
	uint32_t self_pid;
	const char *
		falcoctl_path; /* the trusted falcoctl binary whose install runs are excluded; NULL: none */
};

/*
 * Upstream's HOST_ROOT: falco runs in a container with the host's / mounted at host_root, and reads the host's
 * processes from "<host_root>/proc" (the driver reports host pids, which falco's own /proc cannot resolve in
 * another pid namespace). Checks that host_root is absolute and that <host_root>/proc is a procfs, then writes
 * host_root without trailing slashes into ret_root and "<host_root>/proc" into ret_proc_root (ST_ROOT_MAX bytes
 * each, written only on success; "/" gives "" and "/proc"). Returns 0, -EINVAL (not absolute), -ENAMETOOLONG,
 * statfs's -errno (-ENOENT: no such directory) or -EMEDIUMTYPE (not a procfs), with errbuf text naming HOST_ROOT.
 * Does not log.
 */
int st_host_root_resolve(const char *host_root, char *ret_root, char *ret_proc_root, char *errbuf,
			 size_t errlen);
/*
 * falco's own pid in the pid namespace of the procfs at proc_root ("<proc_root>/self"): in the host's procfs it
 * is the host tgid the driver reports even when falco runs in another pid namespace. Returns the pid, or -errno
 * (-ENOENT: falco is not visible there, e.g. not a procfs; -EBADMSG: an unexpected link).
 */
int st_proc_root_self(const char *proc_root);
/*
 * Whether the procfs at proc_root belongs to the initial pid namespace, whose numbers the driver reports
 * ("<proc_root>/1/ns/pid"). Returns 1, 0, or -errno when that link cannot be examined.
 */
int st_proc_root_is_initial(const char *proc_root);

/* Returns NULL only on -ENOMEM. Nothing is read until st_seed_proc(). */
struct st_state *st_new(const struct st_options *o);
struct st_state *st_free(struct st_state *st);
void st_set_hooks(struct st_state *st, const struct st_hooks *h);
/*
 * Falco's own pid as events carry it, once known: in another pid namespace the probe learns it after
 * st_new (evt_bpf_self_tgid); the entry of the pid given before, if any, stops being ours.
 */
void st_set_self_pid(struct st_state *st, uint32_t pid);
void st_get_stats(const struct st_state *st, struct st_stats *ret);
const struct st_limits *st_limits(const struct st_state *st);
bool st_is_replay(const struct st_state *st);

/*
 * Seeds the tables from /proc: every process, its threads and descriptors (sockets matched to their tuples
 * through /proc/net). Returns the number of processes loaded or -errno when /proc cannot be read.
 */
int st_seed_proc(struct st_state *st);
/* Reads one process (and its threads and fds) from /proc; returns it, or NULL when it is gone. */
struct st_proc *st_proc_load(struct st_state *st, uint32_t pid);

/* ---- strings ---- */

/* Interns s[0..len) (a new reference). NULL on pool exhaustion (counted). */
struct st_str *st_str_intern(struct st_state *st, const char *s, size_t len);
/* The same for a NUL-terminated string (NULL gives NULL). */
struct st_str *st_str_intern_cstr(struct st_state *st, const char *s);
struct st_str *st_str_ref(struct st_str *s);
void st_str_unref(struct st_state *st, struct st_str *s);
/* Replaces *slot by s (which the slot now owns). */
void st_str_set(struct st_state *st, struct st_str **slot, struct st_str *s);

/* ---- processes and threads ---- */

/* uid/gid of a process known only from its events (no /proc, no exec or clone seen): user.name is missing */
#define ST_ID_UNKNOWN UINT32_MAX

struct st_proc *st_proc_find(const struct st_state *st, uint32_t pid);
/* Creates an empty process (all ids zero but pid); NULL when the table is full. */
struct st_proc *st_proc_create(struct st_state *st, uint32_t pid);
/* Removes a process, its threads' map entries and its descriptors. */
void st_proc_remove(struct st_state *st, struct st_proc *p);
struct st_proc *st_proc_parent(const struct st_state *st, const struct st_proc *p);
/* Iteration over every process: index 0..st_proc_capacity-1, NULL for a free slot. */
uint32_t st_proc_capacity(const struct st_state *st);
struct st_proc *st_proc_at(const struct st_state *st, uint32_t idx);

struct st_thread *st_thread_find(const struct st_state *st, uint32_t tid);
struct st_thread *st_thread_add(struct st_state *st, struct st_proc *p, uint32_t tid,
				uint32_t vtid);
void st_thread_remove(struct st_state *st, struct st_thread *t);

/* The process's environment: loads it from /proc once when not known (live mode). NULL when unknown. */
const struct st_str *st_proc_env(struct st_state *st, struct st_proc *p);
/* Replay: the environment recorded for the next lazy load of pid (a capture PROC_ENV block). */
void st_proc_env_recorded(struct st_state *st, uint32_t pid, struct st_str *env);

/* ---- descriptors ---- */

struct st_fd *st_fd_find(const struct st_state *st, const struct st_proc *p, int64_t fd);
/* Adds or replaces descriptor fd of p, zeroed; NULL when fd < 0 or a table is full (counted). */
struct st_fd *st_fd_add(struct st_state *st, struct st_proc *p, int64_t fd);
void st_fd_remove(struct st_state *st, struct st_proc *p, struct st_fd *f);
/* Copies src's content (strings referenced) into dst, keeping dst's key and links. */
void st_fd_copy(struct st_state *st, struct st_fd *dst, const struct st_fd *src);
/* First/next descriptor of p (in no particular order); NULL at the end. */
struct st_fd *st_proc_fds(const struct st_state *st, const struct st_proc *p);
struct st_fd *st_fd_next(const struct st_state *st, const struct st_fd *f);

/* ---- users and groups ---- */

/*
 * The user (or group) id of the process's container: cached, else asked through NSS (host) or read from the
 * container's /etc/passwd (best effort); negative answers are cached too. NULL only when the cache is full.
 */
const struct st_user *st_user(struct st_state *st, const struct st_proc *p, uint32_t uid);
const struct st_user *st_group(struct st_state *st, const struct st_proc *p, uint32_t gid);
/* Inserts an entry (capture replay); the strings are referenced. */
void st_user_put(struct st_state *st, const struct st_user *u);
uint32_t st_user_capacity(const struct st_state *st);
const struct st_user *st_user_at(const struct st_state *st, uint32_t idx);

/* ---- containers ---- */

/*
 * Finds the container of a cgroup path (one line of /proc/PID/cgroup without the "N:ctrl:" prefix, or an exec
 * event's "subsys=path" entry). Only real runtime patterns count: a bare 32- or 64-hex component (the systemd
 * memory cgroups on these hosts end in one) is not a container. Returns 1 with the type and id, 0 for the host.
 */
int st_cgroup_container(const char *path, size_t len, enum st_ct_type *ret_type,
			char ret_id[ST_CT_ID_MAX + 1]);
/* The container of a cgroups parameter (several NUL-separated "subsys=path" entries): index, 0 for the host. */
uint32_t st_container_from_cgroups(struct st_state *st, const char *buf, size_t len, uint64_t ts);
/* Finds or adds a container by id (asks the runtime for metadata if enabled). 0 (host) when the table is full. */
uint32_t st_container_get(struct st_state *st, enum st_ct_type type, const char *id, uint64_t ts);
struct st_container *st_container_at(const struct st_state *st, uint32_t idx);
uint32_t st_container_capacity(const struct st_state *st);
/* Capture replay / tests: inserts or replaces a container's metadata (strings referenced). */
uint32_t st_container_put(struct st_state *st, const struct st_container *c);
/*
 * Applies the container-runtime answers that arrived since the last call (engine thread; never blocks).
 * Returns how many containers were updated.
 */
int st_runtime_poll(struct st_state *st);
/*
 * Frees the socket tables cached for lazy /proc loads once they are stale (older than a second), or always
 * with force. Called from the once-a-second tick.
 */
void st_sock_cache_expire(struct st_state *st, bool force);
/* An fd that becomes readable when runtime answers are waiting (-1 without a worker). */
int st_runtime_fd(const struct st_state *st);

/* ---- events ---- */

/*
 * The per-event state transitions. st_event_pre() runs before the rules see the event (clone creates the
 * child, exec installs the new image, open adds the descriptor...); st_event_post() after them (close and exit
 * remove what the fields still described). The event's process must already be known: st_event_proc().
 */
struct sc_evt;
/*
 * Finds (or loads from /proc, or creates from the header) the process and thread of a record; *ret_thr is the
 * thread (NULL when the thread table is full). NULL only when the process table is full.
 */
struct st_proc *st_event_proc(struct st_state *st, const struct evt_rec *r,
			      struct st_thread **ret_thr);
void st_event_pre(struct st_state *st, struct sc_evt *e);
void st_event_post(struct st_state *st, struct sc_evt *e);

/*
 * Housekeeping, called every few seconds of event time in live mode: removes threads and processes /proc no
 * longer has (their exit events were dropped) when the tables fill up, and containers with no process left.
 * Returns how many entries went away.
 */
int st_sweep(struct st_state *st, uint64_t now_ts, bool force);

/* ---- paths ---- */

/*
 * Normalizes path (absolute, or relative to dir which must be absolute) into out: collapses "//", "." and
 * "..". Returns the length (out is NUL-terminated), truncating at size-1.
 */
size_t st_path_resolve(const char *dir, size_t dirlen, const char *path, size_t pathlen, char *out,
		       size_t size);
