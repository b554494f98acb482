#!/usr/bin/env bash
# The main job, on a virtual device (no NIC needed): dtcp on a net_tap port
# inside a network namespace of its own; the kernel resolves it by ARP and
# pings it; dtcp's counters are read through DPDK telemetry and printed at
# exit; the namespace is removed.
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
exit "$STOP_RC"
