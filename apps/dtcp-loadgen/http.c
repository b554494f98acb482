/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Response reading byte by byte through the status line and headers
 * (RFC 9112 §4, §5), then the body counted by Content-Length (§6.3).
 * Only what a load generator must know is read: the status code, the
 * Content-Length and "Connection: close"; other headers are skipped.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "http.h"

enum state {
	S_VERSION,                    /* "HTTP/1.x " */
	S_STATUS,                     /* three digits */
	S_REASON,                     /* the rest of the status line */
	S_LINE,                       /* the start of a header line, or the empty line */
	S_NAME,                       /* a field name, matched against the ones we read */
	S_CLEN,                       /* Content-Length's digits */
	S_CLEN_TAIL,                  /* whitespace after them */
	S_CONN,                       /* Connection's value */
	S_SKIP,                       /* to the end of the line */
	S_END,                        /* the LF of the empty line */
	S_BODY,
};

/* Header names we read, lower case, by their LG_HDR_* bit. */
enum { LG_HDR_CLEN = 1 << 0, LG_HDR_CONN = 1 << 1 };
static const char clen_name[] = "content-length";
static const char conn_name[] = "connection";
static const char version[] = "HTTP/1.";

static inline uint8_t
lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

/* The empty line after the headers: the body follows, or the response is whole. */
static enum lg_resp_verdict
headers_done(struct lg_resp *r)
{
	/* Without a length the body would end only with the connection (RFC 9112
	 * §6.3 rule 8), which cannot be told from a short response. */
	if (!(r->flags & LG_RESP_HAS_CLEN))
		return LG_RESP_BAD;
	r->state = S_BODY;
	r->body_left = r->clen;
	return r->clen == 0 ? LG_RESP_DONE : LG_RESP_MORE;
}

/* One byte of the status line or headers. */
static enum lg_resp_verdict
head_byte(struct lg_resp *r, uint8_t c)
{
	switch ((enum state)r->state) {
	case S_VERSION:
		if (r->pos < sizeof(version) - 1) {
			if (c != (uint8_t)version[r->pos])
				return LG_RESP_BAD;
		} else if (r->pos == sizeof(version) - 1) {
			if (c != '0' && c != '1')
				return LG_RESP_BAD;
		} else {
			if (c != ' ')
				return LG_RESP_BAD;
			r->state = S_STATUS;
			r->pos = 0;
			return LG_RESP_MORE;
		}
		r->pos++;
		return LG_RESP_MORE;
	case S_STATUS:
		if (c < '0' || c > '9')
			return LG_RESP_BAD;
		r->status = (uint16_t)(r->status * 10 + (c - '0'));
		if (++r->pos == 3)
			r->state = S_REASON;
		return LG_RESP_MORE;
	case S_REASON:
	case S_SKIP:
		if (c == '\n')
			r->state = S_LINE;
		return LG_RESP_MORE;
	case S_LINE:
		if (c == '\r') {
			r->state = S_END;
			return LG_RESP_MORE;
		}
		if (c == '\n')
			return headers_done(r);
		/* A field line starting with whitespace is obsolete folding (RFC 9112 §5.2). */
		if (c == ' ' || c == '\t' || c == ':')
			return LG_RESP_BAD;
		r->state = S_NAME;
		r->pos = 0;
		r->cand = LG_HDR_CLEN | LG_HDR_CONN;
		/* fall through: the byte is the first of the name */
		__attribute__((fallthrough));
	case S_NAME:
		if (c == ':') {
			if ((r->cand & LG_HDR_CLEN) && r->pos == sizeof(clen_name) - 1) {
				/* Two lengths: RFC 9112 §6.3 rule 5 makes it an error we need not untangle. */
				if (r->flags & LG_RESP_HAS_CLEN)
					return LG_RESP_BAD;
				r->state = S_CLEN;
				r->clen = 0;
				r->pos = 0;
			} else if ((r->cand & LG_HDR_CONN) && r->pos == sizeof(conn_name) - 1) {
				r->state = S_CONN;
				r->pos = 0;
			} else {
				r->state = S_SKIP;
			}
			return LG_RESP_MORE;
		}
		if (c == '\n' || c == '\r')
			return LG_RESP_BAD;
		c = lower(c);
		if (r->pos >= sizeof(clen_name) - 1 || (uint8_t)clen_name[r->pos] != c)
			r->cand &= (uint8_t)~LG_HDR_CLEN;
		if (r->pos >= sizeof(conn_name) - 1 || (uint8_t)conn_name[r->pos] != c)
			r->cand &= (uint8_t)~LG_HDR_CONN;
		if (r->cand == 0)
			r->state = S_SKIP;
		else
			r->pos++;
		return LG_RESP_MORE;
	case S_CLEN:
		if (c >= '0' && c <= '9') {
			r->clen = r->clen * 10 + (uint32_t)(c - '0');
			if (r->clen > LG_HTTP_BODY_MAX)
				return LG_RESP_BAD;
			r->pos = 1;
			return LG_RESP_MORE;
		}
		if (c == ' ' || c == '\t') {
			if (r->pos != 0)
				r->state = S_CLEN_TAIL;
			return LG_RESP_MORE;
		}
		__attribute__((fallthrough));
	case S_CLEN_TAIL:
		if (c == ' ' || c == '\t')
			return LG_RESP_MORE;
		if ((c != '\r' && c != '\n') || (r->state == S_CLEN && r->pos == 0))
			return LG_RESP_BAD;
		r->flags |= LG_RESP_HAS_CLEN;
		r->state = c == '\n' ? S_LINE : S_SKIP;
		return LG_RESP_MORE;
	case S_CONN:
		/* The first token, "close" in any case, before whitespace, ',' or the end. */
		if (r->pos == 0 && (c == ' ' || c == '\t'))
			return LG_RESP_MORE;
		if (r->pos < 5 && lower(c) == (uint8_t)"close"[r->pos]) {
			r->pos++;
			return LG_RESP_MORE;
		}
		if (r->pos == 5 && (c == ' ' || c == '\t' || c == ',' || c == '\r' || c == '\n'))
			r->flags |= LG_RESP_CLOSE;
		r->state = c == '\n' ? S_LINE : S_SKIP;
		return LG_RESP_MORE;
	case S_END:
		if (c != '\n')
			return LG_RESP_BAD;
		return headers_done(r);
	case S_BODY:
		break;
	}
	return LG_RESP_BAD;
}

enum lg_resp_verdict
lg_resp_feed(struct lg_resp *r, const uint8_t *p, uint32_t n, uint32_t *used)
{
	uint32_t i = 0;

	while (i < n && r->state != S_BODY) {
		enum lg_resp_verdict v;

		/* Lines we do not read (the reason phrase, other headers): to their LF at once. */
		if (r->state == S_SKIP || r->state == S_REASON) {
			const uint8_t *lf = memchr(p + i, '\n', n - i);
			uint32_t k = lf != NULL ? (uint32_t)(lf - (p + i)) : n - i;

			if ((uint32_t)r->hdr_bytes + k > LG_HTTP_HDR_MAX) {
				*used = i + (LG_HTTP_HDR_MAX - r->hdr_bytes);
				return LG_RESP_BAD;
			}
			r->hdr_bytes = (uint16_t)(r->hdr_bytes + k);
			i += k;
			if (lf == NULL)
				break;
		}
		if (++r->hdr_bytes > LG_HTTP_HDR_MAX) {
			*used = i;
			return LG_RESP_BAD;
		}
		v = head_byte(r, p[i++]);
		if (v != LG_RESP_MORE) {
			*used = i;
			return v;
		}
	}
	if (r->state == S_BODY) {
		uint32_t k = n - i < r->body_left ? n - i : r->body_left;

		r->body_left -= k;
		i += k;
		if (r->body_left == 0) {
			*used = i;
			return LG_RESP_DONE;
		}
	}
	*used = i;
	return LG_RESP_MORE;
}

enum lg_resp_verdict
lg_resp_feed_cached(struct lg_resp *r, struct lg_resp_cache *k, const uint8_t *p, uint32_t n,
		    uint32_t *used)
{
	bool fresh = r->state == S_VERSION && r->pos == 0 && r->hdr_bytes == 0;
	enum lg_resp_verdict v;

	if (fresh && k->len != 0 && n >= k->len && memcmp(p, k->head, k->len) == 0) {
		/* The same bytes through the empty line: the reader would end where it did. */
		uint32_t body_used;

		k->hits++;
		r->status = k->status;
		r->clen = k->clen;
		r->flags = k->flags;
		r->hdr_bytes = k->len;
		r->state = S_BODY;
		r->body_left = k->clen;
		v = lg_resp_feed(r, p + k->len, n - k->len, &body_used);
		*used = k->len + body_used;
		return v;
	}
	v = lg_resp_feed(r, p, n, used);
	if (fresh && v != LG_RESP_BAD && r->state == S_BODY && r->hdr_bytes <= LG_RESP_HEAD_CACHE) {
		/* The whole head was p[0..hdr_bytes). */
		memcpy(k->head, p, r->hdr_bytes);
		k->len = r->hdr_bytes;
		k->status = r->status;
		k->clen = r->clen;
		k->flags = r->flags;
	}
	return v;
}

int
lg_http_request(char *buf, size_t buflen, const char *path, const char *host, bool close,
		uint32_t size)
{
	int bare = snprintf(buf, buflen,
			    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: dtcp-loadgen\r\n%s\r\n",
			    path, host, close ? "Connection: close\r\n" : "");
	uint32_t pad;
	size_t at;

	if (bare < 0 || (size_t)bare >= buflen)
		return -ENOSPC;
	if (size == 0 || size == (uint32_t)bare)
		return bare;
	if (size < (uint32_t)bare + LG_HTTP_PAD_MIN)
		return -EINVAL;
	if (size >= buflen)
		return -ENOSPC;
	/* The padding goes before the empty line that ends the request. */
	pad = size - (uint32_t)bare - LG_HTTP_PAD_MIN;
	at = (size_t)bare - 2;
	memcpy(buf + at, "X-Pad: ", 7);
	memset(buf + at + 7, 'x', pad);
	memcpy(buf + at + 7 + pad, "\r\n\r\n", 5);
	return (int)size;
}
