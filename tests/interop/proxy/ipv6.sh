#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# IPv6 through the tunnel: the client reaches the target's fd81::2 (routed into the TUN by
# --route fd81::/64) through SOCKS5 (ATYP 4), HTTP CONNECT ([fd81::2]:port) and direct (an IPv6
# kernel socket bound to c0): curl, and 4 MiB each way checked by SHA-256.
source "$(dirname "$0")/lib.sh"
px_init v6
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world

for kind in socks5 http direct; do
  px_start_proxy "$kind"
  px_curl "[$T_ADDR6]" "$(px_source "$kind" 6)" -g
  in_c timeout 60 $PXPEER upload "$T_ADDR6" $((4 * 1024 * 1024)) ||
    { tail -20 proxy.err >&2; it_fail "$kind: IPv6 upload"; }
  in_c timeout 60 $PXPEER download "$T_ADDR6" $((4 * 1024 * 1024)) ||
    { tail -20 proxy.err >&2; it_fail "$kind: IPv6 download"; }
  px_stop_proxy
  it_log "IPv6 through upstream $kind: ok"
done
