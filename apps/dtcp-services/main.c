/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-services: the stack on one DPDK port, one worker per queue. It
 * answers ARP and ping, and serves the classic TCP services on every
 * address (services.c): echo (RFC 862), discard (RFC 863), daytime
 * (RFC 867) and chargen (RFC 864), each worker listening on the same ports.
 * At exit it reports the stack's counters, each service's, and the mbufs
 * still in use once the port is closed (any is a leak: exit status 3).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <rte_common.h>
#include <rte_lcore.h>

#include "app.h"
#include "services.h"

static struct services_ctx {
	struct svc_opts svc;
	bool echo_mbufs_given;
	struct dtcp_app app;
	struct svc_worker *sw[RTE_MAX_LCORE];
} ctx = {
	.svc = {
		.port = { [SVC_ECHO] = 7, [SVC_DISCARD] = 9, [SVC_DAYTIME] = 13,
			  [SVC_CHARGEN] = 19 },
		.max_clients = 4096,
		.echo_backlog = 1u << 20,
	},
};

static const struct dtcp_app_option options[] = {
	{ "echo-port", "echo_port", true, "N",
	  "echo: sends back what it receives (default 7; 0: off)" },
	{ "discard-port", "discard_port", true, "N",
	  "discard: throws away what it receives (default 9)" },
	{ "daytime-port", "daytime_port", true, "N",
	  "daytime: one line of UTC date and time, then closes (default 13)" },
	{ "chargen-port", "chargen_port", true, "N",
	  "chargen: the RFC 864 pattern until the peer closes (default 19)" },
	{ "max-clients", "max_clients", true, "N",
	  "connection states per worker, all services (default 4096);\n"
	  "                       a connection beyond them is reset at once, and counted" },
	{ "echo-backlog", "echo_backlog", true, "BYTES",
	  "what echo holds for one connection when the send buffer\n"
	  "                       is full (default 1048576); a peer that sends more\n"
	  "                       without reading is reset, and counted" },
	{ "echo-mbufs", "echo_mbufs", true, "N",
	  "mbufs echo holds that way per worker, all connections\n"
	  "                       (default: what [port] mbufs leaves beyond the stack's\n"
	  "                       own bounds, at most 65535)" },
	{ NULL, NULL, false, NULL, NULL },
};

static const char *const port_key[SVC_MAX] = {
	[SVC_ECHO] = "echo_port",
	[SVC_DISCARD] = "discard_port",
	[SVC_DAYTIME] = "daytime_port",
	[SVC_CHARGEN] = "chargen_port",
};

static int
set(void *arg, const char *key, const char *value, char *err, size_t errlen)
{
	struct services_ctx *c = arg;
	char what[64];
	uint32_t v;
	int rc;

	snprintf(what, sizeof(what), "[services] %s", key);
	for (unsigned k = 0; k < SVC_MAX; k++) {
		if (strcasecmp(key, port_key[k]) != 0)
			continue;
		rc = dtcp_app_parse_u32(what, value, 0, 65535, &v, err, errlen);
		c->svc.port[k] = (uint16_t)v;
		return rc;
	}
	if (strcasecmp(key, "max_clients") == 0)
		return dtcp_app_parse_u32(what, value, 1, 1u << 24, &c->svc.max_clients, err,
					  errlen);
	if (strcasecmp(key, "echo_backlog") == 0)
		return dtcp_app_parse_u32(what, value, 2048, 1u << 30, &c->svc.echo_backlog, err,
					  errlen);
	if (strcasecmp(key, "echo_mbufs") == 0) {
		c->echo_mbufs_given = true;
		return dtcp_app_parse_u32(what, value, 1, UINT16_MAX, &c->svc.echo_mbufs, err,
					  errlen);
	}
	snprintf(err, errlen, "unknown key [services] %s", key);
	return -EINVAL;
}

/*
 * Mbufs of [port] mbufs that the stack's bounds leave over (what
 * dtcp_config_validate counts, per worker, plus the lcores' mempool
 * caches and frames in flight): echo's backlog must fit there, or a
 * full backlog would starve the port of receive buffers.
 */
static uint32_t
pool_spare(const struct dtcp_config *cfg, unsigned lcores)
{
	uint64_t per_worker = (uint64_t)cfg->arp_pending_max +
			      (uint64_t)RTE_LIBRTE_IP_FRAG_MAX_FRAG * cfg->frag_max_flows +
			      cfg->tcp_mbufs_max + cfg->rx_desc + cfg->tx_desc + 4u * cfg->burst + 128;
	uint64_t held = per_worker * cfg->queues + (uint64_t)lcores * cfg->mbuf_cache * 3 / 2;

	return held < cfg->mbufs ? (uint32_t)(cfg->mbufs - held) : 0;
}

/* Ports in use by two services, echo's bound against the pool: 0 or -1 with a message. */
static int
check(void *arg, const struct dtcp_config *cfg, char *err, size_t errlen)
{
	struct services_ctx *c = arg;
	uint32_t spare = pool_spare(cfg, rte_lcore_count()) / cfg->queues;

	for (unsigned a = 0; a < SVC_MAX; a++)
		for (unsigned b = a + 1; b < SVC_MAX; b++)
			if (c->svc.port[a] != 0 && c->svc.port[a] == c->svc.port[b]) {
				snprintf(err, errlen, "%s and %s are both %u", port_key[a],
					 port_key[b], c->svc.port[a]);
				return -1;
			}
	if (c->svc.port[SVC_ECHO] == 0)
		return 0;
	if (!c->echo_mbufs_given) {
		c->svc.echo_mbufs = RTE_MIN(spare, (uint32_t)UINT16_MAX);
		if (c->svc.echo_mbufs < 64) {
			snprintf(err, errlen, "[port] mbufs %u leaves %u mbufs per worker for echo's "
				 "backlog, below 64: raise it, lower the stack's bounds, or "
				 "accept a smaller backlog with --echo-mbufs", cfg->mbufs, spare);
			return -1;
		}
	} else if (c->svc.echo_mbufs > spare) {
		snprintf(err, errlen, "--echo-mbufs %u: [port] mbufs %u leaves %u per worker beyond "
			 "the stack's bounds", c->svc.echo_mbufs, cfg->mbufs, spare);
		return -1;
	}
	return 0;
}

static bool
svc_any(const struct svc_opts *so)
{
	for (unsigned k = 0; k < SVC_MAX; k++)
		if (so->port[k] != 0)
			return true;
	return false;
}

static int
worker_start(void *arg, unsigned q, struct dtcp_worker *w, char *err, size_t errlen)
{
	struct services_ctx *c = arg;
	const struct svc_opts *so = &c->svc;

	c->sw[q] = svc_worker_create(w, c->app.pool, so, err, errlen);
	if (c->sw[q] == NULL)
		return -ENOMEM;
	if (q != 0)
		return 0;
	if (!svc_any(so)) {
		printf("dtcp-services: every TCP service is off\n");
	} else {
		printf("dtcp-services: listening on every address:");
		for (unsigned k = 0; k < SVC_MAX; k++)
			if (so->port[k] != 0)
				printf(" %s %u,", svc_name((enum svc_kind)k), so->port[k]);
		printf(" %u clients per worker", so->max_clients);
		if (so->port[SVC_ECHO] != 0)
			printf(", echo backlog %u bytes per client and %u mbufs per worker",
			       so->echo_backlog, so->echo_mbufs);
		printf("\n");
	}
	fflush(stdout);
	return 0;
}

static void
worker_stop(void *arg, unsigned q, struct dtcp_worker *w)
{
	struct services_ctx *c = arg;

	(void)w;
	if (c->sw[q] != NULL)
		svc_worker_stop(c->sw[q]);
}

static void
worker_free(void *arg, unsigned q)
{
	struct services_ctx *c = arg;

	svc_worker_free(c->sw[q]);
	c->sw[q] = NULL;
}

/* Each service's counters, summed over the workers (their lcores have stopped). */
static void
report(void *arg, FILE *f, bool final)
{
	const struct services_ctx *c = arg;
	const struct svc_opts *so = &c->svc;

	if (!final)
		return;
	for (unsigned k = 0; k < SVC_MAX; k++) {
		struct svc_stats t = { 0 };
		bool any = false;

		if (so->port[k] == 0)
			continue;
		for (unsigned q = 0; q < c->app.n_workers; q++) {
			const struct svc_stats *s;

			if (c->sw[q] == NULL)
				continue;
			s = &svc_worker_stats(c->sw[q])[k];
			any = true;
			t.accepted += s->accepted;
			t.refused += s->refused;
			t.aborted += s->aborted;
			t.failed += s->failed;
			t.at_exit += s->at_exit;
			t.bytes_rx += s->bytes_rx;
			t.bytes_tx += s->bytes_tx;
			t.backlog_peak = RTE_MAX(t.backlog_peak, s->backlog_peak);
		}
		if (!any)
			continue;
		fprintf(f, "dtcp-services: %s (port %u): accepted %llu, refused %llu, aborted %llu, "
			"failed %llu, open at exit %llu, bytes received %llu, bytes sent %llu",
			svc_name((enum svc_kind)k), so->port[k], (unsigned long long)t.accepted,
			(unsigned long long)t.refused, (unsigned long long)t.aborted,
			(unsigned long long)t.failed, (unsigned long long)t.at_exit,
			(unsigned long long)t.bytes_rx, (unsigned long long)t.bytes_tx);
		if (k == SVC_ECHO)
			fprintf(f, ", largest backlog %llu", (unsigned long long)t.backlog_peak);
		fprintf(f, "\n");
	}
}

int
main(int argc, char **argv)
{
	static const struct dtcp_app_desc desc = {
		.name = "dtcp-services",
		.summary =
			"Runs the dtcp stack on a DPDK port: answers ARP and ICMP echo, and serves\n"
			"echo (RFC 862), discard (RFC 863), daytime (RFC 867) and chargen (RFC 864)\n"
			"over TCP on every address. A port of 0 turns a service off.\n",
		.example = "--vdev=net_tap0,iface=dtap0 -- --ip 198.18.0.2/24 --chargen-port 0",
		.section = "services",
		.options = options,
		.ctx = &ctx,
		.set = set,
		.check = check,
		.worker_start = worker_start,
		.worker_stop = worker_stop,
		.report = report,
		.worker_free = worker_free,
	};
	int rc = dtcp_app_init(&ctx.app, &desc, argc, argv);

	if (rc != 0)
		return rc < 0 ? 0 : rc;
	dtcp_app_run(&ctx.app);
	return dtcp_app_finish(&ctx.app);
}
