/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fan-out: one bounded ring and one worker thread per sink. The engine thread only takes a channel's mutex long
 * enough to append a pointer; all I/O happens on the workers.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "out.h"
#include "out_sink_util.h"

int out_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct out_alert *out_alert_new(int priority, uint64_t ts, bool json, const char *rule,
				const char *source, const char *line, size_t len)
{
	struct out_alert_info in = {
		.priority = priority,
		.ts = ts,
		.json = json,
		.rule = rule,
		.source = source,
		.line = line,
		.len = len,
	};
	return out_alert_new_info(&in);
}

struct out_alert *out_alert_new_info(const struct out_alert_info *in)
{
	size_t rl = strlen(in->rule) + 1, sl = strlen(in->source) + 1;
	size_t extra = 0;

	/* pointer arrays first (aligned right after the struct), then every string */
	size_t ptrs = in->ntags * sizeof(char *) + in->nfields * sizeof(struct out_kv);
	for (size_t i = 0; i < in->ntags; i++)
		extra += strlen(in->tags[i]) + 1;
	for (size_t i = 0; i < in->nfields; i++)
		extra += strlen(in->fields[i].key) + 1 +
			 (in->fields[i].value ? strlen(in->fields[i].value) + 1 : 0);
	struct out_alert *a = malloc(sizeof(*a) + ptrs + rl + sl + in->len + 1 + extra);
	if (!a)
		return NULL;
	*a = (struct out_alert){.priority = in->priority, .ts = in->ts, .json = in->json};
	struct out_kv *kv = (struct out_kv *)(a + 1);
	const char **tags = (const char **)(kv + in->nfields);
	char *p = (char *)(tags + in->ntags);
	memcpy(p, in->rule, rl);
	a->rule = p;
	p += rl;
	memcpy(p, in->source, sl);
	a->source = p;
	p += sl;
	memcpy(p, in->line, in->len);
	p[in->len] = '\0';
	a->line = p;
	a->len = in->len;
	p += in->len + 1;
	for (size_t i = 0; i < in->ntags; i++) {
		size_t l = strlen(in->tags[i]) + 1;
		tags[i] = memcpy(p, in->tags[i], l);
		p += l;
	}
	for (size_t i = 0; i < in->nfields; i++) {
		size_t l = strlen(in->fields[i].key) + 1;
		kv[i].key = memcpy(p, in->fields[i].key, l);
		p += l;
		kv[i].value = NULL;
		if (in->fields[i].value) {
			l = strlen(in->fields[i].value) + 1;
			kv[i].value = memcpy(p, in->fields[i].value, l);
			p += l;
		}
	}
	a->tags = in->ntags ? tags : NULL;
	a->ntags = in->ntags;
	a->fields = in->nfields ? kv : NULL;
	a->nfields = in->nfields;
	atomic_init(&a->refs, 1);
	return a;
}

uint64_t out_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

bool out_sink_sleep(struct out_sink *s, unsigned ms)
{
	while (ms) {
		if (atomic_load_explicit(&s->stopping, memory_order_relaxed))
			return false;
		unsigned step = ms < 50 ? ms : 50;
		struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)step * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
		ms -= step;
	}
	return !atomic_load_explicit(&s->stopping, memory_order_relaxed);
}

struct out_alert *out_alert_ref(struct out_alert *a)
{
	atomic_fetch_add_explicit(&a->refs, 1, memory_order_relaxed);
	return a;
}

struct out_alert *out_alert_unref(struct out_alert *a)
{
	if (a && atomic_fetch_sub_explicit(&a->refs, 1, memory_order_acq_rel) == 1)
		free(a);
	return NULL;
}

struct channel {
	struct out_sink *sink;
	/* copied from the options: an abandoned worker may outlive struct outputs */
	void (*on_error)(void *ud, const char *sink, const char *msg);
	void *ud;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct out_alert **ring;
	size_t cap, head, count;
	uint64_t pushed, popped; /* totals, to order reopen requests with alerts */
	uint64_t reopen_at;	 /* reopen once popped reaches this; 0 = none */
	bool stopping;
	bool abandoned;
	bool waiting; /* the worker sleeps on cond: only then does a push need to signal */
	uint64_t written, dropped, errors, discarded;
	uint64_t
		failing; /* consecutive failures, to report 1st, 2nd, 4th, 8th ... (no log flood) */
	/* for out_check_stalled() on other threads: written under lock, read lock-free */
	_Atomic uint64_t busy_since; /* monotonic ns when the current sink call began; 0 = idle */
	_Atomic uint64_t
		full_since; /* first drop since the queue last drained below half; 0 = not full */
};

/*
 * Batching: with opts.defer_wake, a push that finds a worker asleep does not wake it but asks the owner for an
 * out_kick() once its current turn is over (kick_pending: one request outstanding at a time), so a worker wakes
 * once per batch of events with every alert of the batch queued, without waiting on a timer (on one core a
 * ping-pong between the engine and the worker per alert costs more than the writes). A queue half full wakes its
 * worker at once.
 */
struct outputs {
	struct out_options opts;
	struct channel **ch;
	size_t n;
	bool structured;
	atomic_bool kick_pending;
};

static void busy(struct channel *c, bool on)
{
	atomic_store_explicit(&c->busy_since, on ? out_monotonic_ns() : 0, memory_order_relaxed);
}

static void channel_free(struct channel *c);

/*
 * With c->lock held, after a call into the sink: alerts it had accepted but then lost in a failed flush are no
 * longer written but failed. Returns how many (a failed flush that lost none counts as one error).
 */
static uint64_t settle_lost(struct channel *c)
{
	uint64_t lost = c->sink->lost;

	c->sink->lost = 0;
	c->written -= lost < c->written ? lost : c->written;
	c->errors += lost;
	return lost;
}

/* Worker thread only (failing is not shared). */
static void report(struct channel *c, const char *msg)
{
	uint64_t n = ++c->failing;
	if (c->on_error && (n & (n - 1)) == 0) {
		char m[640];
		if (n > 1)
			snprintf(m, sizeof(m), "%s (failure %" PRIu64 " in a row)", msg, n);
		c->on_error(c->ud, c->sink->ops->name, n > 1 ? m : msg);
	}
}

static void *worker(void *arg)
{
	struct channel *c = arg;
	struct out_sink *s = c->sink;
	char err[512];
	bool dirty = false;

	busy(c, true);
	int opened = s->ops->open ? s->ops->open(s, err, sizeof(err)) : 0;
	busy(c, false);
	if (opened < 0) {
		report(c, err);
		pthread_mutex_lock(&c->lock);
		c->errors++;
		pthread_mutex_unlock(&c->lock);
	}
	pthread_mutex_lock(&c->lock);
	for (;;) {
		if (c->abandoned)
			break;
		if (c->reopen_at && c->popped >= c->reopen_at - 1) {
			c->reopen_at = 0;
			pthread_mutex_unlock(&c->lock);
			int r = 0;
			busy(c, true);
			if (s->ops->flush && dirty)
				(void)s->ops->flush(s, err, sizeof(err));
			dirty = false;
			if (s->ops->reopen)
				r = s->ops->reopen(s, err, sizeof(err));
			busy(c, false);
			if (r < 0)
				report(c, err);
			pthread_mutex_lock(&c->lock);
			settle_lost(c);
			if (r < 0)
				c->errors++;
			continue;
		}
		if (c->count == 0) {
			if (dirty && s->ops->flush) {
				/* the queue ran empty: push out what a buffered sink holds */
				pthread_mutex_unlock(&c->lock);
				busy(c, true);
				int r = s->ops->flush(s, err, sizeof(err));
				busy(c, false);
				if (r < 0)
					report(c, err);
				pthread_mutex_lock(&c->lock);
				if (settle_lost(c) == 0 && r < 0)
					c->errors++;
				dirty = false;
				continue;
			}
			if (c->stopping)
				break;
			c->waiting = true;
			pthread_cond_wait(&c->cond, &c->lock);
			c->waiting = false;
			continue;
		}
		struct out_alert *a = c->ring[c->head];
		c->ring[c->head] = NULL;
		c->head = (c->head + 1) % c->cap;
		c->count--;
		c->popped++;
		if (c->count <= c->cap / 2)
			atomic_store_explicit(&c->full_since, 0, memory_order_relaxed);
		/* what a held-back write waits for (a reopen due after this alert flushes first, see above) */
		s->backlog = c->count;
		pthread_mutex_unlock(&c->lock);

		busy(c, true);
		int r = s->ops->write(s, a, err, sizeof(err));
		busy(c, false);
		out_alert_unref(a);
		if (r < 0)
			report(c, err);
		else
			c->failing = 0;
		dirty = true;

		pthread_mutex_lock(&c->lock);
		if (r < 0)
			c->errors++;
		else
			c->written++;
		settle_lost(c);
	}
	bool abandoned = c->abandoned;
	pthread_mutex_unlock(&c->lock);
	if (abandoned) {
		/* out_free gave up on us and no longer knows this channel */
		channel_free(c);
		return NULL;
	}
	busy(c, true);
	int r = dirty && s->ops->flush ? s->ops->flush(s, err, sizeof(err)) : 0;
	busy(c, false);
	if (r < 0)
		report(c, err);
	pthread_mutex_lock(&c->lock);
	if (settle_lost(c) == 0 && r < 0)
		c->errors++;
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct outputs *out_new(const struct out_options *opts)
{
	struct outputs *o = calloc(1, sizeof(*o));
	if (!o)
		return NULL;
	atomic_init(&o->kick_pending, false);
	if (opts)
		o->opts = *opts;
	if (!o->opts.queue_capacity)
		o->opts.queue_capacity = OUT_DEFAULT_QUEUE;
	return o;
}

static void channel_free(struct channel *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->count; i++)
		out_alert_unref(c->ring[(c->head + i) % c->cap]);
	free(c->ring);
	if (c->sink)
		c->sink->ops->close(c->sink);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
}

int out_add_sink(struct outputs *o, struct out_sink *s)
{
	struct channel *c = NULL;
	int r;

	struct channel **nch = realloc(o->ch, (o->n + 1) * sizeof(*nch));
	if (!nch) {
		s->ops->close(s);
		return -ENOMEM;
	}
	o->ch = nch;
	c = calloc(1, sizeof(*c));
	if (!c) {
		s->ops->close(s);
		return -ENOMEM;
	}
	c->sink = s;
	c->on_error = o->opts.on_error;
	c->ud = o->opts.ud;
	c->cap = o->opts.queue_capacity;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	c->ring = calloc(c->cap, sizeof(*c->ring));
	if (!c->ring) {
		channel_free(c);
		return -ENOMEM;
	}
	r = -pthread_create(&c->thread, NULL, worker, c);
	if (r < 0) {
		channel_free(c);
		return r;
	}
	o->ch[o->n++] = c;
	o->structured |= s->structured;
	return 0;
}

void out_kick(struct outputs *o)
{
	/* cleared before the scan: a push after the scan finds no request outstanding and asks again */
	atomic_store(&o->kick_pending, false);
	for (size_t i = 0; i < o->n; i++) {
		struct channel *c = o->ch[i];
		pthread_mutex_lock(&c->lock);
		if (c->waiting && c->count)
			pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
}

int out_push(struct outputs *o, struct out_alert *a)
{
	bool kick = false;
	int full = 0;

	for (size_t i = 0; i < o->n; i++) {
		struct channel *c = o->ch[i];
		pthread_mutex_lock(&c->lock);
		if (c->stopping || c->count == c->cap) {
			c->dropped++;
			full++;
			if (!c->stopping &&
			    !atomic_load_explicit(&c->full_since, memory_order_relaxed))
				atomic_store_explicit(&c->full_since, out_monotonic_ns(),
						      memory_order_relaxed);
		} else {
			c->ring[(c->head + c->count) % c->cap] = out_alert_ref(a);
			c->count++;
			c->pushed++;
			/* a busy worker finds the alert on its own: no futex wake per alert */
			if (c->waiting) {
				if (!o->opts.defer_wake || c->count >= c->cap / 2)
					pthread_cond_signal(&c->cond);
				else
					kick = true;
			}
		}
		pthread_mutex_unlock(&c->lock);
	}
	if (kick && !atomic_exchange(&o->kick_pending, true) && !o->opts.defer_wake(o->opts.ud))
		out_kick(o); /* the owner cannot defer from this thread */
	return full;
}

void out_reopen(struct outputs *o)
{
	for (size_t i = 0; i < o->n; i++) {
		struct channel *c = o->ch[i];
		pthread_mutex_lock(&c->lock);
		/* after everything pushed so far; +1 so that 0 can mean "none" */
		c->reopen_at = c->pushed + 1;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
}

size_t out_count(const struct outputs *o)
{
	return o ? o->n : 0;
}

bool out_wants_structured(const struct outputs *o)
{
	return o && o->structured;
}

int out_check_stalled(struct outputs *o, uint64_t now_ns, uint64_t stall_ns, char *reason,
		      size_t len)
{
	int n = 0;

	for (size_t i = 0; o && i < o->n; i++) {
		struct channel *c = o->ch[i];
		uint64_t b = atomic_load_explicit(&c->busy_since, memory_order_relaxed);
		uint64_t f = atomic_load_explicit(&c->full_since, memory_order_relaxed);
		bool busy_stall = b && now_ns > b && now_ns - b > stall_ns;
		bool full_stall = f && now_ns > f && now_ns - f > stall_ns;
		if (!busy_stall && !full_stall)
			continue;
		if (n++ == 0 && reason && len) {
			if (busy_stall)
				snprintf(
					reason, len,
					"output '%s' stalled: one call into it has been running for %" PRIu64
					" ms%s",
					c->sink->ops->name, (now_ns - b) / 1000000,
					full_stall ? ", its queue is full and alerts are dropped"
						   : "");
			else
				snprintf(reason, len,
					 "output '%s' stalled: its queue has been full for %" PRIu64
					 " ms and alerts are dropped",
					 c->sink->ops->name, (now_ns - f) / 1000000);
		}
	}
	return n;
}

void out_stats(struct outputs *o, size_t i, struct out_stats *ret)
{
	struct channel *c = o->ch[i];
	pthread_mutex_lock(&c->lock);
	*ret = (struct out_stats){
		.name = c->sink->ops->name,
		.written = c->written,
		.dropped = c->dropped,
		.errors = c->errors,
		.discarded = c->discarded,
		.queued = c->count,
		.capacity = c->cap,
		.busy_since_ns = atomic_load_explicit(&c->busy_since, memory_order_relaxed),
		.full_since_ns = atomic_load_explicit(&c->full_since, memory_order_relaxed),
	};
	pthread_mutex_unlock(&c->lock);
}

struct outputs *out_free(struct outputs *o, unsigned timeout_ms, struct out_stats *ret_stats)
{
	struct timespec deadline;

	if (!o)
		return NULL;
	for (size_t i = 0; i < o->n; i++) {
		struct channel *c = o->ch[i];
		pthread_mutex_lock(&c->lock);
		c->stopping = true;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += timeout_ms / 1000;
	deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (size_t i = 0; i < o->n; i++) {
		struct channel *c = o->ch[i];
		if (pthread_timedjoin_np(c->thread, NULL, &deadline) == 0) {
			if (ret_stats)
				out_stats(o, i, &ret_stats[i]);
			channel_free(c);
			continue;
		}
		/*
		 * Blocked in a write past the deadline: count what is left as discarded and hand the channel to its
		 * worker, which frees it if the write ever returns (else the process exit does). The unlock below is
		 * our last access to c.
		 */
		pthread_t t = c->thread;
		pthread_mutex_lock(&c->lock);
		c->abandoned = true;
		/* a sink retrying or backing off gives up now (out_sink_sleep) */
		atomic_store(&c->sink->stopping, true);
		c->discarded += c->count;
		for (size_t k = 0; k < c->count; k++) {
			size_t at = (c->head + k) % c->cap;
			out_alert_unref(c->ring[at]);
			c->ring[at] = NULL;
		}
		c->count = 0;
		if (ret_stats)
			ret_stats[i] = (struct out_stats){
				.name = c->sink->ops->name,
				.written = c->written,
				.dropped = c->dropped,
				.errors = c->errors,
				.discarded = c->discarded,
			};
		pthread_detach(t);
		pthread_mutex_unlock(&c->lock);
	}
	free(o->ch);
	free(o);
	return NULL;
}
