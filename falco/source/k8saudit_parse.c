/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parsing of k8s audit payloads (webhook bodies, replay lines) into batches of events.
 *
 * Speed matters here: each payload is parsed once, by json_parse_arena (cJSON allocating from the batch's
 * arena instead of one malloc per node), and the whole tree is released with the arena.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "common/macro.h"
#include "k8saudit_internal.h"

#define DEFAULT_MAX_EVENT_SIZE (256u * 1024)
#define DEFAULT_MAX_EVENTS     100000u

struct batch_priv {
	struct k8s_batch pub; /* first: k8s_batch_free casts back */
	struct arena arena;   /* owns the tree, evts and caches */
};

/*
 * The newest arena chunk of the last freed batch, kept for the next parse. A batch arena is sized for its body
 * (5x: 1.4 MB for a 282 KB EventList), is parsed on the webhook thread and freed on the engine thread; given back
 * to malloc, glibc trims that top of the webhook thread's heap (madvise DONTNEED) and the next parse faults the
 * pages in again, zero-filled, one 4 KB page at a time. Reusing the chunk keeps it resident. One slot, exchanged
 * atomically: the freeing and the parsing thread may differ.
 */
#define SPARE_CHUNK_MAX (8u << 20)
static _Atomic(struct arena_chunk *) spare_chunk;

static void spare_chunk_put(struct arena *a)
{
	struct arena_chunk *c = a->head;

	if (!c || c->size > SPARE_CHUNK_MAX)
		return;
	a->head = c->next;
	c->next = NULL;
	free(atomic_exchange(&spare_chunk, c));
}

/* Starts an empty arena on the spare chunk when it is at least chunk_size bytes. */
static void spare_chunk_take(struct arena *a, size_t chunk_size)
{
	struct arena_chunk *c = atomic_exchange(&spare_chunk, NULL);

	if (c && c->size >= chunk_size) {
		c->used = 0;
		a->head = c;
		return;
	}
	free(c);
}

/* ---- RFC 3339 ---- */

static int parse_digits(const char *s, int n, int *ret)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (s[i] - '0');
	}
	*ret = v;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int k8s_parse_rfc3339(const char *s, uint64_t *ret_ns)
{
	static const uint8_t mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int Y, M, D, h, m, sec, oh = 0, om = 0, sign = 0;
	uint64_t frac = 0;
	const char *p;

	if (!s || strlen(s) < 20)
		return -EINVAL;
	/* 2006-01-02T15:04:05 */
	if (parse_digits(s, 4, &Y) < 0 || s[4] != '-' || parse_digits(s + 5, 2, &M) < 0 ||
	    s[7] != '-' || parse_digits(s + 8, 2, &D) < 0 || s[10] != 'T' ||
	    parse_digits(s + 11, 2, &h) < 0 || s[13] != ':' || parse_digits(s + 14, 2, &m) < 0 ||
	    s[16] != ':' || parse_digits(s + 17, 2, &sec) < 0)
		return -EINVAL;
	if (M < 1 || M > 12 || D < 1 || h > 23 || m > 59 || sec > 59)
		return -EINVAL;
	if (D > mdays[M - 1] + (M == 2 && is_leap(Y)))
		return -EINVAL;
	p = s + 19;
	/* optional fraction: any number of digits (as Go), truncated to nanoseconds */
	if (*p == '.' || *p == ',') {
		int nd = 0;

		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		for (; *p >= '0' && *p <= '9'; p++, nd++)
			if (nd < 9)
				frac = frac * 10 + (uint64_t)(*p - '0');
		for (; nd < 9; nd++)
			frac *= 10;
	}
	if (*p == 'Z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (parse_digits(p + 1, 2, &oh) < 0 || p[3] != ':' ||
		    parse_digits(p + 4, 2, &om) < 0 || oh > 23 || om > 59)
			return -EINVAL;
		p += 6;
	} else
		return -EINVAL;
	if (*p)
		return -EINVAL;

	int64_t secs =
		days_from_civil(Y, (unsigned)M, (unsigned)D) * 86400 + h * 3600 + m * 60 + sec;
	secs -= (int64_t)sign * (oh * 3600 + om * 60);
	/* uint64 nanoseconds reach year 2554 */
	if (secs < 0 || (uint64_t)secs > (UINT64_MAX - frac) / 1000000000u)
		return -EINVAL;
	*ret_ns = (uint64_t)secs * 1000000000u + frac;
	return 0;
}

/* ---- event index ---- */

void k8s_index_root(struct k8s_cache *c, const cJSON *obj)
{
	memset(c, 0, sizeof(*c));
	if (!cJSON_IsObject(obj))
		return;
	for (const cJSON *i = obj->child; i; i = i->next) {
		const char *k = i->string;
		int slot = -1;

		if (!k)
			continue;
		/* dispatch on the first byte: one strcmp per key at most */
		switch (k[0]) {
		case 'a':
			if (streq(k, "auditID"))
				slot = KR_AUDIT_ID;
			else if (streq(k, "annotations"))
				slot = KR_ANNOTATIONS;
			break;
		case 'i':
			if (streq(k, "impersonatedUser"))
				slot = KR_IMPERSONATED_USER;
			else if (streq(k, "items"))
				slot = KR_ITEMS;
			break;
		case 'k':
			if (streq(k, "kind"))
				slot = KR_KIND;
			break;
		case 'o':
			if (streq(k, "objectRef"))
				slot = KR_OBJECT_REF;
			break;
		case 'r':
			if (streq(k, "requestURI"))
				slot = KR_REQUEST_URI;
			else if (streq(k, "requestObject"))
				slot = KR_REQUEST_OBJECT;
			else if (streq(k, "responseObject"))
				slot = KR_RESPONSE_OBJECT;
			else if (streq(k, "responseStatus"))
				slot = KR_RESPONSE_STATUS;
			break;
		case 's':
			if (streq(k, "stage"))
				slot = KR_STAGE;
			else if (streq(k, "stageTimestamp"))
				slot = KR_STAGE_TIMESTAMP;
			else if (streq(k, "sourceIPs"))
				slot = KR_SOURCE_IPS;
			break;
		case 'u':
			if (streq(k, "user"))
				slot = KR_USER;
			else if (streq(k, "userAgent"))
				slot = KR_USER_AGENT;
			break;
		case 'v':
			if (streq(k, "verb"))
				slot = KR_VERB;
			break;
		}
		if (slot >= 0 && !c->root[slot])
			c->root[slot] = i;
	}
}

/* ---- payload walk ---- */

struct parse_state {
	const struct k8s_parse_opts *opts;
	size_t max_event_size;
	size_t max_events;
	size_t payload_len;
	struct k8s_evt *evts; /* NULL in the counting pass */
	struct k8s_cache *caches;
	size_t n;	/* events stored (fill pass) or candidates (count pass) */
	size_t skipped; /* items reported and skipped */
};

static void report(struct parse_state *st, const char *fmt, ...) _printf_(2, 3);
static void report(struct parse_state *st, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!st->opts || !st->opts->on_error)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	st->opts->on_error(st->opts->ud, msg);
}

static const char *kind_of(const cJSON *obj)
{
	if (!cJSON_IsObject(obj))
		return NULL;
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	return cJSON_IsString(kind) ? kind->valuestring : NULL;
}

/* One audit event candidate: validated and stored in the fill pass, only counted in the count pass. */
static void add_event(struct parse_state *st, const cJSON *obj)
{
	if (!st->evts) {
		st->n++;
		return;
	}

	struct k8s_cache *c = &st->caches[st->n];
	uint64_t ts;

	k8s_index_root(c, obj);
	const cJSON *sts = c->root[KR_STAGE_TIMESTAMP];
	if (!sts) {
		st->skipped++;
		report(st, "can't read stageTimestamp");
		return;
	}
	const char *tstr = cJSON_IsString(sts) ? sts->valuestring : "";
	if (k8s_parse_rfc3339(tstr, &ts) < 0) {
		st->skipped++;
		report(st, "parsing time \"%.64s\" as RFC 3339: invalid stageTimestamp", tstr);
		return;
	}
	/*
	 * Upstream re-serializes every event to measure it. Compact JSON is at most 6 bytes per source byte (a raw
	 * control character becomes \u00XX, 1e15 becomes 1000000000000000), so small payloads need nothing; for
	 * the others a cheap upper bound settles nearly every event and only those above it are measured.
	 */
	size_t sz;
	if (st->payload_len > st->max_event_size / 6 &&
	    json_compact_size_over(obj, st->max_event_size, &sz)) {
		st->skipped++;
		report(st, "event larger than maxEventSize: size=%zu", sz);
		return;
	}
	st->evts[st->n++] = (struct k8s_evt){.obj = obj, .ts = ts, .cache = c};
}

/* Returns 0, or -EINVAL when v is not an Event, an EventList or an array of those (aborts the payload). */
static int walk(struct parse_state *st, const cJSON *v)
{
	if (cJSON_IsArray(v)) {
		for (const cJSON *e = v->child; e; e = e->next) {
			int r = walk(st, e);
			if (r < 0)
				return r;
		}
		return 0;
	}
	const char *kind = kind_of(v);
	if (kind && streq(kind, "EventList")) {
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(v, "items");
		if (cJSON_IsArray(items)) {
			for (const cJSON *e = items->child; e; e = e->next)
				add_event(st, e);
			return 0;
		}
	} else if (kind && streq(kind, "Event")) {
		add_event(st, v);
		return 0;
	}
	return -EINVAL;
}

struct k8s_batch *k8s_batch_free(struct k8s_batch *b)
{
	if (!b)
		return NULL;
	struct batch_priv *bp = (struct batch_priv *)b;
	spare_chunk_put(&bp->arena);
	arena_done(&bp->arena);
	free(bp);
	return NULL;
}

int k8s_batch_parse(const char *buf, size_t len, const struct k8s_parse_opts *opts,
		    struct k8s_batch **ret, size_t *ret_skipped, char *errbuf, size_t errlen)
{
	struct parse_state st = {
		.opts = opts,
		.max_event_size = opts && opts->max_event_size ? opts->max_event_size
							       : DEFAULT_MAX_EVENT_SIZE,
		.max_events = opts && opts->max_events ? opts->max_events : DEFAULT_MAX_EVENTS,
		.payload_len = len,
	};
	struct batch_priv *bp;
	cJSON *root = NULL;

	bp = calloc(1, sizeof(*bp));
	if (!bp)
		return -ENOMEM;
	/* a 3 KiB event makes a tree of 4-5x its size: one chunk is usually enough */
	arena_init(&bp->arena, MAX((size_t)8192, len * 5 + 1024), 0);
	spare_chunk_take(&bp->arena, bp->arena.chunk_size);

	/* 1. parse into the batch arena */
	size_t off = 0;
	int r = json_parse_arena(buf, len, &bp->arena, &root, &off);
	if (r < 0) {
		char msg[128];
		arena_done(&bp->arena);
		free(bp);
		if (r == -ENOMEM)
			return -ENOMEM;
		snprintf(msg, sizeof(msg), "invalid JSON: syntax error at offset %zu", off);
		report(&st, "%s", msg);
		return errf(errbuf, errlen, -EINVAL, "%s", msg);
	}
	bp->pub.root = root;
	bp->pub.bytes = len;

	/* 2. count candidate events; an unrecognized payload (or array element) rejects everything */
	if (walk(&st, root) < 0) {
		k8s_batch_free(&bp->pub);
		report(&st, "data not recognized as a k8s audit event");
		return errf(errbuf, errlen, -EINVAL, "data not recognized as a k8s audit event");
	}
	if (st.n > st.max_events) {
		size_t n = st.n;
		k8s_batch_free(&bp->pub);
		report(&st, "too many events in payload: %zu (at most %zu)", n, st.max_events);
		return errf(errbuf, errlen, -EINVAL,
			    "too many events in payload: %zu (at most %zu)", n, st.max_events);
	}

	/* 3. validate and index each event */
	if (st.n > 0) {
		st.evts = arena_alloc(&bp->arena, st.n * sizeof(*st.evts));
		st.caches = arena_alloc(&bp->arena, st.n * sizeof(*st.caches));
		if (!st.evts || !st.caches) {
			k8s_batch_free(&bp->pub);
			return -ENOMEM;
		}
		st.n = 0;
		walk(&st, root);
	}
	bp->pub.evts = st.evts;
	bp->pub.n = st.n;
	*ret = &bp->pub;
	if (ret_skipped)
		*ret_skipped = st.skipped;
	return 0;
}
