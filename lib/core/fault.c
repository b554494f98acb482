/* SPDX-License-Identifier: BSD-3-Clause */
/* The fault stage: frames lost at random, at a configured rate, from a seed. */
#include "fault.h"

/*
 * SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): an add and two
 * multiplies a number, any seed (0 too), period 2^64; more than enough to
 * choose frames to lose. Written here because no DPDK generator can be
 * seeded per worker: rte_rand() draws from per-lcore states that all
 * come from the one rte_srand(), so the frames lost would depend on the
 * lcore a worker runs on and on everything else that calls rte_rand().
 */
static inline uint64_t
splitmix64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* True with probability thr / 2^32: the top 32 bits of a draw against the threshold. */
static inline bool
fault_hit(uint64_t *state, uint64_t thr)
{
	return splitmix64(state) >> 32 < thr;
}

/*
 * A percentage as a threshold in 2^-32 units, rounded, so that the data
 * path compares instead of dividing. 100 % is 2^32, above every 32-bit
 * draw; the smallest rate the configuration takes (10^-6 %) is 43.
 */
static uint64_t
threshold(double percent)
{
	return (uint64_t)(percent / 100.0 * 4294967296.0 + 0.5);
}

/*
 * One stream per worker and direction, so that what one direction draws
 * never shifts the other's choices. The start is hashed: SplitMix64
 * states a small step apart would give the same sequence, shifted.
 */
static uint64_t
stream_start(uint32_t seed, unsigned id, unsigned direction)
{
	uint64_t s = (uint64_t)seed << 32 | (uint64_t)(id & 0x7fffffffu) << 1 | direction;

	return splitmix64(&s);
}

void
dtcp_fault_init(struct dtcp_worker *w, const struct dtcp_config *cfg)
{
	w->fault_rx_thr = threshold(cfg->fault_rx_loss);
	w->fault_tx_thr = threshold(cfg->fault_tx_loss);
	w->fault_rx_rng = stream_start(cfg->fault_seed, w->id, 0);
	w->fault_tx_rng = stream_start(cfg->fault_seed, w->id, 1);
	w->fault_rx = w->fault_rx_thr != 0;
	w->fault_tx = w->fault_tx_thr != 0;
}

uint16_t
dtcp_fault_rx(struct dtcp_worker *w, struct rte_mbuf **pkts, uint16_t n)
{
	uint16_t kept = 0;

	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		if (fault_hit(&w->fault_rx_rng, w->fault_rx_thr)) {
			/* Received all the same: its bytes count, as a frame dropped later would. */
			ctr_add(w, DTCP_CTR_rx_bytes, m->pkt_len);
			dtcp_rx_drop(w, m, DTCP_CTR_fault_rx_drop);
		} else {
			pkts[kept++] = m;
		}
	}
	return kept;
}

void
dtcp_fault_tx(struct dtcp_worker *w)
{
	uint16_t kept = 0;

	for (uint16_t i = 0; i < w->tx_n; i++) {
		if (fault_hit(&w->fault_tx_rng, w->fault_tx_thr))
			dtcp_tx_drop(w, w->tx[i], DTCP_CTR_fault_tx_drop);
		else
			w->tx[kept++] = w->tx[i];
	}
	w->tx_n = kept;
}
