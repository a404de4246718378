# Shared by the scripts that build Go binaries from the module proxy (scripts/k8s, scripts/temporal).
# The caller sets LOG_TAG before sourcing it.

# -trimpath keeps build-cache keys independent of where the module cache is.
export GOTOOLCHAIN=local CGO_ENABLED=0
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false -trimpath"

log() { printf '\033[1m[%s]\033[0m %s\n' "$LOG_TAG" "$*" >&2; }
die() { printf '\033[1;31m[%s]\033[0m %s\n' "$LOG_TAG" "$*" >&2; exit 1; }

# Directory of a module version in the Go module cache (downloads it through the proxy if needed).
mod_dir() {
  local out dir
  out=$(go mod download -json "$1" 2>&1) || die "go mod download $1 failed: $out"
  dir=$(printf '%s\n' "$out" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')
  [ -n "$dir" ] && [ -d "$dir" ] || die "go mod download $1 gave no directory: $out"
  printf '%s\n' "$dir"
}
