/* Provenance from git, through libgit2: the commit, branch, remote and
 * dirtiness of the work tree a model is pushed or packaged from. The only
 * file that includes git2.h. */
#include "pipelines.h"

#include <git2.h>
#include <stdlib.h>
#include <string.h>

void mg_git_info_free(mg_git_info *g)
{
	if (!g)
		return;
	free(g->workdir);
	free(g->commit);
	free(g->branch);
	free(g->remote_url);
	free(g);
}

/* "host:path" (git's scp-like form): a colon before any slash. */
static int scp_like(const char *url)
{
	size_t colon = strcspn(url, ":");
	return url[colon] == ':' && colon < strcspn(url, "/");
}

void mg_url_strip_credentials(char *url)
{
	char *scheme = strstr(url, "://");
	if (scheme || scp_like(url)) /* a query or fragment may hold a token */
		url[strcspn(url, "?#")] = '\0';
	if (!scheme)
		return;
	char *host = scheme + 3;
	char *end = host + strcspn(host, "/");
	char *at = NULL;
	for (char *p = host; p < end; p++)
		if (*p == '@')
			at = p;
	if (at)
		memmove(host, at + 1, strlen(at + 1) + 1);
}

static char *remote_url(git_repository *repo)
{
	git_remote *r = NULL;
	char *url = NULL;
	if (git_remote_lookup(&r, repo, "origin") < 0) {
		git_strarray names = {0};
		if (git_remote_list(&names, repo) == 0 && names.count > 0)
			git_remote_lookup(&r, repo, names.strings[0]);
		git_strarray_dispose(&names);
	}
	if (r && git_remote_url(r)) {
		url = strdup(git_remote_url(r));
		if (url)
			mg_url_strip_credentials(url);
	}
	git_remote_free(r);
	return url;
}

static int is_dirty(git_repository *repo)
{
	git_status_options opts;
	git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	git_status_list *list = NULL;
	if (git_status_list_new(&list, repo, &opts) < 0)
		return 0;
	int dirty = git_status_list_entrycount(list) > 0;
	git_status_list_free(list);
	return dirty;
}

int mg_git_info_read(mg_git_info **out, const char *path, mg_error *err)
{
	git_libgit2_init();
	git_repository *repo = NULL;
	git_reference *head = NULL;
	git_commit *commit = NULL;
	int rc = 0;
	mg_git_info *g = calloc(1, sizeof(*g));
	if (!g) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if (git_repository_open_ext(&repo, path, 0, NULL) < 0) {
		rc = mg_error_set(err, MG_ENOTFOUND, "'%s' is not in a git repository", path);
		goto done;
	}
	if (git_repository_workdir(repo))
		g->workdir = strdup(git_repository_workdir(repo));
	if (git_repository_head(&head, repo) == 0) {
		const git_oid *oid = git_reference_target(head);
		char hex[GIT_OID_HEXSZ + 1];
		if (oid) {
			git_oid_tostr(hex, sizeof(hex), oid);
			g->commit = strdup(hex);
			if (git_commit_lookup(&commit, repo, oid) == 0)
				g->commit_time = (int64_t)git_commit_time(commit);
		}
		if (git_reference_is_branch(head))
			g->branch = strdup(git_reference_shorthand(head));
	}
	g->remote_url = remote_url(repo);
	g->dirty = is_dirty(repo);
done:
	git_commit_free(commit);
	git_reference_free(head);
	git_repository_free(repo);
	git_libgit2_shutdown();
	if (rc) {
		mg_git_info_free(g);
		return rc;
	}
	*out = g;
	return 0;
}
