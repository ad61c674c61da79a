/* ort_loop: the baseline for bench_run.sh. A bare C loop around ONNX
 * Runtime's Run on one model and one .npy input, timed exactly as the agent
 * times it (CLOCK_MONOTONIC around Run only, ORT allocating the outputs,
 * released outside the timed call), printing the p50 in ns (linear
 * interpolation, as modelgate's stats).
 *
 *   ort_loop LIB MODEL INPUT.npy INPUT_NAME OUTPUT_NAME THREADS WARMUP ITERATIONS */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "onnxruntime_c_api.h"
#include "formats/tensor.h"

static const OrtApi *api;

static void check(OrtStatus *st)
{
	if (st) {
		fprintf(stderr, "ort_loop: %s\n", api->GetErrorMessage(st));
		exit(1);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	if (argc != 9) {
		fprintf(stderr, "usage: ort_loop LIB MODEL INPUT.npy IN OUT THREADS WARMUP ITERATIONS\n");
		return 2;
	}
	void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!lib) {
		fprintf(stderr, "ort_loop: %s\n", dlerror());
		return 1;
	}
	const OrtApiBase *(*base)(void);
	*(void **)&base = dlsym(lib, "OrtGetApiBase");
	api = base()->GetApi(ORT_API_VERSION);
	mg_tensor *in = NULL;
	mg_error err = {0};
	if (mg_npy_read(&in, argv[3], &err)) {
		fprintf(stderr, "ort_loop: %s\n", err.msg);
		return 1;
	}
	OrtEnv *env;
	OrtSessionOptions *so;
	OrtSession *s;
	OrtMemoryInfo *mem;
	OrtValue *val;
	check(api->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "ort_loop", &env));
	check(api->CreateSessionOptions(&so));
	if (atoi(argv[6]) > 0)
		check(api->SetIntraOpNumThreads(so, atoi(argv[6])));
	check(api->SetSessionGraphOptimizationLevel(so, ORT_ENABLE_ALL));
	check(api->CreateSession(env, argv[2], so, &s));
	check(api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &mem));
	check(api->CreateTensorWithDataAsOrtValue(mem, in->data, in->nbytes, in->dims, in->rank,
						  (ONNXTensorElementDataType)in->dtype, &val));
	const char *in_names[1] = {argv[4]}, *out_names[1] = {argv[5]};
	int warmup = atoi(argv[7]), n = atoi(argv[8]);
	uint64_t *samples = malloc((size_t)n * sizeof(*samples));
	for (int i = -warmup; i < n; i++) {
		OrtValue *out = NULL;
		uint64_t t0 = now_ns();
		check(api->Run(s, NULL, in_names, (const OrtValue *const *)&val, 1, out_names, 1, &out));
		uint64_t dt = now_ns() - t0;
		api->ReleaseValue(out);
		if (i >= 0)
			samples[i] = dt;
	}
	qsort(samples, (size_t)n, sizeof(*samples), cmp);
	double h = (n - 1) * 0.5;
	size_t lo = (size_t)h;
	double p50 = (double)samples[lo] +
		     (lo + 1 < (size_t)n ? (h - (double)lo) * (double)(samples[lo + 1] - samples[lo]) : 0);
	printf("%.1f\n", p50);
	return 0;
}
