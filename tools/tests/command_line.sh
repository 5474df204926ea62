#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The tools' command lines: every bad one exits 2 with one line "<tool>: ..." on stderr,
# --version prints "<tool> <version>" and exits 0, --help documents the options.
#   command_line.sh VERSION UTCP_CAT UTCP_SERVE [UTCP_DRILL]   (missing tools: pass "")
# utcp-proxy comes from $UTCP_PROXY (unset or empty: not built).
# No root needed: nothing here gets as far as opening a TUN. Should a case wrongly get past
# the argument checks as root, it runs in a network namespace of its own (unshare -n) that
# vanishes with it, so nothing is created or sent outside.
set -uo pipefail
version=$1 cat=$2 serve=$3 drill=${4:-} proxy=${UTCP_PROXY:-}
failed=0 checked=0

isolated=()
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
  isolated=(unshare -n)
fi

# expect STATUS PATTERN TOOL ARGS...: runs the tool, checks its exit status and that its
# output (stderr for errors, stdout otherwise) matches the extended regex PATTERN.
expect() {
  local want=$1 pattern=$2 tool=$3
  shift 3
  local out err rc
  out=$(mktemp) err=$(mktemp)
  timeout 10 "${isolated[@]}" "$tool" "$@" </dev/null >"$out" 2>"$err"
  rc=$?
  local name text
  name=$(basename "$tool")
  if [ "$want" -eq 0 ]; then text=$(cat "$out"); else text=$(cat "$err"); fi
  checked=$((checked + 1))
  if [ "$rc" -ne "$want" ]; then
    echo "FAIL: $name $*: exit $rc, expected $want"; sed 's/^/  /' "$err"; failed=$((failed + 1))
  elif ! grep -Eq -- "$pattern" <<<"$text"; then
    echo "FAIL: $name $*: output does not match /$pattern/:"; sed 's/^/  /' <<<"$text"
    failed=$((failed + 1))
  elif [ "$want" -eq 2 ] && { [ "$(wc -l <"$err")" -ne 1 ] || ! grep -q "^$name: " "$err"; }; then
    echo "FAIL: $name $*: a bad command line must be one line '$name: ...':"; sed 's/^/  /' "$err"
    failed=$((failed + 1))
  else
    echo "ok: $name $* -> $rc"
  fi
  rm -f "$out" "$err"
}

for tool in "$cat" "$serve" "$drill" "$proxy"; do
  [ -n "$tool" ] || continue
  name=$(basename "$tool")
  expect 0 "^$name ${version//./\\.}\$" "$tool" --version
  expect 0 "--version" "$tool" --help
  expect 2 "" "$tool" --no-such-flag
done

if [ -n "$cat" ]; then
  expect 2 "need HOST PORT" "$cat"
  expect 2 "HOST 'nohost' is not an IPv4 or IPv6 address" "$cat" nohost 80
  expect 2 "HOST 'fd77::1::2' is not" "$cat" fd77::1::2 80
  expect 2 "HOST 'fd77::g' is not" "$cat" fd77::g 80
  expect 2 "HOST '\[fd77::1' is not" "$cat" "[fd77::1" 80
  expect 2 "HOST 'fe80::1%eth0' is not" "$cat" fe80::1%eth0 80
  expect 2 "'fd77::1:80' is not A.B.C.D:PORT or \[IPV6\]:PORT" "$cat" fd77::1:80
  expect 2 "'\[fd77::1\]:0' is not" "$cat" "[fd77::1]:0"
  expect 2 "'10.77.0.1' is not" "$cat" 10.77.0.1
  expect 2 "PORT '0' is not 1..65535" "$cat" fd77::1 0
  expect 2 "HOST fd77::1 is IPv6, but IPv6 is off \(--no-ipv6\)" "$cat" --no-ipv6 fd77::1 80
  expect 2 "IPv6 is off \(--no-ipv6\)" "$cat" --no-ipv6 "[fd77::1]:80"
  expect 2 "--addr6: 'fd77::300000' is not a unicast IPv6 address" "$cat" --addr6 fd77::300000 fd77::1 80
  expect 2 "--addr6: 'ff02::1' is not a unicast" "$cat" --addr6 ff02::1 fd77::1 80
  expect 2 "--addr6: '10.77.0.2' is not a unicast" "$cat" --addr6 10.77.0.2 fd77::1 80
  expect 2 "--host-addr6: 'fd77::1/129': the prefix length must be 0..128" "$cat" --host-addr6 fd77::1/129 fd77::1 80
  expect 2 "--host-addr6: 'x/64' is not" "$cat" --host-addr6 x/64 fd77::1 80
  expect 2 "--host-addr6: 'fd77::1/': the prefix length" "$cat" --host-addr6 fd77::1/ fd77::1 80
  expect 2 "--addr6 and --host-addr6 must differ" "$cat" --addr6 fd77::1 fd77::1 80
  expect 2 "--addr6 excludes --no-ipv6" "$cat" --no-ipv6 --addr6 fd77::5 10.77.0.1 80
  expect 2 "--mtu 1000 is below IPv6's minimum of 1280: give --no-ipv6" "$cat" --mtu 1000 --host-addr6 fd77::1/64 10.77.0.1 80
  expect 2 "HOST '10.77.0' is not" "$cat" 10.77.0 80
  expect 2 "PORT '0' is not 1..65535" "$cat" 10.77.0.1 0
  expect 2 "PORT '65536' is not" "$cat" 10.77.0.1 65536
  expect 2 "PORT 'http' is not" "$cat" 10.77.0.1 http
  expect 2 "--addr: '10.77.0.300' is not an IPv4 address" "$cat" --addr 10.77.0.300 10.77.0.1 80
  expect 2 "--host-addr: '10.77.0.1/33'" "$cat" --host-addr 10.77.0.1/33 10.77.0.1 80
  expect 2 "--host-addr: 'x/24' is not" "$cat" --host-addr x/24 10.77.0.1 80
  expect 2 "must differ" "$cat" --addr 10.77.0.1 10.77.0.1 80
  expect 2 "either -l PORT or HOST PORT" "$cat" -l 5000 10.77.0.1 80
  expect 2 "--listen" "$cat" -l 0
  expect 2 "--keep-open" "$cat" -k 10.77.0.1 80
  expect 2 "--mtu" "$cat" --mtu 20 10.77.0.1 80
  expect 2 "--drop" "$cat" --drop 1.5 10.77.0.1 80
  expect 2 "" "$cat" 10.77.0.1 80 extra
  expect 0 "--host-addr" "$cat" --help
  expect 0 "--host-addr6" "$cat" --help
  expect 0 "\[IPV6\]:PORT" "$cat" --help
fi

if [ -n "$serve" ]; then
  # --route CIDR (TunOptions::routes): a prefix of either family, checked before the TUN opens.
  expect 2 "'10.81.0.0' is not A.B.C.D/N or IPV6/N" "$serve" --echo 7 --route 10.81.0.0
  expect 2 "'10.81.0.0/33' is not" "$serve" --echo 7 --route 10.81.0.0/33
  expect 2 "--route 2001:db8::/32 needs IPv6 on the TUN" "$serve" --echo 7 --no-ipv6 --route 2001:db8::/32
  expect 2 "nothing to serve" "$serve"
  expect 2 "--echo" "$serve" --echo 0
  expect 2 "--addr: 'x' is not" "$serve" --addr x --echo 7
  expect 2 "--addr6: 'x' is not" "$serve" --addr6 x --echo 7
  expect 2 "--addr6 and --host-addr6 must differ" "$serve" --echo 7 --threads 2 --addr6 fd77::1
  expect 0 "--no-ipv6" "$serve" --help
  expect 2 "--root '/nonexistent/utcp-root-$$'" "$serve" --http 80 --root "/nonexistent/utcp-root-$$"
  expect 2 "--threads" "$serve" --echo 7 --threads 0
  expect 2 "--pcap needs --threads 1" "$serve" --echo 7 --threads 2 --pcap x.pcap
  expect 2 "must differ" "$serve" --echo 7 --threads 2 --addr 10.77.0.1
  expect 0 "--threads" "$serve" --help
fi

if [ -n "$drill" ]; then
  expect 2 "no script given" "$drill"
  expect 2 "unknown option -x" "$drill" -x a.pkt
  expect 2 "unknown option --bogus" "$drill" --bogus=1 a.pkt
  expect 2 "--seed needs a number" "$drill" --seed=abc a.pkt
  expect 2 "bad value '-1' for --tolerance_usecs" "$drill" --tolerance_usecs=-1 a.pkt
  expect 2 "cannot read /nonexistent" "$drill" --known_failures=/nonexistent/kf a.pkt
  expect 2 "-D needs NAME=VALUE" "$drill" -D =1 a.pkt
  expect 2 "--ip_version must be ipv4, ipv4-mapped-ipv6 or ipv6" "$drill" --ip_version=ipv5 a.pkt
  expect 2 "bad value 'fd77::g' for --local_ip" "$drill" --local_ip=fd77::g a.pkt
  expect 0 "ipv4-mapped-ipv6" "$drill" --help
  expect 0 "--tolerance_usecs=N" "$drill" --help
  expect 0 "--known_failures=FILE" "$drill" -h
fi

if [ -n "$proxy" ]; then
  expect 2 "choose the upstream: --socks5 HOST:PORT, --http-proxy HOST:PORT or --direct" "$proxy"
  expect 2 "--socks5 '10.80.0.2' is not HOST:PORT" "$proxy" --socks5 10.80.0.2
  expect 2 "--http-proxy 'proxy..example:3128' is not HOST:PORT" "$proxy" --http-proxy proxy..example:3128
  expect 2 "--socks5 excludes --direct" "$proxy" --socks5 10.80.0.2:1080 --direct
  expect 2 "--socks-user requires --socks-pass" "$proxy" --socks5 10.80.0.2:1080 --socks-user u
  expect 2 "--proxy-user requires --http-proxy" "$proxy" --direct --proxy-user u --proxy-pass p
  expect 2 "--proxy-user cannot contain ':'" "$proxy" --http-proxy 10.80.0.2:3128 --proxy-user a:b --proxy-pass p
  expect 2 "--route '10.81.0.0/33' is not a prefix" "$proxy" --direct --route 10.81.0.0/33
  expect 2 "--dns" "$proxy" --direct --dns tcp
  expect 2 "--fake-ip-pool must be an IPv4 prefix" "$proxy" --direct --fake-ip-pool fd00::/64
  expect 2 "--max-sessions" "$proxy" --direct --max-sessions 0
  expect 2 "--connect-timeout" "$proxy" --direct --connect-timeout -1
  expect 2 "--dns-server '10.81.0.2' is not" "$proxy" --direct --dns-server 10.81.0.2
  expect 2 "TOML|/nonexistent" "$proxy" --direct --config "/nonexistent/utcp-proxy-$$.toml"
  expect 2 "--addr: 'x' is not" "$proxy" --direct --addr x
  expect 0 "utcp-proxy --socks5 10.80.0.2:1080 --route 10.81.0.0/24" "$proxy" --help
  expect 0 "--http-proxy" "$proxy" --help
  expect 0 "--stats-json" "$proxy" --help
  expect 0 "SIGUSR1" "$proxy" --help
fi

echo "$((checked - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
