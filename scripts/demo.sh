#!/usr/bin/env bash
# The main job end to end on embedded defaults, on local files only:
# simulate -> train -> export -> serve -> predict -> heatmap -> stop.
# Usage: scripts/demo.sh [OUT_DIR]   (default: ./demo-out under the repository)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root/demo-out}"
bin="${SKEWFREE_BUILD_DIR:-$root/build}/bin"

bash "$root/scripts/install-deps.sh"
bash "$root/scripts/build.sh"

rm -rf "$out"
mkdir -p "$out"
echo "== demo output in $out"

echo "== 1. simulate the lecture's sensor data (sharded training set, separate eval set)"
"$bin/skewfree-simulate" --rows=1000000 --seed=1 --out-dir="$out/data/train" --shards=4
"$bin/skewfree-simulate" --rows=20000 --seed=2 --out="$out/data/eval.csv"

echo "== 2. train with Adam (the lecture's optimizer), evaluate, save points, export"
"$bin/skewfree-train" --train="$out/data/train/*.csv" --eval="$out/data/eval.csv" \
  --model-dir="$out/runs/adam" --export-dir="$out/models/humidity" \
  --optimizer=adam --metrics-port=-1 --eval-every=500
echo "== 3. train again with the exact solver: a second version of the same model"
"$bin/skewfree-train" --train="$out/data/train/*.csv" --eval="$out/data/eval.csv" \
  --model-dir="$out/runs/exact" --export-dir="$out/models/humidity" \
  --optimizer=exact --metrics-port=-1
ls "$out/models/humidity"

echo "== 4. serve the newest version on loopback"
"$bin/skewfree-server" --model-repository="$out/models" --address=127.0.0.1 \
  --port=0 --metrics-port=0 --http-port=0 >"$out/server.log" 2>&1 &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
target=""
for _ in $(seq 1 100); do
  target=$(sed -n 's/^grpc listening on //p' "$out/server.log")
  [[ -n "$target" ]] && break
  sleep 0.1
done
[[ -n "$target" ]] || { echo "server did not start:"; cat "$out/server.log"; exit 1; }
metrics=$(sed -n 's/^metrics listening on //p' "$out/server.log")
for _ in $(seq 1 100); do
  "$bin/skewfree-client" --target="$target" health >/dev/null 2>&1 && break
  sleep 0.1
done
"$bin/skewfree-client" --target="$target" health
"$bin/skewfree-client" --target="$target" metadata

echo "== 5. predict the lecture's row (Saturday 16 h, a special slot) and the same betas on Thursday 16 h (no slot)"
"$bin/skewfree-client" --target="$target" predict --beta1=1.234 --beta2=1.234 --weekday=5 --hour=16
"$bin/skewfree-client" --target="$target" predict --beta1=1.234 --beta2=1.234 --weekday=3 --hour=16

echo "== 6. the lecture's heatmap: mean predicted humidity by weekday x hour"
"$bin/skewfree-client" --target="$target" heatmap --svg="$out/heatmap.svg"

echo "== 7. a short load test"
"$bin/skewfree-client" --target="$target" bench --concurrency=8 --duration=2s --batch=1

echo "== 8. server metrics (excerpt)"
if command -v curl >/dev/null 2>&1 && [[ -n "$metrics" ]]; then
  curl -s "http://$metrics/metrics" | grep -E '^skewfree_(requests_total|model_loaded_version|inference_rows_total)' | head -8
fi

echo "== 9. stop the server (drains, exits 0)"
kill -TERM "$server_pid"
wait "$server_pid"
trap - EXIT
echo "== done: report $out/runs/adam/report.html, heatmap $out/heatmap.svg, bundles in $out/models/humidity"
