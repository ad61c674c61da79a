/* engine: the one interface between modelgate-agent and an inference engine.
 * An engine is a table of functions; adding one (TFLite through Arm NN, a
 * vendor NPU SDK) is one more file with one more table, listed in agent.c.
 *
 * Engines load their library with dlopen, so the agent links libc only.
 * Timing is the engine's job: `run` measures its engine's own inference call
 * with the monotonic clock and nothing else, so the agent and protocol add
 * nothing to a sample. */
#ifndef MG_AGENT_ENGINE_H
#define MG_AGENT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "runners/tensor.h"
#include "util/util.h"

typedef struct mg_engine mg_engine;
typedef struct mg_engine_model mg_engine_model;

typedef struct mg_engine_opts {
	int threads;          /* intra-op threads; 0: the engine's default */
	int opt_level;        /* 0 none, 1 basic, 2 extended, 99 all */
	const char *provider; /* execution provider; "" or "cpu": the default */
} mg_engine_opts;

typedef struct mg_engine_ops {
	const char *name;
	/* Loads the engine library; MG_ERROR naming what is missing. */
	int (*open)(mg_engine **out, mg_error *err);
	const char *(*version)(const mg_engine *e);
	int (*load)(mg_engine *e, const char *path, const mg_engine_opts *opts,
		    mg_engine_model **out, mg_error *err);
	/* Sets the inputs of the following runs. The tensors stay the
	 * caller's and must outlive those runs. */
	int (*bind)(mg_engine_model *m, mg_tensor *const *inputs, size_t n, mg_error *err);
	/* One inference; *ns is the time of the engine call alone. */
	int (*run)(mg_engine_model *m, uint64_t *ns, mg_error *err);
	/* Copies the outputs of the last run (the caller frees them). */
	int (*outputs)(mg_engine_model *m, mg_tensor ***out, size_t *n, mg_error *err);
	void (*unload)(mg_engine_model *m);
	void (*close)(mg_engine *e);
} mg_engine_ops;

extern const mg_engine_ops mg_engine_onnxruntime;

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mg_agent_now_ns(void);

#endif
