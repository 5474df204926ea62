#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# curl in the client namespace, with no proxy setting, reaches the target's HTTP server through
# utcp-proxy with each upstream: SOCKS5 (dante, without and with RFC 1929 username auth, and
# with --socks5-pipeline; Debian's microsocks, which drops a request sent before it answered
# the greeting), HTTP CONNECT (tinyproxy, without and with Basic auth) and direct. The body must match, the target
# must see the connection come from the proxy host (or, direct, from the client's own veth
# address: the upstream socket left by c0, not back into the TUN), the proxy daemon must log
# the connection, and utcp-proxy must exit 0 on SIGTERM leaving no device or route behind.
source "$(dirname "$0")/lib.sh"
px_init curl
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world
px_microsocks

for kind in socks5 socks5-auth socks5-pipeline socks5-microsocks http http-auth direct; do
  case $kind in
    socks5 | socks5-pipeline) log=danted1080 ;; socks5-auth) log=danted1081 ;;
    socks5-microsocks) log=microsocks1090 ;;
    http) log=tinyproxy8888 ;; http-auth) log=tinyproxy8889 ;; direct) log= ;;
  esac
  [ -n "$log" ] && before=$(px_proxy_log_count "$log")
  px_start_proxy "$kind"
  px_curl "$T_ADDR" "$(px_source "$kind")"
  px_curl "$T_ADDR" "$(px_source "$kind")"  # a second connection on the same proxy
  if [ -n "$log" ]; then
    after=$(px_proxy_log_count "$log")
    [ "$after" -ge $((before + 2)) ] || it_fail "$kind: $log logged $((after - before)) connections, want 2"
  fi
  px_stop_proxy
  it_log "curl through utcp-proxy, upstream $kind: ok"
done
