/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the rules engine (rules_*.c, ruleset.c, fmt.c, load_result.c): the collector's view of lists,
 * macros and rules as read from YAML, texts that remember where each byte came from (so errors found after
 * appends, exceptions and list substitution still point into the right file), and the compiled rule set.
 * Nothing outside falco/engine/rules_* may include this.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"
#include "common/hmap.h"
#include "common/macro.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "engine.h"
#include "flt.h"

/* ---- limits (STYLE 2.6: everything has one) ---- */

#define RULES_MAX_FILE_BYTES	 (16u << 20) /* one rules file */
#define RULES_MAX_YAML_DEPTH	 32	     /* rules files need about 6 */
#define RULES_MAX_YAML_NODES	 2000000
#define RULES_MAX_FILES		 4096
#define RULES_MAX_ITEMS		 200000	    /* lists + macros + rules across all files */
#define RULES_MAX_CONDITION	 (1u << 20) /* bytes of a condition, before and after substitution */
#define RULES_MAX_EXPANDED_NODES 200000 /* AST nodes of one condition once macros are expanded */
#define RULES_MAX_EXPANDED_DEPTH 1000	/* nesting of one condition once macros are expanded */
#define RULES_MAX_MESSAGES	 1000	/* errors + warnings kept per file */
#define RULES_MAX_OUTPUT	 (64u << 10) /* bytes of a rule output format */

/* Item types as upstream names them in load results. */
#define IT_RULES_CONTENT      "rules content"
#define IT_RULES_CONTENT_ITEM "rules content item"
#define IT_REQ_ENGINE	      "required_engine_version"
#define IT_REQ_PLUGINS	      "required_plugin_versions"
#define IT_REQ_PLUGINS_ENTRY  "required_plugin_versions entry"
#define IT_REQ_PLUGINS_ALT    "required_plugin_versions alternative"
#define IT_LIST		      "list"
#define IT_LIST_ITEM	      "list item"
#define IT_MACRO	      "macro"
#define IT_MACRO_CONDITION    "macro condition"
#define IT_RULE		      "rule"
#define IT_RULE_CONDITION     "rule condition"
#define IT_CONDITION_EXPR     "condition expression"
#define IT_RULE_OUTPUT	      "rule output"
#define IT_RULE_OUTPUT_EXPR   "rule output expression"
#define IT_RULE_PRIORITY      "rule priority"
#define IT_OVERRIDE	      "override"
#define IT_EXCEPTIONS	      "exceptions"
#define IT_EXCEPTION	      "exception"
#define IT_EXCEPTION_VALUES   "exception values"
#define IT_EXCEPTION_VALUE    "exception value"
#define IT_VALUE_FOR	      "value for"

/* ---- files and positions ---- */

struct rl_file {
	char *name; /* as given; also the load result's name */
	char *content; /* NUL-terminated, kept until the loader is freed (snippets, position mapping) */
	size_t len;
	struct yaml_stream *ys;
	uint32_t *lines; /* byte offset of each line start, built on first use */
	uint32_t nlines;
	uint32_t
		end_index; /* the collector's counter once the file was read: what its rules could see */
};

/* Byte offset in f of a YAML node (libyaml columns count characters, not bytes). */
uint32_t rl_node_offset(struct rl_file *f, const struct ynode *n);
/* Byte offset in f of character idx of scalar n's decoded text (best effort across folding and escapes). */
uint32_t rl_scalar_offset(struct rl_file *f, const struct ynode *n, uint32_t idx);
/* 1-based line and column (in characters) of a byte offset. */
void rl_offset_linecol(struct rl_file *f, uint32_t off, uint32_t *ret_line, uint32_t *ret_col);

/*
 * Where a piece of composed text came from: bytes [start, start+len) of the text are bytes node_off... of
 * YAML scalar node in file, or, for a point origin (list substitution, exceptions), all map to node_off.
 */
struct rl_seg {
	uint32_t start, len;
	uint32_t file;
	const struct ynode *node;
	uint32_t node_off;
	bool point;
};

/* A text with origins. Immutable once built; lives in an arena. */
struct rl_text {
	const char *s;
	uint32_t len;
	const struct rl_seg *segs;
	uint32_t nsegs;
};

/* Builder for rl_text: malloc'd while growing, frozen into an arena. */
struct rl_tb {
	struct strbuf sb;
	struct rl_seg *segs;
	uint32_t nsegs, cap;
	int err; /* first failure: -ENOMEM, or -E2BIG past max */
};

void rl_tb_init(struct rl_tb *b, size_t max);
void rl_tb_done(struct rl_tb *b);
/* Appends bytes [from, from+len) of t with their origins. */
void rl_tb_copy(struct rl_tb *b, const struct rl_text *t, uint32_t from, uint32_t len);
/* Appends text whose every byte maps to one origin (may be NULL: no origin). */
void rl_tb_point(struct rl_tb *b, const char *s, size_t len, const struct rl_seg *origin);
/* Appends the whole decoded text of scalar node as its own origin. */
void rl_tb_scalar(struct rl_tb *b, uint32_t file, const struct ynode *node, const char *s,
		  size_t len);
void rl_tb_truncate(struct rl_tb *b, uint32_t len);
/* Copies into a and resets b. Returns 0, -ENOMEM or -E2BIG (the builder overflowed its max). */
int rl_tb_freeze(struct rl_tb *b, struct arena *a, struct rl_text *ret);
/* The origin of byte idx of t as a point (NULL if none). */
bool rl_text_origin(const struct rl_text *t, uint32_t idx, struct rl_seg *ret);

/* ---- load messages ---- */

struct rl_loc {
	const char *type;
	const char *name;
	int32_t file; /* index in loader files; -1: no position */
	uint32_t off; /* byte offset */
	const struct ynode
		*node; /* when set, off is computed from it only if a message is recorded */
};

#define RL_WHERE_MAX 6

/* The chain of locations of one message, outermost first. */
struct rl_where {
	struct rl_loc l[RL_WHERE_MAX];
	unsigned n;
};

void rl_where_push(struct rl_where *w, const char *type, const char *name, int32_t file,
		   uint32_t off);
struct rules_loader;
/* Pushes the location of node in file. */
void rl_where_node(struct rules_loader *l, struct rl_where *w, const char *type, const char *name,
		   uint32_t file, const struct ynode *node);
/* Pushes the location of an origin (point or byte). */
void rl_where_seg(struct rules_loader *l, struct rl_where *w, const char *type,
		  const struct rl_seg *seg);

/*
 * Records a message in the load result of the innermost location's file (or of file `fallback` when the chain
 * has no file). Returns -EINVAL for an error code, 0 for a warning, -ENOMEM.
 */
int rl_msg(struct rules_loader *l, uint32_t fallback, enum load_code code, const struct rl_where *w,
	   const char *fmt, ...) _printf_(5, 6);

void load_result_done(struct load_result *r);

/* ---- collected items ---- */

/* Where an item (or one of its keys) was written. */
struct rl_ref {
	uint32_t file;
	const struct ynode *node;
};

struct rl_item {
	const char *s;
	uint32_t len;
};

struct rl_list {
	const char *name;
	struct rl_item *items;
	uint32_t nitems, cap;
	uint32_t index;	     /* first definition: keeps its place when redefined */
	uint32_t visibility; /* last define/append */
	struct rl_ref ref;   /* last define */
	bool used;
	bool odd_name; /* contains a delimiter character: found by search, not by word lookup */
	/* compiled: the substitution text "a, b, c" (items expanded one level and quoted) */
	char *sub;
	uint32_t sublen;
	/* the lists sub names as words, found on first substitution (rules_resolve.c) */
	struct rl_list **subrefs;
	uint32_t nsubrefs;
	bool subrefs_done;
};

struct rl_macro {
	const char *name;
	struct rl_text cond;
	uint32_t index, visibility;
	struct rl_ref ref;	/* last define */
	struct rl_ref cond_ref; /* condition node of the last define */
	bool used;
	/* compile state */
	struct rl_text text;  /* after list substitution */
	struct flt_node *ast; /* parsed, then resolved in place */
	bool parsed, resolved, failed, resolving;
	uint32_t base;	       /* positions of the tree start here (0: not rebased) */
	uint32_t nodes, depth; /* of the resolved tree */
};

/* One exception entry: a scalar or a (possibly nested) list. */
struct rl_exc_entry {
	bool is_list;
	const char *item;
	struct rl_exc_entry *items;
	uint32_t n;
};

struct rl_exception {
	const char *name;
	bool has_fields, has_comps;
	struct rl_exc_entry fields, comps;
	struct rl_exc_entry *values;
	uint32_t nvalues;
	struct rl_ref ref;
};

struct rl_rule {
	const char *name;
	struct rl_text cond, output;
	const char *desc;
	const char *source;
	enum prio priority;
	bool enabled, capture, warn_evttypes, skip_unknown;
	bool unknown_source;
	uint64_t capture_duration;
	const char **tags; /* sorted, unique */
	uint32_t ntags;
	struct rl_exception *exc;
	uint32_t nexc;
	uint32_t index, visibility;
	struct rl_ref ref; /* last define */
};

struct rules_loader {
	struct rules_options opts;
	struct arena arena; /* collected items, message strings */
	struct rl_file *files;
	struct load_result *results;
	size_t nfiles, cap_files;

	struct rl_list **lists;
	struct rl_macro **macros;
	struct rl_rule **rules;
	uint32_t nlists, nmacros, nrules, cap_lists, cap_macros, cap_rules;
	struct hmap list_map, macro_map, rule_map;
	uint32_t cur_index; /* shared define/append counter: visibility */
	uint32_t nitems;

	uint32_t req_version[3];
	bool has_req_version;
	bool finished;
	bool failed;
};

/* rules_yaml.c: reads one file's YAML into the collector. Returns 0, -EINVAL (messages recorded), -ENOMEM. */
int rl_read_file(struct rules_loader *l, uint32_t file);

/* rules_collect.c */
struct rl_list *rl_find_list(const struct rules_loader *l, const char *name);
struct rl_macro *rl_find_macro(const struct rules_loader *l, const char *name);
struct rl_rule *rl_find_rule(const struct rules_loader *l, const char *name);
int rl_list_define(struct rules_loader *l, struct rl_list *v);
int rl_list_append(struct rules_loader *l, const struct rl_list *v, const struct rl_where *w);
int rl_macro_define(struct rules_loader *l, struct rl_macro *v);
int rl_macro_append(struct rules_loader *l, const struct rl_macro *v, const struct rl_where *w);

/* A partial rule: what an append or replace item carries. */
struct rl_rule_update {
	const char *name;
	struct rl_ref ref;
	bool has_cond, has_output, has_desc, has_tags, has_exc, has_priority, has_enabled,
		has_capture, has_capture_duration, has_warn, has_skip;
	struct rl_text cond, output;
	const char *desc;
	const char **tags;
	uint32_t ntags;
	struct rl_exception *exc;
	uint32_t nexc;
	enum prio priority;
	bool enabled, capture, warn_evttypes, skip_unknown;
	uint64_t capture_duration;
};

int rl_rule_define(struct rules_loader *l, struct rl_rule *v, const struct rl_where *w);
int rl_rule_append(struct rules_loader *l, const struct rl_rule_update *u,
		   const struct rl_where *w);
int rl_rule_replace(struct rules_loader *l, const struct rl_rule_update *u,
		    const struct rl_where *w);
int rl_rule_enable(struct rules_loader *l, const char *name, bool enabled,
		   const struct rl_where *w);
const struct src_def *rl_source(const struct rules_loader *l, const char *name, uint16_t *ret_idx);
/* Sorted union of two tag sets, in a. */
int rl_tags_union(struct arena *a, const char **x, uint32_t nx, const char **y, uint32_t ny,
		  const char ***ret, uint32_t *ret_n);
int rl_tags_sort_unique(const char **tags, uint32_t n);

/* Operators accepted in exception comps. */
bool rl_is_operator(const char *s);
bool rl_is_list_operator(const char *s);

/* ---- compiled rule set ---- */

struct fmt_tok {
	const char *lit; /* literal text (not NUL-terminated), or NULL for a value token */
	uint32_t lit_len;
	uint32_t width; /* 0 = as is */
	struct flt_vexpr *v;
	const char *name; /* field text for output_fields; NULL for transformers */
};

struct fmt {
	char *text; /* owns the literal bytes */
	struct fmt_tok *toks;
	uint32_t ntoks;
	struct flt_compiler
		*own; /* standalone formats (fmt_compile) have their own compiler and cache */
	struct flt_cache *own_cache;
};

/* A compile error in a format: message and byte offset in the format text. */
struct fmt_error {
	char msg[512];
	uint32_t off;
};

/* Builds a format with compiler c (whose cache slots it then shares). */
int fmt_build(struct flt_compiler *c, const struct src_def *src, const char *s, size_t len,
	      struct fmt **ret, struct fmt_error *err);
int fmt_render_ec(const struct fmt *f, struct flt_eval_ctx *ec, struct strbuf *sb);

struct rule_extra_field {
	const char *name;
	struct flt_vexpr *v; /* a plain field ... */
	struct fmt *f;	     /* ... or a format rendered as a string */
};

struct rule {
	const char *name, *desc, *condition, *output, *source;
	const char *compiled; /* condition after exceptions and list substitution */
	const char *expanded; /* flt_dump of the resolved tree, when asked for */
	enum prio priority;
	bool enabled, capture;
	uint64_t capture_duration;
	const char **tags;
	size_t ntags;
	uint32_t id;
	uint16_t source_idx;
	struct flt_prog *prog;
	struct fmt *fmt;
	struct rule_extra_field *extra;
	uint32_t nextra;
	uint64_t *
		evttypes; /* bits; NULL together with evt_any = the rule runs for every event type */
	bool evt_any;
};

struct rs_src {
	const struct src_def *src;
	uint32_t nslots;
	uint32_t *slot_off; /* nslots + 1 offsets into entries */
	const struct rule **entries;
	const struct rule **any; /* rules with an empty type set: run for every type */
	uint32_t nany;
	uint32_t nwords;
};

struct ruleset {
	struct arena arena;
	struct flt_compiler *comp;
	struct rule *rules;
	size_t nrules;
	struct rs_src *src;
	size_t nsources;
	bool match_all;
	char req_version[32];
};

struct rs_eval {
	const struct ruleset *rs;
	struct arena arena;
	struct flt_cache *cache;
	struct flt_eval_ctx ec;
};

/* Rebuilds the per-type index from the enabled flags. Returns 0 or -ENOMEM. */
int ruleset_reindex(struct ruleset *rs);
/* Frees what a compiled rule owns (program, formats). */
void rs_rule_release(struct rule *x);

/* ---- compilation (rules_resolve.c, rules_compile.c) ---- */

struct rl_cc {
	struct rules_loader *l;
	struct arena ast;   /* ASTs and substituted texts; freed when rules_loader_finish returns */
	uint32_t next_base; /* next free position range for a macro's tree (see rl_owner_text) */
	uint64_t list_lens; /* bit n: some list name has n bytes (63: 63 or more) */
	uint64_t list_first[4]; /* bit c: some list name starts with byte c */
	struct hmap *
		fields; /* per source: field name → struct fld_def * (NULL: unknown), warnings visitor */
	struct rl_list **odd; /* lists whose names hold delimiters */
	uint32_t nodd;
};

/* Compiles every list's substitution text (one level of list-in-list expansion, quoting). */
int rl_compile_lists(struct rl_cc *cc);
/*
 * Text-substitutes lists into a condition exactly as upstream (delimiters, blank consumption, empty-list comma
 * removal, blind to quoting), but visiting only the lists the text names. -E2BIG when the result is too long.
 */
int rl_subst_lists(struct rl_cc *cc, const struct rl_text *in, struct rl_text *out);
/* "(cond) and not (...)" for a rule's exceptions. -EINVAL with a message recorded on bad values. */
int rl_apply_exceptions(struct rl_cc *cc, const struct rl_rule *r, const struct rl_where *w,
			struct rl_text *out);
/* Parses every macro (after list substitution), then resolves their references in definition order. */
int rl_compile_macros(struct rl_cc *cc);
/*
 * Resolves the macro references of a rule's AST (rules see every macro). Returns 0, -EINVAL (error recorded
 * with w as context), -ENOENT (a referenced macro failed already: skip quietly) or -ENOMEM.
 */
int rl_resolve_rule(struct rl_cc *cc, struct flt_node **ast, const struct rl_text *text,
		    const struct rl_where *w);
/*
 * The text a position of a resolved tree belongs to: a macro's (*idx is then made relative to it) or own, the
 * text of the tree being compiled.
 */
const struct rl_text *rl_owner_text(struct rl_cc *cc, const struct rl_text *own, uint32_t *idx);
/* Pushes the "condition expression" location of pos in text. */
void rl_where_pos(struct rl_cc *cc, struct rl_where *w, const struct rl_text *text, uint32_t idx);
