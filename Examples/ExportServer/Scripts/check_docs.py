#!/usr/bin/env python3
"""Checks that the docs quote the compiled example verbatim: every block between
`// docs:begin NAME` and `// docs:end NAME` in Examples/ExportServer/Sources must appear, unchanged
(indentation removed), as a ```swift block of its page: Docs/Postgres.md for names starting with
`postgres-`, Docs/HTTP-API.md for the others. Exit 1 with a diff when not."""
import difflib
import glob
import os
import re
import sys
import textwrap

PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.normpath(os.path.join(PACKAGE, "..", ".."))
DOCS = {"postgres-": os.path.join(ROOT, "Docs", "Postgres.md"), "": os.path.join(ROOT, "Docs", "HTTP-API.md")}


def page(name):
    return next(path for prefix, path in DOCS.items() if name.startswith(prefix))


def blocks():
    found = {}
    for path in glob.glob(os.path.join(PACKAGE, "Sources", "**", "*.swift"), recursive=True):
        text = open(path, encoding="utf-8").read()
        for match in re.finditer(r"^[ \t]*// docs:begin (\S+)\n(.*?)^[ \t]*// docs:end \1\n", text, re.S | re.M):
            found[match.group(1)] = (os.path.relpath(path, ROOT), textwrap.dedent(match.group(2)).rstrip("\n"))
    return found


def main():
    found = blocks()
    if not found:
        sys.exit("FAIL: no docs:begin blocks in the example's sources")
    failed = False
    for name, (path, code) in sorted(found.items()):
        doc_path = page(name)
        doc_name = os.path.relpath(doc_path, ROOT)
        doc = open(doc_path, encoding="utf-8").read()
        fences = [m.group(1).rstrip("\n") for m in re.finditer(r"^```swift\n(.*?)^```$", doc, re.S | re.M)]
        if code in fences:
            print(f"ok: {name} ({path}) is quoted verbatim in {doc_name}")
            continue
        failed = True
        closest = max(fences, key=lambda f: difflib.SequenceMatcher(None, f, code).ratio(), default="")
        print(f"FAIL: {name} from {path} is not quoted verbatim in {doc_name}; closest block differs:")
        sys.stdout.writelines(difflib.unified_diff(closest.splitlines(True), code.splitlines(True), doc_name, path))
        print()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
