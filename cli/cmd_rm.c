/* modelgate rm REF...: remove tags; gc frees what no tag reaches. */
#include "cli.h"
#include "registry/remote.h"

#include <jansson.h>

static int cmd_rm(mg_cli *cli, int argc, char **argv)
{
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	if (argc - optind < 1)
		return cli_usage_error(cli, "missing reference");
	mg_error err = {0};
	mg_repo_opts ro;
	cli_repo_opts(cli, &ro);
	mg_repo prev = {0}; /* the store stays open from one reference to the next */
	json_t *removed = cli->json ? json_array() : NULL;
	rc = 0;
	for (int i = optind; i < argc; i++) {
		mg_ref *ref = NULL;
		size_t n = 0;
		mg_repo repo = {0};
		if (mg_ref_parse(&ref, argv[i], &err) || mg_repo_open_near(&repo, ref, &prev, &ro, &err) ||
		    mg_repo_remove(&repo, ref, &n, &err)) {
			int e = cli_fail(cli, &err);
			if (!rc)
				rc = e;
		} else if (removed) {
			json_array_append_new(removed, json_pack("{s:s, s:I}", "reference", argv[i],
								 "tags_removed", (json_int_t)n));
		} else if (!cli->quiet) {
			printf("removed '%s'%s\n", argv[i], n > 1 ? " (all its tags)" : "");
		}
		mg_ref_free(ref);
		if (repo.own_store) { /* keep it for the next ones */
			mg_repo_close(&prev);
			prev = repo;
		} else {
			mg_repo_close(&repo);
		}
	}
	mg_repo_close(&prev);
	if (removed) {
		int jrc = cli_print_json(json_pack("{s:o}", "removed", removed));
		return rc ? rc : jrc;
	}
	return rc;
}

const mg_cmd cli_cmd_rm = {
	.name = "rm",
	.fn = cmd_rm,
	.summary = "remove a tag (gc frees the blobs)",
	.description = "Removes the tags named (a digest: every tag of that version); 'modelgate gc' then "
		       "frees the files no tag reaches.",
	.synopsis = {"REF... [OPTIONS]"},
	.opts = {cli_remote_opts},
	.examples = {{"modelgate rm kws:v1 kws:v2", "Remove two tags of kws."},
		     {"modelgate rm kws:v1 && modelgate gc", "Remove a tag and free its files."}},
};
