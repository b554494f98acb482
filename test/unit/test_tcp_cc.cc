// SPDX-License-Identifier: BSD-3-Clause
// Congestion control ops (lib/tcp/tcp_cc.c) against the RFCs' formulas:
// NewReno (RFC 5681, RFC 3465, RFC 6582), checked also against a reference
// model of the window arithmetic over random events, and CUBIC
// (RFC 9438), driven by ACKs at a fixed RTT on a fake clock. Pure unit
// tests: no worker, no packets, the clock an argument.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "../../lib/tcp/tcp_cc.h"

namespace {

constexpr uint32_t kMss = 1460;
constexpr uint64_t kMs = 1000000;           // ns
constexpr uint64_t kSec = 1000 * kMs;
// RFC 9438 §4.1.1 and §4.6, written out here rather than taken from the code.
constexpr double kC = 0.4;
constexpr double kBeta = 0.7;
constexpr double kAlpha = 3 * (1 - kBeta) / (1 + kBeta);

// A connection's congestion state and a fake clock, driven through the ops.
class Flow {
public:
	explicit Flow(const char *name, uint32_t mss = kMss) : ops_(dtcp_cc_find(name))
	{
		EXPECT_NE(ops_, nullptr) << name;
		std::memset(&cc_, 0xa5, sizeof(cc_)); // init must set every field it reads
		ops_->init(&cc_, mss, now_);
	}

	const dtcp_cc &cc() const { return cc_; }
	const dtcp_cc_cubic &cu() const { return cc_.cubic; }
	uint32_t cwnd() const { return cc_.cwnd; }
	double segs() const { return double(cc_.cwnd) / cc_.mss; }
	uint64_t now() const { return now_; }
	void Advance(uint64_t ns) { now_ += ns; }
	void SetRtt(uint64_t ns) { rtt_ns_ = ns; }

	// An ACK of acked bytes while the sender had filled its window: what
	// stays in flight after it is cwnd - acked (RFC 5681 FlightSize).
	void Ack(uint32_t acked)
	{
		uint32_t flight = cc_.cwnd > acked ? cc_.cwnd - acked : 0;
		ops_->on_ack(&cc_, acked, flight, now_, uint32_t(rtt_ns_ / 1000));
	}
	// The same with the application leaving the window mostly unused.
	void AckAppLimited(uint32_t acked) { ops_->on_ack(&cc_, acked, 0, now_, uint32_t(rtt_ns_ / 1000)); }

	void AckAt(uint64_t t, uint32_t acked)
	{
		now_ = t;
		Ack(acked);
	}

	// ACKs paced by the RTT: each round an ACK for every full segment the
	// window held when the round began, evenly spread, the last one an RTT
	// after the round began.
	void NextAck()
	{
		if (i_ == n_) {
			round_start_ = now_;
			n_ = std::max(cc_.cwnd / cc_.mss, 1u);
			i_ = 0;
		}
		i_++;
		now_ = std::max(now_, round_start_ + rtt_ns_ * i_ / n_);
		Ack(cc_.mss);
	}
	bool RoundDone() const { return i_ == n_; }
	// The rest of the round under way, or a whole one.
	void Round()
	{
		do
			NextAck();
		while (i_ < n_);
	}
	// Seconds since the congestion avoidance stage began (RFC 9438 t).
	double StageTime() const { return (now_ - cc_.cubic.t_epoch_ns) * 1e-9; }
	// Paced ACKs until the stage has begun and t has reached t_s.
	void AckUntil(double t_s)
	{
		do
			NextAck();
		while (!(cc_.flags & DTCP_CC_F_EPOCH) || StageTime() < t_s);
	}

	// Slow start from IW to exactly segs full segments (ssthresh still high).
	void GrowTo(uint32_t segs)
	{
		while (cc_.cwnd < segs * cc_.mss)
			Ack(cc_.mss);
		ASSERT_EQ(cc_.cwnd, segs * cc_.mss);
	}

	// The hooks as the stack calls them, at the fake clock's time.
	void AckRaw(uint32_t acked, uint32_t flight, uint32_t srtt_us)
	{
		ops_->on_ack(&cc_, acked, flight, now_, srtt_us);
	}
	void Loss(uint32_t flight) { ops_->on_loss(&cc_, flight, now_); }
	void Dupack() { ops_->on_dupack(&cc_); }
	void PartialAck(uint32_t acked) { ops_->on_partial_ack(&cc_, acked); }
	void RecoveryEnd(uint32_t flight) { ops_->on_recovery_end(&cc_, flight, now_); }
	void Rto(uint32_t flight) { ops_->on_rto(&cc_, flight, now_); }

	// Fast retransmit with the window full, then a full ACK leaving
	// ssthresh in flight: cwnd = min(ssthresh, ssthresh + SMSS) = ssthresh.
	void LossAndRecovery()
	{
		Loss(cc_.cwnd);
		RecoveryEnd(cc_.ssthresh);
	}

private:
	const dtcp_cc_ops *ops_;
	dtcp_cc cc_;
	uint64_t now_ = 5 * kSec;  // not 0: nothing may take 0 for "unset"
	uint64_t rtt_ns_ = 100 * kMs;
	uint64_t round_start_ = 0;
	uint32_t n_ = 0, i_ = 0;
};

// RFC 9438 Figure 1 in segments, t in seconds from the start of the stage.
double WCubic(double t, double k, double w_max) { return kC * std::pow(t - k, 3) + w_max; }
// Figure 2.
double KFig2(double w_max, double cwnd_epoch) { return std::cbrt((w_max - cwnd_epoch) / kC); }

// ---------------------------------------------------------------- lookup

TEST(CcOps, FindByName)
{
	EXPECT_EQ(dtcp_cc_find("newreno"), &dtcp_cc_newreno_ops);
	EXPECT_EQ(dtcp_cc_find("cubic"), &dtcp_cc_cubic_ops);
	EXPECT_EQ(dtcp_cc_find("reno"), nullptr);
	EXPECT_EQ(dtcp_cc_find("CUBIC"), nullptr);
	EXPECT_EQ(dtcp_cc_find(""), nullptr);
	EXPECT_EQ(dtcp_cc_find(nullptr), nullptr);
	for (const dtcp_cc_ops *o : { &dtcp_cc_newreno_ops, &dtcp_cc_cubic_ops }) {
		EXPECT_NE(o->init, nullptr);
		EXPECT_NE(o->on_ack, nullptr);
		EXPECT_NE(o->on_loss, nullptr);
		EXPECT_NE(o->on_dupack, nullptr);
		EXPECT_NE(o->on_partial_ack, nullptr);
		EXPECT_NE(o->on_recovery_end, nullptr);
		EXPECT_NE(o->on_rto, nullptr);
	}
}

// The size tcp_cc.h documents, which the TCB grows by.
TEST(CcOps, StateIs72Bytes)
{
	EXPECT_EQ(sizeof(dtcp_cc), 72u);
}

// RFC 6928 §2: IW = min(10*MSS, max(2*MSS, 14600)); RFC 5681 §3.1: ssthresh arbitrarily high.
TEST(CcOps, Init_Rfc6928InitialWindow)
{
	for (const char *name : { "newreno", "cubic" }) {
		for (uint32_t mss : { 536u, 1000u, 1460u, 4000u, 8960u }) {
			Flow f(name, mss);
			uint32_t iw = std::min(10 * mss, std::max(2 * mss, 14600u));

			EXPECT_EQ(f.cwnd(), iw) << name << " mss " << mss;
			EXPECT_EQ(dtcp_cc_initial_window(mss), iw);
			EXPECT_EQ(f.cc().ssthresh, UINT32_MAX / 2) << name;
			EXPECT_EQ(f.cc().mss, mss);
			EXPECT_EQ(f.cc().flags, 0);
		}
	}
}

// ---------------------------------------------------------------- NewReno

// RFC 5681 §3.1 with RFC 3465 byte counting: cwnd += min(bytes acked, L)
// per ACK, L = 2*SMSS.
TEST(NewReno, SlowStart_GrowsByAckedAtMostTwoSmss)
{
	Flow f("newreno");
	uint32_t w = f.cwnd();

	f.Ack(500);
	EXPECT_EQ(f.cwnd(), w += 500);
	f.Ack(kMss);
	EXPECT_EQ(f.cwnd(), w += kMss);
	f.Ack(2 * kMss); // a delayed ACK for two segments counts both
	EXPECT_EQ(f.cwnd(), w += 2 * kMss);
	f.Ack(10 * kMss); // a stretch ACK: L caps it
	EXPECT_EQ(f.cwnd(), w += 2 * kMss);
	f.Ack(0); // a SYN or FIN acknowledged alone: no data, no growth
	EXPECT_EQ(f.cwnd(), w);
	// One RTT: an SMSS for each full segment the window held, about double.
	f.Round();
	EXPECT_EQ(f.cwnd(), w + w / kMss * kMss);
}

// RFC 5681 §3.1 equation 3, counted in bytes (RFC 3465 §2.1): cwnd +=
// SMSS*acked/cwnd per ACK, so about one SMSS per RTT, with one ACK per
// segment or one per two (delayed ACKs). Exactly the sum of the per-ACK
// steps; never more than SMSS; less by at most a byte per ACK (integer
// division), one ACK's share when the window is not a whole number of
// ACKs, and the share the window's own growth within the round takes:
// SMSS - 2*SMSS*per_ack/cwnd - ACKs.
TEST(NewReno, CongestionAvoidance_OneSmssPerRtt)
{
	for (uint32_t per_ack : { kMss, 2 * kMss }) {
		for (uint32_t segs : { 20u, 100u, 1000u }) {
			Flow f("newreno");

			f.GrowTo(2 * segs);
			f.LossAndRecovery();
			ASSERT_EQ(f.cwnd(), segs * kMss);
			ASSERT_EQ(f.cc().ssthresh, segs * kMss);
			for (int r = 0; r < 5; r++) {
				uint32_t before = f.cwnd();
				uint32_t acks = before / per_ack;
				uint32_t expect = 0;

				for (uint32_t i = 0; i < acks; i++) {
					expect += uint32_t(uint64_t(kMss) * per_ack / (before + expect));
					f.Advance(100 * kMs / acks);
					f.Ack(per_ack);
				}
				EXPECT_EQ(f.cwnd() - before, expect) << segs << " segments, round " << r;
				EXPECT_LE(f.cwnd() - before, kMss);
				EXPECT_GE(f.cwnd() - before, kMss - 2 * kMss * per_ack / before - acks)
					<< segs << " segments, " << per_ack << " bytes per ACK, round " << r;
			}
		}
	}
}

// Equation 3 would add nothing once cwnd > SMSS*SMSS; at least a byte it is.
TEST(NewReno, CongestionAvoidance_AtLeastOneBytePerAck)
{
	Flow f("newreno");

	f.GrowTo(3000); // 4.38 MB > 1460^2
	f.LossAndRecovery();
	uint32_t w = f.cwnd();
	ASSERT_GT(w, kMss * kMss);
	f.Ack(kMss);
	EXPECT_EQ(f.cwnd(), w + 1);
}

// RFC 5681 §3.2 steps 2-3 (equation 4): ssthresh = max(FlightSize/2, 2*SMSS), cwnd = ssthresh + 3*SMSS.
TEST(NewReno, FastRetransmit_HalfFlightSizePlusThreeSegments)
{
	struct {
		uint32_t flight, ssthresh;
	} cases[] = {
		{ 100 * kMss, 50 * kMss },
		{ 30001, 15000 },
		{ 5 * kMss, 2 * kMss + kMss / 2 },
		{ 4 * kMss, 2 * kMss },
		{ 3 * kMss, 2 * kMss },   // half is 1.5 SMSS: the floor of 2
		{ kMss, 2 * kMss },
		{ 0, 2 * kMss },
	};
	for (const auto &k : cases) {
		Flow f("newreno");

		f.GrowTo(120);
		f.Loss(k.flight);
		EXPECT_EQ(f.cc().ssthresh, k.ssthresh) << "flight " << k.flight;
		EXPECT_EQ(f.cwnd(), k.ssthresh + 3 * kMss) << "flight " << k.flight;
		EXPECT_TRUE(f.cc().flags & DTCP_CC_F_RECOVERY);
	}
}

// RFC 5681 §3.2 step 4, RFC 6582 §3.2 steps 3 and 5.
TEST(NewReno, Recovery_InflateDeflateAndExit)
{
	Flow f("newreno");

	f.GrowTo(40);
	f.Loss(40 * kMss);
	ASSERT_EQ(f.cwnd(), 23 * kMss);
	// Each further duplicate ACK: one SMSS more.
	f.Dupack();
	f.Dupack();
	EXPECT_EQ(f.cwnd(), 25 * kMss);
	// RFC 6582 §3.2 step 5: "Deflate the congestion window by the amount of
	// new data acknowledged ... If the partial ACK acknowledges at least one
	// SMSS of new data, then add back SMSS bytes". 3000 bytes: deflate by
	// them, add one SMSS back.
	f.PartialAck(3000);
	EXPECT_EQ(f.cwnd(), 25 * kMss - 3000 + kMss);
	// Exactly one SMSS: still added back.
	f.PartialAck(kMss);
	EXPECT_EQ(f.cwnd(), 25 * kMss - 3000 + kMss);
	// Below one SMSS: deflated, nothing added back.
	f.PartialAck(kMss - 1);
	EXPECT_EQ(f.cwnd(), 25 * kMss - 3000 + 1);
	f.PartialAck(1);
	EXPECT_EQ(f.cwnd(), 25 * kMss - 3000);
	// One that acknowledges more than cwnd leaves one SMSS.
	f.PartialAck(100 * kMss);
	EXPECT_EQ(f.cwnd(), kMss);
	// Full ACK: min(ssthresh, max(FlightSize, SMSS) + SMSS).
	f.RecoveryEnd(5 * kMss);
	EXPECT_EQ(f.cwnd(), 6 * kMss);
	EXPECT_FALSE(f.cc().flags & DTCP_CC_F_RECOVERY);
	f.Loss(40 * kMss);
	f.RecoveryEnd(30 * kMss);
	EXPECT_EQ(f.cwnd(), 20 * kMss); // ssthresh
	f.Loss(40 * kMss);
	f.RecoveryEnd(0);
	EXPECT_EQ(f.cwnd(), 2 * kMss); // nothing in flight: SMSS + SMSS
}

// RFC 5681 §3.1: on a timeout ssthresh by equation 4, cwnd the loss window of one SMSS.
TEST(NewReno, Rto_LossWindowOneSmss)
{
	Flow f("newreno");

	f.GrowTo(64);
	f.Rto(64 * kMss);
	EXPECT_EQ(f.cc().ssthresh, 32 * kMss);
	EXPECT_EQ(f.cwnd(), kMss);
	// A second timeout with the same data out: the same ssthresh.
	f.Rto(64 * kMss);
	EXPECT_EQ(f.cc().ssthresh, 32 * kMss);
	EXPECT_EQ(f.cwnd(), kMss);
	f.Rto(kMss);
	EXPECT_EQ(f.cc().ssthresh, 2 * kMss);
	// During recovery: recovery is over.
	Flow g("newreno");
	g.GrowTo(20);
	g.Loss(20 * kMss);
	g.Rto(18 * kMss);
	EXPECT_EQ(g.cc().ssthresh, 9 * kMss);
	EXPECT_EQ(g.cwnd(), kMss);
	EXPECT_FALSE(g.cc().flags & DTCP_CC_F_RECOVERY);
	// Slow start again up to ssthresh, then congestion avoidance.
	g.Round();
	EXPECT_EQ(g.cwnd(), 2 * kMss);
}

// RFC 3465 §2.3: in the slow start that follows a retransmission timeout L
// is 1 SMSS, not 2 (the ACKs for what the timeout resent may cover data the
// peer held long before; counting all of it would release a burst). Until
// cwnd reaches ssthresh, or the next loss; then L = 2 SMSS again. The same
// for CUBIC, whose slow start is Reno's (RFC 9438 §4.10).
TEST(CcOps, SlowStartAfterRto_LimitOneSmssUntilSsthresh)
{
	for (const char *name : { "newreno", "cubic" }) {
		SCOPED_TRACE(name);
		Flow f(name);

		f.GrowTo(40);
		f.Rto(40 * kMss);
		ASSERT_EQ(f.cwnd(), kMss);
		const uint32_t ssthresh = f.cc().ssthresh;   // 20 (NewReno) or 28 (CUBIC) SMSS
		// A stretch ACK for all 40 segments: one SMSS.
		f.Advance(kMs);
		f.Ack(40 * kMss);
		EXPECT_EQ(f.cwnd(), 2 * kMss);
		// A delayed ACK for two: still one.
		f.Advance(kMs);
		f.Ack(2 * kMss);
		EXPECT_EQ(f.cwnd(), 3 * kMss);
		// Less than an SMSS: what it acknowledged.
		f.Advance(kMs);
		f.Ack(100);
		EXPECT_EQ(f.cwnd(), 3 * kMss + 100);
		// Below ssthresh, an SMSS per ACK of two segments, up to the ACK
		// that takes cwnd to ssthresh, which ends this slow start.
		while (f.cwnd() < ssthresh) {
			uint32_t w = f.cwnd();

			f.Advance(kMs);
			f.Ack(2 * kMss);
			ASSERT_EQ(f.cwnd(), w + kMss);
		}
		// A fast retransmit whose recovery leaves cwnd below ssthresh: the
		// slow start after it is an ordinary one, L = 2 SMSS.
		f.Loss(f.cwnd());
		f.RecoveryEnd(0);
		ASSERT_EQ(f.cwnd(), 2 * kMss);
		ASSERT_LT(f.cwnd(), f.cc().ssthresh);
		f.Advance(kMs);
		f.Ack(2 * kMss);
		EXPECT_EQ(f.cwnd(), 4 * kMss) << "L = 2 SMSS once the timeout's slow start is over";

		// A fast retransmit during the timeout's slow start ends it too.
		Flow g(name);
		g.GrowTo(40);
		g.Rto(40 * kMss);
		g.Ack(2 * kMss);
		ASSERT_EQ(g.cwnd(), 2 * kMss);
		g.Loss(20 * kMss);
		g.RecoveryEnd(0);
		ASSERT_EQ(g.cwnd(), 2 * kMss);
		ASSERT_LT(g.cwnd(), g.cc().ssthresh);
		g.Ack(2 * kMss);
		EXPECT_EQ(g.cwnd(), 4 * kMss) << "L = 2 SMSS after the fast retransmit";

		// Timeouts again before anything new is acknowledged (backed off,
		// RFC 6298 §5.5): still the timeout's slow start, L = 1 SMSS.
		Flow h(name);
		h.GrowTo(40);
		h.Rto(40 * kMss);
		h.Rto(40 * kMss);
		h.Ack(3 * kMss);
		EXPECT_EQ(h.cwnd(), 2 * kMss);
	}
}

// The window arithmetic of ack_advance(), dupack() and rtx_fire() as it
// stood inline in tcp_input.c and tcp_timer.c (commit 1fd5eb7), with the two
// rules that arithmetic missed:
//  - RFC 6582 §3.2 step 5: a partial ACK adds SMSS back only "If the
//    partial ACK acknowledges at least one SMSS of new data";
//  - RFC 3465 §2.3: L = 1 SMSS in the slow start after a timeout, until
//    cwnd reaches ssthresh or the next fast retransmit.
// The NewReno ops must give the same cwnd and ssthresh after every event
// of a long random sequence.
struct InlineNewReno {
	uint32_t cwnd, ssthresh, mss;
	bool after_rto;   // the slow start that follows a timeout

	static uint32_t Min(uint32_t a, uint32_t b) { return a < b ? a : b; }
	static uint32_t Max(uint32_t a, uint32_t b) { return a > b ? a : b; }
	void Init(uint32_t m)  // conn_init() and syn_options()
	{
		mss = m;
		ssthresh = UINT32_MAX / 2;
		cwnd = Min(10u * mss, Max(2u * mss, 14600u));
		after_rto = false;
	}
	void NewAck(uint32_t data_acked)  // ack_advance(), not in recovery
	{
		if (data_acked > 0) {
			if (cwnd < ssthresh) {
				cwnd += Min(data_acked, (after_rto ? 1u : 2u) * mss);
				if (cwnd >= ssthresh)
					after_rto = false;
			} else {
				cwnd += Max((uint32_t)((uint64_t)mss * data_acked / cwnd), 1u);
			}
		}
	}
	void FullAck(uint32_t flight) { cwnd = Min(ssthresh, Max(flight, mss) + mss); }
	void PartialAck(uint32_t acked)
	{
		cwnd = (cwnd > acked ? cwnd - acked : 0) + (acked >= mss ? mss : 0);
	}
	void DupAckInRecovery() { cwnd += mss; }
	void ThirdDupAck(uint32_t flight)  // dupack()
	{
		ssthresh = Max(flight / 2, 2u * mss);
		cwnd = ssthresh + 3u * mss;
		after_rto = false;
	}
	void Rto(uint32_t flight)  // rtx_fire()
	{
		ssthresh = Max(flight / 2, 2u * mss);
		cwnd = mss;
		after_rto = true;
	}
};

TEST(NewReno, MatchesReferenceArithmetic_RandomEvents)
{
	std::mt19937 rng(20240611);

	for (uint32_t mss : { 536u, 1460u, 8948u }) {
		Flow f("newreno", mss);
		InlineNewReno ref;
		bool recovery = false;

		ref.Init(mss);
		for (int i = 0; i < 200000; i++) {
			uint32_t flight = std::uniform_int_distribution<uint32_t>(0, 2 * ref.cwnd + mss)(rng);
			uint32_t acked = std::uniform_int_distribution<uint32_t>(0, 3 * mss)(rng);
			unsigned ev = std::uniform_int_distribution<unsigned>(0, 99)(rng);

			f.Advance(kMs);
			if (recovery) {
				if (ev < 50) {
					ref.DupAckInRecovery();
					f.Dupack();
				} else if (ev < 80) {
					ref.PartialAck(acked);
					f.PartialAck(acked);
				} else if (ev < 97) {
					ref.FullAck(flight);
					f.RecoveryEnd(flight);
					recovery = false;
				} else {
					ref.Rto(flight);
					f.Rto(flight);
					recovery = false;
				}
			} else if (ev < 96) {
				ref.NewAck(acked);
				f.AckRaw(acked, flight, 20000);
			} else if (ev < 99) {
				ref.ThirdDupAck(flight);
				f.Loss(flight);
				recovery = true;
			} else {
				ref.Rto(flight);
				f.Rto(flight);
			}
			ASSERT_EQ(f.cwnd(), ref.cwnd) << "event " << i << " mss " << mss;
			ASSERT_EQ(f.cc().ssthresh, ref.ssthresh) << "event " << i << " mss " << mss;
		}
	}
}

// ---------------------------------------------------------------- CUBIC

// RFC 9438 §4.10: below ssthresh CUBIC may use Reno's slow start, which it does (no HyStart++).
TEST(Cubic, SlowStart_SameAsReno)
{
	Flow c("cubic"), r("newreno");

	for (uint32_t acked : { 100u, kMss, 2 * kMss, 7 * kMss, 0u, 1u }) {
		c.Ack(acked);
		r.Ack(acked);
		EXPECT_EQ(c.cwnd(), r.cwnd());
	}
	for (int i = 0; i < 5; i++) {
		c.Round();
		r.Round();
		EXPECT_EQ(c.cwnd(), r.cwnd());
	}
}

// §4.6: ssthresh = flight_size * beta_cubic, exactly, at least 2 SMSS;
// cwnd_prior = cwnd; and with RFC 6582 recovery the window at its end is ssthresh.
TEST(Cubic, MultiplicativeDecrease_BetaExact)
{
	Flow f("cubic");

	f.GrowTo(1000);
	f.Loss(1000 * kMss);
	EXPECT_EQ(f.cc().ssthresh, 700 * kMss);
	EXPECT_EQ(f.cwnd(), 703 * kMss);  // RFC 5681 §3.2 step 3, RFC 6582
	EXPECT_EQ(f.cu().cwnd_prior, 1000 * kMss);
	EXPECT_EQ(f.cu().w_max, 1000 * kMss);  // the first loss: W_max = cwnd (§4.7, "otherwise")
	f.Dupack();
	EXPECT_EQ(f.cwnd(), 704 * kMss);
	f.RecoveryEnd(800 * kMss);
	EXPECT_EQ(f.cwnd(), 700 * kMss);

	// FlightSize, not cwnd, is what beta multiplies (§4.6); W_max is still cwnd.
	Flow g("cubic");
	g.GrowTo(1000);
	g.Loss(500 * kMss);
	EXPECT_EQ(g.cc().ssthresh, 350 * kMss);
	EXPECT_EQ(g.cu().w_max, 1000 * kMss);
	// Any byte count: floor(flight * 0.7).
	for (uint32_t flight : { 12345u, 99999u, 3000001u, 4000000000u }) {
		Flow h("cubic");
		h.GrowTo(30);
		h.Loss(flight);
		EXPECT_EQ(h.cc().ssthresh, uint32_t(uint64_t(flight) * 7 / 10)) << flight;
	}
}

// §4.6: "cwnd is at least 2 SMSS" after a loss, "ssthresh is at least 2 SMSS"
// (and RFC 5681 equation 4's floor); the window leaving recovery is never less.
TEST(Cubic, Loss_WindowNeverBelowTwoSmss)
{
	// 4171 * 0.7 < 2 SMSS <= 4172 * 0.7
	for (uint32_t flight : { 0u, 1u, kMss, 2 * kMss, 4171u, 4172u }) {
		for (uint32_t left : { 0u, 1u, kMss }) {
			Flow f("cubic");

			f.GrowTo(12);
			f.Loss(flight);
			EXPECT_EQ(f.cc().ssthresh, 2 * kMss) << flight;
			EXPECT_GE(f.cwnd(), 2 * kMss);
			f.RecoveryEnd(left);
			EXPECT_EQ(f.cwnd(), 2 * kMss) << flight << " " << left;
			// Congestion avoidance from there keeps it at least that.
			for (int r = 0; r < 20; r++) {
				f.Round();
				EXPECT_GE(f.cwnd(), 2 * kMss);
			}
		}
	}
}

// Figure 2, K = cubic_root((W_max - cwnd_epoch)/C), for several W_max; with
// the window full at the loss (flight = cwnd = W_max) and no earlier W_max,
// cwnd_epoch = beta * W_max and K is the cubic_root(W_max*(1-beta)/C) of RFC 8312.
TEST(Cubic, K_Figure2_SeveralWmax)
{
	for (uint32_t w : { 12u, 37u, 100u, 1000u, 10000u }) {
		Flow f("cubic");

		f.GrowTo(w);
		f.LossAndRecovery();
		ASSERT_EQ(f.cwnd(), w * kMss * 7 / 10);
		f.Ack(kMss);  // the stage starts with the first ACK in congestion avoidance
		ASSERT_TRUE(f.cc().flags & DTCP_CC_F_EPOCH);
		EXPECT_EQ(f.cu().t_epoch_ns, f.now());
		EXPECT_EQ(f.cu().w_max, w * kMss);
		EXPECT_EQ(f.cu().cwnd_epoch, w * kMss * 7 / 10);
		EXPECT_EQ(f.cu().w_est, f.cu().cwnd_epoch);

		double k = KFig2(w, 0.7 * w);
		double k_rfc8312 = std::cbrt(w * (1 - kBeta) / kC);
		// k_us truncates to whole microseconds.
		EXPECT_NEAR(f.cu().k_us * 1e-6, k, 1e-6) << "W_max " << w;
		EXPECT_NEAR(k, k_rfc8312, 1e-9);
	}
}

// After a timeout (§4.8), and for a stage that starts without an earlier W_max:
// K = 0, W_max = cwnd_epoch, W_est = cwnd_epoch; ssthresh by beta; cwnd one SMSS.
TEST(Cubic, Rto_KZeroWmaxIsEpochWindow)
{
	Flow f("cubic");

	f.GrowTo(100);
	f.Rto(100 * kMss);
	EXPECT_EQ(f.cwnd(), kMss);
	EXPECT_EQ(f.cc().ssthresh, 70 * kMss);
	EXPECT_EQ(f.cu().cwnd_prior, 100 * kMss);
	// Backed-off timeouts before anything new is acknowledged: the same event.
	f.Rto(100 * kMss);
	EXPECT_EQ(f.cc().ssthresh, 70 * kMss);
	EXPECT_EQ(f.cu().cwnd_prior, 100 * kMss);
	// Slow start, an SMSS per full ACK, back to ssthresh: no stage yet.
	while (f.cwnd() < f.cc().ssthresh) {
		f.Advance(kMs);
		f.Ack(kMss);
	}
	EXPECT_FALSE(f.cc().flags & DTCP_CC_F_EPOCH);
	uint32_t epoch_cwnd = f.cwnd();
	f.Advance(kMs);
	f.Ack(kMss);
	ASSERT_TRUE(f.cc().flags & DTCP_CC_F_EPOCH);
	EXPECT_EQ(f.cu().k_us, 0u);
	EXPECT_EQ(f.cu().w_max, epoch_cwnd);
	EXPECT_EQ(f.cu().cwnd_epoch, epoch_cwnd);
	EXPECT_EQ(f.cu().w_est, epoch_cwnd);
	// A timeout in fast recovery keeps the cwnd_prior the loss set.
	Flow g("cubic");
	g.GrowTo(50);
	g.Loss(50 * kMss);
	g.Rto(40 * kMss);
	EXPECT_EQ(g.cu().cwnd_prior, 50 * kMss);
	EXPECT_EQ(g.cc().ssthresh, 28 * kMss);
	EXPECT_EQ(g.cwnd(), kMss);
	EXPECT_FALSE(g.cc().flags & DTCP_CC_F_RECOVERY);
}

// §4.7: at a loss with cwnd below W_max, W_max = cwnd * (1 + beta)/2; then
// K by Figure 2 from that W_max and this stage's cwnd_epoch.
TEST(Cubic, FastConvergence_LowersWmax)
{
	Flow f("cubic");

	f.GrowTo(1000);
	f.LossAndRecovery();
	ASSERT_EQ(f.cu().w_max, 1000 * kMss);
	ASSERT_EQ(f.cwnd(), 700 * kMss);
	// A second loss before the window is back at W_max.
	f.LossAndRecovery();
	EXPECT_EQ(f.cu().w_max, 595 * kMss);  // 700 * 0.85
	EXPECT_EQ(f.cu().cwnd_prior, 700 * kMss);
	EXPECT_EQ(f.cwnd(), 490 * kMss);
	f.Ack(kMss);
	EXPECT_NEAR(f.cu().k_us * 1e-6, KFig2(595, 490), 1e-6);
	// A loss at or above W_max just remembers cwnd.
	Flow g("cubic");
	g.GrowTo(100);
	g.LossAndRecovery();
	while (g.cwnd() < 110 * kMss)
		g.Round();
	uint32_t w = g.cwnd();
	g.LossAndRecovery();
	EXPECT_EQ(g.cu().w_max, w);
}

// Figure 1 with ACKs paced at a fixed RTT on the fake clock: cwnd at
// t = 0, K/2, K, 2K against W_cubic(t) = C*(t-K)^3 + W_max, in segments,
// and at every ACK in between.
// Tolerance 1 + RTT^2 * |W_cubic''(t)| segments: cwnd moves in whole
// segments (the per-ACK fractions wait in a credit), so it sits up to one
// segment off the real-valued curve; and each ACK steers it toward
// W_cubic(t + RTT) over about an RTT, a look-ahead and a lag that cancel
// to first order and leave about RTT^2 * W''/2 (W'' = 6C(t-K)).
// The (W_max, RTT) pairs keep W_est at or below the curve at every
// checkpoint, which is checked: the concave and convex regions, not Reno's.
TEST(Cubic, WindowFollowsFigure1)
{
	struct {
		uint32_t w_max;
		uint64_t rtt_ms;
	} cases[] = { { 300, 100 }, { 1000, 100 }, { 5000, 20 }, { 5000, 100 } };

	for (const auto &c : cases) {
		Flow f("cubic");
		double k = KFig2(c.w_max, 0.7 * c.w_max);
		double rtt = c.rtt_ms * 1e-3;
		std::vector<double> checkpoints = { 0.0, k / 2, k, 2 * k };
		size_t next = 0;

		f.SetRtt(c.rtt_ms * kMs);
		f.GrowTo(c.w_max);
		f.LossAndRecovery();
		while (next < checkpoints.size()) {
			f.NextAck();
			double t = f.StageTime();
			double want = WCubic(t, k, c.w_max);
			double tol = 1 + rtt * rtt * 6 * kC * std::fabs(t - k);

			ASSERT_NEAR(f.segs(), want, tol)
				<< "W_max " << c.w_max << ", RTT " << c.rtt_ms << " ms, t = " << t;
			if (t < checkpoints[next])
				continue;
			EXPECT_LT(t - checkpoints[next], rtt / 10) << "checkpoint overshot";
			EXPECT_NEAR(f.segs(), want, tol)
				<< "W_max " << c.w_max << ", RTT " << c.rtt_ms << " ms, t = " << t;
			// One byte of slack: at t = 0 both are cwnd_epoch exactly, and the
			// double on the right may round either way (FMA contraction differs
			// between optimised and debug builds).
			EXPECT_LE(f.cu().w_est, want * kMss + 1.0) << "Reno-friendly region at t = " << t;
			next++;
		}
	}
}

// §4.2: target is at most 1.5 * cwnd, so the window grows at most by half
// per RTT (slower than slow start) however far the curve runs ahead: a
// 5 s RTT puts W_cubic(t + RTT) at twice the window. Each full-sized ACK
// then adds SMSS/2, a stretch ACK its share at once.
TEST(Cubic, Target_AtMostOneAndAHalfCwnd)
{
	Flow f("cubic");

	f.SetRtt(5 * kSec);
	f.GrowTo(20);
	f.LossAndRecovery();
	ASSERT_EQ(f.cwnd(), 14 * kMss);
	// The first ACK of the stage: W_est, a fraction past cwnd_epoch, is
	// above W_cubic(0) = cwnd_epoch; the Reno-friendly region, no growth.
	f.Ack(kMss);
	ASSERT_TRUE(f.cc().flags & DTCP_CC_F_EPOCH);
	ASSERT_EQ(f.cwnd(), 14 * kMss);
	for (int r = 0; r < 3; r++) {
		uint32_t before = f.cwnd();
		uint32_t acks = before / kMss;

		f.Round();
		// Half an SMSS per ACK, in whole segments, the fraction carried over.
		EXPECT_LE(f.cwnd(), before + before / 2 + kMss) << "round " << r;
		EXPECT_GT(f.cwnd() + kMss, before + acks * kMss / 2) << "round " << r;
	}
	// One ACK for ten segments: five segments of growth at once.
	uint32_t before = f.cwnd();
	f.Advance(kMs);
	f.Ack(10 * kMss);
	EXPECT_EQ(f.cwnd(), before + 5 * kMss);
}

// §4.4, §4.5: the growth per interval shrinks up to K (concave: cwnd below
// W_max) and rises after it (convex: cwnd at or above W_max).
TEST(Cubic, ConcaveThenConvex)
{
	Flow f("cubic");
	double k = KFig2(1000, 700);
	std::vector<double> w;

	f.GrowTo(1000);
	f.LossAndRecovery();
	for (int j = 0; j <= 16; j++) {
		f.AckUntil(j * k / 8);
		w.push_back(f.segs());
	}
	for (int j = 0; j < 16; j++) {
		double d = w[j + 1] - w[j];

		EXPECT_GT(d, 0) << "eighth " << j;
		if (j < 7) {
			EXPECT_GT(d, w[j + 2] - w[j + 1]) << "concave, eighth " << j;
		} else if (j > 7 && j < 15) {
			EXPECT_LT(d, w[j + 2] - w[j + 1]) << "convex, eighth " << j;
		}
		if (j < 8) {
			EXPECT_LT(w[j], 1000) << "below W_max before K, eighth " << j;
		}
	}
	EXPECT_NEAR(w[8], 1000, 1);
	for (int j = 9; j <= 16; j++)
		EXPECT_GT(w[j], 1000) << "above W_max after K, eighth " << j;
}

// §4.3: with a small W_max and a short RTT the curve is slow in wall time
// and W_est grows faster. §4.3: W_est += alpha * segments_acked / cwnd,
// alpha_cubic = 3(1-beta)/(1+beta) until W_est reaches cwnd_prior, then 1:
// about alpha segments per RTT, then one as Reno. Replayed here in real
// numbers ACK by ACK: cwnd is within a segment of it (W_est moves in whole
// segments, the fraction waits; in the first RTTs, where the curve and
// W_est are close, the curve may be a segment ahead), and once W_est is
// clear of the curve cwnd is exactly W_est.
TEST(Cubic, RenoFriendly_TakesOverForSmallWmaxShortRtt)
{
	Flow f("cubic");
	double k = KFig2(100, 70);
	double est = 70;

	f.SetRtt(20 * kMs);
	f.GrowTo(100);
	f.LossAndRecovery();
	ASSERT_EQ(f.cu().cwnd_prior, 100 * kMss);
	for (int r = 1; r <= 150; r++) {
		do {
			double cwnd = f.segs();
			double alpha = est >= 100 ? 1 : kAlpha;

			f.NextAck();
			est += alpha / cwnd;
			ASSERT_NEAR(f.segs(), est, 1 + 1e-9) << "round " << r;
		} while (!f.RoundDone());
		if (r >= 10) {
			EXPECT_EQ(f.cwnd(), f.cu().w_est) << "round " << r;
		}
		EXPECT_EQ(bool(f.cc().flags & DTCP_CC_F_ALPHA_ONE), f.cu().w_est >= 100 * kMss);
		if (r == 50) {
			EXPECT_NEAR(f.segs(), 70 + 50 * kAlpha, 1.5);
		}
	}
	// 30/alpha = 56.7 RTTs to cwnd_prior, then one segment per RTT.
	EXPECT_NEAR(f.segs(), 100 + (150 - 30 / kAlpha), 1.5);
	// Far above the curve: three seconds in, W_cubic is still under W_max.
	double t = f.StageTime();
	EXPECT_LT(WCubic(t, k, 100), 100);
	EXPECT_GT(f.segs(), WCubic(t, k, 100) + 80);
}

// §4.2: t leaves out time the flow was application limited. ACKs that find
// the window mostly unused grow nothing and stop the clock: a flow paused
// for 5 s then goes on exactly as one that was never paused.
TEST(Cubic, AppLimited_CurveWaits)
{
	Flow a("cubic"), b("cubic");
	const uint64_t pause = 5 * kSec;

	a.GrowTo(1000);
	b.GrowTo(1000);
	a.LossAndRecovery();
	b.LossAndRecovery();
	// Not cwnd-limited at the first ACK: no stage begins.
	Flow c("cubic");
	c.GrowTo(1000);
	c.LossAndRecovery();
	c.AckAppLimited(kMss);
	EXPECT_FALSE(c.cc().flags & DTCP_CC_F_EPOCH);
	EXPECT_EQ(c.cwnd(), 700 * kMss);

	while (!(a.cc().flags & DTCP_CC_F_EPOCH) || a.StageTime() < 2.0) {
		a.NextAck();
		b.AckAt(a.now(), kMss);
		ASSERT_EQ(b.cwnd(), a.cwnd());
	}
	uint32_t w = b.cwnd();
	for (int j = 1; j <= 50; j++) {
		b.Advance(pause / 50);
		b.AckAppLimited(kMss);
		EXPECT_EQ(b.cwnd(), w);
	}
	EXPECT_EQ(b.cu().t_epoch_ns, a.cu().t_epoch_ns + pause);
	while (a.StageTime() < 6.0) {
		a.NextAck();
		b.AckAt(a.now() + pause, kMss);
		ASSERT_EQ(b.cwnd(), a.cwnd());
	}
	EXPECT_GT(a.cwnd(), w + 50 * kMss);
}

}  // namespace
