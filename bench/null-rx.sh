#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Frames per second one dtcp worker drains from net_null, beside
# dpdk-testpmd --forward-mode=rxonly on the same device and the same core.
#
# The machine is shared and its speed drifts (the cost of a packet can double
# for a while), so the two programs take turns: each round runs dtcp, then
# testpmd, and the ratio is taken per round before taking the median. The
# first second of every run is warm-up and left out.
#
# Other programs on the machine take turns on the measured core too, and not
# always in the same share for both programs; so the share of each run's time
# its packet thread was on the CPU is measured as well, and the ratio is also
# given per CPU-second (frames per second divided by that share).
#
# Writes bench/results/null_rx.json. Exits non-zero when a run fails or
# dtcp's own check (every frame counted as a drop, no mbuf missing) fails.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rounds=3
seconds=5
build=build
testpmd=dpdk-testpmd
lcore=1

usage() {
	cat <<EOF
Usage: $0 [--rounds R] [--seconds D] [--build DIR] [--testpmd PATH]

Runs R rounds (default $rounds); each round runs dtcp-bench-null-rx, then
dpdk-testpmd --forward-mode=rxonly, each for D seconds (default $seconds, the
first being warm-up) with the packet loop on lcore $lcore and net_null as the
device. Prints per-round medians, overall median/min/max and the ratio
dtcp/testpmd, by wall-clock second and by CPU-second; writes
$root/bench/results/null_rx.json.

  --build DIR    meson build directory (default: build, relative to the repo
                 unless it exists relative to the current directory)
  --testpmd PATH dpdk-testpmd to run (default: dpdk-testpmd from PATH)
EOF
}

die() {
	echo "null-rx: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=${2:-}; shift 2 || die "--rounds needs a value" ;;
	--seconds) seconds=${2:-}; shift 2 || die "--seconds needs a value" ;;
	--build) build=${2:-}; shift 2 || die "--build needs a value" ;;
	--testpmd) testpmd=${2:-}; shift 2 || die "--testpmd needs a value" ;;
	--help|-h) usage; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
done
case "$rounds" in ''|*[!0-9]*) die "--rounds: expected 1..20" ;; esac
case "$seconds" in ''|*[!0-9]*) die "--seconds: expected 2..60" ;; esac
if [ "$rounds" -lt 1 ] || [ "$rounds" -gt 20 ]; then die "--rounds: expected 1..20"; fi
if [ "$seconds" -lt 2 ] || [ "$seconds" -gt 60 ]; then die "--seconds: expected 2..60"; fi
case "$build" in
/*) ;;
*) [ -d "$build" ] || build="$root/$build" ;;
esac
bench_bin="$build/bench/dtcp-bench-null-rx"
[ -x "$bench_bin" ] || die "$bench_bin not found: build first (ninja -C $build)"
command -v "$testpmd" >/dev/null || die "$testpmd not found"

# The same memory for both: no hugepages (there may be none, and a killed
# process would leave its hugepage files behind), 1 GiB of plain memory.
mem_args=(--no-huge -m 1024)
if [ "$(id -u)" -eq 0 ]; then
	run_dir=/var/run/dpdk
else
	run_dir=${XDG_RUNTIME_DIR:-/tmp}/dpdk
fi
prefix_base="nullrx-$$"
# This script and its helpers (grep, sleep, awk) stay on CPU 0, off the
# measured core; the programs measured get back the CPUs we were given.
launch=()
if [ "$lcore" -ne 0 ] && command -v taskset >/dev/null; then
	cpus=$(taskset -pc $$ | awk '{ print $NF }')
	taskset -pc 0 $$ >/dev/null && launch=(taskset -c "$cpus")
fi
# Each program measured in a session of its own: with scheduler autogroups,
# a session's CPU share is split among everything it runs, this script too.
command -v setsid >/dev/null && launch+=(setsid)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/null-rx.XXXXXX") || die "no temporary directory"
results_dir="$root/bench/results"
started=()   # PIDs this script started and has not reaped yet

# Stop one process we started: SIGTERM (not SIGINT, which background jobs
# of a script start with ignored), then SIGKILL after a bounded wait.
stop_pid() {
	local pid=$1 i

	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "null-rx: PID $pid ignored SIGTERM for 10 s: killing it" >&2
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

# Runtime files of our own prefixes only; hugepage files in case a run used some.
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
	for p in "$run_dir/$prefix_base"-*; do
		[ -e "$p" ] && remove_files "$(basename "$p")"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Median, min and max of the numbers on stdin, one per line, as
# "median min max"; whole numbers, or 3 decimals when $1 is given.
summary() {
	sort -g | awk -v frac="${1:+1}" '{ v[n++] = $1 }
		END {
			f = frac ? "%.3f" : "%.0f"
			if (n == 0) { printf f " " f " " f "\n", 0, 0, 0; exit }
			m = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
			printf f " " f " " f "\n", m, v[0], v[n - 1]
		}'
}

# Nanoseconds on the CPU of the thread of $1 named $2 (0 when not found).
thread_cpu() {
	local t name ns

	for t in /proc/"$1"/task/*; do
		read -r name <"$t/comm" 2>/dev/null || continue
		if [ "$name" = "$2" ]; then
			read -r ns _ <"$t/schedstat" && echo "$ns" && return
		fi
	done
	echo 0
}

# Run dtcp for D seconds; its per-second rates, warm-up dropped, go to $2.
run_dtcp() {
	local round=$1 out=$2 log="$tmp/dtcp-$1.log" prefix="$prefix_base-d$1"
	local pid rc i limit=$(((seconds + 30) * 5))

	"${launch[@]}" "$bench_bin" -l "$lcore" --vdev=net_null0 --no-pci "${mem_args[@]}" \
		--file-prefix="$prefix" -- --seconds "$seconds" \
		</dev/null >"$log" 2>&1 &
	pid=$!
	started+=("$pid")
	for ((i = 0; i < limit; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -0 "$pid" 2>/dev/null && stop_pid "$pid"
	wait "$pid"
	rc=$?
	forget_pid "$pid"
	remove_files "$prefix"
	awk -F'[= ]' '/^second=/ && $2 > 1 { print $4 }' "$log" >"$out"
	awk -F'[= ]' '/^second=/ && $2 > 1 { print $6 }' "$log" >"$out.cpu"
	if [ "$rc" -ne 0 ] || [ ! -s "$out" ]; then
		echo "null-rx: round $round: dtcp-bench-null-rx failed (exit $rc); its output:" >&2
		sed 's/^/  /' "$log" >&2
		return 1
	fi
}

# Run testpmd until it printed D seconds of rates; warm-up dropped, to $2.
run_testpmd() {
	local round=$1 out=$2 log="$tmp/testpmd-$1.log" prefix="$prefix_base-t$1"
	local pid rc i n limit=$(((seconds + 45) * 10))
	local cpu0='' cpu1='' wall0 wall1

	# Created here: the loop below may look before testpmd's shell opens it.
	: >"$log"
	# Same pool size, mempool cache and burst as dtcp's defaults. With
	# --stats-period it runs until signalled, whatever its stdin (without,
	# it would end at the end of stdin).
	"${launch[@]}" "$testpmd" -l "0,$lcore" --vdev=net_null0 --no-pci "${mem_args[@]}" \
		--file-prefix="$prefix" -- --forward-mode=rxonly --stats-period 1 \
		--burst=32 --total-num-mbufs=16383 --mbcache=256 \
		</dev/null >"$log" 2>&1 &
	pid=$!
	started+=("$pid")
	# One Rx-pps line at start (always 0: nothing to compare with), then one
	# per second. The CPU time its forwarding thread had is read when the
	# warm-up second ends and when the last second ends.
	for ((i = 0; i < limit; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		n=$(grep -c 'Rx-pps:' "$log" 2>/dev/null)
		n=${n:-0}
		if [ "$n" -ge 2 ] && [ -z "$cpu0" ]; then
			cpu0=$(thread_cpu "$pid" rte-worker-$lcore)
			wall0=$(date +%s%N)
		fi
		if [ "$n" -ge $((seconds + 1)) ]; then
			cpu1=$(thread_cpu "$pid" rte-worker-$lcore)
			wall1=$(date +%s%N)
			break
		fi
		sleep 0.1
	done
	stop_pid "$pid"
	wait "$pid"
	rc=$?
	forget_pid "$pid"
	remove_files "$prefix"
	awk '/Rx-pps:/ { if (++n > 2) print $2 }' "$log" | head -n $((seconds - 1)) >"$out"
	if [ -n "$cpu0" ] && [ -n "$cpu1" ]; then
		awk -v c="$((cpu1 - cpu0))" -v w="$((wall1 - wall0))" \
			'BEGIN { printf "%.3f\n", (w > 0 ? c / w : 0) }' >"$out.cpu"
	else
		: >"$out.cpu"
	fi
	# SIGTERM makes testpmd print its totals and then end itself by that signal.
	if { [ "$rc" -ne 0 ] && [ "$rc" -ne 143 ]; } || [ ! -s "$out" ]; then
		echo "null-rx: round $round: dpdk-testpmd failed (exit $rc); its output:" >&2
		tr -d '\033' <"$log" | sed 's/^/  /' >&2
		return 1
	fi
}

t0=$(date +%s.%N)
echo "null-rx: net_null RX drain on lcore $lcore, $rounds round(s) x ${seconds} s per program" \
	"(first second of each run dropped), ${mem_args[*]}"
echo "  pps: frames per wall-clock second, median of the run; cpu: share of the"
echo "  time the packet thread was on its CPU (other programs share it)"
printf '%-6s %12s %5s %12s %5s %7s %9s\n' round dtcp_pps cpu testpmd_pps cpu ratio ratio/cpu
for f in dtcp.all testpmd.all ratios ratios.cpu; do : >"$tmp/$f"; done
for ((r = 1; r <= rounds; r++)); do
	run_dtcp "$r" "$tmp/dtcp-$r" || exit 1
	run_testpmd "$r" "$tmp/testpmd-$r" || exit 1
	read -r dm _ _ < <(summary <"$tmp/dtcp-$r")
	read -r tm _ _ < <(summary <"$tmp/testpmd-$r")
	read -r dc _ _ < <(summary 3 <"$tmp/dtcp-$r.cpu")
	read -r tc _ _ < <(summary 3 <"$tmp/testpmd-$r.cpu")
	ratio=$(awk -v a="$dm" -v b="$tm" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
	# The same ratio per second of CPU: what is left once time-slicing is taken out.
	ratio_cpu=$(awk -v a="$dm" -v b="$tm" -v ca="$dc" -v cb="$tc" \
		'BEGIN { printf "%.3f", (b > 0 && ca > 0 && cb > 0 ? (a / ca) / (b / cb) : 0) }')
	printf '%-6s %12s %5s %12s %5s %7s %9s\n' "$r" "$dm" "$dc" "$tm" "$tc" "$ratio" "$ratio_cpu"
	cat "$tmp/dtcp-$r" >>"$tmp/dtcp.all"
	cat "$tmp/testpmd-$r" >>"$tmp/testpmd.all"
	echo "$ratio" >>"$tmp/ratios"
	echo "$ratio_cpu" >>"$tmp/ratios.cpu"
done

read -r dmed dmin dmax < <(summary <"$tmp/dtcp.all")
read -r tmed tmin tmax < <(summary <"$tmp/testpmd.all")
read -r ratio rmin rmax < <(summary 3 <"$tmp/ratios")
read -r ratio_cpu _ _ < <(summary 3 <"$tmp/ratios.cpu")
ratio_of_medians=$(awk -v a="$dmed" -v b="$tmed" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
samples=$(wc -l <"$tmp/dtcp.all")
elapsed=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
verdict=$(awk -v r="$ratio" -v c="$ratio_cpu" 'BEGIN {
	printf "%s by frames per second, %s per CPU-second",
		(r >= 0.8 ? "met" : "NOT met"), (c >= 0.8 ? "met" : "NOT met") }')

echo
printf '%-8s %12s %12s %12s   (%s per-second samples each)\n' pps median min max "$samples"
printf '%-8s %12s %12s %12s\n' dtcp "$dmed" "$dmin" "$dmax"
printf '%-8s %12s %12s %12s\n' testpmd "$tmed" "$tmin" "$tmax"
echo
echo "ratio dtcp/testpmd: $ratio, median of the per-round ratios (min $rmin, max $rmax);"
echo "  $ratio_of_medians, ratio of the medians; $ratio_cpu per CPU-second (median of rounds)"
echo "aim >= 0.8: $verdict"
echo "elapsed ${elapsed} s"

mkdir -p "$results_dir"
cat >"$results_dir/null_rx.json" <<EOF
{
  "dtcp_pps": $dmed,
  "testpmd_pps": $tmed,
  "ratio": $ratio,
  "ratio_min": $rmin,
  "ratio_max": $rmax,
  "ratio_of_medians": $ratio_of_medians,
  "ratio_per_cpu_second": $ratio_cpu,
  "dtcp_pps_min": $dmin,
  "dtcp_pps_max": $dmax,
  "testpmd_pps_min": $tmin,
  "testpmd_pps_max": $tmax,
  "rounds": $rounds,
  "seconds": $seconds,
  "samples": $samples
}
EOF
echo "RESULT null_rx dtcp_pps=$dmed testpmd_pps=$tmed ratio=$ratio" \
	"ratio_per_cpu_second=$ratio_cpu rounds=$rounds"
echo "null-rx: wrote $results_dir/null_rx.json"
