#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks that the scripts keep to syntax stock packetdrill also accepts.

utcp-drill is more lenient than Google's packetdrill in a few places that cost a script its
portability for nothing (tests/conformance/README.md, "Stock packetdrill"):
  - a TCP option list must be a multiple of 4 bytes: packetdrill rejects unpadded lists (and
    compares outbound options in order, so the padding is written where utcp puts it);
  - the ACK dot comes last in the flags (`PU.`, not `P.U`);
  - `win` comes before `urg`;
  - a --so_flags value containing '=' is quoted.
Usage: check_portable.py [script.pkt ...] (default: every script in scripts/).
"""
import pathlib
import re
import sys

HERE = pathlib.Path(__file__).resolve().parent

# Bytes each option takes on the wire (RFC 9293 §3.1, RFC 7323, RFC 2018).
FIXED = {"nop": 1, "eol": 1, "sackok": 2}
PACKET = re.compile(r"^\s*(?:[-+0-9.~*]+\s+)?([<>])\s+(?!icmp\b)([A-Z.]+)\s(.*)$")


def option_bytes(item):
    words = item.split()
    if not words:
        return None
    kind = words[0].lower()
    if kind in FIXED:
        return FIXED[kind]
    if kind == "mss":
        return 4
    if kind == "wscale":
        return 3
    if kind == "ts":
        return 10
    if kind == "sack":
        return 2 + 8 * len(words[1:])
    return None


def problems(path):
    out = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        code = line.split("//", 1)[0]
        if re.match(r"^--so_flags=[^\"].*=", code.strip()):
            out.append(f"{path.name}:{n}: quote the value: --so_flags=\"...\"")
        m = PACKET.match(code)
        if not m:
            continue
        flags, rest = m.group(2), m.group(3)
        if "." in flags and not flags.endswith("."):
            out.append(f"{path.name}:{n}: the ACK dot goes last in the flags ('{flags}')")
        words = rest.split()
        if "urg" in words and "win" in words and words.index("urg") < words.index("win"):
            out.append(f"{path.name}:{n}: write 'win' before 'urg'")
        opts = re.search(r"<([^>]*)>", rest)
        if not opts or opts.group(1).strip() == "...":
            continue
        total = 0
        for item in opts.group(1).split(","):
            b = option_bytes(item)
            if b is None:
                out.append(f"{path.name}:{n}: unknown option '{item.strip()}'")
                break
            total += b
        else:
            if total % 4:
                out.append(f"{path.name}:{n}: options take {total} bytes, not a multiple of 4:"
                           " write the nop padding as utcp sends it")
    return out


def main(argv):
    paths = [pathlib.Path(a) for a in argv] or sorted((HERE / "scripts").glob("*.pkt"))
    found = [p for path in paths for p in problems(path)]
    for p in found:
        print(p)
    print(f"{len(paths)} scripts, {len(found)} problem(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
