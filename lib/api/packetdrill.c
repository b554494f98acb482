/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libdtcp_packetdrill.so: packetdrill's --so_filename interface on one dtcp
 * worker behind an L3 port, with a virtual clock and the POSIX-like layer.
 *
 * Time is the clock below, never the machine's: usleep() moves it, firing
 * the worker's timers at their due times; netdev_receive() moves it to the
 * next timer while the stack has nothing to send; each gettimeofday() moves
 * it by a step (1 us) so that packetdrill's short spin loops end.
 *
 * packetdrill calls from two threads: its main thread (packets, sleeps,
 * non-blocking calls) and a thread for blocking calls. One mutex holds
 * everything. A blocked call parks on a condition variable that every bit
 * of progress (a packet in, the clock moving, another call) broadcasts;
 * before the clock moves, the thread moving it waits until every other
 * call has parked again or returned, so a woken reader acts at the time it
 * was woken, as it would on a real host.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <dtcp/config.h>
#include <dtcp/packetdrill.h>
#include <dtcp/port.h>
#include <dtcp/posix.h>
#include <dtcp/worker.h>

#include "../core/worker_priv.h"

#define PD_EXPORT __attribute__((visibility("default")))

/* packetdrill's default IPv4 addresses (config.c): the scripts assume them. */
#define PD_LOCAL_IP 0xc0a80001u     /* 192.168.0.1/16 */
#define PD_LOCAL_PREFIX 16
#define PD_GATEWAY_IP 0xc0a80002u   /* 192.168.0.2 */
#define PD_REMOTE_IP 0xc0000201u    /* 192.0.2.1 */

#define PD_QUEUE 256                /* frames each way in the L3 port */
#define PD_SETTLE_NS 1000000000ull  /* real time a moving clock waits for other calls */
#define PD_AFTER_BLOCK_NS 100000000ull /* ... and for the clock reading after a blocked call */
#define PD_POLLS_MAX 16             /* polls at one instant, while frames keep coming */
#define PD_STEPS_MAX 1000000u       /* clock steps in one receive or blocked call */

struct pd {
	pthread_mutex_t mu;
	pthread_cond_t progress_cv;   /* parked calls re-check */
	pthread_cond_t settle_cv;     /* a call parked or returned */
	pthread_t main_thread;        /* the thread that called init: packetdrill's main */
	int inside;                   /* threads inside an interface call (atomic) */
	unsigned parked;              /* calls parked in pd_wait */
	unsigned stale;               /* of them, woken by progress and not yet running */
	unsigned settling;            /* threads waiting in settle() to move the clock */
	uint64_t gen;                 /* progress generation */
	uint64_t wake_at;             /* earliest deadline of the parked calls (virtual ns) */
	uint64_t main_wait_from;      /* when the main thread's current call first blocked */
	/* A parked call just returned in this thread: its next call (packetdrill
	 * reads the clock) goes before the clock moves again. */
	bool after_block;
	pthread_t after_block_thread;

	uint64_t now_ns;              /* the virtual clock */
	uint64_t step_ns;             /* what one gettimeofday() adds */
	uint64_t bound_ns;            /* longest a receive or a blocked main call moves the clock */

	struct dtcp_config cfg;
	uint32_t remote;
	struct rte_mempool *pool;
	struct dtcp_port *port;
	struct dtcp_worker *w;
	struct dtcp_posix *px;
};

/* This thread's call has parked at least once (the wait hook knows no call). */
static __thread bool parked_in_call;

/* ---- EAL: once per process (it cannot start twice) ---- */

static pthread_mutex_t eal_mu = PTHREAD_MUTEX_INITIALIZER;
static int eal_state;               /* 0 not tried, 1 up, -1 failed */
static unsigned eal_mem_mb = 128;

static int
eal_up(char *err, size_t errlen)
{
	char mem[16], lcore[16];
	const char *args[] = {
		"dtcp_packetdrill", "--no-huge", "-m", mem, "--no-shconf", "--no-pci",
		"--no-telemetry", "--log-level=lib.*:error", "--log-level=user1:warning",
		"-l", lcore,
	};
	cpu_set_t cpus;
	bool have_cpus;
	int cpu = 0;

	pthread_mutex_lock(&eal_mu);
	if (eal_state == 0) {
		snprintf(mem, sizeof(mem), "%u", eal_mem_mb);
		/* EAL pins the calling thread to its lcore, which must be one of
		 * the CPUs the process may use; afterwards packetdrill's main
		 * thread gets back all the CPUs it had. */
		have_cpus = pthread_getaffinity_np(pthread_self(), sizeof(cpus), &cpus) == 0;
		while (have_cpus && cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &cpus))
			cpu++;
		snprintf(lcore, sizeof(lcore), "%d", cpu);
		if (rte_eal_init((int)RTE_DIM(args), (char **)(uintptr_t)args) >= 0 ||
		    rte_errno == EALREADY) {
			eal_state = 1;
			dtcp_tsc_to_ns(0);
		} else {
			eal_state = -1;
		}
		if (have_cpus)
			pthread_setaffinity_np(pthread_self(), sizeof(cpus), &cpus);
	}
	pthread_mutex_unlock(&eal_mu);
	if (eal_state < 0) {
		snprintf(err, errlen, "EAL initialisation failed (it is tried once per process)");
		return -1;
	}
	return 0;
}

/* ---- flags ---- */

static void
pd_defaults(struct pd *pd)
{
	struct dtcp_config *c = &pd->cfg;

	dtcp_config_defaults(c);
	c->addrs[0].addr = PD_LOCAL_IP;
	c->addrs[0].prefix_len = PD_LOCAL_PREFIX;
	c->n_addrs = 1;
	c->gateway = PD_GATEWAY_IP;
	pd->remote = PD_REMOTE_IP;
	/* One worker for a handful of connections: small tables, small pool. */
	c->mbufs = 8191;
	c->mbuf_cache = 0;
	c->rx_desc = 64;
	c->tx_desc = 64;
	c->arp_entries = 64;
	c->arp_pending_max = 64;
	c->frag_max_flows = 64;
	c->tcp_max_conns = 1024;
	c->tcp_timewait_max = 1024;
	c->tcp_listeners_max = 16;
	c->tcp_mbufs_max = 4096;
	c->tcp_ooo_conns = 1024;
	c->tcp_sack_conns = 1024;
	/* Window scale 8 in our SYN-ACK, as recent Linux announces and the
	 * scripts written against it expect: 12 MiB takes 8 bits of shift. */
	c->tcp_rcvbuf = 12u << 20;
	pd->step_ns = 1000;
	pd->bound_ns = 300ull * 1000000000;
}

static int
parse_u64(const char *v, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long x;

	if (*v == '\0' || *v == '-')
		return -1;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || x > max)
		return -1;
	*out = x;
	return 0;
}

/* One key=value; 0 or -1 with a message. */
static int
pd_flag(struct pd *pd, const char *key, const char *val, char *err, size_t errlen)
{
	const char *dot = strchr(key, '.');
	uint64_t x;
	uint8_t plen;
	uint32_t a;

	if (strcmp(key, "local") == 0) {
		if (dtcp_parse_ipv4(val, &a, &plen) != 0)
			goto bad;
		pd->cfg.addrs[0].addr = a;
		/* Without a prefix, packetdrill's netmask (255.255.0.0). */
		pd->cfg.addrs[0].prefix_len = strchr(val, '/') != NULL ? plen : PD_LOCAL_PREFIX;
		pd->cfg.n_addrs = 1;
		pd->cfg.addrs_given = true;
		return 0;
	}
	if (strcmp(key, "gateway") == 0)
		return dtcp_config_set(&pd->cfg, "ip", "gateway", val, err, errlen) == 0 ? 0 : -1;
	if (strcmp(key, "remote") == 0) {
		if (dtcp_parse_ipv4(val, &a, NULL) != 0)
			goto bad;
		pd->remote = a;
		return 0;
	}
	if (strcmp(key, "mtu") == 0)
		return dtcp_config_set(&pd->cfg, "port", "mtu", val, err, errlen) == 0 ? 0 : -1;
	if (strcmp(key, "clock_step_us") == 0) {
		if (parse_u64(val, 1000000, &x) != 0)
			goto bad;
		pd->step_ns = x * 1000;
		return 0;
	}
	if (strcmp(key, "receive_bound_ms") == 0) {
		if (parse_u64(val, 86400000, &x) != 0 || x == 0)
			goto bad;
		pd->bound_ns = x * 1000000;
		return 0;
	}
	if (strcmp(key, "eal_mem_mb") == 0) {
		if (parse_u64(val, 65536, &x) != 0 || x < 64)
			goto bad;
		eal_mem_mb = (unsigned)x;
		return 0;
	}
	if (dot != NULL && dot != key && dot[1] != '\0') {
		char section[32];
		size_t n = (size_t)(dot - key);

		if (n >= sizeof(section))
			goto unknown;
		memcpy(section, key, n);
		section[n] = '\0';
		return dtcp_config_set(&pd->cfg, section, dot + 1, val, err, errlen) == 0 ? 0 : -1;
	}
unknown:
	snprintf(err, errlen, "unknown flag '%s'", key);
	return -1;
bad:
	snprintf(err, errlen, "%s: bad value '%s'", key, val);
	return -1;
}

/*
 * "key=value key=value,key=value": spaces and commas separate; a piece
 * without '=' continues the value before it, joined by a comma (lists
 * such as ip.address=A/N,B/N).
 */
static int
pd_parse_flags(struct pd *pd, const char *flags, char *err, size_t errlen)
{
	char *s, *tok, *save = NULL, *key = NULL;
	char val[512];
	int rc = 0;

	if (flags == NULL || *flags == '\0')
		return 0;
	s = strdup(flags);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	val[0] = '\0';
	for (tok = strtok_r(s, " \t,", &save); tok != NULL; tok = strtok_r(NULL, " \t,", &save)) {
		char *eq = strchr(tok, '=');

		if (eq == NULL) {
			size_t n = strlen(val);

			if (key == NULL || n + 1 + strlen(tok) >= sizeof(val)) {
				snprintf(err, errlen, "flag '%s' is not key=value", tok);
				rc = -1;
				break;
			}
			snprintf(val + n, sizeof(val) - n, ",%s", tok);
			continue;
		}
		if (key != NULL && (rc = pd_flag(pd, key, val, err, errlen)) != 0)
			break;
		*eq = '\0';
		key = tok;
		snprintf(val, sizeof(val), "%s", eq + 1);
	}
	if (rc == 0 && key != NULL)
		rc = pd_flag(pd, key, val, err, errlen);
	free(s);
	return rc;
}

/* ---- the clock, the worker, and the threads ---- */

static uint64_t
pd_now(void *arg)
{
	return ((struct pd *)arg)->now_ns;
}

/* Run the worker at the current time until it has nothing more to take in. */
static void
run_worker(struct pd *pd)
{
	dtcp_l3port_set_clock(pd->port, pd->now_ns);
	for (unsigned i = 0; i < PD_POLLS_MAX; i++) {
		dtcp_worker_poll(pd->w, pd->now_ns);
		/* ARP replies the port made, or timers beyond one poll's budget. */
		if (dtcp_l3port_pending_rx(pd->port) == 0 && !pd->w->timers_behind)
			break;
	}
}

/* Something changed: every parked call re-checks. */
static void
progress(struct pd *pd)
{
	pd->gen++;
	pd->wake_at = UINT64_MAX;
	pd->stale = pd->parked;
	if (pd->parked > 0)
		pthread_cond_broadcast(&pd->progress_cv);
}

static void
realtime_after(struct timespec *ts, uint64_t ns)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ns += (uint64_t)ts->tv_nsec;
	ts->tv_sec += (time_t)(ns / 1000000000);
	ts->tv_nsec = (long)(ns % 1000000000);
}

/*
 * Before the clock moves: wait until every other call inside the object has
 * parked (with the latest progress seen) or returned, and a thread whose
 * blocked call just returned has made its next call (packetdrill reads
 * the clock there: the call's end time). Bounded in real time.
 */
static void
settle(struct pd *pd)
{
	struct timespec until, after_block_until;
	bool timed = false;
	int rc;

	for (;;) {
		/* Threads that wait to move the clock themselves are not running. */
		int others = __atomic_load_n(&pd->inside, __ATOMIC_ACQUIRE) - 1 -
			     (int)pd->parked - (int)pd->settling;
		bool busy = pd->stale > 0 || others > 0;

		if (!busy && !pd->after_block)
			return;
		if (!timed) {
			realtime_after(&until, PD_SETTLE_NS);
			realtime_after(&after_block_until, PD_AFTER_BLOCK_NS);
			timed = true;
		}
		pd->settling++;
		rc = pthread_cond_timedwait(&pd->settle_cv, &pd->mu,
					    busy ? &until : &after_block_until);
		pd->settling--;
		if (rc == ETIMEDOUT) {
			if (busy)
				ctr_inc(pd->w, DTCP_CTR_pd_settle_timeout);
			/* A harness that reads no clock after a blocked call. */
			pd->after_block = false;
			if (busy)
				return;
		}
	}
}

/* When the worker next has something to do on its own, or a parked call's deadline. */
static uint64_t
next_due(const struct pd *pd)
{
	const struct dtcp_worker *w = pd->w;
	uint64_t hint = dtcp_wheel_next_hint(&w->wheel), t = UINT64_MAX;

	if (hint != UINT64_MAX && hint < UINT64_MAX / w->tick_ns) {
		t = hint * w->tick_ns;
		/* Timers move once a tick: a due timer fires at the next tick. */
		if (t < w->next_tick_ns)
			t = w->next_tick_ns;
	}
	return RTE_MIN(t, pd->wake_at);
}

/* Move the clock to target, stopping at each timer and deadline on the way. */
static void
advance_to(struct pd *pd, uint64_t target)
{
	for (unsigned i = 0; pd->now_ns < target && i < PD_STEPS_MAX; i++) {
		uint64_t t;

		settle(pd);
		t = RTE_MIN(next_due(pd), target);
		if (t <= pd->now_ns)
			t = pd->now_ns + 1;
		pd->now_ns = t;
		run_worker(pd);
		progress(pd);
	}
	if (pd->now_ns < target) {
		pd->now_ns = target;
		run_worker(pd);
		progress(pd);
	}
}

/*
 * A blocked call made from packetdrill's main thread: no other thread
 * will bring a packet, so time passes here, to the next timer or the
 * call's deadline. A call that nothing can ever complete ends packetdrill
 * with a message instead of a hang.
 */
static void
main_wait(struct pd *pd, uint64_t deadline)
{
	uint64_t t;

	settle(pd);
	if (pd->main_wait_from == UINT64_MAX)
		pd->main_wait_from = pd->now_ns;
	t = RTE_MIN(next_due(pd), deadline);
	if (t == UINT64_MAX || t - pd->main_wait_from > pd->bound_ns) {
		fprintf(stderr, "dtcp packetdrill: a blocking call in packetdrill's main thread "
			"can never return (nothing due within %llu ms); make it non-blocking "
			"or give it a time range\n",
			(unsigned long long)(pd->bound_ns / 1000000));
		exit(EXIT_FAILURE);
	}
	/* Always forward: the caller asks again until its condition or deadline. */
	advance_to(pd, RTE_MAX(t, pd->now_ns + 1));
}

/* The POSIX layer's wait: park until progress, or pass time in the main thread. */
static void
pd_wait(void *arg, uint64_t deadline_ns)
{
	struct pd *pd = arg;
	uint64_t gen;

	if (pthread_equal(pthread_self(), pd->main_thread)) {
		main_wait(pd, deadline_ns);
		return;
	}
	/*
	 * What the call queued leaves now, at the call's time, as leave()
	 * would send it: a connect()'s SYN waiting on ARP must not wait for
	 * the next clock move, which may be its own retransmission timeout.
	 */
	run_worker(pd);
	progress(pd);
	gen = pd->gen;
	if (deadline_ns < pd->wake_at)
		pd->wake_at = deadline_ns;
	pd->parked++;
	parked_in_call = true;
	pthread_cond_broadcast(&pd->settle_cv);
	while (pd->gen == gen)
		pthread_cond_wait(&pd->progress_cv, &pd->mu);
	pd->parked--;
	if (pd->gen != gen && pd->stale > 0)
		pd->stale--;
}

static struct pd *
enter(void *u)
{
	struct pd *pd = u;

	if (pd == NULL) {
		errno = ENETDOWN;
		return NULL;
	}
	__atomic_add_fetch(&pd->inside, 1, __ATOMIC_ACQ_REL);
	pthread_mutex_lock(&pd->mu);
	dtcp_posix_attach(pd->px);
	if (pd->after_block && pthread_equal(pd->after_block_thread, pthread_self()))
		pd->after_block = false;
	return pd;
}

/* After a call: send what it queued, at the current time, and let the others know. */
static void
leave(struct pd *pd)
{
	int e = errno;

	run_worker(pd);
	progress(pd);
	if (pthread_equal(pthread_self(), pd->main_thread))
		pd->main_wait_from = UINT64_MAX;
	if (parked_in_call) {
		parked_in_call = false;
		pd->after_block = true;
		pd->after_block_thread = pthread_self();
	}
	__atomic_sub_fetch(&pd->inside, 1, __ATOMIC_ACQ_REL);
	pthread_cond_broadcast(&pd->settle_cv);
	pthread_mutex_unlock(&pd->mu);
	errno = e;
}

#define PD_CALL(type, u, call) do {                     \
		struct pd *pd_ = enter(u);              \
		type rc_;                               \
		if (pd_ == NULL)                        \
			return -1;                      \
		rc_ = (call);                           \
		leave(pd_);                             \
		return rc_;                             \
	} while (0)

/* ---- system calls ---- */

static int
pd_socket(void *u, int domain, int type, int protocol)
{
	PD_CALL(int, u, dtcp_socket(domain, type, protocol));
}

static int
pd_bind(void *u, int fd, const struct sockaddr *addr, socklen_t len)
{
	PD_CALL(int, u, dtcp_bind(fd, addr, len));
}

static int
pd_listen(void *u, int fd, int backlog)
{
	PD_CALL(int, u, dtcp_listen(fd, backlog));
}

static int
pd_accept(void *u, int fd, struct sockaddr *addr, socklen_t *len)
{
	PD_CALL(int, u, dtcp_accept(fd, addr, len));
}

static int
pd_connect(void *u, int fd, const struct sockaddr *addr, socklen_t len)
{
	PD_CALL(int, u, dtcp_connect(fd, addr, len));
}

static ssize_t
pd_read(void *u, int fd, void *buf, size_t n)
{
	PD_CALL(ssize_t, u, dtcp_read(fd, buf, n));
}

static ssize_t
pd_readv(void *u, int fd, const struct iovec *iov, int iovcnt)
{
	PD_CALL(ssize_t, u, dtcp_readv(fd, iov, iovcnt));
}

static ssize_t
pd_recv(void *u, int fd, void *buf, size_t n, int flags)
{
	PD_CALL(ssize_t, u, dtcp_recv(fd, buf, n, flags));
}

/* TCP names no source per read: Linux gives back an address length of 0. */
static ssize_t
pd_recvfrom(void *u, int fd, void *buf, size_t n, int flags, struct sockaddr *src,
	    socklen_t *srclen)
{
	ssize_t rc;

	(void)src;
	rc = pd_recv(u, fd, buf, n, flags);
	if (rc >= 0 && srclen != NULL)
		*srclen = 0;
	return rc;
}

/* Scatter reads: all of readv's, or one buffer with recv's flags. */
static ssize_t
msg_recv(int fd, struct msghdr *msg, int flags)
{
	ssize_t rc;

	if (msg == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (flags == 0)
		rc = dtcp_readv(fd, msg->msg_iov, (int)msg->msg_iovlen);
	else if (msg->msg_iovlen == 1)
		rc = dtcp_recv(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags);
	else if (msg->msg_iovlen == 0)
		rc = dtcp_recv(fd, NULL, 0, flags);
	else {
		errno = EOPNOTSUPP;
		return -1;
	}
	if (rc >= 0) {
		msg->msg_namelen = 0;
		msg->msg_controllen = 0;
		msg->msg_flags = 0;
	}
	return rc;
}

static ssize_t
pd_recvmsg(void *u, int fd, struct msghdr *msg, int flags)
{
	PD_CALL(ssize_t, u, msg_recv(fd, msg, flags));
}

static ssize_t
pd_write(void *u, int fd, const void *buf, size_t n)
{
	PD_CALL(ssize_t, u, dtcp_write(fd, buf, n));
}

static ssize_t
pd_writev(void *u, int fd, const struct iovec *iov, int iovcnt)
{
	PD_CALL(ssize_t, u, dtcp_writev(fd, iov, iovcnt));
}

static ssize_t
pd_send(void *u, int fd, const void *buf, size_t n, int flags)
{
	PD_CALL(ssize_t, u, dtcp_send(fd, buf, n, flags));
}

/* A connected TCP socket ignores the address given to sendto (as Linux does). */
static ssize_t
pd_sendto(void *u, int fd, const void *buf, size_t n, int flags,
	  const struct sockaddr *dst, socklen_t dstlen)
{
	(void)dst;
	(void)dstlen;
	return pd_send(u, fd, buf, n, flags);
}

static ssize_t
msg_send(int fd, const struct msghdr *msg, int flags)
{
	if (msg == NULL) {
		errno = EFAULT;
		return -1;
	}
	if (flags == 0)
		return dtcp_writev(fd, msg->msg_iov, (int)msg->msg_iovlen);
	if (msg->msg_iovlen == 1)
		return dtcp_send(fd, msg->msg_iov[0].iov_base, msg->msg_iov[0].iov_len, flags);
	if (msg->msg_iovlen == 0)
		return dtcp_send(fd, NULL, 0, flags);
	errno = EOPNOTSUPP;
	return -1;
}

static ssize_t
pd_sendmsg(void *u, int fd, const struct msghdr *msg, int flags)
{
	PD_CALL(ssize_t, u, msg_send(fd, msg, flags));
}

static int
pd_fcntl(void *u, int fd, int cmd, ...)
{
	va_list ap;
	int arg;

	va_start(ap, cmd);
	/* Every command the layer knows takes an int (or nothing). */
	arg = va_arg(ap, int);
	va_end(ap);
	PD_CALL(int, u, dtcp_fcntl(fd, cmd, arg));
}

static int
pd_ioctl(void *u, int fd, unsigned long request, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, request);
	arg = va_arg(ap, void *);
	va_end(ap);
	PD_CALL(int, u, dtcp_ioctl(fd, request, arg));
}

static int
pd_close(void *u, int fd)
{
	PD_CALL(int, u, dtcp_close(fd));
}

static int
pd_shutdown(void *u, int fd, int how)
{
	PD_CALL(int, u, dtcp_shutdown(fd, how));
}

static int
pd_getsockopt(void *u, int fd, int level, int name, void *val, socklen_t *len)
{
	PD_CALL(int, u, dtcp_getsockopt(fd, level, name, val, len));
}

static int
pd_setsockopt(void *u, int fd, int level, int name, const void *val, socklen_t len)
{
	PD_CALL(int, u, dtcp_setsockopt(fd, level, name, val, len));
}

static int
pd_poll(void *u, struct pollfd *fds, nfds_t n, int timeout)
{
	PD_CALL(int, u, dtcp_poll(fds, n, timeout));
}

static int
pd_epoll_create(void *u, int size)
{
	PD_CALL(int, u, dtcp_epoll_create(size));
}

static int
pd_epoll_ctl(void *u, int epfd, int op, int fd, struct epoll_event *ev)
{
	PD_CALL(int, u, dtcp_epoll_ctl(epfd, op, fd, ev));
}

static int
pd_epoll_wait(void *u, int epfd, struct epoll_event *evs, int max, int timeout)
{
	PD_CALL(int, u, dtcp_epoll_wait(epfd, evs, max, timeout));
}

/* dtcp has sockets only: there is no pipe to make. */
static int
pd_pipe(void *u, int fds[2])
{
	(void)u;
	(void)fds;
	errno = ENOSYS;
	return -1;
}

/* Linux splices only when one end is a pipe, and dtcp has none. */
static int
pd_splice(void *u, int in, loff_t *off_in, int out, loff_t *off_out, size_t len,
	  unsigned int flags)
{
	(void)u, (void)in, (void)off_in, (void)out, (void)off_out, (void)len, (void)flags;
	errno = EINVAL;
	return -1;
}

/* ---- the network device and the clock ---- */

static int
pd_netdev_send(void *u, const void *buf, size_t n)
{
	struct pd *pd = enter(u);
	int rc;

	if (pd == NULL)
		return -1;
	rc = dtcp_l3port_inject_ip(pd->port, buf, n);
	if (rc < 0) {
		ctr_inc(pd->w, DTCP_CTR_pd_inject_refused);
		errno = -rc;
		rc = -1;
	}
	leave(pd);
	return rc;
}

/*
 * The next packet the stack sends. While none is waiting the clock moves
 * to the next timer; when nothing is due within the bound (or at all), the
 * answer is an empty packet, which packetdrill reports as an error
 * ("IP header overflows packet") rather than asking again forever.
 */
static int
pd_netdev_receive(void *u, void *buf, size_t *count, long long *time_usecs)
{
	struct pd *pd = enter(u);
	uint64_t from, ts = 0;
	size_t len = 0;

	if (pd == NULL) {
		*count = 0;
		return 0;
	}
	from = pd->now_ns;
	for (unsigned i = 0; i < PD_STEPS_MAX; i++) {
		int r = dtcp_l3port_take_ip(pd->port, buf, *count, &len, &ts);
		uint64_t t;

		if (r == 1) {
			*count = len;
			*time_usecs = (long long)(ts / 1000);
			leave(pd);
			return 0;
		}
		if (r < 0) {
			ctr_inc(pd->w, DTCP_CTR_pd_receive_too_big);
			continue;
		}
		/* Calls of the other thread go first: they may send now. */
		settle(pd);
		if (dtcp_l3port_pending_tx(pd->port) > 0)
			continue;
		/* Frames waiting to be taken in (an ARP reply) are taken in now. */
		if (dtcp_l3port_pending_rx(pd->port) > 0) {
			run_worker(pd);
			progress(pd);
			if (dtcp_l3port_pending_tx(pd->port) > 0)
				continue;
		}
		t = next_due(pd);
		if (t == UINT64_MAX || t - from > pd->bound_ns)
			break;
		advance_to(pd, t);
	}
	ctr_inc(pd->w, DTCP_CTR_pd_receive_gave_up);
	fprintf(stderr, "dtcp packetdrill: the stack sent nothing%s (waited %llu ms of virtual time)\n",
		next_due(pd) == UINT64_MAX ? " and has nothing due" : " within the bound",
		(unsigned long long)((pd->now_ns - from) / 1000000));
	*count = 0;
	*time_usecs = (long long)(pd->now_ns / 1000);
	leave(pd);
	return 0;
}

static int
pd_usleep(void *u, useconds_t usec)
{
	struct pd *pd = enter(u);

	if (pd == NULL)
		return usleep(usec);
	advance_to(pd, pd->now_ns + (uint64_t)usec * 1000);
	leave(pd);
	return 0;
}

static int
pd_gettimeofday(void *u, struct timeval *tv, struct timezone *tz)
{
	struct pd *pd = enter(u);

	if (pd == NULL)
		return gettimeofday(tv, tz);
	if (pd->step_ns != 0)
		advance_to(pd, pd->now_ns + pd->step_ns);
	if (tv != NULL) {
		tv->tv_sec = (time_t)(pd->now_ns / 1000000000);
		tv->tv_usec = (suseconds_t)(pd->now_ns % 1000000000 / 1000);
	}
	if (tz != NULL)
		memset(tz, 0, sizeof(*tz));
	leave(pd);
	return 0;
}

/* ---- life cycle ---- */

static void
pd_release(struct pd *pd)
{
	if (pd->px != NULL)
		dtcp_posix_destroy(pd->px);
	if (pd->w != NULL) {
		dtcp_worker_release_held(pd->w);
		dtcp_worker_destroy(pd->w);
	}
	dtcp_port_destroy(pd->port);
	/* Everything is down: a buffer still out is a leak, said where it shows. */
	if (pd->pool != NULL && rte_mempool_in_use_count(pd->pool) != 0)
		fprintf(stderr, "dtcp packetdrill: %u mbufs leaked\n",
			rte_mempool_in_use_count(pd->pool));
	rte_mempool_free(pd->pool);
	pthread_cond_destroy(&pd->progress_cv);
	pthread_cond_destroy(&pd->settle_cv);
	pthread_mutex_destroy(&pd->mu);
	free(pd);
}

static void
pd_free(void *u)
{
	struct pd *pd = u;
	struct timespec until;

	if (pd == NULL)
		return;
	pthread_mutex_lock(&pd->mu);
	/* A call still inside may touch the stack: wait for it, a while. */
	realtime_after(&until, PD_SETTLE_NS);
	while (__atomic_load_n(&pd->inside, __ATOMIC_ACQUIRE) > 0)
		if (pthread_cond_timedwait(&pd->settle_cv, &pd->mu, &until) == ETIMEDOUT)
			break;
	if (__atomic_load_n(&pd->inside, __ATOMIC_ACQUIRE) > 0) {
		/* Freeing under a running call would crash it: keep the stack. */
		fprintf(stderr, "dtcp packetdrill: free while a call is in progress: "
			"the stack is left allocated\n");
		pthread_mutex_unlock(&pd->mu);
		return;
	}
	dtcp_posix_attach(pd->px);
	pthread_mutex_unlock(&pd->mu);
	pd_release(pd);
	dtcp_posix_attach(NULL);
}

static struct pd *
pd_create(const char *flags, char *err, size_t errlen)
{
	static uint32_t seq;
	const struct rte_ether_addr mac = {{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 }};
	const struct rte_ether_addr peer = {{ 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 }};
	struct dtcp_posix_params pp;
	struct pd *pd = calloc(1, sizeof(*pd));
	struct timespec ts;
	char name[RTE_MEMPOOL_NAMESIZE];
	uint16_t room;

	if (pd == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&pd->mu, NULL);
	pthread_cond_init(&pd->progress_cv, NULL);
	pthread_cond_init(&pd->settle_cv, NULL);
	pd->main_thread = pthread_self();
	pd->wake_at = UINT64_MAX;
	pd->main_wait_from = UINT64_MAX;
	pd_defaults(pd);
	if (pd_parse_flags(pd, flags, err, errlen) != 0 || eal_up(err, errlen) != 0 ||
	    dtcp_config_validate(&pd->cfg, err, errlen) != 0)
		goto fail;

	/* One buffer holds a whole frame of the MTU, as far as 16 bits allow. */
	room = (uint16_t)RTE_MIN(RTE_MAX((unsigned)RTE_MBUF_DEFAULT_BUF_SIZE,
					 RTE_PKTMBUF_HEADROOM + RTE_ETHER_HDR_LEN + pd->cfg.mtu + 64u),
				 (unsigned)UINT16_MAX);
	snprintf(name, sizeof(name), "dtcp_pd%u", __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED));
	pd->pool = rte_pktmbuf_pool_create(name, pd->cfg.mbufs, pd->cfg.mbuf_cache, 0, room,
					   SOCKET_ID_ANY);
	if (pd->pool == NULL) {
		snprintf(err, errlen, "mbuf pool of %u: %s", pd->cfg.mbufs, rte_strerror(rte_errno));
		goto fail;
	}
	pd->port = dtcp_l3port_create(&mac, &peer, pd->cfg.mtu, pd->pool, PD_QUEUE);
	if (pd->port == NULL) {
		snprintf(err, errlen, "L3 port: out of memory");
		goto fail;
	}
	/* The virtual clock starts at the wall clock's time, then keeps its own. */
	clock_gettime(CLOCK_REALTIME, &ts);
	pd->now_ns = (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
	dtcp_l3port_set_clock(pd->port, pd->now_ns);
	pd->w = dtcp_worker_create(&pd->cfg, pd->port, 0, pd->now_ns, err, errlen);
	if (pd->w == NULL)
		goto fail;
	memset(&pp, 0, sizeof(pp));
	pp.worker = pd->w;
	pp.wait = pd_wait;
	pp.now = pd_now;
	pp.arg = pd;
	pd->px = dtcp_posix_create(&pp);
	if (pd->px == NULL) {
		snprintf(err, errlen, "POSIX context: %s", strerror(errno));
		goto fail;
	}
	return pd;
fail:
	pd_release(pd);
	return NULL;
}

PD_EXPORT void
packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc)
{
	char err[256] = "";
	struct pd *pd = pd_create(flags, err, sizeof(err));

	memset(ifc, 0, sizeof(*ifc));
	/* Without a stack every call fails (ENETDOWN) and packetdrill stops at the first. */
	if (pd == NULL)
		fprintf(stderr, "dtcp packetdrill: %s\n", err);
	ifc->userdata = pd;
	ifc->free = pd_free;
	ifc->socket = pd_socket;
	ifc->bind = pd_bind;
	ifc->listen = pd_listen;
	ifc->accept = pd_accept;
	ifc->connect = pd_connect;
	ifc->read = pd_read;
	ifc->readv = pd_readv;
	ifc->recv = pd_recv;
	ifc->recvfrom = pd_recvfrom;
	ifc->recvmsg = pd_recvmsg;
	ifc->write = pd_write;
	ifc->writev = pd_writev;
	ifc->send = pd_send;
	ifc->sendto = pd_sendto;
	ifc->sendmsg = pd_sendmsg;
	ifc->fcntl = pd_fcntl;
	ifc->ioctl = pd_ioctl;
	ifc->close = pd_close;
	ifc->shutdown = pd_shutdown;
	ifc->getsockopt = pd_getsockopt;
	ifc->setsockopt = pd_setsockopt;
	ifc->poll = pd_poll;
	ifc->netdev_send = pd_netdev_send;
	ifc->netdev_receive = pd_netdev_receive;
	ifc->usleep = pd_usleep;
	ifc->gettimeofday = pd_gettimeofday;
	ifc->epoll_create = pd_epoll_create;
	ifc->epoll_ctl = pd_epoll_ctl;
	ifc->epoll_wait = pd_epoll_wait;
	ifc->pipe = pd_pipe;
	ifc->splice = pd_splice;
}
