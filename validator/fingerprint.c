/* Where a latency figure was measured: CPU model and count, frequency
 * governor, the CPUs this process may run on, load average and kernel, with
 * the engine and architecture the target reported. Read from /proc and
 * /sys; anything unreadable is left NULL. */
#include "validator_int.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static char *first_line_after(const char *path, const char *key)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	char line[512];
	char *out = NULL;
	size_t klen = key ? strlen(key) : 0;
	while (!out && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!key) {
			out = strdup(line);
		} else if (!strncmp(line, key, klen)) {
			char *colon = strchr(line, ':');
			if (colon) {
				colon++;
				while (*colon == ' ' || *colon == '\t')
					colon++;
				out = strdup(colon);
			}
		}
	}
	fclose(f);
	return out;
}

/* "0-1" or "0,2-3" style list of the CPUs this process may use. */
static char *affinity_list(void)
{
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return NULL;
	char buf[512] = "";
	size_t len = 0;
	for (int i = 0; i < CPU_SETSIZE && len < sizeof(buf) - 16; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		int j = i;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, &set))
			j++;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, j > i ? "%s%d-%d" : "%s%d",
					len ? "," : "", i, j);
		i = j;
	}
	return strdup(buf);
}

mg_fingerprint *mg_fingerprint_host(const char *engine, const char *arch, int emulated, int here)
{
	mg_fingerprint *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->engine = engine ? strdup(engine) : NULL;
	f->arch = strdup(arch ? arch : "unknown");
	f->emulated = emulated;
	f->loadavg1 = NAN; /* unknown */
	if (!here)
		return f;
	f->cpu_model = first_line_after("/proc/cpuinfo", "model name");
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	f->cpu_count = n > 0 ? (int)n : 0;
	f->governor = first_line_after("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", NULL);
	f->pinning = affinity_list();
	double load[1] = {0};
	f->loadavg1 = getloadavg(load, 1) == 1 ? load[0] : NAN;
	struct utsname u;
	if (uname(&u) == 0)
		f->kernel = strdup(u.release);
	return f;
}
