/* JUnit XML for GitLab's `artifacts:reports:junit` and the GitHub test
 * reporters: one <testsuite> per run, one <testcase> per gate with
 * classname "modelgate.<kind>[.<target>]", name and time; a failed gate has
 * <failure message="reason">, one that could not be evaluated <error>, a
 * skipped one <skipped/>. The figures go into the element text and
 * <system-out>. All text is escaped for XML 1.0, and characters XML 1.0
 * cannot carry at all are replaced with U+FFFD. */
#include "report_priv.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int attr(mg_buf *out, const char *name, const char *value, mg_error *err)
{
	int rc = mg_buf_printf(out, err, " %s=\"", name);
	if (!rc)
		rc = rp_escape(out, value ? value : "", rp_map_xml_attr, err);
	if (!rc)
		rc = mg_buf_puts(out, "\"", err);
	return rc;
}

static int text(mg_buf *out, const char *s, mg_error *err)
{
	return rp_escape(out, s, rp_map_xml_text, err);
}

static double secs(double s)
{
	return isfinite(s) && s > 0 ? s : 0;
}

static int property(mg_buf *out, const char *name, const char *value, mg_error *err)
{
	if (!value)
		return 0;
	int rc = mg_buf_puts(out, "      <property", err);
	if (!rc)
		rc = attr(out, "name", name, err);
	if (!rc)
		rc = attr(out, "value", value, err);
	if (!rc)
		rc = mg_buf_puts(out, "/>\n", err);
	return rc;
}

/* The gate's figures as text lines, for <failure> and <system-out>. */
static int details(mg_buf *t, const mg_gate_result *g, mg_error *err)
{
	int rc = rp_headline(t, g, err);
	if (!rc)
		rc = mg_buf_puts(t, "\n", err);
	for (size_t i = 0; !rc && i < g->nfigures; i++) {
		const mg_figure *f = &g->figures[i];
		char v[96], b[96];
		rp_num_unit(v, sizeof(v), f->value, f->unit);
		rp_num_unit_like(b, sizeof(b), f->baseline, f->unit, f->value);
		char fname[300];
		rc = mg_buf_printf(t, err, "%s: %s", rp_figure_name(fname, sizeof(fname), g, f), v);
		if (!rc && !isnan(f->baseline))
			rc = mg_buf_printf(t, err, " (baseline %s)", b);
		if (!rc)
			rc = mg_buf_puts(t, "\n", err);
	}
	if (!rc && g->latency) {
		rc = rp_latency_text(t, g, err);
		if (!rc)
			rc = mg_buf_puts(t, "\n", err);
	}
	if (!rc && g->fingerprint) {
		rc = mg_buf_puts(t, "measured on: ", err);
		if (!rc)
			rc = rp_fingerprint_text(t, g->fingerprint, err);
		if (!rc)
			rc = mg_buf_puts(t, "\n", err);
	}
	return rc;
}

static int testcase(mg_buf *out, const mg_gate_result *g, mg_error *err)
{
	mg_buf cls = MG_BUF_INIT, t = MG_BUF_INIT;
	int rc = mg_buf_printf(&cls, err, "modelgate.%s", g->kind ? g->kind : "gate");
	if (!rc && g->target)
		rc = mg_buf_printf(&cls, err, ".%s", g->target);
	if (!rc)
		rc = mg_buf_puts(out, "    <testcase", err);
	if (!rc)
		rc = attr(out, "classname", mg_buf_cstr(&cls), err);
	if (!rc)
		rc = attr(out, "name", g->name, err);
	if (!rc)
		rc = mg_buf_printf(out, err, " time=\"%.3f\">\n", secs(g->seconds));
	if (!rc && g->status != MG_GATE_SKIP)
		rc = details(&t, g, err);
	/* inconclusive: a failure when on_inconclusive fails the build, else
	 * skipped (neither passed nor failed); the status as a property */
	int inconclusive = g->status == MG_GATE_INCONCLUSIVE;
	int incl_fail = inconclusive && g->on_inconclusive == MG_INCONCLUSIVE_FAIL;
	if (!rc && inconclusive) {
		rc = mg_buf_puts(out, "      <properties>\n  ", err);
		if (!rc)
			rc = property(out, "modelgate.status", "inconclusive", err);
		if (!rc)
			rc = mg_buf_puts(out, "  ", err);
		if (!rc)
			rc = property(out, "modelgate.on_inconclusive",
				      mg_inconclusive_policy_name(g->on_inconclusive), err);
		if (!rc)
			rc = mg_buf_puts(out, "      </properties>\n", err);
	}

	const char *elem = g->status == MG_GATE_FAIL || incl_fail ? "failure"
			   : g->status == MG_GATE_ERROR		 ? "error"
								 : NULL;
	if (!rc && elem) {
		rc = mg_buf_printf(out, err, "      <%s", elem);
		if (!rc)
			rc = attr(out, "message", g->reason ? g->reason : mg_gate_status_name(g->status), err);
		if (!rc)
			rc = attr(out, "type", incl_fail ? "inconclusive" : g->kind, err);
		if (!rc)
			rc = mg_buf_puts(out, ">", err);
		if (!rc)
			rc = text(out, mg_buf_cstr(&t), err);
		if (!rc)
			rc = mg_buf_printf(out, err, "</%s>\n", elem);
	} else if (!rc && (g->status == MG_GATE_SKIP || inconclusive)) {
		rc = mg_buf_puts(out, "      <skipped", err);
		if (!rc && g->reason)
			rc = attr(out, "message", g->reason, err);
		if (!rc)
			rc = mg_buf_puts(out, "/>\n", err);
	}
	if (!rc && (g->status == MG_GATE_PASS || (inconclusive && !incl_fail))) {
		rc = mg_buf_puts(out, "      <system-out>", err);
		if (!rc && g->reason)
			rc = text(out, g->reason, err);
		if (!rc && g->reason)
			rc = text(out, "\n", err);
		if (!rc)
			rc = text(out, mg_buf_cstr(&t), err);
		if (!rc)
			rc = mg_buf_puts(out, "</system-out>\n", err);
	}
	if (!rc)
		rc = mg_buf_puts(out, "    </testcase>\n", err);
	mg_buf_free(&cls);
	mg_buf_free(&t);
	return rc;
}

int mg_report_write_junit(mg_buf *out, const mg_report *r, mg_error *err)
{
	rp_counts n;
	rp_count(r, &n);
	mg_buf name = MG_BUF_INIT;
	int rc = mg_buf_printf(&name, err, "modelgate gate %s", r->model ? r->model : "");
	char counts[160];
	snprintf(counts, sizeof(counts), " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" skipped=\"%zu\" time=\"%.3f\"",
		 r->ngates, n.fail + n.inconclusive_fail, n.error,
		 n.skip + n.inconclusive - n.inconclusive_fail, secs(r->seconds));
	if (!rc)
		rc = mg_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"modelgate\"", err);
	if (!rc)
		rc = mg_buf_printf(out, err, "%s>\n  <testsuite", counts);
	if (!rc)
		rc = attr(out, "name", mg_buf_cstr(&name), err);
	if (!rc)
		rc = mg_buf_puts(out, counts, err);
	if (!rc && r->created)
		rc = attr(out, "timestamp", r->created, err);
	if (!rc)
		rc = mg_buf_puts(out, ">\n    <properties>\n", err);
	if (!rc)
		rc = property(out, "status", mg_gate_status_name(mg_report_status(r)), err);
	if (!rc)
		rc = property(out, "model", r->model, err);
	if (!rc)
		rc = property(out, "model_digest", r->model_digest, err);
	if (!rc)
		rc = property(out, "baseline", r->baseline, err);
	if (!rc)
		rc = property(out, "baseline_digest", r->baseline_digest, err);
	if (!rc)
		rc = property(out, "dataset", r->dataset, err);
	if (!rc)
		rc = property(out, "dataset_digest", r->dataset_digest, err);
	if (!rc)
		rc = property(out, "git_commit", r->git_commit, err);
	if (!rc)
		rc = property(out, "tool_version", r->tool_version, err);
	if (!rc)
		rc = mg_buf_puts(out, "    </properties>\n", err);
	for (size_t i = 0; !rc && i < r->ngates; i++)
		rc = testcase(out, &r->gates[i], err);
	if (!rc)
		rc = mg_buf_puts(out, "  </testsuite>\n</testsuites>\n", err);
	mg_buf_free(&name);
	return rc;
}
