/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reload thread and file watches. The engine thread hands one job at a time to the reload thread (mutex + condition
 * variable) and learns about the result through an eventfd in its own event_base, so the swap (apply) always runs
 * on the engine thread between two events. Watches use one inotify descriptor in the same base; a debounce timer
 * turns a burst of file events (an editor's save, a ConfigMap update, `cp -r` of a rules directory) into one
 * request.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/macro.h"
#include "config.h"
#include "reload.h"

#define WATCH_MASK                                                                          \
	(IN_CLOSE_WRITE | IN_MODIFY | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB)

struct watch_dir {
	int wd;
	char *dir;
	bool whole;   /* a rules directory: any .yaml/.yml counts */
	char **names; /* files of interest in dir */
	size_t nnames;
};

struct reload {
	struct reload_callbacks cbs;
	struct event_base *base;

	/* the thread */
	pthread_t thread;
	bool thread_started;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	void *job; /* handed to the thread */
	bool has_job;
	void *result; /* handed back */
	bool has_result;
	bool stop;
	int efd;
	struct event *done_ev;

	/* engine-thread state */
	bool busy;
	bool pending;
	char pending_why[640];

	/* watches */
	int ifd;
	struct event *inotify_ev;
	struct event *debounce_ev;
	unsigned debounce_ms;
	struct watch_dir *dirs;
	size_t ndirs;
	char change[600]; /* the first change of the current burst, for prepare's "why" */
};

/* ---- the reload thread ---- */

static void *reload_thread(void *arg)
{
	struct reload *r = arg;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		while (!r->has_job && !r->stop)
			pthread_cond_wait(&r->cond, &r->lock);
		if (!r->has_job)
			break;
		void *job = r->job;
		r->has_job = false;
		r->job = NULL;
		pthread_mutex_unlock(&r->lock);

		void *res = r->cbs.build(r->cbs.ud, job);

		pthread_mutex_lock(&r->lock);
		r->result = res;
		r->has_result = true;
		uint64_t one = 1;
		/* the counter never overflows here: the engine reads it after each build */
		if (write(r->efd, &one, sizeof(one)) < 0)
			(void)0;
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

static void start_build(struct reload *r, const char *why)
{
	void *job = r->cbs.prepare ? r->cbs.prepare(r->cbs.ud, why) : NULL;

	r->busy = true;
	pthread_mutex_lock(&r->lock);
	r->job = job;
	r->has_job = true;
	pthread_cond_signal(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct reload *r = arg;
	uint64_t v;
	void *res = NULL;
	bool have = false;

	if (read(r->efd, &v, sizeof(v)) < 0)
		return;
	pthread_mutex_lock(&r->lock);
	if (r->has_result) {
		res = r->result;
		have = true;
		r->result = NULL;
		r->has_result = false;
	}
	pthread_mutex_unlock(&r->lock);
	if (!have)
		return;
	r->busy = false;
	r->cbs.apply(r->cbs.ud, res);
	if (r->pending && !r->busy) {
		r->pending = false;
		start_build(r, r->pending_why);
	}
}

void reload_request(struct reload *r, const char *why)
{
	if (r->busy) {
		/* coalesced: one more build once this one is applied, with the latest reason */
		r->pending = true;
		snprintf(r->pending_why, sizeof(r->pending_why), "%s", why ? why : "");
		return;
	}
	start_build(r, why);
}

bool reload_busy(const struct reload *r)
{
	return r->busy || r->pending;
}

/* ---- watches ---- */

static void clear_watches(struct reload *r)
{
	if (r->inotify_ev)
		event_free(r->inotify_ev);
	r->inotify_ev = NULL;
	if (r->ifd >= 0)
		(void)close(r->ifd);
	r->ifd = -1;
	for (size_t i = 0; i < r->ndirs; i++) {
		for (size_t k = 0; k < r->dirs[i].nnames; k++)
			free(r->dirs[i].names[k]);
		free(r->dirs[i].names);
		free(r->dirs[i].dir);
	}
	free(r->dirs);
	r->dirs = NULL;
	r->ndirs = 0;
}

static bool has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);
	return a >= b && streq(s + a - b, suf);
}

static bool name_matters(const struct watch_dir *w, const char *name)
{
	if (!name || !*name)
		return true; /* an event on the directory itself */
	/* Kubernetes' atomic writer swaps a "..data" symlink; its temporary names start with ".." too */
	if (name[0] == '.' && name[1] == '.')
		return true;
	if (w->whole && (has_suffix(name, ".yaml") || has_suffix(name, ".yml")))
		return true;
	for (size_t i = 0; i < w->nnames; i++)
		if (streq(w->names[i], name))
			return true;
	return false;
}

static void on_debounce(evutil_socket_t fd, short what, void *arg)
{
	struct reload *r = arg;
	char why[640];

	snprintf(why, sizeof(why), "%s", r->change);
	r->change[0] = '\0';
	reload_request(r, why);
}

static void on_inotify(evutil_socket_t fd, short what, void *arg)
{
	struct reload *r = arg;
	char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;

	for (;;) {
		ssize_t n = read(r->ifd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				hit = true;
				if (!r->change[0])
					snprintf(r->change, sizeof(r->change),
						 "file changes (inotify queue overflow)");
				continue;
			}
			for (size_t i = 0; i < r->ndirs; i++) {
				const struct watch_dir *w = &r->dirs[i];
				if (w->wd != ev->wd || !name_matters(w, ev->len ? ev->name : NULL))
					continue;
				hit = true;
				if (!r->change[0])
					snprintf(r->change, sizeof(r->change), "'%s%s%s' changed",
						 w->dir, ev->len ? "/" : "",
						 ev->len ? ev->name : "");
			}
		}
	}
	if (hit) {
		struct timeval tv = {.tv_sec = r->debounce_ms / 1000,
				     .tv_usec = (r->debounce_ms % 1000) * 1000};
		evtimer_add(r->debounce_ev, &tv); /* re-arming pushes the deadline back */
	}
}

static struct watch_dir *dir_entry(struct reload *r, int wd, const char *dir)
{
	for (size_t i = 0; i < r->ndirs; i++)
		if (r->dirs[i].wd == wd)
			return &r->dirs[i];
	struct watch_dir *nd = realloc(r->dirs, (r->ndirs + 1) * sizeof(*nd));
	if (!nd)
		return NULL;
	r->dirs = nd;
	struct watch_dir *w = &r->dirs[r->ndirs];
	*w = (struct watch_dir){.wd = wd, .dir = strdup(dir)};
	if (!w->dir)
		return NULL;
	r->ndirs++;
	return w;
}

static int add_name(struct watch_dir *w, const char *name)
{
	for (size_t i = 0; i < w->nnames; i++)
		if (streq(w->names[i], name))
			return 0;
	char **nn = realloc(w->names, (w->nnames + 1) * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	w->names = nn;
	if (!(w->names[w->nnames] = strdup(name)))
		return -ENOMEM;
	w->nnames++;
	return 0;
}

static int watch_one(struct reload *r, const char *path, char *skipped, size_t skiplen)
{
	char dir[PATH_MAX];
	const char *name = NULL;
	struct stat st;
	bool whole = false;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", path);
		whole = true;
	} else {
		const char *slash = strrchr(path, '/');
		if (!slash)
			snprintf(dir, sizeof(dir), ".");
		else if (slash == path)
			snprintf(dir, sizeof(dir), "/");
		else
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
		name = slash ? slash + 1 : path;
	}
	int wd = inotify_add_watch(r->ifd, dir, WATCH_MASK | IN_ONLYDIR);
	if (wd < 0) {
		size_t l = strlen(skipped);
		snprintf(skipped + l, skiplen - l, "%s'%s' (%s)", l ? ", " : "", path,
			 strerror(errno));
		return 0;
	}
	struct watch_dir *w = dir_entry(r, wd, dir);
	if (!w)
		return -ENOMEM;
	w->whole |= whole;
	return name ? add_name(w, name) : 0;
}

int reload_watch(struct reload *r, const char *const *paths, size_t n, unsigned debounce_ms,
		 char *errbuf, size_t errlen)
{
	char skipped[1024] = "";
	int ret;

	clear_watches(r);
	r->debounce_ms = debounce_ms;
	if (n == 0)
		return 0;
	r->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->ifd < 0)
		return errf(errbuf, errlen, -errno, "inotify: %s", strerror(errno));
	for (size_t i = 0; i < n; i++)
		if ((ret = watch_one(r, paths[i], skipped, sizeof(skipped))) < 0) {
			clear_watches(r);
			return errf(errbuf, errlen, ret, "out of memory");
		}
	r->inotify_ev = event_new(r->base, r->ifd, EV_READ | EV_PERSIST, on_inotify, r);
	if (!r->inotify_ev || event_add(r->inotify_ev, NULL) < 0) {
		clear_watches(r);
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	if (skipped[0])
		errf(errbuf, errlen, 0, "cannot watch %s", skipped);
	else if (errbuf && errlen)
		errbuf[0] = '\0';
	return 0;
}

/* ---- lifecycle ---- */

int reload_new(struct event_base *base, const struct reload_callbacks *cbs, struct reload **ret,
	       char *errbuf, size_t errlen)
{
	struct reload *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	r->cbs = *cbs;
	r->base = base;
	r->ifd = -1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->efd < 0) {
		err = errf(errbuf, errlen, -errno, "eventfd: %s", strerror(errno));
		goto fail;
	}
	r->done_ev = event_new(base, r->efd, EV_READ | EV_PERSIST, on_done, r);
	r->debounce_ev = evtimer_new(base, on_debounce, r);
	if (!r->done_ev || !r->debounce_ev || event_add(r->done_ev, NULL) < 0) {
		err = errf(errbuf, errlen, -ENOMEM, "out of memory");
		goto fail;
	}
	err = -pthread_create(&r->thread, NULL, reload_thread, r);
	if (err < 0) {
		errf(errbuf, errlen, err, "cannot start the reload thread: %s", strerror(-err));
		goto fail;
	}
	r->thread_started = true;
	*ret = r;
	return 0;
fail:
	reload_free(r);
	return err;
}

struct reload *reload_free(struct reload *r)
{
	if (!r)
		return NULL;
	if (r->thread_started) {
		pthread_mutex_lock(&r->lock);
		r->stop = true;
		pthread_cond_signal(&r->cond);
		pthread_mutex_unlock(&r->lock);
		/* a build in progress finishes first (bounded by the rules and config limits) */
		pthread_join(r->thread, NULL);
	}
	if (r->has_result && r->cbs.discard)
		r->cbs.discard(r->cbs.ud, r->result);
	clear_watches(r);
	if (r->debounce_ev)
		event_free(r->debounce_ev);
	if (r->done_ev)
		event_free(r->done_ev);
	if (r->efd >= 0)
		(void)close(r->efd);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
	return NULL;
}

/* ---- which configuration changes need a restart ---- */

static bool str_differs(const char *a, const char *b)
{
	return !streq(a ? a : "", b ? b : "");
}

static bool strv_differs(const char *const *a, const char *const *b)
{
	for (; a && *a && b && *b; a++, b++)
		if (!streq(*a, *b))
			return true;
	return (a && *a) != (b && *b);
}

static void note(char *buf, size_t len, int *n, const char *key)
{
	size_t l = strlen(buf);
	if (len > l)
		snprintf(buf + l, len - l, "%s%s", *n ? ", " : "", key);
	(*n)++;
}

int reload_restart_keys_changed(const struct falco_config *a, const struct falco_config *b,
				char *buf, size_t len)
{
	int n = 0;

	if (len)
		buf[0] = '\0';
#define SCALAR(key, f)                           \
	do {                                     \
		if (a->f != b->f)                \
			note(buf, len, &n, key); \
	} while (0)
#define STR(key, f)                              \
	do {                                     \
		if (str_differs(a->f, b->f))     \
			note(buf, len, &n, key); \
	} while (0)
	SCALAR("json_output", json_output);
	SCALAR("buffered_outputs", buffered_outputs);
	SCALAR("outputs_queue.capacity", outputs_queue_capacity);
	SCALAR("output_timeout", output_timeout_ms);
	SCALAR("stdout_output", stdout_output);
	SCALAR("syslog_output", syslog_output);
	SCALAR("journald_output", journald_output);
	if (a->file_output.enabled != b->file_output.enabled ||
	    a->file_output.keep_alive != b->file_output.keep_alive ||
	    str_differs(a->file_output.filename, b->file_output.filename))
		note(buf, len, &n, "file_output");
	if (a->program_output.enabled != b->program_output.enabled ||
	    a->program_output.keep_alive != b->program_output.keep_alive ||
	    str_differs(a->program_output.program, b->program_output.program))
		note(buf, len, &n, "program_output");
	const struct cfg_http_output *ha = &a->http_output, *hb = &b->http_output;
	if (ha->enabled != hb->enabled || str_differs(ha->url, hb->url) ||
	    str_differs(ha->user_agent, hb->user_agent) || ha->insecure != hb->insecure ||
	    str_differs(ha->ca_cert, hb->ca_cert) || str_differs(ha->ca_bundle, hb->ca_bundle) ||
	    str_differs(ha->ca_path, hb->ca_path) || ha->mtls != hb->mtls ||
	    str_differs(ha->client_cert, hb->client_cert) ||
	    str_differs(ha->client_key, hb->client_key) || ha->echo != hb->echo ||
	    ha->compress_uploads != hb->compress_uploads || ha->keep_alive != hb->keep_alive ||
	    ha->max_consecutive_timeouts != hb->max_consecutive_timeouts ||
	    strv_differs(ha->headers, hb->headers) || ha->timeout_ms != hb->timeout_ms ||
	    ha->connect_timeout_ms != hb->connect_timeout_ms || ha->retries != hb->retries ||
	    ha->retry_backoff_ms != hb->retry_backoff_ms)
		note(buf, len, &n, "http_output");
	SCALAR("log_stderr", log_stderr);
	SCALAR("log_syslog", log_syslog);
	const struct cfg_webserver *wa = &a->webserver, *wb = &b->webserver;
	if (wa->enabled != wb->enabled || wa->listen_port != wb->listen_port ||
	    str_differs(wa->listen_address, wb->listen_address) ||
	    str_differs(wa->k8s_healthz_endpoint, wb->k8s_healthz_endpoint) ||
	    wa->ssl_enabled != wb->ssl_enabled ||
	    str_differs(wa->ssl_certificate, wb->ssl_certificate) ||
	    wa->prometheus_metrics_enabled != wb->prometheus_metrics_enabled)
		note(buf, len, &n, "webserver");
	const struct cfg_k8s_audit *ka = &a->k8s_audit, *kb = &b->k8s_audit;
	if (ka->enabled != kb->enabled || ka->listen_port != kb->listen_port ||
	    str_differs(ka->listen_address, kb->listen_address) ||
	    str_differs(ka->path, kb->path) || ka->tls != kb->tls ||
	    str_differs(ka->tls_cert, kb->tls_cert) || str_differs(ka->tls_key, kb->tls_key) ||
	    str_differs(ka->tls_ca, kb->tls_ca) || ka->mtls != kb->mtls ||
	    ka->max_event_size != kb->max_event_size || ka->max_batch_size != kb->max_batch_size ||
	    ka->queue_capacity != kb->queue_capacity ||
	    str_differs(ka->replay_file, kb->replay_file))
		note(buf, len, &n, "k8s_audit (or the k8saudit plugin entry)");
	STR("engine.kind", engine_kind);
	STR("engine.replay.capture_file", replay_capture_file);
	if (a->modern_ebpf.cpus_for_each_buffer != b->modern_ebpf.cpus_for_each_buffer ||
	    a->modern_ebpf.buf_size_preset != b->modern_ebpf.buf_size_preset ||
	    a->modern_ebpf.drop_failed_exit != b->modern_ebpf.drop_failed_exit)
		note(buf, len, &n, "engine.modern_ebpf");
	SCALAR("watch_config_files", watch_config_files);
	const struct cfg_metrics *ma = &a->metrics, *mb = &b->metrics;
	if (ma->enabled != mb->enabled ||
	    ma->rules_counters_enabled != mb->rules_counters_enabled ||
	    ma->resource_utilization_enabled != mb->resource_utilization_enabled ||
	    ma->kernel_event_counters_enabled != mb->kernel_event_counters_enabled ||
	    ma->kernel_event_counters_per_cpu_enabled !=
		    mb->kernel_event_counters_per_cpu_enabled ||
	    ma->convert_memory_to_mb != mb->convert_memory_to_mb ||
	    ma->include_empty_values != mb->include_empty_values ||
	    ma->state_counters_enabled != mb->state_counters_enabled ||
	    ma->libbpf_stats_enabled != mb->libbpf_stats_enabled ||
	    ma->plugins_metrics_enabled != mb->plugins_metrics_enabled ||
	    ma->jemalloc_stats_enabled != mb->jemalloc_stats_enabled)
		note(buf, len, &n, "metrics (other than interval and output_rule)");
	/* its file sink is opened once, at startup */
	if (str_differs(ma->output_file, mb->output_file))
		note(buf, len, &n, "metrics.output_file");
	if (a->syscall_event_drops.threshold != b->syscall_event_drops.threshold ||
	    a->syscall_event_drops.actions != b->syscall_event_drops.actions ||
	    a->syscall_event_drops.rate != b->syscall_event_drops.rate ||
	    a->syscall_event_drops.max_burst != b->syscall_event_drops.max_burst)
		note(buf, len, &n, "syscall_event_drops");
#undef SCALAR
#undef STR
	return n;
}
