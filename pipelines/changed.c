/* Which gate inputs changed, through libgit2: the diff between a base (the
 * remote's commits in a pre-push hook, a revision given with --since, or the
 * upstream of the current branch) and the pushed commits or the work tree,
 * and the mapping from changed paths to the gates of a modelgate.json that
 * read them. Lets `modelgate gate --changed` skip everything, fast, when a
 * push touches no model, dataset or config. */
#include "changed.h"

#include <errno.h>
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZERO_OID "0000000000000000000000000000000000000000"
#define MAX_PRE_PUSH_LINES 4096

void mg_changed_free(mg_changed *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->npaths; i++)
		free(c->paths[i]);
	free(c->paths);
	free(c->workdir);
	free(c->base);
	free(c);
}

static int git_fail(mg_error *err, int code, const char *what)
{
	const git_error *e = git_error_last();
	return mg_error_set(err, code, "%s: %s", what, e && e->message ? e->message : "libgit2 error");
}

static int add_path(mg_changed *c, const char *path, mg_error *err)
{
	if (!path)
		return 0;
	for (size_t i = 0; i < c->npaths; i++)
		if (!strcmp(c->paths[i], path))
			return 0;
	char **p = realloc(c->paths, (c->npaths + 1) * sizeof(*p));
	if (!p)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	c->paths = p;
	if (!(p[c->npaths] = mg_strdup(path, err)))
		return MG_ENOMEM;
	c->npaths++;
	return 0;
}

static int add_diff(mg_changed *c, git_diff *diff, mg_error *err)
{
	size_t n = git_diff_num_deltas(diff);
	int rc = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		const git_diff_delta *d = git_diff_get_delta(diff, i);
		rc = add_path(c, d->old_file.path, err);
		if (!rc && d->new_file.path && (!d->old_file.path || strcmp(d->old_file.path, d->new_file.path)))
			rc = add_path(c, d->new_file.path, err);
	}
	git_diff_free(diff);
	return rc;
}

static int set_base(mg_changed *c, const git_oid *oid, mg_error *err)
{
	char hex[GIT_OID_HEXSZ + 1];
	if (oid)
		git_oid_tostr(hex, sizeof(hex), oid);
	free(c->base);
	c->base = mg_strdup(oid ? hex : "empty", err);
	return c->base ? 0 : MG_ENOMEM;
}

/* The tree of a commit-ish oid; *out NULL for a NULL oid (the empty tree). */
static int tree_of(git_tree **out, git_repository *repo, const git_oid *oid, mg_error *err)
{
	*out = NULL;
	if (!oid)
		return 0;
	git_commit *commit = NULL;
	if (git_commit_lookup(&commit, repo, oid) < 0)
		return git_fail(err, MG_EINVAL, "cannot read a commit");
	int rc = git_commit_tree(out, commit) < 0 ? git_fail(err, MG_ERROR, "cannot read a tree") : 0;
	git_commit_free(commit);
	return rc;
}

/* A branch new to the remote: the closest merge base of local with any
 * remote-tracking branch; 0 with *found = 0 when there is none. */
static int closest_remote_base(git_oid *out, int *found, git_repository *repo, const git_oid *local)
{
	git_reference_iterator *it = NULL;
	git_reference *ref = NULL;
	*found = 0;
	if (git_reference_iterator_glob_new(&it, repo, "refs/remotes/*") < 0)
		return 0;
	while (git_reference_next(&ref, it) == 0) {
		git_object *obj = NULL;
		git_oid mb;
		if (git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) == 0 &&
		    git_merge_base(&mb, repo, local, git_object_id(obj)) == 0 &&
		    (!*found || git_graph_descendant_of(repo, &mb, out) == 1)) {
			*out = mb;
			*found = 1;
		}
		git_object_free(obj);
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	return 0;
}

/* One pre-push line: diff what the remote has (or the closest remote base)
 * with the local commit being pushed. */
static int pre_push_line(mg_changed *c, git_repository *repo, const char *line, mg_error *err)
{
	char lref[1024], lsha[64], rref[1024], rsha[64];
	if (sscanf(line, "%1023s %63s %1023s %63s", lref, lsha, rref, rsha) != 4 ||
	    strlen(lsha) != GIT_OID_HEXSZ || strlen(rsha) != GIT_OID_HEXSZ)
		return mg_error_set(err, MG_EINVAL,
				    "pre-push input '%.80s': expected '<local ref> <local sha> <remote ref> <remote sha>'",
				    line);
	if (!strcmp(lsha, ZERO_OID)) /* a deletion pushes no content */
		return 0;
	git_oid local, remote, base;
	const git_oid *basep = NULL;
	if (git_oid_fromstr(&local, lsha) < 0 || git_oid_fromstr(&remote, rsha) < 0)
		return mg_error_set(err, MG_EINVAL, "pre-push input '%.80s': not a commit id", line);
	git_commit *rc_commit = NULL;
	if (strcmp(rsha, ZERO_OID) && git_commit_lookup(&rc_commit, repo, &remote) == 0) {
		base = remote;
		basep = &base;
	} else {
		int found = 0;
		closest_remote_base(&base, &found, repo, &local);
		basep = found ? &base : NULL;
	}
	git_commit_free(rc_commit);
	c->nothing_pushed = 0;
	git_tree *old = NULL, *new = NULL;
	git_diff *diff = NULL;
	int rc = tree_of(&old, repo, basep, err);
	if (!rc)
		rc = tree_of(&new, repo, &local, err);
	if (!rc && git_diff_tree_to_tree(&diff, repo, old, new, NULL) < 0)
		rc = git_fail(err, MG_ERROR, "cannot diff the pushed commits");
	if (!rc)
		rc = add_diff(c, diff, err);
	if (!rc && (!c->base || !strcmp(c->base, "empty") || !basep))
		rc = set_base(c, basep, err);
	git_tree_free(old);
	git_tree_free(new);
	return rc;
}

static int from_pre_push(mg_changed *c, git_repository *repo, const char *input, mg_error *err)
{
	c->nothing_pushed = 1;
	size_t lines = 0;
	for (const char *p = input; *p;) {
		size_t n = strcspn(p, "\n");
		char line[2200];
		if (n >= sizeof(line))
			return mg_error_set(err, MG_EINVAL, "pre-push input: a line is too long");
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (p[n] == '\n');
		if (strspn(line, " \t\r") == n)
			continue;
		if (++lines > MAX_PRE_PUSH_LINES)
			return mg_error_set(err, MG_EINVAL, "pre-push input: more than %d lines", MAX_PRE_PUSH_LINES);
		int rc = pre_push_line(c, repo, line, err);
		if (rc)
			return rc;
	}
	return 0;
}

/* The default base: merge base with the upstream, else HEAD~1, else none. */
static int default_base(git_oid *out, int *found, git_repository *repo)
{
	git_reference *head = NULL, *up = NULL;
	git_object *obj = NULL;
	*found = 0;
	if (git_repository_head(&head, repo) == 0 && git_reference_is_branch(head) &&
	    git_branch_upstream(&up, head) == 0) {
		git_object *upc = NULL;
		if (git_reference_peel(&upc, up, GIT_OBJECT_COMMIT) == 0 && git_reference_target(head) &&
		    git_merge_base(out, repo, git_reference_target(head), git_object_id(upc)) == 0)
			*found = 1;
		git_object_free(upc);
	}
	if (!*found && git_revparse_single(&obj, repo, "HEAD~1") == 0) {
		git_object *c = NULL;
		if (git_object_peel(&c, obj, GIT_OBJECT_COMMIT) == 0) {
			*out = *git_object_id(c);
			*found = 1;
		}
		git_object_free(c);
	}
	git_object_free(obj);
	git_reference_free(up);
	git_reference_free(head);
	git_error_clear();
	return 0;
}

static int from_worktree(mg_changed *c, git_repository *repo, const char *since, mg_error *err)
{
	git_oid base;
	int found = 0, rc = 0;
	if (since) {
		git_object *obj = NULL, *commit = NULL;
		if (git_revparse_single(&obj, repo, since) < 0 ||
		    git_object_peel(&commit, obj, GIT_OBJECT_COMMIT) < 0) {
			git_object_free(obj);
			return mg_error_set(err, MG_EINVAL, "--since '%s': not a commit in this repository", since);
		}
		base = *git_object_id(commit);
		found = 1;
		git_object_free(commit);
		git_object_free(obj);
	} else {
		default_base(&base, &found, repo);
	}
	git_tree *tree = NULL;
	git_diff *diff = NULL;
	git_diff_options o;
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	o.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
	rc = tree_of(&tree, repo, found ? &base : NULL, err);
	if (!rc && git_diff_tree_to_workdir_with_index(&diff, repo, tree, &o) < 0)
		rc = git_fail(err, MG_ERROR, "cannot diff the work tree");
	if (!rc)
		rc = add_diff(c, diff, err);
	if (!rc)
		rc = set_base(c, found ? &base : NULL, err);
	git_tree_free(tree);
	return rc;
}

int mg_changed_read(mg_changed **out, const char *dir, const mg_changed_opts *opts, mg_error *err)
{
	if (!opts || opts->version != MG_CHANGED_OPTS_VERSION)
		return mg_error_set(err, MG_EINVAL, "mg_changed_opts: wrong version");
	git_libgit2_init();
	git_repository *repo = NULL;
	int rc = 0;
	mg_changed *c = calloc(1, sizeof(*c));
	if (!c) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if (git_repository_open_ext(&repo, dir, 0, NULL) < 0) {
		rc = mg_error_set(err, MG_ENOTFOUND, "'%s' is not in a git repository", dir);
		goto done;
	}
	const char *wd = git_repository_workdir(repo);
	if (!wd) {
		rc = mg_error_set(err, MG_EINVAL, "'%s' is in a bare repository: no files to gate", dir);
		goto done;
	}
	char real[PATH_MAX];
	if (!realpath(wd, real)) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot resolve '%s'", wd);
		goto done;
	}
	size_t n = strlen(real);
	if (!(c->workdir = malloc(n + 2))) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	memcpy(c->workdir, real, n);
	c->workdir[n] = '/';
	c->workdir[n + 1] = '\0';
	if (n == 1)
		c->workdir[1] = '\0';
	rc = opts->pre_push ? from_pre_push(c, repo, opts->pre_push, err)
			    : from_worktree(c, repo, opts->since, err);
done:
	git_repository_free(repo);
	git_libgit2_shutdown();
	if (rc) {
		mg_changed_free(c);
		return rc;
	}
	*out = c;
	return 0;
}
