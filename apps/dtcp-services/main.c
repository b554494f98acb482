/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-services: the stack on one DPDK port, one worker per queue. It
 * answers ARP and ping, and serves the classic TCP services on every
 * address (services.c): echo (RFC 862), discard (RFC 863), daytime
 * (RFC 867) and chargen (RFC 864), each worker listening on the same ports.
 * At exit it reports the stack's counters, each service's, and the mbufs
 * still in use once the port is closed (any is a leak: exit status 3).
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <dtcp/dtcp.h>

#include "services.h"

static volatile bool stop;
static struct dtcp_worker *workers[RTE_MAX_LCORE];
static struct dtcp_port *ports[RTE_MAX_LCORE];
static struct svc_worker *services[RTE_MAX_LCORE];
static unsigned n_workers;

static void
on_signal(int sig)
{
	(void)sig;
	stop = true;
}

static void
usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [options]\n"
	       "\n"
	       "Runs the dtcp stack on a DPDK port: answers ARP and ICMP echo, and serves\n"
	       "echo (RFC 862), discard (RFC 863), daytime (RFC 867) and chargen (RFC 864)\n"
	       "over TCP on every address.\n"
	       "\n"
	       "  --config FILE        INI configuration (see config/services.ini)\n"
	       "  --ip A.B.C.D/N       interface address (repeat for more); overrides the file\n"
	       "  --gateway A.B.C.D    default gateway\n"
	       "  --mtu N              IP MTU\n"
	       "  --mac XX:XX:..       MAC address to use instead of the port's\n"
	       "  --set SEC.KEY=VALUE  any configuration key, e.g. --set arp.entries=4096\n"
	       "  --port N             ethdev port id (default: the first)\n"
	       "  --duration SEC       stop after SEC seconds (default: run until SIGINT/SIGTERM)\n"
	       "  --stats-interval SEC print counters every SEC seconds (default: only at exit)\n"
	       "  --print-config       print the configuration in force and go on\n"
	       "  --help               this text\n"
	       "\n"
	       "Services (a port of 0 turns the service off):\n"
	       "  --echo-port N        echo: sends back what it receives (default 7)\n"
	       "  --discard-port N     discard: throws away what it receives (default 9)\n"
	       "  --daytime-port N     daytime: one line of UTC date and time, then closes (default 13)\n"
	       "  --chargen-port N     chargen: the RFC 864 pattern until the peer closes (default 19)\n"
	       "  --max-clients N      connection states per worker, all services (default 4096);\n"
	       "                       a connection beyond them is reset at once, and counted\n"
	       "  --echo-backlog BYTES what echo holds for one connection when the send buffer\n"
	       "                       is full (default 1048576); a peer that sends more\n"
	       "                       without reading is reset, and counted\n"
	       "  --echo-mbufs N       mbufs echo holds that way per worker, all connections\n"
	       "                       (default: what [port] mbufs leaves beyond the stack's\n"
	       "                       own bounds, at most 65535)\n"
	       "\n"
	       "Example: %s --vdev=net_tap0,iface=dtap0 -- --ip 198.18.0.2/24 --chargen-port 0\n",
	       prog, prog);
}

struct opts {
	struct dtcp_config cfg;
	struct svc_opts svc;
	bool echo_mbufs_given;
	long port;
	unsigned duration;
	unsigned stats_interval;
	bool print_config;
};

/* A decimal number in min..max for option name; 0 or -1 with a message in err. */
static int
parse_u32(const char *name, const char *arg, uint32_t min, uint32_t max, uint32_t *out,
	  char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v < min || v > max) {
		snprintf(err, errlen, "--%s %s: not a number in %u..%u", name, arg, min, max);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/*
 * Mbufs of [port] mbufs that the stack's bounds leave over (what
 * dtcp_config_validate counts, per worker, plus the lcores' mempool
 * caches and frames in flight): echo's backlog must fit there, or a
 * full backlog would starve the port of receive buffers.
 */
static uint32_t
pool_spare(const struct dtcp_config *cfg, unsigned lcores)
{
	uint64_t per_worker = (uint64_t)cfg->arp_pending_max +
			      (uint64_t)RTE_LIBRTE_IP_FRAG_MAX_FRAG * cfg->frag_max_flows +
			      cfg->tcp_mbufs_max + cfg->rx_desc + cfg->tx_desc + 4u * cfg->burst + 128;
	uint64_t held = per_worker * cfg->queues + (uint64_t)lcores * cfg->mbuf_cache * 3 / 2;

	return held < cfg->mbufs ? (uint32_t)(cfg->mbufs - held) : 0;
}

static bool
svc_any(const struct svc_opts *so)
{
	for (unsigned k = 0; k < SVC_MAX; k++)
		if (so->port[k] != 0)
			return true;
	return false;
}

static const char *const service_opt[SVC_MAX] = {
	[SVC_ECHO] = "echo-port",
	[SVC_DISCARD] = "discard-port",
	[SVC_DAYTIME] = "daytime-port",
	[SVC_CHARGEN] = "chargen-port",
};

/* Ports in use by two services, echo's bound against the pool: 0 or -1 with a message. */
static int
check_services(struct opts *o, char *err, size_t errlen)
{
	uint32_t spare = pool_spare(&o->cfg, rte_lcore_count()) / o->cfg.queues;

	for (unsigned a = 0; a < SVC_MAX; a++)
		for (unsigned b = a + 1; b < SVC_MAX; b++)
			if (o->svc.port[a] != 0 && o->svc.port[a] == o->svc.port[b]) {
				snprintf(err, errlen, "--%s and --%s are both %u",
					 service_opt[a], service_opt[b], o->svc.port[a]);
				return -1;
			}
	if (o->svc.port[SVC_ECHO] == 0)
		return 0;
	if (!o->echo_mbufs_given) {
		o->svc.echo_mbufs = RTE_MIN(spare, (uint32_t)UINT16_MAX);
		if (o->svc.echo_mbufs < 64) {
			snprintf(err, errlen, "[port] mbufs %u leaves %u mbufs per worker for echo's "
				 "backlog, below 64: raise it, lower the stack's bounds, or "
				 "accept a smaller backlog with --echo-mbufs", o->cfg.mbufs, spare);
			return -1;
		}
	} else if (o->svc.echo_mbufs > spare) {
		snprintf(err, errlen, "--echo-mbufs %u: [port] mbufs %u leaves %u per worker beyond "
			 "the stack's bounds", o->svc.echo_mbufs, o->cfg.mbufs, spare);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_CONFIG = 256, O_IP, O_GW, O_MTU, O_MAC, O_SET, O_PORT, O_DURATION,
	       O_STATS, O_PRINT, O_HELP, O_ECHO, O_DISCARD, O_DAYTIME, O_CHARGEN,
	       O_MAX_CLIENTS, O_ECHO_BACKLOG, O_ECHO_MBUFS };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "ip", required_argument, NULL, O_IP },
		{ "gateway", required_argument, NULL, O_GW },
		{ "mtu", required_argument, NULL, O_MTU },
		{ "mac", required_argument, NULL, O_MAC },
		{ "set", required_argument, NULL, O_SET },
		{ "port", required_argument, NULL, O_PORT },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "stats-interval", required_argument, NULL, O_STATS },
		{ "print-config", no_argument, NULL, O_PRINT },
		{ "help", no_argument, NULL, O_HELP },
		{ "echo-port", required_argument, NULL, O_ECHO },
		{ "discard-port", required_argument, NULL, O_DISCARD },
		{ "daytime-port", required_argument, NULL, O_DAYTIME },
		{ "chargen-port", required_argument, NULL, O_CHARGEN },
		{ "max-clients", required_argument, NULL, O_MAX_CLIENTS },
		{ "echo-backlog", required_argument, NULL, O_ECHO_BACKLOG },
		{ "echo-mbufs", required_argument, NULL, O_ECHO_MBUFS },
		{ NULL, 0, NULL, 0 },
	};
	char err[256];
	int opt, rc = 0;

	/* The file first, whatever its place: the other options override it. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == O_CONFIG && dtcp_config_load(&o->cfg, optarg, err, sizeof(err)) != 0) {
			fprintf(stderr, "dtcp-services: %s\n", err);
			return -1;
		}
		if (opt == O_HELP) {
			usage(argv[0]);
			exit(0);
		}
		if (opt == '?')
			return -1;
	}
	/* The first address on the command line replaces the file's list. */
	o->cfg.addrs_given = false;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *eq, *dot, *end;
		uint32_t v32;

		err[0] = '\0';
		switch (opt) {
		case O_IP:
			rc = dtcp_config_set(&o->cfg, "ip", "address", optarg, err, sizeof(err));
			break;
		case O_GW:
			rc = dtcp_config_set(&o->cfg, "ip", "gateway", optarg, err, sizeof(err));
			break;
		case O_MTU:
			rc = dtcp_config_set(&o->cfg, "port", "mtu", optarg, err, sizeof(err));
			break;
		case O_MAC:
			rc = dtcp_config_set(&o->cfg, "port", "mac", optarg, err, sizeof(err));
			break;
		case O_SET:
			dot = strchr(optarg, '.');
			eq = strchr(optarg, '=');
			if (dot == NULL || eq == NULL || dot > eq) {
				snprintf(err, sizeof(err), "--set %s: expected SECTION.KEY=VALUE", optarg);
				rc = -1;
				break;
			}
			*dot = '\0';
			*eq = '\0';
			rc = dtcp_config_set(&o->cfg, optarg, dot + 1, eq + 1, err, sizeof(err));
			break;
		case O_PORT:
			o->port = strtol(optarg, &end, 10);
			if (*end != '\0' || o->port < 0 || o->port >= RTE_MAX_ETHPORTS) {
				snprintf(err, sizeof(err), "--port %s: not a port id", optarg);
				rc = -1;
			}
			break;
		case O_DURATION:
		case O_STATS: {
			unsigned long v = strtoul(optarg, &end, 10);

			/* Bounded to a year: the reporter counts tenths of seconds. */
			if (*end != '\0' || optarg[0] == '-' || end == optarg || v > 31536000) {
				snprintf(err, sizeof(err), "%s %s: not a number of seconds in 0..31536000",
					 opt == O_DURATION ? "--duration" : "--stats-interval", optarg);
				rc = -1;
			} else if (opt == O_DURATION) {
				o->duration = (unsigned)v;
			} else {
				o->stats_interval = (unsigned)v;
			}
			break;
		}
		case O_PRINT:
			o->print_config = true;
			break;
		case O_ECHO:
		case O_DISCARD:
		case O_DAYTIME:
		case O_CHARGEN: {
			/* O_ECHO..O_CHARGEN are in the order of enum svc_kind. */
			enum svc_kind k = (enum svc_kind)(SVC_ECHO + (opt - O_ECHO));

			rc = parse_u32(service_opt[k], optarg, 0, 65535, &v32, err, sizeof(err));
			o->svc.port[k] = (uint16_t)v32;
			break;
		}
		case O_MAX_CLIENTS:
			rc = parse_u32("max-clients", optarg, 1, 1u << 24, &o->svc.max_clients,
				       err, sizeof(err));
			break;
		case O_ECHO_BACKLOG:
			rc = parse_u32("echo-backlog", optarg, 2048, 1u << 30, &o->svc.echo_backlog,
				       err, sizeof(err));
			break;
		case O_ECHO_MBUFS:
			rc = parse_u32("echo-mbufs", optarg, 1, UINT16_MAX, &o->svc.echo_mbufs,
				       err, sizeof(err));
			o->echo_mbufs_given = true;
			break;
		default:
			break;
		}
		if (rc != 0) {
			fprintf(stderr, "dtcp-services: %s\n", err);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dtcp-services: unexpected argument '%s' (try --help)\n",
			argv[optind]);
		return -1;
	}
	if (dtcp_config_validate(&o->cfg, err, sizeof(err)) != 0 ||
	    check_services(o, err, sizeof(err)) != 0) {
		fprintf(stderr, "dtcp-services: %s\n", err);
		return -1;
	}
	return 0;
}

static int
worker_main(void *arg)
{
	dtcp_worker_run(arg, &stop);
	return 0;
}

/* Reporter: periodic counters and the --duration deadline, off the data path. */
static void *
reporter(void *arg)
{
	const struct opts *o = arg;
	uint64_t ctr[DTCP_CTR_MAX];
	uint64_t elapsed = 0;

	while (!stop) {
		usleep(100000);
		elapsed++;
		if (o->stats_interval != 0 && elapsed % (o->stats_interval * 10ull) == 0) {
			dtcp_stats_sum(ctr);
			printf("dtcp-services: counters at %llus\n", (unsigned long long)(elapsed / 10));
			dtcp_stats_print(ctr, stdout);
			fflush(stdout);
		}
		if (o->duration != 0 && elapsed >= o->duration * 10ull)
			stop = true;
	}
	return NULL;
}

static void
report_final(void)
{
	uint64_t ctr[DTCP_CTR_MAX], drops = 0, ends = 0;

	dtcp_stats_sum(ctr);
	for (unsigned c = 0; c < DTCP_CTR_MAX; c++) {
		if (dtcp_ctr_kind(c) == DTCP_CTR_KIND_DROP)
			drops += ctr[c];
		else if (dtcp_ctr_kind(c) == DTCP_CTR_KIND_END)
			ends += ctr[c];
	}
	printf("dtcp-services: final counters\n");
	dtcp_stats_print(ctr, stdout);
	printf("dtcp-services: frames received %llu = dropped %llu + handled %llu%s\n",
	       (unsigned long long)ctr[DTCP_CTR_rx_frames], (unsigned long long)drops,
	       (unsigned long long)ends,
	       ctr[DTCP_CTR_rx_frames] == drops + ends ? "" : "  (MISMATCH)");
}

/* Each service's counters, summed over the workers (their lcores have stopped). */
static void
report_services(const struct svc_opts *so)
{
	for (unsigned k = 0; k < SVC_MAX; k++) {
		struct svc_stats t = { 0 };

		if (so->port[k] == 0)
			continue;
		for (unsigned q = 0; q < n_workers; q++) {
			const struct svc_stats *s = &svc_worker_stats(services[q])[k];

			t.accepted += s->accepted;
			t.refused += s->refused;
			t.aborted += s->aborted;
			t.failed += s->failed;
			t.at_exit += s->at_exit;
			t.bytes_rx += s->bytes_rx;
			t.bytes_tx += s->bytes_tx;
			t.backlog_peak = RTE_MAX(t.backlog_peak, s->backlog_peak);
		}
		printf("dtcp-services: %s (port %u): accepted %llu, refused %llu, aborted %llu, "
		       "failed %llu, open at exit %llu, bytes received %llu, bytes sent %llu",
		       svc_name((enum svc_kind)k), so->port[k], (unsigned long long)t.accepted,
		       (unsigned long long)t.refused, (unsigned long long)t.aborted,
		       (unsigned long long)t.failed, (unsigned long long)t.at_exit,
		       (unsigned long long)t.bytes_rx, (unsigned long long)t.bytes_tx);
		if (k == SVC_ECHO)
			printf(", largest backlog %llu", (unsigned long long)t.backlog_peak);
		printf("\n");
	}
}

int
main(int argc, char **argv)
{
	struct opts o = {
		.port = -1,
		.svc = {
			.port = { [SVC_ECHO] = 7, [SVC_DISCARD] = 9, [SVC_DAYTIME] = 13,
				  [SVC_CHARGEN] = 19 },
			.max_clients = 4096,
			.echo_backlog = 1u << 20,
		},
	};
	struct rte_mempool *pool;
	pthread_t rep;
	char err[256];
	unsigned lcore, q, in_use_end;
	bool start_failed = false;
	uint16_t port_id = UINT16_MAX, pid;
	int rc;

	rc = dtcp_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "dtcp-services: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	dtcp_config_defaults(&o.cfg);
	if (parse_args(argc, argv, &o) != 0) {
		rte_eal_cleanup();
		return 2;
	}
	if (o.print_config)
		dtcp_config_dump(&o.cfg, stdout);

	RTE_ETH_FOREACH_DEV(pid) {
		if (o.port < 0 || pid == o.port) {
			port_id = pid;
			break;
		}
	}
	if (port_id == UINT16_MAX) {
		fprintf(stderr, "dtcp-services: no DPDK port%s (give one with --vdev or a PCI address)\n",
			o.port < 0 ? "" : " with that id");
		rte_eal_cleanup();
		return 1;
	}
	if (o.cfg.queues > rte_lcore_count()) {
		fprintf(stderr, "dtcp-services: %u queues need %u lcores, EAL gave %u (-l)\n",
			o.cfg.queues, o.cfg.queues, rte_lcore_count());
		rte_eal_cleanup();
		return 1;
	}
	/* One frame of the MTU, Ethernet and VLAN headers and CRC in one mbuf. */
	pool = rte_pktmbuf_pool_create("dtcp_pool", o.cfg.mbufs, o.cfg.mbuf_cache, 0,
				       RTE_MAX(RTE_MBUF_DEFAULT_BUF_SIZE,
					       RTE_PKTMBUF_HEADROOM + o.cfg.mtu + 26),
				       rte_eth_dev_socket_id(port_id));
	if (pool == NULL) {
		fprintf(stderr, "dtcp-services: mbuf pool of %u: %s\n", o.cfg.mbufs,
			rte_strerror(rte_errno));
		rte_eal_cleanup();
		return 1;
	}
	if (dtcp_ethdev_configure(port_id, &o.cfg, pool, err, sizeof(err)) != 0) {
		fprintf(stderr, "dtcp-services: %s\n", err);
		rte_eal_cleanup();
		return 1;
	}
	for (q = 0; q < o.cfg.queues; q++) {
		struct dtcp_port *p = dtcp_ethdev_port(port_id, (uint16_t)q, pool);

		workers[q] = p ? dtcp_worker_create(&o.cfg, p, q, dtcp_tsc_to_ns(rte_rdtsc()),
						    err, sizeof(err)) : NULL;
		if (workers[q] == NULL) {
			fprintf(stderr, "dtcp-services: worker %u: %s\n", q, p ? err : "out of memory");
			dtcp_port_destroy(p);
			start_failed = true;
			stop = true;
			break;
		}
		dtcp_telemetry_register(workers[q]);
		ports[q] = p;
		n_workers++;
		/* No lcore polls the worker yet: its listeners can be made from here. */
		services[q] = svc_worker_create(workers[q], pool, &o.svc, err, sizeof(err));
		if (services[q] == NULL) {
			fprintf(stderr, "dtcp-services: worker %u: %s\n", q, err);
			start_failed = true;
			stop = true;
			break;
		}
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	{
		struct rte_ether_addr mac;
		char buf[RTE_ETHER_ADDR_FMT_SIZE];
		struct rte_eth_dev_info info;

		rte_eth_macaddr_get(port_id, &mac);
		rte_ether_format_addr(buf, sizeof(buf), o.cfg.mac_set ? &o.cfg.mac : &mac);
		rte_eth_dev_info_get(port_id, &info);
		printf("dtcp-services: port %u (%s) MAC %s, %u worker(s), %u address(es), MTU %u\n",
		       port_id, info.driver_name, buf, n_workers, o.cfg.n_addrs, o.cfg.mtu);
		if (!start_failed && svc_any(&o.svc)) {
			printf("dtcp-services: listening on every address:");
			for (unsigned k = 0; k < SVC_MAX; k++)
				if (o.svc.port[k] != 0)
					printf(" %s %u,", svc_name((enum svc_kind)k), o.svc.port[k]);
			printf(" %u clients per worker", o.svc.max_clients);
			if (o.svc.port[SVC_ECHO] != 0)
				printf(", echo backlog %u bytes per client and %u mbufs per worker",
				       o.svc.echo_backlog, o.svc.echo_mbufs);
			printf("\n");
		} else if (!start_failed) {
			printf("dtcp-services: every TCP service is off\n");
		}
		fflush(stdout);
	}
	for (q = 0; q < n_workers; q++)
		dtcp_worker_announce(workers[q]);

	pthread_create(&rep, NULL, reporter, &o);
	/* Queue 0 on the main lcore, the others on the worker lcores in order. */
	q = 1;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (q >= n_workers)
			break;
		rte_eal_remote_launch(worker_main, workers[q++], lcore);
	}
	if (n_workers > 0)
		worker_main(workers[0]);
	rte_eal_mp_wait_lcore();
	stop = true;
	pthread_join(rep, NULL);

	/* The lcores have stopped: reset what is still open, stop listening. */
	for (q = 0; q < n_workers; q++)
		if (services[q] != NULL)
			svc_worker_stop(services[q]);
	for (q = 0; q < n_workers; q++)
		dtcp_worker_release_held(workers[q]);
	report_final();
	if (!start_failed)
		report_services(&o.svc);
	for (q = 0; q < n_workers; q++) {
		svc_worker_free(services[q]);
		dtcp_worker_destroy(workers[q]);
		dtcp_port_destroy(ports[q]);
	}
	/* Closed, the port gives back its rings' mbufs: every one must be home. */
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
	in_use_end = rte_mempool_in_use_count(pool);
	printf("dtcp-services: mbufs in use after the port closed: %u%s\n", in_use_end,
	       in_use_end != 0 ? "  (LEAK)" : "");
	rte_mempool_free(pool);
	rte_eal_cleanup();
	if (start_failed)
		return 1;
	return in_use_end != 0 ? 3 : 0;
}
