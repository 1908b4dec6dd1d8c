/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parameter positions by name for the syscall source, resolved once from the event table (evt_table.c), and
 * errno names. See sc_internal.h.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "common/macro.h"
#include "sc_internal.h"

static const char *const pn_names[_PN_MAX] = {
	[PN_RES] = "res",
	[PN_FD] = "fd",
	[PN_NAME] = "name",
	[PN_DIRFD] = "dirfd",
	[PN_FLAGS] = "flags",
	[PN_MODE] = "mode",
	[PN_DEV] = "dev",
	[PN_INO] = "ino",
	[PN_PATH] = "path",
	[PN_EXE] = "exe",
	[PN_ARGS] = "args",
	[PN_TID] = "tid",
	[PN_PID] = "pid",
	[PN_PTID] = "ptid",
	[PN_CWD] = "cwd",
	[PN_COMM] = "comm",
	[PN_CGROUPS] = "cgroups",
	[PN_ENV] = "env",
	[PN_TTY] = "tty",
	[PN_LOGINUID] = "loginuid",
	[PN_CAP_INH] = "cap_inheritable",
	[PN_CAP_PERM] = "cap_permitted",
	[PN_CAP_EFF] = "cap_effective",
	[PN_EXE_INO] = "exe_ino",
	[PN_EXE_CTIME] = "exe_ino_ctime",
	[PN_EXE_MTIME] = "exe_ino_mtime",
	[PN_UID] = "uid",
	[PN_GID] = "gid",
	[PN_TRUSTED_EXEPATH] = "trusted_exepath",
	[PN_PGID] = "pgid",
	[PN_FILENAME] = "filename",
	[PN_VTID] = "vtid",
	[PN_VPID] = "vpid",
	[PN_VPGID] = "vpgid",
	[PN_SID] = "sid",
	[PN_START_TS] = "start_ts",
	[PN_PIDNS_INIT] = "pidns_init_start_ts",
	[PN_OLDFD] = "oldfd",
	[PN_NEWFD] = "newfd",
	[PN_TUPLE] = "tuple",
	[PN_ADDR] = "addr",
	[PN_DOMAIN] = "domain",
	[PN_TYPE] = "type",
	[PN_PROTO] = "proto",
	[PN_FD1] = "fd1",
	[PN_FD2] = "fd2",
	[PN_EUID] = "euid",
	[PN_EGID] = "egid",
	[PN_OPTION] = "option",
	[PN_ARG2_STR] = "arg2_str",
	[PN_CMD] = "cmd",
	[PN_DATA] = "data",
	[PN_CREAT_FLAGS] = "creat_flags",
	[PN_MAX_FD] = "max_fd",
	[PN_ID] = "id",
};

int8_t sc_pcache[_EVT_TYPE_DEDICATED_MAX][_PN_MAX];
int8_t sc_pcache_generic[_PN_MAX];
int sc_pcache_ready;
static pthread_once_t pcache_once = PTHREAD_ONCE_INIT;

static void pcache_fill(void)
{
	for (unsigned t = 0; t < _EVT_TYPE_DEDICATED_MAX; t++) {
		const struct evt_info *info = evt_info((uint16_t)t);
		for (unsigned n = 0; n < _PN_MAX; n++) {
			int i = info ? evt_param_index(info, pn_names[n]) : -1;
			sc_pcache[t][n] = (int8_t)(i < 0 ? -1 : i);
		}
	}
	const struct evt_info *g = evt_info(EVT_GENERIC_BASE);
	for (unsigned n = 0; n < _PN_MAX; n++) {
		int i = g ? evt_param_index(g, pn_names[n]) : -1;
		sc_pcache_generic[n] = (int8_t)(i < 0 ? -1 : i);
	}
	__atomic_store_n(&sc_pcache_ready, 1, __ATOMIC_RELEASE);
}

void sc_pcache_init(void)
{
	pthread_once(&pcache_once, pcache_fill);
}

int sc_get_str(const struct evt_rec *r, enum sc_pn pn, const char **ret, size_t *ret_len)
{
	int i = sc_pidx(r->type, pn);
	return i < 0 ? 0 : evt_get_str(r, (unsigned)i, ret, ret_len) > 0;
}

int sc_get_buf(const struct evt_rec *r, enum sc_pn pn, const uint8_t **ret, size_t *ret_len)
{
	int i = sc_pidx(r->type, pn);
	return i < 0 ? 0 : evt_get_buf(r, (unsigned)i, ret, ret_len) > 0;
}

const char *sc_errno_name(int64_t e)
{
	if (e <= 0 || e > 4095)
		return NULL;
	return strerrorname_np((int)e);
}

int sc_errno_value(const char *name)
{
	for (int e = 1; e < 200; e++) {
		const char *n = strerrorname_np(e);
		if (n && streq(n, name))
			return e;
	}
	return 0;
}
