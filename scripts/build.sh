#!/usr/bin/env bash
# Configures and builds skewfree into build/ (or $SKEWFREE_BUILD_DIR) with
# Ninja. Builds are serialized with a lock so two never share the 2 cores.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${SKEWFREE_BUILD_DIR:-$root/build}"
jobs="${SKEWFREE_JOBS:-$(nproc)}"
exec 9>"/tmp/skewfree-build.lock"
flock 9
if [[ ! -f "$build_dir/build.ninja" ]]; then
  cmake -S "$root" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE="${SKEWFREE_BUILD_TYPE:-Release}"
fi
cmake --build "$build_dir" -j "$jobs" "$@"
