/* modelgate copy SRC DST: copy a version between the local store and
 * registries, in any direction, moving only the blobs DST lacks. Pulling
 * from a registry into the store is `copy HOST/REPO:TAG REPO:TAG`. */
#include "cli.h"

#include <jansson.h>
#include <string.h>

static int copy_print(mg_cli *cli, const char *src, const char *dst, char digest[MG_DIGEST_SIZE],
		      int print)
{
	mg_error err = {0};
	mg_ref *sref = NULL, *dref = NULL;
	mg_repo s = {0}, d = {0};
	mg_repo_opts ro;
	cli_repo_opts(cli, &ro);
	mg_copy_result res;
	int rc = 0;
	if (mg_ref_parse(&sref, src, &err) || mg_ref_parse(&dref, dst, &err) ||
	    mg_repo_open(&s, sref, &ro, &err) || mg_repo_open_near(&d, dref, &s, &ro, &err) ||
	    mg_copy(&s, sref, &d, dref, &res, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	memcpy(digest, res.digest, MG_DIGEST_SIZE);
	if (!print) {
	} else if (cli->json) {
		rc = cli_print_json(json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "source", src,
					      "destination", dst, "digest", res.digest, "blobs_copied",
					      (json_int_t)res.blobs_copied, "blobs_mounted",
					      (json_int_t)res.blobs_mounted, "blobs_skipped",
					      (json_int_t)res.blobs_skipped, "bytes_copied",
					      (json_int_t)res.bytes_copied));
	} else {
		if (cli->verbose)
			cli_info(cli, "copied '%s' to '%s': %zu blob(s) copied, %zu mounted, %zu already there\n",
				 src, dst, res.blobs_copied, res.blobs_mounted, res.blobs_skipped);
		printf("%s\n", res.digest);
	}
done:
	mg_repo_close(&d);
	mg_repo_close(&s);
	mg_ref_free(sref);
	mg_ref_free(dref);
	return rc;
}

int cli_copy(mg_cli *cli, const char *src, const char *dst, char digest[MG_DIGEST_SIZE])
{
	return copy_print(cli, src, dst, digest, 0);
}

static int cmd_copy(mg_cli *cli, int argc, char **argv)
{
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1)
		if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	if (argc - optind != 2)
		return cli_usage_error(cli, "expected a source and a destination reference");
	char digest[MG_DIGEST_SIZE];
	return copy_print(cli, argv[optind], argv[optind + 1], digest, 1);
}

const mg_cmd cli_cmd_copy = {
	.name = "copy",
	.fn = cmd_copy,
	.summary = "copy a version between the store and registries",
	.description = "Copies the version SRC, with all its files, to DST: the local store or a "
		       "registry on either side; files DST has already are not sent.",
	.synopsis = {"SRC DST [OPTIONS]"},
	.opts = {cli_remote_opts},
	.examples = {{"modelgate copy kws:v3 localhost:5000/team/kws:v3", "Publish a version to a registry."},
		     {"modelgate copy ghcr.io/acme/kws:v3 kws:v3", "Bring a version into the local store."}},
};
