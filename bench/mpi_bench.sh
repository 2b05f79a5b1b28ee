#!/usr/bin/env bash
# Data-parallel training on this machine (issue 9), each figure beside its
# ceiling in the same run:
#  - exact solver, 10M rows: 2 ranks x 1 thread vs 1 process x 2 threads
#    (the cost of MPI on one machine; target >= 85%);
#  - Adam: the per-step gradient exchange in microseconds and as a share of
#    a step, with 1, 2 and 4 ranks (printed by skewfree-train itself).
# Usage: bench/mpi_bench.sh [rows (10000000)]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${SKEWFREE_BUILD_DIR:-$root/build}/bin"
rows="${1:-10000000}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mpirun=(mpirun --oversubscribe)
[[ $(id -u) -eq 0 ]] && mpirun+=(--allow-run-as-root)

"$bin/skewfree-simulate" --rows="$rows" --seed=1 --out-dir="$work/train" --shards=8 >/dev/null
"$bin/skewfree-simulate" --rows=20000 --seed=2 --out="$work/eval.csv" >/dev/null
common=(--train="$work/train/*.csv" --eval="$work/eval.csv" --metrics-port=-1)

# Best of 3 wall-clock seconds of a command.
best_of_3() {
  local best=""
  for i in 1 2 3; do
    rm -rf "$work/m" "$work/r"
    local start end
    start=$(date +%s.%N)
    "$@" --model-dir="$work/m" --export-dir="$work/r/h" >/dev/null 2>"$work/err" || {
      cat "$work/err" >&2; exit 1; }
    end=$(date +%s.%N)
    local t; t=$(echo "$end - $start" | bc -l)
    if [[ -z "$best" ]] || (( $(echo "$t < $best" | bc -l) )); then best=$t; fi
  done
  echo "$best"
}

alone=$(best_of_3 "$bin/skewfree-train" "${common[@]}" --optimizer=exact --threads=2)
ranks2=$(best_of_3 "${mpirun[@]}" -np 2 "$bin/skewfree-train" "${common[@]}" --optimizer=exact --threads=1)
printf 'exact, %d rows: 1 process x 2 threads %.2f s (%.1fM rows/s); 2 ranks x 1 thread %.2f s (%.1fM rows/s) = %.0f%% of the rows/s\n' \
  "$rows" "$alone" "$(echo "$rows / $alone / 1000000" | bc -l)" "$ranks2" \
  "$(echo "$rows / $ranks2 / 1000000" | bc -l)" "$(echo "100 * $alone / $ranks2" | bc -l)"

for np in 1 2 4; do
  rm -rf "$work/m" "$work/r"
  "${mpirun[@]}" -np "$np" "$bin/skewfree-train" "${common[@]}" --optimizer=adam --threads=1 \
    --max-steps=2000 --eval-every=0 --checkpoint-every=0 --model-dir="$work/m" \
    --export-dir="$work/r/h" 2>&1 >/dev/null | grep '^adam:' || true
done
