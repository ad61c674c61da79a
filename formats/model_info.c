/* model_info: what an ONNX model declares about itself (producer, IR
 * version, opset, graph inputs and outputs, parameter count), read straight
 * from the protobuf wire format without libprotobuf or an inference engine.
 *
 * The file is mapped read-only and walked once. Only the messages on the
 * paths ModelProto -> GraphProto -> ValueInfoProto -> TypeProto ->
 * TensorShapeProto and GraphProto -> TensorProto (dims and name) are decoded;
 * every other field, nodes and initializer payloads included, is stepped over
 * by its length, so its pages are never touched and a 2 GiB model costs no
 * 2 GiB of memory. Every read is checked against the end of the message that
 * encloses it; bad input is MG_EINVAL naming the input and the byte offset.
 * A singular message that occurs twice is merged, as protobuf specifies:
 * scalars keep the last value, repeated fields append.
 *
 * mg_model_info_read decides the format: a TFLite identifier in the bytes
 * goes to formats/tflite.c, whatever the file's name; else the extension.
 */
#include "formats/model_info.h"
#include "formats/protobuf.h"
#include "formats/tflite.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Limits that keep memory proportionate on hostile input. */
#define MAX_DEPTH 16                /* nesting; the schema read needs 7 */
#define MAX_RANK 1024               /* dimensions of one tensor */
#define MAX_DIMS ((size_t)1 << 20)  /* dimensions of all inputs and outputs */
#define MAX_IO ((size_t)1 << 16)    /* inputs, or outputs */
#define MAX_INITS ((size_t)1 << 22) /* initializers */

/* The body of a message: bytes [pos, end) of the input, depth levels below
 * ModelProto. */
typedef struct span { size_t pos, end; int depth; } span;

typedef struct field {
	uint32_t num;
	int wire;
	size_t off;     /* offset of the key */
	uint64_t value; /* varint fields */
	span body;      /* length-delimited fields */
} field;

/* A name inside the input, not NUL-terminated. */
typedef struct name_ref { const uint8_t *p; size_t len; } name_ref;

typedef struct parser {
	const uint8_t *data;
	const char *name;
	mg_error *err;
	mg_model_info *info;
	size_t cap_inputs, cap_outputs;
	name_ref *inits; /* initializer names */
	size_t ninits, cap_inits;
	size_t ndims;
	int has_graph;
} parser;

/* Indexed by TensorProto.DataType. */
static const char *const dtype_names[] = {
	"unknown", "float32", "uint8", "int8", "uint16", "int16", "int32",
	"int64", "string", "bool", "float16", "float64", "uint32", "uint64",
	"complex64", "complex128", "bfloat16", "float8e4m3fn", "float8e4m3fnuz",
	"float8e5m2", "float8e5m2fnuz", "uint4", "int4",
};

__attribute__((format(printf, 3, 4)))
static int invalid(parser *p, size_t off, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mg_error_set(p->err, MG_EINVAL,
			    "'%s' is not a valid ONNX model: %s at offset %zu",
			    p->name, what, off);
}

/* The message for a failed read of the wire-format reader. */
static int pb_invalid(parser *p, const mg_pb *r, const mg_pb_field *f, int st)
{
	switch (st) {
	case MG_PB_EFIELD_NUMBER:
		return invalid(p, r->err_off, "invalid field number %" PRIu64, f->value);
	case MG_PB_ETRUNCATED_FIXED:
		return invalid(p, r->err_off, "truncated fixed%d", f->wire == MG_PB_I64 ? 64 : 32);
	case MG_PB_EPAST_END:
		return invalid(p, r->err_off, "length %" PRIu64 " runs past the end of its message",
			       f->value);
	case MG_PB_EGROUP:
		return invalid(p, r->err_off, "unsupported group (wire type %d)", f->wire);
	case MG_PB_EWIRE:
		return invalid(p, r->err_off, "invalid wire type %d", f->wire);
	default:
		return invalid(p, r->err_off, "%s", mg_pb_what(st));
	}
}

static int read_varint(parser *p, span *s, uint64_t *out)
{
	mg_pb r = {p->data, s->pos, s->end, 0};
	int st = mg_pb_varint(&r, out);
	s->pos = r.pos;
	return st ? pb_invalid(p, &r, NULL, st) : 0;
}

/* Reads the field at s->pos into f. */
static int next_field(parser *p, span *s, field *f)
{
	mg_pb r = {p->data, s->pos, s->end, 0};
	mg_pb_field pf;
	int st = mg_pb_next(&r, &pf);
	if (st)
		return pb_invalid(p, &r, &pf, st);
	f->num = pf.num;
	f->wire = pf.wire;
	f->off = pf.off;
	f->value = pf.value;
	f->body = (span){0, 0, 0};
	if (pf.wire == MG_PB_LEN) {
		if (s->depth >= MAX_DEPTH)
			return invalid(p, f->off, "messages nested deeper than %d", MAX_DEPTH);
		f->body = (span){pf.body_pos, pf.body_end, s->depth + 1};
	}
	s->pos = r.pos;
	return 0;
}

/* The loop over the fields of a message: 1 while there is a next field and
 * no error, which is left in *rc. */
static int more(parser *p, span *s, field *f, int *rc)
{
	return !*rc && s->pos < s->end && !(*rc = next_field(p, s, f));
}

static int expect(parser *p, const field *f, int wire, const char *what)
{
	if (f->wire == wire)
		return 0;
	return invalid(p, f->off, "%s has wire type %d, not %d", what, f->wire, wire);
}

/* The body of a message field. */
static int open_msg(parser *p, const field *f, const char *what, span *out)
{
	*out = f->body;
	return expect(p, f, MG_PB_LEN, what);
}

static int get_int(parser *p, const field *f, const char *what, int64_t *out)
{
	int rc = expect(p, f, MG_PB_VARINT, what);
	if (!rc)
		*out = (int64_t)f->value;
	return rc;
}

/* Replaces *out with a copy of a string field. */
static int get_str(parser *p, const field *f, const char *what, char **out)
{
	int rc = expect(p, f, MG_PB_LEN, what);
	if (rc)
		return rc;
	size_t len = f->body.end - f->body.pos;
	char *s = malloc(len + 1);
	if (!s)
		return mg_error_set(p->err, MG_ENOMEM, "out of memory (%zu bytes)", len + 1);
	memcpy(s, p->data + f->body.pos, len);
	s[len] = '\0';
	free(*out);
	*out = s;
	return 0;
}

/* Makes room for element n of *arr, which has room for *cap and may hold
 * up to max of what. */
static int grow(parser *p, void **arr, size_t n, size_t *cap, size_t size,
		size_t max, const char *what, const field *f)
{
	size_t want, bytes;
	if (n < *cap)
		return 0;
	if (n >= max)
		return invalid(p, f->off, "more than %zu %s", max, what);
	want = *cap ? *cap * 2 : 8;
	if (want > max)
		want = max;
	if (mg_size_mul(want, size, &bytes))
		return mg_error_set(p->err, MG_ENOMEM, "out of memory");
	void *grown = realloc(*arr, bytes);
	if (!grown)
		return mg_error_set(p->err, MG_ENOMEM, "out of memory (%zu bytes)", bytes);
	*arr = grown;
	*cap = want;
	return 0;
}

/* Appends a TensorShapeProto.Dimension to t. */
static int parse_dim(parser *p, const field *df, mg_tensor_info *t)
{
	field f;
	span s;
	int rc = open_msg(p, df, "TensorShapeProto.dim", &s);
	if (rc)
		return rc;
	if (t->rank >= MAX_RANK)
		return invalid(p, df->off, "more than %d dimensions", MAX_RANK);
	if (p->ndims++ >= MAX_DIMS)
		return invalid(p, df->off, "more than %zu dimensions in one model", MAX_DIMS);
	int64_t *dims = realloc(t->dims, (t->rank + 1) * sizeof(*dims));
	if (dims)
		t->dims = dims;
	char **names = realloc(t->dim_names, (t->rank + 1) * sizeof(*names));
	if (names)
		t->dim_names = names;
	if (!dims || !names)
		return mg_error_set(p->err, MG_ENOMEM, "out of memory");
	int64_t *value = &t->dims[t->rank];
	char **param = &t->dim_names[t->rank++];
	*value = -1;
	*param = NULL;

	while (more(p, &s, &f, &rc)) {
		if (f.num == 1) {
			rc = get_int(p, &f, "Dimension.dim_value", value);
			if (*value < 0)
				*value = -1;
			free(*param);
			*param = NULL;
		} else if (f.num == 2) {
			rc = get_str(p, &f, "Dimension.dim_param", param);
			*value = -1;
		}
	}
	if (*param && !**param) {
		free(*param);
		*param = NULL;
	}
	return rc;
}

/* TypeProto: only tensor_type (elem_type, shape) is read; sequences, maps,
 * optionals and sparse tensors keep dtype "unknown" and no shape. */
static int parse_type(parser *p, const field *tf, mg_tensor_info *t, int64_t *elem)
{
	field f, g, h;
	span s, ts, ss;
	int rc = open_msg(p, tf, "ValueInfoProto.type", &s);
	while (more(p, &s, &f, &rc)) {
		if (f.num != 1 || (rc = open_msg(p, &f, "TypeProto.tensor_type", &ts)))
			continue;
		while (more(p, &ts, &g, &rc)) {
			if (g.num == 1) {
				rc = get_int(p, &g, "TypeProto.Tensor.elem_type", elem);
			} else if (g.num == 2 && !(rc = open_msg(p, &g, "TypeProto.Tensor.shape", &ss))) {
				if (t->rank == SIZE_MAX)
					t->rank = 0;
				while (more(p, &ss, &h, &rc))
					if (h.num == 1)
						rc = parse_dim(p, &h, t);
			}
		}
	}
	return rc;
}

/* Appends a ValueInfoProto to *arr. */
static int parse_value_info(parser *p, const field *vf, mg_tensor_info **arr,
			    size_t *n, size_t *cap)
{
	field f;
	span s;
	int64_t elem = 0;
	void *grown = *arr;
	int rc = open_msg(p, vf, "GraphProto input or output", &s);
	if (!rc)
		rc = grow(p, &grown, *n, cap, sizeof(**arr), MAX_IO, "inputs or outputs", vf);
	*arr = grown;
	if (rc)
		return rc;
	mg_tensor_info *t = &(*arr)[(*n)++];
	memset(t, 0, sizeof(*t));
	t->rank = SIZE_MAX;

	while (more(p, &s, &f, &rc)) {
		if (f.num == 1)
			rc = get_str(p, &f, "ValueInfoProto.name", &t->name);
		else if (f.num == 2)
			rc = parse_type(p, &f, t, &elem);
	}
	if (rc)
		return rc;
	if (elem < 0 || (uint64_t)elem >= sizeof(dtype_names) / sizeof(dtype_names[0]))
		elem = 0;
	if (!t->name && !(t->name = mg_strdup("", p->err)))
		return MG_ENOMEM;
	if (!(t->dtype = mg_strdup(dtype_names[elem], p->err)))
		return MG_ENOMEM;
	return 0;
}

static int mul_dim(parser *p, size_t off, uint64_t dim, uint64_t *count)
{
	if ((int64_t)dim < 0)
		return invalid(p, off, "negative initializer dimension %" PRId64, (int64_t)dim);
	if (dim && *count > UINT64_MAX / dim)
		return invalid(p, off, "initializer size overflows 64 bits");
	*count *= dim;
	return 0;
}

/* Adds the elements of a TensorProto to the parameter count and records its
 * name. dims may be packed or not. */
static int parse_tensor(parser *p, const field *tf)
{
	field f;
	span s, packed;
	uint64_t count = 1, dim;
	name_ref name = {NULL, 0};
	int rc = open_msg(p, tf, "TensorProto", &s);
	while (more(p, &s, &f, &rc)) {
		if (f.num == 1 && f.wire == MG_PB_LEN) {
			for (packed = f.body; !rc && packed.pos < packed.end;) {
				size_t off = packed.pos;
				if (!(rc = read_varint(p, &packed, &dim)))
					rc = mul_dim(p, off, dim, &count);
			}
		} else if (f.num == 1 && !(rc = expect(p, &f, MG_PB_VARINT, "TensorProto.dims"))) {
			rc = mul_dim(p, f.off, f.value, &count);
		} else if (f.num == 8 && !(rc = expect(p, &f, MG_PB_LEN, "TensorProto.name"))) {
			name = (name_ref){p->data + f.body.pos, f.body.end - f.body.pos};
		}
	}
	if (rc)
		return rc;
	if (p->info->parameters > UINT64_MAX - count)
		return invalid(p, tf->off, "parameter count overflows 64 bits");
	p->info->parameters += count;
	if (!name.len)
		return 0;
	void *grown = p->inits;
	rc = grow(p, &grown, p->ninits, &p->cap_inits, sizeof(*p->inits), MAX_INITS,
		  "initializers", tf);
	p->inits = grown;
	if (!rc)
		p->inits[p->ninits++] = name;
	return rc;
}

static int parse_graph(parser *p, const field *gf)
{
	mg_model_info *info = p->info;
	field f, g;
	span s, sparse;
	int rc = open_msg(p, gf, "ModelProto.graph", &s);
	p->has_graph = 1;
	while (more(p, &s, &f, &rc)) {
		if (f.num == 5) {
			rc = parse_tensor(p, &f);
		} else if (f.num == 11) {
			rc = parse_value_info(p, &f, &info->inputs, &info->ninputs, &p->cap_inputs);
		} else if (f.num == 12) {
			rc = parse_value_info(p, &f, &info->outputs, &info->noutputs, &p->cap_outputs);
		} else if (f.num == 15 && !(rc = open_msg(p, &f, "GraphProto.sparse_initializer", &sparse))) {
			/* a SparseTensorProto keeps its non-zero values in field 1 */
			while (more(p, &sparse, &g, &rc))
				if (g.num == 1)
					rc = parse_tensor(p, &g);
		}
	}
	return rc;
}

static int parse_opset(parser *p, const field *of)
{
	field f;
	span s, domain = {0, 0, 0};
	int64_t version = 0;
	int rc = open_msg(p, of, "ModelProto.opset_import", &s);
	while (more(p, &s, &f, &rc)) {
		if (f.num == 1)
			rc = open_msg(p, &f, "OperatorSetIdProto.domain", &domain);
		else if (f.num == 2)
			rc = get_int(p, &f, "OperatorSetIdProto.version", &version);
	}
	size_t len = domain.end - domain.pos;
	if (!rc && (!len || (len == 7 && !memcmp(p->data + domain.pos, "ai.onnx", 7))))
		p->info->opset = version;
	return rc;
}

static int parse_model(parser *p, span s)
{
	field f;
	int rc = 0;
	while (more(p, &s, &f, &rc)) {
		if (f.num == 1)
			rc = get_int(p, &f, "ModelProto.ir_version", &p->info->ir_version);
		else if (f.num == 2)
			rc = get_str(p, &f, "ModelProto.producer_name", &p->info->producer);
		else if (f.num == 7)
			rc = parse_graph(p, &f);
		else if (f.num == 8)
			rc = parse_opset(p, &f);
	}
	return rc;
}

static int cmp_name(const void *a, const void *b)
{
	const name_ref *x = a, *y = b;
	int c = memcmp(x->p, y->p, x->len < y->len ? x->len : y->len);
	if (c)
		return c;
	return (x->len > y->len) - (x->len < y->len);
}

static void tensor_clear(mg_tensor_info *t)
{
	if (t->dim_names)
		for (size_t i = 0; i < t->rank; i++)
			free(t->dim_names[i]);
	free(t->name);
	free(t->dtype);
	free(t->dims);
	free(t->dim_names);
	free(t->quant.scales);
	free(t->quant.zero_points);
}

/* Before IR version 4 every initializer was also listed as a graph input;
 * those are weights, not inputs a caller feeds. */
static void drop_initializer_inputs(parser *p)
{
	mg_model_info *info = p->info;
	size_t kept = 0;
	if (!p->ninits)
		return;
	qsort(p->inits, p->ninits, sizeof(*p->inits), cmp_name);
	for (size_t i = 0; i < info->ninputs; i++) {
		mg_tensor_info *t = &info->inputs[i];
		name_ref key = {(const uint8_t *)t->name, strlen(t->name)};
		if (bsearch(&key, p->inits, p->ninits, sizeof(*p->inits), cmp_name))
			tensor_clear(t);
		else
			info->inputs[kept++] = *t;
	}
	info->ninputs = kept;
}

static int new_info(mg_model_info **out, const char *format, mg_error *err)
{
	mg_model_info *info = calloc(1, sizeof(*info));
	if (!info)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	if (!(info->format = mg_strdup(format, err))) {
		free(info);
		return MG_ENOMEM;
	}
	*out = info;
	return 0;
}

int mg_model_info_parse(mg_model_info **out, const void *data, size_t len,
			const char *name, mg_error *err)
{
	parser p = {.data = data, .name = name, .err = err};
	int rc;

	assert(out && name && (data || !len));
	*out = NULL;
	if ((rc = new_info(&p.info, "onnx", err)))
		goto done;
	if ((rc = parse_model(&p, (span){0, len, 0})))
		goto done;
	if (!p.has_graph) {
		rc = mg_error_set(err, MG_EINVAL, "'%s' is not a valid ONNX model: no graph", name);
		goto done;
	}
	drop_initializer_inputs(&p);
done:
	free(p.inits);
	if (rc)
		mg_model_info_free(p.info);
	else
		*out = p.info;
	return rc;
}

static int has_ext(const char *path, const char *ext)
{
	const char *base = strrchr(path, '/');
	const char *dot = strrchr(base ? base + 1 : path, '.');
	return dot && !strcasecmp(dot, ext);
}

int mg_model_info_read(mg_model_info **out, const char *path, mg_error *err)
{
	struct stat st;
	void *map = MAP_FAILED;
	size_t len = 0;
	int fd, rc;

	assert(out && path);
	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		rc = errno == ENOENT || errno == ENOTDIR ? MG_ENOTFOUND : MG_EIO;
		rc = mg_error_sys(err, rc, errno, "cannot read '%s'", path);
		goto done;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = mg_error_set(err, MG_EINVAL, "cannot read '%s': not a regular file", path);
		goto done;
	}
	if ((uintmax_t)st.st_size > SIZE_MAX) {
		rc = mg_error_set(err, MG_ENOMEM, "cannot map '%s': too large", path);
		goto done;
	}
	len = (size_t)st.st_size;
	/* a file truncated by someone else while mapped raises SIGBUS */
	if (len) {
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map == MAP_FAILED) {
			rc = mg_error_sys(err, MG_EIO, errno, "cannot map '%s'", path);
			goto done;
		}
	}
	/* by content first: a TFLite model need not be called .tflite */
	if (mg_is_tflite(len ? map : "", len) || has_ext(path, ".tflite"))
		rc = mg_tflite_info_parse(out, len ? map : NULL, len, path, err);
	else if (has_ext(path, ".onnx"))
		rc = mg_model_info_parse(out, len ? map : NULL, len, path, err);
	else
		rc = new_info(out, "unknown", err);
done:
	if (map != MAP_FAILED)
		munmap(map, len);
	if (fd >= 0)
		close(fd);
	return rc;
}

void mg_model_info_free(mg_model_info *info)
{
	if (!info)
		return;
	for (size_t i = 0; i < info->ninputs; i++)
		tensor_clear(&info->inputs[i]);
	for (size_t i = 0; i < info->noutputs; i++)
		tensor_clear(&info->outputs[i]);
	for (size_t i = 0; i < info->nops; i++)
		free(info->ops[i].name);
	free(info->ops);
	free(info->inputs);
	free(info->outputs);
	free(info->format);
	free(info->producer);
	free(info);
}
