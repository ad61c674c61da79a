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
	if (p->local && p->valgrind)
		return MG_COST_CALLGRIND;
	snprintf(why, len, "no hardware instruction counter (%s) and %s",
		 p->hw_why && *p->hw_why ? p->hw_why : "perf_event_open failed",
		 p->local ? "valgrind is not installed (Debian package valgrind)"
			  : "callgrind runs on local targets only");
	return MG_COST_NONE;
}

/* The Ir column of an "events:" line: its index, or -1. */
static int ir_column(const char *line)
{
	int col = 0;
	for (const char *p = line; *p && *p != '\n';) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " \n");
		if (n == 2 && !strncmp(p, "Ir", 2))
			return col;
		if (!n)
			break;
		p += n;
		col++;
	}
	return -1;
}

int mg_cost_parse_callgrind(const char *text, uint64_t *out)
{
	int col = -1;
	*out = 0;
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		if (!strncmp(line, "events:", 7)) {
			col = ir_column(line + 7);
		} else if (!strncmp(line, "totals:", 7) && col >= 0) {
			const char *p = line + 7;
			char *end;
			unsigned long long v = 0;
			for (int i = 0; i <= col; i++, p = end) {
				v = strtoull(p, &end, 10);
				if (end == p)
					return -1;
			}
			*out = (uint64_t)v;
			return 0;
		}
	}
	return -1;
}
