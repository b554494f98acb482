// SPDX-License-Identifier: BSD-3-Clause
// A simulated Ethernet link joining two dtcp workers in one process, each on
// its own in-memory port and mbuf pool, on one fake clock. Each direction
// has a seeded fault stage: a bandwidth limit with a bounded queue in front
// (tail drop), a fixed one-way delay, and per-frame loss, duplication,
// reordering and corruption (one bit of the IP payload, so that the TCP
// checksum catches it). ARP runs over the link like everything else.
//
// On top of it, a transfer driver: an application on each side, written on
// the event interface, sends a seeded pseudo-random stream, half-closes,
// and checks every byte it receives against the peer's stream.
#ifndef DTCP_TEST_SIM_LINK_H
#define DTCP_TEST_SIM_LINK_H

#include "harness.h"

#include <cstdint>
#include <deque>
#include <functional>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include <dtcp/dtcp.h>

// One direction of the link. Fractions are per frame, in [0, 1].
struct LinkFaults {
	double loss = 0;             // dropped on the wire (after the queue)
	double dup = 0;              // delivered twice
	double reorder = 0;          // delayed by an extra reorder_min..max_ns
	double corrupt = 0;          // one bit of the IP payload flipped (IPv4 only)
	uint64_t delay_ns = 1000000; // one-way propagation delay
	uint64_t reorder_min_ns = 200000;
	uint64_t reorder_max_ns = 3000000;
	uint64_t bandwidth_bps = 100000000;  // 0: no serialisation delay, no queue
	unsigned queue_frames = 1024;        // frames waiting or serialising; more are tail-dropped

	// The same fault mix, by percentages.
	static LinkFaults Percent(double loss, double reorder = 0, double dup = 0,
				  double corrupt = 0);
};

// What one direction did to the frames offered to it.
struct LinkStats {
	uint64_t offered = 0;        // frames the sending worker put on the wire
	uint64_t bytes = 0;
	uint64_t tail_dropped = 0;
	uint64_t lost = 0;
	uint64_t duplicated = 0;
	uint64_t reordered = 0;
	uint64_t corrupted = 0;
	uint64_t delivered = 0;      // injected into the receiving port (copies included)
	uint64_t inject_failed = 0;  // the receiving port's RX ring was full
	uint64_t max_queue = 0;      // deepest the bandwidth queue got

	bool operator==(const LinkStats &o) const;
	std::string ToString() const;
};

class SimLink {
public:
	static constexpr uint32_t kIpA = Ip(198, 18, 0, 1);
	static constexpr uint32_t kIpB = Ip(198, 18, 0, 2);
	static const Mac kMacA;
	static const Mac kMacB;
	static constexpr uint64_t kStartNs = 1000000000ull;   // the clock at creation
	static constexpr uint64_t kIdleStepNs = 1000000;      // one timer tick

	enum Dir { AtoB = 0, BtoA = 1 };

	SimLink(uint64_t seed, const LinkFaults &ab, const LinkFaults &ba);
	~SimLink();    // destroys whatever Start() made, without checks
	SimLink(const SimLink &) = delete;
	SimLink &operator=(const SimLink &) = delete;

	// Change the configurations (both start from the harness's defaults and
	// their own address) before Start().
	struct dtcp_config &ConfigA() { return side_[0].cfg; }
	struct dtcp_config &ConfigB() { return side_[1].cfg; }
	// The offloads both in-memory ports claim (dtcp_memport_set_offloads),
	// before Start(). The link does what each frame asks of its port as a
	// NIC would (NicTransmit): TSO frames go on the wire as segments.
	void SetOffloads(uint64_t tx, uint64_t rx)
	{
		tx_offloads_ = tx;
		rx_offloads_ = rx;
	}

	// Pools, ports and workers, with a secret fixed from the seed (the same
	// run gives the same ISNs and timestamps). Fails with a message.
	::testing::AssertionResult Start(unsigned pool_size = 8191);

	struct dtcp_worker *A() const { return side_[0].w; }
	struct dtcp_worker *B() const { return side_[1].w; }
	uint64_t Now() const { return now_ns_; }

	// An application action at a time of the clock, run before the workers
	// are polled at that time (so what it sends leaves in the same step).
	void At(uint64_t ns, std::function<void()> fn);

	// One step: deliver every frame due now, poll both workers (until their
	// RX rings are empty) and put what they sent on the link; repeated while
	// frames fall due at this same instant. Then the clock jumps to the
	// earliest of the next delivery, the next application action and the
	// next timer tick: there is no public API for a worker's next timer, so
	// an idle link is polled once per tick (1 ms). False when one instant
	// needed more than a bounded number of rounds.
	bool Step();

	// Step until done() or a bound: the clock past deadline_ns (absolute),
	// or max_steps. The failure says which bound and where the clock was.
	::testing::AssertionResult RunUntil(const std::function<bool()> &done,
					    uint64_t deadline_ns, uint64_t max_steps);

	// A look at every frame: when side `side` sent it (before the faults),
	// and when it was handed to side `side` (after them). For traces.
	enum TapPoint { kSent, kDelivered };
	using Tap = std::function<void(uint64_t now_ns, TapPoint at, int side, const Bytes &frame)>;
	void SetTap(Tap tap) { tap_ = std::move(tap); }

	// Frames on the wire (queued, serialising or propagating).
	size_t InFlight() const { return wire_.size(); }
	// Every connection of both workers is gone or in TIME-WAIT and the link
	// and the RX rings are empty.
	bool Quiet() const;

	const LinkStats &Stats(Dir d) const { return dir_[d].stats; }
	uint64_t Steps() const { return steps_; }
	uint64_t Polls() const { return polls_; }

	// End of a test: every frame received by each worker ended in exactly
	// one DROP or END counter; then workers, ports and pools are destroyed
	// and every mbuf was back in its pool, and no DPDK heap block leaked.
	// The counters are saved first (Final*).
	::testing::AssertionResult Finish();
	const std::vector<uint64_t> &FinalCounters(int side) const { return final_ctr_[side]; }

	// Received frames not yet in a DROP or END counter.
	static int64_t Unaccounted(const struct dtcp_worker *w);

private:
	struct Side {
		struct dtcp_config cfg;
		struct rte_mempool *pool = nullptr;
		struct dtcp_port *port = nullptr;
		struct dtcp_worker *w = nullptr;
		unsigned in_use_before = 0;
	};
	struct Frame {
		uint64_t at;          // delivery time
		uint64_t order;       // ties broken by the order frames were made
		int to;               // receiving side
		Bytes bytes;
	};
	struct Later {
		bool operator()(const Frame &a, const Frame &b) const
		{
			return a.at != b.at ? a.at > b.at : a.order > b.order;
		}
	};
	struct Direction {
		LinkFaults f;
		std::mt19937_64 rng;
		std::deque<uint64_t> queue;   // serialisation end of frames not yet gone
		uint64_t busy_until = 0;
		LinkStats stats;
	};
	struct Action {
		uint64_t at;
		uint64_t order;
		std::function<void()> fn;
	};

	double Uniform(Direction &d);        // [0, 1)
	void Transmit(int from, Bytes frame);
	void Deliver();
	bool PollAll();
	void Destroy();

	Side side_[2];
	Direction dir_[2];
	std::priority_queue<Frame, std::vector<Frame>, Later> wire_;
	std::vector<Action> actions_;
	Tap tap_;
	uint64_t seed_;
	uint64_t now_ns_ = kStartNs;
	uint64_t order_ = 0;
	uint64_t steps_ = 0;
	uint64_t polls_ = 0;
	uint64_t heap_blocks_before_ = 0;
	uint64_t tx_offloads_ = 0, rx_offloads_ = 0;
	std::vector<uint64_t> final_ctr_[2];
};

// --- The transfer driver ---------------------------------------------------------

// Byte i of the stream a seed names: random access, so any stretch can be
// made or checked without keeping the stream.
void StreamFill(uint64_t seed, uint64_t offset, uint8_t *buf, size_t n);
// FNV-1a 64 of the first n bytes of the stream.
uint64_t StreamHash(uint64_t seed, uint64_t n);

struct TransferSpec {
	uint64_t seed = 1;                 // link faults, secrets, both streams
	uint64_t bytes_ab = 1 << 20;       // A sends, B receives
	uint64_t bytes_ba = 1 << 20;
	LinkFaults ab, ba;
	uint16_t port = 5001;
	uint64_t max_virtual_ns = 60ull * 1000000000;  // connect to both PEER_CLOSED
	uint64_t max_steps = 50000000;
	uint64_t drain_virtual_ns = 600ull * 1000000000;  // after close, until Quiet()
	// Applied to both configurations before Start().
	std::function<void(struct dtcp_config &)> configure;
	// Given to SimLink::SetTap().
	SimLink::Tap tap;
	// Given to SimLink::SetOffloads().
	uint64_t tx_offloads = 0, rx_offloads = 0;
};

// One side's application, as it saw the connection.
struct EndpointReport {
	uint64_t sent = 0;                 // bytes dtcp_tcp_send_copy took
	uint64_t received = 0;
	uint64_t rx_hash = 0;              // FNV-1a 64 of the bytes received, in order
	uint64_t first_mismatch = UINT64_MAX;   // offset of the first wrong byte
	bool shut = false;
	bool peer_closed = false;
	bool closed_event = false;         // DTCP_EV_CLOSED came
	int close_error = 0;
	unsigned writable_events = 0;
	unsigned data_events = 0;
	struct dtcp_conn_info info {};     // at completion, or at the last event
};

struct TransferReport {
	bool completed = false;            // both sides: all sent, all received, peer FIN
	std::string failure;               // why not, or what went wrong after
	uint64_t transfer_ns = 0;          // connect to both PEER_CLOSED
	uint64_t total_ns = 0;             // connect to Quiet() after close
	EndpointReport a, b;
	uint64_t expect_hash_ab = 0, expect_hash_ba = 0;
	LinkStats link_ab, link_ba;
	std::vector<uint64_t> ctr_a, ctr_b;     // after Quiet(), before destroy
	uint64_t steps = 0, polls = 0;

	double GoodputMbps(const TransferSpec &s) const;
	// Virtual time, goodput, link and the counters of interest, one block.
	std::string Summary(const TransferSpec &s) const;
	// Everything that must repeat from the seed, as one string.
	std::string Fingerprint() const;
};

// Run a whole transfer, including Finish()'s checks (failures are added to
// the current test through EXPECT_*). The report says what was seen.
TransferReport RunTransfer(const TransferSpec &spec);

#endif
