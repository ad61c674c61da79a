/* transport_device: the targets that are another machine or another root,
 * reached through a command that runs a shell there, onto which the agent
 * and its engine library are copied:
 *
 *   ssh://[user@]host[:port]   `ssh -T -o BatchMode=yes [opts] host SCRIPT`
 *                              (an IPv6 host in brackets: ssh://[::1]:22)
 *   exec:PREFIX                `/bin/sh -c 'PREFIX sh -c SCRIPT'`: the prefix
 *                              takes `sh`, `-c` and the script as arguments
 *                              and runs them there, as `docker exec -i box`,
 *                              `chroot ROOT` or `nsenter -t PID -a` do
 *
 * The folder on the device is $MODELGATE_REMOTE_CACHE (or
 * mg_target_opts.cache), else ~/.cache/modelgate-agent (over ssh relative
 * to the login folder; for exec ${HOME:-/tmp}/.cache/modelgate-agent as the
 * shell there sees it): agent builds in bin/<key>/, the agent's blob cache
 * in blobs/. One command asks the device for its architecture and which
 * agent builds it has, where key is the SHA-256 of the digests of the
 * agent and its engine libraries (ONNX Runtime; the TFLite engine with Arm
 * NN, when it is built beside the agent). When the build is missing, one
 * more command per file copies it (on its standard input, with cat) into
 * <key>.part/ and checks its size, and the last moves the folder into
 * place, so later runs copy nothing. Then `<key>/modelgate-agent` is
 * started the same way, told where the libraries next to it are
 * (MODELGATE_ORT_LIB, MODELGATE_TFLITE_LIB, unless the device's
 * environment sets them). The device needs a POSIX sh, uname, ls, cat,
 * mkdir, chmod, wc, rm and mv.
 *
 * ssh runs with BatchMode=yes (never a password prompt) plus
 * $MODELGATE_SSH_OPTS (or mg_target_opts.ssh_opts), split on blanks; the
 * user's ~/.ssh/config, keys and agent apply as usual. An exec prefix gets
 * this process's environment, with MODELGATE_ORT_LIB and MODELGATE_TFLITE_LIB
 * emptied (a library path of this machine means nothing there; the prefix
 * may set its own). */
#include "runners/transport.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SSH_DIR ".cache/modelgate-agent"
#define EXEC_DIR "\"${HOME:-/tmp}\"/.cache/modelgate-agent"
#define MAX_ARGS 64

/* A way to run a shell script on the device. */
typedef struct channel {
	char name[1100];    /* the target, for messages: "ssh://pi@board", "exec:..." */
	const char *prefix; /* exec: the command prefix; NULL over ssh */
	char *argv[MAX_ARGS];
	size_t n, base; /* ssh: base is the count of arguments before the script */
	char *opts;     /* ssh: the split copy of the options */
	char *line;     /* exec: the host shell line of the last command */
	char port[16];
	char host[512];
} channel;

static int ssh_init(channel *c, const char *dest, const mg_target_opts *o, mg_error *err)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "ssh://%.1000s", dest);
	const char *opts = o->ssh_opts ? o->ssh_opts : getenv("MODELGATE_SSH_OPTS");
	c->opts = strdup(opts ? opts : "");
	if (!c->opts)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	c->argv[c->n++] = "ssh";
	c->argv[c->n++] = "-T";
	c->argv[c->n++] = "-o";
	c->argv[c->n++] = "BatchMode=yes";
	for (char *save = NULL, *w = strtok_r(c->opts, " \t", &save); w;
	     w = strtok_r(NULL, " \t", &save)) {
		if (c->n + 6 >= MAX_ARGS)
			return mg_error_set(err, MG_EINVAL, "too many ssh options");
		c->argv[c->n++] = w;
	}
	/* [user@]host[:port], with an IPv6 address in brackets: [user@][::1]:22 */
	char *host = c->host;
	snprintf(c->host, sizeof(c->host), "%s", dest);
	char *at = strchr(host, '@');
	char *h = at ? at + 1 : host;
	const char *port = NULL;
	char *close = *h == '[' ? strchr(h, ']') : NULL, *colon = strrchr(h, ':');
	if (*h == '[' ? !close || (close[1] && close[1] != ':') : colon && strchr(h, ':') != colon)
		return mg_error_set(err, MG_EINVAL, "target 'ssh://%s': an IPv6 address goes in "
				    "brackets, as in ssh://[::1]:22", dest);
	if (close) {
		port = close[1] ? close + 2 : NULL;
		*close = '\0';
		memmove(h, h + 1, strlen(h + 1) + 1); /* user@::1 is what ssh takes */
	} else if (colon) {
		*colon = '\0';
		port = colon + 1;
	}
	if (port) {
		if (!*port || strlen(port) > 5 || strspn(port, "0123456789") != strlen(port))
			return mg_error_set(err, MG_EINVAL, "target 'ssh://%s': bad port", dest);
		snprintf(c->port, sizeof(c->port), "%s", port);
		c->argv[c->n++] = "-p";
		c->argv[c->n++] = c->port;
	}
	if (!*h || host[0] == '-') /* (never an option to ssh) */
		return mg_error_set(err, MG_EINVAL, "target 'ssh://%s': no host", dest);
	c->argv[c->n++] = host;
	c->base = c->n;
	return 0;
}

static void exec_init(channel *c, const char *prefix)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "exec:%.1000s", prefix);
	c->prefix = prefix;
}

/* The command line that runs script on the device, in c->argv. */
static int channel_argv(channel *c, const char *script, mg_error *err)
{
	if (!c->prefix) {
		c->argv[c->base] = (char *)script;
		c->argv[c->base + 1] = NULL;
		return 0;
	}
	char *q = mg_shell_quote(script, err);
	mg_buf b = MG_BUF_INIT;
	int rc = q ? mg_buf_printf(&b, err, "%s sh -c %s", c->prefix, q) : MG_ENOMEM;
	free(q);
	if (rc) {
		mg_buf_free(&b);
		return rc;
	}
	free(c->line);
	c->line = mg_buf_detach(&b);
	c->argv[0] = "/bin/sh";
	c->argv[1] = "-c";
	c->argv[2] = c->line;
	c->argv[3] = NULL;
	return 0;
}

/* Runs script on the device with stdin from in_fd (or nothing). */
static int channel_run(channel *c, const char *script, int in_fd, mg_buf *out, int timeout_ms,
		       mg_error *err)
{
	int status;
	char line[512];
	int rc = channel_argv(c, script, err);
	if (!rc)
		rc = mg_run_command(c->argv, NULL, 0, in_fd, out, timeout_ms, &status, line,
				    sizeof(line), err);
	if (!rc && status != 0) {
		if (line[0])
			rc = mg_error_set(err, MG_ENET, "target '%s': %s", c->name, line);
		else if (!c->prefix)
			rc = mg_error_set(err, MG_ENET, "target '%s': ssh failed", c->name);
		else if (status > 0)
			rc = mg_error_set(err, MG_ENET, "target '%s': the command exited with status %d",
					  c->name, status);
		else
			rc = mg_error_set(err, MG_ENET, "target '%s': the command was killed", c->name);
	} else if (rc == MG_ENET && c->prefix) { /* the one MG_ENET of mg_run_command */
		rc = mg_error_set(err, MG_ENET, "target '%s': no answer within %d s", c->name,
				  timeout_ms / 1000);
	} else if (rc && err) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		rc = mg_error_set(err, rc == MG_ENOMEM ? rc : MG_ENET, "target '%s': %s", c->name, why);
	}
	return rc;
}

/* What goes to a device, each file with its name in the build folder
 * there: the agent, its ONNX Runtime, and the TFLite engine beside the
 * agent when it is built (libmodelgate-tflite.so, Arm NN in armnn/ and
 * armnn/backends/, in name order). */
#define MAX_FILES 32
typedef struct payload {
	size_t n;
	char *local[MAX_FILES];
	char remote[MAX_FILES][80];
	uint64_t size[MAX_FILES];
	int tflite; /* the TFLite engine is among them */
} payload;

static void payload_free(payload *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->local[i]);
	p->n = 0;
}

static int payload_add(payload *p, const char *local, const char *remote, mg_error *err)
{
	if (p->n == MAX_FILES)
		return mg_error_set(err, MG_ERROR, "more than %d files to copy to a device", MAX_FILES);
	/* the names go into shell commands on the device */
	if (strlen(remote) >= sizeof(p->remote[0]) ||
	    strspn(remote, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-/") !=
		    strlen(remote))
		return mg_error_set(err, MG_ERROR, "'%s' cannot be copied to a device under that name",
				    local);
	if (!(p->local[p->n] = mg_strdup(local, err)))
		return MG_ENOMEM;
	snprintf(p->remote[p->n], sizeof(p->remote[0]), "%s", remote);
	p->n++;
	return 0;
}

/* The regular files of folder sub (of the agent's folder dir), by name. */
static int payload_add_dir(payload *p, const char *dir, const char *sub, mg_error *err)
{
	char path[PATH_MAX], remote[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	struct dirent **names = NULL;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return mg_error_sys(err, MG_EIO, errno, "cannot read the folder '%s'", path);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, names[i]->d_name);
		snprintf(remote, sizeof(remote), "%s/%s", sub, names[i]->d_name);
		if (!rc && !stat(path, &st) && S_ISREG(st.st_mode))
			rc = payload_add(p, path, remote, err);
		free(names[i]);
	}
	free(names);
	return rc;
}

static int payload_of(payload *p, const char *agent, const char *lib, mg_error *err)
{
	memset(p, 0, sizeof(*p));
	int rc = payload_add(p, agent, "modelgate-agent", err);
	if (!rc)
		rc = payload_add(p, lib, "libonnxruntime.so.1", err);
	char dir[PATH_MAX], shim[PATH_MAX + 32];
	const char *slash = strrchr(agent, '/');
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - agent) : 1, slash ? agent : ".");
	snprintf(shim, sizeof(shim), "%s/libmodelgate-tflite.so", dir);
	if (!rc && access(shim, R_OK) == 0) {
		p->tflite = 1;
		rc = payload_add(p, shim, "libmodelgate-tflite.so", err);
		if (!rc)
			rc = payload_add_dir(p, dir, "armnn", err);
		if (!rc)
			rc = payload_add_dir(p, dir, "armnn/backends", err);
	}
	if (rc)
		payload_free(p);
	return rc;
}

/* The cache key of an agent build: sha256 of the files' digests, in order,
 * separated by blanks (for the agent and ONNX Runtime alone: "<agent
 * digest> <lib digest>", as before the TFLite engine). */
static int build_key(payload *p, char key[MG_DIGEST_SIZE], mg_error *err)
{
	char both[MAX_FILES * (MG_DIGEST_SIZE + 1)] = "";
	size_t len = 0;
	for (size_t i = 0; i < p->n; i++) {
		char digest[MG_DIGEST_SIZE];
		int fd = open(p->local[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", p->local[i]);
		int rc = mg_copy_hash(fd, p->local[i], -1, NULL, digest, &p->size[i], err);
		close(fd);
		if (rc)
			return rc;
		len += (size_t)snprintf(both + len, sizeof(both) - len, "%s%s", i ? " " : "", digest);
	}
	mg_digest_bytes(both, len, key);
	return 0;
}

/* Each file into dir.part on its own stdin, its size checked there; then
 * dir.part becomes dir. */
static int upload(channel *c, const char *dir, const payload *p, int timeout_ms, mg_error *err)
{
	char remote[8192];
	int rc = 0;
	for (size_t i = 0; !rc && i < p->n; i++) {
		int w = 0;
		if (i == 0)
			w = snprintf(remote, sizeof(remote),
				     "rm -rf %s.part && mkdir -p %s.part%s && cat > %s.part/modelgate-agent && "
				     "chmod 755 %s.part/modelgate-agent && ",
				     dir, dir, p->tflite ? "/armnn/backends" : "", dir, dir);
		else
			w = snprintf(remote, sizeof(remote), "cat > %s.part/%s && ", dir, p->remote[i]);
		w += snprintf(remote + w, sizeof(remote) - (size_t)w, "test \"$(wc -c < %s.part/%s)\" -eq %llu",
			      dir, p->remote[i], (unsigned long long)p->size[i]);
		if (i + 1 == p->n)
			snprintf(remote + w, sizeof(remote) - (size_t)w, " && rm -rf %s && mv %s.part %s", dir,
				 dir, dir);
		int fd = open(p->local[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", p->local[i]);
		rc = channel_run(c, remote, fd, NULL, timeout_ms, err);
		close(fd);
	}
	return rc;
}

/* The rest of the line that starts the agent in dir under the device's
 * valgrind (mg_callgrind_opts), its dumps in a new folder of the cache
 * folder base that is removed when the agent ends: the shell stays to
 * remove it. No valgrind on the device ends the start with a line saying so. */
static int callgrind_line(mg_buf *cmd, const char *base, const char *dir, mg_error *err)
{
	int rc = mg_buf_printf(cmd, err,
			       "; export MODELGATE_AGENT_CACHE MODELGATE_AGENT_CACHE_MAX; "
			       "command -v valgrind >/dev/null 2>&1 || { echo 'valgrind is not installed on "
			       "the device (a cost gate without a hardware instruction counter needs it)' >&2; "
			       "exit 127; }; mkdir -p %s/tmp && d=$(mktemp -d %s/tmp/callgrind.XXXXXX) || exit 1; "
			       "MODELGATE_CALLGRIND_OUT=$d/callgrind.out MODELGATE_VALGRIND_VERSION=$(valgrind "
			       "--version) valgrind",
			       base, base);
	for (size_t i = 0; !rc && mg_callgrind_opts[i]; i++)
		rc = mg_buf_printf(cmd, err, " %s", mg_callgrind_opts[i]);
	if (!rc)
		rc = mg_buf_printf(cmd, err, " --callgrind-out-file=$d/callgrind.out %s/modelgate-agent; "
				   "s=$?; rm -rf \"$d\"; exit $s", dir);
	return rc;
}

/* Copies the agent for the device's architecture there unless it has it,
 * and starts it. base is the cache folder as a shell word. */
static int start_agent(mg_transport *tp, channel *c, const char *base, const mg_target_opts *o,
		       int timeout_ms, mg_error *err)
{
	mg_buf out = MG_BUF_INIT, cmd = MG_BUF_INIT;
	char *agent = NULL, *lib = NULL, *qmax = NULL;
	payload files = {0};
	char probe[1200];
	int rc = 0;
	snprintf(probe, sizeof(probe), "uname -m; ls %.1000s/bin 2>/dev/null; true", base);
	if ((rc = channel_run(c, probe, -1, &out, timeout_ms, err)))
		goto done;
	char arch[64] = "";
	sscanf(mg_buf_cstr(&out), "%63s", arch);
	if ((rc = mg_locate_agent(arch, o, &agent, &lib, err)))
		goto done;
	char key[MG_DIGEST_SIZE], dir[1200];
	if ((rc = payload_of(&files, agent, lib, err)) || (rc = build_key(&files, key, err)))
		goto done;
	snprintf(dir, sizeof(dir), "%.1000s/bin/%.64s", base, mg_digest_hex(key));
	if (!strstr(mg_buf_cstr(&out), mg_digest_hex(key))) {
		if ((rc = upload(c, dir, &files, timeout_ms, err)))
			goto done;
		for (size_t i = 0; i < files.n; i++)
			tp->bytes_uploaded += files.size[i];
	}
	/* the cache's size limit, when set here, holds on the device too */
	const char *max = getenv("MODELGATE_AGENT_CACHE_MAX");
	if (max && *max && !(qmax = mg_shell_quote(max, err))) {
		rc = MG_ENOMEM;
		goto done;
	}
	/* the libraries by name, not only next to the agent: without /proc
	 * (chroot ROOT alone) the agent cannot tell where it is */
	if ((rc = mg_buf_printf(&cmd, err,
				"[ -n \"$MODELGATE_ORT_LIB\" ] || MODELGATE_ORT_LIB=%s/libonnxruntime.so.1; "
				"export MODELGATE_ORT_LIB; ", dir)) ||
	    (files.tflite &&
	     (rc = mg_buf_printf(&cmd, err,
				 "[ -n \"$MODELGATE_TFLITE_LIB\" ] || "
				 "MODELGATE_TFLITE_LIB=%s/libmodelgate-tflite.so; export MODELGATE_TFLITE_LIB; ",
				 dir))) ||
	    (rc = mg_buf_printf(&cmd, err, "MODELGATE_AGENT_CACHE=%s %s%s ", base,
				qmax ? "MODELGATE_AGENT_CACHE_MAX=" : "", qmax ? qmax : "")) ||
	    (rc = o->callgrind ? callgrind_line(&cmd, base, dir, err)
			       : mg_buf_printf(&cmd, err, "exec %s/modelgate-agent", dir)) ||
	    (rc = channel_argv(c, cmd.data, err)))
		goto done;
	char *set[] = {"MODELGATE_ORT_LIB=", "MODELGATE_TFLITE_LIB=", NULL};
	rc = mg_transport_spawn(tp, c->argv, c->prefix ? set : NULL, err);
done:
	payload_free(&files);
	mg_buf_free(&out);
	mg_buf_free(&cmd);
	free(agent);
	free(lib);
	free(qmax);
	return rc;
}

/* The cache folder as a shell word: the one asked for, else def. */
static char *cache_word(const mg_target_opts *o, const char *def, mg_error *err)
{
	const char *base = o->cache ? o->cache : getenv("MODELGATE_REMOTE_CACHE");
	if (base && *base)
		return mg_shell_quote(base, err);
	return mg_strdup(def, err);
}

int mg_transport_ssh(mg_transport *tp, const char *dest, const mg_target_opts *o, int timeout_ms,
		     mg_error *err)
{
	channel c;
	char *base = NULL, *qdef = NULL;
	int rc = ssh_init(&c, dest, o, err);
	if (!rc && (!(qdef = mg_shell_quote(SSH_DIR, err)) || !(base = cache_word(o, qdef, err))))
		rc = MG_ENOMEM;
	if (!rc)
		rc = start_agent(tp, &c, base, o, timeout_ms, err);
	free(base);
	free(qdef);
	free(c.opts);
	return rc;
}

int mg_transport_exec(mg_transport *tp, const char *prefix, const mg_target_opts *o,
		      int timeout_ms, mg_error *err)
{
	channel c;
	exec_init(&c, prefix);
	char *base = cache_word(o, EXEC_DIR, err);
	int rc = base ? start_agent(tp, &c, base, o, timeout_ms, err) : MG_ENOMEM;
	free(base);
	free(c.line);
	return rc;
}
