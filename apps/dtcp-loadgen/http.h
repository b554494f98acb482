/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP/1.1 of a load generator: one request text built once, and a
 * response reader that keeps 16 bytes of state per connection, allocates
 * nothing, and frames the body by its Content-Length (RFC 9112 §6.3) so
 * that body bytes are counted, never scanned.
 */
#ifndef LG_HTTP_H
#define LG_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
	LG_HTTP_HDR_MAX = 8192,       /* status line and headers together, at most */
	LG_HTTP_BODY_MAX = 1u << 30,  /* the largest Content-Length taken */
	LG_HTTP_PAD_MIN = 9,          /* "X-Pad: \r\n": the least padding that can be added */
};

/* Response reader state; all zero to start a response. */
struct lg_resp {
	uint32_t clen;                /* Content-Length */
	uint32_t body_left;           /* body bytes still to come */
	uint16_t status;
	uint16_t hdr_bytes;           /* bytes of status line and headers so far */
	uint8_t state;
	uint8_t pos;                  /* where in the current token */
	uint8_t cand;                 /* header names still matching (LG_HDR_* bits) */
	uint8_t flags;                /* LG_RESP_* */
};

enum {
	LG_RESP_HAS_CLEN = 1 << 0,    /* a Content-Length was read */
	LG_RESP_CLOSE = 1 << 1,       /* Connection: close */
};

enum lg_resp_verdict {
	LG_RESP_MORE,                 /* every byte taken, the response goes on */
	LG_RESP_DONE,                 /* the response ended after *used bytes */
	LG_RESP_BAD,                  /* not an HTTP/1.x response framed by Content-Length */
};

static inline void
lg_resp_reset(struct lg_resp *r)
{
	*r = (struct lg_resp){ 0 };
}

/*
 * Read n bytes of a response. *used is how many were taken: all of them
 * unless the response ended (DONE) before the last one.
 */
enum lg_resp_verdict lg_resp_feed(struct lg_resp *r, const uint8_t *p, uint32_t n,
				  uint32_t *used);

enum { LG_RESP_HEAD_CACHE = 256 };  /* bytes of a head kept for the fast path, at most */

/*
 * The last response head read whole from one piece of bytes, and what it
 * said: a server answers the same head over and over, which is then read
 * with one memcmp. Zero it to start; one per thread.
 */
struct lg_resp_cache {
	uint16_t len;                 /* 0: none yet */
	uint16_t status;
	uint32_t clen;
	uint8_t flags;
	uint64_t hits;                /* heads read by the memcmp */
	uint8_t head[LG_RESP_HEAD_CACHE];
};

/*
 * lg_resp_feed() with the cache: at the start of a response, bytes that
 * begin with the cached head are read as that head was; otherwise the
 * bytes go through lg_resp_feed(), and a head it reads whole from these
 * bytes alone (LG_RESP_HEAD_CACHE at most) becomes the cached one. The
 * same verdicts, *used and state as lg_resp_feed() for the same bytes.
 */
enum lg_resp_verdict lg_resp_feed_cached(struct lg_resp *r, struct lg_resp_cache *k,
					 const uint8_t *p, uint32_t n, uint32_t *used);

/*
 * "GET path HTTP/1.1" with Host and User-Agent, "Connection: close" when
 * close is true, padded with an X-Pad header to size bytes when size is
 * not 0. Returns the length written into buf (NUL-terminated), or
 * -EINVAL when size is below the bare request or within LG_HTTP_PAD_MIN
 * of it, or -ENOSPC when buf is too small.
 */
int lg_http_request(char *buf, size_t buflen, const char *path, const char *host, bool close,
		    uint32_t size);

#endif
