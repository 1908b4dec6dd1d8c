/* SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only */
/*
 * Maps and tunables shared by every BPF program of the driver. Each .bpf.c file includes this header; the maps
 * are __weak so the static linker (bpftool gen object) merges the identical definitions into one.
 */
#ifndef FALCO_MAPS_BPF_H
#define FALCO_MAPS_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "falco_events.h"

/* Per-CPU scratch buffer for variable-size events: [0, 64 KiB + slack) holds the event being built, the upper
 * half is temporary space for reversed path walks. A plain ARRAY indexed by CPU (per-CPU values cap at 32 KiB). */
#define SCRATCH_SIZE	 (128u * 1024u)
#define SCRATCH_EVT_MASK (EVT_MAX_SIZE - 1u)
#define SCRATCH_TMP_BASE (96u * 1024u)
#define SCRATCH_TMP_SIZE (16u * 1024u)
#define SCRATCH_TMP_MASK \
	(8u * 1024u - 1u) /* positions; a 4 KiB read past the last one still fits */

struct scratch {
	__u8 data[SCRATCH_SIZE];
};

/* Ring buffers: one inner BPF_MAP_TYPE_RINGBUF per CPU group; entry i is the ring CPU i writes to. User space
 * sizes both (ring bytes, number of possible CPUs) before load and fills the entries after it. */
struct ringbuf_map {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8u << 20);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct ringbuf_map);
} ringbufs SEC(".maps") __weak;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps") __weak;

/* Per-CPU drop and event counters (struct evt_counters, read and summed by user space). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct evt_counters);
} counters SEC(".maps") __weak;

/*
 * What every program's entry point learns once and its handlers reuse without another helper call: the current
 * pid/tgid (the event header) and task. Written first by each entry point (the sys_exit dispatcher, the sched
 * tracepoints, the entry copies), read by the code it runs or tail-calls. BPF tracepoint programs run with
 * preemption disabled and a program never nests in itself on one CPU, so the slot cannot change underneath.
 */
struct cpu_ctx {
	__u64 pid_tgid;
	__u64 task; /* struct task_struct *, re-typed with bpf_rdonly_cast where supported */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct cpu_ctx);
} cpu_ctx SEC(".maps") __weak;

/* Interesting syscalls, by x86_64 id: EVT_SC_EXIT / EVT_SC_ENTER bits, filled by user space at any time. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, EVT_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, __u8);
} interesting SEC(".maps") __weak;

/* sys_exit handlers by syscall id (tail calls); a missing entry means "generic event". */
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, EVT_SYSCALL_MAX);
	__type(key, __u32);
	__type(value, __u32);
} exit_progs SEC(".maps") __weak;

/* Tunables, set by user space before load (see falco/source/evt_bpf.c). */
extern const volatile __u32 cfg_self_tgid; /* our own process, excluded in-kernel (0 = none) */
/* falco in another pid namespace: that namespace's inode and its tgid there (0 = not used) */
extern const volatile __u32 cfg_self_ns_ino;
extern const volatile __u32 cfg_self_ns_tgid;
/* our host tgid, learned from the first event of ours when only the pair above is known (0 = not yet) */
extern __u32 self_host_tgid;
extern const volatile __u64
	cfg_boot_ns; /* epoch ns at boot: header ts = cfg_boot_ns + ktime_get_boot_ns */
extern const volatile __u32 cfg_flags; /* EVT_CFG_* */
extern const volatile __u32
	cfg_snaplen; /* payload bytes for send/recv when EVT_CFG_CAPTURE_PAYLOAD */
extern const volatile __u32
	cfg_wakeup_bytes; /* 0: never wake the reader; ~0: kernel default; else threshold */

#endif /* FALCO_MAPS_BPF_H */
