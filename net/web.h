/* net/web: plain HTTP(S) requests to APIs that are not registries (GitHub,
 * GitLab, webhooks), on the same engine as the registry client (http.c), so
 * TLS options, retries of 429/5xx and dropped connections with exponential
 * backoff, jitter and Retry-After, and the redirect policy are shared.
 *
 * Ownership: the request is borrowed for the call; the response's body
 * belongs to the caller, released with mg_web_resp_free. Nothing here
 * prints. Credentials travel only in the caller's header lines; they never
 * appear in messages (which name the host and path, never the query). After
 * a redirect to another scheme, host or port the caller's header lines are
 * not sent, and a redirect from HTTPS to plain HTTP is refused unless
 * insecure. */
#ifndef MG_NET_WEB_H
#define MG_NET_WEB_H

#include <stddef.h>

#include "util/util.h"

typedef struct mg_web_req {
	int version;
	const char *method;         /* "GET", "POST", "PUT", "PATCH", "DELETE" */
	const char *url;            /* http:// or https:// */
	const char *const *headers; /* "Name: value" lines, NULL-terminated, or NULL */
	const char *content_type;   /* of the body, or NULL */
	const void *body;           /* body_len bytes, or NULL for none */
	size_t body_len;
	int max_retries;     /* retries of 429/5xx/dropped connections; 0: 4, < 0: none */
	long backoff_ms;     /* first backoff; 0: 500 (Retry-After wins, capped at 60 s) */
	int follow;          /* follow redirects (at most 5); off by default */
	int insecure;        /* do not verify TLS */
	const char *ca_file; /* a private CA to trust, or NULL */
	size_t max_response; /* response body kept at most; 0: 1 MiB */
} mg_web_req;
#define MG_WEB_REQ_VERSION 1
#define MG_WEB_REQ_INIT {MG_WEB_REQ_VERSION, "GET", NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL, 0}

typedef struct mg_web_resp {
	long status;           /* last HTTP status, 0 when none arrived */
	mg_buf body;           /* the answer's body (also of a 4xx/5xx, bounded) */
	char content_type[256];
	char location[4096];
} mg_web_resp;
#define MG_WEB_RESP_INIT {0, MG_BUF_INIT, "", ""}

/* Performs one request, retrying transient failures. Returns 0 when an
 * answer arrived that is not retried: the caller checks resp->status (2xx,
 * 3xx without follow, 4xx). MG_ENET when the server could not be reached,
 * TLS failed, or it kept answering 429/5xx (resp->status holds the last);
 * MG_EINVAL for a bad request (URL). resp must be MG_WEB_RESP_INIT or
 * freed; it is reset first. */
int mg_web_request(const mg_web_req *req, mg_web_resp *resp, mg_error *err);
void mg_web_resp_free(mg_web_resp *resp);

/* host[:port] of an http(s) URL, without credentials, into out; MG_EINVAL
 * for anything else. */
int mg_web_url_host(const char *url, char *out, size_t cap, mg_error *err);

#endif
