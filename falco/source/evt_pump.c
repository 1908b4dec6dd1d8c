/* SPDX-License-Identifier: Apache-2.0 */
/* The libevent glue for evt_bpf (see evt_pump.h). */
#include <errno.h>
#include <stdlib.h>

#include <event2/event.h>

#include "common/macro.h"
#include "evt_pump.h"

struct evt_pump {
	struct evt_bpf *b;
	struct event *timer;
	struct event *fdev;
	evt_bpf_record_fn fn;
	void *ud;
	size_t batch;
	struct evt_bpf_backoff bo;
	struct evt_pump_stats st;
};

static void turn(struct evt_pump *p)
{
	int n = evt_bpf_drain(p->b, p->batch, p->fn, p->ud);
	bool full = false;

	p->st.turns++;
	if (n < 0) {
		p->st.last_error = n;
		n = 0;
		full = true; /* the callback stopped early: there may be more */
	} else {
		p->st.records += (uint64_t)n;
		full = (size_t)n == p->batch;
	}
	if (full)
		p->st.full++;
	uint32_t us = evt_bpf_backoff_next(&p->bo, (size_t)n, full);
	if (us == 0) {
		/* more is waiting: run again after the other ready events */
		event_active(p->timer, EV_TIMEOUT, 0);
		return;
	}
	struct timeval tv = {.tv_sec = us / 1000000, .tv_usec = us % 1000000};
	evtimer_add(p->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	turn(arg);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct evt_pump *p = arg;

	p->st.wakeups++;
	evtimer_del(p->timer);
	turn(p);
}

int evt_pump_start(struct event_base *base, struct evt_bpf *b, const struct evt_pump_opts *o,
		   evt_bpf_record_fn fn, void *ud, struct evt_pump **ret)
{
	struct evt_pump *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->b = b;
	p->fn = fn;
	p->ud = ud;
	p->batch = o && o->batch ? o->batch : 1024;
	evt_bpf_backoff_init(&p->bo, o ? o->min_us : 0, o ? o->max_us : 0);
	p->timer = evtimer_new(base, on_timer, p);
	p->fdev = event_new(base, evt_bpf_fd(b), EV_READ | EV_PERSIST, on_readable, p);
	if (!p->timer || !p->fdev || event_add(p->fdev, NULL) < 0) {
		evt_pump_stop(p);
		return -EINVAL;
	}
	event_active(p->timer, EV_TIMEOUT, 0);
	*ret = p;
	return 0;
}

struct evt_pump *evt_pump_stop(struct evt_pump *p)
{
	if (!p)
		return NULL;
	if (p->timer)
		event_free(p->timer);
	if (p->fdev)
		event_free(p->fdev);
	free(p);
	return NULL;
}

void evt_pump_get_stats(const struct evt_pump *p, struct evt_pump_stats *ret)
{
	*ret = p->st;
}
