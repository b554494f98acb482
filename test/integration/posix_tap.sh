#!/usr/bin/env bash
# dtcp-pecho, the echo server written on the POSIX-like layer, on net_tap in
# a private namespace, with the kernel as the peer: a client in the
# namespace (echo_stream, lib-netns.sh) streams 64 MiB of a seeded pattern
# while it reads the echo back concurrently, half-closes, and reads to EOF.
# The same count and SHA-256 must come back within a time limit. Then dtcp-pecho stops on SIGINT: exit
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

echo_stream "$ns" 198.18.7.2 "$MIB" "$LIMIT" "the $MIB MiB echo"

# SIGINT, as from a terminal: the exit path prints the report. The
# connection is closed (our FIN, then dtcp-pecho's once it has echoed all).
stop_on_sigint dtcp-pecho

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
