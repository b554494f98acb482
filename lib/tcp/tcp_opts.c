/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * TCP options (RFC 9293 §3.2, RFC 7323, RFC 2018). Any length, alignment
 * and unknown kind is walked safely: an unknown kind is skipped by its
 * length; a length below 2, one running past the header, or a known kind
 * with the wrong length makes the whole segment malformed (counted and
 * dropped by the caller). Options are read wherever they appear; which
 * ones count (MSS, window scale, SACK-permitted only on a SYN) is the
 * caller's business.
 */
#include <string.h>

#include "tcp_priv.h"

enum {
	OPT_EOL = 0,
	OPT_NOP = 1,
	OPT_MSS = 2,
	OPT_WS = 3,
	OPT_SACK_OK = 4,
	OPT_SACK = 5,
	OPT_TS = 8,
};

static uint32_t
get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

bool
tcp_opts_parse(const uint8_t *p, unsigned len, struct dtcp_tcp_opts *o)
{
	unsigned i = 0;

	/*
	 * Every segment of a connection with timestamps carries exactly
	 * NOP, NOP, TS (RFC 7323 Appendix A's layout, which Linux and we
	 * send): read it without the walk. Any other layout is walked.
	 */
	if (len == 12 && p[0] == OPT_NOP && p[1] == OPT_NOP && p[2] == OPT_TS && p[3] == 10) {
		o->mss_ok = false;
		o->ws_ok = false;
		o->sack_ok = false;
		o->ts_ok = true;
		o->mss = 0;
		o->ws = 0;
		o->n_sack = 0;
		o->tsval = get32(p + 4);
		o->tsecr = get32(p + 8);
		return true;
	}
	/* A SYN as Linux and we send it: MSS, SACK-permitted, TS, NOP, WS. */
	if (len == 20 && p[0] == OPT_MSS && p[1] == 4 && p[4] == OPT_SACK_OK && p[5] == 2 &&
	    p[6] == OPT_TS && p[7] == 10 && p[16] == OPT_NOP && p[17] == OPT_WS && p[18] == 3) {
		o->mss_ok = true;
		o->mss = (uint16_t)(p[2] << 8 | p[3]);
		o->sack_ok = true;
		o->ts_ok = true;
		o->tsval = get32(p + 8);
		o->tsecr = get32(p + 12);
		o->ws_ok = true;
		o->ws = p[19];
		o->n_sack = 0;
		return true;
	}
	memset(o, 0, sizeof(*o));
	while (i < len) {
		uint8_t kind = p[i], olen;

		if (kind == OPT_EOL)
			break;
		if (kind == OPT_NOP) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return false;
		olen = p[i + 1];
		if (olen < 2 || i + olen > len)
			return false;
		switch (kind) {
		case OPT_MSS:
			if (olen != 4)
				return false;
			o->mss_ok = true;
			o->mss = (uint16_t)(p[i + 2] << 8 | p[i + 3]);
			break;
		case OPT_WS:
			if (olen != 3)
				return false;
			o->ws_ok = true;
			o->ws = p[i + 2];
			break;
		case OPT_SACK_OK:
			if (olen != 2)
				return false;
			o->sack_ok = true;
			break;
		case OPT_SACK:
			if (olen < 10 || (olen - 2) % 8 != 0)
				return false;
			o->n_sack = 0;
			for (unsigned b = 0; b < (olen - 2u) / 8 && b < 4; b++) {
				o->sack[b][0] = get32(p + i + 2 + 8 * b);
				o->sack[b][1] = get32(p + i + 6 + 8 * b);
				o->n_sack++;
			}
			break;
		case OPT_TS:
			if (olen != 10)
				return false;
			o->ts_ok = true;
			o->tsval = get32(p + i + 2);
			o->tsecr = get32(p + i + 6);
			break;
		default:
			break;
		}
		i += olen;
	}
	return true;
}
