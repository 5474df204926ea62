#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# An upstream that refuses: the target's port 9 is closed. utcp-proxy completes the client's
# handshake only after the upstream answered, so the client must see "connection refused"
# (RST to its SYN) or a reset, quickly, not a hang and not an accepted connection that stays
# silent. Through SOCKS5 (dante's reply 5), HTTP CONNECT (tinyproxy's error status) and direct
# (the kernel's ECONNREFUSED); an open port still works afterwards. A proxy that refuses the
# credentials (dante's RFC 1929 failure, tinyproxy's 407) is refused to the client the same way.
source "$(dirname "$0")/lib.sh"
px_init refused
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world

for kind in socks5 http direct; do
  px_start_proxy "$kind" --stats-json "$IT_TMP/stats.$kind.json"
  in_c timeout 30 $PXPEER refused "$T_ADDR" 9 || { tail -20 proxy.err >&2; it_fail "$kind: port 9"; }
  in_c timeout 30 $PXPEER refused "$T_ADDR6" 9 || { tail -20 proxy.err >&2; it_fail "$kind: [fd81::2] port 9"; }
  px_curl "$T_ADDR" "$(px_source "$kind")"
  px_stop_proxy
  in_c $PXPEER stats-end "stats.$kind.json" ":9" refused || it_fail "$kind: session end in --stats-json"
  it_log "refused upstream through $kind: the client saw a refusal: ok"
done

for kind in socks5-badauth http-badauth; do
  px_start_proxy "$kind" --stats-json "$IT_TMP/stats.$kind.json"
  in_c timeout 30 $PXPEER refused "$T_ADDR" 8080 || { tail -20 proxy.err >&2; it_fail "$kind: port 8080"; }
  px_stop_proxy
  # tinyproxy answers wrong credentials with 401 (407 only when none are given), which is not
  # a proxy-authentication status (RFC 9110 §15.5.8), so "refused" is right for it too.
  want=auth-failed
  [ "$kind" = http-badauth ] && want="auth-failed|refused"
  in_c $PXPEER stats-end "stats.$kind.json" ":8080" "$want" || it_fail "$kind: session end in --stats-json"
  it_log "wrong credentials ($kind): the client saw a refusal: ok"
done
