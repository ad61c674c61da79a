/* stats: latency statistics (runners.h states the percentile method) and
 * the tolerance comparison of output tensors, pure functions of their
 * inputs. The latency gate (validator/gate_kinds.c) uses the statistics;
 * `modelgate run` (cli/cmd_run.c) uses both. The report writers compute
 * their quantiles with a copy of mg_quantile_sorted (validator/report.c,
 * rp_quantile_sorted). */
#include "runners/runners.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double mg_quantile_sorted(const double *sorted, size_t n, double q)
{
	if (n == 0)
		return 0;
	if (q <= 0)
		return sorted[0];
	if (q >= 1)
		return sorted[n - 1];
	double h = (double)(n - 1) * q;
	size_t lo = (size_t)floor(h);
	if (lo + 1 >= n)
		return sorted[n - 1];
	return sorted[lo] + (h - (double)lo) * (sorted[lo + 1] - sorted[lo]);
}

int mg_stats_compute(mg_stats *out, const uint64_t *samples, size_t n, mg_error *err)
{
	memset(out, 0, sizeof(*out));
	if (n == 0)
		return 0;
	size_t bytes;
	if (mg_size_mul(n, sizeof(double), &bytes))
		return mg_error_set(err, MG_ENOMEM, "too many samples");
	double *v = malloc(bytes);
	if (!v)
		return mg_error_set(err, MG_ENOMEM, "out of memory for %zu samples", n);
	double sum = 0;
	for (size_t i = 0; i < n; i++) {
		v[i] = (double)samples[i];
		sum += v[i];
	}
	out->n = n;
	out->mean = sum / (double)n;
	double ss = 0;
	for (size_t i = 0; i < n; i++)
		ss += (v[i] - out->mean) * (v[i] - out->mean);
	out->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
	qsort(v, n, sizeof(*v), cmp_double);
	out->min = v[0];
	out->max = v[n - 1];
	out->p50 = mg_quantile_sorted(v, n, 0.50);
	out->p90 = mg_quantile_sorted(v, n, 0.90);
	out->p95 = mg_quantile_sorted(v, n, 0.95);
	out->p99 = mg_quantile_sorted(v, n, 0.99);
	free(v);
	return 0;
}

/* How far beyond its tolerance an element is (<= 0: within). */
static double excess(double g, double e, double rtol, double atol, double *diff)
{
	if (isnan(g) || isnan(e)) {
		*diff = (isnan(g) && isnan(e)) ? 0 : INFINITY;
		return (isnan(g) && isnan(e)) ? -INFINITY : INFINITY;
	}
	if (isinf(g) || isinf(e)) {
		*diff = g == e ? 0 : INFINITY;
		return g == e ? -INFINITY : INFINITY;
	}
	*diff = fabs(g - e);
	return *diff - (atol + rtol * fabs(e));
}

void mg_tensor_compare(const mg_tensor *got, const mg_tensor *expected, double rtol, double atol,
		       mg_compare *out)
{
	memset(out, 0, sizeof(*out));
	char gs[128], es[128];
	mg_shape_format(gs, sizeof(gs), got->dims, got->rank);
	mg_shape_format(es, sizeof(es), expected->dims, expected->rank);
	if (got->dtype != expected->dtype) {
		snprintf(out->why, sizeof(out->why), "type %s, expected %s", mg_dtype_name(got->dtype),
			 mg_dtype_name(expected->dtype));
		return;
	}
	if (strcmp(gs, es)) {
		snprintf(out->why, sizeof(out->why), "shape %.110s, expected %.110s", gs, es);
		return;
	}
	size_t n = mg_tensor_count(got);
	int complex = got->dtype == MG_DT_COMPLEX64 || got->dtype == MG_DT_COMPLEX128;
	double worst = -INFINITY;
	out->count = n;
	for (size_t i = 0; i < n; i++) {
		double g = mg_tensor_get(got, i), e = mg_tensor_get(expected, i), d;
		double x = excess(g, e, rtol, atol, &d);
		if (complex) { /* the imaginary part follows the real one */
			mg_tensor re_g = *got, re_e = *expected;
			size_t half = mg_dtype_size(got->dtype) / 2;
			re_g.data = (char *)got->data + half;
			re_e.data = (char *)expected->data + half;
			double d2, x2 = excess(mg_tensor_get(&re_g, i), mg_tensor_get(&re_e, i), rtol, atol, &d2);
			if (x2 > x)
				x = x2, d = d2;
		}
		if (x > 0)
			out->mismatches++;
		if (d > out->max_abs_diff)
			out->max_abs_diff = d;
		if (x > worst || i == 0) {
			worst = x;
			out->worst = i;
			out->worst_got = g;
			out->worst_expected = e;
			out->worst_diff = d;
		}
	}
	size_t rem = out->worst;
	for (size_t k = got->rank; k-- > 0;) {
		size_t dim = got->dims[k] > 0 ? (size_t)got->dims[k] : 1;
		out->worst_index[k] = (int64_t)(rem % dim);
		rem /= dim;
	}
	out->ok = out->mismatches == 0;
}
