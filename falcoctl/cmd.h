/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Commands (kmod's tools are the model): main.c parses the command line into settings and calls one of
 * these. Each command builds a context, does its work, reports through env->rep and returns the exit status.
 */
#pragma once

#include "config.h"
#include "fc.h"

struct fc_cmd_env {
	struct fc_settings *cfg;
	struct fc_reporter *rep;
	const struct fc_ops *ops;
	char **args; /* positional arguments after the command words */
	int nargs;
	uint64_t t0_ms;
};

int cmd_install_falco(struct fc_cmd_env *env);
int cmd_install_phase(struct fc_cmd_env *env);
int cmd_reset(struct fc_cmd_env *env);
int cmd_status(struct fc_cmd_env *env);
int cmd_version(struct fc_cmd_env *env);
int cmd_driver_config(struct fc_cmd_env *env);
int cmd_driver_printenv(struct fc_cmd_env *env);
int cmd_driver_status(struct fc_cmd_env *env);
int cmd_driver_load(struct fc_cmd_env *env);
int cmd_driver_unload(struct fc_cmd_env *env);
int cmd_driver_fetch(struct fc_cmd_env *env);
int cmd_driver_cleanup(struct fc_cmd_env *env);

/*
 * Opens the context of a command: ctx_init, state file loaded (read-only in dry-run) and, when lock is set and
 * not in dry-run, the exclusive lock /var/lib/falcoctl/lock (another falcoctl working on the same root is an
 * error, not a wait). Returns 0 or -errno reported already. fc_cmd_close() releases both.
 */
int fc_cmd_open(struct fc_cmd_env *env, struct fc_ctx *ctx, bool lock, int *ret_lockfd);
void fc_cmd_close(struct fc_ctx *ctx, int lockfd);
