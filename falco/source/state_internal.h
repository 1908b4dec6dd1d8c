/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to falco/source/state_*.c: the state struct, the u64 → u32 index maps and the string pool.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state.h"

/* ---- u64 key → u32 value, open addressing with linear probing and backward-shift deletion ---- */

struct st_map_slot {
	uint64_t key;
	uint32_t val; /* ST_NIL = empty slot */
	uint32_t pad;
};

struct st_map {
	struct st_map_slot *slots; /* key and value side by side: one cache line per probe */
	uint32_t cap;		   /* power of two */
	uint32_t n;
	uint32_t max_cap; /* never grows past this */
	uint32_t shift;	  /* 64 - log2(cap) */
};

static inline uint32_t st_map_get(const struct st_map *m, uint64_t key)
{
	uint32_t mask = m->cap - 1;

	for (uint32_t i = (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> m->shift);;
	     i = (i + 1) & mask) {
		const struct st_map_slot *sl = &m->slots[i];
		if (sl->val == ST_NIL)
			return ST_NIL;
		if (sl->key == key)
			return sl->val;
	}
}

int st_map_init(struct st_map *m, uint32_t cap, uint32_t max_entries);
void st_map_done(struct st_map *m);
/* Inserts or replaces; -ENOMEM when the map cannot grow, -E2BIG when full. */
int st_map_put(struct st_map *m, uint64_t key, uint32_t val);
void st_map_del(struct st_map *m, uint64_t key);

/* ---- string pool ---- */

#define ST_STR_CLASSES 9 /* 32 .. 8192 bytes with the header */

struct st_pool_chunk;

struct st_strpool {
	void *free[ST_STR_CLASSES]; /* free lists, linked through the first word */
	struct st_pool_chunk *chunks;
	size_t bytes;	  /* held in chunks */
	size_t max_bytes; /* limit */
	/* the intern table: open addressing of st_str pointers keyed by hash */
	struct st_str **tab;
	uint32_t cap, n;
};

void st_pool_init(struct st_strpool *p, size_t max_bytes);
void st_pool_done(struct st_strpool *p);

/* ---- the container-runtime worker (state_runtime.c) ---- */

struct st_runtime;
struct st_runtime *st_runtime_new(const char *host_root);
struct st_runtime *st_runtime_free(struct st_runtime *rt);
/* Queues a metadata request (never blocks; false when the queue is full). */
bool st_runtime_ask(struct st_runtime *rt, enum st_ct_type type, const char *id);
int st_runtime_fd_of(const struct st_runtime *rt);

/* One answer, as the worker hands it over. Strings are malloc'ed and freed by st_runtime_answer_done. */
struct st_rt_answer {
	char id[ST_CT_ID_MAX + 1];
	bool ok;
	bool privileged, privileged_known;
	uint64_t start_ts;
	char *name, *image, *image_id, *mounts, *k8s_ns, *k8s_pod, *k8s_pod_uid;
};
/* Takes the next answer (0 none, 1 one). */
int st_runtime_take(struct st_runtime *rt, struct st_rt_answer *ret);
void st_runtime_answer_done(struct st_rt_answer *a);

/* ---- the state ---- */

struct st_state {
	struct st_limits lim;
	struct st_options opt;
	char proc_root[ST_ROOT_MAX];
	char host_root[ST_ROOT_MAX];
	uint64_t
		procfs_init_ts; /* start of pid 1 of proc_root (its namespace's init), 0 until read */
	char falcoctl_path[256];
	struct st_hooks hooks;
	struct st_strpool pool;

	struct st_proc *procs;
	uint32_t proc_free, proc_hi; /* free list head; slots below proc_hi were used once */
	struct st_map proc_map;

	struct st_thread *threads;
	uint32_t thread_free, thread_hi;
	struct st_map thread_map;

	struct st_fd *fds;
	uint32_t fd_free, fd_hi;
	struct st_map fd_map;

	struct st_user *users;
	uint32_t user_free, user_hi, user_clock;
	struct st_map user_map; /* key: kind << 63 | container << 32 | id */

	struct st_container *cts;
	uint32_t ct_free, ct_hi;
	struct st_map ct_map; /* key: hash of the id (collisions resolved by a linear check) */

	struct st_runtime *rt;

	/* the last process and thread an event named: runs of events from one thread skip the maps */
	struct st_proc *last_proc;
	struct st_thread *last_thread;

	/*
	 * The socket tables (/proc/PID/net/{tcp,udp,raw,unix}[6]) of the last network namespace a lazy load needed:
	 * reading them costs the kernel a walk of every socket (thousands of TIME_WAIT ones on a busy host), so
	 * loads within ST_SOCK_CACHE_NS share one read; an inode missing from it rereads it (a newer socket).
	 */
	struct sock_tab *socks;
	uint64_t
		sock_next_read_ns; /* lazy loads read socket tables again from then on (any read sets it) */

	/* replay: the environment recorded for a lazy load */
	uint32_t env_pid;
	struct st_str *env_rec;

	/* /proc lookup rate limit (token bucket in event time) */
	uint64_t lookup_window_ts;
	uint32_t lookups_in_window;

	uint64_t last_sweep_ts;
	struct st_stats stats;
};

/* Helpers shared by the state files. */
void st_proc_clear_image(struct st_state *st, struct st_proc *p);
/* Copies the inheritable image of parent into child (a fork). */
void st_proc_inherit(struct st_state *st, struct st_proc *child, const struct st_proc *parent,
		     bool copy_fds);
/* Marks p as falco's own or falcoctl's (from its executable and ancestry). */
void st_proc_classify(struct st_state *st, struct st_proc *p);
bool st_lookup_allowed(struct st_state *st, uint64_t ts);
/* Fills a proc from a NUL-separated cgroup list or /proc/PID/cgroup text. */
int st_container_gc(struct st_state *st);
uint32_t st_container_from_proc_cgroup(struct st_state *st, const char *text, size_t len,
				       uint64_t ts);

/* ---- container metadata helpers of the runtime worker (state_runtime.c, state_containerd.c) ---- */

#define ST_RT_MAX_MOUNTS      65536u	 /* bytes of one container's mounts string */
#define ST_CTD_MAX_CONFIG     (1u << 20) /* bytes of a containerd bundle's config.json */
#define ST_CTD_MAX_NAMESPACES 64u	 /* containerd namespaces searched for a bundle */

struct strbuf;

/*
 * Appends one mount to m (max ST_RT_MAX_MOUNTS) in upstream's container.mounts shape: "source:dest:mode:rw:
 * propagation" entries joined with ','; NULL strings are empty. Returns false, leaving m as it was, when the
 * entry does not fit (callers stop there, keeping the mounts before it).
 */
bool st_rt_mounts_add(struct strbuf *m, const char *src, const char *dst, const char *mode, bool rw,
		      const char *prop);

/*
 * containerd's metadata for container id from the OCI bundle its runtime v2 keeps for a running task:
 * <state_dir>/io.containerd.runtime.v2.task/<namespace>/<id>/config.json (at most ST_CTD_MAX_NAMESPACES
 * namespaces searched). Fills name (CRI container name, else nerdctl's, else the id), image, k8s pod
 * name/namespace/uid (CRI sandbox annotations) and mounts of *ret and sets ret->ok; ret->id is kept. *ret is
 * written only on success; its strings belong to it (st_runtime_answer_done).
 * Returns 0, -ENOENT (no such task: not running, or not a runtime v2 task), -EINVAL (an id that is not one
 * directory name, or config.json is not a regular file), -ELOOP (a symlink), -EFBIG (over ST_CTD_MAX_CONFIG),
 * -EBADMSG (not a JSON object), -ENOMEM or the -errno of open/read, with errbuf text. Does not log.
 */
int st_containerd_lookup(const char *state_dir, const char *id, struct st_rt_answer *ret,
			 char *errbuf, size_t errlen);
