/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DTCP_CONFIG_H
#define DTCP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

#ifdef __cplusplus
extern "C" {
#endif

#define DTCP_MAX_ADDRS 8
#define DTCP_ARP_PENDING_MAX 16   /* hard cap of arp.pending_per_entry */
#define DTCP_OOO_MAX 64           /* hard cap of tcp.ooo_segs */
/* Largest [port] tso_max: an IPv4 datagram of 65535 bytes less a 20-byte IP
 * header and the longest TCP header (60 bytes). */
#define DTCP_TSO_MAX (65535 - 20 - 60)

/* Congestion control algorithms ([tcp] congestion). */
enum dtcp_cc_algo {
	DTCP_CC_NEWRENO,          /* RFC 5681, RFC 6582 */
	DTCP_CC_CUBIC,            /* RFC 9438 */
};

/* [port] offloads, tso and lro. */
enum dtcp_offload_mode {
	DTCP_OFFLOAD_AUTO,        /* used when the port offers it */
	DTCP_OFFLOAD_OFF,         /* done in software */
};

/* An interface address; host byte order. */
struct dtcp_ifaddr {
	uint32_t addr;
	uint8_t prefix_len;
};

/*
 * Everything a worker needs to know, with defaults from
 * dtcp_config_defaults(). Sections and keys of the INI file are given
 * beside each field; the files in config/ are examples.
 */
struct dtcp_config {
	/* [port] */
	uint16_t mtu;                 /* mtu */
	struct rte_ether_addr mac;    /* mac (optional: the port's own MAC otherwise) */
	bool mac_set;
	uint16_t rx_desc;             /* rx_desc */
	uint16_t tx_desc;             /* tx_desc */
	uint16_t burst;               /* burst: frames per RX burst, <= DTCP_BURST_MAX */
	uint32_t mbufs;               /* mbufs: mbuf pool size per port */
	uint32_t mbuf_cache;          /* mbuf_cache: per-lcore mempool cache */
	uint16_t queues;              /* queues: RX/TX queue pairs = workers, one per
				       * lcore given to EAL with -l, in order */
	uint8_t offloads;             /* offloads = auto | off: IPv4 and TCP checksums, TSO
				       * and LRO by the port when it offers them; off: none */
	uint8_t tso;                  /* tso = auto | off: the port cuts large TCP frames
				       * into segments (with auto, needs TX checksums too) */
	uint8_t lro;                  /* lro = auto | off: the port joins received TCP segments */
	uint32_t tso_max;             /* tso_max: payload bytes of one TSO frame (<= DTCP_TSO_MAX) */

	/* [ip] */
	struct dtcp_ifaddr addrs[DTCP_MAX_ADDRS]; /* address = A.B.C.D/N (repeatable, comma separated) */
	unsigned n_addrs;
	bool addrs_given;             /* the default list was replaced */
	uint32_t gateway;             /* gateway = A.B.C.D (0: none) */
	uint8_t ttl;                  /* ttl */

	/* [arp] */
	uint32_t arp_entries;         /* entries: cache size */
	uint32_t arp_pending_per_entry; /* pending_per_entry: packets queued per unresolved hop */
	uint32_t arp_pending_max;     /* pending_max: packets queued on all unresolved hops */
	uint32_t arp_retries;         /* retries: requests sent before giving up */
	uint32_t arp_retry_ms;        /* retry_ms: interval between requests */
	uint32_t arp_reachable_ms;    /* reachable_ms: lifetime of a resolved entry */

	/* [frag] */
	uint32_t frag_max_flows;      /* max_flows: datagrams in reassembly at once */
	uint32_t frag_timeout_ms;     /* timeout_ms */

	/* [timer] */
	uint32_t timer_tick_us;       /* tick_us: timer wheel granularity */
	uint32_t timer_budget;        /* budget: timers fired per loop at most */

	/* [tcp]: tables and queues (every one bounded) */
	uint32_t tcp_max_conns;       /* max_conns: connections (TCBs) per worker, listeners included */
	uint32_t tcp_timewait_max;    /* timewait_max: TIME-WAIT records per worker */
	uint32_t tcp_listeners_max;   /* listeners_max: listening sockets per worker */
	uint32_t tcp_syn_backlog;     /* syn_backlog: SYN-RECEIVED connections per listener (default) */
	uint32_t tcp_accept_backlog;  /* accept_backlog: established, not yet accepted, per listener (default) */
	uint32_t tcp_mbufs_max;       /* mbufs_max: mbufs TCP may hold in send and receive queues per worker */
	uint32_t tcp_ooo_conns;       /* ooo_conns: connections holding out-of-order data at once, per worker (0: none) */
	uint16_t tcp_ooo_segs;        /* ooo_segs: out-of-order segments held per connection (<= DTCP_OOO_MAX) */
	uint32_t tcp_sack_conns;      /* sack_conns: connections with a SACK scoreboard at once, per worker (0: none) */
	uint8_t tcp_tlp;              /* tlp: tail loss probes (RFC 8985 §7) with SACK (0/1) */
	uint16_t tcp_tlp_min_ms;      /* tlp_min_ms: the probe timeout's floor */
	uint8_t tcp_rcv_sws;          /* rcv_sws: receiver silly window avoidance (RFC 9293 §3.8.6.2.2) (0/1) */
	uint16_t tcp_tx_copy_max;     /* tx_copy_max: a segment with at most this many payload bytes carries a copy in its header mbuf, not a reference (0: always a reference) */
	uint32_t tcp_sndbuf;          /* sndbuf: send buffer bytes per connection */
	uint32_t tcp_rcvbuf;          /* rcvbuf: receive window bytes per connection */
	uint16_t tcp_port_min;        /* port_min: first local port for active opens */
	uint16_t tcp_port_max;        /* port_max: last local port for active opens */
	/* [tcp]: options */
	uint16_t tcp_mss;             /* mss: MSS we announce (0: MTU - 40) */
	uint16_t tcp_mss_min;         /* mss_min: floor for the peer's MSS */
	uint8_t tcp_timestamps;       /* timestamps: RFC 7323 timestamps and PAWS (0/1) */
	uint8_t tcp_window_scale;     /* window_scale: RFC 7323 window scaling (0/1) */
	uint8_t tcp_sack;             /* sack: offer SACK-permitted (0/1) */
	uint8_t tcp_syncookies;       /* syncookies: 0 never, 1 when a SYN backlog is full, 2 always */
	/* [tcp]: times */
	uint32_t tcp_msl_ms;          /* msl_ms: maximum segment lifetime; TIME-WAIT lasts 2 MSL */
	uint32_t tcp_rto_init_ms;     /* rto_init_ms: RTO before any RTT sample (RFC 6298: 1 s) */
	uint32_t tcp_rto_min_ms;      /* rto_min_ms: lower bound on the RTO */
	uint32_t tcp_rto_max_ms;      /* rto_max_ms: upper bound on the RTO (RFC 6298: >= 60 s) */
	uint32_t tcp_syn_retries;     /* syn_retries: SYN retransmissions before giving up */
	uint32_t tcp_synack_retries;  /* synack_retries: SYN-ACK retransmissions before giving up */
	uint32_t tcp_retries;         /* retries: data retransmissions before giving up */
	uint32_t tcp_fin_timeout_ms;  /* fin_timeout_ms: FIN-WAIT-2 lifetime of a closed connection */
	uint32_t tcp_delack_ms;       /* delack_ms: longest wait of a delayed ACK (RFC 5681 §4.2: < 500; 0: none) */
	uint8_t tcp_nodelay;          /* nodelay: 1 turns Nagle's algorithm off for new connections (RFC 896) */
	uint8_t tcp_cc;               /* congestion = newreno | cubic (enum dtcp_cc_algo) */
	uint8_t tcp_keepalive;        /* keepalive: on for every new connection (0/1) */
	uint32_t tcp_keepalive_idle_s; /* keepalive_idle_s (RFC 1122: 7200) */
	uint32_t tcp_keepalive_intvl_s; /* keepalive_intvl_s (75) */
	uint32_t tcp_keepalive_cnt;   /* keepalive_cnt: unanswered probes before giving up (9) */
	uint32_t tcp_challenge_ack_limit; /* challenge_ack_limit: challenge ACKs per connection per second */

	/* [fault]: a lossy wire inside the worker, for tests and benchmarks; off by default */
	double fault_rx_loss;         /* rx_loss: percent of received frames dropped before processing (0..100) */
	double fault_tx_loss;         /* tx_loss: percent of frames to send dropped before the TX burst (0..100) */
	uint32_t fault_seed;          /* seed: of each worker's generators (mixed with the worker id) */
};

void dtcp_config_defaults(struct dtcp_config *cfg);

/*
 * Set one key. Returns 0, or -EINVAL with a message in err (err may be NULL).
 * For [ip] address, the first call after dtcp_config_defaults() replaces
 * the default list; later calls append (comma-separated lists allowed).
 */
int dtcp_config_set(struct dtcp_config *cfg, const char *section,
		    const char *key, const char *value, char *err, size_t errlen);

/* Load an INI file with rte_cfgfile; unknown sections or keys are errors. */
int dtcp_config_load(struct dtcp_config *cfg, const char *path,
		     char *err, size_t errlen);

/* Check the whole configuration for consistency; 0 or -EINVAL + message. */
int dtcp_config_validate(const struct dtcp_config *cfg, char *err, size_t errlen);

/* Parse "A.B.C.D" or "A.B.C.D/N" (host order out). 0 or -EINVAL. */
int dtcp_parse_ipv4(const char *s, uint32_t *addr, uint8_t *prefix_len);

/* Print the configuration as INI (what the program will run with). */
void dtcp_config_dump(const struct dtcp_config *cfg, void *file);

#ifdef __cplusplus
}
#endif
#endif
