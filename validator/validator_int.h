/* Internals shared by the files of the gate run. */
#ifndef MG_VALIDATOR_INT_H
#define MG_VALIDATOR_INT_H

#include "report.h"
#include "validator.h"
#include "registry/source.h"

/* A model or dataset made available as local files (registry/source.h):
 * path, digest and spec point into src. */
typedef struct mg_resolved {
	const char *spec;   /* as the config or command line gave it */
	const char *path;   /* the model file, or the dataset file or folder */
	const char *digest; /* the manifest digest of a reference, the sha256 of a file */
	mg_source src;
} mg_resolved;

/* Resolves spec (a path relative to dir, or a store or registry reference,
 * read as so says). want_model picks the model file of an artifact;
 * otherwise the artifact's folder is the path. */
int mg_resolve(mg_resolved *out, const char *spec, const char *dir, int want_model,
	       const mg_source_opts *so, mg_error *err);
void mg_resolved_clear(mg_resolved *r);

/* The fingerprint of a target, from what its agent reported (caller frees
 * with mg_fingerprint_free, report.h). */
struct mg_target_info;
mg_fingerprint *mg_fingerprint_of(const struct mg_target_info *ti);
/* "tflite armnn 20.08 CpuRef": the engine of ti's last load (malloc'ed). */
char *mg_fingerprint_engine(const struct mg_target_info *ti);

/* Bytes of the file after zstd compression (level 19), streamed. */
int mg_compressed_size(const char *path, uint64_t *out, mg_error *err);

/* ---- the gate run (gate.c, gate_kinds.c) ---------------------------- */

#include "formats/model_info.h"
#include "runners/runners.h"
#include "target_if.h"

/* A target of the config, started when a gate first needs it. What the
 * report says of it is assembled from here after the gates ran. */
typedef struct run_target {
	const mg_target_config *config;
	char *spec;    /* after a --target override */
	int started;   /* start was tried */
	void *t;       /* NULL when it could not be started */
	char *error;   /* why it could not be started, or NULL */
	mg_fingerprint *fingerprint; /* what it said of itself, or NULL */
	int engine_known;            /* fingerprint->engine is the candidate's */
} run_target;

typedef struct run_ctx {
	const mg_config *cfg;
	const mg_gate_opts *opts;
	mg_target_if tif; /* opts->targets, or the agents of runners/ */
	mg_resolved model, baseline, dataset;
	mg_model_info *model_info, *base_info;
	mg_tensor **inputs; /* the dataset's inputs (all rows), quantized where the model is */
	size_t ninputs;
	mg_tensor **base_inputs; /* the same made for the baseline (another format, layout or
				    quantization: runners/inputs.h), or NULL: inputs */
	size_t nbase_inputs;
	const char *layout; /* the candidate's image layout against the baseline's, or NULL */
	const char *inputs_how; /* how the baseline's inputs met the dataset's: "name", "order" */
	mg_tensor *labels;
	char *labels_name; /* as the config names them */
	char **classes;    /* the class names: the config's "classes", or the
			      dataset's labels.txt (own_classes), or NULL */
	size_t nclasses;
	int own_classes;
	mg_tensor **sample; /* one row of them, for latency and memory */
	size_t nsample;
	mg_tensor **base_sample; /* the same made for the baseline, or NULL: sample */
	size_t nbase_sample;
	/* outputs of the dataset on the local target, computed once */
	int outputs_done;
	char *outputs_error;
	mg_tensor **cand_out, **base_out;
	size_t ncand_out, nbase_out;
	run_target *targets; /* one per cfg->targets, in order */
	size_t ntargets;
} run_ctx;

/* What every gate run does before its gates: the targets listed (none
 * started), emulated limits refused, the model, baseline and dataset
 * resolved, read and checked against each other. mg_gate__close frees c
 * (also after a failed open) and stops the targets started. */
int mg_gate__open(run_ctx *c, const mg_config *cfg, const mg_gate_opts *opts, mg_error *err);
void mg_gate__close(run_ctx *c);
void mg_gate__say(const run_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
double mg_gate__now_s(void);
int mg_gate__add_figure(mg_gate_result *g, const char *name, double value, double baseline,
			const char *unit);
void mg_gate__set_headline(mg_gate_result *g, const char *metric, double value, double limit,
			   mg_limit_is limit_is, double baseline, const char *unit);
void mg_gate__set_status(mg_gate_result *g, mg_gate_status s, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const mg_target_config *mg_gate__gate_target(const run_ctx *c, const mg_gate_config *g);
/* The target of a gate, started once; NULL with its ->error when it
 * cannot be started. */
run_target *mg_gate__get_target(run_ctx *c, const mg_target_config *tc);
mg_fingerprint *mg_gate__copy_fingerprint(const mg_fingerprint *f);
/* Outputs of the dataset on the local target; NULL, or why they failed. */
const char *mg_gate__dataset_outputs(run_ctx *c);
/* Output tensor t as n rows of cols floats (caller frees). */
float *mg_gate__as_rows(const mg_tensor *t, size_t *n, size_t *cols);
/* Evaluates one gate into g; only a failure of the run itself (out of
 * memory) or bad input (labels that are not classes, a k or a threads
 * setting the model or target cannot have: MG_EINVAL) is an error; an
 * unreachable target is g's status. */
int mg_gate__eval(run_ctx *c, const mg_gate_config *gc, mg_gate_result *g, mg_error *err);
/* The accuracy gate (gate_accuracy.c), as mg_gate__eval. */
int mg_gate__eval_accuracy(run_ctx *c, const mg_gate_config *gc, mg_gate_result *g, mg_error *err);
/* The index among the outputs of mi (the model's order, which its runs
 * keep) of the output gate gc scores: its "output" by name, else by
 * index, else the first. An output the model does not have is MG_EINVAL
 * naming those it has. */
int mg_gate__pick_output(size_t *idx, const mg_gate_config *gc, const mg_model_info *mi, const char *model,
			 mg_error *err);
/* Per-class limits of gc naming no class of names (n of them; a number
 * is an index, checked when the classes are counted): MG_EINVAL. */
int mg_gate__check_class_names(const mg_gate_config *gc, char *const *names, size_t n, mg_error *err);
/* Appends "; what" to a reason being built in buf. */
void mg_gate__note(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "WHOSE hold N NaN and M infinite values (of T)" into buf when the count
 * values at v hold any; their number. */
size_t mg_gate__nonfinite_note(char *buf, size_t len, const char *whose, const float *v, size_t count);

/* ---- the dataset (gate_dataset.c) ------------------------------------ */

/* Reads the dataset of the config (inputs, labels, class names) into c. */
int mg_gate__load_dataset(run_ctx *c, mg_error *err);
/* The dataset against the model: MG_EINVAL for one that cannot serve it;
 * inputs of another type converted where they may be (said). */
int mg_gate__check_dataset(run_ctx *c, mg_error *err);

#endif
