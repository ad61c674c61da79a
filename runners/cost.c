/* cost: the parts of the cost gate (instructions per inference) that both
 * sides share and that are pure functions: which counter measures
 * (mg_cost_select) and reading a callgrind dump (mg_cost_parse_callgrind).
 * libc only: compiled into modelgate-agent as well as libmodelgate.a. The
 * host's orchestration is in cost_host.c, the agent's counters in
 * runners/agent/counter.c. */
#include "runners/cost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *mg_cost_backend_name(mg_cost_backend b)
{
	return b == MG_COST_PERF ? "perf_event" : b == MG_COST_CALLGRIND ? "callgrind" : "none";
}

mg_cost_backend mg_cost_select(const mg_cost_probe *p, char *why, size_t len)
{
	if (len)
		why[0] = '\0';
	if (p->emulated) {
		snprintf(why, len, "not available on emulated targets (qemu's translation would be "
			 "counted, not the target's instructions)");
		return MG_COST_NONE;
	}
	if (p->hw_ok)
		return MG_COST_PERF;
	if (p->valgrind)
		return MG_COST_CALLGRIND;
	snprintf(why, len, "no hardware instruction counter (%s) and valgrind is not installed%s",
		 p->hw_why && *p->hw_why ? p->hw_why : "perf_event_open failed",
		 p->local ? " (Debian package valgrind)" : " on the device");
	return MG_COST_NONE;
}

/* The column of each of names[0..n) in an "events:" line (-1: absent). */
static void event_columns(const char *line, const char *const *names, size_t n, int *col)
{
	for (size_t k = 0; k < n; k++)
		col[k] = -1;
	int i = 0;
	for (const char *p = line; *p && *p != '\n'; i++) {
		while (*p == ' ')
			p++;
		size_t len = strcspn(p, " \n");
		if (!len)
			break;
		for (size_t k = 0; k < n; k++)
			if (strlen(names[k]) == len && !strncmp(p, names[k], len))
				col[k] = i;
		p += len;
	}
}

enum { EV_IR, EV_DR, EV_DW, EV_DLMR, EV_DLMW, EV_ILMR, NEVENTS };

/* The sum of the named columns' totals, MG_COST_NA when one is absent. */
static uint64_t sum_of(const unsigned long long *v, const int *col, const int *which, size_t n)
{
	uint64_t s = 0;
	for (size_t k = 0; k < n; k++) {
		if (col[which[k]] < 0)
			return MG_COST_NA;
		s += v[col[which[k]]];
	}
	return s;
}

int mg_cost_parse_callgrind(const char *text, mg_cost_counts *out)
{
	static const char *const names[NEVENTS] = {"Ir", "Dr", "Dw", "DLmr", "DLmw", "ILmr"};
	int col[NEVENTS] = {-1, -1, -1, -1, -1, -1}, seen = 0;
	out->instructions = 0;
	out->mem_accesses = out->cache_misses = MG_COST_NA;
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (!strncmp(line, "events:", 7)) {
			event_columns(line + 7, names, NEVENTS, col);
			seen = 1;
		} else if (!strncmp(line, "totals:", 7) && seen && col[EV_IR] >= 0) {
			unsigned long long v[64];
			int max = 0;
			for (int k = 0; k < NEVENTS; k++)
				max = col[k] > max ? col[k] : max;
			if (max >= 64)
				return -1;
			const char *p = line + 7;
			for (int i = 0; i <= max; i++) {
				char *end;
				v[i] = strtoull(p, &end, 10);
				if (end == p) {
					if (i <= col[EV_IR])
						return -1;
					v[i] = 0; /* callgrind leaves trailing zero columns out */
				}
				p = end;
			}
			static const int mem[] = {EV_DR, EV_DW}, miss[] = {EV_DLMR, EV_DLMW, EV_ILMR};
			out->instructions = (uint64_t)v[col[EV_IR]];
			out->mem_accesses = sum_of(v, col, mem, 2);
			out->cache_misses = sum_of(v, col, miss, 3);
			return 0;
		}
	}
	return -1;
}
