/* util/proc: starting a child with fork/exec (no shell), pumping its pipes
 * through poll under a deadline, and reaping it (proc.h). */
#include "util/proc.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

uint64_t mg_proc_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* environ plus set, overriding names in environ. Caller frees the array. */
static char **make_env(char *const set[])
{
	size_t n = 0, k = 0;
	while (environ[n])
		n++;
	while (set && set[k])
		k++;
	char **env = calloc(n + k + 1, sizeof(*env));
	if (!env)
		return NULL;
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		int replaced = 0;
		for (size_t j = 0; j < k && !replaced; j++) {
			size_t eq = strcspn(set[j], "=");
			replaced = !strncmp(environ[i], set[j], eq + 1);
		}
		if (!replaced)
			env[m++] = environ[i];
	}
	for (size_t j = 0; j < k; j++)
		env[m++] = set[j];
	return env;
}

int mg_proc_spawn(pid_t *pid, char *const argv[], char *const set[], int in_fd, int out_fd,
		  int err_fd, int flags, mg_error *err)
{
	char **env = make_env(set);
	if (!env)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	pid_t parent = getpid();
	*pid = fork();
	if (*pid < 0) {
		free(env);
		return mg_error_sys(err, MG_ERROR, errno, "cannot start '%s'", argv[0]);
	}
	if (*pid == 0) {
		if (flags & MG_PROC_GROUP)
			setpgid(0, 0);
		/* a modelgate that dies (SIGTERM of a cancelled job, SIGKILL)
		 * takes what it started with it */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		if ((in_fd >= 0 ? dup2(in_fd, 0) : 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
			_exit(127);
		execvpe(argv[0], argv, env);
		dprintf(2, "cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (flags & MG_PROC_GROUP)
		setpgid(*pid, *pid);
	free(env);
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void mg_proc_io_close(mg_proc_io *io)
{
	close_fd(&io->in_fd);
	close_fd(&io->out_fd);
	close_fd(&io->err_fd);
}

/* Reads what is readable on *fd into b (NULL: dropped), closing *fd at end
 * of file; MG_PROC_TOO_MUCH past max (0: none). */
static int drain(int *fd, mg_buf *b, size_t max, const char *name, mg_error *err)
{
	char chunk[4096];
	ssize_t n = read(*fd, chunk, sizeof(chunk));
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n < 0)
		return mg_error_sys(err, MG_ERROR, errno, "cannot read the output of '%s'", name);
	if (n == 0) {
		close_fd(fd);
		return 0;
	}
	if (!b)
		return 0;
	int rc = mg_buf_append(b, chunk, (size_t)n, err);
	if (!rc && max && b->len > max)
		rc = MG_PROC_TOO_MUCH;
	return rc;
}

int mg_proc_pump(mg_proc_io *io, int timeout_ms, const char *name, mg_error *err)
{
	uint64_t end = mg_proc_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	size_t sent = 0;
	int rc = 0;
	if (io->in_len == 0)
		close_fd(&io->in_fd);
	while (!rc && (io->out_fd >= 0 || io->err_fd >= 0)) {
		struct pollfd p[3] = {{io->out_fd, POLLIN, 0}, {io->err_fd, POLLIN, 0},
				      {io->in_fd, POLLOUT, 0}};
		int wait = -1;
		if (timeout_ms >= 0) {
			uint64_t t = mg_proc_now_ms();
			if (t >= end)
				return MG_PROC_TIMEOUT;
			wait = (int)(end - t);
		}
		int n = poll(p, 3, wait);
		if (n < 0) {
			if (errno != EINTR)
				rc = mg_error_sys(err, MG_ERROR, errno, "poll");
			continue;
		}
		if (io->in_fd >= 0 && p[2].revents) {
			ssize_t w = write(io->in_fd, (const char *)io->in + sent, io->in_len - sent);
			if (w > 0)
				sent += (size_t)w;
			if (w < 0 || sent == io->in_len)
				close_fd(&io->in_fd);
		}
		if (io->out_fd >= 0 && p[0].revents &&
		    (rc = drain(&io->out_fd, io->out, io->out_max, name, err)) == MG_PROC_TOO_MUCH)
			io->over = 1;
		if (!rc && io->err_fd >= 0 && p[1].revents &&
		    (rc = drain(&io->err_fd, io->errs, io->err_max, name, err)) == MG_PROC_TOO_MUCH)
			io->over = 2;
	}
	return rc;
}

int mg_proc_reap(pid_t pid, int timeout_ms)
{
	int st = 0;
	if (timeout_ms < 0) {
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				return -1;
		return st;
	}
	uint64_t end = mg_proc_now_ms() + (uint64_t)timeout_ms;
	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR)
			return -1;
		if (mg_proc_now_ms() >= end)
			break;
		struct timespec ts = {0, 2000000};
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return st;
}
