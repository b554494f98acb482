/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DTCP_WORKER_H
#define DTCP_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <dtcp/config.h>
#include <dtcp/counters.h>
#include <dtcp/port.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dtcp_worker;

/*
 * A worker owns one port queue pair and everything behind it: ARP cache,
 * reassembly table, timer wheel and counters. It is driven by one lcore and
 * touched by no other (counters excepted, which readers only sum).
 * now_ns is the caller's clock: the worker never reads one.
 */
struct dtcp_worker *dtcp_worker_create(const struct dtcp_config *cfg,
				       struct dtcp_port *port, unsigned id,
				       uint64_t now_ns, char *err, size_t errlen);
/* Frees everything the worker holds; the port stays the caller's. */
void dtcp_worker_destroy(struct dtcp_worker *w);

/*
 * Let go of every packet held for later (waiting on ARP, in reassembly),
 * each counted as a drop, and flush TX: before a final report, so that it
 * shows what stopping cost. The worker stays usable.
 */
void dtcp_worker_release_held(struct dtcp_worker *w);

/* Announce our addresses with gratuitous ARP. */
void dtcp_worker_announce(struct dtcp_worker *w);

/*
 * One loop iteration at time now_ns: RX burst, process, flush TX, advance
 * timers. Returns the number of frames received.
 */
unsigned dtcp_worker_poll(struct dtcp_worker *w, uint64_t now_ns);

/* Loop on the calling lcore until *stop becomes true, reading the TSC once per iteration. */
void dtcp_worker_run(struct dtcp_worker *w, volatile bool *stop);

/* The worker's counters (DTCP_CTR_MAX of them). */
const uint64_t *dtcp_worker_counters(const struct dtcp_worker *w);
unsigned dtcp_worker_id(const struct dtcp_worker *w);

/* TSC to nanoseconds, for callers that drive dtcp_worker_poll themselves. */
uint64_t dtcp_tsc_to_ns(uint64_t tsc);

/*
 * Make the worker's counters visible through rte_telemetry as /dtcp/stats
 * (sum over workers) and /dtcp/worker_stats,<id>. Control path; call
 * after EAL init. Unregistered by dtcp_worker_destroy.
 */
int dtcp_telemetry_register(struct dtcp_worker *w);
/* Sum of every registered worker's counters into out[DTCP_CTR_MAX]. */
void dtcp_stats_sum(uint64_t *out);
/* Print non-zero counters of out[] as "name value  # desc" lines. */
void dtcp_stats_print(const uint64_t *ctr, void *file);

/*
 * rte_eal_init, but when no hugepage is free (or hugetlbfs is not mounted)
 * and the arguments do not already choose, add --no-huge and -m 1024.
 * Returns what rte_eal_init returns (arguments consumed).
 */
int dtcp_eal_init(int argc, char **argv);

#ifdef __cplusplus
}
#endif
#endif
