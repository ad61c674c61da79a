/* Unit tests of deploy's pure parts: the webhook HMAC (RFC 4231 vectors),
 * the delivery id, trigger specs and the "deploy" config section, the
 * requests each trigger kind builds, and the DSSE pre-authentication
 * encoding. The end-to-end behaviour is in tests/cli/t_deploy_*.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipelines/deploy.h"
#include "validator/report.h"

static void test_hmac_matches_rfc4231(void **state)
{
	(void)state;
	char out[65];
	unsigned char key1[20];
	memset(key1, 0x0b, sizeof(key1));
	mg_hmac_sha256_hex(key1, sizeof(key1), "Hi There", 8, out);
	assert_string_equal(out, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	mg_hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, out);
	assert_string_equal(out, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	/* a key longer than the block is hashed first (test case 6) */
	unsigned char key6[131];
	memset(key6, 0xaa, sizeof(key6));
	const char *msg = "Test Using Larger Than Block-Size Key - Hash Key First";
	mg_hmac_sha256_hex(key6, sizeof(key6), msg, strlen(msg), out);
	assert_string_equal(out, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_delivery_id_is_stable_and_distinct(void **state)
{
	(void)state;
	mg_trigger_event a = {0}, b = {0};
	a.env = b.env = "prod";
	a.digest = b.digest = "sha256:09ff623e44a06928c3598c23a708005faf2966d846f676b2b5a98b633d9d9b22";
	a.action = b.action = "deploy";
	a.seq = b.seq = 3;
	mg_trigger_delivery_id(&a);
	mg_trigger_delivery_id(&b);
	assert_string_equal(a.delivery, b.delivery);
	assert_int_equal(strlen(a.delivery), 64);
	b.seq = 4;
	mg_trigger_delivery_id(&b);
	assert_string_not_equal(a.delivery, b.delivery);
	b.seq = 3;
	b.action = "rollback";
	mg_trigger_delivery_id(&b);
	assert_string_not_equal(a.delivery, b.delivery);
}

static void test_trigger_specs_parse_and_refuse(void **state)
{
	(void)state;
	mg_trigger_list l = MG_TRIGGER_LIST_INIT;
	mg_error err = {0};
	assert_int_equal(mg_trigger_parse_spec(&l, "github-dispatch:acme/app", NULL, NULL, &err), 0);
	assert_string_equal(l.v[0].event, "modelgate-deploy");
	assert_string_equal(l.v[0].token_env, "GITHUB_TOKEN");
	assert_int_equal(mg_trigger_parse_spec(&l, "github-workflow:acme/app:d.yml:rel", "TOK", NULL, &err), 0);
	assert_string_equal(l.v[1].workflow, "d.yml");
	assert_string_equal(l.v[1].ref, "rel");
	assert_string_equal(l.v[1].token_env, "TOK");
	assert_int_equal(mg_trigger_parse_spec(&l, "webhook:https://h.example/x?token=abc", NULL, "S", &err), 0);
	assert_string_equal(l.v[2].name, "webhook:h.example/x"); /* never the query */
	assert_string_equal(l.v[2].secret_env, "S");
	assert_int_equal(mg_trigger_parse_spec(&l, "gitlab:group/sub/proj:main", NULL, NULL, &err), 0);
	assert_string_equal(l.v[3].repo, "group/sub/proj");
	assert_int_equal(l.n, 4);
	assert_int_equal(mg_trigger_parse_spec(&l, "github-dispatch:acme/app", NULL, NULL, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "is there already"));
	assert_int_equal(mg_trigger_parse_spec(&l, "github-dispatch:noslash", NULL, NULL, &err), MG_EINVAL);
	assert_int_equal(mg_trigger_parse_spec(&l, "github-workflow:acme/app", NULL, NULL, &err), MG_EINVAL);
	assert_int_equal(mg_trigger_parse_spec(&l, "webhook:ftp://x", NULL, NULL, &err), MG_EINVAL);
	assert_int_equal(mg_trigger_parse_spec(&l, "slack:x", NULL, NULL, &err), MG_EINVAL);
	assert_int_equal(l.n, 4);
	mg_trigger_list_clear(&l);
}

static void test_config_section_errors_name_the_path(void **state)
{
	(void)state;
	mg_trigger_list l = MG_TRIGGER_LIST_INIT;
	mg_error err = {0};
	const char *ok = "{\"deploy\": {\"triggers\": [{\"kind\": \"gitlab\", \"project\": \"7\","
			 " \"variables\": {\"A\": \"b\"}}]}}";
	assert_int_equal(mg_trigger_parse_config(&l, ok, strlen(ok), "m.json", &err), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(mg_kv_get(&l.v[0].extra, "A"), "b");
	mg_trigger_list_clear(&l);
	const char *none = "{\"model\": \"x\"}";
	assert_int_equal(mg_trigger_parse_config(&l, none, strlen(none), "m.json", &err), 0);
	assert_int_equal(l.n, 0);
	const char *bad = "{\"deploy\": {\"triggers\": [{\"kind\": \"webhook\", \"url\": 3}]}}";
	assert_int_equal(mg_trigger_parse_config(&l, bad, strlen(bad), "m.json", &err), MG_EINVAL);
	assert_string_equal(err.msg, "m.json: deploy.triggers[0].url: expected a non-empty string");
	const char *vars = "{\"deploy\": {\"triggers\": [{\"kind\": \"gitlab\", \"project\": \"7\","
			   " \"variables\": {\"A\": 1}}]}}";
	assert_int_equal(mg_trigger_parse_config(&l, vars, strlen(vars), "m.json", &err), MG_EINVAL);
	assert_string_equal(err.msg, "m.json: deploy.triggers[0].variables.A: expected a string");
	assert_int_equal(l.n, 0);
}

static void test_requests_follow_the_documented_apis(void **state)
{
	(void)state;
	setenv("GITHUB_API_URL", "https://ghe.example/api/v3/", 1);
	setenv("CI_API_V4_URL", "https://gl.example/api/v4", 1);
	setenv("TEST_TOKEN", "t0k", 1);
	setenv("TEST_SECRET", "s3", 1);
	mg_trigger_list l = MG_TRIGGER_LIST_INIT;
	mg_error err = {0};
	assert_int_equal(mg_trigger_parse_spec(&l, "github-dispatch:o/r:ev", "TEST_TOKEN", NULL, &err), 0);
	assert_int_equal(mg_trigger_parse_spec(&l, "gitlab:g/p:main", "TEST_TOKEN", NULL, &err), 0);
	assert_int_equal(mg_trigger_parse_spec(&l, "webhook:http://h/x", NULL, "TEST_SECRET", &err), 0);
	mg_ci_env ci;
	mg_ci_env_read(&ci);
	mg_trigger_event ev = {0};
	ev.action = "deploy";
	ev.env = "prod";
	ev.digest = "sha256:09ff623e44a06928c3598c23a708005faf2966d846f676b2b5a98b633d9d9b22";
	ev.seq = 1;
	ev.ci = &ci;
	mg_trigger_delivery_id(&ev);
	mg_trigger_request q;
	assert_int_equal(mg_trigger_build(&l.v[0], &ev, &q, &err), 0);
	assert_string_equal(q.url, "https://ghe.example/api/v3/repos/o/r/dispatches");
	assert_string_equal(q.headers[0], "Authorization: Bearer t0k");
	assert_string_equal(q.headers[1], "Accept: application/vnd.github+json");
	assert_string_equal(q.headers[2], "X-GitHub-Api-Version: 2022-11-28");
	assert_int_equal(q.want_status, 204);
	assert_non_null(strstr(q.body.data, "\"event_type\":\"ev\""));
	mg_trigger_request_free(&q);
	assert_int_equal(mg_trigger_build(&l.v[1], &ev, &q, &err), 0);
	assert_string_equal(q.url, "https://gl.example/api/v4/projects/g%2Fp/trigger/pipeline");
	assert_non_null(strstr(q.body.data, "token=t0k&ref=main&variables%5BMODELGATE_DIGEST%5D=sha256%3A09ff"));
	assert_int_equal(q.want_status, 201);
	mg_trigger_request_free(&q);
	assert_int_equal(mg_trigger_build(&l.v[2], &ev, &q, &err), 0);
	char mac[65], want[128];
	mg_hmac_sha256_hex("s3", 2, q.body.data, q.body.len, mac);
	snprintf(want, sizeof(want), "X-Modelgate-Signature-256: sha256=%s", mac);
	assert_string_equal(q.headers[0], want);
	mg_trigger_request_free(&q);
	/* a trigger without a ref runs on the CI's branch, read from ci */
	assert_int_equal(mg_trigger_parse_spec(&l, "gitlab:g/q", "TEST_TOKEN", NULL, &err), 0);
	ci.ci_default_branch = "dev";
	assert_int_equal(mg_trigger_build(&l.v[3], &ev, &q, &err), 0);
	assert_non_null(strstr(q.body.data, "&ref=dev&"));
	mg_trigger_request_free(&q);
	ev.ci = NULL;
	assert_int_equal(mg_trigger_build(&l.v[3], &ev, &q, &err), 0);
	assert_non_null(strstr(q.body.data, "&ref=main&"));
	assert_string_equal(q.url, "https://gitlab.com/api/v4/projects/g%2Fq/trigger/pipeline");
	mg_trigger_request_free(&q);
	mg_trigger_list_clear(&l);
	unsetenv("GITHUB_API_URL");
	unsetenv("CI_API_V4_URL");
}

static void test_dsse_pae(void **state)
{
	(void)state;
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_dsse_pae(&b, "http://example.com/HelloWorld", "hello world", 11, NULL), 0);
	assert_string_equal(b.data, "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
	mg_buf_free(&b);
}

/* The deploy policy is the pipeline's: a report that failed, or that is
 * for another digest, refuses the deploy before the target is touched. */
static void test_deploy_refuses_a_report_for_another_digest(void **state)
{
	(void)state;
	char a[] = "sha256:09ff623e44a06928c3598c23a708005faf2966d846f676b2b5a98b633d9d9b22";
	char b[] = "sha256:19ff623e44a06928c3598c23a708005faf2966d846f676b2b5a98b633d9d9b22";
	mg_gate_result g = {0};
	g.status = MG_GATE_PASS;
	mg_report r = {0};
	r.model_digest = a;
	r.gates = &g;
	r.ngates = 1;
	mg_repo t = {0}; /* never reached */
	mg_deploy_opts o = MG_DEPLOY_OPTS_INIT;
	mg_deploy_result res;
	mg_error err = {0};
	o.env = "prod";
	o.digest = b;
	o.report = &r;
	assert_int_equal(mg_deploy_run(&t, &o, &res, &err), MG_EINVAL);
	assert_true(res.refused);
	assert_non_null(strstr(err.msg, "not for"));
	g.status = MG_GATE_FAIL;
	o.digest = a;
	assert_int_equal(mg_deploy_run(&t, &o, &res, &err), MG_EINVAL);
	assert_true(res.refused);
	o.report = NULL;
	assert_int_equal(mg_deploy_run(&t, &o, &res, &err), MG_EINVAL);
	assert_true(res.refused);
	mg_deploy_result_clear(&res);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hmac_matches_rfc4231),
		cmocka_unit_test(test_deploy_refuses_a_report_for_another_digest),
		cmocka_unit_test(test_delivery_id_is_stable_and_distinct),
		cmocka_unit_test(test_trigger_specs_parse_and_refuse),
		cmocka_unit_test(test_config_section_errors_name_the_path),
		cmocka_unit_test(test_requests_follow_the_documented_apis),
		cmocka_unit_test(test_dsse_pae),
	};
	return cmocka_run_group_tests_name("deploy", tests, NULL, NULL);
}
