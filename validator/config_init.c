/* `modelgate init`: a starting modelgate.json for a model, from what the
 * model declares (inputs, outputs, size), with "//" keys explaining each
 * setting. The result always passes mg_config_parse. */
#include "formats/model_info.h"
#include "validator.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

int mg_config_template(mg_buf *out, const char *model_path, mg_error *err)
{
	mg_model_info *info = NULL;
	struct stat st;
	if (stat(model_path, &st) < 0 || !S_ISREG(st.st_mode))
		return mg_error_set(err, MG_EINVAL, "'%s' is not a model file", model_path);
	int rc = mg_model_info_read(&info, model_path, err);
	if (rc)
		return rc;
	/* room to grow: 10% over today's size, rounded up to a KiB */
	double max_bytes = ceil((double)st.st_size * 1.1 / 1024) * 1024;
	json_t *size_gate = json_pack(
		"{s:s, s:s, s:s, s:f}", "//",
		"size: file bytes, compressed bytes, parameters; ceilings and growth against the baseline "
		"(max_bytes, max_compressed_bytes, max_parameters, max_growth as a fraction)",
		"name", "size", "kind", "size", "max_bytes", max_bytes);
	if (size_gate && info->parameters)
		json_object_set_new(size_gate, "max_parameters", json_integer((json_int_t)info->parameters));
	json_t *root = json_pack(
		"{s:s, s:s, s:s, s:s, s:o, s:o, s:s, s:{s:s}, s:s, s:[o, {s:s, s:s, s:s, s:s, s:s, s:f, s:f, s:f}, {s:s, s:s, s:s, s:s, s:f}]}",
		"//", "modelgate gate configuration. Keys starting with // are comments.",
		"model", model_path,
		"// baseline", "the version to compare with: a file, a store reference (digits:production) or a "
			       "registry reference; needed for max_drop, max_ratio, max_growth and fidelity gates",
		"// dataset", "{\"inputs\": \"x.npy or a folder of input_N.pb\", \"labels\": \"y.npy\"}: needed for accuracy gates",
		"// inputs", tensor_list(info->inputs, info->ninputs),
		"// outputs", tensor_list(info->outputs, info->noutputs),
		"// targets", "where latency and memory are measured: \"local\", \"qemu-aarch64\", "
			      "\"ssh://user@host[:port]\" or \"exec:COMMAND PREFIX\"",
		"targets", "local", "local",
		"// gates", "accuracy (min, max_drop; metric top1|topk|macro_f1|mae|rmse), fidelity (max_abs, "
			    "max_mean_abs, min_cosine, min_snr_db, min_top1_agreement), latency, size, memory, "
			    "cost (instructions per inference, counted not timed: max_instructions, max_ratio "
			    "against the baseline; steady on a loaded CI machine)",
		"gates", size_gate,
		"//", "latency: a statistic (p50|p90|p95|p99|mean) under max_ms on a target; with a baseline "
		      "also max_ratio, decided by a confidence interval over interleaved blocks within max_time "
		      "seconds: pass, fail, or inconclusive when the run's noise is larger than the limit "
		      "(on_inconclusive warn|pass|fail)",
		"name", "latency", "kind", "latency", "target", "local", "metric", "p95",
		"max_ms", 100.0, "max_time", 30.0, "alpha", 0.01,
		"//", "memory: peak resident memory of the agent running the model, in MiB",
		"name", "memory", "kind", "memory", "target", "local", "max_rss_mb", 512.0);
	json_t *shapes = dynamic_shapes(info->inputs, info->ninputs);
	if (root && shapes) { /* before "targets", after the tensors they size */
		json_t *ordered = json_object();
		const char *key;
		json_t *v;
		json_object_foreach(root, key, v) {
			if (!strcmp(key, "// targets")) {
				json_object_set_new(ordered, "// shapes", json_string(
					"sizes for the inputs' dynamic dimensions, used without a dataset by latency "
					"and memory: set to 1 here, set them to what the model really runs at"));
				json_object_set(ordered, "shapes", shapes);
			}
			json_object_set(ordered, key, v);
		}
		json_decref(root);
		root = ordered;
	}
	json_decref(shapes);
	mg_model_info_free(info);
	char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (!text)
		return mg_error_set(err, MG_ENOMEM, "cannot write the configuration");
	rc = mg_buf_puts(out, text, err);
	if (!rc)
		rc = mg_buf_puts(out, "\n", err);
	free(text);
	return rc;
}
