/* Docker credential helpers: a docker config.json may keep credentials in
 * a store rather than in the file ("credsStore", or "credHelpers" per
 * registry host). The store is a program docker-credential-NAME; `get`
 * with the registry host on standard input answers
 * {"ServerURL": ..., "Username": ..., "Secret": ...} on standard output,
 * or exits non-zero saying "credentials not found" when it has none.
 *
 * The program is found on PATH and run with fork/exec (util/proc.h), no shell; what it
 * writes is read to a bound (a helper that writes more is stopped), and
 * there is no timeout: a helper that asks the user something waits for
 * the user. Only `get` is used; `login` does not store into helpers. The
 * secret never reaches a message, and its copies are wiped. */
#include "remote.h"
#include "util/proc.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define HELPER_OUT_MAX (64u << 10)
#define HELPER_ERR_MAX (4u << 10)

int mg_auth_helper_parse(const char *json, size_t len, const char *program, const char *registry,
			 char **user, char **password, mg_error *err)
{
	*user = *password = NULL;
	json_t *j = json_loadb(json, len, 0, NULL);
	const char *u = json_string_value(json_object_get(j, "Username"));
	const char *s = json_string_value(json_object_get(j, "Secret"));
	int rc = 0;
	if (!json_is_object(j) || !u || !s)
		rc = mg_error_set(err, MG_ERROR, "credential helper '%s' answered 'get' for '%s' without "
				  "a JSON object holding Username and Secret", program, registry);
	else if (!*u && !*s)
		rc = MG_ENOTFOUND;
	else if (!strcmp(u, "<token>"))
		rc = mg_error_set(err, MG_EINVAL, "credential helper '%s' holds an identity token for '%s', "
				  "which modelgate cannot use: set MODELGATE_REGISTRY_USER and "
				  "MODELGATE_REGISTRY_PASSWORD, or run 'modelgate login %s'",
				  program, registry, registry);
	else if (!(*user = strdup(u)) || !(*password = strdup(s))) {
		free(*user);
		*user = NULL;
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	json_decref(j); /* jansson's copy of the secret goes with it */
	return rc;
}

/* The full path of program in a directory of PATH. */
static int find_on_path(mg_buf *out, const char *program, mg_error *err)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;;) {
		size_t n = strcspn(p, ":");
		mg_buf_reset(out);
		int rc = n ? mg_buf_printf(out, err, "%.*s/%s", (int)n, p, program)
			   : mg_buf_printf(out, err, "./%s", program);
		if (rc)
			return rc;
		struct stat st;
		if (!stat(out->data, &st) && S_ISREG(st.st_mode) && !access(out->data, X_OK))
			return 0;
		if (!p[n])
			return MG_ENOTFOUND;
		p += n + 1;
	}
}

/* The first line of a helper's message, for an error: empty when it looks
 * like JSON (which could hold a secret). */
static void first_line(const mg_buf *b, char *out, size_t cap)
{
	const char *s = b->data ? b->data : "";
	s += strspn(s, " \t\r\n");
	size_t n = strcspn(s, "\r\n");
	if (*s == '{' || *s == '[')
		n = 0;
	snprintf(out, cap, "%.*s", (int)(n < 200 ? n : 200), s);
}

/* Runs program get, with registry on its standard input; its standard
 * output and error to out and errs, its wait status to *status. */
static int run_get(const char *path, const char *program, const char *registry, mg_buf *out,
		   mg_buf *errs, int *status, mg_error *err)
{
	int in[2] = {-1, -1}, po[2] = {-1, -1}, pe[2] = {-1, -1}, rc = 0;
	mg_proc_io io = MG_PROC_IO_INIT;
	size_t n = strlen(registry);
	assert(n < 4096); /* a registry host fits a pipe's buffer */
	if (pipe2(in, O_CLOEXEC) || pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		rc = mg_error_sys(err, MG_ERROR, errno, "cannot run credential helper '%s'", program);
		goto done;
	}
	/* The input goes into the pipe before the helper starts: no write can
	 * meet a helper that has gone (and raise SIGPIPE here). */
	if (write(in[1], registry, n) != (ssize_t)n) {
		rc = mg_error_sys(err, MG_ERROR, errno, "cannot run credential helper '%s'", program);
		goto done;
	}
	close(in[1]);
	in[1] = -1;
	char *const argv[] = {(char *)path, "get", NULL};
	pid_t pid;
	/* no process group of its own: it may ask the user on the terminal */
	if ((rc = mg_proc_spawn(&pid, argv, NULL, in[0], po[1], pe[1], 0, err)))
		goto done;
	close(po[1]);
	close(pe[1]);
	po[1] = pe[1] = -1;
	io.out_fd = po[0], io.out = out, io.out_max = HELPER_OUT_MAX;
	io.err_fd = pe[0], io.errs = errs, io.err_max = HELPER_ERR_MAX;
	po[0] = pe[0] = -1;
	rc = mg_proc_pump(&io, -1, program, err);
	if (rc == MG_PROC_TOO_MUCH)
		rc = mg_error_set(err, MG_ERROR, "credential helper '%s' wrote more than %u bytes "
				  "to standard %s for 'get'; stopped it", program,
				  io.over == 2 ? HELPER_ERR_MAX : HELPER_OUT_MAX,
				  io.over == 2 ? "error" : "output");
	mg_proc_io_close(&io);
	*status = mg_proc_reap(pid, rc ? 0 : -1);
	if (*status == -1 && !rc)
		rc = mg_error_set(err, MG_ERROR, "cannot wait for credential helper '%s'", program);
done:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return rc;
}

int mg_auth_helper_get(const char *helper, const char *registry, char **user, char **password,
		       mg_error *err)
{
	*user = *password = NULL;
	mg_buf program = MG_BUF_INIT, path = MG_BUF_INIT, out = MG_BUF_INIT, errs = MG_BUF_INIT;
	int status = 0;
	/* room for all it may write: no reallocation leaves a copy behind */
	int rc = mg_buf_grow(&out, HELPER_OUT_MAX + 8192, err);
	if (!rc)
		rc = mg_buf_printf(&program, err, "docker-credential-%s", helper);
	if (!rc && (rc = find_on_path(&path, program.data, err)) == MG_ENOTFOUND)
		rc = mg_error_set(err, MG_EINVAL, "credential helper '%s' (for '%s') is not on PATH: "
				  "install it, or remove it from the docker config", program.data, registry);
	if (!rc)
		rc = run_get(path.data, program.data, registry, &out, &errs, &status, err);
	char why[256];
	if (!rc && (!WIFEXITED(status) || WEXITSTATUS(status))) {
		first_line(out.len ? &out : &errs, why, sizeof(why));
		if (strstr(out.data ? out.data : "", "credentials not found") ||
		    strstr(errs.data ? errs.data : "", "credentials not found"))
			rc = MG_ENOTFOUND;
		else if (WIFSIGNALED(status))
			rc = mg_error_set(err, MG_ERROR, "credential helper '%s' was killed by signal %d "
					  "while it looked up '%s'", program.data, WTERMSIG(status), registry);
		else
			rc = mg_error_set(err, MG_ERROR, "credential helper '%s' failed to look up '%s' "
					  "(exit %d)%s%s", program.data, registry, WEXITSTATUS(status),
					  why[0] ? ": " : "", why);
	}
	if (!rc)
		rc = mg_auth_helper_parse(out.data ? out.data : "", out.len, program.data, registry, user,
					  password, err);
	if (out.data)
		memset(out.data, 0, out.len);
	mg_buf_free(&out);
	mg_buf_free(&errs);
	mg_buf_free(&path);
	mg_buf_free(&program);
	return rc;
}
