/* The scratch folders of the unit tests. Each binary works under
 * $MG_TEST_TMP (make unit sets it to build/tmp), or /tmp when it is unset,
 * in folders named after the binary and its pid: binaries run at once, and
 * runs one after another, do not meet. Include after cmocka.h. */
#ifndef MG_TESTS_SCRATCH_H
#define MG_TESTS_SCRATCH_H

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "util/util.h"

/* Makes the folder $MG_TEST_TMP/NAME.PID, emptied of what a run before
 * left, and returns its path: a static buffer that the next call
 * overwrites. Fails the test when the folder cannot be made. */
static inline const char *scratch_dir(const char *name)
{
	static char path[512];
	const char *base = getenv("MG_TEST_TMP");
	if (!base || !*base)
		base = "/tmp";
	int n = snprintf(path, sizeof(path), "%s/%s.%ld", base, name, (long)getpid());
	if (n < 0 || (size_t)n >= sizeof(path))
		fail_msg("scratch folder name too long: '%s/%s'", base, name);
	mg_remove_tree(path);
	mg_error err = {0};
	if (mg_mkdirs(path, &err))
		fail_msg("%s", err.msg);
	return path;
}

#endif
