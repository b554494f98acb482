/* SPDX-License-Identifier: BSD-3-Clause */
/* A queue pair of a DPDK ethdev (any PMD) as a dtcp port. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>

#include <dtcp/config.h>
#include <dtcp/port.h>

#include "log.h"

static uint16_t
eth_rx(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_rx_burst(p->port_id, p->queue_id, pkts, n);
}

static uint16_t
eth_tx(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n)
{
	return rte_eth_tx_burst(p->port_id, p->queue_id, pkts, n);
}

/*
 * TX for a wire whose far end takes no chains (dtcp_ethdev_port_linearize_tx):
 * each chain is copied into its first segment, as a NIC's gather DMA would
 * read it. One without the room goes as it is, and the far end counts it.
 */
static uint16_t
eth_tx_linear(struct dtcp_port *p, struct rte_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		if (pkts[i]->nb_segs > 1)
			rte_pktmbuf_linearize(pkts[i]);
	return rte_eth_tx_burst(p->port_id, p->queue_id, pkts, n);
}

static void
eth_destroy(struct dtcp_port *p)
{
	rte_free(p);
}

static const struct dtcp_port_ops eth_ops = {
	.rx = eth_rx,
	.tx = eth_tx,
	.destroy = eth_destroy,
};

static const struct dtcp_port_ops eth_linear_ops = {
	.rx = eth_rx,
	.tx = eth_tx_linear,
	.destroy = eth_destroy,
};

#define FAIL(rc, ...) do { snprintf(err, errlen, __VA_ARGS__); return (rc); } while (0)

/* Names of the offload bits in mask, for the log; "none" for none. */
static const char *
offload_names(char *buf, size_t len, uint64_t mask, bool tx)
{
	size_t n = 0;

	buf[0] = '\0';
	for (uint64_t bit = 1; bit != 0 && n + 1 < len; bit <<= 1)
		if (mask & bit)
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? " " : "",
					      tx ? rte_eth_dev_tx_offload_name(bit)
						 : rte_eth_dev_rx_offload_name(bit));
	return n ? buf : "none";
}

/*
 * Offloads a driver offers and gets wrong for the frames dtcp sends, so
 * never used on it. net_tap (DPDK 22.11, checked on 22.11.11) sums TCP over
 * a chain of mbufs as if every mbuf but the last held an even number of
 * bytes, and dtcp's payloads are chains over the send queue, of any
 * length: the sums come out wrong. It also refuses a TSO frame whose
 * segments, Ethernet header included, exceed the MTU: every full-MSS one.
 */
static const struct {
	const char *driver;
	uint64_t tx;
} tx_broken[] = {
	{ "net_tap", RTE_ETH_TX_OFFLOAD_TCP_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_TSO },
};

static uint64_t
tx_offloads_broken(const struct rte_eth_dev_info *info)
{
	for (size_t i = 0; i < RTE_DIM(tx_broken); i++)
		if (info->driver_name != NULL && strcmp(info->driver_name, tx_broken[i].driver) == 0)
			return tx_broken[i].tx;
	return 0;
}

/*
 * The offloads to enable: what the device offers of those dtcp uses, as
 * [port] offloads, tso and lro allow. The worker sends with checksum
 * offload only what it builds whole, so UDP and outer checksums are never
 * asked for.
 */
static void
offloads_choose(const struct rte_eth_dev_info *info, const struct dtcp_config *cfg,
		struct rte_eth_conf *conf)
{
	const uint64_t tx_cksum = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	const uint64_t rx_cksum = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_TCP_CKSUM;
	uint64_t tx_capa = info->tx_offload_capa & ~tx_offloads_broken(info);
	uint64_t tx = 0, rx = 0;

	if (cfg->offloads == DTCP_OFFLOAD_AUTO) {
		tx = tx_capa & tx_cksum;
		rx = info->rx_offload_capa & rx_cksum;
		/* Each segment cut from a TSO frame needs both checksums written
		 * anew, and the frame's payload is a chain of mbufs. */
		if (cfg->tso == DTCP_OFFLOAD_AUTO && (tx_capa & RTE_ETH_TX_OFFLOAD_TCP_TSO) &&
		    tx == tx_cksum && (tx_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS))
			tx |= RTE_ETH_TX_OFFLOAD_TCP_TSO;
		/* Joined segments arrive as chains: the device must scatter them
		 * over mbufs. Up to a whole IPv4 datagram behind its Ethernet header. */
		if (cfg->lro == DTCP_OFFLOAD_AUTO &&
		    (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_TCP_LRO) &&
		    (info->rx_offload_capa & RTE_ETH_RX_OFFLOAD_SCATTER) && info->max_lro_pkt_size > 0) {
			rx |= RTE_ETH_RX_OFFLOAD_TCP_LRO | RTE_ETH_RX_OFFLOAD_SCATTER;
			conf->rxmode.max_lro_pkt_size =
				RTE_MIN(info->max_lro_pkt_size, (uint32_t)(UINT16_MAX + RTE_ETHER_HDR_LEN));
		}
	}
	conf->txmode.offloads |= tx;
	conf->rxmode.offloads |= rx;
}

/* What the device offers, what dtcp refuses of it, what it enables. */
static void
offloads_log(uint16_t port_id, const struct rte_eth_dev_info *info,
	     const struct rte_eth_conf *conf)
{
	uint64_t refused = tx_offloads_broken(info) & info->tx_offload_capa;
	char buf[512];

	DTCP_LOG(INFO, "port %u (%s): TX offloads offered: %s", port_id, info->driver_name,
		 offload_names(buf, sizeof(buf), info->tx_offload_capa, true));
	if (refused != 0)
		DTCP_LOG(INFO, "port %u (%s): TX offloads never used on this driver "
			 "(known to get them wrong): %s", port_id, info->driver_name,
			 offload_names(buf, sizeof(buf), refused, true));
	DTCP_LOG(INFO, "port %u (%s): TX offloads enabled: %s", port_id, info->driver_name,
		 offload_names(buf, sizeof(buf), conf->txmode.offloads, true));
	DTCP_LOG(INFO, "port %u (%s): RX offloads offered: %s", port_id, info->driver_name,
		 offload_names(buf, sizeof(buf), info->rx_offload_capa, false));
	DTCP_LOG(INFO, "port %u (%s): RX offloads enabled: %s", port_id, info->driver_name,
		 offload_names(buf, sizeof(buf), conf->rxmode.offloads, false));
}

int
dtcp_ethdev_configure(uint16_t port_id, const struct dtcp_config *cfg,
		      struct rte_mempool *pool, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;
	uint16_t nrx = cfg->rx_desc, ntx = cfg->tx_desc;
	int rc;

	rc = rte_eth_dev_info_get(port_id, &info);
	if (rc != 0)
		FAIL(rc, "port %u: no device info (%s)", port_id, rte_strerror(-rc));
	if (cfg->queues > info.max_rx_queues || cfg->queues > info.max_tx_queues)
		FAIL(-EINVAL, "port %u (%s): %u queues asked, the device has %u RX / %u TX",
		     port_id, info.driver_name, cfg->queues, info.max_rx_queues,
		     info.max_tx_queues);
	if (cfg->mtu > info.max_mtu || cfg->mtu < info.min_mtu)
		FAIL(-EINVAL, "port %u (%s): MTU %u outside the device's %u..%u",
		     port_id, info.driver_name, cfg->mtu, info.min_mtu, info.max_mtu);

	memset(&conf, 0, sizeof(conf));
	conf.rxmode.mtu = cfg->mtu;
	/* IP fragments and replies to reassembled datagrams leave as chains. */
	if (info.tx_offload_capa & RTE_ETH_TX_OFFLOAD_MULTI_SEGS)
		conf.txmode.offloads |= RTE_ETH_TX_OFFLOAD_MULTI_SEGS;
	else
		DTCP_LOG(WARNING, "port %u (%s): no multi-segment TX: IP fragments "
			 "may not be sent", port_id, info.driver_name);
	offloads_choose(&info, cfg, &conf);
	offloads_log(port_id, &info, &conf);
	if (cfg->queues > 1) {
		/* Flows spread over the workers' queues by the NIC's hash. */
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf =
			(RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP) & info.flow_type_rss_offloads;
	}
	rc = rte_eth_dev_configure(port_id, cfg->queues, cfg->queues, &conf);
	if (rc != 0)
		FAIL(rc, "port %u (%s): configure failed (%s)", port_id, info.driver_name,
		     rte_strerror(-rc));
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nrx, &ntx);
	if (rc != 0)
		FAIL(rc, "port %u: descriptor counts refused (%s)", port_id, rte_strerror(-rc));
	for (uint16_t q = 0; q < cfg->queues; q++) {
		rc = rte_eth_rx_queue_setup(port_id, q, nrx, rte_eth_dev_socket_id(port_id),
					    NULL, pool);
		if (rc != 0)
			FAIL(rc, "port %u: RX queue %u setup failed (%s)", port_id, q,
			     rte_strerror(-rc));
		rc = rte_eth_tx_queue_setup(port_id, q, ntx, rte_eth_dev_socket_id(port_id),
					    NULL);
		if (rc != 0)
			FAIL(rc, "port %u: TX queue %u setup failed (%s)", port_id, q,
			     rte_strerror(-rc));
	}
	if (cfg->mac_set) {
		struct rte_ether_addr own;

		rc = rte_eth_dev_default_mac_addr_set(port_id, (struct rte_ether_addr *)&cfg->mac);
		/* A device with no address of its own and none to take (net_ring)
		 * filters nothing by MAC: the worker's address is the only one. */
		if (rc == -ENOTSUP && rte_eth_macaddr_get(port_id, &own) == 0 &&
		    rte_is_zero_ether_addr(&own))
			rc = 0;
		if (rc != 0)
			FAIL(rc, "port %u: cannot set the MAC address (%s)", port_id,
			     rte_strerror(-rc));
	}
	rc = rte_eth_dev_start(port_id);
	if (rc != 0)
		FAIL(rc, "port %u (%s): start failed (%s)", port_id, info.driver_name,
		     rte_strerror(-rc));
	return 0;
}

struct dtcp_port *
dtcp_ethdev_port(uint16_t port_id, uint16_t queue_id, struct rte_mempool *pool)
{
	struct dtcp_port *p = rte_zmalloc("dtcp_port", sizeof(*p), 0);
	uint16_t mtu = RTE_ETHER_MTU;
	struct rte_eth_dev_info info;
	struct rte_eth_conf conf;

	if (p == NULL)
		return NULL;
	p->ops = &eth_ops;
	p->pool = pool;
	p->port_id = port_id;
	p->queue_id = queue_id;
	rte_eth_macaddr_get(port_id, &p->mac);
	rte_eth_dev_get_mtu(port_id, &mtu);
	p->mtu = mtu;
	/* What dtcp_ethdev_configure enabled, and the device's chain limits. */
	if (rte_eth_dev_conf_get(port_id, &conf) == 0) {
		p->tx_offloads = conf.txmode.offloads;
		p->rx_offloads = conf.rxmode.offloads;
	}
	p->tx_seg_max = UINT16_MAX;
	p->tx_mtu_seg_max = UINT16_MAX;
	if (rte_eth_dev_info_get(port_id, &info) == 0) {
		if (info.tx_desc_lim.nb_seg_max != 0)
			p->tx_seg_max = info.tx_desc_lim.nb_seg_max;
		if (info.tx_desc_lim.nb_mtu_seg_max != 0)
			p->tx_mtu_seg_max = info.tx_desc_lim.nb_mtu_seg_max;
	}
	return p;
}

int
dtcp_ethdev_port_linearize_tx(struct dtcp_port *p)
{
	if (p->ops != &eth_ops && p->ops != &eth_linear_ops)
		return -EINVAL;
	p->ops = &eth_linear_ops;
	return 0;
}
