/* modelgate-agent: runs on the target, speaks the protocol of
 * runners/protocol.h on stdin/stdout, and runs models with an engine
 * (engine.h). It links libc (and libdl) only, so it cross-builds for any
 * Linux device and is copied there as one file next to the engine library.
 *
 * Blobs (models) are cached by digest under $MODELGATE_AGENT_CACHE, else
 * $XDG_CACHE_HOME/modelgate-agent, else ~/.cache/modelgate-agent, in
 * blobs/<hex>: written to a temporary file, verified with SHA-256, then
 * renamed into place. A cached blob is re-hashed before it is reported
 * present, so a damaged cache costs a re-send, never a wrong answer; once
 * per agent process, and not again while its stat data (device, inode,
 * size, mtime, ctime) match what blobs/<hex>.ok recorded when it last
 * hashed right: any write to the blob changes its ctime. (This agent's
 * portable SHA-256 does about 300 MB/s, which a large model would
 * otherwise pay at every start.) The cache is kept within
 * $MODELGATE_AGENT_CACHE_MAX (evict.c): least recently used blobs go first.
 *
 * The engine of each model is chosen by the model's format (engines.c):
 * the one a hello reports (the one the host names in it, else
 * $MODELGATE_ENGINE's, else the first) opens at hello, any other when a
 * model of its format loads. The agent calls
 * engines through their tables (engine.h) only.
 *
 * stdout is kept for frames only: the agent moves it to a private
 * descriptor and points fd 1 at stderr, so anything a library prints cannot
 * corrupt the stream. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "runners/agent/counter.h"
#include "runners/agent/engine.h"
#include "runners/agent/evict.h"
#include "runners/agent/sha256.h"
#include "runners/protocol.h"
#include "runners/sysinfo.h"

#ifndef MG_VERSION
#define MG_VERSION "0"
#endif

/* Upper bounds that keep a confused host from exhausting the target. */
#define MAX_BLOB ((uint64_t)64 << 30)
#define MAX_SAMPLES ((uint32_t)10000000)
#define MAX_MODELS 1024
#define MAX_INPUTS 4096

typedef struct model {
	const mg_engine_ops *ops; /* the engine that loaded m */
	mg_engine_model *m;
	uint64_t first_ns; /* the model's first inference, 0 before it */
} model;

typedef struct agent {
	int in, out;
	size_t hello_engine;                       /* the index of the one a hello reports */
	mg_engine *engines[MG_AGENT_MAX_ENGINES]; /* by index in engines.c; NULL: not open */
	char cache[PATH_MAX];
	char blobs[PATH_MAX + 8]; /* cache/blobs */
	uint64_t cache_max; /* bytes of blobs kept at most; 0: no limit */
	/* the PUT in progress */
	int put_fd;
	char *put_tmp;
	char put_digest[MG_DIGEST_SIZE];
	uint64_t put_total, put_off;
	mg_sha256 put_hash;
	model models[MAX_MODELS]; /* handle = index + 1; m == NULL: free slot */
	char (*verified)[MG_DIGEST_SIZE];
	size_t nverified;
	uint64_t bytes_in, bytes_put;
	mg_agent_counter counter; /* opened at the first COST */
	mg_buf reply;
} agent;

static int digest_valid(const char *d)
{
	if (strncmp(d, "sha256:", 7) || strlen(d) != 71)
		return 0;
	for (int i = 7; i < 71; i++)
		if (!((d[i] >= '0' && d[i] <= '9') || (d[i] >= 'a' && d[i] <= 'f')))
			return 0;
	return 1;
}

static void blob_path(const agent *a, const char *digest, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s/%.64s", a->blobs, digest + 7);
}

static int cache_init(agent *a, mg_error *err)
{
	const char *env = getenv("MODELGATE_AGENT_CACHE");
	const char *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	if (env && *env)
		snprintf(a->cache, sizeof(a->cache), "%s", env);
	else if (xdg && *xdg)
		snprintf(a->cache, sizeof(a->cache), "%s/modelgate-agent", xdg);
	else if (home && *home)
		snprintf(a->cache, sizeof(a->cache), "%s/.cache/modelgate-agent", home);
	else
		snprintf(a->cache, sizeof(a->cache), "/tmp/modelgate-agent-%ld", (long)getuid());
	const char *max = getenv("MODELGATE_AGENT_CACHE_MAX");
	if (mg_agent_cache_max(max, &a->cache_max))
		return mg_error_set(err, MG_EINVAL, "MODELGATE_AGENT_CACHE_MAX='%s' is not a size (bytes, "
				    "or a number with K, M or G)", max);
	snprintf(a->blobs, sizeof(a->blobs), "%s/blobs", a->cache);
	return mg_mkdirs(a->blobs, err);
}

static int send_reply(agent *a, mg_proto_w *w, mg_error *err)
{
	int rc = mg_proto_end(w);
	if (!rc)
		rc = mg_proto_write(a->out, a->reply.data, a->reply.len, -1, "host", err);
	return rc;
}

static int send_ok(agent *a, mg_error *err)
{
	mg_proto_w w;
	mg_proto_begin(&w, &a->reply, MG_MSG_OK, err);
	return send_reply(a, &w, err);
}

static int send_error(agent *a, const mg_error *e)
{
	mg_error err = {0};
	mg_proto_w w;
	mg_proto_begin(&w, &a->reply, MG_MSG_ERROR, &err);
	mg_proto_u32(&w, (uint32_t)(e->code ? e->code : MG_ERROR));
	mg_proto_str(&w, e->msg[0] ? e->msg : "unknown error");
	return send_reply(a, &w, &err);
}

static int do_hello(agent *a, mg_proto_r *r, mg_error *err)
{
	uint32_t version = mg_proto_get_u32(r);
	if (version != MG_PROTO_VERSION) /* before reading on: its HELLO may be laid out otherwise */
		return mg_error_set(err, MG_ERROR, "the host speaks protocol %u, this agent %d",
				    version, MG_PROTO_VERSION);
	char want[32];
	mg_proto_get_str(r, want, sizeof(want));
	int rc = mg_proto_r_done(r, "HELLO", err);
	if (rc)
		return rc;
	/* the engine the host asks for (the format of the model it will
	 * load), else $MODELGATE_ENGINE's, else the first */
	if (want[0])
		a->hello_engine = mg_agent_engine_named(want);
	const mg_engine_ops *ops = mg_agent_engine(a->hello_engine);
	mg_engine **e = &a->engines[a->hello_engine];
	if (!*e && (rc = ops->open(e, err)))
		return rc;
	if ((rc = cache_init(a, err)))
		return rc;
	struct utsname u;
	if (uname(&u))
		snprintf(u.machine, sizeof(u.machine), "unknown");
	mg_proto_w w;
	mg_proto_begin(&w, &a->reply, MG_MSG_HELLO, err);
	mg_proto_u32(&w, MG_PROTO_VERSION);
	mg_proto_str(&w, ops->name);
	mg_proto_str(&w, ops->version(*e));
	mg_proto_str(&w, u.machine);
	mg_sysinfo si;
	mg_sysinfo_read(&si);
	mg_proto_str(&w, si.cpu_model);
	mg_proto_u32(&w, si.ncpu);
	mg_proto_str(&w, si.governor);
	mg_proto_str(&w, si.affinity);
	mg_proto_u64(&w, isnan(si.loadavg1) ? UINT64_MAX : (uint64_t)(si.loadavg1 * 1000 + 0.5));
	mg_proto_str(&w, si.kernel);
	return send_reply(a, &w, err);
}

/* The stat data a verified blob had, as a line: "" when it changed in the
 * last two seconds (a later write in the same clock tick could keep it). */
static void stat_key(int fd, char *out, size_t outlen)
{
	struct stat st;
	struct timespec now;
	out[0] = '\0';
	if (fstat(fd, &st) || clock_gettime(CLOCK_REALTIME, &now))
		return;
	long long m = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	long long c = (long long)st.st_ctim.tv_sec * 1000000000LL + st.st_ctim.tv_nsec;
	long long t = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	if (t - (m > c ? m : c) > 2000000000LL)
		snprintf(out, outlen, "%llu %llu %lld %lld %lld\n", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, (long long)st.st_size, m, c);
}

/* Notes that digest's blob is known good for the rest of this process
 * (and, so, kept by eviction). */
static void remember_verified(agent *a, const char *digest)
{
	void *v = realloc(a->verified, (a->nverified + 1) * sizeof(*a->verified));
	if (v) {
		a->verified = v;
		memcpy(a->verified[a->nverified++], digest, MG_DIGEST_SIZE);
	}
}

/* 1 when the blob is cached and its bytes match its digest (checked once per
 * process, or known from its .ok record); a damaged blob is removed. */
static int have_blob(agent *a, const char *digest)
{
	for (size_t i = 0; i < a->nverified; i++)
		if (!strcmp(a->verified[i], digest))
			return 1;
	char path[PATH_MAX + 80], okpath[PATH_MAX + 84], key[160], rec[160];
	blob_path(a, digest, path, sizeof(path));
	snprintf(okpath, sizeof(okpath), "%s.ok", path);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	stat_key(fd, key, sizeof(key));
	int okfd = key[0] ? open(okpath, O_RDONLY | O_CLOEXEC) : -1;
	ssize_t n = okfd >= 0 ? read(okfd, rec, sizeof(rec) - 1) : -1;
	if (okfd >= 0)
		close(okfd);
	int known = n > 0 && (rec[n] = '\0', !strcmp(rec, key));
	if (known)
		utimensat(AT_FDCWD, okpath, NULL, 0); /* its last use, for eviction */
	if (!known) {
		mg_sha256 h;
		mg_sha256_init(&h);
		static char buf[1 << 16];
		while ((n = read(fd, buf, sizeof(buf))) > 0)
			mg_sha256_update(&h, buf, (size_t)n);
		char actual[MG_DIGEST_SIZE];
		mg_sha256_final(&h, actual);
		if (n < 0 || strcmp(actual, digest)) {
			close(fd);
			unlink(path);
			unlink(okpath);
			return 0;
		}
		/* best effort: without the record the next agent hashes again */
		int w = key[0] ? open(okpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
		if (w >= 0) {
			if (write(w, key, strlen(key)) != (ssize_t)strlen(key))
				unlink(okpath);
			close(w);
		}
	}
	close(fd);
	remember_verified(a, digest);
	return 1;
}

static int do_have(agent *a, mg_proto_r *r, mg_error *err)
{
	char digest[128];
	mg_proto_get_str(r, digest, sizeof(digest));
	int rc = mg_proto_r_done(r, "HAVE", err);
	if (rc)
		return rc;
	if (!digest_valid(digest))
		return mg_error_set(err, MG_EINVAL, "'%s' is not a sha256 digest", digest);
	mg_proto_w w;
	mg_proto_begin(&w, &a->reply, MG_MSG_HAVE, err);
	mg_proto_u8(&w, (uint8_t)have_blob(a, digest));
	return send_reply(a, &w, err);
}

static void put_abort(agent *a)
{
	if (a->put_fd >= 0) {
		close(a->put_fd);
		unlink(a->put_tmp);
	}
	free(a->put_tmp);
	a->put_tmp = NULL;
	a->put_fd = -1;
}

static int do_put(agent *a, mg_proto_r *r, mg_error *err)
{
	char digest[128];
	mg_proto_get_str(r, digest, sizeof(digest));
	uint64_t total = mg_proto_get_u64(r), off = mg_proto_get_u64(r);
	size_t n = r->len - r->pos;
	const void *data = mg_proto_get_bytes(r, n);
	int rc = mg_proto_r_done(r, "PUT", err);
	if (rc)
		return rc;
	if (!digest_valid(digest) || total > MAX_BLOB)
		return mg_error_set(err, MG_EINVAL, "PUT of '%s' (%llu bytes) refused", digest,
				    (unsigned long long)total);
	if (off == 0) {
		put_abort(a);
		if ((rc = mg_tmpfile_open(&a->put_fd, &a->put_tmp, a->blobs, err)))
			return rc;
		memcpy(a->put_digest, digest, MG_DIGEST_SIZE); /* valid: 71 chars + NUL */
		a->put_total = total;
		a->put_off = 0;
		mg_sha256_init(&a->put_hash);
	}
	if (a->put_fd < 0 || strcmp(digest, a->put_digest) || off != a->put_off ||
	    n > total - off) {
		put_abort(a);
		return mg_error_set(err, MG_EINVAL, "PUT of '%s' out of sequence", digest);
	}
	if ((rc = mg_write_all(a->put_fd, data, n, a->put_tmp, err))) {
		put_abort(a);
		return rc;
	}
	mg_sha256_update(&a->put_hash, data, n);
	a->put_off += n;
	a->bytes_put += n;
	if (a->put_off < total)
		return 0; /* more chunks follow; no reply */
	char actual[MG_DIGEST_SIZE], path[PATH_MAX + 80];
	mg_sha256_final(&a->put_hash, actual);
	if (strcmp(actual, digest)) {
		put_abort(a);
		return mg_error_set(err, MG_ECORRUPT, "blob sent as %s has digest %s", digest, actual);
	}
	blob_path(a, digest, path, sizeof(path));
	rc = mg_tmpfile_commit(a->put_fd, a->put_tmp, path, err);
	a->put_fd = -1;
	free(a->put_tmp);
	a->put_tmp = NULL;
	if (rc)
		return rc;
	remember_verified(a, digest); /* hashed on the way in */
	mg_agent_evict(a->blobs, a->cache_max, (const char (*)[MG_DIGEST_SIZE])a->verified, a->nverified);
	return send_ok(a, err);
}

static int do_load(agent *a, mg_proto_r *r, mg_error *err)
{
	char digest[128], provider[128];
	mg_proto_get_str(r, digest, sizeof(digest));
	mg_engine_opts o;
	o.threads = (int)mg_proto_get_u32(r);
	o.opt_level = (int)mg_proto_get_u32(r);
	mg_proto_get_str(r, provider, sizeof(provider));
	o.provider = provider;
	int rc = mg_proto_r_done(r, "LOAD", err);
	if (rc)
		return rc;
	mg_sysinfo si;
	mg_sysinfo_read(&si);
	if (o.threads < 0 || (si.ncpu && (unsigned)o.threads > si.ncpu)) /* the host checks it too */
		return mg_error_set(err, MG_EINVAL, "threads %u: this machine has %u CPUs", (unsigned)o.threads,
				    si.ncpu);
	if (!digest_valid(digest) || !have_blob(a, digest))
		return mg_error_set(err, MG_ENOTFOUND, "blob '%s' is not in the agent's cache", digest);
	size_t slot = 0;
	while (slot < MAX_MODELS && a->models[slot].m)
		slot++;
	if (slot == MAX_MODELS)
		return mg_error_set(err, MG_ENOMEM, "%d models are loaded already", MAX_MODELS);
	char path[PATH_MAX + 80];
	blob_path(a, digest, path, sizeof(path));
	size_t ei;
	if ((rc = mg_agent_engine_for(&ei, path, err)))
		return rc;
	const mg_engine_ops *ops = mg_agent_engine(ei);
	if (!a->engines[ei] && (rc = ops->open(&a->engines[ei], err)))
		return rc;
	uint64_t t0 = mg_agent_now_ns();
	if ((rc = ops->load(a->engines[ei], path, &o, &a->models[slot].m, err)))
		return rc;
	uint64_t load_ns = mg_agent_now_ns() - t0;
	a->models[slot].ops = ops;
	a->models[slot].first_ns = 0;
	mg_proto_w w;
	mg_proto_begin(&w, &a->reply, MG_MSG_LOAD, err);
	mg_proto_u32(&w, (uint32_t)slot + 1);
	mg_proto_u64(&w, load_ns);
	mg_proto_str(&w, ops->name);
	mg_proto_str(&w, ops->version(a->engines[ei]));
	return send_reply(a, &w, err);
}

static model *get_model(agent *a, uint32_t handle, mg_error *err)
{
	if (handle == 0 || handle > MAX_MODELS || !a->models[handle - 1].m) {
		mg_error_set(err, MG_EINVAL, "no model with handle %u is loaded", handle);
		return NULL;
	}
	return &a->models[handle - 1];
}

/* One inference, recording the model's first. */
static int run_once(model *m, uint64_t *ns, mg_error *err)
{
	int rc = m->ops->run(m->m, ns, err);
	if (!rc && !m->first_ns)
		m->first_ns = *ns ? *ns : 1;
	return rc;
}

/* Every input given is one the model has, so that an engine is never
 * asked to bind a name it does not know (each would word that its own
 * way, or bind by position). */
static int check_input_names(const model *m, mg_tensor *const *in, size_t n, mg_error *err)
{
	const mg_engine_io *ins, *outs;
	size_t nins, nouts;
	m->ops->describe(m->m, &ins, &nins, &outs, &nouts);
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		while (k < nins && strcmp(ins[k].name, in[i]->name))
			k++;
		if (k < nins)
			continue;
		char names[512] = "";
		size_t len = 0;
		for (k = 0; k < nins && len < sizeof(names); k++) {
			int w = snprintf(names + len, sizeof(names) - len, "%s'%s'", k ? ", " : "", ins[k].name);
			len += w > 0 ? (size_t)w : 0;
		}
		return mg_error_set(err, MG_EINVAL, "the model has no input '%s' (its inputs: %s%s)",
				    in[i]->name, names, len >= sizeof(names) ? "..." : "");
	}
	return 0;
}

typedef struct run_req {
	uint32_t warmup, iterations, max_iterations;
	uint64_t min_time_ns;
	int want_outputs;
} run_req;

static int measure(model *m, const run_req *q, uint64_t **samples, uint32_t *n,
		   mg_error *err)
{
	uint64_t ns;
	int rc;
	for (uint32_t i = 0; i < q->warmup; i++)
		if ((rc = run_once(m, &ns, err)))
			return rc;
	uint32_t cap = 0;
	uint64_t start = mg_agent_now_ns();
	while (*n < q->max_iterations &&
	       (*n < q->iterations || mg_agent_now_ns() - start < q->min_time_ns)) {
		if (*n == cap) {
			uint32_t ncap = cap ? (cap > q->max_iterations / 2 ? q->max_iterations : cap * 2) : 1024;
			uint64_t *s = realloc(*samples, ncap * sizeof(*s));
			if (!s)
				return mg_error_set(err, MG_ENOMEM, "out of memory for %u samples", ncap);
			*samples = s;
			cap = ncap;
		}
		if ((rc = run_once(m, &ns, err)))
			return rc;
		(*samples)[(*n)++] = ns;
	}
	/* outputs need at least one run */
	if (q->want_outputs && !*n && !q->warmup)
		rc = run_once(m, &ns, err);
	return rc;
}

/* Reads nin tensors of a request into *in (the caller frees them with
 * mg_tensors_free), checks the frame ends there, and binds them to the
 * model of handle. */
static int bind_inputs(agent *a, mg_proto_r *r, const char *what, uint32_t handle, uint32_t nin,
		       mg_tensor ***in, model **m, mg_error *err)
{
	*m = NULL;
	if (r->bad || nin > MAX_INPUTS)
		return mg_error_set(err, MG_EINVAL, "%s: malformed request", what);
	*in = calloc(nin ? nin : 1, sizeof(**in));
	int rc = *in ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
	for (uint32_t i = 0; !rc && i < nin; i++)
		rc = mg_proto_get_tensor(r, &(*in)[i], what, err);
	if (!rc)
		rc = mg_proto_r_done(r, what, err);
	model *mm = rc ? NULL : get_model(a, handle, err);
	if (!rc && !mm)
		rc = MG_EINVAL;
	if (!rc)
		rc = check_input_names(mm, *in, nin, err);
	if (!rc && !(rc = mm->ops->bind(mm->m, *in, nin, err)))
		*m = mm;
	return rc;
}

static int do_run(agent *a, mg_proto_r *r, mg_error *err)
{
	uint32_t handle = mg_proto_get_u32(r);
	run_req q;
	q.warmup = mg_proto_get_u32(r);
	q.iterations = mg_proto_get_u32(r);
	q.min_time_ns = mg_proto_get_u64(r);
	q.max_iterations = mg_proto_get_u32(r);
	q.want_outputs = mg_proto_get_u8(r);
	uint32_t nin = mg_proto_get_u32(r);
	if (q.max_iterations == 0 || q.max_iterations > MAX_SAMPLES)
		q.max_iterations = MAX_SAMPLES;
	mg_tensor **in = NULL, **outs = NULL;
	uint64_t *samples = NULL;
	uint32_t nsamples = 0;
	size_t nout = 0, i;
	model *m;
	int rc = bind_inputs(a, r, "RUN", handle, nin, &in, &m, err);
	if (!rc)
		rc = measure(m, &q, &samples, &nsamples, err);
	if (!rc && q.want_outputs)
		rc = m->ops->outputs(m->m, &outs, &nout, err);
	if (!rc) {
		mg_proto_w w;
		mg_proto_begin(&w, &a->reply, MG_MSG_RUN, err);
		mg_proto_u64(&w, m->first_ns);
		mg_proto_u32(&w, nsamples);
		for (uint32_t k = 0; k < nsamples; k++)
			mg_proto_u64(&w, samples[k]);
		mg_proto_u32(&w, (uint32_t)nout);
		for (i = 0; i < nout; i++)
			mg_proto_tensor(&w, outs[i]);
		rc = send_reply(a, &w, err);
	}
	if (m)
		m->ops->bind(m->m, NULL, 0, NULL);
	mg_tensors_free(in, in ? nin : 0);
	mg_tensors_free(outs, nout);
	free(samples);
	return rc;
}

/* warmup uncounted runs, then runs counted ones: only the engine's run
 * calls are between the counter's start and stop. */
static int do_cost(agent *a, mg_proto_r *r, mg_error *err)
{
	uint32_t handle = mg_proto_get_u32(r);
	uint32_t warmup = mg_proto_get_u32(r), runs = mg_proto_get_u32(r);
	uint32_t nin = mg_proto_get_u32(r);
	mg_tensor **in = NULL;
	model *m;
	uint64_t ns;
	mg_cost_counts count = {0};
	int rc = bind_inputs(a, r, "COST", handle, nin, &in, &m, err);
	if (!rc && (runs == 0 || runs > MAX_SAMPLES || warmup > MAX_SAMPLES))
		rc = mg_error_set(err, MG_EINVAL, "COST: %u runs after %u warm-up runs", runs, warmup);
	if (!rc)
		rc = mg_agent_counter_open(&a->counter, err);
	if (!rc) {
		mg_agent_counter_prepare(&a->counter);
		for (uint32_t i = 0; !rc && i < warmup; i++)
			rc = run_once(m, &ns, err);
		mg_agent_counter_start(&a->counter);
		for (uint32_t i = 0; !rc && i < runs; i++)
			rc = m->ops->run(m->m, &ns, err);
		mg_agent_counter_stop(&a->counter);
	}
	if (!rc)
		rc = mg_agent_counter_read(&a->counter, &count, err);
	if (!rc) {
		mg_proto_w w;
		mg_proto_begin(&w, &a->reply, MG_MSG_COST, err);
		mg_proto_u64(&w, count.instructions);
		mg_proto_u32(&w, runs);
		mg_proto_str(&w, mg_cost_backend_name(a->counter.backend));
		mg_proto_str(&w, a->counter.version);
		mg_proto_u64(&w, count.mem_accesses);
		mg_proto_u64(&w, count.cache_misses);
		rc = send_reply(a, &w, err);
	}
	if (m)
		m->ops->bind(m->m, NULL, 0, NULL);
	mg_tensors_free(in, in ? nin : 0);
	return rc;
}

static uint64_t peak_rss(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	unsigned long long kb = 0;
	if (f) {
		char line[256];
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "VmHWM: %llu kB", &kb) == 1)
				break;
		fclose(f);
	}
	if (!kb) {
		struct rusage ru;
		if (!getrusage(RUSAGE_SELF, &ru))
			kb = (unsigned long long)ru.ru_maxrss;
	}
	return (uint64_t)kb * 1024;
}

static int do_stats(agent *a, mg_proto_r *r, mg_error *err)
{
	int rc = mg_proto_r_done(r, "STATS", err);
	if (rc)
		return rc;
	uint32_t models = 0;
	for (size_t i = 0; i < MAX_MODELS; i++)
		models += a->models[i].m != NULL;
	mg_proto_w w;
	mg_proto_begin(&w, &a->reply, MG_MSG_STATS, err);
	mg_proto_u64(&w, peak_rss());
	mg_proto_u64(&w, a->bytes_in);
	mg_proto_u64(&w, a->bytes_put);
	mg_proto_u32(&w, models);
	return send_reply(a, &w, err);
}

static int do_unload(agent *a, mg_proto_r *r, mg_error *err)
{
	uint32_t handle = mg_proto_get_u32(r);
	int rc = mg_proto_r_done(r, "UNLOAD", err);
	model *m = rc ? NULL : get_model(a, handle, err);
	if (!m)
		return rc ? rc : MG_EINVAL;
	m->ops->unload(m->m);
	m->m = NULL;
	return send_ok(a, err);
}

/* Serves requests until BYE or the end of input; the exit status. */
static int serve(agent *a)
{
	mg_buf in = MG_BUF_INIT;
	int status = 0;
	for (;;) {
		mg_error err = {0};
		int type, rc = mg_proto_read_frame(a->in, &in, &type, -1, "host", &err);
		if (rc) {
			if (rc == MG_EINVAL) { /* a broken stream: say why, then stop */
				send_error(a, &err);
				status = 2;
			}
			break; /* MG_ENET: the host went away */
		}
		a->bytes_in += MG_FRAME_HEADER + in.len;
		if (!a->engines[a->hello_engine] && type != MG_MSG_HELLO && type != MG_MSG_BYE) {
			mg_error_set(&err, MG_EINVAL, "HELLO must come first");
			send_error(a, &err);
			continue;
		}
		mg_proto_r r;
		mg_proto_r_init(&r, in.data, in.len);
		switch (type) {
		case MG_MSG_HELLO: rc = do_hello(a, &r, &err); break;
		case MG_MSG_HAVE: rc = do_have(a, &r, &err); break;
		case MG_MSG_PUT: rc = do_put(a, &r, &err); break;
		case MG_MSG_LOAD: rc = do_load(a, &r, &err); break;
		case MG_MSG_RUN: rc = do_run(a, &r, &err); break;
		case MG_MSG_STATS: rc = do_stats(a, &r, &err); break;
		case MG_MSG_UNLOAD: rc = do_unload(a, &r, &err); break;
		case MG_MSG_COST: rc = do_cost(a, &r, &err); break;
		case MG_MSG_BYE:
			send_ok(a, &err);
			goto done;
		default:
			rc = mg_error_set(&err, MG_EINVAL, "unexpected message type %d", type);
		}
		if (rc && (rc == MG_ENET || send_error(a, &err)))
			break; /* the reply could not be written: the host is gone */
	}
done:
	mg_buf_free(&in);
	return status;
}

/* The agent does not outlive its host. A host that dies (killed, or its
 * job cancelled) closes its end of the agent's input; serve() sees that at
 * its next read, but a long measurement or inference would go on for
 * minutes first. This thread waits for the hang-up and, unless the agent
 * has ended by itself within a grace period (time for serve() to clean up
 * after a normal end), ends the process. Works alike for a socket (local,
 * qemu, exec) and an ssh session's pipe. */
static void *watch_host(void *unused)
{
	(void)unused;
	/* only a hang-up or an error wakes this poll, never data to read */
	struct pollfd p = {.fd = 0, .events = POLLRDHUP};
	while (poll(&p, 1, -1) < 0 && errno == EINTR)
		;
	sleep(2);
	_exit(3);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		if (!strcmp(argv[1], "--version")) {
			printf("modelgate-agent %s (protocol %d)\n", MG_VERSION, MG_PROTO_VERSION);
			return 0;
		}
		fprintf(stderr, "usage: modelgate-agent [--version]\n"
				"Speaks the modelgate protocol on stdin/stdout; started by "
				"'modelgate run --target ...'.\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	pthread_t watcher;
	pthread_attr_t attr;
	if (pthread_attr_init(&attr) || pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) ||
	    pthread_create(&watcher, &attr, watch_host, NULL)) {
		fprintf(stderr, "modelgate-agent: cannot start the host watcher thread\n");
		return 3;
	}
	static agent a;
	a.in = 0;
	a.out = fcntl(1, F_DUPFD_CLOEXEC, 3);
	if (a.out < 0 || dup2(2, 1) < 0) {
		perror("modelgate-agent: stdout");
		return 3;
	}
	a.put_fd = -1;
	a.counter.fd[0] = a.counter.fd[1] = a.counter.fd[2] = -1;
	a.hello_engine = mg_agent_engine_named(getenv("MODELGATE_ENGINE"));
	int status = serve(&a);
	put_abort(&a);
	for (size_t i = 0; i < MAX_MODELS; i++)
		if (a.models[i].m)
			a.models[i].ops->unload(a.models[i].m);
	for (size_t i = 0; i < MG_AGENT_MAX_ENGINES; i++)
		if (a.engines[i])
			mg_agent_engine(i)->close(a.engines[i]);
	mg_agent_counter_close(&a.counter);
	free(a.verified);
	mg_buf_free(&a.reply);
	return status;
}
