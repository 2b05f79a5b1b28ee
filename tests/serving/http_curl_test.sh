#!/usr/bin/env bash
# The HTTP/JSON endpoint as a user reaches it with curl: health, metadata,
# a JSON prediction, errors with their status codes. Usage: http_curl_test.sh BIN_DIR
set -euo pipefail
bin=$1
work=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n "$server_pid" ]]; then kill -9 "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; echo "--- server log" >&2; cat "$work/server.log" >&2; exit 1; }

# A trained model to serve: simulate, train exactly, export.
"$bin/skewfree-simulate" --out="$work/data.csv" --rows=2000 --seed=7 >/dev/null 2>&1 ||
  fail "simulate"
"$bin/skewfree-train" --train="$work/data.csv" --eval="$work/data.csv" --optimizer=exact \
  --metrics-port=-1 --model-dir="$work/run" --export-dir="$work/repo/humidity" \
  >"$work/train.log" 2>&1 ||
  { cat "$work/train.log" >&2; fail "train"; }

"$bin/skewfree-server" --model-repository="$work/repo" --address=127.0.0.1 --port=0 \
  --metrics-port=-1 --http-port=0 --max-message-bytes=1000000 >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 200); do
  grep -q "http listening on" "$work/server.log" && break
  sleep 0.05
done
port=$(sed -n 's/^http listening on .*:\([0-9]*\)$/\1/p' "$work/server.log")
[[ -n "$port" ]] || fail "no 'http listening on' line"
url="http://127.0.0.1:$port"

# expect STATUS METHOD PATH [BODY]: prints the body, fails on another status.
expect() {
  local want=$1 method=$2 path=$3 body=${4:-}
  local args=(-s -o "$work/body" -w '%{http_code}' -X "$method")
  [[ -n "$body" ]] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  local got
  got=$(curl "${args[@]}" "$url$path")
  [[ "$got" == "$want" ]] || fail "$method $path: HTTP $got, want $want: $(cat "$work/body")"
  cat "$work/body"
}
contains() { [[ "$1" == *"$2"* ]] || fail "'$1' lacks '$2'"; }

for _ in $(seq 100); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$url/v2/health/ready") == 200 ]] && break
  sleep 0.1
done
contains "$(expect 200 GET /v2/health/live)" '{"live":true}'
contains "$(expect 200 GET /v2/health/ready)" '{"ready":true}'
contains "$(expect 200 GET /v2)" '"binary_tensor_data"'
contains "$(expect 200 GET /v2/models/humidity)" '"name":"humidity"'
contains "$(expect 200 GET /v2/models/humidity/ready)" '"ready":true'

row='{"inputs":[
  {"name":"beta1","shape":[2,1],"datatype":"FP32","data":[[1.234],[-3.5]]},
  {"name":"beta2","shape":[2,1],"datatype":"FP32","data":[[1.234],[2.25]]},
  {"name":"hour","shape":[2,1],"datatype":"INT64","data":[[16],[0]]},
  {"name":"weekday","shape":[2,1],"datatype":"INT64","data":[[5],[0]]}]}'
answer=$(expect 200 POST /v2/models/humidity/infer "$row")
contains "$answer" '"model_name":"humidity"'
contains "$answer" '"shape":[2,1]'
contains "$(expect 200 POST /v2/models/humidity/versions/1/infer "$row")" '"model_version":"1"'

contains "$(expect 400 POST /v2/models/humidity/infer '{"inputs":')" '"error"'
contains "$(expect 400 POST /v2/models/humidity/infer "${row/16/99}")" 'hour'
contains "$(expect 404 POST /v2/models/nope/infer "$row")" 'nope'
expect 404 GET /v2/models/humidity/versions/9 >/dev/null
expect 405 GET /v2/models/humidity/infer >/dev/null
expect 404 GET /v2/nowhere >/dev/null

# A body over --max-message-bytes: 413 with a JSON error, however curl sends
# it: with "Expect: 100-continue" (its default past 1 MiB), without it (the
# server reads the body to its end first), or chunked.
head -c 2000000 /dev/zero | tr '\0' ' ' >"$work/large"
too_large() {
  local got
  got=$(curl -s -o "$work/body" -w '%{http_code}' -H 'Content-Type: application/json' "$@" \
    --data-binary @"$work/large" "$url/v2/models/humidity/infer")
  [[ "$got" == 413 ]] || fail "large body ($*): HTTP $got, want 413: $(cat "$work/body")"
  contains "$(cat "$work/body")" '{"error":"request body of '
  contains "$(cat "$work/body")" "limit of 1000000 bytes (--max-message-bytes)"
}
too_large
too_large -H 'Expect:'
too_large -H 'Transfer-Encoding: chunked'
contains "$(cat "$work/body")" 'bytes or more'
# Chunked within the limit is answered as usual.
got=$(curl -s -o "$work/body" -w '%{http_code}' -H 'Transfer-Encoding: chunked' \
  --data-binary "$row" "$url/v2/models/humidity/infer")
[[ "$got" == 200 ]] || fail "chunked row: HTTP $got: $(cat "$work/body")"

# SIGTERM drains and exits 0.
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
[[ $status == 0 ]] || fail "server exited with $status after SIGTERM"
echo "http_curl_test: OK"
