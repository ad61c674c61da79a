/* Inputs: what a model is fed when it is run or gated, made the same way
 * by every command. From a folder (ONNX test data input_N.pb, or NAME.npy
 * per input), or random of the model's declared shapes: a shape given by
 * name wins; a dynamic dimension is 1, a declared 0 stays 0; an input of
 * undeclared rank needs a given shape. Random values come from one seed
 * (MG_INPUT_SEED unless the user gives another), input after input, so the
 * same model and seed give the same bytes in `run` and in `gate`. */
#ifndef MG_INPUTS_H
#define MG_INPUTS_H

#include "formats/model_info.h"
#include "formats/tensor.h"

#define MG_INPUT_SEED 1

/* "NAME=DIMS" on the command line: --shape images=1x3x640x640 */
typedef struct mg_input_shape {
	char name[256];
	int64_t dims[MG_TENSOR_MAX_RANK];
	size_t rank;
} mg_input_shape;

/* Parses "NAME=D1xD2..." (or commas); -1 when it is not one. */
int mg_input_shape_parse(mg_input_shape *s, const char *arg);

/* A random tensor for each of the n inputs tis (an array of n, caller
 * frees with mg_tensors_free); model names the model in messages. A shape
 * given for no input of the model is an error. When defaulted is not NULL,
 * each input whose dynamic dimensions were set to 1 is described there
 * ("'images' (batch=1, height=1)", separated by "; "); empty when none. */
int mg_inputs_random(mg_tensor ***out, const mg_tensor_info *tis, size_t n,
		     const mg_input_shape *shapes, size_t nshapes, uint64_t seed, const char *model,
		     mg_buf *defaulted, mg_error *err);

/* The tensors of folder dir for the n tensors tis (inputs with prefix
 * "input", outputs with "output"): mg_tensor_dir_read by their names;
 * uint16 files for a bfloat16 tensor are taken as bfloat16 (NumPy has
 * none). */
int mg_inputs_read_dir(mg_tensor ***out, mg_tensor_format *fmt, const mg_tensor_info *tis, size_t n,
		       const char *dir, const char *prefix, mg_error *err);

/* ---- quantized models, and one model's tensors for another ---------- */

/* The rows of one run of input ti: its fixed first dimension, or 0 when
 * that is dynamic (any number of rows at once) or not declared. */
size_t mg_input_batch(const mg_tensor_info *ti);
/* Whether a dataset tensor t is one that input ti takes: every fixed
 * dimension equal, except that a fixed first dimension (mg_input_batch)
 * takes any number of rows in several runs (the last one padded). */
int mg_input_fits(const mg_tensor *t, const mg_tensor_info *ti);
/* Whether dataset or --inputs tensor *t can be what input ti takes: the
 * one check of every command. Its type: reals for a quantized input pass
 * (mg_input_quantizes); another real or integer type is converted in
 * place (mg_tensor_cast) when every value survives, or when cast is set
 * and ti takes reals (rounding is what the user asked); otherwise
 * MG_EINVAL with the way to convert it. Its shape: mg_input_fits when
 * runs (a dataset split into runs of a fixed batch), else every fixed
 * dimension equal. where names the tensor's origin ("dataset 'x.npy'");
 * a conversion made is told in said (may be NULL), one line. */
int mg_input_check(mg_tensor **t, const mg_tensor_info *ti, int cast, int runs, const char *where,
		   mg_buf *said, mg_error *err);
/* Rows first..first+n of t as a new tensor, the last row repeated where t
 * has fewer (a fixed batch's last run, padded); *padded (may be NULL) is
 * how many rows were repeated. */
int mg_input_rows(mg_tensor **out, const mg_tensor *t, size_t first, size_t n, size_t *padded,
		  mg_error *err);
/* Whether t is reals for an input ti declares int8 or uint8 with
 * quantization, which mg_inputs_quantize quantizes. */
int mg_input_quantizes(const mg_tensor *t, const mg_tensor_info *ti);
/* The other image layout: "nchw" for "nhwc" and the reverse; NULL for NULL. */
const char *mg_layout_other(const char *layout);

/* A float32 tensor given for an input the model declares int8 or uint8
 * with quantization is quantized with that input's parameters
 * (formats/quant.h), in place; any other tensor is left as it is (raw
 * integers pass as they are). ts[i] is the tensor for tis[i]. When said is
 * not NULL, each one quantized is told there, one line each: "input 'x'
 * quantized with scale S zero-point Z" (per channel: "with N scales along
 * dimension D"). */
int mg_inputs_quantize(mg_tensor **ts, const mg_tensor_info *tis, size_t n, mg_buf *said,
		       mg_error *err);
/* Each of the n outputs ts (in the model's order, as tis) that the model
 * declares quantized replaced by its float32 dequantization, in place. */
int mg_outputs_dequantize(mg_tensor **ts, const mg_tensor_info *tis, size_t n, mg_error *err);

/* How the tensors named to (one model's) meet the tensors named from
 * (another's): by name when every name of to is among from, else by order
 * when the counts agree; idx[j] is the index in from of to[j], *how "name"
 * or "order". Else MG_EINVAL naming what ("inputs", "outputs") and both
 * counts. */
int mg_tensors_match(size_t *idx, const char **how, const char *const *from, size_t nfrom,
		     const char *const *to, size_t nto, const char *what, mg_error *err);

/* A 4-D image tensor from one layout to the other ("nhwc" <-> "nchw"): a
 * new tensor, transposed; from equal to to gives a copy. */
int mg_tensor_relayout(mg_tensor **out, const mg_tensor *t, const char *from, const char *to,
		       mg_error *err);

/* The tensors ts, made for one model whose inputs are ts_info (nts
 * entries, or NULL), as inputs of another whose inputs are tis (a baseline
 * of another format): matched with mg_tensors_match, raw integers that
 * ts_info says are quantized dequantized where tis takes float32, 4-D ones
 * transposed from layout from to layout to when both are given and
 * differ, converted to tis's types where every value survives (as
 * mg_input_check), checked against tis's declared shapes (MG_EINVAL naming
 * both shapes) and quantized as mg_inputs_quantize. *how says how they were
 * matched. Caller frees *out (n entries). */
int mg_inputs_for(mg_tensor ***out, const char **how, mg_tensor *const *ts,
		  const mg_tensor_info *ts_info, size_t nts, const mg_tensor_info *tis, size_t n,
		  const char *from, const char *to, const char *model, mg_error *err);

#endif
