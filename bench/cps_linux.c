/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-bench-cps-linux: the Linux side of bench/cps.sh. The kernel's TCP
 * over loopback, driven by a client and a server written for the purpose,
 * the client thread pinned to --client-cpu and the server thread to
 * --server-cpu, printing the lines dtcp-bench-cps prints so one parser
 * reads both:
 *
 *   sample <mode> <second> <value>     one per second (cps, rr, bulk)
 *   result <mode> key=value ...        once, at the end, numbers only
 *
 * cps: connections completed per second. Each is the dperf-style HTTP
 *   exchange: connect, a small GET, a response of --body bytes (64) with
 *   Content-Length, then both sides close, the server first (as
 *   dtcp-bench-cps's server does: its FIN follows the response, and it
 *   holds TIME-WAIT; --client-closes-first swaps them). An epoll loop per side,
 *   at most --concurrency connections open on the client at once; --rate R
 *   paces new connections at R per second, and when the cap is reached the
 *   missed starts are dropped, not owed (counted as backed_off), so a slow
 *   peer never makes a backlog snowball. Source addresses rotate over
 *   --addrs of 127.0.1.1, 127.0.1.2, ... with IP_BIND_ADDRESS_NO_PORT, so
 *   TIME-WAIT (60 s in Linux, TCP_TIMEWAIT_LEN, not tunable) holds 4-tuples
 *   across addrs x ip_local_port_range rather than one port range.
 * rr: one persistent connection (TCP_NODELAY), blocking request/response;
 *   latency from before the write to the end of the response.
 * bulk: one connection, 256 KiB writes and reads; goodput per second.
 * mem: --conns established idle connections (two processes, so each holds
 *   one side's descriptors under fs.nr_open); the kernel's memory per
 *   connection per side is the growth of /proc/meminfo's Slab (SReclaimable
 *   + SUnreclaim: sockets, inodes, files, dentries) over 2 x conns;
 *   KernelStack does not grow (no thread per connection) and is left out.
 *   Slab is machine-wide: other programs' activity shows in it.
 */
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "dtcp-bench-cps-linux"
#define MAX_SECONDS 600
#define MAX_CONCURRENCY 8192
#define MAX_ADDRS 4096
#define MAX_CONNS 2000000
#define BULK_BUF (256 * 1024)
#define CONN_BUF (MAX_BODY + 256)
#define HIST_NS 10                      /* rr latency histogram: 10 ns buckets */
#define HIST_BUCKETS 200000             /* up to 2 ms; beyond, the overflow bucket */
#define JOIN_LIMIT_S 10                 /* the workers end this long after the last sample */
#define MEM_LIMIT_S 600                 /* mem: set-up of all connections */
#define TIMEWAIT_MS 60000               /* Linux's TCP_TIMEWAIT_LEN */

static const char request[] = "GET / HTTP/1.1\r\nHost: dtcp\r\nUser-Agent: cps\r\n\r\n";
#define REQ_LEN (sizeof(request) - 1)
#define MAX_BODY 1024
static char response[MAX_BODY + 128];   /* headers and --body bytes, made in main */
static size_t resp_len;
#define RESP_LEN resp_len

enum mode { MODE_CPS, MODE_RR, MODE_BULK, MODE_MEM };
static const char *const mode_name[] = { "cps", "rr", "bulk", "mem" };

struct opts {
	enum mode mode;
	unsigned duration;
	int client_cpu;
	int server_cpu;
	unsigned concurrency;
	unsigned long rate;
	unsigned addrs;
	unsigned long conns;
	unsigned port;
	unsigned warmup;
	unsigned body;
	bool client_first;
};

/* What the workers share with the sampling thread. */
static atomic_bool stop;
static atomic_uint_fast64_t done;       /* connections, exchanges or bytes */
static atomic_uint_fast64_t errors;
static atomic_uint_fast64_t backed_off;
static atomic_int server_fd = -1;       /* listening socket, once bound */
static struct opts opt;
static uint64_t *hist;                  /* rr: HIST_BUCKETS + 1 */
static uint64_t rr_min_ns = UINT64_MAX, rr_max_ns;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set) != 0) {
		fprintf(stderr, PROG ": cannot pin to CPU %d: %s\n", cpu, strerror(errno));
		return -1;
	}
	return 0;
}

static void
src_addr(unsigned i, struct sockaddr_in *sa)
{
	/* 127.0.1.1 ... : skip .0 and .255 of each /24 for readability. */
	unsigned host = 1 + i % 254, net = 1 + i / 254;

	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_addr.s_addr = htonl(0x7f000000u | (net << 8) | host);
}

static void
dst_addr(struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)opt.port);
	sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
}

static int
listen_socket(int backlog)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	dst_addr(&sa);
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, backlog) != 0) {
		fprintf(stderr, PROG ": listen on 127.0.0.1:%u: %s\n", opt.port, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* A socket bound to source address i with its port left to connect(). */
static int
client_socket(unsigned i, int flags)
{
	struct sockaddr_in sa;
	int fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | flags, 0);
	if (fd < 0)
		return -1;
	src_addr(i, &sa);
	if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) != 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- cps ---------------------------------------------------------------- */

struct conn {
	uint16_t got;                   /* bytes of request/response read */
	uint8_t phase;                  /* enum phase */
	char buf[CONN_BUF];
};

enum phase { P_FREE, P_CONNECTING, P_WAIT_RESPONSE, P_WAIT_EOF, P_SRV_REQUEST, P_SRV_EOF };

/* fd-indexed tables: an fd beyond them is a counted refusal. */
static unsigned table_size(void)
{
	return opt.concurrency * 2 + 1024;
}

static bool
request_complete(const struct conn *c)
{
	return c->got >= 4 && memmem(c->buf, c->got, "\r\n\r\n", 4) != NULL;
}

/* The response is complete when its headers and Content-Length bytes are in. */
static bool
response_complete(const struct conn *c)
{
	const char *end = memmem(c->buf, c->got, "\r\n\r\n", 4);
	const char *cl;
	char tmp[CONN_BUF + 1];

	if (end == NULL)
		return false;
	memcpy(tmp, c->buf, c->got);
	tmp[c->got] = '\0';
	cl = strstr(tmp, "Content-Length: ");
	if (cl == NULL)
		return true;
	return (size_t)(end + 4 - c->buf) + strtoul(cl + 16, NULL, 10) <= c->got;
}

static void
conn_close(int ep, struct conn *tab, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	close(fd);
	tab[fd].phase = P_FREE;
}

static void *
cps_server(void *arg)
{
	unsigned size = table_size();
	struct conn *tab = calloc(size, sizeof(*tab));
	struct epoll_event ev, evs[256];
	int ep, lfd, n, i;

	(void)arg;
	ep = epoll_create1(0);
	lfd = listen_socket(65535);
	if (tab == NULL || ep < 0 || lfd < 0 || pin(opt.server_cpu) != 0) {
		atomic_store(&stop, true);
		atomic_store(&server_fd, -2);
		free(tab);
		return NULL;
	}
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	atomic_store(&server_fd, lfd);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		n = epoll_wait(ep, evs, 256, 10);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			struct conn *c;
			ssize_t r;

			if (fd == lfd) {
				int cfd;

				while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					if ((unsigned)cfd >= size) {
						close(cfd);
						atomic_fetch_add(&errors, 1);
						continue;
					}
					tab[cfd].phase = P_SRV_REQUEST;
					tab[cfd].got = 0;
					ev.events = EPOLLIN;
					ev.data.fd = cfd;
					epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
				}
				continue;
			}
			c = &tab[fd];
			if (c->phase == P_SRV_EOF) {
				char sink[64];

				r = read(fd, sink, sizeof(sink));
				if (r == 0)
					conn_close(ep, tab, fd);
				else if (r > 0 || errno != EAGAIN) {
					atomic_fetch_add(&errors, 1);
					conn_close(ep, tab, fd);
				}
				continue;
			}
			r = read(fd, c->buf + c->got, sizeof(c->buf) - c->got);
			if (r <= 0) {
				if (r < 0 && errno == EAGAIN)
					continue;
				atomic_fetch_add(&errors, 1);       /* closed before asking */
				conn_close(ep, tab, fd);
				continue;
			}
			c->got = (uint16_t)(c->got + r);
			if (!request_complete(c)) {
				if (c->got == sizeof(c->buf)) {
					atomic_fetch_add(&errors, 1);
					conn_close(ep, tab, fd);
				}
				continue;
			}
			if (write(fd, response, RESP_LEN) != (ssize_t)RESP_LEN) {
				atomic_fetch_add(&errors, 1);
				conn_close(ep, tab, fd);
			} else if (!opt.client_first) {
				conn_close(ep, tab, fd);
			} else {
				c->phase = P_SRV_EOF;
			}
		}
	}
	for (i = 0; i < (int)size; i++)
		if (tab[i].phase != P_FREE)
			close(i);
	close(lfd);
	close(ep);
	free(tab);
	return NULL;
}

static void *
cps_client(void *arg)
{
	unsigned size = table_size(), open = 0, next_addr = 0;
	struct conn *tab = calloc(size, sizeof(*tab));
	struct epoll_event ev, evs[256];
	struct sockaddr_in dst;
	uint64_t t0, started = 0, allowed;
	int ep, n, i;

	(void)arg;
	ep = epoll_create1(0);
	if (tab == NULL || ep < 0 || pin(opt.client_cpu) != 0) {
		atomic_store(&stop, true);
		free(tab);
		return NULL;
	}
	dst_addr(&dst);
	t0 = now_ns();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		if (opt.rate > 0) {
			allowed = (now_ns() - t0) * opt.rate / 1000000000u;
			/* At the cap the missed starts are forgiven, not owed. */
			if (open >= opt.concurrency && allowed > started) {
				atomic_fetch_add(&backed_off, allowed - started);
				started = allowed;
			}
		} else {
			allowed = UINT64_MAX;
		}
		while (open < opt.concurrency && started < allowed) {
			int fd = client_socket(next_addr, SOCK_NONBLOCK);

			next_addr = (next_addr + 1) % opt.addrs;
			started++;
			if (fd < 0) {
				atomic_fetch_add(&errors, 1);
				break;
			}
			if ((unsigned)fd >= size ||
			    (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0 &&
			     errno != EINPROGRESS)) {
				/* EADDRNOTAVAIL: every 4-tuple is in TIME-WAIT. */
				close(fd);
				atomic_fetch_add(&errors, 1);
				break;
			}
			tab[fd].phase = P_CONNECTING;
			tab[fd].got = 0;
			ev.events = EPOLLOUT;
			ev.data.fd = fd;
			epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
			open++;
		}
		n = epoll_wait(ep, evs, 256, open < opt.concurrency ? 0 : 10);
		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd, err = 0;
			struct conn *c = &tab[fd];
			socklen_t len = sizeof(err);
			ssize_t r;

			switch ((enum phase)c->phase) {
			case P_CONNECTING:
				getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
				if (err != 0 || write(fd, request, REQ_LEN) != (ssize_t)REQ_LEN)
					break;
				c->phase = P_WAIT_RESPONSE;
				ev.events = EPOLLIN;
				ev.data.fd = fd;
				epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
				continue;
			case P_WAIT_RESPONSE:
				r = read(fd, c->buf + c->got, sizeof(c->buf) - c->got);
				if (r < 0 && errno == EAGAIN)
					continue;
				if (r <= 0)
					break;
				c->got = (uint16_t)(c->got + r);
				if (!response_complete(c)) {
					if (c->got == sizeof(c->buf))
						break;
					continue;
				}
				if (!opt.client_first) {
					c->phase = P_WAIT_EOF;
					continue;
				}
				conn_close(ep, tab, fd);
				open--;
				atomic_fetch_add_explicit(&done, 1, memory_order_relaxed);
				continue;
			case P_WAIT_EOF: {
				char sink[64];

				r = read(fd, sink, sizeof(sink));
				if (r < 0 && errno == EAGAIN)
					continue;
				if (r != 0)
					break;
				conn_close(ep, tab, fd);
				open--;
				atomic_fetch_add_explicit(&done, 1, memory_order_relaxed);
				continue;
			}
			case P_FREE:
			case P_SRV_REQUEST:
			case P_SRV_EOF:
				break;
			}
			atomic_fetch_add(&errors, 1);
			conn_close(ep, tab, fd);
			open--;
		}
	}
	for (i = 0; i < (int)size; i++)
		if (tab[i].phase != P_FREE)
			close(i);
	close(ep);
	free(tab);
	return NULL;
}

/* ---- rr and bulk: one connection, blocking --------------------------------- */

static int
read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = read(fd, buf + got, len - got);
		if (r <= 0)
			return r == 0 && got == 0 ? 0 : -1;
		got += (size_t)r;
	}
	return 1;
}

static int
accept_one(void)
{
	struct pollfd p;
	int lfd = listen_socket(1), fd;

	if (lfd < 0)
		return -1;
	atomic_store(&server_fd, lfd);
	p.fd = lfd;
	p.events = POLLIN;
	if (poll(&p, 1, JOIN_LIMIT_S * 1000) != 1) {
		close(lfd);
		return -1;
	}
	fd = accept4(lfd, NULL, NULL, 0);
	close(lfd);
	return fd;
}

static void *
one_server(void *arg)
{
	char buf[REQ_LEN];
	char *big = NULL;
	int fd, one = 1, r;
	ssize_t n;

	(void)arg;
	if (pin(opt.server_cpu) != 0 || (fd = accept_one()) < 0) {
		atomic_store(&server_fd, -2);
		atomic_store(&stop, true);
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (opt.mode == MODE_RR) {
		while ((r = read_full(fd, buf, REQ_LEN)) == 1)
			if (write(fd, response, RESP_LEN) != (ssize_t)RESP_LEN)
				break;
		if (r < 0)
			atomic_fetch_add(&errors, 1);
	} else {
		big = malloc(BULK_BUF);
		while (big != NULL && (n = read(fd, big, BULK_BUF)) > 0)
			atomic_fetch_add_explicit(&done, (uint64_t)n, memory_order_relaxed);
		free(big);
	}
	close(fd);
	return NULL;
}

static void *
one_client(void *arg)
{
	struct sockaddr_in dst;
	char buf[sizeof(response)];
	char *big = NULL;
	int fd, one = 1, i;
	uint64_t t1, dt;

	(void)arg;
	if (pin(opt.client_cpu) != 0)
		goto fail;
	for (i = 0; i < 1000 && atomic_load(&server_fd) == -1; i++)
		usleep(1000);
	if (atomic_load(&server_fd) < 0 || (fd = client_socket(0, 0)) < 0)
		goto fail;
	dst_addr(&dst);
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
		close(fd);
		goto fail;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (opt.mode == MODE_RR) {
		while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
			t1 = now_ns();
			if (write(fd, request, REQ_LEN) != (ssize_t)REQ_LEN ||
			    read_full(fd, buf, RESP_LEN) != 1) {
				atomic_fetch_add(&errors, 1);
				break;
			}
			dt = now_ns() - t1;
			hist[dt / HIST_NS < HIST_BUCKETS ? dt / HIST_NS : HIST_BUCKETS]++;
			rr_min_ns = dt < rr_min_ns ? dt : rr_min_ns;
			rr_max_ns = dt > rr_max_ns ? dt : rr_max_ns;
			atomic_fetch_add_explicit(&done, 1, memory_order_relaxed);
		}
	} else {
		big = calloc(1, BULK_BUF);
		while (big != NULL && !atomic_load_explicit(&stop, memory_order_relaxed))
			if (write(fd, big, BULK_BUF) < 0) {
				atomic_fetch_add(&errors, 1);
				break;
			}
		free(big);
	}
	close(fd);
	return NULL;
fail:
	atomic_fetch_add(&errors, 1);
	atomic_store(&stop, true);
	return NULL;
}

/* ---- mem ----------------------------------------------------------------- */

#define MEM_MAX_PROCS 512

static long
slab_kib(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long v = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Slab: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

/*
 * A child holding one side of `count` connections on port opt.port + j:
 * reports "L" (server, listening) then the count it reached on w, holds
 * every descriptor until r reaches EOF (the parent's end closed), exits.
 */
static void
mem_child(bool server, unsigned j, unsigned long count, int w, int r)
{
	unsigned long k = 0;
	struct sockaddr_in dst;
	struct rlimit rl;
	char c;
	int lfd, fd;

	alarm(MEM_LIMIT_S + 60);
	getrlimit(RLIMIT_NOFILE, &rl);
	rl.rlim_cur = rl.rlim_max;
	if (pin(server ? opt.server_cpu : opt.client_cpu) != 0 ||
	    setrlimit(RLIMIT_NOFILE, &rl) != 0)
		_exit(1);
	opt.port += j;
	if (server) {
		lfd = listen_socket(65535);
		if (lfd < 0 || write(w, "L", 1) != 1)
			_exit(1);
		while (k < count) {
			struct pollfd p = { .fd = lfd, .events = POLLIN };

			if (poll(&p, 1, 10000) != 1)
				break;
			while (k < count && (fd = accept4(lfd, NULL, NULL, 0)) >= 0)
				k++;
		}
	} else {
		dst_addr(&dst);
		for (; k < count; k++) {
			fd = client_socket((unsigned)((k + j) % opt.addrs), 0);
			if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst)) != 0) {
				fprintf(stderr, PROG ": mem: process %u, connection %lu: %s\n", j, k,
					strerror(errno));
				break;
			}
		}
	}
	if (write(w, &k, sizeof(k)) != sizeof(k))
		_exit(1);
	while (read(r, &c, 1) > 0)
		;
	_exit(0);
}

/* Read exactly len bytes from fd within limit_ms; 0 on success. */
static int
read_within(int fd, void *buf, size_t len, int limit_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, limit_ms) != 1)
		return -1;
	return read(fd, buf, len) == (ssize_t)len ? 0 : -1;
}

/*
 * The connections are spread over as many client and server processes as
 * the hard RLIMIT_NOFILE needs (raising it takes CAP_SYS_RESOURCE, and
 * fs.nr_open bounds it anyway); server j listens on port + j.
 */
static int
run_mem(void)
{
	static pid_t pid[2 * MEM_MAX_PROCS];
	static int up[2 * MEM_MAX_PROCS];
	unsigned long per, total[2] = { 0, 0 }, got;
	struct rlimit rl;
	unsigned procs, i, side, started = 0;
	long before, after;
	int down[2], p[2], rc = 0;
	char c;

	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_max < 1024) {
		fprintf(stderr, PROG ": mem: RLIMIT_NOFILE hard limit %lu is too low\n",
			(unsigned long)rl.rlim_max);
		return 1;
	}
	per = (unsigned long)rl.rlim_max - 64;
	procs = (unsigned)((opt.conns + per - 1) / per);
	if (procs > MEM_MAX_PROCS || opt.port + procs > 65536) {
		fprintf(stderr, PROG ": mem: %lu connections need %u processes per side\n",
			opt.conns, procs);
		return 1;
	}
	if (pipe(down) != 0)
		return 1;
	before = slab_kib();
	/* Servers first (side 0), each listening before any client starts. */
	for (side = 0; side < 2 && rc == 0; side++) {
		for (i = 0; i < procs; i++) {
			unsigned long count = opt.conns / procs + (i < opt.conns % procs);

			if (pipe(p) != 0) {
				rc = 1;
				break;
			}
			pid[started] = fork();
			if (pid[started] == 0) {
				unsigned q;

				close(down[1]);
				close(p[0]);
				for (q = 0; q < started; q++)
					close(up[q]);
				mem_child(side == 0, i, count, p[1], down[0]);
			}
			close(p[1]);
			if (pid[started] < 0) {
				close(p[0]);
				rc = 1;
				break;
			}
			up[started++] = p[0];
			if (side == 0 && read_within(p[0], &c, 1, 10000) != 0) {
				rc = 1;
				break;
			}
		}
	}
	close(down[0]);
	for (i = 0; rc == 0 && i < started; i++) {
		if (read_within(up[i], &got, sizeof(got), MEM_LIMIT_S * 1000) != 0) {
			rc = 1;
			break;
		}
		total[i >= procs] += got;
	}
	after = slab_kib();
	close(down[1]);         /* the children exit and their sockets go */
	for (i = 0; i < started; i++) {
		if (rc != 0)
			kill(pid[i], SIGKILL);
		waitpid(pid[i], NULL, 0);
		close(up[i]);
	}
	if (rc != 0 || total[0] != opt.conns || total[1] != opt.conns || before < 0 ||
	    after < 0) {
		fprintf(stderr, PROG ": mem: %lu accepted, %lu connected of %lu\n", total[0],
			total[1], opt.conns);
		printf("result mem conns=%lu bytes_per_conn=0 bytes_per_conn_sizeof=0\n",
		       total[0] < total[1] ? total[0] : total[1]);
		return 1;
	}
	fprintf(stderr, PROG ": mem: Slab %ld kB before, %ld kB after, %lu connections over"
		" %u process(es) per side; bytes_per_conn is per side\n", before, after,
		opt.conns, procs);
	printf("result mem conns=%lu bytes_per_conn=%.0f bytes_per_conn_sizeof=0\n", opt.conns,
	       (double)(after - before) * 1024.0 / (2.0 * (double)opt.conns));
	return 0;
}

/* ---- sampling and the result line ----------------------------------------- */

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n == 0 ? 0 : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
hist_quantile(double q)
{
	uint64_t total = 0, want, seen = 0;
	unsigned i;

	for (i = 0; i <= HIST_BUCKETS; i++)
		total += hist[i];
	want = (uint64_t)((double)total * q);
	for (i = 0; i <= HIST_BUCKETS; i++) {
		seen += hist[i];
		if (seen > want)
			break;
	}
	if (i == HIST_BUCKETS)
		return (double)rr_max_ns / 1000.0;
	return ((double)i + 0.5) * HIST_NS / 1000.0;
}

/* Ports connect() may pick per source address (net.ipv4.ip_local_port_range). */
static unsigned long
port_range(void)
{
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	unsigned long lo = 0, hi = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%lu %lu", &lo, &hi) != 2 || hi < lo)
		lo = hi = 0;
	fclose(f);
	return hi - lo + 1;
}

static int
run_timed(void)
{
	void *(*server)(void *) = opt.mode == MODE_CPS ? cps_server : one_server;
	void *(*client)(void *) = opt.mode == MODE_CPS ? cps_client : one_client;
	double *v = calloc(opt.duration, sizeof(*v)), med;
	uint64_t prev = 0, cur;
	struct timespec t;
	pthread_t st, ct;
	unsigned s, n = 0, held = 0, i;
	uint64_t errs;

	if (v == NULL)
		return 1;
	if (pthread_create(&st, NULL, server, NULL) != 0)
		return 1;
	for (i = 0; i < 1000 && atomic_load(&server_fd) == -1; i++)
		usleep(1000);
	if (atomic_load(&server_fd) < 0 || pthread_create(&ct, NULL, client, NULL) != 0) {
		atomic_store(&stop, true);
		pthread_join(st, NULL);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (opt.warmup > 0) {
		t.tv_sec += opt.warmup;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
			;
		prev = atomic_load(&done);
	}
	for (s = 1; s <= opt.duration && !atomic_load(&stop); s++) {
		t.tv_sec++;
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
			;
		cur = atomic_load(&done);
		v[n] = (double)(cur - prev);
		if (opt.mode == MODE_BULK)
			v[n] = v[n] * 8 / 1e9;
		if (opt.mode == MODE_BULK)
			printf("sample %s %u %.3f\n", mode_name[opt.mode], s, v[n]);
		else
			printf("sample %s %u %.0f\n", mode_name[opt.mode], s, v[n]);
		fflush(stdout);
		n++;
		prev = cur;
	}
	/* Connections cut short by the stop itself are not errors. */
	errs = atomic_load(&errors);
	atomic_store(&stop, true);
	pthread_join(ct, NULL);
	pthread_join(st, NULL);
	switch (opt.mode) {
	case MODE_CPS: {
		double lo, hi;

		med = median(v, n);
		for (i = 0; i < n; i++)
			held += v[i] >= 0.9 * med && v[i] <= 1.1 * med;
		lo = n ? v[0] : 0;
		hi = n ? v[n - 1] : 0;
		printf("result cps cps_median=%.0f cps_min=%.0f cps_max=%.0f seconds=%u held=%u"
		       " errors=%lu timewait_ms=%u tuples=%lu\n", med, lo, hi, n, held,
		       (unsigned long)errs, TIMEWAIT_MS, (unsigned long)opt.addrs * port_range());
		if (atomic_load(&backed_off) > 0)
			fprintf(stderr, PROG ": backed off: %lu connection starts dropped at the"
				" concurrency cap of %u\n", (unsigned long)atomic_load(&backed_off),
				opt.concurrency);
		break;
	}
	case MODE_RR:
		printf("result rr p50_us=%.2f p99_us=%.2f min_us=%.2f max_us=%.2f exchanges=%lu\n",
		       hist_quantile(0.5), hist_quantile(0.99),
		       rr_min_ns == UINT64_MAX ? 0 : (double)rr_min_ns / 1000.0,
		       (double)rr_max_ns / 1000.0, (unsigned long)atomic_load(&done));
		break;
	case MODE_BULK:
		printf("result bulk gbps=%.3f\n", median(v, n));
		break;
	case MODE_MEM:
		break;
	}
	free(v);
	return errs > 0 || n < opt.duration ||
	       (opt.mode == MODE_CPS && atomic_load(&done) == 0);
}

/* ---- arguments -------------------------------------------------------------- */

static void
usage(const char *prog)
{
	printf("Usage: %s --mode cps|rr|bulk|mem [options]\n"
	       "\n"
	       "The Linux kernel's TCP over loopback, the other side of dtcp-bench-cps.\n"
	       "\n"
	       "  --mode M              cps, rr, bulk or mem (default cps)\n"
	       "  --duration S          seconds sampled, 1..%d (default 10)\n"
	       "  --client-cpu N        CPU of the client (default 0)\n"
	       "  --server-cpu N        CPU of the server (default 1)\n"
	       "  --concurrency N       cps: connections open at once, 1..%d (default 64)\n"
	       "  --rate R              cps: new connections per second, 0 = as fast as\n"
	       "                        possible (default 0); at the cap, starts are dropped\n"
	       "  --addrs N             source addresses 127.0.1.1..., 1..%d (default 64)\n"
	       "  --conns N             mem: connections, 1..%d (default 1000000)\n"
	       "  --port N              server port (default 8080)\n"
	       "  --warmup S            seconds run before sampling, 0..60 (default 1)\n"
	       "  --body N              response body bytes, 0..%d (default 64)\n"
	       "  --client-closes-first cps: the client closes first (default: the server,\n"
	       "                        after its response, as dtcp-bench-cps)\n"
	       "  --help                this text\n"
	       "\n"
	       "Prints 'sample <mode> <second> <value>' each second and one\n"
	       "'result <mode> key=value ...' line; exits non-zero on error.\n",
	       prog, MAX_SECONDS, MAX_CONCURRENCY, MAX_ADDRS, MAX_CONNS, MAX_BODY);
}

static int
number(const char *name, const char *s, unsigned long lo, unsigned long hi, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(s, &end, 10);
	if (errno != 0 || *end != '\0' || end == s || s[0] == '-' || *out < lo || *out > hi) {
		fprintf(stderr, PROG ": %s %s: expected %lu..%lu\n", name, s, lo, hi);
		return -1;
	}
	return 0;
}

static int
parse_args(int argc, char **argv)
{
	enum { O_MODE = 256, O_DUR, O_CCPU, O_SCPU, O_CONC, O_RATE, O_ADDRS, O_CONNS, O_PORT,
	       O_CFIRST, O_WARMUP, O_BODY, O_HELP };
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, O_MODE },
		{ "duration", required_argument, NULL, O_DUR },
		{ "client-cpu", required_argument, NULL, O_CCPU },
		{ "server-cpu", required_argument, NULL, O_SCPU },
		{ "concurrency", required_argument, NULL, O_CONC },
		{ "rate", required_argument, NULL, O_RATE },
		{ "addrs", required_argument, NULL, O_ADDRS },
		{ "conns", required_argument, NULL, O_CONNS },
		{ "port", required_argument, NULL, O_PORT },
		{ "client-closes-first", no_argument, NULL, O_CFIRST },
		{ "warmup", required_argument, NULL, O_WARMUP },
		{ "body", required_argument, NULL, O_BODY },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	int o;

	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (o) {
		case O_MODE:
			for (v = 0; v < 4 && strcmp(optarg, mode_name[v]) != 0; v++)
				;
			if (v == 4) {
				fprintf(stderr, PROG ": --mode %s: expected cps, rr, bulk or mem\n",
					optarg);
				return -1;
			}
			opt.mode = (enum mode)v;
			break;
		case O_DUR:
			if (number("--duration", optarg, 1, MAX_SECONDS, &v) != 0)
				return -1;
			opt.duration = (unsigned)v;
			break;
		case O_CCPU:
		case O_SCPU:
			if (number(o == O_CCPU ? "--client-cpu" : "--server-cpu", optarg, 0,
				   CPU_SETSIZE - 1, &v) != 0)
				return -1;
			*(o == O_CCPU ? &opt.client_cpu : &opt.server_cpu) = (int)v;
			break;
		case O_CONC:
			if (number("--concurrency", optarg, 1, MAX_CONCURRENCY, &v) != 0)
				return -1;
			opt.concurrency = (unsigned)v;
			break;
		case O_RATE:
			if (number("--rate", optarg, 0, 100000000, &opt.rate) != 0)
				return -1;
			break;
		case O_ADDRS:
			if (number("--addrs", optarg, 1, MAX_ADDRS, &v) != 0)
				return -1;
			opt.addrs = (unsigned)v;
			break;
		case O_CONNS:
			if (number("--conns", optarg, 1, MAX_CONNS, &opt.conns) != 0)
				return -1;
			break;
		case O_PORT:
			if (number("--port", optarg, 1, 65535, &v) != 0)
				return -1;
			opt.port = (unsigned)v;
			break;
		case O_CFIRST:
			opt.client_first = true;
			break;
		case O_WARMUP:
		case O_BODY:
			if (number(o == O_WARMUP ? "--warmup" : "--body", optarg, 0,
				   o == O_WARMUP ? 60 : MAX_BODY, &v) != 0)
				return -1;
			*(o == O_WARMUP ? &opt.warmup : &opt.body) = (unsigned)v;
			break;
		case O_HELP:
			usage(argv[0]);
			exit(0);
		default:
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	opt = (struct opts){ .mode = MODE_CPS, .duration = 10, .client_cpu = 0, .server_cpu = 1,
			     .concurrency = 64, .addrs = 64, .conns = 1000000, .port = 8080, .warmup = 1, .body = 64 };
	if (parse_args(argc, argv) != 0)
		return 2;
	resp_len = (size_t)snprintf(response, sizeof(response),
				    "HTTP/1.1 200 OK\r\nContent-Length: %u\r\n\r\n", opt.body);
	memset(response + resp_len, 'x', opt.body);
	resp_len += opt.body;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (opt.mode == MODE_MEM)
		return run_mem();
	/* Every run ends: the sampling is bounded, then the workers get this long. */
	alarm(opt.duration + opt.warmup + JOIN_LIMIT_S + 10);
	if (opt.mode == MODE_CPS) {
		struct rlimit rl;

		getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur < table_size() + 64) {
			rl.rlim_cur = table_size() + 64;
			if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
				fprintf(stderr, PROG ": --concurrency %u needs %u descriptors: %s\n",
					opt.concurrency, table_size() + 64, strerror(errno));
				return 2;
			}
		}
	}
	if (opt.mode == MODE_RR) {
		hist = calloc(HIST_BUCKETS + 1, sizeof(*hist));
		if (hist == NULL)
			return 1;
	}
	return run_timed();
}
