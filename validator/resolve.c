/* Resolving what a modelgate.json names into files on this machine: a
 * model or dataset given as a path, a local store reference or a registry
 * reference, read the way every command reads one (registry/source.h);
 * every artifact gets a digest for the report (the manifest's for
 * references, the file's sha256 for files). */
#include "validator_int.h"

#include <string.h>

void mg_resolved_clear(mg_resolved *r)
{
	mg_source_close(&r->src);
	memset(r, 0, sizeof(*r));
}

int mg_resolve(mg_resolved *out, const char *spec, const char *dir, int want_model,
	       const mg_source_opts *so, mg_error *err)
{
	memset(out, 0, sizeof(*out));
	mg_source_opts o = MG_SOURCE_OPTS_INIT;
	if (so)
		o = *so;
	o.base = dir;
	int rc = mg_source_open(&out->src, spec, &o, err);
	if (!rc && want_model)
		rc = mg_source_model(&out->src, err);
	if (rc) {
		mg_resolved_clear(out);
		return rc;
	}
	out->spec = out->src.spec;
	out->path = want_model ? out->src.model : out->src.path;
	out->digest = out->src.digest[0] ? out->src.digest : NULL;
	return 0;
}
