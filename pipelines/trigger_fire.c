/* Firing deploy triggers: each kind's request as its API documents it,
 * sent through the shared web client (net/web.h: retries of 429/5xx
 * with backoff and Retry-After), and the HMAC that signs webhooks.
 *
 *   GitHub repository_dispatch  POST {GITHUB_API_URL}/repos/O/R/dispatches
 *       {"event_type": E, "client_payload": {...}}                 -> 204
 *   GitHub workflow_dispatch    POST .../repos/O/R/actions/workflows/W/dispatches
 *       {"ref": REF, "inputs": {"digest", "environment", "action", ...}} -> 204
 *       (the workflow must declare those inputs)
 *   GitLab pipeline trigger     POST {CI_API_V4_URL}/projects/ID/trigger/pipeline
 *       form: token, ref, variables[MODELGATE_*]                     -> 201
 *   webhook                     POST URL, JSON body, any 2xx; headers
 *       X-Modelgate-Event, X-Modelgate-Delivery and Idempotency-Key (the
 *       same on every retry and rerun of one tag move), and
 *       X-Modelgate-Signature-256: sha256=HMAC-SHA256(secret, body)
 *
 * GitHub requests carry Authorization: Bearer, Accept:
 * application/vnd.github+json and X-GitHub-Api-Version: 2022-11-28. Bodies
 * are canonical JSON (sorted keys), so a rerun sends the same bytes. */
#include "deploy.h"
#include "net/web.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GITHUB_API_VERSION "2022-11-28"

void mg_hmac_sha256_hex(const void *key, size_t keylen, const void *data, size_t len,
			char out[65])
{
	unsigned char k[64] = {0}, pad[64], inner[32];
	char hex[MG_DIGEST_SIZE];
	if (keylen > 64) {
		mg_digest_bytes(key, keylen, hex);
		for (int i = 0; i < 32; i++)
			k[i] = (unsigned char)strtoul((char[]){hex[7 + 2 * i], hex[8 + 2 * i], 0}, NULL, 16);
	} else {
		memcpy(k, key, keylen);
	}
	mg_hash *h = NULL;
	if (mg_hash_new(&h, NULL)) {
		memset(out, '0', 64);
		out[64] = '\0';
		return;
	}
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	mg_hash_update(h, pad, 64);
	mg_hash_update(h, data, len);
	mg_hash_final(h, hex);
	for (int i = 0; i < 32; i++)
		inner[i] = (unsigned char)strtoul((char[]){hex[7 + 2 * i], hex[8 + 2 * i], 0}, NULL, 16);
	mg_hash_reset(h);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	mg_hash_update(h, pad, 64);
	mg_hash_update(h, inner, 32);
	mg_hash_final(h, hex);
	mg_hash_free(h);
	memcpy(out, hex + 7, 65);
}

void mg_trigger_delivery_id(mg_trigger_event *ev)
{
	mg_buf b = MG_BUF_INIT;
	char d[MG_DIGEST_SIZE];
	mg_buf_printf(&b, NULL, "modelgate-delivery\n%s\n%s\n%s\n%lld", ev->env ? ev->env : "",
		      ev->digest ? ev->digest : "", ev->action ? ev->action : "", (long long)ev->seq);
	mg_digest_bytes(b.data ? b.data : "", b.len, d);
	memcpy(ev->delivery, d + 7, 65);
	mg_buf_free(&b);
}

void mg_trigger_request_free(mg_trigger_request *r)
{
	if (!r)
		return;
	free(r->method);
	free(r->url);
	for (size_t i = 0; i < sizeof(r->headers) / sizeof(r->headers[0]); i++) {
		if (r->headers[i]) /* may hold a token: wipe before freeing */
			memset(r->headers[i], 0, strlen(r->headers[i]));
		free(r->headers[i]);
	}
	free(r->content_type);
	if (r->body.data)
		memset(r->body.data, 0, r->body.len);
	mg_buf_free(&r->body);
	memset(r, 0, sizeof(*r));
}

static int add_header(mg_trigger_request *r, mg_error *err, const char *fmt, const char *a,
		      const char *b)
{
	size_t i = 0;
	while (r->headers[i])
		i++;
	if (i + 1 >= sizeof(r->headers) / sizeof(r->headers[0]))
		return mg_error_set(err, MG_ENOMEM, "too many headers");
	mg_buf h = MG_BUF_INIT;
	int rc = mg_buf_printf(&h, err, fmt, a, b ? b : "");
	if (!rc)
		r->headers[i] = mg_buf_detach(&h);
	mg_buf_free(&h);
	return rc;
}

/* Percent-encodes s (RFC 3986 unreserved kept) onto out. */
static int url_encode(mg_buf *out, const char *s, mg_error *err)
{
	static const char hex[] = "0123456789ABCDEF";
	int rc = 0;
	for (const unsigned char *p = (const unsigned char *)s; !rc && *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p)) {
			rc = mg_buf_append(out, p, 1, err);
		} else {
			char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			rc = mg_buf_append(out, e, 3, err);
		}
	}
	return rc;
}

static int form_field(mg_buf *out, const char *key, const char *val, mg_error *err)
{
	int rc = out->len ? mg_buf_puts(out, "&", err) : 0;
	if (!rc)
		rc = url_encode(out, key, err);
	if (!rc)
		rc = mg_buf_puts(out, "=", err);
	if (!rc)
		rc = url_encode(out, val ? val : "", err);
	return rc;
}

/* The API base: the trigger's own, else the CI's (ci_api), else def;
 * without a trailing '/'. */
static int api_base(mg_buf *out, const mg_trigger *t, const char *ci_api, const char *def,
		    mg_error *err)
{
	const char *v = t->api_url ? t->api_url : ci_api;
	if (!v || !*v)
		v = def;
	size_t n = strlen(v);
	while (n && v[n - 1] == '/')
		n--;
	return mg_buf_printf(out, err, "%.*s", (int)n, v);
}

/* The git ref a workflow or pipeline runs on: the trigger's, else the
 * CI's branch, else main. */
static const char *git_ref(const mg_trigger *t, const mg_trigger_event *ev)
{
	const char *ci = !ev->ci ? NULL
			 : t->kind == MG_TRIGGER_GITLAB ? ev->ci->ci_default_branch
							: ev->ci->github_ref_name;
	return t->ref ? t->ref : ci ? ci : "main";
}

static json_t *report_json(const mg_trigger_event *ev)
{
	json_t *r = json_object();
	if (!r)
		return NULL;
	json_object_set_new(r, "status", ev->report_status ? json_string(ev->report_status) : json_null());
	json_object_set_new(r, "digest", ev->report_digest ? json_string(ev->report_digest) : json_null());
	json_object_set_new(r, "gates_passed", json_integer((json_int_t)ev->gates_passed));
	json_object_set_new(r, "gates_total", json_integer((json_int_t)ev->gates_total));
	return r;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* The facts every payload carries. */
static json_t *payload_json(const mg_trigger_event *ev)
{
	json_t *p = json_object();
	if (!p)
		return NULL;
	json_object_set_new(p, "digest", json_string(ev->digest));
	json_object_set_new(p, "repository", str_or_null(ev->repo));
	json_object_set_new(p, "reference", str_or_null(ev->reference));
	json_object_set_new(p, "environment", json_string(ev->env));
	json_object_set_new(p, "action", json_string(ev->action));
	json_object_set_new(p, "rollback", json_boolean(!strcmp(ev->action, "rollback")));
	json_object_set_new(p, "previous", str_or_null(ev->previous));
	json_object_set_new(p, "report", report_json(ev));
	json_object_set_new(p, "delivery", json_string(ev->delivery));
	return p;
}

static int dump_json(mg_buf *out, json_t *j, mg_error *err)
{
	char *s = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	int rc = s ? mg_buf_puts(out, s, err) : mg_error_set(err, MG_ENOMEM, "out of memory");
	free(s);
	return rc;
}

static int github_request(const mg_trigger *t, const mg_trigger_event *ev, mg_trigger_request *r,
			  mg_error *err)
{
	mg_buf url = MG_BUF_INIT;
	int rc = api_base(&url, t, ev->ci ? ev->ci->github_api_url : NULL, "https://api.github.com", err);
	json_t *body = json_object();
	if (!rc && !body)
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	if (!rc && t->kind == MG_TRIGGER_GITHUB_DISPATCH) {
		rc = mg_buf_printf(&url, err, "/repos/%s/dispatches", t->repo);
		json_object_set_new(body, "event_type", json_string(t->event));
		json_object_set_new(body, "client_payload", payload_json(ev));
	} else if (!rc) {
		rc = mg_buf_printf(&url, err, "/repos/%s/actions/workflows/", t->repo);
		if (!rc)
			rc = url_encode(&url, t->workflow, err);
		if (!rc)
			rc = mg_buf_puts(&url, "/dispatches", err);
		json_t *in = json_pack("{s:s, s:s, s:s}", "digest", ev->digest, "environment", ev->env,
				       "action", ev->action);
		for (size_t i = 0; in && i < t->extra.n; i++)
			json_object_set_new(in, t->extra.keys[i], json_string(t->extra.vals[i]));
		json_object_set_new(body, "ref", json_string(git_ref(t, ev)));
		json_object_set_new(body, "inputs", in);
	}
	if (!rc)
		rc = dump_json(&r->body, body, err);
	else
		json_decref(body);
	const char *tok = getenv(t->token_env);
	if (!rc)
		rc = add_header(r, err, "Authorization: Bearer %s%s", tok ? tok : "", NULL);
	if (!rc)
		rc = add_header(r, err, "Accept: %s%s", "application/vnd.github+json", NULL);
	if (!rc)
		rc = add_header(r, err, "X-GitHub-Api-Version: %s%s", GITHUB_API_VERSION, NULL);
	if (!rc)
		rc = add_header(r, err, "X-Modelgate-Delivery: %s%s", ev->delivery, NULL);
	r->url = rc ? NULL : mg_buf_detach(&url);
	r->content_type = rc ? NULL : strdup("application/json");
	r->want_status = 204;
	mg_buf_free(&url);
	return rc;
}

static int gitlab_request(const mg_trigger *t, const mg_trigger_event *ev, mg_trigger_request *r,
			  mg_error *err)
{
	mg_buf url = MG_BUF_INIT;
	int rc = api_base(&url, t, ev->ci ? ev->ci->ci_api_v4_url : NULL, "https://gitlab.com/api/v4", err);
	if (!rc)
		rc = mg_buf_puts(&url, "/projects/", err);
	if (!rc)
		rc = url_encode(&url, t->repo, err);
	if (!rc)
		rc = mg_buf_puts(&url, "/trigger/pipeline", err);
	char seq[32];
	snprintf(seq, sizeof(seq), "%lld", (long long)ev->seq);
	const char *tok = getenv(t->token_env);
	const char *f[][2] = {
		{"token", tok ? tok : ""},
		{"ref", git_ref(t, ev)},
		{"variables[MODELGATE_DIGEST]", ev->digest},
		{"variables[MODELGATE_ENVIRONMENT]", ev->env},
		{"variables[MODELGATE_ACTION]", ev->action},
		{"variables[MODELGATE_ROLLBACK]", strcmp(ev->action, "rollback") ? "false" : "true"},
		{"variables[MODELGATE_REPOSITORY]", ev->repo ? ev->repo : ""},
		{"variables[MODELGATE_REFERENCE]", ev->reference ? ev->reference : ""},
		{"variables[MODELGATE_PREVIOUS_DIGEST]", ev->previous ? ev->previous : ""},
		{"variables[MODELGATE_REPORT_STATUS]", ev->report_status ? ev->report_status : ""},
		{"variables[MODELGATE_DELIVERY]", ev->delivery},
	};
	for (size_t i = 0; !rc && i < sizeof(f) / sizeof(f[0]); i++)
		rc = form_field(&r->body, f[i][0], f[i][1], err);
	for (size_t i = 0; !rc && i < t->extra.n; i++) {
		mg_buf k = MG_BUF_INIT;
		rc = mg_buf_printf(&k, err, "variables[%s]", t->extra.keys[i]);
		if (!rc)
			rc = form_field(&r->body, k.data, t->extra.vals[i], err);
		mg_buf_free(&k);
	}
	if (!rc)
		rc = add_header(r, err, "X-Modelgate-Delivery: %s%s", ev->delivery, NULL);
	r->url = rc ? NULL : mg_buf_detach(&url);
	r->content_type = rc ? NULL : strdup("application/x-www-form-urlencoded");
	r->want_status = 201;
	mg_buf_free(&url);
	return rc;
}

static int webhook_request(const mg_trigger *t, const mg_trigger_event *ev, mg_trigger_request *r,
			   mg_error *err)
{
	json_t *p = payload_json(ev);
	if (p) {
		json_object_set_new(p, "event", json_string(ev->action));
		json_object_set_new(p, "seq", json_integer((json_int_t)ev->seq));
		json_object_set_new(p, "when", str_or_null(ev->when));
		json_object_set_new(p, "who", str_or_null(ev->who));
	}
	int rc = dump_json(&r->body, p, err);
	const char *secret = t->secret_env ? getenv(t->secret_env) : NULL;
	char mac[65];
	if (!rc && secret) {
		mg_hmac_sha256_hex(secret, strlen(secret), r->body.data, r->body.len, mac);
		rc = add_header(r, err, "X-Modelgate-Signature-256: sha256=%s%s", mac, NULL);
	}
	if (!rc)
		rc = add_header(r, err, "X-Modelgate-Event: %s%s", ev->action, NULL);
	if (!rc)
		rc = add_header(r, err, "X-Modelgate-Delivery: %s%s", ev->delivery, NULL);
	if (!rc)
		rc = add_header(r, err, "Idempotency-Key: %s%s", ev->delivery, NULL);
	r->url = rc ? NULL : strdup(t->url);
	r->content_type = rc ? NULL : strdup("application/json");
	r->want_status = 0; /* any 2xx */
	return rc;
}

int mg_trigger_build(const mg_trigger *t, const mg_trigger_event *ev, mg_trigger_request *out,
		     mg_error *err)
{
	memset(out, 0, sizeof(*out));
	int rc;
	switch (t->kind) {
	case MG_TRIGGER_GITHUB_DISPATCH:
	case MG_TRIGGER_GITHUB_WORKFLOW:
		rc = github_request(t, ev, out, err);
		break;
	case MG_TRIGGER_GITLAB:
		rc = gitlab_request(t, ev, out, err);
		break;
	default:
		rc = webhook_request(t, ev, out, err);
		break;
	}
	if (!rc && (!(out->method = strdup("POST")) || !out->url || !out->content_type))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	if (rc)
		mg_trigger_request_free(out);
	return rc;
}

void mg_trigger_result_clear(mg_trigger_result *r)
{
	if (!r)
		return;
	free(r->name);
	free(r->message);
	free(r->when);
	memset(r, 0, sizeof(*r));
}

/* A short, single-line excerpt of an API's answer for the message. */
static void excerpt(const mg_buf *b, char *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < b->len && n + 1 < cap && n < 200; i++)
		out[n++] = (b->data[i] == '\n' || b->data[i] == '\r' || b->data[i] == '\t') ? ' ' : b->data[i];
	out[n] = '\0';
}

int mg_trigger_fire(const mg_trigger *t, const mg_trigger_event *ev, const mg_trigger_http *http,
		    mg_trigger_result *res, mg_error *err)
{
	memset(res, 0, sizeof(*res));
	char when[64];
	mg_format_time(when, sizeof(when), (int64_t)time(NULL));
	if (!(res->name = strdup(t->name)) || !(res->when = strdup(when)))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	mg_trigger_request q;
	int rc = mg_trigger_build(t, ev, &q, err);
	if (rc)
		return rc;
	mg_web_req w = MG_WEB_REQ_INIT;
	w.method = q.method;
	w.url = q.url;
	w.headers = (const char *const *)q.headers;
	w.content_type = q.content_type;
	w.body = q.body.data ? q.body.data : "";
	w.body_len = q.body.len;
	w.insecure = http ? http->insecure : 0;
	w.ca_file = http ? http->ca_file : NULL;
	w.max_retries = http ? http->max_retries : 0;
	w.backoff_ms = http ? http->backoff_ms : 0;
	w.max_response = 64u << 10;
	mg_web_resp resp = MG_WEB_RESP_INIT;
	mg_error e = {0};
	int wrc = mg_web_request(&w, &resp, &e);
	res->status = resp.status;
	char msg[1400], body[256];
	excerpt(&resp.body, body, sizeof(body));
	if (wrc) {
		snprintf(msg, sizeof(msg), "%s", e.msg);
	} else if (q.want_status ? resp.status == q.want_status
				 : resp.status >= 200 && resp.status < 300) {
		res->ok = 1;
		msg[0] = '\0';
	} else {
		if (q.want_status)
			snprintf(msg, sizeof(msg), "answered %ld, expected %ld%s%s", resp.status,
				 q.want_status, body[0] ? ": " : "", body);
		else
			snprintf(msg, sizeof(msg), "answered %ld%s%s", resp.status, body[0] ? ": " : "", body);
	}
	if (!res->ok && !(res->message = strdup(msg)))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	mg_web_resp_free(&resp);
	mg_trigger_request_free(&q);
	return rc;
}
