/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>

#include "err.h"

int verrf(char *errbuf, size_t errlen, int err, const char *fmt, va_list ap)
{
	if (!errbuf || errlen == 0)
		return err;
	int n = vsnprintf(errbuf, errlen, fmt, ap);
	if (n >= 0 && (size_t)n >= errlen && errlen > 4)
		memcpy(errbuf + errlen - 4, "...", 4);
	return err;
}

int errf(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verrf(errbuf, errlen, err, fmt, ap);
	va_end(ap);
	return err;
}

int errf_prefix(char *errbuf, size_t errlen, int err, const char *fmt, ...)
{
	char prefix[512];
	va_list ap;

	if (!errbuf || errlen == 0)
		return err;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);

	size_t plen = strlen(prefix), mlen = strnlen(errbuf, errlen - 1);
	if (plen + 2 >= errlen)
		return errf(errbuf, errlen, err, "%s", prefix);
	/* Shift the existing message right to make room for "prefix: ". */
	size_t keep = MIN(mlen, errlen - 1 - plen - 2);
	memmove(errbuf + plen + 2, errbuf, keep);
	memcpy(errbuf, prefix, plen);
	memcpy(errbuf + plen, ": ", 2);
	errbuf[plen + 2 + keep] = '\0';
	return err;
}
