/* Where a latency figure was measured, for the report: what the agent on
 * the target said of its machine (CPU model and count, governor, the CPUs it
 * may use, load, kernel), the engine and architecture, and whether the
 * target is emulated. */
#include "validator_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dup_nonempty(const char *s)
{
	return s && *s ? strdup(s) : NULL;
}

char *mg_fingerprint_engine(const mg_target_info *ti)
{
	char engine[160];
	snprintf(engine, sizeof(engine), "%s %s", ti->engine, ti->engine_version);
	return strdup(engine);
}

mg_fingerprint *mg_fingerprint_of(const mg_target_info *ti)
{
	mg_fingerprint *f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->engine = mg_fingerprint_engine(ti);
	f->arch = strdup(ti->arch && *ti->arch ? ti->arch : "unknown");
	f->emulated = ti->emulated;
	const mg_sysinfo *s = ti->sys;
	f->cpu_model = dup_nonempty(s->cpu_model);
	f->cpu_count = (int)s->ncpu;
	f->governor = dup_nonempty(s->governor);
	f->pinning = dup_nonempty(s->affinity);
	f->loadavg1 = s->loadavg1;
	f->kernel = dup_nonempty(s->kernel);
	return f;
}
