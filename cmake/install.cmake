# SPDX-License-Identifier: BSD-2-Clause
# Install rules: the library with its public headers, a CMake package (find_package(utcp):
# utcp::utcp, utcp::pcap where built), a pkg-config file (utcp.pc), the tools and the licence.
# Components: runtime (the shared libraries), development (headers, static libraries,
# .so links, CMake and pkg-config files), tools (utcp-cat, utcp-serve, utcp-drill, utcp-proxy).
include(CMakePackageConfigHelpers)
set(UTCP_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/utcp)
get_target_property(UTCP_LIBRARY_TYPE utcp TYPE)
if(UTCP_LIBRARY_TYPE STREQUAL "SHARED_LIBRARY")
  set(UTCP_SHARED ON)
else()
  set(UTCP_SHARED OFF)
endif()
# Debian package of each component (package.cmake): the shared library's package carries
# the SONAME's major number.
set(UTCP_PACKAGE_runtime libutcp${PROJECT_VERSION_MAJOR})
set(UTCP_PACKAGE_development libutcp-dev)
set(UTCP_PACKAGE_tools utcp-tools)

install(TARGETS utcp EXPORT utcpTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT runtime NAMELINK_COMPONENT development
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/utcp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT development)
install(EXPORT utcpTargets NAMESPACE utcp:: DESTINATION ${UTCP_CMAKE_DIR} COMPONENT development)

# utcp::pcap has an export set of its own: utcpConfig.cmake loads it only where libpcap is
# found, so a consumer without libpcap still gets utcp::utcp.
set(UTCP_HAVE_PCAP_TARGET OFF)
if(TARGET utcp_pcap)
  set(UTCP_HAVE_PCAP_TARGET ON)
  target_include_directories(utcp_pcap PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  install(TARGETS utcp_pcap EXPORT utcpPcapTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT development)
  install(FILES ${PROJECT_SOURCE_DIR}/lib/pcap/pcap_tap.hpp
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/utcp COMPONENT development)
  install(EXPORT utcpPcapTargets NAMESPACE utcp:: DESTINATION ${UTCP_CMAKE_DIR}
    COMPONENT development)
  install(FILES ${PROJECT_SOURCE_DIR}/cmake/FindPCAP.cmake DESTINATION ${UTCP_CMAKE_DIR}
    COMPONENT development)
endif()

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/utcpConfig.cmake.in
  ${PROJECT_BINARY_DIR}/utcpConfig.cmake INSTALL_DESTINATION ${UTCP_CMAKE_DIR})
# 0.x releases are not compatible with each other either, which SameMajorVersion cannot
# say; the SONAME carries the major number all the same.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/utcpConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/utcpConfig.cmake ${PROJECT_BINARY_DIR}/utcpConfigVersion.cmake
  DESTINATION ${UTCP_CMAKE_DIR} COMPONENT development)

# pkg-config: paths relative to the .pc file, so `cmake --install --prefix` anywhere works.
function(utcp_pc_path out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  else()
    set(${out} "\${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()
file(RELATIVE_PATH UTCP_PC_UP ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" UTCP_PC_UP "${UTCP_PC_UP}")
utcp_pc_path(UTCP_PC_LIBDIR ${CMAKE_INSTALL_LIBDIR})
utcp_pc_path(UTCP_PC_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR})
configure_file(${PROJECT_SOURCE_DIR}/cmake/utcp.pc.in ${PROJECT_BINARY_DIR}/utcp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/utcp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
  COMPONENT development)

set(UTCP_TOOL_TARGETS)
foreach(tool utcp-cat utcp-serve utcp-drill utcp-proxy)
  if(TARGET ${tool})
    list(APPEND UTCP_TOOL_TARGETS ${tool})
  endif()
endforeach()
if(UTCP_TOOL_TARGETS)
  install(TARGETS ${UTCP_TOOL_TARGETS} RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT tools)
endif()

# Debian wants the licence as /usr/share/doc/<package>/copyright in every package.
set(UTCP_COMPONENTS development)
if(UTCP_SHARED)
  list(APPEND UTCP_COMPONENTS runtime)
endif()
if(UTCP_TOOL_TARGETS)
  list(APPEND UTCP_COMPONENTS tools)
endif()
foreach(component ${UTCP_COMPONENTS})
  install(FILES ${PROJECT_SOURCE_DIR}/LICENSE
    DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/${UTCP_PACKAGE_${component}}
    RENAME copyright COMPONENT ${component})
endforeach()
