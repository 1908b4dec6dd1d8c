// SPDX-License-Identifier: Apache-2.0 OR GPL-2.0-only
/*
 * sys_exit handlers for socket syscalls (tail-called by handle_sys_exit). Payload bytes (send/recv data) are read
 * only with EVT_CFG_CAPTURE_PAYLOAD, up to cfg_snaplen (<= EVT_MAX_PATH).
 */
#include "helpers.bpf.h"

#define K_EINPROGRESS 115

static __always_inline void evb_payload(struct evb *b, const void *ubuf, long ret)
{
	if (!(cfg_flags & EVT_CFG_CAPTURE_PAYLOAD) || ret <= 0) {
		evb_empty(b);
		return;
	}
	__u64 n = (__u64)ret < cfg_snaplen ? (__u64)ret : cfg_snaplen;
	evb_user_bytes(b, ubuf, n, EVT_MAX_PATH);
}

SYS_EXIT(socket)
{
	struct evb b;

	if (evb_fixed(&b, EVT_SOCKET_X, 4, EVB_SIZE(4, 20), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_u32(&b, (__u32)SC_ARG0(regs));
	evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_u32(&b, (__u32)SC_ARG2(regs));
	evb_submit_fixed(&b);
	return 0;
}

/* The remote end of an INET/INET6 tuple (already in the event at tuple_off) as a sockaddr parameter. */
static __always_inline bool addr_from_tuple(struct evb *b, __u32 tuple_off, __u32 tuple_len)
{
	__u8 *t = b->data + (tuple_off & SCRATCH_EVT_MASK);
	__u8 *p = EVB_AT(b);

	if (tuple_len == 13 && t[0] == EVT_AF_INET) {
		p[0] = EVT_AF_INET;
		*(__u32 *)(p + 1) = *(__u32 *)(t + 7);
		*(__u16 *)(p + 5) = *(__u16 *)(t + 11);
		evb_len(b, 7);
		return true;
	}
	if (tuple_len == 37 && t[0] == EVT_AF_INET6) {
		p[0] = EVT_AF_INET6;
		__builtin_memcpy(p + 1, t + 19, 16);
		*(__u16 *)(p + 17) = *(__u16 *)(t + 35);
		evb_len(b, 19);
		return true;
	}
	return false;
}

SYS_EXIT_FD(connect)
{
	__s64 fd = SC_FD(SC_ARG0(regs));
	__u32 tuple_off, tuple_len;
	struct evb b;

	if (evb_var(&b, EVT_CONNECT_X, 4, EVT_CAT_CONNECT))
		return 0;
	evb_s64(&b, ret);
	tuple_off = b.off;
	if (ret == 0 || ret == -K_EINPROGRESS)
		evb_sock_tuple(&b, fd_sock(fd, fast), false, fast);
	else
		evb_empty(&b);
	tuple_len = b.off - tuple_off;
	evb_s64(&b, fd);
	/* a connected INET socket's peer is the address that was asked for: no second user-memory read */
	if (!addr_from_tuple(&b, tuple_off, tuple_len))
		evb_user_sockaddr(&b, (const void *)SC_ARG1(regs), SC_ARG2(regs));
	evb_submit_var(&b);
	return 0;
}

static __always_inline int accept_common(struct pt_regs *regs, long ret, __u16 type, __u8 nparams,
					 const bool fast)
{
	struct sock *lsk = fd_sock(SC_FD(SC_ARG0(regs)), fast);
	__u32 qlen = 0, qmax = 0;
	struct evb b;

	if (evb_var(&b, type, nparams, EVT_CAT_OTHER))
		return 0;
	if (lsk && fast) {
		qlen = lsk->sk_ack_backlog;
		qmax = lsk->sk_max_ack_backlog;
	} else if (lsk) {
		qlen = BPF_CORE_READ(lsk, sk_ack_backlog);
		qmax = BPF_CORE_READ(lsk, sk_max_ack_backlog);
	}
	evb_s64(&b, ret);
	if (ret >= 0)
		evb_sock_tuple(&b, fd_sock(ret, fast), true, fast);
	else
		evb_empty(&b);
	evb_u8(&b, qmax ? (__u8)((__u64)qlen * 100 / qmax) : 0);
	evb_u32(&b, qlen);
	evb_u32(&b, qmax);
	if (nparams > 5)
		evb_u32(&b, (__u32)SC_ARG3(regs));
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT_FD(accept)
{
	return accept_common(regs, ret, EVT_ACCEPT_X, 5, fast);
}

SYS_EXIT_FD(accept4)
{
	return accept_common(regs, ret, EVT_ACCEPT4_X, 6, fast);
}

SYS_EXIT(bind)
{
	struct evb b;

	if (evb_var(&b, EVT_BIND_X, 3, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_user_sockaddr(&b, (const void *)SC_ARG1(regs), SC_ARG2(regs));
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT(listen)
{
	struct evb b;

	if (evb_fixed(&b, EVT_LISTEN_X, 3, EVB_SIZE(3, 20), EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_s64(&b, SC_FD(SC_ARG0(regs)));
	evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_submit_fixed(&b);
	return 0;
}

SYS_EXIT_FD(sendto)
{
	__s64 fd = SC_FD(SC_ARG0(regs));
	struct evb b;

	if (evb_var(&b, EVT_SENDTO_X, 5, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_payload(&b, (const void *)SC_ARG1(regs), ret);
	evb_s64(&b, fd);
	evb_u32(&b, (__u32)SC_ARG2(regs));
	evb_sock_tuple(&b, fd_sock(fd, fast), false, fast);
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT_FD(recvfrom)
{
	__s64 fd = SC_FD(SC_ARG0(regs));
	struct evb b;

	if (evb_var(&b, EVT_RECVFROM_X, 5, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_payload(&b, (const void *)SC_ARG1(regs), ret);
	evb_sock_tuple(&b, fd_sock(fd, fast), false, fast);
	evb_s64(&b, fd);
	evb_u32(&b, (__u32)SC_ARG2(regs));
	evb_submit_var(&b);
	return 0;
}

/* The first iovec of a user msghdr (payload capture looks at it only). */
static __always_inline const void *msg_iov0(const void *umsg)
{
	struct user_msghdr m = {};
	struct iovec iov = {};

	if (!umsg || bpf_probe_read_user(&m, sizeof(m), umsg) || !m.msg_iov || m.msg_iovlen == 0)
		return NULL;
	if (bpf_probe_read_user(&iov, sizeof(iov), m.msg_iov))
		return NULL;
	return iov.iov_base;
}

SYS_EXIT_FD(sendmsg)
{
	__s64 fd = SC_FD(SC_ARG0(regs));
	struct evb b;

	if (evb_var(&b, EVT_SENDMSG_X, 5, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	if (cfg_flags & EVT_CFG_CAPTURE_PAYLOAD)
		evb_payload(&b, msg_iov0((const void *)SC_ARG1(regs)), ret);
	else
		evb_empty(&b);
	evb_s64(&b, fd);
	evb_u32(&b, ret > 0 ? (__u32)ret : 0);
	evb_sock_tuple(&b, fd_sock(fd, fast), false, fast);
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT_FD(recvmsg)
{
	__s64 fd = SC_FD(SC_ARG0(regs));
	struct evb b;

	if (evb_var(&b, EVT_RECVMSG_X, 5, EVT_CAT_OTHER))
		return 0;
	evb_s64(&b, ret);
	evb_u32(&b, ret > 0 ? (__u32)ret : 0);
	if (cfg_flags & EVT_CFG_CAPTURE_PAYLOAD)
		evb_payload(&b, msg_iov0((const void *)SC_ARG1(regs)), ret);
	else
		evb_empty(&b);
	evb_sock_tuple(&b, fd_sock(fd, fast), false, fast);
	evb_s64(&b, fd);
	evb_submit_var(&b);
	return 0;
}

SYS_EXIT_FD(socketpair)
{
	int fds[2] = {-1, -1};
	struct evb b;

	if (evb_fixed(&b, EVT_SOCKETPAIR_X, 8, EVB_SIZE(8, 52), EVT_CAT_OTHER))
		return 0;
	if (ret == 0 && bpf_probe_read_user(fds, sizeof(fds), (const void *)SC_ARG3(regs)))
		b.cnt->n_read_fail++;
	evb_s64(&b, ret);
	evb_s64(&b, fds[0]);
	evb_s64(&b, fds[1]);
	evb_u64(&b, ret == 0 ? (__u64)fd_sock(fds[0], fast) : 0);
	evb_u64(&b, ret == 0 ? (__u64)fd_sock(fds[1], fast) : 0);
	evb_u32(&b, (__u32)SC_ARG0(regs));
	evb_u32(&b, (__u32)SC_ARG1(regs));
	evb_u32(&b, (__u32)SC_ARG2(regs));
	evb_submit_fixed(&b);
	return 0;
}
