/* Unit tests of pipelines/sign.c: Ed25519 key generation, signing and
 * verification round trips, and the refusals (tampered data, wrong key,
 * bad PEM, bad base64, existing key files). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipelines/sign.h"
#include "scratch.h"

static const char *dir;

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static int setup(void **state)
{
	(void)state;
	dir = scratch_dir("sign");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_keygen_writes_private_0600_and_public(void **state)
{
	(void)state;
	char key[2300], pub[2300];
	path_in(key, sizeof(key), "k1");
	path_in(pub, sizeof(pub), "k1.pub");
	mg_error err = {0};
	assert_int_equal(mg_keygen(key, 0, &err), 0);
	struct stat st;
	assert_int_equal(stat(key, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(pub, &st), 0);
	mg_buf text = MG_BUF_INIT;
	assert_int_equal(mg_file_read(&text, key, 1 << 16, &err), 0);
	assert_non_null(strstr(text.data, "BEGIN PRIVATE KEY"));
	mg_buf_reset(&text);
	assert_int_equal(mg_file_read(&text, pub, 1 << 16, &err), 0);
	assert_non_null(strstr(text.data, "BEGIN PUBLIC KEY"));
	mg_buf_free(&text);
	/* the same id from either half */
	char id1[MG_DIGEST_SIZE], id2[MG_DIGEST_SIZE];
	assert_int_equal(mg_key_id(key, id1, &err), 0);
	assert_int_equal(mg_key_id(pub, id2, &err), 0);
	assert_string_equal(id1, id2);
	assert_true(mg_digest_valid(id1));
}

static void test_keygen_refuses_to_overwrite(void **state)
{
	(void)state;
	char key[2300];
	path_in(key, sizeof(key), "k2");
	mg_error err = {0};
	assert_int_equal(mg_keygen(key, 0, &err), 0);
	char id1[MG_DIGEST_SIZE], id2[MG_DIGEST_SIZE];
	assert_int_equal(mg_key_id(key, id1, &err), 0);
	assert_int_equal(mg_keygen(key, 0, &err), MG_EEXISTS);
	assert_non_null(strstr(err.msg, "k2"));
	assert_int_equal(mg_keygen(key, 1, &err), 0);
	assert_int_equal(mg_key_id(key, id2, &err), 0);
	assert_string_not_equal(id1, id2);
}

static void test_sign_verify_round_trip_and_tampering(void **state)
{
	(void)state;
	char key[2300], pub[2300], other[2300], otherpub[2300];
	path_in(key, sizeof(key), "k3");
	path_in(pub, sizeof(pub), "k3.pub");
	path_in(other, sizeof(other), "k4");
	path_in(otherpub, sizeof(otherpub), "k4.pub");
	mg_error err = {0};
	assert_int_equal(mg_keygen(key, 0, &err), 0);
	assert_int_equal(mg_keygen(other, 0, &err), 0);
	static const char data[] = "{\"files\":[]}";
	mg_buf sig = MG_BUF_INIT;
	assert_int_equal(mg_sign(key, data, strlen(data), &sig, &err), 0);
	assert_int_equal(mg_verify(pub, data, strlen(data), sig.data, "manifest.json", &err), 0);
	/* a private key verifies too (its public half is used) */
	assert_int_equal(mg_verify(key, data, strlen(data), sig.data, "manifest.json", &err), 0);
	/* Ed25519 is deterministic */
	mg_buf sig2 = MG_BUF_INIT;
	assert_int_equal(mg_sign(key, data, strlen(data), &sig2, &err), 0);
	assert_string_equal(sig.data, sig2.data);
	mg_buf_free(&sig2);

	/* tampered data */
	assert_int_equal(mg_verify(pub, "{\"files\":[1]}", 13, sig.data, "manifest.json", &err),
			 MG_ECORRUPT);
	assert_non_null(strstr(err.msg, "manifest.json"));
	/* wrong key */
	assert_int_equal(mg_verify(otherpub, data, strlen(data), sig.data, "manifest.json", &err),
			 MG_ECORRUPT);
	assert_non_null(strstr(err.msg, "k4.pub"));
	/* tampered signature: flip one base64 character */
	sig.data[3] = sig.data[3] == 'A' ? 'B' : 'A';
	assert_int_equal(mg_verify(pub, data, strlen(data), sig.data, "manifest.json", &err),
			 MG_ECORRUPT);
	/* a truncated signature */
	assert_int_equal(mg_verify(pub, data, strlen(data), "AAAA", "manifest.json", &err),
			 MG_ECORRUPT);
	/* not base64 */
	assert_int_equal(mg_verify(pub, data, strlen(data), "!!not base64!!", "manifest.json", &err),
			 MG_EINVAL);
	mg_buf_free(&sig);
}

static void test_bad_keys_are_refused_naming_the_file(void **state)
{
	(void)state;
	char bad[2300], pub[2300], missing[2300], rsa[2300];
	path_in(bad, sizeof(bad), "bad.pem");
	path_in(pub, sizeof(pub), "k5.pub");
	path_in(missing, sizeof(missing), "missing.pem");
	path_in(rsa, sizeof(rsa), "rsa.pem");
	mg_error err = {0};
	static const char junk[] = "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
	assert_int_equal(mg_file_write_atomic(bad, junk, strlen(junk), &err), 0);
	mg_buf sig = MG_BUF_INIT;
	assert_int_equal(mg_sign(bad, "x", 1, &sig, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "bad.pem"));
	assert_int_equal(mg_key_id(bad, (char[MG_DIGEST_SIZE]){0}, &err), MG_EINVAL);
	/* a public key cannot sign */
	char key[2300];
	path_in(key, sizeof(key), "k5");
	assert_int_equal(mg_keygen(key, 0, &err), 0);
	assert_int_equal(mg_sign(pub, "x", 1, &sig, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "k5.pub"));
	/* a missing file */
	assert_int_equal(mg_sign(missing, "x", 1, &sig, &err), MG_ENOTFOUND);
	/* an RSA key is not Ed25519 */
	char cmd[8192];
	snprintf(cmd, sizeof(cmd),
		 "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out '%s' 2>/dev/null", rsa);
	if (system(cmd) == 0) {
		assert_int_equal(mg_sign(rsa, "x", 1, &sig, &err), MG_EINVAL);
		assert_non_null(strstr(err.msg, "Ed25519"));
	}
	mg_buf_free(&sig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen_writes_private_0600_and_public),
		cmocka_unit_test(test_keygen_refuses_to_overwrite),
		cmocka_unit_test(test_sign_verify_round_trip_and_tampering),
		cmocka_unit_test(test_bad_keys_are_refused_naming_the_file),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
