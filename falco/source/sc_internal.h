/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the syscall source (state_event.c, sc_fields_*.c, sc_source.c): parameter positions by name,
 * resolved once from the event table so the hot path never compares strings, and small shared helpers.
 */
#pragma once

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "evt_decode.h"
#include "sc_source.h"
#include "state.h"

/* Parameter names the state and the fields read. */
enum sc_pn {
	PN_RES,
	PN_FD,
	PN_NAME,
	PN_DIRFD,
	PN_FLAGS,
	PN_MODE,
	PN_DEV,
	PN_INO,
	PN_PATH,
	PN_EXE,
	PN_ARGS,
	PN_TID,
	PN_PID,
	PN_PTID,
	PN_CWD,
	PN_COMM,
	PN_CGROUPS,
	PN_ENV,
	PN_TTY,
	PN_LOGINUID,
	PN_CAP_INH,
	PN_CAP_PERM,
	PN_CAP_EFF,
	PN_EXE_INO,
	PN_EXE_CTIME,
	PN_EXE_MTIME,
	PN_UID,
	PN_GID,
	PN_TRUSTED_EXEPATH,
	PN_PGID,
	PN_FILENAME,
	PN_VTID,
	PN_VPID,
	PN_VPGID,
	PN_SID,
	PN_START_TS,
	PN_PIDNS_INIT,
	PN_OLDFD,
	PN_NEWFD,
	PN_TUPLE,
	PN_ADDR,
	PN_DOMAIN,
	PN_TYPE,
	PN_PROTO,
	PN_FD1,
	PN_FD2,
	PN_EUID,
	PN_EGID,
	PN_OPTION,
	PN_ARG2_STR,
	PN_CMD,
	PN_DATA,
	PN_CREAT_FLAGS,
	PN_ID,
	PN_MAX_FD,
	_PN_MAX,
};

/* Parameter positions by type, filled once (sc_pcache_init) from the event table. */
extern int8_t sc_pcache[_EVT_TYPE_DEDICATED_MAX][_PN_MAX];
extern int8_t sc_pcache_generic[_PN_MAX];
extern int sc_pcache_ready;
void sc_pcache_init(void);

/* Index of parameter pn in events of type, or -1. Generic events: "id" and "res" only. */
static inline int sc_pidx(uint16_t type, enum sc_pn pn)
{
	if (__builtin_expect(!__atomic_load_n(&sc_pcache_ready, __ATOMIC_ACQUIRE), 0))
		sc_pcache_init();
	if (type < _EVT_TYPE_DEDICATED_MAX)
		return sc_pcache[type][pn];
	if (type >= EVT_GENERIC_BASE && type < EVT_TYPE_MAX)
		return sc_pcache_generic[pn];
	return -1;
}

/*
 * Getters by name; 1 with a value, 0 when the event has no such parameter or it is empty. The common widths are
 * read inline (evt_decode already checked every fixed-size parameter's length); the rest goes to evt_get_*.
 */
static inline int sc_get_s64(const struct evt_rec *r, enum sc_pn pn, int64_t *ret)
{
	int i = sc_pidx(r->type, pn);
	if (i < 0 || (unsigned)i >= r->nparams || r->lens[i] == 0)
		return 0;
	if (r->lens[i] == 8 && (unsigned)i < r->info->nparams) {
		memcpy(ret, r->base + r->offs[i], 8);
		return 1;
	}
	return evt_get_s64(r, (unsigned)i, ret) > 0;
}

static inline int sc_get_u64(const struct evt_rec *r, enum sc_pn pn, uint64_t *ret)
{
	int i = sc_pidx(r->type, pn);
	if (i < 0 || (unsigned)i >= r->nparams || r->lens[i] == 0 ||
	    (unsigned)i >= r->info->nparams)
		return 0;
	const uint8_t *p = r->base + r->offs[i];
	switch (r->lens[i]) {
	case 8:
		memcpy(ret, p, 8);
		return 1;
	case 4: {
		uint32_t v;
		memcpy(&v, p, 4);
		*ret = v;
		return 1;
	}
	default:
		return evt_get_u64(r, (unsigned)i, ret) > 0;
	}
}

int sc_get_str(const struct evt_rec *r, enum sc_pn pn, const char **ret, size_t *ret_len);
int sc_get_buf(const struct evt_rec *r, enum sc_pn pn, const uint8_t **ret, size_t *ret_len);

/* The return value of an exit event (first parameter of type ERRNO/FD/PID; "res" of generic events). */
static inline int sc_event_res(const struct evt_rec *r, int64_t *ret)
{
	const struct evt_info *info = r->info;

	if (!info || (info->flags & (EVT_INFO_ENTER | EVT_INFO_GENERIC)) || info->nparams == 0) {
		if (info && (info->flags & EVT_INFO_GENERIC))
			return sc_get_s64(r, PN_RES, ret);
		return 0;
	}
	uint8_t t = info->params[0].type;
	if ((t != EVT_PT_ERRNO && t != EVT_PT_FD && t != EVT_PT_PID) || r->nparams == 0 ||
	    r->lens[0] != 8)
		return 0;
	memcpy(ret, r->base + r->offs[0], 8);
	return 1;
}

/* The name of errno e (ENOENT), or NULL. */
const char *sc_errno_name(int64_t e);
/* The errno value of a name, or 0. */
int sc_errno_value(const char *name);

/* ---- extractor helpers ---- */

#include <string.h>

#include "common/arena.h"
#include "falco/engine/fields.h"

static inline const struct sc_evt *sc_evt_of(const struct fld_ctx *ctx)
{
	return (const struct sc_evt *)ctx->evt->data;
}

static inline struct st_state *sc_state_of(const struct fld_ctx *ctx)
{
	return (struct st_state *)ctx->src_state;
}

static inline int sc_val_str(struct value *out, const char *s, size_t n)
{
	*out = (struct value){.type = FT_STRING, .len = (uint32_t)n, .str = s};
	return 1;
}

static inline int sc_val_cstr(struct value *out, const char *s)
{
	return s ? sc_val_str(out, s, strlen(s)) : 0;
}

static inline int sc_val_sstr(struct value *out, const struct st_str *s)
{
	return s ? sc_val_str(out, s->s, s->len) : 0;
}

static inline int sc_val_u64(struct value *out, uint64_t v)
{
	*out = (struct value){.type = FT_U64, .u64 = v};
	return 1;
}

static inline int sc_val_s64(struct value *out, int64_t v)
{
	*out = (struct value){.type = FT_S64, .s64 = v};
	return 1;
}

static inline int sc_val_bool(struct value *out, bool v)
{
	*out = (struct value){.type = FT_BOOL, .b = v};
	return 1;
}

static inline int sc_val_time(struct value *out, enum fld_type t, uint64_t v)
{
	*out = (struct value){.type = (uint8_t)t, .u64 = v};
	return 1;
}

/* Copies s into the arena (values must outlive the scratch buffers they were built in). */
static inline int sc_val_copy(struct fld_ctx *ctx, struct value *out, const char *s, size_t n)
{
	char *c = arena_strndup(ctx->arena, s, n);
	return c ? sc_val_str(out, c, n) : -ENOMEM;
}

/*
 * A NUL-separated list ("a\0b\0") joined with sep into the arena; a leading prefix (with sep after it) may be
 * given. Returns the string or NULL (ENOMEM).
 */
char *sc_join(struct arena *a, const char *prefix, const char *buf, size_t len, char sep,
	      size_t *ret_len);

/* The process an ancestor index designates (0 = the process itself), or NULL. */
struct st_proc *sc_ancestor(const struct st_state *st, struct st_proc *p, uint32_t n);

/* proc.cmdline of p (comm + args) into the arena. */
int sc_cmdline(struct fld_ctx *ctx, const struct st_proc *p, struct value *out);
