/* References ("kws:v3", "kws@sha256:...", "localhost:5000/team/kws:v3") and
 * the ordered key/value lists that carry annotations. */
#include "registry.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One repository path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static int component_valid(const char *s, size_t n)
{
	if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (is_lower_alnum(c) || c == '-')
			continue;
		if (c == '.' && is_lower_alnum(s[i + 1]))
			continue;
		if (c == '_' && (is_lower_alnum(s[i + 1]) ||
				 (s[i + 1] == '_' && i + 2 < n && is_lower_alnum(s[i + 2])))) {
			if (s[i + 1] == '_')
				i++;
			continue;
		}
		return 0;
	}
	return 1;
}

static int repo_valid(const char *s)
{
	size_t total = strlen(s);
	if (total == 0 || total > 255)
		return 0;
	while (*s) {
		size_t n = strcspn(s, "/");
		if (!component_valid(s, n))
			return 0;
		s += n;
		if (*s == '/' && !*++s)
			return 0;
	}
	return 1;
}

int mg_tag_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return 0;
	}
	return 1;
}

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A host name: labels of letters, digits and inner '-', 1 to 63 long,
 * joined by single dots (an IPv4 address is one too). */
static int name_valid(const char *s, size_t n)
{
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n;) {
		size_t len = 0;
		while (i + len < n && s[i + len] != '.')
			len++;
		if (len == 0 || len > 63 || !is_alnum(s[i]) || !is_alnum(s[i + len - 1]))
			return 0;
		for (size_t k = 0; k < len; k++)
			if (!is_alnum(s[i + k]) && s[i + k] != '-')
				return 0;
		i += len;
		if (i < n && ++i == n) /* a trailing dot */
			return 0;
	}
	return 1;
}

/* host[:port]: a host name, or an IPv6 address in brackets; a port of 1
 * to 65535. Nothing else ("..", ".", "-x", "a:b:c") is a registry. */
static int host_valid(const char *s, size_t n)
{
	size_t hn = n;
	const char *colon = NULL;
	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		char addr[64];
		struct in6_addr a6;
		size_t an = close ? (size_t)(close - s) - 1 : 0;
		if (!close || an == 0 || an >= sizeof(addr))
			return 0;
		memcpy(addr, s + 1, an);
		addr[an] = '\0';
		if (inet_pton(AF_INET6, addr, &a6) != 1)
			return 0;
		hn = (size_t)(close - s) + 1;
		if (hn < n && s[hn] != ':')
			return 0;
		colon = hn < n ? s + hn : NULL;
	} else {
		colon = memchr(s, ':', n);
		hn = colon ? (size_t)(colon - s) : n;
		if (!name_valid(s, hn))
			return 0;
	}
	if (!colon)
		return 1;
	size_t pn = n - hn - 1;
	unsigned long port = 0;
	if (pn == 0 || pn > 5)
		return 0;
	for (size_t i = 0; i < pn; i++) {
		if (colon[1 + i] < '0' || colon[1 + i] > '9')
			return 0;
		port = port * 10 + (unsigned long)(colon[1 + i] - '0');
	}
	return port >= 1 && port <= 65535;
}

void mg_ref_free(mg_ref *ref)
{
	if (!ref)
		return;
	free(ref->registry);
	free(ref->repo);
	free(ref->tag);
	free(ref->digest);
	free(ref);
}

int mg_ref_parse(mg_ref **out, const char *s, mg_error *err)
{
	int rc = MG_EINVAL;
	mg_ref *ref = calloc(1, sizeof(*ref));
	char *work = strdup(s);
	if (!ref || !work) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	if (!*s) {
		mg_error_set(err, MG_EINVAL, "empty reference: name a version as REPO[:TAG], REPO@sha256:HEX or HOST/REPO[:TAG]");
		goto done;
	}
	char *name = work;
	char *at = strchr(work, '@');
	if (at) {
		*at = '\0';
		if (!mg_digest_valid(at + 1)) {
			mg_error_set(err, MG_EINVAL,
				     "invalid reference '%s': a digest is 'sha256:' and 64 lower-case hex digits", s);
			goto done;
		}
		if (!(ref->digest = strdup(at + 1)))
			goto nomem;
	}
	/* registry host: the first component, when it looks like one */
	char *slash = strchr(name, '/');
	if (slash) {
		size_t hn = (size_t)(slash - name);
		if (memchr(name, '.', hn) || memchr(name, ':', hn) ||
		    (hn == 9 && !memcmp(name, "localhost", 9))) {
			if (!host_valid(name, hn)) {
				mg_error_set(err, MG_EINVAL, "invalid reference '%s': '%.*s' is not a registry "
					     "host (HOST[:PORT], a host name or [IPv6] with a port of 1 to 65535)",
					     s, (int)hn, name);
				goto done;
			}
			if (!(ref->registry = strndup(name, hn)))
				goto nomem;
			name = slash + 1;
		}
	}
	char *colon = strrchr(name, ':');
	if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		if (!mg_tag_valid(colon + 1)) {
			mg_error_set(err, MG_EINVAL,
				     "invalid reference '%s': a tag is up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'", s);
			goto done;
		}
		if (!(ref->tag = strdup(colon + 1)))
			goto nomem;
	}
	if (!repo_valid(name)) {
		mg_error_set(err, MG_EINVAL,
			     "invalid reference '%s': a repository is lower-case letters and digits, separated by '/', '.', '_' or '-'", s);
		goto done;
	}
	if (!(ref->repo = strdup(name)))
		goto nomem;
	if (!ref->tag && !ref->digest) {
		ref->tag_implicit = 1;
		if (!(ref->tag = strdup("latest")))
			goto nomem;
	}
	*out = ref;
	ref = NULL;
	rc = 0;
	goto done;
nomem:
	rc = mg_error_set(err, MG_ENOMEM, "out of memory");
done:
	free(work);
	mg_ref_free(ref);
	return rc;
}

/* The host of "host[:port]" or "[v6]:port" into host (brackets dropped);
 * 0 when the port is not 1 to 5 digits or the host does not fit. */
static int split_host(const char *registry, char *host, size_t size)
{
	const char *end, *port;
	if (*registry == '[') {
		if (!(end = strchr(registry, ']')))
			return 0;
		registry++;
		port = end + 1;
	} else {
		end = registry + strcspn(registry, ":");
		port = end;
	}
	if (*port == ':') {
		size_t n = strspn(port + 1, "0123456789");
		if (n < 1 || n > 5 || port[1 + n])
			return 0;
	} else if (*port) {
		return 0;
	}
	size_t n = (size_t)(end - registry);
	if (n == 0 || n >= size)
		return 0;
	memcpy(host, registry, n);
	host[n] = '\0';
	return 1;
}

int mg_registry_is_loopback(const char *registry)
{
	char host[64];
	struct in_addr a4;
	struct in6_addr a6;
	if (!split_host(registry, host, sizeof(host)))
		return 0;
	if (*registry == '[')
		return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
	if (!strcasecmp(host, "localhost"))
		return 1;
	return inet_pton(AF_INET, host, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

char *mg_ref_store_name(const mg_ref *ref, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	if (mg_buf_printf(&b, err, "%s:%s", ref->repo, ref->tag ? ref->tag : "latest")) {
		mg_buf_free(&b);
		return NULL;
	}
	return mg_buf_detach(&b);
}

char *mg_ref_retag(const mg_ref *ref, const char *tag, mg_error *err)
{
	mg_buf b = MG_BUF_INIT;
	if (mg_buf_printf(&b, err, "%s%s%s:%s", ref->registry ? ref->registry : "",
			  ref->registry ? "/" : "", ref->repo, tag)) {
		mg_buf_free(&b);
		return NULL;
	}
	return mg_buf_detach(&b);
}

int mg_kv_set(mg_kv *kv, const char *key, const char *val, mg_error *err)
{
	char *v = strdup(val);
	if (!v)
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	for (size_t i = 0; i < kv->n; i++) {
		if (!strcmp(kv->keys[i], key)) {
			free(kv->vals[i]);
			kv->vals[i] = v;
			return 0;
		}
	}
	char *k = strdup(key);
	char **nk = realloc(kv->keys, (kv->n + 1) * sizeof(*nk));
	if (nk)
		kv->keys = nk;
	char **nv = realloc(kv->vals, (kv->n + 1) * sizeof(*nv));
	if (nv)
		kv->vals = nv;
	if (!k || !nk || !nv) {
		free(k);
		free(v);
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	}
	kv->keys[kv->n] = k;
	kv->vals[kv->n] = v;
	kv->n++;
	return 0;
}

const char *mg_kv_get(const mg_kv *kv, const char *key)
{
	for (size_t i = 0; i < kv->n; i++)
		if (!strcmp(kv->keys[i], key))
			return kv->vals[i];
	return NULL;
}

void mg_kv_clear(mg_kv *kv)
{
	for (size_t i = 0; i < kv->n; i++) {
		free(kv->keys[i]);
		free(kv->vals[i]);
	}
	free(kv->keys);
	free(kv->vals);
	kv->keys = kv->vals = NULL;
	kv->n = 0;
}
