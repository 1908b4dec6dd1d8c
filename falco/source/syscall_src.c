/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscall event source (src_syscall): its event-type naming, wired to syscall_table, and its field tables.
 * Fields live in one table per class; add a table to `tables` below to extend the source.
 */
#include <errno.h>
#include <string.h>

#include "falco/engine/fields.h"
#include "falco/engine/fields_generic.h"
#include "sc_source.h"
#include "syscall_table.h"

static int src_evttype_codes(const char *name, uint16_t *codes, size_t max)
{
	return evt_type_codes(name, codes, max);
}

static const char *src_evttype_name(uint16_t code)
{
	const char *n = evt_type_name(code);
	return n ? n : "unknown";
}

static int fld_evt_type(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const char *n = evt_type_name(ctx->evt->type);
	if (!n)
		return 0;
	out->type = FT_STRING;
	out->is_list = false;
	out->str = n;
	out->len = (uint32_t)strlen(n);
	return 1;
}

static const struct fld_def evttype_defs[] = {
	{.name = "evt.type",
	 .type = FT_STRING,
	 .flags = FLD_EVTTYPE | FLD_NO_TRANSFORM,
	 .desc = "The name of the event (e.g. 'open').",
	 .extract = fld_evt_type},
	{.name = "syscall.type",
	 .type = FT_STRING,
	 .flags = FLD_EVTTYPE | FLD_NO_TRANSFORM,
	 .desc = "For system call events, the name of the system call (e.g. 'open').",
	 .extract = fld_evt_type},
};

static const struct fld_table syscall_evttype_table = {
	.class_name = "evt",
	.desc = "Event type of system call events.",
	.defs = evttype_defs,
	.n = sizeof(evttype_defs) / sizeof(evttype_defs[0]),
};

/* Searched in order; the state engineer's tables (evt.*, proc.*, fd.*, user.*, container.*) go here. */
static const struct fld_table *const syscall_tables[] = {
	&syscall_evttype_table,
	&sc_fields_evt,
	&fld_table_generic,
	&sc_fields_proc,
	&sc_fields_thread,
	&sc_fields_fd,
	&sc_fields_user,
	&sc_fields_group,
	&sc_fields_container,
	&sc_fields_k8s,
	NULL,
};

const struct src_def src_syscall = {
	.name = "syscall",
	.tables = syscall_tables,
	.nevttypes = EVT_TYPE_MAX,
	.evttype_codes = src_evttype_codes,
	.evttype_name = src_evttype_name,
};
