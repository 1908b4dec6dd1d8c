/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Driver management: which driver fits this kernel, where its artifact comes from, and loading it.
 *  - Target ids follow upstream's driver loader (reference driver.md §4.4): os-release ID with per-distro
 *    special cases (ubuntu-<flavor>, debian release rebuilt from uname -v, amazonlinux2/2022/2023, bottlerocket,
 *    minikube, talos, flatcar), generic otherwise. Artifact: <name>_<target>_<release>_<kv>.ko under
 *    <repo>/<url-escaped version>/<arch>/.
 *  - Auto selection runs live checks in priority order and keeps the reason each candidate was rejected.
 *  - Artifacts are trusted only through <repo>/<version>/<arch>/SHA256SUMS and its detached Ed25519 signature
 *    SHA256SUMS.sig, checked against a pinned key in keysDir (sig.h). Verified copies are cached with the signed
 *    list beside them and re-verified before every load.
 * Pure helpers (target, names, URLs) are non-logging; the fc_driver_* functions that take a ctx report
 * progress through ctx->rep like the phases that call them.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "fc.h"

struct fc_os_release {
	char id[64]; /* lower-cased ID, "" when unknown */
	char version_id[64];
	char variant_id[64];
	char minikube[32]; /* x.y.z from /etc/VERSION, "" when absent */
	bool found;	   /* os-release (or a fallback release file) was found */
};

struct fc_target {
	char target_id[96]; /* "debian", "ubuntu-generic", "amazonlinux2", …, "undetermined" */
	char kernel_release[128]; /* as given (uname -r or override) */
	char kernel_version[256]; /* as given (uname -v or override) */
	char fixed_release[128];  /* release used in the artifact name */
	char fixed_version[128];  /* kernel version used in the artifact name */
	char arch[32];		  /* x86_64, aarch64 */
};

/* Parses os-release text into ret (ID lower-cased; quotes removed). Returns 0. */
int fc_os_release_parse(const char *text, size_t len, struct fc_os_release *ret);

/* Reads <root>/etc/os-release (with upstream's fallbacks: centos-release, redhat-release, debian_version,
 * minikube's /etc/VERSION). Returns 0; ret->found says whether anything was recognised. */
int fc_os_release_discover(const char *root, struct fc_os_release *ret);

/* Computes the target id and fixed-up kernel release/version. Returns 0 or -EINVAL with text. */
int fc_target_compute(const struct fc_os_release *os, const char *release, const char *version,
		      const char *arch, struct fc_target *ret, char *errbuf, size_t errlen);

/* "<name>_<target>_<fixed release>_<fixed version>.ko". Returns 0 or -ENAMETOOLONG. */
int fc_driver_filename(const char *name, const struct fc_target *t, char *out, size_t outlen);

/* Go's url.QueryEscape (space becomes '+', all but [A-Za-z0-9-_.~] percent-encoded). */
int fc_url_escape(const char *s, char *out, size_t outlen);

/* "<repo>/<escaped version>/<arch>/<file>" (repo without trailing '/'). Returns 0 or -ENAMETOOLONG. */
int fc_driver_url(const char *repo, const char *version, const char *arch, const char *file,
		  char *out, size_t outlen);

/* Finds file in a SHA256SUMS text ("<hex>  <name>" or "<hex> *<name>" lines). Returns 0 with the lower-case
 * hex in ret, -ENOENT, or -EINVAL (malformed line, with text). */
int fc_sums_lookup(const char *sums, size_t len, const char *file, char ret[65], char *errbuf,
		   size_t errlen);

/* ---- with a context ----------------------------------------------------------------------------------- */

/* Kernel facts for ctx: uname through ops, overridden by --kernelrelease/--kernelversion; os-release under root. */
int fc_driver_target(struct fc_ctx *ctx, struct fc_target *ret, char *errbuf, size_t errlen);

struct fc_candidate {
	enum fc_driver_type type;
	bool ok;
	char reason[512]; /* why it was rejected, or what was proven */
};

/*
 * Auto selection: runs the live checks of each allowed type in order (modern_ebpf: BTF, ring buffer, tracing
 * programs, a tp_btf attach; kmod: module support, then a cached or downloadable prebuilt module) and stops at
 * the first that passes. Fills cands (capacity _FC_DRIVER_MAX) with every candidate tried.
 * Returns the chosen type, or -ENODEV when none passed (reasons in cands), or -EINVAL for an empty list.
 */
int fc_driver_select(struct fc_ctx *ctx, char *const *types, struct fc_candidate *cands,
		     size_t *ret_n, char *errbuf, size_t errlen);

/* The allowed types from settings, "auto" expanded to [modern_ebpf, kmod]; NULL-terminated, caller frees. */
char **fc_driver_allowed(struct fc_ctx *ctx);

/* modern_ebpf: the live checks alone (what auto selection runs). 1 = fits, 0 = not (reason), -errno. */
int fc_driver_check_modern(struct fc_ctx *ctx, char *reason, size_t reasonlen);

struct fc_artifact {
	char file[256];	     /* artifact file name */
	char rel[PATH_MAX];  /* cache path as seen inside the root */
	char full[PATH_MAX]; /* host path of the cached artifact */
};

int fc_driver_artifact(struct fc_ctx *ctx, const struct fc_target *t, struct fc_artifact *ret,
		       char *errbuf, size_t errlen);

/* Re-verifies a cached artifact (signed list beside it, then its SHA-256). 1 verified, 0 absent, -errno bad. */
int fc_driver_cache_verify(struct fc_ctx *ctx, const struct fc_artifact *a, char *errbuf,
			   size_t errlen);

/*
 * Downloads the artifact from the configured repositories in order: signed list first (size-limited), its
 * signature checked with the pinned keys, then the artifact (size-limited) checked against the list, then
 * written into the cache. A repository that fails is reported and the next one tried. probe_only: stop after
 * finding the artifact in a verified list (for auto selection). Returns 0, -ENOENT (in no repository), -errno.
 */
int fc_driver_fetch(struct fc_ctx *ctx, const struct fc_artifact *a, bool probe_only, char *errbuf,
		    size_t errlen);

/* Loads the kmod driver from the verified cache (fetching when absent). 1 loaded, 0 already loaded, -errno. */
int fc_driver_kmod_load(struct fc_ctx *ctx, char *errbuf, size_t errlen);
/* Unloads it (retrying while it is busy). 1 unloaded, 0 not loaded, -errno. */
int fc_driver_kmod_unload(struct fc_ctx *ctx, char *errbuf, size_t errlen);

/* insmod-style explanation of a finit_module/delete_module error. */
const char *fc_kmod_strerror(int err);
