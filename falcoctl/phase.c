/* SPDX-License-Identifier: Apache-2.0 */
/* The phase runner: flatten, select, run or dry-run, undo, help. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/strbuf.h"
#include "fs.h"
#include "phase.h"
#include "state.h"

int fc_phases_flatten(const struct fc_phase *table, size_t n, struct fc_phase_ref *out,
		      char *errbuf, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		const struct fc_phase *p = &table[i];
		int parent = -1;
		if (p->parent) {
			for (size_t j = 0; j < i; j++)
				if (streq(table[j].name, p->parent))
					parent = (int)j;
			if (parent < 0)
				return errf(errbuf, errlen, -EINVAL,
					    "phase '%s': parent '%s' must come before it", p->name,
					    p->parent);
		}
		out[i].phase = p;
		out[i].parent = parent;
		out[i].depth = parent < 0 ? 0 : out[parent].depth + 1;
		int w = parent < 0 ? snprintf(out[i].path, sizeof(out[i].path), "%s", p->name)
				   : snprintf(out[i].path, sizeof(out[i].path), "%s/%s",
					      out[parent].path, p->name);
		if (w < 0 || (size_t)w >= sizeof(out[i].path))
			return errf(errbuf, errlen, -ENAMETOOLONG, "phase path too long: '%s'",
				    p->name);
	}
	return (int)n;
}

static int find_path(const struct fc_phase_ref *refs, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (streq(refs[i].path, path))
			return (int)i;
	return -1;
}

static bool descends_from(const struct fc_phase_ref *refs, int i, int ancestor)
{
	for (; i >= 0; i = refs[i].parent)
		if (i == ancestor)
			return true;
	return false;
}

int fc_phases_select(const struct fc_phase_ref *refs, size_t n, const char *filter,
		     char *const *skip, bool *selected, char *errbuf, size_t errlen)
{
	int f = -1;
	if (filter) {
		f = find_path(refs, n, filter);
		if (f < 0)
			return errf(errbuf, errlen, -EINVAL, "invalid phase name: %s", filter);
	}
	for (size_t i = 0; i < n; i++)
		selected[i] = f < 0 || descends_from(refs, (int)i, f);
	for (char *const *s = skip; s && *s; s++) {
		int k = find_path(refs, n, *s);
		if (k < 0)
			return errf(errbuf, errlen, -EINVAL, "invalid phase name: %s", *s);
		for (size_t i = 0; i < n; i++)
			if (descends_from(refs, (int)i, k))
				selected[i] = false;
	}
	return 0;
}

int fc_phases_run(struct fc_ctx *ctx, const struct fc_phase *table, size_t n, const char *filter,
		  char *const *skip, char *errbuf, size_t errlen)
{
	_cleanup_free_ struct fc_phase_ref *refs = calloc(n, sizeof(*refs));
	_cleanup_free_ bool *sel = calloc(n, sizeof(*sel));
	char cause[4096];
	int r;

	if (!refs || !sel)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	r = fc_phases_flatten(table, n, refs, errbuf, errlen);
	if (r < 0)
		return r;
	r = fc_phases_select(refs, n, filter, skip, sel, errbuf, errlen);
	if (r < 0)
		return r;

	for (size_t i = 0; i < n; i++) {
		const struct fc_phase *p = refs[i].phase;
		if (!sel[i]) {
			/* say so once per skipped subtree, at its root */
			if ((refs[i].parent < 0 || sel[refs[i].parent]) &&
			    (!filter || descends_from(refs, (int)i, find_path(refs, n, filter))))
				fc_report(ctx->rep, FC_INFO, refs[i].path,
					  "Skipping phase %s (--skip-phases)", refs[i].path);
			continue;
		}
		ctx->phase = refs[i].path;
		ctx->phase_changes = 0;
		if (p->flags & FC_PHASE_RESERVED) {
			fc_info(ctx, "Skipping phase %s: %s", refs[i].path, p->desc);
			continue;
		}
		if ((p->flags & FC_PHASE_HOST) && !ctx->host) {
			fc_info(ctx, "Skipping phase %s: --root %s is not the running host",
				refs[i].path, ctx->root);
			continue;
		}
		fc_phase_fn fn = ctx->dry_run ? p->check : p->run;
		if (!fn) {
			if (ctx->dry_run && p->run)
				fc_info(ctx, "Would run: %s", p->desc);
			continue;
		}
		cause[0] = '\0';
		r = fn(ctx, cause, sizeof(cause));
		if (r < 0) {
			ctx->phase = NULL;
			return errf(errbuf, errlen, r, "error execution phase %s: %s", refs[i].path,
				    cause[0] ? cause : strerror(-r));
		}
		if (!ctx->dry_run && ctx->state) {
			r = fc_state_mark_completed(ctx->state, refs[i].path, true);
			if (r < 0)
				return errf(errbuf, errlen, -ENOMEM, "out of memory");
			if (r > 0)
				r = fc_commit(ctx, cause, sizeof(cause));
			if (r < 0)
				return errf(errbuf, errlen, r, "error execution phase %s: %s",
					    refs[i].path, cause);
		}
	}
	ctx->phase = NULL;
	return 0;
}

int fc_phases_undo(struct fc_ctx *ctx, const struct fc_phase *table, size_t n, char *errbuf,
		   size_t errlen)
{
	_cleanup_free_ struct fc_phase_ref *refs = calloc(n, sizeof(*refs));
	char cause[4096];
	int r, first = 0;

	if (!refs)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	r = fc_phases_flatten(table, n, refs, errbuf, errlen);
	if (r < 0)
		return r;
	for (size_t i = n; i-- > 0;) {
		const struct fc_phase *p = refs[i].phase;
		if (!p->undo || (p->flags & FC_PHASE_RESERVED))
			continue;
		ctx->phase = refs[i].path;
		if ((p->flags & FC_PHASE_HOST) && !ctx->host) {
			fc_debug(ctx, "Skipping: --root %s is not the running host", ctx->root);
			if (!ctx->dry_run && ctx->state)
				fc_state_del_phase(ctx->state, refs[i].path);
			continue;
		}
		cause[0] = '\0';
		r = p->undo(ctx, cause, sizeof(cause));
		if (r < 0) {
			fc_report(ctx->rep, FC_ERROR, refs[i].path, "%s",
				  cause[0] ? cause : strerror(-r));
			if (!first) {
				first = r;
				errf(errbuf, errlen, r, "error execution phase %s: %s",
				     refs[i].path, cause[0] ? cause : strerror(-r));
			}
			continue;
		}
		if (!ctx->dry_run && ctx->state) {
			fc_state_del_phase(ctx->state, refs[i].path);
			r = fc_commit(ctx, cause, sizeof(cause));
			if (r < 0 && !first)
				first = errf(errbuf, errlen, r, "%s", cause);
		}
	}
	ctx->phase = NULL;
	return first;
}

int fc_phases_help(const struct fc_phase *table, size_t n, struct strbuf *out)
{
	_cleanup_free_ struct fc_phase_ref *refs = calloc(n, sizeof(*refs));
	if (!refs || fc_phases_flatten(table, n, refs, NULL, 0) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		char name[160];
		if (refs[i].depth == 0)
			snprintf(name, sizeof(name), "%s", refs[i].phase->name);
		else
			snprintf(name, sizeof(name), "%*s/%s", 2 * refs[i].depth, "",
				 refs[i].phase->name);
		strbuf_appendf(out, "  %-18s %s\n", name, refs[i].phase->desc);
	}
	return out->failed ? -ENOMEM : 0;
}
