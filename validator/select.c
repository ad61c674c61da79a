/* select: which gates of a config a gate run evaluates. --only names
 * gates, --changed keeps those whose inputs changed, and a ci_only gate
 * runs only in CI; `gate`, `gate --changed` and the report's skip reasons
 * all read the answer from here. */
#include "validator.h"

#include <string.h>

mg_gate_pick mg_gate_pick_one(const mg_config *cfg, const mg_gate_opts *opts, size_t i)
{
	const mg_gate_config *g = &cfg->gates[i];
	if (opts->nonly) {
		size_t k = 0;
		while (k < opts->nonly && strcmp(opts->only[k], g->name))
			k++;
		if (k == opts->nonly)
			return MG_PICK_NOT_ONLY;
	}
	if (opts->changed && !opts->changed[i])
		return MG_PICK_UNCHANGED;
	if (g->ci_only && !opts->in_ci)
		return MG_PICK_CI_ONLY;
	return MG_PICK_RUN;
}

const char *mg_gate_pick_reason(mg_gate_pick p)
{
	switch (p) {
	case MG_PICK_RUN: break;
	case MG_PICK_NOT_ONLY: return "not selected (--only)";
	case MG_PICK_UNCHANGED: return "not selected (--only)"; /* the words gate --changed always used */
	case MG_PICK_CI_ONLY: return "runs in CI only (ci_only), and this is not CI";
	}
	return "";
}

int mg_gate_select(mg_gate_pick *out, size_t *nrun, const mg_config *cfg,
		   const mg_gate_opts *opts, mg_error *err)
{
	for (size_t k = 0; k < opts->nonly; k++) {
		size_t i = 0;
		while (i < cfg->ngates && strcmp(cfg->gates[i].name, opts->only[k]))
			i++;
		if (i == cfg->ngates)
			return mg_error_set(err, MG_EINVAL, "--only '%s': %s has no gate of that name",
					    opts->only[k], cfg->path);
	}
	size_t n = 0;
	for (size_t i = 0; i < cfg->ngates; i++) {
		mg_gate_pick p = mg_gate_pick_one(cfg, opts, i);
		if (out)
			out[i] = p;
		n += p == MG_PICK_RUN;
	}
	if (nrun)
		*nrun = n;
	return 0;
}
