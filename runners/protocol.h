/* protocol: the frames the host and modelgate-agent exchange over the
 * agent's stdin/stdout. Shared by both sides; libc only.
 *
 * A frame is a u32 little-endian payload length, a u8 message type, then the
 * payload. Integers are little-endian; a string is a u32 length and bytes
 * (no NUL); a tensor is name (string), dtype (u32, ONNX numbering), rank
 * (u32), dims (i64 each), nbytes (u64), data. Every request gets exactly one
 * reply (of the same type, or OK, or ERROR), except PUT chunks before the
 * last one, which get none.
 *
 *   HELLO  host: u32 version, str engine to open ("" the agent's default)
 *                                     agent: u32 version, str engine,
 *                                            str engine_version, str arch,
 *                                            str cpu_model, u32 ncpu,
 *                                            str governor, str affinity,
 *                                            u64 loadavg x 1000 (all ones:
 *                                            unknown), str kernel
 *   HAVE   str digest                 agent: u8 present (and verified)
 *   PUT    str digest, u64 total, u64 offset, bytes to the frame's end
 *                                     agent, after the last chunk: OK
 *   LOAD   str digest, i32 threads, i32 opt_level, str provider
 *                                     agent: u32 handle, u64 load_ns,
 *                                            str engine, str engine_version
 *                                            (of the engine that loaded it)
 *   RUN    u32 handle, u32 warmup, u32 iterations, u64 min_time_ns,
 *          u32 max_iterations, u8 want_outputs, u32 n, n tensors
 *                                     agent: u64 first_ns, u32 n, n u64
 *                                            samples (ns), u32 n, n tensors
 *   STATS  -                          agent: u64 peak_rss, u64 bytes_in,
 *                                            u64 bytes_put, u32 models
 *   UNLOAD u32 handle                 agent: OK
 *   BYE    -                          agent: OK, then exits
 *   COST   u32 handle, u32 warmup, u32 runs, u32 n, n tensors
 *                                     agent: u64 instructions (of all runs),
 *                                            u32 runs, str counter
 *                                            ("perf_event", "callgrind"),
 *                                            str counter version, u64
 *                                            memory accesses, u64 last-level
 *                                            cache misses (all ones where
 *                                            not counted);
 *                                            ERROR MG_ENOTFOUND when it
 *                                            has no counter
 *   ERROR  (agent) i32 code (MG_E*), str message
 */
#ifndef MG_PROTOCOL_H
#define MG_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "formats/tensor.h"
#include "util/util.h"

#define MG_PROTO_VERSION 4
#define MG_FRAME_HEADER 5
/* No frame is larger than this; a longer length is refused unread. */
#define MG_FRAME_MAX (MG_BUF_MAX - 64)
#define MG_PROTO_STR_MAX 65536
/* PUT sends blobs in chunks of this size. */
#define MG_PUT_CHUNK ((size_t)4 << 20)

enum {
	MG_MSG_HELLO = 1,
	MG_MSG_HAVE = 2,
	MG_MSG_PUT = 3,
	MG_MSG_LOAD = 4,
	MG_MSG_RUN = 5,
	MG_MSG_STATS = 6,
	MG_MSG_UNLOAD = 7,
	MG_MSG_BYE = 8,
	MG_MSG_OK = 9,
	MG_MSG_ERROR = 10,
	MG_MSG_COST = 11,
};

/* Writing a frame into a buffer. Errors are sticky: after the first failure
 * the other calls do nothing, and mg_proto_end returns it. */
typedef struct mg_proto_w {
	mg_buf *b;
	int rc;
	mg_error *err;
} mg_proto_w;

/* Empties b and starts a frame of the given type in it. */
void mg_proto_begin(mg_proto_w *w, mg_buf *b, int type, mg_error *err);
void mg_proto_u8(mg_proto_w *w, uint8_t v);
void mg_proto_u32(mg_proto_w *w, uint32_t v);
void mg_proto_u64(mg_proto_w *w, uint64_t v);
void mg_proto_str(mg_proto_w *w, const char *s);
void mg_proto_bytes(mg_proto_w *w, const void *p, size_t n);
void mg_proto_tensor(mg_proto_w *w, const mg_tensor *t);
/* Fills in the length; 0 or the first error. */
int mg_proto_end(mg_proto_w *w);

/* Reading a frame's payload. Reads past the end set `bad` and return zeros;
 * check with mg_proto_r_done. */
typedef struct mg_proto_r {
	const uint8_t *p;
	size_t len, pos;
	int bad;
} mg_proto_r;

void mg_proto_r_init(mg_proto_r *r, const void *payload, size_t len);
uint8_t mg_proto_get_u8(mg_proto_r *r);
uint32_t mg_proto_get_u32(mg_proto_r *r);
uint64_t mg_proto_get_u64(mg_proto_r *r);
/* A string copied into out (NUL-terminated, truncated to outlen - 1). */
void mg_proto_get_str(mg_proto_r *r, char *out, size_t outlen);
/* n bytes in place, or NULL (and bad) when fewer remain. */
const void *mg_proto_get_bytes(mg_proto_r *r, size_t n);
/* A tensor (the caller frees it); MG_EINVAL naming `what` when malformed. */
int mg_proto_get_tensor(mg_proto_r *r, mg_tensor **out, const char *what, mg_error *err);
/* MG_EINVAL naming what unless the payload was read exactly to its end. */
int mg_proto_r_done(const mg_proto_r *r, const char *what, mg_error *err);

/* Parses a frame header: type and payload length; MG_EINVAL when the
 * length is over max. */
int mg_proto_header(const uint8_t hdr[MG_FRAME_HEADER], size_t max, int *type, size_t *len,
		    mg_error *err);

/* Reads one frame from fd into b (the payload; b is emptied first), waiting
 * at most timeout_ms for each piece of it (-1: forever). MG_ENET on end of
 * stream or timeout, naming peer; MG_EINVAL on a malformed header. */
int mg_proto_read_frame(int fd, mg_buf *b, int *type, int timeout_ms, const char *peer,
			mg_error *err);
/* Writes all of len bytes to fd, waiting at most timeout_ms for each piece
 * (-1: forever). Never raises SIGPIPE on a socket. */
int mg_proto_write(int fd, const void *data, size_t len, int timeout_ms, const char *peer,
		   mg_error *err);

#endif
