/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Which distribution package owns a path, asked of dpkg (dpkg-query -S) or rpm (rpm -qf) through
 * ctx->ops->proc, inside ctx->root. reset uses it so that a file falcoctl recorded but a package also ships
 * (falco.yaml adopted from the deb, or a package installed over falcoctl's files) is left to the package.
 */
#pragma once

#include <stddef.h>

#include "fc.h"

/*
 * Returns 1 with the owning package's name in owner (e.g. "falco"), 0 when no package database of root knows
 * the path (or there is none), -errno when a query could not run to the end (message in errbuf).
 */
int fc_package_owner(struct fc_ctx *ctx, const char *path, char *owner, size_t ownerlen,
		     char *errbuf, size_t errlen);
