/* SPDX-License-Identifier: Apache-2.0 */
/* Private helpers shared by the output sinks (not part of the module's public header). */
#pragma once

#include <stddef.h>

/* The size at which a buffered sink writes out what it holds even if its queue is not empty. */
#define OUT_SINK_BUF_FLUSH (64u * 1024)

/* write(2) until everything is written; retries EINTR and short writes. Returns 0 or -errno. */
int out_write_all(int fd, const void *buf, size_t len);
