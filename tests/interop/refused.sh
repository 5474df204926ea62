#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A kernel client connecting to a utcp port nobody listens on gets "connection refused"
# (utcp answers the SYN with RST, RFC 9293 §3.10.7.1); the listening port still works;
# and utcp-cat refused by the kernel says so and exits 1.
source "$(dirname "$0")/lib.sh"
it_init refused
it_need_tool UTCP_SERVE
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 2>serve.err
it_wait_tun
in_ns $PEER refused "$STACK_ADDR" 9 || it_fail "port 9"
in_ns $PEER refused "$STACK_ADDR" 65535 || it_fail "port 65535"
in_ns $PEER echo-client "$STACK_ADDR" 7 1000 || it_fail "the open port stopped working"

# The other way: utcp-cat (on a second TUN) connecting to a kernel port nobody listens on
# reports the refusal on stderr and exits 1.
set +e
in_ns "$UTCP_CAT" --tun utcp1 --addr 10.77.1.2 --host-addr 10.77.1.1/24 10.77.1.1 6999 \
  </dev/null >out 2>cat.err
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat cat.err >&2; it_fail "utcp-cat exited $rc, expected 1"; }
grep -q "utcp-cat: connect 10.77.1.1:6999: connection refused" cat.err ||
  { cat cat.err >&2; it_fail "stderr does not name the refused target"; }
it_log "utcp-cat: $(cat cat.err)"
