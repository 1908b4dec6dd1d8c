/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capture file blocks and TLV attributes. See capture.h and docs/CAPTURE_FORMAT.md.
 *
 * Layout: a 64-byte header, then blocks. A block is u32 type, u32 body length, the body, and zero padding to a
 * multiple of 8 bytes. The last block is END, whose body counts the blocks and events before it. Everything is in
 * the writer's byte order, which the header's byte-order word lets a reader check.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "common/macro.h"
#include "capture.h"

#define WBUF_SIZE (256u * 1024u)
#define RBUF_SIZE (CAP_MAX_BLOCK + 64u * 1024u)
#define PAD8(n)	  (((n) + 7u) & ~(size_t)7u)

static const char *const block_names[_CAP_B_MAX] = {
	[CAP_B_EVENT] = "event",
	[CAP_B_PROC] = "proc",
	[CAP_B_FD] = "fd",
	[CAP_B_USER] = "user",
	[CAP_B_CONTAINER] = "container",
	[CAP_B_PROC_ENV] = "proc_env",
	[CAP_B_PURGE] = "purge",
	[CAP_B_SNAPSHOT_END] = "snapshot_end",
	[CAP_B_END] = "end",
};

const char *cap_block_name(uint32_t type)
{
	return type < _CAP_B_MAX && block_names[type] ? block_names[type] : "unknown";
}

/* ---- TLV ---- */

void cap_tlv_init(struct cap_tlv *t, uint8_t *buf, size_t cap)
{
	t->buf = buf;
	t->cap = cap;
	t->len = 0;
	t->failed = false;
}

void cap_tlv_bytes(struct cap_tlv *t, uint16_t tag, const void *p, size_t n)
{
	uint16_t l = (uint16_t)n;

	if (n > UINT16_MAX || t->len + 4 + n > t->cap) {
		t->failed = true;
		return;
	}
	memcpy(t->buf + t->len, &tag, 2);
	memcpy(t->buf + t->len + 2, &l, 2);
	if (n)
		memcpy(t->buf + t->len + 4, p, n);
	t->len += 4 + n;
}

void cap_tlv_u8(struct cap_tlv *t, uint16_t tag, uint8_t v)
{
	cap_tlv_bytes(t, tag, &v, 1);
}

void cap_tlv_u16(struct cap_tlv *t, uint16_t tag, uint16_t v)
{
	cap_tlv_bytes(t, tag, &v, 2);
}

void cap_tlv_u32(struct cap_tlv *t, uint16_t tag, uint32_t v)
{
	cap_tlv_bytes(t, tag, &v, 4);
}

void cap_tlv_u64(struct cap_tlv *t, uint16_t tag, uint64_t v)
{
	cap_tlv_bytes(t, tag, &v, 8);
}

void cap_tlv_str(struct cap_tlv *t, uint16_t tag, const char *s, size_t n)
{
	if (s)
		cap_tlv_bytes(t, tag, s, MIN(n, (size_t)UINT16_MAX));
}

void cap_tlv_it_init(struct cap_tlv_it *it, const void *body, size_t len)
{
	it->start = it->p = body;
	it->end = it->p + len;
}

int cap_tlv_next(struct cap_tlv_it *it, uint16_t *ret_tag, const uint8_t **ret_val,
		 uint16_t *ret_len, size_t *ret_off)
{
	uint16_t tag, len;

	*ret_off = (size_t)(it->p - it->start);
	if (it->p == it->end)
		return 0;
	if ((size_t)(it->end - it->p) < 4)
		return -EBADMSG;
	memcpy(&tag, it->p, 2);
	memcpy(&len, it->p + 2, 2);
	if ((size_t)(it->end - it->p) - 4 < len)
		return -EBADMSG;
	*ret_tag = tag;
	*ret_len = len;
	*ret_val = it->p + 4;
	it->p += 4 + len;
	return 1;
}

bool cap_val_u8(const uint8_t *v, uint16_t len, uint8_t *ret)
{
	if (len != 1)
		return false;
	*ret = v[0];
	return true;
}

bool cap_val_u16(const uint8_t *v, uint16_t len, uint16_t *ret)
{
	if (len != 2)
		return false;
	memcpy(ret, v, 2);
	return true;
}

bool cap_val_u32(const uint8_t *v, uint16_t len, uint32_t *ret)
{
	if (len != 4)
		return false;
	memcpy(ret, v, 4);
	return true;
}

bool cap_val_u64(const uint8_t *v, uint16_t len, uint64_t *ret)
{
	if (len != 8)
		return false;
	memcpy(ret, v, 8);
	return true;
}

/* ---- writer ---- */

struct cap_writer {
	int fd;
	char *path;
	uint8_t *buf;
	size_t len;
	uint64_t bytes, nblocks, nevents;
	int err;
	char errmsg[256];
};

static int w_flush(struct cap_writer *w)
{
	size_t off = 0;

	while (off < w->len) {
		ssize_t n = write(w->fd, w->buf + off, w->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			w->err = n < 0 ? -errno : -EIO;
			snprintf(w->errmsg, sizeof(w->errmsg), "write '%s': %s", w->path,
				 strerror(-w->err));
			w->err = -EIO;
			return w->err;
		}
		off += (size_t)n;
	}
	w->len = 0;
	return 0;
}

static int w_put(struct cap_writer *w, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		if (w->len == WBUF_SIZE && w_flush(w) < 0)
			return w->err;
		size_t k = MIN(n, WBUF_SIZE - w->len);
		memcpy(w->buf + w->len, b, k);
		w->len += k;
		b += k;
		n -= k;
	}
	return 0;
}

int cap_writer_open(const char *path, uint32_t driver_abi, struct cap_writer **ret, char *errbuf,
		    size_t errlen)
{
	struct cap_writer *w = calloc(1, sizeof(*w));
	uint8_t h[CAP_HEADER_LEN] = {0};
	struct timespec ts;

	if (!w || !(w->buf = malloc(WBUF_SIZE)) || !(w->path = strdup(path))) {
		if (w)
			free(w->buf);
		free(w);
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (w->fd < 0) {
		int e = -errno;
		free(w->buf);
		free(w->path);
		free(w);
		return errf(errbuf, errlen, e, "cannot create '%s': %s", path, strerror(-e));
	}
	uint16_t major = CAP_VERSION_MAJOR, minor = CAP_VERSION_MINOR;
	uint32_t hlen = CAP_HEADER_LEN, bo = CAP_BYTE_ORDER;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	memcpy(h, CAP_MAGIC, CAP_MAGIC_LEN);
	memcpy(h + 8, &major, 2);
	memcpy(h + 10, &minor, 2);
	memcpy(h + 12, &hlen, 4);
	memcpy(h + 16, &bo, 4);
	memcpy(h + 20, &driver_abi, 4);
	memcpy(h + 24, &now, 8);
	(void)w_put(w, h, sizeof(h));
	w->bytes = sizeof(h);
	*ret = w;
	return 0;
}

int cap_write_block(struct cap_writer *w, uint32_t type, const void *body, size_t len)
{
	static const uint8_t zeros[8];
	uint32_t hdr[2] = {type, (uint32_t)len};

	if (w->err)
		return w->err;
	if (len > CAP_MAX_BLOCK)
		return -E2BIG;
	if (w_put(w, hdr, sizeof(hdr)) < 0 || w_put(w, body, len) < 0 ||
	    w_put(w, zeros, PAD8(len) - len) < 0)
		return w->err;
	w->bytes += 8 + PAD8(len);
	w->nblocks++;
	if (type == CAP_B_EVENT)
		w->nevents++;
	return 0;
}

uint64_t cap_writer_bytes(const struct cap_writer *w)
{
	return w ? w->bytes : 0;
}

const char *cap_writer_error(const struct cap_writer *w)
{
	return w && w->err ? w->errmsg : NULL;
}

int cap_writer_close(struct cap_writer *w, char *errbuf, size_t errlen)
{
	int r = 0;

	if (!w)
		return 0;
	uint64_t counts[2] = {w->nblocks, w->nevents};
	(void)cap_write_block(w, CAP_B_END, counts, sizeof(counts));
	if (!w->err)
		(void)w_flush(w);
	if (w->err) {
		r = errf(errbuf, errlen, w->err, "%s", w->errmsg);
	} else if (fsync(w->fd) < 0 && errno != EINVAL) {
		r = errf(errbuf, errlen, -errno, "fsync '%s': %s", w->path, strerror(errno));
	}
	if (close(w->fd) < 0 && r == 0)
		r = errf(errbuf, errlen, -errno, "close '%s': %s", w->path, strerror(errno));
	free(w->buf);
	free(w->path);
	free(w);
	return r;
}

/* ---- reader ---- */

struct cap_reader {
	int fd;
	uint8_t *buf;
	size_t start, end; /* unread bytes are buf[start..end) */
	uint64_t off;	   /* file offset of buf[start] */
	bool eof, done;
	uint64_t nblocks, nevents;
	struct cap_header hdr;
};

bool cap_probe(const void *head, size_t n)
{
	return n >= CAP_MAGIC_LEN && memcmp(head, CAP_MAGIC, CAP_MAGIC_LEN) == 0;
}

/* Makes at least want bytes available (fewer at the end of the file). */
static int r_fill(struct cap_reader *r, size_t want)
{
	if (r->end - r->start >= want || r->eof)
		return 0;
	if (r->start) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	while (r->end < want && !r->eof) {
		ssize_t n = read(r->fd, r->buf + r->end, RBUF_SIZE - r->end);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			r->eof = true;
		r->end += (size_t)n;
	}
	return 0;
}

int cap_reader_open(const char *path, struct cap_reader **ret, char *errbuf, size_t errlen)
{
	struct cap_reader *r = calloc(1, sizeof(*r));
	int e;

	if (!r || !(r->buf = malloc(RBUF_SIZE))) {
		free(r);
		return errf(errbuf, errlen, -ENOMEM, "out of memory");
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		e = -errno;
		cap_reader_close(r);
		return errf(errbuf, errlen, e, "cannot open '%s': %s", path, strerror(-e));
	}
	if ((e = r_fill(r, CAP_HEADER_LEN)) < 0) {
		cap_reader_close(r);
		return errf(errbuf, errlen, e, "cannot read '%s': %s", path, strerror(-e));
	}
	const uint8_t *h = r->buf;
	uint32_t hlen, bo;
	if (r->end < CAP_MAGIC_LEN || memcmp(h, CAP_MAGIC, CAP_MAGIC_LEN) != 0) {
		cap_reader_close(r);
		return errf(errbuf, errlen, -EBADMSG,
			    "offset 0: not a falco capture file (bad magic)");
	}
	if (r->end < CAP_HEADER_LEN) {
		size_t got = r->end;
		cap_reader_close(r);
		return errf(errbuf, errlen, -EBADMSG,
			    "offset 0: truncated file header (%zu of %u bytes)", got,
			    CAP_HEADER_LEN);
	}
	memcpy(&r->hdr.major, h + 8, 2);
	memcpy(&r->hdr.minor, h + 10, 2);
	memcpy(&hlen, h + 12, 4);
	memcpy(&bo, h + 16, 4);
	memcpy(&r->hdr.driver_abi, h + 20, 4);
	memcpy(&r->hdr.created_ns, h + 24, 8);
	if (bo != CAP_BYTE_ORDER) {
		cap_reader_close(r);
		return errf(errbuf, errlen, -EPROTONOSUPPORT,
			    "offset 16: written with the other byte order (0x%08x), not supported",
			    bo);
	}
	if (r->hdr.major != CAP_VERSION_MAJOR) {
		e = errf(
			errbuf, errlen, -EPROTONOSUPPORT,
			"offset 8: capture format version %u.%u is not supported (this build reads %u.x)",
			r->hdr.major, r->hdr.minor, CAP_VERSION_MAJOR);
		cap_reader_close(r);
		return e;
	}
	if (hlen < CAP_HEADER_LEN || hlen > 4096 || hlen % 8) {
		cap_reader_close(r);
		return errf(errbuf, errlen, -EBADMSG, "offset 12: bad header length %u", hlen);
	}
	if ((e = r_fill(r, hlen)) < 0 || r->end < hlen) {
		cap_reader_close(r);
		return errf(errbuf, errlen, -EBADMSG, "offset 0: truncated file header");
	}
	r->start = hlen; /* later minor versions may extend the header: skip what we do not know */
	r->off = hlen;
	*ret = r;
	return 0;
}

struct cap_reader *cap_reader_close(struct cap_reader *r)
{
	if (!r)
		return NULL;
	if (r->fd > 0)
		close(r->fd);
	free(r->buf);
	free(r);
	return NULL;
}

const struct cap_header *cap_reader_header(const struct cap_reader *r)
{
	return &r->hdr;
}

int cap_reader_next(struct cap_reader *r, struct cap_block *ret, char *errbuf, size_t errlen)
{
	uint32_t hdr[2];
	int e;

	if (r->done)
		return 0;
	if ((e = r_fill(r, 8)) < 0)
		return errf(errbuf, errlen, -EIO, "offset %llu: read error: %s",
			    (unsigned long long)r->off, strerror(-e));
	size_t avail = r->end - r->start;
	if (avail == 0)
		return errf(errbuf, errlen, -EBADMSG,
			    "offset %llu: the file ends without an end block (truncated)",
			    (unsigned long long)r->off);
	if (avail < 8)
		return errf(errbuf, errlen, -EBADMSG,
			    "offset %llu: truncated block header (%zu of 8 bytes)",
			    (unsigned long long)r->off, avail);
	memcpy(hdr, r->buf + r->start, 8);
	if (hdr[0] == 0 || hdr[0] > 0xffff)
		return errf(errbuf, errlen, -EBADMSG, "offset %llu: bad block type %u",
			    (unsigned long long)r->off, hdr[0]);
	if (hdr[1] > CAP_MAX_BLOCK)
		return errf(errbuf, errlen, -EBADMSG,
			    "offset %llu: %s block length %u exceeds the %u-byte limit",
			    (unsigned long long)r->off, cap_block_name(hdr[0]), hdr[1],
			    CAP_MAX_BLOCK);
	size_t total = 8 + PAD8((size_t)hdr[1]);
	if ((e = r_fill(r, total)) < 0)
		return errf(errbuf, errlen, -EIO, "offset %llu: read error: %s",
			    (unsigned long long)r->off, strerror(-e));
	if (r->end - r->start < total)
		return errf(errbuf, errlen, -EBADMSG,
			    "offset %llu: truncated %s block (%zu of %zu bytes present)",
			    (unsigned long long)r->off, cap_block_name(hdr[0]), r->end - r->start,
			    total);
	const uint8_t *body = r->buf + r->start + 8;
	for (size_t i = hdr[1]; i < PAD8((size_t)hdr[1]); i++)
		if (body[i])
			return errf(errbuf, errlen, -EBADMSG,
				    "offset %llu: non-zero padding after the %s block",
				    (unsigned long long)(r->off + 8 + i), cap_block_name(hdr[0]));
	ret->type = hdr[0];
	ret->len = hdr[1];
	ret->body = body;
	ret->offset = r->off;
	r->start += total;
	r->off += total;
	if (hdr[0] == CAP_B_END) {
		uint64_t counts[2];
		if (hdr[1] != sizeof(counts))
			return errf(errbuf, errlen, -EBADMSG,
				    "offset %llu: end block of %u bytes (expected %zu)",
				    (unsigned long long)ret->offset, hdr[1], sizeof(counts));
		memcpy(counts, body, sizeof(counts));
		if (counts[0] != r->nblocks || counts[1] != r->nevents)
			return errf(
				errbuf, errlen, -EBADMSG,
				"offset %llu: end block counts %llu blocks / %llu events, the file has %llu / %llu",
				(unsigned long long)ret->offset, (unsigned long long)counts[0],
				(unsigned long long)counts[1], (unsigned long long)r->nblocks,
				(unsigned long long)r->nevents);
		if ((e = r_fill(r, 1)) == 0 && r->end > r->start)
			return errf(errbuf, errlen, -EBADMSG,
				    "offset %llu: data after the end block",
				    (unsigned long long)r->off);
		r->done = true;
		return 0;
	}
	r->nblocks++;
	if (hdr[0] == CAP_B_EVENT)
		r->nevents++;
	return 1;
}
