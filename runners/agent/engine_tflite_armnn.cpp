/* engine_tflite_armnn: libmodelgate-tflite.so, the C ABI of
 * engine_tflite_shim.h over Arm NN 20.08 (Debian's libarmnn22 and
 * libarmnntfliteparser22), the one C++ file of modelgate. The agent stays a
 * C program that links libc and libdl only; it dlopens this library.
 *
 * Debian builds Arm NN's backends as dynamic backends (armnn22/
 * Arm_CpuRef_backend.so, Arm_CpuAcc_backend.so), loaded from a folder named
 * at runtime creation: here armnn/backends/ next to this library, found with
 * dladdr, so a system-wide Arm NN is never mixed in. The libraries only
 * CpuAcc needs are loaded from there first (preload_backend_libs). CpuAcc (NEON kernels of
 * the Arm Compute Library, arm64 only) is preferred where it loaded, with
 * CpuRef as the fallback for layers it lacks; on x86_64 CpuRef is all there
 * is. MODELGATE_TFLITE_BACKEND=CpuRef (or CpuAcc) in the environment takes
 * that backend alone: CpuRef on an aarch64 board rescales quantized values
 * as LiteRT does, where CpuAcc's fixed-point rescaling can land one step
 * off at a near tie, so a user can tell that apart from a real difference.
 *
 * Every entry point catches everything: no exception leaves the library.
 * Arm NN's own log is switched off (the agent's stdout is its protocol
 * stream; it has moved it away, but stderr stays clean too). */
#include "runners/agent/engine_tflite_shim.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <armnn/ArmNN.hpp>
#include <armnn/Utils.hpp>
#include <armnnTfLiteParser/ITfLiteParser.hpp>

#include "formats/tensor.h"

struct mg_tfl_rt {
	armnn::IRuntimePtr runtime{nullptr, &armnn::IRuntime::Destroy};
	std::vector<armnn::BackendId> prefs;
	std::string version;
};

struct mg_tfl_net {
	mg_tfl_rt *rt = nullptr;
	armnn::NetworkId id = 0;
	bool loaded = false;
	std::vector<std::string> in_names, out_names;
	std::vector<armnn::BindingPointInfo> in_bind, out_bind;
	std::vector<mg_tfl_io> in_io, out_io;
	std::vector<const void *> in_data;
	std::vector<std::vector<unsigned char>> out_data;
};

static void set_err(char *err, size_t errlen, const std::string &msg)
{
	if (err && errlen)
		std::snprintf(err, errlen, "%s", msg.c_str());
}

/* Arm NN's types as ours; quantized ones are their raw integers. */
static int dtype_of(armnn::DataType t)
{
	switch (t) {
	case armnn::DataType::Float32: return MG_DT_FLOAT32;
	case armnn::DataType::Float16: return MG_DT_FLOAT16;
	case armnn::DataType::BFloat16: return MG_DT_BFLOAT16;
	case armnn::DataType::QAsymmU8: return MG_DT_UINT8;
	case armnn::DataType::QAsymmS8: return MG_DT_INT8;
	case armnn::DataType::QSymmS8: return MG_DT_INT8;
	case armnn::DataType::QSymmS16: return MG_DT_INT16;
	case armnn::DataType::Signed32: return MG_DT_INT32;
	case armnn::DataType::Boolean: return MG_DT_BOOL;
	default: return MG_DT_UNDEFINED;
	}
}

/* The folder of this library, from its own address, as an absolute path
 * (Arm NN ignores a relative backend path). */
static std::string self_dir()
{
	Dl_info info;
	char real[PATH_MAX];
	if (!dladdr(reinterpret_cast<void *>(&mg_tfl_abi), &info) || !info.dli_fname ||
	    !realpath(info.dli_fname, real))
		return ".";
	std::string p = real;
	size_t slash = p.rfind('/');
	return slash == std::string::npos ? "." : p.substr(0, slash);
}

/* The libraries of the CpuAcc backend that only it needs (the Arm Compute
 * Library, Arm NN's ACL glue), loaded from armnn/ before the backends: a
 * backend is dlopened by libarmnn, and its own dependencies are not found
 * through this library's RPATH. libarmnnAclCommon does not name libarmnn
 * as a dependency, so libarmnn (loaded with this library, which the agent
 * dlopens RTLD_LOCAL) is made global first. Missing ones (x86_64) are
 * skipped. */
static void preload_backend_libs(const std::string &dir)
{
	static const char *const libs[] = {"libarmnn.so.22", "libarm_compute_core.so.20",
					   "libarm_compute.so.20", "libarmnnAclCommon.so.22"};
	for (const char *lib : libs) {
		std::string path = dir + "/" + lib;
		if (access(path.c_str(), R_OK) == 0)
			dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
	}
}

extern "C" unsigned mg_tfl_abi(void)
{
	return MG_TFL_ABI;
}

extern "C" int mg_tfl_open(mg_tfl_rt **out, char *err, size_t errlen)
{
	*out = nullptr;
	try {
		armnn::ConfigureLogging(false, false, armnn::LogSeverity::Fatal);
		std::unique_ptr<mg_tfl_rt> rt(new mg_tfl_rt);
		armnn::IRuntime::CreationOptions opts;
		std::string libs = self_dir() + "/armnn";
		std::string backends = libs + "/backends";
		preload_backend_libs(libs);
		opts.m_DynamicBackendsPath = backends;
		rt->runtime = armnn::IRuntime::Create(opts);
		const armnn::BackendIdSet have = rt->runtime->GetDeviceSpec().GetSupportedBackends();
		const char *only = getenv("MODELGATE_TFLITE_BACKEND");
		if (only && *only) {
			std::string b(only);
			if (b != "CpuRef" && b != "CpuAcc") {
				set_err(err, errlen, "MODELGATE_TFLITE_BACKEND '" + b +
							     "' is not CpuRef or CpuAcc");
				return MG_TFL_EFAIL;
			}
			if (!have.count(armnn::BackendId(b))) {
				set_err(err, errlen, "MODELGATE_TFLITE_BACKEND asks for " + b +
							     ", which is not loaded from '" + backends + "'");
				return MG_TFL_EFAIL;
			}
			rt->prefs.push_back(armnn::BackendId(b));
		}
		if (rt->prefs.empty() && have.count(armnn::Compute::CpuAcc))
			rt->prefs.push_back(armnn::Compute::CpuAcc);
		if ((rt->prefs.empty() || rt->prefs[0] != armnn::BackendId("CpuRef")) &&
		    have.count(armnn::Compute::CpuRef))
			rt->prefs.push_back(armnn::Compute::CpuRef);
		if (rt->prefs.empty()) {
			set_err(err, errlen, "armnn 20.08: no CpuAcc or CpuRef backend loaded from '" +
						     backends + "'");
			return MG_TFL_EFAIL;
		}
		rt->version = "armnn 20.08 " + rt->prefs[0].Get();
		*out = rt.release();
		return MG_TFL_OK;
	} catch (const std::exception &e) {
		set_err(err, errlen, std::string("armnn 20.08: ") + e.what());
	} catch (...) {
		set_err(err, errlen, "armnn 20.08: unknown exception while starting the runtime");
	}
	return MG_TFL_EFAIL;
}

extern "C" const char *mg_tfl_version(const mg_tfl_rt *rt)
{
	return rt->version.c_str();
}

/* The binding of one input or output as ours; false past our rank. */
static bool describe(mg_tfl_io *io, const std::string &name, const armnn::TensorInfo &ti)
{
	const armnn::TensorShape &s = ti.GetShape();
	if (s.GetNumDimensions() > MG_TFL_MAX_RANK)
		return false;
	io->name = name.c_str();
	io->dtype = dtype_of(ti.GetDataType());
	io->rank = s.GetNumDimensions();
	for (size_t d = 0; d < io->rank; d++)
		io->dims[d] = s[static_cast<unsigned>(d)];
	io->nbytes = ti.GetNumBytes();
	return true;
}

/* Arm NN's parser errors end in " at function ... [file:line]": the
 * user needs the part before it. */
static std::string trim_location(std::string msg)
{
	size_t at = msg.find(" at function ");
	if (at != std::string::npos)
		msg.erase(at);
	while (!msg.empty() && (msg.back() == ' ' || msg.back() == '\n'))
		msg.pop_back();
	return msg;
}

/* "Operator not supported. subgraph:0 operator:3 opcode_index:1 opcode:54 /
 * PRELU" names the operator last: say that first, and where it is. */
static std::string parse_error(const std::string &what)
{
	std::string msg = trim_location(what);
	size_t ns = msg.find("Operator not supported.");
	size_t slash = msg.rfind(" / ");
	size_t at = msg.find(" operator:", ns == std::string::npos ? 0 : ns);
	if (ns == std::string::npos || slash == std::string::npos || slash < ns ||
	    at == std::string::npos)
		return "armnn 20.08: " + msg;
	std::string index = msg.substr(at + 10, msg.find(' ', at + 10) - at - 10);
	return "armnn 20.08: operator " + msg.substr(slash + 3) + " is not supported (operator #" +
	       index + ")";
}

static int load(mg_tfl_rt *rt, const void *bytes, size_t n, mg_tfl_net *net, std::string &msg)
{
	armnnTfLiteParser::ITfLiteParserPtr parser = armnnTfLiteParser::ITfLiteParser::Create();
	const unsigned char *b = static_cast<const unsigned char *>(bytes);
	std::vector<uint8_t> content(b, b + n);
	armnn::INetworkPtr network{nullptr, &armnn::INetwork::Destroy};
	try {
		network = parser->CreateNetworkFromBinary(content);
	} catch (const armnn::Exception &e) {
		msg = parse_error(e.what());
		return MG_TFL_EMODEL;
	}
	size_t subgraphs = parser->GetSubgraphCount();
	if (subgraphs != 1) {
		msg = "armnn 20.08: the model has " + std::to_string(subgraphs) +
		      " subgraphs; only models of one are supported";
		return MG_TFL_EMODEL;
	}
	net->in_names = parser->GetSubgraphInputTensorNames(0);
	net->out_names = parser->GetSubgraphOutputTensorNames(0);
	for (const std::string &name : net->in_names)
		net->in_bind.push_back(parser->GetNetworkInputBindingInfo(0, name));
	for (const std::string &name : net->out_names)
		net->out_bind.push_back(parser->GetNetworkOutputBindingInfo(0, name));

	std::vector<std::string> why;
	armnn::IOptimizedNetworkPtr opt{nullptr, &armnn::IOptimizedNetwork::Destroy};
	try {
		opt = armnn::Optimize(*network, rt->prefs, rt->runtime->GetDeviceSpec(),
				      armnn::OptimizerOptions(),
				      armnn::Optional<std::vector<std::string> &>(why));
	} catch (const armnn::Exception &e) {
		why.push_back(trim_location(e.what()));
	}
	if (!opt) {
		msg = "armnn 20.08: cannot run the model on " + rt->prefs[0].Get();
		for (const std::string &w : why)
			msg += "; " + trim_location(w);
		return MG_TFL_EMODEL;
	}
	std::string load_msg;
	if (rt->runtime->LoadNetwork(net->id, std::move(opt), load_msg) != armnn::Status::Success) {
		msg = "armnn 20.08: cannot load the network: " + load_msg;
		return MG_TFL_EMODEL;
	}
	net->loaded = true;
	net->in_io.resize(net->in_names.size());
	net->out_io.resize(net->out_names.size());
	net->in_data.assign(net->in_names.size(), nullptr);
	net->out_data.resize(net->out_names.size());
	for (size_t i = 0; i < net->in_names.size(); i++) {
		net->in_bind[i].second = rt->runtime->GetInputTensorInfo(net->id, net->in_bind[i].first);
		if (!describe(&net->in_io[i], net->in_names[i], net->in_bind[i].second)) {
			msg = "armnn 20.08: input '" + net->in_names[i] + "' has too many dimensions";
			return MG_TFL_EMODEL;
		}
	}
	for (size_t i = 0; i < net->out_names.size(); i++) {
		net->out_bind[i].second = rt->runtime->GetOutputTensorInfo(net->id, net->out_bind[i].first);
		if (!describe(&net->out_io[i], net->out_names[i], net->out_bind[i].second)) {
			msg = "armnn 20.08: output '" + net->out_names[i] + "' has too many dimensions";
			return MG_TFL_EMODEL;
		}
		net->out_data[i].assign(net->out_io[i].nbytes, 0);
	}
	return MG_TFL_OK;
}

extern "C" int mg_tfl_load(mg_tfl_rt *rt, const void *bytes, size_t n, mg_tfl_net **out, char *err,
			   size_t errlen)
{
	*out = nullptr;
	mg_tfl_net *net = nullptr;
	int rc = MG_TFL_EFAIL;
	std::string msg;
	try {
		net = new mg_tfl_net;
		net->rt = rt;
		rc = load(rt, bytes, n, net, msg);
	} catch (const armnn::Exception &e) {
		/* what the parser and optimiser throw is about the model */
		msg = "armnn 20.08: " + trim_location(e.what());
		rc = MG_TFL_EMODEL;
	} catch (const std::exception &e) {
		msg = std::string("armnn 20.08: ") + e.what();
		rc = MG_TFL_EFAIL;
	} catch (...) {
		msg = "armnn 20.08: unknown exception while loading the model";
		rc = MG_TFL_EFAIL;
	}
	if (rc != MG_TFL_OK) {
		set_err(err, errlen, msg);
		mg_tfl_unload(net);
		return rc;
	}
	*out = net;
	return MG_TFL_OK;
}

extern "C" size_t mg_tfl_count(const mg_tfl_net *net, int outputs)
{
	return outputs ? net->out_io.size() : net->in_io.size();
}

extern "C" const mg_tfl_io *mg_tfl_io_at(const mg_tfl_net *net, int outputs, size_t i)
{
	return outputs ? &net->out_io[i] : &net->in_io[i];
}

extern "C" void mg_tfl_bind(mg_tfl_net *net, size_t i, const void *data)
{
	net->in_data[i] = data;
}

extern "C" int mg_tfl_run(mg_tfl_net *net, char *err, size_t errlen)
{
	try {
		armnn::InputTensors ins;
		for (size_t i = 0; i < net->in_bind.size(); i++) {
			if (!net->in_data[i]) {
				set_err(err, errlen, "input '" + net->in_names[i] + "' is not set");
				return MG_TFL_EMODEL;
			}
			ins.emplace_back(net->in_bind[i].first,
					 armnn::ConstTensor(net->in_bind[i].second, net->in_data[i]));
		}
		armnn::OutputTensors outs;
		for (size_t i = 0; i < net->out_bind.size(); i++)
			outs.emplace_back(net->out_bind[i].first,
					  armnn::Tensor(net->out_bind[i].second, net->out_data[i].data()));
		if (net->rt->runtime->EnqueueWorkload(net->id, ins, outs) != armnn::Status::Success) {
			set_err(err, errlen, "armnn 20.08: the inference failed");
			return MG_TFL_EFAIL;
		}
		return MG_TFL_OK;
	} catch (const std::exception &e) {
		set_err(err, errlen, std::string("armnn 20.08: ") + trim_location(e.what()));
	} catch (...) {
		set_err(err, errlen, "armnn 20.08: unknown exception in the inference");
	}
	return MG_TFL_EFAIL;
}

extern "C" const void *mg_tfl_output(const mg_tfl_net *net, size_t i)
{
	return net->out_data[i].data();
}

extern "C" void mg_tfl_unload(mg_tfl_net *net)
{
	if (!net)
		return;
	try {
		if (net->loaded)
			net->rt->runtime->UnloadNetwork(net->id);
	} catch (...) {
	}
	delete net;
}

extern "C" void mg_tfl_close(mg_tfl_rt *rt)
{
	try {
		delete rt;
	} catch (...) {
	}
}
