/* SPDX-License-Identifier: Apache-2.0 */
/*
 * journald_output (ours): one structured journal entry per alert with sd_journal_sendv(), which writes a datagram
 * to /run/systemd/journal/socket (values may hold any byte, newlines included). The field layout is documented in
 * out.h; fields come from the alert record (out_alert.tags/fields), which the daemon attaches because this sink is
 * marked structured.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* no CODE_FILE/CODE_LINE/CODE_FUNC of ours on every alert */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include "common/sdl.h"

#include "common/err.h"
#include "common/strbuf.h"
#include "out.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* journald refuses field names longer than this */
#define JOURNAL_FIELD_MAX 64

struct journald_sink {
	struct out_sink base;
	struct strbuf buf; /* every "NAME=value" of one entry, back to back */
	size_t *offs;	   /* where each item starts in buf */
	struct iovec *iov;
	size_t cap;
};

int out_journald_field_name(const char *field, char *buf, size_t len)
{
	static const char prefix[] = "FALCO_FIELD_";
	size_t n = 0;

	if (len < JOURNAL_FIELD_MAX + 1)
		return -ENOSPC;
	memcpy(buf, prefix, STRLEN(prefix));
	n = STRLEN(prefix);
	for (const char *p = field; *p && n < JOURNAL_FIELD_MAX; p++) {
		char c = *p;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		else if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			c = '_';
		buf[n++] = c;
	}
	buf[n] = '\0';
	return (int)n;
}

static int add_item(struct journald_sink *js, size_t *n, const char *name, const char *value,
		    size_t vlen)
{
	if (*n == js->cap) {
		size_t ncap = js->cap ? js->cap * 2 : 32;
		size_t *no = realloc(js->offs, ncap * sizeof(*no));
		if (!no)
			return -ENOMEM;
		js->offs = no;
		struct iovec *ni = realloc(js->iov, ncap * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		js->iov = ni;
		js->cap = ncap;
	}
	js->offs[(*n)++] = js->buf.len;
	strbuf_appends(&js->buf, name);
	strbuf_appendc(&js->buf, '=');
	return strbuf_append(&js->buf, value, vlen);
}

static int journald_write(struct out_sink *s, const struct out_alert *a, char *errbuf,
			  size_t errlen)
{
	struct journald_sink *js = (struct journald_sink *)s;
	char prio[4], tbuf[48], fname[JOURNAL_FIELD_MAX + 1];
	size_t n = 0;
	int r;

	strbuf_reset(&js->buf);
	snprintf(prio, sizeof(prio), "%d", a->priority >= 0 && a->priority <= 7 ? a->priority : 4);
	if (out_fmt_time_utc(a->ts, tbuf, sizeof(tbuf)) < 0)
		tbuf[0] = '\0';
	const char *pname = out_priority_name(a->priority);
	add_item(js, &n, "MESSAGE", a->line, a->len);
	add_item(js, &n, "PRIORITY", prio, strlen(prio));
	add_item(js, &n, "SYSLOG_IDENTIFIER", "falco", 5);
	add_item(js, &n, "FALCO_RULE", a->rule, strlen(a->rule));
	add_item(js, &n, "FALCO_PRIORITY", pname, strlen(pname));
	add_item(js, &n, "FALCO_SOURCE", a->source, strlen(a->source));
	add_item(js, &n, "FALCO_TIME", tbuf, strlen(tbuf));
	/* tags joined by commas (a tag never holds one in practice; the list stays readable) */
	r = add_item(js, &n, "FALCO_TAGS", "", 0);
	for (size_t i = 0; r >= 0 && i < a->ntags; i++) {
		if (i)
			strbuf_appendc(&js->buf, ',');
		r = strbuf_appends(&js->buf, a->tags[i]);
	}
	for (size_t i = 0; r >= 0 && i < a->nfields; i++) {
		if (out_journald_field_name(a->fields[i].key, fname, sizeof(fname)) < 0)
			continue;
		const char *v = a->fields[i].value ? a->fields[i].value : "<NA>";
		r = add_item(js, &n, fname, v, strlen(v));
	}
	if (r < 0 || js->buf.failed)
		return errf(errbuf, errlen, -ENOMEM, "out of memory building a journal entry");
	/* buf may have moved while growing: point the iovecs at it only now */
	for (size_t i = 0; i < n; i++) {
		size_t end = i + 1 < n ? js->offs[i + 1] : js->buf.len;
		js->iov[i].iov_base = js->buf.buf + js->offs[i];
		js->iov[i].iov_len = end - js->offs[i];
	}
	/* sd_journal_sendv() reports success when there is no journal at all: tell that case apart */
	if (access(JOURNAL_SOCKET, W_OK) < 0)
		return errf(errbuf, errlen, -errno, "cannot send to the journal: %s: %s",
			    JOURNAL_SOCKET, strerror(errno));
	r = sdl_journal_sendv(js->iov, (int)n);
	if (r < 0)
		return errf(errbuf, errlen, r, "cannot send to the journal: %s", strerror(-r));
	return 0;
}

static void journald_close(struct out_sink *s)
{
	struct journald_sink *js = (struct journald_sink *)s;
	strbuf_done(&js->buf);
	free(js->offs);
	free(js->iov);
	free(js);
}

static const struct out_sink_ops journald_ops = {
	.name = "journald",
	.write = journald_write,
	.close = journald_close,
};

struct out_sink *out_journald_new(void)
{
	struct journald_sink *js = calloc(1, sizeof(*js));
	if (!js)
		return NULL;
	js->base.ops = &journald_ops;
	js->base.structured = true;
	strbuf_init(&js->buf, 0);
	return &js->base;
}
