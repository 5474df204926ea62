# SPDX-License-Identifier: BSD-2-Clause
# utcp-proxy's routes into the TUN, upstream socket set-up (route_setup) and TOML
# configuration (toml_config). tomlplusplus (libtomlplusplus-dev) is optional: without it
# --config FILE fails with "built without TOML support".
add_library(utcp_proxy_net STATIC
  ${CMAKE_CURRENT_LIST_DIR}/route_setup.cpp
  ${CMAKE_CURRENT_LIST_DIR}/toml_config.cpp)
target_link_libraries(utcp_proxy_net PUBLIC utcp_proxy_config)
find_package(tomlplusplus QUIET)
if(tomlplusplus_FOUND)
  # Header-only: the parser is compiled into utcp-proxy, which reads TOML at most once, instead
  # of mapping libtomlplusplus.so (and the pages its relocations touch) into every process.
  get_target_property(toml_include tomlplusplus::tomlplusplus INTERFACE_INCLUDE_DIRECTORIES)
  target_include_directories(utcp_proxy_net SYSTEM PRIVATE ${toml_include})
  target_compile_definitions(utcp_proxy_net PRIVATE UTCP_HAVE_TOML=1 TOML_HEADER_ONLY=1)
else()
  message(STATUS "tomlplusplus not found (apt-get install libtomlplusplus-dev): utcp-proxy "
                 "--config is not supported")
endif()

if(UTCP_BUILD_TESTS)
  find_package(GTest QUIET)
  if(GTest_FOUND)
    include(GoogleTest)
    # The route tests run in a network namespace of their own (unshare) and skip without root.
    add_executable(unit_proxy_net
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_route_setup_test.cpp
      ${CMAKE_CURRENT_LIST_DIR}/../tests/proxy_toml_config_test.cpp)
    target_link_libraries(unit_proxy_net PRIVATE GTest::gtest_main utcp_proxy_net)
    if(tomlplusplus_FOUND)
      target_compile_definitions(unit_proxy_net PRIVATE UTCP_HAVE_TOML=1)
    endif()
    gtest_discover_tests(unit_proxy_net DISCOVERY_MODE PRE_TEST DISCOVERY_TIMEOUT 60
      PROPERTIES LABELS unit TIMEOUT 120)
  endif()
endif()
