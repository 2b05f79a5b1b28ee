#!/usr/bin/env bash
# The test command: installs missing dependencies, builds, runs every test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${SKEWFREE_BUILD_DIR:-$root/build}"
bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"
cd "$build_dir"
ctest --output-on-failure --timeout 900 -j "${SKEWFREE_TEST_JOBS:-2}" "$@"
