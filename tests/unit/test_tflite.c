/* Tests for formats/flatbuf.c, formats/tflite.c, tflite_ops.c and
 * tflite_fold.c: models written by tests/cli/make_tflite.py (run here
 * through python3-flatbuffers), read back and folded, and the same models
 * with bytes patched the way a hostile file would have them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/flatbuf.h"
#include "formats/model_info.h"
#include "formats/tflite.h"
#include "formats/tflite_schema.h"
#include "scratch.h"

#define NAME "t.tflite"

/* ---- helpers ---------------------------------------------------------- */

/* The scratch folder, made on first use. */
static const char *tmp_dir(void)
{
	static const char *dir;
	if (!dir)
		dir = scratch_dir("tflite");
	return dir;
}

/* The path of make_tflite.py's model of kind (made once). */
static const char *model_path(const char *kind)
{
	static char path[600];
	char cmd[1400];
	snprintf(path, sizeof(path), "%s/%s.tflite", tmp_dir(), kind);
	if (access(path, R_OK)) {
		const char *py = access("/usr/bin/python3", X_OK) ? "python3" : "/usr/bin/python3";
		snprintf(cmd, sizeof(cmd), "%s tests/cli/make_tflite.py %s '%s'", py, kind, path);
		if (system(cmd))
			fail_msg("cannot run %s (python3-flatbuffers: make deps-test)", cmd);
	}
	return path;
}

/* The bytes of a model of kind, malloc'ed (aligned as the reader wants). */
static mg_buf model_bytes(const char *kind)
{
	mg_buf b = MG_BUF_INIT;
	mg_error err = {0};
	if (mg_file_read(&b, model_path(kind), 1 << 20, &err))
		fail_msg("%s", err.msg);
	return b;
}

static mg_model_info *parse_ok(const void *data, size_t len)
{
	mg_model_info *info = NULL;
	mg_error err = {0};
	if (mg_tflite_info_parse(&info, data, len, NAME, &err))
		fail_msg("%s", err.msg);
	return info;
}

static mg_model_info *read_kind(const char *kind)
{
	mg_model_info *info = NULL;
	mg_error err = {0};
	if (mg_model_info_read(&info, model_path(kind), &err))
		fail_msg("%s", err.msg);
	assert_string_equal(info->format, "tflite");
	return info;
}

static const char *describe(const mg_tensor_info *t)
{
	static char out[512];
	size_t n = (size_t)snprintf(out, sizeof(out), "%s %s [", t->name, t->dtype);
	for (size_t i = 0; i < t->rank; i++)
		n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%lld", i ? "," : "", (long long)t->dims[i]);
	snprintf(out + n, sizeof(out) - n, "]");
	return out;
}

static uint64_t op_count(const mg_model_info *info, const char *name)
{
	for (size_t i = 0; i < info->nops; i++)
		if (!strcmp(info->ops[i].name, name))
			return info->ops[i].count;
	return 0;
}

static int parse_fails(const void *data, size_t len, const char *want)
{
	mg_model_info *info = NULL;
	mg_error err = {0};
	int rc = mg_tflite_info_parse(&info, data, len, NAME, &err);
	assert_null(info);
	assert_int_equal(rc, err.code);
	if (rc != MG_EINVAL)
		fail_msg("rc %d: %s", rc, err.msg);
	if (!strstr(err.msg, "'" NAME "' is not a valid TFLite model: ") || (want && !strstr(err.msg, want)))
		fail_msg("message '%s' lacks '%s'", err.msg, want ? want : "the name");
	return rc;
}

/* The float model's bytes, its root table and its subgraphs vector. */
static mg_buf float_model(mg_fb_table *root, mg_fb_vec *subgraphs)
{
	mg_buf b = model_bytes("float");
	mg_fb fb = {(const uint8_t *)b.data, b.len, NAME, "TFLite model", NULL};
	assert_int_equal(mg_fb_root(&fb, root), 0);
	assert_int_equal(mg_fb_vector(&fb, root, TFL_MODEL_SUBGRAPHS, 4, subgraphs), 0);
	assert_true(subgraphs->n > 0);
	return b;
}

/* The float a binary16 stands for, computed another way than the code. */
static float half_reference(uint16_t h)
{
	int sign = h >> 15, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
	double v = exp == 0 ? ldexp(mant, -24) : exp == 31 ? (mant ? NAN : INFINITY)
			    : ldexp(1024 + mant, exp - 25);
	return (float)(sign ? -v : v);
}

/* ---- reading ---------------------------------------------------------- */

static void test_read_float_model(void **state)
{
	(void)state;
	mg_model_info *info = read_kind("float");
	assert_int_equal(info->ninputs, 1);
	assert_string_equal(describe(&info->inputs[0]), "input float32 [1,8,8,3]");
	assert_int_equal(info->noutputs, 1);
	assert_string_equal(describe(&info->outputs[0]), "output float32 [1,10]");
	assert_int_equal(info->inputs[0].quant.n, 0);
	assert_int_equal(info->subgraphs, 1);
	assert_int_equal(info->nops, 3);
	assert_string_equal(info->ops[0].name, "CONV_2D");
	assert_int_equal(op_count(info, "RESHAPE"), 1);
	assert_int_equal(op_count(info, "FULLY_CONNECTED"), 1);
	/* conv 4x3x3x3 + 4, fc 10x36 + 10, the reshape's shape 2 */
	assert_int_equal(info->parameters, 108 + 4 + 360 + 10 + 2);
	assert_int_equal(info->weight_bytes, 4 * info->parameters);
	mg_model_info_free(info);
}

static void test_read_shape_signature_gives_dynamic_dims(void **state)
{
	(void)state;
	mg_model_info *info = read_kind("dynamic");
	assert_string_equal(describe(&info->inputs[0]), "input float32 [-1,8,8,3]");
	assert_string_equal(describe(&info->outputs[0]), "output float32 [1,10]");
	mg_model_info_free(info);
}

static void test_read_is_by_content_not_name(void **state)
{
	(void)state;
	mg_buf b = model_bytes("float");
	mg_model_info *info = NULL;
	mg_error err = {0};
	char path[700];
	snprintf(path, sizeof(path), "%s/model.bin", tmp_dir());
	assert_int_equal(mg_file_write_atomic(path, b.data, b.len, &err), 0);
	assert_int_equal(mg_model_info_read(&info, path, &err), 0);
	assert_string_equal(info->format, "tflite");
	mg_model_info_free(info);
	/* a .tflite without the identifier is refused, naming it */
	snprintf(path, sizeof(path), "%s/garbage.tflite", tmp_dir());
	assert_int_equal(mg_file_write_atomic(path, "garbage, not a model", 20, &err), 0);
	assert_int_equal(mg_model_info_read(&info, path, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "garbage.tflite' is not a valid TFLite model: no \"TFL3\" identifier"));
	mg_buf_free(&b);
}

static void test_read_int8_io_per_tensor_quantization(void **state)
{
	(void)state;
	mg_model_info *info = read_kind("int8-io");
	assert_string_equal(describe(&info->inputs[0]), "input int8 [1,8,8,3]");
	assert_int_equal(info->inputs[0].quant.n, 1);
	assert_true(info->inputs[0].quant.scales[0] == 1.0f / 128);
	assert_int_equal(info->inputs[0].quant.zero_points[0], 0);
	assert_string_equal(describe(&info->outputs[0]), "output int8 [1,10]");
	assert_true(info->outputs[0].quant.scales[0] == (float)(8.0 / 255));
	/* int8 weights are a quarter of float ones, int32 biases the same */
	assert_int_equal(info->weight_bytes, 108 + 4 * 4 + 360 + 10 * 4 + 2 * 4);
	mg_model_info_free(info);

	info = read_kind("int8");
	assert_string_equal(describe(&info->inputs[0]), "input float32 [1,8,8,3]");
	assert_int_equal(op_count(info, "QUANTIZE"), 1);
	assert_int_equal(op_count(info, "DEQUANTIZE"), 1);
	mg_model_info_free(info);
}

static void test_read_uint8_zero_point(void **state)
{
	(void)state;
	mg_model_info *info = read_kind("uint8");
	assert_string_equal(describe(&info->inputs[0]), "input uint8 [1,8,8,3]");
	assert_int_equal(info->inputs[0].quant.n, 1);
	assert_int_equal(info->inputs[0].quant.zero_points[0], 128);
	assert_int_equal(info->outputs[0].quant.zero_points[0], 128);
	mg_model_info_free(info);
}

static void test_read_per_channel_quantization(void **state)
{
	(void)state;
	mg_model_info *info = read_kind("int8-channels");
	const mg_quant_info *q = &info->inputs[0].quant;
	assert_int_equal(q->n, 4);
	assert_int_equal(q->dimension, 0);
	assert_true(q->scales[0] == 0.5f && q->scales[3] == 0.0625f);
	assert_int_equal(q->zero_points[1], 1);
	assert_int_equal(q->zero_points[2], -1);
	assert_int_equal(info->outputs[0].quant.n, 0);
	mg_model_info_free(info);
}

static void test_read_custom_op_by_its_code(void **state)
{
	(void)state;
	mg_model_info *info = read_kind("custom");
	assert_int_equal(info->nops, 2);
	assert_string_equal(info->ops[1].name, "MyCustomOp");
	assert_int_equal(info->ops[1].custom, 1);
	assert_int_equal(info->ops[0].custom, 0);
	mg_model_info_free(info);
}

static void test_read_two_subgraphs_counts_ops_of_both(void **state)
{
	(void)state;
	mg_model_info *info = read_kind("subgraphs");
	assert_int_equal(info->subgraphs, 2);
	assert_int_equal(op_count(info, "ADD"), 1);
	/* inputs and outputs are subgraph 0's */
	assert_int_equal(info->ninputs, 1);
	assert_string_equal(info->inputs[0].name, "input");
	mg_model_info_free(info);
}

static void test_read_merges_an_operator_listed_twice(void **state)
{
	(void)state;
	/* the float model's opcodes are CONV_2D, RESHAPE, FULLY_CONNECTED; the
	 * second becomes CONV_2D too, as a newer version of an operator is
	 * listed beside the older */
	mg_buf b = model_bytes("float");
	mg_fb fb = {(const uint8_t *)b.data, b.len, NAME, "TFLite model", NULL};
	mg_fb_table root, code;
	mg_fb_vec codes;
	size_t dep, builtin;
	assert_int_equal(mg_fb_root(&fb, &root), 0);
	assert_int_equal(mg_fb_vector(&fb, &root, TFL_MODEL_OPCODES, 4, &codes), 0);
	assert_int_equal(codes.n, 3);
	assert_int_equal(mg_fb_vec_table(&fb, &codes, 1, &code), 0);
	assert_int_equal(mg_fb_field(&fb, &code, TFL_OPCODE_DEPRECATED, 1, &dep), 0);
	assert_int_equal(mg_fb_field(&fb, &code, TFL_OPCODE_BUILTIN, 4, &builtin), 0);
	assert_true(dep && builtin);
	b.data[dep] = 3;
	mg_fb_store32((uint8_t *)b.data + builtin, 3);
	mg_model_info *info = parse_ok(b.data, b.len);
	assert_int_equal(info->nops, 2);
	assert_string_equal(info->ops[0].name, "CONV_2D");
	assert_int_equal(info->ops[0].count, 2);
	assert_string_equal(info->ops[1].name, "FULLY_CONNECTED");
	assert_int_equal(info->ops[1].count, 1);
	mg_model_info_free(info);
	mg_buf_free(&b);
}

static void test_model_info_json_has_quantization_and_ops(void **state)
{
	(void)state;
	mg_model_info *info = read_kind("uint8");
	mg_buf j = MG_BUF_INIT;
	assert_int_equal(mg_model_info_json(&j, info, NULL), 0);
	assert_non_null(strstr(j.data, "\"quantization\":{\"dimension\":0,\"scales\":[0.0078125],\"zero_points\":[128]}"));
	assert_non_null(strstr(j.data, "{\"count\":1,\"name\":\"CONV_2D\"}"));
	assert_non_null(strstr(j.data, "\"subgraphs\":1"));
	mg_buf_free(&j);
	mg_model_info_free(info);
}

/* ---- Arm NN 20.08 ---------------------------------------------------- */

static void check_unsupported(const char *kind, int want_n, const char *want)
{
	mg_model_info *info = read_kind(kind);
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_armnn_unsupported(info, &b, NULL), want_n);
	assert_string_equal(mg_buf_cstr(&b), want);
	mg_buf_free(&b);
	mg_model_info_free(info);
}

static void test_armnn_unsupported(void **state)
{
	(void)state;
	check_unsupported("float", 0, "");
	check_unsupported("int8", 0, "");
	check_unsupported("fp16", 0, "");
	check_unsupported("prelu", 1, "PRELU x1");
	check_unsupported("custom", 1, "MyCustomOp x1");
	check_unsupported("subgraphs", 1, "2 subgraphs");
}

static void test_armnn_custom_detection_postprocess_only(void **state)
{
	(void)state;
	mg_op_count dpp = {"TFLite_Detection_PostProcess", 1, 1}, conv = {"CONV_2D", 0, 1};
	mg_op_count fake = {"CONV_2D", 1, 1}, gather = {"GATHER", 0, 1};
	assert_true(mg_armnn_op_supported(&dpp));
	assert_true(mg_armnn_op_supported(&conv));
	assert_false(mg_armnn_op_supported(&fake));
	assert_false(mg_armnn_op_supported(&gather));
	assert_string_equal(mg_tflite_op_name(54), "PRELU");
	assert_string_equal(mg_tflite_op_name(126), "BATCH_MATMUL");
	assert_null(mg_tflite_op_name(100000));
	assert_null(mg_tflite_op_name(-1));
}

/* ---- fp16 fold -------------------------------------------------------- */

static void test_half_to_float_special_values(void **state)
{
	(void)state;
	assert_true(mg_half_to_float(0x0000) == 0.0f && !signbit(mg_half_to_float(0x0000)));
	assert_true(mg_half_to_float(0x8000) == 0.0f && signbit(mg_half_to_float(0x8000)));
	assert_true(mg_half_to_float(0x0001) == ldexpf(1, -24));
	assert_true(mg_half_to_float(0x03ff) == ldexpf(1023, -24));
	assert_true(mg_half_to_float(0x0400) == ldexpf(1, -14));
	assert_true(mg_half_to_float(0x3c00) == 1.0f);
	assert_true(mg_half_to_float(0xc000) == -2.0f);
	assert_true(mg_half_to_float(0x7bff) == 65504.0f);
	assert_true(isinf(mg_half_to_float(0x7c00)) && mg_half_to_float(0x7c00) > 0);
	assert_true(isinf(mg_half_to_float(0xfc00)) && mg_half_to_float(0xfc00) < 0);
	assert_true(isnan(mg_half_to_float(0x7e00)));
	assert_true(isnan(mg_half_to_float(0xfd01)) && signbit(mg_half_to_float(0xfd01)));
	for (uint32_t h = 0; h < 0x10000; h++) {
		float got = mg_half_to_float((uint16_t)h), want = half_reference((uint16_t)h);
		if (isnan(want) ? !isnan(got) : (got != want || signbit(got) != signbit(want)))
			fail_msg("half 0x%04x gave %g, not %g", h, got, want);
	}
}

/* The float32 data of the constant tensor called name in a folded model,
 * checked to be the halves of the same tensor in the original; returns the
 * first value. */
static float check_folded_tensor(const mg_buf *orig, const uint8_t *folded, size_t len, const char *name,
				size_t want_n)
{
	const mg_fb fbs[2] = {{(const uint8_t *)orig->data, orig->len, NAME, "TFLite model", NULL},
			      {folded, len, NAME, "TFLite model", NULL}};
	mg_fb_vec data[2];
	uint8_t types[2];
	for (int k = 0; k < 2; k++) {
		const mg_fb *fb = &fbs[k];
		mg_fb_table root, sg, t, b;
		mg_fb_vec sgs, tensors, buffers;
		assert_int_equal(mg_fb_root(fb, &root), 0);
		assert_int_equal(mg_fb_vector(fb, &root, TFL_MODEL_SUBGRAPHS, 4, &sgs), 0);
		assert_int_equal(mg_fb_vector(fb, &root, TFL_MODEL_BUFFERS, 4, &buffers), 0);
		assert_int_equal(mg_fb_vec_table(fb, &sgs, 0, &sg), 0);
		assert_int_equal(mg_fb_vector(fb, &sg, TFL_SG_TENSORS, 4, &tensors), 0);
		int found = 0;
		for (uint32_t i = 0; i < tensors.n && !found; i++) {
			const char *s;
			size_t slen;
			uint32_t buf;
			assert_int_equal(mg_fb_vec_table(fb, &tensors, i, &t), 0);
			assert_int_equal(mg_fb_string(fb, &t, TFL_TENSOR_NAME, &s, &slen), 0);
			if (strcmp(s, name))
				continue;
			found = 1;
			assert_int_equal(mg_fb_u8(fb, &t, TFL_TENSOR_TYPE, 0, &types[k]), 0);
			assert_int_equal(mg_fb_u32(fb, &t, TFL_TENSOR_BUFFER, 0, &buf), 0);
			assert_int_equal(mg_fb_vec_table(fb, &buffers, buf, &b), 0);
			assert_int_equal(mg_fb_vector(fb, &b, TFL_BUFFER_DATA, 1, &data[k]), 0);
			assert_int_equal(data[k].pos % 16, 0);
		}
		assert_true(found);
	}
	assert_int_equal(types[0], TFL_FLOAT16);
	assert_int_equal(types[1], TFL_FLOAT32);
	assert_int_equal(data[0].n, 2 * want_n);
	assert_int_equal(data[1].n, 4 * want_n);
	for (size_t i = 0; i < want_n; i++) {
		uint16_t h = mg_fb_load16((const uint8_t *)orig->data + data[0].pos + 2 * i);
		float f;
		memcpy(&f, folded + data[1].pos + 4 * i, 4);
		if (f != half_reference(h))
			fail_msg("%s[%zu]: %g, not the half 0x%04x", name, i, f, h);
	}
	float first;
	memcpy(&first, folded + data[1].pos, 4);
	return first;
}

static void test_fold_fp16_model(void **state)
{
	(void)state;
	mg_buf b = model_bytes("fp16");
	uint8_t *out = NULL;
	size_t len = 0, n = 0;
	mg_error err = {0};
	if (mg_tflite_fold_fp16(&out, &len, &n, b.data, b.len, NAME, &err))
		fail_msg("%s", err.msg);
	assert_non_null(out);
	assert_int_equal(n, 4);
	assert_true(len > b.len);

	mg_model_info *before = parse_ok(b.data, b.len), *after = parse_ok(out, len);
	assert_int_equal(op_count(before, "DEQUANTIZE"), 4);
	assert_int_equal(op_count(after, "DEQUANTIZE"), 0);
	assert_int_equal(op_count(after, "CONV_2D"), 1);
	assert_int_equal(op_count(after, "FULLY_CONNECTED"), 1);
	assert_string_equal(describe(&after->inputs[0]), describe(&before->inputs[0]));
	assert_string_equal(describe(&after->outputs[0]), "output float32 [1,10]");
	assert_int_equal(after->parameters, before->parameters);
	assert_int_equal(after->weight_bytes, 4 * after->parameters);

	check_folded_tensor(&b, out, len, "conv/weights", 108);
	/* the generator made conv/bias[0] the subnormal half 2^-20 */
	assert_true(check_folded_tensor(&b, out, len, "conv/bias", 4) == ldexpf(1, -20));
	check_folded_tensor(&b, out, len, "fc/weights", 360);
	check_folded_tensor(&b, out, len, "fc/bias", 10);

	/* folding again finds nothing, and says so without a copy */
	uint8_t *again = (uint8_t *)1;
	size_t len2 = 1, n2 = 1;
	assert_int_equal(mg_tflite_fold_fp16(&again, &len2, &n2, out, len, NAME, &err), 0);
	assert_null(again);
	assert_int_equal(n2, 0);
	assert_int_equal(len2, 0);
	mg_model_info_free(before);
	mg_model_info_free(after);
	free(out);
	mg_buf_free(&b);
}

static void test_fold_leaves_other_models_alone(void **state)
{
	(void)state;
	static const char *const kinds[] = {"float", "int8", "uint8", "int8-channels", "subgraphs"};
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		mg_buf b = model_bytes(kinds[i]);
		uint8_t *out = NULL;
		size_t len = 0, n = 0;
		mg_error err = {0};
		if (mg_tflite_fold_fp16(&out, &len, &n, b.data, b.len, NAME, &err))
			fail_msg("%s: %s", kinds[i], err.msg);
		assert_null(out);
		assert_int_equal(n, 0);
		mg_buf_free(&b);
	}
}

/* The position of the buffer field of tensor name in subgraph 0. */
static size_t tensor_buffer_field(const mg_buf *b, const char *name)
{
	mg_fb fb = {(const uint8_t *)b->data, b->len, NAME, "TFLite model", NULL};
	mg_fb_table root, sg, t;
	mg_fb_vec sgs, tensors;
	assert_int_equal(mg_fb_root(&fb, &root), 0);
	assert_int_equal(mg_fb_vector(&fb, &root, TFL_MODEL_SUBGRAPHS, 4, &sgs), 0);
	assert_int_equal(mg_fb_vec_table(&fb, &sgs, 0, &sg), 0);
	assert_int_equal(mg_fb_vector(&fb, &sg, TFL_SG_TENSORS, 4, &tensors), 0);
	for (uint32_t i = 0; i < tensors.n; i++) {
		const char *s;
		size_t slen, pos;
		assert_int_equal(mg_fb_vec_table(&fb, &tensors, i, &t), 0);
		assert_int_equal(mg_fb_string(&fb, &t, TFL_TENSOR_NAME, &s, &slen), 0);
		if (!strcmp(s, name)) {
			assert_int_equal(mg_fb_field(&fb, &t, TFL_TENSOR_BUFFER, 4, &pos), 0);
			assert_true(pos != 0);
			return pos;
		}
	}
	fail_msg("no tensor %s", name);
	return 0;
}

static void test_fold_refuses_a_shared_buffer_naming_the_tensor(void **state)
{
	(void)state;
	mg_buf b = model_bytes("fp16");
	/* the reshape's shape now uses conv/weights' fp16 buffer too */
	size_t from = tensor_buffer_field(&b, "conv/weights"), to = tensor_buffer_field(&b, "reshape/shape");
	memcpy(b.data + to, b.data + from, 4);
	uint8_t *out = NULL;
	size_t len = 0, n = 0;
	mg_error err = {0};
	assert_int_equal(mg_tflite_fold_fp16(&out, &len, &n, b.data, b.len, NAME, &err), MG_EINVAL);
	assert_null(out);
	assert_string_equal(err.msg, "cannot fold the fp16 weights of '" NAME
			    "': tensor 'conv/weights' shares its buffer with another tensor");
	mg_buf_free(&b);
}

/* ---- hostile input ---------------------------------------------------- */

static void test_hostile_truncated_prefixes(void **state)
{
	(void)state;
	mg_buf b = model_bytes("fp16");
	for (size_t len = 0; len < b.len; len++) {
		char *copy = malloc(len + 1); /* exactly len bytes readable to ASan */
		assert_non_null(copy);
		memcpy(copy, b.data, len);
		mg_model_info *info = NULL;
		mg_error err = {0};
		int rc = mg_tflite_info_parse(&info, copy, len, NAME, &err);
		if (rc) {
			assert_int_equal(rc, MG_EINVAL);
			assert_non_null(strstr(err.msg, NAME));
		}
		mg_model_info_free(info);
		uint8_t *out = NULL;
		size_t olen, n;
		rc = mg_tflite_fold_fp16(&out, &olen, &n, copy, len, NAME, &err);
		assert_true(rc == 0 || rc == MG_EINVAL);
		free(out);
		free(copy);
	}
	parse_fails(b.data, 7, "no \"TFL3\" identifier");
	parse_fails(b.data, b.len / 2, NULL);
	mg_buf_free(&b);
}

static void test_hostile_root_offset_out_of_range_and_misaligned(void **state)
{
	(void)state;
	mg_buf b = model_bytes("float");
	uint32_t saved;
	memcpy(&saved, b.data, 4);
	mg_fb_store32((uint8_t *)b.data, 0xfffffff0u);
	parse_fails(b.data, b.len, "offset to a table points past the end");
	mg_fb_store32((uint8_t *)b.data, saved + 2);
	parse_fails(b.data, b.len, "table is not aligned to 4");
	mg_buf_free(&b);
}

static void test_hostile_vtables(void **state)
{
	(void)state;
	mg_fb_table root;
	mg_fb_vec vec;
	mg_buf b = float_model(&root, &vec);
	uint8_t *t = (uint8_t *)b.data + root.pos;
	uint32_t saved = mg_fb_load32(t);
	/* the vtable is the table itself: its size is the soffset's low half, 0 */
	mg_fb_store32(t, 0);
	parse_fails(b.data, b.len, "vtable size 0 is invalid");
	/* before the start of the file */
	mg_fb_store32(t, (uint32_t)(root.pos + 64));
	parse_fails(b.data, b.len, "vtable offset points outside the file");
	/* past its end */
	mg_fb_store32(t, (uint32_t)-(int32_t)(b.len - root.pos + 2));
	parse_fails(b.data, b.len, "vtable");
	mg_fb_store32(t, saved);
	/* a vtable that says its table is longer than the file */
	uint8_t *vt = (uint8_t *)b.data + root.vt;
	uint16_t tlen = mg_fb_load16(vt + 2);
	vt[2] = 0xff, vt[3] = 0xff;
	parse_fails(b.data, b.len, "table runs past the end");
	/* a field offset outside its table */
	vt[2] = (uint8_t)tlen, vt[3] = (uint8_t)(tlen >> 8);
	vt[4 + 2 * TFL_MODEL_SUBGRAPHS] = (uint8_t)(tlen + 4);
	parse_fails(b.data, b.len, "field 2 lies outside its table");
	mg_buf_free(&b);
}

static void test_hostile_huge_vector_lengths(void **state)
{
	(void)state;
	mg_fb_table root;
	mg_fb_vec vec;
	mg_buf b = float_model(&root, &vec);
	mg_fb_store32((uint8_t *)b.data + vec.pos - 4, 0xffffffffu);
	parse_fails(b.data, b.len, "vector of 4294967295 elements runs past the end");
	mg_fb_store32((uint8_t *)b.data + vec.pos - 4, 0x40000001u); /* 4 * n wraps 32 bits */
	parse_fails(b.data, b.len, "runs past the end");
	mg_fb_store32((uint8_t *)b.data + vec.pos - 4, 0);
	parse_fails(b.data, b.len, "no subgraph");
	mg_buf_free(&b);
}

static void test_hostile_bad_indices(void **state)
{
	(void)state;
	mg_buf b = model_bytes("float");
	size_t pos = tensor_buffer_field(&b, "conv/weights");
	mg_fb_store32((uint8_t *)b.data + pos, 1000);
	parse_fails(b.data, b.len, "buffer index 1000 of");
	uint8_t *out = NULL;
	size_t len, n;
	mg_error err = {0};
	assert_int_equal(mg_tflite_fold_fp16(&out, &len, &n, b.data, b.len, NAME, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "buffer index 1000 of"));
	mg_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_float_model),
		cmocka_unit_test(test_read_shape_signature_gives_dynamic_dims),
		cmocka_unit_test(test_read_is_by_content_not_name),
		cmocka_unit_test(test_read_int8_io_per_tensor_quantization),
		cmocka_unit_test(test_read_uint8_zero_point),
		cmocka_unit_test(test_read_per_channel_quantization),
		cmocka_unit_test(test_read_custom_op_by_its_code),
		cmocka_unit_test(test_read_two_subgraphs_counts_ops_of_both),
		cmocka_unit_test(test_read_merges_an_operator_listed_twice),
		cmocka_unit_test(test_model_info_json_has_quantization_and_ops),
		cmocka_unit_test(test_armnn_unsupported),
		cmocka_unit_test(test_armnn_custom_detection_postprocess_only),
		cmocka_unit_test(test_half_to_float_special_values),
		cmocka_unit_test(test_fold_fp16_model),
		cmocka_unit_test(test_fold_leaves_other_models_alone),
		cmocka_unit_test(test_fold_refuses_a_shared_buffer_naming_the_tensor),
		cmocka_unit_test(test_hostile_truncated_prefixes),
		cmocka_unit_test(test_hostile_root_offset_out_of_range_and_misaligned),
		cmocka_unit_test(test_hostile_vtables),
		cmocka_unit_test(test_hostile_huge_vector_lengths),
		cmocka_unit_test(test_hostile_bad_indices),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);
	mg_remove_tree(tmp_dir());
	return rc;
}
