/* modelgate verify BUNDLE [--key PUB]: checks every file of a bundle
 * against its manifest.json, and its signature with --key. Exit 0 when all
 * is well, 1 when something does not match (each problem on its own line,
 * naming the file or the signature), 2 when BUNDLE is not a readable
 * bundle. Also the printing that unpack shares. */
#include "cli.h"
#include "pipelines/package.h"

#include <jansson.h>

static const char *sig_name(mg_sig_status s)
{
	switch (s) {
	case MG_SIG_NONE:
		return "none";
	case MG_SIG_UNCHECKED:
		return "unchecked";
	case MG_SIG_VALID:
		return "valid";
	default:
		return "invalid";
	}
}

/* Prints the outcome of a check; returns the exit code. */
int cli_print_bundle_check(mg_cli *cli, const char *bundle, const mg_bundle_check *c,
			   const char *action)
{
	for (size_t i = 0; i < c->nproblems; i++)
		fprintf(stderr, "modelgate: '%s': %s\n", bundle, cli_text(c->problems[i]));
	if (cli->json) {
		json_t *problems = json_array();
		for (size_t i = 0; i < c->nproblems; i++)
			json_array_append_new(problems, json_string(c->problems[i]));
		json_t *files = json_array();
		for (size_t i = 0; i < c->nentries; i++)
			json_array_append_new(files, json_pack("{s:s, s:s, s:I}", "path", c->entries[i].path,
							       "digest", c->entries[i].digest, "size",
							       (json_int_t)c->entries[i].size));
		int rc = cli_print_json(json_pack(
			"{s:s, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o}", "bundle", bundle, "ok", c->ok, "signature",
			sig_name(c->sig), "key_id", c->key_id[0] ? json_string(c->key_id) : json_null(),
			"artifact_digest", c->artifact_digest[0] ? json_string(c->artifact_digest) : json_null(),
			"gates", c->gate_status ? json_string(c->gate_status) : json_null(), "release",
			c->release ? json_integer((json_int_t)c->release) : json_null(), "files", files,
			"problems", problems));
		if (rc)
			return rc;
		return c->ok ? 0 : MG_EXIT_GATE;
	}
	if (!c->ok) {
		fprintf(stderr, "modelgate: '%s' failed verification (%zu problem%s)%s\n", bundle,
			c->nproblems, c->nproblems == 1 ? "" : "s", action ? "; nothing was extracted" : "");
		return MG_EXIT_GATE;
	}
	if (!cli->quiet) {
		printf("%s: %s %zu files, artifact %s, gates %s\n", bundle, action ? action : "verified",
		       c->nentries, c->artifact_digest, c->gate_status ? cli_text(c->gate_status) : "unknown");
		if (c->sig == MG_SIG_VALID)
			printf("signature: valid, key %s\n", cli_text(c->key_id));
		else if (c->sig == MG_SIG_UNCHECKED)
			printf("signature: present but not checked (no --key), signed by key %s\n", cli_text(c->key_id));
		else
			printf("signature: none (unsigned bundle)\n");
	}
	return 0;
}

static int cmd_verify(mg_cli *cli, int argc, char **argv)
{
	const char *key = NULL;
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'k')
			key = optarg;
		else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, argc - optind < 1 ? "missing bundle" : "too many arguments");
	mg_error err = {0};
	mg_bundle_check *chk = NULL;
	if (mg_bundle_verify(&chk, argv[optind], key, &err))
		return cli_fail(cli, &err);
	rc = cli_print_bundle_check(cli, argv[optind], chk, NULL);
	mg_bundle_check_free(chk);
	return rc;
}

static const mg_opt verify_opts[] = {
	{"key", 'k', 0, "KEY.pub", "Check the signature with this public key."},
	CLI_OPT_END};

const mg_cmd cli_cmd_verify = {
	.name = "verify",
	.fn = cmd_verify,
	.summary = "check a bundle's files and signature against its manifest",
	.description = "Checks every file of the bundle against its manifest's digests and, with "
		       "--key, the signature; exit 1 when anything differs.",
	.synopsis = {"BUNDLE [--key KEY.pub] [OPTIONS]"},
	.opts = {verify_opts},
	.examples = {{"modelgate verify kws.tar.zst --key release-key.pub", "Check a signed bundle."},
		     {"modelgate verify kws.zip", "Check an unsigned bundle's files."}},
};
