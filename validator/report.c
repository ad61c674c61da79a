/* The result model of a `modelgate gate` run (overall status, exit code,
 * freeing) and the helpers every report writer shares: number formatting,
 * UTF-8-aware escaping with one map per output format, terminal widths, and
 * the order in which gates matter (errors, then failures by how far past
 * their limit). The writers themselves live in report_<format>.c. */
#include "report_priv.h"
#include "runners/runners.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the model ------------------------------------------------------------ */

const char *mg_gate_status_name(mg_gate_status s)
{
	switch (s) {
	case MG_GATE_PASS:
		return "pass";
	case MG_GATE_FAIL:
		return "fail";
	case MG_GATE_ERROR:
		return "error";
	case MG_GATE_SKIP:
		return "skip";
	case MG_GATE_INCONCLUSIVE:
		return "inconclusive";
	}
	return "unknown";
}

static const char *const policy_names[] = {"warn", "fail", "pass"};

const char *mg_inconclusive_policy_name(mg_inconclusive_policy p)
{
	return (unsigned)p < 3 ? policy_names[p] : "warn";
}

int mg_inconclusive_policy_parse(const char *name)
{
	for (int i = 0; i < 3; i++)
		if (!strcmp(name, policy_names[i]))
			return i;
	return -1;
}

const char *rp_status_emoji(mg_gate_status s)
{
	switch (s) {
	case MG_GATE_PASS:
		return "\xE2\x9C\x85"; /* ✅ */
	case MG_GATE_FAIL:
		return "\xE2\x9D\x8C"; /* ❌ */
	case MG_GATE_ERROR:
		return "\xE2\x9A\xA0\xEF\xB8\x8F"; /* ⚠️ */
	case MG_GATE_SKIP:
		return "\xE2\x8F\xAD\xEF\xB8\x8F"; /* ⏭️ */
	case MG_GATE_INCONCLUSIVE:
		return "\xE2\x9D\x94"; /* ❔ */
	}
	return "?";
}

mg_gate_status mg_report_status(const mg_report *r)
{
	mg_gate_status s = MG_GATE_PASS;
	for (size_t i = 0; i < r->ngates; i++) {
		if (r->gates[i].status == MG_GATE_ERROR)
			return MG_GATE_ERROR;
		if (r->gates[i].status == MG_GATE_FAIL ||
		    (r->gates[i].status == MG_GATE_INCONCLUSIVE &&
		     r->gates[i].on_inconclusive == MG_INCONCLUSIVE_FAIL))
			s = MG_GATE_FAIL;
	}
	return s;
}

int mg_report_schema_needed(const mg_report *r)
{
	for (size_t i = 0; i < r->ngates; i++)
		if (r->gates[i].status == MG_GATE_INCONCLUSIVE)
			return 2;
	return 1;
}

int mg_report_exit_code(const mg_report *r)
{
	switch (mg_report_status(r)) {
	case MG_GATE_FAIL:
		return MG_EXIT_GATE;
	case MG_GATE_ERROR:
		return MG_EXIT_INFRA;
	default:
		return MG_EXIT_OK;
	}
}

void mg_fingerprint_free(mg_fingerprint *f)
{
	if (!f)
		return;
	free(f->cpu_model);
	free(f->governor);
	free(f->pinning);
	free(f->kernel);
	free(f->engine);
	free(f->arch);
	free(f);
}

void mg_gate_result_clear(mg_gate_result *g)
{
	free(g->name);
	free(g->kind);
	free(g->target);
	free(g->reason);
	free(g->metric);
	free(g->unit);
	for (size_t i = 0; i < g->nfigures; i++) {
		free(g->figures[i].name);
		free(g->figures[i].unit);
	}
	free(g->figures);
	if (g->latency) {
		free(g->latency->cand_ns);
		free(g->latency->base_ns);
		free(g->latency->noise_note);
		free(g->latency);
	}
	mg_fingerprint_free(g->fingerprint);
	free(g->counter);
	if (g->confusion) {
		free(g->confusion->counts);
		free(g->confusion);
	}
	if (g->base_confusion) {
		free(g->base_confusion->counts);
		free(g->base_confusion);
	}
	free(g->fidelity);
	for (size_t i = 0; i < g->nclasses; i++)
		free(g->classes[i]);
	free(g->classes);
	for (size_t i = 0; i < g->nclass_checks; i++) {
		free(g->class_checks[i].cls);
		free(g->class_checks[i].metric);
	}
	free(g->class_checks);
}

const char *rp_figure_name(char *buf, size_t len, const mg_gate_result *g, const mg_figure *f)
{
	unsigned long long k;
	int at = 0;
	const char *name = f->name ? f->name : "";
	if (!g->nclasses || sscanf(name, "class_%llu_%n", &k, &at) != 1 || !at || k >= g->nclasses)
		return name;
	snprintf(buf, len, "class '%s' %s", g->classes[k], name + at);
	return buf;
}

const char *mg_gate_class_name(const mg_gate_result *g, size_t k)
{
	return k < g->nclasses ? g->classes[k] : NULL;
}

void mg_report_free(mg_report *r)
{
	if (!r)
		return;
	free(r->tool_version);
	free(r->created);
	free(r->git_commit);
	free(r->config_path);
	free(r->model);
	free(r->model_digest);
	free(r->baseline);
	free(r->baseline_digest);
	free(r->dataset);
	free(r->dataset_digest);
	for (size_t i = 0; i < r->ninputs; i++) {
		free(r->inputs[i].name);
		free(r->inputs[i].dtype);
		free(r->inputs[i].dims);
	}
	free(r->inputs);
	for (size_t i = 0; i < r->ntargets; i++) {
		free(r->targets[i].name);
		free(r->targets[i].spec);
		mg_fingerprint_free(r->targets[i].fingerprint);
		free(r->targets[i].error);
	}
	free(r->targets);
	for (size_t i = 0; i < r->ngates; i++)
		mg_gate_result_clear(&r->gates[i]);
	free(r->gates);
	free(r);
}

const char *rp_emulated_tag(const mg_gate_result *g)
{
	return g->fingerprint && g->fingerprint->emulated ? " (emulated)" : "";
}

const char *rp_noisy_label(const mg_gate_result *g)
{
	if (g->status != MG_GATE_FAIL)
		return "noisy";
	if (isfinite(g->value) && isfinite(g->limit) && g->value > g->limit)
		return "noisy; the absolute limit decided";
	return "noisy; the interval decided";
}

/* ---- numbers ---------------------------------------------------------------- */

void rp_num(char out[RP_NUM_SIZE], double v)
{
	if (isnan(v))
		snprintf(out, RP_NUM_SIZE, "-");
	else if (isinf(v))
		snprintf(out, RP_NUM_SIZE, v > 0 ? "inf" : "-inf");
	else if (fabs(v) >= 1e4 && fabs(v) < 1e15)
		snprintf(out, RP_NUM_SIZE, "%.0f", v);
	else
		snprintf(out, RP_NUM_SIZE, "%.4g", v);
}

void rp_num_unit(char *out, size_t outlen, double v, const char *unit)
{
	rp_num_unit_like(out, outlen, v, unit, v);
}

void rp_num_unit_like(char *out, size_t outlen, double v, const char *unit, double like)
{
	char n[RP_NUM_SIZE];
	if (isnan(v) || !unit || !*unit) {
		rp_num(n, v);
		snprintf(out, outlen, "%s", n);
		return;
	}
	if (!strcmp(unit, "bytes") && isfinite(v)) {
		static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
		size_t u = 0;
		for (double l = isfinite(like) ? fabs(like) : fabs(v);
		     l >= 1024 && u + 1 < sizeof(units) / sizeof(units[0]); l /= 1024) {
			v /= 1024;
			u++;
		}
		if (u == 0)
			snprintf(out, outlen, "%.0f B", v);
		else
			snprintf(out, outlen, "%.4g %s", v, units[u]);
		return;
	}
	rp_num(n, v);
	snprintf(out, outlen, strcmp(unit, "%") ? "%s %s" : "%s%s", n, unit);
}

void rp_num_written(char out[RP_NUM_SIZE], double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
		snprintf(out, RP_NUM_SIZE, "%.0f", v);
	else if (isfinite(v))
		rp_num_exact(out, v);
	else
		rp_num(out, v);
}

void rp_num_beside(char out[RP_NUM_SIZE], double v, double limit)
{
	for (int prec = 4; prec <= 17; prec++) {
		snprintf(out, RP_NUM_SIZE, "%.*g", prec, v);
		double back = strtod(out, NULL);
		if (!isfinite(v) || !isfinite(limit) ||
		    ((back < limit) == (v < limit) && (back > limit) == (v > limit)))
			return;
	}
}

void rp_num_exact(char out[RP_NUM_SIZE], double v)
{
	if (isnan(v)) {
		snprintf(out, RP_NUM_SIZE, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, RP_NUM_SIZE, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int p = 15; p <= 17; p++) {
		snprintf(out, RP_NUM_SIZE, "%.*g", p, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

void rp_delta(char *out, size_t outlen, const mg_gate_result *g)
{
	double d = g->value - g->baseline;
	if (isnan(d)) {
		snprintf(out, outlen, "-");
		return;
	}
	char n[RP_NUM_SIZE + 32];
	rp_num_unit_like(n, sizeof(n), d, g->unit, g->value);
	const char *sign = d > 0 ? "+" : "";
	if (g->baseline != 0 && isfinite(g->baseline) && isfinite(d))
		snprintf(out, outlen, "%s%s (%+.3g%%)", sign, n, d / fabs(g->baseline) * 100);
	else
		snprintf(out, outlen, "%s%s", sign, n);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double *rp_sorted_copy(const double *x, size_t n, size_t *nout)
{
	size_t bytes, m = 0;
	*nout = 0;
	if (n == 0 || mg_size_mul(n, sizeof(double), &bytes))
		return NULL;
	double *s = malloc(bytes);
	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (isfinite(x[i]))
			s[m++] = x[i];
	qsort(s, m, sizeof(double), cmp_double);
	*nout = m;
	return s;
}

double rp_quantile_sorted(const double *sorted, size_t n, double q)
{
	return n ? mg_quantile_sorted(sorted, n, q) : NAN;
}

/* ---- gates ---------------------------------------------------------------- */

void rp_count(const mg_report *r, rp_counts *out)
{
	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[i];
		switch (g->status) {
		case MG_GATE_PASS:
			out->pass++;
			break;
		case MG_GATE_FAIL:
			out->fail++;
			break;
		case MG_GATE_ERROR:
			out->error++;
			break;
		case MG_GATE_SKIP:
			out->skip++;
			break;
		case MG_GATE_INCONCLUSIVE:
			out->inconclusive++;
			out->inconclusive_fail += g->on_inconclusive == MG_INCONCLUSIVE_FAIL;
			break;
		}
		if (g->latency && g->latency->noisy)
			out->noisy++;
	}
}

static int is_ceiling_kind(const char *kind)
{
	return kind && (!strcmp(kind, "latency") || !strcmp(kind, "size") || !strcmp(kind, "memory") ||
		       !strcmp(kind, "cost"));
}

const char *rp_limit_op(const mg_gate_result *g)
{
	if (isnan(g->limit))
		return "";
	return g->limit_is == MG_LIMIT_MIN ? ">= " : g->limit_is == MG_LIMIT_MAX ? "<= " : "";
}

void rp_limit_text(char *out, size_t outlen, const mg_gate_result *g)
{
	char n[96], e[RP_NUM_SIZE];
	if (isfinite(g->limit) && (!g->unit || strcmp(g->unit, "bytes"))) { /* as written */
		rp_num_written(e, g->limit);
		snprintf(n, sizeof(n), g->unit && *g->unit && strcmp(g->unit, "%") ? "%s %s" : "%s%s", e,
			 g->unit ? g->unit : "");
	} else {
		rp_num_unit(n, sizeof(n), g->limit, g->unit);
	}
	snprintf(out, outlen, "%s%s", rp_limit_op(g), n);
}

const char *rp_limit_is_name(mg_limit_is is)
{
	return is == MG_LIMIT_MIN ? "min" : is == MG_LIMIT_MAX ? "max" : NULL;
}

double rp_severity(const mg_gate_result *g)
{
	double s = 0;
	if (isfinite(g->value) && isfinite(g->limit)) {
		double d = g->value - g->limit;
		if (g->limit_is == MG_LIMIT_MIN)
			d = -d;
		else if (g->limit_is == MG_LIMIT_UNKNOWN && !is_ceiling_kind(g->kind))
			d = fabs(d); /* an old report: the direction is not known */
		s = g->limit != 0 ? d / fabs(g->limit) : d;
	}
	if (g->latency && isfinite(g->latency->ratio_lo) && g->latency->ratio_lo - 1 > s)
		s = g->latency->ratio_lo - 1;
	return s > 0 ? s : 0;
}

typedef struct order_key {
	size_t idx;
	int rank;
	double severity;
} order_key;

static int cmp_order(const void *a, const void *b)
{
	const order_key *x = a, *y = b;
	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	if (x->severity != y->severity)
		return x->severity > y->severity ? -1 : 1;
	return (x->idx > y->idx) - (x->idx < y->idx);
}

void rp_order(const mg_report *r, size_t *idx)
{
	for (size_t i = 0; i < r->ngates; i++)
		idx[i] = i;
	size_t bytes;
	if (r->ngates < 2 || mg_size_mul(r->ngates, sizeof(order_key), &bytes))
		return;
	order_key *k = malloc(bytes);
	if (!k)
		return; /* the report's order is still a valid answer */
	for (size_t i = 0; i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[i];
		static const int rank[] = {[MG_GATE_PASS] = 3, [MG_GATE_FAIL] = 1,
					   [MG_GATE_ERROR] = 0, [MG_GATE_SKIP] = 4,
					   [MG_GATE_INCONCLUSIVE] = 2};
		k[i].idx = i;
		k[i].rank = (unsigned)g->status <= MG_GATE_INCONCLUSIVE ? rank[g->status] : 5;
		if (g->status == MG_GATE_PASS && g->latency && g->latency->noisy)
			k[i].rank = 2;
		k[i].severity = g->status == MG_GATE_FAIL ? rp_severity(g) : 0;
	}
	qsort(k, r->ngates, sizeof(order_key), cmp_order);
	for (size_t i = 0; i < r->ngates; i++)
		idx[i] = k[i].idx;
	free(k);
}

/* ---- text ------------------------------------------------------------------ */

#define REPLACEMENT 0xFFFDu

/* Decodes one code point of s[*i..len); invalid or truncated sequences
 * (overlong forms, surrogates, > U+10FFFF) consume one byte and give
 * U+FFFD with *bad set. */
static uint32_t utf8_next(const unsigned char *s, size_t len, size_t *i, int *bad)
{
	unsigned c = s[*i];
	*bad = 0;
	if (c < 0x80) {
		(*i)++;
		return c;
	}
	size_t n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
	if (c >= 0xF5)
		n = 0;
	if (n == 0 || *i + n > len)
		goto invalid;
	uint32_t cp = c & (0xFFu >> (n + 1));
	for (size_t k = 1; k < n; k++) {
		if ((s[*i + k] & 0xC0) != 0x80)
			goto invalid;
		cp = (cp << 6) | (s[*i + k] & 0x3Fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
	    (cp >= 0xD800 && cp <= 0xDFFF))
		goto invalid;
	*i += n;
	return cp;
invalid:
	(*i)++;
	*bad = 1;
	return REPLACEMENT;
}

static int escape_n(mg_buf *out, const char *s, size_t len, rp_map_fn map, mg_error *err)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		char tmp[16];
		int bad;
		uint32_t cp = utf8_next(u, len, &i, &bad);
		const char *rep = map(cp, tmp);
		int rc;
		if (rep)
			rc = mg_buf_puts(out, rep, err);
		else if (bad)
			rc = mg_buf_puts(out, "\xEF\xBF\xBD", err);
		else
			rc = mg_buf_append(out, s + start, i - start, err);
		if (rc)
			return rc;
	}
	return 0;
}

int rp_escape(mg_buf *out, const char *s, rp_map_fn map, mg_error *err)
{
	return s ? escape_n(out, s, strlen(s), map, err) : 0;
}

int rp_escape_trunc(mg_buf *out, const char *s, size_t max_bytes, rp_map_fn map, mg_error *err)
{
	if (!s)
		return 0;
	size_t len = strlen(s);
	size_t cut = rp_utf8_cut(s, len, max_bytes);
	int rc = escape_n(out, s, cut, map, err);
	if (!rc && cut < len)
		rc = mg_buf_puts(out, "\xE2\x80\xA6", err); /* … */
	return rc;
}

size_t rp_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t i = max;
	/* back up over continuation bytes to the start of the sequence */
	while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
		i--;
	return i;
}

static int is_wide(uint32_t c)
{
	return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0xA4CF && c != 0x303F) ||
	       (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
	       (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
	       (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
	       (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

size_t rp_utf8_width(const char *s)
{
	if (!s)
		return 0;
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s), i = 0, w = 0;
	while (i < len) {
		int bad;
		uint32_t cp = utf8_next(u, len, &i, &bad);
		if ((cp >= 0x300 && cp <= 0x36F) || cp == 0x200B || (cp >= 0xFE00 && cp <= 0xFE0F))
			continue; /* combining marks, zero width */
		w += is_wide(cp) ? 2 : 1;
	}
	return w;
}

/* Characters that XML 1.0 does not allow at all. */
static int xml_forbidden(uint32_t cp)
{
	return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r') || cp == 0xFFFE || cp == 0xFFFF;
}

const char *rp_map_xml_text(uint32_t cp, char tmp[16])
{
	(void)tmp;
	switch (cp) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&#39;";
	case '\r':
		return "&#13;";
	}
	return xml_forbidden(cp) ? "\xEF\xBF\xBD" : NULL;
}

const char *rp_map_xml_attr(uint32_t cp, char tmp[16])
{
	/* a parser turns raw tabs and newlines in attributes into spaces */
	if (cp == '\n')
		return "&#10;";
	if (cp == '\t')
		return "&#9;";
	return rp_map_xml_text(cp, tmp);
}

const char *rp_map_markdown(uint32_t cp, char tmp[16])
{
	switch (cp) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '\n':
	case '\r':
	case '\t':
		return " ";
	case '\\': case '|': case '*': case '_': case '`': case '[': case ']':
	case '~': case '#': case '!': case '$':
		tmp[0] = '\\';
		tmp[1] = (char)cp;
		tmp[2] = '\0';
		return tmp;
	}
	return cp < 0x20 || cp == 0x7F ? "" : NULL;
}

const char *rp_map_terminal(uint32_t cp, char tmp[16])
{
	(void)tmp;
	if (cp == '\n' || cp == '\t')
		return " ";
	return cp < 0x20 || (cp >= 0x7F && cp < 0xA0) ? "?" : NULL;
}

/* ---- plain-text pieces ------------------------------------------------------- */

int rp_headline(mg_buf *out, const mg_gate_result *g, mg_error *err)
{
	char v[96], l[96], b[96], d[160];
	rp_num_unit(v, sizeof(v), g->value, g->unit);
	rp_limit_text(l, sizeof(l), g);
	rp_num_unit_like(b, sizeof(b), g->baseline, g->unit, g->value);
	rp_delta(d, sizeof(d), g);
	int rc = mg_buf_printf(out, err, "%s %s, limit %s", g->metric ? g->metric : "value", v, l);
	if (!rc && !isnan(g->baseline))
		rc = mg_buf_printf(out, err, ", baseline %s, delta %s", b, d);
	return rc;
}

int rp_latency_text(mg_buf *out, const mg_gate_result *g, mg_error *err)
{
	size_t start = out->len;
	int rc = rp_latency_verdict(out, g, err);
	if (!rc && out->len > start)
		rc = mg_buf_puts(out, " ", err);
	return rc ? rc : rp_latency_notes(out, g, err);
}

int rp_latency_notes(mg_buf *out, const mg_gate_result *g, mg_error *err)
{
	const mg_latency_detail *l = g->latency;
	int rc = mg_buf_printf(out, err, "%zu candidate / %zu baseline samples", l->ncand, l->nbase);
	if (!rc && l->stopped_early)
		rc = mg_buf_puts(out, ", stopped early", err);
	if (!rc && l->too_few)
		rc = mg_buf_printf(out, err, ", fewer than the minimum of %zu", l->min_samples);
	if (!rc && l->noisy)
		rc = mg_buf_printf(out, err, "; %s: %s", rp_noisy_label(g),
				   l->noise_note ? l->noise_note : "large spread between blocks");
	return rc;
}

int rp_target_text(mg_buf *out, const mg_report_target *t, mg_error *err)
{
	if (t->fingerprint)
		return rp_fingerprint_text(out, t->fingerprint, err);
	if (t->error)
		return mg_buf_printf(out, err, "unreachable: %s", t->error);
	return mg_buf_puts(out, "not fingerprinted: no latency, memory or cost gate measured here", err);
}

int rp_fingerprint_text(mg_buf *out, const mg_fingerprint *f, mg_error *err)
{
	char load[RP_NUM_SIZE];
	rp_num(load, f->loadavg1);
	int rc = mg_buf_printf(out, err, "%s, %d CPUs", f->cpu_model ? f->cpu_model : "unknown CPU",
			       f->cpu_count);
	if (!rc && f->arch)
		rc = mg_buf_printf(out, err, ", %s%s", f->arch, f->emulated ? " (emulated)" : "");
	else if (!rc && f->emulated)
		rc = mg_buf_puts(out, ", emulated", err);
	if (!rc && f->governor)
		rc = mg_buf_printf(out, err, ", governor %s", f->governor);
	if (!rc && f->pinning)
		rc = mg_buf_printf(out, err, ", pinned to CPUs %s", f->pinning);
	if (!rc && !isnan(f->loadavg1))
		rc = mg_buf_printf(out, err, ", load %s", load);
	if (!rc && f->kernel)
		rc = mg_buf_printf(out, err, ", kernel %s", f->kernel);
	if (!rc && f->engine)
		rc = mg_buf_printf(out, err, ", %s", f->engine);
	return rc;
}

int rp_inputs_text(mg_buf *out, const mg_report *r, mg_error *err)
{
	int rc = 0;
	for (size_t i = 0; !rc && i < r->ninputs; i++) {
		const mg_report_input *in = &r->inputs[i];
		rc = mg_buf_printf(out, err, "%s%s %s [", i ? "; " : "", in->name, in->dtype);
		for (size_t k = 0; !rc && k < in->rank; k++)
			rc = mg_buf_printf(out, err, "%s%lld", k ? ", " : "", (long long)in->dims[k]);
		if (!rc)
			rc = mg_buf_puts(out, "]", err);
	}
	return rc;
}
