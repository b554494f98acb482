/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826) for one worker: a bounded cache in an rte_hash, entries
 * from a fixed array, each with one timer (retry while incomplete, expiry
 * once resolved) and a bounded queue of packets waiting on resolution.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_malloc.h>

#include "net.h"

enum arp_state {
	ARP_FREE,
	ARP_INCOMPLETE,
	ARP_REACHABLE,
};

struct arp_entry {
	struct dtcp_timer timer;      /* kind DTCP_TIMER_ARP */
	uint32_t ip;
	struct rte_ether_addr mac;
	uint8_t state;
	uint8_t tries;                /* requests sent while incomplete */
	uint8_t n_pending;
	uint32_t next_free;
	struct rte_mbuf *pending[DTCP_ARP_PENDING_MAX];
};

#define ARP_RECENT 16          /* a power of 2 */

struct dtcp_arp {
	struct rte_hash *h;           /* ip -> struct arp_entry * */
	struct arp_entry *entries;
	uint32_t capacity;
	uint32_t free_head;           /* singly linked through next_free */
	uint32_t n_pending;           /* packets queued on every entry */
	/* The entries frames went out by lately, by the next hop's low bits:
	 * a host sends most frames to a few next hops (its gateway, or peers
	 * on the link), and a hit here costs two compares instead of a table
	 * lookup. Entries stay in the array when released, so a pointer is
	 * always safe to read; its ip and state tell whether it still holds. */
	struct arp_entry *recent[ARP_RECENT];
};

#define ARP_NONE UINT32_MAX

static struct arp_entry *
timer_entry(struct dtcp_timer *t)
{
	return container_of(t, struct arp_entry, timer);
}

int
dtcp_arp_create(struct dtcp_worker *w, char *err, size_t errlen)
{
	static uint32_t seq;          /* rte_hash names are process-wide */
	struct rte_hash_parameters hp;
	struct dtcp_arp *a;
	char name[RTE_HASH_NAMESIZE];
	uint32_t i, n = w->cfg.arp_entries;

	a = rte_zmalloc("dtcp_arp", sizeof(*a), RTE_CACHE_LINE_SIZE);
	if (a == NULL)
		goto nomem;
	a->entries = rte_zmalloc("dtcp_arp_entries", sizeof(*a->entries) * n,
				 RTE_CACHE_LINE_SIZE);
	if (a->entries == NULL)
		goto nomem;
	snprintf(name, sizeof(name), "dtcp_arp%u_%u", w->id,
		 __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	memset(&hp, 0, sizeof(hp));
	hp.name = name;
	/* The extendable table makes the capacity exact: full means full. */
	hp.entries = n < 8 ? 8 : n;
	hp.key_len = sizeof(uint32_t);
	hp.socket_id = (int)rte_socket_id();
	hp.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE;
	a->h = rte_hash_create(&hp);
	if (a->h == NULL)
		goto nomem;
	a->capacity = n;
	for (i = 0; i < n; i++) {
		dtcp_timer_init(&a->entries[i].timer, DTCP_TIMER_ARP);
		a->entries[i].next_free = i + 1 < n ? i + 1 : ARP_NONE;
	}
	a->free_head = n ? 0 : ARP_NONE;
	w->arp = a;
	return 0;
nomem:
	if (a != NULL) {
		rte_free(a->entries);
		rte_free(a);
	}
	snprintf(err, errlen, "ARP cache of %u entries: out of memory", n);
	return -ENOMEM;
}

static void
entry_release(struct dtcp_worker *w, struct arp_entry *e, enum dtcp_ctr pending_reason)
{
	struct dtcp_arp *a = w->arp;

	for (unsigned i = 0; i < e->n_pending; i++)
		dtcp_tx_drop(w, e->pending[i], pending_reason);
	a->n_pending -= e->n_pending;
	e->n_pending = 0;
	dtcp_wheel_cancel(&w->wheel, &e->timer);
	rte_hash_del_key(a->h, &e->ip);
	e->state = ARP_FREE;
	e->next_free = a->free_head;
	a->free_head = (uint32_t)(e - a->entries);
}

void
dtcp_arp_flush(struct dtcp_worker *w)
{
	struct dtcp_arp *a = w->arp;

	for (uint32_t i = 0; a != NULL && i < a->capacity; i++)
		if (a->entries[i].state != ARP_FREE)
			entry_release(w, &a->entries[i], DTCP_CTR_arp_resolve_timeout);
}

void
dtcp_arp_destroy(struct dtcp_worker *w)
{
	struct dtcp_arp *a = w->arp;

	if (a == NULL)
		return;
	dtcp_arp_flush(w);
	rte_hash_free(a->h);
	rte_free(a->entries);
	rte_free(a);
	w->arp = NULL;
}

static struct arp_entry *
entry_find(struct dtcp_worker *w, uint32_t ip)
{
	void *data;

	if (rte_hash_lookup_data(w->arp->h, &ip, &data) < 0)
		return NULL;
	return data;
}

static struct arp_entry *
entry_new(struct dtcp_worker *w, uint32_t ip)
{
	struct dtcp_arp *a = w->arp;
	struct arp_entry *e;

	if (a->free_head == ARP_NONE)
		return NULL;
	e = &a->entries[a->free_head];
	if (rte_hash_add_key_data(a->h, &ip, e) < 0)
		return NULL;
	a->free_head = e->next_free;
	e->ip = ip;
	e->tries = 0;
	e->n_pending = 0;
	return e;
}

/* Build and queue one ARP packet; false when no mbuf was to be had. */
static bool
arp_send(struct dtcp_worker *w, uint16_t op, const struct rte_ether_addr *eth_dst,
	 uint32_t sip, const struct rte_ether_addr *tha, uint32_t tip)
{
	struct rte_ether_hdr *eh;
	struct rte_mbuf *m = dtcp_alloc(w);

	if (m == NULL)
		return false;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, sizeof(*eh) +
							sizeof(struct rte_arp_hdr));
	dtcp_wire_eth_emit(eh, eth_dst, &w->mac, RTE_ETHER_TYPE_ARP);
	dtcp_wire_arp_emit((struct rte_arp_hdr *)(eh + 1), op, &w->mac, sip, tha, tip);
	dtcp_tx_enqueue(w, m);
	return true;
}

/*
 * The tick at which ms have passed since now. Counted from now_ns, not from
 * the tick now falls in, so a timer never fires before its time.
 */
static uint64_t
deadline(const struct dtcp_worker *w, uint32_t ms)
{
	return dtcp_tick_of(w, w->now_ns + (uint64_t)ms * 1000000 + w->tick_ns - 1);
}

static void
send_request(struct dtcp_worker *w, struct arp_entry *e)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	static const struct rte_ether_addr zero;

	/* A request lost to an empty pool counts as a try: the retry covers it. */
	if (arp_send(w, RTE_ARP_OP_REQUEST, &bcast, dtcp_source_for(w, e->ip), &zero, e->ip))
		ctr_inc(w, DTCP_CTR_arp_request_tx);
	e->tries++;
	dtcp_wheel_arm(&w->wheel, &e->timer, deadline(w, w->cfg.arp_retry_ms));
}

static void
send_resolved(struct dtcp_worker *w, struct rte_mbuf *m, const struct rte_ether_addr *dst)
{
	struct rte_ether_hdr *eh;

	eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, sizeof(*eh));
	if (unlikely(eh == NULL)) {
		dtcp_tx_drop(w, m, DTCP_CTR_mbuf_alloc_fail);
		return;
	}
	dtcp_wire_eth_emit(eh, dst, &w->mac, RTE_ETHER_TYPE_IPV4);
	m->l2_len = sizeof(*eh);
	dtcp_tx_enqueue(w, m);
}

/* Resolved: record the MAC, restart the lifetime, send what waited. */
static void
entry_resolve(struct dtcp_worker *w, struct arp_entry *e, const struct rte_ether_addr *mac)
{
	rte_ether_addr_copy(mac, &e->mac);
	e->state = ARP_REACHABLE;
	dtcp_wheel_arm(&w->wheel, &e->timer, deadline(w, w->cfg.arp_reachable_ms));
	for (unsigned i = 0; i < e->n_pending; i++)
		send_resolved(w, e->pending[i], &e->mac);
	w->arp->n_pending -= e->n_pending;
	e->n_pending = 0;
}

void
dtcp_arp_output(struct dtcp_worker *w, struct rte_mbuf *m, uint32_t nexthop)
{
	struct dtcp_arp *a = w->arp;
	struct arp_entry **slot = &a->recent[nexthop & (ARP_RECENT - 1)];
	struct arp_entry *e = *slot;

	if (likely(e != NULL && e->ip == nexthop && e->state == ARP_REACHABLE)) {
		send_resolved(w, m, &e->mac);
		return;
	}
	e = entry_find(w, nexthop);
	if (likely(e != NULL && e->state == ARP_REACHABLE)) {
		*slot = e;
		send_resolved(w, m, &e->mac);
		return;
	}
	if (e == NULL) {
		e = entry_new(w, nexthop);
		if (e == NULL) {
			dtcp_tx_drop(w, m, DTCP_CTR_arp_table_full);
			return;
		}
		e->state = ARP_INCOMPLETE;
		send_request(w, e);
	}
	if (e->n_pending >= w->cfg.arp_pending_per_entry ||
	    a->n_pending >= w->cfg.arp_pending_max) {
		dtcp_tx_drop(w, m, DTCP_CTR_arp_pending_full);
		return;
	}
	e->pending[e->n_pending++] = m;
	a->n_pending++;
}

void
dtcp_arp_timer(struct dtcp_worker *w, struct dtcp_timer *t)
{
	struct arp_entry *e = timer_entry(t);

	switch ((enum arp_state)e->state) {
	case ARP_INCOMPLETE:
		if (e->tries < w->cfg.arp_retries) {
			send_request(w, e);
			return;
		}
		ctr_inc(w, DTCP_CTR_arp_resolve_failed);
		entry_release(w, e, DTCP_CTR_arp_resolve_timeout);
		return;
	case ARP_REACHABLE:
		ctr_inc(w, DTCP_CTR_arp_expired);
		entry_release(w, e, DTCP_CTR_arp_resolve_timeout);
		return;
	case ARP_FREE:
		return;
	}
}

void
dtcp_arp_input(struct dtcp_worker *w, struct rte_mbuf *m)
{
	struct dtcp_arp_info ai;
	struct arp_entry *e;
	enum dtcp_ctr verdict;
	bool merged = false;

	ctr_inc(w, DTCP_CTR_arp_rx);
	verdict = dtcp_wire_arp_parse(rte_pktmbuf_mtod(m, void *), m->data_len, &ai);
	if (verdict != DTCP_WIRE_OK) {
		dtcp_rx_drop(w, m, verdict);
		return;
	}
	if (!rte_is_unicast_ether_addr(&ai.sha) || rte_is_zero_ether_addr(&ai.sha)) {
		dtcp_rx_drop(w, m, DTCP_CTR_arp_sender_bogus);
		return;
	}
	/*
	 * An RFC 5227 probe (sender 0.0.0.0) asks whether an address is in use:
	 * for ours the answer is yes, and there is no sender to learn.
	 */
	if (ai.sip == 0 && ai.op == RTE_ARP_OP_REQUEST) {
		if (!dtcp_is_local_addr(w, ai.tip)) {
			dtcp_rx_drop(w, m, DTCP_CTR_arp_not_for_us);
			return;
		}
		ctr_inc(w, DTCP_CTR_arp_probe_rx);
		if (arp_send(w, RTE_ARP_OP_REPLY, &ai.sha, ai.tip, &ai.sha, 0))
			ctr_inc(w, DTCP_CTR_arp_reply_tx);
		dtcp_rx_drop(w, m, DTCP_CTR_arp_consumed);
		return;
	}
	if (dtcp_ipv4_martian(ai.sip)) {
		dtcp_rx_drop(w, m, DTCP_CTR_arp_sender_bogus);
		return;
	}
	if (dtcp_is_local_addr(w, ai.sip)) {
		/* Our own frame looped back is harmless; another MAC is a conflict. */
		dtcp_rx_drop(w, m, rte_is_same_ether_addr(&ai.sha, &w->mac) ?
				   DTCP_CTR_arp_not_for_us : DTCP_CTR_arp_addr_conflict);
		return;
	}

	/* RFC 826 "Packet Reception": update the sender if we know it ... */
	e = entry_find(w, ai.sip);
	if (e != NULL) {
		if (e->state == ARP_INCOMPLETE)
			ctr_inc(w, DTCP_CTR_arp_learned);
		else
			ctr_inc(w, DTCP_CTR_arp_updated);
		entry_resolve(w, e, &ai.sha);
		merged = true;
	}
	if (!dtcp_is_local_addr(w, ai.tip)) {
		dtcp_rx_drop(w, m, merged ? DTCP_CTR_arp_consumed : DTCP_CTR_arp_not_for_us);
		return;
	}
	/*
	 * ... and, being the target, add it if we did not: only a neighbour
	 * on one of our subnets, so no stranger can fill the cache with
	 * entries we would never use.
	 */
	if (!merged && dtcp_on_link(w, ai.sip)) {
		e = entry_new(w, ai.sip);
		if (e != NULL) {
			ctr_inc(w, DTCP_CTR_arp_learned);
			entry_resolve(w, e, &ai.sha);
		}
		/* A full cache only costs a later resolution: still answer. */
	}
	if (ai.op == RTE_ARP_OP_REQUEST) {
		ctr_inc(w, DTCP_CTR_arp_request_rx);
		if (arp_send(w, RTE_ARP_OP_REPLY, &ai.sha, ai.tip, &ai.sha, ai.sip))
			ctr_inc(w, DTCP_CTR_arp_reply_tx);
	} else {
		ctr_inc(w, DTCP_CTR_arp_reply_rx);
	}
	dtcp_rx_drop(w, m, DTCP_CTR_arp_consumed);
}

void
dtcp_arp_announce(struct dtcp_worker *w)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	static const struct rte_ether_addr zero;

	/* RFC 5227 §3: a request with sender and target both our address. */
	for (unsigned i = 0; i < w->cfg.n_addrs; i++) {
		uint32_t ip = w->cfg.addrs[i].addr;

		if (arp_send(w, RTE_ARP_OP_REQUEST, &bcast, ip, &zero, ip))
			ctr_inc(w, DTCP_CTR_arp_gratuitous_tx);
	}
}

int
dtcp_arp_lookup(struct dtcp_worker *w, uint32_t ip, struct rte_ether_addr *mac)
{
	struct arp_entry *e = entry_find(w, ip);

	if (e == NULL)
		return -ENOENT;
	if (e->state != ARP_REACHABLE)
		return 0;
	if (mac != NULL)
		rte_ether_addr_copy(&e->mac, mac);
	return 1;
}

unsigned
dtcp_arp_pending_total(const struct dtcp_worker *w)
{
	return w->arp->n_pending;
}
