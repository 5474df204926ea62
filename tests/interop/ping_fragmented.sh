#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Echo requests larger than the MTU (RFC 791 §3.2, RFC 1122 §3.3.2): the kernel fragments
# the request, utcp reassembles it and fragments its reply, and ping gets every answer.
source "$(dirname "$0")/lib.sh"
it_init pingfrag
it_need_tool UTCP_SERVE
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 --stats 2>serve.err
it_wait_tun
for size in 3000 8000; do
  in_ns ping -c 3 -i 0.2 -W 2 -s "$size" -p 5a "$STACK_ADDR" >"ping_$size.log" ||
    { cat "ping_$size.log" >&2; it_fail "no replies to ping -s $size"; }
  grep -q '3 received' "ping_$size.log" || { cat "ping_$size.log" >&2; it_fail "lost replies (-s $size)"; }
  # ping checks the pattern and the size of each reply: a wrong byte would be reported.
  if grep -q 'wrong data\|truncated' "ping_$size.log"; then
    cat "ping_$size.log" >&2
    it_fail "corrupt reply (-s $size)"
  fi
done
it_log "ping -s 3000: $(grep -o '[0-9]* received' ping_3000.log), -s 8000: $(grep -o '[0-9]* received' ping_8000.log)"
