/* A blob download that a kill does not waste: the bytes go to a partial
 * file under a name the caller keeps (a device's state directory), so the
 * next process hashes what is there and asks the registry for the rest
 * with Range (a registry that ignores Range resends the whole body; the
 * HTTP engine skips what we have). For a fleet device on a slow link,
 * where an update may be cut off by a reboot. The pull of an artifact
 * (mg_remote_fetch_blobs) keeps temporary files instead: it restarts. */
#include "remote_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct sink {
	int fd;
	mg_hash *hash;
	uint64_t got, size;
	const char *partial;
	const char *digest;
} sink;

static int sink_write(void *ctx, const void *data, size_t len, mg_error *err)
{
	sink *s = ctx;
	if (len > s->size - s->got)
		return mg_error_set(err, MG_ECORRUPT, "blob %s is longer than the %llu bytes its "
				    "descriptor says", s->digest, (unsigned long long)s->size);
	mg_hash_update(s->hash, data, len);
	s->got += len;
	return mg_write_all(s->fd, data, len, s->partial, err);
}

/* Hashes the bytes partial holds (all of them: a download that ended
 * mid-write left what it wrote), at most size of them. */
static int rehash(sink *s, mg_error *err)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(s->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return mg_error_sys(err, MG_EIO, errno, "cannot read '%s'", s->partial);
		if (n == 0)
			return 0;
		if ((uint64_t)n > s->size - s->got) { /* longer than the blob: start again */
			s->got = 0;
			mg_hash_reset(s->hash);
			if (ftruncate(s->fd, 0) || lseek(s->fd, 0, SEEK_SET) < 0)
				return mg_error_sys(err, MG_EIO, errno, "cannot truncate '%s'", s->partial);
			return 0;
		}
		mg_hash_update(s->hash, buf, (size_t)n);
		s->got += (uint64_t)n;
	}
}

int mg_remote_fetch_blob_resumable(mg_remote *r, const char *repo, const mg_desc *d,
				   const char *partial, const char *dest, mg_error *err)
{
	sink s = {-1, NULL, 0, d->size, partial, d->digest};
	mg_buf url = MG_BUF_INIT;
	mg_http_req q;
	mg_http_req_init(&q, "GET", NULL);
	char scope[600], got[MG_DIGEST_SIZE];
	int rc = mg_hash_new(&s.hash, err);
	if (!rc && (s.fd = open(partial, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) < 0)
		rc = mg_error_sys(err, MG_EIO, errno, "cannot open '%s'", partial);
	if (!rc)
		rc = rehash(&s, err);
	if (!rc && s.got < s.size) {
		mg_remote__scope(scope, sizeof(scope), repo, 0);
		rc = mg_remote__url(&url, r, repo, "blobs", d->digest, err);
		q.url = url.data;
		q.scope = scope;
		q.follow = 1;
		q.resume = 1;
		q.resume_from = s.got;
		q.sink = sink_write;
		q.sink_ctx = &s;
		q.what = d->title ? d->title : d->digest;
		q.total = d->size;
		if (!rc)
			rc = mg_remote__do(r, &q, err);
		char what[300];
		snprintf(what, sizeof(what), "blob %s", d->digest);
		if (!rc && q.status != 200 && q.status != 206)
			rc = mg_remote__status(r, &q, repo, what, err);
	}
	if (!rc) {
		mg_hash_final(s.hash, got);
		if (s.got != s.size || strcmp(got, d->digest)) {
			rc = mg_error_set(err, MG_ECORRUPT, "blob %s from '%s' came as %llu bytes of %s; "
					  "nothing was kept", d->digest, r->name, (unsigned long long)s.got, got);
			unlink(partial);
		}
	}
	if (!rc && fsync(s.fd))
		rc = mg_error_sys(err, MG_EIO, errno, "cannot write '%s'", partial);
	if (!rc && rename(partial, dest))
		rc = mg_error_sys(err, MG_EIO, errno, "cannot rename '%s' to '%s'", partial, dest);
	if (!rc)
		mg_http_progress_done(r->http, MG_PROGRESS_DOWNLOAD, d->title ? d->title : d->digest, d->size);
	if (s.fd >= 0)
		close(s.fd);
	mg_hash_free(s.hash);
	mg_http_req_free(&q);
	mg_buf_free(&url);
	return rc;
}
