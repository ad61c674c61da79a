/* protocol: encoding and decoding of the host-agent frames (protocol.h has
 * the message table), and frame I/O on a file descriptor with a timeout on
 * every wait. libc only: it links into the agent. */
#include "runners/protocol.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void mg_proto_begin(mg_proto_w *w, mg_buf *b, int type, mg_error *err)
{
	w->b = b;
	w->err = err;
	w->rc = 0;
	mg_buf_reset(b);
	uint8_t hdr[MG_FRAME_HEADER] = {0, 0, 0, 0, (uint8_t)type};
	w->rc = mg_buf_append(b, hdr, sizeof(hdr), err);
}

void mg_proto_bytes(mg_proto_w *w, const void *p, size_t n)
{
	if (!w->rc && n)
		w->rc = mg_buf_append(w->b, p, n, w->err);
}

static void put_n(mg_proto_w *w, uint64_t v, int n)
{
	uint8_t tmp[8];
	put_le(tmp, v, n);
	mg_proto_bytes(w, tmp, (size_t)n);
}

void mg_proto_u8(mg_proto_w *w, uint8_t v) { put_n(w, v, 1); }
void mg_proto_u32(mg_proto_w *w, uint32_t v) { put_n(w, v, 4); }
void mg_proto_u64(mg_proto_w *w, uint64_t v) { put_n(w, v, 8); }

void mg_proto_str(mg_proto_w *w, const char *s)
{
	size_t n = strlen(s);
	if (n > MG_PROTO_STR_MAX)
		n = MG_PROTO_STR_MAX;
	put_n(w, n, 4);
	mg_proto_bytes(w, s, n);
}

void mg_proto_tensor(mg_proto_w *w, const mg_tensor *t)
{
	mg_proto_str(w, t->name);
	mg_proto_u32(w, (uint32_t)t->dtype);
	mg_proto_u32(w, (uint32_t)t->rank);
	for (size_t i = 0; i < t->rank; i++)
		mg_proto_u64(w, (uint64_t)t->dims[i]);
	mg_proto_u64(w, t->nbytes);
	mg_proto_bytes(w, t->data, t->nbytes);
}

int mg_proto_end(mg_proto_w *w)
{
	if (w->rc)
		return w->rc;
	size_t len = w->b->len - MG_FRAME_HEADER;
	if (len > MG_FRAME_MAX)
		return w->rc = mg_error_set(w->err, MG_ENOMEM, "a frame of %zu bytes is over the limit",
					    len);
	put_le((uint8_t *)w->b->data, len, 4);
	return 0;
}

void mg_proto_r_init(mg_proto_r *r, const void *payload, size_t len)
{
	r->p = payload;
	r->len = len;
	r->pos = 0;
	r->bad = 0;
}

const void *mg_proto_get_bytes(mg_proto_r *r, size_t n)
{
	if (r->bad || n > r->len - r->pos) {
		r->bad = 1;
		return NULL;
	}
	const void *p = r->p + r->pos;
	r->pos += n;
	return p;
}

static uint64_t get_n(mg_proto_r *r, int n)
{
	const uint8_t *p = mg_proto_get_bytes(r, (size_t)n);
	return p ? get_le(p, n) : 0;
}

uint8_t mg_proto_get_u8(mg_proto_r *r) { return (uint8_t)get_n(r, 1); }
uint32_t mg_proto_get_u32(mg_proto_r *r) { return (uint32_t)get_n(r, 4); }
uint64_t mg_proto_get_u64(mg_proto_r *r) { return get_n(r, 8); }

void mg_proto_get_str(mg_proto_r *r, char *out, size_t outlen)
{
	uint32_t n = mg_proto_get_u32(r);
	const char *p = mg_proto_get_bytes(r, n);
	size_t k = p ? (n < outlen - 1 ? n : outlen - 1) : 0;
	if (k)
		memcpy(out, p, k);
	out[k] = '\0';
}

int mg_proto_get_tensor(mg_proto_r *r, mg_tensor **out, const char *what, mg_error *err)
{
	*out = NULL;
	char name[1024];
	int64_t dims[MG_TENSOR_MAX_RANK];
	mg_proto_get_str(r, name, sizeof(name));
	uint32_t dtype = mg_proto_get_u32(r);
	uint32_t rank = mg_proto_get_u32(r);
	if (r->bad || rank > MG_TENSOR_MAX_RANK)
		return mg_error_set(err, MG_EINVAL, "%s: malformed tensor header", what);
	for (uint32_t i = 0; i < rank; i++)
		dims[i] = (int64_t)mg_proto_get_u64(r);
	uint64_t nbytes = mg_proto_get_u64(r);
	if (r->bad)
		return mg_error_set(err, MG_EINVAL, "%s: malformed tensor header", what);
	if (nbytes > r->len - r->pos)
		return mg_error_set(err, MG_EINVAL, "%s: tensor '%s' is truncated", what, name);
	mg_tensor *t;
	int rc = mg_tensor_new(&t, name, (mg_dtype)dtype, dims, rank, err);
	if (rc)
		return rc;
	if (t->nbytes != nbytes) {
		size_t need = t->nbytes;
		mg_tensor_free(t);
		return mg_error_set(err, MG_EINVAL, "%s: tensor '%s' has %llu bytes, its shape needs %zu",
				    what, name, (unsigned long long)nbytes, need);
	}
	memcpy(t->data, mg_proto_get_bytes(r, nbytes), nbytes);
	*out = t;
	return 0;
}

int mg_proto_r_done(const mg_proto_r *r, const char *what, mg_error *err)
{
	if (r->bad)
		return mg_error_set(err, MG_EINVAL, "%s: truncated message", what);
	if (r->pos != r->len)
		return mg_error_set(err, MG_EINVAL, "%s: %zu unexpected bytes at the end of a message",
				    what, r->len - r->pos);
	return 0;
}

int mg_proto_header(const uint8_t hdr[MG_FRAME_HEADER], size_t max, int *type, size_t *len,
		    mg_error *err)
{
	*len = (size_t)get_le(hdr, 4);
	*type = hdr[4];
	if (*len > max)
		return mg_error_set(err, MG_EINVAL, "a frame of %zu bytes is over the limit of %zu",
				    *len, max);
	if (*type < MG_MSG_HELLO || *type > MG_MSG_COST) /* the last type */
		return mg_error_set(err, MG_EINVAL, "unknown message type %d", *type);
	return 0;
}

/* Waits until fd is ready for events; MG_ENET on timeout. */
static int wait_fd(int fd, short events, int timeout_ms, const char *peer, mg_error *err)
{
	struct pollfd p = {fd, events, 0};
	for (;;) {
		int n = poll(&p, 1, timeout_ms);
		if (n > 0)
			return 0;
		if (n == 0)
			return mg_error_set(err, MG_ENET, "%s: no answer within %d s", peer,
					    timeout_ms / 1000);
		if (errno != EINTR)
			return mg_error_sys(err, MG_ENET, errno, "%s: poll", peer);
	}
}

static int read_full(int fd, void *buf, size_t len, int timeout_ms, const char *peer,
		     mg_error *err)
{
	char *p = buf;
	while (len) {
		int rc = wait_fd(fd, POLLIN, timeout_ms, peer, err);
		if (rc)
			return rc;
		ssize_t n = read(fd, p, len);
		if (n == 0)
			return mg_error_set(err, MG_ENET, "%s: connection closed", peer);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return mg_error_sys(err, MG_ENET, errno, "%s: read", peer);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int mg_proto_read_frame(int fd, mg_buf *b, int *type, int timeout_ms, const char *peer,
			mg_error *err)
{
	uint8_t hdr[MG_FRAME_HEADER];
	size_t len;
	mg_buf_reset(b);
	int rc = read_full(fd, hdr, sizeof(hdr), timeout_ms, peer, err);
	if (!rc)
		rc = mg_proto_header(hdr, MG_FRAME_MAX, type, &len, err);
	if (!rc && len)
		rc = mg_buf_grow(b, len, err);
	if (!rc && len)
		rc = read_full(fd, b->data, len, timeout_ms, peer, err);
	if (!rc && len) {
		b->len = len;
		b->data[len] = '\0';
	}
	return rc;
}

int mg_proto_write(int fd, const void *data, size_t len, int timeout_ms, const char *peer,
		   mg_error *err)
{
	const char *p = data;
	int sock = 1;
	while (len) {
		int rc = wait_fd(fd, POLLOUT, timeout_ms, peer, err);
		if (rc)
			return rc;
		ssize_t n = sock ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
		if (n < 0 && sock && errno == ENOTSOCK) {
			sock = 0;
			continue;
		}
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return mg_error_set(err, MG_ENET, "%s: connection closed", peer);
			return mg_error_sys(err, MG_ENET, errno, "%s: write", peer);
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}
