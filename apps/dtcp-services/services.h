/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The classic TCP services (echo, discard, daytime, chargen) on one dtcp
 * worker, through the event API. One svc_worker per dtcp worker, used
 * only by the lcore that polls it; every worker listens on the same ports
 * (dtcp_tcp_listen is per worker, SO_REUSEPORT-like).
 */
#ifndef DTCP_SERVICES_H
#define DTCP_SERVICES_H

#include <stddef.h>
#include <stdint.h>

#include <rte_mempool.h>

#include <dtcp/dtcp.h>

enum svc_kind {
	SVC_ECHO,                     /* RFC 862, port 7 */
	SVC_DISCARD,                  /* RFC 863, port 9 */
	SVC_DAYTIME,                  /* RFC 867, port 13 */
	SVC_CHARGEN,                  /* RFC 864, port 19 */
	SVC_MAX
};

struct svc_opts {
	uint16_t port[SVC_MAX];       /* 0: the service is off */
	uint32_t max_clients;         /* connection states per worker */
	uint32_t echo_backlog;        /* bytes echo may hold for one connection, waiting for send space */
	uint32_t echo_mbufs;          /* mbufs echo may hold on one worker, all connections together */
};

/* One service on one worker; written by that worker's lcore only. */
struct svc_stats {
	uint64_t accepted;
	uint64_t refused;             /* no free connection state: reset at accept */
	uint64_t aborted;             /* echo backlog over its bound, or a send failed: reset */
	uint64_t failed;              /* ended with an error (reset by the peer, timeout, ...) */
	uint64_t at_exit;             /* still open when the program stopped: reset */
	uint64_t bytes_rx;
	uint64_t bytes_tx;            /* handed to TCP */
	uint64_t backlog_peak;        /* echo: the most one connection held waiting for send space, bytes */
};

struct svc_worker;

/* "echo", "discard", "daytime", "chargen". */
const char *svc_name(enum svc_kind k);

/*
 * Allocate the services' state for worker w (connection states from a
 * fixed array of o->max_clients) and listen on every address on each
 * port of o that is not 0. Chargen's mbufs come from pool. Before w is
 * polled, or on its lcore. NULL with a message in err on failure.
 */
struct svc_worker *svc_worker_create(struct dtcp_worker *w, struct rte_mempool *pool,
				     const struct svc_opts *o, char *err, size_t errlen);

/*
 * Reset the connections still open (counted in at_exit), free what echo
 * holds and stop listening. On w's lcore or once it is no longer polled.
 */
void svc_worker_stop(struct svc_worker *sw);

/* Free the state; after svc_worker_stop. NULL is allowed. */
void svc_worker_free(struct svc_worker *sw);

/* The counters of each service (SVC_MAX of them). */
const struct svc_stats *svc_worker_stats(const struct svc_worker *sw);

#endif
