/* Registry credentials: where they come from (our environment variables,
 * the CI's own tokens, docker's config.json and the credential helpers it
 * names), and `login`, which stores them the way docker does without a
 * credential store (base64 "user:password" under "auths", file mode 0600,
 * replaced atomically). Passwords never reach a message. */
#include "remote.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *mg_base64_encode(const void *data, size_t len, mg_error *err)
{
	const unsigned char *p = data;
	size_t n;
	if (len > (SIZE_MAX - 1) / 4 * 3 - 3 || mg_size_mul((len + 2) / 3, 4, &n))
		return mg_error_set(err, MG_ENOMEM, "input too large for base64"), NULL;
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return mg_error_set(err, MG_ENOMEM, "out of memory"), NULL;
	for (size_t i = 0; i < len; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0) |
			     (i + 2 < len ? p[i + 2] : 0);
		*o++ = b64[v >> 18 & 63];
		*o++ = b64[v >> 12 & 63];
		*o++ = i + 1 < len ? b64[v >> 6 & 63] : '=';
		*o++ = i + 2 < len ? b64[v & 63] : '=';
	}
	*o = '\0';
	return out;
}

int mg_base64_decode(mg_buf *out, const char *s, mg_error *err)
{
	unsigned v = 0;
	int bits = 0, pad = 0;
	for (const char *p = s; *p; p++) {
		if (*p == '=') {
			pad++;
			continue;
		}
		const char *c = strchr(b64, *p);
		if (!c || !*p || pad)
			return mg_error_set(err, MG_EINVAL, "invalid base64");
		v = v << 6 | (unsigned)(c - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			char byte = (char)(v >> bits & 0xff);
			int rc = mg_buf_append(out, &byte, 1, err);
			if (rc)
				return rc;
		}
	}
	if (pad > 2 || bits >= 6)
		return mg_error_set(err, MG_EINVAL, "invalid base64");
	return 0;
}

/* The entry for registry in an object keyed by registry ("auths",
 * "credHelpers"): the key as given, or with a scheme (and a path). */
static json_t *registry_entry(json_t *obj, const char *registry)
{
	json_t *e = json_object_get(obj, registry);
	if (e)
		return e;
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		const char *k = key;
		if (!strncmp(k, "https://", 8))
			k += 8;
		else if (!strncmp(k, "http://", 7))
			k += 7;
		size_t n = strlen(registry);
		if (!strncmp(k, registry, n) && (k[n] == '\0' || k[n] == '/'))
			return v;
	}
	return NULL;
}

/* The helper name at key (a string), checked: 0 and a copy in *helper,
 * MG_ENOTFOUND when there is none. */
static int helper_name(json_t *v, const char *what, const char *registry, char **helper,
		       mg_error *err)
{
	const char *name = json_string_value(v);
	if (!v || (name && !*name))
		return MG_ENOTFOUND;
	if (!name || strchr(name, '/') || strlen(name) > 200)
		return mg_error_set(err, MG_EINVAL, "docker config: the %s for '%s' is not the NAME of a "
				    "program docker-credential-NAME", what, registry);
	if (!(*helper = strdup(name)))
		return mg_error_set(err, MG_ENOMEM, "out of memory");
	return 0;
}

/* Docker asks the host's credHelpers entry, else the credsStore when one
 * is configured, else "auths". Here an "auths" entry that holds
 * credentials comes before the credsStore, because `modelgate login`
 * writes "auths" even where a credsStore is configured (it does not talk
 * to stores). Docker leaves its own "auths" entries empty when it uses a
 * store, so those still go to the store. */
int mg_auth_from_docker_config(const char *json, size_t len, const char *registry, char **user,
			       char **password, char **helper, mg_error *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(json, len, 0, &jerr);
	if (!j)
		return mg_error_set(err, MG_EINVAL, "docker config is not valid JSON: line %d, column %d: %s",
				    jerr.line, jerr.column, jerr.text);
	int rc = MG_ENOTFOUND;
	mg_buf dec = MG_BUF_INIT;
	*user = *password = NULL;
	if (helper) {
		*helper = NULL;
		rc = helper_name(registry_entry(json_object_get(j, "credHelpers"), registry),
				 "credHelpers entry", registry, helper, err);
		if (rc != MG_ENOTFOUND)
			goto done;
	}
	json_t *e = registry_entry(json_object_get(j, "auths"), registry);
	const char *auth = json_string_value(json_object_get(e, "auth"));
	const char *u = json_string_value(json_object_get(e, "username"));
	const char *p = json_string_value(json_object_get(e, "password"));
	if (auth && *auth) {
		char *colon;
		if (mg_base64_decode(&dec, auth, NULL) || !dec.data || !(colon = strchr(dec.data, ':'))) {
			rc = mg_error_set(err, MG_EINVAL, "docker config: the 'auth' of '%s' is not "
				     "base64 of USER:PASSWORD", registry);
			goto done;
		}
		*colon = '\0';
		u = dec.data;
		p = colon + 1;
	}
	if (u && p) {
		*user = strdup(u);
		*password = strdup(p);
		rc = 0;
		if (!*user || !*password) {
			free(*user);
			free(*password);
			*user = *password = NULL;
			rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		}
		goto done;
	}
	if (helper)
		rc = helper_name(json_object_get(j, "credsStore"), "credsStore", registry, helper, err);
done:
	if (dec.data)
		memset(dec.data, 0, dec.len);
	mg_buf_free(&dec);
	json_decref(j);
	return rc;
}

int mg_auth_config_path(mg_buf *out, mg_error *err)
{
	const char *dc = getenv("DOCKER_CONFIG");
	if (dc && *dc)
		return mg_buf_printf(out, err, "%s/config.json", dc);
	const char *home = getenv("HOME");
	if (!home || !*home)
		return mg_error_set(err, MG_EINVAL, "neither DOCKER_CONFIG nor HOME is set");
	return mg_buf_printf(out, err, "%s/.docker/config.json", home);
}

static int set_pair(char **user, char **password, const char *u, const char *p, mg_error *err)
{
	*user = strdup(u);
	*password = strdup(p);
	if (*user && *password)
		return 0;
	free(*user);
	free(*password);
	*user = *password = NULL;
	return mg_error_set(err, MG_ENOMEM, "out of memory");
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

int mg_auth_lookup(const char *registry, char **user, char **password,
		   char from[MG_AUTH_FROM_SIZE], mg_error *err)
{
	char ignored[MG_AUTH_FROM_SIZE];
	if (!from)
		from = ignored;
	*user = *password = NULL;
	from[0] = '\0';
	if (env("MODELGATE_REGISTRY_USER") && getenv("MODELGATE_REGISTRY_PASSWORD")) {
		snprintf(from, MG_AUTH_FROM_SIZE, "MODELGATE_REGISTRY_USER/MODELGATE_REGISTRY_PASSWORD");
		return set_pair(user, password, env("MODELGATE_REGISTRY_USER"),
				getenv("MODELGATE_REGISTRY_PASSWORD"), err);
	}
	const char *ci = env("CI_REGISTRY");
	if (ci && !strcmp(ci, registry) && env("CI_REGISTRY_USER") && env("CI_REGISTRY_PASSWORD")) {
		snprintf(from, MG_AUTH_FROM_SIZE, "CI_REGISTRY_USER/CI_REGISTRY_PASSWORD");
		return set_pair(user, password, env("CI_REGISTRY_USER"), env("CI_REGISTRY_PASSWORD"), err);
	}
	if (!strcmp(registry, "ghcr.io") && env("GITHUB_TOKEN")) {
		snprintf(from, MG_AUTH_FROM_SIZE, "GITHUB_TOKEN");
		return set_pair(user, password, env("GITHUB_ACTOR") ? env("GITHUB_ACTOR") : "x-access-token",
				env("GITHUB_TOKEN"), err);
	}
	mg_buf path = MG_BUF_INIT, text = MG_BUF_INIT;
	char *helper = NULL;
	int rc = mg_auth_config_path(&path, NULL);
	if (!rc)
		rc = mg_file_read(&text, path.data, 4u << 20, NULL);
	if (!rc) {
		mg_error e = {0};
		rc = mg_auth_from_docker_config(text.data, text.len, registry, user, password, &helper, &e);
		if (!rc && helper)
			rc = mg_auth_helper_get(helper, registry, user, password, &e);
		if (rc && rc != MG_ENOTFOUND) /* name the file */
			mg_error_set(err, rc, "'%s': %s", path.data, e.msg);
		else if (!rc && helper)
			snprintf(from, MG_AUTH_FROM_SIZE, "credential helper 'docker-credential-%.100s' "
				 "(named in '%.300s')", helper, path.data);
		else if (!rc)
			snprintf(from, MG_AUTH_FROM_SIZE, "'%.400s'", path.data);
	}
	if (rc == MG_ENOTFOUND || (rc && !text.data))
		rc = 0; /* no file, no entry, or the helper has none: anonymous */
	if (!*user)
		from[0] = '\0';
	if (text.data)
		memset(text.data, 0, text.len);
	free(helper);
	mg_buf_free(&text);
	mg_buf_free(&path);
	return rc;
}

int mg_auth_store(const char *registry, const char *user, const char *password, mg_error *err)
{
	mg_buf path = MG_BUF_INIT, text = MG_BUF_INIT, pair = MG_BUF_INIT;
	json_t *j = NULL;
	char *b = NULL, *out = NULL, *tmp = NULL, *real = NULL;
	int fd = -1;
	int rc = mg_auth_config_path(&path, err);
	if (rc)
		goto done;
	rc = mg_file_read(&text, path.data, 4u << 20, err);
	if (rc == MG_ENOTFOUND) {
		rc = 0;
		j = json_object();
	} else if (!rc) {
		json_error_t jerr;
		if (!(j = json_loadb(text.data, text.len, 0, &jerr)) || !json_is_object(j)) {
			rc = mg_error_set(err, MG_EINVAL, "'%s' is not a JSON object: line %d, column %d",
					  path.data, jerr.line, jerr.column);
			goto done;
		}
	} else {
		goto done;
	}
	json_t *auths = json_object_get(j, "auths");
	if (!json_is_object(auths)) {
		auths = json_object();
		json_object_set_new(j, "auths", auths);
	}
	if ((rc = mg_buf_printf(&pair, err, "%s:%s", user, password)) ||
	    !(b = mg_base64_encode(pair.data, pair.len, err))) {
		rc = rc ? rc : MG_ENOMEM;
		goto done;
	}
	json_t *entry = json_object_get(auths, registry);
	if (!json_is_object(entry)) {
		entry = json_object();
		json_object_set_new(auths, registry, entry);
	}
	json_object_set_new(entry, "auth", json_string(b));
	json_object_del(entry, "password");
	json_object_del(entry, "username");
	if (!(out = json_dumps(j, JSON_INDENT(1) | JSON_PRESERVE_ORDER))) {
		rc = mg_error_set(err, MG_ENOMEM, "out of memory");
		goto done;
	}
	/* a linked config (a dotfiles checkout) is replaced at the link's
	 * target, in its folder: the link stays, as docker keeps it */
	if ((rc = mg_path_follow(&real, path.data, err)))
		goto done;
	char *slash = strrchr(real, '/');
	if (slash)
		*slash = '\0';
	if (!(rc = slash ? mg_mkdirs(*real ? real : "/", err) : 0))
		rc = mg_tmpfile_open(&fd, &tmp, slash ? (*real ? real : "/") : ".", err);
	if (slash)
		*slash = '/';
	if (rc)
		goto done;
	if (fchmod(fd, 0600) < 0) {
		rc = mg_error_sys(err, MG_EIO, errno, "cannot protect '%s'", real);
		goto done;
	}
	if ((rc = mg_write_all(fd, out, strlen(out), real, err)))
		goto done;
	rc = mg_tmpfile_commit(fd, tmp, real, err);
	fd = -1;
done:
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	if (pair.data)
		memset(pair.data, 0, pair.len);
	if (b)
		memset(b, 0, strlen(b));
	if (out)
		memset(out, 0, strlen(out));
	free(tmp);
	free(real);
	free(b);
	free(out);
	json_decref(j);
	mg_buf_free(&pair);
	mg_buf_free(&text);
	mg_buf_free(&path);
	return rc;
}

int mg_registry_listed_insecure(const char *registry)
{
	const char *list = getenv("MODELGATE_INSECURE_REGISTRIES");
	size_t n = strlen(registry);
	for (const char *p = list; p && *p;) {
		size_t k = strcspn(p, ", ");
		if (k == n && !strncmp(p, registry, n))
			return 1;
		p += k;
		p += strspn(p, ", ");
	}
	return 0;
}
