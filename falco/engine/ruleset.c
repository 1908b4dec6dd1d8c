/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The compiled rule set: introspection, selection (enable/disable by wildcard and tag), the per-source index
 * by event type, and evaluation. Evaluation touches only preallocated state: the per-event arena is reset (its
 * chunk is kept) and the field cache is invalidated in O(1).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "rules_internal.h"

void rs_rule_release(struct rule *x)
{
	flt_prog_free(x->prog);
	fmt_free(x->fmt);
	for (uint32_t i = 0; i < x->nextra; i++) {
		flt_vexpr_free(x->extra[i].v);
		fmt_free(x->extra[i].f);
	}
	free(x->extra);
	x->prog = NULL;
	x->fmt = NULL;
	x->extra = NULL;
	x->nextra = 0;
}

static void free_index(struct rs_src *s)
{
	free(s->slot_off);
	free(s->entries);
	free(s->any);
	s->slot_off = NULL;
	s->entries = NULL;
	s->any = NULL;
	s->nany = 0;
}

struct ruleset *ruleset_free(struct ruleset *rs)
{
	if (!rs)
		return NULL;
	for (size_t i = 0; i < rs->nrules; i++)
		rs_rule_release(&rs->rules[i]);
	free(rs->rules);
	for (size_t i = 0; rs->src && i < rs->nsources; i++)
		free_index(&rs->src[i]);
	free(rs->src);
	flt_compiler_free(rs->comp);
	arena_done(&rs->arena);
	free(rs);
	return NULL;
}

/*
 * Upstream keeps, per event type, the enabled rules that can match it, in the order they were enabled (rule
 * order); rules with an empty type set go to a separate list evaluated after the typed one. The typed lists are
 * stored flat (offsets + entries) so an event walks one contiguous array.
 */
static int index_source(struct ruleset *rs, uint16_t si)
{
	struct rs_src *s = &rs->src[si];
	uint32_t nslots = s->src ? s->src->nevttypes : 0;
	size_t total = 0;

	free_index(s);
	s->nslots = nslots;
	s->nwords = (nslots + 63) / 64;
	s->slot_off = calloc(nslots + 1, sizeof(*s->slot_off));
	if (!s->slot_off)
		return -ENOMEM;
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		if (!r->enabled || r->source_idx != si)
			continue;
		if (r->evt_any) {
			s->nany++;
			continue;
		}
		for (uint32_t w = 0; w < s->nwords; w++)
			for (uint64_t bits = r->evttypes[w]; bits; bits &= bits - 1) {
				uint32_t t = w * 64 + (uint32_t)__builtin_ctzll(bits);
				if (t >= nslots)
					break;
				s->slot_off[t + 1]++;
				total++;
			}
	}
	for (uint32_t t = 0; t < nslots; t++)
		s->slot_off[t + 1] += s->slot_off[t];
	s->entries = calloc(total ? total : 1, sizeof(*s->entries));
	s->any = calloc(s->nany ? s->nany : 1, sizeof(*s->any));
	uint32_t *fill = calloc(nslots ? nslots : 1, sizeof(*fill));
	if (!s->entries || !s->any || !fill) {
		free(fill);
		return -ENOMEM;
	}
	uint32_t nany = 0;
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		if (!r->enabled || r->source_idx != si)
			continue;
		if (r->evt_any) {
			s->any[nany++] = r;
			continue;
		}
		for (uint32_t w = 0; w < s->nwords; w++)
			for (uint64_t bits = r->evttypes[w]; bits; bits &= bits - 1) {
				uint32_t t = w * 64 + (uint32_t)__builtin_ctzll(bits);
				if (t >= nslots)
					break;
				s->entries[s->slot_off[t] + fill[t]++] = r;
			}
	}
	free(fill);
	return 0;
}

int ruleset_reindex(struct ruleset *rs)
{
	for (size_t i = 0; i < rs->nsources; i++) {
		int r = index_source(rs, (uint16_t)i);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- selection ---- */

/* Wildcard match with '*' (any run) and '?' (one character), iterative with one backtrack point. */
static bool wildcard_match(const char *pat, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*pat == '*') {
			star = pat++;
			resume = s;
		} else if (*pat == '?' || *pat == *s) {
			pat++;
			s++;
		} else if (star) {
			pat = star + 1;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static bool has_tag(const struct rule *r, const char *tag)
{
	for (size_t i = 0; i < r->ntags; i++)
		if (streq(r->tags[i], tag))
			return true;
	return false;
}

int ruleset_set_enabled(struct ruleset *rs, const char *name_pattern, const char *tag, bool enabled)
{
	int n = 0;

	for (size_t i = 0; i < rs->nrules; i++) {
		struct rule *r = &rs->rules[i];
		if (name_pattern && !wildcard_match(name_pattern, r->name))
			continue;
		if (tag && !has_tag(r, tag))
			continue;
		r->enabled = enabled;
		n++;
	}
	int rr = ruleset_reindex(rs);
	return rr < 0 ? rr : n;
}

int ruleset_enable_only_tags(struct ruleset *rs, const char *const *tags, size_t ntags)
{
	int n = 0;

	for (size_t i = 0; i < rs->nrules; i++) {
		struct rule *r = &rs->rules[i];
		bool on = false;
		for (size_t k = 0; k < ntags && !on; k++)
			on = has_tag(r, tags[k]);
		r->enabled = on;
		n += on;
	}
	int rr = ruleset_reindex(rs);
	return rr < 0 ? rr : n;
}

/* ---- introspection ---- */

size_t ruleset_count(const struct ruleset *rs)
{
	return rs->nrules;
}

size_t ruleset_count_enabled(const struct ruleset *rs)
{
	size_t n = 0;
	for (size_t i = 0; i < rs->nrules; i++)
		n += rs->rules[i].enabled;
	return n;
}

const struct rule *ruleset_rule(const struct ruleset *rs, size_t i)
{
	return i < rs->nrules ? &rs->rules[i] : NULL;
}

int ruleset_evttypes(const struct ruleset *rs, uint16_t source, uint64_t *bits, size_t nwords)
{
	if (source >= rs->nsources)
		return -EINVAL;
	const struct rs_src *s = &rs->src[source];
	if (nwords < s->nwords)
		return -EINVAL;
	memset(bits, 0, nwords * sizeof(*bits));
	for (size_t i = 0; i < rs->nrules; i++) {
		const struct rule *r = &rs->rules[i];
		if (!r->enabled || r->source_idx != source)
			continue;
		if (r->evt_any) {
			/* runs for every event: the driver must deliver them all */
			for (uint32_t t = 0; t < s->nslots; t++)
				bits[t / 64] |= 1ull << (t % 64);
			break;
		}
		for (uint32_t w = 0; w < s->nwords; w++)
			bits[w] |= r->evttypes[w];
	}
	return 0;
}

const char *ruleset_required_engine_version(const struct ruleset *rs)
{
	return rs->req_version;
}

const char *rule_name(const struct rule *r)
{
	return r->name;
}

const char *rule_desc(const struct rule *r)
{
	return r->desc;
}

const char *rule_condition(const struct rule *r)
{
	return r->condition;
}

const char *rule_compiled_condition(const struct rule *r)
{
	return r->compiled;
}

const char *rule_expanded_condition(const struct rule *r)
{
	return r->expanded;
}

const char *rule_output(const struct rule *r)
{
	return r->output;
}

const char *rule_source(const struct rule *r)
{
	return r->source;
}

enum prio rule_priority(const struct rule *r)
{
	return r->priority;
}

bool rule_enabled(const struct rule *r)
{
	return r->enabled;
}

const char *const *rule_tags(const struct rule *r, size_t *ret_n)
{
	if (ret_n)
		*ret_n = r->ntags;
	return r->tags;
}

uint32_t rule_id(const struct rule *r)
{
	return r->id;
}

uint16_t rule_source_index(const struct rule *r)
{
	return r->source_idx;
}

int rule_evttypes(const struct rule *r, const struct ruleset *rs, uint64_t *bits, size_t nwords)
{
	const struct rs_src *s = &rs->src[r->source_idx];
	if (nwords < s->nwords)
		return -EINVAL;
	memset(bits, 0, nwords * sizeof(*bits));
	memcpy(bits, r->evttypes, s->nwords * sizeof(*bits));
	return r->evt_any ? 1 : 0;
}

bool rule_capture(const struct rule *r, uint64_t *ret_duration_ms)
{
	if (ret_duration_ms)
		*ret_duration_ms = r->capture_duration;
	return r->capture;
}

/* ---- evaluation ---- */

struct rs_eval *rs_eval_new(const struct ruleset *rs)
{
	struct rs_eval *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->rs = rs;
	/* one warm chunk covers a typical event's transformer results */
	arena_init(&ev->arena, 64 * 1024, 64u << 20);
	ev->cache = flt_cache_new(flt_compiler_nslots(rs->comp));
	if (!ev->cache)
		return rs_eval_free(ev);
	ev->ec.f.arena = &ev->arena;
	ev->ec.cache = ev->cache;
	return ev;
}

struct rs_eval *rs_eval_free(struct rs_eval *ev)
{
	if (!ev)
		return NULL;
	flt_cache_free(ev->cache);
	arena_done(&ev->arena);
	free(ev);
	return NULL;
}

void rs_eval_begin(struct rs_eval *ev, const struct evt *evt, void *src_state)
{
	arena_reset(&ev->arena);
	flt_cache_next_event(ev->cache);
	ev->ec.f.evt = evt;
	ev->ec.f.src_state = src_state;
}

static int run_list(const struct ruleset *rs, struct rs_eval *ev, const struct rule *const *list,
		    size_t n, rule_match_fn on_match, void *ud)
{
	int matches = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rule *r = list[i];
		if (!flt_eval(r->prog, &ev->ec))
			continue;
		matches++;
		if (on_match)
			on_match(ud, r, ev);
		if (!rs->match_all)
			break;
	}
	return matches;
}

int ruleset_process(const struct ruleset *rs, struct rs_eval *ev, const struct evt *evt,
		    void *src_state, rule_match_fn on_match, void *ud)
{
	if (evt->source >= rs->nsources)
		return 0;
	const struct rs_src *s = &rs->src[evt->source];

	rs_eval_begin(ev, evt, src_state);

	int matches = 0;
	if (evt->type < s->nslots) {
		uint32_t from = s->slot_off[evt->type], to = s->slot_off[evt->type + 1];
		matches = run_list(rs, ev, s->entries + from, to - from, on_match, ud);
	}
	/* as upstream, rules without a type set only run when no typed rule matched */
	if (matches == 0 && s->nany)
		matches = run_list(rs, ev, s->any, s->nany, on_match, ud);
	return matches;
}

int rule_format_output(const struct rule *r, struct rs_eval *ev, struct strbuf *sb)
{
	return fmt_render_ec(r->fmt, &ev->ec, sb);
}

int rule_output_fields(const struct rule *r, struct rs_eval *ev, rule_field_fn fn, void *ud)
{
	const struct fmt *f = r->fmt;

	for (uint32_t i = 0; i < f->ntoks; i++) {
		const struct fmt_tok *t = &f->toks[i];
		if (!t->v || !t->name)
			continue;
		/* a field printed twice is reported once, as upstream's map */
		bool dup = false;
		for (uint32_t j = 0; j < i && !dup; j++)
			dup = f->toks[j].v && f->toks[j].name && streq(f->toks[j].name, t->name);
		if (dup)
			continue;
		struct value v;
		int got = flt_eval_vexpr(t->v, &ev->ec, &v);
		int rr = fn(ud, t->name, got == 1 ? &v : NULL);
		if (rr < 0)
			return rr;
	}
	for (uint32_t i = 0; i < r->nextra; i++) {
		const struct rule_extra_field *e = &r->extra[i];
		struct value v;
		int got, rr;
		if (e->v) {
			got = flt_eval_vexpr(e->v, &ev->ec, &v);
			rr = fn(ud, e->name, got == 1 ? &v : NULL);
		} else {
			struct strbuf sb;
			strbuf_init(&sb, 64 * 1024);
			fmt_render_ec(e->f, &ev->ec, &sb);
			/* the rendered text lives in the per-event arena like any other value */
			char *s = arena_strndup(&ev->arena, strbuf_str(&sb), sb.len);
			v = (struct value){.type = FT_STRING, .len = (uint32_t)sb.len, .str = s};
			strbuf_done(&sb);
			rr = fn(ud, e->name, s ? &v : NULL);
		}
		if (rr < 0)
			return rr;
	}
	return 0;
}
