/* engine_tflite_shim: the C ABI of libmodelgate-tflite.so, the one C++ file
 * of the project (engine_tflite_armnn.cpp) over Arm NN 20.08's C++-only
 * TfLiteParser and runtime. The agent's TFLite engine (engine_tflite.c)
 * dlopens the library and looks these functions up; nothing of C++ (types,
 * exceptions, allocators) crosses: the shim catches everything and returns
 * a code with the message in the caller's buffer.
 *
 * The library finds Arm NN next to itself: the shared libraries in armnn/
 * (its RPATH is $ORIGIN/armnn) and the dynamic backends in armnn/backends/.
 * A network's inputs and outputs are subgraph 0's, in the model's order;
 * their dtypes are formats/tensor.h's mg_dtype values, quantized ones as
 * the raw integers. */
#ifndef MG_AGENT_ENGINE_TFLITE_SHIM_H
#define MG_AGENT_ENGINE_TFLITE_SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* mg_tfl_abi() of a library this header describes */
#define MG_TFL_ABI 1

/* the codes a shim call returns */
enum {
	MG_TFL_OK = 0,
	MG_TFL_EMODEL = 1, /* Arm NN refuses the model (bad input) */
	MG_TFL_EFAIL = 2,  /* anything else: the runtime, memory */
};

/* Dimensions of one input or output at most (a larger rank is refused). */
#define MG_TFL_MAX_RANK 16

typedef struct mg_tfl_rt mg_tfl_rt;
typedef struct mg_tfl_net mg_tfl_net;

typedef struct mg_tfl_io {
	const char *name; /* borrowed, valid until unload */
	int dtype;        /* an mg_dtype; 0 where ours has none */
	size_t rank;
	int64_t dims[MG_TFL_MAX_RANK];
	size_t nbytes;
} mg_tfl_io;

unsigned mg_tfl_abi(void);
/* The runtime with its backends: CpuAcc where there is one, else CpuRef, or
 * the one MODELGATE_TFLITE_BACKEND names. */
int mg_tfl_open(mg_tfl_rt **out, char *err, size_t errlen);
/* "armnn 20.08 CpuRef" */
const char *mg_tfl_version(const mg_tfl_rt *rt);
/* Parses, optimises and loads the flatbuffer of n bytes (copied). */
int mg_tfl_load(mg_tfl_rt *rt, const void *bytes, size_t n, mg_tfl_net **out, char *err,
		size_t errlen);
size_t mg_tfl_count(const mg_tfl_net *net, int outputs);
const mg_tfl_io *mg_tfl_io_at(const mg_tfl_net *net, int outputs, size_t i);
/* Input i reads data (its nbytes) in the following runs; NULL unbinds. */
void mg_tfl_bind(mg_tfl_net *net, size_t i, const void *data);
/* One inference; every input must be bound. */
int mg_tfl_run(mg_tfl_net *net, char *err, size_t errlen);
/* Output i of the last run, nbytes of mg_tfl_io_at; borrowed. */
const void *mg_tfl_output(const mg_tfl_net *net, size_t i);
void mg_tfl_unload(mg_tfl_net *net);
void mg_tfl_close(mg_tfl_rt *rt);

#ifdef __cplusplus
}
#endif

#endif
