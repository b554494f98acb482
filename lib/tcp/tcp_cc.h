/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Congestion control behind an ops struct: NewReno (RFC 5681 counting bytes
 * as RFC 3465 does, L = 2 SMSS, and RFC 6582's fast recovery windows) and
 * CUBIC (RFC 9438).
 *
 * Loss detection stays with the caller (duplicate ACK counting, `recover`,
 * the retransmission timer); these hooks only do the window arithmetic at
 * the points RFC 5681 §3 and RFC 6582 §3.2 name. Windows are in bytes; the
 * RFCs' formulas are in segments and are scaled by SMSS where they apply.
 * The clock is an argument (nanoseconds), never read here.
 *
 * Where the caller calls what (tcp_input.c / tcp_timer.c today):
 *   SYN options known, SMSS set        init(cc, snd_mss, now)
 *   SMSS changes later (RFC 1191)      dtcp_cc_set_mss(cc, snd_mss)
 *   ACK of new data, not in recovery   on_ack(cc, data_acked, flight, now, srtt_us)
 *   third duplicate ACK, new loss      on_loss(cc, flight, now)
 *   each further duplicate in recovery on_dupack(cc)
 *   partial ACK (below `recover`)      on_partial_ack(cc, data_acked)
 *   full ACK (at or past `recover`)    on_recovery_end(cc, flight, now)
 *   retransmission timeout with data   on_rto(cc, flight, now)
 * flight is always SND.MAX - SND.UNA at the moment of the call, that is
 * after the ACK in hand moved SND.UNA. on_ack is not called for the ACK
 * that ends recovery nor for partial ACKs (RFC 6582 §3.2 steps 3 and 5 set
 * the window themselves), and does nothing when data_acked is 0 (a SYN or
 * FIN acknowledged alone).
 */
#ifndef DTCP_TCP_CC_H
#define DTCP_TCP_CC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bits of dtcp_cc.flags. */
enum {
	DTCP_CC_F_RECOVERY  = 1 << 0, /* between on_loss and on_recovery_end or on_rto */
	DTCP_CC_F_RTO       = 1 << 1, /* after on_rto, until new data is acknowledged */
	DTCP_CC_F_EPOCH     = 1 << 2, /* CUBIC: a congestion avoidance stage is running */
	DTCP_CC_F_ALPHA_ONE = 1 << 3, /* CUBIC: W_est reached cwnd_prior, alpha is 1 (§4.3) */
	DTCP_CC_F_RTO_SS    = 1 << 4, /* slow start after a timeout: L = 1 SMSS (RFC 3465 §2.3) */
};

/*
 * CUBIC's variables (RFC 9438 §4.1.2), windows in bytes. W_cubic(t) is
 * evaluated in double precision: (t - K)^3 spans nanoseconds to hours
 * cubed, which fixed point would need 128-bit products or a lossy scale
 * for; a double's 53-bit mantissa keeps it well below a byte, and the
 * evaluation is multiplications only. The cube root (libm cbrt) is taken
 * once per congestion avoidance stage, when K is set. Fractional growth is
 * carried in the two credit counters so that the per-ACK path divides
 * only on a stretch ACK worth two segments or more of growth at once.
 */
struct dtcp_cc_cubic {
	uint64_t t_epoch_ns;  /* start of the current stage; moved on past app-limited time (§4.2) */
	uint64_t last_ns;     /* the previous ACK in this stage: how far to move t_epoch */
	uint64_t cwnd_acc;    /* sum of acked * (target - cwnd); one SMSS of growth per cwnd * SMSS */
	uint64_t est_acc;     /* sum of 17 * alpha * acked; one SMSS of W_est per 17 * cwnd */
	uint32_t w_max;       /* bytes; 0 while undefined (no loss yet, or after a timeout, §4.8) */
	uint32_t cwnd_prior;  /* cwnd when ssthresh was last set (§4.6) */
	uint32_t cwnd_epoch;  /* cwnd when the current stage began */
	uint32_t w_est;       /* Reno-friendly estimate (§4.3), bytes */
	uint32_t k_us;        /* K of Figure 2, microseconds */
};

/*
 * Per-connection state, embedded in the TCB: 72 bytes on x86-64 (12 bytes
 * common, 4 of padding to align the union, 56 of CUBIC). cwnd and ssthresh
 * here are the connection's: the sender reads cwnd from here.
 */
struct dtcp_cc {
	uint32_t cwnd;        /* bytes (RFC 5681 §2) */
	uint32_t ssthresh;    /* bytes */
	uint16_t mss;         /* SMSS in bytes, as the sender uses it */
	uint8_t flags;        /* DTCP_CC_F_* */
	uint8_t reserved;
	union {
		struct dtcp_cc_cubic cubic;  /* NewReno keeps nothing beyond the common part */
	};
};

struct dtcp_cc_ops {
	const char *name;
	/* A new connection: IW (RFC 6928), ssthresh arbitrarily high (RFC 5681 §3.1). */
	void (*init)(struct dtcp_cc *cc, uint32_t mss, uint64_t now_ns);
	/* New data acknowledged outside recovery: slow start or congestion avoidance. */
	void (*on_ack)(struct dtcp_cc *cc, uint32_t acked_bytes, uint32_t flight, uint64_t now_ns,
		       uint32_t srtt_us);
	/* Fast retransmit (RFC 5681 §3.2 steps 2-3): ssthresh, and cwnd = ssthresh + 3 SMSS. */
	void (*on_loss)(struct dtcp_cc *cc, uint32_t flight, uint64_t now_ns);
	/* A further duplicate ACK during recovery (RFC 5681 §3.2 step 4): inflate by SMSS. */
	void (*on_dupack)(struct dtcp_cc *cc);
	/* A partial ACK (RFC 6582 §3.2 step 5): deflate by what it acknowledged, plus SMSS. */
	void (*on_partial_ack)(struct dtcp_cc *cc, uint32_t acked_bytes);
	/* A full ACK (RFC 6582 §3.2 step 3, first option): cwnd = min(ssthresh, max(flight, SMSS) + SMSS). */
	void (*on_recovery_end)(struct dtcp_cc *cc, uint32_t flight, uint64_t now_ns);
	/* Retransmission timeout (RFC 5681 §3.1, RFC 9438 §4.8): cwnd = 1 SMSS, ends recovery. */
	void (*on_rto)(struct dtcp_cc *cc, uint32_t flight, uint64_t now_ns);
};

extern const struct dtcp_cc_ops dtcp_cc_newreno_ops;
extern const struct dtcp_cc_ops dtcp_cc_cubic_ops;

/* The implementation called name ("newreno", "cubic"), NULL if none is. */
const struct dtcp_cc_ops *dtcp_cc_find(const char *name);

/* RFC 6928: IW = min(10 * SMSS, max(2 * SMSS, 14600)). */
uint32_t dtcp_cc_initial_window(uint32_t mss);

/* The sender's SMSS changed (path MTU): later arithmetic uses the new one; cwnd stays. */
static inline void
dtcp_cc_set_mss(struct dtcp_cc *cc, uint32_t mss)
{
	cc->mss = (uint16_t)mss;
}

#ifdef __cplusplus
}
#endif
#endif
