/* Latency statistics: does the candidate run slower than the baseline?
 * The verdict rests on paired blocks: baseline and candidate run in short
 * interleaved blocks, each pair gives one ratio of the blocks' statistic
 * (the gate's metric: the median, p95, the mean), and a Student t interval
 * over the log ratios says where the true ratio lies.
 * Samples within a run are not independent when the machine's speed drifts
 * between blocks; block pairs are, near enough, because both sides of a pair
 * see the same machine. The interval entirely above the limit fails, entirely
 * at or below passes, and one that straddles it is inconclusive. A
 * Mann-Whitney p-value and a bootstrap interval remain for the report. */
#include "validator.h"
#include "runners/runners.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median of x[0..n), n > 0, reordering x: Wirth's selection leaves
 * x[0..k) <= x[k] <= x[k+1..n) for k = n/2. */
static double select_median(double *x, size_t n)
{
	long k = (long)(n / 2), l = 0, m = (long)n - 1;
	while (l < m) {
		double pivot = x[k];
		long i = l, j = m;
		do {
			while (x[i] < pivot)
				i++;
			while (pivot < x[j])
				j--;
			if (i <= j) {
				double t = x[i];
				x[i] = x[j];
				x[j] = t;
				i++;
				j--;
			}
		} while (i <= j);
		if (j < k)
			l = i;
		if (k < i)
			m = j;
	}
	double upper = x[k];
	if (n % 2)
		return upper;
	double lower = x[0]; /* the largest of x[0..k) */
	for (long i = 1; i < k; i++)
		if (x[i] > lower)
			lower = x[i];
	return (lower + upper) / 2;
}

double mg_median(const double *x, size_t n)
{
	if (n == 0)
		return NAN;
	double *c = malloc(n * sizeof(*c));
	if (!c)
		return NAN;
	memcpy(c, x, n * sizeof(*c));
	double m = select_median(c, n);
	free(c);
	return m;
}

typedef struct ranked {
	double v;
	int cand;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_double(&((const ranked *)a)->v, &((const ranked *)b)->v);
}

double mg_mann_whitney_p(const double *cand, size_t nc, const double *base, size_t nb)
{
	if (!nc || !nb)
		return 1.0;
	size_t n = nc + nb;
	ranked *r = malloc(n * sizeof(*r));
	if (!r)
		return 1.0;
	for (size_t i = 0; i < nc; i++)
		r[i] = (ranked){cand[i], 1};
	for (size_t i = 0; i < nb; i++)
		r[nc + i] = (ranked){base[i], 0};
	qsort(r, n, sizeof(*r), cmp_ranked);
	double rank_sum = 0, ties = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		while (j + 1 < n && r[j + 1].v == r[i].v)
			j++;
		double avg = (double)(i + j + 2) / 2; /* ranks are 1-based */
		double t = (double)(j - i + 1);
		ties += t * t * t - t;
		for (size_t k = i; k <= j; k++)
			if (r[k].cand)
				rank_sum += avg;
		i = j + 1;
	}
	free(r);
	double n1 = (double)nc, n2 = (double)nb, nn = (double)n;
	double u = rank_sum - n1 * (n1 + 1) / 2;
	double mean = n1 * n2 / 2;
	double var = n1 * n2 / 12 * ((nn + 1) - ties / (nn * (nn - 1)));
	if (var <= 0)
		return 1.0;
	double z = (u - mean - 0.5) / sqrt(var);
	return 0.5 * erfc(z / sqrt(2.0));
}

/* xorshift64*: small, fast, and good enough for resampling. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

/* The median of a resample of sorted[0..n): draw n indices, count how often
 * each is drawn, and walk the counts to the middle. No data moves. */
static double resample_median(const double *sorted, size_t n, uint32_t *counts, uint64_t *s)
{
	memset(counts, 0, n * sizeof(*counts));
	for (size_t i = 0; i < n; i++)
		counts[next_rand(s) % n]++;
	size_t want_hi = n / 2, want_lo = (n - 1) / 2, seen = 0;
	double lo = NAN;
	for (size_t i = 0; i < n; i++) {
		seen += counts[i];
		if (isnan(lo) && seen > want_lo)
			lo = sorted[i];
		if (seen > want_hi)
			return (lo + sorted[i]) / 2;
	}
	return lo;
}

static double *sorted_copy(const double *x, size_t n)
{
	double *c = malloc(n * sizeof(*c));
	if (c) {
		memcpy(c, x, n * sizeof(*c));
		qsort(c, n, sizeof(*c), cmp_double);
	}
	return c;
}

int mg_bootstrap_ratio(const double *cand, size_t nc, const double *base, size_t nb,
		       size_t resamples, double confidence, uint64_t seed, double *lo,
		       double *hi, mg_error *err)
{
	if (!nc || !nb || resamples < 10 || !(confidence > 0 && confidence < 1))
		return mg_error_set(err, MG_EINVAL, "bootstrap needs samples on both sides");
	double *ratios = malloc(resamples * sizeof(*ratios));
	uint32_t *counts = malloc((nc > nb ? nc : nb) * sizeof(*counts));
	double *sc = sorted_copy(cand, nc), *sb = sorted_copy(base, nb);
	int rc = 0;
	if (!ratios || !counts || !sc || !sb) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	uint64_t s = seed ? seed : 1;
	for (size_t i = 0; i < resamples; i++) {
		double mc = resample_median(sc, nc, counts, &s);
		double mb = resample_median(sb, nb, counts, &s);
		ratios[i] = mb > 0 ? mc / mb : INFINITY;
	}
	qsort(ratios, resamples, sizeof(*ratios), cmp_double);
	double tail = (1 - confidence) / 2;
	*lo = ratios[(size_t)floor(tail * (double)(resamples - 1))];
	*hi = ratios[(size_t)ceil((1 - tail) * (double)(resamples - 1))];
done:
	free(ratios);
	free(counts);
	free(sc);
	free(sb);
	return rc;
}

/* Continued fraction of the regularized incomplete beta function
 * (Lentz's method), for x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300;
	double c = 1, d = 1 - (a + b) * x / (a + 1);
	d = 1 / (fabs(d) < tiny ? tiny : d);
	double h = d;
	for (int m = 1; m <= 300; m++) {
		double m2 = 2.0 * m;
		double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
		d = 1 + aa * d;
		c = 1 + aa / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		h *= d * c;
		aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
		d = 1 + aa * d;
		c = 1 + aa / c;
		d = 1 / (fabs(d) < tiny ? tiny : d);
		c = fabs(c) < tiny ? tiny : c;
		double del = d * c;
		h *= del;
		if (fabs(del - 1) < 1e-14)
			break;
	}
	return h;
}

/* I_x(a, b), the regularized incomplete beta function. */
static double beta_inc(double a, double b, double x)
{
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	double front = exp(lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x));
	if (x < (a + 1) / (a + b + 2))
		return front * beta_cf(a, b, x) / a;
	return 1 - front * beta_cf(b, a, 1 - x) / b;
}

double mg_t_quantile(double p, double df)
{
	assert(p > 0.5 && p < 1 && df > 0);
	double lo = 0, hi = 1;
	/* P(T <= t) = 1 - I_{df/(df+t^2)}(df/2, 1/2) / 2 for t >= 0 */
	while (1 - beta_inc(df / 2, 0.5, df / (df + hi * hi)) / 2 < p && hi < 1e12)
		hi *= 2;
	for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
		double mid = (lo + hi) / 2;
		if (1 - beta_inc(df / 2, 0.5, df / (df + mid * mid)) / 2 < p)
			lo = mid;
		else
			hi = mid;
	}
	return (lo + hi) / 2;
}

double mg_latency_statistic(double *x, size_t n, double q)
{
	if (!n)
		return NAN;
	if (!(q > 0)) {
		double sum = 0;
		for (size_t i = 0; i < n; i++)
			sum += x[i];
		return sum / (double)n;
	}
	qsort(x, n, sizeof(*x), cmp_double);
	return mg_quantile_sorted(x, n, q);
}

/* mg_latency_statistic of a block, n > 0, through scratch; the median by
 * selection (the element at n/2), faster than a sort in the loop over
 * blocks. */
static double block_stat(const double *x, size_t n, double q, double *scratch)
{
	memcpy(scratch, x, n * sizeof(*x));
	return q == 0.5 ? select_median(scratch, n) : mg_latency_statistic(scratch, n, q);
}

int mg_latency_compare(const double *cand, size_t nc, const double *base, size_t nb, size_t block,
		       const mg_latency_policy *pol, mg_latency_verdict *out, mg_error *err)
{
	memset(out, 0, sizeof(*out));
	size_t most = nc > nb ? nc : nb;
	double *scratch = malloc((most ? most : 1) * sizeof(*scratch));
	if (!scratch)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	double q = pol->quantile;
	double mb = nb ? block_stat(base, nb, q, scratch) : NAN, mc = nc ? block_stat(cand, nc, q, scratch) : NAN;
	if (!(mb > 0) || !(mc >= 0)) {
		free(scratch);
		return mg_error_set(err, MG_EINVAL, "latency samples must be positive");
	}
	out->p_value = mg_mann_whitney_p(cand, nc, base, nb);
	size_t n = block ? (nc < nb ? nc : nb) / block : 0;
	out->blocks = n;
	out->ratio = mc / mb;
	out->lo = out->hi = out->spread = NAN;
	if (n < 2) { /* no spread to judge by: nothing is settled */
		out->inconclusive = 1;
		free(scratch);
		return 0;
	}
	double sum = 0, sum2 = 0;
	for (size_t i = 0; i < n; i++) {
		double bm = block_stat(base + i * block, block, q, scratch);
		double cm = block_stat(cand + i * block, block, q, scratch);
		if (!(bm > 0) || !(cm > 0)) {
			free(scratch);
			return mg_error_set(err, MG_EINVAL, "latency samples must be positive");
		}
		double r = log(cm / bm);
		sum += r;
		sum2 += r * r;
	}
	free(scratch);
	double mean = sum / (double)n;
	double var = (sum2 - sum * mean) / (double)(n - 1);
	double sd = var > 0 ? sqrt(var) : 0;
	double half = mg_t_quantile(1 - (1 - pol->confidence) / 2, (double)(n - 1)) * sd / sqrt((double)n);
	out->ratio = exp(mean);
	out->lo = exp(mean - half);
	out->hi = exp(mean + half);
	out->spread = sd;
	out->regression = out->lo > pol->max_ratio;
	out->inconclusive = !out->regression && !(out->hi <= pol->max_ratio);
	out->clear = !out->inconclusive;
	return 0;
}

int mg_latency_noisy(const double *block_medians, size_t nblocks, double max_spread,
		     char *note, size_t notelen)
{
	if (nblocks < 2)
		return 0;
	double m = mg_median(block_medians, nblocks);
	double lo = block_medians[0], hi = block_medians[0];
	for (size_t i = 1; i < nblocks; i++) {
		if (block_medians[i] < lo)
			lo = block_medians[i];
		if (block_medians[i] > hi)
			hi = block_medians[i];
	}
	double spread = m > 0 ? (hi - lo) / m : 0;
	if (spread <= max_spread)
		return 0;
	if (note)
		snprintf(note, notelen,
			 "baseline block medians varied by %.0f%% (%.4g ms to %.4g ms) across %zu blocks: the machine "
			 "was noisy", spread * 100, lo / 1e6, hi / 1e6, nblocks);
	return 1;
}
