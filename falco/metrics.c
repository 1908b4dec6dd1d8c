/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Metrics registry and its two renderings (Prometheus text, snapshot fields). Threads: the engine thread writes
 * counters (single writer, relaxed atomics) and swaps tables under m->lock; the webserver thread renders, taking
 * m->lock only to grab a reference or copy a snapshot, never while formatting.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/hmap.h"
#include "common/macro.h"
#include "engine/engine.h"
#include "output/out.h"
#include "metrics.h"

#define HELP_URL "https://falco.org/docs/metrics/"

struct metrics_rule {
	char *name;
	int priority;
	char *source;
	char **tags;
	size_t ntags;
};

struct metrics {
	char *hostname;
	char *sources[METRICS_MAX_SOURCES];
	size_t nsources;
	char *engines[METRICS_MAX_SOURCES];
	struct metrics_options opts; /* strings point at the copies above */
	uint64_t start_ts;	     /* CLOCK_REALTIME ns */
	uint64_t start_mono;
	uint64_t boot_ts;
	unsigned ncpus;
	char kernel_release[128];

	_Atomic uint64_t events[METRICS_MAX_SOURCES];
	_Atomic uint64_t alerts[_PRIO_MAX][METRICS_MAX_SOURCES + 1];
	_Atomic uint64_t rate_limited;
	_Atomic uint64_t reloads_ok, reloads_failed;
	_Atomic uint64_t reload_ts;
	_Atomic uint64_t rules_total, rules_enabled;
	_Atomic uint64_t heartbeat;

	pthread_mutex_t lock; /* rules, out, driver snapshot */
	struct metrics_rules *rules;
	struct outputs *out;
	bool have_driver;
	struct evt_counters drv_total;
	struct evt_counters *drv_cpu;
	size_t drv_ncpu;

	/* engine thread only: the previous snapshot, for falco.evts_rate_sec */
	uint64_t prev_events, prev_ns;
};

/* upstream's drop category names (libpman stats), by our EVT_CAT_* */
static const char *const cat_names[_EVT_CAT_MAX] = {
	[EVT_CAT_EXEC] = "execve",
	[EVT_CAT_CLONE] = "clone_fork",
	[EVT_CAT_OPEN] = "open",
	[EVT_CAT_CONNECT] = "connect",
	[EVT_CAT_CLOSE] = "close",
	[EVT_CAT_PROCEXIT] = "proc_exit",
	[EVT_CAT_OTHER] = "other_interest",
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t read_boot_ts(void)
{
	_cleanup_(fclosep) FILE *f = fopen("/proc/stat", "re");
	char line[256];
	unsigned long long btime;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "btime %llu", &btime) == 1)
			return (uint64_t)btime * 1000000000ull;
	return 0;
}

struct metrics *metrics_new(const struct metrics_options *opts)
{
	struct metrics *m = calloc(1, sizeof(*m));
	struct utsname u;

	if (!m)
		return NULL;
	pthread_mutex_init(&m->lock, NULL);
	m->opts = *opts;
	m->hostname = strdup(opts->hostname ? opts->hostname : "");
	if (!m->hostname)
		return metrics_free(m);
	m->nsources = MIN(opts->nsources, (size_t)METRICS_MAX_SOURCES);
	for (size_t i = 0; i < m->nsources; i++) {
		if (!(m->sources[i] = strdup(opts->sources[i] ? opts->sources[i] : "")))
			return metrics_free(m);
		if (opts->engines && opts->engines[i] &&
		    !(m->engines[i] = strdup(opts->engines[i])))
			return metrics_free(m);
	}
	m->opts.hostname = m->hostname;
	m->opts.engines = NULL;
	m->opts.sources = NULL;
	m->start_ts = realtime_ns();
	m->start_mono = out_monotonic_ns();
	m->prev_ns = m->start_mono;
	m->boot_ts = read_boot_ts();
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	m->ncpus = n > 0 ? (unsigned)n : 1;
	snprintf(m->kernel_release, sizeof(m->kernel_release), "%s",
		 uname(&u) == 0 ? u.release : "unknown");
	atomic_store(&m->heartbeat, m->start_mono);
	return m;
}

struct metrics *metrics_free(struct metrics *m)
{
	if (!m)
		return NULL;
	metrics_rules_unref(m->rules);
	free(m->drv_cpu);
	for (size_t i = 0; i < m->nsources; i++) {
		free(m->sources[i]);
		free(m->engines[i]);
	}
	free(m->hostname);
	pthread_mutex_destroy(&m->lock);
	free(m);
	return NULL;
}

/* ---- rule tables ---- */

static void rules_free(struct metrics_rules *mr)
{
	for (size_t i = 0; mr->rules && i < mr->n; i++) {
		struct metrics_rule *r = &mr->rules[i];
		free(r->name);
		free(r->source);
		for (size_t k = 0; k < r->ntags; k++)
			free(r->tags[k]);
		free(r->tags);
	}
	free(mr->rules);
	free(mr->carry);
	free((void *)mr->hits);
	free(mr);
}

struct metrics_rules *metrics_rules_unref(struct metrics_rules *mr)
{
	if (mr && atomic_fetch_sub_explicit(&mr->refs, 1, memory_order_acq_rel) == 1)
		rules_free(mr);
	return NULL;
}

struct metrics_rules *metrics_rules_ref(struct metrics_rules *mr)
{
	if (mr)
		atomic_fetch_add_explicit(&mr->refs, 1, memory_order_relaxed);
	return mr;
}

struct metrics_rules *metrics_rules_new(const struct ruleset *rs, const struct metrics_rules *prev)
{
	struct metrics_rules *mr = calloc(1, sizeof(*mr));
	struct hmap names;
	size_t n = rs ? ruleset_count(rs) : 0;

	if (!mr)
		return NULL;
	atomic_init(&mr->refs, 1);
	mr->n = n;
	mr->rules = calloc(n + 1, sizeof(*mr->rules));
	mr->carry = calloc(n + 1, sizeof(*mr->carry));
	mr->hits = calloc(n + 1, sizeof(*mr->hits));
	if (!mr->rules || !mr->carry || !mr->hits)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		const struct rule *r = ruleset_rule(rs, i);
		struct metrics_rule *d = &mr->rules[i];
		size_t nt;
		const char *const *tags = rule_tags(r, &nt);
		d->name = strdup(rule_name(r));
		d->source = strdup(rule_source(r) ? rule_source(r) : "");
		d->priority = rule_priority(r);
		d->tags = calloc(nt + 1, sizeof(*d->tags));
		if (!d->name || !d->source || !d->tags)
			goto fail;
		for (size_t k = 0; k < nt; k++, d->ntags++)
			if (!(d->tags[k] = strdup(tags[k])))
				goto fail;
		mr->carry[i] = -1;
	}
	if (prev && prev->n) {
		if (hmap_init(&names, prev->n) < 0)
			goto fail;
		for (size_t i = 0; i < prev->n; i++)
			if (hmap_put(&names, prev->rules[i].name, strlen(prev->rules[i].name),
				     (void *)(uintptr_t)(i + 1)) < 0) {
				hmap_done(&names);
				goto fail;
			}
		for (size_t i = 0; i < n; i++) {
			uintptr_t at = (uintptr_t)hmap_get(&names, mr->rules[i].name,
							   strlen(mr->rules[i].name));
			mr->carry[i] = at ? (int32_t)(at - 1) : -1;
		}
		hmap_done(&names);
	}
	return mr;
fail:
	rules_free(mr);
	return NULL;
}

size_t metrics_rules_count(const struct metrics_rules *mr)
{
	return mr ? mr->n : 0;
}

const char *metrics_rules_name(const struct metrics_rules *mr, size_t i)
{
	return mr->rules[i].name;
}

uint64_t metrics_rules_hits(const struct metrics_rules *mr, size_t i)
{
	return atomic_load_explicit(&mr->hits[i], memory_order_relaxed);
}

void metrics_set_rules(struct metrics *m, struct metrics_rules *mr)
{
	struct metrics_rules *old = m->rules; /* only the engine thread writes m->rules */

	if (old && mr->carry)
		for (size_t i = 0; i < mr->n; i++)
			if (mr->carry[i] >= 0 && (size_t)mr->carry[i] < old->n)
				atomic_store_explicit(&mr->hits[i],
						      metrics_rules_hits(old, (size_t)mr->carry[i]),
						      memory_order_relaxed);
	free(mr->carry);
	mr->carry = NULL;
	pthread_mutex_lock(&m->lock);
	m->rules = mr;
	pthread_mutex_unlock(&m->lock);
	metrics_rules_unref(old);
}

struct metrics_rules *metrics_rules_current(struct metrics *m)
{
	return m->rules;
}

/* ---- counters ---- */

void metrics_count_event(struct metrics *m, unsigned source)
{
	if (source < METRICS_MAX_SOURCES)
		METRICS_INC(m->events[source]);
}

uint64_t metrics_events(struct metrics *m, unsigned source)
{
	return source < METRICS_MAX_SOURCES ? atomic_load(&m->events[source]) : 0;
}

void metrics_count_alert(struct metrics *m, int priority, unsigned source)
{
	if (priority >= 0 && priority < _PRIO_MAX && source <= METRICS_SOURCE_INTERNAL)
		METRICS_INC(m->alerts[priority][source]);
}

void metrics_count_rate_limited(struct metrics *m)
{
	METRICS_INC(m->rate_limited);
}

void metrics_count_reload(struct metrics *m, bool ok)
{
	if (ok) {
		METRICS_INC(m->reloads_ok);
		atomic_store(&m->reload_ts, realtime_ns());
	} else {
		METRICS_INC(m->reloads_failed);
	}
}

void metrics_set_rules_loaded(struct metrics *m, size_t total, size_t enabled)
{
	atomic_store(&m->rules_total, total);
	atomic_store(&m->rules_enabled, enabled);
}

void metrics_set_outputs(struct metrics *m, struct outputs *o)
{
	pthread_mutex_lock(&m->lock);
	m->out = o;
	pthread_mutex_unlock(&m->lock);
}

void metrics_set_driver(struct metrics *m, const struct evt_counters *total,
			const struct evt_counters *percpu, size_t ncpu)
{
	struct evt_counters *copy = NULL, *old = NULL;

	if (percpu && ncpu) {
		copy = malloc(ncpu * sizeof(*copy));
		if (copy)
			memcpy(copy, percpu, ncpu * sizeof(*copy));
	}
	pthread_mutex_lock(&m->lock);
	m->have_driver = true;
	m->drv_total = *total;
	if (copy || !percpu) {
		old = m->drv_cpu;
		m->drv_cpu = copy;
		m->drv_ncpu = copy ? ncpu : 0;
	}
	pthread_mutex_unlock(&m->lock);
	free(old);
}

void metrics_heartbeat(struct metrics *m, uint64_t now_ns)
{
	atomic_store_explicit(&m->heartbeat, now_ns, memory_order_relaxed);
}

uint64_t metrics_last_heartbeat(struct metrics *m)
{
	return atomic_load_explicit(&m->heartbeat, memory_order_relaxed);
}

/* ---- process and host readings ---- */

struct proc_usage {
	double cpu_seconds;	/* user + system */
	double elapsed;		/* seconds since the process started */
	uint64_t rss, vsz, pss; /* bytes */
	uint64_t host_mem_used, host_open_fds, host_procs_running;
	bool ok;
};

static void read_proc_usage(struct proc_usage *u)
{
	char buf[1024], line[256];
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	unsigned long long utime, stime, start, vsize;
	long long rss;
	double uptime = 0;
	FILE *f;

	*u = (struct proc_usage){0};
	if (tck <= 0)
		tck = 100;
	if ((f = fopen("/proc/self/stat", "re"))) {
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		buf[n] = '\0';
		/* comm may hold spaces and parentheses: fields restart after the last ')' */
		char *p = strrchr(buf, ')');
		if (p &&
		    sscanf(p + 2,
			   "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu %llu %lld",
			   &utime, &stime, &start, &vsize, &rss) == 5) {
			u->cpu_seconds = (double)(utime + stime) / (double)tck;
			u->vsz = vsize;
			u->rss = (uint64_t)(rss > 0 ? rss : 0) * (uint64_t)page;
			u->ok = true;
		}
	}
	if ((f = fopen("/proc/uptime", "re"))) {
		if (fscanf(f, "%lf", &uptime) != 1)
			uptime = 0;
		fclose(f);
	}
	if (u->ok && uptime > 0)
		u->elapsed = uptime - (double)start / (double)tck;
	if ((f = fopen("/proc/self/smaps_rollup", "re"))) {
		unsigned long long kb;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Pss: %llu kB", &kb) == 1)
				u->pss = kb * 1024;
		fclose(f);
	}
	if ((f = fopen("/proc/meminfo", "re"))) {
		unsigned long long total = 0, avail = 0, kb;
		while (fgets(line, sizeof(line), f)) {
			if (sscanf(line, "MemTotal: %llu kB", &kb) == 1)
				total = kb;
			else if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
				avail = kb;
		}
		fclose(f);
		u->host_mem_used = total > avail ? (total - avail) * 1024 : 0;
	}
	if ((f = fopen("/proc/sys/fs/file-nr", "re"))) {
		unsigned long long nfd;
		if (fscanf(f, "%llu", &nfd) == 1)
			u->host_open_fds = nfd;
		fclose(f);
	}
	if ((f = fopen("/proc/stat", "re"))) {
		unsigned long long pr;
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "procs_running %llu", &pr) == 1)
				u->host_procs_running = pr;
		fclose(f);
	}
}

/* ---- Prometheus text ---- */

int metrics_append_label_value(struct strbuf *sb, const char *s)
{
	int r = 0;
	for (; *s && r >= 0; s++) {
		if (*s == '\\')
			r = strbuf_appends(sb, "\\\\");
		else if (*s == '"')
			r = strbuf_appends(sb, "\\\"");
		else if (*s == '\n')
			r = strbuf_appends(sb, "\\n");
		else
			r = strbuf_appendc(sb, *s);
	}
	return r;
}

void metrics_sanitize_name(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	if (!len)
		return;
	for (; *s && n + 1 < len; s++) {
		char c = *s;
		buf[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
					   (c >= '0' && c <= '9') || c == '_'
				   ? c
				   : '_';
	}
	buf[n] = '\0';
}

static void family(struct strbuf *sb, const char *name, const char *type, const char *ours)
{
	strbuf_appendf(sb, "# HELP %s %s%s\n# TYPE %s %s\n", name, ours ? ours : HELP_URL,
		       ours ? " (ours)" : "", name, type);
}

/* One sample: name{k="v",...} value. labels: NULL-terminated key, value pairs. */
static void sample_u64(struct strbuf *sb, const char *name, const char *const *labels, uint64_t v)
{
	strbuf_appends(sb, name);
	if (labels && labels[0]) {
		strbuf_appendc(sb, '{');
		for (size_t i = 0; labels[i]; i += 2) {
			strbuf_appendf(sb, "%s%s=\"", i ? "," : "", labels[i]);
			metrics_append_label_value(sb, labels[i + 1]);
			strbuf_appendc(sb, '"');
		}
		strbuf_appendc(sb, '}');
	}
	strbuf_appendf(sb, " %" PRIu64 "\n", v);
}

static void sample_double(struct strbuf *sb, const char *name, double v)
{
	strbuf_appendf(sb, "%s %.6g\n", name, v);
}

static void one_u64(struct strbuf *sb, const char *name, const char *type, uint64_t v)
{
	family(sb, name, type, NULL);
	sample_u64(sb, name, NULL, v);
}

static void info(struct strbuf *sb, const char *name, const char *const *labels)
{
	family(sb, name, "gauge", NULL);
	sample_u64(sb, name, labels, 1);
}

static void render_rules(struct metrics *m, struct metrics_rules *mr, struct strbuf *sb)
{
	static const char name[] = "falcosecurity_falco_rules_matches_total";
	char prio[16], tag[128];
	bool any = false;

	for (size_t i = 0; mr && i < mr->n; i++) {
		uint64_t v = metrics_rules_hits(mr, i);
		const struct metrics_rule *r = &mr->rules[i];
		if (!v)
			continue; /* as upstream: rules that never matched are not listed */
		if (!any)
			family(sb, name, "counter", NULL);
		any = true;
		/* labels sorted by name as upstream's std::map: priority, rule_name, source, tag_* */
		snprintf(prio, sizeof(prio), "%d", r->priority);
		strbuf_appendf(sb, "%s{priority=\"%s\",rule_name=\"", name, prio);
		metrics_append_label_value(sb, r->name);
		strbuf_appends(sb, "\",source=\"");
		metrics_append_label_value(sb, r->source);
		strbuf_appendc(sb, '"');
		for (size_t k = 0; k < r->ntags; k++) {
			metrics_sanitize_name(r->tags[k], tag, sizeof(tag));
			strbuf_appendf(sb, ",tag_%s=\"true\"", tag);
		}
		strbuf_appendf(sb, "} %" PRIu64 "\n", v);
	}
}

static void render_outputs(struct outputs *o, struct strbuf *sb)
{
	size_t n = out_count(o);
	struct out_stats *st = calloc(n + 1, sizeof(*st));
	uint64_t drops = 0, now = out_monotonic_ns();

	if (!st)
		return;
	for (size_t i = 0; i < n; i++) {
		out_stats(o, i, &st[i]);
		drops += st[i].dropped;
	}
	one_u64(sb, "falcosecurity_falco_outputs_queue_num_drops_total", "counter", drops);
	if (n) {
		static const struct {
			const char *name, *type, *help;
		} fams[] = {
			{"falcosecurity_falco_outputs_drops_total", "counter",
			 "alerts dropped because the output's queue was full"},
			{"falcosecurity_falco_outputs_written_total", "counter",
			 "alerts the output delivered"},
			{"falcosecurity_falco_outputs_errors_total", "counter",
			 "failed writes (each retried write counts once)"},
			{"falcosecurity_falco_outputs_queue_size", "gauge",
			 "alerts waiting in the queue"},
			{"falcosecurity_falco_outputs_queue_capacity", "gauge", "queue capacity"},
			{"falcosecurity_falco_outputs_stalled_seconds", "gauge",
			 "how long the output has been blocked in one call or overflowing, 0 = fine"},
		};
		for (size_t f = 0; f < ARRAY_SIZE(fams); f++) {
			family(sb, fams[f].name, fams[f].type, fams[f].help);
			for (size_t i = 0; i < n; i++) {
				const char *labels[] = {"output", st[i].name, NULL};
				uint64_t v = 0;
				switch (f) {
				case 0:
					v = st[i].dropped;
					break;
				case 1:
					v = st[i].written;
					break;
				case 2:
					v = st[i].errors;
					break;
				case 3:
					v = st[i].queued;
					break;
				case 4:
					v = st[i].capacity;
					break;
				default: {
					uint64_t b = st[i].busy_since_ns, fs = st[i].full_since_ns;
					uint64_t since = b && fs ? MIN(b, fs) : b ? b : fs;
					v = since && now > since ? (now - since) / 1000000000ull
								 : 0;
				}
				}
				sample_u64(sb, fams[f].name, labels, v);
			}
		}
	}
	free(st);
}

static void render_driver(struct metrics *m, const struct evt_counters *t,
			  const struct evt_counters *cpu, size_t ncpu, struct strbuf *sb)
{
	char num[24];

	one_u64(sb, "falcosecurity_scap_n_evts_total", "counter", t->n_evts);
	uint64_t drops = t->n_drops_buffer + t->n_drops_max_size;
	one_u64(sb, "falcosecurity_scap_n_drops_total", "counter", drops);
	one_u64(sb, "falcosecurity_scap_n_drops_scratch_map_total", "counter", t->n_drops_max_size);
	family(sb, "falcosecurity_scap_n_drops_buffer_total", "counter", NULL);
	for (size_t c = 0; c < _EVT_CAT_MAX; c++) {
		if (!cat_names[c])
			continue;
		const char *labels[] = {"dir", "exit", "drop", cat_names[c], NULL};
		sample_u64(sb, "falcosecurity_scap_n_drops_buffer_total", labels,
			   t->n_drops_buffer_cat[c]);
	}
	family(sb, "falcosecurity_falco_driver_evts_total", "counter",
	       "events the probe saw, by category");
	for (size_t c = 0; c < _EVT_CAT_MAX; c++) {
		if (!cat_names[c])
			continue;
		const char *labels[] = {"category", cat_names[c], NULL};
		sample_u64(sb, "falcosecurity_falco_driver_evts_total", labels, t->n_evts_cat[c]);
	}
	if (!m->opts.kernel_event_counters_per_cpu || !cpu)
		return;
	family(sb, "falcosecurity_scap_n_evts_cpu_total", "counter", NULL);
	for (size_t i = 0; i < ncpu; i++) {
		snprintf(num, sizeof(num), "%zu", i);
		const char *labels[] = {"cpu", num, NULL};
		sample_u64(sb, "falcosecurity_scap_n_evts_cpu_total", labels, cpu[i].n_evts);
	}
	family(sb, "falcosecurity_scap_n_drops_cpu_total", "counter", NULL);
	for (size_t i = 0; i < ncpu; i++) {
		snprintf(num, sizeof(num), "%zu", i);
		const char *labels[] = {"cpu", num, NULL};
		sample_u64(sb, "falcosecurity_scap_n_drops_cpu_total", labels,
			   cpu[i].n_drops_buffer + cpu[i].n_drops_max_size);
	}
}

int metrics_render_prometheus(struct metrics *m, struct strbuf *sb)
{
	struct metrics_rules *mr;
	struct outputs *o;
	struct evt_counters drv, *cpu = NULL;
	size_t ncpu = 0;
	bool have_driver;
	uint64_t now = realtime_ns();

	/* 1. what is shared under the lock: a table reference and copies */
	pthread_mutex_lock(&m->lock);
	mr = metrics_rules_ref(m->rules);
	o = m->out;
	have_driver = m->have_driver;
	drv = m->drv_total;
	if (have_driver && m->drv_cpu && m->opts.kernel_event_counters_per_cpu) {
		cpu = malloc(m->drv_ncpu * sizeof(*cpu));
		if (cpu) {
			memcpy(cpu, m->drv_cpu, m->drv_ncpu * sizeof(*cpu));
			ncpu = m->drv_ncpu;
		}
	}
	pthread_mutex_unlock(&m->lock);

	/* 2. wrapper metrics, as upstream */
	const char *ver[] = {"version", PROJECT_VERSION, NULL};
	info(sb, "falcosecurity_falco_version_info", ver);
	const char *kr[] = {"kernel_release", m->kernel_release, NULL};
	info(sb, "falcosecurity_falco_kernel_release_info", kr);
	const char *host[] = {"hostname", m->hostname, NULL};
	info(sb, "falcosecurity_evt_hostname_info", host);
	family(sb, "falcosecurity_scap_engine_name_info", "gauge", NULL);
	for (size_t i = 0; i < m->nsources; i++) {
		if (!m->engines[i])
			continue;
		const char *l[] = {"engine_name", m->engines[i], "evt_source", m->sources[i], NULL};
		sample_u64(sb, "falcosecurity_scap_engine_name_info", l, 1);
	}
	one_u64(sb, "falcosecurity_falco_start_timestamp_nanoseconds", "gauge", m->start_ts);
	one_u64(sb, "falcosecurity_falco_duration_seconds_total", "counter",
		now > m->start_ts ? (now - m->start_ts) / 1000000000ull : 0);
	one_u64(sb, "falcosecurity_falco_host_boot_timestamp_nanoseconds", "gauge", m->boot_ts);
	one_u64(sb, "falcosecurity_falco_host_num_cpus_total", "gauge", m->ncpus);
	one_u64(sb, "falcosecurity_falco_reload_timestamp_nanoseconds", "gauge",
		atomic_load(&m->reload_ts));

	/* 3. events, alerts, rules, reloads */
	family(sb, "falcosecurity_falco_num_evts_total", "counter", "events processed, by source");
	for (size_t i = 0; i < m->nsources; i++) {
		const char *l[] = {"evt_source", m->sources[i], NULL};
		sample_u64(sb, "falcosecurity_falco_num_evts_total", l, atomic_load(&m->events[i]));
	}
	family(sb, "falcosecurity_falco_alerts_total", "counter",
	       "alerts sent to the outputs, by priority and source");
	for (int p = 0; p < _PRIO_MAX; p++)
		for (size_t s = 0; s <= METRICS_SOURCE_INTERNAL; s++) {
			uint64_t v = atomic_load(&m->alerts[p][s]);
			if (!v)
				continue;
			const char *l[] = {"priority", prio_to_string(p), "source",
					   s == METRICS_SOURCE_INTERNAL ? "internal"
					   : s < m->nsources		? m->sources[s]
									: "unknown",
					   NULL};
			sample_u64(sb, "falcosecurity_falco_alerts_total", l, v);
		}
	family(sb, "falcosecurity_falco_outputs_rate_limited_total", "counter",
	       "rule matches not sent because of outputs_rate_limit");
	sample_u64(sb, "falcosecurity_falco_outputs_rate_limited_total", NULL,
		   atomic_load(&m->rate_limited));
	if (m->opts.rules_counters)
		render_rules(m, mr, sb);
	family(sb, "falcosecurity_falco_rules_loaded", "gauge", "rules in the rule set in use");
	sample_u64(sb, "falcosecurity_falco_rules_loaded", NULL, atomic_load(&m->rules_total));
	family(sb, "falcosecurity_falco_rules_enabled", "gauge",
	       "enabled rules in the rule set in use");
	sample_u64(sb, "falcosecurity_falco_rules_enabled", NULL, atomic_load(&m->rules_enabled));
	family(sb, "falcosecurity_falco_reloads_total", "counter",
	       "rules/configuration reloads, by result");
	const char *ok[] = {"result", "success", NULL}, *ko[] = {"result", "failure", NULL};
	sample_u64(sb, "falcosecurity_falco_reloads_total", ok, atomic_load(&m->reloads_ok));
	sample_u64(sb, "falcosecurity_falco_reloads_total", ko, atomic_load(&m->reloads_failed));

	/* 4. outputs */
	if (o)
		render_outputs(o, sb);

	/* 5. resource utilization (upstream's names, converted to bytes and ratios) */
	if (m->opts.resource_utilization) {
		struct proc_usage u;
		read_proc_usage(&u);
		if (u.ok) {
			family(sb, "falcosecurity_falco_cpu_usage_ratio", "gauge", NULL);
			sample_double(sb, "falcosecurity_falco_cpu_usage_ratio",
				      u.elapsed > 0 ? u.cpu_seconds / u.elapsed : 0);
			family(sb, "falcosecurity_falco_cpu_seconds_total", "counter",
			       "user + system CPU time of the process");
			sample_double(sb, "falcosecurity_falco_cpu_seconds_total", u.cpu_seconds);
			one_u64(sb, "falcosecurity_falco_memory_rss_bytes", "gauge", u.rss);
			one_u64(sb, "falcosecurity_falco_memory_vsz_bytes", "gauge", u.vsz);
			one_u64(sb, "falcosecurity_falco_memory_pss_bytes", "gauge", u.pss);
			one_u64(sb, "falcosecurity_falco_host_memory_used_bytes", "gauge",
				u.host_mem_used);
			one_u64(sb, "falcosecurity_falco_host_open_fds_total", "gauge",
				u.host_open_fds);
			one_u64(sb, "falcosecurity_falco_host_procs_running_total", "gauge",
				u.host_procs_running);
		}
	}

	/* 6. driver */
	if (have_driver && m->opts.kernel_event_counters)
		render_driver(m, &drv, cpu, ncpu, sb);
	free(cpu);
	metrics_rules_unref(mr);
	return sb->failed ? -ENOMEM : 0;
}

/* ---- snapshot fields ---- */

static int snap_add(struct metrics_snapshot *s, const char *name, enum metrics_value_type t,
		    uint64_t u, double d, const char *str)
{
	if (s->n == s->cap) {
		size_t nc = s->cap ? s->cap * 2 : 64;
		struct metrics_item *ni = realloc(s->items, nc * sizeof(*ni));
		if (!ni)
			return -ENOMEM;
		s->items = ni;
		s->cap = nc;
	}
	struct metrics_item *it = &s->items[s->n];
	*it = (struct metrics_item){.type = t, .u64 = u, .d = d};
	it->name = strdup(name);
	if (str)
		it->str = strdup(str);
	if (!it->name || (str && !it->str)) {
		free(it->name);
		free(it->str);
		return -ENOMEM;
	}
	s->n++;
	return 0;
}

static int snap_u64(struct metrics_snapshot *s, const char *name, uint64_t v)
{
	return snap_add(s, name, METRICS_U64, v, 0, NULL);
}

static int cmp_item(const void *a, const void *b)
{
	return strcmp(((const struct metrics_item *)a)->name,
		      ((const struct metrics_item *)b)->name);
}

void metrics_snapshot_done(struct metrics_snapshot *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->items[i].name);
		free(s->items[i].str);
	}
	free(s->items);
	*s = (struct metrics_snapshot){0};
}

int metrics_snapshot(struct metrics *m, uint64_t now_ns, struct metrics_snapshot *ret)
{
	struct metrics_snapshot s = {0};
	char name[600];
	uint64_t now = realtime_ns(), total = 0, drops = 0;
	int r = 0;

	size_t first = 0;
	for (size_t i = m->nsources; i-- > 0;) {
		total += atomic_load(&m->events[i]);
		if (m->engines[i])
			first = i;
	}
	r |= snap_add(&s, "evt.source", METRICS_STR, 0, 0, m->nsources ? m->sources[first] : "");
	r |= snap_add(&s, "evt.hostname", METRICS_STR, 0, 0, m->hostname);
	r |= snap_add(&s, "falco.version", METRICS_STR, 0, 0, PROJECT_VERSION);
	r |= snap_add(&s, "falco.kernel_release", METRICS_STR, 0, 0, m->kernel_release);
	r |= snap_add(&s, "scap.engine_name", METRICS_STR, 0, 0,
		      m->engines[first] ? m->engines[first] : "");
	r |= snap_u64(&s, "falco.start_ts", m->start_ts);
	r |= snap_u64(&s, "falco.duration_sec",
		      now > m->start_ts ? (now - m->start_ts) / 1000000000ull : 0);
	r |= snap_u64(&s, "falco.host_boot_ts", m->boot_ts);
	r |= snap_u64(&s, "falco.host_num_cpus", m->ncpus);
	r |= snap_u64(&s, "falco.num_evts", total);
	r |= snap_u64(&s, "falco.num_evts_prev", m->prev_events);
	double secs = now_ns > m->prev_ns ? (double)(now_ns - m->prev_ns) / 1e9 : 0;
	r |= snap_add(&s, "falco.evts_rate_sec", METRICS_DOUBLE, 0,
		      secs > 0 ? (double)(total - m->prev_events) / secs : 0, NULL);
	m->prev_events = total;
	m->prev_ns = now_ns;
	r |= snap_u64(&s, "falco.reload_ts", atomic_load(&m->reload_ts));

	pthread_mutex_lock(&m->lock);
	struct metrics_rules *mr = metrics_rules_ref(m->rules);
	struct outputs *o = m->out;
	bool have_driver = m->have_driver;
	struct evt_counters drv = m->drv_total;
	pthread_mutex_unlock(&m->lock);

	for (size_t i = 0; o && i < out_count(o); i++) {
		struct out_stats st;
		out_stats(o, i, &st);
		drops += st.dropped;
	}
	r |= snap_u64(&s, "falco.outputs_queue_num_drops", drops);
	if (m->opts.rules_counters && mr) {
		uint64_t all = 0;
		for (size_t i = 0; i < mr->n; i++) {
			uint64_t v = metrics_rules_hits(mr, i);
			all += v;
			if (!v && !m->opts.include_empty_values)
				continue;
			char san[512];
			metrics_sanitize_name(mr->rules[i].name, san, sizeof(san));
			snprintf(name, sizeof(name), "falco.rules.%s", san);
			r |= snap_u64(&s, name, v);
		}
		r |= snap_u64(&s, "falco.rules.matches_total", all);
	}
	metrics_rules_unref(mr);
	if (m->opts.resource_utilization) {
		struct proc_usage u;
		bool mb = m->opts.convert_memory_to_mb;
		double div = mb ? 1024.0 * 1024.0 : 1024.0;
		read_proc_usage(&u);
		r |= snap_add(&s, "falco.cpu_usage_perc", METRICS_DOUBLE, 0,
			      u.elapsed > 0 ? 100.0 * u.cpu_seconds / u.elapsed : 0, NULL);
		r |= snap_add(&s, mb ? "falco.memory_rss_mb" : "falco.memory_rss_kb",
			      METRICS_DOUBLE, 0, (double)u.rss / div, NULL);
		r |= snap_add(&s, mb ? "falco.memory_vsz_mb" : "falco.memory_vsz_kb",
			      METRICS_DOUBLE, 0, (double)u.vsz / div, NULL);
		r |= snap_add(&s, mb ? "falco.memory_pss_mb" : "falco.memory_pss_kb",
			      METRICS_DOUBLE, 0, (double)u.pss / div, NULL);
		r |= snap_add(&s, mb ? "falco.host_memory_used_mb" : "falco.host_memory_used_kb",
			      METRICS_DOUBLE, 0, (double)u.host_mem_used / div, NULL);
		r |= snap_u64(&s, "falco.host_open_fds", u.host_open_fds);
		r |= snap_u64(&s, "falco.host_procs_running", u.host_procs_running);
	}
	if (have_driver && m->opts.kernel_event_counters) {
		r |= snap_u64(&s, "scap.n_evts", drv.n_evts);
		r |= snap_u64(&s, "scap.n_drops", drv.n_drops_buffer + drv.n_drops_max_size);
		r |= snap_u64(&s, "scap.n_drops_buffer_total", drv.n_drops_buffer);
		r |= snap_u64(&s, "scap.n_drops_scratch_map", drv.n_drops_max_size);
		for (size_t c = 0; c < _EVT_CAT_MAX; c++) {
			if (!cat_names[c])
				continue;
			snprintf(name, sizeof(name), "scap.n_drops_buffer_%s_exit", cat_names[c]);
			r |= snap_u64(&s, name, drv.n_drops_buffer_cat[c]);
		}
	}
	if (r < 0) {
		metrics_snapshot_done(&s);
		return -ENOMEM;
	}
	if (s.n)
		qsort(s.items, s.n, sizeof(*s.items), cmp_item);
	*ret = s;
	return 0;
}
