/* engine: the one interface between modelgate-agent and an inference engine.
 * An engine is a table of functions (mg_engine_ops); the agent calls engines
 * through their tables only, never an engine's own functions. Adding one
 * (TFLite through Arm NN, a vendor NPU SDK) is one more file exposing one
 * more table, and one more entry in engines.c.
 *
 * The engine of a model is chosen per model by its format: the agent sees
 * only a blob named by its digest, so each engine's probe looks at the
 * file's first bytes (a magic number where the format has one, such as
 * "TFL3" at bytes 4..7 of a TFLite flatbuffer; a plausible first field
 * where it has none, as an ONNX protobuf). A file no engine claims is
 * refused naming the formats this agent knows.
 *
 * Engines load their library with dlopen, so the agent links libc only; an
 * engine written in another language (C++) sits behind this same C table.
 * Timing is the engine's job: `run` measures its engine's own inference call
 * with the monotonic clock and nothing else, so the agent and protocol add
 * nothing to a sample. */
#ifndef MG_AGENT_ENGINE_H
#define MG_AGENT_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "formats/tensor.h"
#include "util/util.h"

typedef struct mg_engine mg_engine;
typedef struct mg_engine_model mg_engine_model;

typedef struct mg_engine_opts {
	int threads;          /* intra-op threads; 0: the engine's default */
	int opt_level;        /* 0 none, 1 basic, 2 extended, 99 all */
	const char *provider; /* execution provider; "" or "cpu": the default */
} mg_engine_opts;

/* One input or output of a loaded model as its engine sees it. dtype is
 * MG_DT_UNDEFINED (and rank 0) for what is not a tensor (an ONNX sequence
 * or map) or has more than MG_TENSOR_MAX_RANK dimensions. */
typedef struct mg_engine_io {
	const char *name;
	mg_dtype dtype;
	size_t rank;
	int64_t dims[MG_TENSOR_MAX_RANK]; /* -1: not fixed (symbolic) */
} mg_engine_io;

/* How surely a file's first bytes are a model an engine reads. */
enum {
	MG_PROBE_NO = 0,
	MG_PROBE_PLAUSIBLE = 1, /* a format without a magic number */
	MG_PROBE_MAGIC = 2,     /* the format's magic number */
};

typedef struct mg_engine_ops {
	const char *name;   /* "onnxruntime", reported at hello */
	const char *format; /* what it reads, for messages: "ONNX" */
	/* MG_PROBE_* for the first n bytes of a file (n may be short). */
	int (*probe)(const unsigned char *head, size_t n);
	/* Loads the engine library; MG_ERROR naming what is missing. */
	int (*open)(mg_engine **out, mg_error *err);
	const char *(*version)(const mg_engine *e);
	/* The engine's refusal of the model is MG_EINVAL. */
	int (*load)(mg_engine *e, const char *path, const mg_engine_opts *opts,
		    mg_engine_model **out, mg_error *err);
	/* The model's inputs and outputs, in the model's order; borrowed,
	 * valid until unload. */
	void (*describe)(const mg_engine_model *m, const mg_engine_io **in, size_t *nin,
			 const mg_engine_io **out, size_t *nout);
	/* Sets the inputs of the following runs, by name. The tensors stay the
	 * caller's and must outlive those runs; n 0 releases them. */
	int (*bind)(mg_engine_model *m, mg_tensor *const *inputs, size_t n, mg_error *err);
	/* One inference; *ns is the time of the engine call alone. */
	int (*run)(mg_engine_model *m, uint64_t *ns, mg_error *err);
	/* Copies the outputs of the last run (the caller frees them). */
	int (*outputs)(mg_engine_model *m, mg_tensor ***out, size_t *n, mg_error *err);
	void (*unload)(mg_engine_model *m);
	void (*close)(mg_engine *e);
} mg_engine_ops;

/* The engines' tables, each the one symbol of its file; only engines.c
 * names them. */
extern const mg_engine_ops mg_engine_onnxruntime;
extern const mg_engine_ops mg_engine_tflite;

/* ---- the engines this agent has (engines.c) --------------------------- */

/* Engines this agent can hold open at once; engines.c lists at most this
 * many entries. */
#define MG_AGENT_MAX_ENGINES 8

/* Engine i of the list, NULL past its end. Engine 0 is the default. */
const mg_engine_ops *mg_agent_engine(size_t i);
/* The index of the engine named name, or of the default one when name is
 * NULL, empty or unknown. */
size_t mg_agent_engine_named(const char *name);
/* The index of the engine for the model file at path, chosen by its first
 * bytes; MG_EINVAL saying which formats this agent knows when none claims
 * it. The message leaves out the path, a blob the user never named: the
 * host puts its own file name in front. */
int mg_agent_engine_for(size_t *out, const char *path, mg_error *err);

/* dlopen of an engine's library: $envvar when set, else file next to the
 * agent, else file on the library path. tried says which, for a message. */
void *mg_agent_dlopen(const char *file, const char *envvar, char *tried, size_t triedlen);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mg_agent_now_ns(void);

#endif
