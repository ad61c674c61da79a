/* modelgate keygen -o NAME [--force]: writes an Ed25519 key pair for
 * signing bundles: NAME (private, PKCS#8 PEM, mode 0600) and NAME.pub
 * (public, PEM), and prints the key id. */
#include "cli.h"
#include "pipelines/sign.h"

#include <jansson.h>

static int cmd_keygen(mg_cli *cli, int argc, char **argv)
{
	const char *name = NULL;
	int force = 0, c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'o')
			name = optarg;
		else if (c == 'f')
			force = 1;
		else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind]);
	if (!name)
		return cli_usage_error(cli, "-o NAME is required");
	mg_error err = {0};
	char id[MG_DIGEST_SIZE];
	if (mg_keygen(name, force, &err) || mg_key_id(name, id, &err))
		return cli_fail(cli, &err);
	if (cli->json)
		return cli_print_json(json_pack("{s:s, s:s++, s:s}", "private_key", name, "public_key", name,
						".pub", "key_id", id));
	if (!cli->quiet) {
		printf("%s\n", id);
		cli_info(cli, "wrote '%s' (private, keep it secret) and '%s.pub'\n", name, name);
	}
	return 0;
}

static const mg_opt keygen_opts[] = {
	{"output", 'o', 0, "NAME", "Write the private key to NAME and the public key to NAME.pub (required)."},
	{"force", 'f', 0, NULL, "Replace existing key files."},
	CLI_OPT_END};

const mg_cmd cli_cmd_keygen = {
	.name = "keygen",
	.fn = cmd_keygen,
	.summary = "write an Ed25519 key pair for signing bundles",
	.synopsis = {"-o NAME [--force] [OPTIONS]"},
	.opts = {keygen_opts},
	.examples = {{"modelgate keygen -o release-key", "Write release-key and release-key.pub."},
		     {"modelgate keygen -o ci-key --force", "Replace an existing pair."}},
};
