/* Reads a report.json (the schema is described in report_json.c) back into
 * an mg_report, for package, deploy and `modelgate report`. Unknown keys are
 * ignored, so that older readers take newer minor additions; a newer
 * schema_version is refused. A syntax error names file:line:column; a value
 * of the wrong type names its JSON path ("gates[2].latency.p_value"). */
#include "report_priv.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REPORT_MAX_BYTES ((size_t)512 << 20)
#define CONFUSION_MAX_CLASSES 100000

typedef struct rd {
	const char *file;
	mg_error *err;
	int rc;
} rd;

__attribute__((format(printf, 3, 4)))
static int bad(rd *c, const char *path, const char *fmt, ...)
{
	char what[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	c->rc = mg_error_set(c->err, MG_EINVAL, "'%s': %s: %s", c->file, *path ? path : "top level", what);
	return c->rc;
}

static int oom(rd *c)
{
	c->rc = mg_error_set(c->err, MG_ENOMEM, "out of memory reading '%s'", c->file);
	return c->rc;
}

/* path of obj's member key, or of the element i of an array when key is NULL */
static void child(char *out, size_t outlen, const char *path, const char *key, size_t i)
{
	int n;
	if (!key)
		n = snprintf(out, outlen, "%s[%zu]", path, i);
	else if (*path)
		n = snprintf(out, outlen, "%s.%s", path, key);
	else
		n = snprintf(out, outlen, "%s", key);
	if (n < 0 || (size_t)n >= outlen) /* a path that deep only names where */
		memcpy(out + outlen - 4, "...", 4);
}

#define PATH_SIZE 256

static int rd_str(rd *c, const char *path, const json_t *obj, const char *key, char **out)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v)) {
		char p[PATH_SIZE];
		child(p, sizeof(p), path, key, 0);
		return bad(c, p, "expected a string or null");
	}
	if (!(*out = strdup(json_string_value(v))))
		return oom(c);
	return 0;
}

static int rd_numv(rd *c, const char *p, const json_t *v, double *out)
{
	*out = NAN;
	if (!v || json_is_null(v))
		return 0;
	if (json_is_number(v)) {
		*out = json_number_value(v);
		return 0;
	}
	const char *s = json_string_value(v);
	if (s && !strcmp(s, "inf"))
		*out = INFINITY;
	else if (s && !strcmp(s, "-inf"))
		*out = -INFINITY;
	else
		return bad(c, p, "expected a number, \"inf\", \"-inf\" or null");
	return 0;
}

static int rd_num(rd *c, const char *path, const json_t *obj, const char *key, double *out)
{
	char p[PATH_SIZE];
	child(p, sizeof(p), path, key, 0);
	return rd_numv(c, p, json_object_get(obj, key), out);
}

static int rd_int(rd *c, const char *path, const json_t *obj, const char *key, int required,
		  json_int_t min, json_int_t max, json_int_t *out)
{
	const json_t *v = json_object_get(obj, key);
	char p[PATH_SIZE];
	child(p, sizeof(p), path, key, 0);
	*out = 0;
	if (!v && !required)
		return 0;
	if (!v)
		return bad(c, p, "missing");
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return bad(c, p, "expected an integer from %lld to %lld", (long long)min, (long long)max);
	*out = json_integer_value(v);
	return 0;
}

static int rd_bool(rd *c, const char *path, const json_t *obj, const char *key, int *out)
{
	const json_t *v = json_object_get(obj, key);
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_boolean(v)) {
		char p[PATH_SIZE];
		child(p, sizeof(p), path, key, 0);
		return bad(c, p, "expected true or false");
	}
	*out = json_is_true(v);
	return 0;
}


/* The member key of obj when it is an object; NULL when missing or null. */
static int rd_obj(rd *c, const char *path, const json_t *obj, const char *key, const json_t **out)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v)) {
		char p[PATH_SIZE];
		child(p, sizeof(p), path, key, 0);
		return bad(c, p, "expected an object or null");
	}
	*out = v;
	return 0;
}

static int rd_arr(rd *c, const char *path, const json_t *obj, const char *key, const json_t **out)
{
	const json_t *v = json_object_get(obj, key);
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v)) {
		char p[PATH_SIZE];
		child(p, sizeof(p), path, key, 0);
		return bad(c, p, "expected an array or null");
	}
	*out = v;
	return 0;
}

/* calloc of n elements; a zero count gives NULL and no error */
static int rd_alloc(rd *c, void **out, size_t n, size_t size)
{
	size_t bytes;
	*out = NULL;
	if (n == 0)
		return 0;
	if (mg_size_mul(n, size, &bytes) || !(*out = calloc(n, size)))
		return oom(c);
	return 0;
}

/* "inputs": [{"name", "dtype", "shape": [sizes]}] */
static int rd_inputs(rd *c, const json_t *arr, mg_report *r)
{
	if (rd_alloc(c, (void **)&r->inputs, json_array_size(arr), sizeof(*r->inputs)))
		return c->rc;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *o = json_array_get(arr, i), *shape;
		r->ninputs = i + 1;
		mg_report_input *in = &r->inputs[i];
		char p[PATH_SIZE];
		child(p, sizeof(p), "inputs", NULL, i);
		if (!json_is_object(o))
			return bad(c, p, "expected an object");
		if (rd_str(c, p, o, "name", &in->name) || rd_str(c, p, o, "dtype", &in->dtype) ||
		    rd_arr(c, p, o, "shape", &shape))
			return c->rc;
		if (!in->name || !in->dtype || !shape || json_array_size(shape) > 64)
			return bad(c, p, "expected name, dtype and a shape of at most 64 sizes");
		if (rd_alloc(c, (void **)&in->dims, json_array_size(shape), sizeof(*in->dims)))
			return c->rc;
		for (size_t k = 0; k < json_array_size(shape); k++, in->rank++) {
			const json_t *d = json_array_get(shape, k);
			if (!json_is_integer(d) || json_integer_value(d) < 0)
				return bad(c, p, "shape: expected sizes of 0 or more");
			in->dims[k] = json_integer_value(d);
		}
	}
	return 0;
}

static int rd_samples(rd *c, const char *path, const json_t *obj, const char *key, double **out,
		      size_t *n)
{
	const json_t *a;
	char p[PATH_SIZE];
	child(p, sizeof(p), path, key, 0);
	*n = 0;
	if (rd_arr(c, path, obj, key, &a) || !a)
		return c->rc;
	if (rd_alloc(c, (void **)out, json_array_size(a), sizeof(double)))
		return c->rc;
	*n = json_array_size(a);
	for (size_t i = 0; i < *n; i++) {
		char e[PATH_SIZE];
		child(e, sizeof(e), p, NULL, i);
		if (rd_numv(c, e, json_array_get(a, i), &(*out)[i]))
			return c->rc;
	}
	return 0;
}

static int rd_fingerprint(rd *c, const char *path, const json_t *obj, const char *key,
			  mg_fingerprint **out)
{
	const json_t *o;
	char p[PATH_SIZE];
	json_int_t n;
	child(p, sizeof(p), path, key, 0);
	if (rd_obj(c, path, obj, key, &o) || !o)
		return c->rc;
	if (rd_alloc(c, (void **)out, 1, sizeof(**out)))
		return c->rc;
	mg_fingerprint *f = *out;
	if (rd_str(c, p, o, "cpu_model", &f->cpu_model) ||
	    rd_int(c, p, o, "cpu_count", 0, 0, 1 << 24, &n) || rd_str(c, p, o, "governor", &f->governor) ||
	    rd_str(c, p, o, "pinning", &f->pinning) || rd_num(c, p, o, "loadavg1", &f->loadavg1) ||
	    rd_str(c, p, o, "kernel", &f->kernel) || rd_str(c, p, o, "engine", &f->engine) ||
	    rd_str(c, p, o, "arch", &f->arch) || rd_bool(c, p, o, "emulated", &f->emulated))
		return c->rc;
	f->cpu_count = (int)n;
	return 0;
}

static int rd_latency(rd *c, const char *path, const json_t *obj, mg_latency_detail **out)
{
	const json_t *o, *ci, *s;
	char p[PATH_SIZE], sp[PATH_SIZE];
	child(p, sizeof(p), path, "latency", 0);
	child(sp, sizeof(sp), p, "samples_ns", 0);
	if (rd_obj(c, path, obj, "latency", &o) || !o)
		return c->rc;
	if (rd_alloc(c, (void **)out, 1, sizeof(**out)))
		return c->rc;
	mg_latency_detail *l = *out;
	l->ratio_lo = l->ratio_hi = NAN;
	if (rd_num(c, p, o, "ratio", &l->ratio) || rd_arr(c, p, o, "ratio_ci", &ci) ||
	    rd_num(c, p, o, "confidence", &l->confidence) || rd_num(c, p, o, "p_value", &l->p_value) ||
	    rd_bool(c, p, o, "noisy", &l->noisy) || rd_str(c, p, o, "noise_note", &l->noise_note) ||
	    rd_bool(c, p, o, "stopped_early", &l->stopped_early) ||
	    rd_obj(c, p, o, "samples_ns", &s))
		return c->rc;
	json_int_t blocks = 0, min_samples = 0;
	if (rd_int(c, p, o, "blocks", 0, 0, INT32_MAX, &blocks) ||
	    rd_num(c, p, o, "block_spread", &l->block_spread) ||
	    rd_int(c, p, o, "min_samples", 0, 0, INT32_MAX, &min_samples) ||
	    rd_bool(c, p, o, "too_few", &l->too_few) || rd_num(c, p, o, "max_ratio", &l->max_ratio))
		return c->rc;
	l->blocks = (size_t)blocks;
	l->min_samples = (size_t)min_samples;
	if (ci) {
		char cp[PATH_SIZE];
		child(cp, sizeof(cp), p, "ratio_ci", 0);
		if (json_array_size(ci) != 2)
			return bad(c, cp, "expected [low, high]");
		if (rd_numv(c, cp, json_array_get(ci, 0), &l->ratio_lo) ||
		    rd_numv(c, cp, json_array_get(ci, 1), &l->ratio_hi))
			return c->rc;
	}
	if (s && (rd_samples(c, sp, s, "candidate", &l->cand_ns, &l->ncand) ||
		  rd_samples(c, sp, s, "baseline", &l->base_ns, &l->nbase)))
		return c->rc;
	return 0;
}

/* "classes": the names of an accuracy gate's class indices */
static int rd_classes(rd *c, const char *path, const json_t *obj, mg_gate_result *g)
{
	const json_t *names;
	char p[PATH_SIZE];
	child(p, sizeof(p), path, "classes", 0);
	if (rd_arr(c, path, obj, "classes", &names) || !names || !json_array_size(names))
		return c->rc;
	if (json_array_size(names) > CONFUSION_MAX_CLASSES)
		return bad(c, p, "more than %d classes", CONFUSION_MAX_CLASSES);
	if (rd_alloc(c, (void **)&g->classes, json_array_size(names), sizeof(char *)))
		return c->rc;
	for (size_t i = 0; i < json_array_size(names); i++) {
		const json_t *v = json_array_get(names, i);
		char e[PATH_SIZE];
		child(e, sizeof(e), p, NULL, i);
		if (!json_is_string(v))
			return bad(c, e, "expected a class name");
		if (!(g->classes[i] = strdup(json_string_value(v))))
			return oom(c);
		g->nclasses = i + 1;
	}
	return 0;
}

/* "class_limits": the per-class limits an accuracy gate judged */
static int rd_class_checks(rd *c, const char *path, const json_t *obj, mg_gate_result *g)
{
	const json_t *arr;
	char p[PATH_SIZE];
	child(p, sizeof(p), path, "class_limits", 0);
	if (rd_arr(c, path, obj, "class_limits", &arr) || !arr || !json_array_size(arr))
		return c->rc;
	if (rd_alloc(c, (void **)&g->class_checks, json_array_size(arr), sizeof(mg_class_check)))
		return c->rc;
	for (size_t i = 0; i < json_array_size(arr); i++) {
		const json_t *v = json_array_get(arr, i);
		mg_class_check *k = &g->class_checks[i];
		json_int_t index;
		char e[PATH_SIZE];
		child(e, sizeof(e), p, NULL, i);
		g->nclass_checks = i + 1;
		k->value = k->limit = NAN;
		if (!json_is_object(v))
			return bad(c, e, "expected an object");
		if (rd_str(c, e, v, "class", &k->cls) || rd_int(c, e, v, "index", 1, 0, CONFUSION_MAX_CLASSES, &index) ||
		    rd_str(c, e, v, "metric", &k->metric) || rd_num(c, e, v, "value", &k->value) ||
		    rd_num(c, e, v, "limit", &k->limit) || rd_bool(c, e, v, "pass", &k->pass))
			return c->rc;
		k->index = (size_t)index;
	}
	return 0;
}

static int rd_confusion(rd *c, const char *path, const json_t *obj, const char *key, mg_confusion **out)
{
	const json_t *o, *rows;
	char p[PATH_SIZE], rp[PATH_SIZE];
	json_int_t n;
	child(p, sizeof(p), path, key, 0);
	child(rp, sizeof(rp), p, "counts", 0);
	if (rd_obj(c, path, obj, key, &o) || !o)
		return c->rc;
	if (rd_int(c, p, o, "n", 1, 0, CONFUSION_MAX_CLASSES, &n) || rd_arr(c, p, o, "counts", &rows))
		return c->rc;
	if (json_array_size(rows) != (size_t)n)
		return bad(c, rp, "expected %lld rows", (long long)n);
	for (size_t t = 0; t < (size_t)n; t++) { /* the shape first, then allocate */
		const json_t *row = json_array_get(rows, t);
		char e[PATH_SIZE];
		child(e, sizeof(e), rp, NULL, t);
		if (!json_is_array(row) || json_array_size(row) != (size_t)n)
			return bad(c, e, "expected an array of %lld counts", (long long)n);
	}
	if (rd_alloc(c, (void **)out, 1, sizeof(**out)) ||
	    rd_alloc(c, (void **)&(*out)->counts, (size_t)n * (size_t)n, sizeof(uint64_t)))
		return c->rc;
	(*out)->n = (size_t)n;
	for (size_t t = 0; t < (size_t)n; t++) {
		const json_t *row = json_array_get(rows, t);
		char e[PATH_SIZE];
		child(e, sizeof(e), rp, NULL, t);
		for (size_t k = 0; k < (size_t)n; k++) {
			const json_t *v = json_array_get(row, k);
			if (!json_is_integer(v) || json_integer_value(v) < 0) {
				char ep[PATH_SIZE];
				child(ep, sizeof(ep), e, NULL, k);
				return bad(c, ep, "expected a count (an integer >= 0)");
			}
			(*out)->counts[t * (size_t)n + k] = (uint64_t)json_integer_value(v);
		}
	}
	return 0;
}

static int rd_fidelity(rd *c, const char *path, const json_t *obj, mg_fidelity_detail **out)
{
	const json_t *o, *h, *counts, *worst;
	char p[PATH_SIZE], hp[PATH_SIZE], cp[PATH_SIZE], wp[PATH_SIZE];
	child(p, sizeof(p), path, "fidelity", 0);
	child(hp, sizeof(hp), p, "histogram", 0);
	child(cp, sizeof(cp), hp, "counts", 0);
	child(wp, sizeof(wp), p, "worst", 0);
	if (rd_obj(c, path, obj, "fidelity", &o) || !o)
		return c->rc;
	if (rd_obj(c, p, o, "histogram", &h) || !h)
		return c->rc ? c->rc : bad(c, hp, "missing");
	if (rd_arr(c, hp, h, "counts", &counts) || rd_arr(c, p, o, "worst", &worst))
		return c->rc;
	if (!counts || json_array_size(counts) != MG_FIDELITY_BINS)
		return bad(c, cp, "expected %d counts", MG_FIDELITY_BINS);
	if (worst && json_array_size(worst) > MG_FIDELITY_WORST)
		return bad(c, wp, "expected at most %d rows", MG_FIDELITY_WORST);
	if (rd_alloc(c, (void **)out, 1, sizeof(**out)))
		return c->rc;
	mg_fidelity_detail *f = *out;
	f->hist_max = NAN;
	if (rd_num(c, hp, h, "max", &f->hist_max))
		return c->rc;
	for (size_t i = 0; i < MG_FIDELITY_BINS; i++) {
		const json_t *v = json_array_get(counts, i);
		char e[PATH_SIZE];
		child(e, sizeof(e), cp, NULL, i);
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			return bad(c, e, "expected a count (an integer >= 0)");
		f->hist[i] = (uint64_t)json_integer_value(v);
	}
	f->nworst = worst ? json_array_size(worst) : 0;
	for (size_t i = 0; i < f->nworst; i++) {
		const json_t *w = json_array_get(worst, i);
		mg_fidelity_row *r = &f->worst[i];
		json_int_t row, index;
		char e[PATH_SIZE];
		child(e, sizeof(e), wp, NULL, i);
		r->expected = r->got = NAN;
		if (!json_is_object(w))
			return bad(c, e, "expected an object");
		if (rd_int(c, e, w, "row", 1, 0, INT64_MAX, &row) || rd_int(c, e, w, "index", 1, 0, INT64_MAX, &index) ||
		    rd_num(c, e, w, "expected", &r->expected) || rd_num(c, e, w, "got", &r->got))
			return c->rc;
		r->row = (size_t)row;
		r->index = (size_t)index;
	}
	return 0;
}

static int rd_status(rd *c, const char *path, const json_t *o, mg_gate_status *out)
{
	static const mg_gate_status all[] = {MG_GATE_PASS, MG_GATE_FAIL, MG_GATE_ERROR, MG_GATE_SKIP,
					     MG_GATE_INCONCLUSIVE};
	const char *s = json_string_value(json_object_get(o, "status"));
	for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcmp(s, mg_gate_status_name(all[i]))) {
			*out = all[i];
			return 0;
		}
	}
	char p[PATH_SIZE];
	child(p, sizeof(p), path, "status", 0);
	return bad(c, p, "expected \"pass\", \"fail\", \"error\" or \"skip\"");
}

/* "limit_is": "min", "max", or null or absent (not known). */
static int rd_limit_is(rd *c, const char *path, const json_t *o, mg_limit_is *out)
{
	const json_t *v = json_object_get(o, "limit_is");
	const char *s = json_string_value(v);
	*out = MG_LIMIT_UNKNOWN;
	if (!v || json_is_null(v))
		return 0;
	if (s && !strcmp(s, "min"))
		*out = MG_LIMIT_MIN;
	else if (s && !strcmp(s, "max"))
		*out = MG_LIMIT_MAX;
	else {
		char p[PATH_SIZE];
		child(p, sizeof(p), path, "limit_is", 0);
		return bad(c, p, "expected \"min\", \"max\" or null");
	}
	return 0;
}

static int rd_gate(rd *c, const char *p, const json_t *o, mg_gate_result *g)
{
	const json_t *figs;
	char fp[PATH_SIZE];
	child(fp, sizeof(fp), p, "figures", 0);
	if (!json_is_object(o))
		return bad(c, p, "expected an object");
	if (rd_str(c, p, o, "name", &g->name) || rd_str(c, p, o, "kind", &g->kind) ||
	    rd_str(c, p, o, "target", &g->target) || rd_status(c, p, o, &g->status) ||
	    rd_str(c, p, o, "reason", &g->reason) || rd_str(c, p, o, "metric", &g->metric) ||
	    rd_num(c, p, o, "value", &g->value) || rd_num(c, p, o, "limit", &g->limit) ||
	    rd_limit_is(c, p, o, &g->limit_is) ||
	    rd_num(c, p, o, "baseline", &g->baseline) || rd_str(c, p, o, "unit", &g->unit) ||
	    rd_num(c, p, o, "seconds", &g->seconds) || rd_arr(c, p, o, "figures", &figs))
		return c->rc;
	const json_t *oi = json_object_get(o, "on_inconclusive");
	if (oi && !json_is_null(oi)) {
		int pol = json_is_string(oi) ? mg_inconclusive_policy_parse(json_string_value(oi)) : -1;
		char op[PATH_SIZE];
		child(op, sizeof(op), p, "on_inconclusive", 0);
		if (pol < 0)
			return bad(c, op, "expected warn, fail or pass");
		g->on_inconclusive = (mg_inconclusive_policy)pol;
	}
	if (!g->name || !g->kind) {
		char np[PATH_SIZE];
		child(np, sizeof(np), p, g->name ? "kind" : "name", 0);
		return bad(c, np, "missing");
	}
	if (figs && rd_alloc(c, (void **)&g->figures, json_array_size(figs), sizeof(mg_figure)))
		return c->rc;
	g->nfigures = figs ? json_array_size(figs) : 0;
	for (size_t i = 0; i < g->nfigures; i++) {
		const json_t *f = json_array_get(figs, i);
		mg_figure *m = &g->figures[i];
		char e[PATH_SIZE];
		child(e, sizeof(e), fp, NULL, i);
		m->value = m->baseline = NAN;
		if (!json_is_object(f))
			return bad(c, e, "expected an object");
		if (rd_str(c, e, f, "name", &m->name) || rd_num(c, e, f, "value", &m->value) ||
		    rd_num(c, e, f, "baseline", &m->baseline) || rd_str(c, e, f, "unit", &m->unit))
			return c->rc;
		if (!m->name) {
			char np[PATH_SIZE];
			child(np, sizeof(np), e, "name", 0);
			return bad(c, np, "missing");
		}
	}
	if (rd_latency(c, p, o, &g->latency) || rd_fingerprint(c, p, o, "fingerprint", &g->fingerprint) ||
	    rd_confusion(c, p, o, "confusion", &g->confusion) ||
	    rd_confusion(c, p, o, "baseline_confusion", &g->base_confusion) ||
	    rd_fidelity(c, p, o, &g->fidelity) || rd_str(c, p, o, "counter", &g->counter) ||
	    rd_classes(c, p, o, g) || rd_class_checks(c, p, o, g))
		return c->rc;
	return 0;
}

static int rd_artifact(rd *c, const json_t *root, const char *key, char **ref, char **digest)
{
	const json_t *o;
	if (rd_obj(c, "", root, key, &o) || !o)
		return c->rc;
	return rd_str(c, key, o, "ref", ref) || rd_str(c, key, o, "digest", digest) ? c->rc : 0;
}

static int rd_report(rd *c, const json_t *root, mg_report *r)
{
	const json_t *targets, *gates, *inputs;
	json_int_t version;
	if (!json_is_object(root))
		return bad(c, "", "expected a JSON object");
	if (rd_int(c, "", root, "schema_version", 1, 1, INT32_MAX, &version))
		return c->rc;
	if (version > MG_REPORT_SCHEMA_VERSION) {
		c->rc = mg_error_set(c->err, MG_EINVAL,
				     "'%s' has schema_version %lld, newer than the %d this modelgate reads; "
				     "upgrade modelgate",
				     c->file, (long long)version, MG_REPORT_SCHEMA_VERSION);
		return c->rc;
	}
	r->schema_version = (int)version;
	if (rd_str(c, "", root, "tool_version", &r->tool_version) ||
	    rd_str(c, "", root, "git_commit", &r->git_commit) ||
	    rd_str(c, "", root, "created", &r->created) ||
	    rd_str(c, "", root, "config_path", &r->config_path) ||
	    rd_num(c, "", root, "seconds", &r->seconds) ||
	    rd_artifact(c, root, "model", &r->model, &r->model_digest) ||
	    rd_artifact(c, root, "baseline", &r->baseline, &r->baseline_digest) ||
	    rd_artifact(c, root, "dataset", &r->dataset, &r->dataset_digest) ||
	    rd_arr(c, "", root, "inputs", &inputs) || rd_arr(c, "", root, "targets", &targets) ||
	    rd_arr(c, "", root, "gates", &gates))
		return c->rc;
	if (!gates)
		return bad(c, "gates", "missing");

	if (inputs && rd_inputs(c, inputs, r))
		return c->rc;
	if (targets && rd_alloc(c, (void **)&r->targets, json_array_size(targets), sizeof(*r->targets)))
		return c->rc;
	r->ntargets = targets ? json_array_size(targets) : 0;
	for (size_t i = 0; i < r->ntargets; i++) {
		const json_t *o = json_array_get(targets, i);
		mg_report_target *t = &r->targets[i];
		char p[PATH_SIZE];
		child(p, sizeof(p), "targets", NULL, i);
		if (!json_is_object(o))
			return bad(c, p, "expected an object");
		if (rd_str(c, p, o, "name", &t->name) || rd_str(c, p, o, "spec", &t->spec) ||
		    rd_fingerprint(c, p, o, "fingerprint", &t->fingerprint) ||
		    rd_str(c, p, o, "error", &t->error))
			return c->rc;
	}

	if (rd_alloc(c, (void **)&r->gates, json_array_size(gates), sizeof(*r->gates)))
		return c->rc;
	r->ngates = json_array_size(gates);
	for (size_t i = 0; i < r->ngates; i++) {
		char p[PATH_SIZE];
		child(p, sizeof(p), "gates", NULL, i);
		if (rd_gate(c, p, json_array_get(gates, i), &r->gates[i]))
			return c->rc;
	}
	return 0;
}

int mg_report_read_json(mg_report **out, const char *path, mg_error *err)
{
	mg_buf data = MG_BUF_INIT;
	*out = NULL;
	int rc = mg_file_read(&data, path, REPORT_MAX_BYTES, err);
	if (!rc)
		rc = mg_report_parse_json(out, mg_buf_cstr(&data), data.len, path, err);
	mg_buf_free(&data);
	return rc;
}

int mg_report_parse_json(mg_report **out, const char *text, size_t len, const char *path,
			 mg_error *err)
{
	json_t *root = NULL;
	mg_report *r = NULL;
	rd c = {path, err, 0};
	int rc = 0;
	*out = NULL;
	json_error_t jerr;
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		rc = mg_error_set(err, MG_EINVAL, "'%s':%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
		goto done;
	}
	if (!(r = calloc(1, sizeof(*r)))) {
		rc = oom(&c);
		goto done;
	}
	if ((rc = rd_report(&c, root, r)))
		goto done;
	*out = r;
	r = NULL;
done:
	mg_report_free(r);
	json_decref(root);
	return rc;
}
