/* Error records and growable buffers: the two things every fallible
 * function in modelgate passes around; and the escaping of outside text
 * that messages (and the CLI's output) quote. */
#include "util.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mg_escape_controls(char *out, size_t outlen, const char *s)
{
	size_t o = 0;
	if (!outlen)
		return;
	for (const unsigned char *p = (const unsigned char *)s; *p && o + 1 < outlen; p++) {
		if (*p >= 0x20 && *p != 0x7f) {
			out[o++] = (char)*p;
		} else if (o + 4 < outlen) {
			snprintf(out + o, 5, "\\x%02x", *p);
			o += 4;
		} else {
			break;
		}
	}
	out[o] = '\0';
}

int mg_has_controls(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 1;
	return 0;
}

static int error_vset(mg_error *err, int code, int errnum, const char *fmt, va_list ap)
{
	assert(code < 0);
	if (!err)
		return code;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(errnum));
	/* Messages quote outside input (file names, a registry's error body,
	 * layer titles): escaped, so that a hostile name cannot drive the
	 * terminal or break the one line a message is. */
	if (mg_has_controls(err->msg)) {
		char raw[sizeof(err->msg)];
		memcpy(raw, err->msg, sizeof(raw));
		mg_escape_controls(err->msg, sizeof(err->msg), raw);
	}
	return code;
}

int mg_error_set(mg_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, code, 0, fmt, ap);
	va_end(ap);
	return code;
}

int mg_error_sys(mg_error *err, int code, int errnum, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	error_vset(err, code, errnum, fmt, ap);
	va_end(ap);
	return code;
}

void mg_error_clear(mg_error *err)
{
	if (err) {
		err->code = 0;
		err->msg[0] = '\0';
	}
}

int mg_error_exit_code(int code)
{
	switch (code) {
	case MG_OK:
		return MG_EXIT_OK;
	case MG_EINVAL:
	case MG_ENOTFOUND:
	case MG_EEXISTS:
		return MG_EXIT_INPUT;
	default:
		return MG_EXIT_INFRA;
	}
}

int mg_buf_grow(mg_buf *b, size_t extra, mg_error *err)
{
	if (extra > MG_BUF_MAX || b->len > MG_BUF_MAX - extra)
		return mg_error_set(err, MG_ENOMEM, "buffer would exceed %zu bytes", MG_BUF_MAX);
	size_t need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap * 2;
	char *p = realloc(b->data, cap);
	if (!p)
		return mg_error_set(err, MG_ENOMEM, "out of memory (%zu bytes)", cap);
	if (!b->data)
		p[0] = '\0';
	b->data = p;
	b->cap = cap;
	return 0;
}

int mg_buf_append(mg_buf *b, const void *data, size_t len, mg_error *err)
{
	int rc = mg_buf_grow(b, len, err);
	if (rc)
		return rc;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int mg_buf_puts(mg_buf *b, const char *s, mg_error *err)
{
	return mg_buf_append(b, s, strlen(s), err);
}

int mg_buf_printf(mg_buf *b, mg_error *err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return mg_error_set(err, MG_ERROR, "bad format string '%s'", fmt);
	int rc = mg_buf_grow(b, (size_t)n, err);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

const char *mg_buf_cstr(const mg_buf *b)
{
	return b->data ? b->data : "";
}

char *mg_buf_detach(mg_buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}

void mg_buf_reset(mg_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

void mg_buf_free(mg_buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

char *mg_strdup(const char *s, mg_error *err)
{
	char *p = strdup(s);
	if (!p)
		mg_error_set(err, MG_ENOMEM, "out of memory");
	return p;
}

int mg_size_mul(size_t a, size_t b, size_t *out)
{
	if (b && a > SIZE_MAX / b)
		return -1;
	*out = a * b;
	return 0;
}
