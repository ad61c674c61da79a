/* counter: how modelgate-agent counts the instructions of the runs a COST
 * request measures. Under valgrind's callgrind (the host started the agent
 * so) it switches collection on around those runs and reads callgrind's
 * dump; otherwise it counts with the CPU's retired-instruction counter
 * through perf_event_open, user space only, enabled around those runs. */
#ifndef MG_AGENT_COUNTER_H
#define MG_AGENT_COUNTER_H

#include <limits.h>
#include <stdint.h>

#include "runners/cost.h"
#include "util/util.h"

typedef struct mg_agent_counter {
	mg_cost_backend backend; /* MG_COST_NONE until opened */
	int fd[3];               /* perf_event: instructions, L1D reads, LL misses */
	char dump[PATH_MAX];     /* callgrind: its --callgrind-out-file */
	unsigned dumps;          /* callgrind: dumps taken (file dump.N) */
	char version[64];        /* "valgrind-3.19.0", "linux 6.1.0-18-arm64" */
} mg_agent_counter;

/* Chooses and opens the counter; MG_ENOTFOUND saying why when there is
 * none (perf_event_open's error). Opening an open counter does nothing. */
int mg_agent_counter_open(mg_agent_counter *c, mg_error *err);
/* Starts instrumenting (callgrind: before the warm-up runs, so their code
 * is translated before counting starts). */
void mg_agent_counter_prepare(mg_agent_counter *c);
void mg_agent_counter_start(mg_agent_counter *c);
void mg_agent_counter_stop(mg_agent_counter *c);
/* The counts between start and stop. */
int mg_agent_counter_read(mg_agent_counter *c, mg_cost_counts *out, mg_error *err);
void mg_agent_counter_close(mg_agent_counter *c);

#endif
