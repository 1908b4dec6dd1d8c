/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The rules engine's public API: load Falco rules files (lists, macros, rules, overrides, exceptions) into a
 * compiled, indexed rule set, select rules, and evaluate events against it. Load problems are returned as
 * values (code, message, position) in per-file load results; the engine never prints or logs.
 *
 * A rule set is immutable after rules_loader_finish() except for enable/disable selection, so a reload can
 * build a new one aside and swap it in between two events.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/strbuf.h"
#include "fields.h"

/* Our engine version. Upstream files state required_engine_version up to 0.57.0; see docs/ARCHITECTURE.md. */
#define ENGINE_VERSION_MAJOR 0
#define ENGINE_VERSION_MINOR 57
#define ENGINE_VERSION_PATCH 0
#define ENGINE_VERSION	     "0.57.0"

enum prio {
	PRIO_EMERGENCY,
	PRIO_ALERT,
	PRIO_CRITICAL,
	PRIO_ERROR,
	PRIO_WARNING,
	PRIO_NOTICE,
	PRIO_INFORMATIONAL,
	PRIO_DEBUG,
	_PRIO_MAX,
	_PRIO_INVALID = -22,
};

/* Case-insensitive; accepts "info" for Informational (as upstream). */
int prio_from_string(const char *s);
/* Long names as in alerts: "Emergency" ... "Informational", "Debug". */
const char *prio_to_string(enum prio p);

/* ---- load results (falco -V, and the daemon's startup/reload messages) ---- */

enum load_code {
	/* errors */
	LOAD_ERR_FILE_READ,
	LOAD_ERR_YAML_PARSE,
	LOAD_ERR_YAML_VALIDATE,
	LOAD_ERR_COMPILE_CONDITION,
	LOAD_ERR_COMPILE_OUTPUT,
	LOAD_ERR_VALIDATE,
	LOAD_ERR_EXTENSION,
	/* warnings */
	LOAD_UNKNOWN_SOURCE,
	LOAD_UNSAFE_NA_CHECK,
	LOAD_NO_EVTTYPE,
	LOAD_UNKNOWN_FILTER,
	LOAD_UNUSED_MACRO,
	LOAD_UNUSED_LIST,
	LOAD_UNKNOWN_ITEM,
	LOAD_DEPRECATED_ITEM,
	LOAD_WARNING_EXTENSION,
	LOAD_APPEND_NO_VALUES,
	LOAD_EXCEPTION_NAME_NOT_UNIQUE,
	LOAD_INVALID_MACRO_NAME,
	LOAD_INVALID_LIST_NAME,
	LOAD_COMPILE_CONDITION,
	LOAD_UNKNOWN_KEY,
	_LOAD_CODE_MAX,
};

const char *load_code_to_string(enum load_code c);   /* "LOAD_ERR_YAML_PARSE" */
const char *load_code_description(enum load_code c); /* upstream's codedesc text */
bool load_code_is_error(enum load_code c);

struct load_location {
	const char *
		item_type; /* "rule", "macro", "list", "rules content", "required_engine_version", ... */
	const char *item_name;
	const char *file;      /* position name (file path) */
	uint32_t line, column; /* 1-based; 0 when unknown */
	uint32_t offset;
};

struct load_msg {
	enum load_code code;
	char *message;
	struct load_location *locations; /* outermost first (file, item, key, condition position) */
	size_t nlocations;
	char *snippet; /* a few lines of the source around the position, or NULL */
};

struct load_result {
	char *name; /* the file path as given */
	bool successful;
	struct load_msg *errors;
	size_t nerrors;
	struct load_msg *warnings;
	size_t nwarnings;
};

/* "file:line:col: LOAD_ERR_X: message" lines, as falco -V prints them in text mode. */
int load_result_to_text(const struct load_result *r, bool verbose, struct strbuf *sb);
/* One element of upstream's {"falco_load_results":[...]} array. */
int load_result_to_json(const struct load_result *r, struct strbuf *sb);

/* ---- loading ---- */

struct rules_options {
	const struct src_def *const
		*sources; /* the sources this engine serves; index = evt->source */
	size_t nsources;
	enum prio min_priority; /* rules less severe are not added (config `priority`); note
					       * that 0 is PRIO_EMERGENCY: use PRIO_DEBUG to keep every rule */
	bool match_all;		/* rule_matching: all (default first) */
	bool keep_expanded;	/* keep each rule's macro-expanded condition (-L, tests) */
	/* extra formatting appended to rule outputs (config append_output), may be NULL */
	const struct rules_append_output *append_output;
	size_t nappend_output;
};

struct rules_append_output {
	const char *source;	  /* NULL = any */
	const char *rule;	  /* NULL = any */
	const char *const *tags;  /* all must be in the rule's tags; NULL-terminated or NULL */
	const char *extra_output; /* appended as " " + extra_output, may be NULL */
	const char *const
		*extra_fields; /* "field" or "name=format" (rendered as a string); may be NULL */
};

struct rules_loader;
struct ruleset;
struct rule;

struct rules_loader *rules_loader_new(const struct rules_options *opts);
struct rules_loader *rules_loader_free(struct rules_loader *l);

/*
 * Adds a rules file, or every .yaml/.yml file of a directory in sorted order. Each file gets its own load
 * result (see rules_loader_results). Returns 0 if the file(s) loaded, -EINVAL if a file had errors (later files
 * are still accepted), -ENOMEM.
 */
int rules_loader_add_path(struct rules_loader *l, const char *path);
/* Adds rules content under a name (tests, and -o rules content). */
int rules_loader_add_content(struct rules_loader *l, const char *name, const char *content,
			     size_t len);
/* Load results so far, one per file, in load order. Borrowed: valid until the next add or the loader's free. */
const struct load_result *rules_loader_results(const struct rules_loader *l, size_t *ret_n);
/* Whether any file produced an error. */
bool rules_loader_failed(const struct rules_loader *l);

/*
 * Builds the compiled, indexed rule set from everything loaded. Returns 0 or -EINVAL when any file failed
 * (no rule set is produced then), -ENOMEM. *ret is owned by the caller.
 * Compilation happens here, once for all files: compile errors and warnings (conditions, outputs, unused
 * macros/lists, LOAD_NO_EVTTYPE...) are added to the load result of the file that holds the item, so read the
 * results (and rules_loader_failed) after this call. Only rules with priority <= min_priority are added.
 * The loader can be freed right after; the rule set does not refer to it.
 */
int rules_loader_finish(struct rules_loader *l, struct ruleset **ret);
struct ruleset *ruleset_free(struct ruleset *rs);

/* ---- selection (config `rules:`, -T/-t/-D) ---- */

/*
 * Enables or disables every rule whose name matches the wildcard pattern (`*` and `?`; NULL = any) and, if tag
 * is not NULL, that carries the tag. Returns how many rules matched.
 */
int ruleset_set_enabled(struct ruleset *rs, const char *name_pattern, const char *tag,
			bool enabled);
/* Enables only rules with at least one of tags, disables the rest (-t). */
int ruleset_enable_only_tags(struct ruleset *rs, const char *const *tags, size_t ntags);

/* ---- introspection ---- */

size_t ruleset_count(const struct ruleset *rs);
size_t ruleset_count_enabled(const struct ruleset *rs);
const struct rule *ruleset_rule(const struct ruleset *rs, size_t i);
/* Union of event types the enabled rules of source need (bits of src->nevttypes), for kernel-side filters. */
int ruleset_evttypes(const struct ruleset *rs, uint16_t source, uint64_t *bits, size_t nwords);
/* Highest required_engine_version seen across files ("0.57.0"), and rule-file versions for /versions. */
const char *ruleset_required_engine_version(const struct ruleset *rs);

const char *rule_name(const struct rule *r);
const char *rule_desc(const struct rule *r);
const char *rule_condition(const struct rule *r); /* as written, after appends */
/* The condition as parsed: with exceptions added and lists substituted (before macro expansion). */
const char *rule_compiled_condition(const struct rule *r);
/* The condition with macros expanded, in flt_dump form; NULL unless rules_options.keep_expanded was set. */
const char *rule_expanded_condition(const struct rule *r);
const char *rule_output(const struct rule *r);
const char *rule_source(const struct rule *r);
enum prio rule_priority(const struct rule *r);
bool rule_enabled(const struct rule *r);
/* Sorted, unique. Borrowed. */
const char *const *rule_tags(const struct rule *r, size_t *ret_n);
uint32_t rule_id(const struct rule *r);		  /* 0 .. ruleset_count-1, stable for a rule set */
uint16_t rule_source_index(const struct rule *r); /* index in rules_options.sources */
/*
 * The rule's event-type set (bits of its source's nevttypes) into bits (nwords words). Returns 1 when the set is
 * empty (the rule then runs for every event type, after the typed rules), 0 otherwise, -EINVAL if nwords is too
 * small.
 */
int rule_evttypes(const struct rule *r, const struct ruleset *rs, uint64_t *bits, size_t nwords);
/* The rule's `capture` flag; *ret_duration_ms (may be NULL) gets capture_duration. */
bool rule_capture(const struct rule *r, uint64_t *ret_duration_ms);

/* ---- evaluation ---- */

/* Per-thread evaluation state for one rule set: per-event arena and field cache. */
struct rs_eval;
struct rs_eval *rs_eval_new(const struct ruleset *rs);
struct rs_eval *rs_eval_free(struct rs_eval *ev);

typedef void (*rule_match_fn)(void *ud, const struct rule *r, struct rs_eval *ev);

/*
 * Makes evt the current event of ev (resets the per-event arena and field cache) without running rules, so
 * outputs and formats can be rendered for it. ruleset_process does this itself.
 */
void rs_eval_begin(struct rs_eval *ev, const struct evt *evt, void *src_state);

/*
 * Runs evt through the enabled rules of its source and event type (first match or all, per options). on_match
 * is called for each matching rule while the event's values are still valid (format the output there).
 * src_state is passed to extractors (fld_ctx.src_state). Returns the number of matches.
 */
int ruleset_process(const struct ruleset *rs, struct rs_eval *ev, const struct evt *evt,
		    void *src_state, rule_match_fn on_match, void *ud);

/* Formats r's output for the current event into sb (text form, "<NA>" for missing values). */
int rule_format_output(const struct rule *r, struct rs_eval *ev, struct strbuf *sb);

/*
 * Calls fn for every field of r's output (plus extra fields), in output order, skipping transformer
 * expressions (upstream omits them from output_fields). value is NULL when the field is missing.
 */
typedef int (*rule_field_fn)(void *ud, const char *name, const struct value *value);
int rule_output_fields(const struct rule *r, struct rs_eval *ev, rule_field_fn fn, void *ud);

/* Formats an arbitrary format string for the current event (the alert prefix "%evt.time"). */
struct fmt;
int fmt_compile(const struct ruleset *rs, uint16_t source, const char *format, struct fmt **ret,
		char *errbuf, size_t errlen);
struct fmt *fmt_free(struct fmt *f);
/* Renders f for ev's current event (inside on_match, or after rs_eval_begin). Returns 0 or -ENOMEM. */
int fmt_render(const struct fmt *f, struct rs_eval *ev, struct strbuf *sb);
