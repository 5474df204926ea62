#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# A kernel reader with a small buffer stops reading for 5 s: its window goes to zero, utcp
# keeps probing it (RFC 9293 §3.8.6.1), and the transfer completes byte-exact afterwards.
source "$(dirname "$0")/lib.sh"
it_init zero-window
it_need_tool UTCP_CAT
cd "$IT_TMP"
it_random_file data 4
it_start $PEER slow-reader-server 6001 5 got
peer_pid=$IT_PID
it_wait_listen 6001
it_start "$UTCP_CAT" --pcap cap.pcap "$KERNEL_ADDR" 6001 <data >/dev/null 2>cat.err
cat_pid=$IT_PID
it_wait "$cat_pid" 60
[ "$IT_RC" -eq 0 ] || { cat cat.err >&2; it_fail "utcp-cat exited $IT_RC"; }
it_wait "$peer_pid" 20
it_same_file data got "4 MB through a zero window"
# The capture (decoded by tshark, which tolerates offloaded partial checksums) shows the
# kernel's zero windows and utcp's probes into them.
command -v tshark >/dev/null || it_skip "transfer ok; no tshark to check the probes"
zero=$(tshark -r cap.pcap -Y "tcp.srcport == 6001 && tcp.window_size_value == 0" 2>/dev/null | wc -l)
probes=$(tshark -r cap.pcap -Y "tcp.analysis.zero_window_probe" 2>/dev/null | wc -l)
it_log "kernel advertised a zero window $zero times; utcp sent $probes window probes"
[ "$zero" -ge 1 ] || it_fail "the kernel never advertised a zero window"
[ "$probes" -ge 2 ] || it_fail "no window probes"
