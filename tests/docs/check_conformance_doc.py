#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks that docs/conformance.md tells the truth about its evidence.

Reads every table row and list item of the document and fails (exit 1, one line per problem,
naming the row) when
  - a cited test `Suite.Test` (binary) is not in that binary's --gtest_list_tests
    (`Suite.*` needs at least one test of the suite), or a cited test names no binary;
  - a cited `name.pkt` is not in tests/conformance/scripts/, or a row that claims it as
    evidence (any status but partial/planned) cites one listed in known_failures.txt;
  - a cited `interop_name` has no tests/interop/name.sh (interop_v6_name: or name.sh, run
    once per family);
  - a row marked done cites no test at all, or a status is not one the document defines;
  - a "Row counts:" line disagrees with the statuses of the rows in its section.
Exit 77 (skipped) when the only problem is that a cited binary is not built in this build.

Usage: check_conformance_doc.py DOC BUILD_DIR [--binary NAME=PATH ...]
Binaries not given with --binary are looked for under BUILD_DIR by name.
"""
import argparse
import collections
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / "tests/conformance/scripts"
KNOWN_FAILURES = ROOT / "tests/conformance/known_failures.txt"
STATUSES = {"done", "partial", "planned", "n/a", "deviation"}
# Rows with these statuses may name a failing script: it is what is missing, not evidence.
NOT_EVIDENCE = {"partial", "planned"}

GTEST = re.compile(r"[A-Za-z_]\w*\.(?:\w+|\*)")
SCRIPT = re.compile(r"[\w.-]+\.pkt")
INTEROP = re.compile(r"interop_(\w+)")
BINARY = re.compile(r"unit_\w+|sim_tests|drill_selftest")
# A backticked name, or a binary in brackets: `Suite.Test` (unit_tcp).
TOKEN = re.compile(r"`([^`]+)`|\((" + BINARY.pattern + r")\)")


def binary_source_dir(name):
    """The folder a test binary of this tree is built from (None: no such binary)."""
    if name == "sim_tests":
        return ROOT / "tests/sim"
    if name == "drill_selftest":
        return ROOT / "tests/conformance/selftest"
    if name == "unit_tools" or name.startswith("unit_proxy_"):
        return ROOT / "tools/tests"  # the tools' tests (tools/CMakeLists.txt, tools/proxy/*.cmake)
    if name.startswith("unit_"):
        return ROOT / "tests/unit" / name[len("unit_") :]
    return None


def interop_script(name):
    """The script behind CTest's interop_<name>: tests/interop/<name>.sh, or for v6_<name> of a
    family-parameterized script (interop_v6_runs in tests/interop/CMakeLists.txt) <name>.sh."""
    own = ROOT / "tests/interop" / (name + ".sh")
    cmake = (ROOT / "tests/interop/CMakeLists.txt").read_text()
    runs = re.search(r"set\(interop_v6_runs ([^)]*)\)", cmake)
    if name.startswith("v6_") and runs and name[3:] in runs.group(1).split():
        return ROOT / "tests/interop" / (name[3:] + ".sh")
    return own


class Binaries:
    """Test names per binary, listed once with --gtest_list_tests."""

    def __init__(self, build_dir, given):
        self.build_dir = pathlib.Path(build_dir)
        self.paths = dict(given)
        self.tests = {}

    def find(self, name):
        if name not in self.paths:
            hits = [p for p in self.build_dir.rglob(name) if p.is_file() and os.access(p, os.X_OK)]
            self.paths[name] = hits[0] if hits else None
        path = self.paths[name]
        return path if path and pathlib.Path(path).is_file() else None

    def list(self, name):
        """The binary's test names ('Suite.Test', parameter prefixes and suffixes removed)."""
        if name not in self.tests:
            out = subprocess.run(
                [str(self.find(name)), "--gtest_list_tests"],
                check=True,
                capture_output=True,
                text=True,
                timeout=60,
            ).stdout
            names, suite = set(), ""
            for line in out.splitlines():
                line = line.split("#")[0].rstrip()
                if not line:
                    continue
                if not line.startswith(" "):
                    suite = line.rstrip(".").split("/")[-1]
                else:
                    names.add(f"{suite}.{line.strip().split('/')[0]}")
            self.tests[name] = names
        return self.tests[name]


class Checker:
    def __init__(self, doc, binaries):
        self.doc = pathlib.Path(doc)
        self.binaries = binaries
        self.known_failures = {
            line.split()[0]
            for line in KNOWN_FAILURES.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        }
        self.problems = []
        self.unbuilt = set()
        self.checked = collections.Counter()  # what was looked up, for the summary

    def problem(self, where, text):
        self.problems.append(f"{self.doc}:{where}: {text}")

    def check_citations(self, where, text, status):
        """Checks every test the text cites; returns how many it cites."""
        cited, pending = 0, []
        for m in TOKEN.finditer(text):
            name, binary = m.group(1), m.group(2)
            if binary:
                for test in pending:
                    self.check_gtest(where, test, binary)
                pending = []
            elif SCRIPT.fullmatch(name):
                cited += 1
                self.checked["scripts"] += 1
                if not (SCRIPTS / name).is_file():
                    self.problem(where, f"script {name} is not in {SCRIPTS.relative_to(ROOT)}")
                elif name in self.known_failures and status not in NOT_EVIDENCE:
                    self.problem(where, f"{status} row cites {name}, listed in known_failures.txt")
            elif INTEROP.fullmatch(name):
                cited += 1
                self.checked["interop tests"] += 1
                sh = interop_script(INTEROP.fullmatch(name).group(1))
                if not sh.is_file():
                    self.problem(where, f"interop test {name} has no {sh.relative_to(ROOT)}")
            elif BINARY.fullmatch(name):
                cited += 1
                self.check_binary(where, name)
            elif GTEST.fullmatch(name):
                cited += 1
                pending.append(name)
        for test in pending:
            self.problem(where, f"test {test} names no binary: write `{test}` (unit_<area>)")
        return cited

    def check_binary(self, where, binary):
        if binary_source_dir(binary) is None or not binary_source_dir(binary).is_dir():
            self.problem(where, f"no test binary {binary} in this tree")
            return False
        if self.binaries.find(binary) is None:
            self.unbuilt.add(binary)
            return False
        return True

    def check_gtest(self, where, test, binary):
        if not self.check_binary(where, binary):
            return
        names = self.binaries.list(binary)
        self.checked["gtests"] += 1
        suite, case = test.split(".")
        found = any(n.startswith(suite + ".") for n in names) if case == "*" else test in names
        if not found:
            self.problem(where, f"test {test} is not in {binary}")

    def run(self):
        h2 = ""
        statuses = collections.defaultdict(collections.Counter)  # h2 -> status -> rows
        count_lines = []  # (line number, h2, {status: n})
        header = None  # column names of the table being read
        lines = self.doc.read_text().splitlines()
        i = 0
        while i < len(lines):
            line, number = lines[i], i + 1
            i += 1
            if line.startswith("## "):
                h2 = line[3:].strip()
            if not line.startswith("|"):
                header = None
            if line.startswith("Row counts:"):
                counts = {s: int(n) for s, n in re.findall(r"([\w/]+) (\d+)", line)}
                count_lines.append((number, h2, counts))
            elif line.startswith("|"):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if header is None:
                    header = cells
                    continue
                if set(line) <= set("|-: "):
                    continue
                where = f"{number} [{h2}] {cells[0]}"
                status = None
                if "Status" in header:
                    status = cells[header.index("Status")].strip("*")
                    if status not in STATUSES:
                        self.problem(where, f"status '{status}' is not one of {sorted(STATUSES)}")
                    statuses[h2][status] += 1
                    self.checked["rows"] += 1
                if self.check_citations(where, line, status) == 0 and status == "done":
                    self.problem(where, "row marked done cites no test")
            elif line.startswith("- "):
                # A list item with its indented continuation lines.
                while i < len(lines) and lines[i].startswith("  "):
                    line += " " + lines[i].strip()
                    i += 1
                self.check_citations(f"{number} [{h2}]", line, None)
        for number, section, counts in count_lines:
            actual = {s: statuses[section][s] for s in STATUSES}
            if {s: counts.get(s, 0) for s in STATUSES} != actual or set(counts) - STATUSES:
                said = ", ".join(f"{s} {n}" for s, n in sorted(counts.items()))
                real = ", ".join(f"{s} {n}" for s, n in sorted(actual.items()))
                self.problem(f"{number} [{section}]", f"Row counts say {said}; the rows: {real}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("doc", help="the document, e.g. docs/conformance.md")
    parser.add_argument("build_dir", help="where the test binaries are built, e.g. build/dev")
    parser.add_argument(
        "--binary", action="append", default=[], metavar="NAME=PATH", help="a test binary's path"
    )
    args = parser.parse_args()
    given = dict(b.split("=", 1) for b in args.binary)
    checker = Checker(args.doc, Binaries(args.build_dir, given))
    checker.run()
    for p in checker.problems:
        print(p)
    if checker.problems:
        print(f"FAIL: {len(checker.problems)} problem(s) in {args.doc}")
        return 1
    if checker.unbuilt:
        print(f"SKIP: not built here, cannot check: {', '.join(sorted(checker.unbuilt))}")
        return 77
    summary = ", ".join(f"{n} {what}" for what, n in sorted(checker.checked.items()))
    print(f"OK: {args.doc}: every cited test exists, row counts match ({summary} checked)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
