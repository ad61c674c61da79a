/* formats/tensor: a named n-dimensional array in host memory, and its two file
 * formats: NumPy .npy (C order) and the ONNX TensorProto (.pb, as in the ONNX
 * backend test data). Shared by the host and the agent; depends on libc and
 * util's errors and buffers only.
 *
 * Element types are numbered as ONNX's TensorProto.DataType (and ONNX
 * Runtime's ONNXTensorElementDataType), so a dtype crosses the protocol and
 * the engine unchanged. String tensors are not supported.
 *
 * Ownership: mg_tensor_new/read give the caller a tensor to release with
 * mg_tensor_free (which accepts NULL); a tensor owns its name and data. */
#ifndef MG_TENSOR_H
#define MG_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef enum mg_dtype {
	MG_DT_UNDEFINED = 0,
	MG_DT_FLOAT32 = 1,
	MG_DT_UINT8 = 2,
	MG_DT_INT8 = 3,
	MG_DT_UINT16 = 4,
	MG_DT_INT16 = 5,
	MG_DT_INT32 = 6,
	MG_DT_INT64 = 7,
	MG_DT_STRING = 8,
	MG_DT_BOOL = 9,
	MG_DT_FLOAT16 = 10,
	MG_DT_FLOAT64 = 11,
	MG_DT_UINT32 = 12,
	MG_DT_UINT64 = 13,
	MG_DT_COMPLEX64 = 14,
	MG_DT_COMPLEX128 = 15,
	MG_DT_BFLOAT16 = 16,
	MG_DT_COUNT
} mg_dtype;

#define MG_TENSOR_MAX_RANK 16
/* No single tensor is larger than this (it must also fit in one frame). */
#define MG_TENSOR_MAX_BYTES ((size_t)1 << 30)

typedef struct mg_tensor {
	char *name;          /* "" when unnamed; never NULL */
	mg_dtype dtype;
	size_t rank;
	int64_t dims[MG_TENSOR_MAX_RANK];
	void *data;          /* nbytes bytes, little-endian, C order */
	size_t nbytes;
} mg_tensor;

/* Bytes per element, 0 for an unsupported type (string, undefined). */
size_t mg_dtype_size(mg_dtype t);
/* "float32", "int64", ... as model_info spells them; "unknown" otherwise. */
const char *mg_dtype_name(mg_dtype t);
/* The dtype a name stands for, or MG_DT_UNDEFINED. */
mg_dtype mg_dtype_from_name(const char *name);

/* Elements of a shape; -1 when a dimension is negative or the product
 * overflows or exceeds MG_TENSOR_MAX_BYTES / elem. */
int64_t mg_shape_count(const int64_t *dims, size_t rank, size_t elem);

/* A tensor of the given shape with zeroed data; name may be NULL. */
int mg_tensor_new(mg_tensor **out, const char *name, mg_dtype dtype, const int64_t *dims,
		  size_t rank, mg_error *err);
void mg_tensor_free(mg_tensor *t);
void mg_tensors_free(mg_tensor **ts, size_t n);
int mg_tensor_set_name(mg_tensor *t, const char *name, mg_error *err);
/* Element i as a double (complex: the real part; bool: 0 or 1). */
double mg_tensor_get(const mg_tensor *t, size_t i);
size_t mg_tensor_count(const mg_tensor *t);
/* t as a new tensor of dtype, a real or integer type (float32, float64,
 * int8 to int64, uint8 to uint64), element by element through a double.
 * *inexact (may be NULL) is the index of the first element that does not
 * survive (another value read back: rounded, fractional for an integer,
 * out of range), or SIZE_MAX when every one does. MG_EINVAL when t or
 * dtype is of another type. */
int mg_tensor_cast(mg_tensor **out, const mg_tensor *t, mg_dtype dtype, size_t *inexact,
		   mg_error *err);
/* t with its dimensions reordered: out's dimension k is t's perm[k] (a
 * permutation of 0..rank-1), as numpy's transpose(perm). */
int mg_tensor_permute(mg_tensor **out, const mg_tensor *t, const size_t *perm, mg_error *err);
/* Rows first..first+n of t along its first dimension, as a new tensor. */
int mg_tensor_rows(mg_tensor **out, const mg_tensor *t, size_t first, size_t n, mg_error *err);
/* parts[0..n) one after another along their first dimension (alike in
 * dtype and in every other dimension), as a new tensor named as parts[0]. */
int mg_tensor_concat_rows(mg_tensor **out, mg_tensor *const *parts, size_t n, mg_error *err);
/* "[8,64]" into out. */
void mg_shape_format(char *out, size_t outlen, const int64_t *dims, size_t rank);

/* ---- .npy ------------------------------------------------------------- */

/* Parses an .npy file image (versions 1.0, 2.0, 3.0). Every numeric dtype
 * and bool; big-endian data is byte-swapped; Fortran order, object and
 * string arrays, and a payload whose size does not match the header are
 * refused with MG_EINVAL naming `name`. */
int mg_npy_parse(mg_tensor **out, const void *data, size_t len, const char *name,
		 mg_error *err);
int mg_npy_read(mg_tensor **out, const char *path, mg_error *err);
/* Serialises t as an .npy version 1.0 file image (appending to out). */
int mg_npy_write(mg_buf *out, const mg_tensor *t, mg_error *err);

/* ---- ONNX TensorProto .pb ---------------------------------------------- */

/* Parses a serialised TensorProto: dims, data_type, name, and the payload
 * from raw_data or the typed repeated fields (float_data, int32_data,
 * int64_data, double_data, uint64_data), packed or not. External data and
 * strings are refused. */
int mg_tensor_pb_parse(mg_tensor **out, const void *data, size_t len, const char *name,
		       mg_error *err);
int mg_tensor_pb_read(mg_tensor **out, const char *path, mg_error *err);
/* Serialises t as a TensorProto with raw_data (appending to out). */
int mg_tensor_pb_write(mg_buf *out, const mg_tensor *t, mg_error *err);

/* ---- random tensors ------------------------------------------------------- */

/* A tensor of the shape filled from a xorshift generator seeded by *seed
 * (advanced): floats uniform in [0, 1), integers in [0, 10), bools 0/1;
 * int8 and uint8 over their whole range when quantized (their integers
 * stand for reals, and [0, 10) would be a sliver of them). */
int mg_tensor_random(mg_tensor **out, const char *name, mg_dtype dtype, const int64_t *dims,
		     size_t rank, int quantized, uint64_t *seed, mg_error *err);

/* ---- folders of tensors ---------------------------------------------------- */

typedef enum mg_tensor_format { MG_TFMT_NPY, MG_TFMT_PB } mg_tensor_format;

/* Reads the tensors named by names (a model's inputs or outputs) from dir:
 * ONNX test data (PREFIX_0.pb, PREFIX_1.pb, ... in the model's order; PREFIX
 * is "input" or "output") when dir has PREFIX_0.pb, else NAME.npy for each
 * name (characters other than [A-Za-z0-9._-] in NAME become '_'), or the
 * only .npy file when there is one name and one file. Each tensor is named
 * after its model name. A missing or extra file is MG_EINVAL naming it. */
int mg_tensor_dir_read(mg_tensor ***out, mg_tensor_format *fmt, const char *dir,
		       const char *prefix, const char *const *names, size_t n, mg_error *err);
/* Writes tensors into dir (created) in fmt, named as mg_tensor_dir_read
 * reads them; each file atomically. */
int mg_tensor_dir_write(const char *dir, mg_tensor_format fmt, const char *prefix,
			mg_tensor *const *ts, size_t n, mg_error *err);

#endif
