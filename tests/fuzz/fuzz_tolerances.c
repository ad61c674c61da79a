/* Fuzz target: a bundle's smoke/tolerances.json (mg_run_tolerances_json in
 * validator/run_once.c) never crashes or leaks, and either sets tolerances
 * of 0 or more for named outputs or says why not in one line naming the
 * file (MG_EINVAL). */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "fuzz.h"
#include "validator/run_once.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static mg_run_spec a;
	memset(&a, 0, sizeof(a));
	a.rtol = MG_RUN_RTOL;
	a.atol = MG_RUN_ATOL;
	mg_error err = {0};
	int rc = mg_run_tolerances_json(&a, (const char *)data, size, "smoke/tolerances.json", &err);
	if (rc) {
		if (rc != MG_EINVAL || !strstr(err.msg, "smoke/tolerances.json") || strchr(err.msg, '\n'))
			abort();
		return 0;
	}
	if (!(a.rtol >= 0) || !(a.atol >= 0) || a.ntols > MG_RUN_MAX_TOLS)
		abort();
	for (size_t i = 0; i < a.ntols; i++)
		if (!a.tols[i].name[0] || a.tols[i].rtol < 0 || a.tols[i].atol < 0 ||
		    (isnan(a.tols[i].rtol) && isnan(a.tols[i].atol)))
			abort();
	return 0;
}
