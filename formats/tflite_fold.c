/* tflite_fold: fp16 weights made fp32 constants, for engines (Arm NN
 * 20.08) that cannot run a DEQUANTIZE of a constant FLOAT16 tensor.
 *
 * MediaPipe's models store each weight as a FLOAT16 constant feeding a
 * DEQUANTIZE whose FLOAT32 output has no buffer of its own (its buffer
 * field is absent, so it is buffer 0, shared by every activation): there is
 * no slot to give that output data in place. So the fold turns the FLOAT16
 * constant itself into the FLOAT32 constant (its type byte, present in its
 * table because FLOAT16 is not the default, is patched), points its buffers
 * entry at a new Buffer appended at the end of the file, points every
 * consumer of the DEQUANTIZE's output at it, and drops the DEQUANTIZE from
 * the operators vector, compacted in place.
 *
 * Everything written is either a patch of bytes the reader checked or
 * appended after the end: uoffsets are unsigned and forward, so a vector
 * entry can refer to a table appended later, and a vtable is reached by a
 * signed offset from its table. Refused (MG_EINVAL, naming the tensor) when
 * that would change another meaning: the constant's buffer shared with
 * another tensor, the constant read directly by another operator, the
 * DEQUANTIZE's output a subgraph input or output.
 *
 * libc only (with flatbuf.c and util/error.c): the agent links it. */
#include "formats/flatbuf.h"
#include "formats/tflite.h"
#include "formats/tflite_schema.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Over this a flatbuffer's 32-bit offsets cannot reach. */
#define MAX_MODEL ((size_t)INT32_MAX)

typedef struct fold {
	uint32_t sg, op;
	int32_t in, out;   /* tensors */
	uint32_t buf;      /* the constant's buffer */
	size_t type_pos;   /* the constant's type byte */
	mg_fb_vec halves;  /* its data, 2 bytes an element */
} fold;

typedef struct folder {
	mg_fb fb;
	mg_fb_vec opcodes, subgraphs, buffers;
	uint8_t *is_deq;   /* per opcode */
	uint32_t *refs;    /* tensors per buffer, over every subgraph */
	fold *folds;
	size_t nfolds, cap;
} folder;

float mg_half_to_float(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff, bits;
	if (exp == 0 && mant == 0) {
		bits = sign;
	} else if (exp == 0) { /* subnormal: mant * 2^-24, normalised */
		uint32_t e = 127 - 15 + 1;
		while (!(mant & 0x400)) {
			mant <<= 1;
			e--;
		}
		bits = sign | e << 23 | (mant & 0x3ff) << 13;
	} else if (exp == 31) {
		bits = sign | 0x7f800000 | mant << 13;
	} else {
		bits = sign | (exp + 127 - 15) << 23 | mant << 13;
	}
	float f;
	memcpy(&f, &bits, sizeof(f));
	return f;
}

static int nomem(folder *f)
{
	return mg_error_set(f->fb.err, MG_ENOMEM, "out of memory folding '%s'", f->fb.name);
}

static int tensor_at(folder *f, const mg_fb_vec *tensors, int32_t i, mg_fb_table *t)
{
	if (i < 0 || (uint32_t)i >= tensors->n)
		return mg_fb_invalid(&f->fb, tensors->pos, "tensor index %" PRId32 " of %" PRIu32, i,
				     tensors->n);
	return mg_fb_vec_table(&f->fb, tensors, (uint32_t)i, t);
}

static int cannot(folder *f, const mg_fb_table *t, const char *why)
{
	const char *name;
	size_t len;
	if (mg_fb_string(&f->fb, t, TFL_TENSOR_NAME, &name, &len) || !name)
		name = "(unnamed)";
	return mg_error_set(f->fb.err, MG_EINVAL, "cannot fold the fp16 weights of '%s': tensor '%.200s' %s",
			    f->fb.name, name, why);
}

/* Tensors per buffer, and the DEQUANTIZE opcodes. */
static int count_refs(folder *f)
{
	int rc = 0;
	if (f->buffers.n && !(f->refs = calloc(f->buffers.n, sizeof(*f->refs))))
		return nomem(f);
	if (f->opcodes.n && !(f->is_deq = calloc(f->opcodes.n, 1)))
		return nomem(f);
	for (uint32_t i = 0; !rc && i < f->opcodes.n; i++) {
		mg_fb_table c;
		uint8_t dep;
		int32_t code;
		if (!(rc = mg_fb_vec_table(&f->fb, &f->opcodes, i, &c)) &&
		    !(rc = mg_fb_u8(&f->fb, &c, TFL_OPCODE_DEPRECATED, 0, &dep)) &&
		    !(rc = mg_fb_i32(&f->fb, &c, TFL_OPCODE_BUILTIN, 0, &code)))
			f->is_deq[i] = ((int8_t)dep > code ? (int8_t)dep : code) == TFL_OP_DEQUANTIZE;
	}
	for (uint32_t s = 0; !rc && s < f->subgraphs.n; s++) {
		mg_fb_table sg, t;
		mg_fb_vec tensors;
		if ((rc = mg_fb_vec_table(&f->fb, &f->subgraphs, s, &sg)) ||
		    (rc = mg_fb_vector(&f->fb, &sg, TFL_SG_TENSORS, 4, &tensors)))
			break;
		for (uint32_t i = 0; !rc && i < tensors.n; i++) {
			uint32_t b;
			if ((rc = mg_fb_vec_table(&f->fb, &tensors, i, &t)) ||
			    (rc = mg_fb_u32(&f->fb, &t, TFL_TENSOR_BUFFER, 0, &b)))
				break;
			if (b >= f->buffers.n)
				rc = mg_fb_invalid(&f->fb, t.pos, "buffer index %" PRIu32 " of %" PRIu32, b,
						   f->buffers.n);
			else
				f->refs[b]++;
		}
	}
	return rc;
}

/* Marks in used (1 per mark) the tensors of an int vector in range. */
static void mark(folder *f, const mg_fb_vec *v, uint32_t ntensors, uint8_t *used, uint8_t bit)
{
	for (uint32_t i = 0; i < v->n; i++) {
		int32_t k = mg_fb_vec_i32(&f->fb, v, i);
		if (k >= 0 && (uint32_t)k < ntensors)
			used[k] |= bit;
	}
}

enum { USED_BY_OP = 1, USED_AS_IO = 2 };

/* A DEQUANTIZE: its input a constant FLOAT16 tensor, or nothing to do. */
static int consider(folder *f, uint32_t s, uint32_t o, const mg_fb_table *op, const mg_fb_vec *tensors,
		    const uint8_t *used)
{
	mg_fb_vec ins, outs, data, shape;
	mg_fb_table in, out, b;
	uint8_t type, out_type;
	uint32_t buf;
	size_t type_pos;
	int rc;
	if ((rc = mg_fb_vector(&f->fb, op, TFL_OP_INPUTS, 4, &ins)) ||
	    (rc = mg_fb_vector(&f->fb, op, TFL_OP_OUTPUTS, 4, &outs)))
		return rc;
	if (ins.n != 1 || outs.n != 1)
		return mg_fb_invalid(&f->fb, op->pos, "DEQUANTIZE with %" PRIu32 " inputs and %" PRIu32
				     " outputs", ins.n, outs.n);
	int32_t i = mg_fb_vec_i32(&f->fb, &ins, 0), k = mg_fb_vec_i32(&f->fb, &outs, 0);
	if ((rc = tensor_at(f, tensors, i, &in)) || (rc = tensor_at(f, tensors, k, &out)) ||
	    (rc = mg_fb_u8(&f->fb, &in, TFL_TENSOR_TYPE, TFL_FLOAT32, &type)) ||
	    (rc = mg_fb_u32(&f->fb, &in, TFL_TENSOR_BUFFER, 0, &buf)))
		return rc;
	if (type != TFL_FLOAT16 || !buf || buf >= f->buffers.n)
		return 0;
	if ((rc = mg_fb_vec_table(&f->fb, &f->buffers, buf, &b)) ||
	    (rc = mg_fb_vector(&f->fb, &b, TFL_BUFFER_DATA, 1, &data)))
		return rc;
	if (!data.n)
		return 0; /* not a constant (or its data lies outside the flatbuffer) */
	if ((rc = mg_fb_u8(&f->fb, &out, TFL_TENSOR_TYPE, TFL_FLOAT32, &out_type)) ||
	    (rc = mg_fb_vector(&f->fb, &in, TFL_TENSOR_SHAPE, 4, &shape)) ||
	    (rc = mg_fb_field(&f->fb, &in, TFL_TENSOR_TYPE, 1, &type_pos)))
		return rc;
	uint64_t count = 1;
	for (uint32_t d = 0; d < shape.n; d++) {
		int32_t dim = mg_fb_vec_i32(&f->fb, &shape, d);
		if (dim < 0 || (dim && count > UINT32_MAX / (uint64_t)dim))
			return cannot(f, &in, "has a bad shape");
		count *= (uint64_t)dim;
	}
	if (count * 2 != data.n)
		return cannot(f, &in, "has a buffer of the wrong size");
	if (out_type != TFL_FLOAT32)
		return cannot(f, &out, "is a DEQUANTIZE output that is not float32");
	if (f->refs[buf] != 1)
		return cannot(f, &in, "shares its buffer with another tensor");
	if (used[i])
		return cannot(f, &in, "is also read by an operator other than DEQUANTIZE, or is a subgraph input or output");
	if (used[k] & USED_AS_IO)
		return cannot(f, &out, "is a subgraph input or output");
	if (f->nfolds == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		fold *n = realloc(f->folds, cap * sizeof(*n));
		if (!n)
			return nomem(f);
		f->folds = n;
		f->cap = cap;
	}
	f->folds[f->nfolds++] = (fold){s, o, i, k, buf, type_pos, data};
	return 0;
}

static int find_folds(folder *f)
{
	int rc = 0;
	for (uint32_t s = 0; !rc && s < f->subgraphs.n; s++) {
		mg_fb_table sg, op;
		mg_fb_vec tensors, ops, io;
		uint8_t *used = NULL;
		if ((rc = mg_fb_vec_table(&f->fb, &f->subgraphs, s, &sg)) ||
		    (rc = mg_fb_vector(&f->fb, &sg, TFL_SG_TENSORS, 4, &tensors)) ||
		    (rc = mg_fb_vector(&f->fb, &sg, TFL_SG_OPERATORS, 4, &ops)))
			break;
		if (!(used = calloc(tensors.n + 1, 1))) {
			rc = nomem(f);
			break;
		}
		for (unsigned field = TFL_SG_INPUTS; !rc && field <= TFL_SG_OUTPUTS; field++)
			if (!(rc = mg_fb_vector(&f->fb, &sg, field, 4, &io)))
				mark(f, &io, tensors.n, used, USED_AS_IO);
		for (uint32_t o = 0; !rc && o < ops.n; o++) {
			uint32_t code;
			if (!(rc = mg_fb_vec_table(&f->fb, &ops, o, &op)) &&
			    !(rc = mg_fb_u32(&f->fb, &op, TFL_OP_OPCODE, 0, &code)) && code >= f->opcodes.n)
				rc = mg_fb_invalid(&f->fb, op.pos, "operator code index %" PRIu32, code);
			if (!rc && !f->is_deq[code] && !(rc = mg_fb_vector(&f->fb, &op, TFL_OP_INPUTS, 4, &io)))
				mark(f, &io, tensors.n, used, USED_BY_OP);
		}
		for (uint32_t o = 0; !rc && o < ops.n; o++) {
			uint32_t code;
			if (!(rc = mg_fb_vec_table(&f->fb, &ops, o, &op)) &&
			    !(rc = mg_fb_u32(&f->fb, &op, TFL_OP_OPCODE, 0, &code)) && f->is_deq[code])
				rc = consider(f, s, o, &op, &tensors, used);
		}
		free(used);
	}
	return rc;
}

static size_t align_up(size_t n, size_t a)
{
	return (n + a - 1) / a * a;
}

/* Appends at *end a Buffer table whose data are the fold's halves as
 * floats, and points buffers entry fo->buf at it. */
static void append_buffer(folder *f, uint8_t *m, size_t *end, const fold *fo)
{
	size_t vt = align_up(*end, 4), t = vt + 8, d = align_up(t + 8 + 4, 16);
	uint32_t n = fo->halves.n / 2;
	m[vt] = 6, m[vt + 2] = 8, m[vt + 4] = 4; /* vtable: 6 bytes, table 8, data at +4 */
	mg_fb_store32(m + t, (uint32_t)(t - vt));
	mg_fb_store32(m + t + 4, (uint32_t)(d - 4 - (t + 4)));
	mg_fb_store32(m + d - 4, n * 4);
	for (uint32_t i = 0; i < n; i++) {
		float v = mg_half_to_float(mg_fb_load16(f->fb.data + fo->halves.pos + 2 * (size_t)i));
		memcpy(m + d + 4 * (size_t)i, &v, 4); /* little-endian hosts only, as TFLite */
	}
	size_t entry = f->buffers.pos + 4 * (size_t)fo->buf;
	mg_fb_store32(m + entry, (uint32_t)(t - entry));
	*end = d + 4 * (size_t)n;
}

/* In subgraph s of the copy m: consumers read the constants, the folded
 * DEQUANTIZEs (folds [first, end), all of subgraph s) are gone. */
static int rewire(folder *f, uint8_t *m, uint32_t s, size_t first, size_t end)
{
	mg_fb_table sg, op;
	mg_fb_vec tensors, ops, ins;
	int32_t *remap = NULL;
	uint8_t *gone = NULL;
	int rc;
	if ((rc = mg_fb_vec_table(&f->fb, &f->subgraphs, s, &sg)) ||
	    (rc = mg_fb_vector(&f->fb, &sg, TFL_SG_TENSORS, 4, &tensors)) ||
	    (rc = mg_fb_vector(&f->fb, &sg, TFL_SG_OPERATORS, 4, &ops)))
		return rc;
	remap = malloc((tensors.n + 1) * sizeof(*remap));
	gone = calloc(ops.n + 1, 1);
	if (!remap || !gone) {
		rc = nomem(f);
		goto done;
	}
	for (uint32_t i = 0; i < tensors.n; i++)
		remap[i] = (int32_t)i;
	for (size_t i = first; i < end; i++) {
		remap[f->folds[i].out] = f->folds[i].in;
		gone[f->folds[i].op] = 1;
	}
	uint32_t kept = 0;
	for (uint32_t o = 0; o < ops.n; o++) {
		if (gone[o])
			continue;
		if ((rc = mg_fb_vec_table(&f->fb, &ops, o, &op)) ||
		    (rc = mg_fb_vector(&f->fb, &op, TFL_OP_INPUTS, 4, &ins)))
			goto done;
		for (uint32_t k = 0; k < ins.n; k++) {
			int32_t t = mg_fb_vec_i32(&f->fb, &ins, k);
			if (t >= 0 && (uint32_t)t < tensors.n && remap[t] != t)
				mg_fb_store32(m + ins.pos + 4 * (size_t)k, (uint32_t)remap[t]);
		}
		size_t from = ops.pos + 4 * (size_t)o, to = ops.pos + 4 * (size_t)kept;
		size_t target = from + mg_fb_load32(f->fb.data + from);
		mg_fb_store32(m + to, (uint32_t)(target - to));
		kept++;
	}
	mg_fb_store32(m + ops.pos - 4, kept);
done:
	free(remap);
	free(gone);
	return rc;
}

static int build(folder *f, uint8_t **out, size_t *out_len)
{
	uint8_t *done_buf = calloc(f->buffers.n, 1);
	size_t size = align_up(f->fb.len, 16);
	int rc = 0;
	if (!done_buf)
		return nomem(f);
	for (size_t i = 0; i < f->nfolds; i++) {
		if (done_buf[f->folds[i].buf])
			continue;
		done_buf[f->folds[i].buf] = 1;
		size = align_up(size + 16, 16) + 16 + 2 * (size_t)f->folds[i].halves.n;
		if (size > MAX_MODEL) {
			free(done_buf);
			return mg_error_set(f->fb.err, MG_ENOMEM, "cannot fold '%s': the result would exceed 2 GiB",
					    f->fb.name);
		}
	}
	uint8_t *m = calloc(size, 1);
	if (!m) {
		free(done_buf);
		return nomem(f);
	}
	memcpy(m, f->fb.data, f->fb.len);
	memset(done_buf, 0, f->buffers.n);
	size_t end = f->fb.len;
	for (size_t i = 0; i < f->nfolds; i++) {
		m[f->folds[i].type_pos] = TFL_FLOAT32;
		if (!done_buf[f->folds[i].buf]) {
			done_buf[f->folds[i].buf] = 1;
			append_buffer(f, m, &end, &f->folds[i]);
		}
	}
	/* find_folds recorded the folds subgraph by subgraph */
	for (size_t first = 0, last; !rc && first < f->nfolds; first = last) {
		for (last = first; last < f->nfolds && f->folds[last].sg == f->folds[first].sg; last++)
			;
		rc = rewire(f, m, f->folds[first].sg, first, last);
	}
	free(done_buf);
	if (rc) {
		free(m);
		return rc;
	}
	*out = m;
	*out_len = align_up(end, 4);
	return 0;
}

int mg_tflite_fold_fp16(uint8_t **out, size_t *out_len, size_t *nfolded, const void *data, size_t len,
			const char *name, mg_error *err)
{
	folder f = {.fb = {data, len, name, "TFLite model", err}};
	mg_fb_table root;
	int rc;
	*out = NULL;
	*out_len = 0;
	*nfolded = 0;
	if (len < 8 || memcmp((const uint8_t *)data + 4, TFL_IDENT, 4))
		return mg_fb_invalid(&f.fb, 4, "no \"" TFL_IDENT "\" identifier");
	if ((rc = mg_fb_root(&f.fb, &root)) ||
	    (rc = mg_fb_vector(&f.fb, &root, TFL_MODEL_OPCODES, 4, &f.opcodes)) ||
	    (rc = mg_fb_vector(&f.fb, &root, TFL_MODEL_SUBGRAPHS, 4, &f.subgraphs)) ||
	    (rc = mg_fb_vector(&f.fb, &root, TFL_MODEL_BUFFERS, 4, &f.buffers)) || (rc = count_refs(&f)) ||
	    (rc = find_folds(&f)))
		goto done;
	if (f.nfolds && !(rc = build(&f, out, out_len)))
		*nfolded = f.nfolds;
done:
	free(f.is_deq);
	free(f.refs);
	free(f.folds);
	return rc;
}
