#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# 20 MiB each way through utcp-proxy with each upstream kind (SOCKS5 through dante and through
# microsocks, HTTP CONNECT, direct), checked by SHA-256 at the receiving end: the client's upload at the target's sink, the
# target's stream at the client (both generated from a seed, see pxpeer.py).
source "$(dirname "$0")/lib.sh"
px_init bulk
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world
px_microsocks

size=$((20 * 1024 * 1024))
for kind in socks5 socks5-microsocks http direct; do
  px_start_proxy "$kind"
  in_c timeout 60 $PXPEER upload "$T_ADDR" "$size" ||
    { tail -20 proxy.err >&2; it_fail "$kind: 20 MiB upload"; }
  in_c timeout 60 $PXPEER download "$T_ADDR" "$size" ||
    { tail -20 proxy.err >&2; it_fail "$kind: 20 MiB download"; }
  px_stop_proxy
  it_log "20 MiB each way through upstream $kind: ok"
done
