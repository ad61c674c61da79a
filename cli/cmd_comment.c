/* modelgate comment --report report.json: posts the report's Markdown
 * summary on the pull request (GitHub Actions) or merge request (GitLab CI)
 * of the current run, updating modelgate's earlier comment in place rather
 * than adding one per push. The report's charts go with it: uploaded and
 * shown on GitLab, linked (--html: the HTML report among the job's
 * artifacts) on GitHub. A run without a request (a push to a branch) says
 * so and succeeds, so one CI step serves both. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#include "pipelines/comment.h"
#include "validator/report.h"

/* GitHub keeps at most 65,536 characters a comment. */
#define COMMENT_MAX 60000

static int cmd_comment(mg_cli *cli, int argc, char **argv)
{
	const char *report_path = NULL, *key = NULL, *html = NULL;
	int dry = 0, c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		switch (c) {
		case 'r': report_path = optarg; break;
		case 'k': key = optarg; break;
		case 'n': dry = 1; break;
		case 'H': html = optarg; break;
		default:
			if ((rc = cli_common_opt(cli, c)) >= 0)
				return rc;
		}
	}
	if (argc - optind > 0)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (!report_path)
		return cli_usage_error(cli, "--report REPORT.json is required");
	mg_error err = {0};
	mg_report *r = NULL;
	mg_buf md = MG_BUF_INIT, body = MG_BUF_INIT, url = MG_BUF_INIT;
	mg_comment_place place;
	rc = 0;
	if (mg_report_read_json(&r, report_path, &err) || mg_ci_artifact_url(&url, &cli->ci, html, &err) ||
	    mg_report_write_markdown_linked(&md, r, COMMENT_MAX, url.len ? url.data : NULL, &err) ||
	    mg_comment_body(&body, mg_buf_cstr(&md), key, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (mg_comment_place_from_ci(&place, &cli->ci, &err)) {
		if (err.code == MG_ENOTFOUND && !dry) {
			cli_info(cli, "modelgate: %s: no comment\n", err.msg);
			goto done;
		}
		if (!dry) {
			rc = cli_fail(cli, &err);
			goto done;
		}
		cli_info(cli, "modelgate: %s\n", err.msg);
	}
	mg_comment_opts co = MG_COMMENT_OPTS_INIT;
	co.insecure = cli->insecure;
	co.ca_file = cli->ca_file;
	if (mg_comment_charts(&body, dry ? NULL : &place, r, url.len ? url.data : NULL, &co, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (dry) {
		fwrite(body.data, 1, body.len, stdout);
		goto done;
	}
	long long id = 0;
	int updated = 0;
	if (mg_comment_upsert(&place, mg_buf_cstr(&body), key, &co, &id, &updated, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (!cli->quiet)
		printf("%s comment %lld on %s%lld\n", updated ? "updated" : "posted", id,
		       place.forge == MG_FORGE_GITHUB ? "pull request #" : "merge request !", place.number);
done:
	mg_buf_free(&url);
	mg_buf_free(&md);
	mg_buf_free(&body);
	mg_report_free(r);
	return rc;
}

static const mg_opt comment_opts[] = {
	{"report", 'r', 0, "FILE", "The report.json to post (required)."},
	{"key", 'k', 0, "KEY", "Keep one comment per KEY (one per config in a matrix)."},
	{"dry-run", 'n', 0, NULL, "Print the comment instead of posting it."},
	{"html", 0, 'H', "PATH", "The HTML report this CI job keeps as an artifact: the comment links it."},
	CLI_OPT_END};

const mg_cmd cli_cmd_comment = {
	.name = "comment",
	.fn = cmd_comment,
	.summary = "post a report as a comment on the current pull/merge request",
	.description = "Posts the report's Markdown summary on the pull request (GitHub Actions) "
		       "or merge request (GitLab CI) of the current run, updating modelgate's "
		       "earlier comment in place. Without a request it says so and succeeds.",
	.synopsis = {"--report FILE [--html PATH] [--key KEY] [--dry-run] [OPTIONS]"},
	.opts = {comment_opts, cli_remote_opts},
	.examples = {{"modelgate comment --report report.json", "Comment on the current request."},
		     {"modelgate comment --report report.json --dry-run", "Show what would be posted."}},
};
