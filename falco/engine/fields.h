/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Event sources and their field tables. Each source (syscall, k8s_audit, ...) registers a table of fields:
 * name, type, argument rules, description and an extractor. Conditions and output formats resolve field names
 * to these entries once, at load time; on the hot path only the extractor function pointer is called.
 *
 * Owned by the engine; sources only provide static tables and extractor functions.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "value.h"

/* A generic event as seen by the engine. The payload is source-specific and borrowed. */
struct evt {
	uint16_t source; /* index of the source in the engine's source list */
	uint16_t
		type; /* event-type code within the source (syscall: see the driver contract; others: 0) */
	uint32_t cpu;
	uint64_t ts;	  /* nanoseconds since the epoch */
	uint64_t num;	  /* event number (1-based, per source stream) */
	const void *data; /* source payload: struct k8s_evt *, struct sc_evt *, ... */
};

struct fld_def;

/* One occurrence of a field (with its argument) in a compiled condition or output format. */
struct fld_inst {
	const struct fld_def *def;
	const char *
		arg; /* argument text (unescaped), NULL when absent; owned by the compiled program */
	uint32_t arg_len;
	int64_t arg_num; /* the argument as a number when the field takes an index, else -1 */
	void *arg_priv; /* prepared by def->prepare (e.g. a parsed JSON pointer); freed by def->release */
	uint32_t slot;	 /* cache slot shared by every identical field+arg in one rule set */
	bool arg_dotted; /* the argument followed a dot (evt.arg.name), not brackets (evt.arg[0]) */
};

/* What an extractor gets: the event, scratch memory for computed values, and the source's own state. */
struct fld_ctx {
	const struct evt *evt;
	struct arena
		*arena; /* per-event scratch, reset after each event: values may point into it */
	void *src_state; /* e.g. the syscall source's process/fd tables; NULL for stateless sources */
};

/*
 * Extracts fi's value from ctx->evt into *out. Returns 1 with a value, 0 when the field does not apply to this
 * event (the engine then makes every check on it false, as upstream), or -errno (treated like 0 and counted).
 * Must not allocate except from ctx->arena, and must not log.
 */
typedef int (*fld_extract_fn)(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out);

enum fld_flags {
	FLD_ARG_ALLOWED = 1u << 0,  /* name[arg] accepted */
	FLD_ARG_REQUIRED = 1u << 1, /* name[arg] required */
	FLD_ARG_INDEX =
		1u << 2, /* the argument must be a decimal index (no leading zeros but "0") */
	FLD_ARG_DOTTED =
		1u
		<< 3, /* the argument may also follow as ".name" (evt.arg.name, evt.rawarg.name) */
	FLD_LIST = 1u << 4,	    /* extracts a list value */
	FLD_NO_RHS = 1u << 5,	    /* cannot be the right-hand side of val() */
	FLD_DEPRECATED = 1u << 6,   /* loads with a LOAD_DEPRECATED_ITEM warning */
	FLD_EVTTYPE = 1u << 7,	    /* evt.type / syscall.type: drives event-type indexing */
	FLD_HIDDEN = 1u << 8,	    /* not printed by --list */
	FLD_NO_TRANSFORM = 1u << 9, /* transformers are rejected on this field */
	FLD_ARG_LIST_INDEX =
		1u << 10, /* list field whose optional [N] selects one element (ka.*[0]) */
};

struct fld_def {
	const char *name;
	enum fld_type type;
	uint32_t flags;
	const char *desc;
	fld_extract_fn extract;
	/* Optional: validates and prepares fi->arg at compile time. Returns 0 or -EINVAL with a message. */
	int (*prepare)(struct fld_inst *fi, char *errbuf, size_t errlen);
	/* Optional: frees what prepare stored in fi->arg_priv. */
	void (*release)(struct fld_inst *fi);
	uintptr_t data; /* extractor-specific constant, so one extractor can serve many fields */
};

struct fld_table {
	const char *class_name; /* "evt", "process", "k8saudit", "json", ... (for --list) */
	const char *desc;
	const struct fld_def *defs;
	size_t n;
};

struct src_def {
	const char *name;		       /* "syscall", "k8s_audit" */
	const struct fld_table *const *tables; /* NULL-terminated; searched in order */
	uint32_t nevttypes;		       /* event-type codes are 0 .. nevttypes-1 */
	/*
	 * Maps an evt.type name to its event-type codes. Returns how many codes were written (they may exceed
	 * max only if the caller's buffer is too small: never for max >= 8), 0 when the name is valid but never
	 * produced, or -ENOENT for a name that is not an event type at all ("unknown event type X").
	 * NULL for sources with a single event type.
	 */
	int (*evttype_codes)(const char *name, uint16_t *codes, size_t max);
	/* Name of an event-type code, for evt.type and --list-events. */
	const char *(*evttype_name)(uint16_t code);
};

/*
 * Resolves a field name against src's tables: exact match first, then the longest FLD_ARG_DOTTED prefix
 * ("evt.arg.flags" → evt.arg with argument "flags"). *ret_dotted_arg points into name when the argument came
 * after a dot. Returns the definition or NULL.
 */
const struct fld_def *fld_lookup(const struct src_def *src, const char *name,
				 const char **ret_dotted_arg);

/* Every source this build knows; the engine is created with a subset. */
extern const struct src_def src_syscall;
extern const struct src_def src_k8s_audit;
