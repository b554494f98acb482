/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-loadgen's connection engine (engine.h). Everything here runs on
 * the worker's lcore, inside dtcp_worker_poll() (events) or right after
 * it (lg_engine_poll). Connection states come from a fixed array of
 * `concurrency` entries: the cap is the array, so a slow server can never
 * make the engine hold more.
 *
 * Per connection: dtcp_tcp_connect() from the next free 4-tuple, then at
 * once dtcp_tcp_send() of an mbuf attached to the prebuilt request through
 * a reference slot of its own (../common/ext_ref.h: no copy, and no count
 * shared with other requests; TCP sends it with the handshake's last ACK),
 * the response read by its Content-Length, the next request (keep-alive)
 * or the close.
 *
 * Timeouts: every connection waiting on the handshake is on one FIFO,
 * every one waiting on a response or the close on another. Each FIFO's
 * wait is fixed, so each stays sorted by deadline: checking its head is
 * all a poll does.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "../common/ext_ref.h"
#include "engine.h"
#include "http.h"

#define LG_NS_PER_S 1000000000ull
#define NS_PER_MS 1000000ull
#define CTL_PERIOD_NS (100 * NS_PER_MS) /* the rate is reconsidered this often */
#define TUPLE_TRIES 32                  /* busy 4-tuples passed over per open, at most */

static const char *const stat_names[LG_STAT_MAX] = {
#define LG_STAT_NAME(name, err, desc) #name,
	LG_STATS(LG_STAT_NAME)
#undef LG_STAT_NAME
};
static const char *const stat_descs[LG_STAT_MAX] = {
#define LG_STAT_DESC(name, err, desc) desc,
	LG_STATS(LG_STAT_DESC)
#undef LG_STAT_DESC
};
static const bool stat_errors[LG_STAT_MAX] = {
#define LG_STAT_ERR(name, err, desc) err,
	LG_STATS(LG_STAT_ERR)
#undef LG_STAT_ERR
};

const char *
lg_stat_name(enum lg_stat s)
{
	return s < LG_STAT_MAX ? stat_names[s] : "?";
}

const char *
lg_stat_desc(enum lg_stat s)
{
	return s < LG_STAT_MAX ? stat_descs[s] : "?";
}

bool
lg_stat_is_error(enum lg_stat s)
{
	return s < LG_STAT_MAX && stat_errors[s];
}

/* Where a connection is in its life. */
enum phase {
	P_FREE,
	P_CONNECTING,                 /* SYN sent, the request queued behind it */
	P_WAIT,                       /* a request out, its response not yet whole */
	P_CLOSING,                    /* every response in (or given up): FINs under way */
};

enum {
	F_SHUT = 1 << 0,              /* we sent our FIN (dtcp_tcp_shutdown) */
	F_FIRST = 1 << 1,             /* ... before the server's: TIME-WAIT is ours */
	F_PEER_FIN = 1 << 2,          /* the server's FIN arrived */
	F_DONE = 1 << 3,              /* every response received whole */
	F_FAILED = 1 << 4,            /* an error was counted for this connection */
	F_SEND_PENDING = 1 << 5,      /* a request waits for send space */
	F_PROBE = 1 << 6,             /* the first connection, until it is accepted */
};

enum fifo_id { FIFO_NONE, FIFO_CONNECT, FIFO_BUSY };

/*
 * One connection, one cache line:
 *   0  conn           the stack's handle
 *   8  eng            back to the engine, for the event function
 *  16  prev, next     timeout FIFO (or the free list: next)
 *  32  deadline_ns    of the FIFO it is on
 *  40  resp           response reader (16 bytes)
 *  56  reqs           responses received whole
 *  58  phase, fifo, flags
 */
struct lg_conn {
	struct dtcp_conn *conn;
	struct lg_engine *eng;
	struct lg_conn *prev, *next;
	uint64_t deadline_ns;
	struct lg_resp resp;
	uint16_t reqs;
	uint8_t phase;
	uint8_t fifo;
	uint8_t flags;
} __rte_cache_aligned;
_Static_assert(sizeof(struct lg_conn) == RTE_CACHE_LINE_SIZE, "one connection, one cache line");

struct fifo {
	struct lg_conn *head, *tail;
};

enum run_phase { R_IDLE, R_PROBE, R_RUN, R_DRAIN, R_DONE };

struct lg_engine {
	/* Hot: read every poll and every event. */
	struct dtcp_worker *w;
	struct rte_mempool *pool;
	char *req;                    /* the request, then the last request of a connection */
	rte_iova_t req_iova;
	uint16_t req_len, req_last_len;
	struct ext_ref refs;          /* the references to req */
	struct lg_conn *free_list;
	uint64_t open;                /* connections not free */
	struct fifo fifo_connect, fifo_busy;
	uint64_t connect_ns, timeout_ns;
	uint64_t now_ns;
	uint32_t server;
	uint16_t server_port;
	uint16_t requests;            /* 0: until the run ends */
	bool fin_client;
	uint8_t run;                  /* enum run_phase */
	uint32_t addr_i;              /* the next 4-tuple: addrs[addr_i], port_lo + port_i */
	uint32_t port_i;
	uint32_t port_span;
	uint16_t port_lo;
	unsigned n_addrs;
	uint32_t addrs[LG_ADDRS_MAX];
	int64_t resp_size;

	/* Pacing: credit in connections x 1e9, earned at rate_eff per second. */
	uint64_t credit;
	uint64_t last_ns;
	uint32_t rate;                /* the target (0: as fast as the cap allows) */
	uint32_t rate_eff;            /* in force: below the target while backing off */
	uint32_t burst;
	uint32_t cap;
	uint64_t ctl_next_ns;
	uint64_t ctl_errors;          /* errors and cap_held at the last control period */
	uint64_t ctl_cap_held;

	uint64_t t0_ns, run_end_ns, drain_ns, drain_end_ns;
	/* Before the run: one connection at a time until one is accepted. */
	uint64_t probe_next_ns, probe_end_ns, wait_ns;
	bool probe_open;
	uint32_t probe_ok;            /* first connections accepted: one per client address */
	uint8_t probe_err;            /* the last failure's enum lg_stat */
	uint64_t stat[LG_STAT_MAX];
	void (*hook)(void *arg, bool response);
	void *hook_arg;

	/*
	 * Per-second snapshots for the printing thread: slots go from `free`
	 * to `full` (filled here) and back (once printed), each ring with one
	 * producer and one consumer. No free slot: the second is lost, counted.
	 */
	uint64_t sec_next_ns;
	uint32_t notes;
	uint64_t last_snap_ns;        /* t_ns of the last snapshot made */
	uint64_t snaps_made, snaps_lost;
	struct rte_ring *snap_free, *snap_full;
	struct lg_snap snaps[LG_SNAPS];

	struct lg_conn *conns;
	uint32_t n_conns;
	struct lg_resp_cache resp_cache; /* the last response head: most are the same again */
};

static inline void
stat_inc(struct lg_engine *e, enum lg_stat s)
{
	e->stat[s]++;
}

static void
fifo_unlink(struct lg_engine *e, struct lg_conn *c)
{
	struct fifo *f;

	if (c->fifo == FIFO_NONE)
		return;
	f = c->fifo == FIFO_CONNECT ? &e->fifo_connect : &e->fifo_busy;
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		f->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		f->tail = c->prev;
	c->prev = c->next = NULL;
	c->fifo = FIFO_NONE;
}

/* To the tail of a FIFO with its wait from now: the FIFO stays sorted. */
static void
fifo_push(struct lg_engine *e, struct lg_conn *c, enum fifo_id id)
{
	struct fifo *f = id == FIFO_CONNECT ? &e->fifo_connect : &e->fifo_busy;

	fifo_unlink(e, c);
	c->deadline_ns = e->now_ns + (id == FIFO_CONNECT ? e->connect_ns : e->timeout_ns);
	c->fifo = (uint8_t)id;
	c->prev = f->tail;
	c->next = NULL;
	if (f->tail != NULL)
		f->tail->next = c;
	else
		f->head = c;
	f->tail = c;
}

static struct lg_conn *
conn_get(struct lg_engine *e)
{
	struct lg_conn *c = e->free_list;

	if (c == NULL)
		return NULL;
	e->free_list = c->next;
	memset(c, 0, sizeof(*c));
	c->eng = e;
	e->open++;
	return c;
}

static void
conn_put(struct lg_engine *e, struct lg_conn *c)
{
	if (c->flags & F_PROBE) {
		e->probe_open = false;
		e->probe_next_ns = e->now_ns + 100 * NS_PER_MS;
	}
	fifo_unlink(e, c);
	c->phase = P_FREE;
	c->conn = NULL;
	c->next = e->free_list;
	e->free_list = c;
	e->open--;
}

/* Count one error for c (once per connection). */
static void
conn_error(struct lg_engine *e, struct lg_conn *c, enum lg_stat s)
{
	if (c->flags & F_FAILED)
		return;
	c->flags |= F_FAILED;
	if (c->flags & F_PROBE) {
		/* Not yet an error: the server may still be starting. */
		stat_inc(e, LG_probe_failed);
		e->probe_err = (uint8_t)s;
		return;
	}
	stat_inc(e, s);
}

/* Reset and forget: no event comes after dtcp_tcp_abort(). */
static void
conn_abort(struct lg_engine *e, struct lg_conn *c)
{
	dtcp_tcp_abort(e->w, c->conn);
	conn_put(e, c);
}

/*
 * Request number c->reqs (from 0) by reference: 0, or -errno (-EAGAIN:
 * wait for WRITABLE; -ENOSR: every reference slot busy).
 */
static int
send_request(struct lg_engine *e, struct lg_conn *c)
{
	bool last = e->requests != 0 && c->reqs + 1u >= e->requests;
	uint32_t off = last ? e->req_len : 0;
	uint16_t len = last ? e->req_last_len : e->req_len;
	struct rte_mbuf_ext_shared_info *si;
	struct rte_mbuf *m = rte_pktmbuf_alloc(e->pool);
	int rc;

	if (m == NULL)
		return -ENOBUFS;
	si = ext_ref_take(&e->refs, 1);
	if (si == NULL) {
		rte_pktmbuf_free(m);
		return -ENOSR;
	}
	rte_pktmbuf_attach_extbuf(m, e->req + off, e->req_iova + off, len, si);
	m->data_len = len;
	m->pkt_len = len;
	rc = dtcp_tcp_send(e->w, c->conn, m);
	if (rc != 0) {
		rte_pktmbuf_free(m);
		return rc;
	}
	c->flags &= (uint8_t)~F_SEND_PENDING;
	stat_inc(e, LG_requests);
	if (e->hook != NULL)
		e->hook(e->hook_arg, false);
	return 0;
}

/* A request the stack or the slots refused (send_request's rc): counted, then reset. */
static void
send_failed(struct lg_engine *e, struct lg_conn *c, int rc)
{
	conn_error(e, c, rc == -ENOSR ? LG_err_slots : LG_err_local);
	conn_abort(e, c);
}

/* Our FIN; first if the server's has not come (ESTABLISHED), else second (CLOSE-WAIT). */
static void
conn_shutdown(struct lg_engine *e, struct lg_conn *c)
{
	if (c->flags & F_SHUT)
		return;
	if (dtcp_conn_state(c->conn) == DTCP_TCP_ESTABLISHED)
		c->flags |= F_FIRST;
	c->flags |= F_SHUT;
	dtcp_tcp_shutdown(e->w, c->conn);
}

/* Every response is in, or the exchange was given up: close as fin_first says. */
static void
conn_finish(struct lg_engine *e, struct lg_conn *c)
{
	c->phase = P_CLOSING;
	fifo_push(e, c, FIFO_BUSY);
	if (e->fin_client || (c->flags & F_PEER_FIN))
		conn_shutdown(e, c);
}

/* A whole response: check it, then the next request or the close. false: c is gone. */
static bool
response_done(struct lg_engine *e, struct lg_conn *c)
{
	int rc;

	stat_inc(e, LG_responses);
	if (e->hook != NULL)
		e->hook(e->hook_arg, true);
	if (c->resp.status != 200)
		conn_error(e, c, LG_err_status);
	else if (e->resp_size >= 0 && c->resp.clen != (uint64_t)e->resp_size)
		conn_error(e, c, LG_err_size);
	c->reqs++;
	if ((e->requests != 0 ? c->reqs >= e->requests : (e->run == R_DRAIN || e->run == R_DONE)) ||
	    (c->resp.flags & LG_RESP_CLOSE) ||
	    (c->flags & F_PEER_FIN)) {
		c->flags |= F_DONE;
		conn_finish(e, c);
		return true;
	}
	lg_resp_reset(&c->resp);
	fifo_push(e, c, FIFO_BUSY);
	rc = send_request(e, c);
	if (rc == -EAGAIN) {
		c->flags |= F_SEND_PENDING;
	} else if (rc != 0) {
		send_failed(e, c, rc);
		return false;
	}
	return true;
}

/* Response bytes: m's segments through the reader. The mbuf is freed here. */
static void
on_data(struct lg_engine *e, struct lg_conn *c, struct rte_mbuf *m)
{
	const uint64_t hits = e->resp_cache.hits;
	struct rte_mbuf *seg;

	e->stat[LG_resp_bytes] += m->pkt_len;
	for (seg = m; seg != NULL; seg = seg->next) {
		const uint8_t *p = rte_pktmbuf_mtod(seg, const uint8_t *);
		uint32_t n = seg->data_len;

		while (n > 0) {
			enum lg_resp_verdict v;
			uint32_t used;

			/* Bytes when no response is awaited: nobody asked for them. */
			if (c->phase != P_WAIT) {
				conn_error(e, c, LG_err_malformed);
				conn_abort(e, c);
				goto out;
			}
			v = lg_resp_feed_cached(&c->resp, &e->resp_cache, p, n, &used);
			if (v == LG_RESP_BAD) {
				conn_error(e, c, LG_err_malformed);
				conn_abort(e, c);
				goto out;
			}
			p += used;
			n -= used;
			if (v == LG_RESP_DONE && !response_done(e, c))
				goto out;
		}
	}
out:
	e->stat[LG_resp_heads_cached] += e->resp_cache.hits - hits;
	rte_pktmbuf_free(m);
}

static void
on_closed(struct lg_engine *e, struct lg_conn *c, int error)
{
	if (error == 0) {
		if (c->flags & F_FIRST)
			stat_inc(e, LG_closed_first);
		else
			stat_inc(e, LG_closed_second);
		if ((c->flags & (F_DONE | F_FAILED)) == F_DONE)
			stat_inc(e, LG_completed);
		else if (!(c->flags & F_DONE))
			conn_error(e, c, LG_err_short);
	} else if (c->phase == P_CONNECTING) {
		conn_error(e, c, error == -ETIMEDOUT ? LG_err_connect_timeout : LG_err_refused);
	} else {
		conn_error(e, c, error == -ETIMEDOUT ? LG_err_timeout : LG_err_reset);
	}
	conn_put(e, c);
}

static void
on_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct lg_conn *c = ev->user;
	struct lg_engine *e = c->eng;

	(void)w;
	switch (ev->type) {
	case DTCP_EV_CONNECTED:
		stat_inc(e, LG_established);
		if (c->flags & F_PROBE) {
			c->flags &= (uint8_t)~F_PROBE;
			e->probe_ok++;
			e->probe_open = false;
		}
		if (c->phase == P_CONNECTING) {
			c->phase = P_WAIT;
			fifo_push(e, c, FIFO_BUSY);
		}
		break;
	case DTCP_EV_DATA:
		on_data(e, c, ev->data);
		break;
	case DTCP_EV_PEER_CLOSED:
		c->flags |= F_PEER_FIN;
		if (c->phase == P_CLOSING) {
			conn_shutdown(e, c);
		} else {
			/* The server ended before the whole response. */
			conn_error(e, c, LG_err_short);
			conn_finish(e, c);
		}
		break;
	case DTCP_EV_WRITABLE:
		if (c->flags & F_SEND_PENDING) {
			int rc = send_request(e, c);

			if (rc != 0 && rc != -EAGAIN)
				send_failed(e, c, rc);
		}
		break;
	case DTCP_EV_CLOSED:
		on_closed(e, c, ev->error);
		break;
	case DTCP_EV_ACCEPTABLE:
		break;
	}
}

/* The next 4-tuple in turn: addresses first, so consecutive opens spread over them. */
static inline void
tuple_next(struct lg_engine *e, uint32_t *laddr, uint16_t *lport)
{
	*laddr = e->addrs[e->addr_i];
	*lport = (uint16_t)(e->port_lo + e->port_i);
	if (++e->addr_i == e->n_addrs) {
		e->addr_i = 0;
		if (++e->port_i == e->port_span)
			e->port_i = 0;
	}
}

/*
 * One connection from the next free 4-tuple, its first request queued
 * behind the SYN. 0; -EBUSY when every tuple tried was busy; -errno when
 * the stack refused (each counted).
 */
static int
open_one(struct lg_engine *e, bool probe)
{
	struct lg_conn *c = conn_get(e);
	unsigned tries = RTE_MIN((uint32_t)TUPLE_TRIES, e->port_span * e->n_addrs);
	int rc = -EADDRINUSE;

	if (c == NULL)
		return -ENOSPC;
	for (unsigned i = 0; i < tries && rc == -EADDRINUSE; i++) {
		uint32_t laddr;
		uint16_t lport;

		tuple_next(e, &laddr, &lport);
		rc = dtcp_tcp_connect(e->w, e->server, e->server_port, laddr, lport, on_event, c,
				      &c->conn);
		if (rc == -EADDRINUSE)
			stat_inc(e, LG_tuple_busy);
	}
	if (rc != 0) {
		conn_put(e, c);
		if (rc == -EADDRINUSE) {
			stat_inc(e, LG_err_tuples);
			e->notes |= LG_NOTE_TUPLES;
			return -EBUSY;
		}
		stat_inc(e, LG_err_local);
		return rc;
	}
	stat_inc(e, LG_opened);
	c->phase = P_CONNECTING;
	if (probe) {
		c->flags |= F_PROBE;
		e->probe_open = true;
	}
	fifo_push(e, c, FIFO_CONNECT);
	rc = send_request(e, c);
	if (rc == -EAGAIN) {
		c->flags |= F_SEND_PENDING;
	} else if (rc != 0) {
		send_failed(e, c, rc);
		return rc;
	}
	return 0;
}

/* How many to open now: the rate's credit, the cap's room, the burst. */
static uint32_t
opens_due(struct lg_engine *e)
{
	uint64_t room = e->cap - e->open, want;

	if (e->rate == 0) {
		want = RTE_MIN(room, (uint64_t)e->burst);
		return (uint32_t)want;
	}
	/* A stall earns no more than one burst: no catching up in a flood. */
	e->credit += RTE_MIN(e->now_ns - e->last_ns, LG_NS_PER_S) * e->rate_eff;
	e->credit = RTE_MIN(e->credit, (uint64_t)e->burst * LG_NS_PER_S);
	e->last_ns = e->now_ns;
	want = e->credit / LG_NS_PER_S;
	if (want > room) {
		/* Held back by the cap: dropped, not owed (a slow server gets no backlog). */
		e->stat[LG_cap_held] += want - room;
		e->credit -= (want - room) * LG_NS_PER_S;
		e->notes |= LG_NOTE_CAP;
		want = room;
	}
	return (uint32_t)want;
}

static void
open_due(struct lg_engine *e)
{
	uint32_t n = opens_due(e);

	if (e->rate == 0 && n == 0 && e->open == e->cap)
		e->notes |= LG_NOTE_CAP;
	for (uint32_t i = 0; i < n; i++) {
		int rc = open_one(e, false);

		if (e->rate != 0)
			e->credit -= LG_NS_PER_S;
		if (rc != 0) {
			/* Out of tuples or refused by the stack: no more this poll. */
			if (e->rate != 0)
				e->credit = 0;
			break;
		}
	}
}

/*
 * Every 100 ms with a target rate: halve it when errors came or the cap
 * held opens back (the server is not keeping up), else win back a
 * sixteenth of the target, so that a slow server sees fewer new
 * connections instead of a growing pile.
 */
static void
control(struct lg_engine *e)
{
	uint64_t errors = 0;

	for (unsigned s = 0; s < LG_STAT_MAX; s++)
		if (stat_errors[s])
			errors += e->stat[s];
	if (e->rate != 0) {
		if (errors > e->ctl_errors || e->stat[LG_cap_held] > e->ctl_cap_held) {
			e->rate_eff = RTE_MAX(e->rate_eff / 2, RTE_MAX(e->rate / 64, 1u));
			stat_inc(e, LG_backoffs);
		} else if (e->rate_eff < e->rate) {
			e->rate_eff = RTE_MIN(e->rate, e->rate_eff + RTE_MAX(e->rate / 16, 1u));
		}
		if (e->rate_eff < e->rate)
			e->notes |= LG_NOTE_BACKOFF;
	}
	e->ctl_errors = errors;
	e->ctl_cap_held = e->stat[LG_cap_held];
}

/* Connections past their deadline: handshake, response or close. */
static void
expire(struct lg_engine *e)
{
	struct lg_conn *c;

	while ((c = e->fifo_connect.head) != NULL && c->deadline_ns <= e->now_ns) {
		conn_error(e, c, LG_err_connect_timeout);
		conn_abort(e, c);
	}
	while ((c = e->fifo_busy.head) != NULL && c->deadline_ns <= e->now_ns) {
		conn_error(e, c, LG_err_timeout);
		conn_abort(e, c);
	}
}

/* Publish the second that ended (or the last part of one): a free slot filled, then passed on. */
static void
publish(struct lg_engine *e)
{
	uint64_t states[DTCP_TCP_STATE_MAX];
	struct lg_snap *s;

	e->last_snap_ns = e->now_ns - e->t0_ns;
	e->snaps_made++;
	if (rte_ring_sc_dequeue(e->snap_free, (void **)&s) != 0) {
		__atomic_store_n(&e->snaps_lost, e->snaps_lost + 1, __ATOMIC_RELAXED);
		return;
	}
	s->t_ns = e->last_snap_ns;
	memcpy(s->stat, e->stat, sizeof(s->stat));
	memcpy(s->ctr, dtcp_worker_counters(e->w), sizeof(s->ctr));
	dtcp_tcp_state_counts(e->w, states);
	s->timewait = states[DTCP_TCP_TIME_WAIT];
	s->open = e->open;
	s->rate = e->rate != 0 ? e->rate_eff : 0;
	s->notes = e->notes | (e->run == R_DRAIN ? LG_NOTE_DRAIN : 0);
	e->notes = 0;
	/* As many slots as the ring holds: there is always room. */
	rte_ring_sp_enqueue(e->snap_full, s);
}

/* The clock starts: per-second lines, the duration, the pacing. */
static void
run_start(struct lg_engine *e)
{
	uint64_t now_ns = e->now_ns;

	e->t0_ns = now_ns;
	e->last_ns = now_ns;
	e->run_end_ns = e->run_end_ns == 0 ? UINT64_MAX : now_ns + e->run_end_ns;
	e->sec_next_ns = now_ns + LG_NS_PER_S;
	e->ctl_next_ns = now_ns + CTL_PERIOD_NS;
	e->run = R_RUN;
}

/*
 * Before the run: one connection at a time (again 100 ms after a failure)
 * until one from each client address was accepted, so that both sides
 * have resolved every address before the load begins.
 */
static void
probe(struct lg_engine *e)
{
	if (e->probe_ok >= e->n_addrs) {
		run_start(e);
		return;
	}
	if (e->now_ns >= e->probe_end_ns) {
		/* Never accepted: the last failure is the run's one error. */
		stat_inc(e, e->probe_err != 0 ? (enum lg_stat)e->probe_err : LG_err_connect_timeout);
		e->t0_ns = e->now_ns;
		e->run = R_DONE;
		publish(e);
		return;
	}
	if (e->probe_open || e->now_ns < e->probe_next_ns)
		return;
	if (open_one(e, true) != 0)
		e->probe_next_ns = e->now_ns + 100 * NS_PER_MS;
}

void
lg_engine_set_hook(struct lg_engine *e, void (*fn)(void *arg, bool response), void *arg)
{
	e->hook = fn;
	e->hook_arg = arg;
}

void
lg_engine_poll(struct lg_engine *e, uint64_t now_ns)
{
	e->now_ns = now_ns;
	switch ((enum run_phase)e->run) {
	case R_IDLE:
		e->probe_end_ns = now_ns + e->wait_ns;
		e->probe_next_ns = now_ns;
		e->run = R_PROBE;
		__attribute__((fallthrough));
	case R_PROBE:
		probe(e);
		if (e->run != R_RUN) {
			if (e->fifo_connect.head != NULL || e->fifo_busy.head != NULL)
				expire(e);
			return;
		}
		break;
	case R_RUN:
		if (now_ns >= e->run_end_ns) {
			e->run = R_DRAIN;
			e->drain_end_ns = now_ns + e->drain_ns;
			break;
		}
		open_due(e);
		break;
	case R_DRAIN:
	case R_DONE:
		break;
	}
	if (e->fifo_connect.head != NULL || e->fifo_busy.head != NULL)
		expire(e);
	if (now_ns >= e->ctl_next_ns) {
		control(e);
		e->ctl_next_ns += CTL_PERIOD_NS;
		if (e->ctl_next_ns <= now_ns)
			e->ctl_next_ns = now_ns + CTL_PERIOD_NS;
	}
	if (e->run == R_DONE)
		return;
	if (now_ns >= e->sec_next_ns) {
		publish(e);
		e->sec_next_ns += LG_NS_PER_S;
		if (e->sec_next_ns <= now_ns)
			e->sec_next_ns = now_ns + LG_NS_PER_S;
	}
	if (e->run == R_DRAIN && (e->open == 0 || now_ns >= e->drain_end_ns)) {
		e->run = R_DONE;
		/* The part of a second since the last line, unless there is none. */
		if (now_ns - e->t0_ns > e->last_snap_ns + NS_PER_MS || e->snaps_made == 0)
			publish(e);
	}
}

bool
lg_engine_started(const struct lg_engine *e)
{
	return e->run != R_IDLE && e->run != R_PROBE;
}

bool
lg_engine_done(const struct lg_engine *e)
{
	return e->run == R_DONE;
}

bool
lg_engine_take_snap(struct lg_engine *e, struct lg_snap *out, uint64_t *lost)
{
	struct lg_snap *s;

	*lost = __atomic_load_n(&e->snaps_lost, __ATOMIC_RELAXED);
	if (rte_ring_sc_dequeue(e->snap_full, (void **)&s) != 0)
		return false;
	*out = *s;
	rte_ring_sp_enqueue(e->snap_free, s);
	return true;
}

struct lg_engine *
lg_engine_create(struct dtcp_worker *w, struct rte_mempool *pool, const struct lg_opts *o,
		 const uint32_t *addrs, unsigned n_addrs, const char *req, uint32_t req_len,
		 const char *req_last, uint32_t req_last_len, char *err, size_t errlen)
{
	char name[RTE_RING_NAMESIZE];
	struct lg_engine *e;

	if (n_addrs == 0 || n_addrs > LG_ADDRS_MAX || o->concurrency == 0 ||
	    o->port_lo == 0 || o->port_lo > o->port_hi) {
		snprintf(err, errlen, "no client address, no client port, or concurrency 0");
		return NULL;
	}
	if (req_len == 0 || req_len > LG_REQ_MAX || req_last_len == 0 ||
	    req_last_len > LG_REQ_MAX) {
		snprintf(err, errlen, "a request of 1 to %u bytes", LG_REQ_MAX);
		return NULL;
	}
	e = rte_zmalloc("lg_engine", sizeof(*e), RTE_CACHE_LINE_SIZE);
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->conns = rte_zmalloc("lg_conns", (size_t)o->concurrency * sizeof(*e->conns),
			       RTE_CACHE_LINE_SIZE);
	snprintf(name, sizeof(name), "lg_free_%p", (void *)e);
	e->snap_free = rte_ring_create(name, LG_SNAPS, SOCKET_ID_ANY,
				       RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	snprintf(name, sizeof(name), "lg_full_%p", (void *)e);
	e->snap_full = rte_ring_create(name, LG_SNAPS, SOCKET_ID_ANY,
				       RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	for (unsigned i = 0; e->snap_free != NULL && i < LG_SNAPS; i++)
		rte_ring_sp_enqueue(e->snap_free, &e->snaps[i]);
	/* A slot in use holds an mbuf of the pool: as many (to EXT_REF_MAX) never run out. */
	e->req = rte_malloc("lg_request", (size_t)req_len + req_last_len, 0);
	if (e->conns == NULL || e->snap_free == NULL || e->snap_full == NULL ||
	    e->req == NULL || ext_ref_init(&e->refs, pool->size, SOCKET_ID_ANY) != 0) {
		snprintf(err, errlen, "out of memory for %u connections", o->concurrency);
		lg_engine_free(e);
		return NULL;
	}
	memcpy(e->req, req, req_len);
	memcpy(e->req + req_len, req_last, req_last_len);
	e->req_iova = rte_malloc_virt2iova(e->req);
	e->req_len = (uint16_t)req_len;
	e->req_last_len = (uint16_t)req_last_len;
	e->w = w;
	e->pool = pool;
	e->n_conns = o->concurrency;
	for (uint32_t i = o->concurrency; i-- > 0;) {
		e->conns[i].next = e->free_list;
		e->free_list = &e->conns[i];
	}
	e->cap = o->concurrency;
	e->connect_ns = (uint64_t)o->connect_timeout_ms * NS_PER_MS;
	e->timeout_ns = (uint64_t)o->timeout_ms * NS_PER_MS;
	e->server = o->server;
	e->server_port = o->server_port;
	e->requests = (uint16_t)o->requests;
	e->fin_client = o->fin_first == LG_FIN_CLIENT;
	memcpy(e->addrs, addrs, n_addrs * sizeof(addrs[0]));
	e->n_addrs = n_addrs;
	e->port_lo = o->port_lo;
	e->port_span = (uint32_t)o->port_hi - o->port_lo + 1;
	e->resp_size = o->response_size;
	e->rate = o->rate;
	e->rate_eff = o->rate;
	e->burst = o->burst;
	/* Relative until the first poll makes it absolute; 0: no end. */
	e->run_end_ns = (uint64_t)o->duration_s * LG_NS_PER_S;
	e->drain_ns = (uint64_t)o->drain_ms * NS_PER_MS;
	e->wait_ns = (uint64_t)o->wait_ms * NS_PER_MS;
	return e;
}

void
lg_engine_stop(struct lg_engine *e)
{
	for (uint32_t i = 0; i < e->n_conns; i++) {
		struct lg_conn *c = &e->conns[i];

		if (c->phase == P_FREE)
			continue;
		stat_inc(e, LG_unfinished);
		conn_abort(e, c);
	}
}

void
lg_engine_free(struct lg_engine *e)
{
	if (e == NULL)
		return;
	/*
	 * A reference may still be out (on the wire, or held by the peer on a
	 * software wire): the request and its slots stay for it then, to be
	 * taken back with EAL's memory. One that never comes home is an mbuf
	 * the exit's leak check finds.
	 */
	if (e->refs.slot == NULL || ext_ref_out(&e->refs) == 0) {
		ext_ref_fini(&e->refs);
		rte_free(e->req);
	}
	rte_ring_free(e->snap_free);
	rte_ring_free(e->snap_full);
	rte_free(e->conns);
	rte_free(e);
}

const uint64_t *
lg_engine_stats(const struct lg_engine *e)
{
	return e->stat;
}
