/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests for falco/output/out_ratelimit.c: the token bucket, per-rule and global limiting, the backoff. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "falco/output/out.h"

#define S(x) ((uint64_t)((x)*1e9))

static void test_bucket_starts_full_and_refills(void **state)
{
	struct out_token_bucket tb;

	out_token_bucket_init(&tb, 2.0, 3.0, S(100));
	/* a full bucket: three at once, then nothing */
	assert_true(out_token_bucket_claim(&tb, S(100)));
	assert_true(out_token_bucket_claim(&tb, S(100)));
	assert_true(out_token_bucket_claim(&tb, S(100)));
	assert_false(out_token_bucket_claim(&tb, S(100)));
	/* 2 tokens per second: after 0.25 s half a token, after 0.5 s one */
	assert_false(out_token_bucket_claim(&tb, S(100.25)));
	assert_true(out_token_bucket_claim(&tb, S(100.5)));
	assert_false(out_token_bucket_claim(&tb, S(100.5)));
	/* a long pause refills only up to max_burst */
	for (int i = 0; i < 3; i++)
		assert_true(out_token_bucket_claim(&tb, S(1000)));
	assert_false(out_token_bucket_claim(&tb, S(1000)));
	/* time going backwards adds nothing */
	assert_false(out_token_bucket_claim(&tb, S(999)));
}

static void test_steady_rate(void **state)
{
	struct out_token_bucket tb;
	int passed = 0;

	out_token_bucket_init(&tb, 10.0, 1.0, 0);
	/* 1000 claims over 10 s (every 10 ms): 1 initial token + 10/s */
	for (int i = 0; i < 1000; i++)
		passed += out_token_bucket_claim(&tb, (uint64_t)i * 10000000ull);
	assert_in_range(passed, 99, 101);
}

static void test_per_rule_and_global(void **state)
{
	struct out_ratelimit *rl = out_ratelimit_new(0.001, 2, true, 3);

	assert_non_null(rl);
	for (uint32_t r = 0; r < 3; r++) {
		assert_true(out_ratelimit_claim(rl, r, S(1)));
		assert_true(out_ratelimit_claim(rl, r, S(1)));
		assert_false(out_ratelimit_claim(rl, r, S(1)));
	}
	/* unknown ids share one extra bucket */
	assert_true(out_ratelimit_claim(rl, 77, S(1)));
	assert_true(out_ratelimit_claim(rl, 99, S(1)));
	assert_false(out_ratelimit_claim(rl, 1000, S(1)));
	out_ratelimit_free(rl);

	rl = out_ratelimit_new(0.001, 2, false, 3);
	assert_true(out_ratelimit_claim(rl, 0, S(1)));
	assert_true(out_ratelimit_claim(rl, 1, S(1)));
	assert_false(out_ratelimit_claim(rl, 2, S(1)));
	out_ratelimit_free(rl);

	/* off: no object, everything passes */
	assert_null(out_ratelimit_new(0, 10, true, 3));
	assert_true(out_ratelimit_claim(NULL, 0, 0));
	/* a burst below one token still lets one through */
	rl = out_ratelimit_new(1, 0.2, false, 0);
	assert_true(out_ratelimit_claim(rl, 0, S(5)));
	assert_false(out_ratelimit_claim(rl, 0, S(5)));
	out_ratelimit_free(rl);
}

static void test_backoff(void **state)
{
	struct out_backoff b;
	static const unsigned want[] = {100, 200, 400, 800, 1000, 1000};

	out_backoff_init(&b, 100, 1000);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(out_backoff_next(&b), want[i]);
	out_backoff_reset(&b);
	assert_int_equal(out_backoff_next(&b), 100);
	/* max below min: min wins; min 0 becomes 1 */
	out_backoff_init(&b, 50, 10);
	assert_int_equal(out_backoff_next(&b), 50);
	assert_int_equal(out_backoff_next(&b), 50);
	out_backoff_init(&b, 0, 4);
	assert_int_equal(out_backoff_next(&b), 1);
	assert_int_equal(out_backoff_next(&b), 2);
	assert_int_equal(out_backoff_next(&b), 4);
	assert_int_equal(out_backoff_next(&b), 4);
	/* no overflow near UINT_MAX */
	out_backoff_init(&b, 1u << 31, 0xffffffffu);
	assert_int_equal(out_backoff_next(&b), 1u << 31);
	assert_int_equal(out_backoff_next(&b), 0xffffffffu);
}

static void test_journald_field_names(void **state)
{
	char buf[80];

	assert_int_equal(out_journald_field_name("ka.user.name", buf, sizeof(buf)), 24);
	assert_string_equal(buf, "FALCO_FIELD_KA_USER_NAME");
	out_journald_field_name("proc.aname[2]", buf, sizeof(buf));
	assert_string_equal(buf, "FALCO_FIELD_PROC_ANAME_2_");
	out_journald_field_name("jevt.value[/a/b]", buf, sizeof(buf));
	assert_string_equal(buf, "FALCO_FIELD_JEVT_VALUE__A_B_");
	/* journald's 64-character limit */
	assert_int_equal(out_journald_field_name(
				 "a.very.long.field.name.that.goes.on.and.on.and.on.and.on.and.on",
				 buf, sizeof(buf)),
			 64);
	assert_int_equal(out_journald_field_name("x", buf, 10), -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket_starts_full_and_refills),
		cmocka_unit_test(test_steady_rate),
		cmocka_unit_test(test_per_rule_and_global),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_journald_field_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
