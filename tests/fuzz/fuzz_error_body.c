/* Fuzz target: the reading of a registry's error body ({"errors": [{"code",
 * "message"}]}) never crashes and always leaves a terminated text that fits
 * the space it was given; once in an error message, no control character
 * of the body is left. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_http_req r;
	mg_http_req_init(&r, "GET", "http://127.0.0.1/v2/");
	if (mg_buf_append(&r.errbody, data, size, NULL)) {
		mg_http_req_free(&r);
		return 0;
	}
	char out[64];
	memset(out, 'x', sizeof(out));
	mg_http_error_text(&r, out, sizeof(out));
	if (!memchr(out, '\0', sizeof(out)))
		abort();
	mg_error err = {0};
	mg_error_set(&err, MG_EINVAL, "registry said: %s", out);
	for (const unsigned char *p = (const unsigned char *)err.msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			abort();
	mg_http_req_free(&r);
	return 0;
}
