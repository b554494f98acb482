#!/usr/bin/env bash
# Installs what dtcp needs from Debian 12's archive and reserves hugepages
# where the machine allows. Safe to run again: it only does what is missing.
#   DTCP_HUGEPAGES=N   2 MiB pages to reserve (default 512, 0 to skip)
set -euo pipefail

packages=(
	gcc g++ clang libclang-rt-14-dev pkg-config meson ninja-build
	libdpdk-dev dpdk dpdk-dev libnuma-dev libsodium-dev libgtest-dev
	iproute2 iputils-ping nftables ethtool python3 procps
	apache2-utils wrk curl nginx-light gnuplot-nox valgrind
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup-deps: missing packages: ${missing[*]}; run as root to install them" >&2
		exit 1
	fi
	echo "setup-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Hugepages are an optimisation: every program falls back to --no-huge.
want=${DTCP_HUGEPAGES:-512}
if [ "$(id -u)" -eq 0 ] && [ "$want" -gt 0 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
	have=$(cat /proc/sys/vm/nr_hugepages)
	if [ "$have" -lt "$want" ]; then
		echo "$want" > /proc/sys/vm/nr_hugepages 2>/dev/null || true
		have=$(cat /proc/sys/vm/nr_hugepages)
	fi
	if ! grep -q ' /dev/hugepages hugetlbfs ' /proc/mounts; then
		mkdir -p /dev/hugepages
		mount -t hugetlbfs nodev /dev/hugepages 2>/dev/null || true
	fi
	if grep -q ' hugetlbfs ' /proc/mounts && [ "$have" -gt 0 ]; then
		echo "setup-deps: $have hugepages of 2 MiB reserved, hugetlbfs mounted"
	else
		echo "setup-deps: no hugepages here; programs will run with --no-huge"
	fi
fi
