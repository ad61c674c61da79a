/* modelgate history [REPO] --env NAME: the deployment history of an
 * environment, oldest first: sequence number, when, action, digest, who,
 * the report and each trigger's outcome. --json prints the entries as a
 * JSON array. REPO defaults to the model of modelgate.json. */
#include "cli_deploy.h"

#include <stdlib.h>
#include <string.h>

static void print_entry(mg_cli *cli, const mg_history_entry *e)
{
	int rb = !strcmp(e->action, "rollback");
	printf("#%lld  %s  %s%-8s%s  %s  by %s", (long long)e->seq, e->when ? cli_text(e->when) : "?",
	       cli_color(cli, rb ? "33" : "32"), cli_text(e->action), cli_color(cli, "0"),
	       cli_text(e->digest), e->who ? cli_text(e->who) : "?");
	if (e->previous)
		printf("  previous %.19s", cli_text(e->previous));
	if (e->report_digest)
		printf("  report %.19s (%s)", cli_text(e->report_digest),
			       e->report_status ? cli_text(e->report_status) : "?");
	printf("\n");
	for (size_t i = 0; i < e->ntriggers; i++) {
		const mg_trigger_result *r = &e->triggers[i];
		printf("    trigger %s: %s", cli_text(r->name), r->ok ? "ok" : "FAILED");
		if (r->status)
			printf(" (%ld)", r->status);
		if (!r->ok && r->message)
			printf(": %s", cli_text(r->message));
		printf("\n");
	}
	if (e->run_url)
		printf("    run %s\n", cli_text(e->run_url));
}

static int cmd_history(mg_cli *cli, int argc, char **argv)
{
	const char *env = NULL, *config = NULL;
	int c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		switch (c) {
		case 'e': env = optarg; break;
		case 'c': config = optarg; break;
		default:
			if ((rc = cli_common_opt(cli, c)) >= 0)
				return rc;
		}
	}
	if (argc - optind > 1)
		return cli_usage_error(cli, "expected at most one repository");
	if (!env)
		return cli_usage_error(cli, "--env NAME is required");
	if (!mg_tag_valid(env))
		return cli_usage_error(cli, "'%s' is not a valid environment name", env);
	mg_error err = {0};
	mg_ref *ref = NULL;
	mg_repo repo = {0};
	mg_history *h = NULL;
	rc = cli_deploy_repo(cli, optind < argc ? argv[optind] : NULL, config, &ref, &repo, &err);
	if (!rc)
		rc = mg_history_read(&h, &repo, env, &err);
	if (rc) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (cli->json) {
		char *s = mg_history_to_json(h, &err);
		if (!s) {
			rc = cli_fail(cli, &err);
			goto done;
		}
		printf("%s\n", s);
		free(s);
	} else if (!h->n) {
		cli_info(cli, "no deployments to '%s' in '%s' yet\n", env, repo.label);
	} else {
		for (size_t i = 0; i < h->n; i++)
			print_entry(cli, &h->entries[i]);
	}
done:
	mg_history_free(h);
	mg_repo_close(&repo);
	mg_ref_free(ref);
	return rc;
}

static const mg_opt history_opts[] = {
	{"env", 'e', 0, "NAME", "The environment (required)."},
	{"config", 'c', 0, "FILE", "The config whose model is REPO's default (default modelgate.json)."},
	CLI_OPT_END};

const mg_cmd cli_cmd_history = {
	.name = "history",
	.fn = cmd_history,
	.summary = "show the deployments of an environment",
	.description = "Shows the deployments and rollbacks of an environment, oldest first: when, "
		       "what, who, the report and each trigger's outcome.",
	.synopsis = {"[REPO] --env NAME [-c FILE] [OPTIONS]"},
	.opts = {history_opts, cli_remote_opts},
	.examples = {{"modelgate history kws --env production", "Show production's deployments."},
		     {"modelgate history --env beta --json", "The same for the config's model, as JSON."}},
};
