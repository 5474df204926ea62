#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# IPv6: `utcp-cat fd77::1 PORT` connects to a kernel listener; 20 MB go each way at once,
# half-close at the end of each input, outputs compared by SHA-256 (peer.py cat-server: see
# cat_connect.sh for why not `nc -l` both ways). Then `utcp-cat [fd77::1]:PORT` sends 5 MB to
# `nc -6 -l`, which closes after utcp-cat's FIN.
source "$(dirname "$0")/lib.sh"
it_init v6-cat-connect
it_need_tool UTCP_CAT
[ -d /proc/sys/net/ipv6 ] || it_skip "the kernel has no IPv6"
cd "$IT_TMP"
it_random_file to_utcp 20
it_random_file to_kernel 20

it_start $PEER cat-server 5001 to_utcp from_utcp
peer_pid=$IT_PID
it_wait_listen 5001
it_start "$UTCP_CAT" --stats "$KERNEL_ADDR6" 5001 <to_kernel >from_kernel 2>cat.err
cat_pid=$IT_PID
it_wait "$cat_pid" 90
cat_rc=$IT_RC
it_wait "$peer_pid" 20
it_check_cat_exchange "$cat_rc" "$IT_RC"

it_random_file to_nc 5
# The first utcp-cat has exited and its TUN with it: nc listens on every IPv6 address.
it_start nc -6 -l 5002 </dev/null >from_cat 2>nc.err
nc_pid=$IT_PID
it_wait_listen 5002
in_ns "$UTCP_CAT" "[$KERNEL_ADDR6]:5002" <to_nc >/dev/null 2>cat2.err && cat2_rc=0 || cat2_rc=$?
[ "$cat2_rc" -eq 0 ] || { cat cat2.err >&2; it_fail "utcp-cat [$KERNEL_ADDR6]:5002 exited $cat2_rc"; }
it_wait "$nc_pid" 20
it_same_file to_nc from_cat "utcp-cat -> nc -6 -l"
