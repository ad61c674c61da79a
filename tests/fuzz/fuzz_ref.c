/* Fuzz target: reference parsing never crashes and accepts only what it
 * can print back. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "registry/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	if (!s)
		return 0;
	mg_ref *r = NULL;
	mg_error err;
	if (mg_ref_parse(&r, s, &err) == 0) {
		if (!r->repo || (!r->tag && !r->digest))
			abort();
		char *name = mg_ref_store_name(r, NULL);
		free(name);
	}
	mg_ref_free(r);
	free(s);
	return 0;
}
