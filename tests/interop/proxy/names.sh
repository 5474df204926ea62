#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The upstream given by a host name (--socks5 NAME:PORT, --http-proxy NAME:PORT, the same in
# a --config TOML file): utcp-proxy resolves it once at start, before its TUN and routes exist,
# and relays through the address it got (IPv4 and IPv6). A name that does not resolve is a
# runtime error: exit status 1, one line naming the flag and the name, no device or route
# left. The names live in the client namespace's own /etc/hosts (px_hosts).
source "$(dirname "$0")/lib.sh"
px_init names
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_world
px_hosts
in_c getent hosts socks.px.test | grep -q "$P_ADDR" || it_fail "C's /etc/hosts is not in effect"

for kind in socks5-name socks5-name6 http-name; do
  px_start_proxy "$kind" -v
  px_curl "$T_ADDR" "$P_ADDR_T"
  px_curl "[$T_ADDR6]" fd81::1 -g
  px_stop_proxy
  # The sessions went to the address the name had (-v: the resolution and each session).
  want=$P_ADDR:1080
  [ "$kind" = socks5-name6 ] && want="[$P_ADDR6]:1080"
  [ "$kind" = http-name ] && want=$P_ADDR:8888
  grep -qF "resolved to $want" proxy.err || { cat proxy.err >&2; it_fail "$kind: no 'resolved to $want' line"; }
  grep -qF " via ${kind%%-*} $want" proxy.err || { cat proxy.err >&2; it_fail "$kind: sessions not via $want"; }
  it_log "$kind ($(px_upstream "$kind") = $want): curl over IPv4 and IPv6 through it: ok"
done

# The same name from a TOML file (keys are the flag names).
if in_c "$UTCP_PROXY" --help 2>&1 | grep -q -- "--config"; then
  printf 'socks5 = "socks.px.test:1080"\nroute = ["%s", "%s"]\n' "$T_NET" "$T_NET6" >proxy.toml
  : >proxy.err
  ip netns exec "$NS_C" "$UTCP_PROXY" --config "$IT_TMP/proxy.toml" >proxy.out 2>proxy.err </dev/null &
  PX_PID=$!
  IT_PIDS+=("$PX_PID")
  for _ in $(seq 1 200); do
    grep -q "utcp-proxy: ready" proxy.err && break
    kill -0 "$PX_PID" 2>/dev/null || break
    sleep 0.05
  done
  if grep -q "without TOML support" proxy.err; then
    it_log "built without TOML support: the --config case is skipped"
  else
    grep -q "utcp-proxy: ready" proxy.err || { cat proxy.err >&2; it_fail "--config with a name: not ready"; }
    px_curl "$T_ADDR" "$P_ADDR_T"
    px_stop_proxy
    it_log "--config socks5 = \"socks.px.test:1080\": ok"
  fi
fi

# A name that does not resolve: exit 1 at once, a clear line, nothing left behind.
for flag in --socks5 --http-proxy; do
  set +e
  in_c timeout 20 "$UTCP_PROXY" "$flag" nowhere.px.test:1080 --route "$T_NET" >bad.out 2>bad.err
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || { cat bad.err >&2; it_fail "$flag with an unknown name exited $rc, want 1"; }
  grep -q "^utcp-proxy: $flag nowhere.px.test:1080: cannot resolve nowhere.px.test" bad.err ||
    { cat bad.err >&2; it_fail "$flag with an unknown name: unclear error"; }
  [ "$(wc -l <bad.err)" -eq 1 ] || { cat bad.err >&2; it_fail "$flag: more than one line"; }
  px_check_no_leftovers
  it_log "$flag nowhere.px.test:1080: exit 1, '$(cat bad.err)'"
done
# A malformed HOST is a usage error (exit 2).
set +e
in_c "$UTCP_PROXY" --socks5 "bad_host..x:1080" --route "$T_NET" >bad.out 2>bad.err
rc=$?
set -e
[ "$rc" -eq 2 ] || { cat bad.err >&2; it_fail "a malformed HOST exited $rc, want 2"; }
it_log "a malformed HOST: exit 2, '$(head -1 bad.err)'"
