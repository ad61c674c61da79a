/* counter: the agent's instruction counters (counter.h). callgrind's client
 * requests are valgrind's header-only macros (<valgrind/callgrind.h>,
 * Debian package valgrind; the aarch64 cross build uses the host's, which
 * serve every architecture); a build without that header compiles them out
 * and has the hardware counter only. */
#include "runners/agent/counter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define HAVE_CALLGRIND 1
#endif
#endif
#ifndef HAVE_CALLGRIND
#define RUNNING_ON_VALGRIND 0
#define CALLGRIND_START_INSTRUMENTATION do { } while (0)
#define CALLGRIND_STOP_INSTRUMENTATION do { } while (0)
#define CALLGRIND_ZERO_STATS do { } while (0)
#define CALLGRIND_TOGGLE_COLLECT do { } while (0)
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

static long perf_event(uint32_t type, uint64_t config)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = type;
	a.config = config;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.inherit = 1; /* threads the engine starts later */
	return syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

/* The instruction counter, and the secondary ones where the CPU has them
 * (-1 where not: a figure the report leaves out). */
static int perf_open(mg_agent_counter *c, mg_error *err)
{
	long fd = perf_event(PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS);
	if (fd < 0)
		return mg_error_sys(err, MG_ENOTFOUND, errno, "no hardware instruction counter: "
				    "perf_event_open");
	c->fd[0] = (int)fd;
	c->fd[1] = (int)perf_event(PERF_TYPE_HW_CACHE, PERF_COUNT_HW_CACHE_L1D |
						       (PERF_COUNT_HW_CACHE_OP_READ << 8) |
						       (PERF_COUNT_HW_CACHE_RESULT_ACCESS << 16));
	c->fd[2] = (int)perf_event(PERF_TYPE_HARDWARE, PERF_COUNT_HW_CACHE_MISSES);
	struct utsname u;
	snprintf(c->version, sizeof(c->version), "linux %.50s", uname(&u) ? "" : u.release);
	c->backend = MG_COST_PERF;
	return 0;
}

int mg_agent_counter_open(mg_agent_counter *c, mg_error *err)
{
	if (c->backend != MG_COST_NONE)
		return 0;
	c->fd[0] = c->fd[1] = c->fd[2] = -1;
#ifndef HAVE_CALLGRIND
	if (getenv("MODELGATE_CALLGRIND_OUT"))
		return mg_error_set(err, MG_ENOTFOUND, "this agent was built without valgrind's "
				    "<valgrind/callgrind.h> (Debian package valgrind): it cannot count "
				    "under callgrind");
#endif
	if (RUNNING_ON_VALGRIND) {
		const char *dump = getenv("MODELGATE_CALLGRIND_OUT");
		if (!dump || !*dump)
			return mg_error_set(err, MG_ENOTFOUND, "under valgrind without "
					    "MODELGATE_CALLGRIND_OUT (its --callgrind-out-file)");
		const char *version = getenv("MODELGATE_VALGRIND_VERSION");
		snprintf(c->dump, sizeof(c->dump), "%s", dump);
		snprintf(c->version, sizeof(c->version), "%s", version && *version ? version : "valgrind");
		c->backend = MG_COST_CALLGRIND;
		return 0;
	}
	return perf_open(c, err);
}

void mg_agent_counter_prepare(mg_agent_counter *c)
{
	if (c->backend == MG_COST_CALLGRIND)
		CALLGRIND_START_INSTRUMENTATION;
}

void mg_agent_counter_start(mg_agent_counter *c)
{
	if (c->backend == MG_COST_PERF) {
		for (int i = 0; i < 3; i++)
			if (c->fd[i] >= 0) {
				ioctl(c->fd[i], PERF_EVENT_IOC_RESET, 0);
				ioctl(c->fd[i], PERF_EVENT_IOC_ENABLE, 0);
			}
	} else if (c->backend == MG_COST_CALLGRIND) {
		CALLGRIND_ZERO_STATS;
		CALLGRIND_TOGGLE_COLLECT;
	}
}

void mg_agent_counter_stop(mg_agent_counter *c)
{
	if (c->backend == MG_COST_PERF) {
		for (int i = 0; i < 3; i++)
			if (c->fd[i] >= 0)
				ioctl(c->fd[i], PERF_EVENT_IOC_DISABLE, 0);
	} else if (c->backend == MG_COST_CALLGRIND) {
		CALLGRIND_TOGGLE_COLLECT;
		CALLGRIND_DUMP_STATS_AT("modelgate-cost");
		CALLGRIND_STOP_INSTRUMENTATION;
		c->dumps++;
	}
}

/* Callgrind's dump number c->dumps: its totals. */
static int read_dump(const mg_agent_counter *c, mg_cost_counts *out, mg_error *err)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s.%u", c->dump, c->dumps);
	mg_buf b = MG_BUF_INIT;
	int rc = mg_file_read(&b, path, (size_t)64 << 20, err);
	if (!rc && mg_cost_parse_callgrind(mg_buf_cstr(&b), out))
		rc = mg_error_set(err, MG_ERROR, "callgrind's dump '%s' has no Ir total", path);
	mg_buf_free(&b);
	unlink(path);
	return rc;
}

int mg_agent_counter_read(mg_agent_counter *c, mg_cost_counts *out, mg_error *err)
{
	out->instructions = 0;
	out->mem_accesses = out->cache_misses = MG_COST_NA;
	if (c->backend == MG_COST_CALLGRIND)
		return read_dump(c, out, err);
	uint64_t v[3];
	if (c->backend != MG_COST_PERF || read(c->fd[0], &v[0], sizeof(v[0])) != (ssize_t)sizeof(v[0]))
		return mg_error_sys(err, MG_ERROR, errno, "cannot read the instruction counter");
	out->instructions = v[0];
	if (c->fd[1] >= 0 && read(c->fd[1], &v[1], sizeof(v[1])) == (ssize_t)sizeof(v[1]))
		out->mem_accesses = v[1];
	if (c->fd[2] >= 0 && read(c->fd[2], &v[2], sizeof(v[2])) == (ssize_t)sizeof(v[2]))
		out->cache_misses = v[2];
	return 0;
}

void mg_agent_counter_close(mg_agent_counter *c)
{
	for (int i = 0; i < 3; i++) {
		if (c->fd[i] >= 0)
			close(c->fd[i]);
		c->fd[i] = -1;
	}
	c->backend = MG_COST_NONE;
}
