#!/usr/bin/env bash
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
it_start "$UTCP_CAT" -v "$KERNEL_ADDR" 6001 <data >/dev/null 2>trace.log
cat_pid=$IT_PID
it_wait "$cat_pid" 60
[ "$IT_RC" -eq 0 ] || { grep -v '^[<>]' trace.log >&2; it_fail "utcp-cat exited $IT_RC"; }
it_wait "$peer_pid" 20
it_same_file data got "4 MB through a zero window"
# Segments utcp sent while the kernel's last word was "window 0": the probes.
probes=$(awk '/^< / { zero = / win 0 / } /^> / && zero { n++ } END { print n + 0 }' trace.log)
grep -q '^< .* win 0 ' trace.log || it_fail "the kernel never advertised a zero window"
it_log "zero window seen; $probes segments sent while it was closed"
[ "$probes" -ge 2 ] || it_fail "no window probes"
