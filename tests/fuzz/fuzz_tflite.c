/* libFuzzer target for the TFLite reader and the fp16 fold
 * (formats/tflite.c and formats/tflite_fold.c, over formats/flatbuf.c).
 * Any input must either read into a consistent mg_model_info or fail with
 * MG_EINVAL (or MG_ENOMEM) and a message naming the input; the fold must
 * agree, and what it writes must read back with the same inputs and
 * outputs and as many fewer operators as it says it folded. The sanitizers
 * catch reads past the end and leaks. Seeds: tests/cli/make_tflite.py's
 * models. */
#include "fuzz.h"

#include "formats/model_info.h"
#include "formats/tflite.h"

#define NAME "fuzz.tflite"
#define PREFIX "'" NAME "' is not a valid TFLite model: "
#define FOLD_PREFIX "cannot fold the fp16 weights of '" NAME "': "

static void check_fail(int rc, const mg_model_info *info, const mg_error *err)
{
	if (info || err->code != rc || (rc != MG_EINVAL && rc != MG_ENOMEM))
		__builtin_trap();
	if (rc == MG_EINVAL && strncmp(err->msg, PREFIX, strlen(PREFIX)) &&
	    strncmp(err->msg, FOLD_PREFIX, strlen(FOLD_PREFIX)))
		__builtin_trap();
}

static uint64_t total_ops(const mg_model_info *info)
{
	uint64_t n = 0;
	for (size_t i = 0; i < info->nops; i++)
		n += info->ops[i].count;
	return n;
}

static void same_tensors(const mg_tensor_info *a, const mg_tensor_info *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(a[i].dtype, b[i].dtype) || a[i].rank != b[i].rank ||
		    memcmp(a[i].dims, b[i].dims, a[i].rank * sizeof(*a[i].dims)))
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the reader expects a buffer aligned as malloc's */
	uint8_t *copy = malloc(size ? size : 1);
	if (!copy)
		return 0;
	memcpy(copy, data, size);
	mg_model_info *info = NULL, *after = NULL;
	mg_error err = {0};
	int rc = mg_tflite_info_parse(&info, copy, size, NAME, &err);
	if (rc) {
		check_fail(rc, info, &err);
	} else {
		if (!info || strcmp(info->format, "tflite") || !info->subgraphs)
			__builtin_trap();
		mg_buf b = MG_BUF_INIT;
		if (mg_armnn_unsupported(info, &b, &err) < 0)
			__builtin_trap();
		mg_buf_free(&b);
	}

	uint8_t *out = NULL;
	size_t len = 0, n = 0;
	mg_error ferr = {0};
	int frc = mg_tflite_fold_fp16(&out, &len, &n, copy, size, NAME, &ferr);
	if (frc) {
		check_fail(frc, NULL, &ferr);
		if (out)
			__builtin_trap();
	} else if (out && !rc) {
		/* (the fold checks less than the reader: it may fold a model
		 * the reader refuses, which proves nothing) */
		mg_error aerr = {0};
		if (!n)
			__builtin_trap();
		if (mg_tflite_info_parse(&after, out, len, NAME, &aerr) ||
		    after->ninputs != info->ninputs || after->noutputs != info->noutputs ||
		    total_ops(after) + n != total_ops(info))
			__builtin_trap();
		same_tensors(info->inputs, after->inputs, info->ninputs);
		same_tensors(info->outputs, after->outputs, info->noutputs);
	} else if (!out && n) {
		__builtin_trap();
	}
	free(out);
	mg_model_info_free(after);
	mg_model_info_free(info);
	free(copy);
	return 0;
}
