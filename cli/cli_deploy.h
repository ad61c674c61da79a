/* What deploy, rollback, history and attest share (cli/cli_deploy.c):
 * opening the place an environment lives, and the triggers. */
#ifndef MG_CLI_DEPLOY_H
#define MG_CLI_DEPLOY_H

#include "cli.h"
#include "pipelines/deploy.h"

/* Opens the repository an environment lives in: that of what (a
 * reference or a bare repository), or with what NULL of the "model" of the
 * config file (-c, default ./modelgate.json). *ref (caller frees) is the
 * reference it was named by. */
int cli_deploy_repo(mg_cli *cli, const char *what, const char *config, mg_ref **ref, mg_repo *repo,
		    mg_error *err);

/* The options deploy and rollback share: --env, --trigger (at most
 * CLI_TRIGGER_MAX), --config, --token-env, --secret-env. */
#define CLI_TRIGGER_MAX 32
typedef struct cli_trigger_args {
	const char *env, *config, *token_env, *secret_env;
	char *specs[CLI_TRIGGER_MAX];
	size_t nspecs;
} cli_trigger_args;
extern const mg_opt cli_trigger_opts[];
/* Takes an option of cli_trigger_opts, else passes c to cli_common_opt;
 * returns -1 when the command goes on, else the exit code. */
int cli_trigger_opt(mg_cli *cli, cli_trigger_args *a, int c);

/* The triggers of config's "deploy" section (when config is set or
 * ./modelgate.json exists), then the --trigger specs. */
int cli_triggers_load(mg_trigger_list *l, const cli_trigger_args *a, mg_error *err);

/* Prints a deploy or rollback result (text or --json); the exit code: 0,
 * or 3 when a trigger failed. */
int cli_deploy_print(mg_cli *cli, const char *env, int rollback, const mg_deploy_result *res);

#endif
