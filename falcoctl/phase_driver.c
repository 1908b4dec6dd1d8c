/* SPDX-License-Identifier: Apache-2.0 */
/* driver: /select (live checks in priority order), /fetch (signed kmod artifact), /load (prove or insert). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "config.h"
#include "driver.h"
#include "fs.h"
#include "install.h"
#include "state.h"

static int record_type(struct fc_ctx *ctx, int d, char *errbuf, size_t errlen)
{
	ctx->driver = d;
	if (ctx->dry_run || !ctx->state)
		return 0;
	const char *old = fc_state_get(ctx->state, "driver/select", "type");
	if (old && streq(old, fc_driver_type_to_string(d)))
		return 0;
	if (old)
		fc_info(ctx, "Switching the driver from %s to %s", old,
			fc_driver_type_to_string(d));
	if (fc_state_set(ctx->state, "driver/select", "type", fc_driver_type_to_string(d)) < 0)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	fc_mark_restart(ctx);
	return fc_commit(ctx, errbuf, errlen);
}

int phase_driver_select_run(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	struct fc_candidate cands[_FC_DRIVER_MAX];
	size_t n = 0;
	char **allowed = fc_driver_allowed(ctx);
	int d;

	if (!allowed)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	if (!ctx->host) {
		d = fc_driver_type_from_string(allowed[0]);
		fc_info(ctx,
			"--root %s is not the running host, so no kernel can be probed: using %s, the first allowed "
			"type (choose with --type)",
			ctx->root, allowed[0]);
		fc_strv_free(allowed);
		return record_type(ctx, d, errbuf, errlen);
	}
	d = fc_driver_select(ctx, allowed, cands, &n, errbuf, errlen);
	fc_strv_free(allowed);
	for (size_t i = 0; i < n; i++) {
		if (cands[i].ok)
			fc_info(ctx, "Using the %s driver: %s",
				fc_driver_type_to_string(cands[i].type), cands[i].reason);
		else
			fc_info(ctx, "Rejected %s: %s", fc_driver_type_to_string(cands[i].type),
				cands[i].reason);
	}
	if (d < 0)
		return d;
	return record_type(ctx, d, errbuf, errlen);
}

int phase_driver_fetch_run(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	struct fc_target t;
	struct fc_artifact a;
	int d = fc_install_driver(ctx), r;

	if (d == FC_DRIVER_MODERN_EBPF) {
		fc_info(ctx, "No artifact needed: the modern_ebpf probe is built into falco");
		return 0;
	}
	if (!ctx->host && !fc_cfg_str(ctx->cfg, FC_K_DRIVER_KERNELRELEASE)) {
		fc_info(ctx,
			"Not fetching a kernel module for --root %s: the target kernel is unknown (give "
			"--kernelrelease and --kernelversion)",
			ctx->root);
		return 0;
	}
	r = fc_driver_target(ctx, &t, errbuf, errlen);
	if (r < 0)
		return r;
	r = fc_driver_artifact(ctx, &t, &a, errbuf, errlen);
	if (r < 0)
		return r;
	r = fc_driver_cache_verify(ctx, &a, errbuf, errlen);
	if (r == 1) {
		fc_info(ctx, "Using the cached, verified %s", a.rel);
		return 0;
	}
	if (r < 0)
		fc_warn(ctx, "DriverCache", "%s; downloading it again", errbuf);
	return fc_driver_fetch(ctx, &a, false, errbuf, errlen);
}

int phase_driver_fetch_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	int r = fc_undo_recorded(ctx, ctx->phase, errbuf, errlen);
	return r < 0 ? r : 0;
}

/* modern_ebpf: prove that the probe loads and attaches here, with falco itself when it can tell us. */
static int prove_modern(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	char falco[PATH_MAX] = "", reason[512];
	if (fc_path(ctx, FC_FALCO_BIN, falco) == 0 && access(falco, X_OK) == 0 &&
	    fc_falco_has_flag(ctx, falco, "--check-driver")) {
		/* no -c: on a fresh install falco.yaml is written after this phase; falco's defaults are enough */
		const char *argv[] = {falco, "--check-driver", NULL};
		_cleanup_free_ char *out = NULL;
		if (ctx->dry_run) {
			fc_info(ctx,
				"Would run falco --check-driver to prove the modern_ebpf probe loads and attaches");
			return 0;
		}
		int r = ctx->ops->proc.run(ctx->ops->proc.data, argv, 60000, &out, errbuf, errlen);
		if (r != 0)
			return errf(errbuf, errlen, r < 0 ? r : -EIO,
				    "falco --check-driver failed: %s",
				    out && *out ? out : "(no output)");
		fc_info(ctx,
			"falco --check-driver: the modern_ebpf probe loads and attaches on this kernel");
		return 0;
	}
	int r = fc_driver_check_modern(ctx, reason, sizeof(reason));
	if (r <= 0)
		return errf(errbuf, errlen, r < 0 ? r : -ENODEV,
			    "the modern_ebpf driver cannot run here: %s", reason);
	fc_info(ctx,
		"modern_ebpf: %s (falcoctl's own probe: %s%s; falco attaches its programs when it "
		"starts)",
		reason, access(falco, X_OK) == 0 ? falco : "no falco installed at ",
		access(falco, X_OK) == 0 ? " has no --check-driver" : falco);
	return 0;
}

int phase_driver_load_run(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	int d = fc_install_driver(ctx);
	if (d == FC_DRIVER_MODERN_EBPF)
		return prove_modern(ctx, errbuf, errlen);
	int r = fc_driver_kmod_load(ctx, errbuf, errlen);
	return r < 0 ? r : 0;
}

int phase_driver_load_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	/* only what falcoctl loaded; a module loaded by someone else stays */
	if (!ctx->state || !fc_state_get(ctx->state, "driver/load", "kmod"))
		return 0;
	int r = fc_driver_kmod_unload(ctx, errbuf, errlen);
	return r < 0 ? r : 0;
}
