/* engine_tflite: TensorFlow Lite flatbuffers (.tflite) through Arm NN 20.08,
 * reached through libmodelgate-tflite.so (engine_tflite_armnn.cpp, the C
 * ABI of engine_tflite_shim.h), loaded with dlopen like ONNX Runtime: the
 * library is $MODELGATE_TFLITE_LIB, else libmodelgate-tflite.so next to the
 * agent, else on the library path; it brings Arm NN in its armnn/ folder.
 *
 * The model file is read into memory and handed to the shim as bytes, so
 * that it can be rewritten first (fp16 weights folded, below). What Arm NN
 * refuses (an operator it lacks, several subgraphs) is MG_EINVAL with its
 * reason and the engine's version. Inputs are bound by pointer, never
 * copied; outputs live in the shim until copied out.
 *
 * Arm NN 20.08's CpuRef and CpuAcc backends take no thread count or
 * optimisation level: mg_engine_opts' threads and opt_level are ignored,
 * and a provider other than the default is refused. */
#include "runners/agent/engine.h"
#include "runners/agent/engine_tflite_shim.h"
#include "formats/tflite.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The shim's entry points, looked up by name. */
typedef struct shim {
	unsigned (*abi)(void);
	int (*open)(mg_tfl_rt **, char *, size_t);
	const char *(*version)(const mg_tfl_rt *);
	int (*load)(mg_tfl_rt *, const void *, size_t, mg_tfl_net **, char *, size_t);
	size_t (*count)(const mg_tfl_net *, int);
	const mg_tfl_io *(*io_at)(const mg_tfl_net *, int, size_t);
	void (*bind)(mg_tfl_net *, size_t, const void *);
	int (*run)(mg_tfl_net *, char *, size_t);
	const void *(*output)(const mg_tfl_net *, size_t);
	void (*unload)(mg_tfl_net *);
	void (*close)(mg_tfl_rt *);
} shim;

struct mg_engine {
	void *lib;
	shim f;
	mg_tfl_rt *rt;
};

struct mg_engine_model {
	mg_engine *e;
	mg_tfl_net *net;
	mg_engine_io *in_io, *out_io;
	size_t nin, nout;
};

/* A TFLite flatbuffer's file identifier (formats/tflite.c). */
static int tfl_probe(const unsigned char *head, size_t n)
{
	return mg_is_tflite(head, n) ? MG_PROBE_MAGIC : MG_PROBE_NO;
}

static void tfl_close(mg_engine *e)
{
	if (!e)
		return;
	if (e->rt)
		e->f.close(e->rt);
	/* the library stays loaded, as ONNX Runtime's: Arm NN's static
	 * objects and backends may still refer to it at exit */
	free(e);
}

static int tfl_open(mg_engine **out, mg_error *err)
{
	*out = NULL;
	mg_engine *e = calloc(1, sizeof(*e));
	if (!e)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	char tried[PATH_MAX + 128];
	e->lib = mg_agent_dlopen("libmodelgate-tflite.so", "MODELGATE_TFLITE_LIB", tried, sizeof(tried));
	if (!e->lib) {
		const char *why = dlerror();
		free(e);
		return mg_error_set(err, MG_ERROR, "cannot load the TFLite engine %s: %s", tried,
				    why ? why : "unknown error");
	}
	struct {
		const char *name;
		void **fn;
	} syms[] = {
		{"mg_tfl_abi", (void **)&e->f.abi},         {"mg_tfl_open", (void **)&e->f.open},
		{"mg_tfl_version", (void **)&e->f.version}, {"mg_tfl_load", (void **)&e->f.load},
		{"mg_tfl_count", (void **)&e->f.count},     {"mg_tfl_io_at", (void **)&e->f.io_at},
		{"mg_tfl_bind", (void **)&e->f.bind},       {"mg_tfl_run", (void **)&e->f.run},
		{"mg_tfl_output", (void **)&e->f.output},   {"mg_tfl_unload", (void **)&e->f.unload},
		{"mg_tfl_close", (void **)&e->f.close},
	};
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		if (!(*syms[i].fn = dlsym(e->lib, syms[i].name))) {
			free(e);
			return mg_error_set(err, MG_ERROR, "the TFLite engine %s has no '%s'", tried,
					    syms[i].name);
		}
	}
	if (e->f.abi() != MG_TFL_ABI) {
		unsigned abi = e->f.abi();
		free(e);
		return mg_error_set(err, MG_ERROR, "the TFLite engine %s has ABI %u, this agent %d", tried,
				    abi, MG_TFL_ABI);
	}
	char msg[1024] = "";
	if (e->f.open(&e->rt, msg, sizeof(msg))) {
		free(e);
		return mg_error_set(err, MG_ERROR, "%s", msg);
	}
	*out = e;
	return 0;
}

static const char *tfl_version(const mg_engine *e)
{
	return e->f.version(e->rt);
}

static void tfl_unload(mg_engine_model *m)
{
	if (!m)
		return;
	if (m->net)
		m->e->f.unload(m->net);
	free(m->in_io);
	free(m->out_io);
	free(m);
}

/* The shim's inputs (or outputs) as the agent's. */
static int get_io(mg_engine_model *m, int outputs, mg_error *err)
{
	const shim *f = &m->e->f;
	size_t n = f->count(m->net, outputs);
	mg_engine_io *io = calloc(n ? n : 1, sizeof(*io));
	if (!io)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		const mg_tfl_io *t = f->io_at(m->net, outputs, i);
		io[i].name = t->name;
		io[i].dtype = (mg_dtype)t->dtype;
		io[i].rank = t->rank;
		memcpy(io[i].dims, t->dims, t->rank * sizeof(t->dims[0]));
	}
	if (outputs)
		m->out_io = io, m->nout = n;
	else
		m->in_io = io, m->nin = n;
	return 0;
}

/* Every operator of the model that Arm NN 20.08 has no parser for, named
 * at once with its count (formats/tflite_ops.c), before Arm NN's parser
 * stops at the first of them; MG_EINVAL when there is one. A model the
 * table lets through may still be refused by Arm NN (a data type a
 * backend lacks), with its own words. */
static int refuse_unsupported(mg_engine *e, const mg_buf *model, mg_error *err)
{
	mg_model_info *info = NULL;
	mg_buf names = MG_BUF_INIT;
	int rc = mg_tflite_info_parse(&info, model->data, model->len, "the model", err);
	int n = rc ? 0 : mg_armnn_unsupported(info, &names, err);
	if (n < 0)
		rc = n;
	else if (n > 0)
		rc = mg_error_set(err, MG_EINVAL, "%s cannot run this model: %s not supported",
				  e->f.version(e->rt), mg_buf_cstr(&names));
	mg_buf_free(&names);
	mg_model_info_free(info);
	return rc;
}

static int tfl_load(mg_engine *e, const char *path, const mg_engine_opts *o, mg_engine_model **out,
		    mg_error *err)
{
	*out = NULL;
	if (o->provider && *o->provider && strcmp(o->provider, "cpu") && strcmp(o->provider, "CPU"))
		return mg_error_set(err, MG_EINVAL, "%s: no execution provider '%s' (the backend is "
						    "chosen by the machine)", e->f.version(e->rt), o->provider);
	mg_buf model = MG_BUF_INIT;
	int rc = mg_file_read(&model, path, MG_BUF_MAX, err);
	if (!rc)
		rc = refuse_unsupported(e, &model, err);
	if (rc) {
		mg_buf_free(&model);
		return rc;
	}
	/* fp16 weights, each through a DEQUANTIZE (MediaPipe's models), become
	 * fp32 constants (formats/tflite_fold.c) before Arm NN parses them:
	 * Arm NN 20.08 refuses them as they are ("Buffer #0 has 0 bytes") */
	uint8_t *folded = NULL;
	size_t folded_len = 0, nfolded = 0;
	rc = mg_tflite_fold_fp16(&folded, &folded_len, &nfolded, model.data, model.len, "the model", err);
	if (rc) {
		mg_buf_free(&model);
		return rc;
	}
	if (folded) {
		mg_buf_free(&model);
		model.data = (char *)folded;
		model.len = folded_len;
	}
	mg_engine_model *m = calloc(1, sizeof(*m));
	if (!m) {
		mg_buf_free(&model);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	m->e = e;
	char msg[1024] = "";
	rc = e->f.load(e->rt, model.data, model.len, &m->net, msg, sizeof(msg));
	mg_buf_free(&model);
	if (rc)
		rc = mg_error_set(err, rc == MG_TFL_EMODEL ? MG_EINVAL : MG_ERROR, "%s", msg);
	if (!rc)
		rc = get_io(m, 0, err);
	if (!rc)
		rc = get_io(m, 1, err);
	if (rc) {
		tfl_unload(m);
		return rc;
	}
	*out = m;
	return 0;
}

static void tfl_describe(const mg_engine_model *m, const mg_engine_io **in, size_t *nin,
			 const mg_engine_io **out, size_t *nout)
{
	*in = m->in_io;
	*nin = m->nin;
	*out = m->out_io;
	*nout = m->nout;
}

static int tfl_bind(mg_engine_model *m, mg_tensor *const *inputs, size_t n, mg_error *err)
{
	const shim *f = &m->e->f;
	for (size_t i = 0; i < m->nin; i++)
		f->bind(m->net, i, NULL);
	for (size_t k = 0; k < n; k++) {
		const mg_tensor *t = inputs[k];
		size_t i = 0;
		while (i < m->nin && strcmp(m->in_io[i].name, t->name))
			i++;
		if (i == m->nin)
			return mg_error_set(err, MG_EINVAL, "the model has no input '%s'", t->name);
		const mg_tfl_io *io = f->io_at(m->net, 0, i);
		char want[128], got[128];
		mg_shape_format(want, sizeof(want), io->dims, io->rank);
		mg_shape_format(got, sizeof(got), t->dims, t->rank);
		if ((int)t->dtype != io->dtype || t->nbytes != io->nbytes || strcmp(want, got))
			return mg_error_set(err, MG_EINVAL, "input '%s' is %s %s; the model wants %s %s",
					    t->name, mg_dtype_name(t->dtype), got,
					    mg_dtype_name((mg_dtype)io->dtype), want);
		f->bind(m->net, i, t->data);
	}
	return 0;
}

static int tfl_run(mg_engine_model *m, uint64_t *ns, mg_error *err)
{
	char msg[1024] = "";
	uint64_t t0 = mg_agent_now_ns();
	int rc = m->e->f.run(m->net, msg, sizeof(msg));
	*ns = mg_agent_now_ns() - t0;
	return rc ? mg_error_set(err, rc == MG_TFL_EMODEL ? MG_EINVAL : MG_ERROR, "%s", msg) : 0;
}

static int tfl_outputs(mg_engine_model *m, mg_tensor ***out, size_t *n, mg_error *err)
{
	const shim *f = &m->e->f;
	*out = calloc(m->nout ? m->nout : 1, sizeof(**out));
	*n = 0;
	if (!*out)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < m->nout; i++) {
		const mg_tfl_io *io = f->io_at(m->net, 1, i);
		int rc = mg_tensor_new(&(*out)[i], io->name, (mg_dtype)io->dtype, io->dims, io->rank, err);
		if (!rc && (*out)[i]->nbytes != io->nbytes)
			rc = mg_error_set(err, MG_EINVAL, "output '%s' has a type this agent cannot hold",
					  io->name);
		if (rc) {
			mg_tensors_free(*out, i + 1);
			*out = NULL;
			return rc;
		}
		memcpy((*out)[i]->data, f->output(m->net, i), io->nbytes);
	}
	*n = m->nout;
	return 0;
}

const mg_engine_ops mg_engine_tflite = {
	.name = "tflite",
	.format = "TFLite",
	.probe = tfl_probe,
	.open = tfl_open,
	.version = tfl_version,
	.load = tfl_load,
	.describe = tfl_describe,
	.bind = tfl_bind,
	.run = tfl_run,
	.outputs = tfl_outputs,
	.unload = tfl_unload,
	.close = tfl_close,
};
