/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-bench-goodput: the goodput of one TCP connection between two dtcp
 * workers, in real time, over a virtual wire.
 *
 * The wire is a net_ring pair: two rte_rings, one each way, made into two
 * ethdev ports by rte_eth_from_rings and set up by the port layer like any
 * other device. The sink (a listener, then the connection it accepts) runs
 * on the main lcore; the source (dtcp_tcp_connect, then dtcp_tcp_send_copy as fast
 * as the send buffer takes it, DTCP_EV_WRITABLE for back-pressure) on the
 * next lcore. Loss comes from the fault stage ([fault] tx_loss on both
 * ports: the data one way, the ACKs the other).
 *
 * Goodput is what the sink's application is handed, per wall-clock second
 * from the moment it accepted; the first second is warm-up. The stream is
 * bench/pattern.h's, checked byte by byte as it arrives (--sink verify), or
 * copied out to a 256 KiB buffer as Linux's read() does for the baseline
 * (dtcp-bench-cps-linux --mode bulk), with 16 bytes at each end of every
 * piece checked in the copy (--sink copy); at the end the source
 * half-closes and the sink must have received exactly what was sent.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include <dtcp/dtcp.h>

#include "bench_args.h"

#include "pattern.h"
#include "wire_end.h"

#define PROG "dtcp-bench-goodput"
#define MAX_SECONDS 3600
#define SINK_PORT 5001
#define WIRE_RING_SIZE 8192     /* frames each way; more than a window in flight */
#define BUF_BYTES (4u << 20)    /* send buffer and receive window: Linux's tcp_wmem ceiling */
#define CONNECT_LIMIT_S 10      /* ARP and the handshake, losses included */
#define DRAIN_LIMIT_S 30        /* the tail of the stream and the FIN after the last sample */
#define CLOSE_LIMIT_S 5         /* the rest of the close handshake */
#define READ_BUF (256u << 10)   /* --sink copy's buffer: the Linux baseline's read() size */
#define FULL_CPU 0.95            /* a second "had its CPUs" when both threads ran this share */
#define IDLE_POLLS 256u         /* empty polls in a row before an --idle-sleep-us pause */
#define EDGE 16u                /* --sink copy checks this many bytes at each end of a piece */

static volatile bool stop;      /* a signal: end at once */
static unsigned idle_sleep_us;  /* --idle-sleep-us: 0, poll without pause */

static void
on_signal(int sig)
{
	(void)sig;
	stop = true;
}

static uint8_t pattern[PATTERN_BUF_LEN];
static uint8_t read_buf[READ_BUF];

/* One end of the wire: its ethdev, pool, port and worker. */
/* The receiving application, on the main lcore. */
struct sink {
	struct dtcp_conn *listener;
	struct dtcp_conn *conn;
	uint64_t accepted_tsc;        /* 0 until a connection was accepted */
	uint64_t bytes;               /* delivered, in order */
	uint32_t pos;                 /* bytes mod PATTERN_PERIOD */
	uint64_t bad_segments;        /* mbuf segments unlike the pattern */
	uint64_t first_bad;           /* stream offset of the first, UINT64_MAX if none */
	bool copy;                    /* --sink copy: copied out, the ends checked */
	uint32_t buf_off;             /* where the next piece goes in read_buf */
	bool peer_closed;
	int error;                    /* of DTCP_EV_CLOSED, before the peer closed */
};

/*
 * The sending application, on the other lcore. The main lcore writes
 * `drain`; the source writes `done` last, after the rest of its fields.
 */
struct source {
	struct wire_end *end;
	uint32_t sink_addr;
	struct dtcp_conn *conn;
	uint64_t bytes;               /* taken by dtcp_tcp_send_copy */
	uint32_t pos;
	bool writable;
	bool shut;                    /* FIN queued: bytes is final */
	bool closed;
	int error;
	struct dtcp_conn_info info;   /* at the FIN */
	clockid_t cpu_clock;          /* the source thread's CPU time */
	bool cpu_clock_ok;            /* source -> main: cpu_clock is set */
	bool drain;                   /* main -> source: stop sending, half-close */
	bool done;                    /* source -> main: shut or failed */
};

/* One second of the measurement. */
struct sample {
	double mbps;
	double cpu_sink, cpu_source;  /* share of the second each lcore thread was on its CPU */
};

static void
usage(const char *prog)
{
	printf("Usage: %s [EAL options] -- [--seconds N] [--loss P] [--mtu N]\n"
	       "       [--sink verify|copy] [--idle-sleep-us N] [--config FILE]\n"
	       "       [--set SEC.KEY=VALUE]...\n"
	       "\n"
	       "One TCP connection between two dtcp workers over a net_ring pair in this\n"
	       "process: the sink on the main lcore, the source on the next one (give\n"
	       "two: -l 0,1). The source sends bench/pattern.h's stream as fast as its\n"
	       "send buffer takes it; the sink checks every byte (or copies it out,\n"
	       "--sink copy). Prints the goodput (bytes\n"
	       "handed to the sink's application) for each wall-clock second.\n"
	       "\n"
	       "  --seconds N        seconds measured from the accept, 2..%d (default 5);\n"
	       "                     the first is warm-up, left out of the RESULT line\n"
	       "  --loss P           percent of frames lost ([fault] tx_loss on both ends:\n"
	       "                     data one way, ACKs the other), e.g. 1 or 0.5\n"
	       "  --mtu N            [port] mtu on both ends, 576..65535 (default 1500);\n"
	       "                     65535, IPv4's largest datagram, is Linux loopback's\n"
	       "                     like for like (lo's MTU 65536 sends the same datagrams)\n"
	       "  --idle-sleep-us N  after 256 empty polls in a row a thread sleeps N us\n"
	       "                     (0..1000, default 0: poll without pause), as a\n"
	       "                     blocking reader sleeps: for cores shared with others\n"
	       "  --sink verify|copy what the sink does with each piece: verify, compare\n"
	       "                     every byte with the pattern (default); copy, copy it\n"
	       "                     to a 256 KiB buffer as read() does in the Linux\n"
	       "                     baseline, and check 16 bytes at each end of the copy\n"
	       "  --config FILE      INI configuration for both ends (see config/services.ini);\n"
	       "                     [ip] address and [port] mac are the benchmark's own\n"
	       "  --set SEC.KEY=VAL  one configuration key for both ends, after the file\n"
	       "  --help             this text\n"
	       "\n"
	       "Defaults beyond dtcp's: [tcp] congestion = cubic, sndbuf = rcvbuf = 4194304\n"
	       "(Linux's tcp_wmem ceiling). Prints one\n"
	       "'second=I goodput_mbps=G cpu_sink=C cpu_source=C' line per second (C: the\n"
	       "share of the second the lcore's thread was on its CPU), counters, then\n"
	       "  RESULT dtcp_goodput_mbps_median=M min=A max=B samples=S ... data_ok=1 ...\n"
	       "Exits 1 when the run fails (no connection, a stall), 3 when a byte was lost\n"
	       "or corrupted, a frame unaccounted for or an mbuf leaked.\n"
	       "\n"
	       "Example: %s -l 0,1 --no-pci --no-huge -m 1024 -- --seconds 5 --loss 1\n",
	       prog, MAX_SECONDS, prog);
}

/* --set SEC.KEY=VALUE into cfg; 0 or -1 with a message printed. */
static int
set_key(struct dtcp_config *cfg, const char *arg)
{
	char buf[256], err[256], *dot, *eq;

	if (strlen(arg) >= sizeof(buf)) {
		fprintf(stderr, PROG ": --set %s: too long\n", arg);
		return -1;
	}
	strcpy(buf, arg);
	dot = strchr(buf, '.');
	eq = strchr(buf, '=');
	if (dot == NULL || eq == NULL || dot > eq) {
		fprintf(stderr, PROG ": --set %s: expected SECTION.KEY=VALUE\n", arg);
		return -1;
	}
	*dot = '\0';
	*eq = '\0';
	if (dtcp_config_set(cfg, buf, dot + 1, eq + 1, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": --set: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * --mtu: [port] mtu on both ends. Above 1500 the mbufs grow with it (up to
 * 64 KiB): each pool gets about 256 MiB of them, at least 4096, and the
 * caps that reserve mbufs (dtcp_config_validate) shrink to fit, still far
 * above what one connection holds (a 4 MiB window is 65 mbufs of 64 KiB).
 */
static int
set_mtu(struct dtcp_config *cfg, const char *arg)
{
	char err[256];

	if (dtcp_config_set(cfg, "port", "mtu", arg, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": --mtu: %s\n", err);
		return -1;
	}
	if (cfg->mtu > 1500) {
		cfg->mbufs = RTE_MAX(4096u, RTE_MIN(65535u, (256u << 20) / (cfg->mtu + 282u)));
		cfg->tcp_mbufs_max = 1024;
		cfg->arp_pending_max = 64;
		cfg->frag_max_flows = 16;
	}
	return 0;
}

static int
parse_args(int argc, char **argv, struct dtcp_config *cfg, unsigned *seconds, bool *copy)
{
	enum { O_SECONDS = 256, O_LOSS, O_MTU, O_SINK, O_IDLE, O_CONFIG, O_SET, O_HELP };
	static const struct option longopts[] = {
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "loss", required_argument, NULL, O_LOSS },
		{ "mtu", required_argument, NULL, O_MTU },
		{ "sink", required_argument, NULL, O_SINK },
		{ "idle-sleep-us", required_argument, NULL, O_IDLE },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "set", required_argument, NULL, O_SET },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	const char *loss = NULL;
	char err[256];
	unsigned long v;
	char *end;
	int opt;

	/* The file first, wherever it is: the other options override it. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == '?')
			return -1;
		if (opt == O_HELP) {
			usage(argv[0]);
			exit(0);
		}
		if (opt == O_CONFIG && dtcp_config_load(cfg, optarg, err, sizeof(err)) != 0) {
			fprintf(stderr, PROG ": %s\n", err);
			return -1;
		}
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case O_SECONDS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-' || v < 2 ||
			    v > MAX_SECONDS) {
				fprintf(stderr, PROG ": --seconds %s: expected 2..%d\n", optarg,
					MAX_SECONDS);
				return -1;
			}
			*seconds = (unsigned)v;
			break;
		case O_LOSS:
			loss = optarg;
			break;
		case O_MTU:
			if (set_mtu(cfg, optarg) != 0)
				return -1;
			break;
		case O_IDLE:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-' || v > 1000) {
				fprintf(stderr, PROG ": --idle-sleep-us %s: expected 0..1000\n", optarg);
				return -1;
			}
			idle_sleep_us = (unsigned)v;
			break;
		case O_SINK:
			if (strcmp(optarg, "verify") != 0 && strcmp(optarg, "copy") != 0) {
				fprintf(stderr, PROG ": --sink %s: expected verify or copy\n", optarg);
				return -1;
			}
			*copy = strcmp(optarg, "copy") == 0;
			break;
		case O_SET:
			if (set_key(cfg, optarg) != 0)
				return -1;
			break;
		default:
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s' (try --help)\n", argv[optind]);
		return -1;
	}
	if (loss != NULL && dtcp_config_set(cfg, "fault", "tx_loss", loss, err, sizeof(err)) != 0) {
		fprintf(stderr, PROG ": --loss: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * --idle-sleep-us: after IDLE_POLLS polls in a row that received nothing,
 * the thread sleeps that long, as a blocking reader sleeps in read(). On a
 * machine whose cores other programs share, a thread that always polls
 * uses its whole share spinning while its peer is off its CPU, and the
 * scheduler then runs it at times unrelated to when it has work; one that
 * sleeps when idle keeps its claim for when it has. Pure polling (0) is
 * the default, what a dedicated core would do.
 */
static void
idle_pause(unsigned *empty, unsigned got)
{
	struct timespec ts;

	if (idle_sleep_us == 0)
		return;
	if (got > 0) {
		*empty = 0;
		return;
	}
	if (++*empty < IDLE_POLLS)
		return;
	*empty = 0;
	ts.tv_sec = idle_sleep_us / 1000000;
	ts.tv_nsec = (long)(idle_sleep_us % 1000000) * 1000;
	nanosleep(&ts, NULL);
}

/* ---- The sink: the main lcore's application ---------------------------------------- */

/*
 * --sink copy: the piece copied to the application's buffer, as read()
 * copies out of the kernel, and the copy's first and last EDGE bytes held
 * against the pattern. A lost, repeated or misplaced piece shows at its
 * ends (the pattern's period is a prime no piece length lines up with);
 * the bytes inside travelled under the TCP checksum, and --sink verify
 * checks them all.
 */
static bool
copy_piece(struct sink *s, const uint8_t *p, uint32_t len)
{
	uint32_t edge = RTE_MIN(len, EDGE);
	uint8_t *dst;

	if (s->buf_off + len > READ_BUF)
		s->buf_off = 0;
	dst = read_buf + s->buf_off;
	memcpy(dst, p, len);
	s->buf_off += len;
	return memcmp(dst, pattern + s->pos, edge) == 0 &&
	       memcmp(dst + len - edge, pattern + s->pos + len - edge, edge) == 0;
}

/* Every segment of a DATA chain checked (--sink verify) or copied out (--sink copy). */
static void
sink_take(struct sink *s, struct rte_mbuf *m)
{
	for (struct rte_mbuf *seg = m; seg != NULL; seg = seg->next) {
		const uint8_t *p = rte_pktmbuf_mtod(seg, const uint8_t *);
		uint32_t len = seg->data_len;
		bool ok = s->copy ? copy_piece(s, p, len) : memcmp(p, pattern + s->pos, len) == 0;

		if (!ok && s->bad_segments++ == 0)
			s->first_bad = s->bytes;
		s->bytes += len;
		s->pos = pattern_advance(s->pos, len);
	}
	rte_pktmbuf_free(m);
}

static void
sink_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct sink *s = ev->user;

	switch (ev->type) {
	case DTCP_EV_DATA:
		sink_take(s, ev->data);
		return;
	case DTCP_EV_PEER_CLOSED:
		/* Everything sent is in: answer the FIN and let the stack finish. */
		s->peer_closed = true;
		dtcp_tcp_close(w, ev->conn);
		s->conn = NULL;
		return;
	case DTCP_EV_CLOSED:
		s->error = ev->error != 0 ? ev->error : -EPIPE;
		s->conn = NULL;
		return;
	case DTCP_EV_ACCEPTABLE:
	case DTCP_EV_CONNECTED:
	case DTCP_EV_WRITABLE:
		return;
	}
}

static void
listener_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct sink *s = ev->user;
	struct dtcp_conn *c;

	if (ev->type != DTCP_EV_ACCEPTABLE)
		return;
	/* One connection is measured; any other is refused. */
	for (unsigned i = 0; i < 1024 && (c = dtcp_tcp_accept(w, ev->conn, sink_event, s)) != NULL;
	     i++) {
		if (s->accepted_tsc != 0) {
			dtcp_tcp_abort(w, c);
			continue;
		}
		s->conn = c;
		s->accepted_tsc = rte_rdtsc();
	}
}

/* ---- The source: the other lcore's application ------------------------------------- */

/* As much of the stream as the send buffer takes; DTCP_EV_WRITABLE says when to go on. */
static void
source_fill(struct dtcp_worker *w, struct source *s)
{
	/* Bounded: each round takes a chunk, and the send buffer is finite. */
	for (unsigned i = 0; i < 1024 && s->writable && !s->shut; i++) {
		int n = dtcp_tcp_send_copy(w, s->conn, pattern + s->pos, PATTERN_CHUNK);

		if (n < 0) {
			s->error = n;
			s->writable = false;
			return;
		}
		s->bytes += (uint32_t)n;
		s->pos = pattern_advance(s->pos, (uint32_t)n);
		if ((uint32_t)n < PATTERN_CHUNK)
			s->writable = false;
	}
}

static void
source_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct source *s = ev->user;

	switch (ev->type) {
	case DTCP_EV_CONNECTED:
	case DTCP_EV_WRITABLE:
		s->writable = true;
		if (!__atomic_load_n(&s->drain, __ATOMIC_RELAXED))
			source_fill(w, s);
		return;
	case DTCP_EV_DATA:
		rte_pktmbuf_free(ev->data);
		return;
	case DTCP_EV_PEER_CLOSED:
		dtcp_tcp_close(w, ev->conn);
		s->conn = NULL;
		__atomic_store_n(&s->closed, true, __ATOMIC_RELEASE);
		return;
	case DTCP_EV_CLOSED:
		if (!s->shut || ev->error != 0)
			s->error = ev->error != 0 ? ev->error : -EPIPE;
		s->conn = NULL;
		__atomic_store_n(&s->closed, true, __ATOMIC_RELEASE);
		return;
	case DTCP_EV_ACCEPTABLE:
		return;
	}
}

/* The source's lcore: connect, send until told to drain, half-close, poll until stopped. */
static int
source_main(void *arg)
{
	struct source *s = arg;
	struct dtcp_worker *w = s->end->w;
	unsigned empty = 0;
	int rc;

	if (idle_sleep_us > 0)
		prctl(PR_SET_TIMERSLACK, 1000UL);  /* the pause as asked, not 50 us late */
	if (pthread_getcpuclockid(pthread_self(), &s->cpu_clock) == 0)
		__atomic_store_n(&s->cpu_clock_ok, true, __ATOMIC_RELEASE);
	rc = dtcp_tcp_connect(w, s->sink_addr, SINK_PORT, 0, 0, source_event, s, &s->conn);
	if (rc != 0) {
		s->error = rc;
		__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
	}
	while (!stop) {
		idle_pause(&empty, dtcp_worker_poll(w, dtcp_tsc_to_ns(rte_rdtsc())));
		if (s->done)
			continue;
		if (s->error != 0 || (s->closed && !s->shut)) {
			__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
		} else if (__atomic_load_n(&s->drain, __ATOMIC_ACQUIRE)) {
			dtcp_conn_info(s->conn, &s->info);
			rc = dtcp_tcp_shutdown(w, s->conn);
			if (rc != 0)
				s->error = rc;
			s->shut = true;
			__atomic_store_n(&s->done, true, __ATOMIC_RELEASE);
		} else if (s->writable) {
			source_fill(w, s);
		}
	}
	return 0;
}

/* ---- Set-up and tear-down ----------------------------------------------------------- */

/* Every frame received ended in one DROP or END counter: printed, and true when so. */
static bool
accounted(const struct wire_end *e)
{
	const uint64_t *ctr = dtcp_worker_counters(e->w);
	uint64_t ended = 0;

	for (unsigned c = 0; c < DTCP_CTR_MAX; c++)
		if (dtcp_ctr_kind(c) == DTCP_CTR_KIND_DROP || dtcp_ctr_kind(c) == DTCP_CTR_KIND_END)
			ended += ctr[c];
	printf(PROG ": %s counters\n", e->name);
	dtcp_stats_print(ctr, stdout);
	printf(PROG ": %s: frames received %llu, ended in a counter %llu%s\n", e->name,
	       (unsigned long long)ctr[DTCP_CTR_rx_frames], (unsigned long long)ended,
	       ctr[DTCP_CTR_rx_frames] == ended ? "" : "  (MISMATCH)");
	return ctr[DTCP_CTR_rx_frames] == ended;
}

static double
cpu_s(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- The measurement, on the main lcore ---------------------------------------------- */

enum outcome { RUN_OK, RUN_FAILED, RUN_STOPPED };

static bool
source_done(struct source *src)
{
	return __atomic_load_n(&src->done, __ATOMIC_ACQUIRE);
}

/*
 * Poll the sink until the connection is accepted, then take `seconds`
 * one-second samples of the bytes delivered, and of the CPU time both
 * lcore threads had (on a shared machine they are time-sliced, and a
 * polling pair stalls whenever either is off its CPU). Returns the
 * samples taken.
 */
static unsigned
measure(struct wire_end *e, struct sink *s, struct source *src, unsigned seconds,
	struct sample *smp, enum outcome *out)
{
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t start = rte_rdtsc(), mark = 0, last = 0;
	double cpu_sink = 0, cpu_source = 0;
	bool src_clock = false;
	unsigned n = 0, empty = 0;

	*out = RUN_OK;
	while (n < seconds) {
		uint64_t now;

		if (stop) {
			*out = RUN_STOPPED;
			break;
		}
		idle_pause(&empty, dtcp_worker_poll(e->w, dtcp_tsc_to_ns(rte_rdtsc())));
		/* Read after the poll: never before an accept made in it. */
		now = rte_rdtsc();
		if (s->accepted_tsc == 0) {
			if (source_done(src) || now - start > CONNECT_LIMIT_S * hz) {
				fprintf(stderr, PROG ": no connection after %.1f s (source error %d)\n",
					(double)(now - start) / (double)hz, src->error);
				*out = RUN_FAILED;
				break;
			}
			continue;
		}
		if (mark == 0) {
			mark = s->accepted_tsc;
			src_clock = __atomic_load_n(&src->cpu_clock_ok, __ATOMIC_ACQUIRE);
			cpu_sink = cpu_s(CLOCK_THREAD_CPUTIME_ID);
			cpu_source = src_clock ? cpu_s(src->cpu_clock) : 0;
		}
		if (s->error != 0 || source_done(src)) {
			fprintf(stderr, PROG ": the connection ended during second %u (sink %d, "
				"source %d)\n", n + 1, s->error, src->error);
			*out = RUN_FAILED;
			break;
		}
		if (now - mark < hz)
			continue;
		{
			/* Scaled by the real interval: a late look does not inflate the rate. */
			double wall = (double)(now - mark) / (double)hz;
			double cs = cpu_s(CLOCK_THREAD_CPUTIME_ID);
			double cr = src_clock ? cpu_s(src->cpu_clock) : 0;

			smp[n].mbps = (double)(s->bytes - last) * 8 / 1e6 / wall;
			smp[n].cpu_sink = (cs - cpu_sink) / wall;
			smp[n].cpu_source = (cr - cpu_source) / wall;
			printf("second=%u goodput_mbps=%.1f cpu_sink=%.3f cpu_source=%.3f\n", n + 1,
			       smp[n].mbps, smp[n].cpu_sink, smp[n].cpu_source);
			fflush(stdout);
			cpu_sink = cs;
			cpu_source = cr;
		}
		n++;
		mark = now;
		last = s->bytes;
	}
	return n;
}

/* Tell the source to half-close, then poll until the sink has the FIN and the close is done. */
static enum outcome
drain(struct wire_end *e, struct sink *s, struct source *src)
{
	const uint64_t hz = rte_get_tsc_hz();
	uint64_t start = rte_rdtsc(), closed_at = 0;

	__atomic_store_n(&src->drain, true, __ATOMIC_RELEASE);
	for (;;) {
		uint64_t now = rte_rdtsc();

		if (stop)
			return RUN_STOPPED;
		dtcp_worker_poll(e->w, dtcp_tsc_to_ns(now));
		if (s->error != 0) {
			fprintf(stderr, PROG ": the connection ended before the FIN (%d)\n", s->error);
			return RUN_FAILED;
		}
		if (s->peer_closed && closed_at == 0)
			closed_at = now;
		/* The sink's FIN, and the source's last ACK, or a bounded wait for them. */
		if (closed_at != 0 && (now - closed_at > CLOSE_LIMIT_S * hz ||
				       __atomic_load_n(&src->closed, __ATOMIC_ACQUIRE)))
			return RUN_OK;
		if (closed_at == 0 && now - start > DRAIN_LIMIT_S * hz) {
			fprintf(stderr, PROG ": no FIN %d s after the last sample (%llu bytes in, "
				"%llu sent)\n", DRAIN_LIMIT_S, (unsigned long long)s->bytes,
				(unsigned long long)src->bytes);
			return RUN_FAILED;
		}
	}
}

/* Sorts v[0..k) and returns the median. */
static double
median(double *v, unsigned k)
{
	qsort(v, k, sizeof(*v), cmp_double);
	return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

/* c: the source's counters, r: the sink's. */
static void
print_result(const struct sample *smp, unsigned n, double loss, uint16_t mtu, const uint64_t *c,
	     const uint64_t *r, const struct source *src, const struct sink *s, bool data_ok,
	     bool acct_ok, bool pool_ok)
{
	static double v[MAX_SECONDS], cs[MAX_SECONDS], cr[MAX_SECONDS], full[MAX_SECONDS];
	double med, cs_med, cr_med;
	unsigned k = n - 1, nfull = 0;

	/* The first second is warm-up: slow start, caches, the mempool caches. */
	for (unsigned i = 0; i < k; i++) {
		v[i] = smp[i + 1].mbps;
		cs[i] = smp[i + 1].cpu_sink;
		cr[i] = smp[i + 1].cpu_source;
		/* Seconds no other program took turns on either core: what the
		 * stack does when it has its two CPUs, on a shared machine. */
		if (cs[i] >= FULL_CPU && cr[i] >= FULL_CPU)
			full[nfull++] = v[i];
	}
	med = median(v, k);
	cs_med = median(cs, k);
	cr_med = median(cr, k);
	printf(PROG ": source: srtt %u us, rto %u ms, cwnd %u, ssthresh %u at the FIN\n",
	       src->info.srtt_us, src->info.rto_ms, src->info.cwnd, src->info.ssthresh);
	printf(PROG ": %u of %u seconds with both threads on their CPUs >= %.0f %% of the "
	       "time, goodput median %.1f Mbit/s in them\n", nfull, k, FULL_CPU * 100,
	       nfull > 0 ? median(full, nfull) : 0);
	printf("RESULT dtcp_goodput_mbps_median=%.1f min=%.1f max=%.1f samples=%u warmup=1"
	       " loss=%g mtu=%u sink=%s bytes=%llu rexmit=%llu rto=%llu fast_rexmit=%llu dupacks=%llu"
	       " lost_data=%llu lost_acks=%llu ooo=%llu cpu_sink=%.3f cpu_source=%.3f"
	       " data_ok=%d accounting_ok=%d mbufs_ok=%d\n",
	       med, v[0], v[k - 1], k, loss, mtu, s->copy ? "copy" : "verify",
	       (unsigned long long)s->bytes,
	       (unsigned long long)c[DTCP_CTR_tcp_rexmit], (unsigned long long)c[DTCP_CTR_tcp_rto],
	       (unsigned long long)c[DTCP_CTR_tcp_fast_retransmit],
	       (unsigned long long)c[DTCP_CTR_tcp_dupack_rx],
	       (unsigned long long)(c[DTCP_CTR_fault_tx_drop] + r[DTCP_CTR_fault_rx_drop]),
	       (unsigned long long)(r[DTCP_CTR_fault_tx_drop] + c[DTCP_CTR_fault_rx_drop]),
	       (unsigned long long)r[DTCP_CTR_tcp_ooo_queued], cs_med, cr_med, data_ok, acct_ok,
	       pool_ok);
}

int
main(int argc, char **argv)
{
	static struct sample samples[MAX_SECONDS];
	static uint64_t source_ctr[DTCP_CTR_MAX], sink_ctr[DTCP_CTR_MAX];
	struct dtcp_config base;
	struct wire_end sink_end = { .name = "sink" }, source_end = { .name = "source" };
	struct sink sink = { .first_bad = UINT64_MAX };
	struct source source = { .end = &source_end, .sink_addr = 0xc6120001 };
	struct rte_ring *to_sink = NULL, *to_source = NULL;
	unsigned seconds = 5, n = 0, lcore;
	enum outcome out = RUN_FAILED;
	bool launched = false, data_ok = true, acct_ok = true, pool_ok;
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
	dtcp_config_defaults(&base);
	/*
	 * Like Linux, which the benchmark is held against: CUBIC, and buffers
	 * as large as Linux's autotuning may give a connection (Debian 12:
	 * tcp_wmem 4 MiB). A window of 256 KiB, dtcp's default, is 0.2 ms at
	 * 10 Gbit/s, less than a time slice of the other lcore's thread.
	 */
	base.tcp_cc = DTCP_CC_CUBIC;
	base.tcp_sndbuf = BUF_BYTES;
	base.tcp_rcvbuf = BUF_BYTES;
	if (parse_args(argc, argv, &base, &seconds, &sink.copy) != 0) {
		rte_eal_cleanup();
		return 2;
	}
	lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
	if (lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, PROG ": needs two lcores, the sink's and the source's (-l 0,1)\n");
		rte_eal_cleanup();
		return 2;
	}
	pattern_fill(pattern);

	/* Both ends on 198.18.0.0/24: the sink 198.18.0.1 (source.sink_addr), the source .2. */
	sink_end.cfg = base;
	source_end.cfg = base;
	sink_end.cfg.addrs_given = false;
	source_end.cfg.addrs_given = false;
	sink_end.cfg.gateway = 0;
	source_end.cfg.gateway = 0;
	if (dtcp_config_set(&sink_end.cfg, "ip", "address", "198.18.0.1/24", NULL, 0) != 0 ||
	    dtcp_config_set(&source_end.cfg, "ip", "address", "198.18.0.2/24", NULL, 0) != 0 ||
	    dtcp_config_set(&sink_end.cfg, "port", "mac", "02:00:00:00:00:01", NULL, 0) != 0 ||
	    dtcp_config_set(&source_end.cfg, "port", "mac", "02:00:00:00:00:02", NULL, 0) != 0)
		goto out;

	to_sink = rte_ring_create("gp_to_sink", WIRE_RING_SIZE, (int)rte_socket_id(),
				  RING_F_SP_ENQ | RING_F_SC_DEQ);
	to_source = rte_ring_create("gp_to_source", WIRE_RING_SIZE, (int)rte_socket_id(),
				    RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (to_sink == NULL || to_source == NULL) {
		fprintf(stderr, PROG ": wire rings: %s\n", rte_strerror(rte_errno));
		goto out;
	}
	if (wire_end_open(&sink_end, PROG, to_sink, to_source, 0) != 0 ||
	    wire_end_open(&source_end, PROG, to_source, to_sink, 1) != 0)
		goto out;
	rc = dtcp_tcp_listen(sink_end.w, 0, SINK_PORT, NULL, listener_event, &sink, &sink.listener);
	if (rc != 0) {
		fprintf(stderr, PROG ": listen: %s\n", strerror(-rc));
		goto out;
	}
	printf(PROG ": net_ring pair, sink on lcore %u, source on lcore %u, %s, loss %g %% "
	       "each way, sndbuf %u, rcvbuf %u, MTU %u%s, %u s\n", rte_lcore_id(), lcore,
	       base.tcp_cc == DTCP_CC_CUBIC ? "cubic" : "newreno", base.fault_tx_loss,
	       base.tcp_sndbuf, base.tcp_rcvbuf, base.mtu,
	       base.mtu == 65535 ? " (the largest IPv4 datagram, like Linux's lo at MTU 65536)"
				 : "", seconds);
	printf(PROG ": the source copies from a buffer (dtcp_tcp_send_copy, as write() does); "
	       "the sink %s; TCP checksums computed and checked in software both ways\n",
	       sink.copy ? "copies every byte to a 256 KiB buffer (as read() does) and checks "
			   "16 bytes at each end of each piece"
			 : "compares every byte with the pattern (--sink verify)");
	fflush(stdout);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	if (idle_sleep_us > 0) {
		prctl(PR_SET_TIMERSLACK, 1000UL);
		printf(PROG ": a thread sleeps %u us after %u empty polls in a row\n", idle_sleep_us,
		       IDLE_POLLS);
	}
	rc = rte_eal_remote_launch(source_main, &source, lcore);
	if (rc != 0) {
		fprintf(stderr, PROG ": cannot start lcore %u: %s\n", lcore, strerror(-rc));
		goto out;
	}
	launched = true;
	n = measure(&sink_end, &sink, &source, seconds, samples, &out);
	if (out == RUN_OK)
		out = drain(&sink_end, &sink, &source);
	stop = true;
	rte_eal_wait_lcore(lcore);
	launched = false;

	/* Both lcores are idle: what they wrote can be read. */
	if (sink.listener != NULL)
		dtcp_tcp_close(sink_end.w, sink.listener);
	dtcp_worker_release_held(sink_end.w);
	dtcp_worker_release_held(source_end.w);
	data_ok = sink.bad_segments == 0 && (out != RUN_OK || sink.bytes == source.bytes);
	printf(PROG ": %llu bytes sent, %llu received in order, %llu segment(s) unlike the "
	       "pattern%s\n", (unsigned long long)source.bytes, (unsigned long long)sink.bytes,
	       (unsigned long long)sink.bad_segments, data_ok ? "" : "  (DATA MISMATCH)");
	if (sink.bad_segments != 0)
		printf(PROG ": first difference in the segment at stream offset %llu\n",
		       (unsigned long long)sink.first_bad);
	acct_ok = accounted(&source_end);
	acct_ok &= accounted(&sink_end);
	memcpy(source_ctr, dtcp_worker_counters(source_end.w), sizeof(source_ctr));
	memcpy(sink_ctr, dtcp_worker_counters(sink_end.w), sizeof(sink_ctr));
out:
	if (launched) {
		stop = true;
		rte_eal_wait_lcore(lcore);
	}
	wire_end_close(&source_end);
	wire_end_close(&sink_end);
	wire_ring_free(to_sink, WIRE_RING_SIZE);
	wire_ring_free(to_source, WIRE_RING_SIZE);
	/* Ports closed and the wire empty: every mbuf is home, or leaked. */
	pool_ok = (sink_end.pool == NULL || rte_mempool_in_use_count(sink_end.pool) == 0) &&
		  (source_end.pool == NULL || rte_mempool_in_use_count(source_end.pool) == 0);
	if (sink_end.pool != NULL && source_end.pool != NULL)
		printf(PROG ": mbufs in use after the ports closed: sink pool %u, source pool %u%s\n",
		       rte_mempool_in_use_count(sink_end.pool),
		       rte_mempool_in_use_count(source_end.pool), pool_ok ? "" : "  (LEAK)");
	if (out == RUN_OK && n >= 2)
		print_result(samples, n, base.fault_tx_loss, base.mtu, source_ctr, sink_ctr, &source, &sink,
			     data_ok, acct_ok, pool_ok);
	else
		printf(PROG ": %u sample(s), no RESULT\n", n);
	rte_mempool_free(sink_end.pool);
	rte_mempool_free(source_end.pool);
	rte_eal_cleanup();
	if (!data_ok || !acct_ok || !pool_ok)
		return 3;
	return out == RUN_OK && n >= 2 ? 0 : 1;
}
