/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The byte stream both goodput benchmarks send: byte i of the stream is
 * pattern_byte(i mod PATTERN_PERIOD). The receivers compare what arrives
 * with it, so that a lost, repeated or misplaced byte is seen (a shift by a
 * whole multiple of the period excepted, which the byte count catches).
 *
 * The period is a prime above any mbuf segment or chunk length (64 KiB), so
 * that a piece never wraps twice and no power of two or MSS lines up with
 * it; the buffer holds one period and one chunk more, so that any piece of
 * up to PATTERN_CHUNK bytes is one contiguous memcmp or memcpy.
 */
#ifndef DTCP_BENCH_PATTERN_H
#define DTCP_BENCH_PATTERN_H

#include <stdint.h>

#define PATTERN_PERIOD 65537u
#define PATTERN_CHUNK 65536u
#define PATTERN_BUF_LEN (PATTERN_PERIOD + PATTERN_CHUNK)

static inline uint8_t
pattern_byte(uint32_t i)
{
	/* A multiplicative hash: neighbours and near periods differ. */
	return (uint8_t)((i * 2654435761u) >> 24);
}

/* Fill buf[PATTERN_BUF_LEN]. */
static inline void
pattern_fill(uint8_t *buf)
{
	for (uint32_t i = 0; i < PATTERN_BUF_LEN; i++)
		buf[i] = pattern_byte(i % PATTERN_PERIOD);
}

/* The stream position pos (mod the period) moved on by n <= PATTERN_CHUNK bytes. */
static inline uint32_t
pattern_advance(uint32_t pos, uint32_t n)
{
	pos += n;
	return pos >= PATTERN_PERIOD ? pos - PATTERN_PERIOD : pos;
}

#endif
