/* SPDX-License-Identifier: Apache-2.0 */
/* Package ownership of a path (see pkgowner.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/macro.h"
#include "pkgowner.h"

#define QUERY_TIMEOUT_MS 15000

/* "falco, falco-extra: /etc/falco/falco.yaml" -> "falco" (the first package named on the path's line). */
static int parse_dpkg(const char *out, const char *path, char *owner, size_t ownerlen)
{
	size_t plen = strlen(path);

	for (const char *line = out; line && *line;
	     line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *colon = strstr(line, ": ");
		const char *eol = strchrnul(line, '\n');
		/* skip "diversion by ..." lines and answers for other paths */
		if (!colon || colon > eol || strncmp(line, "diversion ", 10) == 0)
			continue;
		if ((size_t)(eol - (colon + 2)) != plen || strncmp(colon + 2, path, plen) != 0)
			continue;
		size_t n = strcspn(line, ",:");
		if (n == 0 || n >= ownerlen)
			continue;
		memcpy(owner, line, n);
		owner[n] = '\0';
		return 1;
	}
	return 0;
}

static int ask_dpkg(struct fc_ctx *ctx, const char *admindir, const char *path, char *owner,
		    size_t ownerlen, char *errbuf, size_t errlen)
{
	char opt[PATH_MAX + 16];
	_cleanup_free_ char *out = NULL;

	if ((size_t)snprintf(opt, sizeof(opt), "--admindir=%s", admindir) >= sizeof(opt))
		return errf(errbuf, errlen, -ENAMETOOLONG, "dpkg database path too long");
	const char *argv[] = {"dpkg-query", opt, "-S", path, NULL};
	int r = ctx->ops->proc.run(ctx->ops->proc.data, argv, QUERY_TIMEOUT_MS, &out, errbuf,
				   errlen);
	if (r < 0)
		return r;
	if (r == 127) /* not installed: nothing can be asked */
		return 0;
	/* 1: no package has it; 0: found */
	if (r == 1)
		return 0;
	if (r != 0)
		return errf(errbuf, errlen, -EIO, "dpkg-query -S %s failed (exit %d): %.200s", path,
			    r, out ? out : "");
	return parse_dpkg(out ? out : "", path, owner, ownerlen);
}

static int ask_rpm(struct fc_ctx *ctx, const char *path, char *owner, size_t ownerlen, char *errbuf,
		   size_t errlen)
{
	_cleanup_free_ char *out = NULL;
	const char *argv[] = {"rpm", "--root", ctx->root, "-qf", "--qf", "%{NAME}\\n", path, NULL};
	int r = ctx->ops->proc.run(ctx->ops->proc.data, argv, QUERY_TIMEOUT_MS, &out, errbuf,
				   errlen);
	if (r < 0)
		return r;
	if (r != 0) /* 1: not owned; 127: no rpm */
		return 0;
	size_t n = out ? strcspn(out, "\n") : 0;
	if (n == 0 || n >= ownerlen || strchr(out, ' '))
		return 0;
	memcpy(owner, out, n);
	owner[n] = '\0';
	return 1;
}

int fc_package_owner(struct fc_ctx *ctx, const char *path, char *owner, size_t ownerlen,
		     char *errbuf, size_t errlen)
{
	char db[PATH_MAX];

	if (!ctx->ops->proc.run || path[0] != '/')
		return 0;
	/* only the databases of the root being managed count: a host's dpkg knows nothing of --root trees */
	if (fc_path(ctx, "/var/lib/dpkg/status", db) == 0 && access(db, F_OK) == 0) {
		char *slash = strrchr(db, '/');
		*slash = '\0';
		int r = ask_dpkg(ctx, db, path, owner, ownerlen, errbuf, errlen);
		if (r != 0)
			return r;
	}
	if (fc_path(ctx, "/var/lib/rpm", db) == 0 && access(db, F_OK) == 0)
		return ask_rpm(ctx, path, owner, ownerlen, errbuf, errlen);
	return 0;
}
