/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-httpd: a small HTTP/1.1 server of fixed bodies on the dtcp stack,
 * for connection-rate and request-rate tests with curl, ab and wrk. Every
 * worker listens on the same port (server.c); this file is its options,
 * its [httpd] section and its report, on apps/common.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>

#include "app.h"
#include "httpd.h"

static struct httpd_ctx {
	struct httpd_opts o;
	struct dtcp_app app;
	struct httpd_responses *r;
	struct httpd_worker *hw[RTE_MAX_LCORE];
} ctx = {
	.o = {
		.port = 80,
		.body_size = 64,
		.keepalive = true,
		.max_header = 8192,
		.max_conns = 16384,
		.partial_buffers = 1024,
	},
};

static const struct dtcp_app_option options[] = {
	{ "http-port", "port", true, "N", "TCP port to listen on, every address (default 80)" },
	{ "body-size", "body_size", true, "BYTES",
	  "body of every 200 response, 0..16777216 (default 64); byte i is\n"
	  "                       \"A..Za..z0..9\"[i % 62]" },
	{ "keepalive", "keepalive", true, "on|off",
	  "serve several requests per connection (default on); off closes\n"
	  "                       after every response" },
	{ "max-header", "max_header", true, "BYTES",
	  "longest request head, 256..65535 (default 8192); beyond: 431 and close" },
	{ "max-conns", "max_conns", true, "N",
	  "open connections per worker (default 16384); beyond: 503 and close" },
	{ "partial-buffers", "partial_buffers", true, "N",
	  "request heads split over segments held at once per worker, each\n"
	  "                       max_header bytes (default 1024); beyond: reset" },
	{ NULL, NULL, false, NULL, NULL },
};

static int
set(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	struct httpd_ctx *c = arg;
	char what[64];
	uint32_t v;
	int rc;

	snprintf(what, sizeof(what), "[httpd] %s", key);
	if (strcasecmp(key, "keepalive") == 0)
		return dtcp_app_parse_bool(what, value, &c->o.keepalive, err, errlen);
	if (strcasecmp(key, "port") == 0) {
		rc = dtcp_app_parse_u32(what, value, 1, 65535, &v, err, errlen);
		c->o.port = (uint16_t)v;
		return rc;
	}
	if (strcasecmp(key, "body_size") == 0)
		return dtcp_app_parse_u32(what, value, 0, HTTPD_BODY_MAX, &c->o.body_size, err,
					  errlen);
	if (strcasecmp(key, "max_header") == 0)
		return dtcp_app_parse_u32(what, value, 256, 65535, &c->o.max_header, err, errlen);
	if (strcasecmp(key, "max_conns") == 0)
		return dtcp_app_parse_u32(what, value, 1, 1u << 24, &c->o.max_conns, err, errlen);
	if (strcasecmp(key, "partial_buffers") == 0)
		return dtcp_app_parse_u32(what, value, 0, 1u << 20, &c->o.partial_buffers, err,
					  errlen);
	snprintf(err, errlen, "unknown key [httpd] %s", key);
	return -EINVAL;
}

static int
check(void *arg, const struct dtcp_config *cfg, char *err, size_t errlen)
{
	struct httpd_ctx *c = arg;

	/* Each open connection is a TCB of the worker, and so is the listener. */
	if (c->o.max_conns >= cfg->tcp_max_conns) {
		snprintf(err, errlen, "[httpd] max_conns %u: [tcp] max_conns %u leaves room for %u",
			 c->o.max_conns, cfg->tcp_max_conns, cfg->tcp_max_conns - 1);
		return -EINVAL;
	}
	return 0;
}

static int
worker_start(void *arg, unsigned q, struct dtcp_worker *w, char *err, size_t errlen)
{
	struct httpd_ctx *c = arg;
	struct httpd_worker *hw = httpd_worker_create(w, q, c->app.pool, &c->o, c->r, err, errlen);

	if (hw == NULL)
		return -ENOMEM;
	/* The reporter thread reads it from now on. */
	__atomic_store_n(&c->hw[q], hw, __ATOMIC_RELEASE);
	printf("dtcp-httpd: worker %u listening on port %u\n", q, c->o.port);
	fflush(stdout);
	return 0;
}

static void
worker_stop(void *arg, unsigned q, struct dtcp_worker *w)
{
	struct httpd_ctx *c = arg;

	(void)w;
	if (c->hw[q] != NULL)
		httpd_worker_stop(c->hw[q]);
}

static void
worker_free(void *arg, unsigned q)
{
	struct httpd_ctx *c = arg;

	httpd_worker_free(c->hw[q]);
	c->hw[q] = NULL;
}

static void
report(void *arg, FILE *f, bool final)
{
	struct httpd_ctx *c = arg;
	uint64_t t[HTTPD_STAT_MAX] = { 0 };

	for (unsigned q = 0; q < c->app.n_workers; q++) {
		const struct httpd_worker *hw = __atomic_load_n(&c->hw[q], __ATOMIC_ACQUIRE);

		if (hw == NULL)
			continue;
		for (unsigned s = 0; s < HTTPD_STAT_MAX; s++)
			t[s] += httpd_worker_stats(hw)[s];
	}
	fprintf(f, "dtcp-httpd: %s\n", final ? "final HTTP counters" : "HTTP counters");
	for (unsigned s = 0; s < HTTPD_STAT_MAX; s++)
		fprintf(f, "  httpd.%-20s %12llu  # %s\n", httpd_stat_name(s),
			(unsigned long long)t[s], httpd_stat_desc(s));
	if (final) {
		uint64_t answered = t[HTTPD_resp_200] + t[HTTPD_resp_400] + t[HTTPD_resp_405] +
				    t[HTTPD_resp_431] + t[HTTPD_resp_501] + t[HTTPD_resp_505];
		uint64_t asked = t[HTTPD_requests] + t[HTTPD_bad_heads];
		uint64_t ended = t[HTTPD_close_server] + t[HTTPD_close_peer] +
				 t[HTTPD_close_mid_request] + t[HTTPD_reset] + t[HTTPD_no_partial] +
				 t[HTTPD_no_mbuf] + t[HTTPD_no_slot] + t[HTTPD_at_exit];

		/* Every head, parsed or refused, got exactly one answer. */
		fprintf(f, "dtcp-httpd: heads %llu, answers %llu%s\n", (unsigned long long)asked,
			(unsigned long long)answered, asked == answered ? "" : "  (MISMATCH)");
		/* And every accepted connection ended once, one way. */
		fprintf(f, "dtcp-httpd: connections accepted %llu, ended %llu%s\n",
			(unsigned long long)t[HTTPD_accepted], (unsigned long long)ended,
			t[HTTPD_accepted] == ended ? "" : "  (MISMATCH)");
	}
}

static int
done(void *arg)
{
	struct httpd_ctx *c = arg;
	int rc = httpd_responses_free(c->r, stdout);

	c->r = NULL;
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct dtcp_app_desc desc = {
		.name = "dtcp-httpd",
		.summary =
			"A small HTTP/1.1 server on the dtcp stack: GET and HEAD on any path answer\n"
			"200 with a fixed body of --body-size bytes, sent from one prebuilt buffer\n"
			"without copying; keep-alive and pipelining, or close after each response.\n"
			"Other methods get 405 (or 501), malformed requests 400, and the connection\n"
			"closes. Every worker listens on the port. Options below are also keys of\n"
			"[httpd] in the --config file.\n",
		.example = "--vdev=net_tap0,iface=dthp0 -- --ip 198.18.8.2/24 --http-port 8080 "
			   "--body-size 1024",
		.section = "httpd",
		.options = options,
		.ctx = &ctx,
		.set = set,
		.check = check,
		.worker_start = worker_start,
		.worker_stop = worker_stop,
		.report = report,
		.worker_free = worker_free,
		.done = done,
	};
	char err[256];
	int rc;

	rc = dtcp_app_init(&ctx.app, &desc, argc, argv);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	ctx.r = httpd_responses_create(&ctx.o, ctx.app.n_workers, ctx.app.cfg.mbufs, err,
				       sizeof(err));
	if (ctx.r == NULL) {
		fprintf(stderr, "dtcp-httpd: %s\n", err);
		dtcp_app_finish(&ctx.app);
		return 1;
	}
	printf("dtcp-httpd: port %u of every address: body %u bytes, keep-alive %s, "
	       "head at most %u bytes, %u connections and %u split heads per worker\n",
	       ctx.o.port, ctx.o.body_size, ctx.o.keepalive ? "on" : "off", ctx.o.max_header,
	       ctx.o.max_conns, ctx.o.partial_buffers);
	fflush(stdout);
	dtcp_app_run(&ctx.app);
	return dtcp_app_finish(&ctx.app);
}
