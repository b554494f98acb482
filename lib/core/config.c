/* SPDX-License-Identifier: BSD-3-Clause */
/* Configuration: defaults, one table of keys, INI files through rte_cfgfile. */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>
#include <rte_cfgfile.h>

#include <dtcp/config.h>

#include "worker_priv.h"
#include "../wire/wire.h"

void
dtcp_config_defaults(struct dtcp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mtu = 1500;
	cfg->rx_desc = 1024;
	cfg->tx_desc = 1024;
	cfg->burst = 32;
	cfg->mbufs = 65535;
	cfg->mbuf_cache = 256;
	cfg->queues = 1;
	cfg->offloads = DTCP_OFFLOAD_AUTO;
	cfg->tso = DTCP_OFFLOAD_AUTO;
	cfg->lro = DTCP_OFFLOAD_AUTO;
	cfg->tso_max = DTCP_TSO_MAX;
	cfg->addrs[0].addr = 0xc6120002;      /* 198.18.0.2/24 */
	cfg->addrs[0].prefix_len = 24;
	cfg->n_addrs = 1;
	cfg->ttl = 64;
	cfg->arp_entries = 1024;
	cfg->arp_pending_per_entry = 8;
	cfg->arp_pending_max = 1024;
	cfg->arp_retries = 3;
	cfg->arp_retry_ms = 1000;
	cfg->arp_reachable_ms = 300000;
	cfg->frag_max_flows = 1024;
	cfg->frag_timeout_ms = 30000;
	cfg->timer_tick_us = 1000;
	cfg->timer_budget = 4096;
	cfg->tcp_max_conns = 65536;
	cfg->tcp_timewait_max = 65536;
	cfg->tcp_listeners_max = 64;
	cfg->tcp_syn_backlog = 1024;
	cfg->tcp_accept_backlog = 1024;
	cfg->tcp_mbufs_max = 16384;
	cfg->tcp_ooo_conns = 4096;
	cfg->tcp_ooo_segs = 32;
	cfg->tcp_sack_conns = 4096;
	cfg->tcp_tlp = 1;
	cfg->tcp_tlp_min_ms = 10;
	cfg->tcp_rcv_sws = 1;
	cfg->tcp_tx_copy_max = 256;
	cfg->tcp_sndbuf = 262144;
	cfg->tcp_rcvbuf = 262144;
	cfg->tcp_port_min = 32768;
	cfg->tcp_port_max = 60999;
	cfg->tcp_mss = 0;
	cfg->tcp_mss_min = 88;
	cfg->tcp_timestamps = 1;
	cfg->tcp_window_scale = 1;
	cfg->tcp_sack = 1;
	cfg->tcp_syncookies = 1;
	cfg->tcp_msl_ms = 30000;
	cfg->tcp_rto_init_ms = 1000;
	cfg->tcp_rto_min_ms = 200;
	cfg->tcp_rto_max_ms = 60000;
	cfg->tcp_syn_retries = 7;    /* 183 s with rto_max 60 s: RFC 1122 §4.2.3.5 asks >= 3 min */
	cfg->tcp_synack_retries = 5;
	cfg->tcp_retries = 15;
	cfg->tcp_fin_timeout_ms = 60000;
	cfg->tcp_delack_ms = 40;
	cfg->tcp_nodelay = 0;
	cfg->tcp_keepalive = 0;
	cfg->tcp_keepalive_idle_s = 7200;
	cfg->tcp_keepalive_intvl_s = 75;
	cfg->tcp_keepalive_cnt = 9;
	cfg->tcp_challenge_ack_limit = 10;
	cfg->fault_rx_loss = 0;
	cfg->fault_tx_loss = 0;
	cfg->fault_seed = 1;
}

enum key_type { K_U8, K_U16, K_U32, K_IPV4, K_ADDRS, K_MAC, K_CC, K_OFFLOAD, K_PERCENT };

static const char *const cc_names[] = { [DTCP_CC_NEWRENO] = "newreno", [DTCP_CC_CUBIC] = "cubic" };
static const char *const offload_names[] = { [DTCP_OFFLOAD_AUTO] = "auto",
					      [DTCP_OFFLOAD_OFF] = "off" };

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t off;
	uint32_t min, max;
};

#define F(field) offsetof(struct dtcp_config, field)
static const struct key keys[] = {
	/* Up to IPv4's largest datagram: a virtual wire (net_ring) takes it, as
	 * Linux's loopback does; a device's own limit is checked at configure. */
	{ "port", "mtu",        K_U16, F(mtu), 576, 65535 },
	{ "port", "mac",        K_MAC, F(mac), 0, 0 },
	{ "port", "rx_desc",    K_U16, F(rx_desc), 32, 32768 },
	{ "port", "tx_desc",    K_U16, F(tx_desc), 32, 32768 },
	{ "port", "burst",      K_U16, F(burst), 1, DTCP_BURST_MAX },
	{ "port", "mbufs",      K_U32, F(mbufs), 1023, 1u << 26 },
	{ "port", "mbuf_cache", K_U32, F(mbuf_cache), 0, 512 },
	{ "port", "queues",     K_U16, F(queues), 1, 128 },
	{ "port", "offloads",   K_OFFLOAD, F(offloads), 0, 0 },
	{ "port", "tso",        K_OFFLOAD, F(tso), 0, 0 },
	{ "port", "lro",        K_OFFLOAD, F(lro), 0, 0 },
	{ "port", "tso_max",    K_U32, F(tso_max), 1024, DTCP_TSO_MAX },
	{ "ip",   "address",    K_ADDRS, F(addrs), 0, 0 },
	{ "ip",   "gateway",    K_IPV4, F(gateway), 0, 0 },
	{ "ip",   "ttl",        K_U8,  F(ttl), 1, 255 },
	{ "arp",  "entries",    K_U32, F(arp_entries), 1, 1u << 20 },
	{ "arp",  "pending_per_entry", K_U32, F(arp_pending_per_entry), 0, DTCP_ARP_PENDING_MAX },
	{ "arp",  "pending_max", K_U32, F(arp_pending_max), 0, 1u << 20 },
	{ "arp",  "retries",    K_U32, F(arp_retries), 1, 100 },
	{ "arp",  "retry_ms",   K_U32, F(arp_retry_ms), 1, 60000 },
	{ "arp",  "reachable_ms", K_U32, F(arp_reachable_ms), 1000, 86400000 },
	{ "frag", "max_flows",  K_U32, F(frag_max_flows), 1, 1u << 16 },
	{ "frag", "timeout_ms", K_U32, F(frag_timeout_ms), 1, 120000 },
	{ "timer", "tick_us",   K_U32, F(timer_tick_us), 10, 100000 },
	{ "timer", "budget",    K_U32, F(timer_budget), 1, 1u << 24 },
	{ "tcp", "max_conns",   K_U32, F(tcp_max_conns), 16, 1u << 24 },
	{ "tcp", "timewait_max", K_U32, F(tcp_timewait_max), 0, 1u << 24 },
	{ "tcp", "listeners_max", K_U32, F(tcp_listeners_max), 1, 65536 },
	{ "tcp", "syn_backlog", K_U32, F(tcp_syn_backlog), 1, 1u << 20 },
	{ "tcp", "accept_backlog", K_U32, F(tcp_accept_backlog), 1, 1u << 20 },
	{ "tcp", "mbufs_max",   K_U32, F(tcp_mbufs_max), 64, 1u << 26 },
	{ "tcp", "ooo_conns",   K_U32, F(tcp_ooo_conns), 0, 1u << 24 },
	{ "tcp", "ooo_segs",    K_U16, F(tcp_ooo_segs), 1, DTCP_OOO_MAX },
	{ "tcp", "sack_conns",  K_U32, F(tcp_sack_conns), 0, 1u << 24 },
	{ "tcp", "tlp",         K_U8,  F(tcp_tlp), 0, 1 },
	{ "tcp", "tlp_min_ms",  K_U16, F(tcp_tlp_min_ms), 0, 1000 },
	{ "tcp", "rcv_sws",     K_U8,  F(tcp_rcv_sws), 0, 1 },
	{ "tcp", "tx_copy_max", K_U16, F(tcp_tx_copy_max), 0, 1024 },
	{ "tcp", "sndbuf",      K_U32, F(tcp_sndbuf), 2048, 1u << 30 },
	{ "tcp", "rcvbuf",      K_U32, F(tcp_rcvbuf), 2048, 1u << 30 },
	{ "tcp", "port_min",    K_U16, F(tcp_port_min), 1, 65535 },
	{ "tcp", "port_max",    K_U16, F(tcp_port_max), 1, 65535 },
	{ "tcp", "mss",         K_U16, F(tcp_mss), 0, 65495 },
	{ "tcp", "mss_min",     K_U16, F(tcp_mss_min), 48, 536 },
	{ "tcp", "timestamps",  K_U8,  F(tcp_timestamps), 0, 1 },
	{ "tcp", "window_scale", K_U8, F(tcp_window_scale), 0, 1 },
	{ "tcp", "sack",        K_U8,  F(tcp_sack), 0, 1 },
	{ "tcp", "syncookies",  K_U8,  F(tcp_syncookies), 0, 2 },
	{ "tcp", "msl_ms",      K_U32, F(tcp_msl_ms), 1, 600000 },
	{ "tcp", "rto_init_ms", K_U32, F(tcp_rto_init_ms), 1, 600000 },
	{ "tcp", "rto_min_ms",  K_U32, F(tcp_rto_min_ms), 1, 600000 },
	{ "tcp", "rto_max_ms",  K_U32, F(tcp_rto_max_ms), 1, 3600000 },
	{ "tcp", "syn_retries", K_U32, F(tcp_syn_retries), 1, 127 },
	{ "tcp", "synack_retries", K_U32, F(tcp_synack_retries), 1, 127 },
	{ "tcp", "retries",     K_U32, F(tcp_retries), 1, 127 },
	{ "tcp", "fin_timeout_ms", K_U32, F(tcp_fin_timeout_ms), 1, 3600000 },
	{ "tcp", "delack_ms",   K_U32, F(tcp_delack_ms), 0, 499 },
	{ "tcp", "nodelay",     K_U8,  F(tcp_nodelay), 0, 1 },
	{ "tcp", "congestion",  K_CC,  F(tcp_cc), 0, 0 },
	{ "tcp", "keepalive",   K_U8,  F(tcp_keepalive), 0, 1 },
	{ "tcp", "keepalive_idle_s", K_U32, F(tcp_keepalive_idle_s), 1, 86400 * 7 },
	{ "tcp", "keepalive_intvl_s", K_U32, F(tcp_keepalive_intvl_s), 1, 86400 },
	{ "tcp", "keepalive_cnt", K_U32, F(tcp_keepalive_cnt), 1, 1000 },
	{ "tcp", "challenge_ack_limit", K_U32, F(tcp_challenge_ack_limit), 1, 1000000 },
	{ "fault", "rx_loss",   K_PERCENT, F(fault_rx_loss), 0, 100 },
	{ "fault", "tx_loss",   K_PERCENT, F(fault_tx_loss), 0, 100 },
	{ "fault", "seed",      K_U32, F(fault_seed), 0, UINT32_MAX },
};
#undef F

#define FAIL(...) do { if (err != NULL) snprintf(err, errlen, __VA_ARGS__); return -EINVAL; } while (0)

int
dtcp_parse_ipv4(const char *s, uint32_t *addr, uint8_t *prefix_len)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	struct in_addr in;

	if (n == 0 || n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (inet_pton(AF_INET, buf, &in) != 1)
		return -EINVAL;
	*addr = ntohl(in.s_addr);
	if (slash != NULL) {
		char *end;
		unsigned long p = strtoul(slash + 1, &end, 10);

		if (prefix_len == NULL || slash[1] == '\0' || *end != '\0' || p > 32)
			return -EINVAL;
		*prefix_len = (uint8_t)p;
	} else if (prefix_len != NULL) {
		*prefix_len = 32;
	}
	return 0;
}

/*
 * A percentage in min..max: digits, then at most PERCENT_DECIMALS after a
 * point ("1", "0.5", "12.125"). No sign, exponent, "inf" or "nan": what
 * strtod alone would take. A dump prints it back exactly (print_percent).
 */
#define PERCENT_DECIMALS 6

static int
parse_percent(const char *s, uint32_t min, uint32_t max, double *out)
{
	const char *p = s;
	unsigned int_digits = 0, frac_digits = 0;
	double v;

	while (*p >= '0' && *p <= '9')
		p++, int_digits++;
	if (*p == '.') {
		p++;
		while (*p >= '0' && *p <= '9')
			p++, frac_digits++;
		if (frac_digits == 0)
			return -EINVAL;
	}
	if (*p != '\0' || int_digits == 0 || int_digits > 3 || frac_digits > PERCENT_DECIMALS)
		return -EINVAL;
	v = strtod(s, NULL);
	if (v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static void
print_percent(FILE *f, double v)
{
	char buf[32];
	size_t n = (size_t)snprintf(buf, sizeof(buf), "%.*f", PERCENT_DECIMALS, v);

	/* "0.500000" as "0.5", "1.000000" as "1". */
	while (n > 0 && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && buf[n - 1] == '.')
		buf[--n] = '\0';
	fprintf(f, "%s\n", buf);
}

static int
set_addrs(struct dtcp_config *cfg, const char *value, char *err, size_t errlen)
{
	char buf[512], *tok, *save = NULL;

	if (strlen(value) >= sizeof(buf))
		FAIL("[ip] address: list too long");
	strcpy(buf, value);
	/* A list given replaces the default; several calls append. */
	if (!cfg->addrs_given) {
		cfg->n_addrs = 0;
		cfg->addrs_given = true;
	}
	for (tok = strtok_r(buf, ", ", &save); tok != NULL; tok = strtok_r(NULL, ", ", &save)) {
		struct dtcp_ifaddr ia;

		if (cfg->n_addrs == DTCP_MAX_ADDRS)
			FAIL("[ip] address: at most %d addresses", DTCP_MAX_ADDRS);
		if (dtcp_parse_ipv4(tok, &ia.addr, &ia.prefix_len) != 0 || strchr(tok, '/') == NULL)
			FAIL("[ip] address: '%s' is not A.B.C.D/N", tok);
		cfg->addrs[cfg->n_addrs++] = ia;
	}
	return 0;
}

int
dtcp_config_set(struct dtcp_config *cfg, const char *section, const char *key,
		const char *value, char *err, size_t errlen)
{
	for (size_t i = 0; i < RTE_DIM(keys); i++) {
		const struct key *k = &keys[i];
		char *p = (char *)cfg + k->off, *end;
		unsigned long long v;

		if (strcasecmp(k->section, section) != 0 || strcasecmp(k->name, key) != 0)
			continue;
		switch (k->type) {
		case K_U8:
		case K_U16:
		case K_U32:
			errno = 0;
			v = strtoull(value, &end, 10);
			if (errno != 0 || end == value || *end != '\0' || value[0] == '-' ||
			    v < k->min || v > k->max)
				FAIL("[%s] %s: '%s' is not a number in %u..%u",
				     section, key, value, k->min, k->max);
			if (k->type == K_U8)
				*(uint8_t *)p = (uint8_t)v;
			else if (k->type == K_U16)
				*(uint16_t *)p = (uint16_t)v;
			else
				*(uint32_t *)p = (uint32_t)v;
			return 0;
		case K_IPV4:
			if (dtcp_parse_ipv4(value, (uint32_t *)p, NULL) != 0)
				FAIL("[%s] %s: '%s' is not an IPv4 address", section, key, value);
			return 0;
		case K_ADDRS:
			return set_addrs(cfg, value, err, errlen);
		case K_CC:
			for (unsigned a = 0; a < RTE_DIM(cc_names); a++) {
				if (strcasecmp(value, cc_names[a]) == 0) {
					*(uint8_t *)p = (uint8_t)a;
					return 0;
				}
			}
			FAIL("[%s] %s: '%s' is not newreno or cubic", section, key, value);
		case K_OFFLOAD:
			for (unsigned a = 0; a < RTE_DIM(offload_names); a++) {
				if (strcasecmp(value, offload_names[a]) == 0) {
					*(uint8_t *)p = (uint8_t)a;
					return 0;
				}
			}
			FAIL("[%s] %s: '%s' is not auto or off", section, key, value);
		case K_PERCENT:
			if (parse_percent(value, k->min, k->max, (double *)p) != 0)
				FAIL("[%s] %s: '%s' is not a percentage in %u..%u (at most %d decimals, "
				     "e.g. 1 or 0.5)", section, key, value, k->min, k->max,
				     PERCENT_DECIMALS);
			return 0;
		case K_MAC:
			if (rte_ether_unformat_addr(value, &cfg->mac) != 0 ||
			    !rte_is_unicast_ether_addr(&cfg->mac) ||
			    rte_is_zero_ether_addr(&cfg->mac))
				FAIL("[%s] %s: '%s' is not a unicast MAC address", section, key, value);
			cfg->mac_set = true;
			return 0;
		}
	}
	FAIL("unknown key [%s] %s", section, key);
}

int
dtcp_config_load(struct dtcp_config *cfg, const char *path, char *err, size_t errlen)
{
	struct rte_cfgfile *f = rte_cfgfile_load(path, 0);
	int nsec, rc = 0;

	if (f == NULL)
		FAIL("%s: cannot read or parse", path);
	nsec = rte_cfgfile_num_sections(f, NULL, 0);
	for (int s = 0; s < nsec && rc == 0; s++) {
		char section[CFG_NAME_LEN];
		int n;

		/* By index, so a section given twice is read twice, not lost. */
		n = rte_cfgfile_section_num_entries_by_index(f, section, s);
		if (n < 0) {
			rc = -EINVAL;
			if (err != NULL)
				snprintf(err, errlen, "%s: section %d unreadable", path, s);
			break;
		}
		if (n > 64) {
			rc = -EINVAL;
			if (err != NULL)
				snprintf(err, errlen, "%s: [%s] has %d entries, at most 64",
					 path, section, n);
			break;
		}
		struct rte_cfgfile_entry entries[n > 0 ? n : 1];

		rte_cfgfile_section_entries_by_index(f, s, section, entries, n);
		for (int e = 0; e < n && rc == 0; e++) {
			char msg[256];

			rc = dtcp_config_set(cfg, section, entries[e].name, entries[e].value,
					     msg, sizeof(msg));
			if (rc != 0 && err != NULL)
				snprintf(err, errlen, "%s: %s", path, msg);
		}
	}
	rte_cfgfile_close(f);
	return rc;
}

int
dtcp_config_validate(const struct dtcp_config *cfg, char *err, size_t errlen)
{
	if (cfg->n_addrs == 0)
		FAIL("[ip] address: at least one address is needed");
	for (unsigned i = 0; i < cfg->n_addrs; i++) {
		uint32_t a = cfg->addrs[i].addr, mask = dtcp_prefix_mask(cfg->addrs[i].prefix_len);

		if (dtcp_ipv4_martian(a) || (cfg->addrs[i].prefix_len < 31 &&
					     ((a & ~mask) == 0 || (a & ~mask) == ~mask)))
			FAIL("[ip] address: entry %u is not a usable host address", i + 1);
	}
	if (cfg->gateway != 0) {
		bool on_link = false;

		for (unsigned i = 0; i < cfg->n_addrs; i++) {
			uint32_t mask = dtcp_prefix_mask(cfg->addrs[i].prefix_len);

			on_link |= (cfg->gateway & mask) == (cfg->addrs[i].addr & mask);
		}
		if (!on_link)
			FAIL("[ip] gateway: not on the subnet of any address");
	}
	/* NICs hash no ARP: it all reaches queue 0, whose worker alone would
	 * learn; the others could never resolve a next hop. */
	if (cfg->queues != 1)
		FAIL("[port] queues: only 1 for now (ARP is not yet shared between workers)");
	/*
	 * Packets the stack may hold (waiting on ARP, in reassembly) must never
	 * take the mbufs the port needs to keep receiving: a full pool would
	 * stall RX instead of refusing, counted, what cannot be held.
	 */
	if ((uint64_t)cfg->arp_pending_max +
	    (uint64_t)RTE_LIBRTE_IP_FRAG_MAX_FRAG * cfg->frag_max_flows + cfg->tcp_mbufs_max +
	    cfg->rx_desc + cfg->tx_desc + 2u * DTCP_BURST_MAX + DTCP_TX_BUF > cfg->mbufs)
		FAIL("[port] mbufs: %u is too few for [arp] pending_max %u + 8 x [frag] max_flows "
		     "%u + [tcp] mbufs_max %u + [port] rx_desc %u + tx_desc %u + %u in flight",
		     cfg->mbufs, cfg->arp_pending_max, cfg->frag_max_flows, cfg->tcp_mbufs_max,
		     cfg->rx_desc, cfg->tx_desc, 2 * DTCP_BURST_MAX + DTCP_TX_BUF);
	if (cfg->tcp_port_min > cfg->tcp_port_max)
		FAIL("[tcp] port_min %u is above port_max %u", cfg->tcp_port_min, cfg->tcp_port_max);
	if (cfg->tcp_rto_min_ms > cfg->tcp_rto_max_ms ||
	    cfg->tcp_rto_init_ms < cfg->tcp_rto_min_ms || cfg->tcp_rto_init_ms > cfg->tcp_rto_max_ms)
		FAIL("[tcp] need rto_min_ms <= rto_init_ms <= rto_max_ms");
	if (cfg->tcp_mss != 0 && cfg->tcp_mss < cfg->tcp_mss_min)
		FAIL("[tcp] mss %u is below mss_min %u", cfg->tcp_mss, cfg->tcp_mss_min);
	if (cfg->tcp_listeners_max >= cfg->tcp_max_conns)
		FAIL("[tcp] listeners_max must be below max_conns (listeners take connection slots)");
	if (cfg->burst == 0 || cfg->burst > DTCP_BURST_MAX)
		FAIL("[port] burst: must be 1..%d", DTCP_BURST_MAX);
	if (cfg->arp_pending_per_entry > DTCP_ARP_PENDING_MAX)
		FAIL("[arp] pending_per_entry: at most %d", DTCP_ARP_PENDING_MAX);
	if (cfg->timer_tick_us == 0 || cfg->arp_entries == 0 || cfg->frag_max_flows == 0)
		FAIL("[timer] tick_us, [arp] entries and [frag] max_flows must be positive");
	/* Written as "in range" so that NaN fails too. */
	if (!(cfg->fault_rx_loss >= 0 && cfg->fault_rx_loss <= 100))
		FAIL("[fault] rx_loss: must be a percentage in 0..100");
	if (!(cfg->fault_tx_loss >= 0 && cfg->fault_tx_loss <= 100))
		FAIL("[fault] tx_loss: must be a percentage in 0..100");
	return 0;
}

static void
print_ip(FILE *f, uint32_t a)
{
	fprintf(f, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

void
dtcp_config_dump(const struct dtcp_config *cfg, void *file)
{
	FILE *f = file;
	const char *section = "";

	for (size_t i = 0; i < RTE_DIM(keys); i++) {
		const struct key *k = &keys[i];
		const char *p = (const char *)cfg + k->off;

		if (strcmp(section, k->section) != 0) {
			section = k->section;
			fprintf(f, "[%s]\n", section);
		}
		if (k->type == K_MAC && !cfg->mac_set) {
			fprintf(f, "; %s = (the port's own)\n", k->name);
			continue;
		}
		fprintf(f, "%s = ", k->name);
		switch (k->type) {
		case K_U8:
			fprintf(f, "%u\n", *(const uint8_t *)p);
			break;
		case K_U16:
			fprintf(f, "%u\n", *(const uint16_t *)p);
			break;
		case K_U32:
			fprintf(f, "%u\n", *(const uint32_t *)p);
			break;
		case K_IPV4:
			print_ip(f, *(const uint32_t *)p);
			fputc('\n', f);
			break;
		case K_CC:
			fprintf(f, "%s\n", cc_names[*(const uint8_t *)p]);
			break;
		case K_OFFLOAD:
			fprintf(f, "%s\n", offload_names[*(const uint8_t *)p]);
			break;
		case K_PERCENT:
			print_percent(f, *(const double *)p);
			break;
		case K_ADDRS:
			for (unsigned a = 0; a < cfg->n_addrs; a++) {
				fputs(a ? "," : "", f);
				print_ip(f, cfg->addrs[a].addr);
				fprintf(f, "/%u", cfg->addrs[a].prefix_len);
			}
			fputc('\n', f);
			break;
		case K_MAC: {
			char buf[RTE_ETHER_ADDR_FMT_SIZE];

			rte_ether_format_addr(buf, sizeof(buf), &cfg->mac);
			fprintf(f, "%s\n", buf);
			break;
		}
		}
	}
}
