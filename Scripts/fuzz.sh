#!/usr/bin/env bash
# Runs every libFuzzer target of Fuzz/ for a bounded time each, starting from the committed seed
# corpus (Fuzz/Corpus/<target>), and fails on any crash, leak, sanitizer report or invariant failure.
#
#   Scripts/fuzz.sh              # 30 s per target (what CI runs)
#   Scripts/fuzz.sh 600          # 10 minutes per target
#   Scripts/fuzz.sh 60 FuzzValues
#
# Needs a Swift toolchain with libFuzzer (the swift.org Linux toolchains have it). New inputs go to a
# scratch corpus, never into the committed one; crash inputs are kept in .build-fuzz/artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then targets=(FuzzMembershipFile FuzzHTTPPage FuzzHTTPAPI FuzzEncoders FuzzValues); fi

# Instrument the library code too (-Xswiftc applies to every module), not only the fuzz targets.
build=(swift build --package-path Fuzz --scratch-path .build-fuzz -c debug
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library)
for target in "${targets[@]}"; do "${build[@]}" --product "$target" 2>&1 | grep -v 'ld.gold: warning' || exit 1; done
bin="$("${build[@]}" --show-bin-path)"

# The Swift backtracer can hang on an abort under AddressSanitizer; libFuzzer prints the stack.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
status=0
for target in "${targets[@]}"; do
  corpus="Fuzz/Corpus/$target"
  scratch=".build-fuzz/corpus/$target"
  artifacts=".build-fuzz/artifacts/$target/"
  mkdir -p "$scratch" "$artifacts"
  # A target's dictionary (Fuzz/Dictionaries/<target>.dict), when it has one: the words of its input script.
  dict=()
  [ -f "Fuzz/Dictionaries/$target.dict" ] && dict=(-dict="Fuzz/Dictionaries/$target.dict")
  echo "fuzz: $target for ${seconds}s"
  if ! "$bin/$target" "$scratch" "$corpus" ${dict[@]+"${dict[@]}"} -max_total_time="$seconds" -max_len=4096 -timeout=10 \
      -rss_limit_mb=2048 -artifact_prefix="$artifacts" -print_final_stats=1 >".build-fuzz/$target.log" 2>&1; then
    echo "fuzz: $target FAILED; the input is in $artifacts" >&2
    tail -n 60 ".build-fuzz/$target.log" >&2
    status=1
  else
    grep -E 'stat::number_of_executed_units|Done [0-9]+ runs' ".build-fuzz/$target.log" | tail -n 2 || true
  fi
done
exit "$status"
