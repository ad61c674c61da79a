/* Plain web requests (web.h) on the HTTP engine the registry client uses: one
 * mg_http client per request, no registry credentials, the caller's header
 * lines. The engine words its messages for registries; here they are
 * reworded for any server, and never carry the URL's query (webhook URLs
 * may hold tokens there). */
#include "web.h"
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void mg_web_resp_free(mg_web_resp *resp)
{
	if (!resp)
		return;
	mg_buf_free(&resp->body);
	resp->status = 0;
	resp->content_type[0] = resp->location[0] = '\0';
}

int mg_web_url_host(const char *url, char *out, size_t cap, mg_error *err)
{
	const char *p = NULL;
	if (!strncasecmp(url, "http://", 7))
		p = url + 7;
	else if (!strncasecmp(url, "https://", 8))
		p = url + 8;
	if (!p || !*p)
		return mg_error_set(err, MG_EINVAL, "'%.*s' is not an http:// or https:// URL",
				    (int)strcspn(url, "?"), url);
	size_t n = strcspn(p, "/?#");
	const char *at = memchr(p, '@', n);
	if (at) { /* user:password@host: keep only the host */
		n -= (size_t)(at + 1 - p);
		p = at + 1;
	}
	if (!n || n >= cap)
		return mg_error_set(err, MG_EINVAL, "URL '%.*s' has no usable host", (int)n, p);
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

int mg_web_request(const mg_web_req *req, mg_web_resp *resp, mg_error *err)
{
	if (!req || !req->url || !req->method)
		return mg_error_set(err, MG_EINVAL, "incomplete web request");
	mg_web_resp_free(resp);
	char host[512];
	int rc = mg_web_url_host(req->url, host, sizeof(host), err);
	if (rc)
		return rc;
	mg_remote_opts o = MG_REMOTE_OPTS_INIT;
	o.insecure = req->insecure;
	o.ca_file = req->ca_file;
	o.max_retries = req->max_retries;
	o.backoff_ms = req->backoff_ms;
	o.web = 1;
	mg_http *h = NULL;
	if ((rc = mg_http_new(&h, host, &o, NULL, NULL, err)))
		return rc;
	if ((rc = mg_http_set_origin(h, req->url, err))) {
		mg_http_free(h);
		return rc;
	}
	mg_http_req q;
	mg_http_req_init(&q, req->method, req->url);
	q.headers = req->headers;
	q.content_type = req->content_type;
	q.follow = req->follow;
	if (req->body) {
		q.body = req->body;
		q.body_len = req->body_len;
	}
	q.out = &resp->body;
	q.out_max = req->max_response ? req->max_response : (size_t)1 << 20;
	rc = mg_http_do(h, &q, err);
	resp->status = q.status;
	snprintf(resp->content_type, sizeof(resp->content_type), "%s", q.content_type_out);
	snprintf(resp->location, sizeof(resp->location), "%s", q.location);
	if (q.errbody.len && !resp->body.len)
		mg_buf_append(&resp->body, q.errbody.data, q.errbody.len, NULL);
	mg_http_req_free(&q);
	mg_http_free(h);
	return rc;
}
