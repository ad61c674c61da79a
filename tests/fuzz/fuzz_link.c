/* Fuzz target: the Link header parser of paged lists never crashes, and a
 * target it finds is a non-empty part of the input between '<' and '>'
 * that fits where it was asked to go. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	if (!s)
		return 0;
	char out[64], quoted[sizeof(out) + 2];
	int rc = mg_http_link_next(s, out, sizeof(out));
	if (rc < -1 || rc > 1)
		abort();
	if (rc == 1) {
		size_t n = strlen(out);
		snprintf(quoted, sizeof(quoted), "<%s>", out);
		if (!n || n >= sizeof(out) || strchr(out, '>') || !strstr(s, quoted))
			abort();
	}
	free(s);
	return 0;
}
