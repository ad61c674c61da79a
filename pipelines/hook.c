/* Installing modelgate's git hook. libgit2 finds the repository from the
 * cwd (any folder of a work tree, a linked worktree, a bare repository) and
 * where its hooks live (core.hooksPath, else the common git dir's hooks/,
 * shared by all worktrees). The hook marks itself with MG_HOOK_MARKER, so a
 * reinstall is idempotent and a hook someone else wrote is never replaced
 * without force. */
#include "hook.h"

#include <errno.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HOOK_MAX ((size_t)1 << 20)

static int git_fail(mg_error *err, int code, const char *what)
{
	const git_error *e = git_error_last();
	return mg_error_set(err, code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

int mg_hook_dir(char **out, const char *dir, mg_error *err)
{
	git_libgit2_init();
	git_repository *repo = NULL;
	git_config *cfg = NULL;
	git_buf hp = {0};
	char *path = NULL;
	int rc = 0;
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
		rc = mg_error_set(err, MG_ENOTFOUND, "'%s' is not in a git repository", dir);
		goto done;
	}
	if (git_repository_config_snapshot(&cfg, repo) < 0) {
		rc = git_fail(err, MG_ERROR, "cannot read the git config");
		goto done;
	}
	if (git_config_get_path(&hp, cfg, "core.hooksPath") == 0 && hp.size > 0) {
		const char *wd = git_repository_workdir(repo);
		const char *base = wd ? wd : git_repository_path(repo);
		path = hp.ptr[0] == '/' ? mg_strdup(hp.ptr, err) : mg_path_join(base, hp.ptr, err);
	} else {
		path = mg_path_join(git_repository_commondir(repo), "hooks", err);
	}
	if (!path)
		rc = MG_ENOMEM;
done:
	git_buf_dispose(&hp);
	git_config_free(cfg);
	git_repository_free(repo);
	git_error_clear();
	git_libgit2_shutdown();
	if (!rc) {
		/* tidy "a/./b" and a trailing '/' for messages */
		size_t n = strlen(path);
		while (n > 1 && path[n - 1] == '/')
			path[--n] = '\0';
		*out = path;
	}
	return rc;
}

/* Appends s in single quotes, for sh. */
static int sh_quote(mg_buf *out, const char *s, mg_error *err)
{
	int rc = mg_buf_puts(out, "'", err);
	for (const char *p = s; !rc && *p; p++)
		rc = *p == '\'' ? mg_buf_puts(out, "'\\''", err) : mg_buf_append(out, p, 1, err);
	return rc ? rc : mg_buf_puts(out, "'", err);
}

int mg_hook_script(mg_buf *out, const char *modelgate, const char *config_dir,
		   const char *config_file, mg_error *err)
{
	int rc = mg_buf_puts(out,
		"#!/bin/sh\n" MG_HOOK_MARKER "\n"
		"# Before `git push`: runs the gates whose model, dataset or config changed\n"
		"# in the commits being pushed (modelgate gate --changed), and stops the push\n"
		"# when one fails. Skip it once with `git push --no-verify`; remove it with\n"
		"# `modelgate hook uninstall`. CI-only gates (\"ci_only\": true) are skipped here.\n",
		err);
	if (!rc)
		rc = mg_buf_puts(out, "modelgate=", err);
	if (!rc)
		rc = sh_quote(out, modelgate ? modelgate : "modelgate", err);
	if (!rc)
		rc = mg_buf_puts(out, "\ncommand -v \"$modelgate\" >/dev/null 2>&1 || modelgate=modelgate\n"
				      "report=$(git rev-parse --absolute-git-dir)/modelgate-report.json\n", err);
	if (!rc && config_dir && *config_dir) {
		rc = mg_buf_puts(out, "cd ", err);
		if (!rc)
			rc = sh_quote(out, config_dir, err);
		if (!rc)
			rc = mg_buf_puts(out, " || exit 2\n", err);
	}
	if (!rc)
		rc = mg_buf_puts(out, "exec \"$modelgate\" gate --changed --pre-push --report \"$report\" -c ", err);
	if (!rc)
		rc = sh_quote(out, config_file, err);
	return rc ? rc : mg_buf_puts(out, "\n", err);
}

/* Where a forced install keeps a foreign hook. */
static char *backup_name(const char *path, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	if (mg_buf_printf(&b, err, "%s.before-modelgate", path)) {
		mg_buf_free(&b);
		return NULL;
	}
	return mg_buf_detach(&b);
}

/* 1 ours, 0 foreign, -1 none; the old contents in old. */
static int read_hook(mg_buf *old, const char *path, mg_error *err)
{
	struct stat st;
	if (lstat(path, &st) != 0)
		return errno == ENOENT ? -1 : 0;
	if (!S_ISREG(st.st_mode))
		return 0;
	if (mg_file_read(old, path, HOOK_MAX, err) != 0) {
		mg_error_clear(err);
		return 0;
	}
	return strstr(mg_buf_cstr(old), "\n" MG_HOOK_MARKER "\n") != NULL;
}

int mg_hook_install(char **path_out, mg_hook_action *action, const char *dir, const char *name,
		    const char *script, int force, mg_error *err)
{
	char *hooks = NULL, *path = NULL, *backup = NULL, *tmp = NULL;
	mg_buf old = MG_BUF_INIT;
	int fd = -1;
	int rc = mg_hook_dir(&hooks, dir, err);
	if (rc)
		goto done;
	if (!(path = mg_path_join(hooks, name, err))) {
		rc = MG_ENOMEM;
		goto done;
	}
	int ours = read_hook(&old, path, err);
	if (ours == 1) {
		*action = strcmp(mg_buf_cstr(&old), script) ? MG_HOOK_UPDATED : MG_HOOK_UNCHANGED;
		struct stat st;
		if (*action == MG_HOOK_UNCHANGED && stat(path, &st) == 0 && (st.st_mode & 0777) == 0755)
			goto done;
	} else if (ours == 0) {
		if (!force) {
			rc = mg_error_set(err, MG_EEXISTS,
					  "'%s' is a hook modelgate did not install; not replacing it"
					  " (--force keeps it as %s.before-modelgate)", path, name);
			goto done;
		}
		if (!(backup = backup_name(path, err))) {
			rc = MG_ENOMEM;
			goto done;
		}
		if (rename(path, backup) != 0) {
			rc = mg_error_sys(err, MG_EIO, errno, "cannot move '%s' to '%s'", path, backup);
			goto done;
		}
		*action = MG_HOOK_REPLACED;
	} else {
		*action = MG_HOOK_CREATED;
	}
	if ((rc = mg_mkdirs(hooks, err)) || (rc = mg_tmpfile_open(&fd, &tmp, hooks, err)))
		goto done;
	if ((rc = mg_write_all(fd, script, strlen(script), tmp, err)))
		goto done;
	if (fchmod(fd, 0755) != 0) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot make '%s' executable", path);
		goto done;
	}
	rc = mg_tmpfile_commit(fd, tmp, path, err);
	fd = -1;
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	free(backup);
	free(hooks);
	mg_buf_free(&old);
	if (!rc && path_out)
		*path_out = path;
	else
		free(path);
	return rc;
}

int mg_hook_uninstall(char **path_out, const char *dir, const char *name, mg_error *err)
{
	char *hooks = NULL, *path = NULL, *backup = NULL;
	mg_buf old = MG_BUF_INIT;
	int rc = mg_hook_dir(&hooks, dir, err);
	if (rc)
		goto done;
	if (!(path = mg_path_join(hooks, name, err)) || !(backup = backup_name(path, err))) {
		rc = MG_ENOMEM;
		goto done;
	}
	int ours = read_hook(&old, path, err);
	if (ours < 0) {
		rc = mg_error_set(err, MG_ENOTFOUND, "no %s hook in '%s'", name, hooks);
	} else if (ours == 0) {
		rc = mg_error_set(err, MG_EEXISTS, "'%s' is a hook modelgate did not install; leaving it", path);
	} else if (access(backup, F_OK) == 0 ? rename(backup, path) != 0 : unlink(path) != 0) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot remove '%s'", path);
	}
done:
	free(hooks);
	free(backup);
	mg_buf_free(&old);
	if (!rc && path_out)
		*path_out = path;
	else
		free(path);
	return rc;
}
