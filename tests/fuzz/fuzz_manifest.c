/* Fuzz target: manifest parsing never crashes, and what parses serialises
 * to bytes that parse to the same serialisation. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_manifest *m = NULL, *m2 = NULL;
	mg_buf a = MG_BUF_INIT, b = MG_BUF_INIT;
	if (mg_manifest_parse(&m, data, size, "fuzz", NULL) == 0 && mg_manifest_write(&a, m, NULL) == 0) {
		if (mg_manifest_parse(&m2, a.data, a.len, "fuzz2", NULL) != 0 ||
		    mg_manifest_write(&b, m2, NULL) != 0 || a.len != b.len || memcmp(a.data, b.data, a.len))
			abort();
	}
	mg_manifest_free(m);
	mg_manifest_free(m2);
	mg_buf_free(&a);
	mg_buf_free(&b);
	return 0;
}
