/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Type names and renderings of extracted values, for --list, text outputs and JSON outputs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "common/strbuf.h"
#include "flt.h"
#include "value.h"

static const char *const type_names[_FT_MAX] = {
	[FT_NONE] = "none",	 [FT_STRING] = "string",   [FT_PATH] = "fspath",
	[FT_BUFFER] = "bytebuf", [FT_U64] = "uint64",	   [FT_S64] = "int64",
	[FT_BOOL] = "bool",	 [FT_DOUBLE] = "double",   [FT_IPADDR] = "ipaddr",
	[FT_IPNET] = "ipnet",	 [FT_RELTIME] = "reltime", [FT_ABSTIME] = "abstime",
};

const char *fld_type_name(enum fld_type t)
{
	return (unsigned)t < _FT_MAX ? type_names[t] : "unknown";
}

static void append_ip(struct strbuf *sb, const struct ipaddr *ip)
{
	char buf[INET6_ADDRSTRLEN];
	if (inet_ntop(ip->family == 6 ? AF_INET6 : AF_INET, ip->bytes, buf, sizeof(buf)))
		strbuf_appends(sb, buf);
}

/* One scalar; in_json selects JSON quoting for the text-like types. */
static void append_scalar(struct strbuf *sb, const struct value *v, bool in_json)
{
	switch (v->type) {
	case FT_STRING:
	case FT_PATH:
		if (in_json)
			strbuf_append_json_str(sb, v->str, v->len);
		else
			strbuf_append(sb, v->str, v->len);
		break;
	case FT_BUFFER:
		/* raw bytes: printable ASCII kept, the rest shown as '.', in text and JSON alike (upstream) */
		if (in_json)
			strbuf_appendc(sb, '"');
		for (uint32_t i = 0; i < v->len; i++) {
			unsigned char c = (unsigned char)v->str[i];
			if (in_json && (c == '"' || c == '\\'))
				strbuf_appendc(sb, '\\');
			strbuf_appendc(sb, c >= 0x20 && c < 0x7f ? (char)c : '.');
		}
		if (in_json)
			strbuf_appendc(sb, '"');
		break;
	case FT_U64:
	case FT_RELTIME:
	case FT_ABSTIME:
		strbuf_appendf(sb, "%" PRIu64, v->u64);
		break;
	case FT_S64:
		strbuf_appendf(sb, "%" PRId64, v->s64);
		break;
	case FT_BOOL:
		strbuf_appends(sb, v->b ? "true" : "false");
		break;
	case FT_DOUBLE:
		if (!in_json) {
			strbuf_appendf(sb, "%.1f", v->d); /* upstream's text rendering of doubles */
		} else if (!isfinite(v->d)) {
			strbuf_appends(sb, "null");
		} else {
			/* a JSON double as jsoncpp writes it: 17 significant digits, always with a '.' */
			char buf[40];
			snprintf(buf, sizeof(buf), "%.17g", v->d);
			strbuf_appends(sb, buf);
			if (!strpbrk(buf, ".eE"))
				strbuf_appends(sb, ".0");
		}
		break;
	case FT_IPNET:
		/* upstream renders network-typed fields as a placeholder, not as the address */
		strbuf_appends(sb, in_json ? "\"<IPNET>\"" : "<IPNET>");
		break;
	case FT_IPADDR:
		if (in_json)
			strbuf_appendc(sb, '"');
		append_ip(sb, &v->ip);
		if (in_json)
			strbuf_appendc(sb, '"');
		break;
	default:
		if (in_json)
			strbuf_appends(sb, "null");
		break;
	}
}

/* List items carry the list's element type, whatever the extractor left in the item itself. */
static struct value item_of(const struct value *v, uint32_t i)
{
	struct value it = v->items[i];
	it.type = v->type;
	it.is_list = false;
	return it;
}

int value_to_text(const struct value *v, struct strbuf *sb)
{
	if (!v->is_list) {
		append_scalar(sb, v, false);
	} else {
		strbuf_appendc(sb, '(');
		for (uint32_t i = 0; i < v->len; i++) {
			if (i)
				strbuf_appendc(sb, ',');
			struct value it = item_of(v, i);
			append_scalar(sb, &it, false);
		}
		strbuf_appendc(sb, ')');
	}
	return sb->failed ? -ENOMEM : 0;
}

int value_to_json(const struct value *v, struct strbuf *sb)
{
	if (!v->is_list) {
		append_scalar(sb, v, true);
	} else {
		strbuf_appendc(sb, '[');
		for (uint32_t i = 0; i < v->len; i++) {
			if (i)
				strbuf_appendc(sb, ',');
			struct value it = item_of(v, i);
			append_scalar(sb, &it, true);
		}
		strbuf_appendc(sb, ']');
	}
	return sb->failed ? -ENOMEM : 0;
}
