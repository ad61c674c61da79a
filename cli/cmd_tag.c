/* modelgate tag REF NEWTAG: point another tag at the version REF names. */
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int cmd_tag(mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {CLI_REMOTE_OPTS, CLI_COMMON_OPTS};
	int c, rc;
	while ((c = getopt_long(argc, argv, CLI_COMMON_SHORT, opts, NULL)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	if (argc - optind != 2)
		return cli_usage_error(cli, "expected a reference and a new tag");
	mg_error err = {0};
	mg_ref *ref = NULL, *dst = NULL;
	mg_store *store = NULL;
	char *name = NULL;
	char digest[MG_DIGEST_SIZE];
	const char *target = argv[optind + 1];
	rc = 0;
	if (mg_ref_parse(&ref, argv[optind], &err) ||
	    (!mg_tag_valid(target) && mg_ref_parse(&dst, target, &err))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (ref->registry || (dst && dst->registry)) { /* a copy that moves no blob */
		if (dst && (dst->digest || dst->tag_implicit)) {
			rc = cli_usage_error(cli, "'%s' is not a tag or REPO:TAG", target);
			goto done;
		}
		mg_buf full = MG_BUF_INIT;
		if (!dst && mg_buf_printf(&full, &err, "%s/%s:%s", ref->registry, ref->repo, target)) {
			rc = cli_fail(cli, &err);
			goto done;
		}
		const char *to = dst ? target : full.data;
		rc = cli_copy(cli, argv[optind], to, digest);
		if (!rc && cli->json)
			rc = cli_print_json(json_pack("{s:s, s:s}", "name", to, "digest", digest));
		else if (!rc && cli->verbose)
			cli_info(cli, "tagged %s as '%s'\n", digest, to);
		mg_buf_free(&full);
		goto done;
	}
	/* NEWTAG is a bare tag in REF's repository, or a whole REPO:TAG */
	if (mg_tag_valid(target)) {
		size_t n = strlen(ref->repo) + strlen(target) + 2;
		if ((name = malloc(n)))
			snprintf(name, n, "%s:%s", ref->repo, target);
	} else {
		if (dst->digest || dst->tag_implicit) {
			rc = cli_usage_error(cli, "'%s' is not a tag or REPO:TAG", target);
			goto done;
		}
		name = mg_ref_store_name(dst, &err);
	}
	if (!name || cli_open_store(&store, &err) || mg_store_resolve(store, ref, digest, &err) ||
	    mg_store_set_tag(store, name, digest, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (cli->json)
		rc = cli_print_json(json_pack("{s:s, s:s}", "name", name, "digest", digest));
	else if (cli->verbose)
		cli_info(cli, "tagged %s as '%s'\n", digest, name);
done:
	free(name);
	mg_ref_free(ref);
	mg_ref_free(dst);
	mg_store_free(store);
	return rc;
}
