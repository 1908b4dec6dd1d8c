/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Pacing helpers of the outputs: the token bucket behind alert rate limiting (per rule or global) and the
 * exponential backoff of the program and http sinks. Pure arithmetic over a caller-provided clock, so tests
 * drive them with made-up times.
 */
#include <errno.h>
#include <stdlib.h>

#include "out.h"

void out_token_bucket_init(struct out_token_bucket *tb, double rate, double max_burst,
			   uint64_t now_ns)
{
	*tb = (struct out_token_bucket){
		.rate = rate,
		.max_burst = max_burst,
		.tokens = max_burst,
		.last_ns = now_ns,
	};
}

bool out_token_bucket_claim(struct out_token_bucket *tb, uint64_t now_ns)
{
	if (now_ns > tb->last_ns) {
		tb->tokens += tb->rate * (double)(now_ns - tb->last_ns) / 1e9;
		if (tb->tokens > tb->max_burst)
			tb->tokens = tb->max_burst;
	}
	tb->last_ns = now_ns;
	/* tolerate rounding: ten additions of 0.1 make one token */
	if (tb->tokens < 1.0 - 1e-9)
		return false;
	tb->tokens -= 1.0;
	return true;
}

struct out_ratelimit {
	double rate, max_burst;
	bool per_rule;
	size_t n; /* buckets: one per rule plus one shared by unknown ids, or just one */
	bool *init;
	struct out_token_bucket *tb;
};

struct out_ratelimit *out_ratelimit_new(double rate, double max_burst, bool per_rule, size_t nrules)
{
	if (rate <= 0)
		return NULL;
	struct out_ratelimit *rl = calloc(1, sizeof(*rl));
	if (!rl)
		return NULL;
	rl->rate = rate;
	/* a bucket smaller than one token would never let anything through */
	rl->max_burst = max_burst < 1 ? 1 : max_burst;
	rl->per_rule = per_rule;
	rl->n = per_rule ? nrules + 1 : 1;
	rl->tb = calloc(rl->n, sizeof(*rl->tb));
	rl->init = calloc(rl->n, sizeof(*rl->init));
	if (!rl->tb || !rl->init)
		return out_ratelimit_free(rl);
	return rl;
}

struct out_ratelimit *out_ratelimit_free(struct out_ratelimit *rl)
{
	if (rl) {
		free(rl->tb);
		free(rl->init);
		free(rl);
	}
	return NULL;
}

bool out_ratelimit_claim(struct out_ratelimit *rl, uint32_t rule_id, uint64_t now_ns)
{
	size_t i = 0;

	if (!rl)
		return true;
	if (rl->per_rule)
		i = rule_id < rl->n - 1 ? rule_id : rl->n - 1;
	/* buckets start full when first used, so a rule's first burst is never throttled */
	if (!rl->init[i]) {
		out_token_bucket_init(&rl->tb[i], rl->rate, rl->max_burst, now_ns);
		rl->init[i] = true;
	}
	return out_token_bucket_claim(&rl->tb[i], now_ns);
}

void out_backoff_init(struct out_backoff *b, unsigned min_ms, unsigned max_ms)
{
	b->min_ms = min_ms ? min_ms : 1;
	b->max_ms = max_ms < b->min_ms ? b->min_ms : max_ms;
	b->cur_ms = 0;
}

unsigned out_backoff_next(struct out_backoff *b)
{
	if (b->cur_ms == 0)
		b->cur_ms = b->min_ms;
	else if (b->cur_ms > b->max_ms / 2)
		b->cur_ms = b->max_ms;
	else
		b->cur_ms *= 2;
	return b->cur_ms;
}

void out_backoff_reset(struct out_backoff *b)
{
	b->cur_ms = 0;
}
