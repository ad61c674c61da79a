/* Helpers shared by the report writers (validator/report_*.c) and nobody
 * else: one place for number formatting, text escaping, gate ordering and
 * counting, so that every format says the same thing the same way.
 *
 * Text: every string of a report goes out through rp_escape with the map of
 * the target format. rp_escape decodes UTF-8 (an invalid byte becomes
 * U+FFFD) and asks the map what to write for each code point. */
#ifndef MG_REPORT_PRIV_H
#define MG_REPORT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "validator/report.h"

/* ---- numbers ----------------------------------------------------------- */

#define RP_NUM_SIZE 48

/* " (emulated)" when g was measured on an emulated target, else "". */
const char *rp_emulated_tag(const mg_gate_result *g);

/* The word for a noisy measurement beside g's status: "noisy", or beside a
 * failure what decided it ("noisy; the interval decided" / "noisy; the
 * absolute limit decided"), since noise alone never fails a gate. */
const char *rp_noisy_label(const mg_gate_result *g);

/* A figure for people: "%.4g", whole numbers up to 1e15 in full, NAN "-",
 * infinities "inf" / "-inf". */
void rp_num(char out[RP_NUM_SIZE], double v);
/* As rp_num with the unit appended ("12.3 ms"); "bytes" are shown in
 * B/KiB/MiB/GiB. */
void rp_num_unit(char *out, size_t outlen, double v, const char *unit);
/* As rp_num_unit, in the multiple of bytes that suits like (a row's
 * value), so that one row speaks one unit: "+0.0002 MiB" beside 1.758 MiB. */
void rp_num_unit_like(char *out, size_t outlen, double v, const char *unit, double like);
/* The shortest "%.Ng" that reads back as exactly v (for machines);
 * non-finite values as "NaN", "+Inf", "-Inf" (OpenMetrics spelling). */
void rp_num_exact(char out[RP_NUM_SIZE], double v);
/* A configured number as written: whole numbers in full (1000000), others
 * in the shortest form that reads back as v (0.99995, not 0.9999 or 1). */
void rp_num_written(char out[RP_NUM_SIZE], double v);
/* v for a reason beside limit: 4 significant digits, more when 4 would
 * hide which side of the limit v lies on (0.99994 beside 0.99995). */
void rp_num_beside(char out[RP_NUM_SIZE], double v, double limit);
/* value - baseline with sign and unit, and the relative change:
 * "+1.2 ms (+10.5%)"; "-" without a baseline. */
void rp_delta(char *out, size_t outlen, const mg_gate_result *g);

/* Quantile q (0..1) of the sorted x[0..n-1]: mg_quantile_sorted (runners.h), NAN for n == 0. */
double rp_quantile_sorted(const double *sorted, size_t n, double q);
/* A sorted copy of the finite values of x[0..n-1] (caller frees), their
 * count in *nout; NULL when out of memory or n == 0. */
double *rp_sorted_copy(const double *x, size_t n, size_t *nout);

/* ---- gates ------------------------------------------------------------- */

typedef struct rp_counts {
	size_t pass, fail, error, skip, noisy, inconclusive;
	size_t inconclusive_fail; /* of them, under on_inconclusive fail */
} rp_counts;

void rp_count(const mg_report *r, rp_counts *out);

/* The name of figure f of g for people: a per-class figure "class_K_recall"
 * of a gate with class names as "class 'stop_sign' recall" (in buf), any
 * other as it is. */
const char *rp_figure_name(char *buf, size_t len, const mg_gate_result *g, const mg_figure *f);

/* How far a failed gate is past its limit, relative to the limit (0.25 =
 * 25% past), or past "no regression" for a latency gate (ratio_lo - 1);
 * the larger of the two; 0 when neither can be computed. */
double rp_severity(const mg_gate_result *g);
/* ">= " or "<= " before a limit, by its direction ("" when not known). */
const char *rp_limit_op(const mg_gate_result *g);
/* The limit with its direction and unit: ">= 0.97", "<= 10 ms". */
void rp_limit_text(char *out, size_t outlen, const mg_gate_result *g);
/* "min", "max", or NULL when not known. */
const char *rp_limit_is_name(mg_limit_is is);

/* Fills idx[0..ngates-1] with gate indices, most important first: errors,
 * failures (by severity, most severe first), inconclusive gates and passes
 * flagged noisy, passes,
 * skips; ties keep the report's order. */
void rp_order(const mg_report *r, size_t *idx);

/* Plain-text lines each writer escapes for its format:
 * the headline figure ("p95_ms 12.3 ms, limit 10 ms, baseline 9.8 ms,
 * delta +2.5 ms (+25.5%)"), a latency gate's comparison (its verdict,
 * rp_latency_verdict, then "200 candidate / 200 baseline samples; noisy:
 * ...", the noise flag saying what decided a failure), and where it ran
 * ("Xeon, 8 CPUs, governor performance, ..."). */
int rp_headline(mg_buf *out, const mg_gate_result *g, mg_error *err);
int rp_latency_text(mg_buf *out, const mg_gate_result *g, mg_error *err);
/* rp_latency_text without the verdict: the samples and the noise. */
int rp_latency_notes(mg_buf *out, const mg_gate_result *g, mg_error *err);
int rp_fingerprint_text(mg_buf *out, const mg_fingerprint *f, mg_error *err);
/* A target of the report's targets table: its fingerprint, why it was
 * unreachable, or that no gate measured on it (none was started there). */
int rp_target_text(mg_buf *out, const mg_report_target *t, mg_error *err);
/* "input float32 [1, 64]; mask int64 [1, 8]": the report's inputs, or
 * nothing when it has none. */
int rp_inputs_text(mg_buf *out, const mg_report *r, mg_error *err);

/* ---- what changed (report_detail.c) --------------------------------------- */

/* The label of class i of g's classifier: its name where the report has
 * one, else its index. */
void rp_class_label(char *out, size_t outlen, const mg_gate_result *g, size_t i);

/* One class of an accuracy gate, from the confusion matrices: the
 * candidate's figures and the baseline's (NAN without one). */
typedef struct rp_class_row {
	size_t cls;
	double precision, recall, f1;
	uint64_t support; /* samples of the class in the dataset */
	double base_precision, base_recall, base_f1;
} rp_class_row;
/* g's classes, the largest drop in F1 against the baseline first (without
 * a baseline, the lowest F1 first; of equal ones, the class with more
 * samples first); *out NULL and *nout 0 without a
 * confusion matrix. The caller frees *out. */
int rp_class_rows(rp_class_row **out, size_t *nout, const mg_gate_result *g, mg_error *err);

/* A cell of the confusion matrix whose count differs from the baseline's. */
typedef struct rp_cell_change {
	size_t truth, pred;
	int64_t base, cand;
} rp_cell_change;
/* Every changed cell, the largest change first; none without a baseline's
 * matrix. The caller frees *out. */
int rp_confusion_changes(rp_cell_change **out, size_t *nout, const mg_gate_result *g, mg_error *err);

/* A latency gate's verdict in plain words, each figure with its unit, all
 * of them about the gate's one statistic: "No slowdown: p95 3.4 ms vs 3.3
 * ms for the baseline; block by block, the p95 is +2% against the
 * baseline's (98% CI -1%..+5% over 20 paired blocks), within the +10%
 * allowed. p95 is 3.4 ms, within the 5 ms limit." */
int rp_latency_verdict(mg_buf *out, const mg_gate_result *g, mg_error *err);

/* An emoji for the status ("✅"), for Markdown. */
const char *rp_status_emoji(mg_gate_status s);

/* ---- text ---------------------------------------------------------------- */

/* What to write for the code point cp: a replacement string ("" drops it),
 * or NULL to copy the character as it is. tmp may be used for the result. */
typedef const char *(*rp_map_fn)(uint32_t cp, char tmp[16]);

/* Appends s (NULL counts as "") with every code point mapped. */
int rp_escape(mg_buf *out, const char *s, rp_map_fn map, mg_error *err);
/* As rp_escape, for at most max_bytes of s, cut at a character boundary;
 * "…" is added when something was cut. */
int rp_escape_trunc(mg_buf *out, const char *s, size_t max_bytes, rp_map_fn map, mg_error *err);

const char *rp_map_xml_text(uint32_t cp, char tmp[16]);  /* XML/HTML element text */
const char *rp_map_xml_attr(uint32_t cp, char tmp[16]);  /* ... and attribute values */
const char *rp_map_markdown(uint32_t cp, char tmp[16]);  /* a GFM table cell or inline text */
const char *rp_map_terminal(uint32_t cp, char tmp[16]);  /* no control characters */

/* The longest prefix of s[0..len) that is at most max bytes and does not
 * end inside a UTF-8 sequence. */
size_t rp_utf8_cut(const char *s, size_t len, size_t max);
/* Columns s takes on a terminal (code points; wide East Asian ones count 2). */
size_t rp_utf8_width(const char *s);

#endif
