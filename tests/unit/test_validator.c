/* Unit tests of the validator's statistics: medians, the Mann-Whitney U
 * test, the bootstrap interval, and simulated A/A and A/B comparisons that
 * check the latency gate's error rates; the metrics of outputs, also of
 * outputs that hold NaN or infinite values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "validator/report.h"
#include "validator/run_once.h"
#include "validator/validator.h"

static uint64_t rng = 88172645463325252ull;

static double uniform(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return ((double)(rng >> 11) + 0.5) / 9007199254740992.0;
}

static double normal(void)
{
	return sqrt(-2 * log(uniform())) * cos(2 * M_PI * uniform());
}

/* Realistic latency noise: log-normal around median_ms, 3% outliers 2-4x. */
static void latency_samples(double *x, size_t n, double median_ms)
{
	for (size_t i = 0; i < n; i++) {
		x[i] = median_ms * exp(0.08 * normal());
		if (uniform() < 0.03)
			x[i] *= 2 + 2 * uniform();
	}
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void test_median_matches_sorting(void **state)
{
	(void)state;
	for (size_t n = 1; n < 60; n++) {
		double x[60], s[60];
		for (size_t i = 0; i < n; i++)
			x[i] = s[i] = floor(uniform() * 10); /* many ties */
		qsort(s, n, sizeof(double), cmp);
		double want = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
		assert_true(mg_median(x, n) == want);
	}
	assert_true(isnan(mg_median(NULL, 0)));
}

static void test_mann_whitney_known_values(void **state)
{
	(void)state;
	double a[] = {6, 7, 8, 9, 10}, b[] = {1, 2, 3, 4, 5};
	/* U = 25, mean 12.5, var 25*11/12, continuity-corrected z = 2.5067 */
	assert_true(fabs(mg_mann_whitney_p(a, 5, b, 5) - 0.006093) < 1e-5);
	assert_true(mg_mann_whitney_p(b, 5, a, 5) > 0.99);
	double same[] = {3, 3, 3, 3};
	assert_true(mg_mann_whitney_p(same, 4, same, 4) == 1.0); /* all tied: no evidence */
	assert_true(mg_mann_whitney_p(a, 5, NULL, 0) == 1.0);
}

static void test_bootstrap_interval_is_deterministic_and_covers(void **state)
{
	(void)state;
	double c[200], b[200];
	latency_samples(c, 200, 1.2);
	latency_samples(b, 200, 1.0);
	double lo, hi, lo2, hi2;
	assert_int_equal(mg_bootstrap_ratio(c, 200, b, 200, 1000, 0.95, 7, &lo, &hi, NULL), 0);
	assert_int_equal(mg_bootstrap_ratio(c, 200, b, 200, 1000, 0.95, 7, &lo2, &hi2, NULL), 0);
	assert_true(lo == lo2 && hi == hi2);
	assert_true(lo < 1.2 && 1.2 < hi);
	assert_true(hi - lo < 0.1);
	mg_error err = {0};
	assert_int_equal(mg_bootstrap_ratio(c, 0, b, 200, 1000, 0.95, 7, &lo, &hi, &err), MG_EINVAL);
}

/* Runs `trials` comparisons of n samples per side (the gate's default minimum) with the candidate slower
 * by `factor`; returns the fraction declared a regression. */
static double regression_rate(size_t trials, size_t n, double factor)
{
	mg_latency_policy pol = MG_LATENCY_POLICY_INIT;
	double *c = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double));
	size_t hits = 0;
	for (size_t t = 0; t < trials; t++) {
		latency_samples(c, n, 1.0 * factor);
		latency_samples(b, n, 1.0);
		mg_latency_verdict v;
		pol.seed = t + 1;
		assert_int_equal(mg_latency_compare(c, n, b, n, 10, &pol, &v, NULL), 0);
		hits += (size_t)v.regression;
	}
	free(c);
	free(b);
	return (double)hits / (double)trials;
}

static void test_aa_comparisons_rarely_declare_a_regression(void **state)
{
	(void)state;
	double rate = regression_rate(1000, 100, 1.0);
	printf("A/A: regression declared in %.1f%% of 1000 comparisons (limit 1%%)\n", rate * 100);
	assert_true(rate <= 0.01);
}

static void test_a_true_ten_percent_slowdown_is_caught(void **state)
{
	(void)state;
	/* 20 paired blocks: the interval over blocks needs more than the
	 * minimum of 100 samples to clear 1.05 for a 10% slowdown */
	double rate = regression_rate(1000, 200, 1.10);
	printf("A/B +10%%: regression declared in %.1f%% of 1000 comparisons (limit >= 95%%)\n", rate * 100);
	assert_true(rate >= 0.95);
}

static void test_verdict_is_clear_only_when_the_data_settle_it(void **state)
{
	(void)state;
	mg_latency_policy pol = MG_LATENCY_POLICY_INIT;
	double c[400], b[400];
	mg_latency_verdict v;
	latency_samples(c, 400, 1.0);
	latency_samples(b, 400, 1.0);
	assert_int_equal(mg_latency_compare(c, 400, b, 400, 10, &pol, &v, NULL), 0);
	assert_true(v.clear && !v.regression && !v.inconclusive); /* plenty of A/A data: clearly fine */
	assert_int_equal(v.blocks, 40);
	latency_samples(c, 400, 1.3);
	assert_int_equal(mg_latency_compare(c, 400, b, 400, 10, &pol, &v, NULL), 0);
	assert_true(v.clear && v.regression);
	assert_true(v.lo > 1.2 && v.hi < 1.4 && v.p_value < 1e-6);
	latency_samples(c, 4, 1.05); /* too few to tell: not one block */
	assert_int_equal(mg_latency_compare(c, 4, b, 4, 10, &pol, &v, NULL), 0);
	assert_false(v.clear);
	assert_true(v.inconclusive && !v.regression);
	latency_samples(c, 40, 1.05); /* right at the limit, 4 blocks: straddles */
	assert_int_equal(mg_latency_compare(c, 40, b, 40, 10, &pol, &v, NULL), 0);
	assert_true(v.inconclusive && !v.regression && !v.clear);
	assert_true(v.lo < pol.max_ratio && pol.max_ratio < v.hi);
}

/* The ratio speaks of the gate's statistic: a candidate whose median is the
 * baseline's but whose slowest tenth of each block takes three times as
 * long is no slowdown at p50 and a clear one at p95 (and for the mean). */
static void test_ratio_is_of_the_gates_statistic(void **state)
{
	(void)state;
	mg_latency_policy pol = MG_LATENCY_POLICY_INIT;
	double c[400], b[400];
	mg_latency_verdict v;
	for (size_t i = 0; i < 400; i++) {
		b[i] = 1.0 + 0.01 * (double)(i % 10);
		c[i] = i % 10 == 9 ? 3 * b[i] : b[i];
	}
	assert_int_equal(mg_latency_compare(c, 400, b, 400, 10, &pol, &v, NULL), 0);
	assert_true(v.clear && !v.regression);
	assert_true(fabs(v.ratio - 1) < 1e-9);
	pol.quantile = 0.95;
	assert_int_equal(mg_latency_compare(c, 400, b, 400, 10, &pol, &v, NULL), 0);
	assert_true(v.clear && v.regression);
	assert_true(v.ratio > 1.5);
	pol.quantile = 0; /* the mean: (9 + 3) / 10 of the block's tenth, about 1.2x */
	assert_int_equal(mg_latency_compare(c, 400, b, 400, 10, &pol, &v, NULL), 0);
	assert_true(v.regression && v.ratio > 1.15 && v.ratio < 1.25);
}

static void test_t_quantiles_match_the_tables(void **state)
{
	(void)state;
	assert_true(fabs(mg_t_quantile(0.975, 1) - 12.7062) < 1e-3);
	assert_true(fabs(mg_t_quantile(0.975, 9) - 2.2622) < 1e-3);
	assert_true(fabs(mg_t_quantile(0.99, 19) - 2.5395) < 1e-3);
	assert_true(fabs(mg_t_quantile(0.975, 1e6) - 1.95996) < 1e-3);
}

/* The machine's speed drifts between block pairs (x0.6 to x1.4) while both
 * sides of a pair see the same speed: pooled samples would look like a
 * regression in some runs; the paired blocks never do. */
static void test_paired_blocks_are_immune_to_drift_between_blocks(void **state)
{
	(void)state;
	mg_latency_policy pol = MG_LATENCY_POLICY_INIT;
	pol.max_ratio = 1.02;
	size_t fails = 0;
	double c[200], b[200];
	for (int t = 0; t < 200; t++) {
		for (size_t k = 0; k < 20; k++) {
			double speed = 0.6 + 0.8 * uniform();
			latency_samples(c + k * 10, 10, speed);
			latency_samples(b + k * 10, 10, speed);
		}
		mg_latency_verdict v;
		assert_int_equal(mg_latency_compare(c, 200, b, 200, 10, &pol, &v, NULL), 0);
		fails += (size_t)v.regression;
	}
	printf("A/A under drift at 1.02: %zu of 200 declared a regression\n", fails);
	assert_true(fails <= 2);
}

static void test_noise_flag(void **state)
{
	(void)state;
	double quiet[] = {1.00e6, 1.01e6, 0.99e6, 1.02e6}, loud[] = {1.0e6, 1.3e6, 0.95e6, 1.0e6};
	char note[200] = "";
	assert_int_equal(mg_latency_noisy(quiet, 4, 0.1, note, sizeof(note)), 0);
	assert_int_equal(mg_latency_noisy(loud, 4, 0.1, note, sizeof(note)), 1);
	assert_non_null(strstr(note, "noisy"));
	assert_non_null(strstr(note, "(0.95 ms to 1.3 ms)")); /* every figure with its unit */
}

static void test_class_metrics_on_a_known_case(void **state)
{
	(void)state;
	/* 5 samples, 3 classes; predictions 0,1,1,2,0 for labels 0,1,2,2,1 */
	const float scores[] = {
		0.9f, 0.05f, 0.05f,
		0.1f, 0.8f, 0.1f,
		0.2f, 0.5f, 0.3f,
		0.0f, 0.1f, 0.9f,
		0.6f, 0.3f, 0.1f,
	};
	const int64_t labels[] = {0, 1, 2, 2, 1};
	mg_class_metrics *m = NULL;
	assert_int_equal(mg_class_metrics_compute(&m, scores, 5, 3, labels, 2, NULL), 0);
	assert_true(fabs(m->top1 - 0.6) < 1e-12);
	assert_true(fabs(m->topk - 1.0) < 1e-12); /* every label is in its row's top 2 */
	assert_int_equal(m->confusion[0 * 3 + 0], 1);
	assert_int_equal(m->confusion[1 * 3 + 0], 1);
	assert_int_equal(m->confusion[2 * 3 + 1], 1);
	assert_true(fabs(m->precision[0] - 0.5) < 1e-12);
	assert_true(fabs(m->recall[2] - 0.5) < 1e-12);
	assert_true(fabs(m->f1[1] - 0.5) < 1e-12);   /* p = 1/2, r = 1/2 */
	assert_true(fabs(m->f1[2] - 2.0 / 3) < 1e-12); /* p = 1, r = 1/2 */
	assert_true(fabs(m->macro_f1 - (2.0 / 3 + 0.5 + 2.0 / 3) / 3) < 1e-12);
	mg_class_metrics_free(m);
	const int64_t bad[] = {0, 1, 3, 2, 1};
	mg_error err = {0};
	assert_int_equal(mg_class_metrics_compute(&m, scores, 5, 3, bad, 1, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "label 3 of sample 2"));
	/* a k past the classes is named as what it is: every class */
	assert_int_equal(mg_class_metrics_compute(&m, scores, 5, 3, labels, 5, NULL), 0);
	assert_int_equal(m->k, 3);
	mg_class_metrics_free(m);
}

static void test_regression_and_fidelity_metrics(void **state)
{
	(void)state;
	const float p[] = {1, 2, 3, 4}, t[] = {1, 2, 5, 4};
	double mae, rmse;
	assert_int_equal(mg_regression_metrics(p, t, 4, &mae, &rmse, NULL), 0);
	assert_true(fabs(mae - 0.5) < 1e-12 && fabs(rmse - 1.0) < 1e-12);
	mg_fidelity f;
	assert_int_equal(mg_fidelity_compute(&f, p, p, 2, 2, NULL), 0);
	assert_true(f.max_abs == 0 && f.cosine > 0.999999 && isinf(f.snr_db) && f.top1_agree == 1);
	const float q[] = {1.1f, 2, 3, 4.2f}, r[] = {2, 1, 3, 4};
	assert_int_equal(mg_fidelity_compute(&f, q, p, 2, 2, NULL), 0);
	assert_true(fabs(f.max_abs - 0.2) < 1e-6 && fabs(f.mean_abs - 0.075) < 1e-6);
	assert_true(f.snr_db > 25 && f.snr_db < 35); /* 10 log10(30 / 0.05) = 27.8 */
	assert_int_equal(mg_fidelity_compute(&f, r, p, 2, 2, NULL), 0);
	assert_true(fabs(f.top1_agree - 0.5) < 1e-12); /* row 0 flips its arg-max */
}

/* A figure that passes no limit: NaN, as the gates compare (x >= min and
 * x <= max are both false). */
static int fails_every_limit(double x)
{
	return !(x >= -1e300) && !(x <= 1e300);
}

/* One NaN or infinity among the scores: no figure is a number. Before, the
 * arg-max skipped NaN and -inf was never the best, so these passed. */
static void test_nonfinite_scores_give_no_accuracy(void **state)
{
	(void)state;
	const float bad[] = {NAN, -INFINITY, INFINITY};
	const int64_t labels[] = {0, 1, 2, 2, 1};
	for (size_t b = 0; b < 3; b++) {
		float scores[] = {
			0.9f, 0.05f, 0.05f,
			0.1f, 0.8f, 0.1f,
			0.2f, 0.3f, 0.5f,
			0.0f, 0.1f, 0.9f,
			0.1f, 0.6f, bad[b],
		};
		mg_class_metrics *m = NULL;
		assert_int_equal(mg_class_metrics_compute(&m, scores, 5, 3, labels, 2, NULL), 0);
		if (!fails_every_limit(m->top1) || !fails_every_limit(m->topk) ||
		    !fails_every_limit(m->macro_f1))
			fail_msg("score %g: top1 %g, topk %g, macro F1 %g", bad[b], m->top1, m->topk,
				 m->macro_f1);
		for (size_t j = 0; j < 3; j++)
			assert_true(isnan(m->precision[j]) && isnan(m->recall[j]) && isnan(m->f1[j]));
		mg_class_metrics_free(m);
	}
}

static void test_nonfinite_values_give_no_regression_error(void **state)
{
	(void)state;
	const float p[] = {1, 2, 3, 4}, t[] = {1, 2, 3, 4};
	const float pn[] = {1, NAN, 3, 4}, ti[] = {1, 2, INFINITY, 4}, pi[] = {-INFINITY, 2, 3, 4};
	double mae = 0, rmse = 0;
	assert_int_equal(mg_regression_metrics(pn, t, 4, &mae, &rmse, NULL), 0);
	assert_true(fails_every_limit(mae) && fails_every_limit(rmse));
	assert_int_equal(mg_regression_metrics(p, ti, 4, &mae, &rmse, NULL), 0);
	assert_true(fails_every_limit(mae) && fails_every_limit(rmse));
	assert_int_equal(mg_regression_metrics(pi, t, 4, &mae, &rmse, NULL), 0);
	assert_true(fails_every_limit(mae) && fails_every_limit(rmse));
	assert_int_equal(mg_regression_metrics(p, t, 4, &mae, &rmse, NULL), 0);
	assert_true(mae == 0 && rmse == 0);
}

/* Every fidelity figure of outputs with NaN or Inf (on either side) is
 * NaN: an all-NaN candidate had "inf dB" SNR, and full top-1 agreement. */
static void test_nonfinite_outputs_give_no_fidelity(void **state)
{
	(void)state;
	const float ref[] = {1, 2, 3, 4, 5, 6};
	const float all_nan[] = {NAN, NAN, NAN, NAN, NAN, NAN};
	const float one_nan[] = {1, 2, 3, 4, NAN, 6};
	const float pos_inf[] = {1, 2, INFINITY, 4, 5, 6};
	const float neg_inf[] = {1, 2, 3, -INFINITY, 5, 6};
	const float *const bad[] = {all_nan, one_nan, pos_inf, neg_inf};
	for (size_t b = 0; b < 4; b++)
		for (int side = 0; side < 2; side++) {
			mg_fidelity f;
			const float *cand = side ? ref : bad[b], *r = side ? bad[b] : ref;
			assert_int_equal(mg_fidelity_compute(&f, cand, r, 2, 3, NULL), 0);
			if (!fails_every_limit(f.max_abs) || !fails_every_limit(f.mean_abs) ||
			    !fails_every_limit(f.cosine) || !fails_every_limit(f.snr_db) ||
			    !fails_every_limit(f.top1_agree))
				fail_msg("case %zu, %s: max_abs %g mean_abs %g cosine %g snr %g agree %g", b,
					 side ? "reference" : "candidate", f.max_abs, f.mean_abs, f.cosine,
					 f.snr_db, f.top1_agree);
		}
}

/* Zero signal and zero noise: infinity only for identical finite outputs. */
static void test_fidelity_of_zero_outputs(void **state)
{
	(void)state;
	const float zero[] = {0, 0, 0, 0}, one[] = {1, 0, 0, 1};
	mg_fidelity f;
	assert_int_equal(mg_fidelity_compute(&f, zero, zero, 2, 2, NULL), 0);
	assert_true(f.max_abs == 0 && f.cosine == 1 && isinf(f.snr_db) && f.snr_db > 0);
	/* a candidate of zeros: noise equals the signal, 0 dB */
	assert_int_equal(mg_fidelity_compute(&f, zero, one, 2, 2, NULL), 0);
	assert_true(f.cosine == 0 && fabs(f.snr_db) < 1e-12 && f.max_abs == 1);
	/* a reference of zeros and a candidate that is not: no signal, -inf */
	assert_int_equal(mg_fidelity_compute(&f, one, zero, 2, 2, NULL), 0);
	assert_true(f.cosine == 0 && isinf(f.snr_db) && f.snr_db < 0);
}

static void test_nonfinite_values_are_counted(void **state)
{
	(void)state;
	const float v[] = {0, NAN, INFINITY, -INFINITY, 1e38f, -0.0f, NAN};
	size_t nan = 9, inf = 9;
	assert_int_equal(mg_nonfinite_count(v, 7, &nan, &inf), 4);
	assert_int_equal(nan, 2);
	assert_int_equal(inf, 2);
	assert_int_equal(mg_nonfinite_count(v, 1, NULL, NULL), 0);
	assert_int_equal(mg_nonfinite_count(v, 0, &nan, &inf), 0);
	assert_int_equal(nan + inf, 0);
}

static const char good_config[] =
	"{\"// about\": \"comments are keys starting with //\",\n"
	" \"model\": \"model_int8.onnx\", \"baseline\": \"model.onnx\",\n"
	" \"dataset\": {\"inputs\": \"dataset/x.npy\", \"labels\": \"dataset/y.npy\"},\n"
	" \"targets\": {\"host\": \"local\", \"emu\": {\"spec\": \"qemu-aarch64\", \"threads\": 1}},\n"
	" \"gates\": [\n"
	"  {\"name\": \"acc\", \"kind\": \"accuracy\", \"min\": 0.9, \"max_drop\": 0.01},\n"
	"  {\"name\": \"fid\", \"kind\": \"fidelity\", \"min_cosine\": 0.99},\n"
	"  {\"name\": \"lat\", \"kind\": \"latency\", \"target\": \"host\", \"metric\": \"p95\", \"max_ms\": 5, \"max_ratio\": 1.1},\n"
	"  {\"name\": \"size\", \"kind\": \"size\", \"max_bytes\": 100000},\n"
	"  {\"name\": \"mem\", \"kind\": \"memory\", \"target\": \"emu\", \"max_rss_mb\": 300, \"ci_only\": true}\n"
	" ]}\n";

static void test_config_reads_every_gate_kind(void **state)
{
	(void)state;
	mg_config *c = NULL;
	mg_error err = {0};
	if (mg_config_parse(&c, good_config, strlen(good_config), "ex/modelgate.json", &err))
		fail_msg("%s", err.msg);
	assert_string_equal(c->dir, "ex");
	assert_string_equal(c->model, "model_int8.onnx");
	assert_string_equal(c->dataset_labels, "dataset/y.npy");
	assert_int_equal(c->ntargets, 2);
	assert_int_equal(mg_config_target(c, "emu")->threads, 1);
	assert_int_equal(c->ngates, 5);
	assert_string_equal(c->gates[0].metric, "top1"); /* the default */
	assert_true(c->gates[0].min == 0.9 && isnan(c->gates[0].max_abs));
	assert_int_equal(c->gates[2].kind, MG_KIND_LATENCY);
	assert_string_equal(c->gates[2].metric, "p95");
	assert_true(c->gates[2].alpha == 0.01 && c->gates[2].min_iterations == 100);
	assert_true(c->gates[4].ci_only);
	mg_config_free(c);
}

static void config_bad(const char *json, const char *want)
{
	mg_config *c = NULL;
	mg_error err = {0};
	assert_int_equal(mg_config_parse(&c, json, strlen(json), "m.json", &err), MG_EINVAL);
	assert_null(c);
	if (!strstr(err.msg, want))
		fail_msg("expected '%s' in: %s", want, err.msg);
}

#define COST_GATE(extra) "{\"model\": \"m\", \"targets\": {\"h\": \"local\"}, \"gates\": [{\"name\": \"c\", \"kind\": \"cost\"" extra "}]}"

static void test_config_cost_gate_errors_name_the_setting(void **state)
{
	(void)state;
	config_bad(COST_GATE(""), "gates[0]: a cost gate needs 'max_ratio' or 'max_instructions'");
	config_bad(COST_GATE(", \"max_ratio\": 0"), "gates[0].max_ratio: expected a number above 0");
	config_bad(COST_GATE(", \"max_instructions\": -1"), "gates[0].max_instructions: expected a non-negative number");
	config_bad(COST_GATE(", \"max_ratio\": 1, \"runs\": 0"), "gates[0].runs: expected a positive integer");
	config_bad(COST_GATE(", \"max_ratio\": 1, \"runs\": 100001"), "gates[0].runs: expected at most 100000");
	config_bad(COST_GATE(", \"max_instructions\": 1, \"max_ms\": 3"), "gates[0].max_ms: not a setting of a cost gate");
	config_bad(COST_GATE(", \"max_instructions\": 1, \"target\": \"pi\""), "gates[0].target: not one of the keys of 'targets'");
	mg_config *c = NULL;
	mg_error err = {0};
	const char *ok = COST_GATE(", \"max_instructions\": 5e5");
	if (mg_config_parse(&c, ok, strlen(ok), "m.json", &err))
		fail_msg("%s", err.msg);
	assert_int_equal(c->gates[0].kind, MG_KIND_COST);
	assert_string_equal(mg_gate_kind_name(c->gates[0].kind), "cost");
	assert_true(c->gates[0].max_instructions == 5e5 && isnan(c->gates[0].max_ratio) && c->gates[0].runs == 0); /* runs 0: as many as the counter needs */
	mg_config_free(c);
}

#define FID_GATE(extra) "{\"model\": \"m\", \"baseline\": \"b\", \"gates\": [{\"name\": \"f\", \"kind\": \"fidelity\", \"min_cosine\": 0.9" extra "}]}"

static void test_config_fidelity_layout_is_nhwc_or_nchw_against_the_baseline(void **state)
{
	(void)state;
	config_bad(FID_GATE(", \"layout\": \"NHWC\""), "gates[0].layout: expected nhwc or nchw");
	config_bad(FID_GATE(", \"layout\": 4"), "gates[0].layout: expected a");
	config_bad(FID_GATE(", \"layout\": \"nchw\", \"reference\": \"ref\""),
		   "gates[0].layout: a layout is for comparing with the baseline");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"s\", \"kind\": \"size\", \"max_bytes\": 1, "
		   "\"layout\": \"nhwc\"}]}", "gates[0].layout: not a setting of a size gate");
	mg_config *c = NULL;
	mg_error err = {0};
	const char *ok = FID_GATE(", \"layout\": \"nhwc\"");
	if (mg_config_parse(&c, ok, strlen(ok), "m.json", &err))
		fail_msg("%s", err.msg);
	assert_string_equal(c->gates[0].layout, "nhwc");
	mg_config_free(c);
}

#define DATA_CFG(ds, extra) "{\"model\": \"m\", \"dataset\": " ds ", \"gates\": [{\"name\": \"a\", \"kind\": \"accuracy\"" extra "}]}"

/* The dataset's ref, file names, cast and classes; an accuracy gate's
 * output and per-class limits. */
static void test_config_dataset_and_class_settings(void **state)
{
	(void)state;
	config_bad(DATA_CFG("{\"ref\": \"d:v1\", \"inputs\": \"/etc/x.npy\"}", ", \"min\": 0.5"),
		   "dataset.inputs: expected a file name in the dataset 'ref'");
	config_bad(DATA_CFG("{\"ref\": \"d:v1\", \"cast\": 1}", ", \"min\": 0.5"), "dataset.cast: expected true or false");
	config_bad(DATA_CFG("{\"ref\": \"d:v1\", \"classes\": [\"a\", \"a\"]}", ", \"min\": 0.5"),
		   "dataset.classes[1]: a class of that name is listed already");
	config_bad(DATA_CFG("{\"ref\": \"d:v1\", \"classes\": []}", ", \"min\": 0.5"),
		   "dataset.classes: expected a non-empty list of class names");
	config_bad(DATA_CFG("{\"labels\": \"y.npy\"}", ", \"min\": 0.5"), "dataset.inputs: missing");
	config_bad(DATA_CFG("\"d:v1\"", ", \"min_recall\": {\"cat\": 1.5}"), "gates[0].min_recall.cat: expected a number from 0 to 1");
	config_bad(DATA_CFG("\"d:v1\"", ", \"min_recall\": []"), "gates[0].min_recall: expected an object");
	config_bad(DATA_CFG("\"d:v1\"", ", \"metric\": \"mae\", \"min_recall\": {\"cat\": 0.5}"),
		   "gates[0]: per-class limits are for a classifier");
	config_bad(DATA_CFG("\"d:v1\"", ", \"min\": 0.5, \"output\": -1"), "gates[0].output: expected an output name or index");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"s\", \"kind\": \"size\", \"max_bytes\": 1, "
		   "\"output\": 0}]}", "gates[0].output: not a setting of a size gate");
	mg_config *c = NULL;
	mg_error err = {0};
	const char *ok = DATA_CFG("{\"ref\": \"d:v1\", \"inputs\": \"a.npy\", \"labels\": \"b.npy\", \"cast\": true, "
				  "\"classes\": [\"cat\", \"dog\"]}",
				  ", \"output\": 1, \"min_recall\": {\"dog\": 0.9}, \"min_precision\": {\"0\": 0.5, \"cat\": 0.25}");
	if (mg_config_parse(&c, ok, strlen(ok), "m.json", &err))
		fail_msg("%s", err.msg);
	assert_string_equal(c->dataset_ref, "d:v1");
	assert_string_equal(c->dataset_inputs, "a.npy");
	assert_string_equal(c->dataset_labels, "b.npy");
	assert_int_equal(c->dataset_cast, 1);
	assert_int_equal(c->nclasses, 2);
	assert_string_equal(c->classes[1], "dog");
	assert_string_equal(c->gates[0].output, "1");
	assert_int_equal(c->gates[0].min_recall.n, 1);
	assert_string_equal(c->gates[0].min_recall.v[0].cls, "dog");
	assert_true(c->gates[0].min_recall.v[0].limit == 0.9);
	assert_int_equal(c->gates[0].min_precision.n, 2);
	assert_true(isnan(c->gates[0].min)); /* per-class limits alone make a gate */
	mg_config_free(c);
}

static void test_config_errors_name_the_place(void **state)
{
	(void)state;
	config_bad("{\"model\": \"m\",\n \"gates\": [}", "m.json:2:");
	config_bad("{\"gates\": [{\"name\": \"a\", \"kind\": \"size\", \"max_bytes\": 1}]}", "m.json: model: expected a non-empty string");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"a\", \"kind\": \"size\", \"max_bytes\": 1},"
		   "{\"name\": \"b\", \"kind\": \"size\", \"max_bytes\": 1},"
		   "{\"name\": \"c\", \"kind\": \"latency\", \"max_ms\": \"5\"}]}",
		   "gates[2].max_ms: expected a non-negative number");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"a\", \"kind\": \"speed\"}]}", "gates[0].kind: expected accuracy");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"a\", \"kind\": \"size\", \"max_ms\": 1}]}",
		   "gates[0].max_ms: not a setting of a size gate");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"a\", \"kind\": \"latency\", \"target\": \"pi\", \"max_ms\": 1}]}",
		   "gates[0].target: not one of the keys of 'targets'");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"a\", \"kind\": \"fidelity\", \"min_cosine\": 0.9}]}",
		   "needs 'reference' outputs or a top-level 'baseline'");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"a\", \"kind\": \"size\", \"max_bytes\": 1},"
		   "{\"name\": \"a\", \"kind\": \"size\", \"max_bytes\": 2}]}", "gates[1].name: a gate of that name exists");
	config_bad("{\"model\": \"m\", \"modle\": 1, \"gates\": []}", "m.json: modle: unknown key");
	config_bad("{\"model\": \"m\", \"targets\": {\"x\": \"ftp://h\"}, \"gates\": [{\"name\": \"a\", \"kind\": \"size\", \"max_bytes\": 1}]}",
		   "targets.x: expected \"local\"");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"a\", \"kind\": \"accuracy\", \"min\": 0.5}]}",
		   "an accuracy gate needs a dataset");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"a\", \"kind\": \"latency\", \"max_ms\": 1, \"alpha\": 0.7}]}",
		   "gates[0].alpha: expected a number between 0 and 0.5");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"a\", \"kind\": \"latency\", \"max_ms\": 1, "
		   "\"on_inconclusive\": \"maybe\"}]}",
		   "gates[0].on_inconclusive: expected fail, pass or warn");
	config_bad("{\"model\": \"m\", \"gates\": [{\"name\": \"a\", \"kind\": \"size\", \"max_bytes\": 1, "
		   "\"on_inconclusive\": \"warn\"}]}",
		   "gates[0].on_inconclusive: not a setting of a size gate");
}

/* A simulated target: log-normal latencies around 1 ms for the baseline and
 * `factor` ms for the candidate, a clock that advances by what ran, and an
 * optional drift that makes every other baseline block 40% slower. */
typedef struct sim {
	double factor;
	double clock;
	int drift;
	size_t blocks;
} sim;

static int sim_block(void *ctx, int which, size_t n, double *out, mg_error *err)
{
	(void)err;
	sim *s = ctx;
	double scale = which ? s->factor : (s->drift && s->blocks++ % 2 ? 1.4 : 1.0);
	latency_samples(out, n, scale);
	for (size_t i = 0; i < n; i++) {
		s->clock += out[i] / 1000;
		out[i] *= 1e6; /* ms -> ns */
	}
	return 0;
}

static double sim_now(void *ctx)
{
	return ((sim *)ctx)->clock;
}

static void free_detail(mg_latency_detail *d)
{
	free(d->cand_ns);
	free(d->base_ns);
	free(d->noise_note);
}

static double sequential_rate(size_t trials, double factor, size_t *early)
{
	size_t hits = 0;
	*early = 0;
	for (size_t t = 0; t < trials; t++) {
		sim s = {factor, 0, 0, 0};
		mg_latency_source src = {sim_block, sim_now, &s};
		mg_latency_plan plan = MG_LATENCY_PLAN_INIT;
		plan.policy.seed = t + 1;
		mg_latency_detail d;
		mg_latency_verdict v;
		assert_int_equal(mg_latency_measure(&src, &plan, &d, &v, NULL), 0);
		hits += (size_t)v.regression;
		*early += (size_t)d.stopped_early;
		free_detail(&d);
	}
	return (double)hits / (double)trials;
}

static void test_sequential_measurement_keeps_its_error_rates(void **state)
{
	(void)state;
	size_t early;
	double aa = sequential_rate(1000, 1.0, &early);
	printf("sequential A/A: regression declared in %.1f%% of 1000 runs, %zu stopped early\n",
	       aa * 100, early);
	assert_true(aa <= 0.01);
	assert_true(early > 900);
	double ab = sequential_rate(1000, 1.10, &early);
	printf("sequential A/B +10%%: regression declared in %.1f%% of 1000 runs, %zu stopped early\n",
	       ab * 100, early);
	assert_true(ab >= 0.95);
}

static void test_measurement_interleaves_and_respects_the_budget(void **state)
{
	(void)state;
	sim s = {1.02, 0, 0, 0};
	mg_latency_source src = {sim_block, sim_now, &s};
	mg_latency_plan plan = MG_LATENCY_PLAN_INIT;
	plan.max_time = 0.5; /* seconds of simulated inference ... */
	plan.min_iterations = 1000000; /* ... reached long before the minimum */
	mg_latency_detail d;
	mg_latency_verdict v;
	assert_int_equal(mg_latency_measure(&src, &plan, &d, &v, NULL), 0);
	assert_int_equal(d.ncand, d.nbase);
	assert_int_equal(d.ncand % plan.block, 0);
	assert_true(s.clock >= 0.5 && s.clock < 0.6);
	assert_true(d.ratio > 0.95 && d.ratio < 1.1 && d.ratio_lo <= d.ratio && d.ratio <= d.ratio_hi);
	free_detail(&d);

	plan.with_baseline = 0;
	plan.min_iterations = 100;
	assert_int_equal(mg_latency_measure(&src, &plan, &d, &v, NULL), 0);
	assert_int_equal(d.nbase, 0);
	assert_int_equal(d.ncand, plan.min_iterations);
	assert_true(isnan(d.ratio));
	free_detail(&d);
}

static void test_a_drifting_baseline_is_flagged_noisy(void **state)
{
	(void)state;
	sim s = {1.0, 0, 1, 0};
	mg_latency_source src = {sim_block, sim_now, &s};
	mg_latency_plan plan = MG_LATENCY_PLAN_INIT;
	mg_latency_detail d;
	mg_latency_verdict v;
	assert_int_equal(mg_latency_measure(&src, &plan, &d, &v, NULL), 0);
	assert_true(d.noisy);
	assert_non_null(strstr(d.noise_note, "noisy"));
	free_detail(&d);
}

/* --only, --changed and ci_only combine in one place, with no cap on how
 * many gates a config has. */
static void test_gate_select_combines_only_changed_and_ci_only(void **state)
{
	(void)state;
	enum { N = 70 };
	mg_buf json = MG_BUF_INIT;
	assert_int_equal(mg_buf_puts(&json, "{\"model\": \"m.onnx\", \"gates\": [", NULL), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(mg_buf_printf(&json, NULL, "%s{\"name\": \"g%d\", \"kind\": \"size\", "
					       "\"max_bytes\": 10%s}", i ? "," : "", i,
					       i == 1 ? ", \"ci_only\": true" : ""), 0);
	assert_int_equal(mg_buf_puts(&json, "]}", NULL), 0);
	mg_config *c = NULL;
	mg_error err = {0};
	assert_int_equal(mg_config_parse(&c, json.data, json.len, "m.json", &err), 0);
	int changed[N];
	for (int i = 0; i < N; i++)
		changed[i] = i != 2;
	mg_gate_opts o = MG_GATE_OPTS_INIT;
	mg_gate_pick picks[N];
	size_t n = 0;
	o.changed = changed;
	assert_int_equal(mg_gate_select(picks, &n, c, &o, &err), 0);
	assert_int_equal(n, N - 2);
	assert_int_equal(picks[1], MG_PICK_CI_ONLY);
	assert_int_equal(picks[2], MG_PICK_UNCHANGED);
	assert_int_equal(picks[69], MG_PICK_RUN);
	o.in_ci = 1;
	assert_int_equal(mg_gate_select(picks, &n, c, &o, &err), 0);
	assert_int_equal(n, N - 1);
	const char *only[] = {"g2", "g3"};
	o.only = only;
	o.nonly = 2;
	assert_int_equal(mg_gate_select(picks, &n, c, &o, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(picks[0], MG_PICK_NOT_ONLY);
	assert_int_equal(picks[2], MG_PICK_UNCHANGED);
	assert_int_equal(picks[3], MG_PICK_RUN);
	only[1] = "nope";
	assert_int_equal(mg_gate_select(picks, &n, c, &o, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "--only 'nope'"));
	mg_config_free(c);
	mg_buf_free(&json);
}

static void test_round_limit_is_ten_percent_up_to_two_digits(void **state)
{
	(void)state;
	assert_int_equal(mg_round_limit(10340), 12000); /* 11374 */
	assert_int_equal(mg_round_limit(4096), 4600);   /* 4505.6 */
	assert_int_equal(mg_round_limit(2410), 2700);   /* 2651 */
	assert_int_equal(mg_round_limit(1234567), 1400000);
	assert_int_equal(mg_round_limit(90), 99);       /* under 100: whole numbers */
	assert_int_equal(mg_round_limit(1), 2);
	assert_int_equal(mg_round_limit(0), 0);
	for (uint64_t v = 1; v < 5000000; v = v * 3 + 1) /* always above v + 10%, never far */
		assert_true(mg_round_limit(v) * 10 >= v * 11 && mg_round_limit(v) <= v * 11 / 10 * 11 / 10 + 1);
}

/* smoke/tolerances.json: defaults and per output, as run's flags set them */
static void test_tolerances_json_sets_defaults_and_outputs(void **state)
{
	(void)state;
	mg_run_spec a = {.rtol = MG_RUN_RTOL, .atol = MG_RUN_ATOL};
	mg_error err = {0};
	const char *ok = "{\"atol\": 1e-5, \"outputs\": {\"logits\": {\"rtol\": 0.01}, "
			 "\"boxes\": {\"atol\": 0.5, \"rtol\": 0}}}";
	assert_int_equal(mg_run_tolerances_json(&a, ok, strlen(ok), "t.json", &err), 0);
	assert_true(a.rtol == MG_RUN_RTOL && a.atol == 1e-5);
	assert_int_equal(a.ntols, 2);
	size_t l = strcmp(a.tols[0].name, "logits") ? 1 : 0, b = 1 - l;
	assert_string_equal(a.tols[l].name, "logits");
	assert_true(a.tols[l].rtol == 0.01 && isnan(a.tols[l].atol));
	assert_string_equal(a.tols[b].name, "boxes");
	assert_true(a.tols[b].rtol == 0 && a.tols[b].atol == 0.5);
	/* the same name again is the same entry */
	assert_int_equal(mg_run_tol_set(&a, "logits=", 6, 0, 2), 0);
	assert_true(a.ntols == 2 && a.tols[l].atol == 2);
	static const struct {
		const char *text, *says;
	} bad[] = {
		{"[1]", "'t.json' is not a JSON object of rtol, atol and outputs"},
		{"{\"atol\": -1}", "'t.json': 'atol' is not a number of 0 or more"},
		{"{\"rtol\": \"1e-3\"}", "'t.json': 'rtol' is not a number of 0 or more"},
		{"{\"tol\": 1}", "'t.json': 'tol' is not rtol or atol (nor outputs)"},
		{"{\"outputs\": [1]}", "'t.json': 'outputs' is not an object of output names"},
		{"{\"outputs\": {\"y\": 1}}", "'t.json': outputs.y: is not an object of rtol and atol"},
		{"{\"outputs\": {\"y\": {\"max\": 1}}}", "'t.json': outputs.y: 'max' is not rtol or atol"},
		{"{\"outputs\": {\"\": {\"atol\": 1}}}", "the output's name is empty"},
		{"{\"atol\": 1,", "'t.json': line 1: "},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		mg_run_spec c = {.rtol = MG_RUN_RTOL};
		assert_int_equal(mg_run_tolerances_json(&c, bad[i].text, strlen(bad[i].text), "t.json", &err),
				 MG_EINVAL);
		if (!strstr(err.msg, bad[i].says))
			fail_msg("%s: said '%s', not '%s'", bad[i].text, err.msg, bad[i].says);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tolerances_json_sets_defaults_and_outputs),
		cmocka_unit_test(test_median_matches_sorting),
		cmocka_unit_test(test_gate_select_combines_only_changed_and_ci_only),
		cmocka_unit_test(test_mann_whitney_known_values),
		cmocka_unit_test(test_bootstrap_interval_is_deterministic_and_covers),
		cmocka_unit_test(test_aa_comparisons_rarely_declare_a_regression),
		cmocka_unit_test(test_a_true_ten_percent_slowdown_is_caught),
		cmocka_unit_test(test_verdict_is_clear_only_when_the_data_settle_it),
		cmocka_unit_test(test_ratio_is_of_the_gates_statistic),
		cmocka_unit_test(test_t_quantiles_match_the_tables),
		cmocka_unit_test(test_paired_blocks_are_immune_to_drift_between_blocks),
		cmocka_unit_test(test_noise_flag),
		cmocka_unit_test(test_class_metrics_on_a_known_case),
		cmocka_unit_test(test_regression_and_fidelity_metrics),
		cmocka_unit_test(test_nonfinite_scores_give_no_accuracy),
		cmocka_unit_test(test_nonfinite_values_give_no_regression_error),
		cmocka_unit_test(test_nonfinite_outputs_give_no_fidelity),
		cmocka_unit_test(test_fidelity_of_zero_outputs),
		cmocka_unit_test(test_nonfinite_values_are_counted),
		cmocka_unit_test(test_config_reads_every_gate_kind),
		cmocka_unit_test(test_config_errors_name_the_place),
		cmocka_unit_test(test_config_dataset_and_class_settings),
		cmocka_unit_test(test_config_cost_gate_errors_name_the_setting),
		cmocka_unit_test(test_config_fidelity_layout_is_nhwc_or_nchw_against_the_baseline),
		cmocka_unit_test(test_sequential_measurement_keeps_its_error_rates),
		cmocka_unit_test(test_measurement_interleaves_and_respects_the_budget),
		cmocka_unit_test(test_a_drifting_baseline_is_flagged_noisy),
		cmocka_unit_test(test_round_limit_is_ten_percent_up_to_two_digits),
	};
	return cmocka_run_group_tests_name("validator", tests, NULL, NULL);
}
