/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An HTTP/1.x request head parser (RFC 9112 §2-§6) that reads the bytes
 * where they are: no allocation, no copy, one pass. It finds what a server
 * of fixed bodies needs: the method, the version, whether the connection
 * persists, and how many body bytes follow the head.
 */
#ifndef DTCP_HTTPD_HTTP_H
#define DTCP_HTTPD_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum http_method {
	HTTP_GET,
	HTTP_HEAD,
	HTTP_OTHER,                   /* a method of RFC 9110 §9 we do not serve: 405 */
	HTTP_UNKNOWN,                 /* any other token: 501 */
};

struct http_request {
	enum http_method method;
	uint8_t minor;                /* HTTP/1.minor */
	bool keep_alive;              /* RFC 9112 §9.3: 1.1 unless "close", 1.0 only with "keep-alive" */
	uint64_t content_length;      /* body bytes that follow the head */
};

/*
 * What http_parse() returns besides a head's length: a need for more
 * bytes, or the status to answer with before closing.
 */
enum {
	HTTP_MORE = 0,
	HTTP_ERR_BAD = -400,          /* malformed */
	HTTP_ERR_TOO_LARGE = -431,    /* no end of head within max bytes */
	HTTP_ERR_TE = -501,           /* Transfer-Encoding: we read no chunked bodies */
	HTTP_ERR_VERSION = -505,      /* not HTTP/1.x */
};

/*
 * Parse the request head at the start of buf[0..len). Returns its length
 * (request line, fields and the empty line) with *r filled; HTTP_MORE when
 * the head is not complete yet and len < max; or an HTTP_ERR_* value.
 */
int http_parse(const char *buf, uint32_t len, uint32_t max, struct http_request *r);

enum { HTTP_HEAD_CACHE = 512 };   /* bytes of a head kept for the fast path, at most */

/*
 * The last head http_parse_cached() parsed in full and what it said: a
 * server whose clients send the same head over and over (a load
 * generator, a health check) then answers most with one memcmp. Zero it
 * to start; one per thread.
 */
struct http_head_cache {
	uint32_t len;                 /* 0: none yet */
	struct http_request req;
	uint64_t hits;                /* heads answered by the memcmp */
	char head[HTTP_HEAD_CACHE];
};

/*
 * http_parse() with the cache: a head byte for byte the cached one is
 * its result again; any other goes through http_parse() and, parsed and
 * at most HTTP_HEAD_CACHE bytes, becomes the cached one. The same
 * results as http_parse() for the same arguments.
 */
int http_parse_cached(struct http_head_cache *k, const char *buf, uint32_t len, uint32_t max,
		      struct http_request *r);

#ifdef __cplusplus
}
#endif
#endif
