#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Checks the layering of the library's sources (docs/architecture.md, "Layers").

Layers, lowest first: base < wire < tcp < udp < ip < dev < stack < posix. A file may include headers
of its own layer and of the layers below it, never of a layer above. The layer of a file under
src/ is its first folder (src/tcp/... is tcp); the public headers in include/utcp/ each have a
layer in PUBLIC_LAYERS below (the vocabulary types sit at base, so every layer may use them).

Fails (exit 1, one line per problem) when
  - a file under src/ or include/utcp/ includes a header of a layer above its own;
  - a quoted include names no header of src/ or include/ (or a folder that is no layer);
  - a header in include/utcp/ includes anything but "utcp/..." headers and the C++ standard
    library (the POSIX facade's headers may also name the system headers their signatures use);
  - a header in include/utcp/ or a folder in src/ has no layer assigned here.

Usage: check_layers.py [ROOT]      (ROOT defaults to the repository holding this script)
       check_layers.py --self-test (plants violations in a scratch tree; fails if one is missed)
"""
import pathlib
import re
import sys
import tempfile

LAYERS = ["base", "wire", "tcp", "udp", "ip", "dev", "stack", "posix"]
RANK = {name: i for i, name in enumerate(LAYERS)}

# The layer of each public header. Vocabulary types are at base: any layer may name them.
PUBLIC_LAYERS = {
    "address.hpp": "base",
    "port_range.hpp": "base",
    "tcp_config.hpp": "base",
    "tcp_info.hpp": "base",
    "tcp_state.hpp": "base",
    "time.hpp": "base",
    "version.hpp": "base",
    "device.hpp": "dev",
    "memory_link.hpp": "dev",
    "tun.hpp": "dev",
    "blocking.hpp": "stack",
    "event_loop.hpp": "stack",
    "stack.hpp": "stack",
    "stack_group.hpp": "stack",
    "posix.hpp": "posix",
    "packetdrill_interface.h": "posix",
}

# Public headers whose signatures need POSIX types (sockaddr, iovec, pollfd, epoll_event).
SYSTEM_HEADERS_ALLOWED = {"posix.hpp", "packetdrill_interface.h"}

STD_HEADERS = set("""
algorithm any array atomic barrier bit bitset cassert cctype cerrno cfloat charconv chrono
cinttypes climits clocale cmath codecvt compare complex concepts condition_variable coroutine
csetjmp csignal cstdarg cstddef cstdint cstdio cstdlib cstring ctime cuchar cwchar cwctype deque
exception execution expected filesystem format forward_list fstream functional future
initializer_list iomanip ios iosfwd iostream istream iterator latch limits list locale map memory
memory_resource mutex new numbers numeric optional ostream queue random ranges ratio regex
scoped_allocator semaphore set shared_mutex source_location span sstream stack stdexcept
stop_token streambuf string string_view syncstream system_error thread tuple type_traits
typeindex typeinfo unordered_map unordered_set utility valarray variant vector version
""".split())

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
SOURCE_SUFFIXES = {".cpp", ".hpp", ".h", ".cc"}


def layer_of_public(name, problems, where):
    layer = PUBLIC_LAYERS.get(name)
    if layer is None:
        problems.append(f"{where}: include/utcp/{name} has no layer in check_layers.py")
    return layer


def file_layer(root, path, problems):
    rel = path.relative_to(root)
    if rel.parts[0] == "include":
        return layer_of_public(rel.name, problems, str(rel))
    folder = rel.parts[1]
    if folder not in RANK:
        problems.append(f"{rel}: src/{folder}/ is no layer (add it to LAYERS in check_layers.py)")
        return None
    return folder


def include_layer(root, target, problems, where):
    parts = target.split("/")
    if parts[0] == "utcp" and len(parts) == 2:
        if not (root / "include" / target).exists():
            problems.append(f"{where}: includes \"{target}\", which does not exist")
            return None
        return layer_of_public(parts[1], problems, where)
    if parts[0] in RANK and (root / "src" / target).exists():
        return parts[0]
    problems.append(f"{where}: includes \"{target}\", no header of a layer in src/ or include/")
    return None


def check(root):
    root = pathlib.Path(root)
    problems = []
    files = [p for p in sorted((root / "src").rglob("*")) if p.suffix in SOURCE_SUFFIXES]
    public = [p for p in sorted((root / "include" / "utcp").glob("*")) if p.is_file()]
    for path in files + public:
        rel = path.relative_to(root)
        own = file_layer(root, path, problems)
        is_public = rel.parts[0] == "include"
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in INCLUDE.finditer(text):
            kind, target = match.groups()
            line = text.count("\n", 0, match.start()) + 1
            where = f"{rel}:{line}"
            if kind == "<":
                system_ok = path.name in SYSTEM_HEADERS_ALLOWED and target.endswith(".h")
                if is_public and target not in STD_HEADERS and not system_ok:
                    problems.append(f"{where}: public header includes <{target}>, "
                                    "not a C++ standard header")
                continue
            if is_public and not target.startswith("utcp/"):
                problems.append(f"{where}: public header includes \"{target}\" (only utcp/...)")
                continue
            theirs = include_layer(root, target, problems, where)
            if own is not None and theirs is not None and RANK[theirs] > RANK[own]:
                problems.append(f"{where}: {own} includes \"{target}\" of the higher layer "
                                f"{theirs} (order: {' < '.join(LAYERS)})")
    return problems


def self_test():
    """Plants one violation of each kind in a scratch tree; every one must be reported."""
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)

        def write(rel, text):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_text(text)

        write("include/utcp/time.hpp", "#include <chrono>\n")
        write("include/utcp/stack.hpp", '#include "utcp/time.hpp"\n')
        write("src/stack/port_allocator.hpp", '#include "utcp/time.hpp"\n')
        write("src/wire/tcp.hpp", '#include "base/siphash.hpp"\n')
        write("src/base/siphash.hpp", "#include <cstdint>\n")
        clean = check(root)
        if clean:
            print("self-test: a clean tree was reported:\n  " + "\n  ".join(clean))
            return 1
        write("src/dev/tun_steering.hpp", '#include "stack/port_allocator.hpp"\n')  # upward
        write("src/tcp/sender.hpp", '#include "utcp/stack.hpp"\n')  # upward via public
        write("include/utcp/event_loop.hpp", '#include "tcp/time.hpp"\n')  # src/ from public
        write("include/utcp/blocking.hpp", "#include <sys/epoll.h>\n")  # system header
        write("src/net/x.hpp", "#include <vector>\n")  # folder with no layer
        write("src/ip/y.hpp", '#include "ip/missing.hpp"\n')  # names nothing
        expected = ["tun_steering.hpp:1", "sender.hpp:1", "event_loop.hpp:1", "blocking.hpp:1",
                    "src/net/", "y.hpp:1"]
        found = check(root)
        missed = [e for e in expected if not any(e in p for p in found)]
        if missed or len(found) != len(expected):
            print("self-test: expected one report for each of", expected, "got", found)
            return 1
    print(f"self-test: all {len(expected)} planted violations reported")
    return 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    root = pathlib.Path(argv[1]) if len(argv) > 1 else pathlib.Path(__file__).resolve().parents[2]
    problems = check(root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} layering problem(s); see docs/architecture.md")
        return 1
    print("layers ok: " + " < ".join(LAYERS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
