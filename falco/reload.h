/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hot reload plumbing: a worker thread that builds a new configuration and rule set aside, and an inotify watch over
 * the configuration and rules files (debounced), both driven from the engine thread's event_base. What is built and
 * how it is swapped in is the daemon's business (callbacks); this module guarantees the threading: prepare and
 * apply run on the engine thread between two events, build runs on the reload thread, one build at a time, and
 * requests arriving during a build are coalesced into one more build after it. Nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct falco_config;
struct reload;

struct reload_callbacks {
	/* Engine thread, right before a build starts: captures what the build needs (a job; may return NULL). */
	void *(*prepare)(void *ud, const char *why);
	/* Reload thread: builds everything aside from job and returns the result (the daemon's type). */
	void *(*build)(void *ud, void *job);
	/* Engine thread, from the event loop: swaps the result in or reports its failure; takes result. */
	void (*apply)(void *ud, void *result);
	/* Engine thread, at reload_free(): frees a result that was built but never applied. May be NULL. */
	void (*discard)(void *ud, void *result);
	void *ud;
};

/*
 * Starts the reload thread and hooks its completion into base (the engine thread's loop). Returns 0 with *ret,
 * -ENOMEM, or -errno from eventfd/pthread_create with errbuf.
 */
int reload_new(struct event_base *base, const struct reload_callbacks *cbs, struct reload **ret,
	       char *errbuf, size_t errlen);

/*
 * Asks for a reload (engine thread): starts a build now, or right after the one in progress. why is for the
 * prepare callback ("SIGHUP", "'/etc/falco/falco.yaml' changed").
 */
void reload_request(struct reload *r, const char *why);

/* Whether a build is running or queued (engine thread). */
bool reload_busy(const struct reload *r);

/*
 * Replaces the set of watched paths (engine thread). Each path may be a file (its directory is watched and only
 * that name counts, plus Kubernetes ConfigMap "..data" swaps) or a directory (a change to any .yaml/.yml file in
 * it counts). A path that does not exist yet is watched for creation through its parent. A change leads to
 * reload_request() once no further change arrived for debounce_ms. n == 0 stops watching. Returns 0, or -errno
 * with errbuf (inotify unavailable); a path that cannot be watched is skipped and named in errbuf with a return of 0
 * (the caller may warn).
 */
int reload_watch(struct reload *r, const char *const *paths, size_t n, unsigned debounce_ms,
		 char *errbuf, size_t errlen);

/* Waits for a build in progress, discards an unapplied result, stops the thread and the watches. NULL-safe. */
struct reload *reload_free(struct reload *r);

/*
 * Configuration keys that changed between a and b but only take effect at a restart, comma-separated into buf
 * ("http_output, webserver"); empty when none. Returns how many.
 */
int reload_restart_keys_changed(const struct falco_config *a, const struct falco_config *b,
				char *buf, size_t len);
