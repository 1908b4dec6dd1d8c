/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Recursive-descent parser for conditions (grammar: rules reference §2.1). Recursion only happens at '(' and
 * transformer calls, each of which counts against FLT_MAX_DEPTH, and the frames are small, so the C stack
 * stays well below a few hundred KiB even at the limit.
 */
#include <errno.h>
#include <string.h>

#include "common/arena.h"
#include "flt_internal.h"

static const char *const tr_names[_TR_MAX] = {
	[TR_TOLOWER] = "tolower",   [TR_TOUPPER] = "toupper", [TR_B64] = "b64",
	[TR_BASENAME] = "basename", [TR_LEN] = "len",	      [TR_JOIN] = "join",
	[TR_CONCAT] = "concat",	    [TR_GETOPT] = "getopt",   [TR_VAL] = "val",
};

const char *flt_transformer_to_string(enum flt_transformer t)
{
	return (unsigned)t < _TR_MAX ? tr_names[t] : NULL;
}

/* Growable arrays in the arena: the old block is abandoned on growth (at most doubling the cost). */
static int arr_push(struct arena *a, void **arr, uint32_t *n, uint32_t *cap, const void *el,
		    size_t elsz)
{
	if (*n == *cap) {
		uint32_t ncap = *cap ? *cap * 2 : 4;
		void *na = arena_alloc(a, (size_t)ncap * elsz);
		if (!na)
			return -ENOMEM;
		if (*n)
			memcpy(na, *arr, (size_t)*n * elsz);
		*arr = na;
		*cap = ncap;
	}
	memcpy((char *)*arr + (size_t)*n * elsz, el, elsz);
	(*n)++;
	return 0;
}

struct lexsave {
	size_t i, last_tok, last_tok_len;
};

static struct lexsave save(const struct flt_lexer *lx)
{
	return (struct lexsave){lx->i, lx->last_tok, lx->last_tok_len};
}

static void restore(struct flt_lexer *lx, struct lexsave s)
{
	lx->i = s.i;
	lx->last_tok = s.last_tok;
	lx->last_tok_len = s.last_tok_len;
}

static struct flt_node *new_node(struct flt_lexer *lx, enum flt_node_kind kind, size_t idx)
{
	struct flt_node *n = arena_zalloc(lx->a, sizeof(*n));
	if (n) {
		n->kind = kind;
		n->pos = flt_lex_pos(lx, idx);
	}
	return n;
}

static struct flt_expr *new_expr(struct flt_lexer *lx, enum flt_expr_kind kind, size_t idx)
{
	struct flt_expr *e = arena_zalloc(lx->a, sizeof(*e));
	if (e) {
		e->kind = kind;
		e->pos = flt_lex_pos(lx, idx);
	}
	return e;
}

static int depth_push(struct flt_lexer *lx)
{
	if (++lx->depth > FLT_MAX_DEPTH)
		return flt_lex_error(lx, lx->i, "exceeded max depth limit of %d", FLT_MAX_DEPTH);
	return 0;
}

static int parse_or(struct flt_lexer *lx, struct flt_node **ret);

/* After a '(' that opens a sub-expression: Expr ')' */
static int parse_embedded(struct flt_lexer *lx, struct flt_node **ret)
{
	int r = depth_push(lx);
	if (r < 0)
		return r;
	r = parse_or(lx, ret);
	if (r < 0)
		return r;
	flt_lex_blank(lx);
	if (!flt_lex_str(lx, ")"))
		return flt_lex_error(lx, lx->i, "expected a ')' token");
	lx->depth--;
	return 0;
}

/* Matches "name(" for a transformer name (val only when allow_val) and consumes it. */
static bool lex_tr_open(struct flt_lexer *lx, bool allow_val, enum flt_transformer *ret)
{
	/* names are [a-z0-9]+: find the run and its '(' first, so most tokens cost one short scan */
	size_t run = 0;
	while (lx->i + run < lx->len && run <= 8 &&
	       ((lx->s[lx->i + run] >= 'a' && lx->s[lx->i + run] <= 'z') ||
		(lx->s[lx->i + run] >= '0' && lx->s[lx->i + run] <= '9')))
		run++;
	if (!run || run > 8 || lx->i + run >= lx->len || lx->s[lx->i + run] != '(')
		return false;
	for (int t = 0; t < _TR_MAX; t++) {
		if (t == TR_VAL && !allow_val)
			continue;
		size_t n = strlen(tr_names[t]);
		if (n == run && memcmp(lx->s + lx->i, tr_names[t], n) == 0) {
			size_t start = lx->i;
			lx->i += n + 1;
			lx->last_tok = start;
			lx->last_tok_len = n + 1;
			*ret = t;
			return true;
		}
	}
	return false;
}

static char *dup_text(struct flt_lexer *lx, size_t start, size_t len)
{
	return arena_strndup(lx->a, lx->s + start, len);
}

/* '[' ( QuotedStr | FieldArgBare ) ']' right after a field name or a transformer's ')' */
static int parse_field_arg(struct flt_lexer *lx, const char **ret, uint32_t *ret_len)
{
	size_t s, n;
	int r;

	if (flt_lex_peek(lx, 0) != '[') {
		*ret = NULL;
		*ret_len = 0;
		return 0;
	}
	lx->i++;
	r = flt_lex_quoted(lx, ret, ret_len);
	if (r < 0)
		return r;
	if (r == 0) {
		if (!flt_lex_field_arg_bare(lx, &s, &n))
			return flt_lex_error(
				lx, lx->i,
				"expected a valid field argument: a quoted string or a bare string");
		if (!(*ret = dup_text(lx, s, n)))
			return -ENOMEM;
		*ret_len = (uint32_t)n;
	}
	if (!flt_lex_str(lx, "]"))
		return flt_lex_error(lx, lx->i, "expected a ']' token");
	return 0;
}

/* A field name was just lexed at [start, start+len): build the expression with its optional argument. */
static int finish_field(struct flt_lexer *lx, size_t start, size_t len, struct flt_expr **ret)
{
	struct flt_expr *e = new_expr(lx, FE_FIELD, start);
	if (!e || !(e->field.name = dup_text(lx, start, len)))
		return -ENOMEM;
	int r = parse_field_arg(lx, &e->field.arg, &e->field.arg_len);
	if (r < 0)
		return r;
	*ret = e;
	return 0;
}

static int parse_transformer(struct flt_lexer *lx, enum flt_transformer tr, size_t start,
			     struct flt_expr **ret);

/* TrArg ::= Number | QuotedStr | TrList | Transformer | Field; inside a TrList no nested list. */
static int parse_tr_arg(struct flt_lexer *lx, bool in_list, struct flt_expr **ret)
{
	size_t s, n;
	enum flt_transformer tr;
	int r;

	flt_lex_blank(lx);
	size_t start = lx->i;
	if (flt_lex_hex_number(lx, &s, &n) || flt_lex_number(lx, &s, &n)) {
		struct flt_expr *e = new_expr(lx, FE_NUMBER, start);
		if (!e || !(e->lit.s = dup_text(lx, s, n)))
			return -ENOMEM;
		e->lit.len = (uint32_t)n;
		*ret = e;
		return 0;
	}
	const char *q;
	uint32_t qlen;
	r = flt_lex_quoted(lx, &q, &qlen);
	if (r < 0)
		return r;
	if (r > 0) {
		struct flt_expr *e = new_expr(lx, FE_STRING, start);
		if (!e)
			return -ENOMEM;
		e->lit.s = q;
		e->lit.len = qlen;
		e->lit.quoted = true;
		*ret = e;
		return 0;
	}
	if (!in_list && flt_lex_str(lx, "(")) {
		struct flt_expr *e = new_expr(lx, FE_LIST, start);
		uint32_t cap = 0;
		if (!e)
			return -ENOMEM;
		flt_lex_blank(lx);
		if (flt_lex_str(lx, ")")) {
			*ret = e;
			return 0;
		}
		do {
			struct flt_expr *item;
			if ((r = parse_tr_arg(lx, true, &item)) < 0)
				return r;
			r = arr_push(lx->a, (void **)&e->list.items, &e->list.n, &cap, &item,
				     sizeof(item));
			if (r < 0)
				return r;
			flt_lex_blank(lx);
		} while (flt_lex_str(lx, ","));
		if (!flt_lex_str(lx, ")"))
			return flt_lex_error(lx, lx->i, "expected ')'");
		*ret = e;
		return 0;
	}
	if (lex_tr_open(lx, false, &tr))
		return parse_transformer(lx, tr, start, ret);
	if (flt_lex_field_name(lx, &s, &n))
		return finish_field(lx, s, n, ret);
	if (in_list)
		return flt_lex_error(
			lx, lx->i,
			"expected transformer list argument: field, transformer, quoted "
			"string, or number");
	return flt_lex_error(
		lx, lx->i,
		"expected field transformer argument: field, transformer, quoted string, "
		"number, or transformer list");
}

/* After "name(": arguments, ')' and an optional [arg]. val() takes exactly one field. */
static int parse_transformer(struct flt_lexer *lx, enum flt_transformer tr, size_t start,
			     struct flt_expr **ret)
{
	struct flt_expr *e = new_expr(lx, FE_TRANSFORMER, start);
	uint32_t cap = 0;
	int r;

	if (!e)
		return -ENOMEM;
	e->tr.tr = tr;
	r = depth_push(lx);
	if (r < 0)
		return r;
	for (;;) {
		struct flt_expr *arg;
		if (tr == TR_VAL) {
			size_t s, n;
			flt_lex_blank(lx);
			if (!flt_lex_field_name(lx, &s, &n))
				return flt_lex_error(lx, lx->i,
						     "expected a field within 'val' transformer");
			r = finish_field(lx, s, n, &arg);
		} else {
			r = parse_tr_arg(lx, false, &arg);
		}
		if (r < 0)
			return r;
		r = arr_push(lx->a, (void **)&e->tr.args, &e->tr.nargs, &cap, &arg, sizeof(arg));
		if (r < 0)
			return r;
		flt_lex_blank(lx);
		if (tr == TR_VAL || !flt_lex_str(lx, ","))
			break;
	}
	flt_lex_blank(lx);
	if (!flt_lex_str(lx, ")"))
		return flt_lex_error(lx, lx->i, "expected a ')' token closing the transformer");
	lx->depth--;
	r = parse_field_arg(lx, &e->tr.arg, &e->tr.arg_len);
	if (r < 0)
		return r;
	*ret = e;
	return 0;
}

static int lit_from_bare(struct flt_lexer *lx, size_t s, size_t n, struct flt_literal *lit)
{
	char *t = dup_text(lx, s, n);
	if (!t)
		return -ENOMEM;
	*lit = (struct flt_literal){
		.s = t, .len = (uint32_t)n, .quoted = false, .pos = flt_lex_pos(lx, s)};
	return 0;
}

/* QuotedStr | BareStr; returns 0 when neither is there. */
static int parse_str_lit(struct flt_lexer *lx, struct flt_literal *lit)
{
	size_t start = lx->i, s, n;
	const char *q;
	uint32_t qlen;
	int r = flt_lex_quoted(lx, &q, &qlen);
	if (r < 0)
		return r;
	if (r > 0) {
		*lit = (struct flt_literal){
			.s = q, .len = qlen, .quoted = true, .pos = flt_lex_pos(lx, start)};
		return 1;
	}
	if (flt_lex_bare_str(lx, &s, &n)) {
		r = lit_from_bare(lx, s, n, lit);
		return r < 0 ? r : 1;
	}
	return 0;
}

/*
 * ListLit after its '('. As upstream: a missing or malformed first value means "empty list, ')' expected",
 * a malformed value after a ',' is "expected a string value".
 */
static int parse_list_lit(struct flt_lexer *lx, struct flt_node *c)
{
	struct flt_literal lit;
	uint32_t cap = 0;
	int r;

	c->check.rhs_kind = RHS_LIST;
	c->check.rhs.list.pos = flt_lex_pos(lx, lx->i - 1);
	flt_lex_blank(lx);
	r = parse_str_lit(lx, &lit);
	if (r == -ENOMEM)
		return r;
	while (r > 0) {
		r = arr_push(lx->a, (void **)&c->check.rhs.list.items, &c->check.rhs.list.n, &cap,
			     &lit, sizeof(lit));
		if (r < 0)
			return r;
		flt_lex_blank(lx);
		if (!flt_lex_str(lx, ","))
			break;
		flt_lex_blank(lx);
		if ((r = parse_str_lit(lx, &lit)) < 0)
			return r;
		if (r == 0)
			return flt_lex_error(lx, lx->i, "expected a string value");
	}
	if (!flt_lex_str(lx, ")"))
		return flt_lex_error(lx, lx->i, "expected a ')' token");
	return 0;
}

/* A bare identifier where a list is expected is a one-item list (a list name left unsubstituted). */
static int ident_as_list(struct flt_lexer *lx, size_t s, size_t n, struct flt_node *c)
{
	struct flt_literal *lit = arena_alloc(lx->a, sizeof(*lit));
	if (!lit)
		return -ENOMEM;
	int r = lit_from_bare(lx, s, n, lit);
	if (r < 0)
		return r;
	c->check.rhs_kind = RHS_LIST;
	c->check.rhs.list.items = lit;
	c->check.rhs.list.n = 1;
	c->check.rhs.list.pos = lit->pos;
	return 0;
}

/* Transformer or val(...) on the right-hand side; returns 0 when there is none. */
static int parse_rhs_expr(struct flt_lexer *lx, struct flt_node *c)
{
	enum flt_transformer tr;
	size_t start = lx->i;
	if (!lex_tr_open(lx, true, &tr))
		return 0;
	int r = parse_transformer(lx, tr, start, &c->check.rhs.expr);
	if (r < 0)
		return r;
	c->check.rhs_kind = RHS_EXPR;
	return 1;
}

static bool is_keyword(const char *s, size_t n)
{
	return (n == 3 && (!memcmp(s, "and", 3) || !memcmp(s, "not", 3))) ||
	       (n == 2 && !memcmp(s, "or", 2));
}

static const struct {
	const char *text;
	enum flt_op op;
	bool word; /* needs a following blank */
} str_ops[] =
	{
		{"==", OP_EQ, false},
		{"=", OP_EQ, false},
		{"!=", OP_NE, false},
		{"glob", OP_GLOB, true},
		{"iglob", OP_IGLOB, true},
		{"contains", OP_CONTAINS, true},
		{"icontains", OP_ICONTAINS, true},
		{"bcontains", OP_BCONTAINS, true},
		{"startswith", OP_STARTSWITH, true},
		{"bstartswith", OP_BSTARTSWITH, true},
		{"endswith", OP_ENDSWITH, true},
		{"regex", OP_REGEX, true},
},
  num_ops[] =
	  {
		  {"<=", OP_LE, false},
		  {"<", OP_LT, false},
		  {">=", OP_GE, false},
		  {">", OP_GT, false},
},
  list_ops[] = {
	  {"intersects", OP_INTERSECTS, false},
	  {"in", OP_IN, false},
	  {"pmatch", OP_PMATCH, false},
};

/* The transformer list in "... or a field with a valid transformer: ..." messages. */
#define TR_LIST "'val', 'tolower', 'toupper', 'b64', 'basename', 'len', 'join', 'concat', 'getopt'"

static const struct {
	const char *text;
	enum flt_mod mod;
} mods[] = {
	{"oneof", MOD_ONEOF},
	{"anyof", MOD_ANYOF},
	{"allof", MOD_ALLOF},
};

static int parse_num_value(struct flt_lexer *lx, struct flt_node *c)
{
	size_t s, n;
	flt_lex_blank(lx);
	int r = parse_rhs_expr(lx, c);
	if (r != 0)
		return r < 0 ? r : 0;
	if (flt_lex_hex_number(lx, &s, &n) || flt_lex_number(lx, &s, &n)) {
		c->check.rhs_kind = RHS_VALUE;
		return lit_from_bare(lx, s, n, &c->check.rhs.value);
	}
	return flt_lex_error(
		lx, lx->i, "expected a number value or a field with a valid transformer: " TR_LIST);
}

static int parse_str_value(struct flt_lexer *lx, struct flt_node *c)
{
	size_t s, n;
	int r;

	flt_lex_blank(lx);
	/* StrModifier ListValue, only when a list or a (non-keyword) identifier follows */
	for (size_t m = 0; m < ARRAY_SIZE(mods); m++) {
		struct lexsave sv = save(lx);
		if (!flt_lex_word_op(lx, mods[m].text))
			continue;
		if (flt_lex_str(lx, "(")) {
			c->check.mod = mods[m].mod;
			return parse_list_lit(lx, c);
		}
		struct lexsave sv2 = save(lx);
		if (flt_lex_identifier(lx, &s, &n) && !is_keyword(lx->s + s, n)) {
			c->check.mod = mods[m].mod;
			return ident_as_list(lx, s, n, c);
		}
		restore(lx, sv2);
		restore(lx, sv);
		break;
	}
	r = parse_rhs_expr(lx, c);
	if (r != 0)
		return r < 0 ? r : 0;
	r = parse_str_lit(lx, &c->check.rhs.value);
	if (r < 0)
		return r;
	if (r == 0)
		return flt_lex_error(
			lx, lx->i,
			"expected a string value or a field with a valid transformer: " TR_LIST);
	c->check.rhs_kind = RHS_VALUE;
	return 0;
}

static int parse_list_value(struct flt_lexer *lx, struct flt_node *c)
{
	size_t s, n;
	flt_lex_blank(lx);
	if (flt_lex_str(lx, "("))
		return parse_list_lit(lx, c);
	int r = parse_rhs_expr(lx, c);
	if (r != 0)
		return r < 0 ? r : 0;
	if (flt_lex_identifier(lx, &s, &n))
		return ident_as_list(lx, s, n, c);
	return flt_lex_error(
		lx, lx->i,
		"expected a list, an identifier, or a field with a valid transformer: " TR_LIST);
}

static int parse_condition(struct flt_lexer *lx, struct flt_expr *lhs, size_t start,
			   struct flt_node **ret)
{
	struct flt_node *c = new_node(lx, FN_CHECK, start);
	int r;

	if (!c)
		return -ENOMEM;
	c->check.lhs = lhs;
	flt_lex_blank(lx);
	*ret = c;
	if (flt_lex_str(lx, "exists")) {
		c->check.op = OP_EXISTS;
		c->check.rhs_kind = RHS_NONE;
		return 0;
	}
	for (size_t k = 0; k < ARRAY_SIZE(num_ops); k++) {
		if (flt_lex_str(lx, num_ops[k].text)) {
			c->check.op = num_ops[k].op;
			return parse_num_value(lx, c);
		}
	}
	for (size_t k = 0; k < ARRAY_SIZE(str_ops); k++) {
		if (!flt_lex_str(lx, str_ops[k].text))
			continue;
		/*
		 * Upstream does not backtrack over a word operator that lacks its blank: the search for a
		 * string operator ends there and the list operators are tried after the word.
		 */
		if (str_ops[k].word && !flt_lex_blank(lx))
			break;
		c->check.op = str_ops[k].op;
		return parse_str_value(lx, c);
	}
	for (size_t k = 0; k < ARRAY_SIZE(list_ops); k++) {
		if (flt_lex_str(lx, list_ops[k].text)) {
			c->check.op = list_ops[k].op;
			return parse_list_value(lx, c);
		}
	}
	r = flt_lex_error(
		lx, lx->i,
		"expected a valid check operator: one of 'exists', '<=', '<', '>=', '>', '==', '=', "
		"'!=', 'glob', 'iglob', 'contains', 'icontains', 'bcontains', 'startswith', "
		"'bstartswith', 'endswith', 'regex', 'intersects', 'in', 'pmatch'");
	return r;
}

static int parse_check(struct flt_lexer *lx, struct flt_node **ret)
{
	size_t start = lx->i, s, n;
	enum flt_transformer tr;
	struct flt_expr *lhs;
	int r;

	if (flt_lex_str(lx, "("))
		return parse_embedded(lx, ret);
	if (lex_tr_open(lx, false, &tr)) {
		r = parse_transformer(lx, tr, start, &lhs);
		if (r < 0)
			return r;
		return parse_condition(lx, lhs, start, ret);
	}
	if (flt_lex_field_name(lx, &s, &n)) {
		r = finish_field(lx, s, n, &lhs);
		if (r < 0)
			return r;
		return parse_condition(lx, lhs, start, ret);
	}
	if (flt_lex_identifier(lx, &s, &n)) {
		struct flt_node *m = new_node(lx, FN_IDENT, start);
		if (!m || !(m->ident.name = dup_text(lx, s, n)))
			return -ENOMEM;
		*ret = m;
		return 0;
	}
	return flt_lex_error(lx, lx->i, "expected a '(' token, a field check, or an identifier");
}

/* NotExpr ::= { 'not' Blank+ } ( 'not(' Expr ')' | Check ); each 'not' toggles */
static int parse_not(struct flt_lexer *lx, struct flt_node **ret)
{
	bool neg = false;
	size_t not_idx = 0;
	struct flt_node *child;

	flt_lex_blank(lx);
	for (;;) {
		struct lexsave sv = save(lx);
		size_t idx = lx->i;
		if (!flt_lex_str(lx, "not"))
			break;
		/* upstream's "not[[:space:]]+" takes \v and \f too, unlike the other blanks */
		if (flt_lex_space(lx) || flt_lex_peek(lx, 0) == '(') {
			if (!neg)
				not_idx = idx;
			neg = !neg;
			continue;
		}
		restore(lx, sv); /* "notfoo" is an identifier */
		break;
	}
	int r = parse_check(lx, &child);
	if (r < 0)
		return r;
	if (!neg) {
		*ret = child;
		return 0;
	}
	struct flt_node *n = new_node(lx, FN_NOT, not_idx);
	if (!n)
		return -ENOMEM;
	n->child = child;
	*ret = n;
	return 0;
}

typedef int (*parse_fn)(struct flt_lexer *lx, struct flt_node **ret);

/* OrExpr and AndExpr share this: first { kw ( Blank sub | '(' Expr ')' ) }, flattened into one node. */
static int parse_chain(struct flt_lexer *lx, const char *kw, enum flt_node_kind kind, parse_fn sub,
		       struct flt_node **ret)
{
	struct flt_node *first, *child, **kids = NULL;
	uint32_t n = 0, cap = 0;
	int r;

	flt_lex_blank(lx);
	r = sub(lx, &first);
	if (r < 0)
		return r;
	flt_lex_blank(lx);
	while (flt_lex_str(lx, kw)) {
		if (flt_lex_blank(lx))
			r = sub(lx, &child);
		else if (flt_lex_str(lx, "("))
			r = parse_embedded(lx, &child);
		else
			return flt_lex_error(lx, lx->i, "expected blank or '(' after '%s'", kw);
		if (r < 0)
			return r;
		if (n == 0 &&
		    (r = arr_push(lx->a, (void **)&kids, &n, &cap, &first, sizeof(first))) < 0)
			return r;
		if ((r = arr_push(lx->a, (void **)&kids, &n, &cap, &child, sizeof(child))) < 0)
			return r;
		flt_lex_blank(lx);
	}
	if (n == 0) {
		*ret = first;
		return 0;
	}
	struct flt_node *node = arena_zalloc(lx->a, sizeof(*node));
	if (!node)
		return -ENOMEM;
	node->kind = kind;
	node->pos = first->pos;
	node->list.children = kids;
	node->list.n = n;
	*ret = node;
	return 0;
}

static int parse_and(struct flt_lexer *lx, struct flt_node **ret)
{
	return parse_chain(lx, "and", FN_AND, parse_not, ret);
}

static int parse_or(struct flt_lexer *lx, struct flt_node **ret)
{
	return parse_chain(lx, "or", FN_OR, parse_and, ret);
}

int flt_parse(const char *text, size_t len, struct arena *a, struct flt_node **ret,
	      struct flt_error *err)
{
	struct flt_lexer lx;
	struct flt_node *root;

	flt_lex_init(&lx, text, len, a, err);
	if (len == 0)
		return flt_lex_error(&lx, 0, "filter input string is empty");
	int r = parse_or(&lx, &root);
	if (r < 0)
		return r;
	flt_lex_blank(&lx);
	if (lx.i != len)
		return flt_lex_error(&lx, lx.i,
				     "unexpected token after '%.*s', expecting 'or', 'and'",
				     (int)MIN(lx.last_tok_len, 200), lx.s + lx.last_tok);
	*ret = root;
	return 0;
}

int flt_parse_value_expr(const char *text, size_t len, struct arena *a, struct flt_expr **ret,
			 size_t *ret_consumed, struct flt_error *err)
{
	struct flt_lexer lx;
	enum flt_transformer tr;
	struct flt_expr *e;
	size_t s, n;
	int r;

	flt_lex_init(&lx, text, len, a, err);
	if (lex_tr_open(&lx, false, &tr))
		r = parse_transformer(&lx, tr, 0, &e);
	else if (flt_lex_field_name(&lx, &s, &n))
		r = finish_field(&lx, s, n, &e);
	else
		r = flt_lex_error(&lx, 0, "expected a field or a transformer");
	if (r < 0)
		return r;
	*ret = e;
	*ret_consumed = lx.i;
	return 0;
}

/* ---- deep copy ---- */

static const char *clone_str(struct arena *a, const char *s, uint32_t len)
{
	return s ? arena_strndup(a, s, len) : NULL;
}

static struct flt_expr *clone_expr(struct arena *a, const struct flt_expr *e)
{
	struct flt_expr *c = arena_alloc(a, sizeof(*c));
	if (!c)
		return NULL;
	*c = *e;
	switch (e->kind) {
	case FE_FIELD:
		if (!(c->field.name = arena_strdup(a, e->field.name)))
			return NULL;
		if (e->field.arg && !(c->field.arg = clone_str(a, e->field.arg, e->field.arg_len)))
			return NULL;
		break;
	case FE_TRANSFORMER:
		if (e->tr.arg && !(c->tr.arg = clone_str(a, e->tr.arg, e->tr.arg_len)))
			return NULL;
		if (!(c->tr.args = arena_alloc(a, sizeof(*c->tr.args) *
							  (e->tr.nargs ? e->tr.nargs : 1))))
			return NULL;
		for (uint32_t i = 0; i < e->tr.nargs; i++)
			if (!(c->tr.args[i] = clone_expr(a, e->tr.args[i])))
				return NULL;
		break;
	case FE_STRING:
	case FE_NUMBER:
		if (!(c->lit.s = clone_str(a, e->lit.s, e->lit.len)))
			return NULL;
		break;
	case FE_LIST:
		if (!(c->list.items =
			      arena_alloc(a, sizeof(*c->list.items) * (e->list.n ? e->list.n : 1))))
			return NULL;
		for (uint32_t i = 0; i < e->list.n; i++)
			if (!(c->list.items[i] = clone_expr(a, e->list.items[i])))
				return NULL;
		break;
	}
	return c;
}

static bool clone_lit(struct arena *a, struct flt_literal *dst, const struct flt_literal *src)
{
	*dst = *src;
	return (dst->s = clone_str(a, src->s, src->len)) != NULL;
}

struct flt_node *flt_clone(struct arena *a, const struct flt_node *n)
{
	struct flt_node *c = arena_alloc(a, sizeof(*c));
	if (!c)
		return NULL;
	*c = *n;
	switch (n->kind) {
	case FN_AND:
	case FN_OR:
		if (!(c->list.children = arena_alloc(a, sizeof(*c->list.children) * n->list.n)))
			return NULL;
		for (uint32_t i = 0; i < n->list.n; i++)
			if (!(c->list.children[i] = flt_clone(a, n->list.children[i])))
				return NULL;
		break;
	case FN_NOT:
		if (!(c->child = flt_clone(a, n->child)))
			return NULL;
		break;
	case FN_IDENT:
		if (!(c->ident.name = arena_strdup(a, n->ident.name)))
			return NULL;
		break;
	case FN_CHECK:
		if (!(c->check.lhs = clone_expr(a, n->check.lhs)))
			return NULL;
		switch (n->check.rhs_kind) {
		case RHS_NONE:
			break;
		case RHS_VALUE:
			if (!clone_lit(a, &c->check.rhs.value, &n->check.rhs.value))
				return NULL;
			break;
		case RHS_LIST: {
			uint32_t k = n->check.rhs.list.n;
			c->check.rhs.list.items =
				arena_alloc(a, sizeof(struct flt_literal) * (k ? k : 1));
			if (!c->check.rhs.list.items)
				return NULL;
			for (uint32_t i = 0; i < k; i++)
				if (!clone_lit(a, &c->check.rhs.list.items[i],
					       &n->check.rhs.list.items[i]))
					return NULL;
			break;
		}
		case RHS_EXPR:
			if (!(c->check.rhs.expr = clone_expr(a, n->check.rhs.expr)))
				return NULL;
			break;
		}
		break;
	}
	return c;
}
