/* The gate run's targets as they really are: modelgate-agents started and
 * spoken to through runners/ (mg_target_*), behind the table of
 * target_if.h that a test replaces. */
#include "target_if.h"

#include <stdlib.h>

static int agent_start(void *ctx, void **out, const char *spec, mg_error *err)
{
	mg_target *t = NULL;
	int rc = mg_target_open(&t, spec, ctx, err);
	*out = rc ? NULL : t;
	return rc;
}

static const mg_target_info *agent_info(void *ctx, void *t)
{
	(void)ctx;
	return mg_target_get_info(t);
}

static int agent_load(void *ctx, void *t, const char *path, int threads, mg_model *out,
		      mg_error *err)
{
	(void)ctx;
	mg_load_opts lo = MG_LOAD_OPTS_INIT;
	lo.threads = threads;
	return mg_target_load(t, path, &lo, out, err);
}

static int agent_run(void *ctx, void *t, const mg_model *m, mg_tensor *const *inputs,
		     size_t ninputs, mg_tensor ***out, size_t *nout, mg_error *err)
{
	(void)ctx;
	mg_run_opts ro = MG_RUN_OPTS_INIT;
	ro.warmup = 0;
	ro.iterations = 1;
	ro.min_time_ns = 0;
	ro.max_iterations = 1;
	ro.want_outputs = 1;
	mg_run_result res = {0};
	int rc = mg_target_run(t, m, inputs, ninputs, &ro, &res, err);
	if (!rc) {
		*out = res.outputs;
		*nout = res.noutputs;
		res.outputs = NULL;
		res.noutputs = 0;
	}
	mg_run_result_clear(&res);
	return rc;
}

static int agent_measure(void *ctx, void *t, const mg_model *m, mg_tensor *const *inputs,
			 size_t ninputs, uint32_t warmup, size_t iterations, double *out_ns,
			 mg_error *err)
{
	(void)ctx;
	if (iterations > UINT32_MAX)
		return mg_error_set(err, MG_EINVAL, "%zu iterations are too many for one block", iterations);
	mg_run_opts ro = MG_RUN_OPTS_INIT;
	ro.warmup = warmup;
	ro.iterations = (uint32_t)iterations;
	ro.max_iterations = (uint32_t)iterations;
	ro.min_time_ns = 0;
	ro.want_outputs = 0;
	mg_run_result r = {0};
	int rc = mg_target_run(t, m, inputs, ninputs, &ro, &r, err);
	if (!rc && r.nsamples != iterations)
		rc = mg_error_set(err, MG_ERROR, "the target ran %zu iterations, not %zu", r.nsamples,
				  iterations);
	for (size_t i = 0; !rc && i < iterations; i++)
		out_ns[i] = (double)r.samples[i];
	mg_run_result_clear(&r);
	return rc;
}

static int agent_peak_rss(void *ctx, void *t, uint64_t *out, mg_error *err)
{
	(void)ctx;
	mg_agent_stats st;
	int rc = mg_target_stats(t, &st, err);
	*out = rc ? 0 : st.peak_rss;
	return rc;
}

static void agent_unload(void *ctx, void *t, const mg_model *m)
{
	(void)ctx;
	mg_target_unload(t, m, NULL);
}

static void agent_stop(void *ctx, void *t)
{
	(void)ctx;
	mg_target_free(t);
}

static int agent_cost(void *ctx, void *t, const char *spec, const char *const *paths, size_t n,
		      int threads, mg_tensor *const *inputs, size_t ninputs, uint32_t runs,
		      mg_cost_result *out, mg_error *err)
{
	mg_load_opts lo = MG_LOAD_OPTS_INIT;
	lo.threads = threads;
	return mg_cost_measure(t, spec, ctx, paths, n, &lo, inputs, ninputs, runs, out, err);
}

void mg_target_if_agents(mg_target_if *out, const mg_target_opts *opts)
{
	*out = (mg_target_if){agent_start,    agent_info,   agent_load, agent_run,	agent_measure,
			      agent_peak_rss, agent_unload, agent_stop, agent_cost, (void *)opts};
}
