/* report.json: the stable, versioned form of a gate run that package,
 * deploy and `modelgate report` read back (report_json_read.c). Every field
 * of the model is written, raw latency samples included, so that reading
 * it back gives the same report. A figure that was not measured (NAN) is
 * null; an infinite one (an SNR of identical outputs) is the string "inf"
 * or "-inf", since JSON has no number for it. The overall status, passed
 * and exit_code are written for readers' convenience and recomputed from
 * the gates on reading.
 *
 *   { "schema_version": 1 (2 with an inconclusive gate), "tool": "modelgate", "tool_version", "git_commit",
 *     "created", "config_path", "status", "passed", "exit_code", "seconds",
 *     "model": {"ref", "digest"}, "baseline": {...} | null,
 *     "dataset": {...} | null,
 *     "targets": [{"name", "spec", "fingerprint": {...} | null, "error"}],
 *     "gates": [{"name", "kind", "target", "status" (pass, fail, error, skip,
 *                inconclusive), "on_inconclusive" (latency: warn, fail,
 *                pass), "reason", "metric",
 *                "value", "limit", "limit_is" ("min": the value must
 *                be at least the limit, "max": at most; null when not known),
 *                "baseline", "unit", "seconds",
 *                "figures": [{"name", "value", "baseline", "unit"}],
 *                "latency": {"ratio", "ratio_ci": [lo, hi], "confidence",
 *                            "p_value", "noisy", "noise_note", "stopped_early",
 *                            "blocks", "block_spread", "min_samples", "too_few",
 *                            "max_ratio" (with a baseline),
 *                            "samples_ns": {"candidate": [], "baseline": []}},
 *                "fingerprint": {"cpu_model", "cpu_count", "governor",
 *                                "pinning", "loadavg1", "kernel", "engine",
 *                                "arch", "emulated"},
 *                "confusion": {"n", "counts": [[row of true class 0], ...]},
 *                "baseline_confusion": the same for the baseline (only when
 *                                      there is one),
 *                "fidelity": {"histogram": {"max", "counts": [24 bins of
 *                             |error| from 0 to max]}, "worst": [{"row",
 *                             "index", "expected", "got"}]} (fidelity gates),
 *                "counter": what counted a cost gate's instructions
 *                           ("callgrind (valgrind-3.19.0)"; cost gates only),
 *                "classes": [name of class 0, ...] (accuracy gates with class
 *                           names only; additive),
 *                "class_limits": [{"class", "index", "metric" (recall,
 *                           precision), "value", "limit", "pass"}] (accuracy
 *                           gates with min_recall/min_precision only; additive)}] } */
#include "report_priv.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Collects the first failure while a tree is built, so that building reads
 * as a list of fields. */
typedef struct jw {
	int failed;
	const char *why;
} jw;

static const char *keep(uint32_t cp, char tmp[16])
{
	(void)cp;
	(void)tmp;
	return NULL;
}

static json_t *jstr(jw *w, const char *s)
{
	if (!s)
		return json_null();
	json_t *j = json_string(s);
	if (!j) { /* not valid UTF-8: write it with U+FFFD for the bad bytes */
		mg_buf b = MG_BUF_INIT;
		if (!rp_escape(&b, s, keep, NULL))
			j = json_string(mg_buf_cstr(&b));
		mg_buf_free(&b);
	}
	if (!j)
		w->failed = 1;
	return j;
}

static json_t *jnum(double v)
{
	if (isnan(v))
		return json_null();
	if (isinf(v))
		return json_string(v > 0 ? "inf" : "-inf");
	return json_real(v);
}

static void set(jw *w, json_t *obj, const char *key, json_t *val)
{
	if (!obj || !val) {
		json_decref(val);
		w->failed = 1;
	} else if (json_object_set_new(obj, key, val)) { /* which releases val */
		w->failed = 1;
	}
}

static void push(jw *w, json_t *arr, json_t *val)
{
	if (!arr || !val) {
		json_decref(val);
		w->failed = 1;
	} else if (json_array_append_new(arr, val)) {
		w->failed = 1;
	}
}

static json_t *samples(jw *w, const double *x, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n && !w->failed; i++)
		push(w, a, jnum(x[i]));
	if (!a)
		w->failed = 1;
	return a;
}

static json_t *artifact(jw *w, const char *ref, const char *digest)
{
	if (!ref && !digest)
		return json_null();
	json_t *o = json_object();
	set(w, o, "ref", jstr(w, ref));
	set(w, o, "digest", jstr(w, digest));
	return o;
}

static json_t *fingerprint(jw *w, const mg_fingerprint *f)
{
	if (!f)
		return json_null();
	json_t *o = json_object();
	set(w, o, "cpu_model", jstr(w, f->cpu_model));
	set(w, o, "cpu_count", json_integer(f->cpu_count));
	set(w, o, "governor", jstr(w, f->governor));
	set(w, o, "pinning", jstr(w, f->pinning));
	set(w, o, "loadavg1", jnum(f->loadavg1));
	set(w, o, "kernel", jstr(w, f->kernel));
	set(w, o, "engine", jstr(w, f->engine));
	set(w, o, "arch", jstr(w, f->arch));
	set(w, o, "emulated", json_boolean(f->emulated));
	return o;
}

static json_t *latency(jw *w, const mg_latency_detail *l)
{
	if (!l)
		return json_null();
	json_t *o = json_object(), *ci = json_array(), *s = json_object();
	set(w, o, "ratio", jnum(l->ratio));
	push(w, ci, jnum(l->ratio_lo));
	push(w, ci, jnum(l->ratio_hi));
	set(w, o, "ratio_ci", ci);
	set(w, o, "confidence", jnum(l->confidence));
	set(w, o, "p_value", jnum(l->p_value));
	set(w, o, "noisy", json_boolean(l->noisy));
	set(w, o, "noise_note", jstr(w, l->noise_note));
	set(w, o, "stopped_early", json_boolean(l->stopped_early));
	set(w, o, "blocks", json_integer((json_int_t)l->blocks));
	set(w, o, "block_spread", jnum(l->blocks ? l->block_spread : NAN));
	set(w, o, "min_samples", json_integer((json_int_t)l->min_samples));
	set(w, o, "too_few", json_boolean(l->too_few));
	if (isfinite(l->max_ratio))
		set(w, o, "max_ratio", jnum(l->max_ratio));
	set(w, s, "candidate", samples(w, l->cand_ns, l->ncand));
	set(w, s, "baseline", samples(w, l->base_ns, l->nbase));
	set(w, o, "samples_ns", s);
	return o;
}

static json_t *confusion(jw *w, const mg_confusion *c)
{
	if (!c)
		return json_null();
	json_t *o = json_object(), *rows = json_array();
	set(w, o, "n", json_integer((json_int_t)c->n));
	for (size_t t = 0; t < c->n && !w->failed; t++) {
		json_t *row = json_array();
		for (size_t p = 0; p < c->n && !w->failed; p++) {
			uint64_t v = c->counts[t * c->n + p];
			if (v > (uint64_t)INT64_MAX) {
				w->failed = 1;
				w->why = "a confusion count does not fit in a JSON integer";
			} else {
				push(w, row, json_integer((json_int_t)v));
			}
		}
		push(w, rows, row);
	}
	set(w, o, "counts", rows);
	return o;
}

static json_t *fidelity(jw *w, const mg_fidelity_detail *f)
{
	json_t *o = json_object(), *h = json_object(), *counts = json_array(), *worst = json_array();
	set(w, h, "max", jnum(f->hist_max));
	for (size_t i = 0; i < MG_FIDELITY_BINS; i++)
		push(w, counts, json_integer((json_int_t)f->hist[i]));
	set(w, h, "counts", counts);
	set(w, o, "histogram", h);
	for (size_t i = 0; i < f->nworst; i++) {
		const mg_fidelity_row *r = &f->worst[i];
		json_t *ro = json_object();
		set(w, ro, "row", json_integer((json_int_t)r->row));
		set(w, ro, "index", json_integer((json_int_t)r->index));
		set(w, ro, "expected", jnum(r->expected));
		set(w, ro, "got", jnum(r->got));
		push(w, worst, ro);
	}
	set(w, o, "worst", worst);
	return o;
}

static json_t *gate(jw *w, const mg_gate_result *g)
{
	json_t *o = json_object(), *figs = json_array();
	set(w, o, "name", jstr(w, g->name));
	set(w, o, "kind", jstr(w, g->kind));
	set(w, o, "target", jstr(w, g->target));
	set(w, o, "status", json_string(mg_gate_status_name(g->status)));
	if (g->kind && !strcmp(g->kind, "latency"))
		set(w, o, "on_inconclusive", json_string(mg_inconclusive_policy_name(g->on_inconclusive)));
	set(w, o, "reason", jstr(w, g->reason));
	set(w, o, "metric", jstr(w, g->metric));
	set(w, o, "value", jnum(g->value));
	set(w, o, "limit", jnum(g->limit));
	const char *is = rp_limit_is_name(g->limit_is);
	set(w, o, "limit_is", is ? json_string(is) : json_null());
	set(w, o, "baseline", jnum(g->baseline));
	set(w, o, "unit", jstr(w, g->unit));
	set(w, o, "seconds", jnum(g->seconds));
	for (size_t i = 0; i < g->nfigures; i++) {
		const mg_figure *f = &g->figures[i];
		json_t *fo = json_object();
		set(w, fo, "name", jstr(w, f->name));
		set(w, fo, "value", jnum(f->value));
		set(w, fo, "baseline", jnum(f->baseline));
		set(w, fo, "unit", jstr(w, f->unit));
		push(w, figs, fo);
	}
	set(w, o, "figures", figs);
	set(w, o, "latency", latency(w, g->latency));
	set(w, o, "fingerprint", fingerprint(w, g->fingerprint));
	set(w, o, "confusion", confusion(w, g->confusion));
	if (g->base_confusion)
		set(w, o, "baseline_confusion", confusion(w, g->base_confusion));
	if (g->fidelity)
		set(w, o, "fidelity", fidelity(w, g->fidelity));
	if (g->counter) /* cost gates only */
		set(w, o, "counter", jstr(w, g->counter));
	if (g->nclasses) {
		json_t *names = json_array();
		for (size_t i = 0; i < g->nclasses; i++)
			push(w, names, jstr(w, g->classes[i]));
		set(w, o, "classes", names);
	}
	if (g->nclass_checks) {
		json_t *checks = json_array();
		for (size_t i = 0; i < g->nclass_checks; i++) {
			const mg_class_check *k = &g->class_checks[i];
			json_t *ko = json_object();
			set(w, ko, "class", jstr(w, k->cls));
			set(w, ko, "index", json_integer((json_int_t)k->index));
			set(w, ko, "metric", jstr(w, k->metric));
			set(w, ko, "value", jnum(k->value));
			set(w, ko, "limit", jnum(k->limit));
			set(w, ko, "pass", json_boolean(k->pass));
			push(w, checks, ko);
		}
		set(w, o, "class_limits", checks);
	}
	return o;
}

int mg_report_write_json(mg_buf *out, const mg_report *r, mg_error *err)
{
	jw w = {0, NULL};
	json_t *root = json_object(), *targets = json_array(), *gates = json_array();
	mg_gate_status st = mg_report_status(r);
	set(&w, root, "schema_version", json_integer(mg_report_schema_needed(r)));
	set(&w, root, "tool", json_string("modelgate"));
	set(&w, root, "tool_version", jstr(&w, r->tool_version));
	set(&w, root, "git_commit", jstr(&w, r->git_commit));
	set(&w, root, "created", jstr(&w, r->created));
	set(&w, root, "config_path", jstr(&w, r->config_path));
	set(&w, root, "status", json_string(mg_gate_status_name(st)));
	set(&w, root, "passed", json_boolean(st == MG_GATE_PASS));
	set(&w, root, "exit_code", json_integer(mg_report_exit_code(r)));
	set(&w, root, "seconds", jnum(r->seconds));
	set(&w, root, "model", artifact(&w, r->model, r->model_digest));
	set(&w, root, "baseline", artifact(&w, r->baseline, r->baseline_digest));
	set(&w, root, "dataset", artifact(&w, r->dataset, r->dataset_digest));
	json_t *inputs = json_array();
	for (size_t i = 0; i < r->ninputs && !w.failed; i++) {
		const mg_report_input *in = &r->inputs[i];
		json_t *o = json_object(), *shape = json_array();
		set(&w, o, "name", jstr(&w, in->name));
		set(&w, o, "dtype", jstr(&w, in->dtype));
		for (size_t k = 0; k < in->rank; k++)
			push(&w, shape, json_integer(in->dims[k]));
		set(&w, o, "shape", shape);
		push(&w, inputs, o);
	}
	set(&w, root, "inputs", inputs);
	for (size_t i = 0; i < r->ntargets && !w.failed; i++) {
		const mg_report_target *t = &r->targets[i];
		json_t *o = json_object();
		set(&w, o, "name", jstr(&w, t->name));
		set(&w, o, "spec", jstr(&w, t->spec));
		set(&w, o, "fingerprint", fingerprint(&w, t->fingerprint));
		set(&w, o, "error", jstr(&w, t->error));
		push(&w, targets, o);
	}
	set(&w, root, "targets", targets);
	for (size_t i = 0; i < r->ngates && !w.failed; i++)
		push(&w, gates, gate(&w, &r->gates[i]));
	set(&w, root, "gates", gates);

	int rc = 0;
	char *text = NULL;
	if (w.failed || !(text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER)))
		rc = mg_error_set(err, w.why ? MG_EINVAL : MG_ENOMEM, "cannot write the report as JSON: %s",
				  w.why ? w.why : "out of memory");
	if (!rc)
		rc = mg_buf_puts(out, text, err);
	if (!rc)
		rc = mg_buf_puts(out, "\n", err);
	free(text);
	json_decref(root);
	return rc;
}
