/* SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only */
/*
 * Event building and kernel-structure readers shared by the driver's programs.
 *
 * An event is built with a struct evb: fixed-size events are reserved directly in the ring (evb_fixed +
 * evb_submit_fixed); variable-size ones are assembled in the per-CPU scratch buffer and copied out (evb_var +
 * evb_submit_var). Writers append one parameter each and record its length. Every offset into scratch is masked so
 * the verifier can bound it; no event can exceed EVT_MAX_SIZE because every parameter is bounded and the bounds of
 * one event add up to less than that (checked again at submit). Failed reads bump n_read_fail and leave the
 * parameter empty.
 */
#ifndef FALCO_HELPERS_BPF_H
#define FALCO_HELPERS_BPF_H

#include "maps.bpf.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

/* x86_64 syscall arguments */
#define SC_ARG0(r) ((r)->di)
#define SC_ARG1(r) ((r)->si)
#define SC_ARG2(r) ((r)->dx)
#define SC_ARG3(r) ((r)->r10)
#define SC_ARG4(r) ((r)->r8)
#define SC_ARG5(r) ((r)->r9)
#define SC_FD(x)   ((__s64)(__s32)(x)) /* int arguments: the upper register half is not defined */

/* Kernel constants that BTF does not carry (macros) */
#define K_S_IFMT		 0170000
#define K_S_IFSOCK		 0140000
#define K_S_IFREG		 0100000
#define K_PF_KTHREAD		 0x00200000
#define K_TS_COMPAT		 0x0002
#define K_FMODE_CREATED		 0x100000
#define K_AF_UNIX		 1
#define K_AF_INET		 2
#define K_AF_INET6		 10
#define K_OVL_MAGIC		 0x794c7630
#define K_MINORBITS		 20

#define EVB_SIZE(nparams, bytes) (EVT_PARAMS_OFF(nparams) + (bytes))

#define SYS_EXIT(name) \
	SEC("tp_btf/sys_exit") int BPF_PROG(sys_exit_##name, struct pt_regs *regs, long ret)

/* A handler in two variants, see fd_file(): the body gets `fast` as a compile-time constant. */
#define SYS_EXIT_FD(name)                                                                        \
	static __always_inline int name##_body(struct pt_regs *regs, long ret, const bool fast); \
	SYS_EXIT(name)                                                                           \
	{                                                                                        \
		return name##_body(regs, ret, true);                                             \
	}                                                                                        \
	SYS_EXIT(name##__probe)                                                                  \
	{                                                                                        \
		return name##_body(regs, ret, false);                                            \
	}                                                                                        \
	static __always_inline int name##_body(struct pt_regs *regs, long ret, const bool fast)

struct evb {
	__u8 *data;		  /* ring slot (fixed) or scratch (variable) */
	void *rb;		  /* the ring */
	struct evt_counters *cnt; /* this CPU's counters */
	__u64 ts;
	__u64 pid_tgid;
	__u32 off; /* next parameter offset */
	__u16 type;
	__u8 np; /* parameters written */
	__u8 nparams;
	__u8 cat;
};

static __always_inline struct evt_counters *get_counters(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&counters, &zero);
}

/*
 * Kernel pointers that are plain numbers to the verifier (read from the fd table, or kept in cpu_ctx) become typed
 * again with bpf_rdonly_cast (Linux >= 6.2) and their fields are read with direct loads, ~15x cheaper than one probe
 * read each. Handlers that follow such pointers exist in two variants (SYS_EXIT_FD): `fast` uses the cast, the
 * `__probe` twin uses BPF_CORE_READ and helper calls; user space loads the one the kernel supports.
 */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

#define AS_FILE(p)   ((struct file *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(struct file)))
#define AS_SOCKET(p) ((struct socket *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(struct socket)))
#define AS_TASK(p) \
	((struct task_struct *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(struct task_struct)))
#define AS_LIST(p) \
	((struct list_head *)bpf_rdonly_cast((p), bpf_core_type_id_kernel(struct list_head)))

static __always_inline struct cpu_ctx *get_cpu_ctx(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&cpu_ctx, &zero);
}

/* First thing in every program: remembers who is running for the event header and the fd readers. */
static __always_inline void cpu_ctx_set(__u64 pid_tgid, struct task_struct *t)
{
	struct cpu_ctx *c = get_cpu_ctx();

	if (c) {
		c->pid_tgid = pid_tgid;
		c->task = (__u64)t;
	}
}

static __always_inline bool sc_interesting(__u32 id, __u8 how)
{
	__u8 *v = bpf_map_lookup_elem(&interesting, &id);
	return v && (*v & how);
}

static __always_inline __u64 now_ns(void)
{
	return cfg_boot_ns + bpf_ktime_get_boot_ns();
}

/* Counts the event and finds this CPU's ring. */
static __always_inline int evb_start(struct evb *b, __u16 type, __u8 nparams, __u8 cat)
{
	__u32 cpu = bpf_get_smp_processor_id();

	struct cpu_ctx *c = get_cpu_ctx();

	b->cnt = get_counters();
	if (!b->cnt || !c)
		return -1;
	b->pid_tgid = c->pid_tgid;
	b->cnt->n_evts++;
	b->cnt->n_evts_cat[cat & (_EVT_CAT_MAX - 1)]++;
	b->rb = bpf_map_lookup_elem(&ringbufs, &cpu);
	if (!b->rb) {
		b->cnt->n_drops_no_ring++;
		return -1;
	}
	b->type = type;
	b->nparams = nparams;
	b->cat = cat & (_EVT_CAT_MAX - 1);
	b->np = 0;
	b->off = EVT_PARAMS_OFF(nparams);
	return 0;
}

static __always_inline void evb_drop_full(struct evb *b)
{
	b->cnt->n_drops_buffer++;
	b->cnt->n_drops_buffer_cat[b->cat & (_EVT_CAT_MAX - 1)]++;
}

static __always_inline void evb_zero_lens(struct evb *b)
{
	/* the padding after the lengths must not carry stale bytes */
	*(__u64 *)(b->data + EVT_PARAMS_OFF(b->nparams) - 8) = 0;
}

/* A variable-size event, built in this CPU's scratch buffer and copied into the ring at submit. */
static __always_inline int evb_var(struct evb *b, __u16 type, __u8 nparams, __u8 cat)
{
	__u32 cpu = bpf_get_smp_processor_id();
	struct scratch *s;

	if (evb_start(b, type, nparams, cat))
		return -1;
	s = bpf_map_lookup_elem(&scratch, &cpu);
	if (!s)
		return -1;
	b->data = s->data;
	evb_zero_lens(b);
	return 0;
}

static __always_inline __u64 wake_flags(void *rb, __u32 len, struct evt_counters *cnt)
{
	if (cfg_wakeup_bytes == 0)
		return BPF_RB_NO_WAKEUP;
	if (cfg_wakeup_bytes == 0xffffffffu)
		return 0;
	/* wake the reader once, when the pending data crosses the threshold */
	__u64 avail = bpf_ringbuf_query(rb, BPF_RB_AVAIL_DATA);
	if (avail >= cfg_wakeup_bytes && avail < (__u64)cfg_wakeup_bytes + len + 8) {
		cnt->n_wakeups++;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void evb_header(struct evb *b)
{
	struct evt_hdr *h = (struct evt_hdr *)b->data;
	__u64 pt = b->pid_tgid;

	h->ts = b->ts;
	h->tid = (__u32)pt;
	h->pid = (__u32)(pt >> 32);
	h->len = b->off;
	h->type = b->type;
	h->nparams = b->nparams;
	h->reserved = 0;
}

static __always_inline void evb_submit_var(struct evb *b)
{
	__u32 len = b->off;

	if (len > EVT_MAX_SIZE) {
		b->cnt->n_drops_max_size++;
		return;
	}
	b->ts = now_ns();
	evb_header(b);
	if (bpf_ringbuf_output(b->rb, b->data, len, wake_flags(b->rb, len, b->cnt)))
		evb_drop_full(b);
}

/* A fixed-size event of size bytes, reserved in the ring (measured: no cheaper built in scratch and copied out). */
static __always_inline int evb_fixed(struct evb *b, __u16 type, __u8 nparams, __u32 size, __u8 cat)
{
	if (evb_start(b, type, nparams, cat))
		return -1;
	b->ts = now_ns();
	b->data = bpf_ringbuf_reserve(b->rb, size, 0);
	if (!b->data) {
		evb_drop_full(b);
		return -1;
	}
	evb_zero_lens(b);
	return 0;
}

static __always_inline void evb_submit_fixed(struct evb *b)
{
	evb_header(b);
	bpf_ringbuf_submit(b->data, wake_flags(b->rb, b->off, b->cnt));
}

/* ---- parameter writers ---- */

#define EVB_AT(b) ((b)->data + ((b)->off & SCRATCH_EVT_MASK))

static __always_inline void evb_len(struct evb *b, __u32 len)
{
	*(__u16 *)(b->data + EVT_LENS_OFF + ((2 * b->np) & 127)) = (__u16)len;
	b->np++;
	b->off += len;
}

static __always_inline void evb_u8(struct evb *b, __u8 v)
{
	*(__u8 *)EVB_AT(b) = v;
	evb_len(b, 1);
}

static __always_inline void evb_u16(struct evb *b, __u16 v)
{
	*(__u16 *)EVB_AT(b) = v;
	evb_len(b, 2);
}

static __always_inline void evb_u32(struct evb *b, __u32 v)
{
	*(__u32 *)EVB_AT(b) = v;
	evb_len(b, 4);
}

static __always_inline void evb_u64(struct evb *b, __u64 v)
{
	*(__u64 *)EVB_AT(b) = v;
	evb_len(b, 8);
}

static __always_inline void evb_s64(struct evb *b, __s64 v)
{
	evb_u64(b, (__u64)v);
}

static __always_inline void evb_empty(struct evb *b)
{
	evb_len(b, 0);
}

static __always_inline void evb_read_fail(struct evb *b)
{
	b->cnt->n_read_fail++;
	evb_empty(b);
}

/* A NUL-terminated user string, at most EVT_MAX_PATH bytes with the NUL. NULL gives an empty parameter. */
static __always_inline void evb_user_str(struct evb *b, const void *uptr)
{
	long n;

	if (!uptr) {
		evb_empty(b);
		return;
	}
	n = bpf_probe_read_user_str(EVB_AT(b), EVT_MAX_PATH, uptr);
	if (n <= 0) {
		evb_read_fail(b);
		return;
	}
	evb_len(b, (__u32)n & (EVT_MAX_PATH * 2 - 1));
}

static __always_inline void evb_kernel_str(struct evb *b, const void *kptr)
{
	long n;

	if (!kptr) {
		evb_empty(b);
		return;
	}
	n = bpf_probe_read_kernel_str(EVB_AT(b), EVT_MAX_PATH, kptr);
	if (n <= 0) {
		evb_read_fail(b);
		return;
	}
	evb_len(b, (__u32)n & (EVT_MAX_PATH * 2 - 1));
}

/* len bytes of user memory (len is cut to max, a constant power of two <= EVT_MAX_PATH). */
static __always_inline void evb_user_bytes(struct evb *b, const void *uptr, __u64 len, __u32 max)
{
	if (!uptr || len == 0) {
		evb_empty(b);
		return;
	}
	if (len > max)
		len = max;
	len &= (2 * max - 1);
	if (bpf_probe_read_user(EVB_AT(b), len, uptr)) {
		evb_read_fail(b);
		return;
	}
	evb_len(b, (__u32)len);
}

/* The 16-byte comm, NUL padded (a CHARBUF: the decoder stops at the first NUL). */
static __always_inline void evb_comm(struct evb *b, const char *comm)
{
	if (bpf_probe_read_kernel(EVB_AT(b), EVT_COMM_LEN, comm)) {
		evb_read_fail(b);
		return;
	}
	*(b->data + ((b->off + EVT_COMM_LEN - 1) & SCRATCH_EVT_MASK)) = 0;
	evb_len(b, EVT_COMM_LEN);
}

/* ---- sockets ---- */

/* A user struct sockaddr (connect, bind, sendto): family byte + address, see falco_events.h. */
static __always_inline void evb_user_sockaddr(struct evb *b, const void *uaddr, __u64 ulen)
{
	__u16 family = 0;

	if (!uaddr || ulen < 2 || bpf_probe_read_user(&family, 2, uaddr)) {
		if (uaddr)
			b->cnt->n_read_fail++;
		evb_empty(b);
		return;
	}
	__u8 *p = EVB_AT(b);
	switch (family) {
	case K_AF_INET: {
		struct sockaddr_in sin = {};
		if (ulen < sizeof(sin) || bpf_probe_read_user(&sin, sizeof(sin), uaddr)) {
			evb_read_fail(b);
			return;
		}
		p[0] = EVT_AF_INET;
		*(__u32 *)(p + 1) = sin.sin_addr.s_addr;
		*(__u16 *)(p + 5) = bpf_ntohs(sin.sin_port);
		evb_len(b, 7);
		return;
	}
	case K_AF_INET6: {
		struct sockaddr_in6 sin6 = {};
		if (ulen < sizeof(sin6) || bpf_probe_read_user(&sin6, sizeof(sin6), uaddr)) {
			evb_read_fail(b);
			return;
		}
		p[0] = EVT_AF_INET6;
		__builtin_memcpy(p + 1, &sin6.sin6_addr, 16);
		*(__u16 *)(p + 17) = bpf_ntohs(sin6.sin6_port);
		evb_len(b, 19);
		return;
	}
	case K_AF_UNIX: {
		const char *path = (const char *)uaddr + 2;
		__u64 plen = ulen - 2;
		long n;
		if (plen > 108)
			plen = 108;
		p[0] = EVT_AF_UNIX;
		/* abstract names start with a NUL: read them as bytes and show the NUL as '@' */
		if (bpf_probe_read_user(p + 1, 1, path)) {
			evb_read_fail(b);
			return;
		}
		if (p[1] == 0 && plen > 1) {
			plen &= 127;
			if (bpf_probe_read_user(p + 1, plen, path)) {
				evb_read_fail(b);
				return;
			}
			p[1] = '@';
			p[1 + plen] = 0;
			evb_len(b, 2 + (__u32)plen);
			return;
		}
		n = bpf_probe_read_user_str(p + 1, 108, path);
		if (n <= 0) {
			p[1] = 0;
			n = 1;
		}
		evb_len(b, 1 + ((__u32)n & 255));
		return;
	}
	default:
		p[0] = (__u8)family;
		evb_len(b, 1);
		return;
	}
}

/*
 * The struct file of descriptor fd of the current task (a raw pointer), or NULL. The fast variant takes the task
 * from cpu_ctx and reads the table slot with a direct load: the slot (a struct file *) is cast to a struct
 * list_head, whose first member is a pointer too.
 */
static __always_inline struct file *fd_file(__s64 fd, const bool fast)
{
	struct file *f = NULL;
	struct fdtable *fdt;
	struct file **fds;

	if (fd < 0)
		return NULL;
	if (fast) {
		struct cpu_ctx *c = get_cpu_ctx();
		if (!c)
			return NULL;
		fdt = AS_TASK((void *)c->task)->files->fdt;
		if (!fdt || fd >= fdt->max_fds)
			return NULL;
		fds = fdt->fd;
		if (!fds)
			return NULL;
		return (struct file *)AS_LIST(&fds[fd & 0xfffffff])->next;
	}
	fdt = bpf_get_current_task_btf()->files->fdt;
	if (!fdt || fd >= fdt->max_fds)
		return NULL;
	fds = fdt->fd;
	if (!fds || bpf_probe_read_kernel(&f, sizeof(f), &fds[fd & 0xfffffff]))
		return NULL;
	return f;
}

static __always_inline struct sock *file_sock(struct file *f, const bool fast)
{
	struct socket *s;
	umode_t mode;

	if (!f)
		return NULL;
	if (fast) {
		struct file *ff = AS_FILE(f);
		if ((ff->f_inode->i_mode & K_S_IFMT) != K_S_IFSOCK)
			return NULL;
		s = AS_SOCKET(ff->private_data);
		return s->sk;
	}
	mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & K_S_IFMT) != K_S_IFSOCK)
		return NULL;
	s = BPF_CORE_READ(f, private_data);
	return s ? BPF_CORE_READ(s, sk) : NULL;
}

static __always_inline struct sock *fd_sock(__s64 fd, const bool fast)
{
	return file_sock(fd_file(fd, fast), fast);
}

/* The bound path of a unix socket into out (109 bytes): returns its length with the NUL (1 when unbound). */
static __always_inline __u32 unix_path_of(struct sock *sk, __u8 *out)
{
	struct unix_address *addr = sk ? BPF_CORE_READ((struct unix_sock *)sk, addr) : NULL;
	const char *path;
	long n;

	out[0] = 0;
	if (!addr)
		return 1;
	path = (const char *)&addr->name[0].sun_path;
	if (bpf_probe_read_kernel(out, 1, path))
		return 1;
	if (out[0] == 0) {
		/* abstract: len counts the family and every byte of the name, the leading NUL included */
		__u32 plen = (__u32)BPF_CORE_READ(addr, len) - 2;
		if (plen <= 1 || plen > 1000)
			return 1;
		plen &= 127;
		if (plen > 108)
			plen = 108;
		if (bpf_probe_read_kernel(out, plen, path))
			return 1;
		out[0] = '@';
		out[plen] = 0;
		return plen + 1;
	}
	n = bpf_probe_read_kernel_str(out, 108, path);
	if (n <= 0) {
		out[0] = 0;
		return 1;
	}
	return (__u32)n & 127;
}

/*
 * The connection tuple of a socket, "client side first": local -> remote for outbound (connect, send), remote ->
 * local for inbound (accept).
 */
static __always_inline void evb_sock_tuple(struct evb *b, struct sock *sk, bool inbound,
					   const bool fast)
{
	__u8 *p = EVB_AT(b);
	__u16 family;

	if (!sk) {
		evb_empty(b);
		return;
	}
	if (fast)
		sk = (struct sock *)bpf_rdonly_cast(sk, bpf_core_type_id_kernel(struct sock));
	family = fast ? sk->__sk_common.skc_family : BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == K_AF_INET) {
		__u32 laddr, raddr;
		__u16 lport, rport;
		if (fast) {
			laddr = sk->__sk_common.skc_rcv_saddr;
			raddr = sk->__sk_common.skc_daddr;
			lport = sk->__sk_common.skc_num;
			rport = bpf_ntohs(sk->__sk_common.skc_dport);
		} else {
			laddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
			raddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
			lport = BPF_CORE_READ(sk, __sk_common.skc_num);
			rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
		}
		p[0] = EVT_AF_INET;
		*(__u32 *)(p + 1) = inbound ? raddr : laddr;
		*(__u16 *)(p + 5) = inbound ? rport : lport;
		*(__u32 *)(p + 7) = inbound ? laddr : raddr;
		*(__u16 *)(p + 11) = inbound ? lport : rport;
		evb_len(b, 13);
	} else if (family == K_AF_INET6) {
		__u16 lport =
			fast ? sk->__sk_common.skc_num : BPF_CORE_READ(sk, __sk_common.skc_num);
		__u16 rport = bpf_ntohs(fast ? sk->__sk_common.skc_dport
					     : BPF_CORE_READ(sk, __sk_common.skc_dport));
		p[0] = EVT_AF_INET6;
		BPF_CORE_READ_INTO(p + (inbound ? 19 : 1), sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO(p + (inbound ? 1 : 19), sk, __sk_common.skc_v6_daddr);
		*(__u16 *)(p + 17) = inbound ? rport : lport;
		*(__u16 *)(p + 35) = inbound ? lport : rport;
		evb_len(b, 37);
	} else if (family == K_AF_UNIX) {
		struct sock *peer = BPF_CORE_READ((struct unix_sock *)sk, peer);
		__u32 n;
		p[0] = EVT_AF_UNIX;
		*(__u64 *)(p + 1) = (__u64)sk;
		*(__u64 *)(p + 9) = (__u64)peer;
		/* the path names the server: the peer's address when connected, else ours */
		n = unix_path_of(peer ? peer : sk, p + 17);
		if (n <= 1 && peer)
			n = unix_path_of(sk, p + 17);
		evb_len(b, 17 + n);
	} else {
		p[0] = (__u8)family;
		evb_len(b, 1);
	}
}

/* ---- tasks ---- */

static __always_inline __u64 encode_dev(__u32 kdev)
{
	__u32 major = kdev >> K_MINORBITS, minor = kdev & ((1u << K_MINORBITS) - 1);
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffu) << 12);
}

static __always_inline __u32 task_tgid(struct task_struct *t)
{
	return BPF_CORE_READ(t, tgid);
}

/* The pid number of p as seen from its own (innermost) pid namespace. */
static __always_inline __s64 pid_vnr(struct pid *p)
{
	unsigned int level;
	int nr = 0;

	if (!p)
		return 0;
	level = BPF_CORE_READ(p, level);
	if (bpf_probe_read_kernel(&nr, sizeof(nr), &p->numbers[level & 31].nr))
		return 0;
	return nr;
}

static __always_inline __s64 pid_nr0(struct pid *p)
{
	return p ? BPF_CORE_READ(p, numbers[0].nr) : 0;
}

static __always_inline struct pid *task_pidtype(struct task_struct *t, int type)
{
	struct pid *p = NULL;
	struct signal_struct *sig = BPF_CORE_READ(t, signal);

	if (sig)
		bpf_probe_read_kernel(&p, sizeof(p), &sig->pids[type & 3]);
	return p;
}

/*
 * Self-exclusion: falco's own threads produce no event. In the host's pid namespace its tgid is known at load
 * (cfg_self_tgid, a constant to the verifier: one compare). In another pid namespace (a container without
 * hostPID, an nspawn machine) getpid() is not the host tgid; user space gives the namespace's inode and its tgid
 * there instead, and the first event whose task matches the pair records the host tgid in self_host_tgid. From
 * then on the check is one load and one compare. Until then (user space makes one of its threads exit right
 * after attaching, so in practice not at all) each event pays the reads below.
 */
static __always_inline bool self_learn(struct task_struct *t, __u32 tgid)
{
	struct pid *p = task_pidtype(t, bpf_core_enum_value(enum pid_type, PIDTYPE_TGID));
	struct pid_namespace *ns = NULL;
	unsigned int level;
	int nr = 0;

	if (!p)
		return false;
	/* task_active_pid_ns() and the tgid there: the pid's innermost level, not nsproxy->pid_ns_for_children */
	level = BPF_CORE_READ(p, level) & 31;
	if (bpf_probe_read_kernel(&nr, sizeof(nr), &p->numbers[level].nr) ||
	    (__u32)nr != cfg_self_ns_tgid)
		return false;
	if (bpf_probe_read_kernel(&ns, sizeof(ns), &p->numbers[level].ns) || !ns ||
	    BPF_CORE_READ(ns, ns.inum) != cfg_self_ns_ino)
		return false;
	self_host_tgid = tgid;
	return true;
}

/* The dispatcher's variant: the task is at hand (direct loads). */
static __always_inline bool is_self_task(struct task_struct *t)
{
	if (cfg_self_tgid)
		return t->tgid == cfg_self_tgid;
	if (!cfg_self_ns_ino)
		return false;
	if (self_host_tgid)
		return t->tgid == self_host_tgid;
	return self_learn(t, t->tgid);
}

static __always_inline bool is_self(void)
{
	if (cfg_self_tgid)
		return (__u32)(bpf_get_current_pid_tgid() >> 32) == cfg_self_tgid;
	if (!cfg_self_ns_ino)
		return false;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	if (self_host_tgid)
		return tgid == self_host_tgid;
	return self_learn((struct task_struct *)bpf_get_current_task(), tgid);
}

static __always_inline __u64 read_cap(const kernel_cap_t *cap)
{
	/* u32 cap[2] before 6.3, u64 val since: the same 8 little-endian bytes */
	__u64 v = 0;
	bpf_probe_read_kernel(&v, sizeof(v), cap);
	return v;
}

/* ---- paths ---- */

/*
 * Copies a string built backwards in the scratch's temporary area (it starts at pos and ends with the NUL at
 * SCRATCH_TMP_MASK) into the event. pos comes from a global (separately verified) walker: checked here.
 */
static __always_inline void evb_tmp_str(struct evb *b, long pos)
{
	__u8 *tmp = b->data + SCRATCH_TMP_BASE;

	if (pos < 0 || pos >= SCRATCH_TMP_MASK) {
		evb_read_fail(b);
		return;
	}
	__u32 len = (SCRATCH_TMP_MASK + 1 - (__u32)pos) & (2 * EVT_MAX_PATH - 1);
	if (len == 0 || bpf_probe_read_kernel(EVB_AT(b), len, &tmp[pos & SCRATCH_TMP_MASK])) {
		evb_read_fail(b);
		return;
	}
	evb_len(b, len);
}

#endif /* FALCO_HELPERS_BPF_H */
