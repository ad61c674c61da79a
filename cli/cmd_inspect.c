/* modelgate inspect REF [--raw]: a version's digest, files, config and
 * annotations; --raw prints the manifest bytes as stored. */
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

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
		printf("]\n");
	}
}

static void print_human(const char *refname, const char *digest, const mg_manifest *m, json_t *config)
{
	printf("Reference:  %s\nDigest:     %s\nType:       %s\n", refname, digest,
	       m->artifact_type ? cli_text(m->artifact_type) : "-");
	const char *fmt = json_string_value(json_object_get(config, "format"));
	if (fmt)
		printf("Format:     %s\n", cli_text(fmt));
	json_t *params = json_object_get(config, "parameters");
	if (json_is_integer(params))
		printf("Parameters: %lld\n", (long long)json_integer_value(params));
	if (json_array_size(json_object_get(config, "inputs")) ||
	    json_array_size(json_object_get(config, "outputs"))) {
		printf("Tensors:\n");
		print_tensors("input", json_object_get(config, "inputs"));
		print_tensors("output", json_object_get(config, "outputs"));
	}
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

int cmd_inspect(mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"raw", no_argument, NULL, 'r'},
		CLI_REMOTE_OPTS,
		CLI_COMMON_OPTS};
	int c, rc, raw = 0;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1) {
		if (c == 'r')
			raw = 1;
		else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, argc - optind < 1 ? "missing reference" : "too many arguments");
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
