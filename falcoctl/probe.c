/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Live kernel probes behind struct fc_probe_ops: BTF, BPF ring buffer maps, tracing programs, a real tp_btf
 * attach to sys_exit (the hook falco's probe uses), capabilities, free ports. Each probe answers 1 (supported),
 * 0 (not, with the reason) or -errno. Non-logging.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "common/err.h"
#include "fc.h"

static int real_uname(void *data, struct fc_uname *ret)
{
	struct utsname u;
	if (uname(&u) < 0)
		return -errno;
	snprintf(ret->release, sizeof(ret->release), "%s", u.release);
	snprintf(ret->version, sizeof(ret->version), "%s", u.version);
	snprintf(ret->machine, sizeof(ret->machine), "%s", u.machine);
	return 0;
}

static int real_btf(void *data, char *errbuf, size_t errlen)
{
	if (access("/sys/kernel/btf/vmlinux", R_OK) == 0)
		return 1;
	return errf(errbuf, errlen, 0,
		    "no kernel BTF at /sys/kernel/btf/vmlinux (%s; needs CONFIG_DEBUG_INFO_BTF=y)",
		    strerror(errno));
}

static int perm_or(int r, char *errbuf, size_t errlen, const char *what)
{
	if (r == -EPERM || r == -EACCES)
		return errf(errbuf, errlen, 0,
			    "%s: not permitted (needs CAP_BPF and CAP_PERFMON, or root)", what);
	return errf(errbuf, errlen, 0, "%s: %s", what, strerror(-r));
}

static int real_ringbuf(void *data, char *errbuf, size_t errlen)
{
	int r = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	if (r == 1)
		return 1;
	if (r == 0)
		return errf(errbuf, errlen, 0,
			    "the kernel has no BPF ring buffer maps (needs Linux 5.8+)");
	return perm_or(r, errbuf, errlen, "BPF ring buffer probe failed");
}

static int real_tp_btf_attach(void *data, char *errbuf, size_t errlen);

static int real_tracing(void *data, char *errbuf, size_t errlen)
{
	int r = libbpf_probe_bpf_prog_type(BPF_PROG_TYPE_TRACING, NULL);
	if (r == 1)
		return 1;
	if (r == 0) {
		/*
		 * libbpf's probe matches a verifier message that newer kernels (6.x) no longer print, so "no" is not
		 * trustworthy: loading a real tp_btf program decides.
		 */
		int k = real_tp_btf_attach(data, errbuf, errlen);
		if (k == 1)
			return errf(errbuf, errlen, 1,
				    "tracing programs load (libbpf's probe was inconclusive)");
		return k;
	}
	return perm_or(r, errbuf, errlen, "BPF tracing program probe failed");
}

/*
 * Loads the smallest tp_btf program ("return 0") against sys_exit and attaches it, then detaches: proof that
 * this kernel lets us load and attach what falco's probe is made of.
 */
static int real_tp_btf_attach(void *data, char *errbuf, size_t errlen)
{
	const struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	char log[2048] = "";
	int prog_fd, link_fd, id, r;

	struct btf *btf = btf__load_vmlinux_btf();
	if (!btf)
		return errf(errbuf, errlen, 0, "cannot load the kernel BTF: %s", strerror(errno));
	id = btf__find_by_name_kind(btf, "btf_trace_sys_exit", BTF_KIND_TYPEDEF);
	btf__free(btf);
	if (id < 0)
		return errf(errbuf, errlen, 0,
			    "the kernel BTF has no raw tracepoint sys_exit (btf_trace_sys_exit)");

	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_RAW_TP,
		    .attach_btf_id = (__u32)id, .log_buf = log, .log_size = sizeof(log));
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "fc_probe", "GPL", insns, ARRAY_SIZE(insns),
				&opts);
	if (prog_fd < 0) {
		r = -errno;
		if (r == -EPERM || r == -EACCES)
			return perm_or(r, errbuf, errlen, "loading a tp_btf program");
		return errf(errbuf, errlen, 0, "the kernel rejected a tp_btf program: %s%s%.200s",
			    strerror(-r), log[0] ? ": " : "", log);
	}
	link_fd = bpf_raw_tracepoint_open(NULL, prog_fd);
	r = link_fd < 0 ? -errno : 0;
	if (link_fd >= 0)
		close(link_fd);
	close(prog_fd);
	if (r < 0) {
		if (r == -EPERM || r == -EACCES)
			return perm_or(r, errbuf, errlen, "attaching tp_btf/sys_exit");
		return errf(errbuf, errlen, 0, "cannot attach tp_btf/sys_exit: %s", strerror(-r));
	}
	return errf(errbuf, errlen, 1, "loaded and attached a tp_btf program to sys_exit");
}

static int real_capabilities(void *data, uint64_t *ret)
{
	char line[256];
	_cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %" SCNx64, ret) == 1)
			return 0;
	return -ENODATA;
}

static int real_port_free(void *data, uint16_t port, char *errbuf, size_t errlen)
{
	_cleanup_close_ int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in sa = {
		.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = INADDR_ANY};
	int one = 1;

	if (fd < 0)
		return errf(errbuf, errlen, -errno, "socket: %s", strerror(errno));
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return 1;
	if (errno == EADDRINUSE)
		return errf(errbuf, errlen, 0, "port %u is in use", port);
	return errf(errbuf, errlen, -errno, "cannot probe port %u: %s", port, strerror(errno));
}

const struct fc_probe_ops fc_probe_real = {
	.uname = real_uname,
	.btf = real_btf,
	.ringbuf = real_ringbuf,
	.tracing = real_tracing,
	.tp_btf_attach = real_tp_btf_attach,
	.capabilities = real_capabilities,
	.port_free = real_port_free,
};
