/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dtcp-bench-cksum: bytes per cycle of the ones'-complement sum, dtcp's
 * (dtcp_wire_raw_sum, lib/wire/wire.c) against DPDK 22.11's
 * __rte_raw_cksum, on the same buffers in the same run.
 *
 * For each length (a bare header, an Ethernet MSS, a jumbo frame, a
 * loopback-sized segment) and each start offset 0 and 1, both sums run
 * over one buffer that stays in the L1/L2 cache (as a segment does between
 * its copy and its sum); the figure is the median of R rounds of N calls,
 * in TSC cycles. Each pair of results is compared: a mismatch exits 1.
 * No EAL: the program touches no DPDK state.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_ip.h>

#include "wire/wire.h"

#define PROG "dtcp-bench-cksum"
#define ROUNDS 15
#define BUF_LEN (65536 + 64)

static volatile uint32_t sink;  /* keeps the sums from being optimised away */

static uint32_t
sum_dpdk(const void *p, size_t len)
{
	return __rte_raw_cksum_reduce(__rte_raw_cksum(p, len, 0));
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median over ROUNDS of the TSC cycles per byte of calls calls of f. */
static double
cycles_per_byte(uint32_t (*f)(const void *, size_t), const uint8_t *p, size_t len,
		unsigned calls)
{
	double v[ROUNDS];

	for (unsigned r = 0; r < ROUNDS; r++) {
		uint64_t t0 = rte_rdtsc_precise();

		for (unsigned i = 0; i < calls; i++)
			sink += f(p, len);
		v[r] = (double)(rte_rdtsc_precise() - t0) / ((double)calls * (double)len);
	}
	qsort(v, ROUNDS, sizeof(v[0]), cmp_double);
	return v[ROUNDS / 2];
}

static void
usage(const char *prog)
{
	printf("Usage: %s [--bytes N]\n"
	       "\n"
	       "Bytes per TSC cycle of dtcp_wire_raw_sum and of DPDK 22.11's __rte_raw_cksum\n"
	       "for lengths 20, 1460, 8960, 65495 (and N if given) at offsets 0 and 1, the\n"
	       "median of %d rounds of about 64 MiB each. One line per case:\n"
	       "  len=L off=O dpdk_bpc=A dtcp_bpc=B speedup=B/A\n"
	       "then RESULT cksum_bpc_dpdk=... cksum_bpc_dtcp=... at 1460 and 65495 bytes.\n"
	       "Exits 1 when the two sums differ.\n", prog, ROUNDS);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "bytes", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	size_t lens[5] = { 20, 1460, 8960, 65495, 0 };
	unsigned nlens = 4;
	double res_dpdk[2] = { 0, 0 }, res_dtcp[2] = { 0, 0 };
	uint8_t *buf;
	int opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;
		unsigned long v;

		switch (opt) {
		case 'b':
			v = strtoul(optarg, &end, 10);
			if (*end != '\0' || v == 0 || v > 65536) {
				fprintf(stderr, PROG ": --bytes %s: expected 1..65536\n", optarg);
				return 2;
			}
			lens[nlens++] = v;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			return 2;
		}
	}
	buf = aligned_alloc(64, BUF_LEN);
	if (buf == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		return 1;
	}
	srand(1);
	for (size_t i = 0; i < BUF_LEN; i++)
		buf[i] = (uint8_t)rand();
	printf(PROG ": TSC cycles; the buffer stays in cache\n");
	for (unsigned l = 0; l < nlens; l++) {
		for (unsigned off = 0; off < 2; off++) {
			const uint8_t *p = buf + off;
			size_t len = lens[l];
			unsigned calls = (unsigned)RTE_MAX((size_t)1, (64u << 20) / len / ROUNDS);
			double a, b;

			if (dtcp_wire_raw_sum(p, len) != sum_dpdk(p, len)) {
				fprintf(stderr, PROG ": sums differ at len %zu off %u: %#x vs %#x\n",
					len, off, dtcp_wire_raw_sum(p, len), sum_dpdk(p, len));
				free(buf);
				return 1;
			}
			a = 1 / cycles_per_byte(sum_dpdk, p, len, calls);
			b = 1 / cycles_per_byte(dtcp_wire_raw_sum, p, len, calls);
			printf("len=%zu off=%u dpdk_bpc=%.2f dtcp_bpc=%.2f speedup=%.2f\n", len, off,
			       a, b, b / a);
			if (off == 0 && (len == 1460 || len == 65495)) {
				res_dpdk[len == 65495] = a;
				res_dtcp[len == 65495] = b;
			}
		}
	}
	printf("RESULT cksum_bpc_dpdk_1460=%.2f cksum_bpc_dtcp_1460=%.2f "
	       "cksum_bpc_dpdk_65495=%.2f cksum_bpc_dtcp_65495=%.2f\n",
	       res_dpdk[0], res_dtcp[0], res_dpdk[1], res_dtcp[1]);
	free(buf);
	return 0;
}
