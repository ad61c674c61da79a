/* modelgate push REF FILE...: store files as one artifact version. */
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* SOURCE_DATE_EPOCH when set (reproducible builds), else now (0). */
static int created_time(int64_t *out, mg_error *err)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");
	*out = 0;
	if (!s || !*s)
		return 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end || v < 0)
		return mg_error_set(err, MG_EINVAL, "SOURCE_DATE_EPOCH '%s' is not a number of seconds", s);
	*out = v;
	return 0;
}

static int add_git_annotations(mg_kv *ann, const char *file, mg_error *err)
{
	char *dir = strdup(file);
	if (!dir)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	char *slash = strrchr(dir, '/');
	if (slash)
		slash[slash == dir ? 1 : 0] = '\0';
	mg_git_info *g = NULL;
	int rc = mg_git_info_read(&g, slash ? dir : ".", NULL);
	free(dir);
	if (rc)
		return 0; /* not in a git work tree: nothing to record */
	rc = 0;
	if (g->commit && !mg_kv_get(ann, MG_ANNOT_REVISION))
		rc = mg_kv_set(ann, MG_ANNOT_REVISION, g->commit, err);
	if (!rc && g->remote_url && !mg_kv_get(ann, MG_ANNOT_SOURCE))
		rc = mg_kv_set(ann, MG_ANNOT_SOURCE, g->remote_url, err);
	if (!rc && g->branch)
		rc = mg_kv_set(ann, "io.modelgate.git.branch", g->branch, err);
	if (!rc && g->commit)
		rc = mg_kv_set(ann, "io.modelgate.git.dirty", g->dirty ? "true" : "false", err);
	mg_git_info_free(g);
	return rc;
}

static const char *artifact_type(const char *t)
{
	if (!strcmp(t, "model"))
		return MG_ARTIFACT_MODEL;
	if (!strcmp(t, "dataset"))
		return MG_ARTIFACT_DATASET;
	if (!strcmp(t, "bundle"))
		return MG_ARTIFACT_BUNDLE;
	return strchr(t, '/') ? t : NULL;
}

int cmd_push(mg_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{"annotation", required_argument, NULL, 'a'},
		{"artifact-type", required_argument, NULL, 't'},
		{"no-git", no_argument, NULL, 'G'},
		CLI_REMOTE_OPTS,
		CLI_COMMON_OPTS};
	mg_kv ann = MG_KV_INIT;
	mg_push_opts po = MG_PUSH_OPTS_INIT;
	mg_error err = {0};
	mg_ref *ref = NULL;
	mg_repo repo = {0};
	int use_git = 1, c, rc = 0;
	while ((c = getopt_long(argc, argv, "a:t:" CLI_COMMON_SHORT, opts, NULL)) != -1) {
		if (c == 'a') {
			char *eq = strchr(optarg, '=');
			if (!eq || eq == optarg) {
				rc = cli_usage_error(cli, "annotation '%s' is not KEY=VALUE", optarg);
				goto done;
			}
			*eq = '\0';
			if (mg_kv_set(&ann, optarg, eq + 1, &err)) {
				rc = cli_fail(cli, &err);
				goto done;
			}
		} else if (c == 't') {
			if (!(po.artifact_type = artifact_type(optarg))) {
				rc = cli_usage_error(cli, "artifact type '%s' is not 'model', 'dataset', 'bundle' or a media type", optarg);
				goto done;
			}
		} else if (c == 'G') {
			use_git = 0;
		} else if ((rc = cli_common_opt(cli, c)) >= 0) {
			goto done;
		}
	}
	rc = 0;
	if (argc - optind < 2) {
		rc = cli_usage_error(cli, argc - optind < 1 ? "missing reference" : "missing files to push");
		goto done;
	}
	const char *const *files = (const char *const *)argv + optind + 1;
	size_t nfiles = (size_t)(argc - optind - 1);
	if (mg_ref_parse(&ref, argv[optind], &err) || created_time(&po.created, &err) ||
	    (use_git && add_git_annotations(&ann, files[0], &err)) ||
	    cli_repo_open(cli, &repo, ref, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	po.annotations = &ann;
	mg_push_result res;
	if (mg_repo_push(&repo, ref, files, nfiles, &po, &res, &err)) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	if (cli->json) {
		rc = cli_print_json(json_pack("{s:s, s:s, s:I, s:I, s:I}", "reference", argv[optind],
					      "digest", res.digest, "size", (json_int_t)res.size,
					      "files_new", (json_int_t)res.files_new, "files_existed",
					      (json_int_t)res.files_existed));
	} else {
		if (cli->verbose)
			cli_info(cli, "pushed %zu file(s) to '%s' (%zu new, %zu already stored)\n", nfiles,
				 argv[optind], res.files_new, res.files_existed);
		printf("%s\n", res.digest);
	}
done:
	mg_kv_clear(&ann);
	mg_ref_free(ref);
	mg_repo_close(&repo);
	return rc;
}
