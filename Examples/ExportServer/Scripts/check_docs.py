#!/usr/bin/env python3
"""Checks that Docs/HTTP-API.md quotes the compiled example verbatim: every block between
`// docs:begin NAME` and `// docs:end NAME` in Examples/ExportServer/Sources must appear, unchanged
(indentation removed), as a ```swift block of the page. Exit 1 with a diff when not."""
import difflib
import glob
import os
import re
import sys
import textwrap

PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.normpath(os.path.join(PACKAGE, "..", ".."))
DOC = os.path.join(ROOT, "Docs", "HTTP-API.md")


def blocks():
    found = {}
    for path in glob.glob(os.path.join(PACKAGE, "Sources", "**", "*.swift"), recursive=True):
        text = open(path, encoding="utf-8").read()
        for match in re.finditer(r"^[ \t]*// docs:begin (\S+)\n(.*?)^[ \t]*// docs:end \1\n", text, re.S | re.M):
            found[match.group(1)] = (os.path.relpath(path, ROOT), textwrap.dedent(match.group(2)).rstrip("\n"))
    return found


def main():
    doc = open(DOC, encoding="utf-8").read()
    fences = [m.group(1).rstrip("\n") for m in re.finditer(r"^```swift\n(.*?)^```$", doc, re.S | re.M)]
    found = blocks()
    if not found:
        sys.exit("FAIL: no docs:begin blocks in the example's sources")
    failed = False
    for name, (path, code) in sorted(found.items()):
        if code in fences:
            print(f"ok: {name} ({path}) is quoted verbatim in Docs/HTTP-API.md")
            continue
        failed = True
        closest = max(fences, key=lambda f: difflib.SequenceMatcher(None, f, code).ratio(), default="")
        print(f"FAIL: {name} from {path} is not quoted verbatim in Docs/HTTP-API.md; closest block differs:")
        sys.stdout.writelines(difflib.unified_diff(closest.splitlines(True), code.splitlines(True), "Docs/HTTP-API.md", path))
        print()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
