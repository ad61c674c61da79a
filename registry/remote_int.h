/* Internal to registry/: what remote.c shares with the other files of the
 * registry client (remote_tags.c), and with the unit tests. */
#ifndef MG_REMOTE_INT_H
#define MG_REMOTE_INT_H

#include "remote.h"
#include "net/http.h"

#define MG_ACCEPT_MANIFESTS                                                                      \
	MG_MEDIA_MANIFEST ", " MG_MEDIA_INDEX ", application/vnd.docker.distribution.manifest.v2+json, " \
	"application/vnd.docker.distribution.manifest.list.v2+json"

struct mg_remote {
	char *name; /* host[:port] */
	char *base; /* scheme://host[:port] */
	int has_user;
	char cred_from[MG_AUTH_FROM_SIZE]; /* "from ...": where the credentials came from */
	mg_http *http;
	mg_remote_opts o;
	int unchecked;    /* opened with no_ping: base not yet proven (mg_remote__do) */
	mg_buf first_url; /* the first request's URL, when it moved to plain HTTP */
};

/* One request on a repository's API (base/v2/repo/kind/id): its URL, the
 * bearer scope, the request and, for messages, what it is about. */
typedef struct mg_remote_call {
	mg_remote *r;
	const char *repo;
	mg_buf url;
	char scope[600];
	char what[300];
	mg_http_req q;
} mg_remote_call;

/* Sets up a call (pull scope, or pull and push); returns an error building
 * the URL, after which the call is still ended with mg_remote__call_end. */
int mg_remote__call_start(mg_remote_call *c, mg_remote *r, const char *method, const char *repo,
			  const char *kind, const char *id, int push, mg_error *err);
/* Sends the call, unless rc (what came before) is an error: returns rc. */
int mg_remote__call_send(mg_remote_call *c, int rc, mg_error *err);
/* mg_remote__status for the call's answer. */
int mg_remote__call_status(const mg_remote_call *c, mg_error *err);
void mg_remote__call_end(mg_remote_call *c);

/* Sends q, a request on the registry (every request goes through here).
 * The first one of a remote opened with no_ping does what mg_remote_open's
 * /v2/ check would have: over HTTPS, else, after a TLS failure, over plain
 * HTTP where that is allowed (insecure, or a loopback registry). */
int mg_remote__do(mg_remote *r, mg_http_req *q, mg_error *err);

/* base/v2/repo/kind/ref */
int mg_remote__url(mg_buf *out, const mg_remote *r, const char *repo, const char *kind,
		   const char *ref, mg_error *err);
/* The bearer scope for repo: pull, or pull and push. */
void mg_remote__scope(char *out, size_t cap, const char *repo, int push);
/* The error for an answer that is not what the caller expected. */
int mg_remote__status(const mg_remote *r, const mg_http_req *q, const char *repo,
		      const char *what, mg_error *err);
/* The URL of the page a Link target names, cur being the page it came
 * with: a path on the registry, a query on cur, or an absolute URL on the
 * registry's own scheme, host and port; any other is refused (MG_ENET),
 * what naming the list in the message. */
int mg_remote__link_url(mg_buf *out, const mg_remote *r, const char *cur, const char *target,
			const char *what, mg_error *err);

#endif
