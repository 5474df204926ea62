#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Dual stack: one `utcp-cat -l -k` listener takes an IPv4 and then an IPv6 connection (the
# bytes of both arrive, in order), `-v` names the peers as 10.77.0.1:PORT and [fd77::1]:PORT;
# `utcp-serve --echo` answers echo clients over both families at once; with --no-ipv6 the
# kernel side has no IPv6 address and the IPv6 connection is impossible.
source "$(dirname "$0")/lib.sh"
it_init v6-dual-stack
it_need_tool UTCP_CAT
it_need_tool UTCP_SERVE
cd "$IT_TMP"
it_random_file over_v4 2
it_random_file over_v6 2

# No input for utcp-cat: it half-closes each connection at once; the kernel's nc (connecting,
# so it keeps sending after that FIN) sends its file and FIN.
it_start "$UTCP_CAT" -l 5000 -k -v </dev/null >from_kernel 2>cat.err
cat_pid=$IT_PID
it_wait_tun6
in_ns timeout 30 nc -N "$STACK_ADDR" 5000 <over_v4 >/dev/null || it_fail "IPv4 connection"
in_ns timeout 30 nc -6 -N "$STACK_ADDR6" 5000 <over_v6 >/dev/null || it_fail "IPv6 connection"
cat over_v4 over_v6 >both
for _ in $(seq 1 100); do
  [ "$(stat -c %s from_kernel)" -ge "$(stat -c %s both)" ] && break
  sleep 0.05
done
it_same_file both from_kernel "IPv4 then IPv6 to one listener"
grep -Eq "connection from 10\.77\.0\.1:[0-9]+$" cat.err || { cat cat.err >&2; it_fail "-v: no IPv4 peer"; }
grep -Eq "connection from \[fd77::1\]:[0-9]+$" cat.err || { cat cat.err >&2; it_fail "-v: no IPv6 peer"; }
grep -Eq "^\* \[fd77::2\]:5000 > \[fd77::1\]:[0-9]+ state" cat.err ||
  { cat cat.err >&2; it_fail "-v: no IPv6 state line"; }
grep -Eq "^[<>] .*fd77::" cat.err || { head -20 cat.err >&2; it_fail "-v: no IPv6 segment lines"; }
kill "$cat_pid"
it_wait "$cat_pid" 10

it_start "$UTCP_SERVE" --echo 7 2>serve.err
serve_pid=$IT_PID
it_wait_tun6
in_ns $PEER many-echo "$STACK_ADDR" 7 10 100000 || it_fail "IPv4 echo"
in_ns $PEER many-echo "$STACK_ADDR6" 7 10 100000 || it_fail "IPv6 echo"
kill "$serve_pid"
it_wait "$serve_pid" 10
[ "$IT_RC" -eq 0 ] || { cat serve.err >&2; it_fail "utcp-serve exited $IT_RC"; }

it_start "$UTCP_SERVE" --no-ipv6 --echo 7 2>serve.err
serve_pid=$IT_PID
it_wait_tun
! ip -n "$IT_NS" -6 addr show dev utcp0 | grep -q "$KERNEL_ADDR6" || it_fail "--no-ipv6 set $KERNEL_ADDR6"
in_ns $PEER echo-client "$STACK_ADDR" 7 1000 || it_fail "IPv4 echo with --no-ipv6"
it_log "dual stack: one listener, both families; utcp-serve echo over both; --no-ipv6: IPv4 only"
