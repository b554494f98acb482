// SPDX-License-Identifier: BSD-3-Clause
// The TCP layer of the packet-level harness: segments a peer sends us, built
// field by field; segments we send, read back by the test's own parser; and
// a fixture with fixed ISNs and a fixed secret that reaches ESTABLISHED
// through real segments and records every event given to the application.
#ifndef DTCP_TEST_TCP_HARNESS_H
#define DTCP_TEST_TCP_HARNESS_H

#include "harness.h"

#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <dtcp/tcp.h>

// Header flag bits (RFC 9293 §3.1; ECE and CWR from RFC 3168 §23.2).
constexpr uint8_t kFin = 0x01;
constexpr uint8_t kSyn = 0x02;
constexpr uint8_t kRst = 0x04;
constexpr uint8_t kPsh = 0x08;
constexpr uint8_t kAck = 0x10;
constexpr uint8_t kUrg = 0x20;
constexpr uint8_t kEce = 0x40;
constexpr uint8_t kCwr = 0x80;

// Option kinds (RFC 9293 §3.2, RFC 7323 §2.2 and §3.2, RFC 2018 §2 and §3).
constexpr uint8_t kOptEol = 0;
constexpr uint8_t kOptNop = 1;
constexpr uint8_t kOptMss = 2;
constexpr uint8_t kOptWs = 3;
constexpr uint8_t kOptSackOk = 4;
constexpr uint8_t kOptSack = 5;
constexpr uint8_t kOptTs = 8;

// One letter per flag set, in the order S F R P A U E C: "SA", "R", "RA",
// "FA", "PA", "FPA"; "" for none.
std::string FlagsString(uint8_t flags);

// A SACK block: left edge, right edge (RFC 2018 §3).
using SackBlock = std::pair<uint32_t, uint32_t>;

// The bytes of the options a SYN or SYN-ACK of ours carries, in the order
// the stack lays them out: MSS; with timestamps, SACK-permitted (or two
// NOPs) then TS; without timestamps but with SACK, NOP NOP SACK-permitted;
// with window scaling (wscale >= 0), NOP then WS.
Bytes SynOptionBytes(uint16_t mss, bool sack, bool ts, uint32_t tsval, uint32_t tsecr,
		     int wscale);

// A frame we sent, read as Ethernet/IPv4/TCP.
struct TcpSeg {
	bool ok = false;            // IPv4, protocol 6, a whole header within the datagram
	// Ethernet and IPv4
	Mac eth_dst{}, eth_src{};
	uint32_t ip_src = 0, ip_dst = 0;
	uint8_t ttl = 0;
	bool df = false;
	bool ip_cksum_ok = false;
	// TCP header
	uint16_t sport = 0, dport = 0;
	uint32_t seq = 0, ack = 0;
	uint8_t doff = 0;           // data offset, in 32-bit words
	uint8_t reserved = 0;       // the four bits between data offset and flags
	uint8_t flags = 0;
	uint16_t win = 0;           // the raw field, before any scaling
	uint16_t urp = 0;
	bool cksum_ok = false;      // over the IPv4 pseudo-header and the whole segment
	// Options, read as RFC 9293 §3.2 says: EOL ends the list, NOP is one byte,
	// every other kind has a length byte.
	Bytes opts;                 // all bytes between the fixed header and the data
	bool opts_ok = false;       // every length fits the header and suits its kind
	bool has_mss = false;
	uint16_t mss = 0;
	bool has_ws = false;
	uint8_t ws = 0;
	bool sack_ok = false;
	bool has_ts = false;
	uint32_t tsval = 0, tsecr = 0;
	std::vector<SackBlock> sacks;
	Bytes payload;

	// Every bit of f is set.
	bool Has(uint8_t f) const { return (flags & f) == f; }
};
TcpSeg ParseTcp(const Bytes &frame);
// One line, tcpdump-like, sequence numbers in hex (kIss and kPeerIss read
// at a glance): "198.18.0.2:7 > 198.18.0.1:40000 [SA] seq 0x10000000 ...".
std::string ToString(const TcpSeg &s);
std::ostream &operator<<(std::ostream &os, const TcpSeg &s);

// Helpers that fail the test (ASSERT_*) stop only themselves: wrap calls in
// ASSERT_NO_FATAL_FAILURE() where later steps need them to have succeeded,
// e.g. ASSERT_NO_FATAL_FAILURE(OpenPassive()).
class TcpTest : public StackTest {
protected:
	// Packet tests see each ACK at once (no delayed ACK), each piece of
	// data sent at once (no Nagle), segments without SACK blocks (SACK not
	// offered) and a window that reopens by any amount (no receiver SWS
	// avoidance) unless they set cfg_.tcp_delack_ms, cfg_.tcp_nodelay,
	// cfg_.tcp_sack or cfg_.tcp_rcv_sws themselves after calling this.
	void SetUp() override
	{
		StackTest::SetUp();
		cfg_.tcp_delack_ms = 0;
		cfg_.tcp_nodelay = 1;
		cfg_.tcp_sack = 0;
		cfg_.tcp_rcv_sws = 0;
	}

	// The connection most tests use: the peer's port to ours, whichever side
	// opened it (Connect() binds kOurPort and calls kPeerPort).
	static constexpr uint16_t kOurPort = 7;
	static constexpr uint16_t kPeerPort = 40000;
	// Initial sequence numbers, far from 0 and from each other.
	static constexpr uint32_t kIss = 0x10000000;
	static constexpr uint32_t kPeerIss = 0x20000000;
	// What the peer announces in the handshakes the fixture makes.
	static constexpr uint16_t kPeerMss = 1460;
	static constexpr uint16_t kPeerWin = 65535;
	static constexpr uint32_t kPeerTsval = 0x30000000;

	// A segment the peer sends us. Every setter returns the segment, so calls
	// chain: Seg().ack().seq(P(1)).ack_(O(1)).data("hello"). Options are laid
	// out in call order and padded with EOL to a multiple of 4 bytes.
	struct Seg {
		uint32_t src_ip = kPeerIp, dst_ip = kOurIp;
		uint16_t src_port = kPeerPort, dst_port = kOurPort;
		uint32_t seq_no = 0, ack_no = 0;
		uint8_t flag_bits = 0;
		uint8_t reserved_bits = 0;
		uint16_t window = 65535;   // the most an unscaled window says
		uint16_t urgent = 0;
		Bytes options;             // before padding
		int doff_words = -1;       // -1: from the header and options' length
		Bytes payload;
		bool bad_checksum = false;
		Ipv4Opts ipv4;

		Seg &sport(uint16_t p) { src_port = p; return *this; }
		Seg &dport(uint16_t p) { dst_port = p; return *this; }
		Seg &ip_src(uint32_t a) { src_ip = a; return *this; }
		Seg &ip_dst(uint32_t a) { dst_ip = a; return *this; }
		Seg &ip(const Ipv4Opts &o) { ipv4 = o; return *this; }
		Seg &seq(uint32_t v) { seq_no = v; return *this; }
		Seg &ack_(uint32_t v) { ack_no = v; return *this; }
		Seg &syn() { flag_bits |= kSyn; return *this; }
		Seg &fin() { flag_bits |= kFin; return *this; }
		Seg &rst() { flag_bits |= kRst; return *this; }
		Seg &psh() { flag_bits |= kPsh; return *this; }
		Seg &ack() { flag_bits |= kAck; return *this; }
		Seg &urg() { flag_bits |= kUrg; return *this; }
		Seg &ece() { flag_bits |= kEce; return *this; }
		Seg &cwr() { flag_bits |= kCwr; return *this; }
		// All eight flag bits at once, replacing any set before.
		Seg &flags(uint8_t f) { flag_bits = f; return *this; }
		// The four reserved bits (the low one was RFC 3540's NS).
		Seg &reserved(uint8_t bits) { reserved_bits = bits & 0xf; return *this; }
		Seg &win(uint16_t w) { window = w; return *this; }
		Seg &urp(uint16_t u) { urgent = u; return *this; }
		Seg &mss(uint16_t v);
		Seg &ws(uint8_t shift);
		Seg &sack_ok();
		Seg &ts(uint32_t val, uint32_t ecr);
		Seg &sack(const std::vector<SackBlock> &blocks);
		Seg &nop() { options.push_back(kOptNop); return *this; }
		Seg &eol() { options.push_back(kOptEol); return *this; }
		// Bytes put in the options as given, for malformed options.
		Seg &opt(const Bytes &raw);
		// The data offset field, whatever the header's real length.
		Seg &doff(uint8_t words) { doff_words = words & 0xf; return *this; }
		Seg &data(const std::string &s) { payload.assign(s.begin(), s.end()); return *this; }
		Seg &data(const Bytes &b) { payload = b; return *this; }
		Seg &bad_cksum() { bad_checksum = true; return *this; }
	};

	// The whole frame, kPeerMac to kOurMac, with the TCP checksum over the
	// IPv4 pseudo-header (wrong on purpose with bad_cksum()).
	static Bytes Frame(const Seg &s);

	// Sequence numbers: the peer's ISS plus n, ours plus n.
	uint32_t P(int64_t n) const { return (uint32_t)(peer_iss_ + n); }
	uint32_t O(int64_t n) const { return (uint32_t)(iss_ + n); }

	// StackTest's, then the fixed ISN source and secret, then the peer's MAC
	// learned (so our segments go out at once) and the counters marked.
	void Start() override;

	using StackTest::Inject;
	void Inject(const Seg &s) { Inject(Frame(s)); }

	// --- Application events ---------------------------------------------------------
	struct Event {
		enum dtcp_event_type type = DTCP_EV_ACCEPTABLE;
		int error = 0;
		struct dtcp_conn *conn = nullptr;
		Bytes data;                // DTCP_EV_DATA: the bytes, copied; the mbuf is freed
	};
	static const char *EventName(enum dtcp_event_type t);
	// "[ACCEPTABLE, DATA(5), CLOSED(-104)]"
	static std::string EventsString(const std::vector<Event> &evs);
	// The event function of every listener and connection the fixture makes;
	// user is the fixture.
	static void OnEvent(struct dtcp_worker *w, const struct dtcp_event *ev);
	// Events since the last TakeEvents() / Expect*Event*().
	const std::vector<Event> &Events() const { return events_; }
	std::vector<Event> TakeEvents();
	// Exactly one event since the last take, of type t; returns it.
	Event ExpectEvent(enum dtcp_event_type t);
	// Exactly these events since the last take, in this order; returns them.
	std::vector<Event> ExpectEvents(const std::vector<enum dtcp_event_type> &types);
	void ExpectNoEvents();
	// Every DTCP_EV_DATA byte of the test, in order (TakeEvents leaves it).
	const Bytes &ReceivedBytes() const { return received_; }

	// --- Opening --------------------------------------------------------------------
	// Listen on (any address, port), default backlogs; the listener is listener_.
	void Listen(uint16_t port = kOurPort);
	// With auto_accept_ off: dtcp_tcp_accept() once; the connection or nullptr.
	struct dtcp_conn *AcceptOne();
	// dtcp_tcp_connect() to kPeerIp:rport from our lport; the connection becomes
	// conn_. Fails the test (non-fatally) and returns nullptr on an error.
	struct dtcp_conn *Connect(uint16_t rport = kPeerPort, uint16_t lport = kOurPort);
	// The SYN OpenPassive() injects: peer_iss_, kPeerWin, kPeerMss, and the
	// options our configuration turns on (SACK-permitted, TS, WS peer_ws_).
	Seg PeerSyn() const;
	// Listen (unless listening), SYN in, SYN-ACK out (flags "SA", seq O(0),
	// ack P(1), window and options checked), ACK in, nothing out, the
	// connection accepted and ESTABLISHED. Needs auto_accept_.
	void OpenPassive();
	void OpenPassive(const Seg &syn);
	// Connect, SYN out (checked), SYN-ACK in offering back what we offered,
	// ACK out (O(1), P(1), our window), DTCP_EV_CONNECTED, ESTABLISHED.
	void OpenActive();
	// Both leave snd_ = rcv_ = 1, no events, no frames, counters marked.

	// An ACK at the fixture's point, P(rcv_) acknowledging O(snd_), window
	// kPeerWin, with TS(peer_ts_, our_ts_) when timestamps were agreed.
	Seg PeerAck() const;

	// dtcp_conn_info of c (conn_ when nullptr).
	struct dtcp_conn_info Info(struct dtcp_conn *c = nullptr) const;
	void ExpectState(enum dtcp_tcp_state s, struct dtcp_conn *c = nullptr) const;

	// --- Checks of segments we sent ---------------------------------------------------
	// A segment of the fixture's connection: kOurMac/kOurIp:lport_ to
	// kPeerMac/kPeerIp:rport_, our TTL, both checksums right, reserved bits
	// clear, exactly these flags (FlagsString), seq and ack field. Besides:
	// a RST carries no options, no data and window 0; any other segment but
	// a SYN carries TS when timestamps were agreed (remembered in our_ts_,
	// never going back) and none otherwise. Failures print the segment.
	TcpSeg ExpectSeg(const Bytes &frame, const std::string &flags, uint32_t seq,
			 uint32_t ack);
	// The same, and the raw window field.
	TcpSeg ExpectSeg(const Bytes &frame, const std::string &flags, uint32_t seq,
			 uint32_t ack, uint16_t win);
	// "R" with seq and an ack field of 0; "RA" with both.
	TcpSeg ExpectRst(const Bytes &frame, uint32_t seq);
	TcpSeg ExpectRstAck(const Bytes &frame, uint32_t seq, uint32_t ack);
	// Our SYN after Connect(), and our SYN-ACK to the SYN offered: flags,
	// sequence numbers, SynWin(), option bytes exactly SynOptionBytes() for
	// what the configuration and the offer allow. Records our_ts_ and our_ws_.
	TcpSeg ExpectSyn(const Bytes &frame);
	TcpSeg ExpectSynAck(const Bytes &frame, const TcpSeg &offered);

	// What our configuration makes us announce.
	uint16_t OurMss() const;                   // tcp_mss, or the MTU less 40
	uint16_t SynWin() const;                   // min(rcvbuf, 65535), unscaled
	int OurWscale() const;                     // -1 when window scaling is off
	// The window field for a window of bytes once the handshake is done.
	uint16_t WinField(uint32_t bytes) const;

	// Set before Start() or before the connection they apply to.
	bool auto_accept_ = true;         // accept every connection on DTCP_EV_ACCEPTABLE
	uint32_t iss_ = kIss;             // what the ISN source answers
	uint32_t peer_iss_ = kPeerIss;
	uint8_t peer_ws_ = 0;             // the shift PeerSyn() and OpenActive() offer

	struct dtcp_conn *listener_ = nullptr;
	struct dtcp_conn *conn_ = nullptr;          // what OpenPassive/OpenActive reached
	std::vector<struct dtcp_conn *> accepted_;  // in order; removed on DTCP_EV_CLOSED
	uint16_t lport_ = kOurPort, rport_ = kPeerPort;  // the 4-tuple ExpectSeg checks
	// Our next sequence number is O(snd_), the peer's P(rcv_); tests move them.
	uint32_t snd_ = 0, rcv_ = 0;
	// Timestamps and window scaling as the handshake agreed them.
	bool ts_ok_ = false, ws_ok_ = false, sack_ok_ = false;
	uint32_t peer_ts_ = kPeerTsval;   // the TSval the peer sends; tests move it
	uint32_t our_ts_ = 0;             // the last TSval we sent
	uint8_t our_ws_ = 0;              // the shift our SYN or SYN-ACK announced

	// What both opens check through dtcp_conn_info once ESTABLISHED (c:
	// conn_ when nullptr); snd_wnd is the peer's window as we hold it.
	void ExpectOpened(uint32_t snd_wnd, struct dtcp_conn *c = nullptr) const;

private:
	std::vector<Event> events_;
	Bytes received_;
};

#endif
