/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The condition language: text → tokens → AST (flt_parse) → compiled program (flt_compile) → bool (flt_eval).
 * The AST is plain data so the rules loader can substitute macros (flt_clone) and derive event-type sets
 * (flt_evttypes) before compiling. Each stage is testable alone. Nothing here logs.
 *
 * AST memory lives in a caller-provided arena; compiled programs own their memory (flt_prog_free).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/strbuf.h"
#include "fields.h"

struct flt_pos {
	uint32_t idx;  /* byte offset in the condition text */
	uint32_t line; /* 1-based, within the condition text */
	uint32_t col;  /* 1-based */
};

enum flt_op {
	OP_EQ, /* = and == */
	OP_NE,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_CONTAINS,
	OP_ICONTAINS,
	OP_BCONTAINS,
	OP_STARTSWITH,
	OP_BSTARTSWITH,
	OP_ENDSWITH,
	OP_GLOB,
	OP_IGLOB,
	OP_REGEX,
	OP_IN,
	OP_INTERSECTS,
	OP_PMATCH,
	OP_EXISTS,
	_OP_MAX,
	_OP_INVALID = -22,
};

enum flt_mod {
	MOD_NONE,
	MOD_ONEOF, /* exactly one RHS element satisfies op */
	MOD_ANYOF, /* at least one */
	MOD_ALLOF, /* all */
};

enum flt_transformer {
	TR_TOLOWER,
	TR_TOUPPER,
	TR_B64,
	TR_BASENAME,
	TR_LEN,
	TR_JOIN,
	TR_CONCAT,
	TR_GETOPT,
	TR_VAL, /* val(field): RHS field reference, no transformation */
	_TR_MAX,
};

enum flt_expr_kind {
	FE_FIELD,	/* name[arg] */
	FE_TRANSFORMER, /* tr(args...)[arg] */
	FE_STRING,	/* literal argument of a transformer (quoted or bare) */
	FE_NUMBER,	/* numeric literal argument of a transformer */
	FE_LIST,	/* (a, b, ...) argument of a transformer */
};

struct flt_expr {
	enum flt_expr_kind kind;
	struct flt_pos pos;
	union {
		struct {
			const char *name; /* "proc.aname" */
			const char *arg;  /* unescaped argument or NULL */
			uint32_t arg_len;
		} field;
		struct {
			enum flt_transformer tr;
			struct flt_expr **args;
			uint32_t nargs;
			const char *arg; /* trailing [arg] (getopt) or NULL */
			uint32_t arg_len;
		} tr;
		struct {
			const char *s; /* unescaped, NUL-terminated */
			uint32_t len;
			bool quoted;
		} lit;
		struct {
			struct flt_expr **items;
			uint32_t n;
		} list;
	};
};

struct flt_literal {
	const char *s; /* unescaped, NUL-terminated (may contain NUL from \x00: use len) */
	uint32_t len;
	bool quoted;
	struct flt_pos pos;
};

enum flt_rhs_kind {
	RHS_NONE,  /* exists */
	RHS_VALUE, /* one literal */
	RHS_LIST, /* (a, b, ...) — possibly empty; a bare identifier after in/intersects/pmatch is a 1-item list */
	RHS_EXPR, /* val(field) or a transformer */
};

enum flt_node_kind {
	FN_AND,
	FN_OR,
	FN_NOT,
	FN_CHECK,
	FN_IDENT, /* a macro reference, resolved by the rules loader */
};

struct flt_node {
	enum flt_node_kind kind;
	struct flt_pos pos;
	union {
		struct {
			struct flt_node *
				*children; /* n >= 2, flattened: a and b and c is one node */
			uint32_t n;
		} list;
		struct flt_node *child; /* FN_NOT */
		struct {
			struct flt_expr *lhs;
			enum flt_op op;
			enum flt_mod mod;
			enum flt_rhs_kind rhs_kind;
			union {
				struct flt_literal value;
				struct {
					struct flt_literal *items;
					uint32_t n;
					struct flt_pos
						pos; /* of the '(' (or of a bare identifier) */
				} list;
				struct flt_expr *expr;
			} rhs;
		} check;
		struct {
			const char *name;
		} ident;
	};
};

struct flt_error {
	char msg[512]; /* upstream-style text, e.g. "unexpected token after 'x', expecting 'or', 'and'" */
	struct flt_pos pos;
};

/* Maximum nesting accepted by the parser (upstream falco uses 1000). */
#define FLT_MAX_DEPTH 1000

/* Parses a whole condition. Returns 0, -EINVAL (err filled) or -ENOMEM. */
int flt_parse(const char *text, size_t len, struct arena *a, struct flt_node **ret,
	      struct flt_error *err);

/*
 * Parses the longest field or transformer expression at the start of text (used by output formats:
 * "%proc.name)" or "%ka.target.name/..."). *ret_consumed is the number of bytes used. Returns 0 or -EINVAL.
 */
int flt_parse_value_expr(const char *text, size_t len, struct arena *a, struct flt_expr **ret,
			 size_t *ret_consumed, struct flt_error *err);

/* Deep copy into a (used to splice macro bodies into rules). NULL on ENOMEM. */
struct flt_node *flt_clone(struct arena *a, const struct flt_node *n);

/* Canonical text of an AST, for tests and -L: "(proc.name = cat and not fd.name in (a, b))". */
int flt_dump(struct strbuf *sb, const struct flt_node *n);

/* Canonical text of one value expression ("tolower(proc.name)", "proc.aname[2]"). */
int flt_dump_expr(struct strbuf *sb, const struct flt_expr *e);

const char *flt_op_to_string(enum flt_op op);
const char *flt_transformer_to_string(enum flt_transformer t);

/* ---- compilation and evaluation ---- */

/*
 * Per-event cache of extracted values, shared by all programs compiled with one flt_compiler: a field that
 * twenty rules test is extracted once per event.
 */
struct flt_cache;

/* Shared compile state for one rule set: field-instance de-duplication (cache slots), warnings sink. */
struct flt_compiler;

typedef void (*flt_warn_fn)(void *ud, const struct flt_pos *pos, const char *msg);

struct flt_compiler *flt_compiler_new(void);
struct flt_compiler *flt_compiler_free(struct flt_compiler *c);
/* Number of cache slots handed out so far (size a flt_cache with it). */
uint32_t flt_compiler_nslots(const struct flt_compiler *c);

struct flt_prog;

/*
 * Compiles an AST (macros already resolved: an FN_IDENT left over is an error "Undefined macro 'x' used in
 * filter.") for source src. Fields resolve to extractors, literals are parsed per field type, regexes are
 * JIT-compiled, `in` sets become hash sets. Warnings (misused field names as strings, regex hints) go to warn.
 * Returns 0, -EINVAL (err filled with message and position) or -ENOMEM.
 */
int flt_compile(struct flt_compiler *c, const struct src_def *src, const struct flt_node *ast,
		flt_warn_fn warn, void *warn_ud, struct flt_prog **ret, struct flt_error *err);
struct flt_prog *flt_prog_free(struct flt_prog *p);

/* A compiled value expression (field or transformer) for output formats. */
struct flt_vexpr;
int flt_compile_vexpr(struct flt_compiler *c, const struct src_def *src, const struct flt_expr *e,
		      struct flt_vexpr **ret, struct flt_error *err);
struct flt_vexpr *flt_vexpr_free(struct flt_vexpr *v);
/*
 * flt_compile_vexpr for the expression e parsed from text (its exact bytes): the same text of the same source
 * compiles once per compiler and is shared (output formats repeat %proc.name & co. in every rule); each result
 * is released with flt_vexpr_free, the shared one with the compiler.
 */
int flt_compile_vexpr_text(struct flt_compiler *c, const struct src_def *src, const char *text,
			   size_t len, const struct flt_expr *e, struct flt_vexpr **ret,
			   struct flt_error *err);
/* The field behind a plain field expression (NULL for transformers), and the expression's result type. */
const struct fld_inst *flt_vexpr_field(const struct flt_vexpr *v);
enum fld_type flt_vexpr_type(const struct flt_vexpr *v, bool *ret_is_list);

/*
 * A cache for nslots slots (flt_compiler_nslots() after compiling everything; fields of programs compiled
 * later still work, they are just extracted without caching). NULL on ENOMEM. One per evaluating thread.
 */
struct flt_cache *flt_cache_new(uint32_t nslots);
struct flt_cache *flt_cache_free(struct flt_cache *c);
/* Invalidates every cached value (call once per event; O(1)). */
void flt_cache_next_event(struct flt_cache *c);

struct flt_eval_ctx {
	struct fld_ctx f; /* event, per-event arena, source state */
	struct flt_cache *cache;
	uint64_t extract_errors; /* extractor failures seen (counted for metrics) */
};

/*
 * Evaluates p for the event in ec. Programs are read-only here: several threads may evaluate the same
 * program, each with its own flt_cache and arena. ec->cache may be NULL (no caching, and a regex match then
 * allocates); ec->f.arena may be NULL (transformers then have no value). Never allocates otherwise.
 */
bool flt_eval(const struct flt_prog *p, struct flt_eval_ctx *ec);
/* Evaluates an output expression. Returns 1 with a value, 0 when not available. */
int flt_eval_vexpr(const struct flt_vexpr *v, struct flt_eval_ctx *ec, struct value *out);

/*
 * Event-type set of a resolved AST for source src, as upstream computes it (§4 of the rules reference):
 * and = intersection, or = union, not pushed down with De Morgan, evt.type leaves give named sets, any other
 * check is neutral. bits has src->nevttypes bits. Returns 0 or -EINVAL ("unknown event type X").
 */
int flt_evttypes(const struct flt_node *ast, const struct src_def *src, uint64_t *bits,
		 struct flt_error *err);

/* Renders a value as upstream does in text outputs: lists "(a,b)", numbers decimal, IPs dotted. */
int value_to_text(const struct value *v, struct strbuf *sb);
/* Appends a value as JSON (strings quoted, numbers bare, lists arrays). */
int value_to_json(const struct value *v, struct strbuf *sb);
