#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Soak: utcp-serve (echo and HTTP) under a long, mixed, lossy load from kernel clients, checked
# throughout. Opt-in (10 minutes by default); CTest runs a 60 s version (interop_soak_short).
#
#   scripts/soak.sh [--seconds N] [--loss P] [--delay MS] [--workers N] [--seed S]
#
# Everything runs in a network namespace of its own (tests/interop/lib.sh), deleted at exit.
# utcp-serve drops P of the packets each way and delays each by MS (its own fault injector:
# --drop, --delay). scripts/soak_client.py runs WORKERS threads of random exchanges (echo with
# half-close, connections held idle for random times, HTTP keep-alive GETs, curl, nc, and aborts
# with RST), checking every byte. Fails when:
#   - any exchange fails (a wrong byte, a short read, a timeout; the aborts are the only
#     injected errors);
#   - utcp-serve's RSS (VmRSS, sampled every 2 s) grows without bound: the largest sample of
#     the last third of the run exceeds the largest of the first third by more than 25 % plus
#     16 MiB (the first third includes the warm-up, when rings and tables reach their working
#     size; the margin absorbs the random mix of transfer sizes at any one moment);
#   - connections are left once the load has stopped, the kernel's sockets have closed and
#     utcp-serve's keep-alives (3 s idle, 10 probes 1 s apart) have found any peer whose
#     abort's RST was dropped (stack.connections at exit must be 0);
#   - utcp-serve counts a reset the clients did not cause (tcp.conn.reset > aborts), a
#     malformed or corrupt segment, or exits non-zero.
# Tools: $UTCP_SERVE (set by CTest), else build/dev/tools/utcp-serve. UTCP_SOAK_KEEP=1 keeps
# the scratch directory (server log, RSS samples) of a failed run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=600 loss=0.05 delay=5 workers=32 seed=""
while [ $# -gt 0 ]; do
  case $1 in
    --seconds) seconds=$2; shift 2 ;;
    --loss) loss=$2; shift 2 ;;
    --delay) delay=$2; shift 2 ;;
    --workers) workers=$2; shift 2 ;;
    --seed) seed=$2; shift 2 ;;
    -h|--help) sed -n '3,24p' "$0"; exit 0 ;;
    *) echo "soak: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[[ $seconds =~ ^[0-9]+$ && $seconds -ge 15 ]] || { echo "soak: --seconds needs 15 or more" >&2; exit 2; }
[[ $workers =~ ^[0-9]+$ && $workers -ge 1 ]] || { echo "soak: --workers needs a count" >&2; exit 2; }
[ -z "$seed" ] && seed=$((RANDOM * 32768 + RANDOM))
UTCP_SERVE=${UTCP_SERVE:-$root/build/dev/tools/utcp-serve}
[ -n "${UTCP_SOAK_KEEP:-}" ] && IT_KEEP=1
# The watchdog (lib.sh) leaves room for the clients' last exchanges and the wind-down.
IT_LIMIT=$((seconds + 400))
source "$root/tests/interop/lib.sh"
it_init soak
it_need_tool UTCP_SERVE
command -v curl >/dev/null || it_skip "no curl"
command -v nc >/dev/null || it_skip "no nc"
cd "$IT_TMP"
it_log "soak: ${seconds} s, loss $loss each way, delay $delay ms, $workers workers, seed $seed"

# Files for HTTP: random sizes from 0 bytes to 3 MiB.
mkdir www
for i in $(seq 1 12); do
  head -c $(( (RANDOM * 32768 + RANDOM) % (3 << 20) / (1 << (RANDOM % 10)) )) /dev/urandom >www/f$i
done
: >www/empty

# --keepalive: a client's abort is one RST; when it is lost (--drop) and utcp has nothing left
# to send, utcp never hears of it again, as any TCP (RFC 9293 §3.8.4: only keep-alives or an
# application timeout find a peer gone). A keep-alive probe to the vanished peer draws the
# kernel's RST. A live connection answers every probe, so, unlike an idle timeout, this cuts
# nothing live however long echo-held's connections wait (their idle time is 10 s plus the
# other connections' exchanges, which retransmissions under ASan can stretch past 15 s).
# A dead connection is gone $ka_bound s after its last segment at most.
ka_idle=3 ka_intvl=1 ka_cnt=10
ka_bound=$((ka_idle + ka_intvl * ka_cnt + 1))
it_start "$UTCP_SERVE" --echo 7 --http 80 --root www --stats --drop "$loss" --delay "$delay" \
  --seed "$seed" --keepalive "$ka_idle,$ka_intvl,$ka_cnt" 2>serve.err
serve=$IT_PID
it_wait_tun
[ "$(cat /proc/$serve/comm)" = utcp-serve ] || it_fail "pid $serve is not utcp-serve"

it_start "$IT_PYTHON" "$root/scripts/soak_client.py" --host "$STACK_ADDR" --echo 7 --http 80 \
  --www www --seconds "$seconds" --workers "$workers" --seed "$seed" >client.out 2>&1
client=$IT_PID

# Sample the server's RSS and the kernel's connections to it while the clients run (and show
# the clients' progress).
: >rss.log
: >conns.log
shown=0
start=$(date +%s)
while kill -0 "$client" 2>/dev/null; do
  kill -0 "$serve" 2>/dev/null || { tail -n 20 serve.err >&2; it_fail "utcp-serve died"; }
  awk '/^VmRSS:/ {print $2}' "/proc/$serve/status" >>rss.log
  in_ns ss -Htn state established dst "$STACK_ADDR" | wc -l >>conns.log
  lines=$(wc -l <client.out)
  if [ "$lines" -gt "$shown" ]; then
    sed -n "$((shown + 1)),${lines}p" client.out
    shown=$lines
  fi
  sleep 2
done
it_wait "$client" 5
client_rc=$IT_RC
sed -n "$((shown + 1)),\$p" client.out
elapsed=$(($(date +%s) - start))

# Wind-down: wait (bounded) until the kernel holds no socket to utcp but in TIME-WAIT, then
# give utcp's last ACKs and FIN retransmissions a moment.
ended=$(date +%s)
for _ in $(seq 1 60); do
  [ -z "$(in_ns ss -Htan dst "$STACK_ADDR" | grep -v TIME-WAIT)" ] && break
  sleep 1
done
sleep 3
# ... and for a connection whose peer's RST was lost, utcp-serve's keep-alives (above),
# counted from the clients' end at the latest.
while [ $(($(date +%s) - ended)) -le "$ka_bound" ]; do sleep 1; done
awk '/^VmRSS:/ {print $2}' "/proc/$serve/status" >>rss.log
kill -TERM "$serve"
it_wait "$serve" 20
serve_rc=$IT_RC

counter() { awk -v n="$1" '$1 == n {print $2}' "$2" | head -1; }
grep -E '^(stack\.connections|tcp\.(passive-opens|conn\.|drop\.)|tun\.(rx|tx)_packets|fault\.)' \
  serve.err || true
[ "$client_rc" -eq 0 ] || it_fail "$(counter failures client.out) exchanges failed (see above)"
[ "$serve_rc" -eq 0 ] || { tail -n 20 serve.err >&2; it_fail "utcp-serve exited $serve_rc"; }

# RSS: thirds of the samples taken under load (the last one, after the wind-down, is apart).
n=$(($(wc -l <rss.log) - 1))
[ "$n" -ge 6 ] || it_fail "only $n RSS samples"
read -r first last end <<<"$(awk -v n="$n" '
  NR <= n / 3 && $1 > f { f = $1 }
  NR > n - n / 3 && NR <= n && $1 > l { l = $1 }
  NR == n + 1 { e = $1 }
  END { print f, l, e }' rss.log)"
limit=$((first * 125 / 100 + 16384))
it_log "RSS (KiB): first third max $first, last third max $last (limit $limit), after the load $end"
if grep -q __asan_init "$UTCP_SERVE"; then
  # ASan holds freed memory in its quarantine (256 MB), so RSS grows by design there.
  it_log "RSS limit not applied: utcp-serve is built with AddressSanitizer"
else
  [ "$last" -le "$limit" ] || it_fail "RSS grew: $last KiB in the last third against $first in the first"
fi

conns=$(counter stack.connections serve.err)
resets=$(counter tcp.conn.reset serve.err)
aborts=$(counter aborts client.out)
opens=$(counter tcp.passive-opens serve.err)
[ "${conns:-1}" -eq 0 ] || it_fail "$conns connections left in the stack after the load"
[ "${resets:-0}" -le "${aborts:-0}" ] || it_fail "$resets resets, but the clients aborted only $aborts"
for bad in tcp.drop.malformed tcp.drop.bad-checksum tcp.drop.bad-options ip.drop.bad-checksum; do
  [ "$(counter $bad serve.err)" = 0 ] || it_fail "$bad: $(counter $bad serve.err)"
done
it_log "soak passed: $elapsed s, $opens connections (at most $(sort -n conns.log | tail -1)" \
  "established at once), $(counter bytes client.out) bytes checked, $aborts aborts," \
  "$resets resets counted"
echo PASS
