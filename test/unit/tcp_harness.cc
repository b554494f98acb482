// SPDX-License-Identifier: BSD-3-Clause
#include "tcp_harness.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

// The fixed secret: any 16 bytes will do, as long as every run has the same.
static const uint8_t kSecret[16] = { 0x64, 0x74, 0x63, 0x70, 0x2d, 0x74, 0x65, 0x73,
				     0x74, 0x2d, 0x73, 0x65, 0x63, 0x72, 0x65, 0x74 };

static void Put16(Bytes &b, uint16_t v)
{
	b.push_back((uint8_t)(v >> 8));
	b.push_back((uint8_t)v);
}

static void Put32(Bytes &b, uint32_t v)
{
	Put16(b, (uint16_t)(v >> 16));
	Put16(b, (uint16_t)v);
}

static uint16_t Get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t Get32(const uint8_t *p)
{
	return (uint32_t)Get16(p) << 16 | Get16(p + 2);
}

// The IPv4 pseudo-header's sum (RFC 9293 §3.1), a seed for RefCksum.
static uint32_t PseudoSum(uint32_t src, uint32_t dst, size_t tcp_len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6 +
	       (uint32_t)tcp_len;
}

static std::string IpString(uint32_t a)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
		 a & 0xff);
	return buf;
}

static std::string Hex(const Bytes &b)
{
	std::string s;
	char buf[4];

	for (size_t i = 0; i < b.size(); i++) {
		snprintf(buf, sizeof(buf), i ? " %02x" : "%02x", b[i]);
		s += buf;
	}
	return s;
}

// v as O(n) or P(n) when near the ISS, else in hex: for failure messages.
static std::string Rel(char side, uint32_t v, uint32_t iss)
{
	int32_t n = (int32_t)(v - iss);
	char buf[32];

	if (n > -(1 << 24) && n < (1 << 24))
		snprintf(buf, sizeof(buf), "%c(%d)", side, n);
	else
		snprintf(buf, sizeof(buf), "0x%08x", v);
	return buf;
}

std::string FlagsString(uint8_t flags)
{
	static const struct {
		uint8_t bit;
		char letter;
	} order[] = { { kSyn, 'S' }, { kFin, 'F' }, { kRst, 'R' }, { kPsh, 'P' },
		      { kAck, 'A' }, { kUrg, 'U' }, { kEce, 'E' }, { kCwr, 'C' } };
	std::string s;

	for (const auto &f : order)
		if (flags & f.bit)
			s += f.letter;
	return s;
}

Bytes SynOptionBytes(uint16_t mss, bool sack, bool ts, uint32_t tsval, uint32_t tsecr,
		     int wscale)
{
	Bytes b = { kOptMss, 4 };

	Put16(b, mss);
	if (ts) {
		if (sack)
			b.insert(b.end(), { kOptSackOk, 2 });
		else
			b.insert(b.end(), { kOptNop, kOptNop });
		b.insert(b.end(), { kOptTs, 10 });
		Put32(b, tsval);
		Put32(b, tsecr);
	} else if (sack) {
		b.insert(b.end(), { kOptNop, kOptNop, kOptSackOk, 2 });
	}
	if (wscale >= 0)
		b.insert(b.end(), { kOptNop, kOptWs, 3, (uint8_t)wscale });
	return b;
}

// Walks the options into s's fields; when desc is given, also describes
// them ("mss 1460,nop,ts 5 0"). Stops at EOL or at the first malformed one.
static void WalkOptions(TcpSeg &s, std::string *desc)
{
	const Bytes &o = s.opts;
	size_t i = 0;
	char buf[64];

	s.opts_ok = true;
	while (i < o.size()) {
		uint8_t kind = o[i];

		if (desc && i)
			*desc += ",";
		if (kind == kOptEol) {
			if (desc)
				*desc += "eol";
			return;
		}
		if (kind == kOptNop) {
			if (desc)
				*desc += "nop";
			i++;
			continue;
		}
		if (i + 1 >= o.size() || o[i + 1] < 2 || i + o[i + 1] > o.size()) {
			s.opts_ok = false;
			if (desc)
				*desc += "malformed: " + Hex(Bytes(o.begin() + (long)i, o.end()));
			return;
		}
		uint8_t len = o[i + 1];
		const uint8_t *v = &o[i + 2];
		bool fits = true;

		switch (kind) {
		case kOptMss:
			fits = len == 4;
			if (fits) {
				s.has_mss = true;
				s.mss = Get16(v);
			}
			snprintf(buf, sizeof(buf), "mss %u", fits ? s.mss : 0);
			break;
		case kOptWs:
			fits = len == 3;
			if (fits) {
				s.has_ws = true;
				s.ws = v[0];
			}
			snprintf(buf, sizeof(buf), "ws %u", fits ? s.ws : 0);
			break;
		case kOptSackOk:
			fits = len == 2;
			s.sack_ok = s.sack_ok || fits;
			snprintf(buf, sizeof(buf), "sackOK");
			break;
		case kOptSack:
			fits = len >= 10 && (len - 2) % 8 == 0;
			snprintf(buf, sizeof(buf), "sack %u", fits ? (len - 2) / 8 : 0);
			for (int k = 0; fits && k < (len - 2) / 8; k++)
				s.sacks.push_back({ Get32(v + 8 * k), Get32(v + 8 * k + 4) });
			break;
		case kOptTs:
			fits = len == 10;
			if (fits) {
				s.has_ts = true;
				s.tsval = Get32(v);
				s.tsecr = Get32(v + 4);
			}
			snprintf(buf, sizeof(buf), "ts %u %u", fits ? s.tsval : 0,
				 fits ? s.tsecr : 0);
			break;
		default:
			snprintf(buf, sizeof(buf), "kind %u len %u", kind, len);
			break;
		}
		if (desc)
			*desc += fits ? std::string(buf) : "bad length " + Hex(Bytes(o.begin() + (long)i,
										      o.begin() + (long)(i + len)));
		s.opts_ok = s.opts_ok && fits;
		i += len;
	}
}

TcpSeg ParseTcp(const Bytes &frame)
{
	Parsed p = Parse(frame);
	TcpSeg s;

	s.eth_dst = p.dst;
	s.eth_src = p.src;
	if (p.ethertype != 0x0800 || p.proto != 6 || p.l4.size() < 20)
		return s;
	s.ip_src = p.ip_src;
	s.ip_dst = p.ip_dst;
	s.ttl = p.ttl;
	s.df = (p.frag & 0x4000) != 0;
	s.ip_cksum_ok = p.ip_cksum_ok;

	const uint8_t *t = p.l4.data();
	s.sport = Get16(t);
	s.dport = Get16(t + 2);
	s.seq = Get32(t + 4);
	s.ack = Get32(t + 8);
	s.doff = t[12] >> 4;
	s.reserved = t[12] & 0xf;
	s.flags = t[13];
	s.win = Get16(t + 14);
	s.urp = Get16(t + 18);
	s.cksum_ok = RefCksum(t, p.l4.size(), PseudoSum(p.ip_src, p.ip_dst, p.l4.size())) == 0;

	size_t hlen = s.doff * 4u;
	if (hlen < 20 || hlen > p.l4.size())
		return s;
	s.ok = true;
	s.opts.assign(p.l4.begin() + 20, p.l4.begin() + (long)hlen);
	s.payload.assign(p.l4.begin() + (long)hlen, p.l4.end());
	WalkOptions(s, nullptr);
	return s;
}

std::string ToString(const TcpSeg &s)
{
	char buf[160];
	std::string out;

	snprintf(buf, sizeof(buf), "%s:%u > %s:%u [%s] seq 0x%08x ack 0x%08x win %u len %zu",
		 IpString(s.ip_src).c_str(), s.sport, IpString(s.ip_dst).c_str(), s.dport,
		 FlagsString(s.flags).c_str(), s.seq, s.ack, s.win, s.payload.size());
	out = buf;
	if (!s.ok)
		out = "not a whole TCP segment: " + out;
	if (s.urp)
		out += " urp " + std::to_string(s.urp);
	if (s.reserved)
		out += " reserved " + std::to_string(s.reserved);
	if (s.doff != 5)
		out += " doff " + std::to_string(s.doff);
	if (!s.opts.empty()) {
		TcpSeg scratch;
		std::string desc;

		scratch.opts = s.opts;
		WalkOptions(scratch, &desc);
		out += " <" + desc + ">";
	}
	out += s.cksum_ok ? " cksum ok" : " BAD CKSUM";
	if (!s.ip_cksum_ok)
		out += " BAD IP CKSUM";
	out += " ttl " + std::to_string(s.ttl);
	if (s.df)
		out += " DF";
	out += " " + ToString(s.eth_src) + " > " + ToString(s.eth_dst);
	return out;
}

std::ostream &operator<<(std::ostream &os, const TcpSeg &s)
{
	return os << ToString(s);
}

// --- The segment builder ----------------------------------------------------------------

TcpTest::Seg &TcpTest::Seg::mss(uint16_t v)
{
	options.insert(options.end(), { kOptMss, 4 });
	Put16(options, v);
	return *this;
}

TcpTest::Seg &TcpTest::Seg::ws(uint8_t shift)
{
	options.insert(options.end(), { kOptWs, 3, shift });
	return *this;
}

TcpTest::Seg &TcpTest::Seg::sack_ok()
{
	options.insert(options.end(), { kOptSackOk, 2 });
	return *this;
}

TcpTest::Seg &TcpTest::Seg::ts(uint32_t val, uint32_t ecr)
{
	options.insert(options.end(), { kOptTs, 10 });
	Put32(options, val);
	Put32(options, ecr);
	return *this;
}

TcpTest::Seg &TcpTest::Seg::sack(const std::vector<SackBlock> &blocks)
{
	options.insert(options.end(), { kOptSack, (uint8_t)(2 + 8 * blocks.size()) });
	for (const SackBlock &b : blocks) {
		Put32(options, b.first);
		Put32(options, b.second);
	}
	return *this;
}

TcpTest::Seg &TcpTest::Seg::opt(const Bytes &raw)
{
	options.insert(options.end(), raw.begin(), raw.end());
	return *this;
}

Bytes TcpTest::Frame(const Seg &s)
{
	Bytes opts = s.options;
	Bytes t;

	while (opts.size() % 4)
		opts.push_back(kOptEol);
	uint8_t doff = s.doff_words >= 0 ? (uint8_t)s.doff_words : (uint8_t)((20 + opts.size()) / 4);

	Put16(t, s.src_port);
	Put16(t, s.dst_port);
	Put32(t, s.seq_no);
	Put32(t, s.ack_no);
	t.push_back((uint8_t)(doff << 4 | s.reserved_bits));
	t.push_back(s.flag_bits);
	Put16(t, s.window);
	Put16(t, 0);             // checksum, below
	Put16(t, s.urgent);
	t.insert(t.end(), opts.begin(), opts.end());
	t.insert(t.end(), s.payload.begin(), s.payload.end());
	uint16_t ck = RefCksum(t.data(), t.size(), PseudoSum(s.src_ip, s.dst_ip, t.size()));
	if (s.bad_checksum)
		ck ^= 0x0101;
	t[16] = (uint8_t)(ck >> 8);
	t[17] = (uint8_t)ck;
	return EthFrame(kOurMac, kPeerMac, 0x0800, Ipv4Packet(s.src_ip, s.dst_ip, 6, t, s.ipv4));
}

// --- The fixture ------------------------------------------------------------------------

static uint32_t FixedIsn(void *ctx, uint32_t laddr, uint16_t lport, uint32_t raddr,
			 uint16_t rport)
{
	(void)laddr;
	(void)lport;
	(void)raddr;
	(void)rport;
	return *static_cast<const uint32_t *>(ctx);
}

void TcpTest::Start()
{
	StackTest::Start();
	if (HasFatalFailure())
		return;
	dtcp_tcp_set_isn_source(w_, FixedIsn, &iss_);
	ASSERT_EQ(dtcp_tcp_set_secret(w_, kSecret), 0);
	ASSERT_NO_FATAL_FAILURE(TeachPeer(kPeerIp, kPeerMac));
	Mark();
}

const char *TcpTest::EventName(enum dtcp_event_type t)
{
	switch (t) {
	case DTCP_EV_ACCEPTABLE:
		return "ACCEPTABLE";
	case DTCP_EV_CONNECTED:
		return "CONNECTED";
	case DTCP_EV_DATA:
		return "DATA";
	case DTCP_EV_PEER_CLOSED:
		return "PEER_CLOSED";
	case DTCP_EV_WRITABLE:
		return "WRITABLE";
	case DTCP_EV_CLOSED:
		return "CLOSED";
	}
	return "?";
}

std::string TcpTest::EventsString(const std::vector<Event> &evs)
{
	std::string s = "[";

	for (size_t i = 0; i < evs.size(); i++) {
		s += i ? ", " : "";
		s += EventName(evs[i].type);
		if (evs[i].type == DTCP_EV_DATA)
			s += "(" + std::to_string(evs[i].data.size()) + ")";
		if (evs[i].type == DTCP_EV_CLOSED)
			s += "(" + std::to_string(evs[i].error) + ")";
	}
	return s + "]";
}

void TcpTest::OnEvent(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	TcpTest *t = static_cast<TcpTest *>(ev->user);
	Event e;

	e.type = ev->type;
	e.error = ev->error;
	e.conn = ev->conn;
	if (ev->type == DTCP_EV_DATA && ev->data != nullptr) {
		e.data.resize(ev->data->pkt_len);
		if (!e.data.empty()) {
			const void *p = rte_pktmbuf_read(ev->data, 0, ev->data->pkt_len,
							 e.data.data());
			if (p == nullptr)
				ADD_FAILURE() << "DATA event: chain shorter than pkt_len";
			else if (p != e.data.data())
				memcpy(e.data.data(), p, e.data.size());
		}
		t->received_.insert(t->received_.end(), e.data.begin(), e.data.end());
		rte_pktmbuf_free(ev->data);
	}
	t->events_.push_back(std::move(e));

	if (ev->type == DTCP_EV_ACCEPTABLE && t->auto_accept_) {
		struct dtcp_conn *c;

		while ((c = dtcp_tcp_accept(w, ev->conn, OnEvent, t)) != nullptr)
			t->accepted_.push_back(c);
	}
	// The handle is invalid once this returns.
	if (ev->type == DTCP_EV_CLOSED) {
		if (ev->conn == t->conn_)
			t->conn_ = nullptr;
		if (ev->conn == t->listener_)
			t->listener_ = nullptr;
		t->accepted_.erase(std::remove(t->accepted_.begin(), t->accepted_.end(), ev->conn),
				   t->accepted_.end());
	}
}

std::vector<TcpTest::Event> TcpTest::TakeEvents()
{
	std::vector<Event> out;

	out.swap(events_);
	return out;
}

TcpTest::Event TcpTest::ExpectEvent(enum dtcp_event_type t)
{
	std::vector<Event> evs = TakeEvents();

	EXPECT_EQ(evs.size(), 1u) << "events: " << EventsString(evs);
	for (const Event &e : evs)
		if (e.type == t)
			return e;
	ADD_FAILURE() << "no " << EventName(t) << " event in " << EventsString(evs);
	return Event();
}

std::vector<TcpTest::Event> TcpTest::ExpectEvents(const std::vector<enum dtcp_event_type> &types)
{
	std::vector<Event> evs = TakeEvents();
	std::string want = "[", got = "[";

	for (size_t i = 0; i < types.size(); i++)
		want += std::string(i ? ", " : "") + EventName(types[i]);
	for (size_t i = 0; i < evs.size(); i++)
		got += std::string(i ? ", " : "") + EventName(evs[i].type);
	EXPECT_EQ(got + "]", want + "]") << "events: " << EventsString(evs);
	return evs;
}

void TcpTest::ExpectNoEvents()
{
	std::vector<Event> evs = TakeEvents();

	EXPECT_TRUE(evs.empty()) << "events: " << EventsString(evs);
}

void TcpTest::Listen(uint16_t port)
{
	struct dtcp_listen_opts o = {};

	ASSERT_EQ(dtcp_tcp_listen(w_, 0, port, &o, OnEvent, this, &listener_), 0);
	ASSERT_NE(listener_, nullptr);
	lport_ = port;
}

struct dtcp_conn *TcpTest::AcceptOne()
{
	struct dtcp_conn *c = dtcp_tcp_accept(w_, listener_, OnEvent, this);

	if (c != nullptr)
		accepted_.push_back(c);
	return c;
}

struct dtcp_conn *TcpTest::Connect(uint16_t rport, uint16_t lport)
{
	struct dtcp_conn *c = nullptr;
	int rc = dtcp_tcp_connect(w_, kPeerIp, rport, 0, lport, OnEvent, this, &c);

	EXPECT_EQ(rc, 0) << strerror(-rc);
	if (rc != 0)
		return nullptr;
	EXPECT_NE(c, nullptr);
	lport_ = lport;
	rport_ = rport;
	conn_ = c;
	return c;
}

TcpTest::Seg TcpTest::PeerSyn() const
{
	Seg s = Seg().syn().seq(P(0)).win(kPeerWin).mss(kPeerMss);

	if (cfg_.tcp_sack)
		s.sack_ok();
	if (cfg_.tcp_timestamps)
		s.ts(peer_ts_, 0);
	if (cfg_.tcp_window_scale)
		s.nop().ws(peer_ws_);
	return s;
}

TcpTest::Seg TcpTest::PeerAck() const
{
	Seg s = Seg().ack().sport(rport_).dport(lport_).seq(P(rcv_)).ack_(O(snd_)).win(kPeerWin);

	if (ts_ok_)
		s.ts(peer_ts_, our_ts_);
	return s;
}

struct dtcp_conn_info TcpTest::Info(struct dtcp_conn *c) const
{
	struct dtcp_conn_info i = {};

	if (c == nullptr)
		c = conn_;
	EXPECT_NE(c, nullptr) << "no connection";
	if (c != nullptr)
		dtcp_conn_info(c, &i);
	return i;
}

void TcpTest::ExpectState(enum dtcp_tcp_state s, struct dtcp_conn *c) const
{
	EXPECT_STREQ(dtcp_tcp_state_name(Info(c).state), dtcp_tcp_state_name(s));
}


void TcpTest::OpenPassive()
{
	OpenPassive(PeerSyn());
}

void TcpTest::OpenPassive(const Seg &syn)
{
	ASSERT_TRUE(auto_accept_) << "OpenPassive takes the connection in the event function";
	TcpSeg offered = ParseTcp(Frame(syn));
	ASSERT_TRUE(offered.ok && offered.opts_ok && offered.Has(kSyn)) << ToString(offered);
	lport_ = syn.dst_port;
	rport_ = syn.src_port;
	if (listener_ == nullptr) {
		ASSERT_NO_FATAL_FAILURE(Listen(lport_));
	}
	peer_iss_ = syn.seq_no;
	ts_ok_ = cfg_.tcp_timestamps && offered.has_ts;
	sack_ok_ = cfg_.tcp_sack && offered.sack_ok;
	ws_ok_ = cfg_.tcp_window_scale && offered.has_ws;
	if (offered.has_ts)
		peer_ts_ = offered.tsval;
	if (offered.has_ws)
		peer_ws_ = offered.ws;
	size_t accepted = accepted_.size();

	Inject(syn);
	ExpectSynAck(ExpectOneTx(), offered);
	ExpectNoEvents();
	ASSERT_FALSE(HasFailure()) << "SYN-ACK";

	snd_ = rcv_ = 1;
	Inject(PeerAck());
	ExpectNoTx();
	Event e = ExpectEvent(DTCP_EV_ACCEPTABLE);
	EXPECT_EQ(e.conn, listener_) << "ACCEPTABLE goes to the listener";
	ASSERT_EQ(accepted_.size(), accepted + 1) << "one connection accepted";
	conn_ = accepted_.back();
	// The ACK's window is the first scaled one (RFC 7323 §2.2).
	ExpectOpened((uint32_t)kPeerWin << (ws_ok_ ? peer_ws_ : 0));
	ASSERT_FALSE(HasFailure()) << "passive open";
	Mark();
}

void TcpTest::OpenActive()
{
	ASSERT_NE(Connect(), nullptr);
	Poll();
	ts_ok_ = cfg_.tcp_timestamps != 0;
	sack_ok_ = cfg_.tcp_sack != 0;
	ws_ok_ = cfg_.tcp_window_scale != 0;
	ExpectSyn(ExpectOneTx());
	ExpectNoEvents();
	ASSERT_FALSE(HasFailure()) << "SYN";

	// The peer offers back what we offered.
	Seg sa = Seg().syn().ack().sport(rport_).dport(lport_).seq(P(0)).ack_(O(1));
	sa.win(kPeerWin).mss(kPeerMss);
	if (sack_ok_)
		sa.sack_ok();
	if (ts_ok_)
		sa.ts(peer_ts_, our_ts_);
	if (ws_ok_)
		sa.nop().ws(peer_ws_);
	snd_ = rcv_ = 1;
	Inject(sa);
	TcpSeg ack = ExpectSeg(ExpectOneTx(), "A", O(1), P(1), WinField(cfg_.tcp_rcvbuf));
	if (ts_ok_) {
		EXPECT_EQ(ack.tsecr, peer_ts_) << "TSecr echoes the SYN-ACK's TSval";
	}
	Event e = ExpectEvent(DTCP_EV_CONNECTED);
	EXPECT_EQ(e.conn, conn_);
	// A SYN-ACK's window is never scaled (RFC 7323 §2.2).
	ExpectOpened(kPeerWin);
	ASSERT_FALSE(HasFailure()) << "active open";
	Mark();
}

void TcpTest::ExpectOpened(uint32_t snd_wnd, struct dtcp_conn *c) const
{
	struct dtcp_conn_info i = Info(c);

	ExpectState(DTCP_TCP_ESTABLISHED, c);
	EXPECT_EQ(IpString(i.laddr), IpString(kOurIp));
	EXPECT_EQ(IpString(i.raddr), IpString(kPeerIp));
	EXPECT_EQ(i.lport, lport_);
	EXPECT_EQ(i.rport, rport_);
	EXPECT_EQ(i.iss, O(0));
	EXPECT_EQ(i.irs, P(0));
	EXPECT_EQ(i.snd_una, O(1));
	EXPECT_EQ(i.snd_nxt, O(1));
	EXPECT_EQ(i.rcv_nxt, P(1));
	EXPECT_EQ(i.snd_wnd, snd_wnd);
	EXPECT_EQ(i.ts_ok, ts_ok_);
	EXPECT_EQ(i.sack_ok, sack_ok_);
	EXPECT_EQ(i.rcv_wscale, ws_ok_ ? our_ws_ : 0);
	EXPECT_EQ(i.snd_wscale, ws_ok_ ? peer_ws_ : 0);
}

TcpSeg TcpTest::ExpectSeg(const Bytes &frame, const std::string &flags, uint32_t seq,
			  uint32_t ack)
{
	TcpSeg s = ParseTcp(frame);
	SCOPED_TRACE("segment: " + ToString(s));

	EXPECT_TRUE(s.ok) << "a whole TCP segment";
	if (!s.ok)
		return s;
	EXPECT_EQ(s.eth_dst, kPeerMac) << ToString(s.eth_dst);
	EXPECT_EQ(s.eth_src, kOurMac) << ToString(s.eth_src);
	EXPECT_EQ(IpString(s.ip_src), IpString(kOurIp));
	EXPECT_EQ(IpString(s.ip_dst), IpString(kPeerIp));
	EXPECT_EQ((unsigned)s.ttl, (unsigned)cfg_.ttl);
	EXPECT_TRUE(s.ip_cksum_ok) << "IPv4 header checksum";
	EXPECT_TRUE(s.cksum_ok) << "TCP checksum";
	EXPECT_EQ(s.sport, lport_);
	EXPECT_EQ(s.dport, rport_);
	EXPECT_EQ(FlagsString(s.flags), flags);
	EXPECT_EQ(s.seq, seq) << "seq " << Rel('O', s.seq, O(0)) << ", expected "
			      << Rel('O', seq, O(0));
	EXPECT_EQ(s.ack, ack) << "ack " << Rel('P', s.ack, P(0)) << ", expected "
			      << Rel('P', ack, P(0));
	EXPECT_EQ((unsigned)s.reserved, 0u) << "reserved bits";
	EXPECT_TRUE(s.opts_ok) << "options well formed";
	if (!s.Has(kUrg)) {
		EXPECT_EQ(s.urp, 0) << "urgent pointer without URG";
	}

	if (s.Has(kRst)) {
		// RST answers carry no options, no data and window 0.
		EXPECT_EQ(Hex(s.opts), "") << "options on a RST";
		EXPECT_EQ(s.payload.size(), 0u) << "data on a RST";
		EXPECT_EQ(s.win, 0) << "window of a RST";
	} else if (!s.Has(kSyn)) {
		// RFC 7323 §3.2: once agreed, TS on every segment but RST.
		Bytes want;

		if (ts_ok_) {
			EXPECT_TRUE(s.has_ts) << "timestamps were agreed";
			if (s.has_ts) {
				EXPECT_GE((int32_t)(s.tsval - our_ts_), 0)
					<< "TSval went back from " << our_ts_;
				our_ts_ = s.tsval;
				want = { kOptNop, kOptNop, kOptTs, 10 };
				Put32(want, s.tsval);
				Put32(want, s.tsecr);
			}
		} else {
			EXPECT_FALSE(s.has_ts) << "timestamps were not agreed";
		}
		if (s.sacks.empty()) {
			EXPECT_EQ(Hex(s.opts), Hex(want)) << "options";
		}
	}
	return s;
}

TcpSeg TcpTest::ExpectSeg(const Bytes &frame, const std::string &flags, uint32_t seq,
			  uint32_t ack, uint16_t win)
{
	TcpSeg s = ExpectSeg(frame, flags, seq, ack);

	EXPECT_EQ(s.win, win) << "window field of " << ToString(s);
	return s;
}

TcpSeg TcpTest::ExpectRst(const Bytes &frame, uint32_t seq)
{
	return ExpectSeg(frame, "R", seq, 0);
}

TcpSeg TcpTest::ExpectRstAck(const Bytes &frame, uint32_t seq, uint32_t ack)
{
	return ExpectSeg(frame, "RA", seq, ack);
}

TcpSeg TcpTest::ExpectSyn(const Bytes &frame)
{
	TcpSeg s = ExpectSeg(frame, "S", O(0), 0, SynWin());
	SCOPED_TRACE("our SYN: " + ToString(s));
	bool ts = cfg_.tcp_timestamps != 0;

	EXPECT_EQ(s.has_ts, ts) << "TS offered as configured";
	if (s.has_ts) {
		EXPECT_EQ(s.tsecr, 0u) << "TSecr of a SYN";
		our_ts_ = s.tsval;
	}
	if (s.has_ws)
		our_ws_ = s.ws;
	EXPECT_EQ(Hex(s.opts), Hex(SynOptionBytes(OurMss(), cfg_.tcp_sack != 0, ts, s.tsval, 0,
						  OurWscale())))
		<< "SYN options";
	return s;
}

TcpSeg TcpTest::ExpectSynAck(const Bytes &frame, const TcpSeg &offered)
{
	TcpSeg s = ExpectSeg(frame, "SA", O(0), offered.seq + 1, SynWin());
	SCOPED_TRACE("our SYN-ACK: " + ToString(s));
	bool ts = cfg_.tcp_timestamps && offered.has_ts;
	bool sack = cfg_.tcp_sack && offered.sack_ok;
	// RFC 7323 §2.2: WS in a SYN-ACK only in answer to one in the SYN.
	int ws = cfg_.tcp_window_scale && offered.has_ws ? OurWscale() : -1;

	EXPECT_EQ(s.has_ts, ts) << "TS when configured and offered";
	if (s.has_ts) {
		EXPECT_EQ(s.tsecr, offered.tsval) << "TSecr echoes the SYN's TSval";
		our_ts_ = s.tsval;
	}
	if (s.has_ws)
		our_ws_ = s.ws;
	EXPECT_EQ(Hex(s.opts), Hex(SynOptionBytes(OurMss(), sack, ts, s.tsval, offered.tsval, ws)))
		<< "SYN-ACK options";
	return s;
}

uint16_t TcpTest::OurMss() const
{
	return cfg_.tcp_mss != 0 ? cfg_.tcp_mss : (uint16_t)(cfg_.mtu - 40);
}

uint16_t TcpTest::SynWin() const
{
	return (uint16_t)std::min<uint32_t>(cfg_.tcp_rcvbuf, 65535);
}

int TcpTest::OurWscale() const
{
	int s = 0;

	if (!cfg_.tcp_window_scale)
		return -1;
	// The smallest shift that fits the buffer in 16 bits; 14 at most (RFC 7323 §2.3).
	while (s < 14 && (cfg_.tcp_rcvbuf >> s) > 65535)
		s++;
	return s;
}

uint16_t TcpTest::WinField(uint32_t bytes) const
{
	return (uint16_t)std::min<uint32_t>(bytes >> (ws_ok_ ? our_ws_ : 0), 65535);
}
