/* tensor_pb: the ONNX TensorProto (onnx.proto) in protobuf wire format, as
 * stored in the input_N.pb / output_N.pb files of ONNX test data.
 *
 * Read: dims (1), data_type (2), name (8), and the payload from raw_data (9)
 * or one of the typed repeated fields: float_data (4), int32_data (5: also
 * int8/int16/uint8/uint16/bool and the bit patterns of float16/bfloat16),
 * int64_data (7), double_data (10), uint64_data (11: uint32, uint64), each
 * packed or not. segment (3) and doc_string (12) are skipped; string_data,
 * external_data and data_location EXTERNAL are refused. Every length is
 * checked against the end of the input; the element count must match the
 * shape exactly. Write: dims, data_type, name, raw_data. */
#include "formats/tensor.h"
#include "formats/protobuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct rd {
	mg_pb pb;
	const char *name;
	mg_error *err;
} rd;

static int bad(rd *r, const char *what)
{
	return mg_error_set(r->err, MG_EINVAL, "'%s' is not a valid ONNX TensorProto: %s", r->name,
			    what);
}

/* Appends the values of a repeated numeric field f to vals (as 8-byte
 * integers, or as raw fixed-size items when fixed is 4 or 8). */
static int repeated(rd *r, const mg_pb_field *f, int fixed, mg_buf *vals)
{
	const uint8_t *data = r->pb.data;
	int rc;
	if (f->wire == MG_PB_VARINT && !fixed)
		return mg_buf_append(vals, &f->value, sizeof(f->value), r->err);
	if ((fixed == 4 && f->wire == MG_PB_I32) || (fixed == 8 && f->wire == MG_PB_I64))
		return mg_buf_append(vals, data + f->body_pos, (size_t)fixed, r->err);
	if (f->wire != MG_PB_LEN)
		return bad(r, "numeric field with the wrong wire type");
	mg_pb packed = {data, f->body_pos, f->body_end, 0};
	do { /* packed; an empty one is refused */
		if (fixed) {
			if (packed.end - packed.pos < (size_t)fixed)
				return bad(r, "truncated fixed-size value");
			if ((rc = mg_buf_append(vals, data + packed.pos, (size_t)fixed, r->err)))
				return rc;
			packed.pos += (size_t)fixed;
		} else {
			uint64_t v;
			if ((rc = mg_pb_varint(&packed, &v)))
				return bad(r, mg_pb_what(rc));
			if ((rc = mg_buf_append(vals, &v, sizeof(v), r->err)))
				return rc;
		}
	} while (packed.pos < packed.end);
	return 0;
}

typedef struct fields {
	int64_t dims[MG_TENSOR_MAX_RANK];
	size_t rank;
	int64_t dtype;
	const uint8_t *name, *raw;
	size_t name_len, raw_len;
	int has_raw;
	mg_buf f32, f64, i32, i64, u64; /* typed repeated fields */
} fields;

static int read_fields(rd *r, fields *f)
{
	int rc = 0;
	while (!rc && r->pb.pos < r->pb.end) {
		mg_pb_field pf;
		if ((rc = mg_pb_next(&r->pb, &pf)))
			return bad(r, mg_pb_what(rc));
		switch (pf.num) {
		case 1: { /* dims */
			mg_buf d = MG_BUF_INIT;
			rc = repeated(r, &pf, 0, &d);
			size_t n = d.len / 8;
			if (!rc && f->rank + n > MG_TENSOR_MAX_RANK)
				rc = bad(r, "too many dimensions");
			for (size_t i = 0; !rc && i < n; i++)
				memcpy(&f->dims[f->rank++], d.data + 8 * i, 8);
			mg_buf_free(&d);
			break;
		}
		case 2:
			if (pf.wire != MG_PB_VARINT)
				return bad(r, "data_type is not a varint");
			f->dtype = (int64_t)pf.value;
			break;
		case 4: rc = repeated(r, &pf, 4, &f->f32); break;
		case 5: rc = repeated(r, &pf, 0, &f->i32); break;
		case 7: rc = repeated(r, &pf, 0, &f->i64); break;
		case 10: rc = repeated(r, &pf, 8, &f->f64); break;
		case 11: rc = repeated(r, &pf, 0, &f->u64); break;
		case 6:
			return bad(r, "string tensors are not supported");
		case 13:
			return bad(r, "external data is not supported");
		case 14:
			if (pf.wire == MG_PB_VARINT && pf.value != 0)
				return bad(r, "external data is not supported");
			break;
		case 8:
		case 9: {
			if (pf.wire != MG_PB_LEN)
				return bad(r, "name or raw_data is not length-delimited");
			const uint8_t *body = r->pb.data + pf.body_pos;
			size_t len = pf.body_end - pf.body_pos;
			if (pf.num == 8)
				f->name = body, f->name_len = len;
			else
				f->raw = body, f->raw_len = len, f->has_raw = 1;
			break;
		}
		default:
			break;
		}
	}
	return rc;
}

/* Copies the typed values into t, narrowing each to the element size. */
static int fill_typed(rd *r, fields *f, mg_tensor *t)
{
	size_t count = mg_tensor_count(t), elem = mg_dtype_size(t->dtype);
	const mg_buf *src;
	size_t item = 8, per = 1;
	switch (t->dtype) {
	case MG_DT_FLOAT32: src = &f->f32, item = 4; break;
	case MG_DT_COMPLEX64: src = &f->f32, item = 4, per = 2; break;
	case MG_DT_FLOAT64: src = &f->f64; break;
	case MG_DT_COMPLEX128: src = &f->f64, per = 2; break;
	case MG_DT_INT64: src = &f->i64; break;
	case MG_DT_UINT32:
	case MG_DT_UINT64: src = &f->u64; break;
	default: src = &f->i32; break;
	}
	size_t want = count * per;
	if (src->len / item != want) {
		char msg[128];
		snprintf(msg, sizeof(msg), "the shape holds %zu values, the data field %zu", want,
			 src->len / item);
		return bad(r, msg);
	}
	unsigned char *dst = t->data;
	size_t unit = elem / per;
	for (size_t i = 0; i < want; i++)
		/* little-endian: the low bytes of the 8-byte value come first */
		memcpy(dst + i * unit, src->data + i * item, unit);
	return 0;
}

int mg_tensor_pb_parse(mg_tensor **out, const void *data, size_t len, const char *name,
		       mg_error *err)
{
	*out = NULL;
	rd r = {{data, 0, len, 0}, name, err};
	fields f;
	memset(&f, 0, sizeof(f));
	mg_tensor *t = NULL;
	int rc = read_fields(&r, &f);
	if (rc)
		goto done;
	if (f.dtype <= 0 || f.dtype >= MG_DT_COUNT || !mg_dtype_size((mg_dtype)f.dtype)) {
		char msg[64];
		snprintf(msg, sizeof(msg), "data_type %lld is not supported", (long long)f.dtype);
		rc = bad(&r, msg);
		goto done;
	}
	if (mg_shape_count(f.dims, f.rank, mg_dtype_size((mg_dtype)f.dtype)) < 0) {
		rc = bad(&r, "invalid or too large shape");
		goto done;
	}
	if ((rc = mg_tensor_new(&t, NULL, (mg_dtype)f.dtype, f.dims, f.rank, err)))
		goto done;
	if (f.name_len) {
		char *s = malloc(f.name_len + 1);
		if (!s) {
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
			goto done;
		}
		memcpy(s, f.name, f.name_len);
		s[f.name_len] = '\0';
		free(t->name);
		t->name = s;
	}
	if (f.has_raw) {
		if (f.raw_len != t->nbytes) {
			char msg[128];
			snprintf(msg, sizeof(msg), "the shape needs %zu bytes, raw_data has %zu",
				 t->nbytes, f.raw_len);
			rc = bad(&r, msg);
			goto done;
		}
		memcpy(t->data, f.raw, f.raw_len);
	} else if ((rc = fill_typed(&r, &f, t))) {
		goto done;
	}
	*out = t;
	t = NULL;
done:
	mg_tensor_free(t);
	mg_buf_free(&f.f32);
	mg_buf_free(&f.f64);
	mg_buf_free(&f.i32);
	mg_buf_free(&f.i64);
	mg_buf_free(&f.u64);
	return rc;
}

int mg_tensor_pb_read(mg_tensor **out, const char *path, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	int rc = mg_file_read(&b, path, MG_BUF_MAX - 1, err);
	if (!rc)
		rc = mg_tensor_pb_parse(out, b.data, b.len, path, err);
	mg_buf_free(&b);
	return rc;
}

static int put_varint(mg_buf *out, uint64_t v, mg_error *err)
{
	uint8_t tmp[10];
	size_t n = 0;
	do {
		tmp[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		v >>= 7;
	} while (v);
	return mg_buf_append(out, tmp, n, err);
}

int mg_tensor_pb_write(mg_buf *out, const mg_tensor *t, mg_error *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < t->rank; i++)
		if (!(rc = put_varint(out, 1 << 3 | 0, err)))
			rc = put_varint(out, (uint64_t)t->dims[i], err);
	if (!rc && !(rc = put_varint(out, 2 << 3 | 0, err)))
		rc = put_varint(out, (uint64_t)t->dtype, err);
	size_t nlen = strlen(t->name);
	if (!rc && nlen && !(rc = put_varint(out, 8 << 3 | 2, err)) &&
	    !(rc = put_varint(out, nlen, err)))
		rc = mg_buf_append(out, t->name, nlen, err);
	if (!rc && !(rc = put_varint(out, 9 << 3 | 2, err)) &&
	    !(rc = put_varint(out, t->nbytes, err)))
		rc = mg_buf_append(out, t->data, t->nbytes, err);
	return rc;
}
