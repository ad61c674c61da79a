/* The terminal table of a gate run: gate, kind, status, value, limit,
 * baseline and delta in aligned columns (widths in terminal columns, not
 * bytes), a line per gate that did not pass saying why, and a last line
 * with the verdict. ANSI colours only when the caller asks (stdout is a
 * terminal and NO_COLOR is unset); control characters in names are shown
 * as '?', so a report cannot drive the terminal. */
#include "report_priv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COL_GATE, COL_KIND, COL_STATUS, COL_VALUE, COL_LIMIT, COL_BASE, COL_DELTA, NCOLS };

#define CELL 160

static const char *status_color(mg_gate_status s)
{
	switch (s) {
	case MG_GATE_PASS:
		return "\033[32m";
	case MG_GATE_FAIL:
		return "\033[1;31m";
	case MG_GATE_ERROR:
		return "\033[1;35m";
	case MG_GATE_SKIP:
		return "\033[2m";
	case MG_GATE_INCONCLUSIVE:
		return "\033[1;33m";
	}
	return "";
}

static void cells(char c[NCOLS][CELL], const mg_gate_result *g)
{
	snprintf(c[COL_GATE], CELL, "%s", g->name ? g->name : "");
	snprintf(c[COL_KIND], CELL, "%s%s%s%s", g->kind ? g->kind : "", g->target ? "@" : "",
		 g->target ? g->target : "", rp_emulated_tag(g));
	snprintf(c[COL_STATUS], CELL, "%s", mg_gate_status_name(g->status));
	rp_num_unit(c[COL_VALUE], CELL, g->value, g->unit);
	rp_limit_text(c[COL_LIMIT], CELL, g);
	rp_num_unit_like(c[COL_BASE], CELL, g->baseline, g->unit, g->value);
	rp_delta(c[COL_DELTA], CELL, g);
}

static int row(mg_buf *out, char c[NCOLS][CELL], const size_t *w, const char *color, mg_error *err)
{
	int rc = 0;
	for (int k = 0; !rc && k < NCOLS; k++) {
		int right = k >= COL_VALUE;
		size_t cw = rp_utf8_width(c[k]);
		if (k)
			rc = mg_buf_puts(out, "  ", err);
		for (size_t s = cw; !rc && right && s < w[k]; s++)
			rc = mg_buf_puts(out, " ", err);
		if (!rc && k == COL_STATUS && *color)
			rc = mg_buf_puts(out, color, err);
		if (!rc)
			rc = rp_escape(out, c[k], rp_map_terminal, err);
		if (!rc && k == COL_STATUS && *color)
			rc = mg_buf_puts(out, "\033[0m", err);
		for (size_t s = cw; !rc && !right && s < w[k]; s++)
			rc = mg_buf_puts(out, " ", err);
	}
	/* no trailing blanks */
	while (!rc && out->len && out->data[out->len - 1] == ' ')
		out->data[--out->len] = '\0';
	if (!rc)
		rc = mg_buf_puts(out, "\n", err);
	return rc;
}

int mg_report_write_table(mg_buf *out, const mg_report *r, int color, mg_error *err)
{
	static const char *const head[NCOLS] = {"GATE", "KIND", "STATUS", "VALUE", "LIMIT", "BASELINE", "DELTA"};
	char c[NCOLS][CELL];
	size_t w[NCOLS];
	for (int k = 0; k < NCOLS; k++)
		w[k] = strlen(head[k]);
	for (size_t i = 0; i < r->ngates; i++) {
		cells(c, &r->gates[i]);
		for (int k = 0; k < NCOLS; k++)
			if (rp_utf8_width(c[k]) > w[k])
				w[k] = rp_utf8_width(c[k]);
	}
	for (int k = 0; k < NCOLS; k++)
		snprintf(c[k], CELL, "%s", head[k]);
	int rc = row(out, c, w, "", err);
	for (size_t i = 0; !rc && i < r->ngates; i++) {
		cells(c, &r->gates[i]);
		rc = row(out, c, w, color ? status_color(r->gates[i].status) : "", err);
	}

	/* why each gate that did not pass did not, most important first */
	size_t *order = r->ngates ? calloc(r->ngates, sizeof(size_t)) : NULL;
	if (r->ngates && !order)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	rp_order(r, order);
	int blank = 0;
	for (size_t i = 0; !rc && i < r->ngates; i++) {
		const mg_gate_result *g = &r->gates[order[i]];
		int noisy = g->latency && g->latency->noisy && g->status != MG_GATE_SKIP;
		if (g->status == MG_GATE_PASS && !noisy)
			continue;
		if (!blank)
			rc = mg_buf_puts(out, "\n", err);
		blank = 1;
		if (!rc)
			rc = mg_buf_printf(out, err, "%s%s%s ", color ? status_color(g->status) : "",
					   mg_gate_status_name(g->status), color ? "\033[0m" : "");
		if (!rc)
			rc = rp_escape(out, g->name, rp_map_terminal, err);
		if (!rc)
			rc = mg_buf_puts(out, ": ", err);
		if (!rc)
			rc = rp_escape_trunc(out, g->reason ? g->reason : "no reason given", 400, rp_map_terminal, err);
		if (!rc && noisy && g->status != MG_GATE_INCONCLUSIVE) {
			rc = mg_buf_printf(out, err, "\n     %s%s%s: ", color ? "\033[33m" : "", rp_noisy_label(g),
					   color ? "\033[0m" : "");
			if (!rc)
				rc = rp_escape_trunc(out, g->latency->noise_note ? g->latency->noise_note
										 : "large spread between blocks",
						     400, rp_map_terminal, err);
		}
		if (!rc)
			rc = mg_buf_puts(out, "\n", err);
	}
	free(order);

	rp_counts n;
	rp_count(r, &n);
	mg_gate_status st = mg_report_status(r);
	if (!rc)
		rc = mg_buf_printf(out, err, "\n%s%s%s: %zu passed, %zu failed, %zu error%s, %zu skipped",
				   color ? status_color(st) : "",
				   st == MG_GATE_PASS ? "PASSED" : st == MG_GATE_FAIL ? "FAILED" : "ERROR",
				   color ? "\033[0m" : "", n.pass, n.fail, n.error, n.error == 1 ? "" : "s", n.skip);
	if (!rc && n.inconclusive)
		rc = mg_buf_printf(out, err, ", %zu inconclusive", n.inconclusive);
	if (!rc && isfinite(r->seconds))
		rc = mg_buf_printf(out, err, " in %.1f s", r->seconds);
	if (!rc && (r->model || r->model_digest)) {
		rc = mg_buf_puts(out, "; model ", err);
		if (!rc)
			rc = rp_escape_trunc(out, r->model ? r->model : r->model_digest, 200, rp_map_terminal, err);
		if (!rc && r->model && r->model_digest && mg_digest_valid(r->model_digest))
			rc = mg_buf_printf(out, err, " (%.19s...)", r->model_digest);
	}
	if (!rc)
		rc = mg_buf_puts(out, "\n", err);
	return rc;
}
