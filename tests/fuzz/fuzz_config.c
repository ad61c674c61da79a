/* Fuzz target: the gate config parser (modelgate.json) never crashes or
 * leaks, and either gives a config or says why not: MG_EINVAL (or
 * MG_ENOMEM) with a one-line message naming the file. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "validator/validator.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_config *c = NULL;
	mg_error err = {0};
	int rc = mg_config_parse(&c, (const char *)data, size, "fuzz.json", &err);
	if (rc == 0) {
		if (!c)
			abort();
	} else if (c || (rc != MG_EINVAL && rc != MG_ENOMEM) || !strstr(err.msg, "fuzz.json") ||
		   strchr(err.msg, '\n')) {
		abort();
	}
	mg_config_free(c);
	return 0;
}
