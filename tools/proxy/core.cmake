# SPDX-License-Identifier: BSD-2-Clause
# utcp-proxy's core (pcore): the upstream handshakes (SOCKS5, HTTP CONNECT), the dialer, the TCP
# relay, the session log, and the program itself.

# Sans-IO proxy handshakes: no sockets, no loop; the UDP relay uses the SOCKS5 one too.
add_library(utcp_proxy_handshake STATIC
  ${CMAKE_CURRENT_LIST_DIR}/upstream_target.cpp
  ${CMAKE_CURRENT_LIST_DIR}/socks5_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_connect_client.cpp)
target_link_libraries(utcp_proxy_handshake PUBLIC utcp_proxy_config)

# The session log writes JSON (nlohmann-json3-dev); without it there is no utcp-proxy.
find_package(nlohmann_json 3 QUIET)
if(NOT nlohmann_json_FOUND)
  message(WARNING "nlohmann-json not found (apt-get install nlohmann-json3-dev): utcp-proxy "
                  "is not built")
  return()
endif()

# Everything of the program but main(), so the unit tests link it too.
add_library(utcp_proxy_core STATIC
  ${CMAKE_CURRENT_LIST_DIR}/upstream_dialer.cpp
  ${CMAKE_CURRENT_LIST_DIR}/tcp_relay.cpp
  ${CMAKE_CURRENT_LIST_DIR}/session_log.cpp
  ${CMAKE_CURRENT_LIST_DIR}/stats_file.cpp
  ${CMAKE_CURRENT_LIST_DIR}/control_socket.cpp
  ${CMAKE_CURRENT_LIST_DIR}/proxy_options.cpp)
target_link_libraries(utcp_proxy_core PUBLIC utcp_proxy_handshake nlohmann_json::nlohmann_json)
find_package(Threads REQUIRED)
target_link_libraries(utcp_proxy_core PUBLIC Threads::Threads)
# The other parts, when their cmake files built them (pnet: routes and TOML; pudp: UDP).
foreach(part utcp_proxy_net utcp_proxy_udp)
  if(TARGET ${part})
    target_link_libraries(utcp_proxy_core PUBLIC ${part})
  endif()
endforeach()

add_executable(utcp-proxy ${CMAKE_CURRENT_LIST_DIR}/utcp_proxy.cpp)
target_link_libraries(utcp-proxy PRIVATE utcp_proxy_core)
# Memory (issue 14: <= 6 MB with 1,000 idle connections): the C++ runtime linked in. The shared
# libstdc++ is ~1.6 MB resident in every process that maps it (the dynamic linker reads its
# symbol tables for ~3,000 relocations at load); linked statically, utcp-proxy holds only the
# parts it uses: 5.3 -> 4.4 MB VmRSS just started (docs/proxy.md "Memory"). Sound only while
# no shared C++ library shares the process: tomlplusplus is compiled in (net.cmake), libpcap
# is C. Not under the sanitizers, whose runtimes expect the shared one. --as-needed drops libm
# (another ~300 KB resident), which nothing calls (src/base/plain_math.hpp).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND NOT UTCP_SANITIZE AND NOT UTCP_FUZZ)
  target_link_options(utcp-proxy PRIVATE -static-libstdc++ -static-libgcc -Wl,--as-needed)
endif()

if(UTCP_BUILD_TESTS)
  find_package(GTest QUIET)
  if(GTest_FOUND)
    include(GoogleTest)
    add_executable(unit_proxy_core
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_socks5_client_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_http_connect_client_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_session_log_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_stats_file_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_options_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_tcp_relay_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_control_socket_test.cpp)
    target_link_libraries(unit_proxy_core PRIVATE GTest::gtest_main utcp_proxy_core)
    gtest_discover_tests(unit_proxy_core DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
      PROPERTIES LABELS unit TIMEOUT 120)
  endif()
endif()
