/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * echo, discard, daytime and chargen over dtcp's event API. Everything
 * here runs inside dtcp_worker_poll() on the worker's lcore: each
 * connection's state comes from a fixed array, and what a service may
 * hold (echo's backlog) is bounded per connection and per worker.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "services.h"

enum {
	/* RFC 864: 72 of the 95 printing characters, then CR LF; line N starts at character N mod 95. */
	CHARGEN_CHARS = 95,
	CHARGEN_WIDTH = 72,
	CHARGEN_LINE = CHARGEN_WIDTH + 2,
	CHARGEN_PERIOD = CHARGEN_CHARS * CHARGEN_LINE,  /* the stream repeats after 95 lines */
	CHARGEN_SEGS = 32,            /* mbufs per dtcp_tcp_send() */
	DAYTIME_MAX = 64,             /* "Wednesday, September 30, 2026 14:05:09-UTC\r\n" fits */
};

struct svc_conn {
	struct svc_worker *sw;
	struct dtcp_conn *conn;       /* NULL while the state is free */
	struct svc_conn *next_free;
	enum svc_kind kind;
	bool peer_closed;             /* echo: close once the backlog is sent */
	union {
		/* Received bytes waiting for send space, in order, as one chain. */
		struct {
			struct rte_mbuf *head;    /* NULL when nothing waits */
			struct rte_mbuf *last;    /* the chain's last segment */
		} echo;
		uint32_t chargen_pos;         /* offset of the next byte in the pattern's period */
		struct {
			uint8_t off, len;
			char line[DAYTIME_MAX];
		} daytime;
	} u;
};

struct svc_listener {
	struct svc_worker *sw;
	struct dtcp_conn *conn;       /* NULL when not listening */
	enum svc_kind kind;
};

struct svc_worker {
	struct dtcp_worker *w;
	struct rte_mempool *pool;
	struct svc_opts opts;
	struct svc_conn *conns;       /* opts.max_clients of them */
	struct svc_conn *free_list;
	uint32_t echo_mbufs;          /* mbufs in every echo backlog of this worker */
	struct svc_listener listeners[SVC_MAX];
	struct svc_stats stats[SVC_MAX];
	/* Two periods, so that any PERIOD bytes from any offset are contiguous. */
	char chargen[2 * CHARGEN_PERIOD];
};

static const char *const names[SVC_MAX] = {
	[SVC_ECHO] = "echo",
	[SVC_DISCARD] = "discard",
	[SVC_DAYTIME] = "daytime",
	[SVC_CHARGEN] = "chargen",
};

const char *
svc_name(enum svc_kind k)
{
	return k < SVC_MAX ? names[k] : "?";
}

static struct svc_conn *
conn_get(struct svc_worker *sw, enum svc_kind kind)
{
	struct svc_conn *sc = sw->free_list;

	if (sc == NULL)
		return NULL;
	sw->free_list = sc->next_free;
	memset(&sc->u, 0, sizeof(sc->u));
	sc->kind = kind;
	sc->peer_closed = false;
	sc->conn = NULL;
	return sc;
}

static void
conn_put(struct svc_worker *sw, struct svc_conn *sc)
{
	if (sc->kind == SVC_ECHO && sc->u.echo.head != NULL) {
		sw->echo_mbufs -= sc->u.echo.head->nb_segs;
		rte_pktmbuf_free(sc->u.echo.head);
		sc->u.echo.head = NULL;
	}
	sc->conn = NULL;
	sc->next_free = sw->free_list;
	sw->free_list = sc;
}

/* The service is done: FIN after what TCP holds, and no more events. */
static void
conn_finish(struct dtcp_worker *w, struct svc_conn *sc)
{
	dtcp_tcp_close(w, sc->conn);
	conn_put(sc->sw, sc);
}

static void
conn_abort(struct dtcp_worker *w, struct svc_conn *sc)
{
	sc->sw->stats[sc->kind].aborted++;
	dtcp_tcp_abort(w, sc->conn);
	conn_put(sc->sw, sc);
}

/* DTCP_EV_CLOSED: the handle is gone; so is our state. */
static void
conn_closed(struct svc_conn *sc, int error)
{
	if (error != 0)
		sc->sw->stats[sc->kind].failed++;
	conn_put(sc->sw, sc);
}

/*
 * Echo (RFC 862). Received chains go back to dtcp_tcp_send() as they are. What
 * the send buffer cannot take waits in one chain per connection, bounded
 * by opts.echo_backlog bytes and, over the worker, opts.echo_mbufs mbufs:
 * the event API cannot slow the peer down, so a peer that sends faster
 * than it reads is reset once a bound is passed.
 */

/*
 * Cut chain m after as many leading segments as fit in max bytes; m keeps
 * them, the rest is returned. NULL (m unchanged) when the first segment
 * alone is over max or the whole chain fits.
 */
static struct rte_mbuf *
chain_split(struct rte_mbuf *m, uint32_t max)
{
	struct rte_mbuf *prev = NULL, *s = m;
	uint32_t len = 0;
	uint16_t segs = 0;

	while (s != NULL && len + s->data_len <= max) {
		len += s->data_len;
		segs++;
		prev = s;
		s = s->next;
	}
	if (prev == NULL || s == NULL)
		return NULL;
	prev->next = NULL;
	s->nb_segs = (uint16_t)(m->nb_segs - segs);
	s->pkt_len = m->pkt_len - len;
	m->nb_segs = segs;
	m->pkt_len = len;
	return s;
}

static struct rte_mbuf *
last_seg(struct rte_mbuf *m)
{
	while (m->next != NULL)
		m = m->next;
	return m;
}

/* Undo chain_split(). */
static void
chain_join(struct rte_mbuf *m, struct rte_mbuf *rest)
{
	last_seg(m)->next = rest;
	m->nb_segs = (uint16_t)(m->nb_segs + rest->nb_segs);
	m->pkt_len += rest->pkt_len;
}

/* Append m to the backlog; false when the chain would have too many segments for nb_segs. */
static bool
echo_append(struct svc_conn *sc, struct rte_mbuf *m)
{
	struct rte_mbuf *head = sc->u.echo.head;

	if (head == NULL) {
		sc->u.echo.head = m;
	} else {
		if ((uint32_t)head->nb_segs + m->nb_segs > UINT16_MAX)
			return false;
		sc->u.echo.last->next = m;
		head->nb_segs = (uint16_t)(head->nb_segs + m->nb_segs);
		head->pkt_len += m->pkt_len;
	}
	sc->u.echo.last = last_seg(m);
	sc->sw->echo_mbufs += m->nb_segs;
	return true;
}

/*
 * Hand the backlog to TCP, all of it or a prefix of whole segments that
 * fits the send space. 0 when it is all sent or a refused send has
 * promised DTCP_EV_WRITABLE; otherwise dtcp_tcp_send's -errno.
 */
static int
echo_flush(struct dtcp_worker *w, struct svc_conn *sc)
{
	struct svc_worker *sw = sc->sw;

	/* Ends: every pass sends part of a finite chain, or returns. */
	while (sc->u.echo.head != NULL) {
		struct rte_mbuf *m = sc->u.echo.head, *rest = NULL;
		uint32_t space = dtcp_tcp_send_space(sc->conn), len;
		uint16_t segs;
		int rc;

		if (m->pkt_len > space)
			rest = chain_split(m, space);
		len = m->pkt_len;
		segs = m->nb_segs;
		/* When nothing fits, this send is refused: that asks for DTCP_EV_WRITABLE. */
		rc = dtcp_tcp_send(w, sc->conn, m);
		if (rc != 0) {
			if (rest != NULL)
				chain_join(m, rest);
			return rc == -EAGAIN ? 0 : rc;
		}
		sw->stats[SVC_ECHO].bytes_tx += len;
		sw->echo_mbufs -= segs;
		sc->u.echo.head = rest;
		if (rest == NULL)
			sc->u.echo.last = NULL;
	}
	return 0;
}

static bool
echo_over_bounds(const struct svc_conn *sc)
{
	const struct svc_worker *sw = sc->sw;
	const struct rte_mbuf *head = sc->u.echo.head;

	return head != NULL &&
	       (head->pkt_len > sw->opts.echo_backlog || sw->echo_mbufs > sw->opts.echo_mbufs);
}

static void
echo_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct svc_conn *sc = ev->user;
	struct svc_stats *st = &sc->sw->stats[SVC_ECHO];

	switch (ev->type) {
	case DTCP_EV_DATA:
		st->bytes_rx += ev->data->pkt_len;
		if (!echo_append(sc, ev->data)) {
			rte_pktmbuf_free(ev->data);
			conn_abort(w, sc);
			return;
		}
		break;
	case DTCP_EV_PEER_CLOSED:
		sc->peer_closed = true;
		break;
	case DTCP_EV_WRITABLE:
		break;
	case DTCP_EV_CLOSED:
		conn_closed(sc, ev->error);
		return;
	case DTCP_EV_ACCEPTABLE:
	case DTCP_EV_CONNECTED:
		return;
	}
	if (echo_flush(w, sc) != 0 || echo_over_bounds(sc)) {
		conn_abort(w, sc);
		return;
	}
	if (sc->u.echo.head != NULL)
		st->backlog_peak = RTE_MAX(st->backlog_peak, (uint64_t)sc->u.echo.head->pkt_len);
	/* While a backlog waits for send space, the peer waits too: its data
	 * stays in the stack and closes our receive window. */
	dtcp_tcp_recv_pause(w, sc->conn, sc->u.echo.head != NULL);
	/* Everything echoed and the peer is done: FIN. */
	if (sc->peer_closed && sc->u.echo.head == NULL)
		conn_finish(w, sc);
}

/* Discard (RFC 863): free what arrives; close when the peer does. */
static void
discard_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct svc_conn *sc = ev->user;

	switch (ev->type) {
	case DTCP_EV_DATA:
		sc->sw->stats[SVC_DISCARD].bytes_rx += ev->data->pkt_len;
		rte_pktmbuf_free(ev->data);
		return;
	case DTCP_EV_PEER_CLOSED:
		conn_finish(w, sc);
		return;
	case DTCP_EV_CLOSED:
		conn_closed(sc, ev->error);
		return;
	case DTCP_EV_ACCEPTABLE:
	case DTCP_EV_CONNECTED:
	case DTCP_EV_WRITABLE:
		return;
	}
}

/*
 * Daytime (RFC 867): one line with the UTC date and time, then the server
 * closes. The line is short, but a send buffer without room (mbuf budget
 * spent) is waited for rather than cut.
 */
static void
daytime_send(struct dtcp_worker *w, struct svc_conn *sc)
{
	int rc;

	/* Until all is taken, or a call takes nothing: then DTCP_EV_WRITABLE follows. */
	do {
		rc = dtcp_tcp_send_copy(w, sc->conn, sc->u.daytime.line + sc->u.daytime.off,
				    (uint32_t)(sc->u.daytime.len - sc->u.daytime.off));
		if (rc < 0) {
			conn_abort(w, sc);
			return;
		}
		sc->u.daytime.off = (uint8_t)(sc->u.daytime.off + rc);
		sc->sw->stats[SVC_DAYTIME].bytes_tx += (uint64_t)rc;
	} while (rc > 0 && sc->u.daytime.off < sc->u.daytime.len);
	if (sc->u.daytime.off == sc->u.daytime.len)
		conn_finish(w, sc);
}

static void
daytime_start(struct dtcp_worker *w, struct svc_conn *sc)
{
	/* The application's clock, not the stack's: the stack reads none. */
	time_t now = time(NULL);
	struct tm tm;

	gmtime_r(&now, &tm);
	sc->u.daytime.len = (uint8_t)strftime(sc->u.daytime.line, sizeof(sc->u.daytime.line),
					      "%A, %B %d, %Y %H:%M:%S-UTC\r\n", &tm);
	sc->u.daytime.off = 0;
	daytime_send(w, sc);
}

static void
daytime_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct svc_conn *sc = ev->user;

	switch (ev->type) {
	case DTCP_EV_DATA:
		sc->sw->stats[SVC_DAYTIME].bytes_rx += ev->data->pkt_len;
		rte_pktmbuf_free(ev->data);
		return;
	case DTCP_EV_WRITABLE:
		daytime_send(w, sc);
		return;
	case DTCP_EV_CLOSED:
		conn_closed(sc, ev->error);
		return;
	case DTCP_EV_PEER_CLOSED:     /* the line still goes out, then our FIN */
	case DTCP_EV_ACCEPTABLE:
	case DTCP_EV_CONNECTED:
		return;
	}
}

/*
 * Chargen (RFC 864): keep the send buffer full of the pattern, in fresh
 * mbufs from the worker's pool handed to dtcp_tcp_send(), until the peer
 * closes or the connection ends. What arrives is thrown away.
 */

/* Up to max bytes of the pattern from pos, in at most CHARGEN_SEGS mbufs; NULL when the pool is dry. */
static struct rte_mbuf *
chargen_chain(struct svc_worker *sw, uint32_t pos, uint32_t max)
{
	struct rte_mbuf *segs[CHARGEN_SEGS], *head;
	uint32_t room = rte_pktmbuf_data_room_size(sw->pool) - RTE_PKTMBUF_HEADROOM;
	unsigned n;

	room = RTE_MIN(room, (uint32_t)CHARGEN_PERIOD);
	n = RTE_MIN((max + room - 1) / room, (uint32_t)CHARGEN_SEGS);
	if (rte_pktmbuf_alloc_bulk(sw->pool, segs, n) != 0)
		return NULL;
	head = segs[0];
	for (unsigned i = 0; i < n; i++) {
		uint16_t len = (uint16_t)RTE_MIN(max, room);

		memcpy(rte_pktmbuf_mtod(segs[i], char *), sw->chargen + pos, len);
		segs[i]->data_len = len;
		pos = (pos + len) % CHARGEN_PERIOD;
		max -= len;
		if (i > 0) {
			segs[i - 1]->next = segs[i];
			head->pkt_len += len;
		} else {
			head->pkt_len = len;
		}
	}
	head->nb_segs = (uint16_t)n;
	return head;
}

/* 0 once the send buffer is full and DTCP_EV_WRITABLE promised, else a send's -errno. */
static int
chargen_fill(struct dtcp_worker *w, struct svc_conn *sc)
{
	struct svc_worker *sw = sc->sw;

	/* Ends: every pass takes bytes of the (bounded) send buffer, or returns. */
	for (;;) {
		uint32_t space = dtcp_tcp_send_space(sc->conn), len;
		struct rte_mbuf *m = space > 0 ? chargen_chain(sw, sc->u.chargen_pos, space) : NULL;
		int rc;

		if (m == NULL) {
			/*
			 * No room, or no mbuf: the copying call takes what it
			 * can, and when it takes nothing DTCP_EV_WRITABLE follows.
			 */
			rc = dtcp_tcp_send_copy(w, sc->conn, sw->chargen + sc->u.chargen_pos,
					    CHARGEN_LINE);
			if (rc <= 0)
				return rc;
			len = (uint32_t)rc;
		} else {
			len = m->pkt_len;
			rc = dtcp_tcp_send(w, sc->conn, m);
			if (rc != 0) {
				rte_pktmbuf_free(m);
				return rc == -EAGAIN ? 0 : rc;
			}
		}
		sc->u.chargen_pos = (sc->u.chargen_pos + len) % CHARGEN_PERIOD;
		sw->stats[SVC_CHARGEN].bytes_tx += len;
	}
}

static void
chargen_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct svc_conn *sc = ev->user;

	switch (ev->type) {
	case DTCP_EV_DATA:
		sc->sw->stats[SVC_CHARGEN].bytes_rx += ev->data->pkt_len;
		rte_pktmbuf_free(ev->data);
		return;
	case DTCP_EV_WRITABLE:
		if (chargen_fill(w, sc) != 0)
			conn_abort(w, sc);
		return;
	case DTCP_EV_PEER_CLOSED:
		conn_finish(w, sc);
		return;
	case DTCP_EV_CLOSED:
		conn_closed(sc, ev->error);
		return;
	case DTCP_EV_ACCEPTABLE:
	case DTCP_EV_CONNECTED:
		return;
	}
}

static const dtcp_event_fn handlers[SVC_MAX] = {
	[SVC_ECHO] = echo_event,
	[SVC_DISCARD] = discard_event,
	[SVC_DAYTIME] = daytime_event,
	[SVC_CHARGEN] = chargen_event,
};

/* A connection reset at accept gets no events (dtcp_tcp_abort); whatever comes is let go. */
static void
refused_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	(void)w;
	if (ev->type == DTCP_EV_DATA)
		rte_pktmbuf_free(ev->data);
}

/* The accept queue is bounded by the listener's accept backlog: so is this loop. */
static void
accept_all(struct dtcp_worker *w, struct svc_listener *l)
{
	struct svc_worker *sw = l->sw;
	struct svc_stats *st = &sw->stats[l->kind];

	for (;;) {
		struct svc_conn *sc = conn_get(sw, l->kind);
		struct dtcp_conn *c = dtcp_tcp_accept(w, l->conn, sc ? handlers[l->kind] : refused_event, sc);

		if (c == NULL) {
			if (sc != NULL)
				conn_put(sw, sc);
			return;
		}
		if (sc == NULL) {
			/* Every state is taken: a counted refusal, not a wait. */
			st->refused++;
			dtcp_tcp_abort(w, c);
			continue;
		}
		sc->conn = c;
		st->accepted++;
		switch (l->kind) {
		case SVC_DAYTIME:
			daytime_start(w, sc);
			break;
		case SVC_CHARGEN:
			if (chargen_fill(w, sc) != 0)
				conn_abort(w, sc);
			break;
		case SVC_ECHO:
		case SVC_DISCARD:
		case SVC_MAX:
			break;
		}
	}
}

static void
listener_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct svc_listener *l = ev->user;

	switch (ev->type) {
	case DTCP_EV_ACCEPTABLE:
		accept_all(w, l);
		return;
	case DTCP_EV_CLOSED:
		l->conn = NULL;
		return;
	case DTCP_EV_DATA:
		rte_pktmbuf_free(ev->data);
		return;
	case DTCP_EV_CONNECTED:
	case DTCP_EV_PEER_CLOSED:
	case DTCP_EV_WRITABLE:
		return;
	}
}

struct svc_worker *
svc_worker_create(struct dtcp_worker *w, struct rte_mempool *pool, const struct svc_opts *o,
		  char *err, size_t errlen)
{
	struct svc_worker *sw;

	sw = rte_zmalloc("svc_worker", sizeof(*sw), RTE_CACHE_LINE_SIZE);
	if (sw == NULL) {
		snprintf(err, errlen, "services: out of memory");
		return NULL;
	}
	sw->w = w;
	sw->pool = pool;
	sw->opts = *o;
	sw->conns = rte_calloc("svc_conns", o->max_clients, sizeof(*sw->conns),
			       RTE_CACHE_LINE_SIZE);
	if (sw->conns == NULL) {
		snprintf(err, errlen, "services: no memory for %u connection states",
			 o->max_clients);
		rte_free(sw);
		return NULL;
	}
	for (uint32_t i = o->max_clients; i > 0; i--) {
		sw->conns[i - 1].sw = sw;
		sw->conns[i - 1].next_free = sw->free_list;
		sw->free_list = &sw->conns[i - 1];
	}
	for (unsigned line = 0; line < 2 * CHARGEN_CHARS; line++) {
		char *p = sw->chargen + line * CHARGEN_LINE;

		for (unsigned c = 0; c < CHARGEN_WIDTH; c++)
			p[c] = (char)(' ' + (line + c) % CHARGEN_CHARS);
		p[CHARGEN_WIDTH] = '\r';
		p[CHARGEN_WIDTH + 1] = '\n';
	}
	for (unsigned k = 0; k < SVC_MAX; k++) {
		struct svc_listener *l = &sw->listeners[k];
		int rc;

		l->sw = sw;
		l->kind = (enum svc_kind)k;
		if (o->port[k] == 0)
			continue;
		rc = dtcp_tcp_listen(w, 0, o->port[k], NULL, listener_event, l, &l->conn);
		if (rc != 0) {
			snprintf(err, errlen, "%s: listen on port %u: %s", names[k], o->port[k],
				 strerror(-rc));
			l->conn = NULL;
			svc_worker_stop(sw);
			svc_worker_free(sw);
			return NULL;
		}
	}
	return sw;
}

void
svc_worker_stop(struct svc_worker *sw)
{
	for (uint32_t i = 0; i < sw->opts.max_clients; i++) {
		struct svc_conn *sc = &sw->conns[i];

		if (sc->conn == NULL)
			continue;
		sw->stats[sc->kind].at_exit++;
		dtcp_tcp_abort(sw->w, sc->conn);
		conn_put(sw, sc);
	}
	for (unsigned k = 0; k < SVC_MAX; k++) {
		if (sw->listeners[k].conn != NULL)
			dtcp_tcp_close(sw->w, sw->listeners[k].conn);
		sw->listeners[k].conn = NULL;
	}
}

void
svc_worker_free(struct svc_worker *sw)
{
	if (sw == NULL)
		return;
	rte_free(sw->conns);
	rte_free(sw);
}

const struct svc_stats *
svc_worker_stats(const struct svc_worker *sw)
{
	return sw->stats;
}
