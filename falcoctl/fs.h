/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Convergent file operations for phases: "make this file have this content and mode" with the state file as
 * memory. Every write goes through ctx->ops->fs (temp + fsync + rename), is recorded in the state right away
 * (so an interrupted run can still be reset precisely), and in --dry-run only reports what would change,
 * with a unified diff. User edits are never overwritten: a file that differs from what falcoctl last wrote is
 * kept and the new default goes next to it as <file>.falcoctl-new. These helpers report through ctx->rep
 * (they are the phases' shared body) and return -errno with text on failure.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "fc.h"

struct strbuf;

enum fc_file_policy {
	FC_FILE_OWNED, /* ours: updated while unchanged since we wrote it; user edits kept (+ .falcoctl-new) */
	FC_FILE_KEEP, /* created when missing, never modified afterwards (the user's local rules) */
	FC_FILE_STRICT, /* like OWNED, but a file not written by falcoctl is an error (-EEXIST): binaries */
};

struct fc_file_spec {
	const char *path; /* absolute, as seen inside the root */
	const void *data;
	size_t len;
	mode_t mode;
	enum fc_file_policy policy;
	bool binary;  /* no text diff in dry-run */
	bool restart; /* falco reads it: a change needs a restart, recorded before the write */
};

#define FC_FILE_KEPT 2

/*
 * Returns 0 (already right), 1 (changed, or would change in dry-run), FC_FILE_KEPT (the user's version was
 * kept; the new default was written, or would be, to <path>.falcoctl-new), -errno.
 */
int fc_file_ensure(struct fc_ctx *ctx, const struct fc_file_spec *f, char *errbuf, size_t errlen);

/* mkdir -p inside the root; records the directories it creates. 0 / 1 / -errno as above. */
int fc_dir_ensure(struct fc_ctx *ctx, const char *path, mode_t mode, char *errbuf, size_t errlen);

/*
 * Symlink path -> target inside the root (target is stored verbatim). An existing link to another target is
 * replaced only if falcoctl created it; anything else at path is an error (-EEXIST). 0 / 1 / -errno.
 */
int fc_link_ensure(struct fc_ctx *ctx, const char *path, const char *target, char *errbuf,
		   size_t errlen);

/* Removes a symlink falcoctl recorded (only if it still points where it did). 0 / 1 / -errno. */
int fc_link_remove(struct fc_ctx *ctx, const char *path, char *errbuf, size_t errlen);

/*
 * Undoes everything a phase recorded: links, then files (only when their content is still what falcoctl
 * wrote and no dpkg/rpm package owns them; others are kept and reported), then the directories it created,
 * deepest first, when empty.
 * Returns the number of items removed or -errno.
 */
int fc_undo_recorded(struct fc_ctx *ctx, const char *phase, char *errbuf, size_t errlen);

/* Saves ctx->state (not in dry-run). */
int fc_commit(struct fc_ctx *ctx, char *errbuf, size_t errlen);

/*
 * Unified diff of two texts (3 lines of context) appended to out. Large inputs (over ~4M line pairs) get a
 * one-line summary instead. Returns 0 or -ENOMEM.
 */
int fc_diff(const char *a, size_t alen, const char *b, size_t blen, const char *label_a,
	    const char *label_b, struct strbuf *out);
