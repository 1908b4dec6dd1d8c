/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Canonical text of an AST. The output parses back to the same AST (and/or chains print parenthesized,
 * literals that were quoted print double-quoted with escapes), so tests and -L can compare it as text.
 */
#include <errno.h>
#include <string.h>

#include "flt_internal.h"

static const char *const op_names[_OP_MAX] = {
	[OP_EQ] = "=",
	[OP_NE] = "!=",
	[OP_LT] = "<",
	[OP_LE] = "<=",
	[OP_GT] = ">",
	[OP_GE] = ">=",
	[OP_CONTAINS] = "contains",
	[OP_ICONTAINS] = "icontains",
	[OP_BCONTAINS] = "bcontains",
	[OP_STARTSWITH] = "startswith",
	[OP_BSTARTSWITH] = "bstartswith",
	[OP_ENDSWITH] = "endswith",
	[OP_GLOB] = "glob",
	[OP_IGLOB] = "iglob",
	[OP_REGEX] = "regex",
	[OP_IN] = "in",
	[OP_INTERSECTS] = "intersects",
	[OP_PMATCH] = "pmatch",
	[OP_EXISTS] = "exists",
};

const char *flt_op_to_string(enum flt_op op)
{
	return (unsigned)op < _OP_MAX ? op_names[op] : NULL;
}

static const char *mod_name(enum flt_mod m)
{
	switch (m) {
	case MOD_ONEOF:
		return "oneof";
	case MOD_ANYOF:
		return "anyof";
	case MOD_ALLOF:
		return "allof";
	default:
		return NULL;
	}
}

static void dump_quoted(struct strbuf *sb, const char *s, uint32_t len)
{
	strbuf_appendc(sb, '"');
	for (uint32_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"':
			strbuf_appends(sb, "\\\"");
			break;
		case '\\':
			strbuf_appends(sb, "\\\\");
			break;
		case '\n':
			strbuf_appends(sb, "\\n");
			break;
		case '\t':
			strbuf_appends(sb, "\\t");
			break;
		case '\r':
			strbuf_appends(sb, "\\r");
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				strbuf_appendf(sb, "\\x%02x", c);
			else
				strbuf_appendc(sb, (char)c);
		}
	}
	strbuf_appendc(sb, '"');
}

static void dump_lit(struct strbuf *sb, const char *s, uint32_t len, bool quoted)
{
	/* an AST built by hand (not parsed) may hold a "bare" literal that would not lex back as one */
	for (uint32_t i = 0; !quoted && i < len; i++)
		quoted = !flt_is_bare_char((unsigned char)s[i]);
	if (quoted || len == 0)
		dump_quoted(sb, s, len);
	else
		strbuf_append(sb, s, len);
}

static void dump_arg(struct strbuf *sb, const char *arg, uint32_t len)
{
	bool bare = len > 0;
	if (!arg)
		return;
	for (uint32_t i = 0; bare && i < len; i++)
		bare = flt_is_field_arg_bare_char((unsigned char)arg[i]);
	strbuf_appendc(sb, '[');
	dump_lit(sb, arg, len, !bare);
	strbuf_appendc(sb, ']');
}

static void dump_expr(struct strbuf *sb, const struct flt_expr *e)
{
	switch (e->kind) {
	case FE_FIELD:
		strbuf_appends(sb, e->field.name);
		dump_arg(sb, e->field.arg, e->field.arg_len);
		break;
	case FE_TRANSFORMER:
		strbuf_appends(sb, flt_transformer_to_string(e->tr.tr));
		strbuf_appendc(sb, '(');
		for (uint32_t i = 0; i < e->tr.nargs; i++) {
			if (i)
				strbuf_appends(sb, ", ");
			dump_expr(sb, e->tr.args[i]);
		}
		strbuf_appendc(sb, ')');
		dump_arg(sb, e->tr.arg, e->tr.arg_len);
		break;
	case FE_STRING:
	case FE_NUMBER:
		dump_lit(sb, e->lit.s, e->lit.len, e->lit.quoted);
		break;
	case FE_LIST:
		strbuf_appendc(sb, '(');
		for (uint32_t i = 0; i < e->list.n; i++) {
			if (i)
				strbuf_appends(sb, ", ");
			dump_expr(sb, e->list.items[i]);
		}
		strbuf_appendc(sb, ')');
		break;
	}
}

static void dump_node(struct strbuf *sb, const struct flt_node *n)
{
	switch (n->kind) {
	case FN_AND:
	case FN_OR:
		strbuf_appendc(sb, '(');
		for (uint32_t i = 0; i < n->list.n; i++) {
			if (i)
				strbuf_appends(sb, n->kind == FN_AND ? " and " : " or ");
			dump_node(sb, n->list.children[i]);
		}
		strbuf_appendc(sb, ')');
		break;
	case FN_NOT:
		/* "not not x" would parse back as x: every 'not' toggles */
		strbuf_appends(sb, n->child->kind == FN_NOT ? "not (" : "not ");
		dump_node(sb, n->child);
		if (n->child->kind == FN_NOT)
			strbuf_appendc(sb, ')');
		break;
	case FN_IDENT:
		strbuf_appends(sb, n->ident.name);
		break;
	case FN_CHECK:
		dump_expr(sb, n->check.lhs);
		strbuf_appendc(sb, ' ');
		strbuf_appends(sb, flt_op_to_string(n->check.op) ?: "?");
		if (n->check.mod != MOD_NONE) {
			strbuf_appendc(sb, ' ');
			strbuf_appends(sb, mod_name(n->check.mod));
		}
		switch (n->check.rhs_kind) {
		case RHS_NONE:
			break;
		case RHS_VALUE:
			strbuf_appendc(sb, ' ');
			dump_lit(sb, n->check.rhs.value.s, n->check.rhs.value.len,
				 n->check.rhs.value.quoted);
			break;
		case RHS_LIST:
			strbuf_appends(sb, " (");
			for (uint32_t i = 0; i < n->check.rhs.list.n; i++) {
				const struct flt_literal *l = &n->check.rhs.list.items[i];
				if (i)
					strbuf_appends(sb, ", ");
				dump_lit(sb, l->s, l->len, l->quoted);
			}
			strbuf_appendc(sb, ')');
			break;
		case RHS_EXPR:
			strbuf_appendc(sb, ' ');
			dump_expr(sb, n->check.rhs.expr);
			break;
		}
		break;
	}
}

int flt_dump(struct strbuf *sb, const struct flt_node *n)
{
	dump_node(sb, n);
	return sb->failed ? -ENOMEM : 0;
}

/* Output formats print expressions back (e.g. as output_fields keys), so they get the same canonical text. */
int flt_dump_expr(struct strbuf *sb, const struct flt_expr *e)
{
	dump_expr(sb, e);
	return sb->failed ? -ENOMEM : 0;
}
