/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Channels: TCP for an application on another lcore, through a pair of
 * single-producer single-consumer rte_rings, with no copy on either side.
 *
 *   worker lcore                               application lcore
 *   dtcp_worker_poll() ── events (by value) ──► dtcp_chan_recv()
 *                      ◄── commands (by value) ── dtcp_chan_send(), ...
 *
 * Received payload travels as the very mbufs the port received; sent
 * payload as the application's mbufs, which the stack references from its
 * segments. The application names connections by handles (a slot and a
 * generation): the worker's TCBs are never touched by the application
 * thread, and a handle whose connection is gone is refused, not misused.
 *
 * Flow control, both ways, with nothing dropped:
 *  - sending: each connection has a send credit in bytes, kept on the
 *    application's side; dtcp_chan_send() beyond it is refused with
 *    -EAGAIN, and DTCP_CHAN_EV_WRITABLE adds credit as the peer
 *    acknowledges data. The credit never exceeds what the send buffer can
 *    take, so a send within it is never refused by the stack for room.
 *  - receiving: when the event ring is full, the worker keeps the
 *    connection's events in order and pauses its receiving, so the TCP
 *    window closes; draining the ring resumes it.
 *
 * Functions marked "application" are for the one application thread of the
 * channel, those marked "worker" for the lcore that polls the worker.
 */
#ifndef DTCP_CHAN_H
#define DTCP_CHAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>

#include <dtcp/tcp.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dtcp_worker;
struct dtcp_chan;

/* Bounds checked by dtcp_chan_create(). */
#define DTCP_CHAN_RING_MIN 8u
#define DTCP_CHAN_RING_MAX (1u << 20)
#define DTCP_CHAN_CONNS_MAX (1u << 20)
#define DTCP_CHAN_BURST_MAX 256u
/* Channels one worker polls. */
#define DTCP_WORKER_CHANS_MAX 8u

struct dtcp_chan_params {
	const char *name;             /* names the rings: unique in the process */
	int socket_id;                /* memory for rings and tables (SOCKET_ID_ANY) */
	uint32_t ev_ring_size;        /* events, worker to application: a power of two */
	uint32_t cmd_ring_size;       /* commands, application to worker: a power of two */
	uint32_t conns_max;           /* listeners and connections at once */
	uint32_t credit_step;         /* least credit a WRITABLE carries; 0: a quarter
				       * of the send buffer (a full credit always goes) */
	uint32_t cmd_burst;           /* commands taken per worker poll */
};

/* ev/cmd rings 1024, 1024 handles, credit_step 0, cmd_burst 32. */
void dtcp_chan_params_defaults(struct dtcp_chan_params *p);

/*
 * A channel, not yet polled by any worker. NULL with a message in err for
 * parameters out of bounds (ring sizes not a power of two within
 * DTCP_CHAN_RING_MIN..MAX, conns_max 0 or above DTCP_CHAN_CONNS_MAX,
 * cmd_burst above DTCP_CHAN_BURST_MAX), a name in use, or no memory.
 */
struct dtcp_chan *dtcp_chan_create(const struct dtcp_chan_params *p, char *err,
				   size_t errlen);

/*
 * Worker: poll ch in every dtcp_worker_poll() from now on. Call on the
 * worker's lcore (or before it polls). 0, -EEXIST, -ENOSPC (already
 * DTCP_WORKER_CHANS_MAX), -EBUSY (ch is another worker's).
 */
int dtcp_worker_add_chan(struct dtcp_worker *w, struct dtcp_chan *ch);

/*
 * After the worker and the application thread are done with it (destroy
 * the worker first: its connections go without events): every mbuf still
 * in the rings or held for a connection is freed.
 */
void dtcp_chan_destroy(struct dtcp_chan *ch);

/* A connection or listener: slot in the low 32 bits, generation in the high. 0 is none. */
typedef uint64_t dtcp_chan_handle;

enum dtcp_chan_event_type {
	/* dtcp_chan_listen() succeeded: handle is the listener. */
	DTCP_CHAN_EV_LISTENING,
	/* A connection from a listener (ev->listener), ESTABLISHED; credit is
	 * its first send credit. Its handle is new. */
	DTCP_CHAN_EV_ACCEPTED,
	/* dtcp_chan_connect() reached ESTABLISHED; credit as above. */
	DTCP_CHAN_EV_CONNECTED,
	/* In-order bytes: data is a chain of data->pkt_len bytes that now
	 * belongs to the application, to free or to send back. */
	DTCP_CHAN_EV_DATA,
	/* The peer's FIN: no more data. */
	DTCP_CHAN_EV_PEER_CLOSED,
	/* The peer acknowledged data: credit more bytes may be sent. */
	DTCP_CHAN_EV_WRITABLE,
	/* A command could not be carried out (cmd, error: -EBADF for a stale
	 * handle, -EPIPE, -ENOTCONN, ...); a send's mbufs come back in data,
	 * its bytes in credit (added back to the connection's credit). */
	DTCP_CHAN_EV_REFUSED,
	/* The last event of a handle: error 0 for an orderly end, else
	 * -ECONNRESET, -ETIMEDOUT, ...; also a listen or connect that failed
	 * (handle 0 when none was given, user tells which). */
	DTCP_CHAN_EV_CLOSED,
};

enum dtcp_chan_cmd_type {
	DTCP_CHAN_CMD_LISTEN,
	DTCP_CHAN_CMD_CONNECT,
	DTCP_CHAN_CMD_SEND,
	DTCP_CHAN_CMD_SHUTDOWN,
	DTCP_CHAN_CMD_CLOSE,
	DTCP_CHAN_CMD_ABORT,
	DTCP_CHAN_CMD_RECV_PAUSE,
};

/* One event, carried by value in the ring. */
struct dtcp_chan_event {
	dtcp_chan_handle handle;
	dtcp_chan_handle listener;    /* ACCEPTED */
	uint64_t user;                /* the listen's or connect's user value */
	struct rte_mbuf *data;        /* DATA; REFUSED sends */
	uint32_t credit;              /* ACCEPTED, CONNECTED, WRITABLE, REFUSED */
	int32_t error;                /* REFUSED, CLOSED */
	uint8_t type;                 /* enum dtcp_chan_event_type */
	uint8_t cmd;                  /* REFUSED: enum dtcp_chan_cmd_type */
	uint8_t pad[6];
};

/* "LISTENING", "DATA", ... */
const char *dtcp_chan_event_name(enum dtcp_chan_event_type t);

/*
 * Application: up to n events, oldest first; returns how many. Credit and
 * handle state are brought up to date before they are returned. Events
 * of a handle the application closed or aborted are dropped here (their
 * data freed, counted in dtcp_chan_app_stats).
 */
unsigned dtcp_chan_recv(struct dtcp_chan *ch, struct dtcp_chan_event *evs, unsigned n);

/*
 * Application commands. Each returns 0 once the command is on the ring,
 * -ENOBUFS when the command ring is full (try after the worker polls),
 * -EBADF for a handle that is not open here (closed, stale, never given).
 * Failures the worker finds come back as events (CLOSED for listen and
 * connect, REFUSED for the rest).
 */
int dtcp_chan_listen(struct dtcp_chan *ch, uint32_t addr, uint16_t port,
		     const struct dtcp_listen_opts *opts, uint64_t user);
int dtcp_chan_connect(struct dtcp_chan *ch, uint32_t raddr, uint16_t rport,
		      uint32_t laddr, uint16_t lport, uint64_t user);
/*
 * Hand the chain m (m->pkt_len bytes, any pool) over for sending: the
 * stack references it, never copies it. -EAGAIN when pkt_len exceeds the
 * connection's send credit (m stays the caller's; WRITABLE follows), or
 * -EBADF, -ENOBUFS, -EINVAL (empty chain, or on a listener).
 */
int dtcp_chan_send(struct dtcp_chan *ch, dtcp_chan_handle h, struct rte_mbuf *m);
/*
 * As much of the chain *m as the credit allows, in whole segments (no
 * copy: the chain is cut between mbufs). Returns the bytes handed over,
 * *m left with the rest (NULL when all went); -EAGAIN when not even the
 * first segment fits; -EBADF, -ENOBUFS, -EINVAL as dtcp_chan_send().
 */
int dtcp_chan_send_prefix(struct dtcp_chan *ch, dtcp_chan_handle h, struct rte_mbuf **m);
/* Bytes dtcp_chan_send() may hand over now on h; 0 for a handle not open. */
uint32_t dtcp_chan_send_credit(const struct dtcp_chan *ch, dtcp_chan_handle h);
int dtcp_chan_shutdown(struct dtcp_chan *ch, dtcp_chan_handle h);
/* Done with h: no more events for it (those on the ring are dropped). */
int dtcp_chan_close(struct dtcp_chan *ch, dtcp_chan_handle h);
int dtcp_chan_abort(struct dtcp_chan *ch, dtcp_chan_handle h);
/* Hold (true) or let go (false) DATA on h: the window closes while held. */
int dtcp_chan_recv_pause(struct dtcp_chan *ch, dtcp_chan_handle h, bool paused);

/* The application side's counts, written by the application thread only. */
struct dtcp_chan_app_stats {
	uint64_t events;              /* events returned by dtcp_chan_recv */
	uint64_t events_dropped;      /* events of handles already closed here */
	uint64_t cmds;                /* commands put on the ring */
	uint64_t cmd_ring_full;       /* commands refused with -ENOBUFS */
	uint64_t no_credit;           /* sends refused with -EAGAIN */
	uint64_t bad_handle;          /* commands refused with -EBADF */
	uint64_t send_bytes;          /* bytes handed over by dtcp_chan_send */
};
void dtcp_chan_app_stats(const struct dtcp_chan *ch, struct dtcp_chan_app_stats *out);

#ifdef __cplusplus
}
#endif
#endif
