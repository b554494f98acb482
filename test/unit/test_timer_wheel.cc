/* SPDX-License-Identifier: BSD-3-Clause */
/* Timer wheel: the rules one by one, then a million random operations
 * checked against a sorted reference. */
#include <gtest/gtest.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "recip.h"
#include "timer_wheel.h"

namespace {

constexpr uint64_t kRange = uint64_t{1} << DTCP_WHEEL_RANGE_BITS;
/* Not aligned to any slot or block, so the boundary arithmetic is exercised. */
constexpr uint64_t kStart = 0x12345678abULL;
/* Two hours of 1 ms ticks. */
constexpr uint64_t kTwoHours = 7200000;

struct Item {
	dtcp_timer tm; /* first member: a dtcp_timer * is an Item * */
	unsigned id;
};

Item *
ItemOf(dtcp_timer *t)
{
	return reinterpret_cast<Item *>(t);
}

struct Fire {
	unsigned id;
	uint64_t expire;
	uint64_t wheel_now; /* dtcp_wheel_now() inside the callback */
	bool armed;         /* dtcp_timer_armed() inside the callback */
};

class TimerWheel : public ::testing::Test {
protected:
	static constexpr unsigned kItems = 4096;

	void SetUp() override
	{
		dtcp_wheel_init(&wh_, kStart);
		items_.resize(kItems);
		for (unsigned i = 0; i < kItems; i++) {
			dtcp_timer_init(&items_[i].tm, static_cast<uint8_t>(i * 7));
			items_[i].id = i;
		}
	}

	void Arm(unsigned id, uint64_t t) { dtcp_wheel_arm(&wh_, &items_[id].tm, t); }
	void Cancel(unsigned id) { dtcp_wheel_cancel(&wh_, &items_[id].tm); }
	bool Armed(unsigned id) const { return dtcp_timer_armed(&items_[id].tm); }
	uint64_t Now() const { return dtcp_wheel_now(&wh_); }
	uint64_t Count() const { return dtcp_wheel_count(&wh_); }

	unsigned Advance(uint64_t now, unsigned budget = UINT_MAX)
	{
		return dtcp_wheel_advance(&wh_, now, budget, &TimerWheel::OnFire, this);
	}

	std::vector<unsigned> FiredIds() const
	{
		std::vector<unsigned> ids;
		for (const Fire &f : fired_)
			ids.push_back(f.id);
		return ids;
	}

	/* Every firing so far: at its own tick, disarmed, in non-decreasing order. */
	void ExpectFiredInOrder() const
	{
		for (size_t i = 0; i < fired_.size(); i++) {
			const Fire &f = fired_[i];

			EXPECT_EQ(f.wheel_now, f.expire) << "firing " << i;
			EXPECT_FALSE(f.armed) << "firing " << i;
			if (i > 0) {
				EXPECT_LE(fired_[i - 1].expire, f.expire) << "firing " << i;
			}
		}
	}

	static void OnFire(void *ctx, dtcp_timer *t)
	{
		auto *self = static_cast<TimerWheel *>(ctx);
		Item *it = ItemOf(t);

		self->fired_.push_back({it->id, t->expire, dtcp_wheel_now(&self->wh_),
					dtcp_timer_armed(t)});
		if (self->on_fire_)
			self->on_fire_(*it);
	}

	dtcp_wheel wh_;
	std::vector<Item> items_;
	std::vector<Fire> fired_;
	std::function<void(Item &)> on_fire_;
};

TEST_F(TimerWheel, Arm_FiresAtExactTick_NotOneEarlier)
{
	/* One delay per level, the level edges, and the last tick in range. */
	const uint64_t delays[] = {0, 1, 84, 85, 255, 256, 1000, 65535, 65536, 70001,
				   5000000, 16777216, kRange - 1};
	unsigned n = 0;

	for (uint64_t d : delays) {
		uint64_t base = Now();

		Arm(0, base + d);
		if (d > 0) {
			EXPECT_EQ(Advance(base + d - 1), 0u) << "delay " << d;
		}
		EXPECT_TRUE(Armed(0));
		EXPECT_EQ(Advance(base + d), 1u) << "delay " << d;
		ASSERT_EQ(fired_.size(), ++n);
		EXPECT_EQ(fired_.back().expire, base + d);
		EXPECT_FALSE(Armed(0));
		EXPECT_EQ(Count(), 0u);
	}
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, Arm_TickByTick_FiresOnlyAtItsTick)
{
	uint64_t base = Now();

	Arm(0, base + 700);
	for (uint64_t now = base; now < base + 700; now++)
		ASSERT_EQ(Advance(now), 0u) << "tick " << now - base;
	EXPECT_EQ(Advance(base + 700), 1u);
	EXPECT_EQ(Advance(base + 2000), 0u);
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, Cancel_PreventsFiring)
{
	uint64_t base = Now();

	Arm(0, base + 10);
	Arm(1, base + 70000);
	Arm(2, base + (uint64_t{1} << 40));
	Cancel(0);
	Cancel(1);
	Cancel(2);
	EXPECT_FALSE(Armed(0));
	EXPECT_FALSE(Armed(1));
	EXPECT_FALSE(Armed(2));
	EXPECT_EQ(Count(), 0u);
	EXPECT_EQ(Advance(base + (uint64_t{1} << 41)), 0u);
	EXPECT_TRUE(fired_.empty());
}

TEST_F(TimerWheel, Rearm_MovesTimer)
{
	uint64_t base = Now();

	Arm(0, base + 100);
	Arm(0, base + 50); /* earlier, same level */
	EXPECT_EQ(Count(), 1u);
	EXPECT_EQ(Advance(base + 99), 1u);
	EXPECT_EQ(fired_.back().expire, base + 50);

	Arm(0, base + 200);
	Arm(0, base + 5000); /* later, higher level */
	EXPECT_EQ(Advance(base + 4999), 0u);
	EXPECT_EQ(Count(), 1u);
	EXPECT_EQ(Advance(base + 5000), 1u);

	Arm(0, base + 6000 + kRange); /* into the overflow and back */
	Arm(0, base + 6000);
	EXPECT_EQ(Advance(base + 6000), 1u);
	EXPECT_EQ(Advance(base + 6000 + 2 * kRange), 0u);
	EXPECT_EQ(FiredIds(), std::vector<unsigned>({0, 0, 0}));
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, CancelUnarmed_IsNoOp)
{
	uint64_t base = Now();

	Cancel(0); /* never armed */
	EXPECT_EQ(Count(), 0u);
	Arm(1, base + 3);
	Cancel(0);
	EXPECT_EQ(Count(), 1u);
	EXPECT_TRUE(Armed(1));
	Cancel(1);
	Cancel(1); /* already cancelled */
	EXPECT_EQ(Count(), 0u);
	Arm(2, base + 4);
	EXPECT_EQ(Advance(base + 10), 1u);
	Cancel(2); /* already fired */
	EXPECT_EQ(Count(), 0u);
	EXPECT_EQ(FiredIds(), std::vector<unsigned>({2}));
}

TEST_F(TimerWheel, ExpiryInPast_FiresOnNextAdvance)
{
	uint64_t now = kStart + 500;

	EXPECT_EQ(Advance(now), 0u);
	Arm(0, kStart + 10);
	Arm(1, 0);
	Arm(2, now);
	Arm(3, now + 1);
	/* Stored as the current tick: that is when it fires. */
	EXPECT_EQ(items_[0].tm.expire, now);
	EXPECT_EQ(items_[1].tm.expire, now);
	EXPECT_EQ(Advance(now), 3u);
	EXPECT_TRUE(Armed(3));

	/* An advance to an earlier tick is an advance to the current one. */
	Arm(4, kStart);
	EXPECT_EQ(Advance(kStart), 1u);
	EXPECT_EQ(Now(), now);
	EXPECT_EQ(FiredIds().back(), 4u);
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, FarBeyondRange_FiresExactlyAtItsTick)
{
	uint64_t base = Now();
	uint64_t far = base + (uint64_t{1} << 40);

	Arm(0, far);
	Arm(1, far + 12345);
	Arm(2, base + kRange); /* first tick past the range */
	Arm(3, base + (uint64_t{1} << 63));
	Arm(4, UINT64_MAX);
	EXPECT_EQ(Count(), 5u);

	EXPECT_EQ(Advance(base + kRange - 1), 0u);
	EXPECT_EQ(Advance(base + kRange), 1u);
	EXPECT_EQ(Advance(far - 1), 0u);
	EXPECT_EQ(Advance(far), 1u);
	EXPECT_EQ(Advance(far + 12344), 0u);
	EXPECT_EQ(Advance(far + 12345), 1u);
	EXPECT_EQ(Advance(base + (uint64_t{1} << 63) - 1), 0u);
	EXPECT_EQ(Advance(base + (uint64_t{1} << 63)), 1u);
	EXPECT_EQ(Advance(UINT64_MAX - 1), 0u);
	EXPECT_EQ(Advance(UINT64_MAX), 1u);
	EXPECT_EQ(FiredIds(), std::vector<unsigned>({2, 0, 1, 3, 4}));
	EXPECT_EQ(Count(), 0u);
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, FarBeyondRange_FiresInOneJump)
{
	uint64_t base = Now();

	Arm(0, base + (uint64_t{1} << 40) + 3);
	Arm(1, base + (uint64_t{1} << 40));
	Arm(2, base + (uint64_t{1} << 36));
	Arm(3, base + 17);
	EXPECT_EQ(Advance(base + (uint64_t{1} << 41)), 4u);
	EXPECT_EQ(FiredIds(), std::vector<unsigned>({3, 2, 1, 0}));
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, BigJump_TwoHours_FiresAllInOrder)
{
	std::mt19937_64 rng(7);
	uint64_t base = Now();

	for (unsigned i = 0; i < kItems; i++)
		Arm(i, base + rng() % (kTwoHours + 1));
	EXPECT_EQ(Advance(base + kTwoHours), kItems);
	EXPECT_EQ(Count(), 0u);
	EXPECT_EQ(Now(), base + kTwoHours);
	std::vector<unsigned> ids = FiredIds();
	std::sort(ids.begin(), ids.end());
	for (unsigned i = 0; i < kItems; i++)
		ASSERT_EQ(ids[i], i); /* each exactly once */
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, BigJump_SkipsEmptyStretches)
{
	uint64_t base = Now();

	/* Stepping tick by tick, these would never finish. */
	EXPECT_EQ(Advance(base + kTwoHours), 0u);
	EXPECT_EQ(Now(), base + kTwoHours);
	base = Now();
	Arm(0, base + (uint64_t{1} << 60));
	Arm(1, base + 3 * kTwoHours);
	EXPECT_EQ(Advance(base + (uint64_t{1} << 60)), 2u);
	EXPECT_EQ(FiredIds(), std::vector<unsigned>({1, 0}));
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, Budget_StopsAndResumes)
{
	uint64_t base = Now();

	for (unsigned i = 0; i < 10; i++)
		Arm(i, base + 5);
	for (unsigned i = 10; i < 15; i++)
		Arm(i, base + 7);
	Arm(15, base + 100);

	EXPECT_EQ(Advance(base + 50, 3), 3u);
	EXPECT_EQ(Count(), 13u);
	EXPECT_EQ(Now(), base + 5); /* stopped where work remains */
	/* Armed between the stop and the target: fires in its place. */
	Arm(16, base + 6);
	EXPECT_EQ(Advance(base + 50, 0), 0u);
	EXPECT_EQ(Advance(base + 50, 4), 4u);
	EXPECT_EQ(Advance(base + 50, 100), 9u);
	EXPECT_EQ(Now(), base + 50);
	EXPECT_EQ(Count(), 1u);
	ASSERT_EQ(fired_.size(), 16u);
	EXPECT_EQ(fired_[9].expire, base + 5);
	EXPECT_EQ(fired_[10].id, 16u);
	EXPECT_EQ(fired_[11].expire, base + 7);
	ExpectFiredInOrder();

	/* Budget exactly used up with nothing left due: the cursor reaches now. */
	EXPECT_EQ(Advance(base + 200, 1), 1u);
	EXPECT_EQ(Now(), base + 200);
}

TEST_F(TimerWheel, Budget_ResumesOnLaterCall)
{
	uint64_t base = Now();

	for (unsigned i = 0; i < 4; i++)
		Arm(i, base + 300 + i);
	EXPECT_EQ(Advance(base + 1000, 2), 2u);
	EXPECT_EQ(Now(), base + 301);
	/* An earlier now counts as the current tick: nothing more is due yet. */
	EXPECT_EQ(Advance(base, 10), 0u);
	EXPECT_EQ(Advance(base + 2000, 10), 2u);
	EXPECT_EQ(FiredIds(), std::vector<unsigned>({0, 1, 2, 3}));
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, Callback_RearmsSameTimer_Periodic)
{
	uint64_t base = Now();

	on_fire_ = [this](Item &it) { dtcp_wheel_arm(&wh_, &it.tm, it.tm.expire + 10); };
	Arm(0, base + 10);
	EXPECT_EQ(Advance(base + 100), 10u);
	EXPECT_TRUE(Armed(0));
	EXPECT_EQ(items_[0].tm.expire, base + 110);
	EXPECT_EQ(Count(), 1u);
	for (unsigned i = 0; i < 10; i++)
		EXPECT_EQ(fired_[i].expire, base + 10 * (i + 1));
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, Callback_RearmDueNow_FiresAgainInSameCall)
{
	uint64_t base = Now();
	unsigned left = 2;

	on_fire_ = [&](Item &it) {
		if (left > 0) {
			left--;
			/* In the past: due at once. */
			dtcp_wheel_arm(&wh_, &it.tm, it.tm.expire - 5);
		}
	};
	Arm(0, base + 40);
	Arm(1, base + 41);
	EXPECT_EQ(Advance(base + 50), 4u);
	EXPECT_EQ(FiredIds(), std::vector<unsigned>({0, 0, 0, 1}));
	EXPECT_EQ(Count(), 0u);
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, Callback_CancelsOtherTimerDueSameTick)
{
	uint64_t base = Now();

	on_fire_ = [this](Item &it) {
		Cancel(it.id == 0 ? 1 : 0);
		Cancel(2);
	};
	Arm(0, base + 20);
	Arm(1, base + 20);
	Arm(2, base + 21);
	EXPECT_EQ(Advance(base + 30), 1u);
	EXPECT_EQ(Count(), 0u);
	EXPECT_FALSE(Armed(0));
	EXPECT_FALSE(Armed(1));
	EXPECT_FALSE(Armed(2));
}

TEST_F(TimerWheel, Callback_ArmsOthersDueBeforeNow_FireInOrder)
{
	uint64_t base = Now();

	on_fire_ = [&](Item &it) {
		if (it.id != 0)
			return;
		Arm(2, base + 20);
		Arm(3, base + 5); /* before the cursor: clamped to base + 10 */
		Arm(4, base + 300000);
	};
	Arm(0, base + 10);
	Arm(1, base + 30);
	EXPECT_EQ(Advance(base + 40), 4u);
	EXPECT_EQ(FiredIds(), std::vector<unsigned>({0, 3, 2, 1}));
	EXPECT_EQ(fired_[1].expire, base + 10);
	EXPECT_TRUE(Armed(4));
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, Count_Bookkeeping)
{
	uint64_t base = Now();

	for (unsigned i = 0; i < 100; i++)
		Arm(i, base + 1 + i * 1000);
	Arm(100, base + 2 * kRange);
	EXPECT_EQ(Count(), 101u);
	for (unsigned i = 0; i < 50; i++)
		Arm(i, base + 500 + i); /* re-arm does not count twice */
	EXPECT_EQ(Count(), 101u);
	for (unsigned i = 70; i < 100; i++)
		Cancel(i);
	Cancel(70);
	EXPECT_EQ(Count(), 71u);
	EXPECT_EQ(Advance(base + 530), 31u); /* ids 0..30 */
	EXPECT_EQ(Count(), 40u);
	EXPECT_EQ(Advance(base + kRange), 39u);
	EXPECT_EQ(Count(), 1u);
	Cancel(100);
	EXPECT_EQ(Count(), 0u);
	EXPECT_EQ(dtcp_wheel_next_hint(&wh_), UINT64_MAX);
}

TEST_F(TimerWheel, Fire_OrderNonDecreasing)
{
	std::mt19937_64 rng(11);
	const uint64_t scales[] = {10, 1000, 100000, uint64_t{1} << 34};
	uint64_t base = Now();

	for (unsigned i = 0; i < kItems; i++)
		Arm(i, base + rng() % (scales[i % 4] + 1));
	uint64_t now = base;
	for (unsigned step = 0; step < 100000 && Count() > 0; step++) {
		Advance(now, static_cast<unsigned>(rng() % 64));
		now += rng() % (uint64_t{1} << 30);
	}
	EXPECT_EQ(fired_.size(), kItems);
	ExpectFiredInOrder();
}

TEST_F(TimerWheel, NextHint_LowerBoundOfEarliest)
{
	uint64_t base = Now();

	EXPECT_EQ(dtcp_wheel_next_hint(&wh_), UINT64_MAX);
	Arm(0, base + 3); /* same 256-tick block as the cursor: exact */
	EXPECT_EQ(dtcp_wheel_next_hint(&wh_), base + 3);
	Arm(1, base + 100000);
	EXPECT_EQ(dtcp_wheel_next_hint(&wh_), base + 3);
	Cancel(0);
	EXPECT_GE(dtcp_wheel_next_hint(&wh_), base);
	EXPECT_LE(dtcp_wheel_next_hint(&wh_), base + 100000);
	Cancel(1);
	Arm(2, base + (uint64_t{1} << 40));
	EXPECT_GE(dtcp_wheel_next_hint(&wh_), base);
	EXPECT_LE(dtcp_wheel_next_hint(&wh_), base + (uint64_t{1} << 40));
	Cancel(2);
	EXPECT_EQ(dtcp_wheel_next_hint(&wh_), UINT64_MAX);
}

TEST_F(TimerWheel, Kind_UntouchedByWheel)
{
	uint64_t base = Now();

	Arm(3, base + 1);
	Arm(3, base + 2);
	Advance(base + 2);
	EXPECT_EQ(items_[3].tm.kind, 21);
}

/*
 * The reference: a std::set of (expire, id) says which timers are armed and
 * when they fire. Each firing must be the earliest entry of the set, at the
 * wheel's current tick, once; after an advance that did not use its whole
 * budget nothing due may be left.
 */
class Reference {
public:
	Reference(uint64_t seed, unsigned pool)
		: seed_(seed), rng_(seed), items_(pool), ref_exp_(pool, 0),
		  ref_armed_(pool, false)
	{
		dtcp_wheel_init(&wh_, rng_() & ((uint64_t{1} << 48) - 1));
		for (unsigned i = 0; i < pool; i++) {
			dtcp_timer_init(&items_[i].tm, 0);
			items_[i].id = i;
		}
	}

	void Run(unsigned ops)
	{
		for (op_ = 0; op_ < ops && !broken_; op_++) {
			/* Alternate churn (frequent big jumps, few timers armed) with
			 * filling (no big jumps: thousands armed on every level and in
			 * the overflow, until the next churn phase drains them). */
			bool fill = op_ / 100000 % 2 == 1;
			unsigned r = rng_() % 100;

			if (r < (fill ? 60 : 45))
				ArmRandom(Pick(), dtcp_wheel_now(&wh_));
			else if (r < (fill ? 70 : 60))
				Cancel(Pick());
			else
				Advance(Target(fill), Budget());
			Check(dtcp_wheel_count(&wh_) == ref_.size(), "count() differs");
			peak_ = std::max<size_t>(peak_, ref_.size());
		}
		if (broken_)
			return;
		/* Nothing lost: everything left fires once time is far enough. */
		side_effects_ = false;
		Advance(dtcp_wheel_now(&wh_) + (uint64_t{1} << 36), UINT_MAX);
		Check(ref_.empty() && dtcp_wheel_count(&wh_) == 0, "timers left after the flush");
		for (const Item &it : items_)
			Check(!dtcp_timer_armed(&it.tm), "a timer armed after the flush");
	}

	size_t peak() const { return peak_; }
	uint64_t fired() const { return total_fired_; }

private:
	unsigned Pick() { return static_cast<unsigned>(rng_() % items_.size()); }

	uint64_t Delay()
	{
		static const uint64_t scales[] = {10, 1000, 100000, uint64_t{1} << 34};

		return rng_() % (scales[rng_() % 4] + 1);
	}

	uint64_t Target(bool fill)
	{
		uint64_t now = dtcp_wheel_now(&wh_);
		unsigned r = rng_() % (fill ? 995 : 1000);

		if (r < 10) /* an earlier now counts as the current tick */
			return now - std::min<uint64_t>(now, rng_() % 100);
		if (r < 500)
			return now + rng_() % 11;
		if (r < 850)
			return now + rng_() % 1001;
		if (r < 995)
			return now + rng_() % 100001;
		return now + rng_() % ((uint64_t{1} << 34) + 1);
	}

	unsigned Budget()
	{
		unsigned r = rng_() % 10;

		if (r < 4)
			return UINT_MAX;
		if (r < 7)
			return static_cast<unsigned>(rng_() % 9);
		return static_cast<unsigned>(rng_() % 1001);
	}

	void Check(bool ok, const char *what)
	{
		if (ok || broken_)
			return;
		broken_ = true;
		ADD_FAILURE() << what << " (seed " << seed_ << ", op " << op_ << ")";
	}

	/* Arm id at base + a delay from one of the scales, sometimes in the past. */
	void ArmRandom(unsigned id, uint64_t base)
	{
		uint64_t expire = base + Delay();

		if (rng_() % 20 == 0)
			expire = base - std::min<uint64_t>(base, rng_() % 1000);
		Arm(id, expire);
	}

	void Arm(unsigned id, uint64_t expire)
	{
		uint64_t want = std::max(expire, dtcp_wheel_now(&wh_));

		if (ref_armed_[id])
			ref_.erase({ref_exp_[id], id});
		dtcp_wheel_arm(&wh_, &items_[id].tm, expire);
		ref_.insert({want, id});
		ref_exp_[id] = want;
		ref_armed_[id] = true;
		Check(dtcp_timer_armed(&items_[id].tm) && items_[id].tm.expire == want,
		      "arm: not armed at the clamped expiry");
	}

	void Cancel(unsigned id)
	{
		if (ref_armed_[id])
			ref_.erase({ref_exp_[id], id});
		ref_armed_[id] = false;
		dtcp_wheel_cancel(&wh_, &items_[id].tm);
		Check(!dtcp_timer_armed(&items_[id].tm), "cancel: still armed");
	}

	void Advance(uint64_t target, unsigned budget)
	{
		uint64_t before = dtcp_wheel_now(&wh_);
		uint64_t now = std::max(target, before);
		unsigned n;

		target_ = now;
		fired_ = 0;
		last_fire_ = before;
		n = dtcp_wheel_advance(&wh_, target, budget, &Reference::OnFire, this);
		total_fired_ += n;

		uint64_t cur = dtcp_wheel_now(&wh_);
		bool due_left = !ref_.empty() && ref_.begin()->first <= now;

		Check(n == fired_, "advance: returned a count other than the callbacks made");
		Check(n <= budget, "advance: budget exceeded");
		if (n < budget) {
			Check(!due_left, "advance: a due timer did not fire");
			Check(cur == now, "advance: current tick is not now");
		} else {
			Check(cur == now || cur == last_fire_, "advance: stopped at an odd tick");
		}
		Check(ref_.empty() || ref_.begin()->first >= cur, "advance: timer behind the cursor");
		uint64_t hint = dtcp_wheel_next_hint(&wh_);
		if (ref_.empty())
			Check(hint == UINT64_MAX, "hint: not UINT64_MAX when empty");
		else
			Check(hint >= cur && hint <= ref_.begin()->first, "hint: out of bounds");
	}

	static void OnFire(void *ctx, dtcp_timer *t)
	{
		auto *self = static_cast<Reference *>(ctx);
		unsigned id = ItemOf(t)->id;

		self->fired_++;
		self->Check(!dtcp_timer_armed(t), "fire: still armed in the callback");
		self->Check(self->ref_armed_[id] && self->ref_exp_[id] == t->expire,
			    "fire: not armed at this expiry in the reference");
		self->Check(!self->ref_.empty() && self->ref_.begin()->first == t->expire,
			    "fire: not the earliest armed timer");
		self->Check(t->expire <= self->target_, "fire: early");
		self->Check(t->expire >= self->last_fire_, "fire: out of order");
		self->Check(dtcp_wheel_now(&self->wh_) == t->expire, "fire: now is not its expiry");
		self->ref_.erase({t->expire, id});
		self->ref_armed_[id] = false;
		self->last_fire_ = t->expire;
		if (self->side_effects_)
			self->SideEffect(id, t->expire);
	}

	/* What a TCP callback does: re-arm itself, cancel or arm another. */
	void SideEffect(unsigned id, uint64_t at)
	{
		unsigned r = rng_() % 100;

		if (r < 4)
			Arm(id, at + rng_() % 20);
		else if (r < 7)
			Cancel(Pick());
		else if (r < 10)
			ArmRandom(Pick(), at);
	}

	uint64_t seed_;
	std::mt19937_64 rng_;
	dtcp_wheel wh_;
	std::vector<Item> items_;
	std::vector<uint64_t> ref_exp_;
	std::vector<bool> ref_armed_;
	std::set<std::pair<uint64_t, unsigned>> ref_;
	uint64_t target_ = 0;
	uint64_t last_fire_ = 0;
	unsigned fired_ = 0;
	uint64_t total_fired_ = 0;
	unsigned op_ = 0;
	size_t peak_ = 0;
	bool side_effects_ = true;
	bool broken_ = false;
};

void
RunReference(uint64_t seed)
{
	Reference ref(seed, 50000);

	ref.Run(1000000);
	EXPECT_GT(ref.peak(), 5000u) << "the mix no longer fills the wheel";
	::testing::Test::RecordProperty("peak_armed", std::to_string(ref.peak()));
	::testing::Test::RecordProperty("fired", std::to_string(ref.fired()));
}

TEST(TimerWheelReference, MillionOps_Seed1)
{
	RunReference(0x5eed0001);
}

TEST(TimerWheelReference, MillionOps_Seed2)
{
	RunReference(20240917);
}

} /* namespace */

// The tick a time falls in is taken by a reciprocal multiply (recip.h):
// it must equal the division for every divisor the config allows
// ([timer] tick_us 10 to 100000, in ns) and every time up to far past the
// epoch, around each multiple, where an off-by-one would show.
TEST(Recip, EqualsDivision)
{
	std::mt19937_64 rng(6);
	const uint64_t divisors[] = { 2, 3, 7, 1000, 10000, 999999, 1000000, 1048576,
				      100000000, 0xffffffffull, 1ull << 40 };
	for (uint64_t d : divisors) {
		uint64_t inv = dtcp_recip(d);
		for (int i = 0; i < 20000; i++) {
			uint64_t x = rng() >> (rng() % 64);
			if (x > UINT64_MAX - d)
				x = UINT64_MAX - d;
			ASSERT_EQ(dtcp_recip_div(x, d, inv), x / d) << x << " / " << d;
			uint64_t k = x / d * d;
			for (uint64_t y : { k - 1, k, k + 1, k + d - 1 }) {
				if (y <= UINT64_MAX - d) {
					ASSERT_EQ(dtcp_recip_div(y, d, inv), y / d) << y << " / " << d;
				}
			}
		}
		for (uint64_t x : std::initializer_list<uint64_t>{ 0, 1, d - 1, d, d + 1,
								   1795320281108756403ull,
								   UINT64_MAX - d })
			ASSERT_EQ(dtcp_recip_div(x, d, inv), x / d) << x << " / " << d;
	}
	for (int i = 0; i < 20000; i++) {
		uint64_t d = 2 + rng() % 100000000000ull, x = rng() % (UINT64_MAX - d);
		ASSERT_EQ(dtcp_recip_div(x, d, dtcp_recip(d)), x / d) << x << " / " << d;
	}
}
