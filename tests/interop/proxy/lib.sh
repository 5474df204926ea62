# SPDX-License-Identifier: BSD-2-Clause
# The three-namespace world of the utcp-proxy interop tests (issue 14):
#
#   C (client)  c0 10.80.0.1 fd80::1 ---- p0 10.80.0.2 fd80::2  P (proxy host)
#   utcp-proxy, its TUN utcp0                p1 10.81.0.1 fd81::1   danted :1080 (no auth),
#   (10.77.0.1 kernel side), curl/python         |                   :1081 (username), tinyproxy
#   default route via P                          |                   :8888 (open), :8889 (Basic)
#                                             t0 10.81.0.2 fd81::2  T (target)
#                                             pxpeer.py (echo 7001, sink 7002, source 7003,
#                                             half-close 7004, HTTP 8080), dnsmasq :53
#
# The tunnelled destinations (10.81.0.0/24, fd81::/64) are routed into the TUN by
# utcp-proxy --route; its upstream sockets reach P over c0 (the connected route; for --direct,
# --interface c0 binds them to it so the default route via P is used, not the TUN).
# Every daemon runs inside a namespace with a config written to the test's scratch dir, and
# is killed at exit with the namespaces (and /etc/netns/<ns>, used for P's resolv.conf and its
# throwaway SOCKS user) even on failure.
#
#   source "$(dirname "$0")/lib.sh"; px_init <case>; px_world
#   px_start_proxy socks5 [more utcp-proxy flags]   # waits for "utcp-proxy: ready"
#   in_c $PXPEER upload 10.81.0.2 20000000
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

PX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PXPEER="$IT_PYTHON $PX_DIR/pxpeer.py"
C_ADDR=10.80.0.1
P_ADDR=10.80.0.2
P_ADDR_T=10.81.0.1
T_ADDR=10.81.0.2
C_ADDR6=fd80::1
P_ADDR6=fd80::2
T_ADDR6=fd81::2
T_NET=10.81.0.0/24
T_NET6=fd81::/64
PX_USER=utcpsocks
PX_PASS=proxy-test-pass
PX_NS=()

px_cleanup() {
  local rc=$?
  set +e
  if [ -n "${IT_WATCHDOG:-}" ]; then
    kill -KILL "$IT_WATCHDOG" $(pgrep -P "$IT_WATCHDOG") 2>/dev/null
  fi
  for pid in "${IT_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for pid in "${IT_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
  local ns
  for ns in "${PX_NS[@]}"; do px_kill_ns "$ns"; done
  if [ -n "${IT_TMP:-}" ]; then
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "${IT_KEEP:-}" ]; then
      echo "kept $IT_TMP" >&2
    else
      rm -rf "$IT_TMP"
    fi
  fi
  return $rc
}

# Ends every process still inside namespace $1 (daemons' children), then deletes it and its
# /etc/netns files.
px_kill_ns() {
  local ns=$1 pids
  pids=$(ip netns pids "$ns" 2>/dev/null)
  [ -n "$pids" ] && kill -KILL $pids 2>/dev/null
  ip netns del "$ns" 2>/dev/null
  rm -rf "/etc/netns/$ns"
}

px_init() {
  local name=$1
  [ "$(id -u)" -eq 0 ] || it_skip "needs root (network namespaces, TUN)"
  [ -c /dev/net/tun ] || it_skip "no /dev/net/tun"
  command -v ip >/dev/null || it_skip "no iproute2"
  # Namespaces of earlier runs killed outright (their trap never ran): the pid in the name
  # no longer runs.
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^utcp-it-px/ {print $1}'); do
    kill -0 "${ns##*-}" 2>/dev/null || px_kill_ns "$ns"
  done
  IT_TMP=$(mktemp -d "/tmp/utcp-it-px-$name.XXXXXX")
  chmod 755 "$IT_TMP"  # daemons that drop to nobody read their configs here
  trap px_cleanup EXIT
  trap 'exit 130' INT TERM
  ( trap '' TERM
    sleep "${IT_LIMIT:-100}"
    echo "FAIL: watchdog: still running after ${IT_LIMIT:-100}s" >&2
    pkill -TERM -P $$
    kill -TERM $$ ) &
  IT_WATCHDOG=$!
  disown "$IT_WATCHDOG" 2>/dev/null || true
  NS_C="utcp-it-px$name-c-$$"
  NS_P="utcp-it-px$name-p-$$"
  NS_T="utcp-it-px$name-t-$$"
  for ns in "$NS_C" "$NS_P" "$NS_T"; do
    ip netns add "$ns" || it_skip "cannot create a network namespace"
    PX_NS+=("$ns")
    ip -n "$ns" link set lo up
  done
  IT_NS=$NS_C  # lib.sh's in_ns / it_start run in the client namespace
  it_log "namespaces $NS_C $NS_P $NS_T, scratch $IT_TMP"
}

in_c() { ip netns exec "$NS_C" "$@"; }
in_p() { ip netns exec "$NS_P" "$@"; }
in_t() { ip netns exec "$NS_T" "$@"; }

# The links, addresses and routes. Veths are created inside the namespaces, never on the host.
px_links() {
  # No duplicate address detection: an address still tentative cannot be bound (a daemon
  # starting right after would fail on it).
  local ns
  for ns in "$NS_C" "$NS_P" "$NS_T"; do
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0
  done
  ip -n "$NS_C" link add c0 type veth peer name p0 netns "$NS_P"
  ip -n "$NS_P" link add p1 type veth peer name t0 netns "$NS_T"
  ip -n "$NS_C" addr add "$C_ADDR/24" dev c0
  ip -n "$NS_C" addr add "$C_ADDR6/64" dev c0 nodad
  ip -n "$NS_P" addr add "$P_ADDR/24" dev p0
  ip -n "$NS_P" addr add "$P_ADDR6/64" dev p0 nodad
  ip -n "$NS_P" addr add "$P_ADDR_T/24" dev p1
  ip -n "$NS_P" addr add fd81::1/64 dev p1 nodad
  ip -n "$NS_T" addr add "$T_ADDR/24" dev t0
  ip -n "$NS_T" addr add "$T_ADDR6/64" dev t0 nodad
  local l
  for l in "$NS_C c0" "$NS_P p0" "$NS_P p1" "$NS_T t0"; do
    # shellcheck disable=SC2086
    ip -n ${l% *} link set ${l#* } up
  done
  # C: everything else via P (what --direct's kernel sockets use once bound to c0).
  ip -n "$NS_C" route add default via "$P_ADDR"
  ip -n "$NS_C" -6 route add default via "$P_ADDR6"
  ip -n "$NS_T" route add default via "$P_ADDR_T"
  ip -n "$NS_T" -6 route add default via fd81::1
  px_forwarding 1
}

# P routes between C and T (what --direct and the world's kernel checks need) or not: with a
# proxy upstream it is off, so traffic that bypassed utcp-proxy would not arrive at all.
px_forwarding() {  # 0|1
  in_p sysctl -qw net.ipv4.ip_forward="$1" net.ipv6.conf.all.forwarding="$1"
}

# Files ip netns exec bind-mounts over /etc inside a namespace (resolv.conf, passwd, shadow).
px_etc() {  # ns file content
  mkdir -p "/etc/netns/$1"
  printf '%s\n' "$3" >"/etc/netns/$1/$2"
}

px_need() {
  local t
  for t in "$@"; do command -v "$t" >/dev/null || it_skip "no $t (scripts/deps.sh installs it)"; done
}

# Waits until something in namespace $1 listens on $2 port $3 (tcp or udp).
px_wait_port() {  # ns tcp|udp port
  local flag=-Hltn
  [ "$2" = udp ] && flag=-Hlun
  for _ in $(seq 1 100); do
    ip netns exec "$1" ss $flag "sport = :$3" 2>/dev/null | grep -q . && return 0
    sleep 0.05
  done
  it_fail "nothing listens on $2 port $3 in $1"
}

# Starts a daemon in a namespace in the background (killed at exit).
px_daemon() {  # ns name command...
  local ns=$1 name=$2
  shift 2
  ip netns exec "$ns" "$@" >"$IT_TMP/$name.log" 2>&1 </dev/null &
  IT_PIDS+=("$!")
}

px_target() {
  mkdir -p "$IT_TMP/www"
  echo "hello from the target" >"$IT_TMP/www/hello.txt"
  px_daemon "$NS_T" pxpeer $PXPEER serve "$IT_TMP/www"
  cat >"$IT_TMP/dnsmasq.conf" <<EOF
port=53
listen-address=$T_ADDR
listen-address=$T_ADDR6
bind-interfaces
no-resolv
no-hosts
user=root
pid-file=
log-queries
log-facility=-
address=/target.test/$T_ADDR
address=/target.test/$T_ADDR6
EOF
  px_daemon "$NS_T" dnsmasq dnsmasq --no-daemon --conf-file="$IT_TMP/dnsmasq.conf"
  px_wait_port "$NS_T" tcp 8080
  px_wait_port "$NS_T" tcp 7004
  px_wait_port "$NS_T" udp 53
}

px_danted_conf() {  # port method
  cat <<EOF
logoutput: stderr
internal: $P_ADDR port = $1
internal: $P_ADDR6 port = $1
external: $P_ADDR_T
external: fd81::1
clientmethod: none
socksmethod: $2
user.privileged: root
user.unprivileged: nobody
timeout.negotiate: 10
timeout.io: 0
client pass { from: 0/0 to: 0/0 }
socks pass {
  from: 0/0 to: 0/0
  command: connect udpassociate udpreply
  log: connect
}
EOF
}

# SOCKS5 (dante) on 1080 without authentication and on 1081 with RFC 1929 username/password.
# Dante's username method checks the system's users: P gets its own /etc/passwd and
# /etc/shadow (ip netns exec bind-mounts /etc/netns/<ns>/*) with a throwaway user, so the
# host's are never touched. P resolves names (fake-IP's domain CONNECTs) with T's dnsmasq.
px_danted() {
  local hash
  hash=$($IT_PYTHON -W ignore -c "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_SHA512)))" "$PX_PASS")
  px_etc "$NS_P" passwd "$(cat /etc/passwd)
$PX_USER:x:64999:65534::/nonexistent:/usr/sbin/nologin"
  px_etc "$NS_P" shadow "$(cat /etc/shadow)
$PX_USER:$hash:19000:0:99999:7:::"
  chmod 640 "/etc/netns/$NS_P/shadow"
  px_etc "$NS_P" resolv.conf "nameserver $T_ADDR"
  px_danted_conf 1080 none >"$IT_TMP/danted1080.conf"
  px_danted_conf 1081 username >"$IT_TMP/danted1081.conf"
  px_daemon "$NS_P" danted1080 danted -f "$IT_TMP/danted1080.conf" -p "$IT_TMP/danted1080.pid"
  px_daemon "$NS_P" danted1081 danted -f "$IT_TMP/danted1081.conf" -p "$IT_TMP/danted1081.pid"
  px_wait_port "$NS_P" tcp 1080
  px_wait_port "$NS_P" tcp 1081
}

px_tinyproxy_conf() {  # port [user pass]
  cat <<EOF
Port $1
Timeout 600
MaxClients 1024
User nobody
Group nogroup
LogLevel Connect
DisableViaHeader Yes
EOF
  [ $# -gt 1 ] && echo "BasicAuth $2 $3"
  return 0
}

# HTTP CONNECT (tinyproxy) on 8888 without and on 8889 with Basic proxy authentication.
px_tinyproxy() {
  px_tinyproxy_conf 8888 >"$IT_TMP/tinyproxy8888.conf"
  px_tinyproxy_conf 8889 "$PX_USER" "$PX_PASS" >"$IT_TMP/tinyproxy8889.conf"
  px_daemon "$NS_P" tinyproxy8888 tinyproxy -d -c "$IT_TMP/tinyproxy8888.conf"
  px_daemon "$NS_P" tinyproxy8889 tinyproxy -d -c "$IT_TMP/tinyproxy8889.conf"
  px_wait_port "$NS_P" tcp 8888
  px_wait_port "$NS_P" tcp 8889
}

# The whole world: links, target servers, both proxies.
px_world() {
  px_need danted tinyproxy dnsmasq curl
  px_links
  px_target
  px_danted
  px_tinyproxy
  it_log "world up: danted :1080 :1081, tinyproxy :8888 :8889, target servers + dnsmasq"
}

# Debian's microsocks on P :1090 (no authentication; it logs each client to stdout). It reads
# the SOCKS5 greeting with one recv() and drops whatever came with it.
px_microsocks() {
  px_need microsocks
  px_daemon "$NS_P" microsocks1090 microsocks -i "$P_ADDR" -p 1090
  px_wait_port "$NS_P" tcp 1090
}

# Names for P in C's own /etc/hosts (ip netns exec bind-mounts /etc/netns/<ns>/hosts; removed
# with the namespace), and a resolver that fails at once for any other name: nameserver
# 127.0.0.1 where nothing listens, so no query leaves the namespace or waits for a timeout.
px_hosts() {
  px_etc "$NS_C" hosts "127.0.0.1 localhost
::1 localhost
$P_ADDR socks.px.test http.px.test
$P_ADDR6 socks6.px.test"
  px_etc "$NS_C" resolv.conf "nameserver 127.0.0.1
options timeout:1 attempts:1"
}

# The utcp-proxy flags for an upstream kind.
px_upstream() {
  case $1 in
    socks5) echo "--socks5 $P_ADDR:1080" ;;
    socks5-auth) echo "--socks5 $P_ADDR:1081 --socks-user $PX_USER --socks-pass $PX_PASS" ;;
    socks5-pipeline) echo "--socks5 $P_ADDR:1080 --socks5-pipeline" ;;
    socks5-microsocks) echo "--socks5 $P_ADDR:1090" ;;  # px_microsocks
    http) echo "--http-proxy $P_ADDR:8888" ;;
    http-auth) echo "--http-proxy $P_ADDR:8889 --proxy-user $PX_USER --proxy-pass $PX_PASS" ;;
    direct) echo "--direct --interface c0" ;;
    socks5-name) echo "--socks5 socks.px.test:1080" ;;    # names: px_hosts
    socks5-name6) echo "--socks5 socks6.px.test:1080" ;;
    http-name) echo "--http-proxy http.px.test:8888" ;;
    socks5-badauth) echo "--socks5 $P_ADDR:1081 --socks-user $PX_USER --socks-pass wrong" ;;
    http-badauth) echo "--http-proxy $P_ADDR:8889 --proxy-user $PX_USER --proxy-pass wrong" ;;
    *) it_fail "unknown upstream kind $1" ;;
  esac
}

# Starts utcp-proxy in C for an upstream kind with routes for T's networks (and any extra
# flags); waits for "utcp-proxy: ready" on its stderr ($IT_TMP/proxy.err). PX_PID is its pid.
px_start_proxy() {
  it_need_tool UTCP_PROXY
  local kind=$1
  shift
  : >"$IT_TMP/proxy.err"
  if [ "$kind" = direct ]; then px_forwarding 1; else px_forwarding 0; fi
  # shellcheck disable=SC2046
  ip netns exec "$NS_C" "$UTCP_PROXY" $(px_upstream "$kind") --route "$T_NET" --route "$T_NET6" \
    "$@" >"$IT_TMP/proxy.out" 2>"$IT_TMP/proxy.err" </dev/null &
  PX_PID=$!
  IT_PIDS+=("$PX_PID")
  for _ in $(seq 1 200); do
    if grep -q "utcp-proxy: ready" "$IT_TMP/proxy.err"; then
      # Its routes send T's networks into the TUN.
      in_c ip route get "$T_ADDR" | grep -q "dev utcp0" || it_fail "no route to $T_ADDR into utcp0"
      in_c ip -6 route get "$T_ADDR6" | grep -q "dev utcp0" || it_fail "no route to $T_ADDR6 into utcp0"
      return 0
    fi
    kill -0 "$PX_PID" 2>/dev/null || { cat "$IT_TMP/proxy.err" >&2; it_fail "utcp-proxy ($kind) exited before ready"; }
    sleep 0.05
  done
  cat "$IT_TMP/proxy.err" >&2
  it_fail "utcp-proxy ($kind) not ready after 10 s"
}

# Packets the kernel dropped because utcp-proxy's TUN queue (txqueuelen) was full.
px_tun_tx_dropped() {  # [dev]
  in_c cat "/sys/class/net/${1:-utcp0}/statistics/tx_dropped"
}

# Stops utcp-proxy with SIGTERM and checks it exits 0 within its drain time.
px_stop_proxy() {
  kill -TERM "$PX_PID" 2>/dev/null || true
  it_wait "$PX_PID" 20
  [ "$IT_RC" -eq 0 ] || { tail -20 "$IT_TMP/proxy.err" >&2; it_fail "utcp-proxy exited $IT_RC after SIGTERM"; }
  px_check_no_leftovers
}

# After utcp-proxy is gone: no TUN device and no route it added remain in C.
px_check_no_leftovers() {
  local dev=${1:-utcp0}
  for _ in $(seq 1 40); do  # the kernel removes a closed TUN's device asynchronously
    ip -n "$NS_C" link show "$dev" >/dev/null 2>&1 || break
    sleep 0.05
  done
  if ip -n "$NS_C" link show "$dev" >/dev/null 2>&1; then
    it_fail "device $dev still exists in the client namespace"
  fi
  local left
  left=$( (ip -n "$NS_C" -4 route show table all; ip -n "$NS_C" -6 route show table all) |
    grep -E "dev $dev|^${T_NET%/*}|^${T_NET6%/*}|198\.18\." || true)
  [ -z "$left" ] || it_fail "routes left behind: $left"
  it_log "no $dev device and no routes to the tunnelled networks left"
}

# curl from the client namespace to the target's HTTP server (URL host $1), without any proxy
# flag: the route into the TUN makes it go through utcp-proxy. Checks the body, and that the
# target saw the connection come from $2 (P's address for a proxy, C's for --direct; a|b: either).
px_curl() {  # host expected-source(s) [curl args]
  local host=$1 src=$2 got before
  shift 2
  before=$(grep -c "^http from" "$IT_TMP/pxpeer.log" || true)
  got=$(in_c curl -sS --max-time 15 "$@" "http://$host:8080/hello.txt") ||
    { tail -20 "$IT_TMP/proxy.err" >&2; it_fail "curl http://$host:8080/ through utcp-proxy failed"; }
  [ "$got" = "hello from the target" ] || it_fail "curl through utcp-proxy got '$got'"
  local line ok= a
  line=$(grep "^http from" "$IT_TMP/pxpeer.log" | tail -n +$((before + 1)) | tail -1)
  for a in ${src//|/ }; do
    case $line in "http from $a:"* | "http from ::ffff:$a:"*) ok=1 ;; esac
  done
  [ -n "$ok" ] || it_fail "the target saw '$line', expected a connection from $src"
}

# The source address the target sees for an upstream kind (and address family).
px_source() {  # kind [6]
  if [ "$1" = direct ]; then
    [ "${2:-}" = 6 ] && echo "$C_ADDR6" || echo "$C_ADDR"
  else
    [ "${2:-}" = 6 ] && echo fd81::1 || echo "$P_ADDR_T"
  fi
}

# Lines in a proxy daemon's log that record a relayed connection (dante: "pass(1): tcp/connect",
# tinyproxy: "Established connection"/"CONNECT", microsocks: "client[N] ...: connected to").
px_proxy_log_count() {  # log name
  grep -cE 'tcp/connect|udp/udpassociate|CONNECT|Established|connected to' "$IT_TMP/$1.log" || true
}
