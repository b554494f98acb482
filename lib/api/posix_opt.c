/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Socket options of the POSIX-like layer. What must reach the SYN (buffer
 * sizes through the window scale, TCP_MAXSEG) is kept on the socket and
 * given to the stack at connect() or listen(); accepted connections start
 * with their listener's. Later changes go to the connection where TCP
 * allows it (buffers, Nagle, keepalive).
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/time.h>

#include "posix_priv.h"

/* Linux's bounds on TCP_KEEPIDLE/INTVL (MAX_TCP_KEEPIDLE) and TCP_KEEPCNT. */
#define KEEP_TIME_MAX 32767
#define KEEP_CNT_MAX 127
/* TCP_MIN_MSS, below which Linux refuses TCP_MAXSEG. */
#define MAXSEG_MIN 88
/* Buffer sizes are held within these (Linux clamps too, silently). */
#define BUF_MIN 1024u
#define BUF_MAX (1u << 30)

void
px_conn_opts(const struct psock *s, struct dtcp_conn_opts *o)
{
	*o = s->opts;
}

void
px_inherit(struct psock *n, const struct psock *l)
{
	n->opts = l->opts;
	n->reuseaddr = l->reuseaddr;
	n->reuseport = l->reuseport;
	n->linger_on = l->linger_on;
	n->linger_s = l->linger_s;
	n->rcvtimeo_ns = l->rcvtimeo_ns;
	n->sndtimeo_ns = l->sndtimeo_ns;
}

static int
fail(int err)
{
	errno = err;
	return -1;
}

static bool
keepalive_on(const struct psock *s)
{
	if (s->opts.keepalive == DTCP_OPT_DEFAULT)
		return s->px->w->cfg.tcp_keepalive != 0;
	return s->opts.keepalive == DTCP_OPT_ON;
}

/* The keepalive settings, now, onto the connection or listener. */
static void
keepalive_push(struct psock *s)
{
	if (s->conn != NULL)
		dtcp_conn_set_keepalive(s->px->w, s->conn, keepalive_on(s), s->opts.ka_idle_s,
					s->opts.ka_intvl_s, s->opts.ka_cnt);
}

static int
get_timeval(const void *optval, socklen_t optlen, uint64_t *ns)
{
	struct timeval tv;

	if (optlen < sizeof(tv))
		return EINVAL;
	memcpy(&tv, optval, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return EDOM;
	if (tv.tv_sec < 0)
		*ns = 0;
	else
		*ns = (uint64_t)tv.tv_sec * 1000000000ull + (uint64_t)tv.tv_usec * 1000;
	return 0;
}

static int
set_socket(struct psock *s, int optname, const void *optval, socklen_t optlen)
{
	struct dtcp_worker *w = s->px->w;
	int v = 0;
	int err;

	switch (optname) {
	case SO_LINGER: {
		struct linger l;

		if (optlen < sizeof(l))
			return EINVAL;
		memcpy(&l, optval, sizeof(l));
		s->linger_on = l.l_onoff != 0;
		s->linger_s = l.l_linger < 0 ? 0 : l.l_linger;
		return 0;
	}
	case SO_RCVTIMEO:
		return get_timeval(optval, optlen, &s->rcvtimeo_ns);
	case SO_SNDTIMEO:
		return get_timeval(optval, optlen, &s->sndtimeo_ns);
	default:
		break;
	}
	if (optlen < sizeof(int))
		return EINVAL;
	memcpy(&v, optval, sizeof(v));
	switch (optname) {
	case SO_REUSEADDR:
		s->reuseaddr = v != 0;
		return 0;
	case SO_REUSEPORT:
		s->reuseport = v != 0;
		return 0;
	case SO_KEEPALIVE:
		s->opts.keepalive = v != 0 ? DTCP_OPT_ON : DTCP_OPT_OFF;
		keepalive_push(s);
		return 0;
	case SO_SNDBUF:
	case SO_RCVBUF: {
		uint32_t b = v < 0 ? BUF_MIN : RTE_MIN(RTE_MAX((uint32_t)v, BUF_MIN), BUF_MAX);

		if (optname == SO_SNDBUF)
			s->opts.sndbuf = b;
		else
			s->opts.rcvbuf = b;
		if (s->conn != NULL) {
			err = dtcp_conn_set_buffers(w, s->conn, optname == SO_SNDBUF ? b : 0,
						    optname == SO_RCVBUF ? b : 0);
			if (err != 0)
				return -err;
		}
		return 0;
	}
	case SO_ERROR:
	case SO_TYPE:
	case SO_DOMAIN:
	case SO_PROTOCOL:
	case SO_ACCEPTCONN:
	default:
		return ENOPROTOOPT;
	}
}

static int
set_tcp(struct psock *s, int optname, const void *optval, socklen_t optlen)
{
	int v;

	if (optlen < sizeof(int))
		return EINVAL;
	memcpy(&v, optval, sizeof(v));
	switch (optname) {
	case TCP_NODELAY:
		s->opts.nodelay = v != 0 ? DTCP_OPT_ON : DTCP_OPT_OFF;
		if (s->conn != NULL)
			dtcp_conn_set_nodelay(s->conn, v != 0);
		return 0;
	case TCP_MAXSEG:
		/* Before connect() or listen(): it goes into the SYN. Later it is
		 * kept for nothing, as Linux keeps it for a SYN that has gone. */
		if (v != 0 && (v < MAXSEG_MIN || v > 65535))
			return EINVAL;
		s->opts.mss = (uint16_t)v;
		return 0;
	case TCP_KEEPIDLE:
	case TCP_KEEPINTVL:
		if (v < 1 || v > KEEP_TIME_MAX)
			return EINVAL;
		if (optname == TCP_KEEPIDLE)
			s->opts.ka_idle_s = (uint32_t)v;
		else
			s->opts.ka_intvl_s = (uint32_t)v;
		keepalive_push(s);
		return 0;
	case TCP_KEEPCNT:
		if (v < 1 || v > KEEP_CNT_MAX)
			return EINVAL;
		s->opts.ka_cnt = (uint32_t)v;
		keepalive_push(s);
		return 0;
	default:
		return ENOPROTOOPT;
	}
}

int
dtcp_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	struct psock *s = px_get(fd);
	int err;

	if (s == NULL)
		return -1;
	if (s->kind != K_SOCK)
		return fail(ENOTSOCK);
	if (optval == NULL)
		return fail(EFAULT);
	if (level == SOL_SOCKET)
		err = set_socket(s, optname, optval, optlen);
	else if (level == IPPROTO_TCP)
		err = set_tcp(s, optname, optval, optlen);
	else
		err = ENOPROTOOPT;
	return err != 0 ? fail(err) : 0;
}

/* Copy an answer of size n, cut to what the caller has room for, as Linux does. */
static int
put(void *optval, socklen_t *optlen, const void *val, size_t n)
{
	size_t len = RTE_MIN((size_t)*optlen, n);

	memcpy(optval, val, len);
	*optlen = (socklen_t)len;
	return 0;
}

static int
put_int(void *optval, socklen_t *optlen, int v)
{
	return put(optval, optlen, &v, sizeof(v));
}

static void
fill_info(const struct psock *s, struct dtcp_tcp_info *ti)
{
	struct dtcp_conn_info ci;

	memset(ti, 0, sizeof(*ti));
	if (s->conn == NULL) {
		ti->state = DTCP_TCP_CLOSED;
		return;
	}
	dtcp_conn_info(s->conn, &ci);
	ti->state = (uint8_t)ci.state;
	ti->snd_wscale = ci.snd_wscale;
	ti->rcv_wscale = ci.rcv_wscale;
	ti->options = (uint8_t)((ci.ts_ok ? DTCP_TCPI_OPT_TIMESTAMPS : 0) |
				(ci.sack_ok ? DTCP_TCPI_OPT_SACK : 0) |
				(ci.snd_wscale != 0 || ci.rcv_wscale != 0 ? DTCP_TCPI_OPT_WSCALE : 0));
	ti->snd_mss = ci.snd_mss;
	ti->rcv_mss = ci.rcv_mss;
	ti->rtt_us = ci.srtt_us;
	ti->rttvar_us = ci.rttvar_us;
	ti->rto_us = ci.rto_ms * 1000;
	ti->snd_cwnd = ci.cwnd;
	ti->snd_ssthresh = ci.ssthresh;
	ti->snd_wnd = ci.snd_wnd;
	ti->rcv_wnd = ci.rcv_wnd;
	ti->retransmits = ci.retransmits;
	ti->total_retrans = ci.total_retransmits;
	ti->unacked = ci.snd_nxt - ci.snd_una;
	ti->notsent = ci.send_queued > ti->unacked ? ci.send_queued - ti->unacked : 0;
}

int
dtcp_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen)
{
	struct psock *s = px_get(fd);
	const struct dtcp_config *cfg;

	if (s == NULL)
		return -1;
	if (s->kind != K_SOCK)
		return fail(ENOTSOCK);
	if (optval == NULL || optlen == NULL)
		return fail(EFAULT);
	if ((int)*optlen < 0)
		return fail(EINVAL);
	cfg = &s->px->w->cfg;
	if (level == SOL_SOCKET) {
		switch (optname) {
		case SO_ERROR: {
			int e = s->so_error;

			s->so_error = 0;
			return put_int(optval, optlen, e);
		}
		case SO_TYPE:
			return put_int(optval, optlen, SOCK_STREAM);
		case SO_DOMAIN:
			return put_int(optval, optlen, AF_INET);
		case SO_PROTOCOL:
			return put_int(optval, optlen, IPPROTO_TCP);
		case SO_ACCEPTCONN:
			return put_int(optval, optlen, s->state == S_LISTEN);
		case SO_REUSEADDR:
			return put_int(optval, optlen, s->reuseaddr);
		case SO_REUSEPORT:
			return put_int(optval, optlen, s->reuseport);
		case SO_KEEPALIVE:
			return put_int(optval, optlen, keepalive_on(s));
		case SO_SNDBUF:
			return put_int(optval, optlen, (int)(s->opts.sndbuf != 0 ? s->opts.sndbuf
									  : cfg->tcp_sndbuf));
		case SO_RCVBUF:
			return put_int(optval, optlen, (int)px_rcvbuf(s));
		case SO_LINGER: {
			struct linger l = { .l_onoff = s->linger_on, .l_linger = s->linger_s };

			return put(optval, optlen, &l, sizeof(l));
		}
		case SO_RCVTIMEO:
		case SO_SNDTIMEO: {
			uint64_t ns = optname == SO_RCVTIMEO ? s->rcvtimeo_ns : s->sndtimeo_ns;
			struct timeval tv = { .tv_sec = (time_t)(ns / 1000000000ull),
					      .tv_usec = (suseconds_t)(ns % 1000000000ull / 1000) };

			return put(optval, optlen, &tv, sizeof(tv));
		}
		default:
			return fail(ENOPROTOOPT);
		}
	}
	if (level == IPPROTO_TCP) {
		switch (optname) {
		case TCP_NODELAY:
			return put_int(optval, optlen, s->opts.nodelay == DTCP_OPT_DEFAULT
					? cfg->tcp_nodelay != 0 : s->opts.nodelay == DTCP_OPT_ON);
		case TCP_MAXSEG:
			/* Linux: the MSS in use once connected, else what was asked (or 536). */
			if (s->conn != NULL && s->est) {
				struct dtcp_conn_info ci;

				dtcp_conn_info(s->conn, &ci);
				return put_int(optval, optlen, ci.snd_mss);
			}
			return put_int(optval, optlen, s->opts.mss != 0 ? s->opts.mss : 536);
		case TCP_KEEPIDLE:
			return put_int(optval, optlen, (int)(s->opts.ka_idle_s != 0 ? s->opts.ka_idle_s
									    : cfg->tcp_keepalive_idle_s));
		case TCP_KEEPINTVL:
			return put_int(optval, optlen, (int)(s->opts.ka_intvl_s != 0 ? s->opts.ka_intvl_s
									     : cfg->tcp_keepalive_intvl_s));
		case TCP_KEEPCNT:
			return put_int(optval, optlen, (int)(s->opts.ka_cnt != 0 ? s->opts.ka_cnt
									 : cfg->tcp_keepalive_cnt));
		case DTCP_TCP_INFO: {
			struct dtcp_tcp_info ti;

			fill_info(s, &ti);
			return put(optval, optlen, &ti, sizeof(ti));
		}
		default:
			return fail(ENOPROTOOPT);
		}
	}
	return fail(ENOPROTOOPT);
}
