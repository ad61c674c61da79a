/* counter: the agent's instruction counters (counter.h). callgrind's client
 * requests are valgrind's header-only macros (<valgrind/callgrind.h>,
 * Debian package valgrind); a build without that header (the aarch64 cross
 * build, where Debian has no arm64 valgrind headers installed) compiles
 * them out and has the hardware counter only. */
#include "runners/agent/counter.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
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

static int perf_open(mg_agent_counter *c, mg_error *err)
{
	struct perf_event_attr a;
	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_HARDWARE;
	a.config = PERF_COUNT_HW_INSTRUCTIONS;
	a.disabled = 1;
	a.exclude_kernel = 1;
	a.exclude_hv = 1;
	a.inherit = 1; /* threads the engine starts later */
	long fd = syscall(SYS_perf_event_open, &a, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, MG_ENOTFOUND, errno, "no hardware instruction counter: "
				    "perf_event_open");
	c->fd = (int)fd;
	c->backend = MG_COST_PERF;
	return 0;
}

int mg_agent_counter_open(mg_agent_counter *c, mg_error *err)
{
	if (c->backend != MG_COST_NONE)
		return 0;
	c->fd = -1;
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
		snprintf(c->dump, sizeof(c->dump), "%s", dump);
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
		ioctl(c->fd, PERF_EVENT_IOC_RESET, 0);
		ioctl(c->fd, PERF_EVENT_IOC_ENABLE, 0);
	} else if (c->backend == MG_COST_CALLGRIND) {
		CALLGRIND_ZERO_STATS;
		CALLGRIND_TOGGLE_COLLECT;
	}
}

void mg_agent_counter_stop(mg_agent_counter *c)
{
	if (c->backend == MG_COST_PERF) {
		ioctl(c->fd, PERF_EVENT_IOC_DISABLE, 0);
	} else if (c->backend == MG_COST_CALLGRIND) {
		CALLGRIND_TOGGLE_COLLECT;
		CALLGRIND_DUMP_STATS_AT("modelgate-cost");
		CALLGRIND_STOP_INSTRUMENTATION;
		c->dumps++;
	}
}

/* Callgrind's dump number c->dumps: its Ir total. */
static int read_dump(const mg_agent_counter *c, uint64_t *out, mg_error *err)
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

int mg_agent_counter_read(mg_agent_counter *c, uint64_t *out, mg_error *err)
{
	*out = 0;
	if (c->backend == MG_COST_CALLGRIND)
		return read_dump(c, out, err);
	uint64_t v;
	if (c->backend != MG_COST_PERF || read(c->fd, &v, sizeof(v)) != (ssize_t)sizeof(v))
		return mg_error_sys(err, MG_ERROR, errno, "cannot read the instruction counter");
	*out = v;
	return 0;
}

void mg_agent_counter_close(mg_agent_counter *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->backend = MG_COST_NONE;
}
