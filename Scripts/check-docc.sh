#!/usr/bin/env bash
# Converts the DocC catalog of every library product with warnings as errors: a stale ``Symbol``
# link, a missing article or a malformed topic fails. Needs the toolchain's `docc` (swift.org
# toolchains ship it).
#
#   Scripts/check-docc.sh                  # every catalog
#   Scripts/check-docc.sh ExportHTTPAPI    # one
set -euo pipefail
cd "$(dirname "$0")/.."
modules=("$@")
if [ ${#modules[@]} -eq 0 ]; then
  modules=(ExportCore ExportInMemory ExportFileSystem ExportAWS ExportPostgres ExportAdapters ExportConformance ExportHTTPAPI)
fi
docc="$(command -v docc || true)"
[ -n "$docc" ] || docc="$(dirname "$(command -v swift)")/docc"

# Where each target's sources (and so its catalog) live, read from the manifest.
catalog_of() {
  case "$1" in
    ExportInMemory) echo Sources/ExportAdapters/InMemory/ExportInMemory.docc ;;
    ExportFileSystem) echo Sources/ExportAdapters/FileSystem/ExportFileSystem.docc ;;
    ExportAWS) echo Sources/ExportAdapters/HTTP/ExportAWS.docc ;;
    ExportPostgres) echo Sources/ExportAdapters/Postgres/ExportPostgres.docc ;;
    ExportAdapters) echo Sources/ExportAdapters/Umbrella/ExportAdapters.docc ;;
    *) echo "Sources/$1/$1.docc" ;;
  esac
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out"
shared=".build-docc/symbol-graphs"
mkdir -p "$shared"
status=0

# Converts one catalog. A catalog links only its own module's symbols (DocC resolves ``Symbol``
# links within one module); other modules' symbols are written in code font, as `ExportError`.
convert() {
  local module="$1" catalog graphs
  catalog="$(catalog_of "$module")"
  if [ ! -d "$catalog" ]; then
    echo "docc: $module has no catalog at $catalog" >&2
    return 1
  fi
  graphs="$work/graphs/$module"
  mkdir -p "$graphs"
  # One symbol-graph directory for every build, so the flags stay the same and a module built for
  # one catalog is not rebuilt for the next; this module's graphs are then copied out of it. A scratch
  # path of its own keeps these flags from invalidating the ordinary build in .build.
  if ! swift build --scratch-path .build-docc --target "$module" -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$shared" \
      >"$work/$module.build.log" 2>&1; then
    echo "docc: $module does not build" >&2
    grep -E 'error' "$work/$module.build.log" >&2 || true
    return 1
  fi
  # Only this module's graphs (its own and its extensions of others), not those of its dependencies.
  # The umbrella declares nothing; its re-exports are documented by their own modules, so it is
  # converted as an article-only catalog.
  if [ "$module" != ExportAdapters ]; then
    find "$shared" \( -name "$module.symbols.json" -o -name "$module@*.symbols.json" \) -exec cp {} "$graphs/" \;
  fi
  if "$docc" convert "$catalog" --additional-symbol-graph-dir "$graphs" --warnings-as-errors \
      --fallback-display-name "$module" --fallback-bundle-identifier "$module" \
      --output-path "$work/out/$module.doccarchive" >"$work/$module.log" 2>&1; then
    echo "docc: $module ok"
  else
    echo "docc: $module FAILED" >&2
    grep -E 'warning|error' "$work/$module.log" >&2 || tail -n 40 "$work/$module.log" >&2
    return 1
  fi
}

for module in "${modules[@]}"; do
  convert "$module" || status=1
done
exit "$status"
