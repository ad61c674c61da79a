/* modelgate report REPORT.json: converts a saved report.json into another
 * format (terminal table, JSON, JUnit XML, GitHub Markdown, annotations or
 * outputs, OpenMetrics, HTML), to stdout or atomically into a file. The exit
 * code says whether the conversion worked, not whether the gates passed;
 * --exit-status makes it the report's own exit code (0 pass, 1 fail,
 * 3 error) once the conversion has worked. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "validator/report.h"

static int parse_size(const char *s, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > MG_BUF_MAX)
		return -1;
	*out = (size_t)v;
	return 0;
}

static int cmd_report(mg_cli *cli, int argc, char **argv)
{
	const char *output = NULL, *fmt_name = "table";
	mg_report_format fmt = MG_REPORT_TABLE;
	mg_report_render_opts ro = MG_REPORT_RENDER_OPTS_INIT;
	const char *html = NULL; /* the HTML report the CI job keeps: linked */
	int exit_status = 0, c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		switch (c) {
		case 'f':
			fmt_name = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'H':
			html = optarg;
			break;
		case 'x':
			exit_status = 1;
			break;
		case 'm':
			if (parse_size(optarg, &ro.max_bytes))
				return cli_usage_error(cli, "'%s' is not a byte count", optarg);
			break;
		case 'a':
			if (parse_size(optarg, &ro.max_annotations))
				return cli_usage_error(cli, "'%s' is not a count", optarg);
			break;
		default:
			if ((rc = cli_common_opt(cli, c)) >= 0)
				return rc;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "expected one report file");
	mg_error err = {0};
	if (mg_report_format_parse(&fmt, fmt_name, &err))
		return cli_usage_error(cli, "%s", err.msg);
	if (output && !*output)
		return cli_usage_error(cli, "the output file name is empty");
	ro.color = !output && cli->color;

	mg_report *r = NULL;
	mg_buf out = MG_BUF_INIT, url = MG_BUF_INIT;
	rc = 0;
	if (mg_ci_artifact_url(&url, &cli->ci, html, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	ro.html_url = url.len ? url.data : NULL;
	if (mg_report_read_json(&r, argv[optind], &err) ||
	    mg_report_render(&out, r, fmt, &ro, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (output) {
		if (mg_file_write_atomic(output, mg_buf_cstr(&out), out.len, &err)) {
			rc = cli_fail(cli, &err);
			goto done;
		}
		if (cli->verbose)
			cli_info(cli, "wrote %s report to '%s'\n", fmt_name, output);
	} else if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
		fprintf(stderr, "modelgate: cannot write to standard output\n");
		rc = MG_EXIT_INFRA;
		goto done;
	}
	if (exit_status)
		rc = mg_report_exit_code(r);
done:
	mg_buf_free(&out);
	mg_buf_free(&url);
	mg_report_free(r);
	return rc;
}

static const mg_opt report_opts[] = {
	{"format", 'f', 0, "FORMAT",
	 "The format: table (the default), json, junit, markdown, annotations, github-outputs, "
	 "openmetrics or html."},
	{"output", 'o', 0, "FILE", "Write to FILE (atomically) instead of standard output."},
	{"exit-status", 0, 'x', NULL, "Exit with the report's own code (0 pass, 1 fail, 3 error)."},
	{"max-bytes", 0, 'm', "N", "Keep the Markdown under N bytes (default 1 MiB, GitHub's limit)."},
	{"max-annotations", 0, 'a', "N", "Print at most N annotations (default 10)."},
	{"html", 0, 'H', "PATH", "The HTML report this CI job keeps as an artifact: the Markdown links it."},
	CLI_OPT_END};

const mg_cmd cli_cmd_report = {
	.name = "report",
	.fn = cmd_report,
	.summary = "convert a saved report.json (table, junit, markdown, html, ...)",
	.description = "Converts a saved report.json into another format. The exit code says "
		       "whether the conversion worked, not whether the gates passed, unless "
		       "--exit-status.",
	.synopsis = {"REPORT.json [-f FORMAT] [-o FILE] [OPTIONS]"},
	.opts = {report_opts},
	.examples = {{"modelgate report report.json", "Show a report as a table."},
		     {"modelgate report report.json -f html -o report.html", "Write its HTML page."},
		     {"modelgate report report.json -f markdown >>\"$GITHUB_STEP_SUMMARY\"",
		      "Add its summary to a GitHub Actions run."}},
};
