#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# IPv6 with 3 % random loss in the namespace (nftables, ip6 family, both directions on the
# TUN) plus utcp-side reordering: 20 MB still arrive byte-exact each way over [fd77::2].
source "$(dirname "$0")/lib.sh"
it_init v6-loss
it_need_tool UTCP_CAT
command -v nft >/dev/null || it_skip "no nft"
cd "$IT_TMP"
in_ns nft add table ip6 utcp_loss
in_ns nft add chain ip6 utcp_loss in '{ type filter hook input priority 0; }'
in_ns nft add chain ip6 utcp_loss out '{ type filter hook output priority 0; }'
in_ns nft add rule ip6 utcp_loss in iifname utcp0 meta l4proto tcp numgen random mod 100 '<' 3 counter drop
in_ns nft add rule ip6 utcp_loss out oifname utcp0 meta l4proto tcp numgen random mod 100 '<' 3 counter drop
it_random_file to_utcp 20
it_random_file to_kernel 20
seed=${UTCP_SEED:-$RANDOM}
it_log "fault seed $seed (UTCP_SEED=$seed replays utcp's side)"

it_start "$UTCP_CAT" -l 5000 --reorder 0.02 --seed "$seed" --stats <to_kernel >from_kernel 2>cat.err
cat_pid=$IT_PID
it_wait_tun6
it_start nc -6 -N "$STACK_ADDR6" 5000 <to_utcp >from_utcp
nc_pid=$IT_PID
it_wait "$nc_pid" 120
nc_rc=$IT_RC
it_wait "$cat_pid" 30
[ "$IT_RC" -eq 0 ] || { grep -v ' 0$' cat.err >&2; it_fail "utcp-cat exited $IT_RC"; }
[ "$nc_rc" -eq 0 ] || it_fail "nc exited $nc_rc"
it_same_file to_utcp from_kernel "kernel -> utcp over IPv6 with loss"
it_same_file to_kernel from_utcp "utcp -> kernel over IPv6 with loss"
dropped=$(in_ns nft list table ip6 utcp_loss | grep -o 'counter packets [0-9]*' | awk '{s += $3} END {print s}')
[ "${dropped:-0}" -gt 0 ] || it_fail "nftables dropped nothing: the loss rule did not apply"
it_log "nft dropped $dropped IPv6 TCP segments"
grep -E '^fault\.(tx|rx)\.reordered ' cat.err
