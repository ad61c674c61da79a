/* flatbuf: the checks that stand between a hostile flatbuffer and a read
 * out of bounds (flatbuf.h says what is checked). Positions are size_t byte
 * offsets; sums are compared against len before they are formed, so no sum
 * can wrap. Loads go through bytes, so an unaligned buffer in a test would
 * still read correctly; alignment is checked all the same, because a file
 * that breaks it was not written by a FlatBuffers builder. */
#include "formats/flatbuf.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

uint16_t mg_fb_load16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

uint32_t mg_fb_load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

uint64_t mg_fb_load64(const uint8_t *p)
{
	return (uint64_t)mg_fb_load32(p) | (uint64_t)mg_fb_load32(p + 4) << 32;
}

void mg_fb_store32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

int mg_fb_invalid(const mg_fb *fb, size_t off, const char *fmt, ...)
{
	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return mg_error_set(fb->err, MG_EINVAL, "'%s' is not a valid %s: %s at byte %zu", fb->name,
			    fb->what, what, off);
}

/* [pos, pos+size) inside the buffer and pos aligned to align. */
static int check(const mg_fb *fb, size_t pos, size_t size, size_t align, const char *what)
{
	if (pos > fb->len || size > fb->len - pos)
		return mg_fb_invalid(fb, pos, "%s runs past the end (%zu bytes)", what, fb->len);
	if (pos % align)
		return mg_fb_invalid(fb, pos, "%s is not aligned to %zu", what, align);
	return 0;
}

/* The position a uoffset at pos refers to. */
static int follow(const mg_fb *fb, size_t pos, const char *what, size_t *out)
{
	int rc = check(fb, pos, 4, 4, what);
	if (rc)
		return rc;
	uint32_t off = mg_fb_load32(fb->data + pos);
	if (off > fb->len - pos)
		return mg_fb_invalid(fb, pos, "%s points past the end (offset %u)", what, off);
	*out = pos + off;
	return 0;
}

int mg_fb_table_at(const mg_fb *fb, size_t pos, mg_fb_table *out)
{
	size_t t;
	int rc = follow(fb, pos, "offset to a table", &t);
	if (rc || (rc = check(fb, t, 4, 4, "table")))
		return rc;
	int64_t vt = (int64_t)t - (int32_t)mg_fb_load32(fb->data + t);
	if (vt < 0 || (uint64_t)vt > fb->len)
		return mg_fb_invalid(fb, t, "vtable offset points outside the file");
	if ((rc = check(fb, (size_t)vt, 4, 2, "vtable")))
		return rc;
	uint16_t vtlen = mg_fb_load16(fb->data + vt), tlen = mg_fb_load16(fb->data + vt + 2);
	if (vtlen < 4 || vtlen % 2)
		return mg_fb_invalid(fb, (size_t)vt, "vtable size %u is invalid", vtlen);
	if (tlen < 4)
		return mg_fb_invalid(fb, (size_t)vt, "table size %u is invalid", tlen);
	if ((rc = check(fb, (size_t)vt, vtlen, 2, "vtable")) || (rc = check(fb, t, tlen, 4, "table")))
		return rc;
	*out = (mg_fb_table){t, (size_t)vt, vtlen, tlen};
	return 0;
}

int mg_fb_root(const mg_fb *fb, mg_fb_table *out)
{
	if (fb->len < 8)
		return mg_fb_invalid(fb, 0, "too short (%zu bytes)", fb->len);
	return mg_fb_table_at(fb, 0, out);
}

int mg_fb_field(const mg_fb *fb, const mg_fb_table *t, unsigned field, size_t size, size_t *pos)
{
	size_t slot = 4 + 2 * (size_t)field;
	*pos = 0;
	if (slot + 2 > t->vtlen)
		return 0;
	uint16_t off = mg_fb_load16(fb->data + t->vt + slot);
	if (!off)
		return 0;
	if (off < 4 || size > t->tlen || off > t->tlen - size)
		return mg_fb_invalid(fb, t->pos, "field %u lies outside its table", field);
	if ((t->pos + off) % (size < 8 ? size : 8))
		return mg_fb_invalid(fb, t->pos + off, "field %u is not aligned", field);
	*pos = t->pos + off;
	return 0;
}

static int scalar(const mg_fb *fb, const mg_fb_table *t, unsigned field, size_t size, uint64_t def,
		  uint64_t *out)
{
	size_t pos;
	int rc = mg_fb_field(fb, t, field, size, &pos);
	if (rc)
		return rc;
	if (!pos)
		*out = def;
	else if (size == 1)
		*out = fb->data[pos];
	else if (size == 4)
		*out = mg_fb_load32(fb->data + pos);
	else
		*out = mg_fb_load64(fb->data + pos);
	return 0;
}

int mg_fb_u8(const mg_fb *fb, const mg_fb_table *t, unsigned field, uint8_t def, uint8_t *out)
{
	uint64_t v;
	int rc = scalar(fb, t, field, 1, def, &v);
	if (!rc)
		*out = (uint8_t)v;
	return rc;
}

int mg_fb_u32(const mg_fb *fb, const mg_fb_table *t, unsigned field, uint32_t def, uint32_t *out)
{
	uint64_t v;
	int rc = scalar(fb, t, field, 4, def, &v);
	if (!rc)
		*out = (uint32_t)v;
	return rc;
}

int mg_fb_i32(const mg_fb *fb, const mg_fb_table *t, unsigned field, int32_t def, int32_t *out)
{
	uint32_t v;
	int rc = mg_fb_u32(fb, t, field, (uint32_t)def, &v);
	if (!rc)
		*out = (int32_t)v;
	return rc;
}

int mg_fb_u64(const mg_fb *fb, const mg_fb_table *t, unsigned field, uint64_t def, uint64_t *out)
{
	return scalar(fb, t, field, 8, def, out);
}

int mg_fb_subtable(const mg_fb *fb, const mg_fb_table *t, unsigned field, mg_fb_table *out, int *present)
{
	size_t pos;
	int rc = mg_fb_field(fb, t, field, 4, &pos);
	*present = 0;
	if (rc || !pos)
		return rc;
	if ((rc = mg_fb_table_at(fb, pos, out)))
		return rc;
	*present = 1;
	return 0;
}

/* The vector a uoffset at pos refers to. */
static int vector_at(const mg_fb *fb, size_t pos, size_t elem, mg_fb_vec *out)
{
	size_t v;
	int rc = follow(fb, pos, "offset to a vector", &v);
	if (rc || (rc = check(fb, v, 4, 4, "vector length")))
		return rc;
	uint32_t n = mg_fb_load32(fb->data + v);
	size_t align = elem < 4 ? 1 : elem < 8 ? elem : 8;
	if ((uint64_t)n * elem > fb->len - v - 4)
		return mg_fb_invalid(fb, v, "vector of %u elements runs past the end", n);
	if ((rc = check(fb, v + 4, (size_t)n * elem, align, "vector")))
		return rc;
	*out = (mg_fb_vec){v + 4, n};
	return 0;
}

int mg_fb_vector(const mg_fb *fb, const mg_fb_table *t, unsigned field, size_t elem, mg_fb_vec *out)
{
	size_t pos;
	int rc = mg_fb_field(fb, t, field, 4, &pos);
	*out = (mg_fb_vec){0, 0};
	if (rc || !pos)
		return rc;
	return vector_at(fb, pos, elem, out);
}

int mg_fb_string(const mg_fb *fb, const mg_fb_table *t, unsigned field, const char **s, size_t *len)
{
	mg_fb_vec v;
	size_t pos;
	int rc = mg_fb_field(fb, t, field, 4, &pos);
	*s = NULL;
	*len = 0;
	if (rc || !pos)
		return rc;
	if ((rc = vector_at(fb, pos, 1, &v)))
		return rc;
	if (v.n >= fb->len - v.pos || fb->data[v.pos + v.n])
		return mg_fb_invalid(fb, v.pos, "string is not NUL-terminated");
	*s = (const char *)fb->data + v.pos;
	*len = v.n;
	return 0;
}

int mg_fb_vec_table(const mg_fb *fb, const mg_fb_vec *v, uint32_t i, mg_fb_table *out)
{
	assert(i < v->n);
	return mg_fb_table_at(fb, v->pos + 4 * (size_t)i, out);
}

uint8_t mg_fb_vec_u8(const mg_fb *fb, const mg_fb_vec *v, uint32_t i)
{
	assert(i < v->n);
	return fb->data[v->pos + i];
}

int32_t mg_fb_vec_i32(const mg_fb *fb, const mg_fb_vec *v, uint32_t i)
{
	assert(i < v->n);
	return (int32_t)mg_fb_load32(fb->data + v->pos + 4 * (size_t)i);
}

int64_t mg_fb_vec_i64(const mg_fb *fb, const mg_fb_vec *v, uint32_t i)
{
	assert(i < v->n);
	return (int64_t)mg_fb_load64(fb->data + v->pos + 8 * (size_t)i);
}

float mg_fb_vec_f32(const mg_fb *fb, const mg_fb_vec *v, uint32_t i)
{
	uint32_t u = (uint32_t)mg_fb_vec_i32(fb, v, i);
	float f;
	memcpy(&f, &u, sizeof(f));
	return f;
}
