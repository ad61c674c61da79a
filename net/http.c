/* The HTTP engine of the registry client and of web.h, the one file that
 * includes curl.h. Every request runs on a libcurl multi handle (one easy handle per
 * transfer), so a single request and many parallel blob downloads share one
 * loop with one set of rules:
 *   - 429, 5xx and dropped connections are retried a bounded number of
 *     times, after Retry-After when the registry sent one, else after an
 *     exponential backoff with jitter; a body that cannot be resent whole
 *     (a PATCH chunk) is left to the caller, who asks the registry where it
 *     stopped;
 *   - a GET body cut off half-way continues with Range from the byte it
 *     stopped at (and skips what a registry that ignores Range resends); a
 *     rest that is out of range (416) means the length announced was a lie;
 *   - what an answer may hold is bounded: a body to memory by the caller's
 *     out_max, an error body by 64 KiB, past which it is not read at all;
 *   - a 401 is answered once per request: Basic with the credentials, or a
 *     bearer token fetched from the challenge's realm for the request's
 *     scope and cached per scope;
 *   - redirects are followed here, not by libcurl, so that every hop is
 *     built by setup() under the same rule as every other request.
 * The rule, in setup() and fetch_token(): credentials (Basic, bearer
 * tokens, the caller's header lines) go only to URLs of the client's
 * origin, its scheme, host and port; any other URL (an upload Location,
 * a redirect, a blob URL) gets the request without them. A URL on plain
 * HTTP reached from an HTTPS origin (Location, redirect, token realm) is
 * refused unless insecure. Credentials never go into messages, and URLs
 * in messages lose their query and user:password@. */
#include "http.h"

#include <arpa/inet.h>
#include <assert.h>
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define ERRBODY_MAX (64u << 10)
#define MAX_REDIRECTS 5

typedef struct token {
	char *scope;
	char *token;
} token;

struct mg_http {
	char *host;
	char *origin; /* scheme://host[:port] credentials go to; NULL: none yet */
	char *user;
	char *password;
	int insecure;
	char *ca_file;
	int max_retries;
	long backoff_ms;
	int web; /* a plain web server: messages say "'host'", not "registry 'host'" */
	mg_progress_fn progress;
	void *progress_ctx;
	int basic;           /* the registry asked for Basic */
	mg_challenge bearer; /* the registry's bearer challenge, scheme "" if none */
	token *tokens;
	size_t ntokens;
	unsigned seed;
	CURLM *multi;
};

enum { X_WAIT, X_ACTIVE, X_DONE };

typedef struct xfer {
	mg_http *h;
	mg_http_req *r;
	CURL *e;
	struct curl_slist *hl;
	char errbuf[CURL_ERROR_SIZE];
	int state;
	int begun; /* started once: it counts against the parallel bound until it is over */
	int attempt;
	int auth_retried;
	char *url;     /* the URL of this hop, after a redirect; NULL: r->url */
	char *from;    /* the URL that redirected here, for messages */
	int redirects;
	int as_get;    /* a redirect turned the request into a GET (303) */
	int64_t not_before;
	int rc;
	mg_error err;
	uint64_t got;    /* body bytes delivered (resume point) */
	uint64_t skip;   /* bytes of this answer already delivered before */
	int body_seen;   /* first body byte of this attempt seen */
	uint64_t sent;   /* request body bytes sent in this attempt */
	size_t out_start;
	int failed;      /* a callback failed: err holds why */
	int errbody_cut; /* the error body reached ERRBODY_MAX: the rest was not read */
	char www_auth[2048];
	char retry_after[128];
	char content_range[128];
} xfer;

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- requests and the client ---------------------------------------- */

void mg_http_req_init(mg_http_req *r, const char *method, const char *url)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->url = url;
	r->body_fd = -1;
	r->replayable = 1;
	r->content_length = -1;
}

void mg_http_req_free(mg_http_req *r)
{
	if (r)
		mg_buf_free(&r->errbody);
}

void mg_http_free(mg_http *h)
{
	if (!h)
		return;
	if (h->multi)
		curl_multi_cleanup(h->multi);
	for (size_t i = 0; i < h->ntokens; i++) {
		free(h->tokens[i].scope);
		free(h->tokens[i].token);
	}
	free(h->tokens);
	free(h->host);
	free(h->origin);
	free(h->user);
	free(h->password);
	free(h->ca_file);
	free(h);
	curl_global_cleanup();
}

int mg_http_new(mg_http **out, const char *host, const mg_remote_opts *o, const char *user,
		const char *password, mg_error *err)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return mg_error_set(err, MG_ENET, "cannot initialise libcurl");
	mg_http *h = calloc(1, sizeof(*h));
	if (!h) {
		curl_global_cleanup();
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	h->insecure = o->insecure;
	h->max_retries = o->max_retries < 0 ? 0 : o->max_retries > 0 ? o->max_retries : 4;
	h->web = o->web;
	h->backoff_ms = o->backoff_ms > 0 ? o->backoff_ms : 500;
	h->progress = o->progress;
	h->progress_ctx = o->progress_ctx;
	h->seed = (unsigned)now_ms() ^ (unsigned)getpid();
	int ok = (h->host = strdup(host)) && (h->multi = curl_multi_init());
	if (ok && o->ca_file)
		ok = (h->ca_file = strdup(o->ca_file)) != NULL;
	if (ok && user)
		ok = (h->user = strdup(user)) && (h->password = strdup(password ? password : ""));
	if (!ok) {
		mg_http_free(h);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	*out = h;
	return 0;
}

int mg_http_set_origin(mg_http *h, const char *url, mg_error *err)
{
	char *o = strdup(url);
	if (!o)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	free(h->origin);
	h->origin = o;
	return 0;
}

/* ---- origins ---------------------------------------------------------- */

typedef struct origin {
	char *scheme, *host, *port, *zone;
} origin;

static void origin_free(origin *o)
{
	curl_free(o->scheme);
	curl_free(o->host);
	curl_free(o->port);
	curl_free(o->zone);
}

/* Parses url with libcurl's own parser, so the origin compared is the one
 * libcurl connects to. 0, or -1 for anything but an absolute http(s) URL. */
static int origin_parse(const char *url, origin *o)
{
	memset(o, 0, sizeof(*o));
	CURLU *u = curl_url();
	int rc = -1;
	if (u && !curl_url_set(u, CURLUPART_URL, url, 0) &&
	    !curl_url_get(u, CURLUPART_SCHEME, &o->scheme, 0) &&
	    !curl_url_get(u, CURLUPART_HOST, &o->host, 0) &&
	    !curl_url_get(u, CURLUPART_PORT, &o->port, CURLU_DEFAULT_PORT) &&
	    (!strcasecmp(o->scheme, "http") || !strcasecmp(o->scheme, "https")) && *o->host) {
		if (curl_url_get(u, CURLUPART_ZONEID, &o->zone, 0))
			o->zone = NULL;
		rc = 0;
	}
	curl_url_cleanup(u);
	if (rc)
		origin_free(o);
	return rc;
}

/* Hosts as libcurl gives them; IPv6 literals by their address. */
static int same_host(const char *a, const char *b)
{
	struct in6_addr x, y;
	size_t la = strlen(a), lb = strlen(b);
	if (la > 2 && lb > 2 && a[0] == '[' && b[0] == '[' && la < 64 && lb < 64) {
		char sa[64], sb[64];
		snprintf(sa, sizeof(sa), "%.*s", (int)la - 2, a + 1);
		snprintf(sb, sizeof(sb), "%.*s", (int)lb - 2, b + 1);
		if (inet_pton(AF_INET6, sa, &x) == 1 && inet_pton(AF_INET6, sb, &y) == 1)
			return !memcmp(&x, &y, sizeof(x));
	}
	return !strcasecmp(a, b);
}

int mg_http_same_origin(const char *a, const char *b)
{
	origin x, y;
	if (!a || !b || origin_parse(a, &x))
		return 0;
	if (origin_parse(b, &y)) {
		origin_free(&x);
		return 0;
	}
	int same = !strcasecmp(x.scheme, y.scheme) && same_host(x.host, y.host) &&
		   !strcmp(x.port, y.port) && !x.zone == !y.zone && (!x.zone || !strcmp(x.zone, y.zone));
	origin_free(&x);
	origin_free(&y);
	return same;
}

void mg_http_url_public(const char *url, char *out, size_t cap)
{
	const char *sep = strstr(url, "://");
	const char *auth = sep ? sep + 3 : url;
	size_t alen = strcspn(auth, "/?#");
	const char *host = auth;
	for (const char *p = auth; p < auth + alen; p++)
		if (*p == '@')
			host = p + 1;
	size_t rest = strcspn(host, "?#");
	snprintf(out, cap, "%.*s%.*s", (int)(auth - url), url, (int)rest, host);
}

static int is_https(const char *url)
{
	return !strncasecmp(url, "https://", 8);
}

/* 1 when url may carry the client's credentials. */
static int to_origin(const mg_http *h, const char *url)
{
	return h->origin && mg_http_same_origin(url, h->origin);
}

/* 1 when going to url would leave HTTPS for plain HTTP. */
static int downgrade(const mg_http *h, const char *url)
{
	return !h->insecure && h->origin && is_https(h->origin) && !strncasecmp(url, "http://", 7);
}

/* "registry " before a registry's name in messages; nothing for a web server. */
static const char *noun(const mg_http *h)
{
	return h->web ? "" : "registry ";
}

/* The error for a way to plain HTTP from an HTTPS origin: what leads to
 * url (from, or the origin), without queries or user:password@. */
static int downgrade_fail(const mg_http *h, const char *what, const char *from, const char *url,
			  mg_error *err)
{
	char f[1024], t[1024];
	mg_http_url_public(from ? from : h->origin, f, sizeof(f));
	mg_http_url_public(url, t, sizeof(t));
	if (h->web)
		return mg_error_set(err, MG_ENET, "'%s' sends %s from '%s' to plain HTTP '%s': refused, it "
				    "would travel unencrypted; --insecure allows it", h->host, what, f, t);
	return mg_error_set(err, MG_ENET, "registry '%s' sends %s from '%s' to plain HTTP '%s': refused, "
			    "it would travel unencrypted; --insecure (or MODELGATE_INSECURE_REGISTRIES=%s) "
			    "allows it", h->host, what, f, t, h->host);
}

static const char *token_for(const mg_http *h, const char *scope)
{
	for (size_t i = 0; i < h->ntokens; i++)
		if (!strcmp(h->tokens[i].scope, scope ? scope : ""))
			return h->tokens[i].token;
	return NULL;
}

static int set_token(mg_http *h, const char *scope, char *tok, mg_error *err)
{
	for (size_t i = 0; i < h->ntokens; i++)
		if (!strcmp(h->tokens[i].scope, scope ? scope : "")) {
			free(h->tokens[i].token);
			h->tokens[i].token = tok;
			return 0;
		}
	token *t = realloc(h->tokens, (h->ntokens + 1) * sizeof(*t));
	char *s = strdup(scope ? scope : "");
	if (!t || !s) {
		if (t)
			h->tokens = t;
		free(s);
		free(tok);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	h->tokens = t;
	t[h->ntokens].scope = s;
	t[h->ntokens].token = tok;
	h->ntokens++;
	return 0;
}

static void tls_options(const mg_http *h, CURL *e)
{
	if (h->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (h->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_file);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 120L);
	curl_easy_setopt(e, CURLOPT_USERAGENT, "modelgate/" MG_VERSION);
}

static int is_tls_error(CURLcode c)
{
	return c == CURLE_PEER_FAILED_VERIFICATION || c == CURLE_SSL_CACERT_BADFILE ||
	       c == CURLE_SSL_CONNECT_ERROR || c == CURLE_SSL_CERTPROBLEM ||
	       c == CURLE_SSL_ISSUER_ERROR || c == CURLE_SSL_CRL_BADFILE;
}

static int tls_fail(const mg_http *h, CURLcode c, const char *detail, mg_error *err)
{
	if (h->web)
		return mg_error_set(err, MG_ENET, "TLS with '%s' failed: %s%s%s; for a private CA use "
				    "--ca-file FILE", h->host, curl_easy_strerror(c), *detail ? ": " : "",
				    detail);
	return mg_error_set(err, MG_ENET,
			    "TLS with registry '%s' failed: %s%s%s; for a private CA use --ca-file FILE, "
			    "for a local registry --insecure (or MODELGATE_INSECURE_REGISTRIES=%s)",
			    h->host, curl_easy_strerror(c), *detail ? ": " : "", detail, h->host);
}

static size_t collect_cb(char *data, size_t size, size_t n, void *ctx)
{
	mg_buf *b = ctx;
	size_t len = size * n;
	if (b->len + len > ERRBODY_MAX || mg_buf_append(b, data, len, NULL))
		return 0;
	return len;
}

/* Fetches a bearer token for scope from the challenge's realm (with the
 * credentials when there are some). 0 and the token; 1 when the realm
 * refused the credentials; an error when it could not be asked. */
static int fetch_token(mg_http *h, const char *scope, char **tok, mg_error *err)
{
	mg_buf url = MG_BUF_INIT, body = MG_BUF_INIT;
	if (downgrade(h, h->bearer.realm))
		return downgrade_fail(h, "its credentials to the token service", NULL, h->bearer.realm,
				      err);
	CURL *e = curl_easy_init();
	int rc = e ? 0 : mg_error_set(err, MG_ENOMEM, "out of memory");
	char *svc = NULL, *sc = NULL;
	if (!rc) {
		svc = curl_easy_escape(e, h->bearer.service, 0);
		rc = mg_buf_printf(&url, err, "%s%cservice=%s", h->bearer.realm,
				   strchr(h->bearer.realm, '?') ? '&' : '?', svc ? svc : "");
	}
	/* scope may hold several scopes separated by spaces: one parameter each */
	for (const char *p = scope; !rc && p && *p;) {
		size_t n = strcspn(p, " ");
		if (n) {
			curl_free(sc);
			sc = curl_easy_escape(e, p, (int)n);
			rc = sc ? mg_buf_printf(&url, err, "&scope=%s", sc)
				: mg_error_set(err, MG_ENOMEM, "out of memory");
		}
		p += n + (p[n] == ' ');
	}
	for (int attempt = 1; !rc; attempt++) {
		char eb[CURL_ERROR_SIZE] = "";
		curl_easy_reset(e);
		tls_options(h, e);
		curl_easy_setopt(e, CURLOPT_URL, url.data);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, eb);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, collect_cb);
		curl_easy_setopt(e, CURLOPT_WRITEDATA, &body);
		if (h->user) {
			curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
			curl_easy_setopt(e, CURLOPT_USERNAME, h->user);
			curl_easy_setopt(e, CURLOPT_PASSWORD, h->password);
		}
		mg_buf_reset(&body);
		CURLcode c = curl_easy_perform(e);
		long code = 0;
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
		/* collect_cb stopped at ERRBODY_MAX: a token is never that long, and
		 * any other answer is what its status says */
		if (c == CURLE_WRITE_ERROR && code == 200) {
			rc = mg_error_set(err, MG_ECORRUPT, "the token service of registry '%s' sent "
					  "more than %u bytes", h->host, ERRBODY_MAX);
			break;
		}
		if (c == CURLE_WRITE_ERROR && code)
			c = CURLE_OK;
		if (c == CURLE_OK && code == 200) {
			rc = mg_auth_parse_token(body.data, body.len, tok, err);
			if (rc)
				mg_error_set(err, rc, "the token service of registry '%s' answered "
					     "without a token", h->host);
			break;
		}
		if (c == CURLE_OK && (code == 401 || code == 403)) {
			rc = 1;
			break;
		}
		if (is_tls_error(c)) {
			rc = tls_fail(h, c, eb, err);
			break;
		}
		if (attempt > h->max_retries || (c == CURLE_OK && code < 500 && code != 429)) {
			rc = c != CURLE_OK
				? mg_error_set(err, MG_ENET, "cannot reach the token service of registry '%s': %s",
					       h->host, eb[0] ? eb : curl_easy_strerror(c))
				: mg_error_set(err, MG_ENET, "the token service of registry '%s' answered %ld",
					       h->host, code);
			break;
		}
		usleep((useconds_t)mg_http_backoff_ms(attempt, h->backoff_ms,
						      (double)rand_r(&h->seed) / RAND_MAX) * 1000);
	}
	if (e) {
		curl_free(svc);
		curl_free(sc);
		curl_easy_cleanup(e);
	}
	mg_buf_free(&url);
	mg_buf_free(&body);
	return rc;
}

/* ---- one transfer ----------------------------------------------------- */

static void progress(xfer *x, uint64_t done, int finished)
{
	if (x->h->progress && x->r->what)
		x->h->progress(x->h->progress_ctx, x->r->body_fd >= 0 ? MG_PROGRESS_UPLOAD : MG_PROGRESS_DOWNLOAD,
			       x->r->what, done, x->r->total, finished);
}

void mg_http_progress_done(mg_http *h, int kind, const char *what, uint64_t total)
{
	if (h->progress && what)
		h->progress(h->progress_ctx, kind, what, total, total, 1);
}

static void copy_header(char *dst, size_t cap, const char *v, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, v, n);
	dst[n] = '\0';
}

/* A Content-Length value: its number, or -1 when it is not one. */
static int64_t parse_length(const char *v, size_t n)
{
	int64_t x = 0;
	if (!n || n > 18)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

static size_t header_cb(char *data, size_t size, size_t n, void *ctx)
{
	xfer *x = ctx;
	mg_http_req *r = x->r;
	size_t len = size * n;
	if (len >= 5 && !memcmp(data, "HTTP/", 5)) { /* a new answer (after a redirect) */
		r->location[0] = r->range[0] = r->content_type_out[0] = r->docker_digest[0] = '\0';
		r->link[0] = '\0';
		r->content_length = -1;
		x->www_auth[0] = x->retry_after[0] = x->content_range[0] = '\0';
		return len;
	}
	const char *colon = memchr(data, ':', len);
	if (!colon)
		return len;
	size_t klen = (size_t)(colon - data);
	const char *v = colon + 1;
	size_t vlen = len - klen - 1;
	while (vlen && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (klen == 14 && !strncasecmp(data, "content-length", klen))
		r->content_length = parse_length(v, vlen);
	static const struct {
		const char *name;
		size_t off;
		int in_req;
		size_t cap;
	} known[] = {
		{"location", offsetof(mg_http_req, location), 1, sizeof(((mg_http_req *)0)->location)},
		{"range", offsetof(mg_http_req, range), 1, sizeof(((mg_http_req *)0)->range)},
		{"link", offsetof(mg_http_req, link), 1, sizeof(((mg_http_req *)0)->link)},
		{"content-type", offsetof(mg_http_req, content_type_out), 1,
		 sizeof(((mg_http_req *)0)->content_type_out)},
		{"docker-content-digest", offsetof(mg_http_req, docker_digest), 1, MG_DIGEST_SIZE},
		{"www-authenticate", offsetof(xfer, www_auth), 0, sizeof(((xfer *)0)->www_auth)},
		{"retry-after", offsetof(xfer, retry_after), 0, sizeof(((xfer *)0)->retry_after)},
		{"content-range", offsetof(xfer, content_range), 0, sizeof(((xfer *)0)->content_range)},
	};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strlen(known[i].name) == klen && !strncasecmp(known[i].name, data, klen)) {
			char *base = known[i].in_req ? (char *)r : (char *)x;
			copy_header(base + known[i].off, known[i].cap, v, vlen);
		}
	return len;
}

/* The body of an answer that is not 2xx: its first ERRBODY_MAX bytes. The
 * rest is not read: the transfer stops there (finish() takes the answer as
 * it is), so an error body that never ends costs no more than that. */
static size_t keep_errbody(xfer *x, const char *data, size_t len)
{
	mg_buf *b = &x->r->errbody;
	size_t k = len < ERRBODY_MAX - b->len ? len : ERRBODY_MAX - b->len;
	if (k < len || mg_buf_append(b, data, k, NULL)) {
		x->errbody_cut = 1;
		return 0;
	}
	return len;
}

static size_t write_cb(char *data, size_t size, size_t n, void *ctx)
{
	xfer *x = ctx;
	mg_http_req *r = x->r;
	size_t len = size * n;
	long code = 0;
	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &code);
	if (code < 200 || code >= 300)
		return keep_errbody(x, data, len);
	if (!x->body_seen) {
		x->body_seen = 1;
		if (x->got && code == 206) {
			if (mg_http_content_range_start(x->content_range) != (int64_t)x->got) {
				x->failed = 1;
				mg_error_set(&x->err, MG_ENET, "%s'%s' resumed '%s' at the wrong offset",
					     noun(x->h), x->h->host, r->what ? r->what : r->url);
				return 0;
			}
		} else if (x->got) {
			x->skip = x->got; /* the registry ignored Range: drop what we have */
		}
	}
	const char *p = data;
	size_t left = len;
	if (x->skip) {
		size_t k = x->skip < left ? (size_t)x->skip : left;
		x->skip -= k;
		p += k;
		left -= k;
	}
	if (!left)
		return len;
	int rc = 0;
	if (r->sink)
		rc = r->sink(r->sink_ctx, p, left, &x->err);
	else if (r->out && r->out->len + left > r->out_max)
		rc = mg_error_set(&x->err, MG_ECORRUPT, "%s'%s' sent more than %zu bytes for '%s'",
				  noun(x->h), x->h->host, r->out_max, r->what ? r->what : r->url);
	else if (r->out)
		rc = mg_buf_append(r->out, p, left, &x->err);
	if (rc) {
		x->failed = 1;
		return 0;
	}
	x->got += left;
	progress(x, x->got, 0);
	return len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *ctx)
{
	xfer *x = ctx;
	mg_http_req *r = x->r;
	uint64_t left = r->body_len - x->sent;
	size_t want = size * n < left ? size * n : (size_t)left;
	if (!want)
		return 0;
	if (r->body_fd < 0) {
		memcpy(buf, (const char *)r->body + x->sent, want);
	} else {
		uint64_t off = r->body_off + x->sent;
		ssize_t got;
		do
			got = pread(r->body_fd, buf, want, (off_t)off);
		while (got < 0 && errno == EINTR);
		if (got <= 0) {
			x->failed = 1;
			if (got < 0)
				mg_error_sys(&x->err, MG_EIO, errno, "cannot read '%s'", r->what ? r->what : "blob");
			else
				mg_error_set(&x->err, MG_EIO, "'%s' became shorter while it was sent",
					     r->what ? r->what : "blob");
			return CURL_READFUNC_ABORT;
		}
		want = (size_t)got;
		if (r->hash && off + want > *r->hashed) {
			uint64_t from = *r->hashed > off ? *r->hashed - off : 0;
			mg_hash_update(r->hash, buf + from, want - (size_t)from);
			*r->hashed = off + want;
		}
	}
	x->sent += want;
	progress(x, r->body_off + x->sent, 0);
	return want;
}

static int has_body(const mg_http_req *r)
{
	return r->body || r->body_fd >= 0;
}

static const char *hop_url(const xfer *x)
{
	return x->url ? x->url : x->r->url;
}

/* Back to the request's own URL (a retry starts there, not at a redirect's
 * target, which may have expired). */
static void restart(xfer *x)
{
	free(x->url);
	free(x->from);
	x->url = x->from = NULL;
	x->redirects = 0;
	x->as_get = 0;
}

static int setup(xfer *x)
{
	mg_http *h = x->h;
	mg_http_req *r = x->r;
	CURL *e = x->e;
	const char *url = hop_url(x);
	const char *method = x->as_get ? "GET" : r->method;
	int own = to_origin(h, url);
	if (downgrade(h, url))
		return downgrade_fail(h, method, x->from, url, &x->err);
	curl_easy_reset(e);
	tls_options(h, e);
	curl_slist_free_all(x->hl);
	x->hl = NULL;
	x->sent = 0;
	x->skip = 0;
	x->body_seen = 0;
	x->errbody_cut = 0;
	x->errbuf[0] = '\0';
	mg_buf_reset(&r->errbody);
	if (r->out && !r->resume) {
		r->out->len = x->out_start;
		if (r->out->data)
			r->out->data[x->out_start] = '\0';
		x->got = 0;
	}
	char line[512];
	struct curl_slist *hl = curl_slist_append(NULL, "Expect:");
	if (hl && r->accept) {
		snprintf(line, sizeof(line), "Accept: %s", r->accept);
		hl = curl_slist_append(hl, line);
	}
	if (hl && r->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", r->content_type);
		hl = curl_slist_append(hl, line);
	}
	if (hl && r->header)
		hl = curl_slist_append(hl, r->header);
	for (size_t i = 0; hl && own && r->headers && r->headers[i]; i++)
		hl = curl_slist_append(hl, r->headers[i]);
	if (hl && r->resume && x->got) {
		snprintf(line, sizeof(line), "Range: bytes=%llu-", (unsigned long long)x->got);
		hl = curl_slist_append(hl, line);
	}
	if (!hl)
		return mg_error_set(&x->err, MG_ENOMEM, "out of memory");
	x->hl = hl;
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (x->as_get) {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	} else if (has_body(r) || !strcmp(r->method, "PUT") || !strcmp(r->method, "PATCH")) {
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->body_len);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, read_cb);
		curl_easy_setopt(e, CURLOPT_READDATA, x);
		curl_easy_setopt(e, CURLOPT_UPLOAD_BUFFERSIZE, 512L * 1024);
		if (strcmp(r->method, "PUT"))
			curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (!strcmp(r->method, "POST")) {
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, 0L);
	} else if (strcmp(r->method, "GET")) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r->method);
	}
	const char *tok = own ? token_for(h, r->scope) : NULL;
	if (!own) {
		/* another origin: no credentials */
	} else if (tok) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, tok);
	} else if (h->basic && h->user) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, h->user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, h->password);
	}
	return 0;
}

/* The request path without its query (upload URLs carry state tokens). */
static void url_path(const char *url, char *out, size_t cap)
{
	const char *p = strstr(url, "://");
	p = p ? strchr(p + 3, '/') : url;
	if (!p)
		p = "/";
	snprintf(out, cap, "%.*s", (int)strcspn(p, "?"), p);
}

/* Answers a 401 challenge: 1 when the request should be sent again. A
 * bearer token is asked for the request's scope and for what the challenge
 * names beyond it (a DELETE needs "delete", which no caller asks for), and
 * is cached under the request's scope. */
static int answer_challenge(xfer *x)
{
	mg_http *h = x->h;
	mg_challenge c;
	if (mg_http_parse_challenge(x->www_auth, &c))
		return 0;
	if (!strcmp(c.scheme, "Basic")) {
		if (!h->user || h->basic)
			return 0;
		h->basic = 1;
		return 1;
	}
	h->bearer = c;
	char *tok = NULL, scope[2048];
	if (mg_http_merge_scopes(x->r->scope, c.scope, scope, sizeof(scope)))
		snprintf(scope, sizeof(scope), "%s", x->r->scope ? x->r->scope : "");
	int rc = fetch_token(h, scope[0] ? scope : NULL, &tok, &x->err);
	if (rc == 1)
		return 0;
	if (rc < 0) {
		x->rc = rc;
		return -1;
	}
	if (set_token(h, x->r->scope, tok, &x->err)) {
		x->rc = MG_ENOMEM;
		return -1;
	}
	return 1;
}

static void retry_later(xfer *x, long wait_ms)
{
	x->state = X_WAIT;
	x->not_before = now_ms() + wait_ms;
}

static int is_redirect(long code)
{
	return code == 301 || code == 302 || code == 303 || code == 307 || code == 308;
}

/* Follows a redirect answer: 1 when the request goes on at the target
 * (setup() applies the rule on credentials and HTTPS to it), 0 when the
 * answer has no target, -1 on an error (x->rc). */
static int redirect(xfer *x, long code)
{
	char *to = NULL;
	curl_easy_getinfo(x->e, CURLINFO_REDIRECT_URL, &to);
	if (!to || !*to)
		return 0;
	if (++x->redirects > MAX_REDIRECTS) {
		char path[512];
		url_path(x->r->url, path, sizeof(path));
		x->rc = mg_error_set(&x->err, MG_ENET, "%s'%s' redirected %s %s more than %d times",
				     noun(x->h), x->h->host, x->r->method, path, MAX_REDIRECTS);
		return -1;
	}
	char *next = strdup(to), *prev = x->url ? x->url : strdup(x->r->url);
	if (!next || !prev) {
		free(next);
		free(prev);
		x->url = NULL;
		x->rc = mg_error_set(&x->err, MG_ENOMEM, "out of memory");
		return -1;
	}
	free(x->from);
	x->from = prev;
	x->url = next;
	const char *m = x->r->method;
	if (strcmp(m, "GET") && strcmp(m, "HEAD") &&
	    (code == 303 || ((code == 301 || code == 302) && !strcmp(m, "POST"))))
		x->as_get = 1;
	x->attempt--; /* not a failure */
	retry_later(x, 0);
	return 1;
}

static void finish(xfer *x, CURLcode c)
{
	mg_http *h = x->h;
	mg_http_req *r = x->r;
	long code = 0;
	curl_easy_getinfo(x->e, CURLINFO_RESPONSE_CODE, &code);
	r->status = code;
	x->state = X_DONE;
	char path[512];
	url_path(r->url, path, sizeof(path));
	if (x->failed) {
		x->rc = x->err.code ? x->err.code : MG_ERROR;
		return;
	}
	if (c == CURLE_WRITE_ERROR && x->errbody_cut)
		c = CURLE_OK; /* the answer is all there; its body was cut short */
	int can_retry = x->attempt <= h->max_retries &&
			(r->replayable || !has_body(r) || (c != CURLE_OK && x->sent == 0));
	double rnd = (double)rand_r(&h->seed) / ((double)RAND_MAX + 1);
	if (c != CURLE_OK) {
		if (is_tls_error(c)) {
			r->tls_error = 1;
			x->rc = tls_fail(h, c, x->errbuf, &x->err);
			return;
		}
		if (can_retry) {
			restart(x);
			retry_later(x, mg_http_backoff_ms(x->attempt, h->backoff_ms, rnd));
			return;
		}
		x->rc = mg_error_set(&x->err, MG_ENET, "cannot reach %s'%s' (%s %s): %s%s", noun(h), h->host,
				     r->method, path, x->errbuf[0] ? x->errbuf : curl_easy_strerror(c),
				     x->attempt > 1 ? " (gave up after retrying)" : "");
		return;
	}
	if (r->follow && is_redirect(code) && redirect(x, code))
		return;
	/* only the origin's challenges are answered: credentials go nowhere else */
	if (code == 401 && !x->auth_retried && x->www_auth[0] && to_origin(h, hop_url(x))) {
		x->auth_retried = 1;
		int a = answer_challenge(x);
		if (a < 0)
			return;
		if (a > 0) {
			x->attempt--; /* not a failure */
			retry_later(x, 0);
			return;
		}
	}
	if (code == 416 && r->resume && x->got) {
		/* the rest of a body cut short is out of range: its length was a lie */
		x->rc = mg_error_set(&x->err, MG_ECORRUPT, "%s'%s' announced more of '%s' than it "
				     "has: asked for the rest after %llu bytes, it answered 416",
				     noun(h), h->host, r->what ? r->what : path,
				     (unsigned long long)x->got);
		return;
	}
	if (code == 429 || code >= 500) {
		if (can_retry) {
			restart(x);
			long ra = mg_http_retry_after(x->retry_after, (int64_t)time(NULL));
			long wait = ra >= 0 ? (ra > 60 ? 60000 : ra * 1000)
					    : mg_http_backoff_ms(x->attempt, h->backoff_ms, rnd);
			retry_later(x, wait);
			return;
		}
		char why[256];
		mg_http_error_text(r, why, sizeof(why));
		x->rc = mg_error_set(&x->err, MG_ENET,
				     "%s'%s' answered %ld to %s %s%s%s after %d attempt(s); "
				     "try again later or check the %s's health",
				     noun(h), h->host, code, r->method, path, why[0] ? ": " : "", why, x->attempt,
				     h->web ? "server" : "registry");
		return;
	}
	if (code >= 200 && code < 300) /* how far; done is the caller's to say */
		progress(x, r->body_fd >= 0 ? r->body_off + x->sent : x->got, 0);
	x->rc = 0;
}

/* ---- the loop ------------------------------------------------------- */

static int start(xfer *x)
{
	if (!x->e && !(x->e = curl_easy_init()))
		return mg_error_set(&x->err, MG_ENOMEM, "out of memory");
	int rc = setup(x);
	if (rc)
		return rc;
	x->attempt++;
	x->failed = 0;
	if (curl_multi_add_handle(x->h->multi, x->e) != CURLM_OK)
		return mg_error_set(&x->err, MG_ENOMEM, "cannot start a transfer");
	x->state = X_ACTIVE;
	x->begun = 1;
	return 0;
}

/* A request is over (X_DONE): its handle goes at once, and its done hook
 * runs when it got an answer. The first error of the run goes to *rc. */
static void retire(xfer *x, int *rc, mg_error *err)
{
	if (x->e)
		curl_easy_cleanup(x->e);
	x->e = NULL;
	curl_slist_free_all(x->hl);
	x->hl = NULL;
	restart(x);
	if (!x->rc && x->r->done)
		x->rc = x->r->done(x->r->sink_ctx, x->r, &x->err);
	if (x->rc && !*rc) {
		*rc = x->rc;
		if (err)
			*err = x->err;
	}
}

int mg_http_run(mg_http *h, mg_http_req *const *reqs, size_t n, size_t parallel, mg_error *err)
{
	if (!n)
		return 0;
	xfer *xs = calloc(n, sizeof(*xs));
	if (!xs)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++) {
		xs[i].h = h;
		xs[i].r = reqs[i];
		xs[i].out_start = reqs[i]->out ? reqs[i]->out->len : 0;
		xs[i].got = reqs[i]->resume ? reqs[i]->resume_from : 0;
		reqs[i]->status = 0;
	}
	size_t ndone = 0, active = 0, begun = 0; /* begun: started and not over */
	int rc = 0;
	if (!parallel)
		parallel = 1;
	while (ndone < n && !rc) {
		int64_t now = now_ms(), wait = 1000;
		for (size_t i = 0; i < n && !rc; i++) {
			xfer *x = &xs[i];
			if (x->state != X_WAIT)
				continue;
			if (!x->begun && begun >= parallel)
				break; /* in order: the rest wait for a place */
			if (x->not_before > now) {
				if (x->not_before - now < wait)
					wait = x->not_before - now;
			} else {
				assert(active < parallel);
				begun += !x->begun;
				if ((x->rc = start(x))) {
					x->state = X_DONE;
					ndone++;
					begun--;
					retire(x, &rc, err);
				} else {
					active++;
				}
			}
		}
		int running = 0;
		if (active)
			curl_multi_perform(h->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(h->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			xfer *x = NULL;
			CURLcode res = m->data.result;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
			curl_multi_remove_handle(h->multi, m->easy_handle);
			active--;
			finish(x, res);
			if (x->state == X_DONE) {
				ndone++;
				begun--;
				retire(x, &rc, err);
			}
			wait = 0;
		}
		if (ndone == n || rc)
			break;
		if (active)
			curl_multi_poll(h->multi, NULL, 0, (int)(wait < 0 ? 0 : wait), NULL);
		else if (wait > 0)
			poll(NULL, 0, (int)wait);
	}
	for (size_t i = 0; i < n; i++) {
		if (xs[i].state == X_ACTIVE)
			curl_multi_remove_handle(h->multi, xs[i].e);
		if (xs[i].e)
			curl_easy_cleanup(xs[i].e);
		curl_slist_free_all(xs[i].hl);
		restart(&xs[i]);
	}
	free(xs);
	return rc;
}

int mg_http_do(mg_http *h, mg_http_req *r, mg_error *err)
{
	return mg_http_run(h, &r, 1, 1, err);
}
