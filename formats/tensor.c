/* tensor: element types, shapes, and the mg_tensor container shared by the
 * host (files, comparison) and the agent (protocol, engine). libc only, so
 * it links into the agent. The file formats are in tensor_npy.c and
 * tensor_pb.c. */
#include "formats/tensor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	size_t size;
} dtypes[MG_DT_COUNT] = {
	[MG_DT_UNDEFINED] = {"unknown", 0}, [MG_DT_FLOAT32] = {"float32", 4},
	[MG_DT_UINT8] = {"uint8", 1},       [MG_DT_INT8] = {"int8", 1},
	[MG_DT_UINT16] = {"uint16", 2},     [MG_DT_INT16] = {"int16", 2},
	[MG_DT_INT32] = {"int32", 4},       [MG_DT_INT64] = {"int64", 8},
	[MG_DT_STRING] = {"string", 0},     [MG_DT_BOOL] = {"bool", 1},
	[MG_DT_FLOAT16] = {"float16", 2},   [MG_DT_FLOAT64] = {"float64", 8},
	[MG_DT_UINT32] = {"uint32", 4},     [MG_DT_UINT64] = {"uint64", 8},
	[MG_DT_COMPLEX64] = {"complex64", 8}, [MG_DT_COMPLEX128] = {"complex128", 16},
	[MG_DT_BFLOAT16] = {"bfloat16", 2},
};

size_t mg_dtype_size(mg_dtype t)
{
	return (unsigned)t < MG_DT_COUNT ? dtypes[t].size : 0;
}

const char *mg_dtype_name(mg_dtype t)
{
	return (unsigned)t < MG_DT_COUNT ? dtypes[t].name : "unknown";
}

mg_dtype mg_dtype_from_name(const char *name)
{
	for (int i = 1; i < MG_DT_COUNT; i++)
		if (!strcmp(dtypes[i].name, name))
			return (mg_dtype)i;
	return MG_DT_UNDEFINED;
}

int64_t mg_shape_count(const int64_t *dims, size_t rank, size_t elem)
{
	if (rank > MG_TENSOR_MAX_RANK || elem == 0)
		return -1;
	uint64_t n = 1, max = MG_TENSOR_MAX_BYTES / elem;
	for (size_t i = 0; i < rank; i++) {
		if (dims[i] < 0)
			return -1;
		if (dims[i] == 0) {
			n = 0;
			continue;
		}
		if (n > max / (uint64_t)dims[i] && n != 0)
			return -1;
		n *= (uint64_t)dims[i];
	}
	return n <= max ? (int64_t)n : -1;
}

int mg_tensor_new(mg_tensor **out, const char *name, mg_dtype dtype, const int64_t *dims,
		  size_t rank, mg_error *err)
{
	*out = NULL;
	size_t elem = mg_dtype_size(dtype);
	if (!elem)
		return mg_error_set(err, MG_EINVAL, "tensor '%s': element type %s is not supported",
				    name ? name : "", mg_dtype_name(dtype));
	int64_t count = mg_shape_count(dims, rank, elem);
	if (count < 0)
		return mg_error_set(err, MG_EINVAL,
				    "tensor '%s': invalid shape (rank %zu, negative or over %zu bytes)",
				    name ? name : "", rank, MG_TENSOR_MAX_BYTES);
	mg_tensor *t = calloc(1, sizeof(*t));
	if (!t)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	t->dtype = dtype;
	t->rank = rank;
	if (rank)
		memcpy(t->dims, dims, rank * sizeof(*dims));
	t->nbytes = (size_t)count * elem;
	/* at least one byte so that data is never NULL, even for 0 elements */
	t->data = calloc(1, t->nbytes ? t->nbytes : 1);
	t->name = strdup(name ? name : "");
	if (!t->data || !t->name) {
		mg_tensor_free(t);
		return mg_error_set(err, MG_ENOMEM, "out of memory for a tensor of %zu bytes",
				    (size_t)count * elem);
	}
	*out = t;
	return 0;
}

void mg_tensor_free(mg_tensor *t)
{
	if (!t)
		return;
	free(t->name);
	free(t->data);
	free(t);
}

void mg_tensors_free(mg_tensor **ts, size_t n)
{
	if (!ts)
		return;
	for (size_t i = 0; i < n; i++)
		mg_tensor_free(ts[i]);
	free(ts);
}

int mg_tensor_set_name(mg_tensor *t, const char *name, mg_error *err)
{
	char *s = strdup(name);
	if (!s)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	free(t->name);
	t->name = s;
	return 0;
}

size_t mg_tensor_count(const mg_tensor *t)
{
	size_t e = mg_dtype_size(t->dtype);
	return e ? t->nbytes / e : 0;
}

static double half_to_double(uint16_t h)
{
	int exp = (h >> 10) & 0x1f;
	int mant = h & 0x3ff;
	double v;
	if (exp == 0)
		v = mant / 16777216.0; /* 2^-24 */
	else if (exp == 31)
		v = mant ? NAN : INFINITY;
	else
		v = (1.0 + mant / 1024.0) * ((exp >= 15) ? (double)(1u << (exp - 15))
							 : 1.0 / (double)(1u << (15 - exp)));
	return (h & 0x8000) ? -v : v;
}

double mg_tensor_get(const mg_tensor *t, size_t i)
{
	const unsigned char *p = (const unsigned char *)t->data + i * mg_dtype_size(t->dtype);
	union {
		float f;
		double d;
		uint8_t u8;
		int8_t i8;
		uint16_t u16;
		int16_t i16;
		int32_t i32;
		int64_t i64;
		uint32_t u32;
		uint64_t u64;
	} v;
	memcpy(&v, p, mg_dtype_size(t->dtype) > 8 ? 8 : mg_dtype_size(t->dtype));
	switch (t->dtype) {
	case MG_DT_FLOAT32:
	case MG_DT_COMPLEX64:
		return v.f;
	case MG_DT_FLOAT64:
	case MG_DT_COMPLEX128:
		return v.d;
	case MG_DT_UINT8:
		return v.u8;
	case MG_DT_BOOL:
		return v.u8 != 0;
	case MG_DT_INT8:
		return v.i8;
	case MG_DT_UINT16:
		return v.u16;
	case MG_DT_INT16:
		return v.i16;
	case MG_DT_INT32:
		return v.i32;
	case MG_DT_INT64:
		return (double)v.i64;
	case MG_DT_UINT32:
		return v.u32;
	case MG_DT_UINT64:
		return (double)v.u64;
	case MG_DT_FLOAT16:
		return half_to_double(v.u16);
	case MG_DT_BFLOAT16: {
		uint32_t bits = (uint32_t)v.u16 << 16;
		float f;
		memcpy(&f, &bits, 4);
		return f;
	}
	default:
		return NAN;
	}
}

static int castable(mg_dtype t)
{
	return t == MG_DT_FLOAT32 || t == MG_DT_FLOAT64 || t == MG_DT_INT8 || t == MG_DT_UINT8 ||
	       t == MG_DT_INT16 || t == MG_DT_UINT16 || t == MG_DT_INT32 || t == MG_DT_UINT32 ||
	       t == MG_DT_INT64 || t == MG_DT_UINT64;
}

/* Stores v at element i of t (a castable type); an integer out of range
 * or fractional stores something else, which reading back shows. */
static void put(mg_tensor *t, size_t i, double v)
{
	unsigned char *p = (unsigned char *)t->data + i * mg_dtype_size(t->dtype);
	double lo = 0, hi = 0;
	switch (t->dtype) {
	case MG_DT_INT8: lo = INT8_MIN, hi = INT8_MAX; break;
	case MG_DT_UINT8: hi = UINT8_MAX; break;
	case MG_DT_INT16: lo = INT16_MIN, hi = INT16_MAX; break;
	case MG_DT_UINT16: hi = UINT16_MAX; break;
	case MG_DT_INT32: lo = INT32_MIN, hi = INT32_MAX; break;
	case MG_DT_UINT32: hi = UINT32_MAX; break;
	case MG_DT_INT64: lo = -9223372036854775808.0, hi = 9223372036854774784.0; break;
	case MG_DT_UINT64: hi = 18446744073709549568.0; break;
	default: break;
	}
	if (t->dtype != MG_DT_FLOAT32 && t->dtype != MG_DT_FLOAT64)
		v = isnan(v) ? 0 : v < lo ? lo : v > hi ? hi : v;
	union {
		float f;
		double d;
		int8_t i8;
		uint8_t u8;
		int16_t i16;
		uint16_t u16;
		int32_t i32;
		uint32_t u32;
		int64_t i64;
		uint64_t u64;
	} u;
	switch (t->dtype) {
	case MG_DT_FLOAT32: u.f = (float)v; break;
	case MG_DT_FLOAT64: u.d = v; break;
	case MG_DT_INT8: u.i8 = (int8_t)v; break;
	case MG_DT_UINT8: u.u8 = (uint8_t)v; break;
	case MG_DT_INT16: u.i16 = (int16_t)v; break;
	case MG_DT_UINT16: u.u16 = (uint16_t)v; break;
	case MG_DT_INT32: u.i32 = (int32_t)v; break;
	case MG_DT_UINT32: u.u32 = (uint32_t)v; break;
	case MG_DT_INT64: u.i64 = (int64_t)v; break;
	case MG_DT_UINT64: u.u64 = (uint64_t)v; break;
	default: return;
	}
	memcpy(p, &u, mg_dtype_size(t->dtype));
}

int mg_tensor_cast(mg_tensor **out, const mg_tensor *t, mg_dtype dtype, size_t *inexact,
		   mg_error *err)
{
	if (!castable(t->dtype) || !castable(dtype))
		return mg_error_set(err, MG_EINVAL, "tensor '%s': no conversion from %s to %s", t->name,
				    mg_dtype_name(t->dtype), mg_dtype_name(dtype));
	int rc = mg_tensor_new(out, t->name, dtype, t->dims, t->rank, err);
	size_t n = mg_tensor_count(t), first = SIZE_MAX;
	for (size_t i = 0; !rc && i < n; i++) {
		double v = mg_tensor_get(t, i);
		put(*out, i, v);
		double back = mg_tensor_get(*out, i);
		if (first == SIZE_MAX && back != v && !(isnan(v) && isnan(back)))
			first = i;
	}
	if (inexact)
		*inexact = first;
	return rc;
}

int mg_tensor_permute(mg_tensor **out, const mg_tensor *t, const size_t *perm, mg_error *err)
{
	int64_t dims[MG_TENSOR_MAX_RANK];
	size_t src_stride[MG_TENSOR_MAX_RANK], seen = 0, elem = mg_dtype_size(t->dtype);
	for (size_t k = 0; k < t->rank; k++) {
		if (perm[k] >= t->rank || (seen & ((size_t)1 << perm[k])))
			return mg_error_set(err, MG_EINVAL, "tensor '%s': not a permutation of its %zu "
					    "dimensions", t->name, t->rank);
		seen |= (size_t)1 << perm[k];
		dims[k] = t->dims[perm[k]];
	}
	for (size_t k = t->rank, s = 1; k-- > 0;) { /* t's strides, in elements */
		size_t d = 0;
		while (perm[d] != k)
			d++;
		src_stride[d] = s;
		s *= (size_t)t->dims[k];
	}
	int rc = mg_tensor_new(out, t->name, t->dtype, dims, t->rank, err);
	if (rc)
		return rc;
	size_t n = mg_tensor_count(t), idx[MG_TENSOR_MAX_RANK] = {0}, src = 0;
	unsigned char *o = (*out)->data;
	for (size_t i = 0; i < n; i++) { /* out in C order, src following */
		memcpy(o + i * elem, (const unsigned char *)t->data + src * elem, elem);
		for (size_t k = t->rank; k-- > 0;) {
			src += src_stride[k];
			if (++idx[k] < (size_t)dims[k])
				break;
			src -= src_stride[k] * (size_t)dims[k];
			idx[k] = 0;
		}
	}
	return 0;
}

int mg_tensor_rows(mg_tensor **out, const mg_tensor *t, size_t first, size_t n, mg_error *err)
{
	if (!t->rank || first > (size_t)t->dims[0] || n > (size_t)t->dims[0] - first)
		return mg_error_set(err, MG_EINVAL, "tensor '%s': no rows %zu..%zu", t->name, first, first + n);
	int64_t dims[MG_TENSOR_MAX_RANK];
	memcpy(dims, t->dims, sizeof(dims));
	dims[0] = (int64_t)n;
	int rc = mg_tensor_new(out, t->name, t->dtype, dims, t->rank, err);
	size_t row = t->dims[0] ? t->nbytes / (size_t)t->dims[0] : 0;
	if (!rc && n)
		memcpy((*out)->data, (const unsigned char *)t->data + first * row, n * row);
	return rc;
}

int mg_tensor_concat_rows(mg_tensor **out, mg_tensor *const *parts, size_t n, mg_error *err)
{
	if (!n || !parts[0]->rank)
		return mg_error_set(err, MG_EINVAL, "nothing to join along a first dimension");
	int64_t dims[MG_TENSOR_MAX_RANK];
	memcpy(dims, parts[0]->dims, sizeof(dims));
	dims[0] = 0;
	for (size_t i = 0; i < n; i++) {
		const mg_tensor *p = parts[i];
		if (p->dtype != parts[0]->dtype || p->rank != parts[0]->rank ||
		    memcmp(p->dims + 1, parts[0]->dims + 1, (p->rank - 1) * sizeof(p->dims[0])))
			return mg_error_set(err, MG_EINVAL, "tensor '%s': part %zu differs in type or shape "
					    "from the first", parts[0]->name, i);
		dims[0] += p->dims[0];
	}
	int rc = mg_tensor_new(out, parts[0]->name, parts[0]->dtype, dims, parts[0]->rank, err);
	size_t at = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		memcpy((unsigned char *)(*out)->data + at, parts[i]->data, parts[i]->nbytes);
		at += parts[i]->nbytes;
	}
	return rc;
}

void mg_shape_format(char *out, size_t outlen, const int64_t *dims, size_t rank)
{
	size_t n = 0;
	int w = snprintf(out, outlen, "[");
	n = w > 0 ? (size_t)w : 0;
	for (size_t i = 0; i < rank && n < outlen; i++) {
		w = snprintf(out + n, outlen - n, "%s%lld", i ? "," : "", (long long)dims[i]);
		n += w > 0 ? (size_t)w : 0;
	}
	if (n < outlen)
		snprintf(out + n, outlen - n, "]");
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s ? *s : 0x9e3779b97f4a7c15u;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

int mg_tensor_random(mg_tensor **out, const char *name, mg_dtype dtype, const int64_t *dims,
		     size_t rank, int quantized, uint64_t *seed, mg_error *err)
{
	int rc = mg_tensor_new(out, name, dtype, dims, rank, err);
	if (rc)
		return rc;
	mg_tensor *t = *out;
	size_t n = mg_tensor_count(t), elem = mg_dtype_size(dtype);
	unsigned char *p = t->data;
	for (size_t i = 0; i < n; i++, p += elem) {
		uint64_t r = xorshift(seed);
		double u = (double)(r >> 11) / 9007199254740992.0; /* [0, 1) */
		uint64_t small = quantized && elem == 1 ? r >> 56 : r % 10;
		switch (dtype) {
		case MG_DT_FLOAT32:
		case MG_DT_COMPLEX64: {
			float f = (float)u;
			memcpy(p, &f, 4);
			break;
		}
		case MG_DT_FLOAT64:
		case MG_DT_COMPLEX128:
			memcpy(p, &u, 8);
			break;
		case MG_DT_FLOAT16: { /* [0, 1): exponent 14 or below */
			uint16_t h = (uint16_t)((r >> 20) % 0x3c00);
			memcpy(p, &h, 2);
			break;
		}
		case MG_DT_BFLOAT16: {
			float f = (float)u;
			uint32_t bits;
			memcpy(&bits, &f, 4);
			uint16_t b = (uint16_t)(bits >> 16);
			memcpy(p, &b, 2);
			break;
		}
		case MG_DT_BOOL:
			*p = (unsigned char)(r & 1);
			break;
		default: /* integers, little-endian */
			memset(p, 0, elem);
			*p = (unsigned char)small;
		}
	}
	return 0;
}
