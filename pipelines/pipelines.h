/* pipelines: what happens around the gates — provenance (git), packaging,
 * signing, promotion and deploy triggers. */
#ifndef MG_PIPELINES_H
#define MG_PIPELINES_H

#include <stdint.h>

#include "util/util.h"

/* Where the work tree around a path stands in git. */
typedef struct mg_git_info {
	char *workdir;     /* top of the work tree */
	char *commit;      /* HEAD, 40 hex; NULL in a repository without commits */
	char *branch;      /* short branch name; NULL when HEAD is detached */
	char *remote_url;  /* the "origin" remote (else the first), without credentials,
			      query or fragment */
	int dirty;         /* tracked files differ from HEAD */
	int64_t commit_time;
} mg_git_info;

/* Reads the repository around path. MG_ENOTFOUND when path is in none. */
int mg_git_info_read(mg_git_info **out, const char *path, mg_error *err);
void mg_git_info_free(mg_git_info *g);

/* Removes what may hold a secret from a remote URL, in place: its
 * "user:password@", its query and its fragment (?access_token=...); a local
 * path stays as it is. Secrets never travel into annotations or logs. */
void mg_url_strip_credentials(char *url);

#endif
