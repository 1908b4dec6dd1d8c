/* SPDX-License-Identifier: Apache-2.0 */
/* libsystemd on demand: see sdl.h. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "sdl.h"

static struct {
	int (*notify)(int unset_environment, const char *state);
	int (*watchdog_enabled)(int unset_environment, uint64_t *usec);
	int (*journal_sendv)(const struct iovec *iov, int n);
} sd;
static pthread_once_t sd_once = PTHREAD_ONCE_INIT;
static bool sd_loaded;

static void load_once(void)
{
	void *h = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);

	if (!h)
		return;
	*(void **)&sd.notify = dlsym(h, "sd_notify");
	*(void **)&sd.watchdog_enabled = dlsym(h, "sd_watchdog_enabled");
	*(void **)&sd.journal_sendv = dlsym(h, "sd_journal_sendv");
	if (!sd.notify || !sd.watchdog_enabled || !sd.journal_sendv) {
		dlclose(h);
		return;
	}
	sd_loaded = true; /* never unloaded */
}

static bool load(void)
{
	pthread_once(&sd_once, load_once);
	return sd_loaded;
}

int sdl_notify(const char *state)
{
	if (!getenv("NOTIFY_SOCKET"))
		return 0;
	return load() ? sd.notify(0, state) : -ENOSYS;
}

int sdl_watchdog_enabled(uint64_t *usec)
{
	if (!getenv("WATCHDOG_USEC"))
		return 0;
	return load() ? sd.watchdog_enabled(0, usec) : -ENOSYS;
}

int sdl_journal_sendv(const struct iovec *iov, int n)
{
	return load() ? sd.journal_sendv(iov, n) : -ENOSYS;
}
