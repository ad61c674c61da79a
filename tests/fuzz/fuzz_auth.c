/* Fuzz target: the credential parsers never crash, and what they return
 * is consistent: a docker config.json (credentials or a helper name, never
 * both; a helper name is a program name), a credential helper's answer,
 * and the merging of bearer scopes (the result holds the wanted scopes). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "net/http.h"
#include "registry/remote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_string(data, size);
	if (!s)
		return 0;
	char *u = NULL, *p = NULL, *h = NULL;
	mg_error err;
	if (mg_auth_from_docker_config(s, size, "reg.example:5000", &u, &p, &h, &err) == 0) {
		if (!u == !h || !u != !p || (h && strchr(h, '/')))
			abort();
	}
	free(u);
	free(p);
	free(h);
	u = p = NULL;
	if (mg_auth_helper_parse(s, size, "docker-credential-x", "reg.example", &u, &p, &err) == 0) {
		if (!u || !p)
			abort();
	} else if (u || p) {
		abort();
	}
	free(u);
	free(p);
	/* the input as "want\nchallenge" */
	char *nl = memchr(s, '\n', size), out[512];
	if (nl) {
		*nl = '\0';
		if (mg_http_merge_scopes(s, nl + 1, out, sizeof(out)) == 0 && strncmp(out, s, strlen(s)))
			abort();
	}
	free(s);
	return 0;
}
