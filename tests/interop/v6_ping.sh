#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# utcp answers ICMPv6 echo requests (RFC 4443 §4.2): `ping -6` small and large ones.
source "$(dirname "$0")/lib.sh"
it_init v6-ping
it_need_tool UTCP_SERVE
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 2>serve.err
it_wait_tun6
in_ns ping -6 -c 3 -i 0.2 -W 2 "$STACK_ADDR6" >ping.log || { cat ping.log >&2; it_fail "no replies"; }
grep -q '3 received' ping.log || { cat ping.log >&2; it_fail "lost replies"; }
in_ns ping -6 -c 2 -i 0.2 -W 2 -s 1400 -p a5 "$STACK_ADDR6" >ping_big.log || it_fail "large pings"
grep -q '2 received' ping_big.log || it_fail "lost large replies"
it_log "ping -6: $(grep -o '[0-9]* received' ping.log), large: $(grep -o '[0-9]* received' ping_big.log)"
