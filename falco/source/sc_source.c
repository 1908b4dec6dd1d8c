/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscall source's glue (see sc_source.h): record → decode → state (pre) → rules → capture → state (post),
 * the live driver hook-up (evt_bpf + evt_pump on the engine's event loop), capture replay, and the drop policy.
 *
 * Determinism: a capture holds every record that was decoded, plus a block for every state input that is not
 * in the stream, written just before the event that needed it (an event is written after its rules ran, so a
 * lazy read made by a field lands before it). A replay applies the blocks in file order and never reads /proc,
 * NSS or a runtime, so it rebuilds the live state event for event and yields the same alerts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/macro.h"
#include "capture.h"
#include "evt_bpf.h"
#include "evt_pump.h"
#include "sc_internal.h"
#include "sc_live.h"
#include "state_snap.h"
#include "syscall_table.h"

struct sc_source {
	struct sc_source_opts o;
	struct st_state *st;
	struct sc_evt ev;
	uint64_t num;
	struct sc_source_stats stats;

	/* -w */
	struct cap_writer *cw;
	char cap_err[512];
	bool cap_err_reported;

	/* -e */
	struct cap_reader *cr;
	char replay_path[512];

	/* live */
	struct evt_bpf *bpf;
	struct evt_pump *pump;
	uint64_t last_tick_ts, last_sweep_ts;
};

/* ---- capture hooks: state learnt outside the stream ---- */

static void cap_fail(struct sc_source *s)
{
	const char *m = cap_writer_error(s->cw);
	if (m && !s->cap_err[0])
		snprintf(s->cap_err, sizeof(s->cap_err), "%s", m);
}

static void hook_proc(void *ud, const struct st_proc *p)
{
	struct sc_source *s = ud;
	if (s->cw && st_snap_write_proc(s->st, p, s->cw) == -EIO)
		cap_fail(s);
}

static void hook_env(void *ud, const struct st_proc *p)
{
	struct sc_source *s = ud;
	if (s->cw && st_snap_write_env(s->st, p, s->cw) == -EIO)
		cap_fail(s);
}

static void hook_user(void *ud, const struct st_user *u)
{
	struct sc_source *s = ud;
	if (s->cw && st_snap_write_user(s->st, u, s->cw) == -EIO)
		cap_fail(s);
}

static void hook_container(void *ud, const struct st_container *c)
{
	struct sc_source *s = ud;
	if (s->cw && st_snap_write_container(s->st, c, s->cw) == -EIO)
		cap_fail(s);
}

static void hook_purge(void *ud, uint32_t id, bool whole)
{
	struct sc_source *s = ud;
	if (s->cw && st_snap_write_purge(id, whole, s->cw) == -EIO)
		cap_fail(s);
}

/* ---- lifecycle ---- */

int sc_source_new(const struct sc_source_opts *o, struct sc_source **ret, char *errbuf,
		  size_t errlen)
{
	struct sc_source *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	s->o = *o;
	s->st = st_new(&o->state);
	if (!s->st) {
		free(s);
		return errf(errbuf, errlen, -ENOMEM, "out of memory allocating the process tables");
	}
	if (o->capture_out && !o->state.replay) {
		if ((r = cap_writer_open(o->capture_out, FALCO_DRIVER_ABI_VERSION, &s->cw, errbuf,
					 errlen)) < 0) {
			sc_source_free(s);
			return r;
		}
	}
	*ret = s;
	return 0;
}

int sc_source_close_capture(struct sc_source *s, char *errbuf, size_t errlen)
{
	int r;

	if (!s || !s->cw)
		return 0;
	st_set_hooks(s->st, NULL);
	r = cap_writer_close(s->cw, errbuf, errlen);
	s->cw = NULL;
	return r;
}

struct sc_source *sc_source_free(struct sc_source *s)
{
	if (!s)
		return NULL;
	sc_live_close(s);
	(void)sc_source_close_capture(s, NULL, 0);
	s->cr = cap_reader_close(s->cr);
	s->st = st_free(s->st);
	free(s);
	return NULL;
}

struct st_state *sc_source_state(struct sc_source *s)
{
	return s->st;
}

int sc_source_seed(struct sc_source *s, char *errbuf, size_t errlen)
{
	int n = st_seed_proc(s->st);

	if (n < 0)
		return errf(errbuf, errlen, n, "cannot read /proc: %s", strerror(-n));
	if (s->cw) {
		int r = st_snap_write_all(s->st, s->cw);
		if (r < 0) {
			cap_fail(s);
			return errf(errbuf, errlen, r, "%s",
				    s->cap_err[0] ? s->cap_err : "cannot write the snapshot");
		}
		struct st_hooks h = {.proc_loaded = hook_proc,
				     .proc_env = hook_env,
				     .user_loaded = hook_user,
				     .container_updated = hook_container,
				     .purged = hook_purge,
				     .ud = s};
		st_set_hooks(s->st, &h);
	}
	return n;
}

void sc_source_get_stats(const struct sc_source *s, struct sc_source_stats *ret)
{
	*ret = s->stats;
	ret->capture_bytes = cap_writer_bytes(s->cw);
	st_get_stats(s->st, &ret->st);
}

const char *sc_source_capture_error(struct sc_source *s)
{
	if (!s->cap_err[0] || s->cap_err_reported)
		return NULL;
	s->cap_err_reported = true;
	return s->cap_err;
}

/* ---- one record ---- */

int sc_source_feed(struct sc_source *s, const void *rec, size_t len, char *errbuf, size_t errlen)
{
	struct sc_evt *e = &s->ev;
	int r, to_rules = 0;

	s->stats.records++;
	r = evt_decode(rec, len, &e->rec);
	if (r == -EBADMSG) {
		s->stats.malformed++;
		return errf(errbuf, errlen, -EBADMSG, "malformed driver record (%zu bytes)", len);
	}
	uint64_t num = ++s->num;
	if (r == -ENOMSG || (e->rec.info->flags & EVT_INFO_ENTER)) {
		/* a newer driver's event, or an entry event: recorded, never evaluated */
		if (r == -ENOMSG)
			s->stats.unknown_type++;
		else
			s->stats.hidden++;
		if (s->cw && cap_write_block(s->cw, CAP_B_EVENT, rec,
					     r == -ENOMSG ? len : e->rec.len) == -EIO)
			cap_fail(s);
		return 0;
	}
	e->flags = 0;
	e->thr = NULL;
	e->proc = st_event_proc(s->st, &e->rec, &e->thr);
	st_event_pre(s->st, e);

	bool hidden = !e->proc || (e->proc->flags & (ST_P_SELF | ST_P_FALCOCTL)) ||
		      (s->o.state.self_pid && e->rec.pid == s->o.state.self_pid);
	if (!hidden && s->o.emit) {
		struct evt ev = {
			.source = s->o.source_index,
			.type = e->rec.type,
			.ts = e->rec.ts,
			.num = num,
			.data = e,
		};
		s->o.emit(s->o.ud, &ev, s->st);
		s->stats.to_rules++;
		to_rules = 1;
	} else {
		s->stats.hidden++;
	}
	if (s->cw && cap_write_block(s->cw, CAP_B_EVENT, rec, e->rec.len) == -EIO)
		cap_fail(s);
	st_event_post(s->st, e);
	if (s->cap_err[0] && !s->cap_err_reported)
		return errf(errbuf, errlen, -EIO, "%s", s->cap_err);
	return to_rules;
}

void sc_source_tick(struct sc_source *s, uint64_t now_ts)
{
	if (st_is_replay(s->st))
		return;
	(void)st_runtime_poll(s->st);
	st_sock_cache_expire(s->st, false); /* its memory goes back once it is stale */
	/* a sweep checks /proc for threads whose exit we missed; it only works when the tables fill up */
	if (now_ts - s->last_sweep_ts >= 10ull * 1000000000u) {
		s->last_sweep_ts = now_ts;
		(void)st_sweep(s->st, now_ts, false);
	}
	s->last_tick_ts = now_ts;
}

/* ---- replay ---- */

bool sc_capture_probe(const void *head, size_t n)
{
	return cap_probe(head, n);
}

static int replay_block(struct sc_source *s, const struct cap_block *b, char *errbuf, size_t errlen)
{
	char err[512];
	int r;

	if (b->type == CAP_B_EVENT) {
		r = sc_source_feed(s, b->body, b->len, err, sizeof(err));
		if (r == -EBADMSG)
			return errf(errbuf, errlen, r, "%s: offset %llu: %s", s->replay_path,
				    (unsigned long long)b->offset, err);
		return 1;
	}
	r = st_snap_apply(s->st, b, err, sizeof(err));
	if (r < 0)
		return errf(errbuf, errlen, r, "%s: offset %llu: %s block: %s", s->replay_path,
			    (unsigned long long)b->offset, cap_block_name(b->type), err);
	return 0;
}

int sc_replay_open(struct sc_source *s, const char *path, char *errbuf, size_t errlen)
{
	char err[512];
	struct cap_block b;
	int r;

	snprintf(s->replay_path, sizeof(s->replay_path), "%s", path);
	if ((r = cap_reader_open(path, &s->cr, err, sizeof(err))) < 0)
		return errf(errbuf, errlen, r, "%s: %s", path, err);
	const struct cap_header *h = cap_reader_header(s->cr);
	if (h->driver_abi != FALCO_DRIVER_ABI_VERSION)
		return errf(errbuf, errlen, -EPROTONOSUPPORT,
			    "%s: recorded with driver ABI %u, this build decodes ABI %u", path,
			    h->driver_abi, FALCO_DRIVER_ABI_VERSION);
	/* the snapshot: state blocks up to SNAPSHOT_END */
	for (;;) {
		r = cap_reader_next(s->cr, &b, err, sizeof(err));
		if (r < 0)
			return errf(errbuf, errlen, r, "%s: %s", path, err);
		if (r == 0)
			return 0; /* an empty capture */
		if (b.type == CAP_B_SNAPSHOT_END)
			return 0;
		if (b.type == CAP_B_EVENT)
			return errf(errbuf, errlen, -EBADMSG,
				    "%s: offset %llu: event before the end of the snapshot", path,
				    (unsigned long long)b.offset);
		if ((r = replay_block(s, &b, errbuf, errlen)) < 0)
			return r;
	}
}

int sc_replay_step(struct sc_source *s, unsigned max_events, char *errbuf, size_t errlen)
{
	char err[512];
	struct cap_block b;
	unsigned n = 0;
	int r;

	if (!s->cr)
		return 0;
	while (n < max_events) {
		r = cap_reader_next(s->cr, &b, err, sizeof(err));
		if (r < 0)
			return errf(errbuf, errlen, r, "%s: %s", s->replay_path, err);
		if (r == 0) {
			s->cr = cap_reader_close(s->cr);
			return 0;
		}
		if ((r = replay_block(s, &b, errbuf, errlen)) < 0)
			return r;
		n += (unsigned)r;
	}
	return 1;
}

/* ---- live ---- */

static int pump_record(void *ud, const void *rec, size_t len)
{
	struct sc_source *s = ud;
	char err[256];

	/* malformed records are counted, capture errors reported by the daemon's tick: never stop the drain */
	(void)sc_source_feed(s, rec, len, err, sizeof(err));
	return 0;
}

/*
 * The pump's shortest poll interval while events flow, from the ring size: long enough that a wake-up (a
 * context switch, epoll, the timer: ~10-20 us on a VM) is paid for hundreds of events, short enough that the
 * ring absorbs 8 intervals at the fastest rate we produce (storm.c: ~3M events/s of ~40 bytes, 128 MiB/s).
 * 8 MiB rings: 5 ms (cuts falco's CPU per event on the workload loop by a third against upstream's 500 us,
 * docs/BENCHMARKS.md); 1 MiB: 1 ms. A full batch is drained again at once whatever the interval.
 */
static uint32_t pump_min_us(uint64_t ring_bytes)
{
	uint64_t us = ring_bytes / (128u * 1024 * 1024 / 1000000) / 8;

	return (uint32_t)MAX(500u, MIN(us, 5000u));
}

int sc_live_open(struct sc_source *s, struct event_base *base, const struct evt_bpf_opts *bo,
		 size_t batch, const uint64_t *evttypes, size_t nwords, char *errbuf, size_t errlen)
{
	struct evt_pump_opts po = {.batch = batch, .min_us = pump_min_us(bo->ring_bytes)};
	int r;

	if ((r = evt_bpf_open(bo, &s->bpf, errbuf, errlen)) < 0)
		return r;
	/* falco's host tgid, which differs from getpid() in another pid namespace */
	pid_t self = bo->self_tgid ? 0 : evt_bpf_self_tgid(s->bpf);
	if (self > 0 && s->o.state.self_pid) {
		s->o.state.self_pid = (uint32_t)self;
		st_set_self_pid(s->st, (uint32_t)self);
	}
	if ((r = sc_live_set_interesting(s, evttypes, nwords)) < 0) {
		sc_live_close(s);
		return errf(errbuf, errlen, r, "cannot configure the probe's syscalls: %s",
			    strerror(-r));
	}
	if ((r = evt_pump_start(base, s->bpf, &po, pump_record, s, &s->pump)) < 0) {
		sc_live_close(s);
		return errf(errbuf, errlen, r, "cannot poll the ring buffers: %s", strerror(-r));
	}
	return 0;
}

int sc_live_set_interesting(struct sc_source *s, const uint64_t *evttypes, size_t nwords)
{
	uint64_t bits[EVT_TYPE_WORDS] = {0};

	if (!s->bpf)
		return -ENOTCONN;
	for (size_t i = 0; i < nwords && i < EVT_TYPE_WORDS; i++)
		bits[i] = evttypes[i];
	/* what the state needs whatever the rules say: process lifecycle, descriptors */
	evt_type_base_set(bits, EVT_TYPE_WORDS);
	static const uint16_t more[] = {EVT_CONNECT_X, EVT_ACCEPT_X, EVT_ACCEPT4_X,
					EVT_BIND_X,    EVT_LISTEN_X, EVT_SOCKET_X,
					EVT_PIPE_X,    EVT_PIPE2_X,  EVT_MEMFD_CREATE_X};
	for (size_t i = 0; i < ARRAY_SIZE(more); i++)
		evt_bit_set(bits, EVT_TYPE_WORDS, more[i]);
	return evt_bpf_set_interesting(s->bpf, bits, EVT_TYPE_WORDS);
}

void sc_live_close(struct sc_source *s)
{
	s->pump = evt_pump_stop(s->pump);
	s->bpf = evt_bpf_close(s->bpf);
}

bool sc_live_attached(const struct sc_source *s)
{
	return s->bpf != NULL;
}

int sc_live_counters(const struct sc_source *s, struct sc_drop_counters *ret)
{
	struct evt_counters c;
	int r;

	if (!s->bpf)
		return -ENOTCONN;
	if ((r = evt_bpf_counters(s->bpf, &c, NULL, 0, NULL)) < 0)
		return r;
	memset(ret, 0, sizeof(*ret));
	ret->n_evts = c.n_evts;
	ret->n_drops_buffer = c.n_drops_buffer;
	ret->n_drops_max_size = c.n_drops_max_size;
	ret->n_drops_other = c.n_drops_no_ring;
	memcpy(ret->n_drops_buffer_cat, c.n_drops_buffer_cat, sizeof(ret->n_drops_buffer_cat));
	return 0;
}

struct evt_bpf *sc_live_bpf(const struct sc_source *s)
{
	return s->bpf;
}

/* ---- drops ---- */

void sc_drops_init(struct sc_drops *d, const struct sc_drop_policy *pol)
{
	memset(d, 0, sizeof(*d));
	d->pol = *pol;
	if (d->pol.max_burst <= 0)
		d->pol.max_burst = 1;
	d->tokens = d->pol.max_burst;
}

int sc_drops_check(struct sc_drops *d, const struct sc_drop_counters *now, uint64_t now_ts,
		   struct sc_drop_verdict *ret)
{
	struct sc_drop_counters delta;
	bool primed = d->primed;

	memset(ret, 0, sizeof(*ret));
	/* the token bucket refills with time */
	if (primed && now_ts > d->last_ts) {
		d->tokens += (double)(now_ts - d->last_ts) / 1e9 * d->pol.rate;
		if (d->tokens > d->pol.max_burst)
			d->tokens = d->pol.max_burst;
	}
	delta.n_evts = now->n_evts - (primed ? d->last.n_evts : 0);
	delta.n_drops_buffer = now->n_drops_buffer - (primed ? d->last.n_drops_buffer : 0);
	delta.n_drops_max_size = now->n_drops_max_size - (primed ? d->last.n_drops_max_size : 0);
	delta.n_drops_other = now->n_drops_other - (primed ? d->last.n_drops_other : 0);
	for (int i = 0; i < _EVT_CAT_MAX; i++)
		delta.n_drops_buffer_cat[i] =
			now->n_drops_buffer_cat[i] - (primed ? d->last.n_drops_buffer_cat[i] : 0);
	d->last = *now;
	d->last_ts = now_ts;
	d->primed = true;

	uint64_t drops = delta.n_drops_buffer + delta.n_drops_max_size + delta.n_drops_other;
	if (d->pol.simulate && drops == 0) {
		drops = 1;
		delta.n_drops_buffer = 1;
		if (delta.n_evts == 0)
			delta.n_evts = 1;
	}
	if (drops == 0)
		return 0;
	d->total_drops += drops;
	d->periods_with_drops++;
	ret->n_evts = delta.n_evts;
	ret->n_drops = drops;
	ret->ratio = delta.n_evts ? (double)drops / (double)delta.n_evts : 1.0;
	ret->delta = delta;
	if (ret->ratio <= d->pol.threshold && !d->pol.simulate)
		return 1;
	unsigned act = d->pol.actions & ~(unsigned)SC_DROP_IGNORE;
	if (!act)
		return 1;
	if (d->tokens >= 1.0) {
		d->tokens -= 1.0;
		ret->actions = act;
		d->actions_taken++;
	} else {
		d->actions_suppressed++;
	}
	return 1;
}
