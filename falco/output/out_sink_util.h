/* SPDX-License-Identifier: Apache-2.0 */
/* Private helpers shared by the output sinks (not part of the module's public header). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "out.h"

/* The size at which a buffered sink writes out what it holds even if its queue is not empty. */
#define OUT_SINK_BUF_FLUSH (64u * 1024)

/* write(2) until everything is written; retries EINTR and short writes. Returns 0 or -errno. */
int out_write_all(int fd, const void *buf, size_t len);

/*
 * After a sink wrote out (r == 0) or failed to write out (r < 0) the buffer holding s->held alerts: counts the lost
 * ones in s->lost, except the current alert when the failure is the result of its own write call (which reports
 * it), and empties s->held.
 */
static inline void out_sink_settle(struct out_sink *s, int r, bool current)
{
	if (r < 0 && s->held > (current ? 1u : 0u))
		s->lost += s->held - (current ? 1u : 0u);
	s->held = 0;
}
