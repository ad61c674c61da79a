/* The description of the machine an agent runs on (see sysinfo.h). Linked
 * into both the agent and the host library; libc only. */
#include "runners/sysinfo.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Copies s into out, cut to fit. */
static void copy_cut(char *out, size_t outlen, const char *s)
{
	size_t n = strlen(s);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* The value of the first "key : value" line of path (or the first line
 * when key is NULL) into out. */
static void read_field(const char *path, const char *key, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	out[0] = '\0';
	if (!f)
		return;
	char line[512];
	size_t klen = key ? strlen(key) : 0;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		const char *v = line;
		if (key) {
			if (strncmp(line, key, klen) || !(v = strchr(line, ':')))
				continue;
			v += 1 + strspn(v + 1, " \t");
		}
		copy_cut(out, outlen, v);
		break;
	}
	fclose(f);
}

static void affinity_list(char *out, size_t outlen)
{
	cpu_set_t set;
	size_t len = 0;
	out[0] = '\0';
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return;
	for (int i = 0; i < CPU_SETSIZE && len + 16 < outlen; i++) {
		if (!CPU_ISSET(i, &set))
			continue;
		int j = i;
		while (j + 1 < CPU_SETSIZE && CPU_ISSET(j + 1, &set))
			j++;
		len += (size_t)snprintf(out + len, outlen - len, j > i ? "%s%d-%d" : "%s%d",
					len ? "," : "", i, j);
		i = j;
	}
}

void mg_sysinfo_read(mg_sysinfo *out)
{
	memset(out, 0, sizeof(*out));
	read_field("/proc/cpuinfo", "model name", out->cpu_model, sizeof(out->cpu_model));
	if (!out->cpu_model[0]) { /* ARM: no model name, a part number */
		char part[32];
		read_field("/proc/cpuinfo", "CPU part", part, sizeof(part));
		if (part[0])
			snprintf(out->cpu_model, sizeof(out->cpu_model), "arm %s", part);
	}
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	out->ncpu = n > 0 ? (unsigned)n : 0;
	read_field("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor", NULL, out->governor,
		   sizeof(out->governor));
	affinity_list(out->affinity, sizeof(out->affinity));
	double load[1];
	out->loadavg1 = getloadavg(load, 1) == 1 ? load[0] : NAN;
	struct utsname u;
	if (uname(&u) == 0)
		copy_cut(out->kernel, sizeof(out->kernel), u.release);
}
