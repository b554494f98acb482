#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Single-connection goodput: dtcp to dtcp against Linux to Linux, at 0 % and
# at LOSS % (default 1) of frames lost each way, CUBIC on both sides, in one
# invocation.
#
# dtcp: bench/goodput.c, one process, two workers joined by a net_ring pair,
# the sink on core 0 and the source on core 1 (EAL -l 0,1), with a send
# buffer and receive window of 4 MiB (Linux's tcp_wmem ceiling; dtcp does
# not autotune); losses from dtcp's fault stage, [fault] tx_loss on both
# ends (the data one way, the ACKs the other).
#
# Linux: bench/kstream.c, the receiver in one network namespace on core 0,
# the sender in another on core 1 (taskset), joined by a veth pair; losses
# from nftables on the receiver's end, a netdev table with an ingress chain
# (the data) and an egress chain (the ACKs), each `numgen random mod 100 <
# LOSS drop` (the kernel has no netem).
#
# A veth hands the peer whole GSO packets of up to 64 KiB, so a rule on it
# drops a packet of up to 45 frames at once: 1 % of those is not 1 % of
# frames. For the lossy runs the sender's veth therefore has TSO off, and
# the kernel cuts its packets into frames before the wire (as a NIC's TSO
# would); the receiver's GRO stays off, so the rule sees every frame, as
# dtcp's fault stage does. The 0 % runs leave the veth as it comes (GSO
# packets end to end, Linux at its fastest): that is the ratio's baseline.
# Each round also runs Linux at 0 % with TSO off, shown for reference.
#
# dtcp's workers poll: when another program takes turns on core 0 or 1,
# the other worker spins until its peer is back, and goodput falls by more
# than the share lost. The share of each second its threads had their CPUs
# is printed beside its figures; trust them when it is near 1.
#
# The machine is shared and its speed drifts, so the runs take turns: each
# round is dtcp 0 %, Linux 0 %, Linux 0 % (TSO off), dtcp LOSS %, Linux
# LOSS %; ratios are taken per round, then their median. The first second of
# every run is warm-up and left out.
#
# Writes bench/results/goodput.json. Exits non-zero when a run fails, or
# when dtcp's transfer lost or corrupted a byte, left a frame unaccounted
# for or leaked an mbuf (Linux's receiver checks the same pattern).

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rounds=3
seconds=5
loss=1
build=build
huge=0

usage() {
	cat <<EOF
Usage: $0 [--rounds R] [--seconds D] [--loss P] [--build DIR] [--huge]

Runs R rounds (3..20, default $rounds) of: dtcp 0 %, Linux 0 %, Linux 0 % with
TSO off (reference), dtcp P %, Linux P % (P default $loss, 0.01..100, at most two
decimals), each D seconds (2..60, default $seconds; the first is warm-up).
Prints per-round medians, overall median/min/max of the per-second goodput,
and the ratios dtcp/Linux at 0 % and at P %; writes
$root/bench/results/goodput.json. Needs root (network namespaces).

  --build DIR  meson build directory (default: build, relative to the repo
               unless it exists relative to the current directory)
  --huge       let dtcp use hugepages when some are free (default: --no-huge
               -m 1024, like null-rx.sh)
EOF
}

die() {
	echo "goodput: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=${2:-}; shift 2 || die "--rounds needs a value" ;;
	--seconds) seconds=${2:-}; shift 2 || die "--seconds needs a value" ;;
	--loss) loss=${2:-}; shift 2 || die "--loss needs a value" ;;
	--build) build=${2:-}; shift 2 || die "--build needs a value" ;;
	--huge) huge=1; shift ;;
	--help|-h) usage; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
done
case "$rounds" in ''|*[!0-9]*) die "--rounds: expected 3..20" ;; esac
case "$seconds" in ''|*[!0-9]*) die "--seconds: expected 2..60" ;; esac
if [ "$rounds" -lt 3 ] || [ "$rounds" -gt 20 ]; then die "--rounds: expected 3..20"; fi
if [ "$seconds" -lt 2 ] || [ "$seconds" -gt 60 ]; then die "--seconds: expected 2..60"; fi
# The loss in hundredths of a percent, for nftables' integer arithmetic.
if [[ "$loss" =~ ^([0-9]{1,3})(\.([0-9]{1,2}))?$ ]]; then
	frac=${BASH_REMATCH[3]}
	loss_c=$((10#${BASH_REMATCH[1]} * 100 + 10#${frac:-0} * (${#frac} == 1 ? 10 : 1)))
else
	die "--loss: expected 0.01..100 with at most two decimals"
fi
if [ "$loss_c" -lt 1 ] || [ "$loss_c" -gt 10000 ]; then die "--loss: expected 0.01..100"; fi
loss=$(awk -v c="$loss_c" 'BEGIN { printf "%g", c / 100 }')    # "01.50" as 1.5
if [ $((loss_c % 100)) -eq 0 ]; then
	nft_rule="numgen random mod 100 < $((loss_c / 100))"
else
	nft_rule="numgen random mod 10000 < $loss_c"
fi
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces, nftables)"
case "$build" in
/*) ;;
*) [ -d "$build" ] || build="$root/$build" ;;
esac
bench_bin="$build/bench/dtcp-bench-goodput"
kstream="$build/bench/dtcp-bench-kstream"
for b in "$bench_bin" "$kstream"; do
	[ -x "$b" ] || die "$b not found: build first (ninja -C $build)"
done
missing=0
for c in ip nft ethtool taskset setsid; do
	command -v "$c" >/dev/null || missing=1
done
if [ "$missing" -eq 1 ]; then
	echo "goodput: installing what is missing (scripts/setup-deps.sh)"
	DTCP_HUGEPAGES=0 "$root/scripts/setup-deps.sh" || die "scripts/setup-deps.sh failed"
	for c in ip nft ethtool taskset setsid; do
		command -v "$c" >/dev/null || die "$c still missing"
	done
fi
[ "$(nproc)" -ge 2 ] || die "needs two CPUs (0 and 1)"

if [ "$huge" -eq 1 ]; then
	mem_args=(--huge-unlink)
else
	mem_args=(--no-huge -m 1024)
fi
run_dir=/var/run/dpdk
tag=$$
prefix_base="goodput-$tag"
ns_snd="gp-snd-$tag"
ns_rcv="gp-rcv-$tag"
veth_snd="gps$tag"
veth_rcv="gpr$tag"
addr_rcv=198.18.1.1
addr_snd=198.18.1.2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/goodput.XXXXXX") || die "no temporary directory"
results_dir="$root/bench/results"
started=()   # PIDs this script started and has not reaped yet
netns_made=0

# Stop one process we started: SIGTERM, then SIGKILL after a bounded wait.
stop_pid() {
	local pid=$1 i

	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "goodput: PID $pid ignored SIGTERM for 10 s: killing it" >&2
		kill -KILL "$pid" 2>/dev/null
	fi
}

forget_pid() {
	local keep=() p

	for p in "${started[@]}"; do
		[ "$p" != "$1" ] && keep+=("$p")
	done
	started=("${keep[@]}")
}

# Wait at most $2 seconds for PID $1 to end, then stop it; its status in wait_rc.
wait_bounded() {
	local pid=$1 limit=$(($2 * 5)) i

	for ((i = 0; i < limit; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "goodput: PID $pid still running after $2 s: stopping it" >&2
		stop_pid "$pid"
	fi
	wait "$pid"
	wait_rc=$?
	forget_pid "$pid"
}

# EAL's runtime files of one of our prefixes; hugepage files in case a run used some.
remove_files() {
	local prefix=$1 mnt fstype

	rm -rf "${run_dir:?}/$prefix"
	while read -r _ mnt fstype _; do
		[ "$fstype" = hugetlbfs ] && rm -f "$mnt/${prefix}map_"*
	done </proc/mounts
}

cleanup() {
	local p

	for p in "${started[@]}"; do
		stop_pid "$p"
		wait "$p" 2>/dev/null
	done
	started=()
	if [ "$netns_made" -eq 1 ]; then
		# The veth pair goes with its namespaces.
		ip netns del "$ns_snd" 2>/dev/null
		ip netns del "$ns_rcv" 2>/dev/null
	fi
	for p in "$run_dir/$prefix_base"-*; do
		[ -e "$p" ] && remove_files "$(basename "$p")"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Median, min and max of the numbers on stdin, one per line, as "median min
# max", with $1 decimals (default 1).
summary() {
	sort -g | awk -v d="${1:-1}" '{ v[n++] = $1 }
		END {
			f = "%." d "f"
			if (n == 0) { printf f " " f " " f "\n", 0, 0, 0; exit }
			m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf f " " f " " f "\n", m, v[0], v[n - 1]
		}'
}

# Value of NAME=... on the RESULT line of file $2 starting with $3.
result_field() {
	grep "^RESULT $3" "$2" | tr ' ' '\n' | sed -n "s/^$1=//p" | head -n 1
}

# The two namespaces and the veth pair between them.
make_netns() {
	ip netns add "$ns_snd" || return 1
	netns_made=1
	ip netns add "$ns_rcv" || return 1
	ip link add "$veth_snd" netns "$ns_snd" type veth peer name "$veth_rcv" netns "$ns_rcv" ||
		return 1
	ip -n "$ns_snd" addr add "$addr_snd/24" dev "$veth_snd" &&
	ip -n "$ns_rcv" addr add "$addr_rcv/24" dev "$veth_rcv" &&
	ip -n "$ns_snd" link set lo up && ip -n "$ns_rcv" link set lo up &&
	ip -n "$ns_snd" link set "$veth_snd" up && ip -n "$ns_rcv" link set "$veth_rcv" up &&
	# Never GRO on the receiver: the loss rule must see frames, not their sums.
	ip netns exec "$ns_rcv" ethtool -K "$veth_rcv" gro off
}

# full: GSO packets of up to 64 KiB cross the veth whole; frames: the sender's
# kernel cuts them into frames before the wire (TSO off).
set_offloads() {
	ip netns exec "$ns_snd" ethtool -K "$veth_snd" tso "$([ "$1" = full ] && echo on || echo off)"
}

loss_on() {
	ip netns exec "$ns_rcv" nft -f - <<NFT
table netdev goodput_loss {
	chain data_in {
		type filter hook ingress device "$veth_rcv" priority 0;
		counter
		$nft_rule counter drop
	}
	chain acks_out {
		type filter hook egress device "$veth_rcv" priority 0;
		counter
		$nft_rule counter drop
	}
}
NFT
}

# Frames seen and dropped by the loss rules, as "data_seen data_dropped acks_seen acks_dropped".
loss_counts() {
	ip netns exec "$ns_rcv" nft list table netdev goodput_loss |
		awk '/counter packets/ { for (i = 1; i <= NF; i++) if ($i == "packets") printf "%s ", $(i + 1) }
		     END { print "" }'
}

loss_off() {
	ip netns exec "$ns_rcv" nft delete table netdev goodput_loss 2>/dev/null
	return 0
}

# dtcp for D seconds at loss $2 %; per-second goodput, warm-up dropped, to $3.
run_dtcp() {
	local round=$1 pct=$2 out=$3 log="$tmp/dtcp-$1-$2.log" prefix="$prefix_base-d$1-${2/./_}"
	local pid

	# Its own session: with scheduler autogroups, a session's CPU share is
	# split among everything it runs.
	setsid "$bench_bin" -l 0,1 --no-pci "${mem_args[@]}" --file-prefix="$prefix" \
		--log-level=lib.*:notice -- --seconds "$seconds" --loss "$pct" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	started+=("$pid")
	wait_bounded "$pid" $((seconds + 60))
	remove_files "$prefix"
	awk -F'[= ]' '/^second=/ && $2 > 1 { print $4 }' "$log" >"$out"
	if [ "$wait_rc" -ne 0 ] || [ ! -s "$out" ]; then
		if [ "$wait_rc" -eq 3 ]; then
			echo "goodput: round $round: dtcp at $pct %: bytes lost or corrupted, a frame" \
				"unaccounted for or an mbuf leaked (exit 3); its output:" >&2
		else
			echo "goodput: round $round: dtcp at $pct % failed (exit $wait_rc); its output:" >&2
		fi
		sed 's/^/  /' "$log" >&2
		return 1
	fi
	grep -q '^RESULT .* data_ok=1 accounting_ok=1 mbufs_ok=1' "$log" || {
		echo "goodput: round $round: dtcp at $pct %: no clean RESULT line" >&2
		sed 's/^/  /' "$log" >&2
		return 1
	}
	echo "$(result_field rexmit "$log" dtcp_) $(result_field rto "$log" dtcp_)" >"$out.rexmit"
	# The less of the two threads' shares of their CPUs.
	awk -v a="$(result_field cpu_sink "$log" dtcp_)" -v b="$(result_field cpu_source "$log" dtcp_)" \
		'BEGIN { printf "%.2f\n", (a < b ? a : b) }' >"$out.cpu"
}

# Linux for D seconds at loss $2 % with offloads $4; goodput to $3.
run_linux() {
	local round=$1 pct=$2 out=$3 mode=$4 name="linux-$1-$2-$4"
	local rlog="$tmp/$name.recv.log" slog="$tmp/$name.send.log" rpid spid rrc src counts

	set_offloads "$mode" || { echo "goodput: ethtool could not set TSO" >&2; return 1; }
	if [ "$pct" != 0 ]; then
		loss_on || { echo "goodput: nftables: could not add the loss rules" >&2; return 1; }
	fi
	ip netns exec "$ns_rcv" taskset -c 0 "$kstream" --listen "$addr_rcv" --seconds "$seconds" \
		</dev/null >"$rlog" 2>&1 &
	rpid=$!
	started+=("$rpid")
	ip netns exec "$ns_snd" taskset -c 1 "$kstream" --connect "$addr_rcv" --seconds "$seconds" \
		</dev/null >"$slog" 2>&1 &
	spid=$!
	started+=("$spid")
	wait_bounded "$spid" $((seconds + 60))
	src=$wait_rc
	wait_bounded "$rpid" 15
	rrc=$wait_rc
	if [ "$pct" != 0 ]; then
		counts=$(loss_counts)
		loss_off
	fi
	awk -F'[= ]' '/^second=/ && $2 > 1 { print $4 }' "$rlog" >"$out"
	if [ "$src" -ne 0 ] || [ "$rrc" -ne 0 ] || [ ! -s "$out" ]; then
		echo "goodput: round $round: Linux at $pct % ($mode) failed (sender exit $src," \
			"receiver exit $rrc); their output:" >&2
		sed 's/^/  send: /' "$slog" >&2
		sed 's/^/  recv: /' "$rlog" >&2
		return 1
	fi
	result_field retrans "$slog" linux_sender >"$out.rexmit"
	if [ "$pct" != 0 ]; then
		# What the rules really did: frames seen and lost, each way.
		read -r ds dd as ad <<<"$counts"
		awk -v ds="${ds:-0}" -v dd="${dd:-0}" -v as="${as:-0}" -v ad="${ad:-0}" 'BEGIN {
			printf "%.2f %.2f\n", (ds > 0 ? 100 * dd / ds : 0), (as > 0 ? 100 * ad / as : 0) }' \
			>"$out.lost"
	fi
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }'
}

make_netns || die "could not make the namespaces and the veth pair"

t0=$(date +%s.%N)
read -r load0 _ </proc/loadavg
echo "goodput: one TCP connection, cubic, $rounds round(s) x ${seconds} s per run (first second" \
	"of each dropped); loss 0 % and $loss % each way"
echo "  dtcp: two workers over a net_ring pair, cores 0 (sink) and 1 (source), ${mem_args[*]}"
echo "  Linux: veth between two namespaces, receiver on core 0, sender on core 1;" \
	"'$nft_rule drop' both ways when lossy"
echo "  Mbit/s of goodput, median of the run's seconds; cpu: the share of its time the less"
echo "  lucky of dtcp's two polling threads was on its CPU; rexmit: segments the sender"
echo "  retransmitted (dtcp: all / on a timeout); load average at the start: $load0"
printf '%-5s %9s %4s %9s %10s %7s | %9s %4s %9s %7s | %13s %8s\n' round dtcp_0 cpu linux_0 \
	linux_0_tso0 ratio_0 "dtcp_$loss" cpu "linux_$loss" "ratio_$loss" "rexmit_d/rto" rexmit_l
for f in d0 l0 lf0 d1 l1 r0 r1 cpu; do : >"$tmp/$f.all"; done
rows=()
declare -A m    # this round's median of each run
for ((r = 1; r <= rounds; r++)); do
	run_dtcp "$r" 0 "$tmp/d0-$r" || exit 1
	run_linux "$r" 0 "$tmp/l0-$r" full || exit 1
	run_linux "$r" 0 "$tmp/lf0-$r" frames || exit 1
	run_dtcp "$r" "$loss" "$tmp/d1-$r" || exit 1
	run_linux "$r" "$loss" "$tmp/l1-$r" frames || exit 1
	for f in d0 l0 lf0 d1 l1; do
		read -r "m[$f]" _ _ < <(summary <"$tmp/$f-$r")
		cat "$tmp/$f-$r" >>"$tmp/$f.all"
	done
	r0=$(ratio "${m[d0]}" "${m[l0]}")
	r1=$(ratio "${m[d1]}" "${m[l1]}")
	echo "$r0" >>"$tmp/r0.all"
	echo "$r1" >>"$tmp/r1.all"
	read -r d1_rexmit d1_rto <"$tmp/d1-$r.rexmit"
	l1_retrans=$(cat "$tmp/l1-$r.rexmit")
	read -r l1_lost_data l1_lost_acks <"$tmp/l1-$r.lost"
	read -r d0_cpu <"$tmp/d0-$r.cpu"
	read -r d1_cpu <"$tmp/d1-$r.cpu"
	echo "$d0_cpu" >>"$tmp/cpu.all"
	echo "$d1_cpu" >>"$tmp/cpu.all"
	printf '%-5s %9s %4s %9s %10s %7s | %9s %4s %9s %7s | %13s %8s\n' "$r" "${m[d0]}" \
		"$d0_cpu" "${m[l0]}" "${m[lf0]}" "$r0" "${m[d1]}" "$d1_cpu" "${m[l1]}" "$r1" \
		"$d1_rexmit/$d1_rto" "$l1_retrans"
	rows+=("    { \"round\": $r, \"dtcp_0_mbps\": ${m[d0]}, \"linux_0_mbps\": ${m[l0]}, \"linux_0_tso_off_mbps\": ${m[lf0]}, \"dtcp_1_mbps\": ${m[d1]}, \"linux_1_mbps\": ${m[l1]}, \"ratio_0\": $r0, \"ratio_1\": $r1, \"dtcp_0_cpu\": $d0_cpu, \"dtcp_1_cpu\": $d1_cpu, \"dtcp_1_rexmit\": $d1_rexmit, \"dtcp_1_rto\": $d1_rto, \"linux_1_retrans\": $l1_retrans, \"linux_1_lost_data_pct\": $l1_lost_data, \"linux_1_lost_acks_pct\": $l1_lost_acks }")
done

read -r d0 d0min d0max < <(summary <"$tmp/d0.all")
read -r l0 l0min l0max < <(summary <"$tmp/l0.all")
read -r lf0 lf0min lf0max < <(summary <"$tmp/lf0.all")
read -r d1 d1min d1max < <(summary <"$tmp/d1.all")
read -r l1 l1min l1max < <(summary <"$tmp/l1.all")
read -r ratio_0 r0min r0max < <(summary 3 <"$tmp/r0.all")
read -r ratio_1 r1min r1max < <(summary 3 <"$tmp/r1.all")
samples=$(wc -l <"$tmp/d0.all")
read -r cpu_med cpu_min _ < <(summary 2 <"$tmp/cpu.all")
read -r load1 _ </proc/loadavg
elapsed=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
verdict() {
	awk -v r="$1" 'BEGIN { print (r >= 1 ? "met" : "NOT met") }'
}

echo
printf '%-22s %10s %10s %10s   (per-second samples, all rounds)\n' "Mbit/s" median min max
printf '%-22s %10s %10s %10s\n' "dtcp 0 %" "$d0" "$d0min" "$d0max"
printf '%-22s %10s %10s %10s\n' "Linux 0 %" "$l0" "$l0min" "$l0max"
printf '%-22s %10s %10s %10s\n' "Linux 0 %, TSO off" "$lf0" "$lf0min" "$lf0max"
printf '%-22s %10s %10s %10s\n' "dtcp $loss %" "$d1" "$d1min" "$d1max"
printf '%-22s %10s %10s %10s\n' "Linux $loss %, TSO off" "$l1" "$l1min" "$l1max"
echo
echo "ratio dtcp/Linux at 0 %: $ratio_0 (median of rounds; min $r0min, max $r0max)," \
	"aim >= 1: $(verdict "$ratio_0")"
echo "ratio dtcp/Linux at $loss %: $ratio_1 (median of rounds; min $r1min, max $r1max)," \
	"aim >= 1: $(verdict "$ratio_1")"
echo "for reference, dtcp against Linux 0 % with TSO off: $(ratio "$d0" "$lf0") (ratio of medians)"
if awk -v c="$cpu_min" 'BEGIN { exit !(c < 0.9) }'; then
	echo "note: dtcp's polling threads had as little as $cpu_min of their CPUs (median $cpu_med):"
	echo "  other programs took turns on cores 0 and 1, and a polling pair stalls whenever"
	echo "  either side is off its CPU; its figures are low by more than that share"
fi
echo "load average: $load0 at the start, $load1 at the end; elapsed ${elapsed} s"

mkdir -p "$results_dir"
{
	cat <<EOF
{
  "dtcp_0_mbps": $d0,
  "linux_0_mbps": $l0,
  "dtcp_1_mbps": $d1,
  "linux_1_mbps": $l1,
  "ratio_0": $ratio_0,
  "ratio_1": $ratio_1,
  "rounds": $rounds,
  "seconds": $seconds,
  "loss_pct": $loss,
  "samples_per_program": $samples,
  "dtcp_0_mbps_min": $d0min,
  "dtcp_0_mbps_max": $d0max,
  "linux_0_mbps_min": $l0min,
  "linux_0_mbps_max": $l0max,
  "dtcp_1_mbps_min": $d1min,
  "dtcp_1_mbps_max": $d1max,
  "linux_1_mbps_min": $l1min,
  "linux_1_mbps_max": $l1max,
  "linux_0_tso_off_mbps": $lf0,
  "dtcp_cpu_share_median": $cpu_med,
  "dtcp_cpu_share_min": $cpu_min,
  "load_average_start": $load0,
  "load_average_end": $load1,
  "ratio_0_min": $r0min,
  "ratio_0_max": $r0max,
  "ratio_1_min": $r1min,
  "ratio_1_max": $r1max,
  "linux_0_offloads": "veth defaults (GSO packets end to end)",
  "linux_1_offloads": "sender TSO off, receiver GRO off (the rule sees frames)",
  "per_round": [
EOF
	for ((i = 0; i < ${#rows[@]}; i++)); do
		if [ "$i" -lt $((${#rows[@]} - 1)) ]; then echo "${rows[$i]},"; else echo "${rows[$i]}"; fi
	done
	echo "  ]"
	echo "}"
} >"$results_dir/goodput.json"
echo "RESULT goodput dtcp_0_mbps=$d0 linux_0_mbps=$l0 dtcp_1_mbps=$d1 linux_1_mbps=$l1" \
	"ratio_0=$ratio_0 ratio_1=$ratio_1 rounds=$rounds"
echo "goodput: wrote $results_dir/goodput.json"
