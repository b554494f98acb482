#!/usr/bin/env bash
# dtcp to dtcp: dtcp-loadgen against dtcp-httpd, two processes joined by a
# net_memif wire (a unix socket; no namespace, no hugepages: in copy mode
# memif's shared rings come from memfd, each side's mbufs from its own pool).
#
#  run 1, 10 s: FIN first from the client, as fast as 256 connections allow.
#    Every connection completes, 0 errors, at least 10 per-second lines;
#    the client's TIME-WAIT identities hold; the server took every
#    connection and closed each second (LAST-ACK: no TIME-WAIT there).
#  run 2, 3 s: FIN first from the server (the second request of each
#    connection says Connection: close). The client closes each second;
#    the server's TIME-WAIT entries match them, and once 2 MSL has passed
#    every one of them has expired (or was refused by a full table).
# Both programs must exit 0 with no mbuf leaked.
set -euo pipefail
. "$DTCP_SCRIPTS/lib-netns.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (/run)"; exit 77; }

sock=/run/dtlg-memif-$$.sock
dir=$(mktemp -d)
SRV_PID=
CLI_PID=
cleanup() {
	[ -n "$CLI_PID" ] && stop_pid "$CLI_PID"
	[ -n "$SRV_PID" ] && stop_pid "$SRV_PID"
	dpdk_rundir_cleanup dtlg-srv
	dpdk_rundir_cleanup dtlg-cli
	rm -f "$sock"
	if [ -n "${KEEP:-}" ]; then echo "logs kept in $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	# EAL's lines stay: when a start fails they say why.
	for f in "$dir"/*.log; do
		echo "--- $f"
		tail -n 60 "$f"
	done
	exit 1
}

# ctr LOG NAME: a stack counter of a final report (0 when not printed).
ctr() {
	awk -v k="$2" 'f && $1 == k { v = $2 } /final counters/ { f = 1 } END { print v + 0 }' "$1"
}
# lg LOG NAME: one of dtcp-loadgen's own summary counters.
lg() { awk -v k="$2" '$1 == "dtcp-loadgen:" && $2 == k { v = $3 } END { print v + 0 }' "$1"; }

# run NAME SECONDS SERVER-MSL-MS LOADGEN-ARGS...: one server, one client.
run() {
	local name=$1 secs=$2 srv_msl=$3 rc i
	shift 3
	srv="$dir/$name-httpd.log"
	cli="$dir/$name-loadgen.log"
	rm -f "$sock"
	"$DTCP_HTTPD" -l 0 --no-pci --no-huge -m 1024 --file-prefix=dtlg-srv \
		--vdev="net_memif0,role=server,socket=$sock,rsize=13" -- \
		--ip 198.18.9.1/24 --body-size 128 --set tcp.msl_ms="$srv_msl" \
		--set tcp.timewait_max=262144 >"$srv" 2>&1 &
	SRV_PID=$!
	wait_for grep -q 'listening on port 80' "$srv" || fail "$name: dtcp-httpd did not start"
	"$DTCP_LOADGEN" -l 1 --no-pci --no-huge -m 1024 --file-prefix=dtlg-cli \
		--vdev="net_memif0,role=client,socket=$sock,rsize=13" -- \
		--ip 198.18.9.2/24,198.18.9.3/24,198.18.9.4/24,198.18.9.5/24 \
		--set tcp.msl_ms=250 --set tcp.timewait_max=262144 \
		--server 198.18.9.1 --response-size 128 --duration "$secs" "$@" >"$cli" 2>&1 &
	CLI_PID=$!
	# The run, up to 5 s of drain, the first connection's wait: bounded.
	for i in $(seq $(((secs + 30) * 10))); do
		kill -0 "$CLI_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$CLI_PID" 2>/dev/null && fail "$name: dtcp-loadgen still running"
	rc=0
	wait "$CLI_PID" || rc=$?
	CLI_PID=
	[ "$rc" -eq 0 ] || fail "$name: dtcp-loadgen exited with $rc"
	# Past the server's 2 MSL: its TIME-WAIT records all expire before it stops.
	sleep "$(awk -v m="$srv_msl" 'BEGIN { print 2 * m / 1000 + 0.5 }')"
	stop_pid "$SRV_PID"
	SRV_PID=
	[ "$STOP_RC" -eq 0 ] || fail "$name: dtcp-httpd exited with $STOP_RC"

	for log in "$srv" "$cli"; do
		grep -q 'mbufs in use after the port closed: 0$' "$log" || fail "$name: mbuf leak ($log)"
		if grep -q MISMATCH "$log"; then fail "$name: an identity does not hold ($log)"; fi
	done
	grep -q 'result: PASS (0 errors' "$cli" || fail "$name: errors"
	lines=$(grep -cE '^dtcp-loadgen: +[0-9]+\.[0-9]+ ' "$cli" || true)
	[ "$lines" -ge "$secs" ] || fail "$name: $lines per-second lines for $secs s"
	[ "$(grep -c '(holds)' "$cli")" -eq 3 ] || fail "$name: TIME-WAIT identities not printed"
	opened=$(lg "$cli" opened)
	completed=$(lg "$cli" completed)
	[ "$completed" -ge 1000 ] || fail "$name: only $completed connections completed"
	[ "$completed" -eq "$opened" ] || fail "$name: opened $opened, completed $completed"
	grep -q "connections accepted $opened, ended $opened\$" "$srv" ||
		fail "$name: the server did not accept and end the $opened connections"
	[ "$(ctr "$srv" tcp_closed_orderly)" -eq "$completed" ] ||
		fail "$name: server orderly closes $(ctr "$srv" tcp_closed_orderly), client $completed"
	grep -E '^dtcp-loadgen: (summary|TIME-WAIT)' "$cli"
	cps=$(grep -oE 'completed in [0-9.]+ s \([0-9]+ per second' "$cli" | grep -oE '[0-9]+ per second')
}

run fin-client 10 250 --concurrency 256
# Ours first: every close put the 4-tuple in TIME-WAIT here, none there.
[ "$(lg "$cli" closed_first)" -eq "$completed" ] || fail "fin-client: not every close was ours first"
[ "$(ctr "$srv" tcp_timewait_enter)" -eq 0 ] || fail "fin-client: the server entered TIME-WAIT"
echo "fin-client: $completed connections, $lines per-second lines, $cps"
cps1=$cps

run fin-server 3 250 --concurrency 256 --fin-first server --requests 2
# Theirs first: every TIME-WAIT is the server's, and each has ended.
s_enter=$(ctr "$srv" tcp_timewait_enter)
[ "$(lg "$cli" closed_second)" -eq "$completed" ] || fail "fin-server: the server did not close first each time"
[ "$(ctr "$cli" tcp_timewait_enter)" -eq 0 ] || fail "fin-server: the client entered TIME-WAIT"
[ "$s_enter" -eq "$completed" ] || fail "fin-server: server TIME-WAIT entries $s_enter, connections $completed"
[ "$s_enter" -eq $(($(ctr "$srv" tcp_timewait_expired) + $(ctr "$srv" tcp_timewait_full))) ] ||
	fail "fin-server: server TIME-WAIT entered $s_enter != expired + refused"
[ "$(lg "$cli" responses)" -eq $((2 * completed)) ] || fail "fin-server: not two responses per connection"
echo "fin-server: $completed connections (2 requests each), server TIME-WAIT entered = expired + refused = $s_enter, $cps"
echo "PASS: dtcp-loadgen against dtcp-httpd over memif: $cps1 (FIN first from the client), $cps (from the server)"
