#!/usr/bin/env bash
# Installs the npm tools the deploy checks use (Dockerfile linters, Kubernetes
# and Prometheus Operator schemas, a YAML parser) into
# tests/deploy/tools/node_modules, pinned by the committed package-lock.json.
# Safe to run again: once installed for the current lock file it only prints
# the folder, without touching the network, so the checks also run offline.
# Prints the node_modules folder on stdout; messages go to stderr.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/tests/deploy/tools"
stamp="$tools/.installed-lock-sha256"

for tool in node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-deploy-tools: $tool not found; run scripts/install-deps.sh" >&2
    exit 1
  fi
done

# Tests run in parallel: one installer at a time, the others wait for it.
exec 8>"/tmp/skewfree-deploy-tools.lock"
flock 8

want="$(sha256sum "$tools/package-lock.json" | cut -d' ' -f1)"
if [[ -d "$tools/node_modules" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "$tools/node_modules"
  exit 0
fi

echo "install-deploy-tools: npm ci in $tools" >&2
rm -f "$stamp"
# --ignore-scripts: none of these packages needs an install script.
(cd "$tools" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >&2)
echo "$want" >"$stamp"
echo "$tools/node_modules"
