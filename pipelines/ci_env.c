/* ci_env: the one reader of the CI variables (ci_env.h). */
#include "ci_env.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *var(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static int is(const char *v, const char *a, const char *b)
{
	return v && (!strcmp(v, a) || (b && !strcmp(v, b)));
}

void mg_ci_env_read(mg_ci_env *out)
{
	memset(out, 0, sizeof(*out));
	out->in_ci = is(var("CI"), "true", "1");
	out->github_actions = is(var("GITHUB_ACTIONS"), "true", NULL);
	out->gitlab_ci = is(var("GITLAB_CI"), "true", NULL);
	out->github_server_url = var("GITHUB_SERVER_URL");
	out->github_api_url = var("GITHUB_API_URL");
	out->github_repository = var("GITHUB_REPOSITORY");
	out->github_run_id = var("GITHUB_RUN_ID");
	out->github_ref = var("GITHUB_REF");
	out->github_ref_name = var("GITHUB_REF_NAME");
	out->github_actor = var("GITHUB_ACTOR");
	out->github_token = var("GITHUB_TOKEN");
	out->github_event_path = var("GITHUB_EVENT_PATH");
	out->github_step_summary = var("GITHUB_STEP_SUMMARY");
	out->github_output = var("GITHUB_OUTPUT");
	out->gitlab_user_login = var("GITLAB_USER_LOGIN");
	out->ci_job_url = var("CI_JOB_URL");
	out->ci_default_branch = var("CI_DEFAULT_BRANCH");
	out->ci_api_v4_url = var("CI_API_V4_URL");
	out->ci_project_id = var("CI_PROJECT_ID");
	out->ci_merge_request_iid = var("CI_MERGE_REQUEST_IID");
	out->ci_job_token = var("CI_JOB_TOKEN");
	out->ci_project_dir = var("CI_PROJECT_DIR");
}

int mg_ci_artifact_url(mg_buf *out, const mg_ci_env *ci, const char *html_path, mg_error *err)
{
	if (!ci || !html_path || !*html_path)
		return 0;
	if (ci->github_repository && ci->github_run_id)
		return mg_ci_run_url(out, ci, err);
	if (!ci->ci_job_url)
		return 0;
	/* the path from $CI_PROJECT_DIR, where GitLab's artifact paths start */
	char cwd[4096], full[8192];
	if (ci->ci_project_dir) {
		if (html_path[0] != '/') {
			if (!getcwd(cwd, sizeof(cwd)))
				return mg_error_sys(err, MG_EIO, errno, "cannot read the current folder");
			snprintf(full, sizeof(full), "%s/%s", cwd, html_path);
			for (char *dot; (dot = strstr(full, "/./"));)
				memmove(dot, dot + 2, strlen(dot + 2) + 1);
			html_path = full;
		}
		size_t n = strlen(ci->ci_project_dir);
		while (n > 1 && ci->ci_project_dir[n - 1] == '/')
			n--;
		if (strncmp(html_path, ci->ci_project_dir, n) || html_path[n] != '/')
			html_path = NULL;
		else
			html_path += n + 1;
	} else if (html_path[0] == '/') {
		html_path = NULL;
	}
	if (!html_path) /* outside the project: the job's artifacts */
		return mg_buf_printf(out, err, "%s/artifacts/browse", ci->ci_job_url);
	while (html_path[0] == '.' && html_path[1] == '/')
		html_path += 2;
	return mg_buf_printf(out, err, "%s/artifacts/file/%s", ci->ci_job_url, html_path);
}

int mg_ci_run_url(mg_buf *out, const mg_ci_env *ci, mg_error *err)
{
	if (!ci)
		return 0;
	if (ci->github_repository && ci->github_run_id)
		return mg_buf_printf(out, err, "%s/%s/actions/runs/%s",
				     ci->github_server_url ? ci->github_server_url : "https://github.com",
				     ci->github_repository, ci->github_run_id);
	return ci->ci_job_url ? mg_buf_puts(out, ci->ci_job_url, err) : 0;
}
