/* The plan of a gate run: what `modelgate check-config` and `gate
 * --dry-run` show. It goes as far as a run goes before its first gate (the
 * same mg_gate__open, so a config that plans is one that runs), then starts
 * each target a picked gate measures on and stops it again: a target that
 * does not answer is found here, not halfway through a run. */
#include "validator_int.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void mg_plan_free(mg_plan *p)
{
	if (!p)
		return;
	free(p->model);
	free(p->model_path);
	free(p->model_digest);
	free(p->baseline);
	free(p->baseline_path);
	free(p->baseline_digest);
	free(p->dataset);
	free(p->dataset_digest);
	free(p->picks);
	for (size_t i = 0; i < p->ntargets; i++) {
		free(p->targets[i].spec);
		free(p->targets[i].arch);
		free(p->targets[i].engine);
		free(p->targets[i].error);
	}
	free(p->targets);
	free(p);
}

/* Starts the targets that picked gates measure on, recording what each
 * said of itself or why it did not answer. */
static int reach_targets(mg_plan *p, run_ctx *c)
{
	const mg_config *cfg = c->cfg;
	for (size_t i = 0; i < cfg->ngates; i++) {
		const mg_gate_config *g = &cfg->gates[i];
		if (p->picks[i] == MG_PICK_RUN &&
		    (g->kind == MG_KIND_LATENCY || g->kind == MG_KIND_MEMORY || g->kind == MG_KIND_COST))
			p->targets[mg_gate__gate_target(c, g) - cfg->targets].used = 1;
	}
	for (size_t i = 0; i < p->ntargets; i++) {
		mg_plan_target *t = &p->targets[i];
		if (!t->used)
			continue;
		run_target *rt = mg_gate__get_target(c, &cfg->targets[i]);
		if (rt->error) {
			t->error = strdup(rt->error);
			p->unreachable++;
			continue;
		}
		const mg_target_info *ti = c->tif.info(c->tif.ctx, rt->t);
		if (ti) {
			t->arch = dup_or_null(ti->arch);
			t->engine = dup_or_null(ti->engine);
			t->emulated = ti->emulated;
		}
	}
	return 0;
}

int mg_gate_plan(mg_plan **out, const mg_config *cfg, const mg_gate_opts *opts, mg_error *err)
{
	run_ctx c;
	mg_plan *p = calloc(1, sizeof(*p));
	int rc = p ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
	if (!rc && (!(p->picks = calloc(cfg->ngates + 1, sizeof(*p->picks))) ||
		    !(p->targets = calloc(cfg->ntargets + 1, sizeof(*p->targets)))))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	if (!rc)
		rc = mg_gate_select(p->picks, NULL, cfg, opts, err);
	memset(&c, 0, sizeof(c));
	if (!rc)
		rc = mg_gate__open(&c, cfg, opts, err);
	if (!rc) {
		p->cfg = cfg;
		p->ntargets = cfg->ntargets;
		for (size_t i = 0; i < cfg->ntargets; i++) {
			p->targets[i].name = cfg->targets[i].name;
			p->targets[i].spec = dup_or_null(c.targets[i].spec);
			mg_target_spec ts;
			p->targets[i].emulated = !mg_target_spec_parse(&ts, c.targets[i].spec, NULL) &&
						 ts.kind == MG_TARGET_QEMU;
		}
		p->model = dup_or_null(c.model.spec);
		p->model_path = dup_or_null(c.model.path);
		p->model_digest = dup_or_null(c.model.digest);
		p->baseline = dup_or_null(c.baseline.spec);
		p->baseline_path = dup_or_null(c.baseline.path);
		p->baseline_digest = dup_or_null(c.baseline.digest);
		p->dataset = dup_or_null(c.dataset.spec);
		p->dataset_digest = dup_or_null(c.dataset.digest);
		p->dataset_rows = c.ninputs && c.inputs[0]->rank ? (long long)c.inputs[0]->dims[0] : -1;
		rc = reach_targets(p, &c);
	}
	mg_gate__close(&c);
	if (rc) {
		mg_plan_free(p);
		return rc;
	}
	*out = p;
	return 0;
}
