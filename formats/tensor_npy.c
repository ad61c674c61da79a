/* tensor_npy: NumPy's .npy format (format versions 1.0, 2.0 and 3.0).
 *
 * A file is the magic "\x93NUMPY", a version, a little-endian header length
 * (u16 for 1.0, u32 after), then a Python dict literal such as
 * {'descr': '<f4', 'fortran_order': False, 'shape': (360, 64), } padded with
 * spaces and a newline, then the array bytes. The dict is parsed strictly:
 * exactly those three keys; a payload whose size differs from what the shape
 * and dtype say is refused, as is Fortran order (modelgate's tensors are C
 * order and silently transposing would give wrong answers). */
#include "formats/tensor.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_HEADER_MAX 65536

typedef struct hdr {
	const char *p, *end;
	const char *name;
	mg_error *err;
} hdr;

static int bad(hdr *h, const char *what)
{
	return mg_error_set(h->err, MG_EINVAL, "'%s' is not a valid .npy file: %s", h->name, what);
}

static void skip_ws(hdr *h)
{
	while (h->p < h->end && (*h->p == ' ' || *h->p == '\t' || *h->p == '\n'))
		h->p++;
}

static int take(hdr *h, char c)
{
	skip_ws(h);
	if (h->p < h->end && *h->p == c) {
		h->p++;
		return 1;
	}
	return 0;
}

/* A quoted Python string without escapes into out. */
static int get_str(hdr *h, char *out, size_t outlen)
{
	skip_ws(h);
	if (h->p >= h->end || (*h->p != '\'' && *h->p != '"'))
		return bad(h, "expected a string in the header");
	char q = *h->p++;
	size_t n = 0;
	while (h->p < h->end && *h->p != q) {
		if (*h->p == '\\' || n + 1 >= outlen)
			return bad(h, "unsupported string in the header");
		out[n++] = *h->p++;
	}
	if (h->p >= h->end)
		return bad(h, "unterminated string in the header");
	h->p++;
	out[n] = '\0';
	return 0;
}

static int get_shape(hdr *h, int64_t *dims, size_t *rank)
{
	*rank = 0;
	if (!take(h, '('))
		return bad(h, "'shape' is not a tuple");
	for (;;) {
		if (take(h, ')'))
			return 0;
		skip_ws(h);
		if (h->p >= h->end || !isdigit((unsigned char)*h->p))
			return bad(h, "'shape' holds something other than non-negative integers");
		uint64_t v = 0;
		while (h->p < h->end && isdigit((unsigned char)*h->p)) {
			v = v * 10 + (uint64_t)(*h->p++ - '0');
			if (v > ((uint64_t)1 << 40))
				return bad(h, "a dimension in 'shape' is too large");
		}
		if (*rank >= MG_TENSOR_MAX_RANK)
			return bad(h, "'shape' has too many dimensions");
		dims[(*rank)++] = (int64_t)v;
		if (!take(h, ',') && !(skip_ws(h), h->p < h->end && *h->p == ')'))
			return bad(h, "'shape' is not a tuple of integers");
	}
}

/* '<f4' -> dtype; *swap when the data is big-endian. */
static int parse_descr(hdr *h, const char *d, mg_dtype *dt, int *swap)
{
	*swap = 0;
	char order = '|';
	if (*d == '<' || *d == '>' || *d == '|' || *d == '=')
		order = *d++;
	if (!strcmp(d, "?")) {
		*dt = MG_DT_BOOL;
		return 0;
	}
	char kind = *d ? *d++ : 0;
	char *end;
	long size = strtol(d, &end, 10);
	if (!*d || *end)
		size = -1;
	static const struct { char kind; long size; mg_dtype dt; } map[] = {
		{'f', 2, MG_DT_FLOAT16}, {'f', 4, MG_DT_FLOAT32}, {'f', 8, MG_DT_FLOAT64},
		{'i', 1, MG_DT_INT8},    {'i', 2, MG_DT_INT16},   {'i', 4, MG_DT_INT32},
		{'i', 8, MG_DT_INT64},   {'u', 1, MG_DT_UINT8},   {'u', 2, MG_DT_UINT16},
		{'u', 4, MG_DT_UINT32},  {'u', 8, MG_DT_UINT64},  {'b', 1, MG_DT_BOOL},
		{'c', 8, MG_DT_COMPLEX64}, {'c', 16, MG_DT_COMPLEX128},
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (map[i].kind == kind && map[i].size == size) {
			*dt = map[i].dt;
			*swap = order == '>' && size > 1;
			return 0;
		}
	}
	char msg[96];
	snprintf(msg, sizeof(msg), "dtype '%.40s' is not supported (numeric and bool only)",
		 d - (kind ? 1 : 0));
	return bad(h, msg);
}

/* Reverses the bytes of each unit-sized scalar. */
static void byteswap(void *data, size_t nbytes, size_t unit)
{
	unsigned char *p = data;
	for (size_t off = 0; off + unit <= nbytes; off += unit)
		for (size_t i = 0; i < unit / 2; i++) {
			unsigned char c = p[off + i];
			p[off + i] = p[off + unit - 1 - i];
			p[off + unit - 1 - i] = c;
		}
}

int mg_npy_parse(mg_tensor **out, const void *data, size_t len, const char *name,
		 mg_error *err)
{
	*out = NULL;
	const unsigned char *b = data;
	hdr h = {NULL, NULL, name, err};
	if (len < 10 || memcmp(b, NPY_MAGIC, 6))
		return bad(&h, "no .npy magic");
	int major = b[6];
	size_t hlen, start;
	if (major == 1) {
		hlen = (size_t)b[8] | (size_t)b[9] << 8;
		start = 10;
	} else if (major == 2 || major == 3) {
		if (len < 12)
			return bad(&h, "truncated header");
		hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
		start = 12;
	} else {
		return bad(&h, "unknown format version");
	}
	if (hlen > NPY_HEADER_MAX || hlen > len - start)
		return bad(&h, "truncated header");
	h.p = (const char *)b + start;
	h.end = h.p + hlen;
	char descr[64] = "";
	int fortran = -1, have_shape = 0;
	int64_t dims[MG_TENSOR_MAX_RANK];
	size_t rank = 0;
	int rc;
	if (!take(&h, '{'))
		return bad(&h, "the header is not a dict");
	while (!take(&h, '}')) {
		char key[32];
		if ((rc = get_str(&h, key, sizeof(key))))
			return rc;
		if (!take(&h, ':'))
			return bad(&h, "expected ':' in the header");
		if (!strcmp(key, "descr") && !descr[0]) {
			if ((rc = get_str(&h, descr, sizeof(descr))))
				return rc;
		} else if (!strcmp(key, "fortran_order") && fortran < 0) {
			skip_ws(&h);
			if ((size_t)(h.end - h.p) >= 4 && !memcmp(h.p, "True", 4))
				fortran = 1, h.p += 4;
			else if ((size_t)(h.end - h.p) >= 5 && !memcmp(h.p, "False", 5))
				fortran = 0, h.p += 5;
			else
				return bad(&h, "'fortran_order' is not True or False");
		} else if (!strcmp(key, "shape") && !have_shape) {
			if ((rc = get_shape(&h, dims, &rank)))
				return rc;
			have_shape = 1;
		} else {
			return bad(&h, "unexpected or repeated key in the header");
		}
		if (!take(&h, ',')) {
			if (!take(&h, '}'))
				return bad(&h, "expected ',' or '}' in the header");
			break;
		}
	}
	if (!descr[0] || fortran < 0 || !have_shape)
		return bad(&h, "the header lacks 'descr', 'fortran_order' or 'shape'");
	if (fortran)
		return mg_error_set(err, MG_EINVAL,
				    "'%s' is in Fortran order; save it in C order "
				    "(numpy.ascontiguousarray)", name);
	mg_dtype dt = 0;
	int swap;
	if ((rc = parse_descr(&h, descr, &dt, &swap)))
		return rc;
	size_t elem = mg_dtype_size(dt);
	int64_t count = mg_shape_count(dims, rank, elem);
	if (count < 0)
		return bad(&h, "the shape is too large");
	size_t payload = len - start - hlen;
	if (payload != (size_t)count * elem) {
		char msg[128];
		snprintf(msg, sizeof(msg), "the header says %zu bytes of data, the file has %zu",
			 (size_t)count * elem, payload);
		return bad(&h, msg);
	}
	mg_tensor *t;
	if ((rc = mg_tensor_new(&t, "", dt, dims, rank, err)))
		return rc;
	memcpy(t->data, b + start + hlen, payload);
	if (swap)
		byteswap(t->data, t->nbytes, dt == MG_DT_COMPLEX64 || dt == MG_DT_COMPLEX128 ? elem / 2 : elem);
	*out = t;
	return 0;
}

int mg_npy_read(mg_tensor **out, const char *path, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	int rc = mg_file_read(&b, path, MG_TENSOR_MAX_BYTES + NPY_HEADER_MAX, err);
	if (!rc)
		rc = mg_npy_parse(out, b.data, b.len, path, err);
	mg_buf_free(&b);
	return rc;
}

static const char *npy_descr(mg_dtype t)
{
	switch (t) {
	case MG_DT_FLOAT16: return "<f2";
	case MG_DT_FLOAT32: return "<f4";
	case MG_DT_FLOAT64: return "<f8";
	case MG_DT_INT8: return "|i1";
	case MG_DT_INT16: return "<i2";
	case MG_DT_INT32: return "<i4";
	case MG_DT_INT64: return "<i8";
	case MG_DT_UINT8: return "|u1";
	case MG_DT_UINT16: return "<u2";
	case MG_DT_UINT32: return "<u4";
	case MG_DT_UINT64: return "<u8";
	case MG_DT_BOOL: return "|b1";
	case MG_DT_COMPLEX64: return "<c8";
	case MG_DT_COMPLEX128: return "<c16";
	default: return NULL;
	}
}

int mg_npy_write(mg_buf *out, const mg_tensor *t, mg_error *err)
{
	const char *descr = npy_descr(t->dtype);
	if (!descr)
		return mg_error_set(err, MG_EINVAL, "tensor '%s': %s cannot be written as .npy",
				    t->name, mg_dtype_name(t->dtype));
	char dict[512];
	int n = snprintf(dict, sizeof(dict), "{'descr': '%s', 'fortran_order': False, 'shape': (",
			 descr);
	for (size_t i = 0; i < t->rank; i++)
		n += snprintf(dict + n, sizeof(dict) - (size_t)n, "%lld%s", (long long)t->dims[i],
			      t->rank == 1 || i + 1 < t->rank ? ", " : "");
	if (t->rank == 1) /* "(5, )" -> "(5,)" as numpy writes it */
		n--;
	n += snprintf(dict + n, sizeof(dict) - (size_t)n, "), }");
	/* pad with spaces so that data starts at a multiple of 64, then '\n' */
	size_t total = 10 + (size_t)n + 1;
	size_t pad = (64 - total % 64) % 64;
	size_t hlen = (size_t)n + pad + 1;
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0,
				 (unsigned char)(hlen & 0xff), (unsigned char)(hlen >> 8)};
	int rc = mg_buf_grow(out, 10 + hlen + t->nbytes, err);
	if (!rc)
		rc = mg_buf_append(out, pre, sizeof(pre), err);
	if (!rc)
		rc = mg_buf_append(out, dict, (size_t)n, err);
	for (size_t i = 0; !rc && i < pad; i++)
		rc = mg_buf_append(out, " ", 1, err);
	if (!rc)
		rc = mg_buf_append(out, "\n", 1, err);
	if (!rc)
		rc = mg_buf_append(out, t->data, t->nbytes, err);
	return rc;
}
