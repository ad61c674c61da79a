/* net: the HTTP engine under the OCI Distribution client (registry/) and
 * plain web requests (web.h).
 * No libcurl type appears here; only http.c includes curl.h.
 *
 * A request describes one logical exchange (method, URL, body source,
 * response sink). mg_http_run performs requests, several at once, and owns
 * everything transport-level: retries of 429/5xx and dropped connections
 * with exponential backoff, jitter and Retry-After; resuming GET bodies
 * with Range; redirects; the registry's auth challenge (basic, or bearer
 * tokens fetched for the request's scope). It never prints and never puts a
 * credential in an error message.
 *
 * Where credentials go: the Basic credentials, bearer tokens and the
 * caller's header lines (`headers`, which may carry a token) go only to
 * URLs of the client's origin (mg_http_set_origin): the same scheme, host
 * and port. Every other URL a request reaches (an upload Location, a
 * redirect, a blob on another host) gets the request without them. Unless
 * the client is insecure, a URL on plain HTTP is refused when the origin is
 * HTTPS (MG_ENET), and so is a token realm on plain HTTP. */
#ifndef MG_NET_HTTP_H
#define MG_NET_HTTP_H

#include "net/net.h"
#include "util/util.h"

typedef struct mg_http mg_http;

/* Receives response body bytes of a 2xx answer, in order; a non-zero
 * return stops the transfer with that error (never retried). */
typedef int (*mg_http_sink_fn)(void *ctx, const void *data, size_t len, mg_error *err);

typedef struct mg_http_req {
	const char *method; /* GET HEAD PUT POST PATCH DELETE */
	const char *url;
	const char *scope;        /* bearer scope: "repository:team/kws:pull" */
	const char *accept;       /* Accept header, or NULL */
	const char *content_type; /* of the body, or NULL */
	const char *header;       /* one more header line, or NULL */
	/* more header lines, NULL-terminated, or NULL; they may carry
	 * credentials, so they go only to the origin */
	const char *const *headers;
	/* body: body_len bytes at body, or body_len bytes of fd from body_off */
	const void *body;
	int body_fd; /* -1 for none */
	uint64_t body_off;
	uint64_t body_len;
	/* When hash is set, file bytes at offsets >= *hashed are hashed as they
	 * are sent, and *hashed advances: a resent range is hashed once. */
	mg_hash *hash;
	uint64_t *hashed;
	int replayable; /* the body may be resent whole after a failure */
	/* response body of a 2xx answer: to out (at most out_max), or to sink */
	mg_buf *out;
	size_t out_max;
	mg_http_sink_fn sink;
	void *sink_ctx;
	/* Called with sink_ctx once the request is over with an answer that is
	 * not retried (status set), so what the sink holds can be let go as
	 * each request ends; a non-zero return stops the run with that error. */
	int (*done)(void *ctx, const struct mg_http_req *r, mg_error *err);
	int resume; /* a GET: continue a dropped body with Range */
	uint64_t resume_from; /* with resume: the body's first resume_from bytes
			       * are the caller's already; ask for the rest */
	int follow; /* follow redirects (blob GETs), at most 5 */
	const char *what; /* progress label; NULL: no progress */
	uint64_t total;   /* progress: expected bytes */

	/* results */
	long status;
	int tls_error; /* the TLS handshake or verification failed */
	char location[4096];
	char range[128];       /* Range header of the answer */
	char link[2048];       /* Link header of the answer (the next page of a list) */
	char content_type_out[256];
	char docker_digest[MG_DIGEST_SIZE];
	int64_t content_length; /* Content-Length of the answer, -1 when it has none */
	mg_buf errbody; /* body of a non-2xx answer: its first 64 KiB, the rest unread */
} mg_http_req;

/* A request with every field at its default (no body, body_fd -1). */
void mg_http_req_init(mg_http_req *r, const char *method, const char *url);
void mg_http_req_free(mg_http_req *r);

/* A client for one registry: host is "host[:port]" for messages. */
int mg_http_new(mg_http **out, const char *host, const mg_remote_opts *o, const char *user,
		const char *password, mg_error *err);
void mg_http_free(mg_http *h);
/* The origin of the client: url's scheme, host and port are where
 * credentials may go, and an https origin is not left for plain HTTP.
 * Until it is set, no request carries credentials. */
int mg_http_set_origin(mg_http *h, const char *url, mg_error *err);

/* Performs n requests, in order, at most parallel at once: a request is
 * begun only while fewer than parallel are begun and not over (waiting to
 * be retried counts), so its sink, and the libcurl handle, are held by at
 * most parallel requests at a time. Returns 0 when every
 * request got an HTTP answer that is not retried (the caller checks
 * status: 2xx, 4xx); else the first error: MG_ENET (unreachable, TLS, 5xx
 * or 429 after the retries), or the error a sink returned. */
int mg_http_run(mg_http *h, mg_http_req *const *reqs, size_t n, size_t parallel, mg_error *err);
int mg_http_do(mg_http *h, mg_http_req *r, mg_error *err);
/* Says to the progress function, once, that the file labelled what (total
 * bytes) has gone up or come down whole (kind MG_PROGRESS_UPLOAD or
 * _DOWNLOAD). Requests report only how far they are: the caller, which
 * checks the bytes (a digest, the registry's 201), says when a file is
 * done, so nothing is called downloaded that is then refused. */
void mg_http_progress_done(mg_http *h, int kind, const char *what, uint64_t total);

/* The registry's error message from an error body ("manifest unknown"),
 * or "". */
void mg_http_error_text(const mg_http_req *r, char *out, size_t outlen);

/* ---- pure helpers (tested directly) --------------------------------- */

/* 1 when the absolute URLs a and b have the same origin: scheme and host
 * (in any case) and port (the scheme's default when none is given) as
 * libcurl parses them, IPv6 literals compared as addresses; 0 when they
 * differ, and for anything that is not an absolute http(s) URL. (http.c) */
int mg_http_same_origin(const char *a, const char *b);
/* url for a message: without user:password@, query or fragment (they may
 * hold secrets). (http.c) */
void mg_http_url_public(const char *url, char *out, size_t cap);

/* The token of a token service's JSON answer ("token" or "access_token");
 * caller frees. (http_parse.c) */
int mg_auth_parse_token(const char *json, size_t len, char **token, mg_error *err);

typedef struct mg_challenge {
	char scheme[16]; /* "Basic" or "Bearer" */
	char realm[1024];
	char service[256];
	char scope[512];
} mg_challenge;

/* The scopes to ask a token for: want (space-separated, may be NULL) and
 * each scope of the challenge that no scope of want covers (the same
 * resource with all its actions, or "*"), into out. -1 when out is too
 * small. (http.c) */
int mg_http_merge_scopes(const char *want, const char *challenge, char *out, size_t cap);
/* Parses a WWW-Authenticate value. */
int mg_http_parse_challenge(const char *value, mg_challenge *out);
/* Seconds to wait for a Retry-After value (delta seconds or HTTP date),
 * relative to now; -1 when absent or unparsable. */
long mg_http_retry_after(const char *value, int64_t now);
/* The offset after the last byte of a "Range: 0-N" (or "bytes=0-N")
 * header: N+1; 0 for an absent or empty range; -1 when malformed. */
int64_t mg_http_range_end(const char *value);
/* The start of a "Content-Range: bytes S-E/T" header, -1 when malformed. */
int64_t mg_http_content_range_start(const char *value);
/* The target of the first link whose rel holds "next" in a Link header
 * value (RFC 8288: `<URI>; rel="next"`, links separated by commas), into
 * out: 1 when there is one, 0 when there is none, -1 when the value is
 * malformed or the target does not fit in cap. */
int mg_http_link_next(const char *value, char *out, size_t cap);
/* Backoff in milliseconds before retry number attempt (1, 2, ...):
 * base * 2^(attempt-1), capped, with +-25% jitter from rnd in [0,1). */
long mg_http_backoff_ms(int attempt, long base_ms, double rnd);

#endif
