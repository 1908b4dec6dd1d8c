/* SPDX-License-Identifier: Apache-2.0 */
/* Driver selection, signed artifact fetch and cache, kmod load/unload, all through ctx->ops. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/err.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "config.h"
#include "driver.h"
#include "fs.h"
#include "sig.h"
#include "state.h"

#define SUMS_MAX     (1u << 20)
#define SIG_MAX	     4096u
#define SUMS_SUFFIX  ".SHA256SUMS"
#define SIG_SUFFIX   ".SHA256SUMS.sig"
#define STATE_LOAD   "driver/load"
#define STATE_SELECT "driver/select"

int fc_driver_target(struct fc_ctx *ctx, struct fc_target *ret, char *errbuf, size_t errlen)
{
	struct fc_uname u = {0};
	struct fc_os_release os;
	const char *kr = fc_cfg_str(ctx->cfg, FC_K_DRIVER_KERNELRELEASE);
	const char *kv = fc_cfg_str(ctx->cfg, FC_K_DRIVER_KERNELVERSION);
	int r;

	r = ctx->ops->probe.uname(ctx->ops->probe.data, &u);
	if (r < 0)
		return errf(errbuf, errlen, r, "uname: %s", strerror(-r));
	fc_os_release_discover(ctx->host ? "/" : ctx->root, &os);
	return fc_target_compute(&os, kr && *kr ? kr : u.release, kv && *kv ? kv : u.version,
				 u.machine, ret, errbuf, errlen);
}

char **fc_driver_allowed(struct fc_ctx *ctx)
{
	char *const *types = fc_cfg_list(ctx->cfg, FC_K_DRIVER_TYPE);
	struct strbuf sb;
	strbuf_init(&sb, 0);
	for (char *const *t = types; *t; t++) {
		if (streq(*t, "auto")) {
			strbuf_appends(&sb, "modern_ebpf;kmod;");
			continue;
		}
		int d = fc_driver_type_from_string(*t);
		if (d >= 0)
			strbuf_appendf(&sb, "%s;", fc_driver_type_to_string(d));
	}
	if (sb.len == 0)
		strbuf_appends(&sb, "modern_ebpf;kmod");
	/* drop duplicates, keeping the first position */
	char **all = fc_split_list(strbuf_str(&sb)),
	     **out = calloc(fc_strv_len(all) + 1, sizeof(char *));
	strbuf_done(&sb);
	if (!all || !out) {
		fc_strv_free(all);
		free(out);
		return NULL;
	}
	size_t n = 0, len = fc_strv_len(all);
	for (size_t i = 0; i < len; i++) {
		if (fc_strv_contains(out, all[i]))
			free(all[i]);
		else
			out[n++] = all[i];
	}
	free(all);
	return out;
}

int fc_driver_check_modern(struct fc_ctx *ctx, char *reason, size_t reasonlen)
{
	const struct fc_probe_ops *p = &ctx->ops->probe;
	struct {
		int (*fn)(void *, char *, size_t);
	} checks[] = {{p->btf}, {p->ringbuf}, {p->tracing}, {p->tp_btf_attach}};
	for (size_t i = 0; i < ARRAY_SIZE(checks); i++) {
		reason[0] = '\0';
		int r = checks[i].fn(p->data, reason, reasonlen);
		if (r <= 0) {
			if (!reason[0])
				errf(reason, reasonlen, r, "probe failed: %s", strerror(-r));
			return r < 0 ? r : 0;
		}
	}
	snprintf(reason, reasonlen,
		 "BTF, BPF ring buffer, tracing programs and a tp_btf attach to sys_exit all work");
	return 1;
}

static int kmod_candidate(struct fc_ctx *ctx, char *reason, size_t reasonlen)
{
	struct fc_target t;
	struct fc_artifact a;
	char e[1024];
	int r;

	if (!ctx->ops->kmod.supported(ctx->ops->kmod.data, reason, reasonlen))
		return 0;
	r = fc_driver_target(ctx, &t, reason, reasonlen);
	if (r < 0)
		return 0;
	if (streq(t.target_id, "undetermined"))
		return errf(
			reason, reasonlen, 0,
			"cannot tell the distribution (no os-release), so there is no prebuilt module name; building "
			"the module from source is not implemented yet");
	r = fc_driver_artifact(ctx, &t, &a, reason, reasonlen);
	if (r < 0)
		return 0;
	r = fc_driver_cache_verify(ctx, &a, e, sizeof(e));
	if (r == 1)
		return errf(reason, reasonlen, 1, "prebuilt module %s verified in the cache",
			    a.file);
	if (fc_strv_len(fc_cfg_list(ctx->cfg, FC_K_DRIVER_REPOS)) == 0)
		return errf(
			reason, reasonlen, 0,
			"no prebuilt %s in the cache, no driver repository configured (driver.repos), and "
			"building the module from source is not implemented yet",
			a.file);
	r = fc_driver_fetch(ctx, &a, true, e, sizeof(e));
	if (r < 0)
		return errf(reason, reasonlen, 0,
			    "%s (building from source is not implemented yet)", e);
	return errf(reason, reasonlen, 1, "prebuilt module %s is available: %s", a.file, e);
}

int fc_driver_select(struct fc_ctx *ctx, char *const *types, struct fc_candidate *cands,
		     size_t *ret_n, char *errbuf, size_t errlen)
{
	size_t n = 0;
	if (!types || !*types)
		return errf(errbuf, errlen, -EINVAL, "no driver type allowed");
	for (char *const *t = types; *t && n < _FC_DRIVER_MAX; t++) {
		int d = fc_driver_type_from_string(*t);
		if (d < 0)
			continue;
		struct fc_candidate *c = &cands[n++];
		memset(c, 0, sizeof(*c));
		c->type = d;
		int r = d == FC_DRIVER_MODERN_EBPF
				? fc_driver_check_modern(ctx, c->reason, sizeof(c->reason))
				: kmod_candidate(ctx, c->reason, sizeof(c->reason));
		if (r == 1) {
			c->ok = true;
			*ret_n = n;
			return d;
		}
	}
	*ret_n = n;
	struct strbuf sb;
	strbuf_init(&sb, 4096);
	for (size_t i = 0; i < n; i++)
		strbuf_appendf(&sb, "%s%s: %s", i ? "; " : "",
			       fc_driver_type_to_string(cands[i].type), cands[i].reason);
	errf(errbuf, errlen, -ENODEV, "no supported driver for this kernel: %s", strbuf_str(&sb));
	strbuf_done(&sb);
	return -ENODEV;
}

int fc_driver_artifact(struct fc_ctx *ctx, const struct fc_target *t, struct fc_artifact *ret,
		       char *errbuf, size_t errlen)
{
	const char *name = fc_cfg_str(ctx->cfg, FC_K_DRIVER_NAME);
	const char *ver = fc_cfg_str(ctx->cfg, FC_K_DRIVER_VERSION);
	const char *cache = fc_cfg_str(ctx->cfg, FC_K_DRIVER_CACHEDIR);

	memset(ret, 0, sizeof(*ret));
	if (fc_driver_filename(name, t, ret->file, sizeof(ret->file)) < 0)
		return errf(errbuf, errlen, -ENAMETOOLONG, "artifact name too long");
	if (strchr(ver, '/') || strstr(ver, "..") || strchr(name, '/'))
		return errf(errbuf, errlen, -EINVAL, "invalid driver name or version");
	int w = snprintf(ret->rel, sizeof(ret->rel), "%s/%s/%s/%s", cache, ver, t->arch, ret->file);
	if (w < 0 || (size_t)w >= sizeof(ret->rel) || fc_path(ctx, ret->rel, ret->full) < 0)
		return errf(errbuf, errlen, -ENAMETOOLONG, "cache path too long");
	return 0;
}

static int keys_dir(struct fc_ctx *ctx, char *out)
{
	return fc_path(ctx, fc_cfg_str(ctx->cfg, FC_K_DRIVER_KEYSDIR), out);
}

/* Signature of the list, then the artifact's entry in it. Returns 0 with the expected hex, -errno with text. */
static int verify_list(struct fc_ctx *ctx, const char *sums, size_t sumslen, const char *sig,
		       size_t siglen, const char *file, char want[65], char *key, size_t keylen,
		       char *errbuf, size_t errlen)
{
	char kd[PATH_MAX];
	int r;
	if (keys_dir(ctx, kd) < 0)
		return errf(errbuf, errlen, -ENAMETOOLONG, "keys directory path too long");
	r = fc_sig_verify_dir(kd, sums, sumslen, sig, siglen, key, keylen, errbuf, errlen);
	if (r < 0)
		return errf_prefix(errbuf, errlen, r, "SHA256SUMS signature");
	r = fc_sums_lookup(sums, sumslen, file, want, errbuf, errlen);
	if (r == -ENOENT)
		return errf(errbuf, errlen, -ENOENT, "%s is not listed in the signed SHA256SUMS",
			    file);
	return r;
}

int fc_driver_cache_verify(struct fc_ctx *ctx, const struct fc_artifact *a, char *errbuf,
			   size_t errlen)
{
	char p[PATH_MAX + 32], want[65], have[65], key[256];
	_cleanup_free_ char *sums = NULL, *sig = NULL;
	size_t sumslen, siglen;
	int r;

	if (access(a->full, F_OK) < 0)
		return 0;
	snprintf(p, sizeof(p), "%s" SUMS_SUFFIX, a->full);
	r = read_file(p, SUMS_MAX, &sums, &sumslen, errbuf, errlen);
	if (r < 0)
		return errf(errbuf, errlen, -EBADMSG,
			    "cached %s has no signed checksum list beside it", a->rel);
	snprintf(p, sizeof(p), "%s" SIG_SUFFIX, a->full);
	r = read_file(p, SIG_MAX, &sig, &siglen, errbuf, errlen);
	if (r < 0)
		return errf(errbuf, errlen, -EBADMSG, "cached %s has no signature beside it",
			    a->rel);
	r = verify_list(ctx, sums, sumslen, sig, siglen, a->file, want, key, sizeof(key), errbuf,
			errlen);
	if (r < 0)
		return r;
	r = fc_sha256_file(a->full, fc_cfg_num(ctx->cfg, FC_K_DRIVER_MAXSIZE), have, errbuf,
			   errlen);
	if (r < 0)
		return r;
	if (!streq(have, want))
		return errf(errbuf, errlen, -EBADMSG,
			    "cached %s does not match its signed checksum (%s, expected %s)",
			    a->rel, have, want);
	return 1;
}

static void http_req(struct fc_ctx *ctx, struct fc_http_req *req, const char *url, uint64_t max)
{
	memset(req, 0, sizeof(*req));
	req->url = url;
	req->ca_file = fc_cfg_str(ctx->cfg, FC_K_DRIVER_CAFILE);
	req->allow_http = fc_cfg_bool(ctx->cfg, FC_K_DRIVER_PLAINHTTP);
	req->timeout_s = (unsigned)MAX(fc_cfg_num(ctx->cfg, FC_K_DRIVER_HTTPTIMEOUT) / 1000, 1u);
	req->retries = (unsigned)fc_cfg_num(ctx->cfg, FC_K_DRIVER_HTTPRETRIES);
	req->max_size = max;
}

static void show_progress(void *ud, uint64_t done, uint64_t total)
{
	struct fc_ctx *ctx = ud;
	if (total)
		fc_info(ctx, "Downloaded %llu of %llu KiB (%llu%%)",
			(unsigned long long)(done >> 10), (unsigned long long)(total >> 10),
			(unsigned long long)(done * 100 / total));
	else
		fc_info(ctx, "Downloaded %llu KiB", (unsigned long long)(done >> 10));
}

/* with_progress: a line a second while a long download runs */
static int get(struct fc_ctx *ctx, const char *url, uint64_t max, bool with_progress, char **body,
	       size_t *len, char *errbuf, size_t errlen)
{
	struct fc_http_req req;
	http_req(ctx, &req, url, max);
	if (with_progress) {
		req.progress = show_progress;
		req.progress_ud = ctx;
	}
	return ctx->ops->http.get(ctx->ops->http.data, &req, body, len, errbuf, errlen);
}

/* The folder URL of a repository for this version/arch, and the three URLs in it. */
static int repo_urls(struct fc_ctx *ctx, const char *repo, const char *file, const char *arch,
		     char *sums_url, char *sig_url, char *art_url, size_t len)
{
	const char *ver = fc_cfg_str(ctx->cfg, FC_K_DRIVER_VERSION);
	if (fc_driver_url(repo, ver, arch, file, art_url, len) < 0 ||
	    fc_driver_url(repo, ver, arch, "SHA256SUMS", sums_url, len) < 0 ||
	    fc_driver_url(repo, ver, arch, "SHA256SUMS.sig", sig_url, len) < 0)
		return -ENAMETOOLONG;
	return 0;
}

static const char *arch_of(const struct fc_artifact *a)
{
	/* .../<version>/<arch>/<file>: the arch is the parent folder's name */
	static char arch[64];
	const char *end = strrchr(a->rel, '/'), *start = end;
	while (start > a->rel && start[-1] != '/')
		start--;
	snprintf(arch, sizeof(arch), "%.*s", (int)(end - start), start);
	return arch;
}

int fc_driver_fetch(struct fc_ctx *ctx, const struct fc_artifact *a, bool probe_only, char *errbuf,
		    size_t errlen)
{
	char *const *repos = fc_cfg_list(ctx->cfg, FC_K_DRIVER_REPOS);
	struct strbuf why;
	int r = -ENOENT;

	if (!*repos)
		return errf(
			errbuf, errlen, -ENOENT,
			"no driver repository configured (driver.repos, FALCOCTL_DRIVER_REPOS or "
			"--repo)");
	if (ctx->dry_run && !probe_only) {
		fc_info(ctx,
			"Would download %s from the first of %zu repositories that lists it in a signed SHA256SUMS",
			a->file, fc_strv_len(repos));
		return 0;
	}
	strbuf_init(&why, 16 << 10);
	for (char *const *repo = repos; *repo; repo++) {
		char sums_url[2048], sig_url[2048], art_url[2048], want[65], have[65], key[256],
			e[1024];
		_cleanup_free_ char *sums = NULL, *sig = NULL, *art = NULL;
		size_t sumslen = 0, siglen = 0, artlen = 0;

		if (repo_urls(ctx, *repo, a->file, arch_of(a), sums_url, sig_url, art_url,
			      sizeof(art_url)) < 0) {
			strbuf_appendf(&why, "%s%s: URL too long", why.len ? "; " : "", *repo);
			continue;
		}
		/* 1. the signed list, size-limited, and its signature checked with a pinned key */
		r = get(ctx, sums_url, SUMS_MAX, false, &sums, &sumslen, e, sizeof(e));
		if (r == 0)
			r = get(ctx, sig_url, SIG_MAX, false, &sig, &siglen, e, sizeof(e));
		if (r == 0)
			r = verify_list(ctx, sums, sumslen, sig, siglen, a->file, want, key,
					sizeof(key), e, sizeof(e));
		if (r < 0) {
			if (!probe_only)
				fc_warn(ctx, "DriverRepo", "%s: %s", *repo, e);
			strbuf_appendf(&why, "%s%s: %s", why.len ? "; " : "", *repo, e);
			continue;
		}
		if (probe_only) {
			snprintf(errbuf, errlen, "listed in %s (signed by %s)", *repo, key);
			strbuf_done(&why);
			return 0;
		}
		/* 2. the artifact, size-limited, checked against the list before anything is written */
		fc_info(ctx, "Downloading %s", art_url);
		r = get(ctx, art_url, fc_cfg_num(ctx->cfg, FC_K_DRIVER_MAXSIZE), true, &art,
			&artlen, e, sizeof(e));
		if (r == 0) {
			fc_sha256_hex(art, artlen, have);
			if (!streq(have, want))
				r = errf(e, sizeof(e), -EBADMSG,
					 "%s: checksum mismatch (got %s, the signed list says %s)",
					 a->file, have, want);
		}
		if (r < 0) {
			fc_warn(ctx, "DriverRepo", "%s: %s", *repo, e);
			strbuf_appendf(&why, "%s%s: %s", why.len ? "; " : "", *repo, e);
			continue;
		}
		/* 3. into the cache: proof first, artifact last, so an artifact never sits there unproven */
		char rel[PATH_MAX + 32];
		struct fc_file_spec f = {
			.path = rel, .mode = 0644, .policy = FC_FILE_OWNED, .binary = true};
		snprintf(rel, sizeof(rel), "%s" SUMS_SUFFIX, a->rel);
		f.data = sums, f.len = sumslen;
		r = fc_file_ensure(ctx, &f, errbuf, errlen);
		if (r >= 0) {
			snprintf(rel, sizeof(rel), "%s" SIG_SUFFIX, a->rel);
			f.data = sig, f.len = siglen;
			r = fc_file_ensure(ctx, &f, errbuf, errlen);
		}
		if (r >= 0) {
			snprintf(rel, sizeof(rel), "%s", a->rel);
			f.data = art, f.len = artlen;
			r = fc_file_ensure(ctx, &f, errbuf, errlen);
		}
		strbuf_done(&why);
		if (r < 0)
			return r;
		fc_info(ctx, "Verified %s (sha256 %s, list signed by %s) and cached it as %s",
			a->file, have, key, a->rel);
		return 0;
	}
	errf(errbuf, errlen, -ENOENT, "%s is not available from any repository: %s", a->file,
	     strbuf_str(&why));
	strbuf_done(&why);
	return -ENOENT;
}

int fc_driver_kmod_load(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	const char *name = fc_cfg_str(ctx->cfg, FC_K_DRIVER_NAME);
	enum fc_kmod_state st = FC_KMOD_ABSENT;
	struct fc_target t;
	struct fc_artifact a;
	char reason[512];
	int r;

	if (!ctx->ops->kmod.supported(ctx->ops->kmod.data, reason, sizeof(reason)))
		return errf(errbuf, errlen, -ENOSYS, "%s", reason);
	r = ctx->ops->kmod.state(ctx->ops->kmod.data, name, &st, errbuf, errlen);
	if (r < 0)
		return r;
	if (st == FC_KMOD_LIVE || st == FC_KMOD_BUILTIN) {
		fc_info(ctx, "Kernel module %s is already loaded", name);
		return 0;
	}
	r = fc_driver_target(ctx, &t, errbuf, errlen);
	if (r < 0)
		return r;
	r = fc_driver_artifact(ctx, &t, &a, errbuf, errlen);
	if (r < 0)
		return r;
	r = fc_driver_cache_verify(ctx, &a, errbuf, errlen);
	if (r < 0)
		return errf_prefix(
			errbuf, errlen, r,
			"refusing to load (run 'falcoctl driver cleanup' to drop the cache)");
	if (r == 0) {
		r = fc_driver_fetch(ctx, &a, false, errbuf, errlen);
		if (r < 0)
			return r;
		if (!ctx->dry_run) {
			r = fc_driver_cache_verify(ctx, &a, errbuf, errlen);
			if (r <= 0)
				return r < 0 ? r
					     : errf(errbuf, errlen, -ENOENT,
						    "%s vanished from the cache", a.rel);
		}
	}
	if (ctx->dry_run) {
		fc_info(ctx, "Would load kernel module %s from %s", name, a.rel);
		return 1;
	}
	fc_info(ctx, "Loading kernel module %s from %s", name, a.rel);
	r = ctx->ops->kmod.insert(ctx->ops->kmod.data, a.full, NULL, errbuf, errlen);
	if (r == -EEXIST) {
		fc_info(ctx, "Kernel module %s is already loaded", name);
		return 0;
	}
	if (r < 0)
		return r;
	if (ctx->state) {
		if (fc_state_set(ctx->state, STATE_LOAD, "kmod", name) < 0)
			return errf(errbuf, errlen, -ENOMEM, "out of memory");
		r = fc_commit(ctx, errbuf, errlen);
		if (r < 0)
			return r;
	}
	ctx->changes++;
	return 1;
}

int fc_driver_kmod_unload(struct fc_ctx *ctx, char *errbuf, size_t errlen)
{
	const char *name = fc_cfg_str(ctx->cfg, FC_K_DRIVER_NAME);
	enum fc_kmod_state st = FC_KMOD_ABSENT;
	char reason[512];
	int r;

	if (!ctx->ops->kmod.supported(ctx->ops->kmod.data, reason, sizeof(reason))) {
		fc_info(ctx, "Nothing to unload: %s", reason);
		return 0;
	}
	r = ctx->ops->kmod.state(ctx->ops->kmod.data, name, &st, errbuf, errlen);
	if (r < 0)
		return r;
	if (st == FC_KMOD_ABSENT) {
		fc_info(ctx, "Kernel module %s is not loaded", name);
		goto forget;
	}
	if (st == FC_KMOD_BUILTIN)
		return errf(errbuf, errlen, -EPERM,
			    "%s is built into the kernel and cannot be unloaded", name);
	if (ctx->dry_run) {
		fc_info(ctx, "Would unload kernel module %s", name);
		return 1;
	}
	/* a module still held by a stopping falco goes away within seconds: retry a few times, like upstream */
	for (int i = 0;; i++) {
		r = ctx->ops->kmod.remove(ctx->ops->kmod.data, name, errbuf, errlen);
		if (r == 0 || r == -ENOENT)
			break;
		if ((r != -EBUSY && r != -EAGAIN) || i == 4)
			return r;
		ctx->ops->clock.sleep_ms(ctx->ops->clock.data, 1000);
	}
	fc_info(ctx, "Unloaded kernel module %s", name);
	ctx->changes++;
forget:
	if (ctx->state && !ctx->dry_run && fc_state_get(ctx->state, STATE_LOAD, "kmod")) {
		fc_state_set(ctx->state, STATE_LOAD, "kmod", NULL);
		r = fc_commit(ctx, errbuf, errlen);
		if (r < 0)
			return r;
	}
	return st == FC_KMOD_ABSENT ? 0 : 1;
}
