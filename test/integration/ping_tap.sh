#!/usr/bin/env bash
# The kernel pings dtcp over net_tap inside a private namespace: 100 echo
# requests of sizes up to 1472 (a full 1500-byte packet), then 10 of 4000
# bytes that travel as fragments both ways; no loss allowed. dtcp's counters
# are then read over telemetry and its final report must balance with no
# mbuf leaked.
set -euo pipefail
. "$DTCP_SCRIPTS/lib-netns.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }

tap_session "dtcp-t-ping-$$" "dtp$$"
fail() { echo "FAIL: $*"; echo "--- dtcp-services log"; cat "$log"; exit 1; }

ip netns add "$ns"
start_dtcp_tap "$ns" "$iface" "$log" --config "$DTCP_SCRIPTS/../config/demo-tap.ini" \
	--ip 198.19.7.2/24 --gateway 198.19.7.1
ip netns exec "$ns" ip addr add 198.19.7.1/24 dev "$iface"
ip netns exec "$ns" ip link set "$iface" up
wait_for grep -q 'worker(s)' "$log" || fail "dtcp-services did not start"

pings() {   # pings COUNT SIZE: fail on any loss
	local out
	out=$(ip netns exec "$ns" ping -c "$1" -s "$2" -i 0.01 -W 2 198.19.7.2) ||
		fail "ping -s $2: $(echo "$out" | tail -n 2)"
	echo "$out" | grep -q " $1 received, 0% packet loss" ||
		fail "ping -s $2: $(echo "$out" | tail -n 2)"
	echo "ping -s $2 x$1: 0% loss"
}
# 100 echo requests, sizes from 0 to 1472 bytes of data.
for size in 0 1 56 100 512 1000 1400 1471 1472 64; do
	pings 10 "$size"
done
# 4000 bytes of data: 3 fragments each way, reassembled by dtcp.
pings 10 4000

stats=$(echo /dtcp/stats | ip netns exec "$ns" dpdk-telemetry.py -f "$ns" 2>/dev/null)
echo "$stats" | python3 -c '
import json, sys
text = sys.stdin.read()
s = json.JSONDecoder().raw_decode(text[text.find("{\"/dtcp/stats\""):])[0]["/dtcp/stats"]
assert s["icmp_echo_request"] == 110, s["icmp_echo_request"]
assert s["icmp_echo_reply_tx"] == 110, s["icmp_echo_reply_tx"]
assert s["ip_reassembled"] == 10, s["ip_reassembled"]
assert s["ip_frag_tx"] == 30, s["ip_frag_tx"]
assert s["arp_reply_tx"] >= 1
print("telemetry /dtcp/stats:", {k: s[k] for k in ("icmp_echo_request", "ip_reassembled", "ip_frag_tx")})
' || fail "telemetry counters"

stop_pid "$DTCP_PID"
DTCP_PID=
[ "$STOP_RC" -eq 0 ] || fail "dtcp-services exited with $STOP_RC"
grep -q 'MISMATCH\|LEAK' "$log" && fail "final report does not balance"
grep 'frames received\|mbufs in use' "$log"
echo PASS
