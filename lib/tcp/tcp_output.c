/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Segments out: header and options in a fresh mbuf, payload referenced
 * from the send queue by indirect mbufs (no copy), checksum over the
 * pseudo-header, then IPv4 with DF set (RFC 1191 path MTU discovery).
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_memcpy.h>

#include "../net/net.h"
#include "tcp_priv.h"

#define TCP_HDR_LEN ((uint16_t)sizeof(struct rte_tcp_hdr))

enum {
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WS = 3,
	OPT_SACK_OK = 4,
	OPT_SACK = 5,
	OPT_TS = 8,
};

/* Option space is 40 bytes: with timestamps (12) there is room for three SACK blocks, else four. */
static unsigned
sack_blocks_max(const struct dtcp_tcb *c)
{
	return c->ts_ok ? 3 : 4;
}

/* SACK blocks our next segment carries: one per out-of-order range, as many as fit. */
static unsigned
sack_blocks(const struct dtcp_tcb *c)
{
	if (!c->sack_ok || c->ooo == NULL)
		return 0;
	return RTE_MIN((unsigned)c->ooo->n, sack_blocks_max(c));
}

uint16_t
tcp_seg_room(const struct dtcp_tcb *c)
{
	unsigned n = sack_blocks(c);

	return (uint16_t)(c->snd_mss - (n > 0 ? 4 + 8 * n : 0));
}

/* Effective MSS: the peer's MSS and our MTU, less the options every segment carries (RFC 6691). */
uint16_t
tcp_mss_for(const struct dtcp_worker *w, const struct dtcp_tcb *c)
{
	uint16_t mss = RTE_MIN(c->peer_mss, (uint16_t)(w->mtu - 40));

	if (c->ts_ok)
		mss = (uint16_t)(mss - 12);
	return mss;
}

/*
 * RCV.WND to offer: free buffer space, but the right edge never moves left
 * (RFC 9293 §3.8.6), and moves right only by a useful amount: at least
 * min(half the buffer, one full segment), so that a reader taking a few
 * bytes at a time does not invite the peer to send as few (receiver-side
 * silly window avoidance, §3.8.6.2.2).
 */
uint32_t
tcp_rcv_wnd(const struct dtcp_worker *w, const struct dtcp_tcb *c)
{
	uint32_t space = c->rcv_buf > c->rcv_q_bytes ? c->rcv_buf - c->rcv_q_bytes : 0;
	uint32_t promised = seq_gt(c->rcv_adv, c->rcv_nxt) ? c->rcv_adv - c->rcv_nxt : 0;

	if (space <= promised)
		return promised;
	if (w->cfg.tcp_rcv_sws &&
	    space - promised < RTE_MIN(c->rcv_buf / 2, (uint32_t)w->tcp->our_mss))
		return promised;
	return space;
}

static void
put32(uint8_t *p, uint32_t v)
{
	rte_be32_t be = rte_cpu_to_be_32(v);

	memcpy(p, &be, sizeof(be));
}

/* NOP NOP TS: 12 bytes. */
static unsigned
put_ts(uint8_t *p, uint32_t tsval, uint32_t tsecr)
{
	p[0] = OPT_NOP;
	p[1] = OPT_NOP;
	p[2] = OPT_TS;
	p[3] = 10;
	put32(p + 4, tsval);
	put32(p + 8, tsecr);
	return 12;
}

/*
 * NOP NOP SACK with n blocks (RFC 2018 §4): first the block holding the
 * segment received last, then the blocks received into before it, newest
 * first, then the other ranges in sequence order.
 */
static unsigned
put_sack(uint8_t *p, const struct dtcp_tcb *c, unsigned n)
{
	const struct dtcp_ooo *o = c->ooo;
	uint64_t done = 0;
	unsigned k = 0, len = 4;

	p[0] = OPT_NOP;
	p[1] = OPT_NOP;
	p[2] = OPT_SACK;
	for (unsigned r = 0; r < c->sack_recent_n && k < n; r++) {
		uint32_t seq = c->sack_recent[r];

		for (unsigned i = 0; i < o->n; i++) {
			if (seq_geq(seq, o->seg[i].seq) && seq_lt(seq, o->seg[i].seq + o->seg[i].len)) {
				if (!(done & (1ull << i))) {
					done |= 1ull << i;
					put32(p + len, o->seg[i].seq);
					put32(p + len + 4, o->seg[i].seq + o->seg[i].len);
					len += 8;
					k++;
				}
				break;
			}
		}
	}
	for (unsigned i = 0; i < o->n && k < n; i++) {
		if (done & (1ull << i))
			continue;
		put32(p + len, o->seg[i].seq);
		put32(p + len + 4, o->seg[i].seq + o->seg[i].len);
		len += 8;
		k++;
	}
	p[3] = (uint8_t)(len - 2);
	return len;
}

/*
 * The options of our SYN or SYN-ACK: MSS; SACK-permitted folded into the
 * timestamp's padding when both go; window scale last. At most 20 bytes.
 */
static unsigned
put_syn_opts(uint8_t *p, uint16_t mss, bool ts, uint32_t tsval, uint32_t tsecr, bool sack,
	     bool ws, uint8_t shift)
{
	unsigned n = 0;

	p[n++] = OPT_MSS;
	p[n++] = 4;
	p[n++] = (uint8_t)(mss >> 8);
	p[n++] = (uint8_t)mss;
	if (ts) {
		if (sack) {
			p[n++] = OPT_SACK_OK;
			p[n++] = 2;
		} else {
			p[n++] = OPT_NOP;
			p[n++] = OPT_NOP;
		}
		p[n++] = OPT_TS;
		p[n++] = 10;
		put32(p + n, tsval);
		put32(p + n + 4, tsecr);
		n += 8;
	} else if (sack) {
		p[n++] = OPT_NOP;
		p[n++] = OPT_NOP;
		p[n++] = OPT_SACK_OK;
		p[n++] = 2;
	}
	if (ws) {
		p[n++] = OPT_NOP;
		p[n++] = OPT_WS;
		p[n++] = 3;
		p[n++] = shift;
	}
	return n;
}

/*
 * Finish and send a segment: hdr is the header mbuf with opt_len option
 * bytes already written after the 20-byte header; data (may be NULL) is
 * chained behind it.
 */
static void
seg_send(struct dtcp_worker *w, struct rte_mbuf *hdr, const struct dtcp_flow_key *k,
	 uint32_t seq, uint32_t ack, uint8_t flags, uint16_t wnd, unsigned opt_len,
	 struct rte_mbuf *data, uint32_t data_len, uint16_t data_segs)
{
	struct rte_tcp_hdr *th = rte_pktmbuf_mtod(hdr, struct rte_tcp_hdr *);
	uint16_t l4_len = (uint16_t)(TCP_HDR_LEN + opt_len + data_len);
	uint16_t segs = 1;            /* on the wire */

	th->src_port = rte_cpu_to_be_16(k->lport);
	th->dst_port = rte_cpu_to_be_16(k->rport);
	th->sent_seq = rte_cpu_to_be_32(seq);
	th->recv_ack = rte_cpu_to_be_32((flags & RTE_TCP_ACK_FLAG) ? ack : 0);
	th->data_off = (uint8_t)(((TCP_HDR_LEN + opt_len) / 4) << 4);
	th->tcp_flags = flags;
	th->rx_win = rte_cpu_to_be_16(wnd);
	th->cksum = 0;
	th->tcp_urp = 0;
	if (data != NULL) {
		hdr->next = data;
		hdr->nb_segs = (uint16_t)(1 + data_segs);
		hdr->pkt_len += data_len;
	}
	if (hdr->tso_segsz != 0) {
		/* TSO (tcb_send set the MSS): the port cuts the frame and sums
		 * each segment from a pseudo-header without length (rte_ipv4_phdr_cksum). */
		segs = (uint16_t)((data_len + hdr->tso_segsz - 1) / hdr->tso_segsz);
		hdr->ol_flags |= RTE_MBUF_F_TX_TCP_SEG;
		hdr->l4_len = (uint8_t)(TCP_HDR_LEN + opt_len);
		th->cksum = (uint16_t)__rte_raw_cksum_reduce(
			dtcp_wire_pseudo_sum(k->laddr, k->raddr, IPPROTO_TCP, 0));
		ctr_inc(w, DTCP_CTR_tcp_tso_tx);
		ctr_add(w, DTCP_CTR_tcp_tso_segs, segs);
	} else if (w->offl.tx_tcp_cksum) {
		/* The port finishes the sum from the pseudo-header's. */
		hdr->ol_flags |= RTE_MBUF_F_TX_TCP_CKSUM;
		hdr->l4_len = (uint8_t)(TCP_HDR_LEN + opt_len);
		th->cksum = (uint16_t)__rte_raw_cksum_reduce(
			dtcp_wire_pseudo_sum(k->laddr, k->raddr, IPPROTO_TCP, l4_len));
	} else {
		th->cksum = dtcp_wire_cksum_mbuf_seed(hdr, 0, l4_len,
						      dtcp_wire_pseudo_sum(k->laddr, k->raddr,
									   IPPROTO_TCP, l4_len));
	}
	ctr_add(w, DTCP_CTR_tcp_tx, segs);
	if (flags & RTE_TCP_SYN_FLAG)
		ctr_inc(w, DTCP_CTR_tcp_tx_syn);
	if (flags & RTE_TCP_RST_FLAG)
		ctr_inc(w, DTCP_CTR_tcp_tx_rst);
	if (flags & RTE_TCP_FIN_FLAG)
		ctr_inc(w, DTCP_CTR_tcp_tx_fin);
	if (data_len > 0) {
		ctr_add(w, DTCP_CTR_tcp_tx_data, segs);
		ctr_add(w, DTCP_CTR_tcp_tx_data_bytes, data_len);
	} else if (!(flags & (RTE_TCP_SYN_FLAG | RTE_TCP_FIN_FLAG | RTE_TCP_RST_FLAG))) {
		ctr_inc(w, DTCP_CTR_tcp_tx_ack_only);
	}
	dtcp_ipv4_output(w, hdr, k->laddr, k->raddr, IPPROTO_TCP, true);
}

/*
 * How much of len bytes from SND.NXT one TSO frame can carry in a chain the
 * port takes: a header mbuf and one indirect mbuf per send-queue mbuf
 * touched, at most tx_seg_max in all and tx_mtu_seg_max in each segment the
 * port cuts (its header counted). All len, or whole segments.
 */
static uint32_t
tso_chain_fit(const struct dtcp_worker *w, const struct dtcp_tcb *c, uint32_t len, uint16_t mss)
{
	const struct rte_mbuf *seg = c->snd_q;
	uint32_t seg_seq = c->snd_q_seq, off, done = 0, in_seg = 0;
	unsigned total = 1, per_seg = 1;

	if (c->snd_hint != NULL && seq_geq(c->snd_nxt, c->snd_hint_seq)) {
		seg = c->snd_hint;
		seg_seq = c->snd_hint_seq;
	}
	while (seg != NULL && seq_geq(c->snd_nxt, seg_seq + seg->data_len)) {
		seg_seq += seg->data_len;
		seg = seg->next;
	}
	off = c->snd_nxt - seg_seq;
	while (done < len && seg != NULL) {
		uint32_t n = RTE_MIN((uint32_t)seg->data_len - off, len - done);

		if (++total > w->offl.tx_seg_max)
			break;
		/* This mbuf's bytes, segment by segment. */
		while (n > 0) {
			uint32_t k = RTE_MIN(n, (uint32_t)mss - in_seg);

			if (++per_seg > w->offl.tx_mtu_seg_max)
				return done - in_seg;
			done += k;
			n -= k;
			in_seg += k;
			if (in_seg == mss) {
				in_seg = 0;
				per_seg = 1;
			}
		}
		off = 0;
		seg = seg->next;
	}
	return done == len ? len : done - in_seg;
}

/*
 * Payload bytes of the next segment of new data: one MSS; with TSO, data
 * never sent before up to tso_max in whole MSS. A short last piece goes
 * in the TSO frame only where it would go alone: ending the data, with
 * Nagle off or the FIN behind it.
 */
static uint32_t
new_data_len(const struct dtcp_worker *w, const struct dtcp_tcb *c, uint32_t avail,
	     uint32_t usable)
{
	uint16_t mss = c->snd_mss;
	uint32_t want = RTE_MIN(avail, usable), len;

	if (want <= mss || w->offl.tso_max < 2u * mss || mss < DTCP_TSO_MSS_MIN ||
	    seq_lt(c->snd_nxt, c->snd_max))
		return RTE_MIN(want, (uint32_t)mss);
	len = tso_chain_fit(w, c, RTE_MIN(want, (uint32_t)w->offl.tso_max), mss);
	if (len % mss != 0 && (len < avail || (!c->nodelay && !c->fin_queued)))
		len -= len % mss;
	return RTE_MAX(len, (uint32_t)mss);
}

/* A header mbuf with room for the header and opt_len option bytes. */
static struct rte_mbuf *
hdr_alloc(struct dtcp_worker *w, unsigned opt_len)
{
	struct rte_mbuf *m = dtcp_alloc(w);

	if (m != NULL && rte_pktmbuf_append(m, (uint16_t)(TCP_HDR_LEN + opt_len)) == NULL) {
		rte_pktmbuf_free(m);
		ctr_inc(w, DTCP_CTR_mbuf_alloc_fail);
		return NULL;
	}
	return m;
}

static uint8_t *
hdr_opts(struct rte_mbuf *m)
{
	return rte_pktmbuf_mtod_offset(m, uint8_t *, TCP_HDR_LEN);
}

/* The window field for a non-SYN segment; remembers the right edge offered. */
static uint16_t
wnd_field(const struct dtcp_worker *w, struct dtcp_tcb *c)
{
	uint32_t wnd = tcp_rcv_wnd(w, c);
	uint32_t field = RTE_MIN(wnd >> c->rcv_wscale, 65535u);

	/* Rounding down by the shift must not move the edge left either. */
	if (seq_lt(c->rcv_nxt + (field << c->rcv_wscale), c->rcv_adv) && field < 65535)
		field++;
	c->rcv_adv = seq_max(c->rcv_adv, c->rcv_nxt + (field << c->rcv_wscale));
	return (uint16_t)field;
}

/* The send-queue mbuf holding seq, and seq's offset in it; remembered for the next call. */
static struct rte_mbuf *
snd_q_seek(struct dtcp_tcb *c, uint32_t seq, uint32_t *off)
{
	struct rte_mbuf *seg;
	uint32_t seg_seq;

	if (c->snd_hint != NULL && seq_geq(seq, c->snd_hint_seq)) {
		seg = c->snd_hint;
		seg_seq = c->snd_hint_seq;
	} else {
		seg = c->snd_q;
		seg_seq = c->snd_q_seq;
	}
	while (seg != NULL && seq_geq(seq, seg_seq + seg->data_len)) {
		seg_seq += seg->data_len;
		seg = seg->next;
	}
	c->snd_hint = seg;
	c->snd_hint_seq = seg_seq;
	*off = seq - seg_seq;
	return seg;
}

/* A copy of [seq, seq + len) of the send queue at dst. */
static void
snd_q_copy(struct dtcp_tcb *c, uint32_t seq, uint32_t len, uint8_t *dst)
{
	uint32_t off;
	struct rte_mbuf *seg = snd_q_seek(c, seq, &off);

	while (len > 0 && seg != NULL) {
		uint32_t n = RTE_MIN((uint32_t)seg->data_len - off, len);

		rte_memcpy(dst, rte_pktmbuf_mtod_offset(seg, const uint8_t *, off), n);
		dst += n;
		len -= n;
		off = 0;
		seg = seg->next;
	}
}

/*
 * Indirect mbufs over [seq, seq + len) of the send queue. NULL (counted)
 * when the pool is dry.
 */
static struct rte_mbuf *
snd_q_ref(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t seq, uint32_t len,
	  uint16_t *nsegs)
{
	struct rte_mbuf *head = NULL, **tailp = &head;
	uint32_t off;
	struct rte_mbuf *seg = snd_q_seek(c, seq, &off);

	*nsegs = 0;
	while (len > 0 && seg != NULL) {
		uint32_t n = RTE_MIN((uint32_t)seg->data_len - off, len);
		struct rte_mbuf *mi = dtcp_alloc(w);

		if (mi == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		rte_pktmbuf_attach(mi, seg);
		mi->data_off = (uint16_t)(mi->data_off + off);
		mi->data_len = (uint16_t)n;
		mi->pkt_len = n;
		*tailp = mi;
		tailp = &mi->next;
		(*nsegs)++;
		len -= n;
		off = 0;
		seg = seg->next;
	}
	if (head != NULL)
		head->pkt_len = 0; /* the header mbuf carries the total */
	return head;
}

/* A segment of connection c: ACK set in every state past SYN-SENT. */
static bool
tcb_send(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t seq, uint8_t flags,
	 uint32_t data_len)
{
	struct rte_mbuf *hdr, *data = NULL;
	unsigned nsack = sack_blocks(c);
	unsigned opt_len = (c->ts_ok ? 12 : 0) + (nsack > 0 ? 4 + 8 * nsack : 0);
	uint16_t nsegs = 0;

	hdr = hdr_alloc(w, opt_len);
	if (hdr == NULL)
		return false;
	/*
	 * A short payload goes as a copy in the header mbuf: a reference
	 * costs an mbuf and an attach here, and a detach where the frame is
	 * freed, which on a wire between two cores (or a NIC's completion on
	 * another lcore) updates a count this core owns. What a copy costs
	 * is its bytes, a few cache lines at most ([tcp] tx_copy_max).
	 */
	if (data_len > 0 && data_len <= w->cfg.tcp_tx_copy_max &&
	    rte_pktmbuf_tailroom(hdr) >= data_len) {
		uint8_t *dst = (uint8_t *)rte_pktmbuf_append(hdr, (uint16_t)data_len);

		snd_q_copy(c, seq, data_len, dst);
		ctr_inc(w, DTCP_CTR_tcp_tx_copied);
	} else if (data_len > 0) {
		data = snd_q_ref(w, c, seq, data_len, &nsegs);
		if (data == NULL) {
			rte_pktmbuf_free(hdr);
			return false;
		}
	}
	if (c->ts_ok)
		put_ts(hdr_opts(hdr), tcp_ts_now(w) + c->ts_offset, c->ts_recent);
	if (nsack > 0) {
		put_sack(hdr_opts(hdr) + (c->ts_ok ? 12 : 0), c, nsack);
		ctr_inc(w, DTCP_CTR_tcp_sack_tx);
	}
	/* A TSO frame (new_data_len; never with SACK blocks, which would
	 * change the payload per segment). */
	if (data_len > c->snd_mss && w->offl.tso_max != 0)
		hdr->tso_segsz = c->snd_mss;
	flags |= RTE_TCP_ACK_FLAG;
	c->last_ack_sent = c->rcv_nxt;
	c->ack_now = false;
	c->delack_bytes = 0;
	if (dtcp_timer_armed(&c->delack_timer))
		dtcp_wheel_cancel(&w->wheel, &c->delack_timer);
	seg_send(w, hdr, &c->key, seq, c->rcv_nxt, flags, wnd_field(w, c), opt_len, data,
		 data_len, nsegs);
	return true;
}

void
tcp_send_syn(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	uint8_t opts[40];
	bool synack = c->state == DTCP_TCP_SYN_RECEIVED;
	unsigned n;
	struct rte_mbuf *hdr;
	uint16_t wnd = (uint16_t)RTE_MIN(c->rcv_buf, 65535u);

	c->adv_mss = tcp_adv_mss(w, c);
	n = put_syn_opts(opts, c->adv_mss, c->ts_ok, tcp_ts_now(w) + c->ts_offset,
			 synack ? c->ts_recent : 0, c->sack_ok, c->ws_ok, c->rcv_wscale);
	hdr = hdr_alloc(w, n);
	if (hdr == NULL)
		return;
	memcpy(hdr_opts(hdr), opts, n);
	if (synack) {
		c->last_ack_sent = c->rcv_nxt;
		c->rcv_adv = c->rcv_nxt + wnd;
	}
	c->ack_now = false;
	seg_send(w, hdr, &c->key, c->iss,
		 c->rcv_nxt, (uint8_t)(RTE_TCP_SYN_FLAG | (synack ? RTE_TCP_ACK_FLAG : 0)),
		 wnd, n, NULL, 0, 0);
}

/*
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, where SND.NXT is the highest we ever
 * sent (snd_max): after a timeout snd_nxt goes back to SND.UNA to resend,
 * but the peer's RCV.NXT may be past it already, and an ACK below that
 * would be unacceptable to it (§3.10.7.4 first check) and never read.
 */
void
tcp_send_ack(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	tcb_send(w, c, c->snd_max, 0, 0);
}

/* A keepalive probe: one sequence number below SND.UNA, so the peer must answer with an ACK. */
void
tcp_send_keepalive(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	ctr_inc(w, DTCP_CTR_tcp_keepalive_tx);
	tcb_send(w, c, c->snd_una - 1, 0, 0);
}

/* ABORT (RFC 9293 §3.10.5): <SEQ=SND.NXT><CTL=RST>, the highest we ever sent. */
void
tcp_send_rst(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	struct rte_mbuf *hdr = hdr_alloc(w, 0);

	if (hdr == NULL)
		return;
	seg_send(w, hdr, &c->key, c->snd_max, 0, RTE_TCP_RST_FLAG, 0, 0, NULL, 0, 0);
}

void
tcp_reply_rst(struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t seq,
	      uint32_t ack, bool with_ack)
{
	struct rte_mbuf *hdr = hdr_alloc(w, 0);

	if (hdr == NULL)
		return;
	seg_send(w, hdr, k, seq, ack,
		 (uint8_t)(RTE_TCP_RST_FLAG | (with_ack ? RTE_TCP_ACK_FLAG : 0)), 0, 0, NULL, 0, 0);
}

void
tcp_tw_send_ack(struct dtcp_worker *w, struct dtcp_tw *tw)
{
	unsigned opt_len = tw->ts_ok ? 12 : 0;
	struct rte_mbuf *hdr = hdr_alloc(w, opt_len);

	if (hdr == NULL)
		return;
	if (tw->ts_ok)
		put_ts(hdr_opts(hdr), tcp_ts_now(w) + tw->ts_offset, tw->ts_recent);
	seg_send(w, hdr, &tw->key, tw->snd_nxt, tw->rcv_nxt, RTE_TCP_ACK_FLAG, tw->wnd, opt_len,
		 NULL, 0, 0);
}

/*
 * Tail loss probe (RFC 8985 §7): when the last segments of a flight are
 * lost, no ACK comes to show it and only the timeout would. A probe after
 * about two round trips draws an ACK whose SACK blocks start recovery at
 * once. Only with SACK, outside recovery, one probe at a time.
 */
static bool
tlp_may(const struct dtcp_worker *w, const struct dtcp_tcb *c)
{
	return w->cfg.tcp_tlp && c->sack_ok && c->srtt_us != 0 && !c->in_recovery &&
	       !c->tlp_out && c->snd_una != c->snd_max &&
	       (c->state == DTCP_TCP_ESTABLISHED || c->state == DTCP_TCP_CLOSE_WAIT);
}

void
tcp_rtx_arm(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	uint64_t rto_ns = (uint64_t)c->rto_ms * 1000000;

	c->tlp_armed = false;
	if (tlp_may(w, c)) {
		/* §7.2: PTO = 2 SRTT, plus the peer's worst delayed ACK when one
		 * segment is all that is in flight; never later than the RTO.
		 * On a round trip of microseconds 2 SRTT is less than the
		 * peer's scheduling jitter, and every probe would be spurious:
		 * [tcp] tlp_min_ms is a floor (Linux adds 2 ms to 2 SRTT). */
		uint64_t pto_ns = 2ull * c->srtt_us * 1000;

		if (c->snd_max - c->snd_una <= c->snd_mss)
			pto_ns += 200000000ull;
		pto_ns = RTE_MAX(pto_ns, (uint64_t)w->cfg.tcp_tlp_min_ms * 1000000);
		if (pto_ns < rto_ns) {
			c->tlp_armed = true;
			rto_ns = pto_ns;
		}
	}
	dtcp_wheel_arm(&w->wheel, &c->rtx_timer, tcp_deadline_tick(w, rto_ns));
}

/*
 * §7.3: new data if the windows let a segment go, else the last segment
 * sent again; then the RTO runs from now.
 */
void
tcp_tlp_send(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	uint32_t data_end = c->snd_q_seq + c->snd_q_bytes;
	uint32_t rwnd_end = c->snd_una + c->snd_wnd;
	bool sent = false;

	c->tlp_armed = false;
	if (c->snd_nxt == c->snd_max && seq_lt(c->snd_nxt, data_end) &&
	    seq_lt(c->snd_nxt, rwnd_end)) {
		c->force_send = true;
		sent = tcp_send_new(w, c, RTE_MIN(rwnd_end - c->snd_nxt, (uint32_t)tcp_seg_room(c)));
		c->force_send = false;
		c->snd_max = seq_max(c->snd_max, c->snd_nxt);
	}
	if (!sent) {
		uint32_t end = seq_lt(c->snd_max, data_end) ? c->snd_max : data_end;
		uint32_t len = RTE_MIN(end - c->snd_una, (uint32_t)tcp_seg_room(c));

		sent = tcp_send_old(w, c, end - len, len);
	}
	if (sent) {
		ctr_inc(w, DTCP_CTR_tcp_tlp_probe);
		c->tlp_out = true;
		c->tlp_end = c->snd_max;
	}
	tcp_rtx_arm(w, c);
}

bool
tcp_send_old(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t seq, uint32_t len)
{
	uint32_t data_end = c->snd_q_seq + c->snd_q_bytes;
	bool fin_sent = c->fin_queued && seq_gt(c->snd_max, data_end);

	ctr_inc(w, DTCP_CTR_tcp_rexmit);
	c->total_retrans++;
	c->rtt_timing = false;
	/* The flags it had: PSH at the end of the queued data, and the FIN if it went. */
	if (len > 0)
		return tcb_send(w, c, seq,
				(uint8_t)(seq + len != data_end ? 0
					  : RTE_TCP_PSH_FLAG | (fin_sent ? RTE_TCP_FIN_FLAG : 0)),
				len);
	if (fin_sent && seq == data_end)
		return tcb_send(w, c, data_end, RTE_TCP_FIN_FLAG, 0);
	return false;
}

void
tcp_retransmit_una(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	uint32_t data_end = c->snd_q_seq + c->snd_q_bytes;
	uint32_t len = 0;

	if (seq_lt(c->snd_una, data_end))
		len = RTE_MIN(data_end - c->snd_una, (uint32_t)tcp_seg_room(c));
	if (len == 0 && !(c->fin_queued && seq_gt(c->snd_max, data_end)))
		return;
	tcp_send_old(w, c, c->snd_una, len);
	c->high_rxt = seq_max(c->high_rxt, c->snd_una + (len > 0 ? len : 1));
}

void
tcp_snd_q_drop(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t bytes)
{
	while (bytes > 0 && c->snd_q != NULL) {
		struct rte_mbuf *m = c->snd_q;

		if (m->data_len <= bytes) {
			bytes -= m->data_len;
			c->snd_q_seq += m->data_len;
			c->snd_q_bytes -= m->data_len;
			c->snd_q = m->next;
			if (c->snd_hint == m)
				c->snd_hint = NULL;
			m->next = NULL;
			m->nb_segs = 1;
			rte_pktmbuf_free_seg(m);
			c->snd_q_mbufs--;
			w->tcp->mbufs_held--;
		} else {
			m->data_off = (uint16_t)(m->data_off + bytes);
			m->data_len = (uint16_t)(m->data_len - bytes);
			c->snd_q_seq += bytes;
			c->snd_q_bytes -= bytes;
			if (c->snd_hint == m)
				c->snd_hint_seq += bytes;
			bytes = 0;
		}
	}
	if (c->snd_q == NULL)
		c->snd_q_tail = NULL;
}

/*
 * Sender-side silly window avoidance (RFC 9293 §3.8.6.2.1): a segment
 * shorter than SMSS that the window cut short (more data waits behind it)
 * goes only if it is at least half the largest window the peer offered.
 * Otherwise it waits for the window to open; with nothing in flight, the
 * retransmission timer is the override timeout and forces it out.
 */
static bool
sws_hold(const struct dtcp_tcb *c, uint32_t len, uint32_t avail, uint32_t mss)
{
	return len < mss && len < avail && len < c->max_snd_wnd / 2;
}

bool
tcp_send_new(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t usable)
{
	uint32_t data_end = c->snd_q_seq + c->snd_q_bytes;
	uint32_t mss = tcp_seg_room(c);
	uint32_t avail, len, limit = data_end;
	uint8_t flags;
	bool fin;

	/* After a timeout SND.NXT went back; what the peer SACKed since needs no resending. */
	if (c->sackb != NULL && seq_lt(c->snd_nxt, c->snd_max)) {
		c->snd_nxt = tcp_sack_skip(c, c->snd_nxt, &limit, data_end);
		if (seq_gt(c->snd_nxt, data_end))
			c->snd_nxt = data_end;
	}
	if (!seq_lt(c->snd_nxt, data_end)) {
		if (!c->fin_queued || c->snd_nxt != data_end)
			return false;
		if (seq_lt(c->snd_nxt, c->snd_max)) {
			ctr_inc(w, DTCP_CTR_tcp_rexmit);
			c->total_retrans++;
		}
		if (!tcb_send(w, c, c->snd_nxt, RTE_TCP_FIN_FLAG, 0))
			return false;
		c->snd_nxt++;
		return true;
	}
	avail = data_end - c->snd_nxt;
	/* With TSO, several segments of new data in one frame (not while our
	 * segments carry SACK blocks: they change the room per segment). */
	len = mss == c->snd_mss ? new_data_len(w, c, avail, usable)
				: RTE_MIN(RTE_MIN(avail, usable), mss);
	if (seq_lt(limit, c->snd_nxt + len))
		len = limit - c->snd_nxt;
	if (len == 0)
		return false;
	fin = c->fin_queued && len == avail;
	/* Nagle (RFC 896, RFC 9293 §3.7.4): with data unacknowledged, the
	 * last small piece waits for a full segment or the ACK. */
	if (len < mss && len == avail && !fin && !c->nodelay && c->snd_nxt != c->snd_una &&
	    !c->force_send)
		return false;
	if (len < mss && len < avail && !c->force_send) {
		uint32_t rwnd = seq_gt(c->snd_una + c->snd_wnd, c->snd_nxt)
				? c->snd_una + c->snd_wnd - c->snd_nxt : 0;

		/* Cut short by cwnd, not by the peer: the ACKs in flight will
		 * open it by whole segments. */
		if (usable < rwnd)
			return false;
		if (sws_hold(c, len, avail, mss)) {
			ctr_inc(w, DTCP_CTR_tcp_sws_held);
			return false;
		}
	}
	flags = (uint8_t)((len == avail ? RTE_TCP_PSH_FLAG : 0) | (fin ? RTE_TCP_FIN_FLAG : 0));
	/* Karn (RFC 6298 §3): time only a first transmission. */
	if (!c->rtt_timing && !c->ts_ok && c->snd_nxt == c->snd_max) {
		c->rtt_timing = true;
		c->rtt_seq = c->snd_nxt;
		c->rtt_start_ns = w->now_ns;
	}
	if (seq_lt(c->snd_nxt, c->snd_max)) {
		ctr_inc(w, DTCP_CTR_tcp_rexmit);
		c->total_retrans++;
	}
	if (!tcb_send(w, c, c->snd_nxt, flags, len))
		return false;
	c->snd_nxt += len + (fin ? 1 : 0);
	return true;
}

/*
 * Send what the windows allow from SND.NXT, then FIN once every queued
 * byte has gone, then an owed ACK if nothing carried it. In SACK recovery
 * the scoreboard chooses (tcp_sack.c).
 */
void
tcp_output(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	enum dtcp_tcp_state s = (enum dtcp_tcp_state)c->state;
	bool idle = c->snd_una == c->snd_max;
	bool sent = false;

	if (c->dead)
		return;
	if (tcp_state_can_send(s)) {
		uint32_t data_end = c->snd_q_seq + c->snd_q_bytes;

		if (c->in_recovery && c->sack_recovery) {
			sent = tcp_sack_output(w, c);
		} else {
			/* Limited transmit (RFC 3042): the first two duplicate ACKs
			 * each let one new segment go beyond cwnd. */
			uint32_t lt = !c->in_recovery && c->snd_nxt == c->snd_max
				      ? RTE_MIN(c->dupacks, 2u) * (uint32_t)c->snd_mss : 0;

			for (unsigned budget = 1024; budget > 0; budget--) {
				uint32_t wnd = RTE_MIN(c->snd_wnd, c->cc.cwnd + lt);
				uint32_t flight = c->snd_nxt - c->snd_una;
				uint32_t usable = wnd > flight ? wnd - flight : 0;

				if (usable == 0 && !(c->fin_queued && c->snd_nxt == data_end))
					break;
				if (!tcp_send_new(w, c, usable))
					break;
				if (lt > 0 && c->snd_nxt - c->snd_una > c->cc.cwnd)
					c->lt_bytes = c->snd_nxt - c->snd_una - c->cc.cwnd;
				sent = true;
				c->force_send = false;
			}
		}
		c->force_send = false;
		c->snd_max = seq_max(c->snd_max, c->snd_nxt);
		/* RFC 6298 §5.1: the timer runs from the first segment in flight. */
		if (sent && (idle || !dtcp_timer_armed(&c->rtx_timer)))
			tcp_rtx_arm(w, c);
		/* Nothing in flight and data waiting (a zero or silly window): the
		 * retransmission timer probes it, or forces the small segment. */
		if (!sent && c->snd_una == c->snd_max && seq_lt(c->snd_nxt, data_end) &&
		    !dtcp_timer_armed(&c->rtx_timer))
			tcp_rtx_arm(w, c);
	}
	if (c->ack_now && !sent) {
		switch (s) {
		case DTCP_TCP_SYN_RECEIVED:
		case DTCP_TCP_ESTABLISHED:
		case DTCP_TCP_FIN_WAIT_1:
		case DTCP_TCP_FIN_WAIT_2:
		case DTCP_TCP_CLOSE_WAIT:
		case DTCP_TCP_CLOSING:
		case DTCP_TCP_LAST_ACK:
			tcp_send_ack(w, c);
			break;
		case DTCP_TCP_CLOSED:
		case DTCP_TCP_LISTEN:
		case DTCP_TCP_SYN_SENT:
		case DTCP_TCP_TIME_WAIT:
		case DTCP_TCP_STATE_MAX:
			break;
		}
	}
	c->ack_now = false;
}

void
tcp_output_all(struct dtcp_worker *w)
{
	struct dtcp_tcp *t = w->tcp;

	while (t->out_head != NULL) {
		struct dtcp_tcb *c = t->out_head;

		t->out_head = c->out_next;
		c->in_out = false;
		tcp_output(w, c);
	}
}
