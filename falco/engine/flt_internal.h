/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the condition language (flt_*.c, value.c, fields.c): the lexer state shared by the parser and
 * the output-format entry point, and the compiled-program structures shared by the compiler, the operators,
 * the transformers and the evaluator. Nothing outside falco/engine/flt_* may include this.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/arena.h"
#include "common/hmap.h"
#include "common/macro.h"
#include "flt.h"

/* ---- lexer (flt_lex.c) ---- */

struct flt_lexer {
	const char *s;
	size_t len;
	size_t i; /* cursor */
	struct arena *a;
	struct flt_error *err;
	/* last token lexed, for "unexpected token after 'X'" */
	size_t last_tok;
	size_t last_tok_len;
	uint32_t depth; /* open parentheses and transformer calls */
	/* position cache: line/col of pc_idx, so computing positions stays linear */
	size_t pc_idx;
	uint32_t pc_line, pc_col;
};

void flt_lex_init(struct flt_lexer *lx, const char *s, size_t len, struct arena *a,
		  struct flt_error *err);
struct flt_pos flt_lex_pos(struct flt_lexer *lx, size_t idx);
/* Fills lx->err with msg at idx and returns -EINVAL. */
int flt_lex_error(struct flt_lexer *lx, size_t idx, const char *fmt, ...) _printf_(3, 4);

static inline int flt_lex_peek(const struct flt_lexer *lx, size_t off)
{
	return lx->i + off < lx->len ? (unsigned char)lx->s[lx->i + off] : -1;
}

bool flt_lex_blank(struct flt_lexer *lx);
/* [[:space:]]+ (blanks plus \v and \f), only used after 'not' */
bool flt_lex_space(struct flt_lexer *lx);
/*
 * Exact text; records it as the last token. Inline: the parser tries operator after operator, tens of
 * thousands of calls while loading a rule set, most failing on the first byte.
 */
static inline bool flt_lex_str(struct flt_lexer *lx, const char *w)
{
	if (w[0] && (lx->i >= lx->len || lx->s[lx->i] != w[0]))
		return false;
	size_t n = strlen(w);
	if (lx->len - lx->i < n || memcmp(lx->s + lx->i, w, n) != 0)
		return false;
	lx->last_tok = lx->i;
	lx->last_tok_len = n;
	lx->i += n;
	return true;
}
/* Word operator: w followed by at least one blank (the blanks are consumed too). */
bool flt_lex_word_op(struct flt_lexer *lx, const char *w);
/* [a-zA-Z]+[a-zA-Z0-9_]* */
bool flt_lex_identifier(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len);
/* Identifier (. Identifier)+ */
bool flt_lex_field_name(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len);
bool flt_lex_hex_number(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len);
bool flt_lex_number(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len);
/* [^()"'[:space:]=,]+ */
bool flt_lex_bare_str(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len);
/* [^][\"'[:space:]]+ */
bool flt_lex_field_arg_bare(struct flt_lexer *lx, size_t *ret_start, size_t *ret_len);
/*
 * A quoted string, unescaped into the arena. Returns 1 (lexed), 0 (no quoted string here; cursor unchanged),
 * -EINVAL (bad escape, err filled, cursor after the string as upstream's) or -ENOMEM.
 */
int flt_lex_quoted(struct flt_lexer *lx, const char **ret, uint32_t *ret_len);

/* Characters of the bare-string class, shared with flt_dump for choosing whether to quote. */
bool flt_is_bare_char(int c);
bool flt_is_field_arg_bare_char(int c);
bool flt_is_blank(int c);

/* ---- compiled programs (flt_compile.c, flt_ops.c, flt_transform.c, flt_eval.c) ---- */

/* Things a program or value expression must release: compiled regexes, hash sets, prepared field args. */
enum cleanup_kind { CL_REGEX, CL_HMAP, CL_FIELD };
struct cleanup {
	enum cleanup_kind kind;
	void *p;
	struct cleanup *next;
};

/* Memory of one compiled program or value expression: everything lives in the arena, plus a cleanup list. */
struct cmem {
	struct arena a;
	struct cleanup *cleanups;
};

enum cv_kind {
	CV_FIELD, /* read through the per-event cache */
	CV_TR,	  /* transformer over args */
	CV_CONST, /* literal (transformer argument) */
	CV_LIST,  /* (a, b, ...) transformer argument, built per event */
};

/* A compiled value expression. */
struct cval {
	uint8_t kind; /* enum cv_kind */
	uint8_t type; /* enum fld_type of the result (of its elements, for lists) */
	bool is_list;
	uint8_t tr;	/* CV_TR: enum flt_transformer */
	uint32_t nargs; /* CV_TR, CV_LIST */
	struct cval **args;
	const char *targ; /* CV_TR: trailing [arg] (getopt's option) or NULL */
	uint32_t targ_len;
	const char *optstring; /* CV_TR getopt: NUL-terminated */
	const char *sep;       /* CV_TR join: separator */
	uint32_t sep_len;
	struct fld_inst fi; /* CV_FIELD */
	struct value cv;    /* CV_CONST */
	struct flt_pos pos;
};

/* One compiled right-hand literal, parsed for the LHS type. */
struct crhs {
	struct value v; /* strings point into the program's arena (NUL-terminated) */
	uint8_t prefix; /* IPNET: prefix length */
	uint8_t op;	/* the check's operator (for comparators shared between operators) */
	uint8_t ltype;	/* LHS element type (mixed-signedness comparators) */
	bool jit;	/* regex: JIT-compiled, so the JIT fast path applies */
	void *re;	/* regex: pcre2_code */
};

typedef bool (*cmp_fn)(const struct value *l, const struct crhs *r, struct flt_eval_ctx *ec);

struct cnode;
typedef bool (*cnode_fn)(const struct cnode *n, struct flt_eval_ctx *ec);

struct cnode {
	cnode_fn eval;
	uint8_t kind; /* enum cnode_kind */
};

enum cnode_kind { CN_CONST, CN_AND, CN_OR, CN_NOT, CN_CHECK };

struct cnode_const {
	struct cnode h;
	bool v;
};

struct cnode_list {
	struct cnode h;
	uint32_t n;
	const struct cnode **kids;
};

struct cnode_not {
	struct cnode h;
	const struct cnode *child;
};

struct pmatch_set;

struct cnode_check {
	struct cnode h;
	const struct cval *lhs;
	uint8_t op, mod;
	bool lhs_list;
	cmp_fn cmp;	    /* scalar comparator for (op, LHS type) */
	struct crhs one;    /* RHS_VALUE */
	struct crhs *items; /* modifiers, linear in/intersects */
	uint32_t nitems;
	struct hmap *set;	  /* in/intersects on hashable types */
	struct pmatch_set *pm;	  /* pmatch */
	const struct cval *rexpr; /* val() / transformer right-hand side */
	uint8_t rtype;		  /* rexpr element type */
	bool rlist;
};

struct flt_prog {
	struct cmem mem;
	const struct cnode *root;
};

struct flt_vexpr {
	struct cmem mem;
	const struct cval *v;
	uint32_t
		refs; /* flt_compile_vexpr_text shares one per token text; freed at the last flt_vexpr_free */
};

struct flt_cache_ent {
	uint64_t gen;
	int rc; /* 1 value, 0 missing */
	struct value v;
};

struct flt_cache {
	uint64_t gen;
	uint32_t n;
	void *md; /* pcre2_match_data, per cache so concurrent evaluators never share it */
	struct flt_cache_ent ents[];
};

/* flt_eval.c */
void flt_cmem_init(struct cmem *m, size_t first_chunk);
void flt_cmem_done(struct cmem *m);
int flt_cmem_add_cleanup(struct cmem *m, enum cleanup_kind kind, void *p);
/* Extracts fi into the cache entry (first use of the slot in this event). */
void flt_cache_fill(struct flt_cache_ent *e, uint64_t gen, const struct fld_inst *fi,
		    struct flt_eval_ctx *ec);
bool flt_node_and(const struct cnode *n, struct flt_eval_ctx *ec);
bool flt_node_or(const struct cnode *n, struct flt_eval_ctx *ec);
bool flt_node_not(const struct cnode *n, struct flt_eval_ctx *ec);
bool flt_node_const(const struct cnode *n, struct flt_eval_ctx *ec);
/* Extraction without a cache slot (no cache, or a slot beyond the cache's size). */
const struct value *flt_field_uncached(const struct fld_inst *fi, struct flt_eval_ctx *ec,
				       struct value *tmp);

/* flt_transform.c: evaluates a CV_TR / CV_CONST / CV_LIST into tmp (arena-backed); NULL when missing. */
const struct value *flt_tr_eval(const struct cval *v, struct flt_eval_ctx *ec, struct value *tmp);

/*
 * The value of v for the current event: a pointer into the cache (fields), or tmp (everything else).
 * NULL when missing (no value, or a list with no items). Inline because every check starts here.
 */
static inline const struct value *flt_cval_get(const struct cval *v, struct flt_eval_ctx *ec,
					       struct value *tmp)
{
	if (_likely_(v->kind == CV_FIELD)) {
		struct flt_cache *c = ec->cache;
		uint32_t slot = v->fi.slot;
		if (_likely_(c != NULL && slot < c->n)) {
			struct flt_cache_ent *e = &c->ents[slot];
			if (e->gen != c->gen)
				flt_cache_fill(e, c->gen, &v->fi, ec);
			return e->rc ? &e->v : NULL;
		}
		return flt_field_uncached(&v->fi, ec, tmp);
	}
	return flt_tr_eval(v, ec, tmp);
}

/* flt_ops.c */
cmp_fn flt_cmp_for(enum flt_op op, enum fld_type ltype, enum fld_type rtype);
bool flt_op_allowed(enum flt_op op, enum fld_type t, bool is_list);
bool flt_is_integer_type(enum fld_type t);
bool flt_is_text_type(enum fld_type t);
/* Check evaluators, chosen by the compiler. */
bool flt_chk_exists(const struct cnode *n, struct flt_eval_ctx *ec);
bool flt_chk_cmp(const struct cnode *n, struct flt_eval_ctx *ec);
bool flt_chk_text_eq(const struct cnode *n,
		     struct flt_eval_ctx *ec); /* = and != on STRING/PATH/BUFFER */
bool flt_chk_text_small_set(const struct cnode *n, struct flt_eval_ctx *ec);
bool flt_chk_mod(const struct cnode *n, struct flt_eval_ctx *ec);
bool flt_chk_set(const struct cnode *n, struct flt_eval_ctx *ec);
bool flt_chk_linear(const struct cnode *n, struct flt_eval_ctx *ec);
bool flt_chk_pmatch(const struct cnode *n, struct flt_eval_ctx *ec);
bool flt_chk_expr(const struct cnode *n, struct flt_eval_ctx *ec);
/* Adds v (of element type t) to an in/intersects set; keys are copied into m. Returns 0 or -ENOMEM. */
int flt_set_add(struct cmem *m, struct hmap *set, const struct value *v, enum fld_type t);
/* pmatch prefixes; the strings are copied into m. */
int flt_pmatch_build(struct cmem *m, const struct crhs *items, uint32_t n, struct pmatch_set **ret);
/* Compiles a full-match regex (anchored both ends, UTF-8, JIT when available). 0 or -EINVAL/-ENOMEM. */
int flt_regex_compile(struct cmem *m, const char *pat, size_t len, struct crhs *r, char *errbuf,
		      size_t errlen);
bool flt_regex_full_match(const struct crhs *r, const char *s, size_t len, struct flt_eval_ctx *ec);
void *flt_regex_md_new(void);
void flt_regex_md_free(void *md);
void flt_regex_free(void *re);
