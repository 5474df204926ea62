#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Regenerates the script index in README.md from the scripts themselves.

Each script starts with a comment: "<requirement>: <what it checks>", over one or more `//`
lines. Lines starting with "// Known elsewhere:" name a public stack's report of getting the
same behaviour wrong; they feed the "Known bugs elsewhere" list. known_failures.txt decides the
status column. Run it after adding or changing a script:  python3 tests/conformance/index.py
"""
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent
ELSEWHERE = "// Known elsewhere:"


def split_requirement(text):
    """Splits at the first ': ' outside parentheses."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == ":" and depth == 0 and text[i + 1 : i + 2] == " ":
            return text[:i], text[i + 2 :]
    sys.exit(f"no '<requirement>: <what>' in: {text}")


def read_script(path):
    header, elsewhere = [], []
    for line in path.read_text().splitlines():
        if not line.startswith("//"):
            break
        if line.startswith(ELSEWHERE):
            elsewhere.append(line[len(ELSEWHERE) :].strip())
        elif not elsewhere:
            header.append(line[2:].strip())
    if not header:
        sys.exit(f"{path.name}: no header comment naming the RFC section")
    req, what = split_requirement(" ".join(header))
    return req, what, elsewhere


def known_failures():
    out = {}
    for line in (HERE / "known_failures.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, why = line.partition(" ")
            out[name] = why.strip()
    return out


def replace_block(text, name, body):
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        sys.exit(f"README.md lacks the {begin} ... {end} markers")
    return pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text)


def main():
    failures = known_failures()
    rows, elsewhere = [], []
    for path in sorted((HERE / "scripts").glob("*.pkt")):
        req, what, notes = read_script(path)
        status = "xfail" if path.name in failures else "pass"
        rows.append((req, path.name, what, status))
        elsewhere += [(path.name, n) for n in notes]
    rows.sort()
    table = ["| Requirement | Script | What it checks | Status |", "|---|---|---|---|"]
    table += [f"| {r} | `{s}` | {w} | {st} |" for r, s, w, st in rows]
    fails = [f"- `{n}`: {why}" for n, why in failures.items()] or ["None."]
    notes = [f"- `{s}`: {n}" for s, n in elsewhere] or ["None yet."]
    readme = HERE / "README.md"
    text = readme.read_text()
    text = replace_block(text, "count", f"{len(rows)} scripts.")
    text = replace_block(text, "index", "\n".join(table))
    text = replace_block(text, "known-failures", "\n".join(fails))
    text = replace_block(text, "elsewhere", "\n".join(notes))
    readme.write_text(text)
    print(f"README.md: {len(rows)} scripts, {len(failures)} known failures, "
          f"{len(elsewhere)} notes on other stacks")


if __name__ == "__main__":
    main()
