#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Checks utcp as others get it: a plain Release build with g++ and -Werror (shared library,
# tools), installed into a temporary prefix; the outside consumer (examples/consumer) built
# and run three ways (find_package, pkg-config, add_subdirectory); a build with libpcap,
# CLI11 and Google Benchmark hidden, the tools with nlohmann-json or tomlplusplus hidden (and a
# configure without GoogleTest); `cpack -G DEB` and
# the files and Depends of each package. Ends with "N passed, N failed"; exit 1 on a failure.
# Build trees go to build/pkg-* (two levels down, like build/dev, so ccache entries are
# shared with the presets' builds).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD
jobs=${UTCP_JOBS:-$(nproc)}
passed=0 failed=0
prefix=$(mktemp -d /tmp/utcp-prefix.XXXXXX)
log=$(mktemp /tmp/utcp-package-check.XXXXXX)
trap 'rm -rf "$prefix" "$log"' EXIT

version=$(sed -nE 's/^project\(utcp VERSION ([0-9]+\.[0-9]+\.[0-9]+).*/\1/p' CMakeLists.txt)
major=${version%%.*}
vre=${version//./\\.}  # as a regular expression
common=(-G Ninja -DCMAKE_CXX_COMPILER=g++)
if command -v ccache >/dev/null; then
  common+=("-DCMAKE_CXX_COMPILER_LAUNCHER=env;CCACHE_BASEDIR=$root;CCACHE_NOHASHDIR=1;ccache")
fi

# check NAME COMMAND...: runs the command quietly; on failure prints the end of its output.
check() {
  local name=$1
  shift
  if "$@" >"$log" 2>&1; then
    echo "ok: $name"
    passed=$((passed + 1))
    return 0
  fi
  echo "FAIL: $name"
  tail -n 40 "$log" | sed 's/^/  /'
  failed=$((failed + 1))
  return 1
}

# configure_and_build DIR CMAKE_ARGS...
configure_and_build() {
  local dir=$1
  shift
  rm -rf "$dir"
  cmake -S "$root" -B "$dir" "${common[@]}" "$@" && cmake --build "$dir" -j"$jobs"
}

# has_files LISTING PATTERN...: every extended regex PATTERN matches a line of LISTING.
has_files() {
  local listing=$1 pattern
  shift
  for pattern in "$@"; do
    grep -Eq -- "$pattern" "$listing" || { echo "missing: $pattern"; cat "$listing"; return 1; }
  done
}

# --- The release build: what a user gets from cmake -DCMAKE_BUILD_TYPE=Release ---------------
rel=build/pkg-release
release_ok=0
check "plain Release build (g++ -O3, -Werror, shared library, tools)" \
  configure_and_build $rel -DCMAKE_BUILD_TYPE=Release -DUTCP_WERROR=ON -DBUILD_SHARED_LIBS=ON \
  -DUTCP_BUILD_TESTS=OFF -DUTCP_BUILD_EXAMPLES=OFF -DCMAKE_INSTALL_PREFIX=/usr && release_ok=1

if [ $release_ok -eq 1 ]; then
  multiarch=$(gcc -print-multiarch 2>/dev/null || true)
  libdir=lib${multiarch:+/$multiarch}
  installed() {
    cmake --install $rel --prefix "$prefix" &&
      (cd "$prefix" && find . \( -type f -o -type l \) | sort) >"$prefix.list" &&
      has_files "$prefix.list" "^\./$libdir/libutcp\.so\.$major$" "^\./$libdir/libutcp\.so$" \
        "^\./include/utcp/stack\.hpp$" "^\./$libdir/cmake/utcp/utcpConfig\.cmake$" \
        "^\./$libdir/cmake/utcp/utcpConfigVersion\.cmake$" "^\./$libdir/pkgconfig/utcp\.pc$" \
        "^\./bin/utcp-cat$" "^\./bin/utcp-serve$" "^\./bin/utcp-drill$" "^\./bin/utcp-proxy$" \
        "^\./share/doc/libutcp-dev/copyright$" &&
      readelf -d "$prefix/$libdir/libutcp.so" | grep -q "SONAME.*\[libutcp\.so\.$major\]" &&
      # Nothing of src/ or the tests leaks into the installed headers.
      ! grep -rlE '#include "(dev|tcp|wire|stack|ip|base|support)/' "$prefix/include"
  }
  check "install into a temporary prefix" installed
  rm -f "$prefix.list"

  run_consumer() {  # DIR CMAKE_ARGS...: build examples/consumer and run it
    local dir=$1
    shift
    rm -rf "$dir"
    cmake -S examples/consumer -B "$dir" "${common[@]}" -DCMAKE_BUILD_TYPE=Release "$@" &&
      cmake --build "$dir" -j"$jobs" && LD_LIBRARY_PATH="$prefix/$libdir" "$dir/utcp_consumer"
  }
  cmake_consumer() {
    run_consumer build/pkg-consumer-cmake -DCMAKE_PREFIX_PATH="$prefix" \
      -DUTCP_CONSUMER_PCAP=ON | tee /dev/stderr | grep '^pcap: [1-9]' >/dev/null
  }
  check "consumer: find_package(utcp COMPONENTS pcap)" cmake_consumer
  pc_consumer() {
    PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig" run_consumer build/pkg-consumer-pc \
      -DUTCP_CONSUMER_MODE=pkg-config
  }
  check "consumer: pkg-config utcp" pc_consumer
fi

# As a subproject utcp builds the library only (static here): no tools, tests or GoogleTest.
subproject() {
  run_consumer_sub() {
    rm -rf build/pkg-consumer-sub
    cmake -S examples/consumer -B build/pkg-consumer-sub "${common[@]}" \
      -DCMAKE_BUILD_TYPE=Release -DUTCP_CONSUMER_MODE=subdirectory -DUTCP_SOURCE_DIR="$root" \
      -DUTCP_WERROR=ON -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON &&
      cmake --build build/pkg-consumer-sub -j"$jobs" && build/pkg-consumer-sub/utcp_consumer
  }
  run_consumer_sub || return 1
  [ -f build/pkg-consumer-sub/utcp/libutcp.a ] || { echo "no static libutcp.a"; return 1; }
  if ninja -C build/pkg-consumer-sub -t targets all | grep -Eq '^(utcp-cat|utcp-drill|unit_)'; then
    echo "the subproject built tools or tests"
    return 1
  fi
}
check "consumer: add_subdirectory (static, library only)" subproject

# --- Optional dependencies hidden, as on a machine without them --------------------------------
# Debug with the dev preset's flags, so the objects come from ccache after a dev build.
nodeps() {
  configure_and_build build/pkg-nodeps -DCMAKE_BUILD_TYPE=Debug -DUTCP_WERROR=ON \
    -DUTCP_BUILD_BENCH=ON -DCMAKE_DISABLE_FIND_PACKAGE_PCAP=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_CLI11=ON -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON || return 1
  local t
  t=$(ninja -C build/pkg-nodeps -t targets all)
  for absent in utcp_pcap unit_pcap utcp-cat utcp-serve utcp-micro-bench; do
    if grep -Eq "^$absent:" <<<"$t"; then echo "$absent was built"; return 1; fi
  done
  for present in utcp-drill utcp-stack-bench unit_stack; do
    grep -Eq "^$present:" <<<"$t" || { echo "$present is missing"; return 1; }
  done
}
check "build without libpcap, CLI11 and Google Benchmark" nodeps
# CLI11 present but nlohmann-json and tomlplusplus hidden: every tool but utcp-proxy (its JSON
# statistics need nlohmann-json); tomlplusplus hidden alone: utcp-proxy, whose --config then
# exits 2 saying so. Configure only, and build just the proxy's TOML part, to keep it short.
proxydeps() {
  local t
  rm -rf build/pkg-nojson build/pkg-notoml
  cmake -S . -B build/pkg-nojson "${common[@]}" -DCMAKE_BUILD_TYPE=Debug \
    -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON -DCMAKE_DISABLE_FIND_PACKAGE_tomlplusplus=ON ||
    return 1
  t=$(ninja -C build/pkg-nojson -t targets all)
  ! grep -Eq '^utcp-proxy:' <<<"$t" || { echo "utcp-proxy built without nlohmann-json"; return 1; }
  grep -Eq '^utcp-cat:' <<<"$t" || { echo "utcp-cat is missing"; return 1; }
  cmake -S . -B build/pkg-notoml "${common[@]}" -DCMAKE_BUILD_TYPE=Debug -DUTCP_WERROR=ON \
    -DCMAKE_DISABLE_FIND_PACKAGE_tomlplusplus=ON || return 1
  cmake --build build/pkg-notoml -j"$jobs" --target utcp-proxy || return 1
  echo 'direct = true' >build/pkg-notoml/p.toml
  build/pkg-notoml/tools/proxy/utcp-proxy --config build/pkg-notoml/p.toml
  [ $? -eq 2 ] || { echo "utcp-proxy --config without tomlplusplus did not exit 2"; return 1; }
}
check "tools without nlohmann-json / tomlplusplus (utcp-proxy absent / --config refused)" proxydeps
nogtest() {
  rm -rf build/pkg-nogtest
  cmake -S . -B build/pkg-nogtest "${common[@]}" -DUTCP_BUILD_TESTS=OFF \
    -DCMAKE_DISABLE_FIND_PACKAGE_GTest=ON
}
check "configure without GoogleTest (tests off)" nogtest

# --- Debian packages ------------------------------------------------------------------------------
if [ $release_ok -eq 1 ]; then
  debs() {
    rm -f $rel/*.deb
    (cd $rel && cpack -G DEB) || return 1
    local deb list control
    for pkg in libutcp$major libutcp-dev utcp-tools; do
      deb=$(ls $rel/${pkg}_*.deb 2>/dev/null | head -n 1)
      [ -n "$deb" ] || { echo "no package $pkg"; ls $rel/*.deb; return 1; }
      list=$rel/$pkg.contents
      dpkg -c "$deb" >"$list"
      control=$(dpkg-deb -f "$deb" Depends)
      echo "$pkg: Depends: $control"
      case $pkg in
        libutcp$major)
          has_files "$list" "usr/$libdir/libutcp\.so\.$major -> " "usr/$libdir/libutcp\.so\.$vre$" \
            "usr/share/doc/libutcp$major/copyright$" || return 1
          ! grep -Eq 'include/|\.so$|bin/' "$list" || { echo "$pkg has dev files"; return 1; }
          grep -q 'libc6' <<<"$control" && grep -q 'libstdc++6' <<<"$control" || return 1
          # libpcap is for utcp::pcap and the tools only.
          ! grep -q 'libpcap' <<<"$control" || { echo "$pkg depends on libpcap"; return 1; }
          ;;
        libutcp-dev)
          has_files "$list" "usr/include/utcp/stack\.hpp$" "usr/$libdir/libutcp\.so -> " \
            "usr/$libdir/cmake/utcp/utcpConfig\.cmake$" "usr/$libdir/pkgconfig/utcp\.pc$" \
            "usr/share/doc/libutcp-dev/copyright$" || return 1
          grep -q "libutcp$major (= $vre)" <<<"$control" || return 1
          ;;
        utcp-tools)
          has_files "$list" "usr/bin/utcp-cat$" "usr/bin/utcp-serve$" "usr/bin/utcp-drill$" \
            "usr/bin/utcp-proxy$" "usr/share/doc/utcp-tools/copyright$" || return 1
          grep -q "libutcp$major (= $vre)" <<<"$control" && grep -q 'libc6' <<<"$control" ||
            return 1
          # libpcap is loaded only for --pcap: recommended, not a dependency.
          ! grep -q 'libpcap' <<<"$control" || { echo "$pkg depends on libpcap"; return 1; }
          grep -q 'libpcap0.8' <<<"$(dpkg-deb -f "$deb" Recommends)" || return 1
          ;;
      esac
    done
  }
  check "cpack -G DEB: libutcp$major, libutcp-dev, utcp-tools (dpkg -c, Depends)" debs
fi

echo "package check: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
