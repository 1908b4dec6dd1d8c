/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driver harness for benchmarks and debugging: loads the probe, makes a set of event types interesting and
 * consumes the rings on a timer and/or wakeups, like the daemon's engine loop does.
 *
 *   falco-drvbench [options] SECONDS
 *     --dump               print every decoded event (evt.type, tid, params)
 *     --types LIST         comma-separated evt.type names (default: the state base set + the stable rules' types)
 *     --wakeup BYTES       probe wakeup threshold (0 = timer polling only, "each" = libbpf default)
 *     --cpus-per-ring N    CPUs per ring (0 = one ring)
 *     --ring-bytes N       bytes per ring
 *     --batch N            records per drain call (default 4096)
 *     --enter / --no-enter entry (TOCTOU) events on / off (default off)
 *     --poll-min-us/--poll-max-us  adaptive timer bounds (default 500/30000)
 * Prints records/s, drops and the consumer's CPU time at the end.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common/strbuf.h"
#include "falco/source/evt_bpf.h"
#include "falco/source/evt_decode.h"
#include "falco/source/syscall_table.h"

static volatile sig_atomic_t stop;
static uint64_t nrec, nbad, nbytes;
static int dump;

static void on_sig(int s)
{
	(void)s;
	stop = 1;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static int on_record(void *ud, const void *rec, size_t len)
{
	struct evt_rec r;
	(void)ud;
	nrec++;
	nbytes += len;
	int k = evt_decode(rec, len, &r);
	if (k < 0) {
		nbad++;
		return 0;
	}
	if (!dump)
		return 0;
	struct strbuf sb;
	strbuf_init(&sb, 0);
	strbuf_appendf(&sb, "%llu %u/%u %s", (unsigned long long)r.ts, r.pid, r.tid,
		       evt_type_name(r.type));
	for (unsigned i = 0; i < r.info->nparams && i < r.nparams; i++) {
		strbuf_appendf(&sb, " %s=", r.info->params[i].name);
		if (evt_render_param(&r, i, &sb) == 0)
			strbuf_appends(&sb, "<NA>");
	}
	printf("%s\n", strbuf_str(&sb));
	strbuf_done(&sb);
	return 0;
}

int main(int argc, char **argv)
{
	struct evt_bpf_opts o;
	const char *types = NULL;
	size_t batch = 4096;
	uint32_t pmin = 500, pmax = 30000;
	char err[2048];
	int i;

	evt_bpf_opts_init(&o);
	for (i = 1; i < argc - 1; i++) {
		if (!strcmp(argv[i], "--dump"))
			dump = 1;
		else if (!strcmp(argv[i], "--types"))
			types = argv[++i];
		else if (!strcmp(argv[i], "--wakeup")) {
			i++;
			o.wakeup_bytes = !strcmp(argv[i], "each")
						 ? EVT_BPF_WAKEUP_EACH
						 : (uint32_t)strtoul(argv[i], NULL, 0);
		} else if (!strcmp(argv[i], "--cpus-per-ring"))
			o.cpus_per_ring = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--ring-bytes"))
			o.ring_bytes = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--batch"))
			batch = strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--no-enter"))
			o.enter_events = false;
		else if (!strcmp(argv[i], "--enter"))
			o.enter_events = true;
		else if (!strcmp(argv[i], "--poll-min-us"))
			pmin = (uint32_t)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--poll-max-us"))
			pmax = (uint32_t)strtoul(argv[++i], NULL, 0);
		else
			break;
	}
	if (i != argc - 1) {
		fprintf(stderr, "usage: %s [options] SECONDS (see the source header)\n", argv[0]);
		return EXIT_FAILURE;
	}
	double secs = atof(argv[argc - 1]);

	struct evt_bpf *b;
	int r = evt_bpf_open(&o, &b, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "falco-drvbench: %s\n", err);
		return EXIT_FAILURE;
	}
	uint64_t bits[EVT_TYPE_WORDS] = {0};
	if (types) {
		char *dup = strdup(types), *save = NULL;
		for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
			uint16_t codes[8];
			int n = evt_type_codes(t, codes, 8);
			if (n < 0) {
				fprintf(stderr, "falco-drvbench: unknown event type %s\n", t);
				return EXIT_FAILURE;
			}
			for (int k = 0; k < n; k++)
				evt_bit_set(bits, EVT_TYPE_WORDS, codes[k]);
		}
		free(dup);
	} else {
		static const char *const stable[] = {
			"connect",  "dup",	    "dup2",	   "dup3",     "execve",
			"execveat", "finit_module", "init_module", "link",     "linkat",
			"open",	    "openat",	    "openat2",	   "ptrace",   "sendmsg",
			"sendto",   "socket",	    "symlink",	   "symlinkat"};
		evt_type_base_set(bits, EVT_TYPE_WORDS);
		for (size_t k = 0; k < sizeof(stable) / sizeof(stable[0]); k++) {
			uint16_t codes[8];
			int n = evt_type_codes(stable[k], codes, 8);
			for (int j = 0; j < n; j++)
				evt_bit_set(bits, EVT_TYPE_WORDS, codes[j]);
		}
	}
	r = evt_bpf_set_interesting(b, bits, EVT_TYPE_WORDS);
	if (r < 0) {
		fprintf(stderr, "falco-drvbench: set_interesting: %s\n", strerror(-r));
		return EXIT_FAILURE;
	}
	fprintf(stderr, "falco-drvbench: %d syscalls interesting, %zu ring(s), wakeup %u\n", r,
		evt_bpf_nrings(b), o.wakeup_bytes);
	signal(SIGINT, on_sig);
	signal(SIGTERM, on_sig);

	struct evt_bpf_backoff bo;
	evt_bpf_backoff_init(&bo, pmin, pmax);
	struct pollfd pfd = {.fd = evt_bpf_fd(b), .events = POLLIN};
	uint64_t wakeups = 0, drains = 0;
	double t0 = now(), c0 = cpu_s(), end = t0 + secs;
	uint32_t delay = 0;
	while (!stop && now() < end) {
		/* the engine loop: wait for a wakeup or the timer, then drain a bounded batch */
		if (delay) {
			int timeout = (int)((delay + 999) / 1000);
			if (o.wakeup_bytes == 0) {
				struct timespec ts = {delay / 1000000,
						      (long)(delay % 1000000) * 1000};
				nanosleep(&ts, NULL);
			} else if (poll(&pfd, 1, timeout) > 0)
				wakeups++;
		}
		int n = evt_bpf_drain(b, batch, on_record, NULL);
		drains++;
		if (n < 0)
			break;
		delay = evt_bpf_backoff_next(&bo, (size_t)n, (size_t)n == batch);
	}
	double dt = now() - t0, dc = cpu_s() - c0;
	struct evt_counters c;
	evt_bpf_counters(b, &c, NULL, 0, NULL);
	uint64_t runs = 0, ns = 0;
	evt_bpf_prog_stats(b, &runs, &ns);
	fprintf(stderr,
		"records %llu (%.0f/s, %.1f MB/s), bad %llu, kernel: evts %llu drops_buffer %llu drops_size %llu "
		"read_fail %llu wakeups %llu; consumer CPU %.3f s (%.1f%%), %.0f records per CPU-s, drains %llu, "
		"poll wakeups %llu; bpf runs %llu ns %llu\n",
		(unsigned long long)nrec, (double)nrec / dt, (double)nbytes / dt / 1e6,
		(unsigned long long)nbad, (unsigned long long)c.n_evts,
		(unsigned long long)c.n_drops_buffer, (unsigned long long)c.n_drops_max_size,
		(unsigned long long)c.n_read_fail, (unsigned long long)c.n_wakeups, dc,
		100.0 * dc / dt, dc > 0 ? (double)nrec / dc : 0.0, (unsigned long long)drains,
		(unsigned long long)wakeups, (unsigned long long)runs, (unsigned long long)ns);
	evt_bpf_close(b);
	return EXIT_SUCCESS;
}
