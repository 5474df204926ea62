#!/usr/bin/env bash
# A kernel client connecting to a utcp port nobody listens on gets "connection refused"
# (utcp answers the SYN with RST, RFC 9293 §3.10.7.1); the listening port still works.
source "$(dirname "$0")/lib.sh"
it_init refused
it_need_tool UTCP_SERVE
cd "$IT_TMP"
it_start "$UTCP_SERVE" --echo 7 2>serve.err
it_wait_tun
in_ns $PEER refused "$STACK_ADDR" 9 || it_fail "port 9"
in_ns $PEER refused "$STACK_ADDR" 65535 || it_fail "port 65535"
in_ns $PEER echo-client "$STACK_ADDR" 7 1000 || it_fail "the open port stopped working"
