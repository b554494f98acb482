/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP's private layout: the TCB with RFC 9293 field names, the compact
 * TIME-WAIT record, the per-worker TCP context, and the functions the
 * files of lib/tcp share. Private to the library and its tests.
 */
#ifndef DTCP_TCP_PRIV_H
#define DTCP_TCP_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_hash.h>
#include <rte_mempool.h>
#include <rte_tcp.h>

#include <dtcp/tcp.h>

#include "../core/worker_priv.h"
#include "tcp_cc.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sequence arithmetic modulo 2^32 (RFC 9293 §3.4); the only way we compare. */
static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static inline bool seq_gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }
static inline bool seq_geq(uint32_t a, uint32_t b) { return (int32_t)(a - b) >= 0; }
static inline uint32_t seq_max(uint32_t a, uint32_t b) { return seq_gt(a, b) ? a : b; }

/* RFC 9293 §3.3.2: a connection is synchronized once the handshake is done. */
static inline bool
tcp_state_synchronized(enum dtcp_tcp_state s)
{
	switch (s) {
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_SYN_SENT:
	case DTCP_TCP_SYN_RECEIVED:
	case DTCP_TCP_STATE_MAX:
		return false;
	case DTCP_TCP_ESTABLISHED:
	case DTCP_TCP_FIN_WAIT_1:
	case DTCP_TCP_FIN_WAIT_2:
	case DTCP_TCP_CLOSE_WAIT:
	case DTCP_TCP_CLOSING:
	case DTCP_TCP_LAST_ACK:
	case DTCP_TCP_TIME_WAIT:
		return true;
	}
	return false;
}

/* States in which we may still send data we hold (before our FIN is acked). */
static inline bool
tcp_state_can_send(enum dtcp_tcp_state s)
{
	switch (s) {
	case DTCP_TCP_ESTABLISHED:
	case DTCP_TCP_CLOSE_WAIT:
	case DTCP_TCP_FIN_WAIT_1:
	case DTCP_TCP_CLOSING:
	case DTCP_TCP_LAST_ACK:
		return true;
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_SYN_SENT:
	case DTCP_TCP_SYN_RECEIVED:
	case DTCP_TCP_FIN_WAIT_2:
	case DTCP_TCP_TIME_WAIT:
	case DTCP_TCP_STATE_MAX:
		return false;
	}
	return false;
}

/* States after the peer's FIN: no more data can arrive. */
static inline bool
tcp_state_fin_received(enum dtcp_tcp_state s)
{
	switch (s) {
	case DTCP_TCP_CLOSE_WAIT:
	case DTCP_TCP_CLOSING:
	case DTCP_TCP_LAST_ACK:
	case DTCP_TCP_TIME_WAIT:
		return true;
	case DTCP_TCP_CLOSED:
	case DTCP_TCP_LISTEN:
	case DTCP_TCP_SYN_SENT:
	case DTCP_TCP_SYN_RECEIVED:
	case DTCP_TCP_ESTABLISHED:
	case DTCP_TCP_FIN_WAIT_1:
	case DTCP_TCP_FIN_WAIT_2:
	case DTCP_TCP_STATE_MAX:
		return false;
	}
	return false;
}

/*
 * A connection's identity, ours first; host byte order. `zero` pads it to
 * 16 bytes and is always 0: rte_hash compares 16-byte keys with one vector
 * compare and 12-byte ones with memcmp (5 % of a server's time at 200 k
 * connections/s). Every key built field by field sets it.
 */
struct dtcp_flow_key {
	uint32_t laddr;
	uint32_t raddr;
	uint16_t lport;
	uint16_t rport;
	uint32_t zero;
};

/* Listen table key: (address or 0, port); padded to 16 bytes, as the flow key is. */
struct dtcp_listen_key {
	uint32_t addr;
	uint16_t port;
	uint16_t zero;
	uint64_t zero2;
};

/* Options of one received segment (RFC 9293 §3.2, RFC 7323, RFC 2018). */
struct dtcp_tcp_opts {
	bool mss_ok, ws_ok, sack_ok, ts_ok;
	uint16_t mss;
	uint8_t ws;
	uint8_t n_sack;
	uint32_t tsval, tsecr;
	uint32_t sack[4][2];
};

/* What tcp_input knows about the segment in hand; host byte order. */
struct dtcp_seg {
	struct dtcp_flow_key key;
	uint32_t seq, ack;
	uint32_t len;           /* payload bytes (after trimming) */
	uint16_t wnd;           /* raw window field */
	uint16_t hlen;          /* TCP header bytes */
	uint8_t flags;          /* RTE_TCP_*_FLAG */
	struct dtcp_tcp_opts opt;
};

/* SACK ranges the sender keeps, and out-of-order blocks the receiver reports first. */
#define TCP_SACK_BOARD 16
#define TCP_SACK_RXT 16
#define TCP_SACK_RECENT 4
/* RFC 6675 DupThresh. */
#define TCP_DUPTHRESH 3

/* Segments ACKed at once, without delay, at the start and after a hole fills. */
#define TCP_QUICKACKS 16

/* Events waiting for the application (bits of dtcp_tcb.ev). */
enum {
	EV_ACCEPTABLE = 1 << 0,
	EV_CONNECTED  = 1 << 1,
	EV_DATA       = 1 << 2,
	EV_PEER_CLOSED = 1 << 3,
	EV_WRITABLE   = 1 << 4,
	EV_CLOSED     = 1 << 5,
};

/*
 * Transmission Control Block (RFC 9293 §3.3.1). One per connection and
 * one per listener (state LISTEN, the listener fields at the end).
 * Send queue: one chain of mbuf segments linked by next, holding every
 * byte from snd_q_seq on, sent or not; its bytes leave when acknowledged.
 */
struct dtcp_tcb {
	/* Looked at for every segment. */
	struct dtcp_flow_key key;
	uint32_t hash;                /* the flow table's hash of key */
	uint8_t state;                /* enum dtcp_tcp_state */
	uint8_t snd_wscale;           /* shift for the windows the peer sends */
	uint8_t rcv_wscale;           /* shift for the windows we send */
	bool ts_ok : 1;               /* timestamps agreed */
	bool sack_ok : 1;             /* SACK permitted both ways */
	bool passive : 1;             /* opened from a listener */
	bool ack_now : 1;             /* an ACK is owed at the end of the burst */
	bool fin_queued : 1;          /* shutdown: FIN after the queued data */
	bool orphan : 1;              /* the application closed its handle */
	bool in_out : 1;              /* on the worker's output list */
	bool in_ev : 1;               /* on the worker's event list */
	bool dead : 1;                /* out of the tables, freed at the end of the poll */
	bool want_writable : 1;       /* a send was refused; say when there is room */
	bool keepalive : 1;
	bool in_accept_q : 1;
	bool ws_ok : 1;               /* window scaling offered (SYN-SENT) or agreed */
	bool syn_rexmit : 1;          /* the SYN or SYN-ACK was sent more than once */
	bool rcv_paused : 1;          /* the application holds DTCP_EV_DATA back */
	bool ooo_fin : 1;             /* a FIN arrived beyond RCV.NXT */
	bool in_recovery : 1;         /* fast recovery (RFC 5681 §3.2, RFC 6582) */
	bool nodelay : 1;             /* Nagle's algorithm off */
	bool sack_recovery : 1;       /* in_recovery is RFC 6675's, driven by the scoreboard */
	bool force_send : 1;          /* a timeout: the next segment goes past Nagle and SWS */
	bool rto_recovery : 1;        /* sack_recovery after a timeout: every hole counts as lost */
	bool holes_lost : 1;          /* in sack_recovery, every hole below SND.MAX counts as lost */
	bool tlp_armed : 1;           /* rtx_timer runs as the probe timeout (RFC 8985 §7) */
	bool tlp_out : 1;             /* a loss probe is in flight, up to tlp_end */
	bool rescue_ok : 1;           /* rescue_rxt is defined (RFC 6675 RescueRxt) */

	uint32_t snd_una, snd_nxt, snd_max, snd_wnd, max_snd_wnd;
	uint32_t snd_wl1, snd_wl2, iss;
	uint32_t rcv_nxt, rcv_adv, irs; /* rcv_adv: right edge we advertised */
	uint32_t last_ack_sent;
	uint32_t ts_recent, ts_offset;
	uint64_t ts_recent_ns;        /* when TS.Recent was taken (RFC 7323 §5.5) */
	uint16_t snd_mss;             /* payload per segment, options subtracted */
	uint16_t peer_mss;
	uint16_t user_mss;            /* TCP_MAXSEG: announce no more, send no more (0: none) */
	uint16_t adv_mss;             /* the MSS our SYN or SYN-ACK announced */
	uint32_t snd_buf, rcv_buf;    /* bytes: send queue limit, receive window */
	const struct dtcp_cc_ops *cc_ops;
	struct dtcp_cc cc;             /* cwnd, ssthresh and the algorithm's state */
	uint32_t recover;             /* RFC 6582: SND.MAX when fast recovery began */
	uint8_t dupacks;              /* duplicate ACKs in a row (RFC 5681 §2) */
	uint32_t lt_bytes;            /* sent beyond cwnd by limited transmit (RFC 3042) since */

	/* SACK, sending side (RFC 2018, RFC 6675): the scoreboard, from a
	 * pool while the peer reports holes, NULL otherwise. */
	struct dtcp_sackb *sackb;
	uint32_t high_rxt;            /* RFC 6675 HighRxt: end of the highest retransmission */
	uint32_t tlp_end;             /* SND.MAX when the loss probe went */
	uint32_t rescue_rxt;          /* RFC 6675 RescueRxt */
	uint32_t rto_tsval;           /* our TSval when the last timeout fired (0: none) */
	/* SACK, receiving side: a byte of each out-of-order block we received
	 * into lately, newest first, so that ACKs report those blocks first
	 * (RFC 2018 §4). */
	uint32_t sack_recent[TCP_SACK_RECENT];
	uint8_t sack_recent_n;

	/* Send queue. */
	struct rte_mbuf *snd_q, *snd_q_tail;
	uint32_t snd_q_seq;           /* sequence number of snd_q's first byte */
	uint32_t snd_q_bytes;
	uint32_t snd_q_mbufs;
	struct rte_mbuf *snd_hint;    /* a segment of snd_q and its first byte's seq */
	uint32_t snd_hint_seq;

	/* Received in order, not yet handed to the application. */
	struct rte_mbuf *rcv_q;
	uint32_t rcv_q_bytes;
	uint32_t rcv_q_mbufs;
	/* Received beyond RCV.NXT, waiting for the hole before it. */
	struct dtcp_ooo *ooo;
	uint32_t ooo_mbufs;
	uint32_t ooo_fin_seq;         /* where the peer's FIN sits, when ooo_fin */

	/* Retransmission (RFC 6298), keepalive (RFC 1122 §4.2.3.6). */
	struct dtcp_timer rtx_timer;
	struct dtcp_timer aux_timer;
	struct dtcp_timer delack_timer;
	uint32_t delack_bytes;        /* in-order bytes taken since our last ACK */
	uint8_t quickacks;            /* segments still ACKed at once (start, after a hole) */
	uint32_t srtt_us, rttvar_us;  /* srtt 0: no sample yet */
	uint32_t rto_ms;
	uint8_t retries;              /* timeouts of the current segment */
	uint8_t ka_probes;
	bool rtt_timing;              /* Karn: timing rtt_seq, never a retransmission */
	uint32_t rtt_seq;
	uint64_t rtt_start_ns;
	uint64_t last_rx_ns;
	uint32_t ka_idle_s, ka_intvl_s, ka_cnt;
	uint64_t total_retrans;

	/* RFC 5961 §7: challenge ACKs, limited per connection. */
	uint64_t chack_start_ns;
	uint32_t chack_count;
	int soft_error;

	/* The application. */
	dtcp_event_fn fn;
	void *user;
	uint8_t ev;
	int ev_error;
	struct dtcp_tcb *ev_next;
	struct dtcp_tcb *out_next;
	struct dtcp_tcb *free_next;

	/* Passive opens: the listener, and the accept queue link. */
	struct dtcp_tcb *parent;
	struct dtcp_tcb *acc_next;

	/* Listener only. */
	uint32_t syn_max, acc_max;
	uint32_t syn_count, acc_count;
	struct dtcp_tcb *acc_head, *acc_tail;
	uint64_t cookie_until_ns;     /* cookies sent recently: check ACKs until then */
};

/*
 * The out-of-order queue of one connection: disjoint byte ranges sorted
 * by sequence number, each an mbuf chain. A fixed small array, so the
 * work a segment can cause is bounded however the peer overlaps them.
 */
struct dtcp_ooo {
	uint16_t n;
	struct {
		uint32_t seq, len;
		struct rte_mbuf *m;
	} seg[DTCP_OOO_MAX];
};

/*
 * The sender's SACK scoreboard (RFC 2018, RFC 6675): what the peer holds
 * beyond SND.UNA, as disjoint ranges in order, at most TCP_SACK_BOARD of
 * them (the highest give way: the holes low in the window are the ones to
 * mend); and the holes resent lately, each with SND.MAX at the time, so
 * that a resend is known lost once data sent after it is SACKed (the
 * ordering RFC 8985 §6.2 reasons with). From a per-worker pool, taken when
 * a peer first reports a hole and given back when all is acknowledged.
 */
struct dtcp_sackb {
	uint8_t n;
	uint8_t nrx;
	struct dtcp_sack_range {
		uint32_t start, end;
	} r[TCP_SACK_BOARD];
	struct {
		uint32_t seq, mark;
	} rx[TCP_SACK_RXT];
};

/*
 * TIME-WAIT (RFC 9293 §3.6.1) in a record of its own, so that millions
 * fit: what it takes to re-ACK a FIN, check PAWS and judge a new SYN.
 * They wait 2 MSL each, all the same length: a FIFO in expiry order.
 */
struct dtcp_tw {
	struct dtcp_flow_key key;
	uint32_t hash;
	uint32_t snd_nxt;
	uint32_t rcv_nxt;
	uint32_t ts_recent;
	uint32_t ts_offset;
	uint16_t wnd;                 /* window field to send */
	bool ts_ok;
	uint8_t pad;
	uint64_t expire_ns;
	struct dtcp_tw *next, *prev;
};

/* Flow table values: a TCB, or a TIME-WAIT record tagged in bit 0. */
static inline bool tcp_val_is_tw(const void *v) { return ((uintptr_t)v & 1) != 0; }
static inline struct dtcp_tw *tcp_val_tw(void *v) { return (struct dtcp_tw *)((uintptr_t)v & ~(uintptr_t)1); }
static inline void *tcp_tw_val(struct dtcp_tw *tw) { return (void *)((uintptr_t)tw | 1); }

/* TCP's share of a worker. */
struct dtcp_tcp {
	struct rte_hash *flows;       /* dtcp_flow_key -> TCB or TIME-WAIT record */
	struct rte_hash *listeners;   /* dtcp_listen_key -> listener TCB */
	uint32_t n_listeners;         /* entries in listeners */
	uint32_t n_listeners_addr;    /* of them, on an address (not 0) */
	struct rte_mempool *tcbs;
	struct rte_mempool *tws;
	struct rte_mempool *ooos;     /* out-of-order queues, NULL when ooo_conns is 0 */
	struct rte_mempool *sackbs;   /* SACK scoreboards, NULL when sack_conns is 0 */
	uint32_t n_tcbs, n_tw;
	uint64_t state_count[DTCP_TCP_STATE_MAX];
	struct dtcp_tw *tw_head, *tw_tail; /* oldest first */
	struct dtcp_tcb *ev_head, *ev_tail;
	struct dtcp_tcb *out_head;
	struct dtcp_tcb *free_head;
	uint32_t mbufs_held;          /* in send and receive queues, against [tcp] mbufs_max */
	uint16_t port_next;
	uint16_t our_mss;             /* the MSS we announce */
	bool delivering;
	uint8_t secret[16];
	bool secret_fixed;
	uint32_t flow_seed;           /* the flow table hash's key, from secret */
	/* The last connection's ISN PRF output (tcp_isn): its upper half is the
	 * timestamp offset tcp_ts_offset() is asked for next, for the same key. */
	struct dtcp_flow_key prf_memo_key;
	uint64_t prf_memo;
	bool prf_memo_ok;
	dtcp_isn_fn isn_fn;
	void *isn_ctx;
};

/* RFC 7323 §2.2: the smallest shift that lets a buffer of rcvbuf bytes be advertised. */
static inline uint8_t
tcp_wscale_for(uint32_t rcvbuf)
{
	uint8_t shift = 0;

	while ((rcvbuf >> shift) > 65535 && shift < 14)
		shift++;
	return shift;
}

/* The MSS our SYN or SYN-ACK announces: the worker's, or less if the application asked. */
static inline uint16_t
tcp_adv_mss(const struct dtcp_worker *w, const struct dtcp_tcb *c)
{
	return c->user_mss != 0 && c->user_mss < w->tcp->our_mss ? c->user_mss : w->tcp->our_mss;
}

/* tcp_api.c: per-connection settings (struct dtcp_conn_opts) onto a TCB before its SYN. */
void tcp_conn_opts_apply(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_conn_opts *o);
/* A listener's settings onto a connection it spawned, before its SYN-ACK. */
void tcp_conn_inherit(struct dtcp_tcb *c, const struct dtcp_tcb *l);

/* tcp_table.c: tables, TCBs and TIME-WAIT records. */
int dtcp_tcp_create(struct dtcp_worker *w, char *err, size_t errlen);
void dtcp_tcp_destroy(struct dtcp_worker *w);
uint32_t tcp_flow_hash(const struct dtcp_worker *w, const struct dtcp_flow_key *k);
void *tcp_flow_lookup(struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t hash);
int tcp_flow_add(struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t hash, void *v);
void tcp_flow_del(struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t hash);
struct dtcp_tcb *tcp_listener_lookup(struct dtcp_worker *w, uint32_t addr, uint16_t port);
struct dtcp_tcb *tcp_tcb_alloc(struct dtcp_worker *w);
void tcp_set_state(struct dtcp_worker *w, struct dtcp_tcb *c, enum dtcp_tcp_state s);
/* Out of every table and timer, queues freed; the memory goes at the end of the poll. */
void tcp_tcb_release(struct dtcp_worker *w, struct dtcp_tcb *c);
/* The end of a connection: release, and DTCP_EV_CLOSED(error) if an application holds it. */
void tcp_conn_close(struct dtcp_worker *w, struct dtcp_tcb *c, int error);
/* Enter TIME-WAIT: the TCB becomes a record (or goes, counted, when none is free). */
void tcp_enter_time_wait(struct dtcp_worker *w, struct dtcp_tcb *c);
void tcp_tw_restart(struct dtcp_worker *w, struct dtcp_tw *tw);
void tcp_tw_free(struct dtcp_worker *w, struct dtcp_tw *tw);
void tcp_free_dead(struct dtcp_worker *w);
void tcp_ooo_free(struct dtcp_worker *w, struct dtcp_tcb *c);

/* tcp_secret.c: keyed functions of the 4-tuple (SipHash-2-4 from libsodium). */
void tcp_secret_init(struct dtcp_worker *w);
uint32_t tcp_isn(struct dtcp_worker *w, const struct dtcp_flow_key *k);
uint32_t tcp_ts_offset(const struct dtcp_worker *w, const struct dtcp_flow_key *k);
/* SYN cookies: the ISS for a SYN, and the MSS and options an ACK's cookie vouches for. */
#define TCP_COOKIE_NO_TS 0xff
uint32_t tcp_cookie_make(const struct dtcp_worker *w, const struct dtcp_flow_key *k,
			 uint32_t irs, uint16_t mss, uint8_t optbits, uint16_t *mss_out);
bool tcp_cookie_check(const struct dtcp_worker *w, const struct dtcp_flow_key *k,
		      uint32_t irs, uint32_t cookie, uint8_t optbits, uint16_t *mss_out);
/* Option bits carried in the low 6 bits of a cookie SYN-ACK's TSval. */
#define TCP_COOKIE_OPT_MASK 0x3f
#define TCP_COOKIE_WS_NONE 0xf
#define TCP_COOKIE_SACK 0x10

static inline void
tcp_ts_recent_set(const struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t tsval)
{
	c->ts_recent = tsval;
	c->ts_recent_ns = w->now_ns;
}

/* tcp_opts.c */
/* Parse options of a header with hlen bytes; false when malformed. */
bool tcp_opts_parse(const uint8_t *p, unsigned len, struct dtcp_tcp_opts *o);

/* tcp_output.c */
static inline uint32_t tcp_ts_now(const struct dtcp_worker *w) { return (uint32_t)(w->now_ns / 1000000); }
void tcp_send_syn(struct dtcp_worker *w, struct dtcp_tcb *c);
void tcp_send_ack(struct dtcp_worker *w, struct dtcp_tcb *c);
void tcp_send_rst(struct dtcp_worker *w, struct dtcp_tcb *c);
void tcp_send_keepalive(struct dtcp_worker *w, struct dtcp_tcb *c);
/* A RST (or RST,ACK) for a segment without a connection (§3.10.7.1). */
void tcp_reply_rst(struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t seq,
		   uint32_t ack, bool with_ack);
void tcp_tw_send_ack(struct dtcp_worker *w, struct dtcp_tw *tw);
/* Everything the window allows, FIN when due, and an owed ACK. */
void tcp_output(struct dtcp_worker *w, struct dtcp_tcb *c);
static inline void
tcp_schedule_output(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	if (!c->in_out) {
		c->in_out = true;
		c->out_next = w->tcp->out_head;
		w->tcp->out_head = c;
	}
}
void tcp_output_all(struct dtcp_worker *w);
/* The retransmission timer from now: RTO, or the loss probe timeout when one may go. */
void tcp_rtx_arm(struct dtcp_worker *w, struct dtcp_tcb *c);
/* RFC 8985 §7.3: the probe timeout fired; send the loss probe. */
void tcp_tlp_send(struct dtcp_worker *w, struct dtcp_tcb *c);
/* Advertised receive window (what RCV.WND is now), never shrinking the right edge. */
uint32_t tcp_rcv_wnd(const struct dtcp_worker *w, const struct dtcp_tcb *c);
uint16_t tcp_mss_for(const struct dtcp_worker *w, const struct dtcp_tcb *c);
void tcp_snd_q_drop(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t bytes);
/* Resend the first unacknowledged segment (or the FIN), SND.NXT untouched. */
void tcp_retransmit_una(struct dtcp_worker *w, struct dtcp_tcb *c);
/* Payload bytes a segment may carry now: SMSS less the SACK blocks our ACKs carry. */
uint16_t tcp_seg_room(const struct dtcp_tcb *c);

/* tcp_sack.c: the sender's scoreboard and RFC 6675 loss recovery. */
/* Take the SACK blocks of an acceptable ACK; true when they SACK something new. */
bool tcp_sack_update(struct dtcp_worker *w, struct dtcp_tcb *c, const struct dtcp_seg *s);
/* SND.UNA moved: forget ranges below it; the board goes back when nothing is outstanding. */
void tcp_sack_trim(struct dtcp_worker *w, struct dtcp_tcb *c);
void tcp_sack_free(struct dtcp_worker *w, struct dtcp_tcb *c);
/* A timeout: recovery goes on from SND.UNA with every hole counted lost. False without a board. */
bool tcp_sack_rto(struct dtcp_tcb *c);
/* A hole at seq resent outside NextSeg() (the first at recovery's start): watch it. */
void tcp_sack_note_rexmit(struct dtcp_tcb *c, uint32_t seq);
/* RFC 6675 IsLost(seq). */
bool tcp_sack_is_lost(const struct dtcp_tcb *c, uint32_t seq);
/* RFC 6675 §5 step 4: the sending of loss recovery, as cwnd and pipe allow. */
bool tcp_sack_output(struct dtcp_worker *w, struct dtcp_tcb *c);
/* If seq lies in a SACKed range, where that range ends; else seq. And the
 * start of the next SACKed range above seq, or `limit`. */
uint32_t tcp_sack_skip(const struct dtcp_tcb *c, uint32_t seq, uint32_t *next_start,
		       uint32_t limit);
/* tcp_output.c, for tcp_sack.c: [seq, seq + len) of the send queue again, with the FIN when it ends there. */
bool tcp_send_old(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t seq, uint32_t len);
/* New data from SND.NXT, at most len bytes; false when nothing could go. */
bool tcp_send_new(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t len);

/* tcp_timer.c */
uint64_t tcp_deadline_tick(const struct dtcp_worker *w, uint64_t after_ns);
void tcp_rtt_sample(struct dtcp_worker *w, struct dtcp_tcb *c, uint32_t rtt_us);
void dtcp_tcp_timer(struct dtcp_worker *w, struct dtcp_timer *t);
void tcp_keepalive_arm(struct dtcp_worker *w, struct dtcp_tcb *c);
void tcp_tw_expire(struct dtcp_worker *w);

/* tcp_input.c: m starts at the TCP header. Consumes m. */
void dtcp_tcp_input(struct dtcp_worker *w, struct rte_mbuf *m, const struct dtcp_ipv4_info *ip);
/* An ICMP error quoting one of our segments: inner is the quoted IP header. Consumes m. */
void dtcp_tcp_icmp_error(struct dtcp_worker *w, struct rte_mbuf *m, uint8_t type, uint8_t code,
			 uint16_t mtu, const struct rte_ipv4_hdr *inner, const uint8_t *l4);

/* tcp_api.c: events. */
static inline void
tcp_event(struct dtcp_worker *w, struct dtcp_tcb *c, uint8_t bits)
{
	struct dtcp_tcp *t = w->tcp;

	c->ev |= bits;
	if (c->fn == NULL || c->in_ev || c->orphan)
		return;
	c->in_ev = true;
	c->ev_next = NULL;
	if (t->ev_tail != NULL)
		t->ev_tail->ev_next = c;
	else
		t->ev_head = c;
	t->ev_tail = c;
}
void tcp_deliver_events(struct dtcp_worker *w);

#ifdef __cplusplus
}
#endif
#endif
