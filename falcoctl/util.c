/* SPDX-License-Identifier: Apache-2.0 */
/* Small helpers: SHA-256, string lists, versions, driver type names, the context. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "common/fileio.h"
#include "config.h"
#include "fc.h"
#include "state.h"

static const char *const driver_names[_FC_DRIVER_MAX] = {
	[FC_DRIVER_MODERN_EBPF] = "modern_ebpf",
	[FC_DRIVER_KMOD] = "kmod",
};

static const char *const driver_units[_FC_DRIVER_MAX] = {
	[FC_DRIVER_MODERN_EBPF] = "falco-modern-bpf.service",
	[FC_DRIVER_KMOD] = "falco-kmod.service",
};

const char *fc_driver_type_to_string(enum fc_driver_type t)
{
	return (unsigned)t < _FC_DRIVER_MAX ? driver_names[t] : NULL;
}

int fc_driver_type_from_string(const char *s)
{
	if (!s)
		return _FC_DRIVER_INVALID;
	if (streq(s, "modern_ebpf") || streq(s, "modern-bpf") || streq(s, "modern_bpf"))
		return FC_DRIVER_MODERN_EBPF;
	if (streq(s, "kmod"))
		return FC_DRIVER_KMOD;
	return _FC_DRIVER_INVALID;
}

const char *fc_driver_unit(enum fc_driver_type t)
{
	return (unsigned)t < _FC_DRIVER_MAX ? driver_units[t] : NULL;
}

static void hex(const unsigned char *d, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 15];
	}
	out[2 * n] = '\0';
}

void fc_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32) {
		out[0] = '\0';
		return;
	}
	hex(md, 32, out);
}

int fc_sha256_file(const char *path, uint64_t max, char out[65], char *errbuf, size_t errlen)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	unsigned char buf[65536], md[32];
	unsigned int mdlen = 0;
	uint64_t total = 0;
	int r = 0;

	if (fd < 0)
		return errf(errbuf, errlen, -errno, "cannot open '%s': %s", path, strerror(errno));
	EVP_MD_CTX *md_ctx = EVP_MD_CTX_new();
	if (!md_ctx || !EVP_DigestInit_ex(md_ctx, EVP_sha256(), NULL)) {
		EVP_MD_CTX_free(md_ctx);
		return errf(errbuf, errlen, -ENOMEM, "cannot initialise SHA-256");
	}
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = errf(errbuf, errlen, -errno, "cannot read '%s': %s", path,
				 strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		total += (uint64_t)n;
		if (max && total > max) {
			r = errf(errbuf, errlen, -EFBIG, "'%s' is larger than %llu bytes", path,
				 (unsigned long long)max);
			goto out;
		}
		EVP_DigestUpdate(md_ctx, buf, (size_t)n);
	}
	if (!EVP_DigestFinal_ex(md_ctx, md, &mdlen) || mdlen != 32) {
		r = errf(errbuf, errlen, -EIO, "SHA-256 failed");
		goto out;
	}
	hex(md, 32, out);
out:
	EVP_MD_CTX_free(md_ctx);
	return r;
}

char **fc_split_list(const char *s)
{
	size_t n = 0, cap = 4;
	char **v = calloc(cap, sizeof(char *));
	if (!v)
		return NULL;
	for (const char *p = s ? s : ""; *p;) {
		size_t len = strcspn(p, ",;");
		const char *b = p, *e = p + len;
		while (b < e && (*b == ' ' || *b == '\t' || *b == '\n'))
			b++;
		while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
			e--;
		if (e > b) {
			if (n + 2 > cap) {
				char **nv = realloc(v, (cap *= 2) * sizeof(char *));
				if (!nv)
					return fc_strv_free(v);
				v = nv;
			}
			v[n] = strndup(b, (size_t)(e - b));
			if (!v[n])
				return fc_strv_free(v);
			v[++n] = NULL;
		}
		p += len;
		if (*p)
			p++;
	}
	return v;
}

char **fc_strv_free(char **v)
{
	for (char **p = v; p && *p; p++)
		free(*p);
	free(v);
	return NULL;
}

size_t fc_strv_len(char *const *v)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	return n;
}

bool fc_strv_contains(char *const *v, const char *s)
{
	for (; v && *v; v++)
		if (streq(*v, s))
			return true;
	return false;
}

char **fc_strv_copy(char *const *v)
{
	size_t n = fc_strv_len(v);
	char **c = calloc(n + 1, sizeof(char *));
	if (!c)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (!(c[i] = strdup(v[i])))
			return fc_strv_free(c);
	return c;
}

int fc_parse_version(const char *s, unsigned ret[3])
{
	unsigned v[3] = {0, 0, 0};
	const char *p = s;
	for (int i = 0; i < 3; i++) {
		if (*p < '0' || *p > '9')
			return i == 0 ? -EINVAL : (memcpy(ret, v, sizeof(v)), 0);
		char *end;
		unsigned long n = strtoul(p, &end, 10);
		v[i] = (unsigned)n;
		p = end;
		if (*p != '.')
			break;
		p++;
	}
	memcpy(ret, v, sizeof(v));
	return 0;
}

int fc_self_exe(char *out, size_t outlen)
{
	ssize_t n = readlink("/proc/self/exe", out, outlen - 1);
	if (n < 0)
		return -errno;
	if ((size_t)n >= outlen - 1)
		return -ENAMETOOLONG;
	out[n] = '\0';
	return 0;
}

int fc_ctx_init(struct fc_ctx *ctx, struct fc_settings *cfg, struct fc_reporter *rep,
		const struct fc_ops *ops, char *errbuf, size_t errlen)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	ctx->rep = rep;
	ctx->ops = ops;
	ctx->driver = -1;
	ctx->root = fc_cfg_str(cfg, FC_K_ROOT);
	if (!ctx->root || ctx->root[0] != '/')
		return errf(errbuf, errlen, -EINVAL, "--root must be an absolute path, got '%s'",
			    ctx->root ? ctx->root : "");
	/* "/", "//" and "/./" all mean the running host */
	ctx->host = strspn(ctx->root, "/.") == strlen(ctx->root);
	ctx->dry_run = fc_cfg_bool(cfg, FC_K_DRY_RUN);
	if (fc_self_exe(ctx->self_exe, sizeof(ctx->self_exe)) < 0)
		ctx->self_exe[0] = '\0';
	return 0;
}

void fc_ctx_done(struct fc_ctx *ctx)
{
	ctx->state = fc_state_free(ctx->state);
}

void fc_mark_restart(struct fc_ctx *ctx)
{
	ctx->restart_needed = true;
	if (ctx->dry_run || !ctx->host || !ctx->state ||
	    fc_state_get(ctx->state, "start", "pending"))
		return;
	if (fc_state_set(ctx->state, "start", "pending", "restart") == 0)
		(void)fc_state_save(ctx->state, &ctx->ops->fs, NULL, 0);
}

int fc_path(const struct fc_ctx *ctx, const char *path, char *out)
{
	return path_join_root(ctx->host ? "/" : ctx->root, path, out, PATH_MAX);
}
