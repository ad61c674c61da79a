/* The parts of the HTML report that show what changed against the
 * baseline: an accuracy gate's per-class table (the worst change first),
 * its confusion matrix beside the baseline's and the difference of the
 * two, and a fidelity gate's histogram of the absolute error with its
 * worst rows. Every chart carries its legend or colour scale and axis
 * titles, so that a screenshot can be checked for them. The charts also go
 * out alone, as SVG files (mg_report_charts), to a merge request note. */
#include "report_html.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- per-class table --------------------------------------------------------- */

static void pct_cell(hw *w, double v)
{
	if (isnan(v))
		rh_p(w, "<td class=\"num\">-</td>");
	else
		rh_p(w, "<td class=\"num\">%.1f%%</td>", v * 100);
}

/* a change in percentage points, coloured by its sign */
static void delta_cell(hw *w, double now, double base)
{
	double d = (now - base) * 100;
	if (isnan(d) || fabs(d) < 0.05)
		rh_p(w, "<td class=\"num muted\">%s</td>", isnan(d) ? "-" : "0");
	else
		rh_p(w, "<td class=\"num %s\">%+.1f pp</td>", d < 0 ? "worse" : "better", d);
}

void rh_class_table(hw *w, const mg_gate_result *g)
{
	rp_class_row *rows;
	size_t n;
	if (w->rc || (w->rc = rp_class_rows(&rows, &n, g, w->err)) || !n)
		return;
	int base = g->base_confusion != NULL;
	rh_p(w, "<h3>Per-class metrics</h3>\n<p class=\"muted small\">%s; changes in percentage points (pp) "
		"against the baseline on the same samples.</p>\n<div class=\"scroll\"><table class=\"classes\">\n"
		"<tr><th>Class</th><th class=\"num\">Precision</th><th class=\"num\">Recall</th>"
		"<th class=\"num\">F1</th><th class=\"num\">Support</th>",
		base ? "The largest drop in F1 first" : "The lowest F1 first");
	if (base)
		rh_p(w, "<th class=\"num\">&Delta; precision</th><th class=\"num\">&Delta; recall</th>"
			"<th class=\"num\">&Delta; F1</th>");
	rh_p(w, "</tr>\n");
	for (size_t i = 0; i < n; i++) {
		const rp_class_row *r = &rows[i];
		char label[64];
		rp_class_label(label, sizeof(label), g, r->cls);
		rh_p(w, "<tr><td>");
		rh_t(w, label);
		rh_p(w, "</td>");
		pct_cell(w, r->precision);
		pct_cell(w, r->recall);
		pct_cell(w, r->f1);
		rh_p(w, "<td class=\"num\">%" PRIu64 "</td>", r->support);
		if (base) {
			delta_cell(w, r->precision, r->base_precision);
			delta_cell(w, r->recall, r->base_recall);
			delta_cell(w, r->f1, r->base_f1);
		}
		rh_p(w, "</tr>\n");
	}
	rh_p(w, "</table></div>\n");
	free(rows);
}

/* ---- confusion matrices -------------------------------------------------------- */

#define CM_MAX_DRAWN 200

/* The colour of a cell: a heat map of the share of its row (white to dark
 * blue, square-root scale, so that a few errors show), or for a difference
 * red where the candidate is worse (more errors off the diagonal, fewer
 * right on it), green where better, by |change| / largest on the same
 * scale. *dark: the colour needs white text. */
static void cell_color(char out[8], double s, int diff, int worse, int *dark)
{
	int r, g, b;
	if (!diff) {
		r = (int)(247 + (8 - 247) * s), g = (int)(251 + (48 - 251) * s), b = (int)(255 + (107 - 255) * s);
	} else if (worse) {
		r = (int)(255 + (207 - 255) * s), g = (int)(255 + (34 - 255) * s), b = (int)(255 + (46 - 255) * s);
	} else {
		r = (int)(255 + (26 - 255) * s), g = (int)(255 + (127 - 255) * s), b = (int)(255 + (55 - 255) * s);
	}
	snprintf(out, 8, "#%02x%02x%02x", r, g, b);
	*dark = s > 0.6;
}

/* c as a heat map, or with base the difference c - base; captioned. */
static void matrix_svg(hw *w, const mg_gate_result *g, const mg_confusion *c, const mg_confusion *base,
		       const char *caption)
{
	size_t n = c->n;
	double cs = n <= 12 ? 44 : fmax(3, 520.0 / (double)n);
	double x0 = g->nclasses ? 140 : 78, y0 = 78, side = cs * (double)n; /* room for class names */
	double W = x0 + side + 150, H = y0 + side + 20;
	int counts = cs >= 26, labels = cs >= 12;
	int64_t maxd = 0;
	for (size_t i = 0; base && i < n * n; i++) {
		int64_t d = (int64_t)c->counts[i] - (int64_t)base->counts[i];
		maxd = d < 0 ? (-d > maxd ? -d : maxd) : (d > maxd ? d : maxd);
	}
	rh_p(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		SVG_FONT ">\n", W, H, W, H);
	rh_p(w, "<defs><linearGradient id=\"g\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
		"<stop offset=\"0\" stop-color=\"#f7fbff\"/><stop offset=\"1\" stop-color=\"#08306b\"/>"
		"</linearGradient></defs>\n");
	rh_p(w, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
	rh_p(w, "<text x=\"8\" y=\"18\" font-size=\"14\" font-weight=\"600\" fill=\"#1f2328\">");
	rh_t(w, caption);
	rh_p(w, "</text>\n<text x=\"%.1f\" y=\"40\" text-anchor=\"middle\" font-size=\"12\" fill=\"#424a53\">"
		"predicted class</text>\n", x0 + side / 2);
	rh_p(w, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" "
		"fill=\"#424a53\">true class</text>\n", y0 + side / 2);
	for (size_t tr = 0; tr < n; tr++) {
		uint64_t sum = 0;
		for (size_t k = 0; k < n; k++)
			sum += c->counts[tr * n + k];
		if (labels) {
			char label[64];
			rp_class_label(label, sizeof(label), g, tr);
			rh_p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"#57606a\">",
			     x0 - 6, y0 + ((double)tr + 0.5) * cs + 4);
			rh_t(w, label);
			rh_p(w, "</text>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" "
				"fill=\"#57606a\">", x0 + ((double)tr + 0.5) * cs, y0 - 8);
			rh_t(w, label);
			rh_p(w, "</text>\n");
		}
		for (size_t k = 0; k < n; k++) {
			uint64_t v = c->counts[tr * n + k];
			int64_t d = base ? (int64_t)v - (int64_t)base->counts[tr * n + k] : 0;
			double s = base ? (maxd ? sqrt((double)(d < 0 ? -d : d) / (double)maxd) : 0)
					: (sum ? sqrt((double)v / (double)sum) : 0);
			char fill[8];
			int dark;
			cell_color(fill, s, base != NULL, tr == k ? d < 0 : d > 0, &dark);
			double x = x0 + (double)k * cs, y = y0 + (double)tr * cs;
			rh_p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
				"stroke=\"#ffffff\" stroke-width=\"%s\"/>\n", x, y, cs, cs, fill, cs >= 8 ? "1" : "0");
			if (counts && (!base || d))
				rh_p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%.0f\" fill=\"%s\"%s>"
					"%s%" PRId64 "</text>\n", x + cs / 2, y + cs / 2 + 4, fmin(12, cs * 0.3),
				     dark ? "#ffffff" : (base || v) ? "#1f2328" : "#afb8c1",
				     tr == k ? " font-weight=\"600\"" : "", base && d > 0 ? "+" : "",
				     base ? d : (int64_t)v);
		}
	}
	rh_p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#afb8c1\"/>\n",
	     x0, y0, side, side);
	double gx = x0 + side + 24;
	if (base) { /* the legend of a difference: what each colour means */
		static const struct {
			const char *fill, *text;
		} keys[] = {{"#cf222e", "worse than"}, {"#1a7f37", "better than"}, {"#ffffff", "as"}};
		for (size_t k = 0; k < 3; k++) {
			double ky = y0 + (double)k * 40;
			rh_p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"%s\" stroke=\"#afb8c1\"/>\n"
				"<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#57606a\">%s</text>\n"
				"<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#57606a\">the baseline</text>\n",
			     gx, ky, keys[k].fill, gx + 20, ky + 11, keys[k].text, gx + 20, ky + 25);
		}
		rh_p(w, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#57606a\">largest: %" PRId64 "</text>\n",
		     gx, y0 + 130, maxd);
	} else { /* the colour scale */
		rh_p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\" fill=\"url(#g)\" stroke=\"#afb8c1\"/>\n",
		     gx, y0, side);
		static const double ticks[] = {0, 0.01, 0.1, 0.25, 0.5, 1};
		for (size_t k = 0; k < sizeof(ticks) / sizeof(ticks[0]); k++) {
			double ty = y0 + side - sqrt(ticks[k]) * side;
			rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#57606a\"/>\n"
				"<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#57606a\">%g%%</text>\n",
			     gx + 14, ty, gx + 18, ty, gx + 21, ty + 4, ticks[k] * 100);
		}
	}
	rh_p(w, "</svg>\n");
}

static void matrix_chart(hw *w, const mg_gate_result *g, const mg_confusion *c, const mg_confusion *base,
			 const char *caption, const char *alt)
{
	mg_buf svg = MG_BUF_INIT;
	hw sw = {&svg, w->err, 0};
	matrix_svg(&sw, g, c, base, caption);
	w->rc = w->rc ? w->rc : sw.rc;
	rh_chart(w, &svg, alt);
	mg_buf_free(&svg);
}

#define CHANGES_SHOWN 12

/* The cells that moved most, as a list beside the difference view. */
static void changes_table(hw *w, const mg_gate_result *g)
{
	rp_cell_change *ch;
	size_t n;
	if (w->rc || (w->rc = rp_confusion_changes(&ch, &n, g, w->err)))
		return;
	if (!n) {
		rh_p(w, "<p>No count changed.</p>\n");
		return;
	}
	rh_p(w, "<table class=\"changes\">\n<tr><th>True</th><th>Predicted</th><th class=\"num\">Baseline</th>"
		"<th class=\"num\">Candidate</th></tr>\n");
	for (size_t i = 0; i < n && i < CHANGES_SHOWN; i++) {
		char t[64], pr[64];
		rp_class_label(t, sizeof(t), g, ch[i].truth);
		rp_class_label(pr, sizeof(pr), g, ch[i].pred);
		int worse = ch[i].truth == ch[i].pred ? ch[i].cand < ch[i].base : ch[i].cand > ch[i].base;
		rh_p(w, "<tr><td>");
		rh_t(w, t);
		rh_p(w, "</td><td>");
		rh_t(w, pr);
		rh_p(w, "</td><td class=\"num\">%" PRId64 "</td><td class=\"num %s\">%" PRId64 "</td></tr>\n",
		     ch[i].base, worse ? "worse" : "better", ch[i].cand);
	}
	rh_p(w, "</table>\n");
	if (n > CHANGES_SHOWN)
		rh_p(w, "<p class=\"muted small\">%zu more cells changed.</p>\n", n - CHANGES_SHOWN);
	free(ch);
}

/* The baseline's matrix when it has the candidate's classes, else NULL. */
static const mg_confusion *comparable_base(const mg_gate_result *g)
{
	const mg_confusion *b = g->base_confusion;
	return b && g->confusion && b->n == g->confusion->n ? b : NULL;
}

/* 1 when the two matrices differ in some cell */
static int changed(const mg_confusion *c, const mg_confusion *b)
{
	return b && memcmp(c->counts, b->counts, c->n * c->n * sizeof(uint64_t)) != 0;
}

void rh_confusion_pair(hw *w, const mg_gate_result *g)
{
	const mg_confusion *c = g->confusion, *b = comparable_base(g);
	rh_p(w, "<h3>Confusion matrix</h3>\n");
	if (c->n > CM_MAX_DRAWN) {
		rh_p(w, "<p class=\"muted\">%zu classes: too many to draw; the counts are in report.json.</p>\n", c->n);
		return;
	}
	if (b)
		rh_p(w, "<div class=\"pair\"><div>");
	matrix_chart(w, g, c, NULL, "candidate", "confusion matrix of the candidate: rows are true classes, "
						 "columns predicted ones");
	if (b) {
		rh_p(w, "</div><div>");
		matrix_chart(w, g, b, NULL, "baseline", "confusion matrix of the baseline");
		rh_p(w, "</div></div>\n");
	}
	rh_p(w, "<p class=\"muted small\">Rows are the true classes, columns the predicted ones; the colour is the "
		"share of the row (recall, on a square-root scale), the number the count of samples.</p>\n");
	if (!b)
		return;
	if (!changed(c, b)) {
		rh_p(w, "<p>The candidate's confusion matrix equals the baseline's: no sample changed class.</p>\n");
		return;
	}
	rh_p(w, "<h3>Difference: candidate minus baseline</h3>\n<div class=\"pair\"><div>");
	matrix_chart(w, g, c, b, "candidate - baseline",
		     "difference of the confusion matrices: red where the candidate is worse, green where better");
	rh_p(w, "</div><div><p class=\"muted small\">Each cell is the candidate's count minus the baseline's; red "
		"marks more mistakes or fewer right answers, green the reverse (square-root scale of the largest "
		"change).</p>\n");
	changes_table(w, g);
	rh_p(w, "</div></div>\n");
}

/* ---- fidelity --------------------------------------------------------------------- */

#define FX0 84.0
#define FX1 980.0
#define FYT 40.0
#define FYB 230.0
#define FH 290.0

static void fidelity_svg(hw *w, const mg_fidelity_detail *f)
{
	uint64_t top = 0, total = 0;
	for (size_t b = 0; b < MG_FIDELITY_BINS; b++) {
		top = f->hist[b] > top ? f->hist[b] : top;
		total += f->hist[b];
	}
	/* counts on a log axis: the few large errors stay visible beside the many small */
	double decades = fmax(1, ceil(log10((double)top + 1)));
	rh_p(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"%.0f\" viewBox=\"0 0 1000 %.0f\" "
		SVG_FONT ">\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n", FH, FH);
	for (double d = 0; d <= decades; d++) {
		double y = FYB - d / decades * (FYB - FYT);
		rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>\n"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"#57606a\">%.0f</text>\n",
		     FX0, y, FX1, y, FX0 - 6, y + 4, pow(10, d));
	}
	rh_p(w, "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\" "
		"fill=\"#57606a\">output values (log scale)</text>\n", (FYT + FYB) / 2);
	double bw = (FX1 - FX0) / MG_FIDELITY_BINS;
	for (size_t b = 0; b < MG_FIDELITY_BINS; b++) {
		if (!f->hist[b])
			continue;
		double h = fmax(2, log10((double)f->hist[b] + 1) / decades * (FYB - FYT));
		rh_p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"" COLOR_CAND "\"/>\n",
		     FX0 + (double)b * bw + 0.5, FYB - h, bw - 1, h);
	}
	rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#57606a\"/>\n", FX0, FYB, FX1, FYB);
	for (int k = 0; k <= 4; k++) {
		double x = FX0 + k * (FX1 - FX0) / 4;
		char v[RP_NUM_SIZE];
		rp_num(v, f->hist_max * k / 4);
		rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#57606a\"/>\n"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#424a53\">%s</text>\n",
		     x, FYB, x, FYB + 5, x, FYB + 18, v);
	}
	rh_p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">"
		"|candidate - reference| per output value</text>\n", (FX0 + FX1) / 2, FH - 8);
	rh_p(w, "<rect x=\"%.1f\" y=\"10\" width=\"14\" height=\"14\" fill=\"" COLOR_CAND "\"/>\n"
		"<text x=\"%.1f\" y=\"22\" font-size=\"12\" fill=\"#1f2328\">absolute error: %" PRIu64
		" output values in %d bins</text>\n", FX0, FX0 + 20, total, MG_FIDELITY_BINS);
	rh_p(w, "</svg>\n");
}

void rh_fidelity(hw *w, const mg_gate_result *g)
{
	const mg_fidelity_detail *f = g->fidelity;
	mg_buf svg = MG_BUF_INIT;
	hw sw = {&svg, w->err, 0};
	fidelity_svg(&sw, f);
	w->rc = w->rc ? w->rc : sw.rc;
	rh_p(w, "<h3>Absolute error</h3>\n");
	rh_chart(w, &svg, "histogram of the absolute error of the candidate's outputs");
	mg_buf_free(&svg);
	if (!f->nworst) {
		rh_p(w, "<p class=\"muted\">Every output value equals the reference.</p>\n");
		return;
	}
	rh_p(w, "<h3>Worst rows</h3>\n<table class=\"worst\">\n<tr><th class=\"num\">Row</th>"
		"<th class=\"num\">Output index</th><th class=\"num\">Expected</th><th class=\"num\">Got</th>"
		"<th class=\"num\">|Error|</th></tr>\n");
	for (size_t i = 0; i < f->nworst; i++) {
		const mg_fidelity_row *r = &f->worst[i];
		char e[RP_NUM_SIZE], got[RP_NUM_SIZE], d[RP_NUM_SIZE];
		rp_num(e, r->expected);
		rp_num(got, r->got);
		rp_num(d, fabs(r->got - r->expected));
		rh_p(w, "<tr><td class=\"num\">%zu</td><td class=\"num\">%zu</td><td class=\"num\">%s</td>"
			"<td class=\"num\">%s</td><td class=\"num\">%s</td></tr>\n", r->row, r->index, e, got, d);
	}
	rh_p(w, "</table>\n<p class=\"muted small\">Rows are samples of the dataset (from 0), each at the output "
		"value where it differs most.</p>\n");
}

/* ---- the charts alone -------------------------------------------------------- */

static int add_chart(mg_report_chart **all, size_t *n, size_t gate, const char *what, const char *name,
		     const char *title, mg_buf *svg, mg_error *err)
{
	mg_report_chart *grown = realloc(*all, (*n + 1) * sizeof(**all));
	if (!grown)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	*all = grown;
	mg_report_chart *c = &grown[*n];
	memset(c, 0, sizeof(*c));
	mg_buf f = MG_BUF_INIT, t = MG_BUF_INIT;
	int rc = mg_buf_printf(&f, err, "gate-%zu-%s.svg", gate + 1, what);
	if (!rc)
		rc = mg_buf_printf(&t, err, "%s: %s", name ? name : "gate", title);
	c->file = mg_buf_detach(&f);
	c->title = mg_buf_detach(&t);
	c->svg = *svg;
	*svg = (mg_buf)MG_BUF_INIT;
	(*n)++;
	return rc;
}

int mg_report_charts(mg_report_chart **out, size_t *nout, const mg_report *r, mg_error *err)
{
	mg_report_chart *all = NULL;
	size_t n = 0;
	int rc = 0;
	for (size_t i = 0; !rc && i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[i];
		mg_buf a = MG_BUF_INIT, b = MG_BUF_INIT;
		if (g->latency && !(rc = rh_latency_svgs(&a, &b, g, err)) && a.len)
			rc = add_chart(&all, &n, i, "latency", g->name, "latency distribution", &a, err);
		mg_buf_reset(&a);
		const mg_confusion *c = g->confusion, *base = comparable_base(g);
		if (!rc && c && c->n <= CM_MAX_DRAWN) {
			hw w = {&a, err, 0};
			matrix_svg(&w, g, c, NULL, "candidate");
			rc = w.rc ? w.rc : add_chart(&all, &n, i, "confusion", g->name, "confusion matrix", &a, err);
			if (!rc && changed(c, base)) {
				hw d = {&b, err, 0};
				matrix_svg(&d, g, c, base, "candidate - baseline");
				rc = d.rc ? d.rc : add_chart(&all, &n, i, "confusion-change", g->name,
							     "confusion matrix, candidate minus baseline", &b, err);
			}
		}
		mg_buf_free(&a);
		mg_buf_free(&b);
	}
	if (rc) {
		mg_report_charts_free(all, n);
		return rc;
	}
	*out = all;
	*nout = n;
	return 0;
}

void mg_report_charts_free(mg_report_chart *c, size_t n)
{
	for (size_t i = 0; c && i < n; i++) {
		free(c[i].file);
		free(c[i].title);
		mg_buf_free(&c[i].svg);
	}
	free(c);
}
