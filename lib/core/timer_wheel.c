/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hierarchical timer wheel; see timer_wheel.h for the layout.
 *
 * Invariant: a timer on level k agrees with the cursor on every byte above
 * byte k and is strictly later in byte k (level 0: equal or later), so no slot
 * ever lies behind the cursor and the first occupied bit, lowest level first,
 * is always the earliest work.
 */
#include "timer_wheel.h"

enum {
	SLOT_MASK = DTCP_WHEEL_SLOTS - 1,
	OCC_WORDS = DTCP_WHEEL_LEVELS * DTCP_WHEEL_SLOTS / 64,
};

_Static_assert(DTCP_WHEEL_SLOTS % 64 == 0, "an occupancy word must not span levels");
_Static_assert(DTCP_WHEEL_RANGE_BITS < 64, "the overflow block start needs a shift < 64");

/* Highest byte in which expire differs from the cursor; >= LEVELS: overflow. */
static unsigned
level_of(uint64_t cur, uint64_t expire)
{
	uint64_t diff = expire ^ cur;

	if (diff == 0)
		return 0;
	return (unsigned)(63 - __builtin_clzll(diff)) / DTCP_WHEEL_SLOT_BITS;
}

/* First tick of a slot (flat index) in the cursor's current turn of its level. */
static uint64_t
slot_start(uint64_t cur, unsigned idx)
{
	unsigned shift = idx / DTCP_WHEEL_SLOTS * DTCP_WHEEL_SLOT_BITS;
	unsigned above = shift + DTCP_WHEEL_SLOT_BITS;

	return (cur >> above << above) | ((uint64_t)(idx & SLOT_MASK) << shift);
}

static void
push(struct dtcp_timer **head, struct dtcp_timer *t)
{
	t->next = *head;
	if (t->next != NULL)
		t->next->pprev = &t->next;
	t->pprev = head;
	*head = t;
}

/* First tick of the 2^32-tick block holding tick. The overflow is re-examined
 * on entering its earliest block, before a timer armed there could overtake it. */
static uint64_t
block_start(uint64_t tick)
{
	return tick >> DTCP_WHEEL_RANGE_BITS << DTCP_WHEEL_RANGE_BITS;
}

/* Put an armed timer where it belongs relative to the cursor. */
static void
insert(struct dtcp_wheel *wh, struct dtcp_timer *t)
{
	unsigned lvl = level_of(wh->cur, t->expire);
	unsigned idx;

	if (lvl >= DTCP_WHEEL_LEVELS) {
		if (wh->ovf == NULL || t->expire < wh->ovf_min)
			wh->ovf_min = t->expire;
		push(&wh->ovf, t);
		return;
	}
	idx = lvl * DTCP_WHEEL_SLOTS +
	      ((unsigned)(t->expire >> (lvl * DTCP_WHEEL_SLOT_BITS)) & SLOT_MASK);
	push(&wh->slot[idx], t);
	wh->occupied[idx / 64] |= 1ULL << (idx % 64);
}

/* Unlink and disarm. A slot head is recognised by its address. */
static void
unlink_timer(struct dtcp_wheel *wh, struct dtcp_timer *t)
{
	uintptr_t off = (uintptr_t)t->pprev - (uintptr_t)wh->slot;

	*t->pprev = t->next;
	if (t->next != NULL) {
		t->next->pprev = t->pprev;
	} else if (off < sizeof(wh->slot)) {
		/* It was alone in a slot: the slot is empty now. */
		size_t idx = off / sizeof(wh->slot[0]);

		wh->occupied[idx / 64] &= ~(1ULL << (idx % 64));
	}
	t->next = NULL;
	t->pprev = NULL;
}

/* Flat index of the first occupied slot, lowest level first, or -1. */
static int
first_occupied(const struct dtcp_wheel *wh)
{
	for (unsigned w = 0; w < OCC_WORDS; w++)
		if (wh->occupied[w] != 0)
			return (int)(w * 64 + (unsigned)__builtin_ctzll(wh->occupied[w]));
	return -1;
}

/* Re-place a detached list against the current cursor. */
static void
reinsert_all(struct dtcp_wheel *wh, struct dtcp_timer *list)
{
	while (list != NULL) {
		struct dtcp_timer *t = list;

		list = t->next;
		insert(wh, t);
	}
}

void
dtcp_wheel_init(struct dtcp_wheel *wh, uint64_t now_tick)
{
	*wh = (struct dtcp_wheel){ .cur = now_tick, .ovf_min = UINT64_MAX };
}

void
dtcp_wheel_arm(struct dtcp_wheel *wh, struct dtcp_timer *t, uint64_t expire_tick)
{
	if (t->pprev != NULL)
		unlink_timer(wh, t);
	else
		wh->count++;
	/* Clamping keeps the invariant: nothing is ever filed behind the cursor. */
	t->expire = expire_tick < wh->cur ? wh->cur : expire_tick;
	insert(wh, t);
}

void
dtcp_wheel_cancel(struct dtcp_wheel *wh, struct dtcp_timer *t)
{
	if (t->pprev == NULL)
		return;
	unlink_timer(wh, t);
	wh->count--;
}

unsigned
dtcp_wheel_advance(struct dtcp_wheel *wh, uint64_t now_tick, unsigned budget,
		   dtcp_timer_fn fn, void *ctx)
{
	unsigned fired = 0;

	if (now_tick < wh->cur)
		now_tick = wh->cur;
	for (;;) {
		int idx = first_occupied(wh);
		uint64_t at;

		/* Lower levels and the wheel before the overflow: earliest work first. */
		if (idx >= 0)
			at = slot_start(wh->cur, (unsigned)idx);
		else if (wh->ovf != NULL)
			at = block_start(wh->ovf_min);
		else
			break;
		if (at > now_tick)
			break;
		/* Out of budget: keep the cursor so the work left is still due. */
		if (fired == budget)
			return fired;
		wh->cur = at;
		if (idx < 0) {
			struct dtcp_timer *list = wh->ovf;

			wh->ovf = NULL;
			reinsert_all(wh, list);
		} else if (idx >= DTCP_WHEEL_SLOTS) {
			struct dtcp_timer *list = wh->slot[idx];

			/* Its expiries now share byte k with the cursor: all go down. */
			wh->slot[idx] = NULL;
			wh->occupied[idx / 64] &= ~(1ULL << (idx % 64));
			reinsert_all(wh, list);
		} else {
			/* Level 0: every timer in the slot expires exactly at `at`. */
			struct dtcp_timer *t = wh->slot[idx];

			unlink_timer(wh, t);
			wh->count--;
			fn(ctx, t);
			fired++;
		}
	}
	/* No work up to now_tick, so no boundary with work is crossed: jump. */
	wh->cur = now_tick;
	return fired;
}

uint64_t
dtcp_wheel_count(const struct dtcp_wheel *wh)
{
	return wh->count;
}

uint64_t
dtcp_wheel_now(const struct dtcp_wheel *wh)
{
	return wh->cur;
}

uint64_t
dtcp_wheel_next_hint(const struct dtcp_wheel *wh)
{
	int idx = first_occupied(wh);

	if (idx >= 0)
		return slot_start(wh->cur, (unsigned)idx);
	return wh->ovf != NULL ? wh->ovf_min : UINT64_MAX;
}
