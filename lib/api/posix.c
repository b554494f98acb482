/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The POSIX-like socket layer (dtcp/posix.h) over the event interface.
 *
 * Each descriptor is a slot of a bounded table per context. A socket's
 * connection reports to on_event(), which only records: received chains
 * join the socket's receive queue (the stack made no copy; read() makes
 * the one copy POSIX asks for), and the other events set the flags that
 * readiness is computed from. Nothing here runs inside packet input.
 *
 * Errors follow Linux's tcp_recvmsg/tcp_sendmsg/inet_stream_connect: a
 * pending error (SO_ERROR) is returned once by the next call that looks at
 * it, after which reads see end of file and writes EPIPE.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>

#include <rte_cycles.h>
#include <rte_malloc.h>

#include <dtcp/posix.h>

#include "posix_priv.h"

static __thread struct dtcp_posix *cur_px;

void
dtcp_posix_attach(struct dtcp_posix *px)
{
	cur_px = px;
}

struct dtcp_posix *
dtcp_posix_current(void)
{
	return cur_px;
}

static uint64_t
tsc_now(void *arg)
{
	(void)arg;
	return dtcp_tsc_to_ns(rte_rdtsc());
}

static void
poll_once(struct dtcp_posix *px, uint64_t deadline_ns)
{
	(void)deadline_ns;
	dtcp_worker_poll(px->w, px_now(px));
}

uint64_t
px_now(struct dtcp_posix *px)
{
	return px->now != NULL ? px->now(px->arg) : tsc_now(NULL);
}

void
px_wait(struct dtcp_posix *px, uint64_t deadline_ns)
{
	if (px->wait != NULL)
		px->wait(px->arg, deadline_ns);
	else
		poll_once(px, deadline_ns);
}

/*
 * Events the stack queued outside dtcp_worker_poll() (those of a connection
 * just accepted, data a released pause let go) are delivered now, so that
 * the next call sees them as Linux's would.
 */
void
px_flush_events(struct dtcp_posix *px)
{
	tcp_deliver_events(px->w);
}

struct dtcp_posix *
dtcp_posix_create(const struct dtcp_posix_params *p)
{
	struct dtcp_posix *px;
	unsigned n;

	if (p == NULL || p->worker == NULL || p->max_fds > DTCP_POSIX_FDS_MAX) {
		errno = EINVAL;
		return NULL;
	}
	n = p->max_fds != 0 ? p->max_fds : 1024;
	px = rte_zmalloc("dtcp_posix", sizeof(*px), 0);
	if (px == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	px->socks = rte_zmalloc("dtcp_posix_fds", n * sizeof(*px->socks), 0);
	if (px->socks == NULL) {
		rte_free(px);
		errno = ENOMEM;
		return NULL;
	}
	px->w = p->worker;
	px->n = n;
	px->wait = p->wait;
	px->now = p->now;
	px->arg = p->arg;
	for (unsigned i = 0; i < n; i++)
		px->socks[i].px = px;
	return px;
}

void
dtcp_posix_destroy(struct dtcp_posix *px)
{
	struct dtcp_posix *saved = cur_px;

	if (px == NULL)
		return;
	cur_px = px;
	px->destroying = true;
	for (unsigned i = 0; i < px->n; i++)
		if (px->socks[i].kind != K_FREE)
			dtcp_close((int)i + DTCP_POSIX_FD_BASE);
	cur_px = saved == px ? NULL : saved;
	rte_free(px->socks);
	rte_free(px);
}

/* The descriptor's slot, or NULL with errno EBADF. */
struct psock *
px_get(int fd)
{
	struct dtcp_posix *px = cur_px;
	unsigned i = (unsigned)fd - DTCP_POSIX_FD_BASE;

	if (px == NULL || fd < DTCP_POSIX_FD_BASE || i >= px->n || px->socks[i].kind == K_FREE) {
		errno = EBADF;
		return NULL;
	}
	return &px->socks[i];
}

/* A socket's slot: EBADF, or ENOTSOCK for an epoll descriptor. */
static struct psock *
sock_get(int fd)
{
	struct psock *s = px_get(fd);

	if (s != NULL && s->kind != K_SOCK) {
		errno = ENOTSOCK;
		return NULL;
	}
	return s;
}

int
px_fd(const struct psock *s)
{
	return (int)(s - s->px->socks) + DTCP_POSIX_FD_BASE;
}

/* The lowest free descriptor, as POSIX hands them out; NULL with EMFILE. */
struct psock *
px_alloc(struct dtcp_posix *px, uint8_t kind)
{
	for (unsigned i = 0; i < px->n; i++) {
		struct psock *s = &px->socks[i];

		if (s->kind == K_FREE) {
			uint32_t opened = s->opened + 1;

			memset(s, 0, sizeof(*s));
			s->px = px;
			s->kind = kind;
			s->opened = opened;
			return s;
		}
	}
	ctr_inc(px->w, DTCP_CTR_posix_fd_table_full);
	errno = EMFILE;
	return NULL;
}

static int
fail(int err)
{
	errno = err;
	return -1;
}

uint32_t
px_rcvbuf(const struct psock *s)
{
	return s->opts.rcvbuf != 0 ? s->opts.rcvbuf : s->px->w->cfg.tcp_rcvbuf;
}

/* ---- Receive queue: segments of the chains DTCP_EV_DATA gave, in order. */

static void
rq_append(struct psock *s, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
		if (m->data_len == 0) {
			rte_pktmbuf_free_seg(m);
		} else {
			if (s->rq_tail != NULL)
				s->rq_tail->next = m;
			else
				s->rq = m;
			s->rq_tail = m;
			s->rq_bytes += m->data_len;
		}
		m = next;
	}
}

static void
rq_free(struct psock *s)
{
	while (s->rq != NULL) {
		struct rte_mbuf *next = s->rq->next;

		rte_pktmbuf_free_seg(s->rq);
		s->rq = next;
	}
	s->rq_tail = NULL;
	s->rq_bytes = 0;
	s->rq_off = 0;
}

/* Copy up to len bytes out of the queue into the iovec; consume them unless peek. */
static size_t
rq_copy(struct psock *s, const struct iovec *iov, int iovcnt, bool peek)
{
	struct rte_mbuf *m = s->rq;
	uint32_t off = s->rq_off;
	size_t done = 0;

	for (int i = 0; i < iovcnt && m != NULL; i++) {
		uint8_t *dst = iov[i].iov_base;
		size_t room = iov[i].iov_len;

		while (room > 0 && m != NULL) {
			size_t n = RTE_MIN(room, (size_t)(m->data_len - off));

			memcpy(dst, rte_pktmbuf_mtod_offset(m, uint8_t *, off), n);
			dst += n;
			room -= n;
			done += n;
			off += (uint32_t)n;
			if (off == m->data_len) {
				struct rte_mbuf *next = m->next;

				if (!peek) {
					rte_pktmbuf_free_seg(m);
					s->rq = next;
					if (next == NULL)
						s->rq_tail = NULL;
				}
				m = next;
				off = 0;
			}
		}
	}
	if (!peek) {
		s->rq_off = off;
		s->rq_bytes -= (uint32_t)done;
	}
	return done;
}

/* ---- Events from the connection or listener. */

static void
on_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct psock *s = ev->user;

	(void)w;
	switch (ev->type) {
	case DTCP_EV_ACCEPTABLE:
		s->gen_in++;
		break;
	case DTCP_EV_CONNECTED:
		s->est = true;
		s->gen_out++;
		break;
	case DTCP_EV_DATA:
		s->gen_in++;
		if (s->rd_shut) {
			/* shutdown(SHUT_RD): what comes after is thrown away. */
			rte_pktmbuf_free(ev->data);
			break;
		}
		rq_append(s, ev->data);
		/* Back-pressure: the stack holds the rest and the window closes. */
		if (!s->paused && s->rq_bytes >= px_rcvbuf(s) && s->conn != NULL) {
			s->paused = true;
			ctr_inc(s->px->w, DTCP_CTR_posix_rcv_paused);
			dtcp_tcp_recv_pause(s->px->w, s->conn, true);
		}
		break;
	case DTCP_EV_PEER_CLOSED:
		s->peer_fin = true;
		s->gen_in++;
		break;
	case DTCP_EV_WRITABLE:
		s->gen_out++;
		break;
	case DTCP_EV_CLOSED:
		s->gen_in++;
		s->gen_out++;
		s->conn = NULL;
		s->dead = true;
		s->paused = false;
		if (ev->error != 0)
			s->so_error = -ev->error;
		break;
	}
}

static void
resume_if_drained(struct psock *s)
{
	if (s->paused && s->conn != NULL && s->rq_bytes <= px_rcvbuf(s) / 2) {
		s->paused = false;
		dtcp_tcp_recv_pause(s->px->w, s->conn, false);
		px_flush_events(s->px);
	}
}

/* ---- Readiness, as Linux's tcp_poll() computes it. */

uint32_t
px_sock_events(const struct psock *s)
{
	uint32_t ev = 0;
	bool rd_shut, wr_shut, closed;

	if (s->state == S_LISTEN) {
		if (s->conn != NULL && dtcp_tcp_accept_queued(s->conn) > 0)
			ev |= POLLIN | POLLRDNORM;
		return ev;
	}
	/* TCP_CLOSE: never connected, failed, or over. */
	closed = s->conn == NULL;
	rd_shut = s->dead || s->peer_fin || s->rd_shut;
	wr_shut = s->dead || s->wr_shut;
	if ((rd_shut && wr_shut) || closed)
		ev |= POLLHUP;
	if (rd_shut)
		ev |= POLLIN | POLLRDNORM | POLLRDHUP;
	/* SYN-SENT: neither readable nor writable yet. */
	if (!(s->state == S_CONNECTING && !s->est && !s->dead)) {
		if (s->rq_bytes > 0)
			ev |= POLLIN | POLLRDNORM;
		if (wr_shut || s->conn == NULL || dtcp_tcp_send_space(s->conn) > 0)
			ev |= POLLOUT | POLLWRNORM;
	}
	if (s->so_error != 0)
		ev |= POLLERR;
	return ev;
}

/* ---- Calls. */

int
dtcp_socket(int domain, int type, int protocol)
{
	struct dtcp_posix *px = cur_px;
	struct psock *s;
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (px == NULL)
		return fail(EBADF);
	if (domain != AF_INET)
		return fail(EAFNOSUPPORT);
	if (base != SOCK_STREAM || (protocol != 0 && protocol != IPPROTO_TCP))
		return fail(EPROTONOSUPPORT);
	s = px_alloc(px, K_SOCK);
	if (s == NULL)
		return -1;
	s->nonblock = (type & SOCK_NONBLOCK) != 0;
	s->cloexec = (type & SOCK_CLOEXEC) != 0;
	return px_fd(s);
}

static int
get_sin(const struct sockaddr *addr, socklen_t addrlen, uint32_t *ip, uint16_t *port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)addr;

	if (addr == NULL || addrlen < sizeof(struct sockaddr_in))
		return EINVAL;
	if (sin->sin_family != AF_INET)
		return EAFNOSUPPORT;
	*ip = rte_be_to_cpu_32(sin->sin_addr.s_addr);
	*port = rte_be_to_cpu_16(sin->sin_port);
	return 0;
}

static void
put_sin(struct sockaddr *addr, socklen_t *addrlen, uint32_t ip, uint16_t port)
{
	struct sockaddr_in sin;

	if (addr == NULL || addrlen == NULL)
		return;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = rte_cpu_to_be_32(ip);
	sin.sin_port = rte_cpu_to_be_16(port);
	memcpy(addr, &sin, RTE_MIN((size_t)*addrlen, sizeof(sin)));
	*addrlen = sizeof(sin);
}

/* Another socket of this context bound where s wants to be, without both allowing it. */
static bool
port_taken(const struct psock *s, uint32_t ip, uint16_t port)
{
	const struct dtcp_posix *px = s->px;

	for (unsigned i = 0; i < px->n; i++) {
		const struct psock *o = &px->socks[i];

		if (o == s || o->kind != K_SOCK || !o->bound || o->lport != port)
			continue;
		if (o->laddr != 0 && ip != 0 && o->laddr != ip)
			continue;
		if (s->reuseport && o->reuseport)
			continue;
		/* SO_REUSEADDR: two sockets may share a port unless one listens. */
		if (s->reuseaddr && o->reuseaddr && o->state != S_LISTEN)
			continue;
		return true;
	}
	return false;
}

int
dtcp_bind(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct psock *s = sock_get(fd);
	const struct dtcp_worker *w;
	uint32_t ip;
	uint16_t port;
	int err;

	if (s == NULL)
		return -1;
	w = s->px->w;
	err = get_sin(addr, addrlen, &ip, &port);
	if (err != 0)
		return fail(err);
	if (s->bound || s->state != S_NEW || s->conn != NULL || s->dead)
		return fail(EINVAL);
	if (ip != 0 && !dtcp_is_local_addr(w, ip))
		return fail(EADDRNOTAVAIL);
	if (port == 0) {
		uint32_t n = (uint32_t)w->cfg.tcp_port_max - w->cfg.tcp_port_min + 1;

		for (uint32_t k = 0; k < n && port == 0; k++) {
			uint16_t p = (uint16_t)(w->cfg.tcp_port_min + (s->px->port_next++ % n));

			if (!port_taken(s, ip, p))
				port = p;
		}
		if (port == 0)
			return fail(EADDRINUSE);
	} else if (port_taken(s, ip, port)) {
		return fail(EADDRINUSE);
	}
	s->bound = true;
	s->laddr = ip;
	s->lport = port;
	return 0;
}

int
dtcp_listen(int fd, int backlog)
{
	struct psock *s = sock_get(fd);
	struct dtcp_listen_opts lo;
	int rc;

	if (s == NULL)
		return -1;
	if (s->state == S_LISTEN) {
		/* Linux lets listen() change the backlog; ours is fixed once listening. */
		return 0;
	}
	if (s->state != S_NEW || s->conn != NULL || s->dead)
		return fail(EINVAL);
	if (!s->bound) {
		struct sockaddr_in any = { .sin_family = AF_INET };

		if (dtcp_bind(fd, (struct sockaddr *)&any, sizeof(any)) != 0)
			return -1;
	}
	memset(&lo, 0, sizeof(lo));
	/* Linux caps at somaxconn; ours is [tcp] accept_backlog. */
	if (backlog > 0 && (uint32_t)backlog < s->px->w->cfg.tcp_accept_backlog)
		lo.accept_backlog = (uint32_t)backlog;
	else if (backlog <= 0)
		lo.accept_backlog = 1;
	px_conn_opts(s, &lo.conn);
	rc = dtcp_tcp_listen(s->px->w, s->laddr, s->lport, &lo, on_event, s, &s->conn);
	if (rc != 0) {
		s->conn = NULL;
		return fail(rc == -ENOSPC ? ENOBUFS : -rc);
	}
	s->state = S_LISTEN;
	return 0;
}

int
dtcp_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags)
{
	struct psock *s = sock_get(fd), *n;
	struct dtcp_posix *px;
	struct dtcp_conn *c;
	struct dtcp_conn_info ci;
	uint64_t deadline;
	uint32_t opened;

	if (s == NULL)
		return -1;
	px = s->px;
	if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) != 0)
		return fail(EINVAL);
	if (s->state != S_LISTEN)
		return fail(EINVAL);
	deadline = px_deadline(px, s->rcvtimeo_ns);
	opened = s->opened;
	while (dtcp_tcp_accept_queued(s->conn) == 0) {
		if (s->nonblock || px_now(px) >= deadline)
			return fail(EAGAIN);
		px_wait(px, deadline);
		if (px_gone(s, K_SOCK, opened))
			return fail(EBADF);
		if (s->state != S_LISTEN)
			return fail(EINVAL);
	}
	n = px_alloc(px, K_SOCK);
	if (n == NULL)
		return -1;
	c = dtcp_tcp_accept(px->w, s->conn, on_event, n);
	if (c == NULL) {
		n->kind = K_FREE;
		return fail(EAGAIN);
	}
	/* Options are inherited from the listener (the stack did the same); flags are not. */
	px_inherit(n, s);
	n->nonblock = (flags & SOCK_NONBLOCK) != 0;
	n->cloexec = (flags & SOCK_CLOEXEC) != 0;
	n->conn = c;
	n->state = S_CONNECTED;
	n->est = true;
	n->bound = true;
	dtcp_conn_info(c, &ci);
	n->laddr = ci.laddr;
	n->lport = ci.lport;
	n->raddr = ci.raddr;
	n->rport = ci.rport;
	put_sin(addr, addrlen, ci.raddr, ci.rport);
	/* What came with the handshake (data, even a FIN) is readable at once. */
	px_flush_events(px);
	return px_fd(n);
}

int
dtcp_accept(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	return dtcp_accept4(fd, addr, addrlen, 0);
}

/* Forget a failed connection attempt so that connect() may be called again. */
static void
reset_to_new(struct psock *s)
{
	s->state = S_NEW;
	s->dead = false;
	s->est = false;
	s->peer_fin = false;
	s->wr_shut = false;
	s->rd_shut = false;
	rq_free(s);
}

int
dtcp_connect(int fd, const struct sockaddr *addr, socklen_t addrlen)
{
	struct psock *s = sock_get(fd);
	struct dtcp_posix *px;
	struct dtcp_conn_opts co;
	uint64_t deadline;
	uint32_t ip, opened;
	uint16_t port;
	int err, rc;

	if (s == NULL)
		return -1;
	px = s->px;
	/* inet_stream_connect(): a second call reports how the first went. */
	switch (s->state) {
	case S_LISTEN:
	case S_CONNECTED:
		return fail(EISCONN);
	case S_CONNECTING:
		if (s->est) {
			s->state = S_CONNECTED;
			return 0;
		}
		if (s->dead) {
			err = s->so_error != 0 ? s->so_error : ECONNABORTED;
			s->so_error = 0;
			reset_to_new(s);
			return fail(err);
		}
		if (s->nonblock)
			return fail(EALREADY);
		break;
	case S_NEW:
		err = get_sin(addr, addrlen, &ip, &port);
		if (err != 0)
			return fail(err);
		if (port == 0)
			return fail(ECONNREFUSED);
		px_conn_opts(s, &co);
		rc = dtcp_tcp_connect_opts(px->w, ip, port, s->laddr, s->lport, &co, on_event, s,
					   &s->conn);
		if (rc != 0) {
			s->conn = NULL;
			return fail(rc == -EINVAL ? ENETUNREACH : -rc);
		}
		s->state = S_CONNECTING;
		s->raddr = ip;
		s->rport = port;
		if (s->nonblock)
			return fail(EINPROGRESS);
		break;
	}
	deadline = px_deadline(px, s->sndtimeo_ns);
	opened = s->opened;
	while (!s->est && !s->dead) {
		if (px_now(px) >= deadline)
			return fail(EINPROGRESS);
		px_wait(px, deadline);
		if (px_gone(s, K_SOCK, opened))
			return fail(EBADF);
	}
	if (s->est) {
		s->state = S_CONNECTED;
		return 0;
	}
	err = s->so_error != 0 ? s->so_error : ECONNABORTED;
	s->so_error = 0;
	reset_to_new(s);
	return fail(err);
}

int
dtcp_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct psock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	if (addr == NULL || addrlen == NULL)
		return fail(EFAULT);
	if (s->conn != NULL && s->state != S_LISTEN) {
		struct dtcp_conn_info ci;

		dtcp_conn_info(s->conn, &ci);
		s->laddr = ci.laddr;
		s->lport = ci.lport;
	}
	put_sin(addr, addrlen, s->laddr, s->lport);
	return 0;
}

int
dtcp_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen)
{
	struct psock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	if (addr == NULL || addrlen == NULL)
		return fail(EFAULT);
	if (s->state != S_CONNECTED && !(s->state == S_CONNECTING && s->est))
		return fail(ENOTCONN);
	put_sin(addr, addrlen, s->raddr, s->rport);
	return 0;
}

/* ---- Reading. */

static ssize_t
do_recv(struct psock *s, const struct iovec *iov, int iovcnt, int flags)
{
	struct dtcp_posix *px = s->px;
	size_t want = 0, got = 0;
	uint64_t deadline;
	uint32_t opened = s->opened;
	bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return fail(EINVAL);
	for (int i = 0; i < iovcnt; i++)
		want += iov[i].iov_len;
	if (s->state == S_LISTEN)
		return fail(ENOTCONN);
	if ((flags & ~(MSG_DONTWAIT | MSG_PEEK | MSG_WAITALL | MSG_NOSIGNAL)) != 0)
		return fail(EOPNOTSUPP);
	deadline = px_deadline(px, s->rcvtimeo_ns);
	for (;;) {
		if (s->rq_bytes > 0 && want > got) {
			struct iovec rest[IOV_MAX];
			int n = 0;
			size_t skip = got;

			/* The part of the caller's iovec not filled yet. */
			for (int i = 0; i < iovcnt; i++) {
				if (skip >= iov[i].iov_len) {
					skip -= iov[i].iov_len;
					continue;
				}
				rest[n].iov_base = (uint8_t *)iov[i].iov_base + skip;
				rest[n].iov_len = iov[i].iov_len - skip;
				skip = 0;
				n++;
			}
			got += rq_copy(s, rest, n, (flags & MSG_PEEK) != 0);
			if (!(flags & MSG_PEEK))
				resume_if_drained(s);
		}
		if (got == want || (got > 0 && !(flags & MSG_WAITALL)) || (flags & MSG_PEEK && got > 0))
			return (ssize_t)got;
		if (s->rq_bytes > 0)
			continue;
		/* Nothing (more) to read: why, in tcp_recvmsg()'s order. */
		if (got > 0 && (s->so_error != 0 || s->dead || s->peer_fin || s->rd_shut))
			return (ssize_t)got;
		if (s->so_error != 0) {
			int err = s->so_error;

			s->so_error = 0;
			return fail(err);
		}
		if (s->dead || s->peer_fin || s->rd_shut)
			return 0;
		if (s->state == S_NEW)
			return fail(ENOTCONN);
		if (nonblock)
			return got > 0 ? (ssize_t)got : fail(EAGAIN);
		if (px_now(px) >= deadline)
			return got > 0 ? (ssize_t)got : fail(EAGAIN);
		px_wait(px, deadline);
		if (px_gone(s, K_SOCK, opened))
			return fail(EBADF);
	}
}

ssize_t
dtcp_readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct psock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	return do_recv(s, iov, iovcnt, 0);
}

ssize_t
dtcp_recv(int fd, void *buf, size_t len, int flags)
{
	struct psock *s = sock_get(fd);
	struct iovec v = { .iov_base = buf, .iov_len = len };

	if (s == NULL)
		return -1;
	return do_recv(s, &v, 1, flags);
}

ssize_t
dtcp_read(int fd, void *buf, size_t count)
{
	return dtcp_recv(fd, buf, count, 0);
}

/* ---- Writing. */

static ssize_t
do_send(struct psock *s, const struct iovec *iov, int iovcnt, int flags)
{
	struct dtcp_posix *px = s->px;
	size_t want = 0, done = 0;
	uint64_t deadline;
	uint32_t opened = s->opened;
	bool nonblock = s->nonblock || (flags & MSG_DONTWAIT);
	int i = 0;
	size_t off = 0;

	if (iovcnt < 0 || iovcnt > IOV_MAX)
		return fail(EINVAL);
	for (int k = 0; k < iovcnt; k++)
		want += iov[k].iov_len;
	if ((flags & ~(MSG_DONTWAIT | MSG_NOSIGNAL | MSG_MORE)) != 0)
		return fail(EOPNOTSUPP);
	deadline = px_deadline(px, s->sndtimeo_ns);
	for (;;) {
		/* tcp_sendmsg(): an error first (once), then EPIPE; no SIGPIPE here. */
		if (s->so_error != 0) {
			int err = s->so_error;

			if (done > 0)
				return (ssize_t)done;
			s->so_error = 0;
			return fail(err);
		}
		if (s->wr_shut || s->dead || s->state == S_NEW || s->state == S_LISTEN)
			return done > 0 ? (ssize_t)done : fail(EPIPE);
		if (s->est) {
			while (i < iovcnt) {
				size_t len = iov[i].iov_len - off;
				int n;

				if (len == 0) {
					i++;
					off = 0;
					continue;
				}
				n = dtcp_tcp_send_copy(px->w, s->conn,
						       (const uint8_t *)iov[i].iov_base + off,
						       (uint32_t)RTE_MIN(len, (size_t)UINT32_MAX / 2));
				if (n < 0)
					return done > 0 ? (ssize_t)done : fail(EPIPE);
				done += (size_t)n;
				off += (size_t)n;
				if ((size_t)n < len)
					break;
			}
			if (done == want)
				return (ssize_t)done;
		}
		if (nonblock || px_now(px) >= deadline)
			return done > 0 ? (ssize_t)done : fail(EAGAIN);
		px_wait(px, deadline);
		if (px_gone(s, K_SOCK, opened))
			return done > 0 ? (ssize_t)done : fail(EBADF);
	}
}

ssize_t
dtcp_writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct psock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	return do_send(s, iov, iovcnt, 0);
}

ssize_t
dtcp_send(int fd, const void *buf, size_t len, int flags)
{
	struct psock *s = sock_get(fd);
	struct iovec v = { .iov_base = (void *)(uintptr_t)buf, .iov_len = len };

	if (s == NULL)
		return -1;
	return do_send(s, &v, 1, flags);
}

ssize_t
dtcp_write(int fd, const void *buf, size_t count)
{
	return dtcp_send(fd, buf, count, 0);
}

/* ---- Ending. */

int
dtcp_shutdown(int fd, int how)
{
	struct psock *s = sock_get(fd);

	if (s == NULL)
		return -1;
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)
		return fail(EINVAL);
	if (s->state == S_LISTEN) {
		/* inet_shutdown(): SHUT_RD stops a listener. */
		if (how != SHUT_WR) {
			dtcp_tcp_close(s->px->w, s->conn);
			s->conn = NULL;
			s->state = S_NEW;
		}
		return 0;
	}
	if (s->conn == NULL)
		return fail(ENOTCONN);
	if (!s->est) {
		/* SYN-SENT: the attempt is given up. */
		dtcp_tcp_abort(s->px->w, s->conn);
		s->conn = NULL;
		s->dead = true;
		return 0;
	}
	if (how != SHUT_WR) {
		s->rd_shut = true;
		rq_free(s);
		if (s->paused) {
			s->paused = false;
			dtcp_tcp_recv_pause(s->px->w, s->conn, false);
		}
	}
	if (how != SHUT_RD && !s->wr_shut) {
		s->wr_shut = true;
		dtcp_tcp_shutdown(s->px->w, s->conn);
	}
	s->gen_in++;
	s->gen_out++;
	return 0;
}

/*
 * SO_LINGER {1, n}, blocking: FIN now, and wait up to n seconds until the
 * peer has acknowledged it (FIN-WAIT-2, or the connection over).
 */
static void
linger_wait(struct psock *s)
{
	struct dtcp_posix *px = s->px;
	uint64_t deadline = px_now(px) + (uint64_t)s->linger_s * 1000000000ull;

	if (!s->wr_shut) {
		s->wr_shut = true;
		dtcp_tcp_shutdown(px->w, s->conn);
	}
	while (s->conn != NULL && dtcp_conn_state(s->conn) != DTCP_TCP_FIN_WAIT_2 &&
	       px_now(px) < deadline)
		px_wait(px, deadline);
}

int
dtcp_close(int fd)
{
	struct psock *s = px_get(fd);
	struct dtcp_posix *px;

	if (s == NULL)
		return -1;
	px = s->px;
	if (s->n_epoll > 0)
		px_epoll_forget(px, fd);
	if (s->kind == K_EPOLL) {
		px_epoll_free(s);
		s->kind = K_FREE;
		return 0;
	}
	if (s->conn != NULL && s->state != S_LISTEN && s->linger_on && s->linger_s > 0 &&
	    !s->nonblock && s->est && s->rq_bytes == 0 && !px->destroying)
		linger_wait(s);
	if (s->conn != NULL) {
		/* SO_LINGER {1, 0}, or unread data (RFC 1122 §4.2.2.13): RST. */
		if (s->state != S_LISTEN && ((s->linger_on && s->linger_s == 0) || s->rq_bytes > 0))
			dtcp_tcp_abort(px->w, s->conn);
		else
			dtcp_tcp_close(px->w, s->conn);
		s->conn = NULL;
	}
	rq_free(s);
	s->kind = K_FREE;
	return 0;
}

/* ---- Control. */

int
dtcp_fcntl(int fd, int cmd, ...)
{
	struct psock *s = px_get(fd);
	va_list ap;
	int arg;

	if (s == NULL)
		return -1;
	va_start(ap, cmd);
	arg = (cmd == F_SETFL || cmd == F_SETFD) ? va_arg(ap, int) : 0;
	va_end(ap);
	switch (cmd) {
	case F_GETFL:
		return O_RDWR | (s->nonblock ? O_NONBLOCK : 0);
	case F_SETFL:
		s->nonblock = (arg & O_NONBLOCK) != 0;
		return 0;
	case F_GETFD:
		return s->cloexec ? FD_CLOEXEC : 0;
	case F_SETFD:
		s->cloexec = (arg & FD_CLOEXEC) != 0;
		return 0;
	default:
		return fail(EINVAL);
	}
}

int
dtcp_ioctl(int fd, unsigned long request, ...)
{
	struct psock *s = sock_get(fd);
	va_list ap;
	int *out;

	if (s == NULL)
		return -1;
	va_start(ap, request);
	out = va_arg(ap, int *);
	va_end(ap);
	if (out == NULL)
		return fail(EFAULT);
	switch (request) {
	case FIONREAD:
		if (s->state == S_LISTEN)
			return fail(EINVAL);
		*out = (int)RTE_MIN(s->rq_bytes, (uint32_t)INT32_MAX);
		return 0;
	case SIOCOUTQ:
		if (s->state == S_LISTEN)
			return fail(EINVAL);
		if (s->conn != NULL) {
			struct dtcp_conn_info ci;

			dtcp_conn_info(s->conn, &ci);
			*out = (int)ci.send_queued;
		} else {
			*out = 0;
		}
		return 0;
	case FIONBIO:
		s->nonblock = *out != 0;
		return 0;
	default:
		return fail(ENOTTY);
	}
}

/* ---- poll(). */

int
dtcp_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms)
{
	struct dtcp_posix *px = cur_px;
	uint64_t deadline;

	if (px == NULL)
		return fail(EBADF);
	if (nfds > px->n + 64)
		return fail(EINVAL);
	deadline = timeout_ms < 0 ? UINT64_MAX : px_now(px) + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		int ready = 0;

		for (nfds_t i = 0; i < nfds; i++) {
			struct pollfd *p = &fds[i];
			unsigned k = (unsigned)p->fd - DTCP_POSIX_FD_BASE;

			p->revents = 0;
			if (p->fd < 0)
				continue;
			if (p->fd < DTCP_POSIX_FD_BASE || k >= px->n || px->socks[k].kind == K_FREE)
				p->revents = POLLNVAL;
			else if (px->socks[k].kind == K_SOCK)
				/* POLLERR and POLLHUP whether asked for or not. */
				p->revents = (short)(px_sock_events(&px->socks[k]) &
						     ((uint32_t)(uint16_t)p->events | POLLERR | POLLHUP));
			else
				p->revents = (short)(px_epoll_ready(&px->socks[k]) &&
						     (p->events & POLLIN) ? POLLIN : 0);
			if (p->revents != 0)
				ready++;
		}
		if (ready > 0 || timeout_ms == 0 || px_now(px) >= deadline)
			return ready;
		px_wait(px, deadline);
	}
}

uint64_t
px_deadline(struct dtcp_posix *px, uint64_t timeo_ns)
{
	return timeo_ns == 0 ? UINT64_MAX : px_now(px) + timeo_ns;
}
