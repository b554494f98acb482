/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The HTTP server of one worker (httpd.h). Everything here runs inside
 * dtcp_worker_poll() on the worker's lcore.
 *
 * Responses: every response the server can give is written once into one
 * buffer, header and body together; sending one takes an mbuf from the
 * pool and attaches it to the right bytes of that buffer (an external
 * buffer: no copy) through a shared info of its own from the worker's
 * slots (../common/ext_ref.h), so that no reference count is shared and
 * the usual send updates none atomically.
 *
 * Requests: heads are parsed where they lie in the received segments. A
 * head split over segments is gathered in one of partial_buffers buffers
 * of max_header bytes (a bounded pool, taken only then). While a response
 * waits for send space, what follows it stays in the received mbufs and
 * reception is paused, so pipelined requests are answered in order and
 * nothing is held without bound.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_common.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>

#include "../common/ext_ref.h"
#include "http.h"
#include "httpd.h"

enum resp_kind {
	R_200_KA,                     /* 200, Connection: keep-alive */
	R_200_CLOSE,                  /* 200, Connection: close */
	R_400,
	R_405,
	R_431,
	R_501,
	R_503,
	R_505,
	R_MAX
};

enum {
	PIECE_SHIFT = 15,
	PIECE_MAX = 1 << PIECE_SHIFT, /* bytes of the buffer behind one mbuf (buf_len is 16 bits) */
	PIECES_MAX = 1024,            /* mbufs of one chain, at most: a count is 16 bits */
};
/* The longest response, its header included, fits in PIECES_MAX pieces. */
_Static_assert(HTTPD_BODY_MAX + 4096 <= (uint64_t)PIECES_MAX * PIECE_MAX, "pieces of a response");

struct httpd_responses {
	char *buf;
	rte_iova_t iova;
	uint32_t off[R_MAX];
	uint32_t len[R_MAX];          /* header and body */
	uint32_t head_len[R_MAX];     /* the header alone, for HEAD */
	unsigned nworkers;
	struct ext_ref *refs;         /* each worker's slots */
};

struct hconn {
	struct dtcp_conn *conn;       /* NULL while free */
	struct httpd_worker *hw;
	struct hconn *next_free;
	char *partial;                /* a split head gathered so far, or NULL */
	uint32_t partial_len;
	uint32_t resp_off;            /* next byte of the response being sent, in the buffer */
	uint32_t resp_left;           /* its bytes still to send; 0: none */
	struct rte_mbuf *held;        /* received bytes not yet parsed, while a response waits */
	uint64_t skip;                /* body bytes of the last request still to skip */
	uint32_t nreq;                /* requests on this connection */
	bool close_after;             /* close once the response is out */
	bool peer_closed;
	bool counted_wait;
};

struct httpd_worker {
	struct dtcp_worker *w;
	struct rte_mempool *pool;
	struct httpd_opts o;
	struct httpd_responses *r;
	struct ext_ref *refs;         /* this worker's slots (in r) */
	struct dtcp_conn *listener;
	struct hconn *conns;
	struct hconn *free_list;
	char *partial_mem;
	char **partial_free;          /* a stack of free partial buffers */
	uint32_t n_partial_free;
	uint64_t stats[HTTPD_STAT_MAX];
	struct http_head_cache heads; /* the last head parsed: most are the same again */
};

/* What feeding bytes to a connection left it in. */
enum feed_rc {
	FEED_ALL,                     /* every byte taken */
	FEED_WAIT,                    /* a response waits for space: stopped before the rest */
	FEED_GONE,                    /* closed or aborted: the state is free */
};

static const char *const stat_names[HTTPD_STAT_MAX] = {
#define X(name, desc) #name,
	HTTPD_STATS(X)
#undef X
};
static const char *const stat_descs[HTTPD_STAT_MAX] = {
#define X(name, desc) desc,
	HTTPD_STATS(X)
#undef X
};

const char *
httpd_stat_name(enum httpd_stat s)
{
	return s < HTTPD_STAT_MAX ? stat_names[s] : "?";
}

const char *
httpd_stat_desc(enum httpd_stat s)
{
	return s < HTTPD_STAT_MAX ? stat_descs[s] : "?";
}

const uint64_t *
httpd_worker_stats(const struct httpd_worker *hw)
{
	return hw->stats;
}

static const struct {
	const char *status;
	const char *body;
} errors[R_MAX] = {
	[R_400] = { "400 Bad Request", "bad request\n" },
	[R_405] = { "405 Method Not Allowed\r\nAllow: GET, HEAD", "method not allowed\n" },
	[R_431] = { "431 Request Header Fields Too Large", "request header too large\n" },
	[R_501] = { "501 Not Implemented", "not implemented\n" },
	[R_503] = { "503 Service Unavailable", "too many connections\n" },
	[R_505] = { "505 HTTP Version Not Supported", "HTTP/1.x only\n" },
};

struct httpd_responses *
httpd_responses_create(const struct httpd_opts *o, unsigned nworkers, uint32_t pool_size,
		       char *err, size_t errlen)
{
	struct httpd_responses *r = rte_zmalloc("httpd_resp", sizeof(*r), 0);
	char hdr[R_MAX][256];
	uint64_t total = 0;
	char *p;

	if (r == NULL)
		goto nomem;
	for (unsigned k = 0; k < R_MAX; k++) {
		int n;

		if (k == R_200_KA || k == R_200_CLOSE)
			n = snprintf(hdr[k], sizeof(hdr[k]),
				     "HTTP/1.1 200 OK\r\nServer: dtcp-httpd\r\n"
				     "Content-Type: application/octet-stream\r\n"
				     "Content-Length: %u\r\nConnection: %s\r\n\r\n",
				     o->body_size, k == R_200_KA ? "keep-alive" : "close");
		else
			n = snprintf(hdr[k], sizeof(hdr[k]),
				     "HTTP/1.1 %s\r\nServer: dtcp-httpd\r\n"
				     "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
				     "Connection: close\r\n\r\n%s",
				     errors[k].status, strlen(errors[k].body), errors[k].body);
		r->off[k] = (uint32_t)total;
		r->len[k] = (uint32_t)n;
		r->head_len[k] = (uint32_t)n;
		if (k == R_200_KA || k == R_200_CLOSE)
			r->len[k] += o->body_size;
		total += r->len[k];
	}
	r->buf = rte_malloc("httpd_resp_buf", total, RTE_CACHE_LINE_SIZE);
	if (r->buf == NULL)
		goto nomem;
	r->iova = rte_malloc_virt2iova(r->buf);
	for (unsigned k = 0; k < R_MAX; k++) {
		p = r->buf + r->off[k];
		memcpy(p, hdr[k], r->head_len[k]);
		if (k == R_200_KA || k == R_200_CLOSE)
			for (uint32_t i = 0; i < o->body_size; i++)
				p[r->head_len[k] + i] = httpd_body_byte(i);
	}
	/*
	 * A slot in use holds at least one mbuf of the pool: as many slots as
	 * mbufs (up to EXT_REF_MAX) never run out.
	 */
	r->refs = rte_zmalloc("httpd_refs", sizeof(*r->refs) * nworkers, 0);
	if (r->refs == NULL)
		goto nomem;
	for (unsigned q = 0; q < nworkers; q++) {
		if (ext_ref_init(&r->refs[q], pool_size, SOCKET_ID_ANY) != 0)
			goto nomem;
		r->nworkers = q + 1;
	}
	return r;
nomem:
	snprintf(err, errlen, "no memory for the responses (%llu bytes) and %u x %u slots",
		 (unsigned long long)total, nworkers, pool_size);
	if (r != NULL) {
		for (unsigned q = 0; q < r->nworkers; q++)
			ext_ref_fini(&r->refs[q]);
		rte_free(r->refs);
		rte_free(r->buf);
		rte_free(r);
	}
	return NULL;
}

int
httpd_responses_free(struct httpd_responses *r, FILE *f)
{
	uint64_t out = 0;

	if (r == NULL)
		return 0;
	for (unsigned q = 0; q < r->nworkers; q++)
		out += ext_ref_out(&r->refs[q]);
	fprintf(f, "dtcp-httpd: references to the responses still out: %llu%s\n",
		(unsigned long long)out, out != 0 ? "  (LEAK)" : "");
	/* A reference still out may yet be read: keep the buffer then. */
	if (out == 0) {
		for (unsigned q = 0; q < r->nworkers; q++)
			ext_ref_fini(&r->refs[q]);
		rte_free(r->refs);
		rte_free(r->buf);
		rte_free(r);
	}
	return out != 0;
}

/*
 * An mbuf chain over len bytes at off in the responses' buffer: one mbuf
 * per PIECE_MAX bytes, all attached through one slot whose count is their
 * number. NULL, with the reason in *why, when the pool or the slots ran dry.
 */
static struct rte_mbuf *
resp_chain(struct httpd_worker *hw, uint32_t off, uint32_t len, enum httpd_stat *why)
{
	const struct httpd_responses *r = hw->r;
	struct rte_mbuf *segs[PIECES_MAX];
	struct rte_mbuf_ext_shared_info *si;
	uint32_t nsegs = (len + PIECE_MAX - 1) >> PIECE_SHIFT, total = len;

	if (nsegs == 1) {
		segs[0] = rte_pktmbuf_alloc(hw->pool);
		if (segs[0] == NULL)
			goto no_mbuf;
	} else if (rte_pktmbuf_alloc_bulk(hw->pool, segs, nsegs) != 0) {
		goto no_mbuf;
	}
	si = ext_ref_take(hw->refs, (uint16_t)nsegs);
	if (si == NULL) {
		rte_pktmbuf_free_bulk(segs, nsegs);
		*why = HTTPD_no_slot;
		return NULL;
	}
	for (uint32_t i = 0; i < nsegs; i++) {
		struct rte_mbuf *m = segs[i];
		uint32_t n = RTE_MIN(len, (uint32_t)PIECE_MAX);

		rte_pktmbuf_attach_extbuf(m, r->buf + off, r->iova + off, (uint16_t)n, si);
		m->data_len = (uint16_t)n;
		m->next = i + 1 < nsegs ? segs[i + 1] : NULL;
		off += n;
		len -= n;
	}
	segs[0]->pkt_len = total;
	segs[0]->nb_segs = (uint16_t)nsegs;
	return segs[0];
no_mbuf:
	*why = HTTPD_no_mbuf;
	return NULL;
}

static void
conn_free(struct httpd_worker *hw, struct hconn *hc)
{
	if (hc->held != NULL)
		rte_pktmbuf_free(hc->held);
	if (hc->partial != NULL)
		hw->partial_free[hw->n_partial_free++] = hc->partial;
	hc->held = NULL;
	hc->partial = NULL;
	hc->conn = NULL;
	hc->next_free = hw->free_list;
	hw->free_list = hc;
}

static void
conn_abort(struct httpd_worker *hw, struct hconn *hc, enum httpd_stat why)
{
	hw->stats[why]++;
	dtcp_tcp_abort(hw->w, hc->conn);
	conn_free(hw, hc);
}

/* Send what is left of the current response; close after it if asked. */
static enum feed_rc
push(struct httpd_worker *hw, struct hconn *hc)
{
	while (hc->resp_left > 0) {
		/* With no space, one byte is offered so that the refusal asks for WRITABLE. */
		uint32_t n = RTE_MAX(RTE_MIN(hc->resp_left, dtcp_tcp_send_space(hc->conn)), 1u);
		enum httpd_stat why;
		struct rte_mbuf *m = resp_chain(hw, hc->resp_off, n, &why);
		int rc;

		if (m == NULL) {
			conn_abort(hw, hc, why);
			return FEED_GONE;
		}
		rc = dtcp_tcp_send(hw->w, hc->conn, m);
		if (rc == -EAGAIN) {
			rte_pktmbuf_free(m);
			if (!hc->counted_wait) {
				hc->counted_wait = true;
				hw->stats[HTTPD_send_waits]++;
			}
			return FEED_WAIT;
		}
		if (rc != 0) {
			rte_pktmbuf_free(m);
			conn_abort(hw, hc, HTTPD_reset);
			return FEED_GONE;
		}
		hc->resp_off += n;
		hc->resp_left -= n;
	}
	hc->counted_wait = false;
	if (hc->close_after) {
		/* Right after the response: its last segment carries the FIN. */
		hw->stats[HTTPD_close_server]++;
		dtcp_tcp_close(hw->w, hc->conn);
		conn_free(hw, hc);
		return FEED_GONE;
	}
	return FEED_ALL;
}

static enum feed_rc
respond(struct httpd_worker *hw, struct hconn *hc, enum resp_kind k, bool head_only,
	bool close)
{
	static const enum httpd_stat stat_of[R_MAX] = {
		[R_200_KA] = HTTPD_resp_200, [R_200_CLOSE] = HTTPD_resp_200,
		[R_400] = HTTPD_resp_400, [R_405] = HTTPD_resp_405, [R_431] = HTTPD_resp_431,
		[R_501] = HTTPD_resp_501, [R_503] = HTTPD_refused, [R_505] = HTTPD_resp_505,
	};

	hw->stats[stat_of[k]]++;
	hc->resp_off = hw->r->off[k];
	hc->resp_left = head_only ? hw->r->head_len[k] : hw->r->len[k];
	hc->close_after = close;
	return push(hw, hc);
}

/* A parsed head (len > 0) or the error http_parse() found in it. */
static enum feed_rc
request(struct httpd_worker *hw, struct hconn *hc, int rc, const struct http_request *req)
{
	bool close;

	if (rc < 0)
		hw->stats[HTTPD_bad_heads]++;
	switch (rc) {
	case HTTP_ERR_BAD:
		return respond(hw, hc, R_400, false, true);
	case HTTP_ERR_TOO_LARGE:
		return respond(hw, hc, R_431, false, true);
	case HTTP_ERR_TE:
		return respond(hw, hc, R_501, false, true);
	case HTTP_ERR_VERSION:
		return respond(hw, hc, R_505, false, true);
	default:
		break;
	}
	hw->stats[HTTPD_requests]++;
	if (hc->nreq++ > 0)
		hw->stats[HTTPD_keepalive_reuse]++;
	switch (req->method) {
	case HTTP_GET:
	case HTTP_HEAD:
		break;
	case HTTP_OTHER:
		/* Its body, if any, is not read: close after the answer. */
		return respond(hw, hc, R_405, false, true);
	case HTTP_UNKNOWN:
		return respond(hw, hc, R_501, false, true);
	}
	hw->stats[req->method == HTTP_GET ? HTTPD_get : HTTPD_head]++;
	hc->skip = req->content_length;
	close = !hw->o.keepalive || !req->keep_alive;
	return respond(hw, hc, close ? R_200_CLOSE : R_200_KA, req->method == HTTP_HEAD, close);
}

/* http_parse() through the worker's cache of the last head, its hits counted. */
static inline int
parse_head(struct httpd_worker *hw, const char *p, uint32_t n, struct http_request *req)
{
	uint64_t hits = hw->heads.hits;
	int rc = http_parse_cached(&hw->heads, p, n, hw->o.max_header, req);

	hw->stats[HTTPD_heads_cached] += hw->heads.hits - hits;
	return rc;
}

/*
 * Bytes p[0..n) of the stream: answer every request they complete, in
 * order. *used says how many were taken when FEED_WAIT stops early.
 */
static enum feed_rc
feed(struct httpd_worker *hw, struct hconn *hc, const char *p, uint32_t n, uint32_t *used)
{
	const uint32_t max = hw->o.max_header;
	struct http_request req;
	enum feed_rc frc;
	uint32_t u = 0;
	int rc;

	while (u < n) {
		if (hc->resp_left > 0) {
			*used = u;
			return FEED_WAIT;
		}
		if (hc->skip > 0) {
			uint32_t k = (uint32_t)RTE_MIN(hc->skip, (uint64_t)(n - u));

			hc->skip -= k;
			u += k;
			continue;
		}
		if (hc->partial == NULL) {
			/* The usual case: the whole head in this segment, read in place. */
			rc = parse_head(hw, p + u, n - u, &req);
			if (rc == HTTP_MORE) {
				if (hw->n_partial_free == 0) {
					conn_abort(hw, hc, HTTPD_no_partial);
					return FEED_GONE;
				}
				hw->stats[HTTPD_split_heads]++;
				hc->partial = hw->partial_free[--hw->n_partial_free];
				hc->partial_len = n - u;
				memcpy(hc->partial, p + u, n - u);
				break;
			}
			if (rc > 0)
				u += (uint32_t)rc;
		} else {
			/* The partial buffer never holds a whole head: what ends it is here. */
			uint32_t k = RTE_MIN(n - u, max - hc->partial_len);

			memcpy(hc->partial + hc->partial_len, p + u, k);
			rc = parse_head(hw, hc->partial, hc->partial_len + k, &req);
			if (rc == HTTP_MORE) {
				hc->partial_len += k;
				u += k;
				continue;
			}
			if (rc > 0)
				u += (uint32_t)rc - hc->partial_len;
			hw->partial_free[hw->n_partial_free++] = hc->partial;
			hc->partial = NULL;
			hc->partial_len = 0;
		}
		frc = request(hw, hc, rc, &req);
		if (frc == FEED_GONE)
			return FEED_GONE;
	}
	*used = n;
	return hc->resp_left > 0 ? FEED_WAIT : FEED_ALL;
}

/* Drop the first n bytes of chain m; what is left (NULL: nothing). */
static struct rte_mbuf *
chain_drop_front(struct rte_mbuf *m, uint32_t n)
{
	uint32_t left = m->pkt_len - n;
	uint16_t segs = m->nb_segs;

	while (m != NULL && n >= m->data_len) {
		struct rte_mbuf *next = m->next;

		n -= m->data_len;
		rte_pktmbuf_free_seg(m);
		segs--;
		m = next;
	}
	if (m == NULL || left == 0) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	m->data_off = (uint16_t)(m->data_off + n);
	m->data_len = (uint16_t)(m->data_len - n);
	m->pkt_len = left;
	m->nb_segs = segs;
	return m;
}

/* Received chain m: answer what it completes; keep the rest while a response waits. */
static enum feed_rc
process(struct httpd_worker *hw, struct hconn *hc, struct rte_mbuf *m)
{
	uint32_t before = 0;

	for (struct rte_mbuf *seg = m; seg != NULL; seg = seg->next) {
		uint32_t used = 0;
		enum feed_rc rc = feed(hw, hc, rte_pktmbuf_mtod(seg, const char *), seg->data_len,
				       &used);

		if (rc == FEED_GONE) {
			rte_pktmbuf_free(m);
			return FEED_GONE;
		}
		if (rc == FEED_WAIT) {
			hc->held = chain_drop_front(m, before + used);
			if (hc->held != NULL)
				dtcp_tcp_recv_pause(hw->w, hc->conn, true);
			return FEED_WAIT;
		}
		before += seg->data_len;
	}
	rte_pktmbuf_free(m);
	return FEED_ALL;
}

/* The peer's FIN once nothing of ours is pending: close in turn. */
static void
finish_peer_closed(struct httpd_worker *hw, struct hconn *hc)
{
	hw->stats[hc->partial != NULL || hc->skip > 0 ? HTTPD_close_mid_request
						      : HTTPD_close_peer]++;
	dtcp_tcp_close(hw->w, hc->conn);
	conn_free(hw, hc);
}

static void
on_data(struct httpd_worker *hw, struct hconn *hc, struct rte_mbuf *m)
{
	if (hc->held != NULL || hc->resp_left > 0) {
		/* Arrived before the pause took hold: behind what waits, in order. */
		if (hc->held == NULL) {
			hc->held = m;
			dtcp_tcp_recv_pause(hw->w, hc->conn, true);
		} else if (rte_pktmbuf_chain(hc->held, m) != 0) {
			rte_pktmbuf_free(m);
			conn_abort(hw, hc, HTTPD_no_mbuf);
		}
		return;
	}
	process(hw, hc, m);
}

static void
on_writable(struct httpd_worker *hw, struct hconn *hc)
{
	struct rte_mbuf *m;

	if (push(hw, hc) != FEED_ALL)
		return;
	if (hc->held != NULL) {
		m = hc->held;
		hc->held = NULL;
		dtcp_tcp_recv_pause(hw->w, hc->conn, false);
		if (process(hw, hc, m) != FEED_ALL)
			return;
	}
	if (hc->peer_closed)
		finish_peer_closed(hw, hc);
}

static void
on_conn(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct hconn *hc = ev->user;
	struct httpd_worker *hw = hc->hw;

	(void)w;
	switch (ev->type) {
	case DTCP_EV_DATA:
		on_data(hw, hc, ev->data);
		break;
	case DTCP_EV_WRITABLE:
		on_writable(hw, hc);
		break;
	case DTCP_EV_PEER_CLOSED:
		hc->peer_closed = true;
		if (hc->held == NULL && hc->resp_left == 0)
			finish_peer_closed(hw, hc);
		break;
	case DTCP_EV_CLOSED:
		hw->stats[ev->error != 0 ? HTTPD_reset : HTTPD_close_peer]++;
		conn_free(hw, hc);
		break;
	case DTCP_EV_ACCEPTABLE:
	case DTCP_EV_CONNECTED:
		break;
	}
}

/* A connection answered 503 and closed at once: only a stray event can come. */
static void
on_refused(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	(void)w;
	if (ev->type == DTCP_EV_DATA)
		rte_pktmbuf_free(ev->data);
}

static void
on_listener(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct httpd_worker *hw = ev->user;

	if (ev->type != DTCP_EV_ACCEPTABLE)
		return;
	for (;;) {
		struct hconn *hc = hw->free_list;
		struct dtcp_conn *c;

		if (hc == NULL) {
			enum httpd_stat why;
			struct rte_mbuf *m;

			c = dtcp_tcp_accept(w, ev->conn, on_refused, hw);
			if (c == NULL)
				break;
			hw->stats[HTTPD_refused]++;
			m = resp_chain(hw, hw->r->off[R_503], hw->r->len[R_503], &why);
			if (m == NULL) {
				dtcp_tcp_abort(w, c);
				continue;
			}
			if (dtcp_tcp_send(w, c, m) != 0)
				rte_pktmbuf_free(m);
			dtcp_tcp_close(w, c);
			continue;
		}
		c = dtcp_tcp_accept(w, ev->conn, on_conn, hc);
		if (c == NULL)
			break;
		hw->free_list = hc->next_free;
		memset(hc, 0, sizeof(*hc));
		hc->conn = c;
		hc->hw = hw;
		hw->stats[HTTPD_accepted]++;
	}
}

struct httpd_worker *
httpd_worker_create(struct dtcp_worker *w, unsigned q, struct rte_mempool *pool,
		    const struct httpd_opts *o, struct httpd_responses *r, char *err,
		    size_t errlen)
{
	int socket = (int)rte_socket_id();
	struct httpd_worker *hw = rte_zmalloc_socket("httpd_worker", sizeof(*hw),
						     RTE_CACHE_LINE_SIZE, socket);
	int rc;

	if (hw == NULL)
		goto nomem;
	hw->w = w;
	hw->pool = pool;
	hw->o = *o;
	hw->r = r;
	hw->refs = &r->refs[q];
	hw->conns = rte_zmalloc_socket("httpd_conns", sizeof(*hw->conns) * o->max_conns,
				       RTE_CACHE_LINE_SIZE, socket);
	hw->partial_mem = rte_malloc_socket("httpd_partial",
					    (size_t)o->partial_buffers * o->max_header, 0, socket);
	hw->partial_free = rte_malloc_socket("httpd_partial_free",
					     sizeof(char *) * RTE_MAX(o->partial_buffers, 1u), 0,
					     socket);
	if (hw->conns == NULL || (hw->partial_mem == NULL && o->partial_buffers > 0) ||
	    hw->partial_free == NULL)
		goto nomem;
	for (uint32_t i = o->max_conns; i-- > 0;) {
		hw->conns[i].next_free = hw->free_list;
		hw->free_list = &hw->conns[i];
	}
	for (uint32_t i = 0; i < o->partial_buffers; i++)
		hw->partial_free[hw->n_partial_free++] = hw->partial_mem + (size_t)i * o->max_header;
	/* A response is whole when sent: no reason to hold its tail back (RFC 896). */
	rc = dtcp_tcp_listen(w, 0, o->port, &(struct dtcp_listen_opts){
				     .conn.nodelay = DTCP_OPT_ON }, on_listener, hw,
			     &hw->listener);
	if (rc != 0) {
		snprintf(err, errlen, "listen on port %u: %s", o->port, strerror(-rc));
		httpd_worker_free(hw);
		return NULL;
	}
	return hw;
nomem:
	snprintf(err, errlen, "no memory for %u connections and %u partial buffers of %u bytes",
		 o->max_conns, o->partial_buffers, o->max_header);
	httpd_worker_free(hw);
	return NULL;
}

void
httpd_worker_stop(struct httpd_worker *hw)
{
	for (uint32_t i = 0; i < hw->o.max_conns; i++)
		if (hw->conns[i].conn != NULL)
			conn_abort(hw, &hw->conns[i], HTTPD_at_exit);
	if (hw->listener != NULL)
		dtcp_tcp_close(hw->w, hw->listener);
	hw->listener = NULL;
}

void
httpd_worker_free(struct httpd_worker *hw)
{
	if (hw == NULL)
		return;
	rte_free(hw->conns);
	rte_free(hw->partial_mem);
	rte_free(hw->partial_free);
	rte_free(hw);
}
