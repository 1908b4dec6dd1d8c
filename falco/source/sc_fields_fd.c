/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fd.* fields: the descriptor an event is about (the new one for open/socket/accept/dup..., the one named by the
 * "fd" argument otherwise, and for close the one being closed). Socket names are rendered lazily from the tuple,
 * client first ("10.0.0.1:41234->10.0.0.2:80") as upstream. fd.ip/fd.net/fd.port match either end: they yield both
 * values and a comparison holds when one of them does.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/macro.h"
#include "sc_internal.h"

enum fd_f {
	FF_NUM,
	FF_TYPE,
	FF_TYPECHAR,
	FF_NAME,
	FF_NAMERAW,
	FF_DIRECTORY,
	FF_FILENAME,
	FF_IP,
	FF_CIP,
	FF_SIP,
	FF_LIP,
	FF_RIP,
	FF_PORT,
	FF_CPORT,
	FF_SPORT,
	FF_LPORT,
	FF_RPORT,
	FF_L4PROTO,
	FF_SOCKFAMILY,
	FF_IS_SERVER,
	FF_CONNECTED,
	FF_NAME_CHANGED,
	FF_NET,
	FF_CNET,
	FF_SNET,
	FF_LNET,
	FF_RNET,
	FF_CIP_NAME,
	FF_SIP_NAME,
	FF_LIP_NAME,
	FF_RIP_NAME,
	FF_DEV,
	FF_DEV_MAJOR,
	FF_DEV_MINOR,
	FF_INO,
	FF_OPENFLAGS,
};

static bool is_ip(const struct st_fd *f)
{
	return (f->type == FDT_IPV4 || f->type == FDT_IPV6) && (f->flags & ST_FD_HAS_TUPLE);
}

static size_t alen(const struct st_fd *f)
{
	return f->family == EVT_AF_INET6 || f->type == FDT_IPV6 ? 16 : 4;
}

static void ip_value(const struct st_fd *f, const uint8_t *ip, enum fld_type t, struct value *out)
{
	*out = (struct value){.type = (uint8_t)t};
	out->ip.family = alen(f) == 16 ? 6 : 4;
	memcpy(out->ip.bytes, ip, alen(f));
}

/* client / server ends: the server is local for accepted and listening sockets */
static const uint8_t *cip(const struct st_fd *f)
{
	return (f->flags & ST_FD_SERVER) ? f->rip : f->lip;
}

static const uint8_t *sip(const struct st_fd *f)
{
	return (f->flags & ST_FD_SERVER) ? f->lip : f->rip;
}

static uint16_t cport(const struct st_fd *f)
{
	return (f->flags & ST_FD_SERVER) ? f->rport : f->lport;
}

static uint16_t sport(const struct st_fd *f)
{
	return (f->flags & ST_FD_SERVER) ? f->lport : f->rport;
}

static bool ip_is_zero(const uint8_t *ip, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ip[i])
			return false;
	return true;
}

static size_t fmt_ep(char *buf, size_t size, const struct st_fd *f, const uint8_t *ip,
		     uint16_t port)
{
	char a[INET6_ADDRSTRLEN] = "";
	inet_ntop(alen(f) == 16 ? AF_INET6 : AF_INET, ip, a, sizeof(a));
	int n = snprintf(buf, size, "%s:%u", a, port);
	return n < 0 ? 0 : MIN((size_t)n, size - 1);
}

static int sock_name(struct fld_ctx *ctx, const struct st_fd *f, struct value *out)
{
	char buf[128];
	size_t n;

	/* a socket with no peer (listening, bound, unconnected): its local end */
	if (ip_is_zero(f->rip, alen(f)) && f->rport == 0) {
		n = fmt_ep(buf, sizeof(buf), f, f->lip, f->lport);
	} else {
		n = fmt_ep(buf, sizeof(buf), f, cip(f), cport(f));
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "->");
		n += fmt_ep(buf + n, sizeof(buf) - n, f, sip(f), sport(f));
	}
	return sc_val_copy(ctx, out, buf, n);
}

static int two_ips(struct fld_ctx *ctx, const struct st_fd *f, enum fld_type t, struct value *out)
{
	struct value *items = arena_alloc(ctx->arena, 2 * sizeof(*items));
	if (!items)
		return -ENOMEM;
	ip_value(f, cip(f), t, &items[0]);
	ip_value(f, sip(f), t, &items[1]);
	*out = (struct value){.type = (uint8_t)t, .is_list = true, .len = 2, .items = items};
	return 1;
}

static int fld_fd(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct sc_evt *e = sc_evt_of(ctx);
	const struct st_fd *f = e->fd;
	enum fd_f k = (enum fd_f)fi->def->data;

	if (k == FF_NUM)
		return f || e->fdnum >= 0 ? sc_val_s64(out, e->fdnum) : 0;
	if (k == FF_NAME_CHANGED)
		return f ? sc_val_bool(out, (e->flags & SC_EVT_NAME_CHANGED) != 0) : 0;
	if (!f)
		return 0;
	switch (k) {
	case FF_TYPE:
		return f->type ? sc_val_cstr(out, st_fd_type_name((enum st_fd_type)f->type)) : 0;
	case FF_TYPECHAR: {
		static char chars[_FDT_MAX][2];
		if (!f->type || f->type >= _FDT_MAX)
			return 0;
		chars[f->type][0] = st_fd_type_char((enum st_fd_type)f->type);
		return sc_val_str(out, chars[f->type], 1);
	}
	case FF_NAME:
		if (is_ip(f))
			return sock_name(ctx, f, out);
		return sc_val_sstr(out, f->name);
	case FF_NAMERAW:
		if (f->nameraw)
			return sc_val_sstr(out, f->nameraw);
		if (is_ip(f))
			return sock_name(ctx, f, out);
		return sc_val_sstr(out, f->name);
	case FF_DIRECTORY:
	case FF_FILENAME: {
		if ((f->type != FDT_FILE && f->type != FDT_DIRECTORY) || !f->name)
			return 0;
		if (f->type == FDT_DIRECTORY)
			return k == FF_DIRECTORY ? sc_val_sstr(out, f->name) : 0;
		const char *s = f->name->s, *slash = memrchr(s, '/', f->name->len);
		if (!slash)
			return k == FF_FILENAME ? sc_val_sstr(out, f->name) : 0;
		if (k == FF_FILENAME)
			return sc_val_str(out, slash + 1, f->name->len - (size_t)(slash + 1 - s));
		return sc_val_str(out, s, slash == s ? 1 : (size_t)(slash - s));
	}
	default:
		break;
	}
	/* network fields */
	if (k == FF_L4PROTO) {
		if (f->type != FDT_IPV4 && f->type != FDT_IPV6)
			return 0;
		return sc_val_cstr(out, st_l4_name((enum st_l4)f->l4proto));
	}
	if (k == FF_SOCKFAMILY) {
		if (f->type == FDT_IPV4 || f->type == FDT_IPV6)
			return sc_val_str(out, "ip", 2);
		if (f->type == FDT_UNIX)
			return sc_val_str(out, "unix", 4);
		return 0;
	}
	if (k == FF_IS_SERVER)
		return is_ip(f) || f->type == FDT_UNIX
			       ? sc_val_bool(out, (f->flags & ST_FD_SERVER) != 0)
			       : 0;
	if (k == FF_CONNECTED)
		return f->type == FDT_IPV4 || f->type == FDT_IPV6 || f->type == FDT_UNIX
			       ? sc_val_bool(out, (f->flags & ST_FD_CONNECTED) != 0)
			       : 0;
	if (k == FF_DEV || k == FF_DEV_MAJOR || k == FF_DEV_MINOR) {
		if (f->type != FDT_FILE && f->type != FDT_DIRECTORY)
			return 0;
		/* the kernel's encoding: major in bits 8..19, minor in 0..7 and 20..31 */
		uint32_t d = f->dev;
		if (k == FF_DEV)
			return sc_val_u64(out, d);
		if (k == FF_DEV_MAJOR)
			return sc_val_u64(out, (d >> 8) & 0xfff);
		return sc_val_u64(out, (d & 0xff) | ((d >> 12) & 0xfff00));
	}
	if (k == FF_INO)
		return f->ino ? sc_val_u64(out, f->ino) : 0;
	if (k == FF_OPENFLAGS)
		return sc_val_u64(out, f->open_flags);
	if (!is_ip(f))
		return 0;
	switch (k) {
	case FF_IP:
		return two_ips(ctx, f, FT_IPADDR, out);
	case FF_NET:
		return two_ips(ctx, f, FT_IPNET, out);
	case FF_CIP:
		ip_value(f, cip(f), FT_IPADDR, out);
		return 1;
	case FF_SIP:
		ip_value(f, sip(f), FT_IPADDR, out);
		return 1;
	case FF_LIP:
		ip_value(f, f->lip, FT_IPADDR, out);
		return 1;
	case FF_RIP:
		ip_value(f, f->rip, FT_IPADDR, out);
		return 1;
	case FF_CNET:
		ip_value(f, cip(f), FT_IPNET, out);
		return 1;
	case FF_SNET:
		ip_value(f, sip(f), FT_IPNET, out);
		return 1;
	case FF_LNET:
		ip_value(f, f->lip, FT_IPNET, out);
		return 1;
	case FF_RNET:
		ip_value(f, f->rip, FT_IPNET, out);
		return 1;
	case FF_PORT: {
		struct value *items = arena_alloc(ctx->arena, 2 * sizeof(*items));
		if (!items)
			return -ENOMEM;
		sc_val_u64(&items[0], cport(f));
		sc_val_u64(&items[1], sport(f));
		*out = (struct value){.type = FT_U64, .is_list = true, .len = 2, .items = items};
		return 1;
	}
	case FF_CPORT:
		return sc_val_u64(out, cport(f));
	case FF_SPORT:
		return sc_val_u64(out, sport(f));
	case FF_LPORT:
		return sc_val_u64(out, f->lport);
	case FF_RPORT:
		return sc_val_u64(out, f->rport);
	default:
		/* *.name: no DNS cache here, so the names of addresses are never known */
		return 0;
	}
}

#define F(n, t, f, d)                                                         \
	{                                                                     \
		.name = n, .type = t, .desc = d, .extract = fld_fd, .data = f \
	}
#define FN(n, t, fl, f, d)                                                                 \
	{                                                                                  \
		.name = n, .type = t, .flags = fl, .desc = d, .extract = fld_fd, .data = f \
	}

static const struct fld_def defs[] = {
	F("fd.num", FT_S64, FF_NUM,
	  "The unique number identifying the file descriptor (-1 for a failed open)."),
	F("fd.type", FT_STRING, FF_TYPE,
	  "Type of FD: 'file', 'directory', 'ipv4', 'ipv6', 'unix', 'pipe', 'event', 'signalfd', 'eventpoll', "
	  "'inotify', 'timerfd', 'netlink', 'bpf', 'userfaultfd', 'io_uring', 'memfd' or 'pidfd'."),
	F("fd.typechar", FT_STRING, FF_TYPECHAR,
	  "Type of FD as a single character: 'f' file, 'd' directory, '4' ipv4, '6' ipv6, 'u' unix, 'p' pipe, 'e' "
	  "event, 's' signalfd, 'l' eventpoll, 'i' inotify, 't' timerfd, 'n' netlink, 'b' bpf, 'r' io_uring, 'm' "
	  "memfd."),
	F("fd.name", FT_STRING, FF_NAME,
	  "FD full name: the absolute path for files, the connection tuple (client first) for sockets."),
	F("fd.nameraw", FT_STRING, FF_NAMERAW,
	  "FD name as the syscall passed it (open*: not resolved, not normalized)."),
	F("fd.directory", FT_STRING, FF_DIRECTORY,
	  "If the fd is a file, the directory that contains it."),
	F("fd.filename", FT_STRING, FF_FILENAME,
	  "If the fd is a file, the filename without the path."),
	FN("fd.ip", FT_IPADDR, FLD_NO_RHS, FF_IP,
	   "Matches the IP address (client or server) of the fd."),
	F("fd.cip", FT_IPADDR, FF_CIP, "Client IP address."),
	F("fd.sip", FT_IPADDR, FF_SIP, "Server IP address."),
	F("fd.lip", FT_IPADDR, FF_LIP, "Local IP address."),
	F("fd.rip", FT_IPADDR, FF_RIP, "Remote IP address."),
	FN("fd.port", FT_U64, FLD_NO_RHS, FF_PORT,
	   "Matches the port (client or server) of the fd."),
	F("fd.cport", FT_U64, FF_CPORT, "For TCP/UDP FDs, the client port."),
	F("fd.sport", FT_U64, FF_SPORT, "For TCP/UDP FDs, the server port."),
	F("fd.lport", FT_U64, FF_LPORT, "For TCP/UDP FDs, the local port."),
	F("fd.rport", FT_U64, FF_RPORT, "For TCP/UDP FDs, the remote port."),
	F("fd.l4proto", FT_STRING, FF_L4PROTO,
	  "The IP protocol of a socket: 'tcp', 'udp', 'icmp' or 'raw'."),
	F("fd.sockfamily", FT_STRING, FF_SOCKFAMILY, "The socket family: 'ip' or 'unix'."),
	F("fd.is_server", FT_BOOL, FF_IS_SERVER,
	  "'true' if the process owning this FD is the server endpoint."),
	F("fd.connected", FT_BOOL, FF_CONNECTED, "For sockets: 'true' if the socket is connected."),
	F("fd.name_changed", FT_BOOL, FF_NAME_CHANGED,
	  "'true' when the event changed the name of its fd (e.g. a UDP send to a new peer changes the tuple)."),
	FN("fd.net", FT_IPNET, FLD_NO_RHS, FF_NET,
	   "Matches the IP network (client or server) of the fd."),
	FN("fd.cnet", FT_IPNET, FLD_NO_RHS, FF_CNET, "Matches the client IP network of the fd."),
	FN("fd.snet", FT_IPNET, FLD_NO_RHS, FF_SNET, "Matches the server IP network of the fd."),
	FN("fd.lnet", FT_IPNET, FLD_NO_RHS, FF_LNET, "Matches the local IP network of the fd."),
	FN("fd.rnet", FT_IPNET, FLD_NO_RHS, FF_RNET, "Matches the remote IP network of the fd."),
	FN("fd.cip.name", FT_STRING, FLD_NO_RHS, FF_CIP_NAME,
	   "Domain name of the client IP (no DNS cache in this build: never known)."),
	FN("fd.sip.name", FT_STRING, FLD_NO_RHS, FF_SIP_NAME,
	   "Domain name of the server IP (no DNS cache in this build: never known)."),
	FN("fd.lip.name", FT_STRING, FLD_NO_RHS, FF_LIP_NAME,
	   "Domain name of the local IP (no DNS cache in this build: never known)."),
	FN("fd.rip.name", FT_STRING, FLD_NO_RHS, FF_RIP_NAME,
	   "Domain name of the remote IP (no DNS cache in this build: never known)."),
	F("fd.dev", FT_U64, FF_DEV, "Device number containing the referenced file."),
	F("fd.dev.major", FT_U64, FF_DEV_MAJOR,
	  "Major device number containing the referenced file."),
	F("fd.dev.minor", FT_U64, FF_DEV_MINOR,
	  "Minor device number containing the referenced file."),
	F("fd.ino", FT_U64, FF_INO, "Inode number of the referenced file."),
	F("fd.openflags", FT_U64, FF_OPENFLAGS, "The flags the file was opened with (O_* bits)."),
};

const struct fld_table sc_fields_fd = {
	.class_name = "fd",
	.desc = "Every syscall that has a file descriptor in its arguments has these fields set with information "
		"related to the file.",
	.defs = defs,
	.n = ARRAY_SIZE(defs),
};
