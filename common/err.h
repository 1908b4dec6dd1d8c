/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Error buffers: functions that can fail return -errno and explain the failure in a caller-provided buffer.
 * errf() fills the buffer and returns the code, so the two happen in one statement.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>

#include "macro.h"

/*
 * Formats into errbuf (which may be NULL or errlen 0) and returns err unchanged. Never logs.
 * A message longer than the buffer is truncated with "..." so the caller can still tell it was cut.
 */
int errf(char *errbuf, size_t errlen, int err, const char *fmt, ...) _printf_(4, 5);
int verrf(char *errbuf, size_t errlen, int err, const char *fmt, va_list ap) _printf_(4, 0);

/*
 * Prepends "prefix: " to the message already in errbuf (used when passing an error up a layer that knows
 * the file name). Returns err.
 */
int errf_prefix(char *errbuf, size_t errlen, int err, const char *fmt, ...) _printf_(4, 5);
