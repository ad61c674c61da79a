/* target_if: how the gate run reaches a target — start it, load models,
 * run inputs to outputs, time inferences, read the memory used, count the
 * instructions of inferences, stop it. mg_target_if_agents() is the real one, over runners/ (an agent
 * started by spec); a test gives mg_gate_opts.targets a table of its own
 * with canned outputs, latencies and failures, and gates without an agent.
 *
 * Every call but stop and unload returns 0 or a negative MG_E* code with
 * err's message naming what failed; a target that fails once may fail
 * again. Tensors that come back through `out` belong to the caller
 * (mg_tensors_free). */
#ifndef MG_TARGET_IF_H
#define MG_TARGET_IF_H

#include <stddef.h>
#include <stdint.h>

#include "runners/runners.h"
#include "util/util.h"

typedef struct mg_target_if {
	/* Starts the target spec names ("local", "ssh://...", after any
	 * --target); *out is the handle the other calls take. */
	int (*start)(void *ctx, void **out, const char *spec, mg_error *err);
	/* What the target said of itself: arch, engine, its machine (sys may
	 * be NULL). Valid until stop. */
	const mg_target_info *(*info)(void *ctx, void *t);
	/* Loads the model file at path, with threads intra-op threads (0:
	 * the engine's default). */
	int (*load)(void *ctx, void *t, const char *path, int threads, mg_model *out, mg_error *err);
	/* One inference of inputs; its outputs in the model's order. */
	int (*run)(void *ctx, void *t, const mg_model *m, mg_tensor *const *inputs, size_t ninputs,
		   mg_tensor ***out, size_t *nout, mg_error *err);
	/* warmup unmeasured inferences, then exactly iterations timed ones,
	 * each one's time in nanoseconds into out_ns. */
	int (*measure)(void *ctx, void *t, const mg_model *m, mg_tensor *const *inputs,
		       size_t ninputs, uint32_t warmup, size_t iterations, double *out_ns,
		       mg_error *err);
	/* The peak resident memory of the target so far, in bytes. */
	int (*peak_rss)(void *ctx, void *t, uint64_t *out, mg_error *err);
	void (*unload)(void *ctx, void *t, const mg_model *m);
	/* Ends the target and frees t; t may be NULL. */
	void (*stop)(void *ctx, void *t);
	/* The instructions per inference of each of the n model files at
	 * paths, runs counted inferences each, on target t (started from
	 * spec): runners' mg_cost_measure. MG_ENOTFOUND, saying why, where
	 * nothing can count (an emulated target). */
	int (*cost)(void *ctx, void *t, const char *spec, const char *const *paths, size_t n,
		    int threads, mg_tensor *const *inputs, size_t ninputs, uint32_t runs,
		    mg_cost_result *out, mg_error *err);
	void *ctx;
} mg_target_if;

/* Fills out with the agents of runners/, started with opts (may be NULL);
 * out's ctx points at opts, which must outlive its use. */
void mg_target_if_agents(mg_target_if *out, const mg_target_opts *opts);

#endif
