/* modelgate gate: evaluate the gates of a modelgate.json and say whether the
 * model may ship — a table on the terminal, report.json, and whatever the CI
 * around it reads (JUnit, Markdown step summary, annotations, outputs,
 * OpenMetrics, HTML). Exit 0 pass, 1 a gate failed, 2 bad config or input,
 * 3 a target or registry could not be reached. */
#include "cli.h"
#include "cli_deploy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pipelines/changed.h"
#include "runners/runners.h"
#include "validator/report.h"
#include "validator/validator.h"

/* Writes one report format to path atomically; "-" is stdout. */
static int write_to(const char *path, mg_report_format fmt, const mg_report *r,
		    const mg_report_render_opts *ro, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	int rc = mg_report_render(&b, r, fmt, ro, err);
	if (!rc && !strcmp(path, "-"))
		fwrite(b.data, 1, b.len, stdout);
	else if (!rc)
		rc = mg_file_write_atomic(path, b.data, b.len, err);
	mg_buf_free(&b);
	return rc;
}

/* Appends to a file the CI owns ($GITHUB_STEP_SUMMARY, $GITHUB_OUTPUT). */
static int append_to(const char *path, const mg_buf *b, mg_error *err)
{
	FILE *f = fopen(path, "a");
	if (!f)
		return mg_error_sys(err, MG_EIO, errno, "cannot append to '%s'", path);
	int ok = fwrite(b->data, 1, b->len, f) == b->len;
	if (fclose(f) != 0)
		ok = 0;
	return ok ? 0 : mg_error_sys(err, MG_EIO, errno, "cannot append to '%s'", path);
}

/* GitHub Actions: summary (within what is left of its 1 MiB, linking the
 * HTML report at html_url unless NULL), annotations on stdout, key figures
 * as step outputs. */
static int github(const mg_ci_env *ci, const mg_report *r, const char *html_url, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	int rc = 0;
	const char *summary = ci->github_step_summary, *outputs = ci->github_output;
	if (summary) {
		struct stat st;
		size_t used = stat(summary, &st) == 0 ? (size_t)st.st_size : 0;
		size_t room = used < MG_REPORT_SUMMARY_MAX ? MG_REPORT_SUMMARY_MAX - used : 0;
		/* a summary that no longer fits (the writer says so) is left out,
		 * the job is not failed for it */
		mg_error ignored;
		if (room > 2048 && !mg_report_write_markdown_linked(&b, r, room, html_url, &ignored))
			rc = append_to(summary, &b, err);
	}
	mg_buf_reset(&b);
	if (!rc && ci->github_actions &&
	    !(rc = mg_report_write_annotations(&b, r, MG_REPORT_ANNOTATIONS_MAX, err)))
		fwrite(b.data, 1, b.len, stdout);
	mg_buf_reset(&b);
	if (!rc && outputs && !(rc = mg_report_write_github_outputs(&b, r, err)))
		rc = append_to(outputs, &b, err);
	mg_buf_free(&b);
	return rc;
}

static void log_line(void *ctx, const char *msg)
{
	mg_cli *cli = ctx;
	cli_info(cli, "modelgate: %s\n", msg);
}

/* --changed: marks in go->changed (*sel, caller frees) the gates whose
 * inputs changed in git (changed.h). Sets *none when no gate that runs here
 * is left: the caller exits 0 without loading anything. */
static int select_changed(mg_cli *cli, const mg_config *cfg, mg_gate_opts *go, int **sel,
			  int pre_push, const char *since, int *none, mg_error *err)
{
	mg_changed_opts co = MG_CHANGED_OPTS_INIT;
	mg_buf in = MG_BUF_INIT;
	mg_changed *ch = NULL;
	mg_gate_pick *picks = NULL;
	int rc = 0;
	co.since = since;
	if (pre_push) {
		if ((rc = mg_fd_read(&in, 0, (size_t)1 << 20, MG_EINVAL, "standard input", err)))
			goto done;
		co.pre_push = mg_buf_cstr(&in);
	}
	if ((rc = mg_changed_read(&ch, cfg->dir, &co, err)))
		goto done;
	if (!(*sel = calloc(cfg->ngates + 1, sizeof(**sel))) ||
	    !(picks = calloc(cfg->ngates + 1, sizeof(*picks)))) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if ((rc = mg_changed_gates(*sel, cfg, go->model, go->baseline, ch, err)) < 0)
		goto done;
	go->changed = *sel;
	size_t n = 0, ci_only = 0;
	if ((rc = mg_gate_select(picks, &n, cfg, go, err)))
		goto done;
	for (size_t i = 0; i < cfg->ngates; i++)
		ci_only += picks[i] == MG_PICK_CI_ONLY;
	const char *base = ch->base ? ch->base : "empty";
	char shortbase[16];
	snprintf(shortbase, sizeof(shortbase), "%.12s", base);
	*none = n == 0;
	if (*none && ch->nothing_pushed)
		cli_info(cli, "modelgate: nothing pushed: no gate inputs changed\n");
	else if (*none && ci_only)
		cli_info(cli, "modelgate: only CI-only gates have inputs changed (%zu): nothing to gate here\n",
			 ci_only);
	else if (*none)
		cli_info(cli, "modelgate: no gate inputs changed since %s: nothing to gate\n",
			 strcmp(base, "empty") ? shortbase : "the empty tree");
	else
		cli_info(cli, "modelgate: %zu of %zu gate(s) have inputs changed since %s\n", n, cfg->ngates,
			 strcmp(base, "empty") ? shortbase : "the empty tree");
done:
	mg_changed_free(ch);
	mg_buf_free(&in);
	free(picks);
	return rc;
}

/* -q prints no table, and never hides why the run failed: each gate that
 * failed or could not be evaluated, and each inconclusive one that warns,
 * gets one line on stderr. */
static void quiet_notes(const mg_report *r)
{
	for (size_t i = 0; i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[i];
		const char *what = g->status == MG_GATE_FAIL ? "failed"
				   : g->status == MG_GATE_ERROR ? "could not be evaluated"
				   : g->status != MG_GATE_INCONCLUSIVE ? NULL
				   : g->on_inconclusive == MG_INCONCLUSIVE_FAIL ? "failed as inconclusive"
				   : g->on_inconclusive == MG_INCONCLUSIVE_WARN ? "was inconclusive" : NULL;
		if (what)
			fprintf(stderr, "modelgate: %sgate '%s' %s: %s\n",
				g->status == MG_GATE_INCONCLUSIVE && g->on_inconclusive == MG_INCONCLUSIVE_WARN
					? "warning: " : "",
				cli_text(g->name), what, g->reason ? cli_text(g->reason) : "no reason given");
	}
}

/* The config's "deploy" section, checked as deploy reads it: the whole
 * file is valid before anything runs. */
static int check_deploy_section(const mg_config *cfg, mg_error *err)
{
	cli_trigger_args ta = {0};
	mg_trigger_list triggers = MG_TRIGGER_LIST_INIT;
	ta.config = cfg->path;
	int rc = cli_triggers_load(&triggers, &ta, err);
	mg_trigger_list_clear(&triggers);
	return rc;
}

/* The plan instead of the run (--dry-run, check-config). */
static int dry_run(mg_cli *cli, const mg_config *cfg, const mg_gate_opts *go)
{
	mg_error err = {0};
	mg_plan *plan = NULL;
	if (mg_gate_plan(&plan, cfg, go, &err))
		return cli_fail(cli, &err);
	int rc = cli_print_plan(cli, plan);
	mg_plan_free(plan);
	return rc;
}

static int gate_main(mg_cli *cli, int argc, char **argv, int dry)
{
	const char *config = "modelgate.json", *report_path = NULL;
	const char *junit = NULL, *html = NULL, *markdown = NULL, *metrics = NULL;
	const char **only = calloc((size_t)argc + 1, sizeof(*only));
	int *changed_sel = NULL;
	const char *since = NULL;
	int changed = 0, pre_push = 0;
	mg_gate_opts go = MG_GATE_OPTS_INIT;
	int c, rc;
	if (!only)
		return cli_usage_error(cli, "out of memory");
	go.only = only;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'm': go.model = optarg; break;
		case 'b': go.baseline = optarg; break;
		case 't': go.target = optarg; break;
		case 'r': report_path = optarg; break;
		case 'j': junit = optarg; break;
		case 'H': html = optarg; break;
		case 'M': markdown = optarg; break;
		case 'P': metrics = optarg; break;
		case 'G': changed = 1; break;
		case 'S': since = optarg; changed = 1; break;
		case 'U': pre_push = 1; changed = 1; break;
		case 'O': only[go.nonly++] = optarg; break;
		case 'A': go.cast = 1; break;
		case 'n': dry = 1; break;
		default:
			if ((rc = cli_common_opt(cli, c)) >= 0) {
				free(only);
				return rc;
			}
		}
	}
	const char *writes = report_path ? "--report" : junit ? "--junit" : html ? "--html"
			     : markdown ? "--markdown" : metrics ? "--metrics" : NULL;
	if (argc - optind > 0 || (since && pre_push) || (dry && writes)) {
		rc = argc - optind > 0 ? cli_usage_error(cli, "unexpected argument '%s'", argv[optind])
		     : since && pre_push ? cli_usage_error(cli, "--since and --pre-push exclude each other")
		     : cli_usage_error(cli, "%s writes a report, and a dry run writes none", writes);
		free(only);
		return rc;
	}
	go.in_ci = cli->ci.in_ci;
	go.tool_version = MG_VERSION;
	go.log = log_line;
	go.log_ctx = cli;
	mg_source_opts so;
	cli_source_opts(cli, &so);
	go.source = &so;
	mg_git_info *git = NULL;
	if (mg_git_info_read(&git, ".", NULL) == 0)
		go.git_commit = git->commit;
	mg_error err = {0};
	mg_config *cfg = NULL;
	mg_report *r = NULL;
	rc = 0;
	if (mg_config_read(&cfg, config, &err) || check_deploy_section(cfg, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (mg_gate_select(NULL, NULL, cfg, &go, &err)) {
		rc = cli_usage_error(cli, "%s", err.msg);
		goto done;
	}
	if (changed) {
		int none = 0;
		if (select_changed(cli, cfg, &go, &changed_sel, pre_push, since, &none, &err)) {
			rc = cli_fail(cli, &err);
			goto done;
		}
		if (none)
			goto done;
	}
	if (dry) {
		rc = dry_run(cli, cfg, &go);
		goto done;
	}
	if (mg_gate_run(&r, cfg, &go, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	const struct {
		const char *path;
		mg_report_format fmt;
	} files[] = {{report_path, MG_REPORT_JSON}, {junit, MG_REPORT_JUNIT}, {html, MG_REPORT_HTML},
		     {markdown, MG_REPORT_MARKDOWN}, {metrics, MG_REPORT_OPENMETRICS}};
	mg_buf url = MG_BUF_INIT; /* where the CI run keeps the HTML report */
	mg_report_render_opts ro = MG_REPORT_RENDER_OPTS_INIT;
	rc = mg_ci_artifact_url(&url, &cli->ci, html, &err);
	ro.html_url = url.len ? url.data : NULL;
	for (size_t i = 0; !rc && i < sizeof(files) / sizeof(files[0]); i++)
		if (files[i].path)
			rc = write_to(files[i].path, files[i].fmt, r, &ro, &err);
	if (rc || github(&cli->ci, r, ro.html_url, &err)) {
		mg_buf_free(&url);
		rc = cli_fail(cli, &err);
		goto done;
	}
	mg_buf table = MG_BUF_INIT;
	ro.color = cli->color;
	if (cli->json || !cli->quiet)
		rc = mg_report_render(&table, r, cli->json ? MG_REPORT_JSON : MG_REPORT_TABLE, &ro, &err);
	if (!rc)
		fwrite(table.data ? table.data : "", 1, table.len, stdout);
	mg_buf_free(&table);
	mg_buf_free(&url);
	rc = rc ? cli_fail(cli, &err) : mg_report_exit_code(r);
	if (r && cli->quiet && !cli->json)
		quiet_notes(r);
done:
	mg_report_free(r);
	mg_config_free(cfg);
	mg_git_info_free(git);
	free(changed_sel);
	free(only);
	return rc;
}

static int cmd_gate(mg_cli *cli, int argc, char **argv)
{
	return gate_main(cli, argc, argv, 0);
}

static int cmd_check_config(mg_cli *cli, int argc, char **argv)
{
	return gate_main(cli, argc, argv, 1);
}

/* What to gate: gate and check-config alike. */
static const mg_opt select_opts[] = {
	{"config", 'c', 0, "FILE", "The gate config (default modelgate.json)."},
	{"model", 'm', 0, "M", "Gate this model (a file or a reference) instead of the config's."},
	{"baseline", 'b', 0, "B", "Compare with this baseline instead of the config's."},
	{"target", 't', 0, "[NAME=]SPEC",
	 "Run on this target (local, qemu-aarch64, ssh://HOST, exec:PREFIX) instead of the "
	 "config's, or replace the config's target NAME."},
	{"only", 0, 'O', "GATE", "Evaluate only the gate GATE (repeatable)."},
	{"changed", 0, 'G', NULL, "Evaluate only the gates whose model, dataset or config changed in git."},
	{"since", 0, 'S', "REV", "With --changed: changed since the git revision REV."},
	{"pre-push", 0, 'U', NULL, "With --changed: changed in the commits git is pushing (the pre-push hook)."},
	{"cast", 0, 'A', NULL,
	 "Round dataset inputs of another real type (float64) to the model's, as the dataset's \"cast\": true does."},
	CLI_OPT_END};

static const mg_opt gate_opts[] = {
	{"dry-run", 0, 'n', NULL,
	 "Check the config, resolve what it names and show what would run, without running it (check-config)."},
	{"report", 'r', 0, "FILE", "Write report.json to FILE."},
	{"junit", 0, 'j', "FILE", "Write a JUnit XML report to FILE."},
	{"html", 0, 'H', "FILE", "Write the HTML report, with its charts, to FILE."},
	{"markdown", 0, 'M', "FILE", "Write the Markdown summary to FILE."},
	{"metrics", 0, 'P', "FILE", "Write OpenMetrics text to FILE."},
	CLI_OPT_END};

const mg_cmd cli_cmd_gate = {
	.name = "gate",
	.fn = cmd_gate,
	.summary = "evaluate the gates of modelgate.json: may this model ship?",
	.description = "Runs the gates of the config (accuracy, fidelity, latency, size, memory, "
		       "cost) on its targets and says whether the model may ship: exit 0 when every "
		       "gate passes, 1 when one fails, 2 on a bad config or input, 3 when a target "
		       "or registry cannot be reached.",
	.synopsis = {"[-c FILE] [--model M] [--baseline B] [--target [NAME=]SPEC] [--only GATE]... "
		     "[--changed [--since REV | --pre-push]] [--report FILE] [OPTIONS]"},
	.opts = {select_opts, gate_opts, cli_remote_opts},
	.examples = {{"modelgate gate", "Evaluate ./modelgate.json."},
		     {"modelgate gate --model kws:v4 --report report.json --html report.html",
		      "Gate another version and keep its reports."},
		     {"modelgate gate --changed --since origin/main",
		      "Gate only what changed since main."}},
};

const mg_cmd cli_cmd_check_config = {
	.name = "check-config",
	.fn = cmd_check_config,
	.summary = "validate modelgate.json, resolve what it names, and show what gate would run",
	.description = "Reads the config as gate does, resolves every model, baseline and dataset "
		       "reference, starts each target a selected gate uses, and prints each gate with "
		       "its models, dataset, target and limits, without running any: exit 0 when all "
		       "of it is right, 2 on a bad config or reference, 3 when a target or registry "
		       "cannot be reached. The same as gate --dry-run.",
	.synopsis = {"[-c FILE] [--model M] [--baseline B] [--target [NAME=]SPEC] [--only GATE]... "
		     "[--changed [--since REV | --pre-push]] [OPTIONS]"},
	.opts = {select_opts, cli_remote_opts},
	.examples = {{"modelgate check-config", "Check ./modelgate.json and show what gate would run."},
		     {"modelgate check-config -c ci.json --json", "The same as JSON, for a script."},
		     {"modelgate check-config --only latency --target pi=ssh://pi@pi4.lan",
		      "Check that the latency gate's device answers, and what it would run there."}},
};
