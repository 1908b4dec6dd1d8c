/* SPDX-License-Identifier: Apache-2.0 */
/* userspace: the falco binary at /usr/bin/falco, from --from, the package, or the build tree beside falcoctl. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fileio.h"
#include "fs.h"
#include "install.h"
#include "state.h"

#define BINARY_MAX (512u << 20)

int phase_userspace_run(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	char src[PATH_MAX], dst[PATH_MAX];
	_cleanup_free_ char *data = NULL;
	size_t len;
	int r;

	r = fc_falco_source(ctx, src, sizeof(src), errbuf, errlen);
	if (r < 0)
		return r;
	r = fc_path(ctx, FC_FALCO_BIN, dst);
	if (r < 0)
		return errf(errbuf, errlen, r, "invalid root");
	fc_falco_version(ctx, src, ctx->falco_version, sizeof(ctx->falco_version));

	_cleanup_free_ char *rs = realpath(src, NULL), *rd = realpath(dst, NULL);
	if (rs && rd && streq(rs, rd)) {
		/* the package (or make install) put it there: use it, and never remove it on reset */
		fc_info(ctx, "Using the installed falco %s (version %s)", FC_FALCO_BIN,
			ctx->falco_version[0] ? ctx->falco_version : "unknown");
	} else {
		r = read_file(src, BINARY_MAX, &data, &len, errbuf, errlen);
		if (r < 0)
			return r;
		fc_debug(ctx, "Installing falco %s from %s", ctx->falco_version, src);
		struct fc_file_spec f = {.path = FC_FALCO_BIN,
					 .data = data,
					 .len = len,
					 .mode = 0755,
					 .policy = FC_FILE_STRICT,
					 .restart = true,
					 .binary = true};
		r = fc_file_ensure(ctx, &f, errbuf, errlen);
		if (r < 0)
			return r;
		if (r == 1)
			fc_mark_restart(ctx);
		else
			fc_info(ctx, "falco %s at %s is up to date", ctx->falco_version,
				FC_FALCO_BIN);
	}
	if (!ctx->dry_run && ctx->state) {
		const char *old = fc_state_get(ctx->state, "userspace", "version");
		if (!old || !streq(old, ctx->falco_version)) {
			if (fc_state_set(ctx->state, "userspace", "version", ctx->falco_version) <
			    0)
				return errf(errbuf, errlen, -ENOMEM, "out of memory");
			return fc_commit(ctx, errbuf, errlen);
		}
	}
	return 0;
}

int phase_userspace_undo(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	int r = fc_undo_recorded(ctx, "userspace", errbuf, errlen);
	return r < 0 ? r : 0;
}
