/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Channels (dtcp/chan.h): an application on another lcore, joined to one
 * worker by two SP/SC rte_rings that carry events and commands by value.
 *
 * Each side keeps its own table of handles, written by its own thread
 * only: the worker's slots hold the connection and what waits for the
 * rings; the application's hold the generation it knows and the send
 * credit. The rings are the only thing both threads touch.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "../tcp/tcp_priv.h"

#define NONE UINT32_MAX

/* A command, by value on the command ring. */
struct cmd {
	dtcp_chan_handle handle;
	uint64_t user;
	struct rte_mbuf *m;           /* SEND */
	uint32_t addr, laddr;         /* LISTEN: addr; CONNECT: raddr, laddr */
	uint32_t syn_backlog, accept_backlog;
	uint16_t port, lport;
	uint8_t type;                 /* enum dtcp_chan_cmd_type */
	uint8_t flag;                 /* RECV_PAUSE: paused */
	uint8_t pad[2];
};

enum slot_kind {
	SLOT_FREE,
	SLOT_LISTENER,
	SLOT_CONN,
};

/* Events a worker slot owes the application, in the order they go out. */
enum {
	P_OPEN = 1 << 0,              /* LISTENING, ACCEPTED or CONNECTED (open_type) */
	P_DATA = 1 << 1,              /* rx_held */
	P_PEER_CLOSED = 1 << 2,
	P_WRITABLE = 1 << 3,          /* wr_credit */
	P_CLOSED = 1 << 4,            /* error */
};

/*
 * The worker's side of a handle. What the event ring could not take
 * waits here, in order; while data waits, the connection's receiving is
 * paused so that the peer's window closes instead of data being dropped.
 */
struct wslot {
	struct dtcp_chan *ch;
	struct dtcp_conn *conn;       /* NULL once the stack ended it */
	uint64_t user;
	dtcp_chan_handle listener;    /* ACCEPTED: where it came from */
	struct rte_mbuf *rx_held;     /* DATA not yet on the ring */
	struct rte_mbuf *tx_held;     /* sends the stack's mbuf budget refused, in order */
	uint32_t tx_held_bytes;
	/* Send credit: the application may have granted - taken bytes on
	 * their way (in its credit or on the command ring). */
	uint64_t granted, taken;
	uint32_t sndbuf;
	uint32_t wr_credit;           /* WRITABLE's credit, while it waits */
	uint32_t gen;
	uint32_t busy_next, free_next;
	int32_t error;                /* CLOSED */
	uint8_t kind;                 /* enum slot_kind */
	uint8_t pend;                 /* P_* */
	uint8_t open_type;            /* enum dtcp_chan_event_type, with P_OPEN */
	bool on_busy : 1;
	bool app_paused : 1;          /* the application holds DATA back */
	bool ring_paused : 1;         /* we hold it back: data waits for the ring */
	bool accept_wait : 1;         /* a listener with connections and no free slot */
	bool shut : 1;                /* shutdown done or wanted: no more credit */
	bool shut_wanted : 1;         /* shutdown once tx_held is handed over */
	bool close_wanted : 1;        /* closed by the application, close once tx_held is */
};

/* The application's side of a handle. */
enum aslot_state {
	A_NONE,
	A_LISTENER,
	A_OPEN,
	A_CLOSED,                     /* closed here: its events are dropped */
};

struct aslot {
	uint32_t gen;
	uint8_t state;
	uint32_t credit;
};

struct dtcp_chan {
	struct rte_ring *ev;          /* worker -> application */
	struct rte_ring *cmd;         /* application -> worker */
	uint32_t conns_max;
	uint32_t credit_step;
	uint32_t cmd_burst;

	/* Worker side: touched by the worker's lcore only. */
	struct dtcp_worker *w __rte_cache_aligned;
	struct wslot *ws;
	uint32_t free_head;
	uint32_t n_free;
	uint32_t busy_head, busy_tail;

	/* Application side: touched by the application thread only. */
	struct aslot *as __rte_cache_aligned;
	struct dtcp_chan_app_stats st;
};

static inline dtcp_chan_handle
handle_of(uint32_t id, uint32_t gen)
{
	return ((uint64_t)gen << 32) | id;
}

static inline uint32_t handle_id(dtcp_chan_handle h) { return (uint32_t)h; }
static inline uint32_t handle_gen(dtcp_chan_handle h) { return (uint32_t)(h >> 32); }

void
dtcp_chan_params_defaults(struct dtcp_chan_params *p)
{
	memset(p, 0, sizeof(*p));
	p->name = "dtcp_chan";
	p->socket_id = SOCKET_ID_ANY;
	p->ev_ring_size = 1024;
	p->cmd_ring_size = 1024;
	p->conns_max = 1024;
	p->credit_step = 0;
	p->cmd_burst = 32;
}

static const char *const ev_names[] = {
	[DTCP_CHAN_EV_LISTENING] = "LISTENING",
	[DTCP_CHAN_EV_ACCEPTED] = "ACCEPTED",
	[DTCP_CHAN_EV_CONNECTED] = "CONNECTED",
	[DTCP_CHAN_EV_DATA] = "DATA",
	[DTCP_CHAN_EV_PEER_CLOSED] = "PEER_CLOSED",
	[DTCP_CHAN_EV_WRITABLE] = "WRITABLE",
	[DTCP_CHAN_EV_REFUSED] = "REFUSED",
	[DTCP_CHAN_EV_CLOSED] = "CLOSED",
};

const char *
dtcp_chan_event_name(enum dtcp_chan_event_type t)
{
	return (unsigned)t < RTE_DIM(ev_names) ? ev_names[t] : "?";
}

static bool
ring_size_ok(uint32_t n)
{
	return n >= DTCP_CHAN_RING_MIN && n <= DTCP_CHAN_RING_MAX && rte_is_power_of_2(n);
}

struct dtcp_chan *
dtcp_chan_create(const struct dtcp_chan_params *p, char *err, size_t errlen)
{
	char name[RTE_RING_NAMESIZE];
	struct dtcp_chan *ch;

	if (!ring_size_ok(p->ev_ring_size) || !ring_size_ok(p->cmd_ring_size)) {
		snprintf(err, errlen, "channel %s: ring sizes %u and %u: each a power of two in %u..%u",
			 p->name, p->ev_ring_size, p->cmd_ring_size, DTCP_CHAN_RING_MIN,
			 DTCP_CHAN_RING_MAX);
		return NULL;
	}
	if (p->conns_max == 0 || p->conns_max > DTCP_CHAN_CONNS_MAX) {
		snprintf(err, errlen, "channel %s: conns_max %u not in 1..%u", p->name,
			 p->conns_max, DTCP_CHAN_CONNS_MAX);
		return NULL;
	}
	if (p->cmd_burst == 0 || p->cmd_burst > DTCP_CHAN_BURST_MAX) {
		snprintf(err, errlen, "channel %s: cmd_burst %u not in 1..%u", p->name,
			 p->cmd_burst, DTCP_CHAN_BURST_MAX);
		return NULL;
	}
	ch = rte_zmalloc_socket("dtcp_chan", sizeof(*ch), RTE_CACHE_LINE_SIZE, p->socket_id);
	if (ch == NULL)
		goto nomem;
	ch->conns_max = p->conns_max;
	ch->credit_step = p->credit_step;
	ch->cmd_burst = p->cmd_burst;
	ch->ws = rte_zmalloc_socket("dtcp_chan_ws", sizeof(*ch->ws) * p->conns_max,
				    RTE_CACHE_LINE_SIZE, p->socket_id);
	ch->as = rte_zmalloc_socket("dtcp_chan_as", sizeof(*ch->as) * p->conns_max,
				    RTE_CACHE_LINE_SIZE, p->socket_id);
	if (ch->ws == NULL || ch->as == NULL)
		goto nomem;
	/* Slots in order, each from generation 1: no handle is ever 0. */
	for (uint32_t i = 0; i < p->conns_max; i++) {
		ch->ws[i].ch = ch;
		ch->ws[i].gen = 1;
		ch->ws[i].free_next = i + 1 < p->conns_max ? i + 1 : NONE;
	}
	ch->free_head = 0;
	ch->n_free = p->conns_max;
	ch->busy_head = ch->busy_tail = NONE;
	snprintf(name, sizeof(name), "%s_ev", p->name);
	ch->ev = rte_ring_create_elem(name, sizeof(struct dtcp_chan_event), p->ev_ring_size,
				      p->socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ch->ev == NULL)
		goto ring_fail;
	snprintf(name, sizeof(name), "%s_cmd", p->name);
	ch->cmd = rte_ring_create_elem(name, sizeof(struct cmd), p->cmd_ring_size,
				       p->socket_id, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (ch->cmd == NULL)
		goto ring_fail;
	return ch;
ring_fail:
	snprintf(err, errlen, "channel %s: rings: %s", p->name, rte_strerror(rte_errno));
	dtcp_chan_destroy(ch);
	return NULL;
nomem:
	snprintf(err, errlen, "channel %s: out of memory", p->name);
	dtcp_chan_destroy(ch);
	return NULL;
}

int
dtcp_worker_add_chan(struct dtcp_worker *w, struct dtcp_chan *ch)
{
	if (ch->w == w)
		return -EEXIST;
	if (ch->w != NULL)
		return -EBUSY;
	if (w->n_chans == DTCP_WORKER_CHANS_MAX)
		return -ENOSPC;
	ch->w = w;
	w->chans[w->n_chans++] = ch;
	return 0;
}

void
dtcp_chan_destroy(struct dtcp_chan *ch)
{
	if (ch == NULL)
		return;
	if (ch->ev != NULL) {
		struct dtcp_chan_event e;

		while (rte_ring_dequeue_elem(ch->ev, &e, sizeof(e)) == 0)
			rte_pktmbuf_free(e.data);
		rte_ring_free(ch->ev);
	}
	if (ch->cmd != NULL) {
		struct cmd c;

		while (rte_ring_dequeue_elem(ch->cmd, &c, sizeof(c)) == 0)
			rte_pktmbuf_free(c.m);
		rte_ring_free(ch->cmd);
	}
	if (ch->ws != NULL) {
		for (uint32_t i = 0; i < ch->conns_max; i++) {
			rte_pktmbuf_free(ch->ws[i].rx_held);
			rte_pktmbuf_free(ch->ws[i].tx_held);
		}
	}
	rte_free(ch->ws);
	rte_free(ch->as);
	rte_free(ch);
}

/* ---- Worker side ------------------------------------------------------------------ */

static dtcp_chan_handle
slot_handle(const struct dtcp_chan *ch, const struct wslot *s)
{
	return handle_of((uint32_t)(s - ch->ws), s->gen);
}

static struct wslot *
slot_alloc(struct dtcp_worker *w, struct dtcp_chan *ch, enum slot_kind kind, uint64_t user)
{
	struct wslot *s;

	if (ch->free_head == NONE) {
		ctr_inc(w, DTCP_CTR_chan_slots_full);
		return NULL;
	}
	s = &ch->ws[ch->free_head];
	ch->free_head = s->free_next;
	ch->n_free--;
	s->kind = (uint8_t)kind;
	s->user = user;
	return s;
}

/* The handle ends: a new generation, so that the old handle is stale. */
static void
slot_free(struct dtcp_chan *ch, struct wslot *s)
{
	uint32_t gen = s->gen + 1;
	bool busy = s->on_busy;
	uint32_t busy_next = s->busy_next;

	rte_pktmbuf_free(s->rx_held);
	rte_pktmbuf_free(s->tx_held);
	memset(s, 0, sizeof(*s));
	s->ch = ch;
	s->gen = gen != 0 ? gen : 1;
	/* Still linked on the busy list: the walk drops it there. */
	s->on_busy = busy;
	s->busy_next = busy_next;
	s->free_next = ch->free_head;
	ch->free_head = (uint32_t)(s - ch->ws);
	ch->n_free++;
}

static struct wslot *
slot_find(struct dtcp_chan *ch, dtcp_chan_handle h)
{
	uint32_t id = handle_id(h);
	struct wslot *s;

	if (id >= ch->conns_max)
		return NULL;
	s = &ch->ws[id];
	if (s->kind == SLOT_FREE || s->gen != handle_gen(h) || s->close_wanted)
		return NULL;
	return s;
}

/* The credit a connection starts with: its whole send buffer. */
static uint32_t
credit_start(struct wslot *s)
{
	s->sndbuf = dtcp_tcp_send_space(s->conn);
	s->granted = s->sndbuf;
	s->taken = 0;
	return s->sndbuf;
}

static bool
slot_wants_credit(const struct wslot *s)
{
	return s->kind == SLOT_CONN && s->conn != NULL && !s->shut && !s->close_wanted &&
	       (s->pend & P_OPEN) == 0 && s->granted - s->taken < s->sndbuf;
}

static bool
slot_busy(const struct wslot *s)
{
	return s->kind != SLOT_FREE &&
	       (s->pend != 0 || s->tx_held != NULL || s->accept_wait || slot_wants_credit(s));
}

static void
busy_add(struct dtcp_chan *ch, struct wslot *s)
{
	uint32_t id = (uint32_t)(s - ch->ws);

	if (s->on_busy)
		return;
	s->on_busy = true;
	s->busy_next = NONE;
	if (ch->busy_tail != NONE)
		ch->ws[ch->busy_tail].busy_next = id;
	else
		ch->busy_head = id;
	ch->busy_tail = id;
}

static bool
ev_put(struct dtcp_worker *w, struct dtcp_chan *ch, const struct dtcp_chan_event *e)
{
	if (rte_ring_sp_enqueue_elem(ch->ev, (void *)(uintptr_t)e, sizeof(*e)) != 0)
		return false;
	ctr_inc(w, DTCP_CTR_chan_events);
	return true;
}

static bool
slot_put(struct dtcp_worker *w, struct wslot *s, enum dtcp_chan_event_type type,
	 struct rte_mbuf *data, uint32_t credit, int32_t error)
{
	struct dtcp_chan_event e = {
		.handle = slot_handle(s->ch, s), .listener = s->listener, .user = s->user,
		.data = data, .credit = credit, .error = error, .type = (uint8_t)type,
	};

	return ev_put(w, s->ch, &e);
}

/* A reply to a command: there is always room, dtcp_chan_poll saw to it. */
static void
reply(struct dtcp_worker *w, struct dtcp_chan *ch, const struct cmd *c,
      enum dtcp_chan_event_type type, dtcp_chan_handle h, int32_t error)
{
	struct dtcp_chan_event e = {
		.handle = h, .user = c->user, .error = error, .type = (uint8_t)type,
		.cmd = c->type,
	};

	if (type == DTCP_CHAN_EV_REFUSED && c->m != NULL) {
		e.data = c->m;
		e.credit = c->m->pkt_len;
	}
	if (error != 0)
		ctr_inc(w, DTCP_CTR_chan_cmd_refused);
	ev_put(w, ch, &e);
}

static void
pause_set(struct dtcp_worker *w, struct wslot *s)
{
	if (s->conn != NULL)
		dtcp_tcp_recv_pause(w, s->conn, s->app_paused || s->ring_paused);
}

/*
 * What the slot owes the application, in order, while the ring takes it.
 * True when nothing is left (the slot may be free then: CLOSED went).
 */
static bool
slot_flush(struct dtcp_worker *w, struct wslot *s)
{
	if (s->pend & P_OPEN) {
		if (!slot_put(w, s, (enum dtcp_chan_event_type)s->open_type, NULL,
			      s->kind == SLOT_CONN ? (uint32_t)s->granted : 0, 0))
			return false;
		s->pend &= (uint8_t)~P_OPEN;
	}
	if (s->pend & P_DATA) {
		if (!slot_put(w, s, DTCP_CHAN_EV_DATA, s->rx_held, 0, 0))
			return false;
		s->rx_held = NULL;
		s->pend &= (uint8_t)~P_DATA;
		if (s->ring_paused) {
			s->ring_paused = false;
			pause_set(w, s);
		}
	}
	if (s->pend & P_PEER_CLOSED) {
		if (!slot_put(w, s, DTCP_CHAN_EV_PEER_CLOSED, NULL, 0, 0))
			return false;
		s->pend &= (uint8_t)~P_PEER_CLOSED;
	}
	if (s->pend & P_WRITABLE) {
		if (!slot_put(w, s, DTCP_CHAN_EV_WRITABLE, NULL, s->wr_credit, 0))
			return false;
		s->wr_credit = 0;
		s->pend &= (uint8_t)~P_WRITABLE;
	}
	if (s->pend & P_CLOSED) {
		if (!slot_put(w, s, DTCP_CHAN_EV_CLOSED, NULL, 0, s->error))
			return false;
		slot_free(s->ch, s);
	}
	return true;
}

/* After new events: out now if the ring has room, else they wait and data pauses the connection. */
static void
slot_emit(struct dtcp_worker *w, struct wslot *s)
{
	if (slot_flush(w, s))
		return;
	ctr_inc(w, DTCP_CTR_chan_ev_ring_full);
	if ((s->pend & P_DATA) && !s->ring_paused && s->conn != NULL) {
		s->ring_paused = true;
		ctr_inc(w, DTCP_CTR_chan_rx_paused);
		pause_set(w, s);
	}
	busy_add(s->ch, s);
}

static void on_event(struct dtcp_worker *w, const struct dtcp_event *ev);

/* Take every connection waiting on listener l, each into a slot of its own. */
static void
accept_all(struct dtcp_worker *w, struct wslot *l)
{
	struct dtcp_chan *ch = l->ch;

	while (((const struct dtcp_tcb *)l->conn)->acc_head != NULL) {
		struct wslot *s;
		struct dtcp_conn *c;

		if (ch->free_head == NONE) {
			if (!l->accept_wait)
				ctr_inc(w, DTCP_CTR_chan_slots_full);
			l->accept_wait = true;
			busy_add(ch, l);
			return;
		}
		s = &ch->ws[ch->free_head];
		c = dtcp_tcp_accept(w, l->conn, on_event, s);
		if (c == NULL)
			break;
		s = slot_alloc(w, ch, SLOT_CONN, l->user);
		s->conn = c;
		s->listener = slot_handle(ch, l);
		credit_start(s);
		s->open_type = DTCP_CHAN_EV_ACCEPTED;
		s->pend |= P_OPEN;
		slot_emit(w, s);
	}
	l->accept_wait = false;
}

static void
on_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct wslot *s = ev->user;

	if (s->close_wanted) {
		/* Closed by the application, open until its held sends are in. */
		ctr_inc(w, DTCP_CTR_chan_ev_closed);
		rte_pktmbuf_free(ev->data);
		if (ev->type == DTCP_EV_CLOSED) {
			ctr_add(w, DTCP_CTR_chan_send_lost, s->tx_held_bytes);
			slot_free(s->ch, s);
		}
		return;
	}
	switch (ev->type) {
	case DTCP_EV_ACCEPTABLE:
		accept_all(w, s);
		return;
	case DTCP_EV_CONNECTED:
		credit_start(s);
		s->open_type = DTCP_CHAN_EV_CONNECTED;
		s->pend |= P_OPEN;
		break;
	case DTCP_EV_DATA:
		/* While data waits the connection is paused, so none comes on top. */
		if (s->rx_held == NULL)
			s->rx_held = ev->data;
		else if (rte_pktmbuf_chain(s->rx_held, ev->data) != 0)
			rte_pktmbuf_free(ev->data); /* beyond 65535 segments: cannot be */
		s->pend |= P_DATA;
		break;
	case DTCP_EV_PEER_CLOSED:
		s->pend |= P_PEER_CLOSED;
		break;
	case DTCP_EV_WRITABLE:
		/* Credit follows acknowledgements (chan_credit); nothing to say. */
		return;
	case DTCP_EV_CLOSED:
		s->conn = NULL;
		s->error = ev->error;
		if (s->tx_held != NULL) {
			ctr_add(w, DTCP_CTR_chan_send_lost, s->tx_held_bytes);
			rte_pktmbuf_free(s->tx_held);
			s->tx_held = NULL;
			s->tx_held_bytes = 0;
		}
		s->pend |= P_CLOSED;
		break;
	}
	slot_emit(w, s);
}

/*
 * Held sends into the stack one segment at a time, in order, as far as
 * the mbuf budget lets them (a chain longer than the budget still goes,
 * piece by piece); then the shutdown or close that waited for them.
 */
static void
tx_held_retry(struct dtcp_worker *w, struct wslot *s)
{
	while (s->tx_held != NULL) {
		struct rte_mbuf *m = s->tx_held, *rest = m->next;
		uint16_t segs = m->nb_segs;
		uint32_t len = m->data_len;
		int rc;

		if (rest != NULL) {
			rest->pkt_len = s->tx_held_bytes - len;
			rest->nb_segs = (uint16_t)(segs - 1);
		}
		m->next = NULL;
		m->pkt_len = len;
		m->nb_segs = 1;
		rc = dtcp_tcp_send(w, s->conn, m);
		if (rc == -EAGAIN) {
			m->next = rest;
			m->pkt_len = s->tx_held_bytes;
			m->nb_segs = segs;
			return;
		}
		if (rc != 0) {
			/* The connection is ending: what we hold goes as its send queue does. */
			ctr_add(w, DTCP_CTR_chan_send_lost, s->tx_held_bytes);
			rte_pktmbuf_free(m);
			rte_pktmbuf_free(rest);
			rest = NULL;
			len = s->tx_held_bytes;
		}
		s->tx_held = rest;
		s->tx_held_bytes -= len;
	}
	if (s->shut_wanted) {
		s->shut_wanted = false;
		dtcp_tcp_shutdown(w, s->conn);
	}
	if (s->close_wanted) {
		dtcp_tcp_close(w, s->conn);
		slot_free(s->ch, s);
	}
}

/*
 * Credit back as the peer acknowledges: whatever the send buffer has
 * room for beyond what the application may still send and what we hold,
 * in steps of credit_step (a quarter of the buffer by default), or all
 * at once when it makes the credit whole again.
 */
static void
credit_update(struct wslot *s)
{
	uint32_t space = dtcp_tcp_send_space(s->conn);
	uint64_t owed = s->granted - s->taken + s->tx_held_bytes;
	uint32_t step = s->ch->credit_step != 0 ? s->ch->credit_step : s->sndbuf / 4;
	uint32_t more;

	if (space <= owed)
		return;
	more = (uint32_t)(space - owed);
	if (more < step && owed + more < s->sndbuf)
		return;
	s->granted += more;
	s->wr_credit += more;
	s->pend |= P_WRITABLE;
}

static void
slot_work(struct dtcp_worker *w, struct wslot *s)
{
	if (s->tx_held != NULL) {
		tx_held_retry(w, s);
		if (s->kind == SLOT_FREE)
			return;
	}
	if (s->accept_wait)
		accept_all(w, s);
	if (slot_wants_credit(s))
		credit_update(s);
	if (s->pend != 0)
		slot_flush(w, s);
}

static void
cmd_listen(struct dtcp_worker *w, struct dtcp_chan *ch, const struct cmd *c)
{
	struct dtcp_listen_opts o = {
		.syn_backlog = c->syn_backlog, .accept_backlog = c->accept_backlog,
	};
	struct wslot *s = slot_alloc(w, ch, SLOT_LISTENER, c->user);
	int rc;

	if (s == NULL) {
		reply(w, ch, c, DTCP_CHAN_EV_CLOSED, 0, -ENOSPC);
		return;
	}
	rc = dtcp_tcp_listen(w, c->addr, c->port, &o, on_event, s, &s->conn);
	if (rc != 0) {
		slot_free(ch, s);
		reply(w, ch, c, DTCP_CHAN_EV_CLOSED, 0, rc);
		return;
	}
	reply(w, ch, c, DTCP_CHAN_EV_LISTENING, slot_handle(ch, s), 0);
}

static void
cmd_connect(struct dtcp_worker *w, struct dtcp_chan *ch, const struct cmd *c)
{
	struct wslot *s = slot_alloc(w, ch, SLOT_CONN, c->user);
	int rc;

	if (s == NULL) {
		reply(w, ch, c, DTCP_CHAN_EV_CLOSED, 0, -ENOSPC);
		return;
	}
	rc = dtcp_tcp_connect(w, c->addr, c->port, c->laddr, c->lport, on_event, s, &s->conn);
	if (rc != 0) {
		slot_free(ch, s);
		reply(w, ch, c, DTCP_CHAN_EV_CLOSED, 0, rc);
	}
	/* Else CONNECTED, or CLOSED with the reason, comes from the stack. */
}

static void
cmd_send(struct dtcp_worker *w, struct dtcp_chan *ch, struct wslot *s, const struct cmd *c)
{
	uint32_t len = c->m->pkt_len;
	int rc;

	if (s->kind != SLOT_CONN) {
		reply(w, ch, c, DTCP_CHAN_EV_REFUSED, slot_handle(ch, s), -ENOTCONN);
		return;
	}
	if (s->conn == NULL || s->shut) {
		reply(w, ch, c, DTCP_CHAN_EV_REFUSED, slot_handle(ch, s), -EPIPE);
		return;
	}
	if (s->tx_held != NULL) {
		if (rte_pktmbuf_chain(s->tx_held, c->m) != 0) {
			reply(w, ch, c, DTCP_CHAN_EV_REFUSED, slot_handle(ch, s), -ENOBUFS);
			return;
		}
	} else {
		rc = dtcp_tcp_send(w, s->conn, c->m);
		if (rc != 0 && rc != -EAGAIN) {
			reply(w, ch, c, DTCP_CHAN_EV_REFUSED, slot_handle(ch, s), rc);
			return;
		}
		if (rc == -EAGAIN) {
			/* Within the credit the room is there: the mbuf budget is spent. */
			ctr_inc(w, DTCP_CTR_chan_send_held);
			s->tx_held = c->m;
		}
	}
	s->taken += len;
	if (s->tx_held != NULL) {
		s->tx_held_bytes += len;
		tx_held_retry(w, s);
	}
	if (slot_busy(s))
		busy_add(ch, s);
}

static void
cmd_close(struct dtcp_worker *w, struct dtcp_chan *ch, struct wslot *s, bool abort)
{
	/* Nothing more goes to the application for this handle. */
	rte_pktmbuf_free(s->rx_held);
	s->rx_held = NULL;
	s->pend = 0;
	if (s->conn == NULL) {
		slot_free(ch, s);
		return;
	}
	if (abort) {
		dtcp_tcp_abort(w, s->conn);
		slot_free(ch, s);
		return;
	}
	if (s->tx_held != NULL) {
		s->close_wanted = true;
		busy_add(ch, s);
		return;
	}
	dtcp_tcp_close(w, s->conn);
	slot_free(ch, s);
}

static void
cmd_run(struct dtcp_worker *w, struct dtcp_chan *ch, const struct cmd *c)
{
	struct wslot *s;
	int rc;

	switch ((enum dtcp_chan_cmd_type)c->type) {
	case DTCP_CHAN_CMD_LISTEN:
		cmd_listen(w, ch, c);
		return;
	case DTCP_CHAN_CMD_CONNECT:
		cmd_connect(w, ch, c);
		return;
	case DTCP_CHAN_CMD_SEND:
	case DTCP_CHAN_CMD_SHUTDOWN:
	case DTCP_CHAN_CMD_CLOSE:
	case DTCP_CHAN_CMD_ABORT:
	case DTCP_CHAN_CMD_RECV_PAUSE:
		break;
	}
	s = slot_find(ch, c->handle);
	if (s == NULL) {
		/* Closed or reused since the application last heard of it. */
		ctr_inc(w, DTCP_CTR_chan_stale_handle);
		reply(w, ch, c, DTCP_CHAN_EV_REFUSED, c->handle, -EBADF);
		return;
	}
	switch ((enum dtcp_chan_cmd_type)c->type) {
	case DTCP_CHAN_CMD_SEND:
		cmd_send(w, ch, s, c);
		return;
	case DTCP_CHAN_CMD_SHUTDOWN:
		if (s->kind != SLOT_CONN || s->conn == NULL || s->shut) {
			reply(w, ch, c, DTCP_CHAN_EV_REFUSED, c->handle, -ENOTCONN);
			return;
		}
		s->shut = true;
		if (s->tx_held != NULL) {
			s->shut_wanted = true;
			return;
		}
		rc = dtcp_tcp_shutdown(w, s->conn);
		if (rc != 0)
			reply(w, ch, c, DTCP_CHAN_EV_REFUSED, c->handle, rc);
		return;
	case DTCP_CHAN_CMD_CLOSE:
	case DTCP_CHAN_CMD_ABORT:
		cmd_close(w, ch, s, c->type == DTCP_CHAN_CMD_ABORT);
		return;
	case DTCP_CHAN_CMD_RECV_PAUSE:
		s->app_paused = c->flag != 0;
		if (s->kind == SLOT_CONN)
			pause_set(w, s);
		return;
	case DTCP_CHAN_CMD_LISTEN:
	case DTCP_CHAN_CMD_CONNECT:
		return;
	}
}

void
dtcp_chan_poll(struct dtcp_worker *w, struct dtcp_chan *ch)
{
	struct cmd cmds[32];
	uint32_t i = ch->busy_head;
	unsigned room, n;

	/* What waited first: older events, held sends, credit. */
	ch->busy_head = ch->busy_tail = NONE;
	while (i != NONE) {
		struct wslot *s = &ch->ws[i];

		i = s->busy_next;
		s->on_busy = false;
		slot_work(w, s);
		if (slot_busy(s))
			busy_add(ch, s);
	}
	/* Each command answers with at most one event: take no more than fit. */
	room = rte_ring_free_count(ch->ev);
	n = RTE_MIN(room, ch->cmd_burst);
	if (n == 0) {
		if (!rte_ring_empty(ch->cmd))
			ctr_inc(w, DTCP_CTR_chan_cmd_wait);
		return;
	}
	while (n > 0) {
		unsigned got = rte_ring_sc_dequeue_burst_elem(ch->cmd, cmds, sizeof(cmds[0]),
							      RTE_MIN(n, (unsigned)RTE_DIM(cmds)), NULL);

		if (got == 0)
			break;
		ctr_add(w, DTCP_CTR_chan_cmds, got);
		for (unsigned k = 0; k < got; k++)
			cmd_run(w, ch, &cmds[k]);
		n -= got;
	}
}

/* ---- Application side ------------------------------------------------------------- */

static struct aslot *
app_find(struct dtcp_chan *ch, dtcp_chan_handle h)
{
	uint32_t id = handle_id(h);
	struct aslot *a;

	if (h == 0 || id >= ch->conns_max)
		return NULL;
	a = &ch->as[id];
	if (a->gen != handle_gen(h) || (a->state != A_OPEN && a->state != A_LISTENER))
		return NULL;
	return a;
}

unsigned
dtcp_chan_recv(struct dtcp_chan *ch, struct dtcp_chan_event *evs, unsigned n)
{
	unsigned got = rte_ring_sc_dequeue_burst_elem(ch->ev, evs, sizeof(*evs), n, NULL);
	unsigned out = 0;

	for (unsigned k = 0; k < got; k++) {
		struct dtcp_chan_event *e = &evs[k];
		uint32_t id = handle_id(e->handle);
		struct aslot *a = e->handle != 0 && id < ch->conns_max ? &ch->as[id] : NULL;
		bool mine = a != NULL && a->gen == handle_gen(e->handle);

		switch ((enum dtcp_chan_event_type)e->type) {
		case DTCP_CHAN_EV_LISTENING:
			a->gen = handle_gen(e->handle);
			a->state = A_LISTENER;
			a->credit = 0;
			break;
		case DTCP_CHAN_EV_ACCEPTED:
		case DTCP_CHAN_EV_CONNECTED:
			a->gen = handle_gen(e->handle);
			a->state = A_OPEN;
			a->credit = e->credit;
			break;
		case DTCP_CHAN_EV_DATA:
		case DTCP_CHAN_EV_PEER_CLOSED:
		case DTCP_CHAN_EV_WRITABLE:
		case DTCP_CHAN_EV_REFUSED:
		case DTCP_CHAN_EV_CLOSED:
			if (mine && a->state == A_CLOSED) {
				/* Closed here: the application wants no more of it. */
				rte_pktmbuf_free(e->data);
				ch->st.events_dropped++;
				continue;
			}
			if (mine && a->state == A_OPEN &&
			    (e->type == DTCP_CHAN_EV_WRITABLE ||
			     (e->type == DTCP_CHAN_EV_REFUSED && e->cmd == DTCP_CHAN_CMD_SEND)))
				a->credit += e->credit;
			if (mine && e->type == DTCP_CHAN_EV_CLOSED)
				a->state = A_NONE;
			break;
		}
		if (out != k)
			evs[out] = *e;
		out++;
	}
	ch->st.events += out;
	return out;
}

static int
cmd_put(struct dtcp_chan *ch, const struct cmd *c)
{
	if (rte_ring_sp_enqueue_elem(ch->cmd, (void *)(uintptr_t)c, sizeof(*c)) != 0) {
		ch->st.cmd_ring_full++;
		return -ENOBUFS;
	}
	ch->st.cmds++;
	return 0;
}

int
dtcp_chan_listen(struct dtcp_chan *ch, uint32_t addr, uint16_t port,
		 const struct dtcp_listen_opts *opts, uint64_t user)
{
	struct cmd c = {
		.type = DTCP_CHAN_CMD_LISTEN, .addr = addr, .port = port, .user = user,
		.syn_backlog = opts != NULL ? opts->syn_backlog : 0,
		.accept_backlog = opts != NULL ? opts->accept_backlog : 0,
	};

	return cmd_put(ch, &c);
}

int
dtcp_chan_connect(struct dtcp_chan *ch, uint32_t raddr, uint16_t rport, uint32_t laddr,
		  uint16_t lport, uint64_t user)
{
	struct cmd c = {
		.type = DTCP_CHAN_CMD_CONNECT, .addr = raddr, .port = rport, .laddr = laddr,
		.lport = lport, .user = user,
	};

	return cmd_put(ch, &c);
}

static struct aslot *
app_find_counted(struct dtcp_chan *ch, dtcp_chan_handle h)
{
	struct aslot *a = app_find(ch, h);

	if (a == NULL)
		ch->st.bad_handle++;
	return a;
}

int
dtcp_chan_send(struct dtcp_chan *ch, dtcp_chan_handle h, struct rte_mbuf *m)
{
	struct aslot *a = app_find_counted(ch, h);
	struct cmd c = { .type = DTCP_CHAN_CMD_SEND, .handle = h, .m = m };
	int rc;

	if (a == NULL)
		return -EBADF;
	if (a->state != A_OPEN || m == NULL || m->pkt_len == 0)
		return -EINVAL;
	if (m->pkt_len > a->credit) {
		ch->st.no_credit++;
		return -EAGAIN;
	}
	rc = cmd_put(ch, &c);
	if (rc == 0) {
		a->credit -= m->pkt_len;
		ch->st.send_bytes += m->pkt_len;
	}
	return rc;
}

int
dtcp_chan_send_prefix(struct dtcp_chan *ch, dtcp_chan_handle h, struct rte_mbuf **mp)
{
	struct rte_mbuf *m = *mp, *last = NULL, *rest;
	struct aslot *a = app_find_counted(ch, h);
	uint32_t len = 0;
	uint16_t segs = 0;
	int rc;

	if (a == NULL)
		return -EBADF;
	if (a->state != A_OPEN || m == NULL || m->pkt_len == 0)
		return -EINVAL;
	if (m->pkt_len <= a->credit) {
		rc = dtcp_chan_send(ch, h, m);
		if (rc == 0) {
			*mp = NULL;
			return (int)m->pkt_len;
		}
		return rc;
	}
	for (struct rte_mbuf *s = m; s != NULL && len + s->data_len <= a->credit; s = s->next) {
		len += s->data_len;
		segs++;
		last = s;
	}
	if (last == NULL || len == 0) {
		ch->st.no_credit++;
		return -EAGAIN;
	}
	/* Cut after last: two chains, each with its own head fields. */
	rest = last->next;
	if (rest == NULL)
		return -EINVAL; /* pkt_len says more than the segments hold */
	rest->pkt_len = m->pkt_len - len;
	rest->nb_segs = (uint16_t)(m->nb_segs - segs);
	last->next = NULL;
	m->pkt_len = len;
	m->nb_segs = segs;
	rc = dtcp_chan_send(ch, h, m);
	if (rc != 0) {
		/* Joined again as it was given. */
		last->next = rest;
		m->pkt_len += rest->pkt_len;
		m->nb_segs = (uint16_t)(m->nb_segs + rest->nb_segs);
		return rc;
	}
	*mp = rest;
	return (int)len;
}

uint32_t
dtcp_chan_send_credit(const struct dtcp_chan *ch, dtcp_chan_handle h)
{
	const struct aslot *a = app_find((struct dtcp_chan *)(uintptr_t)ch, h);

	return a != NULL && a->state == A_OPEN ? a->credit : 0;
}

static int
simple_cmd(struct dtcp_chan *ch, dtcp_chan_handle h, enum dtcp_chan_cmd_type type, bool flag)
{
	struct aslot *a = app_find_counted(ch, h);
	struct cmd c = { .type = (uint8_t)type, .handle = h, .flag = flag };
	int rc;

	if (a == NULL)
		return -EBADF;
	rc = cmd_put(ch, &c);
	if (rc == 0 && (type == DTCP_CHAN_CMD_CLOSE || type == DTCP_CHAN_CMD_ABORT)) {
		a->state = A_CLOSED;
		a->credit = 0;
	}
	return rc;
}

int
dtcp_chan_shutdown(struct dtcp_chan *ch, dtcp_chan_handle h)
{
	return simple_cmd(ch, h, DTCP_CHAN_CMD_SHUTDOWN, false);
}

int
dtcp_chan_close(struct dtcp_chan *ch, dtcp_chan_handle h)
{
	return simple_cmd(ch, h, DTCP_CHAN_CMD_CLOSE, false);
}

int
dtcp_chan_abort(struct dtcp_chan *ch, dtcp_chan_handle h)
{
	return simple_cmd(ch, h, DTCP_CHAN_CMD_ABORT, false);
}

int
dtcp_chan_recv_pause(struct dtcp_chan *ch, dtcp_chan_handle h, bool paused)
{
	return simple_cmd(ch, h, DTCP_CHAN_CMD_RECV_PAUSE, paused);
}

void
dtcp_chan_app_stats(const struct dtcp_chan *ch, struct dtcp_chan_app_stats *out)
{
	*out = ch->st;
}
