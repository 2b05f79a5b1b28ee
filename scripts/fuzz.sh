#!/usr/bin/env bash
# Builds the libFuzzer targets (clang-14, ASan + UBSan) into build-asan/ and
# runs them:
#   scripts/fuzz.sh TARGET [--time 10m]   replay TARGET's corpus, then fuzz it
#   scripts/fuzz.sh --all [--time 30s]    every target, one after the other
#   scripts/fuzz.sh --list                the targets
# Targets: fuzz/*_fuzzer.cc; seeds and crash regressions: fuzz/corpus/TARGET/.
# New interesting inputs go to build-asan/fuzz-work/TARGET/corpus (not
# committed); a crash leaves its input in build-asan/fuzz-work/TARGET/ and
# fails the script: commit that input to fuzz/corpus/TARGET/ with the fix.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${SKEWFREE_FUZZ_BUILD_DIR:-$root/build-asan}"
targets=()
time_spec=30s
while (($#)); do
  case "$1" in
    --all) mapfile -t targets < <(cd "$root/fuzz" && ls -1 *_fuzzer.cc | sed 's/\.cc$//') ;;
    --list) (cd "$root/fuzz" && ls -1 *_fuzzer.cc | sed 's/\.cc$//'); exit 0 ;;
    --time) time_spec="$2"; shift ;;
    --time=*) time_spec="${1#--time=}" ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) targets+=("$1") ;;
  esac
  shift
done
if ((${#targets[@]} == 0)); then
  echo "usage: scripts/fuzz.sh TARGET [--time 10m] | --all [--time 30s] | --list" >&2
  exit 2
fi
case "$time_spec" in
  *h) seconds=$((${time_spec%h} * 3600)) ;;
  *m) seconds=$((${time_spec%m} * 60)) ;;
  *s) seconds=${time_spec%s} ;;
  *) seconds=$time_spec ;;
esac

if [[ ! -f "$build_dir/build.ninja" ]]; then
  CXX=clang++-14 cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DSKEWFREE_FUZZ=ON -DSKEWFREE_SANITIZE=address -DSKEWFREE_THREAD_SAFETY=ON >/dev/null
fi
SKEWFREE_BUILD_DIR="$build_dir" bash "$root/scripts/build.sh" --target "${targets[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
for target in "${targets[@]}"; do
  corpus="$root/fuzz/corpus/$target"
  work="$build_dir/fuzz-work/$target"
  mkdir -p "$work/corpus"
  echo "=== fuzz.sh: $target: replaying $(ls "$corpus" | wc -l) committed inputs"
  "$build_dir/bin/$target" -runs=0 "$corpus" 2>&1 | tail -n 3
  echo "=== fuzz.sh: $target: fuzzing for ${seconds}s"
  if ! "$build_dir/bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$corpus" \
      >"$work/log" 2>&1; then
    tail -n 60 "$work/log" >&2
    echo "fuzz.sh: $target failed; the input is in $work/ (crash-*, leak-*, timeout-*);" \
      "commit it to fuzz/corpus/$target/ with the fix" >&2
    exit 1
  fi
  grep -E "stat::number_of_executed_units|stat::new_units_added" "$work/log" | tr '\n' ' '
  echo
done
