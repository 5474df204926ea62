// SPDX-License-Identifier: BSD-2-Clause
#pragma once
// The library's version, as project(VERSION) in the top CMakeLists.txt states it (the CTest
// check version_header fails when the two disagree). Semantic versioning: the major number
// changes with every incompatible change of the public headers in include/utcp/.
#define UTCP_VERSION_MAJOR 0
#define UTCP_VERSION_MINOR 1
#define UTCP_VERSION_PATCH 0
#define UTCP_VERSION_STRING "0.1.0"
