/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replay of audit events from a file (falco -e): JSON lines, one payload per line, as upstream's file source.
 * Extensions: a file whose first line is not a JSON document alone is tried as one document (kubectl-style
 * pretty-printed EventList), malformed lines are reported with their line number and skipped, too-long lines are
 * skipped rather than ending the replay, and a directory replays its regular files in mtime order.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/macro.h"
#include "k8saudit_internal.h"

#define DEFAULT_MAX_LINE  (64u * 1024)
#define MAX_DOCUMENT_SIZE (256u << 20) /* one JSON document spanning a file */
#define MAX_DIR_FILES	  100000u

struct k8s_replay {
	struct k8s_parse_opts user; /* the caller's options (on_error forwarded) */
	struct k8s_parse_opts opts; /* ours: on_error prefixes FILE:LINE */
	size_t max_line;
	size_t errors;

	char **files;
	size_t nfiles, cur;
	bool from_dir;

	/* current file */
	int fd;
	const char *path;
	unsigned lineno; /* of the line being parsed (0 = whole document) */
	bool probed;	 /* first line checked for the one-document form */
	bool skipping;	 /* discarding the rest of a too-long line */
	bool eof;
	char *buf;
	size_t cap, start, end;
};

static void replay_report(void *ud, const char *msg)
{
	struct k8s_replay *r = ud;
	char line[768];

	r->errors++;
	if (!r->user.on_error)
		return;
	if (r->lineno)
		snprintf(line, sizeof(line), "%s:%u: %s", r->path, r->lineno, msg);
	else
		snprintf(line, sizeof(line), "%s: %s", r->path, msg);
	r->user.on_error(r->user.ud, line);
}

static void replay_reportf(struct k8s_replay *r, const char *fmt, ...) _printf_(2, 3);
static void replay_reportf(struct k8s_replay *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	replay_report(r, msg);
}

struct dir_entry {
	char *path;
	struct timespec mtime;
};

static int cmp_mtime(const void *a, const void *b)
{
	const struct dir_entry *x = a, *y = b;

	if (x->mtime.tv_sec != y->mtime.tv_sec)
		return x->mtime.tv_sec < y->mtime.tv_sec ? -1 : 1;
	if (x->mtime.tv_nsec != y->mtime.tv_nsec)
		return x->mtime.tv_nsec < y->mtime.tv_nsec ? -1 : 1;
	return strcmp(x->path, y->path);
}

/* The regular files of dir, oldest first (as upstream: mtime order). */
static int list_dir(struct k8s_replay *r, const char *dir, char *errbuf, size_t errlen)
{
	struct dir_entry *ents = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int ret = 0;

	DIR *d = opendir(dir);
	if (!d)
		return errf(errbuf, errlen, -errno, "can't open directory '%s': %s", dir,
			    strerror(errno));
	while ((de = readdir(d))) {
		struct stat st;
		char *p;

		if (streq(de->d_name, ".") || streq(de->d_name, ".."))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			ret = -ENOMEM;
			break;
		}
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode)) {
			free(p);
			continue;
		}
		if (n == cap) {
			if (cap >= MAX_DIR_FILES) {
				free(p);
				ret = errf(errbuf, errlen, -E2BIG, "too many files in '%s'", dir);
				break;
			}
			cap = cap ? cap * 2 : 16;
			struct dir_entry *ne = realloc(ents, cap * sizeof(*ents));
			if (!ne) {
				free(p);
				ret = -ENOMEM;
				break;
			}
			ents = ne;
		}
		ents[n++] = (struct dir_entry){.path = p, .mtime = st.st_mtim};
	}
	closedir(d);
	if (ret == 0) {
		if (n) /* an empty directory leaves ents NULL, which qsort must not get */
			qsort(ents, n, sizeof(*ents), cmp_mtime);
		r->files = calloc(n ? n : 1, sizeof(char *));
		if (!r->files)
			ret = -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		if (ret == 0)
			r->files[i] = ents[i].path;
		else
			free(ents[i].path);
	}
	if (ret == 0)
		r->nfiles = n;
	free(ents);
	return ret;
}

struct k8s_replay *k8s_replay_close(struct k8s_replay *r)
{
	if (!r)
		return NULL;
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->nfiles; i++)
		free(r->files[i]);
	free(r->files);
	free(r->buf);
	free(r);
	return NULL;
}

int k8s_replay_open(const char *path, const struct k8s_parse_opts *opts, struct k8s_replay **ret,
		    char *errbuf, size_t errlen)
{
	struct k8s_replay *r;
	struct stat st;
	int err;

	if (stat(path, &st) < 0)
		return errf(errbuf, errlen, -errno, "can't open '%s': %s", path, strerror(errno));
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = -1;
	if (opts)
		r->user = *opts;
	r->opts = r->user;
	r->opts.on_error = replay_report;
	r->opts.ud = r;
	r->max_line = MAX((size_t)DEFAULT_MAX_LINE,
			  r->user.max_event_size ? r->user.max_event_size : 256u * 1024);

	if (S_ISDIR(st.st_mode)) {
		r->from_dir = true;
		err = list_dir(r, path, errbuf, errlen);
		if (err < 0) {
			k8s_replay_close(r);
			return err;
		}
	} else {
		r->files = calloc(1, sizeof(char *));
		if (!r->files || !(r->files[0] = strdup(path))) {
			k8s_replay_close(r);
			return -ENOMEM;
		}
		r->nfiles = 1;
	}
	/* a line of max_line bytes plus its newline fits, with room to read ahead */
	r->cap = r->max_line + 64 * 1024;
	r->buf = malloc(r->cap);
	if (!r->buf) {
		k8s_replay_close(r);
		return -ENOMEM;
	}
	/* open the first file now, so a missing or unreadable file fails here rather than mid-replay */
	if (r->nfiles > 0) {
		r->fd = open(r->files[0], O_RDONLY | O_CLOEXEC);
		if (r->fd < 0) {
			err = errf(errbuf, errlen, -errno, "can't open '%s': %s", r->files[0],
				   strerror(errno));
			k8s_replay_close(r);
			return err;
		}
		r->path = r->files[0];
	}
	*ret = r;
	return 0;
}

size_t k8s_replay_errors(const struct k8s_replay *r)
{
	return r ? r->errors : 0;
}

/* Moves to the next file of the list. Returns 1, 0 when there is none, -errno. */
static int next_file(struct k8s_replay *r, char *errbuf, size_t errlen)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	if (++r->cur >= r->nfiles)
		return 0;
	r->path = r->files[r->cur];
	r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return errf(errbuf, errlen, -errno, "can't open '%s': %s", r->path,
			    strerror(errno));
	r->lineno = 0;
	r->probed = r->skipping = r->eof = false;
	r->start = r->end = 0;
	return 1;
}

/*
 * Next line of the current file (without "\n" or "\r\n"), NUL-terminated in place. Lines longer than max_line
 * are reported and skipped. Returns 1 with *ret_line, 0 at end of file, -errno on a read error.
 */
static int next_line(struct k8s_replay *r, char **ret_line, size_t *ret_len, char *errbuf,
		     size_t errlen)
{
	for (;;) {
		char *s = r->buf + r->start;
		char *nl = memchr(s, '\n', r->end - r->start);

		if (nl || (r->eof && r->end > r->start)) {
			size_t len = nl ? (size_t)(nl - s) : r->end - r->start;
			r->start = nl ? (size_t)(nl + 1 - r->buf) : r->end;
			if (r->skipping) {
				/* the tail of a too-long line */
				r->skipping = false;
				continue;
			}
			r->lineno++;
			if (len > r->max_line) {
				replay_reportf(r, "line too long (%zu bytes, at most %zu), skipped",
					       len, r->max_line);
				continue;
			}
			if (len > 0 && s[len - 1] == '\r')
				len--;
			s[len] = '\0';
			*ret_line = s;
			*ret_len = len;
			return 1;
		}
		if (r->eof)
			return 0;
		if (r->end - r->start > r->max_line) {
			/* no newline within max_line bytes: report once, then discard up to the next newline */
			if (!r->skipping) {
				r->lineno++;
				replay_reportf(r, "line too long (more than %zu bytes), skipped",
					       r->max_line);
				r->skipping = true;
			}
			r->start = r->end = 0;
		}
		if (r->start > 0) {
			memmove(r->buf, r->buf + r->start, r->end - r->start);
			r->end -= r->start;
			r->start = 0;
		}
		ssize_t n = read(r->fd, r->buf + r->end, r->cap - r->end - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errf(errbuf, errlen, -errno, "can't read '%s': %s", r->path,
				    strerror(errno));
		}
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r')
			return false;
	return true;
}

/*
 * True when some line of doc is a JSON object or array by itself: the file is JSON lines, maybe with bad ones.
 * (Inside a pretty-printed document a line can be a lone string or number, never a whole object.)
 */
static bool any_line_is_json(const char *doc, size_t len)
{
	const char *p = doc, *end = doc + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		size_t i = 0;
		while (i < n && (p[i] == ' ' || p[i] == '\t'))
			i++;
		if (i < n && (p[i] == '{' || p[i] == '[')) {
			struct arena a;
			cJSON *root;
			size_t off;
			arena_init(&a, MAX((size_t)4096, n * 5 + 1024), 0);
			int q = json_parse_arena(p, n, &a, &root, &off);
			arena_done(&a);
			if (q == 0)
				return true;
		}
		p += n + 1;
	}
	return false;
}

/* Reports a document's syntax error at its line and column (offset = where the parser stopped). */
static void report_document_error(struct k8s_replay *r, const char *doc, size_t len, size_t off)
{
	unsigned line = 1, col = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		if (doc[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	unsigned saved = r->lineno;
	r->lineno = line;
	replay_reportf(
		r,
		"invalid JSON document: syntax error at column %u; none of the file was replayed",
		col);
	r->lineno = saved;
}

/*
 * Called on the first non-blank line of a file: when it is not a JSON document by itself, the file may be one
 * document spread over many lines. Returns 1 with *ret when the whole file parsed that way, 0 to go on with
 * lines, -errno.
 */
static int try_whole_document(struct k8s_replay *r, const char *line, size_t len,
			      struct k8s_batch **ret)
{
	char err[256] = "";
	struct k8s_batch *b = NULL;
	size_t doclen;
	int q;

	q = k8s_batch_parse(line, len, NULL, &b, NULL, err, sizeof(err));
	k8s_batch_free(b);
	if (q == 0 || !startswith(err, "invalid JSON"))
		return 0;

	_cleanup_free_ char *doc = NULL;
	if (read_file(r->path, MAX_DOCUMENT_SIZE, &doc, &doclen, err, sizeof(err)) < 0)
		return 0;
	/* parse quietly first: if the file is not one document after all, its lines get reported instead */
	b = NULL;
	q = k8s_batch_parse(doc, doclen, NULL, &b, NULL, err, sizeof(err));
	k8s_batch_free(b);
	if (q < 0 && startswith(err, "invalid JSON")) {
		size_t off;
		/* no line stands alone either: a broken multi-line document gets one error, not one per line */
		if (sscanf(err, "invalid JSON: syntax error at offset %zu", &off) == 1 &&
		    !any_line_is_json(doc, doclen)) {
			report_document_error(r, doc, doclen, off);
			return 2;
		}
		return 0;
	}
	unsigned saved = r->lineno;
	r->lineno = 0;
	q = k8s_batch_parse(doc, doclen, &r->opts, ret, NULL, err, sizeof(err));
	r->lineno = saved;
	return q < 0 ? 2 : 1;
}

int k8s_replay_next(struct k8s_replay *r, struct k8s_batch **ret, char *errbuf, size_t errlen)
{
	if (r->nfiles == 0 || r->cur >= r->nfiles)
		return 0;
	for (;;) {
		char *line = NULL;
		size_t len = 0;
		int q = r->fd >= 0 ? next_line(r, &line, &len, errbuf, errlen) : 0;

		if (q < 0)
			return q;
		if (q == 0) {
			q = next_file(r, errbuf, errlen);
			if (q <= 0)
				return q;
			continue;
		}
		if (blank(line, len))
			continue;
		if (!r->probed) {
			r->probed = true;
			q = try_whole_document(r, line, len, ret);
			if (q > 0) {
				/* the file was consumed as one document (2: it was rejected and reported) */
				r->eof = true;
				r->start = r->end = 0;
				if (q == 2 || (*ret)->n == 0) {
					if (q == 1)
						*ret = k8s_batch_free(*ret);
					continue;
				}
				return 1;
			}
		}
		struct k8s_batch *b = NULL;
		if (k8s_batch_parse(line, len, &r->opts, &b, NULL, NULL, 0) < 0)
			continue; /* reported through on_error */
		if (b->n == 0) {
			k8s_batch_free(b);
			continue;
		}
		*ret = b;
		return 1;
	}
}
