/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for common/: error buffers, strbuf (JSON escaping), arena, hmap, yaml, atomic writes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/arena.h"
#include "common/err.h"
#include "common/fileio.h"
#include "common/hmap.h"
#include "common/strbuf.h"
#include "common/yaml.h"

static void test_errf_returns_code_and_truncates(void **state)
{
	char buf[16];
	assert_int_equal(errf(buf, sizeof(buf), -EINVAL, "short %d", 1), -EINVAL);
	assert_string_equal(buf, "short 1");
	errf(buf, sizeof(buf), -EIO, "a message that is much too long");
	assert_int_equal(strlen(buf), 15);
	assert_string_equal(buf + 12, "...");
	assert_int_equal(errf(NULL, 0, -ENOENT, "x"), -ENOENT);
}

static void test_errf_prefix(void **state)
{
	char buf[64];
	errf(buf, sizeof(buf), -EINVAL, "3:4: bad thing");
	errf_prefix(buf, sizeof(buf), -EINVAL, "%s", "rules.yaml");
	assert_string_equal(buf, "rules.yaml: 3:4: bad thing");
}

static void test_strbuf_json_escaping(void **state)
{
	struct strbuf sb;
	strbuf_init(&sb, 0);
	const char in[] = "a\"b\\c\n\x01\xff\xc3\xa9";
	assert_int_equal(strbuf_append_json_str(&sb, in, sizeof(in) - 1), 0);
	assert_string_equal(strbuf_str(&sb), "\"a\\\"b\\\\c\\n\\u0001\xEF\xBF\xBD\xc3\xa9\"");
	strbuf_done(&sb);
}

static void test_strbuf_limit_is_sticky(void **state)
{
	struct strbuf sb;
	strbuf_init(&sb, 8);
	assert_int_equal(strbuf_appends(&sb, "12345678"), 0);
	assert_int_equal(strbuf_appends(&sb, "9"), -E2BIG);
	assert_true(sb.failed);
	assert_int_not_equal(strbuf_appends(&sb, ""), 0);
	strbuf_done(&sb);
}

static void test_arena_alignment_and_reset(void **state)
{
	struct arena a;
	arena_init(&a, 64, 1024);
	void *p = arena_alloc(&a, 3), *q = arena_alloc(&a, 100);
	assert_non_null(p);
	assert_non_null(q);
	assert_int_equal((uintptr_t)q % 16, 0);
	assert_null(arena_alloc(&a, 2000)); /* over the limit */
	arena_reset(&a);
	assert_non_null(arena_strdup(&a, "hello"));
	arena_done(&a);
}

static void test_hmap_put_get_grow(void **state)
{
	struct hmap m;
	char keys[500][16];
	assert_int_equal(hmap_init(&m, 0), 0);
	for (int i = 0; i < 500; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		assert_int_equal(hmap_put(&m, keys[i], strlen(keys[i]), (void *)(intptr_t)(i + 1)),
				 1);
	}
	assert_int_equal(hmap_put(&m, keys[7], strlen(keys[7]), (void *)99), 0);
	assert_int_equal((intptr_t)hmap_get(&m, "k7", 2), 99);
	assert_int_equal((intptr_t)hmap_get(&m, "k499", 4), 500);
	assert_null(hmap_get(&m, "k500", 4));
	assert_int_equal(m.n, 500);
	hmap_done(&m);
}

static void test_yaml_positions_and_docs(void **state)
{
	const char *src =
		"- list: a\n  items: [x, \"y z\"]\n---\n- macro: m\n  condition: >\n    a and\n    b\n";
	struct yaml_stream *s = NULL;
	char err[256] = "";
	assert_int_equal(yaml_parse(src, strlen(src), NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(s->ndocs, 2);
	struct ynode *item = s->docs[0]->seq.items[0];
	assert_int_equal(item->kind, YN_MAP);
	struct ynode *items = ynode_map_get(item, "items");
	assert_int_equal(items->line, 2);
	assert_int_equal(items->col, 10);
	assert_string_equal(ynode_str(items->seq.items[1]), "y z");
	assert_false(items->seq.items[1]->scalar.plain);
	struct ynode *cond = ynode_map_get(s->docs[1]->seq.items[0], "condition");
	assert_string_equal(ynode_str(cond), "a and b\n");
	yaml_stream_free(s);
}

static void test_yaml_errors_have_positions(void **state)
{
	const char *src = "- rule: x\n  condition: [a\n";
	struct yaml_stream *s = NULL;
	char err[256] = "";
	assert_int_equal(yaml_parse(src, strlen(src), NULL, &s, err, sizeof(err)), -EINVAL);
	assert_null(s);
	assert_non_null(strchr(err, ':'));
	assert_true(err[0] >= '1' && err[0] <= '9');
}

static void test_yaml_depth_limit_and_aliases(void **state)
{
	struct yaml_limits lim = {.max_depth = 3};
	struct yaml_stream *s = NULL;
	char err[256];
	assert_int_equal(yaml_parse("[[[[1]]]]", 9, &lim, &s, err, sizeof(err)), -E2BIG);
	const char *al = "a: &x [1, 2]\nb: *x\n";
	assert_int_equal(yaml_parse(al, strlen(al), NULL, &s, err, sizeof(err)), 0);
	assert_ptr_equal(ynode_map_get(s->docs[0], "a"), ynode_map_get(s->docs[0], "b"));
	yaml_stream_free(s);
}

static void test_yaml_scalars(void **state)
{
	const char *src = "a: yes\nb: 0x10\nc: ~\nd: 'null'\ne: -5\n";
	struct yaml_stream *s = NULL;
	char err[256];
	bool b;
	int64_t i;
	uint64_t u;
	assert_int_equal(yaml_parse(src, strlen(src), NULL, &s, err, sizeof(err)), 0);
	struct ynode *d = s->docs[0];
	assert_int_equal(ynode_bool(ynode_map_get(d, "a"), &b), 0);
	assert_true(b);
	assert_int_equal(ynode_u64(ynode_map_get(d, "b"), &u), 0);
	assert_int_equal(u, 16);
	assert_true(ynode_is_null(ynode_map_get(d, "c")));
	assert_false(ynode_is_null(ynode_map_get(d, "d")));
	assert_int_equal(ynode_s64(ynode_map_get(d, "e"), &i), 0);
	assert_int_equal(i, -5);
	assert_int_equal(ynode_u64(ynode_map_get(d, "e"), &u), -EINVAL);
	yaml_stream_free(s);
}

static void test_write_file_atomic(void **state)
{
	char dir[] = "/tmp/test_common.XXXXXX", path[256], err[256];
	_cleanup_free_ char *buf = NULL;
	size_t len;
	struct stat st;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/f.conf", dir);
	assert_int_equal(write_file_atomic(path, "one", 3, 0640, err, sizeof(err)), 0);
	assert_int_equal(write_file_atomic(path, "two!", 4, 0600, err, sizeof(err)), 0);
	assert_int_equal(read_file(path, 100, &buf, &len, err, sizeof(err)), 0);
	assert_string_equal(buf, "two!");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(read_file(path, 2, &buf, &len, err, sizeof(err)), -EFBIG);
	/* the directory holds only the final file: no temp leftovers */
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "%s/f.conf.tmp.%d", dir, (int)getpid());
	assert_int_not_equal(access(cmd, F_OK), 0);
	unlink(path);
	rmdir(dir);
}

static void test_path_join_root(void **state)
{
	char out[64];
	assert_int_equal(path_join_root("/tmp/r/", "/etc/falco", out, sizeof(out)), 0);
	assert_string_equal(out, "/tmp/r/etc/falco");
	assert_int_equal(path_join_root("/", "/etc", out, sizeof(out)), 0);
	assert_string_equal(out, "/etc");
	assert_int_equal(path_join_root("/r", "/etc/../x", out, sizeof(out)), -EINVAL);
	assert_int_equal(path_join_root("/r", "/etc/..x", out, sizeof(out)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errf_returns_code_and_truncates),
		cmocka_unit_test(test_errf_prefix),
		cmocka_unit_test(test_strbuf_json_escaping),
		cmocka_unit_test(test_strbuf_limit_is_sticky),
		cmocka_unit_test(test_arena_alignment_and_reset),
		cmocka_unit_test(test_hmap_put_get_grow),
		cmocka_unit_test(test_yaml_positions_and_docs),
		cmocka_unit_test(test_yaml_errors_have_positions),
		cmocka_unit_test(test_yaml_depth_limit_and_aliases),
		cmocka_unit_test(test_yaml_scalars),
		cmocka_unit_test(test_write_file_atomic),
		cmocka_unit_test(test_path_join_root),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
