/* tflite: what modelgate knows about TensorFlow Lite models beyond what
 * model_info.h reports: the names of builtin operators, which operators
 * Arm NN 20.08's TfLiteParser can run (the one engine modelgate has for
 * .tflite files), and the fp16 weight fold that engine needs.
 *
 * The fold is libc-only (with formats/flatbuf.c and util/error.c) so that
 * the agent, which must stay libc+libdl, can link it. */
#ifndef MG_TFLITE_H
#define MG_TFLITE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/model_info.h"
#include "util/util.h"

/* The schema's name of builtin operator code ("CONV_2D"), or NULL for a
 * code this table does not know. */
const char *mg_tflite_op_name(int32_t code);

/* 1 when Arm NN 20.08's TfLiteParser has a parser for op (a builtin by
 * name, a custom one by custom_code). */
int mg_armnn_op_supported(const mg_op_count *op);
/* What in info Arm NN 20.08 cannot run, appended to out as
 * "PRELU x2, GATHER x1, 2 subgraphs"; nothing is appended when it can run
 * all of it. Returns how many operators or subgraph problems were found,
 * or a negative MG_E* code. */
int mg_armnn_unsupported(const mg_model_info *info, mg_buf *out, mg_error *err);

/* Folds fp16 weights: every DEQUANTIZE whose input is a constant FLOAT16
 * tensor is removed; that tensor becomes a FLOAT32 constant holding the
 * converted values (exactly: every half is a float) and the DEQUANTIZE's
 * consumers read it instead of the DEQUANTIZE's output. Arm NN 20.08 runs
 * MediaPipe's models only so folded.
 *
 * data (aligned to 8, len bytes) is not changed. When there is nothing to
 * fold, *out is NULL and *nfolded 0 (no copy is made); else *out is a new
 * malloc'ed model of *out_len bytes and *nfolded the DEQUANTIZEs removed.
 * A model that does not parse, or a constant fp16 DEQUANTIZE that cannot be
 * folded soundly (its tensor or buffer shared), is MG_EINVAL naming the
 * input (name) and the tensor. */
int mg_tflite_fold_fp16(uint8_t **out, size_t *out_len, size_t *nfolded, const void *data, size_t len,
			const char *name, mg_error *err);

/* The float an IEEE 754 binary16 value stands for (subnormals, infinities
 * and NaNs included; a NaN keeps its sign and payload bits). */
float mg_half_to_float(uint16_t h);

#endif
