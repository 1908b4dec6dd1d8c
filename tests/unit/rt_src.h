/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Two small fake event sources for the rules-engine tests (test_rules_*.c, test_fmt.c), defined here as statics
 * so each test binary has its own copy: "syscall" (128 event types, so LOAD_NO_EVTTYPE's >100 rule applies)
 * and "k8s_audit" (one event type). Fields read struct rt_evt; a NULL pointer means "missing".
 */
#pragma once

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "common/macro.h"
#include "falco/engine/fields.h"

struct rt_evt {
	const char *proc_name;
	const char *fd_name;
	const char *user;   /* ka.user.name */
	const char *verb;   /* ka.verb */
	const char *target; /* ka.target.name */
	bool has_pid;
	uint64_t pid;
	const char *const *args; /* proc.args */
	uint32_t nargs;
};

enum rt_field {
	RT_EVTTYPE,
	RT_PROC_NAME,
	RT_PROC_PID,
	RT_FD_NAME,
	RT_ANAME,
	RT_ARGS,
	RT_EVT_ARG,
	RT_OLD,
	RT_DIR,
	RT_USER,
	RT_VERB,
	RT_TARGET,
	RT_JEVT,
};

/* open 0,1  openat 2,3  execve 4,5  connect 6,7  close 8; "never" is valid but has no code */
static const char *const rt_evtnames[] = {"open",   "open",    "openat",  "openat", "execve",
					  "execve", "connect", "connect", "close"};

_unused_ static const char *rt_evttype_name(uint16_t code)
{
	return code < ARRAY_SIZE(rt_evtnames) ? rt_evtnames[code] : "unknown";
}

_unused_ static int rt_evttype_codes(const char *name, uint16_t *codes, size_t max)
{
	int n = 0;
	for (uint16_t c = 0; c < ARRAY_SIZE(rt_evtnames); c++)
		if (strcmp(rt_evtnames[c], name) == 0 && (size_t)n < max)
			codes[n++] = c;
	if (n || strcmp(name, "never") == 0)
		return n;
	return -ENOENT;
}

static int rt_str(struct value *out, enum fld_type t, const char *s)
{
	if (!s)
		return 0;
	*out = (struct value){.type = (uint8_t)t, .len = (uint32_t)strlen(s), .str = s};
	return 1;
}

_unused_ static int rt_extract(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct rt_evt *e = ctx->evt->data;

	switch ((enum rt_field)fi->def->data) {
	case RT_EVTTYPE:
		return rt_str(out, FT_STRING, rt_evttype_name(ctx->evt->type));
	case RT_PROC_NAME:
	case RT_ANAME:
		return rt_str(out, FT_STRING, e->proc_name);
	case RT_PROC_PID:
		if (!e->has_pid)
			return 0;
		*out = (struct value){.type = FT_U64, .u64 = e->pid};
		return 1;
	case RT_FD_NAME:
		return rt_str(out, FT_PATH, e->fd_name);
	case RT_ARGS: {
		if (!e->args)
			return 0;
		struct value *items =
			arena_alloc(ctx->arena, (e->nargs ? e->nargs : 1) * sizeof(*items));
		if (!items)
			return -ENOMEM;
		for (uint32_t i = 0; i < e->nargs; i++)
			rt_str(&items[i], FT_STRING, e->args[i]);
		*out = (struct value){
			.type = FT_STRING, .is_list = true, .len = e->nargs, .items = items};
		return 1;
	}
	case RT_EVT_ARG:
		return fi->arg ? rt_str(out, FT_STRING, fi->arg) : 0;
	case RT_OLD:
	case RT_DIR:
		return rt_str(out, FT_STRING, "<");
	case RT_USER:
		return rt_str(out, FT_STRING, e->user);
	case RT_VERB:
		return rt_str(out, FT_STRING, e->verb);
	case RT_TARGET:
		return rt_str(out, FT_STRING, e->target);
	case RT_JEVT:
		return rt_str(out, FT_STRING, fi->arg);
	}
	return 0;
}

#define RT_F(n, t, fl, d)                                                                     \
	{                                                                                     \
		.name = (n), .type = (t), .flags = (fl), .desc = "rt", .extract = rt_extract, \
		.data = (d)                                                                   \
	}

static const struct fld_def rt_sys_defs[] = {
	RT_F("evt.type", FT_STRING, FLD_EVTTYPE, RT_EVTTYPE),
	RT_F("proc.name", FT_STRING, 0, RT_PROC_NAME),
	RT_F("proc.pid", FT_U64, 0, RT_PROC_PID),
	RT_F("proc.aname", FT_STRING, FLD_ARG_ALLOWED, RT_ANAME),
	RT_F("proc.args", FT_STRING, FLD_LIST, RT_ARGS),
	RT_F("fd.name", FT_PATH, 0, RT_FD_NAME),
	RT_F("evt.arg", FT_STRING, FLD_ARG_ALLOWED | FLD_ARG_DOTTED, RT_EVT_ARG),
	RT_F("old.field", FT_STRING, FLD_DEPRECATED, RT_OLD),
	RT_F("evt.dir", FT_STRING, 0, RT_DIR),
	RT_F("ka.user.name", FT_STRING, 0, RT_USER),
};

static const struct fld_def rt_k8s_defs[] = {
	RT_F("ka.verb", FT_STRING, 0, RT_VERB),
	RT_F("ka.user.name", FT_STRING, 0, RT_USER),
	RT_F("ka.target.name", FT_STRING, 0, RT_TARGET),
	RT_F("jevt.value", FT_STRING, FLD_ARG_REQUIRED, RT_JEVT),
};

static const struct fld_table rt_sys_table = {
	.class_name = "rt", .desc = "rt", .defs = rt_sys_defs, .n = ARRAY_SIZE(rt_sys_defs)};
static const struct fld_table rt_k8s_table = {
	.class_name = "rtk", .desc = "rtk", .defs = rt_k8s_defs, .n = ARRAY_SIZE(rt_k8s_defs)};
static const struct fld_table *const rt_sys_tables[] = {&rt_sys_table, NULL};
static const struct fld_table *const rt_k8s_tables[] = {&rt_k8s_table, NULL};

static const struct src_def rt_sys = {
	.name = "syscall",
	.tables = rt_sys_tables,
	.nevttypes = 128,
	.evttype_codes = rt_evttype_codes,
	.evttype_name = rt_evttype_name,
};

static const struct src_def rt_k8s = {
	.name = "k8s_audit",
	.tables = rt_k8s_tables,
	.nevttypes = 1,
};

_unused_ static const struct src_def *const rt_sources[] = {&rt_sys, &rt_k8s};
