/* transport_ssh: the ssh://[user@]host[:port] target (an IPv6 host in
 * brackets: ssh://[user@][::1]:22).
 *
 * The folder on the device is $MODELGATE_REMOTE_CACHE (or
 * mg_target_opts.cache), else ~/.cache/modelgate-agent: agent builds in
 * bin/<key>/, the agent's blob cache in blobs/. One ssh command asks the
 * device for its architecture and which agent builds it has, where key is the
 * SHA-256 of the agent's and the engine library's digests. When the build
 * is missing, two more ssh commands copy the agent and the library into
 * <key>.part/ and move it into place (checking sizes), so later runs copy
 * nothing. Then `ssh ... <key>/modelgate-agent` is the agent; it finds the
 * library next to itself. ssh runs with BatchMode=yes (never a password
 * prompt) plus $MODELGATE_SSH_OPTS (or mg_target_opts.ssh_opts), split on
 * blanks; the user's ~/.ssh/config, keys and agent apply as usual. */
#include "runners/transport.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_DIR ".cache/modelgate-agent"
#define MAX_ARGS 64

typedef struct sshcmd {
	char *argv[MAX_ARGS];
	size_t n, base; /* base: arguments before the remote command */
	char *opts;     /* the split copy of the options */
	char port[16];
	char host[512];
} sshcmd;

static int ssh_init(sshcmd *c, const char *dest, const mg_target_opts *o, mg_error *err)
{
	memset(c, 0, sizeof(*c));
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

/* Runs `ssh ... remote` with stdin from in_fd (or nothing). */
static int ssh_run(sshcmd *c, const char *dest, const char *remote, int in_fd, mg_buf *out,
		   int timeout_ms, mg_error *err)
{
	c->argv[c->base] = (char *)remote;
	c->argv[c->base + 1] = NULL;
	int status;
	char line[512];
	int rc = mg_run_command(c->argv, NULL, 0, in_fd, out, timeout_ms, &status, line, sizeof(line),
				err);
	if (!rc && status != 0)
		rc = mg_error_set(err, MG_ENET, "target 'ssh://%s': %s", dest,
				  line[0] ? line : "ssh failed");
	else if (rc && err) {
		char why[sizeof(err->msg)];
		snprintf(why, sizeof(why), "%s", err->msg);
		mg_error_set(err, MG_ENET, "target 'ssh://%s': %s", dest, why);
	}
	return rc;
}

/* The cache key of an agent build: sha256 of "<agent digest> <lib digest>". */
static int build_key(const char *agent, const char *lib, char key[MG_DIGEST_SIZE],
		     uint64_t sizes[2], mg_error *err)
{
	const char *files[2] = {agent, lib};
	char digests[2][MG_DIGEST_SIZE], both[2 * MG_DIGEST_SIZE + 2];
	for (int i = 0; i < 2; i++) {
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", files[i]);
		int rc = mg_copy_hash(fd, files[i], -1, NULL, digests[i], &sizes[i], err);
		close(fd);
		if (rc)
			return rc;
	}
	snprintf(both, sizeof(both), "%s %s", digests[0], digests[1]);
	mg_digest_bytes(both, strlen(both), key);
	return 0;
}

static int upload(sshcmd *c, const char *dest, const char *dir, const char *agent,
		  const char *lib, const uint64_t sizes[2], int timeout_ms, mg_error *err)
{
	const char *files[2] = {agent, lib};
	char remote[8192];
	int rc = 0;
	for (int i = 0; !rc && i < 2; i++) {
		if (i == 0)
			snprintf(remote, sizeof(remote),
				 "rm -rf %s.part && mkdir -p %s.part && cat > %s.part/modelgate-agent && "
				 "chmod 755 %s.part/modelgate-agent",
				 dir, dir, dir, dir);
		else
			snprintf(remote, sizeof(remote),
				 "cat > %s.part/libonnxruntime.so.1 && "
				 "test \"$(wc -c < %s.part/modelgate-agent)\" -eq %llu && "
				 "test \"$(wc -c < %s.part/libonnxruntime.so.1)\" -eq %llu && "
				 "rm -rf %s && mv %s.part %s",
				 dir, dir, (unsigned long long)sizes[0], dir,
				 (unsigned long long)sizes[1], dir, dir, dir);
		int fd = open(files[i], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", files[i]);
		rc = ssh_run(c, dest, remote, fd, NULL, timeout_ms, err);
		close(fd);
	}
	return rc;
}

int mg_transport_ssh(mg_transport *tp, const char *dest, const mg_target_opts *o, int timeout_ms,
		     mg_error *err)
{
	sshcmd c;
	mg_buf out = MG_BUF_INIT;
	char *agent = NULL, *lib = NULL, *qcache = NULL;
	const char *base = o->cache ? o->cache : getenv("MODELGATE_REMOTE_CACHE");
	char probe[1200];
	int rc = ssh_init(&c, dest, o, err);
	if (!rc && !(qcache = mg_shell_quote(base && *base ? base : DEFAULT_DIR, err)))
		rc = MG_ENOMEM;
	if (rc)
		goto done;
	snprintf(probe, sizeof(probe), "uname -m; ls %.1000s/bin 2>/dev/null; true", qcache);
	if ((rc = ssh_run(&c, dest, probe, -1, &out, timeout_ms, err)))
		goto done;
	char arch[64] = "";
	sscanf(mg_buf_cstr(&out), "%63s", arch);
	if ((rc = mg_locate_agent(arch, o, &agent, &lib, err)))
		goto done;
	char key[MG_DIGEST_SIZE], dir[1200];
	uint64_t sizes[2];
	if ((rc = build_key(agent, lib, key, sizes, err)))
		goto done;
	snprintf(dir, sizeof(dir), "%.1000s/bin/%.64s", qcache, mg_digest_hex(key));
	if (!strstr(mg_buf_cstr(&out), mg_digest_hex(key))) {
		if ((rc = upload(&c, dest, dir, agent, lib, sizes, timeout_ms, err)))
			goto done;
		tp->bytes_uploaded = sizes[0] + sizes[1];
	}
	mg_buf cmd = MG_BUF_INIT;
	/* the cache's size limit, when set here, holds on the device too */
	const char *max = getenv("MODELGATE_AGENT_CACHE_MAX");
	char *qmax = max && *max ? mg_shell_quote(max, err) : NULL;
	if ((max && *max && !qmax) ||
	    (rc = mg_buf_printf(&cmd, err, "MODELGATE_AGENT_CACHE=%s %s%s exec %s/modelgate-agent",
				qcache, qmax ? "MODELGATE_AGENT_CACHE_MAX=" : "", qmax ? qmax : "",
				dir))) {
		rc = rc ? rc : MG_ENOMEM;
		free(qmax);
		mg_buf_free(&cmd);
		goto done;
	}
	free(qmax);
	c.argv[c.base] = cmd.data;
	c.argv[c.base + 1] = NULL;
	rc = mg_transport_spawn(tp, c.argv, NULL, err);
	mg_buf_free(&cmd);
done:
	mg_buf_free(&out);
	free(agent);
	free(lib);
	free(qcache);
	free(c.opts);
	return rc;
}
