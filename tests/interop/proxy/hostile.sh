#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# utcp-proxy against a hostile upstream (hostile.py in the proxy namespace): a SOCKS5 server
# and an HTTP proxy that answer with a wrong version byte, an unacceptable or unoffered
# method, a truncated reply then close, an address type that does not exist, a megabyte of
# noise, nothing at all (--connect-timeout 2 must end it), a non-2xx status, a status line
# that is not HTTP, 64 KiB of response headers; and the legal but awkward cases that must
# work: a reply split into 1-byte writes, a domain-type BND address, the reply and the
# first tunnel bytes in one read (RFC 1928 §6, RFC 9110 §9.3.6), a 200 with a Content-Length
# (ignored for a 2xx to CONNECT) and a 100 before the 200 (§15.2); RFC 1929 authentication
# that fails, answers with a wrong version, half a reply or nothing. For every broken case the
# tunnelled client must see a refusal, reset or unreachable within 8 s (never a hang nor a
# silent open connection), also with no proxy listening at all; an abort is carried as RST
# both ways; 40 local --control clients that send junk and never read do not stall it.
# utcp-proxy must survive all of it, hold no session (--control: open_tcp 0) and no upstream
# socket afterwards, and exit 0 on SIGTERM, within --drain-timeout even with a stuck
# connection open; clients that give up before a slow upstream answered leave nothing.
source "$(dirname "$0")/lib.sh"
px_init hostile
it_need_tool UTCP_PROXY
cd "$IT_TMP"
px_links
HOSTILE="$IT_PYTHON $PX_DIR/hostile.py"
echo ok >mode
px_daemon "$NS_P" hsocks $HOSTILE serve socks5 2080 "$IT_TMP/mode"
px_daemon "$NS_P" hhttp $HOSTILE serve http 2081 "$IT_TMP/mode"
px_wait_port "$NS_P" tcp 2080
px_wait_port "$NS_P" tcp 2081

eval "px_upstream_world() $(declare -f px_upstream | tail -n +2)"
px_upstream() {
  case $1 in
    hostile-socks5) echo "--socks5 $P_ADDR:2080" ;;
    hostile-http) echo "--http-proxy $P_ADDR:2081" ;;
    hostile-down) echo "--socks5 $P_ADDR:2099" ;;
    hostile-auth) echo "--socks5 $P_ADDR:2080 --socks-user hostile-user --socks-pass hostile-pass" ;;
    *) px_upstream_world "$@" ;;
  esac
}

fds() { ls "/proc/$PX_PID/fd" | wc -l; }
alive() {
  kill -0 "$PX_PID" 2>/dev/null || { tail -20 proxy.err >&2; it_fail "utcp-proxy died ($1)"; }
}
case_fail() {  # kind mode [destination]
  echo "$2" >mode
  in_c timeout 20 $HOSTILE fail "${3:-$T_ADDR}" 7001 8 >case.out 2>&1 ||
    { cat case.out >&2; tail -5 proxy.err >&2; it_fail "$1 $2: $(tail -1 case.out)"; }
  alive "$1 $2"
  it_log "$1 $2: $(tail -1 case.out)"
}
case_echo() {  # kind mode [greeting [destination]]
  echo "$2" >mode
  in_c timeout 20 $HOSTILE echo "${4:-$T_ADDR}" 7001 ${3:+"$3"} >case.out 2>&1 ||
    { cat case.out >&2; tail -5 proxy.err >&2; it_fail "$1 $2: $(tail -1 case.out)"; }
  alive "$1 $2"
  it_log "$1 $2: $(tail -1 case.out)"
}

run_kind() {  # kind broken-modes...
  local kind=$1
  shift
  px_start_proxy "$kind" --connect-timeout 2 --control "$IT_TMP/control"
  local base
  base=$(fds)
  # Local clients of --control that send junk and never read must not stall the relay.
  in_c $HOSTILE hog-control "$IT_TMP/control" 40 60 >hog.out 2>&1 &
  local hog=$!
  sleep 0.5
  case_echo "$kind" ok
  case_echo "$kind" ok "" "$T_ADDR6"
  if [ "$kind" = hostile-http ]; then  # RFC 9110 §9.3.6: authority-form, IPv6 in brackets
    grep -q "^request: CONNECT $T_ADDR:7001 HTTP/1.1" hhttp.log || it_fail "CONNECT line: $(grep request: hhttp.log)"
    grep -q "^request: CONNECT \[$T_ADDR6\]:7001 HTTP/1.1" hhttp.log ||
      it_fail "CONNECT line for IPv6: $(grep request: hhttp.log)"
  fi
  for m in "$@"; do case_fail "$kind" "$m"; done
  case_fail "$kind" silent "$T_ADDR6"
  case_echo "$kind" bytewise
  case_echo "$kind" reply-with-data greeting-from-upstream
  if [ "$kind" = hostile-http ]; then
    case_echo "$kind" length-200 greeting-from-upstream  # a 2xx's Content-Length is ignored
    case_echo "$kind" interim-100                        # 1xx before the 200 is skipped
  fi
  # 50 clients that give up before the (slow) upstream answered: their sessions must end
  # once the late handshake meets no socket (checked with the rest below).
  echo slow-ok >mode
  in_c timeout 20 $HOSTILE give-up "$T_ADDR" 7001 50 >case.out 2>&1 || it_fail "$kind: give-up"
  sleep 1.5
  alive "$kind give-up"
  it_log "$kind: $(cat case.out)"
  # An abort carried as RST both ways.
  echo reset >mode
  in_c timeout 20 $HOSTILE got-reset "$T_ADDR" 7001 >case.out 2>&1 ||
    { cat case.out >&2; it_fail "$kind: upstream RST: $(tail -1 case.out)"; }
  it_log "$kind upstream reset: $(tail -1 case.out)"
  echo watch >mode
  local log=$IT_TMP/hsocks.log
  [ "$kind" = hostile-http ] && log=$IT_TMP/hhttp.log
  in_c timeout 20 $HOSTILE send-reset "$T_ADDR" 7001 >case.out 2>&1 || it_fail "$kind: send-reset"
  for _ in $(seq 1 50); do grep -q "upstream saw" "$log" && break; sleep 0.1; done
  grep -q "upstream saw: reset" "$log" || it_fail "$kind: the client's RST reached the upstream as '$(grep "upstream saw" "$log")'"
  it_log "$kind client reset: the upstream saw a reset"
  kill "$hog" 2>/dev/null
  wait "$hog" 2>/dev/null || true
  # Every session ended; the proxy's descriptors are back to what they were idle.
  local open n
  for _ in $(seq 1 50); do
    open=$(in_c $HOSTILE open-sessions "$IT_TMP/control")
    n=$(fds)
    [ "$open" = 0 ] && [ "$n" -le "$base" ] && break
    sleep 0.1
  done
  [ "$open" = 0 ] || it_fail "$kind: $open TCP sessions still open after every case ended"
  [ "$n" -le "$base" ] || { ls -l "/proc/$PX_PID/fd" >&2; it_fail "$kind: $n descriptors open, $base when idle"; }
  it_log "$kind: no session and no descriptor left ($n fds)"
  px_stop_proxy
}

run_kind hostile-socks5 bad-version no-method unoffered-method silent truncated bad-atyp \
  reply-version silent-reply refused garbage
run_kind hostile-http header-flood forbidden bad-gateway not-http truncated silent
# RFC 1929 username/password: a failure status, a wrong sub-negotiation version, half a
# reply, silence; the right credentials then work.
px_start_proxy hostile-auth --connect-timeout 2
case_echo hostile-auth ok
for m in auth-fail auth-bad-version auth-truncated auth-silent; do case_fail hostile-auth "$m"; done
case_echo hostile-auth ok
px_stop_proxy
# No upstream at all (nothing listens): refused, and nothing left behind.
px_start_proxy hostile-down --connect-timeout 2
case_fail hostile-down none
px_stop_proxy
# SIGTERM while a connection is stuck both ways (its destination floods a client that never
# reads): the drain gives up after --drain-timeout 2 and utcp-proxy still exits 0, cleanly.
echo flood >mode
px_start_proxy hostile-socks5 --drain-timeout 2
STALL_HOLD=20 in_c timeout 30 $HOSTILE stall "$T_ADDR" 7001 recv 1 >stall.out 2>&1 &
sleep 2
t0=$SECONDS
px_stop_proxy
[ $((SECONDS - t0)) -le 6 ] || it_fail "SIGTERM with a stuck connection took $((SECONDS - t0)) s (--drain-timeout 2)"
it_log "SIGTERM with a stuck connection: exit 0 after $((SECONDS - t0)) s"
