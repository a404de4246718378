#!/usr/bin/env bash
# Builds the loopback registry with the OCI 1.1 referrers API (test/harness/referrersRegistry:
# go-containerregistry's registry, from the Go module proxy) into .tools/referrers-registry/bin,
# for the signature tests. Idempotent: nothing happens when the sources have not changed.
set -euo pipefail
cd "$(dirname "$0")/.."

SRC="$PWD/test/harness/referrersRegistry"
DEST="$PWD/.tools/referrers-registry"
sum=$(cat "$SRC/main.go" "$SRC/go.mod" "$SRC/go.sum" | sha256sum | cut -d' ' -f1)

if [ "$(cat "$DEST/.installed" 2>/dev/null)" = "$sum" ] && [ -x "$DEST/bin/referrers-registry" ]; then exit 0; fi
command -v go >/dev/null || { echo "referrers-registry: Go is needed to build it (https://go.dev/dl)" >&2; exit 1; }
LOG_TAG=setup
# shellcheck source=lib/go-build.sh
source scripts/lib/go-build.sh
log "go build test/harness/referrersRegistry into .tools/referrers-registry"
mkdir -p "$DEST/bin"
(cd "$SRC" && go build -o "$DEST/bin/referrers-registry" .)
echo "$sum" > "$DEST/.installed"
