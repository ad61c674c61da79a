/* ci_env: what the CI system around a run says about it, from GitHub
 * Actions' and GitLab CI's variables (CI, GITHUB_*, GITLAB_*, CI_*). They
 * are read in one place, once per command (mg_ci_env_read); everything
 * else is handed the struct. */
#ifndef MG_CI_ENV_H
#define MG_CI_ENV_H

#include "util/util.h"

/* Each string is borrowed from the environment (valid while it is not
 * changed); an unset or empty variable is NULL. */
typedef struct mg_ci_env {
	int in_ci;          /* CI is "true" or "1" */
	int github_actions; /* GITHUB_ACTIONS is "true" */
	int gitlab_ci;      /* GITLAB_CI is "true" */
	const char *github_server_url, *github_api_url, *github_repository, *github_run_id;
	const char *github_ref, *github_ref_name, *github_actor, *github_token;
	const char *github_event_path, *github_step_summary, *github_output;
	const char *gitlab_user_login, *ci_job_url, *ci_default_branch, *ci_api_v4_url;
	const char *ci_project_id, *ci_merge_request_iid, *ci_job_token;
	const char *ci_project_dir; /* where GitLab's artifact paths start */
} mg_ci_env;

void mg_ci_env_read(mg_ci_env *out);

/* Appends the URL of the CI run: GitHub's run page (server, default
 * https://github.com), else GitLab's CI_JOB_URL; nothing outside CI. ci
 * may be NULL (no CI). */
int mg_ci_run_url(mg_buf *out, const mg_ci_env *ci, mg_error *err);

/* Appends where a person finds the HTML report that the job keeps as an
 * artifact at html_path (as given on the command line, from the current
 * folder): on GitLab the file itself ($CI_JOB_URL/artifacts/file/PATH, PATH
 * from $CI_PROJECT_DIR; the job's artifact browser when the file lies
 * outside it), on GitHub the run's page, whose Artifacts section lists it
 * (GitHub gives no address per file). Nothing outside CI or without
 * html_path. */
int mg_ci_artifact_url(mg_buf *out, const mg_ci_env *ci, const char *html_path, mg_error *err);

#endif
