#!/usr/bin/env bash
# Soak run of skewfree-server (issue 12): mixed load from several clients
# (single-row and 1000-row calls; gRPC typed and raw, HTTP JSON and binary
# tensors), a new version exported every few seconds, one corrupt version,
# SIGHUP storms. Asserts zero failed calls, RSS growth under 10% from the end
# of warm-up to the end, stable counts of open file descriptors and threads;
# prints those figures.
#   scripts/soak.sh [--duration 10m] [--bin-dir build/bin]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${SKEWFREE_BIN_DIR:-$root/build/bin}"
duration=10m
while (($#)); do
  case "$1" in
    --duration) duration="$2"; shift ;;
    --duration=*) duration="${1#--duration=}" ;;
    --bin-dir) bin="$2"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
case "$duration" in
  *h) seconds=$((${duration%h} * 3600)) ;;
  *m) seconds=$((${duration%m} * 60)) ;;
  *s) seconds=${duration%s} ;;
  *) seconds=$duration ;;
esac
((seconds >= 30)) || { echo "soak.sh: --duration must be at least 30s" >&2; exit 2; }
warmup=$((seconds / 4))
for b in skewfree-server skewfree-client skewfree-train skewfree-simulate; do
  [[ -x "$bin/$b" ]] || { echo "soak.sh: $bin/$b missing (run scripts/build.sh)" >&2; exit 2; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/skewfree-soak.XXXXXX")"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ "${keep_work:-0}" == 1 ]]; then echo "soak.sh: logs kept in $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
cd "$work"
"$bin/skewfree-simulate" --rows=5000 --seed=1 --out=train.csv >/dev/null 2>&1
"$bin/skewfree-simulate" --rows=1000 --seed=2 --out=eval.csv >/dev/null 2>&1
repo="$work/models"
export_version() {  # A fresh --model-dir each time: every run exports anew.
  "$bin/skewfree-train" --train=train.csv --eval=eval.csv --optimizer=exact --metrics-port=-1 \
    --model-dir="$work/runs/$1" --export-dir="$repo/humidity" >"$work/runs.log" 2>&1
}
export_version 0

"$bin/skewfree-server" --model-repository="$repo" --port=0 --metrics-port=0 --http-port=0 \
  --poll-interval=500ms >server.out 2>server.err &
server=$!
pids+=("$server")
for _ in $(seq 100); do
  grep -q "http listening on" server.out 2>/dev/null && break
  sleep 0.1
done
port="$(grep -oE 'grpc listening on .*:[0-9]+' server.out | grep -oE '[0-9]+$')"
http_port="$(grep -oE 'http listening on .*:[0-9]+' server.out | grep -oE '[0-9]+$')"
[[ -n "$port" && -n "$http_port" ]] || { echo "soak.sh: the server did not start" >&2; cat server.err >&2; exit 1; }
target="127.0.0.1:$port"

# The load: closed-loop clients for the whole run, each exits non-zero on any
# failed call.
clients=()
run_client() {
  "$bin/skewfree-client" bench --target="$target" --duration="${seconds}s" "$@" \
    >"client-${#clients[@]}.out" 2>&1 &
  clients+=($!)
  pids+=($!)
}
run_client --concurrency=4 --batch=1
run_client --concurrency=2 --batch=1 --raw
run_client --concurrency=2 --batch=1000
run_client --concurrency=1 --batch=1000 --raw
# HTTP: two keep-alive connections alternating single-row JSON and 1000-row
# binary-tensor calls (Python, so it stays light on the 2 cores).
/usr/bin/python3 "$root/scripts/soak_http_load.py" --port="$http_port" --duration="$seconds" \
  --threads=2 >http-client.out 2>&1 &
http_client=$!
pids+=("$http_client")

sample() {  # RSS (kB), open fds, threads of the server.
  local rss threads fds
  rss="$(awk '/^VmRSS/ {print $2}' "/proc/$server/status")"
  threads="$(awk '/^Threads/ {print $2}' "/proc/$server/status")"
  fds="$(find "/proc/$server/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)"
  echo "$SECONDS $rss $fds $threads" >>samples.txt
}

start=$SECONDS
version=1
corrupt_done=0
next_export=$((start + 3))
while ((SECONDS - start < seconds)); do
  sample
  if ((SECONDS >= next_export)); then
    if ((corrupt_done == 0 && SECONDS - start > seconds / 2)); then
      # One corrupt version (checksum mismatch), written atomically like a
      # real export: the server must refuse it and keep serving.
      version=$((version + 1))
      mkdir -p "$repo/humidity/.tmp-corrupt"
      cp "$repo/humidity/$((version - 1))"/* "$repo/humidity/.tmp-corrupt/"
      printf 'corrupt' >>"$repo/humidity/.tmp-corrupt/bundle.pb"
      mv "$repo/humidity/.tmp-corrupt" "$repo/humidity/$version"
      corrupt_done=1
    else
      export_version "$version"
      version=$((version + 1))
    fi
    next_export=$((SECONDS + 3))
  fi
  for _ in $(seq 20); do kill -HUP "$server"; done  # A SIGHUP storm.
  sleep 1
done

failed=0
for i in "${!clients[@]}"; do
  if ! wait "${clients[$i]}"; then
    echo "soak.sh: client $i failed:" >&2
    cat "client-$i.out" >&2
    failed=1
  fi
done
if ! wait "$http_client"; then
  echo "soak.sh: the HTTP client failed:" >&2
  cat http-client.out >&2
  failed=1
fi
grep -h "^calls:" client-*.out | awk '{ok += $2; bad += $4} END {printf "grpc calls: %d ok, %d failed\n", ok, bad}'
read -r http_ok http_bad http_rest < <(sed -nE \
  's/^http calls ok=([0-9]+) failed=([0-9]+) in (.*)/\1 \2 \3/p' http-client.out) || true
echo "http calls: ${http_ok:-?} ok, ${http_bad:-?} failed in ${http_rest:-?}"
if [[ "${http_bad:-}" != 0 || "${http_ok:-0}" == 0 ]]; then
  echo "soak.sh: HTTP calls failed or none ran" >&2
  failed=1
fi
if ! grep -q "version $((version - 1)) loaded" server.err; then
  echo "soak.sh: the last version ($((version - 1))) was not loaded" >&2
  failed=1
fi
if ! grep -q "failed to load" server.err; then
  echo "soak.sh: the corrupt version was not reported" >&2
  failed=1
fi

# Figures: the samples of the 10 s after warm-up vs the last 10 s.
read -r base_rss base_fds base_threads < <(awk -v a=$((start + warmup)) -v b=$((start + warmup + 10)) \
  '$1 >= a && $1 < b {if ($2 > r) r = $2; if ($3 > f) f = $3; if ($4 > t) t = $4} END {print r, f, t}' samples.txt)
read -r end_rss end_fds end_threads < <(awk -v a=$((start + seconds - 10)) \
  '$1 >= a {if ($2 > r) r = $2; if ($3 > f) f = $3; if ($4 > t) t = $4} END {print r, f, t}' samples.txt)
growth="$(awk -v a="$base_rss" -v b="$end_rss" 'BEGIN {printf "%.1f", (b - a) * 100 / a}')"
echo "versions exported: $((version - 1)) (one corrupt), SIGHUPs: $((20 * seconds))"
echo "server RSS after warm-up ${base_rss} kB, at the end ${end_rss} kB: ${growth}%"
echo "server open fds ${base_fds} -> ${end_fds}, threads ${base_threads} -> ${end_threads}"
if awk -v g="$growth" 'BEGIN {exit !(g >= 10)}'; then
  echo "soak.sh: RSS grew ${growth}% (limit 10%)" >&2
  failed=1
fi
# A few descriptors and threads come and go with connections and gRPC's
# thread pool; a leak grows with every version and SIGHUP.
if ((end_fds > base_fds + 4 || end_threads > base_threads + 4)); then
  echo "soak.sh: open fds or threads grew" >&2
  failed=1
fi

kill -TERM "$server"
if ! wait "$server"; then
  echo "soak.sh: the server did not drain with exit 0" >&2
  failed=1
fi
if ((failed)); then
  keep_work=1
  exit 1
fi
echo "soak.sh: passed"
