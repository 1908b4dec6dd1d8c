/* SPDX-License-Identifier: Apache-2.0 */
/* Reading falco's journal: the tail for error messages, and waiting for the self-test alert. Non-logging. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <systemd/sd-journal.h>

#include "common/strbuf.h"
#include "install.h"

static int field(sd_journal *j, const char *name, char *out, size_t outlen)
{
	const void *data;
	size_t len, nl = strlen(name);
	int r = sd_journal_get_data(j, name, &data, &len);
	if (r < 0)
		return r;
	/* data is "NAME=value" */
	if (len <= nl + 1)
		return -ENODATA;
	snprintf(out, outlen, "%.*s", (int)MIN(len - nl - 1, outlen - 1),
		 (const char *)data + nl + 1);
	return 0;
}

static int open_unit(const char *unit, sd_journal **ret)
{
	char m[256];
	sd_journal *j = NULL;
	int r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
	if (r < 0)
		return r;
	snprintf(m, sizeof(m), "_SYSTEMD_UNIT=%s", unit);
	r = sd_journal_add_match(j, m, 0);
	if (r >= 0)
		r = sd_journal_add_disjunction(j);
	if (r >= 0)
		r = sd_journal_add_match(j, "SYSLOG_IDENTIFIER=falco", 0);
	if (r < 0) {
		sd_journal_close(j);
		return r;
	}
	sd_journal_set_data_threshold(j, 64 << 10);
	*ret = j;
	return 0;
}

int fc_journal_tail(const char *unit, unsigned n, struct strbuf *out)
{
	sd_journal *j = NULL;
	char msg[1024];
	int r = open_unit(unit, &j);
	if (r < 0)
		return r;
	r = sd_journal_seek_tail(j);
	unsigned back = 0;
	while (r >= 0 && back < n && sd_journal_previous(j) > 0)
		back++;
	for (unsigned i = 0; r >= 0 && i < back; i++) {
		if (field(j, "MESSAGE", msg, sizeof(msg)) == 0)
			strbuf_appendf(out, "\n    %s", msg);
		if (sd_journal_next(j) <= 0)
			break;
	}
	sd_journal_close(j);
	return r < 0 ? r : 0;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* One reading handle: from since_usec on, following new entries until the monotonic deadline_ms. */
static int follow(const char *unit, uint64_t since_usec, const char *match, uint64_t deadline_ms,
		  char *out, size_t outlen)
{
	sd_journal *j = NULL;
	char msg[8192], rule[512];
	int r = open_unit(unit, &j);
	if (r < 0)
		return r;
	r = sd_journal_seek_realtime_usec(j, since_usec);
	while (r >= 0) {
		int k = sd_journal_next(j);
		if (k < 0) {
			r = k;
			break;
		}
		if (k > 0) {
			uint64_t ts = 0;
			if (sd_journal_get_realtime_usec(j, &ts) < 0 || ts < since_usec)
				continue;
			bool hit = (field(j, "MESSAGE", msg, sizeof(msg)) == 0 &&
				    fc_match_any(msg, match)) ||
				   (field(j, "FALCO_RULE", rule, sizeof(rule)) == 0 &&
				    fc_match_any(rule, match));
			if (hit) {
				snprintf(out, outlen, "%s", msg);
				r = 1;
				break;
			}
			continue;
		}
		uint64_t now = mono_ms();
		if (now >= deadline_ms) {
			r = 0;
			break;
		}
		k = sd_journal_wait(j, (uint64_t)MIN(deadline_ms - now, 250u) * 1000u);
		if (k < 0) {
			r = k;
			break;
		}
	}
	sd_journal_close(j);
	return r;
}

int fc_journal_wait(const char *unit, uint64_t since_usec, const char *match, unsigned timeout_ms,
		    char *out, size_t outlen)
{
	uint64_t deadline = mono_ms() + timeout_ms;
	/*
	 * A handle follows the journal for at most a second, then a fresh one reads again from since_usec. Following
	 * depends on inotify and on the reader's position surviving journald's file changes (rotation, the flush
	 * from /run to /var); a fresh handle depends on neither, so an entry a handle failed to see is found within a
	 * second. The re-read costs a few entries: only what was logged since the action.
	 */
	for (;;) {
		uint64_t now = mono_ms();
		int r = follow(unit, since_usec, match, MIN(deadline, now + 1000), out, outlen);
		if (r != 0 || mono_ms() >= deadline)
			return r;
	}
}
