/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hierarchical timer wheel for one worker. Intrusive nodes, O(1) arm and
 * cancel without allocation (most TCP timers are cancelled before they fire),
 * advanced with `now` as an argument and a budget of callbacks per call.
 *
 * Layout: DTCP_WHEEL_LEVELS levels of DTCP_WHEEL_SLOTS slots; a slot of level
 * k spans 256^k ticks, so the wheel holds expiries less than 2^32 ticks past
 * the start of the cursor's 2^32-tick block. A timer sits on the level of the
 * highest byte in which its expiry differs from the cursor; when the cursor
 * enters a higher slot that slot is cascaded into the levels below.
 * Later timers wait, unsorted, in an overflow list that is re-examined when
 * the cursor reaches the 2^32-tick block of the earliest of them; that pass
 * costs O(overflow), once per block crossed while the overflow is non-empty.
 * Time is abstract ticks; the wheel never reads a clock.
 */
#ifndef DTCP_TIMER_WHEEL_H
#define DTCP_TIMER_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
	DTCP_WHEEL_SLOT_BITS = 8,
	DTCP_WHEEL_SLOTS = 1 << DTCP_WHEEL_SLOT_BITS,
	DTCP_WHEEL_LEVELS = 4,
	/* Expiries this many bits past the cursor's block go to the overflow. */
	DTCP_WHEEL_RANGE_BITS = DTCP_WHEEL_SLOT_BITS * DTCP_WHEEL_LEVELS,
};

/* Intrusive node: embed it in the owner's struct. One wheel at a time. */
struct dtcp_timer {
	struct dtcp_timer *next;
	struct dtcp_timer **pprev;  /* NULL when not armed */
	uint64_t expire;            /* absolute tick */
	uint8_t kind;               /* owner's dispatch tag, untouched by the wheel */
};

/* Layout public so it can be embedded; fields private by convention. */
struct dtcp_wheel {
	uint64_t cur;               /* cursor: every armed timer has expire >= cur */
	uint64_t count;             /* armed timers, overflow included */
	uint64_t ovf_min;           /* <= every overflow expiry, while ovf != NULL */
	struct dtcp_timer *ovf;     /* expiries beyond the wheel's range, unsorted */
	/* Bit (level * SLOTS + slot) set iff that slot's list is non-empty; flat
	 * so one scan finds the earliest work (lower levels always come first). */
	uint64_t occupied[DTCP_WHEEL_LEVELS * DTCP_WHEEL_SLOTS / 64];
	struct dtcp_timer *slot[DTCP_WHEEL_LEVELS * DTCP_WHEEL_SLOTS];
};

typedef void (*dtcp_timer_fn)(void *ctx, struct dtcp_timer *t);

/* Empty wheel with its cursor at now_tick. Forgets (does not disarm) timers. */
void dtcp_wheel_init(struct dtcp_wheel *wh, uint64_t now_tick);

static inline void
dtcp_timer_init(struct dtcp_timer *t, uint8_t kind)
{
	t->next = NULL;
	t->pprev = NULL;
	t->expire = 0;
	t->kind = kind;
}

static inline bool
dtcp_timer_armed(const struct dtcp_timer *t)
{
	return t->pprev != NULL;
}

/*
 * Arm (or re-arm if already armed) to fire at expire_tick. O(1).
 * An expiry before the wheel's current tick is stored as the current tick
 * (t->expire is what the timer will fire at), so it fires on the next advance.
 */
void dtcp_wheel_arm(struct dtcp_wheel *wh, struct dtcp_timer *t,
		    uint64_t expire_tick);

/* Cancel; no-op if not armed. O(1). */
void dtcp_wheel_cancel(struct dtcp_wheel *wh, struct dtcp_timer *t);

/*
 * Fire every armed timer whose expire <= now_tick, calling fn(ctx, t) at most
 * `budget` times (UINT_MAX: no limit). The timer is disarmed before fn runs;
 * fn may arm or cancel any timer, t included. Timers fire in non-decreasing
 * expire order; those armed from fn with expire <= now_tick fire in this same
 * call while budget remains (so a timer re-armed at now forever needs a
 * budget). If the budget runs out, a later call with the same or a larger
 * now_tick continues where this one stopped. A now_tick below the current
 * tick counts as the current tick. Cascading and moving the overflow cost no
 * budget. Returns the number fired.
 */
unsigned dtcp_wheel_advance(struct dtcp_wheel *wh, uint64_t now_tick,
			    unsigned budget, dtcp_timer_fn fn, void *ctx);

/* Armed timers. */
uint64_t dtcp_wheel_count(const struct dtcp_wheel *wh);

/*
 * Current tick: the now_tick of the last advance, or, if its budget ran out
 * with work left, the expiry of the last timer it fired.
 */
uint64_t dtcp_wheel_now(const struct dtcp_wheel *wh);

/*
 * Earliest possible next expiry, or UINT64_MAX when empty. Exact when the
 * earliest timer is in the cursor's 256-tick block, otherwise a lower bound
 * (the first tick of the slot that holds it). Never below the current tick.
 */
uint64_t dtcp_wheel_next_hint(const struct dtcp_wheel *wh);

#ifdef __cplusplus
}
#endif

#endif /* DTCP_TIMER_WHEEL_H */
