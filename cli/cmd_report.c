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

typedef enum {
	FMT_TABLE,
	FMT_JSON,
	FMT_JUNIT,
	FMT_MARKDOWN,
	FMT_ANNOTATIONS,
	FMT_OUTPUTS,
	FMT_OPENMETRICS,
	FMT_HTML,
} report_format;

static const struct {
	const char *name;
	report_format fmt;
} formats[] = {
	{"table", FMT_TABLE},
	{"json", FMT_JSON},
	{"junit", FMT_JUNIT},
	{"markdown", FMT_MARKDOWN},
	{"annotations", FMT_ANNOTATIONS},
	{"github-outputs", FMT_OUTPUTS},
	{"openmetrics", FMT_OPENMETRICS},
	{"html", FMT_HTML},
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

/* GitHub keeps at most 1 MiB of summary per step, and shows about ten
 * annotations of each type. */
#define DEFAULT_MAX_BYTES ((size_t)1 << 20)
#define DEFAULT_MAX_ANNOTATIONS 10

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

static int render(mg_buf *out, const mg_report *r, report_format fmt, int color, size_t max_bytes,
		  size_t max_annotations, mg_error *err)
{
	switch (fmt) {
	case FMT_TABLE:
		return mg_report_write_table(out, r, color, err);
	case FMT_JSON:
		return mg_report_write_json(out, r, err);
	case FMT_JUNIT:
		return mg_report_write_junit(out, r, err);
	case FMT_MARKDOWN:
		return mg_report_write_markdown(out, r, max_bytes, err);
	case FMT_ANNOTATIONS:
		return mg_report_write_annotations(out, r, max_annotations, err);
	case FMT_OUTPUTS:
		return mg_report_write_github_outputs(out, r, err);
	case FMT_OPENMETRICS:
		return mg_report_write_openmetrics(out, r, err);
	case FMT_HTML:
		return mg_report_write_html(out, r, err);
	}
	return mg_error_set(err, MG_EINVAL, "unknown format");
}

int cmd_report(mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"exit-status", no_argument, NULL, 'x'},
		{"max-bytes", required_argument, NULL, 'm'},
		{"max-annotations", required_argument, NULL, 'a'},
		CLI_COMMON_OPTS,
	};
	const char *output = NULL, *fmt_name = "table";
	report_format fmt = FMT_TABLE;
	size_t max_bytes = DEFAULT_MAX_BYTES, max_annotations = DEFAULT_MAX_ANNOTATIONS;
	int exit_status = 0, c, rc;
	while ((c = getopt_long(argc, argv, "f:o:" CLI_COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			fmt_name = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'x':
			exit_status = 1;
			break;
		case 'm':
			if (parse_size(optarg, &max_bytes))
				return cli_usage_error(cli, "'%s' is not a byte count", optarg);
			break;
		case 'a':
			if (parse_size(optarg, &max_annotations))
				return cli_usage_error(cli, "'%s' is not a count", optarg);
			break;
		default:
			if ((rc = cli_common_opt(cli, c)) >= 0)
				return rc;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "expected one report file");
	size_t i = 0;
	while (i < NFORMATS && strcmp(formats[i].name, fmt_name))
		i++;
	if (i == NFORMATS)
		return cli_usage_error(cli, "'%s' is not a format: table, json, junit, markdown, annotations, "
					    "github-outputs, openmetrics or html", fmt_name);
	fmt = formats[i].fmt;
	if (output && !*output)
		return cli_usage_error(cli, "the output file name is empty");

	mg_error err = {0};
	mg_report *r = NULL;
	mg_buf out = MG_BUF_INIT;
	rc = 0;
	if (mg_report_read_json(&r, argv[optind], &err) ||
	    render(&out, r, fmt, !output && cli->color, max_bytes, max_annotations, &err)) {
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
	mg_report_free(r);
	return rc;
}
