#!/usr/bin/env bash
# `utcp-cat HOST PORT` connects to a kernel `nc -l`; 20 MB of random bytes each way at once,
# half-close at the end of each input, outputs compared by SHA-256.
source "$(dirname "$0")/lib.sh"
it_init cat-connect
it_need_tool UTCP_CAT
cd "$IT_TMP"
it_random_file to_utcp 20
it_random_file to_kernel 20

it_start nc -N -l 5001 <to_utcp >from_utcp
nc_pid=$IT_PID
it_wait_listen 5001
it_start "$UTCP_CAT" --stats "$KERNEL_ADDR" 5001 <to_kernel >from_kernel 2>cat.err
cat_pid=$IT_PID
it_wait "$cat_pid" 90
cat_rc=$IT_RC
it_wait "$nc_pid" 20
nc_rc=$IT_RC
it_check_cat_exchange "$cat_rc" "$nc_rc"
