/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "fileio.h"

int read_file(const char *path, size_t max, char **ret, size_t *ret_len, char *errbuf,
	      size_t errlen)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	struct stat st;
	size_t len = 0, cap;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errf(errbuf, errlen, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0)
		return errf(errbuf, errlen, -errno, "cannot stat '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return errf(errbuf, errlen, -EISDIR, "'%s' is a directory", path);
	if (S_ISREG(st.st_mode) && (size_t)st.st_size > max)
		return errf(errbuf, errlen, -EFBIG, "'%s' is too large (%lld bytes, limit %zu)",
			    path, (long long)st.st_size, max);

	/* Regular files: one read of the known size. Pipes and /proc files: grow until EOF or max. */
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap);
	if (!buf)
		return errf(errbuf, errlen, -ENOMEM, "out of memory reading '%s'", path);
	for (;;) {
		if (len + 1 >= cap) {
			if (cap > max + 1)
				return errf(errbuf, errlen, -EFBIG, "'%s' is larger than %zu bytes",
					    path, max);
			size_t ncap = cap * 2;
			char *nb = realloc(buf, ncap);
			if (!nb)
				return errf(errbuf, errlen, -ENOMEM, "out of memory reading '%s'",
					    path);
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errf(errbuf, errlen, -errno, "cannot read '%s': %s", path,
				    strerror(errno));
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max)
			return errf(errbuf, errlen, -EFBIG, "'%s' is larger than %zu bytes", path,
				    max);
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	if (ret_len)
		*ret_len = len;
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	_cleanup_close_ int dfd = open(dirname(tmp), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -errno;
	if (fsync(dfd) < 0)
		return -errno;
	return 0;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, char *errbuf,
		      size_t errlen)
{
	char tmp[PATH_MAX];
	_cleanup_close_ int fd = -1;
	const char *p = data;
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp))
		return errf(errbuf, errlen, -ENAMETOOLONG, "path too long: '%s'", path);
	(void)unlink(tmp); /* a leftover from a crashed run with the same pid */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errf(errbuf, errlen, -errno, "cannot create '%s': %s", tmp, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = errf(errbuf, errlen, -errno, "cannot write '%s': %s", tmp,
				 strerror(errno));
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) < 0) {
		r = errf(errbuf, errlen, -errno, "cannot chmod '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (fsync(fd) < 0) {
		r = errf(errbuf, errlen, -errno, "cannot fsync '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(TAKE_FD(fd)) < 0) {
		r = errf(errbuf, errlen, -errno, "cannot close '%s': %s", tmp, strerror(errno));
		goto fail;
	}
	if (rename(tmp, path) < 0) {
		r = errf(errbuf, errlen, -errno, "cannot rename '%s' to '%s': %s", tmp, path,
			 strerror(errno));
		goto fail;
	}
	r = fsync_dir_of(path);
	if (r < 0)
		return errf(errbuf, errlen, r, "cannot fsync the directory of '%s': %s", path,
			    strerror(-r));
	return 0;
fail:
	(void)unlink(tmp);
	return r;
}

int mkdir_p(const char *path, mode_t mode, char *errbuf, size_t errlen)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(tmp))
		return errf(errbuf, errlen, -ENAMETOOLONG, "invalid directory path '%s'", path);
	memcpy(tmp, path, len + 1);
	for (char *p = tmp + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(tmp, mode) < 0 && errno != EEXIST)
				return errf(errbuf, errlen, -errno,
					    "cannot create directory '%s': %s", tmp,
					    strerror(errno));
			if (!is_dir(tmp))
				return errf(errbuf, errlen, -ENOTDIR,
					    "'%s' exists and is not a directory", tmp);
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	return 0;
}

int path_join_root(const char *root, const char *path, char *out, size_t outlen)
{
	/* reject any ".." component: a joined path must stay below root */
	for (const char *p = path; (p = strstr(p, "..")); p += 2) {
		bool start = p == path || p[-1] == '/';
		bool end = p[2] == '\0' || p[2] == '/';
		if (start && end)
			return -EINVAL;
	}
	if (!root || !*root || streq(root, "/")) {
		if (snprintf(out, outlen, "%s", path) >= (int)outlen)
			return -ENAMETOOLONG;
		return 0;
	}
	size_t rl = strlen(root);
	while (rl > 1 && root[rl - 1] == '/')
		rl--;
	while (*path == '/')
		path++;
	if (snprintf(out, outlen, "%.*s/%s", (int)rl, root, path) >= (int)outlen)
		return -ENAMETOOLONG;
	return 0;
}

bool is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
