#!/usr/bin/env bash
# The kernel as a client of dtcp's TCP services over net_tap inside a
# private namespace: echo gives back 1 MiB of random bytes sent before a
# half-close, and holds back a client that writes without reading (its
# writes stall; nothing is lost); discard takes 1 MiB and closes cleanly; daytime
# sends one CRLF line and closes first; chargen follows RFC 864 from its
# first line, across a half-close and across a rude close; a port nobody
# listens on refuses. dtcp-services then stops on SIGINT: its services'
# counters must match what the client did, and its final report must
# balance with no mbuf leaked.
set -euo pipefail
. "$DTCP_SCRIPTS/lib-netns.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }

tap_session "dtcp-t-svc-$$" "dts$$"
fail() { echo "FAIL: $*"; echo "--- dtcp-services log"; cat "$log"; exit 1; }

ip netns add "$ns"
# services.ini: a pool large enough for echo's backlog bound (1 MiB).
start_dtcp_tap "$ns" "$iface" "$log" --config "$DTCP_SCRIPTS/../config/services.ini" \
	--ip 198.19.9.2/24 --gateway 198.19.9.1
ip netns exec "$ns" ip addr add 198.19.9.1/24 dev "$iface"
ip netns exec "$ns" ip link set "$iface" up
wait_for grep -q 'listening on every address' "$log" || fail "dtcp-services did not start"
grep 'listening on every address' "$log"

# Every socket call has a timeout, every loop a deadline and a byte limit.
ip netns exec "$ns" timeout 120 python3 - 198.19.9.2 <<'PY' || fail "client checks"
import hashlib, os, re, select, socket, sys, threading, time

HOST = sys.argv[1]
TIMEOUT = 20          # seconds, any one socket call
MIB = 1 << 20
PRINTABLE = bytes(range(32, 127))           # RFC 864: the 95 printing characters
PERIOD = b"".join(PRINTABLE[n:] + PRINTABLE[:n] for n in range(95))
PERIOD = b"".join(PERIOD[n * 95:n * 95 + 72] + b"\r\n" for n in range(95))


def connect(port):
    s = socket.create_connection((HOST, port), timeout=TIMEOUT)
    s.settimeout(TIMEOUT)
    return s


def read_until(s, done, limit, what):
    """Read until done(buf), or EOF when done is None; at most limit bytes, 60 s."""
    buf = bytearray()
    deadline = time.monotonic() + 60
    while done is None or not done(buf):
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: still reading after 60 s ({len(buf)} bytes)")
        chunk = s.recv(65536)
        if not chunk:
            if done is None:
                return bytes(buf)
            raise AssertionError(f"{what}: EOF after {len(buf)} bytes")
        buf += chunk
        if len(buf) > limit:
            raise AssertionError(f"{what}: more than {limit} bytes")
    return bytes(buf)


def chargen_ok(data, what):
    want = PERIOD * (len(data) // len(PERIOD) + 1)
    if data != want[:len(data)]:
        bad = next(i for i in range(len(data)) if data[i] != want[i])
        raise AssertionError(f"{what}: byte {bad} is {data[bad]!r}, RFC 864 has {want[bad]!r}")


# echo: 1 MiB sent while reading (a client that only sends would stall both
# sides), then half-close; exactly the same bytes must come back, then EOF.
data = os.urandom(MIB)
s = connect(7)
errors = []


def send_all():
    try:
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    except OSError as e:
        errors.append(e)


sender = threading.Thread(target=send_all)
sender.start()
back = read_until(s, None, MIB, "echo")
sender.join(TIMEOUT)
assert not sender.is_alive() and not errors, f"echo: sending failed: {errors}"
assert len(back) == MIB, f"echo: {len(back)} bytes came back of {MIB}"
assert hashlib.sha256(back).digest() == hashlib.sha256(data).digest(), "echo: SHA-256 differs"
s.close()
print("echo: 1 MiB back with the same SHA-256, then EOF after our half-close")

# echo, and a client that writes without reading: dtcp holds what it
# receives behind echo's backlog (dtcp_tcp_recv_pause), its window closes, and
# the client's writes stall long before 16 MiB. Then it half-closes and
# reads: every byte it wrote comes back, in order.
s = connect(7)
s.setblocking(False)
sent = bytearray()
chunk = os.urandom(65536)
stall_since = None
deadline = time.monotonic() + 60
while len(sent) < 16 * MIB:
    assert time.monotonic() < deadline, f"echo: still writing after 60 s ({len(sent)} bytes)"
    try:
        n = s.send(chunk)
        sent += chunk[:n]
        stall_since = None
    except BlockingIOError:
        if stall_since is None:
            stall_since = time.monotonic()
        elif time.monotonic() - stall_since > 1.0:
            break
        select.select([], [s], [], 0.05)
assert len(sent) < 16 * MIB, "echo: 16 MiB went in without a read: no flow control"
s.setblocking(True)
s.settimeout(TIMEOUT)
s.shutdown(socket.SHUT_WR)
back = read_until(s, None, len(sent), "echo (a writer that did not read)")
assert back == bytes(sent), f"echo: {len(back)} bytes back of {len(sent)}, or not the same"
s.close()
print(f"echo: a writer that does not read stalls after {len(sent)} bytes, then gets them all back")

# discard: 1 MiB, half-close, then the server's FIN and nothing else.
s = connect(9)
s.sendall(os.urandom(MIB))
s.shutdown(socket.SHUT_WR)
rest = read_until(s, None, 0, "discard")
assert rest == b"", f"discard: {len(rest)} bytes came back"
s.close()
print("discard: 1 MiB taken, closed cleanly")

# daytime: one line ending CRLF, then EOF while we have not closed.
s = connect(13)
line = read_until(s, None, 256, "daytime")
assert line.endswith(b"\r\n") and line.count(b"\n") == 1, f"daytime: {line!r}"
assert re.fullmatch(rb"[A-Z][a-z]+day, [A-Z][a-z]+ \d\d, \d{4} \d\d:\d\d:\d\d-UTC\r\n",
                    line), f"daytime: {line!r}"
s.close()
print(f"daytime: {line.decode().strip()!r}, then the server closed")

# chargen: the first 3 lines, exactly; 2 MiB read (the send buffer refilled
# several times); then half-close: the server closes and everything up to
# its FIN is still the pattern.
s = connect(19)
first = read_until(s, lambda b: b.count(b"\r\n") >= 3, 4 * MIB, "chargen")
lines = first.split(b"\r\n")[:3]
for n, got in enumerate(lines):
    want = (PRINTABLE * 2)[n:n + 72]
    assert got == want, f"chargen line {n}: {got!r}, RFC 864 has {want!r}"
first += read_until(s, lambda b: len(first) + len(b) >= 2 * MIB, 4 * MIB, "chargen")
s.shutdown(socket.SHUT_WR)
stream = first + read_until(s, None, 64 * MIB, "chargen after our FIN")
chargen_ok(stream, "chargen")
s.close()
print(f"chargen: 3 lines as in RFC 864, {len(stream)} bytes in all in the pattern, "
      "closed by the server after our half-close")

# chargen again, closed rudely with data unread (the kernel resets it).
s = connect(19)
read_until(s, lambda b: b.count(b"\r\n") >= 3, 4 * MIB, "chargen (rude)")
s.close()
print("chargen: closed with data unread (reset)")

# Nobody listens on 4444: RST, seen as ECONNREFUSED.
try:
    connect(4444).close()
    raise AssertionError("port 4444: connection accepted")
except ConnectionRefusedError:
    print("port 4444: connection refused")
PY

# SIGINT, as from a terminal: the exit path runs the final report.
stop_on_sigint dtcp-services

python3 - "$log" <<'PY' || fail "final report"
import re, sys
text = open(sys.argv[1]).read()
svc = {}
for m in re.finditer(r"^dtcp-services: (\w+) \(port \d+\): (.*)$", text, re.M):
    # "accepted 1, refused 0, ..., bytes sent 1048576"
    svc[m.group(1)] = {k: int(v) for k, _, v in
                       (part.rpartition(" ") for part in m.group(2).split(", "))}
for name in ("echo", "discard", "daytime", "chargen"):
    assert name in svc, f"no counters for {name}"
    c = svc[name]
    for k in ("refused", "open at exit", "aborted"):
        assert c[k] == 0, f"{name}: {k} {c[k]}"
e, d = svc["echo"], svc["discard"]
assert e["accepted"] == 2 and e["aborted"] == 0 and e["failed"] == 0, e
assert e["bytes received"] > 1 << 20 and e["bytes sent"] >= 1 << 20, e
assert d["accepted"] == 1 and d["failed"] == 0 and d["bytes received"] == 1 << 20, d
assert svc["daytime"]["accepted"] == 1 and svc["daytime"]["failed"] == 0, svc["daytime"]
assert svc["chargen"]["accepted"] == 2 and svc["chargen"]["bytes sent"] > 2 << 20, svc["chargen"]
assert "MISMATCH" not in text, "frames received do not balance"
m = re.search(r"^dtcp-services: mbufs in use after the port closed: (\d+)", text, re.M)
assert m and m.group(1) == "0", m and m.group(0)
print("final report: services' counters as expected, frames balance")
PY
grep '^dtcp-services: \(echo\|discard\|daytime\|chargen\) \|^dtcp-services: frames received\|mbufs in use' "$log"
echo PASS
