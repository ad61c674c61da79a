/* Tests for registry/model_info: real models from Debian's libonnx-testdata
 * (facts checked against python3-onnx), the digits example, and hand-built
 * protobuf byte strings for the encodings and faults the real models lack. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "formats/model_info.h"
#include "scratch.h"

#define TESTDATA "/usr/share/libonnx-testdata/data"
#define DIGITS "examples/digits/model.onnx"

/* ---- helpers ---------------------------------------------------------- */

/* "name dtype [d0,d1,...]": a named dynamic dimension shows its name, an
 * unnamed one "?"; "-" when no shape is declared. */
static const char *describe(const mg_tensor_info *t)
{
	static char out[512];
	size_t n = (size_t)snprintf(out, sizeof(out), "%s %s ", t->name, t->dtype);
	if (t->rank == SIZE_MAX) {
		assert_null(t->dims);
		snprintf(out + n, sizeof(out) - n, "-");
		return out;
	}
	n += (size_t)snprintf(out + n, sizeof(out) - n, "[");
	for (size_t i = 0; i < t->rank; i++) {
		const char *sep = i ? "," : "";
		if (t->dim_names[i]) {
			assert_int_equal(t->dims[i], -1);
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%s", sep, t->dim_names[i]);
		} else if (t->dims[i] == -1) {
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s?", sep);
		} else {
			n += (size_t)snprintf(out + n, sizeof(out) - n, "%s%lld", sep,
					      (long long)t->dims[i]);
		}
		assert_true(n < sizeof(out));
	}
	snprintf(out + n, sizeof(out) - n, "]");
	return out;
}

static mg_model_info *read_ok(const char *path)
{
	mg_model_info *info = NULL;
	mg_error err = {0};
	if (mg_model_info_read(&info, path, &err))
		fail_msg("%s: %s", path, err.msg);
	assert_non_null(info);
	return info;
}

static mg_model_info *read_case(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s/model.onnx", TESTDATA, rel);
	return read_ok(path);
}

/* The scratch folder, made on first use. */
static const char *tmp_dir(void)
{
	static const char *dir;
	if (!dir)
		dir = scratch_dir("model_info");
	return dir;
}

static const char *tmp_file(const char *name, const void *data, size_t len)
{
	static char path[600];
	mg_error err = {0};
	snprintf(path, sizeof(path), "%s/%s", tmp_dir(), name);
	if (mg_file_write_atomic(path, data, len, &err))
		fail_msg("%s", err.msg);
	return path;
}

/* A protobuf message being built by hand. */
typedef struct pb {
	uint8_t b[4096];
	size_t n;
} pb;

static void pb_raw(pb *m, const void *data, size_t len)
{
	assert_true(len <= sizeof(m->b) - m->n);
	memcpy(m->b + m->n, data, len);
	m->n += len;
}

static void pb_varint(pb *m, uint64_t v)
{
	do {
		uint8_t byte = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		pb_raw(m, &byte, 1);
		v >>= 7;
	} while (v);
}

static void pb_int(pb *m, unsigned num, uint64_t v)
{
	pb_varint(m, (uint64_t)num << 3);
	pb_varint(m, v);
}

static void pb_bytes(pb *m, unsigned num, const void *data, size_t len)
{
	pb_varint(m, (uint64_t)num << 3 | 2);
	pb_varint(m, len);
	pb_raw(m, data, len);
}

static void pb_str(pb *m, unsigned num, const char *s)
{
	pb_bytes(m, num, s, strlen(s));
}

static void pb_msg(pb *m, unsigned num, const pb *sub)
{
	pb_bytes(m, num, sub->b, sub->n);
}

/* A ValueInfoProto: dims are values >= 0, or -1 for a dimension with
 * neither value nor param; params[i] non-NULL gives a dim_param. */
static void pb_value_info(pb *m, unsigned num, const char *name, int elem,
			  size_t rank, const int64_t *dims, const char *const *params)
{
	pb vi = {0}, type = {0}, tensor = {0}, shape = {0};
	for (size_t i = 0; rank != SIZE_MAX && i < rank; i++) {
		pb dim = {0};
		if (params && params[i])
			pb_str(&dim, 2, params[i]);
		else if (dims[i] >= 0)
			pb_int(&dim, 1, (uint64_t)dims[i]);
		pb_msg(&shape, 1, &dim);
	}
	pb_int(&tensor, 1, (uint64_t)elem);
	if (rank != SIZE_MAX)
		pb_msg(&tensor, 2, &shape);
	pb_msg(&type, 1, &tensor);
	pb_str(&vi, 1, name);
	pb_msg(&vi, 2, &type);
	pb_msg(m, num, &vi);
}

/* A ModelProto around a graph, with IR version 8 and opset 17. */
static void pb_model(pb *m, const pb *graph)
{
	pb opset = {0};
	pb_int(&opset, 2, 17);
	pb_int(m, 1, 8);
	pb_str(m, 2, "hand");
	pb_msg(m, 8, &opset);
	pb_msg(m, 7, graph);
}

static mg_model_info *parse_ok(const pb *m)
{
	mg_model_info *info = NULL;
	mg_error err = {0};
	if (mg_model_info_parse(&info, m->b, m->n, "hand.onnx", &err))
		fail_msg("%s", err.msg);
	return info;
}

static void assert_parse_fails(const void *data, size_t len, const char *msg)
{
	mg_model_info *info = (mg_model_info *)1;
	mg_error err = {0};
	assert_int_equal(mg_model_info_parse(&info, data, len, "bad.onnx", &err), MG_EINVAL);
	assert_null(info);
	assert_int_equal(err.code, MG_EINVAL);
	assert_string_equal(err.msg, msg);
}

#define BAD "'bad.onnx' is not a valid ONNX model: "

/* ---- real models -------------------------------------------------------- */

static void test_read_abs_gives_float32_input_and_output(void **state)
{
	(void)state;
	mg_model_info *info = read_case("node/test_abs");
	assert_string_equal(info->format, "onnx");
	assert_string_equal(info->producer, "backend-test");
	assert_int_equal(info->ir_version, 7);
	assert_int_equal(info->opset, 13);
	assert_int_equal(info->ninputs, 1);
	assert_string_equal(describe(&info->inputs[0]), "x float32 [3,4,5]");
	assert_int_equal(info->noutputs, 1);
	assert_string_equal(describe(&info->outputs[0]), "y float32 [3,4,5]");
	assert_int_equal(info->parameters, 0);
	mg_model_info_free(info);
}

static void test_read_drops_initializers_listed_as_inputs(void **state)
{
	(void)state;
	/* IR 3: the weight "1" [4,3,3,2] and bias "2" [4] are graph inputs too */
	mg_model_info *info = read_case("pytorch-converted/test_Conv2d");
	assert_string_equal(info->producer, "pytorch");
	assert_int_equal(info->ir_version, 3);
	assert_int_equal(info->opset, 6);
	assert_int_equal(info->ninputs, 1);
	assert_string_equal(describe(&info->inputs[0]), "0 float32 [2,3,7,5]");
	assert_int_equal(info->noutputs, 1);
	assert_string_equal(describe(&info->outputs[0]), "3 float32 [2,4,5,4]");
	assert_int_equal(info->parameters, 4 * 3 * 3 * 2 + 4);
	mg_model_info_free(info);
}

static void test_read_counts_scalar_initializers_as_one_parameter(void **state)
{
	(void)state;
	/* two int64 scalars, "pos" and "pos_at", also listed as inputs */
	mg_model_info *info = read_case("simple/test_sequence_model1");
	assert_int_equal(info->parameters, 2);
	assert_int_equal(info->ninputs, 3);
	assert_string_equal(describe(&info->inputs[0]), "X float32 [2,3,4]");
	assert_string_equal(describe(&info->inputs[1]), "Y float32 [1,3,4]");
	assert_string_equal(describe(&info->inputs[2]), "Z float32 [3,3,4]");
	assert_int_equal(info->noutputs, 1);
	/* a dimension with neither dim_value nor dim_param */
	assert_string_equal(describe(&info->outputs[0]), "out float32 [?,3,4]");
	assert_null(info->outputs[0].dim_names[0]);
	mg_model_info_free(info);
}

static void test_read_named_dynamic_dim_int64_input_and_scalar_output(void **state)
{
	(void)state;
	mg_model_info *info = read_case("simple/test_sequence_model8");
	assert_int_equal(info->opset, 12);
	assert_int_equal(info->ninputs, 2);
	assert_string_equal(describe(&info->inputs[0]), "X float32 [n]");
	assert_string_equal(info->inputs[0].dim_names[0], "n");
	assert_string_equal(describe(&info->inputs[1]), "Splits int64 [3]");
	assert_int_equal(info->noutputs, 1);
	assert_string_equal(describe(&info->outputs[0]), "len int64 []");
	assert_int_equal(info->outputs[0].rank, 0);
	mg_model_info_free(info);
}

static void test_read_sequence_types_give_unknown_dtype_and_no_shape(void **state)
{
	(void)state;
	mg_model_info *info = read_case("node/test_sequence_map_add_1_sequence_1_tensor");
	assert_int_equal(info->ninputs, 2);
	assert_string_equal(describe(&info->inputs[0]), "x0 unknown -");
	assert_int_equal(info->inputs[0].rank, SIZE_MAX);
	assert_string_equal(describe(&info->inputs[1]), "x1 float32 [N]");
	assert_int_equal(info->noutputs, 1);
	assert_string_equal(describe(&info->outputs[0]), "y0 unknown -");
	mg_model_info_free(info);
}

static void test_read_without_default_domain_opset_is_zero(void **state)
{
	(void)state;
	/* imports only ai.onnx.preview.training */
	mg_model_info *info = read_case("node/test_adagrad");
	assert_int_equal(info->opset, 0);
	assert_int_equal(info->ninputs, 5);
	assert_string_equal(describe(&info->inputs[0]), "R float32 []");
	assert_string_equal(describe(&info->inputs[1]), "T int64 []");
	assert_int_equal(info->noutputs, 2);
	assert_string_equal(describe(&info->outputs[1]), "H_new float32 [1]");
	mg_model_info_free(info);
}

static size_t read_tree(const char *dir)
{
	size_t count = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[1024];
	assert_non_null(d);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (e->d_type == DT_DIR) {
			count += read_tree(path);
		} else if (!strcmp(e->d_name, "model.onnx")) {
			mg_model_info *info = read_ok(path);
			assert_string_equal(info->format, "onnx");
			if (info->noutputs < 1)
				fail_msg("%s: no outputs", path);
			mg_model_info_free(info);
			count++;
		}
	}
	closedir(d);
	return count;
}

static void test_read_parses_every_testdata_model(void **state)
{
	(void)state;
	size_t count = read_tree(TESTDATA);
	print_message("parsed %zu models under %s\n", count, TESTDATA);
	assert_true(count >= 900);
}

static void test_read_digits_example(void **state)
{
	(void)state;
	mg_model_info *info = read_ok(DIGITS);
	assert_string_equal(info->format, "onnx");
	assert_int_equal(info->ninputs, 1);
	assert_string_equal(describe(&info->inputs[0]), "input float32 [batch,64]");
	assert_int_equal(info->noutputs, 1);
	assert_string_equal(describe(&info->outputs[0]), "logits float32 [batch,10]");
	assert_int_equal(info->parameters, 64 * 32 + 32 + 32 * 10 + 10);
	mg_model_info_free(info);
}

/* ---- files -------------------------------------------------------------- */

static void test_read_other_extension_gives_unknown_format(void **state)
{
	(void)state;
	mg_model_info *info = read_ok(tmp_file("model.pt", "PK not a model", 14));
	assert_string_equal(info->format, "unknown");
	assert_null(info->producer);
	assert_int_equal(info->ninputs, 0);
	assert_int_equal(info->noutputs, 0);
	assert_int_equal(info->parameters, 0);
	mg_model_info_free(info);
}

static void test_read_onnx_extension_is_case_insensitive(void **state)
{
	(void)state;
	mg_buf bytes = MG_BUF_INIT;
	mg_error err = {0};
	if (mg_file_read(&bytes, TESTDATA "/node/test_abs/model.onnx", 1 << 20, &err))
		fail_msg("%s", err.msg);
	mg_model_info *info = read_ok(tmp_file("ABS.ONNX", bytes.data, bytes.len));
	assert_string_equal(info->format, "onnx");
	assert_string_equal(describe(&info->inputs[0]), "x float32 [3,4,5]");
	mg_model_info_free(info);
	mg_buf_free(&bytes);
}

static void test_read_missing_file_is_enotfound(void **state)
{
	(void)state;
	mg_model_info *info = NULL;
	mg_error err = {0};
	const char *path = "/nonexistent/model.onnx";
	assert_int_equal(mg_model_info_read(&info, path, &err), MG_ENOTFOUND);
	assert_null(info);
	assert_int_equal(err.code, MG_ENOTFOUND);
	assert_string_equal(err.msg, "cannot read '/nonexistent/model.onnx': No such file or directory");
}

static void test_read_truncated_file_names_the_file(void **state)
{
	(void)state;
	static const uint8_t bytes[] = {0x08, 0x80};
	char want[1024];
	mg_model_info *info = NULL;
	mg_error err = {0};
	const char *path = tmp_file("trunc.onnx", bytes, sizeof(bytes));
	assert_int_equal(mg_model_info_read(&info, path, &err), MG_EINVAL);
	assert_null(info);
	snprintf(want, sizeof(want),
		 "'%s' is not a valid ONNX model: truncated varint at offset 1", path);
	assert_string_equal(err.msg, want);
}

static void test_read_empty_file_has_no_graph(void **state)
{
	(void)state;
	char want[1024];
	mg_model_info *info = NULL;
	mg_error err = {0};
	const char *path = tmp_file("empty.onnx", "", 0);
	assert_int_equal(mg_model_info_read(&info, path, &err), MG_EINVAL);
	snprintf(want, sizeof(want), "'%s' is not a valid ONNX model: no graph", path);
	assert_string_equal(err.msg, want);
}

static void test_read_directory_is_einval(void **state)
{
	(void)state;
	char path[600];
	mg_model_info *info = NULL;
	mg_error err = {0};
	snprintf(path, sizeof(path), "%s/dir.onnx", tmp_dir());
	assert_int_equal(mg_mkdirs(path, &err), 0);
	assert_int_equal(mg_model_info_read(&info, path, &err), MG_EINVAL);
	assert_null(info);
	assert_non_null(strstr(err.msg, "not a regular file"));
}

static void test_free_accepts_null(void **state)
{
	(void)state;
	mg_model_info_free(NULL);
}

/* ---- hand-built encodings ----------------------------------------------- */

static void test_parse_reads_packed_and_unpacked_initializer_dims(void **state)
{
	(void)state;
	pb graph = {0}, packed = {0}, unpacked = {0}, scalar = {0}, dims = {0}, m = {0};
	pb_varint(&dims, 3);
	pb_varint(&dims, 4);
	pb_msg(&packed, 1, &dims);     /* dims [3,4], packed */
	pb_int(&packed, 2, 1);
	pb_str(&packed, 8, "w");
	pb_bytes(&packed, 9, "0123456789", 10); /* raw_data */
	pb_int(&unpacked, 1, 5);       /* dims [5,2], one field each */
	pb_int(&unpacked, 1, 2);
	pb_str(&unpacked, 8, "b");
	pb_str(&scalar, 8, "s");       /* no dims: a scalar */
	pb_msg(&graph, 5, &packed);
	pb_value_info(&graph, 11, "w", 1, 2, (const int64_t[]){3, 4}, NULL);
	pb_value_info(&graph, 11, "x", 1, 1, (const int64_t[]){7}, NULL);
	pb_msg(&graph, 5, &unpacked);
	pb_msg(&graph, 5, &scalar);
	pb_value_info(&graph, 12, "y", 1, 1, (const int64_t[]){7}, NULL);
	pb_model(&m, &graph);

	mg_model_info *info = parse_ok(&m);
	assert_int_equal(info->parameters, 12 + 10 + 1);
	assert_int_equal(info->ninputs, 1);
	assert_string_equal(describe(&info->inputs[0]), "x float32 [7]");
	assert_int_equal(info->ir_version, 8);
	assert_int_equal(info->opset, 17);
	assert_string_equal(info->producer, "hand");
	mg_model_info_free(info);
}

static void test_parse_shapes_without_field_unnamed_and_named_dims(void **state)
{
	(void)state;
	pb graph = {0}, m = {0};
	static const char *const params[] = {"batch", NULL, NULL, ""};
	pb_value_info(&graph, 11, "noshape", 7, SIZE_MAX, NULL, NULL);
	pb_value_info(&graph, 11, "mixed", 10, 4, (const int64_t[]){-1, -1, 8, -1}, params);
	pb_value_info(&graph, 12, "scalar", 9, 0, NULL, NULL);
	pb_model(&m, &graph);

	mg_model_info *info = parse_ok(&m);
	assert_int_equal(info->ninputs, 2);
	assert_string_equal(describe(&info->inputs[0]), "noshape int64 -");
	assert_int_equal(info->inputs[0].rank, SIZE_MAX);
	/* an empty dim_param is no name */
	assert_string_equal(describe(&info->inputs[1]), "mixed float16 [batch,?,8,?]");
	assert_null(info->inputs[1].dim_names[3]);
	assert_string_equal(describe(&info->outputs[0]), "scalar bool []");
	mg_model_info_free(info);
}

static void test_parse_maps_every_element_type(void **state)
{
	(void)state;
	static const char *const names[] = {
		"unknown", "float32", "uint8", "int8", "uint16", "int16", "int32",
		"int64", "string", "bool", "float16", "float64", "uint32",
		"uint64", "complex64", "complex128", "bfloat16", "float8e4m3fn",
		"float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4", "int4",
		"unknown", "unknown",
	};
	size_t n = sizeof(names) / sizeof(names[0]);
	pb graph = {0}, m = {0};
	for (size_t i = 0; i < n; i++) {
		char name[16];
		snprintf(name, sizeof(name), "t%zu", i);
		pb_value_info(&graph, 12, name, i + 1 == n ? 1000 : (int)i, 0, NULL, NULL);
	}
	pb_model(&m, &graph);

	mg_model_info *info = parse_ok(&m);
	assert_int_equal(info->noutputs, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(info->outputs[i].dtype, names[i]);
	mg_model_info_free(info);
}

static void test_parse_skips_unknown_fields_of_every_wire_type(void **state)
{
	(void)state;
	static const uint8_t fixed64[] = {0x91, 0x06, 1, 2, 3, 4, 5, 6, 7, 8}; /* 98, I64 */
	static const uint8_t fixed32[] = {0x9d, 0x06, 1, 2, 3, 4};             /* 99, I32 */
	pb graph = {0}, node = {0}, m = {0};
	pb_str(&node, 4, "Relu");
	pb_msg(&graph, 1, &node);
	pb_raw(&graph, fixed64, sizeof(fixed64));
	pb_int(&graph, 97, 300);
	pb_value_info(&graph, 12, "y", 1, 1, (const int64_t[]){2}, NULL);
	pb_raw(&graph, fixed32, sizeof(fixed32));
	pb_int(&m, 1, UINT64_MAX); /* a 10-byte varint */
	pb_raw(&m, fixed32, sizeof(fixed32));
	pb_str(&m, 536870911, "largest field number");
	pb_raw(&m, fixed64, sizeof(fixed64));
	pb_msg(&m, 7, &graph);
	pb_int(&m, 5, 1); /* model_version */

	mg_model_info *info = parse_ok(&m);
	assert_int_equal(info->ir_version, -1);
	assert_null(info->producer);
	assert_int_equal(info->noutputs, 1);
	assert_string_equal(describe(&info->outputs[0]), "y float32 [2]");
	mg_model_info_free(info);
}

static void test_parse_opset_comes_from_the_default_domain(void **state)
{
	(void)state;
	static const struct {
		const char *domain; /* NULL: no domain field */
		uint64_t version;
	} cases[][2] = {
		{{"ai.onnx.ml", 3}, {"ai.onnx", 15}},
		{{NULL, 13}, {"com.microsoft", 1}},
		{{"", 11}, {"ai.onnx.ml", 2}},
		{{"com.microsoft", 1}, {"ai.onnx.ml", 2}},
	};
	static const int64_t want[] = {15, 13, 11, 0};
	for (size_t c = 0; c < sizeof(want) / sizeof(want[0]); c++) {
		pb graph = {0}, m = {0};
		pb_value_info(&graph, 12, "y", 1, 0, NULL, NULL);
		pb_msg(&m, 7, &graph);
		for (size_t i = 0; i < 2; i++) {
			pb opset = {0};
			if (cases[c][i].domain)
				pb_str(&opset, 1, cases[c][i].domain);
			pb_int(&opset, 2, cases[c][i].version);
			pb_msg(&m, 8, &opset);
		}
		mg_model_info *info = parse_ok(&m);
		assert_int_equal(info->opset, want[c]);
		mg_model_info_free(info);
	}
}

static void test_parse_merges_repeated_graph_fields(void **state)
{
	(void)state;
	pb g1 = {0}, g2 = {0}, m = {0};
	pb_value_info(&g1, 12, "a", 1, 0, NULL, NULL);
	pb_value_info(&g2, 12, "b", 6, 0, NULL, NULL);
	pb_msg(&m, 7, &g1);
	pb_msg(&m, 7, &g2);
	mg_model_info *info = parse_ok(&m);
	assert_int_equal(info->noutputs, 2);
	assert_string_equal(describe(&info->outputs[0]), "a float32 []");
	assert_string_equal(describe(&info->outputs[1]), "b int32 []");
	mg_model_info_free(info);
}

static void test_parse_counts_sparse_initializer_values(void **state)
{
	(void)state;
	pb graph = {0}, sparse = {0}, values = {0}, indices = {0}, m = {0};
	pb_int(&values, 1, 5);
	pb_str(&values, 8, "s");
	pb_int(&indices, 1, 5);
	pb_msg(&sparse, 1, &values);
	pb_msg(&sparse, 2, &indices);
	pb_int(&sparse, 3, 100); /* dense shape [100,100] */
	pb_int(&sparse, 3, 100);
	pb_msg(&graph, 15, &sparse);
	pb_value_info(&graph, 11, "s", 1, 2, (const int64_t[]){100, 100}, NULL);
	pb_value_info(&graph, 12, "y", 1, 0, NULL, NULL);
	pb_model(&m, &graph);

	mg_model_info *info = parse_ok(&m);
	assert_int_equal(info->parameters, 5);
	assert_int_equal(info->ninputs, 0);
	mg_model_info_free(info);
}

static void test_parse_rejects_truncated_varint(void **state)
{
	(void)state;
	static const uint8_t bytes[] = {0x08, 0x80};
	assert_parse_fails(bytes, sizeof(bytes), BAD "truncated varint at offset 1");
}

static void test_parse_rejects_length_past_end_of_input(void **state)
{
	(void)state;
	static const uint8_t bytes[] = {0x12, 0x05, 'a'};
	assert_parse_fails(bytes, sizeof(bytes),
			   BAD "length 5 runs past the end of its message at offset 0");
}

static void test_parse_rejects_length_past_end_of_enclosing_message(void **state)
{
	(void)state;
	/* graph of 2 bytes holding an input of 5: the file has the bytes, the
	 * graph does not */
	static const uint8_t bytes[] = {0x3a, 0x02, 0x5a, 0x05, 0, 0, 0, 0, 0};
	assert_parse_fails(bytes, sizeof(bytes),
			   BAD "length 5 runs past the end of its message at offset 2");
}

static void test_parse_rejects_oversize_varint(void **state)
{
	(void)state;
	static const uint8_t longer[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t overflow[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0x02};
	assert_parse_fails(longer, sizeof(longer), BAD "varint longer than 10 bytes at offset 1");
	assert_parse_fails(overflow, sizeof(overflow), BAD "varint overflows 64 bits at offset 1");
}

static void test_parse_rejects_group_wire_types(void **state)
{
	(void)state;
	static const uint8_t start[] = {0x3a, 0x01, 0x0b};  /* in graph: field 1, type 3 */
	static const uint8_t end[] = {0x0c};
	assert_parse_fails(start, sizeof(start), BAD "unsupported group (wire type 3) at offset 2");
	assert_parse_fails(end, sizeof(end), BAD "unsupported group (wire type 4) at offset 0");
}

static void test_parse_rejects_bad_keys_and_short_fixed_fields(void **state)
{
	(void)state;
	static const uint8_t wire6[] = {0x0e};
	static const uint8_t field0[] = {0x00, 0x00};
	static const uint8_t fixed64[] = {0x09, 1, 2, 3};
	static const uint8_t fixed32[] = {0x3a, 0x03, 0x0d, 1, 2, 3};
	assert_parse_fails(wire6, sizeof(wire6), BAD "invalid wire type 6 at offset 0");
	assert_parse_fails(field0, sizeof(field0), BAD "invalid field number 0 at offset 0");
	assert_parse_fails(fixed64, sizeof(fixed64), BAD "truncated fixed64 at offset 0");
	assert_parse_fails(fixed32, sizeof(fixed32), BAD "truncated fixed32 at offset 2");
}

static void test_parse_rejects_known_field_of_wrong_wire_type(void **state)
{
	(void)state;
	static const uint8_t graph_as_int[] = {0x38, 0x01};
	assert_parse_fails(graph_as_int, sizeof(graph_as_int),
			   BAD "ModelProto.graph has wire type 0, not 2 at offset 0");
}

static void test_parse_rejects_bad_initializer_sizes(void **state)
{
	(void)state;
	pb graph = {0}, big = {0}, neg = {0}, quarter = {0}, m1 = {0}, m2 = {0}, m3 = {0};
	pb_int(&big, 1, (uint64_t)1 << 32);
	pb_int(&big, 1, (uint64_t)1 << 32);
	pb_msg(&graph, 5, &big);
	pb_model(&m1, &graph);
	assert_parse_fails(m1.b, m1.n, BAD "initializer size overflows 64 bits at offset 22");

	pb_int(&neg, 1, (uint64_t)-3);
	graph.n = 0;
	pb_msg(&graph, 5, &neg);
	pb_model(&m2, &graph);
	assert_parse_fails(m2.b, m2.n, BAD "negative initializer dimension -3 at offset 16");

	pb_int(&quarter, 1, (uint64_t)1 << 62);
	graph.n = 0;
	for (int i = 0; i < 4; i++)
		pb_msg(&graph, 5, &quarter);
	pb_model(&m3, &graph);
	assert_parse_fails(m3.b, m3.n, BAD "parameter count overflows 64 bits at offset 50");
}

/* A model whose graph holds count empty copies of field num; the caller
 * frees the bytes. */
static uint8_t *repeated_graph_fields(unsigned num, size_t count, size_t *len)
{
	size_t body = 2 * count;
	uint8_t *b = malloc(body + 16);
	size_t n = 0;
	assert_non_null(b);
	b[n++] = 0x3a; /* ModelProto.graph */
	for (size_t v = body; ; v >>= 7) {
		b[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
		if (v <= 0x7f)
			break;
	}
	for (size_t i = 0; i < count; i++) {
		b[n++] = (uint8_t)(num << 3 | 2);
		b[n++] = 0;
	}
	*len = n;
	return b;
}

static void test_parse_limits_graph_outputs_to_65536(void **state)
{
	(void)state;
	size_t len;
	mg_model_info *info = NULL;
	mg_error err = {0};
	uint8_t *b = repeated_graph_fields(12, 65536, &len);
	assert_int_equal(mg_model_info_parse(&info, b, len, "bad.onnx", &err), 0);
	assert_int_equal(info->noutputs, 65536);
	assert_string_equal(describe(&info->outputs[65535]), " unknown -");
	mg_model_info_free(info);
	free(b);

	b = repeated_graph_fields(12, 65537, &len);
	assert_parse_fails(b, len, BAD "more than 65536 inputs or outputs at offset 131076");
	free(b);
}

static void test_parse_limits_rank_to_1024(void **state)
{
	(void)state;
	pb graph = {0}, m = {0}, ok = {0};
	int64_t dims[1025];
	for (size_t i = 0; i < 1025; i++)
		dims[i] = -1;
	pb_value_info(&graph, 12, "y", 1, 1024, dims, NULL);
	pb_msg(&ok, 7, &graph);
	mg_model_info *info = parse_ok(&ok);
	assert_int_equal(info->outputs[0].rank, 1024);
	mg_model_info_free(info);

	graph.n = 0;
	pb_value_info(&graph, 12, "y", 1, 1025, dims, NULL);
	pb_msg(&m, 7, &graph);
	assert_parse_fails(m.b, m.n, BAD "more than 1024 dimensions at offset 2068");
}

static void test_parse_empty_input_has_no_graph(void **state)
{
	(void)state;
	assert_parse_fails(NULL, 0, BAD "no graph");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_abs_gives_float32_input_and_output),
		cmocka_unit_test(test_read_drops_initializers_listed_as_inputs),
		cmocka_unit_test(test_read_counts_scalar_initializers_as_one_parameter),
		cmocka_unit_test(test_read_named_dynamic_dim_int64_input_and_scalar_output),
		cmocka_unit_test(test_read_sequence_types_give_unknown_dtype_and_no_shape),
		cmocka_unit_test(test_read_without_default_domain_opset_is_zero),
		cmocka_unit_test(test_read_parses_every_testdata_model),
		cmocka_unit_test(test_read_digits_example),
		cmocka_unit_test(test_read_other_extension_gives_unknown_format),
		cmocka_unit_test(test_read_onnx_extension_is_case_insensitive),
		cmocka_unit_test(test_read_missing_file_is_enotfound),
		cmocka_unit_test(test_read_truncated_file_names_the_file),
		cmocka_unit_test(test_read_empty_file_has_no_graph),
		cmocka_unit_test(test_read_directory_is_einval),
		cmocka_unit_test(test_free_accepts_null),
		cmocka_unit_test(test_parse_reads_packed_and_unpacked_initializer_dims),
		cmocka_unit_test(test_parse_shapes_without_field_unnamed_and_named_dims),
		cmocka_unit_test(test_parse_maps_every_element_type),
		cmocka_unit_test(test_parse_skips_unknown_fields_of_every_wire_type),
		cmocka_unit_test(test_parse_opset_comes_from_the_default_domain),
		cmocka_unit_test(test_parse_merges_repeated_graph_fields),
		cmocka_unit_test(test_parse_counts_sparse_initializer_values),
		cmocka_unit_test(test_parse_rejects_truncated_varint),
		cmocka_unit_test(test_parse_rejects_length_past_end_of_input),
		cmocka_unit_test(test_parse_rejects_length_past_end_of_enclosing_message),
		cmocka_unit_test(test_parse_rejects_oversize_varint),
		cmocka_unit_test(test_parse_rejects_group_wire_types),
		cmocka_unit_test(test_parse_rejects_bad_keys_and_short_fixed_fields),
		cmocka_unit_test(test_parse_rejects_known_field_of_wrong_wire_type),
		cmocka_unit_test(test_parse_rejects_bad_initializer_sizes),
		cmocka_unit_test(test_parse_empty_input_has_no_graph),
		cmocka_unit_test(test_parse_limits_graph_outputs_to_65536),
		cmocka_unit_test(test_parse_limits_rank_to_1024),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
