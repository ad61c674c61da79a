/* modelgate rollback [REPO] --env NAME: points NAME back at NAME-previous
 * (and NAME-previous at what NAME was), records the rollback in the
 * history and fires the triggers with the rollback flagged. REPO defaults
 * to the model of modelgate.json. A failed trigger is exit 3; running the
 * same rollback again fires only what did not succeed (it does not swap
 * the tags back). */
#include "cli_deploy.h"

#include <string.h>

#define MAX_TRIGGERS 32

int cmd_rollback(mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"env", required_argument, NULL, 'e'},
		{"trigger", required_argument, NULL, 't'},
		{"config", required_argument, NULL, 'c'},
		{"token-env", required_argument, NULL, 'T'},
		{"secret-env", required_argument, NULL, 'S'},
		CLI_REMOTE_OPTS,
		CLI_COMMON_OPTS};
	const char *env = NULL, *config = NULL, *token_env = NULL, *secret_env = NULL;
	char *specs[MAX_TRIGGERS];
	size_t nspecs = 0;
	int c, rc;
	while ((c = getopt_long(argc, argv, "e:t:c:" CLI_COMMON_SHORT, opts, NULL)) != -1) {
		switch (c) {
		case 'e': env = optarg; break;
		case 'c': config = optarg; break;
		case 'T': token_env = optarg; break;
		case 'S': secret_env = optarg; break;
		case 't':
			if (nspecs == MAX_TRIGGERS)
				return cli_usage_error(cli, "at most %d --trigger", MAX_TRIGGERS);
			specs[nspecs++] = optarg;
			break;
		default:
			if ((rc = cli_common_opt(cli, c)) >= 0)
				return rc;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(cli, "expected at most one repository");
	if (!env)
		return cli_usage_error(cli, "--env NAME is required");
	mg_error err = {0};
	mg_trigger_list triggers = MG_TRIGGER_LIST_INIT;
	cli_target ct;
	memset(&ct, 0, sizeof(ct));
	mg_deploy_result res = {0};
	if ((rc = cli_triggers_load(&triggers, config, specs, nspecs, token_env, secret_env, &err)) ||
	    (rc = cli_target_open(cli, &ct, optind < argc ? argv[optind] : NULL, config, &err))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	mg_deploy_opts o = MG_DEPLOY_OPTS_INIT;
	o.env = env;
	o.rollback = 1;
	o.triggers = &triggers;
	o.http.insecure = cli->insecure;
	o.http.ca_file = cli->ca_file;
	o.repo_label = ct.label;
	if ((rc = mg_deploy_run(&ct.t, &o, &res, &err)))
		rc = cli_fail(cli, &err);
	else
		rc = cli_deploy_print(cli, env, 1, &res);
done:
	mg_deploy_result_clear(&res);
	cli_target_close(&ct);
	mg_trigger_list_clear(&triggers);
	return rc;
}
