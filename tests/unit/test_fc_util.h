/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by falcoctl's unit tests (header-only, static): temporary roots, files, a captured reporter,
 * and fake ops tables whose behaviour each test sets. Include after <cmocka.h>.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/fileio.h"
#include "falcoctl/config.h"
#include "falcoctl/fc.h"
#include "falcoctl/state.h"

static int fct_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static inline void fct_rm_rf(const char *dir)
{
	nftw(dir, fct_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static inline char *fct_mkdtemp(void)
{
	char tmpl[] = "/tmp/fc-unit-XXXXXX";
	char *d = mkdtemp(tmpl);
	assert_non_null(d);
	return strdup(d);
}

/* Writes text to root+rel, creating parent directories. */
static inline void fct_write(const char *root, const char *rel, const char *text)
{
	char p[PATH_MAX], dir[PATH_MAX];
	assert_int_equal(path_join_root(root, rel, p, sizeof(p)), 0);
	snprintf(dir, sizeof(dir), "%s", p);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0755, NULL, 0), 0);
	assert_int_equal(write_file_atomic(p, text, strlen(text), 0644, NULL, 0), 0);
}

/* Reads root+rel; NULL when missing. Caller frees. */
static inline char *fct_read(const char *root, const char *rel)
{
	char p[PATH_MAX];
	char *text = NULL;
	assert_int_equal(path_join_root(root, rel, p, sizeof(p)), 0);
	if (read_file(p, 64 << 20, &text, NULL, NULL, 0) < 0)
		return NULL;
	return text;
}

static inline bool fct_exists(const char *root, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	assert_int_equal(path_join_root(root, rel, p, sizeof(p)), 0);
	return lstat(p, &st) == 0;
}

/* A reporter writing into a memory buffer. */
struct fct_rep {
	struct fc_reporter rep;
	char *buf;
	size_t len;
	FILE *f;
};

static inline void fct_rep_init(struct fct_rep *r, enum fc_output mode)
{
	r->buf = NULL;
	r->len = 0;
	r->f = open_memstream(&r->buf, &r->len);
	assert_non_null(r->f);
	fc_reporter_init(&r->rep, r->f, r->f, mode, 1);
}

/* The text reported so far (valid until the next report). */
static inline const char *fct_rep_text(struct fct_rep *r)
{
	fflush(r->f);
	return r->buf ? r->buf : "";
}

static inline void fct_rep_done(struct fct_rep *r)
{
	fclose(r->f);
	free(r->buf);
}

/* ---- fake ops ---------------------------------------------------------------------------------------------- */

struct fct_fake {
	/* probe answers: 1 yes, 0 no */
	int btf, ringbuf, tracing, attach;
	uint64_t caps;
	int port_8765_free, port_9765_free;
	struct fc_uname uname;
	/* kmod */
	bool modules;
	int insert_err, remove_err, remove_busy_times;
	enum fc_kmod_state kstate;
	char inserted[PATH_MAX];
	unsigned inserts, removes;
	/* systemd */
	bool booted;
	unsigned reloads, starts, restarts, stops;
	/* http: a small table of url -> body (NULL body = 404) */
	struct {
		const char *url;
		const char *body;
		size_t len;
		int err;
	} http[16];
	size_t nhttp;
	unsigned gets;
	/* fs: fail (like a killed process) after this many writes; 0 = never */
	unsigned fail_after_writes, writes;
};

static int fct_probe_uname(void *d, struct fc_uname *ret)
{
	*ret = ((struct fct_fake *)d)->uname;
	return 0;
}
#define FCT_PROBE(name, field)                                  \
	static int fct_probe_##name(void *d, char *e, size_t l) \
	{                                                       \
		int v = ((struct fct_fake *)d)->field;          \
		if (!v)                                         \
			snprintf(e, l, "fake: no " #name);      \
		return v;                                       \
	}
FCT_PROBE(btf, btf)
FCT_PROBE(ringbuf, ringbuf)
FCT_PROBE(tracing, tracing)
FCT_PROBE(attach, attach)

static int fct_probe_caps(void *d, uint64_t *ret)
{
	*ret = ((struct fct_fake *)d)->caps;
	return 0;
}

static int fct_probe_port(void *d, uint16_t port, char *e, size_t l)
{
	struct fct_fake *f = d;
	int v = port == 8765 ? f->port_8765_free : f->port_9765_free;
	if (!v)
		snprintf(e, l, "port %u is in use", port);
	return v;
}

static bool fct_kmod_supported(void *d, char *e, size_t l)
{
	if (!((struct fct_fake *)d)->modules)
		snprintf(
			e, l,
			"fake: this kernel was built without loadable module support (CONFIG_MODULES)");
	return ((struct fct_fake *)d)->modules;
}

static int fct_kmod_insert(void *d, const char *path, const char *opt, char *e, size_t l)
{
	struct fct_fake *f = d;
	(void)opt;
	f->inserts++;
	if (f->insert_err) {
		snprintf(e, l, "fake insert error %d", f->insert_err);
		return f->insert_err;
	}
	snprintf(f->inserted, sizeof(f->inserted), "%s", path);
	f->kstate = FC_KMOD_LIVE;
	return 0;
}

static int fct_kmod_remove(void *d, const char *name, char *e, size_t l)
{
	struct fct_fake *f = d;
	(void)name;
	f->removes++;
	if (f->remove_busy_times > 0) {
		f->remove_busy_times--;
		snprintf(e, l, "busy");
		return -EBUSY;
	}
	if (f->remove_err) {
		snprintf(e, l, "fake remove error");
		return f->remove_err;
	}
	f->kstate = FC_KMOD_ABSENT;
	return 0;
}

static int fct_kmod_state(void *d, const char *name, enum fc_kmod_state *ret, char *e, size_t l)
{
	(void)name;
	(void)e;
	(void)l;
	*ret = ((struct fct_fake *)d)->kstate;
	return 0;
}

static bool fct_booted(void *d)
{
	return ((struct fct_fake *)d)->booted;
}

static int fct_reload(void *d, char *e, size_t l)
{
	(void)e;
	(void)l;
	((struct fct_fake *)d)->reloads++;
	return 0;
}

static int fct_start(void *d, const char *unit, unsigned t, char *e, size_t l)
{
	(void)unit, (void)t, (void)e, (void)l;
	((struct fct_fake *)d)->starts++;
	return 0;
}

static int fct_restart(void *d, const char *unit, unsigned t, char *e, size_t l)
{
	(void)unit, (void)t, (void)e, (void)l;
	((struct fct_fake *)d)->restarts++;
	return 0;
}

static int fct_stop(void *d, const char *unit, unsigned t, char *e, size_t l)
{
	(void)unit, (void)t, (void)e, (void)l;
	((struct fct_fake *)d)->stops++;
	return 0;
}

static int fct_status(void *d, const char *unit, struct fc_unit_status *ret, char *e, size_t l)
{
	(void)unit, (void)e, (void)l;
	struct fct_fake *f = d;
	memset(ret, 0, sizeof(*ret));
	ret->active = f->starts > f->stops ? FC_UNIT_ACTIVE : FC_UNIT_INACTIVE;
	snprintf(ret->active_state, sizeof(ret->active_state), "%s",
		 ret->active == FC_UNIT_ACTIVE ? "active" : "inactive");
	return 0;
}

static int fct_http_get(void *d, const struct fc_http_req *req, char **body, size_t *len, char *e,
			size_t l)
{
	struct fct_fake *f = d;
	f->gets++;
	for (size_t i = 0; i < f->nhttp; i++) {
		if (strcmp(f->http[i].url, req->url) != 0)
			continue;
		if (f->http[i].err) {
			snprintf(e, l, "%s: fake error", req->url);
			return f->http[i].err;
		}
		if (!f->http[i].body)
			break;
		if (req->max_size && f->http[i].len > req->max_size) {
			snprintf(e, l, "%s: larger than the limit", req->url);
			return -EFBIG;
		}
		*body = malloc(f->http[i].len + 1);
		memcpy(*body, f->http[i].body, f->http[i].len);
		(*body)[f->http[i].len] = '\0';
		*len = f->http[i].len;
		return 0;
	}
	snprintf(e, l, "%s: HTTP 404 (not found)", req->url);
	return -ENOENT;
}

static inline void fct_http_add(struct fct_fake *f, const char *url, const char *body, size_t len)
{
	assert_true(f->nhttp < 16);
	f->http[f->nhttp].url = url;
	f->http[f->nhttp].body = body;
	f->http[f->nhttp].len = len;
	f->http[f->nhttp].err = 0;
	f->nhttp++;
}

static int fct_write_file(void *d, const char *path, const void *buf, size_t len, mode_t mode,
			  uid_t uid, gid_t gid, char *e, size_t l)
{
	struct fct_fake *f = d;
	if (f->fail_after_writes && ++f->writes > f->fail_after_writes) {
		snprintf(e, l, "fake: killed before writing %s", path);
		return -EINTR;
	}
	return fc_fs_real.write_file(NULL, path, buf, len, mode, uid, gid, e, l);
}

static int fct_run(void *d, const char *const *argv, unsigned t, char **out, char *e, size_t l)
{
	(void)d, (void)t, (void)e, (void)l;
	if (out)
		*out = strdup(strcmp(argv[1] ? argv[1] : "", "--version") == 0
				      ? "Falco version: 9.9.9 (x86_64)\n"
				      : "");
	return 0;
}

static uint64_t fct_now(void *d)
{
	(void)d;
	static uint64_t t;
	return t += 10;
}

static void fct_sleep(void *d, unsigned ms)
{
	(void)d;
	(void)ms;
}

/* Fake ops with everything supported, systemd not booted, no kmod support. */
static inline void fct_fake_init(struct fct_fake *f, struct fc_ops *ops)
{
	memset(f, 0, sizeof(*f));
	f->btf = f->ringbuf = f->tracing = f->attach = 1;
	f->caps = ~0ull;
	f->port_8765_free = f->port_9765_free = 1;
	snprintf(f->uname.release, sizeof(f->uname.release), "6.1.0-18-amd64");
	snprintf(f->uname.version, sizeof(f->uname.version),
		 "#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)");
	snprintf(f->uname.machine, sizeof(f->uname.machine), "x86_64");
	memset(ops, 0, sizeof(*ops));
	ops->fs = fc_fs_real;
	ops->fs.write_file = fct_write_file;
	ops->fs.data = f;
	ops->probe = (struct fc_probe_ops){
		fct_probe_uname,  fct_probe_btf,  fct_probe_ringbuf, fct_probe_tracing,
		fct_probe_attach, fct_probe_caps, fct_probe_port,    f};
	ops->kmod = (struct fc_kmod_ops){fct_kmod_supported, fct_kmod_insert, fct_kmod_remove,
					 fct_kmod_state, f};
	ops->systemd = (struct fc_systemd_ops){fct_booted, fct_reload, fct_start, fct_restart,
					       fct_stop,   fct_status, NULL,	  f};
	ops->http = (struct fc_http_ops){fct_http_get, f};
	ops->proc = (struct fc_proc_ops){fct_run, f};
	ops->clock = (struct fc_clock_ops){fct_now, fct_sleep, f};
}

/* Settings with root set (and anything else as "key=value" pairs applied as flags). */
static inline void fct_settings(struct fc_settings *s, const char *root)
{
	assert_int_equal(fc_settings_init(s), 0);
	if (root)
		assert_int_equal(fc_settings_set(s, FC_K_ROOT, root, FC_SRC_FLAG, "test", NULL, 0),
				 0);
}

static inline void fct_set(struct fc_settings *s, enum fc_key k, const char *v)
{
	char e[256];
	int r = fc_settings_set(s, k, v, FC_SRC_FLAG, "test", e, sizeof(e));
	if (r < 0)
		fail_msg("%s", e);
}

/* A context on root with a state file loaded. */
static inline void fct_ctx(struct fc_ctx *ctx, struct fc_settings *s, struct fc_reporter *rep,
			   const struct fc_ops *ops)
{
	char e[512], p[PATH_MAX];
	assert_int_equal(fc_ctx_init(ctx, s, rep, ops, e, sizeof(e)), 0);
	assert_int_equal(fc_path(ctx, FC_STATE_FILE, p), 0);
	assert_int_equal(fc_state_load(p, &ctx->state, e, sizeof(e)), 0);
}

/* ---- Ed25519 test keys ------------------------------------------------------------------------------------ */

#include <openssl/evp.h>
#include <openssl/pem.h>

static inline EVP_PKEY *fct_keygen(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	assert_non_null(k);
	return k;
}

/* PEM SubjectPublicKeyInfo of k; caller frees. */
static inline char *fct_pubpem(EVP_PKEY *k)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *data, *out;
	assert_int_equal(PEM_write_bio_PUBKEY(b, k), 1);
	long n = BIO_get_mem_data(b, &data);
	out = strndup(data, (size_t)n);
	BIO_free(b);
	return out;
}

/* Raw 64-byte Ed25519 signature of data (what `openssl pkeyutl -sign -rawin` writes). */
static inline void fct_sign(EVP_PKEY *k, const void *data, size_t len, unsigned char sig[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	size_t siglen = 64;
	assert_int_equal(EVP_DigestSignInit(md, NULL, NULL, NULL, k), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, data, len), 1);
	assert_int_equal(siglen, 64);
	EVP_MD_CTX_free(md);
}
