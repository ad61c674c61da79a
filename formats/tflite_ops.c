/* tflite_ops: the names of TFLite's builtin operators (BuiltinOperator in
 * schema.fbs, indexed by code) and the one table of what Arm NN 20.08's
 * TfLiteParser can run.
 *
 * The Arm NN list comes from the library Debian ships
 * (libarmnntfliteparser22 20.08-12): its TfLiteParser has a Parse<Op> method
 * for exactly these builtins, every other code goes to
 * ParseUnsupportedOperator ("Operator not supported"), the only custom
 * operator it parses is TFLite_Detection_PostProcess, and it refuses a model
 * of more than one subgraph. */
#include "formats/tflite.h"

#include <string.h>

static const char *const op_names[] = {
	"ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D",
	"DEPTH_TO_SPACE", "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED",
	"HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION",
	"LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1",
	"RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF",
	"TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE",
	"PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND", "SPACE_TO_BATCH_ND",
	"TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM",
	"STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2", "SPLIT", "LOG_SOFTMAX",
	"DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX",
	"MINIMUM", "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT",
	"SLICE", "SIN", "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL",
	"NOT_EQUAL", "LOG", "SUM", "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT",
	"REDUCE_PROD", "REDUCE_MAX", "PACK", "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND",
	"LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV", "REDUCE_ANY", "SQUARE",
	"ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU",
	"SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2",
	"ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG",
	"QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
	"NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5", "SCATTER_ND", "SELECT_V2",
	"DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL", "PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM",
	"CALL_ONCE", "BROADCAST_TO", "RFFT2D", "CONV_3D", "IMAG", "REAL", "COMPLEX_ABS",
	"HASHTABLE", "HASHTABLE_FIND", "HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL",
	"CONV_3D_TRANSPOSE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS",
	"RANDOM_STANDARD_NORMAL", "BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU",
	"DYNAMIC_UPDATE_SLICE", "RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX",
	"UNSORTED_SEGMENT_SUM", "ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN",
};

/* Builtins with a Parse<Op> in Arm NN 20.08's TfLiteParser. */
static const char *const armnn_builtins[] = {
	"ADD", "AVERAGE_POOL_2D", "BATCH_TO_SPACE_ND", "CONCATENATION", "CONV_2D",
	"DEPTHWISE_CONV_2D", "DEQUANTIZE", "DIV", "EXP", "FULLY_CONNECTED", "HARD_SWISH",
	"L2_NORMALIZATION", "LEAKY_RELU", "LOGISTIC", "MAX_POOL_2D", "MAXIMUM", "MEAN",
	"MINIMUM", "MUL", "NEG", "PACK", "PAD", "QUANTIZE", "RELU", "RELU6", "RESHAPE",
	"RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "SLICE", "SOFTMAX", "SPACE_TO_BATCH_ND",
	"SPLIT", "SPLIT_V", "SQUEEZE", "STRIDED_SLICE", "SUB", "TANH", "TRANSPOSE",
	"TRANSPOSE_CONV", "UNPACK",
};

static const char *const armnn_customs[] = {"TFLite_Detection_PostProcess"};

const char *mg_tflite_op_name(int32_t code)
{
	if (code < 0 || (size_t)code >= sizeof(op_names) / sizeof(op_names[0]))
		return NULL;
	return op_names[code];
}

static int listed(const char *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], name))
			return 1;
	return 0;
}

int mg_armnn_op_supported(const mg_op_count *op)
{
	if (op->custom)
		return listed(armnn_customs, sizeof(armnn_customs) / sizeof(armnn_customs[0]), op->name);
	return listed(armnn_builtins, sizeof(armnn_builtins) / sizeof(armnn_builtins[0]), op->name);
}

int mg_armnn_unsupported(const mg_model_info *info, mg_buf *out, mg_error *err)
{
	int found = 0, rc;
	for (size_t i = 0; i < info->nops; i++) {
		if (mg_armnn_op_supported(&info->ops[i]))
			continue;
		if ((rc = mg_buf_printf(out, err, "%s%s x%llu", found ? ", " : "", info->ops[i].name,
					(unsigned long long)info->ops[i].count)))
			return rc;
		found++;
	}
	if (info->subgraphs > 1) {
		if ((rc = mg_buf_printf(out, err, "%s%zu subgraphs", found ? ", " : "", info->subgraphs)))
			return rc;
		found++;
	}
	return found;
}
