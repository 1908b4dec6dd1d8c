/* SPDX-License-Identifier: Apache-2.0 */
/*
 * file_output: appends one alert per line. With keep_alive the descriptor stays open and out_reopen() (SIGHUP,
 * SIGUSR1) closes and reopens it so logrotate can move the file away; without keep_alive the file is opened for
 * each write (or each buffered batch) and closed again, as upstream does. Unbuffered writes to a regular file
 * batch the alerts already queued (out_sink.backlog): see out.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "out.h"
#include "out_sink_util.h"

struct file_sink {
	struct out_sink base;
	char *path;
	bool keep_alive;
	bool regular; /* the path was a regular file when last opened: unbuffered writes may batch a backlog */
	int fd;
	struct strbuf buf;
};

static int file_open_fd(struct file_sink *fs, char *errbuf, size_t errlen)
{
	if (fs->fd >= 0)
		return 0;
	fs->fd = open(fs->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640);
	if (fs->fd < 0)
		return errf(errbuf, errlen, -errno, "cannot open '%s': %s", fs->path,
			    strerror(errno));
	struct stat st;
	fs->regular = fstat(fs->fd, &st) == 0 && S_ISREG(st.st_mode);
	return 0;
}

static void file_close_fd(struct file_sink *fs)
{
	if (fs->fd >= 0)
		(void)close(fs->fd);
	fs->fd = -1;
}

static int file_open(struct out_sink *s, char *errbuf, size_t errlen)
{
	struct file_sink *fs = (struct file_sink *)s;
	int r = file_open_fd(fs, errbuf, errlen);
	/* without keep_alive, opening once up front only checks that the path is writable */
	if (!fs->keep_alive)
		file_close_fd(fs);
	return r;
}

/* Writes the buffer; current: called from the write of the last alert in it (which reports a failure itself). */
static int file_write_buf(struct file_sink *fs, bool current, char *errbuf, size_t errlen)
{
	int r;

	if (!fs->buf.len)
		return 0;
	r = file_open_fd(fs, errbuf, errlen);
	if (r >= 0) {
		r = out_write_all(fs->fd, fs->buf.buf, fs->buf.len);
		if (r < 0) {
			errf(errbuf, errlen, r, "cannot write to '%s': %s", fs->path, strerror(-r));
			/* a failed descriptor (deleted mount, EIO) gets a fresh open next time */
			file_close_fd(fs);
		}
	}
	strbuf_reset(&fs->buf);
	out_sink_settle(&fs->base, r, current);
	if (!fs->keep_alive)
		file_close_fd(fs);
	return r;
}

static int file_flush(struct out_sink *s, char *errbuf, size_t errlen)
{
	return file_write_buf((struct file_sink *)s, false, errbuf, errlen);
}

static int file_write(struct out_sink *s, const struct out_alert *a, char *errbuf, size_t errlen)
{
	struct file_sink *fs = (struct file_sink *)s;

	strbuf_append(&fs->buf, a->line, a->len);
	if (strbuf_appendc(&fs->buf, '\n') < 0) {
		strbuf_reset(&fs->buf);
		out_sink_settle(s, -ENOMEM, false);
		return errf(errbuf, errlen, -ENOMEM, "out of memory buffering '%s'", fs->path);
	}
	s->held++;
	if (fs->buf.len < OUT_SINK_BUF_FLUSH && (s->buffered || (s->backlog && fs->regular)))
		return 0;
	return file_write_buf(fs, true, errbuf, errlen);
}

static int file_reopen(struct out_sink *s, char *errbuf, size_t errlen)
{
	struct file_sink *fs = (struct file_sink *)s;
	int r = file_flush(s, errbuf, errlen);

	file_close_fd(fs);
	if (fs->keep_alive) {
		int r2 = file_open_fd(fs, errbuf, errlen);
		if (r2 < 0)
			return r2;
	}
	return r;
}

static void file_close(struct out_sink *s)
{
	struct file_sink *fs = (struct file_sink *)s;
	file_close_fd(fs);
	strbuf_done(&fs->buf);
	free(fs->path);
	free(fs);
}

static const struct out_sink_ops file_ops = {
	.name = "file",
	.open = file_open,
	.write = file_write,
	.flush = file_flush,
	.reopen = file_reopen,
	.close = file_close,
};

struct out_sink *out_file_new(const char *path, bool keep_alive, bool buffered)
{
	struct file_sink *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	fs->path = strdup(path);
	if (!fs->path) {
		free(fs);
		return NULL;
	}
	fs->base.ops = &file_ops;
	fs->base.buffered = buffered;
	fs->keep_alive = keep_alive;
	fs->fd = -1;
	strbuf_init(&fs->buf, 0);
	return &fs->base;
}
