/* hook: the git pre-push hook that runs `modelgate gate --changed` before
 * `git push` (`modelgate hook install|uninstall`). */
#ifndef MG_HOOK_H
#define MG_HOOK_H

#include "util/util.h"

/* The line that marks a hook as ours: reinstalling replaces it, and a hook
 * without it is someone else's. */
#define MG_HOOK_MARKER "# installed by modelgate hook install"

typedef enum {
	MG_HOOK_CREATED,   /* there was no hook */
	MG_HOOK_UPDATED,   /* ours was there, with other contents */
	MG_HOOK_UNCHANGED, /* ours was there, the same */
	MG_HOOK_REPLACED,  /* a foreign hook, replaced with force (backup kept) */
} mg_hook_action;

/* The hooks folder of the repository around dir (libgit2 finds it from any
 * folder of a work tree, a linked worktree or a bare repository):
 * core.hooksPath (relative to the top of the work tree), else the hooks/
 * folder of the common git dir, which linked worktrees share. */
int mg_hook_dir(char **out, const char *dir, mg_error *err);

/* The pre-push script: cd to config_dir (relative to the top of the work
 * tree, "" for the top) and exec modelgate (an absolute path, or NULL for
 * the one on PATH) `gate --changed --pre-push -c config_file`. */
int mg_hook_script(mg_buf *out, const char *modelgate, const char *config_dir,
		   const char *config_file, mg_error *err);

/* Writes script as hook `name` (mode 0755, atomically). A hook without
 * MG_HOOK_MARKER is refused (MG_EEXISTS, naming it) unless force, which
 * keeps it as NAME.before-modelgate. The hook's path goes to *path_out. */
int mg_hook_install(char **path_out, mg_hook_action *action, const char *dir, const char *name,
		    const char *script, int force, mg_error *err);

/* Removes our hook `name`: MG_ENOTFOUND when there is none, MG_EEXISTS for
 * a foreign one (left alone). A backup made by a forced install is put
 * back. */
int mg_hook_uninstall(char **path_out, const char *dir, const char *name, mg_error *err);

#endif
