/* modelgate login HOST -u USER --password-stdin: check credentials with
 * the registry and store them the way docker does (base64 "auth" under
 * "auths" in $DOCKER_CONFIG/config.json or ~/.docker/config.json, mode
 * 0600), where push, pull and copy find them; also when the file names a
 * credsStore (helpers are only read, never written). The password is read from
 * standard input only, so it never shows in a process list or history. */
#include "cli.h"
#include "registry/remote.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PASSWORD_MAX 8192

/* Reads the password from stdin, without its final newline. */
static int read_password(mg_buf *out, mg_error *err)
{
	char chunk[1024];
	for (;;) {
		ssize_t n = read(STDIN_FILENO, chunk, sizeof(chunk));
		if (n < 0)
			return mg_error_sys(err, MG_EIO, errno, "cannot read the password from standard input");
		if (n == 0)
			break;
		if (out->len + (size_t)n > PASSWORD_MAX)
			return mg_error_set(err, MG_EINVAL, "the password on standard input is longer than %d bytes",
					    PASSWORD_MAX);
		int rc = mg_buf_append(out, chunk, (size_t)n, err);
		if (rc)
			return rc;
	}
	while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
		out->data[--out->len] = '\0';
	if (!out->len)
		return mg_error_set(err, MG_EINVAL, "no password on standard input");
	return 0;
}

static int cmd_login(mg_cli *cli, int argc, char **argv)
{
	const char *user = NULL;
	int c, rc, from_stdin = 0;
	while ((c = cli_getopt(cli, argc, argv)) != -1) {
		if (c == 'u')
			user = optarg;
		else if (c == 'P')
			from_stdin = 1;
		else if ((rc = cli_common_opt(cli, c)) >= 0)
			return rc;
	}
	if (argc - optind != 1)
		return cli_usage_error(cli, argc - optind < 1 ? "missing registry host" : "too many arguments");
	if (!user)
		return cli_usage_error(cli, "give the user name with -u USER");
	if (!from_stdin)
		return cli_usage_error(cli, "give the password on standard input with --password-stdin");
	const char *host = argv[optind];
	if (strchr(host, '/'))
		return cli_usage_error(cli, "'%s' is not a registry host[:port]", host);
	mg_error err = {0};
	mg_buf pw = MG_BUF_INIT;
	mg_remote *r = NULL;
	rc = 0;
	cli->quiet = 1; /* no progress */
	if (read_password(&pw, &err) || cli_remote_login(cli, host, user, pw.data, &r, &err) ||
	    mg_remote_check_login(r, &err) || mg_auth_store(host, user, pw.data, &err))
		rc = cli_fail(cli, &err);
	else
		printf("login succeeded for '%s' on '%s'\n", user, host);
	if (pw.data)
		memset(pw.data, 0, pw.len);
	mg_buf_free(&pw);
	mg_remote_free(r);
	return rc;
}

static const mg_opt login_opts[] = {
	{"username", 'u', 0, "USER", "The user name to log in as."},
	{"password-stdin", 0, 'P', NULL,
	 "Read the password (or token) from standard input, the only way it is taken."},
	CLI_OPT_END};

const mg_cmd cli_cmd_login = {
	.name = "login",
	.fn = cmd_login,
	.summary = "store credentials for a registry (in docker's config.json)",
	.description = "Checks the credentials with the registry HOST and stores them as docker "
		       "does (config.json), where push, pull and copy find them.",
	.synopsis = {"HOST -u USER --password-stdin [OPTIONS]"},
	.opts = {login_opts, cli_remote_opts},
	.examples = {{"echo \"$TOKEN\" | modelgate login ghcr.io -u me --password-stdin",
		      "Log in to GitHub's registry with a token."},
		     {"modelgate login localhost:5000 -u ci --password-stdin --insecure <pw.txt",
		      "Log in to a plain-HTTP registry."}},
};
