#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Half-close through utcp-proxy: the client sends 8 MiB and shuts down its write side; its FIN
# must reach the target as the upstream's shutdown(SHUT_WR) (the target answers only after
# end of file, with the count and SHA-256 of what came), and the client must then still
# receive 1 MiB (checked) before the target closes. Through SOCKS5 (dante) and direct. Not
# through HTTP CONNECT: tinyproxy itself closes the whole tunnel when its client's side ends
# (checked with a kernel client: no reply after the FIN), so it cannot carry a half-close.
source "$(dirname "$0")/lib.sh"
px_init half
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world

for kind in socks5 direct; do
  px_start_proxy "$kind"
  in_c timeout 60 $PXPEER half-close "$T_ADDR" $((8 * 1024 * 1024)) $((1024 * 1024)) ||
    { tail -20 proxy.err >&2; it_fail "$kind: half-close"; }
  px_stop_proxy
  it_log "half-close through upstream $kind: ok"
done
