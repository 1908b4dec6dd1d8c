/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed values extracted from events. Strings are borrowed (from the event, the state tables or the per-event
 * arena), never copied on the hot path. A value is valid until the engine moves on to the next event.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Field types. Upstream's many integer parameter types collapse into U64/S64 for comparison; the difference
 * that matters to rules (how a literal on the right-hand side is parsed and which operators apply) is kept.
 */
enum fld_type {
	FT_NONE = 0,
	FT_STRING, /* CHARBUF: text, NUL-terminated at str[len] */
	FT_PATH,   /* FSPATH: text like STRING (pmatch and glob are the usual operators) */
	FT_BUFFER, /* BYTEBUF: raw bytes, not terminated; bcontains/bstartswith take hex on the RHS */
	FT_U64,	   /* unsigned integers: uid, port, flags, counters */
	FT_S64,	   /* signed integers: fd, pid, errno results */
	FT_BOOL,
	FT_DOUBLE,
	FT_IPADDR, /* an address; RHS literal is an address */
	FT_IPNET, /* extracts an address; RHS literal is a network "a.b.c.d/n": `=` means "inside" */
	FT_RELTIME, /* u64 nanoseconds (durations) */
	FT_ABSTIME, /* u64 nanoseconds since the epoch */
	_FT_MAX,
};

struct ipaddr {
	uint8_t family;	   /* 4 or 6 */
	uint8_t bytes[16]; /* network order; IPv4 uses the first 4 bytes */
};

struct value {
	uint8_t type; /* enum fld_type (of the elements, for lists) */
	bool is_list;
	uint32_t len; /* STRING/PATH/BUFFER: bytes; list: number of items */
	union {
		const char *str; /* STRING/PATH (NUL-terminated at str[len]) and BUFFER */
		uint64_t u64;	 /* U64, RELTIME, ABSTIME */
		int64_t s64;
		bool b;
		double d;
		struct ipaddr ip;	   /* IPADDR, IPNET */
		const struct value *items; /* list: len items of `type` */
	};
};

/* "string", "uint64", ... as printed by --list (upstream's type names where they exist). */
const char *fld_type_name(enum fld_type t);
