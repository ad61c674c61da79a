/* GitHub Actions writers: the Markdown job summary for $GITHUB_STEP_SUMMARY
 * (under a byte limit: GitHub takes at most 1 MiB per step), workflow
 * commands that become annotations (::error / ::warning, of which GitHub
 * shows about ten per type per step, so the most important come first and
 * the rest are folded into one line), and name=value lines for
 * $GITHUB_OUTPUT. */
#include "report_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_CELL_MAX 200  /* bytes of a gate name in the table */

/* A URL inside Markdown's (...): no space, parenthesis or control character. */
static const char *map_url(uint32_t cp, char tmp[16])
{
	if (cp <= ' ' || cp == '(' || cp == ')' || cp == '<' || cp == '>' || cp == 0x7f) {
		snprintf(tmp, 16, "%%%02X", (unsigned)(cp & 0xff));
		return cp < 0x80 ? tmp : "";
	}
	return NULL;
}
#define TEXT_MAX 2000      /* bytes of a reason or note in the details */

/* ---- Markdown ------------------------------------------------------------- */

static int md_artifact(mg_buf *out, const char *label, const char *ref, const char *digest,
		       mg_error *err)
{
	if (!ref && !digest)
		return 0;
	int rc = mg_buf_printf(out, err, "**%s** ", label);
	if (!rc)
		rc = rp_escape_trunc(out, ref ? ref : "", NAME_CELL_MAX, rp_map_markdown, err);
	if (!rc && digest && mg_digest_valid(digest))
		rc = mg_buf_printf(out, err, " `%.19s…`", digest);
	if (!rc)
		rc = mg_buf_puts(out, " \xC2\xB7 ", err); /* \xB7 */
	return rc;
}

static int md_head(mg_buf *out, const mg_report *r, mg_error *err)
{
	rp_counts n;
	rp_count(r, &n);
	mg_gate_status st = mg_report_status(r);
	int rc;
	size_t failed = n.fail + n.inconclusive_fail;
	if (st == MG_GATE_PASS && n.inconclusive)
		rc = mg_buf_printf(out, err, "## %s modelgate: no gate failed, %zu inconclusive\n\n",
				   rp_status_emoji(MG_GATE_INCONCLUSIVE), n.inconclusive);
	else if (st == MG_GATE_PASS)
		rc = mg_buf_printf(out, err, "## %s modelgate: all gates passed\n\n", rp_status_emoji(st));
	else if (n.error == 0)
		rc = mg_buf_printf(out, err, "## %s modelgate: %zu gate%s failed\n\n", rp_status_emoji(st),
				   failed, failed == 1 ? "" : "s");
	else
		rc = mg_buf_printf(out, err, "## %s modelgate: %zu gate%s failed, %zu could not be evaluated\n\n",
				   rp_status_emoji(st), failed, failed == 1 ? "" : "s", n.error);
	if (!rc)
		rc = md_artifact(out, "Model", r->model, r->model_digest, err);
	if (!rc)
		rc = md_artifact(out, "Baseline", r->baseline, r->baseline_digest, err);
	if (!rc)
		rc = md_artifact(out, "Dataset", r->dataset, r->dataset_digest, err);
	if (!rc && r->ninputs) {
		mg_buf in = MG_BUF_INIT;
		rc = rp_inputs_text(&in, r, err);
		if (!rc)
			rc = md_artifact(out, "Inputs", in.data, NULL, err);
		mg_buf_free(&in);
	}
	if (!rc)
		rc = mg_buf_printf(out, err, "%zu passed, %zu failed, %zu error%s, %zu skipped", n.pass,
				   n.fail, n.error, n.error == 1 ? "" : "s", n.skip);
	if (!rc && n.inconclusive)
		rc = mg_buf_printf(out, err, ", %zu inconclusive", n.inconclusive);
	if (!rc && isfinite(r->seconds))
		rc = mg_buf_printf(out, err, " in %.1f s", r->seconds);
	if (!rc && r->git_commit) {
		rc = mg_buf_puts(out, " \xC2\xB7 commit ", err);
		if (!rc)
			rc = rp_escape_trunc(out, r->git_commit, 12, rp_map_markdown, err);
	}
	if (!rc)
		rc = mg_buf_puts(out, "\n\n| Gate | Status | Value | Limit | Baseline | \xCE\x94 |\n"
				      "|:--|:--|--:|--:|--:|--:|\n", err);
	return rc;
}

static int md_row(mg_buf *out, const mg_gate_result *g, mg_error *err)
{
	char v[96], l[96], b[96], d[160];
	rp_num_unit(v, sizeof(v), g->value, g->unit);
	rp_limit_text(l, sizeof(l), g);
	rp_num_unit_like(b, sizeof(b), g->baseline, g->unit, g->value);
	rp_delta(d, sizeof(d), g);
	int rc = mg_buf_puts(out, "| ", err);
	if (!rc)
		rc = rp_escape_trunc(out, g->name, NAME_CELL_MAX, rp_map_markdown, err);
	if (!rc && *rp_emulated_tag(g)) { /* the timings are not the device's: said in the row */
		rc = mg_buf_printf(out, err, " \xC2\xB7 %s@", g->kind ? g->kind : "gate");
		if (!rc)
			rc = rp_escape_trunc(out, g->target ? g->target : "", NAME_CELL_MAX, rp_map_markdown, err);
		if (!rc)
			rc = mg_buf_puts(out, rp_emulated_tag(g), err);
	}
	if (!rc)
		rc = mg_buf_printf(out, err, " | %s %s | %s | %s | %s | %s |\n", rp_status_emoji(g->status),
				   mg_gate_status_name(g->status), v, l, b, d);
	return rc;
}

#define CLASSES_SHOWN 10 /* rows of the per-class table */
#define CHANGES_SHOWN 5  /* confusion cells that moved */
#define WORST_SHOWN 5    /* fidelity rows */

/* A share as a percentage, "-" for none (a class nothing was predicted as
 * has no precision). */
static void md_pct(char out[RP_NUM_SIZE], double v)
{
	snprintf(out, RP_NUM_SIZE, isnan(v) ? "-" : "%.1f%%", v * 100);
}

/* The per-class table, worst change first, cut to CLASSES_SHOWN rows
 * (saying so), and the confusion cells that moved most. */
static int md_classes(mg_buf *out, const mg_gate_result *g, mg_error *err)
{
	rp_class_row *rows;
	rp_cell_change *ch = NULL;
	size_t n, nch = 0;
	int rc = rp_class_rows(&rows, &n, g, err), base = g->base_confusion != NULL;
	if (rc || !n)
		return rc;
	rc = mg_buf_printf(out, err, "\n%s per class (%s first):\n\n| Class | Precision | Recall | F1 | Support |%s\n"
				     "|:--|--:|--:|--:|--:|%s\n", base ? "Change" : "Figures",
			   base ? "largest drop in F1" : "lowest F1", base ? " \xCE\x94 F1 |" : "", base ? "--:|" : "");
	for (size_t i = 0; !rc && i < n && i < CLASSES_SHOWN; i++) {
		const rp_class_row *r = &rows[i];
		char label[64];
		rp_class_label(label, sizeof(label), g, r->cls);
		rc = mg_buf_puts(out, "| ", err);
		if (!rc)
			rc = rp_escape_trunc(out, label, NAME_CELL_MAX, rp_map_markdown, err);
		char pr[RP_NUM_SIZE], re[RP_NUM_SIZE], f1[RP_NUM_SIZE];
		md_pct(pr, r->precision);
		md_pct(re, r->recall);
		md_pct(f1, r->f1);
		if (!rc)
			rc = mg_buf_printf(out, err, " | %s | %s | %s | %llu |", pr, re, f1, (unsigned long long)r->support);
		double d = (r->f1 - r->base_f1) * 100;
		if (!rc && base)
			rc = isnan(d) ? mg_buf_puts(out, " - |", err)
			     : fabs(d) < 0.05 ? mg_buf_puts(out, " 0 |", err) : mg_buf_printf(out, err, " %+.1f pp |", d);
		if (!rc)
			rc = mg_buf_puts(out, "\n", err);
	}
	if (!rc && n > CLASSES_SHOWN)
		rc = mg_buf_printf(out, err, "\n_%zu more classes not shown here: see the HTML report or report.json._\n",
				   n - CLASSES_SHOWN);
	free(rows);
	if (!rc)
		rc = rp_confusion_changes(&ch, &nch, g, err);
	if (!rc && nch)
		rc = mg_buf_puts(out, "\nConfusion matrix, the cells that moved most (true \xE2\x86\x92 predicted: "
				      "baseline \xE2\x86\x92 candidate):", err);
	for (size_t i = 0; !rc && i < nch && i < CHANGES_SHOWN; i++) {
		char t[64], pr[64];
		rp_class_label(t, sizeof(t), g, ch[i].truth);
		rp_class_label(pr, sizeof(pr), g, ch[i].pred);
		int worse = ch[i].truth == ch[i].pred ? ch[i].cand < ch[i].base : ch[i].cand > ch[i].base;
		rc = mg_buf_puts(out, i ? "; " : " ", err);
		if (!rc)
			rc = rp_escape_trunc(out, t, NAME_CELL_MAX, rp_map_markdown, err);
		if (!rc)
			rc = mg_buf_puts(out, " \xE2\x86\x92 ", err);
		if (!rc)
			rc = rp_escape_trunc(out, pr, NAME_CELL_MAX, rp_map_markdown, err);
		if (!rc)
			rc = mg_buf_printf(out, err, ": %lld \xE2\x86\x92 %lld %s", (long long)ch[i].base,
					   (long long)ch[i].cand, worse ? "(worse)" : "(better)");
	}
	if (!rc && nch > CHANGES_SHOWN)
		rc = mg_buf_printf(out, err, "; %zu more", nch - CHANGES_SHOWN);
	if (!rc && nch)
		rc = mg_buf_puts(out, "\n", err);
	free(ch);
	return rc;
}

/* A fidelity gate's error histogram as one line of block characters (log
 * counts), and its worst rows. */
static int md_fidelity(mg_buf *out, const mg_fidelity_detail *f, mg_error *err)
{
	static const char *const bars[] = {" ", "\xE2\x96\x81", "\xE2\x96\x82", "\xE2\x96\x83", "\xE2\x96\x84",
					   "\xE2\x96\x85", "\xE2\x96\x86", "\xE2\x96\x87", "\xE2\x96\x88"};
	uint64_t top = 0;
	for (size_t b = 0; b < MG_FIDELITY_BINS; b++)
		top = f->hist[b] > top ? f->hist[b] : top;
	char max[RP_NUM_SIZE];
	rp_num(max, f->hist_max);
	int rc = mg_buf_printf(out, err, "- |error| histogram, 0 to %s in %d bins, log counts: `", max, MG_FIDELITY_BINS);
	for (size_t b = 0; !rc && b < MG_FIDELITY_BINS; b++) {
		double h = top ? log10((double)f->hist[b] + 1) / log10((double)top + 1) : 0;
		rc = mg_buf_puts(out, bars[f->hist[b] ? 1 + (int)lround(h * 7) : 0], err);
	}
	if (!rc)
		rc = mg_buf_puts(out, "`\n", err);
	if (!rc && f->nworst)
		rc = mg_buf_puts(out, "\nWorst rows:\n\n| Row | Output index | Expected | Got |\n|--:|--:|--:|--:|\n", err);
	for (size_t i = 0; !rc && i < f->nworst && i < WORST_SHOWN; i++) {
		char e[RP_NUM_SIZE], got[RP_NUM_SIZE];
		rp_num(e, f->worst[i].expected);
		rp_num(got, f->worst[i].got);
		rc = mg_buf_printf(out, err, "| %zu | %zu | %s | %s |\n", f->worst[i].row, f->worst[i].index, e, got);
	}
	return rc;
}

/* before, the text of t escaped (and t emptied), after. */
static int md_line(mg_buf *out, const char *before, mg_buf *t, const char *after, mg_error *err)
{
	int rc = mg_buf_puts(out, before, err);
	if (!rc)
		rc = rp_escape_trunc(out, mg_buf_cstr(t), TEXT_MAX, rp_map_markdown, err);
	if (!rc)
		rc = mg_buf_puts(out, after, err);
	mg_buf_reset(t);
	return rc;
}

static int md_details(mg_buf *out, const mg_gate_result *g, mg_error *err)
{
	int bad = g->status == MG_GATE_FAIL || g->status == MG_GATE_ERROR;
	int rc = mg_buf_printf(out, err, "<details%s><summary>%s %s ", bad ? " open" : "", rp_status_emoji(g->status),
			       mg_gate_status_name(g->status));
	if (!rc)
		rc = rp_escape_trunc(out, g->name, NAME_CELL_MAX, rp_map_markdown, err);
	if (!rc)
		rc = mg_buf_printf(out, err, " (%s", g->kind ? g->kind : "gate");
	if (!rc && g->target) {
		rc = mg_buf_puts(out, " on ", err);
		if (!rc)
			rc = rp_escape_trunc(out, g->target, NAME_CELL_MAX, rp_map_markdown, err);
		if (!rc)
			rc = mg_buf_puts(out, rp_emulated_tag(g), err);
	}
	if (!rc)
		rc = mg_buf_puts(out, ")</summary>\n\n", err);
	if (!rc && g->reason) {
		rc = rp_escape_trunc(out, g->reason, TEXT_MAX, rp_map_markdown, err);
		if (!rc)
			rc = mg_buf_puts(out, "\n\n", err);
	}
	mg_buf t = MG_BUF_INIT;
	if (!rc && g->latency && !(rc = rp_latency_verdict(&t, g, err)) && t.len)
		rc = md_line(out, "**", &t, "**\n\n", err);
	for (size_t i = 0; !rc && i < g->nfigures; i++) {
		const mg_figure *f = &g->figures[i];
		if (g->confusion && !strncmp(f->name, "class_", 6))
			continue; /* in the per-class table */
		char v[96], b[96];
		rp_num_unit(v, sizeof(v), f->value, f->unit);
		rp_num_unit_like(b, sizeof(b), f->baseline, f->unit, f->value);
		char fname[300];
		rc = mg_buf_puts(out, "- ", err);
		if (!rc)
			rc = rp_escape_trunc(out, rp_figure_name(fname, sizeof(fname), g, f), NAME_CELL_MAX,
					     rp_map_markdown, err);
		if (!rc)
			rc = mg_buf_printf(out, err, ": %s", v);
		if (!rc && !isnan(f->baseline))
			rc = mg_buf_printf(out, err, " (baseline %s)", b);
		if (!rc)
			rc = mg_buf_puts(out, "\n", err);
	}
	if (!rc && g->latency && !(rc = rp_latency_notes(&t, g, err)))
		rc = md_line(out, "- ", &t, "\n", err);
	if (!rc && g->fingerprint && !(rc = rp_fingerprint_text(&t, g->fingerprint, err)))
		rc = md_line(out, "- measured on: ", &t, "\n", err);
	mg_buf_free(&t);
	if (!rc && g->fidelity)
		rc = md_fidelity(out, g->fidelity, err);
	if (!rc && g->confusion)
		rc = md_classes(out, g, err);
	if (!rc)
		rc = mg_buf_puts(out, "\n</details>\n\n", err);
	return rc;
}

static int md_targets(mg_buf *out, const mg_report *r, mg_error *err)
{
	if (r->ntargets == 0)
		return 0;
	int rc = mg_buf_puts(out, "### Targets\n\n| Target | Spec | Where |\n|:--|:--|:--|\n", err);
	mg_buf t = MG_BUF_INIT;
	for (size_t i = 0; !rc && i < r->ntargets; i++) {
		const mg_report_target *tg = &r->targets[i];
		mg_buf_reset(&t);
		rc = rp_target_text(&t, tg, err);
		if (!rc)
			rc = mg_buf_puts(out, "| ", err);
		if (!rc)
			rc = rp_escape_trunc(out, tg->name, NAME_CELL_MAX, rp_map_markdown, err);
		if (!rc)
			rc = mg_buf_puts(out, " | ", err);
		if (!rc)
			rc = rp_escape_trunc(out, tg->spec, NAME_CELL_MAX, rp_map_markdown, err);
		if (!rc)
			rc = mg_buf_puts(out, " | ", err);
		if (!rc)
			rc = rp_escape_trunc(out, mg_buf_cstr(&t), TEXT_MAX, rp_map_markdown, err);
		if (!rc)
			rc = mg_buf_puts(out, " |\n", err);
	}
	mg_buf_free(&t);
	if (!rc)
		rc = mg_buf_puts(out, "\n", err);
	return rc;
}

/* Room kept for the note that says what was left out. */
#define NOTE_RESERVE 160

int mg_report_write_markdown(mg_buf *out, const mg_report *r, size_t max_bytes, mg_error *err)
{
	return mg_report_write_markdown_linked(out, r, max_bytes, NULL, err);
}

int mg_report_write_markdown_linked(mg_buf *out, const mg_report *r, size_t max_bytes,
				    const char *html_url, mg_error *err)
{
	mg_buf head = MG_BUF_INIT, block = MG_BUF_INIT, body = MG_BUF_INIT;
	size_t *order = NULL, *keep = NULL, nkeep = 0, rows_bytes = 0;
	int rc = 0;
	if (r->ngates && (!(order = calloc(r->ngates, sizeof(size_t))) ||
			  !(keep = calloc(r->ngates, sizeof(size_t))))) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	rp_order(r, order);
	if ((rc = md_head(&head, r, err)))
		goto done;
	/* table rows: the most important ones that fit, shown in the report's order */
	if (head.len + 2 * NOTE_RESERVE > max_bytes) {
		rc = mg_error_set(err, MG_EINVAL, "a summary needs more than %zu bytes", max_bytes);
		goto done;
	}
	size_t budget = max_bytes - head.len - 2 * NOTE_RESERVE;
	for (size_t i = 0; i < r->ngates; i++) {
		mg_buf_reset(&block);
		if ((rc = md_row(&block, &r->gates[order[i]], err)))
			goto done;
		if (rows_bytes + block.len > budget)
			break;
		rows_bytes += block.len;
		keep[order[i]] = 1;
		nkeep++;
	}
	for (size_t i = 0; !rc && i < r->ngates; i++)
		if (keep[i])
			rc = md_row(&body, &r->gates[i], err);
	if (!rc && nkeep < r->ngates)
		rc = mg_buf_printf(&body, err, "\n_%zu less important gates are not shown: the summary "
					       "is limited to %zu bytes; see report.json._\n",
				   r->ngates - nkeep, max_bytes);
	if (!rc && html_url) { /* what the charts are: where they can be seen */
		rc = mg_buf_puts(&body, "\n\xF0\x9F\x93\x8A [The HTML report with its charts](", err);
		if (!rc)
			rc = rp_escape_trunc(&body, html_url, 2000, map_url, err);
		if (!rc)
			rc = mg_buf_puts(&body, ")\n", err);
	}
	if (!rc)
		rc = mg_buf_puts(&body, "\n", err);
	if (rc)
		goto done;

	/* then details, most important gate first, while they fit */
	size_t shown = 0, wanted = 0;
	for (size_t i = 0; i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[order[i]];
		if (g->status == MG_GATE_SKIP && !g->reason)
			continue;
		wanted++;
		if (shown < wanted - 1)
			continue; /* something before did not fit: keep the order meaningful */
		mg_buf_reset(&block);
		if (shown == 0 && (rc = mg_buf_puts(&block, "### Details\n\n", err)))
			goto done;
		if ((rc = md_details(&block, g, err)))
			goto done;
		if (head.len + body.len + block.len + NOTE_RESERVE > max_bytes)
			continue;
		if ((rc = mg_buf_append(&body, block.data, block.len, err)))
			goto done;
		shown++;
	}
	mg_buf_reset(&block);
	if ((rc = md_targets(&block, r, err)))
		goto done;
	int targets_fit = head.len + body.len + block.len + NOTE_RESERVE <= max_bytes;
	if (targets_fit && (rc = mg_buf_append(&body, mg_buf_cstr(&block), block.len, err)))
		goto done;
	if (shown < wanted || (!targets_fit && r->ntargets))
		rc = mg_buf_printf(&body, err, "_Details of %zu gate%s%s left out to stay under %zu bytes; "
					       "see report.json._\n\n",
				   wanted - shown, wanted - shown == 1 ? "" : "s",
				   targets_fit ? "" : " and the targets", max_bytes);
	if (!rc)
		rc = mg_buf_append(out, mg_buf_cstr(&head), head.len, err);
	if (!rc)
		rc = mg_buf_append(out, mg_buf_cstr(&body), body.len, err);
done:
	free(order);
	free(keep);
	mg_buf_free(&head);
	mg_buf_free(&block);
	mg_buf_free(&body);
	return rc;
}

int mg_report_markdown_text(mg_buf *out, const char *s, mg_error *err)
{
	return rp_escape(out, s, rp_map_markdown, err);
}

/* ---- annotations -------------------------------------------------------------- */

static const char *map_cmd_data(uint32_t cp, char tmp[16])
{
	(void)tmp;
	switch (cp) {
	case '%':
		return "%25";
	case '\r':
		return "%0D";
	case '\n':
		return "%0A";
	}
	return NULL;
}

static const char *map_cmd_property(uint32_t cp, char tmp[16])
{
	switch (cp) {
	case ':':
		return "%3A";
	case ',':
		return "%2C";
	}
	return map_cmd_data(cp, tmp);
}

static int annotation(mg_buf *out, const char *type, const char *title, const char *msg, mg_error *err)
{
	int rc = mg_buf_printf(out, err, "::%s title=", type);
	if (!rc)
		rc = rp_escape_trunc(out, title, 256, map_cmd_property, err);
	if (!rc)
		rc = mg_buf_puts(out, "::", err);
	if (!rc)
		rc = rp_escape_trunc(out, msg, 4000, map_cmd_data, err);
	if (!rc)
		rc = mg_buf_puts(out, "\n", err);
	return rc;
}

static int gate_annotation(mg_buf *out, const mg_gate_result *g, int warning, mg_error *err)
{
	mg_buf title = MG_BUF_INIT, msg = MG_BUF_INIT;
	int inconclusive = g->status == MG_GATE_INCONCLUSIVE;
	const char *what = inconclusive ? (warning ? "is inconclusive" : "is inconclusive (on_inconclusive: fail)")
			   : warning ? "has a noisy measurement"
			   : g->status == MG_GATE_ERROR ? "could not be evaluated" : "failed";
	int rc = mg_buf_printf(&title, err, "modelgate: gate '%s' %s", g->name ? g->name : "", what);
	if (!rc && inconclusive)
		rc = mg_buf_puts(&msg, g->reason ? g->reason : "inconclusive", err);
	else if (!rc && warning)
		rc = mg_buf_printf(&msg, err, "%s%s%s", g->latency->noise_note ? g->latency->noise_note
									      : "large spread between interleaved blocks",
				   g->status == MG_GATE_FAIL ? "; " : "",
				   g->status == MG_GATE_FAIL ? rp_noisy_label(g) : "");
	else if (!rc)
		rc = mg_buf_puts(&msg, g->reason ? g->reason : mg_gate_status_name(g->status), err);
	if (!rc && g->status == MG_GATE_FAIL) {
		rc = mg_buf_puts(&msg, "\n", err);
		if (!rc)
			rc = rp_headline(&msg, g, err);
	}
	if (!rc && g->latency && (g->status == MG_GATE_FAIL || warning || inconclusive)) {
		rc = mg_buf_puts(&msg, "\n", err);
		if (!rc)
			rc = rp_latency_text(&msg, g, err);
	}
	if (!rc)
		rc = annotation(out, warning ? "warning" : "error", mg_buf_cstr(&title), mg_buf_cstr(&msg), err);
	mg_buf_free(&title);
	mg_buf_free(&msg);
	return rc;
}

static int is_error(const mg_gate_result *g)
{
	return g->status == MG_GATE_FAIL || g->status == MG_GATE_ERROR ||
	       (g->status == MG_GATE_INCONCLUSIVE && g->on_inconclusive == MG_INCONCLUSIVE_FAIL);
}

/* Noisy measurements, and inconclusive gates under on_inconclusive warn
 * (under pass they are let through without a word here). */
static int is_warning(const mg_gate_result *g)
{
	if (g->status == MG_GATE_INCONCLUSIVE)
		return g->on_inconclusive == MG_INCONCLUSIVE_WARN;
	return g->status != MG_GATE_SKIP && g->latency && g->latency->noisy;
}

/* One pass over the gates in order of importance for one type; past the cap,
 * a last line counts what was left out. */
static int annotate_type(mg_buf *out, const mg_report *r, const size_t *order, int warning,
			 size_t max, mg_error *err)
{
	size_t total = 0, shown = 0, incl = 0;
	for (size_t i = 0; i < r->ngates; i++) {
		int counted = warning ? is_warning(&r->gates[i]) : is_error(&r->gates[i]);
		total += counted;
		incl += counted && r->gates[i].status == MG_GATE_INCONCLUSIVE;
	}
	if (max == 0)
		return 0;
	size_t room = total > max ? max - 1 : total;
	int rc = 0;
	for (size_t i = 0; !rc && i < r->ngates && shown < room; i++) {
		const mg_gate_result *g = &r->gates[order[i]];
		if (warning ? is_warning(g) : is_error(g)) {
			rc = gate_annotation(out, g, warning, err);
			shown++;
			incl -= g->status == MG_GATE_INCONCLUSIVE;
		}
	}
	if (!rc && total > shown) {
		char msg[160];
		snprintf(msg, sizeof(msg), "%zu more gate%s %s; see the job summary or report.json",
			 total - shown, total - shown == 1 ? "" : "s",
			 incl ? (warning ? "are inconclusive or have noisy measurements"
					 : "failed, were inconclusive or could not be evaluated")
			 : warning ? "have noisy measurements" : "failed or could not be evaluated");
		rc = annotation(out, warning ? "warning" : "error", "modelgate: more gates", msg, err);
	}
	return rc;
}

int mg_report_write_annotations(mg_buf *out, const mg_report *r, size_t max_per_type, mg_error *err)
{
	size_t *order = NULL;
	if (r->ngates && !(order = calloc(r->ngates, sizeof(size_t))))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	rp_order(r, order);
	int rc = annotate_type(out, r, order, 0, max_per_type, err);
	if (!rc)
		rc = annotate_type(out, r, order, 1, max_per_type, err);
	free(order);
	return rc;
}

/* ---- $GITHUB_OUTPUT ------------------------------------------------------------- */

/* name=value, or the multi-line form name<<DELIMITER when value has a line
 * break (a value can never inject another output). */
static int output(mg_buf *out, const char *key, const char *value, mg_error *err)
{
	if (!value)
		return 0;
	if (!strpbrk(value, "\r\n"))
		return mg_buf_printf(out, err, "%s=%s\n", key, value);
	char delim[64];
	unsigned n = 0;
	do
		snprintf(delim, sizeof(delim), "MODELGATE_EOF_%u", n++);
	while (strstr(value, delim));
	return mg_buf_printf(out, err, "%s<<%s\n%s\n%s\n", key, delim, value, delim);
}

static int output_num(mg_buf *out, const char *key, double v, mg_error *err)
{
	char n[RP_NUM_SIZE];
	if (isnan(v))
		return 0;
	rp_num_exact(n, v);
	return output(out, key, n, err);
}

/* "gate_" + the name in [a-z0-9_] (others become '_', runs collapse). */
static void gate_key(char *out, size_t outlen, const char *name, size_t index)
{
	size_t o = (size_t)snprintf(out, outlen, "gate_");
	for (const char *p = name ? name : ""; *p && o + 1 < outlen; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '_';
		if (c == '_' && out[o - 1] == '_')
			continue;
		out[o++] = c;
	}
	while (o > 5 && out[o - 1] == '_')
		o--;
	out[o] = '\0';
	if (o == 5)
		snprintf(out, outlen, "gate_%zu", index + 1);
}

int mg_report_write_github_outputs(mg_buf *out, const mg_report *r, mg_error *err)
{
	rp_counts n;
	rp_count(r, &n);
	mg_gate_status st = mg_report_status(r);
	char num[64];
	int rc = output(out, "passed", st == MG_GATE_PASS ? "true" : "false", err);
	if (!rc)
		rc = output(out, "status", mg_gate_status_name(st), err);
	snprintf(num, sizeof(num), "%d", mg_report_exit_code(r));
	if (!rc)
		rc = output(out, "exit_code", num, err);
	if (!rc)
		rc = output(out, "model_digest", r->model_digest, err);
	if (!rc)
		rc = output(out, "baseline_digest", r->baseline_digest, err);
	if (!rc)
		rc = output(out, "dataset_digest", r->dataset_digest, err);
	snprintf(num, sizeof(num), "%zu", r->ngates);
	if (!rc)
		rc = output(out, "gates", num, err);
	snprintf(num, sizeof(num), "%zu", n.fail);
	if (!rc)
		rc = output(out, "failed", num, err);
	snprintf(num, sizeof(num), "%zu", n.error);
	if (!rc)
		rc = output(out, "errors", num, err);
	snprintf(num, sizeof(num), "%zu", n.inconclusive);
	if (!rc)
		rc = output(out, "inconclusive", num, err);

	char (*keys)[72] = r->ngates ? calloc(r->ngates, sizeof(*keys)) : NULL;
	if (r->ngates && !keys)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; !rc && i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[i];
		gate_key(keys[i], 56, g->name, i);
		for (size_t k = 0; k < i; k++) /* two names may map to one key */
			if (!strcmp(keys[k], keys[i])) {
				size_t used = strlen(keys[i]);
				snprintf(keys[i] + used, sizeof(keys[i]) - used, "_%zu", i + 1);
				break;
			}
		char key[96];
		snprintf(key, sizeof(key), "%s_status", keys[i]);
		rc = output(out, key, mg_gate_status_name(g->status), err);
		snprintf(key, sizeof(key), "%s_value", keys[i]);
		if (!rc)
			rc = output_num(out, key, g->value, err);
		snprintf(key, sizeof(key), "%s_limit", keys[i]);
		if (!rc)
			rc = output_num(out, key, g->limit, err);
		snprintf(key, sizeof(key), "%s_baseline", keys[i]);
		if (!rc)
			rc = output_num(out, key, g->baseline, err);
	}
	free(keys);
	return rc;
}
