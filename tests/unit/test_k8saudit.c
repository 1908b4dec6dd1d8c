/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests for the k8s_audit source: payload shapes and errors, RFC 3339 timestamps, replay files, and every
 * ka.* / jevt.* / json.* / evt.* field on events authored here.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/yaml.h"
#include "falco/engine/fields.h"
#include "falco/engine/flt.h"
#include "falco/source/k8saudit.h"

/* ---- helpers ---- */

struct errlog {
	char msgs[16][256];
	size_t n;
};

static void collect_err(void *ud, const char *msg)
{
	struct errlog *l = ud;
	if (l->n < 16)
		snprintf(l->msgs[l->n], sizeof(l->msgs[0]), "%s", msg);
	l->n++;
}

static int parse_str(const char *s, struct errlog *log, struct k8s_batch **ret, size_t *skipped,
		     char *errbuf)
{
	struct k8s_parse_opts o = {.on_error = collect_err, .ud = log};
	return k8s_batch_parse(s, strlen(s), &o, ret, skipped, errbuf, 256);
}

#define EV(ts, extra) \
	"{\"kind\":\"Event\",\"auditID\":\"a1\",\"stageTimestamp\":\"" ts "\"" extra "}"

/* ---- RFC 3339 ---- */

static void test_rfc3339(void **state)
{
	uint64_t ns = 0;

	assert_int_equal(k8s_parse_rfc3339("1970-01-01T00:00:00Z", &ns), 0);
	assert_true(ns == 0);
	assert_int_equal(k8s_parse_rfc3339("2019-10-07T13:14:15.123456Z", &ns), 0);
	assert_true(ns == 1570454055123456000ull);
	assert_int_equal(k8s_parse_rfc3339("2019-10-07T13:14:15.123456789Z", &ns), 0);
	assert_true(ns == 1570454055123456789ull);
	/* more than 9 digits are truncated, a comma is accepted as Go does */
	assert_int_equal(k8s_parse_rfc3339("2019-10-07T13:14:15.1234567899Z", &ns), 0);
	assert_true(ns == 1570454055123456789ull);
	assert_int_equal(k8s_parse_rfc3339("2019-10-07T13:14:15,5Z", &ns), 0);
	assert_true(ns == 1570454055500000000ull);
	/* offsets */
	assert_int_equal(k8s_parse_rfc3339("2019-10-07T15:14:15+02:00", &ns), 0);
	assert_true(ns == 1570454055000000000ull);
	assert_int_equal(k8s_parse_rfc3339("2019-10-07T08:44:15.5-04:30", &ns), 0);
	assert_true(ns == 1570454055500000000ull);
	/* leap day */
	assert_int_equal(k8s_parse_rfc3339("2020-02-29T00:00:00Z", &ns), 0);
	assert_true(ns == 1582934400000000000ull);

	const char *bad[] = {
		"",
		"2019-10-07",
		"2019-10-07 13:14:15Z",
		"2019-10-07T13:14:15",
		"2019-10-07T13:14:15z",
		"2019-13-07T13:14:15Z",
		"2019-02-29T13:14:15Z",
		"2019-04-31T00:00:00Z",
		"2019-10-07T24:00:00Z",
		"2019-10-07T13:60:00Z",
		"2019-10-07T13:14:60Z",
		"2019-10-07T13:14:15.Z",
		"2019-10-07T13:14:15+0200",
		"2019-10-07T13:14:15Zjunk",
		"1969-12-31T23:59:59Z",
		"2019-1x-07T13:14:15Z",
		"2019-10-07T13:14:15+25:00",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ns = 42;
		if (k8s_parse_rfc3339(bad[i], &ns) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_true(ns == 42);
	}
}

/* ---- batch parsing ---- */

static void test_parse_single_event(void **state)
{
	struct errlog log = {0};
	struct k8s_batch *b = NULL;
	size_t skipped = 99;
	char err[256];

	assert_int_equal(parse_str(EV("2019-10-07T13:14:15.5Z", ",\"verb\":\"get\""), &log, &b,
				   &skipped, err),
			 0);
	assert_non_null(b);
	assert_int_equal(b->n, 1);
	assert_int_equal(skipped, 0);
	assert_int_equal(log.n, 0);
	assert_true(b->evts[0].ts == 1570454055500000000ull);
	assert_non_null(b->evts[0].obj);
	assert_non_null(b->evts[0].cache);
	assert_true(b->bytes > 0);
	k8s_batch_free(b);
	/* apiVersion is not checked */
	assert_int_equal(parse_str("{\"kind\":\"Event\",\"apiVersion\":\"whatever/v9\","
				   "\"stageTimestamp\":\"2019-10-07T13:14:15Z\"}",
				   &log, &b, NULL, err),
			 0);
	assert_int_equal(b->n, 1);
	k8s_batch_free(b);
	assert_null(k8s_batch_free(NULL));
}

static void test_parse_event_list(void **state)
{
	struct errlog log = {0};
	struct k8s_batch *b = NULL;
	size_t skipped = 0;
	char err[256];
	const char *s = "{\"kind\":\"EventList\",\"items\":["
			"{\"auditID\":\"1\",\"stageTimestamp\":\"2019-10-07T13:14:15Z\"},"
			"{\"auditID\":\"2\"},"
			"{\"auditID\":\"3\",\"stageTimestamp\":\"yesterday\"},"
			"{\"auditID\":\"4\",\"stageTimestamp\":12},"
			"42,"
			"{\"auditID\":\"5\",\"stageTimestamp\":\"2019-10-07T13:14:16Z\"}]}";

	assert_int_equal(parse_str(s, &log, &b, &skipped, err), 0);
	assert_int_equal(b->n, 2);
	assert_int_equal(skipped, 4);
	assert_int_equal(log.n, 4);
	assert_string_equal(log.msgs[0], "can't read stageTimestamp");
	assert_non_null(strstr(log.msgs[1], "yesterday"));
	assert_string_equal(log.msgs[3], "can't read stageTimestamp");
	assert_true(b->evts[1].ts == 1570454056000000000ull);
	k8s_batch_free(b);

	/* every item skipped: still a batch, with n == 0 */
	log.n = 0;
	assert_int_equal(
		parse_str("{\"kind\":\"EventList\",\"items\":[{}]}", &log, &b, &skipped, err), 0);
	assert_int_equal(b->n, 0);
	assert_int_equal(skipped, 1);
	k8s_batch_free(b);
	/* empty list */
	assert_int_equal(
		parse_str("{\"kind\":\"EventList\",\"items\":[]}", &log, &b, &skipped, err), 0);
	assert_int_equal(b->n, 0);
	assert_int_equal(skipped, 0);
	k8s_batch_free(b);
	/* items missing or not an array: not recognized */
	log.n = 0;
	b = NULL;
	assert_int_equal(parse_str("{\"kind\":\"EventList\"}", &log, &b, &skipped, err), -EINVAL);
	assert_string_equal(err, "data not recognized as a k8s audit event");
	assert_null(b);
	assert_int_equal(log.n, 1);
	assert_int_equal(
		parse_str("{\"kind\":\"EventList\",\"items\":{}}", &log, &b, &skipped, err),
		-EINVAL);
}

static void test_parse_array(void **state)
{
	struct errlog log = {0};
	struct k8s_batch *b = NULL;
	size_t skipped = 0;
	char err[256];

	/* arrays nest, and hold events and lists; a bad event inside is skipped, not fatal */
	const char *ok = "[" EV("2019-10-07T13:14:15Z", "") ",[" EV(
		"2019-10-07T13:14:16Z",
		"") "],"
		    "{\"kind\":\"EventList\",\"items\":[{\"stageTimestamp\":\"2019-10-07T13:14:17Z\"}]},"
		    "{\"kind\":\"Event\"}]";
	assert_int_equal(parse_str(ok, &log, &b, &skipped, err), 0);
	assert_int_equal(b->n, 3);
	assert_int_equal(skipped, 1);
	assert_true(b->evts[2].ts == 1570454057000000000ull);
	k8s_batch_free(b);
	/* one element that is neither aborts the whole payload */
	const char *bad[] = {
		"[" EV("2019-10-07T13:14:15Z", "") ",{\"kind\":\"Pod\"}]",
		"[" EV("2019-10-07T13:14:15Z", "") ",\"x\"]",
		"[" EV("2019-10-07T13:14:15Z", "") ",{\"kind\":42}]",
		"{\"kind\":\"event\"}",
		"{}",
		"42",
		"\"Event\"",
		"null",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		b = NULL;
		if (parse_str(bad[i], &log, &b, &skipped, err) != -EINVAL)
			fail_msg("accepted %s", bad[i]);
		assert_null(b);
		assert_string_equal(err, "data not recognized as a k8s audit event");
	}
	/* an empty array is fine */
	assert_int_equal(parse_str("[]", &log, &b, &skipped, err), 0);
	assert_int_equal(b->n, 0);
	k8s_batch_free(b);
}

static void test_parse_invalid_json(void **state)
{
	struct errlog log = {0};
	struct k8s_batch *b = NULL;
	char err[256];
	const char *bad[] = {"",
			     "   ",
			     "{",
			     "{\"kind\":\"Event\",}",
			     EV("2019-10-07T13:14:15Z", "") " x",
			     EV("2019-10-07T13:14:15Z", "") EV("2019-10-07T13:14:15Z", ""),
			     "[1,2"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		log.n = 0;
		if (parse_str(bad[i], &log, &b, NULL, err) != -EINVAL)
			fail_msg("accepted '%s'", bad[i]);
		assert_non_null(strstr(err, "invalid JSON"));
		assert_int_equal(log.n, 1);
	}
	/* trailing whitespace and a length that excludes junk after it are fine */
	const char *s = EV("2019-10-07T13:14:15Z", "") " \r\n\tGARBAGE";
	assert_int_equal(k8s_batch_parse(s, strlen(s) - 7, NULL, &b, NULL, err, sizeof(err)), 0);
	assert_int_equal(b->n, 1);
	k8s_batch_free(b);
}

static void test_parse_limits(void **state)
{
	struct errlog log = {0};
	struct k8s_batch *b = NULL;
	size_t skipped;
	char err[256];
	struct strbuf sb;

	/* max_event_size: measured on the compact JSON, so whitespace does not count */
	strbuf_init(&sb, 0);
	strbuf_appends(&sb, "{\"kind\":\"EventList\",\"items\":[");
	strbuf_appends(&sb, "{\"stageTimestamp\":\"2019-10-07T13:14:15Z\",\"pad\":\"");
	for (int i = 0; i < 300; i++)
		strbuf_appendc(&sb, 'x');
	strbuf_appends(&sb, "\"},   {   \"stageTimestamp\"  :  \"2019-10-07T13:14:15Z\"   }   ]}");
	struct k8s_parse_opts o = {.max_event_size = 60, .on_error = collect_err, .ud = &log};
	assert_int_equal(k8s_batch_parse(sb.buf, sb.len, &o, &b, &skipped, err, sizeof(err)), 0);
	assert_int_equal(b->n, 1);
	assert_int_equal(skipped, 1);
	assert_string_equal(log.msgs[0], "event larger than maxEventSize: size=350");
	k8s_batch_free(b);
	/* the second event is exactly 41 bytes compact */
	log.n = 0;
	o.max_event_size = 41;
	assert_int_equal(k8s_batch_parse(sb.buf, sb.len, &o, &b, &skipped, err, sizeof(err)), 0);
	assert_int_equal(b->n, 1);
	k8s_batch_free(b);
	o.max_event_size = 40;
	assert_int_equal(k8s_batch_parse(sb.buf, sb.len, &o, &b, &skipped, err, sizeof(err)), 0);
	assert_int_equal(b->n, 0);
	assert_int_equal(skipped, 2);
	k8s_batch_free(b);
	strbuf_done(&sb);

	/*
	 * The payload's length bounds nothing: 1e15 renders as 1000000000000000, so this 65-byte payload holds
	 * a 77-byte event; control characters render as 6-byte \u00XX escapes.
	 */
	const char *num =
		"{\"kind\":\"Event\",\"stageTimestamp\":\"2019-10-07T13:14:15Z\",\"n\":1e15}";
	log.n = 0;
	o.max_event_size = 76;
	assert_true(strlen(num) < 76);
	assert_int_equal(k8s_batch_parse(num, strlen(num), &o, &b, &skipped, err, sizeof(err)), 0);
	assert_int_equal(b->n, 0);
	assert_int_equal(skipped, 1);
	assert_string_equal(log.msgs[0], "event larger than maxEventSize: size=77");
	k8s_batch_free(b);
	o.max_event_size = 77;
	assert_int_equal(k8s_batch_parse(num, strlen(num), &o, &b, &skipped, err, sizeof(err)), 0);
	assert_int_equal(b->n, 1);
	k8s_batch_free(b);
	const char *ctl =
		"{\"kind\":\"Event\",\"stageTimestamp\":\"2019-10-07T13:14:15Z\",\"c\":\"\\u0001\\u0002\"}";
	log.n = 0;
	o.max_event_size = 74;
	assert_int_equal(k8s_batch_parse(ctl, strlen(ctl), &o, &b, &skipped, err, sizeof(err)), 0);
	assert_int_equal(b->n, 0);
	assert_string_equal(log.msgs[0], "event larger than maxEventSize: size=75");
	k8s_batch_free(b);

	/* max_events rejects the whole payload */
	o = (struct k8s_parse_opts){.max_events = 2, .on_error = collect_err, .ud = &log};
	const char *three = "[" EV("2019-10-07T13:14:15Z", "") "," EV(
		"2019-10-07T13:14:15Z", "") "," EV("2019-10-07T13:14:15Z", "") "]";
	b = NULL;
	assert_int_equal(k8s_batch_parse(three, strlen(three), &o, &b, NULL, err, sizeof(err)),
			 -EINVAL);
	assert_null(b);
	assert_non_null(strstr(err, "too many events"));
	o.max_events = 3;
	assert_int_equal(k8s_batch_parse(three, strlen(three), &o, &b, NULL, err, sizeof(err)), 0);
	assert_int_equal(b->n, 3);
	k8s_batch_free(b);
}

/* ---- fields ---- */

#define FIXTURE_FIELDS "tests/fixtures/k8s/fields.jsonl"

/* Events of fields.jsonl, in file order. */
enum {
	EV_POD,
	EV_BIND,
	EV_ROLE,
	EV_SVC,
	EV_EXEC,
	EV_BAD_URI,
	EV_SEMI_URI,
	EV_NOID,
	EV_ODD,
	_EV_MAX
};

static struct k8s_batch *fixture[_EV_MAX];

static int load_fixture(void **state)
{
	FILE *f = fopen(FIXTURE_FIELDS, "r");
	char line[16384];
	int i = 0;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f) && i < _EV_MAX) {
		char err[256];
		assert_int_equal(k8s_batch_parse(line, strlen(line), NULL, &fixture[i], NULL, err,
						 sizeof(err)),
				 0);
		assert_int_equal(fixture[i]->n, 1);
		i++;
	}
	fclose(f);
	assert_int_equal(i, _EV_MAX);
	return 0;
}

static int free_fixture(void **state)
{
	for (int i = 0; i < _EV_MAX; i++)
		fixture[i] = k8s_batch_free(fixture[i]);
	return 0;
}

static const struct fld_def *find_field(const char *name)
{
	for (const struct fld_table *const *t = src_k8s_audit.tables; *t; t++)
		for (size_t i = 0; i < (*t)->n; i++)
			if (strcmp((*t)->defs[i].name, name) == 0)
				return &(*t)->defs[i];
	return NULL;
}

/* Prepares a field instance like the compiler would; returns the prepare result. */
static int make_inst(const char *name, const char *arg, struct fld_inst *fi, char *err,
		     size_t errlen)
{
	const struct fld_def *d = find_field(name);
	if (!d)
		fail_msg("no field %s", name);
	*fi = (struct fld_inst){
		.def = d, .arg = arg, .arg_len = arg ? (uint32_t)strlen(arg) : 0, .arg_num = -1};
	if ((d->flags & FLD_ARG_REQUIRED) && !arg)
		fail_msg("%s needs an argument", name);
	return d->prepare ? d->prepare(fi, err, errlen) : 0;
}

static void render_value(const struct value *v, struct strbuf *sb)
{
	switch (v->type) {
	case FT_STRING:
		strbuf_append(sb, v->str, v->len);
		assert_true(v->str[v->len] == '\0');
		break;
	case FT_U64:
	case FT_ABSTIME:
		strbuf_appendf(sb, "%llu", (unsigned long long)v->u64);
		break;
	default:
		fail_msg("unexpected type %d", v->type);
	}
}

/* Extracts name[arg] from an event: "<NA>" when missing, "(a,b)" for lists, the text otherwise. */
static char *extract_evt(const struct evt *e, const char *name, const char *arg)
{
	static char out[4096];
	struct fld_inst fi;
	struct arena a;
	struct value v;
	struct strbuf sb;
	char err[256];

	assert_int_equal(make_inst(name, arg, &fi, err, sizeof(err)), 0);
	arena_init(&a, 256, 0);
	struct fld_ctx ctx = {.evt = e, .arena = &a};
	int r = fi.def->extract(&ctx, &fi, &v);
	assert_true(r >= 0);
	strbuf_init(&sb, 0);
	if (r == 0)
		strbuf_appends(&sb, "<NA>");
	else if (v.is_list) {
		assert_true(fi.def->flags & FLD_LIST);
		assert_false(arg && (fi.def->flags & FLD_ARG_LIST_INDEX));
		assert_true(v.len > 0);
		strbuf_appendc(&sb, '(');
		for (uint32_t i = 0; i < v.len; i++) {
			if (i)
				strbuf_appendc(&sb, ',');
			render_value(&v.items[i], &sb);
		}
		strbuf_appendc(&sb, ')');
	} else {
		assert_true(v.type == fi.def->type);
		/* the engine's contract: name[N] of an FLD_ARG_LIST_INDEX field is a scalar, other lists stay lists */
		assert_false((fi.def->flags & FLD_LIST) &&
			     !(arg && (fi.def->flags & FLD_ARG_LIST_INDEX)));
		render_value(&v, &sb);
	}
	snprintf(out, sizeof(out), "%s", strbuf_str(&sb));
	strbuf_done(&sb);
	arena_done(&a);
	if (fi.def->release)
		fi.def->release(&fi);
	return out;
}

static char *extract(int ev, const char *name, const char *arg)
{
	const struct k8s_evt *ke = &fixture[ev]->evts[0];
	struct evt e = {.ts = ke->ts, .num = 7, .data = ke};
	return extract_evt(&e, name, arg);
}

struct field_case {
	int ev;
	const char *field;
	const char *arg;
	const char *want;
};

static const struct field_case cases[] = {
	/* root keys and annotations */
	{EV_POD, "ka.auditid", NULL, "pod-1"},
	{EV_POD, "ka.stage", NULL, "ResponseComplete"},
	{EV_POD, "ka.verb", NULL, "create"},
	{EV_POD, "ka.useragent", NULL, "kubectl/v1.29.0 (linux/amd64)"},
	{EV_EXEC, "ka.uri", NULL,
	 "/api/v1/namespaces/shop/pods/web-7f9c/exec?command=sh&command=-c&command=id&container=web&stdin=true&tty=true"},
	{EV_POD, "ka.auth.decision", NULL, "allow"},
	{EV_POD, "ka.auth.reason", NULL, ""},
	{EV_BIND, "ka.auth.reason", NULL, "RBAC: allowed by ClusterRoleBinding \"dev-edit\""},
	{EV_POD, "ka.cluster.name", NULL, "prod-eu"},
	{EV_BIND, "ka.cluster.name", NULL, "<NA>"},
	{EV_POD, "ka.security.pod.violations", NULL, "would violate restricted"},
	{EV_POD, "ka.validations.admission.policy.failure", NULL, "[{\"message\":\"no\"}]"},
	{EV_POD, "ka.auth.openshift.decision", NULL, "allow"},
	{EV_POD, "ka.auth.openshift.username", NULL, "kube:admin"},
	{EV_ODD, "ka.auth.decision", NULL, "true"},
	/* users */
	{EV_POD, "ka.user.name", NULL, "alice"},
	{EV_POD, "ka.user.groups", NULL, "(dev,system:authenticated)"},
	{EV_ODD, "ka.user.groups", NULL, "<NA>"},
	{EV_POD, "ka.impuser.name", NULL, "system:serviceaccount:shop:deployer"},
	{EV_BIND, "ka.impuser.name", NULL, "<NA>"},
	{EV_POD, "ka.sourceips", NULL, "(10.0.0.7,192.168.1.20)"},
	{EV_POD, "ka.sourceips", "1", "192.168.1.20"},
	{EV_POD, "ka.sourceips", "2", "<NA>"},
	/* uri params: first value, decoded; a bad escape or ';' fails the whole query, as Go */
	{EV_EXEC, "ka.uri.param", "command", "sh"},
	{EV_EXEC, "ka.uri.param", "container", "web"},
	{EV_EXEC, "ka.uri.param", "nope", "<NA>"},
	{EV_POD, "ka.uri.param", "fieldManager", "kubectl-client"},
	{EV_POD, "ka.uri.param", "dryRun", "All"},
	{EV_POD, "ka.uri.param", "empty", ""},
	{EV_POD, "ka.uri.param", "flag", ""},
	{EV_POD, "ka.uri.param", "plus", "a b"},
	{EV_BAD_URI, "ka.uri.param", "y", "<NA>"},
	{EV_SEMI_URI, "ka.uri.param", "x", "<NA>"},
	{EV_ROLE, "ka.uri.param", "x", "<NA>"},
	/* objectRef, response */
	{EV_POD, "ka.target.name", NULL, "web-7f9c"},
	{EV_POD, "ka.target.namespace", NULL, "shop"},
	{EV_POD, "ka.target.resource", NULL, "pods"},
	{EV_POD, "ka.target.subresource", NULL, "<NA>"},
	{EV_EXEC, "ka.target.subresource", NULL, "exec"},
	{EV_BIND, "ka.target.namespace", NULL, "<NA>"},
	{EV_POD, "ka.target.pod.name", NULL, "web-7f9c"},
	{EV_EXEC, "ka.target.pod.name", NULL, "<NA>"},
	{EV_BIND, "ka.target.pod.name", NULL, "<NA>"},
	{EV_POD, "ka.resp.name", NULL, "web-7f9c"},
	{EV_POD, "ka.response.code", NULL, "201"},
	{EV_POD, "ka.response.reason", NULL, "<NA>"},
	{EV_EXEC, "ka.response.code", NULL, "403"},
	{EV_EXEC, "ka.response.reason", NULL, "Forbidden"},
	{EV_ODD, "ka.response.code", NULL, "200"},
	{EV_POD, "ka.req.configmap.name", NULL, "web-7f9c"},
	{EV_POD, "ka.req.configmap.obj", NULL, "<NA>"},
	/* pod spec */
	{EV_POD, "ka.req.pod.host_network", NULL, "true"},
	{EV_POD, "ka.req.container.host_network", NULL, "true"},
	{EV_POD, "ka.req.pod.host_pid", NULL, "false"},
	{EV_POD, "ka.req.pod.host_ipc", NULL, "<NA>"},
	{EV_POD, "ka.req.pod.run_as_user", NULL, "1000"},
	{EV_POD, "ka.req.pod.run_as_group", NULL, "3000"},
	{EV_POD, "ka.req.pod.fs_group", NULL, "2000"},
	{EV_POD, "ka.req.pod.supplemental_groups", NULL, "(4000,5000)"},
	{EV_ODD, "ka.req.pod.run_as_user", NULL, "<NA>"},
	/* containers */
	{EV_POD, "ka.req.pod.containers.name", NULL, "(web,sidecar)"},
	{EV_POD, "ka.req.pod.containers.image", NULL,
	 "(registry.example.com:5000/shop/web:1.4@sha256:abcd,busybox)"},
	{EV_POD, "ka.req.pod.containers.image", "1", "busybox"},
	{EV_POD, "ka.req.pod.containers.image", "2", "<NA>"},
	{EV_POD, "ka.req.pod.containers.image.repository", NULL, "(registry.example.com,busybox)"},
	{EV_POD, "ka.req.pod.containers.command", NULL, "(/bin/web --port)"},
	{EV_POD, "ka.req.pod.containers.args", NULL, "(8080)"},
	{EV_POD, "ka.req.pod.containers.args", "1", "<NA>"},
	{EV_POD, "ka.req.pod.containers.privileged", NULL, "(true)"},
	{EV_POD, "ka.req.pod.containers.privileged", "0", "true"},
	{EV_POD, "ka.req.pod.containers.privileged", "1", "<NA>"},
	{EV_POD, "ka.req.pod.containers.allow_privilege_escalation", NULL, "(false)"},
	{EV_POD, "ka.req.pod.containers.read_only_fs", NULL, "(true)"},
	{EV_POD, "ka.req.pod.containers.run_as_user", NULL, "(0)"},
	{EV_POD, "ka.req.pod.containers.run_as_group", NULL, "<NA>"},
	{EV_POD, "ka.req.pod.containers.eff_run_as_user", NULL, "(0,1000)"},
	{EV_POD, "ka.req.pod.containers.eff_run_as_user", "1", "1000"},
	{EV_POD, "ka.req.pod.containers.eff_run_as_group", NULL, "(3000,3000)"},
	{EV_ODD, "ka.req.pod.containers.eff_run_as_user", NULL, "(0,5)"},
	{EV_POD, "ka.req.pod.containers.proc_mount", NULL, "(Default)"},
	{EV_POD, "ka.req.pod.containers.add_capabilities", NULL, "(NET_ADMIN,SYS_TIME)"},
	{EV_POD, "ka.req.pod.containers.host_port", NULL, "(80,9090,53)"},
	{EV_POD, "ka.req.pod.containers.host_port", "1", "(53)"},
	{EV_POD, "ka.req.pod.containers.host_port", "0", "(80,9090)"},
	{EV_POD, "ka.req.pod.containers.add_capabilities", "0", "(NET_ADMIN,SYS_TIME)"},
	{EV_POD, "ka.req.pod.volumes.volume_type", "2", "(flexVolume)"},
	{EV_POD, "ka.req.pod.initContainers.name", NULL, "(init)"},
	{EV_POD, "ka.req.pod.initContainers.image", NULL, "(alpine:3.19)"},
	{EV_POD, "ka.req.pod.initContainers.image.repository", NULL, "(alpine)"},
	{EV_POD, "ka.req.pod.initContainers.command", NULL, "(sh -c echo hi)"},
	{EV_POD, "ka.req.pod.initContainers.privileged", NULL, "(false)"},
	{EV_POD, "ka.req.pod.initContainers.run_as_group", NULL, "(7)"},
	{EV_POD, "ka.req.pod.initContainers.eff_run_as_user", NULL, "(1000)"},
	{EV_POD, "ka.req.pod.initContainers.eff_run_as_group", NULL, "(7)"},
	{EV_POD, "ka.req.pod.initContainers.host_port", NULL, "<NA>"},
	{EV_POD, "ka.req.pod.ephemeralContainers.name", NULL, "(debugger)"},
	{EV_POD, "ka.req.pod.ephemeralContainers.image.repository", NULL, "(nicolaka/netshoot)"},
	{EV_POD, "ka.req.pod.ephemeralContainers.privileged", NULL, "(true)"},
	{EV_POD, "ka.req.pod.ephemeralContainers.eff_run_as_user", NULL, "(42)"},
	{EV_POD, "ka.req.pod.ephemeralContainers.eff_run_as_group", NULL, "(3000)"},
	{EV_POD, "ka.req.pod.ephemeralContainers.add_capabilities", NULL, "<NA>"},
	{EV_ODD, "ka.req.pod.containers.name", NULL, "(c0,c1)"},
	{EV_ODD, "ka.req.pod.containers.image", NULL, "(nginx:1.25)"},
	{EV_ODD, "ka.req.pod.containers.image.repository", NULL, "(nginx)"},
	{EV_ODD, "ka.req.pod.initContainers.name", NULL, "<NA>"},
	{EV_BIND, "ka.req.pod.containers.image", NULL, "<NA>"},
	/* deprecated container fields */
	{EV_POD, "ka.req.container.image", NULL,
	 "registry.example.com:5000/shop/web:1.4@sha256:abcd"},
	{EV_POD, "ka.req.container.image.repository", NULL, "registry.example.com"},
	{EV_POD, "ka.req.container.privileged", NULL, "true"},
	{EV_ODD, "ka.req.container.privileged", NULL, "false"},
	{EV_ODD, "ka.req.container.image", NULL, "<NA>"},
	{EV_BIND, "ka.req.container.privileged", NULL, "<NA>"},
	/* volumes */
	{EV_POD, "ka.req.pod.volumes.hostpath", NULL, "(/etc/kubernetes,/proc/1)"},
	{EV_POD, "ka.req.pod.volumes.hostpath", "3", "/proc/1"},
	{EV_POD, "ka.req.pod.volumes.hostpath", "1", "<NA>"},
	{EV_POD, "ka.req.pod.volumes.flexvolume_driver", NULL, "(example.com/lvm)"},
	{EV_POD, "ka.req.pod.volumes.volume_type", NULL,
	 "(hostPath,configMap,flexVolume,hostPath)"},
	{EV_ODD, "ka.req.pod.volumes.volume_type", NULL, "(emptyDir)"},
	{EV_ODD, "ka.req.pod.volumes.hostpath", NULL, "<NA>"},
	{EV_POD, "ka.req.volume.hostpath", "/etc/kubernetes", "true"},
	{EV_POD, "ka.req.volume.hostpath", "/etc", "false"},
	{EV_POD, "ka.req.volume.hostpath", "/etc*", "true"},
	{EV_POD, "ka.req.volume.hostpath", "/proc*", "true"},
	{EV_POD, "ka.req.volume.hostpath", "/var*", "false"},
	{EV_ODD, "ka.req.volume.hostpath", "/x", "false"},
	{EV_BIND, "ka.req.volume.hostpath", "/x", "<NA>"},
	/* bindings and roles */
	{EV_BIND, "ka.req.binding.role", NULL, "cluster-admin"},
	{EV_BIND, "ka.req.binding.subjects", NULL,
	 "({\"kind\":\"User\",\"name\":\"bob\"},{\"kind\":\"ServiceAccount\",\"name\":\"ci\",\"namespace\":\"build\"},"
	 "{\"kind\":\"Group\",\"name\":\"ops\"},{\"kind\":\"ServiceAccount\",\"name\":\"noname-ns\"},{\"kind\":\"User\"})"},
	{EV_BIND, "ka.req.binding.subjects.user_names", NULL, "(bob)"},
	{EV_BIND, "ka.req.binding.subjects.serviceaccount_names", NULL, "(ci,noname-ns)"},
	{EV_BIND, "ka.req.binding.subjects.serviceaccount_ns_names", NULL, "(build:ci,:noname-ns)"},
	{EV_BIND, "ka.req.binding.subjects.group_names", NULL, "(ops)"},
	{EV_POD, "ka.req.binding.subjects.group_names", NULL, "<NA>"},
	{EV_BIND, "ka.req.binding.subject.has_name", "cluster-admin", "true"},
	{EV_POD, "ka.req.binding.subject.has_name", "anything", "true"},
	{EV_ROLE, "ka.req.role.rules.verbs", NULL, "(get,list,*,get)"},
	{EV_ROLE, "ka.req.role.rules.verbs", "1", "(*)"},
	{EV_ROLE, "ka.req.role.rules.verbs", "3", "<NA>"},
	{EV_ROLE, "ka.req.role.rules.resources", NULL, "(pods,pods/log,deployments)"},
	{EV_ROLE, "ka.req.role.rules.resources", "2", "<NA>"},
	{EV_ROLE, "ka.req.role.rules.apiGroups", NULL, "(,apps)"},
	{EV_ROLE, "ka.req.role.rules.nonResourceURLs", NULL, "(/healthz)"},
	{EV_ROLE, "ka.req.role.rules", NULL,
	 "({\"apiGroups\":[\"\"],\"resources\":[\"pods\",\"pods/log\"],\"verbs\":[\"get\",\"list\"]},"
	 "{\"apiGroups\":[\"apps\"],\"resources\":[\"deployments\"],\"verbs\":[\"*\"]},"
	 "{\"nonResourceURLs\":[\"/healthz\"],\"verbs\":[\"get\"]})"},
	{EV_BIND, "ka.req.role.rules", NULL, "<NA>"},
	/* services */
	{EV_SVC, "ka.req.service.type", NULL, "NodePort"},
	{EV_SVC, "ka.req.service.ports", NULL,
	 "({\"port\":80,\"nodePort\":30080,\"protocol\":\"TCP\"},{\"port\":443})"},
	{EV_SVC, "ka.req.service.ports", "1", "{\"port\":443}"},
	{EV_POD, "ka.req.service.type", NULL, "<NA>"},
	/* no auditID: no ka.* field at all, but the json fields still work */
	{EV_NOID, "ka.verb", NULL, "<NA>"},
	{EV_NOID, "ka.target.name", NULL, "<NA>"},
	{EV_NOID, "ka.req.binding.subject.has_name", "x", "<NA>"},
	{EV_NOID, "ka.uri", NULL, "<NA>"},
	{EV_NOID, "jevt.value", "/verb", "get"},
	{EV_NOID, "json.value", "/objectRef/name", "p"},
	/* json pointers: escapes, array indexes, non-string rendering */
	{EV_POD, "jevt.value", "/stage", "ResponseComplete"},
	{EV_POD, "jevt.value", "/annotations/authorization.k8s.io~1decision", "allow"},
	{EV_POD, "jevt.value", "/requestObject/spec/ephemeralContainers/0/image",
	 "nicolaka/netshoot@sha256:1234"},
	{EV_POD, "jevt.value", "/requestObject/spec/hostNetwork", "true"},
	{EV_POD, "jevt.value", "/responseStatus/code", "201"},
	{EV_POD, "jevt.value", "/requestObject/spec/securityContext/supplementalGroups",
	 "[4000,5000]"},
	{EV_POD, "jevt.value", "/sourceIPs/1", "192.168.1.20"},
	{EV_POD, "jevt.value", "/sourceIPs/2", "<NA>"},
	{EV_POD, "jevt.value", "/sourceIPs/01", "<NA>"},
	{EV_POD, "jevt.value", "/sourceIPs/-", "<NA>"},
	{EV_POD, "jevt.value", "/nope", "<NA>"},
	{EV_POD, "jevt.value", "/stage/x", "<NA>"},
	{EV_ODD, "jevt.value", "/annotations/weird~1key~0x", "{\"a\":[1,2.5,null,\"s\\\"q\\n\"]}"},
	{EV_ODD, "jevt.value", "/annotations/weird~1key~0x/a/1", "2.5"},
	{EV_ODD, "jevt.value", "/annotations/weird~1key~0x/a/2", "null"},
	{EV_ODD, "jevt.value", "/annotations/weird~1key~0x/a/3", "s\"q\n"},
	{EV_ODD, "json.value", "/responseStatus/details", "null"},
	{EV_ODD, "json.value", "/user/groups", "not-a-list"},
	{EV_POD, "jevt.rawtime", NULL, "1709634030123456789"},
	{EV_POD, "json.rawtime", NULL, "1709634030123456789"},
	/* generic and source fields */
	{EV_POD, "evt.time.iso8601", NULL, "2024-03-05T10:20:30.123456789+0000"},
	{EV_POD, "evt.time", NULL, "10:20:30.123456789"},
	{EV_POD, "evt.time.s", NULL, "10:20:30"},
	{EV_POD, "evt.datetime", NULL, "2024-03-05 10:20:30.123456789"},
	{EV_POD, "evt.datetime.s", NULL, "2024-03-05 10:20:30"},
	{EV_POD, "evt.rawtime", NULL, "1709634030123456789"},
	{EV_POD, "evt.rawtime.s", NULL, "1709634030"},
	{EV_POD, "evt.rawtime.ns", NULL, "123456789"},
	{EV_POD, "evt.num", NULL, "7"},
	{EV_POD, "evt.source", NULL, "k8s_audit"},
	{EV_POD, "evt.pluginname", NULL, "k8saudit"},
};

static void test_fields_table(void **state)
{
	/* evt.time & co. are local time: pin the zone */
	setenv("TZ", "UTC", 1);
	tzset();
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct field_case *c = &cases[i];
		const char *got = extract(c->ev, c->field, c->arg);
		if (strcmp(got, c->want) != 0)
			fail_msg("case %zu: %s%s%s%s on event %d: got '%s', want '%s'", i, c->field,
				 c->arg ? "[" : "", c->arg ? c->arg : "", c->arg ? "]" : "", c->ev,
				 got, c->want);
	}
}

static void test_fields_json_whole_and_obj(void **state)
{
	const char *doc =
		"{\"auditID\":\"x\",\"stageTimestamp\":\"2024-03-05T10:20:30Z\",\"kind\":\"Event\","
		"\"a\":{\"b\":[1,{}],\"c\":[],\"d\":\"t\\u0001\"}}";
	struct k8s_batch *b;
	char err[256];

	assert_int_equal(k8s_batch_parse(doc, strlen(doc), NULL, &b, NULL, err, sizeof(err)), 0);
	struct evt e = {.ts = b->evts[0].ts, .data = &b->evts[0]};
	assert_string_equal(
		extract_evt(&e, "jevt.value", ""),
		"{\"auditID\":\"x\",\"stageTimestamp\":\"2024-03-05T10:20:30Z\",\"kind\":\"Event\","
		"\"a\":{\"b\":[1,{}],\"c\":[],\"d\":\"t\\u0001\"}}");
	assert_string_equal(extract_evt(&e, "json.obj", NULL),
			    "{\n"
			    "  \"auditID\": \"x\",\n"
			    "  \"stageTimestamp\": \"2024-03-05T10:20:30Z\",\n"
			    "  \"kind\": \"Event\",\n"
			    "  \"a\": {\n"
			    "    \"b\": [\n"
			    "      1,\n"
			    "      {}\n"
			    "    ],\n"
			    "    \"c\": [],\n"
			    "    \"d\": \"t\\u0001\"\n"
			    "  }\n"
			    "}");
	assert_string_equal(extract_evt(&e, "jevt.obj", NULL), extract_evt(&e, "json.obj", NULL));
	/* an event built by hand (no parse-time cache) still extracts */
	struct k8s_evt bare = {.obj = b->evts[0].obj, .ts = 5};
	e.data = &bare;
	assert_string_equal(extract_evt(&e, "ka.auditid", NULL), "x");
	assert_string_equal(extract_evt(&e, "ka.req.pod.containers.image", NULL), "<NA>");
	k8s_batch_free(b);
}

static void test_fields_prepare_errors(void **state)
{
	struct fld_inst fi;
	char err[256];

	assert_int_equal(make_inst("jevt.value", "stage", &fi, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "must start with '/'"));
	assert_int_equal(make_inst("jevt.value", "/a~2b", &fi, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'~'"));
	assert_int_equal(make_inst("json.value", "/a~", &fi, err, sizeof(err)), -EINVAL);
	assert_null(fi.arg_priv);
	const char *bad_idx[] = {"01", "x", "-1", "", "1a", "9999999999"};
	for (size_t i = 0; i < sizeof(bad_idx) / sizeof(bad_idx[0]); i++)
		assert_int_equal(
			make_inst("ka.req.pod.containers.image", bad_idx[i], &fi, err, sizeof(err)),
			-EINVAL);
	assert_int_equal(make_inst("ka.req.pod.containers.image", "10", &fi, err, sizeof(err)), 0);
	assert_true(fi.arg_num == 10);
	assert_int_equal(make_inst("ka.req.pod.containers.image", "0", &fi, err, sizeof(err)), 0);
	assert_true(fi.arg_num == 0);
}

static void test_fields_catalog(void **state)
{
	static const char *const deprecated[] = {
		"ka.req.container.image",      "ka.req.container.image.repository",
		"ka.req.container.privileged", "ka.req.container.host_network",
		"ka.req.volume.hostpath",      "ka.req.binding.subject.has_name",
	};
	size_t nka = 0, ndep = 0, nlist = 0;

	assert_string_equal(src_k8s_audit.name, "k8s_audit");
	assert_int_equal(src_k8s_audit.nevttypes, 1);
	for (const struct fld_table *const *t = src_k8s_audit.tables; *t; t++)
		for (size_t i = 0; i < (*t)->n; i++) {
			const struct fld_def *d = &(*t)->defs[i];
			assert_non_null(d->extract);
			assert_non_null(d->desc);
			/* names are unique across the source's tables */
			assert_ptr_equal(find_field(d->name), d);
			if (strncmp(d->name, "ka.", 3) != 0)
				continue;
			nka++;
			assert_int_equal(d->type, FT_STRING);
			if (d->flags & FLD_DEPRECATED)
				ndep++;
			if (d->flags & FLD_LIST)
				nlist++;
			if (d->flags & FLD_ARG_LIST_INDEX)
				assert_true((d->flags & FLD_LIST) && d->prepare);
		}
	/* upstream's catalog (98 fields in §3.1) plus name/command/args of the container lists it counts once */
	assert_true(nka >= 98);
	assert_int_equal(ndep, sizeof(deprecated) / sizeof(deprecated[0]));
	for (size_t i = 0; i < ndep; i++)
		assert_true(find_field(deprecated[i])->flags & FLD_DEPRECATED);
	assert_true(nlist > 50);
	assert_true(find_field("ka.uri.param")->flags & FLD_ARG_REQUIRED);
	assert_false(find_field("ka.user.groups")->flags & FLD_ARG_ALLOWED);
	assert_null(find_field("ka.req.pod.ephemeralContainers.host_port"));
	assert_non_null(find_field("ka.req.pod.initContainers.host_port"));
}

/* Every field, with and without an index, on every fixture event: no crash, sane values. */
static void test_fields_all_on_all(void **state)
{
	for (const struct fld_table *const *t = src_k8s_audit.tables; *t; t++)
		for (size_t i = 0; i < (*t)->n; i++) {
			const struct fld_def *d = &(*t)->defs[i];
			const char *args[3] = {NULL, "0", "3"};
			for (int ev = 0; ev < _EV_MAX; ev++)
				for (int a = 0; a < 3; a++) {
					const char *arg = args[a];
					if ((d->flags & FLD_ARG_REQUIRED) && !arg)
						arg = (d->prepare == NULL ||
						       strncmp(d->name, "ka.", 3) == 0)
							      ? "x"
							      : "/x";
					if (arg && !(d->flags & FLD_ARG_ALLOWED))
						continue;
					if (arg && strncmp(d->name, "j", 1) == 0 && arg[0] != '/')
						continue;
					(void)extract(ev, d->name, arg);
				}
		}
}

/* Parsing (cJSON into the batch arena): errors, escapes and numbers, checked through jevt.value. */
static void test_json_parser(void **state)
{
	struct k8s_batch *b = NULL;
	char err[256];
	const char *bad[] = {
		"{\"kind\":\"Event\",\"a\":.5}",
		"{\"kind\":\"Event\",\"a\":1e}",
		"{\"kind\":\"Event\",\"a\":-}",
		"{\"kind\":\"Event\",\"a\":tru}",
		"{\"kind\":\"Event\",\"a\":\"\\x\"}",
		"{\"kind\":\"Event\",\"a\":\"\\u12G4\"}",
		"{\"kind\":\"Event\",\"a\":\"abc}",
		"{\"kind\":\"Event\" \"a\":1}",
		"{\"kind\":\"Event\",a:1}",
		"[1,]",
		"{\"a\":1,}",
		"{'a':1}",
		"[1 2]",
		"nul",
		"\"\\",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (k8s_batch_parse(bad[i], strlen(bad[i]), NULL, &b, NULL, err, sizeof(err)) !=
			    -EINVAL ||
		    !strstr(err, "invalid JSON"))
			fail_msg("accepted %s", bad[i]);

	/* cJSON refuses a lone surrogate escape (a real apiserver never writes one) */
	const char *lone = "{\"kind\":\"Event\",\"a\":\"\\ud800x\"}";
	assert_int_equal(k8s_batch_parse(lone, strlen(lone), NULL, &b, NULL, err, sizeof(err)),
			 -EINVAL);

	/* nesting is bounded */
	struct strbuf sb;
	strbuf_init(&sb, 0);
	for (int i = 0; i < 1001; i++)
		strbuf_appendc(&sb, '[');
	for (int i = 0; i < 1001; i++)
		strbuf_appendc(&sb, ']');
	assert_int_equal(k8s_batch_parse(sb.buf, sb.len, NULL, &b, NULL, err, sizeof(err)),
			 -EINVAL);
	strbuf_done(&sb);

	const char *doc =
		"{\"kind\":\"Event\",\"auditID\":\"j\",\"stageTimestamp\":\"2024-03-05T10:20:30Z\","
		"\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\\u00e9\\u20ac\\ud83d\\ude00x\\u0000y\\\\u0000\","
		"\"n\":[0,-0,12,-7,1.5,1e3,2.5E-1,123456789012345678901,-9007199254740993,1.7976931348623157e308],"
		"\"lit\":[true,false,null],\"e\":{},\"ea\":[]}";
	assert_int_equal(k8s_batch_parse(doc, strlen(doc), NULL, &b, NULL, err, sizeof(err)), 0);
	struct evt e = {.ts = b->evts[0].ts, .data = &b->evts[0]};
	assert_string_equal(
		extract_evt(&e, "jevt.value", "/s"),
		"a\"b\\c/d\b\f\n\r\t\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80x\xef\xbf\xbdy\\u0000");
	assert_string_equal(
		extract_evt(&e, "jevt.value", "/n"),
		"[0,0,12,-7,1.5,1000,0.25,1.2345678901234568e+20,-9007199254740992,1.7976931348623157e+308]");
	assert_string_equal(extract_evt(&e, "jevt.value", "/lit"), "[true,false,null]");
	assert_string_equal(extract_evt(&e, "jevt.value", "/e"), "{}");
	assert_string_equal(extract_evt(&e, "jevt.value", "/ea"), "[]");
	k8s_batch_free(b);
}

/* Deterministic mutations of an authored event: parsing and every field must stay memory-safe (run under ASan). */
static void test_mutations(void **state)
{
	FILE *f = fopen(FIXTURE_FIELDS, "r");
	char line[16384], buf[16384], err[256];
	uint64_t rng = 0x9e3779b97f4a7c15ull;
	int parsed = 0;

	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	fclose(f);
	size_t len = strlen(line);
	for (int iter = 0; iter < 3000; iter++) {
		size_t n = len;
		memcpy(buf, line, len);
		for (int k = 0; k < 1 + iter % 4; k++) {
			rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
			size_t pos = rng % n;
			static const char alphabet[] = "{}[]\",:\\u0e1 \t\nx-+.";
			switch ((rng >> 32) % 3) {
			case 0: /* replace a byte */
				buf[pos] = alphabet[(rng >> 40) % (sizeof(alphabet) - 1)];
				break;
			case 1: /* truncate */
				n = pos + 1;
				break;
			default: /* delete a byte */
				memmove(buf + pos, buf + pos + 1, n - pos - 1);
				n--;
				break;
			}
		}
		struct k8s_batch *b = NULL;
		if (k8s_batch_parse(buf, n, NULL, &b, NULL, err, sizeof(err)) < 0)
			continue;
		parsed++;
		for (size_t e = 0; e < b->n; e++) {
			struct evt ev = {.ts = b->evts[e].ts, .data = &b->evts[e]};
			for (const struct fld_table *const *t = src_k8s_audit.tables; *t; t++)
				for (size_t i = 0; i < (*t)->n; i++) {
					const struct fld_def *d = &(*t)->defs[i];
					const char *arg = NULL;
					if (d->flags & FLD_ARG_REQUIRED)
						arg = d->name[0] == 'j' ? "/requestObject/spec"
									: "x";
					(void)extract_evt(&ev, d->name, arg);
				}
		}
		k8s_batch_free(b);
	}
	/* enough mutants survive parsing for the field pass to mean something */
	assert_true(parsed > 300);
}

/* ---- replay ---- */

static char tmpdir[64];

static void write_text(const char *name, const char *text, time_t mtime)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	if (mtime) {
		struct timespec ts[2] = {{.tv_sec = mtime}, {.tv_sec = mtime}};
		assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	}
}

static int replay_all(const char *path, size_t max_event_size, struct errlog *log, char ids[][16],
		      size_t *nids, size_t *errors)
{
	struct k8s_parse_opts o = {
		.max_event_size = max_event_size, .on_error = collect_err, .ud = log};
	struct k8s_replay *r = NULL;
	struct k8s_batch *b;
	char err[256];
	int q;

	q = k8s_replay_open(path, &o, &r, err, sizeof(err));
	if (q < 0)
		return q;
	*nids = 0;
	while ((q = k8s_replay_next(r, &b, err, sizeof(err))) == 1) {
		assert_true(b->n > 0);
		for (size_t i = 0; i < b->n; i++) {
			struct evt e = {.ts = b->evts[i].ts, .data = &b->evts[i]};
			snprintf(ids[(*nids)++], 16, "%s",
				 extract_evt(&e, "jevt.value", "/auditID"));
		}
		k8s_batch_free(b);
	}
	assert_int_equal(q, 0);
	*errors = k8s_replay_errors(r);
	k8s_replay_close(r);
	return 0;
}

#define T	"\"stageTimestamp\":\"2024-03-05T10:20:30Z\""
#define EVL(id) "{\"kind\":\"Event\",\"auditID\":\"" id "\"," T "}"

static void test_replay_lines(void **state)
{
	struct errlog log = {0};
	char ids[16][16], path[256];
	size_t nids, errors;
	struct strbuf sb;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/k8s-replay-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));

	strbuf_init(&sb, 0);
	strbuf_appends(
		&sb,
		EVL("e1") "\n"			   /* 1 */
			  "\n"			   /* 2: blank, ignored */
			  "{\"kind\":\"Event\",\n" /* 3: not JSON alone */
			  "[" EVL("e2") "," EVL(
				  "e3") "]\r\n"		       /* 4: CRLF */
					"{\"kind\":\"Pod\"}\n" /* 5: not an audit event */
					"{\"kind\":\"EventList\",\"items\":[{\"auditID\":\"bad\"}," EVL(
						"e4") "]}\n" /* 6 */
						      "{\"kind\":\"Event\",\"auditID\":\"big\"," T
						      ",\"pad\":\"");
	for (int i = 0; i < 70000; i++)
		strbuf_appendc(&sb, 'x');
	strbuf_appends(&sb, "\"}\n"    /* 7: too long */
			    "   \t \n" /* 8 */
		       EVL("e5"));     /* 9: no final newline */
	write_text("a.jsonl", sb.buf, 0);
	strbuf_done(&sb);
	snprintf(path, sizeof(path), "%s/a.jsonl", tmpdir);

	assert_int_equal(replay_all(path, 1024, &log, ids, &nids, &errors), 0);
	assert_int_equal(nids, 5);
	assert_string_equal(ids[0], "e1");
	assert_string_equal(ids[1], "e2");
	assert_string_equal(ids[2], "e3");
	assert_string_equal(ids[3], "e4");
	assert_string_equal(ids[4], "e5");
	assert_int_equal(errors, 4);
	assert_int_equal(log.n, 4);
	char want[512];
	snprintf(want, sizeof(want), "%s:3: invalid JSON", path);
	assert_true(strncmp(log.msgs[0], want, strlen(want)) == 0);
	snprintf(want, sizeof(want), "%s:5: data not recognized as a k8s audit event", path);
	assert_string_equal(log.msgs[1], want);
	snprintf(want, sizeof(want), "%s:6: can't read stageTimestamp", path);
	assert_string_equal(log.msgs[2], want);
	snprintf(want, sizeof(want), "%s:7: line too long", path);
	assert_true(strncmp(log.msgs[3], want, strlen(want)) == 0);

	/* with a larger max_event_size the long line is accepted */
	log.n = 0;
	assert_int_equal(replay_all(path, 100000, &log, ids, &nids, &errors), 0);
	assert_int_equal(nids, 6);
	assert_string_equal(ids[4], "big");
	assert_int_equal(errors, 3);

	/* missing file */
	snprintf(path, sizeof(path), "%s/nope.jsonl", tmpdir);
	assert_int_equal(replay_all(path, 0, &log, ids, &nids, &errors), -ENOENT);
	/* empty file */
	write_text("empty.json", "", 0);
	snprintf(path, sizeof(path), "%s/empty.json", tmpdir);
	assert_int_equal(replay_all(path, 0, &log, ids, &nids, &errors), 0);
	assert_int_equal(nids, 0);
	assert_int_equal(errors, 0);
}

static void test_replay_document_and_dir(void **state)
{
	struct errlog log = {0};
	char ids[16][16], path[256];
	size_t nids, errors;

	/* tmpdir holds a.jsonl and empty.json from the previous test: start a fresh one */
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/k8s-replay-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	/* one pretty-printed document */
	write_text(
		"doc.json",
		"{\n  \"kind\": \"EventList\",\n  \"items\": [\n    {\n      \"auditID\": \"d1\",\n      " T
		"\n"
		"    },\n    {\n      \"auditID\": \"d2\",\n      " T "\n    }\n  ]\n}\n",
		2000);
	snprintf(path, sizeof(path), "%s/doc.json", tmpdir);
	assert_int_equal(replay_all(path, 0, &log, ids, &nids, &errors), 0);
	assert_int_equal(nids, 2);
	assert_string_equal(ids[1], "d2");
	assert_int_equal(errors, 0);

	/* a file that is neither: every bad line is reported */
	write_text("junk.json", "{\n\"a\":\n" EVL("j1") "\n", 1000);
	/* a directory: files in mtime order (junk first, then lines, then doc) */
	write_text("lines.jsonl", EVL("l1") "\n" EVL("l2") "\n", 1500);
	log.n = 0;
	assert_int_equal(replay_all(tmpdir, 0, &log, ids, &nids, &errors), 0);
	assert_int_equal(nids, 5);
	assert_string_equal(ids[0], "j1");
	assert_string_equal(ids[1], "l1");
	assert_string_equal(ids[2], "l2");
	assert_string_equal(ids[3], "d1");
	assert_int_equal(errors, 2);
	char want[512];
	snprintf(want, sizeof(want), "%s/junk.json:2: invalid JSON", tmpdir);
	assert_true(strncmp(log.msgs[1], want, strlen(want)) == 0);

	/* a document that is valid JSON but not an audit payload is reported once, without a line */
	write_text("pod.json", "{\n  \"kind\": \"Pod\"\n}\n", 0);
	snprintf(path, sizeof(path), "%s/pod.json", tmpdir);
	log.n = 0;
	assert_int_equal(replay_all(path, 0, &log, ids, &nids, &errors), 0);
	assert_int_equal(nids, 0);
	assert_int_equal(errors, 1);
	snprintf(want, sizeof(want), "%s: data not recognized as a k8s audit event", path);
	assert_string_equal(log.msgs[0], want);

	/* a broken pretty-printed document (a comma missing at the end of line 5) is one error at its place,
	 * not one per line; the same lines with a whole event on one of them stay JSON lines */
	write_text(
		"broken.json",
		"{\n  \"kind\": \"EventList\",\n  \"items\": [\n    {\n      \"auditID\": \"b1\"\n"
		"      " T "\n    }\n  ]\n}\n",
		0);
	snprintf(path, sizeof(path), "%s/broken.json", tmpdir);
	log.n = 0;
	assert_int_equal(replay_all(path, 0, &log, ids, &nids, &errors), 0);
	assert_int_equal(nids, 0);
	assert_int_equal(errors, 1);
	assert_int_equal(log.n, 1);
	snprintf(
		want, sizeof(want),
		"%s:6: invalid JSON document: syntax error at column 7; none of the file was replayed",
		path);
	assert_string_equal(log.msgs[0], want);

	write_text("broken2.json", "{\n  \"kind\": \"Event\"\n" EVL("k1") "\n", 0);
	snprintf(path, sizeof(path), "%s/broken2.json", tmpdir);
	log.n = 0;
	assert_int_equal(replay_all(path, 0, &log, ids, &nids, &errors), 0);
	assert_int_equal(nids, 1);
	assert_string_equal(ids[0], "k1");
	assert_int_equal(errors, 2);
}

/* ---- rules files: every field in conditions and outputs resolves against src_k8s_audit ---- */

struct field_check {
	size_t nfields;
	size_t ndeprecated;
	char err[512];
};

static void check_field_ref(struct field_check *fc, const char *name, const char *arg,
			    uint32_t arg_len)
{
	const struct fld_def *d = find_field(name);
	char err[256];

	fc->nfields++;
	if (!d) {
		if (!fc->err[0])
			snprintf(fc->err, sizeof(fc->err), "unknown field %s", name);
		return;
	}
	if (d->flags & FLD_DEPRECATED)
		fc->ndeprecated++;
	if ((arg && !(d->flags & FLD_ARG_ALLOWED)) || (!arg && (d->flags & FLD_ARG_REQUIRED))) {
		if (!fc->err[0])
			snprintf(fc->err, sizeof(fc->err), "bad argument use for %s", name);
		return;
	}
	if (d->prepare) {
		struct fld_inst fi = {.def = d, .arg = arg, .arg_len = arg_len, .arg_num = -1};
		if (d->prepare(&fi, err, sizeof(err)) < 0 && !fc->err[0])
			snprintf(fc->err, sizeof(fc->err), "%s: %s", name, err);
		if (d->release)
			d->release(&fi);
	}
}

static void walk_expr(struct field_check *fc, const struct flt_expr *e)
{
	if (!e)
		return;
	switch (e->kind) {
	case FE_FIELD:
		check_field_ref(fc, e->field.name, e->field.arg, e->field.arg_len);
		break;
	case FE_TRANSFORMER:
		for (uint32_t i = 0; i < e->tr.nargs; i++)
			walk_expr(fc, e->tr.args[i]);
		break;
	case FE_LIST:
		for (uint32_t i = 0; i < e->list.n; i++)
			walk_expr(fc, e->list.items[i]);
		break;
	default:
		break;
	}
}

static void walk_node(struct field_check *fc, const struct flt_node *n)
{
	switch (n->kind) {
	case FN_AND:
	case FN_OR:
		for (uint32_t i = 0; i < n->list.n; i++)
			walk_node(fc, n->list.children[i]);
		break;
	case FN_NOT:
		walk_node(fc, n->child);
		break;
	case FN_CHECK:
		walk_expr(fc, n->check.lhs);
		if (n->check.rhs_kind == RHS_EXPR)
			walk_expr(fc, n->check.rhs.expr);
		break;
	case FN_IDENT:
		break;
	}
}

/* Parses every condition and output of a rules file; returns the number of rules seen. */
static size_t check_rules_file(const char *path, struct field_check *fc)
{
	char *buf = NULL, err[256];
	size_t len = 0, nrules = 0;
	struct yaml_stream *ys = NULL;
	struct arena a;

	assert_int_equal(read_file(path, 16u << 20, &buf, &len, err, sizeof(err)), 0);
	assert_int_equal(yaml_parse(buf, len, NULL, &ys, err, sizeof(err)), 0);
	assert_int_equal(ys->ndocs, 1);
	const struct ynode *root = ys->docs[0];
	assert_int_equal(root->kind, YN_SEQ);
	arena_init(&a, 0, 0);
	for (size_t i = 0; i < root->seq.n; i++) {
		const struct ynode *item = root->seq.items[i];
		const char *cond = ynode_str(ynode_map_get(item, "condition"));
		const char *out = ynode_str(ynode_map_get(item, "output"));
		struct flt_error ferr;
		struct flt_node *ast;

		if (ynode_map_get(item, "rule")) {
			nrules++;
			const char *src = ynode_str(ynode_map_get(item, "source"));
			assert_non_null(src);
			assert_string_equal(src, "k8s_audit");
		}
		if (cond) {
			if (flt_parse(cond, strlen(cond), &a, &ast, &ferr) < 0)
				fail_msg("%s:%u: condition does not parse: %s", path, item->line,
					 ferr.msg);
			walk_node(fc, ast);
		}
		for (const char *p = out ? strchr(out, '%') : NULL; p; p = strchr(p, '%')) {
			struct flt_expr *e;
			size_t used = 0;
			p++;
			if (flt_parse_value_expr(p, strlen(p), &a, &e, &used, &ferr) < 0)
				fail_msg("%s:%u: output token '%.20s' does not parse: %s", path,
					 item->line, p, ferr.msg);
			walk_expr(fc, e);
			p += used;
		}
		if (fc->err[0])
			fail_msg("%s:%u: %s", path, item->line, fc->err);
	}
	arena_done(&a);
	yaml_stream_free(ys);
	free(buf);
	return nrules;
}

static void test_rules_ours_resolve(void **state)
{
	struct field_check fc = {0};
	size_t n = check_rules_file("rules/k8s_audit_rules.yaml", &fc);

	assert_true(n >= 20);
	assert_true(fc.nfields > 100);
	assert_int_equal(fc.ndeprecated, 0);
}

static void test_rules_upstream_resolve(void **state)
{
	const char *paths[] = {"../shared/upstream-rules/k8s_audit_rules.yaml",
			       "/work/shared/upstream-rules/k8s_audit_rules.yaml"};
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		if (access(paths[i], R_OK) == 0) {
			struct field_check fc = {0};
			assert_int_equal(check_rules_file(paths[i], &fc), 48);
			return;
		}
	}
	skip();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_parse_single_event),
		cmocka_unit_test(test_parse_event_list),
		cmocka_unit_test(test_parse_array),
		cmocka_unit_test(test_parse_invalid_json),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_fields_catalog),
		cmocka_unit_test(test_fields_prepare_errors),
		cmocka_unit_test(test_fields_table),
		cmocka_unit_test(test_fields_json_whole_and_obj),
		cmocka_unit_test(test_fields_all_on_all),
		cmocka_unit_test(test_json_parser),
		cmocka_unit_test(test_mutations),
		cmocka_unit_test(test_replay_lines),
		cmocka_unit_test(test_replay_document_and_dir),
		cmocka_unit_test(test_rules_ours_resolve),
		cmocka_unit_test(test_rules_upstream_resolve),
	};
	return cmocka_run_group_tests(tests, load_fixture, free_fixture);
}
