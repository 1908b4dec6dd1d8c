/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Synthetic driver records for the syscall-source unit tests (test_state*.c, test_sc_fields*.c, test_capture*.c):
 * parameters are given by name and encoded with the widths the event table (evt_table.c) declares, so the tests
 * follow the contract instead of hard-coding offsets. Header-only: every function is static.
 */
#pragma once

#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>

#include "falco/source/evt_decode.h"

struct tp {
	const char *name;
	int64_t i;     /* integers of any width */
	const char *s; /* strings (NUL added) */
	const void *b; /* raw bytes (buffers, sockaddr, tuples) */
	size_t blen;
};

#define TP_I(n, v)                             \
	{                                      \
		.name = (n), .i = (int64_t)(v) \
	}
#define TP_S(n, v)                    \
	{                             \
		.name = (n), .s = (v) \
	}
#define TP_B(n, p, l)                              \
	{                                          \
		.name = (n), .b = (p), .blen = (l) \
	}

static inline int tr_width(uint8_t t)
{
	switch (t) {
	case EVT_PT_INT8:
	case EVT_PT_UINT8:
	case EVT_PT_SIGTYPE:
	case EVT_PT_FLAGS8:
	case EVT_PT_ENUMFLAGS8:
		return 1;
	case EVT_PT_INT16:
	case EVT_PT_UINT16:
	case EVT_PT_FLAGS16:
	case EVT_PT_ENUMFLAGS16:
	case EVT_PT_SYSCALLID:
		return 2;
	case EVT_PT_INT32:
	case EVT_PT_UINT32:
	case EVT_PT_FLAGS32:
	case EVT_PT_ENUMFLAGS32:
	case EVT_PT_UID:
	case EVT_PT_GID:
	case EVT_PT_MODE:
		return 4;
	case EVT_PT_CHARBUF:
	case EVT_PT_FSPATH:
	case EVT_PT_FSRELPATH:
		return -1;
	case EVT_PT_BYTEBUF:
	case EVT_PT_SOCKADDR:
	case EVT_PT_SOCKTUPLE:
		return 0;
	default:
		return 8;
	}
}

/* Builds a record of type into buf (EVT_MAX_SIZE bytes); returns its length, 0 for an unknown type. */
static inline size_t tr_make(uint8_t *buf, uint16_t type, uint32_t tid, uint32_t pid, uint64_t ts,
			     const struct tp *ps, size_t n)
{
	const struct evt_info *info = evt_info(type);
	if (!info)
		return 0;
	uint8_t np = info->nparams;
	struct evt_hdr h = {.ts = ts, .tid = tid, .pid = pid, .type = type, .nparams = np};
	uint32_t off = EVT_PARAMS_OFF(np);
	memset(buf, 0, off);
	for (unsigned i = 0; i < np; i++) {
		const struct evt_param_info *pi = &info->params[i];
		const struct tp *v = NULL;
		uint16_t len = 0;
		for (size_t k = 0; k < n; k++)
			if (strcmp(ps[k].name, pi->name) == 0)
				v = &ps[k];
		if (v) {
			int w = tr_width(pi->type);
			if (w > 0) {
				uint64_t u = (uint64_t)v->i;
				memcpy(buf + off, &u, (size_t)w); /* little endian: the low bytes */
				len = (uint16_t)w;
			} else if (w < 0) {
				size_t l = strlen(v->s ? v->s : "");
				memcpy(buf + off, v->s ? v->s : "", l + 1);
				len = (uint16_t)(l + 1);
			} else {
				memcpy(buf + off, v->b, v->blen);
				len = (uint16_t)v->blen;
			}
		}
		memcpy(buf + EVT_LENS_OFF + 2 * i, &len, 2);
		off += len;
	}
	h.len = off;
	memcpy(buf, &h, sizeof(h));
	return off;
}

/* An IPv4 tuple "sip:sport -> dip:dport" (13 bytes into out). */
static inline size_t tr_tuple4(uint8_t *out, const char *sip, uint16_t sport, const char *dip,
			       uint16_t dport)
{
	out[0] = EVT_AF_INET;
	inet_pton(AF_INET, sip, out + 1);
	memcpy(out + 5, &sport, 2);
	inet_pton(AF_INET, dip, out + 7);
	memcpy(out + 11, &dport, 2);
	return 13;
}

/* An IPv4 sockaddr (7 bytes into out). */
static inline size_t tr_sockaddr4(uint8_t *out, const char *ip, uint16_t port)
{
	out[0] = EVT_AF_INET;
	inet_pton(AF_INET, ip, out + 1);
	memcpy(out + 5, &port, 2);
	return 7;
}
