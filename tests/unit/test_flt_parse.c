/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Parser tests: condition text → canonical dump, or "line:col: message" for errors. The expectations are
 * written from the grammar in the rules reference (§2.1, §2.2), not from running the parser.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/strbuf.h"
#include "falco/engine/flt.h"

/* The transformer list upstream appends to "... or a field with a valid transformer: " */
#define TR "'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'"

struct pcase {
	const char *in;
	const char *out; /* dump, or "line:col: msg" */
};

static const struct pcase cases[] = {
	/* checks and every operator */
	{"proc.name = cat", "proc.name = cat"},
	{"proc.name == cat", "proc.name = cat"},
	{"proc.name=cat", "proc.name = cat"},
	{"proc.name != cat", "proc.name != cat"},
	{"proc.pid < 1", "proc.pid < 1"},
	{"proc.pid <= 1", "proc.pid <= 1"},
	{"proc.pid > -1", "proc.pid > -1"},
	{"proc.pid >= +1.5", "proc.pid >= +1.5"},
	{"proc.pid>=0x1F", "proc.pid >= 0x1F"},
	{"proc.pid > 1.5e+10", "proc.pid > 1.5e+10"},
	{"proc.name contains sh", "proc.name contains sh"},
	{"proc.name icontains SH", "proc.name icontains SH"},
	{"evt.buffer bcontains 0a0b", "evt.buffer bcontains 0a0b"},
	{"proc.name startswith ba", "proc.name startswith ba"},
	{"evt.buffer bstartswith 0A", "evt.buffer bstartswith 0A"},
	{"proc.name endswith sh", "proc.name endswith sh"},
	{"fd.name glob '/etc/*'", "fd.name glob \"/etc/*\""},
	{"fd.name iglob /ETC/*", "fd.name iglob /ETC/*"},
	{"proc.name regex 'ba.h'", "proc.name regex \"ba.h\""},
	{"proc.name in (a, b, 'c d')", "proc.name in (a, b, \"c d\")"},
	{"proc.name in(a,b)", "proc.name in (a, b)"},
	{"proc.name in ()", "proc.name in ()"},
	{"proc.name in ( )", "proc.name in ()"},
	{"ka.user.groups intersects (x)", "ka.user.groups intersects (x)"},
	{"fd.name pmatch (/etc, /usr/bin)", "fd.name pmatch (/etc, /usr/bin)"},
	{"proc.name exists", "proc.name exists"},
	{"proc.name in shell_binaries", "proc.name in (shell_binaries)"},
	{"proc.name pmatch mylist", "proc.name pmatch (mylist)"},
	{"proc.name inx", "proc.name in (x)"},
	/* modifiers */
	{"proc.name = oneof (a, b)", "proc.name = oneof (a, b)"},
	{"proc.name contains anyof (a, b)", "proc.name contains anyof (a, b)"},
	{"proc.name startswith allof (a)", "proc.name startswith allof (a)"},
	{"proc.name = anyof mylist", "proc.name = anyof (mylist)"},
	{"proc.name = anyof and a", "(proc.name = anyof and a)"},
	{"proc.name = anyof", "proc.name = anyof"},
	{"proc.name glob allof ('*a', b*)", "proc.name glob allof (\"*a\", b*)"},
	/* and / or / not */
	{"a and b and c", "(a and b and c)"},
	{"a or b and c", "(a or (b and c))"},
	{"a and b or c and d", "((a and b) or (c and d))"},
	{"(a or b) and c", "((a or b) and c)"},
	{"a and (b and c)", "(a and (b and c))"},
	{"not a", "not a"},
	{"not not a", "a"},
	{"not not not a", "not a"},
	{"not(a)", "not a"},
	{"not (not a)", "not (not a)"},
	{"a and not b", "(a and not b)"},
	{"a and(b)", "(a and b)"},
	{"a or(b or c)", "(a or (b or c))"},
	{"notfoo", "notfoo"},
	{"nota and b", "(nota and b)"},
	{"  a\n\tand\r\n b  ", "(a and b)"},
	{"((((a))))", "a"},
	{"a and\bb", "(a and b)"},
	/* identifiers vs fields */
	{"evt.type=open", "evt.type = open"},
	{"k8s_audit_always_true", "k8s_audit_always_true"},
	{"a1_b", "a1_b"},
	{"proc.aname[2] = bash", "proc.aname[2] = bash"},
	{"jevt.value[/a/b] = x", "jevt.value[/a/b] = x"},
	{"jevt.value['/a b'] = x", "jevt.value[\"/a b\"] = x"},
	{"jevt.value[\"/x\\ty\"] = x", "jevt.value[\"/x\\ty\"] = x"},
	{"container.mount.dest[/proc*] exists", "container.mount.dest[/proc*] exists"},
	{"evt.arg.flags contains O_TRUNC", "evt.arg.flags contains O_TRUNC"},
	{"a.b.c.d_e.f1 = 1", "a.b.c.d_e.f1 = 1"},
	/* strings and escapes */
	{"proc.name = \"a b\"", "proc.name = \"a b\""},
	{"proc.name = 'a\"b'", "proc.name = \"a\\\"b\""},
	{"proc.name = \"\"", "proc.name = \"\""},
	{"proc.name = ''", "proc.name = \"\""},
	{"proc.name = \"\\b\\f\\n\\r\\t\\\\\\/\"", "proc.name = \"\\x08\\x0c\\n\\r\\t\\\\/\""},
	{"proc.name = \"\\x41\\x7a\"", "proc.name = \"Az\""},
	{"proc.name = \"a\\\"b\"", "proc.name = \"a\\\"b\""},
	{"proc.name = 'it\\'s'", "proc.name = \"it's\""},
	{"proc.name = \"a\\ b\"", "proc.name = \"a\\\\b\""},
	/* "a\\" does not close at its last quote: the string runs to the next quote not after a backslash */
	{"proc.name = \"a\\\\\"b\"", "proc.name = \"a\\\\\\\"b\""},
	{"proc.name = a/b:c*d", "proc.name = a/b:c*d"},
	{"proc.name = 'a,b=c(d)'", "proc.name = \"a,b=c(d)\""},
	/* transformers */
	{"tolower(proc.name) = bash", "tolower(proc.name) = bash"},
	{"toupper(basename(proc.exe)) = BASH", "toupper(basename(proc.exe)) = BASH"},
	{"b64(evt.buffer) contains x", "b64(evt.buffer) contains x"},
	{"len(proc.name) > 3", "len(proc.name) > 3"},
	{"proc.pid > len(proc.name)", "proc.pid > len(proc.name)"},
	{"join(',', ka.user.groups) = 'a,b'", "join(\",\", ka.user.groups) = \"a,b\""},
	{"concat(proc.name, '-', proc.pname) = a-b", "concat(proc.name, \"-\", proc.pname) = a-b"},
	{"getopt(proc.args, 'nt:')[t] = x", "getopt(proc.args, \"nt:\")[t] = x"},
	{"(n, t) in getopt(proc.args, \"nt:\")", "1:3: expected a ')' token"},
	{"proc.name = val(proc.pname)", "proc.name = val(proc.pname)"},
	{"proc.name=val( proc.pname )", "proc.name = val(proc.pname)"},
	{"proc.name in val(proc.pname)", "proc.name in val(proc.pname)"},
	{"proc.name = tolower(proc.pname)", "proc.name = tolower(proc.pname)"},
	{"proc.name = tolower", "proc.name = tolower"},
	{"tolower", "tolower"},
	{"join(',', (proc.name, 'x', 1)) exists", "join(\",\", (proc.name, \"x\", 1)) exists"},
	{"len(0x10) exists", "len(0x10) exists"},
	/* errors */
	{"", "1:1: filter input string is empty"},
	{"   ", "1:4: expected a '(' token, a field check, or an identifier"},
	{"a b", "1:3: unexpected token after 'a', expecting 'or', 'and'"},
	{"proc.name = a b", "1:15: unexpected token after 'a', expecting 'or', 'and'"},
	{"proc.name = 'a' b", "1:17: unexpected token after ''a'', expecting 'or', 'and'"},
	{"a andb", "1:6: expected blank or '(' after 'and'"},
	{"a orb", "1:5: expected blank or '(' after 'or'"},
	{"a or(b) and c", "1:9: unexpected token after ')', expecting 'or', 'and'"},
	{"(a", "1:3: expected a ')' token"},
	{"a)", "1:2: unexpected token after 'a', expecting 'or', 'and'"},
	{"proc.name",
	 "1:10: expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', "
	 "'=', '!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', "
	 "'bstartswith', 'endswith', 'regex', 'intersects', 'in', 'pmatch'"},
	{"proc.name containsx",
	 "1:19: expected a valid check operator: one of 'exists', '<=', '<', "
	 "'>=', '>', '==', '=', '!=', 'glob', 'iglob', 'contains', 'icontains', "
	 "'bcontains', 'startswith', 'bstartswith', 'endswith', 'regex', "
	 "'intersects', 'in', 'pmatch'"},
	{"proc.name < abc",
	 "1:13: expected a number value or a field with a valid transformer: " TR},
	{"proc.name = ", "1:13: expected a string value or a field with a valid transformer: " TR},
	{"proc.name = (a)",
	 "1:13: expected a string value or a field with a valid transformer: " TR},
	{"proc.name in /bin",
	 "1:14: expected a list, an identifier, or a field with a valid transformer: " TR},
	{"proc.name in (a b)", "1:17: expected a ')' token"},
	{"proc.name in (a,)", "1:17: expected a string value"},
	{"proc.name = \"abc",
	 "1:13: expected a string value or a field with a valid transformer: " TR},
	{"proc.name = \"a\\qb\"", "1:19: unsupported string escape sequence: \\q"},
	{"proc.name = \"a\\'b\"", "1:19: invalid \\' escape in \"-quoted string"},
	{"proc.name = 'a\\\"b'", "1:19: invalid \\\" escape in '-quoted string"},
	{"proc.name = \"\\x4g\"", "1:19: unsupported string escape sequence: \\x"},
	{"proc.name = \"\\x4\"", "1:18: unsupported string escape sequence: \\x"},
	{"a and\n  proc.name = \"\\z\"", "2:19: unsupported string escape sequence: \\z"},
	{"a and\nb c", "2:3: unexpected token after 'b', expecting 'or', 'and'"},
	/* upstream quirks: a word operator without its blank is not backtracked over (list operators are
       tried after the word); a bad first list value reads as an empty list; CR starts a line */
	{"proc.name globin (a)", "proc.name in (a)"},
	{"proc.name in (\"a\\q\")", "proc.name in ()"},
	{"a and\rb c", "2:3: unexpected token after 'b', expecting 'or', 'and'"},
	{"not\fa", "not a"},
	{"a and\fb", "1:6: expected blank or '(' after 'and'"},
	{"join(',', (0x1f, 'x')) exists", "join(\",\", (0x1f, \"x\")) exists"},
	{"join(',', (a.b c.d)) exists", "1:16: expected ')'"},
	{"join(',', (a.b, ( ))) exists",
	 "1:17: expected transformer list argument: field, transformer, quoted string, or number"},
	{"proc.aname[] = a",
	 "1:12: expected a valid field argument: a quoted string or a bare string"},
	{"proc.aname[1 = a", "1:13: expected a ']' token"},
	{"tolower() = a",
	 "1:9: expected field transformer argument: field, transformer, quoted string, number, or transformer list"},
	{"tolower(proc.name = a", "1:19: expected a ')' token closing the transformer"},
	{"proc.name = val(x)", "1:17: expected a field within 'val' transformer"},
	{"proc.name = val(a.b, c.d)", "1:20: expected a ')' token closing the transformer"},
	{"= a", "1:1: expected a '(' token, a field check, or an identifier"},
	{"a and", "1:6: expected blank or '(' after 'and'"},
	{"a and ", "1:7: expected a '(' token, a field check, or an identifier"},
};

static void test_parse_table(void **state)
{
	struct strbuf sb;
	int failures = 0;

	strbuf_init(&sb, 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct pcase *c = &cases[i];
		struct arena a;
		struct flt_node *n = NULL;
		struct flt_error err = {0};
		arena_init(&a, 0, 0);
		strbuf_reset(&sb);
		int r = flt_parse(c->in, strlen(c->in), &a, &n, &err);
		if (r == 0)
			assert_int_equal(flt_dump(&sb, n), 0);
		else
			strbuf_appendf(&sb, "%u:%u: %s", err.pos.line, err.pos.col, err.msg);
		if (strcmp(strbuf_str(&sb), c->out) != 0) {
			fprintf(stderr, "case %zu: %s\n  want: %s\n  got:  %s\n", i, c->in, c->out,
				strbuf_str(&sb));
			failures++;
		}
		/* a successful dump parses back to itself */
		if (r == 0) {
			struct flt_node *n2;
			struct strbuf sb2;
			strbuf_init(&sb2, 0);
			char *copy = strdup(strbuf_str(&sb));
			assert_non_null(copy);
			if (flt_parse(copy, strlen(copy), &a, &n2, &err) != 0 ||
			    flt_dump(&sb2, n2) != 0 || strcmp(strbuf_str(&sb2), copy) != 0) {
				fprintf(stderr, "case %zu: dump does not round-trip: %s -> %s\n", i,
					copy, strbuf_str(&sb2));
				failures++;
			}
			free(copy);
			strbuf_done(&sb2);
		}
		arena_done(&a);
	}
	strbuf_done(&sb);
	assert_int_equal(failures, 0);
}

static char *nested(int depth, const char *inner)
{
	size_t n = strlen(inner) + 2 * (size_t)depth + 1;
	char *s = malloc(n);
	assert_non_null(s);
	memset(s, '(', depth);
	memcpy(s + depth, inner, strlen(inner));
	memset(s + depth + strlen(inner), ')', depth);
	s[n - 1] = '\0';
	return s;
}

static void test_parse_depth(void **state)
{
	struct arena a;
	struct flt_node *n;
	struct flt_error err;

	arena_init(&a, 0, 0);
	char *ok = nested(FLT_MAX_DEPTH, "a");
	assert_int_equal(flt_parse(ok, strlen(ok), &a, &n, &err), 0);
	assert_int_equal(n->kind, FN_IDENT);
	char *bad = nested(FLT_MAX_DEPTH + 1, "a");
	assert_int_equal(flt_parse(bad, strlen(bad), &a, &n, &err), -EINVAL);
	assert_string_equal(err.msg, "exceeded max depth limit of 1000");
	assert_int_equal(err.pos.col, FLT_MAX_DEPTH + 2);
	free(ok);
	free(bad);

	/* alternating and/or nesting builds a deep AST: parse, dump and clone it at the limit */
	struct strbuf sb;
	strbuf_init(&sb, 0);
	for (int i = 0; i < FLT_MAX_DEPTH; i++)
		strbuf_appends(&sb, i % 2 ? "a or (" : "b and (");
	strbuf_appends(&sb, "c");
	for (int i = 0; i < FLT_MAX_DEPTH; i++)
		strbuf_appendc(&sb, ')');
	char *deep = strbuf_steal(&sb);
	assert_int_equal(flt_parse(deep, strlen(deep), &a, &n, &err), 0);
	struct flt_node *c = flt_clone(&a, n);
	assert_non_null(c);
	strbuf_init(&sb, 0);
	assert_int_equal(flt_dump(&sb, c), 0);
	assert_true(sb.len > 4 * FLT_MAX_DEPTH);
	strbuf_done(&sb);
	free(deep);

	/* transformers nest too */
	strbuf_init(&sb, 0);
	for (int i = 0; i < FLT_MAX_DEPTH + 1; i++)
		strbuf_appends(&sb, "tolower(");
	strbuf_appends(&sb, "proc.name");
	for (int i = 0; i < FLT_MAX_DEPTH + 1; i++)
		strbuf_appendc(&sb, ')');
	strbuf_appends(&sb, " = a");
	deep = strbuf_steal(&sb);
	assert_int_equal(flt_parse(deep, strlen(deep), &a, &n, &err), -EINVAL);
	assert_string_equal(err.msg, "exceeded max depth limit of 1000");
	free(deep);
	arena_done(&a);
}

static void test_parse_positions(void **state)
{
	struct arena a;
	struct flt_node *n;
	struct flt_error err;
	const char *s = "a and\n  proc.name = \"x\" and\n\tnot b";

	arena_init(&a, 0, 0);
	assert_int_equal(flt_parse(s, strlen(s), &a, &n, &err), 0);
	assert_int_equal(n->kind, FN_AND);
	assert_int_equal(n->list.n, 3);
	struct flt_node *c = n->list.children[1];
	assert_int_equal(c->kind, FN_CHECK);
	assert_int_equal(c->pos.line, 2);
	assert_int_equal(c->pos.col, 3);
	assert_int_equal(c->pos.idx, 8);
	assert_int_equal(c->check.rhs.value.pos.col, 15);
	assert_true(c->check.rhs.value.quoted);
	assert_int_equal(n->list.children[2]->kind, FN_NOT);
	assert_int_equal(n->list.children[2]->pos.line, 3);
	assert_int_equal(n->list.children[2]->pos.col, 2);
	arena_done(&a);
}

/* line/col of idx counted from the start, CR and LF each ending a line: what every position must say */
static void assert_pos_consistent(const char *s, const struct flt_pos *p)
{
	uint32_t line = 1, col = 1;
	for (uint32_t i = 0; i < p->idx; i++) {
		if (s[i] == '\n' || s[i] == '\r') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	assert_int_equal(p->line, line);
	assert_int_equal(p->col, col);
}

static void check_node_positions(const char *s, const struct flt_node *n, unsigned *count)
{
	(*count)++;
	assert_pos_consistent(s, &n->pos);
	switch (n->kind) {
	case FN_AND:
	case FN_OR:
		for (uint32_t i = 0; i < n->list.n; i++)
			check_node_positions(s, n->list.children[i], count);
		break;
	case FN_NOT:
		check_node_positions(s, n->child, count);
		break;
	case FN_CHECK:
		assert_pos_consistent(s, &n->check.lhs->pos);
		if (n->check.rhs_kind == RHS_VALUE)
			assert_pos_consistent(s, &n->check.rhs.value.pos);
		break;
	case FN_IDENT:
		break;
	}
}

/* Nodes are made after their children (positions asked for out of order): each must still be exact. */
static void test_parse_positions_out_of_order(void **state)
{
	struct arena a;
	struct flt_node *n;
	struct flt_error err;
	const char *s =
		"((a and\r\n (b or\n\n  not (c and d))) or\n e) and not\n (f\n or (g and\n\th)) and\n"
		"proc.name = x and (not\n\n(i)) and ((((j or k)\n)))";
	unsigned count = 0;

	arena_init(&a, 0, 0);
	assert_int_equal(flt_parse(s, strlen(s), &a, &n, &err), 0);
	check_node_positions(s, n, &count);
	assert_true(count > 15);
	arena_done(&a);
}

static void test_parse_literal_bytes(void **state)
{
	struct arena a;
	struct flt_node *n;
	struct flt_error err;
	const char *s = "evt.buffer contains \"a\\x00b\"";

	arena_init(&a, 0, 0);
	assert_int_equal(flt_parse(s, strlen(s), &a, &n, &err), 0);
	assert_int_equal(n->check.rhs.value.len, 3);
	assert_memory_equal(n->check.rhs.value.s, "a\0b", 3);
	/* the text need not be NUL-terminated */
	assert_int_equal(flt_parse("a and bXXX", 7, &a, &n, &err), 0);
	assert_int_equal(n->list.n, 2);
	assert_string_equal(n->list.children[1]->ident.name, "b");
	arena_done(&a);
}

static void test_parse_value_expr(void **state)
{
	struct arena a;
	struct flt_expr *e;
	struct flt_error err;
	size_t used;
	struct strbuf sb;

	arena_init(&a, 0, 0);
	strbuf_init(&sb, 0);
	const char *s = "proc.name)";
	assert_int_equal(flt_parse_value_expr(s, strlen(s), &a, &e, &used, &err), 0);
	assert_int_equal(used, 9);
	s = "ka.target.name/%ka.target.resource";
	assert_int_equal(flt_parse_value_expr(s, strlen(s), &a, &e, &used, &err), 0);
	assert_int_equal(used, 14);
	s = "proc.aname[2] rest";
	assert_int_equal(flt_parse_value_expr(s, strlen(s), &a, &e, &used, &err), 0);
	assert_int_equal(used, 13);
	assert_string_equal(e->field.arg, "2");
	s = "tolower(proc.name).x";
	assert_int_equal(flt_parse_value_expr(s, strlen(s), &a, &e, &used, &err), 0);
	assert_int_equal(used, 18);
	assert_int_equal(flt_dump_expr(&sb, e), 0);
	assert_string_equal(strbuf_str(&sb), "tolower(proc.name)");
	s = "proc.name.";
	assert_int_equal(flt_parse_value_expr(s, strlen(s), &a, &e, &used, &err), 0);
	assert_int_equal(used, 9);
	s = "proc";
	assert_int_equal(flt_parse_value_expr(s, strlen(s), &a, &e, &used, &err), -EINVAL);
	s = "val(proc.name)";
	assert_int_equal(flt_parse_value_expr(s, strlen(s), &a, &e, &used, &err), -EINVAL);
	strbuf_done(&sb);
	arena_done(&a);
}

static void test_clone_is_independent(void **state)
{
	struct arena a, b;
	struct flt_node *n, *c;
	struct flt_error err;
	struct strbuf s1, s2;
	const char *s =
		"not (proc.name in (a, 'b c') or tolower(fd.name[x]) = val(proc.pname)) and m and "
		"join(',', (a.b, 'x', 1)) = x";

	arena_init(&a, 0, 0);
	arena_init(&b, 0, 0);
	strbuf_init(&s1, 0);
	strbuf_init(&s2, 0);
	assert_int_equal(flt_parse(s, strlen(s), &a, &n, &err), 0);
	assert_int_equal(flt_dump(&s1, n), 0);
	c = flt_clone(&b, n);
	assert_non_null(c);
	arena_done(&a); /* the clone must not point into the original arena */
	assert_int_equal(flt_dump(&s2, c), 0);
	assert_string_equal(strbuf_str(&s1), strbuf_str(&s2));
	assert_string_equal(
		strbuf_str(&s2),
		"(not (proc.name in (a, \"b c\") or tolower(fd.name[x]) = val(proc.pname)) and m and "
		"join(\",\", (a.b, \"x\", 1)) = x)");
	strbuf_done(&s1);
	strbuf_done(&s2);
	arena_done(&b);
}

/*
 * Token soup: random sequences of grammar fragments must never crash, and whatever parses must dump to text
 * that parses back to the same dump. Deterministic (fixed seed) so a failure reproduces.
 */
static void test_parse_soup(void **state)
{
	static const char *const frags[] = {
		"a",	     "proc.name", "fd.name[x]", "=",	      "!=",	     "<",
		">=",	     " in ",	  "(",		")",	      ",",	     " and ",
		" or ",	     " not ",	  "not(",	"'q\\x'",     "\"s\\\" t\"", "1",
		"-2.5e+3",   "0x1f",	  " exists",	" contains ", " pmatch ",    " anyof ",
		"tolower(",  "val(",	  "join(',', ", " ",	      "\n",	     "'",
		"\"",	     "[",	  "]",		"\\",	      "intersects",  "glob ",
		"evt.arg.x", "len(",	  "b64(",
	};
	uint32_t seed = 12345;
	struct strbuf in, out, out2;
	int parsed = 0;

	strbuf_init(&in, 0);
	strbuf_init(&out, 0);
	strbuf_init(&out2, 0);
	for (int iter = 0; iter < 20000; iter++) {
		struct arena a;
		struct flt_node *n;
		struct flt_error err;
		strbuf_reset(&in);
		seed = seed * 1103515245 + 12345;
		int k = 1 + (seed >> 16) % 12;
		for (int j = 0; j < k; j++) {
			seed = seed * 1103515245 + 12345;
			strbuf_appends(&in, frags[(seed >> 16) % ARRAY_SIZE(frags)]);
		}
		arena_init(&a, 0, 0);
		if (flt_parse(in.buf, in.len, &a, &n, &err) == 0) {
			parsed++;
			strbuf_reset(&out);
			strbuf_reset(&out2);
			assert_int_equal(flt_dump(&out, n), 0);
			struct flt_node *n2;
			if (flt_parse(out.buf, out.len, &a, &n2, &err) != 0 ||
			    flt_dump(&out2, n2) != 0 ||
			    strcmp(strbuf_str(&out), strbuf_str(&out2)) != 0)
				fail_msg("round trip: '%s' -> '%s' -> '%s'", in.buf, out.buf,
					 strbuf_str(&out2));
			assert_non_null(flt_clone(&a, n));
		} else {
			assert_true(err.pos.idx <= in.len);
			assert_true(err.msg[0] != '\0');
		}
		arena_done(&a);
	}
	/* the soup is not all errors */
	assert_true(parsed > 200);
	strbuf_done(&in);
	strbuf_done(&out);
	strbuf_done(&out2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_depth),
		cmocka_unit_test(test_parse_positions),
		cmocka_unit_test(test_parse_positions_out_of_order),
		cmocka_unit_test(test_parse_literal_bytes),
		cmocka_unit_test(test_parse_value_expr),
		cmocka_unit_test(test_clone_is_independent),
		cmocka_unit_test(test_parse_soup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
