#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Kernel `curl` against `utcp-serve --http`: a 5 MB file byte-exact, index.html for a
# directory, two requests over one kept-alive connection, HEAD, 404 for a missing file and
# for paths escaping the root ("..", encoded "..", a symlink out), 405 for POST.
source "$(dirname "$0")/lib.sh"
it_init http
it_need_tool UTCP_SERVE
cd "$IT_TMP"
mkdir -p www/sub outside
it_random_file www/big.bin 5
echo "<h1>utcp</h1>" >www/index.html
echo "in a subdirectory" >www/sub/index.html
echo "secret" >outside/secret.txt
ln -s "$IT_TMP/outside/secret.txt" www/link.txt

it_start "$UTCP_SERVE" --http 80 --root www 2>serve.err
serve_pid=$IT_PID
it_wait_tun
base="http://$STACK_ADDR"
c() { in_ns curl -sS --max-time 20 "$@"; }

c -o got.bin "$base/big.bin" || it_fail "curl big.bin"
it_same_file www/big.bin got.bin "GET /big.bin"
[ "$(c "$base/")" = "<h1>utcp</h1>" ] || it_fail "GET / did not serve index.html"
[ "$(c "$base/sub/")" = "in a subdirectory" ] || it_fail "GET /sub/ did not serve sub/index.html"

# Keep-alive: curl reuses the connection for the second URL.
c -v -o /dev/null -o /dev/null "$base/index.html" "$base/sub/index.html" 2>keepalive.log
grep -q "Re-using existing connection" keepalive.log || { cat keepalive.log >&2; it_fail "no keep-alive"; }
[ "$(grep -c '< HTTP/1.1 200 OK' keepalive.log)" -eq 2 ] || it_fail "keep-alive: two 200s expected"

head_len=$(c -I "$base/big.bin" | tr -d '\r' | awk -F': ' 'tolower($1)=="content-length"{print $2}')
[ "$head_len" = "$((5 * 1024 * 1024))" ] || it_fail "HEAD Content-Length '$head_len'"

code() { c -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$base/missing")" = 404 ] || it_fail "missing file not 404"
[ "$(code --path-as-is "$base/../outside/secret.txt")" = 404 ] || it_fail ".. escaped the root"
[ "$(code --path-as-is "$base/sub/../../outside/secret.txt")" = 404 ] || it_fail "sub/../.. escaped"
[ "$(code --path-as-is "$base/%2e%2e/outside/secret.txt")" = 404 ] || it_fail "%2e%2e escaped"
[ "$(code "$base/link.txt")" = 404 ] || it_fail "a symlink out of the root was followed"
[ "$(code -X POST -d x "$base/index.html")" = 405 ] || it_fail "POST not 405"
it_log "curl: file, index, keep-alive, HEAD, 404s, 405: ok"

kill "$serve_pid"
it_wait "$serve_pid" 10
[ "$IT_RC" -eq 0 ] || { cat serve.err >&2; it_fail "utcp-serve exited $IT_RC"; }
