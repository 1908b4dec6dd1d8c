/* SPDX-License-Identifier: Apache-2.0 */
/*
 * File helpers shared by falco and falcoctl: bounded reads, and atomic writes (temp file in the same directory,
 * fsync, rename, fsync of the directory) so that a crash never leaves a half-written file behind.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Reads a whole regular file of at most max bytes. *ret is NUL-terminated and owned by the caller.
 * Returns 0, -ENOENT/-EACCES/... (from open/read), -EFBIG when larger than max, -EISDIR for a directory.
 */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len, char *errbuf,
	      size_t errlen);

/*
 * Replaces path with data atomically, creating it with mode (the final mode is set explicitly, independent of
 * umask). The temporary file is created with O_EXCL next to path and removed on any failure.
 * Returns 0 or -errno with an explanation.
 */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, char *errbuf,
		      size_t errlen);

/* mkdir -p with mode for each created component. Returns 0 or -errno. */
int mkdir_p(const char *path, mode_t mode, char *errbuf, size_t errlen);

/*
 * Joins root and path (path absolute or relative; root may be NULL or "/") into out. Rejects a path with a ".."
 * component so nothing escapes root. Returns 0, -EINVAL (..), -ENAMETOOLONG.
 */
int path_join_root(const char *root, const char *path, char *out, size_t outlen);

/* True when path names an existing directory. */
bool is_dir(const char *path);
