/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The modern eBPF driver, user side (see evt_bpf.h). Lifecycle: falco_bpf__open() → rodata cfg_* and map sizes →
 * __load() → tail-call table → rings (created, inserted per CPU, mmap'ed) → __attach(). Records are consumed
 * straight from the mmap'ed rings (libbpf 1.1 has no peek API): the consumer position of a ring is advanced only
 * after the record's callback returned.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "common/err.h"
#include "common/macro.h"
#include "evt_bpf.h"
#include "falco.skel.h"
#include "syscall_table.h"

#define DEFAULT_RING_BYTES  (8u << 20)
#define RINGBUF_BUSY_BIT    (1u << 31)
#define RINGBUF_DISCARD_BIT (1u << 30)
#define RINGBUF_HDR_SZ	    8u
#define PROC_PID_INIT_INO   0xEFFFFFFCu /* the host's pid namespace (include/linux/proc_ns.h) */

struct ring {
	int fd;
	uint64_t mask;
	unsigned long *consumer; /* mmap'ed, read-write */
	unsigned long *producer; /* mmap'ed, read-only; the data pages follow (mapped twice) */
	uint8_t *data;
	unsigned long cons, prod,
		published; /* our position, the last producer position seen, the published one */
	unsigned int unpublished;
	/* the record at the head, when peeked */
	const uint8_t *head;
	uint32_t head_len;
	uint64_t head_ts;
};

struct evt_bpf {
	struct falco_bpf *skel;
	struct ring *rings;
	size_t nrings;
	size_t ncpus;
	uint64_t ring_bytes;
	size_t page;
	int epfd;
	bool enter_events;
	struct bpf_link *enter_links[8];
	size_t nenter_links;
};

/* ---- libbpf message capture (evt_bpf_open is the only caller of libbpf that may print) ---- */

static __thread char cap_buf[2048];
static __thread size_t cap_len;

_printf_(2, 0) static int capture_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[512];
	int n;

	if (level == LIBBPF_DEBUG)
		return 0;
	n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n <= 0)
		return 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* keep the tail: the verifier's verdict comes last */
	if (cap_len + (size_t)n >= sizeof(cap_buf)) {
		size_t drop = cap_len + (size_t)n - sizeof(cap_buf) + 1;
		if (drop > cap_len)
			drop = cap_len;
		memmove(cap_buf, cap_buf + drop, cap_len - drop);
		cap_len -= drop;
	}
	memcpy(cap_buf + cap_len, line, (size_t)n);
	cap_len += (size_t)n;
	cap_buf[cap_len] = '\0';
	return 0;
}

static int errf_libbpf(char *errbuf, size_t errlen, int err, const char *what)
{
	size_t len = cap_len;
	const char *tail = cap_buf;

	while (len > 0 && (tail[len - 1] == '\n' || tail[len - 1] == ' '))
		len--;
	if (len > 1200) {
		tail += len - 1200;
		len = 1200;
	}
	if (len)
		return errf(errbuf, errlen, err, "%s: %s; libbpf: %.*s", what, strerror(-err),
			    (int)len, tail);
	return errf(errbuf, errlen, err, "%s: %s", what, strerror(-err));
}

/* ---- support probe ---- */

static int probe_tracing(struct btf *vmlinux)
{
	struct bpf_insn insns[] = {
		{.code = 0xb7, .dst_reg = 0, .imm = 0}, /* r0 = 0 */
		{.code = 0x95},				/* exit */
	};
	int id = btf__find_by_name_kind(vmlinux, "btf_trace_sys_exit", BTF_KIND_TYPEDEF);
	if (id < 0)
		return -ENOTSUP;
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
		    .attach_btf_id = (__u32)id);
	int fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "falco_probe", "GPL", insns,
			       ARRAY_SIZE(insns), &opts);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int evt_bpf_supported(char *errbuf, size_t errlen)
{
	struct btf *vmlinux;
	int r;

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return errf(
			errbuf, errlen, -ENOTSUP,
			"the kernel has no BTF (/sys/kernel/btf/vmlinux): the modern eBPF probe needs "
			"CONFIG_DEBUG_INFO_BTF=y");
	r = probe_tracing(vmlinux);
	btf__free(vmlinux);
	if (r == -EPERM || r == -EACCES)
		return errf(
			errbuf, errlen, -EPERM,
			"not allowed to load BPF programs: run as root with CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN "
			"before Linux 5.8)");
	if (r < 0)
		return errf(
			errbuf, errlen, -ENOTSUP,
			"the kernel cannot load tracing (tp_btf) BPF programs (%s): the modern eBPF probe needs "
			"Linux >= 5.8 with BPF trampolines",
			strerror(-r));
	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (r <= 0)
		return errf(
			errbuf, errlen, -ENOTSUP,
			"the kernel has no BPF ring buffers (BPF_MAP_TYPE_RINGBUF, Linux >= 5.8)");
	r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_ARRAY_OF_MAPS, NULL);
	if (r <= 0)
		return errf(errbuf, errlen, -ENOTSUP, "the kernel has no BPF map-in-map support");
	return 0;
}

/* ---- options ---- */

void evt_bpf_opts_init(struct evt_bpf_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->cpus_per_ring = 2;
	o->ring_bytes = DEFAULT_RING_BYTES;
	o->snaplen = EVT_DEFAULT_SNAPLEN;
	o->wakeup_bytes = 0; /* measured: see docs/BENCHMARKS.md "driver" */
	o->enter_events =
		false; /* the exit events carry the same arguments; entry copies are opt-in */
}

uint64_t evt_bpf_preset_bytes(uint64_t preset)
{
	static const uint64_t mib[] = {0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
	return preset < ARRAY_SIZE(mib) ? mib[preset] << 20 : 0;
}

static int check_opts(const struct evt_bpf_opts *o, size_t page, char *errbuf, size_t errlen)
{
	uint64_t s = o->ring_bytes;

	if (s < 2 * page || (s & (s - 1)) || s % page || s > (1ull << 30))
		return errf(
			errbuf, errlen, -EINVAL,
			"invalid ring buffer size %llu: it must be a power of 2, a multiple of the page size "
			"(%zu) and between 2 pages and 1 GiB",
			(unsigned long long)s, page);
	if (o->snaplen > EVT_MAX_PATH)
		return errf(errbuf, errlen, -EINVAL, "snaplen %u is larger than %u", o->snaplen,
			    EVT_MAX_PATH);
	if (o->wakeup_bytes != EVT_BPF_WAKEUP_EACH && o->wakeup_bytes >= s)
		return errf(errbuf, errlen, -EINVAL,
			    "wakeup threshold %u is not below the ring size", o->wakeup_bytes);
	return 0;
}

/* ---- lifecycle ---- */

/*
 * Entry programs are syscalls/sys_enter_* tracepoint programs: attached through perf events, which need the
 * tracepoint ids from tracefs. When tracefs is not mounted, it is mounted on a private temporary directory just to
 * read the ids, then unmounted.
 */
static int read_tp_id(const char *tracefs, const char *event)
{
	char path[256], buf[32];
	int fd, n;

	if (snprintf(path, sizeof(path), "%s/events/syscalls/%s/id", tracefs, event) >=
	    (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	char *end;
	long id = strtol(buf, &end, 10);
	return id > 0 && id < INT32_MAX && (*end == '\n' || *end == '\0') ? (int)id : -EINVAL;
}

static int attach_enter(struct evt_bpf *b, char *errbuf, size_t errlen)
{
	static const char *const candidates[] = {"/sys/kernel/tracing",
						 "/sys/kernel/debug/tracing"};
	char tmpdir[] = "/tmp/falco-tracefs.XXXXXX";
	const char *tracefs = NULL;
	bool mounted = false;
	struct bpf_program *p;
	struct stat st;
	int r = 0;

	for (size_t i = 0; i < ARRAY_SIZE(candidates) && !tracefs; i++) {
		char path[64];
		snprintf(path, sizeof(path), "%s/events/syscalls", candidates[i]);
		if (stat(path, &st) == 0)
			tracefs = candidates[i];
	}
	if (!tracefs) {
		if (!mkdtemp(tmpdir))
			return errf(errbuf, errlen, -errno,
				    "tracefs is not mounted and mkdtemp failed: %s",
				    strerror(errno));
		if (mount("tracefs", tmpdir, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) <
		    0) {
			r = errf(errbuf, errlen, -errno,
				 "tracefs is not mounted and mounting it failed: %s",
				 strerror(errno));
			(void)rmdir(tmpdir);
			return r;
		}
		mounted = true;
		tracefs = tmpdir;
	}
	bpf_object__for_each_program(p, b->skel->obj)
	{
		const char *name = bpf_program__name(p);
		char event[64];
		if (!startswith(name, "handle_enter_") || bpf_program__fd(p) < 0)
			continue;
		snprintf(event, sizeof(event), "sys_enter_%s", name + STRLEN("handle_enter_"));
		int id = read_tp_id(tracefs, event);
		if (id < 0) {
			r = errf(errbuf, errlen, id, "no tracepoint syscalls/%s: %s", event,
				 strerror(-id));
			break;
		}
		struct perf_event_attr attr = {
			.type = PERF_TYPE_TRACEPOINT,
			.size = sizeof(attr),
			.config = (__u64)id,
			.sample_period = 1,
			.wakeup_events = 1,
		};
		int pfd =
			(int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
		if (pfd < 0) {
			r = errf(errbuf, errlen, -errno, "perf_event_open(syscalls/%s): %s", event,
				 strerror(errno));
			break;
		}
		struct bpf_link *l = bpf_program__attach_perf_event(p, pfd);
		if (!l) {
			r = errf(errbuf, errlen, -errno, "failed to attach %s: %s", name,
				 strerror(errno));
			close(pfd);
			break;
		}
		if (b->nenter_links < ARRAY_SIZE(b->enter_links))
			b->enter_links[b->nenter_links++] = l;
		else
			bpf_link__destroy(l);
	}
	if (mounted) {
		(void)umount2(tmpdir, MNT_DETACH);
		(void)rmdir(tmpdir);
	}
	return r;
}

static uint64_t boot_epoch_ns(void)
{
	struct timespec rt, bt;
	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	return (uint64_t)(rt.tv_sec - bt.tv_sec) * 1000000000ull + (uint64_t)rt.tv_nsec -
	       (uint64_t)bt.tv_nsec;
}

static void ring_unmap(struct evt_bpf *b, struct ring *r)
{
	if (r->consumer && r->consumer != MAP_FAILED)
		munmap(r->consumer, b->page);
	if (r->producer && r->producer != MAP_FAILED)
		munmap(r->producer, b->page + 2 * b->ring_bytes);
	if (r->fd >= 0)
		close(r->fd);
	r->consumer = r->producer = NULL;
	r->fd = -1;
}

struct evt_bpf *evt_bpf_close(struct evt_bpf *b)
{
	if (!b)
		return NULL;
	/* detach first so nothing writes to rings being unmapped */
	for (size_t i = 0; i < b->nenter_links; i++)
		bpf_link__destroy(b->enter_links[i]);
	falco_bpf__destroy(b->skel);
	for (size_t i = 0; i < b->nrings; i++)
		ring_unmap(b, &b->rings[i]);
	free(b->rings);
	if (b->epfd >= 0)
		close(b->epfd);
	free(b);
	return NULL;
}

static int create_rings(struct evt_bpf *b, uint32_t cpus_per_ring, char *errbuf, size_t errlen)
{
	b->nrings = cpus_per_ring ? (b->ncpus + cpus_per_ring - 1) / cpus_per_ring : 1;
	b->rings = calloc(b->nrings, sizeof(*b->rings));
	if (!b->rings)
		return -ENOMEM;
	for (size_t i = 0; i < b->nrings; i++)
		b->rings[i].fd = -1;
	for (size_t i = 0; i < b->nrings; i++) {
		struct ring *r = &b->rings[i];
		r->fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "falco_ring", 0, 0,
				       (__u32)b->ring_bytes, NULL);
		if (r->fd < 0)
			return errf(errbuf, errlen, -errno,
				    "failed to create ring buffer %zu (%llu bytes): %s", i,
				    (unsigned long long)b->ring_bytes, strerror(errno));
		r->consumer = mmap(NULL, b->page, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
		if (r->consumer == MAP_FAILED)
			return errf(errbuf, errlen, -errno, "failed to map ring buffer %zu: %s", i,
				    strerror(errno));
		/* the data area is mapped twice back to back, so a record never wraps */
		r->producer = mmap(NULL, b->page + 2 * b->ring_bytes, PROT_READ, MAP_SHARED, r->fd,
				   (off_t)b->page);
		if (r->producer == MAP_FAILED)
			return errf(errbuf, errlen, -errno, "failed to map ring buffer %zu: %s", i,
				    strerror(errno));
		r->data = (uint8_t *)r->producer + b->page;
		r->mask = b->ring_bytes - 1;
		r->cons = r->published = r->prod = *r->consumer;
		struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
		if (epoll_ctl(b->epfd, EPOLL_CTL_ADD, r->fd, &ev) < 0)
			return errf(errbuf, errlen, -errno, "epoll_ctl: %s", strerror(errno));
	}
	return 0;
}

static int assign_rings(struct evt_bpf *b, uint32_t cpus_per_ring, char *errbuf, size_t errlen)
{
	int outer = bpf_map__fd(b->skel->maps.ringbufs);

	for (uint32_t cpu = 0; cpu < b->ncpus; cpu++) {
		size_t i = cpus_per_ring ? cpu / cpus_per_ring : 0;
		if (bpf_map_update_elem(outer, &cpu, &b->rings[i].fd, BPF_ANY) < 0)
			return errf(errbuf, errlen, -errno,
				    "failed to assign ring %zu to CPU %u: %s", i, cpu,
				    strerror(errno));
	}
	return 0;
}

static int fill_tail_calls(struct evt_bpf *b, char *errbuf, size_t errlen)
{
	int table = bpf_map__fd(b->skel->maps.exit_progs);
	struct bpf_program *p;

	bpf_object__for_each_program(p, b->skel->obj)
	{
		const char *name = bpf_program__name(p);
		char sc[64];
		if (!startswith(name, "sys_exit_") || bpf_program__fd(p) < 0)
			continue;
		/* the __probe twin of a handler serves the same syscall */
		snprintf(sc, sizeof(sc), "%s", name + STRLEN("sys_exit_"));
		char *twin = strstr(sc, "__probe");
		if (twin)
			*twin = '\0';
		int nr = evt_syscall_nr(sc);
		if (nr < 0)
			return errf(errbuf, errlen, -EINVAL, "probe program %s names no syscall",
				    name);
		int fd = bpf_program__fd(p);
		if (bpf_map_update_elem(table, &nr, &fd, BPF_ANY) < 0)
			return errf(errbuf, errlen, -errno, "failed to install %s: %s", name,
				    strerror(errno));
	}
	return 0;
}

/*
 * Self-exclusion (driver/helpers.bpf.h, is_self). In the host's pid namespace getpid() is the tgid the probe sees.
 * In another one it is not, and the host tgid cannot be read from here: the probe gets the namespace's inode and
 * our tgid there, and records the host tgid at the first event whose task matches them.
 */
static void set_self(struct evt_bpf *b, pid_t self_tgid)
{
	struct stat st;

	if (self_tgid < 0)
		return; /* exclude nothing */
	if (self_tgid > 0) {
		b->skel->rodata->cfg_self_tgid = (__u32)self_tgid;
		return;
	}
	/* without /proc, assume the host's namespace (the only way before this check) */
	if (stat("/proc/self/ns/pid", &st) < 0 || st.st_ino == PROC_PID_INIT_INO) {
		b->skel->rodata->cfg_self_tgid = (__u32)getpid();
		return;
	}
	b->skel->rodata->cfg_self_ns_ino = (__u32)st.st_ino;
	b->skel->rodata->cfg_self_ns_tgid = (__u32)getpid();
}

/* A thread that exits at once: its sched_process_exit event is ours, and teaches the probe our host tgid. */
static void *exit_at_once(void *arg)
{
	return arg;
}

int evt_bpf_open(const struct evt_bpf_opts *o, struct evt_bpf **ret, char *errbuf, size_t errlen)
{
	struct evt_bpf_opts defaults;
	libbpf_print_fn_t prev;
	struct evt_bpf *b;
	struct bpf_program *p;
	int r;

	if (!o) {
		evt_bpf_opts_init(&defaults);
		o = &defaults;
	}
	/* 1. can this kernel run us at all (clear message rather than a verifier dump) */
	r = evt_bpf_supported(errbuf, errlen);
	if (r < 0)
		return r;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->epfd = -1;
	b->page = (size_t)sysconf(_SC_PAGESIZE);
	b->ring_bytes = o->ring_bytes;
	r = check_opts(o, b->page, errbuf, errlen);
	if (r < 0)
		goto cleanup;
	r = libbpf_num_possible_cpus();
	if (r <= 0) {
		r = errf(errbuf, errlen, r < 0 ? r : -EINVAL, "cannot count the possible CPUs");
		goto cleanup;
	}
	b->ncpus = (size_t)r;
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0) {
		r = errf(errbuf, errlen, -errno, "epoll_create1: %s", strerror(errno));
		goto cleanup;
	}

	cap_len = 0;
	cap_buf[0] = '\0';
	prev = libbpf_set_print(capture_print);

	/* 2. open, check the contract version, set the tunables and map sizes */
	b->skel = falco_bpf__open();
	if (!b->skel) {
		r = errf_libbpf(errbuf, errlen, -errno, "failed to open the BPF probe");
		goto restore;
	}
	if (b->skel->rodata->falco_driver_abi != FALCO_DRIVER_ABI_VERSION) {
		r = errf(errbuf, errlen, -EPROTO,
			 "driver ABI version %u does not match falco's %u: rebuild falco",
			 b->skel->rodata->falco_driver_abi, FALCO_DRIVER_ABI_VERSION);
		goto restore;
	}
	set_self(b, o->self_tgid);
	b->skel->rodata->cfg_boot_ns = boot_epoch_ns();
	b->skel->rodata->cfg_flags = o->flags;
	b->skel->rodata->cfg_snaplen = o->snaplen ? o->snaplen : EVT_DEFAULT_SNAPLEN;
	b->skel->rodata->cfg_wakeup_bytes = o->wakeup_bytes;
	bpf_map__set_max_entries(b->skel->maps.ringbufs, (__u32)b->ncpus);
	bpf_map__set_max_entries(b->skel->maps.scratch, (__u32)b->ncpus);
	/* the rings exist before load: the first one is the template of the outer map's entries */
	r = create_rings(b, o->cpus_per_ring, errbuf, errlen);
	if (r < 0)
		goto restore;
	r = bpf_map__set_inner_map_fd(b->skel->maps.ringbufs, b->rings[0].fd);
	if (r < 0) {
		r = errf_libbpf(errbuf, errlen, r, "failed to set the ring buffer template");
		goto restore;
	}

	/*
	 * sys_exit handlers are tail-called, never attached. Those that follow pointers from the fd table have a
	 * fast variant (bpf_rdonly_cast, Linux >= 6.2) and a __probe twin: load the one this kernel supports.
	 * Entry programs are attached by hand, on request.
	 */
	struct btf *vmlinux = btf__load_vmlinux_btf();
	bool has_cast = !o->probe_reads && vmlinux &&
			btf__find_by_name_kind(vmlinux, "bpf_rdonly_cast", BTF_KIND_FUNC) >= 0;
	btf__free(vmlinux);
	bpf_object__for_each_program(p, b->skel->obj)
	{
		const char *name = bpf_program__name(p);
		if (startswith(name, "sys_exit_")) {
			char twin[96];
			bpf_program__set_autoattach(p, false);
			snprintf(twin, sizeof(twin), "%s__probe", name);
			if (strstr(name, "__probe"))
				bpf_program__set_autoload(p, !has_cast);
			else if (bpf_object__find_program_by_name(b->skel->obj, twin))
				bpf_program__set_autoload(p, has_cast);
		}
		if (startswith(name, "handle_enter_")) {
			bpf_program__set_autoattach(p, false);
			if (!o->enter_events)
				bpf_program__set_autoload(p, false);
		}
	}

	/* 3. load (verification happens here) */
	r = falco_bpf__load(b->skel);
	if (r < 0) {
		r = errf_libbpf(errbuf, errlen, r, "failed to load the BPF probe");
		goto restore;
	}
	/* 4. tail calls and rings before attaching, so the first event finds them */
	r = fill_tail_calls(b, errbuf, errlen);
	if (r < 0)
		goto restore;
	r = assign_rings(b, o->cpus_per_ring, errbuf, errlen);
	if (r < 0)
		goto restore;
	/* 5. attach */
	r = falco_bpf__attach(b->skel);
	if (r < 0) {
		r = errf_libbpf(errbuf, errlen, r, "failed to attach the BPF probe");
		goto restore;
	}
	if (o->enter_events) {
		r = attach_enter(b, errbuf, errlen);
		if (r < 0)
			goto restore;
		b->enter_events = true;
	}
	/* 6. in another pid namespace: have the probe learn our host tgid now, not at our first event */
	if (b->skel->rodata->cfg_self_ns_ino) {
		pthread_t th;
		if (pthread_create(&th, NULL, exit_at_once, NULL) == 0)
			pthread_join(th, NULL);
	}
	r = 0;
restore:
	libbpf_set_print(prev);
cleanup:
	if (r < 0) {
		evt_bpf_close(b);
		return r;
	}
	*ret = b;
	return 0;
}

int evt_bpf_check(char *errbuf, size_t errlen)
{
	struct evt_bpf_opts o;
	struct evt_bpf *b = NULL;
	int r;

	evt_bpf_opts_init(&o);
	o.ring_bytes = 64u * 1024u; /* a check needs no real buffer */
	o.wakeup_bytes = 0;
	r = evt_bpf_open(&o, &b, errbuf, errlen);
	evt_bpf_close(b);
	return r;
}

/* ---- configuration at run time ---- */

int evt_bpf_set_interesting(struct evt_bpf *b, const uint64_t *evttypes, size_t nwords)
{
	uint8_t sc[EVT_SYSCALL_MAX];
	int fd = bpf_map__fd(b->skel->maps.interesting);
	size_t n = evt_type_interesting(evttypes, nwords, b->enter_events, sc);

	for (uint32_t id = 0; id < EVT_SYSCALL_MAX; id++)
		if (bpf_map_update_elem(fd, &id, &sc[id], BPF_ANY) < 0)
			return -errno;
	return (int)n;
}

pid_t evt_bpf_self_tgid(const struct evt_bpf *b)
{
	if (b->skel->rodata->cfg_self_tgid)
		return (pid_t)b->skel->rodata->cfg_self_tgid;
	if (!b->skel->rodata->cfg_self_ns_ino)
		return 0;
	return (pid_t)__atomic_load_n(&b->skel->bss->self_host_tgid, __ATOMIC_RELAXED);
}

int evt_bpf_fd(const struct evt_bpf *b)
{
	return b->epfd;
}

size_t evt_bpf_nrings(const struct evt_bpf *b)
{
	return b->nrings;
}

/* ---- consumption ---- */

/*
 * Ring positions: `cons` is our read position, published to the kernel (*r->consumer) only every
 * CONSUMER_PUBLISH records and at the end of a drain. The producer reads that position on every reservation: a
 * store per record would bounce its cache line between the CPUs on each event.
 */
#define CONSUMER_PUBLISH 64

static void ring_publish(struct ring *r)
{
	if (r->cons != r->published) {
		__atomic_store_n(r->consumer, r->cons, __ATOMIC_RELEASE);
		r->published = r->cons;
	}
}

/* Finds the next committed record of r (skipping discarded ones): 1 when r->head is set, 0 when none yet. */
static int ring_peek(struct ring *r)
{
	for (;;) {
		if (r->cons >= r->prod) {
			r->prod = __atomic_load_n(r->producer, __ATOMIC_ACQUIRE);
			if (r->cons >= r->prod)
				return 0;
		}
		const uint8_t *hdr = r->data + (r->cons & r->mask);
		uint32_t len = __atomic_load_n((const uint32_t *)hdr, __ATOMIC_ACQUIRE);
		if (len & RINGBUF_BUSY_BIT)
			return 0; /* being written: later records wait too, order is kept */
		uint32_t size = len & ~(RINGBUF_BUSY_BIT | RINGBUF_DISCARD_BIT);
		if (len & RINGBUF_DISCARD_BIT) {
			r->cons += (size + RINGBUF_HDR_SZ + 7) & ~7ul;
			continue;
		}
		r->head = hdr + RINGBUF_HDR_SZ;
		r->head_len = size;
		r->head_ts = 0;
		if (size >= sizeof(uint64_t))
			memcpy(&r->head_ts, r->head, sizeof(uint64_t));
		return 1;
	}
}

static void ring_pop(struct ring *r)
{
	r->cons += (r->head_len + RINGBUF_HDR_SZ + 7) & ~7ul;
	r->head = NULL;
	if (++r->unpublished >= CONSUMER_PUBLISH) {
		r->unpublished = 0;
		ring_publish(r);
	}
}

int evt_bpf_drain(struct evt_bpf *b, size_t max, evt_bpf_record_fn fn, void *ud)
{
	size_t n = 0;
	int r = 0;

	if (b->nrings == 1) {
		struct ring *rg = &b->rings[0];
		while (n < max && ring_peek(rg)) {
			r = fn(ud, rg->head, rg->head_len);
			ring_pop(rg);
			n++;
			if (r < 0)
				break;
		}
		ring_publish(rg);
		return r < 0 ? r : (int)n;
	}
	/* k-way merge on the header timestamp: peek every ring, deliver the oldest head, re-peek that ring */
	for (size_t i = 0; i < b->nrings; i++)
		if (!b->rings[i].head)
			ring_peek(&b->rings[i]);
	while (n < max) {
		struct ring *best = NULL;
		for (size_t i = 0; i < b->nrings; i++) {
			struct ring *rg = &b->rings[i];
			if (rg->head && (!best || rg->head_ts < best->head_ts))
				best = rg;
		}
		if (!best)
			break;
		r = fn(ud, best->head, best->head_len);
		ring_pop(best);
		ring_peek(best);
		n++;
		if (r < 0)
			break;
	}
	/* peeked heads stay unconsumed (their space is not published) for the next call */
	for (size_t i = 0; i < b->nrings; i++)
		ring_publish(&b->rings[i]);
	return r < 0 ? r : (int)n;
}

uint64_t evt_bpf_pending(const struct evt_bpf *b)
{
	uint64_t sum = 0;
	for (size_t i = 0; i < b->nrings; i++) {
		unsigned long prod = __atomic_load_n(b->rings[i].producer, __ATOMIC_ACQUIRE);
		sum += prod - b->rings[i].cons;
	}
	return sum;
}

/* ---- statistics ---- */

int evt_bpf_counters(const struct evt_bpf *b, struct evt_counters *total,
		     struct evt_counters *percpu, size_t max, size_t *ret_ncpu)
{
	struct evt_counters *all = calloc(b->ncpus, sizeof(*all));
	uint32_t zero = 0;

	if (!all)
		return -ENOMEM;
	if (bpf_map_lookup_elem(bpf_map__fd(b->skel->maps.counters), &zero, all) < 0) {
		int r = -errno;
		free(all);
		return r;
	}
	memset(total, 0, sizeof(*total));
	for (size_t c = 0; c < b->ncpus; c++) {
		const uint64_t *src = (const uint64_t *)&all[c];
		uint64_t *dst = (uint64_t *)total;
		for (size_t k = 0; k < sizeof(*total) / sizeof(uint64_t); k++)
			dst[k] += src[k];
		if (percpu && c < max)
			percpu[c] = all[c];
	}
	if (ret_ncpu)
		*ret_ncpu = b->ncpus;
	free(all);
	return 0;
}

int evt_bpf_prog_stats(const struct evt_bpf *b, uint64_t *ret_runs, uint64_t *ret_ns)
{
	struct bpf_program *p;
	uint64_t runs = 0, ns = 0;

	bpf_object__for_each_program(p, b->skel->obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(p);
		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &info, &len) < 0)
			return -errno;
		runs += info.run_cnt;
		ns += info.run_time_ns;
	}
	*ret_runs = runs;
	*ret_ns = ns;
	return 0;
}

/* ---- adaptive polling ---- */

void evt_bpf_backoff_init(struct evt_bpf_backoff *bo, uint32_t min_us, uint32_t max_us)
{
	bo->min_us = min_us ? min_us : 500;
	bo->max_us = max_us >= bo->min_us ? max_us : 30000;
	bo->cur_us = bo->min_us;
}

uint32_t evt_bpf_backoff_next(struct evt_bpf_backoff *bo, size_t consumed, bool hit_max)
{
	if (hit_max)
		return 0; /* more is waiting: come back right away */
	if (consumed)
		bo->cur_us = bo->min_us;
	else if (bo->cur_us < bo->max_us)
		bo->cur_us = MIN(bo->cur_us * 2, bo->max_us);
	return bo->cur_us;
}
