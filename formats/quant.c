/* Quantize and dequantize by a tensor's quantization parameters
 * (quant.h): the one place that maps a quantized model's integers to reals
 * and back, so inputs, outputs and gates agree on the arithmetic. */
#include "formats/quant.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int mg_quant_applies(mg_dtype dtype, const mg_quant_info *q)
{
	return q && q->n > 0 &&
	       (dtype == MG_DT_INT8 || dtype == MG_DT_UINT8 || dtype == MG_DT_INT32);
}

/* Checks q against t; *stride and *channels say how element i finds its
 * channel: (i / stride) % channels (channels 1: per tensor). */
static int layout_of(const mg_tensor *t, const mg_quant_info *q, size_t *stride, size_t *channels,
		     mg_error *err)
{
	for (size_t k = 0; k < q->n; k++)
		if (!(q->scales[k] > 0) || !isfinite(q->scales[k]))
			return mg_error_set(err, MG_EINVAL, "tensor '%s': quantization scale %g is not a "
					    "positive number", t->name, (double)q->scales[k]);
	*stride = 1;
	*channels = 1;
	if (q->n == 1)
		return 0;
	if (q->dimension < 0 || (size_t)q->dimension >= t->rank || t->dims[q->dimension] != (int64_t)q->n)
		return mg_error_set(err, MG_EINVAL, "tensor '%s': %zu quantization scales along dimension "
				    "%d, and the tensor has %lld there", t->name, q->n, (int)q->dimension,
				    q->dimension >= 0 && (size_t)q->dimension < t->rank
					    ? (long long)t->dims[q->dimension] : 0LL);
	for (size_t k = (size_t)q->dimension + 1; k < t->rank; k++)
		*stride *= (size_t)t->dims[k];
	*channels = q->n;
	return 0;
}

int mg_quantize(mg_tensor **out, const mg_tensor *t, mg_dtype dtype, const mg_quant_info *q,
		mg_error *err)
{
	if (t->dtype != MG_DT_FLOAT32 || (dtype != MG_DT_INT8 && dtype != MG_DT_UINT8) || !q->n)
		return mg_error_set(err, MG_EINVAL, "tensor '%s': cannot quantize %s to %s", t->name,
				    mg_dtype_name(t->dtype), mg_dtype_name(dtype));
	size_t stride, channels;
	int rc = layout_of(t, q, &stride, &channels, err);
	if (rc || (rc = mg_tensor_new(out, t->name, dtype, t->dims, t->rank, err)))
		return rc;
	const float lo = dtype == MG_DT_INT8 ? -128.0f : 0.0f, hi = dtype == MG_DT_INT8 ? 127.0f : 255.0f;
	size_t n = mg_tensor_count(t);
	unsigned char *p = (*out)->data;
	for (size_t i = 0; i < n; i++) {
		size_t ch = (i / stride) % channels;
		float x;
		memcpy(&x, (const unsigned char *)t->data + 4 * i, 4);
		float r = roundf(x / q->scales[ch]); /* halves away from zero */
		double v = (isnan(r) ? 0.0 : (double)r) + (double)q->zero_points[ch];
		v = v < lo ? lo : v > hi ? hi : v;
		if (dtype == MG_DT_INT8) {
			int8_t s = (int8_t)v;
			memcpy(p + i, &s, 1);
		} else {
			p[i] = (unsigned char)v;
		}
	}
	return 0;
}

int mg_dequantize(mg_tensor **out, const mg_tensor *t, const mg_quant_info *q, mg_error *err)
{
	if (!mg_quant_applies(t->dtype, q))
		return mg_error_set(err, MG_EINVAL, "tensor '%s': cannot dequantize %s", t->name,
				    mg_dtype_name(t->dtype));
	size_t stride, channels;
	int rc = layout_of(t, q, &stride, &channels, err);
	if (rc || (rc = mg_tensor_new(out, t->name, MG_DT_FLOAT32, t->dims, t->rank, err)))
		return rc;
	size_t n = mg_tensor_count(t);
	float *o = (*out)->data;
	for (size_t i = 0; i < n; i++) {
		size_t ch = (i / stride) % channels;
		double v = (double)q->scales[ch] * (mg_tensor_get(t, i) - (double)q->zero_points[ch]);
		o[i] = (float)v;
	}
	return 0;
}
