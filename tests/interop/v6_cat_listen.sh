#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# IPv6: kernel `nc -6` connects to `utcp-cat -l` at [fd77::2]; 20 MB of random bytes go each
# way at once, each side half-closes at the end of its input, outputs compared by SHA-256.
source "$(dirname "$0")/lib.sh"
it_init v6-cat-listen
it_need_tool UTCP_CAT
cd "$IT_TMP"
it_random_file to_utcp 20
it_random_file to_kernel 20

it_start "$UTCP_CAT" -l 5000 --stats <to_kernel >from_kernel 2>cat.err
cat_pid=$IT_PID
it_wait_tun6
it_start nc -6 -N "$STACK_ADDR6" 5000 <to_utcp >from_utcp
nc_pid=$IT_PID
it_wait "$nc_pid" 90
nc_rc=$IT_RC
it_wait "$cat_pid" 20
cat_rc=$IT_RC
it_check_cat_exchange "$cat_rc" "$nc_rc"
