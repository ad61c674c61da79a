/* The self-contained HTML report: one file, no network, no JavaScript. A
 * header with the verdict and the digests, the gate table with status
 * colours, and a card per gate with its figures and charts: for a latency
 * gate its verdict in one sentence and the distribution of the raw samples
 * of baseline and candidate (overlaid histograms, box plots of
 * p5/p25/p50/p75/p95, an axis in ms and a legend; CDFs on a log axis as
 * well when far-out outliers squash the histogram), for a cost gate a bar
 * per model; what changed against the baseline (per-class table, confusion
 * matrices, fidelity error) is drawn by report_html_change.c. The page
 * sticks to HTML 4 elements (so that strict parsers such as `xmllint
 * --html` accept it); each chart is a standalone SVG document embedded as a
 * data: URI image. All text is escaped. */
#include "report_html.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rh_p(hw *w, const char *fmt, ...)
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

void rh_t(hw *w, const char *s)
{
	if (!w->rc)
		w->rc = rp_escape(w->b, s, rp_map_xml_text, w->err);
}

static void tbuf(hw *w, mg_buf *b)
{
	rh_t(w, mg_buf_cstr(b));
	mg_buf_reset(b);
}


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
	".reason{margin:4px 0 8px}"
	".pair{display:flex;gap:12px}.pair>div{flex:1;min-width:0}"
	".scroll{max-height:420px;overflow-y:auto}"
	"td.worse{color:#cf222e;font-weight:600}td.better{color:#1a7f37}"
	"p.sentence{font-size:15px;font-weight:600;margin:8px 0}";

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
	rh_p(w, "data:%s;base64,", mime);
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

void rh_chart(hw *w, const mg_buf *svg, const char *alt)
{
	rh_p(w, "<img class=\"chart\" alt=\"");
	if (!w->rc)
		w->rc = rp_escape(w->b, alt, rp_map_xml_attr, w->err);
	rh_p(w, "\" src=\"");
	data_uri(w, "image/svg+xml", svg);
	rh_p(w, "\">\n");
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
	rh_p(&sw, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1000\" height=\"96\" "
	       "font-family=\"sans-serif\" font-size=\"12\">\n");
	for (int i = 0, y = 8; i < 2; i++) {
		if (!isfinite(bars[i].v))
			continue;
		double len = max > 0 ? 700.0 * bars[i].v / max : 0;
		rh_p(&sw, "<text x=\"84\" y=\"%d\" text-anchor=\"end\">%s</text>\n", y + 19, bars[i].name);
		rh_p(&sw, "<rect x=\"92\" y=\"%d\" width=\"%.1f\" height=\"28\" fill=\"%s\"/>\n", y, len, bars[i].color);
		rh_p(&sw, "<text x=\"%.1f\" y=\"%d\">%.0f</text>\n", 98 + len, y + 19, bars[i].v);
		y += 40;
	}
	rh_p(&sw, "</svg>\n");
	w->rc = w->rc ? w->rc : sw.rc;
	rh_p(w, "<h3>Instructions per inference</h3>\n");
	rh_chart(w, &svg, "instructions per inference of baseline and candidate");
	mg_buf_free(&svg);
	rh_p(w, "<p class=\"muted small\">Counted by ");
	rh_t(w, g->counter);
	rh_p(w, ", one intra-op thread: a count, not a time, so the machine's load does not move it.</p>\n");
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
	rh_p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"12\" fill=\"#424a53\">%s</text>\n",
	  LX0 - 8, y + 13, s->label);
	rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
	  x[0], y + 9, x[4], y + 9, s->color);
	for (int i = 0; i < 5; i += 4)
		rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"1.5\"/>\n",
		  x[i], y + 3, x[i], y + 15, s->color);
	rh_p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"18\" fill=\"%s\" fill-opacity=\"0.35\" "
	     "stroke=\"%s\" stroke-width=\"1.5\"/>\n",
	  x[1], y, fmax(x[3] - x[1], 1), s->color, s->color);
	rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"3\"/>\n",
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

	rh_p(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
	     "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif\">\n",
	  LW, LH, LW, LH);
	rh_p(w, "<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n");
	/* y grid and labels: share of each model's samples */
	for (double y = 0; y <= ytop + ystep / 2; y += ystep) {
		double py = LHB - y / ytop * (LHB - LHT);
		rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>\n", LX0, py, LX1, py);
		rh_p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"#57606a\">%g%%</text>\n",
		  LX0 - 6, py + 4, round(y * 1000) / 10);
	}
	rh_p(w, "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\" "
	     "fill=\"#57606a\">share of samples</text>\n", (LHT + LHB) / 2);
	/* bars: baseline first, the candidate over it */
	double bw = (LX1 - LX0) / NBINS;
	for (size_t k = 0; k < ns; k++)
		for (int b = 0; b < NBINS; b++) {
			double h = ss[k].share[b] / ytop * (LHB - LHT);
			if (h > 0)
				rh_p(w, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" "
				     "fill-opacity=\"0.55\"/>\n",
				  LX0 + b * bw + 0.5, LHB - h, bw - 1, h, ss[k].color);
		}
	/* medians across the histogram */
	for (size_t k = 0; k < ns; k++) {
		double x = sx(fmin(rp_quantile_sorted(ss[k].sorted, ss[k].n, 0.5), hi), lo, hi);
		rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" "
		     "stroke-dasharray=\"5 3\"/>\n", x, LHT - 4, x, LHB, ss[k].color);
	}
	for (size_t k = 0; k < ns; k++)
		box(w, &ss[k], LBOX + (double)k * 28, lo, hi);
	/* x axis in ms */
	rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#57606a\"/>\n", LX0, LAXIS, LX1, LAXIS);
	for (double x = lo; x <= hi + step / 2; x += step) {
		double px = sx(x, lo, hi);
		rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#57606a\"/>\n", px, LAXIS, px, LAXIS + 5);
		rh_p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#424a53\">%.6g ms</text>\n",
		  px, LAXIS + 18, fabs(x) < step / 1e6 ? 0 : x);
	}
	rh_p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">"
	     "latency per inference (ms)</text>\n", (LX0 + LX1) / 2, LH - 6);
	/* legend */
	double lx = LX0;
	for (size_t k = 0; k < ns; k++) {
		char med[RP_NUM_SIZE];
		rp_num(med, rp_quantile_sorted(ss[k].sorted, ss[k].n, 0.5));
		rh_p(w, "<rect x=\"%.1f\" y=\"10\" width=\"14\" height=\"14\" fill=\"%s\" fill-opacity=\"0.7\"/>\n",
		  lx, ss[k].color);
		rh_p(w, "<text x=\"%.1f\" y=\"22\" font-size=\"12\" fill=\"#1f2328\">%s: median %s ms, n = %zu</text>\n",
		  lx + 20, ss[k].label, med, ss[k].n);
		lx += 300;
	}
	if (over)
		rh_p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"#57606a\">"
		     "%zu slower sample%s in the last bin</text>\n", LX1, LHT - 8, over, over == 1 ? "" : "s");
	rh_p(w, "</svg>\n");
}

/* Far-out outliers (Tukey: beyond p75 + 3 IQR) squash a histogram on a
 * linear axis: then the samples are also drawn as CDFs on a log axis. */
static int far_outliers(const series *s)
{
	double q1 = rp_quantile_sorted(s->sorted, s->n, 0.25), q3 = rp_quantile_sorted(s->sorted, s->n, 0.75);
	return s->sorted[s->n - 1] > q3 + 3 * (q3 - q1);
}

#define CH 300.0 /* height of the CDF chart */
#define CYT 40.0
#define CYB 250.0

static double lx(double v, double llo, double lhi)
{
	return LX0 + (log10(v) - llo) / (lhi - llo) * (LX1 - LX0);
}

static void cdf_svg(hw *w, const series *ss, size_t ns)
{
	double lo = INFINITY, hi = 0;
	for (size_t k = 0; k < ns; k++) {
		lo = fmin(lo, ss[k].sorted[0]);
		hi = fmax(hi, ss[k].sorted[ss[k].n - 1]);
	}
	lo = fmax(lo, 1e-6);
	double llo = floor(log10(lo) * 10) / 10, lhi = ceil(log10(fmax(hi, lo * 1.01)) * 10) / 10;
	rh_p(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" "
		SVG_FONT ">\n<rect width=\"100%%\" height=\"100%%\" fill=\"#ffffff\"/>\n", LW, CH, LW, CH);
	for (int k = 0; k <= 4; k++) {
		double y = CYB - k / 4.0 * (CYB - CYT);
		rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#eaeef2\"/>\n"
			"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" font-size=\"11\" fill=\"#57606a\">%d%%</text>\n",
		     LX0, y, LX1, y, LX0 - 6, y + 4, k * 25);
	}
	rh_p(w, "<text transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\" font-size=\"11\" "
		"fill=\"#57606a\">samples at most this slow</text>\n", (CYT + CYB) / 2);
	/* ticks at 1, 2 and 5 times the powers of ten in range (each multiple within one decade) */
	rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#57606a\"/>\n", LX0, CYB, LX1, CYB);
	for (double d = floor(llo); d <= lhi; d++)
		for (int m = 1; m <= 9; m++) {
			if (lhi - llo >= 1 && m != 1 && m != 2 && m != 5)
				continue; /* more than a decade: 1, 2 and 5 only */
			double v = m * pow(10, d), lv = log10(v);
			if (lv < llo || lv > lhi)
				continue;
			double x = lx(v, llo, lhi);
			rh_p(w, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#57606a\"/>\n"
				"<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#424a53\">"
				"%g ms</text>\n", x, CYB, x, CYB + 5, x, CYB + 18, v);
		}
	rh_p(w, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"11\" fill=\"#57606a\">"
		"latency per inference (ms, log scale), every sample</text>\n", (LX0 + LX1) / 2, CH - 8);
	for (size_t k = 0; k < ns; k++) {
		const series *s = &ss[k];
		rh_p(w, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", s->color);
		for (size_t i = 0; i < s->n; i++) {
			double x = lx(fmax(s->sorted[i], lo), llo, lhi);
			rh_p(w, "%.1f,%.1f %.1f,%.1f ", x, CYB - (double)i / (double)s->n * (CYB - CYT), x,
			     CYB - (double)(i + 1) / (double)s->n * (CYB - CYT));
		}
		rh_p(w, "\"/>\n<rect x=\"%.1f\" y=\"10\" width=\"14\" height=\"14\" fill=\"%s\"/>\n"
			"<text x=\"%.1f\" y=\"22\" font-size=\"12\" fill=\"#1f2328\">%s: slowest %.4g ms</text>\n",
		     LX0 + (double)k * 300, s->color, LX0 + (double)k * 300 + 20, s->label, s->sorted[s->n - 1]);
	}
	rh_p(w, "</svg>\n");
}

int rh_latency_svgs(mg_buf *hist, mg_buf *cdf, const mg_gate_result *g, mg_error *err)
{
	const mg_latency_detail *l = g->latency;
	series ss[2] = {{"baseline", COLOR_BASE, NULL, l->nbase, {0}},
			{"candidate", COLOR_CAND, NULL, l->ncand, {0}}};
	const double *raw[2] = {l->base_ns, l->cand_ns};
	size_t ns = 0;
	int rc = 0;
	for (int k = 0; k < 2 && !rc; k++) {
		if (ss[k].n == 0)
			continue;
		series s = ss[k];
		if (!(s.sorted = rp_sorted_copy(raw[k], s.n, &s.n))) {
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
			break;
		}
		for (size_t i = 0; i < s.n; i++)
			s.sorted[i] /= 1e6;
		if (s.n)
			ss[ns++] = s;
		else
			free(s.sorted);
	}
	int far = 0;
	for (size_t k = 0; k < ns; k++)
		far |= far_outliers(&ss[k]);
	hw hs = {hist, err, rc}, cs = {cdf, err, rc};
	if (ns)
		latency_svg(&hs, ss, ns);
	if (ns && far)
		cdf_svg(&cs, ss, ns);
	for (size_t k = 0; k < ns; k++)
		free(ss[k].sorted);
	return hs.rc ? hs.rc : cs.rc;
}

static void latency_chart(hw *w, const mg_gate_result *g)
{
	mg_buf hist = MG_BUF_INIT, cdf = MG_BUF_INIT;
	if (!w->rc)
		w->rc = rh_latency_svgs(&hist, &cdf, g, w->err);
	if (hist.len) {
		rh_p(w, "<h3>Latency distribution</h3>\n");
		rh_chart(w, &hist, "latency histogram and box plots of baseline and candidate");
	}
	if (cdf.len) {
		rh_p(w, "<h3>Latency CDF (log axis)</h3>\n");
		rh_chart(w, &cdf, "latency CDF of baseline and candidate on a log axis");
		rh_p(w, "<p class=\"muted small\">Drawn because some samples lie beyond p75 + 3 IQR, "
			"which squash the histogram above.</p>\n");
	}
	mg_buf_free(&hist);
	mg_buf_free(&cdf);
}

/* ---- the page ------------------------------------------------------------------ */

/* v in the unit that suits like (the row's value) */
static void cell_num(hw *w, double v, const char *unit, double like)
{
	char s[96];
	rp_num_unit_like(s, sizeof(s), v, unit, like);
	rh_p(w, "<td class=\"num\">");
	rh_t(w, s);
	rh_p(w, "</td>");
}

static void meta_row(hw *w, const char *key, const char *value, const char *digest)
{
	if (!value && !digest)
		return;
	rh_p(w, "<tr><td class=\"k\">%s</td><td>", key);
	rh_t(w, value);
	if (digest) {
		rh_p(w, "%s<code>", value ? " " : "");
		rh_t(w, digest);
		rh_p(w, "</code>");
	}
	rh_p(w, "</td></tr>\n");
}

static void gate_table(hw *w, const mg_report *r)
{
	rh_p(w, "<div class=\"card\"><h2>Gates</h2>\n<table>\n<tr><th>Gate</th><th>Kind</th><th>Status</th>"
	     "<th class=\"num\">Value</th><th class=\"num\">Limit</th><th class=\"num\">Baseline</th>"
	     "<th class=\"num\">&Delta;</th></tr>\n");
	for (size_t i = 0; i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[i];
		char d[160];
		rp_delta(d, sizeof(d), g);
		rh_p(w, "<tr class=\"s-%s\"><td class=\"bar\"><a href=\"#gate-%zu\">", status_class(g), i + 1);
		rh_t(w, g->name);
		rh_p(w, "</a></td><td>");
		rh_t(w, g->kind);
		if (g->target) {
			rh_p(w, " <span class=\"muted\">on ");
			rh_t(w, g->target);
			rh_p(w, "</span>");
		}
		if (*rp_emulated_tag(g))
			rh_p(w, " <span class=\"pill emulated\">emulated</span>");
		rh_p(w, "</td><td><span class=\"pill %s\">%s</span>", status_class(g), mg_gate_status_name(g->status));
		if (g->latency && g->latency->noisy && g->status != MG_GATE_SKIP)
			rh_p(w, " <span class=\"pill noisy\">%s</span>", rp_noisy_label(g));
		rh_p(w, "</td>");
		cell_num(w, g->value, g->unit, g->value);
		char lim[128];
		rp_limit_text(lim, sizeof(lim), g);
		rh_p(w, "<td class=\"num\">");
		rh_t(w, lim);
		rh_p(w, "</td>");
		cell_num(w, g->baseline, g->unit, g->value);
		rh_p(w, "<td class=\"num\">");
		rh_t(w, d);
		rh_p(w, "</td></tr>\n");
	}
	rh_p(w, "</table></div>\n");
}

static void gate_card(hw *w, const mg_gate_result *g, size_t i, mg_buf *tmp)
{
	rh_p(w, "<div class=\"card\" id=\"gate-%zu\"><h2>", i + 1);
	rh_t(w, g->name);
	rh_p(w, " <span class=\"pill %s\">%s</span></h2>\n<div class=\"muted\">", status_class(g),
	  mg_gate_status_name(g->status));
	rh_t(w, g->kind);
	if (g->target) {
		rh_p(w, " on ");
		rh_t(w, g->target);
		rh_t(w, rp_emulated_tag(g));
	}
	if (isfinite(g->seconds) && g->seconds > 0)
		rh_p(w, " &middot; %.2f s", g->seconds);
	rh_p(w, "</div>\n");
	if (g->reason) {
		rh_p(w, "<p class=\"reason\">");
		rh_t(w, g->reason);
		rh_p(w, "</p>\n");
	}
	if (g->nfigures) {
		rh_p(w, "<table>\n<tr><th>Figure</th><th class=\"num\">Candidate</th><th class=\"num\">Baseline</th>"
		     "<th class=\"num\">&Delta;</th></tr>\n");
		for (size_t k = 0; k < g->nfigures; k++) {
			const mg_figure *f = &g->figures[k];
			if (g->confusion && !strncmp(f->name, "class_", 6))
				continue; /* in the per-class table */
			mg_gate_result fake = {.value = f->value, .baseline = f->baseline, .unit = f->unit};
			char d[160];
			rp_delta(d, sizeof(d), &fake);
			char fname[300];
			rh_p(w, "<tr><td>");
			rh_t(w, rp_figure_name(fname, sizeof(fname), g, f));
			rh_p(w, "</td>");
			cell_num(w, f->value, f->unit, f->value);
			cell_num(w, f->baseline, f->unit, f->value);
			rh_p(w, "<td class=\"num\">");
			rh_t(w, d);
			rh_p(w, "</td></tr>\n");
		}
		rh_p(w, "</table>\n");
	}
	if (g->latency) {
		if (!w->rc)
			w->rc = rp_latency_verdict(tmp, g, w->err);
		rh_p(w, "<p class=\"sentence\">");
		tbuf(w, tmp);
		rh_p(w, "</p>\n");
		latency_chart(w, g);
		if (!w->rc)
			w->rc = rp_latency_notes(tmp, g, w->err);
		rh_p(w, "<p class=\"muted small\">");
		tbuf(w, tmp);
		rh_p(w, "</p>\n");
	}
	if (g->confusion) {
		rh_class_table(w, g);
		rh_confusion_pair(w, g);
	}
	if (g->fidelity)
		rh_fidelity(w, g);
	if (g->counter)
		cost_chart(w, g);
	if (g->fingerprint) {
		if (!w->rc)
			w->rc = rp_fingerprint_text(tmp, g->fingerprint, w->err);
		rh_p(w, "<p class=\"muted small\">Measured on ");
		tbuf(w, tmp);
		rh_p(w, "</p>\n");
	}
	rh_p(w, "</div>\n");
}

int mg_report_html_text(mg_buf *out, const char *s, mg_error *err)
{
	return rp_escape(out, s, rp_map_xml_text, err);
}

int mg_report_html_open(mg_buf *out, const char *title, mg_error *err)
{
	hw w = {out, err, 0};
	rh_p(&w, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>modelgate: ");
	rh_t(&w, title);
	rh_p(&w, "</title>\n<style>%s</style>\n</head>\n<body>\n<div class=\"wrap\">\n", CSS);
	return w.rc;
}

int mg_report_html_close(mg_buf *out, mg_error *err)
{
	return mg_buf_puts(out, "</div>\n</body>\n</html>\n", err);
}

int mg_report_write_html(mg_buf *out, const mg_report *r, mg_error *err)
{
	hw w = {out, err, 0};
	mg_buf tmp = MG_BUF_INIT;
	rp_counts n;
	rp_count(r, &n);
	mg_gate_status st = mg_report_status(r);
	const char *verdict = st == MG_GATE_PASS ? "PASSED" : st == MG_GATE_FAIL ? "FAILED" : "ERROR";

	if (mg_buf_printf(&tmp, err, "%s %s", r->model ? r->model : "report", verdict) ||
	    mg_report_html_open(out, mg_buf_cstr(&tmp), err)) {
		mg_buf_free(&tmp);
		return MG_ENOMEM;
	}
	mg_buf_free(&tmp);
	rh_p(&w, "<h1>modelgate report<span class=\"verdict %s\">%s</span></h1>\n", mg_gate_status_name(st), verdict);
	rh_p(&w, "<div class=\"muted\">%zu passed &middot; %zu failed &middot; %zu error%s &middot; %zu skipped",
	  n.pass, n.fail, n.error, n.error == 1 ? "" : "s", n.skip);
	if (n.inconclusive)
		rh_p(&w, " &middot; %zu inconclusive", n.inconclusive);
	if (isfinite(r->seconds))
		rh_p(&w, " &middot; %.1f s", r->seconds);
	rh_p(&w, "</div>\n<div class=\"card\"><table class=\"meta\">\n");
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
	rh_p(&w, "</table></div>\n");
	gate_table(&w, r);
	for (size_t i = 0; i < r->ngates; i++)
		gate_card(&w, &r->gates[i], i, &tmp);
	if (r->ntargets) {
		rh_p(&w, "<div class=\"card\"><h2>Targets</h2>\n<table>\n<tr><th>Target</th><th>Spec</th><th>Where</th></tr>\n");
		for (size_t i = 0; i < r->ntargets; i++) {
			const mg_report_target *tg = &r->targets[i];
			rh_p(&w, "<tr><td>");
			rh_t(&w, tg->name);
			rh_p(&w, "</td><td><code>");
			rh_t(&w, tg->spec);
			rh_p(&w, "</code></td><td>");
			if (!w.rc)
				w.rc = rp_target_text(&tmp, tg, err);
			tbuf(&w, &tmp);
			rh_p(&w, "</td></tr>\n");
		}
		rh_p(&w, "</table></div>\n");
	}
	rh_p(&w, "<p class=\"muted small\">Generated by modelgate ");
	rh_t(&w, r->tool_version);
	rh_p(&w, ".</p>\n");
	if (!w.rc)
		w.rc = mg_report_html_close(out, err);
	mg_buf_free(&tmp);
	return w.rc;
}
