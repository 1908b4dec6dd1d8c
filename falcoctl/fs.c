/* SPDX-License-Identifier: Apache-2.0 */
/* Convergent, recorded, dry-run aware file operations, and the real filesystem ops. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "fs.h"
#include "pkgowner.h"
#include "state.h"

#define FILE_MAX_BYTES (512u << 20)

/* ---- real ops ------------------------------------------------------------------------------------------ */

static int real_write_file(void *data, const char *path, const void *buf, size_t len, mode_t mode,
			   uid_t uid, gid_t gid, char *errbuf, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	_cleanup_close_ int fd = -1;
	const char *p = buf;
	int r;

	if (snprintf(tmp, sizeof(tmp), "%s.falcoctl-tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return errf(errbuf, errlen, -ENAMETOOLONG, "path too long: '%s'", path);
	(void)unlink(tmp); /* a leftover of a killed run with the same pid */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return errf(errbuf, errlen, -errno, "cannot create '%s': %s", tmp, strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errf(errbuf, errlen, -errno, "cannot write '%s': %s", tmp,
				 strerror(errno));
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	/* owner only when we can: without root (tests, image builds as a user) the tree is the caller's */
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && geteuid() == 0 && fchown(fd, uid, gid) < 0) {
		r = errf(errbuf, errlen, -errno, "cannot chown '%s': %s", tmp, strerror(errno));
		goto fail;
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
	snprintf(dir, sizeof(dir), "%s", path);
	int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
	return 0;
fail:
	(void)unlink(tmp);
	return r;
}

static int real_mkdir(void *data, const char *path, mode_t mode, char *errbuf, size_t errlen)
{
	if (mkdir(path, mode) < 0 && errno != EEXIST)
		return errf(errbuf, errlen, -errno, "cannot create directory '%s': %s", path,
			    strerror(errno));
	/* mkdir applies the umask; the mode we record is the one we want */
	if (chmod(path, mode) < 0)
		return errf(errbuf, errlen, -errno, "cannot chmod '%s': %s", path, strerror(errno));
	return 0;
}

static int real_symlink(void *data, const char *target, const char *path, char *errbuf,
			size_t errlen)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.falcoctl-tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return errf(errbuf, errlen, -ENAMETOOLONG, "path too long: '%s'", path);
	(void)unlink(tmp);
	if (symlink(target, tmp) < 0)
		return errf(errbuf, errlen, -errno, "cannot create symlink '%s': %s", tmp,
			    strerror(errno));
	if (rename(tmp, path) < 0) {
		int r = -errno;
		(void)unlink(tmp);
		return errf(errbuf, errlen, r, "cannot rename '%s' to '%s': %s", tmp, path,
			    strerror(-r));
	}
	return 0;
}

static int real_unlink(void *data, const char *path, char *errbuf, size_t errlen)
{
	if (unlink(path) < 0 && errno != ENOENT)
		return errf(errbuf, errlen, -errno, "cannot remove '%s': %s", path,
			    strerror(errno));
	return 0;
}

static int real_rmdir(void *data, const char *path, char *errbuf, size_t errlen)
{
	if (rmdir(path) < 0 && errno != ENOENT)
		return errf(errbuf, errlen, -errno, "cannot remove directory '%s': %s", path,
			    strerror(errno));
	return 0;
}

static int real_chmod(void *data, const char *path, mode_t mode, char *errbuf, size_t errlen)
{
	if (chmod(path, mode) < 0)
		return errf(errbuf, errlen, -errno, "cannot chmod '%s': %s", path, strerror(errno));
	return 0;
}

const struct fc_fs_ops fc_fs_real = {
	.write_file = real_write_file,
	.mkdir = real_mkdir,
	.symlink = real_symlink,
	.unlink = real_unlink,
	.rmdir = real_rmdir,
	.chmod = real_chmod,
};

/* ---- diff ---------------------------------------------------------------------------------------------- */

struct lines {
	const char **p;
	size_t *len;
	size_t n;
};

static int split_lines(const char *s, size_t len, struct lines *l)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] == '\n')
			n++;
	if (len && s[len - 1] != '\n')
		n++;
	l->p = calloc(n + 1, sizeof(*l->p));
	l->len = calloc(n + 1, sizeof(*l->len));
	if (!l->p || !l->len)
		return -ENOMEM;
	l->n = 0;
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t ll = nl ? (size_t)(nl - (s + i)) : len - i;
		l->p[l->n] = s + i;
		l->len[l->n++] = ll;
		i += ll + 1;
	}
	return 0;
}

static void free_lines(struct lines *l)
{
	free(l->p);
	free(l->len);
}

static bool line_eq(const struct lines *a, size_t i, const struct lines *b, size_t j)
{
	return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

int fc_diff(const char *a, size_t alen, const char *b, size_t blen, const char *label_a,
	    const char *label_b, struct strbuf *out)
{
	struct lines la = {0}, lb = {0};
	uint32_t *dp = NULL;
	char *ops = NULL; /* '=', '-', '+' in order */
	size_t nops = 0;
	int r = -ENOMEM;

	if (split_lines(a, alen, &la) < 0 || split_lines(b, blen, &lb) < 0)
		goto out;
	/* trim the common prefix and suffix: the DP only sees the changed middle */
	size_t pre = 0;
	while (pre < la.n && pre < lb.n && line_eq(&la, pre, &lb, pre))
		pre++;
	size_t suf = 0;
	while (suf < la.n - pre && suf < lb.n - pre &&
	       line_eq(&la, la.n - 1 - suf, &lb, lb.n - 1 - suf))
		suf++;
	size_t n = la.n - pre - suf, m = lb.n - pre - suf;
	if ((n + 1) * (m + 1) > 4u << 20) {
		strbuf_appendf(
			out,
			"--- %s\n+++ %s\n(%zu lines differ from %zu lines: too large to diff)\n",
			label_a, label_b, n, m);
		r = 0;
		goto out;
	}
	dp = calloc((n + 1) * (m + 1), sizeof(*dp));
	ops = malloc(la.n + lb.n + 1);
	if (!dp || !ops)
		goto out;
#define DP(i, j) dp[(i) * (m + 1) + (j)]
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			DP(i, j) = line_eq(&la, pre + i, &lb, pre + j)
					   ? DP(i + 1, j + 1) + 1
					   : MAX(DP(i + 1, j), DP(i, j + 1));
	for (size_t i = 0; i < pre; i++)
		ops[nops++] = '=';
	for (size_t i = 0, j = 0; i < n || j < m;) {
		if (i < n && j < m && line_eq(&la, pre + i, &lb, pre + j)) {
			ops[nops++] = '=';
			i++, j++;
		} else if (i < n && (j == m || DP(i + 1, j) >= DP(i, j + 1))) {
			/* deletions before insertions, as diff -u prints them */
			ops[nops++] = '-';
			i++;
		} else {
			ops[nops++] = '+';
			j++;
		}
	}
#undef DP
	for (size_t i = 0; i < suf; i++)
		ops[nops++] = '=';

	strbuf_appendf(out, "--- %s\n+++ %s\n", label_a, label_b);
	/* hunks: runs of changes with 3 lines of context, merged when close */
	const size_t ctx = 3;
	size_t k = 0;
	while (k < nops) {
		while (k < nops && ops[k] == '=')
			k++;
		if (k == nops)
			break;
		size_t start = k > ctx ? k - ctx : 0, end = k;
		for (;;) {
			while (end < nops && ops[end] != '=')
				end++;
			size_t eq = end;
			while (eq < nops && ops[eq] == '=')
				eq++;
			if (eq < nops && eq - end <= 2 * ctx) {
				end = eq;
				continue;
			}
			end = MIN(end + ctx, nops);
			break;
		}
		/* line numbers at start */
		size_t ai = 0, bi = 0;
		for (size_t q = 0; q < start; q++) {
			if (ops[q] != '+')
				ai++;
			if (ops[q] != '-')
				bi++;
		}
		size_t acount = 0, bcount = 0;
		for (size_t q = start; q < end; q++) {
			if (ops[q] != '+')
				acount++;
			if (ops[q] != '-')
				bcount++;
		}
		strbuf_appendf(out, "@@ -%zu,%zu +%zu,%zu @@\n", acount ? ai + 1 : ai, acount,
			       bcount ? bi + 1 : bi, bcount);
		for (size_t q = start; q < end; q++) {
			if (ops[q] == '+') {
				strbuf_appendf(out, "+%.*s\n", (int)lb.len[bi], lb.p[bi]);
				bi++;
			} else if (ops[q] == '-') {
				strbuf_appendf(out, "-%.*s\n", (int)la.len[ai], la.p[ai]);
				ai++;
			} else {
				strbuf_appendf(out, " %.*s\n", (int)la.len[ai], la.p[ai]);
				ai++, bi++;
			}
		}
		k = end;
	}
	r = out->failed ? -ENOMEM : 0;
out:
	free(dp);
	free(ops);
	free_lines(&la);
	free_lines(&lb);
	return r;
}

/* ---- convergent operations --------------------------------------------------------------------------- */

int fc_commit(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	if (ctx->dry_run || !ctx->state)
		return 0;
	return fc_state_save(ctx->state, &ctx->ops->fs, errbuf, errlen);
}

static void changed(struct fc_ctx *ctx)
{
	ctx->changes++;
	ctx->phase_changes++;
}

int fc_dir_ensure(struct fc_ctx *ctx, const char *path, mode_t mode, char *errbuf, size_t errlen)
{
	char full[PATH_MAX], rel[PATH_MAX];
	int r, did = 0;

	if (snprintf(rel, sizeof(rel), "%s", path) >= (int)sizeof(rel))
		return errf(errbuf, errlen, -ENAMETOOLONG, "path too long: '%s'", path);
	/* walk each component from the top so every directory we create is recorded */
	for (char *p = rel + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		r = fc_path(ctx, rel, full);
		if (r < 0)
			return errf(errbuf, errlen, r, "invalid path '%s'", rel);
		struct stat st;
		if (lstat(full, &st) == 0) {
			if (!S_ISDIR(st.st_mode) && !(S_ISLNK(st.st_mode) && is_dir(full)))
				return errf(errbuf, errlen, -ENOTDIR,
					    "'%s' exists and is not a directory", full);
		} else if (errno != ENOENT) {
			return errf(errbuf, errlen, -errno, "cannot stat '%s': %s", full,
				    strerror(errno));
		} else if (ctx->dry_run) {
			fc_info(ctx, "Would create directory %s", rel);
			changed(ctx);
			did = 1;
			*p = saved;
			/* everything below is missing too; report only the first */
			return did;
		} else {
			r = ctx->ops->fs.mkdir(ctx->ops->fs.data, full, mode, errbuf, errlen);
			if (r < 0)
				return r;
			fc_debug(ctx, "Created directory %s", rel);
			if (ctx->state && fc_state_add_dir(ctx->state, ctx->phase, rel) < 0)
				return errf(errbuf, errlen, -ENOMEM, "out of memory");
			changed(ctx);
			did = 1;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	if (did) {
		r = fc_commit(ctx, errbuf, errlen);
		if (r < 0)
			return r;
	}
	return did;
}

static int parent_ensure(struct fc_ctx *ctx, const char *path, char *errbuf, size_t errlen)
{
	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", path);
	char *d = dirname(dir);
	if (streq(d, "/"))
		return 0;
	return fc_dir_ensure(ctx, d, 0755, errbuf, errlen);
}

static int report_diff(struct fc_ctx *ctx, const char *path, const char *old, size_t oldlen,
		       const struct fc_file_spec *f)
{
	if (f->binary || memchr(f->data, '\0', f->len) || (old && memchr(old, '\0', oldlen))) {
		char a[65], b[65];
		fc_sha256_hex(old ? old : "", old ? oldlen : 0, a);
		fc_sha256_hex(f->data, f->len, b);
		fc_info(ctx, "  binary content: sha256 %s -> %s", old ? a : "(none)", b);
		return 0;
	}
	struct strbuf sb;
	char la[PATH_MAX + 8], lb[PATH_MAX + 8];
	strbuf_init(&sb, 16u << 20);
	snprintf(la, sizeof(la), "%s%s", old ? "a" : "", old ? path : "/dev/null");
	snprintf(lb, sizeof(lb), "b%s", path);
	int r = fc_diff(old ? old : "", old ? oldlen : 0, f->data, f->len, la, lb, &sb);
	if (r == 0)
		fc_report_diff(ctx->rep, ctx->phase, path, strbuf_str(&sb));
	strbuf_done(&sb);
	return r;
}

static int write_and_record(struct fc_ctx *ctx, const char *rel, const char *full, const void *data,
			    size_t len, mode_t mode, char *errbuf, size_t errlen)
{
	char sha[65];
	int r = ctx->ops->fs.write_file(ctx->ops->fs.data, full, data, len, mode, 0, 0, errbuf,
					errlen);
	if (r < 0)
		return r;
	fc_sha256_hex(data, len, sha);
	if (ctx->state && fc_state_add_file(ctx->state, ctx->phase, rel, sha, mode) < 0)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	changed(ctx);
	return fc_commit(ctx, errbuf, errlen);
}

int fc_file_ensure(struct fc_ctx *ctx, const struct fc_file_spec *f, char *errbuf, size_t errlen)
{
	char full[PATH_MAX], want_sha[65], cur_sha[65];
	_cleanup_free_ char *cur = NULL;
	size_t curlen = 0;
	struct stat st;
	int r;

	r = fc_path(ctx, f->path, full);
	if (r < 0)
		return errf(errbuf, errlen, r, "invalid path '%s'", f->path);
	fc_sha256_hex(f->data, f->len, want_sha);
	const char *recorded = ctx->state ? fc_state_file_sha(ctx->state, f->path, NULL) : NULL;

	if (lstat(full, &st) < 0) {
		if (errno != ENOENT)
			return errf(errbuf, errlen, -errno, "cannot stat '%s': %s", full,
				    strerror(errno));
		/* 1. missing: create */
		if (ctx->dry_run) {
			fc_info(ctx, "Would write %s (new, %zu bytes, mode %04o)", f->path, f->len,
				(unsigned)f->mode);
			changed(ctx);
			return report_diff(ctx, f->path, NULL, 0, f) < 0 ? -ENOMEM : 1;
		}
		r = parent_ensure(ctx, f->path, errbuf, errlen);
		if (r < 0)
			return r;
		if (f->restart)
			fc_mark_restart(ctx);
		fc_info(ctx, "Writing %s", f->path);
		r = write_and_record(ctx, f->path, full, f->data, f->len, f->mode, errbuf, errlen);
		return r < 0 ? r : 1;
	}
	if (!S_ISREG(st.st_mode))
		return errf(errbuf, errlen, -EEXIST, "'%s' exists and is not a regular file", full);
	r = read_file(full, FILE_MAX_BYTES, &cur, &curlen, errbuf, errlen);
	if (r < 0)
		return r;
	fc_sha256_hex(cur, curlen, cur_sha);

	if (streq(cur_sha, want_sha)) {
		/* 2. right content: fix the mode if needed, adopt it if an interrupted run wrote it */
		int did = 0;
		if (f->policy == FC_FILE_OWNED && (st.st_mode & 07777) != f->mode) {
			if (ctx->dry_run) {
				fc_info(ctx, "Would change the mode of %s from %04o to %04o",
					f->path, (unsigned)(st.st_mode & 07777), (unsigned)f->mode);
			} else {
				fc_info(ctx, "Fixing the mode of %s (%04o -> %04o)", f->path,
					(unsigned)(st.st_mode & 07777), (unsigned)f->mode);
				r = ctx->ops->fs.chmod(ctx->ops->fs.data, full, f->mode, errbuf,
						       errlen);
				if (r < 0)
					return r;
			}
			changed(ctx);
			did = 1;
		} else {
			fc_debug(ctx, "%s is up to date", f->path);
		}
		if (!ctx->dry_run && ctx->state && (!recorded || !streq(recorded, want_sha))) {
			if (fc_state_add_file(ctx->state, ctx->phase, f->path, want_sha, f->mode) <
			    0)
				return errf(errbuf, errlen, -ENOMEM, "out of memory");
			r = fc_commit(ctx, errbuf, errlen);
			if (r < 0)
				return r;
		}
		return did;
	}

	if (f->policy == FC_FILE_KEEP) {
		fc_info(ctx, "Keeping %s as it is (it belongs to the user)", f->path);
		return 0;
	}
	if (recorded && streq(recorded, cur_sha)) {
		/* 3. unchanged since we wrote it: a new default replaces it */
		if (ctx->dry_run) {
			fc_info(ctx, "Would update %s:", f->path);
			changed(ctx);
			return report_diff(ctx, f->path, cur, curlen, f) < 0 ? -ENOMEM : 1;
		}
		if (f->restart)
			fc_mark_restart(ctx);
		fc_info(ctx, "Updating %s", f->path);
		r = write_and_record(ctx, f->path, full, f->data, f->len, f->mode, errbuf, errlen);
		return r < 0 ? r : 1;
	}

	if (f->policy == FC_FILE_STRICT)
		return errf(
			errbuf, errlen, -EEXIST,
			"%s exists and %s; not replacing it (remove it, or point falcoctl at it with --from)",
			f->path,
			recorded ? "was changed since falcoctl wrote it"
				 : "was not installed by falcoctl");
	/* 4. changed by the user (or not ours): keep it, offer the new default beside it */
	char newrel[PATH_MAX], newfull[PATH_MAX];
	if (snprintf(newrel, sizeof(newrel), "%s" FC_NEW_SUFFIX, f->path) >= (int)sizeof(newrel) ||
	    fc_path(ctx, newrel, newfull) < 0)
		return errf(errbuf, errlen, -ENAMETOOLONG, "path too long: '%s'", f->path);
	fc_warn(ctx, "LocalChanges",
		"%s %s; keeping it, the new default is in %s (compare with: diff -u %s %s)",
		f->path,
		recorded ? "was changed since falcoctl wrote it" : "was not written by falcoctl",
		newrel, f->path, newrel);
	_cleanup_free_ char *prev = NULL;
	size_t prevlen = 0;
	if (read_file(newfull, FILE_MAX_BYTES, &prev, &prevlen, NULL, 0) == 0 &&
	    prevlen == f->len && memcmp(prev, f->data, f->len) == 0) {
		if (!ctx->dry_run && ctx->state && !fc_state_file_sha(ctx->state, newrel, NULL)) {
			if (fc_state_add_file(ctx->state, ctx->phase, newrel, want_sha, f->mode) <
			    0)
				return errf(errbuf, errlen, -ENOMEM, "out of memory");
			r = fc_commit(ctx, errbuf, errlen);
			if (r < 0)
				return r;
		}
		return FC_FILE_KEPT;
	}
	if (ctx->dry_run) {
		fc_info(ctx, "Would write %s", newrel);
		changed(ctx);
		report_diff(ctx, f->path, cur, curlen, f);
		return FC_FILE_KEPT;
	}
	r = write_and_record(ctx, newrel, newfull, f->data, f->len, f->mode, errbuf, errlen);
	return r < 0 ? r : FC_FILE_KEPT;
}

int fc_link_ensure(struct fc_ctx *ctx, const char *path, const char *target, char *errbuf,
		   size_t errlen)
{
	char full[PATH_MAX], cur[PATH_MAX];
	struct stat st;
	int r;

	r = fc_path(ctx, path, full);
	if (r < 0)
		return errf(errbuf, errlen, r, "invalid path '%s'", path);
	if (lstat(full, &st) == 0) {
		if (!S_ISLNK(st.st_mode))
			return errf(errbuf, errlen, -EEXIST,
				    "'%s' exists and is not a symlink; not touching it", path);
		ssize_t n = readlink(full, cur, sizeof(cur) - 1);
		if (n < 0)
			return errf(errbuf, errlen, -errno, "cannot read link '%s': %s", full,
				    strerror(errno));
		cur[n] = '\0';
		if (streq(cur, target)) {
			if (!ctx->dry_run && ctx->state &&
			    !fc_state_link_target(ctx->state, path)) {
				/* an interrupted run created it: adopt */
				if (fc_state_add_link(ctx->state, ctx->phase, path, target) < 0)
					return errf(errbuf, errlen, -ENOMEM, "out of memory");
				r = fc_commit(ctx, errbuf, errlen);
				if (r < 0)
					return r;
			}
			fc_debug(ctx, "%s -> %s is in place", path, target);
			return 0;
		}
		const char *ours = ctx->state ? fc_state_link_target(ctx->state, path) : NULL;
		if (!ours || !streq(ours, cur))
			return errf(
				errbuf, errlen, -EEXIST,
				"'%s' points to '%s', which falcoctl did not set up; remove it or disable that "
				"unit first",
				path, cur);
	} else if (errno != ENOENT) {
		return errf(errbuf, errlen, -errno, "cannot stat '%s': %s", full, strerror(errno));
	}
	if (ctx->dry_run) {
		fc_info(ctx, "Would create symlink %s -> %s", path, target);
		changed(ctx);
		return 1;
	}
	r = parent_ensure(ctx, path, errbuf, errlen);
	if (r < 0)
		return r;
	fc_info(ctx, "Created symlink %s -> %s", path, target);
	r = ctx->ops->fs.symlink(ctx->ops->fs.data, target, full, errbuf, errlen);
	if (r < 0)
		return r;
	if (ctx->state && fc_state_add_link(ctx->state, ctx->phase, path, target) < 0)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	changed(ctx);
	r = fc_commit(ctx, errbuf, errlen);
	return r < 0 ? r : 1;
}

int fc_link_remove(struct fc_ctx *ctx, const char *path, char *errbuf, size_t errlen)
{
	char full[PATH_MAX], cur[PATH_MAX];
	const char *target = ctx->state ? fc_state_link_target(ctx->state, path) : NULL;
	int r;

	if (!target)
		return 0;
	r = fc_path(ctx, path, full);
	if (r < 0)
		return errf(errbuf, errlen, r, "invalid path '%s'", path);
	ssize_t n = readlink(full, cur, sizeof(cur) - 1);
	if (n < 0) {
		if (errno != ENOENT && errno != EINVAL)
			return errf(errbuf, errlen, -errno, "cannot read link '%s': %s", full,
				    strerror(errno));
		if (!ctx->dry_run)
			fc_state_del_link(ctx->state, path);
		return 0;
	}
	cur[n] = '\0';
	if (!streq(cur, target)) {
		fc_info(ctx, "Keeping %s: it now points to %s", path, cur);
		if (!ctx->dry_run)
			fc_state_del_link(ctx->state, path);
		return 0;
	}
	if (ctx->dry_run) {
		fc_info(ctx, "Would remove symlink %s", path);
		changed(ctx);
		return 1;
	}
	fc_info(ctx, "Removed symlink %s", path);
	r = ctx->ops->fs.unlink(ctx->ops->fs.data, full, errbuf, errlen);
	if (r < 0)
		return r;
	fc_state_del_link(ctx->state, path);
	changed(ctx);
	r = fc_commit(ctx, errbuf, errlen);
	return r < 0 ? r : 1;
}

static int cmp_depth_desc(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	size_t dx = 0, dy = 0;
	for (; *x; x++)
		dx += *x == '/';
	for (; *y; y++)
		dy += *y == '/';
	return dx < dy ? 1 : dx > dy ? -1 : 0;
}

int fc_undo_recorded(struct fc_ctx *ctx, const char *phase, char *errbuf, size_t errlen)
{
	char full[PATH_MAX], sha[65], pkg[128];
	int removed = 0, r;
	cJSON *a, *e;

	if (!ctx->state)
		return 0;
	/* 1. symlinks */
	while ((a = fc_state_array(ctx->state, phase, "links")) && cJSON_GetArraySize(a) > 0) {
		e = cJSON_GetArrayItem(a, 0);
		_cleanup_free_ char *path =
			strdup(cJSON_GetStringValue(cJSON_GetObjectItem(e, "path")) ?: "");
		if (!path)
			return -ENOMEM;
		r = fc_link_remove(ctx, path, errbuf, errlen);
		if (r < 0)
			return r;
		removed += r;
		if (ctx->dry_run || fc_state_link_target(ctx->state, path)) {
			/* dry-run (or a link kept): detach from our view of the list and continue */
			cJSON_Delete(cJSON_DetachItemViaPointer(a, e));
		}
	}
	/* 2. files, only while their content is what we wrote */
	while ((a = fc_state_array(ctx->state, phase, "files")) && cJSON_GetArraySize(a) > 0) {
		e = cJSON_GetArrayItem(a, 0);
		_cleanup_free_ char *path =
			strdup(cJSON_GetStringValue(cJSON_GetObjectItem(e, "path")) ?: "");
		const char *want = cJSON_GetStringValue(cJSON_GetObjectItem(e, "sha256"));
		if (!path)
			return -ENOMEM;
		r = fc_path(ctx, path, full);
		if (r < 0)
			return errf(errbuf, errlen, r, "invalid path '%s'", path);
		r = fc_sha256_file(full, 0, sha, NULL, 0);
		if (r == -ENOENT) {
			fc_debug(ctx, "%s is already gone", path);
		} else if (r < 0 || !want || !streq(sha, want)) {
			fc_warn(ctx, "LocalChanges",
				"keeping %s: it was changed after falcoctl wrote it", path);
		} else if ((r = fc_package_owner(ctx, path, pkg, sizeof(pkg), errbuf, errlen)) !=
			   0) {
			if (r < 0)
				return r;
			/* falcoctl adopted it, or the package was installed over it: the package decides */
			fc_info(ctx, "Keeping %s: it belongs to the package %s", path, pkg);
		} else if (ctx->dry_run) {
			fc_info(ctx, "Would remove %s", path);
			changed(ctx);
			removed++;
		} else {
			r = ctx->ops->fs.unlink(ctx->ops->fs.data, full, errbuf, errlen);
			if (r < 0)
				return r;
			fc_info(ctx, "Removed %s", path);
			changed(ctx);
			removed++;
		}
		cJSON_Delete(cJSON_DetachItemViaPointer(a, e));
		r = fc_commit(ctx, errbuf, errlen);
		if (r < 0)
			return r;
	}
	/* 3. directories we created, deepest first, only when empty */
	a = fc_state_array(ctx->state, phase, "dirs");
	size_t n = (size_t)cJSON_GetArraySize(a);
	if (n > 0) {
		const char **dirs = calloc(n, sizeof(*dirs));
		size_t k = 0;
		if (!dirs)
			return -ENOMEM;
		cJSON_ArrayForEach(e, a) if (cJSON_IsString(e)) dirs[k++] = e->valuestring;
		qsort(dirs, k, sizeof(*dirs), cmp_depth_desc);
		for (size_t i = 0; i < k; i++) {
			if (fc_path(ctx, dirs[i], full) < 0)
				continue;
			if (ctx->dry_run) {
				fc_info(ctx, "Would remove directory %s (if empty)", dirs[i]);
				continue;
			}
			if (rmdir(full) == 0) {
				fc_info(ctx, "Removed directory %s", dirs[i]);
				removed++;
				changed(ctx);
			} else if (errno == ENOTEMPTY || errno == EEXIST) {
				fc_info(ctx, "Keeping directory %s: not empty", dirs[i]);
			}
		}
		free(dirs);
		if (!ctx->dry_run)
			cJSON_DeleteItemFromObjectCaseSensitive(
				fc_state_phase(ctx->state, phase, false), "dirs");
	}
	r = fc_commit(ctx, errbuf, errlen);
	return r < 0 ? r : removed;
}
