/* util/proc: child processes without a shell, for the docker credential
 * helpers (registry/auth_helper.c) and the agents and helper commands of
 * the targets (runners/transport.c): start one with its standard streams
 * on given descriptors, pump bytes to and from it through poll with an
 * optional deadline, and wait for it (killing it when the wait runs out).
 * Nothing here prints; a caller words the outcomes it gets back. */
#ifndef MG_PROC_H
#define MG_PROC_H

#include <sys/types.h>

#include "util/util.h"

/* The child leads a new process group, killed as a whole by
 * mg_proc_reap. Not for a child that may talk to the terminal. */
#define MG_PROC_GROUP 1

/* Starts argv (PATH searched when argv[0] has no '/') with the environment
 * plus set (NAME=VALUE strings, NULL-terminated; may be NULL), its stdin
 * on in_fd (-1: inherited), stdout on out_fd and stderr on err_fd. The
 * child dies with this process; it writes why to its stderr and exits 127
 * when it cannot be run. */
int mg_proc_spawn(pid_t *pid, char *const argv[], char *const set[], int in_fd, int out_fd,
		  int err_fd, int flags, mg_error *err);

/* The parent's ends of a child's pipes (-1: none); mg_proc_pump closes
 * each as it finishes with it and sets it to -1. */
typedef struct mg_proc_io {
	int in_fd;         /* in_len bytes of in are written here, then it is closed */
	const void *in;
	size_t in_len;
	int out_fd;        /* read into out (may be NULL: discarded) */
	mg_buf *out;
	size_t out_max;    /* 0: no bound but the buffer's */
	int err_fd;        /* read into errs */
	mg_buf *errs;
	size_t err_max;
	int over;          /* after MG_PROC_TOO_MUCH: 1 stdout, 2 stderr */
} mg_proc_io;
#define MG_PROC_IO_INIT {-1, NULL, 0, -1, NULL, 0, -1, NULL, 0, 0}

/* Outcomes of mg_proc_pump beside 0 and MG_E* codes, left unworded. */
enum { MG_PROC_TIMEOUT = 1, MG_PROC_TOO_MUCH = 2 };

/* Feeds and drains the pipes of io until both out_fd and err_fd reach end
 * of file: 0; MG_PROC_TIMEOUT when timeout_ms (< 0: none) runs out first;
 * MG_PROC_TOO_MUCH when a stream exceeds its bound; MG_E* when a read or
 * poll fails (name is for that message). */
int mg_proc_pump(mg_proc_io *io, int timeout_ms, const char *name, mg_error *err);
/* Closes what is still open of io. */
void mg_proc_io_close(mg_proc_io *io);

/* Waits for pid up to timeout_ms (< 0: as long as it takes), then kills it
 * and its group; its wait status, or -1 when it could not be waited for. */
int mg_proc_reap(pid_t pid, int timeout_ms);

/* Milliseconds of a monotonic clock. */
uint64_t mg_proc_now_ms(void);

#endif
