# SPDX-License-Identifier: BSD-2-Clause
# Finds libpcap (Debian: libpcap-dev) and defines the imported target PCAP::PCAP.
# Sets PCAP_FOUND, PCAP_INCLUDE_DIR and PCAP_LIBRARY. Installed next to utcpConfig.cmake,
# which needs it for a static utcp::pcap.
find_path(PCAP_INCLUDE_DIR pcap/pcap.h)
find_library(PCAP_LIBRARY pcap)
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(PCAP REQUIRED_VARS PCAP_LIBRARY PCAP_INCLUDE_DIR)
mark_as_advanced(PCAP_INCLUDE_DIR PCAP_LIBRARY)
if(PCAP_FOUND AND NOT TARGET PCAP::PCAP)
  add_library(PCAP::PCAP UNKNOWN IMPORTED)
  set_target_properties(PCAP::PCAP PROPERTIES
    IMPORTED_LOCATION ${PCAP_LIBRARY}
    INTERFACE_INCLUDE_DIRECTORIES ${PCAP_INCLUDE_DIR})
endif()
