#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks that the C++ snippets of the documents are code the build compiles.

Every ```cpp block of each DOC must appear in one file under examples/ as a contiguous run of
lines (compared without leading and trailing whitespace, blank lines ignored), so the snippet
is compiled, and the examples that run as tests run it. Fails (exit 1) naming each snippet
that matches no example.

Usage: check_snippets.py EXAMPLES_DIR DOC...
"""
import pathlib
import re
import sys

BLOCK = re.compile(r"^```cpp\n(.*?)^```", re.M | re.S)


def lines_of(text):
    return [line.strip() for line in text.splitlines() if line.strip()]


def contains(haystack, needle):
    n = len(needle)
    return any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    examples = {p: lines_of(p.read_text(encoding="utf-8"))
                for p in sorted(pathlib.Path(argv[1]).rglob("*.cpp"))}
    problems = 0
    checked = 0
    for doc in argv[2:]:
        text = pathlib.Path(doc).read_text(encoding="utf-8")
        for match in BLOCK.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            snippet = lines_of(match.group(1))
            checked += 1
            if not any(contains(lines, snippet) for lines in examples.values()):
                print(f"{doc}:{line}: this cpp snippet is in no file of {argv[1]} "
                      "(copy it from the example that compiles it)")
                problems += 1
    if problems:
        return 1
    print(f"{checked} cpp snippet(s), each found in an example that is built")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
