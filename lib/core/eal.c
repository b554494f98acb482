/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL start-up that falls back to --no-huge when no hugepage can be had. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>

#include <dtcp/worker.h>

#include "log.h"

RTE_LOG_REGISTER_DEFAULT(dtcp_logtype, INFO);

static bool
hugepages_usable(void)
{
	char line[256];
	long free_pages = 0;
	bool mounted = false;
	FILE *f = fopen("/proc/meminfo", "r");

	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (sscanf(line, "HugePages_Free: %ld", &free_pages) == 1)
				break;
		fclose(f);
	}
	f = fopen("/proc/mounts", "r");
	if (f != NULL) {
		while (fgets(line, sizeof(line), f) != NULL)
			if (strstr(line, " hugetlbfs ") != NULL)
				mounted = true;
		fclose(f);
	}
	return free_pages > 0 && mounted;
}

static bool
has_arg(int argc, char **argv, const char *a)
{
	size_t n = strlen(a);

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return false;
		if (strncmp(argv[i], a, n) == 0)
			return true;
	}
	return false;
}

static int
eal_init(int argc, char **argv)
{
	int rc = rte_eal_init(argc, argv);

	if (rc < 0)
		return rc;
	/* rte_ip_frag reports every table it makes under USER1 at INFO. */
	if (rte_log_get_level(RTE_LOGTYPE_USER1) > (int)RTE_LOG_NOTICE)
		rte_log_set_level(RTE_LOGTYPE_USER1, RTE_LOG_NOTICE);
	/* The TSC scale, once, before any lcore converts a timestamp. */
	dtcp_tsc_to_ns(0);
	return rc;
}

int
dtcp_eal_init(int argc, char **argv)
{
	int end = argc, rc, n = 0;
	char **args;

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			end = i;
			break;
		}
	if (hugepages_usable() || has_arg(argc, argv, "--no-huge") ||
	    has_arg(argc, argv, "--socket-mem"))
		return eal_init(argc, argv);

	/*
	 * EAL arguments, then our two, then "--" and what follows.
	 * --huge-unlink means nothing without hugepages and EAL refuses it
	 * beside --no-huge, so it is left out.
	 */
	args = calloc((size_t)argc + 4, sizeof(*args));
	if (args == NULL)
		return -1;
	for (int i = 0; i < end; i++)
		if (strncmp(argv[i], "--huge-unlink", 13) != 0)
			args[n++] = argv[i];
	args[n++] = "--no-huge";
	if (!has_arg(argc, argv, "-m"))
		args[n++] = "-m", args[n++] = "1024";
	for (int i = end; i < argc; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	fprintf(stderr, "dtcp: no free hugepages: running with --no-huge\n");
	rc = eal_init(n, args);
	if (rc >= 0) {
		/* Report consumption in terms of the caller's argv. */
		rc -= n - argc;
	}
	free(args);
	return rc;
}
