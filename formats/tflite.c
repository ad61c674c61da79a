/* tflite: what a TFLite model declares about itself (mg_model_info), read
 * from its flatbuffer through formats/flatbuf.c without any TFLite library.
 *
 * Inputs and outputs are those of subgraph 0 (the one a TFLite interpreter
 * runs); shapes come from shape_signature when present, so dynamic
 * dimensions are -1. Operators are counted over every subgraph, by builtin
 * name or by custom_code. Constant tensors are those whose buffer holds
 * data: their elements are the parameters, and the distinct buffers they
 * use (in the file or, for models over 2 GB, after it) the weight bytes.
 * Payloads are never read, only their lengths, so a mapped model's weight
 * pages stay untouched. */
#include "formats/flatbuf.h"
#include "formats/model_info.h"
#include "formats/tflite.h"
#include "formats/tflite_schema.h"

#include <assert.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANK 1024

/* Indexed by TensorType. */
static const char *const dtype_names[] = {
	"float32", "float16", "int32", "uint8", "int64", "string", "bool", "int16",
	"complex64", "int8", "float64", "complex128", "uint64", "resource", "variant",
	"uint32", "uint16", "int4",
};

typedef struct reader {
	mg_fb fb;
	mg_model_info *info;
	mg_fb_vec buffers;
	uint8_t *buffer_seen; /* one per buffer: counted in weight_bytes */
	mg_fb_vec opcodes;
	struct opcode_use *uses; /* one per opcode */
	uint64_t nops_seen;
} reader;

int mg_is_tflite(const void *data, size_t len)
{
	return len >= 8 && !memcmp((const uint8_t *)data + 4, TFL_IDENT, 4);
}

static int nomem(reader *r)
{
	return mg_error_set(r->fb.err, MG_ENOMEM, "out of memory reading '%s'", r->fb.name);
}

static char *copy_name(const char *s, size_t len)
{
	char *c = malloc(len + 1);
	if (c) {
		memcpy(c, s, len);
		c[len] = '\0';
	}
	return c;
}

static int read_quant(reader *r, const mg_fb_table *t, mg_tensor_info *ti)
{
	mg_fb_table q;
	mg_fb_vec scale, zero;
	int present, rc;
	if ((rc = mg_fb_subtable(&r->fb, t, TFL_TENSOR_QUANT, &q, &present)) || !present)
		return rc;
	if ((rc = mg_fb_vector(&r->fb, &q, TFL_QUANT_SCALE, 4, &scale)) ||
	    (rc = mg_fb_vector(&r->fb, &q, TFL_QUANT_ZERO, 8, &zero)) ||
	    (rc = mg_fb_i32(&r->fb, &q, TFL_QUANT_DIM, 0, &ti->quant.dimension)))
		return rc;
	if (!scale.n)
		return 0;
	ti->quant.scales = malloc(scale.n * sizeof(float));
	ti->quant.zero_points = calloc(scale.n, sizeof(int64_t));
	if (!ti->quant.scales || !ti->quant.zero_points)
		return nomem(r);
	ti->quant.n = scale.n;
	for (uint32_t i = 0; i < scale.n; i++) {
		ti->quant.scales[i] = mg_fb_vec_f32(&r->fb, &scale, i);
		if (i < zero.n)
			ti->quant.zero_points[i] = mg_fb_vec_i64(&r->fb, &zero, i);
	}
	return 0;
}

/* Entry index of a subgraph's tensors into ti. */
static int read_tensor(reader *r, const mg_fb_vec *tensors, int32_t index, mg_tensor_info *ti)
{
	mg_fb_table t;
	mg_fb_vec shape, sig;
	const char *name;
	size_t len;
	uint8_t type;
	int rc;
	if (index < 0 || (uint32_t)index >= tensors->n)
		return mg_fb_invalid(&r->fb, tensors->pos, "tensor index %" PRId32 " of %" PRIu32, index,
				     tensors->n);
	if ((rc = mg_fb_vec_table(&r->fb, tensors, (uint32_t)index, &t)) ||
	    (rc = mg_fb_string(&r->fb, &t, TFL_TENSOR_NAME, &name, &len)) ||
	    (rc = mg_fb_u8(&r->fb, &t, TFL_TENSOR_TYPE, TFL_FLOAT32, &type)) ||
	    (rc = mg_fb_vector(&r->fb, &t, TFL_TENSOR_SHAPE, 4, &shape)) ||
	    (rc = mg_fb_vector(&r->fb, &t, TFL_TENSOR_SIGNATURE, 4, &sig)))
		return rc;
	if (!(ti->name = name ? copy_name(name, len) : mg_strdup("", NULL)))
		return nomem(r);
	ti->dtype = mg_strdup(type < sizeof(dtype_names) / sizeof(dtype_names[0]) ? dtype_names[type]
									   : "unknown", NULL);
	if (!ti->dtype)
		return nomem(r);
	const mg_fb_vec *dims = sig.n ? &sig : &shape;
	if (dims->n > MAX_RANK)
		return mg_fb_invalid(&r->fb, dims->pos, "tensor '%s' has rank %" PRIu32, ti->name, dims->n);
	ti->rank = dims->n;
	ti->dims = calloc(dims->n + 1, sizeof(*ti->dims));
	ti->dim_names = calloc(dims->n + 1, sizeof(*ti->dim_names));
	if (!ti->dims || !ti->dim_names)
		return nomem(r);
	for (uint32_t i = 0; i < dims->n; i++) {
		int32_t d = mg_fb_vec_i32(&r->fb, dims, i);
		if (d < -1)
			return mg_fb_invalid(&r->fb, dims->pos, "tensor '%s' has dimension %" PRId32,
					     ti->name, d);
		ti->dims[i] = d;
	}
	return read_quant(r, &t, ti);
}

static int read_io(reader *r, const mg_fb_table *sg, const mg_fb_vec *tensors, unsigned field,
		   mg_tensor_info **arr, size_t *n)
{
	mg_fb_vec v;
	int rc = mg_fb_vector(&r->fb, sg, field, 4, &v);
	if (rc)
		return rc;
	if (v.n && !(*arr = calloc(v.n, sizeof(**arr))))
		return nomem(r);
	for (uint32_t i = 0; i < v.n; i++) {
		(*n)++;
		if ((rc = read_tensor(r, tensors, mg_fb_vec_i32(&r->fb, &v, i), &(*arr)[i])))
			return rc;
	}
	return 0;
}

/* An operator code as the model uses it: counted per opcode index while the
 * operators are walked, merged by name at the end (a model may list one
 * builtin twice, at two versions). Sorting keeps hostile models with many
 * opcodes from costing quadratic time. */
typedef struct opcode_use {
	const char *name; /* into the buffer, or into buf */
	size_t len;
	int custom;
	uint64_t count;
	uint64_t first;   /* the ordinal of its first operator */
	char buf[24];
} opcode_use;

/* The name of opcode index i, and whether it is custom. */
static int opcode_name(reader *r, uint32_t i, opcode_use *u)
{
	mg_fb_table c;
	uint8_t dep;
	int32_t code;
	int rc;
	if ((rc = mg_fb_vec_table(&r->fb, &r->opcodes, i, &c)) ||
	    (rc = mg_fb_u8(&r->fb, &c, TFL_OPCODE_DEPRECATED, 0, &dep)) ||
	    (rc = mg_fb_i32(&r->fb, &c, TFL_OPCODE_BUILTIN, 0, &code)))
		return rc;
	if ((int8_t)dep > code)
		code = (int8_t)dep;
	u->custom = code == TFL_OP_CUSTOM;
	if (u->custom) {
		if ((rc = mg_fb_string(&r->fb, &c, TFL_OPCODE_CUSTOM, &u->name, &u->len)))
			return rc;
		if (u->name)
			return 0;
	}
	const char *known = mg_tflite_op_name(code);
	if (known)
		snprintf(u->buf, sizeof(u->buf), "%s", known);
	else
		snprintf(u->buf, sizeof(u->buf), "BUILTIN_%" PRId32, code);
	u->name = u->buf;
	u->len = strlen(u->buf);
	return 0;
}

static int read_ops(reader *r, const mg_fb_table *sg)
{
	mg_fb_vec ops;
	int rc = mg_fb_vector(&r->fb, sg, TFL_SG_OPERATORS, 4, &ops);
	for (uint32_t i = 0; !rc && i < ops.n; i++) {
		mg_fb_table op;
		uint32_t index;
		if ((rc = mg_fb_vec_table(&r->fb, &ops, i, &op)) ||
		    (rc = mg_fb_u32(&r->fb, &op, TFL_OP_OPCODE, 0, &index)))
			break;
		if (index >= r->opcodes.n)
			return mg_fb_invalid(&r->fb, op.pos, "operator code index %" PRIu32 " of %" PRIu32,
					     index, r->opcodes.n);
		opcode_use *u = &r->uses[index];
		if (!u->count) {
			if ((rc = opcode_name(r, index, u)))
				break;
			u->first = r->nops_seen;
		}
		u->count++;
		r->nops_seen++;
	}
	return rc;
}

static int by_name(const void *a, const void *b)
{
	const opcode_use *x = *(opcode_use *const *)a, *y = *(opcode_use *const *)b;
	if (x->custom != y->custom)
		return x->custom - y->custom;
	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	int c = memcmp(x->name, y->name, x->len);
	return c ? c : (x->first > y->first) - (x->first < y->first);
}

static int by_name_eq(const opcode_use *x, const opcode_use *y)
{
	return x->custom == y->custom && x->len == y->len && !memcmp(x->name, y->name, x->len);
}

static int by_first(const void *a, const void *b)
{
	const opcode_use *x = *(opcode_use *const *)a, *y = *(opcode_use *const *)b;
	return (x->first > y->first) - (x->first < y->first);
}

/* info->ops from the opcodes used: one entry a name, in order of first use. */
static int collect_ops(reader *r)
{
	opcode_use **used = calloc(r->opcodes.n + 1, sizeof(*used));
	size_t n = 0, k = 0;
	int rc = 0;
	if (!used)
		return nomem(r);
	for (uint32_t i = 0; i < r->opcodes.n; i++)
		if (r->uses[i].count)
			used[n++] = &r->uses[i];
	qsort(used, n, sizeof(*used), by_name);
	for (size_t i = 0; i < n; i++) { /* merge runs of one name into their first */
		if (k && by_name_eq(used[k - 1], used[i]))
			used[k - 1]->count += used[i]->count;
		else
			used[k++] = used[i];
	}
	qsort(used, k, sizeof(*used), by_first);
	if (k && !(r->info->ops = calloc(k, sizeof(*r->info->ops))))
		rc = nomem(r);
	for (size_t i = 0; !rc && i < k; i++) {
		mg_op_count *op = &r->info->ops[i];
		if (!(op->name = copy_name(used[i]->name, used[i]->len))) {
			rc = nomem(r);
			break;
		}
		op->custom = used[i]->custom;
		op->count = used[i]->count;
		r->info->nops++;
	}
	free(used);
	return rc;
}

/* Parameters and weight bytes of the constant tensors of one subgraph. */
static int read_constants(reader *r, const mg_fb_vec *tensors)
{
	for (uint32_t i = 0; i < tensors->n; i++) {
		mg_fb_table t, b;
		mg_fb_vec shape, data;
		uint32_t index;
		uint64_t size, count = 1;
		int rc;
		if ((rc = mg_fb_vec_table(&r->fb, tensors, i, &t)) ||
		    (rc = mg_fb_u32(&r->fb, &t, TFL_TENSOR_BUFFER, 0, &index)))
			return rc;
		if (!index)
			continue;
		if (index >= r->buffers.n)
			return mg_fb_invalid(&r->fb, t.pos, "buffer index %" PRIu32 " of %" PRIu32, index,
					     r->buffers.n);
		if ((rc = mg_fb_vec_table(&r->fb, &r->buffers, index, &b)) ||
		    (rc = mg_fb_vector(&r->fb, &b, TFL_BUFFER_DATA, 1, &data)) ||
		    (rc = mg_fb_u64(&r->fb, &b, TFL_BUFFER_SIZE, 0, &size)))
			return rc;
		if (data.n)
			size = data.n;
		if (!size)
			continue;
		if (!r->buffer_seen[index]) {
			r->buffer_seen[index] = 1;
			r->info->weight_bytes += size;
		}
		if ((rc = mg_fb_vector(&r->fb, &t, TFL_TENSOR_SHAPE, 4, &shape)))
			return rc;
		for (uint32_t k = 0; k < shape.n; k++) {
			int32_t d = mg_fb_vec_i32(&r->fb, &shape, k);
			if (d < 0 || (d && count > UINT64_MAX / (uint64_t)d))
				return mg_fb_invalid(&r->fb, shape.pos, "constant tensor %" PRIu32
						     " has dimension %" PRId32, i, d);
			count *= (uint64_t)d;
		}
		if (r->info->parameters > UINT64_MAX - count)
			return mg_fb_invalid(&r->fb, shape.pos, "parameter count overflows");
		r->info->parameters += count;
	}
	return 0;
}

static int read_model(reader *r)
{
	mg_fb_table root, sg;
	mg_fb_vec subgraphs;
	int rc;
	if (!mg_is_tflite(r->fb.data, r->fb.len))
		return mg_fb_invalid(&r->fb, 4, "no \"" TFL_IDENT "\" identifier");
	if ((rc = mg_fb_root(&r->fb, &root)) ||
	    (rc = mg_fb_vector(&r->fb, &root, TFL_MODEL_OPCODES, 4, &r->opcodes)) ||
	    (rc = mg_fb_vector(&r->fb, &root, TFL_MODEL_SUBGRAPHS, 4, &subgraphs)) ||
	    (rc = mg_fb_vector(&r->fb, &root, TFL_MODEL_BUFFERS, 4, &r->buffers)))
		return rc;
	if (!subgraphs.n)
		return mg_fb_invalid(&r->fb, root.pos, "no subgraph");
	if ((r->buffers.n && !(r->buffer_seen = calloc(r->buffers.n, 1))) ||
	    (r->opcodes.n && !(r->uses = calloc(r->opcodes.n, sizeof(*r->uses)))))
		return nomem(r);
	r->info->subgraphs = subgraphs.n;
	for (uint32_t i = 0; i < subgraphs.n; i++) {
		mg_fb_vec tensors;
		if ((rc = mg_fb_vec_table(&r->fb, &subgraphs, i, &sg)) ||
		    (rc = mg_fb_vector(&r->fb, &sg, TFL_SG_TENSORS, 4, &tensors)) ||
		    (rc = read_ops(r, &sg)) || (rc = read_constants(r, &tensors)))
			return rc;
		if (i == 0 &&
		    ((rc = read_io(r, &sg, &tensors, TFL_SG_INPUTS, &r->info->inputs, &r->info->ninputs)) ||
		     (rc = read_io(r, &sg, &tensors, TFL_SG_OUTPUTS, &r->info->outputs, &r->info->noutputs))))
			return rc;
	}
	return collect_ops(r);
}

int mg_tflite_info_parse(mg_model_info **out, const void *data, size_t len, const char *name,
			 mg_error *err)
{
	reader r = {.fb = {data, len, name, "TFLite model", err}};
	int rc;
	assert(out && name && (data || !len));
	*out = NULL;
	if (!(r.info = calloc(1, sizeof(*r.info))) || !(r.info->format = mg_strdup("tflite", NULL)))
		rc = nomem(&r);
	else
		rc = read_model(&r);
	free(r.buffer_seen);
	free(r.uses);
	if (rc)
		mg_model_info_free(r.info);
	else
		*out = r.info;
	return rc;
}
