/* OpenMetrics text (the exposition format, https://openmetrics.io) for
 * GitLab's `artifacts:reports:metrics`: whether each gate passed, its
 * headline value, limit and baseline, every figure, and latency quantiles of
 * the raw samples of candidate and baseline as a summary. Each family has
 * its # TYPE and # HELP lines once and its samples together; metric and
 * label names are fixed here, label values are escaped (\\, \", \n);
 * unmeasured (NAN) figures are left out; the text ends with "# EOF". */
#include "report_priv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *map_label(uint32_t cp, char tmp[16])
{
	(void)tmp;
	switch (cp) {
	case '\\':
		return "\\\\";
	case '"':
		return "\\\"";
	case '\n':
		return "\\n";
	}
	return NULL;
}

static int family(mg_buf *out, const char *name, const char *type, const char *unit,
		  const char *help, mg_error *err)
{
	int rc = mg_buf_printf(out, err, "# TYPE %s %s\n", name, type);
	if (!rc && unit)
		rc = mg_buf_printf(out, err, "# UNIT %s %s\n", name, unit);
	if (!rc)
		rc = mg_buf_printf(out, err, "# HELP %s %s\n", name, help);
	return rc;
}

/* labels: pairs of name and value, NULL-terminated; a NULL value leaves its
 * label out. */
static int sample(mg_buf *out, const char *name, const char *const *labels, double v, mg_error *err)
{
	char num[RP_NUM_SIZE];
	if (isnan(v))
		return 0;
	int rc = mg_buf_puts(out, name, err), first = 1;
	for (size_t i = 0; !rc && labels && labels[i]; i += 2) {
		if (!labels[i + 1])
			continue;
		rc = mg_buf_printf(out, err, "%s%s=\"", first ? "{" : ",", labels[i]);
		if (!rc)
			rc = rp_escape(out, labels[i + 1], map_label, err);
		if (!rc)
			rc = mg_buf_puts(out, "\"", err);
		first = 0;
	}
	if (!rc && !first)
		rc = mg_buf_puts(out, "}", err);
	rp_num_exact(num, v);
	if (!rc)
		rc = mg_buf_printf(out, err, " %s\n", num);
	return rc;
}

static int gate_samples(mg_buf *out, const mg_report *r, const char *name, int what, mg_error *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[i];
		const char *base[] = {"gate", g->name, "kind", g->kind, "target", g->target, NULL};
		const char *metric[] = {"gate", g->name, "metric", g->metric, "unit", g->unit, NULL};
		switch (what) {
		case 0:
			if (g->status != MG_GATE_SKIP)
				rc = sample(out, name, base, g->status == MG_GATE_PASS, err);
			break;
		case 1:
			rc = sample(out, name, metric, g->value, err);
			break;
		case 2:
			rc = sample(out, name, metric, g->limit, err);
			break;
		case 3:
			rc = sample(out, name, metric, g->baseline, err);
			break;
		case 4:
			rc = sample(out, name, base, g->seconds, err);
			break;
		case 5:
		case 6:
			for (size_t k = 0; !rc && k < g->nfigures; k++) {
				const mg_figure *f = &g->figures[k];
				const char *l[] = {"gate", g->name, "figure", f->name, "unit", f->unit, NULL};
				rc = sample(out, name, l, what == 5 ? f->value : f->baseline, err);
			}
			break;
		case 7:
			if (g->status != MG_GATE_SKIP)
				rc = sample(out, name, base, g->status == MG_GATE_INCONCLUSIVE, err);
			break;
		}
	}
	return rc;
}

static int latency_summary(mg_buf *out, const mg_gate_result *g, int baseline, mg_error *err)
{
	static const double qs[] = {0.5, 0.9, 0.95, 0.99};
	static const char *const qnames[] = {"0.5", "0.9", "0.95", "0.99"};
	const double *x = baseline ? g->latency->base_ns : g->latency->cand_ns;
	size_t n = baseline ? g->latency->nbase : g->latency->ncand;
	if (n == 0)
		return 0;
	double *s = rp_sorted_copy(x, n, &n);
	if (!s)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	if (n == 0) {
		free(s);
		return 0;
	}
	const char *model = baseline ? "baseline" : "candidate";
	int rc = 0;
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += s[i] / 1e9;
	for (size_t i = 0; !rc && i < sizeof(qs) / sizeof(qs[0]); i++) {
		const char *l[] = {"gate", g->name, "target", g->target, "model", model, "quantile", qnames[i], NULL};
		rc = sample(out, "modelgate_latency_seconds", l, rp_quantile_sorted(s, n, qs[i]) / 1e9, err);
	}
	const char *l[] = {"gate", g->name, "target", g->target, "model", model, NULL};
	if (!rc)
		rc = sample(out, "modelgate_latency_seconds_sum", l, sum, err);
	if (!rc)
		rc = sample(out, "modelgate_latency_seconds_count", l, (double)n, err);
	free(s);
	return rc;
}

static int latency_families(mg_buf *out, const mg_report *r, mg_error *err)
{
	int any = 0, rc = 0;
	for (size_t i = 0; i < r->ngates; i++)
		any |= r->gates[i].latency != NULL;
	if (!any)
		return 0;
	rc = family(out, "modelgate_latency_seconds", "summary", "seconds",
		    "per-inference latency quantiles of the raw samples", err);
	for (size_t i = 0; !rc && i < r->ngates; i++)
		if (r->gates[i].latency) {
			rc = latency_summary(out, &r->gates[i], 0, err);
			if (!rc)
				rc = latency_summary(out, &r->gates[i], 1, err);
		}
	static const struct {
		const char *name, *help;
	} fams[] = {
		{"modelgate_latency_ratio", "median latency of the candidate over the baseline's"},
		{"modelgate_latency_ratio_low", "lower end of the ratio's confidence interval"},
		{"modelgate_latency_ratio_high", "upper end of the ratio's confidence interval"},
		{"modelgate_latency_p_value", "Mann-Whitney U p-value that the candidate is slower"},
	};
	for (size_t f = 0; !rc && f < sizeof(fams) / sizeof(fams[0]); f++) {
		rc = family(out, fams[f].name, "gauge", NULL, fams[f].help, err);
		for (size_t i = 0; !rc && i < r->ngates; i++) {
			const mg_gate_result *g = &r->gates[i];
			const mg_latency_detail *d = g->latency;
			if (!d)
				continue;
			const char *l[] = {"gate", g->name, "target", g->target, NULL};
			double v = f == 0 ? d->ratio : f == 1 ? d->ratio_lo : f == 2 ? d->ratio_hi : d->p_value;
			rc = sample(out, fams[f].name, l, v, err);
		}
	}
	return rc;
}

int mg_report_write_openmetrics(mg_buf *out, const mg_report *r, mg_error *err)
{
	mg_gate_status st = mg_report_status(r);
	const char *info[] = {"tool_version", r->tool_version, "git_commit", r->git_commit,
			      "model", r->model, "model_digest", r->model_digest,
			      "baseline", r->baseline, "baseline_digest", r->baseline_digest,
			      "dataset_digest", r->dataset_digest, "status", mg_gate_status_name(st), NULL};
	int rc = family(out, "modelgate_report", "info", NULL, "the gate run: versions and digests", err);
	if (!rc)
		rc = sample(out, "modelgate_report_info", info, 1, err);
	if (!rc)
		rc = family(out, "modelgate_passed", "gauge", NULL, "1 when every gate passed, else 0", err);
	if (!rc)
		rc = sample(out, "modelgate_passed", NULL, st == MG_GATE_PASS, err);
	if (!rc)
		rc = family(out, "modelgate_run_seconds", "gauge", "seconds", "time the whole gate run took", err);
	if (!rc)
		rc = sample(out, "modelgate_run_seconds", NULL, r->seconds, err);

	static const struct {
		const char *name, *unit, *help;
	} fams[] = {
		{"modelgate_gate_passed", NULL, "1 when the gate passed, 0 when it failed or errored"},
		{"modelgate_gate_value", NULL, "the gate's headline figure for the candidate"},
		{"modelgate_gate_limit", NULL, "the limit the headline figure is held to"},
		{"modelgate_gate_baseline", NULL, "the headline figure for the baseline"},
		{"modelgate_gate_seconds", "seconds", "time spent evaluating the gate"},
		{"modelgate_gate_figure", NULL, "every figure the gate measured, for the candidate"},
		{"modelgate_gate_figure_baseline", NULL, "every figure the gate measured, for the baseline"},
		{"modelgate_gate_inconclusive", NULL,
		 "1 when the gate's measurement could not settle pass or fail (too noisy, too few samples)"},
	};
	for (int f = 0; !rc && f < (int)(sizeof(fams) / sizeof(fams[0])); f++) {
		rc = family(out, fams[f].name, "gauge", fams[f].unit, fams[f].help, err);
		if (!rc)
			rc = gate_samples(out, r, fams[f].name, f, err);
	}
	if (!rc)
		rc = latency_families(out, r, err);
	if (!rc)
		rc = mg_buf_puts(out, "# EOF\n", err);
	return rc;
}
