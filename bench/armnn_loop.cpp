/* armnn_loop: the baseline for bench_tflite.sh, as ort_loop.c is for
 * bench_run.sh. A bare C++ loop over Arm NN 20.08's own API on one .tflite
 * model and one .npy input: the model bytes folded exactly as the agent
 * folds them (formats/tflite_fold.c, linked in), ITfLiteParser, Optimize for
 * the shim's backend preference (CpuAcc where it loaded, then CpuRef),
 * LoadNetwork, then EnqueueWorkload timed with CLOCK_MONOTONIC around that
 * call only, the input and output tensors set up once outside it.
 *
 * ARMNN is the folder holding Arm NN's libraries and backends/ (the
 * shim's armnn/ folder); the backend path handed to Arm NN is made absolute
 * (it ignores a relative one) and the CpuAcc libraries are loaded global
 * first, as the shim does. Prints one line: the p50 in ns (linear
 * interpolation, as modelgate's stats), the minimum in ns (what a loaded
 * machine adds to least), the runtime's creation and the model's load
 * (fold, parse, optimise, load) in ns, and the backend.
 *
 * Under valgrind's callgrind (started with --instr-atstart=no
 * --collect-atstart=no, as the cost gate starts the agent), instrumentation
 * starts before the warm-up runs and collection is on around the timed runs
 * only, dumped as "armnn-loop": their instructions, for bench_tflite.sh to
 * set beside the cost gate's count of `modelgate run` (counter.c does the
 * same around the agent's counted inferences).
 *
 *   armnn_loop ARMNN MODEL.tflite INPUT.npy WARMUP ITERATIONS */
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#error "bench/armnn_loop.cpp needs valgrind's <valgrind/callgrind.h> (Debian package valgrind)"
#endif

#include <armnn/ArmNN.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

extern "C" {
#include "formats/tensor.h"
#include "formats/tflite.h"
}

static uint64_t now_ns()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

[[noreturn]] static void fail(const std::string &msg)
{
	std::fprintf(stderr, "armnn_loop: %s\n", msg.c_str());
	std::exit(1);
}

static int run(char **argv)
{
	char dir[PATH_MAX];
	if (!realpath(argv[1], dir))
		fail(std::string("no Arm NN folder '") + argv[1] + "'");
	const char *model = argv[2];
	int warmup = std::atoi(argv[4]), n = std::atoi(argv[5]);
	if (n < 1)
		fail("ITERATIONS must be at least 1");
	mg_error err = {};
	mg_tensor *in = nullptr;
	if (mg_npy_read(&in, argv[3], &err))
		fail(err.msg);

	uint64_t t0 = now_ns();
	for (const char *lib : {"libarmnn.so.22", "libarm_compute_core.so.20", "libarm_compute.so.20",
				"libarmnnAclCommon.so.22"}) {
		std::string path = std::string(dir) + "/" + lib;
		if (access(path.c_str(), R_OK) == 0 && !dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL))
			fail(dlerror());
	}
	armnn::ConfigureLogging(false, false, armnn::LogSeverity::Fatal);
	armnn::IRuntime::CreationOptions opts;
	opts.m_DynamicBackendsPath = std::string(dir) + "/backends";
	armnn::IRuntimePtr rt = armnn::IRuntime::Create(opts);
	std::vector<armnn::BackendId> prefs;
	const armnn::BackendIdSet have = rt->GetDeviceSpec().GetSupportedBackends();
	if (have.count(armnn::Compute::CpuAcc))
		prefs.push_back(armnn::Compute::CpuAcc);
	if (have.count(armnn::Compute::CpuRef))
		prefs.push_back(armnn::Compute::CpuRef);
	if (prefs.empty())
		fail("no CpuAcc or CpuRef backend in '" + opts.m_DynamicBackendsPath + "'");
	uint64_t create_ns = now_ns() - t0;

	t0 = now_ns();
	mg_buf bytes = MG_BUF_INIT;
	if (mg_file_read(&bytes, model, MG_BUF_MAX, &err))
		fail(err.msg);
	uint8_t *folded = nullptr;
	size_t folded_len = 0, nfolded = 0;
	if (mg_tflite_fold_fp16(&folded, &folded_len, &nfolded, bytes.data, bytes.len, model, &err))
		fail(err.msg);
	const uint8_t *b = folded ? folded : reinterpret_cast<const uint8_t *>(bytes.data);
	std::vector<uint8_t> content(b, b + (folded ? folded_len : bytes.len));
	std::free(folded);
	mg_buf_free(&bytes);
	armnnTfLiteParser::ITfLiteParserPtr parser = armnnTfLiteParser::ITfLiteParser::Create();
	armnn::INetworkPtr net = parser->CreateNetworkFromBinary(content);
	std::vector<std::string> in_names = parser->GetSubgraphInputTensorNames(0);
	std::vector<std::string> out_names = parser->GetSubgraphOutputTensorNames(0);
	if (in_names.size() != 1)
		fail(std::string(model) + " has " + std::to_string(in_names.size()) +
		     " inputs; this loop feeds one");
	armnn::IOptimizedNetworkPtr opt =
		armnn::Optimize(*net, prefs, rt->GetDeviceSpec(), armnn::OptimizerOptions());
	armnn::NetworkId id = 0;
	std::string msg;
	if (rt->LoadNetwork(id, std::move(opt), msg) != armnn::Status::Success)
		fail("cannot load the network: " + msg);
	uint64_t load_ns = now_ns() - t0;

	armnn::BindingPointInfo ib = parser->GetNetworkInputBindingInfo(0, in_names[0]);
	ib.second = rt->GetInputTensorInfo(id, ib.first);
	if (ib.second.GetNumBytes() != in->nbytes)
		fail(std::string(argv[3]) + " has " + std::to_string(in->nbytes) + " bytes; the input wants " +
		     std::to_string(ib.second.GetNumBytes()));
	armnn::InputTensors ins{{ib.first, armnn::ConstTensor(ib.second, in->data)}};
	std::vector<std::vector<unsigned char>> out_data(out_names.size());
	armnn::OutputTensors outs;
	for (size_t i = 0; i < out_names.size(); i++) {
		armnn::BindingPointInfo ob = parser->GetNetworkOutputBindingInfo(0, out_names[i]);
		ob.second = rt->GetOutputTensorInfo(id, ob.first);
		out_data[i].assign(ob.second.GetNumBytes(), 0);
		outs.emplace_back(ob.first, armnn::Tensor(ob.second, out_data[i].data()));
	}

	std::vector<uint64_t> samples((size_t)n);
	CALLGRIND_START_INSTRUMENTATION;
	for (int i = -warmup; i < n; i++) {
		if (i == 0) {
			CALLGRIND_ZERO_STATS;
			CALLGRIND_TOGGLE_COLLECT;
		}
		uint64_t s0 = now_ns();
		armnn::Status st = rt->EnqueueWorkload(id, ins, outs);
		uint64_t dt = now_ns() - s0;
		if (st != armnn::Status::Success)
			fail("the inference failed");
		if (i >= 0)
			samples[(size_t)i] = dt;
	}
	CALLGRIND_TOGGLE_COLLECT;
	CALLGRIND_DUMP_STATS_AT("armnn-loop");
	CALLGRIND_STOP_INSTRUMENTATION;
	std::sort(samples.begin(), samples.end());
	double h = (n - 1) * 0.5;
	size_t lo = (size_t)h;
	double p50 = (double)samples[lo] +
		     (lo + 1 < (size_t)n ? (h - (double)lo) * (double)(samples[lo + 1] - samples[lo]) : 0);
	std::printf("%.1f %llu %llu %llu %s\n", p50, (unsigned long long)samples[0],
		    (unsigned long long)create_ns,
		    (unsigned long long)load_ns, prefs[0].Get().c_str());
	rt->UnloadNetwork(id);
	mg_tensor_free(in);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 6) {
		std::fprintf(stderr, "usage: armnn_loop ARMNN MODEL.tflite INPUT.npy WARMUP ITERATIONS\n");
		return 2;
	}
	try {
		return run(argv);
	} catch (const std::exception &e) {
		fail(e.what());
	}
}
