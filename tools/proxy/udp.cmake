# SPDX-License-Identifier: BSD-2-Clause
# utcp-proxy's UDP part (pudp): the UDP relay (direct, SOCKS5 UDP ASSOCIATE), the fake-IP DNS
# server and its codecs. The sans-IO codecs depend on nothing but the stdlib and utcp/address.
add_library(utcp_proxy_udp STATIC
  ${CMAKE_CURRENT_LIST_DIR}/dns_message.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fake_ip_pool.cpp
  ${CMAKE_CURRENT_LIST_DIR}/fake_ip_dns.cpp
  ${CMAKE_CURRENT_LIST_DIR}/socks5_udp.cpp
  ${CMAKE_CURRENT_LIST_DIR}/socks5_association.cpp
  ${CMAKE_CURRENT_LIST_DIR}/udp_relay.cpp
  ${CMAKE_CURRENT_LIST_DIR}/udp_relay_socks5.cpp)
# utcp_proxy_handshake (core.cmake): the SOCKS5 client handshake, for UDP ASSOCIATE.
# Threads: getaddrinfo for a direct flow to a fake address runs off the loop.
find_package(Threads REQUIRED)
target_link_libraries(utcp_proxy_udp PUBLIC utcp_proxy_config utcp_proxy_handshake
  Threads::Threads)

if(UTCP_BUILD_TESTS)
  find_package(GTest QUIET)
  if(GTest_FOUND)
    include(GoogleTest)
    add_executable(unit_proxy_udp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_dns_message_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_fake_ip_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_socks5_udp_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_udp_relay_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_udp_socks5_test.cpp)
    # utcp_test_support (tests/CMakeLists.txt): tests/support/counters.hpp for the fixture.
    target_link_libraries(unit_proxy_udp PRIVATE GTest::gtest_main utcp_proxy_udp
      utcp_test_support)
    gtest_discover_tests(unit_proxy_udp DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
      PROPERTIES LABELS unit TIMEOUT 120)
  endif()
endif()
