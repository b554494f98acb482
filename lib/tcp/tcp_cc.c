/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NewReno (RFC 5681, RFC 3465 L=2, RFC 6582) and CUBIC (RFC 9438) window
 * arithmetic. See tcp_cc.h for where the stack calls each hook.
 *
 * CUBIC here: Reno slow start below ssthresh (RFC 9438 §4.10 allows it;
 * HyStart++ is not implemented, so the first slow start ends with a loss),
 * fast convergence on (§4.7), ssthresh from FlightSize (§4.6),
 * NewReno's fast recovery around it (§4.2: CUBIC leaves fast recovery to
 * RFC 6582), no ECN reduction (the stack has no ECN), no undo of spurious
 * congestion events (§4.9: nothing here detects them).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "tcp_cc.h"

_Static_assert(sizeof(struct dtcp_cc) == 72, "tcp_cc.h documents the size");

/* RFC 5681 §3.1: ssthresh "arbitrarily high" at first; half the range, so sums cannot wrap. */
#define SSTHRESH_INITIAL (UINT32_MAX / 2)

static inline uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }
static inline uint32_t max_u32(uint32_t a, uint32_t b) { return a > b ? a : b; }

/* cwnd + add, held at UINT32_MAX rather than wrapping to a tiny window. */
static inline uint32_t
add_sat(uint32_t a, uint64_t add)
{
	uint64_t s = (uint64_t)a + add;

	return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

uint32_t
dtcp_cc_initial_window(uint32_t mss)
{
	return min_u32(10u * mss, max_u32(2u * mss, 14600u));
}

/*
 * RFC 5681 §3.1: slow start by the bytes acknowledged (RFC 3465), at most
 * L = 2 SMSS per ACK, so a delayed ACK of two segments counts as two ACKs.
 * In the slow start that follows a timeout L is 1 SMSS (RFC 3465 §2.3):
 * ACKs then jump over data the peer already held, and would count it.
 */
static void
slow_start(struct dtcp_cc *cc, uint32_t acked)
{
	uint32_t l = (cc->flags & DTCP_CC_F_RTO_SS) ? cc->mss : 2u * cc->mss;

	cc->cwnd = add_sat(cc->cwnd, min_u32(acked, l));
	if (cc->cwnd >= cc->ssthresh)
		cc->flags &= (uint8_t)~DTCP_CC_F_RTO_SS;
}

/* Fast recovery as RFC 6582 runs it, the same around either ssthresh rule. */

/* RFC 5681 §3.2 step 4: each further duplicate ACK stands for a segment that left. */
static void
recovery_dupack(struct dtcp_cc *cc)
{
	cc->cwnd = add_sat(cc->cwnd, cc->mss);
}

/*
 * RFC 6582 §3.2 step 5: deflate by the amount acknowledged, and add back
 * one SMSS when that was at least one SMSS.
 */
static void
recovery_partial_ack(struct dtcp_cc *cc, uint32_t acked)
{
	cc->cwnd = (cc->cwnd > acked ? cc->cwnd - acked : 0) + (acked >= cc->mss ? cc->mss : 0);
}

/* RFC 6582 §3.2 step 3, the first option: min(ssthresh, max(FlightSize, SMSS) + SMSS). */
static void
recovery_end(struct dtcp_cc *cc, uint32_t flight)
{
	cc->cwnd = min_u32(cc->ssthresh, add_sat(max_u32(flight, cc->mss), cc->mss));
	cc->flags &= (uint8_t)~DTCP_CC_F_RECOVERY;
}

/* ---- NewReno ---- */

static void
newreno_init(struct dtcp_cc *cc, uint32_t mss, uint64_t now_ns)
{
	(void)now_ns;
	memset(cc, 0, sizeof(*cc));
	cc->mss = (uint16_t)mss;
	cc->cwnd = dtcp_cc_initial_window(mss);
	cc->ssthresh = SSTHRESH_INITIAL;
}

/*
 * RFC 5681 §3.1: below ssthresh slow start; at or above it about one SMSS
 * per RTT: equation 3 counted in bytes (RFC 3465 §2.1), SMSS * acked / cwnd
 * per ACK, at least one byte. With one ACK per segment that is SMSS*SMSS/cwnd.
 */
static void
newreno_on_ack(struct dtcp_cc *cc, uint32_t acked, uint32_t flight, uint64_t now_ns,
	       uint32_t srtt_us)
{
	(void)flight;
	(void)now_ns;
	(void)srtt_us;
	if (acked == 0)
		return;
	cc->flags &= (uint8_t)~DTCP_CC_F_RTO;
	if (cc->cwnd < cc->ssthresh)
		slow_start(cc, acked);
	else
		cc->cwnd = add_sat(cc->cwnd,
				   max_u32((uint32_t)((uint64_t)cc->mss * acked / cc->cwnd), 1u));
}

/* RFC 5681 §3.2 step 2 (equation 4), step 3; RFC 6582 §3.2 step 2. */
static void
newreno_on_loss(struct dtcp_cc *cc, uint32_t flight, uint64_t now_ns)
{
	(void)now_ns;
	cc->ssthresh = max_u32(flight / 2, 2u * cc->mss);
	cc->cwnd = cc->ssthresh + 3u * cc->mss;
	cc->flags = (uint8_t)((cc->flags & ~(DTCP_CC_F_RTO | DTCP_CC_F_RTO_SS)) | DTCP_CC_F_RECOVERY);
}

static void
newreno_on_recovery_end(struct dtcp_cc *cc, uint32_t flight, uint64_t now_ns)
{
	(void)now_ns;
	recovery_end(cc, flight);
}

/* RFC 5681 §3.1: equation 4 again, and the loss window of one SMSS. */
static void
newreno_on_rto(struct dtcp_cc *cc, uint32_t flight, uint64_t now_ns)
{
	(void)now_ns;
	cc->ssthresh = max_u32(flight / 2, 2u * cc->mss);
	cc->cwnd = cc->mss;
	cc->flags = (uint8_t)((cc->flags & ~DTCP_CC_F_RECOVERY) | DTCP_CC_F_RTO | DTCP_CC_F_RTO_SS);
}

const struct dtcp_cc_ops dtcp_cc_newreno_ops = {
	.name = "newreno",
	.init = newreno_init,
	.on_ack = newreno_on_ack,
	.on_loss = newreno_on_loss,
	.on_dupack = recovery_dupack,
	.on_partial_ack = recovery_partial_ack,
	.on_recovery_end = newreno_on_recovery_end,
	.on_rto = newreno_on_rto,
};

/* ---- CUBIC (RFC 9438) ---- */

/* §4.1.1: C = 0.4 segments/s^3; beta_cubic = 7/10; alpha_cubic = 3(1 - beta)/(1 + beta) = 9/17. */
static const double CUBIC_C = 0.4;
enum {
	BETA_NUM = 7, BETA_DEN = 10,
	ALPHA_NUM = 9, ALPHA_DEN = 17,
	/* §4.7: (1 + beta_cubic) / 2 = 17/20. */
	FC_NUM = 17, FC_DEN = 20,
};

/* §4.6: ssthresh = max(flight_size * beta_cubic, 2 SMSS). Once per congestion event. */
static uint32_t
cubic_ssthresh(const struct dtcp_cc *cc, uint32_t flight)
{
	return max_u32((uint32_t)((uint64_t)flight * BETA_NUM / BETA_DEN), 2u * cc->mss);
}

/*
 * Whole units of credit in *acc, taken out of it; the rest stays for the
 * next ACK. One unit or none is the usual case and needs no division.
 */
static uint64_t
credit_take(uint64_t *acc, uint64_t unit)
{
	uint64_t n;

	if (*acc < unit)
		return 0;
	if (*acc < 2 * unit) {
		*acc -= unit;
		return 1;
	}
	n = *acc / unit;
	*acc -= n * unit;
	return n;
}

/* Figure 1 in bytes: W_cubic(t) = C * SMSS * (t - K)^3 + W_max, t in ns since t_epoch. */
static double
cubic_w(const struct dtcp_cc *cc, uint64_t t_ns)
{
	double d = ((double)t_ns - (double)cc->cubic.k_us * 1e3) * 1e-9;

	return CUBIC_C * cc->mss * d * d * d + cc->cubic.w_max;
}

static void
cubic_init(struct dtcp_cc *cc, uint32_t mss, uint64_t now_ns)
{
	newreno_init(cc, mss, now_ns);
}

/*
 * §4.2: a congestion avoidance stage begins. K by Figure 2 from this
 * stage's cwnd, 0 if that is above W_max. When W_max is undefined (after
 * a timeout, §4.8, or a slow start that ended without a loss, §4.10) it
 * is the cwnd now, and so is cwnd_prior if none was set. W_est starts at
 * cwnd_epoch (§4.3). The one cube root of the congestion event.
 */
static void
cubic_epoch_start(struct dtcp_cc *cc, uint64_t now_ns)
{
	struct dtcp_cc_cubic *cu = &cc->cubic;

	cu->t_epoch_ns = now_ns;
	cu->last_ns = now_ns;
	cu->cwnd_epoch = cc->cwnd;
	cu->w_est = cc->cwnd;
	cu->cwnd_acc = 0;
	cu->est_acc = 0;
	if (cu->w_max == 0) {
		cu->w_max = cc->cwnd;
		if (cu->cwnd_prior == 0)
			cu->cwnd_prior = cc->cwnd;
	}
	if (cu->w_max > cu->cwnd_epoch)
		cu->k_us = (uint32_t)(cbrt((double)(cu->w_max - cu->cwnd_epoch) /
					   (CUBIC_C * cc->mss)) * 1e6);
	else
		cu->k_us = 0;
	cc->flags |= DTCP_CC_F_EPOCH;
	if (cu->w_est >= cu->cwnd_prior)
		cc->flags |= DTCP_CC_F_ALPHA_ONE;
	else
		cc->flags &= (uint8_t)~DTCP_CC_F_ALPHA_ONE;
}

/*
 * §4.2 to §4.5, on each ACK of new data in congestion avoidance:
 *  - §4.3: W_est += alpha_cubic * segments_acked / cwnd, alpha 1 from
 *    the moment W_est reaches cwnd_prior (§4.3);
 *  - W_cubic(t) < W_est: the Reno-friendly region, cwnd = W_est;
 *  - otherwise concave or convex: cwnd += (target - cwnd) / cwnd per
 *    segment acknowledged, target W_cubic(t + RTT) within [cwnd, 1.5 cwnd].
 * Counting acknowledged bytes rather than ACKs keeps the growth per RTT the
 * same with delayed ACKs; with one ACK per segment it is the RFC's rule.
 * §4.2: t leaves out time the sender was not using its window: an ACK
 * that finds a full SMSS or more of the window unused before it (flight
 * + acked + SMSS <= cwnd) moves t_epoch on by the time since the previous
 * ACK and grows nothing.
 */
static void
cubic_on_ack(struct dtcp_cc *cc, uint32_t acked, uint32_t flight, uint64_t now_ns,
	     uint32_t srtt_us)
{
	struct dtcp_cc_cubic *cu = &cc->cubic;
	uint64_t t_ns, n;
	double w_t, w_rtt;
	uint32_t target, cwnd_max;

	if (acked == 0)
		return;
	cc->flags &= (uint8_t)~DTCP_CC_F_RTO;
	if (cc->cwnd < cc->ssthresh) {
		slow_start(cc, acked);
		return;
	}
	if ((uint64_t)flight + acked + cc->mss <= cc->cwnd) {
		/* Application limited (§4.2, §5.8; RFC 7661): the curve waits. */
		if ((cc->flags & DTCP_CC_F_EPOCH) && now_ns > cu->last_ns) {
			cu->t_epoch_ns += now_ns - cu->last_ns;
			cu->last_ns = now_ns;
		}
		return;
	}
	if (!(cc->flags & DTCP_CC_F_EPOCH))
		cubic_epoch_start(cc, now_ns);
	cu->last_ns = now_ns;
	t_ns = now_ns > cu->t_epoch_ns ? now_ns - cu->t_epoch_ns : 0;

	cu->est_acc += (uint64_t)acked * ((cc->flags & DTCP_CC_F_ALPHA_ONE) ? ALPHA_DEN : ALPHA_NUM);
	n = credit_take(&cu->est_acc, (uint64_t)ALPHA_DEN * cc->cwnd);
	if (n > 0) {
		cu->w_est = add_sat(cu->w_est, n * cc->mss);
		if (cu->w_est >= cu->cwnd_prior)
			cc->flags |= DTCP_CC_F_ALPHA_ONE;
	}

	/* W_cubic(t) < W_est, the fraction of a segment in est_acc counted:
	 * W_est = w_est + SMSS * est_acc / (17 * cwnd), multiplied out. */
	w_t = cubic_w(cc, t_ns);
	if ((w_t - cu->w_est) * ALPHA_DEN * cc->cwnd < (double)cu->est_acc * cc->mss) {
		/* Reno-friendly region (§4.3). An ACK never shrinks the window. */
		if (cc->cwnd < cu->w_est)
			cc->cwnd = cu->w_est;
		return;
	}
	/* Concave (§4.4) or convex (§4.5) region. */
	w_rtt = cubic_w(cc, t_ns + (uint64_t)srtt_us * 1000);
	cwnd_max = add_sat(cc->cwnd, cc->cwnd / 2);
	if (w_rtt <= cc->cwnd)
		return;
	target = w_rtt >= cwnd_max ? cwnd_max : (uint32_t)w_rtt;
	cu->cwnd_acc += (uint64_t)acked * (target - cc->cwnd);
	n = credit_take(&cu->cwnd_acc, (uint64_t)cc->cwnd * cc->mss);
	if (n > 0)
		cc->cwnd = add_sat(cc->cwnd, n * cc->mss);
}

/*
 * §4.6 and §4.7 at the third duplicate ACK: W_max with fast convergence,
 * cwnd_prior, ssthresh = max(flight * beta, 2 SMSS); then RFC 6582's
 * recovery from cwnd = ssthresh + 3 SMSS. At recovery's end cwnd is at
 * most ssthresh and at least 2 SMSS (§4.6: "cwnd is at least 2 SMSS" on
 * a loss). The next stage starts at the first ACK after recovery.
 */
static void
cubic_on_loss(struct dtcp_cc *cc, uint32_t flight, uint64_t now_ns)
{
	struct dtcp_cc_cubic *cu = &cc->cubic;

	(void)now_ns;
	if (cc->cwnd < cu->w_max)
		cu->w_max = (uint32_t)((uint64_t)cc->cwnd * FC_NUM / FC_DEN);
	else
		cu->w_max = cc->cwnd;
	cu->cwnd_prior = cc->cwnd;
	cc->ssthresh = cubic_ssthresh(cc, flight);
	cc->cwnd = cc->ssthresh + 3u * cc->mss;
	cc->flags = (uint8_t)((cc->flags & ~(DTCP_CC_F_RTO | DTCP_CC_F_RTO_SS | DTCP_CC_F_EPOCH)) |
			      DTCP_CC_F_RECOVERY);
}

static void
cubic_on_recovery_end(struct dtcp_cc *cc, uint32_t flight, uint64_t now_ns)
{
	(void)now_ns;
	recovery_end(cc, flight);
}

/*
 * §4.8: cwnd as Reno (one SMSS, RFC 5681 §3.1), ssthresh as §4.6. The
 * first stage after it runs with K = 0 and W_max = its cwnd_epoch, so
 * W_max is forgotten here. cwnd_prior is the window when the timeout hit;
 * a timeout again before new data is acknowledged, or one during fast
 * recovery, is the same congestion event and keeps it (RFC 5681 §3.1
 * holds ssthresh across backed-off timeouts; FlightSize is unchanged then,
 * so recomputing it gives the same value).
 */
static void
cubic_on_rto(struct dtcp_cc *cc, uint32_t flight, uint64_t now_ns)
{
	struct dtcp_cc_cubic *cu = &cc->cubic;

	(void)now_ns;
	if (!(cc->flags & (DTCP_CC_F_RTO | DTCP_CC_F_RECOVERY)))
		cu->cwnd_prior = cc->cwnd;
	cu->w_max = 0;
	cc->ssthresh = cubic_ssthresh(cc, flight);
	cc->cwnd = cc->mss;
	cc->flags = (uint8_t)((cc->flags & ~(DTCP_CC_F_RECOVERY | DTCP_CC_F_EPOCH)) |
			      DTCP_CC_F_RTO | DTCP_CC_F_RTO_SS);
}

const struct dtcp_cc_ops dtcp_cc_cubic_ops = {
	.name = "cubic",
	.init = cubic_init,
	.on_ack = cubic_on_ack,
	.on_loss = cubic_on_loss,
	.on_dupack = recovery_dupack,
	.on_partial_ack = recovery_partial_ack,
	.on_recovery_end = cubic_on_recovery_end,
	.on_rto = cubic_on_rto,
};

static const struct dtcp_cc_ops *const all_ops[] = { &dtcp_cc_newreno_ops, &dtcp_cc_cubic_ops };

const struct dtcp_cc_ops *
dtcp_cc_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(all_ops) / sizeof(all_ops[0]); i++)
		if (strcmp(all_ops[i]->name, name) == 0)
			return all_ops[i];
	return NULL;
}
