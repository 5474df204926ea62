#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# utcp answers ICMP echo requests (RFC 1122 §3.2.2.6), including large ones.
source "$(dirname "$0")/lib.sh"
it_init ping
it_need_tool UTCP_SERVE
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 2>serve.err
it_wait_tun
in_ns ping -c 3 -i 0.2 -W 2 "$STACK_ADDR" >ping.log || { cat ping.log >&2; it_fail "no replies"; }
grep -q '3 received' ping.log || { cat ping.log >&2; it_fail "lost replies"; }
in_ns ping -c 2 -i 0.2 -W 2 -s 1400 -p a5 "$STACK_ADDR" >ping_big.log || it_fail "large pings"
grep -q '2 received' ping_big.log || it_fail "lost large replies"
it_log "ping: $(grep -o '[0-9]* received' ping.log), large: $(grep -o '[0-9]* received' ping_big.log)"
