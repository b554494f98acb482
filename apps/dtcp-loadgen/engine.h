/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The connection engine of dtcp-loadgen: one per dtcp worker, run on the
 * worker's lcore after each poll. It opens connections from its share of
 * the client 4-tuples at a paced rate under a concurrency cap, sends the
 * prebuilt request by reference as soon as the SYN is queued, reads each
 * response by its Content-Length, closes, and counts every outcome.
 */
#ifndef LG_ENGINE_H
#define LG_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mempool.h>

#include <dtcp/dtcp.h>

enum {
	LG_ADDRS_MAX = DTCP_MAX_ADDRS,
	LG_REQ_MAX = 16384,           /* request bytes, at most */
	LG_SNAPS = 16,                /* per-second snapshots waiting to be printed, at most */
	LG_PATH_MAX = 1024,
	LG_HOST_MAX = 256,
};

/* Who sends the first FIN, and so who holds TIME-WAIT (RFC 9293 §3.6). */
enum lg_fin_first {
	LG_FIN_CLIENT,                /* we close after the last response: TIME-WAIT here */
	LG_FIN_SERVER,                /* the last request says "Connection: close": TIME-WAIT there */
};

/* [loadgen] (and the options of the same names). */
struct lg_opts {
	uint32_t server;              /* server = A.B.C.D */
	uint16_t server_port;         /* server_port */
	uint32_t client_addrs[LG_ADDRS_MAX]; /* client_addrs = A.B.C.D[-A.B.C.D][,...] */
	unsigned n_client_addrs;      /* 0: every [ip] address */
	uint16_t port_lo, port_hi;    /* client_ports = LO-HI */
	uint32_t rate;                /* rate: connections opened per second, 0: as fast as the cap allows */
	uint32_t concurrency;         /* concurrency: connections open at once, at most (per worker) */
	uint32_t duration_s;          /* duration: seconds of opening connections */
	uint32_t requests;            /* requests: per connection (1: no keep-alive; 0: until the run ends) */
	enum lg_fin_first fin_first;  /* fin_first = client | server */
	char path[LG_PATH_MAX];       /* path */
	char host[LG_HOST_MAX];       /* host: the Host header ("" : server:port) */
	uint32_t request_size;        /* request_size: bytes of each request, 0: the bare request */
	int64_t response_size;        /* response_size: the Content-Length expected, -1: any */
	uint32_t connect_timeout_ms;  /* connect_timeout_ms: SYN-SENT longer is an error */
	uint32_t timeout_ms;          /* timeout_ms: a response, or the close, taking longer is an error */
	uint32_t drain_ms;            /* drain_ms: after duration, how long open connections may finish */
	uint64_t max_errors;          /* max_errors: more errors and the exit status is 4 */
	uint32_t burst;               /* burst: connections opened per poll, at most */
	uint32_t wait_ms;             /* wait_ms: how long the server may take to accept a first connection */
};

/*
 * The engine's counters: name, whether it is an error, and what it counts.
 * Written only by the engine's lcore.
 */
#define LG_STATS(X) \
	X(opened, 0, "connections opened (SYN queued)") \
	X(established, 0, "connections that reached ESTABLISHED") \
	X(completed, 0, "connections that got every response and closed with FIN both ways") \
	X(closed_first, 0, "orderly closes where we sent the first FIN: each one enters TIME-WAIT here") \
	X(closed_second, 0, "orderly closes where the server sent the first FIN: TIME-WAIT is the server's") \
	X(requests, 0, "requests handed to TCP") \
	X(responses, 0, "responses received whole") \
	X(resp_bytes, 0, "response bytes received, headers included") \
	X(resp_heads_cached, 0, "response heads the same bytes as the last one read: one memcmp") \
	X(tuple_busy, 0, "4-tuples passed over: still in use or in TIME-WAIT") \
	X(cap_held, 0, "connections the rate asked for that the concurrency cap held back") \
	X(backoffs, 0, "times the rate was halved: errors, or the cap reached, in a 100 ms period") \
	X(unfinished, 0, "connections still open when the program stopped (reset; not errors)") \
	X(probe_failed, 0, "first connections that failed before the run began (retried until wait_ms)") \
	X(err_refused, 1, "errors: connection refused (RST or ICMP to our SYN)") \
	X(err_connect_timeout, 1, "errors: no handshake within connect_timeout_ms") \
	X(err_reset, 1, "errors: connection reset after the handshake") \
	X(err_timeout, 1, "errors: a response or the close took longer than timeout_ms, or TCP gave up") \
	X(err_short, 1, "errors: the server closed before the whole response") \
	X(err_malformed, 1, "errors: not an HTTP/1.x response with a Content-Length, or bytes nobody asked for") \
	X(err_status, 1, "errors: responses with a status other than 200") \
	X(err_size, 1, "errors: responses whose Content-Length is not response_size") \
	X(err_tuples, 1, "errors: opens given up, every 4-tuple tried was busy (ranges too small for rate x TIME-WAIT)") \
	X(err_local, 1, "errors: opens or sends the stack refused (connection table, mbufs)") \
	X(err_slots, 1, "errors: requests not sent, every reference slot of the request in use")

enum lg_stat {
#define LG_STAT_ENUM(name, err, desc) LG_##name,
	LG_STATS(LG_STAT_ENUM)
#undef LG_STAT_ENUM
	LG_STAT_MAX
};

const char *lg_stat_name(enum lg_stat s);
const char *lg_stat_desc(enum lg_stat s);
bool lg_stat_is_error(enum lg_stat s);

/* Notes of a second, for its line. */
enum {
	LG_NOTE_CAP = 1 << 0,         /* the concurrency cap held back opens */
	LG_NOTE_BACKOFF = 1 << 1,     /* the rate was below the target */
	LG_NOTE_TUPLES = 1 << 2,      /* 4-tuples ran out */
	LG_NOTE_DRAIN = 1 << 3,       /* opening stopped: waiting for open connections */
};

/* What one second looked like at its end, published by the engine's lcore. */
struct lg_snap {
	uint64_t t_ns;                /* since the engine started */
	uint64_t stat[LG_STAT_MAX];
	uint64_t ctr[DTCP_CTR_MAX];
	uint64_t timewait;            /* TIME-WAIT records now */
	uint64_t open;                /* connections open now */
	uint32_t rate;                /* the rate in force at the end of the second */
	uint32_t notes;               /* LG_NOTE_* seen during the second */
};

struct lg_engine;

/*
 * The engine of worker w, which must not yet be polled or be polled by the
 * calling lcore. req/req_last: the request text, and the one that ends a
 * connection (the same unless fin_first is server), LG_REQ_MAX bytes
 * at most each; pool: for the request's mbufs. NULL with a message in err.
 */
struct lg_engine *lg_engine_create(struct dtcp_worker *w, struct rte_mempool *pool,
				   const struct lg_opts *o, const uint32_t *addrs,
				   unsigned n_addrs, const char *req, uint32_t req_len,
				   const char *req_last, uint32_t req_last_len,
				   char *err, size_t errlen);

/*
 * Optional: fn(arg, false) on the engine's lcore when a request is handed
 * to TCP, fn(arg, true) when its response is whole (for a benchmark that
 * times each exchange itself). NULL: none.
 */
void lg_engine_set_hook(struct lg_engine *e, void (*fn)(void *arg, bool response), void *arg);

/* After each dtcp_worker_poll(), on the worker's lcore, with that poll's time. */
void lg_engine_poll(struct lg_engine *e, uint64_t now_ns);

/*
 * The run has begun: a first connection from each client address was
 * accepted (the clock of the per-second lines starts then). Before, one
 * connection at a time is tried, for up to wait_ms, so that ARP and a
 * server still starting cost no errors; if they are not all accepted by
 * then, the last failure is the run's one error.
 */
bool lg_engine_started(const struct lg_engine *e);

/* Opening is over and every connection ended, or the drain time ran out. */
bool lg_engine_done(const struct lg_engine *e);

/* Reset what is still open (counted as unfinished); the worker is no longer polled. */
void lg_engine_stop(struct lg_engine *e);
void lg_engine_free(struct lg_engine *e);

/* The engine's counters now (for the final summary; its lcore has stopped). */
const uint64_t *lg_engine_stats(const struct lg_engine *e);

/*
 * The next per-second snapshot not yet taken, from one other thread: true
 * and *out filled, or false when the engine has not finished that second.
 * *lost: the seconds that found every slot waiting to be taken.
 */
bool lg_engine_take_snap(struct lg_engine *e, struct lg_snap *out, uint64_t *lost);

#endif
