/* SPDX-License-Identifier: Apache-2.0 */
/*
 * evt.* fields of syscall events (the generic ones, evt.time/evt.num/..., come from fields_generic.c, and evt.type
 * from syscall_src.c): arguments by name or position rendered as upstream (flag names, "ip:port", user names for
 * uid parameters), the return value, open-mode predicates, the payload buffer, and the legacy evt.dir.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "common/strbuf.h"
#include "falco/engine/fields_generic.h"
#include "sc_internal.h"
#include "syscall_table.h"

/* A reusable render buffer: grows once, then every rendering is copied into the per-event arena. */
static struct strbuf render_sb;

static struct strbuf *render_buf(void)
{
	strbuf_reset(&render_sb);
	return &render_sb;
}

/* ---- argument specs: evt.arg.<name>, evt.arg[N], evt.rawarg.<name> ---- */

struct argspec {
	int index; /* [N]: the Nth parameter of any event; -1 for a name */
	int8_t idx
		[_EVT_TYPE_DEDICATED_MAX]; /* by name: its position in each event type, -1 if absent */
	int8_t generic;
};

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int arg_prepare(struct fld_inst *fi, char *errbuf, size_t errlen)
{
	struct argspec *a;
	bool found = false;
	const char *name = fi->arg;
	size_t nlen = fi->arg_len;

	if (!name && startswith(fi->def->name, "evt.rawarg.")) {
		/* the hidden string-typed entries: the name is in the field's own name */
		name = fi->def->name + STRLEN("evt.rawarg.");
		nlen = strlen(name);
	}
	if (!name || !nlen)
		return snprintf(errbuf, errlen, "field '%s' requires an argument", fi->def->name),
		       -EINVAL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->index = -1;
	if (all_digits(name, nlen)) {
		if (fi->def->data == 1) {
			free(a);
			return snprintf(errbuf, errlen,
					"evt.rawarg does not take an index: use evt.rawarg.<name>"),
			       -EINVAL;
		}
		unsigned long v = strtoul(name, NULL, 10);
		a->index = v > EVT_MAX_PARAMS ? (int)EVT_MAX_PARAMS : (int)v;
		fi->arg_priv = a;
		return 0;
	}
	for (unsigned t = 0; t < _EVT_TYPE_DEDICATED_MAX; t++) {
		int i = evt_param_index(evt_info((uint16_t)t), name);
		a->idx[t] = (int8_t)i;
		found |= i >= 0;
	}
	a->generic = (int8_t)evt_param_index(evt_info(EVT_GENERIC_BASE), name);
	found |= a->generic >= 0;
	if (!found) {
		free(a);
		return snprintf(errbuf, errlen, "unknown event argument %s", name), -EINVAL;
	}
	fi->arg_priv = a;
	return 0;
}

static void arg_release(struct fld_inst *fi)
{
	free(fi->arg_priv);
	fi->arg_priv = NULL;
}

static int arg_index(const struct fld_inst *fi, const struct evt_rec *r)
{
	const struct argspec *a = fi->arg_priv;

	if (!a)
		return -1;
	if (a->index >= 0)
		return a->index < (int)r->nparams ? a->index : -1;
	if (r->type < _EVT_TYPE_DEDICATED_MAX)
		return a->idx[r->type];
	return r->type >= EVT_GENERIC_BASE ? a->generic : -1;
}

/* Upstream resolves uid/gid parameters to names (evt.arg.uid=nobody). */
static int render_arg(struct fld_ctx *ctx, const struct sc_evt *e, unsigned i, struct strbuf *sb)
{
	const struct evt_rec *r = &e->rec;
	uint8_t t = i < r->info->nparams ? r->info->params[i].type : 0;
	uint64_t id;

	if ((t == EVT_PT_UID || t == EVT_PT_GID) && evt_get_u64(r, i, &id) > 0) {
		if ((uint32_t)id == UINT32_MAX)
			return strbuf_appends(sb, "-1") < 0 ? -ENOMEM : 1;
		const struct st_user *u =
			t == EVT_PT_UID ? st_user(sc_state_of(ctx), e->proc, (uint32_t)id)
					: st_group(sc_state_of(ctx), e->proc, (uint32_t)id);
		if (u && u->found && u->name)
			return strbuf_append(sb, u->name->s, u->name->len) < 0 ? -ENOMEM : 1;
		return strbuf_appendf(sb, "%" PRIu64, id) < 0 ? -ENOMEM : 1;
	}
	return evt_render_param(r, i, sb);
}

static int fld_arg(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct sc_evt *e = sc_evt_of(ctx);
	int i = arg_index(fi, &e->rec);
	struct strbuf *sb = render_buf();

	if (i < 0)
		return 0;
	int k = render_arg(ctx, e, (unsigned)i, sb);
	if (k <= 0 || sb->failed)
		return k < 0 ? k : 0;
	return sc_val_copy(ctx, out, sb->buf, sb->len);
}

static int fld_rawarg(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct sc_evt *e = sc_evt_of(ctx);
	const struct evt_rec *r = &e->rec;
	int i = arg_index(fi, r);
	int64_t s;
	uint64_t u;
	const char *str;
	size_t n;

	if (i < 0 || (unsigned)i >= r->info->nparams)
		return 0;
	if (fi->def->type == FT_STRING)
		return evt_get_str(r, (unsigned)i, &str, &n) > 0 ? sc_val_str(out, str, n) : 0;
	if (evt_get_s64(r, (unsigned)i, &s) > 0)
		return sc_val_s64(out, s);
	if (evt_get_u64(r, (unsigned)i, &u) > 0)
		return sc_val_s64(out, (int64_t)u);
	return 0;
}

static int fld_args(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct sc_evt *e = sc_evt_of(ctx);
	const struct evt_rec *r = &e->rec;
	struct strbuf *sb = render_buf();

	for (unsigned i = 0; i < r->info->nparams && i < r->nparams; i++) {
		if (r->lens[i] == 0)
			continue;
		size_t mark = sb->len;
		if (sb->len)
			strbuf_appendc(sb, ' ');
		strbuf_appends(sb, r->info->params[i].name);
		strbuf_appendc(sb, '=');
		if (render_arg(ctx, e, i, sb) <= 0) {
			sb->len = mark; /* drop the empty "name=" */
			if (sb->buf)
				sb->buf[mark] = '\0';
		}
	}
	if (sb->failed)
		return -ENOMEM;
	return sc_val_copy(ctx, out, sb->buf ? sb->buf : "", sb->len);
}

/* ---- results and predicates ---- */

enum evt_f {
	EF_DIR,
	EF_CPU,
	EF_RES,
	EF_RAWRES,
	EF_FAILED,
	EF_IS_OPEN_READ,
	EF_IS_OPEN_WRITE,
	EF_IS_OPEN_EXEC,
	EF_IS_OPEN_CREATE,
	EF_BUFFER,
	EF_BUFLEN,
	EF_CATEGORY,
	EF_LATENCY,
	EF_ABSPATH,
	EF_PLUGINNAME,
};

static bool is_open_type(uint16_t t)
{
	return t == EVT_OPEN_X || t == EVT_OPENAT_X || t == EVT_OPENAT2_X || t == EVT_CREAT_X;
}

static const char *category(uint16_t t)
{
	switch (t) {
	case EVT_SOCKET_X:
	case EVT_CONNECT_X:
	case EVT_ACCEPT_X:
	case EVT_ACCEPT4_X:
	case EVT_BIND_X:
	case EVT_LISTEN_X:
	case EVT_SOCKETPAIR_X:
		return "net";
	case EVT_SENDTO_X:
	case EVT_SENDMSG_X:
		return "I/O write";
	case EVT_RECVFROM_X:
	case EVT_RECVMSG_X:
		return "I/O read";
	case EVT_EXECVE_X:
	case EVT_EXECVEAT_X:
	case EVT_CLONE_X:
	case EVT_CLONE3_X:
	case EVT_FORK_X:
	case EVT_VFORK_X:
	case EVT_PROCEXIT:
	case EVT_PRCTL_X:
	case EVT_SETSID_X:
	case EVT_SETPGID_X:
	case EVT_CHROOT_X:
	case EVT_CAPSET_X:
	case EVT_SETNS_X:
	case EVT_UNSHARE_X:
	case EVT_PTRACE_X:
		return "process";
	case EVT_KILL_X:
		return "signal";
	case EVT_SETUID_X:
	case EVT_SETGID_X:
	case EVT_SETRESUID_X:
	case EVT_SETRESGID_X:
	case EVT_SETREUID_X:
	case EVT_SETREGID_X:
		return "user";
	case EVT_INIT_MODULE_X:
	case EVT_FINIT_MODULE_X:
	case EVT_BPF_X:
	case EVT_MOUNT_X:
	case EVT_UMOUNT2_X:
		return "system";
	default:
		if (t >= EVT_GENERIC_BASE)
			return "other";
		return "file";
	}
}

/* The path an *at() event names, resolved against its directory descriptor or the cwd. */
static int abspath(struct fld_ctx *ctx, const struct sc_evt *e, struct value *out)
{
	const struct evt_rec *r = &e->rec;
	static const char *const pnames[] = {"name",	 "path",     "pathname",
					     "filename", "linkpath", "newpath"};
	char buf[EVT_MAX_PATH + 1];
	const char *dir = NULL;
	size_t dlen = 0;

	for (size_t k = 0; k < ARRAY_SIZE(pnames); k++) {
		int i = evt_param_index(r->info, pnames[k]);
		const char *s;
		size_t n;
		if (i < 0 || evt_get_str(r, (unsigned)i, &s, &n) <= 0)
			continue;
		int d = r->info->params[i].dirfd;
		int64_t dfd = EVT_AT_FDCWD;
		if (d >= 0)
			(void)evt_get_s64(r, (unsigned)d, &dfd);
		if (dfd != EVT_AT_FDCWD) {
			const struct st_fd *f = st_fd_find(sc_state_of(ctx), e->proc, dfd);
			if (f && f->name) {
				dir = f->name->s;
				dlen = f->name->len;
			}
		}
		if (!dir && e->proc && e->proc->cwd) {
			dir = e->proc->cwd->s;
			dlen = e->proc->cwd->len;
		}
		size_t len = st_path_resolve(dir, dlen, s, n, buf, sizeof(buf));
		return sc_val_copy(ctx, out, buf, len);
	}
	return 0;
}

static int fld_evt(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct sc_evt *e = sc_evt_of(ctx);
	const struct evt_rec *r = &e->rec;
	uint64_t flags = 0, mode = 0;

	switch ((enum evt_f)fi->def->data) {
	case EF_DIR:
		return sc_val_str(out, (r->info->flags & EVT_INFO_ENTER) ? ">" : "<", 1);
	case EF_CPU:
		return sc_val_u64(out, ctx->evt->cpu);
	case EF_RES: {
		if (!(e->flags & SC_EVT_HAS_RES))
			return 0;
		if (e->res >= 0)
			return sc_val_str(out, "SUCCESS", 7);
		const char *n = sc_errno_name(-e->res);
		if (n)
			return sc_val_cstr(out, n);
		char buf[32];
		int k = snprintf(buf, sizeof(buf), "%" PRId64, e->res);
		return sc_val_copy(ctx, out, buf, (size_t)k);
	}
	case EF_RAWRES:
		return (e->flags & SC_EVT_HAS_RES) ? sc_val_s64(out, e->res) : 0;
	case EF_FAILED:
		return (e->flags & SC_EVT_HAS_RES) ? sc_val_bool(out, e->res < 0) : 0;
	case EF_IS_OPEN_READ:
	case EF_IS_OPEN_WRITE:
	case EF_IS_OPEN_EXEC:
	case EF_IS_OPEN_CREATE:
		if (!is_open_type(r->type))
			return 0;
		if (r->type == EVT_CREAT_X) {
			if (!sc_get_u64(r, PN_CREAT_FLAGS, &flags))
				flags = EVT_O_CREAT | EVT_O_WRONLY | EVT_O_TRUNC;
		} else {
			(void)sc_get_u64(r, PN_FLAGS, &flags);
		}
		(void)sc_get_u64(r, PN_MODE, &mode);
		switch ((enum evt_f)fi->def->data) {
		case EF_IS_OPEN_READ:
			return sc_val_bool(out, evt_open_flags_read((uint32_t)flags));
		case EF_IS_OPEN_WRITE:
			return sc_val_bool(out, evt_open_flags_write((uint32_t)flags));
		case EF_IS_OPEN_CREATE:
			return sc_val_bool(out, (flags & (EVT_O_CREAT | EVT_O_F_CREATED)) != 0);
		default:
			return sc_val_bool(
				out, (flags & EVT_O_CREAT) &&
					     (mode & (EVT_S_IXUSR | EVT_S_IXGRP | EVT_S_IXOTH)));
		}
	case EF_BUFFER:
	case EF_BUFLEN: {
		const uint8_t *b;
		size_t n;
		if (!sc_get_buf(r, PN_DATA, &b, &n))
			return 0;
		if (fi->def->data == EF_BUFLEN)
			return sc_val_u64(out, n);
		*out = (struct value){
			.type = FT_BUFFER, .len = (uint32_t)n, .str = (const char *)b};
		return 1;
	}
	case EF_CATEGORY:
		return sc_val_cstr(out, category(r->type));
	case EF_LATENCY:
		return sc_val_time(out, FT_RELTIME, 0);
	case EF_ABSPATH:
		return abspath(ctx, e, out);
	case EF_PLUGINNAME:
		return 0;
	}
	return 0;
}

#define F(n, t, f, d)                                                          \
	{                                                                      \
		.name = n, .type = t, .desc = d, .extract = fld_evt, .data = f \
	}

static const struct fld_def defs[] = {
	FLD_GENERIC_SOURCE_DEF("syscall"),
	{.name = "evt.dir",
	 .type = FT_STRING,
	 .flags = FLD_DEPRECATED,
	 .extract = fld_evt,
	 .data = EF_DIR,
	 .desc = "Event direction: '>' for enter events, '<' for exit events (deprecated: only exit events reach the "
		 "rules)."},
	F("evt.cpu", FT_U64, EF_CPU, "Number of the CPU where this event happened."),
	{.name = "evt.args",
	 .type = FT_STRING,
	 .extract = fld_args,
	 .desc = "All the event arguments, aggregated into a single string (name=value ...)."},
	{.name = "evt.info",
	 .type = FT_STRING,
	 .extract = fld_args,
	 .desc = "The event arguments as a string (same as evt.args for syscall events)."},
	{.name = "evt.arg",
	 .type = FT_STRING,
	 .flags = FLD_ARG_REQUIRED | FLD_ARG_DOTTED | FLD_NO_RHS,
	 .extract = fld_arg,
	 .prepare = arg_prepare,
	 .release = arg_release,
	 .data = 0,
	 .desc = "One of the event arguments, by name (evt.arg.fd) or by position (evt.arg[0]), rendered as text: "
		 "flags by name (O_RDONLY|O_CLOEXEC), addresses as ip:port, uids as user names."},
	{.name = "evt.rawarg",
	 .type = FT_S64,
	 .flags = FLD_ARG_REQUIRED | FLD_ARG_DOTTED | FLD_NO_RHS,
	 .extract = fld_rawarg,
	 .prepare = arg_prepare,
	 .release = arg_release,
	 .data = 1,
	 .desc = "One of the event arguments by name (evt.rawarg.res), as a number, not rendered."},
#define RAWSTR(nm)                                                                               \
	{                                                                                        \
		.name = "evt.rawarg." nm, .type = FT_STRING, .flags = FLD_HIDDEN | FLD_NO_RHS,   \
		.extract = fld_rawarg, .prepare = arg_prepare, .release = arg_release, .data = 1 \
	}
	RAWSTR("name"),
	RAWSTR("path"),
	RAWSTR("pathname"),
	RAWSTR("filename"),
	RAWSTR("target"),
	RAWSTR("linkpath"),
	RAWSTR("oldpath"),
	RAWSTR("newpath"),
	RAWSTR("exe"),
	RAWSTR("comm"),
	RAWSTR("cwd"),
	RAWSTR("dir"),
	RAWSTR("dev"),
	RAWSTR("uargs"),
	RAWSTR("trusted_exepath"),
	F("evt.res", FT_STRING, EF_RES,
	  "Event return value as a string: 'SUCCESS' when the call succeeded, else the error code (e.g. 'ENOENT')."),
	F("evt.rawres", FT_S64, EF_RAWRES,
	  "Event return value as a number (e.g. -2). Useful for range comparisons."),
	F("evt.failed", FT_BOOL, EF_FAILED, "'true' for events that returned an error status."),
	F("evt.is_open_read", FT_BOOL, EF_IS_OPEN_READ,
	  "'true' for open/openat/openat2/creat events where the path was opened for reading."),
	F("evt.is_open_write", FT_BOOL, EF_IS_OPEN_WRITE,
	  "'true' for open/openat/openat2/creat events where the path was opened for writing."),
	F("evt.is_open_exec", FT_BOOL, EF_IS_OPEN_EXEC,
	  "'true' for open/openat/openat2/creat events where a file is created with execute permissions."),
	F("evt.is_open_create", FT_BOOL, EF_IS_OPEN_CREATE,
	  "'true' for open/openat/openat2/creat events where a file is created (O_CREAT)."),
	F("evt.buffer", FT_BUFFER, EF_BUFFER,
	  "The binary data buffer for events that have one, like send/recv (only when payload capture is on)."),
	F("evt.buflen", FT_U64, EF_BUFLEN,
	  "The length of the binary data buffer for events that have one."),
	F("evt.category", FT_STRING, EF_CATEGORY,
	  "The event category: file, net, process, user, system, signal, I/O read, I/O write, other."),
	F("evt.latency", FT_RELTIME, EF_LATENCY,
	  "Delta between an exit event and its enter event (always 0: exit "
	  "events only)."),
	F("evt.abspath", FT_STRING, EF_ABSPATH,
	  "Absolute path of the path argument of *at() and path events, resolved against the dirfd or the cwd."),
};

const struct fld_table sc_fields_evt = {
	.class_name = "evt",
	.desc = "Event fields applicable to syscall events.",
	.defs = defs,
	.n = ARRAY_SIZE(defs),
};
