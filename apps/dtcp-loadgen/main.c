/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-loadgen: HTTP connections per second, in the spirit of dperf. One
 * engine per worker (engine.c) opens connections from ranges of client
 * addresses and ports at a target rate (or as fast as the concurrency cap
 * allows) for a duration, then lets the open ones finish. A thread prints
 * one line per second from the engines' snapshots; at exit a summary,
 * the TIME-WAIT accounting, and an exit status of 4 when the errors pass
 * max_errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <rte_common.h>

#include "app.h"
#include "engine.h"
#include "http.h"

#define NAME "dtcp-loadgen"
#define EXIT_ERRORS 4

static struct lg_main {
	struct dtcp_app app;
	struct lg_opts o;
	uint32_t addrs[LG_ADDRS_MAX];  /* the client addresses in force */
	unsigned n_addrs;
	uint32_t msl_ms;
	char req[LG_REQ_MAX + 1], req_last[LG_REQ_MAX + 1];
	uint32_t req_len, req_last_len;
	struct lg_engine *engines[RTE_MAX_LCORE];
	unsigned n_engines;
	unsigned done;                /* engines done (atomic) */
	/* The printer's. */
	volatile bool printer_stop;
	uint64_t lines;
	uint64_t snaps_lost[RTE_MAX_LCORE];  /* per engine */
	uint64_t last_t_ns;
	double peak_cps;
} lg;

static const struct dtcp_app_option options[] = {
	{ "server", "server", true, "A.B.C.D", "the HTTP server's address (required)" },
	{ "server-port", "server_port", true, "N", "its port (default 80)" },
	{ "client-addrs", "client_addrs", true, "LIST",
	  "client addresses, A.B.C.D or A.B.C.D-A.B.C.D, comma separated; each must be an\n"
	  "                       [ip] address (default: every [ip] address)" },
	{ "client-ports", "client_ports", true, "LO-HI",
	  "client ports, with the addresses the 4-tuples in turn (default 1024-65535)" },
	{ "rate", "rate", true, "N",
	  "connections opened per second; 0: as fast as the cap allows (default 0)" },
	{ "concurrency", "concurrency", true, "N",
	  "connections open at once per worker, at most (default 1000)" },
	{ "requests", "requests", true, "N",
	  "requests per connection: 1 closes after one, more keep it alive (default 1)" },
	{ "fin-first", "fin_first", true, "WHO",
	  "client: we close after the last response, TIME-WAIT is ours (default);\n"
	  "                       server: the last request says Connection: close" },
	{ "path", "path", true, "PATH", "the request's path (default /)" },
	{ "host", "host", true, "NAME", "the Host header (default: server:port)" },
	{ "request-size", "request_size", true, "BYTES",
	  "pad each request to this size with an X-Pad header (default 0: no padding)" },
	{ "response-size", "response_size", true, "BYTES",
	  "the Content-Length every response must have, or any (default any)" },
	{ "connect-timeout", "connect_timeout_ms", true, "MS",
	  "a handshake taking longer is an error (default 3000)" },
	{ "timeout", "timeout_ms", true, "MS",
	  "a response, or the close after the last, taking longer is an error (default 5000)" },
	{ "drain", "drain_ms", true, "MS",
	  "after the duration, how long open connections may finish (default 5000)" },
	{ "max-errors", "max_errors", true, "N",
	  "more errors than this and the exit status is 4 (default 0)" },
	{ "burst", "burst", true, "N", "connections opened per poll, at most (default 32)" },
	{ "wait", "wait_ms", true, "MS",
	  "how long the server may take to accept a first connection from each client\n"
	  "                       address; the run and its clock start then (default 10000)" },
	{ NULL, NULL, false, NULL, NULL },
};

/* "A.B.C.D" without a prefix: 0 or -EINVAL. */
static int
parse_addr(const char *what, const char *s, uint32_t *out, char *err, size_t errlen)
{
	uint8_t plen = 32;

	if (dtcp_parse_ipv4(s, out, &plen) != 0 || plen != 32 || strchr(s, '/') != NULL) {
		snprintf(err, errlen, "%s %s: not an address A.B.C.D", what, s);
		return -EINVAL;
	}
	return 0;
}

/* A.B.C.D[-A.B.C.D][,...] into lg.o.client_addrs. */
static int
parse_addr_list(const char *value, char *err, size_t errlen)
{
	char buf[512], *save = NULL, *tok;

	if (strlen(value) >= sizeof(buf)) {
		snprintf(err, errlen, "client_addrs: too long");
		return -EINVAL;
	}
	strcpy(buf, value);
	lg.o.n_client_addrs = 0;
	for (tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(tok, '-');
		uint32_t lo, hi;

		while (*tok == ' ')
			tok++;
		if (dash != NULL)
			*dash = '\0';
		if (parse_addr("client_addrs", tok, &lo, err, errlen) != 0)
			return -EINVAL;
		hi = lo;
		if (dash != NULL && parse_addr("client_addrs", dash + 1, &hi, err, errlen) != 0)
			return -EINVAL;
		if (hi < lo || hi - lo >= LG_ADDRS_MAX) {
			snprintf(err, errlen, "client_addrs: %s..: an empty range or more than %d",
				 tok, LG_ADDRS_MAX);
			return -EINVAL;
		}
		for (uint64_t a = lo; a <= hi; a++) {
			if (lg.o.n_client_addrs == LG_ADDRS_MAX) {
				snprintf(err, errlen, "client_addrs: more than %d addresses",
					 LG_ADDRS_MAX);
				return -EINVAL;
			}
			lg.o.client_addrs[lg.o.n_client_addrs++] = (uint32_t)a;
		}
	}
	if (lg.o.n_client_addrs == 0) {
		snprintf(err, errlen, "client_addrs: empty");
		return -EINVAL;
	}
	return 0;
}

static int
parse_port_range(const char *value, char *err, size_t errlen)
{
	unsigned lo, hi;
	char tail;

	if (sscanf(value, "%u-%u%c", &lo, &hi, &tail) != 2 || lo == 0 || lo > hi || hi > 65535) {
		snprintf(err, errlen, "client_ports %s: expected LO-HI within 1..65535", value);
		return -EINVAL;
	}
	lg.o.port_lo = (uint16_t)lo;
	lg.o.port_hi = (uint16_t)hi;
	return 0;
}

static int
lg_set(void *ctx, const char *key, const char *value, char *err, size_t errlen)
{
	struct lg_opts *o = &lg.o;
	uint32_t v;
	int rc;

	(void)ctx;
	if (strcmp(key, "server") == 0)
		return parse_addr("server", value, &o->server, err, errlen);
	if (strcmp(key, "server_port") == 0) {
		rc = dtcp_app_parse_u32("server_port", value, 1, 65535, &v, err, errlen);
		o->server_port = (uint16_t)v;
		return rc;
	}
	if (strcmp(key, "client_addrs") == 0)
		return parse_addr_list(value, err, errlen);
	if (strcmp(key, "client_ports") == 0)
		return parse_port_range(value, err, errlen);
	if (strcmp(key, "rate") == 0)
		return dtcp_app_parse_u32("rate", value, 0, 100000000, &o->rate, err, errlen);
	if (strcmp(key, "concurrency") == 0)
		return dtcp_app_parse_u32("concurrency", value, 1, 1u << 24, &o->concurrency, err,
					  errlen);
	if (strcmp(key, "duration") == 0)
		return dtcp_app_parse_u32("duration", value, 0, 31536000, &o->duration_s, err,
					  errlen);
	if (strcmp(key, "requests") == 0)
		return dtcp_app_parse_u32("requests", value, 1, 65535, &o->requests, err, errlen);
	if (strcmp(key, "fin_first") == 0) {
		if (strcasecmp(value, "client") == 0) {
			o->fin_first = LG_FIN_CLIENT;
		} else if (strcasecmp(value, "server") == 0) {
			o->fin_first = LG_FIN_SERVER;
		} else {
			snprintf(err, errlen, "fin_first %s: client or server", value);
			return -EINVAL;
		}
		return 0;
	}
	if (strcmp(key, "path") == 0 || strcmp(key, "host") == 0) {
		bool path = key[0] == 'p';
		char *dst = path ? o->path : o->host;
		size_t cap = path ? sizeof(o->path) : sizeof(o->host);

		/* Bytes that would end the request line or a header early are refused. */
		if (strlen(value) >= cap || strpbrk(value, " \t\r\n") != NULL ||
		    (path && value[0] != '/') || value[0] == '\0') {
			snprintf(err, errlen, "%s %s: %s", key, value,
				 path ? "must start with / and hold no whitespace, below 1024 bytes"
				      : "no whitespace, below 256 bytes");
			return -EINVAL;
		}
		strcpy(dst, value);
		return 0;
	}
	if (strcmp(key, "request_size") == 0)
		return dtcp_app_parse_u32("request_size", value, 0, LG_REQ_MAX, &o->request_size,
					  err, errlen);
	if (strcmp(key, "response_size") == 0) {
		if (strcasecmp(value, "any") == 0) {
			o->response_size = -1;
			return 0;
		}
		rc = dtcp_app_parse_u32("response_size", value, 0, LG_HTTP_BODY_MAX, &v, err,
					errlen);
		o->response_size = v;
		return rc;
	}
	if (strcmp(key, "connect_timeout_ms") == 0)
		return dtcp_app_parse_u32("connect_timeout_ms", value, 1, 3600000,
					  &o->connect_timeout_ms, err, errlen);
	if (strcmp(key, "timeout_ms") == 0)
		return dtcp_app_parse_u32("timeout_ms", value, 1, 3600000, &o->timeout_ms, err,
					  errlen);
	if (strcmp(key, "drain_ms") == 0)
		return dtcp_app_parse_u32("drain_ms", value, 0, 3600000, &o->drain_ms, err, errlen);
	if (strcmp(key, "max_errors") == 0) {
		rc = dtcp_app_parse_u32("max_errors", value, 0, UINT32_MAX, &v, err, errlen);
		o->max_errors = v;
		return rc;
	}
	if (strcmp(key, "wait_ms") == 0)
		return dtcp_app_parse_u32("wait_ms", value, 0, 3600000, &o->wait_ms, err, errlen);
	if (strcmp(key, "burst") == 0)
		return dtcp_app_parse_u32("burst", value, 1, 4096, &o->burst, err, errlen);
	snprintf(err, errlen, "[loadgen] %s: unknown key", key);
	return -EINVAL;
}

static bool
is_our_addr(const struct dtcp_config *cfg, uint32_t a)
{
	for (unsigned i = 0; i < cfg->n_addrs; i++)
		if (cfg->addrs[i].addr == a)
			return true;
	return false;
}

static void
fmt_addr(char *buf, size_t len, uint32_t a)
{
	snprintf(buf, len, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static int
lg_check(void *ctx, const struct dtcp_config *cfg, char *err, size_t errlen)
{
	struct lg_opts *o = &lg.o;
	char host[LG_HOST_MAX + 8];
	uint64_t per_conn_mbufs;
	int n;

	(void)ctx;
	if (o->server == 0) {
		snprintf(err, errlen, "no server: give --server A.B.C.D (or [loadgen] server)");
		return -EINVAL;
	}
	if (o->n_client_addrs == 0) {
		for (unsigned i = 0; i < cfg->n_addrs; i++)
			lg.addrs[i] = cfg->addrs[i].addr;
		lg.n_addrs = cfg->n_addrs;
	} else {
		for (unsigned i = 0; i < o->n_client_addrs; i++) {
			if (!is_our_addr(cfg, o->client_addrs[i])) {
				char a[16];

				fmt_addr(a, sizeof(a), o->client_addrs[i]);
				snprintf(err, errlen, "client_addrs: %s is not an [ip] address of ours", a);
				return -EINVAL;
			}
			lg.addrs[i] = o->client_addrs[i];
		}
		lg.n_addrs = o->n_client_addrs;
	}
	if ((uint32_t)o->port_hi - o->port_lo + 1 < cfg->queues) {
		snprintf(err, errlen, "client_ports: fewer ports than workers");
		return -EINVAL;
	}
	if (o->concurrency > cfg->tcp_max_conns) {
		snprintf(err, errlen, "concurrency %u is above [tcp] max_conns %u", o->concurrency,
			 cfg->tcp_max_conns);
		return -EINVAL;
	}
	/* The --duration of apps/common would stop the workers at once: ours
	 * stops opening and lets the open connections finish, then stops them. */
	if (lg.app.duration_s != 0) {
		o->duration_s = lg.app.duration_s;
		lg.app.duration_s = 0;
	}
	if (o->host[0] != '\0') {
		snprintf(host, sizeof(host), "%s", o->host);
	} else {
		fmt_addr(host, sizeof(host), o->server);
		if (o->server_port != 80)
			snprintf(host + strlen(host), sizeof(host) - strlen(host), ":%u",
				 o->server_port);
	}
	n = lg_http_request(lg.req, sizeof(lg.req), o->path, host, false, o->request_size);
	if (n >= 0) {
		lg.req_len = (uint32_t)n;
		n = lg_http_request(lg.req_last, sizeof(lg.req_last), o->path, host,
				    o->fin_first == LG_FIN_SERVER, o->request_size);
		lg.req_last_len = n >= 0 ? (uint32_t)n : 0;
	}
	if (n < 0) {
		snprintf(err, errlen, "request_size %u: %s", o->request_size,
			 n == -EINVAL ? "below the bare request, or within 9 bytes above it"
				      : "too large for the path and host");
		return -EINVAL;
	}
	/*
	 * Each open connection may hold its request in TCP's send queue (one
	 * mbuf attached to the prebuilt text): the mbuf budget must cover the
	 * cap, or sends would be refused, and counted as errors.
	 */
	per_conn_mbufs = 2;
	if ((uint64_t)o->concurrency * per_conn_mbufs > cfg->tcp_mbufs_max) {
		snprintf(err, errlen, "concurrency %u needs [tcp] mbufs_max >= %" PRIu64
			 " (the request queued on each, and a segment received)", o->concurrency,
			 (uint64_t)o->concurrency * per_conn_mbufs);
		return -EINVAL;
	}
	lg.msl_ms = cfg->tcp_msl_ms;
	return 0;
}

static int
lg_worker_start(void *ctx, unsigned q, struct dtcp_worker *w, char *err, size_t errlen)
{
	struct lg_opts o = lg.o;
	unsigned nq = lg.app.n_workers;
	uint32_t span = (uint32_t)o.port_hi - o.port_lo + 1;

	(void)ctx;
	/* Each worker its own slice of the ports, so no two ever pick one 4-tuple. */
	o.port_lo = (uint16_t)(lg.o.port_lo + span / nq * q);
	o.port_hi = (uint16_t)(q + 1 == nq ? lg.o.port_hi : o.port_lo + span / nq - 1);
	lg.engines[q] = lg_engine_create(w, lg.app.pool, &o, lg.addrs, lg.n_addrs, lg.req,
					 lg.req_len, lg.req_last, lg.req_last_len, err, errlen);
	return lg.engines[q] != NULL ? 0 : -ENOMEM;
}

static void
lg_worker_poll(void *ctx, unsigned q, struct dtcp_worker *w, uint64_t now_ns)
{
	struct lg_engine *e = lg.engines[q];
	bool was_done = lg_engine_done(e);

	(void)ctx;
	(void)w;
	lg_engine_poll(e, now_ns);
	if (!was_done && lg_engine_done(e) &&
	    __atomic_add_fetch(&lg.done, 1, __ATOMIC_ACQ_REL) == lg.app.n_workers)
		dtcp_app_stop();
}

static void
lg_worker_stop(void *ctx, unsigned q, struct dtcp_worker *w)
{
	(void)ctx;
	(void)w;
	if (lg.engines[q] != NULL)
		lg_engine_stop(lg.engines[q]);
}

static void
lg_worker_free(void *ctx, unsigned q)
{
	(void)ctx;
	lg_engine_free(lg.engines[q]);
	lg.engines[q] = NULL;
}

static uint64_t
sum_errors(const uint64_t *stat)
{
	uint64_t n = 0;

	for (unsigned s = 0; s < LG_STAT_MAX; s++)
		if (lg_stat_is_error(s))
			n += stat[s];
	return n;
}

static uint64_t
sum_drops(const uint64_t *ctr)
{
	uint64_t n = 0;

	for (unsigned c = 0; c < DTCP_CTR_MAX; c++)
		if (dtcp_ctr_kind(c) == DTCP_CTR_KIND_DROP || dtcp_ctr_kind(c) == DTCP_CTR_KIND_TXDROP)
			n += ctr[c];
	return n;
}

static void
print_header(void)
{
	printf("%s: %6s %8s %7s %8s %7s %7s %7s %7s %7s %7s %6s %6s %6s %8s %8s  %s\n", NAME,
	       "time", "cps", "conc", "rps", "syn-tx", "syn-rx", "fin-tx", "fin-rx", "rst-tx",
	       "rst-rx", "rexmit", "errors", "drops", "tw", "rate", "notes");
}

/* One line: b's second against a (the one before; zero at the start). */
static void
print_line(const struct lg_snap *a, const struct lg_snap *b)
{
	double dt = (double)(b->t_ns - a->t_ns) / 1e9;
	char rate[16], notes[48] = "";

#define D_STAT(s) (b->stat[LG_##s] - a->stat[LG_##s])
#define D_CTR(c) (b->ctr[DTCP_CTR_##c] - a->ctr[DTCP_CTR_##c])
	double cps = dt > 0 ? (double)D_STAT(completed) / dt : 0;
	double rps = dt > 0 ? (double)D_STAT(responses) / dt : 0;

	if (b->rate != 0)
		snprintf(rate, sizeof(rate), "%u", b->rate);
	else
		snprintf(rate, sizeof(rate), "max");
	if (b->notes & LG_NOTE_CAP)
		strcat(notes, " cap");
	if (b->notes & LG_NOTE_BACKOFF)
		strcat(notes, " backoff");
	if (b->notes & LG_NOTE_TUPLES)
		strcat(notes, " tuples");
	if (b->notes & LG_NOTE_DRAIN)
		strcat(notes, " drain");
	printf("%s: %6.2f %8.0f %7" PRIu64 " %8.0f %7" PRIu64 " %7" PRIu64 " %7" PRIu64 " %7" PRIu64
	       " %7" PRIu64 " %7" PRIu64 " %6" PRIu64 " %6" PRIu64 " %6" PRIu64 " %8" PRIu64
	       " %8s %s\n", NAME, (double)b->t_ns / 1e9, cps, b->open, rps, D_CTR(tcp_tx_syn),
	       D_CTR(tcp_rx_syn), D_CTR(tcp_tx_fin), D_CTR(tcp_rx_fin), D_CTR(tcp_tx_rst),
	       D_CTR(tcp_rx_rst), D_CTR(tcp_rexmit), sum_errors(b->stat) - sum_errors(a->stat),
	       sum_drops(b->ctr) - sum_drops(a->ctr), b->timewait, rate, notes[0] ? notes + 1 : "-");
#undef D_STAT
#undef D_CTR
	/* The best second: whole ones only (the last may be a sliver). */
	if (dt > 0.9 && cps > lg.peak_cps)
		lg.peak_cps = cps;
	lg.last_t_ns = b->t_ns;
	lg.lines++;
}

/* The same second of every engine, summed; false when one has not published it yet. */
static bool
take_second(struct lg_snap *sum, struct lg_snap *held, bool *have)
{
	unsigned n = lg.n_engines;

	for (unsigned q = 0; q < n; q++) {
		if (!have[q] && lg.engines[q] != NULL)
			have[q] = lg_engine_take_snap(lg.engines[q], &held[q],
						      &lg.snaps_lost[q]);
		if (!have[q])
			return false;
	}
	memset(sum, 0, sizeof(*sum));
	for (unsigned q = 0; q < n; q++) {
		for (unsigned s = 0; s < LG_STAT_MAX; s++)
			sum->stat[s] += held[q].stat[s];
		for (unsigned c = 0; c < DTCP_CTR_MAX; c++)
			sum->ctr[c] += held[q].ctr[c];
		sum->timewait += held[q].timewait;
		sum->open += held[q].open;
		sum->rate += held[q].rate;
		sum->notes |= held[q].notes;
		sum->t_ns = RTE_MAX(sum->t_ns, held[q].t_ns);
		have[q] = false;
	}
	return true;
}

/* The per-second lines, off the data path; after the stop, what is left. */
static void *
printer(void *arg)
{
	static struct lg_snap prev, cur, held[RTE_MAX_LCORE];
	static bool have[RTE_MAX_LCORE];
	bool last = false;

	(void)arg;
	memset(&prev, 0, sizeof(prev));
	print_header();
	fflush(stdout);
	while (!last) {
		last = lg.printer_stop;
		while (take_second(&cur, held, have)) {
			print_line(&prev, &cur);
			prev = cur;
		}
		fflush(stdout);
		if (!last)
			usleep(20000);
	}
	return NULL;
}

static void
check_line(FILE *f, const char *what, uint64_t left, uint64_t right, const char *terms)
{
	fprintf(f, "%s: %s %" PRIu64 " = %s %" PRIu64 "  %s\n", NAME, what, left, terms, right,
		left == right ? "(holds)" : "(MISMATCH)");
}

static void
lg_report(void *ctx, FILE *f, bool final)
{
	uint64_t stat[LG_STAT_MAX] = { 0 }, ctr[DTCP_CTR_MAX], tw_now = 0, errors, lost = 0;
	double secs;

	(void)ctx;
	for (unsigned q = 0; q < lg.n_engines; q++) {
		const uint64_t *s;

		if (lg.engines[q] == NULL)
			continue;
		s = lg_engine_stats(lg.engines[q]);
		for (unsigned k = 0; k < LG_STAT_MAX; k++)
			stat[k] += s[k];
		if (final) {
			uint64_t states[DTCP_TCP_STATE_MAX];

			dtcp_tcp_state_counts(lg.app.workers[q], states);
			tw_now += states[DTCP_TCP_TIME_WAIT];
		}
	}
	errors = sum_errors(stat);
	if (!final) {
		fprintf(f, "%s: opened %" PRIu64 ", completed %" PRIu64 ", errors %" PRIu64 "\n", NAME,
			stat[LG_opened], stat[LG_completed], errors);
		return;
	}
	dtcp_stats_sum(ctr);
	secs = (double)lg.last_t_ns / 1e9;
	for (unsigned q = 0; q < lg.n_engines; q++)
		if (lg.engines[q] != NULL && !lg_engine_started(lg.engines[q]))
			fprintf(f, "%s: worker %u never started: the server did not accept a connection "
				"from each client address within wait_ms (%u ms)\n", NAME, q,
				lg.o.wait_ms);
	fprintf(f, "%s: summary: %" PRIu64 " connections opened, %" PRIu64 " completed in %.2f s "
		"(%.0f per second on average, %.0f at the best second), %" PRIu64 " requests, %"
		PRIu64 " responses, %" PRIu64 " errors (max_errors %" PRIu64 ")\n", NAME,
		stat[LG_opened], stat[LG_completed], secs,
		secs > 0 ? (double)stat[LG_completed] / secs : 0.0, lg.peak_cps, stat[LG_requests],
		stat[LG_responses], errors, lg.o.max_errors);
	for (unsigned k = 0; k < LG_STAT_MAX; k++)
		if (stat[k] != 0 || lg_stat_is_error(k))
			fprintf(f, "%s: %-20s %12" PRIu64 "  # %s\n", NAME, lg_stat_name(k), stat[k],
				lg_stat_desc(k));
	for (unsigned q = 0; q < lg.n_engines; q++)
		lost += lg.snaps_lost[q];
	fprintf(f, "%s: per-second lines %" PRIu64 ", snapshots lost %" PRIu64 "\n", NAME, lg.lines,
		lost);
	/*
	 * TIME-WAIT accounting (RFC 9293 §3.6.1: 2 MSL). Whoever sends the
	 * first FIN ends in TIME-WAIT; on this side that is every orderly close
	 * where we were first. Each entry then either waits out 2 MSL, is
	 * still waiting, was ended early by a newer SYN (RFC 6191, counted
	 * as expired too), or found the table full and was closed at once.
	 */
	fprintf(f, "%s: TIME-WAIT lasts 2 MSL = %.3f s\n", NAME, 2.0 * lg.msl_ms / 1000.0);
	check_line(f, "TIME-WAIT: orderly closes (tcp_closed_orderly)", ctr[DTCP_CTR_tcp_closed_orderly],
		   stat[LG_closed_first] + stat[LG_closed_second],
		   "closed first by us + closed first by the server =");
	check_line(f, "TIME-WAIT: closed first by us", stat[LG_closed_first],
		   ctr[DTCP_CTR_tcp_timewait_enter], "entered TIME-WAIT (tcp_timewait_enter)");
	fprintf(f, "%s: TIME-WAIT: entered %" PRIu64 " = expired %" PRIu64 " (of them reused by a "
		"newer SYN %" PRIu64 ") + still waiting %" PRIu64 " + refused, table full %" PRIu64
		"  %s\n", NAME, ctr[DTCP_CTR_tcp_timewait_enter], ctr[DTCP_CTR_tcp_timewait_expired],
		ctr[DTCP_CTR_tcp_tw_reuse], tw_now, ctr[DTCP_CTR_tcp_timewait_full],
		ctr[DTCP_CTR_tcp_timewait_enter] == ctr[DTCP_CTR_tcp_timewait_expired] + tw_now +
		ctr[DTCP_CTR_tcp_timewait_full] ? "(holds)" : "(MISMATCH)");
	fprintf(f, "%s: result: %s (%" PRIu64 " errors, max_errors %" PRIu64 ")\n", NAME,
		errors > lg.o.max_errors ? "FAIL" : "PASS", errors, lg.o.max_errors);
}

static const struct dtcp_app_desc desc = {
	.name = NAME,
	.summary =
		"An HTTP load generator for connections per second on the dtcp stack. Each\n"
		"worker opens connections from the client addresses and ports in turn, at\n"
		"--rate per second (or as fast as --concurrency allows), sends the request\n"
		"as soon as the SYN is queued, reads each response by its Content-Length,\n"
		"then closes (--fin-first). One line per second; at the end a summary with\n"
		"the TIME-WAIT accounting. --duration is the time spent opening connections;\n"
		"the open ones then get --drain to finish. Exit status: 0; 4 when errors\n"
		"exceed --max-errors; 1 the system refused; 2 a bad option; 3 an mbuf leak.\n",
	.example = "-l 0 --no-huge -m 512 --vdev=net_tap0,iface=dtlg0 -- --ip 198.18.9.2/24 "
		   "--server 198.18.9.1 --rate 5000 --duration 10",
	.section = "loadgen",
	.options = options,
	.set = lg_set,
	.check = lg_check,
	.worker_start = lg_worker_start,
	.worker_poll = lg_worker_poll,
	.worker_stop = lg_worker_stop,
	.report = lg_report,
	.worker_free = lg_worker_free,
};

int
main(int argc, char **argv)
{
	pthread_t pr;
	bool pr_started;
	uint64_t errors = 0;
	int rc;

	lg.o = (struct lg_opts){
		.server_port = 80,
		.port_lo = 1024,
		.port_hi = 65535,
		.concurrency = 1000,
		.requests = 1,
		.fin_first = LG_FIN_CLIENT,
		.path = "/",
		.response_size = -1,
		.connect_timeout_ms = 3000,
		.timeout_ms = 5000,
		.drain_ms = 5000,
		.burst = 32,
		.wait_ms = 10000,
	};
	rc = dtcp_app_init(&lg.app, &desc, argc, argv);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	lg.n_engines = lg.app.n_workers;
	{
		char srv[16];
		uint64_t tuples = (uint64_t)lg.n_addrs * ((uint32_t)lg.o.port_hi - lg.o.port_lo + 1);

		fmt_addr(srv, sizeof(srv), lg.o.server);
		char rate[32] = "as fast as the cap allows";

		if (lg.o.rate != 0)
			snprintf(rate, sizeof(rate), "%u per second", lg.o.rate);
		printf("%s: http://%s:%u%s, rate %s, concurrency %u per worker, %u request(s) per "
		       "connection, FIN first: %s, duration %u s (+ drain up to %u ms)\n", NAME, srv,
		       lg.o.server_port, lg.o.path, rate, lg.o.concurrency, lg.o.requests,
		       lg.o.fin_first == LG_FIN_CLIENT ? "client" : "server", lg.o.duration_s,
		       lg.o.drain_ms);
		printf("%s: %" PRIu64 " 4-tuples (%u address(es) x ports %u-%u), request %u bytes; "
		       "TIME-WAIT 2 MSL = %.3f s", NAME, tuples, lg.n_addrs, lg.o.port_lo,
		       lg.o.port_hi, lg.req_len, 2.0 * lg.msl_ms / 1000.0);
		if (lg.o.fin_first == LG_FIN_CLIENT && lg.o.rate != 0 &&
		    (double)lg.o.rate * 2.0 * lg.msl_ms / 1000.0 > (double)tuples)
			printf(" holds %.0f of them at this rate: 4-tuples will run out",
			       (double)lg.o.rate * 2.0 * lg.msl_ms / 1000.0);
		printf("\n");
		fflush(stdout);
	}
	pr_started = pthread_create(&pr, NULL, printer, NULL) == 0;
	dtcp_app_run(&lg.app);
	lg.printer_stop = true;
	if (pr_started)
		pthread_join(pr, NULL);
	for (unsigned q = 0; q < lg.n_engines; q++)
		if (lg.engines[q] != NULL)
			errors += sum_errors(lg_engine_stats(lg.engines[q]));
	rc = dtcp_app_finish(&lg.app);
	if (rc == 0 && errors > lg.o.max_errors)
		rc = EXIT_ERRORS;
	return rc;
}
