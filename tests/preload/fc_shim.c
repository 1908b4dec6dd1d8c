/* SPDX-License-Identifier: Apache-2.0 */
/*
 * LD_PRELOAD shim for falcoctl's kmod and kernel-facts paths (the idea of kmod's testsuite): lets tests run
 * the real libkmod code on a kernel that cannot load modules, without root.
 *   FC_SHIM_UNAME_RELEASE / _VERSION / _MACHINE  override uname(2) fields
 *   FC_SHIM_MODULES=1|0          answer access("/proc/modules") as a kernel with/without module support
 *   FC_SHIM_SYSMODULE=DIR        /sys/module/... is read from DIR/... (initstate, refcnt, version)
 *   FC_SHIM_FINIT_ERRNO=N        finit_module/init_module fail with errno N (default: succeed)
 *   FC_SHIM_DELETE_ERRNO=N       delete_module fails with errno N (default: succeed)
 *   FC_SHIM_LOG=FILE             append one line per intercepted module call
 *   FC_SHIM_KILL_AFTER_RENAMES=N SIGKILL the process right after its N-th rename(2): falcoctl's atomic writes
 *                                and symlinks all end in a rename, so this kills an install in the middle of a
 *                                phase at a precise point
 * A successful finit_module of "<dir>/<name>_….ko" creates DIR/<driver name>/initstate ("live"), using
 * FC_SHIM_MODNAME (default "falco"); delete_module removes it.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

static void shim_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void shim_log(const char *fmt, ...)
{
	const char *path = getenv("FC_SHIM_LOG");
	if (!path)
		return;
	FILE *f = fopen(path, "ae");
	if (!f)
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static int env_errno(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? (int)strtol(v, NULL, 10) : 0;
}

int rename(const char *from, const char *to)
{
	static int (*real)(const char *, const char *);
	static int count;
	if (!real)
		real = (int (*)(const char *, const char *))dlsym(RTLD_NEXT, "rename");
	int r = real(from, to);
	const char *n = getenv("FC_SHIM_KILL_AFTER_RENAMES");
	if (r == 0 && n && ++count >= strtol(n, NULL, 10)) {
		shim_log("killed after rename %d: %s", count, to);
		raise(SIGKILL);
	}
	return r;
}

int uname(struct utsname *buf)
{
	long r = syscall(SYS_uname, buf);
	if (r < 0)
		return -1;
	const char *v;
	if ((v = getenv("FC_SHIM_UNAME_RELEASE")))
		snprintf(buf->release, sizeof(buf->release), "%s", v);
	if ((v = getenv("FC_SHIM_UNAME_VERSION")))
		snprintf(buf->version, sizeof(buf->version), "%s", v);
	if ((v = getenv("FC_SHIM_UNAME_MACHINE")))
		snprintf(buf->machine, sizeof(buf->machine), "%s", v);
	return 0;
}

int access(const char *path, int mode)
{
	static int (*real)(const char *, int);
	const char *m = getenv("FC_SHIM_MODULES");
	if (m && strcmp(path, "/proc/modules") == 0) {
		if (*m == '1')
			return 0;
		errno = ENOENT;
		return -1;
	}
	if (!real)
		real = (int (*)(const char *, int))dlsym(RTLD_NEXT, "access");
	return real(path, mode);
}

/* /sys/module/X -> $FC_SHIM_SYSMODULE/X */
static const char *redirect(const char *path, char *buf, size_t len)
{
	const char *dir = getenv("FC_SHIM_SYSMODULE");
	if (!dir || strncmp(path, "/sys/module/", 12) != 0)
		return path;
	snprintf(buf, len, "%s/%s", dir, path + 12);
	return buf;
}

static int do_open(const char *sym, const char *path, int flags, mode_t mode)
{
	static int (*real_open)(const char *, int, ...);
	static int (*real_open64)(const char *, int, ...);
	char buf[4096];
	int (**real)(const char *, int, ...) = strcmp(sym, "open") == 0 ? &real_open : &real_open64;
	if (!*real)
		*real = (int (*)(const char *, int, ...))dlsym(RTLD_NEXT, sym);
	return (*real)(redirect(path, buf, sizeof(buf)), flags, mode);
}

int open(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return do_open("open", path, flags, mode);
}

int open64(const char *path, int flags, ...)
{
	mode_t mode = 0;
	if (flags & (O_CREAT | O_TMPFILE)) {
		va_list ap;
		va_start(ap, flags);
		mode = va_arg(ap, mode_t);
		va_end(ap);
	}
	return do_open("open64", path, flags, mode);
}

static void set_loaded(int loaded)
{
	const char *dir = getenv("FC_SHIM_SYSMODULE");
	const char *name = getenv("FC_SHIM_MODNAME") ? getenv("FC_SHIM_MODNAME") : "falco";
	char p[4096];
	if (!dir)
		return;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (loaded) {
		mkdir(dir, 0755);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/%s/initstate", dir, name);
		FILE *f = fopen(p, "we");
		if (f) {
			fputs("live\n", f);
			fclose(f);
		}
		snprintf(p, sizeof(p), "%s/%s/refcnt", dir, name);
		if ((f = fopen(p, "we"))) {
			fputs("0\n", f);
			fclose(f);
		}
	} else {
		snprintf(p, sizeof(p), "%s/%s/initstate", dir, name);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%s/refcnt", dir, name);
		unlink(p);
		snprintf(p, sizeof(p), "%s/%s", dir, name);
		rmdir(p);
	}
}

static long shim_finit(int fd, const char *params, int flags)
{
	char link[64], target[4096] = "";
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(link, target, sizeof(target) - 1);
	if (n > 0)
		target[n] = '\0';
	shim_log("finit_module %s params='%s' flags=%d", target, params ? params : "", flags);
	int e = env_errno("FC_SHIM_FINIT_ERRNO");
	if (e) {
		errno = e;
		return -1;
	}
	set_loaded(1);
	return 0;
}

static long shim_init(const void *image, unsigned long len, const char *params)
{
	shim_log("init_module len=%lu params='%s'", len, params ? params : "");
	int e = env_errno("FC_SHIM_FINIT_ERRNO");
	if (e) {
		errno = e;
		return -1;
	}
	set_loaded(1);
	return 0;
}

static long shim_delete(const char *name, unsigned flags)
{
	shim_log("delete_module %s flags=%u", name, flags);
	int e = env_errno("FC_SHIM_DELETE_ERRNO");
	if (e) {
		errno = e;
		return -1;
	}
	set_loaded(0);
	return 0;
}

int finit_module(int fd, const char *params, int flags);
int finit_module(int fd, const char *params, int flags)
{
	return (int)shim_finit(fd, params, flags);
}

int init_module(void *image, unsigned long len, const char *params);
int init_module(void *image, unsigned long len, const char *params)
{
	return (int)shim_init(image, len, params);
}

int delete_module(const char *name, unsigned flags);
int delete_module(const char *name, unsigned flags)
{
	return (int)shim_delete(name, flags);
}

long syscall(long nr, ...)
{
	va_list ap;
	long a[6];
	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);
	va_end(ap);
	switch (nr) {
	case SYS_finit_module:
		return shim_finit((int)a[0], (const char *)a[1], (int)a[2]);
	case SYS_init_module:
		return shim_init((const void *)a[0], (unsigned long)a[1], (const char *)a[2]);
	case SYS_delete_module:
		return shim_delete((const char *)a[0], (unsigned)a[1]);
	default: {
		static long (*real)(long, ...);
		if (!real)
			real = (long (*)(long, ...))dlsym(RTLD_NEXT, "syscall");
		return real(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
	}
}
