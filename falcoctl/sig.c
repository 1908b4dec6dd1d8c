/* SPDX-License-Identifier: Apache-2.0 */
/* Ed25519 verification of SHA256SUMS with pinned keys (OpenSSL). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "common/err.h"
#include "common/fileio.h"
#include "fc.h"
#include "sig.h"

static int ssl_errf(char *errbuf, size_t errlen, int err, const char *what)
{
	char reason[256] = "";
	unsigned long e, last = 0;
	while ((e = ERR_get_error()))
		last = e;
	if (last)
		ERR_error_string_n(last, reason, sizeof(reason));
	return errf(errbuf, errlen, err, "%s%s%s", what, reason[0] ? ": " : "", reason);
}

int fc_sig_verify(const char *pem, size_t pemlen, const void *data, size_t len, const void *sig,
		  size_t siglen, char *errbuf, size_t errlen)
{
	EVP_PKEY *key = NULL;
	EVP_MD_CTX *md = NULL;
	BIO *bio;
	int r;

	if (siglen != FC_SIG_LEN)
		return errf(errbuf, errlen, -EINVAL,
			    "signature is %zu bytes, expected %d (raw Ed25519)", siglen,
			    FC_SIG_LEN);
	bio = BIO_new_mem_buf(pem, (int)pemlen);
	if (!bio)
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	key = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (!key)
		return ssl_errf(errbuf, errlen, -EINVAL, "not a PEM public key");
	if (EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
		r = errf(errbuf, errlen, -EINVAL, "key is not an Ed25519 key");
		goto out;
	}
	md = EVP_MD_CTX_new();
	if (!md || EVP_DigestVerifyInit(md, NULL, NULL, NULL, key) != 1) {
		r = ssl_errf(errbuf, errlen, -EINVAL, "cannot initialise Ed25519 verification");
		goto out;
	}
	r = EVP_DigestVerify(md, sig, siglen, data, len);
	if (r == 1)
		r = 0;
	else
		r = ssl_errf(errbuf, errlen, -EBADMSG, "signature does not verify");
out:
	ERR_clear_error();
	EVP_MD_CTX_free(md);
	EVP_PKEY_free(key);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int fc_sig_verify_dir(const char *keys_dir, const void *data, size_t len, const void *sig,
		      size_t siglen, char *ret_key, size_t keylen, char *errbuf, size_t errlen)
{
	char *names[64];
	size_t n = 0;
	struct stat st;
	struct dirent *de;
	int r = -ENOKEY;
	char last[512] = "";

	if (siglen != FC_SIG_LEN)
		return errf(errbuf, errlen, -EINVAL,
			    "signature is %zu bytes, expected %d (raw Ed25519)", siglen,
			    FC_SIG_LEN);
	if (stat(keys_dir, &st) < 0)
		return errf(errbuf, errlen, -ENOKEY, "no pinned keys: cannot open '%s': %s",
			    keys_dir, strerror(errno));
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return errf(errbuf, errlen, -EPERM,
			    "refusing keys in '%s': the directory is writable by others", keys_dir);
	DIR *d = opendir(keys_dir);
	if (!d)
		return errf(errbuf, errlen, -ENOKEY, "no pinned keys: cannot open '%s': %s",
			    keys_dir, strerror(errno));
	while ((de = readdir(d)) && n < ARRAY_SIZE(names)) {
		size_t l = strlen(de->d_name);
		if (l <= 4 || !streq(de->d_name + l - 4, ".pem") || de->d_name[0] == '.')
			continue;
		if (!(names[n] = strdup(de->d_name)))
			break;
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);

	for (size_t i = 0; i < n; i++) {
		char path[PATH_MAX], e[256];
		_cleanup_free_ char *pem = NULL;
		size_t pemlen;
		snprintf(path, sizeof(path), "%s/%s", keys_dir, names[i]);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		if (st.st_mode & (S_IWGRP | S_IWOTH)) {
			r = errf(errbuf, errlen, -EPERM,
				 "refusing key '%s': writable by group or others", path);
			goto out;
		}
		if (read_file(path, 16 << 10, &pem, &pemlen, e, sizeof(e)) < 0)
			continue;
		int k = fc_sig_verify(pem, pemlen, data, len, sig, siglen, e, sizeof(e));
		if (k == 0) {
			if (ret_key)
				snprintf(ret_key, keylen, "%s", names[i]);
			r = 0;
			goto out;
		}
		snprintf(last, sizeof(last), "%s: %s", names[i], e);
		if (k == -EBADMSG || r == -ENOKEY)
			r = k == -EBADMSG ? -EBADMSG : r;
	}
	if (r == -ENOKEY)
		errf(errbuf, errlen, -ENOKEY, "no usable Ed25519 key (*.pem) in '%s'%s%s", keys_dir,
		     last[0] ? "; " : "", last);
	else
		errf(errbuf, errlen, r, "no pinned key in '%s' verifies the signature (%s)",
		     keys_dir, last);
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return r;
}
