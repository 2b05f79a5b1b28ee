#!/usr/bin/env bash
# Checks that every C++ file follows .clang-format (Google style, 100
# columns). With --fix, rewrites the files instead. CI runs it as a CTest test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
formatter="$(command -v clang-format-14 || command -v clang-format || true)"
if [[ -z "$formatter" ]]; then
  echo "check-format: clang-format not found (apt-get install clang-format)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.cc' '*.h' | grep -v '^build')
if [[ "${1:-}" == "--fix" ]]; then
  "$formatter" -i --style=file "${files[@]}"
  exit 0
fi
if ! "$formatter" --dry-run --Werror --style=file "${files[@]}"; then
  echo "check-format: run scripts/check-format.sh --fix" >&2
  exit 1
fi
echo "check-format: ${#files[@]} files follow .clang-format"
