/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-bench-kstream: the Linux baseline of bench/goodput.sh. One TCP
 * connection through the kernel with plain blocking sockets: a receiver
 * (--listen) that checks bench/pattern.h's stream as it reads it and
 * prints the goodput of each wall-clock second from the accept, and a
 * sender (--connect) that writes the stream as fast as the socket takes
 * it. Both ask for the congestion control named by --cc (cubic).
 *
 * At the end the sender half-closes; the receiver, at EOF, writes back
 * the number of bytes it read in order (8 bytes, big-endian), which the
 * sender compares with what it wrote.
 */
#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pattern.h"

#define PROG "dtcp-bench-kstream"
#define MAX_SECONDS 3600
#define CONNECT_LIMIT_S 10      /* the receiver may still be starting */
#define DRAIN_LIMIT_S 30        /* the tail of the stream, after the last sample */
#define SEND_MARGIN_S 2         /* the sender goes on this long past the receiver's samples */
#define READ_BUF (256 * 1024)

static uint8_t pattern[PATTERN_BUF_LEN];
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct opts {
	const char *listen_addr;
	const char *connect_addr;
	unsigned port;
	unsigned seconds;
	const char *cc;
};

static void
usage(const char *prog)
{
	printf("Usage: %s --listen ADDR | --connect ADDR [--port N] [--seconds N] [--cc NAME]\n"
	       "\n"
	       "One TCP connection through the Linux kernel, with blocking sockets.\n"
	       "\n"
	       "  --listen ADDR   receive: accept one connection on ADDR, check the stream,\n"
	       "                  print 'second=I goodput_mbps=G' for N seconds from the\n"
	       "                  accept, then read to EOF and print a RESULT line\n"
	       "  --connect ADDR  send: write the stream for N + %d seconds, half-close, and\n"
	       "                  compare the receiver's count with what was written\n"
	       "  --port N        TCP port (default 5001)\n"
	       "  --seconds N     seconds measured, 2..%d (default 5); the first is warm-up\n"
	       "  --cc NAME       congestion control (TCP_CONGESTION; default cubic)\n"
	       "  --help          this text\n"
	       "\n"
	       "Exits 0, 1 when the run fails, 2 on bad arguments, 3 when a byte was lost\n"
	       "or corrupted.\n",
	       prog, SEND_MARGIN_S, MAX_SECONDS);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
parse_args(int argc, char **argv, struct opts *o)
{
	enum { O_LISTEN = 256, O_CONNECT, O_PORT, O_SECONDS, O_CC, O_HELP };
	static const struct option longopts[] = {
		{ "listen", required_argument, NULL, O_LISTEN },
		{ "connect", required_argument, NULL, O_CONNECT },
		{ "port", required_argument, NULL, O_PORT },
		{ "seconds", required_argument, NULL, O_SECONDS },
		{ "cc", required_argument, NULL, O_CC },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned long v;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case O_LISTEN:
			o->listen_addr = optarg;
			break;
		case O_CONNECT:
			o->connect_addr = optarg;
			break;
		case O_PORT:
		case O_SECONDS:
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || optarg[0] == '-' || end == optarg ||
			    (opt == O_PORT && (v < 1 || v > 65535)) ||
			    (opt == O_SECONDS && (v < 2 || v > MAX_SECONDS))) {
				fprintf(stderr, PROG ": %s %s: expected %s\n",
					opt == O_PORT ? "--port" : "--seconds", optarg,
					opt == O_PORT ? "1..65535" : "2..3600");
				return -1;
			}
			if (opt == O_PORT)
				o->port = (unsigned)v;
			else
				o->seconds = (unsigned)v;
			break;
		case O_CC:
			o->cc = optarg;
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
	if ((o->listen_addr == NULL) == (o->connect_addr == NULL)) {
		fprintf(stderr, PROG ": give one of --listen and --connect (try --help)\n");
		return -1;
	}
	return 0;
}

static int
sockaddr_of(const char *addr, unsigned port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sa->sin_addr) != 1) {
		fprintf(stderr, PROG ": '%s' is not an IPv4 address\n", addr);
		return -1;
	}
	return 0;
}

static int
tcp_socket(const char *cc)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0) {
		perror(PROG ": socket");
		return -1;
	}
	if (setsockopt(fd, IPPROTO_TCP, TCP_CONGESTION, cc, (socklen_t)strlen(cc)) != 0) {
		fprintf(stderr, PROG ": TCP_CONGESTION %s: %s\n", cc, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Reads and writes wait at most this long, so that time limits and signals are seen. */
static void
set_timeouts(int fd, unsigned ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* ---- Receiver ------------------------------------------------------------------------ */

struct checker {
	uint64_t bytes;
	uint32_t pos;
	uint64_t bad_pieces;
	uint64_t first_bad;
};

static void
check(struct checker *k, const uint8_t *p, size_t n)
{
	while (n > 0) {
		uint32_t piece = n < PATTERN_CHUNK ? (uint32_t)n : PATTERN_CHUNK;

		if (memcmp(p, pattern + k->pos, piece) != 0 && k->bad_pieces++ == 0)
			k->first_bad = k->bytes;
		k->bytes += piece;
		k->pos = pattern_advance(k->pos, piece);
		p += piece;
		n -= piece;
	}
}

static int
receiver(const struct opts *o)
{
	static uint8_t buf[READ_BUF];
	static double mbps[MAX_SECONDS];
	struct sockaddr_in sa;
	struct checker k = { .first_bad = UINT64_MAX };
	struct pollfd pfd;
	double start, mark, limit;
	uint64_t last = 0, count_be;
	unsigned n = 0;
	bool eof = false;
	int lfd, fd, one = 1, rc;

	if (sockaddr_of(o->listen_addr, o->port, &sa) != 0)
		return 2;
	lfd = tcp_socket(o->cc);
	if (lfd < 0)
		return 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(lfd, 1) != 0) {
		fprintf(stderr, PROG ": %s:%u: %s\n", o->listen_addr, o->port, strerror(errno));
		close(lfd);
		return 1;
	}
	printf(PROG ": listening on %s:%u, %s\n", o->listen_addr, o->port, o->cc);
	fflush(stdout);
	pfd = (struct pollfd){ .fd = lfd, .events = POLLIN };
	rc = poll(&pfd, 1, CONNECT_LIMIT_S * 1000);
	fd = rc == 1 ? accept(lfd, NULL, NULL) : -1;
	close(lfd);
	if (fd < 0) {
		fprintf(stderr, PROG ": no connection in %d s\n", CONNECT_LIMIT_S);
		return 1;
	}
	set_timeouts(fd, 200);
	start = mark = now_s();
	limit = start + o->seconds + DRAIN_LIMIT_S;
	while (!stop && now_s() < limit) {
		ssize_t got = read(fd, buf, sizeof(buf));
		double t;

		if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			got = 0;
		else if (got < 0) {
			fprintf(stderr, PROG ": read: %s\n", strerror(errno));
			break;
		} else if (got == 0) {
			eof = true;
			break;
		}
		check(&k, buf, (size_t)got);
		t = now_s();
		if (n < o->seconds && t - mark >= 1.0) {
			/* Scaled by the real interval: a late read does not inflate the rate. */
			mbps[n] = (double)(k.bytes - last) * 8 / 1e6 / (t - mark);
			printf("second=%u goodput_mbps=%.1f\n", n + 1, mbps[n]);
			fflush(stdout);
			n++;
			mark = t;
			last = k.bytes;
		}
	}
	if (eof) {
		/* The count back to the sender, which compares it with what it wrote. */
		count_be = htobe64(k.bytes);
		if (write(fd, &count_be, sizeof(count_be)) != (ssize_t)sizeof(count_be))
			fprintf(stderr, PROG ": could not send the count back: %s\n", strerror(errno));
	}
	close(fd);
	printf(PROG ": %llu bytes received in order, %llu piece(s) unlike the pattern%s\n",
	       (unsigned long long)k.bytes, (unsigned long long)k.bad_pieces,
	       k.bad_pieces ? "  (DATA MISMATCH)" : "");
	if (k.bad_pieces != 0) {
		printf(PROG ": first difference in the piece at stream offset %llu\n",
		       (unsigned long long)k.first_bad);
		return 3;
	}
	if (!eof || n < 2) {
		fprintf(stderr, PROG ": %s after %u sample(s)\n", eof ? "EOF" : "no EOF", n);
		return 1;
	}
	/* The first second is warm-up: slow start, caches. */
	qsort(mbps + 1, n - 1, sizeof(double), cmp_double);
	{
		unsigned m = n - 1;
		const double *v = mbps + 1;
		double med = m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;

		printf("RESULT linux_goodput_mbps_median=%.1f min=%.1f max=%.1f samples=%u"
		       " warmup=1 bytes=%llu data_ok=1\n", med, v[0], v[m - 1], m,
		       (unsigned long long)k.bytes);
	}
	return 0;
}

/* ---- Sender -------------------------------------------------------------------------- */

static int
sender(const struct opts *o)
{
	struct sockaddr_in sa;
	struct tcp_info ti;
	socklen_t tlen = sizeof(ti);
	uint64_t sent = 0, count_be = 0;
	uint32_t pos = 0;
	size_t have = 0;
	double start, until, limit;
	int fd = -1;

	if (sockaddr_of(o->connect_addr, o->port, &sa) != 0)
		return 2;
	/* The receiver may not listen yet: try again for a while. */
	start = now_s();
	for (unsigned i = 0; i < CONNECT_LIMIT_S * 20 && !stop; i++) {
		fd = tcp_socket(o->cc);
		if (fd < 0)
			return 1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
			break;
		close(fd);
		fd = -1;
		if (errno != ECONNREFUSED || now_s() - start > CONNECT_LIMIT_S)
			break;
		usleep(50000);
	}
	if (fd < 0) {
		fprintf(stderr, PROG ": connect %s:%u: %s\n", o->connect_addr, o->port,
			strerror(errno));
		return 1;
	}
	set_timeouts(fd, 200);
	start = now_s();
	until = start + o->seconds + SEND_MARGIN_S;
	limit = until + DRAIN_LIMIT_S;
	while (!stop && now_s() < until) {
		ssize_t n = write(fd, pattern + pos, PATTERN_CHUNK);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			continue;
		if (n < 0) {
			fprintf(stderr, PROG ": write after %llu bytes: %s\n",
				(unsigned long long)sent, strerror(errno));
			close(fd);
			return 1;
		}
		sent += (uint64_t)n;
		pos = pattern_advance(pos, (uint32_t)n);
	}
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) != 0)
		memset(&ti, 0, sizeof(ti));
	shutdown(fd, SHUT_WR);
	while (!stop && have < sizeof(count_be) && now_s() < limit) {
		ssize_t n = read(fd, (uint8_t *)&count_be + have, sizeof(count_be) - have);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	close(fd);
	if (have != sizeof(count_be)) {
		fprintf(stderr, PROG ": no count back from the receiver (%llu bytes written)\n",
			(unsigned long long)sent);
		return 1;
	}
	{
		uint64_t got = be64toh(count_be);
		bool ok = got == sent;

		printf(PROG ": %llu bytes written, %llu received%s; at the half-close srtt %u us, "
		       "rto %u ms, cwnd %u, ssthresh %u\n", (unsigned long long)sent,
		       (unsigned long long)got, ok ? "" : "  (DATA MISMATCH)", ti.tcpi_rtt,
		       ti.tcpi_rto / 1000, ti.tcpi_snd_cwnd, ti.tcpi_snd_ssthresh);
		printf("RESULT linux_sender bytes=%llu retrans=%u data_ok=%d\n",
		       (unsigned long long)sent, ti.tcpi_total_retrans, ok);
		return ok ? 0 : 3;
	}
}

int
main(int argc, char **argv)
{
	struct opts o = { .port = 5001, .seconds = 5, .cc = "cubic" };

	if (parse_args(argc, argv, &o) != 0)
		return 2;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	pattern_fill(pattern);
	return o.listen_addr != NULL ? receiver(&o) : sender(&o);
}
