#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# 500 connections open at once through utcp-proxy (all connected before any sends), each
# echoing 20 kB of its own random bytes through the target's echo server; every byte checked.
# Through SOCKS5 (dante: 500 upstream sessions) and direct (500 kernel sockets).
source "$(dirname "$0")/lib.sh"
px_init conc
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world

for kind in socks5 direct; do
  px_start_proxy "$kind"
  in_c timeout 90 $PXPEER many "$T_ADDR" 500 20000 ||
    { tail -20 proxy.err >&2; it_fail "$kind: 500 concurrent connections"; }
  px_stop_proxy
  it_log "500 concurrent connections through upstream $kind: ok"
done
