/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-httpd's server on the event API: one per worker, on the worker's
 * lcore. Responses are built once (httpd_responses_create) and sent by
 * reference: each costs one mbuf attached to the shared buffer.
 */
#ifndef DTCP_HTTPD_H
#define DTCP_HTTPD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>

#include <dtcp/dtcp.h>

#define HTTPD_BODY_MAX (16u << 20)

struct httpd_opts {
	uint16_t port;                /* [httpd] port */
	uint32_t body_size;           /* body_size: bytes of every 200 response's body */
	bool keepalive;               /* keepalive: serve more than one request per connection */
	uint32_t max_header;          /* max_header: bytes of a request head, at most */
	uint32_t max_conns;           /* max_conns: open connections per worker */
	uint32_t partial_buffers;     /* partial_buffers: heads split over segments held at once, per worker */
};

/* Counters of one worker, written only by its lcore. */
#define HTTPD_STATS(X)                                                                   \
	X(accepted, "connections accepted")                                              \
	X(refused, "connections answered 503 and closed: max_conns open")               \
	X(requests, "request heads parsed")                                              \
	X(heads_cached, "request heads the same bytes as the last one parsed: one memcmp") \
	X(bad_heads, "request heads the parser refused (400, 431, 501, 505)")            \
	X(get, "GET requests")                                                           \
	X(head, "HEAD requests")                                                         \
	X(resp_200, "200 OK sent")                                                       \
	X(resp_400, "400 Bad Request sent (malformed head), then closed")               \
	X(resp_405, "405 Method Not Allowed sent (a method other than GET/HEAD), then closed") \
	X(resp_431, "431 Request Header Fields Too Large sent (beyond max_header), then closed") \
	X(resp_501, "501 Not Implemented sent (unknown method, Transfer-Encoding), then closed") \
	X(resp_505, "505 HTTP Version Not Supported sent, then closed")                 \
	X(keepalive_reuse, "requests after the first on their connection")              \
	X(split_heads, "request heads that arrived in more than one segment")          \
	X(send_waits, "responses that waited for send space")                          \
	X(close_server, "connections closed after a response (close, HTTP/1.0, keepalive off, error)") \
	X(close_peer, "connections the peer closed between requests")                  \
	X(close_mid_request, "connections the peer closed within a request head or body") \
	X(reset, "connections ended by a reset or timeout")                             \
	X(no_partial, "connections aborted: every partial_buffers buffer in use")       \
	X(no_mbuf, "connections aborted: no mbuf for a response")                       \
	X(no_slot, "connections aborted: every reference slot of the responses in use")  \
	X(at_exit, "connections open at exit, aborted")

enum httpd_stat {
#define X(name, desc) HTTPD_##name,
	HTTPD_STATS(X)
#undef X
	HTTPD_STAT_MAX
};

struct httpd_responses;
struct httpd_worker;

/*
 * The responses for opts, shared by nworkers workers whose references are
 * mbufs of a pool of pool_size; NULL + message.
 */
struct httpd_responses *httpd_responses_create(const struct httpd_opts *o, unsigned nworkers,
					       uint32_t pool_size, char *err, size_t errlen);
/* Free them; nonzero (with a message) when a reference is still out. */
int httpd_responses_free(struct httpd_responses *r, FILE *f);

/* A worker's server: its state and its listener. NULL + message. */
struct httpd_worker *httpd_worker_create(struct dtcp_worker *w, unsigned q,
					 struct rte_mempool *pool, const struct httpd_opts *o,
					 struct httpd_responses *r, char *err, size_t errlen);
/* Abort what is open, stop listening (the lcore has stopped). */
void httpd_worker_stop(struct httpd_worker *hw);
void httpd_worker_free(struct httpd_worker *hw);
const uint64_t *httpd_worker_stats(const struct httpd_worker *hw);
const char *httpd_stat_name(enum httpd_stat s);
const char *httpd_stat_desc(enum httpd_stat s);

/* The body's byte at offset i: a pattern a test can make again. */
static inline char
httpd_body_byte(uint64_t i)
{
	static const char set[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

	return set[i % 62];
}

#endif
