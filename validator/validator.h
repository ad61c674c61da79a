/* validator: what decides whether a model version may ship — the gate
 * configuration (modelgate.json), metrics of outputs against labels or a
 * reference, latency statistics against a baseline, and the gate run that
 * fills an mg_report (report.h). */
#ifndef MG_VALIDATOR_H
#define MG_VALIDATOR_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* ---- configuration (modelgate.json) ---------------------------------- */

typedef enum {
	MG_KIND_ACCURACY,
	MG_KIND_FIDELITY,
	MG_KIND_LATENCY,
	MG_KIND_SIZE,
	MG_KIND_MEMORY,
	MG_KIND_COST,
} mg_gate_kind;

const char *mg_gate_kind_name(mg_gate_kind k);

/* A per-class limit of an accuracy gate: "stop_sign": 0.98. */
typedef struct mg_class_limit {
	char *cls;    /* a class name, or its index written in decimal */
	double limit;
} mg_class_limit;
typedef struct mg_class_limits {
	mg_class_limit *v;
	size_t n;
} mg_class_limits;

/* One gate: NAN marks a limit that is not set. */
typedef struct mg_gate_config {
	char *name;
	mg_gate_kind kind;
	char *target;      /* latency, memory, cost: a key of targets */
	int ci_only;       /* skipped outside CI (CI=true) */
	char *metric;      /* accuracy: top1 | topk | macro_f1 | mae | rmse;
			      latency: p50 | p90 | p95 | p99 | mean */
	size_t k;          /* accuracy topk */
	double min;        /* accuracy: absolute minimum (maximum for mae/rmse) */
	char *output;      /* accuracy, fidelity: the output scored, by name or by
			      index (decimal); NULL = the first */
	mg_class_limits min_recall, min_precision; /* accuracy: per class */
	double max_drop;   /* accuracy: largest allowed drop against the baseline */
	double max_abs, max_mean_abs, min_cosine, min_snr_db, min_top1_agreement; /* fidelity */
	char *reference;   /* fidelity: a folder of reference outputs; NULL = baseline */
	char *layout;      /* fidelity: "nhwc" or "nchw", the candidate's image layout
			      where the baseline has the other; NULL = the same */
	double max_ms;     /* latency ceiling of the statistic */
	double max_ratio;  /* latency, cost: allowed slowdown (cost: growth) against the baseline */
	double alpha;      /* latency significance level */
	double max_time;   /* latency: time budget in seconds */
	size_t min_iterations;
	char *on_inconclusive; /* latency: "fail", "pass" or "warn"; NULL = warn */
	int allow_emulated_absolute; /* latency: max_ms on an emulated target */
	double max_bytes, max_compressed_bytes, max_parameters, max_growth; /* size */
	double max_rss_mb; /* memory */
	double max_instructions; /* cost: ceiling of instructions per inference */
	size_t runs;       /* cost: inferences counted per model; 0: by the counter */
} mg_gate_config;

typedef struct mg_target_config {
	char *name;
	char *spec;     /* local | qemu-aarch64 | ssh://... | exec:... */
	int threads;    /* 0 = engine default */
} mg_target_config;

typedef struct mg_config {
	char *path;     /* the file it was read from */
	char *dir;      /* its folder: relative paths are resolved against it */
	char *model;
	char *baseline; /* NULL when none */
	char *dataset_inputs; /* a .npy file or a folder of inputs; with dataset_ref,
				 the file in it (NULL: x.npy) */
	char *dataset_labels; /* a .npy of labels (class indices or one-hot) or
				 targets; with dataset_ref, the file in it (NULL: y.npy) */
	char *dataset_ref;    /* a dataset artifact reference or folder */
	int dataset_cast;     /* "cast": inputs of another real type are rounded */
	char **classes;       /* "classes": the class names, or NULL */
	size_t nclasses;
	mg_target_config *targets;
	size_t ntargets;
	mg_gate_config *gates;
	size_t ngates;
	struct mg_input_shape *shapes; /* "shapes": sizes for inputs of dynamic dimensions */
	size_t nshapes;
} mg_config;

/* Reads and validates a modelgate.json. A syntax error is reported as
 * file:line:column; a wrong key, type or value by its JSON path
 * ("gates[2].max_ms: expected a number"). Keys starting with "//" are
 * comments. Everything is checked before anything runs: MG_EINVAL. */
int mg_config_read(mg_config **out, const char *path, mg_error *err);
int mg_config_parse(mg_config **out, const char *text, size_t len, const char *path,
		    mg_error *err);
void mg_config_free(mg_config *c);
const mg_target_config *mg_config_target(const mg_config *c, const char *name);
/* The statistic a latency gate's metric names, as a quantile: 0.5 for p50,
 * 0.9, 0.95, 0.99; 0 for the mean; -1 for a name that is none of them.
 * The config checks names with it, the gate measures and compares by it. */
double mg_latency_metric_quantile(const char *metric);
/* What `modelgate init` is told beside the model. */
typedef struct mg_init_opts {
	int version;
	const char *baseline; /* a file or reference to compare with; NULL: none */
	/* a dataset reference, or a folder (x.npy and y.npy, or input files),
	 * or an inputs file; NULL: none */
	const char *dataset;
	const char *target;   /* "[NAME=]SPEC"; NULL: local */
	const char *schema;   /* the "$schema" to write; NULL: none */
} mg_init_opts;
#define MG_INIT_OPTS_VERSION 1
#define MG_INIT_OPTS_INIT {MG_INIT_OPTS_VERSION, NULL, NULL, NULL, NULL}

/* A starting modelgate.json for the model file at model_path (what
 * `modelgate init` writes): its tensors as comments; size, latency and
 * memory gates on the target; accuracy and fidelity gates when a dataset
 * and a baseline are given. Limits measured from the model are round
 * numbers with room to grow (mg_round_limit). A bad target is MG_EINVAL. */
int mg_config_template(mg_buf *out, const char *model_path, const mg_init_opts *opts,
		       mg_error *err);
/* A limit above today's value v: v plus 10%, rounded up to two significant
 * digits (4096 -> 4600, 1234567 -> 1400000). */
uint64_t mg_round_limit(uint64_t v);

/* ---- the gate run ----------------------------------------------------- */

struct mg_report;
struct mg_target_opts;
struct mg_target_if;

typedef struct mg_gate_opts {
	int version;
	const char *model;       /* overrides the config's (relative to the cwd) */
	const char *baseline;
	const char *target;      /* "SPEC" for every target, or "NAME=SPEC" */
	const char *const *only; /* run only these gates (others are skipped) */
	size_t nonly;
	int in_ci;               /* CI=true: ci_only gates run too */
	const int *changed;      /* --changed: per gate of the config, 1 when its
				    inputs changed (others are skipped); NULL: all */
	const char *tool_version;
	const char *git_commit;
	const struct mg_target_opts *target_opts;
	void (*log)(void *ctx, const char *msg); /* progress, one line each */
	void *log_ctx;
	/* How targets are reached (target_if.h); NULL: the agents of
	 * runners/, started with target_opts. Tests give canned ones. */
	const struct mg_target_if *targets;
	/* how references are read (the store, registry connections); NULL:
	 * the default store, registries with default options */
	const struct mg_source_opts *source;
	int cast;                /* --cast: as the dataset's "cast" */
} mg_gate_opts;
#define MG_GATE_OPTS_VERSION 1
#define MG_GATE_OPTS_INIT {MG_GATE_OPTS_VERSION, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0}

/* Whether a gate runs, or why not: the one place that combines --only,
 * --changed and ci_only (select.c). */
typedef enum {
	MG_PICK_RUN = 0,
	MG_PICK_NOT_ONLY,  /* not named by --only */
	MG_PICK_UNCHANGED, /* --changed: none of its inputs changed */
	MG_PICK_CI_ONLY,   /* ci_only, and this is not CI */
} mg_gate_pick;

/* Why gate i of cfg runs or not under opts. */
mg_gate_pick mg_gate_pick_one(const mg_config *cfg, const mg_gate_opts *opts, size_t i);
/* The skip reason a report gives for a pick other than MG_PICK_RUN. */
const char *mg_gate_pick_reason(mg_gate_pick p);
/* Fills out (cfg->ngates entries, may be NULL) with every gate's pick and
 * *nrun (may be NULL) with how many run; MG_EINVAL when --only names a gate
 * the config does not have. */
int mg_gate_select(mg_gate_pick *out, size_t *nrun, const mg_config *cfg,
		   const mg_gate_opts *opts, mg_error *err);

/* Evaluates every gate of cfg into a new report. A model, baseline or
 * dataset that cannot be found, or a dataset that cannot serve the model
 * (labels not one per row, inputs of another type or shape), is MG_EINVAL
 * before anything runs; labels outside the classes, a k or threads the
 * model or target cannot have, or a fidelity reference of another shape
 * are MG_EINVAL when their gate comes. A target that cannot be reached
 * makes its gates `error` in the report (the run itself succeeds). */
int mg_gate_run(struct mg_report **out, const mg_config *cfg, const mg_gate_opts *opts,
		mg_error *err);

/* The limits and settings a gate's config sets, in the order of the
 * config's field table: fn gets each key with its number (NAN for a
 * string or a flag) and its text ("0.95", "p95", "true"). */
void mg_gate_settings(const mg_gate_config *g,
		      void (*fn)(void *ctx, const char *key, double num, const char *text), void *ctx);

/* ---- the plan of a gate run (check-config, gate --dry-run) ----------- */

typedef struct mg_plan_target {
	const char *name;  /* the config's */
	char *spec;        /* after --target */
	int used;          /* a gate that runs measures on it (it was started) */
	int emulated;
	char *arch;        /* what its agent said, when started */
	char *engine;
	char *error;       /* why it could not be started, or NULL */
} mg_plan_target;

typedef struct mg_plan {
	const mg_config *cfg;
	char *model, *model_path, *model_digest;          /* as named, the file, its digest */
	char *baseline, *baseline_path, *baseline_digest; /* NULL without a baseline */
	char *dataset, *dataset_digest;                   /* NULL without a dataset */
	long long dataset_rows;                           /* -1 without a dataset */
	mg_gate_pick *picks;   /* per gate of cfg: whether it would run, or why not */
	mg_plan_target *targets; /* per target of cfg */
	size_t ntargets;
	size_t unreachable;    /* used targets that could not be started */
} mg_plan;

/* What mg_gate_run would do under opts, without running a model: the
 * gates picked, the model, baseline and dataset resolved (references read
 * as the run reads them), read and checked against each other, and each
 * target a picked gate measures on started (and stopped) to see that it
 * answers. Bad input is an error as for mg_gate_run; a target that cannot
 * be started is in the plan (its error, and unreachable counts it). */
int mg_gate_plan(mg_plan **out, const mg_config *cfg, const mg_gate_opts *opts, mg_error *err);
void mg_plan_free(mg_plan *p);

/* ---- latency statistics ---------------------------------------------- */

/* The statistic q (a latency policy's quantile) of x[0..n), reordering x:
 * a quantile as runners' mg_quantile_sorted takes it (linear
 * interpolation, numpy's default, as the reports), or for q 0 the mean.
 * NAN when n == 0. */
double mg_latency_statistic(double *x, size_t n, double q);

/* Median of n values (n > 0); x is not modified. NAN when n == 0. */
double mg_median(const double *x, size_t n);

/* One-sided Mann-Whitney U test of "candidate tends to be slower than
 * baseline", normal approximation with tie and continuity correction.
 * Returns the p-value (1 when either side is empty). */
double mg_mann_whitney_p(const double *cand, size_t nc, const double *base, size_t nb);

/* Percentile bootstrap confidence interval of median(cand)/median(base),
 * with `resamples` resamples from a PRNG seeded by seed (deterministic). */
int mg_bootstrap_ratio(const double *cand, size_t nc, const double *base, size_t nb,
		       size_t resamples, double confidence, uint64_t seed, double *lo,
		       double *hi, mg_error *err);

typedef struct mg_latency_policy {
	double max_ratio;   /* allowed slowdown, e.g. 1.05 */
	double alpha;       /* significance level, e.g. 0.01 (the gate sets
			       confidence to 1 - 2 alpha: each tail alpha) */
	double confidence;  /* two-sided confidence of the interval, e.g. 0.95 */
	size_t resamples;   /* bootstrap resamples, e.g. 1000 */
	uint64_t seed;
	double quantile;    /* the statistic of each block the ratio speaks of: a
			       quantile in (0, 1) (0.5: the median; the gate's
			       metric p95 gives 0.95), or 0 for the mean */
} mg_latency_policy;
#define MG_LATENCY_POLICY_INIT {1.05, 0.01, 0.95, 1000, 0x6d6f64656c676174ull, 0.5}

/* Three outcomes: regression (fail), clear with no regression (pass), or
 * inconclusive (the interval straddles the limit, or too few blocks). */
typedef struct mg_latency_verdict {
	double ratio;   /* geometric mean of the paired block ratios (median of
			   candidate over median of baseline under 2 blocks) */
	double lo, hi;  /* t confidence interval of the ratio over the blocks;
			   NAN under 2 blocks */
	double p_value; /* one-sided Mann-Whitney over all samples (shown, not
			   used for the verdict) */
	size_t blocks;  /* paired blocks the interval is over */
	double spread;  /* standard deviation of the log block ratios */
	int regression; /* lo > max_ratio: the interval is entirely above */
	int inconclusive; /* neither: the interval straddles the limit */
	int clear;      /* !inconclusive */
} mg_latency_verdict;

/* The p quantile (0.5 < p < 1) of Student's t with df degrees of freedom. */
double mg_t_quantile(double p, double df);

/* Compares candidate with baseline samples under the policy. The samples
 * are in paired blocks of `block`: block i of each side is samples
 * [i*block, (i+1)*block), measured next to each other; each pair gives the
 * ratio of the blocks' statistic (pol->quantile: the gate's metric), so the
 * ratio and its interval speak of the statistic the gate reports. */
int mg_latency_compare(const double *cand, size_t nc, const double *base, size_t nb, size_t block,
		       const mg_latency_policy *pol, mg_latency_verdict *out, mg_error *err);

/* Where latency samples come from: run_block runs `iterations` timed
 * inferences of the baseline (which = 0) or the candidate (which = 1) and
 * writes each one's time in nanoseconds to out_ns; now() is a monotonic
 * clock in seconds. A target, or a simulation in the tests. */
typedef struct mg_latency_source {
	int (*run_block)(void *ctx, int which, size_t iterations, double *out_ns, mg_error *err);
	double (*now)(void *ctx);
	void *ctx;
} mg_latency_source;

typedef struct mg_latency_plan {
	size_t block;          /* iterations per block, e.g. 10 */
	size_t min_iterations; /* per side before any verdict */
	size_t max_iterations; /* per side, a hard cap */
	double max_time;       /* seconds; stop at the next block boundary after it */
	int with_baseline;     /* 0: measure the candidate alone */
	double noise_spread;   /* block-median spread that flags a noisy machine */
	mg_latency_policy policy;
} mg_latency_plan;
#define MG_LATENCY_PLAN_INIT {10, 100, 100000, 60, 1, 0.25, MG_LATENCY_POLICY_INIT}

/* The measured samples and the comparison, in report.h's terms. */
struct mg_latency_detail;

/* Measures in interleaved blocks (baseline, candidate, candidate,
 * baseline, ... so that drift falls on both), and stops early once the
 * minimum is met and the verdict is clear, or when the time budget or the
 * cap is reached. Fills detail (samples, ratio, interval, p-value, noise
 * flag, stopped_early) and, with a baseline, verdict. */
int mg_latency_measure(const mg_latency_source *src, const mg_latency_plan *plan,
		       struct mg_latency_detail *detail, mg_latency_verdict *verdict, mg_error *err);

/* Flags a noisy machine: the medians of interleaved baseline blocks differ
 * by more than max_spread (relative to their median). block_medians are the
 * per-block medians in order, in ns. Writes a one-line note when noisy,
 * its figures in ms. */
int mg_latency_noisy(const double *block_medians, size_t nblocks, double max_spread,
		     char *note, size_t notelen);

/* ---- metrics of model outputs ---------------------------------------- */

/* Non-finite values: one NaN or infinity among the values a figure below is
 * computed from makes the figure NaN (it fails every limit); only the SNR of
 * identical finite outputs is INFINITY. mg_nonfinite_count counts them: the
 * NaN values into *nan and the infinite ones into *inf (either may be
 * NULL); it returns both together. */
size_t mg_nonfinite_count(const float *v, size_t n, size_t *nan, size_t *inf);

/* Classifier quality from scores (n rows of c classes, row-major; logits or
 * probabilities) against integer labels in [0, c). */
typedef struct mg_class_metrics {
	size_t n, nclasses, k;
	double top1, topk;         /* fractions in [0, 1] */
	double *precision, *recall, *f1; /* per class; NAN when undefined */
	double macro_f1;           /* mean F1 over classes that occur */
	uint64_t *confusion;       /* confusion[true * nclasses + predicted] */
	size_t nonfinite;          /* NaN/Inf scores: then every figure is NAN and
				      the confusion matrix empty */
} mg_class_metrics;

int mg_class_metrics_compute(mg_class_metrics **out, const float *scores, size_t n, size_t c,
			     const int64_t *labels, size_t k, mg_error *err);
void mg_class_metrics_free(mg_class_metrics *m);

/* Regression quality: mean absolute and root mean square error. */
int mg_regression_metrics(const float *pred, const float *target, size_t n, double *mae,
			  double *rmse, mg_error *err);

/* How closely a candidate reproduces reference outputs (e.g. an int8 model
 * against its fp32 baseline). Rows of c values; top-1 agreement compares
 * the arg-max of each row. */
typedef struct mg_fidelity {
	double max_abs, mean_abs;
	double cosine;     /* over the flattened outputs */
	double snr_db;     /* 10 log10(sum ref^2 / sum (cand-ref)^2); INFINITY if equal */
	double top1_agree; /* fraction of rows with the same arg-max */
} mg_fidelity;

int mg_fidelity_compute(mg_fidelity *out, const float *cand, const float *ref, size_t n,
			size_t c, mg_error *err);
/* Where the n x c finite outputs cand differ from ref: the histogram of
 * |cand - ref| and the worst rows (report.h's mg_fidelity_detail). */
struct mg_fidelity_detail;
void mg_fidelity_detail_compute(struct mg_fidelity_detail *out, const float *cand, const float *ref,
				size_t n, size_t c);

#endif
