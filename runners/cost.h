/* cost: counting the instructions of inferences, for the cost gate. The
 * pure parts shared by host and agent (cost.c, libc only); the host's
 * calls are declared in runners.h. */
#ifndef MG_COST_H
#define MG_COST_H

#include <stddef.h>
#include <stdint.h>

/* The counters that can measure: the CPU's retired-instruction counter
 * through perf_event_open (user space only), or valgrind's callgrind with
 * collection switched on around the measured runs only. */
typedef enum { MG_COST_NONE, MG_COST_PERF, MG_COST_CALLGRIND } mg_cost_backend;

/* "perf_event", "callgrind", "none". */
const char *mg_cost_backend_name(mg_cost_backend b);

/* What is known of a target when choosing its counter. */
typedef struct mg_cost_probe {
	int emulated;       /* qemu-user: nothing it counts is the target's */
	int local;          /* the agent runs on this machine */
	int hw_ok;          /* the agent's perf_event_open counted instructions */
	const char *hw_why; /* why it could not ("perf_event_open: No such file ...") */
	int valgrind;       /* valgrind is installed where the agent runs (or, on a
			       device, may be: it is found when the agent starts) */
} mg_cost_probe;

/* The hardware counter where it works, else callgrind where valgrind is;
 * MG_COST_NONE with why (a phrase) otherwise, and always on an emulated
 * target. */
mg_cost_backend mg_cost_select(const mg_cost_probe *p, char *why, size_t len);

/* What one counter measured over the counted runs. The secondary figures
 * are MG_COST_NA where the counter cannot tell: callgrind's come from its
 * cache simulation (--cache-sim=yes, the cache sizes of the CPU it runs
 * on), the hardware's from the L1 data cache's read accesses and the
 * last-level cache's misses, where the CPU exposes them. */
#define MG_COST_NA UINT64_MAX
typedef struct mg_cost_counts {
	uint64_t instructions;
	uint64_t mem_accesses; /* data reads and writes */
	uint64_t cache_misses; /* last-level cache misses, code and data */
} mg_cost_counts;

/* The totals of a callgrind dump's text: Ir, and the secondary figures
 * where its "events:" line has their columns (Dr+Dw; DLmr+DLmw+ILmr);
 * -1 when it has no Ir total. */
int mg_cost_parse_callgrind(const char *text, mg_cost_counts *out);

#endif
