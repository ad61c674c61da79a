/* Unit tests of the gate run without an agent: every gate kind's verdicts,
 * reasons and error paths, with a fake target (validator/target_if.h)
 * that gives canned outputs, latencies and peak memory and can refuse to
 * start or fail on its Nth call; and the report assembled from it all. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "formats/model_info.h"
#include "formats/quant.h"
#include "validator/report.h"
#include "validator/report_priv.h"
#include "validator/target_if.h"
#include "validator/validator.h"
#include "scratch.h"

#define MODEL "examples/digits/model_int8.onnx"
#define BASE "examples/digits/model.onnx"
#define ROWS 4
#define CLASSES 10

static const char *tmp; /* the dataset and config folder */
static char model[1024], base[1024];

/* ---- the fake target ------------------------------------------------------ */

typedef struct fake {
	float out[2][ROWS * CLASSES]; /* outputs on the dataset: [0] baseline, [1] candidate */
	double ms[2];                 /* each inference's time */
	double jitter;                /* each block's speed: x(1 +- jitter), a drifting machine */
	unsigned delay_us;            /* each measure call takes this long on the clock */
	uint64_t peak_rss;
	double instructions[2];       /* per inference: [0] baseline, [1] candidate */
	const char *no_counter;       /* why cost cannot count here, or NULL */
	int no_secondary;             /* cost: the counter has no cache figures */
	const char *refuse;           /* a spec that does not start */
	int fail_at;                  /* the fail_at-th run, measure or peak_rss fails; 0: none */
	const char *remove;           /* a file that start removes */
	int calls, started, stopped, refused;
	size_t rows;                  /* rows of the dataset (0: ROWS) */
	const char *base;             /* the baseline's path (NULL: base) */
	mg_tensor *canned[2];         /* outputs given instead of out[] (copied), or NULL */
	int keep_given;               /* keep given[] (the test frees them) */
	mg_tensor *given[2];          /* a copy of the input each model was given last */
	uint64_t rng;
	mg_sysinfo sys;
	mg_target_info info;
} fake;

static int fail_now(fake *f, mg_error *err)
{
	if (f->fail_at && ++f->calls == f->fail_at)
		return mg_error_set(err, MG_ENET, "the agent stopped answering");
	return 0;
}

static int fake_start(void *ctx, void **out, const char *spec, mg_error *err)
{
	fake *f = ctx;
	*out = NULL;
	if (f->refuse && !strcmp(spec, f->refuse)) {
		f->refused++;
		return mg_error_set(err, MG_ENET, "cannot reach '%s'", spec);
	}
	if (f->remove)
		unlink(f->remove);
	f->started++;
	*out = f;
	return 0;
}

static const mg_target_info *fake_info(void *ctx, void *t)
{
	(void)t;
	return &((fake *)ctx)->info;
}

static int fake_load(void *ctx, void *t, const char *path, int threads, mg_model *out,
		     mg_error *err)
{
	(void)t, (void)threads, (void)err;
	memset(out, 0, sizeof(*out));
	out->handle = strcmp(path, ((fake *)ctx)->base ? ((fake *)ctx)->base : base) ? 2 : 1; /* which + 1 */
	return 0;
}

static int fake_run(void *ctx, void *t, const mg_model *m, mg_tensor *const *inputs, size_t ninputs,
		    mg_tensor ***out, size_t *nout, mg_error *err)
{
	(void)t;
	fake *f = ctx;
	assert_int_equal(ninputs, 1);
	assert_int_equal(inputs[0]->dims[0], f->rows ? f->rows : ROWS);
	int rc = fail_now(f, err);
	if (rc)
		return rc;
	mg_tensor **o = calloc(1, sizeof(*o)), **given = &f->given[m->handle - 1];
	const mg_tensor *canned = f->canned[m->handle - 1], *in = inputs[0];
	assert_non_null(o);
	if (f->keep_given) {
		mg_tensor_free(*given);
		assert_int_equal(mg_tensor_new(given, in->name, in->dtype, in->dims, in->rank, err), 0);
		memcpy((*given)->data, in->data, in->nbytes);
	}
	if (canned) {
		assert_int_equal(mg_tensor_new(&o[0], canned->name, canned->dtype, canned->dims, canned->rank, err), 0);
		memcpy(o[0]->data, canned->data, canned->nbytes);
	} else {
		assert_int_equal(mg_tensor_new(&o[0], "scores", MG_DT_FLOAT32, (int64_t[]){ROWS, CLASSES}, 2, err), 0);
		memcpy(o[0]->data, f->out[m->handle - 1], sizeof(f->out[0]));
	}
	*out = o;
	*nout = 1;
	return 0;
}

static double fake_uniform(fake *f)
{
	f->rng ^= f->rng << 13;
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return (double)(f->rng >> 11) / 9007199254740992.0;
}

/* Each inference takes ms[which] with +-4% of deterministic noise, and
 * each call's speed varies by jitter. */
static int fake_measure(void *ctx, void *t, const mg_model *m, mg_tensor *const *inputs,
			size_t ninputs, uint32_t warmup, size_t iterations, double *out_ns,
			mg_error *err)
{
	(void)t, (void)warmup;
	fake *f = ctx;
	if (f->keep_given) {
		assert_int_equal(ninputs, 1);
		mg_tensor **given = &f->given[m->handle - 1];
		mg_tensor_free(*given);
		assert_int_equal(mg_tensor_new(given, inputs[0]->name, inputs[0]->dtype, inputs[0]->dims,
					       inputs[0]->rank, err), 0);
		memcpy((*given)->data, inputs[0]->data, inputs[0]->nbytes);
	}
	int rc = fail_now(f, err);
	double speed = 1 + f->jitter * (2 * fake_uniform(f) - 1);
	if (f->delay_us)
		usleep(f->delay_us);
	for (size_t i = 0; !rc && i < iterations; i++)
		out_ns[i] = f->ms[m->handle - 1] * 1e6 * speed * (0.96 + 0.08 * fake_uniform(f));
	return rc;
}

static int fake_peak_rss(void *ctx, void *t, uint64_t *out, mg_error *err)
{
	(void)t;
	fake *f = ctx;
	*out = f->peak_rss;
	return fail_now(f, err);
}

static void fake_unload(void *ctx, void *t, const mg_model *m)
{
	(void)ctx, (void)t, (void)m;
}

static int fake_cost(void *ctx, void *t, const char *spec, const char *const *paths, size_t n,
		     int threads, mg_tensor *const *inputs, size_t ninputs, uint32_t runs,
		     mg_cost_result *out, mg_error *err)
{
	(void)t, (void)spec, (void)inputs, (void)ninputs;
	fake *f = ctx;
	assert_int_equal(threads, 1); /* one intra-op thread, whatever the target says */
	assert_true(runs == 0); /* the counter chooses unless the gate says */
	if (f->no_counter)
		return mg_error_set(err, MG_ENOTFOUND, "%s", f->no_counter);
	int rc = fail_now(f, err);
	for (size_t i = 0; !rc && i < n; i++) {
		double ir = f->instructions[strcmp(paths[i], base) ? 1 : 0];
		out[i] = (mg_cost_result){ir, f->no_secondary ? NAN : ir / 4, f->no_secondary ? NAN : ir / 1000,
					  runs, "callgrind", "valgrind-3.19.0"};
	}
	return rc;
}

static void fake_stop(void *ctx, void *t)
{
	assert_ptr_equal(ctx, t);
	((fake *)ctx)->stopped++;
}

/* Outputs that classify the first `right` rows (labels 0, 1, 2, 3) right
 * and the others wrong. */
static void classify(fake *f, int which, size_t right)
{
	for (size_t r = 0; r < ROWS; r++)
		for (size_t k = 0; k < CLASSES; k++)
			f->out[which][r * CLASSES + k] = k == (r < right ? r : r + 1) ? 4.0f : 0.1f * (float)k;
}

static void fake_init(fake *f)
{
	memset(f, 0, sizeof(*f));
	classify(f, 0, ROWS);
	classify(f, 1, ROWS);
	f->ms[0] = f->ms[1] = 1.0;
	f->peak_rss = 100u << 20;
	f->instructions[0] = f->instructions[1] = 1e6;
	f->rng = 88172645463325252ull;
	snprintf(f->sys.cpu_model, sizeof(f->sys.cpu_model), "fake cpu");
	f->sys.ncpu = 4;
	f->sys.loadavg1 = 0.5;
	f->info = (mg_target_info){"local", "local", "x86_64", "fake", "1.0", 0, 0, &f->sys};
}

/* ---- running gates ---------------------------------------------------------- */

#define TARGETS "{\"host\": \"local\", \"board\": \"ssh://board\"}"

typedef struct run {
	const char *model;   /* NULL: MODEL */
	const char *targets; /* the config's "targets"; NULL: TARGETS */
	const char *labels;  /* NULL: y.npy */
	const char *const *only;
	size_t nonly;
	const char *target;  /* --target */
	const char *inputs;  /* the dataset's inputs; NULL: x.npy */
	const char *baseline; /* NULL: BASE */
} run;

/* Gates `gates` (a JSON array) with fake f; the report, or NULL with err
 * set. Every target started is stopped. */
static mg_report *gate_with(fake *f, const run *o, const char *gates, mg_error *err)
{
	char text[8192], path[600];
	snprintf(text, sizeof(text),
		 "{\"model\": \"%s\", \"baseline\": \"%s\", \"dataset\": {\"inputs\": \"%s\", \"labels\": \"%s\"},"
		 " \"targets\": %s, \"gates\": %s}",
		 o->model ? o->model : model, o->baseline ? o->baseline : base, o->inputs ? o->inputs : "x.npy",
		 o->labels ? o->labels : "y.npy", o->targets ? o->targets : TARGETS, gates);
	snprintf(path, sizeof(path), "%s/modelgate.json", tmp);
	mg_config *cfg = NULL;
	assert_int_equal(mg_config_parse(&cfg, text, strlen(text), path, err), 0);
	mg_target_if tif = {fake_start,	   fake_info,	fake_load, fake_run,  fake_measure,
			    fake_peak_rss, fake_unload, fake_stop, fake_cost, f};
	mg_gate_opts opts = MG_GATE_OPTS_INIT;
	opts.targets = &tif;
	opts.only = o->only;
	opts.nonly = o->nonly;
	opts.target = o->target;
	opts.tool_version = "test";
	mg_report *r = NULL;
	if (mg_gate_run(&r, cfg, &opts, err))
		r = NULL;
	mg_config_free(cfg);
	assert_int_equal(f->started, f->stopped);
	return r;
}

static mg_report *gate(fake *f, const char *gates)
{
	mg_error err = {0};
	run o = {0};
	mg_report *r = gate_with(f, &o, gates, &err);
	if (!r)
		fail_msg("gate: %s", err.msg);
	return r;
}

static const mg_gate_result *result(const mg_report *r, const char *name)
{
	for (size_t i = 0; i < r->ngates; i++)
		if (!strcmp(r->gates[i].name, name))
			return &r->gates[i];
	fail_msg("no gate '%s' in the report", name);
	return NULL;
}

static const mg_figure *figure(const mg_gate_result *g, const char *name)
{
	for (size_t i = 0; i < g->nfigures; i++)
		if (!strcmp(g->figures[i].name, name))
			return &g->figures[i];
	fail_msg("no figure '%s' in gate '%s'", name, g->name);
	return NULL;
}

#define assert_status(g, s, text)                                                          \
	do {                                                                               \
		assert_int_equal((g)->status, (s));                                        \
		if (!strstr((g)->reason, (text)))                                          \
			fail_msg("reason '%s' lacks '%s'", (g)->reason, (text));          \
	} while (0)

/* Gating is bad input (exit 2) with a message that holds text. */
static void assert_bad_input(const run *o, const char *gates, const char *text)
{
	fake f;
	fake_init(&f);
	mg_error err = {0};
	assert_null(gate_with(&f, o, gates, &err));
	assert_int_equal(err.code, MG_EINVAL);
	if (!strstr(err.msg, text))
		fail_msg("error '%s' lacks '%s'", err.msg, text);
}

#define assert_near(x, y, tol) assert_true(fabs((x) - (y)) <= (tol))

/* ---- accuracy ---------------------------------------------------------------- */

#define ACCURACY "{\"name\": \"acc\", \"kind\": \"accuracy\", \"metric\": \"top1\", \"min\": 0.75, \"max_drop\": 0.1}"

static void test_accuracy_passes_against_its_minimum_and_the_baseline(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	mg_report *r = gate(&f, "[" ACCURACY "]");
	const mg_gate_result *g = result(r, "acc");
	assert_status(g, MG_GATE_PASS, "top1 1 >= 0.75; dropped top1 by 0 against the baseline (allowed 0.1)");
	assert_string_equal(g->metric, "top1");
	assert_near(g->value, 1, 1e-12);
	assert_near(g->baseline, 1, 1e-12);
	assert_near(g->limit, 0.75, 1e-12);
	assert_int_equal(g->limit_is, MG_LIMIT_MIN);
	assert_near(figure(g, "macro_f1")->value, 1, 1e-12);
	assert_non_null(g->confusion);
	assert_int_equal(g->confusion->n, CLASSES);
	assert_int_equal(g->confusion->counts[3 * CLASSES + 3], 1);
	assert_non_null(g->base_confusion); /* the baseline's, beside it in the reports */
	assert_memory_equal(g->base_confusion->counts, g->confusion->counts, CLASSES * CLASSES * sizeof(uint64_t));
	assert_null(g->target);
	assert_true(rp_severity(g) == 0);
	assert_int_equal(mg_report_exit_code(r), MG_EXIT_OK);
	mg_report_free(r);
}

static void test_accuracy_fails_below_its_minimum_and_on_a_drop(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	classify(&f, 1, 2);
	mg_report *r = gate(&f, "[" ACCURACY "]");
	const mg_gate_result *g = result(r, "acc");
	assert_status(g, MG_GATE_FAIL, "top1 0.5 < 0.75; dropped top1 by 0.5 against the baseline (allowed 0.1)");
	assert_near(g->value, 0.5, 1e-12);
	uint64_t right = 0, base_right = 0;
	for (size_t k = 0; k < CLASSES; k++) {
		right += g->confusion->counts[k * CLASSES + k];
		base_right += g->base_confusion->counts[k * CLASSES + k];
	}
	assert_int_equal(right, 2);
	assert_int_equal(base_right, ROWS);
	assert_near(rp_severity(g), (0.75 - 0.5) / 0.75, 1e-12);
	assert_int_equal(mg_report_status(r), MG_GATE_FAIL);
	assert_int_equal(mg_report_exit_code(r), MG_EXIT_GATE);
	mg_report_free(r);
}

static void test_accuracy_labels_outside_the_classes_are_bad_input(void **state)
{
	(void)state;
	run o = {.labels = "y_bad.npy"};
	assert_bad_input(&o, "[" ACCURACY "]", "gate 'acc': ");
	assert_bad_input(&o, "[" ACCURACY "]", "(labels 'y_bad.npy')");
}

/* ---- fidelity ------------------------------------------------------------------ */

#define FIDELITY "{\"name\": \"fid\", \"kind\": \"fidelity\", \"min_cosine\": 0.99, \"max_abs\": 0.5}"

static void test_fidelity_passes_on_equal_outputs_and_fails_past_a_limit(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	mg_report *r = gate(&f, "[" FIDELITY "]");
	const mg_gate_result *g = result(r, "fid");
	assert_status(g, MG_GATE_PASS, "against the baseline: cosine 1 >= 0.99; max_abs 0 <= 0.5");
	assert_near(figure(g, "top1_agreement")->value, 1, 1e-12);
	assert_true(isinf(figure(g, "snr_db")->value));
	assert_non_null(g->fidelity);
	assert_int_equal(g->fidelity->nworst, 0); /* no row differs */
	assert_int_equal(g->fidelity->hist[0], ROWS * CLASSES);
	mg_report_free(r);

	f.out[1][5] += 2.0f;
	r = gate(&f, "[" FIDELITY "]");
	g = result(r, "fid");
	assert_status(g, MG_GATE_FAIL, "max_abs 2 > 0.5");
	assert_string_equal(g->metric, "max_abs");
	assert_near(g->value, 2, 1e-6);
	assert_near(g->limit, 0.5, 1e-12);
	assert_int_equal(g->limit_is, MG_LIMIT_MAX);
	assert_true(rp_severity(g) > 0);
	/* the one differing value: the last bin of the histogram, the one worst row */
	assert_near(g->fidelity->hist_max, 2, 1e-6);
	assert_int_equal(g->fidelity->hist[MG_FIDELITY_BINS - 1], 1);
	assert_int_equal(g->fidelity->hist[0], ROWS * CLASSES - 1);
	assert_int_equal(g->fidelity->nworst, 1);
	assert_int_equal(g->fidelity->worst[0].row, 5 / CLASSES);
	assert_int_equal(g->fidelity->worst[0].index, 5 % CLASSES);
	assert_near(g->fidelity->worst[0].got - g->fidelity->worst[0].expected, 2, 1e-6);
	f.out[1][2 * CLASSES + 1] -= 3.0f; /* a worse row comes first */
	mg_report_free(r);
	r = gate(&f, "[" FIDELITY "]");
	g = result(r, "fid");
	assert_int_equal(g->fidelity->nworst, 2);
	assert_int_equal(g->fidelity->worst[0].row, 2);
	assert_int_equal(g->fidelity->worst[0].index, 1);
	assert_int_equal(g->fidelity->worst[1].row, 0);
	mg_report_free(r);
}

/* ---- non-finite outputs (issue 12) ----------------------------------------------- */

static void test_nonfinite_candidate_outputs_fail_accuracy_and_fidelity(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.out[1][7] = NAN;
	mg_report *r = gate(&f, "[" ACCURACY ", " FIDELITY "]");
	const mg_gate_result *acc = result(r, "acc"), *fid = result(r, "fid");
	assert_status(acc, MG_GATE_FAIL, "the candidate's outputs hold 1 NaN and 0 infinite values (of 40)");
	assert_true(isnan(acc->value));
	assert_null(acc->confusion);
	assert_status(fid, MG_GATE_FAIL, "the candidate's outputs hold 1 NaN and 0 infinite values (of 40)");
	assert_int_equal(mg_report_exit_code(r), MG_EXIT_GATE);
	mg_report_free(r);
}

static void test_nonfinite_baseline_outputs_are_an_error(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.out[0][0] = INFINITY;
	mg_report *r = gate(&f, "[" ACCURACY ", " FIDELITY "]");
	const char *why = "the baseline's outputs hold 0 NaN and 1 infinite values (of 40): there is nothing to compare with";
	assert_status(result(r, "acc"), MG_GATE_ERROR, why);
	assert_status(result(r, "fid"), MG_GATE_ERROR, why);
	assert_int_equal(mg_report_exit_code(r), MG_EXIT_INFRA);
	mg_report_free(r);
}

/* ---- latency ------------------------------------------------------------------ */

/* a p95 latency gate; limits in extra, or max_ms 2 */
#define LATENCY(name, target, extra)                                                                \
	"{\"name\": \"" name "\", \"kind\": \"latency\", \"target\": \"" target "\", \"metric\": \"p95\"" \
	extra "}"
#define MS2 ", \"max_ms\": 2"

static void test_latency_passes_under_its_ceiling_and_fails_over_it(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	mg_report *r = gate(&f, "[" LATENCY("lat", "host", MS2) "]");
	const mg_gate_result *g = result(r, "lat");
	assert_status(g, MG_GATE_PASS, " ms <= 2 ms");
	assert_string_equal(g->target, "host");
	assert_string_equal(g->metric, "p95_ms");
	assert_true(g->value > 0.96 && g->value < 1.04);
	assert_int_equal(g->limit_is, MG_LIMIT_MAX);
	assert_true(isnan(g->baseline));
	assert_non_null(g->latency);
	assert_int_equal(g->latency->ncand, 100);
	assert_int_equal(g->latency->nbase, 0);
	assert_string_equal(g->fingerprint->cpu_model, "fake cpu");
	assert_string_equal(g->fingerprint->engine, "fake 1.0");
	mg_report_free(r);

	f.ms[1] = 3;
	r = gate(&f, "[" LATENCY("lat", "host", MS2) "]");
	g = result(r, "lat");
	assert_status(g, MG_GATE_FAIL, " ms > 2 ms");
	assert_true(g->value > 2.88 && g->value < 3.12);
	assert_true(rp_severity(g) > 0.4);
	mg_report_free(r);
}

static void test_latency_catches_a_regression_against_the_baseline(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.ms[1] = 1.5;
	const char *gates = "[" LATENCY("lat", "host", ", \"max_ms\": 10, \"max_ratio\": 1.2") "]";
	mg_report *r = gate(&f, gates);
	const mg_gate_result *g = result(r, "lat");
	assert_status(g, MG_GATE_FAIL, "entirely above the allowed 1.2x: a regression");
	assert_near(g->latency->ratio, 1.5, 0.05);
	assert_true(g->latency->nbase >= 100 && g->latency->ncand == g->latency->nbase);
	assert_near(figure(g, "ratio")->value, g->latency->ratio, 1e-12);
	/* one statistic: the gate's (its metric), in the headline and the ratio */
	assert_non_null(strstr(g->reason, "x the baseline's"));
	assert_true(g->baseline > 0.96 && g->baseline < 1.04);
	assert_near(g->value / g->baseline, g->latency->ratio, 0.08);
	mg_report_free(r);

	f.ms[1] = 1.0;
	r = gate(&f, gates);
	assert_status(result(r, "lat"), MG_GATE_PASS, "entirely within the allowed 1.2x: no regression");
	mg_report_free(r);
}

/* A model against itself on a machine whose speed drifts by +-30% from
 * block to block: never a failure. */
static void test_latency_aa_on_a_jittery_machine_never_fails(void **state)
{
	(void)state;
	size_t pass = 0, inconclusive = 0;
	for (int k = 0; k < 20; k++) {
		fake f;
		fake_init(&f);
		f.rng += (uint64_t)k * 7919;
		f.jitter = 0.3;
		mg_report *r = gate(&f, "[" LATENCY("lat", "host", ", \"max_ratio\": 1.05, \"max_time\": 0.3") "]");
		const mg_gate_result *g = result(r, "lat");
		assert_int_not_equal(g->status, MG_GATE_FAIL);
		pass += g->status == MG_GATE_PASS;
		inconclusive += g->status == MG_GATE_INCONCLUSIVE;
		assert_int_equal(mg_report_exit_code(r), MG_EXIT_OK);
		mg_report_free(r);
	}
	assert_int_equal(pass + inconclusive, 20);
}

static void test_latency_a_clear_regression_fails_on_a_jittery_machine(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.ms[1] = 1.2;
	f.jitter = 0.05;
	mg_report *r = gate(&f, "[" LATENCY("lat", "host", ", \"max_ratio\": 1.05, \"max_time\": 5") "]");
	const mg_gate_result *g = result(r, "lat");
	assert_status(g, MG_GATE_FAIL, "entirely above the allowed 1.05x: a regression");
	assert_near(g->latency->ratio, 1.2, 0.03);
	assert_true(g->latency->ratio_lo > 1.05 && g->latency->blocks >= 10);
	assert_int_equal(mg_report_exit_code(r), MG_EXIT_GATE);
	mg_report_free(r);
}

/* A candidate right at the limit, measured in few blocks (each takes 10 ms
 * and the budget is 0.05 s: 2 to 4 paired blocks, however fast the
 * machine): the interval straddles the limit at every look. */
#define STRADDLE ", \"max_ratio\": 1.05, \"max_time\": 0.05, \"min_iterations\": 20"
static void test_latency_straddling_the_limit_is_inconclusive(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.ms[1] = 1.05;
	f.jitter = 0.1;
	f.delay_us = 10000;
	mg_report *r = gate(&f, "[" LATENCY("lat", "host", STRADDLE) "]");
	const mg_gate_result *g = result(r, "lat");
	assert_status(g, MG_GATE_INCONCLUSIVE, "straddles the allowed 1.05x");
	assert_status(g, MG_GATE_INCONCLUSIVE, "to resolve it: a longer max_time");
	assert_status(g, MG_GATE_INCONCLUSIVE, "a quieter runner, or a cost gate (on_inconclusive: warn");
	assert_true(g->latency->blocks >= 2 && g->latency->blocks <= 6);
	assert_true(g->latency->ratio_lo <= 1.05 && 1.05 < g->latency->ratio_hi);
	assert_int_equal(mg_report_status(r), MG_GATE_PASS); /* warn: not a failure */
	assert_int_equal(mg_report_exit_code(r), MG_EXIT_OK);
	mg_report_free(r);

	/* a max_ms that fails decides, and the ratio is said for what it is */
	r = gate(&f, "[" LATENCY("lat", "host", ", \"max_ms\": 0.5" STRADDLE) "]");
	g = result(r, "lat");
	assert_status(g, MG_GATE_FAIL, " ms > 0.5 ms; ");
	assert_status(g, MG_GATE_FAIL, "straddles the allowed 1.05x (inconclusive on its own)");
	mg_report_free(r);
}

/* Each block takes 20 ms: 0.1 s gives about 30 samples a side of the
 * 100 the gate needs, whatever they say. */
static void test_latency_too_few_samples_is_inconclusive(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.ms[1] = 2.0; /* a regression, but not measured enough to say so */
	f.delay_us = 20000;
	mg_report *r = gate(&f, "[" LATENCY("lat", "host", ", \"max_ratio\": 1.05, \"max_time\": 0.1") ","
			       LATENCY("abs", "host", ", \"max_ms\": 1, \"max_time\": 0.1") "]");
	const mg_gate_result *g = result(r, "lat");
	assert_status(g, MG_GATE_INCONCLUSIVE, "fewer than the minimum of 100, so no verdict");
	assert_true(g->latency->too_few && g->latency->ncand < 100);
	assert_status(result(r, "abs"), MG_GATE_INCONCLUSIVE, "fewer than the minimum of 100");
	mg_report_free(r);
}

static void test_on_inconclusive_sets_the_exit_code(void **state)
{
	(void)state;
	static const struct {
		const char *policy;
		int exit_code;
	} cases[] = {{"", MG_EXIT_OK}, {", \"on_inconclusive\": \"warn\"", MG_EXIT_OK},
		     {", \"on_inconclusive\": \"pass\"", MG_EXIT_OK},
		     {", \"on_inconclusive\": \"fail\"", MG_EXIT_GATE}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fake f;
		fake_init(&f);
		f.delay_us = 20000;
		char gates[512];
		snprintf(gates, sizeof(gates), "[" LATENCY("lat", "host", ", \"max_ratio\": 1.05, \"max_time\": 0.05%s") "]",
			 cases[i].policy);
		mg_report *r = gate(&f, gates);
		assert_int_equal(result(r, "lat")->status, MG_GATE_INCONCLUSIVE);
		assert_int_equal(mg_report_exit_code(r), cases[i].exit_code);
		mg_report_free(r);
	}
}

/* An absolute limit on emulated time is refused before anything runs,
 * whether the config or --target names qemu. */
static void test_latency_max_ms_on_an_emulated_target_is_bad_input(void **state)
{
	(void)state;
	run o = {.targets = "{\"emu\": \"qemu-aarch64\"}"};
	assert_bad_input(&o, "[" LATENCY("lat", "emu", MS2) "]",
			 "gate 'lat': max_ms is an absolute time limit, and target 'emu' (qemu-aarch64) is emulated");
	assert_bad_input(&o, "[" LATENCY("lat", "emu", MS2) "]", "use max_ratio against a baseline measured the same way");
	run over = {.target = "qemu-aarch64"};
	assert_bad_input(&over, "[" LATENCY("lat", "host", MS2) "]", "target 'host' (qemu-aarch64) is emulated");

	fake f; /* allowed, or a ratio: it runs */
	fake_init(&f);
	mg_error err = {0};
	mg_report *r = gate_with(&f, &o, "[" LATENCY("lat", "emu", MS2 ", \"allow_emulated_absolute\": true") ","
				 LATENCY("ratio", "emu", ", \"max_ratio\": 1.2") "]", &err);
	assert_non_null(r);
	assert_int_equal(result(r, "lat")->status, MG_GATE_PASS);
	mg_report_free(r);
}

static void test_reasons_print_limits_as_written(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	mg_report *r = gate(&f, "[{\"name\": \"acc\", \"kind\": \"accuracy\", \"min\": 0.99995}]");
	assert_status(result(r, "acc"), MG_GATE_PASS, "top1 1 >= 0.99995");
	mg_report_free(r);
	classify(&f, 1, 3);
	r = gate(&f, "[{\"name\": \"fid\", \"kind\": \"fidelity\", \"min_top1_agreement\": 0.99995}]");
	assert_status(result(r, "fid"), MG_GATE_FAIL, "top1_agreement 0.75 < 0.99995");
	mg_report_free(r);
}

static void test_more_threads_than_cpus_is_bad_input(void **state)
{
	(void)state;
	run o = {.targets = "{\"host\": {\"spec\": \"local\", \"threads\": 8}}"};
	assert_bad_input(&o, "[" LATENCY("lat", "host", MS2) "]",
			 "targets.host.threads: 8 is more than the 4 CPUs of the target");
}

/* ---- memory ------------------------------------------------------------------- */

#define MEMORY "{\"name\": \"mem\", \"kind\": \"memory\", \"target\": \"host\", \"max_rss_mb\": 512}"

static void test_memory_passes_fails_and_errors(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	mg_report *r = gate(&f, "[" MEMORY "]");
	const mg_gate_result *g = result(r, "mem");
	assert_status(g, MG_GATE_PASS, "peak RSS 100 MiB <= 512 MiB (baseline 100 MiB, +0.0%)");
	assert_near(g->value, 100, 1e-9);
	assert_near(g->baseline, 100, 1e-9); /* the baseline's peak, measured on the same target */
	assert_string_equal(g->unit, "MiB");
	assert_non_null(g->fingerprint);
	assert_int_equal(f.started, 3); /* the shared target, and one for each model alone */
	mg_report_free(r);

	fake_init(&f);
	f.peak_rss = 600u << 20;
	r = gate(&f, "[" MEMORY "]");
	assert_status(result(r, "mem"), MG_GATE_FAIL, "peak RSS 600 MiB > 512 MiB (baseline 600 MiB, +0.0%)");
	mg_report_free(r);

	fake_init(&f);
	f.fail_at = 2; /* the runs, then the memory reading */
	r = gate(&f, "[" MEMORY "]");
	assert_status(result(r, "mem"), MG_GATE_ERROR, "on target 'host': the agent stopped answering");
	assert_true(isnan(result(r, "mem")->value));
	mg_report_free(r);
}

/* ---- cost ------------------------------------------------------------------ */

#define COST "{\"name\": \"cost\", \"kind\": \"cost\", \"target\": \"host\", \"max_ratio\": 1.01, \"max_instructions\": 2e6}"

static void test_cost_passes_on_the_same_count_and_says_what_counted(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	mg_report *r = gate(&f, "[" COST "]");
	const mg_gate_result *g = result(r, "cost");
	assert_status(g, MG_GATE_PASS, "1000000 instructions per inference <= 2000000; 1.0000x the baseline's "
		      "1000000 instructions (allowed 1.01x); counted by callgrind (valgrind-3.19.0)");
	assert_string_equal(g->counter, "callgrind (valgrind-3.19.0)");
	assert_string_equal(g->metric, "instructions");
	assert_string_equal(g->unit, "instructions");
	assert_near(g->baseline, 1e6, 1e-6);
	assert_near(g->limit, 2e6, 1e-6);
	assert_near(figure(g, "ratio")->value, 1, 1e-12);
	/* the counter's secondary figures are reported, not judged */
	assert_near(figure(g, "memory accesses")->value, 2.5e5, 1e-6);
	assert_near(figure(g, "memory accesses")->baseline, 2.5e5, 1e-6);
	assert_near(figure(g, "cache misses")->value, 1e3, 1e-6);
	assert_string_equal(g->target, "host");
	mg_report_free(r);
	f.no_secondary = 1; /* a counter without them: no such figures */
	r = gate(&f, "[" COST "]");
	g = result(r, "cost");
	assert_int_equal(g->status, MG_GATE_PASS);
	for (size_t i = 0; i < g->nfigures; i++)
		assert_null(strstr(g->figures[i].name, "cache"));
	mg_report_free(r);
}

static void test_cost_fails_on_the_ratio_and_on_the_ceiling(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.instructions[1] = 1.02e6; /* 2% more compute */
	mg_report *r = gate(&f, "[" COST "]");
	const mg_gate_result *g = result(r, "cost");
	assert_status(g, MG_GATE_FAIL, "1.0200x the baseline's 1000000 instructions (allowed 1.01x); counted by callgrind");
	assert_int_equal(mg_report_exit_code(r), MG_EXIT_GATE);
	mg_report_free(r);
	f.instructions[0] = f.instructions[1] = 3e6; /* no growth, over the ceiling */
	r = gate(&f, "[" COST "]");
	g = result(r, "cost");
	assert_status(g, MG_GATE_FAIL, "3000000 instructions per inference > 2000000");
	assert_null(strstr(g->reason, "1.0000x")); /* a passing part is not in a failure's reason */
	mg_report_free(r);
}

static void test_cost_is_an_error_where_nothing_can_count(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.no_counter = "not available on emulated targets (qemu's translation would be counted)";
	mg_report *r = gate(&f, "[" COST "]");
	const mg_gate_result *g = result(r, "cost");
	assert_status(g, MG_GATE_ERROR, "on target 'host': not available on emulated targets");
	assert_null(g->counter);
	assert_int_equal(mg_report_exit_code(r), MG_EXIT_INFRA);
	mg_report_free(r);
}

/* ---- size --------------------------------------------------------------------- */

static void test_size_passes_and_fails_on_the_files(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	struct stat st, bst;
	assert_int_equal(stat(model, &st), 0);
	assert_int_equal(stat(base, &bst), 0);
	mg_report *r = gate(&f, "[{\"name\": \"size\", \"kind\": \"size\", \"max_bytes\": 1e9, \"max_growth\": 0.1}]");
	const mg_gate_result *g = result(r, "size");
	assert_int_equal(g->status, MG_GATE_PASS);
	assert_near(g->value, (double)st.st_size, 0);
	assert_near(g->baseline, (double)bst.st_size, 0);
	assert_near(figure(g, "growth")->value, ((double)st.st_size / (double)bst.st_size - 1) * 100, 1e-9);
	assert_string_equal(figure(g, "growth")->unit, "%");
	assert_true(figure(g, "compressed_bytes")->value > 0);
	assert_int_equal(f.started, 0); /* no target needed */
	mg_report_free(r);

	r = gate(&f, "[{\"name\": \"size\", \"kind\": \"size\", \"max_bytes\": 10}]");
	char want[64];
	snprintf(want, sizeof(want), "bytes %.0f > 10", (double)st.st_size);
	assert_status(result(r, "size"), MG_GATE_FAIL, want);
	mg_report_free(r);
}

static void test_size_is_an_error_when_the_model_file_is_gone(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	char copy[600];
	snprintf(copy, sizeof(copy), "%s/gone.onnx", tmp);
	mg_buf bytes = MG_BUF_INIT;
	assert_int_equal(mg_file_read(&bytes, model, 1 << 24, NULL), 0);
	assert_int_equal(mg_file_write_atomic(copy, bytes.data, bytes.len, NULL), 0);
	mg_buf_free(&bytes);
	f.remove = copy; /* by the accuracy gate's run, before the size gate */
	run o = {.model = copy};
	mg_error err = {0};
	mg_report *r = gate_with(&f, &o, "[" ACCURACY ", {\"name\": \"size\", \"kind\": \"size\", \"max_bytes\": 1e9}]",
				 &err);
	assert_non_null(r);
	assert_int_equal(result(r, "acc")->status, MG_GATE_PASS);
	assert_status(result(r, "size"), MG_GATE_ERROR, "cannot read the model files");
	assert_int_equal(mg_report_exit_code(r), MG_EXIT_INFRA);
	mg_report_free(r);
}

/* ---- targets that fail ---------------------------------------------------------- */

static void test_a_target_failing_mid_run_errs_its_gate_and_the_others_run(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.fail_at = 3; /* the two warm-ups pass, the first measured block fails */
	mg_report *r = gate(&f, "[" LATENCY("lat", "host", MS2 ", \"max_ratio\": 1.2") ", " MEMORY ", "
			    "{\"name\": \"size\", \"kind\": \"size\", \"max_bytes\": 1e9}]");
	assert_status(result(r, "lat"), MG_GATE_ERROR, "on target 'host': the agent stopped answering");
	assert_status(result(r, "mem"), MG_GATE_PASS, "peak RSS");
	assert_int_equal(result(r, "size")->status, MG_GATE_PASS);
	assert_int_equal(mg_report_status(r), MG_GATE_ERROR);
	assert_int_equal(mg_report_exit_code(r), MG_EXIT_INFRA);
	mg_report_free(r);
}

static void test_a_failing_dataset_run_errs_the_output_gates_only(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.fail_at = 1;
	mg_report *r = gate(&f, "[" ACCURACY ", " FIDELITY ", " LATENCY("lat", "host", MS2) "]");
	const char *why = "cannot run the dataset on the local target: the agent stopped answering";
	assert_status(result(r, "acc"), MG_GATE_ERROR, why);
	assert_status(result(r, "fid"), MG_GATE_ERROR, why);
	assert_int_equal(result(r, "lat")->status, MG_GATE_PASS);
	mg_report_free(r);
}

static void test_an_unreachable_target_errs_its_gates_and_is_in_the_report(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	f.refuse = "ssh://board";
	mg_report *r = gate(&f, "[" LATENCY("lat-board", "board", MS2) ", " LATENCY("lat-host", "host", MS2)
			    ", {\"name\": \"mem-board\", \"kind\": \"memory\", \"target\": \"board\", \"max_rss_mb\": 1}]");
	const char *why = "target 'board' is unreachable: cannot reach 'ssh://board'";
	assert_status(result(r, "lat-board"), MG_GATE_ERROR, why);
	assert_status(result(r, "mem-board"), MG_GATE_ERROR, why);
	assert_null(result(r, "lat-board")->fingerprint);
	assert_int_equal(result(r, "lat-host")->status, MG_GATE_PASS);
	assert_int_equal(f.refused, 1); /* tried once for both of its gates */
	assert_int_equal(r->ntargets, 2);
	for (size_t i = 0; i < r->ntargets; i++) {
		const mg_report_target *t = &r->targets[i];
		int board = !strcmp(t->name, "board");
		assert_string_equal(t->spec, board ? "ssh://board" : "local");
		if (board) {
			assert_null(t->fingerprint);
			assert_string_equal(t->error, "cannot reach 'ssh://board'");
		} else {
			assert_null(t->error);
			assert_string_equal(t->fingerprint->cpu_model, "fake cpu");
			assert_int_equal(t->fingerprint->cpu_count, 4);
		}
	}
	mg_report_free(r);
}

/* ---- the report ------------------------------------------------------------------ */

static void test_the_report_is_assembled_from_the_results(void **state)
{
	(void)state;
	fake f;
	fake_init(&f);
	const char *only[] = {"acc", "lat"};
	run o = {.only = only, .nonly = 2, .target = "host=exec:box"};
	mg_error err = {0};
	mg_report *r = gate_with(&f, &o, "[" ACCURACY ", " LATENCY("lat", "host", MS2 ", \"ci_only\": true")
				 ", {\"name\": \"size\", \"kind\": \"size\", \"max_bytes\": 1}]", &err);
	assert_non_null(r);
	assert_int_equal(r->ngates, 3);
	assert_string_equal(r->gates[0].name, "acc");
	assert_string_equal(r->gates[0].kind, "accuracy");
	assert_int_equal(r->gates[0].status, MG_GATE_PASS);
	assert_status(&r->gates[1], MG_GATE_SKIP, "runs in CI only (ci_only), and this is not CI");
	assert_string_equal(r->gates[1].target, "host");
	assert_status(&r->gates[2], MG_GATE_SKIP, "not selected (--only)");
	assert_int_equal(mg_report_status(r), MG_GATE_PASS);
	assert_string_equal(r->tool_version, "test");
	assert_string_equal(r->model, model);
	assert_string_equal(r->baseline, base);
	assert_string_equal(r->dataset, "x.npy");
	assert_true(!strncmp(r->model_digest, "sha256:", 7) && !strncmp(r->dataset_digest, "sha256:", 7));
	assert_string_equal(r->targets[0].name, "host");
	assert_string_equal(r->targets[0].spec, "exec:box"); /* after --target */
	assert_null(r->targets[0].fingerprint); /* never started */
	assert_int_equal(f.started, 1);         /* the dataset's run only */
	mg_buf json = MG_BUF_INIT;
	assert_int_equal(mg_report_write_json(&json, r, &err), 0);
	assert_non_null(strstr(mg_buf_cstr(&json), "\"status\": \"skip\""));
	mg_buf_free(&json);
	mg_report_free(r);
}

/* ---- set-up ----------------------------------------------------------------------- */

static void write_npy(const char *name, const mg_tensor *t)
{
	char path[600];
	mg_buf b = MG_BUF_INIT;
	mg_error err = {0};
	snprintf(path, sizeof(path), "%s/%s", tmp, name);
	assert_int_equal(mg_npy_write(&b, t, &err), 0);
	assert_int_equal(mg_file_write_atomic(path, b.data, b.len, &err), 0);
	mg_buf_free(&b);
}

/* ---- a quantized .tflite candidate against a float ONNX baseline ---------- */

/* Runs python3 script (a shell word list) with the path tmp/name; the path. */
static const char *python_made(const char *name, const char *script, char *path, size_t len)
{
	char cmd[2048];
	snprintf(path, len, "%s/%s", tmp, name);
	const char *py = access("/usr/bin/python3", X_OK) ? "python3" : "/usr/bin/python3";
	snprintf(cmd, sizeof(cmd), "%s %s '%s'", py, script, path);
	if (system(cmd))
		fail_msg("cannot run %s (python3-flatbuffers, python3-onnx: make deps-test)", cmd);
	return path;
}

/* An ONNX model taking "x" [1,3,8,8] (NCHW) to "y" [1,N]: what a float
 * model the int8 .tflite came from declares (the fake runs neither). */
#define ONNX_NCHW(n) \
	"-c \"import sys, numpy as np, onnx; from onnx import helper as h, TensorProto as T, numpy_helper as nh; " \
	"g = h.make_graph([h.make_node('Flatten', ['x'], ['f']), h.make_node('MatMul', ['f', 'w'], ['y'])], 'g', " \
	"[h.make_tensor_value_info('x', T.FLOAT, [1, 3, 8, 8])], [h.make_tensor_value_info('y', T.FLOAT, [1, " #n "])], " \
	"[nh.from_array(np.zeros((192, " #n "), np.float32), 'w')]); " \
	"m = h.make_model(g, opset_imports=[h.make_opsetid('', 13)]); onnx.checker.check_model(m); onnx.save(m, sys.argv[1])\""

#define FID_LAYOUT(extra) "[{\"name\": \"fid\", \"kind\": \"fidelity\", \"max_abs\": 1e-6, \"min_cosine\": 0.999" extra "}, " \
	"{\"name\": \"acc\", \"kind\": \"accuracy\", \"metric\": \"top1\", \"min\": 1, \"max_drop\": 0}]"

/* f for one image through the .tflite candidate and the baseline at
 * base_path, giving canned outputs ref and cand (NULL: the default ones),
 * keeping what each was given. */
static void fake_one_image(fake *f, const char *base_path, mg_tensor *ref, mg_tensor *cand)
{
	fake_init(f);
	f->rows = 1;
	f->base = base_path;
	f->keep_given = 1;
	f->canned[0] = ref;
	f->canned[1] = cand;
}

static void drop_given(fake *f)
{
	for (int w = 0; w < 2; w++) {
		mg_tensor_free(f->given[w]);
		f->given[w] = NULL;
	}
}

static void test_fidelity_of_an_int8_tflite_against_its_float_onnx_model(void **state)
{
	(void)state;
	char tfl[600], onnx[600], onnx12[600], cmd[700];
	snprintf(cmd, sizeof(cmd), "tests/cli/make_tflite.py int8-io");
	python_made("q.tflite", cmd, tfl, sizeof(tfl));
	python_made("b.onnx", ONNX_NCHW(10), onnx, sizeof(onnx));
	python_made("b12.onnx", ONNX_NCHW(12), onnx12, sizeof(onnx12));
	mg_model_info *mi = NULL;
	assert_int_equal(mg_model_info_read(&mi, tfl, NULL), 0);
	const mg_quant_info *qin = &mi->inputs[0].quant, *qout = &mi->outputs[0].quant;
	assert_true(qin->n == 1 && qout->n == 1);
	/* one image [1,8,8,3], label 3; the candidate's int8 logits peak at 3 */
	mg_tensor *x = NULL, *y = NULL, *cand = NULL, *ref = NULL, *ref12 = NULL, *xq = NULL;
	assert_int_equal(mg_tensor_new(&x, "input", MG_DT_FLOAT32, (int64_t[]){1, 8, 8, 3}, 4, NULL), 0);
	for (size_t i = 0; i < 192; i++)
		((float *)x->data)[i] = (float)(i % 17) * 0.05f - 0.4f;
	write_npy("x_img.npy", x);
	assert_int_equal(mg_tensor_new(&y, "y", MG_DT_INT64, (int64_t[]){1}, 1, NULL), 0);
	((int64_t *)y->data)[0] = 3;
	write_npy("y_img.npy", y);
	assert_int_equal(mg_tensor_new(&cand, "output", MG_DT_INT8, (int64_t[]){1, 10}, 2, NULL), 0);
	assert_int_equal(mg_tensor_new(&ref, "y", MG_DT_FLOAT32, (int64_t[]){1, 10}, 2, NULL), 0);
	assert_int_equal(mg_tensor_new(&ref12, "y", MG_DT_FLOAT32, (int64_t[]){1, 12}, 2, NULL), 0);
	for (int k = 0; k < 10; k++) {
		int q = (int)qout->zero_points[0] + (k == 3 ? 40 : k);
		((int8_t *)cand->data)[k] = (int8_t)q;
		((float *)ref->data)[k] = (float)((double)qout->scales[0] * (q - (double)qout->zero_points[0]));
	}
	assert_int_equal(mg_quantize(&xq, x, MG_DT_INT8, qin, NULL), 0);

	fake f;
	fake_one_image(&f, onnx, ref, cand);
	mg_error err = {0};
	run o = {.model = tfl, .baseline = onnx, .inputs = "x_img.npy", .labels = "y_img.npy"};
	mg_report *r = gate_with(&f, &o, FID_LAYOUT(", \"layout\": \"nhwc\""), &err);
	if (!r)
		fail_msg("%s", err.msg);
	/* the candidate got the image quantized by its input's parameters */
	assert_int_equal(f.given[1]->dtype, MG_DT_INT8);
	assert_int_equal(f.given[1]->dims[3], 3);
	assert_memory_equal(f.given[1]->data, xq->data, xq->nbytes);
	/* the baseline the float image, NCHW, under its own name */
	assert_int_equal(f.given[0]->dtype, MG_DT_FLOAT32);
	assert_string_equal(f.given[0]->name, "x");
	assert_true(f.given[0]->dims[1] == 3 && f.given[0]->dims[3] == 8);
	for (size_t c = 0; c < 3; c++)
		for (size_t hw = 0; hw < 64; hw++)
			assert_true(((float *)f.given[0]->data)[c * 64 + hw] == ((float *)x->data)[hw * 3 + c]);
	/* the int8 logits dequantized meet the float ones exactly */
	assert_status(result(r, "fid"), MG_GATE_PASS, "max_abs 0 <= 1e-06");
	assert_status(result(r, "fid"), MG_GATE_PASS, "inputs matched by order, outputs by order");
	assert_true(figure(result(r, "acc"), "top1")->value == 1 && figure(result(r, "acc"), "top1")->baseline == 1);
	mg_report_free(r);
	drop_given(&f);

	/* without the layout the image cannot meet the baseline: both shapes said */
	fake_one_image(&f, onnx, NULL, NULL);
	assert_null(gate_with(&f, &o, FID_LAYOUT(""), &err));
	assert_int_equal(err.code, MG_EINVAL);
	if (!strstr(err.msg, "input 'input' is [1,8,8,3], and 'x' of '") || !strstr(err.msg, "takes [1,3,8,8]"))
		fail_msg("%s", err.msg);
	/* outputs of other shapes are bad input naming both */
	fake_one_image(&f, onnx12, ref12, cand);
	o.baseline = onnx12;
	assert_null(gate_with(&f, &o, FID_LAYOUT(", \"layout\": \"nhwc\""), &err));
	assert_int_equal(err.code, MG_EINVAL);
	if (!strstr(err.msg, "gate 'fid': the candidate's output 'output' is [1,10], the baseline's 'y' [1,12]"))
		fail_msg("%s", err.msg);
	drop_given(&f);
	/* latency against the baseline measures each on its own inputs */
	fake_one_image(&f, onnx, ref, cand);
	o.baseline = onnx;
	r = gate_with(&f, &o, "[{\"name\": \"fid\", \"kind\": \"fidelity\", \"max_abs\": 1e-6, \"layout\": \"nhwc\"}, "
		      LATENCY("lat", "host", ", \"max_ratio\": 1.5, \"max_time\": 0.5, \"min_iterations\": 20") "]", &err);
	if (!r)
		fail_msg("%s", err.msg);
	assert_int_equal(result(r, "lat")->status, MG_GATE_PASS);
	assert_non_null(result(r, "lat")->latency);
	assert_true(result(r, "lat")->latency->nbase > 0); /* the baseline was measured */
	assert_true(f.given[1]->dtype == MG_DT_INT8 && f.given[1]->dims[3] == 3);
	assert_true(f.given[0]->dtype == MG_DT_FLOAT32 && f.given[0]->dims[1] == 3);
	assert_string_equal(f.given[0]->name, "x");
	mg_report_free(r);
	drop_given(&f);
	const char *made[] = {tfl, onnx, onnx12};
	for (size_t i = 0; i < 3; i++)
		unlink(made[i]);
	snprintf(cmd, sizeof(cmd), "%s/x_img.npy", tmp);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/y_img.npy", tmp);
	unlink(cmd);
	mg_tensor_free(x);
	mg_tensor_free(y);
	mg_tensor_free(xq);
	mg_tensor_free(cand);
	mg_tensor_free(ref);
	mg_tensor_free(ref12);
	mg_model_info_free(mi);
}

static void write_labels(const char *name, int64_t last)
{
	mg_tensor *y;
	assert_int_equal(mg_tensor_new(&y, "y", MG_DT_INT64, (int64_t[]){ROWS}, 1, NULL), 0);
	for (int64_t i = 0; i < ROWS; i++)
		((int64_t *)y->data)[i] = i + 1 < ROWS ? i : last;
	write_npy(name, y);
	mg_tensor_free(y);
}

/* x.npy: ROWS rows of the model's input; y.npy: labels 0 1 2 3;
 * y_bad.npy: 0 1 2 12. */
static int setup(void **state)
{
	(void)state;
	tmp = scratch_dir("gate_kinds");
	char cwd[400];
	if (!getcwd(cwd, sizeof(cwd)))
		return -1;
	snprintf(model, sizeof(model), "%s/" MODEL, cwd);
	snprintf(base, sizeof(base), "%s/" BASE, cwd);
	mg_model_info *mi = NULL;
	if (mg_model_info_read(&mi, model, NULL) || mi->ninputs != 1 || mi->inputs[0].rank != 2)
		return -1;
	mg_tensor *x;
	int rc = mg_tensor_new(&x, mi->inputs[0].name, MG_DT_FLOAT32, (int64_t[]){ROWS, mi->inputs[0].dims[1]},
			       2, NULL);
	mg_model_info_free(mi);
	if (rc)
		return -1;
	write_npy("x.npy", x);
	mg_tensor_free(x);
	write_labels("y.npy", ROWS - 1);
	write_labels("y_bad.npy", 12);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	const char *names[] = {"x.npy", "y.npy", "y_bad.npy"};
	char path[600];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, names[i]);
		unlink(path);
	}
	rmdir(tmp);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accuracy_passes_against_its_minimum_and_the_baseline),
		cmocka_unit_test(test_accuracy_fails_below_its_minimum_and_on_a_drop),
		cmocka_unit_test(test_accuracy_labels_outside_the_classes_are_bad_input),
		cmocka_unit_test(test_fidelity_passes_on_equal_outputs_and_fails_past_a_limit),
		cmocka_unit_test(test_nonfinite_candidate_outputs_fail_accuracy_and_fidelity),
		cmocka_unit_test(test_nonfinite_baseline_outputs_are_an_error),
		cmocka_unit_test(test_latency_passes_under_its_ceiling_and_fails_over_it),
		cmocka_unit_test(test_latency_catches_a_regression_against_the_baseline),
		cmocka_unit_test(test_latency_aa_on_a_jittery_machine_never_fails),
		cmocka_unit_test(test_latency_a_clear_regression_fails_on_a_jittery_machine),
		cmocka_unit_test(test_latency_straddling_the_limit_is_inconclusive),
		cmocka_unit_test(test_latency_too_few_samples_is_inconclusive),
		cmocka_unit_test(test_on_inconclusive_sets_the_exit_code),
		cmocka_unit_test(test_latency_max_ms_on_an_emulated_target_is_bad_input),
		cmocka_unit_test(test_reasons_print_limits_as_written),
		cmocka_unit_test(test_more_threads_than_cpus_is_bad_input),
		cmocka_unit_test(test_memory_passes_fails_and_errors),
		cmocka_unit_test(test_cost_passes_on_the_same_count_and_says_what_counted),
		cmocka_unit_test(test_cost_fails_on_the_ratio_and_on_the_ceiling),
		cmocka_unit_test(test_cost_is_an_error_where_nothing_can_count),
		cmocka_unit_test(test_size_passes_and_fails_on_the_files),
		cmocka_unit_test(test_size_is_an_error_when_the_model_file_is_gone),
		cmocka_unit_test(test_a_target_failing_mid_run_errs_its_gate_and_the_others_run),
		cmocka_unit_test(test_a_failing_dataset_run_errs_the_output_gates_only),
		cmocka_unit_test(test_an_unreachable_target_errs_its_gates_and_is_in_the_report),
		cmocka_unit_test(test_the_report_is_assembled_from_the_results),
		cmocka_unit_test(test_fidelity_of_an_int8_tflite_against_its_float_onnx_model),
	};
	return cmocka_run_group_tests_name("gate_kinds", tests, setup, teardown);
}
