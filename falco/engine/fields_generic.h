/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Generic evt.* fields every event source shares (evt.time, evt.rawtime, evt.num, evt.hostname, ...). They read
 * only struct evt, so any source can list fld_table_generic among its tables. evt.source needs the source's
 * name, which struct evt does not carry: each source adds FLD_GENERIC_SOURCE_DEF("name") to its own table.
 */
#pragma once

#include "fields.h"

extern const struct fld_table fld_table_generic;

/* Extractor returning the constant string in def->data (used by FLD_GENERIC_SOURCE_DEF). */
int fld_extract_const_string(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out);

#define FLD_GENERIC_SOURCE_DEF(srcname)                                                           \
	{                                                                                         \
		.name = "evt.source", .type = FT_STRING, .desc = "The name of the event source.", \
		.extract = fld_extract_const_string, .data = (uintptr_t)(srcname)                 \
	}

/*
 * Time renderings used by evt.time & co, exposed for the alert prefix and tests. Each writes a NUL-terminated
 * string into buf (at least 64 bytes) and returns its length.
 *   local:  "HH:MM:SS.nnnnnnnnn" (with_date: "YYYY-MM-DD HH:MM:SS.nnnnnnnnn"), with_ns false drops ".nnnnnnnnn"
 *   iso:    "YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000" (UTC)
 */
size_t fld_time_local(uint64_t ts, bool with_date, bool with_ns, char *buf, size_t size);
size_t fld_time_iso8601(uint64_t ts, char *buf, size_t size);
