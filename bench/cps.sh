#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# The connections-per-second benchmark (issue 6): dtcp against the Linux
# kernel on the same two cores, in one invocation.
#
# dtcp: bench/cps_dtcp.c (dtcp-bench-cps), one process, the server worker on
# core 0 and the client on core 1, joined by a net_ring pair; bulk is
# dtcp-bench-goodput's (bench/goodput.c) at 0 % loss.
# Linux: bench/cps_linux.c (dtcp-bench-cps-linux) over loopback, the client
# pinned to core 0 and the server to core 1, inside a network namespace made
# for each run (so the sysctls set there, a wide ip_local_port_range and
# room for 4 M TIME-WAIT sockets, never touch the host) and deleted after it.
#
# Both sides do the same exchange (handshake, a GET, a 64-byte response
# with Content-Length, the server's FIN after its response, the client's
# FIN) and print the same lines: "sample <mode> <second> <value>" and one
# "result <mode> k=v ...". The machine's speed drifts, so runs take turns,
# dtcp then Linux, for each of R rounds; a run's figure is the median of its
# seconds, the figure reported the median of the runs, with min and max, and
# how many runs held their rate (at least 80 % of their seconds within 10 %
# of the run's median). Then the memory per connection at --mem-conns
# established idle connections (once each), and dtcp's instructions per
# connection under callgrind: bench/count.sh, dtcp-bench-cps --mode count
# (exactly 2000 connections, both workers driven in turn by one thread on a
# clock of the program's own, only those connections instrumented: the same
# count every run), from a second build directory configured with
# -Dnative=false (valgrind 3.19 does not decode AVX-512).
#
# Prints a table with the ratios dtcp/Linux; writes bench/results/latest.json
# (flat dotted keys: dtcp.cps, linux.cps, ...) and bench/results/latest.png.
# Exits non-zero when a run fails.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
rounds=3
duration=10
mem_conns=1000000
do_mem=1
do_callgrind=1
build=build
cg_build=build-callgrind
results_dir="$root/bench/results"

usage() {
	cat <<EOF
Usage: $0 [--rounds N] [--duration S] [--short] [--no-mem] [--mem-conns N]
          [--no-callgrind] [--build DIR] [--callgrind-build DIR] [--results DIR]

  --rounds N           interleaved rounds of each figure, 1..20 (default $rounds)
  --duration S         sampled seconds per run, 2..600 (default $duration)
  --short              the demo: 3 rounds of 3 s, mem at 100000 connections
  --no-mem             skip the memory figure
  --mem-conns N        connections held for the memory figure (default $mem_conns)
  --no-callgrind       skip the instructions-per-connection figure
  --build DIR          meson build directory (default build, under the repo)
  --callgrind-build D  build directory with -Dnative=false (default $cg_build)
  --results DIR        where latest.json and latest.png go (default bench/results)

Needs root (network namespaces). DTCP_CPS_BIN overrides the dtcp-side program
(for trying the script with a stand-in that prints the same lines).
EOF
}

die() {
	echo "cps: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--rounds) rounds=${2:-}; shift 2 || die "--rounds needs a value" ;;
	--duration) duration=${2:-}; shift 2 || die "--duration needs a value" ;;
	--short) rounds=3; duration=3; mem_conns=100000; shift ;;
	--no-mem) do_mem=0; shift ;;
	--mem-conns) mem_conns=${2:-}; shift 2 || die "--mem-conns needs a value" ;;
	--no-callgrind) do_callgrind=0; shift ;;
	--build) build=${2:-}; shift 2 || die "--build needs a value" ;;
	--callgrind-build) cg_build=${2:-}; shift 2 || die "--callgrind-build needs a value" ;;
	--results) results_dir=${2:-}; shift 2 || die "--results needs a value" ;;
	--help|-h) usage; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
done
case "$rounds" in ''|*[!0-9]*) die "--rounds: expected 1..20" ;; esac
case "$duration" in ''|*[!0-9]*) die "--duration: expected 2..600" ;; esac
case "$mem_conns" in ''|*[!0-9]*) die "--mem-conns: expected 1000..2000000" ;; esac
[ "$rounds" -ge 1 ] && [ "$rounds" -le 20 ] || die "--rounds: expected 1..20"
[ "$duration" -ge 2 ] && [ "$duration" -le 600 ] || die "--duration: expected 2..600"
[ "$mem_conns" -ge 1000 ] && [ "$mem_conns" -le 2000000 ] || die "--mem-conns: expected 1000..2000000"
[ "$(id -u)" -eq 0 ] || die "needs root (network namespaces)"
[ "$(nproc)" -ge 2 ] || die "needs two CPUs (0 and 1)"
command -v python3 >/dev/null || die "python3 missing (scripts/setup-deps.sh)"
case "$build" in /*) ;; *) build="$root/$build" ;; esac
case "$cg_build" in /*) ;; *) cg_build="$root/$cg_build" ;; esac

dtcp_bin=${DTCP_CPS_BIN:-$build/bench/dtcp-bench-cps}
linux_bin="$build/bench/dtcp-bench-cps-linux"
goodput_bin="$build/bench/dtcp-bench-goodput"
if [ ! -x "$dtcp_bin" ] || [ ! -x "$linux_bin" ] || [ ! -x "$goodput_bin" ]; then
	echo "cps: building (scripts/build.sh)"
	"$root/scripts/build.sh" "$build" >/dev/null || die "scripts/build.sh $build failed"
fi
for b in "$dtcp_bin" "$linux_bin" "$goodput_bin"; do
	[ -x "$b" ] || die "$b not found after the build"
done

tag=$$
prefix_base="cpsl-$tag"
run_dir=/var/run/dpdk
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cps.XXXXXX") || die "no temporary directory"
started=()      # PIDs this script started and has not reaped yet
ns=""           # the Linux run's namespace while it exists
failed=0

stop_pid() {
	local pid=$1 i

	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
}

# Run "$@" with output to $LOG, at most $LIMIT seconds; its status in run_rc.
run_bounded() {
	local limit=$1 log=$2 pid i
	shift 2

	setsid "$@" </dev/null >"$log" 2>&1 &
	pid=$!
	started=("$pid")
	for ((i = 0; i < limit * 5; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.2
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "cps: '$1' still running after $limit s: stopping it" >&2
		stop_pid "$pid"
	fi
	wait "$pid"
	run_rc=$?
	started=()
}

remove_eal_files() {
	local p mnt fstype

	for p in "$run_dir/$prefix_base"-*; do
		[ -e "$p" ] || continue
		rm -rf "$p"
		while read -r _ mnt fstype _; do
			[ "$fstype" = hugetlbfs ] && rm -f "$mnt/$(basename "$p")map_"*
		done </proc/mounts
	done
}

cleanup() {
	local p

	for p in "${started[@]}"; do
		stop_pid "$p"
		wait "$p" 2>/dev/null
	done
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	remove_eal_files
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A run's log must end with its result line and the program must exit 0.
check_run() {
	local what=$1 log=$2 mode=$3

	if [ "$run_rc" -ne 0 ] || ! grep -q "^result $mode " "$log"; then
		echo "cps: $what failed (exit $run_rc); its output:" >&2
		sed 's/^/  /' "$log" >&2
		failed=1
		return 1
	fi
	return 0
}

# dtcp-bench-cps: EAL on cores 0 and 1, a prefix of ours; on hugepages
# when a GiB of them is free (a 4 KiB page per mbuf and TCB costs a TLB
# miss on every first touch: measured 10 to 20 % of the cps figure), else
# --no-huge. The memory figure always runs without (it needs 4 GiB).
run_dtcp() {
	local mode=$1 log=$2 n=$3 mem=1024
	local pages=(--no-huge -m "$mem")
	shift 3

	[ "$mode" = mem ] && pages=(--no-huge -m 4096)
	[ "$mode" != mem ] && [ "$use_huge" -eq 1 ] && pages=(--huge-unlink)
	run_bounded $((duration + 120)) "$log" "$dtcp_bin" -l 0,1 --no-pci "${pages[@]}" \
		--file-prefix="$prefix_base-$n" --log-level='lib.*:notice' -- --mode "$mode" "$@"
	remove_eal_files
	check_run "dtcp $mode ($n)" "$log" "$mode"
}

# dtcp-bench-cps-linux in a namespace of its own, deleted after the run.
run_linux() {
	local mode=$1 log=$2 n=$3
	shift 3

	ns="cpsl-$tag-$n"
	ip netns add "$ns" || die "ip netns add $ns failed"
	ip -n "$ns" link set lo up
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="1024 65535" \
		net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535 \
		net.ipv4.tcp_max_tw_buckets=4000000 >/dev/null ||
		echo "cps: note: a sysctl could not be set in $ns" >&2
	run_bounded $((duration + 700)) "$log" ip netns exec "$ns" "$linux_bin" --mode "$mode" "$@"
	ip netns del "$ns"
	ns=""
	check_run "Linux $mode ($n)" "$log" "$mode"
}

# dtcp's bulk: dtcp-bench-goodput at 0 % loss, rewritten to the contract.
# Like for like with Linux's loopback: MTU 65535 (lo's 65536 carries the same
# 65535-byte datagrams; TCP checksums stay, in software, both ways), and
# the sink copies every byte out to a 256 KiB buffer as the baseline's
# read() does (--sink copy), where the default compares every byte. Its two
# threads sleep 5 us after 256 empty polls in a row (--idle-sleep-us 5), as
# the baseline's blocking threads sleep in read() and write(): on these two
# cores, shared with other programs, pure polling spends a thread's share
# spinning while its peer is off its CPU (docs/bench.md, Bulk).
run_dtcp_bulk() {
	local log=$1 n=$2 raw="$1.raw"

	run_bounded $((duration + 120)) "$raw" "$goodput_bin" -l 0,1 --no-pci --no-huge -m 1024 \
		--file-prefix="$prefix_base-$n" --log-level='lib.*:notice' -- \
		--seconds $((duration + 1)) --loss 0 --mtu 65535 --sink copy --idle-sleep-us 5
	remove_eal_files
	awk -F'[= ]' '/^second=/ && $2 > 1 { printf "sample bulk %d %.3f\n", $2 - 1, $4 / 1000 }' \
		"$raw" >"$log"
	python3 - "$log" >>"$log" <<'PY'
import statistics, sys
v = [float(l.split()[3]) for l in open(sys.argv[1]) if l.startswith("sample ")]
if v:
    print(f"result bulk gbps={statistics.median(v):.3f}")
PY
	[ -s "$log" ] || cp "$raw" "$log"
	check_run "dtcp bulk ($n)" "$log" bulk
}

machine_cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
# Hugepages for dtcp's cps and rr runs when 1 GiB of them is free and mounted.
use_huge=0
huge_free=$(awk '/^HugePages_Free:/ { f = $2 } /^Hugepagesize:/ { s = $2 } END { print f * s }' /proc/meminfo)
if grep -q '^[^ ]* [^ ]* hugetlbfs ' /proc/mounts && [ "${huge_free:-0}" -ge 1048576 ]; then
	use_huge=1
	dtcp_pages="hugepages"
else
	dtcp_pages="4 KiB pages (--no-huge; $((${huge_free:-0} / 1024)) MiB of hugepages free)"
fi
echo "cps: dtcp's cps and rr on $dtcp_pages"
echo "cps: dtcp against Linux on cores 0 and 1; $rounds round(s) of ${duration} s per run," \
	"interleaved; $(nproc) CPU(s): $machine_cpu; kernel $(uname -r)"
read -r load0 _ </proc/loadavg
t0=$(date +%s)

n=0
for fig in cps rr bulk; do
	for ((r = 1; r <= rounds; r++)); do
		n=$((n + 1))
		printf 'cps: %s round %d/%d: dtcp ... ' "$fig" "$r" "$rounds"
		if [ "$fig" = bulk ]; then
			run_dtcp_bulk "$tmp/dtcp-$fig-$r.log" "$n"
		else
			run_dtcp "$fig" "$tmp/dtcp-$fig-$r.log" "$n" --duration "$duration"
		fi
		printf 'Linux ... '
		n=$((n + 1))
		run_linux "$fig" "$tmp/linux-$fig-$r.log" "$n" --duration "$duration"
		echo done
	done
done
if [ "$do_mem" -eq 1 ]; then
	printf 'cps: mem at %d connections: dtcp ... ' "$mem_conns"
	n=$((n + 1))
	run_dtcp mem "$tmp/dtcp-mem-1.log" "$n" --conns "$mem_conns"
	printf 'Linux ... '
	n=$((n + 1))
	run_linux mem "$tmp/linux-mem-1.log" "$n" --conns "$mem_conns"
	echo done
fi

# Instructions per connection: bench/count.sh, two callgrind runs of
# dtcp-bench-cps --mode count (they must agree), the figures in count.txt.
if [ "$do_callgrind" -eq 1 ]; then
	if ! command -v valgrind >/dev/null; then
		echo "cps: valgrind missing (scripts/setup-deps.sh): no instructions figure" >&2
	elif [ -n "${DTCP_CPS_BIN:-}" ]; then
		echo "cps: DTCP_CPS_BIN set: no instructions figure" >&2
	else
		printf 'cps: instructions per connection (callgrind, 2 runs) ... '
		run_bounded 900 "$tmp/count.log" "$here/count.sh" --build "$cg_build" --runs 2 \
			--out "$tmp/count.txt"
		echo "rc $run_rc"
		[ "$run_rc" -eq 0 ] || { sed 's/^/  /' "$tmp/count.log" >&2; failed=1; }
	fi
fi

read -r load1 _ </proc/loadavg
mkdir -p "$results_dir"
echo "$dtcp_pages" >"$tmp/pages"
python3 - "$tmp" "$rounds" "$duration" "$results_dir" "$machine_cpu" "$(nproc)" "$(uname -r)" \
	"$load0" "$load1" "$(( $(date +%s) - t0 ))" <<'PY' || failed=1
import json, os, statistics, subprocess, sys, time

tmp, rounds, duration, out_dir, cpu, cores, kernel, load0, load1, elapsed = sys.argv[1:]
rounds, duration = int(rounds), int(duration)

def parse(path):
    """The run's samples and its result line's fields, or None."""
    if not os.path.exists(path):
        return None
    samples, result = [], None
    for line in open(path, errors="replace"):
        f = line.split()
        if len(f) == 4 and f[0] == "sample":
            samples.append(float(f[3]))
        elif len(f) >= 2 and f[0] == "result":
            result = {k: float(v) for k, v in (x.split("=", 1) for x in f[2:] if "=" in x)}
    return None if result is None else (samples, result)

def runs(side, mode, key):
    vals, held = [], 0
    for r in range(1, rounds + 1):
        p = parse(f"{tmp}/{side}-{mode}-{r}.log")
        if p is None:
            continue
        samples, res = p
        if key not in res:
            continue
        vals.append(res[key])
        if samples:
            med = statistics.median(samples)
            near = sum(1 for s in samples if med and abs(s - med) <= 0.1 * med)
            held += near >= 0.8 * len(samples)
    return vals, held

out = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
       "machine.cpu": cpu, "machine.cores": int(cores), "machine.kernel": kernel,
       "dtcp.pages": open(f"{tmp}/pages").read().strip(),
       "rounds": rounds, "duration_s": duration, "load_average_start": float(load0),
       "load_average_end": float(load1), "elapsed_s": int(elapsed)}
rows = []
figures = [("cps", "cps", "cps_median", "CPS", "higher"),
           ("rr_p50_us", "rr", "p50_us", "RR p50 (us)", "lower"),
           ("rr_p99_us", "rr", "p99_us", "RR p99 (us)", "lower"),
           ("bulk_gbps", "bulk", "gbps", "bulk (Gbit/s)", "higher")]
for name, mode, key, label, better in figures:
    cells = []
    for side in ("dtcp", "linux"):
        vals, held = runs(side, mode, key)
        if vals:
            out[f"{side}.{name}"] = round(statistics.median(vals), 3)
            out[f"{side}.{name}_min"] = round(min(vals), 3)
            out[f"{side}.{name}_max"] = round(max(vals), 3)
            out[f"{side}.{name}_runs"] = len(vals)
            out[f"{side}.{name}_runs_held"] = held
            out[f"{side}.{name}_per_run"] = vals
            cells.append((out[f"{side}.{name}"], min(vals), max(vals), f"{held}/{len(vals)}"))
        else:
            cells.append(None)
    ratio = None
    if cells[0] and cells[1] and cells[1][0]:
        ratio = cells[0][0] / cells[1][0]
        out[f"ratio.{name}"] = round(ratio, 3)
    rows.append((label, cells, ratio, better))

for side in ("dtcp", "linux"):
    p = parse(f"{tmp}/{side}-mem-1.log")
    if p:
        out[f"{side}.bytes_per_conn"] = p[1].get("bytes_per_conn", 0)
        out[f"{side}.mem_conns"] = p[1].get("conns", 0)
        if side == "dtcp":
            out["dtcp.bytes_per_conn_sizeof"] = p[1].get("bytes_per_conn_sizeof", 0)
    p = parse(f"{tmp}/{side}-cps-1.log")
    if p:
        out[f"{side}.timewait_ms"] = p[1].get("timewait_ms", 0)
        out[f"{side}.tuples"] = p[1].get("tuples", 0)
        errs = sum(parse(f"{tmp}/{side}-cps-{r}.log")[1].get("errors", 0)
                   for r in range(1, rounds + 1) if parse(f"{tmp}/{side}-cps-{r}.log"))
        out[f"{side}.cps_errors"] = errs
if "dtcp.bytes_per_conn" in out and out.get("linux.bytes_per_conn"):
    out["ratio.bytes_per_conn"] = round(out["dtcp.bytes_per_conn"] / out["linux.bytes_per_conn"], 3)
    rows.append(("bytes/conn/side", [(out["dtcp.bytes_per_conn"], None, None, "1/1"),
                                    (out["linux.bytes_per_conn"], None, None, "1/1")],
                 out["ratio.bytes_per_conn"], "lower"))

out["linux.bytes_per_conn_method"] = ("growth of /proc/meminfo Slab (SReclaimable + SUnreclaim)"
                                     " over 2 x conns: per connection per side")
out["dtcp.bytes_per_conn_method"] = "DPDK heap growth per connection per side (dtcp-bench-cps)"
out["close_order"] = "the server closes first, after its response (both sides)"

# bench/count.sh's figures (key=value), when it ran and its runs agreed.
count = {}
if os.path.exists(f"{tmp}/count.txt"):
    for line in open(f"{tmp}/count.txt"):
        k, _, v = line.strip().partition("=")
        count[k] = v
if "instr_per_conn" in count:
    out["dtcp.instr_per_conn"] = round(float(count["instr_per_conn"]))
    out["dtcp.instr_per_conn_client"] = round(float(count["instr_per_conn_client"]))
    out["dtcp.instr_per_conn_server"] = round(float(count["instr_per_conn_server"]))
    out["dtcp.instr_per_conn_rx"] = round(float(count["instr_per_conn_rx"]))
    out["dtcp.instr_per_conn_runs"] = [float(x) for x in count["runs"].split(",")]
    out["dtcp.instr_conns"] = int(count["conns"])
    out["dtcp.instr_per_conn_method"] = (
        "callgrind Ir of dtcp-bench-cps --mode count (bench/count.sh): exactly "
        f"{count['conns']} connections after {count['warmup_conns']} of warm-up, handshake to "
        "last ACK and the end of the server's TIME-WAIT, both workers driven in turn by one "
        "thread on the program's own clock, only they instrumented; client + server")

def fmt(v):
    if v is None:
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"

table = []

def say(line=""):
    print(line)
    table.append(line)

say()
say(f"{'':18} {'dtcp':>12} {'min..max':>21} {'held':>5} | {'Linux':>10} {'min..max':>19} {'held':>5} | {'dtcp/Linux':>10}")
for label, cells, ratio, better in rows:
    parts = []
    for c, w in zip(cells, (12, 10)):
        if c is None:
            parts.append(f"{'-':>{w}} {'':>{w + 9}} {'':>5}")
        else:
            rng = "" if c[1] is None else f"{fmt(c[1])}..{fmt(c[2])}"
            parts.append(f"{fmt(c[0]):>{w}} {rng:>{w + 9}} {c[3]:>5}")
    r = "-" if ratio is None else f"{ratio:.3f}"
    say(f"{label:18} {parts[0]} | {parts[1]} | {r:>10}  ({better} is better)")
if "dtcp.instr_per_conn" in out:
    runs_s = ", ".join(f"{x:,.1f}" for x in out["dtcp.instr_per_conn_runs"])
    say(f"{'instr/conn (dtcp)':18} {out['dtcp.instr_per_conn']:>12,}   callgrind, client"
        f" {out['dtcp.instr_per_conn_client']:,} + server {out['dtcp.instr_per_conn_server']:,}"
        f" (receive path {out['dtcp.instr_per_conn_rx']:,}), --mode count over"
        f" {out['dtcp.instr_conns']:,} connections; runs: {runs_s}")
say(f"TIME-WAIT: dtcp {out.get('dtcp.timewait_ms', 0):.0f} ms, Linux "
      f"{out.get('linux.timewait_ms', 0):.0f} ms (TCP_TIMEWAIT_LEN); 4-tuples: dtcp "
      f"{out.get('dtcp.tuples', 0):,.0f}, Linux {out.get('linux.tuples', 0):,.0f}")
say(f"held: runs with >= 80 % of their seconds within 10 % of the run's median;"
      f" load average {load0} at the start, {load1} at the end; {elapsed} s")

json_path = os.path.join(out_dir, "latest.json")
with open(json_path, "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
with open(os.path.join(out_dir, "latest.txt"), "w") as f:
    f.write(f"{out['date']}, {cpu}, {cores} CPUs, kernel {kernel}, dtcp on {out['dtcp.pages']}\n" + "\n".join(table) + "\n")
print(f"cps: wrote {json_path} and latest.txt")

# The chart: dtcp and Linux side by side for each figure, one panel each.
panels = [(label, cells[0][0] if cells[0] else 0, cells[1][0] if cells[1] else 0)
          for label, cells, _, _ in rows if label != "RR p99 (us)"]
dat = os.path.join(tmp, "chart.dat")
with open(dat, "w") as f:
    for i, (label, d, l) in enumerate(panels):
        f.write(f"{i} {d} {l}\n")
png = os.path.join(out_dir, "latest.png")
script = [f"set terminal pngcairo size 1200,{300 * ((len(panels) + 1) // 2) + 60} noenhanced",
          f"set output '{png}'",
          f"set multiplot layout {(len(panels) + 1) // 2},2 title 'dtcp vs Linux, {cpu}, {out['date']}'",
          "set style fill solid 0.8 border -1", "set boxwidth 0.6", "set yrange [0:*]",
          "set xtics ('dtcp' 0, 'Linux' 1)", "unset key", "set xrange [-0.6:1.6]",
          "set offsets 0, 0, graph 0.15, 0"]
for i, (label, d, l) in enumerate(panels):
    script += [f"set title '{label}'",
               f"plot '{dat}' every ::{i}::{i} using (0):2 with boxes lc rgb '#2060c0', "
               f"'' every ::{i}::{i} using (1):3 with boxes lc rgb '#c04020', "
               f"'' every ::{i}::{i} using (0):2:(sprintf('%.4g', $2)) with labels offset 0,0.8, "
               f"'' every ::{i}::{i} using (1):3:(sprintf('%.4g', $3)) with labels offset 0,0.8"]
script.append("unset multiplot")
try:
    r = subprocess.run(["gnuplot"], input="\n".join(script), text=True, capture_output=True,
                       timeout=60)
    if r.returncode == 0:
        print(f"cps: wrote {png}")
    else:
        print(f"cps: gnuplot failed: {r.stderr.strip()}", file=sys.stderr)
except (OSError, subprocess.TimeoutExpired) as e:
    print(f"cps: no chart ({e}); scripts/setup-deps.sh installs gnuplot-nox", file=sys.stderr)
PY

if [ "$failed" -ne 0 ]; then
	echo "cps: some runs failed (see above)" >&2
	exit 1
fi
exit 0
