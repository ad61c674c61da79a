/* modelgate gc: remove blobs that no tag reaches, and stray temporary
 * files left by killed processes. */
#include "cli.h"

#include <jansson.h>

static int cmd_gc(mg_cli *cli, int argc, char **argv)
{
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	if (argc - optind > 0)
		return cli_usage_error(cli, "too many arguments");
	mg_error err = {0};
	mg_store *store = NULL;
	mg_gc_stats st = {0};
	if (mg_store_find_default(&store, &err) || (store && mg_store_gc(store, &st, &err))) {
		mg_store_free(store);
		return cli_fail(cli, &err);
	}
	mg_store_free(store);
	if (cli->json)
		return cli_print_json(json_pack("{s:I, s:I, s:I, s:I}", "blobs_removed",
						(json_int_t)st.blobs_removed, "bytes_removed",
						(json_int_t)st.bytes_removed, "temporary_files_removed",
						(json_int_t)st.temp_removed, "blobs_kept",
						(json_int_t)st.blobs_kept));
	if (!cli->quiet) {
		char human[32];
		mg_format_size(human, sizeof(human), st.bytes_removed);
		printf("removed %zu blob(s) (%s) and %zu temporary file(s); kept %zu blob(s)\n",
		       st.blobs_removed, human, st.temp_removed, st.blobs_kept);
	}
	return 0;
}

const mg_cmd cli_cmd_gc = {
	.name = "gc",
	.fn = cmd_gc,
	.summary = "remove blobs no tag reaches, and stray temporary files",
	.description = "Removes from the local store the blobs that no tag reaches, and the "
		       "temporary files that killed processes left.",
	.synopsis = {"[OPTIONS]"},
	.opts = {NULL},
	.examples = {{"modelgate gc", "Free the space of removed versions."},
		     {"modelgate gc --json", "The same, saying what was removed as JSON."}},
};
