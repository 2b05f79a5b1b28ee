#!/usr/bin/env bash
# Builds and runs every benchmark; each prints its figures beside its own
# ceiling measured in the same run. Run on an otherwise idle machine.
# The data files (10M rows, ~350 MB each) are generated once under /tmp.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${SKEWFREE_BUILD_DIR:-$root/build}/bin"
bash "$root/scripts/build.sh" --target transform_bench json_bench ingest_bench simulate_bench \
  train_bench serving_bench http_bench skewfree-server skewfree-empty-server skewfree-empty-http-server \
  skewfree-train
for bench in transform_bench json_bench simulate_bench ingest_bench train_bench serving_bench \
  http_bench; do
  echo "=== $bench"
  "$bin/$bench"
done
