/* protobuf: the one reader of the protobuf wire format, under the ONNX
 * model reader (model_info.c) and the TensorProto reader (tensor_pb.c).
 * It decodes varints and field keys and delimits field bodies; every read
 * is checked against the end of the enclosing message, nothing is
 * allocated, and nothing is worded: a read returns an MG_PB_* outcome and
 * the offset it concerns, and the caller names its input in the message
 * (mg_pb_what gives the words). */
#ifndef MG_PROTOBUF_H
#define MG_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

enum { MG_PB_VARINT = 0, MG_PB_I64 = 1, MG_PB_LEN = 2, MG_PB_I32 = 5 };

/* Outcomes of a read; 0 is success. */
enum {
	MG_PB_OK = 0,
	MG_PB_ETRUNCATED_VARINT,
	MG_PB_ELONG_VARINT,     /* more than 10 bytes */
	MG_PB_EOVERFLOW_VARINT, /* 10 bytes whose value exceeds 64 bits */
	MG_PB_EFIELD_NUMBER,    /* 0 or above 2^29-1; the number in field.value */
	MG_PB_ETRUNCATED_FIXED, /* fixed32 or fixed64 past the end */
	MG_PB_EPAST_END,        /* a length past the end; the length in field.value */
	MG_PB_EGROUP,           /* wire type 3 or 4 */
	MG_PB_EWIRE,            /* wire type 6 or 7 */
};

/* Bytes [pos, end) of data: a message body still to read. */
typedef struct mg_pb {
	const uint8_t *data;
	size_t pos, end;
	size_t err_off; /* after a failed read: the offset of what failed */
} mg_pb;

typedef struct mg_pb_field {
	uint32_t num;
	int wire;
	size_t off;               /* offset of the key */
	uint64_t value;           /* MG_PB_VARINT */
	size_t body_pos, body_end; /* MG_PB_LEN, MG_PB_I32, MG_PB_I64: the bytes */
} mg_pb_field;

/* Reads a varint at r->pos, advancing it. */
int mg_pb_varint(mg_pb *r, uint64_t *out);
/* Reads the field at r->pos (key, then its value or body) into f and
 * steps r->pos over it. */
int mg_pb_next(mg_pb *r, mg_pb_field *f);
/* The words for an outcome: "truncated varint", ... */
const char *mg_pb_what(int outcome);

#endif
