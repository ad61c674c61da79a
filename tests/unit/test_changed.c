/* Unit tests of the local workflow's pieces that need no git: which gates
 * a set of changed paths selects (changed_map.c), the pre-push hook script
 * (hook.c), and the pull request comment's marker and CI detection
 * (comment.c). The git and HTTP sides are tested by tests/cli/t_hook_*.sh
 * and t_comment_pr.sh. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipelines/changed.h"
#include "pipelines/comment.h"
#include "pipelines/hook.h"
#include "scratch.h"

static char top[PATH_MAX];

static const char config_text[] =
	"{\"model\": \"cand.onnx\", \"baseline\": \"../shared/base.onnx\","
	" \"dataset\": {\"inputs\": \"data/x.npy\", \"labels\": \"data/y.npy\"},"
	" \"gates\": ["
	"  {\"name\": \"acc\", \"kind\": \"accuracy\", \"min\": 0.9},"
	"  {\"name\": \"fid\", \"kind\": \"fidelity\", \"min_cosine\": 0.99, \"reference\": \"ref\"},"
	"  {\"name\": \"lat\", \"kind\": \"latency\", \"max_ms\": 5},"
	"  {\"name\": \"size\", \"kind\": \"size\", \"max_bytes\": 100}]}";

static int setup(void **state)
{
	(void)state;
	const char *dir = scratch_dir("changed");
	char cmd[2 * PATH_MAX + 64];
	snprintf(cmd, sizeof(cmd), "mkdir -p '%s/models/data' '%s/shared'", dir, dir);
	if (system(cmd) != 0)
		return -1;
	char *real = realpath(dir, NULL);
	snprintf(top, sizeof(top), "%s", real);
	free(real);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[PATH_MAX + 16];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* The gates selected when exactly `path` changed, as "acc,fid,...". */
static void selected_by(char *out, size_t cap, const char *path, const char *model)
{
	char cfgpath[PATH_MAX + 32], wd[PATH_MAX + 2];
	snprintf(cfgpath, sizeof(cfgpath), "%s/models/modelgate.json", top);
	snprintf(wd, sizeof(wd), "%s/", top);
	mg_config *cfg = NULL;
	mg_error err = {0};
	assert_int_equal(mg_config_parse(&cfg, config_text, strlen(config_text), cfgpath, &err), 0);
	char *paths[] = {(char *)path};
	mg_changed ch = {wd, NULL, paths, 1, 0};
	int sel[8] = {0};
	int n = mg_changed_gates(sel, cfg, model, NULL, &ch, &err);
	assert_true(n >= 0);
	out[0] = '\0';
	for (size_t i = 0; i < cfg->ngates; i++)
		if (sel[i])
			snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? "," : "", cfg->gates[i].name);
	mg_config_free(cfg);
}

static void test_changed_config_model_and_baseline_select_every_gate(void **state)
{
	(void)state;
	char got[128];
	selected_by(got, sizeof(got), "models/modelgate.json", NULL);
	assert_string_equal(got, "acc,fid,lat,size");
	selected_by(got, sizeof(got), "models/cand.onnx", NULL);
	assert_string_equal(got, "acc,fid,lat,size");
	selected_by(got, sizeof(got), "shared/base.onnx", NULL); /* "../" resolved */
	assert_string_equal(got, "acc,fid,lat,size");
}

static void test_changed_dataset_selects_accuracy_and_fidelity(void **state)
{
	(void)state;
	char got[128];
	selected_by(got, sizeof(got), "models/data/y.npy", NULL);
	assert_string_equal(got, "acc,fid");
	selected_by(got, sizeof(got), "models/ref/out_0.pb", NULL); /* under a folder input */
	assert_string_equal(got, "fid");
}

static void test_changed_unrelated_paths_select_nothing(void **state)
{
	(void)state;
	char got[128];
	selected_by(got, sizeof(got), "README.md", NULL);
	assert_string_equal(got, "");
	selected_by(got, sizeof(got), "models/cand.onnx.bak", NULL); /* a prefix is not a match */
	assert_string_equal(got, "");
	selected_by(got, sizeof(got), "models/data", NULL);
	assert_string_equal(got, "");
}

static void test_changed_model_override_is_relative_to_the_cwd(void **state)
{
	(void)state;
	char got[128], cwd[PATH_MAX], model[PATH_MAX + 32];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(top), 0);
	snprintf(model, sizeof(model), "models/other.onnx");
	selected_by(got, sizeof(got), "models/other.onnx", model);
	assert_string_equal(got, "acc,fid,lat,size");
	selected_by(got, sizeof(got), "models/cand.onnx", model); /* the config's is overridden */
	assert_string_equal(got, "");
	assert_int_equal(chdir(cwd), 0);
}

static void test_hook_script_quotes_paths(void **state)
{
	(void)state;
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_hook_script(&b, "/opt/it's/modelgate", "my models", "gate.json", NULL), 0);
	const char *s = mg_buf_cstr(&b);
	assert_non_null(strstr(s, "#!/bin/sh\n" MG_HOOK_MARKER "\n"));
	assert_non_null(strstr(s, "modelgate='/opt/it'\\''s/modelgate'\n"));
	assert_non_null(strstr(s, "cd 'my models' || exit 2\n"));
	assert_non_null(strstr(s, "gate --changed --pre-push --report \"$report\" -c 'gate.json'\n"));
	mg_buf_free(&b);
	assert_int_equal(mg_hook_script(&b, NULL, "", "modelgate.json", NULL), 0);
	assert_null(strstr(mg_buf_cstr(&b), "\ncd "));
	mg_buf_free(&b);
}

static void test_comment_body_starts_with_the_marker(void **state)
{
	(void)state;
	mg_buf b = MG_BUF_INIT;
	mg_error err = {0};
	assert_int_equal(mg_comment_body(&b, "| Gate |\n", NULL, &err), 0);
	assert_string_equal(mg_buf_cstr(&b), MG_COMMENT_MARKER "\n| Gate |\n");
	mg_buf_reset(&b);
	assert_int_equal(mg_comment_body(&b, "x", "kws", &err), 0);
	assert_string_equal(mg_buf_cstr(&b), "<!-- modelgate:report key=kws -->\nx");
	mg_buf_reset(&b);
	assert_int_equal(mg_comment_body(&b, "x", "a--b", &err), MG_EINVAL);
	mg_buf_free(&b);
}

static void test_comment_place_from_github_and_gitlab_variables(void **state)
{
	(void)state;
	mg_comment_place p;
	mg_ci_env ci;
	mg_error err = {0};
	unsetenv("GITLAB_CI");
	unsetenv("GITHUB_EVENT_PATH");
	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_REPOSITORY", "acme/kws", 1);
	setenv("GITHUB_API_URL", "https://ghe.example.com/api/v3/", 1);
	setenv("GITHUB_REF", "refs/pull/12/merge", 1);
	setenv("GITHUB_TOKEN", "t0k", 1);
	mg_ci_env_read(&ci);
	assert_int_equal(mg_comment_place_from_ci(&p, &ci, &err), 0);
	assert_int_equal(p.forge, MG_FORGE_GITHUB);
	assert_int_equal(p.number, 12);
	assert_string_equal(p.api, "https://ghe.example.com/api/v3");
	assert_string_equal(p.token_header, "Authorization: Bearer t0k");
	setenv("GITHUB_REF", "refs/heads/main", 1);
	mg_ci_env_read(&ci);
	assert_int_equal(mg_comment_place_from_ci(&p, &ci, &err), MG_ENOTFOUND);
	unsetenv("GITHUB_ACTIONS");
	setenv("GITLAB_CI", "true", 1);
	setenv("CI_API_V4_URL", "https://gitlab.example.com/api/v4", 1);
	setenv("CI_PROJECT_ID", "42", 1);
	setenv("CI_MERGE_REQUEST_IID", "5", 1);
	unsetenv("MODELGATE_GITLAB_TOKEN");
	setenv("CI_JOB_TOKEN", "job", 1);
	mg_ci_env_read(&ci);
	assert_int_equal(mg_comment_place_from_ci(&p, &ci, &err), 0);
	assert_int_equal(p.forge, MG_FORGE_GITLAB);
	assert_string_equal(p.token_header, "JOB-TOKEN: job");
	setenv("MODELGATE_GITLAB_TOKEN", "pat", 1);
	mg_ci_env_read(&ci);
	assert_int_equal(mg_comment_place_from_ci(&p, &ci, &err), 0);
	assert_string_equal(p.token_header, "PRIVATE-TOKEN: pat");
	unsetenv("GITLAB_CI");
	mg_ci_env_read(&ci);
	assert_int_equal(mg_comment_place_from_ci(&p, &ci, &err), MG_EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_changed_config_model_and_baseline_select_every_gate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_dataset_selects_accuracy_and_fidelity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_unrelated_paths_select_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changed_model_override_is_relative_to_the_cwd, setup, teardown),
		cmocka_unit_test(test_hook_script_quotes_paths),
		cmocka_unit_test(test_comment_body_starts_with_the_marker),
		cmocka_unit_test(test_comment_place_from_github_and_gitlab_variables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
