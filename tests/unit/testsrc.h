/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A fake event source for engine unit tests: one field of every value type, list fields, fields that are
 * always missing or fail, fields with each argument rule, and a small event-type table. Linked into every unit
 * test binary, hence the testsrc_ prefix on everything.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "falco/engine/fields.h"

/* Payload of a fake event (struct evt.data). NULL pointers / has_* false mean "field missing". */
struct testsrc_evt {
	const char *str;  /* test.str */
	const char *path; /* test.path */
	const char *buf;  /* test.buf: buf_len raw bytes */
	uint32_t buf_len;
	bool has_num; /* test.u64, test.s64, test.double, test.bool, test.reltime, test.abstime */
	uint64_t u64;
	int64_t s64;
	double d;
	bool b;
	uint64_t reltime, abstime;
	const char *ip;		 /* test.ip (text, parsed by the extractor) */
	const char *net;	 /* test.net: an address (FT_IPNET field) */
	const char *const *list; /* test.list, nlist items */
	uint32_t nlist;
	const uint64_t *u64list; /* test.u64list */
	uint32_t nu64list;
	const char *const *args; /* test.args */
	uint32_t nargs;
	const char *str2; /* test.str2, for field-to-field comparisons */
};

/* Event-type codes of the fake source: open 0,1; openat 2,3; read 4,5; execve 6,7; close 8; far 69. */
#define TESTSRC_NEVTTYPES 70

extern const struct src_def testsrc_src;	/* "test": evt.type, test.* */
extern const struct src_def testsrc_single_src; /* "single": no event-type table */

/* Fills e with the default event used by the table-driven tests (see testsrc.c for the values). */
void testsrc_default(struct testsrc_evt *e);

/* How many times test.count was extracted (to check per-event de-duplication). */
extern unsigned long testsrc_count_calls;
/* How many test.prep arguments are currently prepared and not yet released. */
extern long testsrc_prepared;
