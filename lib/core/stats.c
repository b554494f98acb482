/* SPDX-License-Identifier: BSD-3-Clause */
/* Counter names from counters.def, and their export through rte_telemetry. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_lcore.h>
#include <rte_spinlock.h>
#include <rte_telemetry.h>

#include "worker_priv.h"

static const struct {
	const char *name;
	const char *desc;
	enum dtcp_ctr_kind kind;
} ctr_info[DTCP_CTR_MAX] = {
#define DTCP_CTR(n, k, d) [DTCP_CTR_##n] = { #n, d, DTCP_CTR_KIND_##k },
#include <dtcp/counters.def>
#undef DTCP_CTR
};

const char *
dtcp_ctr_name(enum dtcp_ctr c)
{
	return c < DTCP_CTR_MAX ? ctr_info[c].name : "?";
}

const char *
dtcp_ctr_desc(enum dtcp_ctr c)
{
	return c < DTCP_CTR_MAX ? ctr_info[c].desc : "?";
}

enum dtcp_ctr_kind
dtcp_ctr_kind(enum dtcp_ctr c)
{
	return c < DTCP_CTR_MAX ? ctr_info[c].kind : DTCP_CTR_KIND_EVENT;
}

/*
 * Registered workers, for readers only. The lock guards registration
 * against the telemetry thread; workers never take it.
 */
#define MAX_WORKERS RTE_MAX_LCORE
static struct dtcp_worker *workers[MAX_WORKERS];
static rte_spinlock_t workers_lock = RTE_SPINLOCK_INITIALIZER;
static bool commands_registered;

static void
sum_locked(uint64_t *out)
{
	for (unsigned c = 0; c < DTCP_CTR_MAX; c++)
		out[c] = 0;
	for (unsigned i = 0; i < MAX_WORKERS; i++) {
		if (workers[i] == NULL)
			continue;
		/* Plain 64-bit loads: a reader may see a count one burst old. */
		for (unsigned c = 0; c < DTCP_CTR_MAX; c++)
			out[c] += workers[i]->ctr[c];
	}
}

void
dtcp_stats_sum(uint64_t *out)
{
	rte_spinlock_lock(&workers_lock);
	sum_locked(out);
	rte_spinlock_unlock(&workers_lock);
}

static void
fill_dict(struct rte_tel_data *d, const uint64_t *ctr)
{
	rte_tel_data_start_dict(d);
	for (unsigned c = 0; c < DTCP_CTR_MAX; c++)
		rte_tel_data_add_dict_u64(d, ctr_info[c].name, ctr[c]);
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t ctr[DTCP_CTR_MAX];

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	dtcp_stats_sum(ctr);
	fill_dict(d, ctr);
	return 0;
}

static int
tel_worker_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint64_t ctr[DTCP_CTR_MAX];
	char *end;
	unsigned long id;
	bool found = false;

	RTE_SET_USED(cmd);
	if (params == NULL || *params == '\0')
		return -EINVAL;
	id = strtoul(params, &end, 10);
	if (*end != '\0')
		return -EINVAL;
	rte_spinlock_lock(&workers_lock);
	for (unsigned i = 0; i < MAX_WORKERS; i++) {
		if (workers[i] != NULL && workers[i]->id == id) {
			for (unsigned c = 0; c < DTCP_CTR_MAX; c++)
				ctr[c] = workers[i]->ctr[c];
			found = true;
			break;
		}
	}
	rte_spinlock_unlock(&workers_lock);
	if (!found)
		return -ENOENT;
	fill_dict(d, ctr);
	return 0;
}

static int
tel_workers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	rte_spinlock_lock(&workers_lock);
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		if (workers[i] != NULL)
			rte_tel_data_add_array_int(d, (int)workers[i]->id);
	rte_spinlock_unlock(&workers_lock);
	return 0;
}

/* The offloads the workers use (one port: the first worker's stand for all). */
static int
tel_offloads(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct dtcp_offl o;
	bool found = false;

	RTE_SET_USED(cmd);
	RTE_SET_USED(params);
	rte_spinlock_lock(&workers_lock);
	for (unsigned i = 0; i < MAX_WORKERS && !found; i++) {
		if (workers[i] != NULL) {
			o = workers[i]->offl;
			found = true;
		}
	}
	rte_spinlock_unlock(&workers_lock);
	if (!found)
		return -ENOENT;
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "tx_ipv4_cksum", o.tx_ip_cksum);
	rte_tel_data_add_dict_int(d, "tx_tcp_cksum", o.tx_tcp_cksum);
	rte_tel_data_add_dict_int(d, "tso", o.tso_max != 0);
	rte_tel_data_add_dict_int(d, "tso_max", o.tso_max);
	rte_tel_data_add_dict_int(d, "rx_ipv4_cksum", o.rx_ip_cksum);
	rte_tel_data_add_dict_int(d, "rx_tcp_cksum", o.rx_tcp_cksum);
	rte_tel_data_add_dict_int(d, "lro", o.lro);
	rte_tel_data_add_dict_int(d, "tx_seg_max", o.tx_seg_max);
	rte_tel_data_add_dict_int(d, "tx_mtu_seg_max", o.tx_mtu_seg_max);
	return 0;
}

int
dtcp_telemetry_register(struct dtcp_worker *w)
{
	int rc = -ENOSPC;

	rte_spinlock_lock(&workers_lock);
	if (!commands_registered) {
		/* Commands cannot be unregistered: once per process. */
		rte_telemetry_register_cmd("/dtcp/stats", tel_stats,
			"Counters summed over every worker. No parameters");
		rte_telemetry_register_cmd("/dtcp/worker_stats", tel_worker_stats,
			"Counters of one worker. Parameter: worker id");
		rte_telemetry_register_cmd("/dtcp/workers", tel_workers,
			"Ids of the running workers. No parameters");
		rte_telemetry_register_cmd("/dtcp/offloads", tel_offloads,
			"Checksum, TSO and LRO offloads in use (1) or not (0). No parameters");
		commands_registered = true;
	}
	for (unsigned i = 0; i < MAX_WORKERS; i++) {
		if (workers[i] == NULL) {
			workers[i] = w;
			w->telemetry = true;
			rc = 0;
			break;
		}
	}
	rte_spinlock_unlock(&workers_lock);
	return rc;
}

void
dtcp_telemetry_unregister(struct dtcp_worker *w)
{
	if (!w->telemetry)
		return;
	rte_spinlock_lock(&workers_lock);
	for (unsigned i = 0; i < MAX_WORKERS; i++)
		if (workers[i] == w)
			workers[i] = NULL;
	rte_spinlock_unlock(&workers_lock);
	w->telemetry = false;
}

void
dtcp_stats_print(const uint64_t *ctr, void *file)
{
	FILE *f = file;

	for (unsigned c = 0; c < DTCP_CTR_MAX; c++)
		if (ctr[c] != 0)
			fprintf(f, "  %-24s %14llu  %s\n", ctr_info[c].name,
				(unsigned long long)ctr[c], ctr_info[c].desc);
}
