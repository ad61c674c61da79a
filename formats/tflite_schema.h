/* tflite_schema: the few numbers of TensorFlow Lite's schema.fbs that
 * modelgate reads (field indices of the tables it walks, the TensorType and
 * BuiltinOperator values it acts on), in one place for the reader
 * (tflite.c) and the fp16 fold (tflite_fold.c). */
#ifndef MG_TFLITE_SCHEMA_H
#define MG_TFLITE_SCHEMA_H

/* The file identifier, at bytes 4..7. */
#define TFL_IDENT "TFL3"

enum { TFL_MODEL_VERSION = 0, TFL_MODEL_OPCODES = 1, TFL_MODEL_SUBGRAPHS = 2, TFL_MODEL_BUFFERS = 4 };
enum { TFL_OPCODE_DEPRECATED = 0, TFL_OPCODE_CUSTOM = 1, TFL_OPCODE_BUILTIN = 3 };
enum { TFL_SG_TENSORS = 0, TFL_SG_INPUTS = 1, TFL_SG_OUTPUTS = 2, TFL_SG_OPERATORS = 3 };
enum { TFL_TENSOR_SHAPE = 0, TFL_TENSOR_TYPE = 1, TFL_TENSOR_BUFFER = 2, TFL_TENSOR_NAME = 3,
       TFL_TENSOR_QUANT = 4, TFL_TENSOR_SIGNATURE = 7 };
enum { TFL_QUANT_SCALE = 2, TFL_QUANT_ZERO = 3, TFL_QUANT_DIM = 6 };
enum { TFL_OP_OPCODE = 0, TFL_OP_INPUTS = 1, TFL_OP_OUTPUTS = 2 };
enum { TFL_BUFFER_DATA = 0, TFL_BUFFER_OFFSET = 1, TFL_BUFFER_SIZE = 2 };

enum { TFL_FLOAT32 = 0, TFL_FLOAT16 = 1 };
enum { TFL_OP_DEQUANTIZE = 6, TFL_OP_CUSTOM = 32 };
/* deprecated_builtin_code holds codes below this; builtin_code the rest */
#define TFL_OP_PLACEHOLDER 127

#endif
