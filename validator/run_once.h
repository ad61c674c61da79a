/* One run of a model on a target with optional inputs and expected
 * outputs: the work of `modelgate run` (cli/cmd_run.c prints it) and of the
 * fleet updater's smoke check (device/). The state of a run is freed in one
 * place, mg_run_once_free, whatever mg_run_once_do returned. */
#ifndef MG_RUN_ONCE_H
#define MG_RUN_ONCE_H

#include "formats/model_info.h"
#include "registry/source.h"
#include "runners/inputs.h"
#include "runners/runners.h"

#define MG_RUN_MAX_SHAPES 64
#define MG_RUN_MAX_TOLS 64
/* run's default tolerances, ONNX's backend test runner's */
#define MG_RUN_RTOL 1e-3
#define MG_RUN_ATOL 1e-7

/* --rtol/--atol OUTPUT=X: a tolerance for one output (NAN: the default) */
typedef struct mg_run_tol {
	char name[256];
	double rtol, atol;
} mg_run_tol;

typedef struct mg_run_spec {
	const char *model, *target, *inputs, *outputs, *expect, *provider;
	double rtol, atol, min_time, timeout;
	int dequantize, cast; /* cast: round inputs of another real type (--cast) */
	long warmup, iterations, threads, opt_level;
	uint64_t seed;
	mg_input_shape shapes[MG_RUN_MAX_SHAPES];
	size_t nshapes;
	mg_run_tol tols[MG_RUN_MAX_TOLS];
	size_t ntols;
} mg_run_spec;

/* The state of one run, freed in one place. */
typedef struct mg_run_once {
	mg_source src; /* the model */
	mg_buf defaulted; /* random inputs' dynamic dimensions set to 1, said */
	mg_buf quantized; /* float32 inputs quantized for the model, said */
	mg_buf converted; /* inputs of another type converted (runners/inputs.h), said */
	mg_model_info *info;
	mg_tensor **inputs, **expect;
	size_t ninputs, nexpect;
	mg_tensor_format fmt;
	mg_target *target;
	mg_model model;
	mg_run_result res;
	mg_agent_stats agent;
	mg_stats stats;
	mg_compare *cmp;
	uint64_t startup_ns;
} mg_run_once;

/* Runs a->model as a says (t_start: mg_run_now_ns() when the command
 * started, for the start-up time); so: how the model's source is opened.
 * 0, with the outputs compared (st->cmp) when a->expect is set. */
int mg_run_once_do(mg_run_once *st, const mg_run_spec *a, const mg_source_opts *so, uint64_t t_start,
		   mg_error *err);
void mg_run_once_free(mg_run_once *st);

/* Sets the relative (or absolute) tolerance of the output named by the
 * first len bytes of name to v; -1 for an empty or too long name, a v that
 * is not 0 or more, or an output past MG_RUN_MAX_TOLS. */
int mg_run_tol_set(mg_run_spec *a, const char *name, size_t len, int relative, double v);
/* Tolerances as JSON text (a bundle's smoke/tolerances.json), every member
 * optional: {"rtol": X, "atol": X, "outputs": {"NAME": {"rtol": X, "atol":
 * X}}}, into a. Bad text is MG_EINVAL naming what (a file) and the member. */
int mg_run_tolerances_json(mg_run_spec *a, const char *text, size_t len, const char *what, mg_error *err);
/* Nanoseconds of a monotonic clock. */
uint64_t mg_run_now_ns(void);

#endif
