/* SPDX-License-Identifier: Apache-2.0 */
/* Signed checksum lists: a good signature, a forgery, a wrong key, a truncated signature, bad keys, key dirs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_fc_util.h"

#include "falcoctl/driver.h"
#include "falcoctl/sig.h"

static const char sums[] =
	"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  falco_a.ko\n"
	"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA *falco_b.ko\n";

struct env {
	EVP_PKEY *key, *other;
	char *pem, *other_pem;
	unsigned char sig[64];
	char *dir;
};

static int setup(void **state)
{
	struct env *v = calloc(1, sizeof(*v));
	v->key = fct_keygen();
	v->other = fct_keygen();
	v->pem = fct_pubpem(v->key);
	v->other_pem = fct_pubpem(v->other);
	fct_sign(v->key, sums, strlen(sums), v->sig);
	v->dir = fct_mkdtemp();
	chmod(v->dir, 0755);
	*state = v;
	return 0;
}

static int teardown(void **state)
{
	struct env *v = *state;
	EVP_PKEY_free(v->key);
	EVP_PKEY_free(v->other);
	free(v->pem);
	free(v->other_pem);
	fct_rm_rf(v->dir);
	free(v->dir);
	free(v);
	return 0;
}

static void test_good(void **state)
{
	struct env *v = *state;
	char e[256];
	assert_int_equal(
		fc_sig_verify(v->pem, strlen(v->pem), sums, strlen(sums), v->sig, 64, e, sizeof(e)),
		0);
}

static void test_forged_list(void **state)
{
	struct env *v = *state;
	char forged[sizeof(sums)], e[256];
	memcpy(forged, sums, sizeof(sums));
	forged[0] = '1'; /* one changed checksum digit */
	assert_int_equal(fc_sig_verify(v->pem, strlen(v->pem), forged, strlen(forged), v->sig, 64,
				       e, sizeof(e)),
			 -EBADMSG);
	assert_non_null(strstr(e, "signature does not verify"));
	/* an appended line is a forgery too */
	char longer[sizeof(sums) + 80];
	snprintf(longer, sizeof(longer), "%s%s", sums, "ffff  evil.ko\n");
	assert_int_equal(fc_sig_verify(v->pem, strlen(v->pem), longer, strlen(longer), v->sig, 64,
				       e, sizeof(e)),
			 -EBADMSG);
}

static void test_forged_signature(void **state)
{
	struct env *v = *state;
	unsigned char bad[64];
	char e[256];
	memcpy(bad, v->sig, 64);
	bad[10] ^= 0x01;
	assert_int_equal(
		fc_sig_verify(v->pem, strlen(v->pem), sums, strlen(sums), bad, 64, e, sizeof(e)),
		-EBADMSG);
}

static void test_wrong_key(void **state)
{
	struct env *v = *state;
	char e[256];
	assert_int_equal(fc_sig_verify(v->other_pem, strlen(v->other_pem), sums, strlen(sums),
				       v->sig, 64, e, sizeof(e)),
			 -EBADMSG);
}

static void test_truncated(void **state)
{
	struct env *v = *state;
	char e[256];
	assert_int_equal(
		fc_sig_verify(v->pem, strlen(v->pem), sums, strlen(sums), v->sig, 63, e, sizeof(e)),
		-EINVAL);
	assert_string_equal(e, "signature is 63 bytes, expected 64 (raw Ed25519)");
	assert_int_equal(
		fc_sig_verify(v->pem, strlen(v->pem), sums, strlen(sums), v->sig, 0, e, sizeof(e)),
		-EINVAL);
	/* a truncated key file */
	assert_int_equal(fc_sig_verify(v->pem, strlen(v->pem) / 2, sums, strlen(sums), v->sig, 64,
				       e, sizeof(e)),
			 -EINVAL);
	assert_non_null(strstr(e, "not a PEM public key"));
}

static void test_not_ed25519(void **state)
{
	struct env *v = *state;
	char e[256];
	EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	char *pem = fct_pubpem(ec);
	assert_int_equal(
		fc_sig_verify(pem, strlen(pem), sums, strlen(sums), v->sig, 64, e, sizeof(e)),
		-EINVAL);
	assert_string_equal(e, "key is not an Ed25519 key");
	free(pem);
	EVP_PKEY_free(ec);
}

static void put(const char *dir, const char *name, const char *text, mode_t mode)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	assert_int_equal(write_file_atomic(p, text, strlen(text), mode, NULL, 0), 0);
}

static void test_key_dir(void **state)
{
	struct env *v = *state;
	char e[512], key[64];

	/* empty: no key */
	assert_int_equal(fc_sig_verify_dir(v->dir, sums, strlen(sums), v->sig, 64, key, sizeof(key),
					   e, sizeof(e)),
			 -ENOKEY);
	/* other files are ignored; a wrong key alone fails */
	put(v->dir, "README", "not a key", 0644);
	put(v->dir, "a-other.pem", v->other_pem, 0644);
	assert_int_equal(fc_sig_verify_dir(v->dir, sums, strlen(sums), v->sig, 64, key, sizeof(key),
					   e, sizeof(e)),
			 -EBADMSG);
	assert_non_null(strstr(e, "no pinned key"));
	/* any pinned key that verifies is enough; its name is returned */
	put(v->dir, "b-repo.pem", v->pem, 0644);
	assert_int_equal(fc_sig_verify_dir(v->dir, sums, strlen(sums), v->sig, 64, key, sizeof(key),
					   e, sizeof(e)),
			 0);
	assert_string_equal(key, "b-repo.pem");
	/* a truncated signature never reaches the keys */
	assert_int_equal(fc_sig_verify_dir(v->dir, sums, strlen(sums), v->sig, 32, key, sizeof(key),
					   e, sizeof(e)),
			 -EINVAL);
	/* keys anyone may replace are refused */
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/b-repo.pem", v->dir);
	chmod(p, 0666);
	assert_int_equal(fc_sig_verify_dir(v->dir, sums, strlen(sums), v->sig, 64, key, sizeof(key),
					   e, sizeof(e)),
			 -EPERM);
	chmod(p, 0644);
	chmod(v->dir, 0777);
	assert_int_equal(fc_sig_verify_dir(v->dir, sums, strlen(sums), v->sig, 64, key, sizeof(key),
					   e, sizeof(e)),
			 -EPERM);
	chmod(v->dir, 0755);
	/* a missing directory */
	snprintf(p, sizeof(p), "%s/none", v->dir);
	assert_int_equal(fc_sig_verify_dir(p, sums, strlen(sums), v->sig, 64, key, sizeof(key), e,
					   sizeof(e)),
			 -ENOKEY);
}

static void test_sums_lookup(void **state)
{
	char hex[65], e[256];
	assert_int_equal(fc_sums_lookup(sums, strlen(sums), "falco_a.ko", hex, e, sizeof(e)), 0);
	assert_string_equal(hex,
			    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_int_equal(fc_sums_lookup(sums, strlen(sums), "falco_b.ko", hex, e, sizeof(e)), 0);
	assert_string_equal(hex,
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
	assert_int_equal(fc_sums_lookup(sums, strlen(sums), "falco_c.ko", hex, e, sizeof(e)),
			 -ENOENT);
	assert_int_equal(fc_sums_lookup(sums, strlen(sums), "falco_a", hex, e, sizeof(e)), -ENOENT);
	const char *bad = "xyz  falco_a.ko\n";
	assert_int_equal(fc_sums_lookup(bad, strlen(bad), "falco_a.ko", hex, e, sizeof(e)),
			 -EINVAL);
	assert_string_equal(e, "SHA256SUMS:1: malformed line");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forged_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_ed25519, setup, teardown),
		cmocka_unit_test_setup_teardown(test_key_dir, setup, teardown),
		cmocka_unit_test(test_sums_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
