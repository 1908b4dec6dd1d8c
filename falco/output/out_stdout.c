/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stdout_output: one alert per line on file descriptor 1, written with write(2) from the sink's worker. When
 * stdout is a regular file, an unbuffered sink batches the alerts already queued into one write, like the file
 * sink (out.h); to a pipe, socket or terminal each alert is one writev.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "common/err.h"
#include "out.h"
#include "out_sink_util.h"

struct stdout_sink {
	struct out_sink base;
	bool regular;	   /* fd 1 is a regular file (checked at creation) */
	struct strbuf buf; /* buffered mode, or a backlog held back for a regular file */
};

/* Writes the buffer; current: called from the write of the last alert in it (which reports a failure itself). */
static int stdout_write_buf(struct stdout_sink *ss, bool current, char *errbuf, size_t errlen)
{
	if (!ss->buf.len)
		return 0;
	int r = out_write_all(STDOUT_FILENO, ss->buf.buf, ss->buf.len);
	strbuf_reset(&ss->buf);
	out_sink_settle(&ss->base, r, current);
	if (r < 0)
		return errf(errbuf, errlen, r, "cannot write to stdout: %s", strerror(-r));
	return 0;
}

static int stdout_flush(struct out_sink *s, char *errbuf, size_t errlen)
{
	return stdout_write_buf((struct stdout_sink *)s, false, errbuf, errlen);
}

static int stdout_write(struct out_sink *s, const struct out_alert *a, char *errbuf, size_t errlen)
{
	struct stdout_sink *ss = (struct stdout_sink *)s;

	if (s->buffered || (ss->regular && (s->backlog || ss->buf.len))) {
		strbuf_append(&ss->buf, a->line, a->len);
		if (strbuf_appendc(&ss->buf, '\n') < 0) {
			strbuf_reset(&ss->buf);
			out_sink_settle(s, -ENOMEM, false);
			return errf(errbuf, errlen, -ENOMEM, "out of memory buffering stdout");
		}
		s->held++;
		/* unbuffered: what is held goes out with the alert that empties the queue */
		if (ss->buf.len >= OUT_SINK_BUF_FLUSH || (!s->buffered && !s->backlog))
			return stdout_write_buf(ss, true, errbuf, errlen);
		return 0;
	}
	/* one writev per alert keeps a line whole even when other writers share the descriptor */
	struct iovec iov[2] = {{(void *)a->line, a->len}, {(void *)"\n", 1}};
	size_t total = a->len + 1, done = 0;
	while (done < total) {
		ssize_t n = writev(STDOUT_FILENO, iov, 2);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errf(errbuf, errlen, -errno, "cannot write to stdout: %s",
				    strerror(errno));
		}
		done += (size_t)n;
		/* short write: continue with what is left */
		for (int i = 0; i < 2 && n > 0; i++) {
			size_t take = (size_t)n < iov[i].iov_len ? (size_t)n : iov[i].iov_len;
			iov[i].iov_base = (char *)iov[i].iov_base + take;
			iov[i].iov_len -= take;
			n -= (ssize_t)take;
		}
	}
	return 0;
}

static void stdout_close(struct out_sink *s)
{
	struct stdout_sink *ss = (struct stdout_sink *)s;
	strbuf_done(&ss->buf);
	free(ss);
}

static const struct out_sink_ops stdout_ops = {
	.name = "stdout",
	.write = stdout_write,
	.flush = stdout_flush,
	.close = stdout_close,
};

struct out_sink *out_stdout_new(bool buffered)
{
	struct stdout_sink *ss = calloc(1, sizeof(*ss));
	if (!ss)
		return NULL;
	ss->base.ops = &stdout_ops;
	ss->base.buffered = buffered;
	struct stat st;
	ss->regular = fstat(STDOUT_FILENO, &st) == 0 && S_ISREG(st.st_mode);
	strbuf_init(&ss->buf, 0);
	return &ss->base;
}
