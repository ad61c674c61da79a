/* modelgate rollback [REPO] --env NAME: points NAME back at NAME-previous
 * (and NAME-previous at what NAME was), records the rollback in the
 * history and fires the triggers with the rollback flagged. REPO defaults
 * to the model of modelgate.json. A failed trigger is exit 3; running the
 * same rollback again fires only what did not succeed (it does not swap
 * the tags back). */
#include "cli_deploy.h"

#include <string.h>

static int cmd_rollback(mg_cli *cli, int argc, char **argv)
{
	cli_trigger_args ta = {0};
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1)
		if ((rc = cli_trigger_opt(cli, &ta, c)) >= 0)
			return rc;
	if (argc - optind > 1)
		return cli_usage_error(cli, "expected at most one repository");
	const char *env = ta.env;
	if (!env)
		return cli_usage_error(cli, "--env NAME is required");
	mg_error err = {0};
	mg_trigger_list triggers = MG_TRIGGER_LIST_INIT;
	mg_ref *ref = NULL;
	mg_repo repo = {0};
	mg_deploy_result res = {0};
	if ((rc = cli_triggers_load(&triggers, &ta, &err)) ||
	    (rc = cli_deploy_repo(cli, optind < argc ? argv[optind] : NULL, ta.config, &ref, &repo, &err))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	mg_deploy_opts o = MG_DEPLOY_OPTS_INIT;
	o.env = env;
	o.rollback = 1;
	o.triggers = &triggers;
	o.http.insecure = cli->insecure;
	o.http.ca_file = cli->ca_file;
	o.ci = &cli->ci;
	if ((rc = mg_deploy_run(&repo, &o, &res, &err)))
		rc = cli_fail(cli, &err);
	else
		rc = cli_deploy_print(cli, env, 1, &res);
done:
	mg_deploy_result_clear(&res);
	mg_repo_close(&repo);
	mg_ref_free(ref);
	mg_trigger_list_clear(&triggers);
	return rc;
}

const mg_cmd cli_cmd_rollback = {
	.name = "rollback",
	.fn = cmd_rollback,
	.summary = "move an environment tag back to its previous version",
	.description = "Points NAME back at NAME-previous, records the rollback and fires the "
		       "triggers with the rollback flagged. REPO defaults to the model of "
		       "modelgate.json.",
	.synopsis = {"[REPO] --env NAME [--trigger KIND:ARGS]... [OPTIONS]"},
	.opts = {cli_trigger_opts, cli_remote_opts},
	.examples = {{"modelgate rollback kws --env production", "Put production back where it was."},
		     {"modelgate rollback --env beta -c ci/modelgate.json",
		      "Roll back the model of another config."}},
};
