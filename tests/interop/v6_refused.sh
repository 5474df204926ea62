#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# IPv6: a kernel client connecting to a utcp port nobody listens on is refused (RST, RFC 9293
# §3.10.7.1); the listening port still works over IPv6; utcp-cat refused by the kernel over
# IPv6 names [fd77:1::1]:6999 and exits 1.
source "$(dirname "$0")/lib.sh"
it_init v6-refused
it_need_tool UTCP_SERVE
it_need_tool UTCP_CAT
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 2>serve.err
it_wait_tun6
in_ns $PEER refused "$STACK_ADDR6" 9 || it_fail "port 9"
in_ns $PEER echo-client "$STACK_ADDR6" 7 1000 || it_fail "the open port stopped working"

set +e
in_ns "$UTCP_CAT" --tun utcp1 --addr 10.77.1.2 --host-addr 10.77.1.1/24 --addr6 fd77:1::2 \
  --host-addr6 fd77:1::1/64 fd77:1::1 6999 </dev/null >out 2>cat.err
rc=$?
set -e
[ "$rc" -eq 1 ] || { cat cat.err >&2; it_fail "utcp-cat exited $rc, expected 1"; }
grep -q "utcp-cat: connect \[fd77:1::1\]:6999: connection refused" cat.err ||
  { cat cat.err >&2; it_fail "stderr does not name the refused target"; }
it_log "utcp-cat: $(cat cat.err)"
