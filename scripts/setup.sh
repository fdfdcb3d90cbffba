#!/usr/bin/env bash
# Idempotent set-up used by `npm run demo` and `npm test`: installs what a
# fresh Debian machine lacks, then the npm packages, then builds the addon.
# Each step is skipped when already done, so re-running costs a few checks.
set -euo pipefail
cd "$(dirname "$0")/.."

have_libtorch() {
  [ -n "${LIBTORCH:-}" ] && [ -f "$LIBTORCH/include/ATen/ATen.h" ] && return 0
  [ -f /usr/include/ATen/ATen.h ] || [ -f /usr/local/include/ATen/ATen.h ]
}

if ! have_libtorch; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing libtorch-dev (Debian) ..."
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends libtorch-dev g++ make fonts-dejavu-core >/dev/null
  else
    echo "setup: libtorch not found. Install Debian's libtorch-dev (sudo apt-get install libtorch-dev)," >&2
    echo "       or set LIBTORCH to a LibTorch root (the folder with include/ and lib/)." >&2
    exit 1
  fi
fi

if [ ! -d node_modules/node-addon-api ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci ..."
  npm ci --no-audit --no-fund
fi

addon=packages/torch/build/Release/labelwise_torch.node
if [ ! -f "$addon" ] || [ -n "$(find packages/torch/native packages/torch/binding.gyp -newer "$addon" 2>/dev/null | head -n 1)" ]; then
  echo "setup: building the libtorch addon (about a minute) ..."
  npm run build:native --silent
fi
