/* The pure parts of the HTTP engine, kept apart from libcurl so that they
 * are easy to test: WWW-Authenticate challenges, Retry-After, the Range
 * and Content-Range headers of uploads and resumed downloads, the Link
 * header of paged lists, bearer scopes (what a challenge asks for beyond a
 * request's own), backoff with jitter, and the registry's JSON error
 * bodies. */
#include "http.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t' || *p == ',')
		p++;
	return p;
}

/* Reads a parameter value at *p into val (truncated to cap): a quoted
 * string, or a token that ends at any of stop. -1 for an unterminated
 * quoted string. */
static int param_value(const char **p, const char *stop, char *val, size_t cap)
{
	const char *s = *p;
	size_t vn = 0;
	if (*s == '"') {
		for (s++; *s && *s != '"'; s++) {
			if (*s == '\\' && s[1])
				s++;
			if (vn + 1 < cap)
				val[vn++] = *s;
		}
		if (*s++ != '"')
			return -1;
	} else {
		for (; *s && !strchr(stop, *s); s++)
			if (vn + 1 < cap)
				val[vn++] = *s;
	}
	val[vn] = '\0';
	*p = s;
	return 0;
}

int mg_http_parse_challenge(const char *value, mg_challenge *out)
{
	memset(out, 0, sizeof(*out));
	const char *p = skip_ws(value);
	size_t n = strcspn(p, " \t");
	if (!n || n >= sizeof(out->scheme))
		return MG_EINVAL;
	memcpy(out->scheme, p, n);
	if (strcasecmp(out->scheme, "basic") && strcasecmp(out->scheme, "bearer"))
		return MG_EINVAL;
	out->scheme[0] = (char)(out->scheme[0] & ~0x20); /* "Basic", "Bearer" */
	for (char *s = out->scheme + 1; *s; s++)
		*s = (char)(*s | 0x20);
	p = skip_ws(p + n);
	while (*p) {
		size_t k = strcspn(p, "= \t,");
		if (p[k] != '=')
			return MG_EINVAL;
		const char *key = p;
		p += k + 1;
		char val[1024];
		if (param_value(&p, ", ", val, sizeof(val)))
			return MG_EINVAL;
		char *dst = NULL;
		size_t cap = 0;
		if (k == 5 && !strncasecmp(key, "realm", 5))
			dst = out->realm, cap = sizeof(out->realm);
		else if (k == 7 && !strncasecmp(key, "service", 7))
			dst = out->service, cap = sizeof(out->service);
		else if (k == 5 && !strncasecmp(key, "scope", 5))
			dst = out->scope, cap = sizeof(out->scope);
		if (dst)
			snprintf(dst, cap, "%s", val);
		p = skip_ws(p);
	}
	if (!strcmp(out->scheme, "Bearer") && !out->realm[0])
		return MG_EINVAL;
	return 0;
}

long mg_http_retry_after(const char *value, int64_t now)
{
	if (!value || !*value)
		return -1;
	char *end;
	long v = strtol(value, &end, 10);
	if (end != value && !*skip_ws(end))
		return v < 0 ? -1 : v;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *rest = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	if (!rest || *rest)
		return -1;
	int64_t when = (int64_t)timegm(&tm);
	return when > now ? (long)(when - now) : 0;
}

int64_t mg_http_range_end(const char *value)
{
	if (!value)
		return 0;
	const char *p = skip_ws(value);
	if (!strncmp(p, "bytes=", 6))
		p += 6;
	if (!*p)
		return 0;
	char *end;
	long long a = strtoll(p, &end, 10);
	if (end == p || *end != '-' || a != 0)
		return -1;
	p = end + 1;
	long long b = strtoll(p, &end, 10);
	if (end == p || *skip_ws(end) || b < 0)
		return -1;
	return (int64_t)b + 1;
}

int64_t mg_http_content_range_start(const char *value)
{
	const char *p = skip_ws(value);
	if (strncasecmp(p, "bytes ", 6))
		return -1;
	p += 6;
	char *end;
	long long s = strtoll(p, &end, 10);
	if (end == p || *end != '-' || s < 0)
		return -1;
	return s;
}

/* 1 when the space-separated list s holds word (case-insensitively). */
static int has_word(const char *s, const char *word)
{
	size_t wn = strlen(word);
	for (s += strspn(s, " \t"); *s; s += strspn(s, " \t")) {
		size_t n = strcspn(s, " \t");
		if (n == wn && !strncasecmp(s, word, n))
			return 1;
		s += n;
	}
	return 0;
}

int mg_http_link_next(const char *value, char *out, size_t cap)
{
	const char *p = value ? value : "";
	for (p = skip_ws(p); *p; p = skip_ws(p)) {
		if (*p != '<')
			return -1;
		const char *uri = p + 1, *close = strchr(uri, '>');
		if (!close)
			return -1;
		int next = 0;
		for (p = close + 1;;) {
			p += strspn(p, " \t");
			if (*p != ';')
				break;
			p += 1 + strspn(p + 1, " \t");
			size_t k = strcspn(p, "=;, \t");
			const char *name = p;
			char val[256] = "";
			p += k + strspn(p + k, " \t");
			if (*p == '=') {
				p += 1 + strspn(p + 1, " \t");
				if (param_value(&p, ";, \t", val, sizeof(val)))
					return -1;
			}
			if (k == 3 && !strncasecmp(name, "rel", 3) && has_word(val, "next"))
				next = 1;
		}
		if (*p && *p != ',')
			return -1;
		if (next) {
			size_t n = (size_t)(close - uri);
			if (!n || n >= cap)
				return -1;
			memcpy(out, uri, n);
			out[n] = '\0';
			return 1;
		}
	}
	return 0;
}

long mg_http_backoff_ms(int attempt, long base_ms, double rnd)
{
	long ms = base_ms;
	for (int i = 1; i < attempt && ms < 30000; i++)
		ms *= 2;
	if (ms > 30000)
		ms = 30000;
	return (long)((double)ms * (0.75 + 0.5 * rnd));
}

void mg_http_error_text(const mg_http_req *r, char *out, size_t outlen)
{
	out[0] = '\0';
	json_t *j = r->errbody.len ? json_loadb(r->errbody.data, r->errbody.len, 0, NULL) : NULL;
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	const char *msg = json_string_value(json_object_get(e0, "message"));
	const char *code = json_string_value(json_object_get(e0, "code"));
	if (msg && code)
		snprintf(out, outlen, "%s (%s)", msg, code);
	else if (msg || code)
		snprintf(out, outlen, "%s", msg ? msg : code);
	json_decref(j);
}

/* The scope entry [p, p+n) ("type:name:actions"): the length of its
 * "type:name", and its actions. */
static size_t scope_resource(const char *p, size_t n, const char **actions, size_t *alen)
{
	size_t k = n;
	while (k && p[k - 1] != ':')
		k--;
	*actions = p + k;
	*alen = n - k;
	return k ? k - 1 : 0;
}

/* 1 when the comma-separated list [a, a+n) holds action (or "*"). */
static int has_action(const char *a, size_t n, const char *action, size_t an)
{
	for (const char *end = a + n; a < end;) {
		size_t k = (size_t)(end - a);
		const char *comma = memchr(a, ',', k);
		if (comma)
			k = (size_t)(comma - a);
		if ((k == an && !memcmp(a, action, an)) || (k == 1 && *a == '*'))
			return 1;
		a += k + 1;
	}
	return 0;
}

/* 1 when some entry of want grants every action of the entry [p, p+n). */
static int scope_covered(const char *want, const char *p, size_t n)
{
	const char *acts;
	size_t alen, rlen = scope_resource(p, n, &acts, &alen);
	for (const char *w = want; w && *w;) {
		size_t wn = strcspn(w, " ");
		const char *wacts;
		size_t walen, wrlen = scope_resource(w, wn, &wacts, &walen);
		int all = wrlen == rlen && !memcmp(w, p, rlen);
		for (const char *a = acts, *end = acts + alen; all && a < end;) {
			size_t k = strcspn(a, ", ");
			if (a + k > end)
				k = (size_t)(end - a);
			all = has_action(wacts, walen, a, k);
			a += k + 1;
		}
		if (all)
			return 1;
		w += wn + (w[wn] == ' ');
	}
	return 0;
}

int mg_http_merge_scopes(const char *want, const char *challenge, char *out, size_t cap)
{
	size_t len = (size_t)snprintf(out, cap, "%s", want ? want : "");
	if (len >= cap)
		return -1;
	for (const char *p = challenge; p && *p;) {
		size_t n = strcspn(p, " ");
		if (n && !scope_covered(out, p, n)) {
			if (len + (len > 0) + n >= cap)
				return -1;
			if (len)
				out[len++] = ' ';
			memcpy(out + len, p, n);
			out[len += n] = '\0';
		}
		p += n + (p[n] == ' ');
	}
	return 0;
}

int mg_auth_parse_token(const char *json, size_t len, char **token, mg_error *err)
{
	json_t *j = json_loadb(json, len, 0, NULL);
	const char *t = json_string_value(json_object_get(j, "token"));
	if (!t || !*t)
		t = json_string_value(json_object_get(j, "access_token"));
	int rc = 0;
	if (!t || !*t)
		rc = mg_error_set(err, MG_ENET, "no token in the token service's answer");
	else if (!(*token = strdup(t)))
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
	json_decref(j);
	return rc;
}
