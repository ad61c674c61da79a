/* flatbuf: a bounds-checked reader of FlatBuffers, for .tflite models and
 * any other flatbuffer modelgate reads. No schema, no generated code: a
 * caller walks tables by field index.
 *
 * Every position is a byte offset into the buffer. Each read checks that
 * what it touches lies inside the buffer and is aligned as FlatBuffers
 * aligns it; a hostile buffer gives MG_EINVAL naming the input (fb->name)
 * and what was wrong, never a read out of bounds. Offsets to tables,
 * vectors and strings (uoffsets) are unsigned and point forward, so a walk
 * cannot loop; vtables are reached by a signed offset and only read.
 * Nothing is allocated: a reader holds borrowed pointers into the buffer. */
#ifndef MG_FLATBUF_H
#define MG_FLATBUF_H

#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

typedef struct mg_fb {
	const uint8_t *data; /* aligned to 8 (malloc or mmap) */
	size_t len;
	const char *name;    /* for messages */
	const char *what;    /* the kind of file: "TFLite model" */
	mg_error *err;
} mg_fb;

typedef struct mg_fb_table {
	size_t pos;      /* the table: its soffset to the vtable */
	size_t vt;       /* the vtable */
	uint16_t vtlen;  /* bytes of the vtable */
	uint16_t tlen;   /* bytes of the table */
} mg_fb_table;

typedef struct mg_fb_vec {
	size_t pos; /* the first element (the length is at pos - 4) */
	uint32_t n; /* elements; 0 for a field that is absent */
} mg_fb_vec;

/* Fails with MG_EINVAL: "'NAME' is not a valid WHAT: <message> at byte OFF". */
int mg_fb_invalid(const mg_fb *fb, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The root table (the uoffset at byte 0). */
int mg_fb_root(const mg_fb *fb, mg_fb_table *out);
/* The table a uoffset at pos refers to (an entry of a vector of tables). */
int mg_fb_table_at(const mg_fb *fb, size_t pos, mg_fb_table *out);

/* Where field number `field` (0-based, as in the schema) of t is, or 0 when
 * it is absent. size is the field's byte size: the field must fit in the
 * table and be aligned to size. */
int mg_fb_field(const mg_fb *fb, const mg_fb_table *t, unsigned field, size_t size, size_t *pos);

/* Scalars: def when the field is absent. */
int mg_fb_u8(const mg_fb *fb, const mg_fb_table *t, unsigned field, uint8_t def, uint8_t *out);
int mg_fb_i32(const mg_fb *fb, const mg_fb_table *t, unsigned field, int32_t def, int32_t *out);
int mg_fb_u32(const mg_fb *fb, const mg_fb_table *t, unsigned field, uint32_t def, uint32_t *out);
int mg_fb_u64(const mg_fb *fb, const mg_fb_table *t, unsigned field, uint64_t def, uint64_t *out);

/* A table field; *present is 0 (and out untouched) when it is absent. */
int mg_fb_subtable(const mg_fb *fb, const mg_fb_table *t, unsigned field, mg_fb_table *out, int *present);
/* A vector field of elements of elem bytes (4 for tables and strings); an
 * absent one is empty. Elements are aligned to min(elem, 8). */
int mg_fb_vector(const mg_fb *fb, const mg_fb_table *t, unsigned field, size_t elem, mg_fb_vec *out);
/* A string field: *s points into the buffer (NUL-terminated, checked), or
 * is NULL when the field is absent. */
int mg_fb_string(const mg_fb *fb, const mg_fb_table *t, unsigned field, const char **s, size_t *len);
/* Entry i (< v->n) of a vector of tables. */
int mg_fb_vec_table(const mg_fb *fb, const mg_fb_vec *v, uint32_t i, mg_fb_table *out);

/* Entry i (< v->n) of a checked vector of scalars (little-endian). */
uint8_t mg_fb_vec_u8(const mg_fb *fb, const mg_fb_vec *v, uint32_t i);
int32_t mg_fb_vec_i32(const mg_fb *fb, const mg_fb_vec *v, uint32_t i);
int64_t mg_fb_vec_i64(const mg_fb *fb, const mg_fb_vec *v, uint32_t i);
float mg_fb_vec_f32(const mg_fb *fb, const mg_fb_vec *v, uint32_t i);

/* Little-endian loads at any position (the caller has checked bounds). */
uint16_t mg_fb_load16(const uint8_t *p);
uint32_t mg_fb_load32(const uint8_t *p);
uint64_t mg_fb_load64(const uint8_t *p);
void mg_fb_store32(uint8_t *p, uint32_t v);

#endif
