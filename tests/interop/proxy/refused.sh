#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# An upstream that refuses: the target's port 9 is closed. utcp-proxy completes the client's
# handshake only after the upstream answered, so the client must see "connection refused"
# (RST to its SYN) or a reset, quickly, not a hang and not an accepted connection that stays
# silent. Through SOCKS5 (dante's reply 5), HTTP CONNECT (tinyproxy's error status) and direct
# (the kernel's ECONNREFUSED); an open port still works afterwards.
source "$(dirname "$0")/lib.sh"
px_init refused
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world

for kind in socks5 http direct; do
  px_start_proxy "$kind"
  in_c timeout 30 $PXPEER refused "$T_ADDR" 9 || { tail -20 proxy.err >&2; it_fail "$kind: port 9"; }
  in_c timeout 30 $PXPEER refused "$T_ADDR6" 9 || { tail -20 proxy.err >&2; it_fail "$kind: [fd81::2] port 9"; }
  px_curl "$T_ADDR" "$(px_source "$kind")"
  px_stop_proxy
  it_log "refused upstream through $kind: the client saw a refusal: ok"
done
