/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The POSIX-like layer's private layout, shared by posix.c (descriptors,
 * sockets, poll), posix_opt.c (socket options) and posix_epoll.c.
 */
#ifndef DTCP_POSIX_PRIV_H
#define DTCP_POSIX_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <dtcp/posix.h>
#include <dtcp/tcp.h>

#include "../tcp/tcp_priv.h"

/* The most descriptors one context may have (max_fds). */
#define DTCP_POSIX_FDS_MAX (1u << 20)

enum { K_FREE, K_SOCK, K_EPOLL };

/* Like Linux's sock->state: what the application did, not TCP's state. */
enum { S_NEW, S_LISTEN, S_CONNECTING, S_CONNECTED };

struct px_epoll;

/* One descriptor: a socket, or an epoll instance (ep). */
struct psock {
	struct dtcp_posix *px;
	uint8_t kind;
	uint8_t state;
	bool nonblock : 1;
	bool cloexec : 1;
	bool bound : 1;
	bool est : 1;                 /* the connection reached ESTABLISHED */
	bool dead : 1;                /* the connection is over (DTCP_EV_CLOSED) */
	bool peer_fin : 1;
	bool rd_shut : 1;
	bool wr_shut : 1;
	bool paused : 1;              /* DTCP_EV_DATA held: the receive queue is full */
	bool reuseaddr : 1;
	bool reuseport : 1;
	bool linger_on : 1;
	int linger_s;
	int so_error;                 /* positive errno, reported once */
	uint32_t gen_in, gen_out;     /* move with each event of that direction: epoll's edges */
	uint32_t opened;              /* moves each time the slot is given out: a call that
				       * waited knows whether its descriptor is still the one */
	uint32_t n_epoll;             /* epoll instances watching this descriptor */
	uint32_t laddr, raddr;
	uint16_t lport, rport;
	struct dtcp_conn *conn;       /* connection or listener; NULL when none */
	/* Received in order, not yet read: single segments linked by next. */
	struct rte_mbuf *rq, *rq_tail;
	uint32_t rq_bytes;
	uint32_t rq_off;              /* bytes of rq's first segment already read */
	/* Options, 0 where the configuration decides. */
	struct dtcp_conn_opts opts;
	uint64_t rcvtimeo_ns, sndtimeo_ns;
	struct px_epoll *ep;          /* K_EPOLL */
};

struct dtcp_posix {
	struct dtcp_worker *w;
	unsigned n;
	struct psock *socks;
	void (*wait)(void *arg, uint64_t deadline_ns);
	uint64_t (*now)(void *arg);
	void *arg;
	uint16_t port_next;           /* bind() to port 0 */
	bool destroying;              /* closing everything: no SO_LINGER waits */
};

/* posix.c */
uint64_t px_now(struct dtcp_posix *px);
void px_wait(struct dtcp_posix *px, uint64_t deadline_ns);
/* After px_wait(): the descriptor was closed (and perhaps given out again) meanwhile. */
static inline bool
px_gone(const struct psock *s, uint8_t kind, uint32_t opened)
{
	return s->kind != kind || s->opened != opened;
}
uint64_t px_deadline(struct dtcp_posix *px, uint64_t timeo_ns);
void px_flush_events(struct dtcp_posix *px);
struct psock *px_get(int fd);
struct psock *px_alloc(struct dtcp_posix *px, uint8_t kind);
int px_fd(const struct psock *s);
uint32_t px_rcvbuf(const struct psock *s);
/* POLL* bits of a socket as Linux's tcp_poll() would set them. */
uint32_t px_sock_events(const struct psock *s);

/* posix_opt.c */
void px_conn_opts(const struct psock *s, struct dtcp_conn_opts *o);
void px_inherit(struct psock *n, const struct psock *l);

/* posix_epoll.c */
bool px_epoll_ready(struct psock *ep);
void px_epoll_free(struct psock *ep);
/* fd is being closed: out of every interest list. */
void px_epoll_forget(struct dtcp_posix *px, int fd);

#endif
