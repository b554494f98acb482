/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-bench-cps: the dtcp side of the connections-per-second benchmark
 * (issue 6). Two dtcp workers in one process, one per lcore, joined by a
 * net_ring pair: the server (dtcp-httpd's server, apps/dtcp-httpd/server.c)
 * on the main lcore, the client (dtcp-loadgen's engine,
 * apps/dtcp-loadgen/engine.c) on the next one.
 *
 * Modes:
 *   cps  the dperf-style exchange, one connection each: SYN, SYN-ACK, the
 *        GET on the handshake's last ACK, the response with the server's
 *        FIN, the client's FIN, the last ACK. The server closes first and
 *        holds TIME-WAIT for 2 x [tcp] msl_ms (--msl-ms).
 *   rr   one persistent connection, request/response ping-pong; each
 *        exchange timed on the client's TSC.
 *   mem  --conns N established idle connections; the stack memory each
 *        holds per side, measured on the DPDK heap.
 *   count the cps exchange for exactly --conns N connections, both workers
 *        driven in turn by one thread on a clock of its own, for
 *        valgrind --tool=callgrind to count the instructions of (see
 *        docs/bench.md): the same instructions every run.
 *   bulk is dtcp-bench-goodput's (bench/goodput.c): not repeated here.
 *
 * Output contract (bench/cps.sh parses it): one "sample <mode> <second>
 * <value>" line per sampled second, then one "result <mode> k=v ..." line.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_ring.h>

#include <dtcp/dtcp.h>

#ifdef DTCP_HAVE_CALLGRIND_H
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION do { } while (0)
#define CALLGRIND_STOP_INSTRUMENTATION do { } while (0)
#endif

#include "bench_args.h"

#include "../apps/dtcp-httpd/httpd.h"
#include "../apps/dtcp-loadgen/engine.h"
#include "../apps/dtcp-loadgen/http.h"
#include "wire_end.h"

#define PROG "dtcp-bench-cps"
#define MAX_SECONDS 3600
#define SERVER_PORT 80
#define SERVER_ADDR 0xc6120001u       /* 198.18.0.1: the server's first address */
#define CLIENT_ADDR 0xc6120101u       /* 198.18.1.1: the client's first address */
#define PORT_LO 1024u
#define PORT_HI 65535u
#define PORT_SPAN (PORT_HI - PORT_LO + 1)
#define LAT_NS_MAX 10000000u          /* rr histogram: 10 ns buckets up to 10 ms */
#define LAT_BUCKET_NS 10u
#define MEM_SMALL 1000u               /* mem: the reference worker's connections */
#define MEM_OPEN_LIMIT_S 300          /* mem: all connections established by then */
#define MEM_INFLIGHT 4096u            /* mem: handshakes under way at once */
#define COUNT_CONNS 2000u             /* count: connections measured */
#define COUNT_WARMUP 500u             /* count: connections before them */
#define COUNT_CONCURRENCY 64u         /* count: open at once */
#define COUNT_STEP_NS 1000u           /* count: the clock's step per round */
#define COUNT_MSL_MAX 200u            /* count: the run stays within the engine's first second */

enum mode { M_CPS, M_RR, M_MEM, M_BULK, M_COUNT };
static const char *const mode_name[] = { "cps", "rr", "mem", "bulk", "count" };

static volatile bool stop;            /* a signal: end at once */

static void
on_signal(int sig)
{
	(void)sig;
	stop = true;
}

struct opts {
	enum mode mode;
	uint32_t duration_s, warmup_s;
	uint32_t rate;                /* cps: 0 as fast as possible */
	uint32_t concurrency;         /* cps: client connections open at once */
	uint32_t burst;               /* cps: opens per poll */
	uint32_t conns;               /* mem, count */
	uint32_t warmup_conns;        /* count */
	bool conns_given, concurrency_given, wire_given;
	uint32_t msl_ms;              /* TIME-WAIT is twice this */
	uint32_t body;                /* response body bytes */
	uint32_t n_client_addrs;      /* cps: client addresses (x PORT_SPAN ports) */
	uint32_t wire;                /* net_ring slots each way */
	uint32_t patience_ms;         /* handshake, response and first-connection timeouts */
	bool separate_pools;          /* an mbuf pool per end, not one for both */
};

/* One end of the wire: its ethdev, pool, port and worker. */
/* The client lcore's state; main reads it once `done` is set. */
struct client {
	struct wire_end *end;
	const struct opts *o;
	struct lg_engine *eng;
	/* rr: the exchange being timed, and the histogram. */
	uint64_t req_tsc;
	bool recording;
	uint64_t rec_from_tsc, rec_to_tsc;
	uint32_t *hist;
	uint64_t lat_n, lat_min, lat_max;
	/* mem */
	uint32_t target, opened, connected, failed;
	struct dtcp_conn **conns;
	clockid_t cpu_clock;          /* the client thread's CPU time */
	bool cpu_clock_ok;            /* client -> main: cpu_clock is set */
	bool done;                    /* client -> main */
};

/* mem: the server's idle acceptor. */
struct holder {
	struct dtcp_conn *listener;
	uint32_t accepted, closed;
};

static void
usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [--mode cps|rr|mem|count|bulk] [options]\n"
	       "\n"
	       "The dtcp side of the CPS benchmark: two dtcp workers in one process over a\n"
	       "net_ring pair, the server (dtcp-httpd's) on the main lcore, the client\n"
	       "(dtcp-loadgen's engine) on the next (give two: -l 0,1; count needs one).\n"
	       "\n"
	       "  --mode M          cps (default): handshake, GET, response with the server's\n"
	       "                    FIN, the client's FIN; TIME-WAIT on the server.\n"
	       "                    rr: one connection, request/response latency.\n"
	       "                    mem: --conns idle established connections, bytes each.\n"
	       "                    count: the cps exchange for exactly --conns connections\n"
	       "                    (default %u) after --warmup-conns, one thread driving both\n"
	       "                    workers on a clock of its own; run it under valgrind\n"
	       "                    --tool=callgrind --instr-atstart=no: only the measured\n"
	       "                    connections are instrumented (docs/bench.md).\n"
	       "                    bulk: use dtcp-bench-goodput.\n"
	       "  --duration S      sampled seconds (default 10)\n"
	       "  --warmup S        seconds before sampling (default 1)\n"
	       "  --rate R          cps: connections per second to open (default 0: as fast\n"
	       "                    as --concurrency allows); halved when the server falls\n"
	       "                    behind, never caught up (printed as 'backoff')\n"
	       "  --concurrency N   cps: client connections open at once (default 128;\n"
	       "                    count: %u)\n"
	       "  --burst N         cps, count: opens per poll (default 64)\n"
	       "  --conns N         mem: connections (default 1000000); count: 1..60000\n"
	       "  --warmup-conns N  count: connections before the measured ones (default %u)\n"
	       "  --msl-ms MS       [tcp] msl_ms of both ends: TIME-WAIT is 2 x MS (default 100;\n"
	       "                    count: at most %u)\n"
	       "  --body N          response body bytes (default 64)\n"
	       "  --client-addrs N  cps: client addresses, 1..%d (default %d): N x %u 4-tuples\n"
	       "  --wire N          net_ring slots each way (default 16384; count: 4096)\n"
	       "  --patience-ms MS  the client's handshake and response timeouts, and how long\n"
	       "                    the first connection may take (default 5000; under\n"
	       "                    valgrind, where time runs ~50x slower, 120000)\n"
	       "  --separate-pools  cps, rr, count: an mbuf pool per end; by default one\n"
	       "                    pool, so that each lcore's mempool cache takes back the\n"
	       "                    frames it received, as a host's NIC fills its RX ring\n"
	       "                    from its own pool (on a net_ring pair an end's frames\n"
	       "                    are freed by the other end: with a pool each, every\n"
	       "                    mbuf an end takes was last written by the other core)\n"
	       "\n"
	       "Prints 'sample <mode> <second> <value>' each sampled second, then\n"
	       "  result cps cps_median= cps_min= cps_max= seconds= held= errors= timewait_ms= tuples=\n"
	       "  result rr p50_us= p99_us= min_us= max_us= exchanges=\n"
	       "  result mem conns= bytes_per_conn= bytes_per_conn_sizeof=\n"
	       "  result count conns= completed= errors= warmup= concurrency= rounds= idle_rounds=\n"
	       "               server_polls= client_polls= timewait_expired= frames_client=\n"
	       "               frames_server=\n"
	       "Exit status: 0, 1 on an error (errors > 0, a connection not established),\n"
	       "2 on bad usage, 3 on an mbuf leak or a frame unaccounted for.\n"
	       "\n"
	       "Example: %s -l 0,1 --no-pci --no-huge -m 1024 --file-prefix cps -- --mode cps\n",
	       prog, COUNT_CONNS, COUNT_CONCURRENCY, COUNT_WARMUP, COUNT_MSL_MAX, DTCP_MAX_ADDRS,
	       DTCP_MAX_ADDRS, PORT_SPAN, prog);
}

static int
parse_u32(const char *name, const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || s[0] == '-' || s[0] == '\0' || v < lo || v > hi) {
		fprintf(stderr, PROG ": --%s %s: expected %u..%u\n", name, s, lo, hi);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "duration", required_argument, NULL, 'd' },
		{ "warmup", required_argument, NULL, 'W' },
		{ "rate", required_argument, NULL, 'r' },
		{ "concurrency", required_argument, NULL, 'c' },
		{ "burst", required_argument, NULL, 'b' },
		{ "conns", required_argument, NULL, 'n' },
		{ "warmup-conns", required_argument, NULL, 'C' },
		{ "msl-ms", required_argument, NULL, 'M' },
		{ "body", required_argument, NULL, 'B' },
		{ "client-addrs", required_argument, NULL, 'a' },
		{ "wire", required_argument, NULL, 'w' },
		{ "patience-ms", required_argument, NULL, 'p' },
		{ "separate-pools", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	int opt, rc = 0;

	optind = 1;
	while (rc == 0 && (opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm': {
			unsigned m = 0;

			while (m < RTE_DIM(mode_name) && strcmp(optarg, mode_name[m]) != 0)
				m++;
			o->mode = (enum mode)m;
			if (m == RTE_DIM(mode_name)) {
				fprintf(stderr, PROG ": --mode %s: cps, rr, mem, count or bulk\n",
					optarg);
				rc = -1;
			}
			break;
		}
		case 'd':
			rc = parse_u32("duration", optarg, 1, MAX_SECONDS, &o->duration_s);
			break;
		case 'W':
			rc = parse_u32("warmup", optarg, 0, 60, &o->warmup_s);
			break;
		case 'r':
			rc = parse_u32("rate", optarg, 0, 100000000, &o->rate);
			break;
		case 'c':
			rc = parse_u32("concurrency", optarg, 1, 1u << 20, &o->concurrency);
			o->concurrency_given = true;
			break;
		case 'b':
			rc = parse_u32("burst", optarg, 1, 4096, &o->burst);
			break;
		case 'n':
			rc = parse_u32("conns", optarg, 1, 1u << 23, &o->conns);
			o->conns_given = true;
			break;
		case 'C':
			rc = parse_u32("warmup-conns", optarg, 2, 10000, &o->warmup_conns);
			break;
		case 'M':
			rc = parse_u32("msl-ms", optarg, 1, 600000, &o->msl_ms);
			break;
		case 'B':
			rc = parse_u32("body", optarg, 0, 65536, &o->body);
			break;
		case 'a':
			rc = parse_u32("client-addrs", optarg, 1, DTCP_MAX_ADDRS, &o->n_client_addrs);
			break;
		case 'w':
			rc = parse_u32("wire", optarg, 1024, 1u << 20, &o->wire);
			o->wire_given = true;
			break;
		case 'p':
			rc = parse_u32("patience-ms", optarg, 100, 3600000, &o->patience_ms);
			break;
		case 'S':
			o->separate_pools = true;
			break;
		default:
			rc = -1;
			break;
		}
	}
	if (rc == 0 && optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n", argv[optind]);
		rc = -1;
	}
	if (rc == 0 && !rte_is_power_of_2(o->wire)) {
		fprintf(stderr, PROG ": --wire %u: a power of 2\n", o->wire);
		rc = -1;
	}
	if (rc != 0)
		return rc;
	if (o->mode == M_COUNT) {
		if (!o->conns_given)
			o->conns = COUNT_CONNS;
		if (!o->concurrency_given)
			o->concurrency = COUNT_CONCURRENCY;
		/* A few waves' frames at most are on the wire at once. */
		if (!o->wire_given)
			o->wire = 4096;
		/* No 4-tuple twice: a second use would meet the first one's TIME-WAIT. */
		if (o->conns > 60000 || o->conns + o->warmup_conns > PORT_SPAN) {
			fprintf(stderr, PROG ": count: --conns %u and --warmup-conns %u: at most "
				"60000, and %u together\n", o->conns, o->warmup_conns, PORT_SPAN);
			rc = -1;
		}
		if (o->msl_ms > COUNT_MSL_MAX) {
			fprintf(stderr, PROG ": count: --msl-ms %u: at most %u\n", o->msl_ms,
				COUNT_MSL_MAX);
			rc = -1;
		}
	} else if (o->mode == M_MEM && o->conns <= MEM_SMALL) {
		fprintf(stderr, PROG ": --conns %u: mem needs more than %u\n", o->conns, MEM_SMALL);
		rc = -1;
	}
	return rc;
}

/* ---- The wire's two ends ---------------------------------------------------------- */

/* Every frame received ended in one DROP or END counter: true when so. */
static bool
accounted(const struct wire_end *e, uint64_t *drops)
{
	const uint64_t *ctr = dtcp_worker_counters(e->w);
	uint64_t ended = 0;

	*drops = 0;
	for (unsigned c = 0; c < DTCP_CTR_MAX; c++) {
		if (dtcp_ctr_kind(c) == DTCP_CTR_KIND_DROP && ctr[c] != 0) {
			*drops += ctr[c];
			printf("# %s: dropped %llu: %s\n", e->name, (unsigned long long)ctr[c],
			       dtcp_ctr_desc(c));
		}
		if (dtcp_ctr_kind(c) == DTCP_CTR_KIND_DROP || dtcp_ctr_kind(c) == DTCP_CTR_KIND_END)
			ended += ctr[c];
	}
	printf("# %s: frames received %llu, ended in a counter %llu, dropped %llu%s\n",
	       e->name, (unsigned long long)ctr[DTCP_CTR_rx_frames], (unsigned long long)ended,
	       (unsigned long long)*drops, ctr[DTCP_CTR_rx_frames] == ended ? "" : " (MISMATCH)");
	return ctr[DTCP_CTR_rx_frames] == ended;
}

/* "A.B.C.D/16,..." for n consecutive addresses from first. */
static int
set_addrs(struct dtcp_config *cfg, uint32_t first, unsigned n)
{
	char buf[DTCP_MAX_ADDRS * 20 + 1], err[256];
	size_t len = 0;

	for (unsigned i = 0; i < n; i++) {
		uint32_t a = first + i;

		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%u.%u.%u.%u/16",
					i ? "," : "", a >> 24, (a >> 16) & 255, (a >> 8) & 255,
					a & 255);
	}
	cfg->addrs_given = false;
	cfg->n_addrs = 0;
	cfg->gateway = 0;
	if (dtcp_config_set(cfg, "ip", "address", buf, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return -1;
	}
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(const double *v, unsigned k)
{
	static double s[MAX_SECONDS];

	memcpy(s, v, k * sizeof(*v));
	qsort(s, k, sizeof(*s), cmp_double);
	return k % 2 ? s[k / 2] : (s[k / 2 - 1] + s[k / 2]) / 2;
}

/* ---- The client lcore --------------------------------------------------------------- */

/* rr: the request's TSC, then the exchange's latency into the histogram. */
static void
rr_hook(void *arg, bool response)
{
	struct client *cl = arg;
	uint64_t now = rte_rdtsc(), ns;

	if (!response) {
		cl->req_tsc = now;
		return;
	}
	if (!cl->recording || cl->req_tsc == 0)
		return;
	ns = (now - cl->req_tsc) * 1000000000ull / rte_get_tsc_hz();
	cl->hist[RTE_MIN(ns, (uint64_t)LAT_NS_MAX - 1) / LAT_BUCKET_NS]++;
	cl->lat_n++;
	cl->lat_min = RTE_MIN(cl->lat_min, ns);
	cl->lat_max = RTE_MAX(cl->lat_max, ns);
}

static int
client_engine_main(void *arg)
{
	struct client *cl = arg;
	struct dtcp_worker *w = cl->end->w;
	const uint64_t hz = rte_get_tsc_hz();
	bool started = false;

	if (pthread_getcpuclockid(pthread_self(), &cl->cpu_clock) == 0)
		__atomic_store_n(&cl->cpu_clock_ok, true, __ATOMIC_RELEASE);
	while (!stop && !lg_engine_done(cl->eng)) {
		uint64_t tsc = rte_rdtsc(), now = dtcp_tsc_to_ns(tsc);

		dtcp_worker_poll(w, now);
		lg_engine_poll(cl->eng, now);
		if (!started && lg_engine_started(cl->eng)) {
			/* The engine's clock starts now: sample after the warm-up. */
			started = true;
			cl->rec_from_tsc = tsc + cl->o->warmup_s * hz;
			cl->rec_to_tsc = cl->rec_from_tsc + cl->o->duration_s * hz;
		}
		if (started)
			cl->recording = tsc >= cl->rec_from_tsc && tsc < cl->rec_to_tsc;
	}
	__atomic_store_n(&cl->done, true, __ATOMIC_RELEASE);
	return 0;
}

static void
mem_client_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct client *cl = ev->user;

	(void)w;
	switch (ev->type) {
	case DTCP_EV_CONNECTED:
		cl->connected++;
		break;
	case DTCP_EV_DATA:
		rte_pktmbuf_free(ev->data);
		break;
	case DTCP_EV_CLOSED:
		cl->failed++;
		break;
	case DTCP_EV_PEER_CLOSED:
	case DTCP_EV_WRITABLE:
	case DTCP_EV_ACCEPTABLE:
		break;
	}
}

/*
 * mem: open target connections, MEM_INFLIGHT handshakes at a time, from
 * CLIENT_ADDR.. x PORT_LO.. to SERVER_ADDR.. : each server address takes
 * DTCP_MAX_ADDRS x PORT_SPAN of them. Then poll idle until stopped.
 */
static int
client_mem_main(void *arg)
{
	struct client *cl = arg;
	struct dtcp_worker *w = cl->end->w;
	const uint32_t per_saddr = DTCP_MAX_ADDRS * PORT_SPAN;

	while (!stop) {
		dtcp_worker_poll(w, dtcp_tsc_to_ns(rte_rdtsc()));
		while (cl->opened < cl->target &&
		       cl->opened - cl->connected - cl->failed < MEM_INFLIGHT) {
			uint32_t i = cl->opened, s = i / per_saddr, r = i % per_saddr;
			int rc = dtcp_tcp_connect(w, SERVER_ADDR + s, SERVER_PORT,
						  CLIENT_ADDR + r % DTCP_MAX_ADDRS,
						  (uint16_t)(PORT_LO + r / DTCP_MAX_ADDRS),
						  mem_client_event, cl, &cl->conns[i]);

			if (rc != 0) {
				fprintf(stderr, PROG ": mem: connect #%u: %s\n", i, strerror(-rc));
				cl->failed++;
				cl->target = cl->opened;
				break;
			}
			cl->opened++;
		}
		if (cl->connected + cl->failed == cl->target)
			__atomic_store_n(&cl->done, true, __ATOMIC_RELEASE);
	}
	return 0;
}

/* ---- Configuration of both ends ------------------------------------------------------ */

static int
config_ends(const struct opts *o, struct wire_end *srv, struct wire_end *cli)
{
	char err[256];
	uint32_t tuples = o->n_client_addrs * PORT_SPAN;
	unsigned n_saddrs = 1;

	dtcp_config_defaults(&srv->cfg);
	dtcp_config_defaults(&cli->cfg);
	if (o->mode == M_MEM)
		n_saddrs = (o->conns + DTCP_MAX_ADDRS * PORT_SPAN - 1) / (DTCP_MAX_ADDRS * PORT_SPAN);
	if (n_saddrs > DTCP_MAX_ADDRS) {
		fprintf(stderr, PROG ": --conns %u needs more than %d server addresses\n", o->conns,
			DTCP_MAX_ADDRS);
		return -1;
	}
	if (set_addrs(&srv->cfg, SERVER_ADDR, n_saddrs) != 0 ||
	    set_addrs(&cli->cfg, CLIENT_ADDR,
		      o->mode == M_CPS ? o->n_client_addrs :
		      o->mode == M_MEM ? DTCP_MAX_ADDRS : 1) != 0 ||
	    dtcp_config_set(&srv->cfg, "port", "mac", "02:00:00:00:00:01", err, sizeof(err)) ||
	    dtcp_config_set(&cli->cfg, "port", "mac", "02:00:00:00:00:02", err, sizeof(err)))
		return -1;
	for (struct wire_end *e = srv; e != NULL; e = e == srv ? cli : NULL) {
		e->cfg.tcp_msl_ms = o->msl_ms;
		/* The wire holds a burst of every connection's segments: pool >> ring. */
		e->cfg.tcp_mbufs_max = RTE_MAX(e->cfg.tcp_mbufs_max, 4 * o->concurrency);
		e->cfg.mbufs = RTE_MAX(e->cfg.mbufs, e->cfg.tcp_mbufs_max + 2 * o->wire + 16384);
		switch (o->mode) {
		case M_CPS:
			/* Server: every 4-tuple may sit in TIME-WAIT (the client cycles them). */
			e->cfg.tcp_max_conns = 2 * o->concurrency + 1024;
			e->cfg.tcp_timewait_max = e == srv ? RTE_MIN(tuples, 1u << 24) : 1024;
			e->cfg.tcp_syn_backlog = RTE_MAX(e->cfg.tcp_syn_backlog, o->concurrency);
			e->cfg.tcp_accept_backlog = RTE_MAX(e->cfg.tcp_accept_backlog, o->concurrency);
			break;
		case M_RR:
			e->cfg.tcp_max_conns = 1024;
			e->cfg.tcp_timewait_max = 1024;
			break;
		case M_COUNT:
			/* Every connection of the run may be in TIME-WAIT on the server at once. */
			e->cfg.tcp_max_conns = 2 * o->concurrency + 1024;
			e->cfg.tcp_timewait_max = e == srv ? o->conns + o->warmup_conns + 1024 : 1024;
			e->cfg.tcp_syn_backlog = RTE_MAX(e->cfg.tcp_syn_backlog, o->concurrency);
			e->cfg.tcp_accept_backlog = RTE_MAX(e->cfg.tcp_accept_backlog, o->concurrency);
			/* Not the default's 65535: two pools of that take more than -m 512. */
			e->cfg.mbufs = e->cfg.tcp_mbufs_max + 2 * o->wire + 16384;
			break;
		case M_MEM:
			e->cfg.tcp_max_conns = o->conns + 1024;
			e->cfg.tcp_timewait_max = MEM_SMALL;
			e->cfg.tcp_syn_backlog = RTE_MAX(e->cfg.tcp_syn_backlog, 2 * MEM_INFLIGHT);
			e->cfg.tcp_accept_backlog = RTE_MAX(e->cfg.tcp_accept_backlog,
							    2 * MEM_INFLIGHT);
			break;
		case M_BULK:
			break;
		}
		if (dtcp_config_validate(&e->cfg, err, sizeof(err)) != 0) {
			fprintf(stderr, PROG ": %s: %s\n", e->name, err);
			return -1;
		}
	}
	return 0;
}

/* ---- mem ------------------------------------------------------------------------------ */

static uint64_t
heap_used(void)
{
	struct rte_malloc_socket_stats st;

	if (rte_malloc_get_socket_stats((int)rte_socket_id(), &st) != 0)
		return 0;
	return st.heap_allocsz_bytes;
}

/* Heap bytes a worker created with cfg (on a port) takes; 0 on failure. */
static uint64_t
worker_bytes(const struct dtcp_config *cfg, struct dtcp_port *port)
{
	char err[256];
	uint64_t before = heap_used();
	struct dtcp_worker *w = dtcp_worker_create(cfg, port, 7, 0, err, sizeof(err));
	uint64_t after = heap_used();

	if (w == NULL) {
		fprintf(stderr, PROG ": mem: %s\n", err);
		return 0;
	}
	dtcp_worker_destroy(w);
	return after - before;
}

/* The elements of the worker's TCB pool (tcb_<id>_...), header and trailer included. */
struct pool_find {
	char prefix[32];
	size_t elt, hdr;
};

static void
pool_walk(struct rte_mempool *mp, void *arg)
{
	struct pool_find *f = arg;

	if (strncmp(mp->name, f->prefix, strlen(f->prefix)) == 0) {
		f->elt = mp->elt_size;
		f->hdr = mp->header_size + mp->trailer_size;
	}
}

/*
 * Per connection: the TCB's pool element, and the flow table's share as
 * DPDK 22.11's rte_hash lays it out: a key slot (8-byte data pointer and
 * the 12-byte 4-tuple, aligned to 16: 32), an eighth of a 64-byte bucket,
 * as much again for the extendable buckets, and a 4-byte slot in each of
 * its two free-slot rings. The table's rounding up to a power of two is
 * left out: the measurement has it.
 */
static size_t
sizeof_per_conn(unsigned worker_id, const char *side)
{
	struct pool_find f = { .elt = 0 };

	snprintf(f.prefix, sizeof(f.prefix), "tcb_%u_", worker_id);
	rte_mempool_walk(pool_walk, &f);
	printf("# mem: %s: TCB pool element %zu bytes + %zu of mempool header; flow table "
	       "56 per entry\n", side, f.elt, f.hdr);
	return f.elt + f.hdr + 32 + 8 + 8 + 4 + 4;
}

static void
holder_conn_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct holder *h = ev->user;

	(void)w;
	if (ev->type == DTCP_EV_DATA)
		rte_pktmbuf_free(ev->data);
	else if (ev->type == DTCP_EV_CLOSED)
		h->closed++;
}

static void
holder_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct holder *h = ev->user;

	if (ev->type != DTCP_EV_ACCEPTABLE)
		return;
	for (unsigned i = 0; i < 65536 && dtcp_tcp_accept(w, ev->conn, holder_conn_event, h);
	     i++)
		h->accepted++;
}

/* ---- The main lcore: the server, the samples, the result ------------------------------ */

static void
print_cps_result(const struct opts *o, const double *v, unsigned k, uint64_t errors,
		 uint64_t tuples)
{
	double med = k > 0 ? median(v, k) : 0, lo = k > 0 ? v[0] : 0, hi = lo;
	unsigned held = 0;

	for (unsigned i = 0; i < k; i++) {
		lo = RTE_MIN(lo, v[i]);
		hi = RTE_MAX(hi, v[i]);
		if (v[i] >= med * 0.9 && v[i] <= med * 1.1)
			held++;
	}
	printf("result cps cps_median=%.0f cps_min=%.0f cps_max=%.0f seconds=%u held=%u "
	       "errors=%llu timewait_ms=%u tuples=%llu\n", med, lo, hi, k, held,
	       (unsigned long long)errors, 2 * o->msl_ms, (unsigned long long)tuples);
}

static void
print_rr_result(const struct client *cl)
{
	uint64_t p50 = 0, p99 = 0, seen = 0;
	bool have50 = false;

	for (uint32_t b = 0; b < LAT_NS_MAX / LAT_BUCKET_NS && cl->lat_n > 0; b++) {
		seen += cl->hist[b];
		if (!have50 && seen * 2 >= cl->lat_n) {
			p50 = (uint64_t)b * LAT_BUCKET_NS + LAT_BUCKET_NS / 2;
			have50 = true;
		}
		if (seen * 100 >= cl->lat_n * 99) {
			p99 = (uint64_t)b * LAT_BUCKET_NS + LAT_BUCKET_NS / 2;
			break;
		}
	}
	printf("result rr p50_us=%.2f p99_us=%.2f min_us=%.2f max_us=%.2f exchanges=%llu\n",
	       (double)p50 / 1e3, (double)p99 / 1e3,
	       cl->lat_n ? (double)cl->lat_min / 1e3 : 0.0, (double)cl->lat_max / 1e3,
	       (unsigned long long)cl->lat_n);
}

static double
cpu_s(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * The CPU time each lcore's thread had over the sampled seconds: on a
 * shared machine they are time-sliced, and a polling pair stalls while
 * either is off its CPU. CPU per exchange is the figure that survives.
 */
struct cpu_mark {
	double wall, srv, cli;
	uint64_t val;
};

static void
cpu_mark(struct cpu_mark *m, const struct client *cl, uint64_t val)
{
	m->wall = (double)rte_rdtsc() / (double)rte_get_tsc_hz();
	m->srv = cpu_s(CLOCK_THREAD_CPUTIME_ID);
	m->cli = __atomic_load_n(&cl->cpu_clock_ok, __ATOMIC_ACQUIRE) ? cpu_s(cl->cpu_clock) : 0;
	m->val = val;
}

/*
 * cps and rr: poll the server, turn the engine's per-second snapshots
 * into samples, until the client is done. Returns the snapshots lost
 * (each an error: a second nobody sampled).
 */
static uint64_t
run_exchange(const struct opts *o, struct wire_end *srv, struct client *cl, double *v, unsigned *k)
{
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t prev = 0, prev_t = 0, lost = 0, backoffs = 0, end_tsc = 0;
	unsigned second = 0;
	struct lg_snap snap;
	struct cpu_mark m0 = { 0 }, m1;

	*k = 0;
	for (;;) {
		uint64_t tsc = rte_rdtsc();

		dtcp_worker_poll(srv->w, dtcp_tsc_to_ns(tsc));
		if (stop)
			break;
		while (lg_engine_take_snap(cl->eng, &snap, &lost)) {
			uint64_t val = o->mode == M_CPS ? snap.stat[LG_completed]
							: snap.stat[LG_responses];
			double dt = (double)(snap.t_ns - prev_t) / 1e9;

			second++;
			if (second == o->warmup_s + 1)
				cpu_mark(&m0, cl, prev);
			if (second == o->warmup_s + o->duration_s) {
				cpu_mark(&m1, cl, val);
				if (val > m0.val && m1.wall > m0.wall)
					printf("# cpu over the sampled seconds: server lcore on its CPU %.0f %%, "
					       "client %.0f %%; CPU per %s: server %.0f ns, client %.0f ns\n",
					       100 * (m1.srv - m0.srv) / (m1.wall - m0.wall),
					       100 * (m1.cli - m0.cli) / (m1.wall - m0.wall),
					       o->mode == M_CPS ? "connection" : "exchange",
					       1e9 * (m1.srv - m0.srv) / (double)(val - m0.val),
					       1e9 * (m1.cli - m0.cli) / (double)(val - m0.val));
			}
			if (second > o->warmup_s && second <= o->warmup_s + o->duration_s &&
			    dt > 0.5) {
				v[*k] = (double)(val - prev) / dt;
				printf("sample %s %u %.0f\n", mode_name[o->mode], second - o->warmup_s,
				       v[*k]);
				(*k)++;
			} else if (second <= o->warmup_s) {
				printf("# warmup %u %.0f\n", second, dt > 0 ? (double)(val - prev) / dt : 0);
			}
			if (snap.notes & (LG_NOTE_BACKOFF | LG_NOTE_CAP) && o->rate != 0 &&
			    snap.stat[LG_backoffs] > backoffs)
				printf("# backoff: second %u, rate held at %u/s (target %u): the server "
				       "fell behind\n", second, snap.rate, o->rate);
			if (snap.notes & LG_NOTE_TUPLES)
				printf("# second %u: 4-tuples ran out\n", second);
			backoffs = snap.stat[LG_backoffs];
			fflush(stdout);
			prev = val;
			prev_t = snap.t_ns;
		}
		if (__atomic_load_n(&cl->done, __ATOMIC_ACQUIRE))
			break;
		/* The client drains for patience_ms at most: twice that and it is stuck. */
		if (*k >= o->duration_s && end_tsc == 0)
			end_tsc = tsc + 2 * (uint64_t)o->patience_ms * hz / 1000;
		if (end_tsc != 0 && tsc > end_tsc) {
			fprintf(stderr, PROG ": the client did not finish %u ms after the last sample\n",
				2 * o->patience_ms);
			stop = true;
			break;
		}
	}
	return lost;
}

/* ---- count: the instructions of exactly N connections --------------------------------- */

/*
 * One thread plays both lcores, in rounds, on a clock of its own that
 * moves COUNT_STEP_NS a round: the client's opens and its worker's poll,
 * then the server's poll, each only when it has something to do (frames
 * on its ring, opens due). So what runs depends neither on the machine's
 * speed nor on how valgrind schedules threads, and with both secrets
 * fixed every run executes the same instructions. A round where neither
 * side has anything to do waits for a timer: the clock goes to the next
 * tick and both are polled (idle_rounds; the cps exchange needs none).
 */
struct count_run {
	struct dtcp_worker *srv, *cli;
	struct rte_ring *to_srv, *to_cli;
	struct lg_engine *eng;
	const uint64_t *st;           /* the engine's counters */
	uint32_t burst;               /* opens per round, at most */
	uint64_t now, tick_ns, tw_ns;
	uint64_t rounds, idle, srv_polls, cli_polls;
};

/* The server's turn: a function of its own, for callgrind_annotate --inclusive. */
static __attribute__((noipa)) void
count_server_turn(struct count_run *r)
{
	dtcp_worker_poll(r->srv, r->now);
	r->srv_polls++;
}

/*
 * The client's turn: opens (the engine, made with burst 1, opens one a
 * call) up to the round's burst while fewer than target were opened, then
 * the worker's poll if frames came or a SYN was queued. True when it polled.
 */
static __attribute__((noipa)) bool
count_client_turn(struct count_run *r, uint64_t target, bool rx)
{
	uint64_t opened = r->st[LG_opened];

	for (uint32_t i = 0; i < r->burst && r->st[LG_opened] < target; i++) {
		uint64_t before = r->st[LG_opened];

		lg_engine_poll(r->eng, r->now);
		if (r->st[LG_opened] == before)
			break;
	}
	if (!rx && r->st[LG_opened] == opened)
		return false;
	dtcp_worker_poll(r->cli, r->now);
	r->cli_polls++;
	return true;
}

/*
 * Rounds until target connections were opened and every one completed,
 * the wire empty: true; false when stuck (an error, a timer that never
 * came) or past a count of rounds no exchange needs.
 */
static bool
count_drive(struct count_run *r, uint64_t target)
{
	const uint64_t limit = 64 * target + 10000, idle_limit = 1000;

	for (uint64_t i = 0; i < limit; i++) {
		bool cli_rx = !rte_ring_empty(r->to_cli), worked = false;

		r->now += COUNT_STEP_NS;
		if (cli_rx || r->st[LG_opened] < target)
			worked = count_client_turn(r, target, cli_rx);
		if (!rte_ring_empty(r->to_srv)) {
			count_server_turn(r);
			worked = true;
		}
		if (worked) {
			r->rounds++;
			continue;
		}
		if (r->st[LG_completed] >= target)
			return r->st[LG_completed] == target;
		if (r->idle++ >= idle_limit)
			return false;
		r->now = (r->now / r->tick_ns + 1) * r->tick_ns;
		dtcp_worker_poll(r->cli, r->now);
		count_server_turn(r);
	}
	return false;
}

/*
 * The server's TIME-WAIT records, every one entered so far, expire: the
 * clock 2 MSL and two ticks on, then a tick a poll (each tick frees
 * [timer] budget records at most). True when all have.
 */
static bool
count_expire(struct count_run *r)
{
	const uint64_t *sc = dtcp_worker_counters(r->srv);
	uint64_t want = sc[DTCP_CTR_tcp_timewait_enter];

	r->now += r->tw_ns + 2 * r->tick_ns;
	for (unsigned i = 0; i < 1000; i++) {
		count_server_turn(r);
		if (sc[DTCP_CTR_tcp_timewait_expired] >= want)
			return true;
		r->now += r->tick_ns;
	}
	return false;
}

struct count_result {
	uint64_t completed, rounds, idle, srv_polls, cli_polls, expired;
	uint64_t frames_cli, frames_srv;
};

/*
 * count: warmup_conns connections (first contact, ARP, the pools' caches,
 * the tables' first entries) and their TIME-WAIT's end uninstrumented;
 * then, between CALLGRIND_START_INSTRUMENTATION and _STOP, exactly conns
 * connections from the first SYN to the last ACK, and the end of each
 * one's TIME-WAIT on the server. Nothing else runs in that window but the
 * rounds' own few instructions (ring checks, the loop). 0, or -1 after a
 * message.
 */
static int
run_count(const struct opts *o, struct wire_end *srv, struct wire_end *cli,
	  struct rte_ring *to_srv, struct rte_ring *to_cli, struct lg_engine *eng,
	  struct count_result *res)
{
	const uint64_t *sc = dtcp_worker_counters(srv->w), *cc = dtcp_worker_counters(cli->w);
	struct count_run r = {
		.srv = srv->w, .cli = cli->w, .to_srv = to_srv, .to_cli = to_cli, .eng = eng,
		.st = lg_engine_stats(eng), .burst = o->burst,
		.tick_ns = (uint64_t)srv->cfg.timer_tick_us * 1000,
		.tw_ns = 2 * (uint64_t)o->msl_ms * 1000000,
	};
	uint64_t align = r.tick_ns << 16, expired0, fc0, fs0;
	bool ok;

	/*
	 * The clock starts on a multiple of 2^16 ticks, past the workers'
	 * creation: the timer wheel's cursor then crosses the same slot
	 * boundaries in every run.
	 */
	r.now = (dtcp_tsc_to_ns(rte_rdtsc()) / align + 1) * align;
	/* Both workers on that clock before the first open (its timers start from there). */
	dtcp_worker_poll(r.cli, r.now);
	dtcp_worker_poll(r.srv, r.now);
	if (!count_drive(&r, o->warmup_conns) || !count_expire(&r)) {
		fprintf(stderr, PROG ": count: the warm-up's %u connections did not complete "
			"(completed %llu)\n", o->warmup_conns,
			(unsigned long long)r.st[LG_completed]);
		return -1;
	}
	/* The client's worker catches up with the clock outside the window too. */
	dtcp_worker_poll(r.cli, r.now);
	r.rounds = r.idle = r.srv_polls = r.cli_polls = 0;
	expired0 = sc[DTCP_CTR_tcp_timewait_expired];
	fc0 = cc[DTCP_CTR_tx_frames];
	fs0 = sc[DTCP_CTR_tx_frames];

	CALLGRIND_START_INSTRUMENTATION;
	ok = count_drive(&r, (uint64_t)o->warmup_conns + o->conns) && count_expire(&r);
	CALLGRIND_STOP_INSTRUMENTATION;

	res->completed = r.st[LG_completed] - o->warmup_conns;
	res->rounds = r.rounds;
	res->idle = r.idle;
	res->srv_polls = r.srv_polls;
	res->cli_polls = r.cli_polls;
	res->expired = sc[DTCP_CTR_tcp_timewait_expired] - expired0;
	res->frames_cli = cc[DTCP_CTR_tx_frames] - fc0;
	res->frames_srv = sc[DTCP_CTR_tx_frames] - fs0;
	if (!ok)
		fprintf(stderr, PROG ": count: %llu of %u connections completed, %llu TIME-WAITs "
			"ended\n", (unsigned long long)res->completed, o->conns,
			(unsigned long long)res->expired);
	return ok ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static double samples[MAX_SECONDS];
	struct opts o = {
		.mode = M_CPS, .duration_s = 10, .warmup_s = 1, .concurrency = 128, .burst = 64,
		.conns = 1000000, .warmup_conns = COUNT_WARMUP, .msl_ms = 100, .body = 64,
		.n_client_addrs = DTCP_MAX_ADDRS,
		.wire = 16384, .patience_ms = 5000,
	};
	struct wire_end srv = { .name = "server" }, cli = { .name = "client" };
	struct client cl = { .end = &cli, .o = &o, .lat_min = UINT64_MAX };
	struct holder holder = { 0 };
	struct rte_ring *to_srv = NULL, *to_cli = NULL;
	struct httpd_responses *resp = NULL;
	struct httpd_worker *hw = NULL;
	unsigned lcore, k = 0;
	uint64_t errors = 0, tuples = 0, drops_c = 0, drops_s = 0;
	struct count_result cres = { 0 };
	bool launched = false, ok = false, acct_ok = true, pool_ok, count_ok = false;
	char err[256];
	int rc;

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
	if (parse_args(argc, argv, &o) != 0) {
		rte_eal_cleanup();
		return 2;
	}
	if (o.mode == M_BULK) {
		fprintf(stderr, PROG ": bulk is dtcp-bench-goodput's: run it with the same EAL "
			"options (-- --seconds N)\n");
		rte_eal_cleanup();
		return 2;
	}
	lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	if (lcore >= RTE_MAX_LCORE && o.mode != M_COUNT) {
		fprintf(stderr, PROG ": needs two lcores, the server's and the client's (-l 0,1)\n");
		rte_eal_cleanup();
		return 2;
	}
	if (o.mode == M_RR)
		o.concurrency = 1;
	if (config_ends(&o, &srv, &cli) != 0)
		goto out;
	to_srv = rte_ring_create("cps_to_srv", o.wire, (int)rte_socket_id(),
				 RING_F_SP_ENQ | RING_F_SC_DEQ);
	to_cli = rte_ring_create("cps_to_cli", o.wire, (int)rte_socket_id(),
				 RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (to_srv == NULL || to_cli == NULL) {
		fprintf(stderr, PROG ": wire rings: %s\n", rte_strerror(rte_errno));
		goto out;
	}

	if (o.mode == M_MEM) {
		/* The reference: a worker for MEM_SMALL connections, then one for N. */
		uint64_t hs = heap_used(), small_b[2], big_b[2], held_b[2];
		size_t sz[2];
		struct wire_end *ends[2] = { &cli, &srv };

		if (wire_end_open(&srv, PROG, to_srv, to_cli, 0) != 0 ||
		    wire_end_open(&cli, PROG, to_cli, to_srv, 1) != 0)
			goto out;
		for (int i = 0; i < 2; i++) {
			struct dtcp_config c = ends[i]->cfg;

			c.tcp_max_conns = MEM_SMALL;
			small_b[i] = worker_bytes(&c, ends[i]->port);
			big_b[i] = worker_bytes(&ends[i]->cfg, ends[i]->port);
			sz[i] = sizeof_per_conn(i == 0 ? 1u : 0u, ends[i]->name);
		}
		printf("# mem: heap in use %llu bytes after both ends opened\n",
		       (unsigned long long)(heap_used() - hs));
		cl.target = o.conns;
		cl.conns = rte_zmalloc("cps_mem_conns", sizeof(*cl.conns) * o.conns, 0);
		if (cl.conns == NULL) {
			fprintf(stderr, PROG ": mem: no memory for %u handles\n", o.conns);
			goto out;
		}
		rc = dtcp_tcp_listen(srv.w, 0, SERVER_PORT, NULL, holder_event, &holder,
				     &holder.listener);
		if (rc != 0) {
			fprintf(stderr, PROG ": listen: %s\n", strerror(-rc));
			goto out;
		}
		signal(SIGINT, on_signal);
		signal(SIGTERM, on_signal);
		held_b[0] = heap_used();
		if (rte_eal_remote_launch(client_mem_main, &cl, lcore) != 0)
			goto out;
		launched = true;
		{
			const uint64_t hz = rte_get_tsc_hz();
			uint64_t t0 = rte_rdtsc(), mark = t0 + hz;
			unsigned s = 0;

			while (!stop && !__atomic_load_n(&cl.done, __ATOMIC_ACQUIRE)) {
				uint64_t tsc = rte_rdtsc();

				dtcp_worker_poll(srv.w, dtcp_tsc_to_ns(tsc));
				if (tsc >= mark) {
					printf("# mem: second %u: %u accepted\n", ++s, holder.accepted);
					fflush(stdout);
					mark += hz;
				}
				if (tsc - t0 > MEM_OPEN_LIMIT_S * hz) {
					fprintf(stderr, PROG ": mem: not established in %d s\n",
						MEM_OPEN_LIMIT_S);
					break;
				}
			}
			/* Idle a second: nothing may close. */
			for (uint64_t t1 = rte_rdtsc(); !stop && rte_rdtsc() - t1 < hz;)
				dtcp_worker_poll(srv.w, dtcp_tsc_to_ns(rte_rdtsc()));
		}
		stop = true;
		rte_eal_wait_lcore(lcore);
		launched = false;
		held_b[1] = heap_used();
		printf("# mem: client connected %u of %u (%u failed), server accepted %u, closed %u; "
		       "heap grew %lld bytes while they were opened\n", cl.connected, o.conns,
		       cl.failed, holder.accepted, holder.closed,
		       (long long)(held_b[1] - held_b[0]));
		for (int i = 0; i < 2; i++)
			printf("# mem: %s: worker for %u: %llu bytes, for %u: %llu bytes: %.1f per "
			       "connection; sizeof-based %zu\n", ends[i]->name, MEM_SMALL,
			       (unsigned long long)small_b[i], ends[i]->cfg.tcp_max_conns,
			       (unsigned long long)big_b[i],
			       (double)(big_b[i] - small_b[i]) /
				       (ends[i]->cfg.tcp_max_conns - MEM_SMALL), sz[i]);
		ok = cl.connected == o.conns && holder.accepted == o.conns && holder.closed == 0 &&
		     cl.failed == 0;
		if (ok)
			printf("result mem conns=%u bytes_per_conn=%.0f bytes_per_conn_sizeof=%zu\n",
			       o.conns,
			       ((double)(big_b[0] - small_b[0]) + (double)(big_b[1] - small_b[1])) /
				       2 / (o.conns + 1024 - MEM_SMALL), (sz[0] + sz[1]) / 2);
		if (holder.listener != NULL)
			dtcp_tcp_close(srv.w, holder.listener);
		goto out;
	}

	/* cps and rr: dtcp-httpd's server, dtcp-loadgen's engine. */
	{
		struct httpd_opts ho = {
			.port = SERVER_PORT, .body_size = o.body, .keepalive = o.mode == M_RR,
			.max_header = 8192, .max_conns = 2 * o.concurrency + 64,
			.partial_buffers = 64,
		};
		struct lg_opts lo = {
			.server = SERVER_ADDR, .server_port = SERVER_PORT, .port_lo = PORT_LO,
			.port_hi = PORT_HI, .rate = o.rate, .concurrency = o.concurrency,
			.duration_s = o.mode == M_COUNT ? 0 : o.warmup_s + o.duration_s,
			.requests = o.mode == M_RR ? 0 : 1,
			.fin_first = o.mode == M_RR ? LG_FIN_CLIENT : LG_FIN_SERVER,
			.path = "/", .host = "198.18.0.1", .response_size = o.body,
			.connect_timeout_ms = o.patience_ms, .timeout_ms = o.patience_ms,
			.drain_ms = o.patience_ms, .wait_ms = o.patience_ms,
			/* count: one open a call, so that the driver stops at exactly N. */
			.burst = o.mode == M_COUNT ? 1 : o.burst,
		};
		uint32_t addrs[DTCP_MAX_ADDRS];
		unsigned n_addrs = o.mode == M_CPS ? o.n_client_addrs : 1;
		char req[512];
		int n;

		for (unsigned i = 0; i < n_addrs; i++)
			addrs[i] = CLIENT_ADDR + i;
		tuples = (uint64_t)n_addrs * PORT_SPAN;
		n = lg_http_request(req, sizeof(req), lo.path, lo.host, o.mode != M_RR, 0);
		if (n < 0)
			goto out;
		if (!o.separate_pools)
			srv.cfg.mbufs += cli.cfg.mbufs;
		if (wire_end_open(&srv, PROG, to_srv, to_cli, 0) != 0)
			goto out;
		if (!o.separate_pools)
			cli.pool = srv.pool;
		if (wire_end_open(&cli, PROG, to_cli, to_srv, 1) != 0)
			goto out;
		printf("# mbufs: %s\n", o.separate_pools ? "a pool per end"
			: "one pool for both ends, each lcore's cache taking back what it received");
		if (o.mode == M_COUNT) {
			/* Fixed secrets: the same ISNs and flow-table buckets every run. */
			static const uint8_t key_s[16] = "dtcp-count-srv.";
			static const uint8_t key_c[16] = "dtcp-count-cli.";

			if (dtcp_tcp_set_secret(srv.w, key_s) != 0 ||
			    dtcp_tcp_set_secret(cli.w, key_c) != 0)
				goto out;
		}
		resp = httpd_responses_create(&ho, 1, srv.cfg.mbufs, err, sizeof(err));
		hw = resp != NULL ? httpd_worker_create(srv.w, 0, srv.pool, &ho, resp, err,
							sizeof(err)) : NULL;
		cl.eng = hw != NULL ? lg_engine_create(cli.w, cli.pool, &lo, addrs, n_addrs, req,
						       (uint32_t)n, req, (uint32_t)n, err,
						       sizeof(err)) : NULL;
		if (cl.eng == NULL) {
			fprintf(stderr, PROG ": %s\n", err);
			goto out;
		}
		if (o.mode == M_RR) {
			cl.hist = rte_zmalloc("cps_rr_hist",
					      sizeof(*cl.hist) * (LAT_NS_MAX / LAT_BUCKET_NS), 0);
			if (cl.hist == NULL)
				goto out;
			lg_engine_set_hook(cl.eng, rr_hook, &cl);
		}
	}
	if (o.mode == M_COUNT)
		printf("# count: net_ring pair (%u slots each way), both workers on lcore %u in turn "
		       "on a clock of the program's (%u ns a round); %u connections, then %u "
		       "measured; concurrency %u, up to %u opens a round; body %u bytes; TIME-WAIT "
		       "(2MSL) %u ms on the server, its end inside the measured window\n", o.wire,
		       rte_lcore_id(), COUNT_STEP_NS, o.warmup_conns, o.conns, o.concurrency,
		       o.burst, o.body, 2 * o.msl_ms);
	else
		printf("# %s: net_ring pair (%u slots each way), server on lcore %u, client on lcore "
		       "%u; %u s + %u s warm-up; body %u bytes; TIME-WAIT (2MSL) %u ms on the side "
		       "that closes first (%s)\n", mode_name[o.mode], o.wire, rte_lcore_id(), lcore,
		       o.duration_s, o.warmup_s, o.body, 2 * o.msl_ms,
		       o.mode == M_CPS ? "the server" : "the client");
	if (o.mode == M_CPS)
		printf("# cps: %u client addresses x %u ports = %llu 4-tuples to one server "
		       "address and port: enough for %.0f connections/s with TIME-WAIT %u ms; "
		       "concurrency %u, rate %s\n", o.n_client_addrs, PORT_SPAN,
		       (unsigned long long)tuples, (double)tuples * 1000.0 / (2.0 * o.msl_ms),
		       2 * o.msl_ms, o.concurrency, o.rate ? "fixed" : "as fast as possible");
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (o.mode == M_COUNT) {
		count_ok = run_count(&o, &srv, &cli, to_srv, to_cli, cl.eng, &cres) == 0;
	} else {
		if (rte_eal_remote_launch(client_engine_main, &cl, lcore) != 0) {
			fprintf(stderr, PROG ": cannot start lcore %u\n", lcore);
			goto out;
		}
		launched = true;
		errors += run_exchange(&o, &srv, &cl, samples, &k);
		if (stop && !__atomic_load_n(&cl.done, __ATOMIC_ACQUIRE))
			errors++;
		stop = true;
		rte_eal_wait_lcore(lcore);
		launched = false;
	}
	/* Both lcores idle: their state can be read and torn down here. */
	{
		const uint64_t *st = lg_engine_stats(cl.eng), *hs = httpd_worker_stats(hw);
		const uint64_t *sc = dtcp_worker_counters(srv.w);

		for (unsigned s = 0; s < LG_STAT_MAX; s++) {
			if (st[s] != 0)
				printf("# client %s %llu\n", lg_stat_name(s), (unsigned long long)st[s]);
			if (lg_stat_is_error(s))
				errors += st[s];
		}
		for (unsigned s = 0; s < HTTPD_STAT_MAX; s++)
			if (hs[s] != 0)
				printf("# server %s %llu\n", httpd_stat_name(s),
				       (unsigned long long)hs[s]);
		errors += hs[HTTPD_reset] + hs[HTTPD_bad_heads] + hs[HTTPD_no_mbuf] +
			  hs[HTTPD_no_partial] + hs[HTTPD_refused];
		if (o.mode == M_CPS) {
			double peak = 0;

			for (unsigned i = 0; i < k; i++)
				peak = RTE_MAX(peak, samples[i]);
			printf("# cps: TIME-WAIT entered %llu, cut short by a newer SYN (RFC 6191) "
			       "%llu, refused (table full) %llu, on the server; 4-tuples needed at the "
			       "best second %.0f of %llu\n",
			       (unsigned long long)sc[DTCP_CTR_tcp_timewait_enter],
			       (unsigned long long)sc[DTCP_CTR_tcp_tw_reuse],
			       (unsigned long long)sc[DTCP_CTR_tcp_timewait_full],
			       peak * 2 * o.msl_ms / 1000.0, (unsigned long long)tuples);
			if (peak * 2 * o.msl_ms / 1000.0 > (double)tuples) {
				fprintf(stderr, PROG ": 4-tuples too few for TIME-WAIT at this rate\n");
				errors++;
			}
			/* Either way a connection did not have its whole TIME-WAIT. */
			errors += sc[DTCP_CTR_tcp_timewait_full] + sc[DTCP_CTR_tcp_tw_reuse];
		}
		if (st[LG_opened] > 0) {
			const uint64_t *cc = dtcp_worker_counters(cli.w);

			printf("# frames per connection: client sent %.2f, server sent %.2f\n",
			       (double)cc[DTCP_CTR_tx_frames] / (double)st[LG_opened],
			       (double)sc[DTCP_CTR_tx_frames] / (double)st[LG_opened]);
		}
	}
	acct_ok = accounted(&cli, &drops_c) & accounted(&srv, &drops_s);
	if (o.mode == M_CPS && k > 0)
		print_cps_result(&o, samples, k, errors, tuples);
	else if (o.mode == M_RR && k > 0 && errors == 0)
		print_rr_result(&cl);
	if (o.mode == M_COUNT) {
		/* Frames dropped in a run where nothing is lost are errors too. */
		errors += drops_c + drops_s;
		printf("result count conns=%u completed=%llu errors=%llu warmup=%u concurrency=%u "
		       "rounds=%llu idle_rounds=%llu server_polls=%llu client_polls=%llu "
		       "timewait_expired=%llu frames_client=%llu frames_server=%llu\n", o.conns,
		       (unsigned long long)cres.completed, (unsigned long long)errors,
		       o.warmup_conns, o.concurrency, (unsigned long long)cres.rounds,
		       (unsigned long long)cres.idle, (unsigned long long)cres.srv_polls,
		       (unsigned long long)cres.cli_polls, (unsigned long long)cres.expired,
		       (unsigned long long)cres.frames_cli, (unsigned long long)cres.frames_srv);
		ok = count_ok && cres.completed == o.conns && cres.expired == o.conns &&
		     errors == 0;
		if (!ok)
			fprintf(stderr, PROG ": count: %llu of %u connections, %llu TIME-WAITs "
				"ended, %llu errors\n", (unsigned long long)cres.completed, o.conns,
				(unsigned long long)cres.expired, (unsigned long long)errors);
	} else {
		ok = k == o.duration_s && errors == 0;
		if (!ok)
			fprintf(stderr, PROG ": %u of %u samples, %llu errors\n", k, o.duration_s,
				(unsigned long long)errors);
	}

out:
	if (launched) {
		stop = true;
		rte_eal_wait_lcore(lcore);
	}
	if (cl.eng != NULL) {
		lg_engine_stop(cl.eng);
		lg_engine_free(cl.eng);
	}
	if (hw != NULL) {
		httpd_worker_stop(hw);
		httpd_worker_free(hw);
	}
	wire_end_close(&cli);
	wire_end_close(&srv);
	wire_ring_free(to_srv, o.wire);
	wire_ring_free(to_cli, o.wire);
	if (resp != NULL && httpd_responses_free(resp, stdout) != 0)
		ok = false;
	pool_ok = (srv.pool == NULL || rte_mempool_in_use_count(srv.pool) == 0) &&
		  (cli.pool == NULL || rte_mempool_in_use_count(cli.pool) == 0);
	if (!pool_ok)
		fprintf(stderr, PROG ": mbufs still in use: server's pool %u, client's %u (LEAK)\n",
			rte_mempool_in_use_count(srv.pool), rte_mempool_in_use_count(cli.pool));
	rte_free(cl.hist);
	rte_free(cl.conns);
	if (cli.own_pool)
		rte_mempool_free(cli.pool);
	if (srv.own_pool)
		rte_mempool_free(srv.pool);
	rte_eal_cleanup();
	if (!pool_ok || !acct_ok)
		return 3;
	return ok ? 0 : 1;
}
