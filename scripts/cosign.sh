#!/usr/bin/env bash
# Builds cosign (github.com/sigstore/cosign/v2, Go module proxy) into .tools/cosign/bin, pinned,
# for the signature tests: they sign real images in the loopback registry with it. Idempotent:
# nothing happens when the pinned version is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

COSIGN_VERSION=v2.6.5
DEST="$PWD/.tools/cosign"

if [ "$(cat "$DEST/.installed" 2>/dev/null)" = "$COSIGN_VERSION" ] && [ -x "$DEST/bin/cosign" ]; then exit 0; fi
command -v go >/dev/null || { echo "cosign: Go is needed to build cosign $COSIGN_VERSION (https://go.dev/dl)" >&2; exit 1; }
printf '\033[1m[setup]\033[0m %s\n' "go install github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION into .tools/cosign (a few minutes the first time)"
mkdir -p "$DEST/bin"
GOBIN="$DEST/bin" CGO_ENABLED=0 go install "github.com/sigstore/cosign/v2/cmd/cosign@$COSIGN_VERSION"
echo "$COSIGN_VERSION" > "$DEST/.installed"
