/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proc.* and thread.* fields: the event's process as the state tables know it at event time (for an exec, the
 * new image), its parent and ancestors (proc.aname[N] walks parent links, bounded by limits.max_ancestors; without
 * an index proc.aname yields every ancestor and a comparison matches when any of them does), its environment
 * (loaded on demand), and its capabilities rendered like upstream ("CAP_CHOWN CAP_DAC_OVERRIDE ...").
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/caps.h"
#include "common/macro.h"
#include "sc_internal.h"

/* ---- shared helpers (declared in sc_internal.h) ---- */

char *sc_join(struct arena *a, const char *prefix, const char *buf, size_t len, char sep,
	      size_t *ret_len)
{
	size_t pl = prefix ? strlen(prefix) : 0;
	char *out;

	/* a trailing NUL ends the last element, it is not an empty one */
	while (len && buf[len - 1] == '\0')
		len--;
	out = arena_alloc(a, pl + 1 + len + 1);
	if (!out)
		return NULL;
	size_t n = 0;
	if (pl) {
		memcpy(out, prefix, pl);
		n = pl;
		if (len)
			out[n++] = sep;
	}
	for (size_t i = 0; i < len; i++)
		out[n++] = buf[i] == '\0' ? sep : buf[i];
	out[n] = '\0';
	*ret_len = n;
	return out;
}

struct st_proc *sc_ancestor(const struct st_state *st, struct st_proc *p, uint32_t n)
{
	for (uint32_t i = 0; p && i < n; i++)
		p = st_proc_parent(st, p);
	return p;
}

int sc_cmdline(struct fld_ctx *ctx, const struct st_proc *p, struct value *out)
{
	size_t n;
	char *s = sc_join(ctx->arena, p->comm, p->args ? p->args->s : "",
			  p->args ? p->args->len : 0, ' ', &n);
	return s ? sc_val_str(out, s, n) : -ENOMEM;
}

/* ---- capabilities ---- */

static int caps_value(struct fld_ctx *ctx, uint64_t caps, struct value *out)
{
	char buf[1024];
	size_t n = 0;

	for (int i = 0; i < CAP_COUNT; i++) {
		if (!(caps & (1ull << i)))
			continue;
		size_t l = strlen(cap_name(i));
		if (n + l + 2 > sizeof(buf))
			break;
		if (n)
			buf[n++] = ' ';
		memcpy(buf + n, cap_name(i), l);
		n += l;
	}
	return sc_val_copy(ctx, out, buf, n);
}

/* ---- proc.* ---- */

enum proc_f {
	PF_PID,
	PF_VPID,
	PF_PPID,
	PF_PVPID,
	PF_SID,
	PF_VPGID,
	PF_PGID,
	PF_NAME,
	PF_EXE,
	PF_EXEPATH,
	PF_ARGS,
	PF_CMDLINE,
	PF_EXELINE,
	PF_CMDNARGS,
	PF_CMDLENARGS,
	PF_CWD,
	PF_TTY,
	PF_DURATION,
	PF_SNAME,
	PF_ENV,
	PF_PNAME,
	PF_PEXE,
	PF_PEXEPATH,
	PF_PCMDLINE,
	PF_ANAME,
	PF_AEXE,
	PF_AEXEPATH,
	PF_APID,
	PF_ACMDLINE,
	PF_EXE_INO,
	PF_EXE_CTIME,
	PF_EXE_MTIME,
	PF_EXE_CTIME_DUR_START,
	PF_EXE_CTIME_DUR_PIDNS,
	PF_EXE_WRITABLE,
	PF_EXE_UPPER,
	PF_EXE_LOWER,
	PF_EXE_MEMFD,
	PF_SID_LEADER,
	PF_VPGID_LEADER,
	PF_PIDNS_INIT,
	PF_FDOPENCOUNT,
	PF_START_TS,
	PF_NTHREADS,
};

/* One attribute of a process (the parts proc.x, proc.px and proc.ax[N] share). */
static int proc_attr(struct fld_ctx *ctx, const struct st_proc *p, enum proc_f f, struct value *out)
{
	switch (f) {
	case PF_NAME:
	case PF_PNAME:
	case PF_ANAME:
		return p->comm[0] ? sc_val_str(out, p->comm, strnlen(p->comm, sizeof(p->comm))) : 0;
	case PF_EXE:
	case PF_PEXE:
	case PF_AEXE:
		return sc_val_sstr(out, p->exe);
	case PF_EXEPATH:
	case PF_PEXEPATH:
	case PF_AEXEPATH:
		return sc_val_sstr(out, p->exepath);
	case PF_CMDLINE:
	case PF_PCMDLINE:
	case PF_ACMDLINE:
		return sc_cmdline(ctx, p, out);
	case PF_PID:
	case PF_APID:
		return sc_val_s64(out, p->pid);
	default:
		return 0;
	}
}

static int ancestors_list(struct fld_ctx *ctx, struct st_proc *p, enum proc_f f, struct value *out)
{
	const struct st_state *st = sc_state_of(ctx);
	uint32_t max = st_limits(st)->max_ancestors, n = 0;
	struct value *items = arena_alloc(ctx->arena, max * sizeof(*items));
	enum fld_type t = f == PF_APID ? FT_S64 : FT_STRING;

	if (!items)
		return -ENOMEM;
	for (struct st_proc *a = st_proc_parent(st, p); a && n < max; a = st_proc_parent(st, a)) {
		if (a == p)
			break; /* a loop in the parent links */
		if (proc_attr(ctx, a, f, &items[n]) > 0)
			n++;
	}
	if (n == 0)
		return 0;
	*out = (struct value){.type = (uint8_t)t, .is_list = true, .len = n, .items = items};
	return 1;
}

static const struct st_proc *session_leader(const struct st_state *st, struct st_proc *p)
{
	const struct st_proc *best = p;
	uint32_t max = st_limits(st)->max_ancestors;

	for (uint32_t i = 0; p && i < max; i++) {
		if (p->sid != best->sid)
			break;
		best = p;
		if (p->pid == p->sid || p->vpid == p->sid)
			break;
		p = st_proc_parent(st, p);
	}
	return best;
}

static int env_value(struct fld_ctx *ctx, const struct fld_inst *fi, const struct st_str *env,
		     struct value *out)
{
	if (!env)
		return 0;
	if (!fi->arg) {
		size_t n;
		char *s = sc_join(ctx->arena, NULL, env->s, env->len, ' ', &n);
		return s ? sc_val_str(out, s, n) : -ENOMEM;
	}
	for (size_t i = 0; i < env->len;) {
		const char *e = env->s + i;
		size_t l = strnlen(e, env->len - i);
		if (l > fi->arg_len && e[fi->arg_len] == '=' &&
		    memcmp(e, fi->arg, fi->arg_len) == 0)
			return sc_val_str(out, e + fi->arg_len + 1, l - fi->arg_len - 1);
		i += l + 1;
	}
	return 0;
}

static int fld_proc(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct sc_evt *e = sc_evt_of(ctx);
	struct st_state *st = sc_state_of(ctx);
	struct st_proc *p = e->proc;
	enum proc_f f = (enum proc_f)fi->def->data;

	if (!p)
		return 0;
	switch (f) {
	case PF_PID:
		return sc_val_s64(out, p->pid);
	case PF_VPID:
		return p->vpid ? sc_val_s64(out, p->vpid) : 0;
	case PF_PPID:
		return p->ppid ? sc_val_s64(out, p->ppid) : 0;
	case PF_PVPID: {
		struct st_proc *par = st_proc_parent(st, p);
		return par && par->vpid ? sc_val_s64(out, par->vpid) : 0;
	}
	case PF_SID:
		return sc_val_s64(out, p->sid);
	case PF_VPGID:
		return sc_val_s64(out, p->vpgid);
	case PF_PGID:
		return sc_val_s64(out, p->pgid);
	case PF_NAME:
	case PF_EXE:
	case PF_EXEPATH:
	case PF_CMDLINE:
		return proc_attr(ctx, p, f, out);
	case PF_ARGS: {
		size_t n;
		if (!p->args)
			return sc_val_str(out, "", 0);
		char *s = sc_join(ctx->arena, NULL, p->args->s, p->args->len, ' ', &n);
		return s ? sc_val_str(out, s, n) : -ENOMEM;
	}
	case PF_EXELINE: {
		size_t n;
		if (!p->exe)
			return 0;
		char *s = sc_join(ctx->arena, p->exe->s, p->args ? p->args->s : "",
				  p->args ? p->args->len : 0, ' ', &n);
		return s ? sc_val_str(out, s, n) : -ENOMEM;
	}
	case PF_CMDNARGS:
	case PF_CMDLENARGS: {
		uint64_t cnt = 0, len = 0;
		for (size_t i = 0; p->args && i < p->args->len;) {
			size_t l = strnlen(p->args->s + i, p->args->len - i);
			cnt++;
			len += l;
			i += l + 1;
		}
		return sc_val_u64(out, f == PF_CMDNARGS ? cnt : len);
	}
	case PF_CWD:
		return sc_val_sstr(out, p->cwd);
	case PF_TTY:
		return sc_val_u64(out, p->tty);
	case PF_DURATION:
		if (!p->start_ts || ctx->evt->ts < p->start_ts)
			return 0;
		return sc_val_time(out, FT_RELTIME, ctx->evt->ts - p->start_ts);
	case PF_START_TS:
		return p->start_ts ? sc_val_time(out, FT_ABSTIME, p->start_ts) : 0;
	case PF_SNAME: {
		const struct st_proc *l = session_leader(st, p);
		return l && l->comm[0] ? sc_val_str(out, l->comm, strnlen(l->comm, sizeof(l->comm)))
				       : 0;
	}
	case PF_ENV:
		return env_value(ctx, fi, st_proc_env(st, p), out);
	case PF_PNAME:
	case PF_PEXE:
	case PF_PEXEPATH:
	case PF_PCMDLINE: {
		struct st_proc *par = st_proc_parent(st, p);
		return par ? proc_attr(ctx, par, f, out) : 0;
	}
	case PF_ANAME:
	case PF_AEXE:
	case PF_AEXEPATH:
	case PF_APID:
	case PF_ACMDLINE: {
		if (!fi->arg)
			return ancestors_list(ctx, p, f, out);
		if (fi->arg_num < 0 || fi->arg_num > (int64_t)st_limits(st)->max_ancestors)
			return 0;
		struct st_proc *a = sc_ancestor(st, p, (uint32_t)fi->arg_num);
		return a ? proc_attr(ctx, a, f, out) : 0;
	}
	case PF_EXE_INO:
		return p->exe_ino ? sc_val_s64(out, (int64_t)p->exe_ino) : 0;
	case PF_EXE_CTIME:
		return p->exe_ctime ? sc_val_time(out, FT_ABSTIME, p->exe_ctime) : 0;
	case PF_EXE_MTIME:
		return p->exe_mtime ? sc_val_time(out, FT_ABSTIME, p->exe_mtime) : 0;
	case PF_EXE_CTIME_DUR_START:
		if (!p->exe_ctime || !p->start_ts || p->start_ts < p->exe_ctime)
			return 0;
		return sc_val_time(out, FT_RELTIME, p->start_ts - p->exe_ctime);
	case PF_EXE_CTIME_DUR_PIDNS:
		if (!p->exe_ctime || !p->pidns_init_start_ts ||
		    p->pidns_init_start_ts > p->exe_ctime)
			return 0;
		return sc_val_time(out, FT_RELTIME, p->exe_ctime - p->pidns_init_start_ts);
	case PF_EXE_WRITABLE:
		return sc_val_bool(out, p->flags & ST_P_EXE_WRITABLE);
	case PF_EXE_UPPER:
		return sc_val_bool(out, p->flags & ST_P_EXE_UPPER);
	case PF_EXE_LOWER:
		return sc_val_bool(out, p->flags & ST_P_EXE_LOWER);
	case PF_EXE_MEMFD:
		return sc_val_bool(out, p->flags & ST_P_EXE_MEMFD);
	case PF_SID_LEADER:
		return sc_val_bool(out, p->sid && (p->sid == p->pid || p->sid == p->vpid));
	case PF_VPGID_LEADER:
		return p->vpid && p->vpgid ? sc_val_bool(out, p->vpgid == p->vpid) : 0;
	case PF_PIDNS_INIT:
		return p->pidns_init_start_ts ? sc_val_time(out, FT_ABSTIME, p->pidns_init_start_ts)
					      : 0;
	case PF_FDOPENCOUNT:
		return sc_val_u64(out, p->nfds);
	case PF_NTHREADS:
		return sc_val_u64(out, p->nthreads);
	}
	return 0;
}

#define F(n, t, f, d)                                                           \
	{                                                                       \
		.name = n, .type = t, .desc = d, .extract = fld_proc, .data = f \
	}
#define FA(n, t, fl, f, d)                                                                   \
	{                                                                                    \
		.name = n, .type = t, .flags = fl, .desc = d, .extract = fld_proc, .data = f \
	}
#define ANC (FLD_ARG_ALLOWED | FLD_ARG_INDEX | FLD_NO_RHS)

static const struct fld_def proc_defs[] = {
	F("proc.pid", FT_S64, PF_PID, "The id of the process generating the event."),
	F("proc.exe", FT_STRING, PF_EXE,
	  "The first command line argument (argv[0]): usually the executable name or a custom one."),
	F("proc.name", FT_STRING, PF_NAME,
	  "The name (excluding the path) of the executable generating the event."),
	F("proc.args", FT_STRING, PF_ARGS,
	  "The arguments passed on the command line, space separated."),
	FA("proc.env", FT_STRING, FLD_ARG_ALLOWED, PF_ENV,
	   "The environment variables of the process, space separated; proc.env[NAME] is one variable's value."),
	F("proc.cmdline", FT_STRING, PF_CMDLINE,
	  "Full process command line: proc.name + proc.args."),
	F("proc.exeline", FT_STRING, PF_EXELINE,
	  "Full process command line with exe as first argument: proc.exe + "
	  "proc.args."),
	F("proc.cmdnargs", FT_U64, PF_CMDNARGS,
	  "The number of command line arguments (proc.args)."),
	F("proc.cmdlenargs", FT_U64, PF_CMDLENARGS,
	  "The total length of the command line arguments, spaces excluded."),
	F("proc.exepath", FT_STRING, PF_EXEPATH, "The full executable path of the process."),
	F("proc.cwd", FT_STRING, PF_CWD,
	  "The current working directory of the event (ends with '/')."),
	F("proc.nthreads", FT_U64, PF_NTHREADS,
	  "The number of threads the process has, as far as we know."),
	F("proc.ppid", FT_S64, PF_PPID,
	  "The pid of the parent of the process generating the event."),
	F("proc.pname", FT_STRING, PF_PNAME,
	  "The proc.name of the parent of the process generating the event."),
	F("proc.pcmdline", FT_STRING, PF_PCMDLINE,
	  "The proc.cmdline of the parent of the process."),
	F("proc.pexe", FT_STRING, PF_PEXE, "The proc.exe of the parent of the process."),
	F("proc.pexepath", FT_STRING, PF_PEXEPATH,
	  "The proc.exepath of the parent of the process."),
	FA("proc.apid", FT_S64, ANC, PF_APID,
	   "The pid of an ancestor: proc.apid[1] is the parent, [2] the grandparent; without an index, any ancestor."),
	FA("proc.aname", FT_STRING, ANC, PF_ANAME,
	   "The proc.name of an ancestor: proc.aname[1] is the parent, [2] the grandparent; without an index, any "
	   "ancestor matches."),
	FA("proc.aexe", FT_STRING, ANC, PF_AEXE,
	   "The proc.exe of an ancestor (index as proc.aname)."),
	FA("proc.aexepath", FT_STRING, ANC, PF_AEXEPATH,
	   "The proc.exepath of an ancestor (index as proc.aname)."),
	FA("proc.acmdline", FT_STRING, ANC, PF_ACMDLINE,
	   "The proc.cmdline of an ancestor (index as proc.aname)."),
	F("proc.duration", FT_RELTIME, PF_DURATION,
	  "Number of nanoseconds since the process started."),
	F("proc.start_ts", FT_ABSTIME, PF_START_TS,
	  "The process start time, nanoseconds since the epoch."),
	F("proc.fdopencount", FT_U64, PF_FDOPENCOUNT,
	  "Number of open file descriptors of the process."),
	F("proc.vpid", FT_S64, PF_VPID,
	  "The id of the process as seen from its own pid namespace."),
	F("proc.pvpid", FT_S64, PF_PVPID,
	  "The id of the parent process as seen from its own pid namespace."),
	F("proc.sid", FT_S64, PF_SID, "The session id of the process."),
	F("proc.sname", FT_STRING, PF_SNAME,
	  "The name of the process's session leader: the process with pid proc.sid, or the eldest ancestor in the "
	  "same session."),
	F("proc.tty", FT_U64, PF_TTY,
	  "The controlling terminal of the process; 0 for processes without one."),
	F("proc.vpgid", FT_S64, PF_VPGID,
	  "The process group id of the process, as seen from its pid namespace."),
	F("proc.pgid", FT_S64, PF_PGID, "The process group id of the process."),
	F("proc.is_sid_leader", FT_BOOL, PF_SID_LEADER,
	  "'true' if the process is its session's leader."),
	F("proc.is_vpgid_leader", FT_BOOL, PF_VPGID_LEADER,
	  "'true' if the process is its process group's leader."),
	F("proc.exe_ino", FT_S64, PF_EXE_INO, "The inode number of the executable file."),
	F("proc.exe_ino.ctime", FT_ABSTIME, PF_EXE_CTIME,
	  "Last status change time of the executable file (ns)."),
	F("proc.exe_ino.mtime", FT_ABSTIME, PF_EXE_MTIME,
	  "Last modification time of the executable file (ns)."),
	F("proc.exe_ino.ctime_duration_proc_start", FT_RELTIME, PF_EXE_CTIME_DUR_START,
	  "Nanoseconds between the last status change of the executable and the start of the process."),
	F("proc.exe_ino.ctime_duration_pidns_start", FT_RELTIME, PF_EXE_CTIME_DUR_PIDNS,
	  "Nanoseconds between the start of the pid namespace and the last status change of the executable."),
	F("proc.is_exe_writable", FT_BOOL, PF_EXE_WRITABLE,
	  "'true' if the executable is writable by the process."),
	F("proc.is_exe_upper_layer", FT_BOOL, PF_EXE_UPPER,
	  "'true' if the executable lives in the upper layer of an overlayfs (not part of the container image)."),
	F("proc.is_exe_lower_layer", FT_BOOL, PF_EXE_LOWER,
	  "'true' if the executable lives in an overlayfs lower "
	  "layer."),
	F("proc.is_exe_from_memfd", FT_BOOL, PF_EXE_MEMFD,
	  "'true' if the executable is a memfd (fileless execution)."),
	F("proc.pidns_init_start_ts", FT_ABSTIME, PF_PIDNS_INIT,
	  "Start time of the process's pid namespace (ns)."),
};

const struct fld_table sc_fields_proc = {
	.class_name = "process",
	.desc = "Additional information about the process and thread executing the syscall event.",
	.defs = proc_defs,
	.n = ARRAY_SIZE(proc_defs),
};

/* ---- thread.* ---- */

enum thread_f { TF_TID, TF_VTID, TF_ISMAIN, TF_CAP_PERM, TF_CAP_EFF, TF_CAP_INH };

static int fld_thread(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct sc_evt *e = sc_evt_of(ctx);

	switch ((enum thread_f)fi->def->data) {
	case TF_TID:
		return sc_val_s64(out, e->rec.tid);
	case TF_VTID:
		return e->thr && e->thr->vtid ? sc_val_s64(out, e->thr->vtid) : 0;
	case TF_ISMAIN:
		return sc_val_bool(out, e->rec.tid == e->rec.pid);
	case TF_CAP_PERM:
		return e->proc ? caps_value(ctx, e->proc->cap_perm, out) : 0;
	case TF_CAP_EFF:
		return e->proc ? caps_value(ctx, e->proc->cap_eff, out) : 0;
	case TF_CAP_INH:
		return e->proc ? caps_value(ctx, e->proc->cap_inh, out) : 0;
	}
	return 0;
}

#define T(n, t, f, d)                                                             \
	{                                                                         \
		.name = n, .type = t, .desc = d, .extract = fld_thread, .data = f \
	}

static const struct fld_def thread_defs[] = {
	T("thread.tid", FT_S64, TF_TID, "The id of the thread generating the event."),
	T("thread.vtid", FT_S64, TF_VTID, "The id of the thread as seen from its pid namespace."),
	T("thread.ismain", FT_BOOL, TF_ISMAIN,
	  "'true' if the thread is the main one of its process."),
	T("thread.cap_permitted", FT_STRING, TF_CAP_PERM,
	  "The permitted capabilities set (CAP_CHOWN CAP_KILL ...)."),
	T("thread.cap_effective", FT_STRING, TF_CAP_EFF, "The effective capabilities set."),
	T("thread.cap_inheritable", FT_STRING, TF_CAP_INH, "The inheritable capabilities set."),
};

const struct fld_table sc_fields_thread = {
	.class_name = "thread",
	.desc = "Thread fields of syscall events.",
	.defs = thread_defs,
	.n = ARRAY_SIZE(thread_defs),
};
