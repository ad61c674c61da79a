/* What `modelgate rollout status` prints (rollout.h): one view of a
 * rollout in four forms, plain text for a terminal, JSON for scripts,
 * Markdown for a CI job summary or a merge-request comment, and an HTML
 * page in the look of the HTML report. Everything a device said (its
 * reasons, its labels) is outside input and goes out escaped. */
#include "rollout.h"
#include "validator/report.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const step_names[] = {"wait", "advance", "finish", "halt", "stopped"};

const char *mg_rollout_step_name(mg_rollout_step s)
{
	return step_names[s];
}

static json_t *count_json(const mg_rollout_count *c)
{
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "devices", (json_int_t)c->devices,
			 "healthy", (json_int_t)c->healthy, "failed", (json_int_t)c->failed, "updating",
			 (json_int_t)c->updating, "back", (json_int_t)c->back, "not_seen",
			 (json_int_t)c->not_seen);
}

/* Groups in the order they are shown: most failed devices first, then by
 * name. */
static int by_failed(const void *a, const void *b)
{
	const mg_rollout_group *x = a, *y = b;
	return x->failed != y->failed ? (x->failed < y->failed ? 1 : -1) : strcmp(x->what, y->what);
}

/* A sorted copy of groups g; NULL when out of memory (or n is 0). */
static mg_rollout_group *sorted(const mg_rollout_group *g, size_t n)
{
	mg_rollout_group *c = n ? malloc(n * sizeof(*c)) : NULL;
	if (c) {
		memcpy(c, g, n * sizeof(*c));
		qsort(c, n, sizeof(*c), by_failed);
	}
	return c;
}

static int view_json(mg_buf *out, const mg_rollout_plan *p, const char *plan_digest,
		     const mg_rollout_tally *t, mg_rollout_step step, const char *why, mg_error *err)
{
	json_t *stages = json_array(), *reasons = json_array(), *labels = json_array();
	for (size_t i = 0; i < p->nstages; i++) {
		json_t *c = count_json(&t->stage[i]);
		json_object_set_new(c, "percent", json_real(p->stages[i]));
		json_object_set_new(c, "out", json_boolean(p->state == MG_ROLLOUT_DONE ||
							   (p->state == MG_ROLLOUT_RUNNING && i <= p->stage)));
		json_array_append_new(stages, c);
	}
	for (size_t i = 0; i < t->nreasons; i++)
		json_array_append_new(reasons, json_pack("{s:s, s:s, s:I}", "reason", t->reasons[i].what,
							  "example", t->reasons[i].example, "failed",
							  (json_int_t)t->reasons[i].failed));
	for (size_t i = 0; i < t->nlabels; i++)
		json_array_append_new(labels, json_pack("{s:s, s:I, s:I}", "label", t->labels[i].what,
							 "devices", (json_int_t)t->labels[i].devices,
							 "failed", (json_int_t)t->labels[i].failed));
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:o, s:s, s:I, s:o, s:o, s:I, s:I, s:I, s:o, s:o, "
			      "s:{s:s, s:s}}", "rollout", p->id, "fleet", p->fleet, "plan", plan_digest,
			      "target", p->target, "previous",
			      p->previous[0] ? json_string(p->previous) : json_null(), "state",
			      mg_rollout_state_name(p->state), "stage", (json_int_t)p->stage + 1, "reason",
			      p->reason[0] ? json_string(p->reason) : json_null(), "stages", stages,
			      "targeted", (json_int_t)t->targeted, "healthy", (json_int_t)t->healthy,
			      "failed", (json_int_t)t->failed, "failures_by_reason", reasons,
			      "failures_by_label", labels, "next", "step", step_names[step], "why", why);
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	int rc = s ? mg_buf_printf(out, err, "%s\n", s) : mg_error_set(err, MG_ENOMEM, "out of memory");
	free(s);
	return rc;
}

/* The three table forms differ in how a row is written; the rest is the
 * same walk over the tally. */
typedef struct view {
	mg_buf *out;
	mg_error *err;
	int rc;
	mg_rollout_format f;
} view;

static void put(view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(view *v, const char *fmt, ...)
{
	if (v->rc)
		return;
	va_list ap;
	va_start(ap, fmt);
	char line[2048];
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	v->rc = mg_buf_puts(v->out, line, v->err);
}

/* Outside text, escaped for the format. */
static void text(view *v, const char *s)
{
	if (v->rc)
		return;
	if (v->f == MG_ROLLOUT_MARKDOWN)
		v->rc = mg_report_markdown_text(v->out, s, v->err);
	else if (v->f == MG_ROLLOUT_HTML)
		v->rc = mg_report_html_text(v->out, s, v->err);
	else {
		char clean[2048];
		mg_escape_controls(clean, sizeof(clean), s);
		v->rc = mg_buf_puts(v->out, clean, v->err);
	}
}

static void heading(view *v, const char *s)
{
	put(v, v->f == MG_ROLLOUT_HTML ? "<h2>%s</h2>\n" : v->f == MG_ROLLOUT_MARKDOWN ? "\n### %s\n\n"
											: "\n%s\n", s);
}

/* A row of cells: the first is outside text (escaped), the rest ours. */
static void row(view *v, int head, const char *first, const char *const *cells, size_t n)
{
	const char *td = head ? "th" : "td";
	if (v->f == MG_ROLLOUT_HTML)
		put(v, "<tr><%s>", td);
	else if (v->f == MG_ROLLOUT_MARKDOWN)
		put(v, "| ");
	text(v, first);
	for (size_t i = 0; i < n; i++) {
		if (v->f == MG_ROLLOUT_HTML)
			put(v, "</%s><%s>%s", td, td, cells[i]);
		else if (v->f == MG_ROLLOUT_MARKDOWN)
			put(v, " | %s", cells[i]);
		else
			put(v, "%*s%9s", i ? 0 : (int)(28 > strlen(first) ? 28 - strlen(first) : 1), "",
			    cells[i]);
	}
	put(v, v->f == MG_ROLLOUT_HTML ? "</%s></tr>\n" : v->f == MG_ROLLOUT_MARKDOWN ? " |\n" : "\n",
	    td);
	if (head && v->f == MG_ROLLOUT_MARKDOWN) {
		put(v, "|---");
		for (size_t i = 0; i < n; i++)
			put(v, "|--:");
		put(v, "|\n");
	}
}

static void table(view *v, int open)
{
	if (v->f == MG_ROLLOUT_HTML)
		put(v, open ? "<table>\n" : "</table>\n");
}

/* A table shows the first MAX_ROWS groups (the most failed devices); JSON
 * has them all. */
#define MAX_ROWS 20

static void more(view *v, size_t n, const char *what)
{
	if (n > MAX_ROWS)
		put(v, v->f == MG_ROLLOUT_HTML ? "<p class=\"muted small\">and %zu more %s (--json lists "
		    "them all)</p>\n" : "and %zu more %s (--json lists them all)\n", n - MAX_ROWS, what);
}

static int view_table(mg_buf *out, mg_rollout_format f, const mg_rollout_plan *p,
		      const char *plan_digest, const mg_rollout_tally *t, mg_rollout_step step,
		      const char *why, mg_error *err)
{
	view v = {out, err, 0, f};
	char title[256];
	snprintf(title, sizeof(title), "rollout %s of fleet %s", p->id, p->fleet);
	if (f == MG_ROLLOUT_HTML) {
		v.rc = mg_report_html_open(out, title, err);
		put(&v, "<h1>modelgate %s<span class=\"verdict %s\">%s</span></h1>\n<p class=\"muted\">", title,
		    p->state == MG_ROLLOUT_HALTED || p->state == MG_ROLLOUT_ABORTED ? "fail" : "pass",
		    mg_rollout_state_name(p->state));
	} else {
		put(&v, f == MG_ROLLOUT_MARKDOWN ? "## modelgate %s: %s\n\n" : "%s: %s\n", title,
		    mg_rollout_state_name(p->state));
	}
	put(&v, "stage %zu of %zu (%g%%), target %s, previous %s, plan %s%s", p->stage + 1, p->nstages,
	    p->stages[p->stage], p->target, p->previous[0] ? p->previous : "none", plan_digest,
	    f == MG_ROLLOUT_HTML ? "</p>\n" : "\n");
	if (p->reason[0]) {
		put(&v, f == MG_ROLLOUT_HTML ? "<p>" : f == MG_ROLLOUT_MARKDOWN ? "\n**" : "");
		put(&v, "%s: ", p->state == MG_ROLLOUT_HALTED ? "halted" : "aborted");
		text(&v, p->reason);
		put(&v, f == MG_ROLLOUT_HTML ? "</p>\n" : f == MG_ROLLOUT_MARKDOWN ? "**\n" : "\n");
	}

	heading(&v, "Stages");
	table(&v, 1);
	/* devices back on the previous release only once there is a way back */
	int stopped = p->state == MG_ROLLOUT_HALTED || p->state == MG_ROLLOUT_ABORTED;
	static const char *const head[] = {"devices", "healthy", "failed", "updating", "not seen",
					   "back"};
	size_t ncols = stopped ? 6 : 5;
	row(&v, 1, "stage", head, ncols);
	for (size_t i = 0; i < p->nstages; i++) {
		const mg_rollout_count *c = &t->stage[i];
		char name[64], n[6][32];
		snprintf(name, sizeof(name), "%zu (%g%%)%s", i + 1, p->stages[i],
			 p->state == MG_ROLLOUT_RUNNING && i == p->stage ? " <- now" : "");
		size_t vals[6] = {c->devices, c->healthy, c->failed, c->updating, c->not_seen, c->back};
		const char *cells[6];
		for (size_t k = 0; k < ncols; k++) {
			snprintf(n[k], sizeof(n[k]), "%zu", vals[k]);
			cells[k] = n[k];
		}
		row(&v, 0, name, cells, ncols);
	}
	table(&v, 0);

	if (t->nreasons) {
		heading(&v, "Failures by reason");
		table(&v, 1);
		static const char *const rh[] = {"failed"};
		row(&v, 1, "reason", rh, 1);
		for (size_t i = 0; i < t->nreasons && i < MAX_ROWS; i++) {
			char n[32];
			snprintf(n, sizeof(n), "%zu", t->reasons[i].failed);
			const char *cells[] = {n};
			row(&v, 0, t->reasons[i].what, cells, 1);
		}
		table(&v, 0);
		more(&v, t->nreasons, "reasons");
		put(&v, f == MG_ROLLOUT_HTML ? "<p class=\"muted small\">for example " : "for example ");
		text(&v, t->reasons[0].example);
		put(&v, f == MG_ROLLOUT_HTML ? "</p>\n" : "\n");
		heading(&v, "Failures by label");
		table(&v, 1);
		static const char *const lh[] = {"failed", "of"};
		row(&v, 1, "label", lh, 2);
		size_t failing = 0; /* labels of failed devices: the first, sorted */
		while (failing < t->nlabels && t->labels[failing].failed)
			failing++;
		for (size_t i = 0; i < failing && i < MAX_ROWS; i++) {
			char a[32], b[32];
			snprintf(a, sizeof(a), "%zu", t->labels[i].failed);
			snprintf(b, sizeof(b), "%zu", t->labels[i].devices);
			const char *cells[] = {a, b};
			row(&v, 0, t->labels[i].what, cells, 2);
		}
		table(&v, 0);
		more(&v, failing, "labels");
	}
	heading(&v, "Next");
	put(&v, f == MG_ROLLOUT_HTML ? "<p><b>%s</b>: " : f == MG_ROLLOUT_MARKDOWN ? "**%s**: " : "%s: ",
	    step_names[step]);
	text(&v, why);
	put(&v, f == MG_ROLLOUT_HTML ? "</p>\n" : "\n");
	if (f == MG_ROLLOUT_HTML && !v.rc)
		v.rc = mg_report_html_close(out, err);
	return v.rc;
}

int mg_rollout_view(mg_buf *out, mg_rollout_format f, const mg_rollout_plan *p,
		    const char *plan_digest, const mg_rollout_tally *t, mg_rollout_step step,
		    const char *why, mg_error *err)
{
	mg_rollout_tally s = *t;
	s.reasons = sorted(t->reasons, t->nreasons);
	s.labels = sorted(t->labels, t->nlabels);
	int rc;
	if ((t->nreasons && !s.reasons) || (t->nlabels && !s.labels))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	else if (f == MG_ROLLOUT_JSON)
		rc = view_json(out, p, plan_digest, &s, step, why, err);
	else
		rc = view_table(out, f, p, plan_digest, &s, step, why, err);
	free(s.reasons);
	free(s.labels);
	return rc;
}
