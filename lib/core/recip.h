/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Division by a divisor fixed at start-up (the timer tick) as a multiply:
 * a 64-bit divide costs 40 to 90 cycles and timers are armed several times
 * per connection. With inv = ceil(2^64 / d) = 2^64 / d + e, 0 <= e < 1,
 * the product's high half is floor(x / d + x * e / 2^64), and x * e / 2^64
 * < 1 for every 64-bit x: the quotient or one more. One compare puts it
 * right.
 */
#ifndef DTCP_RECIP_H
#define DTCP_RECIP_H

#include <stdint.h>

/* inv for a divisor d >= 2. */
static inline uint64_t
dtcp_recip(uint64_t d)
{
	return UINT64_MAX / d + 1;
}

/* x / d, given inv = dtcp_recip(d); exact for every x < 2^64 - d. */
static inline uint64_t
dtcp_recip_div(uint64_t x, uint64_t d, uint64_t inv)
{
	uint64_t q = (uint64_t)(((unsigned __int128)x * inv) >> 64);

	if (q * d > x)
		q--;
	return q;
}

#endif
