/* libFuzzer target: the .npy parser (formats/tensor_npy.c). Anything it
 * accepts must write back and parse again to the same tensor. */
#include <stdint.h>
#include <string.h>

#include "formats/tensor.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_tensor *t = NULL, *back = NULL;
	if (mg_npy_parse(&t, data, size, "fuzz.npy", NULL))
		return 0;
	mg_buf b = MG_BUF_INIT;
	if (mg_npy_write(&b, t, NULL) || mg_npy_parse(&back, b.data, b.len, "again.npy", NULL) ||
	    back->nbytes != t->nbytes || memcmp(back->data, t->data, t->nbytes))
		__builtin_trap();
	mg_tensor_free(back);
	mg_tensor_free(t);
	mg_buf_free(&b);
	return 0;
}
