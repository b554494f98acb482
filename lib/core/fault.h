/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The fault stage ([fault]): a lossy wire inside the worker, for tests and
 * benchmarks over virtual links that lose nothing by themselves. Received
 * frames are dropped after the RX burst, before any processing; frames to
 * send, before the TX burst. Each drop is counted (fault_rx_drop,
 * fault_tx_drop). Off by default, and then the worker only tests a flag.
 */
#ifndef DTCP_FAULT_H
#define DTCP_FAULT_H

#include "worker_priv.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Thresholds and generators from cfg; a direction at 0 % stays off. */
void dtcp_fault_init(struct dtcp_worker *w, const struct dtcp_config *cfg);

/*
 * Drop [fault] rx_loss percent of pkts[0..n), each counted and freed with
 * the burst's other drops. The frames kept close up, in order; returns
 * how many.
 */
uint16_t dtcp_fault_rx(struct dtcp_worker *w, struct rte_mbuf **pkts, uint16_t n);

/* Drop [fault] tx_loss percent of the frames waiting for the TX burst, counted and freed. */
void dtcp_fault_tx(struct dtcp_worker *w);

#ifdef __cplusplus
}
#endif
#endif
