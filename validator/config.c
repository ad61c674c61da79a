/* modelgate.json: reading and validating the gate configuration. Every
 * problem is found before anything runs and reported by its JSON path
 * ("gates[2].max_ms: expected a number"), or by file:line:column for a
 * syntax error. Gate fields are described by one table, so a new limit is
 * one line. */
#include "report.h"
#include "runners/inputs.h"
#include "runners/runners.h"
#include "validator.h"

#include <jansson.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

enum ftype { F_NUMBER, F_STRING, F_COUNT, F_BOOL, F_OUTPUT, F_CLASSES };

#define K_ACC (1u << MG_KIND_ACCURACY)
#define K_FID (1u << MG_KIND_FIDELITY)
#define K_LAT (1u << MG_KIND_LATENCY)
#define K_SIZE (1u << MG_KIND_SIZE)
#define K_MEM (1u << MG_KIND_MEMORY)
#define K_COST (1u << MG_KIND_COST)
#define K_ALL (K_ACC | K_FID | K_LAT | K_SIZE | K_MEM | K_COST)

static const struct field {
	const char *key;
	enum ftype type;
	size_t offset;
	unsigned kinds;
} gate_fields[] = {
	{"target", F_STRING, offsetof(mg_gate_config, target), K_LAT | K_MEM | K_COST},
	{"ci_only", F_BOOL, offsetof(mg_gate_config, ci_only), K_ALL},
	{"metric", F_STRING, offsetof(mg_gate_config, metric), K_ACC | K_LAT},
	{"k", F_COUNT, offsetof(mg_gate_config, k), K_ACC},
	{"min", F_NUMBER, offsetof(mg_gate_config, min), K_ACC},
	{"max_drop", F_NUMBER, offsetof(mg_gate_config, max_drop), K_ACC},
	{"max_abs", F_NUMBER, offsetof(mg_gate_config, max_abs), K_FID},
	{"max_mean_abs", F_NUMBER, offsetof(mg_gate_config, max_mean_abs), K_FID},
	{"min_cosine", F_NUMBER, offsetof(mg_gate_config, min_cosine), K_FID},
	{"min_snr_db", F_NUMBER, offsetof(mg_gate_config, min_snr_db), K_FID},
	{"min_top1_agreement", F_NUMBER, offsetof(mg_gate_config, min_top1_agreement), K_FID},
	{"reference", F_STRING, offsetof(mg_gate_config, reference), K_FID},
	{"layout", F_STRING, offsetof(mg_gate_config, layout), K_FID},
	{"max_ms", F_NUMBER, offsetof(mg_gate_config, max_ms), K_LAT},
	{"max_ratio", F_NUMBER, offsetof(mg_gate_config, max_ratio), K_LAT | K_COST},
	{"alpha", F_NUMBER, offsetof(mg_gate_config, alpha), K_LAT},
	{"max_time", F_NUMBER, offsetof(mg_gate_config, max_time), K_LAT},
	{"min_iterations", F_COUNT, offsetof(mg_gate_config, min_iterations), K_LAT},
	{"on_inconclusive", F_STRING, offsetof(mg_gate_config, on_inconclusive), K_LAT},
	{"allow_emulated_absolute", F_BOOL, offsetof(mg_gate_config, allow_emulated_absolute), K_LAT},
	{"max_bytes", F_NUMBER, offsetof(mg_gate_config, max_bytes), K_SIZE},
	{"max_compressed_bytes", F_NUMBER, offsetof(mg_gate_config, max_compressed_bytes), K_SIZE},
	{"max_parameters", F_NUMBER, offsetof(mg_gate_config, max_parameters), K_SIZE},
	{"max_growth", F_NUMBER, offsetof(mg_gate_config, max_growth), K_SIZE},
	{"max_rss_mb", F_NUMBER, offsetof(mg_gate_config, max_rss_mb), K_MEM},
	{"max_instructions", F_NUMBER, offsetof(mg_gate_config, max_instructions), K_COST},
	{"runs", F_COUNT, offsetof(mg_gate_config, runs), K_COST},
	{"output", F_OUTPUT, offsetof(mg_gate_config, output), K_ACC | K_FID},
	{"min_recall", F_CLASSES, offsetof(mg_gate_config, min_recall), K_ACC},
	{"min_precision", F_CLASSES, offsetof(mg_gate_config, min_precision), K_ACC},
};

void mg_gate_settings(const mg_gate_config *g,
		      void (*fn)(void *ctx, const char *key, double num, const char *text), void *ctx)
{
	for (size_t i = 0; i < sizeof(gate_fields) / sizeof(gate_fields[0]); i++) {
		const struct field *f = &gate_fields[i];
		const char *p = (const char *)g + f->offset;
		char text[64];
		double num = NAN;
		if (!(f->kinds & (1u << g->kind)))
			continue;
		switch (f->type) {
		case F_NUMBER:
			if (isnan(num = *(const double *)p))
				continue;
			snprintf(text, sizeof(text), "%.15g", num);
			break;
		case F_COUNT:
			num = (double)*(const size_t *)p;
			snprintf(text, sizeof(text), "%zu", *(const size_t *)p);
			break;
		case F_BOOL:
			if (!*(const int *)p)
				continue;
			snprintf(text, sizeof(text), "true");
			break;
		case F_STRING:
		case F_OUTPUT:
			if (!*(char *const *)p)
				continue;
			fn(ctx, f->key, NAN, *(char *const *)p);
			continue;
		case F_CLASSES: /* each class's limit as KEY.CLASS */
			for (size_t k = 0; k < ((const mg_class_limits *)p)->n; k++) {
				const mg_class_limit *l = &((const mg_class_limits *)p)->v[k];
				char key[160];
				snprintf(key, sizeof(key), "%s.%s", f->key, l->cls);
				snprintf(text, sizeof(text), "%.15g", l->limit);
				fn(ctx, key, l->limit, text);
			}
			continue;
		}
		fn(ctx, f->key, num, text);
	}
}

static const char *const kind_names[] = {"accuracy", "fidelity", "latency", "size", "memory", "cost", NULL};
#define NKINDS (sizeof(kind_names) / sizeof(kind_names[0]) - 1)

const char *mg_gate_kind_name(mg_gate_kind k)
{
	return (size_t)k < NKINDS ? kind_names[k] : "unknown";
}

static int bad(mg_error *err, const char *file, const char *path, const char *what)
{
	return mg_error_set(err, MG_EINVAL, "%s: %s: %s", file, path, what);
}

/* An unknown key at path: names the known one it is closest to, else lists
 * what is expected (expected: "model, baseline, ..."). */
static int unknown_key(mg_error *err, const char *file, const char *path, const char *key,
		       const char *const *known, const char *expected)
{
	const char *near = mg_closest(key, known);
	if (near)
		return mg_error_set(err, MG_EINVAL, "%s: %s: unknown key; did you mean '%s'?", file, path, near);
	return mg_error_set(err, MG_EINVAL, "%s: %s: unknown key (expected %s)", file, path, expected);
}

static int is_comment(const char *key)
{
	return key[0] == '/' && key[1] == '/';
}

static int get_string(char **out, json_t *v, const char *file, const char *path, mg_error *err)
{
	if (!json_is_string(v) || !*json_string_value(v))
		return bad(err, file, path, "expected a non-empty string");
	*out = strdup(json_string_value(v));
	return *out ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
}

/* {"stop_sign": 0.98, "3": 0.9}: limits in [0, 1] by class name or index;
 * whether each names a class is checked when the classes are known. */
static int class_limits(mg_class_limits *out, json_t *v, const char *file, const char *path,
			mg_error *err)
{
	if (!json_is_object(v) || !json_object_size(v))
		return bad(err, file, path, "expected an object of class name or index: limit");
	if (!(out->v = calloc(json_object_size(v), sizeof(*out->v))))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	const char *key;
	json_t *x;
	json_object_foreach(v, key, x) {
		if (is_comment(key))
			continue;
		char sub[320];
		snprintf(sub, sizeof(sub), "%.160s.%.150s", path, key);
		if (!json_is_number(x) || !(json_number_value(x) >= 0 && json_number_value(x) <= 1))
			return bad(err, file, sub, "expected a number from 0 to 1");
		mg_class_limit *l = &out->v[out->n];
		if (!(l->cls = strdup(key)))
			return mg_error_set(err, MG_ENOMEM, "out of memory");
		l->limit = json_number_value(x);
		out->n++;
	}
	return 0;
}

static int set_field(mg_gate_config *g, const struct field *f, json_t *v, const char *file,
		     const char *path, mg_error *err)
{
	char *p = (char *)g + f->offset;
	switch (f->type) {
	case F_NUMBER:
		if (!json_is_number(v) || !isfinite(json_number_value(v)) || json_number_value(v) < 0)
			return bad(err, file, path, "expected a non-negative number");
		*(double *)p = json_number_value(v);
		return 0;
	case F_COUNT:
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			return bad(err, file, path, "expected a positive integer");
		*(size_t *)p = (size_t)json_integer_value(v);
		return 0;
	case F_BOOL:
		if (!json_is_boolean(v))
			return bad(err, file, path, "expected true or false");
		*(int *)p = json_is_true(v);
		return 0;
	case F_STRING:
		return get_string((char **)p, v, file, path, err);
	case F_OUTPUT: /* a name, or an index kept in decimal */
		if (json_is_integer(v) && json_integer_value(v) >= 0) {
			char num[32];
			snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
			*(char **)p = strdup(num);
			return *(char **)p ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
		}
		if (!json_is_string(v) || !*json_string_value(v))
			return bad(err, file, path, "expected an output name or index");
		return get_string((char **)p, v, file, path, err);
	case F_CLASSES:
		return class_limits((mg_class_limits *)p, v, file, path, err);
	}
	return 0;
}

static int one_of(const char *s, const char *const *options)
{
	for (; *options; options++)
		if (!strcmp(s, *options))
			return 1;
	return 0;
}

double mg_latency_metric_quantile(const char *metric)
{
	static const struct {
		const char *name;
		double q;
	} m[] = {{"p50", 0.5}, {"p90", 0.9}, {"p95", 0.95}, {"p99", 0.99}, {"mean", 0}};
	for (size_t i = 0; metric && i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(metric, m[i].name))
			return m[i].q;
	return -1;
}

/* What a gate of each kind must have, once its fields are read. */
static int check_gate(const mg_config *c, const mg_gate_config *g, const char *file,
		      const char *path, mg_error *err)
{
	static const char *const acc_metrics[] = {"top1", "topk", "macro_f1", "mae", "rmse", NULL};
	char where[160];
	switch (g->kind) {
	case MG_KIND_ACCURACY:
		if (!one_of(g->metric, acc_metrics))
			return bad(err, file, (snprintf(where, sizeof(where), "%.64s.metric", path), where),
				   "expected top1, topk, macro_f1, mae or rmse");
		if (isnan(g->min) && isnan(g->max_drop) && !g->min_recall.n && !g->min_precision.n)
			return bad(err, file, path, "an accuracy gate needs 'min', 'max_drop', 'min_recall' or 'min_precision'");
		if ((g->min_recall.n || g->min_precision.n) && (!strcmp(g->metric, "mae") || !strcmp(g->metric, "rmse")))
			return bad(err, file, path, "per-class limits are for a classifier (metric top1, topk or macro_f1)");
		break;
	case MG_KIND_FIDELITY:
		if (isnan(g->max_abs) && isnan(g->max_mean_abs) && isnan(g->min_cosine) &&
		    isnan(g->min_snr_db) && isnan(g->min_top1_agreement))
			return bad(err, file, path,
				   "a fidelity gate needs a limit: max_abs, max_mean_abs, min_cosine, min_snr_db or min_top1_agreement");
		if (!g->reference && !c->baseline)
			return bad(err, file, path, "a fidelity gate needs 'reference' outputs or a top-level 'baseline'");
		if (g->layout && strcmp(g->layout, "nhwc") && strcmp(g->layout, "nchw"))
			return bad(err, file, (snprintf(where, sizeof(where), "%.64s.layout", path), where),
				   "expected nhwc or nchw (the candidate's image layout)");
		if (g->layout && g->reference)
			return bad(err, file, (snprintf(where, sizeof(where), "%.64s.layout", path), where),
				   "a layout is for comparing with the baseline, not with 'reference' outputs");
		break;
	case MG_KIND_LATENCY:
		if (mg_latency_metric_quantile(g->metric) < 0)
			return bad(err, file, (snprintf(where, sizeof(where), "%.64s.metric", path), where),
				   "expected p50, p90, p95, p99 or mean");
		if (isnan(g->max_ms) && isnan(g->max_ratio))
			return bad(err, file, path, "a latency gate needs 'max_ms' or 'max_ratio'");
		if (!(g->alpha > 0 && g->alpha < 0.5))
			return bad(err, file, (snprintf(where, sizeof(where), "%.64s.alpha", path), where),
				   "expected a number between 0 and 0.5");
		if (g->on_inconclusive && mg_inconclusive_policy_parse(g->on_inconclusive) < 0)
			return bad(err, file, (snprintf(where, sizeof(where), "%.64s.on_inconclusive", path), where),
				   "expected fail, pass or warn");
		break;
	case MG_KIND_SIZE:
		if (isnan(g->max_bytes) && isnan(g->max_compressed_bytes) && isnan(g->max_parameters) &&
		    isnan(g->max_growth))
			return bad(err, file, path,
				   "a size gate needs max_bytes, max_compressed_bytes, max_parameters or max_growth");
		break;
	case MG_KIND_MEMORY:
		if (isnan(g->max_rss_mb))
			return bad(err, file, path, "a memory gate needs 'max_rss_mb'");
		break;
	case MG_KIND_COST:
		if (isnan(g->max_ratio) && isnan(g->max_instructions))
			return bad(err, file, path, "a cost gate needs 'max_ratio' or 'max_instructions'");
		if (!isnan(g->max_ratio) && !(g->max_ratio > 0))
			return bad(err, file, (snprintf(where, sizeof(where), "%.64s.max_ratio", path), where),
				   "expected a number above 0");
		if (g->runs > 100000)
			return bad(err, file, (snprintf(where, sizeof(where), "%.64s.runs", path), where),
				   "expected at most 100000");
		break;
	}
	if (g->kind == MG_KIND_LATENCY || g->kind == MG_KIND_MEMORY || g->kind == MG_KIND_COST) {
		if (!g->target && c->ntargets != 1)
			return bad(err, file, path, "needs a 'target' (one of the keys of 'targets')");
		if (g->target && !mg_config_target(c, g->target))
			return bad(err, file, (snprintf(where, sizeof(where), "%.64s.target", path), where),
				   "not one of the keys of 'targets'");
	}
	return 0;
}

static void gate_defaults(mg_gate_config *g)
{
	g->min = g->max_drop = g->max_abs = g->max_mean_abs = g->min_cosine = NAN;
	g->min_snr_db = g->min_top1_agreement = g->max_ms = g->max_ratio = NAN;
	g->max_bytes = g->max_compressed_bytes = g->max_parameters = g->max_growth = NAN;
	g->max_rss_mb = g->max_instructions = NAN;
	g->runs = 0; /* cost: chosen by the counter (mg_cost_measure) */
	g->alpha = 0.01;
	g->max_time = 60;
	g->min_iterations = 100;
	g->k = 5;
}

static int parse_gate(mg_config *c, mg_gate_config *g, json_t *j, size_t idx, const char *file,
		      mg_error *err)
{
	char path[160], sub[224];
	snprintf(path, sizeof(path), "gates[%zu]", idx);
	gate_defaults(g);
	if (!json_is_object(j))
		return bad(err, file, path, "expected an object");
	json_t *kind = json_object_get(j, "kind");
	size_t k = 0, nkinds = NKINDS;
	for (; json_is_string(kind) && k < nkinds; k++)
		if (!strcmp(json_string_value(kind), kind_names[k]))
			break;
	const char *kind_near = json_is_string(kind) && k == nkinds
				    ? mg_closest(json_string_value(kind), kind_names) : NULL;
	if (kind_near)
		return mg_error_set(err, MG_EINVAL, "%s: %s.kind: unknown kind '%s'; did you mean '%s'?", file, path,
				    json_string_value(kind), kind_near);
	if (!json_is_string(kind) || k == nkinds)
		return bad(err, file, (snprintf(sub, sizeof(sub), "%s.kind", path), sub),
			   "expected accuracy, fidelity, latency, size, memory or cost");
	g->kind = (mg_gate_kind)k;
	int rc = get_string(&g->name, json_object_get(j, "name"), file,
			    (snprintf(sub, sizeof(sub), "%s.name", path), sub), err);
	if (rc)
		return rc;
	for (size_t i = 0; i < idx; i++)
		if (!strcmp(c->gates[i].name, g->name))
			return bad(err, file, sub, "a gate of that name exists already");
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		if (is_comment(key) || !strcmp(key, "kind") || !strcmp(key, "name"))
			continue;
		snprintf(sub, sizeof(sub), "%s.%s", path, key);
		const struct field *f = NULL;
		for (size_t i = 0; i < sizeof(gate_fields) / sizeof(gate_fields[0]); i++)
			if (!strcmp(gate_fields[i].key, key))
				f = &gate_fields[i];
		if (!f || !(f->kinds & (1u << g->kind))) {
			const char *known[sizeof(gate_fields) / sizeof(gate_fields[0]) + 1];
			size_t n = 0;
			for (size_t i = 0; i < sizeof(gate_fields) / sizeof(gate_fields[0]); i++)
				if (gate_fields[i].kinds & (1u << g->kind))
					known[n++] = gate_fields[i].key;
			known[n] = NULL;
			const char *near = f ? NULL : mg_closest(key, known);
			if (near)
				return mg_error_set(err, MG_EINVAL, "%s: %s: not a setting of a %s gate; did you mean '%s'?",
						    file, sub, kind_names[g->kind], near);
			char what[128];
			snprintf(what, sizeof(what), "not a setting of a %s gate", kind_names[g->kind]);
			return bad(err, file, sub, what);
		}
		if ((rc = set_field(g, f, v, file, sub, err)))
			return rc;
	}
	if (!g->metric && (g->kind == MG_KIND_ACCURACY || g->kind == MG_KIND_LATENCY) &&
	    !(g->metric = strdup(g->kind == MG_KIND_ACCURACY ? "top1" : "p50")))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	return check_gate(c, g, file, path, err);
}

static int parse_targets(mg_config *c, json_t *j, const char *file, mg_error *err)
{
	if (!j) /* the default: this machine */
		j = json_pack("{s:s}", "local", "local");
	else
		json_incref(j);
	int rc = 0;
	if (!json_is_object(j) || json_object_size(j) == 0) {
		rc = bad(err, file, "targets", "expected an object of name: " MG_TARGET_GRAMMAR);
		goto done;
	}
	c->targets = calloc(json_object_size(j), sizeof(*c->targets));
	if (!c->targets) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		if (is_comment(key))
			continue;
		char path[160];
		snprintf(path, sizeof(path), "targets.%s", key);
		mg_target_config *t = &c->targets[c->ntargets++];
		if (!(t->name = strdup(key))) {
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
			goto done;
		}
		json_t *spec = json_is_object(v) ? json_object_get(v, "spec") : v;
		if (json_is_object(v)) {
			static const char *const target_keys[] = {"spec", "threads", NULL};
			const char *tk;
			json_t *tv;
			json_object_foreach(v, tk, tv) {
				char tpath[320];
				snprintf(tpath, sizeof(tpath), "%s.%.150s", path, tk);
				if (!is_comment(tk) && !one_of(tk, target_keys)) {
					rc = unknown_key(err, file, tpath, tk, target_keys, "spec or threads");
					goto done;
				}
			}
			json_t *th = json_object_get(v, "threads");
			/* the target's CPU count bounds it further, once known */
			if (th && (!json_is_integer(th) || json_integer_value(th) < 0 ||
				   json_integer_value(th) > 4096)) {
				rc = bad(err, file, path, "threads: expected an integer from 0 to 4096");
				goto done;
			}
			t->threads = (int)json_integer_value(th);
		}
		if ((rc = get_string(&t->spec, spec, file, path, err)))
			goto done;
		mg_target_spec ts;
		if (mg_target_spec_parse(&ts, t->spec, NULL)) {
			rc = bad(err, file, path, "expected " MG_TARGET_GRAMMAR);
			goto done;
		}
	}
done:
	json_decref(j);
	return rc;
}

/* "classes": ["cat", "dog"]: the names of the class indices. */
static int parse_classes(mg_config *c, json_t *j, const char *file, mg_error *err)
{
	if (!json_is_array(j) || !json_array_size(j))
		return bad(err, file, "dataset.classes", "expected a non-empty list of class names");
	if (!(c->classes = calloc(json_array_size(j), sizeof(*c->classes))))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < json_array_size(j); i++) {
		char path[64];
		snprintf(path, sizeof(path), "dataset.classes[%zu]", i);
		int rc = get_string(&c->classes[i], json_array_get(j, i), file, path, err);
		if (rc)
			return rc;
		c->nclasses = i + 1;
		for (size_t k = 0; k < i; k++)
			if (!strcmp(c->classes[k], c->classes[i]))
				return bad(err, file, path, "a class of that name is listed already");
	}
	return 0;
}

/* "dataset": a reference or folder (x.npy and y.npy in it), or
 * {"inputs": FILE, "labels": FILE}, or {"ref": REF, "inputs": NAME,
 * "labels": NAME} naming the files in it; "cast" and "classes" with
 * either. */
static int parse_dataset(mg_config *c, json_t *j, const char *file, mg_error *err)
{
	if (!j)
		return 0;
	if (json_is_string(j))
		return get_string(&c->dataset_ref, j, file, "dataset", err);
	if (!json_is_object(j))
		return bad(err, file, "dataset", "expected a reference or {\"inputs\": ..., \"labels\": ...}");
	static const char *const dataset_keys[] = {"inputs", "labels", "ref", "cast", "classes", NULL};
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		int rc = 0;
		if (is_comment(key))
			continue;
		char path[160];
		snprintf(path, sizeof(path), "dataset.%.100s", key);
		if (!strcmp(key, "inputs"))
			rc = get_string(&c->dataset_inputs, v, file, path, err);
		else if (!strcmp(key, "labels"))
			rc = get_string(&c->dataset_labels, v, file, path, err);
		else if (!strcmp(key, "ref"))
			rc = get_string(&c->dataset_ref, v, file, path, err);
		else if (!strcmp(key, "classes"))
			rc = parse_classes(c, v, file, err);
		else if (!strcmp(key, "cast") && json_is_boolean(v))
			c->dataset_cast = json_is_true(v);
		else if (!strcmp(key, "cast"))
			rc = bad(err, file, path, "expected true or false");
		else
			rc = unknown_key(err, file, path, key, dataset_keys, "inputs, labels, ref, cast or classes");
		if (rc)
			return rc;
	}
	/* with a reference, inputs and labels are names of files in it */
	if (c->dataset_ref && c->dataset_inputs && (c->dataset_inputs[0] == '/' || strstr(c->dataset_inputs, "..")))
		return bad(err, file, "dataset.inputs", "expected a file name in the dataset 'ref'");
	if (c->dataset_ref && c->dataset_labels && (c->dataset_labels[0] == '/' || strstr(c->dataset_labels, "..")))
		return bad(err, file, "dataset.labels", "expected a file name in the dataset 'ref'");
	if (!c->dataset_inputs && !c->dataset_ref)
		return bad(err, file, "dataset.inputs", "missing (or give \"ref\": a dataset reference or folder)");
	return 0;
}

/* "shapes": {"images": [1, 3, 320, 320], ...}: the sizes random inputs
 * get (gates without a dataset); whether each name is an input of the
 * model is checked when the model is read. */
static int parse_shapes(mg_config *c, json_t *j, const char *file, mg_error *err)
{
	if (!j)
		return 0;
	if (!json_is_object(j))
		return bad(err, file, "shapes", "expected an object of input name: [sizes]");
	if (!(c->shapes = calloc(json_object_size(j) ? json_object_size(j) : 1, sizeof(*c->shapes))))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		if (is_comment(key))
			continue;
		char path[320];
		snprintf(path, sizeof(path), "shapes.%.280s", key);
		mg_input_shape *sh = &c->shapes[c->nshapes];
		if (strlen(key) >= sizeof(sh->name))
			return bad(err, file, path, "name too long");
		if (!json_is_array(v) || json_array_size(v) > MG_TENSOR_MAX_RANK)
			return bad(err, file, path, "expected a list of sizes (at most 16)");
		snprintf(sh->name, sizeof(sh->name), "%s", key);
		size_t k;
		json_t *d;
		json_array_foreach(v, k, d) {
			if (!json_is_integer(d) || json_integer_value(d) < 0 || json_integer_value(d) > (1 << 30))
				return bad(err, file, path, "expected sizes from 0 to 1073741824");
			sh->dims[k] = json_integer_value(d);
		}
		sh->rank = json_array_size(v);
		c->nshapes++;
	}
	return 0;
}

static void class_limits_free(mg_class_limits *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].cls);
	free(l->v);
}

void mg_config_free(mg_config *c)
{
	if (!c)
		return;
	free(c->path);
	free(c->dir);
	free(c->model);
	free(c->baseline);
	free(c->dataset_inputs);
	free(c->dataset_labels);
	free(c->dataset_ref);
	for (size_t i = 0; i < c->nclasses; i++)
		free(c->classes[i]);
	free(c->classes);
	free(c->shapes);
	for (size_t i = 0; i < c->ntargets; i++) {
		free(c->targets[i].name);
		free(c->targets[i].spec);
	}
	free(c->targets);
	for (size_t i = 0; i < c->ngates; i++) {
		free(c->gates[i].name);
		free(c->gates[i].target);
		free(c->gates[i].metric);
		free(c->gates[i].reference);
		free(c->gates[i].layout);
		free(c->gates[i].on_inconclusive);
		free(c->gates[i].output);
		class_limits_free(&c->gates[i].min_recall);
		class_limits_free(&c->gates[i].min_precision);
	}
	free(c->gates);
	free(c);
}

const mg_target_config *mg_config_target(const mg_config *c, const char *name)
{
	for (size_t i = 0; i < c->ntargets; i++)
		if (!strcmp(c->targets[i].name, name))
			return &c->targets[i];
	return NULL;
}

int mg_config_parse(mg_config **out, const char *text, size_t len, const char *file, mg_error *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return mg_error_set(err, MG_EINVAL, "%s:%d:%d: %s", file, jerr.line, jerr.column, jerr.text);
	mg_config *c = calloc(1, sizeof(*c));
	int rc = 0;
	if (!c || !(c->path = strdup(file))) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	const char *slash = strrchr(file, '/');
	c->dir = slash ? strndup(file, (size_t)(slash - file) + (slash == file)) : strdup(".");
	if (!c->dir) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if (!json_is_object(root)) {
		rc = bad(err, file, "$", "expected an object");
		goto done;
	}
	/* "$schema": where editors find docs/modelgate.schema.json */
	static const char *const top[] = {"$schema", "model", "baseline", "dataset", "shapes",
					  "targets", "gates", "deploy", NULL};
	const char *key;
	json_t *v;
	json_object_foreach(root, key, v) {
		if (!is_comment(key) && !one_of(key, top)) {
			rc = unknown_key(err, file, key, key, top,
					 "model, baseline, dataset, shapes, targets, gates or deploy");
			goto done;
		}
	}
	json_t *schema = json_object_get(root, "$schema");
	if (schema && !json_is_string(schema)) {
		rc = bad(err, file, "$schema", "expected a string (the schema's URL or path)");
		goto done;
	}
	if ((rc = get_string(&c->model, json_object_get(root, "model"), file, "model", err)))
		goto done;
	if (json_object_get(root, "baseline") &&
	    (rc = get_string(&c->baseline, json_object_get(root, "baseline"), file, "baseline", err)))
		goto done;
	if ((rc = parse_dataset(c, json_object_get(root, "dataset"), file, err)) ||
	    (rc = parse_shapes(c, json_object_get(root, "shapes"), file, err)) ||
	    (rc = parse_targets(c, json_object_get(root, "targets"), file, err)))
		goto done;
	json_t *gates = json_object_get(root, "gates");
	if (!json_is_array(gates) || json_array_size(gates) == 0) {
		rc = bad(err, file, "gates", "expected a non-empty list of gates");
		goto done;
	}
	if (!(c->gates = calloc(json_array_size(gates), sizeof(*c->gates)))) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	for (size_t i = 0; i < json_array_size(gates); i++) {
		c->ngates = i + 1;
		if ((rc = parse_gate(c, &c->gates[i], json_array_get(gates, i), i, file, err)))
			goto done;
		mg_gate_kind k = c->gates[i].kind;
		if ((k == MG_KIND_ACCURACY) && !c->dataset_inputs && !c->dataset_ref) {
			rc = bad(err, file, "dataset", "an accuracy gate needs a dataset with labels");
			goto done;
		}
	}
done:
	json_decref(root);
	if (rc) {
		mg_config_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

int mg_config_read(mg_config **out, const char *path, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	int rc = mg_file_read(&b, path, 16u << 20, err);
	if (!rc)
		rc = mg_config_parse(out, b.data, b.len, path, err);
	mg_buf_free(&b);
	return rc;
}
