/* modelgate unpack BUNDLE -o DIR [--key PUB]: verifies a bundle, then
 * extracts it into DIR (new, or an empty folder) safely: no absolute paths,
 * no '..', nothing written through symlinks, only files and folders, and
 * nothing at all when any check fails. Exit codes as verify. */
#include "cli.h"
#include "pipelines/package.h"

static int cmd_unpack(mg_cli *cli, int argc, char **argv)
{
	const char *key = NULL, *dir = NULL;
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'o')
			dir = optarg;
		else if (c == 'k')
			key = optarg;
		else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, argc - optind < 1 ? "missing bundle" : "too many arguments");
	if (!dir)
		return cli_usage_error(cli, "-o DIR is required");
	mg_error err = {0};
	mg_bundle_check *chk = NULL;
	if (mg_bundle_unpack(&chk, argv[optind], dir, key, &err))
		return cli_fail(cli, &err);
	char action[4200];
	snprintf(action, sizeof(action), "unpacked into '%s':", dir);
	rc = cli_print_bundle_check(cli, argv[optind], chk, action);
	mg_bundle_check_free(chk);
	return rc;
}

static const mg_opt unpack_opts[] = {
	{"output", 'o', 0, "DIR", "The new folder to extract into (required)."},
	{"key", 'k', 0, "KEY.pub", "Check the signature with this public key first."},
	CLI_OPT_END};

const mg_cmd cli_cmd_unpack = {
	.name = "unpack",
	.fn = cmd_unpack,
	.summary = "verify a bundle, then extract it safely into a new folder",
	.synopsis = {"BUNDLE -o DIR [--key KEY.pub] [OPTIONS]"},
	.opts = {unpack_opts},
	.examples = {{"modelgate unpack kws.tar.zst -o models/kws --key release-key.pub",
		      "Verify a signed bundle and extract it."},
		     {"modelgate unpack kws.zip -o /tmp/kws", "Extract an unsigned bundle."}},
};
