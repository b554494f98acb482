# Helpers shared by the demo and the integration tests (sourced, not run).
# Each user makes its own namespace and tears it down on exit.

# wait_for CMD...: retry CMD for up to 10 s.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# EAL options for a short-lived run: hugepage files unlinked once mapped, so
# a run that ends (or is killed) leaves none behind.
DTCP_EAL_COMMON=(-l 0 --no-pci --huge-unlink)

# dpdk_rundir_cleanup PREFIX: EAL leaves its runtime directory behind.
dpdk_rundir_cleanup() {
	rm -rf "/var/run/dpdk/$1" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$1"
}

# start_dtcp_tap NS IFACE LOG ARGS...: dtcp-services on net_tap IFACE inside
# NS, EAL file prefix NS; sets DTCP_PID. The caller sets up the kernel side.
start_dtcp_tap() {
	local ns=$1 iface=$2 log=$3
	shift 3
	ip netns exec "$ns" "$DTCP_SERVICES" "${DTCP_EAL_COMMON[@]}" --file-prefix="$ns" \
		--vdev="net_tap0,iface=$iface" -- "$@" >"$log" 2>&1 &
	DTCP_PID=$!
	if ! wait_for tap_up_or_gone "$ns" "$iface" || ! kill -0 "$DTCP_PID" 2>/dev/null; then
		echo "dtcp-services did not bring up $iface; its log:" >&2
		cat "$log" >&2
		return 1
	fi
}

# True once IFACE exists in NS, or once dtcp-services has exited (no point
# in waiting longer).
tap_up_or_gone() {
	ip netns exec "$1" ip link show "$2" >/dev/null 2>&1 || ! kill -0 "$DTCP_PID" 2>/dev/null
}

# tap_session NS IFACE: names the namespace and tap of a run (ns, iface),
# makes a log file (log), and on exit stops dtcp-services if DTCP_PID is
# set, removes the namespace, EAL's runtime directory and the log.
tap_session() {
	ns=$1
	iface=$2
	log=$(mktemp)
	DTCP_PID=
	trap tap_session_end EXIT
}

tap_session_end() {
	if [ -n "$DTCP_PID" ]; then
		stop_pid "$DTCP_PID"
	fi
	ip netns del "$ns" 2>/dev/null || true
	dpdk_rundir_cleanup "$ns"
	rm -f "$log"
}

# stop_pid PID: SIGTERM, wait at most 10 s, then SIGKILL. The exit status
# of PID (a child of this shell) is left in STOP_RC.
stop_pid() {
	local pid=$1 i
	STOP_RC=0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || STOP_RC=$?
}

# The functions below end a test that goes wrong through the caller's
# fail MESSAGE (which prints the program's log and exits).

# stop_on_sigint NAME: SIGINT to DTCP_PID (the program NAME), as from a
# terminal, so that its exit path prints the final report; it must exit
# with status 0 within 10 s. DTCP_PID is cleared.
stop_on_sigint() {
	local name=$1 i rc=0
	kill -INT "$DTCP_PID"
	for i in $(seq 100); do
		kill -0 "$DTCP_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$DTCP_PID" 2>/dev/null && fail "$name still running 10 s after SIGINT"
	wait "$DTCP_PID" || rc=$?
	DTCP_PID=
	[ "$rc" -eq 0 ] || fail "$name exited with $rc"
}

# echo_stream NS HOST MIB LIMIT WHAT [lossy]: a kernel client in NS streams
# MIB MiB of a seeded pattern to the echo server at HOST:7 while it reads the
# echo back concurrently, half-closes, and reads to EOF. The same count and
# SHA-256 must come back within LIMIT seconds of connecting (timeout kills
# the client 15 s after that); on failure, fail "WHAT (see above)". It
# prints progress every 10 s, the throughput each way and the kernel's
# retransmissions; with lossy, the kernel must have retransmitted.
echo_stream() {
	local ns=$1 host=$2 mib=$3 limit=$4 what=$5 lossy=${6:-} rc=0
	ip netns exec "$ns" timeout -k 5 $((limit + 15)) \
		python3 - "$host" "$mib" "$limit" "$lossy" <<'PY' || rc=$?
import hashlib, random, socket, struct, sys, threading, time

HOST = sys.argv[1]
MIB = 1 << 20
TOTAL = int(sys.argv[2]) * MIB
LIMIT = float(sys.argv[3])
LOSSY = sys.argv[4] == "lossy"
CHUNK = MIB     # the unit of generation and of the per-MiB digests


def tcp_info(s):
    """The kernel's view of the connection (struct tcp_info, linux/tcp.h)."""
    b = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 232)
    return {
        "total_retrans": struct.unpack_from("<I", b, 100)[0],
        "bytes_acked": struct.unpack_from("<Q", b, 120)[0],
        "rwnd_limited_us": struct.unpack_from("<Q", b, 176)[0],
        "bytes_retrans": struct.unpack_from("<Q", b, 208)[0] if len(b) >= 216 else None,
        "rcv_ooopack": struct.unpack_from("<I", b, 224)[0] if len(b) >= 228 else None,
    }


start = time.monotonic()
deadline = start + LIMIT
s = socket.create_connection((HOST, 7), timeout=min(30.0, LIMIT))
# Short waits, so that both threads see the deadline and the stop flag.
s.settimeout(0.5)
t0 = time.monotonic()

st = {"sent": 0, "recv": 0, "t_sent": None, "t_acked": None, "t_eof": None}
sent_hash, recv_hash = hashlib.sha256(), hashlib.sha256()
sent_mib, recv_mib = [], []     # SHA-256 of each MiB, to say where a difference is
errors = []
stop = threading.Event()


def sender():
    rng = random.Random(20261122)     # the seeded pattern
    try:
        for _ in range(TOTAL // CHUNK):
            chunk = rng.randbytes(CHUNK)
            sent_hash.update(chunk)
            sent_mib.append(hashlib.sha256(chunk).digest())
            view = memoryview(chunk)
            while view:
                if stop.is_set():
                    return
                try:
                    n = s.send(view)
                except socket.timeout:
                    continue
                view = view[n:]
                st["sent"] += n
        st["t_sent"] = time.monotonic()
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        errors.append(f"sending, after {st['sent']} bytes: {e!r}")


def reader():
    buf = bytearray(256 * 1024)
    mv = memoryview(buf)
    cur, cur_len = hashlib.sha256(), 0
    try:
        while not stop.is_set():
            try:
                n = s.recv_into(buf)
            except socket.timeout:
                continue
            if n == 0:
                st["t_eof"] = time.monotonic()
                break
            if st["recv"] + n > TOTAL:
                errors.append(f"receiving: more than the {TOTAL} bytes sent came back")
                break
            recv_hash.update(mv[:n])
            off = 0
            while off < n:
                take = min(n - off, CHUNK - cur_len)
                cur.update(mv[off:off + take])
                cur_len += take
                off += take
                if cur_len == CHUNK:
                    recv_mib.append(cur.digest())
                    cur, cur_len = hashlib.sha256(), 0
            st["recv"] += n
        if cur_len:
            recv_mib.append(cur.digest())
    except OSError as e:
        errors.append(f"receiving, after {st['recv']} bytes: {e!r}")


def progress(now):
    i = tcp_info(s)
    return (f"{now - t0:6.1f} s: written {st['sent'] / MIB:5.1f} MiB, acked by dtcp "
            f"{i['bytes_acked'] / MIB:5.1f} MiB, echoed back {st['recv'] / MIB:5.1f} MiB")


threads = [threading.Thread(target=sender), threading.Thread(target=reader)]
for t in threads:
    t.start()
next_report = t0 + 10
# Ends: by the deadline at the latest.
while any(t.is_alive() for t in threads):
    now = time.monotonic()
    if st["t_acked"] is None and tcp_info(s)["bytes_acked"] >= TOTAL:
        st["t_acked"] = now
    if now > deadline:
        line = progress(now)
        stop.set()
        for t in threads:
            t.join(5)
        print(f"transfer not done {LIMIT:.0f} s after connecting ({line.strip()})")
        sys.exit(1)
    if now >= next_report:
        print(progress(now), flush=True)
        next_report += 10
    time.sleep(0.02)

if errors:
    print("transfer failed: " + "; ".join(errors))
    sys.exit(1)
info = tcp_info(s)
s.close()
bad = False
if st["sent"] != TOTAL or st["recv"] != TOTAL:
    print(f"wrote {st['sent']} bytes, {st['recv']} came back before EOF; expected {TOTAL} each")
    bad = True
if sent_hash.digest() != recv_hash.digest():
    diff = next((k for k in range(len(sent_mib))
                 if k >= len(recv_mib) or sent_mib[k] != recv_mib[k]), None)
    print(f"SHA-256 differs: sent {sent_hash.hexdigest()}, back {recv_hash.hexdigest()}; "
          f"first MiB that differs: {diff}")
    bad = True
if bad:
    sys.exit(1)

mib = TOTAL / MIB
t_acked = (st["t_acked"] or st["t_eof"]) - t0
t_eof = st["t_eof"] - t0
print(f"echo: {mib:.0f} MiB each way, same byte count and SHA-256 {sent_hash.hexdigest()}")
print(f"time: {t_eof:.1f} s from connect to EOF ({time.monotonic() - start:.1f} s with the handshake)")
print(f"kernel -> dtcp: all acked after {t_acked:.1f} s, {mib / t_acked:.2f} MiB/s")
print(f"dtcp -> kernel: all read after {t_eof:.1f} s, {mib / t_eof:.2f} MiB/s")
print(f"kernel TCP: {info['total_retrans']} segments retransmitted ({info['bytes_retrans']} bytes), "
      f"{info['rcv_ooopack']} packets received out of order, "
      f"{info['rwnd_limited_us'] / 1e6:.1f} s limited by dtcp's window")
# Frames the kernel sent were lost only if it had to send some again.
if LOSSY and info["total_retrans"] == 0:
    print("the kernel retransmitted nothing: none of its frames was lost")
    sys.exit(1)
PY
	case $rc in
	0) ;;
	124|137) fail "the client was killed $((limit + 15)) s after it started" ;;
	*) fail "$what (see above)" ;;
	esac
}
