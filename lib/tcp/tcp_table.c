/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker TCP tables: the flow table (4-tuple -> TCB or TIME-WAIT
 * record) and the listen table, both rte_hash with the extendable bucket
 * table so every configured entry fits; TCBs and TIME-WAIT records from
 * fixed rte_mempools. Every bound is a counted refusal.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_jhash.h>
#include <rte_malloc.h>

#include "tcp_priv.h"

_Static_assert(sizeof(struct dtcp_tw) <= 64, "a TIME-WAIT record fits in a cache line");
_Static_assert(sizeof(struct dtcp_flow_key) == 16, "the flow key is compared as 16 bytes");
_Static_assert(sizeof(struct dtcp_listen_key) == 16, "the listen key is compared as 16 bytes");

static const char *const state_names[DTCP_TCP_STATE_MAX] = {
	[DTCP_TCP_CLOSED] = "CLOSED",
	[DTCP_TCP_LISTEN] = "LISTEN",
	[DTCP_TCP_SYN_SENT] = "SYN-SENT",
	[DTCP_TCP_SYN_RECEIVED] = "SYN-RECEIVED",
	[DTCP_TCP_ESTABLISHED] = "ESTABLISHED",
	[DTCP_TCP_FIN_WAIT_1] = "FIN-WAIT-1",
	[DTCP_TCP_FIN_WAIT_2] = "FIN-WAIT-2",
	[DTCP_TCP_CLOSE_WAIT] = "CLOSE-WAIT",
	[DTCP_TCP_CLOSING] = "CLOSING",
	[DTCP_TCP_LAST_ACK] = "LAST-ACK",
	[DTCP_TCP_TIME_WAIT] = "TIME-WAIT",
};

const char *
dtcp_tcp_state_name(enum dtcp_tcp_state s)
{
	return (unsigned)s < DTCP_TCP_STATE_MAX ? state_names[s] : "?";
}

int
dtcp_tcp_create(struct dtcp_worker *w, char *err, size_t errlen)
{
	const struct dtcp_config *cfg = &w->cfg;
	struct dtcp_tcp *t;
	char name[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.hash_func = rte_jhash,     /* unused: we hash with our key and pass it */
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};
	uint16_t mss;

	t = rte_zmalloc("dtcp_tcp", sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		goto nomem;
	w->tcp = t;
	tcp_secret_init(w);

	snprintf(name, sizeof(name), "dtcp_flows_%u_%p", w->id, (void *)w);
	hp.name = name;
	hp.entries = RTE_MAX(cfg->tcp_max_conns + cfg->tcp_timewait_max, 16u);
	hp.key_len = sizeof(struct dtcp_flow_key);
	t->flows = rte_hash_create(&hp);
	if (t->flows == NULL)
		goto nomem;

	snprintf(name, sizeof(name), "dtcp_lsn_%u_%p", w->id, (void *)w);
	hp.name = name;
	hp.entries = RTE_MAX(cfg->tcp_listeners_max, 16u);
	hp.key_len = sizeof(struct dtcp_listen_key);
	t->listeners = rte_hash_create(&hp);
	if (t->listeners == NULL)
		goto nomem;

	snprintf(name, sizeof(name), "tcb_%u_%p", w->id, (void *)w);
	t->tcbs = rte_mempool_create(name, cfg->tcp_max_conns, sizeof(struct dtcp_tcb), 0, 0,
				     NULL, NULL, NULL, NULL, (int)rte_socket_id(),
				     RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
	if (t->tcbs == NULL)
		goto nomem;
	if (cfg->tcp_timewait_max > 0) {
		snprintf(name, sizeof(name), "tw_%u_%p", w->id, (void *)w);
		t->tws = rte_mempool_create(name, cfg->tcp_timewait_max, sizeof(struct dtcp_tw),
					    0, 0, NULL, NULL, NULL, NULL, (int)rte_socket_id(),
					    RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET |
					    RTE_MEMPOOL_F_NO_CACHE_ALIGN);
		if (t->tws == NULL)
			goto nomem;
	}

	if (cfg->tcp_ooo_conns > 0) {
		snprintf(name, sizeof(name), "ooo_%u_%p", w->id, (void *)w);
		t->ooos = rte_mempool_create(name, cfg->tcp_ooo_conns, sizeof(struct dtcp_ooo),
					     0, 0, NULL, NULL, NULL, NULL, (int)rte_socket_id(),
					     RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
		if (t->ooos == NULL)
			goto nomem;
	}

	if (cfg->tcp_sack_conns > 0) {
		snprintf(name, sizeof(name), "sackb_%u_%p", w->id, (void *)w);
		t->sackbs = rte_mempool_create(name, cfg->tcp_sack_conns, sizeof(struct dtcp_sackb),
					       0, 0, NULL, NULL, NULL, NULL, (int)rte_socket_id(),
					       RTE_MEMPOOL_F_SP_PUT | RTE_MEMPOOL_F_SC_GET);
		if (t->sackbs == NULL)
			goto nomem;
	}

	mss = cfg->tcp_mss != 0 ? cfg->tcp_mss : (uint16_t)(w->mtu - 40);
	t->our_mss = RTE_MIN(mss, (uint16_t)(w->mtu - 40));
	t->port_next = (uint16_t)(w->id * 7919);
	return 0;
nomem:
	snprintf(err, errlen, "TCP tables for %u connections and %u TIME-WAIT records: "
		 "out of memory", cfg->tcp_max_conns, cfg->tcp_timewait_max);
	dtcp_tcp_destroy(w);
	return -ENOMEM;
}

static void
snd_q_free(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	/* Segments are linked but their pkt_len is not kept: free one by one. */
	struct rte_mbuf *m = c->snd_q, *next;

	while (m != NULL) {
		next = m->next;
		m->next = NULL;
		m->nb_segs = 1;
		rte_pktmbuf_free_seg(m);
		m = next;
	}
	c->snd_q = c->snd_q_tail = NULL;
	c->snd_hint = NULL;
	w->tcp->mbufs_held -= c->snd_q_mbufs;
	c->snd_q_mbufs = 0;
	c->snd_q_bytes = 0;
}

static void
rcv_q_free(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	rte_pktmbuf_free(c->rcv_q);
	c->rcv_q = NULL;
	w->tcp->mbufs_held -= c->rcv_q_mbufs;
	c->rcv_q_mbufs = 0;
	c->rcv_q_bytes = 0;
}

void
tcp_ooo_free(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	struct dtcp_ooo *o = c->ooo;

	if (o == NULL)
		return;
	for (unsigned i = 0; i < o->n; i++)
		rte_pktmbuf_free(o->seg[i].m);
	w->tcp->mbufs_held -= c->ooo_mbufs;
	c->ooo_mbufs = 0;
	rte_mempool_put(w->tcp->ooos, o);
	c->ooo = NULL;
}

static void
queues_free(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	snd_q_free(w, c);
	rcv_q_free(w, c);
	tcp_ooo_free(w, c);
	tcp_sack_free(w, c);
}

void
dtcp_tcp_destroy(struct dtcp_worker *w)
{
	struct dtcp_tcp *t = w->tcp;

	if (t == NULL)
		return;
	if (t->flows != NULL) {
		const void *key;
		void *v;
		uint32_t it = 0;

		/* Every connection and record goes with its queues. */
		while (rte_hash_iterate(t->flows, &key, &v, &it) >= 0) {
			if (tcp_val_is_tw(v))
				continue;
			queues_free(w, v);
		}
	}
	if (t->listeners != NULL) {
		const void *key;
		void *v;
		uint32_t it = 0;

		while (rte_hash_iterate(t->listeners, &key, &v, &it) >= 0)
			queues_free(w, v);
	}
	/* Released TCBs waiting for the end of a poll may still hold data to deliver. */
	for (struct dtcp_tcb *c = t->free_head; c != NULL; c = c->free_next)
		rcv_q_free(w, c);
	rte_hash_free(t->flows);
	rte_hash_free(t->listeners);
	rte_mempool_free(t->tcbs);
	rte_mempool_free(t->tws);
	rte_mempool_free(t->ooos);
	rte_mempool_free(t->sackbs);
	rte_free(t);
	w->tcp = NULL;
}

void *
tcp_flow_lookup(struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t hash)
{
	void *v;

	if (rte_hash_lookup_with_hash_data(w->tcp->flows, k, hash, &v) < 0)
		return NULL;
	return v;
}

int
tcp_flow_add(struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t hash, void *v)
{
	return rte_hash_add_key_with_hash_data(w->tcp->flows, k, hash, v);
}

void
tcp_flow_del(struct dtcp_worker *w, const struct dtcp_flow_key *k, uint32_t hash)
{
	rte_hash_del_key_with_hash(w->tcp->flows, k, hash);
}

struct dtcp_tcb *
tcp_listener_lookup(struct dtcp_worker *w, uint32_t addr, uint16_t port)
{
	struct dtcp_listen_key k = { .addr = addr, .port = port, .zero = 0 };
	void *v;

	/* A client's every connect() asks; it listens on nothing. */
	if (w->tcp->n_listeners == 0)
		return NULL;
	/* A listener on the address goes before one on any (0). */
	if (w->tcp->n_listeners_addr > 0 && rte_hash_lookup_data(w->tcp->listeners, &k, &v) >= 0)
		return v;
	k.addr = 0;
	if (rte_hash_lookup_data(w->tcp->listeners, &k, &v) >= 0)
		return v;
	return NULL;
}

struct dtcp_tcb *
tcp_tcb_alloc(struct dtcp_worker *w)
{
	struct dtcp_tcb *c;

	if (rte_mempool_get(w->tcp->tcbs, (void **)&c) != 0) {
		ctr_inc(w, DTCP_CTR_tcp_conn_table_full);
		return NULL;
	}
	memset(c, 0, sizeof(*c));
	dtcp_timer_init(&c->rtx_timer, DTCP_TIMER_TCP_RTX);
	dtcp_timer_init(&c->aux_timer, DTCP_TIMER_TCP_AUX);
	dtcp_timer_init(&c->delack_timer, DTCP_TIMER_TCP_DELACK);
	c->state = DTCP_TCP_CLOSED;
	c->rto_ms = w->cfg.tcp_rto_init_ms;
	c->ka_idle_s = w->cfg.tcp_keepalive_idle_s;
	c->ka_intvl_s = w->cfg.tcp_keepalive_intvl_s;
	c->ka_cnt = w->cfg.tcp_keepalive_cnt;
	c->keepalive = w->cfg.tcp_keepalive != 0;
	c->nodelay = w->cfg.tcp_nodelay != 0;
	w->tcp->n_tcbs++;
	w->tcp->state_count[DTCP_TCP_CLOSED]++;
	return c;
}

void
tcp_set_state(struct dtcp_worker *w, struct dtcp_tcb *c, enum dtcp_tcp_state s)
{
	w->tcp->state_count[c->state]--;
	w->tcp->state_count[s]++;
	c->state = (uint8_t)s;
}

static void
accept_q_remove(struct dtcp_tcb *l, struct dtcp_tcb *c)
{
	struct dtcp_tcb **pp = &l->acc_head, *prev = NULL;

	while (*pp != NULL && *pp != c) {
		prev = *pp;
		pp = &(*pp)->acc_next;
	}
	if (*pp == NULL)
		return;
	*pp = c->acc_next;
	if (l->acc_tail == c)
		l->acc_tail = prev;
	l->acc_count--;
	c->in_accept_q = false;
	c->acc_next = NULL;
}

void
tcp_tcb_release(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	struct dtcp_tcp *t = w->tcp;

	if (c->dead)
		return;
	c->dead = true;
	if (c->state == DTCP_TCP_LISTEN) {
		struct dtcp_listen_key k = { .addr = c->key.laddr, .port = c->key.lport, .zero = 0 };

		if (rte_hash_del_key(t->listeners, &k) >= 0) {
			t->n_listeners--;
			if (k.addr != 0)
				t->n_listeners_addr--;
		}
	} else if (c->state != DTCP_TCP_CLOSED) {
		tcp_flow_del(w, &c->key, c->hash);
	}
	if (c->parent != NULL) {
		if (c->in_accept_q)
			accept_q_remove(c->parent, c);
		else if (c->state == DTCP_TCP_SYN_RECEIVED)
			c->parent->syn_count--;
		c->parent = NULL;
	}
	dtcp_wheel_cancel(&w->wheel, &c->rtx_timer);
	dtcp_wheel_cancel(&w->wheel, &c->aux_timer);
	dtcp_wheel_cancel(&w->wheel, &c->delack_timer);
	snd_q_free(w, c);
	tcp_ooo_free(w, c);
	tcp_sack_free(w, c);
	/* What arrived in order before the end is still the application's to read. */
	if (c->fn == NULL || c->orphan)
		rcv_q_free(w, c);
	tcp_set_state(w, c, DTCP_TCP_CLOSED);
	c->free_next = t->free_head;
	t->free_head = c;
}

void
tcp_free_dead(struct dtcp_worker *w)
{
	struct dtcp_tcp *t = w->tcp;
	struct dtcp_tcb *c = t->free_head, *keep = NULL;

	while (c != NULL) {
		struct dtcp_tcb *next = c->free_next;

		if (c->in_ev || c->in_out ||
		    (c->rcv_paused && c->rcv_q != NULL && c->fn != NULL && !c->orphan)) {
			/* Still on a list (released between polls), or its data and
			 * last event wait for the application: next time. */
			c->free_next = keep;
			keep = c;
		} else {
			rcv_q_free(w, c);
			t->state_count[DTCP_TCP_CLOSED]--;
			t->n_tcbs--;
			rte_mempool_put(t->tcbs, c);
		}
		c = next;
	}
	t->free_head = keep;
}

void
tcp_conn_close(struct dtcp_worker *w, struct dtcp_tcb *c, int error)
{
	bool tell = c->fn != NULL && !c->orphan;

	tcp_tcb_release(w, c);
	if (tell) {
		c->ev_error = error;
		tcp_event(w, c, EV_CLOSED);
	}
}

/* TIME-WAIT lasts 2 MSL (RFC 9293 §3.6.1): long enough that no segment of
 * this incarnation can still be in the network when the 4-tuple is reused. */
void
tcp_tw_restart(struct dtcp_worker *w, struct dtcp_tw *tw)
{
	struct dtcp_tcp *t = w->tcp;

	tw->expire_ns = w->now_ns + 2ull * w->cfg.tcp_msl_ms * 1000000;
	if (t->tw_tail == tw)
		return;
	/* Unlink and append: every record waits as long, so the FIFO stays sorted. */
	if (tw->prev != NULL)
		tw->prev->next = tw->next;
	else if (t->tw_head == tw)
		t->tw_head = tw->next;
	if (tw->next != NULL)
		tw->next->prev = tw->prev;
	tw->prev = t->tw_tail;
	tw->next = NULL;
	if (t->tw_tail != NULL)
		t->tw_tail->next = tw;
	else
		t->tw_head = tw;
	t->tw_tail = tw;
}

void
tcp_tw_free(struct dtcp_worker *w, struct dtcp_tw *tw)
{
	struct dtcp_tcp *t = w->tcp;

	tcp_flow_del(w, &tw->key, tw->hash);
	if (tw->prev != NULL)
		tw->prev->next = tw->next;
	else
		t->tw_head = tw->next;
	if (tw->next != NULL)
		tw->next->prev = tw->prev;
	else
		t->tw_tail = tw->prev;
	t->n_tw--;
	t->state_count[DTCP_TCP_TIME_WAIT]--;
	rte_mempool_put(t->tws, tw);
}

void
tcp_enter_time_wait(struct dtcp_worker *w, struct dtcp_tcb *c)
{
	struct dtcp_tcp *t = w->tcp;
	struct dtcp_tw *tw = NULL;
	bool tell = c->fn != NULL && !c->orphan;

	ctr_inc(w, DTCP_CTR_tcp_timewait_enter);
	if (t->tws == NULL || rte_mempool_get(t->tws, (void **)&tw) != 0) {
		ctr_inc(w, DTCP_CTR_tcp_timewait_full);
		tcp_conn_close(w, c, 0);
		return;
	}
	memset(tw, 0, sizeof(*tw));
	tw->key = c->key;
	tw->hash = c->hash;
	tw->snd_nxt = c->snd_max;
	tw->rcv_nxt = c->rcv_nxt;
	tw->ts_ok = c->ts_ok;
	tw->ts_recent = c->ts_recent;
	tw->ts_offset = c->ts_offset;
	tw->wnd = (uint16_t)RTE_MIN(tcp_rcv_wnd(w, c) >> c->rcv_wscale, 65535u);
	/* The record takes the TCB's place in the flow table: adding a key
	 * that is there replaces its value in place (rte_hash), one search
	 * instead of a delete and an insert. */
	if (tcp_flow_add(w, &tw->key, tw->hash, tcp_tw_val(tw)) != 0) {
		tcp_flow_del(w, &c->key, c->hash);
		rte_mempool_put(t->tws, tw);
		ctr_inc(w, DTCP_CTR_tcp_timewait_full);
		tw = NULL;
	}
	tcp_set_state(w, c, DTCP_TCP_CLOSED);
	/* Released as CLOSED: its key is no longer the TCB's in the table. */
	tcp_tcb_release(w, c);
	if (tell) {
		c->ev_error = 0;
		tcp_event(w, c, EV_CLOSED);
	}
	if (tw == NULL)
		return;
	t->n_tw++;
	t->state_count[DTCP_TCP_TIME_WAIT]++;
	tw->next = NULL;
	tw->prev = t->tw_tail;
	if (t->tw_tail != NULL)
		t->tw_tail->next = tw;
	else
		t->tw_head = tw;
	t->tw_tail = tw;
	tw->expire_ns = w->now_ns + 2ull * w->cfg.tcp_msl_ms * 1000000;
}

void
dtcp_tcp_state_counts(const struct dtcp_worker *w, uint64_t counts[DTCP_TCP_STATE_MAX])
{
	memcpy(counts, w->tcp->state_count, sizeof(w->tcp->state_count));
}
