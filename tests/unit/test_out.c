/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for falco/output/out.c and the file sink: fan-out, per-sink overflow counting, reopen, shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "common/strbuf.h"
#include "falco/output/out.h"

/* A sink that records what it gets; can be made to block until released. */
struct rec_sink {
	struct out_sink base;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool block;
	bool blocked_now;
	struct strbuf log; /* "W:line\n", "R\n" (reopen), "F\n" (flush) */
	bool *closed;
};

static int errf_fail(char *errbuf, size_t errlen)
{
	snprintf(errbuf, errlen, "write failed on purpose");
	return -EIO;
}

static int rec_write(struct out_sink *s, const struct out_alert *a, char *errbuf, size_t errlen)
{
	struct rec_sink *r = (struct rec_sink *)s;
	pthread_mutex_lock(&r->lock);
	while (r->block) {
		r->blocked_now = true;
		pthread_cond_broadcast(&r->cond);
		pthread_cond_wait(&r->cond, &r->lock);
	}
	r->blocked_now = false;
	strbuf_appendf(&r->log, "W:%s\n", a->line);
	pthread_mutex_unlock(&r->lock);
	return strcmp(a->line, "fail") == 0 ? errf_fail(errbuf, errlen) : 0;
}

static int rec_reopen(struct out_sink *s, char *errbuf, size_t errlen)
{
	struct rec_sink *r = (struct rec_sink *)s;
	pthread_mutex_lock(&r->lock);
	strbuf_appends(&r->log, "R\n");
	pthread_mutex_unlock(&r->lock);
	return 0;
}

static void rec_close(struct out_sink *s)
{
	struct rec_sink *r = (struct rec_sink *)s;
	if (r->closed)
		__atomic_store_n(r->closed, true, __ATOMIC_RELEASE);
}

static const struct out_sink_ops rec_ops = {
	.name = "rec",
	.write = rec_write,
	.reopen = rec_reopen,
	.close = rec_close,
};

static void rec_init(struct rec_sink *r, bool *closed)
{
	memset(r, 0, sizeof(*r));
	r->base.ops = &rec_ops;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	strbuf_init(&r->log, 0);
	r->closed = closed;
}

static void rec_done(struct rec_sink *r)
{
	strbuf_done(&r->log);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
}

static void push_line(struct outputs *o, const char *line, int expect_full)
{
	struct out_alert *a = out_alert_new(4, 1, false, "r", "s", line, strlen(line));
	assert_non_null(a);
	assert_int_equal(out_push(o, a), expect_full);
	out_alert_unref(a);
}

static void wait_blocked(struct rec_sink *r)
{
	pthread_mutex_lock(&r->lock);
	while (!r->blocked_now)
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

static void wait_written(struct outputs *o, size_t i, uint64_t n)
{
	struct out_stats st;
	for (;;) {
		out_stats(o, i, &st);
		if (st.written >= n)
			return;
		usleep(1000);
	}
}

static void release(struct rec_sink *r)
{
	pthread_mutex_lock(&r->lock);
	r->block = false;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

struct err_log {
	pthread_mutex_t lock;
	int n;
	char last[256];
};

static void on_error(void *ud, const char *sink, const char *msg)
{
	struct err_log *e = ud;
	pthread_mutex_lock(&e->lock);
	e->n++;
	snprintf(e->last, sizeof(e->last), "%s: %s", sink, msg);
	pthread_mutex_unlock(&e->lock);
}

/* defer_wake: how many times out_push asked, and what it answers */
struct defer_log {
	int calls;
	bool answer;
};

static bool defer_cb(void *ud)
{
	struct defer_log *d = ud;
	d->calls++;
	return d->answer;
}

static uint64_t written_now(struct outputs *o)
{
	struct out_stats st;
	out_stats(o, 0, &st);
	return st.written;
}

/*
 * With defer_wake, alerts pushed while the worker sleeps wait for out_kick() (one request per batch, however
 * many alerts), except that a half-full queue wakes the worker at once; a false answer wakes it at once too.
 */
static void test_deferred_wake(void **state)
{
	struct defer_log dl = {.answer = true};
	struct out_options opts = {.queue_capacity = 8, .defer_wake = defer_cb, .ud = &dl};
	struct outputs *o = out_new(&opts);
	struct rec_sink r;

	rec_init(&r, NULL);
	assert_int_equal(out_add_sink(o, &r.base), 0);
	push_line(o, "first", 0);
	out_kick(o);
	wait_written(o, 0, 1);
	usleep(20000); /* the worker goes back to sleep */

	int before = dl.calls;
	push_line(o, "x", 0);
	push_line(o, "y", 0);
	assert_int_equal(dl.calls, before + 1); /* one request outstanding for the whole batch */
	usleep(50000);
	assert_int_equal(written_now(o), 1); /* nobody woke the worker */
	out_kick(o);
	wait_written(o, 0, 3);
	usleep(20000);

	/* 4 of 8 queued: the 4th push wakes the worker without a kick */
	for (int i = 0; i < 4; i++)
		push_line(o, "burst", 0);
	wait_written(o, 0, 7);
	usleep(20000);

	/* the owner cannot defer (another thread): woken at once */
	dl.answer = false;
	out_kick(o); /* clears the request left by the burst */
	push_line(o, "now", 0);
	wait_written(o, 0, 8);

	out_free(o, 1000, NULL);
	pthread_mutex_lock(&r.lock);
	assert_string_equal(strbuf_str(&r.log),
			    "W:first\nW:x\nW:y\nW:burst\nW:burst\nW:burst\nW:burst\nW:now\n");
	pthread_mutex_unlock(&r.lock);
	rec_done(&r);
}

static void test_fanout_order_and_reopen(void **state)
{
	struct rec_sink a, b;
	bool ca = false, cb = false;
	struct err_log el = {PTHREAD_MUTEX_INITIALIZER, 0, ""};
	struct out_options opts = {.queue_capacity = 64, .on_error = on_error, .ud = &el};
	struct out_stats st[2];

	rec_init(&a, &ca);
	rec_init(&b, &cb);
	struct outputs *o = out_new(&opts);
	assert_int_equal(out_add_sink(o, &a.base), 0);
	assert_int_equal(out_add_sink(o, &b.base), 0);
	assert_int_equal(out_count(o), 2);
	push_line(o, "one", 0);
	push_line(o, "two", 0);
	out_reopen(o);
	push_line(o, "three", 0);
	push_line(o, "fail", 0);
	out_free(o, 2000, st);
	assert_true(ca && cb);
	assert_string_equal(strbuf_str(&a.log), "W:one\nW:two\nR\nW:three\nW:fail\n");
	assert_string_equal(strbuf_str(&b.log), strbuf_str(&a.log));
	assert_int_equal(st[0].written, 3);
	assert_int_equal(st[0].errors, 1);
	assert_int_equal(st[0].dropped, 0);
	assert_int_equal(el.n, 2);
	assert_string_equal(el.last, "rec: write failed on purpose");
	rec_done(&a);
	rec_done(&b);
}

static void test_overflow_is_per_sink(void **state)
{
	struct rec_sink slow, fast;
	struct out_options opts = {.queue_capacity = 2};
	struct out_stats st[2];

	rec_init(&slow, NULL);
	rec_init(&fast, NULL);
	slow.block = true;
	struct outputs *o = out_new(&opts);
	assert_int_equal(out_add_sink(o, &slow.base), 0);
	assert_int_equal(out_add_sink(o, &fast.base), 0);
	push_line(o, "a", 0);
	wait_blocked(&slow); /* "a" is in the slow sink's write; its queue is empty again */
	wait_written(o, 1, 1);
	push_line(o, "b", 0);
	push_line(o, "c", 0);
	/* the slow queue holds b, c; d and e overflow it while the fast sink keeps up */
	wait_written(o, 1, 3);
	push_line(o, "d", 1);
	push_line(o, "e", 1);
	out_stats(o, 0, &st[0]);
	assert_int_equal(st[0].dropped, 2);
	assert_int_equal(st[0].queued, 2);
	release(&slow);
	out_free(o, 2000, st);
	assert_string_equal(strbuf_str(&slow.log), "W:a\nW:b\nW:c\n");
	assert_string_equal(strbuf_str(&fast.log), "W:a\nW:b\nW:c\nW:d\nW:e\n");
	assert_int_equal(st[0].dropped, 2);
	assert_int_equal(st[1].dropped, 0);
	assert_int_equal(st[1].written, 5);
	rec_done(&slow);
	rec_done(&fast);
}

static void test_shutdown_gives_up_on_blocked_sink(void **state)
{
	static struct rec_sink
		stuck; /* outlives the test: the abandoned worker still points at it */
	static bool closed;
	struct out_options opts = {.queue_capacity = 8};
	struct out_stats st;

	rec_init(&stuck, &closed);
	stuck.block = true;
	struct outputs *o = out_new(&opts);
	assert_int_equal(out_add_sink(o, &stuck.base), 0);
	push_line(o, "x", 0);
	wait_blocked(&stuck);
	push_line(o, "y", 0);
	push_line(o, "z", 0);
	out_free(o, 100, &st);
	assert_int_equal(st.discarded, 2);
	assert_int_equal(st.written, 0);
	/* once released, the worker frees the channel it was handed and closes the sink */
	release(&stuck);
	while (!__atomic_load_n(&closed, __ATOMIC_ACQUIRE))
		usleep(1000);
}

static void test_file_sink_append_and_reopen(void **state)
{
	char dir[] = "/tmp/test_out.XXXXXX", path[64], rotated[64];
	char *buf = NULL;
	size_t len;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/events.txt", dir);
	snprintf(rotated, sizeof(rotated), "%s/events.txt.1", dir);
	for (int keep_alive = 1; keep_alive >= 0; keep_alive--) {
		FILE *f = fopen(path, "w");
		fputs("old\n", f);
		fclose(f);
		struct outputs *o = out_new(NULL);
		assert_int_equal(out_add_sink(o, out_file_new(path, keep_alive, false)), 0);
		push_line(o, "first", 0);
		/* wait until written, then rotate like logrotate and ask for a reopen */
		wait_written(o, 0, 1);
		assert_int_equal(rename(path, rotated), 0);
		out_reopen(o);
		push_line(o, "second", 0);
		out_free(o, 2000, NULL);

		assert_int_equal(read_file(rotated, 1 << 20, &buf, &len, NULL, 0), 0);
		assert_string_equal(buf, "old\nfirst\n");
		free(buf);
		assert_int_equal(read_file(path, 1 << 20, &buf, &len, NULL, 0), 0);
		assert_string_equal(buf, "second\n");
		free(buf);
		(void)unlink(rotated);
	}

	/* buffered: everything arrives, in order */
	struct outputs *o = out_new(NULL);
	assert_int_equal(out_add_sink(o, out_file_new(path, true, true)), 0);
	for (int i = 0; i < 100; i++) {
		char l[16];
		snprintf(l, sizeof(l), "l%d", i);
		push_line(o, l, 0);
	}
	out_free(o, 2000, NULL);
	assert_int_equal(read_file(path, 1 << 20, &buf, &len, NULL, 0), 0);
	assert_true(strncmp(buf, "second\nl0\nl1\n", 13) == 0);
	assert_non_null(strstr(buf, "l98\nl99\n"));
	free(buf);

	/* an unwritable path is reported, not fatal */
	struct err_log el = {PTHREAD_MUTEX_INITIALIZER, 0, ""};
	struct out_options opts = {.on_error = on_error, .ud = &el};
	struct out_stats st;
	o = out_new(&opts);
	assert_int_equal(out_add_sink(o, out_file_new("/nonexistent/dir/x.txt", true, false)), 0);
	for (int i = 0; i < 5; i++)
		push_line(o, "lost", 0);
	out_free(o, 2000, &st);
	assert_int_equal(st.errors, 6); /* the open, then every write */
	/* reported at the 1st, 2nd and 4th failure in a row, not at every one */
	assert_int_equal(el.n, 3);
	assert_non_null(strstr(el.last, "file: cannot open '/nonexistent/dir/x.txt'"));
	assert_non_null(strstr(el.last, "(failure 4 in a row)"));

	(void)unlink(path);
	(void)rmdir(dir);
}

static void write_alert(struct out_sink *s, size_t backlog, const char *line)
{
	char err[256];
	struct out_alert *a = out_alert_new(4, 1, false, "r", "s", line, strlen(line));

	assert_non_null(a);
	s->backlog = backlog;
	assert_int_equal(s->ops->write(s, a, err, sizeof(err)), 0);
	out_alert_unref(a);
}

static char *slurp(const char *path)
{
	char *buf = NULL;
	size_t len;

	assert_int_equal(read_file(path, 1 << 24, &buf, &len, NULL, 0), 0);
	return buf;
}

/* Unbuffered to a regular file: a backlog is held back and goes out with the alert that empties the queue. */
static void test_file_sink_batches_a_backlog(void **state)
{
	char dir[] = "/tmp/test_out.XXXXXX", path[64], fifo[64], err[256], got[64];
	char *buf;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/events.txt", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);

	/* the sink alone: held while alerts are queued behind, written when the last one comes */
	struct out_sink *s = out_file_new(path, true, false);
	assert_int_equal(s->ops->open(s, err, sizeof(err)), 0);
	write_alert(s, 2, "a");
	write_alert(s, 1, "b");
	buf = slurp(path);
	assert_string_equal(buf, "");
	free(buf);
	write_alert(s, 0, "c");
	buf = slurp(path);
	assert_string_equal(buf, "a\nb\nc\n");
	free(buf);
	/* no backlog: at once */
	write_alert(s, 0, "d");
	buf = slurp(path);
	assert_string_equal(buf, "a\nb\nc\nd\n");
	free(buf);
	s->ops->close(s);

	/* a FIFO is not a regular file: one write per alert, backlog or not */
	assert_int_equal(mkfifo(fifo, 0600), 0);
	int rd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	assert_true(rd >= 0);
	s = out_file_new(fifo, true, false);
	assert_int_equal(s->ops->open(s, err, sizeof(err)), 0);
	write_alert(s, 5, "x");
	assert_int_equal(read(rd, got, sizeof(got)), 2);
	assert_memory_equal(got, "x\n", 2);
	s->ops->close(s);
	(void)close(rd);

	/* through a worker: a burst of alerts, all in the file while the outputs are still running */
	struct outputs *o = out_new(NULL);
	assert_int_equal(out_add_sink(o, out_file_new(path, false, false)), 0);
	for (int i = 0; i < 5000; i++) {
		char l[16];
		snprintf(l, sizeof(l), "n%d", i);
		push_line(o, l, 0);
	}
	wait_written(o, 0, 5000);
	int lines = 0;
	for (int tries = 0; tries < 2000 && lines < 5004; tries++) {
		buf = slurp(path);
		lines = 0;
		for (char *p = buf; *p; p++)
			lines += *p == '\n';
		if (lines < 5004) {
			free(buf);
			usleep(1000);
			continue;
		}
		assert_non_null(strstr(buf, "d\nn0\nn1\n"));
		assert_non_null(strstr(buf, "n4998\nn4999\n"));
		free(buf);
	}
	assert_int_equal(lines, 5004);
	out_free(o, 2000, NULL);

	(void)unlink(path);
	(void)unlink(fifo);
	(void)rmdir(dir);
}

/* Alerts held in a buffer and lost when it fails to go out count as errors, not as written: exact per alert. */
static void test_lost_buffered_alerts_are_errors(void **state)
{
	char dir[] = "/tmp/test_out.XXXXXX", path[64], err[256], line[80];
	struct out_stats st;

	/* buffered, through a worker: /dev/full refuses every write with ENOSPC */
	struct outputs *o = out_new(NULL);
	assert_int_equal(out_add_sink(o, out_file_new("/dev/full", true, true)), 0);
	for (int i = 0; i < 10; i++)
		push_line(o, "x", 0);
	out_free(o, 2000, &st);
	assert_int_equal(st.written, 0);
	assert_int_equal(st.errors, 10);

	/* unbuffered, a regular file, a backlog held back: a file size limit makes its write fail part way */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/events.txt", dir);
	struct rlimit old, lim = {.rlim_cur = 100, .rlim_max = RLIM_INFINITY};
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	struct out_sink *s = out_file_new(path, true, false);
	assert_int_equal(s->ops->open(s, err, sizeof(err)), 0);
	memset(line, 'a', 59);
	line[59] = '\0';
	write_alert(s, 2, line);
	write_alert(s, 1, line);
	assert_int_equal(s->held, 2);
	struct out_alert *a = out_alert_new(4, 1, false, "r", "s", line, strlen(line));
	s->backlog = 0;
	/* the third alert reports the failure */
	assert_true(s->ops->write(s, a, err, sizeof(err)) < 0);
	out_alert_unref(a);
	assert_int_equal(s->lost, 2); /* the two held back before it were lost with it */
	assert_int_equal(s->held, 0);
	assert_non_null(strstr(err, "cannot write to"));
	s->ops->close(s);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, oldsig);
	(void)unlink(path);
	(void)rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fanout_order_and_reopen),
		cmocka_unit_test(test_deferred_wake),
		cmocka_unit_test(test_overflow_is_per_sink),
		cmocka_unit_test(test_shutdown_gives_up_on_blocked_sink),
		cmocka_unit_test(test_file_sink_append_and_reopen),
		cmocka_unit_test(test_file_sink_batches_a_backlog),
		cmocka_unit_test(test_lost_buffered_alerts_are_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
