/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP timers: retransmission (RFC 6298), keepalive (RFC 1122 §4.2.3.6),
 * the FIN-WAIT-2 lifetime of closed connections, and TIME-WAIT expiry
 * (a FIFO: every record waits the same 2 MSL).
 */
#include <errno.h>

#include "tcp_priv.h"

/* The first tick at or after now + after_ns: a timer never fires early. */
uint64_t
tcp_deadline_tick(const struct dtcp_worker *w, uint64_t after_ns)
{
	return dtcp_tick_of(w, w->now_ns + after_ns + w->tick_ns - 1);
}

/* RFC 6298 §2: SRTT, RTTVAR and RTO from one measurement, in microseconds. */
void
tcp_rtt_sample(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t rtt_us)
{
	uint64_t rto_us, g_us = w->cfg.timer_tick_us;

	if (rtt_us == 0)
		rtt_us = 1;
	if (c->srtt_us == 0) {
		c->srtt_us = rtt_us;
		c->rttvar_us = rtt_us / 2;
	} else {
		uint32_t err = c->srtt_us > rtt_us ? c->srtt_us - rtt_us : rtt_us - c->srtt_us;

		/* beta = 1/4, alpha = 1/8 */
		c->rttvar_us = c->rttvar_us - c->rttvar_us / 4 + err / 4;
		c->srtt_us = c->srtt_us - c->srtt_us / 8 + rtt_us / 8;
	}
	rto_us = c->srtt_us + RTE_MAX(g_us, 4ull * c->rttvar_us);
	c->rto_ms = (uint32_t)RTE_MIN((rto_us + 999) / 1000, (uint64_t)w->cfg.tcp_rto_max_ms);
	c->rto_ms = RTE_MAX(c->rto_ms, w->cfg.tcp_rto_min_ms);
}

/* RFC 6298 §5.5: back the timer off, at most to the configured maximum. */
static void
rto_backoff(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	c->rto_ms = (uint32_t)RTE_MIN(2ull * c->rto_ms, (uint64_t)w->cfg.tcp_rto_max_ms);
}

/* Send from SND.NXT even into a zero window: a timeout must put a byte on the wire. */
static void
output_past_window(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	uint32_t saved = c->snd_wnd;

	if (saved == 0)
		c->snd_wnd = 1;
	c->force_send = true;
	tcp_output(w, c);
	c->snd_wnd = saved;
}

static void
rtx_fire(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	enum dtcp_tcp_state s = (enum dtcp_tcp_state)c->state;
	uint32_t data_end = c->snd_q_seq + c->snd_q_bytes;

	switch (s) {
	case DTCP_TCP_SYN_SENT:
	case DTCP_TCP_SYN_RECEIVED:
		if (c->retries >= (s == DTCP_TCP_SYN_SENT ? w->cfg.tcp_syn_retries
							  : w->cfg.tcp_synack_retries)) {
			ctr_inc(w, DTCP_CTR_tcp_timeout_syn);
			tcp_conn_close(w, c, c->soft_error != 0 ? c->soft_error : -ETIMEDOUT);
			return;
		}
		c->retries++;
		c->syn_rexmit = true;
		c->rtt_timing = false;
		rto_backoff(w, c);
		ctr_inc(w, DTCP_CTR_tcp_rto);
		ctr_inc(w, DTCP_CTR_tcp_rexmit);
		c->total_retrans++;
		tcp_send_syn(w, c);
		tcp_rtx_arm(w, c);
		return;
	case DTCP_TCP_ESTABLISHED:
	case DTCP_TCP_FIN_WAIT_1:
	case DTCP_TCP_CLOSE_WAIT:
	case DTCP_TCP_CLOSING:
	case DTCP_TCP_LAST_ACK:
		break;
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_FIN_WAIT_2:
	case DTCP_TCP_TIME_WAIT:
	case DTCP_TCP_STATE_MAX:
		return;
	}
	if (c->snd_una == c->snd_max) {
		/* Nothing in flight: a zero window with data waiting. Probe it
		 * with one byte past the window (RFC 9293 §3.8.6.1). */
		if (!seq_lt(c->snd_nxt, data_end))
			return;
		output_past_window(w, c);
		rto_backoff(w, c);
		tcp_rtx_arm(w, c);
		return;
	}
	if (c->tlp_armed) {
		tcp_tlp_send(w, c);
		return;
	}
	c->tlp_out = false;
	if (c->retries >= w->cfg.tcp_retries) {
		ctr_inc(w, DTCP_CTR_tcp_timeout_data);
		tcp_conn_close(w, c, c->soft_error != 0 ? c->soft_error : -ETIMEDOUT);
		return;
	}
	/* RFC 5681 §3.1 (7.4): the loss window, and go back to SND.UNA; a
	 * recovery under way is over, and what was sent so far is covered.
	 * With a SACK scoreboard, the holes are resent from SND.UNA and what
	 * the peer holds is not (tcp_sack.c); without, everything again. */
	c->in_recovery = false;
	c->sack_recovery = false;
	c->rto_recovery = false;
	c->holes_lost = false;
	c->dupacks = 0;
	c->recover = c->snd_max;
	c->cc_ops->on_rto(&c->cc, c->snd_max - c->snd_una, w->now_ns);
	if (!(c->sack_ok && tcp_sack_rto(c)))
		c->snd_nxt = c->snd_una;
	c->retries++;
	c->rtt_timing = false;
	c->rto_tsval = (tcp_ts_now(w) + c->ts_offset) | 1;
	rto_backoff(w, c);
	ctr_inc(w, DTCP_CTR_tcp_rto);
	/* The resending counts itself (tcp_send_new). */
	output_past_window(w, c);
	tcp_rtx_arm(w, c);
}

/* Keepalive while established and idle; FIN-WAIT-2 lifetime once closed. */
void
tcp_keepalive_arm(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	uint64_t at_ns;

	if (!c->keepalive) {
		dtcp_wheel_cancel(&w->wheel, &c->aux_timer);
		return;
	}
	at_ns = c->last_rx_ns + (uint64_t)c->ka_idle_s * 1000000000ull;
	dtcp_wheel_arm(&w->wheel, &c->aux_timer,
		       tcp_deadline_tick(w, at_ns > w->now_ns ? at_ns - w->now_ns : 0));
}

static void
aux_fire(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	enum dtcp_tcp_state s = (enum dtcp_tcp_state)c->state;
	uint64_t idle_ns;

	switch (s) {
	case DTCP_TCP_FIN_WAIT_2:
		if (c->orphan) {
			ctr_inc(w, DTCP_CTR_tcp_timeout_fin_wait2);
			tcp_conn_close(w, c, -ETIMEDOUT);
		}
		return;
	case DTCP_TCP_ESTABLISHED:
	case DTCP_TCP_CLOSE_WAIT:
		break;
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_SYN_SENT:
	case DTCP_TCP_SYN_RECEIVED:
	case DTCP_TCP_FIN_WAIT_1:
	case DTCP_TCP_CLOSING:
	case DTCP_TCP_LAST_ACK:
	case DTCP_TCP_TIME_WAIT:
	case DTCP_TCP_STATE_MAX:
		return;
	}
	if (!c->keepalive)
		return;
	idle_ns = (uint64_t)c->ka_idle_s * 1000000000ull;
	/* Heard from the peer since the timer was set: wait out the idle time again. */
	if (c->ka_probes == 0 && w->now_ns < c->last_rx_ns + idle_ns) {
		tcp_keepalive_arm(w, c);
		return;
	}
	/* Data in flight: retransmission covers the peer's liveness. */
	if (c->snd_una != c->snd_max || c->snd_q_bytes > 0) {
		c->ka_probes = 0;
		dtcp_wheel_arm(&w->wheel, &c->aux_timer, tcp_deadline_tick(w, idle_ns));
		return;
	}
	if (c->ka_probes >= c->ka_cnt) {
		ctr_inc(w, DTCP_CTR_tcp_timeout_keepalive);
		tcp_send_rst(w, c);
		tcp_conn_close(w, c, c->soft_error != 0 ? c->soft_error : -ETIMEDOUT);
		return;
	}
	c->ka_probes++;
	tcp_send_keepalive(w, c);
	dtcp_wheel_arm(&w->wheel, &c->aux_timer,
		       tcp_deadline_tick(w, (uint64_t)c->ka_intvl_s * 1000000000ull));
}

void
dtcp_tcp_timer(struct dtcp_worker *w, struct dtcp_timer *t)
{
	switch ((enum dtcp_timer_kind)t->kind) {
	case DTCP_TIMER_TCP_RTX:
		rtx_fire(w, container_of(t, struct dtcp_tcb, rtx_timer));
		return;
	case DTCP_TIMER_TCP_AUX:
		aux_fire(w, container_of(t, struct dtcp_tcb, aux_timer));
		return;
	case DTCP_TIMER_TCP_DELACK: {
		struct dtcp_tcb *c = container_of(t, struct dtcp_tcb, delack_timer);

		/* The wait is over: the ACK goes with the next output. */
		ctr_inc(w, DTCP_CTR_tcp_delack_tx);
		c->ack_now = true;
		tcp_schedule_output(w, c);
		return;
	}
	case DTCP_TIMER_ARP:
		return;
	}
}

/* Once a tick: the records whose 2 MSL are over, oldest first, within the timer budget. */
void
tcp_tw_expire(struct dtcp_worker *w)
{
	struct dtcp_tcp *t = w->tcp;
	unsigned budget = w->cfg.timer_budget;

	while (t->tw_head != NULL && t->tw_head->expire_ns <= w->now_ns && budget-- > 0) {
		ctr_inc(w, DTCP_CTR_tcp_timewait_expired);
		tcp_tw_free(w, t->tw_head);
	}
}
