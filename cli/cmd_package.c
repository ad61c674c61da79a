/* modelgate package REF|DIR|FILE --report report.json -o BUNDLE [--sign KEY]:
 * writes a reproducible bundle of a model that passed its gates (see
 * pipelines/package.h for what is inside). The model comes from the local
 * store (read straight from its blobs, verified on the way), a registry
 * (pulled into a temporary folder first), a folder of files, or one file.
 * Exit 1 when the report failed or names another model. */
#include "cli.h"
#include "pipelines/package.h"
#include "registry/remote.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct inputs {
	mg_package_file *files;
	size_t n;
	char **owned; /* strings to free */
	size_t nowned;
	char artifact_digest[MG_DIGEST_SIZE];
	int has_digest;
} inputs;

static char *own(inputs *in, char *s)
{
	char **p = s ? realloc(in->owned, (in->nowned + 1) * sizeof(*p)) : NULL;
	if (!p) {
		free(s);
		return NULL;
	}
	in->owned = p;
	return in->owned[in->nowned++] = s;
}

static int add_file(inputs *in, const char *name, const char *path, const char *digest,
		    mg_error *err)
{
	mg_package_file *p = realloc(in->files, (in->n + 1) * sizeof(*p));
	if (!p)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	in->files = p;
	mg_package_file *f = &in->files[in->n];
	f->name = own(in, mg_strdup(name, err));
	f->path = own(in, mg_strdup(path, err));
	f->digest = digest ? own(in, mg_strdup(digest, err)) : NULL;
	if (!f->name || !f->path || (digest && !f->digest))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	in->n++;
	return 0;
}

static void inputs_clear(inputs *in)
{
	for (size_t i = 0; i < in->nowned; i++)
		free(in->owned[i]);
	free(in->owned);
	free(in->files);
}

/* What an entry of a packaged folder is, when it is not a regular file. */
static const char *not_a_file(mode_t m)
{
	return S_ISLNK(m) ? "is a symbolic link" : S_ISDIR(m) ? "is a folder" : "is not a regular file";
}

/* The regular files of dir. Links are not followed (one to a credentials
 * file would put it in the bundle): every entry that is not a regular file
 * is named in one error, with room for a few names. */
static int from_dir(inputs *in, const char *dir, mg_error *err)
{
	DIR *d = opendir(dir);
	if (!d)
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EIO, errno, "cannot read '%s'", dir);
	int rc = 0;
	size_t nbad = 0;
	mg_buf bad = MG_BUF_INIT;
	struct dirent *de;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *path = mg_path_join(dir, de->d_name, err);
		struct stat st;
		if (!path)
			rc = MG_ENOMEM;
		else if (lstat(path, &st) < 0)
			rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", path);
		else if (!S_ISREG(st.st_mode) && nbad++ < 8)
			rc = mg_buf_printf(&bad, err, "%s'%s' %s", bad.len ? "; " : "", path, not_a_file(st.st_mode));
		else if (S_ISREG(st.st_mode))
			rc = add_file(in, de->d_name, path, NULL, err);
		free(path);
	}
	closedir(d);
	if (!rc && nbad > 8)
		rc = mg_buf_printf(&bad, err, "; and %zu more", nbad - 8);
	if (!rc && nbad)
		rc = mg_error_set(err, MG_EINVAL, "%s: package takes a folder of regular files and follows "
				  "no links", bad.data);
	else if (!rc && in->n == 0)
		rc = mg_error_set(err, MG_EINVAL, "'%s' has no files to package", dir);
	mg_buf_free(&bad);
	return rc;
}

/* The files of an artifact, read where the source's links lead: the
 * blobs in the store (package checks each digest). */
static int from_source(inputs *in, const mg_source *src, mg_error *err)
{
	const mg_manifest *m = src->manifest;
	if (m->nlayers == 0)
		return mg_error_set(err, MG_EINVAL, "'%s' has no files", src->spec);
	int rc = 0;
	for (size_t i = 0; !rc && i < m->nlayers; i++) {
		const mg_desc *l = &m->layers[i];
		char *link = mg_path_join(src->path, l->title, err);
		char *path = link ? realpath(link, NULL) : NULL;
		if (link && !path)
			rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s' of '%s'", l->title, src->spec);
		else if (!link)
			rc = MG_ENOMEM;
		else
			rc = add_file(in, l->title, path, l->digest, err);
		free(path);
		free(link);
	}
	return rc;
}

static int resolve(mg_cli *cli, inputs *in, const char *what, mg_error *err)
{
	struct stat st;
	if (stat(what, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return from_dir(in, what, err);
		/* a file named here is the one the user chose, also through a link:
		 * the library reads the file itself, and follows no link */
		const char *base = strrchr(what, '/');
		char *real = realpath(what, NULL);
		if (!real)
			return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", what);
		int rc = add_file(in, base ? base + 1 : what, real, NULL, err);
		free(real);
		return rc;
	}
	mg_ref *ref = NULL;
	if (mg_ref_parse(&ref, what, NULL))
		return mg_error_set(err, MG_EINVAL, "'%s' is neither a file, a folder nor a reference", what);
	mg_ref_free(ref);
	mg_source_opts so;
	cli_source_opts(cli, &so);
	mg_source src;
	int rc = mg_source_open(&src, what, &so, err);
	if (!rc) {
		memcpy(in->artifact_digest, src.digest, MG_DIGEST_SIZE);
		rc = from_source(in, &src, err);
	}
	in->has_digest = !rc;
	mg_source_close(&src);
	return rc;
}

/* --smoke DIR: DIR/inputs/ and DIR/expected/, regular files each (as from
 * a packaged folder), into smoke as "inputs/NAME" and "expected/NAME", and
 * DIR/tolerances.json when there is one (a regular file too). */
static int smoke_files(inputs *smoke, const char *dir, mg_error *err)
{
	static const char *const parts[] = {"inputs", "expected"};
	char *tol = mg_path_join(dir, MG_BUNDLE_SMOKE_TOLERANCES, err);
	struct stat st;
	int rc = tol ? 0 : MG_ENOMEM;
	if (!rc && !lstat(tol, &st))
		rc = S_ISREG(st.st_mode) ? add_file(smoke, MG_BUNDLE_SMOKE_TOLERANCES, tol, NULL, err)
					 : mg_error_set(err, MG_EINVAL, "'%s' %s", tol, not_a_file(st.st_mode));
	free(tol);
	for (size_t p = 0; !rc && p < 2; p++) {
		inputs part = {0};
		char *sub = mg_path_join(dir, parts[p], err);
		rc = sub ? from_dir(&part, sub, err) : MG_ENOMEM;
		for (size_t i = 0; !rc && i < part.n; i++) {
			mg_buf name = MG_BUF_INIT;
			rc = mg_buf_printf(&name, err, "%s/%s", parts[p], part.files[i].name);
			if (!rc)
				rc = add_file(smoke, name.data, part.files[i].path, NULL, err);
			mg_buf_free(&name);
		}
		free(sub);
		inputs_clear(&part);
	}
	return rc;
}

/* --release N: the fleet's monotonic release counter, 1 or more. */
static int parse_release(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || errno || v == 0 || v > (1ull << 53))
		return -1;
	*out = v;
	return 0;
}

static int cmd_package(mg_cli *cli, int argc, char **argv)
{
	const char *report = NULL, *out = NULL, *key = NULL, *smoke_dir = NULL;
	uint64_t release = 0;
	int no_git = 0, c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'r')
			report = optarg;
		else if (c == 'o')
			out = optarg;
		else if (c == 's')
			key = optarg;
		else if (c == 'G')
			no_git = 1;
		else if (c == 'S')
			smoke_dir = optarg;
		else if (c == 'R') {
			if (parse_release(optarg, &release))
				return cli_usage_error(cli, "release '%s' is not a whole number from 1", optarg);
		} else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, argc - optind < 1 ? "missing model (REF, DIR or FILE)" : "too many arguments");
	if (!report)
		return cli_usage_error(cli, "--report is required (the report.json of the gate run)");
	if (!out)
		return cli_usage_error(cli, "-o BUNDLE is required");
	mg_error err = {0};
	mg_bundle_format fmt;
	if (mg_bundle_format_for(out, &fmt, &err))
		return cli_fail(cli, &err);

	inputs in = {0}, smoke = {0};
	mg_git_info *git = NULL;
	mg_package_result res = {0};
	mg_package_opts o = MG_PACKAGE_OPTS_INIT;
	rc = 0;
	if (!no_git && (rc = mg_git_info_read(&git, ".", &err)) == MG_ENOTFOUND) {
		rc = 0;
		mg_error_clear(&err);
	}
	if (rc || resolve(cli, &in, argv[optind], &err) || mg_package_mtime(git, &o.mtime, &err) ||
	    (smoke_dir && smoke_files(&smoke, smoke_dir, &err))) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	o.reference = argv[optind];
	o.artifact_digest = in.has_digest && in.artifact_digest[0] ? in.artifact_digest : NULL;
	o.report_path = report;
	o.sign_key = key;
	o.release = release;
	o.smoke = smoke.files;
	o.nsmoke = smoke.n;
	o.git = git;
	o.ci = &cli->ci;
	if (mg_package_write(out, fmt, in.files, in.n, &o, &res, &err)) {
		if (res.refused) {
			fprintf(stderr, "modelgate: refusing to package '%s': %s\n", argv[optind], err.msg);
			rc = MG_EXIT_GATE;
		} else {
			rc = cli_fail(cli, &err);
		}
		goto done;
	}
	char size[32];
	mg_format_size(size, sizeof(size), res.bytes);
	if (cli->json)
		rc = cli_print_json(json_pack("{s:s, s:s, s:s, s:I, s:I, s:o}", "bundle", out, "artifact_digest",
					      res.artifact_digest, "manifest_digest", res.manifest_digest, "size",
					      (json_int_t)res.bytes, "entries", (json_int_t)res.nfiles, "key_id",
					      res.key_id[0] ? json_string(res.key_id) : json_null()));
	else if (!cli->quiet)
		printf("%s: %zu entries, %s, artifact %s%s%s\n", out, res.nfiles, size, res.artifact_digest,
		       res.key_id[0] ? ", signed by " : ", unsigned", res.key_id);
done:
	inputs_clear(&in);
	inputs_clear(&smoke);
	mg_git_info_free(git);
	return rc;
}

static const mg_opt package_opts[] = {
	{"report", 'r', 0, "FILE", "The report.json of the gate run that passed (required)."},
	{"output", 'o', 0, "BUNDLE", "The bundle to write: .tar.gz, .tar.zst or .zip (required)."},
	{"sign", 's', 0, "KEY", "Sign the bundle's manifest with the Ed25519 private key KEY."},
	{"no-git", 0, 'G', NULL, "Record no git provenance."},
	{"release", 0, 'R', "N", "A fleet's release counter (1 or more) in the signed manifest: devices refuse a lower one."},
	{"smoke", 0, 'S', "DIR", "Ship DIR/inputs/* and DIR/expected/* (and DIR/tolerances.json) for the device's smoke check after an update."},
	CLI_OPT_END};

const mg_cmd cli_cmd_package = {
	.name = "package",
	.fn = cmd_package,
	.summary = "write a reproducible, signed bundle of a model that passed its gates",
	.description = "Writes a reproducible bundle (same inputs, same bytes) of the model: its "
		       "files, a manifest with digests, the gate report, an in-toto provenance "
		       "statement and, with --sign, an Ed25519 signature.",
	.synopsis = {"REF|DIR|FILE --report FILE -o BUNDLE [--sign KEY] [OPTIONS]"},
	.opts = {package_opts, cli_remote_opts},
	.examples = {{"modelgate package kws:v3 -r report.json -o kws.tar.zst --sign release-key",
		      "Bundle and sign a version that passed."},
		     {"modelgate package model.onnx --report report.json -o kws.zip",
		      "Bundle a model file, unsigned."}},
};
