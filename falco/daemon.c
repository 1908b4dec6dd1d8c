/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine thread. One struct daemon holds all mutable state; libevent callbacks (signals, the -M timer, the
 * replay pump, webhook deliveries) all run on the thread that called daemon_run(), so nothing here takes a lock.
 * Alerts leave through the outputs' per-sink queues; the HTTP servers run on their own threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include "common/sdl.h"

#include "common/err.h"
#include "common/fileio.h"
#include "common/hmap.h"
#include "common/log.h"
#include "common/strbuf.h"
#include "engine/engine.h"
#include "output/out.h"
#include "server/webhook.h"
#include "server/webserver.h"
#include "source/k8saudit.h"
#include "source/sc_live.h"
#include "source/sc_source.h"
#include "source/syscall_table.h"
#include "daemon.h"
#include "metrics.h"
#include "reload.h"

/* Index = struct evt.source. The syscall source's fields are known even while it cannot capture yet. */
enum {
	SRC_SYSCALL,
	SRC_K8S_AUDIT,
	NSRC,
};

static const struct src_def *const all_sources[NSRC] = {
	[SRC_SYSCALL] = &src_syscall,
	[SRC_K8S_AUDIT] = &src_k8s_audit,
};

/* Batches of a replay file handled per loop iteration, so signals and timers get their turn in between. */
#define REPLAY_BATCHES_PER_WAKEUP 32

/* Housekeeping tick (heartbeat for /healthz, drop reports); drop and throttle reports at most this often. */
#define TICK_MS		1000
#define REPORT_EVERY_NS (10ull * 1000000000ull)
/* A burst of file events (editor save, ConfigMap update) becomes one reload after this much quiet. */
#define WATCH_DEBOUNCE_MS 500

struct daemon {
	const struct daemon_args *a;
	/* the live configuration: a->cfg until a reload swaps in another one (owned_cfg); see reload_apply() */
	const struct falco_config *cfg;
	struct falco_config *owned_cfg;
	struct event_base *base;
	struct ruleset *rs;
	struct rs_eval *ev;
	struct fmt *prefix
		[NSRC]; /* "%evt.time" or "%evt.time.iso8601" per source; NULL = our own rendering */
	struct outputs *out;
	struct event *
		out_kick_ev; /* wakes the output workers once per turn of the loop (see out_defer_wake) */
	pthread_t engine_thread;
	struct out_fmt_opts fo;
	bool src_enabled[NSRC];

	/* metrics (rule counters live there: d->mr is the table of d->rs), rate limiting, drop reports */
	struct metrics *m;
	struct metrics_rules *mr;
	struct out_ratelimit *rl;
	uint64_t throttled, throttled_reported, throttled_at;
	uint64_t *drops_seen;	     /* per sink: drops already reported */
	uint64_t *drops_reported_at; /* per sink: when (monotonic ns) */
	struct event *tick;
	struct event *metrics_ev;
	struct outputs *metrics_out; /* metrics.output_file */
	/* read by the webserver thread's health check */
	_Atomic uint64_t stall_ns;
	atomic_bool syscall_up; /* the live probe is attached */

	/* hot reload */
	struct reload *reload;
	uint64_t reloads;

	/* structured alerts (journald): output fields as text */
	struct strbuf kvbuf;
	struct out_kv *kv;
	size_t *kvoff;
	size_t nkv, capkv;

	/* counters for the exit summary (per-rule counts: d->mr) */
	uint64_t prio_hits[_PRIO_MAX];
	uint64_t alerts;
	uint64_t events[NSRC];

	/* the event being evaluated (on_match needs its time) */
	const struct evt *cur;
	struct strbuf msg, line, tbuf, json;
	struct out_field *fields;
	size_t nfields, capfields;

	/* sources */
	const char *replay_path;
	struct k8s_replay *replay;
	struct event *replay_ev;
	bool live_k8s, live_syscall;
	struct sc_source *sc; /* the syscall source: live, or replaying a capture */
	struct event *sc_replay_ev;
	struct sc_drops sc_drops;
	struct http_webhook *webhook;
	struct http_server *webserver;

	struct event *sigs[4];
	struct event *timer;
	int exit_code;

	/* systemd (Type=notify): READY=1 sent, the watchdog interval (0 = off), ticks since the last STATUS= */
	bool notified;
	uint64_t watchdog_usec;
	unsigned status_ticks;
};

/* ---- rules ---- */

/*
 * Messages of a rules (re)load are collected as lines "<level char><text>\n" (E, W, I, D) so the reload thread can
 * build aside and the engine thread logs them afterwards; the startup load flushes them at once.
 */
static void msg_add(struct strbuf *log, char level, const char *fmt, ...) _printf_(3, 4);
static void msg_add(struct strbuf *log, char level, const char *fmt, ...)
{
	va_list ap;
	char buf[2048];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	strbuf_appendc(log, level);
	for (char *p = buf; *p; p++)
		if (*p == '\n')
			*p = ' ';
	strbuf_appends(log, buf);
	strbuf_appendc(log, '\n');
}

static void msg_flush(struct strbuf *log)
{
	char *s = log->buf;

	while (s && *s) {
		char *nl = strchr(s, '\n');
		if (nl)
			*nl = '\0';
		switch (*s) {
		case 'E':
			log_err("%s", s + 1);
			break;
		case 'W':
			log_warn("%s", s + 1);
			break;
		case 'I':
			log_info("%s", s + 1);
			break;
		default:
			log_debug("%s", s + 1);
		}
		s = nl ? nl + 1 : NULL;
	}
	strbuf_reset(log);
}

static void log_load_results(const struct rules_loader *l, bool verbose, struct strbuf *log)
{
	size_t n;
	const struct load_result *res = rules_loader_results(l, &n);
	struct strbuf sb;

	strbuf_init(&sb, 0);
	for (size_t i = 0; i < n; i++) {
		if (!res[i].nerrors && !res[i].nwarnings)
			continue;
		strbuf_reset(&sb);
		load_result_to_text(&res[i], verbose, &sb);
		/* one log line per text line, errors as errors */
		char *s = sb.buf;
		while (s && *s) {
			char *nl = strchr(s, '\n');
			if (nl)
				*nl = '\0';
			if (*s)
				msg_add(log, res[i].nerrors ? 'E' : 'W', "%s", s);
			s = nl ? nl + 1 : NULL;
		}
	}
	strbuf_done(&sb);
}

static struct rules_loader *new_loader(const struct falco_config *cfg,
				       struct rules_append_output **ret_ao)
{
	struct rules_append_output *ao = NULL;

	if (cfg->nappend_output) {
		ao = calloc(cfg->nappend_output, sizeof(*ao));
		if (!ao)
			return NULL;
		for (size_t i = 0; i < cfg->nappend_output; i++) {
			const struct cfg_append_output *c = &cfg->append_output[i];
			ao[i] = (struct rules_append_output){
				.source = c->source,
				.rule = c->rule,
				.tags = c->tags,
				.extra_output = c->extra_output,
				.extra_fields = c->extra_fields,
			};
		}
	}
	struct rules_options opts = {
		.sources = all_sources,
		.nsources = NSRC,
		.min_priority = cfg->min_priority,
		.match_all = cfg->match_all,
		.append_output = ao,
		.nappend_output = cfg->nappend_output,
	};
	struct rules_loader *l = rules_loader_new(&opts);
	if (!l)
		free(ao);
	else
		*ret_ao = ao;
	return l;
}

/* The rules files and directories in effect: -r, else rules_files. */
static const char *const *rules_paths(const struct cli_opts *cli, const struct falco_config *cfg,
				      size_t *ret_n)
{
	*ret_n = cli->rules.n ? cli->rules.n : cfg->nrules_files;
	return cli->rules.n ? cli->rules.v : cfg->rules_files;
}

/*
 * Loads the rules (-r or rules_files) and applies the selections; messages go to log (see msg_add), so this
 * runs on the reload thread as well. *ret_error (may be NULL) gets the first error line.
 */
static int build_rules(const struct cli_opts *cli, const struct falco_config *cfg,
		       struct ruleset **ret, struct strbuf *log, char *ret_error, size_t errlen)
{
	size_t npaths;
	const char *const *paths = rules_paths(cli, cfg, &npaths);
	struct rules_append_output *ao = NULL;
	struct ruleset *rs = NULL;
	int r;

	if (npaths == 0) {
		msg_add(log, 'E',
			"no rules files configured (rules_files is empty and no -r given)");
		errf(ret_error, errlen, 0, "no rules files configured");
		return -EINVAL;
	}
	struct rules_loader *l = new_loader(cfg, &ao);
	if (!l) {
		msg_add(log, 'E', "out of memory");
		errf(ret_error, errlen, 0, "out of memory");
		return -ENOMEM;
	}
	msg_add(log, 'I', "Loading rules from:");
	for (size_t i = 0; i < npaths; i++) {
		msg_add(log, 'I', "   %s", paths[i]);
		r = rules_loader_add_path(l, paths[i]);
		if (r == -ENOMEM)
			break;
	}
	r = rules_loader_finish(l, &rs);
	size_t at = log->len;
	log_load_results(l, cli->verbose, log);
	if (r < 0 || rules_loader_failed(l)) {
		/* the first error line is what the reload alert shows */
		const char *e = log->buf ? strstr(log->buf + at, "\nE") : NULL;
		if (ret_error && errlen) {
			const char *first = log->len > at && log->buf[at] == 'E' ? log->buf + at + 1
					    : e					 ? e + 2
										 : "see the log";
			errf(ret_error, errlen, 0, "%.*s", (int)strcspn(first, "\n"), first);
		}
		msg_add(log, 'E', "failed to load rules: %s",
			r == -ENOMEM ? "out of memory" : "see the errors above");
		rules_loader_free(l);
		free(ao);
		ruleset_free(rs);
		return r < 0 ? r : -EINVAL;
	}
	rules_loader_free(l);
	free(ao);

	/*
	 * falco.yaml `rules:` first, in order; as upstream, an entry's rule and tag apply one after the other, each
	 * on its own (not as "this name and this tag"). Then the command line: -t first, so that a -D next to it
	 * still takes rules out of the selection (upstream's -t silently undid it).
	 */
	for (size_t i = 0; i < cfg->nrule_sel; i++) {
		const struct cfg_rule_sel *sel = &cfg->rule_sel[i];
		if (sel->rule)
			ruleset_set_enabled(rs, sel->rule, NULL, sel->enable);
		if (sel->tag)
			ruleset_set_enabled(rs, NULL, sel->tag, sel->enable);
	}
	if (cli->enable_tags.n)
		ruleset_enable_only_tags(rs, cli->enable_tags.v, cli->enable_tags.n);
	for (size_t i = 0; i < cli->disable_rules.n; i++) {
		/* as upstream, -D matches a substring of the name; with * or ? it is a wildcard */
		const char *d = cli->disable_rules.v[i];
		char sub[1024];
		if (!strpbrk(d, "*?") && strlen(d) + 3 <= sizeof(sub)) {
			snprintf(sub, sizeof(sub), "*%s*", d);
			d = sub;
		}
		if (ruleset_set_enabled(rs, d, NULL, false) == 0)
			msg_add(log, 'W', "-D %s matched no rule, ignoring",
				cli->disable_rules.v[i]);
	}
	for (size_t i = 0; i < cli->disable_tags.n; i++)
		ruleset_set_enabled(rs, NULL, cli->disable_tags.v[i], false);
	msg_add(log, 'D', "%zu rules loaded, %zu enabled", ruleset_count(rs),
		ruleset_count_enabled(rs));
	*ret = rs;
	return 0;
}

/* Loads the rules at startup (-L, running): messages are logged right away. */
static int load_rules(const struct daemon_args *a, struct ruleset **ret)
{
	struct strbuf log;

	strbuf_init(&log, 0);
	int r = build_rules(a->cli, a->cfg, ret, &log, NULL, 0);
	msg_flush(&log);
	strbuf_done(&log);
	return r;
}

/* ---- -V ---- */

/*
 * -V is a short-lived process whose work is mostly allocating: compiling upstream's stable+sandbox files
 * touches about 3 MB of heap, one 4 KB page fault at a time (~700 faults, about 1.5 ms of a 6 ms run here).
 * Grow the heap once by 8 MB, start the allocations that follow on a 2 MB boundary, and let the kernel back
 * it with 2 MB pages where transparent huge pages are available (enabled=madvise or always): a handful of
 * faults instead. Without THP only the pad remains. The skipped head of the heap is reserved, never touched.
 * The daemon does not do this: these malloc settings would stay for the life of the process.
 */
static void *heap_spacer; /* kept: the allocations after it start on the 2 MB boundary */

static void heap_for_short_run(void)
{
	const size_t pad = 8u << 20, huge = 2u << 20;

	if (mallopt(M_TOP_PAD, (int)pad) != 1 || mallopt(M_MMAP_THRESHOLD, 4 << 20) != 1)
		return;
	/* below the threshold, so it grows the heap now, by the pad (volatile: the pair must not be elided) */
	char *volatile p = malloc(512u << 10);
	free(p); /* keeps the pad: that is what M_TOP_PAD is for */
	char *volatile q =
		malloc(16); /* where the next allocation lands: the start of the free top */
	char *hi = sbrk(0);
	if (!q || hi == (char *)-1)
		return;
	uintptr_t start = ((uintptr_t)q + huge - 1) & ~(uintptr_t)(huge - 1);
	free(q);
	if ((uintptr_t)hi <= start + huge)
		return;
	if (start - (uintptr_t)q > 256)
		heap_spacer = malloc(start - (uintptr_t)q - 64);
	(void)madvise((void *)start, (uintptr_t)hi - start, MADV_HUGEPAGE);
}

int daemon_validate(const struct daemon_args *a)
{
	const struct cli_opts *cli = a->cli;
	struct rules_append_output *ao = NULL;
	struct ruleset *rs = NULL;
	struct strbuf sb;
	size_t n;

	heap_for_short_run();
	struct rules_loader *l = new_loader(a->cfg, &ao);
	if (!l) {
		log_err("out of memory");
		return EXIT_FAILURE;
	}
	for (size_t i = 0; i < cli->validate.n; i++)
		(void)rules_loader_add_path(l, cli->validate.v[i]);
	(void)rules_loader_finish(l, &rs);
	const struct load_result *res = rules_loader_results(l, &n);
	bool failed = rules_loader_failed(l);

	strbuf_init(&sb, 0);
	if (a->cfg->json_output) {
		strbuf_appends(&sb, "{\"falco_load_results\":[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				strbuf_appendc(&sb, ',');
			load_result_to_json(&res[i], &sb);
		}
		strbuf_appends(&sb, "]}\n");
	} else {
		for (size_t i = 0; i < n; i++)
			load_result_to_text(&res[i], true, &sb);
	}
	fputs(strbuf_str(&sb), stdout);
	fflush(stdout);
	strbuf_done(&sb);
	/*
	 * main() exits right after: walking tens of thousands of allocations to free them is wasted work (about
	 * 0.1 ms). Sanitizer builds still free everything, so their leak check keeps its meaning.
	 */
#if defined(__SANITIZE_ADDRESS__)
	ruleset_free(rs);
	rules_loader_free(l);
	free(ao);
#else
	(void)rs;
	(void)ao;
	(void)l;
#endif
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

/* ---- -L / -l ---- */

static void append_collapsed(struct strbuf *sb, const char *s)
{
	bool space = false;
	for (; s && *s; s++) {
		if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') {
			space = true;
			continue;
		}
		if (space && sb->len)
			strbuf_appendc(sb, ' ');
		space = false;
		strbuf_appendc(sb, *s);
	}
}

static void describe_json_rule(const struct rule *r, struct strbuf *sb)
{
	size_t nt;
	const char *const *tags = rule_tags(r, &nt);
	const char *s;

	strbuf_appends(sb, "{\"info\":{\"condition\":");
	s = rule_condition(r);
	strbuf_append_json_str(sb, s ? s : "", s ? strlen(s) : 0);
	strbuf_appends(sb, ",\"description\":");
	s = rule_desc(r);
	strbuf_append_json_str(sb, s ? s : "", s ? strlen(s) : 0);
	strbuf_appendf(sb, ",\"enabled\":%s,\"name\":", rule_enabled(r) ? "true" : "false");
	strbuf_append_json_str(sb, rule_name(r), strlen(rule_name(r)));
	strbuf_appends(sb, ",\"output\":");
	s = rule_output(r);
	strbuf_append_json_str(sb, s ? s : "", s ? strlen(s) : 0);
	strbuf_appends(sb, ",\"priority\":");
	s = out_priority_name(rule_priority(r));
	strbuf_append_json_str(sb, s, strlen(s));
	strbuf_appends(sb, ",\"source\":");
	s = rule_source(r);
	strbuf_append_json_str(sb, s ? s : "", s ? strlen(s) : 0);
	strbuf_appends(sb, ",\"tags\":[");
	for (size_t k = 0; k < nt; k++) {
		if (k)
			strbuf_appendc(sb, ',');
		strbuf_append_json_str(sb, tags[k], strlen(tags[k]));
	}
	strbuf_appends(sb, "]}}");
}

int daemon_describe(const struct daemon_args *a)
{
	struct ruleset *rs = NULL;
	struct strbuf sb;
	bool json = a->cfg->json_output, found = false;

	if (load_rules(a, &rs) < 0)
		return EXIT_FAILURE;
	strbuf_init(&sb, 0);
	if (json) {
		const char *rev = ruleset_required_engine_version(rs);
		strbuf_appends(&sb, "{\"required_engine_version\":");
		strbuf_append_json_str(&sb, rev ? rev : "", rev ? strlen(rev) : 0);
		strbuf_appends(&sb, ",\"rules\":[");
	} else {
		strbuf_appendf(&sb, "%-50s %s\n%-50s %s\n", "Rule", "Description", "----",
			       "-----------");
	}
	for (size_t i = 0; i < ruleset_count(rs); i++) {
		const struct rule *r = ruleset_rule(rs, i);
		if (a->cli->describe_rule && !streq(a->cli->describe_rule, rule_name(r)))
			continue;
		if (json) {
			if (found)
				strbuf_appendc(&sb, ',');
			describe_json_rule(r, &sb);
		} else {
			strbuf_appendf(&sb, "%-50s ", rule_name(r));
			append_collapsed(&sb, rule_desc(r));
			strbuf_appendc(&sb, '\n');
		}
		found = true;
	}
	if (json)
		strbuf_appends(&sb, "]}\n");
	ruleset_free(rs);
	if (a->cli->describe_rule && !found) {
		strbuf_done(&sb);
		log_err("rule '%s' not found", a->cli->describe_rule);
		return EXIT_FAILURE;
	}
	fputs(strbuf_str(&sb), stdout);
	fflush(stdout);
	strbuf_done(&sb);
	return EXIT_SUCCESS;
}

/* ---- --list, --list-events ---- */

static int find_source(const char *name)
{
	for (int i = 0; i < NSRC; i++)
		if (streq(all_sources[i]->name, name))
			return i;
	return -ENOENT;
}

int daemon_list_fields(const struct daemon_args *a)
{
	const char *want = a->cli->list_source;
	bool names = a->cli->names_only;

	if (want && *want && find_source(want) < 0) {
		log_err("unknown event source '%s' (known: syscall, k8s_audit)", want);
		return EXIT_FAILURE;
	}
	for (int s = 0; s < NSRC; s++) {
		const struct src_def *src = all_sources[s];
		if (want && *want && !streq(src->name, want))
			continue;
		for (const struct fld_table *const *t = src->tables; t && *t; t++) {
			if (!names) {
				printf("\n-------------------------------------------------------------------------------\n");
				printf("%-30s%s%s%s%s\n", "Field Class:", (*t)->class_name,
				       (*t)->desc ? " (" : "", (*t)->desc ? (*t)->desc : "",
				       (*t)->desc ? ")" : "");
				printf("%-30s%s\n\n", "Event Sources:", src->name);
			}
			for (size_t i = 0; i < (*t)->n; i++) {
				const struct fld_def *f = &(*t)->defs[i];
				if (f->flags & FLD_HIDDEN)
					continue;
				if (names) {
					printf("%s\n", f->name);
					continue;
				}
				char name[128];
				snprintf(name, sizeof(name), "%s%s", f->name,
					 f->flags & FLD_ARG_REQUIRED  ? "[arg]"
					 : f->flags & FLD_ARG_ALLOWED ? "[arg?]"
								      : "");
				/* a name too long for its column gets a line of its own */
				if (strlen(name) >= 30)
					printf("%s\n%-30s", name, "");
				else
					printf("%-30s", name);
				printf("%-14s%s\n", fld_type_name(f->type), f->desc ? f->desc : "");
			}
		}
	}
	fflush(stdout);
	return EXIT_SUCCESS;
}

int daemon_list_events(const struct daemon_args *a)
{
	for (int s = 0; s < NSRC; s++) {
		const struct src_def *src = all_sources[s];
		struct hmap seen;
		if (!src->evttype_name)
			continue;
		if (hmap_init(&seen, src->nevttypes) < 0) {
			log_err("out of memory");
			return EXIT_FAILURE;
		}
		printf("[%s events]\n", src->name);
		for (uint32_t c = 0; c < src->nevttypes; c++) {
			const char *n = src->evttype_name((uint16_t)c);
			if (!n || !*n || streq(n, "unknown") || hmap_contains(&seen, n, strlen(n)))
				continue;
			(void)hmap_put(&seen, n, strlen(n), NULL);
			printf("%s\n", n);
		}
		printf("\n");
		hmap_done(&seen);
	}
	fflush(stdout);
	return EXIT_SUCCESS;
}

int daemon_check_driver(void)
{
	char err[4096];
	int r = evt_bpf_check(err, sizeof(err));

	if (r < 0) {
		log_err("the modern eBPF probe cannot run here: %s", err);
		return EXIT_FAILURE;
	}
	printf("modern_ebpf: the probe loads and attaches on this kernel\n");
	fflush(stdout);
	return EXIT_SUCCESS;
}

/* ---- alerts ---- */

static int collect_field(void *ud, const char *name, const struct value *v)
{
	struct daemon *d = ud;

	if (d->nfields == d->capfields) {
		size_t ncap = d->capfields ? d->capfields * 2 : 16;
		struct out_field *nf = realloc(d->fields, ncap * sizeof(*nf));
		if (!nf)
			return -ENOMEM;
		d->fields = nf;
		d->capfields = ncap;
	}
	struct out_field *f = &d->fields[d->nfields++];
	f->name = name;
	f->missing = !v;
	if (v)
		f->val = *v;
	/* as upstream, the time fields are integer nanoseconds in output_fields */
	if (streq(name, "evt.time") || streq(name, "evt.time.iso8601")) {
		f->missing = false;
		f->val = (struct value){.type = FT_ABSTIME, .u64 = d->cur->ts};
	}
	return 0;
}

/* Structured sinks (journald) get the output fields as text: strings as they are, other values as JSON. */
static int kv_add(struct daemon *d, const char *name, const struct value *v, bool missing)
{
	if (d->nkv == d->capkv) {
		size_t nc = d->capkv ? d->capkv * 2 : 16;
		struct out_kv *nkv = realloc(d->kv, nc * sizeof(*nkv));
		if (!nkv)
			return -ENOMEM;
		d->kv = nkv;
		size_t *noff = realloc(d->kvoff, nc * sizeof(*noff));
		if (!noff)
			return -ENOMEM;
		d->kvoff = noff;
		d->capkv = nc;
	}
	d->kv[d->nkv].key = name;
	d->kvoff[d->nkv] = SIZE_MAX;
	if (!missing) {
		d->kvoff[d->nkv] = d->kvbuf.len;
		if ((v->type == FT_STRING || v->type == FT_PATH) && !v->is_list)
			strbuf_append(&d->kvbuf, v->str, v->len);
		else
			out_fmt_value_json(v, &d->kvbuf);
		strbuf_appendc(&d->kvbuf, '\0');
	}
	d->nkv++;
	return 0;
}

/* Points the collected values into kvbuf (which may have moved while growing). */
static void kv_finish(struct daemon *d)
{
	for (size_t i = 0; i < d->nkv; i++)
		d->kv[i].value = d->kvoff[i] == SIZE_MAX || d->kvbuf.failed
					 ? NULL
					 : d->kvbuf.buf + d->kvoff[i];
}

static int collect_kv(void *ud, const char *name, const struct value *v)
{
	return kv_add(ud, name, v, !v);
}

static void on_match(void *ud, const struct rule *r, struct rs_eval *ev)
{
	struct daemon *d = ud;
	const struct evt *e = d->cur;
	int prio = rule_priority(r);
	char tb[64];
	const char *time_str = tb;

	d->alerts++;
	metrics_rule_hit(d->mr, rule_id(r));
	if (prio >= 0 && prio < _PRIO_MAX)
		d->prio_hits[prio]++;
	if (!d->out)
		return;
	/* outputs_rate_limit: throttled matches are counted (metric, periodic log), never formatted */
	if (d->rl && !out_ratelimit_claim(d->rl, rule_id(r), out_monotonic_ns())) {
		d->throttled++;
		metrics_count_rate_limited(d->m);
		return;
	}

	strbuf_reset(&d->msg);
	strbuf_reset(&d->line);
	rule_format_output(r, ev, &d->msg);
	if (d->prefix[e->source]) {
		strbuf_reset(&d->tbuf);
		if (fmt_render(d->prefix[e->source], ev, &d->tbuf) >= 0)
			time_str = strbuf_str(&d->tbuf);
		else
			out_fmt_time(e->ts, d->fo.iso8601, tb, sizeof(tb));
	} else {
		out_fmt_time(e->ts, d->fo.iso8601, tb, sizeof(tb));
	}

	const char *out_line;
	size_t out_len;
	if (d->fo.json) {
		size_t nt;
		const char *const *tags = rule_tags(r, &nt);
		d->nfields = 0;
		if (d->fo.include_output_fields) {
			rule_output_fields(r, ev, collect_field, d);
			collect_field(d, d->fo.iso8601 ? "evt.time.iso8601" : "evt.time", NULL);
		}
		out_fmt_output(time_str, prio, strbuf_str(&d->msg), &d->line);
		strbuf_reset(&d->json);
		out_fmt_json(&d->fo, e->ts, prio, rule_name(r), rule_source(r), tags, nt,
			     strbuf_str(&d->line), strbuf_str(&d->msg), d->fields, d->nfields,
			     &d->json);
		out_line = strbuf_str(&d->json);
		out_len = d->json.len;
	} else {
		out_fmt_text(time_str, prio, strbuf_str(&d->msg), &d->line);
		out_line = strbuf_str(&d->line);
		out_len = d->line.len;
	}

	struct out_alert_info info = {
		.priority = prio,
		.ts = e->ts,
		.json = d->fo.json,
		.rule = rule_name(r),
		.source = rule_source(r),
		.line = out_line,
		.len = out_len,
	};
	if (out_wants_structured(d->out)) {
		d->nkv = 0;
		strbuf_reset(&d->kvbuf);
		if (d->fo.json && d->fo.include_output_fields) {
			for (size_t i = 0; i < d->nfields; i++)
				kv_add(d, d->fields[i].name, &d->fields[i].val,
				       d->fields[i].missing);
		} else {
			rule_output_fields(r, ev, collect_kv, d);
		}
		kv_finish(d);
		info.tags = rule_tags(r, &info.ntags);
		info.fields = d->kv;
		info.nfields = d->nkv;
	}
	struct out_alert *al = out_alert_new_info(&info);
	if (!al) {
		log_err("out of memory formatting an alert for rule '%s'", rule_name(r));
		return;
	}
	metrics_count_alert(d->m, prio, e->source);
	out_push(d->out, al); /* drops are counted per sink and reported by the tick */
	out_alert_unref(al);
}

/*
 * An internal alert (source "internal"): the reload failure, output overflow, the metrics snapshot. As upstream's
 * handle_msg: the JSON "output" is msg itself, the text line is "<time>: <Priority> <msg> (k=v k=v)". Goes to the
 * outputs o (d->out, or the metrics output_file's own outputs with json forced).
 */
static void emit_internal(struct daemon *d, struct outputs *o, bool json, int prio,
			  const char *rule, const char *msg, const struct metrics_item *items,
			  size_t n)
{
	struct timespec now;
	struct strbuf text, body, vb;
	struct out_fmt_opts fo = d->fo;
	char tb[64];

	if (!o)
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	struct out_field *f = calloc(n + 1, sizeof(*f));
	struct out_kv *kv = calloc(n + 1, sizeof(*kv));
	if (!f || !kv) {
		free(f);
		free(kv);
		log_err("out of memory formatting the internal alert '%s'", rule);
		return;
	}
	strbuf_init(&text, 0);
	strbuf_init(&body, 0);
	strbuf_init(&vb, 0);
	/* values: typed for JSON, text for the message and structured sinks */
	size_t *off = calloc(n + 1, sizeof(*off));
	strbuf_appends(&text, msg);
	for (size_t i = 0; i < n; i++) {
		const struct metrics_item *it = &items[i];
		f[i].name = it->name;
		if (off)
			off[i] = vb.len;
		switch (it->type) {
		case METRICS_U64:
			f[i].val = (struct value){.type = FT_U64, .u64 = it->u64};
			strbuf_appendf(&vb, "%" PRIu64, it->u64);
			break;
		case METRICS_DOUBLE:
			f[i].val = (struct value){.type = FT_DOUBLE, .d = it->d};
			strbuf_appendf(&vb, "%.6g", it->d);
			break;
		default:
			f[i].val = (struct value){.type = FT_STRING,
						  .str = it->str ? it->str : "",
						  .len = it->str ? (uint32_t)strlen(it->str) : 0};
			strbuf_appends(&vb, it->str ? it->str : "");
		}
		strbuf_appendc(&vb, '\0');
	}
	for (size_t i = 0; off && !vb.failed && i < n; i++) {
		kv[i] = (struct out_kv){.key = items[i].name, .value = vb.buf + off[i]};
		strbuf_appendf(&text, "%s%s=%s", i ? " " : " (", items[i].name, vb.buf + off[i]);
	}
	if (n)
		strbuf_appendc(&text, ')');
	out_fmt_time(ts, fo.iso8601, tb, sizeof(tb));
	fo.json = json;
	fo.include_output_fields = true; /* an internal alert's fields are its content */
	f[n] = (struct out_field){.name = fo.iso8601 ? "evt.time.iso8601" : "evt.time",
				  .val = {.type = FT_ABSTIME, .u64 = ts}};
	if (json)
		out_fmt_json(&fo, ts, prio, rule, "internal", NULL, 0, msg, msg, f, n + 1, &body);
	else
		out_fmt_text(tb, prio, strbuf_str(&text), &body);
	struct out_alert_info info = {
		.priority = prio,
		.ts = ts,
		.json = json,
		.rule = rule,
		.source = "internal",
		.line = strbuf_str(&body),
		.len = body.len,
		.fields = off && !vb.failed ? kv : NULL,
		.nfields = off && !vb.failed ? n : 0,
	};
	struct out_alert *al = body.failed ? NULL : out_alert_new_info(&info);
	if (al) {
		if (o == d->out)
			metrics_count_alert(d->m, prio, METRICS_SOURCE_INTERNAL);
		out_push(o, al);
		out_alert_unref(al);
	} else {
		log_err("out of memory formatting the internal alert '%s'", rule);
	}
	strbuf_done(&text);
	strbuf_done(&body);
	strbuf_done(&vb);
	free(off);
	free(f);
	free(kv);
}

static void process_event(struct daemon *d, const struct evt *e)
{
	metrics_count_event(d->m, e->source);
	d->cur = e;
	ruleset_process(d->rs, d->ev, e,
			e->source == SRC_SYSCALL && d->sc ? sc_source_state(d->sc) : NULL, on_match,
			d);
	d->cur = NULL;
}

/* Takes b. */
static void process_k8s_batch(struct daemon *d, struct k8s_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct evt e = {
			.source = SRC_K8S_AUDIT,
			.ts = b->evts[i].ts,
			.num = ++d->events[SRC_K8S_AUDIT],
			.data = &b->evts[i],
		};
		process_event(d, &e);
	}
	k8s_batch_free(b);
}

/* ---- sources ---- */

static void k8s_replay_error(void *ud, const char *msg)
{
	log_warn("k8s_audit: %s", msg);
}

static void replay_finished(struct daemon *d, bool failed)
{
	size_t errors = d->replay ? k8s_replay_errors(d->replay) : 0;

	log_info("Replay of '%s' finished: %" PRIu64 " events", d->replay_path,
		 d->events[SRC_K8S_AUDIT]);
	if (errors) {
		log_err("%zu malformed lines or items in '%s' were skipped", errors,
			d->replay_path);
		d->exit_code = EXIT_FAILURE;
	}
	if (failed)
		d->exit_code = EXIT_FAILURE;
	d->replay = k8s_replay_close(d->replay);
	/* every source ended: falco ends (the webhook is never combined with a replay) */
	event_base_loopexit(d->base, NULL);
}

static void replay_pump(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char err[512];

	for (int i = 0; i < REPLAY_BATCHES_PER_WAKEUP; i++) {
		struct k8s_batch *b = NULL;
		int r = k8s_replay_next(d->replay, &b, err, sizeof(err));
		if (r < 0) {
			log_err("failed to read '%s': %s", d->replay_path, err);
			replay_finished(d, true);
			return;
		}
		if (r == 0) {
			replay_finished(d, false);
			return;
		}
		process_k8s_batch(d, b);
	}
	event_active(d->replay_ev, EV_TIMEOUT, 0);
}

/*
 * Replay formats, detected by content so `-e FILE` stays one option: Kubernetes audit JSON today; the syscall
 * source adds its capture format to this table (probe its magic, open, pump events into process_event()).
 */
struct replay_format {
	const char *name;
	bool (*probe)(const unsigned char *head, size_t n);
	int (*open)(struct daemon *d, const char *path, char *errbuf, size_t errlen);
};

static bool probe_json(const unsigned char *h, size_t n)
{
	size_t i = 0;
	if (n >= 3 && h[0] == 0xEF && h[1] == 0xBB && h[2] == 0xBF)
		i = 3; /* UTF-8 byte order mark */
	while (i < n && (h[i] == ' ' || h[i] == '\t' || h[i] == '\r' || h[i] == '\n'))
		i++;
	return i == n || h[i] == '{' || h[i] == '[';
}

static bool probe_scap(const unsigned char *h, size_t n)
{
	/* scap files start with a pcapng section header block */
	return n >= 4 && h[0] == 0x0A && h[1] == 0x0D && h[2] == 0x0D && h[3] == 0x0A;
}

static int open_k8s_replay(struct daemon *d, const char *path, char *errbuf, size_t errlen)
{
	struct k8s_parse_opts po = {
		.max_event_size = d->a->cfg->k8s_audit.max_event_size,
		.on_error = k8s_replay_error,
		.ud = d,
	};
	if (!d->src_enabled[SRC_K8S_AUDIT])
		return errf(errbuf, errlen, -EINVAL,
			    "'%s' holds k8s_audit events but the k8s_audit source is disabled",
			    path);
	int r = k8s_replay_open(path, &po, &d->replay, errbuf, errlen);
	if (r < 0)
		return r;
	d->replay_ev = event_new(d->base, -1, 0, replay_pump, d);
	if (!d->replay_ev)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	event_active(d->replay_ev, EV_TIMEOUT, 0);
	log_info("Reading k8s_audit events from '%s'", path);
	return 0;
}

static int open_scap_replay(struct daemon *d, const char *path, char *errbuf, size_t errlen)
{
	return errf(
		errbuf, errlen, -EOPNOTSUPP,
		"'%s' is an upstream .scap capture: this build replays its own capture format (falco -w)",
		path);
}

static int open_sc_replay(struct daemon *d, const char *path, char *errbuf, size_t errlen);

static bool sc_capture_probe_head(const unsigned char *h, size_t n)
{
	return sc_capture_probe(h, n);
}

static const struct replay_format replay_formats[] = {
	{"syscall capture", sc_capture_probe_head, open_sc_replay},
	{"k8s_audit JSON", probe_json, open_k8s_replay},
	{"scap capture", probe_scap, open_scap_replay},
};

static int open_replay(struct daemon *d, const char *path, char *errbuf, size_t errlen)
{
	unsigned char head[512];
	ssize_t n = 0;
	struct stat st;

	if (stat(path, &st) < 0)
		return errf(errbuf, errlen, -errno, "cannot open '%s': %s", path, strerror(errno));
	if (S_ISDIR(st.st_mode))
		return open_k8s_replay(d, path, errbuf, errlen); /* a directory of audit files */
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errf(errbuf, errlen, -errno, "cannot open '%s': %s", path, strerror(errno));
	do
		n = read(fd, head, sizeof(head));
	while (n < 0 && errno == EINTR);
	int saved = errno;
	(void)close(fd);
	if (n < 0)
		return errf(errbuf, errlen, -saved, "cannot read '%s': %s", path, strerror(saved));
	for (size_t i = 0; i < ARRAY_SIZE(replay_formats); i++)
		if (replay_formats[i].probe(head, (size_t)n))
			return replay_formats[i].open(d, path, errbuf, errlen);
	return errf(
		errbuf, errlen, -EINVAL,
		"cannot tell the format of '%s' (expected Kubernetes audit events as JSON lines)",
		path);
}

static void webhook_deliver(void *ud, struct k8s_batch *b)
{
	process_k8s_batch(ud, b);
}

static void webhook_error(void *ud, const char *msg)
{
	log_warn("k8s_audit webhook: %s", msg);
}

static int open_k8s_webhook(struct daemon *d, char *errbuf, size_t errlen)
{
	const struct cfg_k8s_audit *k = &d->a->cfg->k8s_audit;
	struct http_webhook_config wc;

	http_webhook_config_init(&wc);
	wc.listen_address = k->listen_address;
	wc.listen_port = k->listen_port;
	wc.path = k->path;
	wc.tls.enabled = k->tls;
	wc.tls.certificate = k->tls_cert;
	wc.tls.key = k->tls_key;
	wc.tls.ca = k->tls_ca;
	wc.tls.verify_client = k->mtls;
	wc.limits.max_body_size = k->max_batch_size;
	wc.max_event_size = k->max_event_size;
	wc.queue_max_batches = k->queue_capacity;
	struct http_webhook_callbacks cbs = {
		.deliver = webhook_deliver, .on_error = webhook_error, .ud = d};
	int r = http_webhook_start(&wc, d->base, &cbs, &d->webhook, errbuf, errlen);
	if (r < 0)
		return r;
	log_info("Opening 'k8s_audit' source: webhook on %s://%s:%u%s%s", k->tls ? "https" : "http",
		 *k->listen_address ? k->listen_address : "*", http_webhook_port(d->webhook),
		 k->path, k->mtls ? " (client certificates required)" : "");
	if (!k->tls && !streq(k->listen_address, "127.0.0.1") && !streq(k->listen_address, "::1") &&
	    !streq(k->listen_address, "localhost"))
		log_warn(
			"k8s_audit: the webhook serves plain HTTP beyond loopback, so audit events (request "
			"bodies included) travel unencrypted; set k8s_audit.tls.enabled (or an https:// "
			"open_params) for HTTPS");
	return 0;
}

/*
 * ---- the syscall source (falco/source/sc_source.h) ----
 * Live: /proc is seeded, the eBPF probe attached and its rings drained on this loop into process_event(); -w also
 * records everything into a capture file. Replay (-e on a capture): the file's snapshot and events instead.
 */
#define SC_REPLAY_EVENTS_PER_TURN 4096
#define SC_PUMP_BATCH		  1024

static void sc_emit(void *ud, const struct evt *e, void *src_state)
{
	struct daemon *d = ud;
	d->events[SRC_SYSCALL]++;
	process_event(d, e);
}

static int sc_options(struct daemon *d, struct sc_source_opts *so, bool replay, char *errbuf,
		      size_t errlen)
{
	static char falcoctl[512], host_root[ST_ROOT_MAX], proc_root[ST_ROOT_MAX];
	char self[512];
	/* falco's own executable: our /proc, whatever HOST_ROOT says */
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	const char *env = getenv("HOST_ROOT");
	int r;

	memset(so, 0, sizeof(*so));
	falcoctl[0] = '\0';
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			if (strlen(self) + STRLEN("/falcoctl") < sizeof(falcoctl))
				memcpy(stpcpy(falcoctl, self), "/falcoctl",
				       STRLEN("/falcoctl") + 1);
		}
	}
	so->state.replay = replay;
	so->state.runtimes = !replay;
	so->state.falcoctl_path = falcoctl[0] ? falcoctl : NULL;
	so->source_index = SRC_SYSCALL;
	so->capture_out = replay ? NULL : d->a->cli->capture_out;
	so->emit = sc_emit;
	so->ud = d;
	if (replay)
		return 0; /* a capture brings its own state: nothing is read from this machine */
	/*
	 * Upstream's HOST_ROOT: falco runs in a container with the host's / at $HOST_ROOT. The driver reports host
	 * pids, so the host's processes, their fds, sockets, cgroups and container users come from
	 * $HOST_ROOT/proc; host users from $HOST_ROOT/etc; runtime sockets under $HOST_ROOT.
	 */
	if (env && *env) {
		if ((r = st_host_root_resolve(env, host_root, proc_root, errbuf, errlen)) < 0)
			return r;
		so->state.host_root = host_root;
		so->state.proc_root = proc_root;
	}
	/*
	 * Our pid as the procfs we seed from numbers it (the host tgid through $HOST_ROOT/proc, even from another
	 * pid namespace): getpid() there would mark whichever host process has our namespace's number, and its
	 * descendants, as falco's own. Without /proc, getpid(); sc_live_open corrects it from the probe.
	 */
	r = st_proc_root_self(so->state.proc_root ? so->state.proc_root : "/proc");
	if (r < 0 && so->state.proc_root)
		return errf(errbuf, errlen, r,
			    "HOST_ROOT='%s': falco cannot find itself in '%s' (%s): not the host's "
			    "/proc?",
			    env, proc_root, strerror(-r));
	so->state.self_pid = r > 0 ? (uint32_t)r : (uint32_t)getpid();
	/* not fatal (nested namespaces may be wanted), but every host process would be <NA> or someone else */
	if (st_proc_root_is_initial(so->state.proc_root ? so->state.proc_root : "/proc") == 0) {
		if (so->state.proc_root)
			log_warn(
				"HOST_ROOT='%s': '%s' is not the host's pid namespace, but the driver "
				"reports host pids: processes will be unknown or mistaken",
				env, proc_root);
		else
			log_warn(
				"falco runs in a pid namespace other than the host's and /proc cannot "
				"describe the processes the driver reports (names, command lines, users "
				"and descriptors will be unknown): set HOST_ROOT, with the host's /proc "
				"mounted at $HOST_ROOT/proc");
	}
	return 0;
}

static void sc_replay_pump(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	char err[1024];
	int r = sc_replay_step(d->sc, SC_REPLAY_EVENTS_PER_TURN, err, sizeof(err));

	if (r > 0) {
		event_active(d->sc_replay_ev, EV_TIMEOUT, 0);
		return;
	}
	if (r < 0) {
		log_err("failed to replay: %s", err);
		d->exit_code = EXIT_FAILURE;
	}
	struct sc_source_stats st;
	sc_source_get_stats(d->sc, &st);
	log_info("Replay of '%s' finished: %" PRIu64 " events (%" PRIu64 " to the rules)",
		 d->replay_path, st.records, st.to_rules);
	event_base_loopexit(d->base, NULL);
}

static int open_sc_replay(struct daemon *d, const char *path, char *errbuf, size_t errlen)
{
	struct sc_source_opts so;
	int r;

	if (!d->src_enabled[SRC_SYSCALL])
		return errf(errbuf, errlen, -EINVAL,
			    "'%s' holds syscall events but the syscall source is disabled", path);
	if (d->a->cli->capture_out)
		log_warn("-w is ignored while replaying a capture");
	if ((r = sc_options(d, &so, true, errbuf, errlen)) < 0)
		return r;
	if ((r = sc_source_new(&so, &d->sc, errbuf, errlen)) < 0)
		return r;
	if ((r = sc_replay_open(d->sc, path, errbuf, errlen)) < 0)
		return r;
	d->sc_replay_ev = event_new(d->base, -1, 0, sc_replay_pump, d);
	if (!d->sc_replay_ev)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	event_active(d->sc_replay_ev, EV_TIMEOUT, 0);
	log_info("Reading syscall events from capture '%s'", path);
	return 0;
}

static void rules_evttypes(struct daemon *d, uint64_t *bits)
{
	memset(bits, 0, EVT_TYPE_WORDS * sizeof(*bits));
	if (ruleset_evttypes(d->rs, SRC_SYSCALL, bits, EVT_TYPE_WORDS) < 0)
		memset(bits, 0xff, EVT_TYPE_WORDS * sizeof(*bits));
}

static void publish_driver_counters(struct daemon *d);

static int open_syscall_source(struct daemon *d, char *errbuf, size_t errlen)
{
	const struct falco_config *cfg = d->cfg;
	struct sc_source_opts so;
	struct evt_bpf_opts bo;
	uint64_t bits[EVT_TYPE_WORDS];
	int r;

	if ((r = sc_options(d, &so, false, errbuf, errlen)) < 0)
		return r;
	if ((r = sc_source_new(&so, &d->sc, errbuf, errlen)) < 0)
		return r;
	if ((r = sc_source_seed(d->sc, errbuf, errlen)) < 0)
		return r;
	log_info("Syscall source: %d processes loaded from %s%s%s", r,
		 so.state.proc_root ? so.state.proc_root : "/proc",
		 so.capture_out ? ", recording to " : "", so.capture_out ? so.capture_out : "");
	evt_bpf_opts_init(&bo);
	bo.cpus_per_ring = (uint32_t)cfg->modern_ebpf.cpus_for_each_buffer;
	if (cfg->modern_ebpf.buf_size_preset &&
	    evt_bpf_preset_bytes(cfg->modern_ebpf.buf_size_preset))
		bo.ring_bytes = evt_bpf_preset_bytes(cfg->modern_ebpf.buf_size_preset);
	if (d->a->cli->page_size > 0)
		bo.ring_bytes = (uint64_t)d->a->cli->page_size;
	bo.flags =
		EVT_CFG_CAPTURE_ENV | (cfg->modern_ebpf.drop_failed_exit ? EVT_CFG_DROP_FAILED : 0);
	rules_evttypes(d, bits);
	if ((r = sc_live_open(d->sc, d->base, &bo, SC_PUMP_BATCH, bits, EVT_TYPE_WORDS, errbuf,
			      errlen)) < 0)
		return r;
	struct sc_drop_policy pol = {
		.threshold = cfg->syscall_event_drops.threshold,
		.actions = cfg->syscall_event_drops.actions,
		.rate = cfg->syscall_event_drops.rate,
		.max_burst = cfg->syscall_event_drops.max_burst,
		.simulate = cfg->syscall_event_drops.simulate_drops,
	};
	sc_drops_init(&d->sc_drops, &pol);
	/* so that a scrape right after start-up (falcoctl driver status) already has the driver's families */
	if (d->m)
		publish_driver_counters(d);
	log_info(
		"Opening 'syscall' source: modern eBPF probe attached (%zu ring buffers of %" PRIu64
		" KiB)",
		evt_bpf_nrings(sc_live_bpf(d->sc)), bo.ring_bytes >> 10);
	return 0;
}

/* After a rules reload: the probe follows the new rules' event types. */
static void syscall_rules_changed(struct daemon *d)
{
	uint64_t bits[EVT_TYPE_WORDS];

	if (!d->sc || !sc_live_attached(d->sc))
		return;
	rules_evttypes(d, bits);
	int r = sc_live_set_interesting(d->sc, bits, EVT_TYPE_WORDS);
	if (r < 0)
		log_err("failed to update the probe's syscalls after the reload: %s", strerror(-r));
}

/* The probe's counters into /metrics (falcosecurity_scap_*): at attach, then on every syscall tick. */
static void publish_driver_counters(struct daemon *d)
{
	struct evt_counters total, *percpu = NULL;
	size_t ncpu = 0, maxcpu = 0;

	/* metrics.kernel_event_counters_per_cpu_enabled: falcosecurity_scap_n_{evts,drops}_cpu_total{cpu} */
	if (d->a->cfg->metrics.kernel_event_counters_per_cpu_enabled &&
	    (maxcpu = (size_t)sysconf(_SC_NPROCESSORS_CONF)) > 0)
		percpu = calloc(maxcpu, sizeof(*percpu));
	if (evt_bpf_counters(sc_live_bpf(d->sc), &total, percpu, percpu ? maxcpu : 0, &ncpu) == 0)
		metrics_set_driver(d->m, &total, percpu, percpu ? MIN(ncpu, maxcpu) : 0);
	free(percpu);
}

/* Once a second: runtime answers and sweeps, drops (upstream's syscall_event_drops), /metrics counters. */
static void syscall_tick(struct daemon *d)
{
	struct sc_drop_counters c;
	struct sc_drop_verdict v;
	struct timespec now;
	const char *cerr;

	if (!d->sc || !sc_live_attached(d->sc))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	uint64_t ts = (uint64_t)now.tv_sec * 1000000000ull + (uint64_t)now.tv_nsec;
	sc_source_tick(d->sc, ts);
	if ((cerr = sc_source_capture_error(d->sc)))
		log_err("capture file: %s: recording stopped, detection goes on", cerr);
	publish_driver_counters(d);
	if (sc_live_counters(d->sc, &c) < 0 || sc_drops_check(&d->sc_drops, &c, ts, &v) <= 0)
		return;
	log_debug("syscall event drops: %" PRIu64 " of %" PRIu64 " events in the last period",
		  v.n_drops, v.n_evts);
	if (v.actions & SC_DROP_LOG)
		log_warn("Falco internal: syscall event drop. %" PRIu64
			 " system calls dropped in last second "
			 "(%" PRIu64 " events, %.1f%%; ring full %" PRIu64 ", too large %" PRIu64
			 ")",
			 v.n_drops, v.n_evts, v.ratio * 100, v.delta.n_drops_buffer,
			 v.delta.n_drops_max_size);
	if (v.actions & SC_DROP_ALERT) {
		struct metrics_item items[] = {
			{.name = (char *)"n_drops", .type = METRICS_U64, .u64 = v.n_drops},
			{.name = (char *)"n_evts", .type = METRICS_U64, .u64 = v.n_evts},
			{.name = (char *)"n_drops_buffer",
			 .type = METRICS_U64,
			 .u64 = v.delta.n_drops_buffer},
			{.name = (char *)"n_drops_max_event_size",
			 .type = METRICS_U64,
			 .u64 = v.delta.n_drops_max_size},
			{.name = (char *)"n_drops_buffer_open",
			 .type = METRICS_U64,
			 .u64 = v.delta.n_drops_buffer_cat[EVT_CAT_OPEN]},
			{.name = (char *)"n_drops_buffer_exec",
			 .type = METRICS_U64,
			 .u64 = v.delta.n_drops_buffer_cat[EVT_CAT_EXEC]},
			{.name = (char *)"n_drops_buffer_clone",
			 .type = METRICS_U64,
			 .u64 = v.delta.n_drops_buffer_cat[EVT_CAT_CLONE]},
			{.name = (char *)"n_drops_buffer_connect",
			 .type = METRICS_U64,
			 .u64 = v.delta.n_drops_buffer_cat[EVT_CAT_CONNECT]},
			{.name = (char *)"n_drops_buffer_close",
			 .type = METRICS_U64,
			 .u64 = v.delta.n_drops_buffer_cat[EVT_CAT_CLOSE]},
			{.name = (char *)"n_drops_buffer_proc_exit",
			 .type = METRICS_U64,
			 .u64 = v.delta.n_drops_buffer_cat[EVT_CAT_PROCEXIT]},
			{.name = (char *)"n_drops_buffer_other",
			 .type = METRICS_U64,
			 .u64 = v.delta.n_drops_buffer_cat[EVT_CAT_OTHER]},
			{.name = (char *)"ratio", .type = METRICS_DOUBLE, .d = v.ratio},
		};
		char msg[160];
		snprintf(msg, sizeof(msg),
			 "Falco internal: syscall event drop. %" PRIu64
			 " system calls dropped in last second.",
			 v.n_drops);
		emit_internal(d, d->out, d->fo.json, PRIO_CRITICAL,
			      "Falco internal: syscall event drop", msg, items, ARRAY_SIZE(items));
	}
	if (v.actions & SC_DROP_EXIT) {
		log_err("syscall event drops (%" PRIu64
			" in the last second) and syscall_event_drops.actions "
			"includes exit: exiting",
			v.n_drops);
		d->exit_code = EXIT_FAILURE;
		event_base_loopbreak(d->base);
	}
}

static void syscall_close(struct daemon *d)
{
	char err[512];

	if (d->sc_replay_ev)
		event_free(d->sc_replay_ev);
	d->sc_replay_ev = NULL;
	if (!d->sc)
		return;
	if (sc_live_attached(d->sc)) {
		struct sc_source_stats st;
		struct sc_drop_counters c;
		sc_source_get_stats(d->sc, &st);
		/* the driver's totals since attach: drops after the last tick are counted too */
		if (sc_live_counters(d->sc, &c) < 0)
			memset(&c, 0, sizeof(c));
		log_info("Syscall source: %" PRIu64 " events (%" PRIu64 " to the rules, %" PRIu64
			 " malformed), %" PRIu64 " drops counted (ring full %" PRIu64
			 ", too large %" PRIu64 ", no ring %" PRIu64 ")",
			 st.records, st.to_rules, st.malformed,
			 c.n_drops_buffer + c.n_drops_max_size + c.n_drops_other, c.n_drops_buffer,
			 c.n_drops_max_size, c.n_drops_other);
		log_info("Syscall source state: %" PRIu64 " processes, %" PRIu64
			 " threads, %" PRIu64 " descriptors; %" PRIu64 " /proc lookups (%" PRIu64
			 " failed, %" PRIu64 " rate limited, %" PRIu64 " socket table reads)",
			 st.st.procs, st.st.threads, st.st.fds, st.st.proc_lookups,
			 st.st.proc_lookup_fail, st.st.proc_lookup_limited, st.st.sock_table_reads);
		if (st.st.runtime_queries)
			log_info("Container metadata: %" PRIu64 " runtime queries, %" PRIu64
				 " answered, %" PRIu64 " failed",
				 st.st.runtime_queries, st.st.runtime_answers,
				 st.st.runtime_failures);
	}
	atomic_store(&d->syscall_up, false);
	sc_live_close(d->sc);
	if (sc_source_close_capture(d->sc, err, sizeof(err)) < 0)
		log_err("capture file: %s", err);
	d->sc = sc_source_free(d->sc);
}

static int select_sources(struct daemon *d)
{
	const struct cli_opts *cli = d->a->cli;

	for (int i = 0; i < NSRC; i++)
		d->src_enabled[i] = !cli->enable_sources.n;
	for (size_t i = 0; i < cli->enable_sources.n; i++) {
		int s = find_source(cli->enable_sources.v[i]);
		if (s < 0) {
			log_err("cannot enable unknown event source '%s' (known: syscall, k8s_audit)",
				cli->enable_sources.v[i]);
			return -EINVAL;
		}
		d->src_enabled[s] = true;
	}
	for (size_t i = 0; i < cli->disable_sources.n; i++) {
		int s = find_source(cli->disable_sources.v[i]);
		if (s < 0) {
			log_err("cannot disable unknown event source '%s' (known: syscall, k8s_audit)",
				cli->disable_sources.v[i]);
			return -EINVAL;
		}
		d->src_enabled[s] = false;
	}
	bool any = false;
	for (int i = 0; i < NSRC; i++)
		any |= d->src_enabled[i];
	if (!any) {
		log_err("every event source is disabled: at least one must stay enabled");
		return -EINVAL;
	}
	return 0;
}

/*
 * Decides, before anything is loaded, what will produce events: a replay (-e, a k8saudit plugin entry whose
 * open_params is a path, engine.kind=replay), else the live sources. Fails early and clearly when nothing can.
 */
static int plan_sources(struct daemon *d)
{
	const struct falco_config *cfg = d->a->cfg;

	d->replay_path = d->a->cli->replay_file;
	if (!d->replay_path && cfg->k8s_audit.replay_file)
		d->replay_path = cfg->k8s_audit.replay_file;
	if (!d->replay_path && streq(cfg->engine_kind, "replay")) {
		if (!cfg->replay_capture_file || !*cfg->replay_capture_file) {
			log_err("engine.kind is replay but engine.replay.capture_file is empty");
			return -EINVAL;
		}
		d->replay_path = cfg->replay_capture_file;
	}
	if (d->replay_path)
		return 0;

	d->live_k8s = d->src_enabled[SRC_K8S_AUDIT] && cfg->k8s_audit.enabled;
	d->live_syscall = d->src_enabled[SRC_SYSCALL] && !streq(cfg->engine_kind, "nodriver");
	if (d->live_syscall && streq(cfg->engine_kind, "gvisor")) {
		/* the probe sees the host's system calls, not a sandbox's: standing in would hide that */
		log_err("engine.kind=gvisor: this falco has no gVisor source; use modern_ebpf to watch the "
			"host (gVisor's sandboxes are not visible to it) or nodriver");
		return -ENOTSUP;
	}
	if (d->live_syscall && !streq(cfg->engine_kind, "modern_ebpf"))
		log_warn(
			"engine.kind=%s: this falco captures system calls with its modern eBPF probe "
			"only; using modern_ebpf",
			cfg->engine_kind);
	if (!d->live_k8s && !d->live_syscall) {
		log_err("no event source is available: the syscall source is disabled (engine.kind=nodriver or --disable-source syscall); use -e FILE to replay a capture or Kubernetes audit events, or enable the k8s_audit webhook (k8s_audit.enabled=true, or a k8saudit plugin entry in load_plugins)");
		return -ENOENT;
	}
	return 0;
}

/* Opens what plan_sources() chose. */
static int open_sources(struct daemon *d)
{
	char err[1024];
	int r;

	if (d->replay_path) {
		if ((r = open_replay(d, d->replay_path, err, sizeof(err))) < 0) {
			log_err("%s", err);
			return r;
		}
		return 0;
	}

	char names[64] = "";
	for (int i = 0; i < NSRC; i++)
		if ((i == SRC_K8S_AUDIT && d->live_k8s) || (i == SRC_SYSCALL && d->live_syscall))
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 *names ? ", " : "", all_sources[i]->name);
	log_info("Enabled event sources: %s", names);
	if (d->live_k8s && (r = open_k8s_webhook(d, err, sizeof(err))) < 0) {
		log_err("failed to open the k8s_audit source: %s", err);
		return r;
	}
	if (d->live_syscall && (r = open_syscall_source(d, err, sizeof(err))) < 0) {
		log_err("failed to open the syscall source: %s", err);
		return r;
	}
	return 0;
}

/*
 * /healthz, on the webserver thread: only atomics, the webhook's and the outputs' lock-free checks. Unhealthy, in
 * this order, when the engine loop has not ticked for the stall timeout, when no event source runs any more,
 * when one of the live sources has stopped, when the k8s_audit webhook is wedged (its thread stuck, or batches
 * waiting that the engine does not take), or when an output is wedged. The webserver starts after the sources
 * and stops before them, so d->webhook is stable while this runs.
 */
static bool webserver_health(void *ud, char *reason, size_t reasonlen)
{
	struct daemon *d = ud;
	uint64_t now = out_monotonic_ns(), stall = atomic_load(&d->stall_ns);
	uint64_t hb = metrics_last_heartbeat(d->m);
	unsigned stall_ms = (unsigned)MIN(stall / 1000000, (uint64_t)UINT_MAX);
	bool k8s_up = d->live_k8s && d->webhook && http_webhook_running(d->webhook);
	bool sc_up = d->live_syscall && atomic_load(&d->syscall_up);

	if (now > hb && now - hb > stall + (uint64_t)TICK_MS * 1000000ull) {
		snprintf(reason, reasonlen, "the engine loop has not run for %" PRIu64 " ms",
			 (now - hb) / 1000000);
		return false;
	}
	if (!k8s_up && !sc_up) {
		snprintf(reason, reasonlen, "no event source is running%s%s",
			 d->live_syscall ? " (syscall: the probe is detached)" : "",
			 d->live_k8s ? " (k8s_audit: the webhook thread has stopped)" : "");
		return false;
	}
	if (d->live_syscall && !sc_up) {
		snprintf(reason, reasonlen,
			 "event source 'syscall' is not running: the probe is detached");
		return false;
	}
	if (d->webhook && !http_webhook_healthy(d->webhook, stall_ms, reason, reasonlen))
		return false;
	return out_check_stalled(d->out, now, stall, reason, reasonlen) == 0;
}

static void metrics_route(void *ud, const struct http_route_request *req,
			  struct http_response *resp)
{
	resp->content_type = METRICS_CONTENT_TYPE;
	if (metrics_render_prometheus(ud, &resp->body) < 0)
		resp->status = 500;
}

/*
 * /versions as upstream's, plus the plugins whose fields are built in here when falco.yaml loads them: the
 * upstream plugin versions they stand for (required_plugin_versions of upstream rule files are met by these).
 */
static void fill_versions(const struct daemon *d, struct http_versions *v, struct http_kv kv[3])
{
	static const struct http_kv k8s_versions[] = {
		{"k8saudit", "0.18.0"},	   {"k8saudit-aks", "0.6.0"}, {"k8saudit-eks", "0.12.0"},
		{"k8saudit-gke", "0.9.0"}, {"k8saudit-ovh", "0.6.0"},
	};
	size_t n = 0;

	http_versions_init(v);
	v->required_engine_version = ruleset_required_engine_version(d->rs);
	if (d->cfg->k8s_audit.from_plugin)
		for (size_t i = 0; i < ARRAY_SIZE(k8s_versions); i++)
			if (streq(d->cfg->k8s_audit.from_plugin, k8s_versions[i].key))
				kv[n++] = k8s_versions[i];
	if (d->cfg->json_plugin)
		kv[n++] = (struct http_kv){"json", "0.7.0"};
	if (d->cfg->container_plugin)
		kv[n++] = (struct http_kv){"container", "0.4.0"};
	v->plugin_versions = n ? kv : NULL;
	v->n_plugin_versions = n;
}

static int start_webserver(struct daemon *d)
{
	const struct cfg_webserver *w = &d->a->cfg->webserver;
	struct http_server_config sc;
	struct http_versions v;
	char err[512];

	if (!w->enabled)
		return 0;
	http_server_config_init(&sc);
	sc.listen_address = w->listen_address;
	sc.listen_port = w->listen_port;
	sc.healthz_path = w->k8s_healthz_endpoint;
	sc.tls.enabled = w->ssl_enabled;
	sc.tls.certificate = w->ssl_certificate;
	struct http_kv kv[3];
	fill_versions(d, &v, kv);
	struct http_server_callbacks cbs = {.health = webserver_health, .ud = d};
	int r = http_server_start(&sc, &cbs, &v, &d->webserver, err, sizeof(err));
	if (r < 0) {
		log_err("failed to start the webserver: %s", err);
		return r;
	}
	log_info("Starting health webserver on %s:%u (%s)", w->listen_address,
		 http_server_port(d->webserver), w->ssl_enabled ? "https" : "http");
	/* as upstream: /metrics needs both switches */
	if (w->prometheus_metrics_enabled && d->a->cfg->metrics.enabled) {
		r = http_server_add_route(d->webserver, "/metrics", metrics_route, d->m, err,
					  sizeof(err));
		if (r < 0) {
			log_err("failed to add /metrics: %s", err);
			return r;
		}
	} else if (w->prometheus_metrics_enabled) {
		log_warn(
			"webserver.prometheus_metrics_enabled needs metrics.enabled too: /metrics is off");
	}
	return 0;
}

/* ---- outputs ---- */

static void output_error(void *ud, const char *sink, const char *msg)
{
	log_err("output '%s': %s", sink, msg);
}

static void on_out_kick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;

	if (d->out)
		out_kick(d->out);
}

/*
 * out_push() found a worker asleep: wake the workers after the callbacks already due on the loop have run (the
 * rest of this batch of events), so a batch's alerts reach each sink in one wake-up and none waits on a timer.
 * Only the engine thread can activate the event (the loop is not thread-safe): elsewhere, wake them now.
 */
static bool out_defer_wake(void *ud)
{
	struct daemon *d = ud;

	if (!d->out_kick_ev || !pthread_equal(pthread_self(), d->engine_thread))
		return false;
	event_active(d->out_kick_ev, EV_TIMEOUT, 0);
	return true;
}

static int start_outputs(struct daemon *d)
{
	const struct falco_config *cfg = d->a->cfg;
	bool buffered = cfg->buffered_outputs && !d->a->cli->unbuffered;
	struct out_options oo = {
		.queue_capacity = cfg->outputs_queue_capacity,
		.on_error = output_error,
		.defer_wake = out_defer_wake,
		.ud = d,
	};
	int r = 0;

	d->out = out_new(&oo);
	if (!d->out)
		return -ENOMEM;
	if (cfg->stdout_output) {
		struct out_sink *s = out_stdout_new(buffered);
		r = s ? out_add_sink(d->out, s) : -ENOMEM;
	}
	if (r >= 0 && cfg->file_output.enabled) {
		struct out_sink *s = out_file_new(cfg->file_output.filename,
						  cfg->file_output.keep_alive, buffered);
		r = s ? out_add_sink(d->out, s) : -ENOMEM;
	}
	if (r >= 0 && cfg->syslog_output) {
		struct out_sink *s = out_syslog_new();
		r = s ? out_add_sink(d->out, s) : -ENOMEM;
	}
	if (r >= 0 && cfg->journald_output) {
		struct out_sink *s = out_journald_new();
		r = s ? out_add_sink(d->out, s) : -ENOMEM;
	}
	if (r >= 0 && cfg->program_output.enabled) {
		struct out_program_config pc = {
			.program = cfg->program_output.program,
			.keep_alive = cfg->program_output.keep_alive,
			.buffered = buffered,
		};
		struct out_sink *s = out_program_new(&pc);
		r = s ? out_add_sink(d->out, s) : -ENOMEM;
		if (r >= 0)
			log_info("program_output: '%s' runs %s", pc.program,
				 out_program_needs_shell(pc.program)
					 ? "with /bin/sh -c (shell syntax)"
					 : "directly (no shell)");
	}
	if (r >= 0 && cfg->http_output.enabled) {
		const struct cfg_http_output *h = &cfg->http_output;
		struct out_http_config hc = {
			.url = h->url,
			.user_agent = h->user_agent,
			.json = cfg->json_output,
			.insecure = h->insecure,
			.ca_cert = h->ca_cert,
			.ca_bundle = h->ca_bundle,
			.ca_path = h->ca_path,
			.mtls = h->mtls,
			.client_cert = h->client_cert,
			.client_key = h->client_key,
			.echo = h->echo,
			.compress_uploads = h->compress_uploads,
			.keep_alive = h->keep_alive,
			.max_consecutive_timeouts =
				(unsigned)MIN(h->max_consecutive_timeouts, 1000u),
			.headers = h->headers,
			.timeout_ms = (unsigned)MIN(h->timeout_ms, 3600000u),
			.connect_timeout_ms = (unsigned)MIN(h->connect_timeout_ms, 3600000u),
			.retries = (unsigned)MIN(h->retries, 100u),
			.retry_backoff_ms = (unsigned)MIN(h->retry_backoff_ms, 60000u),
		};
		if (h->insecure)
			log_warn(
				"http_output.insecure: the receiver's certificate is not verified");
		struct out_sink *s = out_http_new(&hc);
		r = s ? out_add_sink(d->out, s) : -ENOMEM;
	}
	if (r < 0) {
		log_err("failed to start outputs: %s", strerror(-r));
		return r;
	}
	if (out_count(d->out) == 0)
		log_warn("no output channel is enabled: alerts are only counted");
	d->drops_seen = calloc(out_count(d->out) + 1, sizeof(*d->drops_seen));
	d->drops_reported_at = calloc(out_count(d->out) + 1, sizeof(*d->drops_reported_at));
	if (!d->drops_seen || !d->drops_reported_at)
		return -ENOMEM;
	metrics_set_outputs(d->m, d->out);
	/* metrics.output_file: snapshots as JSON lines, through a file sink of their own */
	if (cfg->metrics.enabled && cfg->metrics.output_file && *cfg->metrics.output_file) {
		struct out_options mo = {.queue_capacity = 64, .on_error = output_error, .ud = d};
		d->metrics_out = out_new(&mo);
		struct out_sink *s = out_file_new(cfg->metrics.output_file, false, false);
		r = d->metrics_out && s ? out_add_sink(d->metrics_out, s) : -ENOMEM;
		if (r < 0) {
			log_err("failed to start metrics.output_file: %s", strerror(-r));
			return r;
		}
	}
	return 0;
}

static void stop_outputs(struct daemon *d)
{
	size_t n = out_count(d->out);
	struct out_stats *st = calloc(n + 1, sizeof(*st));

	d->out = out_free(d->out, (unsigned)d->a->cfg->output_timeout_ms, st);
	for (size_t i = 0; st && i < n; i++) {
		if (st[i].dropped)
			log_warn("output '%s': %" PRIu64
				 " alerts dropped because its queue was full",
				 st[i].name, st[i].dropped);
		if (st[i].discarded)
			log_warn("output '%s': still blocked after %" PRIu64 " ms, %" PRIu64
				 " alerts discarded",
				 st[i].name, d->a->cfg->output_timeout_ms, st[i].discarded);
		if (st[i].errors)
			log_warn("output '%s': %" PRIu64 " write errors", st[i].name, st[i].errors);
	}
	free(st);
	d->metrics_out = out_free(d->metrics_out, (unsigned)d->a->cfg->output_timeout_ms, NULL);
}

/* ---- housekeeping: heartbeat, drop and throttle reports, metrics snapshots ---- */

static void report_drops(struct daemon *d, uint64_t now)
{
	for (size_t i = 0; i < out_count(d->out); i++) {
		struct out_stats st;
		out_stats(d->out, i, &st);
		if (st.dropped <= d->drops_seen[i])
			continue;
		/* at most one report per sink per REPORT_EVERY_NS; the count covers everything since the last one */
		if (d->drops_reported_at[i] && now - d->drops_reported_at[i] < REPORT_EVERY_NS)
			continue;
		uint64_t n = st.dropped - d->drops_seen[i];
		log_warn("output '%s' cannot keep up: %" PRIu64
			 " alerts dropped because its queue was full (%" PRIu64 " in total)",
			 st.name, n, st.dropped);
		if (d->cfg->outputs_overflow_alert) {
			char msg[256];
			struct metrics_item it[] = {
				{.name = (char *)"output.name",
				 .type = METRICS_STR,
				 .str = (char *)st.name},
				{.name = (char *)"output.drops", .type = METRICS_U64, .u64 = n},
				{.name = (char *)"output.drops_total",
				 .type = METRICS_U64,
				 .u64 = st.dropped},
			};
			snprintf(msg, sizeof(msg),
				 "Falco output '%s' dropped alerts: its queue is full", st.name);
			emit_internal(d, d->out, d->fo.json, PRIO_ERROR,
				      "Falco internal: output queue full", msg, it, ARRAY_SIZE(it));
		}
		d->drops_seen[i] = st.dropped;
		d->drops_reported_at[i] = now;
	}
	if (d->throttled > d->throttled_reported &&
	    (!d->throttled_at || now - d->throttled_at >= REPORT_EVERY_NS)) {
		log_info("outputs_rate_limit: %" PRIu64 " alerts throttled (%" PRIu64 " in total)",
			 d->throttled - d->throttled_reported, d->throttled);
		d->throttled_reported = d->throttled;
		d->throttled_at = now;
	}
}

/*
 * systemd: STATUS= shows in `systemctl status` (sources, rules, events so far); WATCHDOG=1 is sent from this loop's
 * tick, so a loop that stops turning (a wedged source or evaluation) stops the pings and systemd restarts falco.
 */
#define STATUS_EVERY_TICKS 5

static void notify_status(struct daemon *d, const char *extra)
{
	char buf[512];
	uint64_t events = 0;

	for (int i = 0; i < NSRC; i++)
		events += d->events[i];
	snprintf(buf, sizeof(buf),
		 "%sSTATUS=Processing events (%s%s%s): %zu rules enabled, %" PRIu64
		 " events, %" PRIu64 " alerts",
		 extra ? extra : "", d->live_syscall ? "syscall" : "",
		 d->live_syscall && d->live_k8s ? ", " : "", d->live_k8s ? "k8s_audit" : "",
		 ruleset_count_enabled(d->rs), events, d->alerts);
	(void)sdl_notify(buf);
}

static void notify_ready(struct daemon *d)
{
	d->notified = true;
	notify_status(d, "READY=1\n");
	if (sdl_watchdog_enabled(&d->watchdog_usec) <= 0) {
		d->watchdog_usec = 0;
		return;
	}
	if (d->watchdog_usec < 2ull * TICK_MS * 1000)
		log_warn(
			"WatchdogSec= is below %d ms, twice falco's tick: systemd may kill a healthy falco",
			2 * TICK_MS);
	log_info("systemd watchdog: pinging every %d ms (timeout %" PRIu64 " ms)", TICK_MS,
		 d->watchdog_usec / 1000);
}

static void notify_tick(struct daemon *d)
{
	if (!d->notified)
		return;
	if (++d->status_ticks >= STATUS_EVERY_TICKS) {
		d->status_ticks = 0;
		notify_status(d, d->watchdog_usec ? "WATCHDOG=1\n" : NULL);
	} else if (d->watchdog_usec) {
		(void)sdl_notify("WATCHDOG=1");
	}
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	uint64_t now = out_monotonic_ns();

	metrics_heartbeat(d->m, now);
	report_drops(d, now);
	syscall_tick(d);
	notify_tick(d);
}

static void on_metrics(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	struct metrics_snapshot snap;

	if (metrics_snapshot(d->m, out_monotonic_ns(), &snap) < 0) {
		log_err("out of memory taking a metrics snapshot");
		return;
	}
	if (d->cfg->metrics.output_rule)
		emit_internal(d, d->out, d->fo.json, PRIO_INFORMATIONAL,
			      "Falco internal: metrics snapshot", "Falco metrics snapshot",
			      snap.items, snap.n);
	if (d->metrics_out)
		emit_internal(d, d->metrics_out, true, PRIO_INFORMATIONAL,
			      "Falco internal: metrics snapshot", "Falco metrics snapshot",
			      snap.items, snap.n);
	metrics_snapshot_done(&snap);
}

static int arm_metrics_timer(struct daemon *d)
{
	const struct cfg_metrics *mc = &d->cfg->metrics;

	if (!d->a->cfg->metrics.enabled || (!mc->output_rule && !d->metrics_out))
		return d->metrics_ev ? event_del(d->metrics_ev) : 0;
	if (!d->metrics_ev && !(d->metrics_ev = event_new(d->base, -1, EV_PERSIST, on_metrics, d)))
		return -ENOMEM;
	struct timeval tv = {.tv_sec = (time_t)(mc->interval_ms / 1000),
			     .tv_usec = (suseconds_t)(mc->interval_ms % 1000) * 1000};
	return event_add(d->metrics_ev, &tv) < 0 ? -ENOMEM : 0;
}

static int start_housekeeping(struct daemon *d)
{
	struct timeval tv = {.tv_sec = TICK_MS / 1000, .tv_usec = (TICK_MS % 1000) * 1000};

	d->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
	if (!d->tick || event_add(d->tick, &tv) < 0)
		return -ENOMEM;
	/* until this exists (outputs start before the loop), pushes wake the output workers at once */
	d->engine_thread = pthread_self();
	d->out_kick_ev = event_new(d->base, -1, 0, on_out_kick, d);
	if (!d->out_kick_ev)
		return -ENOMEM;
	return arm_metrics_timer(d);
}

/* ---- hot reload (see reload.h): build aside on the reload thread, swap here between two events ---- */

struct reload_job {
	char why[640];
	struct metrics_rules *prev; /* reference to the table in use, to carry counters over */
	/* results */
	int status;
	char error[1024];
	struct strbuf log;
	struct falco_config *cfg;
	struct ruleset *rs;
	struct rs_eval *ev;
	struct fmt *prefix[NSRC];
	struct metrics_rules *mr;
	struct out_ratelimit *rl;
	uint64_t build_ns;
};

static void reload_job_free(struct reload_job *j)
{
	if (!j)
		return;
	metrics_rules_unref(j->prev);
	strbuf_done(&j->log);
	for (int i = 0; i < NSRC; i++)
		fmt_free(j->prefix[i]);
	rs_eval_free(j->ev);
	ruleset_free(j->rs);
	config_free(j->cfg);
	metrics_rules_unref(j->mr);
	out_ratelimit_free(j->rl);
	free(j);
}

static void compile_prefixes(const struct ruleset *rs, bool iso8601, struct fmt *prefix[NSRC])
{
	/* the alert's time prefix as the source renders it; our own rendering if the source has no evt.time */
	for (int i = 0; i < NSRC; i++)
		if (fmt_compile(rs, (uint16_t)i, iso8601 ? "%evt.time.iso8601" : "%evt.time",
				&prefix[i], NULL, 0) < 0)
			prefix[i] = NULL;
}

static void *reload_prepare(void *ud, const char *why)
{
	struct daemon *d = ud;
	struct reload_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	snprintf(j->why, sizeof(j->why), "%s", why ? why : "");
	j->prev = metrics_rules_ref(d->mr);
	strbuf_init(&j->log, 0);
	return j;
}

/* Reload thread: reads only the immutable command line and what prepare captured. */
static void *reload_build(void *ud, void *job)
{
	struct daemon *d = ud;
	struct reload_job *j = job;
	const struct daemon_args *a = d->a;
	uint64_t t0 = out_monotonic_ns();
	char err[2048];

	if (!j)
		return NULL;
	/* 1. configuration: the main file again (its includes and -o overrides too) */
	const char *path = a->cfg->nfiles ? a->cfg->files[0] : NULL;
	j->status = config_load(path, a->cli->overrides.v, a->cli->overrides.n, &j->cfg, err,
				sizeof(err));
	if (j->status < 0) {
		errf(j->error, sizeof(j->error), 0, "invalid configuration: %s", err);
		msg_add(&j->log, 'E', "failed to load the configuration: %s", err);
		goto out;
	}
	for (size_t i = 0; i < j->cfg->nwarnings; i++)
		msg_add(&j->log, 'W', "%s", j->cfg->warnings[i]);
	/* 2. rules, compiled and selected, and everything that depends on the rule set */
	j->status = build_rules(a->cli, j->cfg, &j->rs, &j->log, j->error, sizeof(j->error));
	if (j->status < 0)
		goto out;
	j->ev = rs_eval_new(j->rs);
	j->mr = metrics_rules_new(j->rs, j->prev);
	if (j->cfg->rate_limit.rate > 0)
		j->rl = out_ratelimit_new(j->cfg->rate_limit.rate, j->cfg->rate_limit.max_burst,
					  j->cfg->rate_limit.per_rule, ruleset_count(j->rs));
	if (!j->ev || !j->mr || (j->cfg->rate_limit.rate > 0 && !j->rl)) {
		j->status = -ENOMEM;
		snprintf(j->error, sizeof(j->error), "out of memory");
		goto out;
	}
	compile_prefixes(j->rs, j->cfg->time_format_iso_8601, j->prefix);
out:
	j->build_ns = out_monotonic_ns() - t0;
	return j;
}

static void set_watches(struct daemon *d)
{
	const struct falco_config *cfg = d->cfg;
	size_t nr, n = 0;
	const char *const *rp = rules_paths(d->a->cli, cfg, &nr);
	const char **paths;
	char err[1200];

	if (!d->reload || !d->a->cfg->watch_config_files)
		return;
	paths = calloc(cfg->nfiles + nr + 1, sizeof(*paths));
	if (!paths) {
		log_err("out of memory setting up file watches");
		return;
	}
	for (size_t i = 0; i < cfg->nfiles; i++)
		paths[n++] = cfg->files[i];
	for (size_t i = 0; i < nr; i++)
		paths[n++] = rp[i];
	if (reload_watch(d->reload, paths, n, WATCH_DEBOUNCE_MS, err, sizeof(err)) < 0)
		log_warn("watch_config_files: %s; changes need SIGHUP", err);
	else if (err[0])
		log_warn("watch_config_files: %s, ignoring", err);
	free((void *)paths);
}

static void reload_apply(void *ud, void *result)
{
	struct daemon *d = ud;
	struct reload_job *j = result;
	char keys[1024];

	if (!j) {
		log_err("reload failed: out of memory");
		return;
	}
	msg_flush(&j->log);
	/* the old rule set keeps running on failure; either way outputs are reopened (logrotate) */
	if (d->out)
		out_reopen(d->out);
	if (j->status < 0) {
		metrics_count_reload(d->m, false);
		log_err("reload (%s) failed, keeping the configuration and rules in use: %s",
			j->why, j->error);
		struct metrics_item it[] = {
			{.name = (char *)"reload.error", .type = METRICS_STR, .str = j->error},
			{.name = (char *)"reload.trigger", .type = METRICS_STR, .str = j->why},
		};
		emit_internal(
			d, d->out, d->fo.json, PRIO_CRITICAL, "Falco internal: reload failed",
			"Falco reload failed, the previous configuration and rules stay in use", it,
			ARRAY_SIZE(it));
		reload_job_free(j);
		return;
	}

	/* 1. the swap: from the next event on, the new set decides */
	struct ruleset *old_rs = d->rs;
	struct rs_eval *old_ev = d->ev;
	struct out_ratelimit *old_rl = d->rl;
	struct falco_config *old_cfg = d->owned_cfg;
	struct fmt *old_prefix[NSRC];
	d->rs = TAKE_PTR(j->rs);
	d->ev = TAKE_PTR(j->ev);
	d->rl = TAKE_PTR(j->rl);
	for (int i = 0; i < NSRC; i++) {
		old_prefix[i] = d->prefix[i];
		d->prefix[i] = TAKE_PTR(j->prefix[i]);
	}
	d->mr = j->mr;
	metrics_set_rules(d->m, TAKE_PTR(j->mr));
	if (reload_restart_keys_changed(d->cfg, j->cfg, keys, sizeof(keys)) > 0)
		log_warn("configuration changes that need a restart were not applied: %s", keys);
	d->owned_cfg = TAKE_PTR(j->cfg);
	d->cfg = d->owned_cfg;

	/* 2. what follows the configuration live */
	d->fo.include_output = d->cfg->json_include_output_property;
	d->fo.include_tags = d->cfg->json_include_tags_property;
	d->fo.include_message = d->cfg->json_include_message_property;
	d->fo.include_output_fields = d->cfg->json_include_output_fields_property;
	d->fo.iso8601 = d->cfg->time_format_iso_8601;
	log_set_level(d->cfg->log_level);
	atomic_store(&d->stall_ns, d->cfg->outputs_stall_timeout_ms * 1000000ull);
	metrics_set_rules_loaded(d->m, ruleset_count(d->rs), ruleset_count_enabled(d->rs));
	if (arm_metrics_timer(d) < 0)
		log_err("failed to re-arm the metrics timer");
	if (d->webserver) {
		struct http_versions v;
		struct http_kv kv[3];
		fill_versions(d, &v, kv);
		(void)http_server_set_versions(d->webserver, &v);
	}
	set_watches(d);
	syscall_rules_changed(d);

	/* 3. the old set goes */
	for (int i = 0; i < NSRC; i++)
		fmt_free(old_prefix[i]);
	rs_eval_free(old_ev);
	ruleset_free(old_rs);
	out_ratelimit_free(old_rl);
	config_free(old_cfg);
	metrics_count_reload(d->m, true);
	d->reloads++;
	log_info("Reloaded (%s): %zu rules, %zu enabled, built in %" PRIu64 " ms", j->why,
		 ruleset_count(d->rs), ruleset_count_enabled(d->rs), j->build_ns / 1000000);
	reload_job_free(j);
}

static void reload_discard(void *ud, void *result)
{
	reload_job_free(result);
}

static int start_reload(struct daemon *d)
{
	struct reload_callbacks cbs = {
		.prepare = reload_prepare,
		.build = reload_build,
		.apply = reload_apply,
		.discard = reload_discard,
		.ud = d,
	};
	char err[512];
	int r = reload_new(d->base, &cbs, &d->reload, err, sizeof(err));

	if (r < 0) {
		log_err("failed to start the reload thread: %s", err);
		return r;
	}
	set_watches(d);
	return 0;
}

/* ---- signals, timer, summary ---- */

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;

	switch (sig) {
	case SIGINT:
	case SIGTERM:
		log_info("%s received, exiting", sig == SIGINT ? "SIGINT" : "SIGTERM");
		event_base_loopbreak(d->base);
		break;
	case SIGHUP:
		/* the reload reopens the outputs when it is applied, whether it succeeds or not */
		if (d->reload) {
			log_info(
				"SIGHUP received, reopening outputs and reloading configuration and rules");
			reload_request(d->reload, "SIGHUP");
			break;
		}
		log_info("SIGHUP received, reopening outputs");
		if (d->out)
			out_reopen(d->out);
		break;
	case SIGUSR1:
		log_info("SIGUSR1 received, reopening outputs");
		if (d->out)
			out_reopen(d->out);
		break;
	}
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	log_info("Run duration of %" PRId64 " seconds reached, exiting", d->a->cli->duration_s);
	event_base_loopbreak(d->base);
}

static void print_summary(struct daemon *d)
{
	/* with json_output stdout carries only alerts */
	FILE *f = d->a->cfg->json_output ? stderr : stdout;
	static const char *const upper[_PRIO_MAX] = {"EMERGENCY", "ALERT",  "CRITICAL", "ERROR",
						     "WARNING",	  "NOTICE", "INFO",	"DEBUG"};

	fprintf(f, "Events detected: %" PRIu64 "\n", d->alerts);
	fprintf(f, "Rule counts by severity:\n");
	for (int p = 0; p < _PRIO_MAX; p++)
		if (d->prio_hits[p])
			fprintf(f, "   %s: %" PRIu64 "\n", upper[p], d->prio_hits[p]);
	fprintf(f, "Triggered rules by rule name:\n");
	for (size_t i = 0; i < metrics_rules_count(d->mr); i++)
		if (metrics_rules_hits(d->mr, i))
			fprintf(f, "   %s: %" PRIu64 "\n", metrics_rules_name(d->mr, i),
				metrics_rules_hits(d->mr, i));
	if (d->throttled)
		fprintf(f, "Alerts throttled by outputs_rate_limit: %" PRIu64 "\n", d->throttled);
	fflush(f);
}

static int write_pidfile(const char *path)
{
	char buf[32], err[512];
	int n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	int r = write_file_atomic(path, buf, (size_t)n, 0644, err, sizeof(err));
	if (r < 0)
		log_err("failed to write the pid file: %s", err);
	return r;
}

static int setup_loop(struct daemon *d)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};

	d->base = event_base_new();
	if (!d->base)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++) {
		d->sigs[i] = evsignal_new(d->base, sigs[i], on_signal, d);
		if (!d->sigs[i] || evsignal_add(d->sigs[i], NULL) < 0)
			return -ENOMEM;
	}
	if (d->a->cli->duration_s >= 0) {
		struct timeval tv = {.tv_sec = d->a->cli->duration_s};
		d->timer = evtimer_new(d->base, on_timeout, d);
		if (!d->timer || evtimer_add(d->timer, &tv) < 0)
			return -ENOMEM;
	}
	return 0;
}

static void daemon_done(struct daemon *d)
{
	d->reload = reload_free(d->reload);
	d->webserver = http_server_stop(d->webserver); /* its health check reads the webhook */
	d->webhook = http_webhook_stop(
		d->webhook); /* delivers what it still holds: outputs are still up */
	if (d->out)
		stop_outputs(d);
	if (d->replay_ev)
		event_free(d->replay_ev);
	d->replay = k8s_replay_close(d->replay);
	syscall_close(d);
	for (size_t i = 0; i < ARRAY_SIZE(d->sigs); i++)
		if (d->sigs[i])
			event_free(d->sigs[i]);
	if (d->timer)
		event_free(d->timer);
	if (d->tick)
		event_free(d->tick);
	if (d->out_kick_ev)
		event_free(d->out_kick_ev);
	if (d->metrics_ev)
		event_free(d->metrics_ev);
	if (d->base)
		event_base_free(d->base);
	for (int i = 0; i < NSRC; i++)
		d->prefix[i] = fmt_free(d->prefix[i]);
	d->ev = rs_eval_free(d->ev);
	d->rs = ruleset_free(d->rs);
	d->rl = out_ratelimit_free(d->rl);
	d->m = metrics_free(d->m); /* releases d->mr */
	d->owned_cfg = config_free(d->owned_cfg);
	free(d->drops_seen);
	free(d->drops_reported_at);
	free(d->fields);
	free(d->kv);
	free(d->kvoff);
	strbuf_done(&d->kvbuf);
	strbuf_done(&d->msg);
	strbuf_done(&d->line);
	strbuf_done(&d->tbuf);
	strbuf_done(&d->json);
}

int daemon_run(const struct daemon_args *a)
{
	const struct falco_config *cfg = a->cfg;
	struct daemon d = {
		.a = a,
		.cfg = a->cfg,
		.exit_code = EXIT_SUCCESS,
		.fo =
			{
				.json = cfg->json_output,
				.include_output = cfg->json_include_output_property,
				.include_tags = cfg->json_include_tags_property,
				.include_message = cfg->json_include_message_property,
				.include_output_fields = cfg->json_include_output_fields_property,
				.iso8601 = cfg->time_format_iso_8601,
				.hostname = a->hostname,
			},
	};
	bool pidfile = false, ran = false;
	int r;

	strbuf_init(&d.msg, 0);
	strbuf_init(&d.line, 0);
	strbuf_init(&d.tbuf, 0);
	strbuf_init(&d.json, 0);
	strbuf_init(&d.kvbuf, 0);
	atomic_init(&d.stall_ns, cfg->outputs_stall_timeout_ms * 1000000ull);
	atomic_init(&d.syscall_up, false);

	/* 1. sources the command line allows and what can run (fail early), then the rules */
	if (select_sources(&d) < 0 || (!a->cli->dry_run && plan_sources(&d) < 0) ||
	    load_rules(a, &d.rs) < 0)
		goto fail;
	d.ev = rs_eval_new(d.rs);
	const char *names[NSRC], *engines[NSRC] = {NULL};
	for (int i = 0; i < NSRC; i++)
		names[i] = all_sources[i]->name;
	engines[SRC_SYSCALL] = d.live_syscall ? "modern_bpf" : NULL;
	engines[SRC_K8S_AUDIT] = d.live_k8s || d.replay_path ? "source_plugin" : NULL;
	struct metrics_options mo = {
		.hostname = a->hostname,
		.sources = names,
		.nsources = NSRC,
		.engines = engines,
		.rules_counters = cfg->metrics.rules_counters_enabled,
		.resource_utilization = cfg->metrics.resource_utilization_enabled,
		.kernel_event_counters = cfg->metrics.kernel_event_counters_enabled,
		.kernel_event_counters_per_cpu = cfg->metrics.kernel_event_counters_per_cpu_enabled,
		.convert_memory_to_mb = cfg->metrics.convert_memory_to_mb,
		.include_empty_values = cfg->metrics.include_empty_values,
	};
	d.m = metrics_new(&mo);
	d.mr = metrics_rules_new(d.rs, NULL);
	if (cfg->rate_limit.rate > 0)
		d.rl = out_ratelimit_new(cfg->rate_limit.rate, cfg->rate_limit.max_burst,
					 cfg->rate_limit.per_rule, ruleset_count(d.rs));
	if (!d.ev || !d.m || !d.mr || (cfg->rate_limit.rate > 0 && !d.rl)) {
		metrics_rules_unref(d.mr);
		d.mr = NULL;
		log_err("out of memory");
		goto fail;
	}
	metrics_set_rules(d.m, d.mr);
	metrics_set_rules_loaded(d.m, ruleset_count(d.rs), ruleset_count_enabled(d.rs));
	if (d.rl)
		log_info("outputs_rate_limit: %g alerts/s, bursts of %g, %s", cfg->rate_limit.rate,
			 cfg->rate_limit.max_burst,
			 cfg->rate_limit.per_rule ? "per rule" : "all rules together");
	compile_prefixes(d.rs, cfg->time_format_iso_8601, d.prefix);

	/* 2. outputs */
	if (start_outputs(&d) < 0)
		goto fail;
	if (a->cli->dry_run) {
		log_info(
			"Dry run: configuration and rules are valid, not opening any event source");
		goto out;
	}

	/* 3. the loop, its signals and timer, then the sources that feed it */
	if ((r = setup_loop(&d)) < 0) {
		log_err("failed to set up the event loop: %s", strerror(-r));
		goto fail;
	}
	if (start_housekeeping(&d) < 0) {
		log_err("failed to set up the event loop: out of memory");
		goto fail;
	}
	if (start_reload(&d) < 0)
		goto fail;
	if (open_sources(&d) < 0)
		goto fail;
	atomic_store(&d.syscall_up, d.sc && sc_live_attached(d.sc));
	if (!d.replay_path)
		notify_ready(&d);
	if (!d.replay_path && start_webserver(&d) < 0)
		goto fail;
	if (a->cli->pidfile) {
		if (write_pidfile(a->cli->pidfile) < 0)
			goto fail;
		pidfile = true;
	}

	/* 4. run */
	ran = true;
	if (event_base_dispatch(d.base) < 0) {
		log_err("event loop failed");
		d.exit_code = EXIT_FAILURE;
	}
	if (d.notified)
		(void)sdl_notify("STOPPING=1\nSTATUS=Stopping: draining outputs");
	goto out;

fail:
	d.exit_code = EXIT_FAILURE;
out:
	/* 5. stop the sources (the webhook hands over what it still holds), drain outputs, then the summary */
	d.reload = reload_free(d.reload);
	/* the webserver first: its health check reads the webhook */
	d.webserver = http_server_stop(d.webserver);
	d.webhook = http_webhook_stop(d.webhook);
	if (d.out)
		stop_outputs(&d);
	if (ran)
		print_summary(&d);
	if (pidfile)
		(void)unlink(a->cli->pidfile);
	daemon_done(&d);
	return d.exit_code;
}
