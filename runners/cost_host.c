/* cost_host: the host's side of the cost gate (mg_cost_measure). The
 * target's own agent says whether it has a hardware counter; then each
 * model is counted in a fresh agent of its own, a plain one where that
 * counter works, else one started under valgrind's callgrind on this
 * machine. The choice is mg_cost_select (cost.c), a pure function the unit
 * tests drive. */
#include "runners/cost.h"
#include "runners/runners.h"
#include "runners/transport.h"

#include <stdio.h>
#include <string.h>

/* Uncounted runs first: the engine's first inferences allocate and tune. */
#define COST_WARMUP 10

/* Loads each model on t, counts its runs, unloads it. */
static int count_models(mg_target *t, const char *const *paths, size_t n, const mg_load_opts *lo,
			mg_tensor *const *inputs, size_t ninputs, uint32_t runs, mg_cost_result *out,
			mg_error *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		mg_model m;
		if ((rc = mg_target_load(t, paths[i], lo, &m, err)))
			break;
		rc = mg_target_cost(t, &m, inputs, ninputs, COST_WARMUP, runs, &out[i], err);
		mg_target_unload(t, &m, NULL);
	}
	return rc;
}

/* "valgrind-3.19.0" into out when valgrind runs here; 0 when not. */
static int valgrind_version(char *out, size_t len)
{
	char *argv[] = {"valgrind", "--version", NULL};
	mg_buf b = MG_BUF_INIT;
	char errline[256];
	int status = -1;
	mg_error ignored;
	int rc = mg_run_command(argv, NULL, 0, -1, &b, 10000, &status, errline, sizeof(errline), &ignored);
	int ok = !rc && status == 0 && b.len;
	if (ok)
		snprintf(out, len, "%.*s", (int)strcspn(mg_buf_cstr(&b), "\n"), mg_buf_cstr(&b));
	mg_buf_free(&b);
	return ok;
}

/* Counts each model in an agent of its own, started from spec with o: two
 * models in one agent differ by where the second one's memory lies (the
 * first one's allocations stay), and alignment moves an identical model's
 * count by up to 0.1%. Fresh agents of one host process start alike. */
static int count_apart(const char *spec, const mg_target_opts *o, const char *const *paths, size_t n,
		       const mg_load_opts *lo, mg_tensor *const *inputs, size_t ninputs, uint32_t runs,
		       mg_cost_result *out, mg_error *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		mg_target *t = NULL;
		rc = mg_target_open(&t, spec, o, err);
		if (!rc)
			rc = count_models(t, &paths[i], 1, lo, inputs, ninputs, runs, &out[i], err);
		mg_target_free(t);
	}
	return rc;
}

int mg_cost_measure(mg_target *t, const char *spec, const mg_target_opts *opts,
		    const char *const *paths, size_t n, const mg_load_opts *lo,
		    mg_tensor *const *inputs, size_t ninputs, uint32_t runs, mg_cost_result *out,
		    mg_error *err)
{
	const mg_target_info *ti = mg_target_get_info(t);
	mg_cost_probe p = {0};
	char why[512], hw_why[600] = "", version[64] = "";
	p.emulated = ti->emulated;
	p.local = !strcmp(ti->kind, "local");
	if (!p.emulated) { /* the target's agent says whether it has a hardware counter */
		mg_error herr = {0};
		int rc = count_models(t, paths, 1, lo, inputs, ninputs, 1, out, &herr);
		if (rc && rc != MG_ENOTFOUND) {
			if (err)
				*err = herr;
			return rc;
		}
		p.hw_ok = !rc;
		snprintf(hw_why, sizeof(hw_why), "%.500s", herr.msg);
		const char *colon = strstr(hw_why, "counter: "); /* after "target 'x': " */
		p.hw_why = colon ? colon + 9 : hw_why;
	}
	p.valgrind = p.local && !p.hw_ok && valgrind_version(version, sizeof(version));
	mg_cost_backend b = mg_cost_select(&p, why, sizeof(why));
	if (b == MG_COST_NONE)
		return mg_error_set(err, MG_ENOTFOUND, "%s", why);
	if (b == MG_COST_PERF)
		snprintf(version, sizeof(version), "linux %.50s", ti->sys ? ti->sys->kernel : "");
	mg_target_opts o = MG_TARGET_OPTS_INIT;
	if (opts)
		o = *opts;
	o.callgrind = b == MG_COST_CALLGRIND;
	int rc = count_apart(spec, &o, paths, n, lo, inputs, ninputs, runs, out, err);
	for (size_t i = 0; !rc && i < n; i++)
		snprintf(out[i].backend_version, sizeof(out[i].backend_version), "%s", version);
	return rc;
}
