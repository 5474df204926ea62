#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks that include/utcp/version.hpp states the version project(VERSION) gives.

Usage: check_version.py VERSION_HPP MAJOR.MINOR.PATCH
Exit 1, naming each macro that disagrees (or is missing).
"""
import re
import sys


def main(argv):
    if len(argv) != 3:
        print(__doc__)
        return 2
    text = open(argv[1], encoding="utf-8").read()
    want = argv[2].split(".")
    want += ["0"] * (3 - len(want))
    problems = []
    for name, value in zip(["MAJOR", "MINOR", "PATCH"], want):
        m = re.search(rf"#define UTCP_VERSION_{name} (\d+)", text)
        if not m or m.group(1) != value:
            problems.append(f"UTCP_VERSION_{name} is {m.group(1) if m else 'missing'}, "
                            f"project(VERSION) says {value}")
    m = re.search(r'#define UTCP_VERSION_STRING "([^"]*)"', text)
    if not m or m.group(1) != ".".join(want):
        problems.append(f"UTCP_VERSION_STRING is {m.group(1) if m else 'missing'}, "
                        f"project(VERSION) says {'.'.join(want)}")
    for p in problems:
        print(f"{argv[1]}: {p}")
    if not problems:
        print(f"version.hpp agrees with project(VERSION) {'.'.join(want)}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
