/* What the files of the HTML report (report_html.c: the page, its latency,
 * cost and confusion charts; report_html_change.c: what changed against
 * the baseline) share and nobody else uses: a buffer with a sticky error,
 * so that building a page reads as a list, and how a chart goes in. */
#ifndef MG_REPORT_HTML_H
#define MG_REPORT_HTML_H

#include "report_priv.h"

typedef struct hw {
	mg_buf *b;
	mg_error *err;
	int rc;
} hw;

#define COLOR_BASE "#4c78a8"
#define COLOR_CAND "#f58518"
#define SVG_FONT "font-family=\"system-ui, -apple-system, 'Segoe UI', Roboto, Arial, sans-serif\""

/* Appends printf-formatted markup; text, escaped; a chart (a standalone
 * SVG document) as an <img> with a data: URI and its alt text. */
void rh_p(hw *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rh_t(hw *w, const char *s);
void rh_chart(hw *w, const mg_buf *svg, const char *alt);

/* A latency gate's charts as SVG documents: the histogram with box plots
 * into hist, and the CDFs on a log axis into cdf when far-out outliers
 * squash the histogram (else cdf stays empty); both empty without samples. */
int rh_latency_svgs(mg_buf *hist, mg_buf *cdf, const mg_gate_result *g, mg_error *err);

/* An accuracy gate's per-class table and, beside the candidate's confusion
 * matrix, the baseline's and their difference; a fidelity gate's error
 * histogram and worst rows (report_html_change.c). */
void rh_class_table(hw *w, const mg_gate_result *g);
void rh_confusion_pair(hw *w, const mg_gate_result *g);
void rh_fidelity(hw *w, const mg_gate_result *g);

#endif
