/* modelgate ls [REPO | HOST/REPO | HOST:PORT | HOST/]: the tagged versions
 * in the local store or in a registry repository, or the repositories of a
 * registry (its catalog). */
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

/* What ls shows of a version of r, named by tag (digest is filled in) or
 * by its digest, read from its (verified) manifest. */
static void summarise(const mg_repo *r, const char *tag, char digest[MG_DIGEST_SIZE], summary *out)
{
	mg_buf b = MG_BUF_INIT;
	mg_manifest *m = NULL;
	memset(out, 0, sizeof(*out));
	snprintf(out->created, sizeof(out->created), "-");
	char got[MG_DIGEST_SIZE];
	int rc = mg_repo_get_manifest(r, tag, tag ? NULL : digest, &b, got, NULL, NULL);
	if (!rc && tag)
		memcpy(digest, got, MG_DIGEST_SIZE);
	if (!rc && !mg_manifest_parse(&m, b.data, b.len, got, NULL)) {
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

static void print_header(const mg_cli *cli)
{
	if (!cli->json)
		printf("%s%-24s %-12s %-19s %-8s %10s  %s%s\n", cli_color(cli, "1"), "REPOSITORY", "TAG",
		       "DIGEST", "TYPE", "SIZE", "CREATED", cli_color(cli, "0"));
}

/* One version: a row, or an element of arr with --json. */
static void print_row(json_t *arr, const char *name, size_t rlen, const char *tag,
		      const char *digest, const char *type, const summary *sm)
{
	if (arr) {
		json_array_append_new(arr, json_pack("{s:s%, s:s, s:s, s:s?, s:I, s:s}", "repository",
						     name, rlen, "tag", tag, "digest", digest,
						     "artifact_type", type, "size", (json_int_t)sm->size,
						     "created", sm->created));
	} else {
		char human[32];
		mg_format_size(human, sizeof(human), sm->size);
		printf("%-24.*s %-12s %.19s %-8s %10s  %s\n", (int)rlen, name, cli_text(tag), digest,
		       cli_text(short_type(type)), human, cli_text(sm->created));
	}
}

/* ls REPO or HOST/REPO: the tags of one repository. */
static int ls_repo(mg_cli *cli, const char *arg)
{
	mg_error err = {0};
	mg_ref *ref = NULL;
	mg_repo repo = {0};
	char **tags = NULL;
	size_t n = 0;
	int rc = 0;
	if (mg_ref_parse(&ref, arg, &err) || cli_repo_open(cli, &repo, ref, &err) ||
	    mg_repo_list_tags(&repo, &tags, &n, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	json_t *arr = cli->json ? json_array() : NULL;
	print_header(cli);
	for (size_t i = 0; i < n; i++) {
		summary sm;
		char digest[MG_DIGEST_SIZE] = "-";
		summarise(&repo, tags[i], digest, &sm);
		print_row(arr, repo.label, strlen(repo.label), tags[i], digest, sm.type[0] ? sm.type : NULL, &sm);
	}
	if (arr)
		rc = cli_print_json(arr);
done:
	mg_remote_list_free(tags, n);
	mg_repo_close(&repo);
	mg_ref_free(ref);
	return rc;
}

/* Whether s names a registry alone, without a repository: "HOST:PORT",
 * "localhost", or a host with a slash after it ("ghcr.io/"); a bare name
 * without a port is a repository of the local store. 1 and the registry
 * in out, or 0. */
static int registry_alone(const char *s, char *out, size_t cap)
{
	size_t n = strlen(s);
	int slash = n > 1 && s[n - 1] == '/';
	n -= (size_t)slash;
	if (!n || n >= cap || memchr(s, '/', n) ||
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") < n)
		return 0;
	const char *colon = memrchr(s, ':', n);
	int port = colon && colon + 1 < s + n &&
		   strspn(colon + 1, "0123456789") == (size_t)(s + n - colon - 1);
	int local = n == 9 && !strncmp(s, "localhost", 9);
	if (!port && !local && !(slash && (memchr(s, '.', n) || memchr(s, ':', n))))
		return 0;
	memcpy(out, s, n);
	out[n] = '\0';
	return 1;
}

/* ls HOST: the repositories of a registry, one per line as HOST/REPO. */
static int ls_catalog(mg_cli *cli, const char *host)
{
	mg_error err = {0};
	mg_remote *remote = NULL;
	char **repos = NULL;
	size_t n = 0;
	int rc = 0;
	if (cli_remote_open(cli, host, &remote, &err) ||
	    mg_remote_list_repositories(remote, &repos, &n, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	json_t *arr = cli->json ? json_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		if (arr)
			json_array_append_new(arr, json_pack("{s:s++, s:s}", "repository", host, "/",
							     repos[i], "name", repos[i]));
		else
			printf("%s/%s\n", host, cli_text(repos[i]));
	}
	if (arr)
		rc = cli_print_json(arr);
done:
	mg_remote_list_free(repos, n);
	mg_remote_free(remote);
	return rc;
}

static int cmd_ls(mg_cli *cli, int argc, char **argv)
{
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	if (argc - optind > 1)
		return cli_usage_error(cli, "too many arguments");
	const char *repo = argc > optind ? argv[optind] : NULL;
	mg_error err = {0};
	mg_store *store = NULL;
	mg_store_entry *e = NULL;
	size_t n = 0;
	char host[300];
	if (repo && registry_alone(repo, host, sizeof(host)))
		return ls_catalog(cli, host);
	if (repo)
		return ls_repo(cli, repo);
	/* the whole store, in its index's order */
	if (mg_store_find_default(&store, &err) || (store && mg_store_list(store, &e, &n, &err))) {
		mg_store_free(store);
		return cli_fail(cli, &err);
	}
	json_t *arr = cli->json ? json_array() : NULL;
	print_header(cli);
	for (size_t i = 0; i < n; i++) {
		if (!e[i].name)
			continue;
		char *name = e[i].name;
		char *colon = strrchr(name, ':');
		const char *tag = colon ? colon + 1 : "-";
		size_t rlen = colon ? (size_t)(colon - name) : strlen(name);
		char rname[512];
		snprintf(rname, sizeof(rname), "%.*s", (int)rlen, name);
		mg_repo in_store = {.store = store, .name = rname};
		summary sm;
		summarise(&in_store, NULL, e[i].digest, &sm);
		print_row(arr, name, rlen, tag, e[i].digest, sm.type[0] ? sm.type : e[i].artifact_type, &sm);
	}
	mg_store_entries_free(e, n);
	mg_store_free(store);
	return cli->json ? cli_print_json(arr) : 0;
}

const mg_cmd cli_cmd_ls = {
	.name = "ls",
	.fn = cmd_ls,
	.summary = "list the versions in the store or a repository, or a registry's repositories",
	.description = "Lists the tagged versions of the local store (or of one repository in it or "
		       "in a registry), or with HOST:PORT or HOST/ the repositories of a registry.",
	.synopsis = {"[REPO | HOST/REPO | HOST:PORT | HOST/] [OPTIONS]"},
	.opts = {cli_remote_opts},
	.examples = {{"modelgate ls", "List every tagged version in the local store."},
		     {"modelgate ls kws", "List the versions of the repository kws."},
		     {"modelgate ls localhost:5000/", "List the repositories of a registry."}},
};
