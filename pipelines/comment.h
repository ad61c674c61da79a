/* comment: the report's Markdown summary as a comment on the pull request
 * (GitHub) or merge request (GitLab) of the current CI run, kept as one
 * comment that each push updates in place. */
#ifndef MG_COMMENT_H
#define MG_COMMENT_H

#include "pipelines/ci_env.h"
#include "util/util.h"

/* The hidden line that marks our comment; with a key (several configs in
 * one repository, one comment each) it reads "<!-- modelgate:report
 * key=KEY -->". */
#define MG_COMMENT_MARKER "<!-- modelgate:report -->"

typedef enum { MG_FORGE_GITHUB = 1, MG_FORGE_GITLAB = 2 } mg_forge;

/* Where the comment goes, found from the CI variables. */
typedef struct mg_comment_place {
	mg_forge forge;
	char api[512];    /* GITHUB_API_URL or CI_API_V4_URL, no trailing '/' */
	char project[512]; /* "owner/repo" (GitHub) or the CI_PROJECT_ID (GitLab) */
	long long number; /* pull request number or merge request IID */
	char token_header[4096]; /* "Authorization: Bearer ..." / "PRIVATE-TOKEN: ..." */
} mg_comment_place;

/* From the CI variables (ci_env.h): GitHub Actions (GITHUB_ACTIONS=true;
 * GITHUB_API_URL, GITHUB_REPOSITORY, the pull request number from
 * GITHUB_EVENT_PATH's pull_request.number or GITHUB_REF refs/pull/N/merge,
 * GITHUB_TOKEN) or GitLab CI (GITLAB_CI=true; CI_API_V4_URL, CI_PROJECT_ID,
 * CI_MERGE_REQUEST_IID, MODELGATE_GITLAB_TOKEN as PRIVATE-TOKEN, else
 * CI_JOB_TOKEN as JOB-TOKEN). MG_ENOTFOUND when the run has no pull or
 * merge request (a push); MG_EINVAL outside CI or without a token. */
int mg_comment_place_from_ci(mg_comment_place *out, const mg_ci_env *ci, mg_error *err);

typedef struct mg_comment_opts {
	int version;
	const char *key;     /* NULL or "": the default marker */
	int insecure;        /* for a test server over https */
	const char *ca_file;
} mg_comment_opts;
#define MG_COMMENT_OPTS_VERSION 1
#define MG_COMMENT_OPTS_INIT {MG_COMMENT_OPTS_VERSION, NULL, 0, NULL}

/* Appends the comment's body: the marker line, then markdown. */
int mg_comment_body(mg_buf *out, const char *markdown, const char *key, mg_error *err);

/* Lists the request's comments (all pages), and updates the one carrying
 * our marker (PATCH on GitHub, PUT on GitLab) or adds a new one (POST).
 * *id_out is the comment's id, *updated 1 when it existed. Credentials
 * never appear in messages. */
int mg_comment_upsert(const mg_comment_place *p, const char *body, const char *key,
		      const mg_comment_opts *opts, long long *id_out, int *updated, mg_error *err);

/* The request's pictures, the way CML puts them in a comment: a collapsed
 * <details> block appended to out. On GitLab, which shows images uploaded
 * to the project, each chart of the report (mg_report_charts: latency,
 * confusion matrix) is uploaded (POST /projects/:id/uploads) and shown
 * inline; on GitHub, whose API takes no pictures for a comment, or with p
 * NULL (a dry run), the block links the HTML report at html_url (nothing
 * when html_url is NULL). report is a const mg_report *. */
struct mg_report;
int mg_comment_charts(mg_buf *out, const mg_comment_place *p, const struct mg_report *report,
		      const char *html_url, const mg_comment_opts *opts, mg_error *err);

#endif
