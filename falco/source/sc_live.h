/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live capture for the syscall source: the eBPF probe (evt_bpf) pumped on the engine's libevent loop (evt_pump)
 * straight into sc_source_feed(). Part of sc_source.c; a separate header so only the daemon pulls in libevent and
 * the driver API. Nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "evt_bpf.h"
#include "sc_source.h"

struct event_base;

/*
 * Loads and attaches the probe with bo, makes the syscalls behind evttypes (the rules' event types; the state's
 * own needs are added) interesting, and starts draining up to batch records per loop turn (0 = 1024). Returns 0
 * or the driver's -errno with its explanation in errbuf.
 */
int sc_live_open(struct sc_source *s, struct event_base *base, const struct evt_bpf_opts *bo,
		 size_t batch, const uint64_t *evttypes, size_t nwords, char *errbuf,
		 size_t errlen);
/* After a rules reload: the new set of event types. Returns the number of interesting syscalls or -errno. */
int sc_live_set_interesting(struct sc_source *s, const uint64_t *evttypes, size_t nwords);
void sc_live_close(struct sc_source *s);
bool sc_live_attached(const struct sc_source *s);
/* The probe's counters summed over CPUs, for sc_drops_check() and /metrics. */
int sc_live_counters(const struct sc_source *s, struct sc_drop_counters *ret);
struct evt_bpf *sc_live_bpf(const struct sc_source *s);
/* The capture writer's first error, once (then NULL): the daemon logs it; capture stops, detection goes on. */
const char *sc_source_capture_error(struct sc_source *s);
