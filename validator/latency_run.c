/* Latency measurement with a baseline: interleaved blocks in ABBA order,
 * an early stop as soon as the statistics settle the verdict, a verdict
 * only once the minimum of samples is met, and a flag when the baseline's
 * own block medians wander (a noisy machine). The
 * source is a small vtable, so the tests drive it with a simulation. */
#include "report.h"
#include "validator.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct series {
	double *v;
	size_t n, cap;
} series;

static int series_grow(series *s, size_t extra, mg_error *err)
{
	if (s->n + extra <= s->cap)
		return 0;
	size_t cap = s->cap ? s->cap : 256;
	while (cap < s->n + extra)
		cap *= 2;
	double *p = realloc(s->v, cap * sizeof(*p));
	if (!p)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	s->v = p;
	s->cap = cap;
	return 0;
}

static int run_block(const mg_latency_source *src, int which, size_t n, series *s, mg_error *err)
{
	int rc = series_grow(s, n, err);
	if (!rc)
		rc = src->run_block(src->ctx, which, n, s->v + s->n, err);
	if (!rc)
		s->n += n;
	return rc;
}

int mg_latency_measure(const mg_latency_source *src, const mg_latency_plan *plan,
		       struct mg_latency_detail *d, mg_latency_verdict *v, mg_error *err)
{
	series cand = {0}, base = {0}, medians = {0};
	size_t block = plan->block ? plan->block : 10;
	double start = src->now(src->ctx);
	int rc = 0, round = 0, stopped_early = 0;
	memset(d, 0, sizeof(*d));
	memset(v, 0, sizeof(*v));
	for (;; round++) {
		/* ABBA: the order flips every round */
		int first = plan->with_baseline ? round % 2 == 0 ? 0 : 1 : 1;
		for (int k = 0; k < (plan->with_baseline ? 2 : 1); k++) {
			int which = k == 0 ? first : !first;
			series *s = which ? &cand : &base;
			if ((rc = run_block(src, which, block, s, err)))
				goto done;
			if (!which && (rc = series_grow(&medians, 1, err)) == 0)
				medians.v[medians.n++] = mg_median(s->v + s->n - block, block);
			if (rc)
				goto done;
		}
		int enough = cand.n >= plan->min_iterations &&
			     (!plan->with_baseline || base.n >= plan->min_iterations);
		int out_of_time = src->now(src->ctx) - start >= plan->max_time;
		int last = out_of_time || cand.n >= plan->max_iterations;
		if (plan->with_baseline && (enough || last)) {
			if ((rc = mg_latency_compare(cand.v, cand.n, base.v, base.n, block, &plan->policy, v, err)))
				goto done;
			if (enough && v->clear && !last) {
				stopped_early = 1;
				break;
			}
		}
		if (last || (enough && !plan->with_baseline))
			break;
	}
	d->cand_ns = cand.v;
	d->ncand = cand.n;
	d->base_ns = base.v;
	d->nbase = base.n;
	cand.v = base.v = NULL;
	d->confidence = plan->policy.confidence;
	d->stopped_early = stopped_early;
	d->ratio = d->ratio_lo = d->ratio_hi = d->p_value = d->block_spread = d->max_ratio = NAN;
	d->min_samples = plan->min_iterations;
	d->too_few = d->ncand < plan->min_iterations ||
		     (plan->with_baseline && d->nbase < plan->min_iterations);
	if (plan->with_baseline) {
		if (d->too_few) { /* below the minimum: never a verdict */
			v->regression = v->clear = 0;
			v->inconclusive = 1;
		}
		d->ratio = v->ratio;
		d->max_ratio = plan->policy.max_ratio;
		d->ratio_lo = v->lo;
		d->ratio_hi = v->hi;
		d->p_value = v->p_value;
		d->blocks = v->blocks;
		d->block_spread = v->spread;
		char note[256];
		if (mg_latency_noisy(medians.v, medians.n, plan->noise_spread, note, sizeof(note))) {
			d->noisy = 1;
			if (!(d->noise_note = strdup(note)))
				rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		}
	}
done:
	free(cand.v);
	free(base.v);
	free(medians.v);
	return rc;
}
