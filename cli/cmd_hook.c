/* modelgate hook: installs (or removes) the git pre-push hook that runs
 * `modelgate gate --changed` on the commits being pushed, so a change to a
 * model, dataset or config is gated on the laptop before it reaches CI. A
 * hook that modelgate did not write is never replaced without --force. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipelines/hook.h"

#define HOOK_NAME "pre-push"

/* The config's folder relative to the top of the work tree, and its file
 * name; MG_EINVAL when it is outside the work tree. */
static int config_place(mg_buf *dir, mg_buf *file, const char *config, mg_error *err)
{
	char real[PATH_MAX];
	if (!realpath(config, real))
		return mg_error_sys(err, errno == ENOENT ? MG_ENOTFOUND : MG_EIO, errno,
				    "cannot read '%s'", config);
	mg_git_info *g = NULL;
	int rc = mg_git_info_read(&g, ".", err);
	if (rc)
		return rc;
	char top[PATH_MAX];
	if (!g->workdir || !realpath(g->workdir, top)) {
		mg_git_info_free(g);
		return mg_error_set(err, MG_EINVAL, "the repository around '.' has no work tree");
	}
	mg_git_info_free(g);
	size_t n = strlen(top);
	if (strncmp(real, top, n) != 0 || (real[n] != '/' && n > 1))
		return mg_error_set(err, MG_EINVAL, "'%s' is outside the work tree '%s'", config, top);
	const char *rel = real + n + (n > 1);
	const char *slash = strrchr(rel, '/');
	rc = mg_buf_append(dir, rel, slash ? (size_t)(slash - rel) : 0, err);
	return rc ? rc : mg_buf_puts(file, slash ? slash + 1 : rel, err);
}

static int install(mg_cli *cli, const char *config, int force)
{
	mg_error err = {0};
	mg_buf dir = MG_BUF_INIT, file = MG_BUF_INIT, script = MG_BUF_INIT;
	char *path = NULL;
	char self[PATH_MAX];
	const char *exe = realpath("/proc/self/exe", self) ? self : NULL;
	mg_hook_action action = MG_HOOK_CREATED;
	int rc = config_place(&dir, &file, config, &err);
	if (!rc)
		rc = mg_hook_script(&script, exe, mg_buf_cstr(&dir), mg_buf_cstr(&file), &err);
	if (!rc)
		rc = mg_hook_install(&path, &action, ".", HOOK_NAME, mg_buf_cstr(&script), force, &err);
	if (rc) {
		rc = cli_fail(cli, &err);
		goto done;
	}
	static const char *const said[] = {"installed", "updated", "already installed:", "replaced"};
	if (!cli->quiet)
		printf("%s %s hook %s (runs: modelgate gate --changed -c %s%s%s)\n", said[action], HOOK_NAME,
		       path, mg_buf_cstr(&dir), dir.len ? "/" : "", mg_buf_cstr(&file));
	if (action == MG_HOOK_REPLACED)
		cli_info(cli, "modelgate: the previous hook is kept as '%s.before-modelgate'\n", path);
done:
	free(path);
	mg_buf_free(&dir);
	mg_buf_free(&file);
	mg_buf_free(&script);
	return rc;
}

static int uninstall(mg_cli *cli)
{
	mg_error err = {0};
	char *path = NULL;
	if (mg_hook_uninstall(&path, ".", HOOK_NAME, &err))
		return cli_fail(cli, &err);
	if (!cli->quiet)
		printf("removed %s hook %s\n", HOOK_NAME, path);
	free(path);
	return 0;
}

static int cmd_hook(mg_cli *cli, int argc, char **argv)
{
	const char *config = "modelgate.json";
	int force = 0, c, rc;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'f': force = 1; break;
		default:
			if ((rc = cli_common_opt(cli, c)) >= 0)
				return rc;
		}
	}
	if (optind >= argc)
		return cli_usage_error(cli, "say 'install' or 'uninstall'");
	const char *verb = argv[optind];
	if (argc - optind > 1)
		return cli_usage_error(cli, "unexpected argument '%s'", argv[optind + 1]);
	if (!strcmp(verb, "install"))
		return install(cli, config, force);
	if (!strcmp(verb, "uninstall"))
		return uninstall(cli);
	return cli_usage_error(cli, "unknown action '%s'; say 'install' or 'uninstall'", verb);
}

static const mg_opt hook_opts[] = {
	{"config", 'c', 0, "FILE", "The config the hook gates with (default modelgate.json)."},
	{"force", 'f', 0, NULL, "Replace a pre-push hook that modelgate did not write."},
	CLI_OPT_END};

const mg_cmd cli_cmd_hook = {
	.name = "hook",
	.fn = cmd_hook,
	.summary = "install the git pre-push hook that gates changed models",
	.description = "Installs (or removes) the git pre-push hook that runs 'modelgate gate "
		       "--changed' on the commits being pushed.",
	.synopsis = {"install [-c FILE] [--force] [OPTIONS]", "uninstall [OPTIONS]"},
	.opts = {hook_opts},
	.examples = {{"modelgate hook install", "Gate changed models before every git push."},
		     {"modelgate hook uninstall", "Remove the hook."}},
};
