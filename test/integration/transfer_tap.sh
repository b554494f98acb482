#!/usr/bin/env bash
# 64 MiB each way between the kernel and dtcp's echo service over net_tap
# inside a private namespace, with 2 % of the frames lost in each direction
# by nftables on the kernel side. The client (echo_stream, lib-netns.sh)
# sends a seeded random pattern, half-closes and reads the echo to EOF: the
# same count and SHA-256 must come back within a time limit, and both sides
# must have retransmitted. Then dtcp-services
# stops on SIGINT: the connection must have closed by FIN both ways, the
# final report balance with no mbuf leaked. Throughput, the loss counts and
# both sides' retransmission counters are printed, and the offloads dtcp used.
# DTCP_EXTRA_ARGS adds dtcp-services options (e.g. --set port.offloads=off).
set -euo pipefail
. "$DTCP_SCRIPTS/lib-netns.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }
command -v nft >/dev/null || { echo "needs nft (nftables)"; exit 77; }

LOSS=2          # percent of frames lost, each way
MIB_EACH_WAY=64
LIMIT=150       # seconds for the transfer, connect to EOF

tap_session "dtcp-t-xfer-$$" "dtx$$"
fail() { echo "FAIL: $*"; echo "--- dtcp-services log"; cat "$log"; exit 1; }

ip netns add "$ns"
# services.ini: a pool large enough for echo's backlog bound (1 MiB).
read -r -a extra <<<"${DTCP_EXTRA_ARGS:-}"
start_dtcp_tap "$ns" "$iface" "$log" --config "$DTCP_SCRIPTS/../config/services.ini" \
	--ip 198.19.11.2/24 --gateway 198.19.11.1 "${extra[@]}"
ip netns exec "$ns" ip addr add 198.19.11.1/24 dev "$iface"
# Linux TCP hands a device packets of up to 64 KiB and cuts them into frames
# after the egress hook: one segment per packet, so that the rule below drops
# 2 % of frames and not 2 % of bursts of 40. Set before the connection opens.
ip netns exec "$ns" ip link set dev "$iface" gso_max_segs 1
ip netns exec "$ns" ip link set "$iface" up
wait_for grep -q 'listening on every address' "$log" || fail "dtcp-services did not start"

# On the tap device, ingress is what dtcp sent and egress what the kernel
# sends to dtcp. The first rule of each chain counts every frame, the second
# loses some and counts them. A drop at egress is reported to the sending
# socket (NET_XMIT_DROP), and Linux TCP just sends the segment again later:
# nothing would be lost. So egress frames go instead to a tap nobody reads,
# which throws them away with the sender none the wiser, as a wire would.
sink="dtxs$$"
ip netns exec "$ns" ip tuntap add dev "$sink" mode tap
ip netns exec "$ns" ip link set "$sink" up
ip netns exec "$ns" nft -f - <<NFT || fail "nftables: could not add the loss rules"
table netdev dtcp_loss {
	chain from_dtcp {
		type filter hook ingress device "$iface" priority 0;
		counter
		numgen random mod 100 < $LOSS counter drop
	}
	chain to_dtcp {
		type filter hook egress device "$iface" priority 0;
		counter
		numgen random mod 100 < $LOSS counter fwd to "$sink"
	}
}
NFT
echo "nftables: $LOSS % of frames lost each way on $iface"

echo_stream "$ns" 198.19.11.2 "$MIB_EACH_WAY" "$LIMIT" "transfer over a lossy link" lossy

# The kernel's own recovery, counted for this namespace only.
if command -v nstat >/dev/null; then
	ip netns exec "$ns" nstat -asz TcpRetransSegs TcpExtTCPTimeouts TcpExtTCPRenoRecovery \
		TcpExtTCPLossProbes TcpExtTCPRenoReorder TcpExtTCPSpuriousRTOs |
		awk '!/^#/ { printf "%s%s %s", (n++ ? ", " : "kernel TCP (nstat): "), $1, $2 }
		     END { if (n) print "" }'
fi

ip netns exec "$ns" nft -j list table netdev dtcp_loss | python3 -c '
import json, sys
rules = [o["rule"] for o in json.load(sys.stdin)["nftables"] if "rule" in o]
ok = True
for chain, what in (("from_dtcp", "dtcp -> kernel"), ("to_dtcp", "kernel -> dtcp")):
    seen = dropped = size = None
    for r in (r for r in rules if r["chain"] == chain):
        c = next(e["counter"] for e in r["expr"] if "counter" in e)
        if any("drop" in e or "fwd" in e for e in r["expr"]):
            dropped = c["packets"]
        else:
            seen, size = c["packets"], c["bytes"]
    avg = size / seen if seen else 0
    print(f"nftables {what}: {seen} frames of {avg:.0f} bytes on average, {dropped} lost "
          f"({100 * dropped / max(seen, 1):.2f} %)")
    if not dropped:
        print(f"  no frame lost {what}"); ok = False
    # Each counted packet must be one frame (MTU 1500 + 14 bytes of Ethernet).
    if avg > 1514:
        print(f"  packets larger than a frame {what}: the drops are not per frame"); ok = False
sys.exit(0 if ok else 1)
' || fail "nftables counters"
ip netns exec "$ns" nft delete table netdev dtcp_loss

# dtcp ends the connection after our FIN once every byte is echoed; its own
# FIN or our last ACK may have been lost. Wait (bounded) for the orderly
# close, so that nothing is in flight when it stops.
closed=
for i in $(seq 20); do
	n=$(echo /dtcp/stats | ip netns exec "$ns" dpdk-telemetry.py -f "$ns" 2>/dev/null |
		python3 -c '
import json, sys
text = sys.stdin.read()
s = json.JSONDecoder().raw_decode(text[text.find("{\"/dtcp/stats\""):])[0]["/dtcp/stats"]
print(s.get("tcp_closed_orderly", 0))' 2>/dev/null) || n=0
	[ "${n:-0}" -ge 1 ] && { closed=1; break; }
	sleep 0.5
done
[ -n "$closed" ] || fail "dtcp's connection not closed by FIN both ways 10 s after EOF"
echo /dtcp/offloads | ip netns exec "$ns" dpdk-telemetry.py -f "$ns" 2>/dev/null | python3 -c '
import json, sys
text = sys.stdin.read()
o = json.JSONDecoder().raw_decode(text[text.find("{\"/dtcp/offloads\""):])[0]["/dtcp/offloads"]
print("dtcp offloads:", ", ".join(f"{k} {v}" for k, v in o.items()))' || true

# SIGINT, as from a terminal: the exit path runs the final report.
stop_on_sigint dtcp-services

python3 - "$log" "$MIB_EACH_WAY" <<'PY' || fail "final report"
import re, sys
text = open(sys.argv[1]).read()
total = int(sys.argv[2]) << 20
svc = {}
for m in re.finditer(r"^dtcp-services: (\w+) \(port \d+\): (.*)$", text, re.M):
    svc[m.group(1)] = {k: int(v) for k, _, v in
                       (part.rpartition(" ") for part in m.group(2).split(", "))}
e = svc.get("echo")
assert e, "no counters for echo"
assert e["accepted"] == 1 and e["refused"] == 0, e
assert e["aborted"] == 0 and e["failed"] == 0 and e["open at exit"] == 0, e
assert e["bytes received"] == total and e["bytes sent"] == total, e
assert "MISMATCH" not in text, "frames received do not balance"
m = re.search(r"^dtcp-services: mbufs in use after the port closed: (\d+)", text, re.M)
assert m and m.group(1) == "0", m and m.group(0)
# The final counters: "  name  value  description", zeros left out.
final = text[text.index("dtcp-services: final counters"):]
ctr = {k: int(v) for k, v in re.findall(r"^  (\w+) +(\d+)  ", final, re.M)}
assert ctr.get("tcp_closed_orderly", 0) == 1, "connection not closed by FIN both ways"
for k in ("tcp_reset_rx", "tcp_aborted", "tcp_timeout_data"):
    assert ctr.get(k, 0) == 0, f"{k} {ctr[k]}"
# Frames dtcp sent were lost: it must have sent some again.
assert ctr.get("tcp_rexmit", 0) + ctr.get("tcp_fast_retransmit", 0) > 0, "dtcp retransmitted nothing"
print("final report: echo took and sent", total, "bytes, frames balance, no mbuf in use")
print("dtcp:", ", ".join(f"{k} {ctr.get(k, 0)}" for k in
      ("tcp_rexmit", "tcp_rto", "tcp_fast_retransmit", "tcp_dupack_rx", "tcp_ooo_queued",
       "tcp_ooo_filled", "tcp_dup_data", "tcp_tx_data", "tcp_tso_tx", "tcp_tso_segs")))
PY
grep '^dtcp-services: echo \|^dtcp-services: frames received\|mbufs in use' "$log"
echo PASS
