/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP for the application on the worker's own lcore: an event interface.
 *
 * Nothing here calls the application from inside packet input or timer
 * code. Events are queued while the worker processes a burst or fires
 * timers, and handed to each connection's dtcp_event_fn afterwards, still
 * within dtcp_worker_poll(). Every call below must be made on the lcore
 * that polls the worker (from an event function or between polls).
 *
 * Addresses are host byte order; ports too.
 */
#ifndef DTCP_TCP_H
#define DTCP_TCP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_mbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dtcp_worker;
struct dtcp_conn;

/* RFC 9293 §3.3.2, in the RFC's order. */
enum dtcp_tcp_state {
	DTCP_TCP_CLOSED,
	DTCP_TCP_LISTEN,
	DTCP_TCP_SYN_SENT,
	DTCP_TCP_SYN_RECEIVED,
	DTCP_TCP_ESTABLISHED,
	DTCP_TCP_FIN_WAIT_1,
	DTCP_TCP_FIN_WAIT_2,
	DTCP_TCP_CLOSE_WAIT,
	DTCP_TCP_CLOSING,
	DTCP_TCP_LAST_ACK,
	DTCP_TCP_TIME_WAIT,
	DTCP_TCP_STATE_MAX
};

/* "ESTABLISHED", "FIN-WAIT-1", ... as RFC 9293 spells them. */
const char *dtcp_tcp_state_name(enum dtcp_tcp_state s);

enum dtcp_event_type {
	/* Listener: a connection waits in the accept queue; call dtcp_tcp_accept(). */
	DTCP_EV_ACCEPTABLE,
	/* Active open: the connection reached ESTABLISHED. */
	DTCP_EV_CONNECTED,
	/* In-order bytes: ev->data is a chain of ev->data->pkt_len bytes that
	 * now belongs to the application, which frees it. No copy was made. */
	DTCP_EV_DATA,
	/* The peer's FIN: no more data will arrive. Sending may go on. */
	DTCP_EV_PEER_CLOSED,
	/* The send buffer has room again after a send was refused (-EAGAIN). */
	DTCP_EV_WRITABLE,
	/* The last event of a connection: ev->error is 0 for an orderly end,
	 * else -ECONNRESET, -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH, ...
	 * The handle is invalid once the event function returns. */
	DTCP_EV_CLOSED,
};

struct dtcp_event {
	enum dtcp_event_type type;
	int error;                    /* DTCP_EV_CLOSED */
	struct dtcp_conn *conn;       /* the connection, or the listener */
	void *user;                   /* what was given with the event function */
	struct rte_mbuf *data;        /* DTCP_EV_DATA */
};

typedef void (*dtcp_event_fn)(struct dtcp_worker *w, const struct dtcp_event *ev);

/* A yes/no setting that may also be left to the configuration. */
enum dtcp_opt_flag {
	DTCP_OPT_DEFAULT,             /* the [tcp] section's */
	DTCP_OPT_OFF,
	DTCP_OPT_ON,
};

/*
 * Settings of one connection (the sockets' options), fixed before its
 * SYN or SYN-ACK is built: the MSS and window scale we announce follow
 * from mss and rcvbuf. Zero everywhere takes the configuration's.
 */
struct dtcp_conn_opts {
	uint32_t sndbuf;              /* send queue bytes ([tcp] sndbuf) */
	uint32_t rcvbuf;              /* receive buffer bytes, up to 65535 << 14 ([tcp] rcvbuf) */
	uint16_t mss;                 /* announce at most this, and send no larger (TCP_MAXSEG) */
	uint8_t nodelay;              /* enum dtcp_opt_flag: Nagle off ([tcp] nodelay) */
	uint8_t keepalive;            /* enum dtcp_opt_flag ([tcp] keepalive) */
	uint32_t ka_idle_s, ka_intvl_s, ka_cnt; /* [tcp] keepalive_idle_s, _intvl_s, _cnt */
};

/* Per-listener bounds; 0 takes [tcp] syn_backlog / accept_backlog. */
struct dtcp_listen_opts {
	uint32_t syn_backlog;         /* connections in SYN-RECEIVED */
	uint32_t accept_backlog;      /* established, waiting for dtcp_tcp_accept() */
	struct dtcp_conn_opts conn;   /* what every connection of the listener starts with */
};

/*
 * Listen on (addr, port); addr 0 listens on every local address. Each
 * worker has its own listen table: listen on every worker for the same
 * port to spread connections over cores (SO_REUSEPORT-like).
 * Returns 0 and the listener in *out, or -EINVAL (port 0), -EADDRNOTAVAIL
 * (addr is not ours), -EADDRINUSE, -ENOSPC (listen table full), -ENOBUFS.
 */
int dtcp_tcp_listen(struct dtcp_worker *w, uint32_t addr, uint16_t port,
		    const struct dtcp_listen_opts *opts, dtcp_event_fn fn, void *user,
		    struct dtcp_conn **out);

/*
 * Take the oldest established connection from a listener's accept queue,
 * or NULL when it is empty. Its events go to fn from now on; events that
 * arrived before (data with the handshake's last ACK, even a FIN) are
 * delivered after the current event function returns.
 */
struct dtcp_conn *dtcp_tcp_accept(struct dtcp_worker *w, struct dtcp_conn *listener,
				  dtcp_event_fn fn, void *user);

/* Connections in a listener's accept queue (0 for anything but a listener). */
uint32_t dtcp_tcp_accept_queued(const struct dtcp_conn *listener);

/*
 * Active open to (raddr, rport). laddr 0 picks the source address for the
 * route; lport 0 picks a free port in [tcp] port_min..port_max.
 * Returns 0 (SYN queued; DTCP_EV_CONNECTED or DTCP_EV_CLOSED follows), or
 * -EINVAL, -EADDRNOTAVAIL (laddr not ours, or no free port), -EADDRINUSE
 * (the 4-tuple is taken), -ENOBUFS (connection table full).
 */
int dtcp_tcp_connect(struct dtcp_worker *w, uint32_t raddr, uint16_t rport,
		     uint32_t laddr, uint16_t lport, dtcp_event_fn fn, void *user,
		     struct dtcp_conn **out);
/* The same with the connection's own settings (NULL: the configuration's). */
int dtcp_tcp_connect_opts(struct dtcp_worker *w, uint32_t raddr, uint16_t rport,
			  uint32_t laddr, uint16_t lport, const struct dtcp_conn_opts *opts,
			  dtcp_event_fn fn, void *user, struct dtcp_conn **out);

/*
 * Queue m (a chain of m->pkt_len bytes, any pool) for sending; the stack
 * owns it on success and sends from it without copying. Allowed from
 * SYN-SENT on (data waits for the handshake) until shutdown.
 * Returns 0; -EAGAIN when the send buffer cannot take all of it (m stays
 * the caller's; DTCP_EV_WRITABLE follows); -EPIPE after shutdown or once
 * the connection is closing or gone; -ENOTCONN on a listener.
 */
int dtcp_tcp_send(struct dtcp_worker *w, struct dtcp_conn *c, struct rte_mbuf *m);

/*
 * Copying convenience over dtcp_tcp_send(): takes as many of len bytes as the
 * send buffer and the mbuf budget allow. Returns the bytes taken (fewer
 * than len: DTCP_EV_WRITABLE follows), or -EPIPE, -ENOTCONN.
 */
int dtcp_tcp_send_copy(struct dtcp_worker *w, struct dtcp_conn *c, const void *buf,
		       uint32_t len);

/*
 * Hold (true) or release (false) DTCP_EV_DATA for a connection: the
 * application's back-pressure. While held, received bytes wait in the
 * stack and shrink the receive window, so the peer is slowed down and
 * nothing is dropped; the events that must follow the data (peer closed,
 * closed) wait with it.
 */
void dtcp_tcp_recv_pause(struct dtcp_worker *w, struct dtcp_conn *c, bool paused);

/* Bytes dtcp_tcp_send() would accept now. */
uint32_t dtcp_tcp_send_space(const struct dtcp_conn *c);

/*
 * Half-close: FIN after everything queued. Receiving goes on until the
 * peer's FIN (DTCP_EV_PEER_CLOSED). 0, or -ENOTCONN.
 */
int dtcp_tcp_shutdown(struct dtcp_worker *w, struct dtcp_conn *c);

/*
 * The application is done with the handle: no more events. The stack
 * sends what is queued, then FIN, and finishes the close alone; data that
 * arrives after this is answered with RST (RFC 1122 §4.2.2.13). On a
 * listener: stop listening, reset the connections not yet accepted.
 */
void dtcp_tcp_close(struct dtcp_worker *w, struct dtcp_conn *c);

/* Send RST and forget the connection at once: no more events. */
void dtcp_tcp_abort(struct dtcp_worker *w, struct dtcp_conn *c);

/* The connection's state (a listener's is LISTEN). */
enum dtcp_tcp_state dtcp_conn_state(const struct dtcp_conn *c);

/*
 * Congestion control of one connection: "newreno" or "cubic" ([tcp]
 * congestion for new ones). Only while no data is in flight (it starts
 * over from the initial window); 0 or -EINVAL.
 */
int dtcp_conn_set_cc(struct dtcp_worker *w, struct dtcp_conn *c, const char *name);

/* Nagle's algorithm (RFC 896) off (true) or on, for one connection (TCP_NODELAY). */
void dtcp_conn_set_nodelay(struct dtcp_conn *c, bool nodelay);

/*
 * Send and receive buffers after the fact (SO_SNDBUF, SO_RCVBUF); 0 keeps
 * one. The window scale was fixed by the SYN, so a receive buffer is held
 * to what it can advertise (65535 << shift). On a listener: for the
 * connections it accepts from now on. 0, or -EINVAL once closed.
 */
int dtcp_conn_set_buffers(struct dtcp_worker *w, struct dtcp_conn *c, uint32_t sndbuf,
			  uint32_t rcvbuf);

/* Change where a connection's events go. */
void dtcp_conn_set_handler(struct dtcp_conn *c, dtcp_event_fn fn, void *user);

/* Keepalive for one connection (RFC 1122 §4.2.3.6); times 0 keep the value it had.
 * On a listener: for the connections it accepts from now on. */
void dtcp_conn_set_keepalive(struct dtcp_worker *w, struct dtcp_conn *c, bool on,
			     uint32_t idle_s, uint32_t intvl_s, uint32_t cnt);

/* A snapshot for tools and tests (TCP_INFO-like). */
struct dtcp_conn_info {
	enum dtcp_tcp_state state;
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	uint32_t iss, irs;
	uint32_t snd_una, snd_nxt, snd_wnd;
	uint32_t rcv_nxt, rcv_wnd;
	uint16_t snd_mss;             /* the most we put in one segment */
	uint8_t snd_wscale, rcv_wscale;
	bool ts_ok, sack_ok;
	uint32_t srtt_us, rttvar_us, rto_ms;
	uint32_t cwnd, ssthresh;
	uint32_t retransmits;         /* retransmissions of the current segment */
	uint64_t total_retransmits;
	uint32_t send_queued;         /* bytes queued, sent or not, unacknowledged */
	int soft_error;               /* the last ICMP soft error, -errno, or 0 */
	uint16_t rcv_mss;             /* the MSS we announced */
	uint32_t snd_buf, rcv_buf;    /* the buffers' sizes, bytes */
};
void dtcp_conn_info(const struct dtcp_conn *c, struct dtcp_conn_info *out);

/* The worker's connections in each state, TIME-WAIT records included. */
void dtcp_tcp_state_counts(const struct dtcp_worker *w, uint64_t counts[DTCP_TCP_STATE_MAX]);

/*
 * Replace the RFC 6528 initial sequence numbers with fn's (for tests and
 * conformance harnesses); NULL restores them. The 4-tuple is ours first.
 */
typedef uint32_t (*dtcp_isn_fn)(void *ctx, uint32_t laddr, uint16_t lport,
				uint32_t raddr, uint16_t rport);
void dtcp_tcp_set_isn_source(struct dtcp_worker *w, dtcp_isn_fn fn, void *ctx);

/*
 * Replace the worker's random secret (ISNs, SYN cookies, timestamp
 * offsets, flow-table hashing) with a fixed one, for reproducible tests.
 * Only before the first connection exists; 0 or -EBUSY.
 */
int dtcp_tcp_set_secret(struct dtcp_worker *w, const uint8_t key[16]);

#ifdef __cplusplus
}
#endif
#endif
