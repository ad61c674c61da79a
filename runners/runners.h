/* runners: execute a model where it will really run, and measure it.
 *
 * A target is a modelgate-agent started through a transport and spoken to
 * over its stdin/stdout (runners/protocol.h):
 *
 *   local            fork/exec of the host agent
 *   qemu-aarch64     the aarch64 agent under qemu-aarch64, with
 *                    libmodelgate-cpuinfo.so preloaded in it (an aarch64
 *                    /proc/cpuinfo, no privilege needed); emulated
 *   ssh://[user@]host[:port]
 *                    agent and engine library copied once (by digest) into
 *                    ~/.cache/modelgate-agent/bin/<key>/ on the device, then
 *                    started with ssh; ~/.ssh/config, keys and agent apply
 *   exec:PREFIX      any command prefix that runs its arguments elsewhere
 *                    (docker exec -i box, chroot ROOT, ...): agent and engine
 *                    library copied once, as over ssh, with `PREFIX sh -c
 *                    SCRIPT`, then started the same way
 *
 * Every read from a target waits at most the timeout; a target that dies or
 * stops answering is MG_ENET with a message that names it. Models are sent
 * by digest, only when the agent's cache lacks them. Several models may be
 * loaded on one target at once, and mg_target_run measures one block of
 * iterations, so a caller can interleave a baseline and a candidate
 * (A B A B ...) on one agent.
 *
 * Ownership: mg_target_open gives a target to release with mg_target_free
 * (which accepts NULL; it ends the agent, politely if it can); results are
 * released with mg_run_result_clear. SIGPIPE is never raised. */
#ifndef MG_RUNNERS_H
#define MG_RUNNERS_H

#include <stddef.h>
#include <stdint.h>

#include "runners/sysinfo.h"
#include "formats/tensor.h"
#include "util/util.h"

/* ---- targets --------------------------------------------------------- */

typedef struct mg_target mg_target;

typedef struct mg_target_opts {
	int version;
	/* The agent program for a target of the host's architecture; NULL:
	 * $MODELGATE_AGENT, else modelgate-agent next to the running program.
	 * The aarch64 one: $MODELGATE_AGENT_AARCH64, else aarch64/modelgate-agent
	 * next to the running program. */
	const char *agent;
	/* ONNX Runtime for the host: NULL: $MODELGATE_ORT_LIB, else next to the
	 * agent, else the one `make deps` fetched. For aarch64:
	 * $MODELGATE_ORT_LIB_AARCH64, else the same search. */
	const char *ort_lib;
	int timeout_ms;        /* longest wait for any read; 0: 120 s */
	/* Extra ssh arguments, split on blanks (NULL: $MODELGATE_SSH_OPTS). */
	const char *ssh_opts;
	/* The agent's folder on the target. NULL: for local and qemu the
	 * agent's own default ($MODELGATE_AGENT_CACHE, else
	 * ~/.cache/modelgate-agent); over ssh and exec $MODELGATE_REMOTE_CACHE,
	 * else ~/.cache/modelgate-agent on the device (agent builds in bin/). */
	const char *cache;
	/* start the agent under valgrind's callgrind (with collection off
	 * until a COST request switches it on), for the cost gate where the
	 * hardware counter is missing: here for local, on the device for ssh
	 * and exec (where valgrind must be on the PATH); not under qemu */
	int callgrind;
	/* The engine the agent opens at hello and reports ("onnxruntime",
	 * "tflite"; mg_engine_for_model), so that a run of a model of another
	 * format than the default does not start the default engine too.
	 * NULL: the agent's default. Other engines open when a model needs them. */
	const char *engine;
} mg_target_opts;
#define MG_TARGET_OPTS_VERSION 1
#define MG_TARGET_OPTS_INIT {MG_TARGET_OPTS_VERSION, NULL, NULL, 0, NULL, NULL, 0, NULL}

/* The agent and its ONNX Runtime library for an architecture ("x86_64",
 * "aarch64"), found as targets find them (caller frees both); the TFLite
 * engine, when built, is libmodelgate-tflite.so next to the agent. */
int mg_locate_agent(const char *arch, const mg_target_opts *o, char **agent, char **lib,
		    mg_error *err);

/* The agent engine that runs the model file at path ("tflite" for a TFLite
 * flatbuffer), or NULL for the default engine (ONNX Runtime) or a path
 * that is not a readable file. */
const char *mg_engine_for_model(const char *path);

typedef struct mg_target_info {
	const char *spec;           /* as given: "local", "ssh://pi@board", ... */
	const char *kind;           /* "local", "qemu", "ssh", "exec" */
	const char *arch;           /* uname -m on the target */
	/* the engine of the model loaded last; before a load, the agent's
	 * default one (its hello) */
	const char *engine;         /* "onnxruntime", "tflite" */
	const char *engine_version; /* "1.30.0", "armnn 20.08 CpuRef" */
	int emulated;               /* latency is not a real device's */
	uint64_t bytes_uploaded;    /* agent and library bytes copied (ssh, exec) */
	const mg_sysinfo *sys;      /* the machine, as the agent saw it there */
} mg_target_info;

/* The grammar of a target spec, the one place it is written down. */
typedef enum { MG_TARGET_LOCAL, MG_TARGET_QEMU, MG_TARGET_SSH, MG_TARGET_EXEC } mg_target_kind;
typedef struct mg_target_spec {
	mg_target_kind kind;
	const char *arg; /* within the spec: qemu's arch, ssh's [user@]host[:port], exec's command */
} mg_target_spec;
#define MG_TARGET_GRAMMAR "\"local\", \"qemu-aarch64\", \"ssh://[user@]host[:port]\" or \"exec:COMMAND PREFIX\""
/* Parses spec; anything else is MG_EINVAL naming it and the grammar. */
int mg_target_spec_parse(mg_target_spec *out, const char *spec, mg_error *err);
/* A --target argument: a whole spec ("exec:env A=1" is one), else
 * "NAME=SPEC". *spec points into arg; *name_len is the length of NAME, 0
 * for a whole spec. */
void mg_target_arg(const char *arg, const char **spec, size_t *name_len);

/* Starts the agent on the target named by spec and says hello. Usage errors
 * (an unknown target) are MG_EINVAL; a missing agent, qemu or library, or an
 * unreachable device MG_ERROR/MG_ENET. */
int mg_target_open(mg_target **out, const char *spec, const mg_target_opts *opts, mg_error *err);
/* As mg_target_open, without waiting for the agent's answer: it is read
 * with the next reply, so the agent starts its engine while the caller
 * does other work. A refused hello then fails that next call (MG_ERROR or
 * MG_ENET), and mg_target_get_info has the engine and arch only after it. */
int mg_target_start(mg_target **out, const char *spec, const mg_target_opts *opts,
		    mg_error *err);
const mg_target_info *mg_target_get_info(const mg_target *t);
/* Says BYE, waits for the agent to end, frees t. */
void mg_target_free(mg_target *t);

typedef struct mg_load_opts {
	int version;
	int threads;          /* intra-op threads; 0: the engine's default */
	int opt_level;        /* 0 disabled, 1 basic, 2 extended, 99 all */
	const char *provider; /* execution provider; NULL or "cpu": default */
} mg_load_opts;
#define MG_LOAD_OPTS_VERSION 1
#define MG_LOAD_OPTS_INIT {MG_LOAD_OPTS_VERSION, 0, 99, NULL}

typedef struct mg_model {
	uint32_t handle;
	char digest[MG_DIGEST_SIZE];
	uint64_t size;
	uint64_t load_ns;    /* the engine's load, timed on the target */
	uint64_t bytes_sent; /* model bytes sent; 0 when the target had it */
} mg_model;

/* Sends the model file at path (unless the target has its digest) and
 * loads it. The engine's refusal is MG_EINVAL naming the file. */
int mg_target_load(mg_target *t, const char *path, const mg_load_opts *opts, mg_model *out,
		   mg_error *err);
int mg_target_unload(mg_target *t, const mg_model *m, mg_error *err);

typedef struct mg_run_opts {
	int version;
	uint32_t warmup;         /* unmeasured runs first */
	uint32_t iterations;     /* measure at least this many ... */
	uint64_t min_time_ns;    /* ... and for at least this long */
	uint32_t max_iterations; /* never more than this (0: 10 million) */
	int want_outputs;        /* return the outputs of the last run */
} mg_run_opts;
#define MG_RUN_OPTS_VERSION 1
#define MG_RUN_OPTS_INIT {MG_RUN_OPTS_VERSION, 5, 50, 1000000000u, 0, 1}

typedef struct mg_run_result {
	uint64_t first_ns;   /* the model's first inference on this target */
	uint64_t *samples;   /* per-iteration latency in ns, in order */
	size_t nsamples;
	mg_tensor **outputs; /* in the model's output order */
	size_t noutputs;
	uint64_t wall_ns;    /* host time from sending to the whole reply */
} mg_run_result;

/* Runs one block: binds inputs, warms up, measures until both the count and
 * the time are reached. A failing inference is MG_EINVAL with the engine's
 * message. */
int mg_target_run(mg_target *t, const mg_model *m, mg_tensor *const *inputs, size_t ninputs,
		  const mg_run_opts *opts, mg_run_result *out, mg_error *err);
void mg_run_result_clear(mg_run_result *r);

typedef struct mg_agent_stats {
	uint64_t peak_rss;  /* bytes; VmHWM of the agent (under qemu: of qemu) */
	uint64_t bytes_in;  /* bytes the agent received so far */
	uint64_t bytes_put; /* blob bytes the agent received so far */
	uint32_t models;    /* loaded now */
} mg_agent_stats;

int mg_target_stats(mg_target *t, mg_agent_stats *out, mg_error *err);

/* ---- cost: instructions per inference ----------------------------------- */

typedef struct mg_cost_result {
	double instructions;      /* per inference */
	double mem_accesses;      /* per inference; NAN where not counted */
	double cache_misses;      /* per inference; NAN where not counted */
	uint32_t runs;            /* counted inferences */
	char backend[32];         /* "perf_event", "callgrind" (runners/cost.h) */
	char backend_version[64]; /* "linux 6.1.0-...", "valgrind-3.19.0" */
} mg_cost_result;

/* warmup uncounted inferences of m, then runs counted ones, with the
 * agent's counter. MG_ENOTFOUND, saying why, when the agent has none. */
int mg_target_cost(mg_target *t, const mg_model *m, mg_tensor *const *inputs, size_t ninputs,
		   uint32_t warmup, uint32_t runs, mg_cost_result *out, mg_error *err);

/* The cost of each of the n model files at paths (a baseline and a
 * candidate, say) on target t (started from spec with opts), each loaded
 * with lo, each in a fresh agent of its own (so that an identical model
 * gets an identical count): with the hardware counter where t's agent has
 * one, else under callgrind where valgrind is (mg_cost_select). An
 * emulated target, or one with no counter, is MG_ENOTFOUND saying why.
 * runs 0: as many as the counter needs (20 on the hardware counter, 5
 * under callgrind). */
int mg_cost_measure(mg_target *t, const char *spec, const mg_target_opts *opts,
		    const char *const *paths, size_t n, const mg_load_opts *lo,
		    mg_tensor *const *inputs, size_t ninputs, uint32_t runs, mg_cost_result *out,
		    mg_error *err);

/* ---- statistics --------------------------------------------------------- */

/* Latency statistics in ns. Percentiles interpolate linearly between the
 * closest ranks of the sorted samples (NumPy's default, Hyndman-Fan type 7):
 * p(q) = x[floor(h)] + (h - floor(h)) (x[floor(h)+1] - x[floor(h)]),
 * h = (n - 1) q. stddev is the sample standard deviation (n - 1). */
typedef struct mg_stats {
	size_t n;
	double min, max, mean, stddev, p50, p90, p95, p99;
} mg_stats;

/* All zero for n == 0. */
int mg_stats_compute(mg_stats *out, const uint64_t *samples, size_t n, mg_error *err);
/* The q-quantile (0..1) of n sorted values, as above. */
double mg_quantile_sorted(const double *sorted, size_t n, double q);

/* ---- comparing outputs ---------------------------------------------------- */

/* Element-wise |got - expected| <= atol + rtol * |expected| (numpy.isclose;
 * NaN equals NaN, infinities must match). */
typedef struct mg_compare {
	int ok;
	char why[256];        /* when the shapes or types differ */
	size_t mismatches;    /* elements out of tolerance */
	size_t count;         /* elements compared */
	double max_abs_diff;  /* over all elements */
	/* the worst element: the one furthest beyond (or nearest to) its tolerance */
	size_t worst;         /* flat index */
	int64_t worst_index[MG_TENSOR_MAX_RANK];
	double worst_got, worst_expected, worst_diff;
} mg_compare;

void mg_tensor_compare(const mg_tensor *got, const mg_tensor *expected, double rtol, double atol,
		       mg_compare *out);

#endif
