/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Field-name resolution against a source's field tables. Runs at load time only (conditions and output formats
 * resolve names once), so a linear scan over the tables is fine.
 */
#include <string.h>

#include "fields.h"

const struct fld_def *fld_lookup(const struct src_def *src, const char *name,
				 const char **ret_dotted_arg)
{
	const struct fld_def *best = NULL;
	size_t best_len = 0;

	if (ret_dotted_arg)
		*ret_dotted_arg = NULL;
	if (!src || !src->tables || !name)
		return NULL;
	for (const struct fld_table *const *t = src->tables; *t; t++)
		for (size_t i = 0; i < (*t)->n; i++)
			if (strcmp((*t)->defs[i].name, name) == 0)
				return &(*t)->defs[i];
	/* "evt.arg.flags" → evt.arg with argument "flags": the longest dotted prefix wins */
	for (const struct fld_table *const *t = src->tables; *t; t++) {
		for (size_t i = 0; i < (*t)->n; i++) {
			const struct fld_def *d = &(*t)->defs[i];
			size_t n = strlen(d->name);
			if (!(d->flags & FLD_ARG_DOTTED) || n <= best_len ||
			    strncmp(name, d->name, n) != 0 || name[n] != '.' || name[n + 1] == '\0')
				continue;
			best = d;
			best_len = n;
		}
	}
	if (best && ret_dotted_arg)
		*ret_dotted_arg = name + best_len + 1;
	return best;
}
