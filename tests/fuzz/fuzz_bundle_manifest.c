/* Fuzz target: reading a bundle's manifest.json and manifest.json.sig never
 * crashes, and what manifest.json accepts is what verify relies on: at most
 * MG_BUNDLE_MAX_ENTRIES files, each with a safe path, a sha256 digest and a
 * size; a valid artifact digest. */
#include "fuzz.h"

#include "pipelines/package_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > MG_BUNDLE_MANIFEST_MAX)
		return 0; /* verify reads no more */
	pkg_manifest m;
	mg_error err = {0};
	if (pkg_manifest_parse(&m, (const char *)data, size, "fuzz", &err) == 0) {
		if (m.nfiles > MG_BUNDLE_MAX_ENTRIES || !mg_digest_valid(m.artifact_digest))
			abort();
		for (size_t i = 0; i < m.nfiles; i++)
			if (!pkg_path_is_safe(m.files[i].path, 0) || !mg_digest_valid(m.files[i].digest))
				abort();
		pkg_manifest_clear(&m);
	} else if (err.code != MG_EINVAL && err.code != MG_ENOMEM) {
		abort();
	}
	char key_id[MG_DIGEST_SIZE];
	char *sig = NULL;
	if (pkg_sig_parse((const char *)data, size, key_id, &sig, "fuzz", NULL) == 0 &&
	    (!sig || !mg_digest_valid(key_id)))
		abort();
	free(sig);
	return 0;
}
