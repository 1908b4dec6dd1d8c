/* SPDX-License-Identifier: Apache-2.0 */
/* The fake event source used by engine unit tests (see testsrc.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "testsrc.h"

unsigned long testsrc_count_calls;
long testsrc_prepared;

enum tf {
	TF_STR,
	TF_PATH,
	TF_BUF,
	TF_U64,
	TF_S64,
	TF_BOOL,
	TF_DOUBLE,
	TF_IP,
	TF_NET,
	TF_RELTIME,
	TF_ABSTIME,
	TF_LIST,
	TF_U64LIST,
	TF_EMPTYLIST,
	TF_MISSING,
	TF_ERROR,
	TF_ARG,
	TF_IDX,
	TF_COUNT,
	TF_ARGS,
	TF_EVTTYPE,
	TF_STR2,
	TF_PREP,
	TF_ILIST,
};

static const char *const evtnames[] = {"open", "open",	 "openat", "openat", "read",
				       "read", "execve", "execve", "close"};

static const char *evttype_name(uint16_t code)
{
	if (code < sizeof(evtnames) / sizeof(evtnames[0]))
		return evtnames[code];
	return code == 69 ? "far" : "unknown";
}

static int evttype_codes(const char *name, uint16_t *codes, size_t max)
{
	int n = 0;
	for (uint16_t c = 0; c < TESTSRC_NEVTTYPES; c++)
		if (strcmp(evttype_name(c), name) == 0 && (size_t)n < max)
			codes[n++] = c;
	if (n)
		return n;
	if (strcmp(name, "never") == 0)
		return 0;
	return -ENOENT;
}

static int str_out(struct value *out, enum fld_type t, const char *s)
{
	if (!s)
		return 0;
	*out = (struct value){.type = t, .len = (uint32_t)strlen(s), .str = s};
	return 1;
}

static int ip_out(struct value *out, enum fld_type t, const char *s)
{
	if (!s)
		return 0;
	*out = (struct value){.type = t};
	if (inet_pton(AF_INET, s, out->ip.bytes) == 1)
		out->ip.family = 4;
	else if (inet_pton(AF_INET6, s, out->ip.bytes) == 1)
		out->ip.family = 6;
	else
		return -EINVAL;
	return 1;
}

static int str_list_out(struct fld_ctx *ctx, struct value *out, const char *const *l, uint32_t n)
{
	if (!l)
		return 0;
	struct value *items = arena_alloc(ctx->arena, sizeof(*items) * (n ? n : 1));
	if (!items)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		items[i] = (struct value){
			.type = FT_STRING, .len = (uint32_t)strlen(l[i]), .str = l[i]};
	*out = (struct value){.type = FT_STRING, .is_list = true, .len = n, .items = items};
	return 1;
}

static int extract(struct fld_ctx *ctx, const struct fld_inst *fi, struct value *out)
{
	const struct testsrc_evt *e = ctx->evt->data;

	switch ((enum tf)fi->def->data) {
	case TF_STR:
		return str_out(out, FT_STRING, e->str);
	case TF_STR2:
		return str_out(out, FT_STRING, e->str2);
	case TF_PATH:
		return str_out(out, FT_PATH, e->path);
	case TF_BUF:
		if (!e->buf)
			return 0;
		*out = (struct value){.type = FT_BUFFER, .len = e->buf_len, .str = e->buf};
		return 1;
	case TF_U64:
		*out = (struct value){.type = FT_U64, .u64 = e->u64};
		return e->has_num;
	case TF_S64:
		*out = (struct value){.type = FT_S64, .s64 = e->s64};
		return e->has_num;
	case TF_BOOL:
		*out = (struct value){.type = FT_BOOL, .b = e->b};
		return e->has_num;
	case TF_DOUBLE:
		*out = (struct value){.type = FT_DOUBLE, .d = e->d};
		return e->has_num;
	case TF_RELTIME:
		*out = (struct value){.type = FT_RELTIME, .u64 = e->reltime};
		return e->has_num;
	case TF_ABSTIME:
		*out = (struct value){.type = FT_ABSTIME, .u64 = e->abstime};
		return e->has_num;
	case TF_IP:
		return ip_out(out, FT_IPADDR, e->ip);
	case TF_NET:
		return ip_out(out, FT_IPNET, e->net);
	case TF_LIST:
		if (fi->arg_num >= 0) { /* [N] selects one element, as a scalar */
			if (!e->list || (uint64_t)fi->arg_num >= e->nlist)
				return 0;
			return str_out(out, FT_STRING, e->list[fi->arg_num]);
		}
		return str_list_out(ctx, out, e->list, e->nlist);
	case TF_ILIST: /* an indexed list field whose extractor still returns the whole list */
		return str_list_out(ctx, out, e->list, e->nlist);
	case TF_ARGS:
		return str_list_out(ctx, out, e->args, e->nargs);
	case TF_U64LIST: {
		if (!e->u64list)
			return 0;
		struct value *items = arena_alloc(ctx->arena, sizeof(*items) * (e->nu64list + 1));
		if (!items)
			return -ENOMEM;
		for (uint32_t i = 0; i < e->nu64list; i++)
			items[i] = (struct value){.type = FT_U64, .u64 = e->u64list[i]};
		*out = (struct value){
			.type = FT_U64, .is_list = true, .len = e->nu64list, .items = items};
		return 1;
	}
	case TF_EMPTYLIST:
		*out = (struct value){.type = FT_STRING, .is_list = true, .len = 0, .items = NULL};
		return 1;
	case TF_MISSING:
		return 0;
	case TF_ERROR:
		return -EIO;
	case TF_ARG:
		if (!fi->arg)
			return str_out(out, FT_STRING, "noarg");
		*out = (struct value){.type = FT_STRING, .len = fi->arg_len, .str = fi->arg};
		return 1;
	case TF_IDX:
		*out = (struct value){.type = FT_U64, .u64 = (uint64_t)fi->arg_num * 10};
		return 1;
	case TF_COUNT:
		testsrc_count_calls++;
		*out = (struct value){.type = FT_U64, .u64 = 7};
		return 1;
	case TF_EVTTYPE:
		return str_out(out, FT_STRING, evttype_name(ctx->evt->type));
	case TF_PREP:
		return str_out(out, FT_STRING, fi->arg_priv);
	}
	return -EINVAL;
}

static int prep(struct fld_inst *fi, char *errbuf, size_t errlen)
{
	if (strcmp(fi->arg, "bad") == 0)
		return errf(errbuf, errlen, -EINVAL, "unknown test argument %s", fi->arg);
	char *s = malloc(fi->arg_len + 3);
	if (!s)
		return -ENOMEM;
	snprintf(s, fi->arg_len + 3, "<%s>", fi->arg);
	fi->arg_priv = s;
	testsrc_prepared++;
	return 0;
}

static void release(struct fld_inst *fi)
{
	free(fi->arg_priv);
	fi->arg_priv = NULL;
	testsrc_prepared--;
}

#define F(n, t, fl, d)                                                                       \
	{                                                                                    \
		.name = (n), .type = (t), .flags = (fl), .desc = "test", .extract = extract, \
		.data = (d)                                                                  \
	}

static const struct fld_def test_defs[] = {
	F("test.str", FT_STRING, 0, TF_STR),
	F("test.str2", FT_STRING, 0, TF_STR2),
	F("test.path", FT_PATH, 0, TF_PATH),
	F("test.buf", FT_BUFFER, 0, TF_BUF),
	F("test.u64", FT_U64, 0, TF_U64),
	F("test.s64", FT_S64, 0, TF_S64),
	F("test.bool", FT_BOOL, 0, TF_BOOL),
	F("test.double", FT_DOUBLE, 0, TF_DOUBLE),
	F("test.ip", FT_IPADDR, 0, TF_IP),
	F("test.net", FT_IPNET, 0, TF_NET),
	F("test.reltime", FT_RELTIME, 0, TF_RELTIME),
	F("test.abstime", FT_ABSTIME, 0, TF_ABSTIME),
	F("test.list", FT_STRING, FLD_LIST | FLD_ARG_LIST_INDEX, TF_LIST),
	F("test.u64list", FT_U64, FLD_LIST, TF_U64LIST),
	F("test.ilist", FT_STRING, FLD_LIST | FLD_ARG_LIST_INDEX, TF_ILIST),
	F("test.emptylist", FT_STRING, FLD_LIST, TF_EMPTYLIST),
	F("test.args", FT_STRING, FLD_LIST, TF_ARGS),
	F("test.missing", FT_STRING, 0, TF_MISSING),
	F("test.error", FT_STRING, 0, TF_ERROR),
	F("test.arg", FT_STRING, FLD_ARG_REQUIRED, TF_ARG),
	F("test.opt", FT_STRING, FLD_ARG_ALLOWED, TF_ARG),
	F("test.idx", FT_U64, FLD_ARG_REQUIRED | FLD_ARG_INDEX, TF_IDX),
	F("test.dot", FT_STRING, FLD_ARG_ALLOWED | FLD_ARG_DOTTED, TF_ARG),
	F("test.dot.deep", FT_STRING, FLD_ARG_ALLOWED | FLD_ARG_DOTTED, TF_ARG),
	F("test.norhs", FT_STRING, FLD_NO_RHS, TF_STR),
	F("test.notr", FT_STRING, FLD_NO_TRANSFORM, TF_STR),
	F("test.count", FT_U64, 0, TF_COUNT),
	{.name = "test.prep",
	 .type = FT_STRING,
	 .flags = FLD_ARG_REQUIRED,
	 .desc = "test",
	 .extract = extract,
	 .prepare = prep,
	 .release = release,
	 .data = TF_PREP},
	F("evt.type", FT_STRING, FLD_EVTTYPE, TF_EVTTYPE),
};

static const struct fld_table test_table = {.class_name = "test",
					    .desc = "fake fields",
					    .defs = test_defs,
					    .n = sizeof(test_defs) / sizeof(test_defs[0])};
static const struct fld_table *const test_tables[] = {&test_table, NULL};

const struct src_def testsrc_src = {
	.name = "test",
	.tables = test_tables,
	.nevttypes = TESTSRC_NEVTTYPES,
	.evttype_codes = evttype_codes,
	.evttype_name = evttype_name,
};

const struct src_def testsrc_single_src = {
	.name = "single",
	.tables = test_tables,
	.nevttypes = 1,
};

static const char *const default_list[] = {"a", "b", "c"};
static const uint64_t default_u64list[] = {1, 2, 3};
static const char *const default_args[] = {"-n", "host", "-t", "10", "-xvalue", "--", "-z"};

void testsrc_default(struct testsrc_evt *e)
{
	static const char buf[] = "\x01\x02hello\x00x";
	*e = (struct testsrc_evt){
		.str = "Bash",
		.str2 = "Bash",
		.path = "/usr/bin/bash",
		.buf = buf,
		.buf_len = sizeof(buf) - 1,
		.has_num = true,
		.u64 = 42,
		.s64 = -5,
		.d = 1.5,
		.b = true,
		.reltime = 1000,
		.abstime = 1700000000000000000ULL,
		.ip = "10.1.2.3",
		.net = "192.168.1.20",
		.list = default_list,
		.nlist = 3,
		.u64list = default_u64list,
		.nu64list = 3,
		.args = default_args,
		.nargs = sizeof(default_args) / sizeof(default_args[0]),
	};
}
