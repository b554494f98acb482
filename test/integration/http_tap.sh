#!/usr/bin/env bash
# dtcp-httpd over net_tap in the private namespace dthp (tap dthp0,
# 198.18.8.0/24), the kernel's clients as peers:
#  1. body 2000 bytes, keep-alive on: curl 200 times in a row (status 200,
#     every body byte for byte the pattern); HTTP details from a Python
#     client with exact bytes (pipelining in order, heads split over
#     segments, HTTP/1.0, Connection: close, 405, 501, 400, 505, 431, a
#     GET with a body); `ab -n 20000 -c 50` (no keep-alive): 0 failed,
#     0 non-2xx; `wrk -c 64 -t 2 -d 5s`: no socket errors, 0 non-2xx.
#     SIGTERM: exit 0, answers and connections as the clients counted, no
#     mbuf or response reference left.
#  2. body 1 MiB, keep-alive off, max_conns 2: curl gets the body 5 times
#     (each waits for send space), a third open connection is answered 503.
# Rates ab and wrk measured are printed. Every step is bounded in time.
set -euo pipefail
. "$DTCP_SCRIPTS/lib-netns.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }
for tool in curl ab wrk python3; do
	command -v "$tool" >/dev/null || { echo "needs $tool (scripts/setup-deps.sh)"; exit 77; }
done

tap_session dthp dthp0
work=$(mktemp -d)
trap 'tap_session_end; rm -rf "$work"' EXIT
fail() { echo "FAIL: $*"; echo "--- dtcp-httpd log"; cat "$log"; exit 1; }
SRV=198.18.8.2
HOST=198.18.8.1
CONFIG="$DTCP_SCRIPTS/../config/httpd.ini"

# start_httpd ARGS...: dtcp-httpd in the namespace, kernel side of the tap up.
start_httpd() {
	: >"$log"
	ip netns exec "$ns" "$DTCP_HTTPD" -l 0 --no-pci --no-huge -m 512 --file-prefix=dthp \
		--vdev="net_tap0,iface=$iface" -- --config "$CONFIG" --ip "$SRV/24" \
		--gateway "$HOST" "$@" >"$log" 2>&1 &
	DTCP_PID=$!
	wait_for tap_up_or_gone "$ns" "$iface" && kill -0 "$DTCP_PID" 2>/dev/null ||
		fail "dtcp-httpd did not bring up $iface"
	ip netns exec "$ns" ip addr add "$HOST/24" dev "$iface"
	ip netns exec "$ns" ip link set "$iface" up
	wait_for grep -q '^dtcp-httpd: worker 0 listening' "$log" || fail "dtcp-httpd did not start"
	wait_for ip netns exec "$ns" curl -s -o /dev/null --max-time 5 "http://$SRV:8080/" ||
		fail "no answer from dtcp-httpd"
}

# stop_httpd: SIGTERM, at most 10 s; exit status 0 expected.
stop_httpd() {
	stop_pid "$DTCP_PID"
	DTCP_PID=
	[ "$STOP_RC" -eq 0 ] || fail "dtcp-httpd exited with $STOP_RC"
}

# counter NAME: a final httpd.NAME counter from the log.
counter() {
	awk -v k="httpd.$1" '$1 == k { print $2 }' "$log" | tail -1
}

# The body as the server makes it: byte i is "A..Za..z0..9"[i % 62].
make_body() {
	python3 -c 'import string, sys
s = (string.ascii_uppercase + string.ascii_lowercase + string.digits).encode()
n = int(sys.argv[1])
sys.stdout.buffer.write((s * (n // 62 + 1))[:n])' "$1" >"$2"
}

# Checks the final report common to both runs; leaves nothing else.
check_final() {
	grep -q '^dtcp-httpd: mbufs in use after the port closed: 0$' "$log" || fail "mbufs leaked"
	grep -q '^dtcp-httpd: references to the responses still out: 0$' "$log" ||
		fail "response references leaked"
	grep -Eq '^dtcp-httpd: heads [0-9]+, answers [0-9]+$' "$log" ||
		fail "heads and answers differ"
	grep -Eq '^dtcp-httpd: connections accepted [0-9]+, ended [0-9]+$' "$log" ||
		fail "connections accepted and ended differ"
	grep -q 'MISMATCH' "$log" && fail "a report does not balance"
	[ "$(counter at_exit)" = 0 ] || fail "$(counter at_exit) connections still open at exit"
	[ "$(counter no_mbuf)" = 0 ] && [ "$(counter no_partial)" = 0 ] || fail "refusals"
	return 0
}

# A bad key of [httpd] is refused before anything starts: exit 2, named.
rc=0
timeout 30 "$DTCP_HTTPD" -l 0 --no-pci --no-huge -m 128 --file-prefix=dthp -- \
	--set httpd.nope=1 >"$work/bad" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q 'unknown key \[httpd\] nope' "$work/bad" ||
	{ cat "$work/bad"; fail "--set httpd.nope=1: exit $rc"; }
rc=0
timeout 30 "$DTCP_HTTPD" -l 0 --no-pci --no-huge -m 128 --file-prefix=dthp -- \
	--body-size 16777217 >"$work/bad" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q 'body_size 16777217: not a number in 0..16777216' "$work/bad" ||
	{ cat "$work/bad"; fail "--body-size 16777217: exit $rc"; }
echo "bad options: exit 2 with the key named"

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up

# --- 1. body 2000 bytes (two segments), keep-alive, head limit 1024.
BODY=2000
make_body "$BODY" "$work/body"
# The program's own section of a second file, after the example's.
printf '[httpd]\nport = 8080\nbody_size = %s\nmax_header = 1024\n' "$BODY" >"$work/run1.ini"
start_httpd --config "$work/run1.ini"
grep '^dtcp-httpd: port' "$log"
base_200=1   # the readiness probe of start_httpd

# curl, 200 times in a row, each on a new connection.
for i in $(seq 200); do
	code=$(ip netns exec "$ns" curl -sS --max-time 5 -o "$work/got" -w '%{http_code}' \
		"http://$SRV:8080/item/$i") || fail "curl $i failed"
	[ "$code" = 200 ] || fail "curl $i: status $code"
	cmp -s "$work/got" "$work/body" || fail "curl $i: the body differs from the pattern"
done
echo "curl: 200 GETs in a row, each 200 with the $BODY-byte pattern"

# HTTP details, exact bytes.
ip netns exec "$ns" timeout 60 python3 - "$SRV" "$BODY" >"$work/py" <<'PY' ||
import socket, string, sys, time

SRV, BODY = sys.argv[1], int(sys.argv[2])
S = (string.ascii_uppercase + string.ascii_lowercase + string.digits).encode()
body = (S * (BODY // 62 + 1))[:BODY]


def head(conn, n):
    return (b"HTTP/1.1 200 OK\r\nServer: dtcp-httpd\r\nContent-Type: application/octet-stream\r\n"
            b"Content-Length: %d\r\nConnection: %s\r\n\r\n" % (n, conn))


def error(status, text, extra=b""):
    return (b"HTTP/1.1 " + status + b"\r\n" + extra + b"Server: dtcp-httpd\r\n"
            b"Content-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
            % len(text) + text)


KA = head(b"keep-alive", BODY) + body
CLOSE = head(b"close", BODY) + body
GET = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
counts = {"200": 0, "heads": 0, "conns": 0}


def conn():
    s = socket.create_connection((SRV, 8080), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    counts["conns"] += 1
    return s


def read_exact(s, n, what):
    buf = b""
    deadline = time.monotonic() + 10
    while len(buf) < n:
        assert time.monotonic() < deadline, f"{what}: {len(buf)} of {n} bytes after 10 s"
        chunk = s.recv(n - len(buf))
        assert chunk, f"{what}: EOF after {len(buf)} of {n} bytes"
        buf += chunk
    return buf


def expect(s, want, what, eof=False):
    got = read_exact(s, len(want), what)
    assert got == want, f"{what}: got {got[:200]!r}..., want {want[:200]!r}..."
    if eof:
        s.settimeout(10)
        rest = s.recv(1)
        assert rest == b"", f"{what}: {rest!r} after the response, not EOF"
    print(f"ok: {what}")


# Pipelining: four requests in one segment, answered in order; then one more.
s = conn()
s.sendall(GET + b"HEAD /b HTTP/1.1\r\nHost: x\r\n\r\n" + GET + GET)
expect(s, KA + head(b"keep-alive", BODY) + KA + KA, "4 pipelined requests (GET, HEAD, GET, GET)")
s.sendall(GET)
expect(s, KA, "a fifth on the same connection")
s.close()
counts["200"] += 5
counts["heads"] += 5

# A head one byte per segment (TCP_NODELAY), then its successor in one.
s = conn()
req = b"GET /slow HTTP/1.1\r\nHost: x\r\nUser-Agent: byte-by-byte\r\n\r\n"
for b in req:
    s.send(bytes([b]))
    time.sleep(0.002)
s.sendall(GET)
expect(s, KA + KA, "a head sent one byte per segment, then another")
s.close()
counts["200"] += 2
counts["heads"] += 2

# HTTP/1.0: closes unless asked; keep-alive when asked.
s = conn()
s.sendall(b"GET / HTTP/1.0\r\n\r\n")
expect(s, CLOSE, "HTTP/1.0: Connection: close and EOF", eof=True)
s = conn()
s.sendall(b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")
expect(s, KA, "HTTP/1.0 with Connection: keep-alive, first")
s.sendall(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
expect(s, KA, "HTTP/1.0 with Connection: keep-alive, second on the same connection")
s.close()
# HTTP/1.1 with Connection: close; bare LF line ends.
s = conn()
s.sendall(b"GET / HTTP/1.1\nHost: x\nConnection: close\n\n")
expect(s, CLOSE, "HTTP/1.1 Connection: close (bare LFs): close and EOF", eof=True)
counts["200"] += 4
counts["heads"] += 4

# A GET with a body: the body is skipped, the next request answered.
s = conn()
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nabcde" + GET)
expect(s, KA + KA, "a GET with a 5-byte body, then another GET")
s.close()
counts["200"] += 2
counts["heads"] += 2

# Errors: the answer, then the server's FIN.
cases = [
    (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
     error(b"405 Method Not Allowed", b"method not allowed\n", b"Allow: GET, HEAD\r\n"), "POST: 405"),
    (b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n",
     error(b"501 Not Implemented", b"not implemented\n"), "unknown method: 501"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
     error(b"501 Not Implemented", b"not implemented\n"), "Transfer-Encoding: 501"),
    (b"hello there\r\n\r\n", error(b"400 Bad Request", b"bad request\n"), "garbage: 400"),
    (b"GET / HTTP/1.1\r\n\r\n", error(b"400 Bad Request", b"bad request\n"), "no Host: 400"),
    (b"GET / HTTP/1.1\r\nHost : x\r\n\r\n", error(b"400 Bad Request", b"bad request\n"),
     "space before the colon: 400"),
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
     error(b"505 HTTP Version Not Supported", b"HTTP/1.x only\n"), "HTTP/2.0: 505"),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"a" * 1100 + b"\r\n\r\n",
     error(b"431 Request Header Fields Too Large", b"request header too large\n"),
     "a head of 1140 bytes, limit 1024: 431"),
]
for req, want, what in cases:
    s = conn()
    s.sendall(req)
    expect(s, want, what, eof=True)
    s.close()
    counts["heads"] += 1
print("COUNTS 200=%(200)d heads=%(heads)d conns=%(conns)d" % counts)
PY
	{ cat "$work/py"; fail "HTTP details"; }
cat "$work/py"
read -r py_200 py_heads py_conns < <(sed -n 's/^COUNTS 200=\([0-9]*\) heads=\([0-9]*\) conns=\([0-9]*\)$/\1 \2 \3/p' "$work/py")

# ab: 20000 requests, 50 at a time, a connection each (HTTP/1.0, no keep-alive).
ip netns exec "$ns" timeout 120 ab -q -n 20000 -c 50 "http://$SRV:8080/ab" >"$work/ab" 2>&1 ||
	{ cat "$work/ab"; fail "ab failed"; }
grep -Eq '^Complete requests: +20000$' "$work/ab" || { cat "$work/ab"; fail "ab: not 20000 complete"; }
grep -Eq '^Failed requests: +0$' "$work/ab" || { cat "$work/ab"; fail "ab: failed requests"; }
grep -q '^Non-2xx responses' "$work/ab" && { cat "$work/ab"; fail "ab: non-2xx responses"; }
grep -Eq "^Document Length: +$BODY bytes$" "$work/ab" || { cat "$work/ab"; fail "ab: body length"; }
ab_rate=$(awk '/^Requests per second/ { print $4 }' "$work/ab")
echo "ab -n 20000 -c 50: 0 failed, 0 non-2xx, $ab_rate requests/s"

# wrk: 64 keep-alive connections, 2 threads, 5 s.
ip netns exec "$ns" timeout 30 wrk -c 64 -t 2 -d 5s "http://$SRV:8080/wrk" >"$work/wrk" 2>&1 ||
	{ cat "$work/wrk"; fail "wrk failed"; }
cat "$work/wrk"
grep -q 'Socket errors' "$work/wrk" && fail "wrk: socket errors"
grep -q 'Non-2xx' "$work/wrk" && fail "wrk: non-2xx responses"
wrk_n=$(awk '$2 == "requests" && $3 == "in" { print $1 }' "$work/wrk")
wrk_rate=$(awk '/^Requests\/sec:/ { print $2 }' "$work/wrk")
[ -n "$wrk_n" ] && [ "$wrk_n" -gt 0 ] || fail "wrk: no request count"
echo "wrk -c 64 -t 2 -d 5s: $wrk_n requests, no socket errors, $wrk_rate requests/s"

stop_httpd
check_final
# 200s: the probe, curl, Python, ab exactly; wrk's count leaves out at
# most one response in flight per connection when it stopped.
want=$((base_200 + 200 + py_200 + 20000))
got=$(counter resp_200)
[ "$got" -ge $((want + wrk_n)) ] && [ "$got" -le $((want + wrk_n + 64)) ] ||
	fail "200 responses: $got, clients saw $((want + wrk_n)) (+ at most 64 in flight)"
# ab and wrk open a few connections beyond their requests (ab up to its
# concurrency, wrk one to try the address): at least what the clients made.
conns=$((1 + 200 + py_conns + 20000 + 64))
[ "$(counter accepted)" -ge "$conns" ] && [ "$(counter accepted)" -le $((conns + 51)) ] ||
	fail "accepted $(counter accepted), clients opened $conns (+ at most 51)"
[ "$(counter bad_heads)" = 6 ] || fail "bad_heads $(counter bad_heads), want 6"
[ "$(counter split_heads)" -ge 1 ] || fail "no head was split"
[ "$(counter refused)" = 0 ] || fail "refused $(counter refused)"
echo "run 1: $got 200s for $((want + wrk_n)) seen by the clients, $(counter accepted) connections for $conns made, no leak"

# --- 2. body 1 MiB, keep-alive off, 2 connections per worker at most.
BODY=1048576
make_body "$BODY" "$work/body"
start_httpd --http-port 8080 --body-size "$BODY" --keepalive off --max-conns 2
for i in $(seq 5); do
	ip netns exec "$ns" curl -sS --max-time 20 -D "$work/hdr" -o "$work/got" \
		"http://$SRV:8080/big" || fail "curl (1 MiB) $i failed"
	grep -q '^Connection: close' "$work/hdr" || fail "keep-alive off: no Connection: close"
	cmp -s "$work/got" "$work/body" || fail "curl (1 MiB) $i: the body differs"
done
echo "curl: 5 GETs of the 1 MiB pattern with keep-alive off"
ip netns exec "$ns" timeout 30 python3 - "$SRV" <<'PY' || fail "max_conns"
import socket, sys

SRV = sys.argv[1]
idle = [socket.create_connection((SRV, 8080), timeout=10) for _ in range(2)]
s = socket.create_connection((SRV, 8080), timeout=10)
got = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    got += chunk
    assert len(got) < 4096, "more than 4 KiB instead of a 503"
assert got.startswith(b"HTTP/1.1 503 Service Unavailable\r\n"), got
assert got.endswith(b"\r\n\r\ntoo many connections\n"), got
print("a third connection with max_conns 2: 503 and EOF")
for c in idle:
    c.close()
PY
stop_httpd
check_final
[ "$(counter refused)" = 1 ] || fail "refused $(counter refused), want 1"
[ "$(counter send_waits)" -ge 5 ] || fail "send_waits $(counter send_waits): 1 MiB never waited"
[ "$(counter resp_200)" = 6 ] || fail "resp_200 $(counter resp_200), want 6 (probe and 5)"
echo "run 2: 6 responses of 1 MiB, 1 connection refused with 503, no leak"
echo "PASS"
