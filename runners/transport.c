/* transport: starting agents (transport.h) for the local and qemu-aarch64
 * targets, finding the agent and engine library for an architecture, and
 * running helper commands with a deadline. The ssh:// and exec: transports,
 * which copy the agent to where it runs, are in transport_device.c. */
#include "runners/transport.h"
#include "util/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MG_ORT_DIR
#define MG_ORT_DIR "/usr/lib/modelgate"
#endif

static int tmp_errfile(mg_error *err)
{
	const char *dir = getenv("TMPDIR");
	int fd = open(dir && *dir ? dir : "/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		mg_error_sys(err, MG_EIO, errno, "cannot create a temporary file in '%s'",
			     dir && *dir ? dir : "/tmp");
	return fd;
}

int mg_transport_spawn(mg_transport *tp, char *const argv[], char *const set[], mg_error *err)
{
	int sv[2];
	tp->errfd = tmp_errfile(err);
	if (tp->errfd < 0)
		return MG_EIO;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return mg_error_sys(err, MG_ERROR, errno, "socketpair");
	int rc = mg_proc_spawn(&tp->pid, argv, set, sv[1], sv[1], tp->errfd, MG_PROC_GROUP, err);
	close(sv[1]);
	if (rc) {
		close(sv[0]);
		tp->pid = 0;
		return rc;
	}
	tp->fd = sv[0];
	return 0;
}

static void describe(int st, char *out, size_t len)
{
	if (st == -1)
		snprintf(out, len, "could not be waited for");
	else if (WIFEXITED(st))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(out, len, "was killed by signal %d", WTERMSIG(st));
	else
		snprintf(out, len, "ended");
}

void mg_transport_finish(mg_transport *tp, int timeout_ms, char *status, size_t len)
{
	if (tp->fd >= 0)
		close(tp->fd);
	tp->fd = -1;
	if (status && len)
		status[0] = '\0';
	if (tp->pid > 0) {
		int st = mg_proc_reap(tp->pid, timeout_ms);
		if (status)
			describe(st, status, len);
		tp->pid = 0;
	}
	if (tp->tmpdir) {
		DIR *d = opendir(tp->tmpdir);
		struct dirent *e;
		char path[PATH_MAX + 300];
		while (d && (e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				snprintf(path, sizeof(path), "%s/%s", tp->tmpdir, e->d_name), unlink(path);
		if (d)
			closedir(d);
		rmdir(tp->tmpdir);
		free(tp->tmpdir);
		tp->tmpdir = NULL;
	}
}

static void last_line(int fd, char *out, size_t len)
{
	out[0] = '\0';
	char buf[2048];
	off_t size = lseek(fd, 0, SEEK_END);
	off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = size > 0 ? pread(fd, buf, (size_t)(size - from), from) : 0;
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	char *start = strrchr(buf, '\n');
	snprintf(out, len, "%s", start ? start + 1 : buf);
}

void mg_transport_last_error(const mg_transport *tp, char *out, size_t len)
{
	if (tp->errfd >= 0)
		last_line(tp->errfd, out, len);
	else if (len)
		out[0] = '\0';
}

int mg_run_command(char *const argv[], const void *in, size_t in_len, int in_fd, mg_buf *out,
		   int timeout_ms, int *status, char *errline, size_t errlen, mg_error *err)
{
	int inp[2] = {-1, -1}, outp[2] = {-1, -1}, rc = 0;
	int errfd = tmp_errfile(err);
	pid_t pid = 0;
	mg_proc_io io = MG_PROC_IO_INIT;
	errline[0] = '\0';
	if (errfd < 0)
		return MG_EIO;
	if ((in_fd < 0 && pipe2(inp, O_CLOEXEC)) || pipe2(outp, O_CLOEXEC)) {
		rc = mg_error_sys(err, MG_ERROR, errno, "pipe");
		goto done;
	}
	if ((rc = mg_proc_spawn(&pid, argv, NULL, in_fd >= 0 ? in_fd : inp[0], outp[1], errfd,
				MG_PROC_GROUP, err)))
		goto done;
	if (inp[0] >= 0)
		close(inp[0]), inp[0] = -1;
	close(outp[1]);
	outp[1] = -1;
	io.in_fd = inp[1], io.in = in, io.in_len = in_len, io.out_fd = outp[0], io.out = out;
	inp[1] = outp[0] = -1;
	rc = mg_proc_pump(&io, timeout_ms, argv[0], err);
	if (rc == MG_PROC_TIMEOUT)
		rc = mg_error_set(err, MG_ENET, "'%s' did not finish within %d s", argv[0],
				  timeout_ms / 1000);
	mg_proc_io_close(&io);
	int st = mg_proc_reap(pid, rc ? 0 : timeout_ms);
	pid = 0;
	*status = st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	last_line(errfd, errline, errlen);
done:
	if (pid > 0)
		mg_proc_reap(pid, 0);
	for (int i = 0; i < 2; i++) {
		if (inp[i] >= 0)
			close(inp[i]);
		if (outp[i] >= 0)
			close(outp[i]);
	}
	close(errfd);
	return rc;
}

char *mg_shell_quote(const char *s, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	int rc = mg_buf_puts(&b, "'", err);
	for (const char *p = s; !rc && *p; p++)
		rc = *p == '\'' ? mg_buf_puts(&b, "'\\''", err) : mg_buf_append(&b, p, 1, err);
	if (!rc)
		rc = mg_buf_puts(&b, "'", err);
	if (rc) {
		mg_buf_free(&b);
		return NULL;
	}
	return mg_buf_detach(&b);
}

static int is_file(const char *p, int exec)
{
	struct stat st;
	return !stat(p, &st) && S_ISREG(st.st_mode) && (!exec || access(p, X_OK) == 0);
}

int mg_locate_agent(const char *arch, const mg_target_opts *o, char **agent, char **lib,
		    mg_error *err)
{
	*agent = *lib = NULL;
	int host = !strcmp(arch, "x86_64") ? 1 : !strcmp(arch, "aarch64") ? 0 : -1;
	if (host < 0)
		return mg_error_set(err, MG_ERROR, "no agent is built for the architecture '%s'", arch);
	const char *a = host ? (o->agent ? o->agent : getenv("MODELGATE_AGENT"))
			     : getenv("MODELGATE_AGENT_AARCH64");
	const char *l = host ? (o->ort_lib ? o->ort_lib : getenv("MODELGATE_ORT_LIB"))
			     : getenv("MODELGATE_ORT_LIB_AARCH64");
	char path[PATH_MAX + 64];
	char *dir = mg_self_dir();
	const char *sub = host ? "" : "aarch64/";
	if (a && *a) {
		snprintf(path, sizeof(path), "%s", a);
	} else {
		/* next to modelgate (the build tree), else where make install
		 * puts it: PREFIX/libexec/modelgate next to PREFIX/bin */
		snprintf(path, sizeof(path), "%s/%smodelgate-agent", dir ? dir : ".", sub);
		if (!is_file(path, 1))
			snprintf(path, sizeof(path), "%s/../libexec/modelgate/%smodelgate-agent",
				 dir ? dir : ".", sub);
	}
	free(dir);
	if (!is_file(path, 1)) {
		return mg_error_set(err, MG_ERROR, "no %s agent %sat '%s'%s", arch,
				    a && *a ? "" : "next to modelgate or ", path,
				    host ? " (run 'make', or set MODELGATE_AGENT)"
					 : " (run 'make agents', or set MODELGATE_AGENT_AARCH64)");
	}
	*agent = strdup(path);
	if (l && *l) {
		snprintf(path, sizeof(path), "%s", l);
	} else {
		snprintf(path, sizeof(path), "%s", *agent);
		char *slash = strrchr(path, '/');
		snprintf(slash ? slash + 1 : path, sizeof(path) - (size_t)(slash ? slash + 1 - path : 0),
			 "libonnxruntime.so.1");
		if (!is_file(path, 0))
			snprintf(path, sizeof(path), "%s/%s/libonnxruntime.so.1", MG_ORT_DIR,
				 host ? "x64" : "arm64");
	}
	if (!is_file(path, 0)) {
		free(*agent);
		*agent = NULL;
		return mg_error_set(err, MG_ERROR,
				    "no ONNX Runtime library for %s at '%s' (run 'make deps', or set %s)",
				    arch, path, host ? "MODELGATE_ORT_LIB" : "MODELGATE_ORT_LIB_AARCH64");
	}
	*lib = strdup(path);
	if (!*agent || !*lib) {
		free(*agent);
		free(*lib);
		*agent = *lib = NULL;
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	return 0;
}

/* "NAME=value" into a fixed buffer. */
static void setvar(char *out, size_t len, const char *name, const char *value)
{
	snprintf(out, len, "%s=%s", name, value);
}

const char *const mg_callgrind_opts[] = {"--tool=callgrind", "--quiet", "--collect-atstart=no",
					 "--instr-atstart=no", "--cache-sim=yes", NULL};

int mg_valgrind_version(char *out, size_t len)
{
	/* asked once a process: a cost gate asks for its probe and for each
	 * model's agent (the CLI starts targets one after another) */
	static int known; /* 0 not asked yet, 1 there, -1 not */
	static char version[64];
	if (!known) {
		char *argv[] = {"valgrind", "--version", NULL};
		mg_buf b = MG_BUF_INIT;
		char errline[256];
		int status = -1;
		mg_error ignored;
		int rc = mg_run_command(argv, NULL, 0, -1, &b, 10000, &status, errline, sizeof(errline),
					&ignored);
		known = !rc && status == 0 && b.len ? 1 : -1;
		if (known > 0)
			snprintf(version, sizeof(version), "%.*s", (int)strcspn(mg_buf_cstr(&b), "\n"),
				 mg_buf_cstr(&b));
		mg_buf_free(&b);
	}
	if (known > 0)
		snprintf(out, len, "%s", version);
	return known > 0;
}

/* argv for the agent under callgrind, collecting nothing until the agent's
 * COST request switches it on; its dumps go to a new folder in tp->tmpdir,
 * named to the agent in dumpvar, and valgrind's version in versionvar. */
static int callgrind_argv(mg_transport *tp, char *agent, char *outarg, size_t outlen, char *dumpvar,
			  size_t dumplen, char *versionvar, size_t versionlen, char **argv, mg_error *err)
{
	char version[64];
	if (!mg_valgrind_version(version, sizeof(version)))
		return mg_error_set(err, MG_ENOTFOUND, "valgrind is not installed (Debian package valgrind)");
	const char *dir = getenv("TMPDIR");
	char tmpl[PATH_MAX];
	snprintf(tmpl, sizeof(tmpl), "%s/modelgate-callgrind-XXXXXX", dir && *dir ? dir : "/tmp");
	if (!mkdtemp(tmpl))
		return mg_error_sys(err, MG_EIO, errno, "cannot create a folder in '%s'", dir && *dir ? dir : "/tmp");
	if (!(tp->tmpdir = strdup(tmpl))) {
		rmdir(tmpl);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	snprintf(outarg, outlen, "--callgrind-out-file=%s/callgrind.out", tmpl);
	snprintf(dumpvar, dumplen, "MODELGATE_CALLGRIND_OUT=%s/callgrind.out", tmpl);
	snprintf(versionvar, versionlen, "MODELGATE_VALGRIND_VERSION=%s", version);
	size_t n = 0;
	argv[n++] = "valgrind";
	for (size_t i = 0; mg_callgrind_opts[i]; i++)
		argv[n++] = (char *)mg_callgrind_opts[i];
	argv[n++] = outarg;
	argv[n++] = agent;
	argv[n] = NULL;
	return 0;
}

int mg_transport_local(mg_transport *tp, const mg_target_opts *o, mg_error *err)
{
	char *agent = NULL, *lib = NULL;
	char libvar[PATH_MAX + 32], cachevar[PATH_MAX + 32], dumpvar[PATH_MAX + 64];
	char outarg[PATH_MAX + 64], versionvar[128];
	char *set[5] = {libvar, NULL, NULL, NULL, NULL};
	int rc = mg_locate_agent("x86_64", o, &agent, &lib, err);
	if (rc)
		return rc;
	setvar(libvar, sizeof(libvar), "MODELGATE_ORT_LIB", lib);
	if (o->cache) {
		setvar(cachevar, sizeof(cachevar), "MODELGATE_AGENT_CACHE", o->cache);
		set[1] = cachevar;
	}
	char *argv[12] = {agent, NULL};
	if (o->callgrind) {
		rc = callgrind_argv(tp, agent, outarg, sizeof(outarg), dumpvar, sizeof(dumpvar), versionvar,
				    sizeof(versionvar), argv, err);
		set[o->cache ? 2 : 1] = dumpvar;
		set[o->cache ? 3 : 2] = versionvar;
	}
	if (!rc)
		rc = mg_transport_spawn(tp, argv, set, err);
	free(agent);
	free(lib);
	return rc;
}

static int in_path(const char *prog)
{
	const char *path = getenv("PATH");
	char buf[PATH_MAX];
	for (const char *p = path ? path : "/usr/bin:/bin"; *p;) {
		size_t n = strcspn(p, ":");
		snprintf(buf, sizeof(buf), "%.*s/%s", (int)n, p, prog);
		if (access(buf, X_OK) == 0)
			return 1;
		p += n + (p[n] == ':');
	}
	return 0;
}

/* The cpuinfo library (runners/agent/cpuinfo_preload.c) next to agent, in
 * out; a message naming what is missing or unusable when it cannot be
 * preloaded. */
static int locate_preload(char *out, size_t len, const char *agent, mg_error *err)
{
	const char *slash = strrchr(agent, '/');
	int dirlen = slash ? (int)(slash - agent) : 1;
	snprintf(out, len, "%.*s/" MG_CPUINFO_LIB, dirlen, slash ? agent : ".");
	if (!is_file(out, 0))
		return mg_error_set(err, MG_ERROR, "the aarch64 agent's cpuinfo library '%s' is "
				    "missing (run 'make agents')", out);
	if (access(out, R_OK))
		return mg_error_sys(err, MG_ERROR, errno, "cannot read '%s'", out);
	/* qemu splits -E at commas, ld.so splits LD_PRELOAD at blanks and colons */
	if (strpbrk(out, ",: \t\n"))
		return mg_error_set(err, MG_ERROR, "'%s' cannot be preloaded from a path with a "
				    "comma, colon or blank in it", out);
	return 0;
}

int mg_transport_qemu(mg_transport *tp, const char *arch, const mg_target_opts *o, mg_error *err)
{
	if (!in_path("qemu-aarch64"))
		return mg_error_set(err, MG_ERROR, "qemu-aarch64 is not installed "
						  "(Debian package qemu-user)");
	char *agent = NULL, *lib = NULL;
	int rc = mg_locate_agent(arch, o, &agent, &lib, err);
	if (rc)
		return rc;
	/* The aarch64 C and C++ runtime: sysroot/ beside the agent (a release
	 * tarball ships it), else the cross toolchain's. */
	char sysroot[PATH_MAX + 16], loader[PATH_MAX + 64];
	const char *slash = strrchr(agent, '/');
	snprintf(sysroot, sizeof(sysroot), "%.*ssysroot", slash ? (int)(slash + 1 - agent) : 0, agent);
	snprintf(loader, sizeof(loader), "%s/lib/ld-linux-aarch64.so.1", sysroot);
	if (access(loader, R_OK) &&
	    !access("/usr/aarch64-linux-gnu/lib/ld-linux-aarch64.so.1", R_OK))
		snprintf(sysroot, sizeof(sysroot), "%s", "/usr/aarch64-linux-gnu");
	else if (access(loader, R_OK)) {
		rc = mg_error_set(err, MG_ERROR, "no aarch64 sysroot at '%s' or in /usr/aarch64-linux-gnu "
						 "(Debian package libc6-dev-arm64-cross)", sysroot);
		goto done;
	}
	char preload[PATH_MAX + 64], preloadvar[PATH_MAX + 96];
	if ((rc = locate_preload(preload, sizeof(preload), agent, err)))
		goto done;
	setvar(preloadvar, sizeof(preloadvar), "LD_PRELOAD", preload);
	char libvar[PATH_MAX + 32], cachevar[PATH_MAX + 32];
	const char *cpu = getenv("QEMU_CPU");
	char cpuvar[64];
	setvar(cpuvar, sizeof(cpuvar), "QEMU_CPU", cpu && *cpu ? cpu : "neoverse-n1");
	setvar(libvar, sizeof(libvar), "MODELGATE_ORT_LIB", lib);
	char *set[4] = {cpuvar, libvar, NULL, NULL};
	if (o->cache) {
		setvar(cachevar, sizeof(cachevar), "MODELGATE_AGENT_CACHE", o->cache);
		set[2] = cachevar;
	}
	/* -E: in the guest's environment only, never in qemu's own */
	char *argv[] = {"qemu-aarch64", "-L", sysroot, "-E", preloadvar, agent, NULL};
	rc = mg_transport_spawn(tp, argv, set, err);
	tp->emulated = 1;
done:
	free(agent);
	free(lib);
	return rc;
}
