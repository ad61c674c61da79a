/* model_info: what a model file declares about itself, read without an
 * inference engine: its format, its inputs and outputs (name, element type,
 * shape) and its parameter count. Used for the artifact config blob, for
 * random inputs, and for the size gate.
 *
 * ONNX models are parsed from the protobuf wire format directly (ModelProto
 * -> GraphProto -> input/output ValueInfoProto, initializer TensorProto);
 * other formats report format "unknown" and no tensors. */
#ifndef MG_MODEL_INFO_H
#define MG_MODEL_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct mg_tensor_info {
	char *name;
	char *dtype;      /* ONNX element type in lower case: "float32", "int64",
			     "uint8", "float16", "bool", "string", ...; "unknown" */
	size_t rank;      /* SIZE_MAX when the shape is not declared */
	int64_t *dims;    /* rank entries; -1 for a dynamic dimension */
	char **dim_names; /* rank entries; the dim_param of a dynamic one, else NULL */
} mg_tensor_info;

typedef struct mg_model_info {
	char *format;          /* "onnx" or "unknown" */
	char *producer;        /* producer_name, or NULL */
	int64_t ir_version;    /* 0 when unknown */
	int64_t opset;         /* default-domain opset, 0 when unknown */
	mg_tensor_info *inputs; /* graph inputs that are not initializers */
	size_t ninputs;
	mg_tensor_info *outputs;
	size_t noutputs;
	uint64_t parameters;   /* elements over all initializers */
} mg_model_info;

/* Reads the model at path (bounded memory: streams the file, does not
 * load tensor payloads). A file that is not ONNX by extension gives format
 * "unknown" and returns 0; a .onnx file that does not parse is MG_EINVAL with
 * a message naming the file and what was wrong. */
int mg_model_info_read(mg_model_info **out, const char *path, mg_error *err);
/* Same, from bytes in memory (for tests and fuzzing); name is for messages. */
int mg_model_info_parse(mg_model_info **out, const void *data, size_t len,
			const char *name, mg_error *err);
void mg_model_info_free(mg_model_info *info);

#endif
