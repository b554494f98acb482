#!/usr/bin/env bash
# The main job, on a virtual device (no NIC needed): dtcp on a net_tap port
# inside a network namespace of its own; the kernel resolves it by ARP,
# pings it and talks TCP to its classic services; dtcp's counters are read through DPDK telemetry and printed at
# exit; the namespace is removed. Then the connections-per-second benchmark,
# short (bench/cps.sh --short: dtcp against the Linux kernel on the same two
# cores, a table with the ratios, bench/results/latest.json and latest.png).
#   DTCP_DEMO_BENCH=0  skip the benchmark
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-deps.sh
scripts/build.sh build >/dev/null

DTCP_SERVICES=$PWD/build/apps/dtcp-services
. scripts/lib-netns.sh

tap_session "dtcp-demo-$$" "dtap$$"

step() { printf '\n== %s\n' "$*"; }

step "network namespace $ns; dtcp-services on net_tap $iface"
ip netns add "$ns"
start_dtcp_tap "$ns" "$iface" "$log" --config config/demo-tap.ini
ip netns exec "$ns" ip addr add 198.18.0.1/24 dev "$iface"
ip netns exec "$ns" ip link set "$iface" up
ip netns exec "$ns" ip link set lo up
wait_for grep -q 'worker(s)' "$log"
grep 'dtcp-services: port' "$log"

step "the kernel's neighbour table before: no entry for 198.18.0.2"
ip netns exec "$ns" ip neigh show dev "$iface"

step "kernel pings dtcp: 20 echo requests"
ip netns exec "$ns" ping -c 20 -i 0.05 -W 2 198.18.0.2 | tail -n 3

step "the kernel's neighbour table after: dtcp's MAC, learned by ARP"
ip netns exec "$ns" ip neigh show dev "$iface"

step "the kernel talks TCP to dtcp: daytime (RFC 867), echo (RFC 862), chargen (RFC 864)"
ip netns exec "$ns" python3 - <<'PY'
import hashlib, os, socket, threading
HOST = "198.18.0.2"

def connect(port):
    return socket.create_connection((HOST, port), timeout=10)

with connect(13) as s:
    print("  daytime:", s.makefile("rb").readline().decode().strip())

data = os.urandom(1 << 20)
with connect(7) as s:
    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    back = bytearray()
    while chunk := s.recv(65536):
        back += chunk
    t.join()
same = hashlib.sha256(back).digest() == hashlib.sha256(data).digest()
print(f"  echo: {len(back)} of {len(data)} bytes back, SHA-256 {'equal' if same else 'DIFFERENT'}")

with connect(19) as s:
    f = s.makefile("rb")
    for _ in range(3):
        print("  chargen:", f.readline().decode().rstrip())
PY

step "dtcp's counters over DPDK telemetry (/dtcp/stats, non-zero ones)"
echo /dtcp/stats | ip netns exec "$ns" dpdk-telemetry.py -f "$ns" 2>/dev/null |
	python3 -c '
import json, sys
text = sys.stdin.read()
start = text.find("{\"/dtcp/stats\"")
stats = json.JSONDecoder().raw_decode(text[start:])[0]["/dtcp/stats"]
for k, v in stats.items():
    if v:
        print(f"  {k:24} {v}")
'

step "stopping dtcp-services (SIGTERM): its final report"
stop_pid "$DTCP_PID"
DTCP_PID=
sed -n '/final counters/,$p' "$log"
[ "$STOP_RC" -eq 0 ] || exit "$STOP_RC"

if [ "${DTCP_DEMO_BENCH:-1}" != 0 ]; then
	step "the CPS benchmark, short: dtcp against the Linux kernel on cores 0 and 1 (bench/cps.sh --short)"
	bench/cps.sh --short
fi
