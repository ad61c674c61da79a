/* The self-contained HTML report: one file, no network, no JavaScript. A
 * header with the verdict and the digests, the gate table with status
 * colours, and a card per gate with its figures and charts: for a latency
 * gate the distribution of the raw samples of baseline and candidate
 * (overlaid histograms, box plots of p5/p25/p50/p75/p95, an axis in ms and
 * a legend), for a classifier the confusion matrix as a heat map with
 * counts. The page sticks to HTML 4 elements (so that strict parsers such as
 * `xmllint --html` accept it); each chart is a standalone SVG document
 * embedded as a data: URI image. All text is escaped. */
#include "report_priv.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A buffer with a sticky error, so that building a page reads as a list. */
typedef struct hw {
	mg_buf *b;
	mg_error *err;
	int rc;
} hw;

__attribute__((format(printf, 2, 3)))
static void p(hw *w, const char *fmt, ...)
{
	if (w->rc)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (w->rc = mg_buf_grow(w->b, (size_t)n, w->err)))
		return;
	va_start(ap, fmt);
	vsnprintf(w->b->data + w->b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	w->b->len += (size_t)n;
}

/* escaped text */
static void t(hw *w, const char *s)
{
	if (!w->rc)
		w->rc = rp_escape(w->b, s, rp_map_xml_text, w->err);
}

static void tbuf(hw *w, mg_buf *b)
{
	t(w, mg_buf_cstr(b));
	mg_buf_reset(b);
}

#define COLOR_BASE "#4c78a8"
#define COLOR_CAND "#f58518"

static const char CSS[] =
	"body{margin:0;background:#f6f7f9;color:#1f2328;"
	"font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}"
	".wrap{max-width:1080px;margin:0 auto;padding:24px}"
	"h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:0 0 8px}"
	"h3{font-size:14px;margin:16px 0 6px;color:#424a53}"
	".card{background:#fff;border:1px solid #d0d7de;border-radius:8px;padding:16px 20px;margin:16px 0}"
	".muted{color:#57606a}.small{font-size:12px}"
	".verdict{display:inline-block;padding:3px 12px;border-radius:14px;color:#fff;font-size:14px;"
	"font-weight:600;vertical-align:middle;margin-left:10px}"
	".pill{display:inline-block;min-width:44px;text-align:center;padding:1px 8px;border-radius:10px;"
	"color:#fff;font-size:12px;font-weight:600}"
	".pass{background:#1a7f37}.fail{background:#cf222e}.error{background:#8250df}.skip{background:#6e7781}"
	".noisy{background:#bf8700}.inconclusive{background:#9a6700}.emulated{background:#57606a}"
	"tr.s-inconclusive td.bar{border-left:4px solid #9a6700}tr.s-inconclusive{background:#fff8c5}"
	"table{border-collapse:collapse;width:100%}"
	"th,td{text-align:left;padding:6px 10px;border-bottom:1px solid #eaeef2;vertical-align:top}"
	"th{font-size:12px;text-transform:uppercase;letter-spacing:.04em;color:#57606a}"
	"td.num,th.num{text-align:right;white-space:nowrap;font-variant-numeric:tabular-nums}"
	"tr.s-pass td.bar{border-left:4px solid #1a7f37}tr.s-fail td.bar{border-left:4px solid #cf222e}"
	"tr.s-error td.bar{border-left:4px solid #8250df}tr.s-skip td.bar{border-left:4px solid #afb8c1}"
	"tr.s-fail{background:#fff5f5}tr.s-error{background:#faf5ff}tr.s-skip td{color:#6e7781}"
	"table.meta td{border:0;padding:2px 12px 2px 0}table.meta td.k{color:#57606a;white-space:nowrap;width:1%}"
	"code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:#f6f8fa;"
	"padding:1px 4px;border-radius:4px;word-break:break-all}"
	"a{color:#0969da;text-decoration:none}"
	"img.chart{display:block;max-width:100%;height:auto;margin:4px 0}"
	".reason{margin:4px 0 8px}";

static const char *status_class(const mg_gate_result *g)
{
	return mg_gate_status_name(g->status);
}

/* ---- base64 data: URIs -------------------------------------------------------- */

static void data_uri(hw *w, const char *mime, const mg_buf *svg)
{
	static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *s = (const unsigned char *)mg_buf_cstr(svg);
	size_t n = svg->len;
	p(w, "data:%s;base64,", mime);
	if (w->rc || (w->rc = mg_buf_grow(w->b, (n + 2) / 3 * 4, w->err)))
		return;
	char *o = w->b->data + w->b->len;
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (i + 1 < n ? (uint32_t)s[i + 1] << 8 : 0) |
			     (i + 2 < n ? s[i + 2] : 0);
		*o++ = tab[v >> 18 & 63];
		*o++ = tab[v >> 12 & 63];
		*o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
		*o++ = i + 2 < n ? tab[v & 63] : '=';
	}
	*o = '\0';
	w->b->len = (size_t)(o - w->b->data);
}

static void chart(hw *w, const mg_buf *svg, const char *alt)
{
	p(w, "<img class=\"chart\" alt=\"");
	if (!w->rc)
		w->rc = rp_escape(w->b, alt, rp_map_xml_attr, w->err);
	p(w, "\" src=\"");
	data_uri(w, "image/svg+xml", svg);
	p(w, "\">\n");
}

/* ---- cost chart: a bar per model ----------------------------------------------- */

static void cost_chart(hw *w, const mg_gate_result *g)
{
	const mg_figure *f = NULL;
	for (size_t i = 0; i < g->nfigures; i++)
		if (!strcmp(g->figures[i].name, "instructions"))
			f = &g->figures[i];
	if (!f || !isfinite(f->value))
		return;
	const struct {
		const char *name, *color;
		double v;
	} bars[2] = {{"baseline", COLOR_BASE, f->baseline}, {"candidate", COLOR_CAND, f->value}};
	double max = isfinite(f->baseline) && f->baseline > f->value ? f->baseline : f->value;
	mg_buf svg = MG_BUF_INIT;
	hw sw = {&svg, w->err, 0};
	p(&sw, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"96\" "
	       "font-family=\"sans-serif\" font-size=\"12\">\n");
	for (int i = 0, y = 8; i < 2; i++) {
		if (!isfinite(bars[i].v))
			continue;
		double len = max > 0 ? 700.0 * bars[i].v / max : 0;
		p(&sw, "<text x=\"84\" y=\"%d\" text-anchor=\"end\">%s</text>\n", y + 19, bars[i].name);
		p(&sw, "<rect x=\"92\" y=\"%d\" width=\"%.1f\" height=\"28\" fill=\"%s\"/>\n", y, len, bars[i].color);
		p(&sw, "<text x=\"%.1f\" y=\"%d\">%.0f</text>\n", 98 + len, y + 19, bars[i].v);
		y += 40;
	}
	p(&sw, "</svg>\n");
	w->rc = w->rc ? w->rc : sw.rc;
	p(w, "<h3>Instructions per inference</h3>\n");
	chart(w, &svg, "instructions per inference of baseline and candidate");
	mg_buf_free(&svg);
	p(w, "<p class=\"muted small\">Counted by ");
	t(w, g->counter);
	p(w, ", one intra-op thread: a count, not a time, so the machine's load does not move it.</p>\n");
}

/* ---- latency chart ------------------------------------------------------------- */

/* 1, 2 or 5 times a power of ten, near span/n */
static double nice_step(double span, int n)
{
	double raw = span / n, mag = pow(10, floor(log10(raw))), f = raw / mag;
	return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

#define LW 1000.0 /* width of the latency chart */
#define LX0 84.0
#define LX1 980.0
#define LHT 46.0  /* top of the histogram */
#define LHB 226.0 /* its bottom */
#define LBOX 240.0
#define LAXIS 304.0
#define LH 346.0
#define NBINS 40

typedef struct series {
	const char *label, *color;
	double *sorted; /* ms */
	size_t n;
	double share[NBINS];
} series;

static double sx(double v, double lo, double hi)
{
	return LX0 + (v - lo) / (hi - lo) * (LX1 - LX0);
}

static void box(hw *w, const series *s, double y, double lo, double hi)
{
	double q[5] = {0.05, 0.25, 0.5, 0.75, 0.95}, x[5];
	for (int i = 0; i < 5; i++)
		x[i] = sx(fmin(rp_quantile_sorted(s->sorted, s->n, q[i]), hi), lo, hi);
	p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\" fill=\"#424a53\">%s</text>\n",
	  LX0 - 8, y + 13, s->label);
	p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
	  x[0], y + 9, x[4], y + 9, s->color);
	for (int i = 0; i < 5; i += 4)
		p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
		  x[i], y + 3, x[i], y + 15, s->color);
	p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"%s\" fill-opacity=\"0.35\" "
	     "stroke=\"%s\" stroke-width=\"1.5\"/>\n",
	  x[1], y, fmax(x[3] - x[1], 1), s->color, s->color);
	p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n",
	  x[2], y - 1, x[2], y + 19, s->color);
}

static void latency_svg(hw *w, series *ss, size_t ns)
{
	/* the x range: from the fastest sample to the 99.5th percentile of
	 * both, so that one stall does not squash the picture; slower samples
	 * go into the last bin, and the chart says how many */
	double lo = INFINITY, hi = -INFINITY;
	for (size_t k = 0; k < ns; k++) {
		lo = fmin(lo, ss[k].sorted[0]);
		hi = fmax(hi, rp_quantile_sorted(ss[k].sorted, ss[k].n, 0.995));
	}
	if (!(hi > lo))
		hi = lo + fmax(fabs(lo) * 0.01, 1e-3);
	double step = nice_step(hi - lo, 6);
	lo = floor(lo / step) * step;
	hi = ceil(hi / step) * step;
	size_t over = 0;
	double ymax = 0;
	for (size_t k = 0; k < ns; k++) {
		series *s = &ss[k];
		memset(s->share, 0, sizeof(s->share));
		for (size_t i = 0; i < s->n; i++) {
			double fb = (s->sorted[i] - lo) / (hi - lo) * NBINS;
			int b = fb < 0 ? 0 : fb >= NBINS ? NBINS - 1 : (int)fb;
			if (s->sorted[i] > hi)
				over++;
			s->share[b] += 1.0 / (double)s->n;
		}
		for (int b = 0; b < NBINS; b++)
			ymax = fmax(ymax, s->share[b]);
	}
	double ystep = nice_step(ymax * 100, 4) / 100;
	double ytop = ceil(ymax * 1.05 / ystep) * ystep;

	p(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
	     "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif\">\n",
	  LW, LH, LW, LH);
	p(w, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
	/* y grid and labels: share of each model's samples */
	for (double y = 0; y <= ytop + ystep / 2; y += ystep) {
		double py = LHB - y / ytop * (LHB - LHT);
		p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>\n", LX0, py, LX1, py);
		p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"#57606a\">%g%%</text>\n",
		  LX0 - 6, py + 4, round(y * 1000) / 10);
	}
	p(w, "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\" "
	     "fill=\"#57606a\">share of samples</text>\n", (LHT + LHB) / 2);
	/* bars: baseline first, the candidate over it */
	double bw = (LX1 - LX0) / NBINS;
	for (size_t k = 0; k < ns; k++)
		for (int b = 0; b < NBINS; b++) {
			double h = ss[k].share[b] / ytop * (LHB - LHT);
			if (h > 0)
				p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
				     "fill-opacity=\"0.55\"/>\n",
				  LX0 + b * bw + 0.5, LHB - h, bw - 1, h, ss[k].color);
		}
	/* medians across the histogram */
	for (size_t k = 0; k < ns; k++) {
		double x = sx(fmin(rp_quantile_sorted(ss[k].sorted, ss[k].n, 0.5), hi), lo, hi);
		p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" "
		     "stroke-dasharray=\"5 3\"/>\n", x, LHT - 4, x, LHB, ss[k].color);
	}
	for (size_t k = 0; k < ns; k++)
		box(w, &ss[k], LBOX + (double)k * 28, lo, hi);
	/* x axis in ms */
	p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#57606a\"/>\n", LX0, LAXIS, LX1, LAXIS);
	for (double x = lo; x <= hi + step / 2; x += step) {
		double px = sx(x, lo, hi);
		p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#57606a\"/>\n", px, LAXIS, px, LAXIS + 5);
		p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#424a53\">%.6g ms</text>\n",
		  px, LAXIS + 18, fabs(x) < step / 1e6 ? 0 : x);
	}
	p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">"
	     "latency per inference (ms)</text>\n", (LX0 + LX1) / 2, LH - 6);
	/* legend */
	double lx = LX0;
	for (size_t k = 0; k < ns; k++) {
		char med[RP_NUM_SIZE];
		rp_num(med, rp_quantile_sorted(ss[k].sorted, ss[k].n, 0.5));
		p(w, "<rect x=\"%.1f\" y=\"10\" width=\"14\" height=\"14\" fill=\"%s\" fill-opacity=\"0.7\"/>\n",
		  lx, ss[k].color);
		p(w, "<text x=\"%.1f\" y=\"22\" font-size=\"12\" fill=\"#1f2328\">%s: median %s ms, n = %zu</text>\n",
		  lx + 20, ss[k].label, med, ss[k].n);
		lx += 300;
	}
	if (over)
		p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"#57606a\">"
		     "%zu slower sample%s in the last bin</text>\n", LX1, LHT - 8, over, over == 1 ? "" : "s");
	p(w, "</svg>\n");
}

static void latency_chart(hw *w, const mg_gate_result *g)
{
	const mg_latency_detail *l = g->latency;
	series ss[2] = {{"baseline", COLOR_BASE, NULL, l->nbase, {0}},
			{"candidate", COLOR_CAND, NULL, l->ncand, {0}}};
	const double *raw[2] = {l->base_ns, l->cand_ns};
	size_t ns = 0;
	for (int k = 0; k < 2; k++) {
		if (ss[k].n == 0)
			continue;
		series s = ss[k];
		if (!(s.sorted = rp_sorted_copy(raw[k], s.n, &s.n))) {
			w->rc = mg_error_set(w->err, MG_ENOMEM, "out of memory");
			break;
		}
		for (size_t i = 0; i < s.n; i++)
			s.sorted[i] /= 1e6;
		if (s.n)
			ss[ns++] = s;
		else
			free(s.sorted);
	}
	if (!w->rc && ns) {
		mg_buf svg = MG_BUF_INIT;
		hw sw = {&svg, w->err, 0};
		latency_svg(&sw, ss, ns);
		w->rc = sw.rc;
		p(w, "<h3>Latency distribution</h3>\n");
		chart(w, &svg, "latency histogram and box plots of baseline and candidate");
		mg_buf_free(&svg);
	}
	for (size_t k = 0; k < ns; k++)
		free(ss[k].sorted);
}

/* ---- confusion matrix ------------------------------------------------------------ */

#define CM_MAX_DRAWN 200

/* The label of class k on an axis: its name (g's classes), else its index. */
static void class_label(hw *w, const mg_gate_result *g, size_t k)
{
	const char *name = mg_gate_class_name(g, k);
	if (name)
		t(w, name);
	else
		p(w, "%zu", k);
}

static void confusion_svg(hw *w, const mg_confusion *c, const mg_gate_result *g)
{
	size_t n = c->n;
	double cs = n <= 12 ? 44 : fmax(3, 520.0 / (double)n);
	double x0 = g->nclasses ? 140 : 78, y0 = 58, side = cs * (double)n;
	double W = x0 + side + 100, H = y0 + side + 20;
	int counts = cs >= 26, labels = cs >= 12;
	p(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
	     "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif\">\n",
	  W, H, W, H);
	p(w, "<defs><linearGradient id=\"g\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">"
	     "<stop offset=\"0\" stop-color=\"#f7fbff\"/><stop offset=\"1\" stop-color=\"#08306b\"/>"
	     "</linearGradient></defs>\n");
	p(w, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
	p(w, "<text x=\"%.1f\" y=\"18\" text-anchor=\"middle\" font-size=\"12\" fill=\"#424a53\">predicted class</text>\n",
	  x0 + side / 2);
	p(w, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" "
	     "fill=\"#424a53\">true class</text>\n", y0 + side / 2);
	for (size_t tr = 0; tr < n; tr++) {
		uint64_t sum = 0;
		for (size_t k = 0; k < n; k++)
			sum += c->counts[tr * n + k];
		if (labels) {
			p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"#57606a\">",
			  x0 - 6, y0 + ((double)tr + 0.5) * cs + 4);
			class_label(w, g, tr);
			p(w, "</text>\n<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">",
			  x0 + ((double)tr + 0.5) * cs, y0 - 8);
			class_label(w, g, tr);
			p(w, "</text>\n");
		}
		for (size_t k = 0; k < n; k++) {
			uint64_t v = c->counts[tr * n + k];
			/* white to dark blue by the share of the true class (recall per
			 * row), on a square-root scale so that a few errors show */
			double s = sum ? sqrt((double)v / (double)sum) : 0;
			int r = (int)(247 + (8 - 247) * s), gr = (int)(251 + (48 - 251) * s), b = (int)(255 + (107 - 255) * s);
			double x = x0 + (double)k * cs, y = y0 + (double)tr * cs;
			p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#%02x%02x%02x\" "
			     "stroke=\"#ffffff\" stroke-width=\"%s\"/>\n", x, y, cs, cs, r, gr, b, cs >= 8 ? "1" : "0");
			if (counts)
				p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"%.0f\" fill=\"%s\"%s>%llu</text>\n",
				  x + cs / 2, y + cs / 2 + 4, fmin(12, cs * 0.3),
				  s > 0.6 ? "#ffffff" : v ? "#1f2328" : "#afb8c1",
				  tr == k ? " font-weight=\"600\"" : "", (unsigned long long)v);
		}
	}
	p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"#afb8c1\"/>\n",
	  x0, y0, side, side);
	/* colour scale */
	double gx = x0 + side + 24;
	p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"14\" height=\"%.1f\" fill=\"url(#g)\" stroke=\"#afb8c1\"/>\n",
	  gx, y0, side);
	static const double ticks[] = {0, 0.01, 0.1, 0.25, 0.5, 1};
	for (size_t k = 0; k < sizeof(ticks) / sizeof(ticks[0]); k++) {
		double ty = y0 + side - sqrt(ticks[k]) * side;
		p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#57606a\"/>\n", gx + 14, ty,
		  gx + 18, ty);
		p(w, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"#57606a\">%g%%</text>\n", gx + 21,
		  ty + 4, ticks[k] * 100);
	}
	p(w, "</svg>\n");
}

static void confusion_chart(hw *w, const mg_confusion *c, const mg_gate_result *g)
{
	p(w, "<h3>Confusion matrix</h3>\n");
	if (c->n > CM_MAX_DRAWN) {
		p(w, "<p class=\"muted\">%zu classes: too many to draw; the counts are in report.json.</p>\n", c->n);
		return;
	}
	mg_buf svg = MG_BUF_INIT;
	hw sw = {&svg, w->err, 0};
	confusion_svg(&sw, c, g);
	w->rc = w->rc ? w->rc : sw.rc;
	chart(w, &svg, "confusion matrix: rows are true classes, columns predicted ones");
	mg_buf_free(&svg);
	p(w, "<p class=\"muted small\">Rows are the true classes, columns the predicted ones; the colour is the "
	     "share of the row (recall, on a square-root scale), the number the count of samples.</p>\n");
}

/* ---- the page ------------------------------------------------------------------ */

static void cell_num(hw *w, double v, const char *unit)
{
	char s[96];
	rp_num_unit(s, sizeof(s), v, unit);
	p(w, "<td class=\"num\">");
	t(w, s);
	p(w, "</td>");
}

static void meta_row(hw *w, const char *key, const char *value, const char *digest)
{
	if (!value && !digest)
		return;
	p(w, "<tr><td class=\"k\">%s</td><td>", key);
	t(w, value);
	if (digest) {
		p(w, "%s<code>", value ? " " : "");
		t(w, digest);
		p(w, "</code>");
	}
	p(w, "</td></tr>\n");
}

static void gate_table(hw *w, const mg_report *r)
{
	p(w, "<div class=\"card\"><h2>Gates</h2>\n<table>\n<tr><th>Gate</th><th>Kind</th><th>Status</th>"
	     "<th class=\"num\">Value</th><th class=\"num\">Limit</th><th class=\"num\">Baseline</th>"
	     "<th class=\"num\">&Delta;</th></tr>\n");
	for (size_t i = 0; i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[i];
		char d[160];
		rp_delta(d, sizeof(d), g);
		p(w, "<tr class=\"s-%s\"><td class=\"bar\"><a href=\"#gate-%zu\">", status_class(g), i + 1);
		t(w, g->name);
		p(w, "</a></td><td>");
		t(w, g->kind);
		if (g->target) {
			p(w, " <span class=\"muted\">on ");
			t(w, g->target);
			p(w, "</span>");
		}
		if (*rp_emulated_tag(g))
			p(w, " <span class=\"pill emulated\">emulated</span>");
		p(w, "</td><td><span class=\"pill %s\">%s</span>", status_class(g), mg_gate_status_name(g->status));
		if (g->latency && g->latency->noisy && g->status != MG_GATE_SKIP)
			p(w, " <span class=\"pill noisy\">%s</span>", rp_noisy_label(g));
		p(w, "</td>");
		cell_num(w, g->value, g->unit);
		char lim[128];
		rp_limit_text(lim, sizeof(lim), g);
		p(w, "<td class=\"num\">");
		t(w, lim);
		p(w, "</td>");
		cell_num(w, g->baseline, g->unit);
		p(w, "<td class=\"num\">");
		t(w, d);
		p(w, "</td></tr>\n");
	}
	p(w, "</table></div>\n");
}

static void gate_card(hw *w, const mg_gate_result *g, size_t i, mg_buf *tmp)
{
	p(w, "<div class=\"card\" id=\"gate-%zu\"><h2>", i + 1);
	t(w, g->name);
	p(w, " <span class=\"pill %s\">%s</span></h2>\n<div class=\"muted\">", status_class(g),
	  mg_gate_status_name(g->status));
	t(w, g->kind);
	if (g->target) {
		p(w, " on ");
		t(w, g->target);
		t(w, rp_emulated_tag(g));
	}
	if (isfinite(g->seconds) && g->seconds > 0)
		p(w, " &middot; %.2f s", g->seconds);
	p(w, "</div>\n");
	if (g->reason) {
		p(w, "<p class=\"reason\">");
		t(w, g->reason);
		p(w, "</p>\n");
	}
	if (g->nfigures) {
		p(w, "<table>\n<tr><th>Figure</th><th class=\"num\">Candidate</th><th class=\"num\">Baseline</th>"
		     "<th class=\"num\">&Delta;</th></tr>\n");
		for (size_t k = 0; k < g->nfigures; k++) {
			const mg_figure *f = &g->figures[k];
			mg_gate_result fake = {.value = f->value, .baseline = f->baseline, .unit = f->unit};
			char d[160];
			rp_delta(d, sizeof(d), &fake);
			char fname[300];
			p(w, "<tr><td>");
			t(w, rp_figure_name(fname, sizeof(fname), g, f));
			p(w, "</td>");
			cell_num(w, f->value, f->unit);
			cell_num(w, f->baseline, f->unit);
			p(w, "<td class=\"num\">");
			t(w, d);
			p(w, "</td></tr>\n");
		}
		p(w, "</table>\n");
	}
	if (g->latency) {
		latency_chart(w, g);
		if (!w->rc)
			w->rc = rp_latency_text(tmp, g, w->err);
		p(w, "<p>");
		tbuf(w, tmp);
		p(w, "</p>\n");
	}
	if (g->confusion)
		confusion_chart(w, g->confusion, g);
	if (g->counter)
		cost_chart(w, g);
	if (g->fingerprint) {
		if (!w->rc)
			w->rc = rp_fingerprint_text(tmp, g->fingerprint, w->err);
		p(w, "<p class=\"muted small\">Measured on ");
		tbuf(w, tmp);
		p(w, "</p>\n");
	}
	p(w, "</div>\n");
}

int mg_report_write_html(mg_buf *out, const mg_report *r, mg_error *err)
{
	hw w = {out, err, 0};
	mg_buf tmp = MG_BUF_INIT;
	rp_counts n;
	rp_count(r, &n);
	mg_gate_status st = mg_report_status(r);
	const char *verdict = st == MG_GATE_PASS ? "PASSED" : st == MG_GATE_FAIL ? "FAILED" : "ERROR";

	p(&w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>modelgate: ");
	t(&w, r->model ? r->model : "report");
	p(&w, " %s</title>\n<style>%s</style>\n</head>\n<body>\n<div class=\"wrap\">\n", verdict, CSS);
	p(&w, "<h1>modelgate report<span class=\"verdict %s\">%s</span></h1>\n", mg_gate_status_name(st), verdict);
	p(&w, "<div class=\"muted\">%zu passed &middot; %zu failed &middot; %zu error%s &middot; %zu skipped",
	  n.pass, n.fail, n.error, n.error == 1 ? "" : "s", n.skip);
	if (n.inconclusive)
		p(&w, " &middot; %zu inconclusive", n.inconclusive);
	if (isfinite(r->seconds))
		p(&w, " &middot; %.1f s", r->seconds);
	p(&w, "</div>\n<div class=\"card\"><table class=\"meta\">\n");
	meta_row(&w, "Model", r->model, r->model_digest);
	meta_row(&w, "Baseline", r->baseline, r->baseline_digest);
	meta_row(&w, "Dataset", r->dataset, r->dataset_digest);
	if (r->ninputs && !rp_inputs_text(&tmp, r, NULL))
		meta_row(&w, "Inputs", tmp.data, NULL);
	mg_buf_reset(&tmp);
	meta_row(&w, "Git commit", NULL, r->git_commit);
	meta_row(&w, "Config", r->config_path, NULL);
	meta_row(&w, "Created", r->created, NULL);
	meta_row(&w, "modelgate", r->tool_version, NULL);
	p(&w, "</table></div>\n");
	gate_table(&w, r);
	for (size_t i = 0; i < r->ngates; i++)
		gate_card(&w, &r->gates[i], i, &tmp);
	if (r->ntargets) {
		p(&w, "<div class=\"card\"><h2>Targets</h2>\n<table>\n<tr><th>Target</th><th>Spec</th><th>Where</th></tr>\n");
		for (size_t i = 0; i < r->ntargets; i++) {
			const mg_report_target *tg = &r->targets[i];
			p(&w, "<tr><td>");
			t(&w, tg->name);
			p(&w, "</td><td><code>");
			t(&w, tg->spec);
			p(&w, "</code></td><td>");
			if (tg->fingerprint && !w.rc)
				w.rc = rp_fingerprint_text(&tmp, tg->fingerprint, err);
			else if (!w.rc)
				w.rc = mg_buf_printf(&tmp, err, "unreachable: %s", tg->error ? tg->error : "unknown error");
			tbuf(&w, &tmp);
			p(&w, "</td></tr>\n");
		}
		p(&w, "</table></div>\n");
	}
	p(&w, "<p class=\"muted small\">Generated by modelgate ");
	t(&w, r->tool_version);
	p(&w, ".</p>\n</div>\n</body>\n</html>\n");
	mg_buf_free(&tmp);
	return w.rc;
}
