/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What every dtcp program shares: EAL arguments, then `--` and the
 * program's options; the common options (--config, --ip, --gateway, --mtu,
 * --mac, --set, --port, --duration, --stats-interval, --print-config,
 * --help); one INI file for the stack's sections and the program's own;
 * the port, its mbuf pool and one worker per queue, each polled on its own
 * lcore; SIGINT/SIGTERM; counters every --stats-interval and at exit; and
 * the mbuf leak check once the port is closed.
 *
 * A program fills a struct dtcp_app_desc and calls, in order:
 *
 *	rc = dtcp_app_init(&app, &desc, argc, argv);   (0: go on; -1: exit 0; else exit rc)
 *	dtcp_app_run(&app);                            (until a signal or --duration)
 *	return dtcp_app_finish(&app);                  (reports, frees, leak check)
 *
 * Its hooks are called in this order: set (for each key of its INI section
 * and each of its options, in the order given), check (once, after all of
 * them), worker_start (on each worker's lcore, before that worker is first
 * polled), worker_poll (on the worker's lcore after each poll, optional),
 * worker_stop (main lcore, the workers no longer polled), report (from the
 * reporter thread every --stats-interval, and once at exit on the main
 * lcore), worker_free (main lcore, once the worker is destroyed: what it
 * still held, such as data queued on connections the program had closed,
 * is freed by then), done (once, after the port is closed).
 */
#ifndef DTCP_APP_H
#define DTCP_APP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_lcore.h>

#include <dtcp/dtcp.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * One option of the program: `--name VALUE` is the same as `key = VALUE`
 * in the program's INI section (and as `--set SECTION.key=VALUE`). A flag
 * (has_arg false) gives the value "1".
 */
struct dtcp_app_option {
	const char *name;             /* command line, without the dashes */
	const char *key;              /* the INI key it sets */
	bool has_arg;
	const char *arg_name;         /* for --help: "N", "BYTES", ... */
	const char *help;             /* one line or more, without the option's name */
};

struct dtcp_app;

struct dtcp_app_desc {
	const char *name;             /* "dtcp-httpd": messages and --help */
	const char *summary;          /* --help: what the program does, lines ending in \n */
	const char *example;          /* --help: one example command line after the program name */
	const char *section;          /* the program's INI section, "httpd"; NULL: none */
	const struct dtcp_app_option *options; /* ends with a NULL name; NULL: none */
	void *ctx;                    /* given to every hook */

	/* One key of the program's section: 0, or -EINVAL with a message in err. */
	int (*set)(void *ctx, const char *key, const char *value, char *err, size_t errlen);
	/* Once all are set: the whole configuration; 0 or -EINVAL with a message. */
	int (*check)(void *ctx, const struct dtcp_config *cfg, char *err, size_t errlen);
	/* Program state of worker q (listeners, ...), on its lcore: 0 or -errno + message. */
	int (*worker_start)(void *ctx, unsigned q, struct dtcp_worker *w, char *err, size_t errlen);
	/* After each dtcp_worker_poll() of worker q, with that poll's time. */
	void (*worker_poll)(void *ctx, unsigned q, struct dtcp_worker *w, uint64_t now_ns);
	/* Close or abort what worker q still has open; its lcore has stopped. */
	void (*worker_stop)(void *ctx, unsigned q, struct dtcp_worker *w);
	/* The program's counters, summed over the workers; final at exit. */
	void (*report)(void *ctx, FILE *f, bool final);
	/* Free worker q's program state (also when worker_start failed or never
	 * ran); the worker is already destroyed, the mbuf pool not yet. */
	void (*worker_free)(void *ctx, unsigned q);
	/* Last: the port is closed and the pool counted, EAL still up. Nonzero
	 * reports a leak of the program's own (exit status 3). */
	int (*done)(void *ctx);
};

struct dtcp_app {
	const struct dtcp_app_desc *desc;
	struct dtcp_config cfg;
	uint16_t port_id;
	struct rte_mempool *pool;
	unsigned n_workers;
	struct dtcp_worker *workers[RTE_MAX_LCORE];
	struct dtcp_port *ports[RTE_MAX_LCORE];
	unsigned duration_s;          /* --duration, 0: until a signal */
	unsigned stats_interval_s;    /* --stats-interval, 0: only at exit */
	bool print_config;
	bool start_failed;            /* a worker could not be made or started */
	bool eal_up;
};

/*
 * EAL, the options, the file, the pool, the port and the workers (not yet
 * polled). Returns 0 to go on; -1 after --help (exit with 0); else the
 * exit status to end the program with: 1 when the system refuses (EAL,
 * port, memory), 2 for a bad option or file (with a message on stderr).
 */
int dtcp_app_init(struct dtcp_app *app, const struct dtcp_app_desc *desc, int argc, char **argv);

/*
 * Poll every worker on its lcore (queue 0 on the main lcore) until
 * SIGINT, SIGTERM, --duration or dtcp_app_stop(); returns then.
 */
void dtcp_app_run(struct dtcp_app *app);

/* Ask every worker to stop (async-signal-safe). */
void dtcp_app_stop(void);
/* True once a stop was asked. */
bool dtcp_app_stopping(void);

/*
 * worker_stop, held packets let go, final counters (the stack's, then
 * report), worker_free, port closed, mbufs still in use counted, done,
 * EAL cleaned up. Returns the exit status: 0, 1 when start failed, 3 on a
 * leak.
 */
int dtcp_app_finish(struct dtcp_app *app);

/* A decimal number in min..max: 0, or -EINVAL with "WHAT VALUE: not a number in min..max". */
int dtcp_app_parse_u32(const char *what, const char *value, uint32_t min, uint32_t max,
		       uint32_t *out, char *err, size_t errlen);
/* 0/1, on/off, yes/no, true/false: 0, or -EINVAL with a message. */
int dtcp_app_parse_bool(const char *what, const char *value, bool *out, char *err,
			size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
