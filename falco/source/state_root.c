/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the state reads process information: upstream's HOST_ROOT (falco in a container, the host's / mounted
 * at e.g. /host) moves it to "$HOST_ROOT/proc", and falco's own pid is then the one that procfs shows. See
 * state.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "common/err.h"
#include "common/macro.h"
#include "state.h"

#define ST_PID_INIT_INO 0xEFFFFFFCu /* the initial pid namespace (include/linux/proc_ns.h) */

int st_host_root_resolve(const char *host_root, char *ret_root, char *ret_proc_root, char *errbuf,
			 size_t errlen)
{
	char proc[ST_ROOT_MAX];
	struct statfs sfs;
	size_t n;

	if (!host_root || host_root[0] != '/')
		return errf(
			errbuf, errlen, -EINVAL,
			"HOST_ROOT='%s' is not an absolute path (the directory where the host's / is "
			"mounted, e.g. /host)",
			host_root ? host_root : "");
	/* "/host/" and "/host" are the same root; "/" is the host itself (its /proc) */
	n = strlen(host_root);
	while (n > 0 && host_root[n - 1] == '/')
		n--;
	/* refuse rather than cut: a shortened path would name another directory */
	if (n + STRLEN("/proc") >= ST_ROOT_MAX)
		return errf(errbuf, errlen, -ENAMETOOLONG,
			    "HOST_ROOT is too long (%zu bytes, at most %zu)", n,
			    (size_t)ST_ROOT_MAX - 1 - STRLEN("/proc"));
	memcpy(proc, host_root, n);
	memcpy(proc + n, "/proc", STRLEN("/proc") + 1);
	/*
	 * Anything else (a plain directory, a copy, a bind of something else) would seed nothing or, worse,
	 * stale numbers that the driver's pids then match by accident.
	 */
	if (statfs(proc, &sfs) < 0) {
		int r = -errno;
		return errf(errbuf, errlen, r, "HOST_ROOT='%s': cannot examine '%s': %s", host_root,
			    proc, strerror(-r));
	}
	if (sfs.f_type != PROC_SUPER_MAGIC)
		return errf(errbuf, errlen, -EMEDIUMTYPE,
			    "HOST_ROOT='%s': '%s' is not a proc filesystem (mount the host's /proc "
			    "there)",
			    host_root, proc);
	memcpy(ret_root, host_root, n);
	ret_root[n] = '\0';
	memcpy(ret_proc_root, proc, n + STRLEN("/proc") + 1);
	return 0;
}

int st_proc_root_self(const char *proc_root)
{
	char path[ST_ROOT_MAX + 8], buf[32];
	ssize_t n;
	char *end;

	if ((size_t)snprintf(path, sizeof(path), "%s/self", proc_root) >= sizeof(path))
		return -ENAMETOOLONG;
	/* the kernel resolves "self" in the pid namespace of the procfs, not the reader's */
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	errno = 0;
	unsigned long pid = strtoul(buf, &end, 10);
	if (errno || end == buf || *end || pid == 0 || pid > INT_MAX)
		return -EBADMSG;
	return (int)pid;
}

int st_proc_root_is_initial(const char *proc_root)
{
	char path[ST_ROOT_MAX + 16];
	struct stat sb;

	if ((size_t)snprintf(path, sizeof(path), "%s/1/ns/pid", proc_root) >= sizeof(path))
		return -ENAMETOOLONG;
	/* pid 1 of a procfs is its namespace's init, which lives in that namespace */
	if (stat(path, &sb) < 0)
		return -errno;
	return sb.st_ino == ST_PID_INIT_INO;
}
