/* The gate run: resolve the model, baseline and dataset, evaluate each
 * gate of a modelgate.json into its own result, then assemble one
 * mg_report from the results and what the targets said of themselves.
 * The dataset (gate_dataset.c) is given as the candidate takes it
 * (float32 for a quantized input is quantized with its parameters); the
 * baseline, which may be of another format (a float ONNX model for an
 * int8 .tflite), gets it matched to its own inputs and transposed by a
 * fidelity gate's "layout"; outputs that are quantized are dequantized
 * for every score.
 * Targets are reached through target_if.h (agents, or a test's fake).
 * Outputs for the accuracy and fidelity gates come from one run of the
 * dataset on the local target (shared by all such gates); latency and
 * memory are measured on the gate's target, baseline and candidate
 * interleaved on one agent. A target that cannot be reached makes its
 * gates `error`; the others still run. */
#include "formats/model_info.h"
#include "formats/tflite.h"
#include "runners/inputs.h"
#include "runners/runners.h"
#include "validator_int.h"

#include <assert.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void mg_gate__say(const run_ctx *c, const char *fmt, ...)
{
	if (!c->opts->log)
		return;
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->opts->log(c->opts->log_ctx, msg);
}

double mg_gate__now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- figures and results --------------------------------------------- */

int mg_gate__add_figure(mg_gate_result *g, const char *name, double value, double baseline,
		      const char *unit)
{
	mg_figure *f = realloc(g->figures, (g->nfigures + 1) * sizeof(*f));
	if (!f)
		return MG_ENOMEM;
	g->figures = f;
	f += g->nfigures;
	f->name = strdup(name);
	f->unit = unit ? strdup(unit) : NULL;
	f->value = value;
	f->baseline = baseline;
	if (!f->name)
		return MG_ENOMEM;
	g->nfigures++;
	return 0;
}

void mg_gate__set_headline(mg_gate_result *g, const char *metric, double value, double limit,
			   mg_limit_is limit_is, double baseline, const char *unit)
{
	free(g->metric);
	free(g->unit);
	g->metric = strdup(metric);
	g->unit = unit ? strdup(unit) : NULL;
	g->value = value;
	g->limit = limit;
	g->limit_is = limit_is;
	g->baseline = baseline;
}

void mg_gate__set_status(mg_gate_result *g, mg_gate_status s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	g->status = s;
	free(g->reason);
	g->reason = strdup(buf);
}

/* ---- data ---------------------------------------------------------------- */

/* Row 0 of every input (the first dimension is the batch). An input whose
 * model fixes the batch (a .tflite model: Arm NN 20.08 cannot resize one)
 * gives its first batch of rows instead, padded where the dataset has
 * fewer: one row would be an input the model refuses. */
static int slice_first_row(run_ctx *c, mg_error *err)
{
	const mg_model_info *mi = c->model_info;
	c->sample = calloc(c->ninputs ? c->ninputs : 1, sizeof(*c->sample));
	if (!c->sample)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->ninputs; i++) {
		const mg_tensor *t = c->inputs[i];
		size_t b = i < mi->ninputs ? mg_input_batch(&mi->inputs[i]) : 0;
		int rc = t->rank > 0 && t->dims[0] > 0 ? mg_input_rows(&c->sample[i], t, 0, b ? b : 1, NULL, err)
						       : mg_tensor_rows(&c->sample[i], t, 0, 0, err);
		if (rc)
			return rc;
		c->nsample = i + 1;
	}
	return 0;
}

/* Whether gate i runs the model on the sample (latency, memory, cost). */
static int wanted(const run_ctx *c, size_t i);
static int uses_sample(const run_ctx *c)
{
	for (size_t i = 0; i < c->cfg->ngates; i++) {
		mg_gate_kind k = c->cfg->gates[i].kind;
		if (wanted(c, i) && (k == MG_KIND_LATENCY || k == MG_KIND_MEMORY || k == MG_KIND_COST))
			return 1;
	}
	return 0;
}

/* Random inputs of the model's declared shapes and the config's "shapes"
 * (runners/inputs.h). A gate that measures the model is refused rather
 * than fed dynamic dimensions of 1: it would time another model. */
static int random_sample(run_ctx *c, mg_error *err)
{
	const mg_model_info *mi = c->model_info;
	mg_buf defaulted = MG_BUF_INIT;
	int rc = mg_inputs_random(&c->sample, mi->inputs, mi->ninputs, c->cfg->shapes, c->cfg->nshapes,
				  MG_INPUT_SEED, c->model.spec, &defaulted, err);
	if (!rc)
		c->nsample = mi->ninputs;
	if (!rc && defaulted.len && uses_sample(c))
		rc = mg_error_set(err, MG_EINVAL,
				  "%s: the inputs of '%s' have dynamic dimensions, %s, and there is no "
				  "dataset: give their sizes in \"shapes\" ({\"INPUT\": [sizes]}) so that "
				  "latency, memory and cost are measured on real inputs, not on sizes of 1",
				  c->cfg->path, c->model.spec, defaulted.data);
	mg_buf_free(&defaulted);
	return rc;
}

/* ---- targets ------------------------------------------------------------- */

const mg_target_config *mg_gate__gate_target(const run_ctx *c, const mg_gate_config *g)
{
	return g->target ? mg_config_target(c->cfg, g->target) : &c->cfg->targets[0];
}

/* The spec of a target, after a --target override: a whole target spec
 * for every target, else "NAME=SPEC" for one. */
static const char *target_spec(const run_ctx *c, const mg_target_config *tc)
{
	const char *o = c->opts->target;
	if (!o)
		return tc->spec;
	const char *spec;
	size_t n;
	mg_target_arg(o, &spec, &n);
	if (!n)
		return o;
	return strlen(tc->name) == n && !strncmp(tc->name, o, n) ? spec : tc->spec;
}

/* Starts (once) the target tc names; its error says why when it cannot. */
run_target *mg_gate__get_target(run_ctx *c, const mg_target_config *tc)
{
	assert(tc >= c->cfg->targets && tc < c->cfg->targets + c->ntargets);
	run_target *rt = &c->targets[tc - c->cfg->targets];
	if (rt->started)
		return rt;
	rt->started = 1;
	mg_gate__say(c, "starting target '%s' (%s)", tc->name, rt->spec);
	mg_error err = {0};
	if (c->tif.start(c->tif.ctx, &rt->t, rt->spec, &err)) {
		rt->t = NULL;
		rt->error = strdup(err.msg[0] ? err.msg : "cannot start the target");
		return rt;
	}
	const mg_target_info *ti = c->tif.info(c->tif.ctx, rt->t);
	rt->fingerprint = ti && ti->sys ? mg_fingerprint_of(ti) : NULL;
	return rt;
}

mg_fingerprint *mg_gate__copy_fingerprint(const mg_fingerprint *f)
{
	if (!f)
		return NULL;
	mg_fingerprint *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	*c = *f;
	c->cpu_model = f->cpu_model ? strdup(f->cpu_model) : NULL;
	c->governor = f->governor ? strdup(f->governor) : NULL;
	c->pinning = f->pinning ? strdup(f->pinning) : NULL;
	c->kernel = f->kernel ? strdup(f->kernel) : NULL;
	c->engine = f->engine ? strdup(f->engine) : NULL;
	c->arch = f->arch ? strdup(f->arch) : NULL;
	return c;
}

/* ---- outputs on the dataset ---------------------------------------------- */

/* Output tensors of one run of b rows cut to their first n rows (a padded
 * last run: the padding's outputs dropped); those of other rows stay. */
static int drop_padding(mg_tensor **outs, size_t nout, size_t b, size_t n, mg_error *err)
{
	for (size_t o = 0; o < nout; o++) {
		mg_tensor *cut = NULL;
		if (!outs[o]->rank || outs[o]->dims[0] != (int64_t)b)
			continue;
		int rc = mg_tensor_rows(&cut, outs[o], 0, n, err);
		if (rc)
			return rc;
		mg_tensor_free(outs[o]);
		outs[o] = cut;
	}
	return 0;
}

/* m's outputs on the rows of inputs taken b at a time, joined again (the
 * dataset is one tensor per input; a model of fixed batch b, as most
 * .tflite models are with b 1, takes b rows a run). Rows that do not fill
 * the last run are padded with copies of the last row, and the padding's
 * outputs dropped (and said). */
static int run_batches(run_ctx *c, void *t, mg_model *m, const char *path, mg_tensor *const *inputs,
		       size_t ninputs, size_t rows, size_t b, mg_tensor ***out, size_t *nout, mg_error *err)
{
	size_t nb = (rows + b - 1) / b, n = 0, padded = 0;
	mg_tensor ***parts = calloc(nb, sizeof(*parts)), **in = calloc(ninputs, sizeof(*in));
	int rc = parts && in ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t k = 0; !rc && k < nb; k++) {
		for (size_t i = 0; !rc && i < ninputs; i++)
			rc = mg_input_rows(&in[i], inputs[i], k * b, b, &padded, err);
		size_t got = 0;
		if (!rc)
			rc = c->tif.run(c->tif.ctx, t, m, in, ninputs, &parts[k], &got, err);
		if (!rc && k && got != n)
			rc = mg_error_set(err, MG_ERROR, "run %zu gave %zu outputs, the first %zu", k + 1, got, n);
		if (!rc && padded)
			rc = drop_padding(parts[k], got, b, b - padded, err);
		n = rc ? n : got;
		for (size_t i = 0; i < ninputs; i++) {
			mg_tensor_free(in[i]);
			in[i] = NULL;
		}
	}
	if (!rc && padded)
		mg_gate__say(c, "'%s' takes %zu rows a run: the last %zu of the dataset's %zu rows ran padded "
			     "with %zu copies of the last row, whose outputs are dropped", path, b, b - padded, rows,
			     padded);
	mg_tensor **joined = rc ? NULL : calloc(n ? n : 1, sizeof(*joined));
	mg_tensor **col = rc ? NULL : calloc(nb, sizeof(*col));
	if (!rc && (!joined || !col))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t o = 0; !rc && o < n; o++) {
		for (size_t k = 0; k < nb; k++)
			col[k] = parts[k][o];
		rc = mg_tensor_concat_rows(&joined[o], col, nb, err);
	}
	for (size_t k = 0; parts && k < nb; k++)
		mg_tensors_free(parts[k], parts[k] ? n : 0);
	free(parts);
	free(in);
	free(col);
	if (rc) {
		mg_tensors_free(joined, joined ? n : 0);
		return rc;
	}
	*out = joined;
	*nout = n;
	return 0;
}

/* The outputs of the model at path on inputs, in runs of the model's
 * fixed batch where it has one, dequantized where info says they are
 * quantized. */
static int run_outputs(run_ctx *c, void *t, const char *path, mg_tensor *const *inputs, size_t ninputs,
		       const mg_model_info *info, mg_tensor ***out, size_t *nout, mg_error *err)
{
	/* the batch of the model's first input is the rows of one run */
	size_t b = info && info->ninputs ? mg_input_batch(&info->inputs[0]) : 0;
	size_t rows = ninputs && inputs[0]->rank ? (size_t)inputs[0]->dims[0] : 0;
	mg_model m;
	int rc = c->tif.load(c->tif.ctx, t, path, 0, &m, err);
	if (rc)
		return rc;
	if (b && rows != b)
		rc = run_batches(c, t, &m, path, inputs, ninputs, rows, b, out, nout, err);
	else
		rc = c->tif.run(c->tif.ctx, t, &m, inputs, ninputs, out, nout, err);
	c->tif.unload(c->tif.ctx, t, &m);
	if (!rc && info)
		rc = mg_outputs_dequantize(*out, info->outputs, *nout < info->noutputs ? *nout : info->noutputs, err);
	return rc;
}

/* Runs the dataset through candidate and baseline once, on "local". */
const char *mg_gate__dataset_outputs(run_ctx *c)
{
	if (c->outputs_done)
		return c->outputs_error;
	c->outputs_done = 1;
	mg_error err = {0};
	void *t = NULL;
	mg_gate__say(c, "running the dataset (%lld rows) through the model%s", c->ninputs && c->inputs[0]->rank
		   ? (long long)c->inputs[0]->dims[0] : 0LL, c->baseline.path ? " and the baseline" : "");
	if (!c->ninputs)
		mg_error_set(&err, MG_EINVAL, "no dataset inputs");
	else if (!c->tif.start(c->tif.ctx, &t, "local", &err) &&
		 !run_outputs(c, t, c->model.path, c->inputs, c->ninputs, c->model_info, &c->cand_out,
			      &c->ncand_out, &err) && c->baseline.path)
		run_outputs(c, t, c->baseline.path, c->base_inputs ? c->base_inputs : c->inputs,
			    c->base_inputs ? c->nbase_inputs : c->ninputs, c->base_info, &c->base_out,
			    &c->nbase_out, &err);
	if (t)
		c->tif.stop(c->tif.ctx, t);
	if (err.code)
		c->outputs_error = strdup(err.msg[0] ? err.msg : "cannot run the dataset");
	return c->outputs_error;
}

/* Output 0 as float rows: n rows of cols values (caller frees). */
float *mg_gate__as_rows(const mg_tensor *t, size_t *n, size_t *cols)
{
	size_t count = mg_tensor_count(t);
	*n = t->rank ? (size_t)t->dims[0] : 1;
	*cols = *n ? count / *n : 0;
	float *v = malloc((count ? count : 1) * sizeof(*v));
	for (size_t i = 0; v && i < count; i++)
		v[i] = (float)mg_tensor_get(t, i);
	return v;
}

/* ---- the run --------------------------------------------------------------- */

/* A gate whose baseline must exist: one that runs, or (without --changed)
 * a ci_only one outside CI. */
static int wanted(const run_ctx *c, size_t i)
{
	mg_gate_pick p = mg_gate_pick_one(c->cfg, c->opts, i);
	return p == MG_PICK_RUN || (p == MG_PICK_CI_ONLY && !c->opts->changed);
}

static int needs_baseline(const mg_gate_config *g)
{
	return !isnan(g->max_drop) || !isnan(g->max_ratio) || !isnan(g->max_growth) ||
	       (g->kind == MG_KIND_FIDELITY && !g->reference);
}

static char *dupz(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ts, made for the candidate, as the baseline's inputs
 * (runners/inputs.h): what says which in messages. */
static int for_baseline(run_ctx *c, mg_tensor *const *ts, size_t n, mg_tensor ***out, size_t *nout,
			const char **how, const char *what, mg_error *err)
{
	mg_error e = {0};
	int rc = mg_inputs_for(out, how, ts, n <= c->model_info->ninputs ? c->model_info->inputs : NULL, n,
			       c->base_info->inputs, c->base_info->ninputs, c->layout,
			       mg_layout_other(c->layout), c->baseline.spec, &e);
	if (rc)
		return mg_error_set(err, rc, "%s for the baseline: %s", what, e.msg);
	*nout = c->base_info->ninputs;
	return 0;
}

/* The dataset's inputs made for a baseline that takes them otherwise:
 * another format's names, the layout of a selected fidelity gate, reals
 * for the candidate's raw integers, its own quantization. */
static int baseline_inputs(run_ctx *c, mg_error *err)
{
	const mg_config *cfg = c->cfg;
	int outputs_gate = 0;
	for (size_t i = 0; i < cfg->ngates; i++) {
		const mg_gate_config *g = &cfg->gates[i];
		if (g->kind == MG_KIND_FIDELITY && g->layout && !c->layout)
			c->layout = g->layout;
		outputs_gate |= wanted(c, i) && (g->kind == MG_KIND_ACCURACY || g->kind == MG_KIND_FIDELITY);
	}
	if (!c->baseline.path || !c->ninputs || !outputs_gate)
		return 0;
	return for_baseline(c, c->inputs, c->ninputs, &c->base_inputs, &c->nbase_inputs, &c->inputs_how,
			    "the dataset", err);
}

/* The one-row sample made for a baseline that latency measures beside
 * the candidate, as the dataset is by baseline_inputs. */
static int baseline_sample(run_ctx *c, mg_error *err)
{
	int with_base = 0;
	for (size_t i = 0; i < c->cfg->ngates; i++)
		with_base |= wanted(c, i) && c->cfg->gates[i].kind == MG_KIND_LATENCY &&
			     !isnan(c->cfg->gates[i].max_ratio);
	const char *how;
	if (!c->baseline.path || !with_base)
		return 0;
	return for_baseline(c, c->sample, c->nsample, &c->base_sample, &c->nbase_sample, &how,
			    "the inputs measured", err);
}

/* A .tflite model with an operator Arm NN 20.08 cannot run is refused
 * before any target starts (exit 2, as modelgate run refuses it), naming
 * what and the engine, rather than an error in every gate that loads it. */
static int engine_can_run(const char *what, const char *spec, const mg_model_info *info, mg_error *err)
{
	if (!info->format || strcmp(info->format, "tflite") != 0)
		return 0;
	mg_buf names = MG_BUF_INIT;
	int n = mg_armnn_unsupported(info, &names, err);
	if (n > 0)
		mg_error_set(err, MG_EINVAL, "%s '%s': the TFLite engine (armnn 20.08) cannot run it: %s", what, spec,
			     mg_buf_cstr(&names));
	mg_buf_free(&names);
	return n > 0 ? MG_EINVAL : n;
}

/* What the accuracy and fidelity gates that run will score, checked
 * before anything runs: the output they name, the classes their
 * per-class limits name (an index against the class count when scored). */
static int check_scoring(const run_ctx *c, mg_error *err)
{
	for (size_t i = 0; i < c->cfg->ngates; i++) {
		const mg_gate_config *g = &c->cfg->gates[i];
		size_t oi;
		if (!wanted(c, i) || (g->kind != MG_KIND_ACCURACY && g->kind != MG_KIND_FIDELITY))
			continue;
		int rc = mg_gate__pick_output(&oi, g, c->model_info, c->model.spec, err);
		if (!rc)
			rc = mg_gate__check_class_names(g, c->classes, c->nclasses, err);
		if (rc)
			return rc;
	}
	return 0;
}

static int prepare(run_ctx *c, mg_error *err)
{
	const mg_config *cfg = c->cfg;
	const char *model = c->opts->model ? c->opts->model : cfg->model;
	const char *base = c->opts->baseline ? c->opts->baseline : cfg->baseline;
	int need_base = 0;
	for (size_t i = 0; i < cfg->ngates; i++)
		need_base |= wanted(c, i) && needs_baseline(&cfg->gates[i]);
	mg_gate__say(c, "resolving model '%s'", model);
	int rc = mg_resolve(&c->model, model, c->opts->model ? "." : cfg->dir, 1, c->opts->source, err);
	if (rc || (rc = mg_model_info_read(&c->model_info, c->model.path, err)) ||
	    (rc = engine_can_run("model", model, c->model_info, err)))
		return rc;
	if (base) {
		mg_gate__say(c, "resolving baseline '%s'", base);
		if ((rc = mg_resolve(&c->baseline, base, c->opts->baseline ? "." : cfg->dir, 1, c->opts->source, err)) ||
		    (rc = mg_model_info_read(&c->base_info, c->baseline.path, err)) ||
		    (rc = engine_can_run("baseline", base, c->base_info, err)))
			return rc;
	} else if (need_base) {
		return mg_error_set(err, MG_EINVAL,
				    "%s: a gate compares with a baseline, but there is none (set 'baseline' or --baseline)",
				    cfg->path);
	}
	/* the candidate's dataset checked first, then made for the baseline
	 * from its reals, then quantized for a quantized candidate */
	if ((rc = mg_gate__load_dataset(c, err)) || (rc = mg_gate__check_dataset(c, err)) ||
	    (rc = check_scoring(c, err)) || (rc = baseline_inputs(c, err)) ||
	    (rc = mg_inputs_quantize(c->inputs, c->model_info->inputs,
				     c->ninputs < c->model_info->ninputs ? c->ninputs : c->model_info->ninputs,
				     NULL, err)))
		return rc;
	if ((rc = c->ninputs ? slice_first_row(c, err) : random_sample(c, err)))
		return rc;
	return baseline_sample(c, err);
}

/* One entry per configured target, none started yet. */
static int targets_init(run_ctx *c, mg_error *err)
{
	const mg_config *cfg = c->cfg;
	c->targets = calloc(cfg->ntargets ? cfg->ntargets : 1, sizeof(*c->targets));
	if (!c->targets)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < cfg->ntargets; i++, c->ntargets++) {
		c->targets[i].config = &cfg->targets[i];
		if (!(c->targets[i].spec = dupz(target_spec(c, &cfg->targets[i]))))
			return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	return 0;
}

/* An absolute time limit judged against emulated time says nothing of the
 * device: refused before anything runs, unless the gate allows it. The
 * spec (after --target) says whether a target is emulated. */
static int check_emulated_limits(const run_ctx *c, mg_error *err)
{
	for (size_t i = 0; i < c->cfg->ngates; i++) {
		const mg_gate_config *gc = &c->cfg->gates[i];
		if (gc->kind != MG_KIND_LATENCY || isnan(gc->max_ms) || gc->allow_emulated_absolute ||
		    mg_gate_pick_one(c->cfg, c->opts, i) != MG_PICK_RUN)
			continue;
		const mg_target_config *tc = mg_gate__gate_target(c, gc);
		const char *spec = c->targets[tc - c->cfg->targets].spec;
		mg_target_spec ts;
		if (mg_target_spec_parse(&ts, spec, NULL) || ts.kind != MG_TARGET_QEMU)
			continue;
		return mg_error_set(err, MG_EINVAL,
				    "%s: gate '%s': max_ms is an absolute time limit, and target '%s' (%s) is "
				    "emulated: its times are not the device's; use max_ratio against a baseline "
				    "measured the same way, or set \"allow_emulated_absolute\": true",
				    c->cfg->path, gc->name, tc->name, spec);
	}
	return 0;
}

/* Evaluates gate gc, unless it is not selected, into g. */
static int run_gate(run_ctx *c, size_t i, mg_gate_result *g, mg_error *err)
{
	const mg_gate_config *gc = &c->cfg->gates[i];
	g->name = dupz(gc->name);
	g->kind = dupz(mg_gate_kind_name(gc->kind));
	g->value = g->limit = g->baseline = NAN;
	if (gc->kind == MG_KIND_LATENCY || gc->kind == MG_KIND_MEMORY || gc->kind == MG_KIND_COST)
		g->target = dupz(mg_gate__gate_target(c, gc)->name);
	mg_gate_pick pick = mg_gate_pick_one(c->cfg, c->opts, i);
	if (pick != MG_PICK_RUN) {
		mg_gate__set_status(g, MG_GATE_SKIP, "%s", mg_gate_pick_reason(pick));
		return 0;
	}
	if (gc->on_inconclusive)
		g->on_inconclusive = (mg_inconclusive_policy)mg_inconclusive_policy_parse(gc->on_inconclusive);
	mg_gate__say(c, "gate '%s' (%s)", gc->name, g->kind);
	double t0 = mg_gate__now_s();
	int rc = mg_gate__eval(c, gc, g, err);
	g->seconds = mg_gate__now_s() - t0;
	return rc;
}

/* The inputs latency and memory were measured on: the one-row sample. */
static int report_inputs(mg_report *r, const run_ctx *c)
{
	if (c->nsample && !(r->inputs = calloc(c->nsample, sizeof(*r->inputs))))
		return MG_ENOMEM;
	for (size_t i = 0; i < c->nsample; i++) {
		const mg_tensor *t = c->sample[i];
		mg_report_input *in = &r->inputs[i];
		r->ninputs = i + 1;
		if (!(in->name = dupz(t->name)) || !(in->dtype = dupz(mg_dtype_name(t->dtype))) ||
		    !(in->dims = calloc(t->rank ? t->rank : 1, sizeof(*in->dims))))
			return MG_ENOMEM;
		memcpy(in->dims, t->dims, t->rank * sizeof(*in->dims));
		in->rank = t->rank;
	}
	return 0;
}

/* The report of a run whose gates gave results (moved into it, with what
 * the targets said of themselves). */
static int report_new(mg_report **out, run_ctx *c, mg_gate_result *results, size_t nresults,
		      time_t created, mg_error *err)
{
	const mg_config *cfg = c->cfg;
	mg_report *r = calloc(1, sizeof(*r));
	if (!r || !(r->targets = calloc(c->ntargets ? c->ntargets : 1, sizeof(*r->targets)))) {
		free(r);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	char when[32];
	mg_format_time(when, sizeof(when), (int64_t)created);
	r->schema_version = mg_report_schema_needed(r);
	r->tool_version = dupz(c->opts->tool_version ? c->opts->tool_version : "unknown");
	r->created = dupz(when);
	r->git_commit = dupz(c->opts->git_commit);
	r->config_path = dupz(cfg->path);
	r->model = dupz(c->model.spec);
	r->model_digest = dupz(c->model.digest);
	r->baseline = dupz(c->baseline.spec);
	r->baseline_digest = dupz(c->baseline.digest);
	r->dataset = dupz(c->dataset.spec);
	r->dataset_digest = dupz(c->dataset.digest);
	if (report_inputs(r, c)) {
		mg_report_free(r);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < c->ntargets; i++, r->ntargets++) {
		run_target *rt = &c->targets[i];
		r->targets[i].name = dupz(rt->config->name);
		r->targets[i].spec = rt->spec;
		r->targets[i].fingerprint = rt->fingerprint;
		r->targets[i].error = rt->error;
		rt->spec = rt->error = NULL;
		rt->fingerprint = NULL;
	}
	r->gates = results;
	r->ngates = nresults;
	*out = r;
	return 0;
}

void mg_gate__close(run_ctx *c)
{
	mg_resolved_clear(&c->model);
	mg_resolved_clear(&c->baseline);
	mg_resolved_clear(&c->dataset);
	mg_model_info_free(c->model_info);
	mg_model_info_free(c->base_info);
	mg_tensors_free(c->inputs, c->ninputs);
	mg_tensors_free(c->base_inputs, c->nbase_inputs);
	mg_tensor_free(c->labels);
	free(c->labels_name);
	for (size_t i = 0; c->own_classes && i < c->nclasses; i++)
		free(c->classes[i]);
	if (c->own_classes)
		free(c->classes);
	mg_tensors_free(c->sample, c->nsample);
	mg_tensors_free(c->base_sample, c->nbase_sample);
	mg_tensors_free(c->cand_out, c->ncand_out);
	mg_tensors_free(c->base_out, c->nbase_out);
	free(c->outputs_error);
	for (size_t i = 0; i < c->ntargets; i++) {
		if (c->targets[i].t)
			c->tif.stop(c->tif.ctx, c->targets[i].t);
		free(c->targets[i].spec);
		free(c->targets[i].error);
		mg_fingerprint_free(c->targets[i].fingerprint);
	}
	free(c->targets);
}

int mg_gate__open(run_ctx *c, const mg_config *cfg, const mg_gate_opts *opts, mg_error *err)
{
	memset(c, 0, sizeof(*c));
	c->cfg = cfg;
	c->opts = opts;
	c->classes = cfg->classes;
	c->nclasses = cfg->nclasses;
	if (opts->targets)
		c->tif = *opts->targets;
	else
		mg_target_if_agents(&c->tif, opts->target_opts);
	int rc = targets_init(c, err);
	if (!rc)
		rc = check_emulated_limits(c, err);
	if (!rc)
		rc = prepare(c, err);
	return rc;
}

int mg_gate_run(mg_report **out, const mg_config *cfg, const mg_gate_opts *opts, mg_error *err)
{
	run_ctx c = {0};
	time_t created = time(NULL);
	double start = mg_gate__now_s();
	size_t nresults = 0;
	mg_gate_result *results = calloc(cfg->ngates ? cfg->ngates : 1, sizeof(*results));
	int rc = results ? mg_gate__open(&c, cfg, opts, err) : mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < cfg->ngates; i++)
		rc = run_gate(&c, i, &results[nresults++], err);
	if (!rc && !(rc = report_new(out, &c, results, nresults, created, err))) {
		(*out)->seconds = mg_gate__now_s() - start;
		results = NULL;
		nresults = 0;
	}
	for (size_t i = 0; i < nresults; i++)
		mg_gate_result_clear(&results[i]);
	free(results);
	mg_gate__close(&c);
	return rc;
}
