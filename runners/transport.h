/* transport: how the host starts a modelgate-agent and gets a stream to it
 * (internal to runners/). Every transport ends in one child process whose
 * stdin and stdout are one end of a socket pair and whose stderr goes to an
 * unlinked temporary file (read back for error messages, so a chatty child
 * can never block on a full pipe). The child leads its own process group,
 * which is killed as a whole when it stops answering. */
#ifndef MG_TRANSPORT_H
#define MG_TRANSPORT_H

#include <sys/types.h>

#include "runners/runners.h"

/* The LD_PRELOAD library that gives the aarch64 agent under qemu-user an
 * aarch64 /proc/cpuinfo (runners/agent/cpuinfo_preload.c); it lies next to
 * that agent. */
#define MG_CPUINFO_LIB "libmodelgate-cpuinfo.so"

typedef struct mg_transport {
	pid_t pid;   /* 0 when no child runs */
	int fd;      /* the host's end of the agent's stdin/stdout */
	int errfd;   /* the child's stderr */
	int emulated;
	uint64_t bytes_uploaded;
	char *tmpdir; /* removed with what is in it at finish, or NULL */
} mg_transport;

/* valgrind's options for an agent under callgrind (NULL-terminated): the
 * agent switches instrumentation and collection on around what it counts;
 * the cache simulation gives the secondary figures. Local and device
 * transports start it alike, with MODELGATE_CALLGRIND_OUT (the dump file
 * named to --callgrind-out-file) and MODELGATE_VALGRIND_VERSION set. */
extern const char *const mg_callgrind_opts[];
/* "valgrind-3.19.0" into out when valgrind runs on this machine; 0 when not
 * (asked once a process). */
int mg_valgrind_version(char *out, size_t len);

/* Runs argv (PATH searched) with the environment plus set (NAME=VALUE
 * strings, NULL-terminated; may be NULL). */
int mg_transport_spawn(mg_transport *tp, char *const argv[], char *const set[], mg_error *err);
/* Closes the stream, waits up to timeout_ms for the child (then kills its
 * group), and describes how it ended in status ("exited with status 1",
 * "killed by signal 9"). */
void mg_transport_finish(mg_transport *tp, int timeout_ms, char *status, size_t len);
/* The last non-empty line the child wrote to stderr ("" if none). */
void mg_transport_last_error(const mg_transport *tp, char *out, size_t len);
/* Runs argv to its end with stdin from in (in_len bytes, may be 0) and stdout
 * into out (may be NULL), within timeout_ms. The exit status goes to *status
 * (-1: killed). stderr's last line goes to errline. */
int mg_run_command(char *const argv[], const void *in, size_t in_len, int in_fd, mg_buf *out,
		   int timeout_ms, int *status, char *errline, size_t errlen, mg_error *err);

/* A single-quoted shell word for s (caller frees). */
char *mg_shell_quote(const char *s, mg_error *err);

/* The transports: each starts the agent (without saying hello). */
int mg_transport_local(mg_transport *tp, const mg_target_opts *o, mg_error *err);
int mg_transport_qemu(mg_transport *tp, const char *arch, const mg_target_opts *o, mg_error *err);
/* The two that copy the agent to where it runs (transport_device.c). */
int mg_transport_ssh(mg_transport *tp, const char *dest, const mg_target_opts *o, int timeout_ms,
		     mg_error *err);
int mg_transport_exec(mg_transport *tp, const char *prefix, const mg_target_opts *o,
		      int timeout_ms, mg_error *err);

#endif
