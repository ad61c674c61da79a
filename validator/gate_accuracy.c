/* The accuracy gate: a classifier's outputs against labels (class indices
 * or one-hot rows), with its class names and per-class limits, or a
 * regression's against targets; the figures of the candidate beside the
 * baseline's, and the confusion matrix. Also which output a gate scores
 * (its "output"), which the fidelity gate shares. */
#include "report_priv.h"
#include "validator_int.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The class index of each of the n rows of labels: an integer per row,
 * or a one-hot row of cols (exactly one 1, the rest 0). */
static int class_indices(int64_t *l, const mg_tensor *labels, size_t n, size_t cols, mg_error *err)
{
	int onehot = labels->rank == 2 && cols > 1 && mg_tensor_count(labels) == n * cols;
	for (size_t i = 0; i < n; i++) {
		if (!onehot) {
			double v = mg_tensor_get(labels, i);
			if (!isfinite(v) || v != floor(v) || fabs(v) > 1e15) /* before a cast to an integer */
				return mg_error_set(err, MG_EINVAL, "label %g of sample %zu is not a class number", v, i);
			l[i] = (int64_t)v;
			continue;
		}
		size_t ones = 0, other = 0;
		for (size_t k = 0; k < cols; k++) {
			double v = mg_tensor_get(labels, i * cols + k);
			if (v == 1)
				l[i] = (int64_t)k, ones++;
			else if (v != 0)
				other++;
		}
		if (ones != 1 || other)
			return mg_error_set(err, MG_EINVAL, "one-hot labels: row %zu has %zu ones and %zu values "
					    "other than 0 and 1 (one 1 and %zu zeros expected)", i, ones, other, cols - 1);
	}
	return 0;
}

static int metric_of(const mg_gate_config *gc, const float *rows, size_t n, size_t cols,
		     const mg_tensor *labels, mg_class_metrics **cm, double *value, mg_error *err)
{
	int regression = !strcmp(gc->metric, "mae") || !strcmp(gc->metric, "rmse");
	size_t nl = mg_tensor_count(labels);
	if (!regression && labels->rank == 2 && labels->dims[1] > 1 && (size_t)labels->dims[1] != cols)
		return mg_error_set(err, MG_EINVAL, "one-hot labels of %lld classes, and the output scored has %zu",
				    (long long)labels->dims[1], cols);
	if (regression ? nl != n * cols : nl != n && nl != n * cols) /* indices, or one-hot */
		return mg_error_set(err, MG_EINVAL, "the dataset has %zu labels for %zu outputs", nl, n);
	if (regression) {
		float *t = malloc(nl * sizeof(*t));
		if (!t)
			return mg_error_set(err, MG_ENOMEM, "out of memory");
		for (size_t i = 0; i < nl; i++)
			t[i] = (float)mg_tensor_get(labels, i);
		size_t nan, inf;
		double mae, rmse;
		int rc = mg_nonfinite_count(t, nl, &nan, &inf)
			? mg_error_set(err, MG_EINVAL, "the dataset's targets hold %zu NaN and %zu infinite "
				       "values (of %zu)", nan, inf, nl)
			: mg_regression_metrics(rows, t, nl, &mae, &rmse, err);
		free(t);
		*value = !strcmp(gc->metric, "mae") ? mae : rmse;
		return rc;
	}
	int64_t *l = malloc((n ? n : 1) * sizeof(*l));
	if (!l)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	int rc = class_indices(l, labels, n, cols, err);
	if (!rc)
		rc = mg_class_metrics_compute(cm, rows, n, cols, l, gc->k, err);
	free(l);
	if (!rc)
		*value = !strcmp(gc->metric, "top1") ? (*cm)->top1
			 : !strcmp(gc->metric, "topk") ? (*cm)->topk : (*cm)->macro_f1;
	return rc;
}

int mg_gate__pick_output(size_t *idx, const mg_gate_config *gc, const mg_model_info *mi, const char *model,
			 mg_error *err)
{
	const mg_tensor_info *outs = mi->outputs;
	size_t n = mi->noutputs;
	*idx = 0;
	if (!gc->output)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(outs[i].name, gc->output))
			return (int)(*idx = i, 0);
	char *end;
	unsigned long long k = strtoull(gc->output, &end, 10);
	if (!*end && gc->output[0] >= '0' && gc->output[0] <= '9' && k < n)
		return (int)(*idx = (size_t)k, 0);
	char names[600] = "";
	for (size_t i = 0; i < n; i++)
		mg_gate__note(names, sizeof(names), "%zu '%s'", i, outs[i].name);
	return mg_error_set(err, MG_EINVAL, "gate '%s': output '%s' is not an output of '%s' (its outputs: %s)",
			    gc->name, gc->output, model, names);
}

/* The baseline's output that meets the candidate's output ci: the one of
 * its name, else the one at its index, else the first. */
static size_t base_output(const run_ctx *c, size_t ci)
{
	for (size_t i = 0; i < c->nbase_out; i++)
		if (!strcmp(c->base_out[i]->name, c->cand_out[ci]->name))
			return i;
	return ci < c->nbase_out ? ci : 0;
}

/* The class index a per-class limit names: a class name, else an index
 * below cols; MG_EINVAL naming the classes there are. */
static int class_of(size_t *k, const mg_gate_config *gc, const char *key, const char *cls,
		    char *const *classes, size_t nclasses, size_t cols, mg_error *err)
{
	for (size_t i = 0; i < nclasses; i++)
		if (!strcmp(classes[i], cls))
			return (int)(*k = i, 0);
	char *end;
	unsigned long long v = strtoull(cls, &end, 10);
	if (!*end && cls[0] >= '0' && cls[0] <= '9' && v < cols)
		return (int)(*k = (size_t)v, 0);
	char names[600] = "";
	for (size_t i = 0; i < nclasses; i++)
		mg_gate__note(names, sizeof(names), "'%s'", classes[i]);
	if (!nclasses && cols != SIZE_MAX)
		snprintf(names, sizeof(names), "no class names given, and indices go to %zu", cols - 1);
	else if (!nclasses)
		snprintf(names, sizeof(names), "no class names given: \"classes\" in the dataset or a labels.txt");
	return mg_error_set(err, MG_EINVAL, "gate '%s': %s names '%s', which is no class (%s%s)", gc->name, key,
			    cls, nclasses ? "the classes: " : "", names);
}

int mg_gate__check_class_names(const mg_gate_config *gc, char *const *names, size_t n, mg_error *err)
{
	const mg_class_limits *sets[] = {&gc->min_recall, &gc->min_precision};
	const char *keys[] = {"min_recall", "min_precision"};
	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < sets[s]->n; i++) {
			size_t k;
			int rc = class_of(&k, gc, keys[s], sets[s]->v[i].cls, names, n, SIZE_MAX, err);
			if (rc)
				return rc;
		}
	return 0;
}

/* min_recall and min_precision of gc judged against cm into g's class
 * checks; a failing one is noted in fails, a passing one in passes. */
static int class_limits(const run_ctx *c, const mg_gate_config *gc, const mg_class_metrics *cm,
			mg_gate_result *g, char *fails, char *passes, size_t len, mg_error *err)
{
	const mg_class_limits *sets[] = {&gc->min_recall, &gc->min_precision};
	const char *keys[] = {"min_recall", "min_precision"}, *metric[] = {"recall", "precision"};
	size_t total = gc->min_recall.n + gc->min_precision.n;
	if (!total)
		return 0;
	if (!(g->class_checks = calloc(total, sizeof(*g->class_checks))))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t s = 0; s < 2; s++)
		for (size_t i = 0; i < sets[s]->n; i++) {
			const mg_class_limit *l = &sets[s]->v[i];
			size_t k = 0;
			int rc = class_of(&k, gc, keys[s], l->cls, c->classes, c->nclasses, cm->nclasses, err);
			if (rc)
				return rc;
			mg_class_check *ck = &g->class_checks[g->nclass_checks];
			char num[32];
			snprintf(num, sizeof(num), "%zu", k);
			ck->cls = strdup(k < c->nclasses ? c->classes[k] : num);
			ck->metric = strdup(metric[s]);
			if (!ck->cls || !ck->metric)
				return mg_error_set(err, MG_ENOMEM, "out of memory");
			g->nclass_checks++;
			ck->index = k;
			ck->value = s ? cm->precision[k] : cm->recall[k];
			ck->limit = l->limit;
			ck->pass = ck->value >= l->limit; /* NaN (undefined) fails */
			char vs[RP_NUM_SIZE], ls[RP_NUM_SIZE];
			rp_num_beside(vs, ck->value, l->limit);
			rp_num_written(ls, l->limit);
			mg_gate__note(ck->pass ? passes : fails, len, "%s of class '%s' %s %s %s", metric[s], ck->cls, vs,
			     ck->pass ? ">=" : "<", ls);
		}
	return 0;
}

/* cm's confusion matrix for the report (cm keeps none), or NULL when its
 * scores were not finite or memory ran out. */
static mg_confusion *take_confusion(mg_class_metrics *cm)
{
	mg_confusion *c = cm->nonfinite ? NULL : calloc(1, sizeof(*c));
	if (c) {
		c->n = cm->nclasses;
		c->counts = cm->confusion;
		cm->confusion = NULL;
	}
	return c;
}

/* The class names into g (for its per-class figures and confusion). */
static int class_names(const run_ctx *c, mg_gate_result *g, mg_error *err)
{
	if (!c->nclasses)
		return 0;
	if (!(g->classes = calloc(c->nclasses, sizeof(*g->classes))))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < c->nclasses; i++, g->nclasses++)
		if (!(g->classes[i] = strdup(c->classes[i])))
			return mg_error_set(err, MG_ENOMEM, "out of memory");
	return 0;
}

int mg_gate__eval_accuracy(run_ctx *c, const mg_gate_config *gc, mg_gate_result *g, mg_error *perr)
{
	int rc = 0;
	const char *why = mg_gate__dataset_outputs(c);
	if (why) {
		mg_gate__set_status(g, MG_GATE_ERROR, "cannot run the dataset on the local target: %s", why);
		return 0;
	}
	if (!c->labels) {
		mg_gate__set_status(g, MG_GATE_ERROR, "the dataset has no labels");
		return 0;
	}
	size_t n, cols, bn, bcols, oi;
	if ((rc = mg_gate__pick_output(&oi, gc, c->model_info, c->model.spec, perr)))
		return rc;
	if (oi >= c->ncand_out) {
		mg_gate__set_status(g, MG_GATE_ERROR, "the model gave %zu outputs, and output %zu is scored",
				    c->ncand_out, oi);
		return 0;
	}
	float *rows = mg_gate__as_rows(c->cand_out[oi], &n, &cols);
	float *brows = c->nbase_out ? mg_gate__as_rows(c->base_out[base_output(c, oi)], &bn, &bcols) : NULL;
	mg_class_metrics *cm = NULL, *bcm = NULL;
	mg_error err = {0};
	double value = NAN, base = NAN;
	char cbad[160] = "", bbad[160] = "", fails[512] = "", passes[512] = "";
	if (rows && mg_gate__nonfinite_note(cbad, sizeof(cbad), "the candidate's outputs", rows, n * cols))
		mg_gate__note(fails, sizeof(fails), "%s", cbad); /* every figure is NaN, and fails */
	if (brows && mg_gate__nonfinite_note(bbad, sizeof(bbad), "the baseline's outputs", brows, bn * bcols)) {
		if (!isnan(gc->max_drop) && !cbad[0]) {
			mg_gate__set_status(g, MG_GATE_ERROR, "%s: there is nothing to compare with", bbad);
			goto done;
		}
		free(brows); /* not compared with: its figures are left out */
		brows = NULL;
	}
	if (rows && !strcmp(gc->metric, "topk") && gc->k >= cols) { /* every sample would count */
		rc = mg_error_set(perr, MG_EINVAL, "gate '%s': topk with k %zu needs more than %zu classes, "
				  "and the model has %zu", gc->name, gc->k, gc->k, cols);
		goto done;
	}
	int regression = !strcmp(gc->metric, "mae") || !strcmp(gc->metric, "rmse");
	if (rows && !regression && c->nclasses && c->nclasses != cols) {
		rc = mg_error_set(perr, MG_EINVAL, "gate '%s': %zu class names (%s), and output '%s' of '%s' has %zu "
				  "classes", gc->name, c->nclasses, c->cfg->classes ? "the dataset's \"classes\""
				  : "the dataset's labels.txt", c->cand_out[oi]->name, c->model.spec, cols);
		goto done;
	}
	if (!rows || metric_of(gc, rows, n, cols, c->labels, &cm, &value, &err) ||
	    (brows && metric_of(gc, brows, bn, bcols, c->labels, &bcm, &base, &err))) {
		if (err.code == MG_EINVAL) { /* the dataset or the config, not the run: exit 2 */
			rc = mg_error_set(perr, MG_EINVAL, "gate '%s': %s (labels '%s')", gc->name, err.msg,
					  c->labels_name);
			goto done;
		}
		mg_gate__set_status(g, MG_GATE_ERROR, "%s", err.msg[0] ? err.msg : "out of memory");
		goto done;
	}
	int lower_better = !strcmp(gc->metric, "mae") || !strcmp(gc->metric, "rmse");
	if (cm) {
		char name[32];
		snprintf(name, sizeof(name), "top%zu", cm->k);
		mg_gate__add_figure(g, "top1", cm->top1, bcm ? bcm->top1 : NAN, "");
		mg_gate__add_figure(g, name, cm->topk, bcm ? bcm->topk : NAN, "");
		mg_gate__add_figure(g, "macro_f1", cm->macro_f1, bcm ? bcm->macro_f1 : NAN, "");
		for (size_t k = 0; k < cm->nclasses; k++) {
			char pn[48], rn[48], fn[48];
			snprintf(pn, sizeof(pn), "class_%zu_precision", k);
			snprintf(rn, sizeof(rn), "class_%zu_recall", k);
			snprintf(fn, sizeof(fn), "class_%zu_f1", k);
			mg_gate__add_figure(g, pn, cm->precision[k], bcm ? bcm->precision[k] : NAN, "");
			mg_gate__add_figure(g, rn, cm->recall[k], bcm ? bcm->recall[k] : NAN, "");
			mg_gate__add_figure(g, fn, cm->f1[k], bcm ? bcm->f1[k] : NAN, "");
		}
		if ((rc = class_names(c, g, perr)))
			goto done;
		g->confusion = take_confusion(cm);
		g->base_confusion = bcm && bcm->nclasses == cm->nclasses ? take_confusion(bcm) : NULL;
	} else {
		mg_gate__add_figure(g, gc->metric, value, base, "");
	}
	double limit = !isnan(gc->min) ? gc->min : NAN;
	mg_gate__set_headline(g, gc->metric, value, limit, lower_better ? MG_LIMIT_MAX : MG_LIMIT_MIN, base, "");
	/* NaN fails: every comparison below is true only for a number */
	if (!isnan(gc->min)) {
		int ok = lower_better ? value <= gc->min : value >= gc->min;
		char vs[RP_NUM_SIZE], ls[RP_NUM_SIZE];
		rp_num_beside(vs, value, gc->min);
		rp_num_written(ls, gc->min);
		mg_gate__note(ok ? passes : fails, sizeof(fails), "%s %s %s %s", gc->metric, vs,
		     ok ? (lower_better ? "<=" : ">=") : (lower_better ? ">" : "<"), ls);
	}
	if (!isnan(gc->max_drop) && !isnan(base)) {
		double drop = lower_better ? value - base : base - value;
		int ok = drop <= gc->max_drop + 1e-12;
		char ds[RP_NUM_SIZE], ls[RP_NUM_SIZE];
		rp_num_beside(ds, drop, gc->max_drop);
		rp_num_written(ls, gc->max_drop);
		mg_gate__note(ok ? passes : fails, sizeof(fails), "%s %s by %s against the baseline (allowed %s)",
		     lower_better ? "worse" : "dropped", gc->metric, ds, ls);
		if (isnan(limit))
			g->limit = lower_better ? base + gc->max_drop : base - gc->max_drop;
	}
	if (cm && (rc = class_limits(c, gc, cm, g, fails, passes, sizeof(fails), perr)))
		goto done;
	if (fails[0])
		mg_gate__set_status(g, MG_GATE_FAIL, "%s", fails);
	else
		mg_gate__set_status(g, MG_GATE_PASS, "%s", passes);
done:
	mg_class_metrics_free(cm);
	mg_class_metrics_free(bcm);
	free(rows);
	free(brows);
	return rc;
}
