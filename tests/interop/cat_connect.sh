#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `utcp-cat HOST PORT` connects to a kernel listener; random bytes go each way at once,
# half-close at the end of each input, outputs compared by SHA-256. Two rounds: 20 MB each
# way, then 1 MB from utcp against 20 MB to it (utcp's FIN goes first and it keeps receiving
# the bulk in FIN-WAIT-2). The second round runs with `--cc cubic+hystart` (RFC 9406), which
# tcp_info must name; an unknown controller is a command-line error (exit 2).
# The listener is peer.py cat-server, not `nc -N -l`: Debian's netcat-openbsd in listen mode
# exits as soon as the connection's incoming side has ended and its buffer is empty, with
# standard input unread ("listen and net in gone, queues empty, done" in its readwrite()).
# Whenever utcp-cat's data and FIN arrived first, nc closed early and the kernel->utcp
# stream was cut short (in some runs of the first round, in every run of the second).
source "$(dirname "$0")/lib.sh"
it_init cat-connect
it_need_tool UTCP_CAT
cd "$IT_TMP"
it_random_file to_utcp 20

for mb in 20 1; do
  it_log "round: $mb MB utcp -> kernel, 20 MB kernel -> utcp"
  it_random_file to_kernel "$mb"
  rm -f from_utcp from_kernel
  it_start $PEER cat-server 5001 to_utcp from_utcp
  peer_pid=$IT_PID
  it_wait_listen 5001
  cc=cubic
  [ "$mb" = 1 ] && cc=cubic+hystart
  it_start "$UTCP_CAT" --stats --cc "$cc" "$KERNEL_ADDR" 5001 <to_kernel >from_kernel 2>cat.err
  cat_pid=$IT_PID
  it_wait "$cat_pid" 90
  cat_rc=$IT_RC
  it_wait "$peer_pid" 20
  peer_rc=$IT_RC
  it_check_cat_exchange "$cat_rc" "$peer_rc"
  grep -qx "tcp_info.congestion_control $cc" cat.err ||
    { cat cat.err >&2; it_fail "--cc $cc not in effect"; }
done

rc=0
"$UTCP_CAT" --cc vegas "$KERNEL_ADDR" 5001 </dev/null 2>cc.err || rc=$?
[ "$rc" = 2 ] || { cat cc.err >&2; it_fail "--cc vegas exited $rc, expected 2"; }
it_log "--cc selects the controller; an unknown one is refused"
