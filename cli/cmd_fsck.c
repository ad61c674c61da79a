/* modelgate fsck: re-hash every blob and check that everything a tag
 * references is there; exit 1 when anything is corrupt or missing. */
#include "cli.h"

#include <jansson.h>

typedef struct fsck_out {
	mg_cli *cli;
	json_t *problems;
} fsck_out;

static void on_problem(const mg_fsck_problem *p, void *ctx)
{
	fsck_out *o = ctx;
	static const char *kinds[] = {"corrupt", "missing", "bad-name", "temporary"};
	if (o->problems) {
		json_array_append_new(o->problems, json_pack("{s:s, s:s?, s:s?, s:s?}", "kind", kinds[p->kind],
							     "digest", p->digest, "actual", p->actual,
							     "where", p->where));
		return;
	}
	const char *red = cli_color(o->cli, "31"), *yellow = cli_color(o->cli, "33");
	const char *reset = cli_color(o->cli, "0");
	switch (p->kind) {
	case MG_FSCK_CORRUPT:
		printf("%scorrupt%s blob %s: its content hashes to %s\n", red, reset, p->digest, p->actual);
		break;
	case MG_FSCK_MISSING:
		printf("%smissing%s blob %s (referenced by '%s')\n", red, reset, p->digest, p->where);
		break;
	case MG_FSCK_BADNAME:
		printf("%sunexpected%s file blobs/sha256/%s (not a digest)\n", red, reset, p->where);
		break;
	case MG_FSCK_TEMP:
		printf("%sstray%s temporary file blobs/sha256/%s (run 'modelgate gc')\n", yellow, reset,
		       p->where);
		break;
	}
}

int cmd_fsck(mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {CLI_COMMON_OPTS};
	int c, rc;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	if (argc - optind > 0)
		return cli_usage_error(cli, "too many arguments");
	mg_error err = {0};
	mg_store *store = NULL;
	fsck_out out = {cli, cli->json ? json_array() : NULL};
	size_t checked = 0, bad = 0;
	if (cli_open_store(&store, &err) ||
	    mg_store_fsck(store, on_problem, &out, &checked, &bad, &err)) {
		json_decref(out.problems);
		mg_store_free(store);
		return cli_fail(cli, &err);
	}
	mg_store_free(store);
	if (cli->json)
		rc = cli_print_json(json_pack("{s:I, s:I, s:o}", "blobs_checked", (json_int_t)checked,
					      "problems", (json_int_t)bad, "details", out.problems));
	else
		rc = 0;
	if (!cli->json && !cli->quiet)
		printf("checked %zu blob(s): %s%zu problem(s)%s\n", checked,
		       cli_color(cli, bad ? "31" : "32"), bad, cli_color(cli, "0"));
	return rc ? rc : bad ? MG_EXIT_GATE : 0;
}
