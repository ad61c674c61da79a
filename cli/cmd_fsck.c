/* modelgate fsck [--repair]: re-hash every blob and check that everything
 * a tag references is there; exit 1 when anything is corrupt or missing,
 * repaired or not. --repair then removes the corrupt blobs and the tags
 * that can no longer be read, naming each, so a push or pull restores them. */
#include "cli.h"

#include <jansson.h>
#include <string.h>

typedef struct fsck_out {
	mg_cli *cli;
	json_t *problems;
	json_t *removed;
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

static void on_removed(const char *what, const char *digest, const char *name, void *ctx)
{
	fsck_out *o = ctx;
	if (o->removed) {
		json_array_append_new(o->removed, json_pack("{s:s, s:s, s:s?}", "kind", what, "digest",
							    digest, "name", name));
		return;
	}
	if (!strcmp(what, "blob"))
		printf("removed corrupt blob %s\n", digest);
	else if (name)
		printf("removed tag '%s' (%s): it can no longer be read; push or pull it again\n", name,
		       digest);
	else
		printf("removed untagged entry %s: it can no longer be read\n", digest);
}

static int cmd_fsck(mg_cli *cli, int argc, char **argv)
{
	int c, rc, fix = 0;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'r')
			fix = 1;
		else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (argc - optind > 0)
		return cli_usage_error(cli, "too many arguments");
	mg_error err = {0};
	mg_store *store = NULL;
	fsck_out out = {cli, cli->json ? json_array() : NULL, cli->json && fix ? json_array() : NULL};
	size_t checked = 0, bad = 0;
	mg_repair_stats st = {0};
	if (mg_store_find_default(&store, &err) ||
	    (store && (fix ? mg_store_repair(store, on_problem, on_removed, &out, &checked, &bad, &st, &err)
			   : mg_store_fsck(store, on_problem, &out, &checked, &bad, &err)))) {
		json_decref(out.problems);
		json_decref(out.removed);
		mg_store_free(store);
		return cli_fail(cli, &err);
	}
	mg_store_free(store);
	if (cli->json)
		rc = cli_print_json(json_pack("{s:I, s:I, s:o, s:o?}", "blobs_checked", (json_int_t)checked,
					      "problems", (json_int_t)bad, "details", out.problems,
					      "removed", out.removed));
	else
		rc = 0;
	if (!cli->json && !cli->quiet) {
		printf("checked %zu blob(s): %s%zu problem(s)%s", checked,
		       cli_color(cli, bad ? "31" : "32"), bad, cli_color(cli, "0"));
		if (fix)
			printf("; removed %zu blob(s) and %zu tag(s)", st.blobs_removed, st.tags_removed);
		printf("\n");
	}
	return rc ? rc : bad ? MG_EXIT_GATE : 0;
}

static const mg_opt fsck_opts[] = {
	{"repair", 0, 'r', NULL,
	 "Remove the corrupt blobs and the tags that can no longer be read, naming each, so that "
	 "a push or pull restores them."},
	CLI_OPT_END};

const mg_cmd cli_cmd_fsck = {
	.name = "fsck",
	.fn = cmd_fsck,
	.summary = "re-hash every blob and check every reference",
	.description = "Re-hashes every blob of the local store and checks that everything a tag "
		       "references is there; exit 1 when anything is corrupt or missing.",
	.synopsis = {"[--repair] [OPTIONS]"},
	.opts = {fsck_opts},
	.examples = {{"modelgate fsck", "Check the store."},
		     {"modelgate fsck --repair", "Check it and remove what is corrupt."}},
};
