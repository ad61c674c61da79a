/* modelgate tag REF NEWTAG: point another tag at the version REF names. */
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static int cmd_tag(mg_cli *cli, int argc, char **argv)
{
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	if (argc - optind != 2)
		return cli_usage_error(cli, "expected a reference and a new tag");
	mg_error err = {0};
	mg_ref *ref = NULL, *dst = NULL;
	char *to = NULL;
	char digest[MG_DIGEST_SIZE];
	const char *target = argv[optind + 1];
	rc = 0;
	if (mg_ref_parse(&ref, argv[optind], &err) ||
	    (!mg_tag_valid(target) && mg_ref_parse(&dst, target, &err))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (dst && (dst->digest || dst->tag_implicit)) {
		rc = cli_usage_error(cli, "'%s' is not a tag or REPO:TAG", target);
		goto done;
	}
	/* NEWTAG is a bare tag in REF's repository, or a whole [HOST/]REPO:TAG;
	 * either way a copy that finds every blob there already */
	if (!(to = dst ? mg_strdup(target, &err) : mg_ref_retag(ref, target, &err))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	rc = cli_copy(cli, argv[optind], to, digest);
	if (!rc && cli->json)
		rc = cli_print_json(json_pack("{s:s, s:s}", "name", to, "digest", digest));
	else if (!rc && cli->verbose)
		cli_info(cli, "tagged %s as '%s'\n", digest, to);
done:
	free(to);
	mg_ref_free(ref);
	mg_ref_free(dst);
	return rc;
}

const mg_cmd cli_cmd_tag = {
	.name = "tag",
	.fn = cmd_tag,
	.summary = "give a version another tag",
	.description = "Gives the version REF the tag NEWTAG in its repository, or the reference "
		       "NEWREF (another repository, or a registry: then the version is copied).",
	.synopsis = {"REF NEWTAG|NEWREF [OPTIONS]"},
	.opts = {cli_remote_opts},
	.examples = {{"modelgate tag kws:v3 production", "Tag kws:v3 as kws:production."},
		     {"modelgate tag kws:v3 localhost:5000/team/kws:v3", "Copy kws:v3 to a registry."}},
};
