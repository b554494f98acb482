/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The skeleton of a dtcp program (app.h): options, configuration file,
 * port, workers on their lcores, signals, reports and the leak check.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <rte_cfgfile.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "app.h"

enum {
	APP_OPTS_MAX = 64,            /* a program's own options */
	SECTION_ENTRIES_MAX = 64,     /* keys in one INI section */
	O_APP = 1000,                 /* getopt values of the program's options start here */
};

static volatile bool stop;

/* What each lcore is given to run. */
static struct lcore_arg {
	struct dtcp_app *app;
	unsigned q;
} lcore_args[RTE_MAX_LCORE];

void
dtcp_app_stop(void)
{
	stop = true;
}

bool
dtcp_app_stopping(void)
{
	return stop;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = true;
}

int
dtcp_app_parse_u32(const char *what, const char *value, uint32_t min, uint32_t max,
		   uint32_t *out, char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || value[0] == '-' || v < min || v > max) {
		snprintf(err, errlen, "%s %s: not a number in %u..%u", what, value, min, max);
		return -EINVAL;
	}
	*out = (uint32_t)v;
	return 0;
}

int
dtcp_app_parse_bool(const char *what, const char *value, bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "1", "on", "yes", "true" };
	static const char *const no[] = { "0", "off", "no", "false" };

	for (unsigned i = 0; i < RTE_DIM(yes); i++) {
		if (strcasecmp(value, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(value, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	snprintf(err, errlen, "%s %s: not one of 0/1, on/off, yes/no, true/false", what, value);
	return -EINVAL;
}

static void
usage(const struct dtcp_app_desc *d, const char *prog)
{
	printf("Usage: %s [EAL options] -- [options]\n\n%s\n", prog, d->summary);
	printf("  --config FILE        INI configuration: the stack's sections%s%s%s\n"
	       "  --ip A.B.C.D/N       interface address (repeat for more); overrides the file\n"
	       "  --gateway A.B.C.D    default gateway\n"
	       "  --mtu N              IP MTU\n"
	       "  --mac XX:XX:..       MAC address to use instead of the port's\n"
	       "  --set SEC.KEY=VALUE  any configuration key, e.g. --set arp.entries=4096\n"
	       "  --port N             ethdev port id (default: the first)\n"
	       "  --duration SEC       stop after SEC seconds (default: run until SIGINT/SIGTERM)\n"
	       "  --stats-interval SEC print counters every SEC seconds (default: only at exit)\n"
	       "  --print-config       print the stack's configuration in force and go on\n"
	       "  --help               this text\n",
	       d->section != NULL ? " and [" : "", d->section != NULL ? d->section : "",
	       d->section != NULL ? "]" : "");
	if (d->options != NULL && d->options[0].name != NULL) {
		printf("\n%s (also as keys of [%s]):\n", d->name, d->section ? d->section : "?");
		for (const struct dtcp_app_option *o = d->options; o->name != NULL; o++) {
			char left[64];

			snprintf(left, sizeof(left), "--%s%s%s", o->name, o->has_arg ? " " : "",
				 o->has_arg ? o->arg_name : "");
			printf("  %-20s %s\n", left, o->help);
			printf("  %-20s [%s] %s\n", "", d->section, o->key);
		}
	}
	if (d->example != NULL)
		printf("\nExample: %s %s\n", prog, d->example);
}

/* One key of any section: the program's own, or the stack's. */
static int
set_key(struct dtcp_app *app, const char *section, const char *key, const char *value,
	char *err, size_t errlen)
{
	const struct dtcp_app_desc *d = app->desc;

	if (d->section != NULL && strcasecmp(section, d->section) == 0) {
		if (d->set == NULL) {
			snprintf(err, errlen, "[%s] takes no keys", section);
			return -EINVAL;
		}
		return d->set(d->ctx, key, value, err, errlen);
	}
	return dtcp_config_set(&app->cfg, section, key, value, err, errlen);
}

/*
 * The file with rte_cfgfile, every section by index (one given twice is
 * read twice): the program's section to its set hook, the others to the
 * stack, where an unknown section or key is an error.
 */
static int
load_file(struct dtcp_app *app, const char *path, char *err, size_t errlen)
{
	struct rte_cfgfile *f = rte_cfgfile_load(path, 0);
	int nsec, rc = 0;

	if (f == NULL) {
		snprintf(err, errlen, "%s: cannot read or parse", path);
		return -EINVAL;
	}
	nsec = rte_cfgfile_num_sections(f, NULL, 0);
	for (int s = 0; s < nsec && rc == 0; s++) {
		struct rte_cfgfile_entry entries[SECTION_ENTRIES_MAX];
		char section[CFG_NAME_LEN];
		int n = rte_cfgfile_section_num_entries_by_index(f, section, s);

		if (n < 0 || n > SECTION_ENTRIES_MAX) {
			snprintf(err, errlen, "%s: section %d: %s", path, s,
				 n < 0 ? "unreadable" : "more than 64 entries");
			rc = -EINVAL;
			break;
		}
		rte_cfgfile_section_entries_by_index(f, s, section, entries, n);
		for (int e = 0; e < n && rc == 0; e++) {
			char msg[192];

			rc = set_key(app, section, entries[e].name, entries[e].value, msg,
				     sizeof(msg));
			if (rc != 0)
				snprintf(err, errlen, "%.255s: %s", path, msg);
		}
	}
	rte_cfgfile_close(f);
	return rc;
}

static int
parse_seconds(const char *what, const char *arg, unsigned *out, char *err, size_t errlen)
{
	uint32_t v;

	/* Bounded to a year: the reporter counts tenths of seconds. */
	if (dtcp_app_parse_u32(what, arg, 0, 31536000, &v, err, errlen) != 0)
		return -EINVAL;
	*out = v;
	return 0;
}

/* 0, 2 after a message, or -1 after --help (exit 0). */
static int
parse_args(struct dtcp_app *app, int argc, char **argv)
{
	enum { O_CONFIG = 256, O_IP, O_GW, O_MTU, O_MAC, O_SET, O_PORT, O_DURATION,
	       O_STATS, O_PRINT, O_HELP };
	static const struct option common[] = {
		{ "config", required_argument, NULL, O_CONFIG },
		{ "ip", required_argument, NULL, O_IP },
		{ "gateway", required_argument, NULL, O_GW },
		{ "mtu", required_argument, NULL, O_MTU },
		{ "mac", required_argument, NULL, O_MAC },
		{ "set", required_argument, NULL, O_SET },
		{ "port", required_argument, NULL, O_PORT },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "stats-interval", required_argument, NULL, O_STATS },
		{ "print-config", no_argument, NULL, O_PRINT },
		{ "help", no_argument, NULL, O_HELP },
	};
	const struct dtcp_app_desc *d = app->desc;
	struct option longopts[RTE_DIM(common) + APP_OPTS_MAX + 1];
	unsigned n = 0, n_app = 0;
	char err[512];
	int opt, rc = 0;

	memcpy(longopts, common, sizeof(common));
	n = RTE_DIM(common);
	for (const struct dtcp_app_option *o = d->options; o != NULL && o->name != NULL; o++) {
		if (n_app == APP_OPTS_MAX) {
			fprintf(stderr, "%s: more than %u options\n", d->name, APP_OPTS_MAX);
			return 2;
		}
		longopts[n++] = (struct option){ o->name, o->has_arg ? required_argument : no_argument,
						 NULL, O_APP + (int)n_app++ };
	}
	longopts[n] = (struct option){ NULL, 0, NULL, 0 };

	/* The file first, whatever its place: the other options override it. */
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (opt == O_CONFIG && load_file(app, optarg, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", d->name, err);
			return 2;
		}
		if (opt == O_HELP) {
			usage(d, argv[0]);
			return -1;
		}
		if (opt == '?')
			return 2;
	}
	/* The first address on the command line replaces the file's list. */
	app->cfg.addrs_given = false;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *eq, *dot, *end;
		long v;

		err[0] = '\0';
		switch (opt) {
		case O_IP:
			rc = dtcp_config_set(&app->cfg, "ip", "address", optarg, err, sizeof(err));
			break;
		case O_GW:
			rc = dtcp_config_set(&app->cfg, "ip", "gateway", optarg, err, sizeof(err));
			break;
		case O_MTU:
			rc = dtcp_config_set(&app->cfg, "port", "mtu", optarg, err, sizeof(err));
			break;
		case O_MAC:
			rc = dtcp_config_set(&app->cfg, "port", "mac", optarg, err, sizeof(err));
			break;
		case O_SET:
			dot = strchr(optarg, '.');
			eq = strchr(optarg, '=');
			if (dot == NULL || eq == NULL || dot > eq) {
				snprintf(err, sizeof(err), "--set %s: expected SECTION.KEY=VALUE", optarg);
				rc = -1;
				break;
			}
			*dot = '\0';
			*eq = '\0';
			rc = set_key(app, optarg, dot + 1, eq + 1, err, sizeof(err));
			break;
		case O_PORT:
			v = strtol(optarg, &end, 10);
			if (*end != '\0' || end == optarg || v < 0 || v >= RTE_MAX_ETHPORTS) {
				snprintf(err, sizeof(err), "--port %s: not a port id", optarg);
				rc = -1;
			} else {
				app->port_id = (uint16_t)v;
			}
			break;
		case O_DURATION:
			rc = parse_seconds("--duration", optarg, &app->duration_s, err, sizeof(err));
			break;
		case O_STATS:
			rc = parse_seconds("--stats-interval", optarg, &app->stats_interval_s, err,
					   sizeof(err));
			break;
		case O_PRINT:
			app->print_config = true;
			break;
		default:
			if (opt >= O_APP && opt < O_APP + (int)n_app) {
				const struct dtcp_app_option *o = &d->options[opt - O_APP];

				rc = d->set(d->ctx, o->key, o->has_arg ? optarg : "1", err,
					    sizeof(err));
			}
			break;
		}
		if (rc != 0) {
			fprintf(stderr, "%s: %s\n", d->name, err);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n", d->name, argv[optind]);
		return 2;
	}
	if (dtcp_config_validate(&app->cfg, err, sizeof(err)) != 0 ||
	    (d->check != NULL && d->check(d->ctx, &app->cfg, err, sizeof(err)) != 0)) {
		fprintf(stderr, "%s: %s\n", d->name, err);
		return 2;
	}
	return 0;
}

/* The port, its pool, the workers; 0 or 1 after a message. */
static int
setup_port(struct dtcp_app *app)
{
	const char *name = app->desc->name;
	uint16_t want = app->port_id, pid;
	char err[256];

	app->port_id = UINT16_MAX;
	RTE_ETH_FOREACH_DEV(pid) {
		if (want == UINT16_MAX || pid == want) {
			app->port_id = pid;
			break;
		}
	}
	if (app->port_id == UINT16_MAX) {
		fprintf(stderr, "%s: no DPDK port%s (give one with --vdev or a PCI address)\n",
			name, want == UINT16_MAX ? "" : " with that id");
		return 1;
	}
	if (app->cfg.queues > rte_lcore_count()) {
		fprintf(stderr, "%s: %u queues need %u lcores, EAL gave %u (-l)\n", name,
			app->cfg.queues, app->cfg.queues, rte_lcore_count());
		return 1;
	}
	/* One frame of the MTU, Ethernet and VLAN headers and CRC in one mbuf. */
	app->pool = rte_pktmbuf_pool_create("dtcp_pool", app->cfg.mbufs, app->cfg.mbuf_cache, 0,
					    RTE_MAX(RTE_MBUF_DEFAULT_BUF_SIZE,
						    RTE_PKTMBUF_HEADROOM + app->cfg.mtu + 26),
					    rte_eth_dev_socket_id(app->port_id));
	if (app->pool == NULL) {
		fprintf(stderr, "%s: mbuf pool of %u: %s\n", name, app->cfg.mbufs,
			rte_strerror(rte_errno));
		return 1;
	}
	if (dtcp_ethdev_configure(app->port_id, &app->cfg, app->pool, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", name, err);
		return 1;
	}
	for (unsigned q = 0; q < app->cfg.queues; q++) {
		struct dtcp_port *p = dtcp_ethdev_port(app->port_id, (uint16_t)q, app->pool);
		struct dtcp_worker *w;

		w = p ? dtcp_worker_create(&app->cfg, p, q, dtcp_tsc_to_ns(rte_rdtsc()), err,
					   sizeof(err)) : NULL;
		if (w == NULL) {
			fprintf(stderr, "%s: worker %u: %s\n", name, q, p ? err : "out of memory");
			dtcp_port_destroy(p);
			app->start_failed = true;
			return 1;
		}
		dtcp_telemetry_register(w);
		app->workers[q] = w;
		app->ports[q] = p;
		app->n_workers++;
	}
	return 0;
}

int
dtcp_app_init(struct dtcp_app *app, const struct dtcp_app_desc *desc, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int rc;

	memset(app, 0, sizeof(*app));
	app->desc = desc;
	app->port_id = UINT16_MAX;
	rc = dtcp_eal_init(argc, argv);
	if (rc < 0) {
		fprintf(stderr, "%s: EAL init failed: %s\n", desc->name, rte_strerror(rte_errno));
		return 1;
	}
	app->eal_up = true;
	argc -= rc;
	argv += rc;
	dtcp_config_defaults(&app->cfg);
	rc = parse_args(app, argc, argv);
	if (rc != 0) {
		rte_eal_cleanup();
		app->eal_up = false;
		return rc;
	}
	if (app->print_config)
		dtcp_config_dump(&app->cfg, stdout);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = setup_port(app);
	if (rc != 0) {
		dtcp_app_finish(app);
		return rc;
	}
	{
		struct rte_ether_addr mac;
		struct rte_eth_dev_info info;
		char buf[RTE_ETHER_ADDR_FMT_SIZE];

		rte_eth_macaddr_get(app->port_id, &mac);
		rte_ether_format_addr(buf, sizeof(buf), app->cfg.mac_set ? &app->cfg.mac : &mac);
		rte_eth_dev_info_get(app->port_id, &info);
		printf("%s: port %u (%s) MAC %s, %u worker(s), %u address(es), MTU %u\n",
		       desc->name, app->port_id, info.driver_name, buf, app->n_workers,
		       app->cfg.n_addrs, app->cfg.mtu);
		fflush(stdout);
	}
	return 0;
}

static int
lcore_main(void *arg)
{
	const struct lcore_arg *la = arg;
	struct dtcp_app *app = la->app;
	const struct dtcp_app_desc *d = app->desc;
	struct dtcp_worker *w = app->workers[la->q];
	char err[256];

	if (d->worker_start != NULL && d->worker_start(d->ctx, la->q, w, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: worker %u: %s\n", d->name, la->q, err);
		app->start_failed = true;
		stop = true;
		return -1;
	}
	if (d->worker_poll == NULL) {
		dtcp_worker_run(w, &stop);
		return 0;
	}
	while (!stop) {
		uint64_t now = dtcp_tsc_to_ns(rte_rdtsc());

		dtcp_worker_poll(w, now);
		d->worker_poll(d->ctx, la->q, w, now);
	}
	return 0;
}

static void
print_stack_counters(const char *name, FILE *f, bool final)
{
	uint64_t ctr[DTCP_CTR_MAX], drops = 0, ends = 0;

	dtcp_stats_sum(ctr);
	dtcp_stats_print(ctr, f);
	if (!final)
		return;
	for (unsigned c = 0; c < DTCP_CTR_MAX; c++) {
		if (dtcp_ctr_kind(c) == DTCP_CTR_KIND_DROP)
			drops += ctr[c];
		else if (dtcp_ctr_kind(c) == DTCP_CTR_KIND_END)
			ends += ctr[c];
	}
	fprintf(f, "%s: frames received %llu = dropped %llu + handled %llu%s\n", name,
		(unsigned long long)ctr[DTCP_CTR_rx_frames], (unsigned long long)drops,
		(unsigned long long)ends,
		ctr[DTCP_CTR_rx_frames] == drops + ends ? "" : "  (MISMATCH)");
}

/* Reporter: periodic counters and the --duration deadline, off the data path. */
static void *
reporter(void *arg)
{
	struct dtcp_app *app = arg;
	const struct dtcp_app_desc *d = app->desc;
	uint64_t tenths = 0;

	while (!stop) {
		usleep(100000);
		tenths++;
		if (app->stats_interval_s != 0 && tenths % (app->stats_interval_s * 10ull) == 0) {
			printf("%s: counters at %llus\n", d->name, (unsigned long long)(tenths / 10));
			print_stack_counters(d->name, stdout, false);
			if (d->report != NULL)
				d->report(d->ctx, stdout, false);
			fflush(stdout);
		}
		if (app->duration_s != 0 && tenths >= app->duration_s * 10ull)
			stop = true;
	}
	return NULL;
}

void
dtcp_app_run(struct dtcp_app *app)
{
	pthread_t rep;
	unsigned lcore, q;
	bool rep_started;

	for (q = 0; q < app->n_workers; q++) {
		lcore_args[q] = (struct lcore_arg){ app, q };
		dtcp_worker_announce(app->workers[q]);
	}
	rep_started = pthread_create(&rep, NULL, reporter, app) == 0;
	/* Queue 0 on the main lcore, the others on the worker lcores in order. */
	q = 1;
	RTE_LCORE_FOREACH_WORKER(lcore) {
		if (q >= app->n_workers)
			break;
		rte_eal_remote_launch(lcore_main, &lcore_args[q++], lcore);
	}
	if (app->n_workers > 0)
		lcore_main(&lcore_args[0]);
	rte_eal_mp_wait_lcore();
	stop = true;
	if (rep_started)
		pthread_join(rep, NULL);
}

int
dtcp_app_finish(struct dtcp_app *app)
{
	const struct dtcp_app_desc *d = app->desc;
	unsigned q, in_use_end = 0;
	bool leak = false;

	if (!app->eal_up)
		return 1;
	/* The lcores have stopped: the program closes what is open. */
	for (q = 0; q < app->n_workers; q++)
		if (d->worker_stop != NULL)
			d->worker_stop(d->ctx, q, app->workers[q]);
	for (q = 0; q < app->n_workers; q++)
		dtcp_worker_release_held(app->workers[q]);
	if (app->n_workers > 0) {
		printf("%s: final counters\n", d->name);
		print_stack_counters(d->name, stdout, true);
		if (d->report != NULL)
			d->report(d->ctx, stdout, true);
	}
	for (q = 0; q < app->n_workers; q++) {
		dtcp_worker_destroy(app->workers[q]);
		dtcp_port_destroy(app->ports[q]);
		if (d->worker_free != NULL)
			d->worker_free(d->ctx, q);
	}
	app->n_workers = 0;
	if (app->port_id != UINT16_MAX) {
		/* Closed, the port gives back its rings' mbufs: every one must be home. */
		rte_eth_dev_stop(app->port_id);
		rte_eth_dev_close(app->port_id);
	}
	if (app->pool != NULL) {
		in_use_end = rte_mempool_in_use_count(app->pool);
		printf("%s: mbufs in use after the port closed: %u%s\n", d->name, in_use_end,
		       in_use_end != 0 ? "  (LEAK)" : "");
		rte_mempool_free(app->pool);
		app->pool = NULL;
	}
	if (d->done != NULL && d->done(d->ctx) != 0)
		leak = true;
	fflush(stdout);
	rte_eal_cleanup();
	app->eal_up = false;
	if (app->start_failed)
		return 1;
	return in_use_end != 0 || leak ? 3 : 0;
}
