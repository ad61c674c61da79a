/* protobuf: varints, field keys and field bodies of the wire format
 * (protobuf.h), bounds-checked against the end of the message. */
#include "formats/protobuf.h"

int mg_pb_varint(mg_pb *r, uint64_t *out)
{
	size_t start = r->pos;
	uint64_t v = 0;
	for (unsigned shift = 0;; shift += 7) {
		if (r->pos >= r->end) {
			r->err_off = start;
			return MG_PB_ETRUNCATED_VARINT;
		}
		uint8_t b = r->data[r->pos++];
		if (shift == 63 && b > 1) {
			r->err_off = start;
			return b & 0x80 ? MG_PB_ELONG_VARINT : MG_PB_EOVERFLOW_VARINT;
		}
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return MG_PB_OK;
		}
	}
}

int mg_pb_next(mg_pb *r, mg_pb_field *f)
{
	uint64_t key, len;
	int rc;

	f->off = r->pos;
	f->value = 0;
	f->body_pos = f->body_end = 0;
	if ((rc = mg_pb_varint(r, &key)))
		return rc;
	f->wire = (int)(key & 7);
	r->err_off = f->off;
	if (key >> 3 == 0 || key >> 3 > 0x1fffffff) {
		f->value = key >> 3;
		return MG_PB_EFIELD_NUMBER;
	}
	f->num = (uint32_t)(key >> 3);
	switch (f->wire) {
	case MG_PB_VARINT:
		return mg_pb_varint(r, &f->value);
	case MG_PB_I64:
	case MG_PB_I32:
		len = f->wire == MG_PB_I64 ? 8 : 4;
		if (r->end - r->pos < len)
			return MG_PB_ETRUNCATED_FIXED;
		break;
	case MG_PB_LEN:
		if ((rc = mg_pb_varint(r, &len)))
			return rc;
		if (len > r->end - r->pos) {
			r->err_off = f->off;
			f->value = len;
			return MG_PB_EPAST_END;
		}
		break;
	case 3:
	case 4:
		return MG_PB_EGROUP;
	default:
		return MG_PB_EWIRE;
	}
	f->body_pos = r->pos;
	f->body_end = r->pos + (size_t)len;
	r->pos = f->body_end;
	return MG_PB_OK;
}

const char *mg_pb_what(int outcome)
{
	switch (outcome) {
	case MG_PB_OK: return "no error";
	case MG_PB_ETRUNCATED_VARINT: return "truncated varint";
	case MG_PB_ELONG_VARINT: return "varint longer than 10 bytes";
	case MG_PB_EOVERFLOW_VARINT: return "varint overflows 64 bits";
	case MG_PB_EFIELD_NUMBER: return "invalid field number";
	case MG_PB_ETRUNCATED_FIXED: return "truncated fixed-size field";
	case MG_PB_EPAST_END: return "length runs past the end of its message";
	case MG_PB_EGROUP: return "unsupported group";
	default: return "invalid wire type";
	}
}
