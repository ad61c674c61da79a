/* modelgate pull REF [-o DIR] [--force]: restore a version's files under
 * their names; a file there with other bytes is replaced only when forced. */
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>

static int cmd_pull(mg_cli *cli, int argc, char **argv)
{
	const char *dir = ".";
	static unsigned char unchanged[MG_MANIFEST_MAX_LAYERS];
	mg_pull_opts po = MG_PULL_OPTS_INIT;
	po.unchanged = unchanged;
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'o')
			dir = optarg;
		else if (c == 'f')
			po.force = 1;
		else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, argc - optind < 1 ? "missing reference" : "too many arguments");
	mg_error err = {0};
	mg_ref *ref = NULL;
	mg_repo repo = {0};
	mg_manifest *m = NULL;
	char digest[MG_DIGEST_SIZE];
	rc = 0;
	if (mg_ref_parse(&ref, argv[optind], &err) || cli_repo_open(cli, &repo, ref, &err) ||
	    mg_repo_pull(&repo, ref, dir, &po, &m, digest, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (cli->json) {
		json_t *files = json_array();
		for (size_t i = 0; i < m->nlayers; i++)
			json_array_append_new(files, json_pack("{s:s, s:s, s:I, s:b}", "name", m->layers[i].title,
							       "digest", m->layers[i].digest, "size",
							       (json_int_t)m->layers[i].size, "unchanged",
							       unchanged[i]));
		rc = cli_print_json(json_pack("{s:s, s:s, s:s, s:o}", "reference", argv[optind], "digest",
					      digest, "directory", dir, "files", files));
	} else if (!cli->quiet) {
		for (size_t i = 0; i < m->nlayers; i++)
			printf("%s/%s%s\n", dir, cli_text(m->layers[i].title), unchanged[i] ? " (unchanged)" : "");
	}
done:
	mg_manifest_free(m);
	mg_ref_free(ref);
	mg_repo_close(&repo);
	return rc;
}

static const mg_opt pull_opts[] = {
	{"output", 'o', 0, "DIR", "Write the files into DIR (made if missing) instead of the current folder."},
	{"force", 'f', 0, NULL, "Replace a file there that has other bytes (refused without it)."},
	CLI_OPT_END};

const mg_cmd cli_cmd_pull = {
	.name = "pull",
	.fn = cmd_pull,
	.summary = "restore the files of a version",
	.description = "Writes the files of the version REF under their own names, each checked "
		       "against its digest, and prints their paths.",
	.synopsis = {"REF [-o DIR] [--force] [OPTIONS]"},
	.opts = {pull_opts, cli_remote_opts},
	.examples = {{"modelgate pull kws:v3 -o models/kws", "Restore kws:v3 into models/kws."},
		     {"modelgate pull localhost:5000/team/kws@sha256:HEX",
		      "Restore a version of a registry, by digest, into the current folder."}},
};
