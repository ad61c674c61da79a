/* Tests for formats/quant: quantizing float32 to int8/uint8 and back by
 * per-tensor and per-channel parameters, with exact expectations worked
 * out by hand: halves rounded away from zero (TFLite's reference), values
 * clamped to the type, NaN to the zero point, bad parameters refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "formats/quant.h"

static mg_tensor *floats(const char *name, const int64_t *dims, size_t rank, const float *v)
{
	mg_tensor *t = NULL;
	assert_int_equal(mg_tensor_new(&t, name, MG_DT_FLOAT32, dims, rank, NULL), 0);
	memcpy(t->data, v, t->nbytes);
	return t;
}

static mg_tensor *ints(mg_dtype dt, const int64_t *dims, size_t rank, const void *v)
{
	mg_tensor *t = NULL;
	assert_int_equal(mg_tensor_new(&t, "q", dt, dims, rank, NULL), 0);
	memcpy(t->data, v, t->nbytes);
	return t;
}

static void test_quantize_int8_per_tensor_rounds_halves_away_from_zero_and_clamps(void **state)
{
	(void)state;
	float s = 0.5f;
	int64_t z = 3;
	mg_quant_info q = {1, &s, &z, 0};
	const float x[] = {1.25f, -1.25f, 0.75f, -0.75f, 0.2f, 100.0f, -100.0f, NAN, 62.0f, -65.5f};
	mg_tensor *t = floats("x", (int64_t[]){10}, 1, x), *o = NULL;
	assert_int_equal(mg_quantize(&o, t, MG_DT_INT8, &q, NULL), 0);
	assert_int_equal(o->dtype, MG_DT_INT8);
	assert_string_equal(o->name, "x");
	/* 2.5 -> 3, -2.5 -> -3, 1.5 -> 2, -1.5 -> -2, 0.4 -> 0, then + 3 */
	const int8_t want[] = {6, 0, 5, 1, 3, 127, -128, 3, 127, -128};
	assert_memory_equal(o->data, want, sizeof(want));
	mg_tensor *back = NULL;
	assert_int_equal(mg_dequantize(&back, o, &q, NULL), 0);
	const float *b = back->data;
	assert_true(b[0] == 1.5f && b[1] == -1.5f && b[2] == 1.0f && b[3] == -1.0f && b[4] == 0.0f);
	assert_true(b[5] == 62.0f && b[6] == -65.5f);
	mg_tensor_free(back);
	mg_tensor_free(o);
	mg_tensor_free(t);
}

static void test_quantize_uint8_clamps_to_0_and_255(void **state)
{
	(void)state;
	float s = 0.25f;
	int64_t z = 128;
	mg_quant_info q = {1, &s, &z, 0};
	const float x[] = {0.125f, -0.125f, 40.0f, -40.0f, 31.75f, -32.0f};
	mg_tensor *t = floats("img", (int64_t[]){2, 3}, 2, x), *o = NULL;
	assert_int_equal(mg_quantize(&o, t, MG_DT_UINT8, &q, NULL), 0);
	const uint8_t want[] = {129, 127, 255, 0, 255, 0};
	assert_memory_equal(o->data, want, sizeof(want));
	assert_int_equal(o->rank, 2);
	assert_int_equal(o->dims[1], 3);
	mg_tensor_free(o);
	mg_tensor_free(t);
}

static void test_quantize_per_channel_along_the_last_and_the_first_dimension(void **state)
{
	(void)state;
	float s3[] = {1.0f, 0.5f, 0.25f}, s2[] = {1.0f, 2.0f};
	int64_t z3[] = {0, 1, -1}, z2[] = {0, -5};
	mg_quant_info last = {3, s3, z3, 1}, first = {2, s2, z2, 0};
	const float x[] = {1.0f, 1.0f, 1.0f, -2.0f, 0.5f, 0.125f};
	mg_tensor *t = floats("w", (int64_t[]){2, 3}, 2, x), *o = NULL;
	assert_int_equal(mg_quantize(&o, t, MG_DT_INT8, &last, NULL), 0);
	const int8_t want_last[] = {1, 3, 3, -2, 2, 0}; /* 0.125 / 0.25 = 0.5 -> 1, -1 */
	assert_memory_equal(o->data, want_last, sizeof(want_last));
	mg_tensor_free(o);
	assert_int_equal(mg_quantize(&o, t, MG_DT_INT8, &first, NULL), 0);
	const int8_t want_first[] = {1, 1, 1, -6, -5, -5}; /* -1, 0.25 -> 0, 0.0625 -> 0; - 5 */
	assert_memory_equal(o->data, want_first, sizeof(want_first));
	mg_tensor_free(o);
	mg_tensor_free(t);
}

static void test_dequantize_int8_uint8_int32_per_tensor_and_per_channel(void **state)
{
	(void)state;
	float s = 0.5f, sc[] = {0.5f, 2.0f}, s32 = 0.25f;
	int64_t z = 3, zc[] = {10, 0}, z32 = 0;
	mg_quant_info q = {1, &s, &z, 0}, qc = {2, sc, zc, 1}, q32 = {1, &s32, &z32, 0};
	mg_tensor *o = NULL;
	mg_tensor *a = ints(MG_DT_INT8, (int64_t[]){3}, 1, (int8_t[]){-128, 0, 127});
	assert_int_equal(mg_dequantize(&o, a, &q, NULL), 0);
	assert_int_equal(o->dtype, MG_DT_FLOAT32);
	assert_memory_equal(o->data, ((float[]){-65.5f, -1.5f, 62.0f}), 12);
	mg_tensor_free(o);
	mg_tensor *b = ints(MG_DT_UINT8, (int64_t[]){2, 2}, 2, (uint8_t[]){10, 3, 12, 255});
	assert_int_equal(mg_dequantize(&o, b, &qc, NULL), 0);
	assert_memory_equal(o->data, ((float[]){0.0f, 6.0f, 1.0f, 510.0f}), 16);
	mg_tensor_free(o);
	mg_tensor *c = ints(MG_DT_INT32, (int64_t[]){2}, 1, (int32_t[]){100000, -7});
	assert_int_equal(mg_dequantize(&o, c, &q32, NULL), 0);
	assert_memory_equal(o->data, ((float[]){25000.0f, -1.75f}), 8);
	mg_tensor_free(o);
	mg_tensor_free(a);
	mg_tensor_free(b);
	mg_tensor_free(c);
}

static void test_bad_parameters_are_refused_naming_the_tensor(void **state)
{
	(void)state;
	float s3[] = {1.0f, 1.0f, 1.0f}, zero = 0.0f, one = 1.0f;
	int64_t z3[] = {0, 0, 0};
	mg_quant_info three = {3, s3, z3, 0}, nought = {1, &zero, z3, 0}, none = {0, NULL, NULL, 0};
	mg_quant_info beyond = {3, s3, z3, 4}, plain = {1, &one, z3, 0};
	const float x[] = {1, 2, 3, 4, 5, 6};
	mg_tensor *t = floats("image", (int64_t[]){2, 3}, 2, x), *o = NULL;
	mg_error err = {0};
	assert_int_equal(mg_quantize(&o, t, MG_DT_INT8, &three, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "'image': 3 quantization scales along dimension 0, and the tensor has 2"));
	assert_int_equal(mg_quantize(&o, t, MG_DT_INT8, &beyond, &err), MG_EINVAL);
	assert_int_equal(mg_quantize(&o, t, MG_DT_INT8, &nought, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "'image': quantization scale 0 is not a positive number"));
	assert_int_equal(mg_quantize(&o, t, MG_DT_INT8, &none, &err), MG_EINVAL);
	assert_int_equal(mg_quantize(&o, t, MG_DT_INT16, &plain, &err), MG_EINVAL);
	assert_int_equal(mg_dequantize(&o, t, &plain, &err), MG_EINVAL); /* float32 is no integer */
	assert_non_null(strstr(err.msg, "cannot dequantize float32"));
	assert_null(o);
	assert_false(mg_quant_applies(MG_DT_INT8, &none));
	assert_false(mg_quant_applies(MG_DT_FLOAT32, &plain));
	assert_true(mg_quant_applies(MG_DT_UINT8, &plain));
	mg_tensor_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quantize_int8_per_tensor_rounds_halves_away_from_zero_and_clamps),
		cmocka_unit_test(test_quantize_uint8_clamps_to_0_and_255),
		cmocka_unit_test(test_quantize_per_channel_along_the_last_and_the_first_dimension),
		cmocka_unit_test(test_dequantize_int8_uint8_int32_per_tensor_and_per_channel),
		cmocka_unit_test(test_bad_parameters_are_refused_naming_the_tensor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
