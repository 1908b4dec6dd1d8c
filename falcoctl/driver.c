/* SPDX-License-Identifier: Apache-2.0 */
/* Target ids, artifact names and URLs (upstream's driver loader rules), SHA256SUMS parsing. Non-logging. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "common/fileio.h"
#include "driver.h"

static void copy(char *dst, size_t dstlen, const char *src, size_t n)
{
	n = MIN(n, dstlen - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

int fc_os_release_parse(const char *text, size_t len, struct fc_os_release *ret)
{
	for (size_t off = 0; off < len;) {
		const char *line = text + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - line) : len - off;
		off += ll + 1;
		while (ll && (line[ll - 1] == '\r' || line[ll - 1] == ' ' || line[ll - 1] == '\t'))
			ll--;
		const char *eq = memchr(line, '=', ll);
		if (!eq || line[0] == '#')
			continue;
		size_t kl = (size_t)(eq - line);
		const char *v = eq + 1;
		size_t vl = ll - kl - 1;
		if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
			v++;
			vl -= 2;
		}
		char *dst = NULL;
		size_t dl = 0;
		if (kl == 2 && strncmp(line, "ID", 2) == 0)
			dst = ret->id, dl = sizeof(ret->id);
		else if (kl == 10 && strncmp(line, "VERSION_ID", 10) == 0)
			dst = ret->version_id, dl = sizeof(ret->version_id);
		else if (kl == 10 && strncmp(line, "VARIANT_ID", 10) == 0)
			dst = ret->variant_id, dl = sizeof(ret->variant_id);
		if (!dst)
			continue;
		copy(dst, dl, v, vl);
		if (dst == ret->id) {
			for (char *c = dst; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			ret->found = true;
		}
	}
	return 0;
}

static bool exists_under(const char *root, const char *path)
{
	char full[PATH_MAX];
	return path_join_root(root, path, full, sizeof(full)) == 0 && access(full, F_OK) == 0;
}

/* First x.y.z in s (minikube's /etc/VERSION: "v1.26.0-1655407986-14197" -> "1.26.0"). */
static bool find_xyz(const char *s, char *out, size_t outlen)
{
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p) || (p > s && isdigit((unsigned char)p[-1])))
			continue;
		const char *q = p;
		int dots = 0;
		while (isdigit((unsigned char)*q) ||
		       (*q == '.' && dots < 2 && isdigit((unsigned char)q[1]))) {
			if (*q == '.')
				dots++;
			q++;
		}
		if (dots == 2) {
			copy(out, outlen, p, (size_t)(q - p));
			return true;
		}
	}
	return false;
}

int fc_os_release_discover(const char *root, struct fc_os_release *ret)
{
	static const struct {
		const char *file;
		const char *id;
	} fallbacks[] = {
		{"/etc/centos-release", "centos"},
		{"/etc/redhat-release", "rhel"},
		{"/etc/debian_version", "debian"},
	};
	char full[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	size_t len;

	memset(ret, 0, sizeof(*ret));
	if ((path_join_root(root, "/etc/os-release", full, sizeof(full)) == 0 &&
	     read_file(full, 64 << 10, &text, &len, NULL, 0) == 0) ||
	    (path_join_root(root, "/usr/lib/os-release", full, sizeof(full)) == 0 &&
	     read_file(full, 64 << 10, &text, &len, NULL, 0) == 0))
		fc_os_release_parse(text, len, ret);

	/* minikube: /etc/VERSION holding an x.y.z wins over os-release, as upstream */
	_cleanup_free_ char *ver = NULL;
	if (path_join_root(root, "/etc/VERSION", full, sizeof(full)) == 0 &&
	    read_file(full, 4096, &ver, &len, NULL, 0) == 0 &&
	    find_xyz(ver, ret->minikube, sizeof(ret->minikube))) {
		snprintf(ret->id, sizeof(ret->id), "minikube");
		ret->found = true;
	}
	for (size_t i = 0; !ret->found && i < ARRAY_SIZE(fallbacks); i++)
		if (exists_under(root, fallbacks[i].file)) {
			snprintf(ret->id, sizeof(ret->id), "%s", fallbacks[i].id);
			ret->found = true;
		}
	return 0;
}

/* The part of a kernel release after "x.y[.z]" ("6.1.0-18-amd64" -> "-18-amd64"). */
static const char *full_extraversion(const char *release)
{
	const char *p = release;
	for (int part = 0; part < 3; part++) {
		if (!isdigit((unsigned char)*p))
			break;
		while (isdigit((unsigned char)*p))
			p++;
		if (part < 2 && *p == '.' && isdigit((unsigned char)p[1]))
			p++;
		else
			break;
	}
	return p;
}

/* upstream's formatVersion: "#1 SMP PREEMPT_DYNAMIC …" -> "1", "#26~22.04.1-Ubuntu SMP …" -> "26~22.04.1-Ubuntu" */
static void format_version(const char *kv, char *out, size_t outlen)
{
	while (*kv == '#')
		kv++;
	size_t n = strcspn(kv, " ");
	while (n && kv[n - 1] == '#')
		n--;
	copy(out, outlen, kv, n);
}

/* ubuntu flavor: the first "-letters" followed by '-' or the end ("-1028-aws-5.0" -> "aws"). */
static bool ubuntu_flavor(const char *extra, char *out, size_t outlen)
{
	for (const char *p = extra; (p = strchr(p, '-')); p++) {
		const char *q = p + 1;
		while (isalpha((unsigned char)*q))
			q++;
		if (q > p + 1 && (*q == '\0' || *q == '-')) {
			copy(out, outlen, p + 1, (size_t)(q - p - 1));
			return true;
		}
	}
	return false;
}

/* debian: the first "\d+.\d+.\d+-\d+" in s. */
static bool debian_real_release(const char *s, char *out, size_t outlen)
{
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p) || (p > s && isdigit((unsigned char)p[-1])))
			continue;
		const char *q = p;
		int groups = 0;
		for (;;) {
			const char *start = q;
			while (isdigit((unsigned char)*q))
				q++;
			if (q == start)
				break;
			groups++;
			if (groups < 3 && *q == '.')
				q++;
			else if (groups == 3 && *q == '-' && isdigit((unsigned char)q[1]))
				q++;
			else
				break;
		}
		if (groups == 4) {
			copy(out, outlen, p, (size_t)(q - p));
			return true;
		}
	}
	return false;
}

int fc_target_compute(const struct fc_os_release *os, const char *release, const char *version,
		      const char *arch, struct fc_target *ret, char *errbuf, size_t errlen)
{
	const char *id = os->found && os->id[0] ? os->id : "undetermined";
	const char *extra = full_extraversion(release);
	int w;

	memset(ret, 0, sizeof(*ret));
	if (!release[0])
		return errf(errbuf, errlen, -EINVAL, "empty kernel release");
	snprintf(ret->kernel_release, sizeof(ret->kernel_release), "%s", release);
	snprintf(ret->kernel_version, sizeof(ret->kernel_version), "%s", version);
	snprintf(ret->arch, sizeof(ret->arch), "%s", arch);
	snprintf(ret->fixed_release, sizeof(ret->fixed_release), "%s", release);
	format_version(version, ret->fixed_version, sizeof(ret->fixed_version));
	w = snprintf(ret->target_id, sizeof(ret->target_id), "%s", id);

	if (streq(id, "ubuntu")) {
		char flavor[64] = "generic";
		ubuntu_flavor(extra, flavor, sizeof(flavor));
		w = snprintf(ret->target_id, sizeof(ret->target_id), "ubuntu-%s", flavor);
		size_t n = strlen(ret->fixed_version);
		if (n >= 7 && streq(ret->fixed_version + n - 7, "-Ubuntu"))
			ret->fixed_version[n - 7] = '\0';
	} else if (streq(id, "debian")) {
		/* Debian's release names the ABI package; the real release is in uname -v */
		char real[64], arch_extra[32] = "";
		const char *a =
			strstr(extra, "amd64") ? strstr(extra, "amd64") : strstr(extra, "arm64");
		if (a) {
			const char *flavor = "";
			if (a - extra >= 3 && strncmp(a - 3, "rt-", 3) == 0)
				flavor = "rt-";
			else if (a - extra >= 6 && strncmp(a - 6, "cloud-", 6) == 0)
				flavor = "cloud-";
			snprintf(arch_extra, sizeof(arch_extra), "-%s%.5s", flavor, a);
		}
		if (debian_real_release(version, real, sizeof(real))) {
			snprintf(ret->fixed_release, sizeof(ret->fixed_release), "%s%s", real,
				 arch_extra);
			snprintf(ret->fixed_version, sizeof(ret->fixed_version), "1");
		}
	} else if (streq(id, "amzn")) {
		const char *v = os->version_id;
		if (streq(v, "2") || streq(v, "2022") || streq(v, "2023"))
			w = snprintf(ret->target_id, sizeof(ret->target_id), "amazonlinux%s", v);
		else
			w = snprintf(ret->target_id, sizeof(ret->target_id), "amazonlinux");
	} else if (streq(id, "bottlerocket")) {
		if (!os->version_id[0] || !os->variant_id[0])
			return errf(errbuf, errlen, -EINVAL,
				    "bottlerocket os-release needs VERSION_ID and VARIANT_ID");
		size_t vl = strcspn(os->variant_id, "-");
		snprintf(ret->fixed_version, sizeof(ret->fixed_version), "1_%s-%.*s",
			 os->version_id, (int)vl, os->variant_id);
	} else if (streq(id, "minikube")) {
		snprintf(ret->fixed_version, sizeof(ret->fixed_version), "1_%s", os->minikube);
	} else if (streq(id, "talos")) {
		snprintf(ret->fixed_version, sizeof(ret->fixed_version), "1_%s", os->version_id);
	} else if (streq(id, "flatcar")) {
		if (os->version_id[0])
			snprintf(ret->fixed_release, sizeof(ret->fixed_release), "%s",
				 os->version_id);
	}
	if (w < 0 || (size_t)w >= sizeof(ret->target_id))
		return errf(errbuf, errlen, -ENAMETOOLONG, "target id too long");
	return 0;
}

int fc_driver_filename(const char *name, const struct fc_target *t, char *out, size_t outlen)
{
	int w = snprintf(out, outlen, "%s_%s_%s_%s.ko", name, t->target_id, t->fixed_release,
			 t->fixed_version);
	return w < 0 || (size_t)w >= outlen ? -ENAMETOOLONG : 0;
}

int fc_url_escape(const char *s, char *out, size_t outlen)
{
	static const char hexd[] = "0123456789ABCDEF";
	size_t o = 0;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (o + 4 > outlen)
			return -ENAMETOOLONG;
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			out[o++] = (char)*p;
		} else if (*p == ' ') {
			out[o++] = '+';
		} else {
			out[o++] = '%';
			out[o++] = hexd[*p >> 4];
			out[o++] = hexd[*p & 15];
		}
	}
	if (o >= outlen)
		return -ENAMETOOLONG;
	out[o] = '\0';
	return 0;
}

int fc_driver_url(const char *repo, const char *version, const char *arch, const char *file,
		  char *out, size_t outlen)
{
	char ver[256];
	size_t rl = strlen(repo);
	while (rl && repo[rl - 1] == '/')
		rl--;
	if (fc_url_escape(version, ver, sizeof(ver)) < 0)
		return -ENAMETOOLONG;
	int w = snprintf(out, outlen, "%.*s/%s/%s/%s", (int)rl, repo, ver, arch, file);
	return w < 0 || (size_t)w >= outlen ? -ENAMETOOLONG : 0;
}

int fc_sums_lookup(const char *sums, size_t len, const char *file, char ret[65], char *errbuf,
		   size_t errlen)
{
	unsigned lineno = 0;
	size_t flen = strlen(file);
	for (size_t off = 0; off < len;) {
		const char *line = sums + off;
		const char *nl = memchr(line, '\n', len - off);
		size_t ll = nl ? (size_t)(nl - line) : len - off;
		off += ll + 1;
		lineno++;
		if (ll && line[ll - 1] == '\r')
			ll--;
		if (ll == 0 || line[0] == '#')
			continue;
		/* "<64 hex><space><space or *><name>" (coreutils sha256sum, text or binary mode) */
		if (ll < 67 || line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
			return errf(errbuf, errlen, -EINVAL, "SHA256SUMS:%u: malformed line",
				    lineno);
		for (int i = 0; i < 64; i++)
			if (!isxdigit((unsigned char)line[i]))
				return errf(errbuf, errlen, -EINVAL,
					    "SHA256SUMS:%u: malformed checksum", lineno);
		const char *name = line + 66;
		size_t nl2 = ll - 66;
		if (nl2 == flen && memcmp(name, file, flen) == 0) {
			for (int i = 0; i < 64; i++)
				ret[i] = (char)tolower((unsigned char)line[i]);
			ret[64] = '\0';
			return 0;
		}
	}
	return -ENOENT;
}
