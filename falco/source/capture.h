/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Capture files (falco -w FILE / falco -e FILE): a versioned, length-checked container for the syscall event
 * stream plus the state that is not in the stream (the /proc snapshot at start, later /proc reads, NSS answers,
 * container metadata, purges), so a replay rebuilds exactly the state live capture had. The format is described
 * in docs/CAPTURE_FORMAT.md. This module knows blocks and TLV attributes only; what a block means is decided by
 * state_snap.c and sc_source.c.
 *
 * Nothing here logs. Reader errors name the byte offset and the reason ("offset 4096: block length 9999999
 * exceeds the 1 MiB limit"). Writers report the first I/O error and stay failed.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CAP_MAGIC \
	"\x89"    \
	"FCAP\r\n\x1a"
#define CAP_MAGIC_LEN	  8
#define CAP_VERSION_MAJOR 1
#define CAP_VERSION_MINOR 0
#define CAP_HEADER_LEN	  64
#define CAP_BYTE_ORDER	  0x1A2B3C4Du
#define CAP_MAX_BLOCK	  (1u << 20) /* body bytes of one block */

enum cap_block_type {
	CAP_B_EVENT = 1,	/* one driver record, exactly as the probe wrote it */
	CAP_B_PROC = 2,		/* a process and its threads */
	CAP_B_FD = 3,		/* one descriptor of a process */
	CAP_B_USER = 4,		/* a user or group cache entry */
	CAP_B_CONTAINER = 5,	/* a container and its metadata */
	CAP_B_PROC_ENV = 6,	/* the environment read lazily for a process */
	CAP_B_PURGE = 7,	/* a thread or process removed because /proc no longer had it */
	CAP_B_SNAPSHOT_END = 8, /* the start-up snapshot is complete */
	CAP_B_END = 9,		/* the last block: counts of what precedes */
	_CAP_B_MAX,
};

const char *cap_block_name(uint32_t type);

/* ---- TLV bodies: u16 tag, u16 length, value; unknown tags are skipped by readers ---- */

struct cap_tlv {
	uint8_t *buf;
	size_t len, cap;
	bool failed; /* a value did not fit CAP_MAX_BLOCK */
};

/* Starts an empty body in buf[0..cap). */
void cap_tlv_init(struct cap_tlv *t, uint8_t *buf, size_t cap);
void cap_tlv_bytes(struct cap_tlv *t, uint16_t tag, const void *p, size_t n);
void cap_tlv_u8(struct cap_tlv *t, uint16_t tag, uint8_t v);
void cap_tlv_u16(struct cap_tlv *t, uint16_t tag, uint16_t v);
void cap_tlv_u32(struct cap_tlv *t, uint16_t tag, uint32_t v);
void cap_tlv_u64(struct cap_tlv *t, uint16_t tag, uint64_t v);
/* NULL strings are left out. */
void cap_tlv_str(struct cap_tlv *t, uint16_t tag, const char *s, size_t n);

struct cap_tlv_it {
	const uint8_t *p, *end, *start;
};

void cap_tlv_it_init(struct cap_tlv_it *it, const void *body, size_t len);
/* 1 with the next attribute, 0 at the end, -EBADMSG when an attribute overruns the body (*ret_off: its offset). */
int cap_tlv_next(struct cap_tlv_it *it, uint16_t *ret_tag, const uint8_t **ret_val,
		 uint16_t *ret_len, size_t *ret_off);
/* Typed reads of a value: false when the length is not exactly the type's. */
bool cap_val_u8(const uint8_t *v, uint16_t len, uint8_t *ret);
bool cap_val_u16(const uint8_t *v, uint16_t len, uint16_t *ret);
bool cap_val_u32(const uint8_t *v, uint16_t len, uint32_t *ret);
bool cap_val_u64(const uint8_t *v, uint16_t len, uint64_t *ret);

/* ---- writing ---- */

struct cap_writer;

/*
 * Creates (truncates) path and writes the file header. Returns 0 with *ret, or -errno with "cannot create
 * 'path': reason" in errbuf.
 */
int cap_writer_open(const char *path, uint32_t driver_abi, struct cap_writer **ret, char *errbuf,
		    size_t errlen);
/* Appends one block (buffered). Returns 0 or -EIO / -E2BIG; after an error every call fails. */
int cap_write_block(struct cap_writer *w, uint32_t type, const void *body, size_t len);
/* Writes the END block, flushes and closes. Returns 0 or -errno with errbuf text. Frees w in every case. */
int cap_writer_close(struct cap_writer *w, char *errbuf, size_t errlen);
uint64_t cap_writer_bytes(const struct cap_writer *w);
/* The first write error ("write 'path': No space left on device"), or NULL. */
const char *cap_writer_error(const struct cap_writer *w);

/* ---- reading ---- */

struct cap_reader;

struct cap_block {
	uint32_t type;
	uint32_t len;
	const uint8_t *body; /* valid until the next cap_reader_next */
	uint64_t offset;     /* of the block header in the file */
};

struct cap_header {
	uint16_t major, minor;
	uint32_t driver_abi;
	uint64_t created_ns;
};

/* True when head starts like a capture file (the daemon tells replay formats apart by their first bytes). */
bool cap_probe(const void *head, size_t n);

/*
 * Opens path and checks the header (magic, version, byte order, header length). Returns 0 with *ret, -ENOENT
 * & co for the file, or -EBADMSG / -EPROTONOSUPPORT with "offset N: reason" in errbuf.
 */
int cap_reader_open(const char *path, struct cap_reader **ret, char *errbuf, size_t errlen);
struct cap_reader *cap_reader_close(struct cap_reader *r);
const struct cap_header *cap_reader_header(const struct cap_reader *r);

/*
 * Reads the next block. Returns 1 with *ret, 0 after the END block (whose counts were checked), or -EBADMSG
 * ("offset N: reason": truncated block, length over the limit, bad padding, missing END block, counts that do
 * not match) / -EIO. Unknown block types are returned too (callers skip them).
 */
int cap_reader_next(struct cap_reader *r, struct cap_block *ret, char *errbuf, size_t errlen);
