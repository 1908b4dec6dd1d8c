/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The syscall source's glue: a driver record (live from the rings, or from a capture file) is decoded, applied
 * to the state tables, turned into a struct evt for the rules, and, with -w, written to a capture file. Also the
 * drop policy (upstream's syscall_event_drops) as a pure function the daemon calls once a second.
 *
 * Nothing here logs: failures come back as -errno plus errbuf text; drop actions come back as a struct the
 * daemon acts on. One sc_source belongs to the engine thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "falco/engine/fields.h"
#include "evt_decode.h"
#include "state.h"

/* ---- the payload of a syscall struct evt (evt.data) ---- */

enum sc_evt_flags {
	SC_EVT_NAME_CHANGED =
		1u << 0,	  /* the event changed its descriptor's tuple (fd.name_changed) */
	SC_EVT_TMPFD = 1u << 1,	  /* fd points at tmpfd: a failed open's file */
	SC_EVT_HAS_RES = 1u << 2, /* res is the event's return value */
	SC_EVT_HIDDEN = 1u << 3,  /* state only: falco's own activity, entry events */
};

struct sc_evt {
	struct evt_rec rec;   /* the decoded record, borrowed from the ring or the capture buffer */
	struct st_proc *proc; /* never NULL once the event reaches the rules */
	struct st_thread *thr; /* NULL when the thread table is full */
	struct st_fd *fd;      /* the descriptor the event is about, or NULL */
	int64_t fdnum;	       /* fd.num (-1 for a failed open) */
	int64_t res;	       /* evt.rawres when SC_EVT_HAS_RES */
	uint32_t flags;	       /* enum sc_evt_flags */
	uint32_t remove_fd;    /* post: descriptor index to drop (close), ST_NIL */
	struct st_fd tmpfd;    /* storage for a descriptor that is not in the table */
};

/* The field tables of the syscall source (sc_fields_*.c), listed by syscall_src.c. */
extern const struct fld_table sc_fields_evt;
extern const struct fld_table sc_fields_proc;
extern const struct fld_table sc_fields_thread;
extern const struct fld_table sc_fields_fd;
extern const struct fld_table sc_fields_user;
extern const struct fld_table sc_fields_group;
extern const struct fld_table sc_fields_container;
extern const struct fld_table sc_fields_k8s;

/* ---- the source ---- */

/* Called for every event that reaches the rules; src_state is the struct st_state the extractors want. */
typedef void (*sc_emit_fn)(void *ud, const struct evt *e, void *src_state);

struct sc_source_opts {
	struct st_options state;
	uint16_t source_index;	 /* struct evt.source */
	const char *capture_out; /* -w FILE: record the stream here; NULL = no capture */
	sc_emit_fn emit;
	void *ud;
};

struct sc_source;

/*
 * Creates the source and its state. Live use: call sc_source_seed() next (reads /proc, and writes the snapshot
 * to the capture when -w). Replay use: sc_replay_open(). Returns 0, -ENOMEM, or the capture file's -errno with
 * errbuf text.
 */
int sc_source_new(const struct sc_source_opts *o, struct sc_source **ret, char *errbuf,
		  size_t errlen);
/* Closes the capture file (flushing it). Returns NULL. */
struct sc_source *sc_source_free(struct sc_source *s);
/* Flushes and closes the capture file now; -errno with errbuf text when the file could not be completed. */
int sc_source_close_capture(struct sc_source *s, char *errbuf, size_t errlen);
struct st_state *sc_source_state(struct sc_source *s);

/* Seeds the state from /proc (live). Returns the number of processes or -errno. */
int sc_source_seed(struct sc_source *s, char *errbuf, size_t errlen);

/*
 * Processes one driver record of len bytes: decode, state, rules (through o->emit), capture. Returns 1 when the
 * event reached the rules, 0 when it only updated the state (entry events, falco's own activity, an event type
 * this build does not know), -EBADMSG for a malformed record (counted, skipped), or -EIO when writing the
 * capture failed (errbuf).
 */
int sc_source_feed(struct sc_source *s, const void *rec, size_t len, char *errbuf, size_t errlen);

/* Periodic work in live mode (the daemon's 1 s timer): container answers, sweeps. */
void sc_source_tick(struct sc_source *s, uint64_t now_ts);

struct sc_source_stats {
	uint64_t records, to_rules, hidden, malformed, unknown_type;
	uint64_t capture_bytes;
	struct st_stats st;
};
void sc_source_get_stats(const struct sc_source *s, struct sc_source_stats *ret);

/* ---- capture replay (-e FILE) ---- */

/*
 * Opens a capture file for replay into s (created with state.replay = true): checks the header and loads the
 * snapshot. Returns 0 or -errno with "FILE: offset N: reason" in errbuf.
 */
int sc_replay_open(struct sc_source *s, const char *path, char *errbuf, size_t errlen);
/*
 * Processes up to max_events events (and the state blocks between them). Returns 1 while more remain, 0 at the
 * end of the file, or -EBADMSG / -EIO with "FILE: offset N: reason" in errbuf (the replay stops there).
 */
int sc_replay_step(struct sc_source *s, unsigned max_events, char *errbuf, size_t errlen);
/* True for the first bytes of a capture file (the daemon picks the replay format by content). */
bool sc_capture_probe(const void *head, size_t n);

/* ---- drops (upstream's syscall_event_drops) ---- */

enum sc_drop_action {
	SC_DROP_IGNORE = 1u << 0,
	SC_DROP_LOG = 1u << 1,
	SC_DROP_ALERT = 1u << 2,
	SC_DROP_EXIT = 1u << 3,
};

struct sc_drop_policy {
	double threshold; /* fraction of the period's events dropped before acting (0.1 = 10 %) */
	unsigned actions; /* enum sc_drop_action bits */
	double rate;	  /* token bucket: actions per second */
	double max_burst; /* token bucket depth */
	bool simulate;	  /* pretend every period dropped (testing, as upstream's simulate_drops) */
};

/* Cumulative driver counters (summed over CPUs). */
struct sc_drop_counters {
	uint64_t n_evts, n_drops_buffer, n_drops_max_size, n_drops_other;
	uint64_t n_drops_buffer_cat[_EVT_CAT_MAX];
};

struct sc_drops {
	struct sc_drop_policy pol;
	struct sc_drop_counters last;
	double tokens;
	uint64_t last_ts; /* ns */
	bool primed;
	uint64_t total_drops, periods_with_drops, actions_taken, actions_suppressed;
};

/* What the daemon should do after one check. */
struct sc_drop_verdict {
	unsigned actions; /* enum sc_drop_action bits to perform now (already rate limited) */
	uint64_t n_evts, n_drops;
	double ratio;
	struct sc_drop_counters delta;
};

void sc_drops_init(struct sc_drops *d, const struct sc_drop_policy *pol);
/*
 * Compares now's counters with the previous check's. Drops are always counted; actions are returned only when
 * drops happened, their share exceeds the threshold and the token bucket allows. Returns 1 when any drop
 * happened in the period (with *ret filled), else 0.
 */
int sc_drops_check(struct sc_drops *d, const struct sc_drop_counters *now, uint64_t now_ts,
		   struct sc_drop_verdict *ret);
