/* model_info_json: what a model declares (mg_model_info) as JSON, in one
 * shape for the artifact config blob and for `modelgate inspect FILE`:
 * {"format", "inputs", "outputs", "parameters"} always, "opset" when known,
 * and for TFLite "subgraphs", "weight_bytes" and "ops"; a quantized
 * tensor carries "quantization" {"scales", "zero_points", "dimension"}. An
 * ONNX model's JSON is what the config held before TFLite came. */
#include "formats/model_info.h"

#include <jansson.h>
#include <stdlib.h>

static json_t *quant_json(const mg_quant_info *q)
{
	json_t *scales = json_array(), *zeros = json_array();
	for (size_t i = 0; scales && zeros && i < q->n; i++) {
		json_array_append_new(scales, json_real(q->scales[i]));
		json_array_append_new(zeros, json_integer((json_int_t)q->zero_points[i]));
	}
	return json_pack("{s:o*, s:o*, s:i}", "scales", scales, "zero_points", zeros, "dimension",
			 (int)q->dimension);
}

static json_t *tensors_json(const mg_tensor_info *t, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < n; i++) {
		json_t *shape = NULL;
		if (t[i].rank != SIZE_MAX) {
			shape = json_array();
			for (size_t k = 0; shape && k < t[i].rank; k++)
				json_array_append_new(shape, t[i].dims[k] >= 0
					? json_integer(t[i].dims[k])
					: json_string(t[i].dim_names[k] ? t[i].dim_names[k] : "?"));
		}
		json_t *o = json_pack("{s:s, s:s, s:o*}", "name", t[i].name, "dtype", t[i].dtype, "shape", shape);
		if (o && t[i].quant.n)
			json_object_set_new(o, "quantization", quant_json(&t[i].quant));
		json_array_append_new(arr, o);
	}
	return arr;
}

static json_t *ops_json(const mg_model_info *info)
{
	json_t *arr = json_array();
	for (size_t i = 0; arr && i < info->nops; i++) {
		json_t *o = json_pack("{s:s, s:I}", "name", info->ops[i].name, "count",
				      (json_int_t)info->ops[i].count);
		if (o && info->ops[i].custom)
			json_object_set_new(o, "custom", json_true());
		json_array_append_new(arr, o);
	}
	return arr;
}

int mg_model_info_json(mg_buf *out, const mg_model_info *info, mg_error *err)
{
	json_t *j = json_pack("{s:s, s:o, s:o, s:I}", "format", info->format, "inputs",
			      tensors_json(info->inputs, info->ninputs), "outputs",
			      tensors_json(info->outputs, info->noutputs), "parameters",
			      (json_int_t)info->parameters);
	if (j && info->opset)
		json_object_set_new(j, "opset", json_integer(info->opset));
	if (j && info->subgraphs) {
		json_object_set_new(j, "subgraphs", json_integer((json_int_t)info->subgraphs));
		json_object_set_new(j, "weight_bytes", json_integer((json_int_t)info->weight_bytes));
		json_object_set_new(j, "ops", ops_json(info));
	}
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (!s)
		return mg_error_set(err, MG_ENOMEM, "cannot write what '%s' declares as JSON", info->format);
	int rc = mg_buf_puts(out, s, err);
	free(s);
	return rc;
}
