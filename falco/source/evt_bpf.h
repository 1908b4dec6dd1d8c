/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The modern eBPF driver, user side: checks that the kernel can run it, loads and attaches the CO-RE probe (the
 * only includer of the libbpf skeleton), sizes its ring buffers (one per CPU group), tells it which syscalls are
 * interesting, and hands records to the engine thread in per-thread (timestamp) order, zero-copy.
 *
 * Threading: everything here is called from the engine thread. Nothing logs: failures return -errno with an
 * explanation in errbuf. libbpf's own messages are captured during evt_bpf_open and appended to errbuf on failure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "driver/falco_events.h"

struct evt_bpf;

struct evt_bpf_opts {
	uint32_t
		cpus_per_ring; /* CPUs sharing one ring (upstream's cpus_for_each_buffer): 0 = a single ring */
	uint64_t ring_bytes; /* per ring: a power of 2, a multiple of the page size, >= 2 pages */
	uint32_t flags;	     /* EVT_CFG_*: capture env, payload, drop failed syscalls */
	uint32_t snaplen;    /* payload bytes with EVT_CFG_CAPTURE_PAYLOAD, <= EVT_MAX_PATH */
	/*
	 * When the probe wakes a reader blocked on evt_bpf_fd(): 0 = never (read on a timer), EVT_BPF_WAKEUP_EACH =
	 * whenever the reader has caught up (libbpf's default: one wakeup per record when the reader keeps up),
	 * else once each time the unread data of a ring crosses this many bytes.
	 */
	uint32_t wakeup_bytes;
	bool enter_events; /* attach the entry (TOCTOU) programs for open/openat/openat2/creat/connect */
	/*
	 * Host tgid excluded in the kernel; -1 = exclude nothing; 0 = this process, in whatever pid namespace it runs
	 * (outside the host's, the probe learns its host tgid: see evt_bpf_self_tgid()).
	 */
	pid_t self_tgid;
	bool probe_reads; /* load the probe-read handler variants even where bpf_rdonly_cast exists (tests) */
};

#define EVT_BPF_WAKEUP_EACH UINT32_MAX

/*
 * Defaults: 2 CPUs per ring, 8 MiB rings, no wakeups (read on the adaptive timer, as upstream), no entry events, no
 * env/payload capture.
 */
void evt_bpf_opts_init(struct evt_bpf_opts *o);

/*
 * Ring size of upstream's engine.modern_ebpf.buf_size_preset: 1..10 = 1, 2, 4, 8 (the default, 4), 16, 32, 64, 128,
 * 256, 512 MiB. Returns the bytes, or 0 for an invalid preset.
 */
uint64_t evt_bpf_preset_bytes(uint64_t preset);

/*
 * Whether this kernel can run the probe: kernel BTF, BPF ring buffers and tracing (tp_btf) programs, and the
 * privilege to load them. Returns 0, -ENOTSUP (errbuf names what is missing) or -EPERM.
 */
int evt_bpf_supported(char *errbuf, size_t errlen);

/*
 * Opens, configures, loads and attaches the probe, creates and maps the rings. No syscall is interesting yet
 * (only process exits are reported) until evt_bpf_set_interesting(). Returns 0 with *ret (free with
 * evt_bpf_close), -ENOTSUP/-EPERM (see evt_bpf_supported), -EINVAL (bad options), -EPROTO (the probe's ABI
 * version differs from ours), or the libbpf/kernel -errno with its explanation.
 */
int evt_bpf_open(const struct evt_bpf_opts *o, struct evt_bpf **ret, char *errbuf, size_t errlen);

/* Detaches and frees everything (also half-open objects). Returns NULL. */
struct evt_bpf *evt_bpf_close(struct evt_bpf *b);

/* For `falcoctl driver` and `falco --check-driver`: proves the probe loads and attaches, then removes it. */
int evt_bpf_check(char *errbuf, size_t errlen);

/*
 * Makes exactly the syscalls behind these event types interesting (bitmap over event-type codes, see
 * syscall_table.h; callers usually OR the rules' types with evt_type_base_set()). Entry events follow only when
 * the entry programs are attached. Returns the number of interesting syscalls or -errno.
 */
int evt_bpf_set_interesting(struct evt_bpf *b, const uint64_t *evttypes, size_t nwords);

/* One file descriptor (an epoll set over every ring) that polls readable when the probe woke the reader. */
/*
 * The host tgid whose events the probe drops (this process's, with self_tgid 0), as event headers carry it; 0 when
 * nothing is excluded or, in another pid namespace, the probe has not seen this process yet (evt_bpf_open makes
 * sure it has, with a thread that exits at once).
 */
pid_t evt_bpf_self_tgid(const struct evt_bpf *b);
int evt_bpf_fd(const struct evt_bpf *b);
size_t evt_bpf_nrings(const struct evt_bpf *b);

/*
 * Called for each record: rec points into the ring (a struct evt_hdr first, never trusted: decode it with
 * evt_decode), valid only during the call. A negative return stops the drain (the record counts as consumed).
 */
typedef int (*evt_bpf_record_fn)(void *ud, const void *rec, size_t len);

/*
 * Consumes up to max records, oldest timestamp first across rings (a k-way merge when there are several), so
 * each thread's events come in order. Returns the number consumed (0 when the rings are empty), or fn's error.
 */
int evt_bpf_drain(struct evt_bpf *b, size_t max, evt_bpf_record_fn fn, void *ud);

/* Bytes written by the probe and not consumed yet, over all rings. */
uint64_t evt_bpf_pending(const struct evt_bpf *b);

/*
 * Kernel-side counters: *total is the sum over CPUs; percpu (may be NULL) receives up to max per-CPU structs.
 * *ret_ncpu (may be NULL) is the number of possible CPUs. Returns 0 or -errno.
 */
int evt_bpf_counters(const struct evt_bpf *b, struct evt_counters *total,
		     struct evt_counters *percpu, size_t max, size_t *ret_ncpu);

/* Sum of run_cnt and run_time_ns of every attached program (non-zero only with kernel.bpf_stats_enabled=1). */
int evt_bpf_prog_stats(const struct evt_bpf *b, uint64_t *ret_runs, uint64_t *ret_ns);

/*
 * Adaptive poll timer for readers that do not rely on wakeups (upstream: 500 us doubling to 30 ms while the rings
 * stay empty). next() returns the delay in microseconds before the next drain, given how many records the last
 * drain returned and whether it stopped at its max.
 */
struct evt_bpf_backoff {
	uint32_t min_us, max_us, cur_us;
};
void evt_bpf_backoff_init(struct evt_bpf_backoff *bo, uint32_t min_us, uint32_t max_us);
uint32_t evt_bpf_backoff_next(struct evt_bpf_backoff *bo, size_t consumed, bool hit_max);
