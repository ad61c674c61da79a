/* Metrics of model outputs: classifier accuracy (top-1, top-k, per-class
 * precision/recall/F1, confusion matrix), regression error (MAE, RMSE), and
 * fidelity of a candidate to reference outputs (max/mean abs error, cosine,
 * SNR, top-1 agreement). Sums are accumulated in double.
 *
 * Non-finite inputs: one NaN or infinity among the values a figure is
 * computed from makes that figure NaN, never a number. (Left alone, NaN
 * compares false, so an arg-max skips it, a max over it keeps what it had,
 * and a NaN noise looks like no noise.) A NaN figure fails every limit, and
 * the gates count the values to say why. Infinity stays only where it is
 * the exact answer: the SNR of identical finite outputs. */
#include "validator.h"
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

size_t mg_nonfinite_count(const float *v, size_t n, size_t *nan, size_t *inf)
{
	size_t a = 0, b = 0;
	for (size_t i = 0; i < n; i++) {
		if (isnan(v[i]))
			a++;
		else if (isinf(v[i]))
			b++;
	}
	if (nan)
		*nan = a;
	if (inf)
		*inf = b;
	return a + b;
}

static size_t argmax(const float *row, size_t c)
{
	size_t best = 0;
	for (size_t j = 1; j < c; j++)
		if (row[j] > row[best])
			best = j;
	return best;
}

/* 1 when label's score is among the k highest of row (ties count against). */
static int in_top_k(const float *row, size_t c, size_t label, size_t k)
{
	size_t higher = 0;
	for (size_t j = 0; j < c; j++)
		if (row[j] > row[label] || (row[j] == row[label] && j < label))
			higher++;
	return higher < k;
}

void mg_class_metrics_free(mg_class_metrics *m)
{
	if (!m)
		return;
	free(m->precision);
	free(m->recall);
	free(m->f1);
	free(m->confusion);
	free(m);
}

int mg_class_metrics_compute(mg_class_metrics **out, const float *scores, size_t n, size_t c,
			     const int64_t *labels, size_t k, mg_error *err)
{
	if (n == 0 || c < 2)
		return mg_error_set(err, MG_EINVAL, "accuracy needs at least one sample and two classes (got %zu x %zu)", n, c);
	size_t cells, total;
	if (mg_size_mul(c, c, &cells) || mg_size_mul(n, c, &total))
		return mg_error_set(err, MG_EINVAL, "too many classes (%zu)", c);
	for (size_t i = 0; i < n; i++)
		if (labels[i] < 0 || (uint64_t)labels[i] >= c)
			return mg_error_set(err, MG_EINVAL, "label %lld of sample %zu is outside 0..%zu",
					    (long long)labels[i], i, c - 1);
	mg_class_metrics *m = calloc(1, sizeof(*m));
	if (m) {
		m->precision = calloc(c, sizeof(double));
		m->recall = calloc(c, sizeof(double));
		m->f1 = calloc(c, sizeof(double));
		m->confusion = calloc(cells, sizeof(uint64_t));
	}
	if (!m || !m->precision || !m->recall || !m->f1 || !m->confusion) {
		mg_class_metrics_free(m);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	m->n = n;
	m->nclasses = c;
	m->k = !k ? 1 : k > c ? c : k; /* top-c is every sample */
	m->nonfinite = mg_nonfinite_count(scores, total, NULL, NULL);
	if (m->nonfinite) { /* no prediction can be read from these scores */
		m->top1 = m->topk = m->macro_f1 = NAN;
		for (size_t j = 0; j < c; j++)
			m->precision[j] = m->recall[j] = m->f1[j] = NAN;
		*out = m;
		return 0;
	}
	size_t top1 = 0, topk = 0;
	for (size_t i = 0; i < n; i++) {
		const float *row = scores + i * c;
		size_t truth = (size_t)labels[i], pred = argmax(row, c);
		m->confusion[truth * c + pred]++;
		top1 += pred == truth;
		topk += (size_t)in_top_k(row, c, truth, m->k);
	}
	m->top1 = (double)top1 / (double)n;
	m->topk = (double)topk / (double)n;
	double f1_sum = 0;
	size_t f1_classes = 0;
	for (size_t j = 0; j < c; j++) {
		uint64_t tp = m->confusion[j * c + j], actual = 0, predicted = 0;
		for (size_t i = 0; i < c; i++) {
			actual += m->confusion[j * c + i];
			predicted += m->confusion[i * c + j];
		}
		m->precision[j] = predicted ? (double)tp / (double)predicted : NAN;
		m->recall[j] = actual ? (double)tp / (double)actual : NAN;
		double p = m->precision[j], r = m->recall[j];
		m->f1[j] = !actual ? NAN : (isnan(p) || p + r == 0) ? 0 : 2 * p * r / (p + r);
		if (actual) {
			f1_sum += m->f1[j];
			f1_classes++;
		}
	}
	m->macro_f1 = f1_classes ? f1_sum / (double)f1_classes : NAN;
	*out = m;
	return 0;
}

int mg_regression_metrics(const float *pred, const float *target, size_t n, double *mae,
			  double *rmse, mg_error *err)
{
	if (n == 0)
		return mg_error_set(err, MG_EINVAL, "regression metrics need at least one value");
	if (mg_nonfinite_count(pred, n, NULL, NULL) || mg_nonfinite_count(target, n, NULL, NULL)) {
		*mae = *rmse = NAN;
		return 0;
	}
	double abs_sum = 0, sq_sum = 0;
	for (size_t i = 0; i < n; i++) {
		double d = (double)pred[i] - (double)target[i];
		abs_sum += fabs(d);
		sq_sum += d * d;
	}
	*mae = abs_sum / (double)n;
	*rmse = sqrt(sq_sum / (double)n);
	return 0;
}

int mg_fidelity_compute(mg_fidelity *out, const float *cand, const float *ref, size_t n, size_t c,
			mg_error *err)
{
	size_t total;
	if (n == 0 || c == 0 || mg_size_mul(n, c, &total))
		return mg_error_set(err, MG_EINVAL, "fidelity needs outputs of the same, non-empty shape");
	if (mg_nonfinite_count(cand, total, NULL, NULL) || mg_nonfinite_count(ref, total, NULL, NULL)) {
		out->max_abs = out->mean_abs = out->cosine = out->snr_db = out->top1_agree = NAN;
		return 0;
	}
	double max_abs = 0, abs_sum = 0, dot = 0, cc = 0, rr = 0, noise = 0;
	size_t agree = 0;
	for (size_t i = 0; i < total; i++) {
		double a = cand[i], b = ref[i], d = a - b;
		if (fabs(d) > max_abs)
			max_abs = fabs(d);
		abs_sum += fabs(d);
		dot += a * b;
		cc += a * a;
		rr += b * b;
		noise += d * d;
	}
	for (size_t i = 0; i < n; i++)
		agree += argmax(cand + i * c, c) == argmax(ref + i * c, c);
	out->max_abs = max_abs;
	out->mean_abs = abs_sum / (double)total;
	/* all-zero outputs: alike only when both are */
	out->cosine = cc > 0 && rr > 0 ? dot / (sqrt(cc) * sqrt(rr)) : (cc == rr ? 1 : 0);
	/* no noise: identical outputs; no signal but noise: -inf, which fails */
	out->snr_db = noise > 0 ? 10 * log10(rr / noise) : INFINITY;
	out->top1_agree = (double)agree / (double)n;
	return 0;
}

void mg_fidelity_detail_compute(mg_fidelity_detail *out, const float *cand, const float *ref,
				size_t n, size_t c)
{
	memset(out, 0, sizeof(*out));
	double max = 0;
	for (size_t i = 0; i < n * c; i++)
		max = fmax(max, fabs((double)cand[i] - (double)ref[i]));
	out->hist_max = max;
	for (size_t i = 0; i < n * c; i++) {
		double d = fabs((double)cand[i] - (double)ref[i]);
		size_t b = max > 0 ? (size_t)(d / max * MG_FIDELITY_BINS) : 0;
		out->hist[b < MG_FIDELITY_BINS ? b : MG_FIDELITY_BINS - 1]++;
	}
	/* each row at its largest error, kept sorted worst first by insertion */
	for (size_t r = 0; r < n; r++) {
		size_t at = 0;
		double worst = -1;
		for (size_t j = 0; j < c; j++) {
			double d = fabs((double)cand[r * c + j] - (double)ref[r * c + j]);
			if (d > worst) {
				worst = d;
				at = j;
			}
		}
		if (worst <= 0)
			continue;
		size_t k = out->nworst < MG_FIDELITY_WORST ? out->nworst++ : MG_FIDELITY_WORST;
		while (k > 0 && fabs(out->worst[k - 1].got - out->worst[k - 1].expected) < worst) {
			if (k < MG_FIDELITY_WORST)
				out->worst[k] = out->worst[k - 1];
			k--;
		}
		if (k < MG_FIDELITY_WORST)
			out->worst[k] = (mg_fidelity_row){r, at, ref[r * c + at], cand[r * c + at]};
	}
}
