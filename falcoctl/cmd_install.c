/* SPDX-License-Identifier: Apache-2.0 */
/* install falco, install phase <name>, reset. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "cmd.h"
#include "fs.h"
#include "phase.h"
#include "state.h"

int fc_cmd_open(struct fc_cmd_env *env, struct fc_ctx *ctx, bool lock, int *ret_lockfd)
{
	char e[1024], path[PATH_MAX];
	int r;

	char created[8][PATH_MAX];
	size_t ncreated = 0;

	*ret_lockfd = -1;
	r = fc_ctx_init(ctx, env->cfg, env->rep, env->ops, e, sizeof(e));
	if (r < 0) {
		fc_report(env->rep, FC_ERROR, NULL, "%s", e);
		return r;
	}
	ctx->t0_ms = env->t0_ms;
	if (lock && !ctx->dry_run) {
		/* remember which parts of /var/lib/falcoctl we create, so reset can remove exactly those */
		char rel[] = FC_STATE_DIR;
		for (char *p = rel + 1;; p++) {
			if (*p != '/' && *p != '\0')
				continue;
			char saved = *p;
			*p = '\0';
			if (fc_path(ctx, rel, path) == 0 && access(path, F_OK) < 0 &&
			    ncreated < ARRAY_SIZE(created))
				snprintf(created[ncreated++], PATH_MAX, "%s", rel);
			*p = saved;
			if (!saved)
				break;
		}
		if (fc_path(ctx, FC_STATE_DIR, path) < 0 || mkdir_p(path, 0755, e, sizeof(e)) < 0) {
			fc_report(env->rep, FC_ERROR, NULL, "cannot create %s: %s", FC_STATE_DIR,
				  e);
			return -EIO;
		}
		if (fc_path(ctx, FC_LOCK_FILE, path) < 0)
			return -ENAMETOOLONG;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0) {
			fc_report(env->rep, FC_ERROR, NULL, "cannot open %s: %s", path,
				  strerror(errno));
			return -errno;
		}
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			r = -errno;
			close(fd);
			fc_report(env->rep, FC_ERROR, NULL,
				  "another falcoctl is working on %s (%s is locked)", ctx->root,
				  path);
			return r;
		}
		*ret_lockfd = fd;
	}
	if (fc_path(ctx, FC_STATE_FILE, path) < 0)
		return -ENAMETOOLONG;
	r = fc_state_load(path, &ctx->state, e, sizeof(e));
	if (r < 0) {
		fc_report(env->rep, FC_ERROR, NULL, "%s", e);
		fc_cmd_close(ctx, *ret_lockfd);
		*ret_lockfd = -1;
		return r;
	}
	for (size_t i = 0; i < ncreated; i++)
		(void)fc_state_add_dir(ctx->state, "falcoctl", created[i]);
	if (ncreated && fc_commit(ctx, e, sizeof(e)) < 0) {
		fc_report(env->rep, FC_ERROR, NULL, "%s", e);
		fc_cmd_close(ctx, *ret_lockfd);
		*ret_lockfd = -1;
		return -EIO;
	}
	return 0;
}

void fc_cmd_close(struct fc_ctx *ctx, int lockfd)
{
	fc_ctx_done(ctx);
	if (lockfd >= 0)
		close(lockfd);
}

static int run_install(struct fc_cmd_env *env, const char *filter)
{
	struct fc_ctx ctx;
	char e[8192];
	int lockfd, r;

	r = fc_cmd_open(env, &ctx, true, &lockfd);
	if (r < 0)
		return EXIT_FAILURE;
	if (ctx.dry_run)
		fc_report(env->rep, FC_INFO, "dry-run",
			  "Nothing will be changed: showing what each phase would do");
	r = fc_phases_run(&ctx, fc_install_phases, fc_install_phases_n, filter,
			  fc_cfg_list(env->cfg, FC_K_INSTALL_SKIPPHASES), e, sizeof(e));
	if (r < 0) {
		fc_report(env->rep, FC_ERROR, NULL, "%s", e);
		fc_cmd_close(&ctx, lockfd);
		return EXIT_FAILURE;
	}
	const char *what = filter ? "phase" : "install";
	if (ctx.dry_run)
		fc_report(env->rep, FC_INFO, "dry-run",
			  "%u change%s would be made; nothing was touched", ctx.changes,
			  ctx.changes == 1 ? "" : "s");
	else if (ctx.changes == 0)
		fc_report(env->rep, FC_INFO, what,
			  "Nothing to do: everything is already in place (nothing changed)");
	else
		fc_report(env->rep, FC_INFO, what, "Done: %u change%s applied", ctx.changes,
			  ctx.changes == 1 ? "" : "s");
	if (!filter && !ctx.dry_run && !ctx.host)
		fc_report(
			env->rep, FC_INFO, what,
			"%s is a complete pre-baked tree: config, rules, units and their enablement links; falco "
			"starts when a system booted from it reaches multi-user.target",
			ctx.root);
	fc_cmd_close(&ctx, lockfd);
	return EXIT_SUCCESS;
}

int cmd_install_falco(struct fc_cmd_env *env)
{
	return run_install(env, NULL);
}

int cmd_install_phase(struct fc_cmd_env *env)
{
	if (env->nargs != 1) {
		fc_report(env->rep, FC_ERROR, NULL,
			  "usage: falcoctl install phase <name> (see falcoctl install --help)");
		return 2;
	}
	return run_install(env, env->args[0]);
}

int cmd_reset(struct fc_cmd_env *env)
{
	struct fc_ctx ctx;
	char e[8192], path[PATH_MAX];
	int lockfd, r;

	r = fc_cmd_open(env, &ctx, true, &lockfd);
	if (r < 0)
		return EXIT_FAILURE;
	if (fc_state_empty(ctx.state)) {
		fc_report(env->rep, FC_INFO, "reset",
			  "Nothing to reset: falcoctl has not installed anything under %s",
			  ctx.root);
		fc_cmd_close(&ctx, lockfd);
		return EXIT_SUCCESS;
	}
	r = fc_phases_undo(&ctx, fc_install_phases, fc_install_phases_n, e, sizeof(e));
	if (r < 0) {
		fc_report(env->rep, FC_ERROR, NULL, "%s", e);
		fc_report(env->rep, FC_INFO, "reset",
			  "The state file keeps what is left; run reset again after fixing it");
		fc_cmd_close(&ctx, lockfd);
		return EXIT_FAILURE;
	}
	if (ctx.dry_run) {
		fc_report(env->rep, FC_INFO, "dry-run",
			  "%u change%s would be made; nothing was touched", ctx.changes,
			  ctx.changes == 1 ? "" : "s");
		fc_cmd_close(&ctx, lockfd);
		return EXIT_SUCCESS;
	}
	/* the state itself last: it was the record of everything above */
	char dirs[8][PATH_MAX];
	size_t ndirs = 0;
	cJSON *a = fc_state_array(ctx.state, "falcoctl", "dirs"), *it;
	cJSON_ArrayForEach(it, a) if (cJSON_IsString(it) && ndirs < ARRAY_SIZE(dirs))
		snprintf(dirs[ndirs++], PATH_MAX, "%s", it->valuestring);
	static const char *const mine[] = {FC_STATE_FILE, FC_LOCK_FILE};
	for (size_t i = 0; i < ARRAY_SIZE(mine); i++)
		if (fc_path(&ctx, mine[i], path) == 0)
			(void)unlink(path);
	if (fc_path(&ctx, FC_STATE_DIR, path) == 0)
		(void)rmdir(path);
	/* and the parents of the state directory that falcoctl created (deepest first: they were recorded top down) */
	for (size_t i = ndirs; i-- > 0;)
		if (fc_path(&ctx, dirs[i], path) == 0)
			(void)rmdir(path);
	fc_report(env->rep, FC_INFO, "reset", "Removed what falcoctl installed (%u change%s)",
		  ctx.changes, ctx.changes == 1 ? "" : "s");
	fc_cmd_close(&ctx, lockfd);
	return EXIT_SUCCESS;
}
