# Helpers shared by the demo and the integration tests (sourced, not run).
# Each user makes its own namespace and tears it down on exit.

# wait_for CMD...: retry CMD for up to 10 s.
wait_for() {
	local i
	for i in $(seq 100); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# EAL options for a short-lived run: hugepage files unlinked once mapped, so
# a run that ends (or is killed) leaves none behind.
DTCP_EAL_COMMON=(-l 0 --no-pci --huge-unlink)

# dpdk_rundir_cleanup PREFIX: EAL leaves its runtime directory behind.
dpdk_rundir_cleanup() {
	rm -rf "/var/run/dpdk/$1" "${XDG_RUNTIME_DIR:-/tmp}/dpdk/$1"
}

# start_dtcp_tap NS IFACE LOG ARGS...: dtcp-services on net_tap IFACE inside
# NS, EAL file prefix NS; sets DTCP_PID. The caller sets up the kernel side.
start_dtcp_tap() {
	local ns=$1 iface=$2 log=$3
	shift 3
	ip netns exec "$ns" "$DTCP_SERVICES" "${DTCP_EAL_COMMON[@]}" --file-prefix="$ns" \
		--vdev="net_tap0,iface=$iface" -- "$@" >"$log" 2>&1 &
	DTCP_PID=$!
	if ! wait_for tap_up_or_gone "$ns" "$iface" || ! kill -0 "$DTCP_PID" 2>/dev/null; then
		echo "dtcp-services did not bring up $iface; its log:" >&2
		cat "$log" >&2
		return 1
	fi
}

# True once IFACE exists in NS, or once dtcp-services has exited (no point
# in waiting longer).
tap_up_or_gone() {
	ip netns exec "$1" ip link show "$2" >/dev/null 2>&1 || ! kill -0 "$DTCP_PID" 2>/dev/null
}

# tap_session NS IFACE: names the namespace and tap of a run (ns, iface),
# makes a log file (log), and on exit stops dtcp-services if DTCP_PID is
# set, removes the namespace, EAL's runtime directory and the log.
tap_session() {
	ns=$1
	iface=$2
	log=$(mktemp)
	DTCP_PID=
	trap tap_session_end EXIT
}

tap_session_end() {
	if [ -n "$DTCP_PID" ]; then
		stop_pid "$DTCP_PID"
	fi
	ip netns del "$ns" 2>/dev/null || true
	dpdk_rundir_cleanup "$ns"
	rm -f "$log"
}

# stop_pid PID: SIGTERM, wait at most 10 s, then SIGKILL. The exit status
# of PID (a child of this shell) is left in STOP_RC.
stop_pid() {
	local pid=$1 i
	STOP_RC=0
	kill -TERM "$pid" 2>/dev/null || true
	for i in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || STOP_RC=$?
}
