/* util: the small helpers every other module stands on.
 *
 * Errors. A fallible function returns 0 on success or a negative MG_E* code,
 * and fills the caller's mg_error (which may be NULL) with that code and a
 * one-line message naming the input: "cannot read 'model.onnx': No such file
 * or directory". Lower case, no full stop. A caller passes an error up as it
 * is; it never overwrites a precise message with a vaguer one.
 *
 * Ownership. What comes back through an `out` parameter belongs to the caller
 * and is released with the matching _free (which accepts NULL) or free().
 */
#ifndef MG_UTIL_H
#define MG_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* ---- errors ---------------------------------------------------------- */

enum {
	MG_OK = 0,
	MG_ERROR = -1,     /* anything else, an infrastructure failure */
	MG_EINVAL = -2,    /* bad usage or bad input (config, file, reference) */
	MG_ENOTFOUND = -3, /* a named thing does not exist (tag, file, blob) */
	MG_EIO = -4,       /* reading or writing failed (disk full, permissions) */
	MG_ECORRUPT = -5,  /* stored bytes do not match their digest */
	MG_ENOMEM = -6,    /* out of memory or over a size limit */
	MG_EEXISTS = -7,   /* refusing to replace something that exists */
	MG_ENET = -8,      /* a registry or target could not be reached */
};

/* Exit codes of every command (docs/DESIGN.md). */
enum {
	MG_EXIT_OK = 0,
	MG_EXIT_GATE = 1,
	MG_EXIT_INPUT = 2,
	MG_EXIT_INFRA = 3,
};

typedef struct mg_error {
	int code;
	char msg[1024];
} mg_error;

/* Sets code and message (printf format) and returns code, so a caller can
 * `return mg_error_set(err, MG_EINVAL, "...")`. err may be NULL. */
int mg_error_set(mg_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* As mg_error_set, appending ": strerror(errnum)". */
int mg_error_sys(mg_error *err, int code, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void mg_error_clear(mg_error *err);
/* The process exit code for an error code. */
int mg_error_exit_code(int code);

/* ---- growable byte buffer -------------------------------------------- */

/* Invariants: data is NULL or NUL-terminated at data[len]; len < cap when
 * data is non-NULL; len never exceeds MG_BUF_MAX. MG_BUF_INIT is empty. */
typedef struct mg_buf {
	char *data;
	size_t len;
	size_t cap;
} mg_buf;

#define MG_BUF_INIT {NULL, 0, 0}
#define MG_BUF_MAX ((size_t)1 << 30)

int mg_buf_grow(mg_buf *b, size_t extra, mg_error *err);
int mg_buf_append(mg_buf *b, const void *data, size_t len, mg_error *err);
int mg_buf_puts(mg_buf *b, const char *s, mg_error *err);
int mg_buf_printf(mg_buf *b, mg_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The contents, or "" for an empty buffer; never NULL. */
const char *mg_buf_cstr(const mg_buf *b);
/* Hands the allocation to the caller (who free()s it); b becomes empty. */
char *mg_buf_detach(mg_buf *b);
void mg_buf_reset(mg_buf *b);
void mg_buf_free(mg_buf *b);

/* ---- memory ---------------------------------------------------------- */

/* strdup that fills err on failure. */
char *mg_strdup(const char *s, mg_error *err);
/* a*b, or -1 with errno-free failure when it would overflow SIZE_MAX. */
int mg_size_mul(size_t a, size_t b, size_t *out);

/* ---- digests --------------------------------------------------------- */

/* "sha256:" + 64 lowercase hex + NUL */
#define MG_DIGEST_LEN 71
#define MG_DIGEST_SIZE 72

typedef struct mg_hash mg_hash;

int mg_hash_new(mg_hash **out, mg_error *err);
void mg_hash_update(mg_hash *h, const void *data, size_t len);
/* Writes "sha256:<hex>" to out; the hash can then be reset for reuse. */
void mg_hash_final(mg_hash *h, char out[MG_DIGEST_SIZE]);
void mg_hash_reset(mg_hash *h);
void mg_hash_free(mg_hash *h);

void mg_digest_bytes(const void *data, size_t len, char out[MG_DIGEST_SIZE]);
/* 1 when s is exactly "sha256:" + 64 lowercase hex digits. */
int mg_digest_valid(const char *s);
/* The 64 hex digits of a valid digest. */
const char *mg_digest_hex(const char *digest);

/* ---- files ----------------------------------------------------------- */

/* Reads fd to its end into out (appending), at most max bytes: more is the
 * error code too_big; on any error out is left as it was. */
int mg_fd_read(mg_buf *out, int fd, size_t max, int too_big, const char *name, mg_error *err);
/* Reads a whole file of at most max bytes into out (appending). */
int mg_file_read(mg_buf *out, const char *path, size_t max, mg_error *err);
/* Creates dir and its parents (mode 0755); existing ones are fine. */
int mg_mkdirs(const char *dir, mg_error *err);
/* Opens a new temporary file in dir (O_EXCL, mode 0644); its path goes to
 * path_out (caller frees). */
int mg_tmpfile_open(int *fd_out, char **path_out, const char *dir, mg_error *err);
/* Writes all of len bytes, retrying short writes and EINTR. */
int mg_write_all(int fd, const void *data, size_t len, const char *name, mg_error *err);
/* fsync fd, close it and rename tmp over path, then fsync the folder.
 * Closes fd and removes tmp whatever happens. fd is -1 when the caller
 * has synced and closed the file already. */
int mg_tmpfile_commit(int fd, const char *tmp, const char *path, mg_error *err);
/* Atomically replaces path with data (temporary file, fsync, rename). A
 * symbolic link is written through: its target is replaced, in the
 * target's folder, and the link stays (as docker and editors do). */
int mg_file_write_atomic(const char *path, const void *data, size_t len, mg_error *err);
/* Into *out (caller frees), the file path names once the symbolic links of
 * its last component are followed (relative targets from the link's
 * folder), whether that file exists or not; path itself when it is no
 * link. */
int mg_path_follow(char **out, const char *path, mg_error *err);
/* Removes dir and everything in it (best effort; symlinks are not
 * followed). */
void mg_remove_tree(const char *dir);
/* The folder this program's executable lies in, links resolved (caller
 * frees); NULL when /proc/self/exe cannot say. The bundled parts (agent,
 * engines, schema) are found from it. */
char *mg_self_dir(void);
/* Joins a and b with one '/'; caller frees. */
char *mg_path_join(const char *a, const char *b, mg_error *err);
/* 1 when name is a safe single path component: not empty, no '/', not
 * "." or "..", no control characters. */
int mg_name_is_safe(const char *name);

/* ---- the digest cache ----------------------------------------------- */

/* The digest and size of the regular file open at fd (from its start; name
 * for messages). A file of 1 MiB or more whose stat data (device, inode,
 * size, mtime, ctime) the digest cache knows is not read again (*cached =
 * 1); else it is hashed, and remembered unless it changed in the last two
 * seconds. digest_cache.c says where the cache lives. */
int mg_file_digest(int fd, const char *name, char digest[MG_DIGEST_SIZE], uint64_t *size,
		   int *cached, mg_error *err);
/* 1 and the digest and size when the digest cache knows the file at fd. */
int mg_file_digest_lookup(int fd, char digest[MG_DIGEST_SIZE], uint64_t *size);
/* Drops what the digest cache says about the file at fd (its digest proved
 * wrong). */
void mg_file_digest_forget(int fd);

/* ---- background writer ---------------------------------------------- */

/* Overlaps producing data (reading, hashing) with writing it to fd: take a
 * buffer, fill it, submit it; a second thread writes submitted buffers in
 * order. At most a few buffers of chunk bytes are in flight. */
typedef struct mg_writer mg_writer;

/* direct: write around the page cache (O_DIRECT) where the file system
 * allows it: no copy into the cache and no writeback to wait for, but the
 * file is not in memory afterwards. chunk: a multiple of 4096. */
int mg_writer_new(mg_writer **out, int fd, const char *name, size_t chunk, int direct,
		  mg_error *err);
/* A free buffer of *cap bytes (waits for one). */
char *mg_writer_buffer(mg_writer *w, size_t *cap);
/* Queues the buffer last returned, filled with len bytes; fails with the
 * first write error seen so far. */
int mg_writer_submit(mg_writer *w, size_t len, mg_error *err);
/* Waits until everything submitted is written; the first write error. */
int mg_writer_finish(mg_writer *w, mg_error *err);
/* Stops the thread (after pending writes) and frees w; does not close fd. */
void mg_writer_free(mg_writer *w);

/* Reads in_fd to its end, hashing everything, and writes the same bytes to
 * out_fd when out_fd >= 0 (hashing and writing overlap). The bytes written
 * are exactly the bytes hashed. Names are for messages. */
int mg_copy_hash(int in_fd, const char *in_name, int out_fd, const char *out_name,
		 char digest[MG_DIGEST_SIZE], uint64_t *size, mg_error *err);
/* Told the bytes done so far, and finished = 1 once at the end. */
typedef void (*mg_bytes_fn)(void *ctx, uint64_t done, int finished);
/* As mg_copy_hash, telling watch (may be NULL) after every chunk. */
int mg_copy_hash_watch(int in_fd, const char *in_name, int out_fd, const char *out_name,
		       char digest[MG_DIGEST_SIZE], uint64_t *size, mg_bytes_fn watch, void *ctx,
		       mg_error *err);

/* ---- suggestions ----------------------------------------------------- */

/* How many edits (insertions, deletions, substitutions, swaps of
 * neighbours) make word into name when word is a misspelling of name:
 * within a third of word's length, at least one, at most three, and fewer
 * than half of name's letters; else SIZE_MAX. The one rule of every "did
 * you mean" (config keys, commands, options). */
size_t mg_nearness(const char *word, const char *name);
/* The word of the NULL-terminated list known nearest to word
 * (mg_nearness), or NULL when none is near. */
const char *mg_closest(const char *word, const char *const *known);

/* ---- output helpers -------------------------------------------------- */

/* Human size: "1.5 GiB", "812 B". */
void mg_format_size(char *out, size_t outlen, uint64_t bytes);
/* RFC 3339 UTC time of t: "2026-11-25T12:00:00Z". */
void mg_format_time(char *out, size_t outlen, int64_t t);
/* s with every control character written as \xHH, into out (cut off where
 * it does not fit): outside text (a registry's names, a model's tensor
 * names) cannot move a terminal's cursor, recolour it or break a line. */
void mg_escape_controls(char *out, size_t outlen, const char *s);
/* Whether s holds a control character. */
int mg_has_controls(const char *s);

#endif
