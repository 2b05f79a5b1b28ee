#!/usr/bin/env bash
# Installs the Debian 12 packages skewfree needs to build, test and demo.
# Installs only what is missing; safe to run again. Runs apt-get as root or
# through sudo.
set -euo pipefail

packages=(
  build-essential cmake ninja-build ccache pkg-config
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libabsl-dev libeigen3-dev prometheus-cpp-dev zlib1g-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  rapidjson-dev libevent-dev
  python3-grpcio python3-protobuf openssl curl
  clang-format
  libopenmpi-dev openmpi-bin
)
# Deployment checks (Dockerfile lint, manifest validation, promtool).
if [[ "${SKEWFREE_SKIP_DEPLOY_DEPS:-0}" != 1 ]]; then
  packages+=(prometheus nodejs npm)
  # Also only for tests: the clang-14 ASan/UBSan, -Wthread-safety and libFuzzer
  # build (scripts/test.sh, scripts/fuzz.sh) and the trainer's Pushgateway test.
  packages+=(clang-14 libclang-rt-14-dev prometheus-pushgateway)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# The machine's own node/npm (not Debian's) satisfies the deploy checks too.
if command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
  read -r -a missing <<<"${missing[*]}"
fi

if ((${#missing[@]} == 0)); then
  echo "install-deps: everything is installed"
  exit 0
fi

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
