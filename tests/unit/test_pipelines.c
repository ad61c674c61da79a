/* Unit tests of pipelines: provenance read from a real git repository. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipelines/pipelines.h"
#include "scratch.h"

static const char *dir;

static void sh(const char *fmt, const char *arg)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd), fmt, arg, arg, arg);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static int setup(void **state)
{
	(void)state;
	dir = scratch_dir("pipelines");
	sh("cd '%s' && git init -q -b main && "
	   "git -c user.name=t -c user.email=t@e commit -q --allow-empty -m one", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf '%s'", dir);
	return 0;
}

static void test_url_credentials_are_stripped(void **state)
{
	(void)state;
	char a[] = "https://user:s3cret@example.com/team/m.git";
	mg_url_strip_credentials(a);
	assert_string_equal(a, "https://example.com/team/m.git");
	char b[] = "https://example.com/a@b";
	mg_url_strip_credentials(b);
	assert_string_equal(b, "https://example.com/a@b");
	char c[] = "git@example.com:team/m.git"; /* scp form has no password */
	mg_url_strip_credentials(c);
	assert_string_equal(c, "git@example.com:team/m.git");
}

/* Tokens in a query string or a fragment go too, with user:password@. */
static void test_url_queries_and_fragments_are_stripped(void **state)
{
	(void)state;
	static const char *const cases[][2] = {
		{"https://host/x.git?access_token=SECRET", "https://host/x.git"},
		{"https://u:SECRET@host/x.git?private_token=SECRET#frag", "https://host/x.git"},
		{"https://host/x.git#SECRET", "https://host/x.git"},
		{"https://host?token=SECRET", "https://host"},
		{"https://host?a=b@SECRET/x", "https://host"},
		{"https://u:p@host:8443/a/b.git?x=1&y=SECRET", "https://host:8443/a/b.git"},
		{"ssh://git@host:2222/x.git?SECRET", "ssh://host:2222/x.git"},
		{"git@host:team/x.git?SECRET", "git@host:team/x.git"},
		{"https://host/x.git", "https://host/x.git"},
		{"/srv/git/x.git", "/srv/git/x.git"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char u[256];
		snprintf(u, sizeof(u), "%s", cases[i][0]);
		mg_url_strip_credentials(u);
		if (strcmp(u, cases[i][1]))
			fail_msg("'%s' became '%s', not '%s'", cases[i][0], u, cases[i][1]);
	}
}

static void test_git_info_reads_commit_branch_remote_and_dirt(void **state)
{
	(void)state;
	sh("cd '%s' && git remote add origin 'https://ci:tok3n@example.com/team/models.git?access_token=t0k#x' && "
	   "echo x > f && git add f && git -c user.name=t -c user.email=t@e commit -q -m two", dir);
	mg_git_info *g = NULL;
	mg_error err = {0};
	if (mg_git_info_read(&g, dir, &err))
		fail_msg("%s", err.msg);
	char head[64] = {0};
	char cmd[4096];
	snprintf(cmd, sizeof(cmd), "git -C '%s' rev-parse HEAD", dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(fgets(head, sizeof(head), p));
	pclose(p);
	head[strcspn(head, "\n")] = '\0';
	assert_string_equal(g->commit, head);
	assert_string_equal(g->branch, "main");
	assert_string_equal(g->remote_url, "https://example.com/team/models.git");
	assert_false(g->dirty);
	assert_true(g->commit_time > 1600000000);
	mg_git_info_free(g);

	sh("cd '%s' && echo y > f", dir);
	assert_int_equal(mg_git_info_read(&g, dir, &err), 0);
	assert_true(g->dirty);
	mg_git_info_free(g);

	sh("cd '%s' && git checkout -q --detach", dir);
	assert_int_equal(mg_git_info_read(&g, dir, &err), 0);
	assert_null(g->branch);
	mg_git_info_free(g);
}

static void test_git_info_outside_a_repository_is_not_found(void **state)
{
	(void)state;
	mg_git_info *g = NULL;
	mg_error err = {0};
	assert_int_equal(mg_git_info_read(&g, "/", &err), MG_ENOTFOUND);
	assert_null(g);
	assert_non_null(strstr(err.msg, "'/'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_credentials_are_stripped),
		cmocka_unit_test(test_url_queries_and_fragments_are_stripped),
		cmocka_unit_test_setup_teardown(test_git_info_reads_commit_branch_remote_and_dirt, setup, teardown),
		cmocka_unit_test(test_git_info_outside_a_repository_is_not_found),
	};
	return cmocka_run_group_tests_name("pipelines", tests, NULL, NULL);
}
