/* SPDX-License-Identifier: Apache-2.0 */
/* OpenSSL and libevent_openssl on demand: see tls_dl.h. */
#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#define TLS_DL_NO_REDIRECT
#include "common/err.h"
#include "tls_dl.h"

struct tls_dl tls_dl;
static pthread_once_t tls_once = PTHREAD_ONCE_INIT;
static bool tls_ok;
static char tls_err[256];

static void load_once(void)
{
	/* libevent_openssl needs libssl, which needs libcrypto: one dlopen maps all three */
	void *h = dlopen("libevent_openssl-2.1.so.7", RTLD_NOW | RTLD_LOCAL);

	if (!h) {
		snprintf(tls_err, sizeof(tls_err), "cannot load OpenSSL for TLS: %s", dlerror());
		return;
	}
	/* dlsym on a handle searches its dependencies too (libssl, libcrypto) */
#define TLS_DL_SYM(f)                                                                         \
	if (!(*(void **)&tls_dl.f = dlsym(h, #f))) {                                          \
		snprintf(tls_err, sizeof(tls_err), "cannot load OpenSSL for TLS: no %s", #f); \
		return;                                                                       \
	}
	TLS_DL_FUNCS(TLS_DL_SYM)
#undef TLS_DL_SYM
	tls_ok = true; /* never unloaded */
}

int tls_dl_load(char *errbuf, size_t errlen)
{
	pthread_once(&tls_once, load_once);
	return tls_ok ? 0 : errf(errbuf, errlen, -ENOENT, "%s", tls_err);
}
