/* modelgate deploy REF --env NAME --report report.json: refuses (exit 1,
 * the deploy pipeline's policy, mg_deploy_run)
 * unless the report passed and names exactly REF's digest (and, with
 * --require-signed-report, unless a gate result signed by --key is
 * attached to it); then moves the tag NAME to the digest (NAME-previous
 * keeps the old one), records the move in NAME-history and fires the
 * triggers of modelgate.json and --trigger. A failed trigger is exit 3 with
 * the move recorded; running the same deploy again fires only what did not
 * succeed. */
#include "cli_deploy.h"
#include "validator/report.h"

#include <stdlib.h>
#include <string.h>

static int cmd_deploy(mg_cli *cli, int argc, char **argv)
{
	cli_trigger_args ta = {0};
	const char *report_path = NULL, *key = NULL;
	int require_signed = 0, c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		switch (c) {
		case 'r': report_path = optarg; break;
		case 'R': require_signed = 1; break;
		case 'k': key = optarg; break;
		default:
			if ((rc = cli_trigger_opt(cli, &ta, c)) >= 0)
				return rc;
		}
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, "expected one reference");
	const char *env = ta.env;
	if (!env)
		return cli_usage_error(cli, "--env NAME is required");
	if (!report_path)
		return cli_usage_error(cli, "--report FILE is required");
	if (require_signed && !key)
		return cli_usage_error(cli, "--require-signed-report needs --key PUBLIC_KEY");
	mg_error err = {0};
	mg_trigger_list triggers = MG_TRIGGER_LIST_INIT;
	mg_report *report = NULL;
	mg_ref *ref = NULL;
	mg_repo repo = {0};
	mg_deploy_result res = {0};
	mg_buf rbytes = MG_BUF_INIT;
	char digest[MG_DIGEST_SIZE], report_digest[MG_DIGEST_SIZE];
	const char *refname = argv[optind];
	if ((rc = cli_triggers_load(&triggers, &ta, &err)) ||
	    (rc = mg_trigger_check_env(&triggers, &err)) ||
	    (rc = mg_file_read(&rbytes, report_path, 64u << 20, &err)) ||
	    (rc = mg_report_parse_json(&report, mg_buf_cstr(&rbytes), rbytes.len, report_path, &err)) ||
	    (rc = cli_deploy_repo(cli, refname, ta.config, &ref, &repo, &err)) ||
	    (rc = mg_repo_digest_of(&repo, ref, digest, &err))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	mg_digest_bytes(rbytes.data ? rbytes.data : "", rbytes.len, report_digest);
	mg_deploy_opts o = MG_DEPLOY_OPTS_INIT;
	o.env = env;
	o.digest = digest;
	o.reference = refname;
	o.report = report;
	o.report_digest = report_digest;
	o.triggers = &triggers;
	o.http.insecure = cli->insecure;
	o.http.ca_file = cli->ca_file;
	o.signed_by = require_signed ? key : NULL;
	o.ci = &cli->ci;
	if ((rc = mg_deploy_run(&repo, &o, &res, &err)) && res.refused) {
		fprintf(stderr, "modelgate: refusing to deploy '%s' to '%s': %s\n", refname, env, err.msg);
		rc = MG_EXIT_GATE;
	} else if (rc) {
		rc = cli_fail(cli, &err);
	} else {
		if (res.signed_manifest[0] && cli->verbose)
			cli_info(cli, "signed gate result %s verified (key %s)\n", res.signed_manifest,
				 res.signed_keyid);
		rc = cli_deploy_print(cli, env, 0, &res);
	}
done:
	mg_deploy_result_clear(&res);
	mg_buf_free(&rbytes);
	mg_repo_close(&repo);
	mg_ref_free(ref);
	mg_report_free(report);
	mg_trigger_list_clear(&triggers);
	return rc;
}

static const mg_opt deploy_opts[] = {
	{"report", 'r', 0, "FILE", "The passing report.json of REF's digest (required)."},
	{"require-signed-report", 0, 'R', NULL, "Refuse unless a gate result signed by --key is attached to REF."},
	{"key", 0, 'k', "KEY.pub", "The public key signed gate results are checked with."},
	CLI_OPT_END};

const mg_cmd cli_cmd_deploy = {
	.name = "deploy",
	.fn = cmd_deploy,
	.summary = "move an environment tag to a version that passed, fire the triggers",
	.description = "Refuses (exit 1) unless the report passed and names REF's digest; then "
		       "moves the tag NAME to it (NAME-previous keeps the old one), records the move "
		       "and fires the triggers. A failed trigger is exit 3; running the same deploy "
		       "again fires only what did not succeed.",
	.synopsis = {"REF --env NAME --report FILE [--trigger KIND:ARGS]... [OPTIONS]"},
	.opts = {deploy_opts, cli_trigger_opts, cli_remote_opts},
	.examples = {{"modelgate deploy kws:v3 --env production --report report.json",
		      "Tag kws:v3 as production and fire modelgate.json's triggers."},
		     {"modelgate deploy kws:v3 --env beta -r report.json --trigger gitlab:42",
		      "Deploy to beta and start a pipeline of the GitLab project 42."},
		     {"modelgate deploy kws:v3 --env production -r report.json --require-signed-report --key release-key.pub",
		      "Deploy only a version with a signed passing result."}},
};
