/* modelgate inspect REF [--raw]: a version's digest, files, config and
 * annotations; --raw prints the manifest bytes as stored.
 * modelgate inspect FILE: what a model file declares (the same description
 * a pushed version's config holds) and, for TFLite, what Arm NN 20.08 cannot
 * run. An argument is a file when it exists, starts with '/' or holds "./". */
#include "cli.h"
#include "formats/model_info.h"
#include "formats/tflite.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* The config blob (verified). */
static json_t *load_config(const mg_repo *repo, const mg_manifest *m, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	json_t *j = NULL;
	if (!mg_repo_read_blob(repo, m->config.digest, MG_MANIFEST_MAX, &b, err)) {
		j = json_loadb(b.data, b.len, 0, NULL);
		if (!j)
			mg_error_set(err, MG_ECORRUPT, "config %s is not JSON", m->config.digest);
	}
	mg_buf_free(&b);
	return j;
}

static void print_tensors(const char *what, json_t *arr)
{
	size_t i;
	json_t *t;
	json_array_foreach(arr, i, t) {
		printf("  %-8s %s %s [", what, cli_text(json_string_value(json_object_get(t, "name"))),
		       cli_text(json_string_value(json_object_get(t, "dtype"))));
		size_t k;
		json_t *d;
		json_array_foreach(json_object_get(t, "shape"), k, d) {
			if (json_is_integer(d))
				printf("%s%lld", k ? "," : "", (long long)json_integer_value(d));
			else
				printf("%s%s", k ? "," : "", cli_text(json_string_value(d)));
		}
		printf("]");
		json_t *q = json_object_get(t, "quantization");
		json_t *scales = json_object_get(q, "scales"), *zeros = json_object_get(q, "zero_points");
		if (json_array_size(scales) == 1)
			printf(" scale %g zero-point %lld", json_number_value(json_array_get(scales, 0)),
			       (long long)json_integer_value(json_array_get(zeros, 0)));
		else if (json_array_size(scales) > 1)
			printf(" per-channel: %zu scales along dimension %lld", json_array_size(scales),
			       (long long)json_integer_value(json_object_get(q, "dimension")));
		printf("\n");
	}
}

/* What a model declares: the config of a version, or a file's description. */
static void print_declared(json_t *config)
{
	const char *fmt = json_string_value(json_object_get(config, "format"));
	if (fmt)
		printf("Format:     %s\n", cli_text(fmt));
	json_t *params = json_object_get(config, "parameters");
	if (json_is_integer(params))
		printf("Parameters: %lld\n", (long long)json_integer_value(params));
	json_t *weights = json_object_get(config, "weight_bytes");
	if (json_is_integer(weights)) {
		char human[32];
		mg_format_size(human, sizeof(human), (uint64_t)json_integer_value(weights));
		printf("Weights:    %s (%lld bytes)\n", human, (long long)json_integer_value(weights));
	}
	json_t *subgraphs = json_object_get(config, "subgraphs");
	if (json_is_integer(subgraphs))
		printf("Subgraphs:  %lld\n", (long long)json_integer_value(subgraphs));
	if (json_array_size(json_object_get(config, "inputs")) ||
	    json_array_size(json_object_get(config, "outputs"))) {
		printf("Tensors:\n");
		print_tensors("input", json_object_get(config, "inputs"));
		print_tensors("output", json_object_get(config, "outputs"));
	}
	size_t i;
	json_t *op;
	if (json_array_size(json_object_get(config, "ops")))
		printf("Operators:\n");
	json_array_foreach(json_object_get(config, "ops"), i, op)
		printf("  %-28s %6lld%s\n", cli_text(json_string_value(json_object_get(op, "name"))),
		       (long long)json_integer_value(json_object_get(op, "count")),
		       json_is_true(json_object_get(op, "custom")) ? "  (custom)" : "");
}

static void print_human(const char *refname, const char *digest, const mg_manifest *m, json_t *config)
{
	printf("Reference:  %s\nDigest:     %s\nType:       %s\n", refname, digest,
	       m->artifact_type ? cli_text(m->artifact_type) : "-");
	print_declared(config);
	printf("Files:\n");
	for (size_t i = 0; i < m->nlayers; i++) {
		char human[32];
		mg_format_size(human, sizeof(human), m->layers[i].size);
		printf("  %-24s %10s  %s\n", m->layers[i].title ? cli_text(m->layers[i].title) : "(untitled)", human,
		       m->layers[i].digest);
	}
	if (m->annotations.n)
		printf("Annotations:\n");
	for (size_t i = 0; i < m->annotations.n; i++)
		printf("  %s: %s\n", cli_text(m->annotations.keys[i]), cli_text(m->annotations.vals[i]));
}

static int is_file_arg(const char *arg)
{
	struct stat st;
	return arg[0] == '/' || strstr(arg, "./") || !stat(arg, &st);
}

/* inspect FILE */
static int inspect_file(mg_cli *cli, const char *path)
{
	mg_error err = {0};
	mg_model_info *info = NULL;
	mg_buf declared = MG_BUF_INIT, unsupported = MG_BUF_INIT;
	json_t *config = NULL;
	int rc = mg_model_info_read(&info, path, &err);
	if (!rc && !strcmp(info->format, "unknown"))
		rc = mg_error_set(&err, MG_EINVAL, "'%s' is not a model modelgate reads (ONNX or TFLite)", path);
	if (!rc && !(rc = mg_model_info_json(&declared, info, &err)) &&
	    !(config = json_loadb(declared.data, declared.len, 0, NULL)))
		rc = mg_error_set(&err, MG_ENOMEM, "out of memory");
	int nunsupported = 0;
	if (!rc && !strcmp(info->format, "tflite") &&
	    (nunsupported = mg_armnn_unsupported(info, &unsupported, &err)) < 0)
		rc = nunsupported;
	if (rc) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (cli->json) {
		json_t *j = json_pack("{s:s, s:O}", "file", path, "config", config);
		if (j && !strcmp(info->format, "tflite"))
			json_object_set_new(j, "unsupported_by_armnn_20_08",
					    nunsupported ? json_string(mg_buf_cstr(&unsupported)) : json_null());
		rc = cli_print_json(j);
	} else {
		printf("File:       %s\n", cli_text(path));
		print_declared(config);
		if (!strcmp(info->format, "tflite"))
			printf("Unsupported by Arm NN 20.08: %s\n",
			       nunsupported ? cli_text(mg_buf_cstr(&unsupported)) : "none");
	}
done:
	json_decref(config);
	mg_buf_free(&declared);
	mg_buf_free(&unsupported);
	mg_model_info_free(info);
	return rc;
}

static int cmd_inspect(mg_cli *cli, int argc, char **argv)
{
	int c, rc, raw = 0;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'r')
			raw = 1;
		else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, argc - optind < 1 ? "missing reference" : "too many arguments");
	if (is_file_arg(argv[optind])) {
		if (raw)
			return cli_usage_error(cli, "--raw shows a version's manifest, and '%s' is a file",
					       argv[optind]);
		return inspect_file(cli, argv[optind]);
	}
	mg_error err = {0};
	mg_ref *ref = NULL;
	mg_repo repo = {0};
	mg_manifest *m = NULL;
	mg_buf bytes = MG_BUF_INIT;
	json_t *config = NULL;
	char digest[MG_DIGEST_SIZE];
	rc = 0;
	if (mg_ref_parse(&ref, argv[optind], &err) || cli_repo_open(cli, &repo, ref, &err) ||
	    mg_repo_get_manifest(&repo, ref->tag, ref->digest, &bytes, digest, NULL, &err) ||
	    (!raw && mg_manifest_parse(&m, bytes.data, bytes.len, digest, &err)) ||
	    (!raw && !(config = load_config(&repo, m, &err)))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (raw) {
		fwrite(bytes.data, 1, bytes.len, stdout);
		fputc('\n', stdout);
	} else if (cli->json) {
		mg_buf mj = MG_BUF_INIT;
		json_t *manifest = NULL;
		if (!mg_manifest_write(&mj, m, &err))
			manifest = json_loadb(mj.data, mj.len, 0, NULL);
		mg_buf_free(&mj);
		rc = cli_print_json(json_pack("{s:s, s:s, s:o*, s:O}", "reference", argv[optind], "digest",
					      digest, "manifest", manifest, "config", config));
	} else {
		print_human(argv[optind], digest, m, config);
	}
done:
	json_decref(config);
	mg_buf_free(&bytes);
	mg_manifest_free(m);
	mg_ref_free(ref);
	mg_repo_close(&repo);
	return rc;
}

static const mg_opt inspect_opts[] = {
	{"raw", 0, 'r', NULL, "Print the version's manifest as stored, byte for byte."},
	CLI_OPT_END};

const mg_cmd cli_cmd_inspect = {
	.name = "inspect",
	.fn = cmd_inspect,
	.summary = "show a version's files, config and annotations, or what a model file declares",
	.description = "Shows a version's digest, files, config and annotations; for a model file, "
		       "its format, inputs and outputs (and for TFLite what Arm NN cannot run). An "
		       "argument is a file when it exists, starts with '/' or holds './'.",
	.synopsis = {"REF [--raw] [OPTIONS]", "FILE [--json]"},
	.opts = {inspect_opts, cli_remote_opts},
	.examples = {{"modelgate inspect kws:v3", "Show the files, config and annotations of kws:v3."},
		     {"modelgate inspect ./model.onnx --json", "Describe a model file's inputs and outputs as JSON."},
		     {"modelgate inspect kws:v3 --raw", "Print kws:v3's manifest as stored."}},
};
