/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The phase runner (kubeadm's workflow, in C). Phases are plain data: a static table in pre-order where each
 * row names its parent. The runner flattens it into "parent/child" paths, applies `install phase <name>` (the
 * phase and its children) and `--skip-phases a,b/c` (whole subtrees), runs each phase's check() in --dry-run
 * and run() otherwise, skips host-acting phases when --root is not "/", records completion in the state file
 * and wraps the first failure as "error execution phase <path>: <cause>". The same table prints the phase
 * list for --help. The runner is one of the few places that report (through ctx->rep).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "fc.h"

struct strbuf;

typedef int (*fc_phase_fn)(struct fc_ctx *ctx, char *errbuf, size_t errlen);

enum fc_phase_flags {
	FC_PHASE_HOST =
		1 << 0, /* acts on the running host (kernel, services): skipped when --root != / */
	FC_PHASE_RESERVED =
		1 << 1, /* a place kept for a later feature: listed, reports that it is skipped */
};

struct fc_phase {
	const char *name;
	const char *parent; /* name of the parent phase; NULL at the top */
	const char *desc;   /* one line for help */
	fc_phase_fn run;
	fc_phase_fn check; /* dry run: report what run would change; NULL = nothing to report */
	fc_phase_fn undo;  /* reset: remove what run recorded; NULL = nothing to undo */
	unsigned flags;
};

struct fc_phase_ref {
	const struct fc_phase *phase;
	char path[128]; /* "driver/load" */
	int parent;	/* index in the flattened list, -1 at the top */
	int depth;
};

/*
 * Flattens table (n rows, in pre-order) into out (capacity n). Returns the count or -EINVAL when a row's parent
 * is unknown or comes after it.
 */
int fc_phases_flatten(const struct fc_phase *table, size_t n, struct fc_phase_ref *out,
		      char *errbuf, size_t errlen);

/*
 * Computes which flattened phases run: all, or only `filter` and its descendants when filter is non-NULL; then
 * every name in skip and its descendants is removed. Unknown names are errors ("invalid phase name: x").
 * selected has one bool per flattened phase.
 */
int fc_phases_select(const struct fc_phase_ref *refs, size_t n, const char *filter,
		     char *const *skip, bool *selected, char *errbuf, size_t errlen);

/*
 * Runs the selected phases in order. On failure returns the phase's code with errbuf set to
 * "error execution phase <path>: <cause>". Completion of each phase is recorded in ctx->state (not in dry-run).
 */
int fc_phases_run(struct fc_ctx *ctx, const struct fc_phase *table, size_t n, const char *filter,
		  char *const *skip, char *errbuf, size_t errlen);

/*
 * Runs undo() of every phase in reverse order (reset). Continues after a failure and returns the first error
 * (text in errbuf), so one stuck item does not leave everything else installed.
 */
int fc_phases_undo(struct fc_ctx *ctx, const struct fc_phase *table, size_t n, char *errbuf,
		   size_t errlen);

/* Appends the indented phase list used by --help ("preflight    Run pre-flight checks"). */
int fc_phases_help(const struct fc_phase *table, size_t n, struct strbuf *out);

/* The `install falco` phase table. */
extern const struct fc_phase fc_install_phases[];
extern const size_t fc_install_phases_n;
