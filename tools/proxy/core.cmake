# SPDX-License-Identifier: BSD-2-Clause
# utcp-proxy's core (pcore): the upstream handshakes (SOCKS5, HTTP CONNECT), the dialer, the TCP
# relay, the session log, and the program itself.

# Sans-IO proxy handshakes: no sockets, no loop; the UDP relay uses the SOCKS5 one too.
add_library(utcp_proxy_handshake STATIC
  ${CMAKE_CURRENT_LIST_DIR}/upstream_target.cpp
  ${CMAKE_CURRENT_LIST_DIR}/socks5_client.cpp
  ${CMAKE_CURRENT_LIST_DIR}/http_connect_client.cpp)
target_link_libraries(utcp_proxy_handshake PUBLIC utcp_proxy_config)

if(UTCP_BUILD_TESTS)
  find_package(GTest QUIET)
  if(GTest_FOUND)
    include(GoogleTest)
    add_executable(unit_proxy_core
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_socks5_client_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_http_connect_client_test.cpp)
    target_link_libraries(unit_proxy_core PRIVATE GTest::gtest_main utcp_proxy_handshake)
    gtest_discover_tests(unit_proxy_core DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
      PROPERTIES LABELS unit TIMEOUT 120)
  endif()
endif()
