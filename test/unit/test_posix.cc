// SPDX-License-Identifier: BSD-3-Clause
// The POSIX-like layer (dtcp/posix.h) over the in-memory port and the fake
// clock: each call's result and errno as Linux gives them, what reaches the
// wire (exact flags, sequence numbers, options, windows), readiness as
// poll() and epoll report it, and blocking calls whose wait hook moves the
// clock and plays the peer. The fixture checks that no mbuf or heap block
// leaked.
#include "tcp_harness.h"

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
#include <random>
#include <set>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <linux/sockios.h>
#include <sys/ioctl.h>

#include <dtcp/posix.h>

namespace {

class Posix : public TcpTest {
protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		// Plain segments: no timestamps, no window scaling, unless a test asks.
		cfg_.tcp_timestamps = 0;
		cfg_.tcp_window_scale = 0;
	}

	void Start() override
	{
		TcpTest::Start();
		if (HasFatalFailure())
			return;
		struct dtcp_posix_params p = {};
		p.worker = w_;
		p.max_fds = max_fds_;
		p.wait = WaitHook;
		p.now = NowHook;
		p.arg = this;
		px_ = dtcp_posix_create(&p);
		ASSERT_NE(px_, nullptr);
		dtcp_posix_attach(px_);
	}

	void TearDown() override
	{
		if (px_ != nullptr) {
			dtcp_posix_destroy(px_);
			dtcp_posix_attach(nullptr);
			Poll();
			TakeTx();
		}
		TcpTest::TearDown();
	}

	// Blocking calls land here: play the peer (peer_, once per wait) or let
	// 1 ms pass. A call that never returns would stop the test: abort.
	static void WaitHook(void *arg, uint64_t deadline_ns)
	{
		Posix *t = static_cast<Posix *>(arg);

		(void)deadline_ns;
		if (++t->waits_ > kWaitsMax) {
			fprintf(stderr, "a blocking call waited %d times: giving up\n", kWaitsMax);
			abort();
		}
		if (t->peer_)
			t->peer_();
		else
			t->Advance(1);
	}
	static uint64_t NowHook(void *arg) { return static_cast<Posix *>(arg)->now_ns_; }

	static sockaddr_in Sin(uint32_t ip, uint16_t port)
	{
		sockaddr_in a = {};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(ip);
		a.sin_port = htons(port);
		return a;
	}
	static const sockaddr *Sa(const sockaddr_in &a) { return (const sockaddr *)&a; }

	// A listening socket on (any, port).
	int ListenFd(uint16_t port = kOurPort, int backlog = 16)
	{
		int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		EXPECT_GE(fd, DTCP_POSIX_FD_BASE);
		sockaddr_in a = Sin(0, port);
		EXPECT_EQ(dtcp_bind(fd, Sa(a), sizeof(a)), 0) << strerror(errno);
		EXPECT_EQ(dtcp_listen(fd, backlog), 0) << strerror(errno);
		return fd;
	}

	// The peer's handshake to a listener; the accepted descriptor (non-blocking).
	int AcceptFd(int lfd, const Seg &syn)
	{
		TcpSeg offered = ParseTcp(Frame(syn));
		lport_ = syn.dst_port;
		rport_ = syn.src_port;
		peer_iss_ = syn.seq_no;
		Inject(syn);
		ExpectSynAck(ExpectOneTx(), offered);
		snd_ = rcv_ = 1;
		Inject(PeerAck());
		ExpectNoTx();
		sockaddr_in peer = {};
		socklen_t len = sizeof(peer);
		int fd = dtcp_accept4(lfd, (sockaddr *)&peer, &len, SOCK_NONBLOCK);
		EXPECT_GE(fd, DTCP_POSIX_FD_BASE) << strerror(errno);
		EXPECT_EQ(len, sizeof(peer));
		EXPECT_EQ(ntohl(peer.sin_addr.s_addr), kPeerIp);
		EXPECT_EQ(ntohs(peer.sin_port), syn.src_port);
		return fd;
	}
	int AcceptFd(int lfd) { return AcceptFd(lfd, PeerSyn()); }

	// Non-blocking connect from kOurPort to the peer, SYN out, SYN-ACK in, ACK out.
	int ConnectFd()
	{
		int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		EXPECT_GE(fd, DTCP_POSIX_FD_BASE);
		sockaddr_in me = Sin(0, kOurPort), peer = Sin(kPeerIp, kPeerPort);
		EXPECT_EQ(dtcp_bind(fd, Sa(me), sizeof(me)), 0);
		errno = 0;
		EXPECT_EQ(dtcp_connect(fd, Sa(peer), sizeof(peer)), -1);
		EXPECT_EQ(errno, EINPROGRESS);
		Poll();
		ExpectSyn(ExpectOneTx());
		Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss));
		ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
		snd_ = rcv_ = 1;
		return fd;
	}

	short Revents(int fd, short events = POLLIN | POLLOUT | POLLRDHUP)
	{
		struct pollfd p = { fd, events, 0 };
		int n = dtcp_poll(&p, 1, 0);
		EXPECT_GE(n, 0);
		return p.revents;
	}

	// The call failed with errno e.
	static ::testing::AssertionResult Err(long rc, int e)
	{
		if (rc == -1 && errno == e)
			return ::testing::AssertionSuccess();
		return ::testing::AssertionFailure() << "rc " << rc << " errno " << errno << " ("
						     << strerror(errno) << "), wanted -1 "
						     << strerror(e);
	}

	static constexpr int kWaitsMax = 100000;
	struct dtcp_posix *px_ = nullptr;
	unsigned max_fds_ = 0;
	std::function<void()> peer_;
	int waits_ = 0;
};

// --- socket(), descriptors ---------------------------------------------------------

TEST_F(Posix, Socket_FirstIsThreeLowestFreeReused_BadArgumentsAsLinux)
{
	Start();
	EXPECT_EQ(dtcp_socket(AF_INET, SOCK_STREAM, 0), 3);
	EXPECT_EQ(dtcp_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), 4);
	EXPECT_EQ(dtcp_close(3), 0);
	EXPECT_EQ(dtcp_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 3) << "lowest free";
	EXPECT_EQ(dtcp_fcntl(3, F_GETFD), FD_CLOEXEC);
	EXPECT_TRUE(Err(dtcp_socket(AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT));
	EXPECT_TRUE(Err(dtcp_socket(AF_INET, SOCK_DGRAM, 0), EPROTONOSUPPORT));
	EXPECT_TRUE(Err(dtcp_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT));
	EXPECT_TRUE(Err(dtcp_close(3 + 100), EBADF));
	EXPECT_TRUE(Err(dtcp_close(0), EBADF)) << "stdin is never ours";
	EXPECT_TRUE(Err(dtcp_close(-1), EBADF));
	char b[4];
	EXPECT_TRUE(Err(dtcp_read(7, b, sizeof(b)), EBADF));
	int ep = dtcp_epoll_create1(0);
	ASSERT_GE(ep, 0);
	EXPECT_TRUE(Err(dtcp_read(ep, b, sizeof(b)), ENOTSOCK));
	EXPECT_TRUE(Err(dtcp_listen(ep, 1), ENOTSOCK));
	EXPECT_EQ(dtcp_close(ep), 0);
	EXPECT_EQ(dtcp_close(3), 0);
	EXPECT_EQ(dtcp_close(4), 0);
	EXPECT_TRUE(Err(dtcp_close(4), EBADF)) << "closed twice";
}

TEST_F(Posix, NoContextAttached_EBADF)
{
	Start();
	struct dtcp_posix_params bad = {};
	errno = 0;
	EXPECT_EQ(dtcp_posix_create(&bad), nullptr) << "no worker";
	EXPECT_EQ(errno, EINVAL);
	EXPECT_EQ(dtcp_posix_create(nullptr), nullptr);
	bad.worker = w_;
	bad.max_fds = 1u << 30;
	EXPECT_EQ(dtcp_posix_create(&bad), nullptr) << "beyond the bound";
	EXPECT_EQ(errno, EINVAL);
	dtcp_posix_attach(nullptr);
	EXPECT_EQ(dtcp_posix_current(), nullptr);
	EXPECT_TRUE(Err(dtcp_socket(AF_INET, SOCK_STREAM, 0), EBADF));
	dtcp_posix_attach(px_);
	EXPECT_EQ(dtcp_posix_current(), px_);
}

TEST_F(Posix, TableFull_EMFILECounted)
{
	max_fds_ = 2;
	Start();
	EXPECT_EQ(dtcp_socket(AF_INET, SOCK_STREAM, 0), 3);
	EXPECT_EQ(dtcp_socket(AF_INET, SOCK_STREAM, 0), 4);
	uint64_t before = Ctr(DTCP_CTR_posix_fd_table_full);
	EXPECT_TRUE(Err(dtcp_socket(AF_INET, SOCK_STREAM, 0), EMFILE));
	EXPECT_TRUE(Err(dtcp_epoll_create1(0), EMFILE));
	EXPECT_EQ(Ctr(DTCP_CTR_posix_fd_table_full), before + 2);
}

TEST_F(Posix, Fcntl_NonBlockSetAndCleared)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_EQ(dtcp_fcntl(fd, F_GETFL), O_RDWR);
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
	EXPECT_EQ(dtcp_fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, O_RDWR), 0);
	EXPECT_EQ(dtcp_fcntl(fd, F_GETFL), O_RDWR);
	EXPECT_TRUE(Err(dtcp_fcntl(fd, F_DUPFD, 0), EINVAL));
	EXPECT_TRUE(Err(dtcp_fcntl(99, F_GETFL), EBADF));
}

// --- bind(), listen(), accept() ------------------------------------------------------

TEST_F(Posix, Bind_ErrorsAsLinux)
{
	Start();
	int a = dtcp_socket(AF_INET, SOCK_STREAM, 0), b = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in any = Sin(0, 80), other = Sin(Ip(198, 18, 9, 9), 80);
	EXPECT_TRUE(Err(dtcp_bind(a, Sa(any), sizeof(any) - 1), EINVAL));
	sockaddr_in six = any;
	six.sin_family = AF_INET6;
	EXPECT_TRUE(Err(dtcp_bind(a, Sa(six), sizeof(six)), EAFNOSUPPORT));
	EXPECT_TRUE(Err(dtcp_bind(a, Sa(other), sizeof(other)), EADDRNOTAVAIL));
	EXPECT_EQ(dtcp_bind(a, Sa(any), sizeof(any)), 0);
	EXPECT_TRUE(Err(dtcp_bind(a, Sa(any), sizeof(any)), EINVAL)) << "bound already";
	EXPECT_TRUE(Err(dtcp_bind(b, Sa(any), sizeof(any)), EADDRINUSE));
	// Port 0: a free port is chosen; getsockname tells which.
	sockaddr_in zero = Sin(kOurIp, 0), got = {};
	socklen_t len = sizeof(got);
	EXPECT_EQ(dtcp_bind(b, Sa(zero), sizeof(zero)), 0);
	EXPECT_EQ(dtcp_getsockname(b, (sockaddr *)&got, &len), 0);
	EXPECT_EQ(ntohl(got.sin_addr.s_addr), kOurIp);
	EXPECT_GE(ntohs(got.sin_port), cfg_.tcp_port_min);
	EXPECT_LE(ntohs(got.sin_port), cfg_.tcp_port_max);
}

TEST_F(Posix, Accept_EmptyEAGAIN_HandshakeMakesListenerReadable_PeerAddress)
{
	Start();
	int lfd = ListenFd();
	EXPECT_TRUE(Err(dtcp_accept(lfd, nullptr, nullptr), EAGAIN));
	EXPECT_EQ(Revents(lfd), 0);
	int a = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_TRUE(Err(dtcp_accept(a, nullptr, nullptr), EINVAL)) << "not listening";
	EXPECT_TRUE(Err(dtcp_read(lfd, &a, 1), ENOTCONN));
	int fd = AcceptFd(lfd);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(Revents(lfd), 0) << "queue empty again";
	EXPECT_EQ(Revents(fd), POLLOUT) << "connected, nothing to read";
	sockaddr_in me = {}, peer = {};
	socklen_t len = sizeof(me);
	EXPECT_EQ(dtcp_getsockname(fd, (sockaddr *)&me, &len), 0);
	EXPECT_EQ(ntohl(me.sin_addr.s_addr), kOurIp);
	EXPECT_EQ(ntohs(me.sin_port), kOurPort);
	len = sizeof(peer);
	EXPECT_EQ(dtcp_getpeername(fd, (sockaddr *)&peer, &len), 0);
	EXPECT_EQ(ntohs(peer.sin_port), kPeerPort);
	EXPECT_TRUE(Err(dtcp_getpeername(lfd, (sockaddr *)&peer, &len), ENOTCONN));
	int on = 0;
	socklen_t ol = sizeof(on);
	EXPECT_EQ(dtcp_getsockopt(lfd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol), 0);
	EXPECT_EQ(on, 1);
}

// The accept queue holds backlog connections; beyond it the handshake's
// ACK leaves the connection in SYN-RECEIVED and nothing more is queued.
TEST_F(Posix, ListenBacklog_QueueHoldsBacklogMore_NotAccepted)
{
	Start();
	int lfd = ListenFd(kOurPort, 1);
	for (uint16_t k = 0; k < 2; k++) {
		Seg syn = PeerSyn();
		syn.sport((uint16_t)(kPeerPort + k));
		Inject(syn);
		TakeTx();
		Inject(Seg().ack().sport((uint16_t)(kPeerPort + k)).seq(P(1)).ack_(O(1)));
		TakeTx();
	}
	EXPECT_EQ(Revents(lfd), POLLIN);
	int fd = dtcp_accept(lfd, nullptr, nullptr);
	EXPECT_GE(fd, 0);
	EXPECT_TRUE(Err(dtcp_accept(lfd, nullptr, nullptr), EAGAIN));
	EXPECT_EQ(dtcp_close(fd), 0);
	EXPECT_EQ(dtcp_close(lfd), 0);
	Poll();
	TakeTx();
}

// --- read(), write(), close() over a passive open ----------------------------------------

TEST_F(Posix, Passive_ReadExactBytes_WriteGoesOut_PeerFinReadZero_CloseSendsFin)
{
	Start();
	int lfd = ListenFd();
	int fd = AcceptFd(lfd);
	char buf[64];
	EXPECT_TRUE(Err(dtcp_read(fd, buf, sizeof(buf)), EAGAIN));
	Inject(Seg().ack().psh().seq(P(1)).ack_(O(1)).data("hello, world"));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(13));
	rcv_ = 13;
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT);
	int avail = 0;
	EXPECT_EQ(dtcp_ioctl(fd, FIONREAD, &avail), 0);
	EXPECT_EQ(avail, 12);
	// Peeked, then read in two parts.
	EXPECT_EQ(dtcp_recv(fd, buf, 5, MSG_PEEK), 5);
	EXPECT_EQ(std::string(buf, 5), "hello");
	EXPECT_EQ(dtcp_read(fd, buf, 7), 7);
	EXPECT_EQ(std::string(buf, 7), "hello, ");
	EXPECT_EQ(dtcp_read(fd, buf, sizeof(buf)), 5);
	EXPECT_EQ(std::string(buf, 5), "world");
	EXPECT_TRUE(Err(dtcp_read(fd, buf, sizeof(buf)), EAGAIN));
	// Written bytes leave at the next poll, exactly.
	EXPECT_EQ(dtcp_write(fd, "pong", 4), 4);
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(1), P(13));
	EXPECT_EQ(std::string(s.payload.begin(), s.payload.end()), "pong");
	Inject(Seg().ack().seq(P(13)).ack_(O(5)));
	snd_ = 5;
	// The peer's FIN: end of file, POLLRDHUP; writing goes on.
	Inject(Seg().ack().fin().seq(P(13)).ack_(O(5)));
	ExpectSeg(ExpectOneTx(), "A", O(5), P(14));
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT | POLLRDHUP);
	EXPECT_EQ(dtcp_read(fd, buf, sizeof(buf)), 0);
	EXPECT_EQ(dtcp_read(fd, buf, sizeof(buf)), 0);
	EXPECT_EQ(dtcp_write(fd, "x", 1), 1);
	Poll();
	ExpectSeg(ExpectOneTx(), "PA", O(5), P(14));
	// close: FIN after the data.
	EXPECT_EQ(dtcp_close(fd), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(6), P(14));
	Inject(Seg().ack().seq(P(14)).ack_(O(7)));
	ExpectNoTx();
	EXPECT_EQ(dtcp_close(lfd), 0);
}

TEST_F(Posix, Readv_Writev_SpanIovecs)
{
	Start();
	int fd = AcceptFd(ListenFd());
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("abcdefghij"));
	TakeTx();
	char x[3], y[4], z[10];
	struct iovec in[3] = { { x, 3 }, { y, 4 }, { z, 10 } };
	EXPECT_EQ(dtcp_readv(fd, in, 3), 10);
	EXPECT_EQ(std::string(x, 3), "abc");
	EXPECT_EQ(std::string(y, 4), "defg");
	EXPECT_EQ(std::string(z, 3), "hij");
	struct iovec out[3] = { { (void *)"12", 2 }, { (void *)"", 0 }, { (void *)"345", 3 } };
	EXPECT_EQ(dtcp_writev(fd, out, 3), 5);
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(1), P(11));
	EXPECT_EQ(std::string(s.payload.begin(), s.payload.end()), "12345");
	EXPECT_TRUE(Err(dtcp_readv(fd, in, -1), EINVAL));
}

// A blocking read waits through the hook until the peer's data arrives.
TEST_F(Posix, BlockingRead_WokenByData)
{
	Start();
	int fd = AcceptFd(ListenFd());
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	int calls = 0;
	peer_ = [&] {
		if (++calls == 3)
			Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("late"));
		else
			Advance(10);
	};
	char buf[16];
	EXPECT_EQ(dtcp_read(fd, buf, sizeof(buf)), 4);
	EXPECT_EQ(std::string(buf, 4), "late");
	EXPECT_EQ(calls, 3);
	TakeTx();
}

// A descriptor closed while a call blocks on it (packetdrill's second
// thread): the call ends with EBADF, whether the number was given out
// again meanwhile (a read must not go on with another socket) or not (a
// connect must not wait for a connection that close() let go).
TEST_F(Posix, BlockingCalls_DescriptorClosedMeanwhile_EBADF)
{
	Start();
	int lfd = ListenFd();
	int fd = AcceptFd(lfd);
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	int calls = 0, again = -1;
	peer_ = [&] {
		if (++calls == 1) {
			EXPECT_EQ(dtcp_close(fd), 0);
			again = dtcp_socket(AF_INET, SOCK_STREAM, 0);
		} else {
			Advance(1);
		}
	};
	char buf[16];
	EXPECT_TRUE(Err(dtcp_read(fd, buf, sizeof(buf)), EBADF));
	EXPECT_EQ(again, fd) << "the lowest free number, given out again";
	EXPECT_EQ(calls, 1);
	EXPECT_EQ(dtcp_close(again), 0);
	TakeTx();

	int cfd = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { 0, 50000 };
	EXPECT_EQ(dtcp_setsockopt(cfd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	sockaddr_in peer = Sin(kPeerIp, kPeerPort);
	calls = 0;
	peer_ = [&] {
		if (++calls == 1)
			EXPECT_EQ(dtcp_close(cfd), 0);
		else
			Advance(1);
	};
	EXPECT_TRUE(Err(dtcp_connect(cfd, Sa(peer), sizeof(peer)), EBADF));
	EXPECT_EQ(calls, 1);
	TakeTx();
	EXPECT_EQ(dtcp_close(lfd), 0);
}

// SO_RCVTIMEO bounds a blocking read: EAGAIN once the time has passed.
TEST_F(Posix, BlockingRead_RcvTimeo_EAGAIN)
{
	Start();
	int fd = AcceptFd(ListenFd());
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	struct timeval tv = { 0, 50000 };
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	char buf[4];
	uint64_t t0 = now_ns_;
	EXPECT_TRUE(Err(dtcp_read(fd, buf, sizeof(buf)), EAGAIN));
	EXPECT_EQ(now_ns_ - t0, 50000000u) << "1 ms a wait, 50 waits";
}

// --- connect() --------------------------------------------------------------------

TEST_F(Posix, Connect_NonBlocking_InProgressThenWritable_SecondCallReports)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sockaddr_in me = Sin(0, kOurPort), peer = Sin(kPeerIp, kPeerPort);
	EXPECT_EQ(dtcp_bind(fd, Sa(me), sizeof(me)), 0);
	EXPECT_EQ(Revents(fd), POLLOUT | POLLHUP) << "a fresh socket, as Linux reports it";
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EINPROGRESS));
	EXPECT_EQ(Revents(fd), 0) << "SYN-SENT";
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EALREADY));
	char b[4];
	EXPECT_TRUE(Err(dtcp_read(fd, b, 4), EAGAIN));
	EXPECT_TRUE(Err(dtcp_write(fd, b, 4), EAGAIN));
	Poll();
	ExpectSyn(ExpectOneTx());
	Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
	EXPECT_EQ(Revents(fd), POLLOUT);
	int err = -1;
	socklen_t len = sizeof(err);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	EXPECT_EQ(err, 0);
	EXPECT_EQ(dtcp_connect(fd, Sa(peer), sizeof(peer)), 0) << "inet_stream_connect's second call";
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EISCONN));
}

TEST_F(Posix, Connect_Blocking_ReturnsOnceEstablished)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in me = Sin(0, kOurPort), peer = Sin(kPeerIp, kPeerPort);
	EXPECT_EQ(dtcp_bind(fd, Sa(me), sizeof(me)), 0);
	peer_ = [&] {
		Poll();
		std::vector<Bytes> tx = TakeTx();
		if (tx.size() == 1 && ParseTcp(tx[0]).Has(kSyn))
			Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss));
		else
			Advance(1);
	};
	EXPECT_EQ(dtcp_connect(fd, Sa(peer), sizeof(peer)), 0);
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
	snd_ = rcv_ = 1;
	EXPECT_EQ(dtcp_write(fd, "hi", 2), 2);
	Poll();
	ExpectSeg(ExpectOneTx(), "PA", O(1), P(1));
}

TEST_F(Posix, Connect_Refused_ECONNREFUSED_PollErrHup_SoErrorOnce)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sockaddr_in peer = Sin(kPeerIp, kPeerPort);
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EINPROGRESS));
	Poll();
	TcpSeg syn = ParseTcp(ExpectOneTx());
	ASSERT_TRUE(syn.Has(kSyn));
	Inject(Seg().rst().ack().dport(syn.sport).seq(0).ack_(O(1)));
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	int err = 0;
	socklen_t len = sizeof(err);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	EXPECT_EQ(err, ECONNREFUSED);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	EXPECT_EQ(err, 0) << "read once";
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), ECONNABORTED))
		<< "the error was taken: Linux's ECONNABORTED";
}

TEST_F(Posix, Connect_BlockingRefused_ECONNREFUSED_ThenAgainWorks)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in peer = Sin(kPeerIp, kPeerPort);
	peer_ = [&] {
		Poll();
		for (const Bytes &f : TakeTx()) {
			TcpSeg s = ParseTcp(f);
			if (s.Has(kSyn))
				Inject(Seg().rst().ack().dport(s.sport).seq(0).ack_(s.seq + 1));
		}
	};
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), ECONNREFUSED));
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), ECONNREFUSED)) << "tried again";
	EXPECT_TRUE(Err(dtcp_connect(fd, nullptr, 0), EINVAL));
	sockaddr_in six = peer;
	six.sin_family = AF_INET6;
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(six), sizeof(six)), EAFNOSUPPORT));
}

// --- RST, shutdown, SO_LINGER -----------------------------------------------------------

TEST_F(Posix, PeerRst_ReadECONNRESETOnceThenZero_WriteEPIPE)
{
	Start();
	int fd = AcceptFd(ListenFd());
	Inject(Seg().rst().seq(P(1)));
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	char b[4];
	EXPECT_TRUE(Err(dtcp_read(fd, b, sizeof(b)), ECONNRESET));
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 0);
	EXPECT_TRUE(Err(dtcp_write(fd, "x", 1), EPIPE)) << "no SIGPIPE: only EPIPE";
	ExpectNoTx();
}

TEST_F(Posix, PeerRst_WriteFirst_ECONNRESETThenEPIPE)
{
	Start();
	int fd = AcceptFd(ListenFd());
	Inject(Seg().rst().seq(P(1)));
	EXPECT_TRUE(Err(dtcp_write(fd, "x", 1), ECONNRESET));
	EXPECT_TRUE(Err(dtcp_write(fd, "x", 1), EPIPE));
}

TEST_F(Posix, ShutdownWr_FinOnWire_WriteEPIPE_ReadGoesOn)
{
	Start();
	int fd = AcceptFd(ListenFd());
	EXPECT_TRUE(Err(dtcp_shutdown(fd, 7), EINVAL));
	EXPECT_EQ(dtcp_shutdown(fd, SHUT_WR), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(1));
	EXPECT_TRUE(Err(dtcp_write(fd, "x", 1), EPIPE));
	EXPECT_EQ(Revents(fd), POLLOUT) << "Linux: POLLOUT once SEND_SHUTDOWN";
	Inject(Seg().ack().seq(P(1)).ack_(O(2)).data("more"));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(5));
	char b[8];
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 4);
	Inject(Seg().ack().fin().seq(P(5)).ack_(O(2)));
	TakeTx();
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT | POLLHUP | POLLRDHUP) << "both directions shut";
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 0);
	int nc = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_TRUE(Err(dtcp_shutdown(nc, SHUT_RDWR), ENOTCONN));
}

TEST_F(Posix, CloseWithLingerZero_RstOnWire)
{
	Start();
	int fd = AcceptFd(ListenFd());
	struct linger l = { 1, 0 };
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	struct linger g = {};
	socklen_t len = sizeof(g);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_LINGER, &g, &len), 0);
	EXPECT_EQ(g.l_onoff, 1);
	EXPECT_EQ(dtcp_close(fd), 0);
	Poll();
	ExpectRst(ExpectOneTx(), O(1));
}

TEST_F(Posix, CloseWithUnreadData_Rst)
{
	Start();
	int fd = AcceptFd(ListenFd());
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("unread"));
	TakeTx();
	EXPECT_EQ(dtcp_close(fd), 0);
	Poll();
	ExpectRst(ExpectOneTx(), O(1));
}

// --- options on the wire ----------------------------------------------------------------

// TCP_MAXSEG and SO_RCVBUF set before connect() shape the SYN: the MSS
// announced, and the window scale that lets the buffer be advertised.
TEST_F(Posix, Options_MaxsegAndRcvbuf_InTheSyn)
{
	cfg_.tcp_window_scale = 1;
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int mss = 1000, rcvbuf = 262144;
	EXPECT_EQ(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)), 0);
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	sockaddr_in me = Sin(0, kOurPort), peer = Sin(kPeerIp, kPeerPort);
	EXPECT_EQ(dtcp_bind(fd, Sa(me), sizeof(me)), 0);
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EINPROGRESS));
	Poll();
	TcpSeg syn = ExpectSeg(ExpectOneTx(), "S", O(0), 0, 65535);
	EXPECT_EQ(syn.opts, SynOptionBytes(1000, false, false, 0, 0, 3))
		<< "MSS 1000; shift 3: 262144 >> 3 = 32768 fits, >> 2 does not";
	// The peer offers 1460: we send no more than we asked for.
	Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(1460).nop().ws(0));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1), (uint16_t)(262144 >> 3));
	struct dtcp_tcp_info ti = {};
	socklen_t len = sizeof(ti);
	EXPECT_EQ(dtcp_getsockopt(fd, IPPROTO_TCP, DTCP_TCP_INFO, &ti, &len), 0);
	EXPECT_EQ(len, sizeof(ti));
	EXPECT_EQ(ti.state, DTCP_TCP_ESTABLISHED);
	EXPECT_EQ(ti.snd_mss, 1000u);
	EXPECT_EQ(ti.rcv_mss, 1000u);
	EXPECT_EQ(ti.rcv_wscale, 3);
	EXPECT_EQ(ti.snd_wscale, 0);
	EXPECT_EQ(ti.options, DTCP_TCPI_OPT_WSCALE);
	int got = 0;
	socklen_t gl = sizeof(got);
	EXPECT_EQ(dtcp_getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &got, &gl), 0);
	EXPECT_EQ(got, 1000);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl), 0);
	EXPECT_EQ(got, 262144);
}

// RFC 5681 §4.2: an ACK at least every second full-sized segment, and
// full-sized is what our SYN asked for (TCP_MAXSEG), not the MTU's MSS:
// with 500-byte segments the peer must not wait for six of them.
TEST_F(Posix, Options_Maxseg_AckEverySecondSegmentOfThatSize)
{
	cfg_.tcp_delack_ms = 40;
	cfg_.tcp_window_scale = 1;
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int mss = 500;
	EXPECT_EQ(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)), 0);
	sockaddr_in me = Sin(0, kOurPort), peer = Sin(kPeerIp, kPeerPort);
	EXPECT_EQ(dtcp_bind(fd, Sa(me), sizeof(me)), 0);
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EINPROGRESS));
	Poll();
	TcpSeg syn = ExpectSeg(ExpectOneTx(), "S", O(0), 0);
	EXPECT_EQ(syn.opts, SynOptionBytes(500, false, false, 0, 0, 3));
	Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(1460).nop().ws(0));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
	snd_ = rcv_ = 1;
	const std::string seg(500, 'x');
	const int kSegs = 40;
	uint32_t at = 1;
	int since_ack = 0, most = 0;
	for (int i = 0; i < kSegs; i++) {
		Inject(Seg().ack().seq(P(at)).ack_(O(1)).data(seg));
		at += 500;
		since_ack++;
		std::vector<Bytes> tx = TakeTx();
		ASSERT_LE(tx.size(), 1u);
		if (tx.size() == 1) {
			ExpectSeg(tx[0], "A", O(1), P(at));
			since_ack = 0;
		}
		most = std::max(most, since_ack);
	}
	EXPECT_LE(most, 1) << "segments of 500 bytes left waiting for an ACK";
	std::vector<char> buf(kSegs * 500 + 1);
	EXPECT_EQ(dtcp_read(fd, buf.data(), buf.size()), kSegs * 500);
	EXPECT_EQ(dtcp_close(fd), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(at));
}

// Without window scaling the window field holds 65535 at most: a larger
// receive buffer cannot be announced, so delivering data to the reader
// opens nothing the peer could hear of. Delayed ACKs still go every
// second full-sized segment (RFC 5681 §4.2), not one per segment.
TEST_F(Posix, NoWindowScale_RcvbufAbove64K_NoWindowUpdatePerSegment)
{
	cfg_.tcp_delack_ms = 40;
	ASSERT_GT(cfg_.tcp_rcvbuf, 2u * 65535);
	Start();
	int fd = ConnectFd();
	const uint16_t mss = (uint16_t)std::min<unsigned>(kPeerMss, OurMss());
	const std::string seg(mss, 'y');
	const int kSegs = 60;
	uint32_t at = 1;
	int since_ack = 0, most = 0, acks = 0;
	for (int i = 0; i < kSegs; i++) {
		Inject(Seg().ack().seq(P(at)).ack_(O(1)).data(seg));
		at += mss;
		since_ack++;
		std::vector<Bytes> tx = TakeTx();
		ASSERT_LE(tx.size(), 1u);
		if (tx.size() == 1) {
			ExpectSeg(tx[0], "A", O(1), P(at));
			since_ack = 0;
			acks++;
		}
		most = std::max(most, since_ack);
		// The reader keeps up: the buffer is never the limit.
		std::vector<char> buf(mss);
		ASSERT_EQ(dtcp_read(fd, buf.data(), buf.size()), (ssize_t)mss);
	}
	EXPECT_EQ(most, 1) << "every second segment, not every one";
	EXPECT_LT(acks, kSegs);
	EXPECT_EQ(dtcp_close(fd), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(at));
}

// Without window scaling a small SO_RCVBUF is the SYN's window itself.
TEST_F(Posix, Options_SmallRcvbuf_IsTheSynWindow)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int rcvbuf = 8192;
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	sockaddr_in peer = Sin(kPeerIp, kPeerPort);
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EINPROGRESS));
	Poll();
	TcpSeg syn = ParseTcp(ExpectOneTx());
	EXPECT_TRUE(syn.Has(kSyn));
	EXPECT_EQ(syn.win, 8192);
	EXPECT_EQ(syn.opts, SynOptionBytes(OurMss(), false, false, 0, 0, -1));
}

// A listener's options reach the SYN-ACK of each connection and the
// accepted socket, whose MSS is held to what the listener asked.
TEST_F(Posix, Options_ListenerMaxsegRcvbuf_InTheSynAckAndInherited)
{
	Start();
	int lfd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int mss = 1200, rcvbuf = 8192, sndbuf = 16384, one = 1;
	EXPECT_EQ(dtcp_setsockopt(lfd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)), 0);
	EXPECT_EQ(dtcp_setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	EXPECT_EQ(dtcp_setsockopt(lfd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	EXPECT_EQ(dtcp_setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)), 0);
	sockaddr_in a = Sin(0, kOurPort);
	EXPECT_EQ(dtcp_bind(lfd, Sa(a), sizeof(a)), 0);
	EXPECT_EQ(dtcp_listen(lfd, 4), 0);
	Inject(PeerSyn());
	TcpSeg sa = ExpectSeg(ExpectOneTx(), "SA", O(0), P(1), 8192);
	EXPECT_EQ(sa.opts, SynOptionBytes(1200, false, false, 0, 0, -1));
	snd_ = rcv_ = 1;
	Inject(PeerAck());
	int fd = dtcp_accept(lfd, nullptr, nullptr);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(dtcp_fcntl(fd, F_GETFL), O_RDWR) << "O_NONBLOCK is not inherited";
	int got = 0;
	socklen_t gl = sizeof(got);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &gl), 0);
	EXPECT_EQ(got, 8192);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &got, &gl), 0);
	EXPECT_EQ(got, 16384);
	EXPECT_EQ(dtcp_getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &got, &gl), 0);
	EXPECT_EQ(got, 1);
	EXPECT_EQ(dtcp_getsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &got, &gl), 0);
	EXPECT_EQ(got, 1200) << "the peer's 1460 held to ours";
	// The send buffer is the connection's: 16384 bytes taken, no more.
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).win(0));
	std::string big(20000, 'q');
	dtcp_fcntl(fd, F_SETFL, O_NONBLOCK);
	EXPECT_EQ(dtcp_write(fd, big.data(), big.size()), 16384);
	EXPECT_TRUE(Err(dtcp_write(fd, big.data(), big.size()), EAGAIN));
	EXPECT_EQ(Revents(fd, POLLOUT), 0) << "no room";
	int outq = 0;
	EXPECT_EQ(dtcp_ioctl(fd, SIOCOUTQ, &outq), 0);
	EXPECT_EQ(outq, 16384);
}

TEST_F(Posix, Options_ErrorsAsLinux)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	int v = 1;
	char c = 1;
	EXPECT_TRUE(Err(dtcp_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &c, 1), EINVAL));
	EXPECT_TRUE(Err(dtcp_setsockopt(fd, IPPROTO_IP, 1, &v, sizeof(v)), ENOPROTOOPT));
	EXPECT_TRUE(Err(dtcp_setsockopt(fd, SOL_SOCKET, SO_ERROR, &v, sizeof(v)), ENOPROTOOPT));
	EXPECT_TRUE(Err(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, sizeof(v)), ENOPROTOOPT));
	v = 10;
	EXPECT_TRUE(Err(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_MAXSEG, &v, sizeof(v)), EINVAL));
	v = 0;
	EXPECT_TRUE(Err(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &v, sizeof(v)), EINVAL));
	v = 40000;
	EXPECT_TRUE(Err(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &v, sizeof(v)), EINVAL));
	EXPECT_TRUE(Err(dtcp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, nullptr, 4), EFAULT));
	struct timeval tv = { 0, 1000000 };
	EXPECT_TRUE(Err(dtcp_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), EDOM));
	int got = -1;
	socklen_t gl = sizeof(got);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_TYPE, &got, &gl), 0);
	EXPECT_EQ(got, SOCK_STREAM);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &got, &gl), 0);
	EXPECT_EQ(got, 0);
	v = 1;
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &v, sizeof(v)), 0);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &got, &gl), 0);
	EXPECT_EQ(got, 1);
	EXPECT_TRUE(Err(dtcp_getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &got, &gl), ENOPROTOOPT));
	EXPECT_TRUE(Err(dtcp_getsockopt(fd, SOL_SOCKET, SO_TYPE, &got, nullptr), EFAULT));
	struct dtcp_tcp_info ti;
	memset(&ti, 0xff, sizeof(ti));
	socklen_t tl = sizeof(ti);
	EXPECT_EQ(dtcp_getsockopt(fd, IPPROTO_TCP, DTCP_TCP_INFO, &ti, &tl), 0);
	EXPECT_EQ(ti.state, DTCP_TCP_CLOSED) << "no connection yet";
	// A short buffer takes the start, as Linux does.
	tl = 4;
	EXPECT_EQ(dtcp_getsockopt(fd, IPPROTO_TCP, DTCP_TCP_INFO, &ti, &tl), 0);
	EXPECT_EQ(tl, 4u);
}

// Nagle's algorithm held back a small segment while data was unacked;
// TCP_NODELAY on the connection lets the next one go at once.
TEST_F(Posix, Options_NodelayAfterConnect_SmallSegmentGoesAtOnce)
{
	cfg_.tcp_nodelay = 0;
	Start();
	int fd = AcceptFd(ListenFd());
	int off = 0, on = 1;
	EXPECT_EQ(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &off, sizeof(off)), 0);
	EXPECT_EQ(dtcp_write(fd, "a", 1), 1);
	Poll();
	ExpectSeg(ExpectOneTx(), "PA", O(1), P(1));
	EXPECT_EQ(dtcp_write(fd, "b", 1), 1);
	Poll();
	ExpectNoTx();
	EXPECT_EQ(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)), 0);
	EXPECT_EQ(dtcp_write(fd, "c", 1), 1);
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(2), P(1));
	EXPECT_EQ(std::string(s.payload.begin(), s.payload.end()), "bc");
}

// SO_KEEPALIVE with TCP_KEEPIDLE/INTVL/CNT: probes after the idle time, one
// per interval, then RST and ETIMEDOUT for the application.
TEST_F(Posix, Options_Keepalive_ProbesAtIdleAndInterval_ThenETIMEDOUT)
{
	Start();
	int fd = AcceptFd(ListenFd());
	int on = 1, idle = 10, intvl = 2, cnt = 2;
	EXPECT_EQ(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle)), 0);
	EXPECT_EQ(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl)), 0);
	EXPECT_EQ(dtcp_setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt)), 0);
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)), 0);
	uint64_t t0 = now_ns_;
	std::vector<uint64_t> probes;
	bool rst = false;
	for (int i = 0; i < 200 && !rst; i++) {
		Advance(100);
		for (const Bytes &f : TakeTx()) {
			TcpSeg s = ParseTcp(f);
			if (s.Has(kRst)) {
				rst = true;
			} else {
				ExpectSeg(f, "A", O(0), P(1));
				probes.push_back((now_ns_ - t0) / 1000000);
			}
		}
	}
	ASSERT_EQ(probes.size(), 2u);
	EXPECT_NEAR((double)probes[0], 10000, 100);
	EXPECT_NEAR((double)(probes[1] - probes[0]), 2000, 100);
	EXPECT_TRUE(rst);
	char b[4];
	EXPECT_TRUE(Err(dtcp_read(fd, b, sizeof(b)), ETIMEDOUT));
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 0);
}

// --- receive back-pressure ----------------------------------------------------------------

// Unread bytes reach SO_RCVBUF: the connection's data is held in the stack
// and the window the peer sees closes; reading reopens it. Nothing dropped.
TEST_F(Posix, RcvbufFull_WindowClosesNothingDropped_ReadReopens)
{
	Start();
	int lfd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int rcvbuf = 4096;
	EXPECT_EQ(dtcp_setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	sockaddr_in a = Sin(0, kOurPort);
	EXPECT_EQ(dtcp_bind(lfd, Sa(a), sizeof(a)), 0);
	EXPECT_EQ(dtcp_listen(lfd, 4), 0);
	Inject(PeerSyn());
	ExpectSeg(ExpectOneTx(), "SA", O(0), P(1), 4096);
	snd_ = rcv_ = 1;
	Inject(PeerAck());
	int fd = dtcp_accept(lfd, nullptr, nullptr);
	ASSERT_GE(fd, 0);
	Bytes sent = Pattern(8192, 7);
	uint64_t paused = Ctr(DTCP_CTR_posix_rcv_paused);
	// 4096 bytes fill the socket's queue, 4096 more wait in the stack.
	for (uint32_t k = 0; k < 8; k++) {
		Inject(Seg().ack().seq(P(1 + 1024 * k)).ack_(O(1))
			       .data(Bytes(sent.begin() + 1024 * k, sent.begin() + 1024 * (k + 1))));
		TakeTx();
	}
	EXPECT_EQ(Ctr(DTCP_CTR_posix_rcv_paused), paused + 1);
	struct dtcp_tcp_info ti = {};
	socklen_t tl = sizeof(ti);
	EXPECT_EQ(dtcp_getsockopt(fd, IPPROTO_TCP, DTCP_TCP_INFO, &ti, &tl), 0);
	EXPECT_EQ(ti.rcv_wnd, 0u) << "closed";
	int avail = 0;
	EXPECT_EQ(dtcp_ioctl(fd, FIONREAD, &avail), 0);
	EXPECT_EQ(avail, 4096);
	// Beyond the closed window: not taken, answered with window 0.
	Inject(Seg().ack().seq(P(8193)).ack_(O(1)).data("z"));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(8193), 0);
	Bytes got(8192);
	size_t off = 0;
	for (int i = 0; i < 16 && off < got.size(); i++) {
		ssize_t n = dtcp_read(fd, got.data() + off, 1000);
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	EXPECT_EQ(off, 8192u);
	EXPECT_EQ(got, sent);
	Poll();
	ExpectSeg(ExpectOneTx(), "A", O(1), P(8193), 4096); // the window reopens, announced
}

// --- connection of a listener: data with the handshake -----------------------------------------

TEST_F(Posix, Accept_DataAndFinBeforeAccept_ReadableAtOnce)
{
	Start();
	int lfd = ListenFd();
	Inject(PeerSyn());
	TakeTx();
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("early"));
	Inject(Seg().ack().fin().seq(P(6)).ack_(O(1)));
	TakeTx();
	int fd = dtcp_accept(lfd, nullptr, nullptr);
	ASSERT_GE(fd, 0);
	char b[16];
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 5);
	EXPECT_EQ(std::string(b, 5), "early");
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 0);
}

TEST_F(Posix, BlockingAccept_WokenByHandshake)
{
	Start();
	int lfd = ListenFd();
	EXPECT_EQ(dtcp_fcntl(lfd, F_SETFL, 0), 0);
	int step = 0;
	peer_ = [&] {
		step++;
		if (step == 2) {
			Inject(PeerSyn());
			TakeTx();
		} else if (step == 4) {
			Inject(Seg().ack().seq(P(1)).ack_(O(1)));
		} else {
			Advance(1);
		}
	};
	int fd = dtcp_accept(lfd, nullptr, nullptr);
	EXPECT_GE(fd, 0);
	EXPECT_EQ(step, 4);
}

// A blocking write of more than the send buffer returns once all of it is
// queued, the peer's ACKs making room.
TEST_F(Posix, BlockingWrite_AllOfItOnceAcked)
{
	Start();
	int fd = AcceptFd(ListenFd());
	int sndbuf = 4096;
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	Bytes data = Pattern(10000, 3);
	Bytes wire;
	peer_ = [&] {
		Poll();
		for (const Bytes &f : TakeTx()) {
			TcpSeg s = ParseTcp(f);
			wire.insert(wire.end(), s.payload.begin(), s.payload.end());
		}
		Inject(Seg().ack().seq(P(1)).ack_(O(1 + (uint32_t)wire.size())));
	};
	EXPECT_EQ(dtcp_write(fd, data.data(), data.size()), 10000);
	peer_();
	peer_();
	EXPECT_EQ(wire, data);
}

// --- SHUT_RD, TIME-WAIT and SO_REUSEADDR, SO_REUSEPORT ---------------------------------------

TEST_F(Posix, ShutdownRd_ReadZero_DataAfterDiscarded)
{
	Start();
	int fd = AcceptFd(ListenFd());
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("dropped"));
	TakeTx();
	EXPECT_EQ(dtcp_shutdown(fd, SHUT_RD), 0);
	char b[8];
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 0);
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT | POLLRDHUP);
	Inject(Seg().ack().seq(P(8)).ack_(O(1)).data("more"));
	TakeTx();
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 0);
}

// Our active close leaves TIME-WAIT on the port; a new listener with
// SO_REUSEADDR binds and serves it at once.
TEST_F(Posix, ReuseAddr_ListenWhileTimeWaitOnThePort)
{
	Start();
	int lfd = ListenFd();
	int fd = AcceptFd(lfd);
	EXPECT_EQ(dtcp_close(lfd), 0);
	EXPECT_EQ(dtcp_close(fd), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(1));
	Inject(Seg().ack().fin().seq(P(1)).ack_(O(2)));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(2));
	uint64_t counts[DTCP_TCP_STATE_MAX];
	dtcp_tcp_state_counts(w_, counts);
	ASSERT_EQ(counts[DTCP_TCP_TIME_WAIT], 1u);
	int n = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
	EXPECT_EQ(dtcp_setsockopt(n, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	sockaddr_in a = Sin(0, kOurPort);
	EXPECT_EQ(dtcp_bind(n, Sa(a), sizeof(a)), 0);
	EXPECT_EQ(dtcp_listen(n, 4), 0);
	Seg syn = PeerSyn();
	syn.sport(kPeerPort + 1);
	int c = AcceptFd(n, syn);
	EXPECT_GE(c, 0);
}

// Two sockets with SO_REUSEPORT share a port's bind; within one worker the
// listen table holds one listener per port, so the second listen() is
// EADDRINUSE. Across workers each context listens on it.
TEST_F(Posix, ReusePort_SameWorkerSecondListenEADDRINUSE)
{
	Start();
	int one = 1;
	int a = dtcp_socket(AF_INET, SOCK_STREAM, 0), b = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	int c = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_EQ(dtcp_setsockopt(a, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	EXPECT_EQ(dtcp_setsockopt(b, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	sockaddr_in addr = Sin(0, 80);
	EXPECT_EQ(dtcp_bind(a, Sa(addr), sizeof(addr)), 0);
	EXPECT_EQ(dtcp_bind(b, Sa(addr), sizeof(addr)), 0);
	EXPECT_TRUE(Err(dtcp_bind(c, Sa(addr), sizeof(addr)), EADDRINUSE)) << "c did not ask";
	EXPECT_EQ(dtcp_listen(a, 4), 0);
	EXPECT_TRUE(Err(dtcp_listen(b, 4), EADDRINUSE));
}

TEST_F(Posix, ReusePort_TwoWorkersListenOnTheSamePort_EachAccepts)
{
	Start();
	// A second worker on a port of its own, with its own context.
	struct rte_ether_addr mac;
	memcpy(mac.addr_bytes, kOurMac.b, 6);
	struct dtcp_port *port2 = dtcp_memport_create(&mac, 1500, pool_, 64);
	ASSERT_NE(port2, nullptr);
	char err[256] = "";
	struct dtcp_worker *w2 = dtcp_worker_create(&cfg_, port2, 1, now_ns_, err, sizeof(err));
	ASSERT_NE(w2, nullptr) << err;
	struct dtcp_posix_params p = {};
	p.worker = w2;
	struct dtcp_posix *px2 = dtcp_posix_create(&p);
	ASSERT_NE(px2, nullptr);
	int one = 1;
	sockaddr_in addr = Sin(0, kOurPort);
	int l1 = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_EQ(dtcp_setsockopt(l1, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	EXPECT_EQ(dtcp_bind(l1, Sa(addr), sizeof(addr)), 0);
	EXPECT_EQ(dtcp_listen(l1, 4), 0);
	dtcp_posix_attach(px2);
	int l2 = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	EXPECT_EQ(l2, 3) << "descriptors are per context";
	EXPECT_EQ(dtcp_setsockopt(l2, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)), 0);
	EXPECT_EQ(dtcp_bind(l2, Sa(addr), sizeof(addr)), 0);
	EXPECT_EQ(dtcp_listen(l2, 4), 0);
	// A handshake on the second worker's port (it learns the peer's MAC from the SYN's ARP).
	auto inject2 = [&](const Bytes &f) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool_);
		ASSERT_NE(m, nullptr);
		memcpy(rte_pktmbuf_append(m, (uint16_t)f.size()), f.data(), f.size());
		ASSERT_EQ(dtcp_memport_inject(port2, m), 0);
		dtcp_worker_poll(w2, now_ns_);
	};
	auto drain2 = [&] {
		struct rte_mbuf *out[16];
		std::vector<Bytes> frames;
		unsigned n = dtcp_memport_take(port2, out, 16);
		for (unsigned i = 0; i < n; i++) {
			frames.push_back(MbufBytes(out[i]));
			rte_pktmbuf_free(out[i]);
		}
		return frames;
	};
	inject2(ArpFrom(1, kPeerMac, kPeerIp, kOurIp));
	drain2();
	Seg syn = PeerSyn();
	syn.sport(41000);
	inject2(Frame(syn));
	std::vector<Bytes> sa = drain2();
	ASSERT_EQ(sa.size(), 1u);
	TcpSeg synack = ParseTcp(sa[0]);
	EXPECT_EQ(FlagsString(synack.flags), "SA") << "from the second worker";
	EXPECT_EQ(synack.ack, P(1));
	inject2(Frame(Seg().ack().sport(41000).seq(P(1)).ack_(synack.seq + 1)));
	int c2 = dtcp_accept(l2, nullptr, nullptr);
	EXPECT_GE(c2, 0) << strerror(errno);
	dtcp_posix_attach(px_);
	EXPECT_TRUE(Err(dtcp_accept(l1, nullptr, nullptr), EAGAIN)) << "not the first worker's";
	int c1 = AcceptFd(l1);
	EXPECT_GE(c1, 0);
	dtcp_posix_destroy(px2);
	dtcp_worker_poll(w2, now_ns_);
	drain2();
	dtcp_worker_destroy(w2);
	dtcp_port_destroy(port2);
}

// --- poll() and epoll ---------------------------------------------------------------------

TEST_F(Posix, Poll_NegativeFdIgnored_UnknownPOLLNVAL_TimeoutWaits)
{
	Start();
	int fd = AcceptFd(ListenFd());
	struct pollfd p[3] = { { -1, POLLIN, 7 }, { 50, POLLIN, 0 }, { fd, POLLIN, 0 } };
	EXPECT_EQ(dtcp_poll(p, 3, 0), 1);
	EXPECT_EQ(p[0].revents, 0);
	EXPECT_EQ(p[1].revents, POLLNVAL);
	EXPECT_EQ(p[2].revents, 0);
	// Only the readable descriptor, 30 ms: 30 waits of 1 ms, then 0.
	uint64_t t0 = now_ns_;
	EXPECT_EQ(dtcp_poll(&p[2], 1, 30), 0);
	EXPECT_EQ(now_ns_ - t0, 30000000u);
	// Data arrives during a wait: poll returns it.
	int calls = 0;
	peer_ = [&] {
		if (++calls == 5)
			Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("x"));
		else
			Advance(1);
	};
	EXPECT_EQ(dtcp_poll(&p[2], 1, -1), 1);
	EXPECT_EQ(p[2].revents, POLLIN);
	EXPECT_EQ(calls, 5);
	TakeTx();
}

TEST_F(Posix, Epoll_LevelTriggered_ReportedUntilRead_DataKept)
{
	Start();
	int fd = AcceptFd(ListenFd());
	int ep = dtcp_epoll_create1(0);
	struct epoll_event ev = {};
	ev.events = EPOLLIN;
	ev.data.u64 = 0x1122334455667788ull;
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	struct epoll_event out[4];
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 0);
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("abc"));
	TakeTx();
	for (int k = 0; k < 2; k++) {
		ASSERT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 1) << "level-triggered: again";
		EXPECT_EQ(out[0].events, (uint32_t)EPOLLIN);
		EXPECT_EQ(out[0].data.u64, 0x1122334455667788ull);
	}
	struct pollfd p = { ep, POLLIN, 0 };
	EXPECT_EQ(dtcp_poll(&p, 1, 0), 1) << "an epoll descriptor is readable when events wait";
	char b[4];
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 3);
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 0);
	// The peer's FIN: EPOLLIN and EPOLLRDHUP if asked, EPOLLHUP never alone.
	ev.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), 0);
	Inject(Seg().ack().fin().seq(P(4)).ack_(O(1)));
	TakeTx();
	ASSERT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 1);
	EXPECT_EQ(out[0].events, (uint32_t)(EPOLLIN | EPOLLOUT | EPOLLRDHUP));
}

TEST_F(Posix, Epoll_EdgeTriggered_OncePerArrival)
{
	Start();
	int fd = AcceptFd(ListenFd());
	int ep = dtcp_epoll_create(1);
	struct epoll_event ev = {};
	ev.events = EPOLLIN | EPOLLET;
	ev.data.fd = fd;
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	struct epoll_event out[4];
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 0);
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("a"));
	TakeTx();
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 1);
	EXPECT_EQ(out[0].data.fd, fd);
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 0) << "no new arrival, unread or not";
	Inject(Seg().ack().seq(P(2)).ack_(O(1)).data("b"));
	TakeTx();
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 1) << "a new arrival";
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 0);
	// MOD reports the level once more.
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), 0);
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 1);
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 0);
}

// EPOLLOUT | EPOLLET on a full send buffer: one report when ACKs make room.
TEST_F(Posix, Epoll_EdgeTriggeredOut_ReportedWhenRoomReturns)
{
	Start();
	int fd = AcceptFd(ListenFd());
	int sndbuf = 4096;
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)), 0);
	int ep = dtcp_epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = {};
	ev.events = EPOLLOUT | EPOLLET;
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	struct epoll_event out[4];
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 1) << "writable when added";
	std::string big(8192, 'w');
	EXPECT_EQ(dtcp_write(fd, big.data(), big.size()), 4096);
	Poll();
	std::vector<Bytes> tx = TakeTx();
	EXPECT_EQ(tx.size(), 3u) << "1460 + 1460 + 1176";
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 0);
	Inject(Seg().ack().seq(P(1)).ack_(O(1 + 4096)));
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 1);
	EXPECT_EQ(out[0].events, (uint32_t)EPOLLOUT);
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 4, 0), 0);
}

TEST_F(Posix, Epoll_OneShot_DisabledUntilMod)
{
	Start();
	int lfd = ListenFd();
	int ep = dtcp_epoll_create1(0);
	struct epoll_event ev = {};
	ev.events = EPOLLIN | EPOLLONESHOT;
	ev.data.u32 = 77;
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev), 0);
	Inject(PeerSyn());
	TakeTx();
	Inject(Seg().ack().seq(P(1)).ack_(O(1)));
	struct epoll_event out[2];
	ASSERT_EQ(dtcp_epoll_wait(ep, out, 2, 0), 1) << "the listener: a connection waits";
	EXPECT_EQ(out[0].data.u32, 77u);
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 2, 0), 0) << "one shot";
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_MOD, lfd, &ev), 0);
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 2, 0), 1) << "re-armed";
	EXPECT_GE(dtcp_accept(lfd, nullptr, nullptr), 0);
}

TEST_F(Posix, Epoll_CtlErrors_CloseRemoves_WaitBlocksThroughHook)
{
	Start();
	int fd = AcceptFd(ListenFd());
	int ep = dtcp_epoll_create1(0), ep2 = dtcp_epoll_create1(0);
	struct epoll_event ev = {};
	ev.events = EPOLLIN;
	struct epoll_event out[2];
	EXPECT_TRUE(Err(dtcp_epoll_create(0), EINVAL));
	EXPECT_TRUE(Err(dtcp_epoll_create1(42), EINVAL));
	EXPECT_TRUE(Err(dtcp_epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev), ENOENT));
	EXPECT_TRUE(Err(dtcp_epoll_ctl(ep, EPOLL_CTL_DEL, fd, &ev), ENOENT));
	EXPECT_TRUE(Err(dtcp_epoll_ctl(fd, EPOLL_CTL_ADD, ep, &ev), EINVAL)) << "fd is no epoll";
	EXPECT_TRUE(Err(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL)) << "itself";
	EXPECT_TRUE(Err(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, ep2, &ev), EPERM)) << "no nesting";
	EXPECT_TRUE(Err(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, 99, &ev), EBADF));
	EXPECT_TRUE(Err(dtcp_epoll_ctl(ep, 9, fd, &ev), EINVAL));
	EXPECT_TRUE(Err(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, nullptr), EFAULT));
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	EXPECT_TRUE(Err(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), EEXIST));
	EXPECT_TRUE(Err(dtcp_epoll_wait(ep, out, 0, 0), EINVAL));
	EXPECT_TRUE(Err(dtcp_epoll_wait(fd, out, 2, 0), EINVAL));
	// A wait with a timeout: the hook plays the peer's data on its third call.
	int calls = 0;
	peer_ = [&] {
		if (++calls == 3)
			Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("w"));
		else
			Advance(1);
	};
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 2, 1000), 1);
	EXPECT_EQ(calls, 3);
	TakeTx();
	// Closing the socket takes it off the interest list; its number is free again.
	EXPECT_EQ(dtcp_close(fd), 0);
	Poll();
	TakeTx();
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 2, 0), 0);
	int again = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_EQ(again, fd);
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, again, &ev), 0) << "not a stale entry";
	EXPECT_EQ(dtcp_close(ep2), 0);
}

// The context goes with its descriptors: connections get their FIN, the
// queues' mbufs go back (the fixture checks the pool).
TEST_F(Posix, Destroy_ClosesEverything)
{
	Start();
	int fd = AcceptFd(ListenFd());
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("kept"));
	TakeTx();
	int ep = dtcp_epoll_create1(0);
	struct epoll_event ev = {};
	ev.events = EPOLLIN;
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	dtcp_posix_destroy(px_);
	px_ = nullptr;
	EXPECT_EQ(dtcp_posix_current(), nullptr);
	Poll();
	ExpectRst(ExpectOneTx(), O(1)); // unread data: RST
}

TEST_F(Posix, TcpInfo_RttRtoCwndUnacked)
{
	Start();
	int fd = AcceptFd(ListenFd());
	EXPECT_EQ(dtcp_write(fd, "0123456789", 10), 10);
	Poll();
	TakeTx();
	struct dtcp_tcp_info ti = {};
	socklen_t len = sizeof(ti);
	EXPECT_EQ(dtcp_getsockopt(fd, IPPROTO_TCP, DTCP_TCP_INFO, &ti, &len), 0);
	EXPECT_EQ(ti.unacked, 10u);
	EXPECT_EQ(ti.notsent, 0u);
	EXPECT_EQ(ti.snd_mss, 1460u);
	EXPECT_EQ(ti.rcv_mss, OurMss());
	EXPECT_GT(ti.snd_cwnd, 0u);
	EXPECT_GT(ti.rto_us, 0u);
	EXPECT_EQ(ti.rto_us % 1000, 0u) << "kept in ms";
	uint32_t srtt = ti.rtt_us;
	Advance(20);
	Inject(Seg().ack().seq(P(1)).ack_(O(11)));
	EXPECT_EQ(dtcp_getsockopt(fd, IPPROTO_TCP, DTCP_TCP_INFO, &ti, &len), 0);
	EXPECT_EQ(ti.unacked, 0u);
	EXPECT_NEAR((double)ti.rtt_us, srtt + (20000.0 - srtt) / 8, 1) << "a sample of 20 ms (RFC 6298 2.3)";
	EXPECT_EQ(ti.retransmits, 0u);
	EXPECT_EQ(ti.total_retrans, 0u);
}


// SYN cookies answer for the listener too: the cookie SYN-ACK carries the
// listener's MSS and window, and the connection the ACK makes has its buffers.
TEST_F(Posix, Options_SynCookie_ListenerMaxsegRcvbufKept)
{
	cfg_.tcp_syncookies = 2;
	Start();
	int lfd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int mss = 1200, rcvbuf = 8192;
	EXPECT_EQ(dtcp_setsockopt(lfd, IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof(mss)), 0);
	EXPECT_EQ(dtcp_setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	sockaddr_in a = Sin(0, kOurPort);
	EXPECT_EQ(dtcp_bind(lfd, Sa(a), sizeof(a)), 0);
	EXPECT_EQ(dtcp_listen(lfd, 4), 0);
	Inject(PeerSyn());
	TcpSeg sa = ParseTcp(ExpectOneTx());
	EXPECT_EQ(FlagsString(sa.flags), "SA");
	EXPECT_EQ(sa.win, 8192);
	EXPECT_TRUE(sa.has_mss);
	EXPECT_EQ(sa.mss, 1200);
	EXPECT_GE(Ctr(DTCP_CTR_tcp_syncookie_tx), 1u);
	Inject(Seg().ack().seq(P(1)).ack_(sa.seq + 1));
	int fd = dtcp_accept(lfd, nullptr, nullptr);
	ASSERT_GE(fd, 0);
	struct dtcp_tcp_info ti = {};
	socklen_t tl = sizeof(ti);
	EXPECT_EQ(dtcp_getsockopt(fd, IPPROTO_TCP, DTCP_TCP_INFO, &ti, &tl), 0);
	EXPECT_EQ(ti.snd_mss, 1200u) << "the peer's 1460 held to ours";
	EXPECT_EQ(ti.rcv_wnd, 8192u);
}

// SO_RCVBUF raised on a connection: the larger window is announced at once.
TEST_F(Posix, Options_RcvbufRaisedAfterConnect_WindowUpdate)
{
	Start();
	int lfd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int rcvbuf = 4096;
	EXPECT_EQ(dtcp_setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	sockaddr_in a = Sin(0, kOurPort);
	EXPECT_EQ(dtcp_bind(lfd, Sa(a), sizeof(a)), 0);
	EXPECT_EQ(dtcp_listen(lfd, 4), 0);
	Inject(PeerSyn());
	ExpectSeg(ExpectOneTx(), "SA", O(0), P(1), 4096);
	snd_ = rcv_ = 1;
	Inject(PeerAck());
	int fd = dtcp_accept(lfd, nullptr, nullptr);
	ASSERT_GE(fd, 0);
	rcvbuf = 16384;
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1), 16384);
	// Without window scaling no more than 65535 can be announced: held there.
	rcvbuf = 1 << 20;
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1), 65535);
}

// The event interface's own options, without the POSIX layer: what
// dtcp_tcp_connect_opts() is given reaches the SYN; NULL is the configuration.
TEST_F(Posix, EventApi_ConnectOpts_SynMssWindow)
{
	Start();
	struct dtcp_conn_opts o = {};
	o.mss = 900;
	o.rcvbuf = 10000;
	struct dtcp_conn *c = nullptr;
	ASSERT_EQ(dtcp_tcp_connect_opts(w_, kPeerIp, kPeerPort, 0, kOurPort, &o, OnEvent, this, &c), 0);
	Poll();
	TcpSeg syn = ExpectSeg(ExpectOneTx(), "S", O(0), 0, 10000);
	EXPECT_EQ(syn.opts, SynOptionBytes(900, false, false, 0, 0, -1));
	struct dtcp_conn_info ci;
	dtcp_conn_info(c, &ci);
	EXPECT_EQ(ci.rcv_mss, 900);
	EXPECT_EQ(ci.rcv_buf, 10000u);
	dtcp_tcp_abort(w_, c);
	struct dtcp_conn *d = nullptr;
	ASSERT_EQ(dtcp_tcp_connect_opts(w_, kPeerIp, kPeerPort + 1, 0, kOurPort, nullptr, OnEvent,
					this, &d), 0);
	Poll();
	TcpSeg syn2 = ParseTcp(ExpectOneTx());
	EXPECT_EQ(syn2.win, SynWin());
	EXPECT_EQ(syn2.mss, OurMss());
	dtcp_tcp_abort(w_, d);
	Poll();
	TakeTx();
}


// SO_LINGER {1, n} on a blocking socket: close() returns once the peer has
// acknowledged the data and our FIN, or after n seconds if it never does.
TEST_F(Posix, CloseWithLingerTimeout_WaitsForTheAckOfFin)
{
	Start();
	int lfd = ListenFd();
	int fd = AcceptFd(lfd);
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	struct linger l = { 1, 5 };
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	EXPECT_EQ(dtcp_write(fd, "bye", 3), 3);
	std::vector<std::string> seen;
	int calls = 0;
	peer_ = [&] {
		calls++;
		Advance(10);
		for (const Bytes &f : TakeTx())
			seen.push_back(FlagsString(ParseTcp(f).flags));
		if (calls == 3)
			Inject(Seg().ack().seq(P(1)).ack_(O(5)));
	};
	EXPECT_EQ(dtcp_close(fd), 0);
	EXPECT_EQ(calls, 3) << "returned when the FIN was acknowledged";
	EXPECT_EQ(seen, (std::vector<std::string>{ "FPA" }));
	// A peer that never answers: 5 s, then close() returns.
	fd = AcceptFd(lfd, PeerSyn().sport(kPeerPort + 1));
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	peer_ = nullptr;
	uint64_t t0 = now_ns_;
	EXPECT_EQ(dtcp_close(fd), 0);
	EXPECT_EQ(now_ns_ - t0, 5000000000ull);
	TakeTx();
}


// A full table refuses accept() with EMFILE and leaves the connection in
// the listener's queue; it is taken once a descriptor is free.
TEST_F(Posix, Accept_TableFull_EMFILEConnectionStaysQueued)
{
	max_fds_ = 2;
	Start();
	int lfd = ListenFd();
	int other = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	ASSERT_EQ(other, 4);
	Inject(PeerSyn());
	TakeTx();
	Inject(Seg().ack().seq(P(1)).ack_(O(1)));
	EXPECT_TRUE(Err(dtcp_accept(lfd, nullptr, nullptr), EMFILE));
	EXPECT_EQ(Revents(lfd), POLLIN) << "still waiting";
	EXPECT_EQ(dtcp_close(other), 0);
	EXPECT_EQ(dtcp_accept(lfd, nullptr, nullptr), 4);
	ExpectNoTx();
}

// The handshake never answered: a blocking connect() ends with ETIMEDOUT
// after the configured SYN retries.
TEST_F(Posix, Connect_Blocking_NoAnswer_ETIMEDOUT)
{
	cfg_.tcp_syn_retries = 2;
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in peer = Sin(kPeerIp, kPeerPort);
	int syns = 0;
	peer_ = [&] {
		Advance(100);
		for (const Bytes &f : TakeTx())
			syns += ParseTcp(f).Has(kSyn);
	};
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), ETIMEDOUT));
	EXPECT_EQ(syns, 3) << "the SYN and 2 retries";
	int err = -1;
	socklen_t len = sizeof(err);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	EXPECT_EQ(err, 0) << "connect() reported it";
}

// Blocking reads end on the peer's FIN (0) and on its RST (ECONNRESET).
TEST_F(Posix, BlockingRead_WokenByFinAndByRst)
{
	Start();
	int lfd = ListenFd();
	int a = AcceptFd(lfd);
	EXPECT_EQ(dtcp_fcntl(a, F_SETFL, 0), 0);
	peer_ = [&] { Inject(Seg().ack().fin().seq(P(1)).ack_(O(1))); };
	char b[4];
	EXPECT_EQ(dtcp_read(a, b, sizeof(b)), 0);
	TakeTx();
	int c = AcceptFd(lfd, PeerSyn().sport(kPeerPort + 1));
	EXPECT_EQ(dtcp_fcntl(c, F_SETFL, 0), 0);
	peer_ = [&] { Inject(Seg().rst().sport(kPeerPort + 1).seq(P(1))); };
	EXPECT_TRUE(Err(dtcp_read(c, b, sizeof(b)), ECONNRESET));
}

// EPOLLERR and EPOLLHUP come whether asked for or not.
TEST_F(Posix, Epoll_ErrHupReportedUnasked)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sockaddr_in peer = Sin(kPeerIp, kPeerPort);
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EINPROGRESS));
	int ep = dtcp_epoll_create1(0);
	struct epoll_event ev = {};
	ev.events = EPOLLOUT | EPOLLET;
	EXPECT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0);
	struct epoll_event out[2];
	EXPECT_EQ(dtcp_epoll_wait(ep, out, 2, 0), 0) << "SYN-SENT";
	Poll();
	TcpSeg syn = ParseTcp(ExpectOneTx());
	Inject(Seg().rst().ack().dport(syn.sport).seq(0).ack_(O(1)));
	ASSERT_EQ(dtcp_epoll_wait(ep, out, 2, 0), 1);
	EXPECT_EQ(out[0].events, (uint32_t)(EPOLLOUT | EPOLLERR | EPOLLHUP));
}

// An interest list grows past its first size and stops at max_fds.
TEST_F(Posix, Epoll_InterestListGrowsToTheTable)
{
	max_fds_ = 40;
	Start();
	int ep = dtcp_epoll_create1(0);
	struct epoll_event ev = {};
	ev.events = EPOLLOUT;
	for (int k = 0; k < 39; k++) {
		int fd = dtcp_socket(AF_INET, SOCK_STREAM, 0);
		ASSERT_EQ(fd, 4 + k);
		ev.data.fd = fd;
		ASSERT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev), 0) << k;
	}
	EXPECT_TRUE(Err(dtcp_socket(AF_INET, SOCK_STREAM, 0), EMFILE));
	// Every fresh socket reports POLLOUT | POLLHUP: 39 events, 16 at a time, all fds once.
	struct epoll_event out[16];
	std::vector<int> seen;
	for (int round = 0; round < 3; round++) {
		int n = dtcp_epoll_wait(ep, out, 16, 0);
		ASSERT_GT(n, 0);
		for (int i = 0; i < n; i++)
			seen.push_back(out[i].data.fd);
	}
	std::sort(seen.begin(), seen.end());
	EXPECT_EQ(seen.size(), 39u + 9u) << "16 + 16 + 16 over 39 entries, round robin";
	EXPECT_EQ(std::unique(seen.begin(), seen.end()) - seen.begin(), 39);
}


TEST_F(Posix, SendRecvFlags_UnknownEOPNOTSUPP_FionbioDontwait)
{
	Start();
	int fd = AcceptFd(ListenFd());
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	char b[4];
	EXPECT_TRUE(Err(dtcp_recv(fd, b, sizeof(b), MSG_DONTWAIT), EAGAIN)) << "blocking socket, one call";
	EXPECT_TRUE(Err(dtcp_recv(fd, b, sizeof(b), MSG_OOB), EOPNOTSUPP));
	EXPECT_TRUE(Err(dtcp_send(fd, "x", 1, MSG_OOB), EOPNOTSUPP));
	EXPECT_EQ(dtcp_send(fd, "xy", 2, MSG_NOSIGNAL | MSG_DONTWAIT), 2);
	int on = 1;
	EXPECT_EQ(dtcp_ioctl(fd, FIONBIO, &on), 0);
	EXPECT_EQ(dtcp_fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
	EXPECT_TRUE(Err(dtcp_read(fd, b, sizeof(b)), EAGAIN));
	EXPECT_TRUE(Err(dtcp_ioctl(fd, 0x1234, &on), ENOTTY));
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(1), P(1));
	EXPECT_EQ(std::string(s.payload.begin(), s.payload.end()), "xy");
	// recv with MSG_WAITALL gathers across arrivals.
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	int calls = 0;
	peer_ = [&] {
		calls++;
		Inject(Seg().ack().seq(P(calls)).ack_(O(3)).data(std::string(1, (char)('0' + calls))));
	};
	EXPECT_EQ(dtcp_recv(fd, b, 4, MSG_WAITALL), 4);
	EXPECT_EQ(std::string(b, 4), "1234");
	EXPECT_EQ(calls, 4);
	TakeTx();
}

// Destroying a context closes its sockets without waiting out SO_LINGER.
TEST_F(Posix, Destroy_NoLingerWait)
{
	Start();
	int fd = AcceptFd(ListenFd());
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	struct linger l = { 1, 30 };
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	dtcp_posix_destroy(px_);
	px_ = nullptr;
	EXPECT_EQ(waits_, 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(1));
}


// --- a whole transfer: two stacks, both sides on the POSIX layer ---------------------------

// The fixture's worker serves an echo written with epoll and non-blocking
// sockets; a second worker (198.18.0.1) is its client. Frames go between
// their in-memory ports. 1 MiB of a pattern goes out and must come back
// byte for byte, with receive buffers small enough that both sides' reads
// fall behind (back-pressure, partial writes). Bounded in iterations.
TEST_F(Posix, Transfer_EchoBetweenTwoStacks_BytesIntact)
{
	cfg_.tcp_rcvbuf = 16384;
	cfg_.tcp_sndbuf = 16384;
	Start();
	char err[256] = "";
	struct dtcp_config ccfg = cfg_;
	ccfg.addrs_given = false;   // the next address replaces the list
	ASSERT_EQ(dtcp_config_set(&ccfg, "ip", "address", "198.18.0.1/24", err, sizeof(err)), 0) << err;
	struct rte_ether_addr mac;
	memcpy(mac.addr_bytes, kPeerMac.b, 6);
	struct dtcp_port *cport = dtcp_memport_create(&mac, 1500, pool_, 4096);
	ASSERT_NE(cport, nullptr);
	struct dtcp_worker *cw = dtcp_worker_create(&ccfg, cport, 1, now_ns_, err, sizeof(err));
	ASSERT_NE(cw, nullptr) << err;
	struct dtcp_posix_params p = {};
	p.worker = cw;
	struct dtcp_posix *cpx = dtcp_posix_create(&p);
	ASSERT_NE(cpx, nullptr);

	// Frames from each port into the other; both workers polled.
	auto move = [&](struct dtcp_port *from, struct dtcp_port *to) {
		struct rte_mbuf *m[64];
		unsigned n;
		while ((n = dtcp_memport_take(from, m, 64)) > 0)
			for (unsigned i = 0; i < n; i++) {
				struct rte_mbuf *flat = rte_pktmbuf_alloc(pool_);
				Bytes b = MbufBytes(m[i]);
				rte_pktmbuf_free(m[i]);
				ASSERT_NE(flat, nullptr);
				memcpy(rte_pktmbuf_append(flat, (uint16_t)b.size()), b.data(), b.size());
				ASSERT_EQ(dtcp_memport_inject(to, flat), 0);
			}
	};
	auto step = [&] {
		now_ns_ += 100000;
		dtcp_worker_poll(w_, now_ns_);
		dtcp_worker_poll(cw, now_ns_);
		move(port_, cport);
		move(cport, port_);
	};

	// Server: the fixture's context.
	int lfd = ListenFd(80);
	int ep = dtcp_epoll_create1(0);
	struct epoll_event ev = {};
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	ASSERT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev), 0);
	int sfd = -1;
	std::vector<uint8_t> pending;   // read by the server, not yet written back

	// Client: the second context.
	dtcp_posix_attach(cpx);
	int cfd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sockaddr_in srv = Sin(kOurIp, 80);
	EXPECT_TRUE(Err(dtcp_connect(cfd, Sa(srv), sizeof(srv)), EINPROGRESS));
	dtcp_posix_attach(px_);

	const Bytes data = Pattern(1 << 20, 11);
	Bytes back;
	size_t sent = 0;
	bool shut = false, eof = false;
	uint8_t buf[3000];
	int iter = 0;
	for (; iter < 200000 && !eof; iter++) {
		step();
		// Server side.
		struct epoll_event out[4];
		int n = dtcp_epoll_wait(ep, out, 4, 0);
		for (int i = 0; i < n; i++) {
			if (out[i].data.fd == lfd) {
				sfd = dtcp_accept4(lfd, nullptr, nullptr, SOCK_NONBLOCK);
				ASSERT_GE(sfd, 0);
				ev.events = EPOLLIN | EPOLLOUT;
				ev.data.fd = sfd;
				ASSERT_EQ(dtcp_epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev), 0);
				continue;
			}
			if (!pending.empty()) {
				ssize_t w = dtcp_write(sfd, pending.data(), pending.size());
				if (w > 0)
					pending.erase(pending.begin(), pending.begin() + w);
			}
			if (pending.empty() && sfd >= 0) {
				ssize_t r = dtcp_read(sfd, buf, sizeof(buf));
				if (r > 0) {
					pending.assign(buf, buf + r);
				} else if (r == 0) {
					EXPECT_EQ(dtcp_close(sfd), 0);
					sfd = -1;
				}
			}
		}
		// Client side.
		dtcp_posix_attach(cpx);
		if (sent < data.size()) {
			ssize_t w = dtcp_write(cfd, data.data() + sent, std::min<size_t>(5000, data.size() - sent));
			if (w > 0)
				sent += (size_t)w;
			else
				EXPECT_EQ(errno, EAGAIN);
		} else if (!shut) {
			EXPECT_EQ(dtcp_shutdown(cfd, SHUT_WR), 0);
			shut = true;
		}
		ssize_t r = dtcp_read(cfd, buf, sizeof(buf));
		if (r > 0)
			back.insert(back.end(), buf, buf + r);
		else if (r == 0)
			eof = true;
		else
			EXPECT_EQ(errno, EAGAIN);
		dtcp_posix_attach(px_);
	}
	EXPECT_TRUE(eof) << "after " << iter << " iterations: sent " << sent << ", back " << back.size();
	EXPECT_EQ(back.size(), data.size());
	EXPECT_TRUE(back == data) << "the echo differs";
	EXPECT_GT(Ctr(DTCP_CTR_posix_rcv_paused), 0u) << "the server's reads fell behind";
	// Both ends closed in order.
	dtcp_posix_attach(cpx);
	EXPECT_EQ(dtcp_close(cfd), 0);
	dtcp_posix_attach(px_);
	for (int i = 0; i < 100; i++)
		step();
	EXPECT_EQ(dtcp_worker_counters(cw)[DTCP_CTR_tcp_reset_rx], 0u);
	EXPECT_EQ(Ctr(DTCP_CTR_tcp_reset_rx), 0u);
	dtcp_posix_destroy(cpx);
	dtcp_worker_poll(cw, now_ns_);
	move(cport, port_);
	dtcp_worker_destroy(cw);
	dtcp_port_destroy(cport);
	Poll();
	TakeTx();
}


// Seeded random calls with random arguments on random descriptors, and
// random segments from the peer: every call returns a result or -1 with an
// errno from the list, nothing crashes, and the fixture finds no mbuf or
// heap block leaked once the context is gone.
TEST_F(Posix, RandomCalls_ClearErrorsNoLeak)
{
	max_fds_ = 16;
	Start();
	std::mt19937 rng(20261122);
	auto pick = [&](int n) { return (int)(rng() % (unsigned)n); };
	const std::set<int> known = { EBADF, ENOTSOCK, EINVAL, EAFNOSUPPORT, EPROTONOSUPPORT,
				      EADDRINUSE, EADDRNOTAVAIL, EISCONN, EALREADY, ENOTCONN,
				      EMFILE, ENOBUFS, EAGAIN, EINPROGRESS, EPIPE, ECONNREFUSED,
				      ECONNRESET, ETIMEDOUT, ECONNABORTED, ENOPROTOOPT, EFAULT,
				      EEXIST, ENOENT, EPERM, EOPNOTSUPP, ENOTTY, EDOM, ENOSPC,
				      ENETUNREACH };
	uint8_t buf[2048];
	int unknown = 0, accepted = 0, read_ok = 0;
	for (int i = 0; i < 20000; i++) {
		int fd = pick(22) - 1;     // -1 .. 20: ours, free, and never ours
		long rc = 0;
		errno = 0;
		sockaddr_in a = Sin(pick(4) == 0 ? kPeerIp : (pick(2) ? kOurIp : 0),
				    (uint16_t)(pick(3) == 0 ? 0 : 7 + pick(3)));
		if (pick(10) == 0)
			a.sin_family = AF_INET6;
		int v = pick(5) == 0 ? -1 : pick(70000);
		struct epoll_event ev = {};
		ev.events = (uint32_t)rng();
		// Blocking calls would wait for a peer that plays dice: none block.
		dtcp_fcntl(fd, F_SETFL, O_NONBLOCK);
		int op = pick(20);
		switch (op) {
		case 0:
			rc = dtcp_socket(pick(8) ? AF_INET : AF_UNIX,
					 pick(8) ? (SOCK_STREAM | (pick(2) ? SOCK_NONBLOCK : 0)) : SOCK_DGRAM, 0);
			break;
		case 1: rc = dtcp_bind(fd, Sa(a), pick(8) ? sizeof(a) : 3); break;
		case 2: rc = dtcp_listen(fd, pick(5)); break;
		case 3: rc = dtcp_accept4(fd, nullptr, nullptr, SOCK_NONBLOCK); break;
		case 4:
			rc = dtcp_connect(fd, Sa(a), sizeof(a));
			break;
		case 5:
			rc = dtcp_read(fd, buf, (size_t)pick((int)sizeof(buf)));
			break;
		case 6:
			rc = dtcp_write(fd, buf, (size_t)pick((int)sizeof(buf)));
			break;
		case 7: rc = dtcp_shutdown(fd, pick(4)); break;
		case 8: if (pick(4) == 0) rc = dtcp_close(fd); break;
		case 9: {
			static const int lv[] = { SOL_SOCKET, IPPROTO_TCP, IPPROTO_IP };
			static const int on[] = { SO_REUSEADDR, SO_REUSEPORT, SO_KEEPALIVE, SO_SNDBUF,
						  SO_RCVBUF, SO_LINGER, TCP_NODELAY, TCP_MAXSEG,
						  TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT, SO_ERROR };
			int opt[4] = { v, v, v, v };
			rc = dtcp_setsockopt(fd, lv[pick(3)], on[pick(12)], opt,
					     (socklen_t)(pick(4) ? sizeof(int) : 2));
			break;
		}
		case 10: {
			uint8_t o[128];
			socklen_t ol = (socklen_t)pick(sizeof(o));
			rc = dtcp_getsockopt(fd, pick(2) ? SOL_SOCKET : IPPROTO_TCP, pick(40), o, &ol);
			break;
		}
		case 11: rc = dtcp_epoll_create1(0); break;
		case 12: rc = dtcp_epoll_ctl(fd, 1 + pick(4), pick(22) - 1, pick(8) ? &ev : nullptr); break;
		case 13: {
			struct epoll_event out[4];
			rc = dtcp_epoll_wait(fd, out, pick(5), 0);
			break;
		}
		case 14: {
			struct pollfd pf[3] = { { fd, POLLIN, 0 }, { pick(22) - 1, POLLOUT, 0 },
						{ pick(22) - 1, (short)rng(), 0 } };
			rc = dtcp_poll(pf, 3, 0);
			break;
		}
		case 15: {
			int n = 0;
			rc = dtcp_ioctl(fd, pick(2) ? FIONREAD : SIOCOUTQ, &n);
			break;
		}
		default: {
			// The peer: a SYN, an ACK, data, a FIN or a RST to one of our ports.
			Seg sg = Seg().sport((uint16_t)(40000 + pick(3))).dport((uint16_t)(7 + pick(3)))
					 .seq(P(pick(3))).ack_(O(pick(3)));
			switch (pick(5)) {
			case 0: sg.syn().mss(1460); break;
			case 1: sg.ack(); break;
			case 2: sg.ack().data(std::string((size_t)pick(1400) + 1, 'r')); break;
			case 3: sg.ack().fin(); break;
			default: sg.rst(); break;
			}
			Inject(sg);
			TakeTx();
			Advance((uint64_t)pick(300));
			TakeTx();
			continue;
		}
		}
		if (rc > 0 && op == 3)
			accepted++;
		if (rc > 0 && op == 5)
			read_ok++;
		if (rc < 0 && !known.count(errno)) {
			ADD_FAILURE() << "call " << i << " (kind " << op << "): errno " << errno << " ("
				      << strerror(errno) << ")";
			if (++unknown > 5)
				break;
		}
	}
	// The dice made connections and moved data, not only errors.
	EXPECT_GT(accepted, 0);
	EXPECT_GT(read_ok, 0);
	EXPECT_GT(Ctr(DTCP_CTR_tcp_accepted), 0u);
	dtcp_posix_destroy(px_);
	px_ = nullptr;
	Advance(1000);
	TakeTx();
}

} // namespace
