#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# Instructions per connection (issue 6), the cost figure for regressions:
# dtcp-bench-cps --mode count under valgrind --tool=callgrind.
#
# The program runs the cps exchange (handshake, GET, the response with the
# server's FIN, the client's FIN, the last ACK, the end of the server's
# TIME-WAIT) for a warm-up, then for exactly --conns connections between
# CALLGRIND_START_INSTRUMENTATION and _STOP, both workers driven in turn by
# one thread on a clock of the program's own, with fixed secrets: every run
# executes the same instructions (docs/bench.md). valgrind runs with
# --instr-atstart=no, so callgrind's total (the `totals:` line of its out
# file) is those connections' alone; divided by their number it is the
# figure. callgrind_annotate --inclusive=yes splits it: the client's turns
# (the engine's opens and its worker's polls), the server's turns (its
# worker's polls, dtcp-httpd inside them), and the rounds' own few
# instructions, the rest.
#
#   bench/count.sh                      # 2 runs of 2000 connections (about 10 s)
#   bench/count.sh --runs 5 --conns 5000
#   bench/count.sh --smoke --bin build/bench/dtcp-bench-cps --conns 200
#
# --smoke runs the program once without valgrind and checks its result
# line only (exactly N connections completed, N TIME-WAITs ended, no
# error): the meson test bench_count, seconds of CI.
#
# Exits 0; 1 when a run failed or runs disagreed; 2 on bad arguments;
# 3 when valgrind or callgrind_annotate is missing.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
conns=2000
warmup=500
runs=2
build=build-callgrind
bin=""
out=""
smoke=0

usage() {
	cat <<EOF
Usage: $0 [--conns N] [--warmup-conns W] [--runs R] [--build DIR] [--bin PATH]
          [--out FILE] [--smoke]

  --conns N          connections counted, 1..60000 (default $conns)
  --warmup-conns W   connections before them, 2..10000 (default $warmup)
  --runs R           callgrind runs, 1..20 (default $runs); they must agree
  --build DIR        build directory configured with -Dnative=false (default
                     $build, under the repo; set up and built when missing:
                     valgrind 3.19 does not decode AVX-512)
  --bin PATH         dtcp-bench-cps to run instead of DIR's
  --out FILE         also write the figures there as key=value lines
  --smoke            one run without valgrind: its result line checked only
EOF
}

die() {
	echo "count: $*" >&2
	exit 2
}

while [ $# -gt 0 ]; do
	case "$1" in
	--conns) conns=${2:-}; shift 2 || die "--conns needs a value" ;;
	--warmup-conns) warmup=${2:-}; shift 2 || die "--warmup-conns needs a value" ;;
	--runs) runs=${2:-}; shift 2 || die "--runs needs a value" ;;
	--build) build=${2:-}; shift 2 || die "--build needs a value" ;;
	--bin) bin=${2:-}; shift 2 || die "--bin needs a value" ;;
	--out) out=${2:-}; shift 2 || die "--out needs a value" ;;
	--smoke) smoke=1; shift ;;
	--help|-h) usage; exit 0 ;;
	*) die "unknown argument '$1' (try --help)" ;;
	esac
done
case "$conns" in ''|*[!0-9]*) die "--conns: expected 1..60000" ;; esac
case "$warmup" in ''|*[!0-9]*) die "--warmup-conns: expected 2..10000" ;; esac
case "$runs" in ''|*[!0-9]*) die "--runs: expected 1..20" ;; esac
[ "$conns" -ge 1 ] && [ "$conns" -le 60000 ] || die "--conns: expected 1..60000"
[ "$warmup" -ge 2 ] && [ "$warmup" -le 10000 ] || die "--warmup-conns: expected 2..10000"
[ "$runs" -ge 1 ] && [ "$runs" -le 20 ] || die "--runs: expected 1..20"
command -v python3 >/dev/null || die "python3 missing (scripts/setup-deps.sh)"
if [ "$smoke" -eq 0 ]; then
	for p in valgrind callgrind_annotate; do
		if ! command -v "$p" >/dev/null; then
			echo "count: $p missing (scripts/setup-deps.sh installs valgrind)" >&2
			exit 3
		fi
	done
fi

if [ -z "$bin" ]; then
	case "$build" in /*) ;; *) build="$root/$build" ;; esac
	bin="$build/bench/dtcp-bench-cps"
	if [ ! -f "$build/build.ninja" ]; then
		echo "count: meson setup $build -Dnative=false -Dtests=false"
		meson setup "$build" "$root" -Dnative=false -Dtests=false >/dev/null ||
			die "meson setup $build failed"
	fi
	ninja -C "$build" bench/dtcp-bench-cps >/dev/null || die "building $bin failed"
fi
[ -x "$bin" ] || die "$bin not found"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/count.XXXXXX") || die "no temporary directory"
prefix="cnt-$$"
# EAL's runtime directory for our prefixes: /var/run/dpdk as root, else XDG's or /tmp.
if [ "$(id -u)" -eq 0 ]; then
	eal_dir=/var/run/dpdk
else
	eal_dir=${XDG_RUNTIME_DIR:-/tmp}/dpdk
fi
cleanup() {
	local p

	for p in "$eal_dir/$prefix"-*; do
		[ -e "$p" ] && rm -rf "$p"
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The program's result line must say: N connections, all completed, N
# TIME-WAITs ended, no error; and it must exit 0.
check_log() {
	local log=$1 rc=$2 line

	line=$(grep '^result count ' "$log")
	if [ "$rc" -ne 0 ] || [ -z "$line" ] ||
	   ! printf '%s\n' "$line" | grep -q " conns=$conns completed=$conns errors=0 " ||
	   ! printf '%s\n' "$line" | grep -q " idle_rounds=0 " ||
	   ! printf '%s\n' "$line" | grep -q " timewait_expired=$conns "; then
		echo "count: the run failed (exit $rc); its output:" >&2
		sed 's/^/  /' "$log" >&2
		return 1
	fi
	echo "count: $line"
	return 0
}

args=(-l 0 --no-pci --no-huge -m 512 --log-level='lib.*:notice')
prog_args=(-- --mode count --conns "$conns" --warmup-conns "$warmup")
if [ "$smoke" -eq 1 ]; then
	rc=0
	timeout --kill-after=5 60 "$bin" "${args[@]}" --file-prefix="$prefix-0" "${prog_args[@]}" \
		</dev/null >"$tmp/smoke.log" 2>&1 || rc=$?
	check_log "$tmp/smoke.log" "$rc" || exit 1
	exit 0
fi

for ((k = 1; k <= runs; k++)); do
	rc=0
	# Under valgrind the run takes about 3 s for 2000 connections.
	timeout --kill-after=5 600 valgrind --tool=callgrind --instr-atstart=no \
		--callgrind-out-file="$tmp/cg-$k.out" "$bin" "${args[@]}" --file-prefix="$prefix-$k" \
		"${prog_args[@]}" </dev/null >"$tmp/cg-$k.log" 2>&1 || rc=$?
	check_log "$tmp/cg-$k.log" "$rc" || exit 1
done

python3 - "$tmp" "$runs" "$conns" "$warmup" "$out" <<'PY'
import subprocess, sys

tmp, runs, conns, warmup, out = sys.argv[1:]
runs, conns = int(runs), int(conns)

def totals(path):
    """The totals line: with --instr-atstart=no the summary line says 0."""
    for line in open(path):
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"count: no totals line in {path}")

def inclusive(path, names):
    """Inclusive Ir of each function in names, by callgrind_annotate."""
    r = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", path],
                       text=True, capture_output=True, timeout=300)
    found = {}
    for line in r.stdout.splitlines():
        f = line.split()
        if len(f) < 2 or not f[0].replace(",", "").isdigit():
            continue
        where = next((x for x in f[1:] if ":" in x and not x.startswith("(")), "")
        fn = where.rsplit(":", 1)[-1]
        if fn in names:
            found[fn] = max(found.get(fn, 0), int(f[0].replace(",", "")))
    return found

ir = [totals(f"{tmp}/cg-{k}.out") for k in range(1, runs + 1)]
per = [x / conns for x in ir]
parts = inclusive(f"{tmp}/cg-1.out",
                  ("count_client_turn", "count_server_turn", "dtcp_eth_input_burst"))
total = per[0]
cli = parts.get("count_client_turn", 0) / conns
srv = parts.get("count_server_turn", 0) / conns
rx = parts.get("dtcp_eth_input_burst", 0) / conns
spread = 100 * (max(per) - min(per)) / min(per)
print(f"count: {total:,.0f} instructions per connection, client + server"
      f" (client {cli:,.0f}, server {srv:,.0f}, the rounds' own {total - cli - srv:,.0f};"
      f" receive path {rx:,.0f}), {conns} connections after {warmup};"
      f" runs: {', '.join(f'{x:,.1f}' for x in per)} (spread {spread:.2f} %;"
      f" Ir {', '.join(f'{x:,}' for x in ir)})")
if out:
    with open(out, "w") as f:
        f.write(f"instr_per_conn={total:.1f}\ninstr_per_conn_client={cli:.1f}\n"
                f"instr_per_conn_server={srv:.1f}\ninstr_per_conn_rx={rx:.1f}\n"
                f"conns={conns}\nwarmup_conns={warmup}\n"
                f"runs={','.join(f'{x:.1f}' for x in per)}\nspread_pct={spread:.3f}\n"
                f"ir={','.join(str(x) for x in ir)}\n")
# The runs execute the same instructions: a difference is a bug in the count.
sys.exit(1 if spread > 1.0 else 0)
PY
