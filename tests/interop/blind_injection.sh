#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Blind attacks during a transfer, from the kernel side of the TUN (blind_inject.py, a raw
# socket in this test's namespace, spoofing the kernel's end of the 4-tuple): in-window and
# random RSTs, SYNs, data with an unacceptable ACK (some with a TSval far ahead) and ICMP
# "fragmentation needed" to MTU 68 quoting a sequence number not in flight, while utcp sends
# 24 MB to the kernel, then while the kernel sends 24 MB to utcp (--rate keeps each transfer
# running for seconds). Each transfer completes byte-exact; utcp's counters show the challenge
# ACKs (RFC 5961 §3.2, §4.2, §5.2) and the ICMP errors dropped (RFC 5927 §4.1), no reset; the
# connection's MSS is unchanged. Last, the control: one RST with SEG.SEQ = RCV.NXT does reset
# the connection (RFC 9293 §3.10.7.4), so the injector can hit and the test can fail.
source "$(dirname "$0")/lib.sh"
it_init blind
it_need_tool UTCP_CAT
cd "$IT_TMP"
INJECT="$IT_PYTHON $IT_DIR/blind_inject.py"
counter() { awk -v n="$1" '$1 == n {print $2}' "$2" | head -1; }
# Waits (bounded) until the injector watches the link: it must see the handshake (window scale).
wait_watching() {
  for _ in $(seq 1 200); do
    grep -q '^watching' inject.out 2>/dev/null && return 0
    sleep 0.05
  done
  it_fail "the injector never started: $(cat inject.err)"
}

# One transfer under a spray: $1 the direction (to-kernel, to-utcp), $2 the port.
transfer_under_attack() {
  local dir=$1 port=$2 cat_pid nc_pid inj_pid
  it_random_file payload 24
  : >empty
  if [ "$dir" = to-kernel ]; then
    it_start "$UTCP_CAT" -l "$port" --rate 40 --stats <payload >got.utcp 2>cat.err
  else
    it_start "$UTCP_CAT" -l "$port" --rate 40 --stats <empty >got.utcp 2>cat.err
  fi
  cat_pid=$IT_PID
  it_wait_tun
  it_start $INJECT spray utcp0 "$STACK_ADDR" "$port" 30 20000 >inject.out 2>inject.err
  inj_pid=$IT_PID
  wait_watching
  if [ "$dir" = to-kernel ]; then
    it_start nc -N "$STACK_ADDR" "$port" <empty >got.kernel
  else
    it_start nc -N "$STACK_ADDR" "$port" <payload >got.kernel
  fi
  nc_pid=$IT_PID
  it_wait "$nc_pid" 60
  local nc_rc=$IT_RC
  it_wait "$cat_pid" 20
  local cat_rc=$IT_RC
  kill -TERM "$inj_pid" 2>/dev/null || true
  it_wait "$inj_pid" 10
  it_log "$dir: injected: $(grep -v '^watching' inject.out | tr '\n' ' ') $(cat inject.err)"
  grep -E '^(tcp\.(challenge-ack|conn\.reset|drop\.)|icmp\.|tcp_info\.snd_mss)' cat.err || true
  [ "$cat_rc" -eq 0 ] || { cat cat.err >&2; it_fail "$dir: utcp-cat exited $cat_rc"; }
  [ "$nc_rc" -eq 0 ] || it_fail "$dir: nc exited $nc_rc"
  if [ "$dir" = to-kernel ]; then
    it_same_file payload got.kernel "$dir under attack"
  else
    it_same_file payload got.utcp "$dir under attack"
  fi

  local inwin syn data forged icmp sent limited icmp_drop resets mss
  inwin=$(counter rst-inwindow inject.out)
  syn=$(counter syn inject.out)
  data=$(counter data inject.out)
  forged=$(counter data-forged-ts inject.out)
  icmp=$(counter icmp inject.out)
  for n in "$inwin" "$syn" "$data" "$forged" "$icmp"; do
    [ "${n:-0}" -ge 20 ] || it_fail "$dir: the injector sent too few of a kind: $(cat inject.out)"
  done
  sent=$(counter tcp.challenge-ack.sent cat.err)
  limited=$(counter tcp.challenge-ack.rate-limited cat.err)
  icmp_drop=$(counter icmp.drop.error-seq-not-in-flight cat.err)
  resets=$(counter tcp.conn.reset cat.err)
  mss=$(counter tcp_info.snd_mss cat.err)
  # Every in-window RST or SYN, and every in-window segment whose ACK is too old, is answered
  # by a challenge ACK or refused one by the RFC 5961 §7 limit (2 per second per connection).
  # Towards the kernel RCV.NXT stands still, so every RST aimed at the window lands in it
  # (some spoofed packets may be lost in a full TUN queue, hence half). Towards utcp the RSTs
  # aim inside segments in flight, most arriving after RCV.NXT has passed them (old: dropped
  # without a challenge); the SYNs aim at RCV.NXT as last seen plus up to the window, and a
  # quarter of them is a safe floor.
  local want=$((syn / 4))
  [ "$dir" = to-kernel ] && want=$((inwin / 2 + syn / 2))
  [ "${sent:-0}" -ge 1 ] || it_fail "$dir: no challenge ACK sent"
  [ $((sent + limited)) -ge "$want" ] ||
    it_fail "$dir: $((sent + limited)) challenge ACKs for $inwin in-window RSTs (want $want)"
  [ "${icmp_drop:-0}" -ge $((icmp / 2)) ] ||
    it_fail "$dir: only ${icmp_drop:-0} of $icmp forged ICMP errors dropped as not in flight"
  [ "${resets:-0}" -eq 0 ] || it_fail "$dir: the connection was reset"
  # 1500-byte MTU: 1448 with timestamps. A forged ICMP taken would give at most 512 (the floor).
  [ "${mss:-0}" -ge 1400 ] || it_fail "$dir: MSS ${mss:-none} after the forged ICMP errors"
  it_log "$dir: challenge ACKs $sent sent + $limited limited, $icmp_drop ICMP dropped, MSS $mss"
}

transfer_under_attack to-kernel 5000
transfer_under_attack to-utcp 5001

# The control: an RST exactly at RCV.NXT ends the transfer (utcp-cat reports the reset).
it_random_file payload 24
it_start "$UTCP_CAT" -l 5002 --rate 40 --stats <payload >/dev/null 2>cat.err
cat_pid=$IT_PID
it_wait_tun
it_start $INJECT exact-rst utcp0 "$STACK_ADDR" 5002 20 1 >inject.out 2>inject.err
inj_pid=$IT_PID
wait_watching
it_start nc -N "$STACK_ADDR" 5002 </dev/null >got.kernel
nc_pid=$IT_PID
it_wait "$inj_pid" 30
[ "$IT_RC" -eq 0 ] || it_fail "exact RST injector: $(cat inject.err)"
it_wait "$cat_pid" 20
cat_rc=$IT_RC
kill "$nc_pid" 2>/dev/null || true
it_log "exact RST: $(grep -v '^watching' inject.out); utcp-cat exited $cat_rc, kernel got $(stat -c %s got.kernel) bytes"
[ "$cat_rc" -eq 1 ] || { cat cat.err >&2; it_fail "utcp-cat exited $cat_rc after the exact RST"; }
grep -qi "reset" cat.err || { cat cat.err >&2; it_fail "no reset reported"; }
[ "$(counter tcp.conn.reset cat.err)" -eq 1 ] || it_fail "the reset was not counted"
[ "$(stat -c %s got.kernel)" -lt "$(stat -c %s payload)" ] || it_fail "the transfer completed"
echo PASS
