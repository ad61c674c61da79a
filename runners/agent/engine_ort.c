/* engine_ort: ONNX Runtime through its C API, loaded with dlopen.
 *
 * The library is $MODELGATE_ORT_LIB, else libonnxruntime.so.1 next to the
 * agent, else libonnxruntime.so.1 on the library path. The header in
 * .deps/ort/include is API version 29; OrtGetApiBase()->GetApi(29) works
 * with every library from 1.22 on (the tested one is 1.30.0).
 *
 * Inputs are wrapped, not copied (CreateTensorWithDataAsOrtValue), once per
 * bind; each run lets ORT allocate the outputs and releases the previous
 * ones outside the timed call.
 *
 * On aarch64, ORT's CPU detection crashes (SIGSEGV, while the library
 * loads) when /proc/cpuinfo has no Arm entries, as under qemu-user without
 * libmodelgate-cpuinfo.so preloaded: the engine refuses to start instead. */
#include "runners/agent/engine.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "onnxruntime_c_api.h"

struct mg_engine {
	void *lib;
	const OrtApi *api;
	OrtEnv *env;
	OrtMemoryInfo *mem;
	OrtAllocator *alloc;
	char version[64];
};

struct mg_engine_model {
	mg_engine *e;
	OrtSession *session;
	char **in_names, **out_names;
	size_t nin, nout;
	mg_engine_io *in_io, *out_io; /* nin and nout; names borrowed from above */
	/* bound inputs */
	const char **bind_names;
	OrtValue **bind_vals;
	size_t nbind;
	OrtValue **outs; /* nout values of the last run, or NULLs */
};

/* The tag bytes a ModelProto can start with: protobuf writes fields in
 * number order and every runnable model has its graph (field 7), so its
 * first field is one of ir_version 1, producer_name 2, producer_version 3,
 * domain 4, model_version 5, doc_string 6 or graph 7 (opset_import 8 and
 * metadata_props 14 are accepted too; they cost nothing). */
static const unsigned char onnx_first_tags[] = {0x08, 0x12, 0x1a, 0x22, 0x28, 0x32, 0x3a, 0x42, 0x72};

/* An ONNX protobuf has no magic number: a plausible first field is all
 * there is. ONNX Runtime's own flatbuffer format (.ort) has "ORTM". */
static int ort_probe(const unsigned char *head, size_t n)
{
	if (n >= 8 && !memcmp(head + 4, "ORTM", 4))
		return MG_PROBE_MAGIC;
	if (n >= 2 && memchr(onnx_first_tags, head[0], sizeof(onnx_first_tags)))
		return MG_PROBE_PLAUSIBLE;
	return MG_PROBE_NO;
}

/* Turns a status into an error (code) and releases it; 0 for success. */
static int status_err(const OrtApi *api, OrtStatus *st, mg_error *err, int code, const char *what)
{
	if (!st)
		return 0;
	mg_error_set(err, code, "%s: %s", what, api->GetErrorMessage(st));
	api->ReleaseStatus(st);
	return code;
}

#if defined(__aarch64__)
/* 0 when /proc/cpuinfo has an Arm entry or cannot be read (then ORT's own
 * fallbacks apply), else an error saying what to preload. */
static int check_cpuinfo(mg_error *err)
{
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return 0;
	char line[512];
	int arm = 0;
	while (!arm && fgets(line, sizeof(line), f))
		arm = !strncmp(line, "CPU implementer", 15);
	fclose(f);
	if (arm)
		return 0;
	const char *pre = getenv("LD_PRELOAD");
	return mg_error_set(err, MG_ERROR,
			    "'/proc/cpuinfo' has no Arm CPU entry ('CPU implementer'), and ONNX "
			    "Runtime would crash reading it; under qemu-user, preload "
			    "libmodelgate-cpuinfo.so "
			    "(LD_PRELOAD is %s%s%s)", pre ? "'" : "", pre ? pre : "not set",
			    pre ? "'" : "");
}
#endif

static void ort_close(mg_engine *e)
{
	if (!e)
		return;
	if (e->api) {
		if (e->mem)
			e->api->ReleaseMemoryInfo(e->mem);
		if (e->env)
			e->api->ReleaseEnv(e->env);
	}
	/* the library stays loaded: ORT's own threads and atexit handlers may
	 * still refer to it */
	free(e);
}

static int ort_open(mg_engine **out, mg_error *err)
{
	*out = NULL;
#if defined(__aarch64__)
	int bad = check_cpuinfo(err);
	if (bad)
		return bad;
#endif
	mg_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	/* The onnxruntime-node builds carry Microsoft's telemetry, which writes
	 * a database under ~/.cache/Microsoft with fsyncs at every CreateEnv
	 * (20-60 ms) and may upload. A measuring tool in CI wants none of it;
	 * a user who does sets ORT_DISABLE_TELEMETRY=0. */
	setenv("ORT_DISABLE_TELEMETRY", "1", 0);
	char tried[PATH_MAX + 128];
	e->lib = mg_agent_dlopen("libonnxruntime.so.1", "MODELGATE_ORT_LIB", tried, sizeof(tried));
	if (!e->lib) {
		const char *why = dlerror();
		free(e);
		return mg_error_set(err, MG_ERROR, "cannot load ONNX Runtime %s: %s", tried,
				    why ? why : "unknown error");
	}
	const OrtApiBase *(*get_base)(void);
	*(void **)&get_base = dlsym(e->lib, "OrtGetApiBase");
	const OrtApiBase *base = get_base ? get_base() : NULL;
	if (!base) {
		free(e);
		return mg_error_set(err, MG_ERROR, "ONNX Runtime %s has no OrtGetApiBase", tried);
	}
	snprintf(e->version, sizeof(e->version), "%s", base->GetVersionString());
	e->api = base->GetApi(ORT_API_VERSION);
	if (!e->api) {
		free(e);
		return mg_error_set(err, MG_ERROR,
				    "ONNX Runtime %s does not offer C API version %d (it is %s)", tried,
				    ORT_API_VERSION, base->GetVersionString());
	}
	const OrtApi *api = e->api;
	int rc = status_err(api, api->CreateEnv(ORT_LOGGING_LEVEL_ERROR, "modelgate", &e->env), err,
			    MG_ERROR, "onnxruntime CreateEnv");
	if (!rc)
		rc = status_err(api, api->CreateCpuMemoryInfo(OrtArenaAllocator, OrtMemTypeDefault, &e->mem),
				err, MG_ERROR, "onnxruntime CreateCpuMemoryInfo");
	if (!rc)
		rc = status_err(api, api->GetAllocatorWithDefaultOptions(&e->alloc), err, MG_ERROR,
				"onnxruntime GetAllocatorWithDefaultOptions");
	if (rc) {
		ort_close(e);
		return rc;
	}
	*out = e;
	return 0;
}

static const char *ort_version(const mg_engine *e)
{
	return e->version;
}

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; names && i < n; i++)
		free(names[i]);
	free(names);
}

static void unbind(mg_engine_model *m)
{
	const OrtApi *api = m->e->api;
	for (size_t i = 0; i < m->nbind; i++)
		if (m->bind_vals[i])
			api->ReleaseValue(m->bind_vals[i]);
	free(m->bind_vals);
	free(m->bind_names);
	m->bind_vals = NULL;
	m->bind_names = NULL;
	m->nbind = 0;
}

static void release_outputs(mg_engine_model *m)
{
	for (size_t i = 0; m->outs && i < m->nout; i++) {
		if (m->outs[i])
			m->e->api->ReleaseValue(m->outs[i]);
		m->outs[i] = NULL;
	}
}

static void ort_unload(mg_engine_model *m)
{
	if (!m)
		return;
	unbind(m);
	release_outputs(m);
	free(m->outs);
	if (m->session)
		m->e->api->ReleaseSession(m->session);
	free_names(m->in_names, m->nin);
	free_names(m->out_names, m->nout);
	free(m->in_io);
	free(m->out_io);
	free(m);
}

/* Copies the session's input (or output) names. */
static int get_names(mg_engine_model *m, int outputs, mg_error *err)
{
	const OrtApi *api = m->e->api;
	size_t n;
	OrtStatus *st = outputs ? api->SessionGetOutputCount(m->session, &n)
				: api->SessionGetInputCount(m->session, &n);
	int rc = status_err(api, st, err, MG_EINVAL, "onnxruntime");
	if (rc)
		return rc;
	char **names = calloc(n ? n : 1, sizeof(*names));
	if (!names)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	if (outputs)
		m->out_names = names, m->nout = n;
	else
		m->in_names = names, m->nin = n;
	for (size_t i = 0; i < n; i++) {
		char *s = NULL;
		st = outputs ? api->SessionGetOutputName(m->session, i, m->e->alloc, &s)
			     : api->SessionGetInputName(m->session, i, m->e->alloc, &s);
		if ((rc = status_err(api, st, err, MG_EINVAL, "onnxruntime")))
			return rc;
		names[i] = strdup(s);
		OrtStatus *fst = api->AllocatorFree(m->e->alloc, s);
		if (fst)
			api->ReleaseStatus(fst);
		if (!names[i])
			return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	return 0;
}

/* Fills the model's input (or output) descriptions; names must be read. */
static int get_io(mg_engine_model *m, int outputs, mg_error *err)
{
	const OrtApi *api = m->e->api;
	size_t n = outputs ? m->nout : m->nin;
	char **names = outputs ? m->out_names : m->in_names;
	mg_engine_io *io = calloc(n ? n : 1, sizeof(*io));
	if (!io)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	if (outputs)
		m->out_io = io;
	else
		m->in_io = io;
	for (size_t i = 0; i < n; i++) {
		io[i].name = names[i];
		OrtTypeInfo *ti = NULL;
		OrtStatus *st = outputs ? api->SessionGetOutputTypeInfo(m->session, i, &ti)
					: api->SessionGetInputTypeInfo(m->session, i, &ti);
		int rc = status_err(api, st, err, MG_EINVAL, "onnxruntime");
		const OrtTensorTypeAndShapeInfo *tsi = NULL;
		if (!rc && (st = api->CastTypeInfoToTensorInfo(ti, &tsi)))
			api->ReleaseStatus(st), tsi = NULL;
		ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
		size_t rank = 0;
		if (!rc && tsi)
			rc = status_err(api, api->GetTensorElementType(tsi, &type), err, MG_EINVAL, "onnxruntime");
		if (!rc && tsi)
			rc = status_err(api, api->GetDimensionsCount(tsi, &rank), err, MG_EINVAL, "onnxruntime");
		if (!rc && tsi && rank <= MG_TENSOR_MAX_RANK) {
			rc = status_err(api, api->GetDimensions(tsi, io[i].dims, rank), err, MG_EINVAL,
					"onnxruntime");
			io[i].dtype = (mg_dtype)type;
			io[i].rank = rank;
		}
		if (ti)
			api->ReleaseTypeInfo(ti);
		if (rc)
			return rc;
	}
	return 0;
}

static void ort_describe(const mg_engine_model *m, const mg_engine_io **in, size_t *nin,
			 const mg_engine_io **out, size_t *nout)
{
	*in = m->in_io;
	*nin = m->nin;
	*out = m->out_io;
	*nout = m->nout;
}

static int ort_load(mg_engine *e, const char *path, const mg_engine_opts *o, mg_engine_model **out,
		    mg_error *err)
{
	*out = NULL;
	const OrtApi *api = e->api;
	mg_engine_model *m = calloc(1, sizeof(*m));
	if (!m)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	m->e = e;
	OrtSessionOptions *so = NULL;
	int rc = status_err(api, api->CreateSessionOptions(&so), err, MG_ERROR, "onnxruntime");
	if (!rc && o->threads > 0)
		rc = status_err(api, api->SetIntraOpNumThreads(so, o->threads), err, MG_EINVAL,
				"onnxruntime: threads");
	if (!rc)
		rc = status_err(api, api->SetSessionGraphOptimizationLevel(so, (GraphOptimizationLevel)o->opt_level),
				err, MG_EINVAL, "onnxruntime: optimisation level");
	if (!rc && o->provider && *o->provider && strcmp(o->provider, "cpu") &&
	    strcmp(o->provider, "CPU"))
		rc = status_err(api, api->SessionOptionsAppendExecutionProvider(so, o->provider, NULL, NULL, 0),
				err, MG_EINVAL, "onnxruntime: execution provider");
	if (!rc)
		rc = status_err(api, api->CreateSession(e->env, path, so, &m->session), err, MG_EINVAL,
				"onnxruntime cannot load the model");
	if (so)
		api->ReleaseSessionOptions(so);
	if (!rc)
		rc = get_names(m, 0, err);
	if (!rc)
		rc = get_names(m, 1, err);
	if (!rc)
		rc = get_io(m, 0, err);
	if (!rc)
		rc = get_io(m, 1, err);
	if (!rc && !(m->outs = calloc(m->nout ? m->nout : 1, sizeof(*m->outs))))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	if (rc) {
		ort_unload(m);
		return rc;
	}
	*out = m;
	return 0;
}

static int ort_bind(mg_engine_model *m, mg_tensor *const *inputs, size_t n, mg_error *err)
{
	const OrtApi *api = m->e->api;
	unbind(m);
	m->bind_vals = calloc(n ? n : 1, sizeof(*m->bind_vals));
	m->bind_names = calloc(n ? n : 1, sizeof(*m->bind_names));
	if (!m->bind_vals || !m->bind_names)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	m->nbind = n;
	for (size_t i = 0; i < n; i++) {
		const mg_tensor *t = inputs[i];
		m->bind_names[i] = t->name;
		char what[300];
		snprintf(what, sizeof(what), "onnxruntime: input '%.200s'", t->name);
		int rc = status_err(api, api->CreateTensorWithDataAsOrtValue(
					    m->e->mem, t->data, t->nbytes, t->dims, t->rank,
					    (ONNXTensorElementDataType)t->dtype, &m->bind_vals[i]),
				    err, MG_EINVAL, what);
		if (rc)
			return rc;
	}
	return 0;
}

static int ort_run(mg_engine_model *m, uint64_t *ns, mg_error *err)
{
	const OrtApi *api = m->e->api;
	release_outputs(m);
	uint64_t t0 = mg_agent_now_ns();
	OrtStatus *st = api->Run(m->session, NULL, m->bind_names, (const OrtValue *const *)m->bind_vals,
				 m->nbind, (const char *const *)m->out_names, m->nout, m->outs);
	*ns = mg_agent_now_ns() - t0;
	return status_err(api, st, err, MG_EINVAL, "onnxruntime Run");
}

static int output_tensor(mg_engine_model *m, size_t i, mg_tensor **out, mg_error *err)
{
	const OrtApi *api = m->e->api;
	OrtValue *v = m->outs[i];
	int is_tensor = 0;
	OrtStatus *st = v ? api->IsTensor(v, &is_tensor) : NULL;
	if (st)
		api->ReleaseStatus(st);
	if (!v || st || !is_tensor)
		return mg_error_set(err, MG_EINVAL, "output '%s' is not a tensor (sequences, maps and "
						    "optionals are not supported)", m->out_names[i]);
	OrtTensorTypeAndShapeInfo *info = NULL;
	ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
	size_t rank = 0;
	int64_t dims[MG_TENSOR_MAX_RANK];
	int rc = status_err(api, api->GetTensorTypeAndShape(v, &info), err, MG_EINVAL, "onnxruntime");
	if (!rc)
		rc = status_err(api, api->GetTensorElementType(info, &type), err, MG_EINVAL, "onnxruntime");
	if (!rc)
		rc = status_err(api, api->GetDimensionsCount(info, &rank), err, MG_EINVAL, "onnxruntime");
	if (!rc && rank > MG_TENSOR_MAX_RANK)
		rc = mg_error_set(err, MG_EINVAL, "output '%s' has rank %zu", m->out_names[i], rank);
	if (!rc)
		rc = status_err(api, api->GetDimensions(info, dims, rank), err, MG_EINVAL, "onnxruntime");
	if (info)
		api->ReleaseTensorTypeAndShapeInfo(info);
	if (rc)
		return rc;
	if ((rc = mg_tensor_new(out, m->out_names[i], (mg_dtype)type, dims, rank, err)))
		return rc;
	void *data = NULL;
	if ((*out)->nbytes) {
		rc = status_err(api, api->GetTensorMutableData(v, &data), err, MG_EINVAL, "onnxruntime");
		if (!rc)
			memcpy((*out)->data, data, (*out)->nbytes);
	}
	if (rc) {
		mg_tensor_free(*out);
		*out = NULL;
	}
	return rc;
}

static int ort_outputs(mg_engine_model *m, mg_tensor ***out, size_t *n, mg_error *err)
{
	*out = calloc(m->nout ? m->nout : 1, sizeof(**out));
	*n = 0;
	if (!*out)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->nout; i++) {
		int rc = output_tensor(m, i, &(*out)[i], err);
		if (rc) {
			mg_tensors_free(*out, i);
			*out = NULL;
			return rc;
		}
	}
	*n = m->nout;
	return 0;
}

const mg_engine_ops mg_engine_onnxruntime = {
	.name = "onnxruntime",
	.format = "ONNX",
	.probe = ort_probe,
	.open = ort_open,
	.version = ort_version,
	.load = ort_load,
	.describe = ort_describe,
	.bind = ort_bind,
	.run = ort_run,
	.outputs = ort_outputs,
	.unload = ort_unload,
	.close = ort_close,
};
