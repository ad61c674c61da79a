/* report_format: the one table of report formats, by name, that `gate`
 * (its --junit, --html, ... files and the terminal) and `report --format`
 * both render through. */
#include "report.h"

#include <string.h>

static const struct {
	const char *name;
	mg_report_format fmt;
} formats[] = {
	{"table", MG_REPORT_TABLE},
	{"json", MG_REPORT_JSON},
	{"junit", MG_REPORT_JUNIT},
	{"markdown", MG_REPORT_MARKDOWN},
	{"annotations", MG_REPORT_ANNOTATIONS},
	{"github-outputs", MG_REPORT_GITHUB_OUTPUTS},
	{"openmetrics", MG_REPORT_OPENMETRICS},
	{"html", MG_REPORT_HTML},
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

int mg_report_format_parse(mg_report_format *out, const char *name, mg_error *err)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (!strcmp(formats[i].name, name)) {
			*out = formats[i].fmt;
			return 0;
		}
	return mg_error_set(err, MG_EINVAL, "'%s' is not a format: " MG_REPORT_FORMAT_NAMES, name);
}

const char *mg_report_format_name(mg_report_format f)
{
	for (size_t i = 0; i < NFORMATS; i++)
		if (formats[i].fmt == f)
			return formats[i].name;
	return "unknown";
}

int mg_report_render(mg_buf *out, const mg_report *r, mg_report_format fmt,
		     const mg_report_render_opts *opts, mg_error *err)
{
	const mg_report_render_opts def = MG_REPORT_RENDER_OPTS_INIT;
	const mg_report_render_opts *o = opts ? opts : &def;
	switch (fmt) {
	case MG_REPORT_TABLE:
		return mg_report_write_table(out, r, o->color, err);
	case MG_REPORT_JSON:
		return mg_report_write_json(out, r, err);
	case MG_REPORT_JUNIT:
		return mg_report_write_junit(out, r, err);
	case MG_REPORT_MARKDOWN:
		return mg_report_write_markdown_linked(out, r, o->max_bytes, o->html_url, err);
	case MG_REPORT_ANNOTATIONS:
		return mg_report_write_annotations(out, r, o->max_annotations, err);
	case MG_REPORT_GITHUB_OUTPUTS:
		return mg_report_write_github_outputs(out, r, err);
	case MG_REPORT_OPENMETRICS:
		return mg_report_write_openmetrics(out, r, err);
	case MG_REPORT_HTML:
		return mg_report_write_html(out, r, err);
	}
	return mg_error_set(err, MG_EINVAL, "unknown report format %d", (int)fmt);
}
