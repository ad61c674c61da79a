/* What deploy, rollback, history and attest share (cli/cli_deploy.c):
 * opening the place an environment lives, and the triggers. */
#ifndef MG_CLI_DEPLOY_H
#define MG_CLI_DEPLOY_H

#include "cli.h"
#include "pipelines/deploy.h"

typedef struct cli_target {
	mg_ref *ref;
	mg_store *store;
	mg_remote *remote;
	mg_deploy_target t;
	char label[512]; /* "host/repo" or "repo" */
} cli_target;

/* Opens the store or registry of what (a reference or a bare repository);
 * NULL: the "model" of the config file (-c, default ./modelgate.json). */
int cli_target_open(mg_cli *cli, cli_target *ct, const char *what, const char *config,
		    mg_error *err);
void cli_target_close(cli_target *ct);

/* The triggers of config's "deploy" section (when config is set or
 * ./modelgate.json exists), then the --trigger specs. */
int cli_triggers_load(mg_trigger_list *l, const char *config, char **specs, size_t nspecs,
		      const char *token_env, const char *secret_env, mg_error *err);

/* Prints a deploy or rollback result (text or --json); the exit code: 0,
 * or 3 when a trigger failed. */
int cli_deploy_print(mg_cli *cli, const char *env, int rollback, const mg_deploy_result *res);

#endif
