/* What changed against the baseline, said once for every report writer:
 * per-class precision, recall, F1 and support from the confusion matrices
 * (worst change first), the cells of the confusion matrix that moved most,
 * and a latency gate's verdict as one plain sentence in which every number
 * has its unit and names its statistic. The HTML page and the Markdown
 * summary differ in how they lay these out, not in what they say. */
#include "report_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rp_class_label(char *out, size_t outlen, const mg_gate_result *g, size_t i)
{
	const char *name = mg_gate_class_name(g, i);
	if (name)
		snprintf(out, outlen, "%s", name);
	else
		snprintf(out, outlen, "%zu", i);
}

static void class_stats(const mg_confusion *c, size_t k, double *precision, double *recall, double *f1,
			uint64_t *support)
{
	uint64_t tp = c->counts[k * c->n + k], actual = 0, predicted = 0;
	for (size_t i = 0; i < c->n; i++) {
		actual += c->counts[k * c->n + i];
		predicted += c->counts[i * c->n + k];
	}
	*precision = predicted ? (double)tp / (double)predicted : NAN;
	*recall = actual ? (double)tp / (double)actual : NAN;
	*f1 = !actual ? NAN : (isnan(*precision) || *precision + *recall == 0)
				  ? 0
				  : 2 * *precision * *recall / (*precision + *recall);
	*support = actual;
}

/* The sort key: the change in F1 (or F1 itself without a baseline), a
 * class without one last. */
static double class_key(const rp_class_row *r)
{
	double k = isnan(r->base_f1) ? r->f1 : r->f1 - r->base_f1;
	return isnan(k) ? INFINITY : k;
}

static int cmp_class(const void *a, const void *b)
{
	const rp_class_row *x = a, *y = b;
	double kx = class_key(x), ky = class_key(y);
	if (kx != ky)
		return kx < ky ? -1 : 1;
	if (x->support != y->support) /* of equal changes, the class with more samples first */
		return x->support > y->support ? -1 : 1;
	return (x->cls > y->cls) - (x->cls < y->cls);
}

int rp_class_rows(rp_class_row **out, size_t *nout, const mg_gate_result *g, mg_error *err)
{
	const mg_confusion *c = g->confusion, *b = g->base_confusion;
	*out = NULL;
	*nout = 0;
	if (!c || !c->n)
		return 0;
	if (b && b->n != c->n)
		b = NULL;
	rp_class_row *rows = calloc(c->n, sizeof(*rows));
	if (!rows)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t k = 0; k < c->n; k++) {
		rp_class_row *r = &rows[k];
		uint64_t base_support;
		r->cls = k;
		class_stats(c, k, &r->precision, &r->recall, &r->f1, &r->support);
		r->base_precision = r->base_recall = r->base_f1 = NAN;
		if (b)
			class_stats(b, k, &r->base_precision, &r->base_recall, &r->base_f1, &base_support);
	}
	qsort(rows, c->n, sizeof(*rows), cmp_class);
	*out = rows;
	*nout = c->n;
	return 0;
}

static int cmp_change(const void *a, const void *b)
{
	const rp_cell_change *x = a, *y = b;
	int64_t dx = x->cand - x->base, dy = y->cand - y->base;
	uint64_t ax = (uint64_t)(dx < 0 ? -dx : dx), ay = (uint64_t)(dy < 0 ? -dy : dy);
	if (ax != ay)
		return ax > ay ? -1 : 1;
	if (x->truth != y->truth)
		return x->truth < y->truth ? -1 : 1;
	return (x->pred > y->pred) - (x->pred < y->pred);
}

int rp_confusion_changes(rp_cell_change **out, size_t *nout, const mg_gate_result *g, mg_error *err)
{
	const mg_confusion *c = g->confusion, *b = g->base_confusion;
	*out = NULL;
	*nout = 0;
	if (!c || !b || b->n != c->n)
		return 0;
	size_t n = 0, cells = c->n * c->n;
	for (size_t i = 0; i < cells; i++)
		n += c->counts[i] != b->counts[i];
	if (!n)
		return 0;
	rp_cell_change *ch = calloc(n, sizeof(*ch));
	if (!ch)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0, k = 0; i < cells; i++)
		if (c->counts[i] != b->counts[i])
			ch[k++] = (rp_cell_change){i / c->n, i % c->n, (int64_t)b->counts[i], (int64_t)c->counts[i]};
	qsort(ch, n, sizeof(*ch), cmp_change);
	*out = ch;
	*nout = n;
	return 0;
}

/* "+2.1%" of a ratio */
static void pct(char out[RP_NUM_SIZE], double ratio)
{
	snprintf(out, RP_NUM_SIZE, "%+.3g%%", (ratio - 1) * 100);
}

int rp_latency_verdict(mg_buf *out, const mg_gate_result *g, mg_error *err)
{
	const mg_latency_detail *l = g->latency;
	size_t start = out->len;
	int rc = 0;
	if (l && l->too_few)
		return mg_buf_printf(out, err, "No verdict: %zu samples per side, fewer than the minimum of %zu.",
				     l->ncand, l->min_samples);
	/* one statistic throughout: the gate's (p95 of "p95_ms"), its value
	 * and the baseline's, the ratio of it over paired blocks and that
	 * ratio's interval */
	char stat[16];
	snprintf(stat, sizeof(stat), "%.*s", g->metric ? (int)strcspn(g->metric, "_") : 3,
		 g->metric ? g->metric : "p50");
	if (l && isfinite(l->ratio) && l->max_ratio > 0) {
		char cm[RP_NUM_SIZE], bm[RP_NUM_SIZE], r[RP_NUM_SIZE], lo[RP_NUM_SIZE], hi[RP_NUM_SIZE], lim[RP_NUM_SIZE];
		char values[4 * RP_NUM_SIZE] = "";
		rp_num(cm, g->value);
		rp_num(bm, g->baseline);
		if (isfinite(g->value) && isfinite(g->baseline))
			snprintf(values, sizeof(values), " %s %s ms vs %s ms for the baseline;", stat, cm, bm);
		pct(r, l->ratio);
		pct(lo, l->ratio_lo);
		pct(hi, l->ratio_hi);
		pct(lim, l->max_ratio);
		const char *head = l->ratio_lo > l->max_ratio    ? "Slowdown"
				   : l->ratio_hi <= l->max_ratio ? "No slowdown"
								 : "Undecided";
		const char *tail = l->ratio_lo > l->max_ratio    ? "beyond the %s allowed"
				   : l->ratio_hi <= l->max_ratio ? "within the %s allowed"
								 : "the interval straddles the %s allowed";
		rc = mg_buf_printf(out, err, "%s:%s block by block, the %s is %s against the baseline's", head,
				   values, stat, r);
		if (!rc && isfinite(l->ratio_lo))
			rc = mg_buf_printf(out, err, " (%.3g%% CI %s..%s over %zu paired blocks)",
					   isnan(l->confidence) ? 95 : l->confidence * 100, lo, hi, l->blocks);
		if (!rc)
			rc = mg_buf_puts(out, ", ", err);
		if (!rc)
			rc = mg_buf_printf(out, err, tail, lim);
		if (!rc)
			rc = mg_buf_puts(out, ".", err);
	}
	/* the absolute limit, on the same statistic */
	if (!rc && isfinite(g->value) && isfinite(g->limit) && g->metric) {
		char v[RP_NUM_SIZE], lim[RP_NUM_SIZE];
		rp_num(v, g->value);
		rp_num(lim, g->limit);
		rc = mg_buf_printf(out, err, "%s%s is %s ms, %s the %s ms limit.", out->len > start ? " " : "", stat,
				   v, g->value <= g->limit ? "within" : "over", lim);
	}
	return rc;
}
