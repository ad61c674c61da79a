/* report: the one result model of a `modelgate gate` run, and its writers
 * (terminal table, report.json, JUnit XML, GitHub Markdown/annotations/
 * outputs, OpenMetrics, self-contained HTML with SVG charts).
 *
 * Ownership: an mg_report owns everything it points to; mg_report_free
 * releases it all. Strings are UTF-8 and NUL-terminated; NAN marks a figure
 * that was not measured. Writers never print to the terminal themselves:
 * they append to an mg_buf or write the file they are given, atomically. */
#ifndef MG_REPORT_H
#define MG_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* The newest schema this modelgate reads. A report.json says 1 unless it
 * holds what schema 1 cannot: 2 adds the "inconclusive" status and a
 * gate's "on_inconclusive". The latency detail's blocks, block_spread,
 * min_samples, too_few and max_ratio, a gate's baseline_confusion and fidelity are
 * additive (older readers ignore them). */
#define MG_REPORT_SCHEMA_VERSION 2

typedef enum {
	MG_GATE_PASS = 0,
	MG_GATE_FAIL = 1,
	MG_GATE_ERROR = 2, /* could not be evaluated: target unreachable, engine missing */
	MG_GATE_SKIP = 3,  /* not run here (e.g. --only, or marked ci-only) */
	MG_GATE_INCONCLUSIVE = 4, /* measured, but the noise is larger than the
				     change the limit asks to resolve */
} mg_gate_status;

/* What an inconclusive gate does to the run's outcome (on_inconclusive):
 * warn (the default) and pass let it through, warn saying so; fail fails. */
typedef enum {
	MG_INCONCLUSIVE_WARN = 0,
	MG_INCONCLUSIVE_FAIL = 1,
	MG_INCONCLUSIVE_PASS = 2,
} mg_inconclusive_policy;

const char *mg_inconclusive_policy_name(mg_inconclusive_policy p); /* "warn", ... */
/* The policy called name; -1 for another. */
int mg_inconclusive_policy_parse(const char *name);

const char *mg_gate_status_name(mg_gate_status s); /* "pass", "fail", ... */

/* Which way a limit holds: the value must be at least it (accuracy, most
 * fidelity figures) or at most it (latency, size, memory, error rates). */
typedef enum {
	MG_LIMIT_UNKNOWN = 0, /* (a report.json written before it was recorded) */
	MG_LIMIT_MIN = 1,
	MG_LIMIT_MAX = 2,
} mg_limit_is;

/* One named figure of a gate: "top1", "p95_ms", "cosine", ... */
typedef struct mg_figure {
	char *name;
	double value;    /* candidate */
	double baseline; /* NAN when there is no baseline figure */
	char *unit;      /* "", "ms", "bytes", "dB", "%" ... may be NULL */
} mg_figure;

/* Where a latency figure was measured. */
typedef struct mg_fingerprint {
	char *cpu_model;
	int cpu_count;
	char *governor;  /* NULL when not readable */
	char *pinning;   /* CPU list the agent was allowed on, or NULL */
	double loadavg1;
	char *kernel;
	char *engine;    /* "onnxruntime 1.30.0" */
	char *arch;      /* "x86_64", "aarch64" */
	int emulated;
} mg_fingerprint;

/* Latency comparison of candidate against baseline on one target. */
typedef struct mg_latency_detail {
	double *cand_ns, *base_ns; /* raw per-iteration samples */
	size_t ncand, nbase;
	double ratio;     /* geometric mean of the paired block ratios
			     (median(candidate) / median(baseline) in schema 1);
			     NAN without baseline */
	double ratio_lo;  /* confidence interval of the ratio (t over blocks) */
	double ratio_hi;
	double confidence; /* e.g. 0.98 */
	double p_value;   /* Mann-Whitney U, one-sided: candidate slower */
	int noisy;        /* spread between interleaved blocks was large */
	char *noise_note; /* why it was flagged, or NULL */
	int stopped_early;
	/* schema 2 */
	size_t blocks;       /* paired blocks behind the interval; 0 when unknown */
	double block_spread; /* standard deviation of the log block ratios, or NAN */
	size_t min_samples;  /* the minimum per side for a verdict; 0 when unknown */
	int too_few;         /* fewer samples than that within max_time */
	double max_ratio;    /* the ratio allowed (the gate's max_ratio), or NAN */
} mg_latency_detail;

/* Confusion matrix of a classifier: counts[true * n + predicted]. */
typedef struct mg_confusion {
	size_t n;
	uint64_t *counts;
} mg_confusion;

/* Where a fidelity gate's candidate differs from its reference: a histogram
 * of the absolute error of every output value (bins of equal width from 0
 * to hist_max, the largest error), and the rows (samples) with the largest
 * error, worst first, each at the output value where it is largest. */
#define MG_FIDELITY_BINS 24
#define MG_FIDELITY_WORST 10
typedef struct mg_fidelity_row {
	size_t row, index;      /* sample, and output value within it */
	double expected, got;   /* reference, candidate */
} mg_fidelity_row;

typedef struct mg_fidelity_detail {
	double hist_max;
	uint64_t hist[MG_FIDELITY_BINS];
	mg_fidelity_row worst[MG_FIDELITY_WORST];
	size_t nworst;
} mg_fidelity_detail;
/* A per-class limit of an accuracy gate, as judged: "recall of class
 * 'stop_sign' 0.95, at least 0.98". */
typedef struct mg_class_check {
	char *cls;      /* the class name, or its index in decimal without names */
	size_t index;   /* the class index */
	char *metric;   /* "recall" or "precision" */
	double value;   /* NAN when undefined (no sample of the class, or none predicted) */
	double limit;   /* the minimum */
	int pass;
} mg_class_check;

typedef struct mg_gate_result {
	char *name;
	char *kind;   /* "accuracy", "fidelity", "latency", "size", "memory", "cost" */
	char *target; /* target name for latency/memory, else NULL */
	mg_gate_status status;
	mg_inconclusive_policy on_inconclusive; /* for MG_GATE_INCONCLUSIVE */
	char *reason; /* one line: why it passed, failed or errored */
	/* the headline figure compared against the limit */
	char *metric; /* e.g. "top1", "p95_ms" */
	double value;
	double limit;
	mg_limit_is limit_is;
	double baseline; /* NAN when none */
	char *unit;
	mg_figure *figures; /* every figure measured, headline included */
	size_t nfigures;
	mg_latency_detail *latency;     /* latency gates, else NULL */
	mg_fingerprint *fingerprint;    /* latency and memory gates, else NULL */
	mg_confusion *confusion;        /* classifier accuracy gates, else NULL */
	mg_confusion *base_confusion;   /* ... the baseline's, on the same dataset, or NULL */
	mg_fidelity_detail *fidelity;   /* fidelity gates, else NULL */
	char **classes;  /* classifier accuracy gates: the name of each class index
			    (per-class figures class_K_*, confusion axes); NULL without names */
	size_t nclasses;
	mg_class_check *class_checks;   /* accuracy: min_recall, min_precision */
	size_t nclass_checks;
	char *counter; /* cost gates: what counted, "callgrind (valgrind-3.19.0)"; else NULL */
	double seconds; /* time spent evaluating the gate */
} mg_gate_result;

typedef struct mg_report_target {
	char *name;
	char *spec; /* "local", "qemu-aarch64", "ssh://...", "exec:..." */
	mg_fingerprint *fingerprint; /* NULL when unreachable */
	char *error;                 /* why it was unreachable, or NULL */
} mg_report_target;

/* An input as the gates fed it: the one row latency and memory measure. */
typedef struct mg_report_input {
	char *name;
	char *dtype;
	int64_t *dims;
	size_t rank;
} mg_report_input;

typedef struct mg_report {
	int schema_version;
	char *tool_version;
	char *created;      /* RFC 3339 UTC */
	char *git_commit;   /* NULL outside git */
	char *config_path;
	char *model, *model_digest;
	char *baseline, *baseline_digest;   /* NULL without baseline */
	char *dataset, *dataset_digest;     /* NULL without dataset */
	mg_report_input *inputs;            /* names, dtypes and shapes measured */
	size_t ninputs;
	mg_report_target *targets;
	size_t ntargets;
	mg_gate_result *gates;
	size_t ngates;
	double seconds;
} mg_report;

/* Overall status: error beats fail beats pass; skipped gates are ignored,
 * an inconclusive gate counts as fail under on_inconclusive fail, else as
 * pass. */
mg_gate_status mg_report_status(const mg_report *r);
/* The schema report.json needs for r: 1, or 2 with an inconclusive gate. */
int mg_report_schema_needed(const mg_report *r);
/* The process exit code for a report: 0 pass, 1 fail, 3 error. */
int mg_report_exit_code(const mg_report *r);
void mg_report_free(mg_report *r);
/* The name of class index k of g ("stop_sign"), or NULL without names. */
const char *mg_gate_class_name(const mg_gate_result *g, size_t k);
/* Frees what g points to (not g itself). */
void mg_gate_result_clear(mg_gate_result *g);
void mg_fingerprint_free(mg_fingerprint *f);

/* Writers: append to out. */
int mg_report_write_json(mg_buf *out, const mg_report *r, mg_error *err);
int mg_report_write_junit(mg_buf *out, const mg_report *r, mg_error *err);
/* GitHub-flavoured Markdown summary, at most max_bytes (keeps the gate
 * table, trims details first). */
int mg_report_write_markdown(mg_buf *out, const mg_report *r, size_t max_bytes, mg_error *err);
/* As mg_report_write_markdown, linking the HTML report at html_url (NULL:
 * no link). */
int mg_report_write_markdown_linked(mg_buf *out, const mg_report *r, size_t max_bytes,
				    const char *html_url, mg_error *err);
/* "::error title=...::" / "::warning title=...::" lines, most important
 * first, at most max_per_type of each. */
int mg_report_write_annotations(mg_buf *out, const mg_report *r, size_t max_per_type, mg_error *err);
/* "key=value" lines for $GITHUB_OUTPUT: passed, digest, key figures. */
int mg_report_write_github_outputs(mg_buf *out, const mg_report *r, mg_error *err);
int mg_report_write_openmetrics(mg_buf *out, const mg_report *r, mg_error *err);
int mg_report_write_html(mg_buf *out, const mg_report *r, mg_error *err);
/* The terminal table; color adds ANSI colours. */
int mg_report_write_table(mg_buf *out, const mg_report *r, int color, mg_error *err);

/* ---- the charts, for places that take pictures rather than a page ---- */

/* A chart of the HTML report as a standalone SVG document. */
typedef struct mg_report_chart {
	char *file;  /* a file name for it: "gate-3-latency.svg" */
	char *title; /* what it shows, for people: "latency p95: latency distribution" */
	mg_buf svg;
} mg_report_chart;

/* The latency distribution of each latency gate and, of each classifier
 * gate (up to 200 classes), the candidate's confusion matrix and its
 * difference from the baseline's: *out an array of *nout charts (NULL and
 * 0 when there are none), freed with mg_report_charts_free. */
int mg_report_charts(mg_report_chart **out, size_t *nout, const mg_report *r, mg_error *err);
void mg_report_charts_free(mg_report_chart *c, size_t n);
/* Appends s as text in GitHub-flavoured Markdown (escaped as the summary
 * escapes its own text), for a writer of Markdown outside the reports. */
int mg_report_markdown_text(mg_buf *out, const char *s, mg_error *err);
/* For a page of HTML outside the reports in their look: s as element text
 * (escaped as the report escapes its own), the page's head and style up to
 * its content (title escaped), and its end. */
int mg_report_html_text(mg_buf *out, const char *s, mg_error *err);
int mg_report_html_open(mg_buf *out, const char *title, mg_error *err);
int mg_report_html_close(mg_buf *out, mg_error *err);

/* ---- the formats by name (report_format.c), for `gate` and `report` ---- */

typedef enum {
	MG_REPORT_TABLE,
	MG_REPORT_JSON,
	MG_REPORT_JUNIT,
	MG_REPORT_MARKDOWN,
	MG_REPORT_ANNOTATIONS,
	MG_REPORT_GITHUB_OUTPUTS,
	MG_REPORT_OPENMETRICS,
	MG_REPORT_HTML,
} mg_report_format;

/* Every name mg_report_format_parse takes, for messages. */
#define MG_REPORT_FORMAT_NAMES \
	"table, json, junit, markdown, annotations, github-outputs, openmetrics or html"
/* GitHub keeps at most 1 MiB of summary per step, and shows about ten
 * annotations of each type: the defaults of the limits below. */
#define MG_REPORT_SUMMARY_MAX ((size_t)1 << 20)
#define MG_REPORT_ANNOTATIONS_MAX 10

typedef struct mg_report_render_opts {
	int color;              /* table: ANSI colours */
	size_t max_bytes;       /* markdown */
	size_t max_annotations; /* annotations: of each type */
	const char *html_url;   /* markdown: where the HTML report is (the CI
				   run's artifacts), linked when not NULL */
} mg_report_render_opts;
#define MG_REPORT_RENDER_OPTS_INIT {0, MG_REPORT_SUMMARY_MAX, MG_REPORT_ANNOTATIONS_MAX, NULL}

/* The format called name ("table", "json", "junit", "markdown",
 * "annotations", "github-outputs", "openmetrics", "html"): MG_EINVAL for
 * another. */
int mg_report_format_parse(mg_report_format *out, const char *name, mg_error *err);
const char *mg_report_format_name(mg_report_format f);
/* Appends r in format fmt to out; opts may be NULL (the defaults). */
int mg_report_render(mg_buf *out, const mg_report *r, mg_report_format fmt,
		     const mg_report_render_opts *opts, mg_error *err);

/* Reads a report.json written by mg_report_write_json (for package and
 * deploy); unknown keys are ignored, a newer schema_version is refused. */
int mg_report_read_json(mg_report **out, const char *path, mg_error *err);
/* As mg_report_read_json, from the len bytes of a report.json already
 * read (path names it in messages): a command that also needs the bytes
 * (their digest, a copy in a bundle) reads the file once. */
int mg_report_parse_json(mg_report **out, const char *text, size_t len, const char *path,
			 mg_error *err);

#endif
