/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common/yaml_fast.c against libyaml: whenever the fast path accepts a document, the libyaml path must accept it
 * too and build the same tree (kinds, scalar bytes and style, line, column and offset of every node). Run on
 * every YAML file of the repository (and upstream's rule files when ../shared has them), on mutations of each,
 * and on snippets of each construct the fast path claims; the shipped files must take the fast path.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/fileio.h"
#include "common/yaml.h"
#include "common/yaml_fast.h"

static const struct yaml_limits limits = {
	.max_depth = 64, .max_nodes = 4000000, .max_scalar = 16u << 20};

static void same_node(const struct ynode *a, const struct ynode *b, const char *what)
{
	if (!a || !b) {
		if (a != b)
			fail_msg("%s: a node is missing on one side", what);
		return;
	}
	if (a->kind != b->kind || a->line != b->line || a->col != b->col || a->offset != b->offset)
		fail_msg("%s: node kind %d at %u:%u (%u), libyaml: kind %d at %u:%u (%u)", what,
			 a->kind, a->line, a->col, a->offset, b->kind, b->line, b->col, b->offset);
	switch (a->kind) {
	case YN_SCALAR:
		if (a->scalar.len != b->scalar.len ||
		    memcmp(a->scalar.str, b->scalar.str, a->scalar.len) != 0 ||
		    a->scalar.plain != b->scalar.plain || a->scalar.str[a->scalar.len] != '\0')
			fail_msg("%s: scalar at %u:%u is [%.*s]%s, libyaml: [%.*s]%s", what,
				 a->line, a->col, (int)a->scalar.len, a->scalar.str,
				 a->scalar.plain ? " plain" : "", (int)b->scalar.len, b->scalar.str,
				 b->scalar.plain ? " plain" : "");
		break;
	case YN_SEQ:
		if (a->seq.n != b->seq.n)
			fail_msg("%s: sequence at %u:%u has %zu items, libyaml %zu", what, a->line,
				 a->col, a->seq.n, b->seq.n);
		for (size_t i = 0; i < a->seq.n; i++)
			same_node(a->seq.items[i], b->seq.items[i], what);
		break;
	case YN_MAP:
		if (a->map.n != b->map.n)
			fail_msg("%s: map at %u:%u has %zu pairs, libyaml %zu", what, a->line,
				 a->col, a->map.n, b->map.n);
		for (size_t i = 0; i < a->map.n; i++) {
			same_node(a->map.pairs[i].key, b->map.pairs[i].key, what);
			same_node(a->map.pairs[i].val, b->map.pairs[i].val, what);
		}
		break;
	}
}

/* Returns whether the fast path took buf (then it matched libyaml). */
static bool agree(const char *buf, size_t len, const char *what)
{
	struct yaml_stream *f = NULL, *l = NULL;
	char err[512] = "";

	int rf = yaml_fast_parse(buf, len, &limits, &f);
	if (rf == -EAGAIN)
		return false;
	assert_int_equal(rf, 0);
	int rl = yaml_parse_libyaml(buf, len, &limits, &l, err, sizeof(err));
	if (rl != 0)
		fail_msg("%s: the fast path accepted what libyaml rejects (%s):\n%.*s", what, err,
			 (int)(len < 400 ? len : 400), buf);
	if (f->ndocs != l->ndocs)
		fail_msg("%s: %zu documents, libyaml %zu", what, f->ndocs, l->ndocs);
	for (size_t i = 0; i < f->ndocs; i++)
		same_node(f->docs[i], l->docs[i], what);
	yaml_stream_free(f);
	yaml_stream_free(l);
	return true;
}

/* Small edits close together (YAML's structure is local): replace, delete, insert a character or a break. */
static size_t mutate(const char *in, size_t len, char *out, size_t cap, uint64_t *rng)
{
	static const char alphabet[] = " \n-:#'\"[],|>+x\\a1{}?&*!.";
	size_t n = len;

	memcpy(out, in, len);
	*rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
	size_t base = *rng % len;
	int edits = 1 + (int)((*rng >> 40) % 3);
	for (int e = 0; e < edits && n > 1; e++) {
		*rng ^= *rng << 13, *rng ^= *rng >> 7, *rng ^= *rng << 17;
		size_t pos = (base + (*rng >> 20) % 40) % n;
		char ch = alphabet[(*rng >> 8) % (sizeof(alphabet) - 1)];
		switch ((*rng >> 50) % 4) {
		case 0:
			out[pos] = ch;
			break;
		case 1:
			memmove(out + pos, out + pos + 1, n - pos - 1);
			n--;
			break;
		default:
			if (n + 1 < cap) {
				memmove(out + pos + 1, out + pos, n - pos);
				out[pos] =
					(*rng >> 50) % 4 == 2 ? ch : ((*rng >> 9) & 1 ? ' ' : '\n');
				n++;
			}
			break;
		}
	}
	return n;
}

static unsigned files_fast, files_total;

static void check_file(const char *path, int mutations, bool must_be_fast)
{
	char *buf = NULL, err[256];
	size_t len = 0;

	if (read_file(path, 4u << 20, &buf, &len, err, sizeof(err)) < 0 || len == 0) {
		free(buf);
		return;
	}
	bool fast = agree(buf, len, path);
	if (must_be_fast && !fast)
		fail_msg("%s no longer takes the fast path", path);
	files_fast += fast;
	files_total++;
	char *m = malloc(len + 64);
	assert_non_null(m);
	uint64_t rng = 0x9e3779b97f4a7c15ull ^ len;
	for (int i = 0; i < mutations; i++) {
		size_t n = mutate(buf, len, m, len + 64, &rng);
		agree(m, n, path);
	}
	free(m);
	free(buf);
}

static void check_dir(const char *dir, int mutations)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[4096];
		size_t nl = strlen(de->d_name);
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_type == DT_DIR)
			check_dir(path, mutations);
		else if ((nl > 5 && strcmp(de->d_name + nl - 5, ".yaml") == 0) ||
			 (nl > 4 && strcmp(de->d_name + nl - 4, ".yml") == 0))
			check_file(path, mutations, false);
	}
	closedir(d);
}

static void test_files_and_mutations(void **state)
{
	/* the shipped files are what falco loads at every start: they must stay on the fast path */
	check_file("rules/falco_rules.yaml", 300, true);
	check_file("rules/k8s_audit_rules.yaml", 300, true);
	check_file("falco/falco.yaml", 300, true);
	check_dir("tests/fixtures", 40);
	check_dir("../shared/upstream-rules", 200);
	assert_true(files_total > 20);
	assert_true(files_fast > files_total / 2);
}

/* One snippet per construct the fast path handles: each must take it and match libyaml. */
static void test_constructs(void **state)
{
	static const char *const docs[] = {
		"",
		"# only a comment\n",
		"a",
		"- a\n- b\n",
		"- rule: x\n  desc: y\n- list: l\n  items: [a, b]\n",
		"key: value\nother: 1\n",
		"key:\n- a\n- b\nnext: c\n",
		"key:\n  - a\n  -\n  - b\n",
		"-\n- \n-  # c\n- x\n",
		"k:\nj: # c\nl:",
		"plain: a\n  b\n\n  c\n\n\n  d   \ne: f\n",
		"- a b  c\n  d\n",
		"k: a#b c #comment\n",
		"k: x:y\n",
		"k: 'it''s'\nj: 'a\n  b\n\n  c'\n",
		"k: \"a\\\"b\\\\c\\/d\\n\\t\\0\\e\\ x\"\n",
		"k: \"a\n   b  \n\n c\"\n",
		"k: |\n  line 1\n   indented\n\n  line 3\nj: x\n",
		"k: >\n  folded\n  text\n\n  para\n   more\n  back\nj: x\n",
		"k: |-\n  a\n\n\nj: |+\n  b\n\n\nl: >-\n  c\nm: >+\n  d\n\n",
		"k: |  # comment\n  a\n",
		"k: >\n\n  leading empty\n",
		"k: |\n",
		"k: >\n  a\n",
		"- |\n  in a seq\n- >-\n   deeper\n",
		"k: [a, b c, 'q', \"d\", sys:x]\n",
		"k: [a,\n  b, # c\n  c,\n]\n",
		"k: []\nj: {}\n",
		"a b: c\n",
		"k : v\n",
		"- k: v\n  j:\n    - x\n    - y\n  l: z\n",
		"top:\n  nested:\n    deep: x\n  back: y\n",
		"priority: -1\nn: 1.5\nb: true\nnull_v: ~\n",
		"- - x\n",
	};
	unsigned fast = 0;
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		bool f = agree(docs[i], strlen(docs[i]), docs[i]);
		/* all but the last take the fast path ("- - x" is left to libyaml) */
		if (!f && i + 1 < sizeof(docs) / sizeof(docs[0]))
			fail_msg("the fast path declined:\n%s", docs[i]);
		fast += f;
	}
	assert_int_equal(fast, sizeof(docs) / sizeof(docs[0]) - 1);
}

/* What it leaves to libyaml, which then reports errors with their positions as before. */
static void test_declines(void **state)
{
	static const char *const docs[] = {
		"a: &x 1\nb: *x\n",
		"--- a\n",
		"%YAML 1.1\n---\na\n",
		"k: !!str a\n",
		"k: {a: b}\n",
		"k: [a, [b]]\n",
		"? k\n: v\n",
		"\"q\": v\n",
		"k: \"\\x41\"\n",
		"k: \"a\\\n b\"\n",
		"k: |2\n  a\n",
		"k:\tv\n",
		"k: v\r\n",
		"key: value value value\x01 more\n",
		"long_key_name: some text \x7f\n",
		"long_key_name: 'quoted \xff'\n",
		"a_fairly_long_key: [x, y]\n\tz: 1\n",
		"k: v\n\n\n\n\n\n\n\n\n%x\n",
		"k: \xc3\xa9\n",
		"k: 'v'\n x\n",
		"k: a: b\n",
		"- a\nk: v\n",
		"k: [a\n",
		"k: 'a\n",
	};
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct yaml_stream *s = NULL;
		if (yaml_fast_parse(docs[i], strlen(docs[i]), &limits, &s) != -EAGAIN)
			fail_msg("the fast path took:\n%s", docs[i]);
	}
	/* and yaml_parse still reports libyaml's error */
	struct yaml_stream *s = NULL;
	char err[256];
	assert_int_equal(yaml_parse("k: [a\n", 6, NULL, &s, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2:1:"));
	/* limits defer to libyaml too, which reports them */
	struct yaml_limits tight = {.max_depth = 2, .max_nodes = 100, .max_scalar = 100};
	const char *deep = "a:\n  b:\n    c: d\n";
	assert_int_equal(yaml_fast_parse(deep, strlen(deep), &tight, &s), -EAGAIN);
	assert_int_equal(yaml_parse(deep, strlen(deep), &tight, &s, err, sizeof(err)), -E2BIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constructs),
		cmocka_unit_test(test_declines),
		cmocka_unit_test(test_files_and_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
