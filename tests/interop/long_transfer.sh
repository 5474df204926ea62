#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Issue 16 §1 regression: 2^31 + 64 MiB from utcp-cat to the kernel's nc on one connection, the
# direction that stalled at 2 GiB, checked by byte count and CRC. scripts/long-transfer.sh does
# the work in a namespace of its own (deleted on exit); 5 GB each way is that script run by hand
# (docs/performance.md).
LIMIT=${LIMIT:-240} exec bash "$(dirname "$0")/../../scripts/long-transfer.sh" 2214592512 to-kernel
