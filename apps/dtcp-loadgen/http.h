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
