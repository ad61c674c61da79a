/* engines: the list of engines this agent has, and the choice of one per
 * model. The agent is told only a blob's digest, never the model's file
 * name, so the choice reads the file's first bytes and asks each engine's
 * probe: a format's magic number beats a mere plausible start, and the
 * earlier entry wins a tie. Each engine is one entry here and one file
 * exposing its table; their libraries are found the same way
 * (mg_agent_dlopen). */
#include "runners/agent/engine.h"

#include <errno.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* the first is the default: the engine a hello reports */
static const mg_engine_ops *const engines[] = {
	&mg_engine_onnxruntime,
	&mg_engine_tflite,
};

#define NENGINES (sizeof(engines) / sizeof(engines[0]))
_Static_assert(NENGINES <= MG_AGENT_MAX_ENGINES, "raise MG_AGENT_MAX_ENGINES");

/* Enough of a file for every probe. */
#define HEAD_BYTES 16

uint64_t mg_agent_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void *mg_agent_dlopen(const char *file, const char *envvar, char *tried, size_t triedlen)
{
	const char *env = getenv(envvar);
	if (env && *env) {
		snprintf(tried, triedlen, "'%s' (%s)", env, envvar);
		return dlopen(env, RTLD_NOW | RTLD_LOCAL);
	}
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			char path[PATH_MAX + 64];
			snprintf(path, sizeof(path), "%.*s/%s", (int)(slash - self), self, file);
			void *h = access(path, R_OK) == 0 ? dlopen(path, RTLD_NOW | RTLD_LOCAL) : NULL;
			if (h)
				return h;
		}
	}
	snprintf(tried, triedlen, "'%s' (%s is not set, none next to the agent, and none on the "
				  "library path)", file, envvar);
	return dlopen(file, RTLD_NOW | RTLD_LOCAL);
}

const mg_engine_ops *mg_agent_engine(size_t i)
{
	return i < NENGINES ? engines[i] : NULL;
}

size_t mg_agent_engine_named(const char *name)
{
	for (size_t i = 0; name && i < NENGINES; i++)
		if (!strcmp(engines[i]->name, name))
			return i;
	return 0;
}

int mg_agent_engine_for(size_t *out, const char *path, mg_error *err)
{
	unsigned char head[HEAD_BYTES];
	size_t n = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", path);
	while (n < sizeof(head)) {
		ssize_t k = read(fd, head + n, sizeof(head) - n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			int e = errno;
			close(fd);
			return mg_error_sys(err, MG_EIO, e, "cannot read '%s'", path);
		}
		if (k == 0)
			break;
		n += (size_t)k;
	}
	close(fd);
	int best = MG_PROBE_NO;
	for (size_t i = 0; i < NENGINES; i++) {
		int p = engines[i]->probe(head, n);
		if (p > best) {
			best = p;
			*out = i;
		}
	}
	if (best != MG_PROBE_NO)
		return 0;
	char known[256] = "";
	size_t len = 0;
	for (size_t i = 0; i < NENGINES && len < sizeof(known); i++) {
		int w = snprintf(known + len, sizeof(known) - len, "%s%s (%s)", i ? ", " : "",
				 engines[i]->format, engines[i]->name);
		len += w > 0 ? (size_t)w : 0;
	}
	return mg_error_set(err, MG_EINVAL, "not a model format this agent knows; it knows %s", known);
}
