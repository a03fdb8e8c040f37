#!/usr/bin/env python3
"""Where the release binary's bytes go, from the linker's map.

Usage: python3 ci/support/binary-size.py .build/static/lambda-deploy.map [--top N]

ci/support/build-release.sh asks lld for the map (-Map). Each input section line names the file
it came from (an object, or `archive.a(member.o)`); this sums the bytes of the sections a
stripped binary keeps (allocated ones: not .debug_*, .symtab, .strtab, .comment) per library,
and prints a markdown table: the library, its bytes, and its share. The Swift packages' own
objects are grouped by module (`AWSClient.build` -> AWSClient). Also lists the largest single
input sections (the ICU data, say).
"""
import argparse
import collections
import os
import re
import sys

# VMA LMA Size Align, then the rest; the rest's indentation tells output section (0),
# input section (8) and symbol (16) apart.
LINE = re.compile(r"^\s*([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(\d+) (\s*)(.*)$")
NOT_LOADED = re.compile(r"^\.(debug|symtab|strtab|shstrtab|comment)")


def library_of(source: str) -> str:
    """The library an input section came from, short: libFoundation.a, AWSClient, crt, linker."""
    if source.startswith("<internal>"):
        return "linker-made (dynamic symbols, relocations, PLT)"
    path = source.split(":(")[0]
    archive = re.match(r"^(.*?\.a)\(", path)
    if archive:
        return os.path.basename(archive.group(1))
    module = re.search(r"/([^/]+)\.build/", path)
    if module:
        return module.group(1) + " (this package)" if module.group(1) not in ("Yams", "CYaml", "ArgumentParser", "ArgumentParserToolInfo") else module.group(1)
    return os.path.basename(path)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("map")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()

    per_library: collections.Counter[str] = collections.Counter()
    per_section: collections.Counter[str] = collections.Counter()
    largest: list[tuple[int, str]] = []
    output_section = ""
    with open(args.map, encoding="utf-8", errors="replace") as handle:
        next(handle, None)  # the header line
        for line in handle:
            match = LINE.match(line)
            if not match:
                continue
            size = int(match.group(3), 16)
            depth = len(match.group(5))
            text = match.group(6)
            if depth == 0:
                output_section = text
                continue
            if depth != 8 or NOT_LOADED.match(output_section) or output_section == ".bss":
                continue  # symbols, sections a stripped binary drops, and .bss (no file bytes)
            library = library_of(text)
            per_library[library] += size
            per_section[output_section] += size
            largest.append((size, text))

    total = sum(per_library.values())
    print(f"| library | bytes | share |")
    print(f"|---|---:|---:|")
    for library, size in per_library.most_common(args.top):
        print(f"| {library} | {size:,} | {100 * size / total:.1f}% |")
    rest = total - sum(size for _, size in per_library.most_common(args.top))
    if rest:
        print(f"| (everything else) | {rest:,} | {100 * rest / total:.1f}% |")
    print(f"| **total (allocated sections)** | **{total:,}** | 100% |")
    print()
    print("| output section | bytes |")
    print("|---|---:|")
    for section, size in per_section.most_common(8):
        print(f"| {section} | {size:,} |")
    print()
    print("| largest input sections | bytes |")
    print("|---|---:|")
    for size, text in sorted(largest, reverse=True)[:5]:
        name = re.sub(r"^.*/", "", text)
        print(f"| {name} | {size:,} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
