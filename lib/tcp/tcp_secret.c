/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Keyed functions of the 4-tuple: initial sequence numbers (RFC 6528),
 * timestamp offsets (RFC 7323 §5.4) and SYN cookies from one PRF,
 * SipHash-2-4 (siphash.h; libsodium draws the secret), each use told apart
 * by a domain byte; and the flow table's hash. The key is random per
 * process.
 *
 * The flow hash runs for every segment received, so it is not the PRF:
 * it is DPDK's jhash over the three words of the 4-tuple with a 32-bit
 * seed drawn from the secret, as Linux hashes its established table. A
 * peer that cannot learn the seed cannot aim its 4-tuples at one bucket;
 * if it could, the table's extendable buckets still bound each lookup's
 * cost by the chain, never the table's correctness. An ISN or SYN cookie,
 * which a peer sees, needs the PRF; a bucket index, which it never sees,
 * needs only to be unpredictable (measured: SipHash was 13 % of the
 * client's time at 200 k connections/s, run six times per connection).
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>

#include <rte_jhash.h>
#include <sodium.h>

#include "siphash.h"
#include "tcp_priv.h"

enum domain { D_FLOW = 1, D_ISN, D_COOKIE };

static uint8_t process_secret[16];
static pthread_once_t secret_once = PTHREAD_ONCE_INIT;

static void
secret_make(void)
{
	/* sodium_init fails only without an entropy source; randombytes then aborts. */
	if (sodium_init() < 0)
		rte_panic("libsodium: no entropy source for the TCP secret\n");
	randombytes_buf(process_secret, sizeof(process_secret));
}

static uint64_t prf(const struct dtcp_worker *w, enum domain d, const struct dtcp_flow_key *k,
		    uint32_t a, uint32_t b);

/* The values derived from the secret follow it. */
static void
secret_changed(struct dtcp_worker *w)
{
	const struct dtcp_flow_key none = { 0 };

	w->tcp->prf_memo_ok = false;
	w->tcp->flow_seed = (uint32_t)prf(w, D_FLOW, &none, 0, 0);
}

void
tcp_secret_init(struct dtcp_worker *w)
{
	pthread_once(&secret_once, secret_make);
	memcpy(w->tcp->secret, process_secret, sizeof(process_secret));
	secret_changed(w);
}

int
dtcp_tcp_set_secret(struct dtcp_worker *w, const uint8_t key[16])
{
	if (w->tcp->n_tcbs > 0 || w->tcp->n_tw > 0)
		return -EBUSY;
	memcpy(w->tcp->secret, key, 16);
	w->tcp->secret_fixed = true;
	secret_changed(w);
	return 0;
}

/*
 * The PRF over (domain, 4-tuple, two words of context). Without context
 * (a and b 0: the ISN, the flow seed) the input stops after the 4-tuple:
 * 13 bytes are two SipHash blocks where 21 are three, a third less work
 * on every connection; the domain byte keeps the two forms apart.
 */
static uint64_t
prf(const struct dtcp_worker *w, enum domain d, const struct dtcp_flow_key *k,
    uint32_t a, uint32_t b)
{
	struct __rte_packed {
		uint8_t domain;
		uint32_t laddr, raddr;
		uint16_t lport, rport;
		uint32_t a, b;
	} in;
	uint64_t out;

	in.domain = (uint8_t)d;
	in.laddr = k->laddr;
	in.raddr = k->raddr;
	in.lport = k->lport;
	in.rport = k->rport;
	in.a = a;
	in.b = b;
	out = dtcp_siphash24(w->tcp->secret, &in,
			     a == 0 && b == 0 ? offsetof(__typeof__(in), a) : sizeof(in));
	return out;
}

uint32_t
tcp_flow_hash(const struct dtcp_worker *w, const struct dtcp_flow_key *k)
{
	return rte_jhash_3words(k->laddr, k->raddr, (uint32_t)k->lport << 16 | k->rport,
				w->tcp->flow_seed);
}

static bool
key_eq(const struct dtcp_flow_key *a, const struct dtcp_flow_key *b)
{
	return a->laddr == b->laddr && a->raddr == b->raddr && a->lport == b->lport &&
	       a->rport == b->rport;
}

/*
 * F(4-tuple, secret) for a new connection: its low half makes the ISN,
 * its high half the timestamp offset. One PRF run for both, kept for the
 * tcp_ts_offset() call that follows tcp_isn() for the same 4-tuple.
 */
static uint64_t
conn_prf(const struct dtcp_worker *w, const struct dtcp_flow_key *k)
{
	struct dtcp_tcp *t = w->tcp;

	if (t->prf_memo_ok && key_eq(&t->prf_memo_key, k))
		return t->prf_memo;
	t->prf_memo = prf(w, D_ISN, k, 0, 0);
	t->prf_memo_key = *k;
	t->prf_memo_ok = true;
	return t->prf_memo;
}

/* RFC 6528 §3: ISN = M + F(4-tuple, secret), M a clock ticking every 4 µs. */
uint32_t
tcp_isn(struct dtcp_worker *w, const struct dtcp_flow_key *k)
{
	struct dtcp_tcp *t = w->tcp;

	if (t->isn_fn != NULL)
		return t->isn_fn(t->isn_ctx, k->laddr, k->lport, k->raddr, k->rport);
	return (uint32_t)(w->now_ns / 4000) + (uint32_t)conn_prf(w, k);
}

void
dtcp_tcp_set_isn_source(struct dtcp_worker *w, dtcp_isn_fn fn, void *ctx)
{
	w->tcp->isn_fn = fn;
	w->tcp->isn_ctx = ctx;
}

/* RFC 7323 §5.4: a per-connection offset so TSval reveals no clock. */
uint32_t
tcp_ts_offset(const struct dtcp_worker *w, const struct dtcp_flow_key *k)
{
	return (uint32_t)(conn_prf(w, k) >> 32);
}

/*
 * SYN cookies. The ISS we answer with is
 *   bits 31..30  the 64-second period it was made in, modulo 4
 *   bits 29..27  an index into mss_table
 *   bits 26..0   PRF(4-tuple, peer's ISS, full period, MSS index, option bits)
 * The option bits (window scale, SACK) travel in the low bits of our
 * TSval when the SYN had timestamps and come back in TSecr; they are
 * covered by the PRF, so they cannot be forged either. A cookie is good
 * for the period it was made in and the one after.
 */
static const uint16_t mss_table[8] = { 536, 1200, 1300, 1360, 1400, 1440, 1460, 8960 };
#define PERIOD_SHIFT 6          /* 64 s */

static uint32_t
period(const struct dtcp_worker *w)
{
	return (uint32_t)((w->now_ns / 1000000000) >> PERIOD_SHIFT);
}

static uint32_t
cookie_hash(const struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t irs,
	    uint32_t per, unsigned idx, uint8_t optbits)
{
	return (uint32_t)prf(w, D_COOKIE, k, irs, per << 11 | idx << 8 | optbits) & 0x07ffffff;
}

uint32_t
tcp_cookie_make(const struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t irs,
		uint16_t mss, uint8_t optbits, uint16_t *mss_out)
{
	uint32_t per = period(w);
	unsigned idx = 0;

	for (unsigned i = 0; i < RTE_DIM(mss_table); i++)
		if (mss_table[i] <= mss)
			idx = i;
	*mss_out = mss_table[idx];
	return (per & 3) << 30 | idx << 27 | cookie_hash(w, k, irs, per, idx, optbits);
}

bool
tcp_cookie_check(const struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t irs,
		 uint32_t cookie, uint8_t optbits, uint16_t *mss_out)
{
	uint32_t now = period(w);
	unsigned idx = (cookie >> 27) & 7;

	for (uint32_t age = 0; age <= 1; age++) {
		uint32_t per = now - age;

		if ((per & 3) == cookie >> 30 &&
		    cookie_hash(w, k, irs, per, idx, optbits) == (cookie & 0x07ffffff)) {
			*mss_out = mss_table[idx];
			return true;
		}
	}
	return false;
}
