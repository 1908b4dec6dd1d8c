/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Drives an evt_bpf from a libevent loop on the engine thread: drains a bounded number of records per turn, so
 * timers, signals and other sources keep their turn, and waits between turns on an adaptive timer (500 us doubling
 * to 30 ms while the rings stay empty, as upstream) and on the probe's wakeups when they are enabled. A full batch
 * means more is waiting: the next turn is scheduled immediately (after whatever else is ready).
 *
 * Nothing here logs. The record callback gets zero-copy records (valid during the call only).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "evt_bpf.h"

struct event_base;
struct evt_pump;

struct evt_pump_opts {
	size_t batch;	 /* records per turn; 0 = 1024 */
	uint32_t min_us; /* adaptive timer bounds; 0 = 500 / 30000 */
	uint32_t max_us;
};

struct evt_pump_stats {
	uint64_t records; /* handed to the callback */
	uint64_t turns;	  /* drain calls */
	uint64_t full;	  /* turns that stopped at the batch size */
	uint64_t wakeups; /* turns started by a probe wakeup (ring fd readable) */
	int last_error;	  /* the callback's last negative return, 0 if none */
};

/*
 * Starts pumping b into fn on base. Returns 0 with *ret, -ENOMEM, or -EINVAL when libevent refuses the events.
 * The pump does not own b.
 */
int evt_pump_start(struct event_base *base, struct evt_bpf *b, const struct evt_pump_opts *o,
		   evt_bpf_record_fn fn, void *ud, struct evt_pump **ret);
/* Stops and frees; NULL is fine. Returns NULL. */
struct evt_pump *evt_pump_stop(struct evt_pump *p);
void evt_pump_get_stats(const struct evt_pump *p, struct evt_pump_stats *ret);
