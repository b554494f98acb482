/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The event interface (dtcp/tcp.h): the RFC 9293 §3.10 user calls (OPEN,
 * SEND, CLOSE, ABORT) for an application on the worker's lcore, and the
 * delivery of events queued during input and timers.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "../tcp/tcp_priv.h"

void
dtcp_tcp_recv_pause(struct dtcp_worker *w, struct dtcp_conn *conn, bool paused)
{
	struct dtcp_tcb *c = (struct dtcp_tcb *)conn;

	if (c->rcv_paused == paused)
		return;
	c->rcv_paused = paused;
	/* Released: what waited is delivered after the current event function. */
	if (!paused && c->ev != 0)
		tcp_event(w, c, 0);
}

/* Bytes dtcp_tcp_send() would take now. */
uint32_t
dtcp_tcp_send_space(const struct dtcp_conn *conn)
{
	const struct dtcp_tcb *c = (const struct dtcp_tcb *)conn;

	return c->snd_buf > c->snd_q_bytes ? c->snd_buf - c->snd_q_bytes : 0;
}

static struct dtcp_tcb *
tcb(struct dtcp_conn *c)
{
	return (struct dtcp_tcb *)c;
}

int
dtcp_tcp_listen(struct dtcp_worker *w, uint32_t addr, uint16_t port,
		const struct dtcp_listen_opts *opts, dtcp_event_fn fn, void *user,
		struct dtcp_conn **out)
{
	struct dtcp_listen_key k = { .addr = addr, .port = port, .zero = 0 };
	struct dtcp_tcp *t = w->tcp;
	struct dtcp_tcb *l;
	int rc;

	if (port == 0 || fn == NULL)
		return -EINVAL;
	if (addr != 0 && !dtcp_is_local_addr(w, addr))
		return -EADDRNOTAVAIL;
	if (rte_hash_lookup(t->listeners, &k) >= 0)
		return -EADDRINUSE;
	if (t->n_listeners >= w->cfg.tcp_listeners_max)
		return -ENOSPC;
	l = tcp_tcb_alloc(w);
	if (l == NULL)
		return -ENOBUFS;
	l->key.laddr = addr;
	l->key.lport = port;
	l->fn = fn;
	l->user = user;
	l->syn_max = opts != NULL && opts->syn_backlog != 0 ? opts->syn_backlog
							      : w->cfg.tcp_syn_backlog;
	l->acc_max = opts != NULL && opts->accept_backlog != 0 ? opts->accept_backlog
								 : w->cfg.tcp_accept_backlog;
	/* Kept on the listener for each connection to inherit. */
	l->rcv_buf = w->cfg.tcp_rcvbuf;
	l->snd_buf = w->cfg.tcp_sndbuf;
	if (opts != NULL)
		tcp_conn_opts_apply(w, l, &opts->conn);
	rc = rte_hash_add_key_data(t->listeners, &k, l);
	if (rc != 0) {
		tcp_tcb_release(w, l);
		return rc == -ENOSPC ? -ENOSPC : -ENOBUFS;
	}
	t->n_listeners++;
	if (addr != 0)
		t->n_listeners_addr++;
	tcp_set_state(w, l, DTCP_TCP_LISTEN);
	*out = (struct dtcp_conn *)l;
	return 0;
}

struct dtcp_conn *
dtcp_tcp_accept(struct dtcp_worker *w, struct dtcp_conn *listener, dtcp_event_fn fn, void *user)
{
	struct dtcp_tcb *l = tcb(listener), *c = l->acc_head;

	if (l->state != DTCP_TCP_LISTEN || c == NULL || fn == NULL)
		return NULL;
	l->acc_head = c->acc_next;
	if (l->acc_head == NULL)
		l->acc_tail = NULL;
	l->acc_count--;
	c->acc_next = NULL;
	c->in_accept_q = false;
	c->parent = NULL;
	c->fn = fn;
	c->user = user;
	ctr_inc(w, DTCP_CTR_tcp_accepted);
	/* Whatever came before the accept (data, FIN) is delivered now. */
	if (c->ev != 0)
		tcp_event(w, c, 0);
	return (struct dtcp_conn *)c;
}

/* A free local port for (laddr, raddr, rport), round robin over the range. */
static int
pick_port(struct dtcp_worker *w, struct dtcp_flow_key *k, uint32_t *hash)
{
	struct dtcp_tcp *t = w->tcp;
	uint32_t n = (uint32_t)w->cfg.tcp_port_max - w->cfg.tcp_port_min + 1;

	for (uint32_t i = 0; i < n; i++) {
		/* Round robin without a division per connection. */
		if (t->port_next >= n)
			t->port_next = 0;
		k->lport = (uint16_t)(w->cfg.tcp_port_min + t->port_next++);
		*hash = tcp_flow_hash(w, k);
		if (tcp_flow_lookup(w, k, *hash) == NULL &&
		    tcp_listener_lookup(w, k->laddr, k->lport) == NULL)
			return 0;
	}
	ctr_inc(w, DTCP_CTR_tcp_no_port);
	return -EADDRNOTAVAIL;
}

uint32_t
dtcp_tcp_accept_queued(const struct dtcp_conn *listener)
{
	const struct dtcp_tcb *l = (const struct dtcp_tcb *)listener;

	return l->state == DTCP_TCP_LISTEN ? l->acc_count : 0;
}

static uint32_t
rcvbuf_cap(uint32_t b)
{
	return RTE_MIN(b, 65535u << 14);
}

void
tcp_conn_opts_apply(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_conn_opts *o)
{
	if (o->sndbuf != 0)
		c->snd_buf = o->sndbuf;
	if (o->rcvbuf != 0)
		c->rcv_buf = rcvbuf_cap(o->rcvbuf);
	if (o->mss != 0)
		c->user_mss = RTE_MAX(o->mss, w->cfg.tcp_mss_min);
	if (o->nodelay != DTCP_OPT_DEFAULT)
		c->nodelay = o->nodelay == DTCP_OPT_ON;
	if (o->keepalive != DTCP_OPT_DEFAULT)
		c->keepalive = o->keepalive == DTCP_OPT_ON;
	if (o->ka_idle_s != 0)
		c->ka_idle_s = o->ka_idle_s;
	if (o->ka_intvl_s != 0)
		c->ka_intvl_s = o->ka_intvl_s;
	if (o->ka_cnt != 0)
		c->ka_cnt = o->ka_cnt;
}

void
tcp_conn_inherit(struct dtcp_tcb *c, const struct dtcp_tcb *l)
{
	c->snd_buf = l->snd_buf;
	c->rcv_buf = l->rcv_buf;
	c->user_mss = l->user_mss;
	c->nodelay = l->nodelay;
	c->keepalive = l->keepalive;
	c->ka_idle_s = l->ka_idle_s;
	c->ka_intvl_s = l->ka_intvl_s;
	c->ka_cnt = l->ka_cnt;
}

int
dtcp_tcp_connect(struct dtcp_worker *w, uint32_t raddr, uint16_t rport, uint32_t laddr,
		 uint16_t lport, dtcp_event_fn fn, void *user, struct dtcp_conn **out)
{
	return dtcp_tcp_connect_opts(w, raddr, rport, laddr, lport, NULL, fn, user, out);
}

int
dtcp_tcp_connect_opts(struct dtcp_worker *w, uint32_t raddr, uint16_t rport, uint32_t laddr,
		      uint16_t lport, const struct dtcp_conn_opts *opts, dtcp_event_fn fn,
		      void *user, struct dtcp_conn **out)
{
	struct dtcp_flow_key k;
	struct dtcp_tcb *c;
	uint32_t hash;
	int rc;

	if (rport == 0 || fn == NULL || raddr == 0 || dtcp_ipv4_martian(raddr))
		return -EINVAL;
	if (laddr == 0)
		laddr = dtcp_source_for(w, raddr);
	else if (!dtcp_is_local_addr(w, laddr))
		return -EADDRNOTAVAIL;
	k.laddr = laddr;
	k.raddr = raddr;
	k.rport = rport;
	k.lport = lport;
	k.zero = 0;
	if (lport != 0) {
		hash = tcp_flow_hash(w, &k);
		if (tcp_flow_lookup(w, &k, hash) != NULL)
			return -EADDRINUSE;
	} else {
		rc = pick_port(w, &k, &hash);
		if (rc != 0)
			return rc;
	}
	c = tcp_tcb_alloc(w);
	if (c == NULL)
		return -ENOBUFS;
	/* OPEN, active (RFC 9293 §3.10.1): the options we offer, then the SYN. */
	c->key = k;
	c->hash = hash;
	c->iss = tcp_isn(w, &k);
	c->snd_una = c->iss;
	c->snd_nxt = c->iss + 1;
	c->snd_max = c->iss + 1;
	c->snd_q_seq = c->iss + 1;
	c->rcv_buf = w->cfg.tcp_rcvbuf;
	c->snd_buf = w->cfg.tcp_sndbuf;
	c->ts_offset = tcp_ts_offset(w, &k);
	c->ts_ok = w->cfg.tcp_timestamps != 0;
	c->sack_ok = w->cfg.tcp_sack != 0;
	c->ws_ok = w->cfg.tcp_window_scale != 0;
	if (opts != NULL)
		tcp_conn_opts_apply(w, c, opts);
	c->rcv_wscale = c->ws_ok ? tcp_wscale_for(c->rcv_buf) : 0;
	c->peer_mss = 536;
	c->snd_mss = tcp_mss_for(w, c);
	c->cc_ops = w->cfg.tcp_cc == DTCP_CC_CUBIC ? &dtcp_cc_cubic_ops : &dtcp_cc_newreno_ops;
	c->cc_ops->init(&c->cc, c->snd_mss, w->now_ns);
	c->last_rx_ns = w->now_ns;
	c->quickacks = TCP_QUICKACKS;
	c->fn = fn;
	c->user = user;
	if (tcp_flow_add(w, &k, hash, c) != 0) {
		tcp_tcb_release(w, c);
		ctr_inc(w, DTCP_CTR_tcp_conn_table_full);
		return -ENOBUFS;
	}
	tcp_set_state(w, c, DTCP_TCP_SYN_SENT);
	ctr_inc(w, DTCP_CTR_tcp_active_open);
	tcp_send_syn(w, c);
	c->rtt_timing = !c->ts_ok;
	c->rtt_seq = c->iss;
	c->rtt_start_ns = w->now_ns;
	tcp_rtx_arm(w, c);
	*out = (struct dtcp_conn *)c;
	return 0;
}

static int
send_check(const struct dtcp_tcb *c)
{
	if (c->state == DTCP_TCP_LISTEN)
		return -ENOTCONN;
	if (c->dead || c->fin_queued || c->orphan)
		return -EPIPE;
	switch ((enum dtcp_tcp_state)c->state) {
	case DTCP_TCP_SYN_SENT:
	case DTCP_TCP_SYN_RECEIVED:
	case DTCP_TCP_ESTABLISHED:
	case DTCP_TCP_CLOSE_WAIT:
		return 0;
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_FIN_WAIT_1:
	case DTCP_TCP_FIN_WAIT_2:
	case DTCP_TCP_CLOSING:
	case DTCP_TCP_LAST_ACK:
	case DTCP_TCP_TIME_WAIT:
	case DTCP_TCP_STATE_MAX:
		break;
	}
	return -EPIPE;
}

/* Link the segments of m behind the send queue; empty segments are freed. */
static void
snd_q_append(struct dtcp_worker *w, struct dtcp_tcb *c, struct rte_mbuf *m)
{
	while (m != NULL) {
		struct rte_mbuf *next = m->next;

		m->next = NULL;
		m->nb_segs = 1;
		if (m->data_len == 0) {
			rte_pktmbuf_free_seg(m);
		} else {
			if (c->snd_q_tail != NULL)
				c->snd_q_tail->next = m;
			else
				c->snd_q = m;
			c->snd_q_tail = m;
			c->snd_q_bytes += m->data_len;
			c->snd_q_mbufs++;
			w->tcp->mbufs_held++;
		}
		m = next;
	}
}

int
dtcp_tcp_send(struct dtcp_worker *w, struct dtcp_conn *conn, struct rte_mbuf *m)
{
	struct dtcp_tcb *c = tcb(conn);
	int rc = send_check(c);

	if (rc != 0)
		return rc;
	if (m->pkt_len > dtcp_tcp_send_space(conn) ||
	    w->tcp->mbufs_held + m->nb_segs > w->cfg.tcp_mbufs_max) {
		c->want_writable = true;
		ctr_inc(w, DTCP_CTR_tcp_send_refused);
		return -EAGAIN;
	}
	snd_q_append(w, c, m);
	if (tcp_state_can_send((enum dtcp_tcp_state)c->state))
		tcp_schedule_output(w, c);
	return 0;
}

int
dtcp_tcp_send_copy(struct dtcp_worker *w, struct dtcp_conn *conn, const void *buf, uint32_t len)
{
	struct dtcp_tcb *c = tcb(conn);
	const uint8_t *p = buf;
	uint32_t done = 0;
	int rc = send_check(c);

	if (rc != 0)
		return rc;
	while (done < len) {
		uint32_t space = dtcp_tcp_send_space(conn);
		struct rte_mbuf *m;
		uint32_t n;

		if (space == 0 || w->tcp->mbufs_held >= w->cfg.tcp_mbufs_max)
			break;
		m = dtcp_alloc(w);
		if (m == NULL)
			break;
		n = RTE_MIN(RTE_MIN(len - done, space), (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_append(m, (uint16_t)n), p + done, n);
		ctr_inc(w, DTCP_CTR_payload_copies);
		ctr_add(w, DTCP_CTR_payload_copy_bytes, n);
		snd_q_append(w, c, m);
		done += n;
	}
	if (done < len) {
		c->want_writable = true;
		ctr_inc(w, DTCP_CTR_tcp_send_refused);
	}
	if (done > 0 && tcp_state_can_send((enum dtcp_tcp_state)c->state))
		tcp_schedule_output(w, c);
	return (int)done;
}

int
dtcp_tcp_shutdown(struct dtcp_worker *w, struct dtcp_conn *conn)
{
	struct dtcp_tcb *c = tcb(conn);

	if (c->dead || c->fin_queued)
		return -ENOTCONN;
	switch ((enum dtcp_tcp_state)c->state) {
	case DTCP_TCP_SYN_SENT:
	case DTCP_TCP_SYN_RECEIVED:
		/* FIN once the handshake is done (RFC 9293 §3.10.4). */
		c->fin_queued = true;
		return 0;
	case DTCP_TCP_ESTABLISHED:
		c->fin_queued = true;
		tcp_set_state(w, c, DTCP_TCP_FIN_WAIT_1);
		tcp_schedule_output(w, c);
		return 0;
	case DTCP_TCP_CLOSE_WAIT:
		c->fin_queued = true;
		tcp_set_state(w, c, DTCP_TCP_LAST_ACK);
		tcp_schedule_output(w, c);
		return 0;
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_FIN_WAIT_1:
	case DTCP_TCP_FIN_WAIT_2:
	case DTCP_TCP_CLOSING:
	case DTCP_TCP_LAST_ACK:
	case DTCP_TCP_TIME_WAIT:
	case DTCP_TCP_STATE_MAX:
		break;
	}
	return -ENOTCONN;
}

/* Stop listening: the connections not yet accepted are reset. */
static void
listener_close(struct dtcp_worker *w, struct dtcp_tcb *l)
{
	struct dtcp_tcp *t = w->tcp;
	const void *key;
	void *v;
	uint32_t it = 0, n = 0, cap = l->syn_count + l->acc_count;
	struct dtcp_tcb **kids = NULL;

	if (cap > 0)
		kids = rte_malloc("dtcp_listener_close", cap * sizeof(*kids), 0);
	while (kids != NULL && n < cap && rte_hash_iterate(t->flows, &key, &v, &it) >= 0) {
		if (!tcp_val_is_tw(v) && ((struct dtcp_tcb *)v)->parent == l)
			kids[n++] = v;
	}
	for (uint32_t i = 0; i < n; i++) {
		tcp_send_rst(w, kids[i]);
		ctr_inc(w, DTCP_CTR_tcp_aborted);
		tcp_conn_close(w, kids[i], -ECONNRESET);
	}
	rte_free(kids);
	l->orphan = true;
	tcp_tcb_release(w, l);
}

void
dtcp_tcp_abort(struct dtcp_worker *w, struct dtcp_conn *conn)
{
	struct dtcp_tcb *c = tcb(conn);

	if (c->state == DTCP_TCP_LISTEN) {
		listener_close(w, c);
		return;
	}
	c->orphan = true;
	c->fn = NULL;
	if (c->dead)
		return;
	/* ABORT (RFC 9293 §3.10.5): RST while the peer may still send or wait for
	 * data; in CLOSING and LAST-ACK both sides are done, the TCB just goes. */
	switch ((enum dtcp_tcp_state)c->state) {
	case DTCP_TCP_SYN_RECEIVED:
	case DTCP_TCP_ESTABLISHED:
	case DTCP_TCP_FIN_WAIT_1:
	case DTCP_TCP_FIN_WAIT_2:
	case DTCP_TCP_CLOSE_WAIT:
		tcp_send_rst(w, c);
		break;
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_SYN_SENT:
	case DTCP_TCP_CLOSING:
	case DTCP_TCP_LAST_ACK:
	case DTCP_TCP_TIME_WAIT:
	case DTCP_TCP_STATE_MAX:
		break;
	}
	ctr_inc(w, DTCP_CTR_tcp_aborted);
	tcp_conn_close(w, c, -ECONNABORTED);
}

void
dtcp_tcp_close(struct dtcp_worker *w, struct dtcp_conn *conn)
{
	struct dtcp_tcb *c = tcb(conn);

	if (c->state == DTCP_TCP_LISTEN) {
		listener_close(w, c);
		return;
	}
	if (c->dead) {
		c->orphan = true;
		c->fn = NULL;
		return;
	}
	/* RFC 1122 §4.2.2.13: closing with data unread loses it; tell the peer with RST. */
	if (c->rcv_q_bytes > 0) {
		dtcp_tcp_abort(w, conn);
		return;
	}
	c->orphan = true;
	c->fn = NULL;
	switch ((enum dtcp_tcp_state)c->state) {
	case DTCP_TCP_SYN_SENT:
		tcp_conn_close(w, c, 0);
		return;
	case DTCP_TCP_SYN_RECEIVED:
	case DTCP_TCP_ESTABLISHED:
	case DTCP_TCP_CLOSE_WAIT:
		dtcp_tcp_shutdown(w, conn);
		return;
	case DTCP_TCP_FIN_WAIT_2:
		dtcp_wheel_arm(&w->wheel, &c->aux_timer,
			       tcp_deadline_tick(w, (uint64_t)w->cfg.tcp_fin_timeout_ms * 1000000));
		return;
	case DTCP_TCP_FIN_WAIT_1:
	case DTCP_TCP_CLOSING:
	case DTCP_TCP_LAST_ACK:
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_TIME_WAIT:
	case DTCP_TCP_STATE_MAX:
		return;
	}
}

int
dtcp_conn_set_cc(struct dtcp_worker *w, struct dtcp_conn *conn, const char *name)
{
	struct dtcp_tcb *c = tcb(conn);
	const struct dtcp_cc_ops *ops = dtcp_cc_find(name);

	if (ops == NULL || c->snd_max != c->snd_q_seq)
		return -EINVAL;
	c->cc_ops = ops;
	ops->init(&c->cc, c->snd_mss != 0 ? c->snd_mss : 536, w->now_ns);
	return 0;
}

void
dtcp_conn_set_nodelay(struct dtcp_conn *conn, bool nodelay)
{
	tcb(conn)->nodelay = nodelay;
}

int
dtcp_conn_set_buffers(struct dtcp_worker *w, struct dtcp_conn *conn, uint32_t sndbuf,
		      uint32_t rcvbuf)
{
	struct dtcp_tcb *c = tcb(conn);
	uint32_t old = c->rcv_buf;

	if (c->dead)
		return -EINVAL;
	if (sndbuf != 0) {
		c->snd_buf = sndbuf;
		/* A refused sender hears when the larger buffer has room. */
		if (c->want_writable && c->snd_q_bytes <= c->snd_buf - c->snd_buf / 4) {
			c->want_writable = false;
			tcp_event(w, c, EV_WRITABLE);
		}
	}
	if (rcvbuf == 0)
		return 0;
	rcvbuf = rcvbuf_cap(rcvbuf);
	if (c->state != DTCP_TCP_LISTEN)
		rcvbuf = RTE_MIN(rcvbuf, c->ws_ok ? 65535u << c->rcv_wscale : 65535u);
	c->rcv_buf = rcvbuf;
	/* A larger window is announced at once once there is a peer to tell. */
	if (rcvbuf > old && tcp_state_synchronized((enum dtcp_tcp_state)c->state)) {
		c->ack_now = true;
		tcp_schedule_output(w, c);
	}
	return 0;
}

void
dtcp_conn_set_handler(struct dtcp_conn *conn, dtcp_event_fn fn, void *user)
{
	struct dtcp_tcb *c = tcb(conn);

	c->fn = fn;
	c->user = user;
}

void
dtcp_conn_set_keepalive(struct dtcp_worker *w, struct dtcp_conn *conn, bool on,
			uint32_t idle_s, uint32_t intvl_s, uint32_t cnt)
{
	struct dtcp_tcb *c = tcb(conn);

	if (c->dead)
		return;
	c->keepalive = on;
	if (idle_s != 0)
		c->ka_idle_s = idle_s;
	if (intvl_s != 0)
		c->ka_intvl_s = intvl_s;
	if (cnt != 0)
		c->ka_cnt = cnt;
	c->ka_probes = 0;
	if (c->state == DTCP_TCP_ESTABLISHED || c->state == DTCP_TCP_CLOSE_WAIT)
		tcp_keepalive_arm(w, c);
	else if (!on)
		dtcp_wheel_cancel(&w->wheel, &c->aux_timer);
}

enum dtcp_tcp_state
dtcp_conn_state(const struct dtcp_conn *conn)
{
	return (enum dtcp_tcp_state)((const struct dtcp_tcb *)conn)->state;
}

void
dtcp_conn_info(const struct dtcp_conn *conn, struct dtcp_conn_info *o)
{
	const struct dtcp_tcb *c = (const struct dtcp_tcb *)conn;

	memset(o, 0, sizeof(*o));
	o->state = (enum dtcp_tcp_state)c->state;
	o->laddr = c->key.laddr;
	o->raddr = c->key.raddr;
	o->lport = c->key.lport;
	o->rport = c->key.rport;
	o->iss = c->iss;
	o->irs = c->irs;
	o->snd_una = c->snd_una;
	o->snd_nxt = c->snd_nxt;
	o->snd_wnd = c->snd_wnd;
	o->rcv_nxt = c->rcv_nxt;
	/* RCV.WND as the peer was last told it (the right edge we promised). */
	o->rcv_wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	o->snd_mss = c->snd_mss;
	o->snd_wscale = c->snd_wscale;
	o->rcv_wscale = c->rcv_wscale;
	o->ts_ok = c->ts_ok;
	o->sack_ok = c->sack_ok;
	o->srtt_us = c->srtt_us;
	o->rttvar_us = c->rttvar_us;
	o->rto_ms = c->rto_ms;
	o->cwnd = c->cc.cwnd;
	o->ssthresh = c->cc.ssthresh;
	o->retransmits = c->retries;
	o->total_retransmits = c->total_retrans;
	o->send_queued = c->snd_q_bytes;
	o->soft_error = c->soft_error;
	o->rcv_mss = c->adv_mss;
	o->snd_buf = c->snd_buf;
	o->rcv_buf = c->rcv_buf;
}

static void
call(struct dtcp_worker *w, struct dtcp_tcb *c, enum dtcp_event_type type,
     struct rte_mbuf *data, int error)
{
	struct dtcp_event ev = {
		.type = type, .error = error, .conn = (struct dtcp_conn *)c,
		.user = c->user, .data = data,
	};

	ctr_inc(w, DTCP_CTR_tcp_events);
	c->fn(w, &ev);
}

/* Still listening to events: the application neither closed nor aborted it. */
static bool
attached(const struct dtcp_tcb *c)
{
	return c->fn != NULL && !c->orphan;
}

/*
 * After the burst and after the timers: each connection's events in the
 * order they make sense (connected, data, peer closed, writable, closed).
 * The application may call anything from its event function.
 */
void
tcp_deliver_events(struct dtcp_worker *w)
{
	struct dtcp_tcp *t = w->tcp;

	while (t->ev_head != NULL) {
		struct dtcp_tcb *c = t->ev_head;
		uint8_t bits;

		t->ev_head = c->ev_next;
		if (t->ev_head == NULL)
			t->ev_tail = NULL;
		c->in_ev = false;
		if (!attached(c))
			continue;
		bits = c->ev;
		c->ev = 0;
		if (bits & EV_ACCEPTABLE)
			call(w, c, DTCP_EV_ACCEPTABLE, NULL, 0);
		if ((bits & EV_CONNECTED) && attached(c))
			call(w, c, DTCP_EV_CONNECTED, NULL, 0);
		/* Held data holds back what must come after it. */
		if (c->rcv_paused && c->rcv_q != NULL) {
			c->ev |= bits & (EV_DATA | EV_PEER_CLOSED | EV_CLOSED);
			bits &= (uint8_t)~(EV_DATA | EV_PEER_CLOSED | EV_CLOSED);
		}
		if ((bits & EV_DATA) && attached(c) && c->rcv_q != NULL) {
			struct rte_mbuf *m = c->rcv_q;
			uint32_t adv = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
			/* The window field carries 65535 << shift at most: a buffer
			 * beyond that opens nothing the peer could hear of. */
			uint32_t most = 65535u << c->rcv_wscale;
			uint32_t buf = RTE_MIN(c->rcv_buf, most);

			t->mbufs_held -= c->rcv_q_mbufs;
			c->rcv_q = NULL;
			c->rcv_q_bytes = 0;
			c->rcv_q_mbufs = 0;
			/*
			 * RFC 9293 §3.8.6.2.2: a window update once the window can open
			 * by enough, when what the peer was told has closed below half
			 * the buffer; otherwise the next (perhaps delayed) ACK carries it.
			 */
			if (!c->dead && adv < buf / 2 && RTE_MIN(tcp_rcv_wnd(w, c), most) - adv >=
			    RTE_MIN(buf / 2, (uint32_t)w->tcp->our_mss)) {
				c->ack_now = true;
				tcp_schedule_output(w, c);
			}
			call(w, c, DTCP_EV_DATA, m, 0);
		}
		if ((bits & EV_PEER_CLOSED) && attached(c))
			call(w, c, DTCP_EV_PEER_CLOSED, NULL, 0);
		if ((bits & EV_WRITABLE) && attached(c) && !c->dead)
			call(w, c, DTCP_EV_WRITABLE, NULL, 0);
		if ((bits & EV_CLOSED) && attached(c)) {
			call(w, c, DTCP_EV_CLOSED, NULL, c->ev_error);
			c->fn = NULL;
		}
	}
}
