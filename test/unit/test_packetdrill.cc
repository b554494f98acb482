// SPDX-License-Identifier: BSD-3-Clause
// libdtcp_packetdrill.so driven as packetdrill drives it: dlopen'd with
// packetdrill's flags, initialised through packetdrill_interface_init, and
// used only through the function pointers it fills. Packets are built and
// read here, checksums included, with nothing from the stack.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <dtcp/packetdrill.h>

#ifndef DTCP_PACKETDRILL_SO
#error "DTCP_PACKETDRILL_SO: the path of libdtcp_packetdrill.so"
#endif

#if defined(__SANITIZE_ADDRESS__)
constexpr int kDeepBind = 0;
#else
constexpr int kDeepBind = RTLD_DEEPBIND;
#endif

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint32_t Ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (a << 24) | (b << 16) | (c << 8) | d;
}

// Test addresses (198.18.0.0/15); the remote is off-link, through the gateway.
constexpr uint32_t kLocal = Ip(198, 18, 0, 2);
constexpr uint32_t kRemote = Ip(198, 18, 1, 7);
const char *const kFlags = "local=198.18.0.2/24 gateway=198.18.0.1 remote=198.18.1.7";
constexpr uint16_t kPort = 8080;
constexpr uint16_t kPeerPort = 40000;

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;

uint32_t Sum(const uint8_t *p, size_t n, uint32_t s = 0)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	return s;
}

uint16_t Fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

void Put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
void Put32(uint8_t *p, uint32_t v) { Put16(p, (uint16_t)(v >> 16)); Put16(p + 2, (uint16_t)v); }
uint16_t Get16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }
uint32_t Get32(const uint8_t *p) { return (uint32_t)Get16(p) << 16 | Get16(p + 2); }

// A segment the peer sends, as packetdrill writes it.
struct Seg {
	uint32_t src = kRemote, dst = kLocal;
	uint16_t sport = kPeerPort, dport = kPort;
	uint32_t seq = 0, ack = 0;
	uint8_t flags = 0;
	uint16_t win = 65535;
	Bytes opts;
	Bytes data;
};

// IPv4 + TCP with both checksums.
Bytes Build(const Seg &s)
{
	Bytes opts = s.opts;
	while (opts.size() % 4)
		opts.push_back(1);
	size_t thl = 20 + opts.size(), total = 20 + thl + s.data.size();
	Bytes p(total, 0);

	p[0] = 0x45;
	Put16(&p[2], (uint16_t)total);
	Put16(&p[4], 1);
	p[8] = 64;
	p[9] = IPPROTO_TCP;
	Put32(&p[12], s.src);
	Put32(&p[16], s.dst);
	Put16(&p[10], Fold(Sum(p.data(), 20)));
	uint8_t *t = &p[20];
	Put16(t, s.sport);
	Put16(t + 2, s.dport);
	Put32(t + 4, s.seq);
	Put32(t + 8, s.ack);
	t[12] = (uint8_t)(thl / 4 << 4);
	t[13] = s.flags;
	Put16(t + 14, s.win);
	if (!opts.empty())
		memcpy(t + 20, opts.data(), opts.size());
	if (!s.data.empty())
		memcpy(t + thl, s.data.data(), s.data.size());
	uint8_t pseudo[12];
	Put32(pseudo, s.src);
	Put32(pseudo + 4, s.dst);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	Put16(pseudo + 10, (uint16_t)(thl + s.data.size()));
	Put16(t + 16, Fold(Sum(t, thl + s.data.size(), Sum(pseudo, 12))));
	return p;
}

// packetdrill's usual SYN options: mss 1460, sackOK, TS val ecr 0, nop, wscale 7.
Bytes SynOpts(uint32_t tsval)
{
	Bytes o = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10 };
	o.resize(o.size() + 8, 0);
	Put32(&o[8], tsval);
	o.insert(o.end(), { 1, 3, 3, 7 });
	return o;
}

Bytes TsOpts(uint32_t val, uint32_t ecr)
{
	Bytes o = { 1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0 };
	Put32(&o[4], val);
	Put32(&o[8], ecr);
	return o;
}

// A packet the stack sent, read field by field.
struct Out {
	bool ip_ok = false, tcp_ok = false;
	uint32_t src = 0, dst = 0;
	uint16_t sport = 0, dport = 0;
	uint32_t seq = 0, ack = 0;
	uint8_t flags = 0;
	uint16_t win = 0;
	int mss = -1, wscale = -1;
	bool sack_ok = false, ts = false;
	uint32_t tsval = 0, tsecr = 0;
	Bytes data;
	long long time_us = 0;
};

Out Parse(const uint8_t *p, size_t n)
{
	Out o;

	if (n < 40 || p[0] != 0x45 || p[9] != IPPROTO_TCP)
		return o;
	size_t total = Get16(p + 2);
	if (total != n)
		return o;
	o.ip_ok = Fold(Sum(p, 20)) == 0;
	o.src = Get32(p + 12);
	o.dst = Get32(p + 16);
	const uint8_t *t = p + 20;
	size_t thl = (size_t)(t[12] >> 4) * 4, tl = total - 20;
	uint8_t pseudo[12];
	Put32(pseudo, o.src);
	Put32(pseudo + 4, o.dst);
	pseudo[8] = 0;
	pseudo[9] = IPPROTO_TCP;
	Put16(pseudo + 10, (uint16_t)tl);
	o.tcp_ok = Fold(Sum(t, tl, Sum(pseudo, 12))) == 0;
	o.sport = Get16(t);
	o.dport = Get16(t + 2);
	o.seq = Get32(t + 4);
	o.ack = Get32(t + 8);
	o.flags = t[13];
	o.win = Get16(t + 14);
	for (size_t i = 20; i < thl;) {
		uint8_t kind = t[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if (i + 1 >= thl || t[i + 1] < 2)
			break;
		uint8_t len = t[i + 1];
		if (kind == 2 && len == 4)
			o.mss = Get16(t + i + 2);
		else if (kind == 3 && len == 3)
			o.wscale = t[i + 2];
		else if (kind == 4 && len == 2)
			o.sack_ok = true;
		else if (kind == 8 && len == 10) {
			o.ts = true;
			o.tsval = Get32(t + i + 2);
			o.tsecr = Get32(t + i + 6);
		}
		i += len;
	}
	o.data.assign(t + thl, p + total);
	return o;
}

Bytes Text(const char *s) { return Bytes(s, s + strlen(s)); }

// The state letter of a thread in /proc, as packetdrill reads it to know a
// blocking call has gone to sleep.
char ThreadState(pid_t tid)
{
	std::ifstream f("/proc/self/task/" + std::to_string(tid) + "/stat");
	std::string s;
	std::getline(f, s);
	size_t k = s.rfind(')');
	return k != std::string::npos && k + 2 < s.size() ? s[k + 2] : '?';
}

// f() in a thread of its own, as packetdrill's syscall thread: its result
// through a future. Detached, so that a call that never returns fails the
// test (bounded waits on the future) instead of hanging it in a join.
template <typename F>
auto Spawn(F f) -> std::future<decltype(f())>
{
	std::packaged_task<decltype(f())()> task(std::move(f));
	auto fut = task.get_future();
	std::thread(std::move(task)).detach();
	return fut;
}

// Until the thread tid has reached stage `at` and sleeps in the kernel (a
// condition variable): how packetdrill knows a blocking call has begun.
bool Asleep(const std::atomic<pid_t> &tid, const std::atomic<int> &stage, int at)
{
	auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
	while (std::chrono::steady_clock::now() < end) {
		if (stage == at && tid != 0 && ThreadState(tid) == 'S')
			return true;
		std::this_thread::yield();
	}
	return false;
}

class Packetdrill : public ::testing::Test {
protected:
	static void *handle_;

	static void SetUpTestSuite()
	{
		// Exactly packetdrill's so_testing.c call, but for RTLD_DEEPBIND
		// under AddressSanitizer, whose runtime refuses it
		// (google/sanitizers#611).
		handle_ = dlopen(DTCP_PACKETDRILL_SO,
				 RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE | kDeepBind);
		ASSERT_NE(handle_, nullptr) << dlerror();
	}

	void Init(const char *flags)
	{
		ASSERT_NE(handle_, nullptr);
		auto init = (packetdrill_interface_init_t)dlsym(handle_, "packetdrill_interface_init");
		ASSERT_NE(init, nullptr) << dlerror();
		memset(&ifc_, 0xa5, sizeof(ifc_));
		init(flags, &ifc_);
		up_ = true;
	}

	void TearDown() override
	{
		if (up_)
			ifc_.free(ifc_.userdata);
	}

	void *u() { return ifc_.userdata; }

	long long Now()
	{
		struct timeval tv;
		EXPECT_EQ(ifc_.gettimeofday(u(), &tv, nullptr), 0);
		return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
	}

	void Send(const Seg &s)
	{
		Bytes p = Build(s);
		ASSERT_EQ(ifc_.netdev_send(u(), p.data(), p.size()), 0) << strerror(errno);
	}

	// The next packet the stack sends; fails the test when there is none.
	Out Receive()
	{
		uint8_t buf[65536];
		size_t n = sizeof(buf);
		long long t = 0;

		EXPECT_EQ(ifc_.netdev_receive(u(), buf, &n, &t), 0);
		EXPECT_GT(n, 0u) << "the stack sent nothing";
		Out o = Parse(buf, n);
		EXPECT_TRUE(o.ip_ok);
		EXPECT_TRUE(o.tcp_ok);
		o.time_us = t;
		return o;
	}

	struct sockaddr_in Addr(uint32_t ip, uint16_t port)
	{
		struct sockaddr_in a;
		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(ip);
		a.sin_port = htons(port);
		return a;
	}

	// socket(), bind() to the port on any address, listen(): the listener's fd.
	int Listen()
	{
		int fd = ifc_.socket(u(), AF_INET, SOCK_STREAM, IPPROTO_TCP);
		EXPECT_EQ(fd, 3);
		int one = 1;
		EXPECT_EQ(ifc_.setsockopt(u(), fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
		struct sockaddr_in a = Addr(0, kPort);
		EXPECT_EQ(ifc_.bind(u(), fd, (struct sockaddr *)&a, sizeof(a)), 0) << strerror(errno);
		EXPECT_EQ(ifc_.listen(u(), fd, 1), 0) << strerror(errno);
		return fd;
	}

	// SYN in, SYN-ACK out (returned), then the ACK in after rtt_us.
	Out Handshake(uint32_t rtt_us = 0)
	{
		Seg syn;
		syn.seq = irs_;
		syn.flags = kSyn;
		syn.opts = SynOpts(100);
		Send(syn);
		Out sa = Receive();
		iss_ = sa.seq;
		if (rtt_us != 0) {
			EXPECT_EQ(ifc_.usleep(u(), rtt_us), 0);
		}
		Seg ack;
		ack.seq = irs_ + 1;
		ack.ack = iss_ + 1;
		ack.flags = kAck;
		ack.win = 1000;                 // << 7: 128000 bytes
		ack.opts = TsOpts(101, sa.tsval);
		Send(ack);
		return sa;
	}

	// An established connection, accepted: its fd.
	int Established(uint32_t rtt_us = 0)
	{
		int lfd = Listen();
		Handshake(rtt_us);
		int fd = ifc_.accept(u(), lfd, nullptr, nullptr);
		EXPECT_EQ(fd, 4) << strerror(errno);
		return fd;
	}

	Seg Data(uint32_t off, const Bytes &d, uint8_t flags = kAck | kPsh)
	{
		Seg s;
		s.seq = irs_ + 1 + off;
		s.ack = iss_ + 1;
		s.flags = flags;
		s.win = 1000;
		s.opts = TsOpts(200 + off, 0);
		s.data = d;
		return s;
	}

	struct packetdrill_interface ifc_;
	bool up_ = false;
	uint32_t irs_ = 1000;
	uint32_t iss_ = 0;
};

void *Packetdrill::handle_ = nullptr;

// The struct is packetdrill's: every member filled, in its order.
TEST_F(Packetdrill, Init_FillsEveryMember)
{
	Init(kFlags);
	ASSERT_NE(u(), nullptr);
	void *const *slot = (void *const *)&ifc_;
	for (size_t i = 1; i < sizeof(ifc_) / sizeof(void *); i++)
		EXPECT_NE(slot[i], (void *)0xa5a5a5a5a5a5a5a5ull) << "member " << i;
	EXPECT_EQ(sizeof(ifc_), 33 * sizeof(void *));   // userdata and 32 functions
	// The object exports its init alone: dtcp's own names stay inside it.
	EXPECT_EQ(dlsym(handle_, "dtcp_socket"), nullptr);
	EXPECT_EQ(dlsym(handle_, "dtcp_worker_create"), nullptr);
	EXPECT_EQ(dlsym(handle_, "dtcp_l3port_create"), nullptr);
}

TEST_F(Packetdrill, PassiveOpen_SynAckOptions_AcceptGivesPeer)
{
	Init(kFlags);
	int lfd = Listen();
	long long t0 = Now();
	Out sa = Handshake();

	EXPECT_EQ(sa.src, kLocal);
	EXPECT_EQ(sa.dst, kRemote);
	EXPECT_EQ(sa.sport, kPort);
	EXPECT_EQ(sa.dport, kPeerPort);
	EXPECT_EQ(sa.flags, kSyn | kAck);
	EXPECT_EQ(sa.ack, irs_ + 1);
	EXPECT_EQ(sa.win, 65535);
	EXPECT_EQ(sa.mss, 1460);
	EXPECT_TRUE(sa.sack_ok);
	EXPECT_TRUE(sa.ts);
	EXPECT_EQ(sa.tsecr, 100u);
	EXPECT_EQ(sa.wscale, 8);       // 12 MiB of receive buffer in 16 bits, as Linux's 8
	EXPECT_TRUE(sa.data.empty());
	// Sent at once: no time passed but the clock's own steps.
	EXPECT_GE(sa.time_us, t0);
	EXPECT_LT(sa.time_us - t0, 100);

	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	memset(&peer, 0, sizeof(peer));
	int fd = ifc_.accept(u(), lfd, (struct sockaddr *)&peer, &len);
	EXPECT_EQ(fd, 4) << strerror(errno);
	EXPECT_EQ(len, sizeof(peer));
	EXPECT_EQ(peer.sin_family, AF_INET);
	EXPECT_EQ(ntohl(peer.sin_addr.s_addr), kRemote);
	EXPECT_EQ(ntohs(peer.sin_port), kPeerPort);
}

// packetdrill's own addresses when no flag says otherwise.
TEST_F(Packetdrill, Defaults_PacketdrillAddresses)
{
	Init("");
	Listen();
	Seg syn;
	syn.src = Ip(192, 0, 2, 1);
	syn.dst = Ip(192, 168, 0, 1);
	syn.seq = irs_;
	syn.flags = kSyn;
	syn.opts = SynOpts(100);
	Send(syn);
	Out sa = Receive();
	EXPECT_EQ(sa.src, Ip(192, 168, 0, 1));
	EXPECT_EQ(sa.dst, Ip(192, 0, 2, 1));
	EXPECT_EQ(sa.flags, kSyn | kAck);
	EXPECT_EQ(sa.ack, irs_ + 1);
}

TEST_F(Packetdrill, Established_DataBothWays)
{
	Init(kFlags);
	int fd = Established();

	Bytes in = Text("hello, dtcp");
	long long t0 = Now();
	Send(Data(0, in));
	// Early in a connection every segment is ACKed at once (quick ACKs).
	Out a = Receive();
	EXPECT_EQ(a.flags, kAck);
	EXPECT_EQ(a.seq, iss_ + 1);
	EXPECT_EQ(a.ack, irs_ + 1 + in.size());
	EXPECT_TRUE(a.data.empty());
	EXPECT_LT(a.time_us - t0, 10);
	char buf[64];
	ASSERT_EQ(ifc_.read(u(), fd, buf, sizeof(buf)), (ssize_t)in.size()) << strerror(errno);
	EXPECT_EQ(Bytes(buf, buf + in.size()), in);

	Bytes outb = Text("0123456789abcdef");
	long long t1 = Now();
	ASSERT_EQ(ifc_.write(u(), fd, outb.data(), outb.size()), (ssize_t)outb.size());
	Out d = Receive();
	EXPECT_EQ(d.flags, kAck | kPsh);
	EXPECT_EQ(d.seq, iss_ + 1);
	EXPECT_EQ(d.ack, irs_ + 1 + in.size());
	EXPECT_EQ(d.data, outb);
	EXPECT_EQ(d.win, (12 << 20) >> 8);  // the whole buffer again, scaled by 8
	EXPECT_LT(d.time_us - t1, 10);
}

// The first transmission, then nothing until the RTO: the resend carries
// the same bytes at exactly the time the timer was due.
TEST_F(Packetdrill, Retransmission_AtRtoOnTheVirtualClock)
{
	Init(kFlags);
	int fd = Established(10000);   // RTT 10 ms: the RTO is rto_min, 200 ms

	Bytes outb = Text("resend me");
	ASSERT_EQ(ifc_.write(u(), fd, outb.data(), outb.size()), (ssize_t)outb.size());
	Out first = Receive();
	EXPECT_EQ(first.data, outb);
	EXPECT_EQ(ifc_.usleep(u(), 100000), 0);
	long long mid = Now();
	EXPECT_GE(mid - first.time_us, 100000);
	EXPECT_LT(mid - first.time_us, 100100);
	Out again = Receive();
	EXPECT_EQ(again.seq, first.seq);
	EXPECT_EQ(again.data, outb);
	// Timers run on 1 ms ticks: due at 200 ms, fired within the tick.
	EXPECT_GE(again.time_us - first.time_us, 200000);
	EXPECT_LE(again.time_us - first.time_us, 201000);
	EXPECT_EQ(Now() - again.time_us < 100, true);
}

// Before any RTT sample the RTO is rto_init_ms, 1 s: the SYN-ACK of an
// unanswered SYN goes again at +1 s, then at +2 s more (backed off).
TEST_F(Packetdrill, SynAckResent_AtTheInitialRto)
{
	Init(kFlags);
	Listen();
	Seg syn;
	syn.seq = irs_;
	syn.flags = kSyn;
	syn.opts = SynOpts(100);
	Send(syn);
	Out first = Receive();
	Out again = Receive();
	EXPECT_EQ(again.flags, kSyn | kAck);
	EXPECT_EQ(again.seq, first.seq);
	EXPECT_GE(again.time_us - first.time_us, 1000000);
	EXPECT_LE(again.time_us - first.time_us, 1001000);
	Out third = Receive();
	EXPECT_GE(third.time_us - again.time_us, 1999000);
	EXPECT_LE(third.time_us - again.time_us, 2001000);
}

// The initial window is ten segments (RFC 6928): 10 x 1448 bytes (MSS
// 1460 less the timestamps) leave at once, the rest waits for an ACK; the
// next thing sent is a tail loss probe at 2 SRTT (RFC 8985: new data,
// the eleventh segment), and then the first segment again, an RTO later.
TEST_F(Packetdrill, InitialWindow_TenSegments)
{
	Init(kFlags);
	int fd = Established(10000);
	Bytes big(20000);
	for (size_t i = 0; i < big.size(); i++)
		big[i] = (uint8_t)(i * 7 + 3);
	long long t0 = Now();
	ASSERT_EQ(ifc_.write(u(), fd, big.data(), big.size()), (ssize_t)big.size());
	uint32_t next = iss_ + 1;
	for (int i = 0; i < 10; i++) {
		Out d = Receive();
		EXPECT_EQ(d.seq, next) << "segment " << i;
		EXPECT_EQ(d.data.size(), 1448u) << "segment " << i;
		EXPECT_EQ(d.data, Bytes(big.begin() + (d.seq - iss_ - 1),
					big.begin() + (d.seq - iss_ - 1) + d.data.size()));
		EXPECT_LT(d.time_us - t0, 10);
		next += (uint32_t)d.data.size();
	}
	Out tlp = Receive();
	EXPECT_EQ(tlp.seq, next);
	EXPECT_EQ(tlp.data.size(), 1448u);
	EXPECT_GE(tlp.time_us - t0, 20000);  // SRTT 10 ms
	EXPECT_LT(tlp.time_us - t0, 22000);
	Out rto = Receive();
	EXPECT_EQ(rto.seq, iss_ + 1);
	EXPECT_EQ(rto.data.size(), 1448u);
	EXPECT_GE(rto.time_us - tlp.time_us, 200000);
	EXPECT_LE(rto.time_us - tlp.time_us, 201000);
}

// Blocking calls run in a second thread, as packetdrill's syscall thread
// runs them: asleep until a packet injected by the main thread wakes them.
TEST_F(Packetdrill, BlockingAcceptAndRead_WokenByInjectedPackets)
{
	Init(kFlags);
	int lfd = Listen();
	std::atomic<pid_t> tid{0};
	std::atomic<int> stage{0};

	auto blocked = Spawn([this, lfd, &tid, &stage]() {
		tid = (pid_t)syscall(SYS_gettid);
		stage = 1;
		int fd = ifc_.accept(u(), lfd, nullptr, nullptr);
		stage = 2;
		char buf[64];
		ssize_t n = ifc_.read(u(), fd, buf, sizeof(buf));
		stage = 3;
		return std::make_pair(fd, n > 0 ? std::string(buf, (size_t)n) : std::string());
	});
	ASSERT_TRUE(Asleep(tid, stage, 1));
	EXPECT_EQ(stage.load(), 1);     // accept has nothing yet
	Handshake();
	ASSERT_TRUE(Asleep(tid, stage, 2));         // accepted, now reading
	Send(Data(0, Text("wake up")));
	ASSERT_EQ(blocked.wait_for(std::chrono::seconds(5)), std::future_status::ready);
	auto r = blocked.get();
	EXPECT_EQ(r.first, 4);
	EXPECT_EQ(r.second, "wake up");
	EXPECT_EQ(stage.load(), 3);
}

// A blocked call's timeout stops the clock at its deadline: poll() in the
// second thread returns 0 at exactly +300 ms while the main thread sleeps
// a whole second, and its end time is read before the clock moves on.
TEST_F(Packetdrill, BlockingPollTimeout_EndsAtItsDeadline)
{
	Init(kFlags);
	int fd = Established();
	std::atomic<pid_t> tid{0};
	std::atomic<int> stage{0};
	long long t0 = Now();
	auto blocked = Spawn([this, fd, &tid, &stage]() {
		tid = (pid_t)syscall(SYS_gettid);
		stage = 1;
		struct pollfd p = { fd, POLLIN, 0 };
		int n = ifc_.poll(u(), &p, 1, 300);
		return std::make_pair(n, Now());
	});
	ASSERT_TRUE(Asleep(tid, stage, 1));
	EXPECT_EQ(ifc_.usleep(u(), 1000000), 0);
	ASSERT_EQ(blocked.wait_for(std::chrono::seconds(5)), std::future_status::ready);
	auto r = blocked.get();
	EXPECT_EQ(r.first, 0);
	EXPECT_GE(r.second - t0, 300000);
	EXPECT_LT(r.second - t0, 300100);
}

// A blocking read in the main thread has nobody to wake it: time passes
// for it, and SO_RCVTIMEO ends it with EAGAIN at its deadline.
TEST_F(Packetdrill, MainThreadBlockingRead_TimesOutOnTheVirtualClock)
{
	Init(kFlags);
	int fd = Established();
	struct timeval tv = { 0, 250000 };
	ASSERT_EQ(ifc_.setsockopt(u(), fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	long long t0 = Now();
	char buf[16];
	errno = 0;
	EXPECT_EQ(ifc_.read(u(), fd, buf, sizeof(buf)), -1);
	EXPECT_EQ(errno, EAGAIN);
	long long t1 = Now();
	EXPECT_GE(t1 - t0, 250000);
	EXPECT_LT(t1 - t0, 250100);
}

// After the quick ACKs of a connection's start, an ACK waits delack_ms
// (40 ms) for something to ride on.
TEST_F(Packetdrill, DelayedAck_FortyMillisecondsAfterQuickAcks)
{
	Init(kFlags);
	int fd = Established();
	uint32_t off = 0;
	int quick = 0;
	for (; quick < 64; quick++) {
		long long t = Now();
		Send(Data(off, Text("x")));
		off++;
		Out a = Receive();
		EXPECT_EQ(a.ack, irs_ + 1 + off);
		if (a.time_us - t > 1000) {
			// This one waited: delack_ms on 1 ms ticks.
			EXPECT_GE(a.time_us - t, 40000);
			EXPECT_LE(a.time_us - t, 41000);
			EXPECT_EQ(a.flags, kAck);
			break;
		}
	}
	EXPECT_EQ(quick, 16);           // TCP_QUICKACKS
	char buf[128];
	EXPECT_EQ(ifc_.read(u(), fd, buf, sizeof(buf)), (ssize_t)off);
}

// A blocking write larger than the send buffer, in the second thread:
// it sends what fits, parks, and each ACK the main thread injects lets it
// go on, until every byte has left in order and write() returns them all.
TEST_F(Packetdrill, BlockingWrite_AcksLetItFinish)
{
	Init("local=198.18.0.2/24 gateway=198.18.0.1 tcp.sndbuf=4096");
	int fd = Established(10000);
	Bytes big(20000);
	for (size_t i = 0; i < big.size(); i++)
		big[i] = (uint8_t)(i * 13 + 1);
	std::atomic<pid_t> tid{0};
	std::atomic<int> stage{0};
	auto blocked = Spawn([this, fd, &big, &tid, &stage]() {
		tid = (pid_t)syscall(SYS_gettid);
		stage = 1;
		ssize_t n = ifc_.write(u(), fd, big.data(), big.size());
		stage = 2;
		return n;
	});
	ASSERT_TRUE(Asleep(tid, stage, 1));
	Bytes got;
	for (int i = 0; i < 200 && got.size() < big.size(); i++) {
		Out d = Receive();
		if (d.data.empty())
			break;
		ASSERT_EQ(d.seq, iss_ + 1 + got.size()) << "segment " << i;
		got.insert(got.end(), d.data.begin(), d.data.end());
		Seg ack;
		ack.seq = irs_ + 1;
		ack.ack = d.seq + (uint32_t)d.data.size();
		ack.flags = kAck;
		ack.win = 1000;
		ack.opts = TsOpts(300 + i, d.tsval);
		Send(ack);
	}
	ASSERT_EQ(blocked.wait_for(std::chrono::seconds(5)), std::future_status::ready);
	EXPECT_EQ(blocked.get(), (ssize_t)big.size());
	EXPECT_EQ(got, big);
}

// epoll through the interface: a listener becomes readable with the
// handshake, the connection with data.
TEST_F(Packetdrill, Epoll_ListenerAndConnectionReadable)
{
	Init(kFlags);
	int lfd = Listen();
	int ep = ifc_.epoll_create(u(), 1);
	ASSERT_GE(ep, 0) << strerror(errno);
	struct epoll_event ev = {};
	ev.events = EPOLLIN;
	ev.data.u32 = 77;
	ASSERT_EQ(ifc_.epoll_ctl(u(), ep, EPOLL_CTL_ADD, lfd, &ev), 0);
	struct epoll_event out[4];
	EXPECT_EQ(ifc_.epoll_wait(u(), ep, out, 4, 0), 0);
	Handshake();
	ASSERT_EQ(ifc_.epoll_wait(u(), ep, out, 4, 0), 1);
	EXPECT_EQ(out[0].data.u32, 77u);
	EXPECT_EQ(out[0].events, (uint32_t)EPOLLIN);
	int fd = ifc_.accept(u(), lfd, nullptr, nullptr);
	ASSERT_EQ(fd, 5);
	ev.data.u32 = 88;
	ASSERT_EQ(ifc_.epoll_ctl(u(), ep, EPOLL_CTL_ADD, fd, &ev), 0);
	EXPECT_EQ(ifc_.epoll_wait(u(), ep, out, 4, 0), 0);
	Send(Data(0, Text("ping")));
	ASSERT_EQ(ifc_.epoll_wait(u(), ep, out, 4, 0), 1);
	EXPECT_EQ(out[0].data.u32, 88u);
}

// The calls that take messages and addresses, as Linux answers them for TCP.
TEST_F(Packetdrill, MsgAndAddressCalls_MappedAsLinux)
{
	Init(kFlags);
	int fd = Established();
	Send(Data(0, Text("abcdefgh")));
	Receive();                      // its ACK

	char a[3], b[8];
	struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
	struct msghdr msg = {};
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	msg.msg_controllen = 99;
	EXPECT_EQ(ifc_.recvmsg(u(), fd, &msg, 0), 8);
	EXPECT_EQ(std::string(a, 3) + std::string(b, 5), "abcdefgh");
	EXPECT_EQ(msg.msg_controllen, 0u);

	Send(Data(8, Text("xyz")));
	Receive();
	char c[8];
	struct sockaddr_in from;
	socklen_t fromlen = sizeof(from);
	EXPECT_EQ(ifc_.recvfrom(u(), fd, c, sizeof(c), MSG_PEEK, (struct sockaddr *)&from,
				&fromlen), 3);
	EXPECT_EQ(fromlen, 0u);
	EXPECT_EQ(ifc_.recv(u(), fd, c, sizeof(c), 0), 3);
	EXPECT_EQ(std::string(c, 3), "xyz");

	struct iovec wv[2] = { { (void *)"12", 2 }, { (void *)"345", 3 } };
	struct msghdr wm = {};
	wm.msg_iov = wv;
	wm.msg_iovlen = 2;
	EXPECT_EQ(ifc_.sendmsg(u(), fd, &wm, 0), 5);
	Out d = Receive();
	EXPECT_EQ(d.data, Text("12345"));
	Seg ack = Data(11, Bytes(), kAck);  // acknowledged, or Nagle holds the next
	ack.ack = d.seq + 5;
	Send(ack);
	struct sockaddr_in to = Addr(Ip(198, 18, 9, 9), 1);
	EXPECT_EQ(ifc_.sendto(u(), fd, "67", 2, 0, (struct sockaddr *)&to, sizeof(to)), 2);
	Out e = Receive();
	EXPECT_EQ(e.data, Text("67"));
	EXPECT_EQ(e.dst, kRemote);      // the connection's peer, not the address given
}

TEST_F(Packetdrill, ActiveOpen_NonBlockingConnect)
{
	Init(kFlags);
	int fd = ifc_.socket(u(), AF_INET, SOCK_STREAM, IPPROTO_TCP);
	ASSERT_EQ(fd, 3);
	int fl = ifc_.fcntl(u(), fd, F_GETFL);
	ASSERT_GE(fl, 0);
	ASSERT_EQ(ifc_.fcntl(u(), fd, F_SETFL, fl | O_NONBLOCK), 0);
	struct sockaddr_in a = Addr(kRemote, 9000);
	errno = 0;
	EXPECT_EQ(ifc_.connect(u(), fd, (struct sockaddr *)&a, sizeof(a)), -1);
	EXPECT_EQ(errno, EINPROGRESS);

	Out syn = Receive();
	EXPECT_EQ(syn.flags, kSyn);
	EXPECT_EQ(syn.src, kLocal);
	EXPECT_EQ(syn.dst, kRemote);
	EXPECT_EQ(syn.dport, 9000);
	EXPECT_EQ(syn.mss, 1460);
	EXPECT_TRUE(syn.sack_ok);
	EXPECT_TRUE(syn.ts);
	EXPECT_EQ(syn.wscale, 8);

	Seg sa;
	sa.sport = 9000;
	sa.dport = syn.sport;
	sa.seq = 5000;
	sa.ack = syn.seq + 1;
	sa.flags = kSyn | kAck;
	sa.opts = SynOpts(300);
	Bytes o = sa.opts;
	Put32(&o[12], syn.tsval);       // TS ecr
	sa.opts = o;
	Send(sa);
	Out ack = Receive();
	EXPECT_EQ(ack.flags, kAck);
	EXPECT_EQ(ack.seq, syn.seq + 1);
	EXPECT_EQ(ack.ack, 5001u);

	int err = -1;
	socklen_t len = sizeof(err);
	EXPECT_EQ(ifc_.getsockopt(u(), fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	EXPECT_EQ(err, 0);
	struct pollfd p = { fd, POLLOUT, 0 };
	EXPECT_EQ(ifc_.poll(u(), &p, 1, 0), 1);
	EXPECT_EQ(p.revents, POLLOUT);
}

// A blocking connect in the second thread: the SYN goes out, the call
// parks, and the SYN-ACK the main thread injects completes it; the ACK of
// the handshake is the next packet, sent when the SYN-ACK arrived.
// (The SYN once waited on ARP until the clock next moved, which could be
// its own retransmission timeout: two SYNs, then the ACK. It now leaves
// when the call parks.)
TEST_F(Packetdrill, BlockingConnect_CompletedBySynAck)
{
	Init(kFlags);
	int fd = ifc_.socket(u(), AF_INET, SOCK_STREAM, IPPROTO_TCP);
	ASSERT_EQ(fd, 3);
	std::atomic<pid_t> tid{0};
	std::atomic<int> stage{0};
	std::atomic<long long> called_at{-1};
	auto blocked = Spawn([this, fd, &tid, &stage, &called_at]() {
		tid = (pid_t)syscall(SYS_gettid);
		called_at = Now();      // the clock does not move again before connect()
		stage = 1;
		struct sockaddr_in a = Addr(kRemote, 9000);
		int rc = ifc_.connect(u(), fd, (struct sockaddr *)&a, sizeof(a));
		stage = 2;
		return std::make_pair(rc, rc == 0 ? 0 : errno);
	});
	ASSERT_TRUE(Asleep(tid, stage, 1));
	Out syn = Receive();
	EXPECT_EQ(syn.flags, kSyn);
	EXPECT_EQ(syn.time_us, called_at.load()) << "the SYN waited for the clock to move";
	EXPECT_EQ(stage.load(), 1);
	EXPECT_EQ(ifc_.usleep(u(), 5000), 0);
	Seg sa;
	sa.sport = 9000;
	sa.dport = syn.sport;
	sa.seq = 7000;
	sa.ack = syn.seq + 1;
	sa.flags = kSyn | kAck;
	sa.opts = SynOpts(300);
	Put32(&sa.opts[12], syn.tsval);
	long long t = Now();
	Send(sa);
	ASSERT_EQ(blocked.wait_for(std::chrono::seconds(5)), std::future_status::ready);
	auto r = blocked.get();
	EXPECT_EQ(r.first, 0) << strerror(r.second);
	Out ack = Receive();
	EXPECT_EQ(ack.flags, kAck);
	EXPECT_EQ(ack.ack, 7001u);
	EXPECT_LT(ack.time_us - t, 10);
}

TEST_F(Packetdrill, Close_SendsFin)
{
	Init(kFlags);
	int fd = Established();
	ASSERT_EQ(ifc_.close(u(), fd), 0);
	Out fin = Receive();
	EXPECT_EQ(fin.flags, kFin | kAck);
	EXPECT_EQ(fin.seq, iss_ + 1);
	EXPECT_EQ(fin.ack, irs_ + 1);
	EXPECT_TRUE(fin.data.empty());
}

TEST_F(Packetdrill, Rst_ReadGivesEconnreset)
{
	Init(kFlags);
	int fd = Established();
	Seg rst;
	rst.seq = irs_ + 1;
	rst.flags = kRst;
	rst.win = 0;
	Send(rst);
	char buf[16];
	errno = 0;
	EXPECT_EQ(ifc_.read(u(), fd, buf, sizeof(buf)), -1);
	EXPECT_EQ(errno, ECONNRESET);
}

// Nothing to send and nothing due: an empty packet at once (packetdrill
// reports it as an error), the clock where it was.
TEST_F(Packetdrill, Receive_NothingToSend_BoundedEmptyAnswer)
{
	Init(kFlags);
	uint8_t buf[2048];
	size_t n = sizeof(buf);
	long long t = 0, before = Now();
	auto start = std::chrono::steady_clock::now();

	EXPECT_EQ(ifc_.netdev_receive(u(), buf, &n, &t), 0);
	EXPECT_EQ(n, 0u);
	EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
	EXPECT_GE(t, before);
	EXPECT_LT(t - before, 100);
}

// A timer due beyond receive_bound_ms: the clock moves to the bound at
// most, and the answer is empty.
TEST_F(Packetdrill, Receive_TimerBeyondBound_GivesUpAtTheBound)
{
	Init("local=198.18.0.2/24 gateway=198.18.0.1 receive_bound_ms=50");
	Listen();
	Seg syn;
	syn.seq = irs_;
	syn.flags = kSyn;
	syn.opts = SynOpts(100);
	Send(syn);
	Out sa = Receive();
	EXPECT_EQ(sa.flags, kSyn | kAck);
	// The SYN-ACK's resend is 1 s away, beyond 50 ms.
	uint8_t buf[2048];
	size_t n = sizeof(buf);
	long long t = 0;
	EXPECT_EQ(ifc_.netdev_receive(u(), buf, &n, &t), 0);
	EXPECT_EQ(n, 0u);
	EXPECT_LE(t - sa.time_us, 50000);
}

TEST_F(Packetdrill, Clock_UsleepExactGettimeofdayStepsOneMicrosecond)
{
	Init(kFlags);
	long long a = Now();
	long long b = Now();
	EXPECT_EQ(b - a, 1);
	EXPECT_EQ(ifc_.usleep(u(), 1234567), 0);
	long long c = Now();
	EXPECT_EQ(c - b, 1234567 + 1);
}

TEST_F(Packetdrill, Flags_BadFlag_EveryCallFails)
{
	Init("local=198.18.0.2/24 no_such_flag=1");
	EXPECT_EQ(u(), nullptr);
	errno = 0;
	EXPECT_EQ(ifc_.socket(u(), AF_INET, SOCK_STREAM, 0), -1);
	EXPECT_EQ(errno, ENETDOWN);
	uint8_t buf[64];
	size_t n = sizeof(buf);
	long long t;
	EXPECT_EQ(ifc_.netdev_receive(u(), buf, &n, &t), 0);
	EXPECT_EQ(n, 0u);
	EXPECT_EQ(ifc_.netdev_send(u(), buf, sizeof(buf)), -1);
}

TEST_F(Packetdrill, Flags_DtcpKeys_ChangeWhatTheScriptSees)
{
	Init("local=198.18.0.2/24,gateway=198.18.0.1 mtu=1280 tcp.rcvbuf=65535 tcp.sack=0");
	Listen();
	Out sa = Handshake();
	EXPECT_EQ(sa.mss, 1240);
	EXPECT_EQ(sa.wscale, 0);
	EXPECT_FALSE(sa.sack_ok);
	EXPECT_TRUE(sa.ts);
}

TEST_F(Packetdrill, Netdev_RefusesWhatIsNotIp)
{
	Init(kFlags);
	uint8_t junk[40] = { 0x15 };
	errno = 0;
	EXPECT_EQ(ifc_.netdev_send(u(), junk, sizeof(junk)), -1);
	EXPECT_EQ(errno, EINVAL);
	Bytes big(1501, 0x45);
	EXPECT_EQ(ifc_.netdev_send(u(), big.data(), big.size()), -1);
	EXPECT_EQ(errno, EMSGSIZE);
}

TEST_F(Packetdrill, Unsupported_AsLinuxAnswers)
{
	Init(kFlags);
	int fds[2];
	errno = 0;
	EXPECT_EQ(ifc_.pipe(u(), fds), -1);
	EXPECT_EQ(errno, ENOSYS);
	EXPECT_EQ(ifc_.splice(u(), 3, nullptr, 4, nullptr, 10, 0), -1);
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(ifc_.socket(u(), AF_INET6, SOCK_STREAM, 0), -1);
	EXPECT_EQ(errno, EAFNOSUPPORT);
}

// free() gives everything back but EAL (every mbuf back in the pool, or
// it says how many leaked); a second init in the same process has a whole
// stack again, descriptors from 3.
TEST_F(Packetdrill, FreeThenInitAgain)
{
	Init(kFlags);
	EXPECT_EQ(ifc_.socket(u(), AF_INET, SOCK_STREAM, 0), 3);
	testing::internal::CaptureStderr();
	ifc_.free(ifc_.userdata);
	up_ = false;
	EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
	for (int round = 0; round < 3; round++) {
		Init(kFlags);
		ASSERT_NE(u(), nullptr);
		int fd = Established();
		EXPECT_EQ(fd, 4);
		// Data each way, some of it unread and unacknowledged at free().
		Send(Data(0, Text("unread")));
		Receive();
		Bytes outb = Text("unacked");
		EXPECT_EQ(ifc_.write(u(), fd, outb.data(), outb.size()), (ssize_t)outb.size());
		Receive();
		testing::internal::CaptureStderr();
		ifc_.free(ifc_.userdata);
		up_ = false;
		EXPECT_EQ(testing::internal::GetCapturedStderr(), "");
	}
}

// A blocking call in packetdrill's main thread that nothing can complete
// (no timer, no timeout, nobody else to send a packet) ends the process
// with a message: packetdrill's way of failing, never a hang.
TEST_F(Packetdrill, MainThreadBlockingForever_ExitsWithAMessage)
{
	GTEST_FLAG_SET(death_test_style, "threadsafe");
	EXPECT_EXIT({
		Init(kFlags);
		int lfd = Listen();
		ifc_.accept(u(), lfd, nullptr, nullptr);
	}, testing::ExitedWithCode(1), "can never return");
}

}  // namespace
