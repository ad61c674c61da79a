/* One run of a model on a target, as `modelgate run` makes it and as the
 * fleet updater's smoke check on a device makes it (run_once.h): the model
 * from its source, its inputs (a folder, else random ones of its declared
 * shapes), loaded and run on the target, outputs compared with expected
 * ones within tolerances. */
#include "run_once.h"
#include "runners/inputs.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t mg_run_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int random_inputs(const mg_run_spec *a, mg_run_once *st, mg_error *err)
{
	int rc = mg_inputs_random(&st->inputs, st->info->inputs, st->info->ninputs, a->shapes,
				  a->nshapes, a->seed, a->model, &st->defaulted, err);
	if (!rc)
		st->ninputs = st->info->ninputs;
	st->fmt = MG_TFMT_NPY;
	return rc;
}

/* Each input against the model's declaration (runners/inputs.h: one run,
 * so every fixed dimension equal), converted where it may be (said). */
static int check_inputs(const mg_run_spec *a, mg_run_once *st, mg_error *err)
{
	char where[300];
	snprintf(where, sizeof(where), "'%.280s'", a->inputs);
	for (size_t i = 0; i < st->ninputs; i++) {
		int rc = mg_input_check(&st->inputs[i], &st->info->inputs[i], a->cast, 0, where, &st->converted, err);
		if (rc)
			return rc;
	}
	return 0;
}

int mg_run_tol_set(mg_run_spec *a, const char *name, size_t len, int relative, double v)
{
	if (!len || len >= sizeof(a->tols[0].name) || !(v >= 0))
		return -1;
	size_t i = 0;
	while (i < a->ntols && (strlen(a->tols[i].name) != len || strncmp(a->tols[i].name, name, len)))
		i++;
	if (i == MG_RUN_MAX_TOLS)
		return -1;
	if (i == a->ntols) {
		snprintf(a->tols[i].name, sizeof(a->tols[i].name), "%.*s", (int)len, name);
		a->tols[i].rtol = a->tols[i].atol = NAN;
		a->ntols++;
	}
	*(relative ? &a->tols[i].rtol : &a->tols[i].atol) = v;
	return 0;
}

/* rtol and atol of object o, for output name (NULL: every output, and o
 * the whole file, whose "outputs" the caller reads); at names the object
 * in errors. */
static int tol_members(mg_run_spec *a, json_t *o, const char *name, const char *what, const char *at,
		       mg_error *err)
{
	const char *k;
	json_t *v;
	json_object_foreach(o, k, v) {
		if (!name && !strcmp(k, "outputs"))
			continue;
		int relative = !strcmp(k, "rtol");
		double d = json_is_number(v) ? json_number_value(v) : -1;
		if (!relative && strcmp(k, "atol"))
			return mg_error_set(err, MG_EINVAL, "'%s': %s'%s' is not rtol or atol%s", what, at, k,
					    name ? "" : " (nor outputs)");
		if (!(d >= 0))
			return mg_error_set(err, MG_EINVAL, "'%s': %s'%s' is not a number of 0 or more", what, at, k);
		if (!name)
			*(relative ? &a->rtol : &a->atol) = d;
		else if (mg_run_tol_set(a, name, strlen(name), relative, d))
			return mg_error_set(err, MG_EINVAL, "'%s': %sthe output's name is empty or too long, "
					    "or there are more than %d outputs", what, at, MG_RUN_MAX_TOLS);
	}
	return 0;
}

int mg_run_tolerances_json(mg_run_spec *a, const char *text, size_t len, const char *what, mg_error *err)
{
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return mg_error_set(err, MG_EINVAL, "'%s': line %d: %s", what, je.line, je.text);
	json_t *outs = json_object_get(root, "outputs");
	int rc = 0;
	if (!json_is_object(root))
		rc = mg_error_set(err, MG_EINVAL, "'%s' is not a JSON object of rtol, atol and outputs", what);
	else if (outs && !json_is_object(outs))
		rc = mg_error_set(err, MG_EINVAL, "'%s': 'outputs' is not an object of output names", what);
	const char *name;
	json_t *o;
	json_object_foreach(rc ? NULL : outs, name, o) {
		char at[300];
		snprintf(at, sizeof(at), "outputs.%.200s: ", name);
		rc = json_is_object(o) ? tol_members(a, o, name, what, at, err)
				       : mg_error_set(err, MG_EINVAL, "'%s': %sis not an object of rtol and atol", what, at);
		if (rc)
			break;
	}
	if (!rc)
		rc = tol_members(a, root, NULL, what, "", err);
	json_decref(root);
	return rc;
}

/* The tolerances for output name: its own, else the defaults. */
static void tol_for(const mg_run_spec *a, const char *name, double *rtol, double *atol)
{
	*rtol = a->rtol;
	*atol = a->atol;
	for (size_t i = 0; i < a->ntols; i++)
		if (!strcmp(a->tols[i].name, name)) {
			if (!isnan(a->tols[i].rtol))
				*rtol = a->tols[i].rtol;
			if (!isnan(a->tols[i].atol))
				*atol = a->tols[i].atol;
		}
}

int mg_run_once_do(mg_run_once *st, const mg_run_spec *a, const mg_source_opts *so, uint64_t t_start,
		    mg_error *err)
{
	/* The agent starts first and loads its engine while the model and the
	 * inputs are read; its errors come after theirs, as if it started
	 * last. */
	mg_target_opts to = MG_TARGET_OPTS_INIT;
	to.timeout_ms = (int)(a->timeout * 1000);
	to.engine = mg_engine_for_model(a->model); /* a file's; a reference's is the default */
	mg_error terr = {0};
	int trc = mg_target_start(&st->target, a->target, &to, &terr);
	int rc = mg_source_open(&st->src, a->model, so, err);
	if (!rc)
		rc = mg_source_model(&st->src, err);
	if (!rc)
		rc = mg_model_info_read(&st->info, st->src.model, err);
	if (!rc && !a->inputs)
		rc = random_inputs(a, st, err);
	if (!rc && a->inputs) {
		rc = mg_inputs_read_dir(&st->inputs, &st->fmt, st->info->inputs, st->info->ninputs,
				       a->inputs, "input", err);
		if (!rc)
			st->ninputs = st->info->ninputs;
		if (!rc)
			rc = check_inputs(a, st, err);
		if (!rc)
			rc = mg_inputs_quantize(st->inputs, st->info->inputs, st->ninputs, &st->quantized, err);
	}
	mg_tensor_format efmt;
	if (!rc && a->expect) {
		rc = mg_inputs_read_dir(&st->expect, &efmt, st->info->outputs, st->info->noutputs,
				       a->expect, "output", err);
		if (!rc)
			st->nexpect = st->info->noutputs;
		for (size_t k = 0; !rc && k < a->ntols; k++) {
			size_t i = 0;
			while (i < st->nexpect && strcmp(st->expect[i]->name, a->tols[k].name))
				i++;
			if (i == st->nexpect)
				rc = mg_error_set(err, MG_EINVAL, "a tolerance is given for '%s', which is no "
						  "output of '%s'", a->tols[k].name, a->model);
		}
	}
	if (rc)
		return rc;
	if (trc) {
		if (err)
			*err = terr;
		return trc;
	}
	mg_load_opts lo = MG_LOAD_OPTS_INIT;
	lo.threads = (int)a->threads;
	lo.opt_level = (int)a->opt_level;
	lo.provider = a->provider;
	mg_run_opts ro = MG_RUN_OPTS_INIT;
	ro.warmup = (uint32_t)a->warmup;
	ro.iterations = (uint32_t)a->iterations;
	ro.min_time_ns = (uint64_t)(a->min_time * 1e9);
	ro.want_outputs = a->outputs || a->expect;
	if ((rc = mg_target_load(st->target, st->src.model, &lo, &st->model, err)))
		return rc;
	st->startup_ns = mg_run_now_ns() - t_start - st->model.load_ns;
	if ((rc = mg_target_run(st->target, &st->model, st->inputs, st->ninputs, &ro, &st->res, err)) ||
	    (rc = mg_target_stats(st->target, &st->agent, err)) ||
	    (rc = mg_stats_compute(&st->stats, st->res.samples, st->res.nsamples, err)))
		return rc;
	if (a->dequantize &&
	    (rc = mg_outputs_dequantize(st->res.outputs, st->info->outputs,
					st->res.noutputs < st->info->noutputs ? st->res.noutputs : st->info->noutputs, err)))
		return rc;
	if (a->outputs &&
	    (rc = mg_tensor_dir_write(a->outputs, st->fmt, "output", st->res.outputs, st->res.noutputs, err)))
		return rc;
	if (a->expect) {
		if (st->res.noutputs != st->nexpect)
			return mg_error_set(err, MG_EINVAL, "the model gave %zu outputs, '%s' has %zu",
					    st->res.noutputs, a->expect, st->nexpect);
		if (!(st->cmp = calloc(st->nexpect ? st->nexpect : 1, sizeof(*st->cmp))))
			return mg_error_set(err, MG_ENOMEM, "out of memory");
		for (size_t i = 0; i < st->nexpect; i++) {
			double rtol, atol;
			tol_for(a, st->expect[i]->name, &rtol, &atol);
			mg_tensor_compare(st->res.outputs[i], st->expect[i], rtol, atol, &st->cmp[i]);
		}
	}
	return 0;
}

void mg_run_once_free(mg_run_once *st)
{
	mg_run_result_clear(&st->res);
	mg_target_free(st->target);
	mg_tensors_free(st->inputs, st->ninputs);
	mg_tensors_free(st->expect, st->nexpect);
	mg_model_info_free(st->info);
	free(st->cmp);
	mg_source_close(&st->src);
	mg_buf_free(&st->defaulted);
	mg_buf_free(&st->quantized);
	mg_buf_free(&st->converted);
}
