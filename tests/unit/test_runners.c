/* Unit tests of runners: tensors (.npy and TensorProto files, folders),
 * protocol frames, latency statistics and output comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runners/cost.h"
#include "runners/inputs.h"
#include "runners/protocol.h"
#include "runners/runners.h"
#include "formats/tensor.h"
#include "scratch.h"

static mg_tensor *make(mg_dtype dt, const int64_t *dims, size_t rank, const char *name)
{
	mg_tensor *t = NULL;
	mg_error err = {0};
	assert_int_equal(mg_tensor_new(&t, name, dt, dims, rank, &err), 0);
	unsigned char *p = t->data;
	for (size_t i = 0; i < t->nbytes; i++)
		p[i] = (unsigned char)(i * 37 + 11);
	if (dt == MG_DT_BOOL)
		for (size_t i = 0; i < t->nbytes; i++)
			p[i] &= 1;
	return t;
}

static void assert_same_tensor(const mg_tensor *a, const mg_tensor *b)
{
	assert_int_equal(a->dtype, b->dtype);
	assert_int_equal(a->rank, b->rank);
	for (size_t i = 0; i < a->rank; i++)
		assert_int_equal(a->dims[i], b->dims[i]);
	assert_int_equal(a->nbytes, b->nbytes);
	assert_memory_equal(a->data, b->data, a->nbytes);
}

static const mg_dtype npy_types[] = {
	MG_DT_FLOAT32, MG_DT_UINT8, MG_DT_INT8, MG_DT_UINT16, MG_DT_INT16, MG_DT_INT32, MG_DT_INT64,
	MG_DT_BOOL, MG_DT_FLOAT16, MG_DT_FLOAT64, MG_DT_UINT32, MG_DT_UINT64, MG_DT_COMPLEX64,
	MG_DT_COMPLEX128,
};

static void test_npy_round_trips_every_dtype(void **state)
{
	(void)state;
	const int64_t shapes[][3] = {{3, 4, 5}, {7, 0, 0}, {0, 0, 0}};
	const size_t ranks[] = {3, 1, 0};
	for (size_t k = 0; k < sizeof(npy_types) / sizeof(npy_types[0]); k++) {
		for (size_t s = 0; s < 3; s++) {
			mg_tensor *t = make(npy_types[k], shapes[s], ranks[s], "x"), *back = NULL;
			mg_buf b = MG_BUF_INIT;
			mg_error err = {0};
			assert_int_equal(mg_npy_write(&b, t, &err), 0);
			/* data is 64-byte aligned as numpy writes it */
			assert_int_equal((b.len - t->nbytes) % 64, 0);
			assert_int_equal(mg_npy_parse(&back, b.data, b.len, "t.npy", &err), 0);
			assert_same_tensor(t, back);
			mg_tensor_free(t);
			mg_tensor_free(back);
			mg_buf_free(&b);
		}
	}
}

static mg_buf npy_with(const char *dict, size_t payload)
{
	mg_buf b = MG_BUF_INIT;
	size_t hl = strlen(dict);
	unsigned char pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (unsigned char)hl,
				 (unsigned char)(hl >> 8)};
	assert_int_equal(mg_buf_append(&b, pre, 10, NULL), 0);
	assert_int_equal(mg_buf_append(&b, dict, hl, NULL), 0);
	for (size_t i = 0; i < payload; i++)
		assert_int_equal(mg_buf_append(&b, "\1", 1, NULL), 0);
	return b;
}

static void expect_npy_error(const char *dict, size_t payload, const char *text)
{
	mg_buf b = npy_with(dict, payload);
	mg_tensor *t = NULL;
	mg_error err = {0};
	assert_int_equal(mg_npy_parse(&t, b.data, b.len, "bad.npy", &err), MG_EINVAL);
	assert_null(t);
	if (!strstr(err.msg, text))
		fail_msg("'%s' does not contain '%s'", err.msg, text);
	assert_non_null(strstr(err.msg, "bad.npy"));
	mg_buf_free(&b);
}

static void test_npy_refuses_fortran_order(void **state)
{
	(void)state;
	expect_npy_error("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }\n", 24,
			 "Fortran order");
}

static void test_npy_refuses_header_that_lies_about_size(void **state)
{
	(void)state;
	expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 23,
			 "says 24 bytes");
	expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }\n", 25,
			 "says 24 bytes");
	expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999), }\n",
			 0, "too large");
}

static void test_npy_refuses_bad_headers(void **state)
{
	(void)state;
	expect_npy_error("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }\n", 16,
			 "not supported");
	expect_npy_error("{'descr': '<U5', 'fortran_order': False, 'shape': (2,), }\n", 40,
			 "not supported");
	expect_npy_error("{'descr': '<f4', 'shape': (2,), }\n", 8, "lacks");
	expect_npy_error("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n",
			 8, "repeated");
	expect_npy_error("{'descr': '<f4', 'fortran_order': False, 'shape': (2, -1), }\n", 8,
			 "non-negative");
	/* truncated files: every prefix of a valid one fails cleanly */
	mg_tensor *t = make(MG_DT_INT32, (int64_t[]){2, 2}, 2, "x"), *back = NULL;
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_npy_write(&b, t, NULL), 0);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(mg_npy_parse(&back, b.data, n, "cut.npy", NULL), MG_EINVAL);
	mg_tensor_free(t);
	mg_buf_free(&b);
}

static void test_npy_reads_big_endian_and_bool(void **state)
{
	(void)state;
	mg_buf b = npy_with("{'descr': '>i4', 'fortran_order': False, 'shape': (2,), }\n", 0);
	const unsigned char be[8] = {0, 0, 1, 2, 0xff, 0xff, 0xff, 0xfe};
	assert_int_equal(mg_buf_append(&b, be, 8, NULL), 0);
	mg_tensor *t = NULL;
	assert_int_equal(mg_npy_parse(&t, b.data, b.len, "be.npy", NULL), 0);
	assert_int_equal(t->dtype, MG_DT_INT32);
	assert_true(mg_tensor_get(t, 0) == 258);
	assert_true(mg_tensor_get(t, 1) == -2);
	mg_tensor_free(t);
	mg_buf_free(&b);
	b = npy_with("{'descr': '|b1', 'fortran_order': False, 'shape': (3,), }\n", 3);
	assert_int_equal(mg_npy_parse(&t, b.data, b.len, "b.npy", NULL), 0);
	assert_int_equal(t->dtype, MG_DT_BOOL);
	mg_tensor_free(t);
	mg_buf_free(&b);
}

static void test_tensor_pb_round_trips_with_name(void **state)
{
	(void)state;
	for (size_t k = 0; k < sizeof(npy_types) / sizeof(npy_types[0]); k++) {
		mg_tensor *t = make(npy_types[k], (int64_t[]){2, 3}, 2, "input:0"), *back = NULL;
		mg_buf b = MG_BUF_INIT;
		assert_int_equal(mg_tensor_pb_write(&b, t, NULL), 0);
		assert_int_equal(mg_tensor_pb_parse(&back, b.data, b.len, "t.pb", NULL), 0);
		assert_same_tensor(t, back);
		assert_string_equal(back->name, "input:0");
		mg_tensor_free(t);
		mg_tensor_free(back);
		mg_buf_free(&b);
	}
}

static void test_tensor_pb_reads_typed_fields(void **state)
{
	(void)state;
	/* dims [3] (unpacked), data_type INT64, int64_data packed {1, -1, 300} */
	const unsigned char i64[] = {0x08, 3, 0x10, 7, 0x3a, 13, 1, 0xff, 0xff, 0xff, 0xff, 0xff,
				     0xff, 0xff, 0xff, 0xff, 0x01, 0xac, 0x02};
	mg_tensor *t = NULL;
	mg_error err = {0};
	assert_int_equal(mg_tensor_pb_parse(&t, i64, sizeof(i64), "i.pb", &err), 0);
	assert_true(mg_tensor_get(t, 0) == 1 && mg_tensor_get(t, 1) == -1 && mg_tensor_get(t, 2) == 300);
	mg_tensor_free(t);
	/* dims [2], FLOAT, float_data unpacked {1.5, -2} */
	const unsigned char f32[] = {0x08, 2, 0x10, 1, 0x25, 0, 0, 0xc0, 0x3f, 0x25, 0, 0, 0, 0xc0};
	assert_int_equal(mg_tensor_pb_parse(&t, f32, sizeof(f32), "f.pb", &err), 0);
	assert_true(mg_tensor_get(t, 0) == 1.5 && mg_tensor_get(t, 1) == -2);
	mg_tensor_free(t);
	/* dims [2], BOOL, int32_data packed {1, 0} */
	const unsigned char b[] = {0x08, 2, 0x10, 9, 0x2a, 2, 1, 0};
	assert_int_equal(mg_tensor_pb_parse(&t, b, sizeof(b), "b.pb", &err), 0);
	assert_int_equal(t->dtype, MG_DT_BOOL);
	assert_true(mg_tensor_get(t, 0) == 1 && mg_tensor_get(t, 1) == 0);
	mg_tensor_free(t);
	/* too few values for the shape */
	const unsigned char few[] = {0x08, 3, 0x10, 7, 0x3a, 2, 1, 2};
	assert_int_equal(mg_tensor_pb_parse(&t, few, sizeof(few), "few.pb", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "holds 3 values"));
}

static void test_tensor_pb_refuses_truncated_and_external(void **state)
{
	(void)state;
	mg_tensor *t = make(MG_DT_FLOAT32, (int64_t[]){4}, 1, "x"), *back = NULL;
	mg_buf b = MG_BUF_INIT;
	assert_int_equal(mg_tensor_pb_write(&b, t, NULL), 0);
	for (size_t n = 0; n < b.len; n++)
		assert_int_not_equal(mg_tensor_pb_parse(&back, b.data, n, "cut.pb", NULL), 0);
	mg_tensor_free(t);
	mg_buf_free(&b);
	const unsigned char ext[] = {0x08, 1, 0x10, 1, 0x70, 1};
	mg_error err = {0};
	assert_int_equal(mg_tensor_pb_parse(&back, ext, sizeof(ext), "e.pb", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "external"));
	const unsigned char str[] = {0x08, 1, 0x10, 8, 0x32, 1, 'a'};
	assert_int_equal(mg_tensor_pb_parse(&back, str, sizeof(str), "s.pb", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "string"));
}

static void test_protocol_round_trips_a_frame(void **state)
{
	(void)state;
	mg_buf b = MG_BUF_INIT;
	mg_proto_w w;
	mg_tensor *t = make(MG_DT_FLOAT32, (int64_t[]){2, 2}, 2, "in"), *back = NULL;
	mg_proto_begin(&w, &b, MG_MSG_RUN, NULL);
	mg_proto_u32(&w, 7);
	mg_proto_u64(&w, 1ull << 40);
	mg_proto_str(&w, "hello");
	mg_proto_tensor(&w, t);
	assert_int_equal(mg_proto_end(&w), 0);
	int type;
	size_t len;
	assert_int_equal(mg_proto_header((const uint8_t *)b.data, MG_FRAME_MAX, &type, &len, NULL), 0);
	assert_int_equal(type, MG_MSG_RUN);
	assert_int_equal(len, b.len - MG_FRAME_HEADER);
	mg_proto_r r;
	char s[16];
	mg_proto_r_init(&r, b.data + MG_FRAME_HEADER, len);
	assert_int_equal(mg_proto_get_u32(&r), 7);
	assert_true(mg_proto_get_u64(&r) == 1ull << 40);
	mg_proto_get_str(&r, s, sizeof(s));
	assert_string_equal(s, "hello");
	assert_int_equal(mg_proto_get_tensor(&r, &back, "RUN", NULL), 0);
	assert_same_tensor(t, back);
	assert_int_equal(mg_proto_r_done(&r, "RUN", NULL), 0);
	mg_tensor_free(back);
	/* every truncation of the payload is refused, never read past */
	for (size_t n = 0; n < len; n++) {
		mg_proto_r_init(&r, b.data + MG_FRAME_HEADER, n);
		mg_proto_get_u32(&r);
		mg_proto_get_u64(&r);
		mg_proto_get_str(&r, s, sizeof(s));
		int rc = mg_proto_get_tensor(&r, &back, "RUN", NULL);
		if (!rc) {
			mg_tensor_free(back);
			rc = mg_proto_r_done(&r, "RUN", NULL);
		}
		assert_int_not_equal(rc, 0);
	}
	mg_tensor_free(t);
	mg_buf_free(&b);
}

static void test_protocol_refuses_oversized_and_unknown_frames(void **state)
{
	(void)state;
	mg_error err = {0};
	int type;
	size_t len;
	const uint8_t big[5] = {0xff, 0xff, 0xff, 0x7f, MG_MSG_PUT};
	assert_int_equal(mg_proto_header(big, MG_FRAME_MAX, &type, &len, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "over the limit"));
	const uint8_t unknown[5] = {0, 0, 0, 0, 99};
	assert_int_equal(mg_proto_header(unknown, MG_FRAME_MAX, &type, &len, &err), MG_EINVAL);
	/* a tensor whose byte count disagrees with its shape */
	mg_buf b = MG_BUF_INIT;
	mg_proto_w w;
	mg_proto_begin(&w, &b, MG_MSG_RUN, NULL);
	mg_proto_str(&w, "x");
	mg_proto_u32(&w, MG_DT_FLOAT32);
	mg_proto_u32(&w, 1);
	mg_proto_u64(&w, 4);
	mg_proto_u64(&w, 8);
	mg_proto_bytes(&w, "12345678", 8);
	assert_int_equal(mg_proto_end(&w), 0);
	mg_proto_r r;
	mg_tensor *t = NULL;
	mg_proto_r_init(&r, b.data + MG_FRAME_HEADER, b.len - MG_FRAME_HEADER);
	assert_int_equal(mg_proto_get_tensor(&r, &t, "RUN", &err), MG_EINVAL);
	if (!strstr(err.msg, "its shape needs 16"))
		fail_msg("%s", err.msg);
	mg_buf_free(&b);
}

static void test_protocol_read_times_out_and_sees_eof(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	mg_buf b = MG_BUF_INIT;
	mg_error err = {0};
	int type;
	assert_int_equal(write(sv[1], "\3\0\0", 3), 3); /* half a header */
	assert_int_equal(mg_proto_read_frame(sv[0], &b, &type, 50, "target 't'", &err), MG_ENET);
	assert_non_null(strstr(err.msg, "no answer"));
	close(sv[1]);
	assert_int_equal(mg_proto_read_frame(sv[0], &b, &type, 50, "target 't'", &err), MG_ENET);
	assert_non_null(strstr(err.msg, "connection closed"));
	/* writing to a closed peer is an error, not SIGPIPE */
	assert_int_equal(mg_proto_write(sv[0], "x", 1, 50, "target 't'", &err), MG_ENET);
	close(sv[0]);
	mg_buf_free(&b);
}

static void test_stats_percentiles_on_known_data(void **state)
{
	(void)state;
	uint64_t s[100];
	for (int i = 0; i < 100; i++)
		s[i] = (uint64_t)(100 - i); /* 100 .. 1, unsorted */
	mg_stats st;
	assert_int_equal(mg_stats_compute(&st, s, 100, NULL), 0);
	assert_int_equal(st.n, 100);
	assert_true(st.min == 1 && st.max == 100);
	assert_true(fabs(st.mean - 50.5) < 1e-9);
	/* numpy.percentile(range(1, 101), q): 50.5, 90.1, 95.05, 99.01 */
	assert_true(fabs(st.p50 - 50.5) < 1e-9);
	assert_true(fabs(st.p90 - 90.1) < 1e-9);
	assert_true(fabs(st.p95 - 95.05) < 1e-9);
	assert_true(fabs(st.p99 - 99.01) < 1e-9);
	assert_true(fabs(st.stddev - 29.011491975882016) < 1e-9); /* numpy std(ddof=1) */
	uint64_t one = 42;
	assert_int_equal(mg_stats_compute(&st, &one, 1, NULL), 0);
	assert_true(st.p99 == 42 && st.stddev == 0);
	assert_int_equal(mg_stats_compute(&st, NULL, 0, NULL), 0);
	assert_int_equal(st.n, 0);
}

static void test_compare_reports_worst_element(void **state)
{
	(void)state;
	int64_t dims[2] = {2, 3};
	mg_tensor *a, *e;
	assert_int_equal(mg_tensor_new(&a, "y", MG_DT_FLOAT32, dims, 2, NULL), 0);
	assert_int_equal(mg_tensor_new(&e, "y", MG_DT_FLOAT32, dims, 2, NULL), 0);
	float *pa = a->data, *pe = e->data;
	for (int i = 0; i < 6; i++)
		pa[i] = pe[i] = (float)i;
	pa[4] = 4.5f;   /* [1,1] off by 0.5 */
	pa[1] = NAN;
	pe[1] = NAN;    /* NaN equals NaN */
	mg_compare c;
	mg_tensor_compare(a, e, 1e-3, 1e-7, &c);
	assert_false(c.ok);
	assert_int_equal(c.mismatches, 1);
	assert_int_equal(c.worst, 4);
	assert_true(c.worst_index[0] == 1 && c.worst_index[1] == 1);
	assert_true(c.worst_got == 4.5 && c.worst_expected == 4);
	mg_tensor_compare(a, e, 0.2, 0, &c); /* 0.5 <= 0.2 * 4 */
	assert_true(c.ok);
	e->dims[1] = 2;
	e->dims[0] = 3;
	mg_tensor_compare(a, e, 1, 1, &c);
	assert_false(c.ok);
	assert_non_null(strstr(c.why, "shape [2,3], expected [3,2]"));
	mg_tensor_free(a);
	mg_tensor_free(e);
}

static void test_tensor_dir_reads_by_name_and_by_position(void **state)
{
	(void)state;
	const char *dir = scratch_dir("runners");
	mg_tensor *ts[2] = {make(MG_DT_FLOAT32, (int64_t[]){2}, 1, "a/b"),
			    make(MG_DT_INT64, (int64_t[]){3}, 1, "c")};
	const char *names[2] = {"a/b", "c"};
	mg_tensor **back = NULL;
	mg_tensor_format fmt;
	mg_error err = {0};
	for (int f = 0; f < 2; f++) {
		assert_int_equal(mg_tensor_dir_write(dir, f ? MG_TFMT_PB : MG_TFMT_NPY, "input", ts, 2, &err), 0);
		assert_int_equal(mg_tensor_dir_read(&back, &fmt, dir, "input", names, 2, &err), 0);
		assert_int_equal(fmt, f ? MG_TFMT_PB : MG_TFMT_NPY);
		assert_same_tensor(ts[0], back[0]);
		assert_same_tensor(ts[1], back[1]);
		assert_string_equal(back[0]->name, "a/b");
		mg_tensors_free(back, 2);
	}
	/* a missing input is named */
	const char *other[2] = {"a/b", "zz"};
	char path[600];
	snprintf(path, sizeof(path), "%s/input_0.pb", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/input_1.pb", dir);
	unlink(path);
	assert_int_equal(mg_tensor_dir_read(&back, &fmt, dir, "input", other, 2, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "'zz.npy'"));
	mg_tensor_free(ts[0]);
	mg_tensor_free(ts[1]);
}

/* run and gate both make random inputs here: the same model and seed give
 * the same bytes; a dynamic dimension is 1, a declared 0 stays 0, a given
 * shape wins, an undeclared rank needs one. */
static void test_random_inputs_one_rule_for_every_command(void **state)
{
	(void)state;
	int64_t d0[] = {-1, 3}, d1[] = {0, 4};
	char *n0[] = {"batch", NULL}, *n1[] = {NULL, NULL};
	mg_tensor_info tis[] = {{.name = "a", .dtype = "float32", .rank = 2, .dims = d0, .dim_names = n0},
				{.name = "b", .dtype = "int64", .rank = 2, .dims = d1, .dim_names = n1},
				{.name = "c", .dtype = "float32", .rank = SIZE_MAX}};
	mg_input_shape given = {"c", {2, 5}, 2};
	mg_tensor **x = NULL, **y = NULL, **z = NULL;
	assert_int_equal(mg_inputs_random(&x, tis, 3, &given, 1, MG_INPUT_SEED, "m.onnx", NULL, NULL), 0);
	assert_int_equal(mg_inputs_random(&y, tis, 3, &given, 1, MG_INPUT_SEED, "m.onnx", NULL, NULL), 0);
	assert_int_equal(x[0]->dims[0], 1);
	assert_int_equal(x[0]->dims[1], 3);
	assert_int_equal(x[1]->dims[0], 0);
	assert_int_equal(x[1]->nbytes, 0);
	assert_int_equal(x[2]->rank, 2);
	assert_int_equal(x[2]->dims[1], 5);
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(x[i]->nbytes, y[i]->nbytes);
		assert_memory_equal(x[i]->data, y[i]->data, x[i]->nbytes);
	}
	assert_int_equal(mg_inputs_random(&z, tis, 3, &given, 1, MG_INPUT_SEED + 1, "m.onnx", NULL, NULL), 0);
	assert_true(memcmp(x[0]->data, z[0]->data, x[0]->nbytes) != 0);
	mg_tensors_free(x, 3);
	mg_tensors_free(y, 3);
	mg_tensors_free(z, 3);
	mg_error err = {0};
	assert_int_equal(mg_inputs_random(&x, tis, 3, NULL, 0, MG_INPUT_SEED, "m.onnx", NULL, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "input 'c' of 'm.onnx' declares no shape"));
	/* what was set to 1 is said; a shape for no input is refused */
	mg_buf said = MG_BUF_INIT;
	assert_int_equal(mg_inputs_random(&x, tis, 3, &given, 1, MG_INPUT_SEED, "m.onnx", &said, NULL), 0);
	assert_string_equal(said.data, "'a' (batch=1)");
	mg_tensors_free(x, 3);
	mg_buf_free(&said);
	mg_input_shape stray = {"d", {1}, 1};
	assert_int_equal(mg_inputs_random(&x, tis, 3, &stray, 1, MG_INPUT_SEED, "m.onnx", NULL, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "a shape is given for 'd', which is no input of 'm.onnx'"));
}

/* A quantized int8/uint8 input gets random integers over the whole type;
 * a float32 tensor given for it is quantized with its parameters (and
 * said), raw integers pass as they are; quantized outputs dequantize. */
static void test_quantized_inputs_and_outputs(void **state)
{
	(void)state;
	int64_t d[] = {1, 64};
	char *names[] = {NULL, NULL};
	float s = 0.5f;
	int64_t z = -2;
	mg_tensor_info tis[] = {{.name = "q", .dtype = "int8", .rank = 2, .dims = d, .dim_names = names,
				 .quant = {.n = 1, .scales = &s, .zero_points = &z}},
				{.name = "u", .dtype = "uint8", .rank = 2, .dims = d, .dim_names = names}};
	mg_tensor **x = NULL;
	assert_int_equal(mg_inputs_random(&x, tis, 2, NULL, 0, MG_INPUT_SEED, "m.tflite", NULL, NULL), 0);
	int lo = 127, hi = -128, ulo = 255, uhi = 0;
	for (size_t i = 0; i < 64; i++) {
		int v = ((const int8_t *)x[0]->data)[i], u = ((const uint8_t *)x[1]->data)[i];
		lo = v < lo ? v : lo, hi = v > hi ? v : hi;
		ulo = u < ulo ? u : ulo, uhi = u > uhi ? u : uhi;
	}
	assert_true(lo < -64 && hi > 64); /* the quantized one: the whole range */
	assert_true(ulo >= 0 && uhi < 10); /* not quantized: integers in [0, 10) */
	mg_tensors_free(x, 2);
	mg_tensor *f = NULL, *raw = NULL;
	assert_int_equal(mg_tensor_new(&f, "q", MG_DT_FLOAT32, d, 2, NULL), 0);
	((float *)f->data)[0] = 1.25f; /* 2.5 -> 3, - 2 */
	((float *)f->data)[1] = -1.25f;
	assert_int_equal(mg_tensor_new(&raw, "u", MG_DT_UINT8, d, 2, NULL), 0);
	((uint8_t *)raw->data)[0] = 200;
	mg_tensor *ts[] = {f, raw};
	mg_buf said = MG_BUF_INIT;
	assert_int_equal(mg_inputs_quantize(ts, tis, 2, &said, NULL), 0);
	assert_int_equal(ts[0]->dtype, MG_DT_INT8);
	assert_int_equal(((const int8_t *)ts[0]->data)[0], 1);
	assert_int_equal(((const int8_t *)ts[0]->data)[1], -5);
	assert_int_equal(((const int8_t *)ts[0]->data)[2], -2);
	assert_ptr_equal(ts[1], raw);
	assert_string_equal(said.data, "input 'q' quantized with scale 0.5 zero-point -2\n");
	mg_buf_free(&said);
	assert_int_equal(mg_outputs_dequantize(ts, tis, 2, NULL), 0);
	assert_int_equal(ts[0]->dtype, MG_DT_FLOAT32);
	assert_true(((const float *)ts[0]->data)[0] == 1.5f && ((const float *)ts[0]->data)[1] == -1.5f);
	assert_int_equal(ts[1]->dtype, MG_DT_UINT8); /* not quantized: as it is */
	mg_tensor_free(ts[0]);
	mg_tensor_free(ts[1]);
}

/* A given tensor against an input (mg_input_check): another type is
 * converted when every value survives, rounded to reals only when cast,
 * never to an integer type that cannot hold a value (naming its row); a
 * fixed batch takes any row count only when the rows go in runs. */
static void test_input_check_converts_what_survives(void **state)
{
	(void)state;
	int64_t d[] = {2, 3}, fixed[] = {1, 3}, one[] = {1};
	char *names[] = {NULL, NULL};
	mg_tensor_info f32 = {.name = "x", .dtype = "float32", .rank = 2, .dims = d, .dim_names = names};
	mg_tensor_info i32 = {.name = "ids", .dtype = "int32", .rank = 2, .dims = d, .dim_names = names};
	mg_tensor_info b1 = {.name = "x", .dtype = "float32", .rank = 2, .dims = fixed, .dim_names = names};
	mg_tensor *t = NULL;
	mg_buf said = MG_BUF_INIT;
	mg_error err = {0};
	assert_int_equal(mg_tensor_new(&t, "x", MG_DT_FLOAT64, d, 2, NULL), 0);
	double *v = t->data;
	v[0] = 0.5, v[1] = -2, v[4] = 0.1; /* 0.1: float32 rounds it */
	assert_int_equal(mg_input_check(&t, &f32, 0, 0, "dataset 'x.npy'", &said, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "dataset 'x.npy': input 'x' is float64, the model takes float32, and row 1 holds 0.1"));
	assert_non_null(strstr(err.msg, "x.astype(np.float32)"));
	assert_int_equal(t->dtype, MG_DT_FLOAT64); /* untouched */
	assert_int_equal(mg_input_check(&t, &f32, 1, 0, "d", &said, &err), 0);
	assert_int_equal(t->dtype, MG_DT_FLOAT32);
	assert_true(((float *)t->data)[0] == 0.5f && ((float *)t->data)[4] == 0.1f);
	assert_string_equal(said.data, "input 'x' converted from float64 to float32 (--cast: rounded)\n");
	mg_tensor_free(t);
	assert_int_equal(mg_tensor_new(&t, "ids", MG_DT_INT64, d, 2, NULL), 0);
	((int64_t *)t->data)[5] = 70000; /* fits int32 */
	assert_int_equal(mg_input_check(&t, &i32, 0, 0, "d", NULL, &err), 0);
	assert_int_equal(t->dtype, MG_DT_INT32);
	assert_int_equal(((int32_t *)t->data)[5], 70000);
	mg_tensor_free(t);
	assert_int_equal(mg_tensor_new(&t, "ids", MG_DT_INT64, d, 2, NULL), 0);
	((int64_t *)t->data)[4] = (int64_t)1 << 33;
	assert_int_equal(mg_input_check(&t, &i32, 1, 0, "d", NULL, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "row 1 holds 8589934592, which int32 cannot hold"));
	mg_tensor_free(t);
	/* 2 rows for a batch of 1: in runs only */
	assert_int_equal(mg_tensor_new(&t, "x", MG_DT_FLOAT32, d, 2, NULL), 0);
	assert_int_equal(mg_input_check(&t, &b1, 0, 1, "d", NULL, &err), 0);
	assert_int_equal(mg_input_check(&t, &b1, 0, 0, "d", NULL, &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "input 'x' has shape (2, 3), the model takes (1, 3)"));
	mg_tensor_free(t);
	/* a bool has no numeric conversion: refused as before */
	mg_tensor_info f1 = {.name = "m", .dtype = "float32", .rank = 1, .dims = one, .dim_names = names};
	assert_int_equal(mg_tensor_new(&t, "m", MG_DT_BOOL, one, 1, NULL), 0);
	assert_int_equal(mg_input_check(&t, &f1, 1, 0, "d", NULL, &err), MG_EINVAL);
	assert_string_equal(err.msg, "d: input 'm' is bool, the model takes float32");
	mg_tensor_free(t);
	mg_buf_free(&said);
}

/* A fixed batch's last run: rows past the end repeat the last row. */
static void test_input_rows_pads_with_the_last_row(void **state)
{
	(void)state;
	int64_t d[] = {3, 2};
	mg_tensor *t = NULL, *r = NULL;
	assert_int_equal(mg_tensor_new(&t, "x", MG_DT_INT32, d, 2, NULL), 0);
	for (int i = 0; i < 6; i++)
		((int32_t *)t->data)[i] = i;
	size_t padded = 99;
	assert_int_equal(mg_input_rows(&r, t, 2, 4, &padded, NULL), 0);
	assert_int_equal(padded, 3);
	assert_int_equal(r->dims[0], 4);
	for (int i = 0; i < 8; i++)
		assert_int_equal(((int32_t *)r->data)[i], 4 + i % 2);
	mg_tensor_free(r);
	assert_int_equal(mg_input_rows(&r, t, 0, 2, &padded, NULL), 0);
	assert_int_equal(padded, 0);
	assert_int_equal(((int32_t *)r->data)[3], 3);
	mg_tensor_free(r);
	assert_int_equal(mg_input_rows(&r, t, 3, 1, NULL, NULL), MG_EINVAL);
	mg_tensor_free(t);
}

/* One model's inputs for another's (a .tflite candidate and an ONNX
 * baseline): matched by name, else by order; NHWC images transposed to
 * NCHW as the layout says; shapes that still differ name both. */
static void test_inputs_for_another_model_match_and_transpose(void **state)
{
	(void)state;
	const char *a[] = {"x", "y"}, *b[] = {"y", "x"}, *c[] = {"p", "q"}, *d[] = {"p"};
	size_t idx[2];
	const char *how;
	mg_error err = {0};
	assert_int_equal(mg_tensors_match(idx, &how, a, 2, b, 2, "inputs", NULL), 0);
	assert_string_equal(how, "name");
	assert_true(idx[0] == 1 && idx[1] == 0);
	assert_int_equal(mg_tensors_match(idx, &how, a, 2, c, 2, "inputs", NULL), 0);
	assert_string_equal(how, "order");
	assert_true(idx[0] == 0 && idx[1] == 1);
	assert_int_equal(mg_tensors_match(idx, &how, a, 2, d, 1, "outputs", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "the outputs do not meet: 'p'"));
	/* [1,2,2,3] NHWC holding its own index -> [1,3,2,2] NCHW */
	mg_tensor *img = NULL, **o = NULL;
	assert_int_equal(mg_tensor_new(&img, "input", MG_DT_FLOAT32, (int64_t[]){1, 2, 2, 3}, 4, NULL), 0);
	for (size_t i = 0; i < 12; i++)
		((float *)img->data)[i] = (float)i;
	int64_t want_dims[] = {-1, 3, 2, 2}, other_dims[] = {1, 3, 4, 4};
	char *nn[] = {NULL, NULL, NULL, NULL};
	mg_tensor_info base = {.name = "images", .dtype = "float32", .rank = 4, .dims = want_dims, .dim_names = nn};
	assert_int_equal(mg_inputs_for(&o, &how, &img, NULL, 1, &base, 1, "nhwc", "nchw", "b.onnx", NULL), 0);
	assert_string_equal(how, "order");
	assert_string_equal(o[0]->name, "images");
	assert_int_equal(o[0]->dims[1], 3);
	const float want[] = {0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11};
	assert_memory_equal(o[0]->data, want, sizeof(want));
	mg_tensor *back = NULL;
	assert_int_equal(mg_tensor_relayout(&back, o[0], "nchw", "nhwc", NULL), 0);
	assert_memory_equal(back->data, img->data, img->nbytes);
	assert_int_equal(back->dims[3], 3);
	mg_tensor_free(back);
	mg_tensors_free(o, 1);
	/* no layout: the shapes differ, and both are named */
	assert_int_equal(mg_inputs_for(&o, &how, &img, NULL, 1, &base, 1, NULL, NULL, "b.onnx", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "input 'input' is [1,2,2,3], and 'images' of 'b.onnx' takes [-1,3,2,2]"));
	base.dims = other_dims;
	assert_int_equal(mg_inputs_for(&o, &how, &img, NULL, 1, &base, 1, "nhwc", "nchw", "b.onnx", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "is [1,3,2,2] (transposed from nhwc), and 'images' of 'b.onnx' takes [1,3,4,4]"));
	/* raw int8 for a quantized input become reals for a float32 one */
	float s = 0.25f;
	int64_t z = 1, dq[] = {1, 2}, dq_f[] = {1, 2};
	mg_tensor_info qinfo = {.name = "q", .dtype = "int8", .rank = 2, .dims = dq, .dim_names = nn,
				.quant = {.n = 1, .scales = &s, .zero_points = &z}};
	mg_tensor_info finfo = {.name = "f", .dtype = "float32", .rank = 2, .dims = dq_f, .dim_names = nn};
	mg_tensor *raw = NULL;
	assert_int_equal(mg_tensor_new(&raw, "q", MG_DT_INT8, dq, 2, NULL), 0);
	((int8_t *)raw->data)[0] = 5;
	((int8_t *)raw->data)[1] = -3;
	assert_int_equal(mg_inputs_for(&o, &how, &raw, &qinfo, 1, &finfo, 1, NULL, NULL, "f.onnx", NULL), 0);
	assert_int_equal(o[0]->dtype, MG_DT_FLOAT32);
	assert_true(((float *)o[0]->data)[0] == 1.0f && ((float *)o[0]->data)[1] == -1.0f);
	mg_tensors_free(o, 1);
	mg_tensor_free(raw);
	mg_tensor_free(img);
}

/* The target grammar is parsed in one place: config, --target and the
 * runners agree on what each spec is. */
static void test_target_specs_parsed_in_one_place(void **state)
{
	(void)state;
	mg_target_spec ts;
	mg_error err = {0};
	assert_int_equal(mg_target_spec_parse(&ts, "local", NULL), 0);
	assert_int_equal(ts.kind, MG_TARGET_LOCAL);
	assert_int_equal(mg_target_spec_parse(&ts, "qemu-aarch64", NULL), 0);
	assert_int_equal(ts.kind, MG_TARGET_QEMU);
	assert_string_equal(ts.arg, "aarch64");
	assert_int_equal(mg_target_spec_parse(&ts, "ssh://pi@board:2222", NULL), 0);
	assert_int_equal(ts.kind, MG_TARGET_SSH);
	assert_string_equal(ts.arg, "pi@board:2222");
	assert_int_equal(mg_target_spec_parse(&ts, "exec:docker exec box", NULL), 0);
	assert_int_equal(ts.kind, MG_TARGET_EXEC);
	assert_string_equal(ts.arg, "docker exec box");
	assert_int_equal(mg_target_spec_parse(&ts, "exec:", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "names no command"));
	assert_int_equal(mg_target_spec_parse(&ts, "qemu-riscv64", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "only qemu-aarch64"));
	assert_int_equal(mg_target_spec_parse(&ts, "host=local", &err), MG_EINVAL);
	assert_non_null(strstr(err.msg, "unknown target 'host=local'"));
}

/* ---- cost: choosing the counter, reading callgrind ------------------------ */

static void test_cost_prefers_the_hardware_counter_and_falls_back_to_callgrind(void **state)
{
	(void)state;
	char why[256];
	mg_cost_probe p = {.local = 1, .hw_ok = 1, .valgrind = 1};
	assert_int_equal(mg_cost_select(&p, why, sizeof(why)), MG_COST_PERF);
	assert_string_equal(why, "");
	p.hw_ok = 0;
	p.hw_why = "perf_event_open: No such file or directory";
	assert_int_equal(mg_cost_select(&p, why, sizeof(why)), MG_COST_CALLGRIND);
	p.local = 0; /* a device: callgrind there, where valgrind is */
	assert_int_equal(mg_cost_select(&p, why, sizeof(why)), MG_COST_CALLGRIND);
	p.valgrind = 0;
	assert_int_equal(mg_cost_select(&p, why, sizeof(why)), MG_COST_NONE);
	assert_non_null(strstr(why, "perf_event_open: No such file or directory"));
	assert_non_null(strstr(why, "valgrind is not installed on the device"));
	p.hw_ok = 1; /* a device with a PMU counts over ssh */
	assert_int_equal(mg_cost_select(&p, why, sizeof(why)), MG_COST_PERF);
	p = (mg_cost_probe){.local = 1, .valgrind = 0, .hw_why = "perf_event_open: Permission denied"};
	assert_int_equal(mg_cost_select(&p, why, sizeof(why)), MG_COST_NONE);
	assert_non_null(strstr(why, "valgrind is not installed"));
	assert_string_equal(mg_cost_backend_name(MG_COST_PERF), "perf_event");
	assert_string_equal(mg_cost_backend_name(MG_COST_CALLGRIND), "callgrind");
}

static void test_cost_is_never_measured_on_an_emulated_target(void **state)
{
	(void)state;
	char why[256];
	/* qemu-user may run where perf and valgrind both work: neither counts the target */
	mg_cost_probe p = {.emulated = 1, .local = 1, .hw_ok = 1, .valgrind = 1};
	assert_int_equal(mg_cost_select(&p, why, sizeof(why)), MG_COST_NONE);
	assert_non_null(strstr(why, "not available on emulated targets"));
}

static void test_cost_reads_the_totals_of_a_callgrind_dump(void **state)
{
	(void)state;
	mg_cost_counts c;
	assert_int_equal(mg_cost_parse_callgrind("version: 1\ncmd: x\nevents: Ir\nsummary: 7\ntotals: 600014\n", &c), 0);
	assert_int_equal(c.instructions, 600014);
	/* without a cache simulation there are no secondary figures */
	assert_true(c.mem_accesses == MG_COST_NA && c.cache_misses == MG_COST_NA);
	/* Ir need not be the first event; "summary:" is not the dump's total */
	assert_int_equal(mg_cost_parse_callgrind("events: Dr Ir Dw\nsummary: 1 2 3\ntotals: 10 20 30\n", &c), 0);
	assert_int_equal(c.instructions, 20);
	assert_int_equal(c.mem_accesses, 40);
	assert_true(c.cache_misses == MG_COST_NA);
	/* --cache-sim=yes: memory accesses Dr+Dw, last-level misses DLmr+DLmw+ILmr;
	 * trailing zero columns may be left out */
	assert_int_equal(mg_cost_parse_callgrind("events: Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw\n"
						 "totals: 1000 300 100 5 20 10 2 7\n", &c), 0);
	assert_int_equal(c.instructions, 1000);
	assert_int_equal(c.mem_accesses, 400);
	assert_int_equal(c.cache_misses, 9);
	assert_int_equal(mg_cost_parse_callgrind("events: Dr\ntotals: 10\n", &c), -1);
	assert_int_equal(mg_cost_parse_callgrind("events: Ir\ntotals: x\n", &c), -1);
	assert_int_equal(mg_cost_parse_callgrind("", &c), -1);
}

static void test_tensor_rows_split_and_join_along_the_first_dimension(void **state)
{
	(void)state;
	int64_t dims[2] = {5, 3};
	mg_tensor *t = NULL, *a = NULL, *b = NULL, *j = NULL;
	mg_error err = {0};
	assert_int_equal(mg_tensor_new(&t, "x", MG_DT_INT16, dims, 2, &err), 0);
	for (int i = 0; i < 15; i++)
		((int16_t *)t->data)[i] = (int16_t)(i * 7 - 20);
	assert_int_equal(mg_tensor_rows(&a, t, 0, 2, &err), 0);
	assert_int_equal(mg_tensor_rows(&b, t, 2, 3, &err), 0);
	assert_true(a->dims[0] == 2 && a->dims[1] == 3 && b->dims[0] == 3 && a->nbytes == 12);
	assert_int_equal(((int16_t *)b->data)[0], 6 * 7 - 20);
	mg_tensor *parts[2] = {a, b};
	assert_int_equal(mg_tensor_concat_rows(&j, parts, 2, &err), 0);
	assert_string_equal(j->name, "x");
	assert_true(j->nbytes == t->nbytes && !memcmp(j->data, t->data, t->nbytes));
	mg_tensor_free(j);
	assert_int_equal(mg_tensor_rows(&j, t, 4, 2, &err), MG_EINVAL); /* past the end */
	b->dims[1] = 2; /* another row shape does not join */
	assert_int_equal(mg_tensor_concat_rows(&j, parts, 2, &err), MG_EINVAL);
	mg_tensor_free(a);
	mg_tensor_free(b);
	mg_tensor_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_inputs_one_rule_for_every_command),
		cmocka_unit_test(test_quantized_inputs_and_outputs),
		cmocka_unit_test(test_inputs_for_another_model_match_and_transpose),
		cmocka_unit_test(test_input_check_converts_what_survives),
		cmocka_unit_test(test_input_rows_pads_with_the_last_row),
		cmocka_unit_test(test_target_specs_parsed_in_one_place),
		cmocka_unit_test(test_npy_round_trips_every_dtype),
		cmocka_unit_test(test_tensor_rows_split_and_join_along_the_first_dimension),
		cmocka_unit_test(test_npy_refuses_fortran_order),
		cmocka_unit_test(test_npy_refuses_header_that_lies_about_size),
		cmocka_unit_test(test_npy_refuses_bad_headers),
		cmocka_unit_test(test_npy_reads_big_endian_and_bool),
		cmocka_unit_test(test_tensor_pb_round_trips_with_name),
		cmocka_unit_test(test_tensor_pb_reads_typed_fields),
		cmocka_unit_test(test_tensor_pb_refuses_truncated_and_external),
		cmocka_unit_test(test_protocol_round_trips_a_frame),
		cmocka_unit_test(test_protocol_refuses_oversized_and_unknown_frames),
		cmocka_unit_test(test_protocol_read_times_out_and_sees_eof),
		cmocka_unit_test(test_stats_percentiles_on_known_data),
		cmocka_unit_test(test_compare_reports_worst_element),
		cmocka_unit_test(test_tensor_dir_reads_by_name_and_by_position),
		cmocka_unit_test(test_cost_prefers_the_hardware_counter_and_falls_back_to_callgrind),
		cmocka_unit_test(test_cost_is_never_measured_on_an_emulated_target),
		cmocka_unit_test(test_cost_reads_the_totals_of_a_callgrind_dump),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
