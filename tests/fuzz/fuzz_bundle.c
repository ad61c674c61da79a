/* Fuzz target: verify never crashes on an archive, and what it passes unpack
 * extracts: every entry a safe name, none twice, no more than
 * MG_BUNDLE_MAX_ENTRIES, and mg_bundle_unpack succeeds on it. Seeded with an
 * uncompressed tar and a zip of a small bundle, so that mutations reach the
 * headers rather than a compressed stream. */
#include "fuzz.h"

#include <stdio.h>
#include <unistd.h>

#include "pipelines/package_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64], out[64];
	snprintf(path, sizeof(path), "/tmp/fuzz-bundle-%ld", (long)getpid());
	snprintf(out, sizeof(out), "/tmp/fuzz-bundle-%ld.out", (long)getpid());
	if (fuzz_write_file(path, data, size))
		return 0;
	mg_bundle_check *c = NULL;
	mg_error err = {0};
	if (mg_bundle_verify(&c, path, NULL, &err) == 0) {
		if (c->ok) {
			if (c->nentries > MG_BUNDLE_MAX_ENTRIES)
				abort();
			for (size_t i = 0; i < c->nentries; i++) {
				if (!pkg_path_is_safe(c->entries[i].path, 0))
					abort();
				for (size_t j = 0; j < i; j++)
					if (!strcmp(c->entries[i].path, c->entries[j].path))
						abort();
			}
			mg_bundle_check *u = NULL;
			mg_remove_tree(out);
			if (mg_bundle_unpack(&u, path, out, NULL, &err) != 0 || !u->ok) {
				fprintf(stderr, "verified, but unpack failed: %s\n", err.msg);
				abort();
			}
			mg_bundle_check_free(u);
			mg_remove_tree(out);
		}
		mg_bundle_check_free(c);
	}
	unlink(path);
	return 0;
}
