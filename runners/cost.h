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
	int local;          /* the agent runs on this machine (callgrind can start it) */
	int hw_ok;          /* the agent's perf_event_open counted instructions */
	const char *hw_why; /* why it could not ("perf_event_open: No such file ...") */
	int valgrind;       /* valgrind is installed here */
} mg_cost_probe;

/* The hardware counter where it works, else callgrind on a local target
 * with valgrind; MG_COST_NONE with why (a phrase) otherwise. */
mg_cost_backend mg_cost_select(const mg_cost_probe *p, char *why, size_t len);

/* The Ir ("totals:" line, "events:" column) of a callgrind dump's text;
 * -1 when it has none. */
int mg_cost_parse_callgrind(const char *text, uint64_t *out);

#endif
