/* Unit tests of pipelines/package*.c: the reproducible writer (same inputs,
 * same bytes, in every format) and the files it refuses to read, the shared
 * report rule, the mtime and CI environment, and verify's view of what was
 * written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pipelines/package.h"
#include "pipelines/sign.h"
#include "scratch.h"

static const char *dir;
static char model[2200], report[2200], key[2200], pub[2200];
static char digest[MG_DIGEST_SIZE];

static void path_in(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static void write_report(const char *path, const char *status, const char *model_digest)
{
	char json[2048];
	snprintf(json, sizeof(json),
		 "{\"schema_version\": 1, \"tool\": \"modelgate\", \"tool_version\": \"t\","
		 " \"created\": \"2026-01-01T00:00:00Z\", \"model\": {\"ref\": \"m.onnx\", \"digest\": \"%s\"},"
		 " \"targets\": [], \"gates\": [{\"name\": \"size\", \"kind\": \"size\", \"status\": \"%s\","
		 " \"reason\": \"r\", \"metric\": \"bytes\", \"value\": 1, \"limit\": 2, \"unit\": \"bytes\","
		 " \"figures\": []}]}",
		 model_digest, status);
	mg_error err = {0};
	assert_int_equal(mg_file_write_atomic(path, json, strlen(json), &err), 0);
}

static int setup(void **state)
{
	(void)state;
	dir = scratch_dir("package");
	mg_error err = {0};
	path_in(model, sizeof(model), "m.onnx");
	path_in(report, sizeof(report), "report.json");
	path_in(key, sizeof(key), "key");
	path_in(pub, sizeof(pub), "key.pub");
	static const char bytes[] = "not really an onnx model, but bytes all the same";
	assert_int_equal(mg_file_write_atomic(model, bytes, sizeof(bytes), &err), 0);
	mg_digest_bytes(bytes, sizeof(bytes), digest);
	write_report(report, "pass", digest);
	assert_int_equal(mg_keygen(key, 0, &err), 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int package(const char *name, mg_bundle_format fmt, const char *sign, int64_t mtime,
		   mg_package_result *res, mg_error *err)
{
	char out[2300];
	path_in(out, sizeof(out), name);
	mg_package_file f = {"m.onnx", model, NULL};
	mg_package_opts o = MG_PACKAGE_OPTS_INIT;
	o.reference = "m.onnx";
	o.report_path = report;
	o.sign_key = sign;
	o.mtime = mtime;
	return mg_package_write(out, fmt, &f, 1, &o, res, err);
}

static void assert_same_files(const char *a, const char *b, int same)
{
	char pa[2300], pb[2300];
	path_in(pa, sizeof(pa), a);
	path_in(pb, sizeof(pb), b);
	mg_buf x = MG_BUF_INIT, y = MG_BUF_INIT;
	mg_error err = {0};
	assert_int_equal(mg_file_read(&x, pa, 1 << 24, &err), 0);
	assert_int_equal(mg_file_read(&y, pb, 1 << 24, &err), 0);
	assert_int_equal(x.len == y.len && !memcmp(x.data, y.data, x.len), same);
	mg_buf_free(&x);
	mg_buf_free(&y);
}

static void test_writer_is_reproducible_in_every_format(void **state)
{
	(void)state;
	static const struct {
		mg_bundle_format fmt;
		const char *a, *b;
	} cases[] = {{MG_BUNDLE_TAR_GZ, "a.tar.gz", "b.tar.gz"},
		     {MG_BUNDLE_TAR_ZST, "a.tar.zst", "b.tar.zst"},
		     {MG_BUNDLE_ZIP, "a.zip", "b.zip"}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		mg_error err = {0};
		mg_package_result r1, r2;
		assert_int_equal(package(cases[i].a, cases[i].fmt, key, 1700000000, &r1, &err), 0);
		sleep(i == 0); /* a second later: wall-clock time must not leak in */
		assert_int_equal(package(cases[i].b, cases[i].fmt, key, 1700000000, &r2, &err), 0);
		assert_same_files(cases[i].a, cases[i].b, 1);
		assert_string_equal(r1.manifest_digest, r2.manifest_digest);
		assert_string_equal(r1.artifact_digest, digest);
		assert_int_equal(r1.nfiles, 5);
	}
	mg_error err = {0};
	assert_int_equal(package("c.tar.gz", MG_BUNDLE_TAR_GZ, key, 1800000000, NULL, &err), 0);
	assert_same_files("a.tar.gz", "c.tar.gz", 0);
}

static void test_verify_sees_what_was_written(void **state)
{
	(void)state;
	mg_error err = {0};
	assert_int_equal(package("v.tar.zst", MG_BUNDLE_TAR_ZST, key, 0, NULL, &err), 0);
	char out[2300];
	path_in(out, sizeof(out), "v.tar.zst");
	mg_bundle_check *c = NULL;
	assert_int_equal(mg_bundle_verify(&c, out, pub, &err), 0);
	assert_true(c->ok);
	assert_int_equal(c->nproblems, 0);
	assert_int_equal(c->sig, MG_SIG_VALID);
	assert_string_equal(c->artifact_digest, digest);
	assert_string_equal(c->gate_status, "pass");
	assert_int_equal(c->nentries, 5);
	assert_string_equal(c->entries[0].path, "files/m.onnx");
	assert_string_equal(c->entries[0].digest, digest);
	mg_bundle_check_free(c);
	assert_int_equal(mg_bundle_verify(&c, out, NULL, &err), 0);
	assert_int_equal(c->sig, MG_SIG_UNCHECKED);
	assert_true(c->ok);
	mg_bundle_check_free(c);
}

/* Running out of memory while reading manifest.json is MG_ENOMEM, not "not
 * valid JSON (line -1, column -1)": the JSON parser's first allocation, then
 * each of the first few in turn, fails. (jansson's lexer reports some later
 * allocation failures as a bad token; those still fail the bundle, exit 1.) */
static long allocs_left;

static void *failing_malloc(size_t n)
{
	return allocs_left-- > 0 ? malloc(n) : NULL;
}

static void test_verify_reports_running_out_of_memory(void **state)
{
	(void)state;
	mg_error err = {0};
	assert_int_equal(package("oom.tar.gz", MG_BUNDLE_TAR_GZ, key, 0, NULL, &err), 0);
	char out[2300];
	path_in(out, sizeof(out), "oom.tar.gz");
	for (long n = 0; n < 100000; n++) {
		mg_bundle_check *c = NULL;
		allocs_left = n;
		json_set_alloc_funcs(failing_malloc, free);
		int rc = mg_bundle_verify(&c, out, pub, &err);
		json_set_alloc_funcs(malloc, free);
		if (n == 0)
			assert_int_equal(rc, MG_ENOMEM);
		if (rc == MG_ENOMEM) {
			if (!strstr(err.msg, "out of memory reading manifest.json"))
				fail_msg("allocation %ld: '%s'", n, err.msg);
			continue;
		}
		assert_int_equal(rc, 0);
		for (size_t i = 0; i < c->nproblems; i++)
			if (strstr(c->problems[i], "line -1"))
				fail_msg("allocation %ld failed: '%s'", n, c->problems[i]);
		int ok = c->ok;
		mg_bundle_check_free(c);
		if (ok)
			break;
	}
}

static void test_failed_report_is_refused(void **state)
{
	(void)state;
	mg_error err = {0};
	mg_package_result res;
	write_report(report, "fail", digest);
	assert_int_equal(package("f.tar.gz", MG_BUNDLE_TAR_GZ, NULL, 0, &res, &err), MG_EINVAL);
	assert_true(res.refused);
	assert_non_null(strstr(err.msg, "'size' failed"));
	char other[MG_DIGEST_SIZE];
	mg_digest_bytes("x", 1, other);
	write_report(report, "pass", other);
	assert_int_equal(package("f.tar.gz", MG_BUNDLE_TAR_GZ, NULL, 0, &res, &err), MG_EINVAL);
	assert_true(res.refused);
	assert_non_null(strstr(err.msg, "the report is for"));
	char out[2300];
	path_in(out, sizeof(out), "f.tar.gz");
	assert_int_not_equal(access(out, F_OK), 0);
	write_report(report, "pass", digest);
}

/* The writer reads no file through a symbolic link, and nothing that is not
 * a regular file (a FIFO put where a file was listed must not block it). */
static void test_writer_refuses_links_and_special_files(void **state)
{
	(void)state;
	char link[2300], fifo[2300], out[2300];
	path_in(link, sizeof(link), "link.onnx");
	path_in(fifo, sizeof(fifo), "fifo.onnx");
	path_in(out, sizeof(out), "l.tar.gz");
	assert_int_equal(symlink(model, link), 0);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	const char *paths[] = {link, fifo};
	const char *want[] = {"is a symbolic link", "is not a regular file"};
	for (size_t i = 0; i < 2; i++) {
		mg_package_file f = {"m.onnx", paths[i], NULL};
		mg_package_opts o = MG_PACKAGE_OPTS_INIT;
		o.reference = "m.onnx";
		o.report_path = report;
		mg_error err = {0};
		assert_int_equal(mg_package_write(out, MG_BUNDLE_TAR_GZ, &f, 1, &o, NULL, &err), MG_EINVAL);
		if (!strstr(err.msg, paths[i]) || !strstr(err.msg, want[i]))
			fail_msg("'%s' does not name '%s' as '%s'", err.msg, paths[i], want[i]);
		assert_int_not_equal(access(out, F_OK), 0);
	}
	unlink(link);
	unlink(fifo);
}

static void test_report_check_rules(void **state)
{
	(void)state;
	mg_gate_result gates[2] = {0};
	gates[0].name = "acc";
	gates[0].status = MG_GATE_PASS;
	gates[1].name = "lat";
	gates[1].status = MG_GATE_SKIP;
	mg_report r = {0};
	r.gates = gates;
	r.ngates = 2;
	r.model_digest = digest;
	mg_error err = {0};
	assert_int_equal(mg_report_check_for(&r, digest, &err), 0);
	char other[MG_DIGEST_SIZE];
	mg_digest_bytes("y", 1, other);
	assert_int_equal(mg_report_check_for(&r, other, &err), MG_EINVAL);
	gates[1].status = MG_GATE_ERROR;
	assert_int_equal(mg_report_check_for(&r, digest, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "'lat' could not be evaluated"));
	gates[0].status = gates[1].status = MG_GATE_SKIP;
	assert_int_equal(mg_report_check_for(&r, digest, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "no gate"));
}

static void test_mtime_and_ci_environment(void **state)
{
	(void)state;
	mg_error err = {0};
	int64_t t = -1;
	mg_git_info g = {0};
	g.commit = "0123";
	g.commit_time = 1600000000;
	unsetenv("SOURCE_DATE_EPOCH");
	assert_int_equal(mg_package_mtime(&g, &t, &err), 0);
	assert_int_equal(t, 1600000000);
	assert_int_equal(mg_package_mtime(NULL, &t, &err), 0);
	assert_int_equal(t, 0);
	setenv("SOURCE_DATE_EPOCH", "1700000000", 1);
	assert_int_equal(mg_package_mtime(&g, &t, &err), 0);
	assert_int_equal(t, 1700000000);
	setenv("SOURCE_DATE_EPOCH", "soon", 1);
	assert_int_equal(mg_package_mtime(&g, &t, &err), MG_EINVAL);
	unsetenv("SOURCE_DATE_EPOCH");

	mg_buf url = MG_BUF_INIT;
	mg_ci_env ci;
	unsetenv("GITHUB_REPOSITORY");
	unsetenv("GITHUB_RUN_ID");
	unsetenv("CI_JOB_URL");
	mg_ci_env_read(&ci);
	assert_int_equal(mg_ci_run_url(&url, &ci, &err), 0);
	assert_int_equal(url.len, 0);
	setenv("CI_JOB_URL", "https://gitlab.example.com/j/1", 1);
	mg_ci_env_read(&ci);
	assert_int_equal(mg_ci_run_url(&url, &ci, &err), 0);
	assert_string_equal(url.data, "https://gitlab.example.com/j/1");
	mg_buf_reset(&url);
	setenv("GITHUB_SERVER_URL", "https://github.com", 1);
	setenv("GITHUB_REPOSITORY", "acme/kws", 1);
	setenv("GITHUB_RUN_ID", "9", 1);
	mg_ci_env_read(&ci);
	assert_int_equal(mg_ci_run_url(&url, &ci, &err), 0);
	assert_string_equal(url.data, "https://github.com/acme/kws/actions/runs/9");
	mg_buf_free(&url);
	unsetenv("CI_JOB_URL");
	unsetenv("GITHUB_REPOSITORY");
	unsetenv("GITHUB_RUN_ID");
	unsetenv("GITHUB_SERVER_URL");
}

static void test_format_from_name(void **state)
{
	(void)state;
	mg_bundle_format f;
	mg_error err = {0};
	assert_int_equal(mg_bundle_format_for("x.tar.gz", &f, &err), 0);
	assert_int_equal(f, MG_BUNDLE_TAR_GZ);
	assert_int_equal(mg_bundle_format_for("x.tzst", &f, &err), 0);
	assert_int_equal(f, MG_BUNDLE_TAR_ZST);
	assert_int_equal(mg_bundle_format_for("d/x.zip", &f, &err), 0);
	assert_int_equal(f, MG_BUNDLE_ZIP);
	assert_int_equal(mg_bundle_format_for("x.tar", &f, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "x.tar"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_is_reproducible_in_every_format),
		cmocka_unit_test(test_verify_sees_what_was_written),
		cmocka_unit_test(test_verify_reports_running_out_of_memory),
		cmocka_unit_test(test_failed_report_is_refused),
		cmocka_unit_test(test_writer_refuses_links_and_special_files),
		cmocka_unit_test(test_report_check_rules),
		cmocka_unit_test(test_mtime_and_ci_environment),
		cmocka_unit_test(test_format_from_name),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
