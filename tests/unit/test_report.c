/* Unit tests of the report model and its writers: report.json round trip
 * and reader errors, JUnit XML, GitHub Markdown/annotations/outputs,
 * OpenMetrics, HTML and the terminal table, against the rules of each
 * format (escaping, limits, ordering). The realistic report built here is
 * also committed as tests/fixtures/report_full.json, which the CLI tests
 * convert with the real tools; a test checks the two agree (rerun with
 * MG_UPDATE_FIXTURES=1 to rewrite it after a deliberate schema change). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "validator/report.h"
#include "validator/report_priv.h"
#include "scratch.h"

#define FIXTURE "tests/fixtures/report_full.json"

/* ---- building reports ------------------------------------------------------ */

static char *S(const char *s)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	assert_non_null(d);
	return d;
}

static void *zalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);
	assert_non_null(p);
	return p;
}

static char *digest_of(const char *what)
{
	char d[MG_DIGEST_SIZE];
	mg_digest_bytes(what, strlen(what), d);
	return S(d);
}

static mg_fingerprint *fingerprint(int emulated)
{
	mg_fingerprint *f = zalloc(1, sizeof(*f));
	f->cpu_model = S("Intel(R) Xeon(R) CPU @ 2.20GHz");
	f->cpu_count = 8;
	f->governor = S("performance");
	f->pinning = emulated ? NULL : S("2-3");
	f->loadavg1 = 0.42;
	f->kernel = S("6.1.0-18-amd64");
	f->engine = S("onnxruntime 1.30.0");
	f->arch = S(emulated ? "aarch64" : "x86_64");
	f->emulated = emulated;
	return f;
}

static void figure(mg_gate_result *g, const char *name, double v, double b, const char *unit)
{
	mg_figure *f = &g->figures[g->nfigures++];
	f->name = S(name);
	f->value = v;
	f->baseline = b;
	f->unit = S(unit);
}

static mg_gate_result *add_gate(mg_report *r, const char *name, const char *kind, const char *target,
				mg_gate_status st, const char *reason)
{
	mg_gate_result *g = &r->gates[r->ngates++];
	g->name = S(name);
	g->kind = S(kind);
	g->target = S(target);
	g->status = st;
	g->reason = S(reason);
	g->value = g->limit = g->baseline = NAN;
	g->seconds = 0.25;
	g->figures = zalloc(8, sizeof(mg_figure));
	return g;
}

/* Deterministic latency samples in whole nanoseconds (exact in a double):
 * a skewed bulk around base_ms and a rare stall. */
static double *samples(size_t n, double base_ms, uint64_t seed)
{
	double *x = zalloc(n, sizeof(double));
	uint64_t s = seed;
	for (size_t i = 0; i < n; i++) {
		uint64_t v = 0;
		for (int k = 0; k < 3; k++) {
			s = s * 6364136223846793005ULL + 1442695040888963407ULL;
			v += (s >> 33) % 700000;
		}
		x[i] = (double)((uint64_t)(base_ms * 1e6) + v + (i % 61 == 17 ? 6000000 : 0));
	}
	return x;
}

#define GATE_ACC "accuracy <top-1> & \"recall\" 'ok' \xE2\x80\x94 \xE7\xB2\xBE\xE5\xBA\xA6 \xE2\x9C\x93"
#define GATE_LAT "latency p95 <local>"

static mg_report *build_full(void)
{
	mg_report *r = zalloc(1, sizeof(*r));
	r->schema_version = 1; /* what report.json says without an inconclusive gate */
	r->tool_version = S("0.1.0");
	r->created = S("2026-03-14T09:26:53Z");
	r->git_commit = S("3f2c1a9e8b7d6c5f4e3a2b1c0d9e8f7a6b5c4d3e");
	r->config_path = S("examples/digits/modelgate.json");
	r->model = S("digits:v3");
	r->model_digest = digest_of("candidate");
	r->baseline = S("digits:v2");
	r->baseline_digest = digest_of("baseline");
	r->dataset = S("digits-test:v1");
	r->dataset_digest = digest_of("dataset");
	r->inputs = zalloc(1, sizeof(mg_report_input));
	r->ninputs = 1;
	r->inputs[0].name = S("input");
	r->inputs[0].dtype = S("float32");
	r->inputs[0].dims = zalloc(2, sizeof(int64_t));
	r->inputs[0].dims[0] = 1;
	r->inputs[0].dims[1] = 64;
	r->inputs[0].rank = 2;
	r->seconds = 42.125;

	r->targets = zalloc(2, sizeof(mg_report_target));
	r->ntargets = 2;
	r->targets[0].name = S("local");
	r->targets[0].spec = S("local");
	r->targets[0].fingerprint = fingerprint(0);
	r->targets[1].name = S("pi4");
	r->targets[1].spec = S("ssh://ci@pi4.lan");
	r->targets[1].error = S("ssh: connect to host pi4.lan port 22: Connection refused");

	r->gates = zalloc(6, sizeof(mg_gate_result));
	mg_gate_result *g = add_gate(r, GATE_ACC, "accuracy", NULL, MG_GATE_PASS,
				     "top1 0.9312 is at least 0.9 (baseline 0.9287)");
	g->metric = S("top1");
	g->value = 0.9312;
	g->limit = 0.9;
	g->limit_is = MG_LIMIT_MIN;
	g->baseline = 0.9287;
	g->unit = S("");
	figure(g, "top1", 0.9312, 0.9287, "");
	figure(g, "top5", 0.9967, NAN, "");
	figure(g, "macro_f1", 0.9301, 0.9275, "");
	g->confusion = zalloc(1, sizeof(mg_confusion));
	g->confusion->n = 10;
	g->confusion->counts = zalloc(100, sizeof(uint64_t));
	for (size_t t = 0; t < 10; t++)
		for (size_t p = 0; p < 10; p++)
			g->confusion->counts[t * 10 + p] = t == p ? 160 + (t * 7) % 20 : (t * 3 + p * 5) % 7 == 0 ? (t + p) % 4 + 1 : 0;
	/* the baseline's, on the same samples: class 8 mistaken for 3 six more
	 * times, class 5 never for 4 (the candidate did twice) */
	g->base_confusion = zalloc(1, sizeof(mg_confusion));
	g->base_confusion->n = 10;
	g->base_confusion->counts = zalloc(100, sizeof(uint64_t));
	memcpy(g->base_confusion->counts, g->confusion->counts, 100 * sizeof(uint64_t));
	g->base_confusion->counts[8 * 10 + 8] -= 6;
	g->base_confusion->counts[8 * 10 + 3] += 6;
	g->base_confusion->counts[5 * 10 + 5] += 2;
	g->base_confusion->counts[5 * 10 + 4] -= 2;
	g->seconds = 3.5;

	g = add_gate(r, "fidelity int8 vs fp32", "fidelity", NULL, MG_GATE_PASS,
		     "cosine 0.99931 is at least 0.999\x1b[31m (bell\x07)");
	g->metric = S("cosine");
	g->value = 0.99931;
	g->limit = 0.999;
	g->limit_is = MG_LIMIT_MIN;
	g->unit = S("");
	figure(g, "cosine", 0.99931, NAN, "");
	figure(g, "max_abs", 0.0412, NAN, "");
	figure(g, "mean_abs", 0.00371, NAN, "");
	figure(g, "snr", 31.7, NAN, "dB");
	figure(g, "snr_identical_outputs", INFINITY, NAN, "dB");
	g->fidelity = zalloc(1, sizeof(mg_fidelity_detail));
	g->fidelity->hist_max = 0.0412;
	for (size_t b = 0; b < MG_FIDELITY_BINS; b++) /* most errors small, a long tail */
		g->fidelity->hist[b] = (uint64_t)(12000.0 / ((double)(b * b) + 1));
	g->fidelity->nworst = 3;
	g->fidelity->worst[0] = (mg_fidelity_row){117, 4, 2.5, 2.5412};
	g->fidelity->worst[1] = (mg_fidelity_row){42, 9, -1.25, -1.2875};
	g->fidelity->worst[2] = (mg_fidelity_row){3, 0, 0.75, 0.7181};

	g = add_gate(r, GATE_LAT, "latency", "local", MG_GATE_FAIL,
		     "p95 11.84 ms is over the 10 ms ceiling, and the candidate is 21% slower than the baseline");
	g->metric = S("p95_ms");
	g->value = 11.84;
	g->limit = 10;
	g->limit_is = MG_LIMIT_MAX;
	g->baseline = 9.62;
	g->unit = S("ms");
	figure(g, "p50_ms", 10.51, 8.69, "ms");
	figure(g, "p90_ms", 11.42, 9.31, "ms");
	figure(g, "p95_ms", 11.84, 9.62, "ms");
	figure(g, "p99_ms", 16.9, 14.8, "ms");
	figure(g, "mean_ms", 10.73, 8.88, "ms");
	figure(g, "stddev_ms", 1.12, 1.09, "ms");
	g->latency = zalloc(1, sizeof(mg_latency_detail));
	g->latency->ncand = g->latency->nbase = 200;
	g->latency->cand_ns = samples(200, 9.6, 7);
	g->latency->base_ns = samples(200, 7.8, 11);
	g->latency->ratio = 1.2094;
	g->latency->ratio_lo = 1.1712;
	g->latency->ratio_hi = 1.2488;
	g->latency->confidence = 0.95;
	g->latency->p_value = 2.3e-12;
	g->latency->noisy = 1;
	g->latency->noise_note = S("block medians differ by 14% (limit 10%), load 2.1 > 1");
	g->latency->blocks = 20;
	g->latency->block_spread = 0.031;
	g->latency->min_samples = 100;
	g->latency->max_ratio = 1.1;
	g->fingerprint = fingerprint(0);
	g->seconds = 31.25;

	g = add_gate(r, "size \xE2\x89\xA4 2 MiB", "size", NULL, MG_GATE_PASS, "1.758 MiB is under 2 MiB");
	g->metric = S("bytes");
	g->value = 1843212;
	g->limit = 2097152;
	g->limit_is = MG_LIMIT_MAX;
	g->baseline = 1843000;
	g->unit = S("bytes");
	figure(g, "bytes", 1843212, 1843000, "bytes");
	figure(g, "parameters", 460803, 460750, "");

	g = add_gate(r, "peak memory on pi4", "memory", "pi4", MG_GATE_ERROR,
		     "target 'pi4' is unreachable: ssh: connect to host pi4.lan port 22: Connection refused");
	g->metric = S("peak_rss_bytes");
	g->limit = 67108864;
	g->limit_is = MG_LIMIT_MAX;
	g->unit = S("bytes");
	g->seconds = 5.0;

	g = add_gate(r, "latency p99 on pi4 (ci-only)", "latency", "pi4", MG_GATE_SKIP,
		     "marked ci-only; not run outside CI");
	g->metric = S("p99_ms");
	g->limit = 25;
	g->unit = S("ms");
	g->seconds = 0;
	return r;
}

/* ---- comparing reports -------------------------------------------------------- */

static void num_eq(double a, double b, const char *what)
{
	if (isnan(a) && isnan(b))
		return;
	if (a != b)
		fail_msg("%s: %.17g != %.17g", what, a, b);
}

static void str_eq(const char *a, const char *b, const char *what)
{
	if (!a || !b) {
		if (a != b)
			fail_msg("%s: '%s' != '%s'", what, a ? a : "(null)", b ? b : "(null)");
		return;
	}
	if (strcmp(a, b))
		fail_msg("%s: '%s' != '%s'", what, a, b);
}

static void fp_eq(const mg_fingerprint *a, const mg_fingerprint *b)
{
	assert_int_equal(!a, !b);
	if (!a)
		return;
	str_eq(a->cpu_model, b->cpu_model, "cpu_model");
	assert_int_equal(a->cpu_count, b->cpu_count);
	str_eq(a->governor, b->governor, "governor");
	str_eq(a->pinning, b->pinning, "pinning");
	num_eq(a->loadavg1, b->loadavg1, "loadavg1");
	str_eq(a->kernel, b->kernel, "kernel");
	str_eq(a->engine, b->engine, "engine");
	str_eq(a->arch, b->arch, "arch");
	assert_int_equal(a->emulated, b->emulated);
}

static void report_eq(const mg_report *a, const mg_report *b)
{
	assert_int_equal(a->schema_version, b->schema_version);
	str_eq(a->tool_version, b->tool_version, "tool_version");
	str_eq(a->created, b->created, "created");
	str_eq(a->git_commit, b->git_commit, "git_commit");
	str_eq(a->config_path, b->config_path, "config_path");
	str_eq(a->model, b->model, "model");
	str_eq(a->model_digest, b->model_digest, "model_digest");
	str_eq(a->baseline, b->baseline, "baseline");
	str_eq(a->baseline_digest, b->baseline_digest, "baseline_digest");
	str_eq(a->dataset, b->dataset, "dataset");
	str_eq(a->dataset_digest, b->dataset_digest, "dataset_digest");
	num_eq(a->seconds, b->seconds, "seconds");
	assert_int_equal(a->ntargets, b->ntargets);
	for (size_t i = 0; i < a->ntargets; i++) {
		str_eq(a->targets[i].name, b->targets[i].name, "target name");
		str_eq(a->targets[i].spec, b->targets[i].spec, "target spec");
		str_eq(a->targets[i].error, b->targets[i].error, "target error");
		fp_eq(a->targets[i].fingerprint, b->targets[i].fingerprint);
	}
	assert_int_equal(a->ngates, b->ngates);
	for (size_t i = 0; i < a->ngates; i++) {
		const mg_gate_result *x = &a->gates[i], *y = &b->gates[i];
		str_eq(x->name, y->name, "gate name");
		str_eq(x->kind, y->kind, "kind");
		str_eq(x->target, y->target, "target");
		assert_int_equal(x->status, y->status);
		assert_int_equal(x->on_inconclusive, y->on_inconclusive);
		str_eq(x->reason, y->reason, "reason");
		str_eq(x->metric, y->metric, "metric");
		num_eq(x->value, y->value, "value");
		num_eq(x->limit, y->limit, "limit");
		assert_int_equal(x->limit_is, y->limit_is);
		num_eq(x->baseline, y->baseline, "baseline");
		str_eq(x->unit, y->unit, "unit");
		num_eq(x->seconds, y->seconds, "gate seconds");
		assert_int_equal(x->nfigures, y->nfigures);
		for (size_t k = 0; k < x->nfigures; k++) {
			str_eq(x->figures[k].name, y->figures[k].name, "figure name");
			num_eq(x->figures[k].value, y->figures[k].value, "figure value");
			num_eq(x->figures[k].baseline, y->figures[k].baseline, "figure baseline");
			str_eq(x->figures[k].unit, y->figures[k].unit, "figure unit");
		}
		fp_eq(x->fingerprint, y->fingerprint);
		assert_int_equal(!x->latency, !y->latency);
		if (x->latency) {
			const mg_latency_detail *l = x->latency, *m = y->latency;
			assert_int_equal(l->ncand, m->ncand);
			assert_int_equal(l->nbase, m->nbase);
			for (size_t k = 0; k < l->ncand; k++)
				num_eq(l->cand_ns[k], m->cand_ns[k], "candidate sample");
			for (size_t k = 0; k < l->nbase; k++)
				num_eq(l->base_ns[k], m->base_ns[k], "baseline sample");
			num_eq(l->ratio, m->ratio, "ratio");
			num_eq(l->ratio_lo, m->ratio_lo, "ratio_lo");
			num_eq(l->ratio_hi, m->ratio_hi, "ratio_hi");
			num_eq(l->confidence, m->confidence, "confidence");
			num_eq(l->p_value, m->p_value, "p_value");
			assert_int_equal(l->noisy, m->noisy);
			str_eq(l->noise_note, m->noise_note, "noise_note");
			assert_int_equal(l->stopped_early, m->stopped_early);
			assert_int_equal(l->blocks, m->blocks);
			if (l->blocks)
				num_eq(l->block_spread, m->block_spread, "block_spread");
			assert_int_equal(l->min_samples, m->min_samples);
			assert_int_equal(l->too_few, m->too_few);
			assert_true(l->max_ratio == m->max_ratio || (isnan(l->max_ratio) && isnan(m->max_ratio)));
		}
		const mg_confusion *cx[2] = {x->confusion, x->base_confusion}, *cy[2] = {y->confusion, y->base_confusion};
		for (int k = 0; k < 2; k++) {
			assert_int_equal(!cx[k], !cy[k]);
			if (cx[k]) {
				assert_int_equal(cx[k]->n, cy[k]->n);
				assert_memory_equal(cx[k]->counts, cy[k]->counts, cx[k]->n * cx[k]->n * sizeof(uint64_t));
			}
		}
		assert_int_equal(!x->fidelity, !y->fidelity);
		if (x->fidelity) {
			const mg_fidelity_detail *f = x->fidelity, *h = y->fidelity;
			assert_true(f->hist_max == h->hist_max);
			assert_memory_equal(f->hist, h->hist, sizeof(f->hist));
			assert_int_equal(f->nworst, h->nworst);
			for (size_t k = 0; k < f->nworst; k++) {
				assert_int_equal(f->worst[k].row, h->worst[k].row);
				assert_int_equal(f->worst[k].index, h->worst[k].index);
				assert_true(f->worst[k].expected == h->worst[k].expected);
				assert_true(f->worst[k].got == h->worst[k].got);
			}
		}
	}
}

/* ---- helpers ------------------------------------------------------------------- */

static const char *tmpdir;

static const char *tmp_path(const char *name)
{
	static char p[4][1200];
	static int slot;
	char *out = p[slot++ % 4];
	snprintf(out, 1200, "%s/%s", tmpdir, name);
	return out;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

typedef int (*writer_fn)(mg_buf *, const mg_report *, mg_error *);

static char *render(writer_fn fn, const mg_report *r)
{
	mg_buf b = MG_BUF_INIT;
	mg_error err = {0};
	if (fn(&b, r, &err))
		fail_msg("writer failed: %s", err.msg);
	return mg_buf_detach(&b);
}

static void contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("output does not contain '%s'", needle);
}

static void lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("output contains '%s'", needle);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* 1 when s is valid UTF-8 (structurally: lead bytes and continuations) */
static int utf8_valid(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
		if (!n || i + n > len)
			return 0;
		for (size_t k = 1; k < n; k++)
			if (((unsigned char)s[i + k] & 0xC0) != 0x80)
				return 0;
		i += n - 1;
	}
	return 1;
}

static int setup_tmp(void **state)
{
	(void)state;
	tmpdir = scratch_dir("report");
	return 0;
}

static int teardown_tmp(void **state)
{
	(void)state;
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd);
}

/* ---- model -------------------------------------------------------------------- */

static void test_report_status_error_beats_fail_and_skips_are_ignored(void **state)
{
	(void)state;
	mg_report *r = build_full();
	assert_int_equal(mg_report_status(r), MG_GATE_ERROR);
	assert_int_equal(mg_report_exit_code(r), 3);
	r->gates[4].status = MG_GATE_PASS;
	assert_int_equal(mg_report_status(r), MG_GATE_FAIL);
	assert_int_equal(mg_report_exit_code(r), 1);
	r->gates[2].status = MG_GATE_PASS;
	assert_int_equal(mg_report_status(r), MG_GATE_PASS); /* the skipped one does not count */
	assert_int_equal(mg_report_exit_code(r), 0);
	assert_string_equal(mg_gate_status_name(MG_GATE_SKIP), "skip");
	mg_report_free(r);
	mg_report_free(NULL);
}

static void test_report_numbers_are_formatted_for_people(void **state)
{
	(void)state;
	char s[128];
	rp_num(s, NAN);
	assert_string_equal(s, "-");
	rp_num(s, 0.93123);
	assert_string_equal(s, "0.9312");
	/* limits as written, and values beside them with the digits that tell them apart */
	rp_num_written(s, 0.99995);
	assert_string_equal(s, "0.99995");
	rp_num_written(s, 1000000);
	assert_string_equal(s, "1000000");
	rp_num_written(s, 1e-7);
	assert_string_equal(s, "1e-07");
	rp_num_beside(s, 0.99996, 0.99997); /* "1" would be on the wrong side */
	assert_string_equal(s, "0.99996");
	rp_num_beside(s, 0.93123, 0.99995);
	assert_string_equal(s, "0.9312");
	mg_gate_result lim = {.limit = 0.99995, .limit_is = MG_LIMIT_MIN, .unit = (char *)""};
	rp_limit_text(s, sizeof(s), &lim);
	assert_string_equal(s, ">= 0.99995");
	rp_num(s, 1843212);
	assert_string_equal(s, "1843212");
	rp_num(s, 2.3e-12);
	assert_string_equal(s, "2.3e-12");
	rp_num(s, -INFINITY);
	assert_string_equal(s, "-inf");
	rp_num_unit(s, sizeof(s), 1843212, "bytes");
	assert_string_equal(s, "1.758 MiB");
	rp_num_unit(s, sizeof(s), 11.84, "ms");
	assert_string_equal(s, "11.84 ms");
	rp_num_unit(s, sizeof(s), NAN, "ms");
	assert_string_equal(s, "-");
	rp_num_exact(s, 0.1);
	assert_string_equal(s, "0.1");
	rp_num_exact(s, INFINITY);
	assert_string_equal(s, "+Inf");
	mg_gate_result g = {.value = 11.84, .baseline = 9.62, .unit = "ms"};
	rp_delta(s, sizeof(s), &g);
	assert_string_equal(s, "+2.22 ms (+23.1%)");
	g.baseline = NAN;
	rp_delta(s, sizeof(s), &g);
	assert_string_equal(s, "-");
	/* cutting never splits a UTF-8 sequence */
	const char *u = "a\xE7\xB2\xBE"; /* a精 */
	assert_int_equal(rp_utf8_cut(u, 4, 3), 1);
	assert_int_equal(rp_utf8_cut(u, 4, 4), 4);
	assert_int_equal(rp_utf8_width("a\xE7\xB2\xBE"), 3);
}

static void test_report_order_puts_errors_then_worst_failures_first(void **state)
{
	(void)state;
	mg_report *r = build_full();
	size_t idx[6];
	rp_order(r, idx);
	assert_int_equal(idx[0], 4); /* error */
	assert_int_equal(idx[1], 2); /* fail */
	assert_int_equal(idx[5], 5); /* skip last */
	mg_report_free(r);
}

/* ---- report.json ----------------------------------------------------------------- */

static void test_report_fixture_matches_committed_file(void **state)
{
	(void)state;
	mg_report *r = build_full();
	char *json = render(mg_report_write_json, r);
	const char *update = getenv("MG_UPDATE_FIXTURES");
	if (update && !strcmp(update, "1"))
		assert_int_equal(mg_file_write_atomic(FIXTURE, json, strlen(json), NULL), 0);
	mg_buf committed = MG_BUF_INIT;
	mg_error err = {0};
	if (mg_file_read(&committed, FIXTURE, 1 << 24, &err))
		fail_msg("%s (run from the source tree; MG_UPDATE_FIXTURES=1 writes it)", err.msg);
	if (strcmp(mg_buf_cstr(&committed), json))
		fail_msg("'%s' is not what the writer gives for the fixture report; if the change is "
			 "deliberate, rerun with MG_UPDATE_FIXTURES=1", FIXTURE);
	mg_buf_free(&committed);
	free(json);
	mg_report_free(r);
}

/* ---- what changed --------------------------------------------------------------- */

static void test_report_class_rows_put_the_worst_change_first(void **state)
{
	(void)state;
	mg_report *r = build_full();
	const mg_gate_result *g = &r->gates[0];
	rp_class_row *rows;
	size_t n;
	assert_int_equal(rp_class_rows(&rows, &n, g, NULL), 0);
	assert_int_equal(n, 10);
	/* two samples of class 5 went to class 4 (5's recall and 4's precision
	 * fall), six of class 8 no longer go to 3 (8's recall and 3's precision
	 * rise): 4 and 5 first, 3 and 8 last, unchanged classes between */
	assert_true((rows[0].cls == 4 && rows[1].cls == 5) || (rows[0].cls == 5 && rows[1].cls == 4));
	assert_true((rows[8].cls == 3 && rows[9].cls == 8) || (rows[8].cls == 8 && rows[9].cls == 3));
	assert_true(rows[0].f1 < rows[0].base_f1 && rows[1].f1 < rows[1].base_f1);
	assert_true(rows[9].f1 > rows[9].base_f1);
	assert_true(rows[5].f1 == rows[5].base_f1);
	const rp_class_row *five = rows[0].cls == 5 ? &rows[0] : &rows[1];
	uint64_t row5 = 0;
	for (size_t k = 0; k < 10; k++)
		row5 += g->confusion->counts[50 + k];
	assert_int_equal(five->support, row5);
	assert_true(five->recall < five->base_recall);
	uint64_t support = 0;
	for (size_t i = 0; i < n; i++)
		support += rows[i].support;
	uint64_t total = 0;
	for (size_t i = 0; i < 100; i++)
		total += g->confusion->counts[i];
	assert_int_equal(support, total);
	free(rows);

	rp_cell_change *ch;
	assert_int_equal(rp_confusion_changes(&ch, &n, g, NULL), 0);
	assert_int_equal(n, 4); /* 8->8, 8->3, 5->5, 5->4 */
	assert_int_equal(ch[0].truth, 8);
	assert_int_equal(ch[0].pred, 3); /* |6| before |2|; ties by true class */
	assert_int_equal(ch[0].base - ch[0].cand, 6);
	free(ch);
	char label[32];
	rp_class_label(label, sizeof(label), g, 7);
	assert_string_equal(label, "7");
	mg_report_free(r);
}

static void test_report_latency_verdict_is_one_plain_sentence(void **state)
{
	(void)state;
	mg_report *r = build_full();
	mg_gate_result *g = &r->gates[2];
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(rp_latency_verdict(&b, g, NULL), 0);
	/* 1.17..1.25 lies above the 1.1 allowed: a slowdown, said with units,
	 * every figure of it about the gate's one statistic (p95) */
	if (!strstr(b.data, "Slowdown: p95 11.84 ms vs 9.62 ms for the baseline; block by block, the p95 is "
			    "+20.9% against the baseline's (95% CI +17.1%..+24.9% over 20 paired blocks), "
			    "beyond the +10% allowed.") ||
	    !strstr(b.data, " p95 is 11.84 ms, over the 10 ms limit.") || strstr(b.data, "median"))
		fail_msg("%s", b.data);
	mg_buf_reset(&b);
	g->latency->max_ratio = 1.3;
	assert_int_equal(rp_latency_verdict(&b, g, NULL), 0);
	contains(b.data, "No slowdown: ");
	contains(b.data, "within the +30% allowed.");
	mg_buf_reset(&b);
	g->latency->max_ratio = 1.2;
	assert_int_equal(rp_latency_verdict(&b, g, NULL), 0);
	contains(b.data, "Undecided: ");
	contains(b.data, "the interval straddles the +20% allowed.");
	mg_buf_reset(&b);
	g->baseline = NAN; /* a report without the baseline's figure: the ratio alone */
	assert_int_equal(rp_latency_verdict(&b, g, NULL), 0);
	contains(b.data, "Undecided: block by block, the p95 is +20.9% against the baseline's (95% CI");
	lacks(b.data, "- ms");
	mg_buf_free(&b);
	mg_report_free(r);
}

static void test_report_json_round_trip_is_lossless(void **state)
{
	(void)state;
	mg_report *r = build_full(), *back = NULL;
	char *json = render(mg_report_write_json, r);
	contains(json, "\"schema_version\": 1");
	contains(json, "\"baseline\": null"); /* a NAN figure */
	contains(json, "\"inf\"");
	contains(json, "\"status\": \"error\"");
	write_text(tmp_path("r.json"), json);
	mg_error err = {0};
	if (mg_report_read_json(&back, tmp_path("r.json"), &err))
		fail_msg("%s", err.msg);
	report_eq(r, back);
	char *again = render(mg_report_write_json, back);
	assert_string_equal(json, again);

	/* and the committed fixture reads back as the report it was made from */
	mg_report *committed = NULL;
	if (mg_report_read_json(&committed, FIXTURE, &err))
		fail_msg("%s", err.msg);
	report_eq(r, committed);
	mg_report_free(committed);
	free(json);
	free(again);
	mg_report_free(r);
	mg_report_free(back);
}

static void test_report_json_round_trip_of_a_minimal_report(void **state)
{
	(void)state;
	mg_report *r = zalloc(1, sizeof(*r)), *back = NULL;
	r->schema_version = 1;
	r->seconds = NAN;
	char *json = render(mg_report_write_json, r);
	contains(json, "\"model\": null");
	contains(json, "\"gates\": []");
	write_text(tmp_path("min.json"), json);
	assert_int_equal(mg_report_read_json(&back, tmp_path("min.json"), NULL), 0);
	report_eq(r, back);
	free(json);
	mg_report_free(r);
	mg_report_free(back);
}

static void expect_read_error(const char *text, int code, const char *msg1, const char *msg2)
{
	mg_report *r = (mg_report *)1;
	mg_error err = {0};
	write_text(tmp_path("bad.json"), text);
	assert_int_equal(mg_report_read_json(&r, tmp_path("bad.json"), &err), code);
	assert_null(r);
	if (!strstr(err.msg, msg1) || (msg2 && !strstr(err.msg, msg2)))
		fail_msg("message '%s' lacks '%s' or '%s'", err.msg, msg1, msg2 ? msg2 : "");
	assert_non_null(strstr(err.msg, "bad.json"));
}

static void test_report_read_refuses_newer_schema(void **state)
{
	(void)state;
	expect_read_error("{\"schema_version\": 3, \"gates\": []}", MG_EINVAL, "schema_version 3",
			  "upgrade modelgate");
	expect_read_error("{\"gates\": []}", MG_EINVAL, "schema_version: missing", NULL);
	expect_read_error("{\"schema_version\": \"1\", \"gates\": []}", MG_EINVAL, "schema_version", "integer");
}

static void test_report_read_syntax_error_names_line_and_column(void **state)
{
	(void)state;
	expect_read_error("{\n  \"schema_version\": 1,\n  \"gates\": [1,,]\n}\n", MG_EINVAL, "bad.json':3:", NULL);
	expect_read_error("[]", MG_EINVAL, "expected a JSON object", NULL);
	expect_read_error("{\"schema_version\": 1, \"schema_version\": 1, \"gates\": []}", MG_EINVAL, "duplicate", NULL);
}

static void test_report_read_bad_value_names_its_json_path(void **state)
{
	(void)state;
	expect_read_error("{\"schema_version\": 1, \"gates\": [{\"name\": \"a\", \"kind\": \"latency\", "
			  "\"status\": \"pass\", \"latency\": {\"p_value\": \"low\"}}]}",
			  MG_EINVAL, "gates[0].latency.p_value", "expected a number");
	expect_read_error("{\"schema_version\": 1, \"gates\": [{\"name\": \"a\", \"kind\": \"k\", \"status\": \"maybe\"}]}",
			  MG_EINVAL, "gates[0].status", "\"pass\"");
	expect_read_error("{\"schema_version\": 1, \"gates\": [{\"name\": \"a\", \"kind\": \"k\", \"status\": \"pass\", "
			  "\"confusion\": {\"n\": 2, \"counts\": [[1, 2], [3]]}}]}",
			  MG_EINVAL, "gates[0].confusion.counts[1]", NULL);
	expect_read_error("{\"schema_version\": 1, \"gates\": [{\"name\": \"a\", \"kind\": \"k\", \"status\": \"pass\", "
			  "\"latency\": {\"samples_ns\": {\"candidate\": [1, true]}}}]}",
			  MG_EINVAL, "gates[0].latency.samples_ns.candidate[1]", NULL);
	expect_read_error("{\"schema_version\": 1, \"gates\": [{\"kind\": \"k\", \"status\": \"pass\"}]}",
			  MG_EINVAL, "gates[0].name: missing", NULL);
	/* a figure without a name (found by fuzz_report_json: the writers read it) */
	expect_read_error("{\"schema_version\": 1, \"gates\": [{\"name\": \"a\", \"kind\": \"k\", \"status\": \"pass\", "
			  "\"figures\": [{\"value\": 1}]}]}",
			  MG_EINVAL, "gates[0].figures[0].name: missing", NULL);
	expect_read_error("{\"schema_version\": 1, \"gates\": [{\"name\": \"a\", \"kind\": \"k\", \"status\": \"pass\", "
			  "\"limit_is\": \"ceiling\"}]}",
			  MG_EINVAL, "gates[0].limit_is", "\"min\", \"max\" or null");
	expect_read_error("{\"schema_version\": 1, \"targets\": [{\"fingerprint\": {\"cpu_count\": 1.5}}], \"gates\": []}",
			  MG_EINVAL, "targets[0].fingerprint.cpu_count", NULL);
}

/* How far past its limit a failed gate is follows the limit's direction: a
 * value above a floor or below a ceiling is not past it at all. */
static void test_severity_follows_the_limit_direction(void **state)
{
	(void)state;
	mg_gate_result g = {0};
	g.kind = "accuracy";
	g.value = 0.45;
	g.limit = 0.9;
	g.limit_is = MG_LIMIT_MIN;
	assert_true(fabs(rp_severity(&g) - 0.5) < 1e-12);
	g.value = 0.95; /* above its floor: failed for another reason (a drop) */
	assert_true(rp_severity(&g) == 0);
	g.limit_is = MG_LIMIT_UNKNOWN; /* an old report: distance either way */
	assert_true(fabs(rp_severity(&g) - 0.05 / 0.9) < 1e-12);
	g.kind = "fidelity";
	g.value = 0.02;
	g.limit = 0.01;
	g.limit_is = MG_LIMIT_MAX; /* max_abs */
	assert_true(fabs(rp_severity(&g) - 1.0) < 1e-12);
	char l[64];
	rp_limit_text(l, sizeof(l), &g);
	assert_string_equal(l, "<= 0.01");
	g.limit_is = MG_LIMIT_MIN;
	rp_limit_text(l, sizeof(l), &g);
	assert_string_equal(l, ">= 0.01");
}

static void test_report_read_ignores_unknown_keys(void **state)
{
	(void)state;
	write_text(tmp_path("extra.json"),
		   "{\"schema_version\": 1, \"future\": {\"x\": [1, 2]}, \"gates\": [{\"name\": \"a\", "
		   "\"kind\": \"size\", \"status\": \"fail\", \"value\": 3, \"colour\": \"red\"}]}");
	mg_report *r = NULL;
	mg_error err = {0};
	if (mg_report_read_json(&r, tmp_path("extra.json"), &err))
		fail_msg("%s", err.msg);
	assert_int_equal(r->ngates, 1);
	assert_int_equal(r->gates[0].status, MG_GATE_FAIL);
	assert_true(r->gates[0].value == 3);
	assert_true(isnan(r->gates[0].limit));
	mg_report_free(r);
	r = (mg_report *)1;
	assert_int_equal(mg_report_read_json(&r, tmp_path("missing.json"), &err), MG_ENOTFOUND);
	assert_null(r);
}

/* ---- JUnit -------------------------------------------------------------------------- */

static void test_junit_has_a_testcase_per_gate_and_escapes_everything(void **state)
{
	(void)state;
	mg_report *r = build_full();
	char *x = render(mg_report_write_junit, r);
	contains(x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
	contains(x, "tests=\"6\" failures=\"1\" errors=\"1\" skipped=\"1\"");
	assert_int_equal(count(x, "<testcase "), 6);
	contains(x, "<testcase classname=\"modelgate.latency.local\" name=\"latency p95 &lt;local&gt;\" time=\"31.250\">");
	contains(x, "name=\"accuracy &lt;top-1&gt; &amp; &quot;recall&quot; &#39;ok&#39; \xE2\x80\x94 \xE7\xB2\xBE\xE5\xBA\xA6");
	contains(x, "<failure message=\"p95 11.84 ms is over the 10 ms ceiling");
	contains(x, "<error message=\"target &#39;pi4&#39; is unreachable");
	contains(x, "<skipped message=\"marked ci-only");
	contains(x, "p95_ms 11.84 ms, limit &lt;= 10 ms, baseline 9.62 ms, delta +2.22 ms (+23.1%)");
	contains(x, "<property name=\"model_digest\" value=\"sha256:");
	/* ESC and BEL cannot be in XML 1.0 at all */
	lacks(x, "\x1b");
	lacks(x, "\x07");
	contains(x, "\xEF\xBF\xBD[31m");
	for (const char *p = x; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\n')
			fail_msg("control character 0x%02x in the XML", *p);
	free(x);
	mg_report_free(r);
}

/* ---- Markdown ---------------------------------------------------------------------- */

/* Every line that starts a table row ends it; the table header is there. */
static void markdown_well_formed(const char *md, size_t limit)
{
	size_t len = strlen(md);
	if (len > limit)
		fail_msg("%zu bytes, over the limit of %zu", len, limit);
	assert_true(utf8_valid(md, len));
	contains(md, "| Gate | Status | Value | Limit | Baseline |");
	contains(md, "|:--|:--|--:|--:|--:|--:|\n");
	const char *line = md;
	while (*line) {
		const char *nl = strchr(line, '\n');
		assert_non_null(nl); /* ends with a newline */
		if (*line == '|')
			assert_int_equal(nl[-1], '|');
		line = nl + 1;
	}
}

static void test_markdown_summary_has_headline_table_and_details(void **state)
{
	(void)state;
	mg_report *r = build_full();
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_report_write_markdown(&b, r, 1 << 20, NULL), 0);
	const char *md = mg_buf_cstr(&b);
	markdown_well_formed(md, 1 << 20);
	contains(md, "## \xE2\x9A\xA0\xEF\xB8\x8F modelgate: 1 gate failed, 1 could not be evaluated\n");
	contains(md, "3 passed, 1 failed, 1 error, 1 skipped in 42.1 s");
	contains(md, "| accuracy &lt;top-1&gt; &amp; \"recall\" 'ok' \xE2\x80\x94");
	contains(md, "| latency p95 &lt;local&gt; | \xE2\x9D\x8C fail | 11.84 ms | <= 10 ms | 9.62 ms | +2.22 ms (+23.1%) |");
	contains(md, "### Details");
	contains(md, "### Targets");
	contains(md, "unreachable: ssh: connect to host pi4.lan");
	lacks(md, "\x1b");
	lacks(md, "left out");
	/* details in <details> blocks, most important first, open when they fail */
	const char *err_at = strstr(md, "<details open><summary>\xE2\x9A\xA0\xEF\xB8\x8F error peak memory");
	const char *fail_at = strstr(md, "<details open><summary>\xE2\x9D\x8C fail latency");
	assert_non_null(err_at);
	assert_true(err_at < fail_at);
	assert_int_equal(count(md, "<details"), count(md, "</details>"));
	assert_true(strstr(md, "| Gate |") < strstr(md, "<details")); /* the gate table first */
	/* the latency verdict in words; the per-class change; the fidelity gate's worst rows */
	contains(md, "**Slowdown: p95 ");
	contains(md, "| Class | Precision | Recall | F1 | Support | \xCE\x94 F1 |\n");
	contains(md, "| 8 | 97.8% | 98.9% | 98.3% | 178 | +1.7 pp |\n");
	contains(md, "8 \xE2\x86\x92 3: 6 \xE2\x86\x92 0 (better)");
	contains(md, "| 117 | 4 | 2.5 | 2.541 |\n");
	contains(md, "log counts: `\xE2\x96\x88"); /* the fullest bin first */
	lacks(md, "HTML report with its charts"); /* no link without an address */
	mg_buf_reset(&b);
	assert_int_equal(mg_report_write_markdown_linked(&b, r, 1 << 20, "https://ci.example/jobs/7/artifacts/file/r (1).html", NULL), 0);
	contains(mg_buf_cstr(&b), "[The HTML report with its charts](https://ci.example/jobs/7/artifacts/file/r%20%281%29.html)\n");
	assert_true(strstr(b.data, "HTML report with its charts") < strstr(b.data, "<details"));
	mg_buf_free(&b);
	mg_report_free(r);
}

static void test_markdown_trimmed_under_max_bytes_keeps_the_gate_table(void **state)
{
	(void)state;
	mg_report *r = build_full();
	mg_buf full = MG_BUF_INIT;
	assert_int_equal(mg_report_write_markdown(&full, r, 1 << 20, NULL), 0);
	size_t limits[] = {full.len, full.len - 1, 2500, 1600, 1300};
	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		mg_buf b = MG_BUF_INIT;
		mg_error err = {0};
		if (mg_report_write_markdown(&b, r, limits[i], &err))
			fail_msg("limit %zu: %s", limits[i], err.msg);
		markdown_well_formed(mg_buf_cstr(&b), limits[i]);
		contains(mg_buf_cstr(&b), "| latency p95 &lt;local&gt; |");
		contains(mg_buf_cstr(&b), "| peak memory on pi4 |");
		if (i > 0)
			contains(mg_buf_cstr(&b), "left out to stay under");
		mg_buf_free(&b);
	}
	/* too small for even the headline: refused, nothing written */
	mg_buf b = MG_BUF_INIT;
	mg_error err = {0};
	assert_int_equal(mg_report_write_markdown(&b, r, 200, &err), MG_EINVAL);
	assert_int_equal(b.len, 0);
	mg_buf_free(&b);
	mg_buf_free(&full);
	mg_report_free(r);
}

/* Many gates: whole rows are dropped, the failing ones kept. */
static void test_markdown_drops_whole_rows_least_important_first(void **state)
{
	(void)state;
	mg_report *r = zalloc(1, sizeof(*r));
	r->gates = zalloc(300, sizeof(mg_gate_result));
	for (int i = 0; i < 300; i++) {
		char name[64];
		snprintf(name, sizeof(name), "gate \xE7\xB2\xBE\xE5\xBA\xA6 %03d", i);
		mg_gate_result *g = add_gate(r, name, "size", NULL, i == 250 ? MG_GATE_FAIL : MG_GATE_PASS, "r");
		g->value = i;
		g->limit = 100;
	}
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_report_write_markdown(&b, r, 4096, NULL), 0);
	markdown_well_formed(mg_buf_cstr(&b), 4096);
	contains(mg_buf_cstr(&b), "| gate \xE7\xB2\xBE\xE5\xBA\xA6 250 | \xE2\x9D\x8C fail |");
	contains(mg_buf_cstr(&b), "less important gates are not shown");
	mg_buf_free(&b);
	mg_report_free(r);
}

/* ---- annotations and outputs ----------------------------------------------------------- */

static void test_annotations_are_escaped_ordered_and_capped(void **state)
{
	(void)state;
	mg_report *r = build_full();
	char *a = NULL;
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_report_write_annotations(&b, r, 10, NULL), 0);
	a = mg_buf_detach(&b);
	/* the error first, then the failure; the noisy latency as a warning */
	const char *e1 = strstr(a, "::error title=modelgate%3A gate 'peak memory on pi4' could not be evaluated::target 'pi4'");
	const char *e2 = strstr(a, "::error title=modelgate%3A gate 'latency p95 <local>' failed::p95 11.84 ms");
	assert_non_null(e1);
	assert_non_null(e2);
	assert_true(e1 < e2);
	contains(a, "%0Ap95_ms 11.84 ms, limit <= 10 ms");
	contains(a, "::warning title=modelgate%3A gate 'latency p95 <local>' has a noisy measurement::block medians differ by 14%25 (limit 10%25)");
	assert_int_equal(count(a, "::error "), 2);
	assert_int_equal(count(a, "::warning "), 1);
	assert_int_equal(count(a, "\n"), 3); /* one line each: no raw line breaks */
	free(a);
	mg_report_free(r);

	/* 30 failures of growing severity, 3 errors, 14 noisy: ten of each type,
	 * errors first, then the worst failures, and a line for the rest */
	r = zalloc(1, sizeof(*r));
	r->gates = zalloc(47, sizeof(mg_gate_result));
	for (int i = 0; i < 47; i++) {
		char name[64];
		snprintf(name, sizeof(name), "g%02d, a:b", i);
		mg_gate_status st = i < 30 ? MG_GATE_FAIL : i < 33 ? MG_GATE_ERROR : MG_GATE_PASS;
		mg_gate_result *g = add_gate(r, name, "size", NULL, st, "why\nnext line");
		g->value = 100 + i;
		g->limit = 100;
		if (i >= 33) {
			g->latency = zalloc(1, sizeof(mg_latency_detail));
			g->latency->noisy = 1;
			g->latency->ratio = g->latency->ratio_lo = g->latency->ratio_hi = NAN;
		}
	}
	assert_int_equal(mg_report_write_annotations(&b, r, 10, NULL), 0);
	a = mg_buf_detach(&b);
	assert_int_equal(count(a, "::error "), 10);
	assert_int_equal(count(a, "::warning "), 10);
	contains(a, "title=modelgate%3A gate 'g30%2C a%3Ab' could not be evaluated::why%0Anext line\n");
	const char *first_fail = strstr(a, "failed::");
	assert_non_null(first_fail);
	assert_true(strstr(a, "'g29%2C a%3Ab' failed") == first_fail - strlen("'g29%2C a%3Ab' "));
	assert_true(strstr(a, "'g32%2C") < strstr(a, "'g29%2C"));
	assert_true(strstr(a, "'g29%2C") < strstr(a, "'g28%2C"));
	lacks(a, "'g22%2C a%3Ab' failed"); /* past the cap */
	contains(a, "::error title=modelgate%3A more gates::24 more gates failed or could not be evaluated");
	contains(a, "::warning title=modelgate%3A more gates::5 more gates have noisy measurements");
	free(a);
	assert_int_equal(mg_report_write_annotations(&b, r, 0, NULL), 0);
	assert_int_equal(b.len, 0);
	mg_buf_free(&b);
	mg_report_free(r);
}

static void test_github_outputs_are_safe_key_value_lines(void **state)
{
	(void)state;
	mg_report *r = build_full();
	char *o = render(mg_report_write_github_outputs, r);
	contains(o, "passed=false\nstatus=error\nexit_code=3\nmodel_digest=sha256:");
	contains(o, "gate_latency_p95_local_status=fail\n");
	contains(o, "gate_latency_p95_local_value=11.84\n");
	contains(o, "gate_latency_p95_local_limit=10\n");
	contains(o, "gate_latency_p95_local_baseline=9.62\n");
	contains(o, "gate_accuracy_top_1_recall_ok_status=pass\n");
	contains(o, "gate_size_2_mib_value=1843212\n");
	lacks(o, "gate_peak_memory_on_pi4_value"); /* not measured */
	for (const char *line = o; *line; line = strchr(line, '\n') + 1) {
		size_t k = strspn(line, "abcdefghijklmnopqrstuvwxyz0123456789_");
		if (k == 0 || line[k] != '=')
			fail_msg("not a safe key=value line: %.60s", line);
	}
	free(o);
	/* a value with a line break cannot inject another output */
	free(r->model_digest);
	r->model_digest = S("x\npassed=true");
	o = render(mg_report_write_github_outputs, r);
	contains(o, "model_digest<<MODELGATE_EOF_0\nx\npassed=true\nMODELGATE_EOF_0\n");
	free(o);
	mg_report_free(r);
}

/* ---- OpenMetrics ---------------------------------------------------------------------- */

static void test_openmetrics_is_valid_exposition_text(void **state)
{
	(void)state;
	mg_report *r = build_full();
	char *m = render(mg_report_write_openmetrics, r);
	size_t len = strlen(m);
	assert_true(len > 6 && !strcmp(m + len - 6, "# EOF\n"));
	assert_int_equal(count(m, "# EOF"), 1);
	contains(m, "# TYPE modelgate_gate_passed gauge\n");
	contains(m, "modelgate_gate_passed{gate=\"latency p95 <local>\",kind=\"latency\",target=\"local\"} 0\n");
	contains(m, "modelgate_gate_passed{gate=\"accuracy <top-1> & \\\"recall\\\" 'ok'");
	contains(m, "modelgate_gate_value{gate=\"latency p95 <local>\",metric=\"p95_ms\",unit=\"ms\"} 11.84\n");
	contains(m, "modelgate_latency_seconds{gate=\"latency p95 <local>\",target=\"local\",model=\"candidate\",quantile=\"0.5\"} ");
	contains(m, "modelgate_latency_seconds_count{gate=\"latency p95 <local>\",target=\"local\",model=\"baseline\"} 200\n");
	contains(m, "unit=\"dB\"} +Inf\n");
	lacks(m, "NaN");
	lacks(m, "modelgate_gate_value{gate=\"peak memory on pi4\""); /* not measured */
	contains(m, "modelgate_gate_limit{gate=\"peak memory on pi4\",metric=\"peak_rss_bytes\",unit=\"bytes\"} 67108864\n");
	/* the reason with ESC is not a label; but a label value with a line break is escaped */
	free(r->gates[0].name);
	r->gates[0].name = S("a\\b\nc\"d");
	free(m);
	m = render(mg_report_write_openmetrics, r);
	contains(m, "gate=\"a\\\\b\\nc\\\"d\"");
	/* each family is declared once, and names follow [a-zA-Z_:][a-zA-Z0-9_:]* */
	for (const char *line = m; *line; line = strchr(line, '\n') + 1) {
		if (!strncmp(line, "# TYPE ", 7)) {
			char fam[128];
			assert_int_equal(sscanf(line + 7, "%127s", fam), 1);
			char decl[160];
			snprintf(decl, sizeof(decl), "# TYPE %s ", fam);
			assert_int_equal(count(m, decl), 1);
		} else if (*line != '#') {
			size_t k = strspn(line, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_:0123456789");
			assert_true(k > 0 && (line[k] == '{' || line[k] == ' '));
		}
	}
	free(m);
	mg_report_free(r);
}

/* ---- HTML and the table --------------------------------------------------------------------- */

static char *decode_b64(const char *s, size_t n)
{
	char *out = zalloc(n, 1);
	size_t o = 0;
	uint32_t acc = 0;
	int bits = 0;
	for (size_t i = 0; i < n && s[i] != '='; i++) {
		const char *tab = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
		const char *c = strchr(tab, s[i]);
		assert_non_null(c);
		acc = acc << 6 | (uint32_t)(c - tab);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xFF);
		}
	}
	return out;
}

static void test_html_is_self_contained_with_charts(void **state)
{
	(void)state;
	mg_report *r = build_full();
	char *h = render(mg_report_write_html, r);
	assert_true(!strncmp(h, "<!DOCTYPE html>\n<html lang=\"en\">", 31));
	contains(h, "<meta charset=\"utf-8\">");
	contains(h, "<span class=\"verdict error\">ERROR</span>");
	contains(h, "accuracy &lt;top-1&gt; &amp; &quot;recall&quot; &#39;ok&#39;");
	contains(h, "<tr class=\"s-fail\"><td class=\"bar\"><a href=\"#gate-3\">latency p95 &lt;local&gt;</a>");
	/* beside a failure, the pill says what decided it */
	contains(h, "<span class=\"pill noisy\">noisy; the absolute limit decided</span>");
	lacks(h, "<script");
	lacks(h, "src=\"http");
	lacks(h, "href=\"http");
	lacks(h, "\x1b");
	/* the charts, in order, decode to SVG documents that say what they are */
	static const char *const want[][3] = {
		{">candidate</text>", "predicted class", ">167</text>"},     /* the candidate's matrix, a diagonal count */
		{">baseline</text>", "true class", ">170</text>"},           /* the baseline's, class 8 right 170 times */
		{">candidate - baseline</text>", ">+6</text>", "worse than"}, /* the difference and its legend */
		{"absolute error: ", "(log scale)", "|candidate - reference|"}, /* fidelity */
		{"baseline: median ", "candidate: median ", "n = 200"},     /* the latency histogram */
		{"log scale", "baseline: slowest ", " ms</text>"},         /* its CDF: the fixture has outliers */
	};
	assert_int_equal(count(h, "src=\"data:image/svg+xml;base64,"), 6);
	const char *p = h;
	for (size_t i = 0; i < 6; i++) {
		p = strstr(p, "src=\"data:image/svg+xml;base64,") + 31;
		char *svg = decode_b64(p, strcspn(p, "\""));
		contains(svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"");
		for (size_t k = 0; k < 3; k++)
			contains(svg, want[i][k]);
		free(svg);
	}
	/* the per-class table, worst change first, and the fidelity gate's worst rows */
	contains(h, "<h3>Per-class metrics</h3>");
	contains(h, "<td class=\"num worse\">-0.6 pp</td>");
	assert_true(strstr(h, "<tr><td>4</td>") < strstr(h, "<tr><td>0</td>"));
	contains(h, "<tr><td class=\"num\">117</td><td class=\"num\">4</td><td class=\"num\">2.5</td>"
		    "<td class=\"num\">2.541</td>");
	contains(h, "<p class=\"sentence\">Slowdown: p95 ");
	free(h);
	/* a baseline that classifies every sample as the candidate does: no
	 * difference view, a sentence instead, and no change chart to upload */
	memcpy(r->gates[0].base_confusion->counts, r->gates[0].confusion->counts, 100 * sizeof(uint64_t));
	h = render(mg_report_write_html, r);
	assert_int_equal(count(h, "src=\"data:image/svg+xml;base64,"), 5);
	contains(h, "The candidate's confusion matrix equals the baseline's: no sample changed class.");
	mg_report_chart *charts;
	size_t n;
	assert_int_equal(mg_report_charts(&charts, &n, r, NULL), 0);
	assert_int_equal(n, 2); /* the confusion matrix, the latency distribution */
	assert_string_equal(charts[0].file, "gate-1-confusion.svg");
	assert_string_equal(charts[1].file, "gate-3-latency.svg");
	assert_true(!strncmp(charts[1].svg.data, "<svg xmlns=", 11));
	mg_report_charts_free(charts, n);
	free(h);
	mg_report_free(r);
}

static int table_plain(mg_buf *b, const mg_report *r, mg_error *err)
{
	return mg_report_write_table(b, r, 0, err);
}

static int table_color(mg_buf *b, const mg_report *r, mg_error *err)
{
	return mg_report_write_table(b, r, 1, err);
}

static void test_table_aligns_columns_and_colours_only_when_asked(void **state)
{
	(void)state;
	mg_report *r = build_full();
	char *t = render(table_plain, r);
	lacks(t, "\x1b");
	lacks(t, "\x07");
	contains(t, "GATE");
	contains(t, "DELTA");
	contains(t, "+2.22 ms (+23.1%)");
	contains(t, "\nerror peak memory on pi4: target 'pi4' is unreachable");
	contains(t, "noisy; the absolute limit decided: block medians differ by 14%");
	contains(t, "ERROR: 3 passed, 1 failed, 1 error, 1 skipped in 42.1 s; model digits:v3 (sha256:");
	/* the STATUS column starts at the same terminal column on every row */
	const char *lines[7];
	lines[0] = t;
	for (int i = 1; i < 7; i++)
		lines[i] = strchr(lines[i - 1], '\n') + 1;
	size_t col = (size_t)(strstr(lines[0], "STATUS") - lines[0]);
	for (int i = 1; i < 7; i++) {
		char line[512], prefix[512];
		snprintf(line, sizeof(line), "%.*s", (int)(strchr(lines[i], '\n') - lines[i]), lines[i]);
		const char *st = NULL;
		for (int k = 0; k < 4 && !st; k++)
			st = strstr(line, (const char *[]){"  pass", "  fail", "  error", "  skip"}[k]);
		assert_non_null(st);
		snprintf(prefix, sizeof(prefix), "%.*s", (int)(st - line) + 2, line);
		assert_int_equal(rp_utf8_width(prefix), col);
	}
	free(t);
	t = render(table_color, r);
	contains(t, "\033[1;31mfail\033[0m");
	contains(t, "\033[32mpass\033[0m");
	free(t);
	mg_report_free(r);
}

/* One table of formats by name serves gate and report: every name round
 * trips, and rendering by format is the writer of that format. */
/* ---- inconclusive ------------------------------------------------------------------ */

/* One latency gate on an emulated target that could not settle its
 * verdict, under the policy pol, beside a passing size gate. */
static mg_report *build_inconclusive(mg_inconclusive_policy pol)
{
	mg_report *r = zalloc(1, sizeof(*r));
	r->schema_version = 2;
	r->seconds = 12.5;
	r->gates = zalloc(2, sizeof(mg_gate_result));
	mg_gate_result *g = add_gate(r, "lat", "latency", "board", MG_GATE_INCONCLUSIVE,
				     "inconclusive: 1.031x the baseline, 98% interval [0.982, 1.082] over 12 paired "
				     "blocks straddles the allowed 1.05x");
	g->on_inconclusive = pol;
	g->metric = S("p50_ms");
	g->value = 4.2;
	g->limit = NAN;
	g->limit_is = MG_LIMIT_MAX;
	g->unit = S("ms");
	g->latency = zalloc(1, sizeof(mg_latency_detail));
	g->latency->ratio = 1.031;
	g->latency->ratio_lo = 0.982;
	g->latency->ratio_hi = 1.082;
	g->latency->confidence = 0.98;
	g->latency->p_value = NAN;
	g->latency->blocks = 12;
	g->latency->block_spread = 0.05;
	g->latency->min_samples = 100;
	g->fingerprint = fingerprint(1);
	g = add_gate(r, "size", "size", NULL, MG_GATE_PASS, "bytes 10 <= 99995");
	return r;
}

static void test_inconclusive_is_its_own_status_in_every_format(void **state)
{
	(void)state;
	mg_report *r = build_inconclusive(MG_INCONCLUSIVE_WARN);
	assert_int_equal(mg_report_status(r), MG_GATE_PASS);
	assert_int_equal(mg_report_exit_code(r), 0);
	assert_string_equal(mg_gate_status_name(MG_GATE_INCONCLUSIVE), "inconclusive");

	char *json = render(mg_report_write_json, r);
	contains(json, "\"schema_version\": 2");
	contains(json, "\"status\": \"inconclusive\"");
	contains(json, "\"on_inconclusive\": \"warn\"");
	contains(json, "\"blocks\": 12");
	write_text(tmp_path("inconclusive.json"), json);
	mg_report *back = NULL;
	assert_int_equal(mg_report_read_json(&back, tmp_path("inconclusive.json"), NULL), 0);
	report_eq(r, back);
	mg_report_free(back);

	char *junit = render(mg_report_write_junit, r);
	contains(junit, "skipped=\"1\"");
	contains(junit, "failures=\"0\"");
	contains(junit, "<property name=\"modelgate.status\" value=\"inconclusive\"/>");
	contains(junit, "<skipped message=\"inconclusive: 1.031x");

	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_report_write_markdown(&b, r, 1 << 20, NULL), 0);
	contains(b.data, "modelgate: no gate failed, 1 inconclusive");
	contains(b.data, "inconclusive | 4.2 ms");
	contains(b.data, "lat \xC2\xB7 latency@board (emulated) |"); /* in the row itself */
	mg_buf_free(&b);

	char *html = render(mg_report_write_html, r);
	contains(html, "<span class=\"pill inconclusive\">inconclusive</span>");
	contains(html, "<span class=\"pill emulated\">emulated</span>");
	contains(html, "1 inconclusive");

	char *table = NULL;
	assert_int_equal(mg_report_write_table(&b, r, 0, NULL), 0);
	table = mg_buf_detach(&b);
	contains(table, "latency@board (emulated)");
	contains(table, "inconclusive lat: inconclusive: 1.031x");
	contains(table, "1 inconclusive");

	assert_int_equal(mg_report_write_annotations(&b, r, 10, NULL), 0);
	contains(b.data, "::warning title=modelgate%3A gate 'lat' is inconclusive::inconclusive: 1.031x");
	mg_buf_reset(&b);
	assert_int_equal(mg_report_write_github_outputs(&b, r, NULL), 0);
	contains(b.data, "inconclusive=1\n");
	contains(b.data, "passed=true\n");
	contains(b.data, "lat_status=inconclusive\n");
	mg_buf_reset(&b);
	assert_int_equal(mg_report_write_openmetrics(&b, r, NULL), 0);
	contains(b.data, "modelgate_gate_inconclusive{gate=\"lat\",kind=\"latency\",target=\"board\"} 1");
	mg_buf_free(&b);
	free(json);
	free(junit);
	free(html);
	free(table);
	mg_report_free(r);
}

/* noise never decides a failure alone: beside one, the flag says what did */
static void test_noisy_beside_a_failure_says_what_decided_it(void **state)
{
	(void)state;
	mg_gate_result g = {.status = MG_GATE_PASS, .value = 4, .limit = 5};
	assert_string_equal(rp_noisy_label(&g), "noisy");
	g.status = MG_GATE_FAIL;
	assert_string_equal(rp_noisy_label(&g), "noisy; the interval decided");
	g.value = 6;
	assert_string_equal(rp_noisy_label(&g), "noisy; the absolute limit decided");
}

static void test_on_inconclusive_decides_the_exit_code(void **state)
{
	(void)state;
	mg_report *r = build_inconclusive(MG_INCONCLUSIVE_FAIL);
	assert_int_equal(mg_report_status(r), MG_GATE_FAIL);
	assert_int_equal(mg_report_exit_code(r), 1);
	char *junit = render(mg_report_write_junit, r);
	contains(junit, "failures=\"1\"");
	contains(junit, "skipped=\"0\"");
	contains(junit, "<failure message=\"inconclusive: 1.031x");
	contains(junit, "type=\"inconclusive\"");
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_report_write_annotations(&b, r, 10, NULL), 0);
	contains(b.data, "::error title=modelgate%3A gate 'lat' is inconclusive (on_inconclusive%3A fail)::");
	mg_buf_free(&b);
	free(junit);
	mg_report_free(r);

	r = build_inconclusive(MG_INCONCLUSIVE_PASS);
	assert_int_equal(mg_report_exit_code(r), 0);
	assert_int_equal(mg_report_write_annotations(&b, r, 10, NULL), 0);
	assert_true(!b.data || !strstr(b.data, "inconclusive")); /* let through without a word */
	mg_buf_free(&b);
	mg_report_free(r);
}

static void test_report_formats_by_name_render_their_writer(void **state)
{
	(void)state;
	static const char *const names[] = {"table", "json", "junit", "markdown", "annotations",
					    "github-outputs", "openmetrics", "html"};
	mg_report *r = build_full();
	mg_error err = {0};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		mg_report_format f;
		assert_int_equal(mg_report_format_parse(&f, names[i], &err), 0);
		assert_string_equal(mg_report_format_name(f), names[i]);
		mg_buf b = MG_BUF_INIT;
		assert_int_equal(mg_report_render(&b, r, f, NULL, &err), 0);
		assert_true(b.len > 0);
		mg_buf_free(&b);
	}
	mg_buf a = MG_BUF_INIT, b = MG_BUF_INIT;
	assert_int_equal(mg_report_render(&a, r, MG_REPORT_JUNIT, NULL, &err), 0);
	assert_int_equal(mg_report_write_junit(&b, r, &err), 0);
	assert_string_equal(mg_buf_cstr(&a), mg_buf_cstr(&b));
	mg_buf_free(&a);
	mg_buf_free(&b);
	mg_report_format f;
	assert_int_equal(mg_report_format_parse(&f, "yaml", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "'yaml' is not a format: table, json"));
	mg_report_free(r);
}

/* A command that needs a report's bytes too parses those very bytes. */
static void test_report_parses_from_bytes_as_from_the_file(void **state)
{
	(void)state;
	mg_report *r = build_full(), *back = NULL;
	mg_error err = {0};
	mg_buf json = MG_BUF_INIT, again = MG_BUF_INIT;
	assert_int_equal(mg_report_write_json(&json, r, &err), 0);
	assert_int_equal(mg_report_parse_json(&back, json.data, json.len, "mem.json", &err), 0);
	assert_int_equal(mg_report_write_json(&again, back, &err), 0);
	assert_string_equal(json.data, again.data);
	mg_report_free(back);
	assert_int_equal(mg_report_parse_json(&back, "{", 1, "mem.json", &err), MG_EINVAL);
	assert_null(back);
	assert_non_null(strstr(err.msg, "'mem.json':1:"));
	mg_buf_free(&json);
	mg_buf_free(&again);
	mg_report_free(r);
}

/* A target no gate measured on (an accuracy-only run) is said to be so,
 * not "unreachable"; one that failed says why. */
static void test_target_without_a_fingerprint_says_why(void **state)
{
	(void)state;
	mg_report *r = build_full();
	mg_fingerprint_free(r->targets[0].fingerprint);
	r->targets[0].fingerprint = NULL;
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_report_write_markdown(&b, r, 1 << 20, NULL), 0);
	contains(mg_buf_cstr(&b), "| local | local | not fingerprinted: no latency, memory or cost gate measured here |");
	contains(mg_buf_cstr(&b), "unreachable: ssh: connect to host pi4.lan port 22: Connection refused");
	lacks(mg_buf_cstr(&b), "unknown error");
	mg_buf_reset(&b);
	assert_int_equal(mg_report_write_html(&b, r, NULL), 0);
	contains(mg_buf_cstr(&b), "not fingerprinted: no latency, memory or cost gate measured here");
	mg_buf_free(&b);
	mg_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_report_status_error_beats_fail_and_skips_are_ignored),
		cmocka_unit_test(test_target_without_a_fingerprint_says_why),
		cmocka_unit_test(test_report_formats_by_name_render_their_writer),
		cmocka_unit_test(test_report_parses_from_bytes_as_from_the_file),
		cmocka_unit_test(test_report_numbers_are_formatted_for_people),
		cmocka_unit_test(test_report_order_puts_errors_then_worst_failures_first),
		cmocka_unit_test(test_report_fixture_matches_committed_file),
		cmocka_unit_test(test_report_class_rows_put_the_worst_change_first),
		cmocka_unit_test(test_report_latency_verdict_is_one_plain_sentence),
		cmocka_unit_test(test_report_json_round_trip_is_lossless),
		cmocka_unit_test(test_report_json_round_trip_of_a_minimal_report),
		cmocka_unit_test(test_report_read_refuses_newer_schema),
		cmocka_unit_test(test_report_read_syntax_error_names_line_and_column),
		cmocka_unit_test(test_report_read_bad_value_names_its_json_path),
		cmocka_unit_test(test_severity_follows_the_limit_direction),
		cmocka_unit_test(test_report_read_ignores_unknown_keys),
		cmocka_unit_test(test_junit_has_a_testcase_per_gate_and_escapes_everything),
		cmocka_unit_test(test_markdown_summary_has_headline_table_and_details),
		cmocka_unit_test(test_markdown_trimmed_under_max_bytes_keeps_the_gate_table),
		cmocka_unit_test(test_markdown_drops_whole_rows_least_important_first),
		cmocka_unit_test(test_annotations_are_escaped_ordered_and_capped),
		cmocka_unit_test(test_github_outputs_are_safe_key_value_lines),
		cmocka_unit_test(test_openmetrics_is_valid_exposition_text),
		cmocka_unit_test(test_html_is_self_contained_with_charts),
		cmocka_unit_test(test_inconclusive_is_its_own_status_in_every_format),
		cmocka_unit_test(test_on_inconclusive_decides_the_exit_code),
		cmocka_unit_test(test_noisy_beside_a_failure_says_what_decided_it),
		cmocka_unit_test(test_table_aligns_columns_and_colours_only_when_asked),
	};
	return cmocka_run_group_tests(tests, setup_tmp, teardown_tmp);
}
