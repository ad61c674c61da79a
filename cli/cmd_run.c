/* modelgate run MODEL --target T: run a model on a target and measure it.
 *
 * MODEL is a file or a reference (local store or registry; its .onnx layer
 * is pulled into a temporary folder). Inputs come from --inputs DIR (NAME.npy
 * or ONNX test data input_N.pb), else random tensors of the declared shapes
 * (--shape NAME=1x3x224x224 for dynamic dimensions, which default to 1).
 * Outputs go to --outputs DIR in the inputs' format; --expect DIR compares
 * them within --rtol/--atol and exits 1 on a mismatch.
 *
 * Inputs of another real or integer type than the model's are converted
 * when every value survives, rounded to a real type with --cast, else
 * refused with the way to convert them (runners/inputs.h).
 *
 * Quantized models (TFLite int8/uint8): a float32 input given for a
 * quantized input is quantized with its parameters (said once), raw
 * integers pass as they are; outputs are the engine's raw integers unless
 * --dequantize asks for float32 (written and compared so).
 *
 * Latency: --warmup unmeasured runs, then runs until both --iterations and
 * --min-time are reached (defaults 5, 50, 1 s, as TFLite's benchmark_model
 * and MLPerf do: a count and a duration). Each sample is the engine's own
 * inference call timed with CLOCK_MONOTONIC on the target. */
#include "cli.h"
#include "registry/remote.h"
#include "validator/run_once.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static json_t *json_shape(const int64_t *dims, size_t rank)
{
	json_t *a = json_array();
	for (size_t i = 0; i < rank; i++)
		json_array_append_new(a, json_integer(dims[i]));
	return a;
}

/* [{"name", "dtype", "shape"}] of ts */
static json_t *tensor_list(mg_tensor *const *ts, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:s, s:o}", "name", ts[i]->name, "dtype",
						     mg_dtype_name(ts[i]->dtype), "shape",
						     json_shape(ts[i]->dims, ts[i]->rank)));
	return arr;
}

/* The lines of b, as a JSON array of strings. */
static json_t *said_lines(const mg_buf *b)
{
	json_t *a = json_array();
	for (const char *p = b->data, *e; p && (e = strchr(p, '\n')); p = e + 1)
		json_array_append_new(a, json_stringn(p, (size_t)(e - p)));
	return a;
}

static int print_json(const mg_run_spec *a, const mg_run_once *st, int all_ok)
{
	const mg_target_info *ti = mg_target_get_info(st->target);
	const mg_stats *s = &st->stats;
	json_t *samples = json_array();
	for (size_t i = 0; i < st->res.nsamples; i++)
		json_array_append_new(samples, json_integer((json_int_t)st->res.samples[i]));
	json_t *outs = tensor_list(st->res.outputs, st->res.noutputs);
	json_t *root = json_pack(
		"{s:i, s:{s:s, s:s, s:s, s:s, s:s, s:b, s:I}, s:{s:s, s:s, s:I, s:I, s:b}, "
		"s:{s:i, s:i, s:f, s:i, s:i, s:s}, s:I, s:I, s:I, s:I, "
		"s:{s:s, s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:o}, "
		"s:{s:I, s:I, s:I}, s:o}",
		"schema", 1,
		"target", "spec", ti->spec, "kind", ti->kind, "arch", ti->arch, "engine", ti->engine,
		"engine_version", ti->engine_version, "emulated", ti->emulated, "bytes_uploaded",
		(json_int_t)ti->bytes_uploaded,
		"model", "path", a->model, "digest", st->model.digest, "size", (json_int_t)st->model.size,
		"bytes_sent", (json_int_t)st->model.bytes_sent, "cached", st->model.bytes_sent == 0,
		"options", "warmup", (int)a->warmup, "iterations", (int)a->iterations, "min_time_s",
		a->min_time, "threads", (int)a->threads, "opt_level", (int)a->opt_level, "provider",
		a->provider ? a->provider : "cpu",
		"load_ns", (json_int_t)st->model.load_ns, "first_inference_ns", (json_int_t)st->res.first_ns,
		"peak_rss_bytes", (json_int_t)st->agent.peak_rss, "startup_ns", (json_int_t)st->startup_ns,
		"latency", "unit", "ns", "percentiles", "linear interpolation (numpy default)", "n",
		(json_int_t)s->n, "min", s->min, "mean", s->mean, "stddev", s->stddev, "p50", s->p50,
		"p90", s->p90, "p95", s->p95, "p99", s->p99, "max", s->max, "samples", samples,
		"agent", "bytes_in", (json_int_t)st->agent.bytes_in, "bytes_put",
		(json_int_t)st->agent.bytes_put, "models", (json_int_t)st->agent.models,
		"outputs", outs);
	if (root) {
		json_object_set_new(root, "inputs", tensor_list(st->inputs, st->ninputs));
		json_object_set_new(root, "dynamic_set_to_1",
				    st->defaulted.len ? json_string(st->defaulted.data) : json_null());
		json_object_set_new(root, "inputs_quantized", said_lines(&st->quantized));
		json_object_set_new(root, "inputs_converted", said_lines(&st->converted));
		json_object_set_new(root, "outputs_dequantized", json_boolean(a->dequantize));
	}
	if (!root)
		return MG_EXIT_INFRA;
	if (ti->emulated)
		json_object_set_new(root, "label", json_string("emulated"));
	if (a->outputs)
		json_object_set_new(root, "outputs_dir", json_string(a->outputs));
	if (st->cmp) {
		json_t *cmps = json_array();
		for (size_t i = 0; i < st->nexpect; i++) {
			const mg_compare *c = &st->cmp[i];
			json_t *o = json_pack("{s:s, s:b, s:I, s:I, s:f}", "name", st->expect[i]->name, "ok",
					      c->ok, "mismatches", (json_int_t)c->mismatches, "count",
					      (json_int_t)c->count, "max_abs_diff", c->max_abs_diff);
			if (c->why[0])
				json_object_set_new(o, "error", json_string(c->why));
			else if (c->count)
				json_object_set_new(o, "worst", json_pack("{s:o, s:f, s:f, s:f}", "index",
						    json_shape(c->worst_index, st->expect[i]->rank), "got",
						    c->worst_got, "expected", c->worst_expected, "abs_diff",
						    c->worst_diff));
			json_array_append_new(cmps, o);
		}
		json_object_set_new(root, "expect", json_pack("{s:b, s:f, s:f, s:o}", "ok", all_ok, "rtol",
							      a->rtol, "atol", a->atol, "outputs", cmps));
	}
	return cli_print_json(root);
}

static void fmt_ns(char *out, size_t len, double ns)
{
	if (ns < 1e3)
		snprintf(out, len, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(out, len, "%.1f us", ns / 1e3);
	else if (ns < 1e9)
		snprintf(out, len, "%.2f ms", ns / 1e6);
	else
		snprintf(out, len, "%.3f s", ns / 1e9);
}

static void print_human(const mg_cli *cli, const mg_run_spec *a, const mg_run_once *st)
{
	const mg_target_info *ti = mg_target_get_info(st->target);
	const mg_stats *s = &st->stats;
	char b[10][32], rss[32];
	printf("target    %s (%s, %s %s)%s\n", ti->spec, ti->arch, ti->engine, ti->engine_version,
	       ti->emulated ? " emulated" : "");
	printf("model     %s %s (%s)\n", a->model, st->model.digest,
	       st->model.bytes_sent ? "sent" : "cached on the target");
	fmt_ns(b[0], 32, (double)st->model.load_ns);
	fmt_ns(b[1], 32, (double)st->res.first_ns);
	mg_format_size(rss, sizeof(rss), st->agent.peak_rss);
	printf("load      %s, first inference %s, peak RSS %s\n", b[0], b[1], rss);
	for (size_t i = 0; i < st->ninputs; i++) {
		char shape[128];
		mg_shape_format(shape, sizeof(shape), st->inputs[i]->dims, st->inputs[i]->rank);
		printf("%s %s %s %s\n", i ? "         " : "inputs   ", cli_text(st->inputs[i]->name),
		       mg_dtype_name(st->inputs[i]->dtype), shape);
	}
	const mg_buf *said[] = {&st->converted, &st->quantized};
	for (size_t k = 0; k < 2; k++)
		for (const char *p = said[k]->data, *e; p && (e = strchr(p, '\n')); p = e + 1) {
			char line[512];
			snprintf(line, sizeof(line), "%.*s", (int)(e - p), p);
			printf("          %s\n", cli_text(line));
		}
	if (st->defaulted.len)
		printf("          dynamic dimensions set to 1: %s; give --shape INPUT=DIMS for the "
		       "sizes the model really runs at\n", cli_text(st->defaulted.data));
	double vals[] = {s->min, s->mean, s->stddev, s->p50, s->p90, s->p95, s->p99, s->max};
	for (int i = 0; i < 8; i++)
		fmt_ns(b[i], 32, vals[i]);
	printf("%s  n=%zu: min %s  mean %s  stddev %s\n"
	       "          p50 %s  p90 %s  p95 %s  p99 %s  max %s\n",
	       ti->emulated ? "emulated" : "latency ", s->n, b[0], b[1], b[2], b[3], b[4], b[5], b[6],
	       b[7]);
	if (a->outputs)
		printf("outputs   %zu written to %s\n", st->res.noutputs, a->outputs);
	for (size_t i = 0; st->cmp && i < st->nexpect; i++) {
		const mg_compare *c = &st->cmp[i];
		const char *col = cli_color(cli, c->ok ? "32" : "31");
		if (c->why[0]) {
			printf("expect    %s: %sMISMATCH%s %s\n", cli_text(st->expect[i]->name), col,
			       cli_color(cli, "0"), cli_text(c->why));
			continue;
		}
		char idx[128];
		mg_shape_format(idx, sizeof(idx), c->worst_index, st->expect[i]->rank);
		printf("expect    %s: %s%s%s (%zu of %zu out of tolerance; worst at %s: got %.9g, "
		       "expected %.9g, |diff| %.3g)\n",
		       cli_text(st->expect[i]->name), col, c->ok ? "ok" : "MISMATCH", cli_color(cli, "0"),
		       c->mismatches, c->count, idx, c->worst_got, c->worst_expected, c->worst_diff);
	}
}

static int get_long(const char *s, long min, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (!*s || *end || errno || v < min || v > INT32_MAX)
		return -1;
	*out = v;
	return 0;
}

static int get_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !(v >= 0))
		return -1;
	*out = v;
	return 0;
}

/* --rtol/--atol "X" for every output, or "OUTPUT=X" for one */
static int get_tol(mg_run_spec *a, const char *s, int relative)
{
	const char *eq = strrchr(s, '=');
	double v;
	if (!eq)
		return get_double(s, relative ? &a->rtol : &a->atol);
	return get_double(eq + 1, &v) ? -1 : mg_run_tol_set(a, s, (size_t)(eq - s), relative, v);
}

static const char *const opt_levels[] = {"disabled", "basic", "extended", "all"};

enum { O_TARGET = 256, O_INPUTS, O_OUTPUTS, O_EXPECT, O_WARMUP, O_ITER, O_MINTIME, O_THREADS,
       O_SHAPE, O_RTOL, O_ATOL, O_OPT, O_PROVIDER, O_TIMEOUT, O_SEED, O_DEQUANTIZE,
       O_CAST };

static int cmd_run(mg_cli *cli, int argc, char **argv)
{
	uint64_t t_start = mg_run_now_ns();
	mg_run_spec a = {.target = "local", .rtol = MG_RUN_RTOL, .atol = MG_RUN_ATOL, .min_time = 1, .timeout = 120,
		      .warmup = 5, .iterations = 50, .opt_level = 99, .seed = MG_INPUT_SEED};
	int c, rc;
	long seed;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		int bad = 0;
		switch (c) {
		case O_TARGET: a.target = optarg; break;
		case O_INPUTS: a.inputs = optarg; break;
		case O_OUTPUTS: a.outputs = optarg; break;
		case O_EXPECT: a.expect = optarg; break;
		case O_PROVIDER: a.provider = optarg; break;
		case O_DEQUANTIZE: a.dequantize = 1; break;
		case O_CAST: a.cast = 1; break;
		case O_WARMUP: bad = get_long(optarg, 0, &a.warmup); break;
		case O_ITER: bad = get_long(optarg, 0, &a.iterations); break;
		case O_THREADS: bad = get_long(optarg, 0, &a.threads); break;
		case O_SEED: bad = get_long(optarg, 0, &seed); a.seed = (uint64_t)seed; break;
		case O_MINTIME: bad = get_double(optarg, &a.min_time) || a.min_time > 86400; break;
		case O_TIMEOUT: bad = get_double(optarg, &a.timeout) || a.timeout < 1 || a.timeout > 86400; break;
		case O_RTOL: bad = get_tol(&a, optarg, 1); break;
		case O_ATOL: bad = get_tol(&a, optarg, 0); break;
		case O_SHAPE:
			bad = a.nshapes == MG_RUN_MAX_SHAPES || mg_input_shape_parse(&a.shapes[a.nshapes++], optarg);
			break;
		case O_OPT:
			bad = 1;
			for (long i = 0; i < 4; i++)
				if (!strcmp(optarg, opt_levels[i]))
					a.opt_level = i == 3 ? 99 : i, bad = 0;
			break;
		default:
			if ((rc = cli_common_opt(cli, c)) >= 0)
				return rc;
		}
		if (bad)
			return cli_usage_error(cli, "invalid value '%s' for --%s", optarg,
					       cli_opt_find(cli->cmd, c)->name);
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, argc - optind < 1 ? "missing model" : "too many arguments");
	a.model = argv[optind];
	mg_error err = {0};
	mg_run_once st;
	memset(&st, 0, sizeof(st));
	mg_source_opts so;
	cli_source_opts(cli, &so);
	if (mg_run_once_do(&st, &a, &so, t_start, &err)) {
		rc = cli_fail(cli, &err);
		mg_run_once_free(&st);
		return rc;
	}
	int all_ok = 1;
	for (size_t i = 0; st.cmp && i < st.nexpect; i++)
		all_ok &= st.cmp[i].ok;
	if (cli->json)
		rc = print_json(&a, &st, all_ok);
	else if (!cli->quiet)
		print_human(cli, &a, &st), rc = 0;
	else
		rc = 0;
	if (!rc && !all_ok) {
		fprintf(stderr, "modelgate: the outputs of '%s' do not match '%s' (rtol %g, atol %g)\n",
			a.model, a.expect, a.rtol, a.atol);
		rc = MG_EXIT_GATE;
	}
	mg_run_once_free(&st);
	return rc;
}

static const mg_opt run_opts[] = {
	{"target", 0, O_TARGET, "TARGET",
	 "Where to run: local (the default), qemu-aarch64, ssh://[USER@]HOST[:PORT] or "
	 "exec:'PREFIX'."},
	{"inputs", 0, O_INPUTS, "DIR",
	 "Read the inputs from DIR (NAME.npy, or ONNX test data input_N.pb) instead of random "
	 "tensors."},
	{"outputs", 0, O_OUTPUTS, "DIR", "Write the outputs into DIR, in the inputs' format."},
	{"expect", 0, O_EXPECT, "DIR", "Compare the outputs with those in DIR; exit 1 when they differ."},
	{"rtol", 0, O_RTOL, "[OUTPUT=]X", "Relative tolerance of --expect (default 1e-3), for all outputs or one."},
	{"atol", 0, O_ATOL, "[OUTPUT=]X", "Absolute tolerance of --expect (default 1e-7), for all outputs or one."},
	{"warmup", 0, O_WARMUP, "N", "Unmeasured runs first (default 5)."},
	{"iterations", 0, O_ITER, "N", "Measure at least N runs (default 50)."},
	{"min-time", 0, O_MINTIME, "S", "Measure for at least S seconds (default 1)."},
	{"threads", 0, O_THREADS, "N", "Threads the engine may use (default: its own choice)."},
	{"shape", 0, O_SHAPE, "NAME=DIMS",
	 "Dimensions of a dynamic input for random tensors, as 1x3x224x224 (repeatable; others are 1)."},
	{"opt-level", 0, O_OPT, "LEVEL", "ONNX Runtime graph optimization: disabled, basic, extended or all."},
	{"provider", 0, O_PROVIDER, "EP", "ONNX Runtime execution provider to use."},
	{"timeout", 0, O_TIMEOUT, "S", "The longest wait for the target to answer, in seconds (default 120)."},
	{"seed", 0, O_SEED, "N", "Seed of the random inputs."},
	{"dequantize", 0, O_DEQUANTIZE, NULL, "Write and compare a quantized model's outputs as float32."},
	{"cast", 0, O_CAST, NULL,
	 "Round --inputs of another real type (float64) to the model's; without it only conversions that keep every value are made."},
	CLI_OPT_END};

const mg_cmd cli_cmd_run = {
	.name = "run",
	.fn = cmd_run,
	.summary = "run a model on a target and measure its latency",
	.description = "Runs the model MODEL (a file or a reference) on a target, with random or "
		       "given inputs, and measures its latency: warm-up runs, then runs until both "
		       "--iterations and --min-time are reached.",
	.synopsis = {"MODEL [--target TARGET] [--inputs DIR] [--outputs DIR] [--expect DIR] [OPTIONS]"},
	.opts = {run_opts, cli_remote_opts},
	.examples = {{"modelgate run model.onnx", "Measure a model here with random inputs."},
		     {"modelgate run model.onnx --target qemu-aarch64 --iterations 20",
		      "Measure it on an emulated aarch64 board."},
		     {"modelgate run model.onnx --inputs test/in --expect test/out --atol 1e-5",
		      "Check its outputs against expected ones."}},
};
