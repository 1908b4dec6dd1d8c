/* SPDX-License-Identifier: Apache-2.0 */
/*
 * container.* and k8s.* fields (what upstream's container plugin provides): the id comes from the process's
 * cgroups ("host" outside containers), the rest from the runtime when one answered. container.mount*[X] select a
 * mount by position or by a path glob, as upstream.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "common/macro.h"
#include "sc_internal.h"

enum ct_f {
	CF_ID,
	CF_FULL_ID,
	CF_NAME,
	CF_TYPE,
	CF_IMAGE,
	CF_IMAGE_ID,
	CF_IMAGE_REPO,
	CF_IMAGE_TAG,
	CF_IMAGE_DIGEST,
	CF_PRIVILEGED,
	CF_MOUNTS,
	CF_MOUNT,
	CF_MOUNT_SOURCE,
	CF_MOUNT_DEST,
	CF_MOUNT_MODE,
	CF_MOUNT_RDWR,
	CF_MOUNT_PROPAGATION,
	CF_START_TS,
	CF_DURATION,
	CF_K8S_NS,
	CF_K8S_POD,
	CF_K8S_POD_UID,
};

static const struct st_container *ct_of(const struct fld_ctx *ctx)
{
	const struct sc_evt *e = sc_evt_of(ctx);
	return e->proc ? st_container_at(sc_state_of(ctx), e->proc->container) : NULL;
}

/* "registry:5000/repo/name:tag@sha256:..." → repository / tag / digest */
static int image_part(const struct st_str *img, enum ct_f f, struct value *out)
{
	if (!img || !img->len)
		return 0;
	const char *s = img->s;
	size_t n = img->len;
	const char *at = memchr(s, '@', n);
	size_t base = at ? (size_t)(at - s) : n;
	if (f == CF_IMAGE_DIGEST)
		return at ? sc_val_str(out, at + 1, n - base - 1) : 0;
	const char *slash = memrchr(s, '/', base);
	const char *colon = memrchr(s, ':', base);
	if (colon && slash && colon < slash)
		colon = NULL; /* the registry's port, not a tag */
	if (f == CF_IMAGE_TAG)
		return colon ? sc_val_str(out, colon + 1, base - (size_t)(colon - s) - 1) : 0;
	return sc_val_str(out, s, colon ? (size_t)(colon - s) : base);
}

/*
 * The mounts string is "src:dst:mode:rw:propagation" entries joined with ','. Selects one by index (arg_num) or
 * by a glob over its source (dest for container.mount.source), and returns its field `want` (0..4, or -1 for
 * the whole entry).
 */
static int mount_field(const struct fld_inst *fi, const struct st_str *mounts, bool by_dest,
		       int want, struct value *out)
{
	if (!mounts || !fi->arg)
		return 0;
	long idx = -1;
	char *end;
	long v = strtol(fi->arg, &end, 10);
	if (*end == '\0' && end != fi->arg)
		idx = v;
	const char *s = mounts->s, *stop = s + mounts->len;
	for (long i = 0; s < stop; i++) {
		const char *e = memchr(s, ',', (size_t)(stop - s));
		if (!e)
			e = stop;
		const char *fs[5];
		size_t fl[5];
		const char *p = s;
		int k;
		for (k = 0; k < 5 && p <= e; k++) {
			const char *c = k < 4 ? memchr(p, ':', (size_t)(e - p)) : NULL;
			if (!c)
				c = e;
			fs[k] = p;
			fl[k] = (size_t)(c - p);
			p = c + 1;
		}
		if (k == 5) {
			bool match;
			if (idx >= 0) {
				match = idx == i;
			} else {
				char key[4096];
				size_t kl = MIN(fl[by_dest ? 1 : 0], sizeof(key) - 1);
				memcpy(key, fs[by_dest ? 1 : 0], kl);
				key[kl] = '\0';
				match = fnmatch(fi->arg, key, 0) == 0;
			}
			if (match)
				return want < 0 ? sc_val_str(out, s, (size_t)(e - s))
						: sc_val_str(out, fs[want], fl[want]);
		}
		s = e + 1;
	}
	return 0;
}

static int fld_ct(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct st_container *c = ct_of(ctx);
	enum ct_f f = (enum ct_f)fi->def->data;

	if (!c)
		return 0;
	bool host = c->type == ST_CT_HOST;
	switch (f) {
	case CF_ID:
		if (!host && c->idlen == 64)
			return sc_val_str(out, c->id, 12);
		return sc_val_str(out, c->id, c->idlen);
	case CF_FULL_ID:
		return sc_val_str(out, c->id, c->idlen);
	case CF_NAME:
		if (host)
			return sc_val_str(out, "host", 4);
		return sc_val_sstr(out, c->name);
	case CF_TYPE:
		return sc_val_cstr(out, st_ct_type_name((enum st_ct_type)c->type));
	case CF_IMAGE:
		return sc_val_sstr(out, c->image);
	case CF_IMAGE_ID:
		return sc_val_sstr(out, c->image_id);
	case CF_IMAGE_REPO:
	case CF_IMAGE_TAG:
	case CF_IMAGE_DIGEST:
		return image_part(c->image, f, out);
	case CF_PRIVILEGED:
		return c->privileged_known ? sc_val_bool(out, c->privileged) : 0;
	case CF_MOUNTS:
		return sc_val_sstr(out, c->mounts);
	case CF_MOUNT:
	case CF_MOUNT_SOURCE:
	case CF_MOUNT_DEST:
	case CF_MOUNT_MODE:
	case CF_MOUNT_RDWR:
	case CF_MOUNT_PROPAGATION: {
		static const int want[] = {
			[CF_MOUNT] = -1,     [CF_MOUNT_SOURCE] = 0, [CF_MOUNT_DEST] = 1,
			[CF_MOUNT_MODE] = 2, [CF_MOUNT_RDWR] = 3,   [CF_MOUNT_PROPAGATION] = 4};
		if (host)
			return 0;
		int r = mount_field(fi, c->mounts, f == CF_MOUNT_SOURCE, want[f], out);
		/* upstream answers "N/A" for a container without such a mount (rules test `in ("<NA>","N/A")`) */
		return r ? r : sc_val_str(out, "N/A", 3);
	}
	case CF_START_TS:
	case CF_DURATION: {
		/* as upstream: the start of the init of the process's pid namespace, which the kernel gives with
		 * every exec and clone; the runtime's start time only while that is unknown */
		if (host)
			return 0;
		const struct st_proc *p = sc_evt_of(ctx)->proc;
		uint64_t ts = p->pidns_init_start_ts ? p->pidns_init_start_ts : c->start_ts;
		if (f == CF_START_TS)
			return ts ? sc_val_time(out, FT_ABSTIME, ts) : 0;
		if (!ts || ctx->evt->ts < ts)
			return 0;
		return sc_val_time(out, FT_RELTIME, ctx->evt->ts - ts);
	}
	case CF_K8S_NS:
		return sc_val_sstr(out, c->k8s_ns);
	case CF_K8S_POD:
		return sc_val_sstr(out, c->k8s_pod);
	case CF_K8S_POD_UID:
		return sc_val_sstr(out, c->k8s_pod_uid);
	}
	return 0;
}

#define F(n, t, f, d)                                                         \
	{                                                                     \
		.name = n, .type = t, .desc = d, .extract = fld_ct, .data = f \
	}
#define FA(n, t, fl, f, d)                                                                 \
	{                                                                                  \
		.name = n, .type = t, .flags = fl, .desc = d, .extract = fld_ct, .data = f \
	}
#define MNT (FLD_ARG_REQUIRED | FLD_NO_RHS)

static const struct fld_def ct_defs[] = {
	F("container.id", FT_STRING, CF_ID,
	  "The container id (its first 12 characters for runtime ids), or 'host' for a host process."),
	F("container.full_id", FT_STRING, CF_FULL_ID,
	  "The full container id, or 'host' for a host process."),
	F("container.name", FT_STRING, CF_NAME, "The container name ('host' for a host process)."),
	F("container.type", FT_STRING, CF_TYPE,
	  "The container type: docker, containerd, cri-o, podman, systemd-nspawn, lxc, or host."),
	F("container.image", FT_STRING, CF_IMAGE,
	  "The container image name (e.g. falcosecurity/falco:latest)."),
	F("container.image.id", FT_STRING, CF_IMAGE_ID, "The container image id."),
	F("container.image.repository", FT_STRING, CF_IMAGE_REPO,
	  "The container image repository (e.g. "
	  "falcosecurity/falco)."),
	F("container.image.tag", FT_STRING, CF_IMAGE_TAG,
	  "The container image tag (e.g. stable, latest)."),
	F("container.image.digest", FT_STRING, CF_IMAGE_DIGEST,
	  "The container image registry digest."),
	F("container.privileged", FT_BOOL, CF_PRIVILEGED,
	  "'true' for containers running as privileged."),
	F("container.mounts", FT_STRING, CF_MOUNTS,
	  "The container's mounts, 'source:dest:mode:rdrw:propagation' entries separated by commas."),
	FA("container.mount", FT_STRING, MNT, CF_MOUNT,
	   "One mount by number (container.mount[0]) or by source glob (container.mount[/usr/local/*])."),
	FA("container.mount.source", FT_STRING, MNT, CF_MOUNT_SOURCE,
	   "A mount's source, by number or by destination glob (container.mount.source[/host/lib/modules])."),
	FA("container.mount.dest", FT_STRING, MNT, CF_MOUNT_DEST,
	   "A mount's destination, by number or by source glob (container.mount.dest[/lib/modules])."),
	FA("container.mount.mode", FT_STRING, MNT, CF_MOUNT_MODE,
	   "A mount's mode, by number or by source glob."),
	FA("container.mount.rdwr", FT_STRING, MNT, CF_MOUNT_RDWR,
	   "A mount's readonly status, by number or by source glob."),
	FA("container.mount.propagation", FT_STRING, MNT, CF_MOUNT_PROPAGATION,
	   "A mount's propagation value, by number or by source glob."),
	F("container.start_ts", FT_ABSTIME, CF_START_TS,
	  "Container start as epoch timestamp in nanoseconds: the start of the init of the process's pid "
	  "namespace (proc.pidns_init_start_ts), from the kernel; the runtime's start time while that is "
	  "unknown."),
	F("container.duration", FT_RELTIME, CF_DURATION,
	  "Nanoseconds since the container started."),
};

const struct fld_table sc_fields_container = {
	.class_name = "container",
	.desc = "Container information: the id from the cgroups, the rest from the container runtime.",
	.defs = ct_defs,
	.n = ARRAY_SIZE(ct_defs),
};

static const struct fld_def k8s_defs[] = {
	F("k8s.ns.name", FT_STRING, CF_K8S_NS,
	  "The Kubernetes namespace name (CRI pod labels, or containerd's CRI annotations)."),
	F("k8s.pod.name", FT_STRING, CF_K8S_POD,
	  "The Kubernetes pod name (CRI pod labels, or containerd's CRI annotations)."),
	F("k8s.pod.uid", FT_STRING, CF_K8S_POD_UID,
	  "The Kubernetes pod UID (CRI pod labels, or containerd's CRI annotations)."),
};

const struct fld_table sc_fields_k8s = {
	.class_name = "k8s",
	.desc = "Kubernetes metadata of the container, from the container runtime's labels (containerd: its CRI annotations).",
	.defs = k8s_defs,
	.n = ARRAY_SIZE(k8s_defs),
};
