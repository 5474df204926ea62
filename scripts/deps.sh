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
apt-get install -y -qq --no-install-recommends "${missing[@]}"
