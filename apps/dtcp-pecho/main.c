/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-pecho: an echo server (RFC 862) written against the POSIX-like
 * layer (dtcp/posix.h) only, as a ported socket program would be: one
 * epoll instance per worker, non-blocking sockets, every worker listening
 * on the same port with SO_REUSEPORT. What a client sends waits in a buffer
 * of its own until it is written back; while that buffer is not empty the
 * client is not read, so a client that does not read is slowed down by
 * TCP's window, never dropped. The program's skeleton (options, port,
 * workers, signals, reports, leak check) is apps/common: each worker's
 * context is made and attached on its lcore (worker_start), and its epoll
 * loop is run between the skeleton's polls of the worker (worker_poll).
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_lcore.h>

#include <dtcp/posix.h>

#include "app.h"

#define EVENTS_MAX 64

struct pecho_opts {
	uint32_t listen_port;
	uint32_t max_clients;
	uint32_t buffer;
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

/* One worker's: its context, listener and epoll instance. */
struct pecho {
	const struct pecho_opts *o;
	struct dtcp_posix *px;
	int lfd, ep;
	struct client *clients;       /* by descriptor - DTCP_POSIX_FD_BASE */
	struct pecho_stats st;
};

static struct pecho_ctx {
	struct pecho_opts o;
	struct dtcp_app app;
	struct pecho pe[RTE_MAX_LCORE];
} ctx = {
	.o = {
		.listen_port = 7,
		.max_clients = 1024,
		.buffer = 65536,
	},
};

static const struct dtcp_app_option options[] = {
	{ "listen-port", "listen_port", true, "N", "TCP port to serve (default 7)" },
	{ "max-clients", "max_clients", true, "N",
	  "clients at once per worker, 1..65536 (default 1024); more are refused" },
	{ "buffer", "buffer", true, "BYTES",
	  "what one client's echo may hold, 1024..67108864 (default 65536)" },
	{ NULL, NULL, false, NULL, NULL },
};

static int
set(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	struct pecho_ctx *c = arg;
	char what[64];

	snprintf(what, sizeof(what), "[pecho] %s", key);
	if (strcasecmp(key, "listen_port") == 0)
		return dtcp_app_parse_u32(what, value, 1, 65535, &c->o.listen_port, err, errlen);
	if (strcasecmp(key, "max_clients") == 0)
		return dtcp_app_parse_u32(what, value, 1, 1u << 16, &c->o.max_clients, err, errlen);
	if (strcasecmp(key, "buffer") == 0)
		return dtcp_app_parse_u32(what, value, 1024, 1u << 26, &c->o.buffer, err, errlen);
	snprintf(err, errlen, "unknown key [pecho] %s", key);
	return -EINVAL;
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
listen_on(const struct pecho_opts *o)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)o->listen_port) };
	int one = 1;
	int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	if (fd < 0 ||
	    dtcp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
	    dtcp_setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) != 0 ||
	    dtcp_bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 || dtcp_listen(fd, 128) != 0)
		return -1;
	return fd;
}

static int
worker_start(void *arg, unsigned q, struct dtcp_worker *w, char *err, size_t errlen)
{
	struct pecho_ctx *c = arg;
	struct pecho *pe = &c->pe[q];
	struct dtcp_posix_params pp = { .worker = w, .max_fds = c->o.max_clients + 2 };
	struct epoll_event ev = { .events = EPOLLIN };
	int e;

	pe->o = &c->o;
	pe->lfd = pe->ep = -1;
	pe->clients = calloc(c->o.max_clients + 2, sizeof(struct client));
	if (pe->clients == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	pe->px = dtcp_posix_create(&pp);
	if (pe->px == NULL) {
		e = errno;
		snprintf(err, errlen, "%s", strerror(e));
		return -e;
	}
	/* The calls made on this lcore act on this worker's descriptors. */
	dtcp_posix_attach(pe->px);
	pe->lfd = listen_on(&c->o);
	pe->ep = pe->lfd < 0 ? -1 : dtcp_epoll_create1(0);
	ev.data.fd = pe->lfd;
	if (pe->ep < 0 || dtcp_epoll_ctl(pe->ep, EPOLL_CTL_ADD, pe->lfd, &ev) != 0) {
		e = errno;
		snprintf(err, errlen, "listening on %u: %s", c->o.listen_port, strerror(e));
		return -e;
	}
	return 0;
}

/*
 * After each poll of the worker: what is ready now. A timeout of 0 never
 * polls the worker itself (docs/posix.md): the skeleton's loop does.
 */
static void
worker_poll(void *arg, unsigned q, struct dtcp_worker *w, uint64_t now_ns)
{
	struct pecho *pe = &((struct pecho_ctx *)arg)->pe[q];
	struct epoll_event evs[EVENTS_MAX];
	int n = dtcp_epoll_wait(pe->ep, evs, EVENTS_MAX, 0);

	(void)w;
	(void)now_ns;
	for (int i = 0; i < n; i++) {
		if (evs[i].data.fd == pe->lfd)
			accept_all(pe, pe->lfd, pe->ep);
		else
			client_serve(pe, evs[i].data.fd, pe->ep);
	}
}

static void
worker_stop(void *arg, unsigned q, struct dtcp_worker *w)
{
	struct pecho *pe = &((struct pecho_ctx *)arg)->pe[q];

	if (pe->px == NULL)
		return;
	for (uint32_t i = 0; i < pe->o->max_clients + 2; i++) {
		free(pe->clients[i].buf);
		pe->clients[i].buf = NULL;
	}
	/* Every descriptor still open is closed (FIN, or RST with data unread). */
	dtcp_posix_destroy(pe->px);
	pe->px = NULL;
	/* Its lcore has stopped: one more poll here sends the FINs the closes owe. */
	dtcp_worker_poll(w, dtcp_tsc_to_ns(rte_rdtsc()));
}

static void
worker_free(void *arg, unsigned q)
{
	struct pecho *pe = &((struct pecho_ctx *)arg)->pe[q];

	free(pe->clients);
	pe->clients = NULL;
}

/* At exit only: the workers write their counters without atomics. */
static void
report(void *arg, FILE *f, bool final)
{
	const struct pecho_ctx *c = arg;
	struct pecho_stats t = { 0 };

	if (!final)
		return;
	for (unsigned q = 0; q < c->app.n_workers; q++) {
		t.accepted += c->pe[q].st.accepted;
		t.refused += c->pe[q].st.refused;
		t.closed += c->pe[q].st.closed;
		t.failed += c->pe[q].st.failed;
		t.bytes += c->pe[q].st.bytes;
	}
	fprintf(f, "dtcp-pecho: accepted %llu, refused %llu, closed %llu, failed %llu, "
		"bytes echoed %llu\n", (unsigned long long)t.accepted,
		(unsigned long long)t.refused, (unsigned long long)t.closed,
		(unsigned long long)t.failed, (unsigned long long)t.bytes);
}

int
main(int argc, char **argv)
{
	static const struct dtcp_app_desc desc = {
		.name = "dtcp-pecho",
		.summary =
			"Echo server (RFC 862) on the dtcp stack, written on its POSIX-like sockets:\n"
			"one epoll instance per worker, every worker listening on the port. Options\n"
			"below are also keys of [pecho] in the --config file.\n",
		.example = "--vdev=net_tap0,iface=dtap0 -- --ip 198.18.7.2/24",
		.section = "pecho",
		.options = options,
		.ctx = &ctx,
		.set = set,
		.worker_start = worker_start,
		.worker_poll = worker_poll,
		.worker_stop = worker_stop,
		.report = report,
		.worker_free = worker_free,
	};
	int rc = dtcp_app_init(&ctx.app, &desc, argc, argv);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	printf("dtcp-pecho: echo on port %u, %u clients per worker, %u bytes each\n",
	       ctx.o.listen_port, ctx.o.max_clients, ctx.o.buffer);
	fflush(stdout);
	dtcp_app_run(&ctx.app);
	return dtcp_app_finish(&ctx.app);
}
