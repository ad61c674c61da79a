/* model_info: what a model file declares about itself, read without an
 * inference engine: its format, its inputs and outputs (name, element type,
 * shape, quantization) and its parameter count; for TFLite also its
 * operators, subgraphs and weight bytes. Used for the artifact config blob,
 * for random inputs, for the size gate and for inspect.
 *
 * ONNX models are parsed from the protobuf wire format directly (ModelProto
 * -> GraphProto -> input/output ValueInfoProto, initializer TensorProto);
 * TFLite models (the "TFL3" identifier at bytes 4..7, whatever the file is
 * called) from their flatbuffer (formats/tflite.c); other formats report
 * format "unknown" and no tensors. */
#ifndef MG_MODEL_INFO_H
#define MG_MODEL_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

/* How a quantized tensor's integers map to reals: real = scale * (q - zero).
 * One entry per tensor, or one per channel along dimension. */
typedef struct mg_quant_info {
	size_t n;             /* 0: not quantized */
	float *scales;        /* n entries */
	int64_t *zero_points; /* n entries (0 where the file gives fewer) */
	int32_t dimension;    /* quantized_dimension, for n > 1 */
} mg_quant_info;

/* An operator type and how many times the model uses it. */
typedef struct mg_op_count {
	char *name;     /* "CONV_2D"; a custom operator's custom_code */
	int custom;     /* 1 for a custom operator */
	uint64_t count;
} mg_op_count;

typedef struct mg_tensor_info {
	char *name;
	char *dtype;      /* ONNX element type in lower case: "float32", "int64",
			     "uint8", "float16", "bool", "string", ...; "unknown" */
	size_t rank;      /* SIZE_MAX when the shape is not declared */
	int64_t *dims;    /* rank entries; -1 for a dynamic dimension */
	char **dim_names; /* rank entries; the dim_param of a dynamic one, else NULL */
	mg_quant_info quant; /* TFLite only */
} mg_tensor_info;

typedef struct mg_model_info {
	char *format;          /* "onnx", "tflite" or "unknown" */
	char *producer;        /* producer_name, or NULL */
	int64_t ir_version;    /* 0 when unknown */
	int64_t opset;         /* default-domain opset, 0 when unknown */
	mg_tensor_info *inputs; /* graph inputs that are not initializers */
	size_t ninputs;
	mg_tensor_info *outputs;
	size_t noutputs;
	uint64_t parameters;   /* elements over all initializers (constant tensors) */
	/* TFLite (0 and NULL for ONNX): */
	mg_op_count *ops;      /* by name, in order of first use */
	size_t nops;
	size_t subgraphs;
	uint64_t weight_bytes; /* bytes of the constant buffers */
} mg_model_info;

/* Reads the model at path (bounded memory: maps the file, does not touch
 * tensor payloads). A file with the TFLite identifier is read as TFLite; a
 * .tflite file without it is MG_EINVAL. Else a file that is not ONNX by
 * extension gives format "unknown" and returns 0; a .onnx file that does not
 * parse is MG_EINVAL with a message naming the file and what was wrong. */
int mg_model_info_read(mg_model_info **out, const char *path, mg_error *err);
/* ONNX from bytes in memory (for tests and fuzzing); name is for messages. */
int mg_model_info_parse(mg_model_info **out, const void *data, size_t len,
			const char *name, mg_error *err);
/* TFLite from bytes in memory, aligned to 8 (formats/tflite.c). */
int mg_tflite_info_parse(mg_model_info **out, const void *data, size_t len,
			 const char *name, mg_error *err);
/* Whether data starts as a TFLite flatbuffer does ("TFL3" at bytes 4..7). */
int mg_is_tflite(const void *data, size_t len);
void mg_model_info_free(mg_model_info *info);

/* info as one JSON object appended to out (formats/model_info_json.c). */
int mg_model_info_json(mg_buf *out, const mg_model_info *info, mg_error *err);

#endif
