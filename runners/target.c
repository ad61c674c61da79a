/* target: the host side of the agent protocol. Starts a transport, says
 * hello, sends models by digest only when the agent lacks them, loads and
 * runs them, and turns every failure of the target (agent killed, ssh
 * dropped, no answer within the timeout) into MG_ENET with a message that
 * names the target and says how its agent ended. After such a failure the
 * target is dead: later calls fail at once.
 *
 * Nothing waits that need not: HELLO goes out as soon as the agent is
 * started and its answer is read only with the next reply (mg_target_start),
 * so the agent loads its engine while the host reads inputs and hashes the
 * model; HAVE and LOAD go out together, so a model the agent has costs one
 * round trip. */
#include "runners/runners.h"

#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "formats/model_info.h"
#include "runners/cost.h"
#include "runners/protocol.h"
#include "runners/transport.h"

#define DEFAULT_TIMEOUT_MS 120000

struct mg_target {
	mg_transport tp;
	mg_target_info info;
	char *spec;
	char kind[16], arch[64], engine[64], engine_version[64];
	char hello_engine[32]; /* asked for at hello; "" for the default */
	mg_sysinfo sys;
	int timeout_ms;
	int dead;
	int hello_pending; /* HELLO sent, its answer not read yet */
	mg_buf out, in;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* After a transport failure: ends the agent and says how, keeping the
 * reason (no answer, connection closed). */
static int target_died(mg_target *t, mg_error *err)
{
	char why[512] = "", status[128] = "", last[512] = "";
	if (err)
		snprintf(why, sizeof(why), "%.500s", err->msg);
	/* strip the "target 'x': " the protocol layer put in front */
	const char *reason = why;
	const char *p = strstr(why, "': ");
	if (!strncmp(why, "target '", 8) && p)
		reason = p + 3;
	mg_transport_finish(&t->tp, 2000, status, sizeof(status));
	mg_transport_last_error(&t->tp, last, sizeof(last));
	t->dead = 1;
	/* the dynamic loader's "version `GLIBC_2.34' not found": a device older
	 * than what the agent and its engines are built for */
	const char *old_libc = strstr(last, "`GLIBC_") && strstr(last, "not found")
				       ? "; the device's C library (glibc) is older than the agent and its "
					 "engines need (glibc 2.34 or newer: Debian 12, Ubuntu 22.04)"
				       : "";
	return mg_error_set(err, MG_ENET, "target '%s': %s; the agent %s%s%s%s", t->spec, reason,
			    status[0] ? status : "is gone", last[0] ? "; it said: " : "", last, old_libc);
}

static int send_frame(mg_target *t, int timeout, mg_error *err)
{
	char peer[300];
	snprintf(peer, sizeof(peer), "target '%s'", t->spec);
	int rc = mg_proto_write(t->tp.fd, t->out.data, t->out.len, timeout, peer, err);
	return rc ? target_died(t, err) : 0;
}

/* Reads a reply into t->in. An ERROR reply becomes its code and message
 * (prefixed with the target); a reply of another type than want (or OK)
 * is a protocol error. */
static int read_reply(mg_target *t, int want, int timeout, mg_proto_r *r, mg_error *err)
{
	char peer[300];
	snprintf(peer, sizeof(peer), "target '%s'", t->spec);
	int type;
	if (mg_proto_read_frame(t->tp.fd, &t->in, &type, timeout, peer, err))
		return target_died(t, err);
	mg_proto_r_init(r, t->in.data, t->in.len);
	if (type == MG_MSG_ERROR) {
		int code = (int)mg_proto_get_u32(r);
		char msg[900];
		mg_proto_get_str(r, msg, sizeof(msg));
		if (code >= 0 || code < MG_ENET)
			code = MG_ERROR;
		return mg_error_set(err, code, "target '%s': %s", t->spec, msg);
	}
	if (type != want && type != MG_MSG_OK) {
		mg_error_set(err, MG_ENET, "target '%s': unexpected reply type %d", t->spec, type);
		return target_died(t, err);
	}
	return 0;
}

static int finish_hello(mg_target *t, mg_error *err);

/* Sends the frame in t->out and reads the reply into t->in (after the
 * answer to a pending HELLO). */
static int request(mg_target *t, int want, int extra_timeout_ms, mg_proto_r *r, mg_error *err)
{
	if (t->dead)
		return mg_error_set(err, MG_ENET, "target '%s' is not running", t->spec);
	int timeout = t->timeout_ms + extra_timeout_ms;
	int rc = send_frame(t, timeout, err);
	if (!rc)
		rc = finish_hello(t, err);
	return rc ? rc : read_reply(t, want, timeout, r, err);
}

static int reply_done(mg_target *t, mg_proto_r *r, const char *what, mg_error *err)
{
	char w[300];
	snprintf(w, sizeof(w), "target '%s': %s reply", t->spec, what);
	int rc = mg_proto_r_done(r, w, err);
	return rc ? target_died(t, err) : 0;
}

static int send_hello(mg_target *t, mg_error *err)
{
	mg_proto_w w;
	mg_proto_begin(&w, &t->out, MG_MSG_HELLO, err);
	mg_proto_u32(&w, MG_PROTO_VERSION);
	mg_proto_str(&w, t->hello_engine);
	int rc = mg_proto_end(&w);
	if (!rc)
		rc = send_frame(t, t->timeout_ms, err);
	t->hello_pending = !rc;
	return rc;
}

/* Reads the answer to HELLO, if it is pending. */
static int finish_hello(mg_target *t, mg_error *err)
{
	if (!t->hello_pending)
		return 0;
	t->hello_pending = 0;
	mg_proto_r r;
	int rc = read_reply(t, MG_MSG_HELLO, t->timeout_ms, &r, err);
	if (rc) { /* a refused hello (no engine library) is the target's fault */
		if (rc != MG_ENET && err)
			err->code = MG_ERROR;
		if (rc != MG_ENET)
			t->dead = 1; /* the agent serves nothing without an engine */
		return rc == MG_ENET ? rc : MG_ERROR;
	}
	uint32_t version = mg_proto_get_u32(&r);
	mg_proto_get_str(&r, t->engine, sizeof(t->engine));
	mg_proto_get_str(&r, t->engine_version, sizeof(t->engine_version));
	mg_proto_get_str(&r, t->arch, sizeof(t->arch));
	mg_sysinfo *si = &t->sys;
	mg_proto_get_str(&r, si->cpu_model, sizeof(si->cpu_model));
	si->ncpu = mg_proto_get_u32(&r);
	mg_proto_get_str(&r, si->governor, sizeof(si->governor));
	mg_proto_get_str(&r, si->affinity, sizeof(si->affinity));
	uint64_t load = mg_proto_get_u64(&r);
	si->loadavg1 = load == UINT64_MAX ? NAN : (double)load / 1000;
	mg_proto_get_str(&r, si->kernel, sizeof(si->kernel));
	if ((rc = reply_done(t, &r, "HELLO", err)))
		return rc;
	if (version != MG_PROTO_VERSION) {
		t->dead = 1;
		return mg_error_set(err, MG_ERROR, "target '%s': the agent speaks protocol %u, not %d",
				    t->spec, version, MG_PROTO_VERSION);
	}
	return 0;
}

int mg_target_spec_parse(mg_target_spec *out, const char *spec, mg_error *err)
{
	static const struct {
		const char *prefix;
		mg_target_kind kind;
	} forms[] = {{"qemu-", MG_TARGET_QEMU}, {"ssh://", MG_TARGET_SSH}, {"exec:", MG_TARGET_EXEC}};
	if (!strcmp(spec, "local")) {
		*out = (mg_target_spec){MG_TARGET_LOCAL, spec + 5};
		return 0;
	}
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		size_t n = strlen(forms[i].prefix);
		if (strncmp(spec, forms[i].prefix, n))
			continue;
		*out = (mg_target_spec){forms[i].kind, spec + n};
		if (!spec[n])
			return mg_error_set(err, MG_EINVAL, "target '%s' names no %s", spec,
					    forms[i].kind == MG_TARGET_EXEC ? "command" : forms[i].kind == MG_TARGET_SSH ? "host" : "machine");
		if (forms[i].kind == MG_TARGET_QEMU && strcmp(spec + n, "aarch64"))
			return mg_error_set(err, MG_EINVAL, "target '%s': only qemu-aarch64 is supported", spec);
		return 0;
	}
	return mg_error_set(err, MG_EINVAL, "unknown target '%s' (expected %s)", spec, MG_TARGET_GRAMMAR);
}

void mg_target_arg(const char *arg, const char **spec, size_t *name_len)
{
	const char *eq = strchr(arg, '=');
	mg_target_spec ts;
	*spec = arg;
	*name_len = 0;
	if (eq && eq > arg && mg_target_spec_parse(&ts, arg, NULL)) {
		*spec = eq + 1;
		*name_len = (size_t)(eq - arg);
	}
}

int mg_target_start(mg_target **out, const char *spec, const mg_target_opts *opts,
		    mg_error *err)
{
	*out = NULL;
	mg_target_opts defaults = MG_TARGET_OPTS_INIT;
	const mg_target_opts *o = opts ? opts : &defaults;
	mg_target *t = calloc(1, sizeof(*t));
	if (!t || !(t->spec = strdup(spec))) {
		free(t);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	t->tp.fd = t->tp.errfd = -1;
	t->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	snprintf(t->hello_engine, sizeof(t->hello_engine), "%s", o->engine ? o->engine : "");
	static const char *const kinds[] = {"local", "qemu", "ssh", "exec"};
	mg_target_spec ts;
	int rc = mg_target_spec_parse(&ts, spec, err);
	if (!rc) {
		snprintf(t->kind, sizeof(t->kind), "%s", kinds[ts.kind]);
		switch (ts.kind) {
		case MG_TARGET_LOCAL:
			rc = mg_transport_local(&t->tp, o, err);
			break;
		case MG_TARGET_QEMU:
			rc = mg_transport_qemu(&t->tp, ts.arg, o, err);
			break;
		case MG_TARGET_SSH:
			rc = mg_transport_ssh(&t->tp, ts.arg, o, t->timeout_ms, err);
			break;
		case MG_TARGET_EXEC:
			rc = mg_transport_exec(&t->tp, ts.arg, o, t->timeout_ms, err);
			break;
		}
	}
	if (rc && err && strncmp(err->msg, "target '", 8) && strncmp(err->msg, "unknown target", 14)) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%.900s", err->msg);
		mg_error_set(err, rc, "target '%s': %s", spec, why);
	}
	if (!rc)
		rc = send_hello(t, err);
	if (rc) {
		mg_target_free(t);
		return rc;
	}
	t->info.spec = t->spec;
	t->info.kind = t->kind;
	t->info.arch = t->arch;
	t->info.engine = t->engine;
	t->info.engine_version = t->engine_version;
	t->info.emulated = t->tp.emulated;
	t->info.bytes_uploaded = t->tp.bytes_uploaded;
	t->info.sys = &t->sys;
	*out = t;
	return 0;
}

const char *mg_engine_for_model(const char *path)
{
	unsigned char head[8];
	int fd = path ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = fd >= 0 ? read(fd, head, sizeof(head)) : -1;
	if (fd >= 0)
		close(fd);
	return n == (ssize_t)sizeof(head) && mg_is_tflite(head, sizeof(head)) ? "tflite" : NULL;
}

int mg_target_open(mg_target **out, const char *spec, const mg_target_opts *opts, mg_error *err)
{
	int rc = mg_target_start(out, spec, opts, err);
	if (!rc && (rc = finish_hello(*out, err))) {
		mg_target_free(*out);
		*out = NULL;
	}
	return rc;
}

const mg_target_info *mg_target_get_info(const mg_target *t)
{
	return &t->info;
}

void mg_target_free(mg_target *t)
{
	if (!t)
		return;
	if (!t->dead && t->tp.pid > 0) {
		mg_proto_w w;
		mg_proto_r r;
		mg_error ignored;
		t->timeout_ms = 2000;
		mg_proto_begin(&w, &t->out, MG_MSG_BYE, &ignored);
		if (!mg_proto_end(&w))
			request(t, MG_MSG_OK, 0, &r, &ignored);
	}
	mg_transport_finish(&t->tp, 5000, NULL, 0);
	if (t->tp.errfd >= 0)
		close(t->tp.errfd);
	mg_buf_free(&t->out);
	mg_buf_free(&t->in);
	free(t->spec);
	free(t);
}

/* Sends the file as PUT chunks; the agent verifies the digest. */
static int put_blob(mg_target *t, int fd, const char *path, const mg_model *m, mg_error *err)
{
	uint64_t off = 0;
	int rc = 0;
	char *chunk = malloc(MG_PUT_CHUNK);
	if (!chunk)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	do {
		size_t want = m->size - off < MG_PUT_CHUNK ? (size_t)(m->size - off) : MG_PUT_CHUNK;
		ssize_t n = pread(fd, chunk, want, (off_t)off);
		if (n < 0 || (size_t)n != want) {
			rc = mg_error_sys(err, MG_EIO, n < 0 ? errno : EIO, "cannot read '%s'", path);
			break;
		}
		mg_proto_w w;
		mg_proto_begin(&w, &t->out, MG_MSG_PUT, err);
		mg_proto_str(&w, m->digest);
		mg_proto_u64(&w, m->size);
		mg_proto_u64(&w, off);
		mg_proto_bytes(&w, chunk, want);
		if ((rc = mg_proto_end(&w)))
			break;
		off += want;
		if (off < m->size) { /* no reply until the last chunk */
			char peer[300];
			snprintf(peer, sizeof(peer), "target '%s'", t->spec);
			rc = mg_proto_write(t->tp.fd, t->out.data, t->out.len, t->timeout_ms, peer, err);
			if (rc)
				rc = target_died(t, err);
		} else {
			mg_proto_r r;
			rc = request(t, MG_MSG_OK, 0, &r, err);
		}
	} while (!rc && off < m->size);
	free(chunk);
	return rc;
}

static void begin_load(mg_target *t, const mg_model *m, const mg_load_opts *o, mg_error *err)
{
	mg_proto_w w;
	mg_proto_begin(&w, &t->out, MG_MSG_LOAD, err);
	mg_proto_str(&w, m->digest);
	mg_proto_u32(&w, (uint32_t)(o->threads > 0 ? o->threads : 0));
	mg_proto_u32(&w, (uint32_t)o->opt_level);
	mg_proto_str(&w, o->provider ? o->provider : "");
	mg_proto_end(&w);
}

/* Sends the model when the agent lacks it, and loads it. HAVE and LOAD go
 * out together: when the agent has the model (the usual case) the LOAD
 * answer follows at once; else that LOAD fails (not in the cache), the
 * model is sent, and LOAD goes again. */
static int send_and_load(mg_target *t, int fd, const char *path, const mg_load_opts *o,
			 mg_model *out, mg_error *err)
{
	mg_proto_w w;
	mg_proto_r r;
	mg_proto_begin(&w, &t->out, MG_MSG_HAVE, err);
	mg_proto_str(&w, out->digest);
	int rc = mg_proto_end(&w);
	if (!rc && !(rc = send_frame(t, t->timeout_ms, err))) {
		begin_load(t, out, o, err);
		rc = send_frame(t, t->timeout_ms, err);
	}
	if (!rc)
		rc = finish_hello(t, err);
	if (!rc)
		rc = read_reply(t, MG_MSG_HAVE, t->timeout_ms, &r, err);
	int have = rc ? 0 : mg_proto_get_u8(&r);
	if (!rc)
		rc = reply_done(t, &r, "HAVE", err);
	if (rc)
		return rc;
	mg_error lerr = {0};
	int lrc = read_reply(t, MG_MSG_LOAD, t->timeout_ms, &r, &lerr);
	if (lrc == MG_ENET || (have && lrc)) {
		if (err)
			*err = lerr;
		return lrc;
	}
	if (lrc) { /* the agent lacked the model, as it said */
		if ((rc = put_blob(t, fd, path, out, err)))
			return rc;
		out->bytes_sent = out->size;
		begin_load(t, out, o, err);
		if ((rc = request(t, MG_MSG_LOAD, 0, &r, err)))
			return rc;
	}
	out->handle = mg_proto_get_u32(&r);
	out->load_ns = mg_proto_get_u64(&r);
	/* the target's engine is the one of the model loaded last */
	mg_proto_get_str(&r, t->engine, sizeof(t->engine));
	mg_proto_get_str(&r, t->engine_version, sizeof(t->engine_version));
	return reply_done(t, &r, "LOAD", err);
}

int mg_target_load(mg_target *t, const char *path, const mg_load_opts *opts, mg_model *out,
		   mg_error *err)
{
	mg_load_opts defaults = MG_LOAD_OPTS_INIT;
	const mg_load_opts *o = opts ? opts : &defaults;
	memset(out, 0, sizeof(*out));
	if (t->dead)
		return mg_error_set(err, MG_ENET, "target '%s' is not running", t->spec);
	/* threads are bounded by the CPUs the agent reported at hello (more
	 * would only contend, and an engine allocates per thread) */
	int rc = o->threads > 0 ? finish_hello(t, err) : 0;
	if (rc)
		return rc;
	if (o->threads > 0 && t->sys.ncpu && (unsigned)o->threads > t->sys.ncpu)
		return mg_error_set(err, MG_EINVAL, "threads %d is more than the %u CPUs of target '%s'", o->threads,
				    t->sys.ncpu, t->spec);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EIO, errno,
				    "cannot read '%s'", path);
	/* while the agent (just started, perhaps) loads its engine */
	int cached = 0;
	rc = mg_file_digest(fd, path, out->digest, &out->size, &cached, err);
	if (!rc)
		rc = send_and_load(t, fd, path, o, out, err);
	if (rc == MG_ECORRUPT && cached && !t->dead) {
		/* the agent refused the remembered digest: hash the file again */
		mg_file_digest_forget(fd);
		mg_error_clear(err);
		memset(out, 0, sizeof(*out));
		if (lseek(fd, 0, SEEK_SET) < 0)
			rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", path);
		else if (!(rc = mg_file_digest(fd, path, out->digest, &out->size, &cached, err)))
			rc = send_and_load(t, fd, path, o, out, err);
	}
	close(fd);
	if (rc == MG_EINVAL && err) { /* the engine refused the model: name it */
		char why[sizeof(err->msg)];
		const char *p = strstr(err->msg, "': ");
		snprintf(why, sizeof(why), "%s", p ? p + 3 : err->msg);
		return mg_error_set(err, MG_EINVAL, "cannot load '%s' on target '%s': %s", path, t->spec,
				    why);
	}
	return rc;
}

int mg_target_unload(mg_target *t, const mg_model *m, mg_error *err)
{
	mg_proto_w w;
	mg_proto_r r;
	mg_proto_begin(&w, &t->out, MG_MSG_UNLOAD, err);
	mg_proto_u32(&w, m->handle);
	int rc = mg_proto_end(&w);
	return rc ? rc : request(t, MG_MSG_OK, 0, &r, err);
}

void mg_run_result_clear(mg_run_result *r)
{
	free(r->samples);
	mg_tensors_free(r->outputs, r->noutputs);
	memset(r, 0, sizeof(*r));
}

int mg_target_run(mg_target *t, const mg_model *m, mg_tensor *const *inputs, size_t ninputs,
		  const mg_run_opts *opts, mg_run_result *out, mg_error *err)
{
	mg_run_opts defaults = MG_RUN_OPTS_INIT;
	const mg_run_opts *o = opts ? opts : &defaults;
	memset(out, 0, sizeof(*out));
	mg_proto_w w;
	mg_proto_r r;
	mg_proto_begin(&w, &t->out, MG_MSG_RUN, err);
	mg_proto_u32(&w, m->handle);
	mg_proto_u32(&w, o->warmup);
	mg_proto_u32(&w, o->iterations);
	mg_proto_u64(&w, o->min_time_ns);
	mg_proto_u32(&w, o->max_iterations);
	mg_proto_u8(&w, (uint8_t)(o->want_outputs != 0));
	mg_proto_u32(&w, (uint32_t)ninputs);
	for (size_t i = 0; i < ninputs; i++)
		mg_proto_tensor(&w, inputs[i]);
	int rc = mg_proto_end(&w);
	uint64_t t0 = now_ns();
	/* the measuring itself may take min_time, twice over to be safe */
	uint64_t extra = o->min_time_ns / 500000;
	if (!rc)
		rc = request(t, MG_MSG_RUN, extra > 86400000 ? 86400000 : (int)extra, &r, err);
	if (rc)
		return rc;
	out->wall_ns = now_ns() - t0;
	out->first_ns = mg_proto_get_u64(&r);
	uint32_t n = mg_proto_get_u32(&r);
	if (n > (r.len - r.pos) / 8) {
		mg_error_set(err, MG_ENET, "target '%s': RUN reply: truncated samples", t->spec);
		return target_died(t, err);
	}
	out->samples = malloc((n ? n : 1) * sizeof(*out->samples));
	if (!out->samples)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	out->nsamples = n;
	for (uint32_t i = 0; i < n; i++)
		out->samples[i] = mg_proto_get_u64(&r);
	uint32_t nout = mg_proto_get_u32(&r);
	if (nout > (r.len - r.pos) / 16) {
		mg_error_set(err, MG_ENET, "target '%s': RUN reply: truncated outputs", t->spec);
		mg_run_result_clear(out);
		return target_died(t, err);
	}
	out->outputs = calloc(nout ? nout : 1, sizeof(*out->outputs));
	if (!out->outputs) {
		mg_run_result_clear(out);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	char what[300];
	snprintf(what, sizeof(what), "target '%s': RUN reply", t->spec);
	for (uint32_t i = 0; !rc && i < nout; i++) {
		rc = mg_proto_get_tensor(&r, &out->outputs[i], what, err);
		if (!rc)
			out->noutputs++;
	}
	if (!rc)
		rc = reply_done(t, &r, "RUN", err);
	if (rc) {
		mg_run_result_clear(out);
		return rc == MG_ENET ? rc : target_died(t, err);
	}
	return 0;
}

int mg_target_stats(mg_target *t, mg_agent_stats *out, mg_error *err)
{
	memset(out, 0, sizeof(*out));
	mg_proto_w w;
	mg_proto_r r;
	mg_proto_begin(&w, &t->out, MG_MSG_STATS, err);
	int rc = mg_proto_end(&w);
	if (!rc)
		rc = request(t, MG_MSG_STATS, 0, &r, err);
	if (rc)
		return rc;
	out->peak_rss = mg_proto_get_u64(&r);
	out->bytes_in = mg_proto_get_u64(&r);
	out->bytes_put = mg_proto_get_u64(&r);
	out->models = mg_proto_get_u32(&r);
	return reply_done(t, &r, "STATS", err);
}

int mg_target_cost(mg_target *t, const mg_model *m, mg_tensor *const *inputs, size_t ninputs,
		   uint32_t warmup, uint32_t runs, mg_cost_result *out, mg_error *err)
{
	memset(out, 0, sizeof(*out));
	mg_proto_w w;
	mg_proto_r r;
	mg_proto_begin(&w, &t->out, MG_MSG_COST, err);
	mg_proto_u32(&w, m->handle);
	mg_proto_u32(&w, warmup);
	mg_proto_u32(&w, runs);
	mg_proto_u32(&w, (uint32_t)ninputs);
	for (size_t i = 0; i < ninputs; i++)
		mg_proto_tensor(&w, inputs[i]);
	int rc = mg_proto_end(&w);
	if (!rc) /* callgrind runs tens of times slower than the CPU */
		rc = request(t, MG_MSG_COST, 10 * t->timeout_ms, &r, err);
	if (rc)
		return rc;
	uint64_t count = mg_proto_get_u64(&r);
	out->runs = mg_proto_get_u32(&r);
	mg_proto_get_str(&r, out->backend, sizeof(out->backend));
	mg_proto_get_str(&r, out->backend_version, sizeof(out->backend_version));
	uint64_t mem = mg_proto_get_u64(&r), miss = mg_proto_get_u64(&r);
	if ((rc = reply_done(t, &r, "COST", err)))
		return rc;
	double n = out->runs ? out->runs : NAN;
	out->instructions = out->runs ? (double)count / n : 0;
	out->mem_accesses = mem == MG_COST_NA ? NAN : (double)mem / n;
	out->cache_misses = miss == MG_COST_NA ? NAN : (double)miss / n;
	return 0;
}
