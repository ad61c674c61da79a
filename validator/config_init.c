/* `modelgate init`: a starting modelgate.json for a model, from what the
 * model declares (inputs, outputs, size) and what the user names beside it
 * (a baseline, a dataset, a target), with "//" keys explaining each
 * setting. Limits measured from the model are round numbers with room to
 * grow, so that the first retraining does not fail on a byte. The result
 * always passes mg_config_parse. */
#include "formats/model_info.h"
#include "runners/runners.h"
#include "validator.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static json_t *tensor_list(const mg_tensor_info *t, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		json_t *shape = json_array();
		for (size_t k = 0; t[i].rank != SIZE_MAX && k < t[i].rank; k++)
			json_array_append_new(shape, t[i].dims[k] >= 0 ? json_integer(t[i].dims[k])
						       : json_string(t[i].dim_names[k] ? t[i].dim_names[k] : "?"));
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "name", t[i].name, "dtype",
						     t[i].dtype, "shape", shape));
	}
	return arr;
}

/* "shapes" for the inputs of dynamic dimensions: declared sizes kept, the
 * dynamic ones 1, for the user to set to what the model really runs at;
 * NULL when every input is fixed. */
static json_t *dynamic_shapes(const mg_tensor_info *t, size_t n)
{
	json_t *shapes = json_object();
	for (size_t i = 0; shapes && i < n; i++) {
		int dynamic = 0;
		json_t *dims = json_array();
		for (size_t k = 0; t[i].rank != SIZE_MAX && k < t[i].rank; k++) {
			dynamic |= t[i].dims[k] < 0;
			json_array_append_new(dims, json_integer(t[i].dims[k] < 0 ? 1 : t[i].dims[k]));
		}
		if (dynamic)
			json_object_set_new(shapes, t[i].name, dims);
		else
			json_decref(dims);
	}
	if (shapes && !json_object_size(shapes)) {
		json_decref(shapes);
		return NULL;
	}
	return shapes;
}

uint64_t mg_round_limit(uint64_t v)
{
	uint64_t x = v + (v + 9) / 10, unit = 1;
	while (x / unit >= 100)
		unit *= 10;
	return (x + unit - 1) / unit * unit;
}

/* "dataset": a folder with x.npy (and y.npy) becomes {"inputs", "labels"},
 * another folder or a file {"inputs"}, anything else a reference. *labels:
 * whether accuracy can be scored (labels, or a reference, whose dataset
 * artifacts hold y.npy). */
static json_t *dataset_value(const char *d, int *labels)
{
	struct stat st;
	*labels = 0;
	if (stat(d, &st) < 0) {
		*labels = 1;
		return json_string(d);
	}
	if (!S_ISDIR(st.st_mode))
		return json_pack("{s:s}", "inputs", d);
	char x[4096], y[4096];
	snprintf(x, sizeof(x), "%s/x.npy", d);
	snprintf(y, sizeof(y), "%s/y.npy", d);
	if (access(x, F_OK) < 0)
		return json_pack("{s:s}", "inputs", d);
	json_t *v = json_pack("{s:s}", "inputs", x);
	if (v && access(y, F_OK) == 0) {
		json_object_set_new(v, "labels", json_string(y));
		*labels = 1;
	}
	return v;
}

static const char gates_doc[] =
	"accuracy (min, max_drop; metric top1|topk|macro_f1|mae|rmse), fidelity (max_abs, "
	"max_mean_abs, min_cosine, min_snr_db, min_top1_agreement), latency, size, memory, "
	"cost (instructions per inference, counted not timed: max_instructions, max_ratio "
	"against the baseline; steady on a loaded CI machine)";

static json_t *gates_list(const mg_model_info *info, uint64_t bytes, const mg_init_opts *o,
			  const char *target, int emulated, int labels)
{
	json_t *gates = json_array();
	if (o->dataset && o->baseline && labels)
		json_array_append_new(gates, json_pack(
			"{s:s, s:s, s:s, s:s, s:f}", "//",
			"accuracy: the candidate's score on the dataset's labels (metric top1|topk|macro_f1|"
			"mae|rmse); max_drop against the baseline, or an absolute min",
			"name", "accuracy", "kind", "accuracy", "metric", "top1", "max_drop", 0.01));
	/* a classifier (labels) is held to its decisions, anything else to its outputs */
	if (o->dataset && o->baseline)
		json_array_append_new(gates, json_pack(
			"{s:s, s:s, s:s, s:f}", "//",
			"fidelity: the candidate's outputs against the baseline's on the dataset (max_abs, "
			"max_mean_abs, min_cosine, min_snr_db, min_top1_agreement: the share of rows whose "
			"top class agrees), for quantized and pruned models",
			"name", "fidelity", "kind", "fidelity", labels ? "min_top1_agreement" : "min_cosine",
			labels ? 0.95 : 0.99));
	if (!emulated || o->baseline) {
		json_t *lat = json_pack(
			"{s:s, s:s, s:s, s:s, s:s}", "//",
			"latency: a statistic (p50|p90|p95|p99|mean) under max_ms on a target; with a baseline "
			"also max_ratio, decided by a confidence interval over interleaved blocks within "
			"max_time seconds: pass, fail, or inconclusive when the run's noise is larger than "
			"the limit (on_inconclusive warn|pass|fail); an emulated target is judged by "
			"max_ratio only",
			"name", "latency", "kind", "latency", "target", target, "metric", "p95");
		if (!emulated)
			json_object_set_new(lat, "max_ms", json_integer(100));
		if (o->baseline)
			json_object_set_new(lat, "max_ratio", json_real(1.1));
		json_object_set_new(lat, "max_time", json_integer(30));
		json_array_append_new(gates, lat);
	}
	json_t *size = json_pack(
		"{s:s, s:s, s:s, s:I}", "//",
		"size: file bytes, compressed bytes, parameters; ceilings and growth against the baseline "
		"(max_bytes, max_compressed_bytes, max_parameters, max_growth as a fraction); the "
		"ceilings proposed are today's figures plus 10%, rounded up",
		"name", "size", "kind", "size", "max_bytes", (json_int_t)mg_round_limit(bytes));
	if (size && info->parameters)
		json_object_set_new(size, "max_parameters",
				    json_integer((json_int_t)mg_round_limit(info->parameters)));
	if (size && o->baseline)
		json_object_set_new(size, "max_growth", json_real(0.1));
	json_array_append_new(gates, size);
	json_array_append_new(gates, json_pack(
		"{s:s, s:s, s:s, s:s, s:i}", "//",
		"memory: peak resident memory of the agent running the model, in MiB", "name", "memory",
		"kind", "memory", "target", target, "max_rss_mb", 512));
	return gates;
}

int mg_config_template(mg_buf *out, const char *model_path, const mg_init_opts *opts,
		       mg_error *err)
{
	mg_init_opts none = MG_INIT_OPTS_INIT;
	const mg_init_opts *o = opts ? opts : &none;
	mg_model_info *info = NULL;
	struct stat st;
	if (stat(model_path, &st) < 0 || !S_ISREG(st.st_mode))
		return mg_error_set(err, MG_EINVAL, "'%s' is not a model file", model_path);
	/* the target: NAME=SPEC, or SPEC named after its kind */
	const char *spec;
	size_t name_len;
	char name[64];
	mg_target_spec ts;
	mg_target_arg(o->target ? o->target : "local", &spec, &name_len);
	int rc = mg_target_spec_parse(&ts, spec, err);
	if (rc)
		return rc;
	if (name_len >= sizeof(name))
		return mg_error_set(err, MG_EINVAL, "target name '%.*s' is longer than %zu characters",
				    (int)name_len, o->target, sizeof(name) - 1);
	if (name_len)
		snprintf(name, sizeof(name), "%.*s", (int)name_len, o->target);
	else
		snprintf(name, sizeof(name), "%s", ts.kind == MG_TARGET_LOCAL ? "local"
						  : ts.kind == MG_TARGET_QEMU ? "emulated" : "device");
	if ((rc = mg_model_info_read(&info, model_path, err)))
		return rc;
	int labels = 0;
	json_t *root = json_object();
	if (o->schema)
		json_object_set_new(root, "$schema", json_string(o->schema));
	json_object_set_new(root, "//", json_string("modelgate gate configuration. Keys starting with // "
						    "are comments. 'modelgate check-config' shows what would run."));
	json_object_set_new(root, "model", json_string(model_path));
	json_object_set_new(root, "// baseline", json_string(
		"the version to compare with: a file, a store reference (digits:production) or a "
		"registry reference; needed for max_drop, max_ratio, max_growth and fidelity gates"));
	if (o->baseline)
		json_object_set_new(root, "baseline", json_string(o->baseline));
	json_object_set_new(root, "// dataset", json_string(
		"{\"inputs\": \"x.npy or a folder of input_N.pb\", \"labels\": \"y.npy\"}, or a dataset "
		"reference: needed for accuracy and fidelity gates"));
	if (o->dataset)
		json_object_set_new(root, "dataset", dataset_value(o->dataset, &labels));
	json_object_set_new(root, "// inputs", tensor_list(info->inputs, info->ninputs));
	json_object_set_new(root, "// outputs", tensor_list(info->outputs, info->noutputs));
	json_t *shapes = o->dataset ? NULL : dynamic_shapes(info->inputs, info->ninputs);
	if (shapes) { /* after the tensors they size */
		json_object_set_new(root, "// shapes", json_string(
			"sizes for the inputs' dynamic dimensions, used without a dataset by latency "
			"and memory: set to 1 here, set them to what the model really runs at"));
		json_object_set_new(root, "shapes", shapes);
	}
	json_object_set_new(root, "// targets", json_string(
		"where latency and memory are measured: \"local\", \"qemu-aarch64\", "
		"\"ssh://user@host[:port]\" or \"exec:COMMAND PREFIX\""));
	json_object_set_new(root, "targets", json_pack("{s:s}", name, spec));
	json_object_set_new(root, "// gates", json_string(gates_doc));
	json_object_set_new(root, "gates", gates_list(info, (uint64_t)st.st_size, o, name,
						      ts.kind == MG_TARGET_QEMU, labels));
	mg_model_info_free(info);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(12));
	json_decref(root);
	if (!text)
		return mg_error_set(err, MG_ENOMEM, "cannot write the configuration");
	rc = mg_buf_puts(out, text, err);
	if (!rc)
		rc = mg_buf_puts(out, "\n", err);
	free(text);
	return rc;
}
