/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State ↔ capture blocks (see capture.h, docs/CAPTURE_FORMAT.md). Writers return 0, -E2BIG for an entry that
 * does not fit a block (skipped), or the capture writer's -EIO. st_snap_apply() returns 0 or -EBADMSG with the
 * reason in errbuf (the caller adds the block's offset). Nothing here logs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture.h"
#include "state.h"

int st_snap_write_proc(const struct st_state *st, const struct st_proc *p, struct cap_writer *w);
int st_snap_write_fd(const struct st_state *st, const struct st_fd *f, struct cap_writer *w);
int st_snap_write_env(const struct st_state *st, const struct st_proc *p, struct cap_writer *w);
int st_snap_write_user(const struct st_state *st, const struct st_user *u, struct cap_writer *w);
int st_snap_write_container(const struct st_state *st, const struct st_container *c,
			    struct cap_writer *w);
int st_snap_write_purge(uint32_t id, bool whole_proc, struct cap_writer *w);
/* Containers, processes with their fds, users, then SNAPSHOT_END. */
int st_snap_write_all(const struct st_state *st, struct cap_writer *w);

/* Applies a state block (proc, fd, user, container, proc_env, purge); other block types are ignored. */
int st_snap_apply(struct st_state *st, const struct cap_block *b, char *errbuf, size_t errlen);
