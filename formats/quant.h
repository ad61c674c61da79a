/* formats/quant: the integers of a quantized tensor and the reals they
 * stand for, real = scale * (q - zero_point), with a model's mg_quant_info
 * (model_info.h): per tensor (one scale) or per channel (one scale per
 * index along the quantized dimension). One pair of functions for every
 * command: inputs given as float32 for an int8/uint8 input are quantized,
 * quantized outputs are dequantized where a score needs reals.
 *
 * Quantizing rounds as TFLite's reference QUANTIZE kernel does (and Arm
 * NN's Quantize): q = round(x / scale) + zero_point with x / scale in
 * float32 and round() taking halves away from zero (2.5 -> 3, -2.5 -> -3;
 * not NumPy's np.round, which takes them to even), then clamps to the
 * type's range. Dequantizing computes scale * (q - zero_point) in double
 * and rounds once to float32, as the reference DEQUANTIZE does. */
#ifndef MG_QUANT_H
#define MG_QUANT_H

#include "formats/model_info.h"
#include "formats/tensor.h"

/* Whether a tensor of dtype with q is quantized integers: q has scales and
 * dtype is int8, uint8 or int32. */
int mg_quant_applies(mg_dtype dtype, const mg_quant_info *q);

/* The float32 tensor t quantized to dtype (int8 or uint8) by q, as a new
 * tensor of t's name and shape. A per-channel q whose scale count is not
 * the size of t's quantized dimension, or a scale that is not a positive
 * finite number, is MG_EINVAL naming t. NaN becomes zero_point. */
int mg_quantize(mg_tensor **out, const mg_tensor *t, mg_dtype dtype, const mg_quant_info *q,
		mg_error *err);
/* The int8, uint8 or int32 tensor t dequantized by q, as a new float32
 * tensor of t's name and shape; errors as mg_quantize. */
int mg_dequantize(mg_tensor **out, const mg_tensor *t, const mg_quant_info *q, mg_error *err);

#endif
