/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load results: the errors and warnings of each rules file as values (code, message, chain of locations,
 * snippet), and their two renderings: text lines for humans and upstream's falco_load_results JSON element.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "rules_internal.h"

static const struct {
	const char *name;
	const char *desc;
} codes[_LOAD_CODE_MAX] = {
	[LOAD_ERR_FILE_READ] = {"LOAD_ERR_FILE_READ", "Error reading file"},
	[LOAD_ERR_YAML_PARSE] = {"LOAD_ERR_YAML_PARSE", "Error parsing YAML"},
	[LOAD_ERR_YAML_VALIDATE] = {"LOAD_ERR_YAML_VALIDATE",
				    "Error validating internal structure of YAML file"},
	[LOAD_ERR_COMPILE_CONDITION] = {"LOAD_ERR_COMPILE_CONDITION", "Error compiling condition"},
	[LOAD_ERR_COMPILE_OUTPUT] = {"LOAD_ERR_COMPILE_OUTPUT", "Error compiling output"},
	[LOAD_ERR_VALIDATE] = {"LOAD_ERR_VALIDATE",
			       "Error validating rule/macro/list/exception objects"},
	[LOAD_ERR_EXTENSION] = {"LOAD_ERR_EXTENSION", "Error in extension item"},
	[LOAD_UNKNOWN_SOURCE] = {"LOAD_UNKNOWN_SOURCE", "Unknown event source"},
	[LOAD_UNSAFE_NA_CHECK] = {"LOAD_UNSAFE_NA_CHECK", "Unsafe <NA> comparison in condition"},
	[LOAD_NO_EVTTYPE] = {"LOAD_NO_EVTTYPE", "Condition has no event-type restriction"},
	[LOAD_UNKNOWN_FILTER] = {"LOAD_UNKNOWN_FILTER",
				 "Unknown field or event-type in condition or output"},
	[LOAD_UNUSED_MACRO] = {"LOAD_UNUSED_MACRO", "Unused macro"},
	[LOAD_UNUSED_LIST] = {"LOAD_UNUSED_LIST", "Unused list"},
	[LOAD_UNKNOWN_ITEM] = {"LOAD_UNKNOWN_ITEM", "Unknown rules file item"},
	[LOAD_DEPRECATED_ITEM] = {"LOAD_DEPRECATED_ITEM", "Used deprecated item"},
	[LOAD_WARNING_EXTENSION] = {"LOAD_WARNING_EXTENSION", "Extension item has a warning"},
	[LOAD_APPEND_NO_VALUES] = {"LOAD_APPEND_NO_VALUES", "Overriding/appending with no values"},
	[LOAD_EXCEPTION_NAME_NOT_UNIQUE] = {"LOAD_EXCEPTION_NAME_NOT_UNIQUE",
					    "Multiple exceptions defined with the same name"},
	[LOAD_INVALID_MACRO_NAME] = {"LOAD_INVALID_MACRO_NAME", "Invalid macro name"},
	[LOAD_INVALID_LIST_NAME] = {"LOAD_INVALID_LIST_NAME", "Invalid list name"},
	[LOAD_COMPILE_CONDITION] = {"LOAD_COMPILE_CONDITION", "Condition has a warning"},
	[LOAD_UNKNOWN_KEY] = {"LOAD_UNKNOWN_KEY", "Unknown key in rules file item"},
};

const char *load_code_to_string(enum load_code c)
{
	return (unsigned)c < _LOAD_CODE_MAX ? codes[c].name : "LOAD_UNKNOWN_CODE";
}

const char *load_code_description(enum load_code c)
{
	return (unsigned)c < _LOAD_CODE_MAX ? codes[c].desc : "";
}

bool load_code_is_error(enum load_code c)
{
	return c <= LOAD_ERR_EXTENSION;
}

void load_result_done(struct load_result *r)
{
	/* strings and locations live in the loader's arena; only the arrays are ours */
	free(r->errors);
	free(r->warnings);
	r->errors = r->warnings = NULL;
	r->nerrors = r->nwarnings = 0;
}

/* ---- building messages ---- */

void rl_where_push(struct rl_where *w, const char *type, const char *name, int32_t file,
		   uint32_t off)
{
	if (w->n >= RL_WHERE_MAX)
		return;
	w->l[w->n++] =
		(struct rl_loc){.type = type, .name = name ? name : "", .file = file, .off = off};
}

void rl_where_node(struct rules_loader *l, struct rl_where *w, const char *type, const char *name,
		   uint32_t file, const struct ynode *node)
{
	/* most chains are built for items that load fine: the offset is computed only for a message */
	unsigned before = w->n;
	rl_where_push(w, type, name, (int32_t)file, 0);
	if (w->n > before)
		w->l[w->n - 1].node = node;
}

void rl_where_seg(struct rules_loader *l, struct rl_where *w, const char *type,
		  const struct rl_seg *seg)
{
	if (!seg || !seg->node) {
		rl_where_push(w, type, "", -1, 0);
		return;
	}
	uint32_t off = rl_scalar_offset(&l->files[seg->file], seg->node, seg->node_off);
	rl_where_push(w, type, "", (int32_t)seg->file, off);
}

/* The line holding off, then a caret under it; long lines are cut around the position. */
static char *make_snippet(struct arena *a, struct rl_file *f, uint32_t off)
{
	enum { WIDTH = 160 };
	struct strbuf sb;
	size_t ls = off, le = off;

	if (off > f->len)
		return NULL;
	while (ls > 0 && f->content[ls - 1] != '\n')
		ls--;
	while (le < f->len && f->content[le] != '\n' && f->content[le] != '\r')
		le++;
	size_t from = ls, to = le;
	if (off - ls > WIDTH / 2)
		from = off - WIDTH / 2;
	if (to - from > WIDTH)
		to = from + WIDTH;

	strbuf_init(&sb, 4096);
	if (from > ls)
		strbuf_appends(&sb, "...");
	strbuf_append(&sb, f->content + from, to - from);
	if (to < le)
		strbuf_appends(&sb, "...");
	strbuf_appendc(&sb, '\n');
	if (from > ls)
		strbuf_appends(&sb, "   ");
	/* keep tabs so the caret lines up in a terminal */
	for (size_t i = from; i < off; i++)
		strbuf_appendc(&sb, f->content[i] == '\t' ? '\t' : ' ');
	strbuf_appends(&sb, "^\n");
	char *s = sb.failed ? NULL : arena_strdup(a, strbuf_str(&sb));
	strbuf_done(&sb);
	return s;
}

int rl_msg(struct rules_loader *l, uint32_t fallback, enum load_code code, const struct rl_where *w,
	   const char *fmt, ...)
{
	bool is_err = load_code_is_error(code);
	int ret = is_err ? -EINVAL : 0;
	uint32_t fi = fallback;
	int inner = -1;
	char buf[2048];
	va_list ap;

	if (is_err)
		l->failed = true;
	for (unsigned i = 0; i < w->n; i++)
		if (w->l[i].file >= 0)
			inner = (int)i;
	if (inner >= 0)
		fi = (uint32_t)w->l[inner].file;
	if (fi >= l->nfiles)
		return ret;

	struct load_result *r = &l->results[fi];
	if (is_err)
		r->successful = false;
	if (r->nerrors + r->nwarnings >= RULES_MAX_MESSAGES)
		return ret;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);

	struct load_msg m = {.code = code};
	m.message = arena_strdup(&l->arena, buf);
	m.locations = arena_zalloc(&l->arena, (w->n ? w->n : 1) * sizeof(*m.locations));
	if (!m.message || !m.locations)
		return -ENOMEM;
	m.nlocations = w->n;
	for (unsigned i = 0; i < w->n; i++) {
		const struct rl_loc *lc = &w->l[i];
		struct load_location *ll = &m.locations[i];
		ll->item_type = lc->type;
		ll->item_name = lc->name ? lc->name : "";
		if (lc->file >= 0 && (size_t)lc->file < l->nfiles) {
			struct rl_file *f = &l->files[lc->file];
			ll->file = f->name;
			ll->offset = lc->node ? rl_node_offset(f, lc->node) : lc->off;
			rl_offset_linecol(f, ll->offset, &ll->line, &ll->column);
		} else {
			ll->file = l->files[fi].name;
		}
	}
	if (inner >= 0)
		m.snippet = make_snippet(&l->arena, &l->files[fi], m.locations[inner].offset);

	struct load_msg **arr = is_err ? &r->errors : &r->warnings;
	size_t *n = is_err ? &r->nerrors : &r->nwarnings;
	struct load_msg *na = realloc(*arr, (*n + 1) * sizeof(*na));
	if (!na)
		return -ENOMEM;
	*arr = na;
	na[(*n)++] = m;
	return ret;
}

/* ---- rendering ---- */

static const struct load_location *innermost(const struct load_msg *m)
{
	for (size_t i = m->nlocations; i-- > 0;)
		if (m->locations[i].line)
			return &m->locations[i];
	return NULL;
}

static void text_line(const struct load_result *r, const struct load_msg *m, struct strbuf *sb)
{
	const struct load_location *p = innermost(m);

	if (p)
		strbuf_appendf(sb, "%s:%u:%u: ", p->file, p->line, p->column);
	else
		strbuf_appendf(sb, "%s: ", r->name);
	strbuf_appendf(sb, "%s: %s\n", load_code_to_string(m->code), m->message);
}

static void text_block(const struct load_msg *m, struct strbuf *sb)
{
	for (size_t i = 0; i < m->nlocations; i++) {
		const struct load_location *p = &m->locations[i];
		strbuf_appends(sb, i == 0 ? "In " : "    ");
		strbuf_appends(sb, p->item_type);
		if (p->item_name && *p->item_name)
			strbuf_appendf(sb, " '%s'", p->item_name);
		strbuf_appendf(sb, ": (%s:%u:%u)\n", p->file ? p->file : "", p->line, p->column);
	}
	if (m->snippet) {
		strbuf_appends(sb, "------\n");
		strbuf_appends(sb, m->snippet);
		strbuf_appends(sb, "------\n");
	}
	strbuf_appendf(sb, "%s (%s): %s\n", load_code_to_string(m->code),
		       load_code_description(m->code), m->message);
}

int load_result_to_text(const struct load_result *r, bool verbose, struct strbuf *sb)
{
	if (!verbose) {
		for (size_t i = 0; i < r->nerrors; i++)
			text_line(r, &r->errors[i], sb);
		for (size_t i = 0; i < r->nwarnings; i++)
			text_line(r, &r->warnings[i], sb);
		return sb->failed ? -ENOMEM : 0;
	}

	strbuf_appendf(sb, "%s: %s%s\n", r->name, r->successful ? "Ok" : "Invalid",
		       r->successful && r->nwarnings ? ", with warnings" : "");
	if (r->nerrors) {
		strbuf_appendf(sb, "%zu Errors:\n", r->nerrors);
		for (size_t i = 0; i < r->nerrors; i++)
			text_block(&r->errors[i], sb);
	}
	if (r->nwarnings) {
		strbuf_appendf(sb, "%zu Warnings:\n", r->nwarnings);
		for (size_t i = 0; i < r->nwarnings; i++)
			text_block(&r->warnings[i], sb);
	}
	return sb->failed ? -ENOMEM : 0;
}

static void json_str(struct strbuf *sb, const char *s)
{
	if (!s)
		s = "";
	strbuf_append_json_str(sb, s, strlen(s));
}

/* Keys in sorted order, as upstream's nlohmann::json (a std::map) prints them. */
static void json_msg(const struct load_msg *m, struct strbuf *sb)
{
	strbuf_appends(sb, "{\"code\":");
	json_str(sb, load_code_to_string(m->code));
	strbuf_appends(sb, ",\"codedesc\":");
	json_str(sb, load_code_description(m->code));
	strbuf_appends(sb, ",\"context\":{\"locations\":[");
	for (size_t i = 0; i < m->nlocations; i++) {
		const struct load_location *p = &m->locations[i];
		if (i)
			strbuf_appendc(sb, ',');
		strbuf_appends(sb, "{\"item_name\":");
		json_str(sb, p->item_name);
		strbuf_appends(sb, ",\"item_type\":");
		json_str(sb, p->item_type);
		strbuf_appends(sb, ",\"position\":{\"column\":");
		strbuf_appendf(sb, "%u,\"line\":%u,\"name\":", p->column, p->line);
		json_str(sb, p->file);
		strbuf_appendf(sb, ",\"offset\":%u}}", p->offset);
	}
	strbuf_appends(sb, "],\"snippet\":");
	json_str(sb, m->snippet);
	strbuf_appends(sb, "},\"message\":");
	json_str(sb, m->message);
	strbuf_appendc(sb, '}');
}

int load_result_to_json(const struct load_result *r, struct strbuf *sb)
{
	strbuf_appends(sb, "{\"errors\":[");
	for (size_t i = 0; i < r->nerrors; i++) {
		if (i)
			strbuf_appendc(sb, ',');
		json_msg(&r->errors[i], sb);
	}
	strbuf_appends(sb, "],\"name\":");
	json_str(sb, r->name);
	strbuf_appendf(sb, ",\"successful\":%s,\"warnings\":[", r->successful ? "true" : "false");
	for (size_t i = 0; i < r->nwarnings; i++) {
		if (i)
			strbuf_appendc(sb, ',');
		json_msg(&r->warnings[i], sb);
	}
	strbuf_appends(sb, "]}");
	return sb->failed ? -ENOMEM : 0;
}
