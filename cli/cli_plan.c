/* Printing a gate run's plan (validator's mg_gate_plan): what `modelgate
 * check-config` and `modelgate gate --dry-run` show, as text or --json, and
 * the exit code it means (0, or 3 when a target did not answer). */
#include "cli.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

#include "validator/validator.h"

static void add_setting_json(void *ctx, const char *key, double num, const char *text)
{
	json_object_set_new(ctx, key, isnan(num) ? (strcmp(text, "true") ? json_string(text) : json_true())
				     : num == floor(num) && fabs(num) < 1e15 ? json_integer((json_int_t)num)
				     : json_real(num));
}

static void add_setting_text(void *ctx, const char *key, double num, const char *text)
{
	(void)num;
	mg_buf *b = ctx;
	mg_buf_printf(b, NULL, " %s=%s", key, cli_text(text));
}

static json_t *source_json(const char *ref, const char *path, const char *digest)
{
	if (!ref)
		return json_null();
	json_t *o = json_pack("{s:s}", "ref", ref);
	if (path)
		json_object_set_new(o, "path", json_string(path));
	json_object_set_new(o, "digest", digest ? json_string(digest) : json_null());
	return o;
}

static int plan_json(const mg_plan *p)
{
	const mg_config *cfg = p->cfg;
	json_t *dataset = source_json(p->dataset, NULL, p->dataset_digest);
	if (p->dataset && p->dataset_rows >= 0)
		json_object_set_new(dataset, "rows", json_integer(p->dataset_rows));
	json_t *targets = json_array(), *gates = json_array();
	for (size_t i = 0; i < p->ntargets; i++) {
		const mg_plan_target *t = &p->targets[i];
		json_t *o = json_pack("{s:s, s:s, s:b, s:b}", "name", t->name, "spec", t->spec, "used",
				      t->used, "emulated", t->emulated);
		if (t->used)
			json_object_set_new(o, "reachable", json_boolean(!t->error));
		if (t->arch)
			json_object_set_new(o, "arch", json_string(t->arch));
		if (t->engine)
			json_object_set_new(o, "engine", json_string(t->engine));
		if (t->error)
			json_object_set_new(o, "error", json_string(t->error));
		json_array_append_new(targets, o);
	}
	for (size_t i = 0; i < cfg->ngates; i++) {
		const mg_gate_config *g = &cfg->gates[i];
		json_t *settings = json_object();
		mg_gate_settings(g, add_setting_json, settings);
		json_t *o = json_pack("{s:s, s:s, s:b, s:o}", "name", g->name, "kind", mg_gate_kind_name(g->kind),
				      "runs", p->picks[i] == MG_PICK_RUN, "settings", settings);
		if (p->picks[i] != MG_PICK_RUN)
			json_object_set_new(o, "skip_reason", json_string(mg_gate_pick_reason(p->picks[i])));
		json_array_append_new(gates, o);
	}
	return cli_print_json_digits(json_pack(
		"{s:s, s:b, s:o, s:o, s:o, s:o, s:o}", "config", cfg->path, "ok", !p->unreachable, "model",
		source_json(p->model, p->model_path, p->model_digest), "baseline",
		source_json(p->baseline, p->baseline_path, p->baseline_digest), "dataset", dataset, "targets",
		targets, "gates", gates), 15);
}

static void print_source(const char *what, const char *ref, const char *digest, long long rows)
{
	if (!ref) {
		printf("%-9s -\n", what);
		return;
	}
	printf("%-9s %s", what, cli_text(ref));
	if (rows >= 0)
		printf(", %lld rows", rows);
	if (digest) /* "sha256:" and the first 12 hex digits, as the gate table shows them */
		printf(" (%.19s)", digest);
	printf("\n");
}

int cli_print_plan(mg_cli *cli, const mg_plan *p)
{
	const mg_config *cfg = p->cfg;
	int rc = p->unreachable ? MG_EXIT_INFRA : MG_EXIT_OK;
	if (cli->json) {
		int jrc = plan_json(p);
		return jrc ? jrc : rc;
	}
	size_t nrun = 0;
	printf("config    %s: valid\n", cli_text(cfg->path));
	print_source("model", p->model, p->model_digest, -1);
	print_source("baseline", p->baseline, p->baseline_digest, -1);
	print_source("dataset", p->dataset, p->dataset_digest, p->dataset ? p->dataset_rows : -1);
	for (size_t i = 0; i < p->ntargets; i++) {
		const mg_plan_target *t = &p->targets[i];
		printf("target    %s: %s%s, ", cli_text(t->name), cli_text(t->spec), t->emulated ? " (emulated)" : "");
		if (!t->used)
			printf("not used by the gates that would run\n");
		else if (t->error)
			printf("%sunreachable%s: %s\n", cli_color(cli, "31"), cli_color(cli, "0"), cli_text(t->error));
		else
			printf("answers (%s, %s)\n", t->arch ? cli_text(t->arch) : "?", t->engine ? cli_text(t->engine) : "?");
	}
	printf("\n");
	for (size_t i = 0; i < cfg->ngates; i++) {
		const mg_gate_config *g = &cfg->gates[i];
		mg_buf line = MG_BUF_INIT;
		mg_gate_settings(g, add_setting_text, &line);
		int runs = p->picks[i] == MG_PICK_RUN;
		nrun += runs;
		printf("%-4s %-10s %-9s%s", runs ? "run" : "skip", cli_text(g->name), mg_gate_kind_name(g->kind),
		       mg_buf_cstr(&line));
		if (!runs)
			printf("; %s", mg_gate_pick_reason(p->picks[i]));
		printf("\n");
		mg_buf_free(&line);
	}
	printf("\n%zu of %zu gate(s) would run%s\n", nrun, cfg->ngates,
	       p->unreachable ? "; a target does not answer (exit 3)" : "");
	return rc;
}
