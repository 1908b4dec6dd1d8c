/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The state file, /var/lib/falcoctl/state.json under --root: what each phase did (files with their SHA-256 and
 * mode, directories it created, symlinks, driver and versions). Install compares against it to converge, reset
 * undoes exactly what it lists. Paths are stored as seen from inside the root so a pre-baked tree stays valid
 * once booted. Layout:
 *   {"version":1,"falcoctl":"0.1.0","updated":"…",
 *    "phases":{"config":{"completed":"…","files":[{"path":"/etc/falco/falco.yaml","sha256":"…","mode":"0644"}],
 *                        "dirs":["/etc/falco"],"links":[{"path":"…","target":"…"}],"values":{"k":"v"}}}}
 * Non-logging. Strings returned are borrowed from the state and valid until the next change to it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "fc.h"

#define FC_STATE_VERSION 1

struct fc_state {
	cJSON *root;
	char path[PATH_MAX]; /* host path of state.json */
};

/* Loads path; a missing file gives an empty state. Returns 0, -EINVAL (corrupt, with text), -ENOMEM. */
int fc_state_load(const char *path, struct fc_state **ret, char *errbuf, size_t errlen);
/* Writes the state atomically (mode 0600) through fs, creating its directory. */
int fc_state_save(struct fc_state *st, const struct fc_fs_ops *fs, char *errbuf, size_t errlen);
struct fc_state *fc_state_free(struct fc_state *st);

/* True when no phase recorded anything. */
bool fc_state_empty(const struct fc_state *st);
/* The phase object, created on demand when create is true; NULL otherwise. */
cJSON *fc_state_phase(struct fc_state *st, const char *phase, bool create);
/* Records that the phase completed (first completion time kept), or clears that mark. 1 changed, 0 not. */
int fc_state_mark_completed(struct fc_state *st, const char *phase, bool done);
bool fc_state_completed(const struct fc_state *st, const char *phase);

/* Files written by a phase. Adding a path already listed (under any phase) moves it. */
int fc_state_add_file(struct fc_state *st, const char *phase, const char *path, const char *sha256,
		      mode_t mode);
/* SHA-256 recorded for path (and the phase that wrote it), or NULL. */
const char *fc_state_file_sha(const struct fc_state *st, const char *path, const char **ret_phase);
void fc_state_del_file(struct fc_state *st, const char *path);

/* Directories a phase created (removed by reset when empty). Adding twice is a no-op. */
int fc_state_add_dir(struct fc_state *st, const char *phase, const char *path);
bool fc_state_has_dir(const struct fc_state *st, const char *path);
void fc_state_del_dir(struct fc_state *st, const char *path);

/* Symlinks a phase created. */
int fc_state_add_link(struct fc_state *st, const char *phase, const char *path, const char *target);
const char *fc_state_link_target(const struct fc_state *st, const char *path);
void fc_state_del_link(struct fc_state *st, const char *path);

/* Free-form string values of a phase ("type", "unit", "falco_version", …). value NULL deletes. */
int fc_state_set(struct fc_state *st, const char *phase, const char *key, const char *value);
const char *fc_state_get(const struct fc_state *st, const char *phase, const char *key);

/* Removes a phase's record entirely. */
void fc_state_del_phase(struct fc_state *st, const char *phase);

/* Iteration helpers: the arrays of a phase (NULL when absent). */
cJSON *fc_state_array(const struct fc_state *st, const char *phase, const char *what);
