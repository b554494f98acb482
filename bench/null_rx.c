/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-bench-null-rx: how many frames per second one dtcp worker drains
 * from a net_null port. net_null hands out zero-filled 64-byte frames whose
 * destination MAC is not ours, so every frame takes the shortest path
 * through the stack: RX burst, Ethernet check, counted drop, bulk free.
 * bench/null-rx.sh runs it beside dpdk-testpmd --forward-mode=rxonly.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <dtcp/dtcp.h>

#include "bench_args.h"

#define PROG "dtcp-bench-null-rx"
#define MAX_SECONDS 3600

static volatile bool stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = true;
}

static void
usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [--seconds N]\n"
	       "\n"
	       "Drains the first DPDK port with one dtcp worker on the main lcore and\n"
	       "prints the frames received each second. Meant for net_null, whose\n"
	       "frames are all dropped as not for us.\n"
	       "\n"
	       "  --seconds N   run N seconds, 2..%d (default 5); the first is warm-up\n"
	       "                and left out of the RESULT line\n"
	       "  --help        this text\n"
	       "\n"
	       "Prints one 'second=I rx_pps=R cpu=C' line per second (C: share of the\n"
	       "second the thread was on the CPU), then\n"
	       "  RESULT dtcp_null_rx_pps_median=M min=A max=B samples=S ... cpu_median=C ...\n"
	       "Exits 3 when a frame was not counted as a drop or an mbuf is missing.\n"
	       "\n"
	       "Example: %s -l 1 --vdev=net_null0 --no-pci --file-prefix=nullrx -- --seconds 5\n",
	       prog, MAX_SECONDS, prog);
}

static int
parse_args(int argc, char **argv, unsigned *seconds)
{
	enum { O_SECONDS = 256, O_HELP };
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int opt;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case O_SECONDS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || v < 2 || v > MAX_SECONDS) {
				fprintf(stderr, PROG ": --seconds %s: expected 2..%d\n", optarg,
					MAX_SECONDS);
				return -1;
			}
			*seconds = (unsigned)v;
			break;
		case O_HELP:
			usage(argv[0]);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n", argv[optind]);
		return -1;
	}
	return 0;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts n > 0 values in place and returns their median (mean of the middle two). */
static uint64_t
sort_median(uint64_t *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* CPU time of the calling thread: how much of the wall clock the loop really had. */
static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

struct sample {
	uint64_t pps;      /* frames per wall-clock second */
	double cpu;        /* share of that second the thread was on the CPU */
};

/*
 * The measured loop: poll with the TSC read once per iteration and, each
 * time a second has passed, turn the rx_frames delta into a rate. Ends
 * after `seconds` samples or on a signal. Returns the samples taken.
 */
static unsigned
drain(struct dtcp_worker *w, unsigned seconds, struct sample *s)
{
	const uint64_t *ctr = dtcp_worker_counters(w);
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t mark = rte_rdtsc(), last = ctr[DTCP_CTR_rx_frames], cpu = thread_cpu_ns();
	unsigned n = 0;

	while (n < seconds && !stop) {
		uint64_t now = rte_rdtsc(), cpu_now;
		double wall_s;

		dtcp_worker_poll(w, dtcp_tsc_to_ns(now));
		if (now - mark < hz)
			continue;
		/* Scaled by the real interval: a late check does not inflate the rate. */
		wall_s = (double)(now - mark) / (double)hz;
		cpu_now = thread_cpu_ns();
		s[n].pps = (uint64_t)((double)(ctr[DTCP_CTR_rx_frames] - last) / wall_s);
		s[n].cpu = (double)(cpu_now - cpu) / 1e9 / wall_s;
		printf("second=%u rx_pps=%llu cpu=%.3f\n", n + 1, (unsigned long long)s[n].pps,
		       s[n].cpu);
		fflush(stdout);
		n++;
		mark = now;
		last = ctr[DTCP_CTR_rx_frames];
		cpu = cpu_now;
	}
	return n;
}

/* Every received frame must have ended in a DROP counter, none elsewhere. */
static bool
check_counters(const uint64_t *ctr)
{
	uint64_t drops = 0, ends = 0;

	for (unsigned c = 0; c < DTCP_CTR_MAX; c++) {
		switch (dtcp_ctr_kind(c)) {
		case DTCP_CTR_KIND_DROP:
			drops += ctr[c];
			break;
		case DTCP_CTR_KIND_END:
			ends += ctr[c];
			break;
		case DTCP_CTR_KIND_EVENT:
		case DTCP_CTR_KIND_TXDROP:
			break;
		}
	}
	printf(PROG ": counters\n");
	dtcp_stats_print(ctr, stdout);
	printf(PROG ": frames received %llu, dropped %llu, handled %llu%s\n",
	       (unsigned long long)ctr[DTCP_CTR_rx_frames], (unsigned long long)drops,
	       (unsigned long long)ends,
	       ctr[DTCP_CTR_rx_frames] == drops && ends == 0 ? "" : "  (MISMATCH)");
	return ctr[DTCP_CTR_rx_frames] > 0 && ctr[DTCP_CTR_rx_frames] == drops && ends == 0;
}

int
main(int argc, char **argv)
{
	struct dtcp_config cfg;
	struct rte_mempool *pool = NULL;
	struct dtcp_port *port = NULL;
	struct dtcp_worker *w = NULL;
	static struct sample samples[MAX_SECONDS];
	unsigned seconds = 5, n = 0, in_use_start = 0, in_use_end = 0;
	uint16_t port_id = UINT16_MAX, pid;
	bool counters_ok = false, pool_ok = false, port_started = false;
	char err[256];
	int rc, status = 1;

	if (bench_wants_help(argc, argv)) {
		usage(argv[0]);
		return 0;
	}
	rc = dtcp_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, PROG ": EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	if (parse_args(argc, argv, &seconds) != 0) {
		rte_eal_cleanup();
		return 2;
	}
	dtcp_config_defaults(&cfg);
	/* The same pool as testpmd's --total-num-mbufs: nothing is held here. */
	cfg.mbufs = 16383;
	cfg.tcp_mbufs_max = 1024;

	RTE_ETH_FOREACH_DEV(pid) {
		port_id = pid;
		break;
	}
	if (port_id == UINT16_MAX) {
		fprintf(stderr, PROG ": no DPDK port (give one with --vdev=net_null0)\n");
		goto out;
	}
	pool = rte_pktmbuf_pool_create("bench_pool", cfg.mbufs, cfg.mbuf_cache, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, rte_eth_dev_socket_id(port_id));
	if (pool == NULL) {
		fprintf(stderr, PROG ": mbuf pool of %u: %s\n", cfg.mbufs,
			rte_strerror(rte_errno));
		goto out;
	}
	if (dtcp_ethdev_configure(port_id, &cfg, pool, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	port_started = true;
	port = dtcp_ethdev_port(port_id, 0, pool);
	if (port == NULL) {
		fprintf(stderr, PROG ": port %u: out of memory\n", port_id);
		goto out;
	}
	w = dtcp_worker_create(&cfg, port, 0, dtcp_tsc_to_ns(rte_rdtsc()), err, sizeof(err));
	if (w == NULL) {
		fprintf(stderr, PROG ": %s\n", err);
		goto out;
	}
	{
		struct rte_eth_dev_info info;

		rte_eth_dev_info_get(port_id, &info);
		printf(PROG ": port %u (%s), lcore %u, burst %u, %u mbufs, %u s\n", port_id,
		       info.driver_name, rte_lcore_id(), cfg.burst, cfg.mbufs, seconds);
		fflush(stdout);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	in_use_start = rte_mempool_in_use_count(pool);
	n = drain(w, seconds, samples);
	/* The worker is idle now: every frame it took is counted and freed. */
	in_use_end = rte_mempool_in_use_count(pool);

	counters_ok = check_counters(dtcp_worker_counters(w));
	pool_ok = in_use_end == in_use_start;
	printf(PROG ": mbufs in use: %u at start, %u at end%s\n", in_use_start, in_use_end,
	       pool_ok ? "" : "  (LEAK)");
	if (n >= 2) {
		/* The first second is warm-up: caches, the mempool cache, the CPU clock. */
		uint64_t pps[MAX_SECONDS], cpu_milli[MAX_SECONDS], med, cpu_med;

		for (unsigned i = 1; i < n; i++) {
			pps[i - 1] = samples[i].pps;
			cpu_milli[i - 1] = (uint64_t)(samples[i].cpu * 1000 + 0.5);
		}
		med = sort_median(pps, n - 1);
		cpu_med = sort_median(cpu_milli, n - 1);
		printf("RESULT dtcp_null_rx_pps_median=%llu min=%llu max=%llu samples=%u"
		       " warmup=1 cpu_median=%.3f drops_ok=%d mbufs_ok=%d\n",
		       (unsigned long long)med, (unsigned long long)pps[0],
		       (unsigned long long)pps[n - 2], n - 1, (double)cpu_med / 1000,
		       counters_ok, pool_ok);
	} else {
		printf(PROG ": stopped after %u sample(s), no RESULT\n", n);
	}
	status = !counters_ok || !pool_ok ? 3 : n >= 2 ? 0 : 1;
out:
	dtcp_worker_destroy(w);
	dtcp_port_destroy(port);
	if (port_started) {
		rte_eth_dev_stop(port_id);
		rte_eth_dev_close(port_id);
	}
	rte_mempool_free(pool);
	rte_eal_cleanup();
	return status;
}
