/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Preflight aggregation (kubeadm's RunChecks): each check reports OK, a warning (printed at once as
 * "\t[WARNING Name]: msg") or an error (collected). Names in the ignore list, or "all", turn errors into
 * warnings. After all checks, one error lists every collected "[ERROR Name]: msg".
 */
#pragma once

#include <stdarg.h>

#include "common/strbuf.h"
#include "fc.h"

enum fc_pf_result {
	FC_PF_OK,
	FC_PF_WARN,
	FC_PF_ERROR,
};

struct fc_preflight {
	char *const *ignore; /* borrowed */
	struct strbuf errors;
	unsigned nwarn;
	unsigned nerr;
};

void fc_preflight_init(struct fc_preflight *pf, char *const *ignore);
void fc_preflight_done(struct fc_preflight *pf);
void fc_preflight_report(struct fc_ctx *ctx, struct fc_preflight *pf, enum fc_pf_result res,
			 const char *name, const char *fmt, ...) _printf_(5, 6);
/* Runs every check. 0, or -EINVAL with the kubeadm-style summary of all errors in errbuf. */
int fc_preflight_run_checks(struct fc_ctx *ctx, struct fc_preflight *pf, char *errbuf,
			    size_t errlen);
