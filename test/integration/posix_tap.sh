#!/usr/bin/env bash
# dtcp-pecho, the echo server written on the POSIX-like layer, on net_tap in
# a private namespace, with the kernel as the peer: a client in the
# namespace streams 64 MiB of a seeded pattern while it reads the echo back
# concurrently, half-closes, and reads to EOF. The same count and SHA-256
# must come back within a time limit. Then dtcp-pecho stops on SIGINT: exit
# status 0, its report counting one client closed in order with every byte
# echoed, none failed, and no mbuf left in use.
set -euo pipefail
. "$DTCP_SCRIPTS/lib-netns.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }

MIB=64
LIMIT=120       # seconds for the transfer, connect to EOF

tap_session dtpx dtpx0
fail() { echo "FAIL: $*"; echo "--- dtcp-pecho log"; cat "$log"; exit 1; }

# A namespace left by a run that was killed would make `ip netns add` fail.
ip netns del "$ns" 2>/dev/null || true
ip netns add "$ns"
ip netns exec "$ns" "$DTCP_PECHO" -l 0 --no-pci --no-huge -m 512 --file-prefix="$ns" \
	--vdev="net_tap0,iface=$iface" -- --ip 198.18.7.2/24 --listen-port 7 >"$log" 2>&1 &
DTCP_PID=$!
if ! wait_for tap_up_or_gone "$ns" "$iface" || ! kill -0 "$DTCP_PID" 2>/dev/null; then
	fail "dtcp-pecho did not bring up $iface"
fi
ip netns exec "$ns" ip addr add 198.18.7.1/24 dev "$iface"
ip netns exec "$ns" ip link set "$iface" up
wait_for grep -q 'echo on port 7' "$log" || fail "dtcp-pecho did not start"

# The client bounds itself by LIMIT; timeout is the backstop if it hangs.
rc=0
ip netns exec "$ns" timeout -k 5 $((LIMIT + 15)) python3 - 198.18.7.2 "$MIB" "$LIMIT" <<'PY' || rc=$?
import hashlib, random, socket, sys, threading, time

HOST = sys.argv[1]
MIB = 1 << 20
TOTAL = int(sys.argv[2]) * MIB
LIMIT = float(sys.argv[3])

start = time.monotonic()
deadline = start + LIMIT
s = socket.create_connection((HOST, 7), timeout=min(30.0, LIMIT))
s.settimeout(0.5)      # short waits: both threads see the deadline
st = {"sent": 0, "recv": 0}
sent_hash, recv_hash = hashlib.sha256(), hashlib.sha256()
errors = []
stop = threading.Event()


def sender():
    rng = random.Random(20261122)     # the seeded pattern
    try:
        for _ in range(TOTAL // MIB):
            view = memoryview(rng.randbytes(MIB))
            sent_hash.update(view)
            while view:
                if stop.is_set():
                    return
                try:
                    n = s.send(view)
                except socket.timeout:
                    continue
                view = view[n:]
                st["sent"] += n
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        errors.append(f"sending, after {st['sent']} bytes: {e!r}")


def reader():
    buf = bytearray(256 * 1024)
    mv = memoryview(buf)
    try:
        while not stop.is_set():
            try:
                n = s.recv_into(buf)
            except socket.timeout:
                continue
            if n == 0:
                return
            if st["recv"] + n > TOTAL:
                errors.append(f"more than the {TOTAL} bytes sent came back")
                return
            recv_hash.update(mv[:n])
            st["recv"] += n
    except OSError as e:
        errors.append(f"receiving, after {st['recv']} bytes: {e!r}")


threads = [threading.Thread(target=sender), threading.Thread(target=reader)]
for t in threads:
    t.start()
while any(t.is_alive() for t in threads):
    if time.monotonic() > deadline:
        stop.set()
        for t in threads:
            t.join(5)
        print(f"not done {LIMIT:.0f} s after connecting: sent {st['sent']}, "
              f"back {st['recv']} bytes")
        sys.exit(1)
    time.sleep(0.02)
took = time.monotonic() - start
s.close()
if errors:
    print("transfer failed: " + "; ".join(errors))
    sys.exit(1)
if st["sent"] != TOTAL or st["recv"] != TOTAL:
    print(f"sent {st['sent']} bytes, {st['recv']} came back before EOF; expected {TOTAL}")
    sys.exit(1)
if sent_hash.digest() != recv_hash.digest():
    print(f"SHA-256 differs: sent {sent_hash.hexdigest()}, back {recv_hash.hexdigest()}")
    sys.exit(1)
print(f"echo: {TOTAL // MIB} MiB each way, same byte count and SHA-256 {sent_hash.hexdigest()}")
print(f"time: {took:.1f} s, connect to EOF: {TOTAL / MIB / took:.2f} MiB/s each way")
PY
case $rc in
0) ;;
124|137) fail "the client was killed $((LIMIT + 15)) s after it started" ;;
*) fail "the 64 MiB echo (see above)" ;;
esac

# SIGINT, as from a terminal: the exit path prints the report. The
# connection is closed (our FIN, then dtcp-pecho's once it has echoed all).
kill -INT "$DTCP_PID"
for i in $(seq 100); do
	kill -0 "$DTCP_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$DTCP_PID" 2>/dev/null && fail "dtcp-pecho still running 10 s after SIGINT"
rc=0
wait "$DTCP_PID" || rc=$?
DTCP_PID=
[ "$rc" -eq 0 ] || fail "dtcp-pecho exited with $rc"

python3 - "$log" "$MIB" <<'PY' || fail "final report"
import re, sys
text = open(sys.argv[1]).read()
total = int(sys.argv[2]) << 20
m = re.search(r"^dtcp-pecho: accepted (\d+), refused (\d+), closed (\d+), failed (\d+), "
              r"bytes echoed (\d+)$", text, re.M)
assert m, "no report line"
acc, ref, closed, failed, echoed = map(int, m.groups())
assert (acc, ref, closed, failed) == (1, 0, 1, 0), m.group(0)
assert echoed == total, f"echoed {echoed}, expected {total}"
m = re.search(r"^dtcp-pecho: mbufs in use after the port closed: (\d+)", text, re.M)
assert m and m.group(1) == "0", m and m.group(0)
final = text[text.index("dtcp-pecho: final counters"):]
ctr = {k: int(v) for k, v in re.findall(r"^  (\w+) +(\d+)  ", final, re.M)}
for k in ("tcp_reset_rx", "tcp_aborted", "posix_fd_table_full"):
    assert ctr.get(k, 0) == 0, f"{k} {ctr[k]}"
print("final report: 1 client, closed in order,", echoed, "bytes echoed, no mbuf in use;",
      "receive queue full", ctr.get("posix_rcv_paused", 0), "times")
PY
grep '^dtcp-pecho: accepted\|mbufs in use' "$log"
echo PASS
