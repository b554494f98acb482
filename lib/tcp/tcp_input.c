/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SEGMENT ARRIVES (RFC 9293 §3.10.7), in the RFC's order: CLOSED, LISTEN,
 * SYN-SENT, then the eight checks for every other state. Each check is a
 * small function that returns a verdict; a drop names exactly one counter.
 * Hardening from RFC 5961 (RST, SYN and ACK checks with challenge ACKs),
 * RFC 7323 (PAWS), RFC 1337 (no TIME-WAIT assassination), RFC 6191
 * (TIME-WAIT reuse by a provably newer SYN).
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "../net/net.h"
#include "tcp_priv.h"

enum verdict {
	V_CONTINUE,     /* go on to the next step */
	V_DROP,         /* free the segment, count v_reason */
	V_DROP_ACK,     /* the same, and owe the peer an ACK */
	V_DONE,         /* the segment was consumed or freed, counted */
};

static inline bool has(const struct dtcp_seg *s, uint8_t f) { return (s->flags & f) != 0; }

/* SEG.LEN counts SYN and FIN (RFC 9293 §3.4). */
static uint32_t
seg_len(const struct dtcp_seg *s)
{
	return s->len + (has(s, RTE_TCP_SYN_FLAG) ? 1 : 0) + (has(s, RTE_TCP_FIN_FLAG) ? 1 : 0);
}

/*
 * Free leading bytes of a chain (n <= its length); returns the new head.
 * The last segment stays, perhaps empty, so the result is never NULL.
 */
static struct rte_mbuf *
chain_trim_front(struct rte_mbuf *m, uint32_t n)
{
	while (n > 0 && m != NULL) {
		if (n < m->data_len || m->next == NULL) {
			uint32_t k = RTE_MIN(n, (uint32_t)m->data_len);

			m->data_off = (uint16_t)(m->data_off + k);
			m->data_len = (uint16_t)(m->data_len - k);
			m->pkt_len -= k;
			return m;
		}
		struct rte_mbuf *next = m->next;

		n -= m->data_len;
		if (next != NULL) {
			next->pkt_len = m->pkt_len - m->data_len;
			next->nb_segs = (uint16_t)(m->nb_segs - 1);
		}
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	return m;
}

/* Keep the first n bytes of a chain. */
static void
chain_trim_back(struct rte_mbuf *m, uint32_t n)
{
	struct rte_mbuf *seg = m, *last = NULL;
	uint32_t left = n;
	uint16_t segs = 0;

	while (seg != NULL && left > seg->data_len) {
		left -= seg->data_len;
		last = seg;
		seg = seg->next;
		segs++;
	}
	if (seg == NULL)
		return;
	seg->data_len = (uint16_t)left;
	segs++;
	if (seg->next != NULL) {
		rte_pktmbuf_free(seg->next);
		seg->next = NULL;
	}
	(void)last;
	m->pkt_len = n;
	m->nb_segs = segs;
}

/* RFC 5961 §7: challenge ACKs, a few per second per connection. */
static void
challenge_ack(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	if (w->now_ns - c->chack_start_ns >= 1000000000ull) {
		c->chack_start_ns = w->now_ns;
		c->chack_count = 0;
	}
	if (c->chack_count >= w->cfg.tcp_challenge_ack_limit) {
		ctr_inc(w, DTCP_CTR_tcp_challenge_ack_limited);
		return;
	}
	c->chack_count++;
	ctr_inc(w, DTCP_CTR_tcp_challenge_ack_tx);
	c->ack_now = true;
	tcp_schedule_output(w, c);
}

static void
owe_ack(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	c->ack_now = true;
	tcp_schedule_output(w, c);
}

/*
 * RFC 5681 §4.2, RFC 9293 §3.8.6.3: in-order data may wait for its ACK,
 * at most delack_ms, and never past a second full-sized segment. An answer
 * sent meanwhile carries the ACK and the wait ends. Full-sized is what
 * our SYN announced (TCP_MAXSEG may have lowered it), not the worker's MSS.
 */
static void
ack_in_order(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t len)
{
	uint32_t full = (uint32_t)tcp_adv_mss(w, c) - (c->ts_ok ? 12u : 0u);

	c->delack_bytes += len;
	/* Quick ACKs while the peer's window is small (the start, after a
	 * loss): a delayed ACK there stalls a sender with one segment out. */
	if (c->quickacks > 0) {
		c->quickacks--;
		owe_ack(w, c);
		return;
	}
	if (w->cfg.tcp_delack_ms == 0 || c->delack_bytes >= 2 * full) {
		owe_ack(w, c);
		return;
	}
	if (!dtcp_timer_armed(&c->delack_timer))
		dtcp_wheel_arm(&w->wheel, &c->delack_timer,
			       tcp_deadline_tick(w, (uint64_t)w->cfg.tcp_delack_ms * 1000000));
}

/* The peer's MSS option, 536 without one (RFC 9293 §3.7.1), raised to the floor. */
static uint16_t
peer_mss(struct dtcp_worker *w, const struct dtcp_tcp_opts *o)
{
	uint16_t mss = o->mss_ok ? o->mss : 536;

	if (mss < w->cfg.tcp_mss_min) {
		ctr_inc(w, DTCP_CTR_tcp_mss_clamped);
		mss = w->cfg.tcp_mss_min;
	}
	return mss;
}

/* TCP_MAXSEG (user_mss) bounds what we send as well as what we announce, as Linux's does. */
static uint16_t
user_mss_clamp(const struct dtcp_worker *w, const struct dtcp_tcb *c, uint16_t mss)
{
	if (c->user_mss != 0 && mss > c->user_mss)
		return RTE_MAX(c->user_mss, w->cfg.tcp_mss_min);
	return mss;
}

/* What every new TCB starts with, whichever way it opens. */
static void
conn_init(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_flow_key *k,
	  uint32_t hash, uint32_t iss)
{
	c->key = *k;
	c->hash = hash;
	c->iss = iss;
	c->snd_una = iss;
	c->snd_nxt = iss + 1;
	c->snd_max = iss + 1;
	c->snd_q_seq = iss + 1;
	c->rcv_buf = w->cfg.tcp_rcvbuf;
	c->snd_buf = w->cfg.tcp_sndbuf;
	c->ts_offset = tcp_ts_offset(w, k);
	c->cc_ops = w->cfg.tcp_cc == DTCP_CC_CUBIC ? &dtcp_cc_cubic_ops : &dtcp_cc_newreno_ops;
	c->cc_ops->init(&c->cc, 536, w->now_ns);
	c->last_rx_ns = w->now_ns;
	c->peer_mss = 536;
	c->quickacks = TCP_QUICKACKS;
}

/* Options of a SYN against ours: each one only when both sides offer it. */
static void
syn_options(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_seg *s, bool offered)
{
	const struct dtcp_tcp_opts *o = &s->opt;

	c->peer_mss = user_mss_clamp(w, c, peer_mss(w, o));
	c->ts_ok = (offered ? c->ts_ok : w->cfg.tcp_timestamps != 0) && o->ts_ok;
	c->sack_ok = (offered ? c->sack_ok : w->cfg.tcp_sack != 0) && o->sack_ok;
	c->ws_ok = (offered ? c->ws_ok : w->cfg.tcp_window_scale != 0) && o->ws_ok;
	if (c->ws_ok) {
		/* RFC 7323 §2.3: a shift above 14 is taken as 14. */
		c->snd_wscale = RTE_MIN(o->ws, (uint8_t)14);
		/* Offered in our SYN already (active open), or chosen for this buffer now. */
		if (!offered)
			c->rcv_wscale = tcp_wscale_for(c->rcv_buf);
	} else {
		c->snd_wscale = 0;
		c->rcv_wscale = 0;
	}
	if (c->ts_ok)
		tcp_ts_recent_set(w, c, o->tsval);
	c->snd_mss = tcp_mss_for(w, c);
	c->cc_ops->init(&c->cc, c->snd_mss, w->now_ns);
}

static void
rtt_from_ack(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_seg *s)
{
	if (c->ts_ok && s->opt.ts_ok && s->opt.tsecr != 0) {
		uint32_t ms = tcp_ts_now(w) + c->ts_offset - s->opt.tsecr;

		/* Karn's rule for timestamps: an echo of a segment sent before the
		 * last timeout may time the original whose ACK was lost, across
		 * the whole backed-off wait; it would inflate the RTO that caused
		 * it. Only echoes from after the timeout count. */
		if (c->rto_tsval != 0) {
			if ((int32_t)(s->opt.tsecr - c->rto_tsval) < 0)
				return;
			c->rto_tsval = 0;
		}

		/* An echo from the future or older than a minute is no measurement. */
		if (ms < 60000)
			tcp_rtt_sample(w, c, ms * 1000);
	} else if (c->rtt_timing && seq_gt(s->ack, c->rtt_seq)) {
		c->rtt_timing = false;
		tcp_rtt_sample(w, c, (uint32_t)RTE_MIN((w->now_ns - c->rtt_start_ns) / 1000,
						       (uint64_t)UINT32_MAX));
	}
}

/* §3.10.7.1 CLOSED: no connection, no listener. */
static void
closed_input(struct dtcp_worker *w, struct rte_mbuf *m, const struct dtcp_seg *s)
{
	if (has(s, RTE_TCP_RST_FLAG)) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_closed_rst_rx);
		return;
	}
	if (!has(s, RTE_TCP_ACK_FLAG))
		tcp_reply_rst(w, &s->key, 0, s->seq + seg_len(s), true);
	else
		tcp_reply_rst(w, &s->key, s->ack, 0, false);
	dtcp_rx_drop(w, m, DTCP_CTR_tcp_closed_rst_tx);
}

static void conn_input(struct dtcp_worker *w, struct dtcp_tcb *c, struct rte_mbuf *m,
		       struct dtcp_seg *s);

/* Cookies are looked for while they are being sent, and always in mode 2. */
static bool
cookies_on(const struct dtcp_worker *w, const struct dtcp_tcb *l)
{
	return w->cfg.tcp_syncookies == 2 ||
	       (w->cfg.tcp_syncookies == 1 && w->now_ns < l->cookie_until_ns);
}

/* A SYN-ACK that keeps no state: everything the ACK needs is in the ISS and TSval. */
static void
send_cookie(struct dtcp_worker *w, struct dtcp_tcb *l, const struct dtcp_seg *s)
{
	struct dtcp_tcb tmp;
	const struct dtcp_tcp_opts *o = &s->opt;
	bool ts = w->cfg.tcp_timestamps && o->ts_ok;
	bool ws = w->cfg.tcp_window_scale && o->ws_ok;
	bool sack = w->cfg.tcp_sack && o->sack_ok;
	uint8_t optbits = TCP_COOKIE_NO_TS;
	uint16_t mss;

	if (ts)
		optbits = (uint8_t)((ws ? RTE_MIN(o->ws, (uint8_t)14) : TCP_COOKIE_WS_NONE) |
				    (sack ? TCP_COOKIE_SACK : 0));
	memset(&tmp, 0, sizeof(tmp));
	tmp.key = s->key;
	tmp.state = DTCP_TCP_SYN_RECEIVED;
	tmp.iss = tcp_cookie_make(w, &s->key, s->seq, peer_mss(w, o), optbits, &mss);
	tmp.rcv_nxt = s->seq + 1;
	tmp.rcv_buf = l->rcv_buf;
	tmp.user_mss = l->user_mss;
	/* Without timestamps there is nowhere to carry window scale or SACK. */
	tmp.ts_ok = ts;
	tmp.ws_ok = ts && ws;
	tmp.sack_ok = ts && sack;
	tmp.rcv_wscale = tmp.ws_ok ? tcp_wscale_for(tmp.rcv_buf) : 0;
	tmp.ts_recent = o->tsval;
	if (ts) {
		uint32_t now = tcp_ts_now(w) + tcp_ts_offset(w, &s->key);
		uint32_t val = (now & ~(uint32_t)TCP_COOKIE_OPT_MASK) | optbits;

		/* Never ahead of the clock the connection will use, or PAWS would trip. */
		if (seq_gt(val, now))
			val -= TCP_COOKIE_OPT_MASK + 1;
		tmp.ts_offset = val - tcp_ts_now(w);
	}
	tcp_send_syn(w, &tmp);
	l->cookie_until_ns = w->now_ns + (2ull << 6) * 1000000000ull;
}

/* An established passive connection waits for dtcp_tcp_accept(); the listener hears of it. */
static void
accept_q_push(struct dtcp_worker *w, struct dtcp_tcb *l, struct dtcp_tcb *c)
{
	c->in_accept_q = true;
	if (l->acc_tail != NULL)
		l->acc_tail->acc_next = c;
	else
		l->acc_head = c;
	l->acc_tail = c;
	l->acc_count++;
	tcp_event(w, l, EV_ACCEPTABLE);
}

/*
 * An ACK that carries a valid cookie becomes an established connection.
 * NULL with *why: a bad cookie (answered with RST by the caller), or no
 * room (dropped unanswered: the peer believes it is established and will
 * send again with the same cookie).
 */
static struct dtcp_tcb *
cookie_conn(struct dtcp_worker *w, struct dtcp_tcb *l, const struct dtcp_seg *s, uint32_t hash,
	    enum dtcp_ctr *why)
{
	const struct dtcp_tcp_opts *o = &s->opt;
	uint8_t optbits = o->ts_ok ? (uint8_t)(o->tsecr & TCP_COOKIE_OPT_MASK) : TCP_COOKIE_NO_TS;
	uint16_t mss;
	struct dtcp_tcb *c;

	if (!tcp_cookie_check(w, &s->key, s->seq - 1, s->ack - 1, optbits, &mss)) {
		*why = DTCP_CTR_tcp_syncookie_bad;
		return NULL;
	}
	ctr_inc(w, DTCP_CTR_tcp_syncookie_ok);
	if (l->acc_count >= l->acc_max) {
		*why = DTCP_CTR_tcp_accept_full;
		return NULL;
	}
	c = tcp_tcb_alloc(w);
	if (c == NULL) {
		*why = DTCP_CTR_tcp_syncookie_no_tcb;
		return NULL;
	}
	conn_init(w, c, &s->key, hash, s->ack - 1);
	tcp_conn_inherit(c, l);
	c->passive = true;
	c->irs = s->seq - 1;
	c->rcv_nxt = s->seq;
	c->snd_una = s->ack;
	c->peer_mss = user_mss_clamp(w, c, mss);
	c->ts_ok = optbits != TCP_COOKIE_NO_TS && w->cfg.tcp_timestamps;
	c->sack_ok = c->ts_ok && (optbits & TCP_COOKIE_SACK);
	c->ws_ok = c->ts_ok && (optbits & 0xf) != TCP_COOKIE_WS_NONE;
	c->snd_wscale = c->ws_ok ? (optbits & 0xf) : 0;
	c->rcv_wscale = c->ws_ok ? tcp_wscale_for(c->rcv_buf) : 0;
	tcp_ts_recent_set(w, c, o->tsval);
	c->adv_mss = tcp_adv_mss(w, c);
	c->snd_mss = tcp_mss_for(w, c);
	c->cc_ops->init(&c->cc, c->snd_mss, w->now_ns);
	c->snd_wnd = (uint32_t)s->wnd << c->snd_wscale;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = s->ack;
	c->rcv_adv = c->rcv_nxt + RTE_MIN(c->rcv_buf, 65535u);
	c->last_ack_sent = c->rcv_nxt;  /* what our SYN-ACK acknowledged */
	if (tcp_flow_add(w, &c->key, hash, c) != 0) {
		tcp_tcb_release(w, c);
		ctr_inc(w, DTCP_CTR_tcp_conn_table_full);
		*why = DTCP_CTR_tcp_syncookie_no_tcb;
		return NULL;
	}
	tcp_set_state(w, c, DTCP_TCP_ESTABLISHED);
	ctr_inc(w, DTCP_CTR_tcp_passive_open);
	ctr_inc(w, DTCP_CTR_tcp_established);
	c->parent = l;
	accept_q_push(w, l, c);
	if (c->keepalive)
		tcp_keepalive_arm(w, c);
	return c;
}

/*
 * §3.10.7.2 LISTEN. iss_floor, when not NULL, is a sequence number the
 * new ISS must pass (a SYN that ended a TIME-WAIT).
 */
static void
listen_input(struct dtcp_worker *w, struct dtcp_tcb *l, struct rte_mbuf *m, struct dtcp_seg *s,
	     uint32_t hash, const uint32_t *iss_floor)
{
	struct dtcp_tcb *c;
	uint32_t iss;

	/* first: check for a RST */
	if (has(s, RTE_TCP_RST_FLAG)) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_listen_rst);
		return;
	}
	/* second: check for an ACK (a SYN cookie, or an error) */
	if (has(s, RTE_TCP_ACK_FLAG)) {
		if (!has(s, RTE_TCP_SYN_FLAG) && cookies_on(w, l)) {
			enum dtcp_ctr why = DTCP_CTR_tcp_syncookie_bad;

			c = cookie_conn(w, l, s, hash, &why);
			if (c != NULL) {
				conn_input(w, c, m, s);
				return;
			}
			if (why == DTCP_CTR_tcp_syncookie_bad)
				tcp_reply_rst(w, &s->key, s->ack, 0, false);
			dtcp_rx_drop(w, m, why);
			return;
		}
		tcp_reply_rst(w, &s->key, s->ack, 0, false);
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_listen_ack_rst);
		return;
	}
	/* third: check for a SYN (the security check has no place here: RFC 9293 §3.10.7.2 notes it obsolete) */
	if (!has(s, RTE_TCP_SYN_FLAG)) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_listen_no_syn);
		return;
	}
	if (w->cfg.tcp_syncookies == 2 ||
	    (l->syn_count >= l->syn_max && w->cfg.tcp_syncookies == 1)) {
		send_cookie(w, l, s);
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_syncookie_tx);
		return;
	}
	if (l->syn_count >= l->syn_max) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_syn_backlog_full);
		return;
	}
	c = tcp_tcb_alloc(w);
	if (c == NULL) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_syn_no_tcb);
		return;
	}
	iss = tcp_isn(w, &s->key);
	/* RFC 6191 / RFC 9293 §3.6.1: the new incarnation starts above the old one. */
	if (iss_floor != NULL && !seq_gt(iss, *iss_floor))
		iss = *iss_floor + 65536 + 2;
	conn_init(w, c, &s->key, hash, iss);
	tcp_conn_inherit(c, l);
	c->passive = true;
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	syn_options(w, c, s, false);
	c->snd_wnd = s->wnd;        /* never scaled in a SYN (RFC 7323 §2.2) */
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->snd_wl2 = c->iss;
	if (tcp_flow_add(w, &c->key, hash, c) != 0) {
		tcp_tcb_release(w, c);
		ctr_inc(w, DTCP_CTR_tcp_conn_table_full);
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_syn_no_tcb);
		return;
	}
	tcp_set_state(w, c, DTCP_TCP_SYN_RECEIVED);
	c->parent = l;
	l->syn_count++;
	ctr_inc(w, DTCP_CTR_tcp_passive_open);
	/* Data on a SYN is not taken: it is not acknowledged, so it comes again. */
	tcp_send_syn(w, c);
	c->rtt_timing = !c->ts_ok;
	c->rtt_seq = c->iss;
	c->rtt_start_ns = w->now_ns;
	tcp_rtx_arm(w, c);
	dtcp_rx_drop(w, m, DTCP_CTR_tcp_syn_rx);
}

/* SYN-RECEIVED -> ESTABLISHED: the application learns of it. */
static bool
established(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	struct dtcp_tcb *l = c->parent;

	if (l != NULL) {
		/* A full accept queue leaves the connection in SYN-RECEIVED: the
		 * SYN-ACK is retransmitted and its ACK tried again. */
		if (l->acc_count >= l->acc_max)
			return false;
		l->syn_count--;
		accept_q_push(w, l, c);
	} else {
		tcp_event(w, c, EV_CONNECTED);
	}
	tcp_set_state(w, c, c->fin_queued ? DTCP_TCP_FIN_WAIT_1 : DTCP_TCP_ESTABLISHED);
	ctr_inc(w, DTCP_CTR_tcp_established);
	c->retries = 0;
	/* RFC 6298 §5.7: a SYN that timed out leaves no sample; data starts at 3 s. */
	if (c->syn_rexmit && c->srtt_us == 0 && c->rto_ms < 3000)
		c->rto_ms = RTE_MIN(3000u, w->cfg.tcp_rto_max_ms);
	if (c->keepalive)
		tcp_keepalive_arm(w, c);
	return true;
}

/* §3.10.7.3 SYN-SENT */
static void
synsent_input(struct dtcp_worker *w, struct dtcp_tcb *c, struct rte_mbuf *m, struct dtcp_seg *s)
{
	/* first: check the ACK bit */
	if (has(s, RTE_TCP_ACK_FLAG) && (seq_leq(s->ack, c->iss) || seq_gt(s->ack, c->snd_max))) {
		if (has(s, RTE_TCP_RST_FLAG)) {
			dtcp_rx_drop(w, m, DTCP_CTR_tcp_synsent_bad_rst);
			return;
		}
		tcp_reply_rst(w, &s->key, s->ack, 0, false);
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_synsent_bad_ack);
		return;
	}
	/* second: check the RST bit; only with an acceptable ACK (RFC 5961 §3.2) */
	if (has(s, RTE_TCP_RST_FLAG)) {
		if (!has(s, RTE_TCP_ACK_FLAG)) {
			dtcp_rx_drop(w, m, DTCP_CTR_tcp_synsent_bad_rst);
			return;
		}
		ctr_inc(w, DTCP_CTR_tcp_refused);
		tcp_conn_close(w, c, -ECONNREFUSED);
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_rst_accepted);
		return;
	}
	/* third: security (obsolete, RFC 9293 §3.10.7.3); fourth: check the SYN bit */
	if (!has(s, RTE_TCP_SYN_FLAG)) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_synsent_no_syn);
		return;
	}
	c->irs = s->seq;
	c->rcv_nxt = s->seq + 1;
	c->rcv_adv = c->rcv_nxt + RTE_MIN(c->rcv_buf, 65535u);
	syn_options(w, c, s, true);
	c->snd_wnd = s->wnd;
	c->max_snd_wnd = c->snd_wnd;
	c->snd_wl1 = s->seq;
	c->last_rx_ns = w->now_ns;
	if (has(s, RTE_TCP_ACK_FLAG)) {
		c->snd_una = s->ack;
		c->snd_wl2 = s->ack;
		rtt_from_ack(w, c, s);
		dtcp_wheel_cancel(&w->wheel, &c->rtx_timer);
		established(w, c);
		owe_ack(w, c);
		/* Data or FIN on the SYN-ACK: on to the sixth step, past the SYN. */
		if (s->len > 0 || has(s, RTE_TCP_FIN_FLAG)) {
			s->seq++;
			s->flags &= (uint8_t)~RTE_TCP_SYN_FLAG;
			conn_input(w, c, m, s);
			return;
		}
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_ack_rx);
		return;
	}
	/* Simultaneous open (RFC 9293 Figure 7): our SYN becomes a SYN-ACK. */
	c->snd_wl2 = c->iss;
	tcp_set_state(w, c, DTCP_TCP_SYN_RECEIVED);
	ctr_inc(w, DTCP_CTR_tcp_simultaneous_open);
	tcp_send_syn(w, c);
	tcp_rtx_arm(w, c);
	dtcp_rx_drop(w, m, DTCP_CTR_tcp_syn_rx);
}

#define TS_RECENT_LIFE_NS (24ull * 86400 * 1000000000)

static bool
ts_recent_valid(const struct dtcp_worker *w, const struct dtcp_tcb *c)
{
	return w->now_ns - c->ts_recent_ns <= TS_RECENT_LIFE_NS;
}

/*
 * RFC 7323 §5.3: PAWS, before the sequence number check. A segment with
 * an older TSval than TS.Recent is an old duplicate.
 */
static enum verdict
check_paws(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_seg *s, enum dtcp_ctr *why)
{
	if (!c->ts_ok || has(s, RTE_TCP_RST_FLAG))
		return V_CONTINUE;
	if (!s->opt.ts_ok) {
		*why = DTCP_CTR_tcp_ts_missing;
		return V_DROP;
	}
	/* RFC 7323 §5.5: after 24 days idle TS.Recent says nothing any more. */
	if (seq_lt(s->opt.tsval, c->ts_recent) && ts_recent_valid(w, c)) {
		*why = DTCP_CTR_tcp_paws_rejected;
		return V_DROP_ACK;
	}
	return V_CONTINUE;
}

/* §3.10.7.4 first: check the sequence number (the four cases of the acceptability test). */
static enum verdict
check_seq(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_seg *s, enum dtcp_ctr *why)
{
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	uint32_t len = seg_len(s);
	bool ok;

	(void)w;
	if (len == 0) {
		ok = wnd == 0 ? s->seq == c->rcv_nxt
			      : seq_leq(c->rcv_nxt, s->seq) && seq_lt(s->seq, c->rcv_nxt + wnd);
	} else if (wnd == 0) {
		/* Nothing fits, but the ACK and RST of a segment at RCV.NXT still count;
		 * its text is trimmed away later (§3.10.7.4, "special allowance"). */
		ok = s->seq == c->rcv_nxt;
	} else {
		ok = (seq_leq(c->rcv_nxt, s->seq) && seq_lt(s->seq, c->rcv_nxt + wnd)) ||
		     (seq_leq(c->rcv_nxt, s->seq + len - 1) &&
		      seq_lt(s->seq + len - 1, c->rcv_nxt + wnd));
	}
	if (ok)
		return V_CONTINUE;
	if (has(s, RTE_TCP_RST_FLAG)) {
		*why = DTCP_CTR_tcp_rst_outside;
		return V_DROP;
	}
	*why = DTCP_CTR_tcp_seq_unacceptable;
	return V_DROP_ACK;
}

/* §3.10.7.4 second: check the RST bit (RFC 5961 §3: only at exactly RCV.NXT). */
static enum verdict
check_rst(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_seg *s, enum dtcp_ctr *why)
{
	if (!has(s, RTE_TCP_RST_FLAG))
		return V_CONTINUE;
	if (s->seq != c->rcv_nxt) {
		challenge_ack(w, c);
		*why = DTCP_CTR_tcp_rst_challenged;
		return V_DROP;
	}
	switch ((enum dtcp_tcp_state)c->state) {
	case DTCP_TCP_SYN_RECEIVED:
		if (c->passive) {
			/* Back to LISTEN: the listener never saw this connection. */
			tcp_conn_close(w, c, -ECONNRESET);
		} else {
			ctr_inc(w, DTCP_CTR_tcp_refused);
			tcp_conn_close(w, c, -ECONNREFUSED);
		}
		break;
	case DTCP_TCP_ESTABLISHED:
	case DTCP_TCP_FIN_WAIT_1:
	case DTCP_TCP_FIN_WAIT_2:
	case DTCP_TCP_CLOSE_WAIT:
	case DTCP_TCP_CLOSING:
	case DTCP_TCP_LAST_ACK:
		ctr_inc(w, DTCP_CTR_tcp_reset_rx);
		tcp_conn_close(w, c, -ECONNRESET);
		break;
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_SYN_SENT:
	case DTCP_TCP_TIME_WAIT:
	case DTCP_TCP_STATE_MAX:
		break;
	}
	*why = DTCP_CTR_tcp_rst_accepted;
	return V_DROP;
}

/* §3.10.7.4 fourth: check the SYN bit (RFC 5961 §4: a challenge ACK, whatever the sequence number). */
static enum verdict
check_syn(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_seg *s, enum dtcp_ctr *why)
{
	if (!has(s, RTE_TCP_SYN_FLAG))
		return V_CONTINUE;
	if (c->state == DTCP_TCP_SYN_RECEIVED && c->passive) {
		/* "return this connection to the LISTEN state" */
		tcp_conn_close(w, c, -ECONNRESET);
		*why = DTCP_CTR_tcp_synrcvd_syn;
		return V_DROP;
	}
	challenge_ack(w, c);
	*why = DTCP_CTR_tcp_syn_challenged;
	return V_DROP;
}

/* New data acknowledged: free it, measure, grow the window (RFC 5681), restart the timer. */
static void
ack_advance(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_seg *s)
{
	uint32_t data_end = c->snd_q_seq + c->snd_q_bytes;
	uint32_t data_acked = 0;

	if (seq_gt(s->ack, c->snd_q_seq))
		data_acked = (seq_lt(s->ack, data_end) ? s->ack : data_end) - c->snd_q_seq;
	rtt_from_ack(w, c, s);
	c->snd_una = s->ack;
	if (seq_lt(c->snd_nxt, c->snd_una))
		c->snd_nxt = c->snd_una;
	if (data_acked > 0)
		tcp_snd_q_drop(w, c, data_acked);
	c->dupacks = 0;
	c->lt_bytes = 0;
	if (c->tlp_out && seq_geq(s->ack, c->tlp_end))
		c->tlp_out = false;
	if (c->in_recovery) {
		if (!seq_lt(s->ack, c->recover)) {
			/* RFC 6582 §3.2 step 3: a full ACK ends recovery, the window
			 * deflated (RFC 6675 leaves the exit to RFC 5681: the same).
			 * After a timeout the window is slow start's own. */
			c->in_recovery = false;
			c->sack_recovery = false;
			c->holes_lost = false;
			if (c->rto_recovery)
				c->rto_recovery = false;
			else
				c->cc_ops->on_recovery_end(&c->cc, c->snd_max - c->snd_una, w->now_ns);
			data_acked = 0;
		} else if (c->rto_recovery) {
			/* The slow start after a timeout: the window grows below. */
		} else if (c->sack_recovery) {
			/* RFC 6675 §5 (C): cwnd stays; the scoreboard and pipe decide what goes. */
			data_acked = 0;
		} else {
			/* A partial ACK: the next hole is lost too; resend it now, and
			 * deflate by what was acknowledged, plus one segment. */
			tcp_retransmit_una(w, c);
			c->cc_ops->on_partial_ack(&c->cc, data_acked);
			data_acked = 0;
		}
	}
	if (c->sackb != NULL)
		tcp_sack_trim(w, c);
	/* RFC 5681 §3.1: slow start, then about an SMSS per RTT. A SYN or FIN
	 * acknowledged carries no data to count. */
	if (data_acked > 0)
		c->cc_ops->on_ack(&c->cc, data_acked, c->snd_max - c->snd_una, w->now_ns, c->srtt_us);
	c->retries = 0;
	c->soft_error = 0;
	/* RFC 6298 §5.2, §5.3 */
	if (c->snd_una == c->snd_max)
		dtcp_wheel_cancel(&w->wheel, &c->rtx_timer);
	else
		tcp_rtx_arm(w, c);
	if (c->want_writable && c->snd_q_bytes <= c->snd_buf - c->snd_buf / 4) {
		c->want_writable = false;
		tcp_event(w, c, EV_WRITABLE);
	}
	tcp_schedule_output(w, c);
}

/*
 * RFC 5681 §2: a duplicate ACK acknowledges nothing new while data is
 * outstanding, carries no data, no SYN or FIN, and leaves the window alone.
 */
static bool
is_dupack(const struct dtcp_tcb *c, const struct dtcp_seg *s)
{
	return s->ack == c->snd_una && c->snd_max != c->snd_una && s->len == 0 &&
	       !has(s, RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG) &&
	       ((uint32_t)s->wnd << c->snd_wscale) == c->snd_wnd;
}

/*
 * FlightSize for ssthresh at a loss: what limited transmit sent beyond
 * cwnd does not count (RFC 5681 §3.2 step 2).
 */
static uint32_t
loss_flight(struct dtcp_tcb *c)
{
	uint32_t flight = c->snd_max - c->snd_una;
	uint32_t lt = RTE_MIN(c->lt_bytes, flight);

	c->lt_bytes = 0;
	return flight - lt;
}

/*
 * RFC 5681 §3.2 with RFC 6582 (NewReno): the third duplicate ACK resends
 * the first unacknowledged segment and enters fast recovery, unless this
 * is still the loss that an earlier recovery or timeout covers; each one
 * after that stands for a segment that left the network.
 */
static void
dupack(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	ctr_inc(w, DTCP_CTR_tcp_dupack_rx);
	if (c->in_recovery) {
		c->cc_ops->on_dupack(&c->cc);
		tcp_schedule_output(w, c);
		return;
	}
	if (++c->dupacks != 3) {
		/* Limited transmit (RFC 3042) may send a new segment. */
		tcp_schedule_output(w, c);
		return;
	}
	if (!seq_gt(c->snd_una, c->recover) && c->recover != 0) {
		/* RFC 6582 §3.2 step 1: the same window's losses; no new recovery. */
		return;
	}
	c->cc_ops->on_loss(&c->cc, loss_flight(c), w->now_ns);
	c->recover = c->snd_max;
	c->in_recovery = true;
	ctr_inc(w, DTCP_CTR_tcp_fast_retransmit);
	tcp_retransmit_una(w, c);
	tcp_rtx_arm(w, c);
	tcp_schedule_output(w, c);
}

/*
 * RFC 6675 §5: with SACK, a duplicate ACK is also one that SACKs something
 * new. Recovery begins at DupThresh of them, or sooner when the scoreboard
 * already shows the first unacknowledged segment lost; it does not begin
 * again until SND.UNA reaches the recovery point of the last (§5.1).
 */
static void
sack_dupack(struct dtcp_worker *w, struct dtcp_tcb *c, bool news)
{
	bool probe_seen;

	ctr_inc(w, DTCP_CTR_tcp_dupack_rx);
	if (c->in_recovery) {
		tcp_schedule_output(w, c);
		return;
	}
	/* RFC 5681 §3.2 step 1, RFC 3042 §2: with SACK, a duplicate that
	 * reports nothing new (the network duplicated it) lets nothing go. */
	if (!news)
		return;
	if (c->dupacks < 255)
		c->dupacks++;
	/* A loss probe went after everything in flight; once it is SACKed,
	 * every hole below it is lost (the ordering RFC 8985 §6.2 uses). */
	probe_seen = c->tlp_out && c->sackb != NULL && c->sackb->n > 0 &&
		     seq_geq(c->sackb->r[c->sackb->n - 1].end, c->tlp_end);
	if ((c->dupacks < TCP_DUPTHRESH && !probe_seen && !tcp_sack_is_lost(c, c->snd_una)) ||
	    (c->recover != 0 && seq_lt(c->snd_una, c->recover))) {
		tcp_schedule_output(w, c);
		return;
	}
	/* (4.1) - (4.5): RecoveryPoint, ssthresh = cwnd (no inflation: pipe
	 * counts what left the network), the first segment again, then (C). */
	c->cc_ops->on_loss(&c->cc, loss_flight(c), w->now_ns);
	c->cc.cwnd = c->cc.ssthresh;
	c->recover = c->snd_max;
	c->in_recovery = true;
	c->sack_recovery = true;
	c->holes_lost = probe_seen;
	c->tlp_out = false;
	c->rescue_ok = false;
	c->high_rxt = c->snd_una;
	ctr_inc(w, DTCP_CTR_tcp_fast_retransmit);
	ctr_inc(w, DTCP_CTR_tcp_sack_recovery);
	tcp_retransmit_una(w, c);
	tcp_sack_note_rexmit(c, c->snd_una);
	tcp_rtx_arm(w, c);
	tcp_schedule_output(w, c);
}

static bool
fin_acked(const struct dtcp_tcb *c)
{
	return c->fin_queued && c->snd_una == c->snd_q_seq + c->snd_q_bytes + 1;
}

/*
 * §3.10.7.4 fifth: check the ACK field. V_DONE when the segment ended
 * the connection here (LAST-ACK, CLOSING).
 */
static enum verdict
check_ack(struct dtcp_worker *w, struct dtcp_tcb *c, struct rte_mbuf *m, const struct dtcp_seg *s,
	  enum dtcp_ctr *why)
{
	bool news;

	if (!has(s, RTE_TCP_ACK_FLAG)) {
		*why = DTCP_CTR_tcp_no_ack;
		return V_DROP;
	}
	if (c->state == DTCP_TCP_SYN_RECEIVED) {
		if (!(seq_lt(c->snd_una, s->ack) && seq_leq(s->ack, c->snd_max))) {
			tcp_reply_rst(w, &s->key, s->ack, 0, false);
			*why = DTCP_CTR_tcp_synrcvd_bad_ack;
			return V_DROP;
		}
		if (!established(w, c)) {
			*why = DTCP_CTR_tcp_accept_full;
			return V_DROP;
		}
		c->snd_wnd = (uint32_t)s->wnd << c->snd_wscale;
		c->max_snd_wnd = RTE_MAX(c->max_snd_wnd, c->snd_wnd);
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
	}
	/* RFC 5961 §5.2: SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT, else challenge. */
	if (seq_lt(s->ack, c->snd_una - c->max_snd_wnd) || seq_gt(s->ack, c->snd_max)) {
		challenge_ack(w, c);
		*why = DTCP_CTR_tcp_ack_unacceptable;
		return V_DROP;
	}
	news = c->sack_ok && s->opt.n_sack > 0 && tcp_sack_update(w, c, s);
	if (seq_lt(c->snd_una, s->ack))
		ack_advance(w, c, s);
	else if (s->wnd == 0 && c->snd_q_bytes > 0)
		/* A zero-window probe answered: the peer lives (RFC 9293 §3.8.6.1),
		 * so probing goes on without counting against the retries. */
		c->retries = 0;
	else if (c->sackb != NULL && (is_dupack(c, s) ||
				(news && s->len == 0 && !has(s, RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG))))
		sack_dupack(w, c, news);
	else if (is_dupack(c, s))
		dupack(w, c);
	/* Window update from the newest segment only (SND.WL1, SND.WL2), never from an old ACK. */
	if (seq_leq(c->snd_una, s->ack) &&
	    (seq_lt(c->snd_wl1, s->seq) || (c->snd_wl1 == s->seq && seq_leq(c->snd_wl2, s->ack)))) {
		uint32_t wnd = (uint32_t)s->wnd << c->snd_wscale;

		if (wnd > c->snd_wnd)
			tcp_schedule_output(w, c);
		c->snd_wnd = wnd;
		c->max_snd_wnd = RTE_MAX(c->max_snd_wnd, wnd);
		c->snd_wl1 = s->seq;
		c->snd_wl2 = s->ack;
	}
	switch ((enum dtcp_tcp_state)c->state) {
	case DTCP_TCP_FIN_WAIT_1:
		if (fin_acked(c)) {
			tcp_set_state(w, c, DTCP_TCP_FIN_WAIT_2);
			dtcp_wheel_cancel(&w->wheel, &c->rtx_timer);
			/* A closed connection does not wait forever for the peer's FIN. */
			if (c->orphan)
				dtcp_wheel_arm(&w->wheel, &c->aux_timer,
					       tcp_deadline_tick(w, (uint64_t)w->cfg.tcp_fin_timeout_ms *
								     1000000));
		}
		break;
	case DTCP_TCP_CLOSING:
		if (fin_acked(c)) {
			ctr_inc(w, DTCP_CTR_tcp_closed_orderly);
			tcp_enter_time_wait(w, c);
			dtcp_rx_drop(w, m, DTCP_CTR_tcp_ack_rx);
			return V_DONE;
		}
		break;
	case DTCP_TCP_LAST_ACK:
		if (fin_acked(c)) {
			ctr_inc(w, DTCP_CTR_tcp_closed_orderly);
			tcp_conn_close(w, c, 0);
			dtcp_rx_drop(w, m, DTCP_CTR_tcp_ack_rx);
			return V_DONE;
		}
		break;
	case DTCP_TCP_ESTABLISHED:
	case DTCP_TCP_FIN_WAIT_2:
	case DTCP_TCP_CLOSE_WAIT:
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_SYN_SENT:
	case DTCP_TCP_SYN_RECEIVED:
	case DTCP_TCP_TIME_WAIT:
	case DTCP_TCP_STATE_MAX:
		break;
	}
	return V_CONTINUE;
}

/* Move the chain m of len bytes behind the receive queue (the budget was taken already). */
static bool
rcv_q_append(struct dtcp_tcb *c, struct rte_mbuf *m, uint32_t len)
{
	if (c->rcv_q != NULL && rte_pktmbuf_chain(c->rcv_q, m) != 0)
		return false;
	if (c->rcv_q == NULL)
		c->rcv_q = m;
	c->rcv_q_bytes += len;
	c->rcv_q_mbufs += m->nb_segs;
	return true;
}

/* RFC 2018 §4: the block holding seq was received into last; ACKs report it first. */
static void
sack_note(struct dtcp_tcb *c, uint32_t seq)
{
	unsigned n = RTE_MIN((unsigned)c->sack_recent_n, TCP_SACK_RECENT - 1u);

	memmove(&c->sack_recent[1], &c->sack_recent[0], n * sizeof(c->sack_recent[0]));
	c->sack_recent[0] = seq;
	c->sack_recent_n = (uint8_t)(n + 1);
}

/* Range i and the one after it touch: make them one (when the chain allows). */
static void
ooo_join_next(struct dtcp_ooo *o, unsigned i)
{
	if (i + 1 >= o->n || o->seg[i].seq + o->seg[i].len != o->seg[i + 1].seq ||
	    rte_pktmbuf_chain(o->seg[i].m, o->seg[i + 1].m) != 0)
		return;
	o->seg[i].len += o->seg[i + 1].len;
	memmove(&o->seg[i + 1], &o->seg[i + 2], (o->n - i - 2) * sizeof(o->seg[0]));
	o->n--;
}

/*
 * Keep [seq, seq + len) until the hole before it fills. Bytes held
 * already win: the newcomer is cut to what is new, ranges it covers whole
 * are replaced. At most ooo_segs ranges, so a crafted flood of overlaps
 * costs a bounded walk per segment. Consumes m, counted.
 */
static void
ooo_insert(struct dtcp_worker *w, struct dtcp_tcb *c, struct rte_mbuf *m, uint32_t seq,
	   uint32_t len)
{
	struct dtcp_tcp *t = w->tcp;
	struct dtcp_ooo *o = c->ooo;
	uint32_t end = seq + len;
	unsigned i = 0, j, covered = 0;

	if (o == NULL) {
		if (t->ooos == NULL || rte_mempool_get(t->ooos, (void **)&o) != 0) {
			dtcp_rx_drop(w, m, DTCP_CTR_tcp_ooo_full);
			return;
		}
		o->n = 0;
		c->ooo = o;
	}
	/* The first range that ends after our start. */
	while (i < o->n && seq_leq(o->seg[i].seq + o->seg[i].len, seq))
		i++;
	if (i < o->n && seq_leq(o->seg[i].seq, seq)) {
		uint32_t cut = o->seg[i].seq + o->seg[i].len - seq;

		if (cut >= len) {
			dtcp_rx_drop(w, m, DTCP_CTR_tcp_ooo_dup);
			return;
		}
		m = chain_trim_front(m, cut);
		seq += cut;
		len -= cut;
		i++;
	}
	/* Ranges we cover whole, then a range we run into. */
	j = i;
	while (j < o->n && seq_leq(o->seg[j].seq + o->seg[j].len, end))
		j++;
	covered = j - i;
	if (j < o->n && seq_lt(o->seg[j].seq, end)) {
		len = o->seg[j].seq - seq;
		if (len == 0) {
			dtcp_rx_drop(w, m, DTCP_CTR_tcp_ooo_dup);
			return;
		}
		chain_trim_back(m, len);
	}
	if (t->mbufs_held + m->nb_segs > w->cfg.tcp_mbufs_max) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_rcv_no_mbufs);
		return;
	}
	/* Right behind the range before it (the common case: one hole, and
	 * everything after it arriving in order): one range grows. */
	if (covered == 0 && i > 0 && o->seg[i - 1].seq + o->seg[i - 1].len == seq &&
	    rte_pktmbuf_chain(o->seg[i - 1].m, m) == 0) {
		t->mbufs_held += m->nb_segs;
		c->ooo_mbufs += m->nb_segs;
		o->seg[i - 1].len += len;
		ooo_join_next(o, i - 1);
		sack_note(c, seq);
		ctr_inc(w, DTCP_CTR_tcp_ooo_queued);
		return;
	}
	if (o->n - covered + 1 > w->cfg.tcp_ooo_segs) {
		dtcp_rx_drop(w, m, o->n - covered + 1 > w->cfg.tcp_ooo_segs ? DTCP_CTR_tcp_ooo_full
									    : DTCP_CTR_tcp_rcv_no_mbufs);
		return;
	}
	for (unsigned k = i; k < j; k++) {
		t->mbufs_held -= o->seg[k].m->nb_segs;
		c->ooo_mbufs -= o->seg[k].m->nb_segs;
		rte_pktmbuf_free(o->seg[k].m);
	}
	/* One slot at i for the newcomer, where the covered ones were. */
	memmove(&o->seg[i + 1], &o->seg[j], (o->n - j) * sizeof(o->seg[0]));
	o->n = (uint16_t)(o->n - covered + 1);
	o->seg[i].seq = seq;
	o->seg[i].len = len;
	o->seg[i].m = m;
	t->mbufs_held += m->nb_segs;
	c->ooo_mbufs += m->nb_segs;
	ooo_join_next(o, i);
	sack_note(c, seq);
	ctr_inc(w, DTCP_CTR_tcp_ooo_queued);
}

/* RCV.NXT moved: hand on what now follows it in order. */
static void
ooo_pull(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	struct dtcp_ooo *o = c->ooo;
	unsigned i = 0;

	while (i < o->n && seq_leq(o->seg[i].seq, c->rcv_nxt)) {
		struct rte_mbuf *m = o->seg[i].m;
		uint32_t cut = c->rcv_nxt - o->seg[i].seq;
		uint16_t segs = m->nb_segs;

		c->ooo_mbufs -= segs;
		if (cut >= o->seg[i].len) {
			w->tcp->mbufs_held -= segs;
			rte_pktmbuf_free(m);
		} else {
			uint32_t len = o->seg[i].len - cut;

			m = chain_trim_front(m, cut);
			w->tcp->mbufs_held -= segs - m->nb_segs;
			if (!rcv_q_append(c, m, len)) {
				/* The receive chain is full of segments: give this range up,
				 * unacknowledged, so the peer sends it again. */
				w->tcp->mbufs_held -= m->nb_segs;
				rte_pktmbuf_free(m);
				i++;
				break;
			}
			c->rcv_nxt += len;
			ctr_inc(w, DTCP_CTR_tcp_ooo_filled);
		}
		i++;
	}
	memmove(&o->seg[0], &o->seg[i], (o->n - i) * sizeof(o->seg[0]));
	o->n = (uint16_t)(o->n - i);
	if (o->n == 0)
		tcp_ooo_free(w, c);
}

/*
 * §3.10.7.4 seventh and eighth: the segment text, then the FIN bit.
 * m is the payload (header already stripped). Consumes m.
 */
static void
text_and_fin(struct dtcp_worker *w, struct dtcp_tcb *c, struct rte_mbuf *m, struct dtcp_seg *s)
{
	struct dtcp_tcp *t = w->tcp;
	uint32_t wnd = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;
	bool fin = has(s, RTE_TCP_FIN_FLAG);
	enum dtcp_ctr end = DTCP_CTR_tcp_ack_rx;

	/* Trim to the window: bytes already received in front, bytes past the edge behind. */
	if (s->len > 0 && seq_lt(s->seq, c->rcv_nxt)) {
		uint32_t dup = RTE_MIN(c->rcv_nxt - s->seq, s->len);

		ctr_inc(w, DTCP_CTR_tcp_dup_data);
		if (dup < s->len)
			m = chain_trim_front(m, dup);
		s->seq += dup;
		s->len -= dup;
		owe_ack(w, c);
	}
	if (s->len > 0 && seq_gt(s->seq + s->len, c->rcv_nxt + wnd)) {
		uint32_t keep = seq_lt(s->seq, c->rcv_nxt + wnd) ? c->rcv_nxt + wnd - s->seq : 0;

		if (keep > 0)
			chain_trim_back(m, keep);
		s->len = keep;
		fin = false;
		owe_ack(w, c);
	}
	if (tcp_state_fin_received((enum dtcp_tcp_state)c->state)) {
		/* After the peer's FIN there is no more text, and its FIN is no news. */
		s->len = 0;
		fin = false;
	}
	if (s->len > 0 && c->orphan) {
		/* RFC 1122 §4.2.2.13: nobody will read it; say so with RST. */
		tcp_send_rst(w, c);
		ctr_inc(w, DTCP_CTR_tcp_aborted);
		tcp_conn_close(w, c, -ECONNRESET);
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_data_after_close);
		return;
	}
	if ((s->len > 0 || fin) && s->seq != c->rcv_nxt) {
		/* A hole before it: keep it, and say at once what is missing
		 * with a duplicate ACK (RFC 5681 §4.2): one for each such
		 * segment, not one per burst, for the sender counts them
		 * (§3.2), and each carries the blocks as they now stand. */
		if (fin) {
			c->ooo_fin = true;
			c->ooo_fin_seq = s->seq + s->len;
		}
		if (s->len > 0)
			ooo_insert(w, c, m, s->seq, s->len);
		else
			dtcp_rx_drop(w, m, DTCP_CTR_tcp_ooo_queued);
		tcp_send_ack(w, c);
		return;
	}
	if (s->len > 0) {
		if (t->mbufs_held + m->nb_segs > w->cfg.tcp_mbufs_max ||
		    (c->rcv_q != NULL && rte_pktmbuf_chain(c->rcv_q, m) != 0)) {
			/* Not acknowledged, so the peer sends it again. */
			dtcp_rx_drop(w, m, DTCP_CTR_tcp_rcv_no_mbufs);
			return;
		}
		if (c->rcv_q == NULL)
			c->rcv_q = m;
		c->rcv_q_bytes += s->len;
		c->rcv_q_mbufs += m->nb_segs;
		t->mbufs_held += m->nb_segs;
		c->rcv_nxt += s->len;
		tcp_event(w, c, EV_DATA);
		end = DTCP_CTR_tcp_data_rx;
		m = NULL;
		if (c->ooo != NULL) {
			/* A hole filled, or holes remain: the peer hears at once (RFC 5681 §4.2),
			 * and while it recovers, of every segment. */
			ooo_pull(w, c);
			owe_ack(w, c);
			c->quickacks = TCP_QUICKACKS;
		} else {
			ack_in_order(w, c, s->len);
		}
		/* A FIN that waited behind the hole just filled. */
		if (c->ooo_fin && c->rcv_nxt == c->ooo_fin_seq)
			fin = true;
	}
	if (fin) {
		c->rcv_nxt++;
		owe_ack(w, c);
		tcp_event(w, c, EV_PEER_CLOSED);
		if (end == DTCP_CTR_tcp_ack_rx)
			end = DTCP_CTR_tcp_fin_rx;
		switch ((enum dtcp_tcp_state)c->state) {
		case DTCP_TCP_SYN_RECEIVED:
		case DTCP_TCP_ESTABLISHED:
			tcp_set_state(w, c, DTCP_TCP_CLOSE_WAIT);
			break;
		case DTCP_TCP_FIN_WAIT_1:
			/* Our FIN not yet acknowledged (else we would be in FIN-WAIT-2): simultaneous close. */
			tcp_set_state(w, c, DTCP_TCP_CLOSING);
			break;
		case DTCP_TCP_FIN_WAIT_2:
			tcp_send_ack(w, c);
			ctr_inc(w, DTCP_CTR_tcp_closed_orderly);
			tcp_enter_time_wait(w, c);
			break;
		case DTCP_TCP_CLOSE_WAIT:
		case DTCP_TCP_CLOSING:
		case DTCP_TCP_LAST_ACK:
		case DTCP_TCP_TIME_WAIT:
		case DTCP_TCP_CLOSED:
		case DTCP_TCP_LISTEN:
		case DTCP_TCP_SYN_SENT:
		case DTCP_TCP_STATE_MAX:
			break;
		}
	}
	if (m != NULL)
		dtcp_rx_drop(w, m, end);
	else
		ctr_inc(w, end);
}

static void
conn_input(struct dtcp_worker *w, struct dtcp_tcb *c, struct rte_mbuf *m, struct dtcp_seg *s)
{
	enum dtcp_ctr why = DTCP_CTR_MAX;
	enum verdict v;

	if (c->state == DTCP_TCP_SYN_SENT) {
		synsent_input(w, c, m, s);
		return;
	}
	/* The peer's SYN again in SYN-RECEIVED: our SYN-ACK was lost, send it again. */
	if (c->state == DTCP_TCP_SYN_RECEIVED && has(s, RTE_TCP_SYN_FLAG) &&
	    !has(s, RTE_TCP_ACK_FLAG | RTE_TCP_RST_FLAG) && s->seq == c->irs) {
		tcp_send_syn(w, c);
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_synrcvd_syn_rexmit);
		return;
	}
	v = check_paws(w, c, s, &why);
	/* first: check the sequence number */
	if (v == V_CONTINUE)
		v = check_seq(w, c, s, &why);
	/* second: check the RST bit */
	if (v == V_CONTINUE)
		v = check_rst(w, c, s, &why);
	/* third: check security (no IP security compartments: nothing to do) */
	/* fourth: check the SYN bit */
	if (v == V_CONTINUE)
		v = check_syn(w, c, s, &why);
	/* fifth: check the ACK field */
	if (v == V_CONTINUE)
		v = check_ack(w, c, m, s, &why);
	switch (v) {
	case V_DROP_ACK:
		owe_ack(w, c);
		/* fall through */
	case V_DROP:
		dtcp_rx_drop(w, m, why);
		return;
	case V_DONE:
		return;
	case V_CONTINUE:
		break;
	}
	c->last_rx_ns = w->now_ns;
	c->ka_probes = 0;
	/* RFC 7323 §4.3: TS.Recent from a segment that covers the last ACK we sent. */
	if (c->ts_ok && s->opt.ts_ok && seq_leq(s->seq, c->last_ack_sent) &&
	    (seq_geq(s->opt.tsval, c->ts_recent) || !ts_recent_valid(w, c)))
		tcp_ts_recent_set(w, c, s->opt.tsval);
	/* sixth: check the URG bit (RFC 6093: urgent data stays in line) */
	if (has(s, RTE_TCP_URG_FLAG))
		ctr_inc(w, DTCP_CTR_tcp_urg_rx);
	/* seventh and eighth */
	text_and_fin(w, c, m, s);
}

/*
 * TIME-WAIT (§3.10.7.4 for that state, with RFC 1337 and RFC 6191): only
 * a retransmitted FIN is expected; it is ACKed and the 2 MSL restart.
 */
static void
tw_input(struct dtcp_worker *w, struct dtcp_tw *tw, struct rte_mbuf *m, struct dtcp_seg *s)
{
	struct dtcp_tcb *l;

	if (has(s, RTE_TCP_RST_FLAG)) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_tw_rst);
		return;
	}
	if (has(s, RTE_TCP_SYN_FLAG) && !has(s, RTE_TCP_ACK_FLAG)) {
		bool newer = tw->ts_ok && s->opt.ts_ok ? seq_gt(s->opt.tsval, tw->ts_recent)
						      : seq_gt(s->seq, tw->rcv_nxt);

		l = tcp_listener_lookup(w, s->key.laddr, s->key.lport);
		if (newer && l != NULL) {
			uint32_t floor = tw->snd_nxt;
			uint32_t hash = tw->hash;

			ctr_inc(w, DTCP_CTR_tcp_tw_reuse);
			ctr_inc(w, DTCP_CTR_tcp_timewait_expired);
			tcp_tw_free(w, tw);
			listen_input(w, l, m, s, hash, &floor);
			return;
		}
	}
	if (tw->ts_ok && s->opt.ts_ok && seq_lt(s->opt.tsval, tw->ts_recent)) {
		tcp_tw_send_ack(w, tw);
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_paws_rejected);
		return;
	}
	if (has(s, RTE_TCP_FIN_FLAG)) {
		tcp_tw_send_ack(w, tw);
		tcp_tw_restart(w, tw);
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_tw_fin_reack);
		return;
	}
	/* A SYN not taken above: the challenge ACK of RFC 5961 §4. */
	if (has(s, RTE_TCP_SYN_FLAG)) {
		tcp_tw_send_ack(w, tw);
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_tw_ack);
		return;
	}
	if (!has(s, RTE_TCP_ACK_FLAG) || (s->len == 0 && s->seq == tw->rcv_nxt)) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_tw_drop);
		return;
	}
	tcp_tw_send_ack(w, tw);
	dtcp_rx_drop(w, m, DTCP_CTR_tcp_tw_ack);
}

void
dtcp_tcp_input(struct dtcp_worker *w, struct rte_mbuf *m, const struct dtcp_ipv4_info *ip)
{
	const struct rte_tcp_hdr *th;
	/* A reassembled datagram may split the header across segments: read
	 * it into here then (rte_pktmbuf_read points into the mbuf otherwise). */
	uint8_t hdr_buf[60];
	struct dtcp_seg s;
	enum dtcp_rx_cksum l4_csum = dtcp_rx_l4_cksum(w, m);
	uint32_t hash;
	void *v;

	ctr_inc(w, DTCP_CTR_tcp_rx);
	if (unlikely(m->pkt_len < sizeof(*th))) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_too_short);
		return;
	}
	th = rte_pktmbuf_read(m, 0, sizeof(*th), hdr_buf);
	s.hlen = (uint16_t)((th->data_off >> 4) * 4);
	if (unlikely(s.hlen < sizeof(*th) || s.hlen > m->pkt_len)) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_too_short);
		return;
	}
	th = rte_pktmbuf_read(m, 0, s.hlen, hdr_buf);
	/* The port's verdict where it gave one (dtcp_rx_l4_cksum); "unknown" is checked here. */
	if (l4_csum == DTCP_RX_CKSUM_BAD ||
	    (l4_csum == DTCP_RX_CKSUM_CHECK &&
	     dtcp_wire_cksum_mbuf_seed(m, 0, m->pkt_len,
				       dtcp_wire_pseudo_sum(ip->src, ip->dst, IPPROTO_TCP,
							    (uint16_t)m->pkt_len)) != 0)) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_bad_checksum);
		return;
	}
	s.key.laddr = ip->dst;
	s.key.raddr = ip->src;
	s.key.lport = rte_be_to_cpu_16(th->dst_port);
	s.key.rport = rte_be_to_cpu_16(th->src_port);
	s.key.zero = 0;
	if (unlikely(s.key.lport == 0 || s.key.rport == 0)) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_bad_port);
		return;
	}
	if (unlikely(!tcp_opts_parse((const uint8_t *)(th + 1), s.hlen - sizeof(*th), &s.opt))) {
		dtcp_rx_drop(w, m, DTCP_CTR_tcp_opt_malformed);
		return;
	}
	s.seq = rte_be_to_cpu_32(th->sent_seq);
	s.ack = rte_be_to_cpu_32(th->recv_ack);
	s.wnd = rte_be_to_cpu_16(th->rx_win);
	s.flags = th->tcp_flags;
	if (s.flags & RTE_TCP_SYN_FLAG)
		ctr_inc(w, DTCP_CTR_tcp_rx_syn);
	if (s.flags & RTE_TCP_FIN_FLAG)
		ctr_inc(w, DTCP_CTR_tcp_rx_fin);
	if (s.flags & RTE_TCP_RST_FLAG)
		ctr_inc(w, DTCP_CTR_tcp_rx_rst);
	/* From here on m is the payload. */
	if (likely(s.hlen <= m->data_len))
		rte_pktmbuf_adj(m, s.hlen);
	else
		m = chain_trim_front(m, s.hlen);
	s.len = m->pkt_len;

	hash = tcp_flow_hash(w, &s.key);
	v = tcp_flow_lookup(w, &s.key, hash);
	if (v != NULL) {
		if (tcp_val_is_tw(v))
			tw_input(w, tcp_val_tw(v), m, &s);
		else
			conn_input(w, v, m, &s);
		return;
	}
	v = tcp_listener_lookup(w, s.key.laddr, s.key.lport);
	if (v != NULL)
		listen_input(w, v, m, &s, hash, NULL);
	else
		closed_input(w, m, &s);
}

/*
 * An ICMP error about a segment we sent (RFC 9293 §3.9.1.5 MUST-56,
 * RFC 5927, RFC 1191): the quoted 4-tuple and sequence number must match
 * a connection and lie in SND.UNA..SND.NXT. Soft errors are recorded,
 * never fatal; hard ones end only a connection still in SYN-SENT.
 */
void
dtcp_tcp_icmp_error(struct dtcp_worker *w, struct rte_mbuf *m, uint8_t type, uint8_t code,
		    uint16_t mtu, const struct rte_ipv4_hdr *inner, const uint8_t *l4)
{
	struct dtcp_flow_key k;
	struct dtcp_tcb *c;
	uint32_t seq;
	void *v;

	k.laddr = rte_be_to_cpu_32(inner->src_addr);
	k.raddr = rte_be_to_cpu_32(inner->dst_addr);
	k.lport = (uint16_t)(l4[0] << 8 | l4[1]);
	k.rport = (uint16_t)(l4[2] << 8 | l4[3]);
	k.zero = 0;
	seq = (uint32_t)l4[4] << 24 | (uint32_t)l4[5] << 16 | (uint32_t)l4[6] << 8 | l4[7];
	v = tcp_flow_lookup(w, &k, tcp_flow_hash(w, &k));
	if (v == NULL || tcp_val_is_tw(v)) {
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_err_tcp_no_conn);
		return;
	}
	c = v;
	if (seq_lt(seq, c->snd_una) || !seq_lt(seq, c->snd_max)) {
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_err_tcp_bad_seq);
		return;
	}
	if (type == DTCP_ICMP_DEST_UNREACH && code == DTCP_ICMP_CODE_FRAG_NEEDED) {
		/* RFC 1191: a smaller path MTU, within sane bounds (never below mss_min). */
		uint32_t mss = mtu >= 68 ? mtu - 40u : 0;

		if (mss != 0 && mss < c->peer_mss) {
			c->peer_mss = (uint16_t)RTE_MAX(mss, (uint32_t)w->cfg.tcp_mss_min);
			c->snd_mss = tcp_mss_for(w, c);
			dtcp_cc_set_mss(&c->cc, c->snd_mss);
			ctr_inc(w, DTCP_CTR_tcp_pmtu_lowered);
			/* What was in flight was too big: send it again, smaller. */
			if (tcp_state_synchronized((enum dtcp_tcp_state)c->state)) {
				c->snd_nxt = c->snd_una;
				c->rtt_timing = false;
				tcp_schedule_output(w, c);
			}
		}
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_err_tcp);
		return;
	}
	/* Protocol or port unreachable answer a SYN: the open is refused (RFC 1122 §4.2.3.9). */
	if (c->state == DTCP_TCP_SYN_SENT && type == DTCP_ICMP_DEST_UNREACH &&
	    (code == 2 || code == 3)) {
		ctr_inc(w, DTCP_CTR_tcp_refused);
		tcp_conn_close(w, c, -ECONNREFUSED);
		dtcp_rx_drop(w, m, DTCP_CTR_icmp_err_tcp);
		return;
	}
	c->soft_error = type == DTCP_ICMP_DEST_UNREACH
		? (code == 0 || code == 6 || code == 9 || code == 11 ? -ENETUNREACH
		   : code == 2 || code == 3 ? -ECONNREFUSED : -EHOSTUNREACH)
		: -EHOSTUNREACH;
	ctr_inc(w, DTCP_CTR_tcp_soft_error);
	dtcp_rx_drop(w, m, DTCP_CTR_icmp_err_tcp);
}
