/* The OCI Distribution API over the HTTP engine (http.c): /v2/ check,
 * manifests (get verified, put), blobs (HEAD, mount, upload monolithic or
 * in chunks with resume, or while another thread hashes them; verified
 * parallel downloads), and one place that turns 401/403/404 into messages
 * that say what to check. Tags and deletion are in remote_tags.c. */
#include "remote_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

const char *mg_remote_name(const mg_remote *r)
{
	return r->name;
}

void mg_remote_free(mg_remote *r)
{
	if (!r)
		return;
	mg_http_free(r->http);
	mg_buf_free(&r->first_url);
	free(r->name);
	free(r->base);
	free(r);
}

/* base/v2/repo/kind/ref */
int mg_remote__url(mg_buf *out, const mg_remote *r, const char *repo, const char *kind,
		  const char *ref, mg_error *err)
{
	mg_buf_reset(out);
	return mg_buf_printf(out, err, "%s/v2/%s/%s/%s", r->base, repo, kind, ref ? ref : "");
}

/* An upload Location (absolute, or a path on the registry), with digest
 * added to its query when digest is not NULL. */
static int location_url(mg_buf *out, const mg_remote *r, const char *loc, const char *digest,
			mg_error *err)
{
	mg_buf_reset(out);
	if (!*loc)
		return mg_error_set(err, MG_ENET, "registry '%s' started an upload without a Location",
				    r->name);
	int rc = loc[0] == '/' ? mg_buf_printf(out, err, "%s%s", r->base, loc)
			       : mg_buf_puts(out, loc, err);
	if (!rc && digest)
		rc = mg_buf_printf(out, err, "%cdigest=%s", strchr(loc, '?') ? '&' : '?', digest);
	return rc;
}

void mg_remote__scope(char *out, size_t cap, const char *repo, int push)
{
	snprintf(out, cap, "repository:%s:%s", repo, push ? "pull,push" : "pull");
}

/* The error for an answer that is not what the caller expected. */
int mg_remote__status(const mg_remote *r, const mg_http_req *q, const char *repo,
			const char *what, mg_error *err)
{
	char why[256];
	mg_http_error_text(q, why, sizeof(why));
	switch (q->status) {
	case 401:
		if (r->has_user)
			return mg_error_set(err, MG_EINVAL,
					    "registry '%s' refused the credentials %s for repository "
					    "'%s' (401%s%s): check that they are right and may use it, or run "
					    "'modelgate login %s'", r->name, r->cred_from, repo,
					    why[0] ? ": " : "", why, r->name);
		return mg_error_set(err, MG_EINVAL,
				    "registry '%s' wants credentials for repository '%s' (401): set "
				    "MODELGATE_REGISTRY_USER/MODELGATE_REGISTRY_PASSWORD or run "
				    "'modelgate login %s'", r->name, repo, r->name);
	case 403:
		return mg_error_set(err, MG_EINVAL,
				    "registry '%s' denied access to repository '%s' (403): check that "
				    "the account may read%s it", r->name, repo,
				    strcmp(q->method, "GET") && strcmp(q->method, "HEAD") ? " and write" : "");
	case 404:
		return mg_error_set(err, MG_ENOTFOUND,
				    "%s not found in repository '%s' on registry '%s' (404%s%s): check "
				    "the name and tag", what, repo, r->name, why[0] ? ": " : "", why);
	default:
		return mg_error_set(err, q->status >= 500 ? MG_ENET : MG_EINVAL,
				    "registry '%s' refused %s for repository '%s' (%ld%s%s)", r->name, what,
				    repo, q->status, why[0] ? ": " : "", why);
	}
}

int mg_remote__call_start(mg_remote_call *c, mg_remote *r, const char *method, const char *repo,
			  const char *kind, const char *id, int push, mg_error *err)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->repo = repo;
	mg_remote__scope(c->scope, sizeof(c->scope), repo, push);
	int rc = mg_remote__url(&c->url, r, repo, kind, id, err);
	mg_http_req_init(&c->q, method, c->url.data);
	c->q.scope = c->scope;
	return rc;
}

int mg_remote__call_send(mg_remote_call *c, int rc, mg_error *err)
{
	return rc ? rc : mg_remote__do(c->r, &c->q, err);
}

int mg_remote__call_status(const mg_remote_call *c, mg_error *err)
{
	return mg_remote__status(c->r, &c->q, c->repo, c->what, err);
}

void mg_remote__call_end(mg_remote_call *c)
{
	mg_http_req_free(&c->q);
	mg_buf_free(&c->url);
}

static int ping(mg_remote *r, long *status, int *tls, mg_error *err)
{
	mg_buf url = MG_BUF_INIT;
	mg_http_req q;
	int rc = mg_buf_printf(&url, err, "%s/v2/", r->base);
	if (!rc) /* the registry is where its base is: credentials go there only */
		rc = mg_http_set_origin(r->http, r->base, err);
	mg_http_req_init(&q, "GET", url.data);
	mg_buf body = MG_BUF_INIT;
	q.out = &body;
	q.out_max = 1u << 20;
	if (!rc)
		rc = mg_http_do(r->http, &q, err);
	*status = q.status;
	*tls = q.tls_error;
	mg_http_req_free(&q);
	mg_buf_free(&body);
	mg_buf_free(&url);
	return rc;
}

/* After HTTPS failed with a TLS error: tries plain HTTP, which --insecure
 * allows for any registry and a loopback one (mg_registry_is_loopback)
 * needs no leave for, as with docker. For a loopback registry that does not
 * answer as one over HTTP either, the HTTPS error stands: a certificate that
 * fails verification is reported as such. */
static int try_plain_http(mg_remote *r, const char *registry, long *status, mg_error *err)
{
	mg_error first = {0};
	if (err)
		first = *err;
	mg_buf base = MG_BUF_INIT;
	int tls = 0;
	int rc = mg_buf_printf(&base, err, "http://%s", registry);
	if (rc)
		return rc;
	free(r->base);
	r->base = mg_buf_detach(&base);
	mg_error_clear(err);
	rc = ping(r, status, &tls, err);
	if (!r->o.insecure && (rc || (*status != 200 && *status != 401))) {
		if (err)
			*err = first;
		return first.code ? first.code : MG_ENET;
	}
	return rc;
}

/* The /v2/ check: HTTPS, else plain HTTP where allowed; the registry
 * must answer as one (200, or 401 for credentials). */
static int check_v2(mg_remote *r, mg_error *err)
{
	long status = 0;
	int tls = 0;
	int rc = ping(r, &status, &tls, err);
	if (rc == MG_ENET && tls && (r->o.insecure || mg_registry_is_loopback(r->name)))
		rc = try_plain_http(r, r->name, &status, err);
	if (!rc && status != 200 && status != 401)
		rc = mg_error_set(err, MG_ENET, "'%s' does not look like an OCI registry: /v2/ answered %ld",
				  r->name, status);
	if (!rc)
		r->unchecked = 0;
	return rc;
}

int mg_remote__do(mg_remote *r, mg_http_req *q, mg_error *err)
{
	int rc = mg_http_do(r->http, q, err);
	size_t blen = strlen(r->base);
	if (!r->unchecked || (rc && !q->tls_error))
		return rc; /* checked before, or not reached at all: the next request tries again */
	if (!rc || !(r->o.insecure || mg_registry_is_loopback(r->name)) || strncmp(q->url, r->base, blen)) {
		r->unchecked = rc != 0; /* it answered over HTTPS */
		return rc;
	}
	/* HTTPS failed: the same request over plain HTTP, as the /v2/ check would */
	mg_error first = {0};
	if (err)
		first = *err;
	mg_buf base = MG_BUF_INIT, url = MG_BUF_INIT;
	rc = mg_buf_printf(&base, err, "http://%s", r->name);
	if (!rc)
		rc = mg_buf_printf(&url, err, "%s%s", base.data, q->url + blen);
	if (!rc)
		rc = mg_http_set_origin(r->http, base.data, err);
	if (!rc) {
		mg_error_clear(err);
		mg_buf_free(&r->first_url);
		r->first_url = url;
		url = (mg_buf)MG_BUF_INIT;
		q->url = r->first_url.data;
		q->tls_error = 0;
		rc = mg_http_do(r->http, q, err);
	}
	if (!rc || r->o.insecure) { /* it answered over HTTP: that is its scheme */
		free(r->base);
		r->base = mg_buf_detach(&base);
		r->unchecked = rc != 0;
	} else { /* the HTTPS error stands, as mg_remote_open's would */
		mg_http_set_origin(r->http, r->base, NULL);
		if (err)
			*err = first;
		rc = first.code ? first.code : MG_ENET;
	}
	mg_buf_free(&base);
	mg_buf_free(&url);
	return rc;
}

int mg_remote_open(mg_remote **out, const char *registry, const mg_remote_opts *o,
		   const char *user, const char *password, mg_error *err)
{
	static const mg_remote_opts defaults = MG_REMOTE_OPTS_INIT;
	mg_remote *r = calloc(1, sizeof(*r));
	if (!r)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	r->o = o ? *o : defaults;
	if (!r->o.parallel)
		r->o.parallel = 4;
	if (!r->o.chunk_size)
		r->o.chunk_size = 64u << 20;
	char *u = NULL, *p = NULL;
	int rc = 0;
	if (user) {
		if (!(u = strdup(user)) || !(p = strdup(password ? password : "")))
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		snprintf(r->cred_from, sizeof(r->cred_from), "given to 'modelgate login'");
	} else {
		char from[MG_AUTH_FROM_SIZE];
		rc = mg_auth_lookup(registry, &u, &p, from, err);
		snprintf(r->cred_from, sizeof(r->cred_from), "from %.*s", MG_AUTH_FROM_SIZE - 8, from);
	}
	r->has_user = u != NULL;
	if (!rc && !(r->name = mg_strdup(registry, err)))
		rc = MG_ENOMEM;
	if (!rc)
		rc = mg_http_new(&r->http, registry, &r->o, u, p, err);
	mg_buf base = MG_BUF_INIT;
	if (!rc && !(rc = mg_buf_printf(&base, err, "https://%s", registry))) {
		r->base = mg_buf_detach(&base);
		r->unchecked = 1;
		/* no_ping: the first request is the check (mg_remote__do) */
		rc = r->o.no_ping ? mg_http_set_origin(r->http, r->base, err) : check_v2(r, err);
	}
	if (p)
		memset(p, 0, strlen(p));
	free(u);
	free(p);
	mg_buf_free(&base);
	if (rc) {
		mg_remote_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int mg_remote_check_login(mg_remote *r, mg_error *err)
{
	long status = 0;
	int tls = 0;
	int rc = ping(r, &status, &tls, err);
	if (!rc && status == 401)
		rc = mg_error_set(err, MG_EINVAL, "registry '%s' refused the credentials (401): check the "
				  "user name and password", r->name);
	else if (!rc && status != 200)
		rc = mg_error_set(err, MG_ENET, "registry '%s' answered %ld to a login", r->name, status);
	return rc;
}

int mg_remote_get_manifest(mg_remote *r, const mg_ref *ref, mg_buf *out,
			   char digest[MG_DIGEST_SIZE], char media_type[256], mg_error *err)
{
	const char *id = ref->digest ? ref->digest : ref->tag;
	mg_remote_call c;
	int rc = mg_remote__call_start(&c, r, "GET", ref->repo, "manifests", id, 0, err);
	snprintf(c.what, sizeof(c.what), ref->digest ? "manifest %s" : "tag '%s'", id);
	mg_http_req *q = &c.q;
	size_t start = out->len;
	q->accept = MG_ACCEPT_MANIFESTS;
	q->out = out;
	q->out_max = MG_MANIFEST_MAX;
	rc = mg_remote__call_send(&c, rc, err);
	if (!rc && q->status != 200)
		rc = mg_remote__call_status(&c, err);
	if (!rc) {
		mg_digest_bytes(out->data + start, out->len - start, digest);
		const char *want = ref->digest ? ref->digest : q->docker_digest[0] ? q->docker_digest : NULL;
		if (want && mg_digest_valid(want) && strcmp(want, digest))
			rc = mg_error_set(err, MG_ECORRUPT, "manifest %s of '%s/%s' was corrupted in "
					  "transfer: its bytes hash to %s", want, r->name, ref->repo, digest);
		if (media_type)
			snprintf(media_type, 256, "%.*s", (int)strcspn(q->content_type_out, ";"),
				 q->content_type_out);
	}
	mg_remote__call_end(&c);
	return rc;
}

int mg_remote_put_manifest(mg_remote *r, const char *repo, const char *tag, const void *data,
			   size_t len, const char *media_type, mg_error *err)
{
	char digest[MG_DIGEST_SIZE];
	mg_digest_bytes(data, len, digest);
	mg_remote_call c;
	int rc = mg_remote__call_start(&c, r, "PUT", repo, "manifests", tag ? tag : digest, 1, err);
	snprintf(c.what, sizeof(c.what), "manifest %s", digest);
	c.q.body = data;
	c.q.body_len = len;
	c.q.content_type = media_type ? media_type : MG_MEDIA_MANIFEST;
	rc = mg_remote__call_send(&c, rc, err);
	if (!rc && c.q.status != 201 && c.q.status != 200)
		rc = mg_remote__call_status(&c, err);
	mg_remote__call_end(&c);
	return rc;
}

/* ---- blobs ------------------------------------------------------------ */

int mg_remote_has_blob(mg_remote *r, const char *repo, const char *digest, uint64_t size,
		       int *has, mg_error *err)
{
	mg_remote_call c;
	int rc = mg_remote__call_start(&c, r, "HEAD", repo, "blobs", digest, 0, err);
	snprintf(c.what, sizeof(c.what), "blob %s", digest);
	c.q.follow = 1;
	rc = mg_remote__call_send(&c, rc, err);
	*has = !rc && c.q.status == 200 &&
	       (c.q.content_length < 0 || (uint64_t)c.q.content_length == size);
	if (!rc && c.q.status != 200 && c.q.status != 404)
		rc = mg_remote__call_status(&c, err);
	mg_remote__call_end(&c);
	return rc;
}

/* POST to the uploads endpoint (with query, e.g. a mount); the answer's
 * status and Location. */
static int start_upload(mg_remote *r, const char *repo, const char *query, const char *scope,
			long *status, mg_buf *loc, mg_error *err)
{
	mg_buf url = MG_BUF_INIT;
	mg_http_req q;
	int rc = mg_remote__url(&url, r, repo, "blobs", "uploads/", err);
	if (!rc && query)
		rc = mg_buf_puts(&url, query, err);
	mg_http_req_init(&q, "POST", url.data);
	q.scope = scope;
	if (!rc)
		rc = mg_remote__do(r, &q, err);
	*status = q.status;
	if (!rc && q.status != 202 && q.status != 201)
		rc = mg_remote__status(r, &q, repo, "a blob upload", err);
	if (!rc && q.status == 202)
		rc = location_url(loc, r, q.location, NULL, err);
	mg_http_req_free(&q);
	mg_buf_free(&url);
	return rc;
}

static void cancel_upload(mg_remote *r, const char *url, const char *scope)
{
	mg_http_req q;
	mg_http_req_init(&q, "DELETE", url);
	q.scope = scope;
	mg_remote__do(r, &q, NULL);
	mg_http_req_free(&q);
}

int mg_remote_mount_blob(mg_remote *r, const char *repo, const char *from, const char *digest,
			 int *mounted, mg_error *err)
{
	char scope[1200], query[600];
	snprintf(scope, sizeof(scope), "repository:%s:pull,push repository:%s:pull", repo, from);
	snprintf(query, sizeof(query), "?mount=%s&from=%s", digest, from);
	mg_buf loc = MG_BUF_INIT;
	long status = 0;
	int rc = start_upload(r, repo, query, scope, &status, &loc, err);
	*mounted = !rc && status == 201;
	if (!rc && status == 202) /* declined: an upload was started instead */
		cancel_upload(r, loc.data, scope);
	mg_buf_free(&loc);
	return rc;
}

/* PUT url (a Location with ?digest=) with the body of q (or none). */
static int finish_upload(mg_remote *r, mg_http_req *q, const char *repo, const char *digest,
			 mg_error *err)
{
	int rc = mg_remote__do(r, q, err);
	if (!rc && q->status != 201) {
		char what[300];
		snprintf(what, sizeof(what), "blob %s", digest);
		rc = mg_remote__status(r, q, repo, what, err);
		if (q->status == 400)
			rc = mg_error_set(err, MG_ECORRUPT, "registry '%s' refused blob %s of '%s' (400): the "
					  "bytes it received do not match the digest", r->name, digest, repo);
	}
	return rc;
}

/* Where the registry says an interrupted upload stopped (GET on the upload
 * URL): 0 and *off; 1 when it no longer knows the upload (404: distribution
 * answers so to an upload URL older than its last answer, and after a
 * PATCH whose answer was lost the client has no newer one); else an error
 * that names the registry and the repository. */
static int upload_offset(mg_remote *r, const char *repo, mg_buf *loc, const char *scope,
			 uint64_t size, const char *what, uint64_t *off, mg_error *err)
{
	mg_http_req q;
	mg_http_req_init(&q, "GET", loc->data);
	q.scope = scope;
	mg_error e = {0};
	int rc = mg_remote__do(r, &q, &e);
	int64_t end = !rc && q.status == 204 ? mg_http_range_end(q.range) : -1;
	char why[sizeof(e.msg) + 8];
	if (rc)
		snprintf(why, sizeof(why), ": %s", e.msg);
	else
		snprintf(why, sizeof(why), " (%ld%s%s)", q.status, q.range[0] ? ", Range " : "", q.range);
	if (!rc && q.status == 404)
		rc = 1;
	else if (rc || end < 0 || (uint64_t)end > size)
		rc = mg_error_set(err, rc ? rc : MG_ENET, "the upload of '%s' to repository '%s' on "
				  "registry '%s' was interrupted, and the registry cannot say where it "
				  "stopped%s", what ? what : "a blob", repo, r->name, why);
	if (!rc && q.location[0])
		rc = location_url(loc, r, q.location, NULL, err);
	if (!rc)
		*off = (uint64_t)end;
	mg_http_req_free(&q);
	return rc;
}

/* Between two chunks: 1 stops the upload, 0 goes on, < 0 is an error. */
typedef int (*between_fn)(void *ctx, mg_error *err);

/* Sends size bytes of fd in PATCH chunks, hashing them (once each) when
 * hash is set. Chunks start at first bytes and double up to the chunk
 * size; between them, between (if set) may stop the upload (*stopped = 1).
 * The registry may ignore Content-Range, so the Range of each answer says
 * what it holds. After a failure (an answer lost with its connection, 5xx,
 * a Range other than expected) the upload goes on from where the registry
 * says it stopped, or starts over when the registry no longer knows it or
 * holds bytes it was not sent there; at most max_retries times. */
static int send_chunks(mg_remote *r, const char *repo, mg_buf *loc, const char *scope, int fd,
		       uint64_t size, mg_hash *hash, uint64_t first, between_fn between, void *bctx,
		       int *stopped, const char *what, mg_error *err)
{
	uint64_t off = 0, hashed = 0, chunk = first < r->o.chunk_size ? first : r->o.chunk_size;
	int failures = 0, rc = 0;
	int max = r->o.max_retries > 0 ? r->o.max_retries : 4;
	while (!rc && (off < size || (size == 0 && off == 0 && !failures))) {
		uint64_t n = size - off < chunk ? size - off : chunk;
		char crange[96];
		snprintf(crange, sizeof(crange), "Content-Range: %llu-%llu", (unsigned long long)off,
			 (unsigned long long)(off + n - (n > 0)));
		mg_http_req q;
		mg_http_req_init(&q, "PATCH", loc->data);
		q.scope = scope;
		q.body_fd = fd;
		q.body_off = off;
		q.body_len = n;
		q.hash = hash;
		q.hashed = &hashed;
		q.replayable = 0;
		q.content_type = "application/octet-stream";
		q.header = crange;
		q.what = what;
		q.total = size;
		mg_error e = {0};
		int prc = mg_remote__do(r, &q, &e);
		int64_t end = !prc && q.status == 202 ? mg_http_range_end(q.range) : -1;
		int again = 0; /* 1: start a new upload */
		if (end >= 0 && (uint64_t)end == off + n) {
			rc = location_url(loc, r, q.location, NULL, err);
			off += n;
			if (size == 0)
				break;
			chunk = chunk > r->o.chunk_size / 2 ? r->o.chunk_size : chunk * 2;
			int b = !rc && between && off < size ? between(bctx, err) : 0;
			if (b > 0)
				*stopped = 1;
			if (b)
				rc = b < 0 ? b : 0;
			if (b > 0)
				break;
		} else if (!prc && q.status != 202 && q.status < 500 && q.status != 416) {
			rc = mg_remote__status(r, &q, repo, "a blob upload", err);
		} else if (e.code && e.code != MG_ENET) {
			rc = mg_error_set(err, e.code, "%s", e.msg);
		} else if (++failures > max) {
			rc = e.code ? mg_error_set(err, e.code, "%s", e.msg)
				    : mg_error_set(err, MG_ENET, "registry '%s' kept failing an upload to '%s' "
						   "(%ld) after %d attempts", r->name, repo, q.status, failures);
		} else if (end >= 0 && (uint64_t)end < off + n) { /* it kept part of the chunk */
			rc = location_url(loc, r, q.location, NULL, err);
			off = (uint64_t)end;
		} else if (end >= 0) { /* it appended where it was not sent: the upload is spoilt */
			again = 1;
		} else { /* ask where it stopped, and go on from there */
			usleep((useconds_t)mg_http_backoff_ms(failures, r->o.backoff_ms ? r->o.backoff_ms : 500,
							      (double)rand() / RAND_MAX) * 1000);
			rc = upload_offset(r, repo, loc, scope, size, what, &off, err);
			again = rc == 1;
		}
		if (again) {
			long status;
			rc = start_upload(r, repo, NULL, scope, &status, loc, err);
			off = 0;
		}
		mg_http_req_free(&q);
	}
	return rc;
}

static int push_blob_fd(mg_remote *r, const char *repo, int fd, uint64_t size, const char *digest,
			char digest_out[MG_DIGEST_SIZE], const char *what, mg_error *err);

int mg_remote_push_blob_fd(mg_remote *r, const char *repo, int fd, uint64_t size,
			   const char *digest, char digest_out[MG_DIGEST_SIZE], const char *what,
			   mg_error *err)
{
	int rc = push_blob_fd(r, repo, fd, size, digest, digest_out, what, err);
	if (!rc)
		mg_http_progress_done(r->http, MG_PROGRESS_UPLOAD, what, size);
	return rc;
}

static int push_blob_fd(mg_remote *r, const char *repo, int fd, uint64_t size, const char *digest,
			char digest_out[MG_DIGEST_SIZE], const char *what, mg_error *err)
{
	char scope[600];
	mg_remote__scope(scope, sizeof(scope), repo, 1);
	mg_buf loc = MG_BUF_INIT, url = MG_BUF_INIT;
	mg_hash *hash = NULL;
	long status;
	int rc = 0;
	int max = r->o.max_retries > 0 ? r->o.max_retries : 4;
	if (digest && size <= r->o.chunk_size) {
		/* monolithic: POST, then PUT with the whole body; a failure
		 * starts a new upload (a half-received PUT spoils the old one) */
		for (int attempt = 1;; attempt++) {
			mg_error e = {0};
			rc = start_upload(r, repo, NULL, scope, &status, &loc, err);
			if (!rc)
				rc = location_url(&url, r, loc.data, digest, err);
			if (rc)
				break;
			mg_http_req q;
			mg_http_req_init(&q, "PUT", url.data);
			q.scope = scope;
			q.body_fd = fd;
			q.body_len = size;
			q.replayable = 0;
			q.content_type = "application/octet-stream";
			q.what = what;
			q.total = size;
			rc = finish_upload(r, &q, repo, digest, &e);
			mg_http_req_free(&q);
			if (!rc || rc != MG_ENET || attempt > max) {
				if (rc)
					*err = e;
				break;
			}
			usleep((useconds_t)mg_http_backoff_ms(attempt, r->o.backoff_ms ? r->o.backoff_ms : 500,
							      (double)rand() / RAND_MAX) * 1000);
		}
		if (!rc)
			memcpy(digest_out, digest, MG_DIGEST_SIZE);
		goto done;
	}
	if (!digest && (rc = mg_hash_new(&hash, err)))
		goto done;
	int stopped = 0;
	if ((rc = start_upload(r, repo, NULL, scope, &status, &loc, err)))
		goto done;
	char got[MG_DIGEST_SIZE];
	rc = send_chunks(r, repo, &loc, scope, fd, size, hash, r->o.chunk_size, NULL, NULL, &stopped,
			 what, err);
	if (!rc && hash)
		mg_hash_final(hash, got);
	else if (!rc)
		memcpy(got, digest, MG_DIGEST_SIZE);
	if (!rc)
		rc = location_url(&url, r, loc.data, got, err);
	if (!rc) {
		mg_http_req q;
		mg_http_req_init(&q, "PUT", url.data);
		q.scope = scope;
		rc = finish_upload(r, &q, repo, got, err);
		mg_http_req_free(&q);
	}
	if (!rc)
		memcpy(digest_out, got, MG_DIGEST_SIZE);
	else if (loc.data)
		cancel_upload(r, loc.data, scope);
done:
	mg_hash_free(hash);
	mg_buf_free(&loc);
	mg_buf_free(&url);
	return rc;
}

typedef struct race {
	mg_remote *r;
	const char *repo;
	uint64_t size;
	mg_digest_poll_fn poll;
	void *ctx;
	int known;
	char digest[MG_DIGEST_SIZE];
} race;

/* Between chunks: once the digest is known, stop when the registry has
 * the blob. */
static int race_between(void *ctx, mg_error *err)
{
	race *x = ctx;
	if (x->known)
		return 0;
	int rc = x->poll(x->ctx, 0, x->digest, err);
	if (rc <= 0)
		return rc;
	x->known = 1;
	int has = 0;
	rc = mg_remote_has_blob(x->r, x->repo, x->digest, x->size, &has, err);
	return rc ? rc : has;
}

int mg_remote_push_blob_fd_racing(mg_remote *r, const char *repo, int fd, uint64_t size,
				  mg_digest_poll_fn poll, void *ctx, char digest_out[MG_DIGEST_SIZE],
				  int *existed, const char *what, mg_error *err)
{
	char scope[600];
	mg_remote__scope(scope, sizeof(scope), repo, 1);
	mg_buf loc = MG_BUF_INIT, url = MG_BUF_INIT;
	race x = {r, repo, size, poll, ctx, 0, ""};
	long status;
	int stopped = 0;
	*existed = 0;
	/* small chunks first: a blob the registry has costs little */
	int rc = start_upload(r, repo, NULL, scope, &status, &loc, err);
	if (!rc)
		rc = send_chunks(r, repo, &loc, scope, fd, size, NULL, 8u << 20, race_between, &x,
				 &stopped, what, err);
	if (!rc && stopped) {
		cancel_upload(r, loc.data, scope);
		*existed = 1;
	} else if (!rc) {
		if (!x.known && (rc = poll(ctx, 1, x.digest, err)) == 1)
			rc = 0;
		if (!rc)
			rc = location_url(&url, r, loc.data, x.digest, err);
		if (!rc) {
			mg_http_req q;
			mg_http_req_init(&q, "PUT", url.data);
			q.scope = scope;
			rc = finish_upload(r, &q, repo, x.digest, err);
			mg_http_req_free(&q);
		}
	}
	if (!rc)
		memcpy(digest_out, x.digest, MG_DIGEST_SIZE);
	else if (loc.data && !stopped)
		cancel_upload(r, loc.data, scope);
	if (!rc)
		mg_http_progress_done(r->http, MG_PROGRESS_UPLOAD, what, size);
	mg_buf_free(&loc);
	mg_buf_free(&url);
	return rc;
}

int mg_remote_push_blob_bytes(mg_remote *r, const char *repo, const void *data, size_t len,
			      char digest_out[MG_DIGEST_SIZE], mg_error *err)
{
	char scope[600];
	mg_remote__scope(scope, sizeof(scope), repo, 1);
	mg_digest_bytes(data, len, digest_out);
	int has = 0;
	int rc = mg_remote_has_blob(r, repo, digest_out, len, &has, err);
	if (rc || has)
		return rc;
	mg_buf loc = MG_BUF_INIT, url = MG_BUF_INIT;
	long status;
	if (!(rc = start_upload(r, repo, NULL, scope, &status, &loc, err)) &&
	    !(rc = location_url(&url, r, loc.data, digest_out, err))) {
		mg_http_req q;
		mg_http_req_init(&q, "PUT", url.data);
		q.scope = scope;
		q.body = data;
		q.body_len = len;
		q.content_type = "application/octet-stream";
		rc = finish_upload(r, &q, repo, digest_out, err);
		mg_http_req_free(&q);
	}
	mg_buf_free(&loc);
	mg_buf_free(&url);
	return rc;
}

int mg_remote_read_blob(mg_remote *r, const char *repo, const char *digest, size_t max,
			mg_buf *out, mg_error *err)
{
	size_t start = out->len;
	mg_remote_call c;
	int rc = mg_remote__call_start(&c, r, "GET", repo, "blobs", digest, 0, err);
	snprintf(c.what, sizeof(c.what), "blob %s", digest);
	c.q.follow = 1;
	c.q.out = out;
	c.q.out_max = start + max;
	rc = mg_remote__call_send(&c, rc, err);
	if (!rc && c.q.status != 200)
		rc = mg_remote__call_status(&c, err);
	if (!rc) {
		char got[MG_DIGEST_SIZE];
		mg_digest_bytes(out->data + start, out->len - start, got);
		if (strcmp(got, digest))
			rc = mg_error_set(err, MG_ECORRUPT, "blob %s of '%s/%s' was corrupted in transfer: "
					  "its bytes hash to %s", digest, r->name, repo, got);
	}
	if (rc && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	mg_remote__call_end(&c);
	return rc;
}

static int vfile_sink(void *ctx, const void *data, size_t len, mg_error *err)
{
	return mg_vfile_write(ctx, data, len, err);
}

/* A download is over: verified at once, its file lets go of its thread,
 * buffers and descriptor; a refusal (404) is reported after the run. */
static int vfile_done(void *ctx, const mg_http_req *q, mg_error *err)
{
	return q->status == 200 || q->status == 206 ? mg_vfile_verify(ctx, err) : 0;
}

/* Downloads are described this many at a time: a request's record takes a
 * few KiB, and memory stays the same whatever the number of layers. */
#define FETCH_WINDOW 256

int mg_remote_fetch_blobs(mg_remote *r, const char *repo, const mg_desc *descs, size_t n,
			  mg_vfile *const *files, mg_error *err)
{
	char scope[600];
	mg_remote__scope(scope, sizeof(scope), repo, 0);
	size_t cap = n > FETCH_WINDOW ? FETCH_WINDOW : n ? n : 1;
	mg_http_req *qs = calloc(cap, sizeof(*qs));
	mg_http_req **qp = calloc(cap, sizeof(*qp));
	mg_buf *urls = calloc(cap, sizeof(*urls));
	int rc = qs && qp && urls ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
	if (!rc && r->unchecked) /* the URLs below need the registry's scheme */
		rc = check_v2(r, err);
	for (size_t at = 0; !rc && at < n; at += cap) {
		size_t k = n - at < cap ? n - at : cap;
		for (size_t j = 0; !rc && j < k; j++) {
			const mg_desc *d = &descs[at + j];
			mg_http_req_free(&qs[j]); /* of the window before */
			rc = mg_remote__url(&urls[j], r, repo, "blobs", d->digest, err);
			mg_http_req_init(&qs[j], "GET", urls[j].data);
			qs[j].scope = scope;
			qs[j].follow = 1;
			qs[j].resume = 1;
			qs[j].sink = vfile_sink;
			qs[j].sink_ctx = files[at + j];
			qs[j].done = vfile_done;
			qs[j].what = d->title ? d->title : d->digest;
			qs[j].total = d->size;
			qp[j] = &qs[j];
		}
		if (!rc)
			rc = mg_http_run(r->http, qp, k, (size_t)r->o.parallel, err);
		for (size_t j = 0; !rc && j < k; j++) { /* verify everything first ... */
			char what[300];
			snprintf(what, sizeof(what), "blob %s", descs[at + j].digest);
			if (qs[j].status != 200 && qs[j].status != 206)
				rc = mg_remote__status(r, &qs[j], repo, what, err);
			else
				rc = mg_vfile_verify(files[at + j], err);
		}
	}
	for (size_t i = 0; !rc && i < n; i++) /* ... then put it in place */
		rc = mg_vfile_commit(files[i], err);
	for (size_t i = 0; !rc && i < n; i++)
		mg_http_progress_done(r->http, MG_PROGRESS_DOWNLOAD, descs[i].title ? descs[i].title : descs[i].digest,
				      descs[i].size);
	for (size_t j = 0; qs && urls && j < cap; j++) {
		mg_http_req_free(&qs[j]);
		mg_buf_free(&urls[j]);
	}
	free(qs);
	free(qp);
	free(urls);
	return rc;
}

int mg_remote_get_referrers(mg_remote *r, const char *repo, const char *digest,
			    const char *artifact_type, mg_buf *out, mg_error *err)
{
	mg_buf id = MG_BUF_INIT;
	int rc = mg_buf_printf(&id, err, "%s%s%s", digest, artifact_type ? "?artifactType=" : "",
			       artifact_type ? artifact_type : "");
	mg_remote_call c;
	int rc2 = mg_remote__call_start(&c, r, "GET", repo, "referrers", mg_buf_cstr(&id), 0,
					rc ? NULL : err);
	rc = rc ? rc : rc2;
	snprintf(c.what, sizeof(c.what), "referrers of %s", digest);
	mg_http_req *q = &c.q;
	size_t start = out->len;
	q->accept = MG_MEDIA_INDEX;
	q->out = out;
	q->out_max = MG_MANIFEST_MAX;
	rc = mg_remote__call_send(&c, rc, err);
	/* no Referrers API: 404, or an answer that is not an image index */
	if (!rc && (q->status == 404 || (q->status == 200 && !strstr(q->content_type_out, MG_MEDIA_INDEX)))) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
		rc = mg_error_set(err, MG_ENOTFOUND, "registry '%s' has no Referrers API", r->name);
	} else if (!rc && q->status != 200) {
		rc = mg_remote__call_status(&c, err);
	}
	mg_remote__call_end(&c);
	mg_buf_free(&id);
	return rc;
}
