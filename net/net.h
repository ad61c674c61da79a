/* net: reaching servers, the layer under registry/ (OCI registries),
 * pipelines/ (GitHub, GitLab, webhooks) and the fleet's programs. http.h
 * is the HTTP engine (libcurl stays in http.c), web.h plain requests to
 * APIs that are not registries, mqtt.h the fleet's MQTT broker. This header holds what both share with their callers:
 * the connection options and the progress callback. */
#ifndef MG_NET_H
#define MG_NET_H

#include <stdint.h>

/* Progress of one transfer or one file being hashed: what it is (an
 * MG_PROGRESS_* kind), what it is of ("model.onnx"), bytes done, total (0
 * if unknown); done == total and finished = 1 at the end. */
enum { MG_PROGRESS_DOWNLOAD, MG_PROGRESS_UPLOAD, MG_PROGRESS_HASH };
typedef void (*mg_progress_fn)(void *ctx, int kind, const char *what, uint64_t done,
			       uint64_t total, int finished);

/* How to reach a server: a registry (registry/remote.h), or a web API
 * with web set (web.h). */
typedef struct mg_remote_opts {
	int version;
	int insecure;        /* plain HTTP or unverified TLS */
	const char *ca_file; /* a private CA to trust */
	int max_retries;     /* for 429/5xx/dropped connections; 0: 4, < 0: none */
	long backoff_ms;     /* first backoff; 0: 500 */
	int parallel;        /* blob transfers at once; 0: 4 */
	uint64_t chunk_size; /* uploads above this go in chunks; 0: 64 MiB */
	mg_progress_fn progress;
	void *progress_ctx;
	unsigned page_size; /* entries asked for per page of a tag or repository list; 0: 100 */
	int web;            /* a plain web server (web.h), not a registry: for messages */
	int no_ping;        /* registry: no GET /v2/ when opening; the first request finds
			       the scheme, and a 401 to it starts the auth dance as /v2/'s would */
} mg_remote_opts;
#define MG_REMOTE_OPTS_VERSION 1
#define MG_REMOTE_OPTS_INIT {MG_REMOTE_OPTS_VERSION, 0, NULL, 0, 0, 0, 0, NULL, NULL, 0, 0, 0}

#endif
