/* The smoke check of a release on the device (docs/FLEET.md, "The smoke
 * check"): its one model runs on the bundle's smoke inputs through
 * modelgate-agent, as `modelgate run` runs it (validator/run_once.c); the
 * outputs must be the expected ones, and the median latency and the
 * agent's peak memory must stay within the limits that apply to this
 * device. A gate run proved the model on a target class; this proves it
 * on the device itself, where a camera's frame time or the memory left
 * beside the application is what counts.
 *
 * Limits come from the device's config (`limits`) and, when the config
 * names its `target_class`, from the latency and memory gates that the
 * release's report.json holds for a target of that name; the config's
 * limit wins where both set one. */
#include "device.h"
#include "pipelines/package.h"
#include "validator/report.h"
#include "validator/run_once.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Runs with a limit to meet; a warm-up first, as `modelgate run` makes. */
#define SMOKE_ITERATIONS 20
#define SMOKE_WARMUP 5
#define MIB (1024.0 * 1024.0)

/* A limit on one figure of the smoke check, and where it came from. */
typedef struct limit {
	double value; /* ms or MiB; 0: none */
	char from[400];
} limit;

/* The one model file (.onnx or .tflite) of the slot's files/, into out. */
static int slot_model(const char *files, mg_buf *out, mg_error *err)
{
	DIR *d = opendir(files);
	if (!d)
		return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", files);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		size_t len = strlen(de->d_name);
		if ((len > 5 && !strcmp(de->d_name + len - 5, ".onnx")) ||
		    (len > 7 && !strcmp(de->d_name + len - 7, ".tflite"))) {
			if (!n++ && mg_buf_printf(out, err, "%s/%s", files, de->d_name)) {
				closedir(d);
				return MG_ENOMEM;
			}
		}
	}
	closedir(d);
	return n == 1 ? 0 : mg_error_set(err, MG_EINVAL, "the smoke check needs one model file in '%s', "
					  "not %zu", files, n);
}

/* Two decimals from 1 up ("3.41"), three significant digits below
 * ("0.0001"): a limit set absurdly low still reads as itself. */
static const char *num(char out[32], double v)
{
	snprintf(out, 32, v >= 1 ? "%.2f" : "%.3g", v);
	return out;
}

/* Keeps the lower of l and v, from the gate named with what set it. */
static void lower(limit *l, double v, const char *gate, const char *what)
{
	if (!(v > 0) || (l->value > 0 && l->value <= v))
		return;
	l->value = v;
	snprintf(l->from, sizeof(l->from), "gate '%s' of the release's report.json: %s", gate, what);
}

/* The candidate's median on the gate's target (its p50_ms figure), else
 * the gate's headline statistic, which is never below the median for the
 * statistics a latency gate takes (p50 to p99, mean). */
static double gate_median(const mg_gate_result *g, const char **name)
{
	for (size_t i = 0; i < g->nfigures; i++)
		if (g->figures[i].name && !strcmp(g->figures[i].name, "p50_ms")) {
			*name = "p50_ms";
			return g->figures[i].value;
		}
	*name = g->metric ? g->metric : "latency";
	return g->value;
}

/* One latency gate of the target class: its absolute limit (max_ms) when
 * it has one; else, when it measured the candidate against a baseline
 * with an allowed ratio (max_ratio, 1 + the allowed regression), the
 * candidate's measured median times that ratio. An emulated measurement
 * is never compared with this device's real one (DESIGN.md). */
static int latency_gate(const mg_gate_result *g, limit *lat, mg_error *err)
{
	char d[200], a[32], b[32];
	if (!g->unit || strcmp(g->unit, "ms"))
		return mg_error_set(err, MG_EINVAL, "the smoke check cannot read the limit of latency gate '%s' "
				    "in the release's report.json: its unit is '%s', not ms", g->name,
				    g->unit ? g->unit : "");
	if (isfinite(g->limit)) {
		snprintf(d, sizeof(d), "max_ms, on its %s", g->metric ? g->metric : "statistic");
		lower(lat, g->limit, g->name, d);
		return 0;
	}
	const char *stat;
	double med = gate_median(g, &stat), ratio = g->latency ? g->latency->max_ratio : NAN;
	if (isfinite(ratio) && isfinite(med) && !(g->fingerprint && g->fingerprint->emulated)) {
		snprintf(d, sizeof(d), "the candidate's %s %s ms on '%s' x max_ratio %s", stat, num(a, med),
			 g->target, num(b, ratio));
		lower(lat, med * ratio, g->name, d);
	}
	return 0;
}

/* One memory gate of the target class: its max_rss_mb (MiB; reports of
 * schema 1 wrote bytes). */
static int memory_gate(const mg_gate_result *g, limit *mem, mg_error *err)
{
	double scale = !g->unit ? 0 : !strcmp(g->unit, "MiB") ? 1 : !strcmp(g->unit, "bytes") ? 1 / MIB : 0;
	if (!scale)
		return mg_error_set(err, MG_EINVAL, "the smoke check cannot read the limit of memory gate '%s' "
				    "in the release's report.json: its unit is '%s', not MiB", g->name,
				    g->unit ? g->unit : "");
	if (isfinite(g->limit))
		lower(mem, g->limit * scale, g->name, "max_rss_mb");
	return 0;
}

/* The limits the config and the release's report.json (in dir) set;
 * where none applies, .value stays 0. */
static int limits_for(const mg_device_config *c, const char *dir, limit *lat, limit *mem, mg_error *err)
{
	char path[4200];
	struct stat sb;
	snprintf(path, sizeof(path), "%s/%s", dir, MG_BUNDLE_REPORT);
	if (c->target_class && !stat(path, &sb)) {
		mg_report *r = NULL;
		int rc = mg_report_read_json(&r, path, err);
		for (size_t i = 0; !rc && i < r->ngates; i++) {
			const mg_gate_result *g = &r->gates[i];
			if (!g->kind || !g->target || strcmp(g->target, c->target_class))
				continue;
			if (!strcmp(g->kind, "latency"))
				rc = latency_gate(g, lat, err);
			else if (!strcmp(g->kind, "memory"))
				rc = memory_gate(g, mem, err);
		}
		mg_report_free(r);
		if (rc)
			return rc;
	}
	if (c->limits.latency_ms > 0) {
		lat->value = c->limits.latency_ms;
		snprintf(lat->from, sizeof(lat->from), "config limits.latency_ms");
	}
	if (c->limits.memory_mb > 0) {
		mem->value = c->limits.memory_mb;
		snprintf(mem->from, sizeof(mem->from), "config limits.memory_mb");
	}
	return 0;
}

/* A figure against its limit: MG_EINVAL naming both and the limit's source
 * when it is above; else what it was, into said. */
static int within(const char *what, double v, const char *unit, const limit *l, mg_buf *said, mg_error *err)
{
	char a[32], b[32];
	if (l->value > 0 && v > l->value)
		return mg_error_set(err, MG_EINVAL, "the smoke check's %s %s %s is above the limit %s %s (%s)",
				    what, num(a, v), unit, num(b, l->value), unit, l->from);
	if (l->value > 0)
		return mg_buf_printf(said, err, ", %s %s %s (limit %s %s, %s)", what, num(a, v), unit,
				     num(b, l->value), unit, l->from);
	return mg_buf_printf(said, err, ", %s %s %s", what, num(a, v), unit);
}

/* The release's smoke/tolerances.json into a, when it has one (*own: 1);
 * without one the outputs must meet run's default tolerances. */
static int release_tolerances(const char *dir, mg_run_spec *a, int *own, mg_error *err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/%s%s", dir, MG_BUNDLE_SMOKE_DIR, MG_BUNDLE_SMOKE_TOLERANCES);
	mg_buf text = MG_BUF_INIT;
	mg_error e = {0};
	int rc = mg_file_read(&text, path, 1 << 20, &e);
	if (rc == MG_ENOTFOUND)
		return 0;
	if (!rc)
		rc = mg_run_tolerances_json(a, text.data, text.len, path, &e);
	mg_buf_free(&text);
	*own = !rc;
	return rc ? mg_error_set(err, MG_EINVAL, "the smoke check could not run: %s", e.msg) : 0;
}

int mg_device_smoke(const mg_device_config *c, char slot, mg_buf *said, mg_error *err)
{
	char dir[4096], in[4200], exp[4200], files[4200];
	snprintf(dir, sizeof(dir), "%s/slots/%c", c->state_dir, slot);
	snprintf(in, sizeof(in), "%s/%sinputs", dir, MG_BUNDLE_SMOKE_DIR);
	snprintf(exp, sizeof(exp), "%s/%sexpected", dir, MG_BUNDLE_SMOKE_DIR);
	snprintf(files, sizeof(files), "%s/%s", dir, MG_BUNDLE_FILES_DIR);
	files[strlen(files) - 1] = '\0';
	limit lat = {0}, mem = {0};
	int rc = limits_for(c, dir, &lat, &mem, err);
	if (rc)
		return rc;
	struct stat sb;
	int has_inputs = !stat(in, &sb), has_expect = !stat(exp, &sb), limited = lat.value > 0 || mem.value > 0;
	if (!has_inputs && !limited)
		return 0;
	mg_buf model = MG_BUF_INIT;
	if ((rc = slot_model(files, &model, err)))
		return rc;
	/* without smoke inputs, random ones of the model's declared shapes, as `modelgate run` makes */
	mg_run_spec a = {.model = model.data, .target = "local", .inputs = has_inputs ? in : NULL,
			 .expect = has_inputs && has_expect ? exp : NULL, .rtol = MG_RUN_RTOL, .atol = MG_RUN_ATOL,
			 .timeout = c->cmd_timeout, .opt_level = 99, .seed = MG_INPUT_SEED,
			 .iterations = c->smoke_iterations ? c->smoke_iterations : limited ? SMOKE_ITERATIONS : 1,
			 .warmup = limited ? SMOKE_WARMUP : 0};
	int own_tols = 0;
	if (a.expect && (rc = release_tolerances(dir, &a, &own_tols, err))) {
		mg_buf_free(&model);
		return rc;
	}
	mg_source_opts so = MG_SOURCE_OPTS_INIT;
	mg_run_once st;
	memset(&st, 0, sizeof(st));
	mg_error e = {0};
	rc = mg_run_once_do(&st, &a, &so, mg_run_now_ns(), &e);
	if (rc)
		rc = mg_error_set(err, MG_EINVAL, "the smoke check could not run: %s", e.msg);
	for (size_t i = 0; !rc && i < st.nexpect; i++) {
		const mg_compare *cmp = &st.cmp[i];
		if (!cmp->ok)
			rc = mg_error_set(err, MG_EINVAL, "the smoke check failed: output '%s' differs from "
					  "the expected one in %zu of %zu values (worst by %g)%s%s",
					  st.expect[i]->name, cmp->mismatches, cmp->count, cmp->worst_diff,
					  cmp->why[0] ? ": " : "", cmp->why);
	}
	if (!rc)
		rc = mg_buf_printf(said, err, "smoke check: %zu run%s on %s, outputs %s", st.stats.n,
				   st.stats.n == 1 ? "" : "s",
				   has_inputs ? "the release's smoke inputs" : "random inputs",
				   !st.nexpect ? "not compared"
				   : own_tols ? "as expected (within the release's tolerances)" : "as expected");
	if (!rc)
		rc = within("median latency", st.stats.p50 / 1e6, "ms", &lat, said, err);
	if (!rc)
		rc = within("peak memory", (double)st.agent.peak_rss / MIB, "MiB", &mem, said, err);
	mg_run_once_free(&st);
	mg_buf_free(&model);
	return rc;
}
