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

/* Uncounted runs first: the engine's first inferences allocate and tune.
 * The hardware counter costs nothing, so it takes many of both; callgrind
 * runs an inference a few thousand times slower than the CPU (about 20 s
 * for a 10 ms convolution model here), and its count of an inference after
 * the first is the same each time, so it takes few. runs 0 is these. */
#define COST_WARMUP_PERF 10
#define COST_RUNS_PERF 20
#define COST_WARMUP_CALLGRIND 2
#define COST_RUNS_CALLGRIND 5

/* Loads each model on t, counts its runs, unloads it. */
static int count_models(mg_target *t, const char *const *paths, size_t n, const mg_load_opts *lo,
			mg_tensor *const *inputs, size_t ninputs, uint32_t warmup, uint32_t runs,
			mg_cost_result *out, mg_error *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		mg_model m;
		if ((rc = mg_target_load(t, paths[i], lo, &m, err)))
			break;
		rc = mg_target_cost(t, &m, inputs, ninputs, warmup, runs, &out[i], err);
		mg_target_unload(t, &m, NULL);
	}
	return rc;
}

/* Counts each model in an agent of its own, started from spec with o: two
 * models in one agent differ by where the second one's memory lies (the
 * first one's allocations stay), and alignment moves an identical model's
 * count by up to 0.1%. Fresh agents of one host process start alike. */
static int count_apart(const char *spec, const mg_target_opts *o, const char *const *paths, size_t n,
		       const mg_load_opts *lo, mg_tensor *const *inputs, size_t ninputs, uint32_t warmup,
		       uint32_t runs, mg_cost_result *out, mg_error *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		mg_target *t = NULL;
		rc = mg_target_open(&t, spec, o, err);
		if (!rc)
			rc = count_models(t, &paths[i], 1, lo, inputs, ninputs, warmup, runs, &out[i], err);
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
	char why[512], hw_why[600] = "", version[64];
	p.emulated = ti->emulated;
	p.local = !strcmp(ti->kind, "local");
	if (!p.emulated) { /* the target's agent says whether it has a hardware counter */
		mg_error herr = {0};
		int rc = count_models(t, paths, 1, lo, inputs, ninputs, 0, 1, out, &herr);
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
	/* a device's valgrind is found (or not) when the agent starts under it */
	p.valgrind = !p.hw_ok && (!p.local || mg_valgrind_version(version, sizeof(version)));
	mg_cost_backend b = mg_cost_select(&p, why, sizeof(why));
	if (b == MG_COST_NONE)
		return mg_error_set(err, MG_ENOTFOUND, "%s", why);
	mg_target_opts o = MG_TARGET_OPTS_INIT;
	if (opts)
		o = *opts;
	o.callgrind = b == MG_COST_CALLGRIND;
	uint32_t warmup = o.callgrind ? COST_WARMUP_CALLGRIND : COST_WARMUP_PERF;
	if (!runs)
		runs = o.callgrind ? COST_RUNS_CALLGRIND : COST_RUNS_PERF;
	return count_apart(spec, &o, paths, n, lo, inputs, ninputs, warmup, runs, out, err);
}
