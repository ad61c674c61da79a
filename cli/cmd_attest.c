/* modelgate attest REF --report report.json --sign KEY: builds the signed
 * gate result of REF's version (an in-toto Statement in a DSSE envelope,
 * signed with the Ed25519 key) and attaches it to the model in its store
 * or registry as an OCI referrer, listed in the sha256-<hex> fallback
 * index as well. Prints the referrer's manifest digest. The report must
 * name REF's digest (it may have failed: the statement says so, and
 * `deploy --require-signed-report` refuses it). */
#include "cli_deploy.h"
#include "validator/report.h"

#include <jansson.h>
#include <string.h>

static int cmd_attest(mg_cli *cli, int argc, char **argv)
{
	const char *report_path = NULL, *key = NULL;
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		switch (c) {
		case 'r': report_path = optarg; break;
		case 's': key = optarg; break;
		default:
			if ((rc = cli_common_opt(cli, c)) >= 0)
				return rc;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "expected one reference");
	if (!report_path || !key)
		return cli_usage_error(cli, "--report FILE and --sign KEY are required");
	mg_error err = {0};
	mg_report *report = NULL;
	mg_ref *ref = NULL;
	mg_repo repo = {0};
	mg_buf st = MG_BUF_INIT, env = MG_BUF_INIT;
	char digest[MG_DIGEST_SIZE], ref_digest[MG_DIGEST_SIZE];
	rc = mg_report_read_json(&report, report_path, &err);
	if (!rc)
		rc = cli_deploy_repo(cli, argv[optind], NULL, &ref, &repo, &err);
	if (!rc)
		rc = mg_repo_digest_of(&repo, ref, digest, &err);
	if (!rc && (!report->model_digest || strcmp(report->model_digest, digest)))
		rc = mg_error_set(&err, MG_EINVAL, "report '%s' is about %s, not '%s' (%s)", report_path,
				  report->model_digest ? report->model_digest : "no model digest",
				  argv[optind], digest);
	if (!rc)
		rc = mg_attest_statement(&st, report, digest, &err);
	if (!rc)
		rc = mg_attest_sign(&env, st.data, st.len, key, &err);
	if (!rc)
		rc = mg_attest_attach(&repo, digest, env.data, env.len, ref_digest, &err);
	if (rc) {
		rc = cli_fail(cli, &err);
	} else if (cli->json) {
		char tag[MG_REFERRERS_TAG_SIZE];
		mg_referrers_tag(tag, digest);
		rc = cli_print_json(json_pack("{s:s, s:s, s:s, s:s}", "subject", digest, "referrer",
					      ref_digest, "status",
					      mg_gate_status_name(mg_report_status(report)),
					      "fallback_tag", tag));
	} else {
		printf("%s\n", ref_digest);
	}
	mg_buf_free(&st);
	mg_buf_free(&env);
	mg_report_free(report);
	mg_repo_close(&repo);
	mg_ref_free(ref);
	return rc;
}

static const mg_opt attest_opts[] = {
	{"report", 'r', 0, "FILE", "The report.json of REF's gate run (required)."},
	{"sign", 's', 0, "KEY", "Sign with the Ed25519 private key KEY (required)."},
	CLI_OPT_END};

const mg_cmd cli_cmd_attest = {
	.name = "attest",
	.fn = cmd_attest,
	.summary = "attach a signed gate result to a model version (OCI referrer)",
	.description = "Signs REF's gate result (an in-toto statement in a DSSE envelope) and "
		       "attaches it to the version as an OCI referrer; prints its digest.",
	.synopsis = {"REF --report FILE --sign KEY [OPTIONS]"},
	.opts = {attest_opts, cli_remote_opts},
	.examples = {{"modelgate attest kws:v3 --report report.json --sign release-key",
		      "Attach the signed result of kws:v3's gate run."},
		     {"modelgate attest localhost:5000/team/kws:v3 -r report.json -s release-key",
		      "The same in a registry."}},
};
