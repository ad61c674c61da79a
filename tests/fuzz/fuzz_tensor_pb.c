/* libFuzzer target: the TensorProto parser (formats/tensor_pb.c) and the
 * protocol's tensor decoder (runners/protocol.c) on the same bytes. */
#include <stdint.h>
#include <string.h>

#include "runners/protocol.h"
#include "formats/tensor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_tensor *t = NULL, *back = NULL;
	if (!mg_tensor_pb_parse(&t, data, size, "fuzz.pb", NULL)) {
		mg_buf b = MG_BUF_INIT;
		if (mg_tensor_pb_write(&b, t, NULL) ||
		    mg_tensor_pb_parse(&back, b.data, b.len, "again.pb", NULL) ||
		    back->nbytes != t->nbytes || memcmp(back->data, t->data, t->nbytes))
			__builtin_trap();
		mg_tensor_free(back);
		mg_tensor_free(t);
		mg_buf_free(&b);
	}
	mg_proto_r r;
	mg_proto_r_init(&r, data, size);
	while (!mg_proto_get_tensor(&r, &t, "fuzz", NULL))
		mg_tensor_free(t);
	return 0;
}
