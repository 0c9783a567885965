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
  modules=(ExportCore ExportInMemory ExportFileSystem ExportAWS ExportAdapters ExportConformance ExportHTTPAPI)
fi
docc="$(command -v docc || true)"
[ -n "$docc" ] || docc="$(dirname "$(command -v swift)")/docc"

# Where each target's sources (and so its catalog) live, read from the manifest.
catalog_of() {
  case "$1" in
    ExportInMemory) echo Sources/ExportAdapters/InMemory/ExportInMemory.docc ;;
    ExportFileSystem) echo Sources/ExportAdapters/FileSystem/ExportFileSystem.docc ;;
    ExportAWS) echo Sources/ExportAdapters/HTTP/ExportAWS.docc ;;
    ExportAdapters) echo Sources/ExportAdapters/Umbrella/ExportAdapters.docc ;;
    *) echo "Sources/$1/$1.docc" ;;
  esac
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/out"
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
  if ! swift build --target "$module" -Xswiftc -emit-symbol-graph -Xswiftc -emit-symbol-graph-dir -Xswiftc "$graphs" \
      >"$work/$module.build.log" 2>&1; then
    echo "docc: $module does not build" >&2
    grep -E 'error' "$work/$module.build.log" >&2 || true
    return 1
  fi
  # Only this module's graphs (its own and its extensions of others), not those of its dependencies.
  # The umbrella declares nothing; its re-exports are documented by their own modules, so it is
  # converted as an article-only catalog.
  find "$graphs" -name '*.symbols.json' ! -name "$module.symbols.json" ! -name "$module@*.symbols.json" -delete
  [ "$module" = ExportAdapters ] && find "$graphs" -name '*.symbols.json' -delete
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
