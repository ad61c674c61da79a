/* Pull and merge request comments. Finds the request of the current CI run
 * from GitHub Actions' or GitLab CI's variables, lists its comments (issue
 * comments API on GitHub, notes API on GitLab; 100 a page, every page),
 * and updates the one that carries modelgate's hidden marker, or adds one:
 * a pipeline that runs on every push leaves one comment, kept current. The
 * report's charts go with it where the forge shows pictures (GitLab's
 * uploads), else as a link to the HTML report. HTTP goes through net/web.h
 * (retries, TLS options). */
#include "comment.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/web.h"
#include "validator/report.h"

#define MAX_PAGES 50
#define PER_PAGE 100

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

static void copy_trimmed(char *dst, size_t cap, const char *src)
{
	snprintf(dst, cap, "%s", src);
	size_t n = strlen(dst);
	while (n > 0 && dst[n - 1] == '/')
		dst[--n] = '\0';
}

/* pull_request.number (or number, or issue.number) of the event file. */
static long long event_number(const char *path)
{
	json_error_t je;
	json_t *ev = json_load_file(path, 0, &je);
	long long n = 0;
	if (!ev)
		return 0;
	json_t *pr = json_object_get(ev, "pull_request");
	json_t *num = pr ? json_object_get(pr, "number") : NULL;
	if (!json_is_integer(num) && json_object_get(ev, "issue"))
		num = json_object_get(json_object_get(ev, "issue"), "number");
	if (!json_is_integer(num) && pr)
		num = json_object_get(ev, "number");
	if (json_is_integer(num))
		n = json_integer_value(num);
	json_decref(ev);
	return n;
}

static int github_place(mg_comment_place *p, const mg_ci_env *ci, mg_error *err)
{
	const char *repo = ci->github_repository, *ref = ci->github_ref;
	const char *token = ci->github_token;
	p->forge = MG_FORGE_GITHUB;
	copy_trimmed(p->api, sizeof(p->api), ci->github_api_url ? ci->github_api_url : "https://api.github.com");
	if (!repo || !strchr(repo, '/'))
		return mg_error_set(err, MG_EINVAL, "GITHUB_REPOSITORY is not set (expected owner/repo)");
	snprintf(p->project, sizeof(p->project), "%s", repo);
	if (ci->github_event_path)
		p->number = event_number(ci->github_event_path);
	if (p->number <= 0 && ref && !strncmp(ref, "refs/pull/", 10))
		p->number = strtoll(ref + 10, NULL, 10);
	if (p->number <= 0)
		return mg_error_set(err, MG_ENOTFOUND, "this run is not for a pull request (GITHUB_REF '%s')",
				    ref ? ref : "");
	if (!token)
		return mg_error_set(err, MG_EINVAL,
				    "GITHUB_TOKEN is not set (pass secrets.GITHUB_TOKEN, with pull-requests: write)");
	if ((size_t)snprintf(p->token_header, sizeof(p->token_header), "Authorization: Bearer %s", token) >=
	    sizeof(p->token_header))
		return mg_error_set(err, MG_EINVAL, "GITHUB_TOKEN is too long");
	return 0;
}

static int gitlab_place(mg_comment_place *p, const mg_ci_env *ci, mg_error *err)
{
	const char *api = ci->ci_api_v4_url, *id = ci->ci_project_id, *iid = ci->ci_merge_request_iid;
	const char *tok = env("MODELGATE_GITLAB_TOKEN"), *job = ci->ci_job_token;
	p->forge = MG_FORGE_GITLAB;
	if (!api || !id)
		return mg_error_set(err, MG_EINVAL, "CI_API_V4_URL and CI_PROJECT_ID must be set");
	copy_trimmed(p->api, sizeof(p->api), api);
	snprintf(p->project, sizeof(p->project), "%s", id);
	if (!iid || (p->number = strtoll(iid, NULL, 10)) <= 0)
		return mg_error_set(err, MG_ENOTFOUND, "this pipeline is not for a merge request (no CI_MERGE_REQUEST_IID)");
	if (!tok && !job)
		return mg_error_set(err, MG_EINVAL, "set MODELGATE_GITLAB_TOKEN to a token with the api scope");
	if ((size_t)snprintf(p->token_header, sizeof(p->token_header), "%s: %s",
			     tok ? "PRIVATE-TOKEN" : "JOB-TOKEN", tok ? tok : job) >= sizeof(p->token_header))
		return mg_error_set(err, MG_EINVAL, "the GitLab token is too long");
	return 0;
}

int mg_comment_place_from_ci(mg_comment_place *out, const mg_ci_env *ci, mg_error *err)
{
	memset(out, 0, sizeof(*out));
	if (ci->github_actions)
		return github_place(out, ci, err);
	if (ci->gitlab_ci)
		return gitlab_place(out, ci, err);
	return mg_error_set(err, MG_EINVAL,
			    "not in GitHub Actions (GITHUB_ACTIONS=true) or GitLab CI (GITLAB_CI=true): no request to comment on");
}

static int marker(mg_buf *out, const char *key, mg_error *err)
{
	if (!key || !*key)
		return mg_buf_puts(out, MG_COMMENT_MARKER, err);
	for (const char *c = key; *c; c++)
		if (*c == '-' && c[1] == '-')
			return mg_error_set(err, MG_EINVAL, "--key '%s': '--' cannot appear in an HTML comment", key);
	return mg_buf_printf(out, err, "<!-- modelgate:report key=%s -->", key);
}

int mg_comment_body(mg_buf *out, const char *markdown, const char *key, mg_error *err)
{
	int rc = marker(out, key, err);
	if (!rc)
		rc = mg_buf_puts(out, "\n", err);
	return rc ? rc : mg_buf_puts(out, markdown, err);
}

/* One API call with a body of a content type (or none: type NULL); checks
 * the status. */
static int call_body(const mg_comment_place *p, const mg_comment_opts *o, const char *method, const char *url,
		     const char *type, const void *body, size_t len, mg_web_resp *resp, mg_error *err)
{
	const char *headers[] = {p->token_header,
				 p->forge == MG_FORGE_GITHUB ? "Accept: application/vnd.github+json" : "Accept: application/json",
				 p->forge == MG_FORGE_GITHUB ? "X-GitHub-Api-Version: 2022-11-28" : NULL, NULL};
	mg_web_req req = MG_WEB_REQ_INIT;
	req.method = method;
	req.url = url;
	req.headers = headers;
	req.insecure = o->insecure;
	req.ca_file = o->ca_file;
	req.max_response = (size_t)16 << 20;
	if (type) {
		req.content_type = type;
		req.body = body;
		req.body_len = len;
	}
	int rc = mg_web_request(&req, resp, err);
	if (rc)
		return rc;
	const char *who = p->forge == MG_FORGE_GITHUB ? "GitHub" : "GitLab";
	/* the path only: never a query, never a token */
	const char *path = strstr(url, "://");
	path = path ? strchr(path + 3, '/') : NULL;
	int plen = path ? (int)strcspn(path, "?") : 0;
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	if (resp->status == 401 || resp->status == 403)
		return mg_error_set(err, MG_EINVAL,
				    "%s refused the token for %s %.*s (HTTP %ld); it needs %s", who, method, plen,
				    path ? path : "", resp->status,
				    p->forge == MG_FORGE_GITHUB ? "pull-requests: write" : "the api scope");
	if (resp->status == 404)
		return mg_error_set(err, MG_ENOTFOUND, "%s has no %.*s (HTTP 404)", who, plen, path ? path : "");
	return mg_error_set(err, MG_ENET, "%s answered HTTP %ld to %s %.*s", who, resp->status, method, plen,
			    path ? path : "");
}

/* call_body with a JSON body, or none (body_json NULL). */
static int call(const mg_comment_place *p, const mg_comment_opts *o, const char *method, const char *url,
		const char *body_json, mg_web_resp *resp, mg_error *err)
{
	return call_body(p, o, method, url, body_json ? "application/json" : NULL, body_json,
			 body_json ? strlen(body_json) : 0, resp, err);
}

/* Searches one page of comments for the marker; *count gets the page's
 * size. */
static int scan_page(const mg_buf *page, const char *mark, long long *found, size_t *count, mg_error *err)
{
	json_error_t je;
	json_t *arr = json_loadb(mg_buf_cstr(page), page->len, 0, &je);
	if (!json_is_array(arr)) {
		json_decref(arr);
		return mg_error_set(err, MG_ENET, "the comment list is not a JSON array");
	}
	*count = json_array_size(arr);
	size_t i;
	json_t *c;
	json_array_foreach(arr, i, c) {
		const char *body = json_string_value(json_object_get(c, "body"));
		json_t *id = json_object_get(c, "id");
		if (!*found && body && json_is_integer(id) && strstr(body, mark))
			*found = json_integer_value(id);
	}
	json_decref(arr);
	return 0;
}

int mg_comment_upsert(const mg_comment_place *p, const char *body, const char *key,
		      const mg_comment_opts *opts, long long *id_out, int *updated, mg_error *err)
{
	mg_comment_opts def = MG_COMMENT_OPTS_INIT;
	const mg_comment_opts *o = opts ? opts : &def;
	mg_buf mark = MG_BUF_INIT, url = MG_BUF_INIT;
	mg_web_resp resp = MG_WEB_RESP_INIT;
	char *json = NULL;
	long long found = 0;
	int gh = p->forge == MG_FORGE_GITHUB;
	int rc = marker(&mark, key, err);
	/* GET every page until a short one */
	for (int page = 1; !rc && !found && page <= MAX_PAGES; page++) {
		size_t n = 0;
		mg_buf_reset(&url);
		rc = gh ? mg_buf_printf(&url, err, "%s/repos/%s/issues/%lld/comments?per_page=%d&page=%d", p->api,
					p->project, p->number, PER_PAGE, page)
			: mg_buf_printf(&url, err, "%s/projects/%s/merge_requests/%lld/notes?per_page=%d&page=%d",
					p->api, p->project, p->number, PER_PAGE, page);
		if (!rc)
			rc = call(p, o, "GET", url.data, NULL, &resp, err);
		if (!rc)
			rc = scan_page(&resp.body, mg_buf_cstr(&mark), &found, &n, err);
		if (!rc && n < PER_PAGE)
			break;
	}
	if (rc)
		goto done;
	json_t *obj = json_pack("{s:s}", "body", body);
	json = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
	json_decref(obj);
	if (!json) {
		rc = mg_error_set(err, MG_EINVAL, "the comment is not valid UTF-8");
		goto done;
	}
	mg_buf_reset(&url);
	if (found)
		rc = gh ? mg_buf_printf(&url, err, "%s/repos/%s/issues/comments/%lld", p->api, p->project, found)
			: mg_buf_printf(&url, err, "%s/projects/%s/merge_requests/%lld/notes/%lld", p->api,
					p->project, p->number, found);
	else
		rc = gh ? mg_buf_printf(&url, err, "%s/repos/%s/issues/%lld/comments", p->api, p->project, p->number)
			: mg_buf_printf(&url, err, "%s/projects/%s/merge_requests/%lld/notes", p->api, p->project,
					p->number);
	if (!rc)
		rc = call(p, o, found ? (gh ? "PATCH" : "PUT") : "POST", url.data, json, &resp, err);
	if (rc)
		goto done;
	*updated = found != 0;
	*id_out = found;
	if (!found) {
		json_error_t je;
		json_t *c = json_loadb(mg_buf_cstr(&resp.body), resp.body.len, 0, &je);
		if (json_is_integer(json_object_get(c, "id")))
			*id_out = json_integer_value(json_object_get(c, "id"));
		json_decref(c);
	}
done:
	free(json);
	mg_web_resp_free(&resp);
	mg_buf_free(&mark);
	mg_buf_free(&url);
	return rc;
}

/* GitLab: uploads one file to the project and appends the Markdown that
 * shows it, as GitLab answers it ("![name](/uploads/SECRET/name)"). */
static int upload(const mg_comment_place *p, const mg_comment_opts *o, const char *file, const mg_buf *data,
		  mg_buf *md, mg_error *err)
{
	char boundary[64], type[128];
	unsigned n = 0;
	do /* a boundary the file does not contain */
		snprintf(boundary, sizeof(boundary), "modelgate-part-%u-%zx", n++, data->len);
	while (strstr(mg_buf_cstr(data), boundary));
	snprintf(type, sizeof(type), "multipart/form-data; boundary=%s", boundary);
	mg_buf body = MG_BUF_INIT, url = MG_BUF_INIT;
	mg_web_resp resp = MG_WEB_RESP_INIT;
	int rc = mg_buf_printf(&body, err, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
				"Content-Type: image/svg+xml\r\n\r\n", boundary, file);
	if (!rc)
		rc = mg_buf_append(&body, data->data, data->len, err);
	if (!rc)
		rc = mg_buf_printf(&body, err, "\r\n--%s--\r\n", boundary);
	if (!rc)
		rc = mg_buf_printf(&url, err, "%s/projects/%s/uploads", p->api, p->project);
	if (!rc)
		rc = call_body(p, o, "POST", url.data, type, body.data, body.len, &resp, err);
	if (!rc) {
		json_error_t je;
		json_t *a = json_loadb(mg_buf_cstr(&resp.body), resp.body.len, 0, &je);
		const char *m = json_string_value(json_object_get(a, "markdown"));
		rc = m && !strpbrk(m, "\r\n") ? mg_buf_puts(md, m, err)
			: mg_error_set(err, MG_ENET, "GitLab's answer to the upload of '%s' has no markdown", file);
		json_decref(a);
	}
	mg_web_resp_free(&resp);
	mg_buf_free(&body);
	mg_buf_free(&url);
	return rc;
}

int mg_comment_charts(mg_buf *out, const mg_comment_place *p, const mg_report *report, const char *html_url,
		      const mg_comment_opts *opts, mg_error *err)
{
	mg_comment_opts def = MG_COMMENT_OPTS_INIT;
	const mg_comment_opts *o = opts ? opts : &def;
	mg_report_chart *charts = NULL;
	size_t n = 0;
	int rc = mg_report_charts(&charts, &n, report, err);
	if (rc || !n)
		return rc;
	mg_buf md = MG_BUF_INIT;
	int gitlab = p && p->forge == MG_FORGE_GITLAB, link = html_url && !strpbrk(html_url, " ()<>\r\n");
	if (gitlab || link)
		rc = mg_buf_printf(&md, err, "\n<details><summary>\xF0\x9F\x93\x88 Charts (%zu)</summary>\n\n", n);
	/* GitLab: each title in bold over its picture; else a list of titles */
	for (size_t i = 0; (gitlab || link) && !rc && i < n; i++) {
		rc = mg_buf_puts(&md, gitlab ? "**" : "- ", err);
		if (!rc)
			rc = mg_report_markdown_text(&md, charts[i].title, err);
		if (!rc)
			rc = mg_buf_puts(&md, gitlab ? "**\n\n" : "\n", err);
		if (!rc && gitlab)
			rc = upload(p, o, charts[i].file, &charts[i].svg, &md, err);
		if (!rc && gitlab)
			rc = mg_buf_puts(&md, "\n\n", err);
	}
	if (!rc && gitlab)
		rc = mg_buf_puts(&md, "</details>\n", err);
	else if (!rc && link)
		rc = mg_buf_printf(&md, err, "\nIn [the HTML report](%s): %s.\n\n</details>\n", html_url,
				   p ? "GitHub takes no pictures in a comment through its API" : "a dry run uploads nothing");
	if (!rc)
		rc = mg_buf_append(out, mg_buf_cstr(&md), md.len, err);
	mg_buf_free(&md);
	mg_report_charts_free(charts, n);
	return rc;
}
