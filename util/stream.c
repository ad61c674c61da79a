/* A background writer: the caller fills buffers (reading and hashing
 * them), a second thread writes them out, so hashing and writing overlap;
 * through the page cache with writeback started as it goes, or around it
 * (O_DIRECT) for large downloads. Bounded memory: MG_WRITER_BUFS buffers
 * of a fixed size. Also the one read-hash-(write) loop that store, pull
 * and fsck share. */
#include "util.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>

#define MG_WRITER_BUFS 4

struct mg_writer {
	int fd;
	char *name;
	size_t chunk;
	char *bufs[MG_WRITER_BUFS];
	size_t lens[MG_WRITER_BUFS];
	size_t head;   /* next buffer the caller fills */
	size_t tail;   /* next buffer the thread writes */
	size_t queued; /* filled, not yet written */
	int closing;
	int failed;
	mg_error err;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	int started;
	uint64_t written;  /* bytes written so far (writer thread only) */
	uint64_t flushed;  /* bytes handed to writeback so far */
	int direct;
};

/* Start writeback every window, so the final fsync has little left to
 * wait for (the kernel would otherwise hold it all in the page cache). */
#define WRITEBACK_WINDOW ((uint64_t)32 << 20)

#define DIRECT_ALIGN 4096

static void set_direct(mg_writer *w, int on)
{
	int fl = fcntl(w->fd, F_GETFL);
	if (fl < 0 || fcntl(w->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) < 0)
		on = 0;
	w->direct = on;
}

static int write_buffer(mg_writer *w, const char *buf, size_t len, mg_error *e)
{
	if (w->direct && len % DIRECT_ALIGN) /* the tail: direct writes take whole blocks */
		set_direct(w, 0);
	off_t at = w->direct ? lseek(w->fd, 0, SEEK_CUR) : 0;
	int rc = mg_write_all(w->fd, buf, len, w->name, e);
	if (rc && w->direct && at >= 0 && lseek(w->fd, at, SEEK_SET) == at) {
		/* not every file system takes direct writes: again through the cache */
		set_direct(w, 0);
		*e = (mg_error){0};
		rc = mg_write_all(w->fd, buf, len, w->name, e);
	}
	if (rc)
		return rc;
	w->written += len;
	if (!w->direct && w->written - w->flushed >= WRITEBACK_WINDOW) {
		/* best effort: not every file (a pipe) supports it */
		sync_file_range(w->fd, (off_t)w->flushed, (off_t)(w->written - w->flushed),
				SYNC_FILE_RANGE_WRITE);
		w->flushed = w->written;
	}
	return 0;
}

static void *writer_main(void *arg)
{
	mg_writer *w = arg;
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (!w->queued && !w->closing)
			pthread_cond_wait(&w->cv, &w->mu);
		if (!w->queued)
			break;
		size_t i = w->tail;
		pthread_mutex_unlock(&w->mu);
		mg_error e = {0};
		int rc = w->failed ? 0 : write_buffer(w, w->bufs[i], w->lens[i], &e);
		pthread_mutex_lock(&w->mu);
		if (rc && !w->failed) {
			w->failed = 1;
			w->err = e;
		}
		w->tail = (w->tail + 1) % MG_WRITER_BUFS;
		w->queued--;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

void mg_writer_free(mg_writer *w)
{
	if (!w)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->closing = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		pthread_join(w->thread, NULL);
	}
	pthread_mutex_destroy(&w->mu);
	pthread_cond_destroy(&w->cv);
	for (int i = 0; i < MG_WRITER_BUFS; i++)
		free(w->bufs[i]);
	free(w->name);
	free(w);
}

int mg_writer_new(mg_writer **out, int fd, const char *name, size_t chunk, int direct,
		  mg_error *err)
{
	mg_writer *w = calloc(1, sizeof(*w));
	if (!w)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	w->fd = fd;
	w->chunk = chunk;
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->cv, NULL);
	int ok = (w->name = strdup(name)) != NULL;
	for (int i = 0; ok && i < MG_WRITER_BUFS; i++)
		ok = (w->bufs[i] = aligned_alloc(DIRECT_ALIGN, chunk)) != NULL;
	if (!ok) {
		mg_writer_free(w);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	if (direct)
		set_direct(w, 1); /* before the thread starts: then only it changes it */
	int e = pthread_create(&w->thread, NULL, writer_main, w);
	if (e) {
		mg_writer_free(w);
		return mg_error_sys(err, MG_ENOMEM, e, "cannot start a writer thread for '%s'", name);
	}
	w->started = 1;
	*out = w;
	return 0;
}

char *mg_writer_buffer(mg_writer *w, size_t *cap)
{
	pthread_mutex_lock(&w->mu);
	while (w->queued == MG_WRITER_BUFS)
		pthread_cond_wait(&w->cv, &w->mu);
	char *b = w->bufs[w->head];
	pthread_mutex_unlock(&w->mu);
	*cap = w->chunk;
	return b;
}

int mg_writer_submit(mg_writer *w, size_t len, mg_error *err)
{
	pthread_mutex_lock(&w->mu);
	int failed = w->failed;
	if (failed && err)
		*err = w->err;
	int code = w->err.code;
	if (!failed) {
		w->lens[w->head] = len;
		w->head = (w->head + 1) % MG_WRITER_BUFS;
		w->queued++;
		pthread_cond_broadcast(&w->cv);
	}
	pthread_mutex_unlock(&w->mu);
	return failed ? code : 0;
}

int mg_writer_finish(mg_writer *w, mg_error *err)
{
	pthread_mutex_lock(&w->mu);
	while (w->queued)
		pthread_cond_wait(&w->cv, &w->mu);
	int failed = w->failed;
	int code = w->err.code;
	if (failed && err)
		*err = w->err;
	pthread_mutex_unlock(&w->mu);
	return failed ? code : 0;
}

int mg_copy_hash(int in_fd, const char *in_name, int out_fd, const char *out_name,
		 char digest[MG_DIGEST_SIZE], uint64_t *size, mg_error *err)
{
	return mg_copy_hash_watch(in_fd, in_name, out_fd, out_name, digest, size, NULL, NULL, err);
}

int mg_copy_hash_watch(int in_fd, const char *in_name, int out_fd, const char *out_name,
		       char digest[MG_DIGEST_SIZE], uint64_t *size, mg_bytes_fn watch, void *ctx,
		       mg_error *err)
{
	enum { CHUNK = 4u << 20 };
	mg_hash *h = NULL;
	mg_writer *w = NULL;
	char *own = NULL;
	uint64_t total = 0;
	int rc = mg_hash_new(&h, err);
	if (!rc && out_fd >= 0)
		rc = mg_writer_new(&w, out_fd, out_name, CHUNK, 0, err);
	else if (!rc && !(own = malloc(CHUNK)))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	if (rc)
		goto done;
	posix_fadvise(in_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		size_t cap = CHUNK;
		char *buf = w ? mg_writer_buffer(w, &cap) : own;
		size_t got = 0;
		while (got < cap) { /* fill whole buffers: fewer, larger writes */
			ssize_t n = read(in_fd, buf + got, cap - got);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0) {
				rc = mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", in_name);
				goto done;
			}
			if (n == 0)
				break;
			got += (size_t)n;
		}
		if (got == 0)
			break;
		mg_hash_update(h, buf, got);
		total += got;
		if (watch)
			watch(ctx, total, 0);
		if (w && (rc = mg_writer_submit(w, got, err)))
			goto done;
		if (got < cap)
			break;
	}
	if (w && (rc = mg_writer_finish(w, err)))
		goto done;
	mg_hash_final(h, digest);
	if (size)
		*size = total;
	if (watch)
		watch(ctx, total, 1);
done:
	mg_writer_free(w);
	mg_hash_free(h);
	free(own);
	return rc;
}
