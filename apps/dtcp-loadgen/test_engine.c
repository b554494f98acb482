/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-loadgen's engine and response reader, tested without a network:
 * two workers on in-memory ports joined by a loop that copies every frame
 * across, a fake clock, and a small server on the event API whose
 * behaviour each case chooses (good responses, 404, garbage, short,
 * silence, its own FIN first). Each case checks the engine's counters to
 * the unit, the TIME-WAIT identities on both workers, and that every mbuf
 * came home.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_mbuf.h>

#include <dtcp/dtcp.h>

#include "../common/ext_ref.h"
#include "engine.h"
#include "http.h"

static int failures;
static const char *test_name;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s: %s:%d: CHECK(%s) failed\n", test_name, __FILE__, __LINE__, #cond); \
		failures++; \
	} \
} while (0)
#define CHECK_EQ(a, b) do { \
	uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b); \
	if (a_ != b_) { \
		fprintf(stderr, "%s: %s:%d: %s = %" PRIu64 ", expected %s = %" PRIu64 "\n", test_name, \
			__FILE__, __LINE__, #a, a_, #b, b_); \
		failures++; \
	} \
} while (0)

/* ---- The response reader ---- */

static enum lg_resp_verdict
feed_all_n(const char *s, uint32_t n, uint32_t step, struct lg_resp *r, uint32_t *used_total)
{
	uint32_t i = 0;

	lg_resp_reset(r);
	while (i < n) {
		uint32_t k = step != 0 && n - i > step ? step : n - i, used;
		enum lg_resp_verdict v = lg_resp_feed(r, (const uint8_t *)s + i, k, &used);

		i += used;
		if (v != LG_RESP_MORE) {
			*used_total = i;
			return v;
		}
	}
	*used_total = i;
	return LG_RESP_MORE;
}

static enum lg_resp_verdict
feed_all(const char *s, uint32_t step, struct lg_resp *r, uint32_t *used_total)
{
	return feed_all_n(s, (uint32_t)strlen(s), step, r, used_total);
}

static void
test_reader(void)
{
	static const struct {
		const char *text;
		enum lg_resp_verdict v;
		uint32_t used;          /* bytes taken when DONE */
		uint16_t status;
		uint32_t clen;
		uint8_t flags;
	} cases[] = {
		/* The response ends with its body: what follows is not taken. */
		{ "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhelloNEXT",
		  LG_RESP_DONE, 54, 200, 5, LG_RESP_HAS_CLEN },
		{ "HTTP/1.0 404 Not Found\r\ncontent-length:0\r\nCONNECTION:  Close\r\n\r\n",
		  LG_RESP_DONE, 64, 404, 0, LG_RESP_HAS_CLEN | LG_RESP_CLOSE },
		/* Bare LF line ends; "closed" is not "close"; trailing blanks after the length. */
		{ "HTTP/1.1 200 OK\nContent-Length: 3 \nConnection: closed\n\nabc",
		  LG_RESP_DONE, 58, 200, 3, LG_RESP_HAS_CLEN },
		/* A longer name that starts like Content-Length is another header. */
		{ "HTTP/1.1 200 OK\r\nContent-Lengthx: 1\r\nContent-Length: 2\r\n\r\nab",
		  LG_RESP_DONE, 60, 200, 2, LG_RESP_HAS_CLEN },
		/* No length: the body could only end with the connection. */
		{ "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nabc", LG_RESP_BAD, 0, 0, 0, 0 },
		{ "HTTX/1.1 200 OK\r\n\r\n", LG_RESP_BAD, 0, 0, 0, 0 },
		{ "HTTP/1.1 2x0 OK\r\n\r\n", LG_RESP_BAD, 0, 0, 0, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\na",
		  LG_RESP_BAD, 0, 0, 0, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\na", LG_RESP_BAD, 0, 0, 0, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", LG_RESP_BAD, 0, 0, 0, 0 },
		{ "HTTP/1.1 200 OK\r\nContent-Length: 2000000000\r\n\r\n", LG_RESP_BAD, 0, 0, 0, 0 },
		{ "HTTP/1.1 200 OK\r\n folded: no\r\n\r\n", LG_RESP_BAD, 0, 0, 0, 0 },
		/* Incomplete: everything taken, more wanted. */
		{ "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello", LG_RESP_MORE, 0, 0, 0, 0 },
	};
	char big[LG_HTTP_HDR_MAX + 64];
	struct lg_resp r;
	uint32_t used;

	test_name = "reader";
	for (unsigned c = 0; c < RTE_DIM(cases); c++) {
		/* Whole, then cut after every byte, then every 7 bytes: one verdict. */
		for (uint32_t step = 0; step <= 7; step += step == 0 ? 1 : 6) {
			enum lg_resp_verdict v = feed_all(cases[c].text, step, &r, &used);

			CHECK_EQ(v, cases[c].v);
			if (v != cases[c].v || v != LG_RESP_DONE)
				continue;
			CHECK_EQ(used, cases[c].used);
			CHECK_EQ(r.status, cases[c].status);
			CHECK_EQ(r.clen, cases[c].clen);
			CHECK_EQ(r.flags, cases[c].flags);
		}
	}
	/* A head beyond LG_HTTP_HDR_MAX is refused, whatever it holds. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	CHECK_EQ(feed_all(big, 0, &r, &used), LG_RESP_BAD);
	CHECK_EQ(used, LG_HTTP_HDR_MAX);
}


/* s[0..n) through the cached reader in pieces of step bytes (0: whole), as the engine feeds it. */
static enum lg_resp_verdict
feed_cached(const char *s, uint32_t n, uint32_t step, struct lg_resp *r, struct lg_resp_cache *k,
	    uint32_t *used_total)
{
	uint32_t i = 0;

	lg_resp_reset(r);
	while (i < n) {
		uint32_t len = step != 0 && n - i > step ? step : n - i, used;
		enum lg_resp_verdict v = lg_resp_feed_cached(r, k, (const uint8_t *)s + i, len,
							     &used);

		i += used;
		if (v != LG_RESP_MORE) {
			*used_total = i;
			return v;
		}
	}
	*used_total = i;
	return LG_RESP_MORE;
}

static void
test_reader_cached(void)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 5\r\n\r\nhello";
	static const char ok6[] = "HTTP/1.1 200 OK\r\nServer: x\r\nContent-Length: 6\r\n\r\nhello!";
	static const char nf[] = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n"
				 "Content-Length: 0\r\n\r\n";
	static const char *const seeds[] = { ok, ok6, nf };
	const uint32_t ok_len = (uint32_t)strlen(ok), head_len = ok_len - 5;
	struct lg_resp_cache k;
	struct lg_resp r, r2;
	char two[2 * sizeof(ok)];
	uint32_t used, used2, seed = 20261122;
	uint64_t agree = 0;

	test_name = "reader_cached";
	memset(&k, 0, sizeof(k));
	/* Read once in full and learned; the same bytes again: one hit, the same reading. */
	CHECK_EQ(feed_cached(ok, ok_len, 0, &r, &k, &used), LG_RESP_DONE);
	CHECK_EQ(k.hits, 0);
	CHECK_EQ(k.len, head_len);
	CHECK_EQ(feed_cached(ok, ok_len, 0, &r, &k, &used), LG_RESP_DONE);
	CHECK_EQ(k.hits, 1);
	CHECK_EQ(used, ok_len);
	CHECK_EQ(r.status, 200);
	CHECK_EQ(r.clen, 5);
	CHECK_EQ(r.flags, LG_RESP_HAS_CLEN);
	/* The head split over pieces: no hit, the same reading, nothing learned from pieces. */
	for (uint32_t step = 1; step < head_len; step += 9) {
		CHECK_EQ(feed_cached(ok, ok_len, step, &r, &k, &used), LG_RESP_DONE);
		CHECK_EQ(used, ok_len);
		CHECK_EQ(r.clen, 5);
	}
	CHECK_EQ(k.hits, 1);
	CHECK_EQ(k.len, head_len);
	/* The head whole but the body split: a hit, the body counted over the pieces. */
	CHECK_EQ(feed_cached(ok, ok_len, head_len + 2, &r, &k, &used), LG_RESP_DONE);
	CHECK_EQ(k.hits, 2);
	CHECK_EQ(used, ok_len);
	/* One byte different (the length): read in full, then learned. */
	CHECK_EQ(feed_cached(ok6, (uint32_t)strlen(ok6), 0, &r, &k, &used), LG_RESP_DONE);
	CHECK_EQ(k.hits, 2);
	CHECK_EQ(r.clen, 6);
	CHECK_EQ(used, strlen(ok6));
	CHECK_EQ(feed_cached(ok6, (uint32_t)strlen(ok6), 0, &r, &k, &used), LG_RESP_DONE);
	CHECK_EQ(k.hits, 3);
	CHECK_EQ(r.clen, 6);
	/* A different head: its own status, flags and empty body. */
	CHECK_EQ(feed_cached(nf, (uint32_t)strlen(nf), 0, &r, &k, &used), LG_RESP_DONE);
	CHECK_EQ(r.status, 404);
	CHECK_EQ(r.clen, 0);
	CHECK_EQ(r.flags, LG_RESP_HAS_CLEN | LG_RESP_CLOSE);
	CHECK_EQ(feed_cached(nf, (uint32_t)strlen(nf), 0, &r, &k, &used), LG_RESP_DONE);
	CHECK_EQ(k.hits, 4);
	CHECK_EQ(r.status, 404);
	CHECK_EQ(r.flags, LG_RESP_HAS_CLEN | LG_RESP_CLOSE);
	CHECK_EQ(used, strlen(nf));
	/* Pipelined: the first ends at its body, the second starts there and hits. */
	memset(&k, 0, sizeof(k));
	memcpy(two, ok, ok_len);
	memcpy(two + ok_len, ok, ok_len);
	CHECK_EQ(feed_cached(two, 2 * ok_len, 0, &r, &k, &used), LG_RESP_DONE);
	CHECK_EQ(used, ok_len);
	CHECK_EQ(feed_cached(two + used, 2 * ok_len - used, 0, &r, &k, &used2), LG_RESP_DONE);
	CHECK_EQ(used2, ok_len);
	CHECK_EQ(k.hits, 1);
	/*
	 * The cache changes no reading: random one- and two-byte edits of the
	 * seeds, random cuts, through one cache and through the plain reader.
	 */
	for (unsigned i = 0; i < 20000; i++) {
		char buf[128];
		uint32_t n, step;
		enum lg_resp_verdict v1, v2;

		seed = seed * 1103515245u + 12345u;
		n = (uint32_t)strlen(seeds[(seed >> 16) % 3]);
		CHECK(n <= sizeof(buf));
		memcpy(buf, seeds[(seed >> 16) % 3], n);
		for (unsigned e = 0; e < (seed >> 8) % 3; e++) {
			seed = seed * 1103515245u + 12345u;
			buf[(seed >> 16) % n] = "\r\n :0Ox"[(seed >> 4) % 8];
		}
		seed = seed * 1103515245u + 12345u;
		step = (seed >> 16) % 4 == 0 ? 1 + (seed >> 4) % 40 : 0;
		v1 = feed_all_n(buf, n, step, &r, &used);
		v2 = feed_cached(buf, n, step, &r2, &k, &used2);
		CHECK_EQ(v2, v1);
		CHECK_EQ(used2, used);
		if (v1 != LG_RESP_BAD && (r.status != r2.status || r.clen != r2.clen ||
					  r.flags != r2.flags || r.body_left != r2.body_left ||
					  r.state != r2.state || r.hdr_bytes != r2.hdr_bytes)) {
			CHECK(!"the same state after the same bytes");
			break;
		}
		agree++;
	}
	CHECK_EQ(agree, 20000);
	CHECK(k.hits > 1000);
}

static void
test_request(void)
{
	char buf[512];
	int n;

	test_name = "request";
	n = lg_http_request(buf, sizeof(buf), "/x", "h", false, 0);
	CHECK(n > 0 && strcmp(buf, "GET /x HTTP/1.1\r\nHost: h\r\nUser-Agent: dtcp-loadgen\r\n\r\n") == 0);
	n = lg_http_request(buf, sizeof(buf), "/x", "h", true, 200);
	CHECK_EQ(n, 200);
	CHECK_EQ(strlen(buf), 200);
	CHECK(strstr(buf, "Connection: close\r\nX-Pad: xxx") != NULL);
	CHECK(strcmp(buf + 196, "\r\n\r\n") == 0);
	/* Between the bare size and 9 above it nothing can be added exactly. */
	CHECK_EQ(lg_http_request(buf, sizeof(buf), "/x", "h", false, 60), -EINVAL);
	CHECK_EQ(lg_http_request(buf, sizeof(buf), "/x", "h", false, 40), -EINVAL);
	CHECK_EQ(lg_http_request(buf, sizeof(buf), "/x", "h", false, 600), -ENOSPC);
}

/* ---- Two workers on a copying wire, and a test server ---- */

enum srv_mode {
	SRV_OK,                       /* 200, 5 bytes, keep-alive */
	SRV_404,
	SRV_GARBAGE,                  /* not HTTP */
	SRV_SHORT,                    /* Content-Length 10, 5 bytes, then FIN */
	SRV_SILENT,                   /* reads, never answers */
	SRV_CLOSE_AFTER,              /* 200 then its own FIN after close_after requests */
};

static const char *const srv_answer[] = {
	[SRV_OK] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
	[SRV_404] = "HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nnope!",
	[SRV_GARBAGE] = "SSH-2.0-OpenSSH\r\n",
	[SRV_SHORT] = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello",
	[SRV_SILENT] = "",
	[SRV_CLOSE_AFTER] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
};

struct srv_conn {
	struct dtcp_conn *c;
	unsigned crlf;                /* of "\r\n\r\n" matched */
	unsigned requests;
};

static struct srv {
	enum srv_mode mode;
	unsigned close_after;
	struct dtcp_conn *listener;
	struct srv_conn conns[256];
	uint64_t requests, accepted;
} srv;

static void
srv_conn_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct srv_conn *sc = ev->user;

	switch (ev->type) {
	case DTCP_EV_DATA:
		for (struct rte_mbuf *m = ev->data; m != NULL; m = m->next) {
			const char *p = rte_pktmbuf_mtod(m, const char *);

			for (uint16_t i = 0; i < m->data_len; i++) {
				sc->crlf = p[i] == "\r\n\r\n"[sc->crlf] ? sc->crlf + 1 :
					   (p[i] == '\r' ? 1 : 0);
				if (sc->crlf < 4)
					continue;
				sc->crlf = 0;
				sc->requests++;
				srv.requests++;
				dtcp_tcp_send_copy(w, sc->c, srv_answer[srv.mode],
						   (uint32_t)strlen(srv_answer[srv.mode]));
				if (srv.mode == SRV_SHORT || srv.mode == SRV_GARBAGE ||
				    (srv.mode == SRV_CLOSE_AFTER && sc->requests == srv.close_after))
					dtcp_tcp_shutdown(w, sc->c);
			}
		}
		rte_pktmbuf_free(ev->data);
		break;
	case DTCP_EV_PEER_CLOSED:
		dtcp_tcp_shutdown(w, sc->c);
		break;
	case DTCP_EV_CLOSED:
		sc->c = NULL;
		break;
	case DTCP_EV_ACCEPTABLE:
	case DTCP_EV_CONNECTED:
	case DTCP_EV_WRITABLE:
		break;
	}
}

static void
srv_listen_event(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	for (;;) {
		struct srv_conn *sc = NULL;

		for (unsigned i = 0; i < RTE_DIM(srv.conns) && sc == NULL; i++)
			if (srv.conns[i].c == NULL)
				sc = &srv.conns[i];
		if (sc == NULL)
			return;
		memset(sc, 0, sizeof(*sc));
		sc->c = dtcp_tcp_accept(w, ev->conn, srv_conn_event, sc);
		if (sc->c == NULL)
			return;
		srv.accepted++;
	}
}

struct side {
	struct dtcp_config cfg;
	struct dtcp_port *port;
	struct dtcp_worker *w;
};

static struct rte_mempool *pool;
static uint64_t now_ns;

static int
side_init(struct side *s, const char *addrs, uint8_t mac_last, uint32_t msl_ms)
{
	struct rte_ether_addr mac = { { 0x02, 0, 0, 0, 0, mac_last } };
	char err[256];

	dtcp_config_defaults(&s->cfg);
	if (dtcp_config_set(&s->cfg, "ip", "address", addrs, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	s->cfg.tcp_msl_ms = msl_ms;
	s->cfg.tcp_delack_ms = 0;
	s->cfg.arp_pending_per_entry = 16;
	s->port = dtcp_memport_create(&mac, 1500, pool, 4096);
	s->w = s->port ? dtcp_worker_create(&s->cfg, s->port, 0, now_ns, err, sizeof(err)) : NULL;
	if (s->w == NULL) {
		fprintf(stderr, "worker: %s\n", s->port ? err : "memport");
		return -1;
	}
	return 0;
}

static void
side_fini(struct side *s)
{
	dtcp_worker_destroy(s->w);
	dtcp_port_destroy(s->port);
}

/* Every frame a sent, copied into one fresh mbuf each, into b. */
static void
carry(struct side *a, struct side *b)
{
	struct rte_mbuf *m;

	while (dtcp_memport_take(a->port, &m, 1) == 1) {
		struct rte_mbuf *copy = rte_pktmbuf_alloc(pool);
		char *p = copy ? rte_pktmbuf_append(copy, (uint16_t)m->pkt_len) : NULL;

		if (p != NULL) {
			const void *src = rte_pktmbuf_read(m, 0, m->pkt_len, p);

			if (src != p)
				memcpy(p, src, m->pkt_len);
		}
		if (p == NULL || dtcp_memport_inject(b->port, copy) != 0)
			rte_pktmbuf_free(copy);
		rte_pktmbuf_free(m);
	}
}

struct run {
	struct lg_opts o;
	const char *client_addrs;
	uint32_t addrs[2];
	unsigned n_addrs;
	uint32_t client_msl_ms, server_msl_ms;
	bool no_listener;
	/* Out */
	uint64_t stat[LG_STAT_MAX];
	uint64_t cctr[DTCP_CTR_MAX], sctr[DTCP_CTR_MAX];
	uint64_t ctw, stw;            /* TIME-WAIT records at the end */
	bool done;
};

static void
default_opts(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->o = (struct lg_opts){
		.server = 0xc6120901,         /* 198.18.9.1 */
		.server_port = 80,
		.port_lo = 10000,
		.port_hi = 59999,
		.concurrency = 8,
		.duration_s = 1,
		.requests = 1,
		.fin_first = LG_FIN_CLIENT,
		.response_size = -1,
		.connect_timeout_ms = 300,
		.timeout_ms = 300,
		.drain_ms = 1000,
		.burst = 4,
		.wait_ms = 500,
	};
	r->client_addrs = "198.18.9.2/24,198.18.9.3/24";
	r->addrs[0] = 0xc6120902;
	r->addrs[1] = 0xc6120903;
	r->n_addrs = 2;
	r->client_msl_ms = 50;
	r->server_msl_ms = 50;
	srv.mode = SRV_OK;
	srv.close_after = 1;
}

/*
 * The engine against the server until it is done, then 1 s more (both
 * sides' TIME-WAIT of 2 x 50 ms ends), the engine stopped, everything
 * freed: the mbufs in use must be back where they started.
 */
static void
run(struct run *r)
{
	struct side c, s;
	struct lg_engine *e;
	char err[256], req[256];
	unsigned in_use = rte_mempool_in_use_count(pool);
	uint64_t states[DTCP_TCP_STATE_MAX], after = 0;
	int n;

	memset(&srv.conns, 0, sizeof(srv.conns));
	srv.requests = srv.accepted = 0;
	now_ns = 1000000000ull;
	if (side_init(&c, r->client_addrs, 2, r->client_msl_ms) != 0 ||
	    side_init(&s, "198.18.9.1/24", 1, r->server_msl_ms) != 0) {
		failures++;
		return;
	}
	if (!r->no_listener)
		CHECK_EQ(dtcp_tcp_listen(s.w, 0, 80, NULL, srv_listen_event, NULL, &srv.listener), 0);
	n = lg_http_request(req, sizeof(req), "/", "198.18.9.1", r->o.fin_first == LG_FIN_SERVER,
			    0);
	e = lg_engine_create(c.w, pool, &r->o, r->addrs, r->n_addrs, req, (uint32_t)n, req,
			     (uint32_t)n, err, sizeof(err));
	CHECK(e != NULL);
	if (e == NULL)
		return;
	/* 100 us steps, 30 s at most. */
	for (unsigned step = 0; step < 300000 && after < 10000; step++) {
		dtcp_worker_poll(c.w, now_ns);
		lg_engine_poll(e, now_ns);
		carry(&c, &s);
		dtcp_worker_poll(s.w, now_ns);
		carry(&s, &c);
		now_ns += 100000;
		if (lg_engine_done(e))
			after++;
	}
	r->done = lg_engine_done(e);
	memcpy(r->stat, lg_engine_stats(e), sizeof(r->stat));
	lg_engine_stop(e);
	memcpy(r->stat, lg_engine_stats(e), sizeof(r->stat));
	dtcp_worker_release_held(c.w);
	dtcp_worker_release_held(s.w);
	memcpy(r->cctr, dtcp_worker_counters(c.w), sizeof(r->cctr));
	memcpy(r->sctr, dtcp_worker_counters(s.w), sizeof(r->sctr));
	dtcp_tcp_state_counts(c.w, states);
	r->ctw = states[DTCP_TCP_TIME_WAIT];
	dtcp_tcp_state_counts(s.w, states);
	r->stw = states[DTCP_TCP_TIME_WAIT];
	if (!r->no_listener)
		dtcp_tcp_close(s.w, srv.listener);
	for (unsigned i = 0; i < RTE_DIM(srv.conns); i++)
		if (srv.conns[i].c != NULL)
			dtcp_tcp_abort(s.w, srv.conns[i].c);
	side_fini(&c);
	side_fini(&s);
	lg_engine_free(e);
	CHECK_EQ(rte_mempool_in_use_count(pool), in_use);
	if (getenv("LG_TEST_VERBOSE") != NULL)
		for (unsigned k = 0; k < LG_STAT_MAX; k++)
			fprintf(stderr, "%s: %s %" PRIu64 "\n", test_name, lg_stat_name(k), r->stat[k]);
}

/* Frames that ended in a DROP or END counter: all of them, once idle. */
static uint64_t
handled(const uint64_t *ctr)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < DTCP_CTR_MAX; k++)
		if (dtcp_ctr_kind(k) == DTCP_CTR_KIND_DROP || dtcp_ctr_kind(k) == DTCP_CTR_KIND_END)
			n += ctr[k];
	return n;
}

/* The identities every run keeps, whatever happened. */
static void
check_identities(const struct run *r)
{
	const uint64_t *st = r->stat;

	CHECK(r->done);
	CHECK_EQ(r->cctr[DTCP_CTR_tcp_closed_orderly], st[LG_closed_first] + st[LG_closed_second]);
	CHECK_EQ(st[LG_closed_first], r->cctr[DTCP_CTR_tcp_timewait_enter]);
	CHECK_EQ(r->cctr[DTCP_CTR_tcp_timewait_enter],
		 r->cctr[DTCP_CTR_tcp_timewait_expired] + r->ctw + r->cctr[DTCP_CTR_tcp_timewait_full]);
	CHECK_EQ(r->sctr[DTCP_CTR_tcp_timewait_enter],
		 r->sctr[DTCP_CTR_tcp_timewait_expired] + r->stw + r->sctr[DTCP_CTR_tcp_timewait_full]);
	/* The run ended 1 s ago: 2 MSL (100 ms) has passed for every record. */
	CHECK_EQ(r->ctw, 0);
	CHECK_EQ(r->stw, 0);
	CHECK_EQ(r->cctr[DTCP_CTR_rx_frames], handled(r->cctr));
	CHECK_EQ(r->sctr[DTCP_CTR_rx_frames], handled(r->sctr));
}

static uint64_t
errors(const uint64_t *st)
{
	uint64_t n = 0;

	for (unsigned k = 0; k < LG_STAT_MAX; k++)
		if (lg_stat_is_error(k))
			n += st[k];
	return n;
}

/* Good responses, the client's FIN first: TIME-WAIT here, none there. */
static void
test_fin_client(void)
{
	struct run r;

	test_name = "fin_client";
	default_opts(&r);
	run(&r);
	check_identities(&r);
	CHECK(r.stat[LG_completed] > 1000);
	CHECK_EQ(r.stat[LG_opened], r.stat[LG_completed]);
	CHECK_EQ(r.stat[LG_responses], r.stat[LG_completed]);
	CHECK_EQ(r.stat[LG_closed_first], r.stat[LG_completed]);
	CHECK_EQ(errors(r.stat), 0);
	CHECK_EQ(r.stat[LG_unfinished], 0);
	CHECK_EQ(r.stat[LG_probe_failed], 0);
	CHECK_EQ(r.stat[LG_resp_bytes], r.stat[LG_responses] * strlen(srv_answer[SRV_OK]));
	/* Every response is the same bytes: all but the first read by the memcmp. */
	CHECK_EQ(r.stat[LG_resp_heads_cached], r.stat[LG_responses] - 1);
	CHECK_EQ(srv.accepted, r.stat[LG_opened]);
	CHECK_EQ(srv.requests, r.stat[LG_requests]);
	CHECK_EQ(r.sctr[DTCP_CTR_tcp_timewait_enter], 0);
	CHECK_EQ(r.sctr[DTCP_CTR_tcp_closed_orderly], r.stat[LG_completed]);
	/* Per connection on the wire: SYN, ACK with the GET, FIN, last ACK. */
	CHECK_EQ(r.cctr[DTCP_CTR_tcp_tx], 4 * r.stat[LG_opened]);
	CHECK_EQ(r.cctr[DTCP_CTR_tcp_tx_fin], r.stat[LG_opened]);
	CHECK_EQ(r.cctr[DTCP_CTR_tcp_rx_fin], r.stat[LG_opened]);
	CHECK_EQ(r.cctr[DTCP_CTR_tcp_rexmit], 0);
	CHECK_EQ(r.cctr[DTCP_CTR_tcp_tx_rst] + r.cctr[DTCP_CTR_tcp_rx_rst], 0);
}

/* Keep-alive, the server's FIN first after the third response. */
static void
test_fin_server(void)
{
	struct run r;

	test_name = "fin_server";
	default_opts(&r);
	r.o.fin_first = LG_FIN_SERVER;
	r.o.requests = 3;
	srv.mode = SRV_CLOSE_AFTER;
	srv.close_after = 3;
	run(&r);
	check_identities(&r);
	CHECK(r.stat[LG_completed] > 300);
	CHECK_EQ(r.stat[LG_opened], r.stat[LG_completed]);
	CHECK_EQ(r.stat[LG_responses], 3 * r.stat[LG_completed]);
	CHECK_EQ(r.stat[LG_closed_second], r.stat[LG_completed]);
	CHECK_EQ(r.stat[LG_closed_first], 0);
	CHECK_EQ(errors(r.stat), 0);
	CHECK_EQ(r.cctr[DTCP_CTR_tcp_timewait_enter], 0);
	CHECK_EQ(r.sctr[DTCP_CTR_tcp_timewait_enter], r.stat[LG_completed]);
	CHECK_EQ(r.sctr[DTCP_CTR_tcp_timewait_expired], r.stat[LG_completed]);
}

/* Each way a response can be wrong: one error per connection, of its kind. */
static void
test_bad_responses(void)
{
	static const struct {
		const char *name;
		enum srv_mode mode;
		int64_t response_size;
		enum lg_stat err;
		bool orderly;           /* the connection still ends with FIN both ways */
	} cases[] = {
		{ "status_404", SRV_404, -1, LG_err_status, true },
		{ "wrong_size", SRV_OK, 6, LG_err_size, true },
		{ "garbage", SRV_GARBAGE, -1, LG_err_malformed, false },
		{ "short", SRV_SHORT, -1, LG_err_short, true },
		{ "silent", SRV_SILENT, -1, LG_err_timeout, false },
	};

	for (unsigned i = 0; i < RTE_DIM(cases); i++) {
		struct run r;

		default_opts(&r);
		srv.mode = cases[i].mode;
		r.o.response_size = cases[i].response_size;
		test_name = cases[i].name;
		run(&r);
		check_identities(&r);
		CHECK(r.stat[LG_opened] > 10);
		CHECK_EQ(r.stat[cases[i].err], r.stat[LG_opened]);
		CHECK_EQ(errors(r.stat), r.stat[LG_opened]);
		CHECK_EQ(r.stat[LG_completed], 0);
		CHECK_EQ(r.stat[LG_unfinished], 0);
		if (cases[i].orderly) {
			CHECK_EQ(r.cctr[DTCP_CTR_tcp_closed_orderly], r.stat[LG_opened]);
		} else {
			/* Given up with RST, once each. */
			CHECK_EQ(r.cctr[DTCP_CTR_tcp_aborted], r.stat[LG_opened]);
			CHECK_EQ(r.cctr[DTCP_CTR_tcp_tx_rst], r.stat[LG_opened]);
		}
	}
}

/* Nobody listens: the run never starts, and that is one error. */
static void
test_refused(void)
{
	struct run r;

	test_name = "refused";
	default_opts(&r);
	r.no_listener = true;
	run(&r);
	CHECK(r.done);
	CHECK_EQ(errors(r.stat), 1);
	CHECK_EQ(r.stat[LG_err_refused], 1);
	/* One try every 100 ms for wait_ms (500 ms), each refused by RST. */
	CHECK(r.stat[LG_probe_failed] >= 4 && r.stat[LG_probe_failed] <= 6);
	CHECK_EQ(r.stat[LG_opened], r.stat[LG_probe_failed]);
	CHECK_EQ(r.cctr[DTCP_CTR_tcp_rx_rst], r.stat[LG_probe_failed]);
}

/* A fixed rate: the connections opened in the second are the rate, no more. */
static void
test_rate(void)
{
	struct run r;

	test_name = "rate";
	default_opts(&r);
	r.o.rate = 500;
	run(&r);
	check_identities(&r);
	CHECK_EQ(errors(r.stat), 0);
	/* Two probes (one per address) before the clock, then 1 s at 500/s. */
	CHECK(r.stat[LG_opened] >= 2 + 499 && r.stat[LG_opened] <= 2 + 501);
	CHECK_EQ(r.stat[LG_cap_held], 0);
	CHECK_EQ(r.stat[LG_backoffs], 0);
}

/*
 * A fixed rate against a server that stopped answering: the cap holds the
 * connections, the rate in force is halved again and again, and what the
 * rate asked beyond the cap is dropped, not owed.
 */
static void
test_backoff(void)
{
	struct run r;

	test_name = "backoff";
	default_opts(&r);
	r.o.rate = 2000;
	srv.mode = SRV_SILENT;
	run(&r);
	check_identities(&r);
	/* 8 at a time, each given up after 300 ms, for 1 s: 4 rounds at most. */
	CHECK(r.stat[LG_opened] >= 16 && r.stat[LG_opened] <= 4 * 8 + 2);
	CHECK_EQ(r.stat[LG_err_timeout], r.stat[LG_opened]);
	CHECK_EQ(errors(r.stat), r.stat[LG_opened]);
	/* Every 100 ms period with the cap full or an error halved the rate. */
	CHECK(r.stat[LG_backoffs] >= 8);
	CHECK(r.stat[LG_cap_held] > 0 && r.stat[LG_cap_held] < 2000);
}

/* One address and 4 ports with TIME-WAIT held 10 s: opens run out of tuples. */
static void
test_tuples(void)
{
	struct run r;

	test_name = "tuples";
	default_opts(&r);
	r.client_addrs = "198.18.9.2/24";
	r.n_addrs = 1;
	r.o.port_lo = 20000;
	r.o.port_hi = 20003;
	r.client_msl_ms = 5000;
	run(&r);
	CHECK(r.done);
	CHECK_EQ(r.stat[LG_completed], 4);
	CHECK(r.stat[LG_err_tuples] > 0);
	CHECK_EQ(errors(r.stat), r.stat[LG_err_tuples]);
	/* Each failed open tried the 4 tuples. */
	CHECK_EQ(r.stat[LG_tuple_busy], 4 * r.stat[LG_err_tuples]);
	CHECK_EQ(r.cctr[DTCP_CTR_tcp_timewait_enter], 4);
}

/* ---- The reference slots (../common/ext_ref.h) ---- */

static char ext_text[] = "0123456789";

/* An mbuf over ext_text through si, as the engine sends one. */
static struct rte_mbuf *
ext_mbuf(struct rte_mbuf_ext_shared_info *si)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

	if (m == NULL)
		return NULL;
	rte_pktmbuf_attach_extbuf(m, ext_text, rte_mem_virt2iova(ext_text), 10, si);
	m->data_len = 10;
	m->pkt_len = 10;
	return m;
}

static void
test_ext_ref(void)
{
	unsigned in_use = rte_mempool_in_use_count(pool);
	struct rte_mbuf_ext_shared_info *si[4], *again;
	struct rte_mbuf *m[4], *clone;
	struct ext_ref x;

	test_name = "ext_ref";
	CHECK_EQ(ext_ref_init(&x, 3, SOCKET_ID_ANY), 0);
	CHECK_EQ(x.n, 4);
	for (unsigned i = 0; i < 4; i++) {
		si[i] = ext_ref_take(&x, 1);
		CHECK(si[i] != NULL);
		m[i] = si[i] != NULL ? ext_mbuf(si[i]) : NULL;
		CHECK(m[i] != NULL);
	}
	CHECK(si[0] != si[1] && si[1] != si[2] && si[2] != si[3] && si[0] != si[3]);
	CHECK_EQ(ext_ref_out(&x), 4);
	/* Every slot referenced: a refusal, and nothing changed. */
	CHECK(ext_ref_take(&x, 1) == NULL);
	CHECK_EQ(ext_ref_out(&x), 4);
	/* A second reference (what TCP takes to transmit) keeps the slot busy after the first goes. */
	clone = rte_pktmbuf_alloc(pool);
	CHECK(clone != NULL);
	rte_pktmbuf_attach(clone, m[0]);
	CHECK_EQ(rte_mbuf_ext_refcnt_read(si[0]), 2);
	rte_pktmbuf_free(m[0]);
	CHECK_EQ(rte_mbuf_ext_refcnt_read(si[0]), 1);
	CHECK(ext_ref_take(&x, 1) == NULL);
	/* The oldest busy ones are passed over: the first free one is found. */
	rte_pktmbuf_free(m[2]);
	again = ext_ref_take(&x, 1);
	CHECK(again == si[2]);
	CHECK_EQ(rte_mbuf_ext_refcnt_read(si[2]), 1);
	m[2] = again != NULL ? ext_mbuf(again) : NULL;
	/* The last reference gone: the slot is free again, with its bytes untouched. */
	CHECK(memcmp(rte_pktmbuf_mtod(clone, const char *), "0123456789", 10) == 0);
	rte_pktmbuf_free(clone);
	CHECK_EQ(rte_mbuf_ext_refcnt_read(si[0]), 0);
	again = ext_ref_take(&x, 3);
	CHECK(again == si[0]);
	CHECK_EQ(ext_ref_out(&x), 3 + 3);
	rte_mbuf_ext_refcnt_set(si[0], 0);
	rte_pktmbuf_free(m[1]);
	rte_pktmbuf_free(m[2]);
	rte_pktmbuf_free(m[3]);
	CHECK_EQ(ext_ref_out(&x), 0);
	ext_ref_fini(&x);

	/* One reference held long: it is passed over, and the slots in use do not grow. */
	CHECK_EQ(ext_ref_init(&x, 64, SOCKET_ID_ANY), 0);
	si[0] = ext_ref_take(&x, 1);
	m[0] = si[0] != NULL ? ext_mbuf(si[0]) : NULL;
	for (unsigned i = 0; i < 1000; i++) {
		struct rte_mbuf_ext_shared_info *s = ext_ref_take(&x, 1);
		struct rte_mbuf *t = s != NULL ? ext_mbuf(s) : NULL;

		CHECK(s != NULL && s != si[0]);
		if (t == NULL)
			break;
		rte_pktmbuf_free(t);
	}
	CHECK_EQ(x.fresh, 2);
	CHECK_EQ(ext_ref_out(&x), 1);
	rte_pktmbuf_free(m[0]);
	CHECK_EQ(ext_ref_out(&x), 0);
	ext_ref_fini(&x);
	CHECK_EQ(rte_mempool_in_use_count(pool), in_use);
}

int
main(int argc, char **argv)
{
	const char *eal_args[] = {
		argv[0], "--no-huge", "-m", "256", "--no-shconf", "--no-pci", "--no-telemetry",
		"--log-level=lib.*:error", "--log-level=user1:warning", "-l", "0",
	};

	(void)argc;
	if (rte_eal_init((int)RTE_DIM(eal_args), (char **)(uintptr_t)eal_args) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("lg_test", 16383, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	if (pool == NULL) {
		fprintf(stderr, "no mbuf pool\n");
		return 1;
	}
	test_ext_ref();
	test_reader();
	test_reader_cached();
	test_request();
	test_fin_client();
	test_fin_server();
	test_bad_responses();
	test_refused();
	test_rate();
	test_backoff();
	test_tuples();
	rte_mempool_free(pool);
	rte_eal_cleanup();
	printf("%s\n", failures == 0 ? "PASS" : "FAIL");
	return failures == 0 ? 0 : 1;
}
