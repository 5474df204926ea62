# SPDX-License-Identifier: BSD-2-Clause
# `cpack -G DEB` in a build tree: one Debian package per install component (install.cmake):
#   libutcp<major>  the shared libraries (only with -DBUILD_SHARED_LIBS=ON)
#   libutcp-dev     headers, static library or .so links, CMake and pkg-config files
#   utcp-tools      utcp-cat, utcp-serve, utcp-drill, utcp-proxy
# Configure with -DCMAKE_INSTALL_PREFIX=/usr for Debian's paths (lib/<multiarch>).
set(CPACK_PACKAGE_NAME utcp)
set(CPACK_PACKAGE_VENDOR "The utcp authors")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY ${PROJECT_DESCRIPTION})
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX ${CMAKE_INSTALL_PREFIX})
set(CPACK_COMPONENTS_ALL ${UTCP_COMPONENTS})

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "The utcp authors")
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
# dpkg-shlibdeps finds libc6, libstdc++6, ...; -l<build dir> lets it resolve
# libutcp.so.<major> from this build (the explicit Depends below names its package).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR})
set(UTCP_EXACT "(= ${PROJECT_VERSION})")

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME ${UTCP_PACKAGE_runtime})
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SECTION libs)
# A shlibs file, so packages built against this one depend on libutcp<major>.
set(CPACK_DEBIAN_RUNTIME_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_RUNTIME_DESCRIPTION "${PROJECT_DESCRIPTION}: shared library
 utcp is a TCP/IP stack that runs in user space over TUN devices or any packet device
 of your own. This package holds the shared library.")

set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_NAME ${UTCP_PACKAGE_development})
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SHLIBDEPS OFF)
set(CPACK_DEBIAN_DEVELOPMENT_DESCRIPTION "${PROJECT_DESCRIPTION}: development files
 Headers (C++20), CMake package (find_package(utcp): utcp::utcp) and pkg-config file
 (utcp.pc) for building programs with utcp.")
if(UTCP_SHARED)
  set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_DEPENDS "${UTCP_PACKAGE_runtime} ${UTCP_EXACT}")
endif()
if(TARGET utcp_pcap)
  # Only utcp::pcap (a static library) needs libpcap, linked by the consumer.
  set(CPACK_DEBIAN_DEVELOPMENT_PACKAGE_SUGGESTS "libpcap-dev")
endif()

set(CPACK_DEBIAN_TOOLS_PACKAGE_NAME ${UTCP_PACKAGE_tools})
set(CPACK_DEBIAN_TOOLS_PACKAGE_SECTION net)
set(CPACK_DEBIAN_TOOLS_DESCRIPTION "${PROJECT_DESCRIPTION}: command-line tools
 utcp-cat (netcat over utcp), utcp-serve (echo, discard, chargen and HTTP servers),
 utcp-drill (runs packetdrill scripts against utcp on virtual time) and utcp-proxy (a TUN's
 TCP and UDP relayed through SOCKS5, HTTP CONNECT or directly).")
if(UTCP_SHARED)
  set(CPACK_DEBIAN_TOOLS_PACKAGE_DEPENDS "${UTCP_PACKAGE_runtime} ${UTCP_EXACT}")
endif()
if(TARGET utcp_pcap)
  # The tools load libpcap (dlopen) only for --pcap, so dpkg-shlibdeps cannot see it.
  set(CPACK_DEBIAN_TOOLS_PACKAGE_RECOMMENDS "libpcap0.8")
endif()

include(CPack)
