/* SPDX-License-Identifier: Apache-2.0 */
/*
 * user.* and group.* fields: the process's effective uid/gid, their names, home and shell through the state's
 * NSS cache (the container's own /etc/passwd for container processes), and the audit login uid.
 */
#include <errno.h>
#include <string.h>

#include "common/macro.h"
#include "sc_internal.h"

enum user_f { UF_UID, UF_NAME, UF_HOME, UF_SHELL, UF_LOGINUID, UF_LOGINNAME, UF_GID, UF_GNAME };

static int fld_user(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct sc_evt *e = sc_evt_of(ctx);
	struct st_state *st = sc_state_of(ctx);
	const struct st_proc *p = e->proc;
	const struct st_user *u;

	if (!p)
		return 0;
	switch ((enum user_f)fi->def->data) {
	case UF_UID:
		return sc_val_u64(out, p->uid);
	case UF_GID:
		return sc_val_u64(out, p->gid);
	case UF_LOGINUID:
		return sc_val_s64(out, p->loginuid == UINT32_MAX ? -1 : (int64_t)p->loginuid);
	case UF_NAME:
	case UF_HOME:
	case UF_SHELL:
		if (p->uid == ST_ID_UNKNOWN)
			return 0;
		u = st_user(st, p, p->uid);
		break;
	case UF_LOGINNAME:
		if (p->loginuid == UINT32_MAX)
			return 0;
		u = st_user(st, p, p->loginuid);
		break;
	case UF_GNAME:
		if (p->gid == ST_ID_UNKNOWN)
			return 0;
		u = st_group(st, p, p->gid);
		break;
	default:
		return 0;
	}
	if (!u || !u->found)
		return 0;
	switch ((enum user_f)fi->def->data) {
	case UF_HOME:
		return sc_val_sstr(out, u->home);
	case UF_SHELL:
		return sc_val_sstr(out, u->shell);
	default:
		return sc_val_sstr(out, u->name);
	}
}

#define F(n, t, f, d)                                                           \
	{                                                                       \
		.name = n, .type = t, .desc = d, .extract = fld_user, .data = f \
	}

static const struct fld_def user_defs[] = {
	F("user.uid", FT_U64, UF_UID, "Effective user ID."),
	F("user.name", FT_STRING, UF_NAME,
	  "Name of the effective user (NSS, or the container's /etc/passwd)."),
	F("user.homedir", FT_STRING, UF_HOME, "Home directory of the user."),
	F("user.shell", FT_STRING, UF_SHELL, "The user's shell."),
	F("user.loginuid", FT_S64, UF_LOGINUID, "Audit user id (auid); -1 when unset."),
	F("user.loginname", FT_STRING, UF_LOGINNAME, "Audit user name (auid)."),
};

const struct fld_table sc_fields_user = {
	.class_name = "user",
	.desc = "Information about the user executing the specific event.",
	.defs = user_defs,
	.n = ARRAY_SIZE(user_defs),
};

static const struct fld_def group_defs[] = {
	F("group.gid", FT_U64, UF_GID, "Effective group ID."),
	F("group.name", FT_STRING, UF_GNAME, "Effective group name."),
};

const struct fld_table sc_fields_group = {
	.class_name = "group",
	.desc = "Information about the user group.",
	.defs = group_defs,
	.n = ARRAY_SIZE(group_defs),
};
