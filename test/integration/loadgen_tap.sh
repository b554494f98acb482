#!/usr/bin/env bash
# dtcp-loadgen against the kernel: nginx (nginx-light) serves a 128-byte
# body inside a private namespace, on the kernel side of dtcp-loadgen's
# net_tap. Four client addresses, the whole port range, FIN first from
# the client, as fast as 256 concurrent connections allow, for 10 s.
# dtcp-loadgen must exit 0 with 0 errors, print at least 10 per-second
# lines, complete a non-trivial number of connections, keep the TIME-WAIT
# identities, and leak no mbuf; nginx must have served every request.
set -euo pipefail
. "$DTCP_SCRIPTS/lib-netns.sh"
[ "$(id -u)" -eq 0 ] || { echo "needs root (network namespaces)"; exit 77; }
command -v nginx >/dev/null || { echo "nginx not installed (nginx-light)"; exit 77; }

ns=dtlg
iface=dtlg0
prefix=dtlg
dir=$(mktemp -d)
LG_PID=
NGINX_PID=
cleanup() {
	[ -n "$LG_PID" ] && stop_pid "$LG_PID"
	[ -n "$NGINX_PID" ] && stop_pid "$NGINX_PID"
	ip netns del "$ns" 2>/dev/null || true
	dpdk_rundir_cleanup "$prefix"
	rm -rf "$dir"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*"
	echo "--- dtcp-loadgen log"
	cat "$dir/lg.log"
	echo "--- nginx error log"
	cat "$dir/error.log" 2>/dev/null || true
	exit 1
}

# The server: one nginx process (no master, no daemon: stopped by its PID),
# a fixed 128-byte file, keep-alive allowed but the client closes first.
mkdir -p "$dir/www"
head -c 128 /dev/zero | tr '\0' 'L' >"$dir/www/lg.txt"
chmod -R a+rX "$dir"
cat >"$dir/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 8192; }
http {
	access_log $dir/access.log;
	client_body_temp_path $dir;
	proxy_temp_path $dir;
	fastcgi_temp_path $dir;
	uwsgi_temp_path $dir;
	scgi_temp_path $dir;
	server { listen 198.18.9.1:80 backlog=4096; root $dir/www; }
}
EOF
# Counting lines of the access log needs one line per request, cheap enough
# at this rate; buffered logs are flushed when nginx stops.
sed -i "s|access_log $dir/access.log;|access_log $dir/access.log combined buffer=256k;|" \
	"$dir/nginx.conf"

ip netns add "$ns"
ip netns exec "$ns" ip link set lo up
# nginx starts before the tap (and its address) exists: let it bind anyway.
ip netns exec "$ns" sysctl -qw net.ipv4.ip_nonlocal_bind=1
ip netns exec "$ns" nginx -c "$dir/nginx.conf" &
NGINX_PID=$!
nginx_listening() { ip netns exec "$ns" ss -Htln 'sport = :80' | grep -q .; }
wait_for nginx_listening || fail "nginx did not start"

# 2 MSL of 2 s: each tuple is held 2 s after its close, so up to 100k/s stays
# within the 4 x 64512 tuples of the ranges and the 262144 records of the
# table (with the default 60 s, 10 s at 25k/s would use every tuple).
ip netns exec "$ns" "$DTCP_LOADGEN" -l 0 --no-pci --no-huge -m 1024 \
	--file-prefix="$prefix" --vdev="net_tap0,iface=$iface" -- \
	--config "$DTCP_SCRIPTS/../config/loadgen.ini" \
	--set tcp.msl_ms=1000 --concurrency 256 --rate 0 \
	--path /lg.txt --response-size 128 --duration 10 >"$dir/lg.log" 2>&1 &
LG_PID=$!
wait_for ip netns exec "$ns" ip link show "$iface" || fail "dtcp-loadgen did not make $iface"
ip netns exec "$ns" ip addr add 198.18.9.1/24 dev "$iface"
ip netns exec "$ns" ip link set "$iface" up

# 10 s of load, up to 5 s of drain, the probe's wait: 60 s at most.
for _ in $(seq 600); do
	kill -0 "$LG_PID" 2>/dev/null || break
	sleep 0.1
done
kill -0 "$LG_PID" 2>/dev/null && fail "dtcp-loadgen still running after 60 s"
rc=0
wait "$LG_PID" || rc=$?
LG_PID=
stop_pid "$NGINX_PID"
NGINX_PID=

[ "$rc" -eq 0 ] || fail "dtcp-loadgen exited with $rc"
log="$dir/lg.log"
grep -E '^dtcp-loadgen: +time' "$log" >/dev/null || fail "no header line"
lines=$(grep -cE '^dtcp-loadgen: +[0-9]+\.[0-9]+ ' "$log" || true)
[ "$lines" -ge 10 ] || fail "$lines per-second lines, expected at least 10"
grep -E '^dtcp-loadgen: (summary|result|TIME-WAIT|mbufs)' "$log"

stat() { awk -v k="$1" '$1 == "dtcp-loadgen:" && $2 == k { print $3; exit }' "$log"; }
errors=$(grep -oE 'result: PASS \(([0-9]+) errors' "$log" | grep -oE '[0-9]+ errors' | cut -d' ' -f1)
[ "${errors:-x}" = 0 ] || fail "errors: ${errors:-none reported}"
completed=$(stat completed)
opened=$(stat opened)
[ "${completed:-0}" -ge 5000 ] || fail "only ${completed:-0} connections completed in 10 s"
[ "$completed" -eq "$opened" ] || fail "opened $opened but completed $completed"
[ "$(stat responses)" -eq "$completed" ] || fail "responses differ from completed connections"
if grep -q MISMATCH "$log"; then fail "an identity does not hold"; fi
[ "$(grep -c '(holds)' "$log")" -eq 3 ] || fail "the three TIME-WAIT identities were not printed"
grep -q 'mbufs in use after the port closed: 0$' "$log" || fail "mbuf leak"
# Every request reached nginx and was answered 200 with the 128 bytes.
served=$(grep -c '"GET /lg.txt HTTP/1.1" 200 128 ' "$dir/access.log" || true)
[ "$served" -eq "$completed" ] || fail "nginx logged $served requests answered 200, loadgen completed $completed"
cps=$(grep -oE 'completed in [0-9.]+ s \([0-9]+ per second' "$log" | grep -oE '[0-9]+ per second')
echo "PASS: $completed connections against nginx, 0 errors, $lines per-second lines, $cps"
