#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs the Debian 12 packages utcp needs to build, test and demo, only those missing,
# so a second run costs a second. Needs root (apt-get).
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build ccache g++ clang clang-format libclang-rt-14-dev
  googletest libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev libpcap-dev
  iproute2 nftables netcat-openbsd curl socat iputils-ping tshark python3 git
  pkg-config dpkg-dev file
  libtomlplusplus-dev  # utcp-proxy --config FILE (TOML)
)
# utcp-proxy's interop tests and benchmark (issue 14): the SOCKS5, HTTP CONNECT and DNS
# servers of the test world, the kernel path's redirector, iperf3, and the proxy's JSON
# library. The daemons are started only by the tests, inside namespaces; their packages'
# services must not start on the host (policy-rc.d below).
proxy_daemons=(dante-server tinyproxy dnsmasq redsocks)
# microsocks: a second SOCKS5 server, one that drops bytes sent before it asked (no service).
pkgs+=("${proxy_daemons[@]}" microsocks iperf3 nlohmann-json3-dev)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "utcp: installing missing Debian packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "utcp: installing packages needs root (apt-get); run as root or install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
# A policy-rc.d that forbids every service start (exit 101) while the packages install, so
# dante-server, tinyproxy, dnsmasq, redsocks and iperf3 are not left running on the host;
# removed afterwards unless one was already there (e.g. a container's).
policy=/usr/sbin/policy-rc.d
own_policy=
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  own_policy=1
  trap 'rm -f "$policy"' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}"
if [ -n "$own_policy" ]; then
  rm -f "$policy"
  trap - EXIT
fi
