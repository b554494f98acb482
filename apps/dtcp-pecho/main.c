/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-pecho: an echo server (RFC 862) written against the POSIX-like
 * layer (dtcp/posix.h) only, as a ported socket program would be: one
 * epoll loop per worker, non-blocking sockets, every worker listening on
 * the same port with SO_REUSEPORT. What a client sends waits in a buffer
 * of its own until it is written back; while that buffer is not empty the
 * client is not read, so a client that does not read is slowed down by
 * TCP's window, never dropped. At exit (SIGINT, SIGTERM, --duration) it
 * prints the stack's counters and its own; mbufs still in use once the
 * port is closed are a leak (exit status 3).
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include <dtcp/dtcp.h>
#include <dtcp/posix.h>

#define EVENTS_MAX 64

static volatile bool stop;

struct opts {
	struct dtcp_config cfg;
	long port;
	uint16_t listen_port;
	uint32_t max_clients;
	uint32_t buffer;
	unsigned duration;
};

/* One client: bytes read, not yet written back, in buf[head, tail). */
struct client {
	uint8_t *buf;
	uint32_t head, tail;
	bool eof;
};

struct pecho_stats {
	uint64_t accepted, refused, closed, failed, bytes;
};

struct pecho {
	const struct opts *o;
	struct dtcp_worker *w;
	struct client *clients;       /* by descriptor - DTCP_POSIX_FD_BASE */
	struct pecho_stats st;
	int rc;
};

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
	       "Echo server (RFC 862) on the dtcp stack, written on its POSIX-like sockets.\n"
	       "\n"
	       "  --config FILE        INI configuration\n"
	       "  --ip A.B.C.D/N       interface address (repeat for more); overrides the file\n"
	       "  --gateway A.B.C.D    default gateway\n"
	       "  --mtu N              IP MTU\n"
	       "  --set SEC.KEY=VALUE  any configuration key, e.g. --set tcp.rcvbuf=262144\n"
	       "  --port N             ethdev port id (default: the first)\n"
	       "  --listen-port N      TCP port to serve (default 7)\n"
	       "  --max-clients N      clients at once per worker (default 1024); more are refused\n"
	       "  --buffer BYTES       what one client's echo may hold (default 65536)\n"
	       "  --duration SEC       stop after SEC seconds (default: at SIGINT/SIGTERM)\n"
	       "  --help               this text\n"
	       "\n"
	       "Example: %s --vdev=net_tap0,iface=dtap0 -- --ip 198.18.7.2/24\n", prog, prog);
}

static int
parse_num(const char *name, const char *arg, unsigned long min, unsigned long max,
	  unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || arg[0] == '-' || v < min || v > max) {
		fprintf(stderr, "dtcp-pecho: --%s %s: not a number in %lu..%lu\n", name, arg,
			min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_CONFIG = 256, O_IP, O_GW, O_MTU, O_SET, O_PORT, O_LISTEN, O_MAX, O_BUF,
	       O_DURATION, O_HELP };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "ip", required_argument, NULL, O_IP },
		{ "gateway", required_argument, NULL, O_GW },
		{ "mtu", required_argument, NULL, O_MTU },
		{ "set", required_argument, NULL, O_SET },
		{ "port", required_argument, NULL, O_PORT },
		{ "listen-port", required_argument, NULL, O_LISTEN },
		{ "max-clients", required_argument, NULL, O_MAX },
		{ "buffer", required_argument, NULL, O_BUF },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	char err[256];
	int opt, rc = 0;

	/* The file first, whatever its place: the other options override it. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == O_HELP) {
			usage(argv[0]);
			exit(0);
		}
		if (opt == '?')
			return -1;
		if (opt == O_CONFIG && dtcp_config_load(&o->cfg, optarg, err, sizeof(err)) != 0) {
			fprintf(stderr, "dtcp-pecho: %s\n", err);
			return -1;
		}
	}
	o->cfg.addrs_given = false;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		unsigned long v = 0;
		char *dot, *eq;

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
			rc = parse_num("port", optarg, 0, RTE_MAX_ETHPORTS - 1, &v);
			o->port = (long)v;
			break;
		case O_LISTEN:
			rc = parse_num("listen-port", optarg, 1, 65535, &v);
			o->listen_port = (uint16_t)v;
			break;
		case O_MAX:
			rc = parse_num("max-clients", optarg, 1, 1u << 16, &v);
			o->max_clients = (uint32_t)v;
			break;
		case O_BUF:
			rc = parse_num("buffer", optarg, 1024, 1u << 26, &v);
			o->buffer = (uint32_t)v;
			break;
		case O_DURATION:
			rc = parse_num("duration", optarg, 0, 31536000, &v);
			o->duration = (unsigned)v;
			break;
		default:
			break;
		}
		if (rc != 0) {
			if (err[0] != '\0')
				fprintf(stderr, "dtcp-pecho: %s\n", err);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "dtcp-pecho: unexpected argument '%s' (try --help)\n", argv[optind]);
		return -1;
	}
	if (dtcp_config_validate(&o->cfg, err, sizeof(err)) != 0) {
		fprintf(stderr, "dtcp-pecho: %s\n", err);
		return -1;
	}
	return 0;
}

static struct client *
client_of(struct pecho *pe, int fd)
{
	return &pe->clients[fd - DTCP_POSIX_FD_BASE];
}

static void
client_close(struct pecho *pe, int fd, bool failed)
{
	struct client *c = client_of(pe, fd);

	free(c->buf);
	memset(c, 0, sizeof(*c));
	dtcp_close(fd);
	if (failed)
		pe->st.failed++;
	else
		pe->st.closed++;
}

static void
accept_all(struct pecho *pe, int lfd, int ep)
{
	for (;;) {
		struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP };
		struct client *c;
		int fd = dtcp_accept4(lfd, NULL, NULL, SOCK_NONBLOCK);

		if (fd < 0) {
			/* EMFILE leaves the connection queued; the listener's backlog bounds it. */
			if (errno == EMFILE)
				pe->st.refused++;
			return;
		}
		c = client_of(pe, fd);
		c->buf = malloc(pe->o->buffer);
		ev.data.fd = fd;
		if (c->buf == NULL || dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			pe->st.refused++;
			free(c->buf);
			c->buf = NULL;
			dtcp_close(fd);
			continue;
		}
		pe->st.accepted++;
	}
}

/*
 * Echo as far as the socket lets us: write what waits, then read and
 * write until read or write would block. Returns false once closed.
 */
static bool
client_serve(struct pecho *pe, int fd, int ep)
{
	struct client *c = client_of(pe, fd);
	struct epoll_event ev = { .data.fd = fd };

	for (;;) {
		while (c->head < c->tail) {
			ssize_t n = dtcp_write(fd, c->buf + c->head, c->tail - c->head);

			if (n < 0) {
				if (errno != EAGAIN) {
					client_close(pe, fd, true);
					return false;
				}
				/* Full: wait for room, and stop reading meanwhile. */
				ev.events = EPOLLOUT;
				dtcp_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
				return true;
			}
			c->head += (uint32_t)n;
			pe->st.bytes += (uint64_t)n;
		}
		c->head = c->tail = 0;
		if (c->eof) {
			client_close(pe, fd, false);
			return false;
		}
		ssize_t n = dtcp_read(fd, c->buf, pe->o->buffer);

		if (n > 0) {
			c->tail = (uint32_t)n;
			continue;
		}
		if (n == 0) {
			c->eof = true;
			continue;
		}
		if (errno != EAGAIN) {
			client_close(pe, fd, true);
			return false;
		}
		ev.events = EPOLLIN | EPOLLRDHUP;
		dtcp_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
		return true;
	}
}

static int
listen_on(const struct opts *o)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(o->listen_port) };
	int one = 1;
	int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 ||
	    dtcp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    dtcp_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    dtcp_bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || dtcp_listen(fd, 128) != 0)
		return -1;
	return fd;
}

/* One worker's loop: its own context, listener and epoll instance. */
static int
serve(void *arg)
{
	struct pecho *pe = arg;
	struct dtcp_posix_params pp = { .worker = pe->w, .max_fds = pe->o->max_clients + 2 };
	struct epoll_event evs[EVENTS_MAX], ev = { .events = EPOLLIN };
	struct dtcp_posix *px = dtcp_posix_create(&pp);
	uint64_t end = pe->o->duration != 0 ? rte_get_tsc_cycles() +
			pe->o->duration * rte_get_tsc_hz() : UINT64_MAX;
	int lfd, ep;

	if (px == NULL) {
		fprintf(stderr, "dtcp-pecho: worker %u: %s\n", dtcp_worker_id(pe->w), strerror(errno));
		pe->rc = 1;
		stop = true;
		return 0;
	}
	dtcp_posix_attach(px);
	lfd = listen_on(pe->o);
	ep = lfd < 0 ? -1 : dtcp_epoll_create1(0);
	ev.data.fd = lfd;
	if (ep < 0 || dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) != 0) {
		fprintf(stderr, "dtcp-pecho: worker %u: listening on %u: %s\n",
			dtcp_worker_id(pe->w), pe->o->listen_port, strerror(errno));
		pe->rc = 1;
		stop = true;
	}
	/* epoll_wait polls the worker while it waits: this loop is all the lcore does. */
	while (!stop && pe->rc == 0) {
		int n = dtcp_epoll_wait(ep, evs, EVENTS_MAX, 100);

		for (int i = 0; i < n; i++) {
			if (evs[i].data.fd == lfd)
				accept_all(pe, lfd, ep);
			else
				client_serve(pe, evs[i].data.fd, ep);
		}
		if (rte_get_tsc_cycles() >= end)
			stop = true;
	}
	/* Every descriptor still open is closed (FIN, or RST with data unread). */
	for (uint32_t i = 0; i < pe->o->max_clients + 2; i++)
		free(pe->clients[i].buf);
	dtcp_posix_destroy(px);
	dtcp_worker_poll(pe->w, dtcp_tsc_to_ns(rte_rdtsc()));
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o = { .port = -1, .listen_port = 7, .max_clients = 1024, .buffer = 65536 };
	static struct pecho pe[RTE_MAX_LCORE];
	static struct dtcp_port *ports[RTE_MAX_LCORE];
	struct rte_mempool *pool;
	struct pecho_stats t = { 0 };
	uint64_t ctr[DTCP_CTR_MAX];
	char err[256];
	unsigned q, n = 0, lcore, in_use;
	uint16_t port_id = UINT16_MAX, pid;
	int rc = 0;

	rc = dtcp_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "dtcp-pecho: EAL init failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	argc -= rc;
	argv += rc;
	rc = 0;
	dtcp_config_defaults(&o.cfg);
	if (parse_args(argc, argv, &o) != 0) {
		rte_eal_cleanup();
		return 2;
	}
	RTE_ETH_FOREACH_DEV(pid) {
		if (o.port < 0 || pid == o.port) {
			port_id = pid;
			break;
		}
	}
	if (port_id == UINT16_MAX || o.cfg.queues > rte_lcore_count()) {
		fprintf(stderr, "dtcp-pecho: %s\n", port_id == UINT16_MAX ?
			"no DPDK port (give one with --vdev or a PCI address)" :
			"fewer lcores than [port] queues (-l)");
		rte_eal_cleanup();
		return 1;
	}
	pool = rte_pktmbuf_pool_create("dtcp_pool", o.cfg.mbufs, o.cfg.mbuf_cache, 0,
				       RTE_MAX(RTE_MBUF_DEFAULT_BUF_SIZE,
					       RTE_PKTMBUF_HEADROOM + o.cfg.mtu + 26),
				       rte_eth_dev_socket_id(port_id));
	if (pool == NULL || dtcp_ethdev_configure(port_id, &o.cfg, pool, err, sizeof(err)) != 0) {
		fprintf(stderr, "dtcp-pecho: %s\n", pool == NULL ? rte_strerror(rte_errno) : err);
		rte_eal_cleanup();
		return 1;
	}
	for (q = 0; q < o.cfg.queues; q++) {
		ports[q] = dtcp_ethdev_port(port_id, (uint16_t)q, pool);
		pe[q].o = &o;
		pe[q].w = ports[q] ? dtcp_worker_create(&o.cfg, ports[q], q,
						      dtcp_tsc_to_ns(rte_rdtsc()), err, sizeof(err)) : NULL;
		pe[q].clients = calloc(o.max_clients + 2, sizeof(struct client));
		if (pe[q].w == NULL || pe[q].clients == NULL) {
			fprintf(stderr, "dtcp-pecho: worker %u: %s\n", q,
				pe[q].w == NULL && ports[q] ? err : "out of memory");
			rc = 1;
			n = q + 1;
			goto out;
		}
		dtcp_telemetry_register(pe[q].w);
		dtcp_worker_announce(pe[q].w);
	}
	n = q;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("dtcp-pecho: port %u, %u worker(s), echo on port %u, %u clients per worker, "
	       "%u bytes each\n", port_id, n, o.listen_port, o.max_clients, o.buffer);
	fflush(stdout);
	q = 1;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (q >= n)
			break;
		rte_eal_remote_launch(serve, &pe[q++], lcore);
	}
	serve(&pe[0]);
	rte_eal_mp_wait_lcore();
	for (q = 0; q < n; q++) {
		t.accepted += pe[q].st.accepted;
		t.refused += pe[q].st.refused;
		t.closed += pe[q].st.closed;
		t.failed += pe[q].st.failed;
		t.bytes += pe[q].st.bytes;
		rc |= pe[q].rc;
		dtcp_worker_release_held(pe[q].w);
	}
	dtcp_stats_sum(ctr);
	printf("dtcp-pecho: final counters\n");
	dtcp_stats_print(ctr, stdout);
	printf("dtcp-pecho: accepted %llu, refused %llu, closed %llu, failed %llu, bytes echoed %llu\n",
	       (unsigned long long)t.accepted, (unsigned long long)t.refused,
	       (unsigned long long)t.closed, (unsigned long long)t.failed,
	       (unsigned long long)t.bytes);
out:
	for (q = 0; q < n; q++) {
		if (pe[q].w != NULL)
			dtcp_worker_destroy(pe[q].w);
		dtcp_port_destroy(ports[q]);
		free(pe[q].clients);
	}
	rte_eth_dev_stop(port_id);
	rte_eth_dev_close(port_id);
	in_use = rte_mempool_in_use_count(pool);
	printf("dtcp-pecho: mbufs in use after the port closed: %u%s\n", in_use,
	       in_use != 0 ? "  (LEAK)" : "");
	rte_mempool_free(pool);
	rte_eal_cleanup();
	if (rc != 0)
		return 1;
	return in_use != 0 ? 3 : 0;
}
