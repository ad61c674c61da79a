/* changed: which gates of a modelgate.json have inputs that changed in git,
 * for `modelgate gate --changed` (and the pre-push hook). */
#ifndef MG_CHANGED_H
#define MG_CHANGED_H

#include <stddef.h>

#include "util/util.h"
#include "validator/validator.h"

/* The paths that changed, relative to the top of the work tree. */
typedef struct mg_changed {
	char *workdir;  /* top of the work tree, with a trailing '/' */
	char *base;     /* what was compared against: a 40-hex commit, or "empty" */
	char **paths;
	size_t npaths;
	int nothing_pushed; /* pre-push: only deletions, or no lines at all */
} mg_changed;

typedef struct mg_changed_opts {
	int version;
	/* The pre-push hook's standard input ("<local ref> <local sha>
	 * <remote ref> <remote sha>" lines): compare the pushed commits with
	 * what the remote has. NULL: compare the work tree with `since`. */
	const char *pre_push;
	/* A revision (anything git rev-parse takes). NULL: the merge base with
	 * the current branch's upstream, else HEAD~1, else the empty tree. */
	const char *since;
} mg_changed_opts;
#define MG_CHANGED_OPTS_VERSION 1
#define MG_CHANGED_OPTS_INIT {MG_CHANGED_OPTS_VERSION, NULL, NULL}

/* Diffs (libgit2) the repository around dir as opts say. MG_ENOTFOUND when
 * dir is in no repository; MG_EINVAL for a revision that does not resolve
 * or a malformed pre-push line. */
int mg_changed_read(mg_changed **out, const char *dir, const mg_changed_opts *opts, mg_error *err);
void mg_changed_free(mg_changed *c);

/* Marks in selected[i] (cfg->ngates entries) each gate whose inputs are
 * among the changed paths: the config file itself and the model select
 * every gate, the baseline too (gates compare with it), the dataset
 * the accuracy and fidelity gates, a fidelity reference folder its gate.
 * model and baseline override the config's (relative to the cwd), as
 * `gate --model/--baseline` do. Returns how many were selected (>= 0), or a
 * negative MG_E*. */
int mg_changed_gates(int *selected, const mg_config *cfg, const char *model, const char *baseline,
		     const mg_changed *ch, mg_error *err);

#endif
