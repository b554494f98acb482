/* SPDX-License-Identifier: BSD-3-Clause */
/* Argument handling the benchmark programs share. */
#ifndef DTCP_BENCH_ARGS_H
#define DTCP_BENCH_ARGS_H

#include <stdbool.h>
#include <string.h>

/*
 * --help after "--": answered before EAL starts, so it needs no device,
 * no memory and no lcores.
 */
static inline bool
bench_wants_help(int argc, char **argv)
{
	bool after_dashes = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			after_dashes = true;
		else if (after_dashes && strcmp(argv[i], "--help") == 0)
			return true;
	}
	return false;
}

#endif
