/* sysinfo: where a measurement is taken — CPU model and count, frequency
 * governor, the CPUs this process may run on, load average and kernel —
 * read from /proc and /sys by the agent on its target (libc only), so that
 * a latency figure from a device says which device. Unreadable fields stay
 * empty (or 0 / NAN). */
#ifndef MG_SYSINFO_H
#define MG_SYSINFO_H

typedef struct mg_sysinfo {
	char cpu_model[128]; /* "Intel(R) Xeon(R) ...", "arm 0xd0c", "" */
	unsigned ncpu;       /* online CPUs */
	char governor[32];   /* cpu0's cpufreq governor, "" when none */
	char affinity[128];  /* "0-3" or "0,2-3": the CPUs this process may use */
	double loadavg1;     /* NAN when unknown */
	char kernel[64];     /* uname -r */
} mg_sysinfo;

void mg_sysinfo_read(mg_sysinfo *out);

#endif
