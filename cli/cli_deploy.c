/* The shared part of deploy, rollback, history and attest: finding the
 * repository an environment lives in (a reference on the command line, or
 * the model of modelgate.json), connecting to its store or registry,
 * loading triggers from modelgate.json and --trigger, and printing what a
 * deploy or rollback did. */
#include "cli_deploy.h"
#include "registry/remote.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONFIG_MAX (8u << 20)

/* The "model" of a config file, or MG_ENOTFOUND when there is no file. */
static int config_model(mg_buf *out, const char *config, mg_error *err)
{
	const char *path = config ? config : "modelgate.json";
	if (!config && access(path, F_OK) != 0)
		return mg_error_set(err, MG_EINVAL, "no repository given, and no modelgate.json here "
				    "to take the model from");
	mg_buf text = MG_BUF_INIT;
	int rc = mg_file_read(&text, path, CONFIG_MAX, err);
	json_error_t je;
	json_t *root = rc ? NULL : json_loadb(text.data, text.len, 0, &je);
	if (!rc && !root)
		rc = mg_error_set(err, MG_EINVAL, "%s:%d:%d: %s", path, je.line, je.column, je.text);
	const char *m = json_string_value(json_object_get(root, "model"));
	if (!rc && !m)
		rc = mg_error_set(err, MG_EINVAL, "%s: model: expected a reference", path);
	if (!rc)
		rc = mg_buf_puts(out, m, err);
	json_decref(root);
	mg_buf_free(&text);
	return rc;
}

int cli_deploy_repo(mg_cli *cli, const char *what, const char *config, mg_ref **ref, mg_repo *repo,
		    mg_error *err)
{
	*ref = NULL;
	mg_buf m = MG_BUF_INIT;
	int rc = 0;
	if (!what) {
		rc = config_model(&m, config, err);
		what = m.data;
	}
	if (!rc)
		rc = mg_ref_parse(ref, what, err);
	if (!rc)
		rc = cli_repo_open(cli, repo, *ref, err);
	mg_buf_free(&m);
	return rc;
}

const mg_opt cli_trigger_opts[] = {
	{"env", 'e', 0, "NAME", "The environment: the tag that names its version (required)."},
	{"trigger", 't', 0, "KIND:ARGS",
	 "Also fire this trigger (repeatable): github-dispatch:OWNER/REPO[:EVENT], "
	 "github-workflow:OWNER/REPO:WORKFLOW[:REF], gitlab:PROJECT[:REF] or webhook:URL."},
	{"config", 'c', 0, "FILE",
	 "The config whose triggers fire and whose model is the default (default modelgate.json)."},
	{"token-env", 0, 'T', "VAR", "The environment variable holding the --trigger's token."},
	{"secret-env", 0, 'S', "VAR", "The environment variable holding the --trigger webhook's secret."},
	CLI_OPT_END};

int cli_trigger_opt(mg_cli *cli, cli_trigger_args *a, int c)
{
	switch (c) {
	case 'e': a->env = optarg; return -1;
	case 'c': a->config = optarg; return -1;
	case 'T': a->token_env = optarg; return -1;
	case 'S': a->secret_env = optarg; return -1;
	case 't':
		if (a->nspecs == CLI_TRIGGER_MAX)
			return cli_usage_error(cli, "at most %d --trigger", CLI_TRIGGER_MAX);
		a->specs[a->nspecs++] = optarg;
		return -1;
	default:
		return cli_common_opt(cli, c);
	}
}

int cli_triggers_load(mg_trigger_list *l, const cli_trigger_args *a, mg_error *err)
{
	const char *path = a->config ? a->config : "modelgate.json";
	int rc = 0;
	if (a->config || access(path, F_OK) == 0) {
		mg_buf text = MG_BUF_INIT;
		rc = mg_file_read(&text, path, CONFIG_MAX, err);
		if (!rc)
			rc = mg_trigger_parse_config(l, text.data ? text.data : "", text.len, path, err);
		mg_buf_free(&text);
	}
	for (size_t i = 0; !rc && i < a->nspecs; i++)
		rc = mg_trigger_parse_spec(l, a->specs[i], a->token_env, a->secret_env, err);
	return rc;
}

int cli_deploy_print(mg_cli *cli, const char *env, int rollback, const mg_deploy_result *res)
{
	if (cli->json) {
		json_t *tr = json_array();
		for (size_t i = 0; tr && i < res->nfired; i++) {
			const mg_trigger_result *r = &res->fired[i];
			json_array_append_new(tr, json_pack("{s:s, s:b, s:i, s:s?}", "name", r->name, "ok",
							    r->ok, "status", (int)r->status, "message",
							    r->message));
		}
		return cli_print_json(json_pack("{s:s, s:s, s:s, s:s?, s:I, s:b, s:o, s:i, s:i}", "env",
						env, "action", rollback ? "rollback" : "deploy",
						"digest", res->digest, "previous",
						res->previous[0] ? res->previous : NULL, "seq",
						(json_int_t)res->seq, "moved", res->moved, "triggers",
						tr ? tr : json_array(), "failed", (int)res->nfailed,
						"skipped", (int)res->nskipped)) ? MG_EXIT_INFRA
						: res->nfailed ? MG_EXIT_INFRA : 0;
	}
	if (!cli->quiet) {
		if (res->moved)
			printf("%s %s: %s%s%s%s\n", rollback ? "rolled back" : "deployed to", env,
			       res->digest, res->previous[0] ? " (previous " : "",
			       res->previous[0] ? res->previous : "", res->previous[0] ? ")" : "");
		else
			printf("%s %s: %s already recorded as #%lld; firing what is missing\n",
			       rollback ? "rollback of" : "deploy to", env, res->digest, (long long)res->seq);
	}
	for (size_t i = 0; i < res->nfired; i++) {
		const mg_trigger_result *r = &res->fired[i];
		if (r->ok && !cli->quiet)
			printf("trigger %s: ok (%ld)\n", r->name, r->status);
		else if (!r->ok)
			fprintf(stderr, "modelgate: trigger '%s' failed: %s\n", r->name,
				r->message ? r->message : "unknown error");
	}
	if (res->nskipped && !cli->quiet)
		printf("%zu trigger(s) fired by an earlier run, not fired again\n", res->nskipped);
	return res->nfailed ? MG_EXIT_INFRA : 0;
}
