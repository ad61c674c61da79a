/* libFuzzer target for the ONNX wire-format reader (formats/model_info.c,
 * over formats/protobuf.c).
 * Any input must either parse into a consistent mg_model_info or fail with
 * MG_EINVAL (or MG_ENOMEM) and a message naming the input; the sanitizers
 * catch reads past the end and leaks. Seed the corpus with real .onnx files. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "formats/model_info.h"

#define NAME "fuzz.onnx"
#define PREFIX "'" NAME "' is not a valid ONNX model: "

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_tensor(const mg_tensor_info *t)
{
	if (!t->name || !t->dtype)
		__builtin_trap();
	if (t->rank == SIZE_MAX) {
		if (t->dims || t->dim_names)
			__builtin_trap();
		return;
	}
	for (size_t i = 0; i < t->rank; i++)
		if (t->dims[i] < -1 || (t->dim_names[i] && t->dims[i] != -1))
			__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	mg_model_info *info = NULL;
	mg_error err = {0};
	int rc = mg_model_info_parse(&info, data, size, NAME, &err);

	if (rc == 0) {
		if (!info || strcmp(info->format, "onnx"))
			__builtin_trap();
		for (size_t i = 0; i < info->ninputs; i++)
			check_tensor(&info->inputs[i]);
		for (size_t i = 0; i < info->noutputs; i++)
			check_tensor(&info->outputs[i]);
	} else if (info || err.code != rc ||
		   (rc == MG_EINVAL && strncmp(err.msg, PREFIX, strlen(PREFIX))) ||
		   (rc != MG_EINVAL && rc != MG_ENOMEM)) {
		__builtin_trap();
	}
	mg_model_info_free(info);
	return 0;
}
