/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The few libsystemd calls falco makes, with libsystemd loaded by dlopen() on first real use instead of linked.
 * Linking it made every falco start (falco -V, --version, ...) map and relocate libsystemd and the six
 * libraries it needs (libgcrypt, liblzma, libzstd, liblz4, libcap, libgpg-error), about 0.7 ms of a 5 ms
 * budget, although only a daemon under systemd or a journald output ever talks to systemd. libsystemd0 stays
 * a package dependency; falcoctl links it normally.
 *
 * Same results as the libsystemd functions of the same names: sdl_notify() is 0 without $NOTIFY_SOCKET and
 * sdl_watchdog_enabled() is 0 without $WATCHDOG_USEC, as theirs (then nothing is loaded); -ENOSYS when
 * libsystemd.so.0 cannot be loaded.
 */
#pragma once

#include <stdint.h>
#include <sys/uio.h>

/* sd_notify(0, state) */
int sdl_notify(const char *state);
/* sd_watchdog_enabled(0, usec) */
int sdl_watchdog_enabled(uint64_t *usec);
/* sd_journal_sendv(iov, n) */
int sdl_journal_sendv(const struct iovec *iov, int n);
