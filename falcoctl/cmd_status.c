/* SPDX-License-Identifier: Apache-2.0 */
/* status: what falcoctl installed and whether it is as installed; version. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "cmd.h"
#include "install.h"
#include "phase.h"
#include "state.h"

int cmd_version(struct fc_cmd_env *env)
{
	if (env->rep->mode == FC_OUTPUT_JSON) {
		fc_report_raw(env->rep,
			      "{\"falcoctl\":\"" PROJECT_VERSION "\",\"git\":\"" GIT_REV "\"}\n");
		return EXIT_SUCCESS;
	}
	fc_report_raw(env->rep, "falcoctl version " PROJECT_VERSION " (" GIT_REV ")\n");
	return EXIT_SUCCESS;
}

int cmd_status(struct fc_cmd_env *env)
{
	struct fc_ctx ctx;
	struct fc_phase_ref refs[32];
	char full[PATH_MAX], sha[65];
	int lockfd, rc = EXIT_SUCCESS;

	if (fc_cmd_open(env, &ctx, false, &lockfd) < 0)
		return EXIT_FAILURE;
	ctx.phase = "status";
	if (fc_state_empty(ctx.state)) {
		fc_info(&ctx, "falco is not installed by falcoctl under %s", ctx.root);
		fc_cmd_close(&ctx, lockfd);
		return 3; /* like systemctl status of an unknown unit */
	}
	cJSON *v = cJSON_GetObjectItemCaseSensitive(ctx.state->root, "updated");
	fc_info(&ctx, "installed under %s; state %s (updated %s)", ctx.root, FC_STATE_FILE,
		cJSON_GetStringValue(v) ? cJSON_GetStringValue(v) : "?");
	fc_info(&ctx, "falco %s, driver %s", fc_state_get(ctx.state, "userspace", "version") ?: "?",
		fc_state_get(ctx.state, "driver/select", "type") ?: "?");

	/* phases */
	int n = fc_phases_flatten(fc_install_phases, fc_install_phases_n, refs, NULL, 0);
	for (int i = 0; i < n; i++) {
		if (refs[i].phase->flags & FC_PHASE_RESERVED)
			continue;
		if (!refs[i].phase->run)
			continue;
		fc_info(&ctx, "phase %-14s %s", refs[i].path,
			fc_state_completed(ctx.state, refs[i].path) ? "completed"
								    : "not completed");
	}

	/* files: still what falcoctl wrote? */
	unsigned nfiles = 0, changed = 0, missing = 0;
	cJSON *ph;
	cJSON_ArrayForEach(ph, cJSON_GetObjectItemCaseSensitive(ctx.state->root, "phases"))
	{
		cJSON *e;
		cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ph, "files"))
		{
			const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(e, "path"));
			const char *want = cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256"));
			if (!p || fc_path(&ctx, p, full) < 0)
				continue;
			nfiles++;
			int r = fc_sha256_file(full, 0, sha, NULL, 0);
			if (r == -ENOENT) {
				missing++;
				fc_report_check(ctx.rep, FC_WARNING, ctx.phase, "Missing", "%s", p);
			} else if (r == 0 && want && !streq(sha, want)) {
				changed++;
				fc_info(&ctx, "locally modified: %s", p);
			}
		}
	}
	fc_info(&ctx, "%u files installed: %u locally modified, %u missing", nfiles, changed,
		missing);

	/* the service */
	const char *mode = fc_state_get(ctx.state, "start", "mode"),
		   *unit = fc_state_get(ctx.state, "start", "unit");
	if (!ctx.host) {
		fc_info(&ctx, "--root %s: not the running host, no service to inspect", ctx.root);
	} else if (mode && streq(mode, "supervised")) {
		pid_t pid = fc_path(&ctx, FC_FALCO_PIDFILE, full) == 0 ? fc_pidfile_alive(full) : 0;
		fc_info(&ctx, "falco (supervised by falcoctl): %s",
			pid ? "running" : "not running");
		if (pid)
			fc_info(&ctx, "falco pid %d", (int)pid);
		else
			rc = EXIT_FAILURE;
	} else if (unit && env->ops->systemd.booted(env->ops->systemd.data)) {
		struct fc_unit_status st;
		char e[512];
		if (env->ops->systemd.status(env->ops->systemd.data, unit, &st, e, sizeof(e)) < 0) {
			fc_info(&ctx, "%s: %s", unit, e);
			rc = EXIT_FAILURE;
		} else {
			fc_info(&ctx, "%s: %s (%s), %s, pid %u", unit, st.active_state,
				st.sub_state, st.unit_file_state, st.main_pid);
			if (st.active != FC_UNIT_ACTIVE)
				rc = EXIT_FAILURE;
		}
	}
	fc_cmd_close(&ctx, lockfd);
	return rc;
}
