/* modelgate ls [REPO]: the tagged versions in the local store. */
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char *short_type(const char *t)
{
	if (!t)
		return "-";
	if (!strcmp(t, MG_ARTIFACT_MODEL))
		return "model";
	if (!strcmp(t, MG_ARTIFACT_DATASET))
		return "dataset";
	return t;
}

typedef struct summary {
	uint64_t size;     /* bytes of the files the manifest lists */
	char created[64];  /* "-" when unknown */
	char type[128];    /* artifactType, "" when absent */
} summary;

/* What ls shows of a version, read from its (verified) manifest. */
static void summarise(mg_store *store, const char *digest, summary *out)
{
	mg_buf b = MG_BUF_INIT;
	mg_manifest *m = NULL;
	memset(out, 0, sizeof(*out));
	snprintf(out->created, sizeof(out->created), "-");
	if (!mg_store_read_blob(store, digest, MG_MANIFEST_MAX, &b, NULL) &&
	    !mg_manifest_parse(&m, b.data, b.len, digest, NULL)) {
		for (size_t i = 0; i < m->nlayers; i++)
			out->size += m->layers[i].size;
		const char *c = mg_kv_get(&m->annotations, MG_ANNOT_CREATED);
		if (c)
			snprintf(out->created, sizeof(out->created), "%s", c);
		if (m->artifact_type)
			snprintf(out->type, sizeof(out->type), "%s", m->artifact_type);
	}
	mg_manifest_free(m);
	mg_buf_free(&b);
}

int cmd_ls(mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTS};
	int c, rc;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	if (argc - optind > 1)
		return cli_usage_error(cli, "too many arguments");
	const char *repo = argc > optind ? argv[optind] : NULL;
	mg_error err = {0};
	mg_store *store = NULL;
	mg_store_entry *e = NULL;
	size_t n = 0;
	if (cli_open_store(&store, &err) || mg_store_list(store, &e, &n, &err)) {
		mg_store_free(store);
		return cli_fail(cli, &err);
	}
	json_t *arr = cli->json ? json_array() : NULL;
	if (!cli->json)
		printf("%s%-24s %-12s %-19s %-8s %10s  %s%s\n", cli_color(cli, "1"), "REPOSITORY", "TAG",
		       "DIGEST", "TYPE", "SIZE", "CREATED", cli_color(cli, "0"));
	for (size_t i = 0; i < n; i++) {
		if (!e[i].name)
			continue;
		char *name = e[i].name;
		char *colon = strrchr(name, ':');
		const char *tag = colon ? colon + 1 : "-";
		size_t rlen = colon ? (size_t)(colon - name) : strlen(name);
		if (repo && (strlen(repo) != rlen || strncmp(repo, name, rlen)))
			continue;
		summary sm;
		summarise(store, e[i].digest, &sm);
		const char *type = sm.type[0] ? sm.type : e[i].artifact_type;
		if (cli->json) {
			json_array_append_new(arr, json_pack("{s:s%, s:s, s:s, s:s?, s:I, s:s}", "repository",
							     name, rlen, "tag", tag, "digest", e[i].digest,
							     "artifact_type", type, "size", (json_int_t)sm.size,
							     "created", sm.created));
		} else {
			char human[32];
			mg_format_size(human, sizeof(human), sm.size);
			printf("%-24.*s %-12s %.19s %-8s %10s  %s\n", (int)rlen, name, tag, e[i].digest,
			       short_type(type), human, sm.created);
		}
	}
	mg_store_entries_free(e, n);
	mg_store_free(store);
	return cli->json ? cli_print_json(arr) : 0;
}
