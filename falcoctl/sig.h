/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signed checksum lists for driver repositories. A repository publishes, per <version>/<arch>/ folder:
 *   SHA256SUMS      lines "<sha256 hex>  <file name>" (coreutils sha256sum output)
 *   SHA256SUMS.sig  the raw 64-byte Ed25519 signature of SHA256SUMS, exactly as written by
 *                   `openssl pkeyutl -sign -rawin -inkey repo.key -in SHA256SUMS -out SHA256SUMS.sig`
 * falcoctl trusts a list only when a public key pinned in keysDir (every *.pem in /etc/falcoctl/keys, PEM
 * SubjectPublicKeyInfo from `openssl pkey -in repo.key -pubout`) verifies it; keys are never fetched. Key files
 * and their directory must not be writable by group or others (like signify's /etc/signify). Non-logging;
 * OpenSSL's error queue is drained into errbuf.
 */
#pragma once

#include <stddef.h>

#define FC_SIG_LEN 64

/* Verifies sig over data with one PEM public key. 0, -EBADMSG (does not verify), -EINVAL (bad key or length). */
int fc_sig_verify(const char *pem, size_t pemlen, const void *data, size_t len, const void *sig,
		  size_t siglen, char *errbuf, size_t errlen);

/*
 * Tries each *.pem of keys_dir in name order. 0 with the key's file name in ret_key; -ENOKEY when the
 * directory holds no usable key; -EBADMSG when no key verifies; -EPERM when a key file or the directory is
 * group/world-writable; -EINVAL for a signature of the wrong length.
 */
int fc_sig_verify_dir(const char *keys_dir, const void *data, size_t len, const void *sig,
		      size_t siglen, char *ret_key, size_t keylen, char *errbuf, size_t errlen);
