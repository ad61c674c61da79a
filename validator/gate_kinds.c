/* The six gate kinds: how each turns measurements into figures, a
 * headline value against its limit, and pass, fail or error with a reason
 * a person can act on (accuracy in gate_accuracy.c). */
#include "report_priv.h"
#include "runners/inputs.h"
#include "validator_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void mg_gate__note(char *buf, size_t len, const char *fmt, ...)
{
	size_t used = strlen(buf);
	if (used + 3 >= len)
		return;
	if (used)
		used += (size_t)snprintf(buf + used, len - used, "; ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf + used, len - used, fmt, ap);
	va_end(ap);
}

size_t mg_gate__nonfinite_note(char *buf, size_t len, const char *whose, const float *v, size_t count)
{
	size_t nan, inf, bad = mg_nonfinite_count(v, count, &nan, &inf);
	if (bad)
		snprintf(buf, len, "%s hold %zu NaN and %zu infinite values (of %zu)", whose, nan, inf, count);
	return bad;
}

/* ---- fidelity ------------------------------------------------------------ */

/* The candidate's first output and the baseline's output it meets (by
 * name, else by order), the candidate's transposed to the baseline's
 * layout when the gate gives one; shapes that still differ are bad input
 * naming both. *cand is the candidate's output or *turned (caller frees
 * turned); how says what met how, for the reason. */
static int pair_outputs(run_ctx *c, const mg_gate_config *gc, size_t oi, const mg_tensor **cand,
			mg_tensor **turned, const mg_tensor **ref, char *how, size_t howlen, mg_error *err)
{
	const char *from[64], *to[64], *by;
	size_t nb = c->nbase_out < 64 ? c->nbase_out : 64, nc = c->ncand_out < 64 ? c->ncand_out : 64, idx[64];
	for (size_t i = 0; i < nb; i++)
		from[i] = c->base_out[i]->name;
	for (size_t i = 0; i < nc; i++)
		to[i] = c->cand_out[i]->name;
	mg_error e = {0};
	if (mg_tensors_match(idx, &by, from, nb, to, nc, "outputs", &e))
		return mg_error_set(err, MG_EINVAL, "gate '%s': the candidate's and the baseline's outputs: %s",
				    gc->name, e.msg);
	*cand = c->cand_out[oi];
	*ref = c->base_out[idx[oi < nc ? oi : 0]];
	snprintf(how, howlen, "inputs matched by %s, outputs by %s", c->inputs_how ? c->inputs_how : "name", by);
	const char *to_layout = mg_layout_other(gc->layout);
	int same = (*cand)->rank == (*ref)->rank;
	for (size_t k = 0; same && k < (*cand)->rank; k++)
		same = (*cand)->dims[k] == (*ref)->dims[k];
	if (!same && gc->layout && (*cand)->rank == 4) {
		int rc = mg_tensor_relayout(turned, *cand, gc->layout, to_layout, err);
		if (rc)
			return rc;
		*cand = *turned;
		size_t used = strlen(how);
		snprintf(how + used, howlen - used, "; the candidate's output transposed from %s to %s",
			 gc->layout, to_layout);
		same = 1;
		for (size_t k = 0; k < 4; k++)
			same &= (*cand)->dims[k] == (*ref)->dims[k];
	}
	if (!same) {
		char cs[128], rs[128];
		mg_shape_format(cs, sizeof(cs), (*cand)->dims, (*cand)->rank);
		mg_shape_format(rs, sizeof(rs), (*ref)->dims, (*ref)->rank);
		return mg_error_set(err, MG_EINVAL, "gate '%s': the candidate's output '%s' is %s%s, the baseline's "
				    "'%s' %s (%s)", gc->name, c->cand_out[oi]->name, cs,
				    *turned ? " after the layout" : "", (*ref)->name, rs, how);
	}
	return 0;
}

static int eval_fidelity(run_ctx *c, const mg_gate_config *gc, mg_gate_result *g, mg_error *perr)
{
	int rc = 0;
	const char *why = mg_gate__dataset_outputs(c);
	if (why) {
		mg_gate__set_status(g, MG_GATE_ERROR, "cannot run the dataset on the local target: %s", why);
		return 0;
	}
	mg_tensor **ref = c->base_out, **own = NULL, *turned = NULL;
	size_t nref = c->nbase_out;
	size_t oi = 0;
	if ((rc = mg_gate__pick_output(&oi, gc, c->model_info, c->model.spec, perr)))
		return rc;
	if (oi >= c->ncand_out)
		oi = 0; /* no output to compare: the shapes below say so */
	const mg_tensor *cand = c->ncand_out ? c->cand_out[oi] : NULL, *base = NULL;
	char how[256] = "";
	mg_error err = {0};
	if (!gc->reference && nref && cand && (rc = pair_outputs(c, gc, oi, &cand, &turned, &base, how, sizeof(how), perr))) {
		mg_tensor_free(turned);
		return rc;
	}
	if (gc->reference) {
		const char *names[64];
		size_t n = c->model_info->noutputs < 64 ? c->model_info->noutputs : 64;
		for (size_t i = 0; i < n; i++)
			names[i] = c->model_info->outputs[i].name;
		char *dir = gc->reference[0] == '/' ? strdup(gc->reference)
						    : mg_path_join(c->cfg->dir, gc->reference, NULL);
		mg_tensor_format fmt;
		rc = dir ? mg_tensor_dir_read(&own, &fmt, dir, "output", names, n, &err) : MG_ENOMEM;
		free(dir);
		if (rc == MG_EINVAL || rc == MG_ENOTFOUND) /* the reference is input: exit 2 */
			return mg_error_set(perr, MG_EINVAL, "gate '%s': %s", gc->name, err.msg);
		if (rc) {
			mg_gate__set_status(g, MG_GATE_ERROR, "%s", err.msg[0] ? err.msg : "out of memory");
			return 0;
		}
		ref = own;
		nref = n;
	}
	size_t n, cols, rn, rcols;
	float *rows = nref && cand ? mg_gate__as_rows(cand, &n, &cols) : NULL;
	float *rrows = nref ? mg_gate__as_rows(base ? base : ref[oi < nref ? oi : 0], &rn, &rcols) : NULL;
	mg_fidelity f;
	char cbad[160] = "", rbad[600] = "", fails[512] = "", passes[512] = "";
	if (rows && rrows && gc->reference && (n != rn || cols != rcols)) {
		rc = mg_error_set(perr, MG_EINVAL, "gate '%s': the reference outputs in '%s' are %zux%zu, "
				  "the model's on the dataset %zux%zu", gc->name, gc->reference, rn, rcols, n, cols);
		goto done;
	}
	if (!rows || !rrows || n != rn || cols != rcols) {
		mg_gate__set_status(g, MG_GATE_ERROR, "the outputs to compare differ in shape (%zux%zu against %zux%zu)",
		       n, cols, rn, rcols);
		goto done;
	}
	if (mg_gate__nonfinite_note(cbad, sizeof(cbad), "the candidate's outputs", rows, n * cols)) {
		mg_gate__note(fails, sizeof(fails), "%s", cbad); /* every figure is NaN, and fails */
	} else {
		char whose[400];
		if (gc->reference)
			snprintf(whose, sizeof(whose), "the reference outputs in '%.300s'", gc->reference);
		else
			snprintf(whose, sizeof(whose), "the baseline's outputs");
		if (mg_gate__nonfinite_note(rbad, sizeof(rbad), whose, rrows, rn * rcols)) {
			mg_gate__set_status(g, MG_GATE_ERROR, "%s: there is nothing to compare with", rbad);
			goto done;
		}
	}
	if (mg_fidelity_compute(&f, rows, rrows, n, cols, &err)) {
		mg_gate__set_status(g, MG_GATE_ERROR, "%s", err.msg);
		goto done;
	}
	if (!cbad[0] && (g->fidelity = malloc(sizeof(*g->fidelity))))
		mg_fidelity_detail_compute(g->fidelity, rows, rrows, n, cols);
	mg_gate__add_figure(g, "max_abs", f.max_abs, NAN, "");
	mg_gate__add_figure(g, "mean_abs", f.mean_abs, NAN, "");
	mg_gate__add_figure(g, "cosine", f.cosine, NAN, "");
	mg_gate__add_figure(g, "snr_db", f.snr_db, NAN, "dB");
	mg_gate__add_figure(g, "top1_agreement", f.top1_agree, NAN, "");
	const char *head = NULL;
	double hv = NAN, hl = NAN;
	mg_limit_is hd = MG_LIMIT_UNKNOWN;
#define LIMIT(field, name, val, cmp_ok, op_ok, op_bad, is)                                           \
	if (!isnan(gc->field)) {                                                                      \
		int ok = cmp_ok;                                                                      \
		char vs[RP_NUM_SIZE], ls[RP_NUM_SIZE];                                                \
		rp_num_beside(vs, val, gc->field);                                                    \
		rp_num_written(ls, gc->field);                                                        \
		mg_gate__note(ok ? passes : fails, sizeof(fails), "%s %s %s %s", name, vs, ok ? op_ok : op_bad, ls); \
		if (!head || !ok) {                                                                   \
			head = name;                                                                  \
			hv = val;                                                                     \
			hl = gc->field;                                                               \
			hd = is;                                                                      \
		}                                                                                     \
	}
	LIMIT(min_cosine, "cosine", f.cosine, f.cosine >= gc->min_cosine, ">=", "<", MG_LIMIT_MIN)
	LIMIT(min_snr_db, "snr_db", f.snr_db, f.snr_db >= gc->min_snr_db, ">=", "<", MG_LIMIT_MIN)
	LIMIT(min_top1_agreement, "top1_agreement", f.top1_agree, f.top1_agree >= gc->min_top1_agreement,
	      ">=", "<", MG_LIMIT_MIN)
	LIMIT(max_abs, "max_abs", f.max_abs, f.max_abs <= gc->max_abs, "<=", ">", MG_LIMIT_MAX)
	LIMIT(max_mean_abs, "mean_abs", f.mean_abs, f.mean_abs <= gc->max_mean_abs, "<=", ">",
	      MG_LIMIT_MAX)
#undef LIMIT
	mg_gate__set_headline(g, head, hv, hl, hd, NAN, head && !strcmp(head, "snr_db") ? "dB" : "");
	mg_gate__set_status(g, fails[0] ? MG_GATE_FAIL : MG_GATE_PASS, "against %s: %s%s%s",
			    gc->reference ? gc->reference : "the baseline", fails[0] ? fails : passes,
			    how[0] ? "; " : "", how);
done:
	free(rows);
	free(rrows);
	mg_tensor_free(turned);
	mg_tensors_free(own, own ? nref : 0);
	return rc;
}

/* ---- latency ------------------------------------------------------------- */

typedef struct lat_src {
	const mg_target_if *tif;
	void *t;
	mg_model models[2]; /* baseline, candidate */
	int loaded[2];
	mg_tensor **inputs[2]; /* baseline's, candidate's */
	size_t ninputs[2];
} lat_src;

static int lat_block(void *ctx, int which, size_t n, double *out, mg_error *err)
{
	lat_src *s = ctx;
	return s->tif->measure(s->tif->ctx, s->t, &s->models[which], s->inputs[which], s->ninputs[which],
			       0, n, out, err);
}

static double lat_now(void *ctx)
{
	(void)ctx;
	return mg_gate__now_s();
}

/* The gate's statistic of n samples (ns), in ms; NAN for none. */
static int stat_ms(const double *ns, size_t n, const char *metric, double *out)
{
	double *v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return MG_ENOMEM;
	memcpy(v, ns, n * sizeof(*v));
	*out = mg_latency_statistic(v, n, mg_latency_metric_quantile(metric)) / 1e6;
	free(v);
	return 0;
}

static int load_pair(run_ctx *c, const mg_target_config *tc, lat_src *s, int with_base,
		     mg_error *err)
{
	const mg_target_if *tif = s->tif;
	int rc = tif->load(tif->ctx, s->t, c->model.path, tc->threads, &s->models[1], err);
	s->loaded[1] = !rc;
	if (!rc && with_base) {
		rc = tif->load(tif->ctx, s->t, c->baseline.path, tc->threads, &s->models[0], err);
		s->loaded[0] = !rc;
	}
	double first_ns; /* the first inferences (after 5 warm-up runs), unmeasured */
	for (int w = with_base ? 0 : 1; !rc && w < 2; w++)
		rc = tif->measure(tif->ctx, s->t, &s->models[w], s->inputs[w], s->ninputs[w], 5, 1, &first_ns, err);
	return rc;
}

/* More threads than the target has CPUs is the config's fault (exit 2),
 * not the target's: said before anything loads, naming the setting. */
static int threads_fit(const run_ctx *c, const mg_target_config *tc, void *t, mg_error *err)
{
	const mg_target_info *ti = c->tif.info(c->tif.ctx, t);
	const mg_sysinfo *si = ti ? ti->sys : NULL;
	if (tc->threads > 0 && si && si->ncpu && (unsigned)tc->threads > si->ncpu)
		return mg_error_set(err, MG_EINVAL, "%s: targets.%s.threads: %d is more than the %u CPUs of the target",
				    c->cfg->path, tc->name, tc->threads, si->ncpu);
	return 0;
}

/* The fingerprint names the engine the agent started with (ONNX Runtime);
 * the candidate's (a .tflite model's "tflite armnn 20.08 CpuRef") is known
 * once it loads: loaded once on the target to learn it. A load that fails
 * leaves the fingerprint, and the gate says why when it loads. */
static void learn_engine(run_ctx *c, run_target *rt)
{
	if (rt->engine_known || !rt->t || !rt->fingerprint)
		return;
	rt->engine_known = 1;
	mg_model m;
	mg_error err = {0};
	if (c->tif.load(c->tif.ctx, rt->t, c->model.path, 0, &m, &err))
		return;
	const mg_target_info *ti = c->tif.info(c->tif.ctx, rt->t);
	char *e = ti && ti->engine && ti->engine_version ? mg_fingerprint_engine(ti) : NULL;
	if (e) {
		free(rt->fingerprint->engine);
		rt->fingerprint->engine = e;
	}
	c->tif.unload(c->tif.ctx, rt->t, &m);
}

/* The started target of a latency, memory or cost gate, with its
 * fingerprint (naming the candidate's engine) in g; NULL, and g an error
 * naming it, when it cannot be started. */
static run_target *gate_target(run_ctx *c, const mg_target_config *tc, mg_gate_result *g)
{
	run_target *rt = mg_gate__get_target(c, tc);
	learn_engine(c, rt);
	g->fingerprint = mg_gate__copy_fingerprint(rt->fingerprint);
	if (rt->t)
		return rt;
	mg_gate__set_status(g, MG_GATE_ERROR, "target '%s' is unreachable: %s", tc->name,
			    rt->error ? rt->error : "cannot start the target");
	return NULL;
}

/* How much longer a run would take to settle a ratio now `dist` (in log
 * ratio) from the limit with an interval half-width of `half`: the
 * interval narrows as the square root of the blocks. 0 when not worth
 * saying (further than 100 times longer). */
static double time_to_settle(double half, double dist, double elapsed)
{
	if (!(half > 0) || !(dist > 0))
		return 0;
	double k = (half / dist) * (half / dist);
	return k <= 100 ? elapsed * k : 0;
}

/* Pass, fail or inconclusive, with a reason that says what decided. */
static void latency_verdict(const mg_gate_config *gc, const mg_latency_plan *plan,
			    const mg_latency_verdict *v, const mg_latency_detail *d, double value,
			    double elapsed, mg_gate_result *g)
{
	char fails[768] = "", passes[768] = "", lim[RP_NUM_SIZE], ml[RP_NUM_SIZE];
	const char *policy = mg_inconclusive_policy_name(g->on_inconclusive);
	const char *effect = g->on_inconclusive == MG_INCONCLUSIVE_FAIL ? "failing the build"
			     : g->on_inconclusive == MG_INCONCLUSIVE_PASS ? "passing"
									  : "a warning, not a failure";
	rp_num_written(lim, plan->policy.max_ratio);
	rp_num_written(ml, gc->max_ms);
	if (d->too_few) {
		double want = (double)plan->min_iterations / (double)(d->ncand ? d->ncand : 1);
		mg_gate__set_status(g, MG_GATE_INCONCLUSIVE,
				    "inconclusive: %zu samples per side within max_time %.4g s, fewer than the "
				    "minimum of %zu, so no verdict; to resolve it: a max_time of about %.0f s, a "
				    "faster or quieter runner, or a cost gate (on_inconclusive: %s, %s)",
				    d->ncand, gc->max_time, plan->min_iterations, ceil(gc->max_time * want * 1.2),
				    policy, effect);
		return;
	}
	int abs_fail = !isnan(gc->max_ms) && !(value <= gc->max_ms);
	if (!isnan(gc->max_ms)) {
		char vs[RP_NUM_SIZE];
		rp_num_beside(vs, value, gc->max_ms);
		mg_gate__note(abs_fail ? fails : passes, sizeof(fails), "%s %s ms %s %s ms", gc->metric, vs,
		     abs_fail ? ">" : "<=", ml);
	}
	int with_base = plan->with_baseline;
	if (with_base && v->blocks >= 2) {
		char span[240], rs[RP_NUM_SIZE], los[RP_NUM_SIZE], his[RP_NUM_SIZE];
		rp_num_beside(rs, v->ratio, plan->policy.max_ratio);
		rp_num_beside(los, v->lo, plan->policy.max_ratio);
		rp_num_beside(his, v->hi, plan->policy.max_ratio);
		snprintf(span, sizeof(span), "%s %sx the baseline's, %.4g%% interval [%s, %s] over %zu paired blocks",
			 gc->metric, rs, plan->policy.confidence * 100, los, his, v->blocks);
		if (v->regression)
			mg_gate__note(fails, sizeof(fails), "%s, entirely above the allowed %sx: a regression", span, lim);
		else if (!v->inconclusive)
			mg_gate__note(passes, sizeof(passes), "%s, entirely within the allowed %sx: no regression", span, lim);
		else if (!abs_fail) {
			double half = log(v->hi / v->ratio), dist = fabs(log(plan->policy.max_ratio / v->ratio));
			double more = time_to_settle(half, dist, elapsed);
			char when[64] = "";
			if (more > 0)
				snprintf(when, sizeof(when), " (about %.0f s)", ceil(more * 1.2));
			mg_gate__set_status(g, MG_GATE_INCONCLUSIVE,
					    "inconclusive: %s straddles the allowed %sx: the noise of this run "
					    "(+-%.1f%% per block, +-%.1f%% on the ratio) is larger than the "
					    "%.2g%% between the ratio and the limit%s%s; to resolve it: a longer "
					    "max_time%s, a quieter runner, or a cost gate (on_inconclusive: %s, %s)",
					    span, lim, (exp(v->spread) - 1) * 100, (exp(half) - 1) * 100,
					    (exp(dist) - 1) * 100, passes[0] ? "; " : "", passes, when, policy, effect);
			return;
		} else { /* max_ms decides; the ratio is said for what it is */
			mg_gate__note(fails, sizeof(fails), "%s straddles the allowed %sx (inconclusive on its own)", span, lim);
		}
	} else if (with_base) {
		mg_gate__set_status(g, MG_GATE_INCONCLUSIVE,
				    "inconclusive: %zu paired blocks are too few for an interval; to resolve "
				    "it: a longer max_time (on_inconclusive: %s, %s)", v->blocks, policy, effect);
		return;
	}
	if (d->noisy && fails[0])
		mg_gate__note(fails, sizeof(fails), "noisy machine, yet %s decided",
		     with_base && v->regression ? "the paired-block interval, which accounts for the noise,"
						: "the absolute limit max_ms, which noise can push either way,");
	else if (d->noisy)
		mg_gate__note(passes, sizeof(passes), "noisy machine");
	mg_gate__set_status(g, fails[0] ? MG_GATE_FAIL : MG_GATE_PASS, "%s", fails[0] ? fails : passes);
}

static int eval_latency(run_ctx *c, const mg_gate_config *gc, mg_gate_result *g, mg_error *perr)
{
	const mg_target_config *tc = mg_gate__gate_target(c, gc);
	run_target *rt = gate_target(c, tc, g);
	if (!rt)
		return 0;
	int rc = threads_fit(c, tc, rt->t, perr);
	if (rc)
		return rc;
	lat_src s = {0};
	s.tif = &c->tif;
	s.t = rt->t;
	s.inputs[1] = c->sample;
	s.ninputs[1] = c->nsample;
	s.inputs[0] = c->base_sample ? c->base_sample : c->sample;
	s.ninputs[0] = c->base_sample ? c->nbase_sample : c->nsample;
	int with_base = c->baseline.path && !isnan(gc->max_ratio);
	mg_error err = {0};
	mg_latency_plan plan = MG_LATENCY_PLAN_INIT;
	plan.min_iterations = gc->min_iterations;
	plan.max_time = gc->max_time;
	plan.with_baseline = with_base;
	plan.policy.alpha = gc->alpha;
	plan.policy.confidence = 1 - 2 * gc->alpha; /* each tail alpha */
	if (!isnan(gc->max_ratio))
		plan.policy.max_ratio = gc->max_ratio;
	/* the ratio speaks of the gate's own statistic */
	plan.policy.quantile = mg_latency_metric_quantile(gc->metric);
	mg_latency_source src = {lat_block, lat_now, &s};
	mg_latency_verdict v;
	g->latency = calloc(1, sizeof(*g->latency));
	if (!g->latency)
		return MG_ENOMEM;
	mg_gate__say(c, "measuring latency on '%s'%s (at least %zu iterations, at most %.0f s)", tc->name,
		     with_base ? ", baseline and candidate interleaved" : "", plan.min_iterations, plan.max_time);
	double t0 = mg_gate__now_s();
	if (load_pair(c, tc, &s, with_base, &err) || mg_latency_measure(&src, &plan, g->latency, &v, &err)) {
		mg_gate__set_status(g, MG_GATE_ERROR, "on target '%s': %s", tc->name, err.msg);
		goto done;
	}
	double value, base = NAN;
	const mg_latency_detail *d = g->latency;
	stat_ms(d->cand_ns, d->ncand, gc->metric, &value);
	if (with_base)
		stat_ms(d->base_ns, d->nbase, gc->metric, &base);
	char unit_name[32];
	snprintf(unit_name, sizeof(unit_name), "%s_ms", gc->metric);
	mg_gate__add_figure(g, unit_name, value, base, "ms");
	if (with_base)
		mg_gate__add_figure(g, "ratio", d->ratio, NAN, "");
	mg_gate__set_headline(g, unit_name, value, gc->max_ms, MG_LIMIT_MAX, base, "ms");
	latency_verdict(gc, &plan, &v, d, value, mg_gate__now_s() - t0, g);
done:
	for (int w = 0; w < 2; w++)
		if (s.loaded[w])
			c->tif.unload(c->tif.ctx, s.t, &s.models[w]);
	return 0;
}

/* ---- memory -------------------------------------------------------------- */

/* The peak RSS in MiB of a fresh target that loads the model at path and
 * runs the sample through it: each model measured alone. */
static int peak_mib(run_ctx *c, const run_target *rt, const mg_target_config *tc, const char *path,
		    mg_tensor **sample, size_t nsample, double *out, mg_error *err)
{
	const mg_target_if *tif = &c->tif;
	void *t = NULL;
	mg_model m;
	uint64_t peak = 0;
	double ns[5];
	int rc = tif->start(tif->ctx, &t, rt->spec, err);
	if (!rc)
		rc = tif->load(tif->ctx, t, path, tc->threads, &m, err);
	if (!rc)
		rc = tif->measure(tif->ctx, t, &m, sample, nsample, 1, 5, ns, err);
	if (!rc)
		rc = tif->peak_rss(tif->ctx, t, &peak, err);
	if (t)
		tif->stop(tif->ctx, t);
	*out = (double)peak / (1024.0 * 1024.0);
	return rc;
}

/* The candidate's peak memory against max_rss_mb, beside the baseline's
 * on the same target when there is a baseline. */
static int eval_memory(run_ctx *c, const mg_gate_config *gc, mg_gate_result *g, mg_error *perr)
{
	const mg_target_config *tc = mg_gate__gate_target(c, gc);
	/* the shared target proves it is reachable and gives the
	 * fingerprint; a fresh one measures each model alone */
	run_target *rt = gate_target(c, tc, g);
	if (!rt)
		return 0;
	if (threads_fit(c, tc, rt->t, perr))
		return MG_EINVAL;
	mg_error err = {0};
	double mib, base = NAN;
	if (peak_mib(c, rt, tc, c->model.path, c->sample, c->nsample, &mib, &err) ||
	    (c->baseline.path && peak_mib(c, rt, tc, c->baseline.path, c->base_sample ? c->base_sample : c->sample,
					  c->base_sample ? c->nbase_sample : c->nsample, &base, &err))) {
		mg_gate__set_status(g, MG_GATE_ERROR, "on target '%s': %s", tc->name, err.msg);
		return 0;
	}
	mg_gate__add_figure(g, "peak_rss_mb", mib, base, "MiB");
	mg_gate__set_headline(g, "peak_rss_mb", mib, gc->max_rss_mb, MG_LIMIT_MAX, base, "MiB");
	int ok = mib <= gc->max_rss_mb;
	char vs[RP_NUM_SIZE], ls[RP_NUM_SIZE], bs[RP_NUM_SIZE], with[96] = "";
	rp_num_beside(vs, mib, gc->max_rss_mb);
	rp_num_written(ls, gc->max_rss_mb);
	rp_num(bs, base);
	if (!isnan(base) && base > 0)
		snprintf(with, sizeof(with), " (baseline %s MiB, %+.1f%%)", bs, (mib / base - 1) * 100);
	mg_gate__set_status(g, ok ? MG_GATE_PASS : MG_GATE_FAIL, "peak RSS %s MiB %s %s MiB%s", vs,
			    ok ? "<=" : ">", ls, with);
	return 0;
}

/* ---- cost ---------------------------------------------------------------- */

/* Instructions per inference, counted (not timed) on the gate's target with
 * one intra-op thread: the candidate's against max_instructions, and
 * against the baseline's count on the same target by max_ratio. */
static int eval_cost(run_ctx *c, const mg_gate_config *gc, mg_gate_result *g)
{
	const mg_target_config *tc = mg_gate__gate_target(c, gc);
	run_target *rt = gate_target(c, tc, g);
	if (!rt)
		return 0;
	int with_base = c->baseline.path && !isnan(gc->max_ratio);
	const char *paths[2] = {c->model.path, c->baseline.path};
	mg_cost_result res[2];
	mg_error err = {0};
	mg_gate__say(c, "counting instructions on '%s' (%s, one thread)", tc->name,
		     with_base ? "candidate and baseline" : "the candidate");
	if (!c->tif.cost)
		mg_error_set(&err, MG_ENOTFOUND, "this target cannot count instructions");
	if (err.code || c->tif.cost(c->tif.ctx, rt->t, rt->spec, paths, with_base ? 2 : 1, 1, c->sample,
				    c->nsample, (uint32_t)gc->runs, res, &err)) {
		mg_gate__set_status(g, MG_GATE_ERROR, "on target '%s': %s", tc->name, err.msg);
		return 0;
	}
	double value = res[0].instructions, base = with_base ? res[1].instructions : NAN;
	if (mg_gate__add_figure(g, "instructions", value, base, "instructions") ||
	    (!isnan(res[0].mem_accesses) &&
	     mg_gate__add_figure(g, "memory accesses", res[0].mem_accesses,
				 with_base ? res[1].mem_accesses : NAN, "accesses")) ||
	    (!isnan(res[0].cache_misses) &&
	     mg_gate__add_figure(g, "cache misses", res[0].cache_misses,
				 with_base ? res[1].cache_misses : NAN, "misses")))
		return MG_ENOMEM;
	mg_gate__set_headline(g, "instructions", value, gc->max_instructions, MG_LIMIT_MAX, base,
			      "instructions");
	char fails[512] = "", passes[512] = "";
	char vs[RP_NUM_SIZE], ls[RP_NUM_SIZE];
	if (!isnan(gc->max_instructions)) {
		rp_num_written(ls, gc->max_instructions);
		mg_gate__note(value <= gc->max_instructions ? passes : fails, sizeof(fails),
		     "%.0f instructions per inference %s %s", value,
		     value <= gc->max_instructions ? "<=" : ">", ls);
	}
	if (with_base) {
		double ratio = base > 0 ? value / base : INFINITY;
		mg_gate__add_figure(g, "ratio", ratio, NAN, "");
		snprintf(vs, sizeof(vs), "%.4f", ratio);
		if ((strtod(vs, NULL) <= gc->max_ratio) != (ratio <= gc->max_ratio)) /* 4 places mislead */
			rp_num_beside(vs, ratio, gc->max_ratio);
		rp_num_written(ls, gc->max_ratio);
		mg_gate__note(ratio <= gc->max_ratio ? passes : fails, sizeof(fails),
		     "%sx the baseline's %.0f instructions (allowed %sx)", vs, base, ls);
	}
	char counter[128];
	snprintf(counter, sizeof(counter), "%s (%s)", res[0].backend, res[0].backend_version);
	mg_gate__note(fails[0] ? fails : passes, sizeof(fails), "counted by %s", counter);
	g->counter = strdup(counter);
	mg_gate__say(c, "counted by %s over %u inferences a model", counter, res[0].runs);
	mg_gate__set_status(g, fails[0] ? MG_GATE_FAIL : MG_GATE_PASS, "%s", fails[0] ? fails : passes);
	return g->counter ? 0 : MG_ENOMEM;
}

/* ---- size ---------------------------------------------------------------- */

static int eval_size(run_ctx *c, const mg_gate_config *gc, mg_gate_result *g)
{
	struct stat st, bst;
	uint64_t comp = 0, bcomp = 0;
	mg_error err = {0};
	int have_base = c->baseline.path != NULL;
	if (stat(c->model.path, &st) < 0 || mg_compressed_size(c->model.path, &comp, &err) ||
	    (have_base && (stat(c->baseline.path, &bst) < 0 ||
			   mg_compressed_size(c->baseline.path, &bcomp, &err)))) {
		mg_gate__set_status(g, MG_GATE_ERROR, "%s", err.msg[0] ? err.msg : "cannot read the model files");
		return 0;
	}
	double bytes = (double)st.st_size, bbytes = have_base ? (double)bst.st_size : NAN;
	double params = (double)c->model_info->parameters;
	double bparams = have_base ? (double)c->base_info->parameters : NAN;
	mg_gate__add_figure(g, "bytes", bytes, bbytes, "bytes");
	mg_gate__add_figure(g, "compressed_bytes", (double)comp, have_base ? (double)bcomp : NAN, "bytes");
	mg_gate__add_figure(g, "parameters", params, bparams, "");
	char fails[512] = "", passes[512] = "";
	mg_gate__set_headline(g, "bytes", bytes, gc->max_bytes, MG_LIMIT_MAX, bbytes, "bytes");
	char ls[RP_NUM_SIZE];
#define CEIL(field, name, val)                                                                      \
	if (!isnan(gc->field)) {                                                                    \
		rp_num_written(ls, gc->field);                                                      \
		mg_gate__note((val) <= gc->field ? passes : fails, sizeof(fails), "%s %.0f %s %s", name, val, \
		     (val) <= gc->field ? "<=" : ">", ls);                                          \
	}
	CEIL(max_bytes, "bytes", bytes)
	CEIL(max_compressed_bytes, "compressed bytes", (double)comp)
	CEIL(max_parameters, "parameters", params)
#undef CEIL
	if (!isnan(gc->max_growth) && have_base) {
		double growth = bbytes > 0 ? bytes / bbytes - 1 : 0;
		mg_gate__add_figure(g, "growth", growth * 100, NAN, "%");
		char gs[RP_NUM_SIZE];
		rp_num_written(gs, gc->max_growth); /* as written: a fraction */
		mg_gate__note(growth <= gc->max_growth ? passes : fails, sizeof(fails),
		     "%+.1f%% against the baseline (allowed %+.1f%%, max_growth %s)", growth * 100,
		     gc->max_growth * 100, gs);
	}
	mg_gate__set_status(g, fails[0] ? MG_GATE_FAIL : MG_GATE_PASS, "%s", fails[0] ? fails : passes);
	return 0;
}

int mg_gate__eval(run_ctx *c, const mg_gate_config *gc, mg_gate_result *g, mg_error *err)
{
	switch (gc->kind) {
	case MG_KIND_ACCURACY:
		return mg_gate__eval_accuracy(c, gc, g, err);
	case MG_KIND_FIDELITY:
		return eval_fidelity(c, gc, g, err);
	case MG_KIND_LATENCY:
		return eval_latency(c, gc, g, err);
	case MG_KIND_MEMORY:
		return eval_memory(c, gc, g, err);
	case MG_KIND_SIZE:
		return eval_size(c, gc, g);
	case MG_KIND_COST:
		return eval_cost(c, gc, g);
	}
	return 0;
}
