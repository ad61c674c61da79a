/* modelgate push REF FILE[:MEDIATYPE]...: store files as one artifact
 * version; a file may name its layer's media type as ORAS's FILE:TYPE. */
#include "cli.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

/* A media type as RFC 6838 writes one: type/subtype of letters, digits
 * and !#$&-^_.+ (no parameters). */
static int is_media_type(const char *s)
{
	static const char more[] = "!#$&-^_.+";
	const char *slash = strchr(s, '/');
	if (!slash || slash == s || !slash[1])
		return 0;
	for (const char *p = s; *p; p++)
		if (p != slash && !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
				    (*p >= '0' && *p <= '9') || (*p && strchr(more, *p))))
			return 0;
	return 1;
}

/* Splits each FILE[:MEDIATYPE] argument in place: a path that exists is a
 * file whatever its colons; else the part after the last ':' is the media
 * type of the file before it. types[i] is NULL for none. */
static int split_files(mg_cli *cli, char **args, size_t n, const char **types)
{
	struct stat st;
	for (size_t i = 0; i < n; i++) {
		char *colon = strrchr(args[i], ':');
		types[i] = NULL;
		if (!*args[i])
			return cli_usage_error(cli, "an empty file name: name the files to push");
		if (stat(args[i], &st) == 0 || !colon)
			continue;
		if (!is_media_type(colon + 1))
			return cli_usage_error(cli, "cannot read '%s': no such file, and '%s' is not a media type "
					       "(FILE:TYPE/SUBTYPE)", args[i], colon + 1);
		*colon = '\0';
		types[i] = colon + 1;
		if (!*args[i])
			return cli_usage_error(cli, "an empty file name before ':%s'", types[i]);
	}
	return 0;
}

static int cmd_push(mg_cli *cli, int argc, char **argv)
{
	mg_kv ann = MG_KV_INIT;
	mg_push_opts po = MG_PUSH_OPTS_INIT;
	mg_error err = {0};
	mg_ref *ref = NULL;
	mg_repo repo = {0};
	const char **types = NULL;
	int use_git = 1, c, rc = 0;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
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
	if (!(types = calloc(nfiles, sizeof(*types)))) {
		rc = cli_usage_error(cli, "out of memory");
		goto done;
	}
	if ((rc = split_files(cli, argv + optind + 1, nfiles, types)))
		goto done;
	po.media_types = types;
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
	if (!res.model_known && (!po.artifact_type || !strcmp(po.artifact_type, MG_ARTIFACT_MODEL)))
		fprintf(stderr, "modelgate: warning: no file of '%s' is a model in a format modelgate reads "
				"(ONNX, TFLite): gate and run cannot use it; pushed as a model all the same "
				"(--artifact-type dataset or TYPE for other files)\n", argv[optind]);
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
	free(types);
	mg_kv_clear(&ann);
	mg_ref_free(ref);
	mg_repo_close(&repo);
	return rc;
}

static const mg_opt push_opts[] = {
	{"annotation", 'a', 0, "KEY=VALUE",
	 "Record an annotation in the version's manifest (repeatable; git's commit, remote and "
	 "branch are recorded unless --no-git)."},
	{"artifact-type", 't', 0, "TYPE",
	 "What the files are: 'model' (the default), 'dataset', 'bundle' (a signed bundle for a fleet), or a media type."},
	{"no-git", 0, 'G', NULL, "Record nothing about the git work tree the files are in."},
	CLI_OPT_END};

const mg_cmd cli_cmd_push = {
	.name = "push",
	.fn = cmd_push,
	.summary = "store files as a model (or dataset) version",
	.description = "Stores the files as one version (an OCI artifact, one layer per file) under "
		       "REF in the local store or a registry, and prints its manifest digest. Files "
		       "already stored are not stored again.",
	.synopsis = {"REF FILE[:MEDIATYPE]... [OPTIONS]"},
	.opts = {push_opts, cli_remote_opts},
	.examples = {{"modelgate push kws:v3 model.onnx", "Store model.onnx as version v3 of kws."},
		     {"modelgate push digits-data:v1 x.npy y.npy -t dataset",
		      "Store a dataset's two files as one version."},
		     {"modelgate push localhost:5000/team/kws:v3 model.onnx -a stage=beta",
		      "Push to a registry, with an annotation."}},
};
